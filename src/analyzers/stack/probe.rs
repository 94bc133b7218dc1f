//! The layer every stream starts with: it watches the first bytes of both directions and
//! switches to what they are. Recognition is by content, never by port.

use crate::analyzers::h2;
use crate::analyzers::http::head;
use crate::analyzers::layer::{Ids, Layer, Next, Prefix, Switch};
use crate::analyzers::socks;
use crate::analyzers::tls;
use crate::analyzers::websocket::frame;
use crate::base::heap;
use crate::engine::Ctx;
use crate::model::{Dir, RecordSink};

/// Bytes looked at per direction to recognise a protocol (a request line can be long).
const PROBE_BYTES: usize = 8192;
/// Undecided after this many bytes (both directions): nothing hopscope knows.
const PROBE_GIVE_UP: usize = 16 * 1024;
/// Tunnels inside tunnels analysed at most this deep.
const MAX_DEPTH: u8 = 4;

/// Not decided yet: the first bytes of each direction, and everything in arrival order for the
/// layer that comes next.
#[derive(Default)]
pub struct Probe {
    seen: [Vec<u8>; 2],
    /// (direction, stream offset, bytes) in arrival order, for replay.
    log: Vec<(Dir, u64, Vec<u8>)>,
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
}

impl Layer for Probe {
    type Shared = ();

    fn footprint(&self) -> usize {
        size_of::<Self>()
            + heap::vec(&self.seen[0])
            + heap::vec(&self.seen[1])
            + heap::vec(&self.log)
            + self.log.iter().map(|l| heap::vec(&l.2)).sum::<usize>()
    }

    fn data(
        &mut self,
        _: &mut (),
        _: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        data: &[u8],
        _: &mut dyn RecordSink,
    ) -> Option<Switch> {
        let seen = &mut self.seen[ctx.dir.index()];
        seen.extend_from_slice(&data[..data.len().min(PROBE_BYTES.saturating_sub(seen.len()))]);
        self.log.push((ctx.dir, offset, data.to_vec()));
        if let Some(kind) = decide(self, ctx) {
            // Everything seen, this delivery included, is replayed to the next layer.
            return Some(Switch {
                next: self.next(kind),
                replay: std::mem::take(&mut self.log),
                rest: data.len(),
                keep: false,
            });
        }
        if self.log.iter().map(|l| l.2.len()).sum::<usize>() > PROBE_GIVE_UP {
            // Still undecided after this much: nothing we know.
            return Some(Switch::to(Next::Opaque));
        }
        None
    }

    fn gap(
        &mut self,
        _: &mut (),
        _: &mut Ids,
        _: &Ctx,
        _: u64,
        _: u64,
        _: &mut dyn RecordSink,
    ) -> Option<Switch> {
        // Without its first bytes a stream is not recognised.
        Some(Switch::to(Next::Opaque))
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

/// Decides what a stream is from its first bytes, or `None` to wait for more.
fn decide(p: &Probe, ctx: &Ctx) -> Option<Kind> {
    // Empty lines before a message are tolerated by HTTP (RFC 9112 §2.2); look past them.
    let skip = |b: &[u8]| b.iter().take_while(|&&x| x == b'\r' || x == b'\n').count();
    let (c, s) = (&p.seen[0], &p.seen[1]);
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
        if p.depth == 0 {
            match socks::looks_like_socks(c) {
                Prefix::Yes => return Some(Kind::Socks),
                Prefix::Maybe => maybe = true,
                Prefix::No => {}
            }
        }
        if c.len() >= 2 || !maybe {
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
        if tls::looks_like_tls(s) == Prefix::Yes {
            return Some(Kind::Tls);
        }
        if c.is_empty() && looks_like_h2_server_start(s) {
            // An HTTP/2 server may send its SETTINGS before the client's preface arrives
            // (RFC 9113 §3.4): wait for the client rather than take it for WebSocket frames.
            return None;
        }
        if ctx.midstream || c.is_empty() {
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
