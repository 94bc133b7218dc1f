//! What came back to a range request, and whether it is what was asked: the Content-Range, the
//! bytes a 206 delivered against it (one range or multipart/byteranges parts), a 416, and a
//! whole representation sent instead of a range.

use super::{Span, delivered, parse_content_range, requested, resolve};
use crate::model::codes;
use crate::model::http::{BodyState, ResponseRecord};
use crate::model::semantics::{ContentRange, RangeInfo, RangePart};
use crate::semantics::util::{number, text, trim};
use crate::semantics::{Exchange, Found, Side};

/// The Content-Range that came back (RFC 9110 §14.4), noted when it does not parse.
pub(super) fn content_range(c: &Exchange<'_>, info: &mut RangeInfo) {
    let r = &c.r;
    info.content_range = r.content_range.and_then(parse_content_range);
    if r.content_range.is_some() && info.content_range.is_none() {
        info.notes.push(
            format!(
                "Content-Range {:?} does not parse (RFC 9110 §14.4)",
                text(r.content_range.unwrap_or_default())
            )
            .into(),
        );
    }
}

/// A 206 with multipart/byteranges (RFC 9110 §14.6): every part checked, the bytes they
/// carry counted, and whether the body reached its close delimiter.
pub(super) fn multipart_parts(resp: &ResponseRecord, info: &mut RangeInfo, out: &mut Vec<Found>) {
    info.outcome = "multipart";
    let mut total = 0;
    let mut all_ok = true;
    match resp.body.byteranges.as_deref() {
        Some(mp) => {
            for p in &mp.parts {
                let mut p = p.clone();
                p.matches = part_matches(&p, info, out);
                all_ok &= p.matches;
                total += p.length;
                info.parts.push(p);
            }
            if mp.more > 0 {
                info.notes
                    .push(format!("{} more parts not listed", mp.more).into());
            }
            if !mp.closed {
                info.notes
                    .push("the body ended before the close delimiter".into());
                all_ok = false;
            }
            if info.ranges.len() > 1 && mp.parts.len() + (mp.more as usize) > info.ranges.len() {
                info.notes.push("more parts than requested ranges".into());
            }
            info.delivered_bytes = Some(total);
            info.matches = Some(all_ok);
        }
        None => info
            .notes
            .push("the parts were not inspected (no valid boundary)".into()),
    }
}

/// One multipart/byteranges part: does it carry a Content-Range (RFC 9110 §14.6), as many
/// bytes as that range, and a range that was asked for (§14.2)?
fn part_matches(p: &RangePart, info: &RangeInfo, out: &mut Vec<Found>) -> bool {
    let cr = p
        .content_range
        .as_deref()
        .and_then(|v| parse_content_range(v.as_bytes()));
    match cr {
        Some(ContentRange {
            first: Some(f),
            last: Some(l),
            complete_length,
            ..
        }) => {
            let (_, overlaps) = requested(&info.ranges, complete_length, f, l);
            let len_ok = p.length == (l - f).saturating_add(1);
            if !len_ok {
                out.push(Found::new(
                    &codes::RANGE_LENGTH_MISMATCH,
                    Side::Response,
                    format!(
                        "a multipart/byteranges part says Content-Range {} ({} bytes) but carries {} bytes (RFC 9110 §14.6): the client assembles corrupt data",
                        p.content_range.as_deref().unwrap_or_default(),
                        (l - f).saturating_add(1),
                        p.length
                    ),
                ));
            }
            if !overlaps && !info.ranges.is_empty() {
                out.push(Found::new(
                    &codes::RANGE_NOT_REQUESTED,
                    Side::Response,
                    format!(
                        "a part carries bytes {f}-{l}, which the Range {} did not ask for (RFC 9110 §14.2)",
                        info.request.as_deref().unwrap_or_default()
                    ),
                ));
            }
            len_ok && (overlaps || info.ranges.is_empty())
        }
        _ => {
            out.push(Found::new(
                &codes::RANGE_CONTENT_RANGE_MISSING,
                Side::Response,
                "a multipart/byteranges part without a valid Content-Range (RFC 9110 §14.6 requires one per part)".into(),
            ));
            false
        }
    }
}

/// A 206 to HEAD: partial, with no content to check (RFC 9110 §9.3.2).
pub(super) fn head_partial(info: &mut RangeInfo) {
    info.outcome = "partial";
    info.notes
        .push("a 206 to HEAD: no content to check against Content-Range".into());
}

