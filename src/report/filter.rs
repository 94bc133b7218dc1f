//! `--filter EXPR`: a [`Sink`] in front of a report writer that passes on only the records
//! the expression selects, in the UI's filter language ([`crate::query`]).
//!
//! The expression is matched against **transactions**; a connection is kept when it carried a
//! kept transaction, or, when it carried none, when the expression matches the connection
//! itself (its id, server, tunnel target, findings, `ws`/`tunnel`). What rides on a kept item
//! is kept with it: WebSocket conversations (and their messages) whose upgrade transaction
//! was kept (without one, whose connection was), tunnels and HTTP/2 records of kept connections or transactions, proxy
//! hops with a kept leg, findings whose transaction (or, without one, connection) was kept.
//! A finding of no connection is kept when the expression has finding terms and matches it,
//! else always (capture-level findings describe the whole capture).
//!
//! Records stream, and some arrive before what decides them (a finding before its
//! transaction, every record of a connection before the connection's own record, which comes
//! at its close; WebSocket messages before their conversation's record). Those are held until
//! the deciding record arrives, at most [`MAX_HELD`] records and [`MAX_HELD_BYTES`] of message
//! payload in all; past that a record is decided on what is known then (a finding or
//! connection-level record: kept when its connection or transaction already was; a message:
//! kept when a kept WebSocket upgrade is still waiting for its conversation). What the sink
//! remembers besides is a set of ids: the kept transactions and connections (8 bytes each, as
//! many as the filtered report holds) and the connections still open that carried a
//! transaction.

use std::collections::{HashMap, HashSet};
use std::io;

use crate::model::{CaptureSummary, FilterCounts, Flow, Progress, Record, Sink, codes};
use crate::query::records::{ConnView, FindingView, TxnView};
use crate::query::{Filter, Scratch};

/// Most records held undecided at once.
pub const MAX_HELD: usize = 100_000;
/// Most WebSocket message payload bytes held undecided at once.
pub const MAX_HELD_BYTES: usize = 64 << 20;

