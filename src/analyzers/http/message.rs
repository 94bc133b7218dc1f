//! From a parsed head to what the analyzer needs: body framing (RFC 9112 §6.3), the header
//! records with their hop-by-hop classification, credential masking, and the findings that a
//! head alone can prove.

use super::body::Framing;
use super::head::{Head, HeadIssue, Known, StartLine, Version};
use crate::model::codes::{self, Code};
use crate::model::http::{BodyFraming, Headers, HopReason, wire_text};
use crate::model::syntax::trim_ows;

/// How many characters of a credential stay visible.
const MASK_KEEP: usize = 4;

/// `Basic dXNlcjpwYXNz` → `Basic dXNl…(12 more bytes masked)`.
pub fn mask_credential(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let (scheme, rest) = match text.split_once(' ') {
        Some((s, r)) => (s, r.trim_start()),
        None => ("", text.as_ref()),
    };
    let keep: String = rest.chars().take(MASK_KEEP).collect();
    let hidden = rest.len().saturating_sub(keep.len());
    let sep = if scheme.is_empty() { "" } else { " " };
    format!("{scheme}{sep}{keep}…({hidden} more bytes masked)")
}

/// A cookie value with all but a prefix hidden: at most 4 characters and at most half of it
/// stay visible (`4f2c9a1b7e` → `4f2c…(6 more bytes masked)`, `dark` → `da…(2 more bytes
/// masked)`); empty values stay empty.
pub fn mask_cookie_value(v: &[u8], out: &mut Vec<u8>) {
    if v.is_empty() {
        return;
    }
    // ASCII (nearly every cookie): one character per byte, so the count and the kept prefix
    // need no UTF-8 decoding.
    let keep_len = if v.is_ascii() {
        (v.len() / 2).min(MASK_KEEP)
    } else {
        mask_keep_len(v)
    };
    out.extend_from_slice(&v[..keep_len]);
    out.extend_from_slice("…(".as_bytes());
    out.extend_from_slice(itoa::Buffer::new().format(v.len() - keep_len).as_bytes());
    out.extend_from_slice(b" more bytes masked)");
}

/// The bytes of a non-ASCII cookie value that [`mask_cookie_value`] leaves visible.
fn mask_keep_len(v: &[u8]) -> usize {
    // Characters are counted on the UTF-8 view (invalid bytes count one each, shown as U+FFFD).
    let chars = match std::str::from_utf8(v) {
        Ok(t) => t.chars().count(),
        Err(_) => String::from_utf8_lossy(v).chars().count(),
    };
    let want = (chars / 2).min(MASK_KEEP);
    match std::str::from_utf8(v) {
        Ok(t) => t.char_indices().nth(want).map_or(t.len(), |(i, _)| i),
        // Not UTF-8: keep ASCII only, so the output stays text.
        Err(_) => v.iter().take(want).take_while(|c| c.is_ascii()).count(),
    }
}

/// `Cookie: a=1; b=2` with every value masked, names kept (RFC 6265bis §4.2.1), appended to
/// `out`.
pub fn mask_cookie_header(v: &[u8], out: &mut Vec<u8>) {
    for (i, pair) in v.split(|&c| c == b';').enumerate() {
        if i > 0 {
            out.push(b';');
        }
        match pair.iter().position(|&c| c == b'=') {
            Some(eq) => {
                out.extend_from_slice(&pair[..=eq]);
                mask_cookie_value(pair[eq + 1..].trim_ascii(), out);
            }
            None => {
                // A value without a name: all of it is the value.
                let lead = pair.len() - pair.trim_ascii_start().len();
                out.extend_from_slice(&pair[..lead]);
                mask_cookie_value(pair.trim_ascii(), out);
            }
        }
    }
}

