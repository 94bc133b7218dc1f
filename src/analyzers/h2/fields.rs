//! An HTTP/2 message's fields as the record shows them (RFC 9113 §8.2, §8.3): the
//! hop-by-hop classification with the fields HTTP/2 forbids, pseudo-header values, the body
//! record they announce, error code names. Pure functions.

use crate::analyzers::http::message::{codings_of, list_elements, push_field};
use crate::model::codes::{self, Code};
use crate::model::http::{BodyFraming, BodyRecord, Headers, HopReason};
use crate::model::syntax::{is_standard_hop_by_hop, trim_ows};

/// The body record before any DATA: framing and the fields that describe the content.
pub fn body_record(f: &Headers, end_stream: bool) -> BodyRecord {
    BodyRecord {
        framing: if end_stream {
            BodyFraming::None
        } else {
            BodyFraming::Http2Data
        },
        content_type: f
            .get("content-type")
            .map(|v| String::from_utf8_lossy(v).into_owned()),
        content_encoding: codings_of(f.values("content-encoding")),
        transfer_encoding: list_elements(f.values("transfer-encoding"))
            .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase())
            .collect(),
        ..BodyRecord::empty()
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

/// What a header block is, for the rules of RFC 9113 §8.1 and §8.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Request,
    Response,
    Trailers,
}

/// Names shown in a finding: at most this many per finding.
const SHOWN_NAMES: usize = 3;

/// A name from the wire as a finding shows it: at most 40 bytes, escaped.
fn shown(name: &[u8]) -> String {
    let n = name.get(..40).unwrap_or(name);
    String::from_utf8_lossy(n).escape_debug().to_string()
}

fn listed(names: &[String], more: usize) -> String {
    let mut s = names.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// The rules RFC 9113 §8.2 and §8.3 set on a decoded header block's fields (`f` as decoded,
/// in order; `complete` when every field was kept, so a missing one is really missing): each
/// broken rule once per block, with its code and message.
pub fn block_rules(f: &Headers, kind: BlockKind, complete: bool) -> Vec<(&'static Code, String)> {
    const REQUEST: &[&[u8]] = &[
        b":method",
        b":scheme",
        b":authority",
        b":path",
        b":protocol",
    ];
    let mut out = Vec::new();
    let mut regular_seen = false;
    let (mut after, mut unknown, mut repeated, mut upper, mut conn) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut more = [0usize; 5];
    let mut seen: Vec<&[u8]> = Vec::new();
    let push = |v: &mut Vec<String>, more: &mut usize, name: &[u8]| {
        if v.len() < SHOWN_NAMES {
            v.push(shown(name));
        } else {
            *more += 1;
        }
    };
    let mut pseudo_in_trailers = false;
    for h in f.iter() {
        if h.pseudo {
            if kind == BlockKind::Trailers {
                pseudo_in_trailers = true;
                continue;
            }
            if regular_seen {
                push(&mut after, &mut more[0], h.name);
            }
            let known = match kind {
                BlockKind::Request => REQUEST.contains(&h.name),
                _ => h.name == b":status",
            };
            if !known {
                push(&mut unknown, &mut more[1], h.name);
            } else if seen.contains(&h.name) {
                push(&mut repeated, &mut more[2], h.name);
            } else {
                seen.push(h.name);
            }
            continue;
        }
        regular_seen = true;
        if h.name.iter().any(u8::is_ascii_uppercase) {
            push(&mut upper, &mut more[3], h.name);
        }
        if forbidden_in_http2(h.name, h.value) {
            push(&mut conn, &mut more[4], h.name);
        }
    }
    let which = match kind {
        BlockKind::Request => "request",
        BlockKind::Response => "response",
        BlockKind::Trailers => "trailers",
    };
    if pseudo_in_trailers {
        out.push((
            &codes::H2_PSEUDO_HEADER_IN_TRAILERS,
            "a pseudo-header field in a trailer block (RFC 9113 §8.1)".to_string(),
        ));
    }
    if !after.is_empty() {
        out.push((
            &codes::H2_PSEUDO_HEADER_AFTER_FIELD,
            format!(
                "{which} pseudo-header {} after a regular field (RFC 9113 §8.3)",
                listed(&after, more[0])
            ),
        ));
    }
    if !unknown.is_empty() {
        out.push((
            &codes::H2_PSEUDO_HEADER_UNKNOWN,
            format!(
                "pseudo-header {} is not defined for a {which} (RFC 9113 §8.3)",
                listed(&unknown, more[1])
            ),
        ));
    }
    if !repeated.is_empty() {
        out.push((
            &codes::H2_PSEUDO_HEADER_REPEATED,
            format!(
                "{which} pseudo-header {} repeated (RFC 9113 §8.3.1, §8.3.2)",
                listed(&repeated, more[2])
            ),
        ));
    }
    if complete && kind != BlockKind::Trailers {
        let has = |n: &[u8]| seen.contains(&n);
        let connect = pseudo(f, b":method") == Some(b"CONNECT") && !has(b":protocol");
        // An extended CONNECT (RFC 8441 §4) has its own finding for what it lacks
        // (`h2.extended-connect-malformed`, from the WebSocket side of the layer).
        let extended = pseudo(f, b":method") == Some(b"CONNECT") && has(b":protocol");
        let required: &[&[u8]] = match kind {
            BlockKind::Request if extended => &[],
            BlockKind::Request if connect => &[b":method", b":authority"],
            BlockKind::Request => &[b":method", b":scheme", b":path"],
            _ => &[b":status"],
        };
        let missing: Vec<String> = required
            .iter()
            .filter(|n| !has(n))
            .map(|n| shown(n))
            .collect();
        if !missing.is_empty() {
            out.push((
                &codes::H2_PSEUDO_HEADER_MISSING,
                format!(
                    "{which} without {} (RFC 9113 §8.3.1, §8.3.2{})",
                    missing.join(", "),
                    if connect { ", §8.5" } else { "" }
                ),
            ));
        }
    }
    if !upper.is_empty() {
        out.push((
            &codes::H2_UPPERCASE_FIELD_NAME,
            format!(
                "{which} field name {} has uppercase letters (RFC 9113 §8.2.1)",
                listed(&upper, more[3])
            ),
        ));
    }
    if !conn.is_empty() {
        out.push((
            &codes::H2_CONNECTION_SPECIFIC_FIELD,
            format!(
                "connection-specific field {} in an HTTP/2 {which} (RFC 9113 §8.2.2)",
                listed(&conn, more[4])
            ),
        ));
    }
    out
}

/// A single `Content-Length` value (repeats of the same value allowed), `None` when absent,
/// not a number or conflicting.
pub fn content_length(f: &Headers) -> Option<u64> {
    let mut v = None;
    for x in f.values("content-length") {
        for e in list_elements(std::iter::once(x)) {
            let n: u64 = std::str::from_utf8(e).ok()?.parse().ok()?;
            if v.is_some_and(|old| old != n) {
                return None;
            }
            v = Some(n);
        }
    }
    v
}
