//! Notes: what the traffic did against RFC 9113 (or against hopscope's bounds), with a stable
//! code and a one-line explanation naming the rule.

use std::fmt;

use super::fields::error_name;
use super::frame::{frame_type_name, settings_name};
use super::{MAX_SETTINGS, MAX_STREAMS};
use crate::model::codes::{self, Code};

/// A note about the traffic: direction, offset in that direction, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H2Note {
    pub dir: usize,
    pub offset: u64,
    pub kind: H2NoteKind,
}

/// What a note says. [`H2NoteKind::code`] is stable; `Display` names the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum H2NoteKind {
    /// The client's bytes differ from the preface at this offset; that direction is not parsed.
    BadPreface {
        found: u8,
    },
    /// The first frame after the preface (or the server's first frame) is not SETTINGS.
    FirstFrameNotSettings {
        frame_type: u8,
    },
    FrameTooLarge {
        length: u32,
        max: u32,
    },
    /// An extension frame type: ignored, as the RFC says, and counted as "unknown".
    UnknownFrameType {
        frame_type: u8,
    },
    /// This frame type must (or must not) be on stream 0.
    StreamIdRule {
        frame_type: u8,
        stream_id: u32,
    },
    /// A client-opened stream with an even id, or a server-opened one with an odd id.
    StreamIdParity {
        stream_id: u32,
        opened_by: usize,
    },
    /// A payload length this frame type cannot have.
    BadFrameLength {
        frame_type: u8,
        length: u32,
    },
    BadPadding {
        frame_type: u8,
        pad_length: u8,
        length: u32,
    },
    BadSettingValue {
        id: u16,
        value: u32,
    },
    TooManySettings {
        count: usize,
    },
    WindowUpdateZero {
        stream_id: u32,
    },
    PushPromiseFromClient,
    /// A header block was open on `stream_id` and this frame is not its CONTINUATION.
    ContinuationExpected {
        stream_id: u32,
        frame_type: u8,
    },
    UnexpectedContinuation {
        stream_id: u32,
    },
    /// HPACK decoding stopped in this direction (framing goes on).
    HpackStopped {
        reason: String,
    },
    TooManyStreams,
    /// The peer's HPACK encoder broke RFC 7541: `kind` is [`hpack::HpackError::kind`]'s
    /// name; `stops` when decoding stops in that direction.
    HpackError {
        kind: &'static str,
        detail: String,
        stops: bool,
    },
    /// A new stream whose id is not above the highest the side opened before.
    StreamIdReuse {
        stream_id: u32,
        highest: u32,
    },
    /// HEADERS or DATA from a side that had ended the stream (END_STREAM).
    FrameAfterEndStream {
        stream_id: u32,
        frame_type: u8,
    },
    /// GOAWAY with an error code other than NO_ERROR.
    GoawayError {
        code: u32,
        last_stream: u32,
    },
    /// RST_STREAM with an error code other than NO_ERROR, REFUSED_STREAM or CANCEL.
    ResetError {
        stream_id: u32,
        code: u32,
    },
    /// A DATA frame used a send window up (`stream_id` 0: the connection's) while the
    /// sender was not done: it waits for a WINDOW_UPDATE. Noted at the direction's first
    /// stall of each kind; all are counted in the record.
    FlowControlStall {
        stream_id: u32,
        window: i64,
    },
    /// A DATA frame longer than the send window it had (`stream_id` 0: the connection's).
    FlowControlViolation {
        stream_id: u32,
        length: u32,
        window: i64,
    },
    /// A WINDOW_UPDATE (or a SETTINGS_INITIAL_WINDOW_SIZE change) took a window above 2³¹−1.
    WindowOverflow {
        stream_id: u32,
        window: i64,
        increment: i64,
    },
    /// Bytes lost; `resynced` when they fell inside a frame payload of known length.
    Gap {
        bytes: u64,
        resynced: bool,
    },
    /// The stream ended inside the preface, a frame header, a payload or a header block.
    Truncated {
        missing: u64,
    },
}