/// `Set-Cookie: name=value; attributes` with the value masked, the attributes as sent,
/// appended to `out`.
pub fn mask_set_cookie(v: &[u8], out: &mut Vec<u8>) {
    let end = v.iter().position(|&c| c == b';').unwrap_or(v.len());
    let (nvp, attrs) = v.split_at(end);
    match nvp.iter().position(|&c| c == b'=') {
        Some(eq) => {
            out.extend_from_slice(&nvp[..=eq]);
            mask_cookie_value(nvp[eq + 1..].trim_ascii(), out);
        }
        None => mask_cookie_value(nvp.trim_ascii(), out),
    }
    out.extend_from_slice(attrs);
}

/// [`wire_text`] of bytes the record can own: UTF-8 (nearly always) becomes the string as it
/// is, neither copied nor allocated again.
pub fn wire_string(b: Vec<u8>) -> (String, Option<String>) {
    match String::from_utf8(b) {
        Ok(s) => (s, None),
        Err(e) => wire_text(e.as_bytes()),
    }
}

/// A finding a head proves, before any body byte: (code, message).
pub type HeadFinding = (&'static Code, String);

/// The header records of a head, classified: each field's [`Known`] tag, read once at parse
/// time, says whether it is a standard hop-by-hop field and whether its value is masked.
pub fn header_records(head: &Head) -> Headers {
    // The fields the Connection field names. A token naming a standard hop-by-hop field is
    // left out (that field is hop-by-hop as `standard` anyway), so the usual `keep-alive` or
    // `upgrade` leaves the list empty, and not allocated.
    let named: Vec<&[u8]> = head
        .list(Known::Connection)
        .filter(|t| !Known::of(t).is_standard_hop_by_hop())
        .collect();
    let mut out = Headers::with_capacity(head.field_count(), head.len);
    for (n, v, known) in head.known_fields() {
        let reason = if known.is_standard_hop_by_hop() {
            Some(HopReason::Standard)
        } else if named.iter().any(|c| c.eq_ignore_ascii_case(n)) {
            Some(HopReason::NamedInConnection)
        } else {
            None
        };
        push_known(&mut out, known, n, v, reason);
    }
    out
}

/// One field into `out` with its hop-by-hop classification, its value masked when it is a
/// credential or a cookie (what every message's headers go through, HTTP/1 or HTTP/2).
pub fn push_field(out: &mut Headers, n: &[u8], v: &[u8], reason: Option<HopReason>) {
    push_known(out, Known::of(n), n, v, reason);
}

/// [`push_field`] of a field already told ([`Known::of`] its name).
fn push_known(out: &mut Headers, known: Known, n: &[u8], v: &[u8], reason: Option<HopReason>) {
    if crate::base::secrets::revealed() {
        out.push(n, v, reason, false);
        return;
    }
    match known {
        // Credentials: shown masked in every output.
        Known::Authorization | Known::ProxyAuthorization => {
            out.push(n, mask_credential(v).as_bytes(), reason, true)
        }
        // Cookies: masked as they are written into the record.
        Known::Cookie if !v.is_empty() => {
            out.push_with(n, reason, true, |b| mask_cookie_header(v, b))
        }
        Known::SetCookie if !v.is_empty() => {
            out.push_with(n, reason, true, |b| mask_set_cookie(v, b))
        }
        _ => out.push(n, v, reason, false),
    }
}

/// The elements of comma-separated list fields (RFC 9110 §5.6.1), whitespace trimmed, empty
/// ones left out.
pub fn list_elements<'a>(values: impl Iterator<Item = &'a [u8]>) -> impl Iterator<Item = &'a [u8]> {
    values
        .flat_map(|v| v.split(|&c| c == b','))
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// Content codings of list field values, in the order applied (lowercase, `identity` left
/// out), as [`content_codings`] gives a head's.
pub fn codings_of<'a>(values: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    list_elements(values)
        .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase())
        .filter(|t| t != "identity")
        .collect()
}

/// Transfer codings, in the order applied (lowercase).
pub fn transfer_codings(head: &Head) -> Vec<String> {
    head.list(Known::TransferEncoding)
        .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase())
        .collect()
}

