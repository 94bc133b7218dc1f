//! HTTP/2 streams as transactions (RFC 9113 §8): the same [`TransactionRecord`] HTTP/1.x
//! makes, built from the frame follower's [`Events`].
//!
//! A stream's first header block is its request (the client's HEADERS, or a server's
//! PUSH_PROMISE for a pushed stream); the server's blocks are 1xx interim responses, then the
//! final response, then trailers; a client block after the request is its trailers. DATA
//! payloads (padding already left out by the follower) are the bodies, decoded by
//! `Content-Encoding` through the same [`Content`] HTTP/1.x bodies go through. A stream is
//! reported when it closes — END_STREAM both ways, or RST_STREAM — and the streams still open
//! when the connection ends then, by id; so transactions come in the order they complete.
//!
//! Bounds: at most [`MAX_OPEN`] streams followed at once (further ones are counted,
//! `h2.open-stream-limit`); a header block keeps at most the HTTP/1 head's limits of fields and
//! bytes (`http.too-many-fields` for the rest); bodies decode at most `--max-decoded` bytes;
//! the ids listed in the `http2[]` record at most [`MAX_IDS`]. Everything held is in
//! [`Streams::heap_bytes`], and [`Streams::shed`] gives the content decoders up.

use std::collections::BTreeMap;

use super::event::{BlockStart, Events};
use super::fields::{
    BlockKind, block_rules, body_record, classify, content_length, error_name, pseudo, status_code,
};
use super::frame::{CONTINUATION, FrameInfo, HEADERS, PUSH_PROMISE};
use crate::analyzers::http::conn::Shared;
use crate::analyzers::http::content::byteranges::MultipartScanner;
use crate::analyzers::http::decoded::{Content, Found};
use crate::analyzers::http::message::codings_of;
use crate::base::{Timestamp, heap};
use crate::engine::Ctx;
use crate::model::codes::{self, Code};
use crate::model::http::{
    BodyState, Headers, InterimRecord, MessageStart, PromiseRecord, RequestRecord, ResetRecord,
    ResponseRecord, Timing, TransactionRecord, TxnState, target_form, wire_text,
};
use crate::model::{Dir, Finding, Record, RecordSink};

/// Streams followed at once on one connection.
pub const MAX_OPEN: usize = 256;
/// Transaction ids listed in the connection's `http2[]` record.
pub const MAX_IDS: usize = super::MAX_STREAMS;

/// Where and when a message began: the packet that completed its first frame's header, and
/// the frame's stream offset.
#[derive(Clone, Copy, Debug)]
struct Mark {
    ts: Timestamp,
    packet: u64,
    offset: u64,
}

/// A body arriving in DATA frames.
struct Body {
    content: Content,
    /// DATA frames' bytes on the wire (headers and padding included).
    wire: u64,
    /// Content bytes, lost ones included.
    length: u64,
    missing: u64,
}

/// One stream being followed.
struct Stream {
    rec: Box<TransactionRecord>,
    /// Bodies in progress: request, response.
    bodies: [Option<Box<Body>>; 2],
    /// END_STREAM seen from the client, the server.
    ended: [bool; 2],
    /// The request's header block came (decoded or not).
    request_seen: bool,
    /// The final (non-1xx) response's header block came.
    final_response: bool,
    /// A server's stream (PUSH_PROMISE).
    pushed: bool,
    /// The server answered in full, then reset the stream with NO_ERROR to stop the request
    /// (RFC 9113 §8.1): the client's DATA already in flight still comes, and ends the stream.
    stop_sending: bool,
}

/// A header block being decoded, field by field.
struct Collect {
    start: BlockStart,
    mark: Mark,
    /// Bytes of the frames that carried it.
    wire: u64,
    fields: Headers,
    bytes: usize,
    dropped: usize,
}

