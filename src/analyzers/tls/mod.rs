//! TLS recognition and the first handshake message of each direction (ClientHello, ServerHello).
//!
//! Contract:
//!
//! - **Sans-IO, both directions.** [`TlsSniffer::feed`] takes the bytes of one direction
//!   (0 = client→server, 1 = server→client) in stream order, cut anywhere; [`TlsSniffer::gap`]
//!   says bytes are missing. Offsets in notes are stream offsets from the first byte fed, gaps
//!   included. A direction other than 0 or 1 is ignored.
//! - **Record walk.** Every 5-byte record header (type 20..=24, version 3.0..=3.4, length at most
//!   2^14 + 2048) is read, across the whole stream, without buffering payloads: O(1) memory and
//!   work per record. An invalid header stops the walk of that direction for good, with a note.
//!   A gap inside a record payload is skipped; a gap over a header loses the walk (note).
//! - **Hello reassembly.** The payloads of handshake records are concatenated until the first
//!   handshake message (4-byte header + body) is complete, whatever the record and segment
//!   boundaries; the rest of that record (Certificate, ...) is ignored. At most [`MAX_HELLO`]
//!   bytes per direction are held; a message claiming more is given up at its header. After a
//!   hello is parsed or given up, nothing is buffered. The complete message is parsed by
//!   `tls-parser` (`parse_tls_message_handshake`, `parse_tls_*_hello_extensions`).
//! - **No panic, no silent loss.** Any input gives notes, never a panic; every give-up and every
//!   byte `tls-parser` did not account for becomes a [`TlsNote`] with its offset. Lists copied
//!   out of a hello are bounded ([`MAX_LIST`]); cutting one is a note too.

use crate::analyzers::layer::Prefix;
use crate::base::heap;
use crate::model::codes::{self, Code};
use hello::{Parsed, parse};
use std::fmt;
use tls_parser::TlsRecordHeader;

/// Bytes of one handshake message held per direction before it is given up.
pub const MAX_HELLO: usize = 64 * 1024;
/// Entries kept per list (names, protocols, versions, extension types).
pub const MAX_LIST: usize = 64;
/// Largest record payload (TLS 1.2 ciphertext: 2^14 + 2048, RFC 5246 §6.2.3).
const MAX_RECORD: u16 = (1 << 14) + 2048;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;

/// Whether a stream's first bytes look like TLS: a handshake record header (`16 03 00..=04`,
/// length at most 2^14 + 2048), or an SSLv2-compatible ClientHello (RFC 5246 Appendix E.2:
/// `80|len len 01 03 00..=03` or `... 00 02`). `Maybe` while too few bytes decide.
pub fn looks_like_tls(first: &[u8]) -> Prefix {
    if first.first().is_some_and(|b| b & 0x80 != 0) {
        return sslv2_prefix(first);
    }
    let want: [fn(u8) -> bool; 3] = [|b| b == HANDSHAKE, |b| b == 3, |b| b <= 4];
    for (b, ok) in first.iter().zip(want) {
        if !ok(*b) {
            return Prefix::No;
        }
    }
    match first.get(3..5) {
        Some(l) if u16::from_be_bytes([l[0], l[1]]) <= MAX_RECORD => Prefix::Yes,
        Some(_) => Prefix::No,
        None => Prefix::Maybe,
    }
}

/// Whether `buf` begins with a TLS record header of any content type (RFC 8446 §5.1:
/// change_cipher_spec, alert, handshake or application_data, version 3.x, a non-empty record no
/// longer than a record can be): where a TLS stream can be picked up after a gap took its start,
/// at a segment boundary. Five fixed-format bytes: random payload passes about once in ten
/// million tries.
pub fn looks_like_record(buf: &[u8]) -> Prefix {
    let want: [fn(u8) -> bool; 3] = [|b| (20..=23).contains(&b), |b| b == 3, |b| b <= 4];
    for (b, ok) in buf.iter().zip(want) {
        if !ok(*b) {
            return Prefix::No;
        }
    }
    match buf.get(3..5) {
        Some(l) => match u16::from_be_bytes([l[0], l[1]]) {
            1..=MAX_RECORD => Prefix::Yes,
            _ => Prefix::No,
        },
        None => Prefix::Maybe,
    }
}

