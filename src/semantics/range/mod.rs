//! Range requests (RFC 9110 §14): Range, If-Range, Accept-Ranges, 206 with Content-Range
//! (one range or multipart/byteranges), 416; the bytes delivered checked against the
//! Content-Range and the requested ranges; resumed downloads assembled into one object from
//! the pieces of several transactions.
//!
//! The parts of a multipart/byteranges body are found while it streams through the HTTP
//! analyzer ([`crate::analyzers::http::content::byteranges`]), since bodies are not kept; they
//! arrive here in the body record.

mod object;
mod response;

use std::net::IpAddr;

use super::util::{Bounded, text, trim};
use super::{Exchange, Found};
use crate::analyzers::http::content::byteranges::multipart_boundary;
use crate::model::http::{BodyRecord, BodyState, ResponseRecord};
use crate::model::semantics::{ByteRange, ContentRange, Piece, RangeInfo};

/// Ranges parsed from one Range field.
const MAX_RANGES: usize = 32;
/// Pieces kept per object.
const MAX_PIECES: usize = 32;

/// Parses `Range` (RFC 9110 §14.2): Ok(ranges) for `bytes=`, Err(why) otherwise.
pub fn parse_range(v: &[u8]) -> Result<Vec<ByteRange>, String> {
    let v = trim(v);
    let Some(eq) = v.iter().position(|&c| c == b'=') else {
        return Err("no '=' after the range unit".into());
    };
    let unit = trim(&v[..eq]);
    if !unit.eq_ignore_ascii_case(b"bytes") {
        return Err(format!(
            "range unit {:?} is not bytes: servers ignore it (RFC 9110 §14.1)",
            text(unit)
        ));
    }
    let mut out = Vec::new();
    for spec in v[eq + 1..].split(|&c| c == b',').map(trim) {
        if spec.is_empty() {
            continue;
        }
        if out.len() >= MAX_RANGES {
            break;
        }
        let Some(dash) = spec.iter().position(|&c| c == b'-') else {
            return Err(format!("{:?} is not a byte range", text(spec)));
        };
        let (a, b) = (trim(&spec[..dash]), trim(&spec[dash + 1..]));
        let num = |x: &[u8]| super::util::number(x);
        let r = match (a.is_empty(), b.is_empty()) {
            (true, false) => ByteRange {
                first: None,
                last: None,
                suffix: Some(num(b).ok_or_else(|| format!("bad suffix {:?}", text(b)))?),
            },
            (false, true) => ByteRange {
                first: Some(num(a).ok_or_else(|| format!("bad first-pos {:?}", text(a)))?),
                last: None,
                suffix: None,
            },
            (false, false) => {
                let (f, l) = (
                    num(a).ok_or_else(|| format!("bad first-pos {:?}", text(a)))?,
                    num(b).ok_or_else(|| format!("bad last-pos {:?}", text(b)))?,
                );
                if l < f {
                    return Err(format!(
                        "{}-{} ends before it starts (RFC 9110 §14.1.1: invalid)",
                        f, l
                    ));
                }
                ByteRange {
                    first: Some(f),
                    last: Some(l),
                    suffix: None,
                }
            }
            (true, true) => return Err("a bare '-' is not a range".into()),
        };
        out.push(r);
    }
    if out.is_empty() {
        return Err("no ranges".into());
    }
    Ok(out)
}

/// The bytes a range selects of a representation of `len` bytes (RFC 9110 §14.1.2), None
/// when unsatisfiable.
pub fn resolve(r: &ByteRange, len: u64) -> Option<(u64, u64)> {
    if len == 0 {
        return None;
    }
    match (r.first, r.last, r.suffix) {
        (Some(f), Some(l), _) if f < len => Some((f, l.min(len - 1))),
        (Some(f), None, _) if f < len => Some((f, len - 1)),
        (None, None, Some(n)) if n > 0 => Some((len - n.min(len), len - 1)),
        _ => None,
    }
}

