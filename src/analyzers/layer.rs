//! The one interface of every protocol on a byte stream, and how a protocol hands the stream on.
//!
//! A connection's stream is a stack of layers ([`super::stack`]): tunnels (SOCKS, CONNECT) that
//! carry a stack of their own, TLS, then HTTP/1, HTTP/2, WebSocket or bytes nobody analyses.
//! Every layer takes the same input — bytes of a direction at a stream offset, gaps, the end —
//! and reports records and findings into the [`RecordSink`] it is handed, as soon as it knows
//! them. No layer is polled for what it found.
//!
//! A layer whose protocol ends mid-stream does not build what follows: it returns a [`Switch`]
//! naming the next protocol ([`Next`]) and handing over the bytes it holds that belong to it.
//! The probe every stream starts with switches to what it recognised; HTTP/1 switches after
//! `101 Switching Protocols`, after a CONNECT the proxy accepted, or when it turns out not to
//! be HTTP. The stack decides which layer comes next, builds it and replays the bytes; a new
//! protocol (the TLS decryption of the next issue) is one more [`Next`] and one more layer, and
//! no protocol module knows another.
//!
//! Why a trait and an enum: the trait is the contract, one signature and one meaning for every
//! layer, checked by the compiler; the stack keeps its layers in an enum and calls the trait
//! through a `match`, so a chunk costs a jump, not a virtual call, and layers need no common
//! allocation. [`Layer::Shared`] is what every stream's instance of a layer shares
//! (configuration, counters, ids): HTTP is handed HTTP's, WebSocket WebSocket's; the layers
//! that carry others (TLS, the tunnels, and HTTP/2 for the WebSockets on its streams, RFC
//! 8441) are handed the whole.
//!
//! Followers that keep their own notes (TLS, SOCKS, HTTP/2: their tests read them) report them
//! through [`Raised`], right after the call that raised them.

use crate::engine::Ctx;
use crate::model::http::{Headers, RequestRecord, Timing};
use crate::model::{Dir, Finding, Record, RecordSink};

/// A protocol on a byte stream: bytes and gaps in, records and findings out.
///
/// Every call gives the delivery in `ctx`: `ctx.dir` is the direction of the bytes or gap, and
/// the packet and time are those of the packet that completed it. A layer that returns a
/// [`Switch`] gets no more bytes or gaps.
pub trait Layer {
    /// What all streams' instances of this layer share (configuration, counters, ids).
    type Shared;

    /// Bytes of direction `ctx.dir`, in stream order, the first at stream offset `offset`.
    fn data(
        &mut self,
        sh: &mut Self::Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) -> Option<Switch>;

