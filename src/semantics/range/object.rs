//! Resumed downloads: the pieces several transactions delivered of one object (per client and
//! URL), assembled into one, and the If-Range of a resume checked against the earlier pieces.

use std::net::IpAddr;

use super::{MAX_PIECES, Object, Span, State, covered};
use crate::model::codes;
use crate::model::semantics::{Piece, RangeInfo, RangeObject};
use crate::semantics::util::{text, trim};
use crate::semantics::{Exchange, Found, Side};

/// Does the resume's If-Range name the representation the earlier pieces came from (RFC 9110
/// §13.1.5: an entity-tag by strong comparison, or the Last-Modified date)?
pub(super) fn if_range(c: &Exchange<'_>, st: &State, k: (IpAddr, u64), info: &mut RangeInfo) {
    if let Some(ir) = c.q.if_range
        && let Some(o) = st.objects.get(&k)
    {
        let ir = trim(ir);
        // 0x22 opens an entity-tag (written as an escape: tests/it/docs.rs pairs quote characters).
        info.if_range_matches = if ir.starts_with(b"\x22") || ir.starts_with(b"W/") {
            o.etag
                .as_deref()
                .map(|e| !ir.starts_with(b"W/") && e.as_bytes() == ir)
        } else {
            o.last_modified.as_deref().map(|lm| lm.as_bytes() == ir)
        };
    }
}

/// The object this piece is part of, assembled from the pieces of the client's earlier
/// transactions for the URL: a piece of another representation (ETag or length changed)
/// starts it over, since pieces of two versions make a corrupt file (RFC 9110 §13.1.5); from
/// two pieces on, the object is listed with the bytes they cover.
pub(super) fn assemble(
    c: &Exchange<'_>,
    st: &mut State,
    k: (IpAddr, u64),
    piece: Span,
    info: &mut RangeInfo,
    out: &mut Vec<Found>,
) {
    let r = &c.r;
    let Span {
        first: f,
        last: l,
        complete_length: complete,
    } = piece;
    let etag = r.etag.map(text);
    let lm = r.last_modified.map(text);
    let (o, evicted) = st.objects.get_or_insert_with(k, || Object {
        complete_length: complete,
        etag: etag.clone(),
        last_modified: lm.clone(),
        pieces: Vec::new(),
    });
    if evicted {
        out.push(Found::limit(
            &codes::RANGE_STATE_LIMIT,
            "resumed-download objects",
        ));
    }
    let changed_len =
        o.complete_length.is_some() && complete.is_some() && o.complete_length != complete;
    let changed_tag = matches!((&o.etag, &etag), (Some(a), Some(b)) if a != b);
    if !o.pieces.is_empty() && (changed_len || changed_tag) {
        out.push(Found::new(
            &codes::RANGE_OBJECT_CHANGED,
            Side::Response,
            format!(
                "this piece comes from a different representation than the earlier ones \
                 ({}): pieces of two versions make a corrupt file; resume with If-Range \
                 (RFC 9110 §13.1.5)",
                if changed_tag {
                    format!(
                        "ETag {} then {}",
                        o.etag.as_deref().unwrap_or_default(),
                        etag.as_deref().unwrap_or_default()
                    )
                } else {
                    format!(
                        "length {} then {}",
                        o.complete_length.unwrap_or(0),
                        complete.unwrap_or(0)
                    )
                }
            ),
        ));
        o.pieces.clear();
    }
    o.complete_length = complete.or(o.complete_length);
    o.etag = etag.or(o.etag.take());
    o.last_modified = lm.or(o.last_modified.take());
    if o.pieces.len() >= MAX_PIECES {
        o.pieces.remove(0);
    }
    o.pieces.push(Piece {
        transaction: c.t.id,
        first: f,
        last: l,
    });
    if o.pieces.len() >= 2 {
        let cov = covered(&o.pieces);
        info.object = Some(RangeObject {
            pieces: o.pieces.clone(),
            complete_length: o.complete_length,
            covered: cov,
            complete: o.complete_length.is_some_and(|n| cov >= n),
            etag: o.etag.clone(),
        });
    }
}