impl H2NoteKind {
    /// Its entry in the findings registry (which gives the severity: info for what is legal
    /// or about hopscope's own limits, warning for a peer breaking an RFC 9113 rule).
    pub fn code(&self) -> &'static Code {
        match self {
            H2NoteKind::BadPreface { .. } => &codes::H2_BAD_PREFACE,
            H2NoteKind::FirstFrameNotSettings { .. } => &codes::H2_FIRST_FRAME_NOT_SETTINGS,
            H2NoteKind::FrameTooLarge { .. } => &codes::H2_FRAME_TOO_LARGE,
            H2NoteKind::UnknownFrameType { .. } => &codes::H2_UNKNOWN_FRAME_TYPE,
            H2NoteKind::StreamIdRule { .. } => &codes::H2_STREAM_ID_RULE,
            H2NoteKind::StreamIdParity { .. } => &codes::H2_STREAM_ID_PARITY,
            H2NoteKind::BadFrameLength { .. } => &codes::H2_BAD_FRAME_LENGTH,
            H2NoteKind::BadPadding { .. } => &codes::H2_BAD_PADDING,
            H2NoteKind::BadSettingValue { .. } => &codes::H2_BAD_SETTING_VALUE,
            H2NoteKind::TooManySettings { .. } => &codes::H2_TOO_MANY_SETTINGS,
            H2NoteKind::WindowUpdateZero { .. } => &codes::H2_WINDOW_UPDATE_ZERO,
            H2NoteKind::PushPromiseFromClient => &codes::H2_PUSH_PROMISE_FROM_CLIENT,
            H2NoteKind::ContinuationExpected { .. } => &codes::H2_CONTINUATION_EXPECTED,
            H2NoteKind::UnexpectedContinuation { .. } => &codes::H2_UNEXPECTED_CONTINUATION,
            H2NoteKind::HpackStopped { .. } => &codes::H2_HPACK_STOPPED,
            H2NoteKind::TooManyStreams => &codes::H2_TOO_MANY_STREAMS,
            H2NoteKind::HpackError { .. } => &codes::H2_HPACK_ERROR,
            H2NoteKind::StreamIdReuse { .. } => &codes::H2_STREAM_ID_REUSE,
            H2NoteKind::FrameAfterEndStream { .. } => &codes::H2_FRAME_AFTER_END_STREAM,
            H2NoteKind::GoawayError { .. } => &codes::H2_GOAWAY_ERROR,
            H2NoteKind::ResetError { .. } => &codes::H2_RESET_ERROR,
            H2NoteKind::FlowControlStall { .. } => &codes::H2_FLOW_CONTROL_STALL,
            H2NoteKind::FlowControlViolation { .. } => &codes::H2_FLOW_CONTROL_VIOLATION,
            H2NoteKind::WindowOverflow { .. } => &codes::H2_WINDOW_OVERFLOW,
            H2NoteKind::Gap { .. } => &codes::H2_GAP,
            H2NoteKind::Truncated { .. } => &codes::H2_TRUNCATED,
        }
    }
}