#[derive(Default)]
struct ConnInfo {
    /// Records waiting for the connection's decision.
    held: Vec<Record>,
    /// It carried a transaction.
    txn: bool,
    ws: bool,
    tunnel: bool,
    tunnel_target: Option<String>,
    /// Codes of its finding records (for a transaction's or the connection's finding terms).
    codes: Vec<(Option<u64>, &'static codes::Code)>,
}

/// Passes on what `filter` selects to `inner`; see the module's documentation.
pub struct FilterSink<S> {
    inner: S,
    filter: Filter,
    scratch: Scratch,
    summary: FilterCounts,
    kept_txns: HashSet<u64>,
    kept_conns: HashSet<u64>,
    /// Connections not yet closed that something was seen of.
    open: HashMap<u64, ConnInfo>,
    /// Messages of conversations whose record has not arrived.
    held_msgs: HashMap<u64, Vec<Record>>,
    held: usize,
    held_bytes: usize,
    /// Kept WebSocket upgrades whose conversation record has not arrived yet.
    upgrades_waiting: u64,
}

impl<S: Sink> FilterSink<S> {
    pub fn new(inner: S, filter: Filter, expression: &str) -> Self {
        FilterSink {
            inner,
            filter,
            scratch: Scratch::default(),
            summary: FilterCounts {
                expression: expression.to_string(),
                ..FilterCounts::default()
            },
            kept_txns: HashSet::new(),
            kept_conns: HashSet::new(),
            open: HashMap::new(),
            held_msgs: HashMap::new(),
            held: 0,
            held_bytes: 0,
            upgrades_waiting: 0,
        }
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    fn room(&self) -> bool {
        self.held < MAX_HELD && self.held_bytes < MAX_HELD_BYTES
    }

    fn emit(&mut self, r: Record) -> io::Result<Flow> {
        self.inner.record(r)
    }

    fn emit_all(&mut self, rs: Vec<Record>) -> io::Result<Flow> {
        let mut flow = Flow::Continue;
        for r in rs {
            if self.emit(r)? == Flow::Stop {
                flow = Flow::Stop;
            }
        }
        Ok(flow)
    }

    fn on_txn(&mut self, t: Box<crate::model::TransactionRecord>) -> io::Result<Flow> {
        let conn = t.connection;
        let info = self.open.entry(conn).or_default();
        info.txn = true;
        let extra: Vec<&'static codes::Code> = info
            .codes
            .iter()
            .filter(|(tx, _)| *tx == Some(t.id))
            .map(|(_, c)| *c)
            .collect();
        let view = TxnView {
            t: &t,
            extra_findings: &extra,
        };
        if !self.filter.matches(&view, &mut self.scratch) {
            self.summary.transactions_dropped += 1;
            return Ok(Flow::Continue);
        }
        self.summary.transactions_kept += 1;
        if view
            .t
            .switched_to
            .as_ref()
            .is_some_and(|s| s.protocol == "websocket")
        {
            self.upgrades_waiting += 1;
        }
        self.kept_txns.insert(t.id);
        self.kept_conns.insert(t.connection);
        // What was held for this connection and is now decided by it.
        let held = match self.open.get_mut(&conn) {
            Some(info) => std::mem::take(&mut info.held),
            None => Vec::new(),
        };
        self.held -= held.len().min(self.held);
        let flow = self.emit(Record::Transaction(t))?;
        let mut rest = Vec::new();
        let mut out = Vec::new();
        for r in held {
            match self.decide_now(&r) {
                Some(true) => out.push(r),
                Some(false) => {}
                None => rest.push(r),
            }
        }
        self.held += rest.len();
        if let Some(info) = self.open.get_mut(&conn) {
            info.held = rest;
        }
        let f2 = self.emit_all(out)?;
        Ok(if flow == Flow::Stop { flow } else { f2 })
    }

    /// Whether a connection-level record can be decided before its connection's record:
    /// `Some(keep)`, or `None` to hold it.
    fn decide_now(&self, r: &Record) -> Option<bool> {
        match r {
            Record::Finding(f) => self.finding_now(f.connection, f.transaction),
            Record::Tunnel(t) => (t.transaction.is_some_and(|x| self.kept_txns.contains(&x))
                || self.kept_conns.contains(&t.connection))
            .then_some(true),
            Record::Http2(h) => self.kept_conns.contains(&h.connection).then_some(true),
            _ => None,
        }
    }

    /// [`Self::decide_now`] for a finding of `conn` and `txn`.
    fn finding_now(&self, conn: Option<u64>, txn: Option<u64>) -> Option<bool> {
        match txn {
            Some(t) if self.kept_txns.contains(&t) => Some(true),
            Some(_) => None,
            None => conn
                .is_some_and(|c| self.kept_conns.contains(&c))
                .then_some(true),
        }
    }

    /// The decision at the connection's close, or when nothing more can be held.
    fn decide_finally(&self, r: &Record) -> bool {
        self.decide_now(r).unwrap_or(false)
    }

    fn hold_or_decide(&mut self, conn: u64, r: Record) -> io::Result<Flow> {
        match self.decide_now(&r) {
            Some(true) => return self.emit(r),
            Some(false) => return Ok(Flow::Continue),
            None => {}
        }
        if !self.room() {
            // Nothing more can be held: decide on what is known.
            return if self.decide_finally(&r) {
                self.emit(r)
            } else {
                Ok(Flow::Continue)
            };
        }
        self.held += 1;
        self.open.entry(conn).or_default().held.push(r);
        Ok(Flow::Continue)
    }

    fn on_connection(&mut self, c: Box<crate::model::ConnectionRecord>) -> io::Result<Flow> {
        let info = self.open.remove(&c.id).unwrap_or_default();
        self.held -= info.held.len().min(self.held);
        let keep = self.kept_conns.contains(&c.id) || {
            !info.txn && {
                let codes: Vec<&'static codes::Code> = info.codes.iter().map(|(_, c)| *c).collect();
                let view = ConnView {
                    c: &c,
                    tunnel: info.tunnel,
                    ws: info.ws,
                    tunnel_target: info.tunnel_target.as_deref(),
                    findings: &codes,
                };
                self.filter.matches(&view, &mut self.scratch)
            }
        };
        if !keep {
            return Ok(Flow::Continue);
        }
        self.kept_conns.insert(c.id);
        let out: Vec<Record> = info
            .held
            .into_iter()
            .filter(|r| self.decide_finally(r))
            .collect();
        let flow = self.emit_all(out)?;
        let f2 = self.emit(Record::Connection(c))?;
        Ok(if flow == Flow::Stop { flow } else { f2 })
    }

    fn on_websocket(
        &mut self,
        w: Box<crate::model::websocket::WebSocketRecord>,
    ) -> io::Result<Flow> {
        let held = self.held_msgs.remove(&w.id).unwrap_or_default();
        for r in &held {
            self.held -= 1.min(self.held);
            self.held_bytes -= msg_bytes(r).min(self.held_bytes);
        }
        let by_txn = w
            .handshake
            .transaction
            .is_some_and(|t| self.kept_txns.contains(&t));
        if by_txn {
            self.upgrades_waiting = self.upgrades_waiting.saturating_sub(1);
        }
        let room = self.room();
        // By its upgrade transaction when it had one (`-ws` drops it even on a kept
        // connection), else by its connection.
        let keep = match w.handshake.transaction {
            Some(_) => by_txn,
            None => self.kept_conns.contains(&w.connection),
        };
        if !keep {
            let info = self.open.entry(w.connection).or_default();
            info.ws = true;
            // Its connection may still be kept on its own (no transaction: a conversation
            // picked up mid-stream): hold the record with the connection's.
            if w.handshake.transaction.is_none() && !info.txn && room {
                self.held += 1;
                info.held.push(Record::WebSocket(w));
            }
            return Ok(Flow::Continue);
        }
        let flow = self.emit_all(held)?;
        let f2 = self.emit(Record::WebSocket(w))?;
        Ok(if flow == Flow::Stop { flow } else { f2 })
    }

    fn on_message(&mut self, m: Box<crate::model::websocket::WsMessageRecord>) -> io::Result<Flow> {
        let r = Record::WsMessage(m);
        let bytes = msg_bytes(&r);
        if !self.room() {
            return if self.upgrades_waiting > 0 {
                self.emit(r)
            } else {
                Ok(Flow::Continue)
            };
        }
        let Record::WsMessage(m) = &r else {
            return Ok(Flow::Continue);
        };
        let id = m.websocket;
        self.held += 1;
        self.held_bytes = self.held_bytes.saturating_add(bytes);
        self.held_msgs.entry(id).or_default().push(r);
        Ok(Flow::Continue)
    }
}

fn msg_bytes(r: &Record) -> usize {
    match r {
        Record::WsMessage(m) => {
            let t = m.text.as_ref().map_or(0, String::len);
            let b = m.binary.as_ref().map_or(0, Vec::len);
            usize::try_from(t as u64 + b as u64).unwrap_or(usize::MAX)
        }
        _ => 0,
    }
}

impl<S: Sink> Sink for FilterSink<S> {
    fn begin(&mut self) -> io::Result<Flow> {
        self.inner.begin()
    }

