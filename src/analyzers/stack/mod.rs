//! What one byte stream carries: a stack of layers, and the switches between them.
//!
//! ```text
//!   top      HTTP/1 | HTTP/2 | WebSocket | TLS | opaque     ← bytes and gaps go here
//!   beneath  HTTP/1 that switched (after a 101 or CONNECT)  ← closed after the top
//!
//!   tunnels  CONNECT | SOCKS → a Stack of their own for the payload
//! ```
//!
//! A stream starts with the [`probe::Probe`]. Bytes and gaps go to the layer on top; when it
//! returns a [`Switch`], [`Stack::switch`] decides what the [`Next`] protocol is, builds its
//! layer (the only place that does), replays the bytes handed over, and keeps the old layer
//! beneath when it still reports at the end. Tunnels (CONNECT, SOCKS) hold a stack of their
//! own, one tunnel deeper, and act on nothing of it: every stack owns its switches.

pub mod probe;
mod tls;
mod tunnel;

use super::h2::H2Layer;
use super::http::conn::{HttpConn, Shared as HttpShared};
use super::layer::{Held, Ids, Layer, Next, Opaque, Switch};
use super::tls::TlsShared;
use super::websocket::{WsConn, WsShared};
use crate::engine::Ctx;
use crate::model::RecordSink;
use crate::model::tunnel::TlsInfo;
use probe::Probe;
use tls::TlsStream;
use tunnel::{ConnectTunnel, SocksTunnel};

/// What every stream's layers share, each layer its part.
pub struct Shared {
    pub http: HttpShared,
    pub ws: WsShared,
    pub tls: TlsShared,
    /// The Stream view's pass: copies what one connection's TLS decrypts (none otherwise).
    pub tap: Option<Box<super::pass::Tap>>,
}

/// A layer on a stream.
enum Proto {
    Probe(Probe),
    Http(Box<HttpConn>),
    WebSocket(Box<WsConn>),
    Tls(Box<TlsStream>),
    H2(Box<H2Layer>),
    Socks(Box<SocksTunnel>),
    Connect(Box<ConnectTunnel>),
    Opaque(Opaque),
}

/// Evaluates `$call` with `$l` bound to the layer `$proto` holds and `$s` to that layer's
/// [`Layer::Shared`], taken from `$sh` (a `&mut Shared`): one `match`, no virtual call.
macro_rules! with_layer {
    ($proto:expr, $sh:expr, |$l:ident, $s:ident| $call:expr) => {
        match $proto {
            Proto::Probe($l) => {
                let $s = &mut ();
                $call
            }
            Proto::Http($l) => {
                let $s = &mut $sh.http;
                $call
            }
            Proto::WebSocket($l) => {
                let $s = &mut $sh.ws;
                $call
            }
            Proto::Tls($l) => {
                let $s = &mut *$sh;
                $call
            }
            Proto::H2($l) => {
                let $s = &mut *$sh;
                $call
            }
            Proto::Socks($l) => {
                let $s = &mut *$sh;
                $call
            }
            Proto::Connect($l) => {
                let $s = &mut *$sh;
                $call
            }
            Proto::Opaque($l) => {
                let $s = &mut ();
                $call
            }
        }
    };
}

impl Proto {
    fn shed(&mut self) -> Vec<String> {
        match self {
            Proto::Probe(l) => l.shed(),
            Proto::Http(l) => l.shed(),
            Proto::WebSocket(l) => l.shed(),
            Proto::Tls(l) => l.shed(),
            Proto::H2(l) => l.shed(),
            Proto::Socks(l) => l.shed(),
            Proto::Connect(l) => l.shed(),
            Proto::Opaque(l) => l.shed(),
        }
    }

    fn footprint(&self) -> usize {
        match self {
            Proto::Probe(l) => l.footprint(),
            Proto::Http(l) => l.footprint(),
            Proto::WebSocket(l) => l.footprint(),
            Proto::Tls(l) => l.footprint(),
            Proto::H2(l) => l.footprint(),
            Proto::Socks(l) => l.footprint(),
            Proto::Connect(l) => l.footprint(),
            Proto::Opaque(l) => l.footprint(),
        }
    }

