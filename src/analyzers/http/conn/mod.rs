//! One HTTP connection: a message parser per direction and the queue that pairs requests with
//! responses.
//!
//! Each direction is a small state machine over the reassembled stream: wait for a head, frame
//! its body, repeat. Requests join a queue of transactions in flight; each response goes to the
//! oldest transaction without a final response, so pipelined requests pair correctly however
//! the segments fall; 1xx responses attach to that transaction and the next response follows.
//! A request that asks to switch protocols (`Upgrade`, `CONNECT`) holds the client's later bytes
//! until its answer says whether they are HTTP. Gaps: a body of known length absorbs them and is
//! marked partial; elsewhere the direction resynchronises on the next start line.
//!
//! Bounds: a head at most [`HttpConfig::head`] bytes, [`HttpConfig::max_pending`] transactions
//! in flight, [`HttpConfig::max_hold`] held bytes, decoded bodies at most
//! [`HttpConfig::max_decoded`]. Every bound hit is a finding.

use std::collections::VecDeque;
use std::net::IpAddr;

use rustc_hash::FxHashSet;

use super::HttpConfig;
use super::body::{BodyDecoder, BodyEvent, BodyState as DecState, Framing};
use super::content::byteranges::MultipartScanner;
use super::content::{Coding, ContentDecoder, ContentOutcome, DeflateVariant, Preview};
use super::head::{self, Head, Parsed, Prefix, StartLine};
use super::message::{self, HeadFinding};
use crate::analyzers::layer::{Ids, Layer, Next, Switch, Upgrade};
use crate::base::Timestamp;
use crate::engine::Ctx;
use crate::model::codes::{self, Code};
use crate::model::http::{
    BodyFraming, BodyRecord, BodyState, HttpStats, InterimRecord, MessageStart, RequestRecord,
    ResponseRecord, SwitchRecord, Timing, TransactionRecord, TxnState, wire_text,
};
use crate::model::tunnel::TunnelRecord;
use crate::model::{Dir, Finding, Record, RecordSink};

/// Analyzer-wide state: configuration, id allocation, once-only findings, counters.
pub struct Shared {
    pub cfg: HttpConfig,
    next_txn: u64,
    /// (client, header, scheme) already reported for cleartext credentials.
    creds_seen: FxHashSet<(IpAddr, &'static str, String)>,
    pub stats: HttpStats,
}

const MAX_CREDS_SEEN: usize = 65_536;

impl Shared {
    pub fn new(cfg: HttpConfig) -> Self {
        Shared {
            cfg,
            next_txn: 0,
            creds_seen: FxHashSet::default(),
            stats: HttpStats::default(),
        }
    }
}

/// Where a message began.
#[derive(Clone, Copy, Debug)]
struct Mark {
    ts: Timestamp,
    packet: u64,
    offset: u64,
}

/// A body being framed and decoded.
struct BodyRun {
    framing: Framing,
    dec: BodyDecoder,
    content: Option<ContentDecoder>,
    codings: Vec<String>,
    preview: Option<Preview>,
    /// multipart/byteranges responses: their parts, found as the body streams by.
    byteranges: Option<Box<MultipartScanner>>,
    /// The message follows (or contains) a capture gap.
    partial: bool,
}

enum Phase {
    /// Waiting for (or accumulating) a head.
    Head,
    Body(Box<BodyRun>),
    /// Client only: a request asked to switch protocols; later bytes wait for the answer.
    Hold,
    /// Looking for the next start line after a gap or bytes that were not a message.
    Lost,
    /// After `101` or a CONNECT tunnel: another protocol.
    Switched,
}

struct Side {
    phase: Phase,
    /// Bytes not yet consumed (a head in progress, held bytes, a resync tail); they start at
    /// stream offset `buf_offset`.
    buf: Vec<u8>,
    buf_offset: u64,
    /// Time and packet of the first byte in `buf` (the message start).
    buf_mark: Option<Mark>,
    /// Something of this direction was recognised as HTTP.
    confirmed: bool,
    /// The next message follows a gap.
    after_gap: bool,
    /// Whether the previous byte seen was a line end (resync only checks line starts).
    at_line_start: bool,
    /// A gap happened while holding: the held bytes are not a clean stream start.
    hold_gap: bool,
    /// Stream offset just after the last byte handed to this side.
    next: u64,
    /// Bytes at the start that were not HTTP, reported once the other side proves the
    /// connection is HTTP: (stream offset, length, packet, time).
    unreported: Option<(u64, usize, u64, Timestamp)>,
}

impl Side {
    fn new() -> Self {
        Side {
            phase: Phase::Head,
            buf: Vec::new(),
            buf_offset: 0,
            buf_mark: None,
            confirmed: false,
            after_gap: false,
            at_line_start: true,
            hold_gap: false,
            next: 0,
            unreported: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MethodKind {
    Head,
    Connect,
    Other,
}

impl MethodKind {
    fn of(m: &[u8]) -> Self {
        match m {
            b"HEAD" => MethodKind::Head,
            b"CONNECT" => MethodKind::Connect,
            _ => MethodKind::Other,
        }
    }
    fn bytes(self) -> &'static [u8] {
        match self {
            MethodKind::Head => b"HEAD",
            MethodKind::Connect => b"CONNECT",
            MethodKind::Other => b"GET",
        }
    }
}

/// What a request asked the connection to become.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SwitchAsk {
    Upgrade(Vec<String>),
    Connect,
}

/// A transaction in flight.
struct Txn {
    /// The record being built; emitted as is (boxed, so the queue moves a pointer).
    rec: Box<TransactionRecord>,
    request_done: bool,
    /// What the response framing needs to know about the request method.
    method: Option<MethodKind>,
    /// An HTTP/0.9 request: its response is a bare body, no status line.
    http09: bool,
    ask: Option<SwitchAsk>,
    response_done: bool,
}

/// Per-connection HTTP state.
pub struct HttpConn {
    sides: [Side; 2],
    pending: VecDeque<Txn>,
    /// Index in `pending` of the transaction the next (or current) response belongs to.
    resp_cursor: usize,
    next_index: u32,
    /// Neither direction looks like HTTP: the connection is someone else's.
    not_http: bool,
    switched: bool,
    counted: bool,
    /// The client sent at least one byte.
    client_spoke: bool,
}

impl Default for HttpConn {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpConn {
    /// A connection whose first transaction has `index` (HTTP inside a CONNECT tunnel goes on
    /// counting the connection's transactions).
    pub fn starting_at(index: u32) -> Self {
        HttpConn {
            next_index: index,
            ..HttpConn::default()
        }
    }
}

/// Emission context for one call.
struct Em<'a> {
    sh: &'a mut Shared,
    /// Tunnel ids (a refused CONNECT is reported as a tunnel that never opened).
    ids: &'a mut Ids,
    ctx: &'a Ctx,
    out: &'a mut dyn RecordSink,
    /// What the connection switches to, once a response said so (101, 2xx to CONNECT).
    switch: Option<Switch>,
}

impl Em<'_> {
    fn finding(
        &mut self,
        dir: Dir,
        offset: u64,
        code: &'static Code,
        msg: String,
        txn: Option<&mut Txn>,
    ) {
        let mut f = Finding::new(code, msg)
            .conn(self.ctx.conn)
            .at(self.ctx.packet, self.ctx.ts)
            .dir(dir, offset);
        if let Some(t) = txn {
            f = f.txn(t.rec.id);
            if !t.rec.findings.contains(&code.name) {
                t.rec.findings.push(code.name);
            }
        }
        self.out.record(Record::Finding(f));
    }
}

/// HTTP/1 as a layer of a stream. It ends when a response switches the connection (101, 2xx
/// to CONNECT) or when neither direction turns out to be HTTP: then it asks the stack to
/// switch, handing over the client bytes that waited for the answer.
impl Layer for HttpConn {
    type Shared = Shared;

