//! HTTP transaction records (documented in `docs/json-format.md`).
//!
//! Bytes from the wire (methods, targets, header names and values, reasons) become JSON strings.
//! Where they are not valid UTF-8 the string shows U+FFFD for the bad bytes and a sibling field
//! ending in `_b64` carries the exact bytes (standard base64), so nothing is lost.

use std::borrow::Cow;

use base64::Engine as _;
use serde::Serialize;

use super::{Endpoint, opt_ts_secs};
use crate::base::{Timestamp, heap};

/// Wire bytes as a JSON-friendly string, plus the exact bytes when they are not UTF-8.
pub fn wire_text(b: &[u8]) -> (String, Option<String>) {
    match std::str::from_utf8(b) {
        Ok(s) => (s.to_string(), None),
        Err(_) => (
            String::from_utf8_lossy(b).into_owned(),
            Some(base64::engine::general_purpose::STANDARD.encode(b)),
        ),
    }
}

/// Why a header is hop-by-hop (RFC 9110 §7.6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HopReason {
    /// One of the fields defined as hop-by-hop (`Connection`, `Keep-Alive`, `TE`, ...).
    Standard,
    /// Named in this message's `Connection` field.
    NamedInConnection,
    /// A connection-specific field in an HTTP/2 message, which RFC 9113 §8.2.2 forbids
    /// (`Connection`, `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, `TE`
    /// other than `trailers`): serialized `forbidden-in-http2`.
    #[serde(rename = "forbidden-in-http2")]
    ForbiddenInHttp2,
}

/// The header fields of one message, in order, duplicates kept: names and values live in one
/// byte buffer (two allocations per message, not two per field).
///
/// Serialized as a JSON array of objects: `name`, `value` (strings; with `name_b64` /
/// `value_b64` holding the exact bytes when they are not UTF-8), `hop_by_hop`,
/// `hop_by_hop_reason` (when hop-by-hop), `masked` (when the value hides a credential: only
/// a prefix is shown, and there is no `value_b64`) and `pseudo` (an HTTP/2 pseudo-header,
/// `:method`, `:path`, `:status`, ...).
#[derive(Debug, Default)]
pub struct Headers {
    bytes: Vec<u8>,
    fields: Vec<FieldRef>,
}

/// `clone_from` copies into the room the target already has (a reused copy allocates nothing
/// when it is large enough).
impl Clone for Headers {
    fn clone(&self) -> Self {
        Headers {
            bytes: self.bytes.clone(),
            fields: self.fields.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.bytes.clone_from(&source.bytes);
        self.fields.clone_from(&source.fields);
    }
}

#[derive(Clone, Copy, Debug)]
struct FieldRef {
    name: (u32, u32),
    value: (u32, u32),
    hop: Option<HopReason>,
    masked: bool,
    pseudo: bool,
}

/// One header field as sent (value without surrounding whitespace).
#[derive(Clone, Copy, Debug)]
pub struct Header<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    pub hop_by_hop: Option<HopReason>,
    pub masked: bool,
    /// An HTTP/2 pseudo-header (RFC 9113 §8.3).
    pub pseudo: bool,
}

impl Header<'_> {
    pub fn name_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.name)
    }
    pub fn value_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.value)
    }
}

impl Headers {
    pub fn with_capacity(fields: usize, bytes: usize) -> Self {
        Headers {
            bytes: Vec::with_capacity(bytes),
            fields: Vec::with_capacity(fields),
        }
    }

    pub fn push(&mut self, name: &[u8], value: &[u8], hop: Option<HopReason>, masked: bool) {
        self.push_field(name, value, hop, masked, false);
    }

    /// A field whose value `value` writes into the buffer, after the name: a value made for the
    /// record (a masked cookie) goes there directly, not through a buffer of its own.
    pub fn push_with(
        &mut self,
        name: &[u8],
        hop: Option<HopReason>,
        masked: bool,
        value: impl FnOnce(&mut Vec<u8>),
    ) {
        self.push_written(name, hop, masked, false, value);
    }

    /// An HTTP/2 pseudo-header field (`:method`, `:status`, ...), in its place among the others.
    pub fn push_pseudo(&mut self, name: &[u8], value: &[u8]) {
        self.push_field(name, value, None, false, true);
    }

