//! The records the UI holds, bounded.
//!
//! Each kind of row lives in a [`Ring`]: at most `cap` rows, the oldest dropped first and
//! counted, so a live capture that runs for days keeps the newest rows in bounded memory.
//! Rows have stable ids (0, 1, 2... in arrival order, never reused), which the lists keep
//! instead of positions: a new or dropped row never moves the selection to another record.
//!
//! Body and message previews are the large part of a record; their total is bounded too
//! ([`Store::preview_budget`]): the first rows keep theirs (half the budget, so the first
//! screen of a big file has them), and past the budget the previews of the oldest other rows
//! are let go (the rows stay, their detail says the preview was dropped).

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::hops::HopRow;
use crate::model::hops::ProxyHopRecord;
use crate::model::http2::Http2Record;
use crate::model::tunnel::{TlsInfo, TunnelRecord};
use crate::model::websocket::{WebSocketRecord, WsMessageRecord};
use crate::model::{ConnectionRecord, Finding, Record, Severity, TransactionRecord, codes};

/// Preview bytes kept across all rows by default.
pub const DEFAULT_PREVIEW_BUDGET: usize = 64 << 20;

/// At most `cap` rows with stable ids; pushing past it drops the oldest.
#[derive(Debug)]
pub struct Ring<T> {
    items: VecDeque<T>,
    base: u64,
    cap: usize,
    /// Rows dropped to stay under `cap`.
    pub dropped: u64,
}

impl<T> Ring<T> {
    pub fn new(cap: usize) -> Self {
        Ring {
            items: VecDeque::new(),
            base: 0,
            cap: cap.max(1),
            dropped: 0,
        }
    }

    /// Adds a row; returns its id and the row it pushed out, if any.
    pub fn push(&mut self, t: T) -> (u64, Option<T>) {
        let evicted = if self.items.len() >= self.cap {
            self.base += 1;
            self.dropped += 1;
            self.items.pop_front()
        } else {
            None
        };
        self.items.push_back(t);
        (self.next_id() - 1, evicted)
    }

    pub fn get(&self, id: u64) -> Option<&T> {
        let i = usize::try_from(id.checked_sub(self.base)?).ok()?;
        self.items.get(i)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        let i = usize::try_from(id.checked_sub(self.base)?).ok()?;
        self.items.get_mut(i)
    }

    /// The id of the oldest row kept.
    pub fn first_id(&self) -> u64 {
        self.base
    }

    /// The id the next row will get.
    pub fn next_id(&self) -> u64 {
        self.base + self.items.len() as u64
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// (id, row) from the oldest.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, &T)> {
        let base = self.base;
        self.items
            .iter()
            .enumerate()
            .map(move |(i, t)| (base + i as u64, t))
    }
}

/// A transaction row.
#[derive(Debug)]
pub struct TxnRow {
    pub rec: Box<TransactionRecord>,
    /// The body previews were let go to stay under the preview budget.
    pub preview_dropped: bool,
    /// Among the first rows, whose previews are kept (the first screen keeps its previews).
    keep: bool,
}

/// A WebSocket message row.
#[derive(Debug)]
pub struct MsgRow {
    pub rec: Box<WsMessageRecord>,
    pub preview_dropped: bool,
    keep: bool,
}

/// A WebSocket conversation: known from its first message on, complete when its record
/// arrives (when the connection ends).
#[derive(Debug)]
pub struct Conv {
    pub ws: u64,
    pub rec: Option<Box<WebSocketRecord>>,
    /// Message row ids, in order (the ones still kept).
    pub msgs: VecDeque<u64>,
    /// Messages seen, kept or not.
    pub messages_seen: u64,
}

/// What a connection carried, from the records on it.
pub mod kind {
    pub const HTTP: u8 = 1;
    pub const WS: u8 = 2;
    pub const TUNNEL: u8 = 4;
}

