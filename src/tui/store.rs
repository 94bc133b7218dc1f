//! The records the UI holds, bounded.
//!
//! Each kind of row lives in a [`Ring`]: at most `cap` rows, the oldest dropped first and
//! counted, so a live capture that runs for days keeps the newest rows in bounded memory.
//! Rows have stable ids (0, 1, 2... in arrival order, never reused), which the lists keep
//! instead of positions: a new or dropped row never moves the selection to another record.
//!
//! Transactions and WebSocket messages are the many and the large records (headers, bodies'
//! previews, semantics, frames: 2–3 KB each): their rows are compact ([`TxnRow`], [`MsgRow`]:
//! what the lists show, sort and filter on), and the full record is written to a spool on disk
//! ([`super::spool`], in the form of [`super::codec`]) and read back when it is looked at
//! (the detail pane, the message previews on screen, free-text filtering), through a small
//! cache of the last ones read. The other kinds (connections, conversations, tunnels,
//! findings, hops, HTTP/2) are fewer and stay whole in memory.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::codec::{self, TxnFull};
use super::hops::HopRow;
use super::spool::{DetailSpool, Lru, Slot};
use crate::base::Timestamp;
use crate::model::hops::ProxyHopRecord;
use crate::model::http2::Http2Record;
use crate::model::tunnel::{TlsInfo, TunnelRecord};
use crate::model::websocket::Side;
use crate::model::websocket::{WebSocketRecord, WsMessageRecord};
use crate::model::{
    ConnectionRecord, Endpoint, Finding, Record, Severity, TransactionRecord, codes,
};

/// Full records read back and kept, per kind (the detail pane's, the message previews on
/// screen).
const CACHE: usize = 256;

/// The spool is rewritten with only the records of the rows still kept once it is this large
/// and at least half of it belongs to rows dropped (a live capture that runs for days).
const SPOOL_COMPACT_MIN: u64 = 256 << 20;

fn slot_len(s: Option<Slot>) -> u64 {
    s.map_or(0, |s| u64::from(s.len))
}

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

    /// The rows, mutable, from the oldest.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.items.iter_mut()
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

/// What a transaction row knows besides its fields.
pub mod tflag {
    pub const HTTPS: u8 = 1;
    pub const REQUEST: u8 = 2;
    pub const RESPONSE: u8 = 4;
    /// The request has an `Upgrade` header.
    pub const UPGRADE_HEADER: u8 = 8;
    /// ... that says `websocket`.
    pub const UPGRADE_WS: u8 = 16;
    /// The connection switched protocols after it (`switched_to`).
    pub const SWITCHED: u8 = 32;
}

