//! WebSocket over HTTP/2 (RFC 8441): a stream opened by an extended CONNECT
//! (`:method: CONNECT`, `:protocol: websocket`, `:scheme`, `:path`, `:authority`) and answered
//! 2xx carries a WebSocket in its DATA frames, both ways: RFC 6455 frames with no HTTP/1.1
//! handshake (no key, no accept; `sec-websocket-version`, `-protocol` and `-extensions` in the
//! two header blocks say what was agreed, permessage-deflate included).
//!
//! [`Watch`] sees the follower's events after the transactions' [`Tracker`] and runs one
//! [`WsConn`] per such stream, fed the stream's DATA payload bytes of each direction, gaps
//! included; END_STREAM both ways, RST_STREAM or the connection's end ends it. The WebSocket
//! counts offsets in its own bytes; [`Marks`] turn them back into offsets of the HTTP/2 stream
//! (where each payload piece sat), so its messages and findings point at the bytes on the wire.
//!
//! Why here and not a switch of the stack: the stack switches a whole byte stream to the next
//! protocol; an HTTP/2 stream is one of many multiplexed on the connection, which stays
//! HTTP/2, so its WebSocket lives beside the streams, as their bodies do.
//!
//! Checks (findings on the stream's transaction): `:protocol` on a request that is not a
//! CONNECT, an extended CONNECT without `:scheme`/`:path`/`:authority`, one sent when the
//! server's SETTINGS did not carry SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (checked once the
//! server's first SETTINGS is in: whatever the order of capture, it comes before the server's
//! answer), and an answer other than 2xx (or a reset before any answer).
//!
//! Bounds: requests awaiting their answer at most [`MAX_OPEN`] (the open streams' bound), at
//! most [`MAX_WEBSOCKETS`] WebSockets at once (`h2.websocket-limit` for the rest), at most
//! [`MAX_MARKS`] marks per direction of a WebSocket (the marks before what a record can still
//! name are dropped as it goes). The header fields are read from the stream's transaction
//! record, nothing is copied (so a stream the tracker does not follow, beyond its bound, is
//! not checked). All of it is in [`Ws::heap_bytes`]; [`Ws::shed`] gives up the inflaters.

use std::collections::{BTreeMap, VecDeque};

use super::event::{BlockStart, Events};
use super::fields::error_name;
use super::frame::{DATA, FrameInfo, HEADERS, PADDED};
use super::txn::{MAX_OPEN, Streams, Tracker};
use super::{H2Summary, bounded};
use crate::analyzers::websocket::{WsConn, WsShared};
use crate::base::heap;
use crate::engine::Ctx;
use crate::model::codes::{self, Code};
use crate::model::http::{Headers, TransactionRecord};
use crate::model::{Dir, Finding, Record, RecordSink};

/// WebSockets analysed at once on one connection.
pub const MAX_WEBSOCKETS: usize = 64;
/// Marks kept per direction of a WebSocket.
pub const MAX_MARKS: usize = 1024;
/// Extended CONNECTs whose SETTINGS check waits for the server's SETTINGS.
const MAX_UNCHECKED: usize = 64;

/// A piece of a direction's WebSocket bytes: `len` bytes from WebSocket offset `ws` sat at
/// stream offset `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mark {
    ws: u64,
    at: u64,
    len: u64,
}

/// Where a direction's WebSocket bytes sat in the HTTP/2 stream, in order.
#[derive(Debug, Default)]
struct Marks(VecDeque<Mark>);

impl Marks {
    fn push(&mut self, ws: u64, at: u64, len: u64) {
        if let Some(m) = self.0.back_mut()
            && m.ws + m.len == ws
            && m.at + m.len == at
        {
            m.len += len;
            return;
        }
        if self.0.len() >= MAX_MARKS {
            // Every other one goes: an offset then points at the start of an earlier piece.
            let mut i = 0;
            self.0.retain(|_| {
                i += 1;
                i % 2 == 1
            });
        }
        self.0.push_back(Mark { ws, at, len });
    }

