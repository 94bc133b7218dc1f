//! What each kind of row offers to the filter and to sorting: one place that knows which
//! record fields a list is about.

use std::cmp::Ordering;

use super::filter::Subject;
use super::store::{ConnRow, Conv, MsgRow, Store, TxnRow, kind, tflag};
use crate::model::codes::{self, Area};
use crate::model::websocket::Side;
use crate::model::{Finding, Severity};

/// The lists the UI shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    Txns,
    Convs,
    /// The messages of one conversation (its row id in `store.convs`).
    Msgs(u64),
    Conns,
    Findings,
    Hops,
}

/// The columns a list can be sorted by; the first is the default.
pub fn sort_columns(k: ListKind) -> &'static [&'static str] {
    match k {
        ListKind::Txns => &[
            "time", "status", "ttfb", "size", "method", "host", "findings",
        ],
        ListKind::Convs => &["time", "messages", "bytes", "findings"],
        ListKind::Msgs(_) => &["time", "length", "opcode", "direction"],
        ListKind::Conns => &["time", "bytes", "duration", "gaps", "close"],
        ListKind::Findings => &["severity", "code", "packet", "connection"],
        ListKind::Hops => &["time", "severity", "proxy"],
    }
}

pub use crate::query::records::txn_host;

fn conn_bytes(c: &ConnRow) -> u64 {
    c.bytes[0] + c.bytes[1]
}

fn conv_bytes(c: &Conv) -> u64 {
    c.rec
        .as_ref()
        .map_or(0, |r| r.message_bytes[0] + r.message_bytes[1])
}

fn txn_key_cmp(store: &Store, col: usize, a: &TxnRow, b: &TxnRow) -> Ordering {
    match col {
        1 => a.status.cmp(&b.status),
        2 => a.ttfb.partial_cmp(&b.ttfb).unwrap_or(Ordering::Equal),
        3 => a.size().cmp(&b.size()),
        4 => a.method().cmp(&b.method()),
        5 => a.host().cmp(b.host()),
        6 => store.txn_severity(b).cmp(&store.txn_severity(a)),
        _ => Ordering::Equal,
    }
    .then(a.id.cmp(&b.id))
}

/// Orders two rows of list `k` by column `col` (ties by arrival).
pub fn compare(store: &Store, k: ListKind, col: usize, a: u64, b: u64) -> Ordering {
    let o = match k {
        ListKind::Txns => match (store.txns.get(a), store.txns.get(b)) {
            (Some(x), Some(y)) => txn_key_cmp(store, col, x, y),
            _ => Ordering::Equal,
        },
        ListKind::Convs => match (store.convs.get(a), store.convs.get(b)) {
            (Some(x), Some(y)) => match col {
                1 => y.messages_seen.cmp(&x.messages_seen),
                2 => conv_bytes(y).cmp(&conv_bytes(x)),
                3 => y
                    .rec
                    .as_ref()
                    .map(|r| r.findings.len())
                    .cmp(&x.rec.as_ref().map(|r| r.findings.len())),
                _ => x.ws.cmp(&y.ws),
            },
            _ => Ordering::Equal,
        },
        ListKind::Msgs(_) => match (store.msgs.get(a), store.msgs.get(b)) {
            (Some(x), Some(y)) => match col {
                1 => y.length.cmp(&x.length),
                2 => x.opcode.cmp(y.opcode),
                3 => (x.direction as u8).cmp(&(y.direction as u8)),
                _ => x.index.cmp(&y.index),
            },
            _ => Ordering::Equal,
        },
        ListKind::Conns => match (store.conns.get(a), store.conns.get(b)) {
            (Some(x), Some(y)) => match col {
                1 => conn_bytes(y).cmp(&conn_bytes(x)),
                2 => (y.end.0 - y.start.0).cmp(&(x.end.0 - x.start.0)),
                3 => y.gaps.cmp(&x.gaps),
                4 => format!("{:?}", x.close).cmp(&format!("{:?}", y.close)),
                _ => x.id.cmp(&y.id),
            },
            _ => Ordering::Equal,
        },
        ListKind::Findings => match (store.findings.get(a), store.findings.get(b)) {
            (Some(x), Some(y)) => match col {
                1 => x.code.name.cmp(y.code.name),
                2 => x.packet.cmp(&y.packet),
                3 => x.connection.cmp(&y.connection),
                _ => y
                    .severity()
                    .cmp(&x.severity())
                    .then(x.packet.cmp(&y.packet)),
            },
            _ => Ordering::Equal,
        },
        ListKind::Hops => match (store.hops.get(a), store.hops.get(b)) {
            (Some(x), Some(y)) => match col {
                1 => y.severity().cmp(&x.severity()),
                2 => x.proxy_label().cmp(&y.proxy_label()),
                _ => x.rec.id.cmp(&y.rec.id),
            },
            _ => Ordering::Equal,
        },
    };
    o.then(a.cmp(&b))
}