/// Everything the UI shows.
#[derive(Debug)]
pub struct Store {
    pub txns: Ring<TxnRow>,
    txn_index: FxHashMap<u64, u64>,
    pub convs: Ring<Conv>,
    conv_index: FxHashMap<u64, u64>,
    pub msgs: Ring<MsgRow>,
    pub conns: Ring<ConnectionRecord>,
    conn_index: FxHashMap<u64, u64>,
    pub tunnels: Ring<Box<TunnelRecord>>,
    tunnel_by_conn: FxHashMap<u64, u64>,
    /// HTTP/2 connection records (frames, settings, streams), by connection too.
    pub h2s: Ring<Box<Http2Record>>,
    h2_by_conn: FxHashMap<u64, u64>,
    pub findings: Ring<Finding>,
    findings_by_txn: FxHashMap<u64, Vec<u64>>,
    findings_by_conn: FxHashMap<u64, Vec<u64>>,
    pub hops: Ring<HopRow>,
    /// Hop rows by transaction: the hop it is the client leg of, and the one it is the
    /// upstream leg of.
    hop_by_txn: FxHashMap<u64, [Option<u64>; 2]>,
    conn_kinds: FxHashMap<u64, u8>,
    ws_by_conn: FxHashMap<u64, u64>,
    /// Transaction rows per connection, in order (keep-alive, pipelining).
    txns_by_conn: FxHashMap<u64, VecDeque<u64>>,
    /// Findings seen per severity (info, warning, error), dropped rows included.
    pub severity_counts: [u64; 3],
    /// Preview bytes currently held, and the most that may be.
    pub preview_bytes: usize,
    pub preview_budget: usize,
    /// The oldest transaction and message rows that may still hold a preview.
    preview_cursor: (u64, u64),
    /// Preview bytes ever taken in: the first half of the budget is kept for the first rows,
    /// the other half rolls with the newest.
    preview_seen: usize,
    /// A conversation's record arrived for a row already listed (its sort keys changed).
    pub convs_changed: bool,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(crate::cli::DEFAULT_MAX_ROWS, DEFAULT_PREVIEW_BUDGET)
    }
}

fn txn_preview_bytes(t: &TransactionRecord) -> usize {
    let b = |b: &crate::model::http::BodyRecord| {
        b.preview.as_ref().map_or(0, String::len) + b.preview_b64.as_ref().map_or(0, String::len)
    };
    t.request.as_ref().map_or(0, |r| b(&r.body)) + t.response.as_ref().map_or(0, |r| b(&r.body))
}

fn msg_preview_bytes(m: &WsMessageRecord) -> usize {
    m.text.as_ref().map_or(0, String::len) + m.binary.as_ref().map_or(0, Vec::len)
}

impl Store {
    pub fn new(cap: usize, preview_budget: usize) -> Self {
        Store {
            txns: Ring::new(cap),
            txn_index: FxHashMap::default(),
            convs: Ring::new(cap),
            conv_index: FxHashMap::default(),
            msgs: Ring::new(cap),
            conns: Ring::new(cap),
            conn_index: FxHashMap::default(),
            tunnels: Ring::new(cap),
            tunnel_by_conn: FxHashMap::default(),
            h2s: Ring::new(cap),
            h2_by_conn: FxHashMap::default(),
            findings: Ring::new(cap),
            findings_by_txn: FxHashMap::default(),
            findings_by_conn: FxHashMap::default(),
            hops: Ring::new(cap),
            hop_by_txn: FxHashMap::default(),
            conn_kinds: FxHashMap::default(),
            ws_by_conn: FxHashMap::default(),
            txns_by_conn: FxHashMap::default(),
            severity_counts: [0; 3],
            preview_bytes: 0,
            preview_budget,
            preview_cursor: (0, 0),
            preview_seen: 0,
            convs_changed: false,
        }
    }

