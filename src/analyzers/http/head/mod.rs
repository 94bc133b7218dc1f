//! HTTP/1.x message heads: the start line and the header fields, as bytes, in order,
//! duplicates kept (RFC 9112 §2–§5).
//!
//! Contract: the input is untrusted. The end of the head (the empty line) is found first, within
//! [`HeadLimits::max_bytes`]; only then is the head parsed, by `httparse`. What `httparse`
//! rejects (obs-fold in requests, whitespace before the colon, invalid bytes, too many fields)
//! is parsed again by a lenient line parser so that the message is never lost; every deviation
//! from the grammar is reported as a [`HeadIssue`] for the analyzer to turn into findings.
//! Nothing here panics or allocates beyond the head's own size.
//!
//! Names and values live in one byte arena per head; a value is stored without its leading and
//! trailing whitespace (OWS), exactly as sent otherwise. An obs-fold continuation is joined to
//! the previous value with one space, as RFC 9112 §5.2 tells a recipient to do.

use std::borrow::Cow;
use std::mem::MaybeUninit;
use std::ops::Range;

use crate::base::ascii::same_name;
use crate::model::syntax::{is_token, trim_ows};

pub use crate::analyzers::layer::Prefix;
pub use start::{Start, find_start, looks_like_start};

mod start;

/// Bounds on one head.
#[derive(Clone, Debug)]
pub struct HeadLimits {
    /// Bytes of start line plus fields plus the empty line.
    pub max_bytes: usize,
    /// Header fields kept; more are counted in an issue and dropped.
    pub max_fields: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits {
            max_bytes: 64 * 1024,
            max_fields: 256,
        }
    }
}

/// `HTTP/major.minor`; 0.9 is the version-less request line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl Version {
    pub const HTTP09: Version = Version { major: 0, minor: 9 };
    pub const HTTP10: Version = Version { major: 1, minor: 0 };
    pub const HTTP11: Version = Version { major: 1, minor: 1 };

    /// At least HTTP/1.1 (persistent by default, `Transfer-Encoding` allowed, `Host` required).
    pub fn is_11_or_later(self) -> bool {
        (self.major, self.minor) >= (1, 1)
    }

    fn parse(b: &[u8]) -> Option<Version> {
        match b {
            [b'H', b'T', b'T', b'P', b'/', ma, b'.', mi]
                if ma.is_ascii_digit() && mi.is_ascii_digit() =>
            {
                Some(Version {
                    major: ma - b'0',
                    minor: mi - b'0',
                })
            }
            _ => None,
        }
    }
}

impl Version {
    /// The version as written (`HTTP/1.1`); the usual ones borrowed, neither formatted nor
    /// allocated (once per message), an odd one (`HTTP/3.7`) formatted.
    pub fn text(&self) -> Cow<'static, str> {
        match (self.major, self.minor) {
            (1, 1) => Cow::Borrowed("HTTP/1.1"),
            (1, 0) => Cow::Borrowed("HTTP/1.0"),
            (0, 9) => Cow::Borrowed("HTTP/0.9"),
            _ => Cow::Owned(self.to_string()),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == Version::HTTP09 {
            f.write_str("HTTP/0.9")
        } else {
            write!(f, "HTTP/{}.{}", self.major, self.minor)
        }
    }
}

/// One header field: ranges into [`Head::arena`] (which, for a head `httparse` accepted, is the
/// head as sent, start line included), and which of the fields the analyzer asks about it is.
#[derive(Clone, Debug)]
pub struct Field {
    name: Range<u32>,
    value: Range<u32>,
    known: Known,
}

/// The fields the analyzer asks about (framing, findings, switching, hop-by-hop, masking),
/// told from the name once, when the head is parsed: every later question looks at a field's
/// tag instead of comparing names, and one about a field the head does not have is answered
/// from the head's `present` bits without a scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    Other,
    Host,
    ContentLength,
    ContentType,
    ContentEncoding,
    TransferEncoding,
    Expect,
    Upgrade,
    Authorization,
    ProxyAuthorization,
    Cookie,
    SetCookie,
    // The rest of the standard hop-by-hop fields (RFC 9110 §7.6.1).
    Connection,
    KeepAlive,
    ProxyAuthenticate,
    ProxyConnection,
    Te,
    Trailer,
}