/// The streams of one HTTP/2 connection.
pub struct Streams {
    open: BTreeMap<u32, Stream>,
    collect: [Option<Collect>; 2],
    /// Each direction's current header block's first frame, and its frames' bytes so far.
    block_mark: [Option<(Mark, u64)>; 2],
    /// Stream offset of each direction's last frame.
    frame_at: [u64; 2],
    next_index: u32,
    secure: bool,
    /// The last stream id of each direction's GOAWAY.
    goaway: [Option<u32>; 2],
    /// The highest stream id each side opened (client, server).
    highest: [u32; 2],
    /// Streams not followed because [`MAX_OPEN`] were open.
    pub untracked: u64,
    /// The connection is counted in the HTTP stats.
    counted: bool,
    /// Transaction ids made here, in order of their streams' first header block.
    pub ids: Vec<u64>,
}

impl Streams {
    /// Streams of a connection whose first transaction has `index` (inside a tunnel the
    /// connection's count goes on), `secure` when it is decrypted TLS.
    pub fn new(index: u32, secure: bool) -> Self {
        Streams {
            open: BTreeMap::new(),
            collect: [None, None],
            block_mark: [None, None],
            frame_at: [0, 0],
            next_index: index,
            secure,
            goaway: [None, None],
            highest: [0, 0],
            untracked: 0,
            counted: false,
            ids: Vec::new(),
        }
    }

    /// After `Upgrade: h2c`: stream 1 is the HTTP/1.1 request `request`, already sent whole
    /// (RFC 9113 §3.2), as transaction `id`; `upgrade` is the transaction of the `101`.
    pub fn upgraded(
        &mut self,
        ctx: &Ctx,
        id: u64,
        upgrade: u64,
        request: Option<RequestRecord>,
        timing: Timing,
    ) {
        let seen = request.is_some();
        let mut st = self.stream(ctx, id, 1);
        st.rec.h2c_upgrade = Some(upgrade);
        st.rec.request = request;
        st.rec.timing = timing;
        st.ended[0] = true;
        st.request_seen = seen;
        self.highest[0] = 1;
        // HTTP/1 counted the connection.
        self.counted = true;
        self.open.insert(1, st);
    }

    fn stream(&mut self, ctx: &Ctx, id: u64, stream_id: u32) -> Stream {
        let index = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        if self.ids.len() < MAX_IDS {
            self.ids.push(id);
        }
        Stream {
            rec: Box::new(TransactionRecord {
                stream_id: Some(stream_id),
                ..TransactionRecord::new(id, ctx.conn, index, self.secure, ctx.client, ctx.server)
            }),
            bodies: [None, None],
            ended: [false, false],
            request_seen: false,
            final_response: false,
            pushed: false,
            stop_sending: false,
        }
    }

    /// Heap bytes held: the open streams' records and bodies in progress, the header blocks
    /// being decoded, the ids.
    pub fn heap_bytes(&self) -> usize {
        let body = |b: &Option<Box<Body>>| {
            b.as_ref()
                .map_or(0, |b| size_of::<Body>() + b.content.heap_bytes())
        };
        let stream = |s: &Stream| {
            size_of::<Stream>()
                + 32
                + size_of::<TransactionRecord>()
                + s.rec.heap_bytes()
                + s.bodies.iter().map(body).sum::<usize>()
        };
        self.open.values().map(stream).sum::<usize>()
            + self
                .collect
                .iter()
                .flatten()
                .map(|c| c.fields.heap_bytes())
                .sum::<usize>()
            + heap::vec(&self.ids)
    }

    /// Gives up the content decoders of the bodies in progress: one line each.
    pub fn shed(&mut self) -> Vec<String> {
        let mut what = Vec::new();
        for (id, s) in &mut self.open {
            for (d, b) in s.bodies.iter_mut().enumerate() {
                if let Some((freed, codings)) = b.as_mut().and_then(|b| b.content.shed()) {
                    let which = if d == 0 { "request" } else { "response" };
                    what.push(format!(
                        "the {codings} decoder of an HTTP/2 {which} body in progress on stream \
                         {id} ({freed} bytes; the body is not decoded further, its decoding is \
                         \"shed\")"
                    ));
                }
            }
        }
        what
    }