/// Whether the default order of `k` is arrival order (new rows go at the end).
pub fn arrival_ordered(k: ListKind, col: usize, rev: bool) -> bool {
    !rev && col == 0 && matches!(k, ListKind::Msgs(_) | ListKind::Hops)
}

/// A transaction, for the filter. Free text also searches the headers, which only the full
/// record has: it is read back from the spool (without it, the row's own fields are searched).
pub struct TxnSubject<'a> {
    pub t: &'a TxnRow,
    pub store: &'a Store,
}

impl Subject for TxnSubject<'_> {
    fn text(&self, out: &mut String) {
        use std::fmt::Write;
        let t = self.t;
        let full = self.store.read_txn(t).ok();
        let _ = write!(
            out,
            "{} {} {} ",
            if t.is_https() { "https" } else { "http" },
            t.client,
            t.server
        );
        // The version (`http/1.0`, `http/2`), and `h2 stream=N` for an HTTP/2 stream.
        if t.method().is_some() {
            out.push_str(t.version());
            out.push(' ');
        }
        if let Some(s) = t.stream_id {
            let _ = write!(out, "h2 stream={s} ");
        }
        let full = full.as_ref().map(|f| &f.rec);
        if let (Some(m), Some(x)) = (t.method(), t.target()) {
            out.push_str(m);
            out.push(' ');
            out.push_str(x);
            out.push(' ');
            if let Some(r) = full.and_then(|f| f.request.as_ref()) {
                for h in r.headers.iter() {
                    out.push_str(&h.name_str());
                    out.push_str(": ");
                    out.push_str(&h.value_str());
                    out.push(' ');
                }
            }
        }
        if let (Some(st), Some(reason)) = (t.status, t.reason()) {
            let _ = write!(out, "{st} {reason} ");
            if let Some(r) = full.and_then(|f| f.response.as_ref()) {
                for h in r.headers.iter() {
                    out.push_str(&h.name_str());
                    out.push_str(": ");
                    out.push_str(&h.value_str());
                    out.push(' ');
                }
            }
        }
        for c in t.codes.iter() {
            out.push_str(c);
            out.push(' ');
        }
        if let Some(s) = t.switched_to() {
            out.push_str(s);
        }
        *out = out.to_lowercase();
    }
    fn status(&self) -> Option<Option<u16>> {
        Some(self.t.status)
    }
    fn method(&self) -> Option<&str> {
        self.t.method()
    }
    fn hosts(&self, out: &mut Vec<String>) {
        out.push(self.t.host().to_string());
        out.push(self.t.server.to_string());
    }
    fn target(&self) -> Option<&str> {
        self.t.target()
    }
    fn conn(&self) -> Option<u64> {
        Some(self.t.connection)
    }
    fn is_ws(&self) -> bool {
        self.t.switched_to() == Some("websocket") || self.t.has(tflag::UPGRADE_WS)
    }
    fn is_tunnel(&self) -> bool {
        self.t.switched_to() == Some("tunnel") || self.t.method() == Some("CONNECT")
    }
    fn is_upgrade(&self) -> bool {
        self.t.switched_to().is_some() || self.t.has(tflag::UPGRADE_HEADER)
    }
    fn findings(&self, out: &mut Vec<(Severity, String)>) {
        for f in self.store.findings_of_txn(self.t.id) {
            out.push((f.severity(), f.code.name.to_string()));
        }
        for c in self.t.codes.iter() {
            if let Some(code) = codes::lookup(c) {
                out.push((code.severity, c.to_string()));
            }
        }
    }
    fn length(&self) -> Option<u64> {
        Some(self.t.size())
    }
}