    /// What the layer is, as tunnel records name what they carry.
    fn name(&self) -> &'static str {
        match self {
            Proto::Probe(_) => "none",
            Proto::Http(_) => "http",
            Proto::WebSocket(_) => "websocket",
            Proto::Tls(_) => "tls",
            Proto::H2(h) => h.name(),
            Proto::Socks(_) => "socks",
            Proto::Connect(_) => "tunnel",
            Proto::Opaque(o) => o.0,
        }
    }
}

/// The layers of one byte stream (a connection, or a tunnel's payload).
pub struct Stack {
    /// The layer bytes and gaps go to.
    top: Proto,
    /// Layers that switched to the one above them and still report at the end, bottom first.
    beneath: Vec<Proto>,
    /// Tunnels this stream is inside.
    depth: u8,
    /// The stream is what TLS decrypted.
    secure: bool,
    /// For a decrypted stream, whether the TLS handshake selected ALPN `h2`, once known.
    pub alpn_h2: Option<bool>,
    /// Index of the stream's first HTTP transaction on its connection (inside a CONNECT
    /// tunnel the connection's count goes on, through TLS too).
    index: u32,
}

impl Stack {
    /// Bytes this stream's layers hold (the memory budget's count for it).
    pub fn footprint(&self) -> usize {
        size_of::<Self>()
            + self.top.footprint()
            + self.beneath.iter().map(Proto::footprint).sum::<usize>()
            + self.beneath.capacity() * size_of::<Proto>()
    }

    /// Asks every layer to give up what it can (the memory budget is short). A stream still
    /// undecided gives up its first bytes and is not analysed.
    pub fn shed(&mut self) -> Vec<String> {
        if let Proto::Probe(p) = &self.top {
            let held = p.footprint();
            self.top = Proto::Opaque(Opaque("unknown"));
            return vec![format!(
                "the first bytes of a stream whose protocol was not decided yet ({held} bytes; \
                 the stream is not analysed)"
            )];
        }
        let mut what = self.top.shed();
        for l in &mut self.beneath {
            what.extend(l.shed());
        }
        what
    }

    /// A stream `depth` tunnels deep whose HTTP transactions are numbered from `index`.
    pub fn new(depth: u8, index: u32) -> Self {
        Stack {
            top: Proto::Probe(Probe::new(depth, index)),
            beneath: Vec::new(),
            depth,
            secure: false,
            alpn_h2: None,
            index,
        }
    }

    /// The decrypted stream of TLS, `depth` tunnels deep, its first transaction `index`.
    pub fn decrypted(depth: u8, index: u32) -> Self {
        Stack {
            secure: true,
            ..Stack::new(depth, index)
        }
    }

    /// Bytes of direction `ctx.dir` at stream offset `offset`.
    pub fn data(
        &mut self,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) {
        let top = &mut self.top;
        let switch = with_layer!(top, sh, |l, s| l.data(s, ids, ctx, offset, data, out));
        if let Some(sw) = switch {
            self.switch(sh, ids, ctx, sw, Some((offset, data)), out);
        }
    }

    /// `n` bytes of direction `ctx.dir` at `offset` are missing.
    pub fn gap(
        &mut self,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) {
        let switch = with_layer!(&mut self.top, sh, |l, s| l.gap(s, ids, ctx, offset, n, out));
        if let Some(sw) = switch {
            self.switch(sh, ids, ctx, sw, None, out);
        }
    }

    /// The stream ended: the top layer reports first, then those beneath it, top down.
    pub fn close(&mut self, sh: &mut Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        with_layer!(&mut self.top, sh, |l, s| l.close(s, ids, ctx, out));
        for p in self.beneath.iter_mut().rev() {
            with_layer!(p, sh, |l, s| l.close(s, ids, ctx, out));
        }
    }

