//! WebSocket (RFC 6455) after a `101 Switching Protocols`, or recognised by its frames when the
//! handshake was not captured: frames, messages (fragments joined, control frames between
//! them), permessage-deflate (RFC 7692) with or without context takeover, ping/pong round
//! trips, the close handshake, and every protocol violation as a finding.
//!
//! Sans-IO and streaming: bytes of either direction arrive in stream order, split anywhere;
//! nothing is buffered but a frame header (at most 14 bytes), a control frame's payload (at
//! most 125 bytes are meaningful; 4 KiB are kept), a bounded text preview and the inflater's
//! window. Decompressed size per message is capped ([`WsConfig::max_inflate`]); messages stream
//! out as records as they complete.

pub mod frame;
pub mod handshake;
mod memory;
mod upgrade;

use std::collections::VecDeque;

use flate2::{Decompress, FlushDecompress, Status};

use crate::analyzers::layer::{Ids, Layer, Switch};
use crate::analyzers::repeats::Repeats;
use crate::base::Timestamp;
use crate::engine::Ctx;
use crate::model::codes::{self, Code};
use crate::model::websocket::Deflate;
use crate::model::websocket::{
    Side, WebSocketRecord, WsClose, WsDirStats, WsFrameRecord, WsHandshake, WsMessageRecord,
    WsPings,
};
use crate::model::{Dir, Finding, Record, RecordSink};
use frame::{Header, Opcode};

/// Bounds and switches.
#[derive(Clone, Debug)]
pub struct WsConfig {
    /// Bytes of text kept per message as a preview.
    pub preview: usize,
    /// Decompressed bytes per message before decoding stops.
    pub max_inflate: u64,
    /// List every frame inside its message (`--frames`).
    pub frames: bool,
    /// Keep the start of binary messages too (`preview` bytes; the terminal UI's hex view).
    /// Not in the JSON report.
    pub binary_preview: bool,
    /// Frames listed per message at most.
    pub max_frames_listed: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            preview: 1024,
            max_inflate: 16 << 20,
            frames: false,
            binary_preview: false,
            max_frames_listed: 1000,
        }
    }
}

/// Analyzer-wide WebSocket state: configuration and id allocation.
pub struct WsShared {
    pub cfg: WsConfig,
    next_id: u64,
}

impl WsShared {
    pub fn new(cfg: WsConfig) -> Self {
        WsShared { cfg, next_id: 0 }
    }

    /// WebSocket ids given so far.
    pub fn ids(&self) -> u64 {
        self.next_id
    }
}

/// A message being assembled.
struct Msg {
    opcode: Opcode,
    compressed: bool,
    /// Payload bytes seen.
    wire: u64,
    /// Payload bytes its frame headers declared (saturating).
    declared: u64,
    decoded: u64,
    frames: u64,
    /// The start of a text message, a close reason or a ping's text, while it is checked text
    /// cut at character boundaries ([`Utf8::Text`]): it becomes the record's text as it is,
    /// with no second check.
    preview: String,
    preview_truncated: bool,
    /// Bytes of an unfinished UTF-8 character carried to the next piece.
    utf8_carry: Vec<u8>,
    utf8: Utf8,
    /// Decoding stopped (capped, inflate error, gap): lengths are what was decoded so far.
    partial: bool,
    decode_stopped: bool,
    start: u64,
    /// Control frames: the payload (bounded). Data messages and a close reason: the preview's
    /// bytes, once they are not checked text (not [`Utf8::Text`]); a kept binary message's
    /// start.
    payload: Vec<u8>,
    frame_list: Vec<WsFrameRecord>,
    /// Binary messages: keep the start in `preview` (`WsConfig::binary_preview`).
    keep_binary: bool,
}

/// What is known of the UTF-8 of a text message (or a close reason) so far, and where its
/// preview is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Utf8 {
    /// Valid so far; the preview is text, in `preview`.
    Text,
    /// Valid so far; the preview's bytes are in `payload` (a piece ended inside a character,
    /// or was cut inside one).
    Bytes,
    /// Not valid; the preview's bytes are in `payload`.
    Invalid,
}

impl Msg {
    /// The preview goes on as bytes (in `payload`): what it has so far moves there, the same
    /// buffer (its capacity, which the budget counts, unchanged).
    fn spill(&mut self) {
        if self.utf8 == Utf8::Text {
            self.utf8 = Utf8::Bytes;
        }
        if self.preview.capacity() > 0 {
            self.payload = std::mem::take(&mut self.preview).into_bytes();
        }
    }

    /// The message (or close reason) is not valid UTF-8.
    fn invalid(&mut self) {
        self.spill();
        self.utf8 = Utf8::Invalid;
    }

    /// `take` bytes of `b`, which `text` is when it is checked UTF-8, go into the preview.
    fn show(&mut self, b: &[u8], text: Option<&str>, take: usize) {
        match text.and_then(|t| t.get(..take)) {
            Some(t) if self.utf8 == Utf8::Text => self.preview.push_str(t),
            _ => {
                self.spill();
                self.payload
                    .extend_from_slice(b.get(..take).unwrap_or_default());
            }
        }
    }

