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
use crate::engine::collect::{MAX_STARTS, START_TEXT, Start};
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
    /// The Stream view's pass: where messages start in the decrypted stream.
    starts: Option<&'a mut Vec<Start>>,
}

impl ToWire<'_> {
    fn wire(&self, dir: Dir, plain: u64) -> u64 {
        self.marks[dir.index()].wire(plain)
    }

    /// Notes where the messages of `r` start in the decrypted stream (before their offsets
    /// become the records').
    fn note_starts(&mut self, r: &Record) {
        let Some(starts) = self.starts.take() else {
            return;
        };
        let mut add =
            |dir: Dir, offset: u64, kind: &'static str, txn: Option<u32>, text: String| {
                if starts.len() < MAX_STARTS {
                    starts.push(Start {
                        dir,
                        offset,
                        wire: self.marks[dir.index()].wire(offset),
                        kind,
                        txn,
                        text: text.chars().take(START_TEXT).collect(),
                    });
                }
            };
        match r {
            Record::Transaction(t) => {
                let i = Some(t.index);
                if let Some(q) = &t.request {
                    let text = format!("{} {}", q.method, q.target);
                    add(Dir::ClientToServer, q.at.stream_offset, "request", i, text);
                }
                for x in &t.interim {
                    let text = format!("{} {}", x.status, x.reason);
                    add(Dir::ServerToClient, x.at.stream_offset, "interim", i, text);
                }
                if let Some(p) = &t.response {
                    let text = format!("{} {}", p.status, p.reason);
                    add(Dir::ServerToClient, p.at.stream_offset, "response", i, text);
                }
            }
            Record::WsMessage(m) => {
                let d = match m.direction {
                    Side::Client => Dir::ClientToServer,
                    Side::Server => Dir::ServerToClient,
                };
                let text = format!("{} {} {}B", m.index, m.opcode, m.length);
                add(d, m.stream_offset, "ws message", None, text);
            }
            _ => {}
        }
        self.starts = Some(starts);
    }
}

impl RecordSink for ToWire<'_> {
    fn record(&mut self, mut r: Record) {
        self.note_starts(&r);
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

    /// Whether the Stream view's pass copies what this stream decrypts (asked when it
    /// decrypted something). The stream's depth is that of the stack inside it.
    fn tapped(&self, sh: &mut Shared, ctx: &Ctx) -> bool {
        sh.tap
            .as_mut()
            .is_some_and(|t| t.wants(ctx.conn, self.inner.depth))
    }

    pub fn info(&self, sh: &Shared) -> TlsInfo {
        self.tls.info(&sh.tls)
    }

    /// Hands what was decrypted to the protocols inside.
    fn deliver(&mut self, sh: &mut Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        if self.plain.spans.is_empty() {
            return;
        }
        let plain = std::mem::take(&mut self.plain);
        if self.inner.alpn_h2.is_none() {
            self.inner.alpn_h2 = self.tls.alpn_selected().map(|p| p == "h2");
        }
        let tapped = self.tapped(sh, ctx);
        let mut starts = Vec::new();
        for (dir, record, at, range) in &plain.spans {
            self.marks[dir.index()].push(*at, *record);
            let Some(bytes) = plain.bytes.get(range.clone()) else {
                continue;
            };
            if tapped && let Some(t) = sh.tap.as_mut() {
                t.stream.bytes.data(*dir, *at, bytes);
            }
            let c = Ctx { dir: *dir, ..*ctx };
            let mut wire = ToWire {
                out,
                marks: &self.marks,
                starts: tapped.then_some(&mut starts),
            };
            self.inner.data(sh, ids, &c, *at, bytes, &mut wire);
        }
        if tapped {
            flush_starts(sh, starts);
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
        let tapped = sh
            .tap
            .as_ref()
            .is_some_and(|t| t.taps(ctx.conn, self.inner.depth));
        let mut starts = Vec::new();
        let mut wire = ToWire {
            out,
            marks: &self.marks,
            starts: tapped.then_some(&mut starts),
        };
        self.inner.close(sh, ids, ctx, &mut wire);
        if tapped {
            flush_starts(sh, starts);
        }
    }
}

/// Hands message starts noted in the decrypted stream to the Stream view's pass.
fn flush_starts(sh: &mut Shared, starts: Vec<Start>) {
    if let Some(t) = sh.tap.as_mut() {
        for m in starts {
            t.stream.push_start(m);
        }
    }
}
