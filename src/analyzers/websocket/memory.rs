//! What a WebSocket conversation holds, for the memory budget: each direction's frame header
//! in progress, the message and control frame being assembled (previews, payloads, frame
//! lists), the inflater of permessage-deflate and its buffers, and the unanswered pings.

use super::{Msg, WsConn, WsDir};
use crate::base::heap;
use crate::model::websocket::WebSocketRecord;

impl Msg {
    fn heap_bytes(&self) -> usize {
        size_of::<Self>()
            + heap::string(&self.preview)
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
            + heap::vec(&self.out)
    }
}

impl WsConn {
    /// Heap bytes this conversation holds.
    pub(crate) fn heap_bytes(&self) -> usize {
        size_of::<Self>()
            + size_of::<WebSocketRecord>()
            + self.dirs.iter().map(WsDir::heap_bytes).sum::<usize>()
            + self
                .pings
                .iter()
                .map(|p| heap::deque(p) + p.iter().map(|(b, _)| heap::vec(b)).sum::<usize>())
                .sum::<usize>()
            + self.reported.heap_bytes()
    }
}

impl WsConn {
    /// Gives up the permessage-deflate inflaters: the message being inflated and every later
    /// compressed one are counted, not inflated.
    pub(crate) fn shed_inflaters(&mut self) -> Vec<String> {
        let id = self.rec.id;
        let mut what = Vec::new();
        for (d, w) in self.dirs.iter_mut().enumerate() {
            if w.inflater.take().is_none() {
                continue;
            }
            w.inflater_shed = true;
            if let Some(m) = w.msg.as_mut()
                && m.compressed
            {
                m.decode_stopped = true;
                m.partial = true;
            }
            let which = if d == 0 { "client's" } else { "server's" };
            what.push(format!(
                "the {which} permessage-deflate inflater of WebSocket #{id} ({} bytes; later \
                 compressed messages are counted, not inflated)",
                heap::INFLATER
            ));
        }
        what
    }
}