/// A transaction row: what the list shows, sorts and filters on. The full record is in the
/// spool (`slot`), read back with [`Store::txn_full`].
#[derive(Debug)]
pub struct TxnRow {
    pub id: u64,
    pub connection: u64,
    /// Position on the connection.
    pub index: u32,
    pub client: Endpoint,
    pub server: Endpoint,
    /// When the request started (else the response).
    pub start: Option<Timestamp>,
    pub ttfb: Option<f64>,
    /// Body lengths (`None`: no request / no response).
    pub req_len: Option<u64>,
    pub resp_len: Option<u64>,
    pub status: Option<u16>,
    pub stream_id: Option<u32>,
    /// After `Upgrade: h2c`: where the server's HTTP/2 frames start (the 101 head's end).
    pub h2c_start: Option<u64>,
    pub flags: u8,
    /// The codes of the findings the record lists.
    pub codes: Box<[&'static str]>,
    /// Method, target, host, reason, version, switched-to protocol, one after the other.
    strs: Box<str>,
    cuts: [u32; 5],
    /// Where the full record is in the spool (`None`: it could not be written).
    pub slot: Option<Slot>,
}

impl TxnRow {
    /// The compact row of a transaction.
    pub fn new(t: &TransactionRecord, slot: Option<Slot>) -> TxnRow {
        use tflag::*;
        let req = t.request.as_ref();
        let resp = t.response.as_ref();
        let host = super::rows::txn_host(t);
        let parts: [&str; 6] = [
            req.map_or("", |r| r.method.as_str()),
            req.map_or("", |r| r.target.as_str()),
            &host,
            resp.map_or("", |r| r.reason.as_str()),
            req.map(|r| r.version.as_ref())
                .or(resp.map(|r| r.version.as_ref()))
                .unwrap_or(""),
            t.switched_to.as_ref().map_or("", |s| s.protocol.as_str()),
        ];
        let mut strs = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut cuts = [0u32; 5];
        for (i, p) in parts.iter().enumerate() {
            strs.push_str(p);
            if i < 5 {
                cuts[i] = u32::try_from(strs.len()).unwrap_or(u32::MAX);
            }
        }
        let upgrade = req.and_then(|r| r.headers.get("upgrade"));
        let mut flags = 0;
        for (on, f) in [
            (t.scheme == crate::model::http::Scheme::Https, HTTPS),
            (req.is_some(), REQUEST),
            (resp.is_some(), RESPONSE),
            (upgrade.is_some(), UPGRADE_HEADER),
            (
                upgrade.is_some_and(|v| v.eq_ignore_ascii_case(b"websocket")),
                UPGRADE_WS,
            ),
            (t.switched_to.is_some(), SWITCHED),
        ] {
            if on {
                flags |= f;
            }
        }
        let h2c_start = resp.and_then(|r| {
            let h2c = t.switched_to.as_ref()?.protocol == "h2c";
            h2c.then_some(r.at.stream_offset + r.at.head_bytes)
        });
        TxnRow {
            id: t.id,
            connection: t.connection,
            index: t.index,
            client: t.client,
            server: t.server,
            start: t.timing.request_start.or(t.timing.response_start),
            ttfb: t.timing.ttfb,
            req_len: req.map(|r| r.body.length),
            resp_len: resp.map(|r| r.body.length),
            status: resp.map(|r| r.status),
            stream_id: t.stream_id,
            h2c_start,
            flags,
            codes: t.findings.clone().into_boxed_slice(),
            strs: strs.into_boxed_str(),
            cuts,
            slot,
        }
    }

