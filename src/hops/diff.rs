//! What a proxy changed between the legs, and what that breaks.

use super::Snap;
use super::fix;
use crate::model::codes::{self, Code};
use crate::model::hops::{Change, HeaderChange, MessageDiff, ProxyHopRecord};
use crate::model::http::{BodyFraming, Headers};
use crate::model::syntax::is_standard_hop_by_hop;

/// Headers proxies add about themselves and the client.
const PROXY_HEADERS: &[&str] = &[
    "via",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-server",
    "forwarded",
    "x-real-ip",
    "x-request-id",
    "x-amzn-trace-id",
    "cdn-loop",
    "x-envoy-expected-rq-timeout-ms",
    "x-envoy-upstream-service-time",
    "x-envoy-external-address",
    "x-varnish",
    "age",
    "proxy-agent",
];

fn is_proxy_header(n: &str) -> bool {
    PROXY_HEADERS.contains(&n) || n.starts_with("x-envoy-") || n.starts_with("x-b3-")
}

/// Header names (lowercase) with their joined values, in first-seen order.
fn fields(h: &Headers) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for f in h.iter() {
        let n = String::from_utf8_lossy(f.name).to_ascii_lowercase();
        let val = f.value_str().into_owned();
        match v.iter_mut().find(|(k, _)| *k == n) {
            Some((_, acc)) => {
                acc.push_str(", ");
                acc.push_str(&val);
            }
            None => v.push((n, val)),
        }
    }
    v
}

/// The names listed in `Connection`.
fn connection_names(h: &Headers) -> Vec<String> {
    h.values("connection")
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn framing_name(f: BodyFraming) -> &'static str {
    match f {
        BodyFraming::None => "none",
        BodyFraming::ContentLength => "content-length",
        BodyFraming::Chunked => "chunked",
        BodyFraming::Close => "close",
        BodyFraming::Http2Data => "http2-data",
    }
}

