//! Transfer framing of one HTTP/1.x message body (RFC 9112 §6, §7): a known length, chunked,
//! or read-until-close. Sans-IO and streaming: bytes go in, decoded payload comes out through a
//! callback, and the input may be split at any byte boundary with identical results.
//!
//! Contract:
//! - **Consumed.** [`BodyDecoder::feed`] returns how many bytes of its input belong to this
//!   body, framing (size lines, CRLFs, trailers) included. Bytes after that are *not*
//!   consumed: they belong to the next message on the connection (pipelining), or, after an
//!   error, to whatever the caller decides. [`BodyDecoder::wire_len`] is the running total,
//!   gap bytes the body absorbed included.
//! - **Offsets** in errors and notes are body offsets: 0 is the first byte after the head.
//!   An error names the offending byte; that byte is not consumed.
//! - **Errors** ([`BodyError`]) stop the decoder for good: it consumes nothing more and is
//!   done. The error is handed to the callback once and kept in [`BodyDecoder::state`].
//! - **Lenience.** What real servers send and every client accepts (a bare LF as line end,
//!   whitespace after the chunk size) is decoded and recorded as a [`BodyNote`], not an error.
//! - **Gaps** (bytes missing from the capture) are absorbed where the framing says how long
//!   they are: inside a known length, inside chunk data, or anywhere with read-until-close.
//!   Elsewhere the decoder cannot find its place and becomes [`BodyState::Lost`].
//! - **Bounds.** Nothing here grows with the body: a chunk size line is at most
//!   [`BodyLimits::max_chunk_line`] bytes, the trailer section at most
//!   [`BodyLimits::max_trailer_bytes`] bytes and [`BodyLimits::max_trailers`] fields, and at
//!   most [`MAX_EXTENSIONS`] chunk extensions and [`MAX_NOTES`] notes are kept (all are
//!   counted). Payload is handed on as slices of the input, never buffered.
//! - **No panics** on any input, split or sequence of calls.

mod chunked;
#[cfg(test)]
mod tests;

use thiserror::Error;

/// How the end of a body is found (RFC 9112 §6.3). Choosing it from the head is the caller's job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body (e.g. a response to HEAD, 204, 304, or a request without length).
    None,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Read until the connection ends (a response without length).
    Close,
}

/// Caller-set bounds for the chunked framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    /// Longest chunk size line, extensions included, line end excluded.
    pub max_chunk_line: usize,
    /// Largest trailer section, line ends and the final empty line included.
    pub max_trailer_bytes: usize,
    /// Most trailer fields.
    pub max_trailers: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            max_chunk_line: 4096,
            max_trailer_bytes: 16 * 1024,
            max_trailers: 100,
        }
    }
}

/// Chunk extensions kept (the rest are counted in [`BodyDecoder::extension_lines`]).
pub const MAX_EXTENSIONS: usize = 16;
/// Lenience notes kept (all are counted in [`BodyDecoder::lenience`]).
pub const MAX_NOTES: usize = 16;

/// Why a body could not be decoded further. `offset` is the body offset of the offending byte.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BodyError {
    #[error(
        "chunk size missing at body offset {offset}: byte {found:#04x} where a hex digit must start the line (RFC 9112 §7.1)"
    )]
    EmptyChunkSize { offset: u64, found: u8 },
    #[error("invalid byte {found:#04x} in chunk size line at body offset {offset} (RFC 9112 §7.1)")]
    InvalidChunkSize { offset: u64, found: u8 },
    #[error("chunk size does not fit in 64 bits at body offset {offset}")]
    ChunkSizeOverflow { offset: u64 },
    #[error("chunk size line longer than {limit} bytes at body offset {offset}")]
    ChunkLineTooLong { offset: u64, limit: usize },
    #[error(
        "chunk data not followed by CRLF at body offset {offset}: byte {found:#04x} (wrong chunk size?) (RFC 9112 §7.1)"
    )]
    MissingChunkCrlf { offset: u64, found: u8 },
    #[error("CR not followed by LF at body offset {offset}: byte {found:#04x}")]
    BareCr { offset: u64, found: u8 },
    #[error(
        "invalid byte {found:#04x} in trailer field at body offset {offset} (RFC 9112 §7.1.2, RFC 9110 §5.1)"
    )]
    InvalidTrailer { offset: u64, found: u8 },
    #[error("trailer section larger than {limit} bytes at body offset {offset}")]
    TrailerTooLarge { offset: u64, limit: usize },
    #[error("more than {limit} trailer fields at body offset {offset}")]
    TooManyTrailers { offset: u64, limit: usize },
}

impl BodyError {
    /// Body offset of the offending byte.
    pub fn offset(&self) -> u64 {
        match *self {
            BodyError::EmptyChunkSize { offset, .. }
            | BodyError::InvalidChunkSize { offset, .. }
            | BodyError::ChunkSizeOverflow { offset }
            | BodyError::ChunkLineTooLong { offset, .. }
            | BodyError::MissingChunkCrlf { offset, .. }
            | BodyError::BareCr { offset, .. }
            | BodyError::InvalidTrailer { offset, .. }
            | BodyError::TrailerTooLarge { offset, .. }
            | BodyError::TooManyTrailers { offset, .. } => offset,
        }
    }
}

