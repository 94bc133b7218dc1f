//! Preflights (Fetch standard, "CORS-preflight fetch" and "CORS-preflight cache"): whether the
//! browser lets a preflight through, remembered per client, origin and URL; and for a later
//! request, the preflight that cleared it.

use super::{
    Blocked, Cross, Preflight, State, Tokens, cors_check, forbidden_request_header,
    preflight_check, safelisted_method, safelisted_request_header,
};
use crate::model::codes;
use crate::model::semantics::CorsInfo;
use crate::semantics::util::{list, number, text, trim};
use crate::semantics::{Exchange, Found};

/// The header names a preflight asks for (Access-Control-Request-Headers), lowercased.
fn requested_headers(c: &Exchange<'_>) -> Vec<String> {
    c.req
        .map(|x| {
            x.headers
                .values("access-control-request-headers")
                .flat_map(list)
                .take(64)
                .map(|h| text(h).to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

/// The CORS-preflight fetch (Fetch standard): the method and headers the preflight asks for,
/// its response's CORS check and its method and header checks; remembered, with whether a credentialed
/// request would pass it too, for the request it clears. Returns why the browser blocks it.
pub(super) fn fetch(
    x: &Cross<'_, '_>,
    methods: &Tokens,
    headers: &Tokens,
    st: &mut State,
    info: &mut CorsInfo,
    out: &mut Vec<Found>,
) -> Vec<Blocked> {
    let c = x.c;
    let (q, r) = (&c.q, &c.r);
    let mut reasons: Vec<Blocked> = Vec::new();
    let rm = text(trim(q.acr_method.unwrap_or_default()));
    let rh = requested_headers(c);
    info.request_method = Some(rm.clone());
    info.request_headers = rh.clone();
    let Some(resp) = c.resp else {
        return reasons;
    };
    let acao: Vec<&[u8]> = c
        .response_lines(r.acao, "access-control-allow-origin")
        .collect();
    reasons.extend(cors_check(&acao, r.acac, x.origin, false));
    match (methods, headers) {
        (Err(bad), _) => reasons.push((
            &codes::CORS_METHOD_NOT_ALLOWED,
            format!("Access-Control-Allow-Methods contains the invalid value '{bad}' in preflight response.").into(),
        )),
        (_, Err(bad)) => reasons.push((
            &codes::CORS_HEADER_NOT_ALLOWED,
            format!("Access-Control-Allow-Headers contains the invalid value '{bad}' in preflight response.").into(),
        )),
        (Ok(m), Ok(h)) => reasons.extend(preflight_check(resp.status, m, h, &rm, &rh, false)),
    }
    // Would a credentialed request pass this preflight's CORS check too? The preflight
    // itself never says (it carries no credentials).
    let credentials_ok = cors_check(&acao, r.acac, x.origin, true).is_none();
    if reasons.is_empty() && !credentials_ok && r.acac.is_some() {
        info.notes.push(
            "allowed for a request without credentials; a fetch with credentials: \
             'include' also needs the exact origin and Access-Control-Allow-Credentials: \
             true on this preflight, else the browser blocks it here"
                .into(),
        );
    }
    let max_age = r.acma.and_then(number).map_or(5, |n| n.min(7200) as i64);
    if st.preflights.insert(
        x.key,
        Preflight {
            txn: c.t.id,
            method: rm,
            headers: rh,
            blocked: !reasons.is_empty(),
            credentials_ok,
            at: x.now,
            max_age,
            used: false,
        },
    ) {
        out.push(Found::limit(&codes::CORS_STATE_LIMIT, "pending preflights"));
    }
    reasons
}

/// The request fields that make a request non-simple: neither forbidden to scripts nor
/// CORS-safelisted (Fetch standard), lowercased. HTTP/2's pseudo-header fields (`:method`,
/// `:path`, ...) are the request line, not header fields a script sets.
fn custom_headers(c: &Exchange<'_>) -> Vec<String> {
    c.req
        .map(|x| {
            x.headers
                .iter()
                .filter(|h| {
                    let n = h.name_str();
                    !h.pseudo
                        && !forbidden_request_header(&n)
                        && !safelisted_request_header(&n, h.value)
                })
                .take(32)
                .map(|h| h.name_str().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

/// The preflight that cleared this request, when one was seen: it allowed this method and
/// these headers, and is unused or still cached (Access-Control-Max-Age; Fetch standard,
/// CORS-preflight cache). A credentialed
/// request also needs a preflight that passes with credentials. Returns why the browser blocks
/// the request on account of its preflight.
pub(super) fn cleared_by(x: &Cross<'_, '_>, st: &mut State, info: &mut CorsInfo) -> Vec<Blocked> {
    let c = x.c;
    let mut reasons: Vec<Blocked> = Vec::new();
    let method = c.method;
    let custom = custom_headers(c);
    let needs_preflight = !safelisted_method(method) || !custom.is_empty();
    if let Some(p) = st.preflights.get_mut(&x.key) {
        let fits = (p.method == method || safelisted_method(method))
            && custom.iter().all(|h| p.headers.contains(h));
        let cached = p.used && x.now - p.at <= p.max_age;
        if fits && (!p.used || cached) {
            info.preflight = Some(p.txn);
            if p.used {
                info.notes.push(
                    format!(
                        "cleared by the cached preflight #{} (Access-Control-Max-Age)",
                        p.txn
                    )
                    .into(),
                );
            }
            p.used = true;
            if p.blocked {
                info.notes.push(
                    format!(
                        "sent although its preflight #{} failed: a browser would not have sent it (not a browser, or the preflight was for other headers)",
                        p.txn
                    )
                    .into(),
                );
            }
            if x.include && !p.credentials_ok {
                reasons.push((
                    &codes::CORS_CREDENTIALS_NOT_ALLOWED,
                    format!(
                        "Response to preflight request #{} doesn't pass access control check for a credentialed request: it needs the exact origin and Access-Control-Allow-Credentials: true.",
                        p.txn
                    )
                    .into(),
                ));
            }
        }
    }
    if needs_preflight && info.preflight.is_none() {
        info.notes.push(
            "a non-simple request (method or headers) with no preflight in the capture: one cached from before the capture, or not a browser".into(),
        );
    }
    reasons
}
