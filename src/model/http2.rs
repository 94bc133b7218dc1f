//! HTTP/2 connection records: what the frame follower saw on one cleartext HTTP/2 connection
//! (after `Upgrade: h2c`, or with prior knowledge), documented in `docs/json-format.md`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Endpoint;
use crate::base::Timestamp;

/// A value per direction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PerDir<T> {
    pub client_to_server: T,
    pub server_to_client: T,
}

impl<T: Clone> PerDir<T> {
    /// From `[client, server]`, the order the follower keeps them in.
    pub fn from_pair(v: &[T; 2]) -> Self {
        PerDir {
            client_to_server: v[0].clone(),
            server_to_client: v[1].clone(),
        }
    }
}

/// One SETTINGS entry as sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Http2Setting {
    /// Without the `SETTINGS_` prefix (`MAX_FRAME_SIZE`), `unknown` for an extension id.
    pub name: &'static str,
    pub id: u16,
    pub value: u32,
}

/// Each side's first SETTINGS frame.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Http2Settings {
    pub client: Vec<Http2Setting>,
    pub server: Vec<Http2Setting>,
    /// After h2c: the client's `HTTP2-Settings` header, decoded (RFC 9113 §3.2.1; absent for
    /// prior knowledge, or when the header is missing or not base64url).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Vec<Http2Setting>>,
}

/// Flow control of one sending direction, on a stream or on the connection (RFC 9113 §5.2,
/// §6.9).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Http2Flow {
    /// DATA frames this direction sent.
    pub data_frames: u64,
    /// The longest DATA frame's length (padding included).
    pub largest_data_frame: u32,
    /// DATA frames' lengths, padding included: what flow control counts.
    pub data_length: u64,
    /// WINDOW_UPDATEs the peer sent for this direction, and their increments' sum.
    pub window_updates: u64,
    pub window_increments: u64,
    /// Times a DATA frame used the window up before the stream (or, for the connection, every
    /// stream) was done; see `h2.flow-control-stall`.
    pub stalls: u64,
    /// Milliseconds from each stall to the WINDOW_UPDATE that ended it, summed.
    pub stalled_ms: f64,
    /// The lowest window after a DATA frame or a SETTINGS change (null before either).
    pub min_window: Option<i64>,
    /// The window when the connection (or stream) ended.
    pub window: i64,
    /// DATA frames longer than the window (`h2.flow-control-violation`).
    pub violations: u64,
    /// Window raised above 2³¹−1 (`h2.window-overflow`).
    pub overflows: u64,
    /// The first 16 stalls.
    pub stall_list: Vec<Http2Stall>,
}

/// One stall: when the window was used up, by a DATA frame on which stream, and how long
/// until the WINDOW_UPDATE that ended it (null when none did).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Http2Stall {
    #[serde(serialize_with = "super::ts_secs")]
    pub ts: Timestamp,
    pub stream: u32,
    pub waited_ms: Option<f64>,
}

/// One frame of a stream (or of stream 0), in the order read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Http2FrameEntry {
    /// `client_to_server` or `server_to_client`.
    pub dir: &'static str,
    /// The frame type's name (`DATA`, `HEADERS`, ..., `unknown`).
    #[serde(rename = "type")]
    pub frame_type: &'static str,
    /// Flags by name for the type, `|`-separated (`END_STREAM|END_HEADERS`), unnamed bits as
    /// hex; empty when none.
    pub flags: String,
    /// Payload length.
    pub length: u32,
    /// Byte offset of the frame header in its direction's stream.
    pub offset: u64,
    /// The packet that completed the frame.
    pub packet: u64,
    #[serde(serialize_with = "super::ts_secs")]
    pub ts: Timestamp,
    /// After DATA or WINDOW_UPDATE: the sender's window on this stream (on the connection for
    /// stream 0); else null.
    pub window: Option<i64>,
    /// After DATA: the sender's connection window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_window: Option<i64>,
}