impl Known {
    /// The field `name` (ASCII case-insensitive) is: its length and first letter pick the one
    /// name it can be, so a name is compared once at most, and most are not compared at all.
    pub fn of(name: &[u8]) -> Known {
        let Some(&first) = name.first() else {
            return Known::Other;
        };
        // `| 0x20` lowercases a letter and makes no other byte a letter.
        let is = |k: &str| is_name(name, k.as_bytes());
        match (name.len(), first | 0x20) {
            (2, b't') if is("te") => Known::Te,
            (4, b'h') if is("host") => Known::Host,
            (6, b'c') if is("cookie") => Known::Cookie,
            (6, b'e') if is("expect") => Known::Expect,
            (7, b'u') if is("upgrade") => Known::Upgrade,
            (7, b't') if is("trailer") => Known::Trailer,
            (10, b'c') if is("connection") => Known::Connection,
            (10, b'k') if is("keep-alive") => Known::KeepAlive,
            (10, b's') if is("set-cookie") => Known::SetCookie,
            (12, b'c') if is("content-type") => Known::ContentType,
            (13, b'a') if is("authorization") => Known::Authorization,
            (14, b'c') if is("content-length") => Known::ContentLength,
            (16, b'c') if is("content-encoding") => Known::ContentEncoding,
            (16, b'p') if is("proxy-connection") => Known::ProxyConnection,
            (17, b't') if is("transfer-encoding") => Known::TransferEncoding,
            (18, b'p') if is("proxy-authenticate") => Known::ProxyAuthenticate,
            (19, b'p') if is("proxy-authorization") => Known::ProxyAuthorization,
            _ => Known::Other,
        }
    }

    /// Every name [`Known::of`] tells (lowercase letters and `-`, as [`is_name`] needs them).
    #[cfg(test)]
    const NAMES: &[(Known, &str)] = &[
        (Known::Host, "host"),
        (Known::ContentLength, "content-length"),
        (Known::ContentType, "content-type"),
        (Known::ContentEncoding, "content-encoding"),
        (Known::TransferEncoding, "transfer-encoding"),
        (Known::Expect, "expect"),
        (Known::Upgrade, "upgrade"),
        (Known::Authorization, "authorization"),
        (Known::ProxyAuthorization, "proxy-authorization"),
        (Known::Cookie, "cookie"),
        (Known::SetCookie, "set-cookie"),
        (Known::Connection, "connection"),
        (Known::KeepAlive, "keep-alive"),
        (Known::ProxyAuthenticate, "proxy-authenticate"),
        (Known::ProxyConnection, "proxy-connection"),
        (Known::Te, "te"),
        (Known::Trailer, "trailer"),
    ];

    /// One of the fields defined as hop-by-hop ([`crate::model::syntax::HOP_BY_HOP`]).
    pub fn is_standard_hop_by_hop(self) -> bool {
        matches!(
            self,
            Known::Connection
                | Known::KeepAlive
                | Known::ProxyAuthenticate
                | Known::ProxyAuthorization
                | Known::Te
                | Known::Trailer
                | Known::TransferEncoding
                | Known::Upgrade
                | Known::ProxyConnection
        )
    }

    /// Its bit in a head's `present`.
    fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// Whether `name` is `lower` (lowercase letters and `-`), ASCII case-insensitively, a word at
/// a time ([`same_name`]). Inlined where `lower` is a constant, whose words fold.
#[inline(always)]
fn is_name(name: &[u8], lower: &[u8]) -> bool {
    same_name(name, lower)
}

/// The first line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request {
        method: Vec<u8>,
        target: Vec<u8>,
        version: Version,
    },
    Response {
        version: Version,
        status: u16,
        reason: Vec<u8>,
    },
}

/// A deviation from the RFC 9112 grammar, found while parsing a head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadIssue {
    /// A line ended with LF alone (§2.2).
    BareLf,
    /// A field continued on the next line (obs-fold, §5.2); `name` of the folded field.
    ObsFold { name: Vec<u8> },
    /// Whitespace between the field name and the colon (§5.1).
    SpaceBeforeColon { name: Vec<u8> },
    /// A field name with a byte that is not a token character (RFC 9110 §5.1).
    InvalidName { name: Vec<u8> },
    /// A control byte in a field value (RFC 9110 §5.5).
    InvalidValue { name: Vec<u8> },
    /// A line without a colon in the field section; it was skipped.
    NoColon { line: Vec<u8> },
    /// A malformed start line (method, target or version); the parts were kept as sent.
    BadStartLine,
    /// More fields than [`HeadLimits::max_fields`]; `dropped` were not kept.
    TooManyFields { dropped: usize },
    /// Whitespace before the first field line (§2.2: a recipient must reject or ignore it).
    SpaceBeforeFirstField,
    /// A status code that is not three digits (`2XX`); the status is recorded as 0.
    BadStatus { raw: Vec<u8> },
    /// Control bytes (escape sequences, BEL) in the request target or the reason phrase
    /// (RFC 9112 §3.2, §4): kept as sent.
    ControlInStartLine,
}