    /// Rows dropped to stay bounded, all kinds together.
    pub fn dropped_rows(&self) -> u64 {
        self.txns.dropped
            + self.msgs.dropped
            + self.convs.dropped
            + self.conns.dropped
            + self.tunnels.dropped
            + self.h2s.dropped
            + self.findings.dropped
            + self.hops.dropped
    }

    pub fn push(&mut self, r: Record) {
        match r {
            Record::Transaction(t) => self.push_txn(t),
            Record::WsMessage(m) => self.push_msg(m),
            Record::WebSocket(w) => self.push_ws(w),
            Record::Connection(c) => self.push_conn(c),
            Record::Tunnel(t) => self.push_tunnel(t),
            Record::Finding(f) => self.push_finding(f),
            Record::ProxyHop(h) => self.push_hop(h),
            Record::Http2(h) => self.push_h2(h),
        }
        self.enforce_preview_budget();
    }

    /// A proxy hop; the `proxy.*` findings of its diagnosis came just before it (the
    /// correlator sends them first) and are copied into the row.
    fn push_hop(&mut self, h: Box<ProxyHopRecord>) {
        let mut findings: Vec<Finding> = Vec::new();
        for code in &h.diagnosis {
            if let Some(f) = self
                .findings_of_txn(h.front.transaction)
                .filter(|f| f.code.name == *code)
                .last()
            {
                findings.push(f.clone());
            }
        }
        let legs = [Some(h.front.transaction), h.back.map(|b| b.transaction)];
        let (row, ev) = self.hops.push(HopRow { rec: h, findings });
        if let Some(ev) = ev {
            let gone = self.hops.first_id() - 1;
            let legs = [
                Some(ev.rec.front.transaction),
                ev.rec.back.map(|b| b.transaction),
            ];
            for (i, t) in legs.into_iter().enumerate() {
                if let Some(t) = t
                    && let Some(v) = self.hop_by_txn.get_mut(&t)
                {
                    if v[i] == Some(gone) {
                        v[i] = None;
                    }
                    if *v == [None, None] {
                        self.hop_by_txn.remove(&t);
                    }
                }
            }
        }
        for (i, t) in legs.into_iter().enumerate() {
            if let Some(t) = t {
                self.hop_by_txn.entry(t).or_default()[i] = Some(row);
            }
        }
    }

    /// The hops a transaction is a leg of: the one it is the client leg of, then the one it
    /// is the upstream leg of (a transaction in the middle of a chain of proxies is both).
    pub fn hops_of_txn(&self, txn: u64) -> impl Iterator<Item = (bool, &HopRow)> {
        let v = self.hop_by_txn.get(&txn).copied().unwrap_or_default();
        [(true, v[0]), (false, v[1])]
            .into_iter()
            .filter_map(|(front, r)| Some((front, self.hops.get(r?)?)))
    }

    fn mark(&mut self, conn: u64, k: u8) {
        *self.conn_kinds.entry(conn).or_default() |= k;
    }

    fn push_txn(&mut self, t: Box<TransactionRecord>) {
        self.mark(t.connection, kind::HTTP);
        if t.switched_to
            .as_ref()
            .is_some_and(|s| s.protocol == "tunnel")
        {
            self.mark(t.connection, kind::TUNNEL);
        }
        let n = txn_preview_bytes(&t);
        let keep = self.preview_seen + n <= self.preview_budget / 2;
        self.preview_seen += n;
        self.preview_bytes += n;
        let id = t.id;
        let conn = t.connection;
        let (row, ev) = self.txns.push(TxnRow {
            rec: t,
            preview_dropped: false,
            keep,
        });
        self.txn_index.insert(id, row);
        self.txns_by_conn.entry(conn).or_default().push_back(row);
        if let Some(ev) = ev {
            let first = self.txns.first_id();
            if let Some(v) = self.txns_by_conn.get_mut(&ev.rec.connection) {
                while v.front().is_some_and(|r| *r < first) {
                    v.pop_front();
                }
                if v.is_empty() {
                    self.txns_by_conn.remove(&ev.rec.connection);
                }
            }
            if !ev.preview_dropped {
                self.preview_bytes = self
                    .preview_bytes
                    .saturating_sub(txn_preview_bytes(&ev.rec));
            }
            let gone = self.txns.first_id() - 1;
            if self.txn_index.get(&ev.rec.id) == Some(&gone) {
                self.txn_index.remove(&ev.rec.id);
            }
        }
    }