    fn data(
        &mut self,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        if self.not_http || self.switched {
            return None;
        }
        let d = ctx.dir.index();
        let mut em = Em {
            sh,
            ids,
            ctx,
            out,
            switch: None,
        };
        if d == 0 && !data.is_empty() {
            self.client_spoke = true;
        }
        if offset == 0 && ctx.midstream && self.sides[d].buf.is_empty() {
            // The direction's start was not captured: find the first message.
            self.sides[d].phase = Phase::Lost;
            self.sides[d].after_gap = true;
        }
        let used = self.feed(d, offset, data, &mut em);
        self.count(&mut em);
        if let Some(mut sw) = em.switch.take() {
            sw.rest = used;
            return Some(sw);
        }
        self.not_http.then(|| Switch::to(Next::Opaque))
    }

    fn gap(
        &mut self,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        if self.not_http || self.switched {
            return None;
        }
        let mut em = Em {
            sh,
            ids,
            ctx,
            out,
            switch: None,
        };
        self.lose(ctx.dir.index(), offset, n, &mut em);
        self.count(&mut em);
        em.switch
            .take()
            .or_else(|| self.not_http.then(|| Switch::to(Next::Opaque)))
    }

    /// The transaction that switched (and any before it) is reported after what the next
    /// protocol made of the bytes handed over, as when HTTP fed it itself.
    fn handed_over(&mut self, sh: &mut Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        self.flush_done(&mut Em {
            sh,
            ids,
            ctx,
            out,
            switch: None,
        });
    }

    fn close(&mut self, sh: &mut Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        self.end(&mut Em {
            sh,
            ids,
            ctx,
            out,
            switch: None,
        });
    }
}

impl HttpConn {
    pub fn new() -> Self {
        HttpConn {
            sides: [Side::new(), Side::new()],
            pending: VecDeque::new(),
            resp_cursor: 0,
            next_index: 0,
            not_http: false,
            switched: false,
            counted: false,
            client_spoke: false,
        }
    }

    /// Whether anything on this connection was HTTP.
    pub fn is_http(&self) -> bool {
        self.sides.iter().any(|s| s.confirmed)
    }

    /// Counts the connection once something on it was HTTP.
    fn count(&mut self, em: &mut Em<'_>) {
        if !self.counted && self.is_http() {
            self.counted = true;
            em.sh.stats.connections += 1;
        }
    }

    /// The connection ended: finish bodies read until close, report what is left.
    fn end(&mut self, em: &mut Em<'_>) {
        for d in 0..2 {
            let phase = std::mem::replace(&mut self.sides[d].phase, Phase::Head);
            if let Phase::Body(mut run) = phase {
                run.dec.eof();
                let end_off = self.sides[d].buf_offset;
                self.end_body(d, run, end_off, em);
            } else if let Phase::Hold = phase {
                // Held bytes were never decided on; parse them as HTTP if nothing switched.
                let buf = std::mem::take(&mut self.sides[d].buf);
                let off = self.sides[d].buf_offset;
                if !self.switched && !buf.is_empty() {
                    self.feed(d, off, &buf, em);
                }
            }
            if d == 0 && !self.sides[0].buf.is_empty() && !self.switched && self.is_http() {
                let off = self.sides[0].buf_offset;
                em.finding(
                    Dir::ClientToServer,
                    off,
                    &codes::HTTP_INCOMPLETE_HEAD,
                    format!(
                        "the connection ended inside a request head ({} bytes, no empty line)",
                        self.sides[0].buf.len()
                    ),
                    None,
                );
            }
        }
        while let Some(t) = self.pending.pop_front() {
            self.emit(t, em);
        }
        self.resp_cursor = 0;
    }

    // ---- data -------------------------------------------------------------------------

    /// Bytes of direction `d`; returns how many were taken before the connection switched
    /// protocols (all of them when it did not).
    fn feed(&mut self, d: usize, offset: u64, data: &[u8], em: &mut Em<'_>) -> usize {
        self.sides[d].next = self.sides[d].next.max(offset + data.len() as u64);
        let mut pos = 0usize;
        // Guard against a state that makes no progress (should not happen; bounded anyway).
        let mut spins = 0u32;
        while pos < data.len() && !self.not_http && !self.switched {
            spins += 1;
            if spins > 1_000_000 {
                break;
            }
            let rest = &data[pos..];
            let at = offset + pos as u64;
            let before = self.phase_tag(d);
            let used = match self.sides[d].phase {
                // The next protocol's bytes; the stack delivers them there.
                Phase::Switched => rest.len(),
                Phase::Hold => {
                    let side = &mut self.sides[d];
                    if side.buf.is_empty() {
                        side.buf_offset = at;
                    }
                    let room = em.sh.cfg.max_hold.saturating_sub(side.buf.len());
                    let take = rest.len().min(room);
                    side.buf.extend_from_slice(&rest[..take]);
                    if take < rest.len() {
                        em.finding(
                            Dir::from_index(d),
                            at,
                            &codes::HTTP_HOLD_LIMIT,
                            format!(
                                "more than {} bytes followed a request that asked to switch \
                                 protocols before its answer arrived; the rest is not analysed",
                                em.sh.cfg.max_hold
                            ),
                            None,
                        );
                        self.sides[d].phase = Phase::Lost;
                    }
                    rest.len()
                }
                Phase::Body(_) => self.body_data(d, at, rest, em),
                Phase::Lost => self.resync(d, at, rest, em),
                Phase::Head => self.head_data(d, at, rest, em),
            };
            if used == 0 {
                if self.phase_tag(d) == before {
                    break;
                }
                continue;
            }
            if let Some(&last) = rest.get(used - 1) {
                self.sides[d].at_line_start = last == b'\n';
            }
            pos += used;
        }
        pos
    }