/// A 206 with one range (RFC 9110 §15.3.7): was a range asked for, does the body carry the
/// bytes its Content-Range announces (§14.4), is that range one that was asked for (§14.2);
/// the piece of the object it delivered.
pub(super) fn single_range(
    c: &Exchange<'_>,
    resp: &ResponseRecord,
    info: &mut RangeInfo,
    out: &mut Vec<Found>,
) -> Option<Span> {
    let q = &c.q;
    let mut piece = None;
    info.outcome = "partial";
    let d = delivered(&resp.body);
    info.delivered_bytes = Some(d);
    if q.range.is_none() {
        out.push(Found::new(
            &codes::RANGE_NOT_REQUESTED,
            Side::Response,
            "206 Partial Content to a request without Range (RFC 9110 §15.3.7: only a \
             range request gets 206)"
                .into(),
        ));
    }
    match info.content_range {
        Some(ContentRange {
            first: Some(f),
            last: Some(l),
            complete_length,
            ..
        }) => {
            let want = (l - f).saturating_add(1);
            info.expected_bytes = Some(want);
            let complete_body = resp.body.state == BodyState::Complete;
            let len_ok = d == want;
            if complete_body && !len_ok {
                out.push(Found::new(
                    &codes::RANGE_LENGTH_MISMATCH,
                    Side::Response,
                    format!(
                        "Content-Range bytes {f}-{l} announces {want} bytes but the body \
                         has {d} (RFC 9110 §14.4): a client writing it at offset {f} \
                         corrupts the file"
                    ),
                ));
            } else if !complete_body {
                info.notes.push(
                    format!("the transfer was cut after {d} of {want} bytes: a resume asks for bytes={}-", f + d).into(),
                );
            }
            let (exact, overlaps) = requested(&info.ranges, complete_length, f, l);
            if !info.ranges.is_empty() && !overlaps {
                out.push(Found::new(
                    &codes::RANGE_NOT_REQUESTED,
                    Side::Response,
                    format!(
                        "206 with bytes {f}-{l}, which the Range {} did not ask for \
                         (RFC 9110 §14.2)",
                        info.request.as_deref().unwrap_or_default()
                    ),
                ));
            } else if !info.ranges.is_empty() && !exact {
                info.notes.push(
                    "the server sent a different range than requested (coalesced or \
                     shortened; RFC 9110 §14.2 allows coalescing)"
                        .into(),
                );
            }
            info.matches = Some(len_ok && complete_body && (overlaps || info.ranges.is_empty()));
            if d > 0 {
                piece = Some(Span {
                    first: f,
                    last: f + d.min(want) - 1,
                    complete_length,
                });
            }
        }
        _ => {
            info.matches = Some(false);
            out.push(Found::new(
                &codes::RANGE_CONTENT_RANGE_MISSING,
                Side::Response,
                "206 with one range but no valid Content-Range (RFC 9110 §15.3.7.1: the \
                 server must say which bytes it sent); the client cannot place them"
                    .into(),
            ));
        }
    }
    piece
}

/// A 416 (RFC 9110 §15.5.17): does its Content-Range give the length, and is the range asked
/// really unsatisfiable for that length?
pub(super) fn unsatisfiable(info: &mut RangeInfo, out: &mut Vec<Found>) {
    info.outcome = "unsatisfiable";
    match info.content_range {
        Some(ContentRange {
            unsatisfied: true,
            complete_length: Some(n),
            ..
        }) => {
            let ok: Vec<String> = info
                .ranges
                .iter()
                .filter_map(|x| resolve(x, n))
                .map(|(a, b)| format!("{a}-{b}"))
                .collect();
            if !ok.is_empty() {
                out.push(Found::new(
                    &codes::RANGE_416_SATISFIABLE,
                    Side::Response,
                    format!(
                        "416 although the representation has {n} bytes and the range \
                         selects {} (RFC 9110 §15.5.17): the server's length is wrong \
                         or it mishandles ranges",
                        ok.join(", ")
                    ),
                ));
                info.matches = Some(false);
            } else {
                info.matches = Some(true);
            }
        }
        _ => info.notes.push(
            "416 without Content-Range: bytes */length (RFC 9110 §15.5.17 asks for \
             one so the client learns the length)"
                .into(),
        ),
    }
}

/// A 2xx with the whole representation: a Range the server ignored (RFC 9110 §14.2), and a cut
/// download, whose bytes are the first piece a resume continues.
pub(super) fn whole(
    c: &Exchange<'_>,
    resp: &ResponseRecord,
    cut_download: bool,
    info: &mut RangeInfo,
    out: &mut Vec<Found>,
) -> Option<Span> {
    let q = &c.q;
    let mut piece = None;
    let d = delivered(&resp.body);
    info.delivered_bytes = Some(d);
    if q.range.is_some() && c.method == "GET" {
        info.outcome = "ignored";
        let why = why_ignored(c);
        info.notes.push(why.clone().into());
        out.push(Found::new(&codes::RANGE_IGNORED, Side::Response, why));
    } else {
        info.outcome = "full";
    }
    if cut_download {
        let cl = resp.headers.get("content-length").and_then(number);
        piece = Some(Span {
            first: 0,
            last: d - 1,
            complete_length: cl,
        });
        info.notes.push(
            format!("the transfer was cut after {d} bytes: a resume asks for bytes={d}-").into(),
        );
    }
    piece
}

/// Why the server sent all of it to a Range: an If-Range that no longer matches (RFC 9110
/// §13.1.5), no range support (Accept-Ranges: none, §14.3), or none for this resource (§14.2).
fn why_ignored(c: &Exchange<'_>) -> String {
    let q = &c.q;
    let r = &c.r;
    if let Some(ir) = q.if_range {
        let cur_etag = r.etag.map(trim);
        let cur_lm = r.last_modified.map(trim);
        let ir = trim(ir);
        if Some(ir) != cur_etag && Some(ir) != cur_lm {
            format!(
                "If-Range {} no longer names the current representation ({}): the \
                 server sent all of it and the download restarts from byte 0 (RFC \
                 9110 §13.1.5)",
                text(ir),
                text(cur_etag.or(cur_lm).unwrap_or(b"no validator"))
            )
        } else {
            "the server ignored Range although If-Range matched: it does not \
             support ranges here; the download restarts from byte 0"
                .into()
        }
    } else if r
        .accept_ranges
        .is_some_and(|a| trim(a).eq_ignore_ascii_case(b"none"))
    {
        "the server does not support ranges (Accept-Ranges: none): the download \
         restarts from byte 0"
            .into()
    } else {
        "the server answered the Range with the whole representation (no range \
         support for this resource, RFC 9110 §14.2 lets it): the download restarts \
         from byte 0"
            .to_string()
    }
}