fn sslv2_prefix(first: &[u8]) -> Prefix {
    let want: [fn(u8) -> bool; 3] = [|b| b == 1, |b| b == 3 || b == 0, |b| b <= 3];
    for (b, ok) in first.iter().skip(2).zip(want) {
        if !ok(*b) {
            return Prefix::No;
        }
    }
    match first.get(3..5) {
        Some([3, _] | [0, 2]) => Prefix::Yes,
        Some(_) => Prefix::No,
        None => Prefix::Maybe,
    }
}

/// A human name for a protocol version number.
pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0304 => "TLS 1.3",
        0x0303 => "TLS 1.2",
        0x0302 => "TLS 1.1",
        0x0301 => "TLS 1.0",
        0x0300 => "SSL 3.0",
        0x0002 => "SSL 2.0",
        0x7f00..=0x7fff => "TLS 1.3 draft",
        0xfeff => "DTLS 1.0",
        0xfefd => "DTLS 1.2",
        0xfefc => "DTLS 1.3",
        v if is_grease(v) => "GREASE",
        _ => "unknown",
    }
}

/// RFC 8701 GREASE value: `0x?A?A` with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// What a ClientHello offered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHelloInfo {
    /// `legacy_version` of the hello (e.g. 0x0303).
    pub legacy_version: u16,
    /// server_name host names (lossy UTF-8).
    pub sni: Vec<String>,
    /// ALPN protocols offered, in order (lossy UTF-8).
    pub alpn: Vec<String>,
    /// supported_versions if present (GREASE removed), else `[legacy_version]`.
    pub offered_versions: Vec<u16>,
    /// Number of cipher suites sent (GREASE included).
    pub cipher_suites: usize,
    /// Extension types in order (GREASE kept).
    pub extensions: Vec<u16>,
    /// A GREASE value among the cipher suites, extensions or supported versions.
    pub grease: bool,
    pub session_id_len: usize,
    /// The first, unhashed section of JA4 (FoxIO), e.g. `t13d1516h2`.
    pub ja4_like: Option<String>,
    /// The hello's random: what key logs are keyed by.
    pub random: [u8; 32],
}

/// What a ServerHello (or HelloRetryRequest) chose.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHelloInfo {
    pub legacy_version: u16,
    /// From supported_versions if present, else `legacy_version`.
    pub selected_version: u16,
    pub cipher_suite: u16,
    /// ALPN protocol, when sent in the clear (TLS 1.2 and below).
    pub alpn: Option<String>,
    /// Extension types in order.
    pub extensions: Vec<u16>,
    /// The random is the HelloRetryRequest value (RFC 8446 §4.1.3).
    pub hello_retry_request: bool,
    pub random: [u8; 32],
}