    fn conv_row(&mut self, ws: u64) -> u64 {
        if let Some(r) = self.conv_index.get(&ws)
            && self.convs.get(*r).is_some()
        {
            return *r;
        }
        let (row, ev) = self.convs.push(Conv {
            ws,
            rec: None,
            msgs: VecDeque::new(),
            messages_seen: 0,
        });
        self.conv_index.insert(ws, row);
        if let Some(ev) = ev
            && self.conv_index.get(&ev.ws) == Some(&(self.convs.first_id() - 1))
        {
            self.conv_index.remove(&ev.ws);
        }
        row
    }

    fn push_msg(&mut self, mut m: Box<WsMessageRecord>) {
        // Vec growth leaves room for 4 frames where most messages have 1.
        if let Some(f) = &mut m.frame_list {
            f.shrink_to_fit();
        }
        let conv = self.conv_row(m.websocket);
        let n = msg_preview_bytes(&m);
        let keep = self.preview_seen + n <= self.preview_budget / 2;
        self.preview_seen += n;
        self.preview_bytes += n;
        let (row, ev) = self.msgs.push(MsgRow {
            rec: m,
            preview_dropped: false,
            keep,
        });
        if let Some(c) = self.convs.get_mut(conv) {
            c.msgs.push_back(row);
            c.messages_seen += 1;
        }
        if let Some(ev) = ev {
            if !ev.preview_dropped {
                self.preview_bytes = self
                    .preview_bytes
                    .saturating_sub(msg_preview_bytes(&ev.rec));
            }
            let first = self.msgs.first_id();
            if let Some(r) = self.conv_index.get(&ev.rec.websocket).copied()
                && let Some(c) = self.convs.get_mut(r)
            {
                while c.msgs.front().is_some_and(|id| *id < first) {
                    c.msgs.pop_front();
                }
            }
        }
    }

    fn push_ws(&mut self, w: Box<WebSocketRecord>) {
        self.mark(w.connection, kind::WS);
        self.ws_by_conn.insert(w.connection, w.id);
        let known = self.conv_index.contains_key(&w.id);
        let row = self.conv_row(w.id);
        if let Some(c) = self.convs.get_mut(row) {
            c.rec = Some(w);
        }
        if known {
            self.convs_changed = true;
        }
    }

    fn push_conn(&mut self, c: ConnectionRecord) {
        let id = c.id;
        let (row, ev) = self.conns.push(c);
        self.conn_index.insert(id, row);
        if let Some(ev) = ev {
            if self.conn_index.get(&ev.id) == Some(&(self.conns.first_id() - 1)) {
                self.conn_index.remove(&ev.id);
            }
            self.conn_kinds.remove(&ev.id);
            self.ws_by_conn.remove(&ev.id);
            self.findings_by_conn.remove(&ev.id);
        }
    }

    fn push_tunnel(&mut self, t: Box<TunnelRecord>) {
        self.mark(t.connection, kind::TUNNEL);
        let conn = t.connection;
        let (row, ev) = self.tunnels.push(t);
        self.tunnel_by_conn.insert(conn, row);
        if let Some(ev) = ev
            && self.tunnel_by_conn.get(&ev.connection) == Some(&(self.tunnels.first_id() - 1))
        {
            self.tunnel_by_conn.remove(&ev.connection);
        }
    }