    /// `n` bytes of direction `ctx.dir` at stream offset `offset` are missing from the capture.
    fn gap(
        &mut self,
        sh: &mut Self::Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> Option<Switch>;

    /// After a switch this layer asked for with [`Switch::keep`]: the next layer holds the
    /// stream and has taken the bytes handed over. What waited for that is reported now, so
    /// records come in the order they would if this layer had fed the next one itself (HTTP's
    /// `101` transaction after the first findings and messages of the protocol it switched to).
    fn handed_over(
        &mut self,
        _sh: &mut Self::Shared,
        _ids: &mut Ids,
        _ctx: &Ctx,
        _out: &mut dyn RecordSink,
    ) {
    }

    /// The stream ended: report what is still open.
    fn close(&mut self, sh: &mut Self::Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink);

    /// Bytes this layer holds, itself and on the heap (buffers, decoders, records in
    /// progress): what the memory budget counts. An estimate from capacities that errs high.
    fn footprint(&self) -> usize;

    /// The memory budget is short: give up what can be given up (a decoder, an inflater),
    /// one line each of what was given up and what that costs the analysis.
    fn shed(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// A layer's protocol ended: what comes next, and the bytes that are already the next one's.
pub struct Switch {
    pub next: Next,
    /// What the layer had taken that belongs to `next`, in the order to replay it:
    /// (direction, stream offset, bytes or a gap).
    pub replay: Vec<(Dir, u64, Held)>,
    /// Of the bytes being delivered, those from this index on belong to `next` too (after a
    /// gap: unused).
    pub rest: usize,
    /// The layer still has something to report at the stream's end (HTTP/1 transactions in
    /// flight): it stays beneath `next`, is told [`Layer::handed_over`] and is closed after
    /// `next`. Otherwise it is dropped.
    pub keep: bool,
}

impl Switch {
    /// Switches with nothing to hand over (not even the rest of the bytes being delivered) and
    /// nothing left to report.
    pub fn to(next: Next) -> Self {
        Switch {
            next,
            replay: Vec::new(),
            rest: usize::MAX,
            keep: false,
        }
    }
}

/// A piece of a direction handed over at a switch: bytes, or `n` bytes the next layer is told
/// are missing (the probe hands over a gap that took a stream's start this way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    Bytes(Vec<u8>),
    Gap(u64),
}

/// What a stream carries after a switch: what the probe recognised, or what HTTP/1 became.
pub enum Next {
    /// HTTP/1; its first transaction has this index on the connection (inside a CONNECT tunnel
    /// the connection's count goes on).
    Http {
        index: u32,
    },
    /// HTTP/2 with prior knowledge: the client starts with the connection preface.
    H2,
    Tls,
    /// A SOCKS handshake, then its tunnel.
    Socks,
    /// WebSocket frames whose handshake was not captured; each direction's first byte is at
    /// these stream offsets.
    WebSocket {
        starts: [u64; 2],
    },
    /// HTTP/1.1 `101 Switching Protocols`.
    Upgrade(Box<Upgrade>),
    /// The proxy accepted a CONNECT: a tunnel, whose payload is a stream of its own.
    Connect {
        txn: u64,
        target: Option<String>,
        /// Index of the next transaction on the connection.
        index: u32,
    },
    /// Nothing hopscope analyses.
    Opaque,
}

/// An HTTP/1.1 `101 Switching Protocols`, as HTTP/1 saw it.
pub struct Upgrade {
    /// The protocol switched to: the `101`'s first `Upgrade` token (else the request's first),
    /// lower case.
    pub protocol: String,
    /// The upgrading transaction.
    pub txn: u64,
    /// The upgrading request's method (for `h2c` only) and target, when the request was
    /// captured.
    pub method: Option<String>,
    pub target: Option<String>,
    /// The fields of the request (empty when it was not captured) and of the `101`, for those
    /// that read them: WebSocket both, `h2c` the request's (empty otherwise).
    pub request: Headers,
    pub response: Headers,
    /// Stream offset of each direction's first byte of the new protocol.
    pub starts: [u64; 2],
    /// The upgrading request as its transaction records it, and its `request_start` and
    /// `request_end` (HTTP/2 after `h2c` answers it on stream 1, RFC 9113 §3.2).
    pub request_record: Option<Box<RequestRecord>>,
    pub request_timing: Timing,
    /// Index of the next transaction on the connection.
    pub index: u32,
}

/// What a stream's first bytes say about a protocol (its `looks_like_*`): it is, it is not, or
/// more bytes are needed to tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefix {
    Yes,
    Maybe,
    No,
}

/// Ids numbered across the capture, in the order the things start: tunnels (SOCKS and CONNECT,
/// accepted or refused) and HTTP/2 connections.
#[derive(Debug, Default)]
pub struct Ids {
    tunnel: u64,
    h2: u64,
}

impl Ids {
    /// (tunnel, HTTP/2) ids given so far.
    pub fn given(&self) -> (u64, u64) {
        (self.tunnel, self.h2)
    }

    pub fn tunnel(&mut self) -> u64 {
        let id = self.tunnel;
        self.tunnel += 1;
        id
    }

    pub fn h2(&mut self) -> u64 {
        let id = self.h2;
        self.h2 += 1;
        id
    }
}

/// Bytes hopscope does not analyse; the name says what they are when known (`tls` after an
/// upgrade to TLS), else `unknown`.
pub struct Opaque(pub &'static str);

impl Layer for Opaque {
    type Shared = ();

    fn footprint(&self) -> usize {
        size_of::<Self>()
    }

    fn data(
        &mut self,
        _: &mut (),
        _: &mut Ids,
        _: &Ctx,
        _: u64,
        _: &[u8],
        _: &mut dyn RecordSink,
    ) -> Option<Switch> {
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
        None
    }

    fn close(&mut self, _: &mut (), _: &mut Ids, _: &Ctx, _: &mut dyn RecordSink) {}
}

/// A follower's note: the direction (0 client, 1 server) and the offset in the follower's own
/// count of that direction.
pub trait Note {
    fn dir(&self) -> usize;
    fn offset(&self) -> u64;
}

/// How many of a follower's notes are findings already.
#[derive(Debug, Default)]
pub struct Raised(usize);

impl Raised {
    /// The notes after those already raised become findings at the delivery in `ctx`, each at
    /// its direction and at `base[dir] + offset` (where the follower's count starts on the
    /// stream). `finding` says what a note is; the TLS, SOCKS and HTTP/2 layers share this one
    /// loop.
    pub fn raise<N: Note>(
        &mut self,
        notes: &[N],
        base: [u64; 2],
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        mut finding: impl FnMut(&N) -> Finding,
    ) {
        for n in notes.get(self.0..).unwrap_or_default() {
            let at = base[n.dir().min(1)] + n.offset();
            out.record(Record::Finding(Box::new(
                finding(n)
                    .conn(ctx.conn)
                    .at(ctx.packet, ctx.ts)
                    .dir(Dir::from_index(n.dir()), at),
            )));
        }
        self.0 = notes.len();
    }
}
