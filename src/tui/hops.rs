//! What the proxy-hops view holds: each `Record::ProxyHop` as the correlator made it
//! (`crate::hops`, the very records `hopscope report` writes as `proxy_hops[]`), with the
//! `proxy.*` findings of its diagnosis. The correlator sends those findings just before the
//! hop; the row keeps a copy, so a hop still explains itself after the findings list let the
//! oldest findings go. Without hops the view says how to get them: capture both legs.

use crate::model::hops::ProxyHopRecord;
use crate::model::{Finding, Severity, codes};

/// One hop.
#[derive(Clone, Debug)]
pub struct HopRow {
    pub rec: Box<ProxyHopRecord>,
    /// The findings named by `rec.diagnosis`, in that order (the message explains what broke
    /// and gives the fix in the proxy's own configuration).
    pub findings: Vec<Finding>,
}

impl HopRow {
    /// The worst severity of its diagnosis.
    pub fn severity(&self) -> Option<Severity> {
        self.rec
            .diagnosis
            .iter()
            .filter_map(|c| codes::lookup(c).map(|c| c.severity))
            .max()
    }

    /// `127.0.0.1:8081 nginx` (not yet sanitised).
    pub fn proxy_label(&self) -> String {
        match &self.rec.proxy.product {
            Some(p) => format!("{} {p}", self.rec.proxy.address),
            None => self.rec.proxy.address.to_string(),
        }
    }
}

/// Shown when no hop was correlated.
pub const NO_HOPS: &str = "no proxy hops found (capture both legs of the proxy, client side and \
     upstream side, in one capture, e.g. tcpdump -i any; hops are matched by request)";

/// What a header change's judgement (`docs/json-format.md`) adds to its name, and whether
/// the proxy was wrong to do it.
pub fn judgement(j: &str) -> (&'static str, bool) {
    match j {
        "hop-by-hop-stripped" => ("correct (RFC 9110 §7.6.1)", false),
        "end-to-end-dropped" => (
            "WRONG: an end-to-end field the upstream should have got",
            true,
        ),
        "hop-by-hop-forwarded" => (
            "WRONG: hop-by-hop, the proxy must remove it (RFC 9110 §7.6.1)",
            true,
        ),
        "hop-by-hop-recreated" => ("set again for the upgrade: needed", false),
        "hop-local" => ("this hop's own connection handling", false),
        "expect-handled" => ("the proxy answered Expect itself (RFC 9110 §10.1.1)", false),
        "cache-handled" => ("the proxy's cache answers it itself", false),
        // proxy-added, host-rewritten, changed, added: the name says it.
        _ => ("", false),
    }
}