/// A WebSocket conversation, for the filter.
pub struct ConvSubject<'a> {
    pub c: &'a Conv,
    pub store: &'a Store,
}

impl Subject for ConvSubject<'_> {
    fn text(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "ws#{} ", self.c.ws);
        if let Some(r) = &self.c.rec {
            let _ = write!(out, "{} {} ", r.client, r.server);
            for s in [&r.target, &r.host, &r.origin].into_iter().flatten() {
                out.push_str(s);
                out.push(' ');
            }
            for c in r.findings.iter() {
                out.push_str(c);
                out.push(' ');
            }
        }
        *out = out.to_lowercase();
    }
    fn hosts(&self, out: &mut Vec<String>) {
        if let Some(r) = &self.c.rec {
            out.extend(r.host.as_deref().map(String::from));
            out.push(r.server.to_string());
        }
    }
    fn target(&self) -> Option<&str> {
        self.c.rec.as_ref().and_then(|r| r.target.as_deref())
    }
    fn conn(&self) -> Option<u64> {
        self.c.rec.as_ref().map(|r| r.connection)
    }
    fn is_ws(&self) -> bool {
        true
    }
    fn is_upgrade(&self) -> bool {
        true
    }
    fn is_tunnel(&self) -> bool {
        self.c
            .rec
            .as_ref()
            .is_some_and(|r| self.store.conn_kind(r.connection) & kind::TUNNEL != 0)
    }
    fn findings(&self, out: &mut Vec<(Severity, String)>) {
        if let Some(r) = &self.c.rec {
            for c in r.findings.iter() {
                if let Some(code) = codes::lookup(c) {
                    out.push((code.severity, c.to_string()));
                }
            }
        }
    }
    fn length(&self) -> Option<u64> {
        Some(conv_bytes(self.c))
    }
}

/// A WebSocket message, for the filter. Free text searches the payload's start, read back
/// from the spool.
pub struct MsgSubject<'a> {
    pub m: &'a MsgRow,
    pub conn: Option<u64>,
    pub store: &'a Store,
}

impl Subject for MsgSubject<'_> {
    fn text(&self, out: &mut String) {
        out.push_str(self.m.opcode);
        out.push(' ');
        if let Ok(full) = self.store.read_msg(self.m)
            && let Some(t) = &full.text
        {
            out.push_str(t);
        }
        *out = out.to_lowercase();
    }
    fn conn(&self) -> Option<u64> {
        self.conn
    }
    fn is_ws(&self) -> bool {
        true
    }
    fn side(&self) -> Option<Side> {
        Some(self.m.direction)
    }
    fn opcode(&self) -> Option<&str> {
        Some(self.m.opcode)
    }
    fn length(&self) -> Option<u64> {
        Some(self.m.length)
    }
}

/// A connection, for the filter.
pub struct ConnSubject<'a> {
    pub c: &'a ConnRow,
    pub store: &'a Store,
}

impl Subject for ConnSubject<'_> {
    fn text(&self, out: &mut String) {
        use std::fmt::Write;
        let c = self.c;
        let _ = write!(out, "#{} {} {} {:?} ", c.id, c.client, c.server, c.close);
        if let Some(t) = self.store.tls_of_conn(c.id) {
            // `tls`, `decrypted` or `not-decrypted` and why, the version and suite, the SNI.
            out.push_str("tls ");
            match (&t.not_decrypted, t.decrypted) {
                (_, true) => out.push_str("decrypted "),
                (Some(why), false) => {
                    let _ = write!(out, "not-decrypted {why} ");
                }
                (None, false) => {}
            }
            for s in t.version.iter().chain(&t.cipher_suite).chain(&t.sni) {
                out.push_str(s);
                out.push(' ');
            }
        }
        if let Some(t) = self.store.tunnel_on_conn(c.id) {
            let _ = write!(out, "{} {} ", t.kind, t.inner);
            if let Some(x) = &t.target {
                out.push_str(x);
                out.push(' ');
            }
        }
        *out = out.to_lowercase();
    }
    fn hosts(&self, out: &mut Vec<String>) {
        out.push(self.c.server.to_string());
        if let Some(t) = self.store.tunnel_on_conn(self.c.id) {
            out.extend(t.target.clone());
        }
        if let Some(tls) = self.store.tls_of_conn(self.c.id) {
            out.extend(tls.sni.iter().cloned());
        }
    }
    fn conn(&self) -> Option<u64> {
        Some(self.c.id)
    }
    fn is_ws(&self) -> bool {
        self.store.conn_kind(self.c.id) & kind::WS != 0
    }
    fn is_tunnel(&self) -> bool {
        self.store.conn_kind(self.c.id) & kind::TUNNEL != 0
    }
    fn findings(&self, out: &mut Vec<(Severity, String)>) {
        for f in self.store.findings_of_conn(self.c.id) {
            out.push((f.severity(), f.code.name.to_string()));
        }
    }
    fn length(&self) -> Option<u64> {
        Some(conn_bytes(self.c))
    }
}

