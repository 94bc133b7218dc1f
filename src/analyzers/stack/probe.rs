//! The layer every stream starts with: it watches the first bytes of both directions and
//! switches to what they are. Recognition is by content, never by port.
//!
//! A gap before the protocol is known takes the start of its direction: the bytes before it
//! say nothing any more. The probe goes on looking in that direction for the next place a
//! message plausibly starts: an HTTP request or status line at a segment boundary (every
//! delivery after the gap begins at one) or a line start, by the scan HTTP resynchronises with
//! ([`head::find_start`]), or a TLS record header at a segment boundary. HTTP/2, SOCKS and
//! WebSocket are recognised only from a direction's true start: their first bytes after a gap
//! are too easily random payload. While it looks, the probe keeps only the bytes that could
//! still begin a message; those it skipped reach the next layer as part of the gap (the
//! engine's `tcp.gap` says how many were missing). What it holds stays within the bound it
//! always had ([`PROBE_GIVE_UP`]), and a stream given up after a gap is a
//! `tcp.undecided-after-gap` finding, not a silent loss.

use std::borrow::Cow;

use crate::analyzers::h2;
use crate::analyzers::http::head::{self, Start};
use crate::analyzers::layer::{Held, Ids, Layer, Next, Prefix, Switch};
use crate::analyzers::socks;
use crate::analyzers::tls;
use crate::analyzers::websocket::frame;
use crate::base::heap;
use crate::engine::Ctx;
use crate::model::{Dir, Finding, Record, RecordSink, codes};

/// Bytes looked at per direction to recognise a protocol (a request line can be long).
const PROBE_BYTES: usize = 8192;
/// Undecided with this many bytes held (both directions): nothing hopscope knows.
const PROBE_GIVE_UP: usize = 16 * 1024;
/// Tunnels inside tunnels analysed at most this deep.
const MAX_DEPTH: u8 = 4;

/// What gaps did to a stream still undecided (boxed: most streams never see one, and the
/// probe lives inline in every stack).
#[derive(Default)]
struct Gaps {
    /// Per direction: a gap took its start and no message start was found after it yet.
    lost: [Option<Lost>; 2],
    /// Per direction: a gap happened (no guessing from frame shapes).
    gapped: [bool; 2],
}

/// A direction looking for a message start after a gap.
struct Lost {
    /// Index in the log of the gap, which grows over the bytes skipped after it.
    gap: usize,
    /// Bytes that could still begin a message (a start line not complete yet), from stream
    /// offset `at`; replayed at log index `pos`, where their first byte arrived.
    tail: Vec<u8>,
    at: u64,
    pos: usize,
}

/// Not decided yet: the first bytes of each direction, and everything in arrival order for the
/// layer that comes next.
#[derive(Default)]
pub struct Probe {
    /// Each direction's first bytes (at most [`PROBE_BYTES`]); emptied by a gap.
    seen: [Vec<u8>; 2],
    gaps: Option<Box<Gaps>>,
    /// (direction, stream offset, bytes or gap) in arrival order, for replay.
    log: Vec<(Dir, u64, Held)>,
    /// Bytes in `log`.
    logged: usize,
    /// Tunnels this stream is inside.
    depth: u8,
    /// Transactions already on this connection (before a CONNECT tunnel): HTTP inside goes
    /// on counting from here, so `index` stays the position on the connection.
    index_base: u32,
}

impl Probe {
    pub fn new(depth: u8, index_base: u32) -> Self {
        Probe {
            depth,
            index_base,
            ..Probe::default()
        }
    }

    /// What the stream is, from what the probe saw.
    fn next(&self, kind: Kind) -> Next {
        match kind {
            Kind::Http if self.depth <= MAX_DEPTH => Next::Http {
                index: self.index_base,
            },
            Kind::Tls => Next::Tls,
            Kind::Socks => Next::Socks,
            Kind::H2 => Next::H2,
            Kind::WebSocket => {
                let start = |d: Dir| {
                    self.log
                        .iter()
                        .filter(|l| l.0 == d)
                        .map(|l| l.1)
                        .min()
                        .unwrap_or(0)
                };
                Next::WebSocket {
                    starts: [start(Dir::ClientToServer), start(Dir::ServerToClient)],
                }
            }
            _ => Next::Opaque,
        }
    }

