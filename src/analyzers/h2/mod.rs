//! HTTP/2 recognition and description (RFC 9113), for a connection seen on the wire.
//!
//! Not an HTTP/2 implementation: it follows the frame layer of both directions and says what
//! it saw — the client connection preface, frames counted by type per direction, each side's
//! first SETTINGS, the streams (who opened them, DATA bytes, END_STREAM, RST_STREAM, and from
//! the HPACK-decoded header blocks `:method`, `:path` and `:status`), GOAWAY — plus typed
//! [`H2Note`]s for what breaks the rules.
//!
//! # Contract
//!
//! - **Sans-IO.** [`H2Conn::feed`] takes each direction's bytes in stream order (0 = client,
//!   1 = server), split anywhere: the same bytes cut at any offsets give the same summary and
//!   notes. [`H2Conn::gap`] says bytes were lost; [`H2Conn::end`] says the stream ended.
//!   A direction number other than 0 or 1 is ignored.
//! - **Where it starts.** The client direction starts with the 24-byte preface; the server
//!   direction starts with frames. After an `Upgrade: h2c` / `101`, feed the client bytes that
//!   follow the request head and the server bytes that follow the 101 head, and build the
//!   connection with [`H2Conn::after_h2c_upgrade`] (stream 1 is the upgraded request, RFC 9113
//!   §3.2). Offsets in notes and in [`FrameInfo`] count from the first byte fed in that
//!   direction, gaps included.
//! - **No panic on any input.** Every frame header is 9 bytes read from a fixed array; a
//!   payload is read only through `get`, and only what was buffered.
//! - **Bounded.** A DATA payload is never stored (only counted); other payloads keep only the
//!   bytes they need (SETTINGS, GOAWAY's first 8, RST_STREAM, WINDOW_UPDATE, a pad length).
//!   Header blocks are buffered for HPACK up to [`MAX_HEADER_BLOCK`] bytes per block; past it,
//!   or after a gap inside one, that direction's HPACK context is lost and decoding stops there
//!   (a note says so) while framing goes on. The HPACK dynamic table is capped at
//!   [`MAX_HPACK_TABLE`]. At most [`MAX_STREAMS`] streams, [`MAX_SETTINGS`] settings per side,
//!   [`MAX_FRAME_LOG`] frames per direction in the log and [`MAX_NOTES`] notes are kept; the
//!   rest are counted.
//! - **Lax.** A rule broken by the peer is a note, never a reason to stop, except where sync is
//!   lost (a bad preface, a gap outside a known payload): that direction is then only counted.
//!   A SETTINGS_MAX_FRAME_SIZE applies to the other direction as soon as it is seen, not at its
//!   ACK: how the two directions interleave is not known here, so the lenient reading wins.
//! - **HPACK** is decoded by the `hpack` submodule (RFC 7541; a few times the cost of framing
//!   alone), one context per direction, to fill `:method`, `:path` (from the client's HEADERS
//!   and the server's PUSH_PROMISE) and `:status`. A decoding error stops decoding in that
//!   direction: every later block depends on the dynamic table that block would have changed.
//!
//! Streams are transactions ([`txn`]); a stream opened by an extended CONNECT with
//! `:protocol: websocket` and answered 2xx carries a WebSocket (RFC 8441, [`ws`]).
//!
//! Notes carry their entry in the findings registry, [`H2NoteKind::code`] (`h2.*`, with its
//! severity), and a one-line explanation naming the RFC section.

pub mod demux;
pub mod event;
mod fields;
pub mod flow;
pub mod frame;
mod hpack;
mod layer;
mod note;
mod txn;
mod ws;

use crate::base::{Timestamp, heap};
use std::collections::{BTreeMap, VecDeque};

use event::{BlockStart, Events};
use flow::{
    DEFAULT_WINDOW, FlowStats, FrameEntry, FrameList, MAX_PINGS_OUTSTANDING, MAX_SETTINGS_FRAMES,
    PingStats, SettingsEntry,
};
use frame::*;
pub use frame::{
    FrameInfo, PREFACE, frame_type_name, looks_like_h2_preface, parse_settings, settings_name,
};
pub use layer::H2Layer;
pub use note::{H2Note, H2NoteKind};

pub use crate::analyzers::layer::Prefix;

/// SETTINGS_MAX_FRAME_SIZE before the peer's SETTINGS says otherwise (§6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
/// Largest header block (HEADERS/PUSH_PROMISE + CONTINUATION payloads) buffered for HPACK.
pub const MAX_HEADER_BLOCK: usize = 64 * 1024;
/// Largest HPACK dynamic table a peer may ask for before decoding stops (the default is 4096).
pub const MAX_HPACK_TABLE: usize = 64 * 1024;
/// Streams described; frames on further streams are counted in `untracked_stream_frames`.
pub const MAX_STREAMS: usize = 1000;
/// Settings kept from each side's first SETTINGS frame.
pub const MAX_SETTINGS: usize = 64;
/// Frames logged per direction in [`H2Summary::frame_log`].
pub const MAX_FRAME_LOG: usize = 64;
/// Notes kept; the rest are counted in [`H2Summary::notes_dropped`].
pub const MAX_NOTES: usize = 256;
/// Longest `:method` / `:path` kept (bytes, then lossily UTF-8).
pub const MAX_PSEUDO_VALUE: usize = 1024;

/// What hopscope knows about one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamInfo {
    /// Direction whose frame (or, for stream 1 after h2c, whose HTTP/1.1 request) opened it.
    pub opened_by: usize,
    pub headers_frames: u64,
    /// DATA payload bytes per direction, padding excluded.
    pub data_bytes: [u64; 2],
    /// END_STREAM seen from that direction.
    pub ended: [bool; 2],
    /// RST_STREAM error code, the last one seen.
    pub reset: Option<u32>,
    pub method: Option<String>,
    pub path: Option<String>,
    /// The final status; an interim (1xx) one until a final one arrives.
    pub status: Option<u16>,
    /// Flow control per sending direction ([`flow`]).
    pub flow: [FlowStats; 2],
    /// The stream's first frames, both directions in the order read.
    pub frames: FrameList,
}