/// A parsed head.
#[derive(Clone, Debug)]
pub struct Head {
    pub start: StartLine,
    arena: Vec<u8>,
    fields: Vec<Field>,
    /// A bit for each [`Known`] field the head has.
    present: u32,
    /// Bytes of the head on the wire, the empty line included.
    pub len: usize,
    pub issues: Vec<HeadIssue>,
    /// `httparse` rejected the head and the lenient parser read it; its error.
    pub rejected: Option<&'static str>,
}

/// A head's two buffers (its bytes and its field list), handed back once the head has been read
/// and reused for the next one: heads then allocate nothing once the buffers are large enough
/// (two allocations fewer per message). Bounded by the head limits; a buffer an unusually
/// large head grew past [`Spare::KEEP`] bytes is let go, not kept.
#[derive(Debug, Default)]
pub struct Spare {
    arena: Vec<u8>,
    fields: Vec<Field>,
}

impl Spare {
    /// The most heap a spare pair keeps between heads.
    pub const KEEP: usize = 64 * 1024;

    /// The buffers, empty, for a head to fill.
    fn take(&mut self) -> (Vec<u8>, Vec<Field>) {
        let (mut arena, mut fields) = (
            std::mem::take(&mut self.arena),
            std::mem::take(&mut self.fields),
        );
        arena.clear();
        fields.clear();
        (arena, fields)
    }
}

/// The outcome of looking for a head at the start of a buffer.
#[derive(Debug)]
pub enum Parsed {
    Complete(Head),
    /// No empty line yet: wait for more bytes.
    Partial,
    /// No empty line within the limit.
    TooLarge,
    /// Not a request/status line at all (the stream is not HTTP here).
    Invalid(&'static str),
}

impl Head {
    fn slice(&self, r: &Range<u32>) -> &[u8] {
        self.arena
            .get(r.start as usize..r.end as usize)
            .unwrap_or_default()
    }

    pub fn fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.fields
            .iter()
            .map(|f| (self.slice(&f.name), self.slice(&f.value)))
    }

    /// The fields with what each is: name, value, [`Known`].
    pub fn known_fields(&self) -> impl Iterator<Item = (&[u8], &[u8], Known)> {
        self.fields
            .iter()
            .map(|f| (self.slice(&f.name), self.slice(&f.value), f.known))
    }

    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// Hands the head's buffers back for the next head (see [`Spare`]).
    pub fn recycle(self, spare: &mut Spare) {
        let keep = self.arena.capacity() + self.fields.capacity() * size_of::<Field>();
        if keep <= Spare::KEEP {
            spare.arena = self.arena;
            spare.fields = self.fields;
        }
    }

    /// Every value of the `k` fields, in order: none without a scan when the head has no such
    /// field (most questions), else the fields' tags are compared, not their names.
    pub fn values(&self, k: Known) -> impl Iterator<Item = &[u8]> {
        let fields: &[Field] = if self.present & k.bit() != 0 {
            &self.fields
        } else {
            &[]
        };
        fields
            .iter()
            .filter(move |f| f.known == k)
            .map(|f| self.slice(&f.value))
    }

    /// Every value of the fields named `name` (ASCII case-insensitive), in order: any name,
    /// compared (the analyzer's own questions are [`Head::values`]').
    pub fn values_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The first value of `k`.
    pub fn value(&self, k: Known) -> Option<&[u8]> {
        self.values(k).next()
    }

    /// Whether a `k` field is present.
    pub fn has(&self, k: Known) -> bool {
        self.present & k.bit() != 0
    }

    /// The comma-separated list elements of every `k` field, trimmed, empty ones skipped
    /// (RFC 9110 §5.6.1).
    pub fn list(&self, k: Known) -> impl Iterator<Item = &[u8]> {
        self.values(k)
            .flat_map(|v| v.split(|&b| b == b','))
            .map(trim_ows)
            .filter(|t| !t.is_empty())
    }