/// The judgement of a field the proxy sent on (changed, or added): a hop-by-hop field is this
/// hop's own (or, for an upgrade, re-created as every hop must), `Host` is rewritten, a
/// proxy's own field is added; anything else is `otherwise`. (Proxy fields, `Host` and the
/// hop-by-hop fields are disjoint sets, so the order of the questions does not matter.)
fn sent(name: &str, hop_by_hop: bool, upgrade: bool, otherwise: &'static str) -> &'static str {
    if hop_by_hop {
        if upgrade && (name == "connection" || name == "upgrade") {
            "hop-by-hop-recreated"
        } else {
            "hop-local"
        }
    } else if name == "host" {
        "host-rewritten"
    } else if is_proxy_header(name) {
        "proxy-added"
    } else {
        otherwise
    }
}

/// Headers of `from` (the sender's side) against `to` (after the proxy).
fn headers(from: &Headers, to: &Headers, upgrade: bool, request: bool) -> MessageDiff {
    let a = fields(from);
    let b = fields(to);
    let named = connection_names(from);
    let hop = |n: &str| is_standard_hop_by_hop(n.as_bytes()) || named.iter().any(|c| c == n);
    let mut d = MessageDiff::default();
    for (n, v) in &a {
        match b.iter().find(|(k, _)| k == n) {
            None => d.headers_removed.push(HeaderChange {
                name: n.clone(),
                front: Some(v.clone()),
                back: None,
                judgement: if hop(n) {
                    "hop-by-hop-stripped"
                } else if request && n == "expect" {
                    // RFC 9110 §10.1.1: a proxy may answer `100-continue` itself and then has
                    // nothing to forward (nginx does).
                    "expect-handled"
                } else if request && (n.starts_with("if-") || n == "range") {
                    // A cache fetches the whole, unconditional object and answers the
                    // conditional or range itself (RFC 9111 §4.3, RFC 9110 §14.2).
                    "cache-handled"
                } else if n == "host" {
                    "host-rewritten"
                } else {
                    "end-to-end-dropped"
                },
            }),
            Some((_, w)) if w != v => d.headers_changed.push(HeaderChange {
                name: n.clone(),
                front: Some(v.clone()),
                back: Some(w.clone()),
                judgement: sent(n, hop(n), upgrade, "changed"),
            }),
            Some(_) if hop(n) => {
                // The same hop-by-hop field on both legs: forwarded, unless it is what an
                // upgrade needs re-created on every hop, or Connection, which every hop sets
                // for itself (the same `keep-alive` on both sides is no sign of forwarding).
                let recreated = upgrade && (n == "upgrade" || n == "connection");
                if !recreated && n != "connection" {
                    d.hop_by_hop_forwarded.push(HeaderChange {
                        name: n.clone(),
                        front: Some(v.clone()),
                        back: Some(v.clone()),
                        judgement: "hop-by-hop-forwarded",
                    });
                }
            }
            Some(_) => {}
        }
    }
    for (n, v) in &b {
        if a.iter().any(|(k, _)| k == n) {
            continue;
        }
        d.headers_added.push(HeaderChange {
            name: n.clone(),
            front: None,
            back: Some(v.clone()),
            judgement: sent(n, is_standard_hop_by_hop(n.as_bytes()), upgrade, "added"),
        });
    }
    d
}

/// The request, client leg (`f`) against upstream leg (`b`).
pub fn request(f: &Snap, b: &Snap) -> MessageDiff {
    let upgrade = f.asks_upgrade() && b.asks_upgrade();
    let mut d = headers(&f.req, &b.req, upgrade, true);
    if f.version != b.version {
        d.version = Some(Change {
            front: f.version.clone(),
            back: b.version.clone(),
        });
    }
    if f.target != b.target {
        d.target = Some(Change {
            front: f.target.clone(),
            back: b.target.clone(),
        });
    }
    if f.req_framing != b.req_framing && (f.req_len > 0 || b.req_len > 0) {
        d.framing = Some(Change {
            front: framing_name(f.req_framing).into(),
            back: framing_name(b.req_framing).into(),
        });
    }
    d
}

/// The response, upstream leg (`b`) against what the client got (`f`).
pub fn response(f: &Snap, b: &Snap) -> MessageDiff {
    let (Some(fr), Some(br)) = (&f.resp, &b.resp) else {
        return MessageDiff::default();
    };
    let upgrade = f.status == Some(101) && b.status == Some(101);
    let mut d = headers(br, fr, upgrade, false);
    // Compared in the direction the response travels; `front`/`back` name the legs.
    for c in d
        .headers_removed
        .iter_mut()
        .chain(d.headers_added.iter_mut())
        .chain(d.headers_changed.iter_mut())
        .chain(d.hop_by_hop_forwarded.iter_mut())
    {
        std::mem::swap(&mut c.front, &mut c.back);
    }
    if let (Some(fv), Some(bv)) = (&f.resp_version, &b.resp_version)
        && fv != bv
    {
        d.version = Some(Change {
            front: fv.clone(),
            back: bv.clone(),
        });
    }
    if f.status != b.status {
        d.status = Some(Change {
            front: f.status.map_or("-".into(), |s| s.to_string()),
            back: b.status.map_or("-".into(), |s| s.to_string()),
        });
    }
    if let (Some(ff), Some(bf)) = (f.resp_framing, b.resp_framing)
        && ff != bf
    {
        d.framing = Some(Change {
            front: framing_name(ff).into(),
            back: framing_name(bf).into(),
        });
    }
    d
}

fn leg(s: &Snap) -> String {
    format!("#{} {} → {}", s.conn, s.client, s.server)
}

/// Diagnoses of a paired hop: (code, message).
pub fn diagnose(
    f: &Snap,
    b: &Snap,
    hop: &ProxyHopRecord,
    product: Option<&str>,
    relayed: bool,
) -> Vec<(&'static Code, String)> {
    let mut out = Vec::new();
    let asked = f.asked_upgrade();
    let front_ok = f.status == Some(101);
    let back_ok = b.status == Some(101);
    // A relayed request (the same bytes on both legs) forwarded whatever upgrade it asked for.
    if let Some(proto) = &asked
        && !back_ok
        && !relayed
    {
        let back_upgrade = b.asked_upgrade();
        let back_conn_upgrade = connection_names(&b.req).iter().any(|c| c == "upgrade");
        let mut missing = Vec::new();
        if back_upgrade.is_none() {
            missing.push("no Upgrade header");
        }
        if !back_conn_upgrade {
            missing.push("no \"upgrade\" in Connection");
        }
        if b.version == "HTTP/1.0" {
            missing.push("is HTTP/1.0, which has no upgrade mechanism");
        }
        if !missing.is_empty() {
            out.push((
                &codes::PROXY_UPGRADE_DROPPED,
                format!(
                    "the client asked to upgrade to {proto} on {} ({} {}), but the proxy's \
                     {} upstream request on {} has {}, so the upstream could not switch \
                     protocols and answered {}; the client got {}. The proxy must forward the \
                     upgrade: {}",
                    leg(f),
                    f.method,
                    f.target,
                    b.version,
                    leg(b),
                    missing.join(", "),
                    b.status.map_or("nothing".into(), |s| s.to_string()),
                    f.status.map_or("no response".into(), |s| s.to_string()),
                    fix::upgrade_fix(product)
                ),
            ));
        }
    }
    if back_ok && !front_ok {
        out.push((
            &codes::PROXY_UPGRADE_NOT_RELAYED,
            format!(
                "the upstream accepted the upgrade on {} (101), but the proxy answered the \
                 client on {} with {}: the proxy did not relay the switch. {}",
                leg(b),
                leg(f),
                f.status.map_or("nothing".into(), |s| s.to_string()),
                fix::upgrade_fix(product)
            ),
        ));
    }
    for c in &hop.request.hop_by_hop_forwarded {
        let name = c.name.as_str();
        let (code, why) = match name {
            "proxy-authorization" => (
                &codes::PROXY_PROXY_AUTHORIZATION_FORWARDED,
                "Proxy-Authorization is the credential for this proxy and must not go further \
                 (RFC 9110 §11.7.2): the upstream now has the client's proxy password"
                    .to_string(),
            ),
            "te" if !connection_names(&b.req).iter().any(|n| n == "te") => (
                &codes::PROXY_TE_FORWARDED,
                "TE was forwarded without \"TE\" in Connection (RFC 9110 §10.1.4: a sender of \
                 TE must also send Connection: TE); the upstream may send trailers or codings \
                 the client did not ask of it"
                    .into(),
            ),
            "te" => continue,
            "keep-alive" | "proxy-connection" => (
                &codes::PROXY_HOP_BY_HOP_FORWARDED,
                format!(
                    "{} is hop-by-hop (RFC 9110 §7.6.1) but was forwarded upstream; it \
                     describes the client's connection to the proxy, not the proxy's to the \
                     upstream",
                    c.name
                ),
            ),
            other => (
                &codes::PROXY_HOP_BY_HOP_FORWARDED,
                format!(
                    "{other} is hop-by-hop (standard, or named in the client's Connection) but \
                     was forwarded upstream (RFC 9110 §7.6.1: a proxy must remove it)"
                ),
            ),
        };
        out.push((
            code,
            format!(
                "{why}; client leg {}, upstream leg {}. {}",
                leg(f),
                leg(b),
                fix::strip_fix(product, name)
            ),
        ));
    }
    let dropped: Vec<&str> = hop
        .request
        .headers_removed
        .iter()
        .filter(|c| c.judgement == "end-to-end-dropped")
        .map(|c| c.name.as_str())
        .collect();
    if !dropped.is_empty() {
        out.push((
            &codes::PROXY_END_TO_END_DROPPED,
            format!(
                "end-to-end header(s) {} reached the proxy on {} but not the upstream on {} \
                 (a proxy should forward end-to-end fields, RFC 9110 §7.6.1): a configuration \
                 that drops or overrides them (nginx drops fields with underscores unless \
                 underscores_in_headers on)",
                dropped.join(", "),
                leg(f),
                leg(b)
            ),
        ));
    }
    if let Some(s) = &hop.response.status
        && !(back_ok || front_ok)
    {
        out.push((
            &codes::PROXY_STATUS_CHANGED,
            format!(
                "the upstream answered {} on {} and the proxy passed {} to the client on {}",
                s.back,
                leg(b),
                s.front,
                leg(f)
            ),
        ));
    }
    out
}

/// Diagnoses of a transaction to a proxy with no upstream leg in the capture.
pub fn alone(f: &Snap, product: Option<&str>) -> Vec<(&'static Code, String)> {
    let mut out = vec![(
        &codes::PROXY_ANSWERED_ITSELF,
        format!(
            "the proxy at {} answered {} {} with {} and made no upstream request in the \
             capture (a cache hit, an error page, a redirect or an access rule)",
            f.server,
            f.method,
            f.target,
            f.status.map_or("nothing".into(), |s| s.to_string())
        ),
    )];
    if f.asks_upgrade() && f.status != Some(101) {
        out.push(single_leg(f, product));
    }
    out
}

/// A refused upgrade answered by something that says it is a proxy, with no upstream leg.
pub fn single_leg(f: &Snap, product: Option<&str>) -> (&'static Code, String) {
    (
        &codes::PROXY_SINGLE_LEG_HINT,
        format!(
            "the upgrade on {} was answered {} by {}; the capture holds no upstream leg, so \
             the likely cause — a proxy that does not forward Upgrade/Connection or speaks \
             HTTP/1.0 upstream — cannot be confirmed. Capture both sides of the proxy (on the \
             proxy host: tcpdump -i any -w both.pcap 'tcp port {} or tcp port <upstream \
             port>') to see what the upstream got. Likely fix: {} (reported once per proxy \
             address)",
            leg(f),
            f.status.map_or("nothing".into(), |s| s.to_string()),
            product.unwrap_or("a proxy"),
            f.server.port,
            fix::upgrade_fix(product)
        ),
    )
}