/// Everything counted on the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H2Summary {
    pub preface_seen: bool,
    /// Frames per direction by [`frame_type_name`].
    pub frames: [BTreeMap<&'static str, u64>; 2],
    /// Each side's first non-ACK SETTINGS, as sent (at most [`MAX_SETTINGS`]).
    pub settings: [Vec<(u16, u32)>; 2],
    pub streams: BTreeMap<u32, StreamInfo>,
    /// Frames on streams not described because [`MAX_STREAMS`] were already.
    pub untracked_stream_frames: u64,
    /// (last stream id, error code) of the last GOAWAY, from either side.
    pub goaway: Option<(u32, u32)>,
    /// Bytes fed per direction.
    pub bytes: [u64; 2],
    /// Bytes reported lost by [`H2Conn::gap`] per direction.
    pub lost_bytes: [u64; 2],
    /// The first [`MAX_FRAME_LOG`] frame headers per direction.
    pub frame_log: [Vec<FrameInfo>; 2],
    pub notes_dropped: u64,
    /// Connection flow control per sending direction ([`flow`]).
    pub conn_flow: [FlowStats; 2],
    /// Each sending direction's SETTINGS_INITIAL_WINDOW_SIZE now (the peer's setting).
    pub initial_window: [i64; 2],
    /// The first frames on stream 0.
    pub conn_frames: FrameList,
    /// The first [`MAX_SETTINGS_FRAMES`] SETTINGS frames (not ACKs), from either side.
    pub settings_log: Vec<SettingsEntry>,
    pub settings_dropped: u64,
    /// PINGs per direction that sent them.
    pub pings: [PingStats; 2],
    /// Each side's SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) as its latest SETTINGS
    /// frame that carried it set it.
    pub connect_protocol: [Option<u32>; 2],
}

