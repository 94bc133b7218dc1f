//! The findings registry: every finding code once, with its severity, the area that raises it,
//! the one-line summary of when it is raised and the advice on what to do about it.
//!
//! Raising sites name an entry (`Finding::new(&codes::TCP_GAP, msg)`), so a code cannot be
//! misspelt and its severity cannot differ between two places that raise it. The JSON and
//! text reports, the UI ("when" and "what to do" under a finding) and `docs/findings.md`
//! read the same table: `tests/it/docs.rs` fails when a row of the docs and [`Code::doc_row`]
//! disagree in either direction, and when an entry is raised nowhere.
//!
//! Codes never change meaning; a new one is added here (in the order of the docs' tables)
//! and its row, as [`Code::doc_row`] renders it, to `docs/findings.md`.

use serde::Serialize;

use super::Severity;

/// The part of hopscope that raises a code: the part of its name before the first dot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// Reading the capture (file or live).
    Capture,
    /// Link, IP and TCP header decoding.
    Decode,
    /// TCP reassembly and the flow table.
    Tcp,
    /// HTTP/1.x messages and framing.
    Http,
    /// WebSocket handshakes and frames.
    Ws,
    /// TLS hellos and record walk.
    Tls,
    /// SOCKS4/4a/5 handshakes.
    Socks,
    /// The HTTP/2 frame layer.
    H2,
    /// The memory budget and what it shed.
    Memory,
    /// Proxy-hop correlation (client leg against upstream leg).
    Proxy,
    /// HTTP semantics: caching.
    Cache,
    /// HTTP semantics: range requests.
    Range,
    /// HTTP semantics: cookies.
    Cookie,
    /// HTTP semantics: CORS.
    Cors,
    /// HTTP semantics: authentication.
    Auth,
    /// HTTP semantics: redirects.
    Redirect,
}

impl Area {
    /// The prefix of its codes' names, without the dot: `http`, `ws`, `cookie`.
    pub fn prefix(self) -> &'static str {
        match self {
            Area::Capture => "capture",
            Area::Memory => "memory",
            Area::Decode => "decode",
            Area::Tcp => "tcp",
            Area::Http => "http",
            Area::Ws => "ws",
            Area::Tls => "tls",
            Area::Socks => "socks",
            Area::H2 => "h2",
            Area::Proxy => "proxy",
            Area::Cache => "cache",
            Area::Range => "range",
            Area::Cookie => "cookie",
            Area::Cors => "cors",
            Area::Auth => "auth",
            Area::Redirect => "redirect",
        }
    }
}

/// One finding code. Entries live only in this module's statics; a finding refers to its
/// entry, so comparing two codes compares their names (which are unique).
#[derive(Debug)]
pub struct Code {
    /// The stable dotted name, as every output shows it: `http.cl-and-te`.
    pub name: &'static str,
    pub severity: Severity,
    pub area: Area,
    /// When it is raised (the "when" column of `docs/findings.md`).
    pub summary: &'static str,
    /// What to do about it (the "what to do" column); may be empty.
    pub advice: &'static str,
}

impl PartialEq for Code {
    fn eq(&self, other: &Code) -> bool {
        self.name == other.name
    }
}

impl Eq for Code {}

/// A code serializes as its name, as it always has.
impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

impl Code {
    /// Its row in the tables of `docs/findings.md`.
    pub fn doc_row(&self) -> String {
        let advice = if self.advice.is_empty() {
            String::new()
        } else {
            format!(" {}", self.advice)
        };
        format!(
            "| `{}` | {} | {} |{advice} |",
            self.name,
            self.severity.name(),
            self.summary
        )
    }
}

/// The entry named `name`, for what only has a code's name (a transaction's `findings`, a
/// hop's `diagnosis`).
pub fn lookup(name: &str) -> Option<&'static Code> {
    ALL.iter().copied().find(|c| c.name == name)
}

/// Declares one `pub static` per entry and [`ALL`], so no entry can be left out of it.
macro_rules! registry {
    ($($id:ident = $name:literal, $area:ident, $severity:ident, $summary:literal, $advice:literal;)*) => {
        $(
            pub static $id: Code = Code {
                name: $name,
                severity: Severity::$severity,
                area: Area::$area,
                summary: $summary,
                advice: $advice,
            };
        )*
        /// Every code, in the order of the tables of `docs/findings.md`.
        pub static ALL: &[&Code] = &[$(&$id),*];
    };
}