    fn push_field(
        &mut self,
        name: &[u8],
        value: &[u8],
        hop: Option<HopReason>,
        masked: bool,
        pseudo: bool,
    ) {
        self.push_written(name, hop, masked, pseudo, |b| b.extend_from_slice(value));
    }

    /// The one way a field goes in: its name, then what `value` writes, as the next field.
    #[inline(always)]
    fn push_written(
        &mut self,
        name: &[u8],
        hop: Option<HopReason>,
        masked: bool,
        pseudo: bool,
        value: impl FnOnce(&mut Vec<u8>),
    ) {
        let n0 = self.bytes.len() as u32;
        self.bytes.extend_from_slice(name);
        let n1 = self.bytes.len() as u32;
        value(&mut self.bytes);
        let v1 = self.bytes.len() as u32;
        self.fields.push(FieldRef {
            name: (n0, n1),
            value: (n1, v1),
            hop,
            masked,
            pseudo,
        });
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Heap bytes held (for memory budgets).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.fields.capacity() * std::mem::size_of::<FieldRef>()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn slice(&self, r: (u32, u32)) -> &[u8] {
        self.bytes
            .get(r.0 as usize..r.1 as usize)
            .unwrap_or_default()
    }

    pub fn iter(&self) -> impl Iterator<Item = Header<'_>> {
        self.fields.iter().map(|f| Header {
            name: self.slice(f.name),
            value: self.slice(f.value),
            hop_by_hop: f.hop,
            masked: f.masked,
            pseudo: f.pseudo,
        })
    }

    /// The same fields, names, values and order.
    pub fn same(&self, other: &Headers) -> bool {
        self.fields.len() == other.fields.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.name == b.name && a.value == b.value)
    }

    /// Every value of `name` (ASCII case-insensitive), in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |f| self.named(f, name))
            .map(|f| self.slice(f.value))
    }

    /// The first value of `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| self.named(f, name))
            .map(|f| self.slice(f.value))
    }

    /// Whether field `f` is `name` (ASCII case-insensitive); the lengths first, from the field's
    /// range (most names differ in length: no slice is made of them).
    fn named(&self, f: &FieldRef, name: &str) -> bool {
        f.name.1.wrapping_sub(f.name.0) as usize == name.len()
            && self.slice(f.name).eq_ignore_ascii_case(name.as_bytes())
    }
}

/// Written by the report's writer through [`crate::base::json::Raw`]: one pass over the fields
/// with the constant pieces merged (a third of the instructions serde's path took, the same
/// bytes; `tests::headers_write_their_json_as_serde_would`).
impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(crate::base::json::RAW, &crate::base::json::Raw(self))
    }
}

impl HopReason {
    /// The serialized name.
    pub fn name(self) -> &'static str {
        match self {
            HopReason::Standard => "standard",
            HopReason::NamedInConnection => "named-in-connection",
            HopReason::ForbiddenInHttp2 => "forbidden-in-http2",
        }
    }
}

impl crate::base::json::WriteJson for Headers {
    /// `false` (the structured form then) when a name or value is not UTF-8 text: each is
    /// checked as it is written (plain ASCII, found by the escape scan, needs no more), which
    /// gives the structured form's bytes whenever every field is text.
    fn write_json(&self, out: &mut Vec<u8>) -> bool {
        use crate::base::json::write_text;
        out.push(b'[');
        for (i, f) in self.fields.iter().enumerate() {
            out.extend_from_slice(if i == 0 {
                b"{\"name\":"
            } else {
                b",{\"name\":"
            });
            if !write_text(out, self.slice(f.name)) {
                return false;
            }
            out.extend_from_slice(b",\"value\":");
            if !write_text(out, self.slice(f.value)) {
                return false;
            }
            match f.hop {
                None => out.extend_from_slice(b",\"hop_by_hop\":false"),
                Some(r) => {
                    out.extend_from_slice(b",\"hop_by_hop\":true,\"hop_by_hop_reason\":\"");
                    out.extend_from_slice(r.name().as_bytes());
                    out.push(b'"');
                }
            }
            if f.masked {
                out.extend_from_slice(b",\"masked\":true");
            }
            if f.pseudo {
                out.extend_from_slice(b",\"pseudo\":true");
            }
            out.push(b'}');
        }
        out.push(b']');
        true
    }