impl Default for H2Summary {
    fn default() -> Self {
        H2Summary {
            preface_seen: false,
            frames: Default::default(),
            settings: Default::default(),
            streams: BTreeMap::new(),
            untracked_stream_frames: 0,
            goaway: None,
            bytes: [0; 2],
            lost_bytes: [0; 2],
            frame_log: Default::default(),
            notes_dropped: 0,
            conn_flow: Default::default(),
            initial_window: [DEFAULT_WINDOW; 2],
            conn_frames: FrameList::default(),
            settings_log: Vec::new(),
            settings_dropped: 0,
            pings: Default::default(),
            connect_protocol: [None; 2],
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    Preface {
        matched: usize,
    },
    Header {
        have: usize,
    },
    Payload {
        remaining: u32,
    },
    /// Sync lost: bytes are only counted.
    Dead,
}

/// An open header block awaiting END_HEADERS.
#[derive(Clone, Copy, Debug)]
struct Block {
    stream: u32,
    /// The stream the decoded fields describe (the promised one for PUSH_PROMISE).
    target: u32,
}

/// The header block being read, as its first frame (HEADERS or PUSH_PROMISE) began it: what
/// [`Events::block_start`] is told when it ends.
fn block_start(h: &FrameInfo, target: u32) -> BlockStart {
    BlockStart {
        stream: h.stream_id,
        promised: (h.frame_type == PUSH_PROMISE).then_some(target),
        end_stream: h.frame_type == HEADERS && h.flags & END_STREAM != 0,
    }
}

struct Side {
    state: State,
    /// Offset of the next byte, gaps included.
    pos: u64,
    hdr_bytes: [u8; 9],
    cur: FrameInfo,
    /// Payload bytes kept for the current frame (at most `keep`).
    buf: Vec<u8>,
    keep: usize,
    /// A gap fell inside the current payload: its kept bytes are incomplete.
    damaged: bool,
    frames: u64,
    /// What the peer allows this side to send.
    max_frame_size: u32,
    settings_seen: bool,
    block: Option<Block>,
    /// The block being read, from its first frame until it ends or is cut short.
    pending: Option<BlockStart>,
    block_buf: Vec<u8>,
    hpack: Option<hpack::Decoder>,
}

impl Side {
    fn new(state: State) -> Self {
        Side {
            state,
            pos: 0,
            hdr_bytes: [0; 9],
            cur: FrameInfo::default(),
            buf: Vec::new(),
            keep: 0,
            damaged: false,
            frames: 0,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            settings_seen: false,
            block: None,
            pending: None,
            block_buf: Vec::new(),
            hpack: Some(hpack::Decoder::new(MAX_HPACK_TABLE)),
        }
    }
}

impl Side {
    /// While a DATA payload is read: the stream, and of the next `n` payload bytes (with
    /// `remaining` left before them) the payload positions `[lo, hi)` that are content, pad
    /// length and padding left out. `None` outside DATA, when none of them is content, or when
    /// the pad length byte was lost (then the frame's content is not known).
    fn data_range(&self, remaining: u32, n: u64) -> Option<(u32, (u64, u64))> {
        let h = &self.cur;
        if h.frame_type != DATA || h.stream_id == 0 {
            return None;
        }
        let padded = h.flags & PADDED != 0;
        let pad = if padded { *self.buf.first()? } else { 0 };
        let lo = u64::from(padded);
        let hi = u64::from(h.length).checked_sub(u64::from(pad))?;
        let at = u64::from(h.length.saturating_sub(remaining));
        let (a, b) = (at.max(lo), (at + n).min(hi));
        (a < b).then_some((h.stream_id, (a, b)))
    }
}

/// One HTTP/2 connection's two directions.
pub struct H2Conn {
    sides: [Side; 2],
    sum: H2Summary,
    notes: Vec<H2Note>,
    ended: bool,
    /// The capture time and packet of the bytes being fed ([`H2Conn::at`]).
    now: Timestamp,
    packet: u64,
    /// Per sending direction: how much a lowered SETTINGS_INITIAL_WINDOW_SIZE still allows
    /// until that direction ACKs it (a DATA frame may have been sent before the change).
    slack: [i64; 2],
    /// Per direction, per stream (0) / connection (1): a stall was noted.
    stall_noted: [[bool; 2]; 2],
    /// The highest stream id each side opened (client, server).
    highest: [u32; 2],
    /// The frame lists were given up ([`H2Conn::shed_frames`]): frames are only counted.
    frames_shed: bool,
    /// Per direction: its SETTINGS frames awaiting the peer's ACK, as indices into the log
    /// (`None` past its bound), at most [`MAX_PINGS_OUTSTANDING`].
    unacked: [VecDeque<Option<usize>>; 2],
}

impl Default for H2Conn {
    fn default() -> Self {
        Self::new()
    }
}

impl H2Conn {
    /// The client sends the preface then frames; the server sends frames, SETTINGS first.
    pub fn new() -> Self {
        H2Conn {
            sides: [
                Side::new(State::Preface { matched: 0 }),
                Side::new(State::Header { have: 0 }),
            ],
            sum: H2Summary::default(),
            notes: Vec::new(),
            ended: false,
            now: Timestamp::ZERO,
            packet: 0,
            slack: [0; 2],
            stall_noted: [[false; 2]; 2],
            highest: [0; 2],
            frames_shed: false,
            unacked: [VecDeque::new(), VecDeque::new()],
        }
    }

    /// The memory budget is short: the streams' frame lists are given up (what they held is
    /// counted as dropped, and so is every later frame). The heap bytes freed.
    pub fn shed_frames(&mut self) -> usize {
        if self.frames_shed {
            return 0;
        }
        self.frames_shed = true;
        let mut freed = 0;
        let lists = std::iter::once(&mut self.sum.conn_frames)
            .chain(self.sum.streams.values_mut().map(|s| &mut s.frames));
        for l in lists {
            freed += heap::vec(&l.frames);
            l.dropped += l.frames.len() as u64;
            l.frames = Vec::new();
        }
        freed
    }

    /// The bytes fed next were captured at `ts` in `packet` (frame times, ping round trips,
    /// stall durations).
    pub fn at(&mut self, ts: Timestamp, packet: u64) {
        self.now = ts;
        self.packet = packet;
    }

    /// After `Upgrade: h2c` and `101`: stream 1 is the HTTP/1.1 request, already sent in full
    /// by the client (RFC 9113 §3.2); its method and target are the request line's.
    pub fn after_h2c_upgrade(method: &str, path: &str) -> Self {
        let mut c = Self::new();
        let s = StreamInfo {
            opened_by: 0,
            ended: [true, false],
            method: Some(bounded(method.as_bytes())),
            path: Some(bounded(path.as_bytes())),
            ..StreamInfo::default()
        };
        c.sum.streams.insert(1, s);
        c.highest[0] = 1;
        c
    }

    pub fn summary(&self) -> &H2Summary {
        &self.sum
    }

    pub fn notes(&self) -> &[H2Note] {
        &self.notes
    }

    /// After `Upgrade: h2c`: the client's `HTTP2-Settings` (RFC 9113 §3.2.1) are in force
    /// from the start, as if sent in a SETTINGS frame (only the frame size matters here).
    pub fn upgrade_settings(&mut self, settings: &[(u16, u32)]) {
        for &(id, value) in settings {
            if id == 5 && (DEFAULT_MAX_FRAME_SIZE..=0x00ff_ffff).contains(&value) {
                self.sides[1].max_frame_size = value;
            }
            if id == 4 && i64::from(value) <= flow::MAX_WINDOW {
                self.set_initial(1, i64::from(value), 0);
            }
            if id == 1
                && let Some(h) = self.sides[1].hpack.as_mut()
            {
                h.allow(value);
            }
        }
        // In force before any frame: nothing to acknowledge.
        self.slack = [0; 2];
    }

    /// The next bytes of direction `dir` (0 = client, 1 = server).
    pub fn feed(&mut self, dir: usize, data: &[u8]) {
        self.feed_with(dir, data, &mut ());
    }

    /// [`H2Conn::feed`], telling `ev` what the bytes carried.
    pub fn feed_with(&mut self, dir: usize, data: &[u8], ev: &mut dyn Events) {
        if dir > 1 {
            return;
        }
        self.sum.bytes[dir] += data.len() as u64;
        let mut rest = data;
        while !rest.is_empty() {
            let n = self.step(dir, rest, ev).clamp(1, rest.len());
            rest = rest.get(n..).unwrap_or_default();
        }
    }

    /// `n` bytes of direction `dir` were lost. Inside a payload whose end is known, framing
    /// resumes after it (what the payload carried is lost); anywhere else the direction stops.
    pub fn gap(&mut self, dir: usize, n: u64) {
        self.gap_with(dir, n, &mut ());
    }

    /// [`H2Conn::gap`], telling `ev` what was lost.
    pub fn gap_with(&mut self, dir: usize, n: u64, ev: &mut dyn Events) {
        if dir > 1 || n == 0 {
            return;
        }
        self.sum.lost_bytes[dir] = self.sum.lost_bytes[dir].saturating_add(n);
        let side = &mut self.sides[dir];
        let at = side.pos;
        side.pos = side.pos.saturating_add(n);
        let resynced = match side.state {
            State::Dead => return,
            State::Payload { remaining } if n <= u64::from(remaining) => {
                // What the payload carried is lost; a header block's loss stops HPACK when
                // the frame ends (see `fragment`).
                if let Some((stream, lost)) = side.data_range(remaining, n) {
                    ev.data_lost(dir, stream, lost.1 - lost.0);
                }
                side.damaged = true;
                side.state = State::Payload {
                    remaining: remaining - n as u32,
                };
                true
            }
            _ => {
                side.state = State::Dead;
                false
            }
        };
        self.note(dir, at, H2NoteKind::Gap { bytes: n, resynced });
        if matches!(self.sides[dir].state, State::Payload { remaining: 0 }) {
            self.frame_end(dir, ev);
        }
    }

    /// The capture ended: a direction stopped inside a frame or header block says so.
    pub fn end(&mut self) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        for dir in 0..2 {
            let side = &self.sides[dir];
            let missing = match side.state {
                State::Dead => continue,
                State::Preface { matched } if matched > 0 => (PREFACE.len() - matched) as u64,
                State::Header { have } if have > 0 => (9 - have) as u64,
                State::Payload { remaining } => u64::from(remaining),
                _ if side.block.is_some() => 9,
                _ => continue,
            };
            let at = side.pos;
            self.note(dir, at, H2NoteKind::Truncated { missing });
        }
    }

    /// Consumes a prefix of `data` (at least one byte unless empty), returns its length.
    fn step(&mut self, dir: usize, data: &[u8], ev: &mut dyn Events) -> usize {
        let side = &mut self.sides[dir];
        match side.state {
            State::Dead => {
                side.pos += data.len() as u64;
                data.len()
            }
            State::Preface { matched } => {
                let want = PREFACE.get(matched..).unwrap_or_default();
                let n = want.len().min(data.len());
                let at = side.pos;
                if let Some(i) = (0..n).find(|&i| data.get(i) != want.get(i)) {
                    side.state = State::Dead;
                    side.pos += data.len() as u64;
                    let found = data.get(i).copied().unwrap_or_default();
                    self.note(dir, at + i as u64, H2NoteKind::BadPreface { found });
                    return data.len();
                }
                side.pos += n as u64;
                side.state = if matched + n == PREFACE.len() {
                    self.sum.preface_seen = true;
                    State::Header { have: 0 }
                } else {
                    State::Preface {
                        matched: matched + n,
                    }
                };
                n
            }
            State::Header { have } => {
                let n = (9 - have).min(data.len());
                for (d, s) in side
                    .hdr_bytes
                    .iter_mut()
                    .skip(have)
                    .zip(data.iter().take(n))
                {
                    *d = *s;
                }
                side.pos += n as u64;
                if have + n == 9 {
                    self.frame_start(dir, ev);
                } else {
                    side.state = State::Header { have: have + n };
                }
                n
            }
            State::Payload { remaining } => {
                let n = (remaining as usize).min(data.len());
                let room = side.keep.saturating_sub(side.buf.len()).min(n);
                side.buf
                    .extend_from_slice(data.get(..room).unwrap_or_default());
                if let Some((stream, (lo, hi))) = side.data_range(remaining, n as u64) {
                    let at = u64::from(side.cur.length - remaining);
                    let part = data.get((lo - at) as usize..(hi - at) as usize);
                    ev.data(dir, stream, part.unwrap_or_default());
                }
                side.pos += n as u64;
                side.state = State::Payload {
                    remaining: remaining - n as u32,
                };
                if remaining as usize == n {
                    self.frame_end(dir, ev);
                }
                n
            }
        }
    }

    /// A whole frame header was read: checks on the header alone, then the payload state.
    fn frame_start(&mut self, dir: usize, ev: &mut dyn Events) {
        let side = &mut self.sides[dir];
        let h = FrameInfo::parse(&side.hdr_bytes, side.pos - 9);
        side.cur = h;
        side.buf.clear();
        side.damaged = false;
        let first = side.frames == 0 && self.sum.lost_bytes[dir] == 0;
        side.frames += 1;
        let max = side.max_frame_size;
        let open_block = side.block;
        let decoding = side.hpack.is_some();
        side.keep = match h.frame_type {
            DATA if h.flags & PADDED != 0 => 1,
            HEADERS | CONTINUATION if decoding => h.length as usize,
            PUSH_PROMISE if decoding => h.length as usize,
            PUSH_PROMISE => 5,
            SETTINGS => (h.length as usize).min(6 * (MAX_SETTINGS + 1)),
            RST_STREAM | WINDOW_UPDATE => 4,
            GOAWAY | PING => 8,
            _ => 0,
        }
        .min(h.length as usize)
        .min(MAX_HEADER_BLOCK);
        side.state = State::Payload {
            remaining: h.length,
        };

        ev.frame(dir, &h);
        let name = frame_type_name(h.frame_type);
        *self.sum.frames[dir].entry(name).or_insert(0) += 1;
        if self.sum.frame_log[dir].len() < MAX_FRAME_LOG {
            self.sum.frame_log[dir].push(h);
        }

        let at = h.offset;
        if first && h.frame_type != SETTINGS {
            let frame_type = h.frame_type;
            self.note(dir, at, H2NoteKind::FirstFrameNotSettings { frame_type });
        }
        if h.length > max {
            let length = h.length;
            self.note(dir, at, H2NoteKind::FrameTooLarge { length, max });
        }
        if name == "unknown" {
            self.note(
                dir,
                at,
                H2NoteKind::UnknownFrameType {
                    frame_type: h.frame_type,
                },
            );
        }
        let needs_stream = matches!(
            h.frame_type,
            DATA | HEADERS | PRIORITY | RST_STREAM | PUSH_PROMISE | CONTINUATION
        );
        let needs_zero = matches!(h.frame_type, SETTINGS | PING | GOAWAY);
        if (needs_stream && h.stream_id == 0) || (needs_zero && h.stream_id != 0) {
            let (frame_type, stream_id) = (h.frame_type, h.stream_id);
            self.note(
                dir,
                at,
                H2NoteKind::StreamIdRule {
                    frame_type,
                    stream_id,
                },
            );
        }
        let bad_length = match h.frame_type {
            PRIORITY => h.length != 5,
            RST_STREAM | WINDOW_UPDATE => h.length != 4,
            PING => h.length != 8,
            SETTINGS => !h.length.is_multiple_of(6) || (h.flags & ACK != 0 && h.length != 0),
            GOAWAY => h.length < 8,
            PUSH_PROMISE => h.length < 4,
            _ => false,
        };
        if bad_length {
            let (frame_type, length) = (h.frame_type, h.length);
            self.note(dir, at, H2NoteKind::BadFrameLength { frame_type, length });
        }
        if h.frame_type == PUSH_PROMISE && dir == 0 {
            self.note(dir, at, H2NoteKind::PushPromiseFromClient);
        }
        match (open_block, h.frame_type) {
            (Some(b), CONTINUATION) if b.stream == h.stream_id => {}
            (Some(b), frame_type) => {
                let stream_id = b.stream;
                self.note(
                    dir,
                    at,
                    H2NoteKind::ContinuationExpected {
                        stream_id,
                        frame_type,
                    },
                );
                self.sides[dir].block = None;
                self.stop_hpack(dir, at, "a header block was cut short");
                self.block_lost(dir, ev);
            }
            (None, CONTINUATION) => {
                let stream_id = h.stream_id;
                self.note(dir, at, H2NoteKind::UnexpectedContinuation { stream_id });
            }
            _ => {}
        }
        if h.length == 0 {
            self.frame_end(dir, ev);
        }
    }

    /// The current frame's payload is complete (or as complete as a gap left it).
    fn frame_end(&mut self, dir: usize, ev: &mut dyn Events) {
        let side = &mut self.sides[dir];
        side.state = State::Header { have: 0 };
        let h = side.cur;
        let buf = std::mem::take(&mut side.buf);
        // Unless a gap hit the payload, `buf` holds all `keep` bytes.
        let whole = !side.damaged;
        let at = h.offset;
        let be32 = |i: usize| {
            buf.get(i..i + 4)
                .filter(|_| whole)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let pad = (h.flags & PADDED != 0 && matches!(h.frame_type, DATA | HEADERS | PUSH_PROMISE))
            .then(|| buf.first().copied().unwrap_or(0));
        let pad_len = usize::from(pad.is_some());
        match h.frame_type {
            DATA => {
                let n =
                    u64::from(h.length).checked_sub(pad_len as u64 + u64::from(pad.unwrap_or(0)));
                if n.is_none() {
                    self.bad_padding(dir, &h, pad.unwrap_or(0));
                }
                self.check_open(dir, &h);
                if let Some(s) = self.stream(dir, h.stream_id, None) {
                    s.data_bytes[dir] += n.unwrap_or(0);
                    s.ended[dir] |= h.flags & END_STREAM != 0;
                }
                if h.stream_id != 0 {
                    let wire = 9 + u64::from(h.length);
                    ev.data_end(dir, h.stream_id, wire, h.flags & END_STREAM != 0);
                }
            }
            HEADERS => {
                // A client's HEADERS on a new stream opens it; anything else is on a known one.
                let opener = (dir == 0).then_some(0);
                self.check_open(dir, &h);
                if let Some(s) = self.stream(dir, h.stream_id, opener) {
                    s.headers_frames += 1;
                    s.ended[dir] |= h.flags & END_STREAM != 0;
                }
                let priority = if h.flags & PRIORITY_FLAG != 0 { 5 } else { 0 };
                let target = h.stream_id;
                self.fragment(dir, &h, &buf, whole, pad_len + priority, pad, target, ev);
            }
            PUSH_PROMISE => {
                let target = be32(pad_len).map_or(0, |p| p & 0x7fff_ffff);
                if target != 0 && !self.sum.streams.contains_key(&target) {
                    self.check_new(dir, at, target, 1);
                }
                self.stream(dir, target, Some(dir));
                self.fragment(dir, &h, &buf, whole, pad_len + 4, pad, target, ev);
            }
            CONTINUATION => {
                let target = self.sides[dir].block.map_or(0, |b| b.target);
                self.fragment(dir, &h, &buf, whole, 0, None, target, ev);
            }
            RST_STREAM => {
                if let Some(code) = be32(0) {
                    // A reset of a stream both sides had ended changes nothing (curl sends
                    // STREAM_CLOSED after a response it has read whole).
                    let closed = self
                        .sum
                        .streams
                        .get(&h.stream_id)
                        .is_some_and(|s| s.ended == [true, true]);
                    if !matches!(code, 0 | 7 | 8) && h.stream_id != 0 && !closed {
                        let stream_id = h.stream_id;
                        self.note(dir, at, H2NoteKind::ResetError { stream_id, code });
                    }
                    if let Some(s) = self.stream(dir, h.stream_id, None) {
                        s.reset = Some(code);
                    }
                    if h.stream_id != 0 {
                        ev.reset(dir, h.stream_id, code);
                    }
                }
            }
            SETTINGS if h.flags & ACK == 0 && whole => self.settings(dir, at, &buf, h.length),
            GOAWAY => {
                if let (Some(last), Some(code)) = (be32(0), be32(4)) {
                    if code != 0 {
                        let last_stream = last & 0x7fff_ffff;
                        self.note(dir, at, H2NoteKind::GoawayError { code, last_stream });
                    }
                    self.sum.goaway = Some((last & 0x7fff_ffff, code));
                    ev.goaway(dir, last & 0x7fff_ffff, code);
                }
            }
            WINDOW_UPDATE if be32(0).is_some_and(|v| v & 0x7fff_ffff == 0) => {
                let stream_id = h.stream_id;
                self.note(dir, at, H2NoteKind::WindowUpdateZero { stream_id });
            }
            _ => {}
        }
        let increment = (h.frame_type == WINDOW_UPDATE)
            .then(|| be32(0))
            .flatten()
            .map(|v| v & 0x7fff_ffff);
        self.account(dir, &h, &buf, whole, increment);
    }

    fn bad_padding(&mut self, dir: usize, h: &FrameInfo, pad_length: u8) {
        let (frame_type, length) = (h.frame_type, h.length);
        let kind = H2NoteKind::BadPadding {
            frame_type,
            pad_length,
            length,
        };
        self.note(dir, h.offset, kind);
    }

    /// A header block fragment: `skip` bytes (pad length, priority, promised id) before it,
    /// `pad` bytes of padding after it. The block is decoded once END_HEADERS ends it.
    #[allow(clippy::too_many_arguments)]
    fn fragment(
        &mut self,
        dir: usize,
        h: &FrameInfo,
        buf: &[u8],
        whole: bool,
        skip: usize,
        pad: Option<u8>,
        target: u32,
        ev: &mut dyn Events,
    ) {
        let side = &mut self.sides[dir];
        let continuation = h.frame_type == CONTINUATION;
        if continuation && side.block.is_none() {
            return; // already noted as unexpected; its fragment belongs to no block
        }
        if !continuation {
            side.block_buf.clear();
            side.pending = Some(block_start(h, target));
        }
        let end = h.flags & END_HEADERS != 0;
        side.block = (!end).then_some(Block {
            stream: h.stream_id,
            target,
        });
        let len = h.length as usize;
        let pad = usize::from(pad.unwrap_or(0));
        let Some(frag_len) = len.checked_sub(skip + pad) else {
            side.block = None;
            if pad > 0 {
                self.bad_padding(dir, h, pad as u8);
            } else if h.frame_type == HEADERS {
                let (frame_type, length) = (h.frame_type, h.length);
                self.note(
                    dir,
                    h.offset,
                    H2NoteKind::BadFrameLength { frame_type, length },
                );
            }
            self.stop_hpack(
                dir,
                h.offset,
                "a header block frame too short for its fields",
            );
            return self.block_lost(dir, ev);
        };
        if side.hpack.is_some() {
            if !whole {
                self.stop_hpack(dir, h.offset, "bytes lost inside a header block");
            } else if len > MAX_HEADER_BLOCK || side.block_buf.len() + frag_len > MAX_HEADER_BLOCK {
                self.stop_hpack(dir, h.offset, "header block larger than 64 KiB");
            } else {
                side.block_buf
                    .extend_from_slice(buf.get(skip..skip + frag_len).unwrap_or_default());
            }
        }
        if end {
            self.decode_block(dir, h.offset, target, ev);
        }
    }

    /// The header block being read ends undecoded (cut short, or HPACK had stopped): whoever
    /// follows the streams still learns that it came.
    fn block_lost(&mut self, dir: usize, ev: &mut dyn Events) {
        if let Some(b) = self.sides[dir].pending.take() {
            ev.block_start(dir, &b);
            ev.block_end(dir, false);
        }
    }

    fn decode_block(&mut self, dir: usize, at: u64, target: u32, ev: &mut dyn Events) {
        let side = &mut self.sides[dir];
        let block = std::mem::take(&mut side.block_buf);
        let Some(dec) = side.hpack.as_mut() else {
            return self.block_lost(dir, ev);
        };
        let Some(start) = side.pending.take() else {
            return;
        };
        ev.block_start(dir, &start);
        let (mut method, mut path, mut status) = (None, None, None);
        let res = dec.decode(&block, |name, value| {
            match name {
                b":method" => method = Some(bounded(value)),
                b":path" => path = Some(bounded(value)),
                b":status" => status = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()),
                _ => {}
            }
            ev.field(dir, name, value);
        });
        let warning = dec.warning();
        ev.block_end(dir, res.is_ok());
        if let Some(w) = warning {
            self.hpack_note(dir, at, w, false);
        }
        if let Err(e) = res {
            if matches!(e, hpack::HpackError::TableSizeTooLarge { .. }) {
                // hopscope's own bound, not a fault of the encoder.
                return self.stop_hpack(dir, at, &e.to_string());
            }
            self.hpack_note(dir, at, e, true);
            let side = &mut self.sides[dir];
            side.block_buf = Vec::new();
            side.hpack = None;
            return;
        }
        // The HEADERS or PUSH_PROMISE that began the block made the entry, if there was room.
        if let Some(s) = self.sum.streams.get_mut(&target) {
            s.method = s.method.take().or(method);
            s.path = s.path.take().or(path);
            if status.is_some() && s.status.is_none_or(|old: u16| old < 200) {
                s.status = status;
            }
        }
    }

    fn settings(&mut self, dir: usize, at: u64, buf: &[u8], length: u32) {
        let count = length as usize / 6;
        let pairs: Vec<(u16, u32)> = parse_settings(buf).take(MAX_SETTINGS).collect();
        for &(id, value) in &pairs {
            let bad = match id {
                2 | 8 | 9 => value > 1,
                4 => value > 0x7fff_ffff,
                5 => !(DEFAULT_MAX_FRAME_SIZE..=0x00ff_ffff).contains(&value),
                _ => false,
            };
            if bad {
                self.note(dir, at, H2NoteKind::BadSettingValue { id, value });
            } else if id == 8 {
                self.sum.connect_protocol[dir] = Some(value);
            } else if id == 5 {
                self.sides[1 - dir].max_frame_size = value;
            } else if id == 4 {
                self.set_initial(1 - dir, i64::from(value), at);
            } else if id == 1
                && let Some(h) = self.sides[1 - dir].hpack.as_mut()
            {
                // The size the other side's encoder may use for blocks this side decodes.
                h.allow(value);
            }
        }
        if count > MAX_SETTINGS {
            self.note(dir, at, H2NoteKind::TooManySettings { count });
        }
        let side = &mut self.sides[dir];
        if !std::mem::replace(&mut side.settings_seen, true) {
            self.sum.settings[dir] = pairs;
        }
    }

    /// Sending direction `d`'s SETTINGS_INITIAL_WINDOW_SIZE becomes `v` (the peer's SETTINGS
    /// at `at`): the open streams' windows move by the difference (RFC 9113 §6.9.2).
    fn set_initial(&mut self, d: usize, v: i64, at: u64) {
        let delta = v - self.sum.initial_window[d];
        self.sum.initial_window[d] = v;
        if delta < 0 {
            self.slack[d] = self.slack[d].saturating_sub(delta);
        }
        let now = self.now;
        let mut over = None;
        for (&id, s) in self.sum.streams.iter_mut() {
            if !s.ended[d] && s.reset.is_none() && s.flow[d].shift(delta, now) {
                over = over.or(Some((id, s.flow[d].window)));
            }
        }
        if let Some((stream_id, window)) = over {
            let increment = delta;
            let kind = H2NoteKind::WindowOverflow {
                stream_id,
                window,
                increment,
            };
            self.note(1 - d, at, kind);
        }
    }

    /// After a frame: flow control, PING round trips, SETTINGS acknowledgements, the frame
    /// lists. `increment` is a WINDOW_UPDATE's, when its payload was read.
    fn account(
        &mut self,
        dir: usize,
        h: &FrameInfo,
        buf: &[u8],
        whole: bool,
        increment: Option<u32>,
    ) {
        let now = self.now;
        let at = h.offset;
        let (mut window, mut connection_window) = (None, None);
        match h.frame_type {
            DATA if h.stream_id != 0 => {
                let end = h.flags & END_STREAM != 0;
                let slack = self.slack[dir];
                let c = &mut self.sum.conn_flow[dir];
                let conn_over = c.data(h.length, 0).then_some((c.violations, c.window));
                connection_window = Some(c.window);
                let mut stream_over = None;
                let mut stream_stall = None;
                if let Some(s) = self.sum.streams.get_mut(&h.stream_id) {
                    let f = &mut s.flow[dir];
                    stream_over = f.data(h.length, slack).then_some((f.violations, f.window));
                    window = Some(f.window);
                    if !end && f.check_stall(now, h.stream_id) {
                        stream_stall = Some(f.window);
                    }
                }
                let conn_open = |sum: &H2Summary| {
                    !end || sum
                        .streams
                        .iter()
                        .any(|(&id, s)| id != h.stream_id && !s.ended[dir] && s.reset.is_none())
                };
                let mut conn_stall = None;
                // Only while not stalled already: the open streams are looked at once a stall.
                if connection_window.is_some_and(|w| w <= 0)
                    && self.sum.conn_flow[dir].stalled_since.is_none()
                    && conn_open(&self.sum)
                {
                    let c = &mut self.sum.conn_flow[dir];
                    if c.check_stall(now, h.stream_id) {
                        conn_stall = Some(c.window);
                    }
                }
                let length = h.length;
                for (stream_id, over) in [(h.stream_id, stream_over), (0, conn_over)] {
                    if let Some((1, window)) = over {
                        let window = window + i64::from(length);
                        let kind = H2NoteKind::FlowControlViolation {
                            stream_id,
                            length,
                            window,
                        };
                        self.note(dir, at, kind);
                    }
                }
                for (which, stream_id, stall) in
                    [(0, h.stream_id, stream_stall), (1, 0, conn_stall)]
                {
                    if let Some(window) = stall
                        && !std::mem::replace(&mut self.stall_noted[dir][which], true)
                    {
                        let kind = H2NoteKind::FlowControlStall { stream_id, window };
                        self.note(dir, at, kind);
                    }
                }
            }
            WINDOW_UPDATE if whole => {
                let inc = increment.unwrap_or(0);
                let target = 1 - dir;
                let f = if h.stream_id == 0 {
                    Some(&mut self.sum.conn_flow[target])
                } else {
                    self.sum
                        .streams
                        .get_mut(&h.stream_id)
                        .map(|s| &mut s.flow[target])
                };
                if let Some(f) = f.filter(|_| inc > 0) {
                    let over = f.update(inc, now);
                    window = Some(f.window);
                    if over && f.overflows == 1 {
                        let kind = H2NoteKind::WindowOverflow {
                            stream_id: h.stream_id,
                            window: f.window,
                            increment: i64::from(inc),
                        };
                        self.note(dir, at, kind);
                    }
                }
            }
            PING if whole => {
                if let Some(data) = buf.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                    if h.flags & ACK != 0 {
                        self.sum.pings[1 - dir].ack(data, now);
                    } else {
                        self.sum.pings[dir].ping(data, now);
                    }
                }
            }
            SETTINGS if h.flags & ACK != 0 => {
                // It acknowledges the peer's oldest unacknowledged SETTINGS (§6.5.3).
                self.slack[dir] = 0;
                if let Some(Some(i)) = self.unacked[1 - dir].pop_front()
                    && let Some(e) = self.sum.settings_log.get_mut(i)
                {
                    e.ack_ns = u64::try_from(now.saturating_sub(e.ts)).ok();
                }
            }
            SETTINGS => {
                let index = if self.sum.settings_log.len() < MAX_SETTINGS_FRAMES {
                    let settings = if whole {
                        parse_settings(buf).take(MAX_SETTINGS).collect()
                    } else {
                        Vec::new()
                    };
                    self.sum.settings_log.push(SettingsEntry {
                        dir,
                        ts: now,
                        offset: at,
                        settings,
                        ack_ns: None,
                    });
                    Some(self.sum.settings_log.len() - 1)
                } else {
                    self.sum.settings_dropped += 1;
                    None
                };
                let q = &mut self.unacked[dir];
                if q.len() >= MAX_PINGS_OUTSTANDING {
                    q.pop_front();
                }
                q.push_back(index);
            }
            _ => {}
        }
        let e = FrameEntry {
            dir,
            frame_type: h.frame_type,
            flags: h.flags,
            length: h.length,
            offset: at,
            packet: self.packet,
            ts: now,
            window,
            connection_window,
        };
        let list = if h.stream_id == 0 {
            Some(&mut self.sum.conn_frames)
        } else {
            self.sum
                .streams
                .get_mut(&h.stream_id)
                .map(|s| &mut s.frames)
        };
        if let Some(l) = list {
            if self.frames_shed {
                l.dropped += 1;
            } else {
                l.push(e);
            }
        }
    }