/// A finding, for the filter.
pub struct FindingSubject<'a> {
    pub f: &'a Finding,
}

impl Subject for FindingSubject<'_> {
    fn text(&self, out: &mut String) {
        out.push_str(self.f.code.name);
        out.push(' ');
        out.push_str(&self.f.message);
        *out = out.to_lowercase();
    }
    fn conn(&self) -> Option<u64> {
        self.f.connection
    }
    fn is_ws(&self) -> bool {
        self.f.code.area == Area::Ws
    }
    fn findings(&self, out: &mut Vec<(Severity, String)>) {
        out.push((self.f.severity(), self.f.code.name.to_string()));
    }
}

/// A proxy hop, for the filter: the proxy, both legs' requests and the diagnosis.
pub struct HopSubject<'a> {
    pub h: &'a super::hops::HopRow,
    pub store: &'a Store,
}

impl HopSubject<'_> {
    fn front(&self) -> Option<&TxnRow> {
        self.store.txn(self.h.rec.front.transaction)
    }
}

impl Subject for HopSubject<'_> {
    fn text(&self, out: &mut String) {
        let r = &self.h.rec;
        out.push_str(&self.h.proxy_label());
        if let Some(u) = r.upstream {
            out.push_str(&format!(" {u}"));
        }
        for leg in [Some(r.front.transaction), r.back.map(|b| b.transaction)]
            .into_iter()
            .flatten()
        {
            if let Some(t) = self.store.txn(leg)
                && let (Some(m), Some(x)) = (t.method(), t.target())
            {
                out.push_str(&format!(" {m} {x}"));
            }
        }
        for d in &r.diagnosis {
            out.push(' ');
            out.push_str(d);
        }
        for c in r
            .request
            .headers_removed
            .iter()
            .chain(&r.request.headers_added)
            .chain(&r.request.headers_changed)
            .chain(&r.request.hop_by_hop_forwarded)
        {
            out.push(' ');
            out.push_str(&c.name);
        }
        *out = out.to_lowercase();
    }
    fn status(&self) -> Option<Option<u16>> {
        Some(self.front().and_then(|t| t.status))
    }
    fn method(&self) -> Option<&str> {
        self.front().and_then(|t| t.method())
    }
    fn hosts(&self, out: &mut Vec<String>) {
        out.push(self.h.rec.proxy.address.to_string());
        if let Some(u) = self.h.rec.upstream {
            out.push(u.to_string());
        }
        if let Some(t) = self.front() {
            out.push(t.host().to_string());
        }
    }
    fn target(&self) -> Option<&str> {
        self.front().and_then(|t| t.target())
    }
    fn conn(&self) -> Option<u64> {
        Some(self.h.rec.front.connection)
    }
    fn is_upgrade(&self) -> bool {
        self.h.rec.relay.is_some() || self.front().is_some_and(|t| t.has(tflag::UPGRADE_HEADER))
    }
    fn findings(&self, out: &mut Vec<(Severity, String)>) {
        for d in &self.h.rec.diagnosis {
            if let Some(code) = codes::lookup(d) {
                out.push((code.severity, d.to_string()));
            }
        }
    }
}