    fn phase_tag(&self, d: usize) -> u8 {
        match self.sides[d].phase {
            Phase::Head => 0,
            Phase::Body(_) => 1,
            Phase::Hold => 2,
            Phase::Lost => 3,
            Phase::Switched => 4,
        }
    }

    /// Head phase: returns bytes consumed from `rest` (all of them when buffered).
    fn head_data(&mut self, d: usize, at: u64, rest: &[u8], em: &mut Em<'_>) -> usize {
        let side = &mut self.sides[d];
        // Empty lines between messages are allowed before a request (RFC 9112 §2.2) and are
        // common after bodies; skip them.
        if side.buf.is_empty() {
            let skip = rest
                .iter()
                .take_while(|&&c| c == b'\r' || c == b'\n')
                .count();
            if skip > 0 {
                return skip;
            }
        }
        let joined;
        let view: &[u8] = if side.buf.is_empty() {
            rest
        } else {
            joined = {
                let mut v = std::mem::take(&mut side.buf);
                v.extend_from_slice(rest);
                v
            };
            &joined
        };
        let from_buf = view.len() - rest.len();
        let start = if from_buf > 0 { side.buf_offset } else { at };
        let mark = side.buf_mark.unwrap_or(Mark {
            ts: em.ctx.ts,
            packet: em.ctx.packet,
            offset: start,
        });
        if d == 1
            && self
                .pending
                .get(self.resp_cursor)
                .is_some_and(|t| t.http09 && t.rec.response.is_none())
            && head::looks_like_response(view) == Prefix::No
        {
            // HTTP/0.9: the response is the body, read until the connection closes.
            self.confirm(1, em);
            self.response_09(mark, em);
            if from_buf > 0 {
                // Put the buffered bytes back in front.
                let buffered = view.get(..from_buf).unwrap_or_default().to_vec();
                let off = mark.offset;
                self.feed(1, off, &buffered, em);
            }
            return 0;
        }
        let side = &mut self.sides[d];
        if !side.confirmed {
            let p = if d == 0 {
                head::looks_like_request(view)
            } else {
                head::looks_like_response(view)
            };
            match p {
                Prefix::Maybe => {
                    self.stash(d, view, start, mark);
                    return rest.len();
                }
                Prefix::No => {
                    self.not_a_message(d, start, view.len(), em);
                    return rest.len();
                }
                Prefix::Yes => self.confirm(d, em),
            }
        }
        let limits = &em.sh.cfg.head;
        let parsed = if d == 0 {
            head::parse_request(view, limits)
        } else {
            head::parse_response(view, limits)
        };
        match parsed {
            Parsed::Partial => {
                self.stash(d, view, start, mark);
                rest.len()
            }
            Parsed::TooLarge => {
                em.finding(
                    Dir::from_index(d),
                    start,
                    &codes::HTTP_HEAD_TOO_LARGE,
                    format!(
                        "no end of the {} head within {} bytes (RFC 9112 §5: servers answer \
                         431); the stream is scanned for the next message",
                        if d == 0 { "request" } else { "response" },
                        em.sh.cfg.head.max_bytes
                    ),
                    None,
                );
                self.sides[d].phase = Phase::Lost;
                self.sides[d].buf_mark = None;
                rest.len()
            }
            Parsed::Invalid(why) => {
                let _ = why;
                self.not_a_message(d, start, view.len(), em);
                rest.len()
            }
            Parsed::Complete(h) => {
                let hlen = h.len;
                self.sides[d].buf_mark = None;
                let after_gap = std::mem::take(&mut self.sides[d].after_gap);
                if d == 0 {
                    self.request_head(h, mark, after_gap, em);
                } else {
                    self.response_head(h, mark, after_gap, em);
                }
                // Bytes of `rest` used: the head minus what was already buffered (a buffered
                // prefix never holds a whole head, so this is at least 1).
                hlen.saturating_sub(from_buf)
            }
        }
    }

    fn stash(&mut self, d: usize, view: &[u8], start: u64, mark: Mark) {
        let side = &mut self.sides[d];
        side.buf.clear();
        side.buf.extend_from_slice(view);
        side.buf_offset = start;
        side.buf_mark = Some(mark);
    }

    /// Bytes at a message boundary that are not a message.
    fn not_a_message(&mut self, d: usize, start: u64, len: usize, em: &mut Em<'_>) {
        let http = self.sides[1 - d].confirmed || self.sides[d].confirmed;
        self.sides[d].buf.clear();
        self.sides[d].buf_mark = None;
        self.sides[d].phase = Phase::Lost;
        self.sides[d].at_line_start = false;
        if http {
            self.report_not_http(d, start, len, em);
            return;
        }
        if d == 1 && !em.ctx.midstream {
            // The server does not answer like HTTP either (or speaks first): not ours.
            self.not_http = true;
            return;
        }
        // The client does not start like HTTP. Decide when the server answers: a status line
        // makes it HTTP (a server answering garbage with 400), anything else makes it not ours.
        if self.sides[d].unreported.is_none() {
            self.sides[d].unreported = Some((start, len, em.ctx.packet, em.ctx.ts));
        }
    }

    fn report_not_http(&mut self, d: usize, start: u64, len: usize, em: &mut Em<'_>) {
        em.finding(
            Dir::from_index(d),
            start,
            &codes::HTTP_NOT_HTTP,
            format!(
                "{} bytes where an HTTP {} should start are not one (no method, target and version); looking for the next message",
                len.min(64),
                if d == 0 { "request" } else { "response" }
            ),
            None,
        );
    }

    /// A side was recognised as HTTP: what the other side sent before that is reported now.
    fn confirm(&mut self, d: usize, em: &mut Em<'_>) {
        self.sides[d].confirmed = true;
        for i in 0..2 {
            if let Some((off, len, _, _)) = self.sides[i].unreported.take() {
                self.report_not_http(i, off, len, em);
            }
        }
    }