    /// The stream's entry, made on first sight while there is room. `opener` is the
    /// direction whose frame opens a stream (a client's HEADERS, a PUSH_PROMISE); a stream
    /// first seen otherwise (its opening frame was lost) is credited by its id's parity.
    fn stream(&mut self, dir: usize, id: u32, opener: Option<usize>) -> Option<&mut StreamInfo> {
        if id == 0 {
            return None;
        }
        if !self.sum.streams.contains_key(&id) {
            let at = self.sides[dir].cur.offset;
            if self.sum.streams.len() >= MAX_STREAMS {
                self.sum.untracked_stream_frames += 1;
                if self.sum.untracked_stream_frames == 1 {
                    self.note(dir, at, H2NoteKind::TooManyStreams);
                }
                return None;
            }
            let by_parity = usize::from(id.is_multiple_of(2));
            if let Some(opened_by) = opener
                && opened_by != by_parity
            {
                self.note(
                    dir,
                    at,
                    H2NoteKind::StreamIdParity {
                        stream_id: id,
                        opened_by,
                    },
                );
            }
            let opened_by = opener.unwrap_or(by_parity);
            let [c, s] = self.sum.initial_window;
            let s = StreamInfo {
                opened_by,
                flow: [FlowStats::new(c), FlowStats::new(s)],
                ..StreamInfo::default()
            };
            self.sum.streams.insert(id, s);
        }
        self.sum.streams.get_mut(&id)
    }