    /// The connection ended: every stream still open is reported, by id.
    pub fn close(&mut self, sh: &mut Shared, ctx: &Ctx, base: [u64; 2], out: &mut dyn RecordSink) {
        let open = std::mem::take(&mut self.open);
        let mut t = Tracker {
            s: self,
            sh,
            ctx,
            base,
            out,
        };
        for (id, mut st) in open {
            for d in 0..2 {
                t.finish_body(&mut st, d, BodyState::Incomplete);
            }
            // GOAWAY from the other side than the one that opened the stream.
            let opener = usize::from(st.pushed);
            let above = t.s.goaway[1 - opener].is_some_and(|last| id > last);
            t.emit(st, above);
        }
    }
}

/// The follower's events for one delivery, with what records need: the shared HTTP state
/// (ids, configuration, counters), the delivery, each direction's base offset, the sink.
pub struct Tracker<'a> {
    pub s: &'a mut Streams,
    pub sh: &'a mut Shared,
    pub ctx: &'a Ctx,
    pub base: [u64; 2],
    pub out: &'a mut dyn RecordSink,
}

impl Tracker<'_> {
    fn finding(&mut self, st: &mut Stream, d: usize, offset: u64, code: &'static Code, m: String) {
        let f = Finding::new(code, m)
            .conn(self.ctx.conn)
            .at(self.ctx.packet, self.ctx.ts)
            .dir(Dir::from_index(d), offset)
            .txn(st.rec.id);
        if !st.rec.findings.contains(&code.name) {
            st.rec.findings.push(code.name);
        }
        self.out.record(Record::Finding(Box::new(f)));
    }

    /// A new stream, or `None` when [`MAX_OPEN`] are open already.
    fn open(&mut self, d: usize, stream_id: u32) -> Option<Stream> {
        if self.s.open.len() >= MAX_OPEN {
            self.s.untracked += 1;
            if self.s.untracked == 1 {
                let f = Finding::new(
                    &codes::H2_OPEN_STREAM_LIMIT,
                    format!(
                        "stream {stream_id}: more than {MAX_OPEN} streams open at once; it and \
                         further ones are not reported as transactions until fewer are open"
                    ),
                )
                .conn(self.ctx.conn)
                .at(self.ctx.packet, self.ctx.ts)
                .dir(Dir::from_index(d), self.offset(d));
                self.out.record(Record::Finding(Box::new(f)));
            }
            return None;
        }
        if !std::mem::replace(&mut self.s.counted, true) {
            self.sh.stats.connections += 1;
        }
        let id = self.sh.next_txn_id();
        Some(self.s.stream(self.ctx, id, stream_id))
    }

    /// The current block's first frame offset in direction `d`, else the delivery's.
    fn offset(&self, d: usize) -> u64 {
        self.s.block_mark[d.min(1)].map_or(self.base[d.min(1)], |(m, _)| m.offset)
    }

    /// A header block ended: the request, an interim or final response, or trailers.
    fn block(&mut self, d: usize, c: Collect, decoded: bool) {
        let fields = classify(&c.fields);
        let start = c.start;
        let id = start.promised.unwrap_or(start.stream);
        let at = MessageStart {
            packet: c.mark.packet,
            stream_offset: c.mark.offset,
            head_bytes: c.wire,
        };
        let mut st = match self.s.open.remove(&id) {
            Some(st) if start.promised.is_some() => {
                // A promise of a stream already open: not a new request.
                self.s.open.insert(id, st);
                return;
            }
            Some(st) => st,
            None => {
                // A new stream: a client's request, a promised one; or a response whose
                // request was not followed (a stream beyond the limit, or one already
                // reported), ignored, unless the client's side lost it.
                let opener = if d == 1 && start.promised.is_none() {
                    0
                } else {
                    d
                };
                if opener != d && id <= self.s.highest[opener] {
                    return;
                }
                self.s.highest[opener] = self.s.highest[opener].max(id);
                let Some(mut st) = self.open(d, id) else {
                    return;
                };
                st.pushed = start.promised.is_some();
                if start.promised.is_some() {
                    st.rec.promised_by = Some(PromiseRecord {
                        stream_id: start.stream,
                        transaction: self.s.open.get(&start.stream).map(|s| s.rec.id),
                    });
                }
                st
            }
        };
        let ts = c.mark.ts;
        if c.dropped > 0 {
            let who = if d == 0 { "request" } else { "response" };
            let dropped = c.dropped;
            self.finding(
                &mut st,
                d,
                c.mark.offset,
                &codes::HTTP_TOO_MANY_FIELDS,
                format!(
                    "the {who} header block on stream {id} has more fields than hopscope keeps; \
                     {dropped} were not recorded"
                ),
            );
        }
        let requesting = d == 0 || start.promised.is_some();
        let kind = if requesting && !st.request_seen {
            BlockKind::Request
        } else if d == 1 && !st.final_response {
            BlockKind::Response
        } else {
            BlockKind::Trailers
        };
        if decoded {
            for (code, m) in block_rules(&c.fields, kind, c.dropped == 0) {
                self.finding(&mut st, d, c.mark.offset, code, format!("stream {id}: {m}"));
            }
        }
        if requesting && !st.request_seen {
            st.request_seen = true;
            self.sh.stats.requests += 1;
            st.rec.timing.request_start = Some(ts);
            // A promised request is complete: it has no body (RFC 9113 §8.4.1).
            let promised = start.promised.is_some();
            let ended = start.end_stream || promised;
            if decoded {
                st.rec.request = Some(self.request(&fields, at, ended));
                st.bodies[0] = self.body(&fields, ended);
            }
            if promised {
                st.ended[0] = true;
                st.rec.timing.request_end = Some(ts);
            }
        } else if d == 1 && !st.final_response {
            let status = pseudo(&fields, b":status");
            let code = status.and_then(status_code);
            if decoded && code.is_some_and(|s| (100..200).contains(&s)) {
                self.sh.stats.interim_responses += 1;
                st.rec.interim.push(InterimRecord {
                    status: code.unwrap_or(0),
                    reason: String::new(),
                    headers: fields,
                    ts,
                    at,
                });
            } else {
                self.sh.stats.responses += 1;
                st.final_response = true;
                st.rec.timing.response_start = Some(ts);
                st.bodies[1] = self.body(&fields, start.end_stream);
                // A 206's multipart/byteranges parts are found as the body streams by, as in
                // HTTP/1.x (the semantics step reads them).
                if code == Some(206)
                    && let Some(b) = st.bodies[1].as_deref_mut()
                    && let Some(ct) = fields.get("content-type")
                {
                    b.content.byteranges = MultipartScanner::for_content_type(ct).map(Box::new);
                }
                let status_raw = status
                    .filter(|_| code.is_none())
                    .map(|s| String::from_utf8_lossy(s).into_owned());
                let body = body_record(&fields, start.end_stream);
                st.rec.response = Some(ResponseRecord {
                    version: "HTTP/2".into(),
                    status: code.unwrap_or(0),
                    status_raw,
                    reason: String::new(),
                    reason_b64: None,
                    headers: if decoded { fields } else { Headers::default() },
                    body,
                    at,
                });
            }
        } else if decoded {
            // Trailers (RFC 9113 §8.1): after the request's or the final response's fields.
            let msg = if d == 0 {
                st.rec.request.as_mut().map(|r| &mut r.body)
            } else {
                st.rec.response.as_mut().map(|r| &mut r.body)
            };
            if let Some(b) = msg {
                b.trailers = fields;
            }
        }
        if start.end_stream && decoded && kind != BlockKind::Trailers {
            // A message without DATA: a Content-Length must say 0.
            self.check_length(&mut st, d, 0, c.mark.offset);
        }
        if start.end_stream {
            self.end_side(&mut st, d);
        }
        self.settle(id, st);
    }

    /// A complete message of direction `d` carried `got` DATA payload bytes: its
    /// `Content-Length`, if any, must say so (RFC 9113 §8.1.1), unless it answers a HEAD or is
    /// a 1xx, 204 or 304.
    fn check_length(&mut self, st: &mut Stream, d: usize, got: u64, offset: u64) {
        let (headers, what) = if d == 0 {
            let Some(r) = st.rec.request.as_ref() else {
                return;
            };
            (&r.headers, "request")
        } else {
            let Some(r) = st.rec.response.as_ref() else {
                return;
            };
            let head = st.rec.request.as_ref().is_some_and(|q| q.method == "HEAD");
            if head || matches!(r.status, 100..=199 | 204 | 304) {
                return;
            }
            (&r.headers, "response")
        };
        let Some(said) = content_length(headers) else {
            return;
        };
        if said != got {
            let id = st.rec.stream_id.unwrap_or(0);
            let m = format!(
                "stream {id}: the {what}'s Content-Length is {said} but its DATA frames carried \
                 {got} bytes (RFC 9113 §8.1.1)"
            );
            self.finding(st, d, offset, &codes::H2_CONTENT_LENGTH_MISMATCH, m);
        }
    }

    fn request(&self, f: &Headers, at: MessageStart, end_stream: bool) -> RequestRecord {
        let method = pseudo(f, b":method").unwrap_or_default();
        let connect = method == b"CONNECT" && pseudo(f, b":protocol").is_none();
        let target = if connect {
            pseudo(f, b":authority")
        } else {
            pseudo(f, b":path")
        }
        .unwrap_or_default();
        let (m, m64) = wire_text(method);
        let (tg, tg64) = wire_text(target);
        let form = target_form(method, target);
        let text = |v: Option<&[u8]>| v.map(|v| String::from_utf8_lossy(v).into_owned());
        RequestRecord {
            method: m,
            method_b64: m64,
            target: tg,
            target_b64: tg64,
            target_form: form,
            proxy_request: form == "absolute" || connect,
            version: "HTTP/2".into(),
            scheme: text(pseudo(f, b":scheme")),
            authority: text(pseudo(f, b":authority")),
            headers: f.clone(),
            body: body_record(f, end_stream),
            at,
        }
    }

    /// The body in progress of a message with fields `f`, unless END_STREAM ended it.
    fn body(&self, f: &Headers, end_stream: bool) -> Option<Box<Body>> {
        if end_stream {
            return None;
        }
        let values: Vec<&[u8]> = f.values("content-encoding").collect();
        let codings = codings_of(values.iter().copied());
        Some(Box::new(Body {
            content: Content::new(codings, &values, &self.sh.cfg, true),
            wire: 0,
            length: 0,
            missing: 0,
        }))
    }

    /// END_STREAM from direction `d`.
    fn end_side(&mut self, st: &mut Stream, d: usize) {
        let d = d.min(1);
        st.ended[d] = true;
        if st.rec.switched_to.is_some() {
            // After a 2xx to an extended CONNECT, END_STREAM ends the tunnel, not a message.
        } else if d == 0 {
            st.rec.timing.request_end = Some(self.ctx.ts);
        } else if st.final_response {
            st.rec.timing.response_end = Some(self.ctx.ts);
        }
        self.finish_body(st, d, BodyState::Complete);
    }

    /// The body in progress of direction `d` ends (`Complete`, or `Incomplete` when the
    /// stream or connection was cut): its record and findings.
    fn finish_body(&mut self, st: &mut Stream, d: usize, state: BodyState) {
        let d = d.min(1);
        let Some(mut b) = st.bodies[d].take() else {
            return;
        };
        let state = match state {
            BodyState::Complete if b.missing > 0 => BodyState::Partial,
            s => s,
        };
        let mut found: Found = Vec::new();
        let msg = if d == 0 {
            st.rec.request.as_mut().map(|r| &mut r.body)
        } else {
            st.rec.response.as_mut().map(|r| &mut r.body)
        };
        let Some(rec) = msg else {
            return;
        };
        rec.state = state;
        rec.wire_length = b.wire;
        rec.length = b.length;
        rec.missing_bytes = b.missing;
        b.content.finish(rec, state, &mut self.sh.stats, &mut found);
        let at = self.s.frame_at[d.min(1)];
        for (code, m) in found {
            self.finding(st, d, at, code, m);
        }
        // A request the server stopped (RST_STREAM NO_ERROR after its answer) may end short
        // of its Content-Length: the client abandoned it as asked (RFC 9113 §8.1).
        if state == BodyState::Complete && !(d == 0 && st.stop_sending) {
            self.check_length(st, d, b.length, at);
        }
    }

    /// Puts the stream back, or reports it when it closed.
    fn settle(&mut self, id: u32, st: Stream) {
        if (st.ended[0] && st.ended[1]) || (st.rec.reset.is_some() && !st.stop_sending) {
            self.emit(st, false);
        } else {
            self.s.open.insert(id, st);
        }
    }

    /// Reports a stream; `not_processed` when a GOAWAY said it was not.
    fn emit(&mut self, st: Stream, not_processed: bool) {
        let mut rec = st.rec;
        let answered = st.final_response && st.ended[1];
        rec.state = match (&rec.request, &rec.response) {
            _ if rec.reset.is_some() && !answered => TxnState::Reset,
            (None, _) => TxnState::NoRequest,
            (_, None) if not_processed => TxnState::NotProcessed,
            (_, None) => TxnState::NoResponse,
            _ => TxnState::Complete,
        };
        rec.timing.derive();
        self.out.record(Record::Transaction(rec));
    }
}