/// Parses `Content-Range` (RFC 9110 §14.4): `bytes a-b/N`, `bytes a-b/*`, `bytes */N`.
pub fn parse_content_range(v: &[u8]) -> Option<ContentRange> {
    let v = trim(v);
    let sp = v.iter().position(|&c| c == b' ')?;
    if !v[..sp].eq_ignore_ascii_case(b"bytes") {
        return None;
    }
    let rest = trim(&v[sp..]);
    let slash = rest.iter().position(|&c| c == b'/')?;
    let (range, len) = (trim(&rest[..slash]), trim(&rest[slash + 1..]));
    let complete_length = if len == b"*" {
        None
    } else {
        Some(super::util::number(len)?)
    };
    if range == b"*" {
        return Some(ContentRange {
            first: None,
            last: None,
            complete_length,
            unsatisfied: true,
        });
    }
    let dash = range.iter().position(|&c| c == b'-')?;
    let f = super::util::number(&range[..dash])?;
    let l = super::util::number(&range[dash + 1..])?;
    if l < f || complete_length.is_some_and(|n| l >= n) {
        return None;
    }
    Some(ContentRange {
        first: Some(f),
        last: Some(l),
        complete_length,
        unsatisfied: false,
    })
}

/// Whether `(f, l)` is what one of the requested ranges selects, or lies inside the union of
/// the selections (a server may coalesce, RFC 9110 §14.2).
fn requested(ranges: &[ByteRange], len: Option<u64>, f: u64, l: u64) -> (bool, bool) {
    let len = len.unwrap_or(u64::MAX);
    let sel: Vec<(u64, u64)> = ranges.iter().filter_map(|r| resolve(r, len)).collect();
    let exact = sel.iter().any(|&(a, b)| a == f && b == l);
    let overlaps = sel.iter().any(|&(a, b)| a <= l && f <= b);
    (exact, overlaps)
}

// ---- resumed downloads -------------------------------------------------------------------

struct Object {
    complete_length: Option<u64>,
    etag: Option<String>,
    last_modified: Option<String>,
    pieces: Vec<Piece>,
}

pub struct State {
    objects: Bounded<(IpAddr, u64), Object>,
}

impl State {
    pub fn new(cap: usize) -> Self {
        State {
            objects: Bounded::new(cap),
        }
    }
    pub fn evicted(&self) -> u64 {
        self.objects.evicted
    }
}

fn covered(pieces: &[Piece]) -> u64 {
    let mut v: Vec<(u64, u64)> = pieces.iter().map(|p| (p.first, p.last)).collect();
    v.sort_unstable();
    let mut total = 0u64;
    let mut cur: Option<(u64, u64)> = None;
    for (a, b) in v {
        match cur {
            Some((ca, cb)) if a <= cb.saturating_add(1) => cur = Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total = total.saturating_add((cb - ca).saturating_add(1));
                cur = Some((a, b));
            }
            None => cur = Some((a, b)),
        }
    }
    if let Some((a, b)) = cur {
        total = total.saturating_add((b - a).saturating_add(1));
    }
    total
}

/// Bytes of a body as delivered (a cut transfer counts what arrived).
fn delivered(b: &BodyRecord) -> u64 {
    b.length
}

/// Bytes of the object a response delivered: the first piece of a resume, or a later one.
struct Span {
    first: u64,
    last: u64,
    complete_length: Option<u64>,
}

/// What was asked: the ranges of the Range field (RFC 9110 §14.2), noted when they do not
/// parse or come with a method other than GET, whose Range servers ignore.
fn asked(c: &Exchange<'_>) -> RangeInfo {
    let q = &c.q;
    let r = &c.r;
    let mut info = RangeInfo {
        request: q.range.map(text),
        if_range: q.if_range.map(text),
        accept_ranges: r.accept_ranges.map(text),
        outcome: "other",
        ..RangeInfo::default()
    };
    if let Some(v) = q.range {
        match parse_range(v) {
            Ok(rs) => info.ranges = rs,
            Err(e) => info.notes.push(format!("Range ignored: {e}").into()),
        }
        if c.method != "GET" && !c.method.is_empty() {
            info.notes.push(
                format!(
                    "Range on {}: servers ignore it for methods other than GET (RFC 9110 §14.2)",
                    c.method
                )
                .into(),
            );
        }
    }
    info
}

/// A GET answered with 200 whose body was cut: the first piece of a download to resume.
fn cut_download(c: &Exchange<'_>) -> bool {
    c.method == "GET"
        && c.status() == Some(200)
        && c.resp
            .is_some_and(|x| matches!(x.body.state, BodyState::Incomplete) && x.body.length > 0)
}

/// A 206 whose parts are multipart/byteranges (RFC 9110 §14.6), by its parts or its
/// Content-Type.
fn is_multipart(c: &Exchange<'_>, resp: &ResponseRecord) -> bool {
    resp.body.byteranges.is_some()
        || c.r
            .content_type
            .is_some_and(|ct| multipart_boundary(ct).is_some())
}