    fn hpack_note(&mut self, dir: usize, at: u64, e: hpack::HpackError, stops: bool) {
        let kind = H2NoteKind::HpackError {
            kind: e.kind(),
            detail: e.to_string(),
            stops,
        };
        self.note(dir, at, kind);
    }

    /// A HEADERS or DATA frame from `dir`: not after that side's END_STREAM on the stream
    /// (RFC 9113 §5.1), and a new stream's id above those the side opened (§5.1.1).
    fn check_open(&mut self, dir: usize, h: &FrameInfo) {
        let id = h.stream_id;
        if id == 0 {
            return;
        }
        match self.sum.streams.get(&id) {
            Some(s) if s.ended[dir] && s.reset.is_none() => {
                let frame_type = h.frame_type;
                let kind = H2NoteKind::FrameAfterEndStream {
                    stream_id: id,
                    frame_type,
                };
                self.note(dir, h.offset, kind);
            }
            None if h.frame_type == HEADERS && dir == 0 => self.check_new(dir, h.offset, id, 0),
            _ => {}
        }
    }

    /// Side `opener` opens stream `id` (not described yet): its ids must increase.
    fn check_new(&mut self, dir: usize, at: u64, id: u32, opener: usize) {
        let highest = self.highest[opener];
        // Past the bound of described streams, a known stream looks new: say nothing.
        if id <= highest && self.sum.streams.len() < MAX_STREAMS {
            let kind = H2NoteKind::StreamIdReuse {
                stream_id: id,
                highest,
            };
            self.note(dir, at, kind);
        }
        self.highest[opener] = highest.max(id);
    }