/// One SETTINGS frame (not an ACK).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Http2SettingsFrame {
    /// Who sent it: `client_to_server` or `server_to_client`.
    pub dir: &'static str,
    #[serde(serialize_with = "super::ts_secs")]
    pub ts: Timestamp,
    pub offset: u64,
    pub settings: Vec<Http2Setting>,
    /// Milliseconds until the peer's ACK (null when none came).
    pub ack_ms: Option<f64>,
}

/// The PINGs one direction sent and their round trips.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Http2Pings {
    pub sent: u64,
    /// Answered by a PING ACK with the same 8 bytes.
    pub acked: u64,
    /// The first 64 round trips, in milliseconds.
    pub rtt_ms: Vec<f64>,
    pub min_ms: Option<f64>,
    /// Of the kept round trips.
    pub median_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// One stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Http2Stream {
    pub id: u32,
    /// `client` or `server` (a PUSH_PROMISE); stream 1 after h2c is the client's upgraded
    /// request.
    pub opened_by: &'static str,
    pub method: Option<String>,
    pub path: Option<String>,
    /// The final status (an interim 1xx one until a final one arrives).
    pub status: Option<u16>,
    /// DATA payload bytes, padding excluded.
    pub data_bytes: PerDir<u64>,
    /// END_STREAM seen from that direction.
    pub ended: PerDir<bool>,
    /// The last RST_STREAM error code (RFC 9113 §7), or null.
    pub reset: Option<u32>,
    /// Flow control per sending direction.
    pub flow: PerDir<Http2Flow>,
    /// The stream's first 64 frames, both directions in the order read.
    pub frames: Vec<Http2FrameEntry>,
    /// Frames beyond those.
    pub frames_dropped: u64,
}

/// The last GOAWAY, from either side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Http2Goaway {
    pub last_stream: u32,
    pub error_code: u32,
}

/// One HTTP/2 connection, emitted when it ends.
#[derive(Clone, Debug, Serialize)]
pub struct Http2Record {
    pub id: u64,
    pub connection: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    /// `h2c-upgrade` (after `Upgrade: h2c` and `101`), `prior-knowledge` (cleartext, the
    /// client began with the connection preface), `tls-alpn` (decrypted TLS whose handshake
    /// selected `h2`) or `tls` (decrypted TLS that began with the preface, the selected
    /// protocol unknown or another).
    pub mode: &'static str,
    /// The upgrading HTTP/1.1 transaction (`transactions[].id`), for `h2c-upgrade`.
    pub transaction: Option<u64>,
    /// The client's 24-byte connection preface was seen whole.
    pub preface_seen: bool,
    /// Frames per type name (`DATA`, `HEADERS`, ..., `unknown`) per direction.
    pub frames: PerDir<BTreeMap<&'static str, u64>>,
    pub settings: Http2Settings,
    /// By stream id.
    pub streams: Vec<Http2Stream>,
    pub goaway: Option<Http2Goaway>,
    /// Bytes of HTTP/2 per direction (after the 101 for h2c).
    pub bytes: PerDir<u64>,
    /// Bytes the capture lost per direction.
    pub lost_bytes: PerDir<u64>,
    /// Frames on streams beyond the described ones (the follower keeps at most 1000).
    pub untracked_stream_frames: u64,
    /// Notes (findings) beyond the follower's bound of 256, not reported.
    pub notes_dropped: u64,
    /// The streams' transactions (`transactions[].id`), in order of their first header block
    /// (the first 1000).
    pub transactions: Vec<u64>,
    /// Connection flow control per sending direction.
    pub flow: PerDir<Http2Flow>,
    /// Each sending direction's SETTINGS_INITIAL_WINDOW_SIZE at the end (the peer's setting).
    pub initial_window: PerDir<i64>,
    /// The first 64 frames on stream 0 (SETTINGS, PING, GOAWAY, connection WINDOW_UPDATE).
    pub connection_frames: Vec<Http2FrameEntry>,
    pub connection_frames_dropped: u64,
    /// Every SETTINGS frame (the first 16), with its ACK's latency.
    pub settings_frames: Vec<Http2SettingsFrame>,
    pub settings_frames_dropped: u64,
    /// PINGs per direction that sent them, with round trips.
    pub ping: PerDir<Http2Pings>,
}