    /// An HTTP/2 connection's record (the transaction detail shows its stream's part).
    fn push_h2(&mut self, h: Box<Http2Record>) {
        let conn = h.connection;
        let (row, ev) = self.h2s.push(h);
        self.h2_by_conn.insert(conn, row);
        if let Some(ev) = ev
            && self.h2_by_conn.get(&ev.connection) == Some(&(self.h2s.first_id() - 1))
        {
            self.h2_by_conn.remove(&ev.connection);
        }
    }

    fn push_finding(&mut self, f: Finding) {
        self.severity_counts[f.severity() as usize] += 1;
        let (txn, conn) = (f.transaction, f.connection);
        let (row, ev) = self.findings.push(f);
        if let Some(t) = txn {
            self.findings_by_txn.entry(t).or_default().push(row);
        }
        if let Some(c) = conn {
            self.findings_by_conn.entry(c).or_default().push(row);
        }
        if let Some(ev) = ev {
            let first = self.findings.first_id();
            for (map, key) in [
                (&mut self.findings_by_txn, ev.transaction),
                (&mut self.findings_by_conn, ev.connection),
            ] {
                if let Some(k) = key
                    && let Some(v) = map.get_mut(&k)
                {
                    v.retain(|r| *r >= first);
                    if v.is_empty() {
                        map.remove(&k);
                    }
                }
            }
        }
    }

    /// Lets go of the oldest previews while over the budget.
    fn enforce_preview_budget(&mut self) {
        while self.preview_bytes > self.preview_budget {
            let (t, m) = self.preview_cursor;
            let t = t.max(self.txns.first_id());
            let m = m.max(self.msgs.first_id());
            let t_next = t < self.txns.next_id();
            let m_next = m < self.msgs.next_id();
            if !t_next && !m_next {
                break;
            }
            // Strip whichever is older by arrival; ties go to transactions.
            if t_next && (!m_next || t <= m || self.txns.len() >= self.msgs.len()) {
                if let Some(row) = self.txns.get_mut(t)
                    && !row.preview_dropped
                    && !row.keep
                {
                    let n = txn_preview_bytes(&row.rec);
                    if n > 0 {
                        for b in [
                            row.rec.request.as_mut().map(|r| &mut r.body),
                            row.rec.response.as_mut().map(|r| &mut r.body),
                        ]
                        .into_iter()
                        .flatten()
                        {
                            b.preview = None;
                            b.preview_b64 = None;
                        }
                        row.preview_dropped = true;
                        self.preview_bytes = self.preview_bytes.saturating_sub(n);
                    }
                }
                self.preview_cursor.0 = t + 1;
            } else {
                if let Some(row) = self.msgs.get_mut(m)
                    && !row.preview_dropped
                    && !row.keep
                {
                    let n = msg_preview_bytes(&row.rec);
                    if n > 0 {
                        row.rec.text = None;
                        row.rec.binary = None;
                        row.preview_dropped = true;
                        self.preview_bytes = self.preview_bytes.saturating_sub(n);
                    }
                }
                self.preview_cursor.1 = m + 1;
            }
        }
    }

    pub fn txn_row(&self, txn_id: u64) -> Option<u64> {
        self.txn_index
            .get(&txn_id)
            .copied()
            .filter(|r| self.txns.get(*r).is_some())
    }

    pub fn txn(&self, txn_id: u64) -> Option<&TransactionRecord> {
        self.txns.get(self.txn_row(txn_id)?).map(|r| &*r.rec)
    }

    pub fn conn_row(&self, conn: u64) -> Option<u64> {
        self.conn_index
            .get(&conn)
            .copied()
            .filter(|r| self.conns.get(*r).is_some())
    }

    pub fn conn(&self, conn: u64) -> Option<&ConnectionRecord> {
        self.conns.get(self.conn_row(conn)?)
    }

    pub fn conv_row_of(&self, ws: u64) -> Option<u64> {
        self.conv_index
            .get(&ws)
            .copied()
            .filter(|r| self.convs.get(*r).is_some())
    }

    /// The WebSocket conversation on a connection, once its record arrived.
    pub fn ws_on_conn(&self, conn: u64) -> Option<u64> {
        self.ws_by_conn.get(&conn).copied()
    }

