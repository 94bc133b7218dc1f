//! HTTP/2 connection records: what the frame follower saw on one cleartext HTTP/2 connection
//! (after `Upgrade: h2c`, or with prior knowledge), documented in `docs/json-format.md`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Endpoint;

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

/// One stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    /// `h2c-upgrade` (after `Upgrade: h2c` and `101`) or `prior-knowledge` (the client began
    /// with the connection preface).
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
}