    /// Bytes held: those logged and the tails of directions still looking past a gap.
    fn held(&self) -> usize {
        let tails: usize = (self.gaps.iter())
            .flat_map(|g| g.lost.iter().flatten())
            .map(|l| l.tail.len())
            .sum();
        self.logged + tails
    }

    /// Switches to `kind`, handing over everything held in arrival order (the delivery being
    /// made included).
    fn switch(&mut self, kind: Kind, delivered: usize) -> Switch {
        let next = self.next(kind);
        let mut replay = std::mem::take(&mut self.log);
        let mut tails: Vec<(usize, Dir, u64, Vec<u8>)> = Vec::new();
        if let Some(g) = self.gaps.as_mut() {
            for (d, lost) in g.lost.iter_mut().enumerate() {
                if let Some(l) = lost.take().filter(|l| !l.tail.is_empty()) {
                    tails.push((l.pos, Dir::from_index(d), l.at, l.tail));
                }
            }
        }
        // Later positions first, so earlier ones stay valid.
        tails.sort_by_key(|t| std::cmp::Reverse(t.0));
        for (pos, dir, at, tail) in tails {
            replay.insert(pos.min(replay.len()), (dir, at, Held::Bytes(tail)));
        }
        Switch {
            next,
            replay,
            rest: delivered,
            keep: false,
        }
    }

    /// Bytes of direction `d`, lost after a gap, at stream offset `offset`: the next message
    /// start in them, if any, is what the stream is; bytes before the last place one could
    /// still start are skipped (the gap grows over them).
    fn look_past_gap(&mut self, d: usize, offset: u64, data: &[u8]) -> Option<Kind> {
        let log_len = self.log.len();
        let lost = self.gaps.as_mut()?.lost[d].as_mut()?;
        let had_tail = lost.tail.len();
        let (view, view_at): (Cow<[u8]>, u64) = if had_tail == 0 {
            (Cow::Borrowed(data), offset)
        } else {
            let mut v = std::mem::take(&mut lost.tail);
            v.extend_from_slice(data);
            (Cow::Owned(v), lost.at)
        };
        // A record header at the segment boundary, else an HTTP start line (never both: a
        // start line begins with a letter, a record with a byte below 24).
        let (start, kind) = match tls::looks_like_record(&view) {
            Prefix::Yes => (Some(0), Some(Kind::Tls)),
            Prefix::Maybe => (Some(0), None),
            Prefix::No => match head::find_start(&view, true, d == 0) {
                Start::At(p) => (Some(p), Some(Kind::Http)),
                Start::Maybe(p) => (Some(p), None),
                Start::None => (None, None),
            },
        };
        let p = start.unwrap_or(view.len());
        let from = view_at + p as u64;
        if let Some((_, at, Held::Gap(n))) = self.log.get_mut(lost.gap) {
            *n = from - *at;
        }
        if p >= had_tail {
            lost.pos = log_len;
        }
        lost.at = from;
        lost.tail = view.get(p..).unwrap_or_default().to_vec();
        kind
    }

    /// A stream still undecided holds more than the probe may: it is given up, with a finding
    /// when a gap took a start (the bytes were lost, not just unknown).
    fn give_up(&mut self, ctx: &Ctx, offset: u64, out: &mut dyn RecordSink) -> Option<Switch> {
        let held = self.held();
        if held <= PROBE_GIVE_UP {
            return None;
        }
        let gapped = self.gaps.as_ref().map_or([false; 2], |g| g.gapped);
        let which = match (gapped[0], gapped[1]) {
            (true, true) => Some("both directions"),
            (true, false) => Some("the client's bytes"),
            (false, true) => Some("the server's bytes"),
            (false, false) => None,
        };
        if let Some(which) = which {
            out.record(Record::Finding(Box::new(
                Finding::new(
                    &codes::TCP_UNDECIDED_AFTER_GAP,
                    format!(
                        "a gap took the start of {which} before the protocol was recognised, and \
                         none was after it: {held} bytes held without an HTTP request or status \
                         line or a TLS record where a message could start; the rest of the \
                         connection is not analysed"
                    ),
                )
                .conn(ctx.conn)
                .at(ctx.packet, ctx.ts)
                .dir(ctx.dir, offset),
            )));
        }
        Some(Switch::to(Next::Opaque))
    }
}