/// Something accepted although the RFC does not allow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// A line of the chunked framing ended with LF alone (RFC 9112 §2.2 allows recipients this).
    BareLf,
    /// SP or HTAB after the chunk size digits (BWS before `;`, or before the line end).
    WhitespaceAfterSize,
}

/// A lenience note: what and where (body offset of the LF, or of the first whitespace byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyNote {
    pub kind: NoteKind,
    pub offset: u64,
}

/// Counts of every lenience note, kept or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lenience {
    pub bare_lf: u64,
    pub whitespace_after_size: u64,
}

/// The raw bytes after a chunk size, from the first `;` to the line end (exclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkExtension {
    /// Which size line: 0 for the first chunk; the last chunk's index is [`BodyDecoder::chunks`].
    pub chunk: u64,
    /// Body offset of the `;`.
    pub offset: u64,
    pub raw: Vec<u8>,
}

/// Where a body stands. Once not `InProgress` it never changes again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyState {
    /// More bytes are expected.
    InProgress,
    /// Ended where the framing said, nothing missing.
    Complete,
    /// Ended where the framing said, but bytes were missing (a gap; see `missing`).
    Partial,
    /// The connection ended before the framing said the body ends.
    Incomplete,
    /// A gap hit the chunked framing itself: where the body ends is unknown.
    Lost,
    /// The framing is invalid; nothing after the error was consumed.
    Error(BodyError),
}