    /// What the stream carries, as its tunnel's record names it: the first protocol
    /// recognised on it (`none` before any).
    pub fn name(&self) -> &'static str {
        self.beneath.first().unwrap_or(&self.top).name()
    }

    /// The hellos and decryption, when the stream is TLS.
    pub fn tls(&self, sh: &Shared) -> Option<TlsInfo> {
        match self.beneath.first().unwrap_or(&self.top) {
            Proto::Tls(t) => Some(t.info(sh)),
            _ => None,
        }
    }

    /// Acts on a switch the top layer asked for while `chunk` (stream offset, bytes) was
    /// delivered: the next layer takes the top, the bytes handed over, then the rest of the
    /// chunk.
    fn switch(
        &mut self,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        sw: Switch,
        chunk: Option<(u64, &[u8])>,
        out: &mut dyn RecordSink,
    ) {
        let Switch {
            next,
            replay,
            rest,
            keep,
        } = sw;
        let next = self.build(next, sh, ids, ctx, out);
        let mut old = std::mem::replace(&mut self.top, next);
        // The replay may switch again (the probe's bytes hold HTTP's 101): what that leaves
        // beneath sits above `old`.
        let at = self.beneath.len();
        for (dir, offset, held) in replay {
            let c = Ctx { dir, ..*ctx };
            match held {
                Held::Bytes(bytes) => self.data(sh, ids, &c, offset, &bytes, out),
                Held::Gap(n) => self.gap(sh, ids, &c, offset, n, out),
            }
        }
        if keep {
            with_layer!(&mut old, sh, |l, s| l.handed_over(s, ids, ctx, out));
            self.beneath.insert(at, old);
        }
        if let Some((offset, data)) = chunk
            && let Some(tail) = data.get(rest..)
            && !tail.is_empty()
        {
            self.data(sh, ids, ctx, offset + rest as u64, tail, out);
        }
    }

    /// The layer for `next`: the one place that decides which analyzer runs a protocol.
    fn build(
        &self,
        next: Next,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
    ) -> Proto {
        let deeper = self.depth.saturating_add(1);
        match next {
            Next::Http { index } => {
                Proto::Http(Box::new(HttpConn::starting_at(index).secure(self.secure)))
            }
            Next::H2 => {
                // How the client knew to start with the preface (RFC 9113 §3.2, §3.3).
                let mode = match (self.secure, self.alpn_h2) {
                    (false, _) => "prior-knowledge",
                    (true, Some(true)) => "tls-alpn",
                    (true, _) => "tls",
                };
                Proto::H2(Box::new(
                    H2Layer::prior_knowledge(ids.h2(), ctx, self.index, self.secure).mode(mode),
                ))
            }
            Next::Tls => Proto::Tls(Box::new(TlsStream::new(
                sh.tls.hold,
                self.depth,
                self.index,
            ))),
            Next::Socks => Proto::Socks(Box::new(SocksTunnel::new(
                ids.tunnel(),
                ctx,
                Stack::new(deeper, 0),
            ))),
            Next::WebSocket { starts } => {
                Proto::WebSocket(Box::new(WsConn::recognised(&mut sh.ws, ctx, out, starts)))
            }
            Next::Upgrade(mut up) => match up.protocol.as_str() {
                "websocket" => Proto::WebSocket(Box::new(WsConn::after_upgrade(
                    &mut sh.ws, ctx, out, &mut up,
                ))),
                "h2c" => Proto::H2(Box::new(H2Layer::after_upgrade(
                    ids.h2(),
                    ctx,
                    &up,
                    &mut sh.http,
                    self.secure,
                ))),
                "tls" => Proto::Opaque(Opaque("tls")),
                _ => Proto::Opaque(Opaque("unknown")),
            },
            Next::Connect { txn, target, index } => Proto::Connect(Box::new(ConnectTunnel::new(
                ids.tunnel(),
                ctx,
                txn,
                target,
                Stack::new(deeper, index),
            ))),
            Next::Opaque => Proto::Opaque(Opaque("unknown")),
        }
    }
}

#[cfg(test)]
mod tests;