    fn serialize_structured<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeSeq, SerializeStruct};
        // One UTF-8 check for the whole message; fields fall back to their own check only
        // when the arena is not valid UTF-8 or a field does not start on a char boundary.
        let text = std::str::from_utf8(&self.bytes).ok();
        struct One<'a> {
            h: Header<'a>,
            name: Option<&'a str>,
            value: Option<&'a str>,
        }
        impl Serialize for One<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let h = &self.h;
                let mut m = s.serialize_struct("Header", 7)?;
                wire_field(&mut m, "name", "name_b64", self.name, h.name)?;
                if h.masked {
                    // The checked text when the arena is UTF-8 (no copy), as sent otherwise.
                    match self.value {
                        Some(v) => m.serialize_field("value", v)?,
                        None => m.serialize_field("value", &String::from_utf8_lossy(h.value))?,
                    }
                } else {
                    wire_field(&mut m, "value", "value_b64", self.value, h.value)?;
                }
                m.serialize_field("hop_by_hop", &h.hop_by_hop.is_some())?;
                if let Some(r) = h.hop_by_hop {
                    m.serialize_field("hop_by_hop_reason", &r)?;
                }
                if h.masked {
                    m.serialize_field("masked", &true)?;
                }
                if h.pseudo {
                    m.serialize_field("pseudo", &true)?;
                }
                m.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.fields.len()))?;
        for f in &self.fields {
            let get = |r: (u32, u32)| text.and_then(|t| t.get(r.0 as usize..r.1 as usize));
            seq.serialize_element(&One {
                h: Header {
                    name: self.slice(f.name),
                    value: self.slice(f.value),
                    hop_by_hop: f.hop,
                    masked: f.masked,
                    pseudo: f.pseudo,
                },
                name: get(f.name),
                value: get(f.value),
            })?;
        }
        seq.end()
    }
}

/// A wire-bytes field: the checked text when known, else checked here, with `<key>_b64` when
/// the bytes are not UTF-8.
#[inline(always)]
fn wire_field<M: serde::ser::SerializeStruct>(
    m: &mut M,
    key: &'static str,
    key_b64: &'static str,
    text: Option<&str>,
    b: &[u8],
) -> Result<(), M::Error> {
    if let Some(t) = text.or_else(|| std::str::from_utf8(b).ok()) {
        return m.serialize_field(key, t);
    }
    m.serialize_field(key, &String::from_utf8_lossy(b))?;
    m.serialize_field(
        key_b64,
        &base64::engine::general_purpose::STANDARD.encode(b),
    )
}

/// How a body's length was determined (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyFraming {
    /// No body (a request without framing, HEAD, 1xx, 204, 304, 2xx to CONNECT).
    None,
    ContentLength,
    Chunked,
    /// Read until the connection closed.
    Close,
    /// HTTP/2 DATA frames until END_STREAM (RFC 9113 §8.1): serialized `http2-data`.
    #[serde(rename = "http2-data")]
    Http2Data,
}

impl BodyFraming {
    /// The name the reports use (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            BodyFraming::None => "none",
            BodyFraming::ContentLength => "content-length",
            BodyFraming::Chunked => "chunked",
            BodyFraming::Close => "close",
            BodyFraming::Http2Data => "http2-data",
        }
    }
}

/// Whether all of a body was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyState {
    Complete,
    /// Bytes were lost in a capture gap; lengths still count them.
    Partial,
    /// The connection ended before the body did.
    Incomplete,
    /// The framing was broken (e.g. an invalid chunk size); see the findings.
    Error,
}

impl BodyState {
    /// The name the reports use (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            BodyState::Complete => "complete",
            BodyState::Partial => "partial",
            BodyState::Incomplete => "incomplete",
            BodyState::Error => "error",
        }
    }
}