    fn part(&self, i: usize) -> &str {
        let a = if i == 0 { 0 } else { self.cuts[i - 1] as usize };
        let b = if i < 5 {
            self.cuts[i] as usize
        } else {
            self.strs.len()
        };
        self.strs.get(a..b).unwrap_or("")
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
    /// The request's method (`None`: no request).
    pub fn method(&self) -> Option<&str> {
        self.has(tflag::REQUEST).then(|| self.part(0))
    }
    pub fn target(&self) -> Option<&str> {
        self.has(tflag::REQUEST).then(|| self.part(1))
    }
    /// `:authority`, else the Host header, else the server address (`rows::txn_host`).
    pub fn host(&self) -> &str {
        self.part(2)
    }
    pub fn reason(&self) -> Option<&str> {
        self.has(tflag::RESPONSE).then(|| self.part(3))
    }
    /// The request's HTTP version, else the response's (empty: neither).
    pub fn version(&self) -> &str {
        self.part(4)
    }
    /// The protocol the connection switched to after it.
    pub fn switched_to(&self) -> Option<&str> {
        self.has(tflag::SWITCHED).then(|| self.part(5))
    }
    /// Request and response body lengths together.
    pub fn size(&self) -> u64 {
        self.req_len.unwrap_or(0) + self.resp_len.unwrap_or(0)
    }
    pub fn is_https(&self) -> bool {
        self.has(tflag::HTTPS)
    }
    /// Heap bytes the row holds.
    pub fn heap_bytes(&self) -> usize {
        self.strs.len() + self.codes.len() * std::mem::size_of::<&str>()
    }
}

/// A WebSocket message row; the full record (the payload's start, the frames) is in the
/// spool, read back with [`Store::msg_full`].
#[derive(Debug)]
pub struct MsgRow {
    pub websocket: u64,
    pub index: u64,
    pub direction: Side,
    pub opcode: &'static str,
    pub length: u64,
    pub frames: u64,
    pub ts: Timestamp,
    pub stream_offset: u64,
    pub compressed: bool,
    pub partial: bool,
    pub utf8_valid: Option<bool>,
    pub close_code: Option<u16>,
    pub rtt: Option<f64>,
    pub slot: Option<Slot>,
}

impl MsgRow {
    pub fn new(m: &WsMessageRecord, slot: Option<Slot>) -> MsgRow {
        MsgRow {
            websocket: m.websocket,
            index: m.index,
            direction: m.direction,
            opcode: codec::intern(&m.opcode),
            length: m.length,
            frames: m.frames,
            ts: m.ts,
            stream_offset: m.stream_offset,
            compressed: m.compressed,
            partial: m.partial,
            utf8_valid: m.utf8_valid,
            close_code: m.close_code,
            rtt: m.rtt,
            slot,
        }
    }
}

/// A connection row: what the list shows, sorts and filters on, and its TLS (which the
/// transactions and the Stream view ask about); the full record is in the spool, read back
/// with [`Store::conn_full`].
#[derive(Debug)]
pub struct ConnRow {
    pub id: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub start: Timestamp,
    pub end: Timestamp,
    pub close: crate::model::CloseKind,
    /// Stream bytes, client to server and back.
    pub bytes: [u64; 2],
    /// Gaps, both directions.
    pub gaps: u64,
    pub tls: Option<Box<TlsInfo>>,
    pub slot: Option<Slot>,
}

impl ConnRow {
    pub fn new(c: ConnectionRecord, slot: Option<Slot>) -> ConnRow {
        ConnRow {
            id: c.id,
            client: c.client,
            server: c.server,
            start: c.start,
            end: c.end,
            close: c.close,
            bytes: [c.client_to_server.bytes, c.server_to_client.bytes],
            gaps: c.client_to_server.gaps + c.server_to_client.gaps,
            tls: c.tls,
            slot,
        }
    }
}

/// A WebSocket conversation's record as its row keeps it: what the list shows, sorts and
/// filters on; the whole record is in the spool, read back with [`Store::ws_full`].
#[derive(Debug)]
pub struct WsRow {
    pub id: u64,
    pub connection: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    /// The handshake's Host, target and Origin.
    pub host: Option<Box<str>>,
    pub target: Option<Box<str>>,
    pub origin: Option<Box<str>>,
    pub midstream: bool,
    pub close_code: Option<u16>,
    pub close_initiator: Option<Side>,
    pub close_clean: bool,
    /// Messages and their bytes, client to server and back.
    pub messages: [u64; 2],
    pub message_bytes: [u64; 2],
    pub compression: bool,
    pub findings: Box<[&'static str]>,
    pub slot: Option<Slot>,
}

impl WsRow {
    pub fn new(w: &WebSocketRecord, slot: Option<Slot>) -> WsRow {
        let b = |s: &Option<String>| s.as_deref().map(Box::from);
        WsRow {
            id: w.id,
            connection: w.connection,
            client: w.client,
            server: w.server,
            host: b(&w.handshake.host),
            target: b(&w.handshake.target),
            origin: b(&w.handshake.origin),
            midstream: w.handshake.midstream,
            close_code: w.close.code,
            close_initiator: w.close.initiator,
            close_clean: w.close.clean,
            messages: [w.client_to_server.messages, w.server_to_client.messages],
            message_bytes: [
                w.client_to_server.message_bytes,
                w.server_to_client.message_bytes,
            ],
            compression: w.compression.is_some(),
            findings: w.findings.clone().into_boxed_slice(),
            slot,
        }
    }
}

/// A WebSocket conversation: known from its first message on, complete when its record
/// arrives (when the connection ends).
#[derive(Debug)]
pub struct Conv {
    pub ws: u64,
    pub rec: Option<Box<WsRow>>,
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
    pub conns: Ring<ConnRow>,
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
    /// The full transactions and messages.
    pub spool: DetailSpool,
    txn_cache: RefCell<Lru<Rc<TxnFull>>>,
    msg_cache: RefCell<Lru<Rc<WsMessageRecord>>>,
    conn_cache: RefCell<Lru<Rc<ConnectionRecord>>>,
    /// Spool bytes of the rows still kept; past half of the spool it is rewritten.
    live_bytes: u64,
    spool_compact_min: u64,
    /// A conversation's record arrived for a row already listed (its sort keys changed).
    pub convs_changed: bool,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(crate::cli::DEFAULT_MAX_ROWS)
    }
}

impl Store {
    /// At most `cap` rows of each kind; the full records spooled to a temporary file.
    pub fn new(cap: usize) -> Self {
        Store::with_spool(cap, DetailSpool::default())
    }