/// Something the sniffer met and could not (or would not) follow, in direction `dir` at stream
/// offset `offset` (for hello faults: the offset of the hello message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsNote {
    pub dir: usize,
    pub offset: u64,
    pub kind: NoteKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// The first record header of the direction is not TLS; nothing more is read from it.
    NotTls { header: [u8; 5] },
    /// An SSLv2-compatible ClientHello (not parsed); the record walk stops.
    Sslv2Hello,
    /// A later record header is invalid: the walk (and a hello still awaited) stops there.
    BadRecord { header: [u8; 5] },
    /// A gap of `len` bytes covered a record header: the walk stops.
    WalkLost { len: u64 },
    /// A gap of `len` bytes came before the hello was complete: the hello is lost.
    GapInHello { len: u64 },
    /// A non-handshake record came before the hello was complete.
    HelloInterrupted { content_type: u8 },
    /// The first handshake message is not the hello expected in this direction.
    UnexpectedHandshake { msg_type: u8 },
    /// The hello claims `claimed` bytes (header included), more than `limit`.
    HelloTooLarge { claimed: usize, limit: usize },
    /// The hello is malformed at byte `at` of the message; the fields parsed before a fault in
    /// the extensions are kept.
    Malformed { at: usize, what: &'static str },
    /// A list of the hello had `total` entries; the first [`MAX_LIST`] are kept.
    Truncated { what: &'static str, total: usize },
}

impl TlsNote {
    /// Stable code of the note.
    pub fn code(&self) -> &'static Code {
        match self.kind {
            NoteKind::NotTls { .. } => &codes::TLS_NOT_TLS,
            NoteKind::Sslv2Hello => &codes::TLS_SSLV2_HELLO,
            NoteKind::BadRecord { .. } => &codes::TLS_BAD_RECORD_HEADER,
            NoteKind::WalkLost { .. } => &codes::TLS_GAP_LOST_RECORD_WALK,
            NoteKind::GapInHello { .. } => &codes::TLS_GAP_IN_HELLO,
            NoteKind::HelloInterrupted { .. } => &codes::TLS_HELLO_INTERRUPTED,
            NoteKind::UnexpectedHandshake { .. } => &codes::TLS_UNEXPECTED_HANDSHAKE,
            NoteKind::HelloTooLarge { .. } => &codes::TLS_HELLO_TOO_LARGE,
            NoteKind::Malformed { .. } => &codes::TLS_MALFORMED_HELLO,
            NoteKind::Truncated { .. } => &codes::TLS_LIST_TRUNCATED,
        }
    }
}

impl fmt::Display for TlsNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (dir {}, offset {}): ",
            self.code().name,
            self.dir,
            self.offset
        )?;
        match &self.kind {
            NoteKind::NotTls { header } | NoteKind::BadRecord { header } => write!(
                f,
                "{header:02x?} is not a TLS record header (RFC 8446 §5.1); record walk stopped"
            ),
            NoteKind::Sslv2Hello => f.write_str("SSLv2-compatible ClientHello (RFC 5246 E.2)"),
            NoteKind::WalkLost { len } => write!(f, "{len} bytes missing over a record header"),
            NoteKind::GapInHello { len } => write!(f, "{len} bytes missing before the hello"),
            NoteKind::HelloInterrupted { content_type } => {
                write!(
                    f,
                    "record type {content_type} before the hello was complete"
                )
            }
            NoteKind::UnexpectedHandshake { msg_type } => {
                write!(
                    f,
                    "first handshake message has type {msg_type}, not a hello"
                )
            }
            NoteKind::HelloTooLarge { claimed, limit } => {
                write!(f, "hello claims {claimed} bytes, limit {limit}")
            }
            NoteKind::Malformed { at, what } => write!(f, "byte {at} of the hello: {what}"),
            NoteKind::Truncated { what, total } => {
                write!(f, "{total} {what}, first {MAX_LIST} kept")
            }
        }
    }
}

fn note(dir: usize, offset: u64, kind: NoteKind) -> TlsNote {
    TlsNote { dir, offset, kind }
}

enum Walk {
    Header { buf: [u8; 5], have: usize },
    Body { left: usize, handshake: bool },
    Stopped,
}

const NEW_RECORD: Walk = Walk::Header {
    buf: [0; 5],
    have: 0,
};

enum Hello {
    /// `start`: stream offset of the message's first byte (valid once `buf` is not empty).
    Collecting {
        buf: Vec<u8>,
        start: u64,
    },
    Finished,
}

struct Side {
    offset: u64,
    bytes: u64,
    records: u64,
    /// Records of type `application_data` (23) begun.
    app_records: u64,
    walk: Walk,
    hello: Hello,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            offset: 0,
            bytes: 0,
            records: 0,
            app_records: 0,
            walk: NEW_RECORD,
            hello: Hello::Collecting {
                buf: Vec::new(),
                start: 0,
            },
        }
    }
}

impl Side {
    fn collecting(&self) -> bool {
        matches!(self.hello, Hello::Collecting { .. })
    }