/// A message body.
#[derive(Clone, Debug, Serialize)]
pub struct BodyRecord {
    pub framing: BodyFraming,
    pub state: BodyState,
    /// Bytes on the wire, chunk framing and trailers included (HTTP/2: the DATA frames, their
    /// 9-byte headers and padding included).
    pub wire_length: u64,
    /// Bytes after transfer decoding (de-chunked): the content as sent.
    pub length: u64,
    /// Bytes after content decoding (`Content-Encoding`), when the content was decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded_length: Option<u64>,
    /// `complete`, `capped` (the decoded-size bound was hit), `shed` (given up to stay within
    /// the memory budget), `error`, `unsupported`, `truncated` (the content ended early), or
    /// absent when there was nothing to decode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub content_encoding: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transfer_encoding: Vec<String>,
    /// Bytes of the body lost in capture gaps.
    #[serde(skip_serializing_if = "is_zero")]
    pub missing_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<u64>,
    /// Chunk extensions as sent (`name=value`), the first few.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chunk_extensions: Vec<String>,
    #[serde(skip_serializing_if = "Headers::is_empty")]
    pub trailers: Headers,
    /// The start of the decoded content (`--bodies`): text when it is UTF-8, else absent and
    /// `preview_b64` holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_b64: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub preview_truncated: bool,
    /// `multipart/byteranges` responses: the parts found while the body streamed by (read by
    /// the semantics step, which reports them under `semantics.range.parts`).
    #[serde(skip)]
    pub byteranges: Option<Box<super::semantics::MultipartParts>>,
    /// A 64-bit digest of the content as sent (after transfer decoding, before content
    /// decoding), when the body was seen whole: what the proxy-hop correlator compares to tell
    /// the same body on two legs (not in the report).
    #[serde(skip)]
    pub digest: Option<u64>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Where a message starts in the capture.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct MessageStart {
    /// The packet that delivered the message's first byte.
    pub packet: u64,
    /// Byte offset of the message in its direction's stream.
    pub stream_offset: u64,
    /// Bytes of the head (start line, fields, empty line).
    pub head_bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_b64: Option<String>,
    /// The request target exactly as sent (origin-, absolute-, authority- or asterisk-form).
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_b64: Option<String>,
    /// `origin` (`/path`), `absolute` (`http://host/path`: a request to a forward proxy),
    /// `authority` (`host:port`, CONNECT) or `asterisk` (`*`, OPTIONS); `other` when it is none
    /// of them.
    pub target_form: &'static str,
    /// Sent to a forward proxy: an absolute-form target or a CONNECT (RFC 9112 §3.2.2, §3.2.3).
    pub proxy_request: bool,
    /// `HTTP/1.1`, `HTTP/1.0`, `HTTP/0.9`, `HTTP/2`: borrowed (no allocation per message) but
    /// for an odd version.
    pub version: Cow<'static, str>,
    /// HTTP/2: the `:scheme` pseudo-header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// HTTP/2: the `:authority` pseudo-header (what `Host` is in HTTP/1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    pub headers: Headers,
    pub body: BodyRecord,
    #[serde(flatten)]
    pub at: MessageStart,
}

/// The form of a request target (RFC 9112 §3.2).
pub fn target_form(method: &[u8], target: &[u8]) -> &'static str {
    let scheme = |p: &[u8]| {
        target
            .get(..p.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(p))
    };
    if target.first() == Some(&b'/') {
        "origin"
    } else if target == b"*" {
        "asterisk"
    } else if method == b"CONNECT" {
        "authority"
    } else if scheme(b"http://") || scheme(b"https://") || target.windows(3).any(|w| w == b"://") {
        "absolute"
    } else {
        "other"
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ResponseRecord {
    /// As in [`RequestRecord::version`].
    pub version: Cow<'static, str>,
    /// The status code; 0 for an HTTP/0.9 response (no status line) or a status that is not
    /// three digits (then `status_raw` has it as sent).
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_raw: Option<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_b64: Option<String>,
    pub headers: Headers,
    pub body: BodyRecord,
    #[serde(flatten)]
    pub at: MessageStart,
}

/// A 1xx response before the final one (100 Continue, 103 Early Hints, ...).
#[derive(Clone, Debug, Serialize)]
pub struct InterimRecord {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    #[serde(serialize_with = "super::ts_secs")]
    pub ts: Timestamp,
    #[serde(flatten)]
    pub at: MessageStart,
}

/// Packet times of a transaction: the first and last byte of the request and of the *final*
/// response (interim responses carry their own `ts`). `ttfb` and `ttlb` are measured from the
/// request's last byte to the response's first and last byte (the server's part; negative when
/// the server answered before the request ended, e.g. an early 400 or 413); `total` from the
/// request's first byte to the response's last.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timing {
    #[serde(serialize_with = "opt_ts_secs")]
    pub request_start: Option<Timestamp>,
    #[serde(serialize_with = "opt_ts_secs")]
    pub request_end: Option<Timestamp>,
    #[serde(serialize_with = "opt_ts_secs")]
    pub response_start: Option<Timestamp>,
    #[serde(serialize_with = "opt_ts_secs")]
    pub response_end: Option<Timestamp>,
    pub ttfb: Option<f64>,
    pub ttlb: Option<f64>,
    pub total: Option<f64>,
}

impl Timing {
    /// Fills the derived durations from the four times.
    pub fn derive(&mut self) {
        let d = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
            (Some(a), Some(b)) => Some((b.0 - a.0) as f64 / 1e9),
            _ => None,
        };
        self.ttfb = d(self.request_end, self.response_start);
        self.ttlb = d(self.request_end, self.response_end);
        self.total = d(self.request_start, self.response_end);
    }
}