    /// The same with the spool given (tests make its writes fail).
    pub fn with_spool(cap: usize, spool: DetailSpool) -> Self {
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
            spool,
            txn_cache: RefCell::new(Lru::new(CACHE)),
            msg_cache: RefCell::new(Lru::new(CACHE)),
            conn_cache: RefCell::new(Lru::new(CACHE / 4)),
            live_bytes: 0,
            spool_compact_min: SPOOL_COMPACT_MIN,
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
            Record::Finding(f) => self.push_finding(*f),
            Record::ProxyHop(h) => self.push_hop(h),
            Record::Http2(h) => self.push_h2(h),
        }
        if self.spool.bytes >= self.spool_compact_min
            && self.spool.bytes >= 2 * self.live_bytes
            && self.spool.error.is_none()
        {
            self.compact_spool();
        }
    }

    /// Spool size that lets a rewrite happen (tests make it small).
    pub fn set_spool_compact_min(&mut self, bytes: u64) {
        self.spool_compact_min = bytes;
    }

    /// Rewrites the spool with the records of the rows still kept: the dropped rows' records
    /// are let go, so the file stays within twice what the rows need.
    pub fn compact_spool(&mut self) {
        let mut new = DetailSpool::default();
        let old = &self.spool;
        let mut live = 0;
        let mut move_slot = |slot: &mut Option<Slot>| {
            if let Some(s) = *slot {
                *slot = old
                    .read(s)
                    .ok()
                    .and_then(|b| new.push(|v| v.extend_from_slice(&b)));
                live += slot_len(*slot);
            }
        };
        for r in self.txns.values_mut() {
            move_slot(&mut r.slot);
        }
        for r in self.msgs.values_mut() {
            move_slot(&mut r.slot);
        }
        for r in self.conns.values_mut() {
            move_slot(&mut r.slot);
        }
        for c in self.convs.values_mut() {
            if let Some(r) = &mut c.rec {
                move_slot(&mut r.slot);
            }
        }
        self.spool = new;
        self.live_bytes = live;
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
        let slot = self.spool.push(|b| codec::encode_txn(&t, b));
        self.live_bytes += slot_len(slot);
        let row = TxnRow::new(&t, slot);
        drop(t);
        let id = row.id;
        let conn = row.connection;
        let (row, ev) = self.txns.push(row);
        self.txn_index.insert(id, row);
        self.txns_by_conn.entry(conn).or_default().push_back(row);
        if let Some(ev) = ev {
            self.live_bytes = self.live_bytes.saturating_sub(slot_len(ev.slot));
            let first = self.txns.first_id();
            if let Some(v) = self.txns_by_conn.get_mut(&ev.connection) {
                while v.front().is_some_and(|r| *r < first) {
                    v.pop_front();
                }
                if v.is_empty() {
                    self.txns_by_conn.remove(&ev.connection);
                }
            }
            let gone = self.txns.first_id() - 1;
            if self.txn_index.get(&ev.id) == Some(&gone) {
                self.txn_index.remove(&ev.id);
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
        if let Some(ev) = ev {
            self.live_bytes = self
                .live_bytes
                .saturating_sub(slot_len(ev.rec.and_then(|r| r.slot)));
            if self.conv_index.get(&ev.ws) == Some(&(self.convs.first_id() - 1)) {
                self.conv_index.remove(&ev.ws);
            }
        }
        row
    }

    fn push_msg(&mut self, m: Box<WsMessageRecord>) {
        let conv = self.conv_row(m.websocket);
        let slot = self.spool.push(|b| codec::encode_msg(&m, b));
        self.live_bytes += slot_len(slot);
        let (row, ev) = self.msgs.push(MsgRow::new(&m, slot));
        drop(m);
        if let Some(c) = self.convs.get_mut(conv) {
            c.msgs.push_back(row);
            c.messages_seen += 1;
        }
        if let Some(ev) = ev {
            self.live_bytes = self.live_bytes.saturating_sub(slot_len(ev.slot));
            let first = self.msgs.first_id();
            if let Some(r) = self.conv_index.get(&ev.websocket).copied()
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
        let slot = self.spool.push(|b| codec::encode_ws(&w, b));
        self.live_bytes += slot_len(slot);
        if let Some(c) = self.convs.get_mut(row)
            && let Some(old) = c.rec.replace(Box::new(WsRow::new(&w, slot)))
        {
            self.live_bytes = self.live_bytes.saturating_sub(slot_len(old.slot));
        }
        if known {
            self.convs_changed = true;
        }
    }

    fn push_conn(&mut self, c: Box<ConnectionRecord>) {
        let id = c.id;
        let slot = self.spool.push(|b| codec::encode_conn(&c, b));
        self.live_bytes += slot_len(slot);
        let (row, ev) = self.conns.push(ConnRow::new(*c, slot));
        self.conn_index.insert(id, row);
        if let Some(ev) = ev {
            self.live_bytes = self.live_bytes.saturating_sub(slot_len(ev.slot));
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

    /// Why a row's full record cannot be shown: it was not written (the spool failed), or
    /// it does not read back.
    fn detail_missing(&self, slot: Option<Slot>, e: Option<String>) -> String {
        match (slot, e, &self.spool.error) {
            (_, Some(e), _) => format!("the details could not be read back: {e}"),
            (None, None, Some(why)) => format!("the details were not kept: {why}"),
            _ => "the details were not kept".into(),
        }
    }

    /// Transaction row `row`'s full record, read back (the last few are cached); `Err`
    /// says why it cannot be.
    pub fn txn_full(&self, row: u64) -> Result<Rc<TxnFull>, String> {
        if let Some(t) = self.txn_cache.borrow_mut().get(row) {
            return Ok(t);
        }
        let r = self.txns.get(row).ok_or("the row was let go")?;
        let t = Rc::new(self.read_txn(r)?);
        self.txn_cache.borrow_mut().put(row, Rc::clone(&t));
        Ok(t)
    }

    /// A transaction's full record, read back without caching it (the filter reads many).
    pub fn read_txn(&self, r: &TxnRow) -> Result<TxnFull, String> {
        let slot = r.slot.ok_or_else(|| self.detail_missing(None, None))?;
        let b = self
            .spool
            .read(slot)
            .map_err(|e| self.detail_missing(Some(slot), Some(e.to_string())))?;
        codec::decode_txn(&b)
            .ok_or_else(|| self.detail_missing(Some(slot), Some("the spool is damaged".into())))
    }

    /// Message row `row`'s full record, read back (the last few are cached).
    pub fn msg_full(&self, row: u64) -> Result<Rc<WsMessageRecord>, String> {
        if let Some(m) = self.msg_cache.borrow_mut().get(row) {
            return Ok(m);
        }
        let r = self.msgs.get(row).ok_or("the row was let go")?;
        let m = Rc::new(self.read_msg(r)?);
        self.msg_cache.borrow_mut().put(row, Rc::clone(&m));
        Ok(m)
    }

    /// A message's full record, read back without caching it.
    pub fn read_msg(&self, r: &MsgRow) -> Result<WsMessageRecord, String> {
        let slot = r.slot.ok_or_else(|| self.detail_missing(None, None))?;
        let b = self
            .spool
            .read(slot)
            .map_err(|e| self.detail_missing(Some(slot), Some(e.to_string())))?;
        codec::decode_msg(&b)
            .ok_or_else(|| self.detail_missing(Some(slot), Some("the spool is damaged".into())))
    }

    pub fn txn_row(&self, txn_id: u64) -> Option<u64> {
        self.txn_index
            .get(&txn_id)
            .copied()
            .filter(|r| self.txns.get(*r).is_some())
    }

    /// Transaction `txn_id`'s row.
    pub fn txn(&self, txn_id: u64) -> Option<&TxnRow> {
        self.txns.get(self.txn_row(txn_id)?)
    }

    pub fn conn_row(&self, conn: u64) -> Option<u64> {
        self.conn_index
            .get(&conn)
            .copied()
            .filter(|r| self.conns.get(*r).is_some())
    }

    pub fn conn(&self, conn: u64) -> Option<&ConnRow> {
        self.conns.get(self.conn_row(conn)?)
    }

    /// Conversation row `row`'s full record, read back (not cached: the detail pane asks
    /// for one, and a conversation's record is small).
    pub fn ws_full(&self, row: u64) -> Result<WebSocketRecord, String> {
        let c = self.convs.get(row).ok_or("the row was let go")?;
        let r = c
            .rec
            .as_ref()
            .ok_or("the conversation's record has not come yet")?;
        let slot = r.slot.ok_or_else(|| self.detail_missing(None, None))?;
        let b = self
            .spool
            .read(slot)
            .map_err(|e| self.detail_missing(Some(slot), Some(e.to_string())))?;
        codec::decode_ws(&b)
            .ok_or_else(|| self.detail_missing(Some(slot), Some("the spool is damaged".into())))
    }

    /// Connection row `row`'s full record, read back (the last few are cached).
    pub fn conn_full(&self, row: u64) -> Result<Rc<ConnectionRecord>, String> {
        if let Some(c) = self.conn_cache.borrow_mut().get(row) {
            return Ok(c);
        }
        let r = self.conns.get(row).ok_or("the row was let go")?;
        let slot = r.slot.ok_or_else(|| self.detail_missing(None, None))?;
        let b = self
            .spool
            .read(slot)
            .map_err(|e| self.detail_missing(Some(slot), Some(e.to_string())))?;
        let c = codec::decode_conn(&b, r.tls.clone())
            .ok_or_else(|| self.detail_missing(Some(slot), Some("the spool is damaged".into())))?;
        let c = Rc::new(c);
        self.conn_cache.borrow_mut().put(row, Rc::clone(&c));
        Ok(c)
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
    pub fn txns_on_conn(&self, conn: u64) -> impl Iterator<Item = &TxnRow> {
        self.txns_by_conn
            .get(&conn)
            .into_iter()
            .flatten()
            .filter_map(|r| self.txns.get(*r))
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
    pub fn txn_severity(&self, t: &TxnRow) -> Option<Severity> {
        let from_store = self.findings_of_txn(t.id).map(|f| f.severity()).max();
        let from_codes = t
            .codes
            .iter()
            .filter_map(|c| codes::lookup(c).map(|c| c.severity))
            .max();
        // A WebSocket's findings show on the transaction that upgraded to it.
        let from_ws = t
            .switched_to()
            .filter(|s| *s == "websocket")
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
    #![allow(clippy::unwrap_used)]
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

    fn txn(id: u64, method: Option<&str>, host: Option<&[u8]>) -> Box<TransactionRecord> {
        use crate::model::http::{BodyRecord, Headers, MessageStart, RequestRecord};
        let ep = |a: &str, port| Endpoint {
            ip: a.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
            port,
        };
        let mut t = TransactionRecord::new(id, 7, 0, false, ep("10.0.0.1", 1), ep("10.0.0.2", 80));
        if let Some(m) = method {
            let mut h = Headers::default();
            if let Some(v) = host {
                h.push(b"Host", v, None, false);
            }
            h.push(b"Upgrade", b"WebSocket", None, false);
            let body = BodyRecord {
                framing: crate::model::http::BodyFraming::ContentLength,
                state: crate::model::http::BodyState::Complete,
                wire_length: 12,
                length: 12,
                decoded_length: None,
                decoding: None,
                content_type: None,
                content_encoding: Vec::new(),
                transfer_encoding: Vec::new(),
                missing_bytes: 0,
                chunks: None,
                chunk_extensions: Vec::new(),
                trailers: Headers::default(),
                preview: None,
                preview_b64: None,
                preview_truncated: false,
                byteranges: None,
                digest: None,
            };
            t.request = Some(RequestRecord {
                method: m.into(),
                method_b64: None,
                target: "/a\u{1b}b".into(),
                target_b64: None,
                target_form: "origin",
                proxy_request: false,
                version: "HTTP/1.1".into(),
                scheme: None,
                authority: None,
                headers: h,
                body,
                at: MessageStart {
                    packet: 1,
                    stream_offset: 0,
                    head_bytes: 10,
                },
            });
        }
        Box::new(t)
    }

    #[test]
    fn a_compact_row_holds_what_the_list_and_filter_use() {
        let mut s = Store::new(10);
        s.push(Record::Transaction(txn(
            0,
            Some("GET"),
            Some(b"ex\xffample.com"),
        )));
        s.push(Record::Transaction(txn(1, None, None)));
        let a = s.txns.get(0).unwrap();
        assert_eq!(a.method(), Some("GET"));
        assert_eq!(a.target(), Some("/a\u{1b}b"));
        assert_eq!(a.host(), "ex\u{fffd}ample.com");
        assert_eq!(a.version(), "HTTP/1.1");
        assert_eq!(a.reason(), None);
        assert_eq!(a.status, None);
        assert_eq!(a.switched_to(), None);
        assert!(a.has(tflag::UPGRADE_HEADER) && a.has(tflag::UPGRADE_WS));
        assert_eq!((a.req_len, a.resp_len, a.size()), (Some(12), None, 12));
        assert!(a.heap_bytes() < 64);
        let b = s.txns.get(1).unwrap();
        assert_eq!((b.method(), b.target()), (None, None));
        assert_eq!(b.host(), "10.0.0.2:80", "the server when there is no Host");
        assert_eq!(b.version(), "");
        // The full record reads back.
        let full = s.txn_full(0).unwrap();
        assert_eq!(full.rec.request.as_ref().map(|r| r.headers.len()), Some(2));
        assert_eq!(s.txns_on_conn(7).map(|t| t.id).collect::<Vec<_>>(), [0, 1]);
    }

    struct Full;
    impl super::super::spool::Backend for Full {
        fn write_all_at(&mut self, _: &[u8], _: u64) -> std::io::Result<()> {
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device",
            ))
        }
        fn read_exact_at(&self, _: &mut [u8], _: u64) -> std::io::Result<()> {
            Err(std::io::ErrorKind::UnexpectedEof.into())
        }
    }

    #[test]
    fn a_spool_that_cannot_be_written_keeps_the_rows_and_says_why() {
        let mut s = Store::with_spool(10, DetailSpool::with_backend(Box::new(Full), 0));
        for i in 0..5 {
            s.push(Record::Transaction(txn(i, Some("POST"), Some(b"h"))));
        }
        assert_eq!(s.txns.len(), 5);
        assert!(s.txn_full(0).is_ok(), "the first is still in the buffer");
        let e = s.txn_full(4).err().unwrap_or_default();
        assert!(e.contains("No space left on device"), "{e}");
        assert!(s.spool.error.is_some());
        assert_eq!(s.txns.get(4).and_then(|t| t.method()), Some("POST"));
    }

    /// A long run drops rows; the spool is rewritten with the kept rows' records only, and
    /// they all read back.
    #[test]
    fn the_spool_keeps_to_the_rows_kept() {
        let mut s = Store::new(10);
        s.set_spool_compact_min(4096);
        for i in 0..2000 {
            s.push(Record::Transaction(txn(i, Some("GET"), Some(b"h"))));
            assert!(
                s.spool.bytes <= (2 * s.live_bytes).max(4096) + 4096,
                "{} {}",
                s.spool.bytes,
                s.live_bytes
            );
        }
        assert_eq!(s.txns.len(), 10);
        for (row, r) in s.txns.iter() {
            let full = s.txn_full(row).unwrap();
            assert_eq!(full.rec.id, r.id);
        }
    }
}