    /// Drops the marks no offset from `from` on needs.
    fn prune(&mut self, from: u64) {
        while self.0.get(1).is_some_and(|m| m.ws <= from) {
            self.0.pop_front();
        }
    }

    /// The stream offset of WebSocket offset `ws`.
    fn at(&self, ws: u64) -> u64 {
        let i = self.0.partition_point(|m| m.ws <= ws);
        match i.checked_sub(1).and_then(|i| self.0.get(i)) {
            Some(m) if ws - m.ws <= m.len => m.at + (ws - m.ws),
            Some(m) => m.at,
            None => self.0.front().map_or(ws, |m| m.at),
        }
    }
}

/// A sink that gives a WebSocket's records the stream offsets of its bytes.
struct Mapped<'a> {
    out: &'a mut dyn RecordSink,
    marks: &'a [Marks; 2],
}

impl RecordSink for Mapped<'_> {
    fn record(&mut self, mut r: Record) {
        match &mut r {
            Record::Finding(f) => {
                if let (Some(d), Some(o)) = (f.direction, f.stream_offset) {
                    f.stream_offset = Some(self.marks[d.index()].at(o));
                }
            }
            Record::WsMessage(m) => {
                let d = usize::from(m.direction != crate::model::websocket::Side::Client);
                m.stream_offset = self.marks[d].at(m.stream_offset);
                for f in m.frame_list.iter_mut().flatten() {
                    f.stream_offset = self.marks[d].at(f.stream_offset);
                }
            }
            _ => {}
        }
        self.out.record(r);
    }
}

/// One WebSocket on a stream.
struct Tunnel {
    ws: Box<WsConn>,
    marks: [Marks; 2],
    /// WebSocket bytes fed (and lost) per direction.
    fed: [u64; 2],
    /// END_STREAM from the client, the server.
    ended: [bool; 2],
}

impl Tunnel {
    fn heap_bytes(&self) -> usize {
        size_of::<Self>()
            + self.ws.heap_bytes()
            + self.marks.iter().map(|m| heap::deque(&m.0)).sum::<usize>()
    }
}

/// An extended CONNECT awaiting its answer.
struct Request {
    /// Its `:protocol`, lower case.
    protocol: String,
    txn: Option<u64>,
    /// Stream offset of its HEADERS frame.
    at: u64,
}

/// An extended CONNECT whose SETTINGS_ENABLE_CONNECT_PROTOCOL check waits for the server's
/// SETTINGS.
#[derive(Clone, Copy)]
struct Unchecked {
    stream: u32,
    txn: Option<u64>,
    at: u64,
}

/// The RFC 8441 WebSockets of one HTTP/2 connection.
#[derive(Default)]
pub struct Ws {
    requests: BTreeMap<u32, Request>,
    tunnels: BTreeMap<u32, Tunnel>,
    /// The stream of each direction's header block being read (not a PUSH_PROMISE's).
    block: [Option<u32>; 2],
    /// Stream offset of each direction's next DATA content byte, and of its last HEADERS.
    cursor: [u64; 2],
    headers_at: [u64; 2],
    /// Stream offset of each direction's last frame.
    frame_at: [u64; 2],
    /// The stream whose header block being read carries END_STREAM, per direction.
    ending: [Option<u32>; 2],
    unchecked: Vec<Unchecked>,
    /// WebSockets not analysed because [`MAX_WEBSOCKETS`] were open.
    pub untracked: u64,
}

