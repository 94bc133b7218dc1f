//! What an HTTP/1 connection holds, for the memory budget: each direction's buffer (a head in
//! progress, held or resync bytes) and body run (framing, content decoders, preview), and the
//! transactions waiting for their response.

use super::{HttpConn, Phase, Side, Txn};
use crate::base::heap;
use crate::model::http::TransactionRecord;

impl Side {
    fn heap_bytes(&self) -> usize {
        let phase = match &self.phase {
            Phase::Body(b) => b.heap_bytes(),
            _ => 0,
        };
        heap::vec(&self.buf) + phase
    }
}

impl Txn {
    fn heap_bytes(&self) -> usize {
        size_of::<TransactionRecord>() + self.rec.heap_bytes()
    }
}

impl HttpConn {
    /// Heap bytes this connection's HTTP state holds.
    pub(super) fn heap_bytes(&self) -> usize {
        size_of::<Self>()
            + self.sides.iter().map(Side::heap_bytes).sum::<usize>()
            + heap::deque(&self.pending)
            + self.pending.iter().map(Txn::heap_bytes).sum::<usize>()
    }
}