    /// Looks for a start line at a line boundary; returns bytes consumed.
    fn resync(&mut self, d: usize, at: u64, rest: &[u8], em: &mut Em<'_>) -> usize {
        let side = &mut self.sides[d];
        let joined;
        let (view, start) = if side.buf.is_empty() {
            (rest, at)
        } else {
            joined = {
                let mut v = std::mem::take(&mut side.buf);
                v.extend_from_slice(rest);
                v
            };
            (&joined[..], side.buf_offset)
        };
        let from_buf = view.len() - rest.len();
        let check = |p: &[u8]| {
            if d == 0 {
                head::looks_like_request(p)
            } else {
                head::looks_like_response(p)
            }
        };
        let mut candidates = Vec::new();
        if side.at_line_start || side.after_gap {
            candidates.push(0usize);
        }
        let mut found = None;
        let mut maybe = None;
        let mut idx = 0;
        let mut lines = memchr::memchr_iter(b'\n', view).map(|i| i + 1);
        loop {
            let p = if idx < candidates.len() {
                idx += 1;
                candidates[idx - 1]
            } else {
                match lines.next() {
                    Some(p) => p,
                    None => break,
                }
            };
            let Some(tail) = view.get(p..) else { break };
            if tail.is_empty() {
                continue;
            }
            match check(tail) {
                Prefix::Yes => {
                    found = Some(p);
                    break;
                }
                Prefix::Maybe => {
                    maybe = Some(p);
                    break;
                }
                Prefix::No => {}
            }
        }
        let p = found.or(maybe);
        let skipped = p.unwrap_or(view.len()) as u64;
        em.sh.stats.resync_skipped_bytes += skipped;
        let used = match (found, maybe) {
            (Some(p), _) => {
                side.phase = Phase::Head;
                side.after_gap = false;
                if p < from_buf {
                    // The start line began in buffered bytes: keep them; the head phase joins
                    // them with `rest`.
                    side.buf = view.get(p..from_buf).unwrap_or_default().to_vec();
                    side.buf_offset = start + p as u64;
                    side.buf_mark = Some(Mark {
                        ts: em.ctx.ts,
                        packet: em.ctx.packet,
                        offset: start + p as u64,
                    });
                    0
                } else {
                    side.buf_mark = None;
                    p - from_buf
                }
            }
            (None, Some(p)) => {
                side.buf = view.get(p..).unwrap_or_default().to_vec();
                side.buf_offset = start + p as u64;
                rest.len()
            }
            (None, None) => {
                side.buf.clear();
                rest.len()
            }
        };
        if found.is_some() && !self.sides[d].confirmed {
            self.confirm(d, em);
        }
        used
    }

    fn lose(&mut self, d: usize, offset: u64, n: u64, em: &mut Em<'_>) {
        let phase = std::mem::replace(&mut self.sides[d].phase, Phase::Lost);
        let side = &mut self.sides[d];
        side.after_gap = true;
        side.at_line_start = false;
        match phase {
            Phase::Body(mut run) => {
                let absorbed = run.dec.gap(n);
                run.partial = true;
                if absorbed >= n {
                    // The whole gap fell inside this body: the next message is untouched.
                    side.after_gap = false;
                }
                if run.dec.is_done() {
                    self.end_body(d, run, offset + absorbed, em);
                    if absorbed >= n {
                        // The gap ended exactly at the end of the body: the next byte starts a
                        // message.
                        self.sides[d].phase = Phase::Head;
                    }
                } else {
                    self.sides[d].phase = Phase::Body(run);
                }
            }
            Phase::Switched => side.phase = Phase::Switched,
            Phase::Hold => {
                side.phase = Phase::Hold;
                side.hold_gap = true;
            }
            Phase::Head => {
                if !side.buf.is_empty() {
                    side.buf.clear();
                    side.buf_mark = None;
                    em.finding(
                        Dir::from_index(d),
                        offset,
                        &codes::HTTP_GAP_IN_HEAD,
                        format!(
                            "{n} bytes missing from the capture inside a {} head; that message \
                             is lost",
                            if d == 0 { "request" } else { "response" }
                        ),
                        None,
                    );
                }
            }
            Phase::Lost => {
                side.buf.clear();
            }
        }
    }

    // ---- messages ---------------------------------------------------------------------

    fn start(&self, d: usize, mark: Mark, h: &Head) -> MessageStart {
        let _ = d;
        MessageStart {
            packet: mark.packet,
            stream_offset: mark.offset,
            head_bytes: h.len as u64,
        }
    }

    fn new_txn(&mut self, em: &mut Em<'_>) -> Txn {
        let id = em.sh.next_txn;
        em.sh.next_txn += 1;
        em.sh.stats.transactions += 1;
        let index = self.next_index;
        self.next_index += 1;
        Txn {
            rec: Box::new(TransactionRecord {
                id,
                connection: em.ctx.conn,
                index,
                client: em.ctx.client,
                server: em.ctx.server,
                state: TxnState::Complete,
                request: None,
                interim: Vec::new(),
                response: None,
                timing: Timing::default(),
                switched_to: None,
                findings: Vec::new(),
                semantics: None,
            }),
            request_done: false,
            method: None,
            http09: false,
            ask: None,
            response_done: false,
        }
    }

    fn request_head(&mut self, h: Head, mark: Mark, after_gap: bool, em: &mut Em<'_>) {
        em.sh.stats.requests += 1;
        if self.pending.len() >= em.sh.cfg.max_pending {
            // Too many requests without responses: give the oldest up.
            em.sh.stats.pipeline_limit_hits += 1;
            let oldest = self.pending.pop_front();
            self.resp_cursor = self.resp_cursor.saturating_sub(1);
            if let Some(mut t) = oldest {
                em.finding(
                    Dir::ClientToServer,
                    mark.offset,
                    &codes::HTTP_PIPELINE_LIMIT,
                    format!(
                        "more than {} requests are waiting for responses on this connection; \
                         the oldest is reported without one",
                        em.sh.cfg.max_pending
                    ),
                    Some(&mut t),
                );
                self.emit(t, em);
            }
        }
        let mut t = self.new_txn(em);
        let mut f: Vec<HeadFinding> = Vec::new();
        message::head_findings(&h, true, &mut f);
        message::host_findings(&h, &mut f);
        let framing = message::request_framing(&h, &mut f);
        let (method, target, version) = match &h.start {
            StartLine::Request {
                method,
                target,
                version,
            } => (method.clone(), target.clone(), *version),
            StartLine::Response { version, .. } => (Vec::new(), Vec::new(), *version),
        };
        let upgrade = message::upgrade_tokens(&h);
        if method == b"CONNECT" {
            t.ask = Some(SwitchAsk::Connect);
        } else if !upgrade.is_empty() {
            t.ask = Some(SwitchAsk::Upgrade(upgrade));
        }
        self.credentials(&h, mark.offset, &mut t, em);
        let (m, m64) = wire_text(&method);
        let (tg, tg64) = wire_text(&target);
        let body = empty_body(&framing, &h);
        let form = crate::model::http::target_form(&method, &target);
        t.rec.request = Some(RequestRecord {
            method: m,
            method_b64: m64,
            target: tg,
            target_b64: tg64,
            target_form: form,
            proxy_request: form == "absolute" || method == b"CONNECT",
            version: version.text(),
            headers: message::header_records(&h),
            body,
            at: self.start(0, mark, &h),
        });
        t.method = Some(MethodKind::of(&method));
        t.http09 = version == head::Version::HTTP09;
        t.rec.timing.request_start = Some(mark.ts);
        for (code, msg) in f {
            em.finding(Dir::ClientToServer, mark.offset, code, msg, Some(&mut t));
        }
        let body_off = mark.offset + h.len as u64;
        self.pending.push_back(t);
        self.begin_body(0, framing, &h, body_off, after_gap, em);
    }