    /// Adds handshake-record payload starting at stream offset `at`; returns the first
    /// handshake message and its offset once it is complete.
    fn collect(
        &mut self,
        dir: usize,
        mut p: &[u8],
        at: u64,
        notes: &mut Vec<TlsNote>,
    ) -> Option<(Vec<u8>, u64)> {
        let Hello::Collecting { buf, start } = &mut self.hello else {
            return None;
        };
        if buf.is_empty() {
            *start = at;
            buf.reserve_exact(4);
        }
        let (expected, offset) = (if dir == 0 { 1 } else { 2 }, *start);
        loop {
            let mut total = 4;
            if let Some(&msg_type) = buf.first()
                && msg_type != expected
            {
                notes.push(note(
                    dir,
                    offset,
                    NoteKind::UnexpectedHandshake { msg_type },
                ));
                break;
            }
            if let Some(&[a, b, c]) = buf.get(1..4) {
                total = 4 + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
                if total > MAX_HELLO {
                    let (claimed, limit) = (total, MAX_HELLO);
                    notes.push(note(
                        dir,
                        offset,
                        NoteKind::HelloTooLarge { claimed, limit },
                    ));
                    break;
                }
                if buf.len() == total {
                    let msg = std::mem::take(buf);
                    self.hello = Hello::Finished;
                    return Some((msg, offset));
                }
                buf.reserve_exact(total - buf.len());
            }
            if p.is_empty() {
                return None;
            }
            let n = (total - buf.len()).min(p.len());
            buf.extend_from_slice(&p[..n]);
            p = &p[n..];
        }
        self.hello = Hello::Finished;
        None
    }
}

/// Recognises TLS on one connection (or tunnel) and reads both hellos; see the module doc.
#[derive(Default)]
pub struct TlsSniffer {
    sides: [Side; 2],
    client: Option<ClientHelloInfo>,
    server: Option<ServerHelloInfo>,
    notes: Vec<TlsNote>,
}

impl TlsSniffer {
    /// Bytes of direction `dir` (0 = client→server, 1 = server→client), in stream order.
    pub fn feed(&mut self, dir: usize, data: &[u8]) {
        let Some(side) = self.sides.get_mut(dir) else {
            return;
        };
        side.bytes += data.len() as u64;
        let mut rest = data;
        while !rest.is_empty() {
            let n = match &mut side.walk {
                Walk::Stopped => rest.len(),
                Walk::Header { buf, have } => {
                    let n = (5 - *have).min(rest.len());
                    buf[*have..*have + n].copy_from_slice(&rest[..n]);
                    *have += n;
                    if *have == 5 {
                        let (hdr, at) = (*buf, side.offset + n as u64 - 5);
                        side.walk = next_walk(dir, side, hdr, at, &mut self.notes);
                    }
                    n
                }
                Walk::Body { left, handshake } => {
                    let n = (*left).min(rest.len());
                    *left -= n;
                    if *handshake
                        && let Some((msg, start)) =
                            side.collect(dir, &rest[..n], side.offset, &mut self.notes)
                    {
                        match parse(dir, &msg, start, &mut self.notes) {
                            Parsed::Client(c) => self.client = Some(c),
                            Parsed::Server(s) => self.server = Some(s),
                            Parsed::Nothing => {}
                        }
                    }
                    if matches!(side.walk, Walk::Body { left: 0, .. }) {
                        side.walk = NEW_RECORD;
                    }
                    n
                }
            };
            side.offset += n as u64;
            rest = &rest[n..];
        }
    }

    /// Records of type `application_data` direction `dir` began (in TLS 1.3 the encrypted
    /// handshake messages too: every protected record is one).
    pub fn app_records(&self, dir: usize) -> u64 {
        self.sides.get(dir).map_or(0, |s| s.app_records)
    }

