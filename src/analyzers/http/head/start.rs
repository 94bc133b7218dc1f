//! Where a message can start again after a gap (or bytes that were not a message): the one scan
//! HTTP resynchronises with and the probe uses to pick a stream up after a gap, so both find
//! the same start.
//!
//! After a gap the bytes are anything (the rest of a lost message, a body, random payload), and
//! they are scanned at every line start: the test is stricter than the recognition of a stream's
//! first bytes. A request line must end in an HTTP/1.x version (an HTTP/0.9 `GET /path` or a
//! broken request line, which [`looks_like_request`] accepts at a stream's start, is too easily a
//! line of text); a status line is what [`looks_like_response`] accepts (`HTTP/1.x NNN`).

use super::{Prefix, Version, looks_like_request, looks_like_response};

/// Whether a request (`request`) or response could start at `buf` after a gap.
pub fn looks_like_start(buf: &[u8], request: bool) -> Prefix {
    if !request {
        return looks_like_response(buf);
    }
    let p = looks_like_request(buf);
    if p == Prefix::No {
        return Prefix::No;
    }
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        return p;
    };
    let line = buf.get(..nl).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.split(|&c| c == b' ').filter(|s| !s.is_empty());
    let (Some(_method), Some(_target)) = (parts.next(), parts.next()) else {
        return Prefix::No;
    };
    match parts.next_back().and_then(Version::parse) {
        Some(v) if v.major == 1 => Prefix::Yes,
        _ => Prefix::No,
    }
}

/// What a scan for the next message start found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// A start line begins at this index.
    At(usize),
    /// This index could begin one; more bytes will tell.
    Maybe(usize),
    /// Nowhere in these bytes.
    None,
}

/// The first place in `view` where a request (`request`) or response could start after a gap:
/// index 0 when `boundary` (the bytes begin at a segment boundary or a line start), then every
/// line start. A candidate that needs more bytes to tell ends the scan.
pub fn find_start(view: &[u8], boundary: bool, request: bool) -> Start {
    let first = boundary.then_some(0);
    let lines = memchr::memchr_iter(b'\n', view).map(|i| i + 1);
    for p in first.into_iter().chain(lines) {
        let Some(tail) = view.get(p..).filter(|t| !t.is_empty()) else {
            continue;
        };
        match looks_like_start(tail, request) {
            Prefix::Yes => return Start::At(p),
            Prefix::Maybe => return Start::Maybe(p),
            Prefix::No => {}
        }
    }
    Start::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_after_a_gap_needs_an_http1_start_line() {
        let yes = |b: &[u8], r| looks_like_start(b, r) == Prefix::Yes;
        assert!(yes(b"GET /a HTTP/1.1\r\n", true));
        assert!(yes(b"M-SEARCH * HTTP/1.1\r\n", true));
        assert!(yes(b"HTTP/1.1 204 No Content\r\n", false));
        // Accepted at a stream's start, not after a gap.
        assert_eq!(looks_like_request(b"GET /a\r\n"), Prefix::Yes);
        assert_eq!(looks_like_start(b"GET /a\r\n", true), Prefix::No);
        assert_eq!(looks_like_start(b"OPTIONS\nHost: x\n\n", true), Prefix::No);
        assert_eq!(looks_like_start(b"PRI * HTTP/2.0\r\n", true), Prefix::No);
        assert_eq!(looks_like_start(b"SEE /docs for more\n", true), Prefix::No);
        // Not complete yet.
        assert_eq!(looks_like_start(b"GET /a HT", true), Prefix::Maybe);
        assert_eq!(looks_like_start(b"HTTP/1.", false), Prefix::Maybe);
        // A request is not a response and the other way round.
        assert_eq!(looks_like_start(b"HTTP/1.1 200 OK\r\n", true), Prefix::No);
        assert_eq!(looks_like_start(b"GET / HTTP/1.1\r\n", false), Prefix::No);
    }

    #[test]
    fn the_scan_tries_the_boundary_then_each_line_start() {
        let v = b"ody\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_eq!(find_start(v, true, true), Start::At(5));
        assert_eq!(find_start(&v[5..], true, true), Start::At(0));
        // Not at a boundary: index 0 is not tried.
        assert_eq!(find_start(&v[5..], false, true), Start::None);
        assert_eq!(
            find_start(b"xx\nGET /x HTTP/1.", false, true),
            Start::Maybe(3)
        );
        assert_eq!(
            find_start(b"random\x00bytes\nmore", true, true),
            Start::None
        );
        assert_eq!(
            find_start(b"body\nHTTP/1.1 200 OK\r\n", true, false),
            Start::At(5)
        );
    }
}