impl Layer for Probe {
    type Shared = ();

    fn footprint(&self) -> usize {
        size_of::<Self>()
            + heap::vec(&self.seen[0])
            + heap::vec(&self.seen[1])
            + heap::vec(&self.log)
            + (self.log.iter())
                .map(|l| match &l.2 {
                    Held::Bytes(b) => heap::vec(b),
                    Held::Gap(_) => 0,
                })
                .sum::<usize>()
            + self.gaps.as_ref().map_or(0, |g| {
                let tails = g.lost.iter().flatten().map(|l| heap::vec(&l.tail));
                heap::boxed::<Gaps>(tails.sum())
            })
    }

    fn data(
        &mut self,
        _: &mut (),
        _: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        let d = ctx.dir.index();
        let kind = if self.gaps.as_ref().is_some_and(|g| g.lost[d].is_some()) {
            self.look_past_gap(d, offset, data)
        } else if self.log.is_empty() && self.gaps.is_none() {
            // The stream's first delivery (most streams are decided by it): decided on the
            // bytes where they are, neither copied nor logged; when it decides, the next layer
            // is handed the whole delivery as the rest of it (`rest` 0), which is the replay of
            // the one logged delivery the copy would have made.
            let first = &data[..data.len().min(PROBE_BYTES)];
            let none: &[u8] = &[];
            let (c, s) = if d == 0 { (first, none) } else { (none, first) };
            let kind = decide(c, s, self, ctx);
            match kind {
                // WebSocket's starts are read from the log.
                Some(Kind::WebSocket) | None => {}
                Some(kind) => {
                    return Some(Switch {
                        next: self.next(kind),
                        replay: Vec::new(),
                        rest: 0,
                        keep: false,
                    });
                }
            }
            self.seen[d].extend_from_slice(first);
            self.log.push((ctx.dir, offset, Held::Bytes(data.to_vec())));
            self.logged += data.len();
            kind
        } else {
            let seen = &mut self.seen[d];
            let room = PROBE_BYTES.saturating_sub(seen.len());
            seen.extend_from_slice(&data[..data.len().min(room)]);
            self.log.push((ctx.dir, offset, Held::Bytes(data.to_vec())));
            self.logged += data.len();
            decide(&self.seen[0], &self.seen[1], self, ctx)
        };
        if let Some(kind) = kind {
            // Everything seen, this delivery included, is replayed to the next layer.
            return Some(self.switch(kind, data.len()));
        }
        self.give_up(ctx, offset, out)
    }

    fn gap(
        &mut self,
        _: &mut (),
        _: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        n: u64,
        _: &mut dyn RecordSink,
    ) -> Option<Switch> {
        // The direction's start is gone: look for the next message start after the gap.
        let d = ctx.dir.index();
        self.seen[d] = Vec::new();
        let g = self.gaps.get_or_insert_with(Box::default);
        g.gapped[d] = true;
        match g.lost[d].as_mut() {
            Some(lost) => {
                // A start line cut by a gap is lost too: the gap grows over it.
                lost.tail = Vec::new();
                if let Some((_, at, Held::Gap(len))) = self.log.get_mut(lost.gap) {
                    *len = offset + n - *at;
                }
            }
            None => {
                g.lost[d] = Some(Lost {
                    gap: self.log.len(),
                    tail: Vec::new(),
                    at: offset + n,
                    pos: self.log.len() + 1,
                });
                self.log.push((ctx.dir, offset, Held::Gap(n)));
            }
        }
        None
    }

    fn close(&mut self, _: &mut (), _: &mut Ids, _: &Ctx, _: &mut dyn RecordSink) {}
}

/// What the first bytes say a stream is.
enum Kind {
    Http,
    H2,
    Tls,
    Socks,
    WebSocket,
    Unknown,
}

