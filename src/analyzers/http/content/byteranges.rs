//! multipart/byteranges bodies (RFC 9110 §14.6, RFC 2046 §5.1.1): the parts of a `206`
//! response found while its decoded body streams by, since bodies are not kept. Bounded: one
//! line prefix and the part list ([`MAX_PARTS`] parts; the rest are counted). The semantics
//! step checks the parts against the ranges asked for.

use crate::base::heap;
use crate::model::semantics::{MultipartParts, RangePart};

/// Parts listed per multipart body.
const MAX_PARTS: usize = 64;

fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// The boundary of a `multipart/byteranges` Content-Type (at most 70 bytes, RFC 2046 §5.1.1),
/// or `None` for any other type.
pub fn multipart_boundary(ct: &[u8]) -> Option<&[u8]> {
    let mut it = ct.split(|&c| c == b';');
    let mt = trim(it.next()?);
    if !mt.eq_ignore_ascii_case(b"multipart/byteranges") {
        return None;
    }
    for p in it {
        let p = trim(p);
        if p.len() > 9 && p[..9].eq_ignore_ascii_case(b"boundary=") {
            let b = trim(&p[9..]);
            let b = b
                .strip_prefix(b"\"")
                .and_then(|x| x.strip_suffix(b"\""))
                .unwrap_or(b);
            return (!b.is_empty() && b.len() <= 70).then_some(b);
        }
    }
    None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mp {
    Preamble,
    Headers,
    Body,
    Done,
}

/// Finds the parts of a multipart/byteranges body (RFC 9110 §14.6, RFC 2046 §5.1.1) as it is
/// fed, keeping one line prefix: part headers, where each part's bytes start and how long
/// they are (offsets count from the body's first byte).
pub struct MultipartScanner {
    delim: Vec<u8>,
    state: Mp,
    line: Vec<u8>,
    line_len: u64,
    line_start: u64,
    pos: u64,
    /// The line before the current one ended with CRLF (not a bare LF).
    prev_crlf: bool,
    /// The current line's last byte so far.
    last: u8,
    part_start: u64,
    content_range: Option<String>,
    content_type: Option<String>,
    header_bytes: u64,
    out: MultipartParts,
}

/// Header lines longer than this are not read.
const LINE_CAP: usize = 1024;

impl MultipartScanner {
    /// Heap bytes held: the delimiter, one line prefix (bounded), the parts found (bounded).
    pub fn heap_bytes(&self) -> usize {
        size_of::<Self>()
            + heap::vec(&self.delim)
            + heap::vec(&self.line)
            + self.content_range.as_ref().map_or(0, heap::string)
            + self.content_type.as_ref().map_or(0, heap::string)
            + heap::vec(&self.out.parts)
    }

    /// A scanner for a response with this Content-Type, when it is multipart/byteranges.
    pub fn for_content_type(ct: &[u8]) -> Option<Self> {
        let b = multipart_boundary(ct)?;
        let mut delim = b"--".to_vec();
        delim.extend_from_slice(b);
        Some(MultipartScanner {
            delim,
            state: Mp::Preamble,
            line: Vec::new(),
            line_len: 0,
            line_start: 0,
            pos: 0,
            prev_crlf: false,
            last: 0,
            part_start: 0,
            content_range: None,
            content_type: None,
            header_bytes: 0,
            out: MultipartParts::default(),
        })
    }

    pub fn feed(&mut self, mut data: &[u8]) {
        if self.state == Mp::Done {
            self.pos += data.len() as u64;
            return;
        }
        while !data.is_empty() {
            let cap = if self.state == Mp::Headers {
                LINE_CAP
            } else {
                self.delim.len() + 8
            };
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.take(&data[..i], cap);
                    self.pos += i as u64 + 1;
                    data = &data[i + 1..];
                    self.end_line();
                    if self.state == Mp::Done {
                        self.pos += data.len() as u64;
                        return;
                    }
                }
                None => {
                    self.take(data, cap);
                    self.pos += data.len() as u64;
                    return;
                }
            }
        }
    }

    fn take(&mut self, b: &[u8], cap: usize) {
        let room = cap.saturating_sub(self.line.len());
        self.line.extend_from_slice(b.get(..room).unwrap_or(b));
        self.line_len += b.len() as u64;
        if let Some(&x) = b.last() {
            self.last = x;
        }
    }

    fn end_line(&mut self) {
        let crlf = self.line_len > 0 && self.last == b'\r';
        let mut l: &[u8] = &self.line;
        if crlf && self.line_len as usize == l.len() {
            l = &l[..l.len() - 1];
        }
        let is_delim = self.line_len as usize <= self.delim.len() + 8
            && l.starts_with(&self.delim)
            && matches!(l[self.delim.len()..].trim_ascii_end(), b"" | b"--");
        let close = is_delim && l[self.delim.len()..].trim_ascii_end() == b"--";
        match self.state {
            Mp::Preamble => {
                if is_delim {
                    self.start_part(close);
                }
            }
            Mp::Headers => {
                if l.is_empty() {
                    self.state = Mp::Body;
                    self.part_start = self.pos;
                } else {
                    self.header_bytes += self.line_len;
                    if let Some(c) = l.iter().position(|&c| c == b':') {
                        let (n, v) = (trim(&l[..c]), trim(&l[c + 1..]));
                        if n.eq_ignore_ascii_case(b"content-range") {
                            self.content_range = Some(text(v));
                        } else if n.eq_ignore_ascii_case(b"content-type") {
                            self.content_type = Some(text(v));
                        }
                    }
                    if self.header_bytes > 16 * 1024 {
                        // Not part headers: give up on this body.
                        self.state = Mp::Done;
                    }
                }
            }
            Mp::Body => {
                if is_delim {
                    // The CRLF before a delimiter belongs to it (RFC 2046 §5.1.1).
                    let nl = if self.prev_crlf { 2 } else { 1 };
                    let end = self.line_start.saturating_sub(nl).max(self.part_start);
                    self.push_part(end);
                    self.start_part(close);
                }
            }
            Mp::Done => {}
        }
        self.prev_crlf = crlf;
        self.last = 0;
        self.line.clear();
        self.line_len = 0;
        self.line_start = self.pos;
    }

    fn start_part(&mut self, close: bool) {
        if close {
            self.out.closed = true;
            self.state = Mp::Done;
        } else {
            self.state = Mp::Headers;
            self.content_range = None;
            self.content_type = None;
            self.header_bytes = 0;
        }
    }

    fn push_part(&mut self, end: u64) {
        if self.out.parts.len() >= MAX_PARTS {
            self.out.more += 1;
            return;
        }
        self.out.parts.push(RangePart {
            content_range: self.content_range.take(),
            content_type: self.content_type.take(),
            offset: self.part_start,
            length: end - self.part_start,
            matches: false,
        });
    }

    /// The parts found; a part the body ended inside is listed with what arrived.
    pub fn finish(mut self) -> MultipartParts {
        if self.state == Mp::Body {
            let end = self.pos;
            self.push_part(end);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc9110_14_6_multipart_parts_found_split_anywhere() {
        let body = b"\r\n--XB\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-9/3000\r\n\r\n0123456789\r\n--XB\r\nContent-Range: bytes 20-29/3000\r\n\r\nabc\r\n\nxyzw\r\n--XB--\r\n";
        for cut in 0..body.len() {
            let mut s =
                MultipartScanner::for_content_type(b"multipart/byteranges; boundary=XB").unwrap();
            s.feed(&body[..cut]);
            s.feed(&body[cut..]);
            let p = s.finish();
            assert!(p.closed, "cut {cut}");
            let got: Vec<(Option<&str>, u64, u64)> = p
                .parts
                .iter()
                .map(|x| (x.content_range.as_deref(), x.offset, x.length))
                .collect();
            let first = body.windows(4).position(|w| w == b"0123").unwrap() as u64;
            let second = body.windows(3).position(|w| w == b"abc").unwrap() as u64;
            assert_eq!(
                got,
                vec![
                    (Some("bytes 0-9/3000"), first, 10),
                    (Some("bytes 20-29/3000"), second, 10)
                ],
                "cut {cut}"
            );
        }
        assert!(MultipartScanner::for_content_type(b"text/plain").is_none());
        assert!(MultipartScanner::for_content_type(b"multipart/byteranges").is_none());
    }

    #[test]
    fn multipart_scanner_is_bounded_on_garbage() {
        let mut s =
            MultipartScanner::for_content_type(b"multipart/byteranges; boundary=\"b\"").unwrap();
        s.feed(b"--b\r\n");
        for _ in 0..10_000 {
            s.feed(b"X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        s.feed(&vec![b'z'; 1 << 20]);
        assert!(s.line.capacity() <= 2 * LINE_CAP);
        let p = s.finish();
        assert!(p.parts.is_empty());
    }
}