/// How complete a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxnState {
    /// Request and final response both seen.
    Complete,
    /// A request that got no response in the capture (capture ended, gap, connection closed).
    NoResponse,
    /// A response whose request was not captured (capture started late, gap).
    NoRequest,
    /// HTTP/2: the stream was reset (RST_STREAM) before its response was complete.
    Reset,
    /// HTTP/2: the stream is above the last stream id of the peer's GOAWAY, which did not
    /// process it (RFC 9113 §6.8; the client may retry it on another connection).
    NotProcessed,
}

impl TxnState {
    /// The name the reports use (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Complete => "complete",
            TxnState::NoResponse => "no-response",
            TxnState::NoRequest => "no-request",
            TxnState::Reset => "reset",
            TxnState::NotProcessed => "not-processed",
        }
    }
}

/// An HTTP/2 stream's RST_STREAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ResetRecord {
    /// The error code (RFC 9113 §7) and its name (`CANCEL`, `unknown` for another value).
    pub code: u32,
    pub name: &'static str,
    /// Who sent it: `client` or `server`.
    pub by: &'static str,
}

/// The stream whose PUSH_PROMISE promised a pushed HTTP/2 stream (RFC 9113 §8.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PromiseRecord {
    pub stream_id: u32,
    /// That stream's transaction.
    pub transaction: Option<u64>,
}

/// What the connection became after this transaction (`101 Switching Protocols`, a CONNECT
/// tunnel), when it did.
#[derive(Clone, Debug, Serialize)]
pub struct SwitchRecord {
    /// `websocket`, `h2c`, `tunnel` (CONNECT), or the `Upgrade` token as sent.
    pub protocol: String,
}

/// How a transaction's bytes travelled: in the clear, or inside TLS that was decrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// One request and its response, as paired on a connection.
#[derive(Clone, Debug, Serialize)]
pub struct TransactionRecord {
    /// 0-based, in order of each transaction's first message.
    pub id: u64,
    pub connection: u64,
    /// Position on the connection, 0-based (HTTP/2: in order of each stream's first header
    /// block).
    pub index: u32,
    /// HTTP/2: the stream's id; absent for HTTP/1.x.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<u32>,
    /// HTTP/2: a pushed stream, and the stream whose PUSH_PROMISE carried its request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promised_by: Option<PromiseRecord>,
    /// HTTP/2 stream 1 after `Upgrade: h2c`: the HTTP/1.1 transaction whose request this one
    /// answers (its request is a copy of that transaction's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h2c_upgrade: Option<u64>,
    /// `http`, or `https` when the connection's TLS was decrypted.
    pub scheme: Scheme,
    pub client: Endpoint,
    pub server: Endpoint,
    pub state: TxnState,
    /// HTTP/2: the stream's RST_STREAM, when one was sent (after a complete response it is no
    /// error: `state` stays `complete`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset: Option<ResetRecord>,
    pub request: Option<RequestRecord>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interim: Vec<InterimRecord>,
    pub response: Option<ResponseRecord>,
    pub timing: Timing,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switched_to: Option<SwitchRecord>,
    /// Codes of the findings raised on this transaction (details in `findings[]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<&'static str>,
    /// Caching, ranges, cookies, CORS, authentication, redirects (the semantics step after
    /// the HTTP analyzer; absent when none applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantics: Option<Box<super::semantics::HttpSemantics>>,
}