    /// Whether the list field `k` contains `token` (case-insensitive).
    pub fn list_has(&self, k: Known, token: &str) -> bool {
        self.list(k)
            .any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
    }

    /// Adds a field whose name and value are already in the arena.
    fn add(&mut self, name: Range<u32>, value: Range<u32>) {
        let known = Known::of(self.slice(&name));
        self.present |= known.bit();
        self.fields.push(Field { name, value, known });
    }

    fn push_field(&mut self, name: &[u8], value: &[u8]) {
        let n0 = self.arena.len() as u32;
        self.arena.extend_from_slice(name);
        let n1 = self.arena.len() as u32;
        self.arena.extend_from_slice(value);
        let v1 = self.arena.len() as u32;
        self.add(n0..n1, n1..v1);
    }

    /// Appends an obs-fold continuation to the last field's value.
    fn fold_into_last(&mut self, more: &[u8]) {
        let Some(last) = self.fields.last_mut() else {
            return;
        };
        if last.value.end as usize != self.arena.len() {
            return;
        }
        if last.value.end > last.value.start && !more.is_empty() {
            self.arena.push(b' ');
        }
        self.arena.extend_from_slice(more);
        last.value.end = self.arena.len() as u32;
    }
}

/// Offset just past the empty line that ends the head, if the buffer holds one. Accepts CRLF
/// and bare LF line ends.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    head_end_lf(buf).map(|(end, _)| end)
}

/// [`head_end`], and whether a line of the head ends with LF alone: one pass over the line
/// ends instead of a second one for the bare LF check.
fn head_end_lf(buf: &[u8]) -> Option<(usize, bool)> {
    let mut line_start = 0;
    let mut bare_lf = false;
    for i in memchr::memchr_iter(b'\n', buf) {
        bare_lf |= i == 0 || buf.get(i - 1) != Some(&b'\r');
        let line = buf.get(line_start..i).unwrap_or_default();
        if (line.is_empty() || line == b"\r") && line_start > 0 {
            return Some((i + 1, bare_lf));
        }
        line_start = i + 1;
    }
    None
}

/// Whether `buf` could be the start of a request line (a method token then a space), or is a
/// prefix of one. Used to recognise HTTP by content and to resynchronise after a gap.
///
/// Yes when the first line ends in an HTTP version, when it is an HTTP/0.9 `GET /path`, or
/// when a method-looking line is followed by a header field line (broken request lines that
/// servers still answer, as in Zeek's `methods.pcap`).
pub fn looks_like_request(buf: &[u8]) -> Prefix {
    let method_end = buf
        .iter()
        .position(|&c| c == b' ' || c == b'\r' || c == b'\n')
        .unwrap_or(buf.len());
    let method = buf.get(..method_end).unwrap_or_default();
    if method.len() > 24
        || !method
            .iter()
            .all(|&c| c.is_ascii_uppercase() || c == b'-' || c == b'_')
    {
        return Prefix::No;
    }
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        // Wait for the line, but not forever: a request line this long is not plausible.
        let rest = buf.get(method_end..).unwrap_or_default();
        // Control bytes may still be a hostile target (ESC, BEL); NUL is binary.
        return if buf.len() < 8192
            && (method_end < buf.len() || method.len() < 24)
            && !rest.contains(&0)
        {
            Prefix::Maybe
        } else {
            Prefix::No
        };
    };
    if method.is_empty() {
        return Prefix::No;
    }
    let line = buf.get(..nl).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // The space-separated parts: how many, the second and the last (no list built; the
    // spaces found by `memchr`, not byte by byte).
    let (mut count, mut second, mut last): (usize, &[u8], &[u8]) = (0, &[], &[]);
    let mut from = 0;
    for end in memchr::memchr_iter(b' ', line).chain(std::iter::once(line.len())) {
        let p = line.get(from..end).unwrap_or_default();
        from = end + 1;
        if p.is_empty() {
            continue;
        }
        count += 1;
        if count == 2 {
            second = p;
        }
        last = p;
    }
    // A method, a target and an HTTP version: a request, even with control bytes in the
    // target (escape sequences sent to poison a log or a terminal are still a request, and
    // its response pairs with it); the head parser flags them. NUL is binary.
    if count >= 2 && Version::parse(last).is_some() && memchr::memchr(0, line).is_none() {
        return Prefix::Yes;
    }
    if has_control(line) {
        return Prefix::No;
    }
    if count == 2 && second.starts_with(b"/") {
        // HTTP/0.9 (`GET /path`; other methods are invalid there but servers answer them).
        return Prefix::Yes;
    }
    // A broken request line: HTTP only if a header field line follows.
    let next = buf.get(nl + 1..).unwrap_or_default();
    let Some(nl2) = memchr::memchr(b'\n', next) else {
        return if next.len() < 8192 {
            Prefix::Maybe
        } else {
            Prefix::No
        };
    };
    let l2 = next.get(..nl2).unwrap_or_default();
    match l2.iter().position(|&c| c == b':') {
        Some(colon) if colon > 0 && is_token(l2.get(..colon).unwrap_or_default()) => Prefix::Yes,
        _ => Prefix::No,
    }
}