    fn record(&mut self, record: Record) -> io::Result<Flow> {
        match record {
            Record::Transaction(t) => self.on_txn(t),
            Record::Connection(c) => self.on_connection(c),
            Record::WebSocket(w) => self.on_websocket(w),
            Record::WsMessage(m) => self.on_message(m),
            Record::Finding(f) => match f.connection {
                None => {
                    let keep = !self.filter.has_finding_terms()
                        || self
                            .filter
                            .matches(&FindingView { f: &f }, &mut self.scratch);
                    if keep {
                        self.emit(Record::Finding(f))
                    } else {
                        Ok(Flow::Continue)
                    }
                }
                Some(c) => {
                    // Remembered for the finding terms of a transaction or connection still
                    // to come (a connection already decided is not brought back).
                    if self.finding_now(f.connection, f.transaction).is_none() {
                        let info = self.open.entry(c).or_default();
                        if info.codes.len() < 256 {
                            info.codes.push((f.transaction, f.code));
                        }
                    }
                    self.hold_or_decide(c, Record::Finding(f))
                }
            },
            Record::Tunnel(t) => {
                let c = t.connection;
                let decided = t.transaction.is_some_and(|x| self.kept_txns.contains(&x))
                    || self.kept_conns.contains(&c);
                if !decided {
                    let info = self.open.entry(c).or_default();
                    info.tunnel = true;
                    if info.tunnel_target.is_none() {
                        info.tunnel_target.clone_from(&t.target);
                    }
                }
                self.hold_or_decide(c, Record::Tunnel(t))
            }
            Record::Http2(h) => {
                let c = h.connection;
                self.hold_or_decide(c, Record::Http2(h))
            }
            Record::ProxyHop(h) => {
                let keep = self.kept_txns.contains(&h.front.transaction)
                    || h.back
                        .is_some_and(|b| self.kept_txns.contains(&b.transaction));
                if keep {
                    self.emit(Record::ProxyHop(h))
                } else {
                    Ok(Flow::Continue)
                }
            }
        }
    }