    pub fn tunnel_on_conn(&self, conn: u64) -> Option<&TunnelRecord> {
        self.tunnel_by_conn
            .get(&conn)
            .and_then(|r| self.tunnels.get(*r))
            .map(|t| &**t)
    }

    /// The HTTP/2 record of a connection, once it ended.
    pub fn h2_on_conn(&self, conn: u64) -> Option<&Http2Record> {
        self.h2_by_conn
            .get(&conn)
            .and_then(|r| self.h2s.get(*r))
            .map(|h| &**h)
    }

    /// TLS on a connection: its own, or that of the tunnel it carries (TLS through CONNECT or
    /// SOCKS).
    pub fn tls_of_conn(&self, conn: u64) -> Option<&TlsInfo> {
        self.conn(conn)
            .and_then(|c| c.tls.as_deref())
            .or_else(|| self.tunnel_on_conn(conn).and_then(|t| t.tls.as_ref()))
    }

    /// The transactions on a connection, in order.
    pub fn txns_on_conn(&self, conn: u64) -> impl Iterator<Item = &TransactionRecord> {
        self.txns_by_conn
            .get(&conn)
            .into_iter()
            .flatten()
            .filter_map(|r| self.txns.get(*r))
            .map(|r| &*r.rec)
    }

    pub fn txn_count_on_conn(&self, conn: u64) -> usize {
        self.txns_by_conn.get(&conn).map_or(0, VecDeque::len)
    }

    pub fn conn_kind(&self, conn: u64) -> u8 {
        self.conn_kinds.get(&conn).copied().unwrap_or(0)
    }

    pub fn findings_of_txn(&self, txn: u64) -> impl Iterator<Item = &Finding> {
        self.findings_by_txn
            .get(&txn)
            .into_iter()
            .flatten()
            .filter_map(|r| self.findings.get(*r))
    }

    pub fn findings_of_conn(&self, conn: u64) -> impl Iterator<Item = &Finding> {
        self.findings_by_conn
            .get(&conn)
            .into_iter()
            .flatten()
            .filter_map(|r| self.findings.get(*r))
    }

    /// The highest severity among a transaction's findings (its record lists the codes; the
    /// findings themselves may not have arrived yet).
    pub fn txn_severity(&self, t: &TransactionRecord) -> Option<Severity> {
        let from_store = self.findings_of_txn(t.id).map(|f| f.severity()).max();
        let from_codes = t
            .findings
            .iter()
            .filter_map(|c| codes::lookup(c).map(|c| c.severity))
            .max();
        // A WebSocket's findings show on the transaction that upgraded to it.
        let from_ws = t
            .switched_to
            .as_ref()
            .filter(|s| s.protocol == "websocket")
            .and_then(|_| self.ws_on_conn(t.connection))
            .and_then(|ws| self.conv_row_of(ws))
            .and_then(|r| self.convs.get(r))
            .and_then(|c| c.rec.as_ref())
            .and_then(|r| {
                r.findings
                    .iter()
                    .filter_map(|c| codes::lookup(c).map(|c| c.severity))
                    .max()
            });
        from_store.max(from_codes).max(from_ws)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_drops_the_oldest_and_keeps_ids_stable() {
        let mut r = Ring::new(3);
        for i in 0..5 {
            r.push(i * 10);
        }
        assert_eq!(r.len(), 3);
        assert_eq!(r.dropped, 2);
        assert_eq!(r.first_id(), 2);
        assert_eq!(r.next_id(), 5);
        assert_eq!(r.get(1), None);
        assert_eq!(r.get(2), Some(&20));
        assert_eq!(r.get(4), Some(&40));
        assert_eq!(r.get(5), None);
        let ids: Vec<u64> = r.iter().map(|(i, _)| i).collect();
        assert_eq!(ids, [2, 3, 4]);
    }
}