/// Whether `line` holds a control byte other than tab: eight bytes at a time (a word with no
/// byte below 0x20 and no DEL is skipped whole), a flagged word checked byte by byte.
fn has_control(line: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let exact = |b: &[u8]| b.iter().any(|c| c.is_ascii_control() && *c != b'\t');
    let mut words = line.chunks_exact(8);
    for c in &mut words {
        let Ok(bytes) = <[u8; 8]>::try_from(c) else {
            return exact(c);
        };
        let w = u64::from_le_bytes(bytes);
        let below = w.wrapping_sub(LO * 0x20) & !w & HI;
        let d = w ^ (LO * 0x7f);
        let del = d.wrapping_sub(LO) & !d & HI;
        if (below | del) != 0 && exact(c) {
            return true;
        }
    }
    exact(words.remainder())
}

/// Whether `buf` starts (or could start) a status line `HTTP/x.y NNN`.
pub fn looks_like_response(buf: &[u8]) -> Prefix {
    const P: &[u8] = b"HTTP/1.";
    let n = buf.len().min(P.len());
    if buf.get(..n) != P.get(..n) {
        return Prefix::No;
    }
    if buf.len() < 12 {
        return Prefix::Maybe;
    }
    // Three digits; a first digit then letters (`2XX`, seen from broken servers) also counts,
    // and is reported.
    let ok = buf.get(7).is_some_and(u8::is_ascii_digit)
        && buf.get(8) == Some(&b' ')
        && buf.get(9).is_some_and(u8::is_ascii_digit)
        && buf
            .get(10..12)
            .is_some_and(|s| s.iter().all(u8::is_ascii_alphanumeric));
    if ok { Prefix::Yes } else { Prefix::No }
}

/// Parses a request head at the start of `buf`.
pub fn parse_request(buf: &[u8], limits: &HeadLimits) -> Parsed {
    parse(buf, limits, true, &mut Spare::default())
}

/// Parses a response head at the start of `buf`.
pub fn parse_response(buf: &[u8], limits: &HeadLimits) -> Parsed {
    parse(buf, limits, false, &mut Spare::default())
}

/// Parses a request (`request`) or response head at the start of `buf`, in the buffers of
/// `spare` (which [`Head::recycle`] hands back).
pub fn parse(buf: &[u8], limits: &HeadLimits, request: bool, spare: &mut Spare) -> Parsed {
    let window = buf.get(..buf.len().min(limits.max_bytes)).unwrap_or(buf);
    // HTTP/0.9: a request line without a version, and no header section.
    if request
        && let Some(nl) = memchr::memchr(b'\n', window)
        && let Some(h) = http09(window, nl)
    {
        return Parsed::Complete(h);
    }
    let Some((end, bare_lf)) = head_end_lf(window) else {
        return if buf.len() >= limits.max_bytes {
            Parsed::TooLarge
        } else {
            Parsed::Partial
        };
    };
    let raw = window.get(..end).unwrap_or_default();
    let strict = if request {
        strict_request(raw, limits, spare)
    } else {
        strict_response(raw, limits, spare)
    };
    let mut head = match strict {
        Ok(h) => h,
        Err(why) => match lenient(raw, limits, request, spare) {
            Ok(mut h) => {
                h.rejected = Some(why);
                h
            }
            Err(e) => return Parsed::Invalid(e),
        },
    };
    head.len = end;
    if bare_lf && !head.issues.contains(&HeadIssue::BareLf) {
        head.issues.insert(0, HeadIssue::BareLf);
    }
    Parsed::Complete(head)
}