    /// The record's text: the checked preview as it is, or its bytes made text.
    fn text(self) -> String {
        if self.utf8 == Utf8::Text {
            return self.preview;
        }
        String::from_utf8(self.payload)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    fn new(opcode: Opcode, compressed: bool, start: u64) -> Msg {
        Msg {
            opcode,
            compressed,
            wire: 0,
            declared: 0,
            decoded: 0,
            frames: 0,
            preview: String::new(),
            preview_truncated: false,
            utf8_carry: Vec::new(),
            utf8: Utf8::Text,
            partial: false,
            decode_stopped: false,
            start,
            payload: Vec::new(),
            frame_list: Vec::new(),
            keep_binary: false,
        }
    }
}

/// The frame whose payload is streaming.
struct Cur {
    h: Header,
    remaining: u64,
    pos: u64,
    /// The payload goes to the control message, not the data message.
    control: bool,
    /// The frame is the last entry of its message's `frame_list` (`--frames`).
    listed: bool,
}

#[derive(Default)]
struct WsDir {
    hdr: Vec<u8>,
    cur: Option<Cur>,
    msg: Option<Msg>,
    ctl: Option<Msg>,
    inflater: Option<Decompress>,
    /// The inflater was given up to stay within the memory budget: compressed messages are
    /// counted, not inflated, from then on.
    inflater_shed: bool,
    /// Frame sync lost (a gap outside a payload): the rest of this direction is not parsed.
    lost: bool,
    /// Stream offset of the next byte.
    offset: u64,
    closed: bool,
    out: Vec<u8>,
}

std::thread_local! {
    /// Room a payload chunk is unmasked in: one per thread, not one per direction of every
    /// conversation (each kept the room of its largest chunk: 3.6 MB of the 50 % benchmark
    /// prefix's peak heap).
    static UNMASKED: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Room kept in [`UNMASKED`] between chunks.
const UNMASKED_KEEP: usize = 256 << 10;

/// One WebSocket conversation.
pub struct WsConn {
    rec: Box<WebSocketRecord>,
    dirs: [WsDir; 2],
    deflate: Option<Deflate>,
    next_msg: u64,
    /// Pings sent by each side, waiting for the other side's pong: (payload, time).
    pings: [VecDeque<(Vec<u8>, Timestamp)>; 2],
    rtt_sum: f64,
    /// Findings raised, per (code, direction): repeats are counted, summed up at the end.
    reported: Repeats,
}

const MAX_PENDING_PINGS: usize = 16;
const MAX_CONTROL_KEPT: usize = 4096;

fn side(d: usize) -> Side {
    if d == 0 { Side::Client } else { Side::Server }
}

/// RFC 6455 §7.4.1/§7.4.2: codes that may appear in a close frame.
fn close_code_valid(c: u16) -> bool {
    matches!(c, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

impl WsConn {
    /// After a 101: `hs` as read from both heads, `deflate` as agreed.
    pub fn new(
        sh: &mut WsShared,
        ctx: &Ctx,
        hs: WsHandshake,
        deflate: Option<Deflate>,
        offsets: [u64; 2],
    ) -> Self {
        let id = sh.next_id;
        sh.next_id += 1;
        let mut dirs: [WsDir; 2] = Default::default();
        dirs[0].offset = offsets[0];
        dirs[1].offset = offsets[1];
        WsConn {
            rec: Box::new(WebSocketRecord {
                id,
                connection: ctx.conn,
                client: ctx.client,
                server: ctx.server,
                handshake: hs,
                compression: deflate,
                client_to_server: WsDirStats::default(),
                server_to_client: WsDirStats::default(),
                pings: WsPings::default(),
                close: WsClose::default(),
                findings: Vec::new(),
            }),
            dirs,
            deflate,
            next_msg: 0,
            pings: [VecDeque::new(), VecDeque::new()],
            rtt_sum: 0.0,
            reported: Repeats::default(),
        }
    }

    pub fn id(&self) -> u64 {
        self.rec.id
    }

    /// Records a finding on the conversation: the first of its code and direction at once,
    /// later ones counted and summed up when the conversation ends.
    pub fn finding(
        &mut self,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        d: usize,
        offset: u64,
        code: &'static Code,
        msg: String,
    ) {
        let f = Finding::new(code, msg)
            .conn(ctx.conn)
            .at(ctx.packet, ctx.ts)
            .dir(Dir::from_index(d), offset);
        let known = self.reported.raised(code.name);
        if !self.reported.first(&f) {
            return;
        }
        if !known {
            self.rec.findings.push(code.name);
        }
        out.record(Record::Finding(Box::new(f)));
    }

    fn stats(&mut self, d: usize) -> &mut WsDirStats {
        if d == 0 {
            &mut self.rec.client_to_server
        } else {
            &mut self.rec.server_to_client
        }
    }

    /// Bytes of direction `d`, in stream order.
    pub(crate) fn feed(
        &mut self,
        sh: &WsShared,
        ctx: &Ctx,
        d: usize,
        mut data: &[u8],
        out: &mut dyn RecordSink,
    ) {
        while !data.is_empty() && !self.dirs[d].lost {
            if self.dirs[d].cur.is_none() {
                // Accumulate a header.
                let need = {
                    let w = &mut self.dirs[d];
                    let before = w.hdr.len();
                    let take = (14 - before).min(data.len());
                    w.hdr.extend_from_slice(&data[..take]);
                    match frame::parse_header(&w.hdr) {
                        None => {
                            w.offset += take as u64;
                            data = &data[take..];
                            continue;
                        }
                        Some(h) => {
                            // Bytes of `data` that belonged to the header (the first `before`
                            // came with earlier data and were counted then).
                            let used = h.header_len - before;
                            w.hdr.clear();
                            (h, used, before)
                        }
                    }
                };
                let (h, used, before) = need;
                let start = self.dirs[d].offset - before as u64;
                self.dirs[d].offset += used as u64;
                data = &data[used..];
                self.begin_frame(sh, ctx, d, h, start, out);
                if h.len == 0 {
                    self.end_frame(sh, ctx, d, out);
                }
                continue;
            }
            let (take, key, pos, control, listed) = match &self.dirs[d].cur {
                Some(c) => (
                    (c.remaining.min(data.len() as u64)) as usize,
                    c.h.mask,
                    c.pos,
                    c.control,
                    c.listed,
                ),
                None => continue,
            };
            let (chunk, rest) = data.split_at(take);
            data = rest;
            self.stats(d).payload_bytes += take as u64;
            if listed {
                self.frame_seen(d, control, take as u64);
            }
            {
                let w = &mut self.dirs[d];
                w.offset += take as u64;
                if let Some(c) = w.cur.as_mut() {
                    c.remaining -= take as u64;
                    c.pos += take as u64;
                }
            }
            match key {
                // An unmasked frame (the server's): its payload is read where it lies.
                None => self.payload(sh, ctx, d, control, chunk, out),
                Some(k) => {
                    let mut bytes = UNMASKED.take();
                    bytes.clear();
                    bytes.extend_from_slice(chunk);
                    frame::unmask(&mut bytes, k, pos);
                    self.payload(sh, ctx, d, control, &bytes, out);
                    if bytes.capacity() <= UNMASKED_KEEP {
                        UNMASKED.set(bytes);
                    }
                }
            }
            if self.dirs[d].cur.as_ref().is_some_and(|c| c.remaining == 0) {
                self.end_frame(sh, ctx, d, out);
            }
        }
        if self.dirs[d].lost {
            self.dirs[d].offset += data.len() as u64;
        }
    }

    /// A frame header was read: count it, check it, start (or go on with) its message.
    fn begin_frame(
        &mut self,
        sh: &WsShared,
        ctx: &Ctx,
        d: usize,
        h: Header,
        start: u64,
        out: &mut dyn RecordSink,
    ) {
        let s = self.stats(d);
        s.frames += 1;
        s.declared_bytes = s.declared_bytes.saturating_add(h.len);
        if h.opcode.is_control() {
            s.control_frames += 1;
        }
        self.check_header(ctx, out, d, h, start);
        let control = h.opcode.is_control();
        if control {
            self.begin_control(ctx, out, d, h, start);
        } else {
            self.begin_data(sh, ctx, out, d, h, start);
        }
        let listed =
            sh.cfg.frames && self.list_frame(ctx, d, h, start, control, sh.cfg.max_frames_listed);
        self.dirs[d].cur = Some(Cur {
            h,
            remaining: h.len,
            pos: 0,
            control,
            listed,
        });
    }

    /// One frame header against RFC 6455 §5.1–§5.3 (masking, RSV bits, opcodes, lengths) and
    /// §5.5.1 (nothing after the sender's Close).
    fn check_header(
        &mut self,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        d: usize,
        h: Header,
        start: u64,
    ) {
        let who = if d == 0 { "client" } else { "server" };
        if self.dirs[d].closed {
            self.rec.close.frames_after_close += 1;
            self.finding(
                ctx,
                out,
                d,
                start,
                &codes::WS_FRAME_AFTER_CLOSE,
                format!(
                    "the {who} sent a frame after its own close frame (RFC 6455 §5.5.1: no \
                     data frames after Close)"
                ),
            );
        }
        if d == 0 && h.mask.is_none() {
            self.finding(
                ctx,
                out,
                d,
                start,
                &codes::WS_UNMASKED_CLIENT_FRAME,
                "the client sent an unmasked frame (RFC 6455 §5.3: a client must mask every \
                 frame; a server must close the connection)"
                    .into(),
            );
        }
        if d == 1 && h.mask.is_some() {
            self.finding(
                ctx,
                out,
                d,
                start,
                &codes::WS_MASKED_SERVER_FRAME,
                "the server sent a masked frame (RFC 6455 §5.1: a server must not mask)".into(),
            );
        }
        let first_data = matches!(h.opcode, Opcode::Text | Opcode::Binary);
        // Mid-stream, whether deflate was agreed is unknown: RSV1 is not held against it.
        let rsv1_ok = (self.deflate.is_some() || self.rec.handshake.midstream) && first_data;
        if (h.rsv & 0x04 != 0 && !rsv1_ok) || h.rsv & 0x03 != 0 {
            let why = if h.rsv & 0x03 != 0 {
                "RSV2/RSV3 set (no extension defines them)"
            } else if self.deflate.is_some() {
                "RSV1 set on a continuation or control frame (RFC 7692 §6: only the first frame \
                 of a message carries it)"
            } else {
                "RSV1 set although no extension (permessage-deflate) was negotiated"
            };
            self.finding(
                ctx,
                out,
                d,
                start,
                &codes::WS_RSV_WITHOUT_EXTENSION,
                format!(
                    "{why}; RFC 6455 §5.2: the receiver must fail the connection. Often a proxy \
                     that stripped Sec-WebSocket-Extensions from the handshake"
                ),
            );
        }
        if let Opcode::Reserved(n) = h.opcode {
            self.finding(
                ctx,
                out,
                d,
                start,
                &codes::WS_RESERVED_OPCODE,
                format!("frame with reserved opcode 0x{n:x} (RFC 6455 §5.2: fail the connection)"),
            );
        }
        if h.non_minimal {
            self.finding(
                ctx,
                out,
                d,
                start,
                &codes::WS_NON_MINIMAL_LENGTH,
                format!(
                    "a {}-byte payload length encoded in {} bytes (RFC 6455 §5.2: the minimal \
                     encoding must be used)",
                    h.len,
                    if h.header_len - h.mask.map_or(0, |_| 4) == 4 {
                        2
                    } else {
                        8
                    }
                ),
            );
        }
        if h.len_msb_set {
            self.finding(
                ctx,
                out,
                d,
                start,
                &codes::WS_INVALID_LENGTH,
                "64-bit payload length with its most significant bit set (RFC 6455 §5.2)".into(),
            );
        }
    }

    /// A control frame (RFC 6455 §5.5): a message of its own, which may come between the
    /// fragments of a data message.
    fn begin_control(
        &mut self,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        d: usize,
        h: Header,
        start: u64,
    ) {
        if h.len > 125 {
            self.finding(
                ctx,
                out,
                d,
                start,
                &codes::WS_CONTROL_TOO_LONG,
                format!(
                    "a {} frame with a {}-byte payload (RFC 6455 §5.5: at most 125)",
                    h.opcode.name(),
                    h.len
                ),
            );
        }
        if !h.fin {
            self.finding(
                ctx,
                out,
                d,
                start,
                &codes::WS_CONTROL_FRAGMENTED,
                format!(
                    "a fragmented {} frame (RFC 6455 §5.5: control frames must not be \
                     fragmented)",
                    h.opcode.name()
                ),
            );
        }
        let mut m = Msg::new(h.opcode, false, start);
        m.frames = 1;
        m.declared = h.len;
        self.dirs[d].ctl = Some(m);
    }

    /// A data frame (RFC 6455 §5.4): a new message, or the next fragment of the current one.
    fn begin_data(
        &mut self,
        sh: &WsShared,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        d: usize,
        h: Header,
        start: u64,
    ) {
        match h.opcode {
            Opcode::Continuation => {
                if self.dirs[d].msg.is_none() {
                    self.finding(
                        ctx,
                        out,
                        d,
                        start,
                        &codes::WS_CONTINUATION_WITHOUT_START,
                        "a continuation frame with no message in progress (RFC 6455 §5.4)".into(),
                    );
                    // Keep its bytes as a message of its own so nothing is lost.
                    let mut m = Msg::new(Opcode::Continuation, false, start);
                    m.partial = true;
                    self.dirs[d].msg = Some(m);
                }
            }
            _ => {
                if self.dirs[d].msg.is_some() {
                    self.finding(
                        ctx,
                        out,
                        d,
                        start,
                        &codes::WS_DATA_INSIDE_FRAGMENTED,
                        "a new data frame while a fragmented message is unfinished (RFC \
                         6455 §5.4: fragments of one message must not interleave with \
                         another)"
                            .into(),
                    );
                    if let Some(mut old) = self.dirs[d].msg.take() {
                        old.partial = true;
                        self.emit_msg(sh, ctx, d, old, out);
                    }
                }
                let compressed = h.rsv & 0x04 != 0 && self.deflate.is_some();
                if compressed {
                    self.stats(d).compressed_messages += 1;
                    let w = &mut self.dirs[d];
                    let reset = self.deflate.is_some_and(|f| {
                        if d == 0 {
                            f.client_no_context_takeover
                        } else {
                            f.server_no_context_takeover
                        }
                    });
                    match w.inflater.as_mut() {
                        Some(i) if reset => i.reset(false),
                        Some(_) => {}
                        None if !w.inflater_shed => w.inflater = Some(Decompress::new(false)),
                        None => {}
                    }
                }
                let mut m = Msg::new(h.opcode, compressed, start);
                m.keep_binary = sh.cfg.binary_preview && h.opcode == Opcode::Binary;
                if self.rec.handshake.midstream && h.rsv & 0x04 != 0 {
                    // Compressed, but the context is unknown: lengths only.
                    m.compressed = true;
                    m.decode_stopped = true;
                }
                self.dirs[d].msg = Some(m);
            }
        }
        if let Some(m) = self.dirs[d].msg.as_mut() {
            m.frames += 1;
            m.declared = m.declared.saturating_add(h.len);
        }
    }

    /// `--frames`: the frame in its message's list (at most `max` listed); whether it was.
    /// Its `length` then counts the payload bytes as they are seen.
    fn list_frame(
        &mut self,
        ctx: &Ctx,
        d: usize,
        h: Header,
        start: u64,
        control: bool,
        max: usize,
    ) -> bool {
        let fr = WsFrameRecord {
            fin: h.fin,
            rsv: h.rsv,
            opcode: h.opcode.code(),
            masked: h.mask.is_some(),
            length: 0,
            declared_length: Some(h.len),
            packet: ctx.packet,
            stream_offset: start,
        };
        let target = if control {
            self.dirs[d].ctl.as_mut()
        } else {
            self.dirs[d].msg.as_mut()
        };
        match target {
            Some(m) if m.frame_list.len() < max => {
                m.frame_list.push(fr);
                true
            }
            _ => false,
        }
    }

    /// `n` payload bytes of the current (listed) frame were seen.
    fn frame_seen(&mut self, d: usize, control: bool, n: u64) {
        let w = &mut self.dirs[d];
        let m = if control {
            w.ctl.as_mut()
        } else {
            w.msg.as_mut()
        };
        if let Some(f) = m.and_then(|m| m.frame_list.last_mut()) {
            f.length += n;
        }
    }

    /// `bytes`: a chunk of the frame's payload, unmasked.
    fn payload(
        &mut self,
        sh: &WsShared,
        ctx: &Ctx,
        d: usize,
        control: bool,
        bytes: &[u8],
        out: &mut dyn RecordSink,
    ) {
        let w = &mut self.dirs[d];
        if control {
            if let Some(m) = w.ctl.as_mut() {
                m.wire += bytes.len() as u64;
                let room = MAX_CONTROL_KEPT.saturating_sub(m.payload.len());
                let take = room.min(bytes.len());
                m.payload.extend_from_slice(&bytes[..take]);
            }
            return;
        }
        let Some(m) = w.msg.as_mut() else { return };
        m.wire += bytes.len() as u64;
        if m.decode_stopped {
            return;
        }
        if !m.compressed {
            consume(m, bytes, sh.cfg.preview);
            return;
        }
        let Some(inf) = w.inflater.as_mut() else {
            m.decode_stopped = true;
            return;
        };
        let res = inflate(inf, bytes, &mut w.out, m, sh);
        if let Err(e) = res {
            let start = m.start;
            self.inflate_failed(ctx, out, d, start, e);
        }
    }

    fn inflate_failed(
        &mut self,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        d: usize,
        at: u64,
        e: String,
    ) {
        if e == "capped" {
            self.stats(d).capped_messages += 1;
            self.finding(
                ctx,
                out,
                d,
                at,
                &codes::WS_INFLATE_LIMIT,
                "a compressed message inflates past the bound (--max-decoded); decoding \
                 stopped (a possible decompression bomb); this and later ones are counted in \
                 capped_messages"
                    .into(),
            );
        } else {
            self.finding(
                ctx,
                out,
                d,
                at,
                &codes::WS_INFLATE_ERROR,
                format!(
                    "a permessage-deflate message does not inflate: {e} (wrong context \
                     takeover, or a broken compressor)"
                ),
            );
        }
    }

    fn end_frame(&mut self, sh: &WsShared, ctx: &Ctx, d: usize, out: &mut dyn RecordSink) {
        let Some(cur) = self.dirs[d].cur.take() else {
            return;
        };
        if cur.control {
            if let Some(m) = self.dirs[d].ctl.take() {
                self.control_done(sh, ctx, d, m, out);
            }
            return;
        }
        if !cur.h.fin {
            return;
        }
        let Some(mut m) = self.dirs[d].msg.take() else {
            return;
        };
        if m.compressed && !m.decode_stopped {
            // RFC 7692 §7.2.2: append 00 00 ff ff before inflating the end of the message.
            let w = &mut self.dirs[d];
            if let Some(inf) = w.inflater.as_mut()
                && let Err(e) = inflate(inf, &[0, 0, 0xff, 0xff], &mut w.out, &mut m, sh)
            {
                let start = m.start;
                self.inflate_failed(ctx, out, d, start, e);
            }
        }
        self.emit_msg(sh, ctx, d, m, out);
    }

    fn control_done(
        &mut self,
        sh: &WsShared,
        ctx: &Ctx,
        d: usize,
        mut m: Msg,
        out: &mut dyn RecordSink,
    ) {
        let payload = std::mem::take(&mut m.payload);
        let mut close_code = None;
        let mut rtt = None;
        match m.opcode {
            Opcode::Close => {
                let (code, reason) = match payload.len() {
                    0 => (None, &[][..]),
                    1 => {
                        self.finding(
                            ctx,
                            out,
                            d,
                            m.start,
                            &codes::WS_CLOSE_PAYLOAD_ONE_BYTE,
                            "a close frame with a 1-byte payload (RFC 6455 §5.5.1: a code is \
                             2 bytes)"
                                .into(),
                        );
                        (None, &payload[1..])
                    }
                    _ => (
                        Some(u16::from_be_bytes([payload[0], payload[1]])),
                        &payload[2..],
                    ),
                };
                if let Some(c) = code
                    && !close_code_valid(c)
                {
                    self.finding(
                        ctx,
                        out,
                        d,
                        m.start,
                        &codes::WS_INVALID_CLOSE_CODE,
                        format!(
                            "close code {c} may not be sent (RFC 6455 §7.4: 1005, 1006 and 1015 \
                             are for reporting only; valid are 1000–1003, 1007–1014, \
                             3000–4999)"
                        ),
                    );
                }
                let reason_text = std::str::from_utf8(reason).ok();
                if reason_text.is_none() {
                    self.finding(
                        ctx,
                        out,
                        d,
                        m.start,
                        &codes::WS_INVALID_UTF8,
                        "a close reason that is not valid UTF-8 (RFC 6455 §5.5.1)".into(),
                    );
                }
                let reason_s = String::from_utf8_lossy(reason).into_owned();
                let first = self.rec.close.initiator.is_none();
                if first {
                    self.rec.close.initiator = Some(side(d));
                }
                if d == 0 {
                    self.rec.close.client_code = code;
                    self.rec.close.client_reason = Some(reason_s);
                } else {
                    self.rec.close.server_code = code;
                    self.rec.close.server_reason = Some(reason_s);
                }
                self.dirs[d].closed = true;
                close_code = code;
                if reason_text.is_none() {
                    m.invalid();
                }
                consume(&mut m, reason, sh.cfg.preview);
                m.decoded = payload.len() as u64;
            }
            Opcode::Ping => {
                self.rec.pings.pings += 1;
                let q = &mut self.pings[d];
                if q.len() >= MAX_PENDING_PINGS {
                    q.pop_front();
                }
                q.push_back((payload.clone(), ctx.ts));
                m.decoded = payload.len() as u64;
                preview_if_text(&mut m, &payload, sh.cfg.preview);
            }
            Opcode::Pong => {
                // Answers the oldest ping from the other side with the same payload.
                let q = &mut self.pings[1 - d];
                if let Some((_, t)) = q
                    .iter()
                    .position(|(p, _)| *p == payload)
                    .and_then(|i| q.remove(i))
                {
                    let secs = ctx.ts.saturating_sub(t) as f64 / 1e9;
                    rtt = Some(secs);
                    let p = &mut self.rec.pings;
                    p.answered += 1;
                    p.rtt_min = Some(p.rtt_min.map_or(secs, |v| v.min(secs)));
                    p.rtt_max = Some(p.rtt_max.map_or(secs, |v| v.max(secs)));
                    self.rtt_sum += secs;
                    p.rtt_avg = Some(self.rtt_sum / p.answered as f64);
                } else {
                    self.rec.pings.unsolicited_pongs += 1;
                    self.finding(
                        ctx,
                        out,
                        d,
                        m.start,
                        &codes::WS_UNSOLICITED_PONG,
                        "a pong that answers no ping (allowed as a heartbeat, RFC 6455 §5.5.3)"
                            .into(),
                    );
                }
                m.decoded = payload.len() as u64;
                preview_if_text(&mut m, &payload, sh.cfg.preview);
            }
            _ => {
                m.decoded = payload.len() as u64;
            }
        }
        let mut rec = self.message_record(sh, ctx, d, m);
        rec.close_code = close_code;
        rec.rtt = rtt;
        out.record(Record::WsMessage(Box::new(rec)));
    }

    fn message_record(
        &mut self,
        sh: &WsShared,
        ctx: &Ctx,
        d: usize,
        mut m: Msg,
    ) -> WsMessageRecord {
        // Declared lengths are shown only where they differ from what was seen.
        for f in &mut m.frame_list {
            if f.declared_length == Some(f.length) {
                f.declared_length = None;
            }
        }
        let index = self.next_msg;
        self.next_msg += 1;
        let s = self.stats(d);
        if !m.opcode.is_control() {
            s.messages += 1;
            s.message_bytes += m.decoded;
        }
        let opcode = match m.opcode {
            Opcode::Reserved(n) => std::borrow::Cow::Owned(format!("reserved-{n}")),
            o => std::borrow::Cow::Borrowed(o.name()),
        };
        let utf8_valid = (m.opcode == Opcode::Text).then_some(m.utf8 != Utf8::Invalid);
        let (preview_truncated, partial) = (
            m.preview_truncated,
            m.partial || (m.decode_stopped && m.compressed),
        );
        let (opcode_, decoded, wire, declared, compressed, frames, start) = (
            m.opcode,
            m.decoded,
            m.wire,
            m.declared,
            m.compressed,
            m.frames,
            m.start,
        );
        let frame_list = std::mem::take(&mut m.frame_list);
        let (text, binary) = if m.keep_binary {
            (None, Some(m.payload))
        } else {
            let shown = match m.utf8 {
                Utf8::Text => !m.preview.is_empty(),
                Utf8::Bytes | Utf8::Invalid => !m.payload.is_empty(),
            };
            // The preview becomes the text without a copy (and, checked, without a check).
            ((shown || opcode_ == Opcode::Text).then(|| m.text()), None)
        };
        WsMessageRecord {
            websocket: self.rec.id,
            index,
            direction: side(d),
            opcode,
            length: decoded,
            wire_length: wire,
            declared_length: (declared != wire).then_some(declared),
            compressed,
            frames,
            text,
            binary,
            text_truncated: preview_truncated,
            utf8_valid,
            close_code: None,
            rtt: None,
            partial,
            ts: ctx.ts,
            packet: ctx.packet,
            stream_offset: start,
            frame_list: sh.cfg.frames.then_some(frame_list),
        }
    }

    fn emit_msg(
        &mut self,
        sh: &WsShared,
        ctx: &Ctx,
        d: usize,
        mut m: Msg,
        out: &mut dyn RecordSink,
    ) {
        if m.opcode == Opcode::Text && !m.decode_stopped && !m.partial {
            if !m.utf8_carry.is_empty() {
                m.invalid();
            }
            if m.utf8 == Utf8::Invalid {
                let start = m.start;
                self.finding(
                    ctx,
                    out,
                    d,
                    start,
                    &codes::WS_INVALID_UTF8,
                    "a text message that is not valid UTF-8 (RFC 6455 §8.1: the receiver must \
                     fail the connection with 1007)"
                        .into(),
                );
            }
        }
        let rec = self.message_record(sh, ctx, d, m);
        out.record(Record::WsMessage(Box::new(rec)));
    }

    /// The earliest offset of direction `d` a record still to come can name: the message and
    /// control frame in progress, the frame header being read.
    pub(crate) fn held_from(&self, d: usize) -> u64 {
        let Some(w) = self.dirs.get(d) else {
            return 0;
        };
        let starts = [w.msg.as_ref(), w.ctl.as_ref()];
        starts
            .into_iter()
            .flatten()
            .map(|m| m.start)
            .fold(w.offset.saturating_sub(w.hdr.len() as u64), u64::min)
    }

    /// `n` bytes of direction `d` are missing.
    pub(crate) fn lose(&mut self, ctx: &Ctx, d: usize, n: u64, out: &mut dyn RecordSink) {
        let w = &mut self.dirs[d];
        let start = w.offset;
        w.offset += n;
        if w.lost {
            return;
        }
        if let Some(c) = w.cur.as_mut()
            && n <= c.remaining
        {
            // Inside a payload: the frame boundaries survive, the bytes do not.
            c.remaining -= n;
            c.pos += n;
            let control = c.control;
            let done = c.remaining == 0;
            let m = if control {
                w.ctl.as_mut()
            } else {
                w.msg.as_mut()
            };
            if let Some(m) = m {
                // Lost bytes are not counted as seen (`wire_length`); the declared length
                // keeps them.
                m.partial = true;
                m.decode_stopped = true;
            }
            let _ = done;
            return;
        }
        w.lost = true;
        w.cur = None;
        w.hdr.clear();
        self.finding(
            ctx,
            out,
            d,
            start,
            &codes::WS_GAP,
            format!(
                "{n} bytes missing from the capture outside a frame payload; the frames after \
                 it in this direction are not decoded"
            ),
        );
    }

    /// The connection ended: report unfinished messages and the conversation.
    pub(crate) fn end(&mut self, sh: &WsShared, ctx: &Ctx, out: &mut dyn RecordSink) {
        for d in 0..2 {
            if let Some(mut m) = self.dirs[d].ctl.take() {
                m.partial = true;
                let rec = self.message_record(sh, ctx, d, m);
                out.record(Record::WsMessage(Box::new(rec)));
            }
            if let Some(mut m) = self.dirs[d].msg.take() {
                m.partial = true;
                self.emit_msg(sh, ctx, d, m, out);
            }
        }
        let c = &mut self.rec.close;
        (c.code, c.reason) = match c.initiator {
            Some(Side::Client) => (c.client_code, c.client_reason.clone()),
            Some(Side::Server) => (c.server_code, c.server_reason.clone()),
            None => (None, None),
        };
        c.clean = self.dirs[0].closed && self.dirs[1].closed && c.frames_after_close == 0;
        if !c.clean && !self.dirs.iter().any(|w| w.lost) {
            let who = match c.initiator {
                Some(Side::Client) => "only the client sent a close frame",
                Some(Side::Server) => "only the server sent a close frame",
                None => "no close frame was sent",
            };
            let msg = format!(
                "the WebSocket ended without a complete close handshake: {who} (RFC 6455 §7.1.1; \
                 the application sees 1006 abnormal closure)"
            );
            self.finding(
                ctx,
                out,
                0,
                self.dirs[0].offset,
                &codes::WS_UNCLEAN_CLOSE,
                msg,
            );
        }
        for f in self.reported.take("WebSocket conversation") {
            out.record(Record::Finding(Box::new(f)));
        }
        // The conversation's record goes out as it is (the conversation is over): what stays
        // behind is its identity, nothing of the heap.
        let r = &*self.rec;
        let left = WebSocketRecord {
            id: r.id,
            connection: r.connection,
            client: r.client,
            server: r.server,
            handshake: WsHandshake::default(),
            compression: r.compression,
            client_to_server: WsDirStats::default(),
            server_to_client: WsDirStats::default(),
            pings: WsPings::default(),
            close: WsClose::default(),
            findings: Vec::new(),
        };
        let rec = std::mem::replace(&mut *self.rec, left);
        out.record(Record::WebSocket(Box::new(rec)));
    }
}

/// WebSocket as a layer: it tracks each direction's offset itself, from where it began.
impl Layer for WsConn {
    type Shared = WsShared;

    fn shed(&mut self) -> Vec<String> {
        self.shed_inflaters()
    }

    fn footprint(&self) -> usize {
        self.heap_bytes()
    }

    fn data(
        &mut self,
        sh: &mut WsShared,
        _: &mut Ids,
        ctx: &Ctx,
        _offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        self.feed(sh, ctx, ctx.dir.index(), data, out);
        None
    }

    fn gap(
        &mut self,
        _: &mut WsShared,
        _: &mut Ids,
        ctx: &Ctx,
        _offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        self.lose(ctx, ctx.dir.index(), n, out);
        None
    }

    fn close(&mut self, sh: &mut WsShared, _: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        self.end(sh, ctx, out);
    }
}

/// Counts decoded bytes, keeps the preview, checks UTF-8 for text.
fn consume(m: &mut Msg, b: &[u8], preview: usize) {
    m.decoded += b.len() as u64;
    let room = preview.saturating_sub(m.preview.len() + m.payload.len());
    if room < b.len() {
        m.preview_truncated = true;
    }
    let take = room.min(b.len());
    if m.opcode == Opcode::Text || m.opcode == Opcode::Close {
        let text = if m.utf8 == Utf8::Invalid {
            None
        } else {
            check_utf8(m, b)
        };
        m.show(b, text, take);
    } else if m.keep_binary {
        m.payload.extend_from_slice(&b[..take]);
    }
}

fn preview_if_text(m: &mut Msg, b: &[u8], preview: usize) {
    if !b.is_empty()
        && let Ok(text) = std::str::from_utf8(b)
    {
        let take = preview.min(b.len());
        m.show(b, Some(text), take);
        m.preview_truncated = take < b.len();
    }
}

/// Streaming UTF-8 validation: an incomplete character at the end waits for the next piece.
/// Returns `b` as text when it is whole characters on its own (nothing carried into it or out
/// of it).
fn check_utf8<'b>(m: &mut Msg, b: &'b [u8]) -> Option<&'b str> {
    if m.utf8_carry.is_empty() {
        return match std::str::from_utf8(b) {
            Ok(text) => Some(text),
            Err(e) if e.error_len().is_none() => {
                m.utf8_carry = b.get(e.valid_up_to()..).unwrap_or_default().to_vec();
                None
            }
            Err(_) => {
                m.invalid();
                None
            }
        };
    }
    let mut joined = std::mem::take(&mut m.utf8_carry);
    joined.extend_from_slice(b);
    match std::str::from_utf8(&joined) {
        Ok(_) => {}
        Err(e) if e.error_len().is_none() => {
            m.utf8_carry = joined.get(e.valid_up_to()..).unwrap_or_default().to_vec();
        }
        Err(_) => m.invalid(),
    }
    None
}

/// Inflates `input` into `out`, counting and previewing; stops at the bound.
fn inflate(
    inf: &mut Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
    m: &mut Msg,
    sh: &WsShared,
) -> Result<(), String> {
    let mut pos = 0;
    out.resize(16 * 1024, 0);
    loop {
        let before_in = inf.total_in();
        let before_out = inf.total_out();
        let status = inf
            .decompress(
                input.get(pos..).unwrap_or_default(),
                out,
                FlushDecompress::None,
            )
            .map_err(|e| {
                m.decode_stopped = true;
                m.partial = true;
                e.to_string()
            })?;
        let used = (inf.total_in() - before_in) as usize;
        let produced = (inf.total_out() - before_out) as usize;
        pos += used;
        if produced > 0 {
            let room = sh.cfg.max_inflate.saturating_sub(m.decoded) as usize;
            let take = produced.min(room);
            consume(m, out.get(..take).unwrap_or_default(), sh.cfg.preview);
            if take < produced || m.decoded >= sh.cfg.max_inflate {
                m.decode_stopped = true;
                m.partial = true;
                return Err("capped".into());
            }
        }
        let done = pos >= input.len() && produced < out.len();
        if done || status == Status::StreamEnd || (used == 0 && produced == 0) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests;
