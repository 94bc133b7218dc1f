//! What the frame follower tells whoever follows the streams ([`super::txn`]), as it reads:
//! frame headers, decoded header blocks field by field, DATA payload bytes without padding,
//! END_STREAM, RST_STREAM, GOAWAY. Each call is in stream order for its direction; nothing is
//! buffered for it (a DATA payload is handed over as the bytes arrive, split anywhere).

use super::frame::FrameInfo;

/// A header block about to be handed over field by field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockStart {
    /// The stream of the HEADERS or PUSH_PROMISE frame.
    pub stream: u32,
    /// For a PUSH_PROMISE, the promised stream (the fields are its request).
    pub promised: Option<u32>,
    /// The HEADERS frame carried END_STREAM: the stream's side ends with this block.
    pub end_stream: bool,
}

/// The follower's events; every method defaults to doing nothing, and `()` ignores them all.
/// `dir` is 0 for the client, 1 for the server. [`super::ws::Watch`] (RFC 8441's WebSockets)
/// forwards every method to the transactions' tracker: a new method is forwarded there too.
pub trait Events {
    /// A frame header was read (its payload follows).
    fn frame(&mut self, _dir: usize, _h: &FrameInfo) {}

    /// A header block ended (END_HEADERS) and is decoded now: [`Events::field`] follows for
    /// each field in order, then [`Events::block_end`].
    fn block_start(&mut self, _dir: usize, _b: &BlockStart) {}

    /// One decoded field, name and value as sent (pseudo-header fields included).
    fn field(&mut self, _dir: usize, _name: &[u8], _value: &[u8]) {}

    /// The block is over: `decoded` is false when HPACK could not decode it (decoding had
    /// stopped in this direction, bytes of the block were lost, the block was cut short);
    /// then the fields handed over, if any, are not all of it.
    fn block_end(&mut self, _dir: usize, _decoded: bool) {}

    /// Bytes of a DATA payload on `stream`, padding left out.
    fn data(&mut self, _dir: usize, _stream: u32, _bytes: &[u8]) {}

    /// `n` bytes of a DATA payload on `stream` were lost in a capture gap.
    fn data_lost(&mut self, _dir: usize, _stream: u32, _n: u64) {}

    /// A DATA frame ended: its size on the wire (header and padding included) and whether it
    /// carried END_STREAM.
    fn data_end(&mut self, _dir: usize, _stream: u32, _wire: u64, _end_stream: bool) {}

    /// RST_STREAM on `stream` with this error code.
    fn reset(&mut self, _dir: usize, _stream: u32, _code: u32) {}

    /// GOAWAY: streams opened by the other side above `last_stream` were not processed.
    fn goaway(&mut self, _dir: usize, _last_stream: u32, _code: u32) {}
}

impl Events for () {}