/// What [`BodyDecoder::feed`] hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyEvent<'a> {
    /// Transfer-decoded payload, a slice of the input.
    Data(&'a [u8]),
    /// The decoder stopped here (also in [`BodyDecoder::state`]).
    Error(BodyError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Length { remaining: u64 },
    Close,
    SizeDigits,
    SizeWs,
    SizeExt,
    SizeCr,
    Data { remaining: u64 },
    DataCr,
    DataLf,
    TrailerStart,
    TrailerName,
    TrailerValue,
    TrailerCr { end: bool },
    Done,
}

/// Streaming transfer decoder for one message body. See the module docs for the contract.
#[derive(Clone, Debug)]
pub struct BodyDecoder {
    limits: BodyLimits,
    phase: Phase,
    state: BodyState,
    wire: u64,
    decoded: u64,
    missing: u64,
    chunks: u64,
    size_lines: u64,
    // current size line
    size: u64,
    digits: usize,
    line_len: usize,
    ext_seen: bool,
    ext_start: u64,
    ext: Vec<u8>,
    extensions: Vec<ChunkExtension>,
    extension_lines: u64,
    // trailer section
    trailer_bytes: usize,
    name: Vec<u8>,
    value: Vec<u8>,
    trailers: Vec<(Vec<u8>, Vec<u8>)>,
    notes: Vec<BodyNote>,
    lenience: Lenience,
}

impl BodyDecoder {
    pub fn new(framing: Framing, limits: BodyLimits) -> Self {
        let (phase, state) = match framing {
            Framing::None | Framing::Length(0) => (Phase::Done, BodyState::Complete),
            Framing::Length(n) => (Phase::Length { remaining: n }, BodyState::InProgress),
            Framing::Chunked => (Phase::SizeDigits, BodyState::InProgress),
            Framing::Close => (Phase::Close, BodyState::InProgress),
        };
        BodyDecoder {
            limits,
            phase,
            state,
            wire: 0,
            decoded: 0,
            missing: 0,
            chunks: 0,
            size_lines: 0,
            size: 0,
            digits: 0,
            line_len: 0,
            ext_seen: false,
            ext_start: 0,
            ext: Vec::new(),
            extensions: Vec::new(),
            extension_lines: 0,
            trailer_bytes: 0,
            name: Vec::new(),
            value: Vec::new(),
            trailers: Vec::new(),
            notes: Vec::new(),
            lenience: Lenience::default(),
        }
    }

    /// Feeds the bytes that follow the head (or the previous feed). Returns how many of them
    /// belong to this body; the rest are left for the next message. Payload goes to `ev`.
    pub fn feed(&mut self, input: &[u8], ev: &mut dyn FnMut(BodyEvent<'_>)) -> usize {
        let mut pos = 0;
        while self.state == BodyState::InProgress {
            let rest = input.get(pos..).unwrap_or_default();
            if rest.is_empty() {
                break;
            }
            match self.phase {
                Phase::Length { remaining } => {
                    let take = self.data(rest, remaining, ev);
                    pos += take;
                    let left = remaining - take as u64;
                    self.phase = Phase::Length { remaining: left };
                    if left == 0 {
                        self.complete();
                    }
                }
                Phase::Close => pos += self.data(rest, u64::MAX, ev),
                Phase::Data { remaining } => {
                    let take = self.data(rest, remaining, ev);
                    pos += take;
                    let left = remaining - take as u64;
                    self.phase = if left == 0 {
                        Phase::DataCr
                    } else {
                        Phase::Data { remaining: left }
                    };
                }
                _ => {
                    let Some(&b) = rest.first() else { break };
                    match self.step(b) {
                        Ok(()) => {
                            self.wire = self.wire.saturating_add(1);
                            pos += 1;
                        }
                        Err(e) => {
                            self.phase = Phase::Done;
                            self.state = BodyState::Error(e.clone());
                            ev(BodyEvent::Error(e));
                        }
                    }
                }
            }
        }
        pos
    }

    /// `n` bytes of the stream are missing here. Returns how many of them this body absorbs
    /// (they count in `wire_len` and `missing`, not in `decoded_len`). The body is partial.
    pub fn gap(&mut self, n: u64) -> u64 {
        if n == 0 || self.state != BodyState::InProgress {
            return 0;
        }
        match self.phase {
            Phase::Length { remaining } => {
                let took = n.min(remaining);
                self.absorb(took);
                self.phase = Phase::Length {
                    remaining: remaining - took,
                };
                if remaining == took {
                    self.complete();
                }
                took
            }
            Phase::Close => {
                self.absorb(n);
                n
            }
            Phase::Data { remaining } => {
                let took = n.min(remaining);
                self.absorb(took);
                if took < n {
                    self.lose();
                } else if remaining == took {
                    self.phase = Phase::DataCr;
                } else {
                    self.phase = Phase::Data {
                        remaining: remaining - took,
                    };
                }
                took
            }
            _ => {
                self.lose();
                0
            }
        }
    }

    /// The connection ended. Read-until-close completes; anything else not done is incomplete.
    pub fn eof(&mut self) {
        if self.state != BodyState::InProgress {
            return;
        }
        if self.phase == Phase::Close {
            self.complete();
        } else {
            self.phase = Phase::Done;
            self.state = BodyState::Incomplete;
        }
    }

    /// Complete, errored, lost or cut short: nothing more will be consumed.
    pub fn is_done(&self) -> bool {
        self.state != BodyState::InProgress
    }

    pub fn state(&self) -> BodyState {
        self.state.clone()
    }

    /// Bytes of the stream consumed, framing and absorbed gap bytes included.
    pub fn wire_len(&self) -> u64 {
        self.wire
    }

    /// Payload bytes handed on as [`BodyEvent::Data`].
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// Bytes absorbed from gaps.
    pub fn missing(&self) -> u64 {
        self.missing
    }

    /// Chunks with data seen (the last, zero-size chunk is not counted).
    pub fn chunks(&self) -> u64 {
        self.chunks
    }

    /// Trailer fields in order, name and value as sent (value without surrounding whitespace).
    pub fn trailers(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.trailers
    }

    /// The first [`MAX_EXTENSIONS`] chunk extensions.
    pub fn extensions(&self) -> &[ChunkExtension] {
        &self.extensions
    }

    /// Size lines that carried an extension, kept or not.
    pub fn extension_lines(&self) -> u64 {
        self.extension_lines
    }

    /// The first [`MAX_NOTES`] lenience notes.
    pub fn notes(&self) -> &[BodyNote] {
        &self.notes
    }

    pub fn lenience(&self) -> Lenience {
        self.lenience
    }

    /// Hands on up to `limit` bytes of `rest` as payload; returns how many.
    fn data(&mut self, rest: &[u8], limit: u64, ev: &mut dyn FnMut(BodyEvent<'_>)) -> usize {
        let take = usize::try_from(limit).map_or(rest.len(), |l| l.min(rest.len()));
        let (payload, _) = rest.split_at(take);
        if !payload.is_empty() {
            ev(BodyEvent::Data(payload));
        }
        // Saturating: a gap of any claimed length may have been absorbed before.
        self.wire = self.wire.saturating_add(take as u64);
        self.decoded = self.decoded.saturating_add(take as u64);
        take
    }

    fn absorb(&mut self, n: u64) {
        self.wire = self.wire.saturating_add(n);
        self.missing = self.missing.saturating_add(n);
    }

    fn complete(&mut self) {
        self.phase = Phase::Done;
        self.state = if self.missing > 0 {
            BodyState::Partial
        } else {
            BodyState::Complete
        };
    }

    fn lose(&mut self) {
        self.phase = Phase::Done;
        self.state = BodyState::Lost;
    }

    fn note(&mut self, kind: NoteKind, offset: u64) {
        match kind {
            NoteKind::BareLf => self.lenience.bare_lf += 1,
            NoteKind::WhitespaceAfterSize => self.lenience.whitespace_after_size += 1,
        }
        if self.notes.len() < MAX_NOTES {
            self.notes.push(BodyNote { kind, offset });
        }
    }
}