fn http09(buf: &[u8], nl: usize) -> Option<Head> {
    let line = buf.get(..nl)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.split(|&c| c == b' ').filter(|p| !p.is_empty());
    let (m, t) = (parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !m.iter().all(|c| c.is_ascii_uppercase())
        || !t.starts_with(b"/")
        || Version::parse(t).is_some()
    {
        return None;
    }
    // A header line after it means a broken HTTP/1.x request, not HTTP/0.9.
    let next = buf.get(nl + 1..).unwrap_or_default();
    if next.first().is_some_and(|&c| c != b'\r' && c != b'\n') {
        return None;
    }
    Some(Head {
        start: StartLine::Request {
            method: m.to_vec(),
            target: t.to_vec(),
            version: Version::HTTP09,
        },
        arena: Vec::new(),
        fields: Vec::new(),
        present: 0,
        len: nl + 1,
        // HTTP/0.9 has only GET.
        issues: if m == b"GET" {
            Vec::new()
        } else {
            vec![HeadIssue::BadStartLine]
        },
        rejected: None,
    })
}

fn httparse_error(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status code",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many header fields",
        httparse::Error::Version => "invalid HTTP version",
    }
}

/// The head from `httparse`'s fields, which are slices of `raw`: the head is copied into the
/// arena once and each field keeps its place in it, instead of one copy per name and value.
/// A field that is not inside `raw` (never, with `httparse`) is appended after it.
fn from_fields(
    raw: &[u8],
    start: StartLine,
    fields: &[httparse::Header<'_>],
    spare: &mut Spare,
) -> Head {
    let (mut arena, mut list) = spare.take();
    arena.extend_from_slice(raw);
    list.reserve(fields.len());
    let mut h = Head {
        start,
        arena,
        fields: list,
        present: 0,
        len: 0,
        issues: Vec::new(),
        rejected: None,
    };
    for f in fields {
        let (name, value) = (f.name.as_bytes(), trim_ows(f.value));
        match (range_in(raw, name), range_in(raw, value)) {
            (Some(name), Some(value)) => h.add(name, value),
            _ => h.push_field(name, value),
        }
    }
    h
}

/// Where `part` lies in `whole`, if it is a slice of it (compared by address, no unsafe).
fn range_in(whole: &[u8], part: &[u8]) -> Option<Range<u32>> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    if end > whole.len() {
        return None;
    }
    Some(u32::try_from(start).ok()?..u32::try_from(end).ok()?)
}

/// Fields parsed on the stack first; only a head with more goes to the heap.
const STACK_FIELDS: usize = 48;

fn strict_request(
    raw: &[u8],
    limits: &HeadLimits,
    spare: &mut Spare,
) -> Result<Head, &'static str> {
    let mut stack = [const { MaybeUninit::uninit() }; STACK_FIELDS];
    match request_with(raw, &mut stack, spare) {
        Err(httparse::Error::TooManyHeaders) if limits.max_fields > STACK_FIELDS => {
            let mut heap = vec![MaybeUninit::uninit(); limits.max_fields.min(512)];
            request_with(raw, &mut heap, spare).map_err(httparse_error)
        }
        Ok(h) if h.fields.len() > limits.max_fields => {
            h.recycle(spare);
            Err("too many header fields")
        }
        other => other.map_err(httparse_error),
    }
}

/// `httparse` fills `storage` (left uninitialized: a head's fields are written once, by the
/// parser, not zeroed first).
fn request_with<'b>(
    raw: &'b [u8],
    storage: &mut [MaybeUninit<httparse::Header<'b>>],
    spare: &mut Spare,
) -> Result<Head, httparse::Error> {
    let mut req = httparse::Request::new(&mut []);
    match httparse::ParserConfig::default()
        .parse_request_with_uninit_headers(&mut req, raw, storage)?
    {
        httparse::Status::Complete(_) => {
            let start = StartLine::Request {
                method: req.method.unwrap_or_default().as_bytes().to_vec(),
                target: req.path.unwrap_or_default().as_bytes().to_vec(),
                version: Version {
                    major: 1,
                    minor: req.version.unwrap_or(1),
                },
            };
            Ok(from_fields(raw, start, req.headers, spare))
        }
        // The caller passes a complete head; treat "partial" as malformed.
        httparse::Status::Partial => Err(httparse::Error::NewLine),
    }
}