/// A finding at direction `d`, stream offset `at`, on transaction `rec` (its id, or `txn`
/// when it was already reported), its code named on the record.
#[allow(clippy::too_many_arguments)]
fn raise(
    out: &mut dyn RecordSink,
    ctx: &Ctx,
    rec: Option<&mut TransactionRecord>,
    txn: Option<u64>,
    d: usize,
    at: u64,
    code: &'static Code,
    msg: String,
) {
    let mut f = Finding::new(code, msg)
        .conn(ctx.conn)
        .at(ctx.packet, ctx.ts)
        .dir(Dir::from_index(d), at);
    let id = rec.as_ref().map(|r| r.id).or(txn);
    if let Some(id) = id {
        f = f.txn(id);
    }
    if let Some(r) = rec
        && !r.findings.contains(&code.name)
    {
        r.findings.push(code.name);
    }
    out.record(Record::Finding(Box::new(f)));
}

/// What a refused extended CONNECT's status suggests.
fn refusal_hint(status: u16) -> &'static str {
    match status {
        400 | 405 | 501 => {
            "the server, or the application behind it, does not take a CONNECT for a WebSocket \
             (an application that only accepts GET with Upgrade answers 405)"
        }
        403 => "an Origin or authorization check refused it",
        404 => "nothing serves that path",
        421 => "the connection is not authoritative for that :authority",
        426 => "the server wants another protocol (HTTP/1.1)",
        500..=599 => "the server or a gateway failed",
        _ => "the WebSocket did not open",
    }
}

impl Ws {
    /// Heap bytes held: the requests awaiting an answer, the WebSockets, the blocks being kept.
    pub fn heap_bytes(&self) -> usize {
        let req = |r: &Request| size_of::<Request>() + 32 + heap::string(&r.protocol);
        self.requests.values().map(req).sum::<usize>()
            + self
                .tunnels
                .values()
                .map(|t| 32 + t.heap_bytes())
                .sum::<usize>()
            + heap::vec(&self.unchecked)
    }

    /// Gives up the WebSockets' inflaters.
    pub fn shed(&mut self) -> Vec<String> {
        self.tunnels
            .values_mut()
            .flat_map(|t| t.ws.shed_inflaters())
            .collect()
    }

    /// The SETTINGS_ENABLE_CONNECT_PROTOCOL checks that waited for the server's SETTINGS,
    /// now that the follower has read what was delivered (`sum`); `last` at the connection's
    /// end (checks still waiting are dropped: the server's SETTINGS were not captured).
    pub fn settle(
        &mut self,
        sum: &H2Summary,
        streams: &mut Streams,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        last: bool,
    ) {
        if self.unchecked.is_empty() {
            return;
        }
        let seen = sum.frames[1].get("SETTINGS").is_some_and(|&n| n > 0);
        if !seen {
            if last {
                self.unchecked.clear();
            }
            return;
        }
        // The server's latest word on it (a later SETTINGS may enable it).
        let enabled = sum.connect_protocol[1] == Some(1);
        let value = sum.connect_protocol[1]
            .map_or("did not carry it".to_string(), |v| format!("set it to {v}"));
        for u in std::mem::take(&mut self.unchecked) {
            if enabled {
                continue;
            }
            raise(
                out,
                ctx,
                streams.record_mut(u.stream),
                u.txn,
                0,
                u.at,
                &codes::H2_CONNECT_PROTOCOL_NOT_ENABLED,
                format!(
                    "stream {}: an extended CONNECT (:protocol), but the server's SETTINGS {value} \
                     (SETTINGS_ENABLE_CONNECT_PROTOCOL, id 8; RFC 8441 §3: a client must not send \
                     one before the server sent 1): enable RFC 8441 on the server, or open the \
                     WebSocket with an HTTP/1.1 upgrade (nginx does not speak RFC 8441)",
                    u.stream
                ),
            );
        }
    }

    /// The connection ended: every WebSocket still open ends.
    pub fn close(&mut self, sh: &WsShared, ctx: &Ctx, out: &mut dyn RecordSink) {
        for (_, mut t) in std::mem::take(&mut self.tunnels) {
            let mut m = Mapped {
                out,
                marks: &t.marks,
            };
            t.ws.end(sh, ctx, &mut m);
        }
        self.requests.clear();
    }
}