impl fmt::Display for H2NoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use H2NoteKind::*;
        let name = frame_type_name;
        match self {
            BadPreface { found } => write!(
                f,
                "byte {found:#04x} is not the client connection preface (RFC 9113 §3.4); direction not parsed"
            ),
            FirstFrameNotSettings { frame_type } => write!(
                f,
                "first frame is {} (type {frame_type}), not SETTINGS (RFC 9113 §3.4)",
                name(*frame_type)
            ),
            FrameTooLarge { length, max } => write!(
                f,
                "frame length {length} exceeds SETTINGS_MAX_FRAME_SIZE {max} (RFC 9113 §4.2)"
            ),
            UnknownFrameType { frame_type } => write!(
                f,
                "unknown frame type {frame_type}, ignored (RFC 9113 §4.1, §5.5)"
            ),
            StreamIdRule {
                frame_type,
                stream_id,
            } => write!(
                f,
                "{} on stream {stream_id}: {} (RFC 9113 §6)",
                name(*frame_type),
                if *stream_id == 0 {
                    "needs a stream"
                } else {
                    "belongs on stream 0"
                }
            ),
            StreamIdParity {
                stream_id,
                opened_by,
            } => write!(
                f,
                "stream {stream_id} opened by the {}: client streams are odd, server streams even (RFC 9113 §5.1.1)",
                if *opened_by == 0 { "client" } else { "server" }
            ),
            BadFrameLength { frame_type, length } => write!(
                f,
                "{} with payload length {length} (RFC 9113 §6, FRAME_SIZE_ERROR)",
                name(*frame_type)
            ),
            BadPadding {
                frame_type,
                pad_length,
                length,
            } => write!(
                f,
                "{} pad length {pad_length} does not fit payload length {length} (RFC 9113 §6.1)",
                name(*frame_type)
            ),
            BadSettingValue { id, value } => write!(
                f,
                "SETTINGS_{} = {value} is out of range (RFC 9113 §6.5.2)",
                settings_name(*id)
            ),
            TooManySettings { count } => write!(
                f,
                "SETTINGS with {count} entries; only the first {MAX_SETTINGS} are kept"
            ),
            WindowUpdateZero { stream_id } => write!(
                f,
                "WINDOW_UPDATE with increment 0 on stream {stream_id} (RFC 9113 §6.9)"
            ),
            PushPromiseFromClient => {
                write!(f, "PUSH_PROMISE sent by the client (RFC 9113 §8.4)")
            }
            ContinuationExpected {
                stream_id,
                frame_type,
            } => write!(
                f,
                "{} while the header block on stream {stream_id} awaits CONTINUATION (RFC 9113 §6.10)",
                name(*frame_type)
            ),
            UnexpectedContinuation { stream_id } => write!(
                f,
                "CONTINUATION on stream {stream_id} without an open header block (RFC 9113 §6.10)"
            ),
            HpackStopped { reason } => write!(
                f,
                "header decoding stopped in this direction: {reason} (RFC 7541)"
            ),
            TooManyStreams => write!(
                f,
                "more than {MAX_STREAMS} streams; further ones are only counted"
            ),
            HpackError {
                kind,
                detail,
                stops,
            } => write!(
                f,
                "HPACK {kind}: {detail}{} (RFC 7541; COMPRESSION_ERROR at the receiver)",
                if *stops {
                    "; header decoding stops in this direction"
                } else {
                    ""
                }
            ),
            StreamIdReuse { stream_id, highest } => write!(
                f,
                "stream {stream_id} opened after stream {highest}: a new stream's id must be above every id its side opened before (RFC 9113 §5.1.1, PROTOCOL_ERROR)"
            ),
            FrameAfterEndStream {
                stream_id,
                frame_type,
            } => write!(
                f,
                "{} on stream {stream_id} after this side's END_STREAM (RFC 9113 §5.1, STREAM_CLOSED)",
                name(*frame_type)
            ),
            GoawayError { code, last_stream } => write!(
                f,
                "GOAWAY with {} ({code}), last stream {last_stream}: the connection ended on an error (RFC 9113 §6.8, §7)",
                error_name(*code)
            ),
            ResetError { stream_id, code } => write!(
                f,
                "RST_STREAM {} ({code}) on stream {stream_id}: the stream ended on an error (RFC 9113 §6.4, §7)",
                error_name(*code)
            ),
            FlowControlStall { stream_id, window } => write!(
                f,
                "{} send window used up ({window}) before the sender was done: it waits for a \
                 WINDOW_UPDATE (RFC 9113 §5.2, §6.9); further stalls are counted in the http2 record",
                window_name(*stream_id)
            ),
            FlowControlViolation {
                stream_id,
                length,
                window,
            } => write!(
                f,
                "DATA of {length} bytes with only {window} left in the {} send window \
                 (RFC 9113 §6.9.1, FLOW_CONTROL_ERROR)",
                window_name(*stream_id)
            ),
            WindowOverflow {
                stream_id,
                window,
                increment,
            } => write!(
                f,
                "{} send window raised by {increment} to {window}, above 2^31-1 \
                 (RFC 9113 §6.9.1, FLOW_CONTROL_ERROR)",
                window_name(*stream_id)
            ),
            Gap { bytes, resynced } => write!(
                f,
                "{bytes} bytes lost; {}",
                if *resynced {
                    "inside a frame payload, framing goes on"
                } else {
                    "frame sync lost, direction no longer parsed"
                }
            ),
            Truncated { missing } => write!(f, "stream ended {missing} bytes short"),
        }
    }
}

/// "stream 3's" or "the connection's".
fn window_name(stream_id: u32) -> String {
    if stream_id == 0 {
        "the connection's".to_string()
    } else {
        format!("stream {stream_id}'s")
    }
}
