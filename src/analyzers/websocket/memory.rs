//! What a WebSocket conversation holds, for the memory budget: each direction's frame header
//! in progress, the message and control frame being assembled (previews, payloads, frame
//! lists), the inflater of permessage-deflate and its buffers, and the unanswered pings.

use super::{Msg, WsConn, WsDir};
use crate::base::heap;
use crate::model::websocket::WebSocketRecord;

impl Msg {
    fn heap_bytes(&self) -> usize {
        size_of::<Self>()
            + heap::vec(&self.preview)
            + heap::vec(&self.utf8_carry)
            + heap::vec(&self.payload)
            + heap::vec(&self.frame_list)
    }
}

impl WsDir {
    fn heap_bytes(&self) -> usize {
        heap::vec(&self.hdr)
            + self.msg.as_ref().map_or(0, Msg::heap_bytes)
            + self.ctl.as_ref().map_or(0, Msg::heap_bytes)
            + self.inflater.as_ref().map_or(0, |_| heap::INFLATER)
            + heap::vec(&self.scratch)
            + heap::vec(&self.out)
    }
}

impl WsConn {
    /// Heap bytes this conversation holds.
    pub(super) fn heap_bytes(&self) -> usize {
        size_of::<Self>()
            + size_of::<WebSocketRecord>()
            + self.dirs.iter().map(WsDir::heap_bytes).sum::<usize>()
            + self
                .pings
                .iter()
                .map(|p| heap::deque(p) + p.iter().map(|(b, _)| heap::vec(b)).sum::<usize>())
                .sum::<usize>()
            + heap::vec(&self.reported)
    }
}
