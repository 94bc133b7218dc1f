//! TLS as a layer of the stack: the TLS layer reads the hellos and decrypts the records; the
//! application data it decrypts is a stream of its own, with a stack of its own (HTTP/1,
//! WebSocket, HTTP/2, tunnels), exactly as if it had come in the clear.
//!
//! Offsets: the protocols inside count the decrypted bytes; every record they report is given
//! back the stream offset of the TLS record that carried the byte (a finding, a message's
//! start), so a report points at the bytes on the wire. Packet numbers and times are those of
//! the packet that completed the record.

use super::{Shared, Stack};
use crate::analyzers::layer::{Ids, Layer, Switch};
use crate::analyzers::tls::{Decrypted, TlsLayer};
use crate::base::heap;
use crate::engine::Ctx;
use crate::model::tunnel::TlsInfo;
use crate::model::websocket::Side;
use crate::model::{Dir, Record, RecordSink};

/// Record starts remembered per direction; past it every other one is dropped, so an offset
/// then points at the record or an earlier one of the same stretch.
const MAX_MARKS: usize = 1024;

/// Where the decrypted bytes of a direction came from: (offset in the decrypted stream,
/// stream offset of the record), in order.
#[derive(Default)]
struct Marks(Vec<(u64, u64)>);

impl Marks {
    fn push(&mut self, plain: u64, record: u64) {
        if self.0.last().is_some_and(|&(_, r)| r == record) {
            return;
        }
        if self.0.len() >= MAX_MARKS {
            let mut i = 0;
            self.0.retain(|_| {
                i += 1;
                i % 2 == 1
            });
        }
        self.0.push((plain, record));
    }

    /// The stream offset of the record that carried decrypted byte `plain`.
    fn wire(&self, plain: u64) -> u64 {
        let i = self.0.partition_point(|&(p, _)| p <= plain);
        match i.checked_sub(1).and_then(|i| self.0.get(i)) {
            Some(&(_, r)) => r,
            None => self.0.first().map_or(plain, |&(_, r)| r),
        }
    }
}

/// A sink that gives the records of the protocols inside the offsets of the TLS records.
struct ToWire<'a> {
    out: &'a mut dyn RecordSink,
    marks: &'a [Marks; 2],
}

impl ToWire<'_> {
    fn wire(&self, dir: Dir, plain: u64) -> u64 {
        self.marks[dir.index()].wire(plain)
    }
}

impl RecordSink for ToWire<'_> {
    fn record(&mut self, mut r: Record) {
        match &mut r {
            Record::Finding(f) => {
                if let (Some(d), Some(o)) = (f.direction, f.stream_offset) {
                    f.stream_offset = Some(self.wire(d, o));
                }
            }
            Record::Transaction(t) => {
                // A pushed HTTP/2 request is the server's PUSH_PROMISE.
                let req_dir = if t.promised_by.is_some() {
                    Dir::ServerToClient
                } else {
                    Dir::ClientToServer
                };
                if let Some(q) = t.request.as_mut() {
                    q.at.stream_offset = self.wire(req_dir, q.at.stream_offset);
                }
                for i in &mut t.interim {
                    i.at.stream_offset = self.wire(Dir::ServerToClient, i.at.stream_offset);
                }
                if let Some(p) = t.response.as_mut() {
                    p.at.stream_offset = self.wire(Dir::ServerToClient, p.at.stream_offset);
                }
            }
            Record::WsMessage(m) => {
                let d = match m.direction {
                    Side::Client => Dir::ClientToServer,
                    Side::Server => Dir::ServerToClient,
                };
                m.stream_offset = self.wire(d, m.stream_offset);
                for f in m.frame_list.iter_mut().flatten() {
                    f.stream_offset = self.wire(d, f.stream_offset);
                }
            }
            _ => {}
        }
        self.out.record(r);
    }
}

/// TLS, and the stream of what it decrypts.
pub struct TlsStream {
    tls: TlsLayer,
    inner: Stack,
    marks: [Marks; 2],
    plain: Decrypted,
}

impl TlsStream {
    /// A TLS stream `depth` tunnels deep, whose first HTTP transaction has `index`.
    pub fn new(hold: usize, depth: u8, index: u32) -> Self {
        TlsStream {
            tls: TlsLayer::new(hold),
            inner: Stack::decrypted(depth, index),
            marks: [Marks::default(), Marks::default()],
            plain: Decrypted::default(),
        }
    }

    pub fn info(&self, sh: &Shared) -> Option<TlsInfo> {
        self.tls.info(&sh.tls)
    }

    /// Hands what was decrypted to the protocols inside.
    fn deliver(&mut self, sh: &mut Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        if self.plain.spans.is_empty() {
            return;
        }
        let plain = std::mem::take(&mut self.plain);
        for (dir, record, at, range) in &plain.spans {
            self.marks[dir.index()].push(*at, *record);
            let Some(bytes) = plain.bytes.get(range.clone()) else {
                continue;
            };
            let c = Ctx { dir: *dir, ..*ctx };
            let mut wire = ToWire {
                out,
                marks: &self.marks,
            };
            self.inner.data(sh, ids, &c, *at, bytes, &mut wire);
        }
        // Kept for the next delivery, unless it grew past what one usually holds.
        if plain.bytes.capacity() <= 64 << 10 {
            self.plain = plain;
            self.plain.clear();
        }
    }
}

impl Layer for TlsStream {
    type Shared = Shared;

    fn footprint(&self) -> usize {
        size_of::<Self>()
            + self.tls.footprint()
            + self.inner.footprint()
            + heap::vec(&self.marks[0].0)
            + heap::vec(&self.marks[1].0)
            + self.plain.heap_bytes()
    }

    fn shed(&mut self) -> Vec<String> {
        let mut what = self.tls.shed();
        what.extend(self.inner.shed());
        what
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
        self.tls
            .data(&mut sh.tls, ctx, offset, data, &mut self.plain, out);
        self.deliver(sh, ids, ctx, out);
        None
    }

    fn gap(
        &mut self,
        sh: &mut Shared,
        _: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        self.tls.gap(&mut sh.tls, ctx, offset, n, out);
        None
    }

    fn close(&mut self, sh: &mut Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        self.tls.close(&mut sh.tls, ctx, out);
        let mut wire = ToWire {
            out,
            marks: &self.marks,
        };
        self.inner.close(sh, ids, ctx, &mut wire);
    }
}