impl Events for Tracker<'_> {
    fn frame(&mut self, d: usize, h: &FrameInfo) {
        let Some(m) = self.s.block_mark.get_mut(d) else {
            return;
        };
        let wire = 9 + u64::from(h.length);
        self.s.frame_at[d.min(1)] = self.base[d.min(1)] + h.offset;
        match h.frame_type {
            HEADERS | PUSH_PROMISE => {
                let mark = Mark {
                    ts: self.ctx.ts,
                    packet: self.ctx.packet,
                    offset: self.base[d.min(1)] + h.offset,
                };
                *m = Some((mark, wire));
            }
            CONTINUATION => {
                if let Some((_, w)) = m.as_mut() {
                    *w += wire;
                }
            }
            _ => {}
        }
    }

    fn block_start(&mut self, d: usize, b: &BlockStart) {
        let (mark, wire) = self.s.block_mark[d.min(1)].unwrap_or((
            Mark {
                ts: self.ctx.ts,
                packet: self.ctx.packet,
                offset: self.base[d.min(1)],
            },
            0,
        ));
        self.s.collect[d.min(1)] = Some(Collect {
            start: *b,
            mark,
            wire,
            fields: Headers::default(),
            bytes: 0,
            dropped: 0,
        });
    }

    fn field(&mut self, d: usize, name: &[u8], value: &[u8]) {
        let (max_fields, max_bytes) = (self.sh.cfg.head.max_fields, self.sh.cfg.head.max_bytes);
        let Some(c) = self.s.collect.get_mut(d).and_then(Option::as_mut) else {
            return;
        };
        let size = name.len() + value.len();
        if c.fields.len() >= max_fields || c.bytes + size > max_bytes {
            c.dropped += 1;
            return;
        }
        c.bytes += size;
        if name.first() == Some(&b':') {
            c.fields.push_pseudo(name, value);
        } else {
            c.fields.push(name, value, None, false);
        }
    }

    fn block_end(&mut self, d: usize, decoded: bool) {
        if let Some(c) = self.s.collect.get_mut(d).and_then(Option::take) {
            self.block(d, c, decoded);
        }
    }

    fn data(&mut self, d: usize, stream: u32, bytes: &[u8]) {
        if let Some(b) = self.body_of(d, stream) {
            b.length += bytes.len() as u64;
            b.content.feed(bytes);
        }
    }

    fn data_lost(&mut self, d: usize, stream: u32, n: u64) {
        if let Some(b) = self.body_of(d, stream) {
            b.length += n;
            b.missing += n;
        }
    }

    fn data_end(&mut self, d: usize, stream: u32, wire: u64, end_stream: bool) {
        if let Some(b) = self.body_of(d, stream) {
            b.wire += wire;
        }
        if end_stream && let Some(mut st) = self.s.open.remove(&stream) {
            self.end_side(&mut st, d.min(1));
            self.settle(stream, st);
        }
    }

    fn reset(&mut self, d: usize, stream: u32, code: u32) {
        let Some(mut st) = self.s.open.remove(&stream) else {
            return;
        };
        let first = st.rec.reset.is_none();
        st.rec.reset = Some(ResetRecord {
            code,
            name: error_name(code),
            by: if d == 0 { "client" } else { "server" },
        });
        // A complete response, then NO_ERROR: the request's DATA in flight is still its body
        // (RFC 9113 §8.1); the stream is reported when the client ends or resets it, or at
        // the connection's end.
        if first && d == 1 && code == 0 && st.final_response && st.ended[1] && !st.ended[0] {
            st.stop_sending = true;
            self.s.open.insert(stream, st);
            return;
        }
        for side in 0..2 {
            self.finish_body(&mut st, side, BodyState::Incomplete);
        }
        self.settle(stream, st);
    }

    fn goaway(&mut self, d: usize, last_stream: u32, _code: u32) {
        if let Some(g) = self.s.goaway.get_mut(d) {
            *g = Some(last_stream);
        }
    }
}