fn strict_response(
    raw: &[u8],
    limits: &HeadLimits,
    spare: &mut Spare,
) -> Result<Head, &'static str> {
    let mut stack = [const { MaybeUninit::uninit() }; STACK_FIELDS];
    match response_with(raw, &mut stack, spare) {
        Err(httparse::Error::TooManyHeaders) if limits.max_fields > STACK_FIELDS => {
            let mut heap = vec![MaybeUninit::uninit(); limits.max_fields.min(512)];
            response_with(raw, &mut heap, spare).map_err(httparse_error)
        }
        Ok(h) if h.fields.len() > limits.max_fields => {
            h.recycle(spare);
            Err("too many header fields")
        }
        other => other.map_err(httparse_error),
    }
}

/// `httparse` fills `storage` (left uninitialized: a head's fields are written once, by the
/// parser, not zeroed first).
fn response_with<'b>(
    raw: &'b [u8],
    storage: &mut [MaybeUninit<httparse::Header<'b>>],
    spare: &mut Spare,
) -> Result<Head, httparse::Error> {
    let mut resp = httparse::Response::new(&mut []);
    match httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut resp, raw, storage)?
    {
        httparse::Status::Complete(_) => {
            let start = StartLine::Response {
                version: Version {
                    major: 1,
                    minor: resp.version.unwrap_or(1),
                },
                status: resp.code.unwrap_or(0),
                reason: resp.reason.unwrap_or_default().as_bytes().to_vec(),
            };
            Ok(from_fields(raw, start, resp.headers, spare))
        }
        httparse::Status::Partial => Err(httparse::Error::NewLine),
    }
}

/// Splits `raw` (a complete head) into lines without their CR/LF.
fn lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    raw.split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// The line parser for heads `httparse` rejects: keeps every part as sent and reports why.
fn lenient(
    raw: &[u8],
    limits: &HeadLimits,
    request: bool,
    spare: &mut Spare,
) -> Result<Head, &'static str> {
    let mut it = lines(raw);
    let first = it.next().unwrap_or_default();
    let mut issues = Vec::new();
    let start = if request {
        lenient_request_line(first, &mut issues)?
    } else {
        lenient_status_line(first, &mut issues)?
    };
    let (mut arena, fields) = spare.take();
    arena.reserve(raw.len());
    let mut head = Head {
        start,
        arena,
        fields,
        present: 0,
        len: raw.len(),
        issues,
        rejected: None,
    };
    lenient_fields(&mut head, it, limits);
    Ok(head)
}

/// A request line as sent: `method SP target SP version`, where a target with spaces in it
/// (seen in the wild) is kept whole, a malformed version is read as meant, and a line without
/// one is HTTP/0.9.
fn lenient_request_line(
    first: &[u8],
    issues: &mut Vec<HeadIssue>,
) -> Result<StartLine, &'static str> {
    // method SP target SP version; a target with spaces in it (seen in the wild) is kept
    // whole: everything between the method and the last token.
    let parts: Vec<&[u8]> = first
        .split(|&c| c == b' ' || c == b'\t')
        .filter(|p| !p.is_empty())
        .collect();
    let method = *parts.first().ok_or("empty request line")?;
    if !is_token(method) {
        return Err("request line without a method");
    }
    let last = parts.last().copied().unwrap_or_default();
    // `HTTP/1.` and the like: a version meant but malformed.
    let loose = Version::parse(last).or_else(|| {
        last.strip_prefix(b"HTTP/").map(|v| {
            issues.push(HeadIssue::BadStartLine);
            let digit = |i: usize| v.get(i).filter(|c| c.is_ascii_digit()).map(|c| c - b'0');
            Version {
                major: digit(0).unwrap_or(1),
                minor: digit(2).unwrap_or(0),
            }
        })
    });
    let (target, version) = match loose {
        Some(v) if parts.len() >= 3 => {
            let t0 = parts[1].as_ptr() as usize - first.as_ptr() as usize;
            let end = parts[parts.len() - 2];
            let t1 = end.as_ptr() as usize - first.as_ptr() as usize + end.len();
            (first.get(t0..t1).unwrap_or_default(), v)
        }
        // `OPTIONS HTTP/1.1`: no target.
        Some(v) => (&b""[..], v),
        // `GET /x` with header lines after it, or a bare method: read as HTTP/0.9 the way
        // Zeek does, keeping the fields that follow.
        None if parts.len() <= 2 => {
            issues.push(HeadIssue::BadStartLine);
            (parts.get(1).copied().unwrap_or_default(), Version::HTTP09)
        }
        None => return Err("request line without an HTTP version"),
    };
    // Exactly `method SP target SP version`: one space each, nothing around.
    let exact = method.len() + target.len() + last.len() + 2 == first.len();
    let controls = target.iter().any(|&c| c.is_ascii_control() && c != b'\t');
    if controls {
        issues.push(HeadIssue::ControlInStartLine);
    }
    if !issues.contains(&HeadIssue::BadStartLine)
        && (parts.len() != 3 || !exact || (first.contains(&b'\t') && !controls))
    {
        issues.push(HeadIssue::BadStartLine);
    }
    Ok(StartLine::Request {
        method: method.to_vec(),
        target: target.to_vec(),
        version,
    })
}

