//! The frame layer's vocabulary (RFC 9113 §4, §6): the preface, type and flag numbers, names,
//! SETTINGS entries. Pure functions; nothing here keeps state.

use crate::analyzers::layer::Prefix;

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types (§6).
pub const DATA: u8 = 0;
pub const HEADERS: u8 = 1;
pub const PRIORITY: u8 = 2;
pub const RST_STREAM: u8 = 3;
pub const SETTINGS: u8 = 4;
pub const PUSH_PROMISE: u8 = 5;
pub const PING: u8 = 6;
pub const GOAWAY: u8 = 7;
pub const WINDOW_UPDATE: u8 = 8;
pub const CONTINUATION: u8 = 9;

/// Flags (§6): END_STREAM on DATA/HEADERS, ACK on SETTINGS/PING.
pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY_FLAG: u8 = 0x20;

/// One frame header, as logged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameInfo {
    /// Offset of the frame header in its direction.
    pub offset: u64,
    pub frame_type: u8,
    pub flags: u8,
    /// With the reserved bit cleared (§4.1: ignored on receipt).
    pub stream_id: u32,
    pub length: u32,
}

impl FrameInfo {
    /// The 9-byte frame header (§4.1) found at `offset`.
    pub fn parse(b: &[u8; 9], offset: u64) -> Self {
        FrameInfo {
            offset,
            length: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            frame_type: b[3],
            flags: b[4],
            stream_id: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }
}

/// Does the client's first data start with the HTTP/2 preface? `Maybe` while it is a prefix.
pub fn looks_like_h2_preface(client_first: &[u8]) -> Prefix {
    let n = client_first.len().min(PREFACE.len());
    if client_first.get(..n) != PREFACE.get(..n) {
        Prefix::No
    } else if n == PREFACE.len() {
        Prefix::Yes
    } else {
        Prefix::Maybe
    }
}

/// The frame type's name as RFC 9113 §6 spells it; `"unknown"` for an extension type.
pub fn frame_type_name(t: u8) -> &'static str {
    match t {
        DATA => "DATA",
        HEADERS => "HEADERS",
        PRIORITY => "PRIORITY",
        RST_STREAM => "RST_STREAM",
        SETTINGS => "SETTINGS",
        PUSH_PROMISE => "PUSH_PROMISE",
        PING => "PING",
        GOAWAY => "GOAWAY",
        WINDOW_UPDATE => "WINDOW_UPDATE",
        CONTINUATION => "CONTINUATION",
        _ => "unknown",
    }
}

/// The setting's name without the `SETTINGS_` prefix (§6.5.2, RFC 8441, RFC 9218).
pub fn settings_name(id: u16) -> &'static str {
    match id {
        1 => "HEADER_TABLE_SIZE",
        2 => "ENABLE_PUSH",
        3 => "MAX_CONCURRENT_STREAMS",
        4 => "INITIAL_WINDOW_SIZE",
        5 => "MAX_FRAME_SIZE",
        6 => "MAX_HEADER_LIST_SIZE",
        8 => "ENABLE_CONNECT_PROTOCOL",
        9 => "NO_RFC7540_PRIORITIES",
        _ => "unknown",
    }
}

/// The (identifier, value) pairs of a SETTINGS payload, e.g. a decoded `HTTP2-Settings`
/// header (§3.2.1). A trailing partial entry is ignored.
pub fn parse_settings(payload: &[u8]) -> impl Iterator<Item = (u16, u32)> + '_ {
    payload.chunks_exact(6).map(|e| {
        (
            u16::from_be_bytes([e[0], e[1]]),
            u32::from_be_bytes([e[2], e[3], e[4], e[5]]),
        )
    })
}
