//! What an HTTP/1 connection holds, for the memory budget: each direction's buffer (a head in
//! progress, held or resync bytes) and body run (framing, content decoders, preview), and the
//! transactions waiting for their response.

use super::{HttpConn, Phase, Side, Txn};
use crate::base::heap;

/// Heads in progress smaller than this are kept when the budget is short (a head is at most
/// 64 KiB; giving up a small one frees little and loses a message).
const SHED_HEAD: usize = 8 << 10;

impl Side {
    fn heap_bytes(&self) -> usize {
        let phase = match &self.phase {
            Phase::Body(b) => b.heap_bytes(),
            _ => 0,
        };
        heap::vec(&self.buf) + phase
    }
}

impl HttpConn {
    /// Heap bytes this connection's HTTP state holds.
    pub(super) fn heap_bytes(&self) -> usize {
        size_of::<Self>()
            + self.sides.iter().map(Side::heap_bytes).sum::<usize>()
            + heap::deque(&self.pending)
            + self.pending.iter().map(Txn::heap_bytes).sum::<usize>()
            + self.overflow.as_ref().map_or(0, |o| o.heap_bytes())
    }
}

impl HttpConn {
    /// Gives up the content decoders of the bodies in progress (each body's decoded length
    /// stops where it is and its `decoding` is `shed`) and the heads in progress of more than
    /// [`SHED_HEAD`] bytes (those messages are lost; the direction looks for the next message
    /// start, as after a gap).
    pub(super) fn shed_decoders(&mut self) -> Vec<String> {
        let mut what = Vec::new();
        for (d, side) in self.sides.iter_mut().enumerate() {
            if matches!(side.phase, Phase::Head) && side.buf.capacity() >= SHED_HEAD {
                let held = side.buf.capacity();
                side.buf = Vec::new();
                side.buf_mark = None;
                side.phase = Phase::Lost;
                side.after_gap = true;
                side.at_line_start = false;
                let which = if d == 0 { "request" } else { "response" };
                what.push(format!(
                    "a {which} head in progress ({held} bytes; that message is lost, the next \
                     one is looked for as after a gap)"
                ));
            }
            if let Phase::Body(b) = &mut side.phase
                && let Some((freed, codings)) = b.shed()
            {
                let which = if d == 0 { "request" } else { "response" };
                what.push(format!(
                    "the {codings} decoder of a {which} body in progress ({freed} bytes; the body \
                     is not decoded further, its decoding is \"shed\")"
                ));
            }
        }
        what
    }
}
