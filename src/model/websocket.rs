//! WebSocket records (documented in `docs/json-format.md`).
//!
//! A conversation is reported as one [`WebSocketRecord`] when its connection ends; its messages
//! stream out as [`WsMessageRecord`]s as they complete, so memory does not grow with the number
//! of messages. The JSON document nests each conversation's messages under it (`messages[]`);
//! NDJSON has them as separate `websocket_message` lines.

use serde::Serialize;

use super::{Endpoint, ts_secs};
use crate::base::Timestamp;

/// Which side sent something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    /// The name the reports use (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// The opening handshake as seen.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WsHandshake {
    /// The HTTP transaction that upgraded (absent when the handshake was not captured).
    pub transaction: Option<u64>,
    pub target: Option<String>,
    pub host: Option<String>,
    pub origin: Option<String>,
    pub version: Option<String>,
    pub key: Option<String>,
    pub accept: Option<String>,
    /// The accept matches SHA-1(key + RFC 6455 GUID); absent when either is missing.
    pub accept_valid: Option<bool>,
    pub subprotocols_offered: Vec<String>,
    pub subprotocol: Option<String>,
    pub extensions_offered: Vec<String>,
    pub extensions: Vec<String>,
    /// The connection was already a WebSocket when the capture started (recognised by its
    /// frames): nothing of the handshake is known, compression state included.
    pub midstream: bool,
    /// How it began: `HTTP/1.1` (an `Upgrade` answered `101`) or `HTTP/2` (an extended
    /// CONNECT with `:protocol: websocket` answered 2xx, RFC 8441); absent mid-stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_version: Option<&'static str>,
    /// HTTP/2: the stream whose DATA frames carry the WebSocket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<u32>,
}

/// Per-direction counters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WsDirStats {
    pub frames: u64,
    pub messages: u64,
    pub control_frames: u64,
    /// Payload bytes seen (after unmasking, before decompression): never more than the
    /// capture holds, whatever the frame headers declare.
    pub payload_bytes: u64,
    /// Payload lengths the frame headers declared, summed (saturating): more than
    /// `payload_bytes` when bytes were lost in gaps or the connection ended inside a frame; a
    /// hostile header may declare up to 2^63−1.
    pub declared_bytes: u64,
    /// Decoded message bytes (after decompression).
    pub message_bytes: u64,
    pub compressed_messages: u64,
    /// Compressed messages whose inflation stopped at the bound (`--max-decoded`); the
    /// `ws.inflate-limit` finding is raised for the first one of the conversation only.
    pub capped_messages: u64,
}

/// How the conversation ended.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WsClose {
    /// Who sent the first close frame.
    pub initiator: Option<Side>,
    /// The initiator's close code and reason.
    pub code: Option<u16>,
    pub reason: Option<String>,
    pub client_code: Option<u16>,
    pub client_reason: Option<String>,
    pub server_code: Option<u16>,
    pub server_reason: Option<String>,
    /// Both sides sent a close frame and no data followed.
    pub clean: bool,
    /// Frames sent after the sender's own close frame.
    pub frames_after_close: u64,
}

/// Round-trip times of pings answered by pongs with the same payload.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WsPings {
    pub pings: u64,
    pub answered: u64,
    pub rtt_min: Option<f64>,
    pub rtt_max: Option<f64>,
    pub rtt_avg: Option<f64>,
    pub unsolicited_pongs: u64,
}

/// One WebSocket conversation.
#[derive(Clone, Debug, Serialize)]
pub struct WebSocketRecord {
    pub id: u64,
    pub connection: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub handshake: WsHandshake,
    /// permessage-deflate as agreed, when it was.
    pub compression: Option<Deflate>,
    pub client_to_server: WsDirStats,
    pub server_to_client: WsDirStats,
    pub pings: WsPings,
    pub close: WsClose,
    /// Codes of the findings raised on this conversation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<&'static str>,
}

/// One frame, with `--frames`.
#[derive(Clone, Debug, Serialize)]
pub struct WsFrameRecord {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    /// Payload bytes of this frame seen.
    pub length: u64,
    /// The payload length its header declared, when it differs from `length` (bytes lost in
    /// a gap, or the connection ended inside the frame).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_length: Option<u64>,
    pub packet: u64,
    pub stream_offset: u64,
}

/// One message (data messages after joining fragments; control frames are one message each).
#[derive(Clone, Debug, Serialize)]
pub struct WsMessageRecord {
    /// The conversation (`websockets[].id`).
    pub websocket: u64,
    /// 0-based, in order of completion on the conversation.
    pub index: u64,
    pub direction: Side,
    /// `text`, `binary`, `ping`, `pong`, `close`, or `reserved-N`: borrowed (no allocation
    /// per message) but for a reserved one.
    pub opcode: std::borrow::Cow<'static, str>,
    /// Payload length after decompression (equal to `wire_length` when not compressed; the
    /// bytes decoded so far when decoding stopped).
    pub length: u64,
    /// Payload bytes seen, all fragments (bytes lost in a gap are not counted).
    pub wire_length: u64,
    /// The payload lengths its frame headers declared, summed (saturating), when that differs
    /// from `wire_length`: bytes were lost in a gap or the connection ended inside a frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_length: Option<u64>,
    pub compressed: bool,
    pub frames: u64,
    /// Start of a text message (bounded), or of a close reason / ping payload when it is text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Binary messages, when the analyzer keeps them (the terminal UI's hex view): the start
    /// of the payload. Never in the JSON report.
    #[serde(skip)]
    pub binary: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub text_truncated: bool,
    /// Text messages: whether the whole payload is valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utf8_valid: Option<bool>,
    /// Close frames: the code and reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_code: Option<u16>,
    /// Pongs answering a ping: seconds since it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt: Option<f64>,
    /// The message is incomplete: a gap, the connection ended, or decoding stopped.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    #[serde(serialize_with = "ts_secs")]
    pub ts: Timestamp,
    /// The packet that delivered the message's last byte.
    pub packet: u64,
    /// Stream offset of the message's first frame.
    pub stream_offset: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_list: Option<Vec<WsFrameRecord>>,
}

/// permessage-deflate as agreed (RFC 7692 §7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Deflate {
    pub client_no_context_takeover: bool,
    pub server_no_context_takeover: bool,
    pub client_max_window_bits: Option<u8>,
    pub server_max_window_bits: Option<u8>,
}