    fn stop_hpack(&mut self, dir: usize, at: u64, reason: &str) {
        let side = &mut self.sides[dir];
        side.block_buf = Vec::new();
        if side.hpack.take().is_some() {
            let reason = reason.to_string();
            self.note(dir, at, H2NoteKind::HpackStopped { reason });
        }
    }

    fn note(&mut self, dir: usize, offset: u64, kind: H2NoteKind) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(H2Note { dir, offset, kind });
        } else {
            self.sum.notes_dropped += 1;
        }
    }
}

/// A header value kept as text, at most [`MAX_PSEUDO_VALUE`] bytes of it.
fn bounded(v: &[u8]) -> String {
    String::from_utf8_lossy(v.get(..MAX_PSEUDO_VALUE).unwrap_or(v)).into_owned()
}

impl H2Conn {
    /// Heap bytes held: each side's frame and header-block buffers and HPACK table, the
    /// summary's streams (bounded) and the notes.
    pub fn heap_bytes(&self) -> usize {
        let side = |s: &Side| {
            heap::vec(&s.buf)
                + heap::vec(&s.block_buf)
                + s.hpack.as_ref().map_or(0, |h| h.heap_bytes())
        };
        let stream = |st: &StreamInfo| {
            size_of::<StreamInfo>()
                + 32
                + st.method.as_ref().map_or(0, heap::string)
                + st.path.as_ref().map_or(0, heap::string)
                + heap::vec(&st.frames.frames)
                + st.flow
                    .iter()
                    .map(|f| heap::vec(&f.stall_log))
                    .sum::<usize>()
        };
        let settings = |e: &SettingsEntry| heap::vec(&e.settings);
        let pings = |p: &PingStats| heap::vec(&p.outstanding) + heap::vec(&p.rtt_ns);
        side(&self.sides[0])
            + side(&self.sides[1])
            + self.sum.streams.values().map(stream).sum::<usize>()
            + heap::vec(&self.notes)
            + heap::vec(&self.sum.conn_frames.frames)
            + self
                .sum
                .conn_flow
                .iter()
                .map(|f| heap::vec(&f.stall_log))
                .sum::<usize>()
            + heap::vec(&self.sum.settings_log)
            + self.sum.settings_log.iter().map(settings).sum::<usize>()
            + self.sum.pings.iter().map(pings).sum::<usize>()
            + self.unacked.iter().map(heap::deque).sum::<usize>()
    }
}

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod txn_tests;
#[cfg(test)]
mod ws_tests;