/// Counters reported in the capture summary.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HttpStats {
    pub connections: u64,
    pub transactions: u64,
    pub requests: u64,
    pub responses: u64,
    pub interim_responses: u64,
    pub upgrades: u64,
    pub tunnels: u64,
    /// Bytes skipped while looking for the next message after a gap or garbage.
    pub resync_skipped_bytes: u64,
    pub pipeline_limit_hits: u64,
    pub decode_capped: u64,
}

// ---- heap footprints (the memory budget) -------------------------------------------------

impl BodyRecord {
    /// A complete empty body with no framing and nothing known of it: what a message's body
    /// record starts from (HTTP/1, HTTP/2 and the tests fill in what they know).
    pub fn empty() -> BodyRecord {
        BodyRecord {
            framing: BodyFraming::None,
            state: BodyState::Complete,
            wire_length: 0,
            length: 0,
            decoded_length: None,
            decoding: None,
            content_type: None,
            content_encoding: Vec::new(),
            transfer_encoding: Vec::new(),
            missing_bytes: 0,
            chunks: None,
            chunk_extensions: Vec::new(),
            trailers: Headers::default(),
            preview: None,
            preview_b64: None,
            preview_truncated: false,
            byteranges: None,
            digest: None,
        }
    }

    fn heap_bytes(&self) -> usize {
        self.content_type.as_ref().map_or(0, heap::string)
            + heap::vec(&self.content_encoding)
            + heap::vec(&self.transfer_encoding)
            + self
                .content_encoding
                .iter()
                .chain(&self.transfer_encoding)
                .map(heap::string)
                .sum::<usize>()
            + self.preview.as_ref().map_or(0, heap::string)
            + self.preview_b64.as_ref().map_or(0, heap::string)
            + self.trailers.heap_bytes()
    }
}

impl TransactionRecord {
    /// A transaction about to be filled: id `id`, the `index`th on connection `connection`
    /// between `client` and `server`, `https` when it is inside decrypted TLS; `Complete`
    /// until what arrives says otherwise.
    pub fn new(
        id: u64,
        connection: u64,
        index: u32,
        https: bool,
        client: Endpoint,
        server: Endpoint,
    ) -> Self {
        TransactionRecord {
            id,
            connection,
            index,
            stream_id: None,
            promised_by: None,
            h2c_upgrade: None,
            scheme: if https { Scheme::Https } else { Scheme::Http },
            client,
            server,
            state: TxnState::Complete,
            reset: None,
            request: None,
            interim: Vec::new(),
            response: None,
            timing: Timing::default(),
            switched_to: None,
            findings: Vec::new(),
            semantics: None,
        }
    }

    /// Heap bytes held by the record beyond its own size (the request and response heads and
    /// bodies' descriptions, interim responses, findings).
    pub fn heap_bytes(&self) -> usize {
        let req = self.request.as_ref().map_or(0, |r| {
            heap::string(&r.method)
                + heap::string(&r.target)
                + heap::cow_str(&r.version)
                + r.scheme.as_ref().map_or(0, heap::string)
                + r.authority.as_ref().map_or(0, heap::string)
                + r.headers.heap_bytes()
                + r.body.heap_bytes()
        });
        let resp = self.response.as_ref().map_or(0, |r| {
            heap::cow_str(&r.version)
                + heap::string(&r.reason)
                + r.status_raw.as_ref().map_or(0, heap::string)
                + r.headers.heap_bytes()
                + r.body.heap_bytes()
        });
        let interim = heap::vec(&self.interim)
            + self
                .interim
                .iter()
                .map(|i| heap::string(&i.reason) + i.headers.heap_bytes())
                .sum::<usize>();
        req + resp + interim + heap::vec(&self.findings)
    }
}