/// Content codings, in the order applied (lowercase).
pub fn content_codings(head: &Head) -> Vec<String> {
    head.list(Known::ContentEncoding)
        .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase())
        .filter(|t| t != "identity")
        .collect()
}

pub fn content_type(head: &Head) -> Option<String> {
    head.value(Known::ContentType)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Content-Length per RFC 9110 §8.6: every value (list elements and repeated fields) must be
/// the same decimal number.
pub enum ContentLength {
    Absent,
    Valid(u64),
    /// The same value more than once (`count` values in all, fields and list elements).
    Repeated {
        value: u64,
        count: u32,
    },
    /// Different values; the first valid one is what a lenient recipient would use.
    Conflict {
        first: Option<u64>,
    },
    Invalid,
}

pub fn content_length(head: &Head) -> ContentLength {
    let mut seen: Option<u64> = None;
    let mut any = false;
    let mut conflict = false;
    let mut count = 0u32;
    for v in head.values(Known::ContentLength) {
        any = true;
        for part in v.split(|&c| c == b',') {
            let p = trim_ows(part);
            let n = if !p.is_empty() && p.len() <= 19 && p.iter().all(u8::is_ascii_digit) {
                p.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0'))
            } else {
                return if seen.is_some() {
                    ContentLength::Conflict { first: seen }
                } else {
                    ContentLength::Invalid
                };
            };
            count = count.saturating_add(1);
            match seen {
                None => seen = Some(n),
                Some(s) if s != n => conflict = true,
                _ => {}
            }
        }
    }
    match (any, seen, conflict) {
        (false, _, _) => ContentLength::Absent,
        (_, first, true) => ContentLength::Conflict { first },
        (_, Some(n), false) if count > 1 => ContentLength::Repeated { value: n, count },
        (_, Some(n), false) => ContentLength::Valid(n),
        (_, None, false) => ContentLength::Invalid,
    }
}

pub fn framing_kind(f: &Framing) -> BodyFraming {
    match f {
        Framing::None => BodyFraming::None,
        Framing::Length(_) => BodyFraming::ContentLength,
        Framing::Chunked => BodyFraming::Chunked,
        Framing::Close => BodyFraming::Close,
    }
}

/// Framing shared by requests and responses when `Transfer-Encoding` or `Content-Length`
/// is present. `None` when neither is.
fn framing_from_fields(
    head: &Head,
    version: Version,
    request: bool,
    out: &mut Vec<HeadFinding>,
) -> Option<Framing> {
    let te = transfer_codings(head);
    let cl = content_length(head);
    if !te.is_empty() {
        if !matches!(cl, ContentLength::Absent) {
            out.push((
                &codes::HTTP_CL_AND_TE,
                "Content-Length together with Transfer-Encoding: RFC 9112 §6.3 says \
                 Transfer-Encoding wins and the message must be treated as an error; a proxy \
                 and a server that pick different ones can be made to see different requests \
                 (request smuggling). Send only one; servers should reject such requests"
                    .into(),
            ));
        }
        if !version.is_11_or_later() {
            out.push((
                &codes::HTTP_TE_IN_HTTP10,
                format!(
                    "Transfer-Encoding in an {version} message: HTTP/1.0 recipients do not \
                     know it (RFC 9112 §6.1) and may read the chunked framing as the body"
                ),
            ));
        }
        let last_chunked = te.last().is_some_and(|t| t == "chunked");
        if te.iter().filter(|t| *t == "chunked").count() > 1 {
            out.push((
                &codes::HTTP_TE_CHUNKED_TWICE,
                "chunked applied more than once in Transfer-Encoding (RFC 9112 §7: a sender \
                 must not apply chunked more than once)"
                    .into(),
            ));
        }
        if last_chunked {
            return Some(Framing::Chunked);
        }
        let has_chunked = te.iter().any(|t| t == "chunked");
        out.push((
            &codes::HTTP_TE_NOT_CHUNKED,
            if request && has_chunked {
                format!(
                    "Transfer-Encoding \"{}\" does not end with chunked: RFC 9112 §6.3 rule 4 \
                     says the request length cannot be determined and a server must answer 400 \
                     and close, but lenient servers (and Zeek) read it as chunked and then see \
                     whatever follows as another request — a request-smuggling desync. \
                     hopscope reads it as chunked, like the lenient servers",
                    te.join(", ")
                )
            } else if request {
                format!(
                    "Transfer-Encoding \"{}\" does not end with chunked: the request length \
                     cannot be determined (RFC 9112 §6.3 rule 4); a server must answer 400 and \
                     close. Read until the connection closed",
                    te.join(", ")
                )
            } else {
                format!(
                    "Transfer-Encoding \"{}\" does not end with chunked: the body is read until \
                     the connection closes (RFC 9112 §6.3 rule 4)",
                    te.join(", ")
                )
            },
        ));
        return Some(if request && has_chunked {
            Framing::Chunked
        } else {
            Framing::Close
        });
    }
    match cl {
        ContentLength::Absent => None,
        ContentLength::Valid(n) => Some(Framing::Length(n)),
        ContentLength::Repeated { value, count } => {
            let fields = head.values(Known::ContentLength).count();
            let how = if fields > 1 {
                format!("{fields} Content-Length fields")
            } else {
                "a Content-Length list".to_string()
            };
            out.push((
                &codes::HTTP_CONTENT_LENGTH_REPEATED,
                format!(
                    "{how} with the same value {count} times ({value}): RFC 9110 §8.6 lets a \
                     recipient reject the message or collapse the values, and servers disagree \
                     (some answer 400, others accept); a proxy that accepts it in front of a \
                     server that rejects it, or the reverse, is a request-smuggling setup. \
                     hopscope uses {value}. Send one field with one value"
                ),
            ));
            Some(Framing::Length(value))
        }
        ContentLength::Conflict { first } => {
            let values: Vec<String> = head
                .values(Known::ContentLength)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            out.push((
                &codes::HTTP_CONTENT_LENGTH_CONFLICT,
                format!(
                    "Content-Length values differ ({}): RFC 9110 §8.6 makes this an \
                     unrecoverable framing error; recipients that pick different values disagree \
                     on where the message ends and what the next request is (request \
                     smuggling). hopscope uses the first{}. Fix the sender to send one value; \
                     servers must reject it",
                    values.join(" | "),
                    first.map(|n| format!(" ({n})")).unwrap_or_default()
                ),
            ));
            Some(first.map_or(Framing::None, Framing::Length))
        }
        ContentLength::Invalid => {
            out.push((
                &codes::HTTP_CONTENT_LENGTH_INVALID,
                "Content-Length is not a non-negative decimal number (RFC 9110 §8.6); the \
                 message length is unknown and a recipient must reject it"
                    .into(),
            ));
            Some(if request {
                Framing::None
            } else {
                Framing::Close
            })
        }
    }
}

/// The framing of a request body (RFC 9112 §6.3 rules 3–6).
pub fn request_framing(head: &Head, out: &mut Vec<HeadFinding>) -> Framing {
    let version = match &head.start {
        StartLine::Request { version, .. } => *version,
        StartLine::Response { version, .. } => *version,
    };
    let framing = framing_from_fields(head, version, true, out).unwrap_or(Framing::None);
    let no_content = matches!(framing, Framing::None | Framing::Length(0));
    if no_content && head.list_has(Known::Expect, "100-continue") {
        out.push((
            &codes::HTTP_EXPECT_WITHOUT_BODY,
            "Expect: 100-continue on a request without content (RFC 9110 §10.1.1: a client \
             must not send it then); servers that wait for the body before answering, and \
             proxies that forward what follows as the body, disagree on where the next request \
             starts"
                .into(),
        ));
    }
    framing
}

/// The framing of a response body, which depends on the request (RFC 9112 §6.3 rules 1–2).
pub fn response_framing(
    head: &Head,
    request_method: Option<&[u8]>,
    out: &mut Vec<HeadFinding>,
) -> Framing {
    let (version, status) = match &head.start {
        StartLine::Response {
            version, status, ..
        } => (*version, *status),
        StartLine::Request { version, .. } => (*version, 0),
    };
    let head_req = request_method.is_some_and(|m| m == b"HEAD");
    let connect_ok =
        request_method.is_some_and(|m| m == b"CONNECT") && (200..300).contains(&status);
    if head_req || (100..200).contains(&status) || status == 204 || status == 304 || connect_ok {
        // No body whatever the fields say; only the fields a server must not send here are
        // reported.
        let _ = version;
        if status == 204 || (100..200).contains(&status) {
            if head.has(Known::ContentLength) {
                let zero = head
                    .values(Known::ContentLength)
                    .all(|v| trim_ows(v) == b"0");
                out.push(if zero {
                    (
                        &codes::HTTP_CONTENT_LENGTH_ZERO_FORBIDDEN,
                        format!(
                            "a {status} response carries Content-Length: 0 (RFC 9110 §8.6: a \
                             server must not send Content-Length in 1xx or 204 responses; \
                             harmless when it is 0)"
                        ),
                    )
                } else {
                    (
                        &codes::HTTP_CONTENT_LENGTH_FORBIDDEN,
                        format!(
                            "a {status} response carries a non-zero Content-Length (RFC 9110 \
                             §8.6 forbids it in 1xx and 204 responses); a client that reads it \
                             takes the next response's bytes as this one's body"
                        ),
                    )
                });
            }
            if head.has(Known::TransferEncoding) {
                out.push((
                    &codes::HTTP_TE_FORBIDDEN,
                    format!(
                        "a {status} response carries Transfer-Encoding (RFC 9112 §6.1: a server \
                         must not send it in 1xx or 204 responses)"
                    ),
                ));
            }
        }
        return Framing::None;
    }
    framing_from_fields(head, version, false, out).unwrap_or(Framing::Close)
}

/// Findings about the head's syntax (from the parser's issues) and about fields that are
/// wrong on their own.
pub fn head_findings(head: &Head, request: bool, out: &mut Vec<HeadFinding>) {
    let who = if request { "request" } else { "response" };
    if let Some(why) = head.rejected {
        out.push((
            &codes::HTTP_LENIENT_PARSE,
            format!(
                "the {who} head is not valid HTTP/1.1 ({why}); strict parsers such as httparse \
                 reject it, hopscope read it leniently — see the other findings for the exact \
                 deviation"
            ),
        ));
    }
    for issue in &head.issues {
        let f = match issue {
            HeadIssue::BareLf => (
                &codes::HTTP_BARE_LF,
                format!(
                    "the {who} head ends lines with LF alone instead of CRLF (RFC 9112 §2.2); \
                     recipients that split lines differently can disagree on the fields"
                ),
            ),
            HeadIssue::ObsFold { name } => (
                &codes::HTTP_OBS_FOLD,
                format!(
                    "field {} is folded onto a continuation line (obs-fold, RFC 9112 §5.2): \
                     deprecated; a server must reject it or unfold it, a proxy must unfold it. \
                     Fold-sensitive parsers disagree about the value",
                    show(name)
                ),
            ),
            HeadIssue::SpaceBeforeColon { name } => (
                &codes::HTTP_SPACE_BEFORE_COLON,
                format!(
                    "whitespace between field name {} and the colon (RFC 9112 §5.1: a server \
                     must reject the message with 400, a proxy must remove it); a classic \
                     request-smuggling vector when the field is Transfer-Encoding",
                    show(name)
                ),
            ),
            HeadIssue::InvalidName { name } => (
                &codes::HTTP_INVALID_FIELD_NAME,
                format!(
                    "field name {} has characters that are not allowed in a token (RFC 9110 \
                     §5.1)",
                    show(name)
                ),
            ),
            HeadIssue::InvalidValue { name } => (
                &codes::HTTP_INVALID_FIELD_VALUE,
                format!(
                    "the value of field {} holds control characters (RFC 9110 §5.5: a \
                     recipient must reject the message or replace them with SP)",
                    show(name)
                ),
            ),
            HeadIssue::NoColon { line } => (
                &codes::HTTP_MALFORMED_FIELD,
                format!(
                    "a line in the {who} field section has no colon and was ignored: {}",
                    show(line)
                ),
            ),
            HeadIssue::BadStartLine => (
                &codes::HTTP_MALFORMED_START_LINE,
                format!(
                    "the {who} start line does not follow RFC 9112 §3/§4 (extra or missing \
                     spaces, invalid method token); its parts were kept as sent"
                ),
            ),
            HeadIssue::ControlInStartLine => (
                &codes::HTTP_CONTROL_IN_START_LINE,
                format!(
                    "control bytes (an escape sequence, BEL) in the {who} start line's {}: \
                     RFC 9112 allows none there; it is what an attacker sends to poison a log \
                     or a terminal that prints it raw. Kept as sent and escaped in every \
                     output; servers should answer 400",
                    if who == "request" {
                        "target"
                    } else {
                        "reason phrase"
                    }
                ),
            ),
            HeadIssue::TooManyFields { dropped } => (
                &codes::HTTP_TOO_MANY_FIELDS,
                format!(
                    "the {who} head has more fields than hopscope keeps; {dropped} were not \
                     recorded (raise the limit if you need them)"
                ),
            ),
            HeadIssue::BadStatus { raw } => (
                &codes::HTTP_INVALID_STATUS,
                format!(
                    "status code {} is not three digits (RFC 9110 §15); recorded as status 0",
                    show(raw)
                ),
            ),
            HeadIssue::SpaceBeforeFirstField => (
                &codes::HTTP_SPACE_BEFORE_FIRST_FIELD,
                format!(
                    "whitespace before the first field line of the {who} (RFC 9112 §2.2: a \
                     recipient must reject the message or ignore the line)"
                ),
            ),
        };
        out.push(f);
    }
    let upgrade = head.has(Known::Upgrade);
    let conn_upgrade = head.list_has(Known::Connection, "upgrade");
    if upgrade && !conn_upgrade && request {
        out.push((
            &codes::HTTP_UPGRADE_WITHOUT_CONNECTION,
            "Upgrade is sent without \"upgrade\" in Connection (RFC 9110 §7.8: the sender must \
             list it there); servers and proxies ignore such an Upgrade. Send \
             \"Connection: upgrade\""
                .into(),
        ));
    }
    if conn_upgrade && !upgrade {
        out.push((
            &codes::HTTP_CONNECTION_UPGRADE_WITHOUT_UPGRADE,
            format!(
                "the {who} lists \"upgrade\" in Connection but has no Upgrade field; a proxy \
                 stripped Upgrade (it is hop-by-hop) or the sender forgot it"
            ),
        ));
    }
}

/// `"X-Name"` for messages, sanitized by the text sinks later; cut to a readable length.
pub fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let cut: String = s.chars().take(60).collect();
    if cut.len() < s.len() {
        format!("\"{cut}…\"")
    } else {
        format!("\"{cut}\"")
    }
}

