//! Notes: what the traffic did against RFC 9113 (or against hopscope's bounds), with a stable
//! code and a one-line explanation naming the rule.

use std::fmt;

use super::frame::{frame_type_name, settings_name};
use super::{MAX_SETTINGS, MAX_STREAMS};
use crate::model::Severity;

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
    /// Info for what is legal or about hopscope's own limits (an extension frame, a bound
    /// hit, bytes lost or cut short); warning for a peer breaking an RFC 9113 rule.
    pub fn severity(&self) -> Severity {
        use H2NoteKind::*;
        match self {
            UnknownFrameType { .. }
            | TooManySettings { .. }
            | HpackStopped { .. }
            | TooManyStreams
            | Gap { .. }
            | Truncated { .. } => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// Stable, dotted like every finding code in docs/findings.md.
    pub fn code(&self) -> &'static str {
        match self {
            H2NoteKind::BadPreface { .. } => "h2.bad-preface",
            H2NoteKind::FirstFrameNotSettings { .. } => "h2.first-frame-not-settings",
            H2NoteKind::FrameTooLarge { .. } => "h2.frame-too-large",
            H2NoteKind::UnknownFrameType { .. } => "h2.unknown-frame-type",
            H2NoteKind::StreamIdRule { .. } => "h2.stream-id-rule",
            H2NoteKind::StreamIdParity { .. } => "h2.stream-id-parity",
            H2NoteKind::BadFrameLength { .. } => "h2.bad-frame-length",
            H2NoteKind::BadPadding { .. } => "h2.bad-padding",
            H2NoteKind::BadSettingValue { .. } => "h2.bad-setting-value",
            H2NoteKind::TooManySettings { .. } => "h2.too-many-settings",
            H2NoteKind::WindowUpdateZero { .. } => "h2.window-update-zero",
            H2NoteKind::PushPromiseFromClient => "h2.push-promise-from-client",
            H2NoteKind::ContinuationExpected { .. } => "h2.continuation-expected",
            H2NoteKind::UnexpectedContinuation { .. } => "h2.unexpected-continuation",
            H2NoteKind::HpackStopped { .. } => "h2.hpack-stopped",
            H2NoteKind::TooManyStreams => "h2.too-many-streams",
            H2NoteKind::Gap { .. } => "h2.gap",
            H2NoteKind::Truncated { .. } => "h2.truncated",
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