    fn progress(&mut self, p: &Progress) -> io::Result<Flow> {
        self.inner.progress(p)
    }

    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        // Connections never closed by a record, conversations never ended: decide on what
        // is known.
        let open = std::mem::take(&mut self.open);
        let mut ids: Vec<u64> = open.keys().copied().collect();
        ids.sort_unstable();
        let mut open = open;
        for id in ids {
            if let Some(info) = open.remove(&id) {
                let out: Vec<Record> = info
                    .held
                    .into_iter()
                    .filter(|r| self.decide_finally(r))
                    .collect();
                self.emit_all(out)?;
            }
        }
        let msgs = std::mem::take(&mut self.held_msgs);
        let mut ids: Vec<u64> = msgs.keys().copied().collect();
        ids.sort_unstable();
        let mut msgs = msgs;
        if self.upgrades_waiting > 0 {
            for id in ids {
                if let Some(rs) = msgs.remove(&id) {
                    self.emit_all(rs)?;
                }
            }
        }
        self.held = 0;
        self.held_bytes = 0;
        let mut s = summary.clone();
        s.filter = Some(self.summary.clone());
        self.inner.finish(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Finding;

    #[derive(Default)]
    struct Collect(Vec<Record>, Option<CaptureSummary>);

    impl Sink for Collect {
        fn record(&mut self, r: Record) -> io::Result<Flow> {
            self.0.push(r);
            Ok(Flow::Continue)
        }
        fn finish(&mut self, s: &CaptureSummary) -> io::Result<()> {
            self.1 = Some(s.clone());
            Ok(())
        }
    }

    fn finding(conn: Option<u64>, txn: Option<u64>) -> Record {
        let mut f = Finding::new(&codes::TCP_OVERLAP_CONFLICT, "");
        if let Some(c) = conn {
            f = f.conn(c);
        }
        if let Some(t) = txn {
            f = f.txn(t);
        }
        Record::Finding(Box::new(f))
    }

    /// Findings of a transaction that never comes are held up to the bound, then decided on
    /// what is known (dropped): memory stays bounded, nothing panics.
    #[test]
    fn held_records_are_bounded() {
        let f = Filter::parse("status:5xx").expect("parses");
        let mut s = FilterSink::new(Collect::default(), f, "status:5xx");
        for i in 0..(MAX_HELD as u64 + 10) {
            s.record(finding(Some(i % 7), Some(1_000_000 + i)))
                .expect("record");
            assert!(s.held <= MAX_HELD);
        }
        s.record(finding(None, None)).expect("record");
        s.finish(&CaptureSummary::default()).expect("finish");
        let c = s.into_inner();
        // Only the capture-level finding: the expression has no finding term.
        assert_eq!(c.0.len(), 1);
        let counts = c.1.and_then(|s| s.filter).expect("capture.filter");
        assert_eq!(counts.expression, "status:5xx");
        assert_eq!(counts.transactions_kept + counts.transactions_dropped, 0);
    }

    /// A capture-level finding is kept by a matching finding term and dropped by one that
    /// does not match.
    #[test]
    fn capture_level_findings_follow_finding_terms() {
        for (expr, want) in [
            ("finding:warning", 1),
            ("finding:error", 0),
            ("finding:tcp.", 1),
            ("finding:http.", 0),
            ("-finding", 0),
        ] {
            let f = Filter::parse(expr).expect("parses");
            let mut s = FilterSink::new(Collect::default(), f, expr);
            s.record(finding(None, None)).expect("record");
            s.finish(&CaptureSummary::default()).expect("finish");
            assert_eq!(s.into_inner().0.len(), want, "{expr}");
        }
    }
}