/// The Host requirement of RFC 9112 §3.2 for HTTP/1.1 requests.
pub fn host_findings(head: &Head, out: &mut Vec<HeadFinding>) {
    let StartLine::Request {
        version, target, ..
    } = &head.start
    else {
        return;
    };
    let hosts = head.values(Known::Host).count();
    if version.is_11_or_later() && hosts == 0 {
        out.push((
            &codes::HTTP_MISSING_HOST,
            "HTTP/1.1 request without Host (RFC 9112 §3.2: a server must answer 400)".into(),
        ));
    }
    if hosts > 1 {
        out.push((
            &codes::HTTP_DUPLICATE_HOST,
            "more than one Host field (RFC 9112 §3.2: a server must answer 400); front ends \
             and back ends that pick different ones route the request differently"
                .into(),
        ));
    }
    let _ = target;
}

/// The `Upgrade` tokens of a request, lowercase, protocol versions kept (`h2c`, `websocket`).
pub fn upgrade_tokens(head: &Head) -> Vec<String> {
    head.list(Known::Upgrade)
        .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::head::{HeadLimits, Parsed, parse_request, parse_response};
    use super::*;

    fn req(s: &str) -> Head {
        match parse_request(s.as_bytes(), &HeadLimits::default()) {
            Parsed::Complete(h) => h,
            other => panic!("{other:?}"),
        }
    }
    fn resp(s: &str) -> Head {
        match parse_response(s.as_bytes(), &HeadLimits::default()) {
            Parsed::Complete(h) => h,
            other => panic!("{other:?}"),
        }
    }
    fn codes(f: &[HeadFinding]) -> Vec<&'static str> {
        f.iter().map(|x| x.0.name).collect()
    }

    #[test]
    fn cookie_values_are_masked_in_header_records_names_and_attributes_kept() {
        let h = req(
            "GET / HTTP/1.1\r\nHost: h\r\nCookie: sessionid=4f2c9a1b7e; theme=dark; laxpref=1\r\n\r\n",
        );
        let recs = header_records(&h);
        let c = recs.iter().find(|x| x.name == b"Cookie").unwrap();
        assert!(c.masked);
        assert_eq!(
            c.value_str(),
            "sessionid=4f2c…(6 more bytes masked); theme=da…(2 more bytes masked); laxpref=…(1 more bytes masked)"
        );
        let h = resp(
            "HTTP/1.1 200 OK\r\nSet-Cookie: __Host-id=h0st; Path=/; Secure\r\nSet-Cookie: empty=; Path=/\r\nContent-Length: 0\r\n\r\n",
        );
        let recs = header_records(&h);
        let v: Vec<(String, bool)> = recs
            .iter()
            .filter(|x| x.name == b"Set-Cookie")
            .map(|x| (x.value_str().into_owned(), x.masked))
            .collect();
        assert_eq!(
            v,
            vec![
                (
                    "__Host-id=h0…(2 more bytes masked); Path=/; Secure".to_string(),
                    true
                ),
                ("empty=; Path=/".to_string(), true),
            ]
        );
    }

    #[test]
    fn rfc9112_s6_3_request_framing_table() {
        let cases: &[(&str, Framing, &[&str])] = &[
            ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", Framing::None, &[]),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",
                Framing::Length(5),
                &[],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
                Framing::Length(0),
                &[],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n",
                Framing::Length(5),
                &["http.content-length-repeated"],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                Framing::Length(5),
                &["http.content-length-repeated"],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5, 6\r\n\r\n",
                Framing::Length(5),
                &["http.content-length-conflict"],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                Framing::Length(5),
                &["http.content-length-conflict"],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
                Framing::None,
                &["http.content-length-invalid"],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
                Framing::Chunked,
                &[],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
                Framing::Chunked,
                &["http.cl-and-te"],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
                Framing::Chunked,
                &["http.te-not-chunked"],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
                Framing::Close,
                &["http.te-not-chunked"],
            ),
            (
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n",
                Framing::Length(0),
                &["http.expect-without-body"],
            ),
            (
                "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                Framing::Chunked,
                &["http.te-in-http10"],
            ),
        ];
        for (raw, want, want_codes) in cases {
            let mut f = Vec::new();
            assert_eq!(&request_framing(&req(raw), &mut f), want, "{raw}");
            assert_eq!(&codes(&f), want_codes, "{raw}");
        }
    }

    #[test]
    fn rfc9112_s6_3_response_framing_depends_on_request_and_status() {
        let h = resp("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        let mut f = Vec::new();
        assert_eq!(
            response_framing(&h, Some(b"GET"), &mut f),
            Framing::Length(10)
        );
        assert_eq!(response_framing(&h, Some(b"HEAD"), &mut f), Framing::None);
        let h = resp("HTTP/1.1 200 Connection established\r\n\r\n");
        assert_eq!(
            response_framing(&h, Some(b"CONNECT"), &mut f),
            Framing::None
        );
        assert_eq!(response_framing(&h, Some(b"GET"), &mut f), Framing::Close);
        for s in [
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
        ] {
            assert_eq!(
                response_framing(&resp(s), Some(b"GET"), &mut f),
                Framing::None
            );
        }
        assert!(f.is_empty());
        let h = resp("HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(response_framing(&h, Some(b"GET"), &mut f), Framing::None);
        assert_eq!(codes(&f), vec!["http.content-length-forbidden"]);
        f.clear();
        let h = resp("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(response_framing(&h, Some(b"GET"), &mut f), Framing::None);
        assert_eq!(codes(&f), vec!["http.content-length-zero-forbidden"]);
    }

    #[test]
    fn rfc9110_s7_6_1_hop_by_hop_classification() {
        let h = req(
            "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Trace\r\nKeep-Alive: 5\r\nX-Trace: 1\r\nUser-Agent: u\r\nProxy-Connection: keep-alive\r\n\r\n",
        );
        let r = header_records(&h);
        let by: Vec<(&str, Option<HopReason>)> = r
            .iter()
            .map(|x| (std::str::from_utf8(x.name).unwrap(), x.hop_by_hop))
            .collect();
        assert_eq!(
            by,
            vec![
                ("Host", None),
                ("Connection", Some(HopReason::Standard)),
                ("Keep-Alive", Some(HopReason::Standard)),
                ("X-Trace", Some(HopReason::NamedInConnection)),
                ("User-Agent", None),
                ("Proxy-Connection", Some(HopReason::Standard)),
            ]
        );
    }

    #[test]
    fn credentials_are_masked_in_records() {
        let h = req(
            "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n\r\n",
        );
        let r = header_records(&h);
        let a = r.iter().nth(1).unwrap();
        assert!(a.masked);
        let v = a.value_str();
        assert!(v.starts_with("Basic YWxp"), "{v}");
        assert!(!v.contains("d29uZGVybGFuZA"), "{v}");
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            json.contains("\"masked\":true") && !json.contains("value_b64"),
            "{json}"
        );
    }

    #[test]
    fn upgrade_and_connection_must_go_together() {
        let mut f = Vec::new();
        head_findings(
            &req("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"),
            true,
            &mut f,
        );
        assert_eq!(codes(&f), vec!["http.upgrade-without-connection"]);
        f.clear();
        head_findings(
            &req("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n"),
            true,
            &mut f,
        );
        assert_eq!(codes(&f), vec!["http.connection-upgrade-without-upgrade"]);
        f.clear();
        head_findings(
            &req("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
            true,
            &mut f,
        );
        assert!(f.is_empty());
    }

    #[test]
    fn rfc9112_s3_2_host_rules() {
        let mut f = Vec::new();
        host_findings(&req("GET / HTTP/1.1\r\n\r\n"), &mut f);
        assert_eq!(codes(&f), vec!["http.missing-host"]);
        f.clear();
        host_findings(&req("GET / HTTP/1.0\r\n\r\n"), &mut f);
        assert!(f.is_empty(), "HTTP/1.0 needs no Host");
        host_findings(&req("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), &mut f);
        assert_eq!(codes(&f), vec!["http.duplicate-host"]);
    }
}