    fn response_head(&mut self, h: Head, mark: Mark, after_gap: bool, em: &mut Em<'_>) {
        em.sh.stats.responses += 1;
        let (version, status, reason) = match &h.start {
            StartLine::Response {
                version,
                status,
                reason,
            } => (*version, *status, reason.clone()),
            StartLine::Request { version, .. } => (*version, 0, Vec::new()),
        };
        if self.resp_cursor >= self.pending.len() {
            // A response to a request the capture does not hold.
            let t = self.new_txn(em);
            self.pending.push_back(t);
            self.resp_cursor = self.pending.len() - 1;
            // Nothing (or nothing since a gap) from the client: the capture missed the request.
            // Bytes that were not a request: the server answered them.
            let started_late = em.ctx.midstream
                || after_gap
                || self.sides[0].after_gap
                || (!self.sides[0].confirmed
                    && self.sides[0].unreported.is_none()
                    && !self.client_spoke);
            let msg = if started_late {
                "response whose request is not in the capture (the capture started late or \
                 lost it in a gap)"
                    .to_string()
            } else {
                "response without a request: the server sent more responses than the client \
                 sent requests (RFC 9112 §9.3 pairs them in order)"
                    .to_string()
            };
            let code = if started_late {
                &codes::HTTP_RESPONSE_WITHOUT_REQUEST_CAPTURED
            } else {
                &codes::HTTP_RESPONSE_WITHOUT_REQUEST
            };
            if let Some(t) = self.pending.get_mut(self.resp_cursor) {
                t.request_done = true;
                em.finding(Dir::ServerToClient, mark.offset, code, msg, Some(t));
            }
        }
        let cursor = self.resp_cursor;
        let method = self.pending.get(cursor).and_then(|t| t.method);
        let mut f: Vec<HeadFinding> = Vec::new();
        message::head_findings(&h, false, &mut f);
        let framing = message::response_framing(&h, method.map(MethodKind::bytes), &mut f);
        let (rs, rs64) = wire_text(&reason);
        let Some(t) = self.pending.get_mut(cursor) else {
            return;
        };
        for (code, msg) in f {
            em.finding(Dir::ServerToClient, mark.offset, code, msg, Some(t));
        }
        let at = MessageStart {
            packet: mark.packet,
            stream_offset: mark.offset,
            head_bytes: h.len as u64,
        };
        if (100..200).contains(&status) && status != 101 {
            em.sh.stats.interim_responses += 1;
            t.rec.interim.push(InterimRecord {
                status,
                reason: rs,
                headers: message::header_records(&h),
                ts: mark.ts,
                at,
            });
            // The final response follows; `response_start` is its first byte.
            return;
        }
        if t.rec.timing.response_start.is_none() {
            t.rec.timing.response_start = Some(mark.ts);
        }
        let status_raw = h.issues.iter().find_map(|i| match i {
            head::HeadIssue::BadStatus { raw } => Some(String::from_utf8_lossy(raw).into_owned()),
            _ => None,
        });
        t.rec.response = Some(ResponseRecord {
            version: version.text(),
            status,
            status_raw,
            reason: rs,
            reason_b64: rs64,
            headers: message::header_records(&h),
            body: empty_body(&framing, &h),
            at,
        });
        // Does the connection switch protocols here?
        let body_off = mark.offset + h.len as u64;
        if let Some(protocol) = switch_asked(t, &h, status, mark.offset, em) {
            self.switch_to(cursor, protocol, mark.ts, body_off, em);
            return;
        }
        self.begin_body(1, framing, &h, body_off, after_gap, em);
        if status == 206
            && let Phase::Body(run) = &mut self.sides[1].phase
            && let Some(ct) = h.value("content-type")
        {
            run.byteranges = MultipartScanner::for_content_type(ct).map(Box::new);
        }
    }

    fn response_09(&mut self, mark: Mark, em: &mut Em<'_>) {
        em.sh.stats.responses += 1;
        let Some(t) = self.pending.get_mut(self.resp_cursor) else {
            return;
        };
        t.rec.timing.response_start = Some(mark.ts);
        let framing = Framing::Close;
        t.rec.response = Some(ResponseRecord {
            version: head::Version::HTTP09.to_string(),
            status: 0,
            status_raw: None,
            reason: String::new(),
            reason_b64: None,
            headers: Default::default(),
            body: BodyRecord {
                framing: message::framing_kind(&framing),
                ..empty_body_bare()
            },
            at: MessageStart {
                packet: mark.packet,
                stream_offset: mark.offset,
                head_bytes: 0,
            },
        });
        let run = Box::new(BodyRun {
            framing,
            dec: BodyDecoder::new(framing, em.sh.cfg.body.clone()),
            content: None,
            codings: Vec::new(),
            preview: (em.sh.cfg.preview > 0).then(|| Preview::new(em.sh.cfg.preview)),
            byteranges: None,
            partial: false,
        });
        self.sides[1].phase = Phase::Body(run);
    }