    /// `n` bytes of direction `dir` are missing from the capture.
    pub fn gap(&mut self, dir: usize, n: u64) {
        let Some(side) = self.sides.get_mut(dir) else {
            return;
        };
        if n == 0 {
            return;
        }
        let offset = side.offset;
        side.offset += n;
        if side.collecting() {
            side.hello = Hello::Finished;
            self.notes
                .push(note(dir, offset, NoteKind::GapInHello { len: n }));
        }
        match &mut side.walk {
            Walk::Body { left, .. } if (*left as u64) >= n => {
                *left -= n as usize;
                if *left == 0 {
                    side.walk = NEW_RECORD;
                }
            }
            Walk::Stopped => {}
            _ => {
                side.walk = Walk::Stopped;
                self.notes
                    .push(note(dir, offset, NoteKind::WalkLost { len: n }));
            }
        }
    }

    pub fn client_hello(&self) -> Option<&ClientHelloInfo> {
        self.client.as_ref()
    }

    pub fn server_hello(&self) -> Option<&ServerHelloInfo> {
        self.server.as_ref()
    }

    pub fn notes(&self) -> &[TlsNote] {
        &self.notes
    }

    /// Bytes fed in direction `dir` (gaps not counted).
    pub fn bytes(&self, dir: usize) -> u64 {
        self.sides.get(dir).map_or(0, |s| s.bytes)
    }

    /// Valid record headers read in direction `dir`.
    pub fn records(&self, dir: usize) -> u64 {
        self.sides.get(dir).map_or(0, |s| s.records)
    }

    /// Bytes held right now (both directions); at most `2 * MAX_HELLO`.
    pub fn buffered(&self) -> usize {
        let held = |s: &Side| match &s.hello {
            Hello::Collecting { buf, .. } => buf.capacity(),
            Hello::Finished => 0,
        };
        self.sides.iter().map(held).sum()
    }

    /// Both hellos parsed or given up: only the record counts can still change.
    pub fn is_done(&self) -> bool {
        !self.sides.iter().any(Side::collecting)
    }
}

/// The walk state after the record header `hdr` at stream offset `at`.
fn next_walk(dir: usize, side: &mut Side, hdr: [u8; 5], at: u64, notes: &mut Vec<TlsNote>) -> Walk {
    let valid = match tls_parser::parse_tls_record_header(&hdr) {
        Ok((_, h)) => record_ok(&h).then_some(h),
        Err(_) => None,
    };
    let Some(h) = valid else {
        if side.collecting() {
            side.hello = Hello::Finished;
        }
        let kind = match (side.records, looks_like_tls(&hdr)) {
            (0, Prefix::Yes) => NoteKind::Sslv2Hello,
            (0, _) => NoteKind::NotTls { header: hdr },
            _ => NoteKind::BadRecord { header: hdr },
        };
        notes.push(note(dir, at, kind));
        return Walk::Stopped;
    };
    side.records += 1;
    if u8::from(h.record_type) == APPLICATION_DATA {
        side.app_records += 1;
    }
    let handshake = u8::from(h.record_type) == HANDSHAKE;
    if !handshake && side.collecting() {
        side.hello = Hello::Finished;
        let content_type = h.record_type.into();
        notes.push(note(dir, at, NoteKind::HelloInterrupted { content_type }));
    }
    match usize::from(h.len) {
        0 => NEW_RECORD,
        left => Walk::Body { left, handshake },
    }
}

fn record_ok(h: &TlsRecordHeader) -> bool {
    let [major, minor] = h.version.0.to_be_bytes();
    (20..=24).contains(&u8::from(h.record_type)) && major == 3 && minor <= 4 && h.len <= MAX_RECORD
}

pub mod crypto;
mod decrypt;
mod hello;
pub mod keylog;
mod layer;
pub mod shared;
pub mod suites;

pub use layer::{Decrypted, TlsLayer};
pub use shared::{TlsConfig, TlsShared};

impl TlsSniffer {
    /// Heap bytes held: the hellos being collected (bounded) and the notes.
    pub fn heap_bytes(&self) -> usize {
        let hello = |s: &Side| match &s.hello {
            Hello::Collecting { buf, .. } => heap::vec(buf),
            Hello::Finished => 0,
        };
        hello(&self.sides[0]) + hello(&self.sides[1]) + heap::vec(&self.notes) + 256
    }
}

#[cfg(test)]
mod tests;