/// The follower's events for the transactions' [`Tracker`] first, then for the WebSockets.
/// Every [`Events`] method is forwarded to the tracker here.
pub struct Watch<'a, 'b> {
    pub t: Tracker<'a>,
    pub ws: &'b mut Ws,
    pub sh: &'b mut WsShared,
}

impl Watch<'_, '_> {
    /// A client's header block on `stream` ended, decoded: when it was the request of an
    /// extended CONNECT, it is checked and awaits its answer.
    fn request(&mut self, stream: u32) {
        let at = self.ws.headers_at[0];
        let (out, ctx) = (&mut *self.t.out, self.t.ctx);
        let Some(rec) = self.t.s.record_mut(stream) else {
            return;
        };
        let txn = Some(rec.id);
        // The request's own block, not its trailers.
        let Some(q) = rec.request.as_ref().filter(|q| q.at.stream_offset == at) else {
            return;
        };
        let f = &q.headers;
        let Some(protocol) = f.get(":protocol").map(bounded) else {
            return;
        };
        let method = f.get(":method").map(bounded).unwrap_or_default();
        let missing: Vec<&str> = [":scheme", ":path", ":authority"]
            .into_iter()
            .filter(|n| f.get(n).is_none())
            .collect();
        if method != "CONNECT" {
            raise(
                out,
                ctx,
                Some(rec),
                txn,
                0,
                at,
                &codes::H2_PROTOCOL_WITHOUT_CONNECT,
                format!(
                    "stream {stream}: :protocol {protocol:?} on a {method:?} request (RFC 8441 §4: \
                     only an extended CONNECT carries :protocol; the request is malformed, RFC \
                     9113 §8.1.1, and is reset with PROTOCOL_ERROR)"
                ),
            );
            return;
        }
        if !missing.is_empty() {
            raise(
                out,
                ctx,
                Some(rec),
                txn,
                0,
                at,
                &codes::H2_EXTENDED_CONNECT_MALFORMED,
                format!(
                    "stream {stream}: an extended CONNECT (:protocol {protocol:?}) without {} \
                     (RFC 8441 §4: :scheme and :path are required with :protocol; RFC 9113 \
                     §8.5: :authority); the server treats it as malformed",
                    missing.join(", ")
                ),
            );
        }
        if self.ws.unchecked.len() < MAX_UNCHECKED {
            self.ws.unchecked.push(Unchecked { stream, txn, at });
        }
        if self.ws.requests.len() < MAX_OPEN {
            let protocol = protocol.to_ascii_lowercase();
            let r = Request { protocol, txn, at };
            self.ws.requests.insert(stream, r);
        }
    }