    /// The response at `cursor` switched the connection to `protocol` (`tunnel` after a
    /// CONNECT), its head ending at `server_off`: HTTP ends here, and asks the stack for what
    /// comes next.
    fn switch_to(
        &mut self,
        cursor: usize,
        protocol: String,
        ts: Timestamp,
        server_off: u64,
        em: &mut Em<'_>,
    ) {
        // Where the new protocol starts on the client side: the first held byte, or the next.
        let client_off = if self.sides[0].buf.is_empty() {
            self.sides[0].next
        } else {
            self.sides[0].buf_offset
        };
        let index = self.next_index;
        let Some(t) = self.pending.get_mut(cursor) else {
            return;
        };
        if protocol == "tunnel" {
            em.sh.stats.tunnels += 1;
        } else {
            em.sh.stats.upgrades += 1;
        }
        t.rec.switched_to = Some(SwitchRecord {
            protocol: protocol.clone(),
        });
        t.response_done = true;
        t.rec.timing.response_end = Some(ts);
        let txn = t.rec.id;
        let request = t.rec.request.as_ref();
        let target = request.map(|r| r.target.clone());
        let next = if protocol == "tunnel" {
            Next::Connect { txn, target, index }
        } else {
            Next::Upgrade(Box::new(Upgrade {
                protocol,
                txn,
                method: request.map(|r| r.method.clone()),
                target,
                request: request.map(|r| r.headers.clone()).unwrap_or_default(),
                response: (t.rec.response.as_ref())
                    .map(|r| r.headers.clone())
                    .unwrap_or_default(),
                starts: [client_off, server_off],
            }))
        };
        self.switch_protocols(next, em);
    }

    /// The connection stops being HTTP after this response: both directions switch, and the
    /// bytes held (client bytes that waited for the answer) belong to the next protocol.
    fn switch_protocols(&mut self, next: Next, em: &mut Em<'_>) {
        self.switched = true;
        let mut replay = Vec::new();
        for (d, s) in self.sides.iter_mut().enumerate() {
            s.phase = Phase::Switched;
            let buf = std::mem::take(&mut s.buf);
            if !buf.is_empty() {
                replay.push((Dir::from_index(d), s.buf_offset, buf));
            }
            s.buf_mark = None;
        }
        em.switch = Some(Switch {
            next,
            replay,
            rest: 0,
            keep: true,
        });
    }

    fn credentials(&mut self, h: &Head, offset: u64, t: &mut Txn, em: &mut Em<'_>) {
        for (field, name) in [
            ("authorization", "Authorization"),
            ("proxy-authorization", "Proxy-Authorization"),
        ] {
            let Some(v) = h.value(field) else { continue };
            let scheme = v
                .split(|&c| c == b' ')
                .next()
                .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
                .unwrap_or_default();
            if scheme != "basic" && scheme != "digest" && scheme != "bearer" {
                if !scheme.is_empty() && scheme != "negotiate" && scheme != "ntlm" {
                    continue;
                }
                if scheme.is_empty() {
                    continue;
                }
            }
            let key = (em.ctx.client.ip, field, scheme.clone());
            if em.sh.creds_seen.contains(&key) {
                let code = codes::HTTP_CLEARTEXT_CREDENTIALS.name;
                if !t.rec.findings.contains(&code) {
                    t.rec.findings.push(code);
                }
                continue;
            }
            if em.sh.creds_seen.len() < MAX_CREDS_SEEN {
                em.sh.creds_seen.insert(key);
            }
            let how = if scheme == "basic" {
                "the password is readable by anyone on the path (base64 is not encryption)"
            } else if scheme == "bearer" {
                "the token can be replayed by anyone on the path"
            } else {
                "the exchange can be replayed or attacked offline by anyone on the path"
            };
            em.finding(
                Dir::ClientToServer,
                offset,
                &codes::HTTP_CLEARTEXT_CREDENTIALS,
                format!(
                    "{name}: {} credentials sent over cleartext HTTP from {}; {how}. Use \
                     TLS (reported once per client and scheme; the value is masked in every \
                     output)",
                    scheme_name(&scheme),
                    em.ctx.client.ip
                ),
                Some(t),
            );
        }
    }

    // ---- bodies -----------------------------------------------------------------------

    fn begin_body(
        &mut self,
        d: usize,
        framing: Framing,
        h: &Head,
        body_off: u64,
        after_gap: bool,
        em: &mut Em<'_>,
    ) {
        let codings = message::content_codings(h);
        let content = if codings.is_empty() || framing == Framing::None {
            None
        } else {
            let values: Vec<&[u8]> = h.values("content-encoding").collect();
            let parsed = super::content::parse_codings(&values);
            Some(ContentDecoder::new(&parsed, em.sh.cfg.max_decoded))
        };
        let preview = (em.sh.cfg.preview > 0 && framing != Framing::None)
            .then(|| Preview::new(em.sh.cfg.preview));
        let run = Box::new(BodyRun {
            framing,
            dec: BodyDecoder::new(framing, em.sh.cfg.body.clone()),
            content,
            codings,
            preview,
            byteranges: None,
            partial: after_gap,
        });
        if run.dec.is_done() {
            self.end_body(d, run, body_off, em);
        } else {
            self.sides[d].phase = Phase::Body(run);
        }
    }

    fn body_data(&mut self, d: usize, at: u64, rest: &[u8], em: &mut Em<'_>) -> usize {
        let Phase::Body(run) = &mut self.sides[d].phase else {
            return 0;
        };
        let BodyRun {
            dec,
            content,
            preview,
            byteranges,
            ..
        } = &mut **run;
        let used = dec.feed(rest, &mut |ev| {
            if let BodyEvent::Data(b) = ev {
                match content.as_mut() {
                    Some(c) => c.feed(b, &mut |o| {
                        if let Some(p) = preview.as_mut() {
                            p.push(o);
                        }
                        if let Some(s) = byteranges.as_mut() {
                            s.feed(o);
                        }
                    }),
                    None => {
                        if let Some(p) = preview.as_mut() {
                            p.push(b);
                        }
                        if let Some(s) = byteranges.as_mut() {
                            s.feed(b);
                        }
                    }
                }
            }
        });
        if dec.is_done() {
            let Phase::Body(run) = std::mem::replace(&mut self.sides[d].phase, Phase::Head) else {
                return used;
            };
            self.end_body(d, run, at + used as u64, em);
            // An error at the first byte leaves `used` 0 and the phase Lost: the same bytes are
            // then scanned for the next message.
        }
        used
    }