impl Tracker<'_> {
    fn body_of(&mut self, d: usize, stream: u32) -> Option<&mut Body> {
        self.s
            .open
            .get_mut(&stream)?
            .bodies
            .get_mut(d)?
            .as_deref_mut()
    }
}

/// What a tunnel on a stream (RFC 8441's WebSocket, [`super::ws`]) needs of its transaction.
impl Streams {
    /// The transaction of `stream` while the stream is open.
    pub(super) fn record_mut(&mut self, stream: u32) -> Option<&mut TransactionRecord> {
        self.open.get_mut(&stream).map(|s| &mut *s.rec)
    }

    /// A 2xx to an extended CONNECT: the stream now carries `protocol`, its DATA frames are no
    /// longer bodies. A body with no DATA before the switch says `framing: none`, as after a
    /// `101`; DATA sent before it stays counted in the body record, not decoded.
    /// Returns the transaction's id.
    pub(super) fn switched(&mut self, stream: u32, protocol: &str) -> Option<u64> {
        let st = self.open.get_mut(&stream)?;
        st.rec.switched_to = Some(crate::model::http::SwitchRecord {
            protocol: protocol.to_string(),
        });
        // As after a `101`: the request ended with its head, the response with the 2xx.
        let t = &mut st.rec.timing;
        t.request_end = t.request_end.or(t.request_start);
        t.response_end = t.response_start;
        let bodies = std::mem::take(&mut st.bodies);
        let records = [
            st.rec.request.as_mut().map(|r| &mut r.body),
            st.rec.response.as_mut().map(|r| &mut r.body),
        ];
        for (rec, body) in records.into_iter().zip(bodies) {
            let Some(rec) = rec else { continue };
            if let Some(b) = body.filter(|b| b.wire > 0) {
                rec.wire_length = b.wire;
                rec.length = b.length;
                rec.missing_bytes = b.missing;
            } else {
                rec.framing = crate::model::http::BodyFraming::None;
            }
        }
        Some(st.rec.id)
    }
}