/// The range part of a transaction; None when nothing range-related happened. It answers: what
/// was asked, what came back, whether the bytes delivered are what was asked (one range, the
/// parts of a multipart/byteranges, a 416, a whole representation instead), and which object
/// they are a piece of.
pub fn analyse(c: &Exchange<'_>, st: &mut State, out: &mut Vec<Found>) -> Option<RangeInfo> {
    let cut_download = cut_download(c);
    let applies = c.q.range.is_some()
        || c.r.content_range.is_some()
        || matches!(c.status(), Some(206) | Some(416))
        || cut_download;
    if !applies {
        return None;
    }
    let mut info = asked(c);
    response::content_range(c, &mut info);
    let key = c.url_key.map(|k| (c.client, k));
    if let Some(k) = key {
        object::if_range(c, st, k, &mut info);
    }
    let Some(resp) = c.resp else {
        info.outcome = "no-response";
        return Some(info);
    };
    let piece = match resp.status {
        206 if is_multipart(c, resp) => {
            response::multipart_parts(resp, &mut info, out);
            None
        }
        206 if c.method == "HEAD" => {
            response::head_partial(&mut info);
            None
        }
        206 => response::single_range(c, resp, &mut info, out),
        416 => {
            response::unsatisfiable(&mut info, out);
            None
        }
        304 => {
            info.outcome = "not-modified";
            None
        }
        200..=299 => response::whole(c, resp, cut_download, &mut info, out),
        _ => None,
    };
    if let (Some(piece), Some(k)) = (piece, key) {
        object::assemble(c, st, k, piece, &mut info, out);
    }
    Some(info)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::type_complexity)]
    use super::*;

    fn br(first: Option<u64>, last: Option<u64>, suffix: Option<u64>) -> ByteRange {
        ByteRange {
            first,
            last,
            suffix,
        }
    }

    #[test]
    fn rfc9110_14_2_range_header() {
        let ok: &[(&str, Vec<ByteRange>)] = &[
            ("bytes=0-99", vec![br(Some(0), Some(99), None)]),
            ("bytes=1000-", vec![br(Some(1000), None, None)]),
            ("bytes=-500", vec![br(None, None, Some(500))]),
            (
                "Bytes=0-9, 20-29",
                vec![br(Some(0), Some(9), None), br(Some(20), Some(29), None)],
            ),
        ];
        for (v, want) in ok {
            assert_eq!(parse_range(v.as_bytes()).unwrap(), *want, "{v}");
        }
        for v in [
            "items=0-9",
            "bytes=9-0",
            "bytes=a-b",
            "bytes=-",
            "bytes",
            "bytes=",
        ] {
            assert!(parse_range(v.as_bytes()).is_err(), "{v}");
        }
    }

    #[test]
    fn rfc9110_14_1_2_ranges_resolved_against_the_length() {
        let n = 3000;
        let cases = [
            (br(Some(0), Some(99), None), Some((0, 99))),
            (br(Some(2990), Some(5000), None), Some((2990, 2999))),
            (br(Some(1000), None, None), Some((1000, 2999))),
            (br(None, None, Some(500)), Some((2500, 2999))),
            (br(None, None, Some(5000)), Some((0, 2999))),
            (br(Some(999_999), None, None), None),
            (br(None, None, Some(0)), None),
        ];
        for (r, want) in cases {
            assert_eq!(resolve(&r, n), want, "{r:?}");
        }
    }

    #[test]
    fn rfc9110_14_4_content_range() {
        let cases: &[(&str, Option<(Option<u64>, Option<u64>, Option<u64>, bool)>)] = &[
            (
                "bytes 0-99/3000",
                Some((Some(0), Some(99), Some(3000), false)),
            ),
            (
                "bytes 1000-3999/*",
                Some((Some(1000), Some(3999), None, false)),
            ),
            ("bytes */3000", Some((None, None, Some(3000), true))),
            ("bytes 5-4/10", None),
            ("bytes 0-10/10", None),
            ("items 0-1/2", None),
            ("bytes 0-1", None),
        ];
        for (v, want) in cases {
            let got = parse_content_range(v.as_bytes())
                .map(|c| (c.first, c.last, c.complete_length, c.unsatisfied));
            assert_eq!(got, *want, "{v}");
        }
    }
}
