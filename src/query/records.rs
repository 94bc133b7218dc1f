//! What the report's records offer to the filter: the record-side [`Subject`]s that
//! `report --filter` matches, mirroring the UI's rows (`tui::rows`) field for field.

use std::fmt::Write;

use super::Subject;
use crate::model::codes;
use crate::model::http::TransactionRecord;
use crate::model::{ConnectionRecord, Finding, Severity};

/// Host of a transaction: HTTP/2's `:authority` (RFC 9113 §8.3.1), else the Host header, else
/// the server address (as the text report names it).
pub fn txn_host(t: &TransactionRecord) -> String {
    let req = t.request.as_ref();
    req.and_then(|r| r.authority.clone())
        .or_else(|| {
            req.and_then(|r| r.headers.get("host"))
                .map(|h| String::from_utf8_lossy(h).into_owned())
        })
        .unwrap_or_else(|| t.server.to_string())
}

fn switched_to(t: &TransactionRecord) -> Option<&str> {
    t.switched_to.as_ref().map(|s| s.protocol.as_str())
}

fn upgrade_header(t: &TransactionRecord) -> Option<&[u8]> {
    t.request.as_ref().and_then(|r| r.headers.get("upgrade"))
}

/// A transaction record, for the filter: the same fields as the UI's transaction row, its
/// free text searching the request and response headers too.
pub struct TxnView<'a> {
    pub t: &'a TransactionRecord,
    /// Codes of finding records already seen for it (those not in `t.findings`).
    pub extra_findings: &'a [&'static codes::Code],
}

impl Subject for TxnView<'_> {
    fn text(&self, out: &mut String) {
        let t = self.t;
        let https = t.scheme == crate::model::http::Scheme::Https;
        let _ = write!(
            out,
            "{} {} {} ",
            if https { "https" } else { "http" },
            t.client,
            t.server
        );
        if let Some(r) = &t.request {
            out.push_str(&r.version);
            out.push(' ');
        }
        if let Some(s) = t.stream_id {
            let _ = write!(out, "h2 stream={s} ");
        }
        if let Some(r) = &t.request {
            let _ = write!(out, "{} {} ", r.method, r.target);
            for h in r.headers.iter() {
                let _ = write!(out, "{}: {} ", h.name_str(), h.value_str());
            }
        }
        if let Some(r) = &t.response {
            let _ = write!(out, "{} {} ", r.status, r.reason);
            for h in r.headers.iter() {
                let _ = write!(out, "{}: {} ", h.name_str(), h.value_str());
            }
        }
        for c in &t.findings {
            out.push_str(c);
            out.push(' ');
        }
        if let Some(s) = switched_to(t) {
            out.push_str(s);
        }
        *out = out.to_lowercase();
    }
    fn status(&self) -> Option<Option<u16>> {
        Some(self.t.response.as_ref().map(|r| r.status))
    }
    fn method(&self) -> Option<&str> {
        self.t.request.as_ref().map(|r| r.method.as_str())
    }
    fn hosts(&self, out: &mut Vec<String>) {
        out.push(txn_host(self.t));
        out.push(self.t.server.to_string());
    }
    fn target(&self) -> Option<&str> {
        self.t.request.as_ref().map(|r| r.target.as_str())
    }
    fn conn(&self) -> Option<u64> {
        Some(self.t.connection)
    }
    fn is_ws(&self) -> bool {
        switched_to(self.t) == Some("websocket")
            || upgrade_header(self.t).is_some_and(|v| v.eq_ignore_ascii_case(b"websocket"))
    }
    fn is_tunnel(&self) -> bool {
        switched_to(self.t) == Some("tunnel") || self.method() == Some("CONNECT")
    }
    fn is_upgrade(&self) -> bool {
        switched_to(self.t).is_some() || upgrade_header(self.t).is_some()
    }
    fn findings(&self, out: &mut Vec<(Severity, String)>) {
        for c in self.extra_findings {
            out.push((c.severity, c.name.to_string()));
        }
        for c in &self.t.findings {
            if let Some(code) = codes::lookup(c) {
                out.push((code.severity, c.to_string()));
            }
        }
    }
    fn length(&self) -> Option<u64> {
        let req = self.t.request.as_ref().map_or(0, |r| r.body.length);
        let resp = self.t.response.as_ref().map_or(0, |r| r.body.length);
        Some(req + resp)
    }
}

/// A connection record, for the filter (the report judges on it only connections that
/// carried no transaction).
pub struct ConnView<'a> {
    pub c: &'a ConnectionRecord,
    /// What else is known of it: a tunnel or WebSocket rode on it, its tunnel target.
    pub tunnel: bool,
    pub ws: bool,
    pub tunnel_target: Option<&'a str>,
    /// Codes of the finding records seen for it.
    pub findings: &'a [&'static codes::Code],
}

impl Subject for ConnView<'_> {
    fn text(&self, out: &mut String) {
        let c = self.c;
        let _ = write!(out, "#{} {} {} {:?} ", c.id, c.client, c.server, c.close);
        if let Some(t) = self.tunnel_target {
            out.push_str(t);
        }
        *out = out.to_lowercase();
    }
    fn hosts(&self, out: &mut Vec<String>) {
        out.push(self.c.server.to_string());
        out.extend(self.tunnel_target.map(String::from));
    }
    fn conn(&self) -> Option<u64> {
        Some(self.c.id)
    }
    fn is_ws(&self) -> bool {
        self.ws
    }
    fn is_tunnel(&self) -> bool {
        self.tunnel
    }
    fn findings(&self, out: &mut Vec<(Severity, String)>) {
        for c in self.findings {
            out.push((c.severity, c.name.to_string()));
        }
    }
    fn length(&self) -> Option<u64> {
        Some(self.c.client_to_server.bytes + self.c.server_to_client.bytes)
    }
}

/// A finding of no connection (a capture-level one), for the filter.
pub struct FindingView<'a> {
    pub f: &'a Finding,
}

impl Subject for FindingView<'_> {
    fn text(&self, out: &mut String) {
        out.push_str(self.f.code.name);
        out.push(' ');
        out.push_str(&self.f.message);
        *out = out.to_lowercase();
    }
    fn is_ws(&self) -> bool {
        self.f.code.area == codes::Area::Ws
    }
    fn findings(&self, out: &mut Vec<(Severity, String)>) {
        out.push((self.f.code.severity, self.f.code.name.to_string()));
    }
}
