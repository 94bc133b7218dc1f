//! An HTTP/2 message's fields as the record shows them (RFC 9113 §8.2, §8.3): the
//! hop-by-hop classification with the fields HTTP/2 forbids, pseudo-header values, the body
//! record they announce, error code names. Pure functions.

use crate::analyzers::http::message::{codings_of, list_elements, push_field};
use crate::model::http::{BodyFraming, BodyRecord, BodyState, Headers, HopReason};
use crate::model::syntax::{is_standard_hop_by_hop, trim_ows};

/// The body record before any DATA: framing and the fields that describe the content.
pub fn body_record(f: &Headers, end_stream: bool) -> BodyRecord {
    BodyRecord {
        framing: if end_stream {
            BodyFraming::None
        } else {
            BodyFraming::Http2Data
        },
        state: BodyState::Complete,
        wire_length: 0,
        length: 0,
        decoded_length: None,
        decoding: None,
        content_type: f
            .get("content-type")
            .map(|v| String::from_utf8_lossy(v).into_owned()),
        content_encoding: codings_of(f.values("content-encoding")),
        transfer_encoding: list_elements(f.values("transfer-encoding"))
            .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase())
            .collect(),
        missing_bytes: 0,
        chunks: None,
        chunk_extensions: Vec::new(),
        trailers: Headers::default(),
        preview: None,
        preview_b64: None,
        preview_truncated: false,
        byteranges: None,
    }
}

/// The value of pseudo-header `name`, the first one.
pub fn pseudo<'a>(f: &'a Headers, name: &[u8]) -> Option<&'a [u8]> {
    f.iter()
        .find(|h| h.pseudo && h.name == name)
        .map(|h| h.value)
}

/// A `:status` of three digits.
pub fn status_code(v: &[u8]) -> Option<u16> {
    (v.len() == 3 && v.iter().all(u8::is_ascii_digit))
        .then(|| std::str::from_utf8(v).ok()?.parse().ok())
        .flatten()
}

/// Whether RFC 9113 §8.2.2 forbids this field in HTTP/2: the connection-specific ones, and
/// `TE` with anything but `trailers`.
pub fn forbidden_in_http2(name: &[u8], value: &[u8]) -> bool {
    const CONNECTION_SPECIFIC: &[&str] = &[
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    ];
    CONNECTION_SPECIFIC
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c.as_bytes()))
        || (name.eq_ignore_ascii_case(b"te") && !trim_ows(value).eq_ignore_ascii_case(b"trailers"))
}

/// The decoded fields with their hop-by-hop classification and masking: pseudo-headers stay
/// marked, connection-specific fields are `forbidden-in-http2`, the other HTTP/1.1 hop-by-hop
/// ones (`TE: trailers`, `Proxy-Authorization`, ...) `standard`, fields a `Connection` field
/// names `named-in-connection`.
pub fn classify(raw: &Headers) -> Headers {
    let named: Vec<&[u8]> = list_elements(raw.values("connection")).collect();
    let mut out = Headers::with_capacity(raw.len(), 0);
    for h in raw.iter() {
        if h.pseudo {
            out.push_pseudo(h.name, h.value);
            continue;
        }
        let reason = if forbidden_in_http2(h.name, h.value) {
            Some(HopReason::ForbiddenInHttp2)
        } else if is_standard_hop_by_hop(h.name) {
            Some(HopReason::Standard)
        } else if named.iter().any(|c| c.eq_ignore_ascii_case(h.name)) {
            Some(HopReason::NamedInConnection)
        } else {
            None
        };
        push_field(&mut out, h.name, h.value, reason);
    }
    out
}

/// RFC 9113 §7's name of an error code; `unknown` for another value.
pub fn error_name(code: u32) -> &'static str {
    match code {
        0 => "NO_ERROR",
        1 => "PROTOCOL_ERROR",
        2 => "INTERNAL_ERROR",
        3 => "FLOW_CONTROL_ERROR",
        4 => "SETTINGS_TIMEOUT",
        5 => "STREAM_CLOSED",
        6 => "FRAME_SIZE_ERROR",
        7 => "REFUSED_STREAM",
        8 => "CANCEL",
        9 => "COMPRESSION_ERROR",
        10 => "CONNECT_ERROR",
        11 => "ENHANCE_YOUR_CALM",
        12 => "INADEQUATE_SECURITY",
        13 => "HTTP_1_1_REQUIRED",
        _ => "unknown",
    }
}