    /// The server's header block on `stream`, whose extended CONNECT awaits its answer, ended
    /// decoded: a final answer opens the WebSocket or refuses it.
    fn response(&mut self, stream: u32) {
        let at = self.ws.headers_at[1];
        let ctx = self.t.ctx;
        // The stream closed with this block (both sides ended): nothing can follow.
        let Some(rec) = self.t.s.record_mut(stream) else {
            self.ws.requests.remove(&stream);
            return;
        };
        // An interim answer leaves the request waiting.
        let Some(status) = rec.response.as_ref().map(|r| r.status) else {
            return;
        };
        let Some(req) = self.ws.requests.remove(&stream) else {
            return;
        };
        let protocol = req.protocol;
        if !(200..300).contains(&status) {
            let s = match status {
                0 => "with no valid :status".to_string(),
                s => s.to_string(),
            };
            let hint = refusal_hint(status);
            raise(
                self.t.out,
                ctx,
                Some(rec),
                req.txn,
                1,
                at,
                &codes::H2_EXTENDED_CONNECT_REFUSED,
                format!(
                    "stream {stream}: the extended CONNECT for {protocol:?} was answered {s}, not \
                     2xx (RFC 8441 §5): {hint}"
                ),
            );
            return;
        }
        let txn = self.t.s.switched(stream, &protocol).or(req.txn);
        self.t.sh.stats.upgrades += 1;
        if protocol != "websocket" {
            return;
        }
        if self.ws.tunnels.len() >= MAX_WEBSOCKETS {
            self.ws.untracked += 1;
            if self.ws.untracked == 1 {
                raise(
                    self.t.out,
                    ctx,
                    self.t.s.record_mut(stream),
                    txn,
                    1,
                    at,
                    &codes::H2_WEBSOCKET_LIMIT,
                    format!(
                        "stream {stream}: more than {MAX_WEBSOCKETS} WebSockets open at once on \
                         this connection; its frames and those of further ones are not analysed"
                    ),
                );
            }
            return;
        }
        // Until the first DATA, offsets 0 are the two header blocks.
        let mut marks: [Marks; 2] = Default::default();
        marks[0].push(0, req.at, 0);
        marks[1].push(0, at, 0);
        let empty = Headers::default();
        let rec = self.t.s.record_mut(stream);
        let q = rec.as_ref().and_then(|r| r.request.as_ref());
        let p = rec.as_ref().and_then(|r| r.response.as_ref());
        let mut m = Mapped {
            out: &mut *self.t.out,
            marks: &marks,
        };
        let ws = WsConn::after_extended_connect(
            self.sh,
            ctx,
            &mut m,
            q.map_or(&empty, |q| &q.headers),
            p.map_or(&empty, |p| &p.headers),
            txn,
            stream,
        );
        let t = Tunnel {
            ws: Box::new(ws),
            marks,
            fed: [0, 0],
            ended: [false, false],
        };
        self.ws.tunnels.insert(stream, t);
    }

    /// END_STREAM from direction `d` on `stream`: the WebSocket ends once both sides ended.
    fn end_side(&mut self, d: usize, stream: u32) {
        let done = self.ws.tunnels.get_mut(&stream).is_some_and(|t| {
            t.ended[d] = true;
            t.ended[0] && t.ended[1]
        });
        if done {
            self.finish(stream);
        }
    }

    /// The WebSocket on `stream` ends.
    fn finish(&mut self, stream: u32) {
        if let Some(mut t) = self.ws.tunnels.remove(&stream) {
            let mut m = Mapped {
                out: &mut *self.t.out,
                marks: &t.marks,
            };
            t.ws.end(self.sh, self.t.ctx, &mut m);
        }
    }

    /// `n` bytes of the WebSocket on `stream` in direction `d`: `bytes`, or lost ones.
    fn piece(&mut self, d: usize, stream: u32, bytes: Option<&[u8]>, n: u64) {
        let at = self.ws.cursor[d];
        self.ws.cursor[d] = at.saturating_add(n);
        let Some(t) = self.ws.tunnels.get_mut(&stream) else {
            return;
        };
        t.marks[d].push(t.fed[d], at, n);
        t.fed[d] = t.fed[d].saturating_add(n);
        let mut m = Mapped {
            out: &mut *self.t.out,
            marks: &t.marks,
        };
        match bytes {
            Some(b) => t.ws.feed(self.sh, self.t.ctx, d, b, &mut m),
            None => t.ws.lose(self.t.ctx, d, n, &mut m),
        }
        let from = t.ws.held_from(d);
        t.marks[d].prune(from);
    }
}

impl Events for Watch<'_, '_> {
    fn frame(&mut self, d: usize, h: &FrameInfo) {
        self.t.frame(d, h);
        let d = d.min(1);
        let at = self.t.base[d] + h.offset;
        self.ws.frame_at[d] = at;
        match h.frame_type {
            DATA => self.ws.cursor[d] = at + 9 + u64::from(h.flags & PADDED != 0),
            HEADERS => self.ws.headers_at[d] = at,
            _ => {}
        }
    }

    fn block_start(&mut self, d: usize, b: &BlockStart) {
        self.t.block_start(d, b);
        let d = d.min(1);
        let own = b.promised.is_none().then_some(b.stream);
        self.ws.block[d] = own;
        self.ws.ending[d] = own.filter(|_| b.end_stream);
    }

