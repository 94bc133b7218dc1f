//! Conditional requests (RFC 9110 §13.1): the earlier response whose validator a request
//! carries, the answer checked against it, and the validators of each response remembered for
//! the requests that follow.

use super::{PER_URL, State, Validator, etag_key, etags, weak_match};
use crate::model::codes;
use crate::model::semantics::{CacheInfo, Conditional};
use crate::semantics::util::text;
use crate::semantics::{Exchange, Found, Side, date};

/// Links a conditional request to the earlier response whose validator it carries, and
/// checks a 304 against it.
pub(super) fn link(c: &Exchange<'_>, st: &State, out: &mut Vec<Found>) -> Conditional {
    let q = &c.q;
    let inm_lines: Vec<&[u8]> = c.request_lines(q.if_none_match, "if-none-match").collect();
    let inm = etags(inm_lines.iter().copied());
    let ims = q.if_modified_since;
    let mut cond = Conditional {
        if_none_match: (!inm_lines.is_empty()).then(|| {
            inm_lines
                .iter()
                .map(|v| text(v))
                .collect::<Vec<_>>()
                .join(", ")
        }),
        if_modified_since: ims.map(text),
        outcome: "other",
        ..Conditional::default()
    };
    let earlier = c.url_key.and_then(|k| st.urls.get(&k));
    // Same client first, then anyone's (a shared cache or another client in the capture).
    let mut found: Option<(&Validator, &'static str)> = None;
    if let Some(vs) = earlier {
        let ims_t = ims.and_then(date::parse);
        for same_client in [true, false] {
            for v in vs
                .iter()
                .flatten()
                .filter(|v| (v.client == c.client) == same_client)
            {
                if !inm.is_empty() {
                    if let Some(e) = v.etag()
                        && inm.iter().any(|t| *t == b"*" || etag_key(t) == e)
                    {
                        found = Some((v, "etag"));
                    }
                } else if let (Some(i), Some(lm)) = (ims_t, v.last_modified())
                    && i == lm
                {
                    found = Some((v, "last-modified"));
                }
                if found.is_some() {
                    break;
                }
            }
            if found.is_some() {
                break;
            }
        }
    }
    if let Some((v, by)) = found {
        cond.validator_of = Some(v.txn);
        cond.linked_by = Some(by);
    } else if let Some(vs) = earlier.filter(|vs| vs.iter().any(Option::is_some)) {
        let seen: Vec<String> = vs.iter().flatten().map(|v| format!("#{}", v.txn)).collect();
        let msg = format!(
            "the conditional request's validator matches none of the earlier responses for this \
             URL in the capture ({}): the client revalidates a representation it got elsewhere \
             (RFC 9110 §13.1)",
            seen.join(", ")
        );
        cond.note = Some(msg.clone().into());
        out.push(Found::new(
            &codes::CACHE_VALIDATOR_UNMATCHED,
            Side::Request,
            msg,
        ));
    } else {
        cond.note = Some(
            "no earlier response for this URL in the capture: the client cached it before the \
             capture started"
                .into(),
        );
    }
    let Some(resp) = c.resp else {
        cond.outcome = "no-response";
        return cond;
    };
    let resp_etag = c.r.etag;
    cond.outcome = match resp.status {
        304 => "not-modified",
        412 => "precondition-failed",
        200..=299 => {
            if resp_etag.is_some_and(|e| inm.iter().any(|t| weak_match(t, e))) {
                "unchanged-but-sent"
            } else {
                "modified"
            }
        }
        _ => "other",
    };
    if cond.outcome == "unchanged-but-sent" {
        cond.note = Some(
            "the server sent the whole representation although its ETag is one the client \
             already had: it ignores If-None-Match (RFC 9110 §13.1.2)"
                .into(),
        );
    }
    if resp.status == 304 {
        let mut bad: Vec<String> = Vec::new();
        if let Some(e) = resp_etag {
            if !inm.is_empty() && !inm.iter().any(|t| *t == b"*" || weak_match(t, e)) {
                bad.push(format!(
                    "its ETag {} is none of If-None-Match {}",
                    text(e),
                    cond.if_none_match.as_deref().unwrap_or_default()
                ));
            } else if let Some((v, _)) = found
                && let Some(le) = v.etag()
                && etag_key(e) != le
            {
                bad.push(format!(
                    "its ETag {} differs from the one #{} carried",
                    text(e),
                    v.txn
                ));
            }
        }
        if inm.is_empty()
            && let (Some(i), Some(lm)) = (ims.and_then(date::parse), c.r.last_modified)
            && date::parse(lm).is_some_and(|t| t > i)
        {
            bad.push(format!(
                "its Last-Modified {} is after If-Modified-Since: the representation changed \
                 and a 200 was due",
                text(lm)
            ));
        }
        cond.matches = Some(bad.is_empty());
        if !bad.is_empty() {
            out.push(Found::new(
                &codes::CACHE_304_MISMATCH,
                Side::Response,
                format!(
                    "304 Not Modified, but {} (RFC 9110 §13.1, §15.4.5): the client keeps a \
                     stale copy; fix the server's validators",
                    bad.join("; ")
                ),
            ));
        }
    }
    cond
}

/// Remembers this response's validators for later conditional requests.
/// `last_modified`: the response's Last-Modified as a time.
pub(super) fn remember(
    c: &Exchange<'_>,
    st: &mut State,
    info: &CacheInfo,
    last_modified: Option<i64>,
    out: &mut Vec<Found>,
) {
    let (Some(resp), Some(key)) = (c.resp, c.url_key) else {
        return;
    };
    if !(200..300).contains(&resp.status) || (info.etag.is_none() && info.last_modified.is_none()) {
        return;
    }
    let v = Validator::new(c.t.id, c.client, c.r.etag.map(etag_key), last_modified);
    let (vs, evicted) = st.urls.get_or_insert_with(key, || [None; PER_URL]);
    let same = |o: &Validator| o.etag() == v.etag() && o.last_modified() == v.last_modified();
    // The same representation again becomes the newest; else the oldest goes. The older ones
    // move down one by one (`rotate_right` cost more than the copies of these few).
    let at = vs
        .iter()
        .position(|o| o.as_ref().is_some_and(same))
        .unwrap_or(PER_URL - 1);
    for k in (1..=at).rev() {
        vs[k] = vs[k - 1];
    }
    vs[0] = Some(v);
    if evicted {
        out.push(Found::limit(
            &codes::CACHE_STATE_LIMIT,
            "validators of earlier responses",
        ));
    }
}