/// Decides what a stream is from its first bytes, the client's `c` and the server's `s` (what
/// `p` has seen), or `None` to wait for more.
fn decide(c: &[u8], s: &[u8], p: &Probe, ctx: &Ctx) -> Option<Kind> {
    // Empty lines before a message are tolerated by HTTP (RFC 9112 §2.2); look past them.
    let skip = |b: &[u8]| b.iter().take_while(|&&x| x == b'\r' || x == b'\n').count();
    // After a gap nothing is guessed from frame shapes (random payload passes too easily).
    let gapped = p.gaps.is_some();
    let mut maybe = false;
    // The HTTP/2 preface (RFC 9113 §3.4) is at the very first byte, and also parses as an
    // HTTP/1 request line (`PRI * HTTP/2.0`): it is looked for first, before empty lines
    // are skipped, and while it may still be one the request check waits.
    let preface = h2::looks_like_h2_preface(c);
    match preface {
        Prefix::Yes => return Some(Kind::H2),
        Prefix::Maybe if !c.is_empty() => maybe = true,
        _ => {}
    }
    let c = &c[skip(c)..];
    let s = &s[skip(s)..];
    if !c.is_empty() {
        match head::looks_like_request(c) {
            _ if preface == Prefix::Maybe => {}
            Prefix::Yes => return Some(Kind::Http),
            Prefix::Maybe => maybe = true,
            Prefix::No => {}
        }
        match tls::looks_like_tls(c) {
            Prefix::Yes => return Some(Kind::Tls),
            Prefix::Maybe => maybe = true,
            Prefix::No => {}
        }
        // Picked up mid-stream: any TLS record (application data after a handshake the
        // capture missed) says TLS, so the connection is reported as such.
        if ctx.midstream && tls::looks_like_record(c) == Prefix::Yes {
            return Some(Kind::Tls);
        }
        if p.depth == 0 {
            match socks::looks_like_socks(c) {
                Prefix::Yes => return Some(Kind::Socks),
                Prefix::Maybe => maybe = true,
                Prefix::No => {}
            }
        }
        if !gapped && (c.len() >= 2 || !maybe) {
            match frame::looks_like_frames(c, true) {
                Prefix::Yes => return Some(Kind::WebSocket),
                Prefix::Maybe => maybe = true,
                Prefix::No => {}
            }
        }
    }
    if !s.is_empty() {
        match head::looks_like_response(s) {
            Prefix::Yes => return Some(Kind::Http),
            Prefix::Maybe => maybe = true,
            Prefix::No => {}
        }
        if tls::looks_like_tls(s) == Prefix::Yes
            || (ctx.midstream && tls::looks_like_record(s) == Prefix::Yes)
        {
            return Some(Kind::Tls);
        }
        if c.is_empty() && looks_like_h2_server_start(s) {
            // An HTTP/2 server may send its SETTINGS before the client's preface arrives
            // (RFC 9113 §3.4): wait for the client rather than take it for WebSocket frames.
            return None;
        }
        if !gapped && (ctx.midstream || c.is_empty()) {
            match frame::looks_like_frames(s, false) {
                Prefix::Yes if c.is_empty() || frame::looks_like_frames(c, true) != Prefix::No => {
                    return Some(Kind::WebSocket);
                }
                Prefix::Maybe => maybe = true,
                _ => {}
            }
        }
    }
    // A client that does not start like anything known: wait for the server (a server that
    // answers with an HTTP status line makes it HTTP, e.g. a 400 to garbage).
    if maybe || s.is_empty() {
        None
    } else {
        Some(Kind::Unknown)
    }
}

/// Could `s` begin with an HTTP/2 server's first frame, a SETTINGS frame (RFC 9113 §3.4:
/// type 4, not an ACK, stream 0, whole 6-byte entries, here fewer than 64 KiB of them)?
fn looks_like_h2_server_start(s: &[u8]) -> bool {
    let at = |i: usize| s.get(i).copied();
    let length = match (at(0), at(1), at(2)) {
        (Some(a), Some(b), Some(c)) => Some(u32::from_be_bytes([0, a, b, c])),
        _ => None,
    };
    !s.is_empty()
        && at(0) == Some(0)
        && length.is_none_or(|n| n.is_multiple_of(6))
        && at(3).is_none_or(|t| t == 4)
        && at(4).is_none_or(|f| f & 1 == 0)
        && (5..9).all(|i| at(i).is_none_or(|b| b == 0))
}