    fn field(&mut self, d: usize, name: &[u8], value: &[u8]) {
        self.t.field(d, name, value);
    }

    fn block_end(&mut self, d: usize, decoded: bool) {
        self.t.block_end(d, decoded);
        let d = d.min(1);
        if let Some(stream) = self.ws.block[d].take() {
            let waiting = self.ws.requests.contains_key(&stream);
            if d == 0 && decoded {
                self.request(stream);
            } else if d == 1 && waiting && decoded {
                self.response(stream);
            } else if d == 1 && waiting {
                // The answer is unknown: the request waits no longer.
                self.ws.requests.remove(&stream);
            }
        }
        // END_STREAM on a header block (a 2xx that ends at once, trailers) ends that side.
        if let Some(stream) = self.ws.ending[d].take() {
            self.end_side(d, stream);
        }
    }

    fn data(&mut self, d: usize, stream: u32, bytes: &[u8]) {
        self.t.data(d, stream, bytes);
        self.piece(d.min(1), stream, Some(bytes), bytes.len() as u64);
    }

    fn data_lost(&mut self, d: usize, stream: u32, n: u64) {
        self.t.data_lost(d, stream, n);
        self.piece(d.min(1), stream, None, n);
    }

    fn data_end(&mut self, d: usize, stream: u32, wire: u64, end_stream: bool) {
        self.t.data_end(d, stream, wire, end_stream);
        if end_stream {
            self.end_side(d.min(1), stream);
        }
    }

    fn reset(&mut self, d: usize, stream: u32, code: u32) {
        // Before the tracker reports the transaction, so the finding is named on it.
        if let Some(req) = self.ws.requests.remove(&stream) {
            let protocol = req.protocol;
            let (by, name) = (["client", "server"][d.min(1)], error_name(code));
            let at = self.ws.frame_at[d.min(1)];
            let ctx = self.t.ctx;
            raise(
                self.t.out,
                ctx,
                self.t.s.record_mut(stream),
                req.txn,
                d.min(1),
                at,
                &codes::H2_EXTENDED_CONNECT_REFUSED,
                format!(
                    "stream {stream}: the extended CONNECT for {protocol:?} was reset by the \
                     {by} ({name}) before any answer (RFC 8441 §5): the WebSocket did not open; \
                     a server that does not know RFC 8441 resets it as malformed"
                ),
            );
        }
        self.t.reset(d, stream, code);
        self.finish(stream);
    }

    fn goaway(&mut self, d: usize, last_stream: u32, code: u32) {
        self.t.goaway(d, last_stream, code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_map_offsets_and_stay_bounded() {
        let mut m = Marks::default();
        // Pieces of 10 bytes, each after a 9-byte DATA header: WebSocket offset 10 i sits at
        // stream offset 19 i + 9.
        for i in 0..3000u64 {
            m.push(10 * i, 19 * i + 9, 10);
        }
        assert!(m.0.len() <= MAX_MARKS);
        // The last pieces are all kept: exact there.
        assert_eq!(m.at(10 * 2999 + 4), 19 * 2999 + 9 + 4);
        // Where every other mark went, an offset points at the start of an earlier piece.
        let x = 10 * 5 + 3;
        assert!(m.at(x) <= 19 * 5 + 9 + 3);
        // Contiguous pieces merge; pruning keeps what an offset from `from` on needs.
        let mut m = Marks::default();
        m.push(0, 100, 5);
        m.push(5, 105, 5);
        m.push(10, 200, 5);
        assert_eq!(m.0.len(), 2);
        assert_eq!((m.at(7), m.at(12), m.at(15)), (107, 202, 205));
        m.prune(12);
        assert_eq!(m.0.len(), 1);
        assert_eq!(m.at(12), 202);
        // Before every mark: the first one's place.
        assert_eq!(m.at(0), 200);
    }
}
