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
//! The connection ends as HTTP after `101 Switching Protocols` or an accepted CONNECT: it asks
//! the stack for the next protocol (`Next`) and hands over the held bytes; it never builds
//! another protocol's state.
//!
//! Layout: this file runs each direction (heads, resynchronisation, gaps) and the queue;
//! `txn.rs` turns heads into transactions, `body.rs` frames and decodes bodies, `switch.rs`
//! ends HTTP when the connection switches protocols, `limit.rs` keeps the pairing right when
//! the pipeline limit gives requests up.
//!
//! Bounds: a head at most [`HttpConfig::head`] bytes, [`HttpConfig::max_pending`] transactions
//! in flight (past it the oldest waiting request is given up and its response reported as an
//! orphan, never paired with a later request: `limit.rs`), [`HttpConfig::max_hold`] held bytes,
//! decoded bodies at most [`HttpConfig::max_decoded`]. Every bound hit is a finding.

use std::collections::VecDeque;
use std::net::IpAddr;

use rustc_hash::FxHashSet;

use super::HttpConfig;
use super::head::{self, Parsed, Prefix, Start};
use crate::analyzers::layer::{Ids, Layer, Next, Switch};
use crate::base::Timestamp;
use crate::engine::Ctx;
use crate::model::codes::{self, Code};
use crate::model::http::{HttpStats, TxnState};
use crate::model::{Dir, Finding, Record, RecordSink};
use body::BodyRun;

/// Analyzer-wide state: configuration, id allocation, once-only findings, counters.
pub struct Shared {
    pub cfg: HttpConfig,
    next_txn: u64,
    /// (client, header, scheme) already reported for cleartext credentials.
    creds_seen: FxHashSet<(IpAddr, &'static str, String)>,
    pub stats: HttpStats,
    /// A run split over threads by connection: findings reported once per run are left to
    /// the merge (tagged with their key), not decided here.
    pub defer_once: bool,
    /// The buffers every head is parsed into, reused from one head to the next.
    spare: head::Spare,
}

/// Keys of findings reported once per run remembered (beyond, they are reported again).
pub const MAX_CREDS_SEEN: usize = 65_536;

impl Shared {
    pub fn new(cfg: HttpConfig) -> Self {
        Shared {
            cfg,
            next_txn: 0,
            creds_seen: FxHashSet::default(),
            stats: HttpStats::default(),
            defer_once: false,
            spare: head::Spare::default(),
        }
    }

    /// The next transaction id: one counter for HTTP/1 and HTTP/2 (`transactions[].id`),
    /// counted in the stats.
    /// Transaction ids given so far.
    pub fn txn_ids(&self) -> u64 {
        self.next_txn
    }

    pub fn next_txn_id(&mut self) -> u64 {
        let id = self.next_txn;
        self.next_txn += 1;
        self.stats.transactions += 1;
        id
    }
}

/// Where a message began.
#[derive(Clone, Copy, Debug)]
struct Mark {
    ts: Timestamp,
    packet: u64,
    offset: u64,
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
    /// Requests given up at the pipeline limit whose responses are still to come.
    overflow: Option<Box<limit::Overflow>>,
    /// The stream is decrypted TLS: transactions are `https`, credentials are not cleartext.
    secure: bool,
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

    /// The same, on the decrypted stream of TLS (`https`).
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
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
        self.finding_once(dir, offset, code, msg, txn, None);
    }

    /// A finding reported once per `once` key in the run (`Finding::once`).
    fn finding_once(
        &mut self,
        dir: Dir,
        offset: u64,
        code: &'static Code,
        msg: String,
        txn: Option<&mut Txn>,
        once: Option<crate::model::OnceKey>,
    ) {
        let mut f = Finding::new(code, msg)
            .conn(self.ctx.conn)
            .at(self.ctx.packet, self.ctx.ts)
            .dir(dir, offset);
        if let Some(t) = txn {
            f = f.txn(t.rec().id);
            if !t.rec().findings.contains(&code.name) {
                t.rec_mut().findings.push(code.name);
            }
        }
        f.once = once.map(Box::new);
        self.out.record(Record::Finding(Box::new(f)));
    }
}

/// HTTP/1 as a layer of a stream. It ends when a response switches the connection (101, 2xx
/// to CONNECT) or when neither direction turns out to be HTTP: then it asks the stack to
/// switch, handing over the client bytes that waited for the answer.
impl Layer for HttpConn {
    type Shared = Shared;

    fn shed(&mut self) -> Vec<String> {
        self.shed_decoders()
    }

    fn footprint(&self) -> usize {
        self.heap_bytes()
    }

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
            overflow: None,
            secure: false,
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
                self.end_body(d, &mut run, end_off, em);
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
        self.report_overflow(em);
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
        if d == 1 && self.next_response_is_09() && head::looks_like_response(view) == Prefix::No {
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
        let sh = &mut *em.sh;
        let parsed = head::parse(view, &sh.cfg.head, d == 0, &mut sh.spare);
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
            Parsed::Complete(mut h) => {
                let hlen = h.len;
                self.sides[d].buf_mark = None;
                let after_gap = std::mem::take(&mut self.sides[d].after_gap);
                if d == 0 {
                    self.request_head(&mut h, mark, after_gap, em);
                } else {
                    self.response_head(&mut h, mark, after_gap, em);
                }
                h.recycle(&mut em.sh.spare);
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

    /// Looks for a start line at a line boundary (or, after a gap, at the segment boundary);
    /// returns bytes consumed.
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
        // The same scan the probe picks a stream up with after a gap.
        let boundary = side.at_line_start || side.after_gap;
        let found = head::find_start(view, boundary, d == 0);
        let skipped = match found {
            Start::At(p) | Start::Maybe(p) => p,
            Start::None => view.len(),
        };
        em.sh.stats.resync_skipped_bytes += skipped as u64;
        let used = match found {
            Start::At(p) => {
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
            Start::Maybe(p) => {
                side.buf = view.get(p..).unwrap_or_default().to_vec();
                side.buf_offset = start + p as u64;
                rest.len()
            }
            Start::None => {
                side.buf.clear();
                rest.len()
            }
        };
        if matches!(found, Start::At(_)) && !self.sides[d].confirmed {
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
                    self.end_body(d, &mut run, offset + absorbed, em);
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
        let mut rec = t.into_rec();
        rec.state = match (&rec.request, &rec.response) {
            (Some(_), Some(_)) => TxnState::Complete,
            (None, _) => TxnState::NoRequest,
            (Some(_), None) => TxnState::NoResponse,
        };
        rec.timing.derive();
        em.out.record(Record::Transaction(rec));
    }
}

mod body;
mod limit;
mod memory;
mod pending;
mod switch;
mod txn;

use pending::Txn;

#[cfg(test)]
mod pairing_tests;
#[cfg(test)]
mod tests;