    /// A body ended (complete, partial, or cut by the connection end).
    fn end_body(&mut self, d: usize, mut run: Box<BodyRun>, end_off: u64, em: &mut Em<'_>) {
        let ts = em.ctx.ts;
        let mut content_out = None;
        if let Some(c) = run.content.as_mut() {
            let preview = &mut run.preview;
            let byteranges = &mut run.byteranges;
            c.finish(&mut |o| {
                if let Some(p) = preview.as_mut() {
                    p.push(o);
                }
                if let Some(s) = byteranges.as_mut() {
                    s.feed(o);
                }
            });
            content_out = Some((c.output_len(), c.outcome(), c.deflate_variant()));
        }
        let state = match run.dec.state() {
            DecState::Complete if run.partial => BodyState::Partial,
            DecState::Complete | DecState::InProgress => BodyState::Complete,
            DecState::Partial | DecState::Lost => BodyState::Partial,
            DecState::Incomplete => BodyState::Incomplete,
            DecState::Error(_) => BodyState::Error,
        };
        let body_error = match run.dec.state() {
            DecState::Error(e) => Some(e.to_string()),
            _ => None,
        };
        let incomplete = matches!(run.dec.state(), DecState::Incomplete);
        let lost = matches!(run.dec.state(), DecState::Lost);
        let cursor = self.resp_cursor;
        let idx = if d == 0 {
            self.pending.len().checked_sub(1)
        } else {
            Some(cursor)
        };
        let Some(t) = idx.and_then(|i| self.pending.get_mut(i)) else {
            return;
        };
        let dir = Dir::from_index(d);
        let mut findings: Vec<(&'static Code, String)> = Vec::new();
        if let Some(e) = &body_error {
            findings.push((
                &codes::HTTP_CHUNKED_ERROR,
                format!("invalid chunked framing: {e}; the rest of the stream is scanned for the next message"),
            ));
        }
        if incomplete {
            if let Framing::Length(n) = run.framing {
                findings.push((
                    &codes::HTTP_BODY_TRUNCATED,
                    format!(
                        "the connection ended after {} of the {n} body bytes Content-Length \
                         announced",
                        run.dec.wire_len()
                    ),
                ));
            } else if run.framing == Framing::Chunked {
                findings.push((
                    &codes::HTTP_BODY_TRUNCATED,
                    "the connection ended before the last chunk (a chunked body must end with a \
                     zero-size chunk)"
                        .into(),
                ));
            }
        }
        let mut decoding = None;
        let mut decoded_length = None;
        if let Some((len, outcome, variant)) = content_out {
            decoded_length = Some(len);
            decoding = Some(match &outcome {
                ContentOutcome::Ok => "complete",
                ContentOutcome::Capped { .. } => "capped",
                ContentOutcome::Error(_) => "error",
                ContentOutcome::Unsupported(_) | ContentOutcome::TooManyCodings { .. } => {
                    "unsupported"
                }
                ContentOutcome::Truncated { .. } => "truncated",
            });
            match outcome {
                ContentOutcome::Capped { at } => {
                    em.sh.stats.decode_capped += 1;
                    findings.push((
                        &codes::HTTP_DECODED_SIZE_LIMIT,
                        format!(
                            "the body decodes ({}) to more than {at} bytes; decoding stopped \
                             there (a possible decompression bomb; the wire length is exact)",
                            run.codings.join(", ")
                        ),
                    ));
                }
                ContentOutcome::Error(e) => findings.push((
                    &codes::HTTP_DECODING_ERROR,
                    format!(
                        "Content-Encoding {} does not decode: {} at byte {} of layer {}",
                        e.coding.name(),
                        e.message,
                        e.offset,
                        e.layer
                    ),
                )),
                ContentOutcome::Unsupported(c) => findings.push((
                    &codes::HTTP_UNSUPPORTED_ENCODING,
                    format!(
                        "Content-Encoding {} is not one hopscope decodes; lengths are of the \
                         encoded content",
                        c.name()
                    ),
                )),
                ContentOutcome::TooManyCodings { count } => findings.push((
                    &codes::HTTP_UNSUPPORTED_ENCODING,
                    format!("{count} stacked content codings; not decoded"),
                )),
                ContentOutcome::Truncated { coding, .. }
                    if state == BodyState::Complete && coding != Coding::Identity =>
                {
                    findings.push((
                        &codes::HTTP_DECODING_TRUNCATED,
                        format!(
                            "the {} stream ends before its end marker although the body is \
                             complete",
                            coding.name()
                        ),
                    ))
                }
                _ => {}
            }
            if variant == Some(DeflateVariant::Raw) {
                findings.push((
                    &codes::HTTP_RAW_DEFLATE,
                    "Content-Encoding: deflate carries raw DEFLATE without the zlib wrapper \
                     RFC 9110 §8.4.1.2 requires; browsers accept it, strict clients fail"
                        .into(),
                ));
            }
        }
        let msg = if d == 0 {
            t.rec.request.as_mut().map(|r| &mut r.body)
        } else {
            t.rec.response.as_mut().map(|r| &mut r.body)
        };
        if let Some(b) = msg {
            b.state = state;
            b.wire_length = run.dec.wire_len();
            // Content length as sent: what was seen plus what a gap hid inside the framing.
            b.length = run.dec.decoded_len() + run.dec.missing();
            b.missing_bytes = run.dec.missing();
            b.decoded_length = decoded_length;
            b.decoding = decoding;
            if run.framing == Framing::Chunked {
                b.chunks = Some(run.dec.chunks());
                b.chunk_extensions = run
                    .dec
                    .extensions()
                    .iter()
                    .map(|e| String::from_utf8_lossy(&e.raw).into_owned())
                    .collect();
                for (n, v) in run.dec.trailers() {
                    b.trailers.push(n, v, None, false);
                }
            }
            if let Some(p) = &run.preview
                && p.total() > 0
            {
                match std::str::from_utf8(p.bytes()) {
                    Ok(s) => b.preview = Some(s.to_string()),
                    Err(e) if e.error_len().is_none() => {
                        // Cut inside a character: keep the valid prefix as text.
                        let ok = p.bytes().get(..e.valid_up_to()).unwrap_or_default();
                        b.preview = Some(String::from_utf8_lossy(ok).into_owned());
                    }
                    Err(_) => {
                        use base64::Engine as _;
                        b.preview_b64 =
                            Some(base64::engine::general_purpose::STANDARD.encode(p.bytes()));
                    }
                }
                b.preview_truncated = p.is_truncated();
            }
            if let Some(s) = run.byteranges.take() {
                b.byteranges = Some(Box::new(s.finish()));
            }
        }
        for (code, m) in findings {
            em.finding(dir, end_off, code, m, Some(t));
        }
        if d == 0 {
            t.request_done = true;
            t.rec.timing.request_end = Some(ts);
            if t.ask.is_some() && !lost && body_error.is_none() {
                // Later client bytes wait for the answer.
                self.sides[0].phase = Phase::Hold;
                self.sides[0].hold_gap = false;
            }
        } else {
            t.response_done = true;
            t.rec.timing.response_end = Some(ts);
            let resume = t.ask.is_some() && t.rec.switched_to.is_none();
            if resume {
                refused_switch(t, end_off, em);
            }
            self.resp_cursor += 1;
            if resume {
                self.resume_held(em);
            }
        }
        if body_error.is_some() || lost {
            self.sides[d].phase = Phase::Lost;
            self.sides[d].after_gap = lost;
            self.sides[d].at_line_start = false;
        }
        self.flush_done(em);
    }

    /// The answer to an Upgrade/CONNECT did not switch: the held client bytes are HTTP.
    fn resume_held(&mut self, em: &mut Em<'_>) {
        if !matches!(self.sides[0].phase, Phase::Hold) {
            return;
        }
        let gap = self.sides[0].hold_gap;
        self.sides[0].phase = if gap { Phase::Lost } else { Phase::Head };
        let buf = std::mem::take(&mut self.sides[0].buf);
        let off = self.sides[0].buf_offset;
        if !buf.is_empty() {
            self.feed(0, off, &buf, em);
        }
    }

    /// Emits every transaction at the front of the queue that is done.
    fn flush_done(&mut self, em: &mut Em<'_>) {
        while self
            .pending
            .front()
            .is_some_and(|t| t.request_done && t.response_done)
        {
            if let Some(t) = self.pending.pop_front() {
                self.resp_cursor = self.resp_cursor.saturating_sub(1);
                self.emit(t, em);
            }
        }
    }

    fn emit(&mut self, t: Txn, em: &mut Em<'_>) {
        let mut rec = t.rec;
        rec.state = match (&rec.request, &rec.response) {
            (Some(_), Some(_)) => TxnState::Complete,
            (None, _) => TxnState::NoRequest,
            (Some(_), None) => TxnState::NoResponse,
        };
        rec.timing.derive();
        em.out.record(Record::Transaction(rec));
    }
}

/// What a response switches the connection to, if it does: `tunnel` for a 2xx to CONNECT, the
/// protocol of a `101` (its first `Upgrade` token, else the request's).
fn switch_asked(
    t: &mut Txn,
    h: &Head,
    status: u16,
    offset: u64,
    em: &mut Em<'_>,
) -> Option<String> {
    match (&t.ask, status) {
        (Some(SwitchAsk::Connect), 200..=299) => Some("tunnel".to_string()),
        (_, 101) => {
            let token = h
                .list("upgrade")
                .next()
                .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase());
            let asked = match &t.ask {
                Some(SwitchAsk::Upgrade(tokens)) => tokens.first().cloned(),
                _ => None,
            };
            if asked.is_none() {
                em.finding(
                    Dir::ServerToClient,
                    offset,
                    &codes::HTTP_UNSOLICITED_SWITCH,
                    "101 Switching Protocols to a request that did not ask to upgrade \
                     (RFC 9110 §15.2.2: a server must not switch unasked)"
                        .into(),
                    Some(t),
                );
            }
            Some(token.or(asked).unwrap_or_else(|| "unknown".into()))
        }
        _ => None,
    }
}

/// An Upgrade or CONNECT that was answered without switching: recorded with the reason.
fn refused_switch(t: &mut Txn, at: u64, em: &mut Em<'_>) {
    let (status, reason) = t
        .rec
        .response
        .as_ref()
        .map(|r| (r.status, r.reason.clone()))
        .unwrap_or_default();
    let server = t
        .rec
        .response
        .as_ref()
        .and_then(|r| r.headers.get("server"))
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let why = format!("{status} {reason}");
    match &t.ask {
        Some(SwitchAsk::Connect) => {
            // A tunnel that never opened: its record says why, at once.
            let id = em.ids.tunnel();
            let ctx = em.ctx;
            em.out.record(Record::Tunnel(Box::new(TunnelRecord {
                target: t.rec.request.as_ref().map(|r| r.target.clone()),
                refused: Some(why),
                transaction: Some(t.rec.id),
                ..TunnelRecord::new(id, ctx.conn, ctx.client, ctx.server, "connect")
            })));
        }
        Some(SwitchAsk::Upgrade(tokens)) if tokens.iter().any(|x| x == "websocket") => {
            let hint = match status {
                505 => {
                    "the upstream saw an HTTP/1.0 request: a proxy in between speaks HTTP/1.0 upstream and dropped the upgrade"
                }
                426 => {
                    "the server demands an upgrade it did not get: a proxy in between stripped Upgrade/Connection (hop-by-hop)"
                }
                400 => {
                    "the server rejected the handshake: often a proxy that dropped Upgrade/Connection, or a missing/invalid Sec-WebSocket-Key or -Version"
                }
                403 => "the server refused it: often an Origin check",
                404 => "no WebSocket endpoint at this path",
                200..=299 => {
                    "a plain response: the upgrade never reached a WebSocket server (a proxy dropped Upgrade/Connection, or the path is not a WebSocket endpoint)"
                }
                _ => "the server or a proxy answered without switching",
            };
            let via = server
                .map(|s| format!(" (Server: {s})"))
                .unwrap_or_default();
            em.finding(
                Dir::ServerToClient,
                at,
                &codes::WS_UPGRADE_REFUSED,
                format!(
                    "the WebSocket upgrade was answered {status} {reason}{via} instead of 101: \
                     {hint}. If a reverse proxy is in front, it must forward the upgrade (nginx: \
                     proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; \
                     proxy_set_header Connection \"upgrade\";)"
                ),
                Some(t),
            );
        }
        _ => {}
    }
}

fn scheme_name(s: &str) -> &str {
    match s {
        "basic" => "Basic",
        "digest" => "Digest",
        "bearer" => "Bearer",
        "negotiate" => "Negotiate",
        "ntlm" => "NTLM",
        other => other,
    }
}

/// The body record before any body byte: framing and the fields that describe it.
fn empty_body(framing: &Framing, h: &Head) -> BodyRecord {
    BodyRecord {
        framing: message::framing_kind(framing),
        content_type: message::content_type(h),
        content_encoding: message::content_codings(h),
        transfer_encoding: message::transfer_codings(h),
        ..empty_body_bare()
    }
}

fn empty_body_bare() -> BodyRecord {
    BodyRecord {
        framing: BodyFraming::None,
        state: BodyState::Complete,
        wire_length: 0,
        length: 0,
        decoded_length: None,
        decoding: None,
        content_type: None,
        content_encoding: Vec::new(),
        transfer_encoding: Vec::new(),
        missing_bytes: 0,
        chunks: None,
        chunk_extensions: Vec::new(),
        trailers: Default::default(),
        preview: None,
        preview_b64: None,
        preview_truncated: false,
        byteranges: None,
    }
}

#[cfg(test)]
mod tests;