/// A status line as sent: `version SP status SP reason`, a status with letters in it kept raw.
fn lenient_status_line(
    first: &[u8],
    issues: &mut Vec<HeadIssue>,
) -> Result<StartLine, &'static str> {
    let ver = first.get(..8).ok_or("short status line")?;
    let version = Version::parse(ver).ok_or("status line without an HTTP version")?;
    let rest = first.get(8..).unwrap_or_default();
    let rest = rest
        .get(rest.iter().take_while(|&&c| c == b' ').count()..)
        .unwrap_or_default();
    let code = rest.get(..3).ok_or("status line without a status code")?;
    let status = if code.iter().all(u8::is_ascii_digit) {
        code.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'))
    } else if code.first().is_some_and(u8::is_ascii_digit)
        && code.iter().all(u8::is_ascii_alphanumeric)
    {
        issues.push(HeadIssue::BadStatus { raw: code.to_vec() });
        0
    } else {
        return Err("status line without a status code");
    };
    let reason = trim_ows(rest.get(3..).unwrap_or_default());
    if first.get(8) != Some(&b' ') || rest.get(3).is_some_and(|&c| c != b' ') {
        issues.push(HeadIssue::BadStartLine);
    }
    if reason
        .iter()
        .any(|&c| (c < 0x20 && c != b'\t') || c == 0x7f)
    {
        issues.push(HeadIssue::ControlInStartLine);
    }
    Ok(StartLine::Response {
        version,
        status,
        reason: reason.to_vec(),
    })
}

/// The field lines after the start line, up to the empty line: obs-fold joined to the field
/// before, lines without a colon skipped, fields past the limit counted; every fault an issue.
fn lenient_fields<'a>(head: &mut Head, lines: impl Iterator<Item = &'a [u8]>, limits: &HeadLimits) {
    let mut dropped = 0usize;
    let mut first_field = true;
    let mut last_kept = false;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if first_field {
                // RFC 9112 §2.2: whitespace before the first field line.
                head.issues.push(HeadIssue::SpaceBeforeFirstField);
            } else if last_kept {
                let name = head
                    .fields()
                    .last()
                    .map(|(n, _)| n.to_vec())
                    .unwrap_or_default();
                head.issues.push(HeadIssue::ObsFold { name });
                head.fold_into_last(trim_ows(line));
                continue;
            } else {
                continue;
            }
        }
        first_field = false;
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            head.issues.push(HeadIssue::NoColon {
                line: line.iter().take(64).copied().collect(),
            });
            last_kept = false;
            continue;
        };
        let raw_name = line.get(..colon).unwrap_or_default();
        let name = trim_ows(raw_name);
        let value = trim_ows(line.get(colon + 1..).unwrap_or_default());
        if name.len() != raw_name.len() {
            head.issues.push(HeadIssue::SpaceBeforeColon {
                name: name.to_vec(),
            });
        }
        if !is_token(name) {
            head.issues.push(HeadIssue::InvalidName {
                name: name.to_vec(),
            });
        }
        if value.iter().any(|&c| (c < 0x20 && c != b'\t') || c == 0x7f) {
            head.issues.push(HeadIssue::InvalidValue {
                name: name.to_vec(),
            });
        }
        if head.fields.len() >= limits.max_fields {
            dropped += 1;
            last_kept = false;
            continue;
        }
        head.push_field(name, value);
        last_kept = true;
    }
    if dropped > 0 {
        head.issues.push(HeadIssue::TooManyFields { dropped });
    }
}

#[cfg(test)]
mod tests;