// Each entry: IDENT = "name", area, severity,
//     "when it is raised",
//     "what to do";
registry! {
    CAPTURE_INCOMPLETE = "capture.incomplete", Capture, Error,
        "reading the capture stopped early: not a capture, a record cut short (truncated file) or a corrupt record; the message names the byte offset",
        "everything before that offset was analysed; re-copy the file, or cut it at the offset (`editcap -r`) to keep the good part";
    CAPTURE_UNSUPPORTED_LINK_TYPE = "capture.unsupported-link-type", Capture, Warning,
        "a link type hopscope cannot decode (reported once per type)",
        "packets are counted, not analysed; convert with `editcap -T` if the payload is Ethernet or IP";

    DECODE_UNDECODABLE = "decode.undecodable", Decode, Warning,
        "a packet whose headers could not be decoded as far as TCP (the message names the layer, byte offset and what was missing); the first 50 are reported one by one, then a single count",
        "usually a snaplen cut inside the headers or a corrupt packet; the rest of the capture is analysed";

    TCP_GAP = "tcp.gap", Tcp, Info,
        "bytes of a stream are missing, and the message says why: never captured (the receiver's ACK proves they existed, the connection ended with a hole, or the snaplen cut them) or given up by hopscope because one of its bounds was hit (which one: `--max-ooo-bytes`, `--max-buffered-bytes`, `--max-flows`, `--memory`); up to 3 per connection direction, the rest are in the connection's `gaps`/`missing_bytes`",
        "never captured: capture closer to the endpoints, or with a larger buffer (`tcpdump -B`) and `-s 0`; given up by a bound: raise that bound (bytes that arrive later are `tcp.late-data`); analyzers resynchronise after the hole";
    TCP_UNDECIDED_AFTER_GAP = "tcp.undecided-after-gap", Tcp, Warning,
        "a gap took the first bytes of a connection before its protocol was recognised, and no message start (an HTTP request or status line, a TLS record) was found after it before 16 KiB were held; the rest of the connection is not analysed",
        "capture without loss at the connection's start (`tcpdump -B`); a connection whose first bytes are lost is otherwise picked up at the next request, response or TLS record";
    TCP_OVERLAP_CONFLICT = "tcp.overlap-conflict", Tcp, Warning,
        "overlapping TCP segments (a retransmission, or buffered segments) carried different bytes for the same sequence numbers; hopscope keeps the first copy",
        "the sender or a middlebox rewrote data, or someone is trying to make an IDS and the receiver see different streams (RFC 9293 §3.10.7.4 lets receivers keep either copy)";
    TCP_OOO_LIMIT = "tcp.ooo-limit", Tcp, Warning,
        "the out-of-order buffer of one direction filled up before a hole was filled; the hole was given up as a gap",
        "raise `--max-ooo-bytes`";
    TCP_BUFFER_LIMIT = "tcp.buffer-limit", Tcp, Warning,
        "the reassembly buffers of all connections together filled up; a hole was given up as a gap",
        "raise `--max-buffered-bytes`";
    TCP_LATE_DATA = "tcp.late-data", Tcp, Info,
        "bytes arrived after their hole had been given up as a gap (a bound was hit, or the receiver's ACK for them was captured first); they were not analysed and are counted in the connection's `late_bytes`, not as retransmissions; up to 3 per connection direction",
        "the capture reordered packets, or a bound gave up too early: raise `--max-ooo-bytes`, `--max-buffered-bytes` or `--memory` as the `tcp.gap` before it says";
    TCP_SEQUENCE_JUMP = "tcp.sequence-jump", Tcp, Warning,
        "a segment or an acknowledgment lay further than any TCP window (2^30 bytes, RFC 7323 §2.3) from where the stream was; it was ignored, not taken as data or as proof of missing bytes, and counted in the connection's `sequence_jumps`; up to 3 per connection direction",
        "an injected, spoofed or corrupted segment, or a capture that lost more than 1 GiB of this connection in both directions (then the rest of this direction is not analysed)";
    TCP_FLOW_LIMIT = "tcp.flow-limit", Tcp, Warning,
        r#"more connections were live at once than `--max-flows`; the least recently active were reported early with `close: "evicted"`"#,
        "raise `--max-flows`, or lower `--idle-timeout`";

    CAPTURE_KERNEL_DROPPED = "capture.kernel-dropped", Capture, Warning,
        "a live capture: the kernel (or the interface) dropped packets because the capture buffer was full",
        "capture less (`-f`), or give libpcap a bigger buffer; the report covers what arrived";
    CAPTURE_ANALYSIS_DROPPED = "capture.analysis-dropped", Capture, Warning,
        "a live capture: the analysis fell behind and hopscope dropped packets from its bounded queue",
        "raise `--queue`, filter (`-f`), or save with `-w` and analyse the file afterwards";
    CAPTURE_SAVE_FAILED = "capture.save-failed", Capture, Warning,
        "a live capture: the copy being saved (`-w`, or the terminal UI's spool behind `w` and the Stream view) could not be written (disk full, permissions); the message names the file and the error",
        "the analysis and the report are complete; free space or choose another `-w` path. `hopscope live` exits with status 1";
    CAPTURE_CLOCK_UNPLACED = "capture.clock-unplaced", Capture, Info,
        "several hosts' captures: this file's clock could not be placed against the first file's (no connection was captured in both, no proxy hop paired across them by evidence that needs no clock, no `--clock-offset`): its times are its own, and its legs were paired with the other files' only by evidence that needs no clock; raised once per file",
        "give `--clock-offset FILE=SECONDS` when you know the offset, or capture one connection on both hosts (a `curl` from one to the other during the capture is enough)";
    MEMORY_BUDGET_FULL = "memory.budget-full", Memory, Warning,
        "the memory budget (`--memory`) was full: hopscope shed connection state by its policy (connections idle longest first, then the largest buffers of the least active connections, then the least active connections); `capture.memory` counts what was shed; raised once",
        "raise `--memory`, or narrow the capture (`-f`); the `memory.connection-shed` and `memory.buffer-shed` findings say what each connection lost";
    MEMORY_CONNECTION_SHED = "memory.connection-shed", Memory, Warning,
        "a connection was closed early to stay within `--memory` and reported with `close: evicted`; what came after it on those ports is a new connection; the first 100 are reported one by one, then counted in `capture.memory`",
        "raise `--memory`";
    MEMORY_BUFFER_SHED = "memory.buffer-shed", Memory, Warning,
        "part of a connection's state was given up to stay within `--memory`: a body decoder (the body's `decoding` is `shed`), out-of-order bytes (given up as a gap), a WebSocket inflater (later compressed messages are counted, not inflated); the message says which and how many bytes; the first 100 are reported one by one, then counted in `capture.memory`",
        "raise `--memory`";

    HTTP_CL_AND_TE = "http.cl-and-te", Http, Error,
        "a message has both `Content-Length` and `Transfer-Encoding` (RFC 9112 §6.3); hopscope follows Transfer-Encoding",
        "the classic request-smuggling setup: a front end and a back end that pick different headers see different requests. Send one; make servers reject such requests";
    HTTP_CONTENT_LENGTH_CONFLICT = "http.content-length-conflict", Http, Error,
        "`Content-Length` values differ (list or repeated field); the message names the values; hopscope uses the first",
        "unrecoverable per RFC 9110 §8.6; fix the sender, reject at the server";
    HTTP_CONTENT_LENGTH_REPEATED = "http.content-length-repeated", Http, Warning,
        "`Content-Length` sent more than once with the same value (the field repeated, or a list such as `5, 5`); hopscope uses the value",
        "RFC 9110 §8.6 lets a recipient either reject the message or collapse the values, and servers disagree (some answer 400, others accept): a proxy and its upstream that differ here is what request smuggling is made of. Send one field with one value";
    HTTP_CONTENT_LENGTH_INVALID = "http.content-length-invalid", Http, Error,
        "`Content-Length` is not a non-negative decimal number (e.g. `-1`)",
        "the length is unknown: requests are read as bodiless, responses as read-until-close";
    HTTP_TE_NOT_CHUNKED = "http.te-not-chunked", Http, Error,
        "`Transfer-Encoding` whose last coding is not `chunked`",
        "requests: RFC says 400 and close; lenient servers read it as chunked (hopscope too, when chunked appears). Responses: read until close";
    HTTP_TE_IN_HTTP10 = "http.te-in-http10", Http, Warning,
        "`Transfer-Encoding` in an HTTP/1.0 message",
        "1.0 recipients do not know chunked and read the framing as body";
    HTTP_TE_CHUNKED_TWICE = "http.te-chunked-twice", Http, Warning,
        "`chunked` applied more than once",
        "a sender must not (RFC 9112 §7)";
    HTTP_OBS_FOLD = "http.obs-fold", Http, Error,
        "a field continued on the next line (obs-fold); the value is joined with one space",
        "deprecated (RFC 9112 §5.2); parsers differ on folded values — a smuggling vector on `Transfer-Encoding`";
    HTTP_SPACE_BEFORE_COLON = "http.space-before-colon", Http, Error,
        "whitespace between a field name and the colon",
        "a server must reject it (RFC 9112 §5.1); the classic `Transfer-Encoding :` smuggling trick";
    HTTP_BARE_LF = "http.bare-lf", Http, Warning,
        "lines ended by LF alone",
        "accepted by most parsers, rejected by strict ones (RFC 9112 §2.2)";
    HTTP_LENIENT_PARSE = "http.lenient-parse", Http, Warning,
        "`httparse` rejected the head; hopscope read it with its lenient parser (the other findings name the deviation)",
        "the message was not valid HTTP/1.1; strict servers answer 400";
    HTTP_INVALID_FIELD_NAME = "http.invalid-field-name", Http, Warning,
        "a field name with non-token characters",
        "RFC 9110 §5.1";
    HTTP_INVALID_FIELD_VALUE = "http.invalid-field-value", Http, Warning,
        "control bytes in a field value",
        "RFC 9110 §5.5: reject or replace with SP";
    HTTP_MALFORMED_FIELD = "http.malformed-field", Http, Warning,
        "a field line without a colon (ignored)",
        "usually a client bug or a line from a folded header";
    HTTP_MALFORMED_START_LINE = "http.malformed-start-line", Http, Warning,
        "a request or status line with missing or extra parts, a malformed version, or an HTTP/0.9 line with a method other than GET",
        "parts are kept as sent";
    HTTP_CONTROL_IN_START_LINE = "http.control-in-start-line", Http, Warning,
        "control bytes (an escape sequence, BEL) in a request target or a reason phrase; the line is read leniently, kept as sent (escaped wherever it is shown) and the exchange paired",
        "RFC 9112 §3.2 and §4 allow none: what an attacker sends to poison a log or a terminal that prints it raw. Servers should answer 400; never print such fields unescaped";
    HTTP_SPACE_BEFORE_FIRST_FIELD = "http.space-before-first-field", Http, Warning,
        "whitespace before the first field line",
        "RFC 9112 §2.2: reject or ignore the line";
    HTTP_INVALID_STATUS = "http.invalid-status", Http, Warning,
        "a status code that is not three digits (e.g. `2XX`); recorded as 0 with `status_raw`",
        "fix the server";
    HTTP_MISSING_HOST = "http.missing-host", Http, Warning,
        "an HTTP/1.1 request without `Host`",
        "servers must answer 400 (RFC 9112 §3.2)";
    HTTP_DUPLICATE_HOST = "http.duplicate-host", Http, Error,
        "more than one `Host` field",
        "front and back ends may route differently; servers must answer 400";
    HTTP_CONTENT_LENGTH_FORBIDDEN = "http.content-length-forbidden", Http, Warning,
        "a non-zero `Content-Length` on a 1xx or 204 response",
        "a server must not send them (RFC 9110 §8.6, RFC 9112 §6.1); a client that believes them misreads the next response";
    HTTP_TE_FORBIDDEN = "http.te-forbidden", Http, Warning,
        "a `Transfer-Encoding` on a 1xx or 204 response",
        "a server must not send them (RFC 9110 §8.6, RFC 9112 §6.1); a client that believes them misreads the next response";
    HTTP_CONTENT_LENGTH_ZERO_FORBIDDEN = "http.content-length-zero-forbidden", Http, Info,
        "`Content-Length: 0` on a 1xx or 204 response",
        "forbidden by RFC 9110 §8.6 but harmless; common from frameworks that always send the length";
    HTTP_EXPECT_WITHOUT_BODY = "http.expect-without-body", Http, Warning,
        "`Expect: 100-continue` on a request without content",
        "RFC 9110 §10.1.1; servers and proxies may disagree on what follows (Zeek: `HTTP_content_length_0_and_expect_100_cont`)";
    HTTP_UPGRADE_WITHOUT_CONNECTION = "http.upgrade-without-connection", Http, Warning,
        "a request with `Upgrade` but no `upgrade` in `Connection`",
        "servers and proxies ignore such an Upgrade; send `Connection: upgrade`";
    HTTP_CONNECTION_UPGRADE_WITHOUT_UPGRADE = "http.connection-upgrade-without-upgrade", Http, Warning,
        "`Connection: upgrade` without an `Upgrade` field",
        "a proxy stripped `Upgrade` (hop-by-hop) without stripping `Connection`, or the sender forgot it";
    HTTP_UNSOLICITED_SWITCH = "http.unsolicited-switch", Http, Warning,
        "`101 Switching Protocols` to a request that did not ask",
        "a server must not switch unasked (RFC 9110 §15.2.2)";
    HTTP_CLEARTEXT_CREDENTIALS = "http.cleartext-credentials", Http, Error,
        "`Authorization` or `Proxy-Authorization` (Basic, Digest, Bearer, NTLM, Negotiate) over plain HTTP; once per client, header and scheme",
        "use TLS; the value is masked in every output unless `--reveal-secrets` is given";
    HTTP_BODY_TRUNCATED = "http.body-truncated", Http, Warning,
        "the connection ended before the body did (`Content-Length` not reached, no last chunk)",
        "the body's `state` is `incomplete`";
    HTTP_CHUNKED_ERROR = "http.chunked-error", Http, Error,
        "invalid chunked framing (bad size, 2⁶⁴ overflow, missing CRLF, bad trailer); the message names the byte",
        "the stream is scanned for the next message; a smuggling vector when parsers disagree";
    HTTP_HEAD_TOO_LARGE = "http.head-too-large", Http, Warning,
        "no end of a head within 64 KiB",
        "servers answer 431; the stream is scanned for the next message";
    HTTP_TOO_MANY_FIELDS = "http.too-many-fields", Http, Warning,
        "more than 256 fields; the rest are not recorded",
        "";
    HTTP_PIPELINE_LIMIT = "http.pipeline-limit", Http, Warning,
        "more than 256 requests waiting for responses on one connection: the oldest waiting are given up (reported without responses), and the responses that answer them are reported without requests, never paired with a later one; once per connection, when it ends, with the counts",
        "each transaction involved lists the code in its `findings`; `pipeline_limit_hits` in the summary counts the requests given up";
    HTTP_HOLD_LIMIT = "http.hold-limit", Http, Warning,
        "more than 256 KiB followed an Upgrade or CONNECT request before its answer",
        "the rest is not analysed";
    HTTP_DECODED_SIZE_LIMIT = "http.decoded-size-limit", Http, Warning,
        "a body decodes to more than `--max-decoded` bytes (16 MiB); decoding stopped there",
        "a decompression bomb or a very large body; wire lengths stay exact";
    HTTP_DECODING_ERROR = "http.decoding-error", Http, Warning,
        "`Content-Encoding` does not decode (corrupt gzip, deflate, br)",
        "the message names the layer and byte";
    HTTP_DECODING_TRUNCATED = "http.decoding-truncated", Http, Info,
        "a compressed body is complete on the wire but its stream has no end marker",
        "";
    HTTP_UNSUPPORTED_ENCODING = "http.unsupported-encoding", Http, Info,
        "a content coding hopscope does not decode (zstd, compress, …)",
        "lengths are of the encoded content";
    HTTP_RAW_DEFLATE = "http.raw-deflate", Http, Info,
        "`Content-Encoding: deflate` carrying raw DEFLATE without the zlib wrapper",
        "browsers accept it, strict clients fail (RFC 9110 §8.4.1.2)";
    HTTP_RESPONSE_WITHOUT_REQUEST = "http.response-without-request", Http, Info,
        "a response with no request left to pair it with, although the client's bytes were seen",
        "the server sent more responses than requests, or answered bytes that were not a request";
    HTTP_RESPONSE_WITHOUT_REQUEST_CAPTURED = "http.response-without-request-captured", Http, Info,
        "a response whose request is not in the capture (the capture started late, or a gap)",
        "";
    HTTP_NOT_HTTP = "http.not-http", Http, Warning,
        "bytes where a message should start that are not one (on a connection that is otherwise HTTP)",
        "the stream is scanned for the next start line";
    HTTP_GAP_IN_HEAD = "http.gap-in-head", Http, Info,
        "a capture gap inside a head: that message is lost",
        "";
    HTTP_INCOMPLETE_HEAD = "http.incomplete-head", Http, Info,
        "the connection ended inside a request head",
        "often the leftover of an ambiguous framing (smuggled bytes)";

    WS_UPGRADE_REFUSED = "ws.upgrade-refused", Ws, Warning,
        "a WebSocket upgrade answered with anything but 101; the message says what the status suggests (505: an HTTP/1.0 hop; 426/400: a proxy stripped `Upgrade`/`Connection`; 403: an Origin check) and names the proxy from `Server`",
        r#"make every proxy forward the upgrade (nginx: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";`)"#;
    WS_ACCEPT_MISMATCH = "ws.accept-mismatch", Ws, Error,
        "`Sec-WebSocket-Accept` is not SHA-1(key + GUID) (RFC 6455 §4.2.2)",
        "a client must fail the connection; a proxy rewrote the key, or a broken server";
    WS_MISSING_KEY = "ws.missing-key", Ws, Warning,
        "the upgrade request has no `Sec-WebSocket-Key`",
        "RFC 6455 §4.1";
    WS_MISSING_ACCEPT = "ws.missing-accept", Ws, Error,
        "the 101 has no `Sec-WebSocket-Accept`",
        "a client must fail the connection";
    WS_BAD_VERSION = "ws.bad-version", Ws, Warning,
        "`Sec-WebSocket-Version` other than 13",
        "";
    WS_SUBPROTOCOL_NOT_OFFERED = "ws.subprotocol-not-offered", Ws, Error,
        "the server chose a subprotocol the client did not offer",
        "RFC 6455 §4.2.2";
    WS_EXTENSION_NOT_OFFERED = "ws.extension-not-offered", Ws, Error,
        "the server accepted an extension the client did not offer",
        "RFC 6455 §9.1";
    WS_UNMASKED_CLIENT_FRAME = "ws.unmasked-client-frame", Ws, Error,
        "a client frame without a mask (RFC 6455 §5.3)",
        "servers must close such connections";
    WS_MASKED_SERVER_FRAME = "ws.masked-server-frame", Ws, Error,
        "a masked server frame (RFC 6455 §5.1)",
        "";
    WS_RSV_WITHOUT_EXTENSION = "ws.rsv-without-extension", Ws, Error,
        "RSV1 without permessage-deflate (or on a continuation or control frame), or RSV2/RSV3",
        "often a proxy that dropped `Sec-WebSocket-Extensions` but not the compression";
    WS_RESERVED_OPCODE = "ws.reserved-opcode", Ws, Error,
        "opcode 3–7 or 11–15",
        "the receiver must fail the connection";
    WS_CONTROL_TOO_LONG = "ws.control-too-long", Ws, Error,
        "a ping, pong or close with more than 125 bytes (RFC 6455 §5.5)",
        "";
    WS_CONTROL_FRAGMENTED = "ws.control-fragmented", Ws, Error,
        "a control frame without FIN",
        "";
    WS_CONTINUATION_WITHOUT_START = "ws.continuation-without-start", Ws, Error,
        "a continuation frame with no message in progress (RFC 6455 §5.4)",
        "its bytes are reported as a partial message";
    WS_DATA_INSIDE_FRAGMENTED = "ws.data-inside-fragmented", Ws, Error,
        "a new text/binary frame before the fragmented message ended",
        "the unfinished message is reported partial";
    WS_INVALID_UTF8 = "ws.invalid-utf8", Ws, Warning,
        "a text message (or close reason) that is not UTF-8 (RFC 6455 §8.1: close with 1007)",
        "";
    WS_INVALID_CLOSE_CODE = "ws.invalid-close-code", Ws, Error,
        "a close code that may not be sent: 1005, 1006, 1015, below 1000, 1016–2999, 5000+ (RFC 6455 §7.4)",
        "";
    WS_CLOSE_PAYLOAD_ONE_BYTE = "ws.close-payload-one-byte", Ws, Error,
        "a close frame with a 1-byte payload",
        "";
    WS_NON_MINIMAL_LENGTH = "ws.non-minimal-length", Ws, Warning,
        "a payload length in a longer encoding than needed (RFC 6455 §5.2)",
        "";
    WS_INVALID_LENGTH = "ws.invalid-length", Ws, Error,
        "a 64-bit length with its top bit set",
        "";
    WS_FRAME_AFTER_CLOSE = "ws.frame-after-close", Ws, Warning,
        "a frame sent after the sender's own close frame",
        "";
    WS_UNCLEAN_CLOSE = "ws.unclean-close", Ws, Info,
        "the connection ended without both close frames (the application sees 1006)",
        "";
    WS_UNSOLICITED_PONG = "ws.unsolicited-pong", Ws, Info,
        "a pong that answers no ping (a heartbeat; allowed)",
        "";
    WS_INFLATE_ERROR = "ws.inflate-error", Ws, Warning,
        "a permessage-deflate message does not inflate",
        "wrong context-takeover handling or a broken compressor";
    WS_INFLATE_LIMIT = "ws.inflate-limit", Ws, Warning,
        "a compressed message inflates past `--max-decoded`; decoding stopped",
        "a possible decompression bomb";
    WS_GAP = "ws.gap", Ws, Info,
        "a capture gap outside a frame payload: the rest of that direction is not decoded",
        "";
    WS_MIDSTREAM = "ws.midstream", Ws, Info,
        "a WebSocket recognised by its frames (handshake not captured); compression unknown",
        "";

    PROXY_UPGRADE_DROPPED = "proxy.upgrade-dropped", Proxy, Error,
        "the client asked to upgrade (WebSocket, h2c, ...) but the proxy's upstream request has no `Upgrade`, no `upgrade` in `Connection`, or is HTTP/1.0; the upstream could not switch",
        "the message gives the fix for the proxy it recognised by `Server`/`Via` (nginx, Apache httpd, HAProxy, Envoy, Traefik, tinyproxy; a generic one when unknown)";
    PROXY_UPGRADE_NOT_RELAYED = "proxy.upgrade-not-relayed", Proxy, Error,
        "the upstream answered 101 but the client got something else",
        "the proxy must relay the switch (or it timed out: look at `timeout tunnel` / read timeouts)";
    PROXY_PROXY_AUTHORIZATION_FORWARDED = "proxy.proxy-authorization-forwarded", Proxy, Error,
        "`Proxy-Authorization` reached the upstream (RFC 9110 §11.7.2): the client's proxy credential leaked past the proxy",
        "strip it on the proxy";
    PROXY_HOP_BY_HOP_FORWARDED = "proxy.hop-by-hop-forwarded", Proxy, Warning,
        "a hop-by-hop field (`Keep-Alive`, `Proxy-Connection`, `Trailer`, or a field named in the client's `Connection`) was forwarded upstream (RFC 9110 §7.6.1)",
        "the message names the header and how to remove it";
    PROXY_TE_FORWARDED = "proxy.te-forwarded", Proxy, Warning,
        "`TE` forwarded without `TE` in the upstream `Connection` (RFC 9110 §10.1.4)",
        "";
    PROXY_END_TO_END_DROPPED = "proxy.end-to-end-dropped", Proxy, Warning,
        "an end-to-end field the client sent did not reach the upstream (`Expect` answered by the proxy itself is not counted)",
        "nginx drops names with underscores unless `underscores_in_headers on;`";
    PROXY_WEBSOCKET_NOT_RELAYED = "proxy.websocket-not-relayed", Proxy, Warning,
        "the WebSocket conversations on the two legs of an upgraded pair differ in message count or bytes",
        "a proxy that buffers, splits or drops messages, or a capture gap (look at `tcp.gap`)";
    PROXY_CONNECTION_FIELD_IN_HTTP2 = "proxy.connection-field-in-http2", Proxy, Error,
        "the proxy sent a connection-specific field (`Connection`, `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, `TE` other than `trailers`) in HTTP/2, translating from HTTP/1.x: the message is malformed (RFC 9113 §8.2.2) and the peer resets the stream (`PROTOCOL_ERROR`)",
        "the message names the fields, the reset and how to remove them on the proxy it recognised";
    PROXY_BODY_LENGTH_CHANGED = "proxy.body-length-changed", Proxy, Warning,
        "a request or response body has another length on each leg, both seen whole and compared after transfer decoding (chunks, HTTP/2 DATA) and, when the proxy changed `Content-Encoding`, after content decoding",
        "a body-rewriting filter, or a body cut short by a timeout or a closed connection; the message says where to look";
    PROXY_STATUS_CHANGED = "proxy.status-changed", Proxy, Info,
        "the proxy passed a different status to the client than the upstream gave it, or answered by itself when the upstream gave none (no response, a reset HTTP/2 stream)",
        "an error page or a rewrite rule; the message names the directive for the proxy it recognised (nginx `proxy_intercept_errors` and `error_page`, Apache httpd `ProxyErrorOverride`, HAProxy, Envoy)";
    PROXY_ANSWERED_ITSELF = "proxy.answered-itself", Proxy, Info,
        "a request to a proxy whose upstream side the capture shows made no upstream request",
        "a cache hit, an error page, an access rule, a redirect";
    PROXY_SINGLE_LEG_HINT = "proxy.single-leg-hint", Proxy, Info,
        "a refused upgrade answered by a known proxy product, with no upstream leg in the capture (once per proxy address)",
        "capture both sides of the proxy to confirm; the likely fix is in the message";
    PROXY_CORRELATION_LIMIT = "proxy.correlation-limit", Proxy, Info,
        "the correlator hit one of its bounds (4096 candidate transactions or 16 MiB, 10 000 unpaired proxy requests, 10 000 upgraded hops awaiting their conversations, 4096 candidate pairs across captures by weaker evidence); the message has the counts",
        "hops may be missing from the report";

    TLS_MALFORMED_HELLO = "tls.malformed-hello", Tls, Warning,
        "a ClientHello or ServerHello that does not parse (the message says what and where)",
        "";
    TLS_HELLO_TOO_LARGE = "tls.hello-too-large", Tls, Warning,
        "a hello claiming more than 64 KiB; not read",
        "";
    TLS_SSLV2_HELLO = "tls.sslv2-hello", Tls, Warning,
        "an SSLv2-compatible ClientHello",
        "an obsolete client";
    TLS_NOT_TLS = "tls.not-tls", Tls, Info,
        "a stream recognised as TLS whose first record is not a handshake",
        "";
    TLS_BAD_RECORD_HEADER = "tls.bad-record-header", Tls, Info,
        "an invalid TLS record header; record counting stops",
        "";
    TLS_GAP_LOST_RECORD_WALK = "tls.gap-lost-record-walk", Tls, Info,
        "a capture gap over a record header; record counting stops",
        "";
    TLS_GAP_IN_HELLO = "tls.gap-in-hello", Tls, Info,
        "a capture gap before the hello was complete: it is lost",
        "";
    TLS_HELLO_INTERRUPTED = "tls.hello-interrupted", Tls, Info,
        "another record type arrived before the hello was complete",
        "";
    TLS_UNEXPECTED_HANDSHAKE = "tls.unexpected-handshake", Tls, Info,
        "the first handshake message is not a hello",
        "";
    TLS_LIST_TRUNCATED = "tls.list-truncated", Tls, Info,
        "more SNI/ALPN/extension entries than hopscope keeps (64)",
        "";
    TLS_NO_KEYS = "tls.no-keys", Tls, Info,
        "a TLS connection whose ClientHello random is in no key log given (the message has the random, to grep the key log); its application data is not analysed",
        "give the key log the client wrote (`--tls-keylog FILE`, or `SSLKEYLOGFILE` set when the client ran; see docs/tls.md); a key log from another run of the client has other randoms";
    TLS_DECRYPT_FAILED = "tls.decrypt-failed", Tls, Warning,
        "keys were found for the connection but a record did not authenticate (the message has the record's offset); decryption of that direction stops there, what came before stays",
        "the key log belongs to another capture or client run, or the capture is corrupt at that offset";
    TLS_CIPHER_UNSUPPORTED = "tls.cipher-unsupported", Tls, Info,
        "the connection negotiated a cipher suite hopscope does not decrypt (named in the message: RC4, 3DES, DES, export, Camellia, SEED, IDEA, ARIA and other legacy suites, or an unknown suite)",
        "tshark decrypts some legacy suites; a server still offering them should stop";
    TLS_VERSION_UNSUPPORTED = "tls.version-unsupported", Tls, Info,
        "the connection negotiated a protocol version hopscope does not decrypt (SSL 3.0, a TLS 1.3 draft); the message names it",
        "SSL 3.0 is broken (RFC 7568): the server should stop offering it";
    TLS_ALERT = "tls.alert", Tls, Warning,
        "a fatal TLS alert, in the clear or decrypted (the message names it: handshake_failure, protocol_version, bad_certificate, unknown_ca, ...); close_notify and user_canceled are normal ends and not reported",
        "the alert names the cause: a version or cipher the peers do not share, a certificate the client does not trust, a missing SNI or ALPN match";
    TLS_HANDSHAKE_MISSING = "tls.handshake-missing", Tls, Info,
        "TLS records whose handshake was not captured (the ClientHello or ServerHello is missing), so the keys cannot be found or the cipher is unknown; the records are counted, not decrypted",
        "capture from before the connection starts";
    TLS_GAP_ENDS_DECRYPTION = "tls.gap-ends-decryption", Tls, Warning,
        "bytes of a decrypted direction were not captured: TLS records cannot be found again after a gap, so decryption of that direction stops there (what came before stays)",
        "capture without loss (`tcpdump -B`, `-s 0`)";
    TLS_KEYLOG_MALFORMED = "tls.keylog-malformed", Tls, Warning,
        "a line of a key log (a file, `SSLKEYLOGFILE` or a pcapng secrets block) that is not `LABEL CLIENT_RANDOM SECRET` in hex; the message names the source and line; it is skipped (the first 20 of a source one by one, then a count)",
        "check that the file is an NSS key log (what `SSLKEYLOGFILE` makes), not a PEM key or a session file";
    TLS_KEYLOG_UNUSED = "tls.keylog-unused", Tls, Info,
        "key logs were given, but no TLS connection of the capture has a client random they hold (said once, at the end)",
        "the key log is from another capture or another run of the client";
    TLS_KEYLOG_UNREADABLE = "tls.keylog-unreadable", Tls, Warning,
        "a key log file could not be read (the message says why); the analysis goes on without it",
        "check the path and permissions";

    SOCKS_CLEARTEXT_CREDENTIALS = "socks.cleartext-credentials", Socks, Error,
        "SOCKS5 username/password authentication (RFC 1929): the password crosses the network in cleartext (masked in every output unless `--reveal-secrets` is given)",
        "use a tunnel that encrypts (SSH, TLS)";
    SOCKS_REFUSED = "socks.refused", Socks, Warning,
        "the proxy refused the request (the reply says why)",
        "";
    SOCKS_AUTH_FAILED = "socks.auth-failed", Socks, Warning,
        "the username/password was rejected",
        "";
    SOCKS_NO_ACCEPTABLE_METHOD = "socks.no-acceptable-method", Socks, Warning,
        "the proxy accepted none of the offered methods",
        "";
    SOCKS_BAD_VERSION = "socks.bad-version", Socks, Warning,
        "a message with the wrong version byte",
        "";
    SOCKS_HELD_BYTES_DROPPED = "socks.held-bytes-dropped", Socks, Warning,
        "the client sent more than 64 KiB before the reply; the excess is not analysed",
        "";
    SOCKS_NOT_SOCKS = "socks.not-socks", Socks, Info,
        "the first client byte of a connection followed as SOCKS is neither 4 nor 5; the connection is not followed as SOCKS",
        "";
    SOCKS_NO_METHODS = "socks.no-methods", Socks, Info,
        "a SOCKS5 greeting that offers no authentication method (NMETHODS = 0; RFC 1928 §3 requires one)",
        "";
    SOCKS_METHOD_NOT_OFFERED = "socks.method-not-offered", Socks, Info,
        "the proxy chose an authentication method the client did not offer (RFC 1928 §3)",
        "";
    SOCKS_UNSUPPORTED_METHOD = "socks.unsupported-method", Socks, Info,
        "an authentication method whose sub-negotiation hopscope does not follow (GSSAPI, private methods); the handshake is followed no further",
        "";
    SOCKS_EMPTY_FIELD = "socks.empty-field", Socks, Info,
        "an empty field that must have at least one byte: an RFC 1929 username or password, a domain name, a SOCKS4a host name",
        "";
    SOCKS_UNKNOWN_COMMAND = "socks.unknown-command", Socks, Info,
        "a command other than CONNECT, BIND or UDP ASSOCIATE (SOCKS4: CONNECT or BIND)",
        "";
    SOCKS_NONZERO_RESERVED = "socks.nonzero-reserved", Socks, Info,
        "a reserved byte (RSV) that is not 0 (RFC 1928 §4, §6)",
        "";
    SOCKS_UNKNOWN_ADDRESS_TYPE = "socks.unknown-address-type", Socks, Info,
        "an address type other than IPv4, domain name or IPv6 (RFC 1928 §5): the length of the message is unknown and the handshake is followed no further",
        "";
    SOCKS_MESSAGE_TOO_LONG = "socks.message-too-long", Socks, Info,
        "a handshake message longer than 1 KiB (a SOCKS4 user id or host name without its terminating NUL); the handshake is followed no further",
        "";
    SOCKS_EARLY_PAYLOAD = "socks.early-payload", Socks, Info,
        "bytes sent before the handshake let them through (a client that sends data before the reply, which RFC 1928 §6 has it wait for); they are analysed as tunnel payload",
        "";
    SOCKS_HELD_DISCARDED = "socks.held-discarded", Socks, Info,
        "bytes sent during a handshake that established no tunnel, after the last message that could be parsed; they are not analysed",
        "";
    SOCKS_GAP = "socks.gap", Socks, Info,
        "a capture gap inside the handshake: it is followed no further",
        "";

    H2_BAD_PREFACE = "h2.bad-preface", H2, Warning,
        r#"the client's bytes are not the connection preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4), e.g. an h2c client that sent something else after the 101; the message names the first wrong byte and that direction is no longer parsed"#,
        "a client that switched without speaking HTTP/2, or a request body before the preface";
    H2_FIRST_FRAME_NOT_SETTINGS = "h2.first-frame-not-settings", H2, Warning,
        "the first frame after the preface (or the server's first frame) is not SETTINGS (RFC 9113 §3.4)",
        "the peer must treat it as a connection error (PROTOCOL_ERROR)";
    H2_FRAME_TOO_LARGE = "h2.frame-too-large", H2, Warning,
        "a frame longer than the receiver's SETTINGS_MAX_FRAME_SIZE (16 384 until its SETTINGS says otherwise; RFC 9113 §4.2)",
        "FRAME_SIZE_ERROR at the receiver; fix the sender, or raise the receiver's setting";
    H2_STREAM_ID_RULE = "h2.stream-id-rule", H2, Warning,
        "a frame type that needs a stream sent on stream 0 (DATA, HEADERS, PRIORITY, RST_STREAM, PUSH_PROMISE, CONTINUATION), or one that belongs on stream 0 sent on a stream (SETTINGS, PING, GOAWAY) (RFC 9113 §6)",
        "a PROTOCOL_ERROR at the receiver";
    H2_STREAM_ID_PARITY = "h2.stream-id-parity", H2, Warning,
        "a client opened an even-numbered stream, or a server an odd one (RFC 9113 §5.1.1)",
        "";
    H2_BAD_FRAME_LENGTH = "h2.bad-frame-length", H2, Warning,
        "a payload length the frame type cannot have: PRIORITY ≠ 5, RST_STREAM or WINDOW_UPDATE ≠ 4, PING ≠ 8, SETTINGS not a multiple of 6 (or an ACK with a payload), GOAWAY < 8, PUSH_PROMISE < 4, a HEADERS too short for its fields (RFC 9113 §6)",
        "FRAME_SIZE_ERROR at the receiver";
    H2_BAD_PADDING = "h2.bad-padding", H2, Warning,
        "a pad length that does not fit in the frame's payload (RFC 9113 §6.1)",
        "PROTOCOL_ERROR at the receiver";
    H2_BAD_SETTING_VALUE = "h2.bad-setting-value", H2, Warning,
        "a SETTINGS value out of range: ENABLE_PUSH, ENABLE_CONNECT_PROTOCOL or NO_RFC7540_PRIORITIES above 1, INITIAL_WINDOW_SIZE above 2³¹−1, MAX_FRAME_SIZE outside 16 384..16 777 215 (RFC 9113 §6.5.2)",
        "";
    H2_WINDOW_UPDATE_ZERO = "h2.window-update-zero", H2, Warning,
        "a WINDOW_UPDATE with increment 0 (RFC 9113 §6.9)",
        "PROTOCOL_ERROR (stream 0: connection error) at the receiver";
    H2_PUSH_PROMISE_FROM_CLIENT = "h2.push-promise-from-client", H2, Warning,
        "a PUSH_PROMISE sent by the client (RFC 9113 §8.4)",
        "only servers push";
    H2_CONNECT_PROTOCOL_NOT_ENABLED = "h2.connect-protocol-not-enabled", H2, Warning,
        "an extended CONNECT (a request with `:protocol`, e.g. a WebSocket over HTTP/2) on a connection whose server's SETTINGS did not carry SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; a client must not send one then (RFC 8441 §3, §4), and a server that does not know it treats the request as malformed",
        "enable RFC 8441 on the server (Apache httpd mod_http2: `H2WebSockets on`; hyper: `enable_connect_protocol()`; Envoy: `allow_connect`) or have the client open the WebSocket with an HTTP/1.1 upgrade; nginx does not speak RFC 8441, so a WebSocket to it is an HTTP/1.1 upgrade on a connection of its own";
    H2_PROTOCOL_WITHOUT_CONNECT = "h2.protocol-without-connect", H2, Warning,
        "a request with the `:protocol` pseudo-header whose `:method` is not CONNECT (RFC 8441 §4: only an extended CONNECT carries it); the request is malformed (RFC 9113 §8.1.1)",
        "the receiver resets the stream (PROTOCOL_ERROR); the client must send `:method: CONNECT`";
    H2_EXTENDED_CONNECT_MALFORMED = "h2.extended-connect-malformed", H2, Warning,
        "an extended CONNECT (`:protocol`) without `:scheme`, `:path` or `:authority`, which RFC 8441 §4 requires (unlike a plain CONNECT, RFC 9113 §8.5)",
        "the receiver treats the request as malformed and resets the stream; the client must send all three";
    H2_EXTENDED_CONNECT_REFUSED = "h2.extended-connect-refused", H2, Warning,
        "an extended CONNECT (RFC 8441) answered with a final status other than 2xx, or reset before any answer: the WebSocket (or other `:protocol`) did not open; the message says what the status suggests (400, 405, 501: the server or the application behind it does not take a CONNECT for it; 403: an Origin check; 404: the path)",
        "a server that advertises SETTINGS_ENABLE_CONNECT_PROTOCOL must route the CONNECT to a WebSocket endpoint (an application that only accepts `GET` with `Upgrade` answers 405): fix the route, or turn RFC 8441 off so clients use HTTP/1.1";
    H2_WEBSOCKET_LIMIT = "h2.websocket-limit", H2, Info,
        "more than 64 WebSockets open at once on one HTTP/2 connection; the streams of further ones are transactions, their frames are not analysed",
        "";
    H2_CONTINUATION_EXPECTED = "h2.continuation-expected", H2, Warning,
        "a header block awaited CONTINUATION and another frame came (RFC 9113 §6.10); header decoding stops in that direction",
        "";
    H2_UNEXPECTED_CONTINUATION = "h2.unexpected-continuation", H2, Warning,
        "a CONTINUATION with no open header block on its stream (RFC 9113 §6.10)",
        "";
    H2_STREAM_ID_REUSE = "h2.stream-id-reuse", H2, Warning,
        "a HEADERS (or a PUSH_PROMISE's promised id) opening a stream whose id is not above every id that side opened before: a reused or lower stream id (RFC 9113 §5.1.1)",
        "PROTOCOL_ERROR at the receiver; a client or server that recycles stream ids, or a capture that mixes two connections";
    H2_FRAME_AFTER_END_STREAM = "h2.frame-after-end-stream", H2, Warning,
        "HEADERS or DATA from a side that had already ended the stream with END_STREAM (RFC 9113 §5.1: the stream is half-closed for it); frames after an RST_STREAM are not counted, they may have been in flight",
        "STREAM_CLOSED at the receiver; the sender lost track of the stream's state";
    H2_GOAWAY_ERROR = "h2.goaway-error", H2, Warning,
        "a GOAWAY whose error code is not NO_ERROR (RFC 9113 §6.8, §7): the connection ended on an error the message names (PROTOCOL_ERROR, FLOW_CONTROL_ERROR, COMPRESSION_ERROR, ENHANCE_YOUR_CALM, ...); a GOAWAY with NO_ERROR is a graceful close and is not reported",
        "look at the frames just before it from the other side: the error code says which rule the sender saw broken";
    H2_RESET_ERROR = "h2.reset-error", H2, Warning,
        "an RST_STREAM whose error code says the stream failed (PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, FRAME_SIZE_ERROR, COMPRESSION_ERROR, ...; RFC 9113 §6.4, §7); NO_ERROR, CANCEL (a client giving up) and REFUSED_STREAM (safe to retry) are not reported, nor a reset of a stream both sides had already ended with END_STREAM, which changes nothing (curl sends STREAM_CLOSED after a response it read whole)",
        "the error code names the rule the sender saw broken on that stream";
    H2_HPACK_ERROR = "h2.hpack-error", H2, Warning,
        "the peer's HPACK encoder broke RFC 7541; the message names the kind: `index-out-of-range` (§2.3.3), `huffman-eos` or `huffman-padding` (§5.2), `integer-too-long`, `truncated` (the block ends inside a field), which stop header decoding in that direction; `size-update-not-at-start` (a dynamic table size update after a field, §4.2) or `size-update-above-setting` (above every SETTINGS_HEADER_TABLE_SIZE the decoder announced, §4.2, §6.3), after which decoding goes on",
        "COMPRESSION_ERROR at the receiver: a connection error; fix the encoder";
    H2_UPPERCASE_FIELD_NAME = "h2.uppercase-field-name", H2, Warning,
        "a field name with uppercase letters (RFC 9113 §8.2.1: names are lowercase in HTTP/2)",
        "the message is malformed: the receiver treats it as a stream error (PROTOCOL_ERROR); lowercase the names (a proxy translating from HTTP/1.1 must)";
    H2_PSEUDO_HEADER_AFTER_FIELD = "h2.pseudo-header-after-field", H2, Warning,
        "a pseudo-header field (`:method`, `:status`, ...) after a regular field in the same header block (RFC 9113 §8.3: pseudo-headers come first)",
        "the message is malformed (PROTOCOL_ERROR on the stream)";
    H2_PSEUDO_HEADER_REPEATED = "h2.pseudo-header-repeated", H2, Warning,
        "the same pseudo-header field twice in one header block (RFC 9113 §8.3.1, §8.3.2)",
        "the message is malformed (PROTOCOL_ERROR on the stream)";
    H2_PSEUDO_HEADER_MISSING = "h2.pseudo-header-missing", H2, Warning,
        "a request without `:method`, `:scheme` or `:path` (a CONNECT without `:protocol` needs only `:method` and `:authority`), or a response without `:status` (RFC 9113 §8.3.1, §8.3.2, §8.5)",
        "the message is malformed (PROTOCOL_ERROR on the stream)";
    H2_PSEUDO_HEADER_UNKNOWN = "h2.pseudo-header-unknown", H2, Warning,
        "a pseudo-header field that is not defined for this message: an unknown one, or one of the other kind (`:status` in a request, `:method` in a response) (RFC 9113 §8.3)",
        "the message is malformed (PROTOCOL_ERROR on the stream)";
    H2_PSEUDO_HEADER_IN_TRAILERS = "h2.pseudo-header-in-trailers", H2, Warning,
        "a pseudo-header field in a trailer block (RFC 9113 §8.1: trailers carry no pseudo-headers)",
        "the message is malformed (PROTOCOL_ERROR on the stream)";
    H2_CONNECTION_SPECIFIC_FIELD = "h2.connection-specific-field", H2, Warning,
        "a connection-specific field in an HTTP/2 message: `Connection`, `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, or `TE` with anything but `trailers` (RFC 9113 §8.2.2); the field is classified `forbidden-in-http2`",
        "the message is malformed (PROTOCOL_ERROR on the stream); a proxy translating from HTTP/1.1 must drop these fields";
    H2_CONTENT_LENGTH_MISMATCH = "h2.content-length-mismatch", H2, Warning,
        "a `Content-Length` that is not the number of DATA payload bytes the message carried before END_STREAM (RFC 9113 §8.1.1); not checked for a response to HEAD, a 204 or a 304, nor when bytes were lost",
        "the message is malformed (PROTOCOL_ERROR on the stream); clients may see a truncated or padded body";
    H2_UNKNOWN_FRAME_TYPE = "h2.unknown-frame-type", H2, Info,
        "an extension frame type; ignored, as RFC 9113 §4.1 and §5.5 require, and counted as `unknown`",
        "";
    H2_TOO_MANY_SETTINGS = "h2.too-many-settings", H2, Info,
        "a SETTINGS frame with more than 64 entries; only the first 64 are kept",
        "";
    H2_HPACK_STOPPED = "h2.hpack-stopped", H2, Info,
        "header decoding (HPACK, RFC 7541) stopped in one direction for a reason of hopscope's: a header block over 64 KiB, a dynamic table over 64 KiB, bytes lost inside a header block, or a block cut short; every later block depends on the lost state, so `method`, `path` and `status` stay unknown from there, while frames are still counted",
        "";
    H2_TOO_MANY_STREAMS = "h2.too-many-streams", H2, Info,
        "more than 1 000 streams on one connection; frames on further streams are counted in `untracked_stream_frames`",
        "";
    H2_OPEN_STREAM_LIMIT = "h2.open-stream-limit", H2, Info,
        "more than 256 streams open at once on one connection; further streams are framed and counted but not reported as transactions until fewer are open",
        "";
    H2_FLOW_CONTROL_STALL = "h2.flow-control-stall", H2, Info,
        "a DATA frame used a send window up (the stream's or the connection's) while the stream was not done, so the sender had to wait for the peer's WINDOW_UPDATE (RFC 9113 §5.2, §6.9); raised at a direction's first stream stall and first connection stall, every stall counted in `http2[].flow` and `http2[].streams[].flow`. Observable definition: the window reached 0 or below after a DATA frame without END_STREAM (for the connection window: while some stream of that direction was open); a sender that stops short of a non-zero window is not seen",
        "when transfers stall, the receiver should raise SETTINGS_INITIAL_WINDOW_SIZE (streams) or send a larger connection WINDOW_UPDATE early, rather than returning the window only once it is used up";
    H2_FLOW_CONTROL_VIOLATION = "h2.flow-control-violation", H2, Warning,
        "a DATA frame longer than the send window left on its stream or on the connection (RFC 9113 §6.9.1; a lowered SETTINGS_INITIAL_WINDOW_SIZE counts only once the sender has acknowledged it)",
        "FLOW_CONTROL_ERROR at the receiver; the sender ignores the peer's window";
    H2_WINDOW_OVERFLOW = "h2.window-overflow", H2, Warning,
        "a WINDOW_UPDATE or a SETTINGS_INITIAL_WINDOW_SIZE change took a flow-control window above 2³¹−1 (RFC 9113 §6.9.1, §6.9.2)",
        "FLOW_CONTROL_ERROR at the receiver (a stream or the connection); the peer returned more window than it was given";
    H2_GAP = "h2.gap", H2, Info,
        "bytes of one direction were never captured; inside a frame payload of known length framing goes on, anywhere else that direction is no longer parsed",
        "capture closer to the endpoints, or with a larger buffer";
    H2_TRUNCATED = "h2.truncated", H2, Info,
        "the stream ended inside the preface, a frame header, a frame payload or a header block; the message says how many bytes were missing",
        "the capture stopped, or the connection was cut";

    CACHE_BODY_ON_304 = "cache.body-on-304", Cache, Warning,
        "bytes that are not a response follow a `304 Not Modified` (RFC 9110 §15.4.5: a 304 has no content)",
        "the server (or a proxy) sends a body on 304; clients and caches take it for the next response";
    CACHE_BODY_ON_HEAD = "cache.body-on-head", Cache, Warning,
        "bytes that are not a response follow the answer to a `HEAD` (RFC 9110 §9.3.2)",
        "the server sends the body on HEAD; send headers only";
    CACHE_CONFLICTING_DIRECTIVES = "cache.conflicting-directives", Cache, Warning,
        "`Cache-Control` with `no-store` and `max-age`/`s-maxage`/`public`, `public` with `private`, or one of `max-age`/`s-maxage` twice with different values",
        "caches take the most restrictive reading (RFC 9111 §5.2.2) and disagree on the rest; send one policy";
    CACHE_304_MISMATCH = "cache.304-mismatch", Cache, Warning,
        "a 304 whose `ETag` is none of `If-None-Match`, differs from the linked response's, or whose `Last-Modified` is after `If-Modified-Since`",
        "the client keeps a stale copy; fix how the server computes validators";
    CACHE_SET_COOKIE_STORABLE = "cache.set-cookie-storable", Cache, Warning,
        r#"a response with `Set-Cookie` that a shared cache may store with a non-zero freshness lifetime (no `private`, `no-cache`, `no-cache="Set-Cookie"`); once per host"#,
        r#"a CDN or proxy can hand one user's cookie to others (RFC 9111 §3, §7.3): add `Cache-Control: private` or `no-cache="Set-Cookie"`"#;
    CACHE_VALIDATOR_UNMATCHED = "cache.validator-unmatched", Cache, Info,
        "a conditional request whose `If-None-Match`/`If-Modified-Since` matches none of the earlier responses for that URL in the capture (raised only when the capture has some)",
        "the client revalidates a representation it got elsewhere; when nothing earlier is in the capture the request is linked to nothing without a finding";
    CACHE_VARY_STAR = "cache.vary-star", Cache, Info,
        "`Vary: *`",
        "no cache can reuse the response (RFC 9111 §4.1); list the request fields it varies on";
    CACHE_STATE_LIMIT = "cache.state-limit", Cache, Info,
        "the table of response validators (or of connections followed after a 304/HEAD) is full",
        "raise `SemanticsConfig::validators` / `once`";

    RANGE_LENGTH_MISMATCH = "range.length-mismatch", Range, Error,
        "a complete 206 body (or a multipart/byteranges part) whose length is not the one its `Content-Range` announces",
        "a client writing the bytes at the announced offset corrupts the file; fix the server";
    RANGE_CONTENT_RANGE_MISSING = "range.content-range-missing", Range, Error,
        "a single-part 206, or a multipart part, without a valid `Content-Range` (RFC 9110 §15.3.7.1, §14.6)",
        "the client cannot place the bytes";
    RANGE_NOT_REQUESTED = "range.not-requested", Range, Warning,
        "a 206 to a request without `Range`, or carrying bytes no requested range covers (coalescing allowed)",
        "the server mishandles ranges";
    RANGE_416_SATISFIABLE = "range.416-satisfiable", Range, Warning,
        "a 416 although the requested range overlaps the length the 416's `Content-Range: bytes */N` gives",
        "the server's length is wrong or its range handling is";
    RANGE_OBJECT_CHANGED = "range.object-changed", Range, Warning,
        "a piece of a resumed download whose `ETag` or complete length differs from the earlier pieces'",
        "pieces of two versions make a corrupt file; resume with `If-Range` (RFC 9110 §13.1.5)";
    RANGE_IGNORED = "range.ignored", Range, Info,
        "a 2xx with the whole representation to a `Range` request (an `If-Range` that no longer matches, `Accept-Ranges: none`, or no range support)",
        "why a download restarts from byte 0; the message says which";
    RANGE_STATE_LIMIT = "range.state-limit", Range, Info,
        "the table of resumed-download objects is full",
        "raise `SemanticsConfig::range_objects`";

    COOKIE_CLEARTEXT = "cookie.cleartext", Cookie, Warning,
        "a `Cookie` or `Set-Cookie` crossed plain HTTP; once per host",
        "cookies are readable and replayable on the path (RFC 6265bis §8.3, §8.6): use HTTPS and `Secure`; values are masked in every output unless `--reveal-secrets` is given";
    COOKIE_SESSION_WITHOUT_HTTPONLY = "cookie.session-without-httponly", Cookie, Warning,
        "a stored cookie whose name looks like a session or token (`sess`, `sid`, `auth`, `token`, `jwt`, `login`, `remember`; not `csrf`/`xsrf`) without `HttpOnly`",
        "any script on the page can steal it (RFC 6265bis §8.5): add `HttpOnly`";
    COOKIE_SAMESITE_NONE_WITHOUT_SECURE = "cookie.samesite-none-without-secure", Cookie, Warning,
        "`SameSite=None` without `Secure`",
        "browsers refuse the cookie: add `Secure`";
    COOKIE_HOST_PREFIX_WITH_DOMAIN = "cookie.host-prefix-with-domain", Cookie, Warning,
        "a `__Host-` cookie with a `Domain` attribute (RFC 6265bis §4.1.3.2)",
        "user agents refuse it: drop `Domain`";
    COOKIE_PREFIX_VIOLATION = "cookie.prefix-violation", Cookie, Warning,
        "a `__Secure-` cookie without `Secure`, or a `__Host-` cookie without `Secure` or `Path=/`",
        "user agents refuse it";
    COOKIE_REJECTED = "cookie.rejected", Cookie, Info,
        "any other cookie a user agent ignores: `Domain` not covering the host or a single-label suffix, `Secure` set over plain HTTP to a host that is not localhost, `Partitioned` without `Secure`, name and value over 4096 bytes",
        "the message says which rule (RFC 6265bis §5.7)";
    COOKIE_STATE_LIMIT = "cookie.state-limit", Cookie, Info,
        "the table of client jars, a jar's cookies, or the once-per-client reports is full",
        "raise `SemanticsConfig::cookie_jars` / `cookies_per_jar` / `once`";

    CORS_ORIGIN_NOT_ALLOWED = "cors.origin-not-allowed", Cors, Warning,
        "no `Access-Control-Allow-Origin`, a value other than the request's `Origin` (byte for byte), or several values",
        "allow the origin (and add `Vary: Origin`)";
    CORS_WILDCARD_WITH_CREDENTIALS = "cors.wildcard-with-credentials", Cors, Warning,
        "`Access-Control-Allow-Origin: *` on a credentialed request",
        "name the origin; `*` never works with credentials";
    CORS_CREDENTIALS_NOT_ALLOWED = "cors.credentials-not-allowed", Cors, Warning,
        "a credentialed request without `Access-Control-Allow-Credentials: true` (exactly), on the response or on its preflight",
        "send `Access-Control-Allow-Credentials: true`";
    CORS_METHOD_NOT_ALLOWED = "cors.method-not-allowed", Cors, Warning,
        "a preflight whose `Access-Control-Allow-Methods` lacks the requested non-safelisted method (`*` counts only without credentials)",
        "list the method";
    CORS_HEADER_NOT_ALLOWED = "cors.header-not-allowed", Cors, Warning,
        "a preflight whose `Access-Control-Allow-Headers` lacks a requested header (`*` never covers `Authorization`, nor anything with credentials)",
        "list the header";
    CORS_PREFLIGHT_NOT_OK = "cors.preflight-not-ok", Cors, Warning,
        "a preflight answered with a status outside 200–299",
        "answer OPTIONS with 204/200 before authentication or routing";
    CORS_MISSING_VARY_ORIGIN = "cors.missing-vary-origin", Cors, Warning,
        "a cacheable GET/HEAD response whose `Access-Control-Allow-Origin` names an origin, without `Vary: Origin`",
        "a cache hands it to another origin, whose fetch then fails: add `Vary: Origin`";
    CORS_WEBSOCKET_ANY_ORIGIN = "cors.websocket-any-origin", Cors, Info,
        "a WebSocket upgrade from a cross-origin `Origin` answered 101, and the capture never shows that server refusing an Origin",
        "browsers do not apply CORS to WebSockets: a server that authenticates by cookie must check `Origin` (RFC 6455 §10.2)";
    CORS_STATE_LIMIT = "cors.state-limit", Cors, Info,
        "the table of preflights waiting for their request, or of WebSocket servers, is full",
        "raise `SemanticsConfig::preflights` / `websocket_servers`";

    AUTH_MISSING_CHALLENGE = "auth.missing-challenge", Auth, Warning,
        "a 401 without `WWW-Authenticate`, or a 407 without `Proxy-Authenticate` (RFC 9110 §15.5.2, §15.5.8)",
        "send a challenge";
    AUTH_RETRY_REJECTED = "auth.retry-rejected", Auth, Warning,
        "credentials (answering a challenge or sent unasked) answered with 401/407 again, unless the new challenge says `stale=true`",
        "a wrong password or token, or a scheme the server does not take";
    AUTH_SCHEME_NOT_OFFERED = "auth.scheme-not-offered", Auth, Info,
        "the retry's scheme is none of the challenge's",
        "the server will not accept it";
    AUTH_BASIC_WITHOUT_REALM = "auth.basic-without-realm", Auth, Info,
        "a Basic challenge without `realm` (RFC 7617 §2 requires it)",
        "";
    AUTH_STATE_LIMIT = "auth.state-limit", Auth, Info,
        "the table of challenges waiting for a retry is full",
        "raise `SemanticsConfig::challenges`";

    REDIRECT_LOOP = "redirect.loop", Redirect, Warning,
        "a chain comes back to a URL it already visited (once per chain)",
        "clients give up (curl `--max-redirs`, browsers `ERR_TOO_MANY_REDIRECTS`); fix the redirect rules";
    REDIRECT_METHOD_CHANGED = "redirect.method-changed", Redirect, Warning,
        "a 307 or 308 followed with another method (RFC 9110 §15.4.8, §15.4.9)",
        "the client is wrong: 307/308 keep the method and content";
    REDIRECT_MISSING_LOCATION = "redirect.missing-location", Redirect, Warning,
        "a 301/302/303/307/308 without `Location`",
        "the client has nowhere to go";
    REDIRECT_POST_TO_GET = "redirect.post-to-get", Redirect, Info,
        "a POST redirected by 301 or 302 followed as GET (allowed for historical reasons; the content is dropped)",
        "use 307/308 to keep the POST, 303 to say GET";
    REDIRECT_STATE_LIMIT = "redirect.state-limit", Redirect, Info,
        "the table of redirects waiting to be followed is full",
        "raise `SemanticsConfig::redirects`";
}
