//! What the browser makes of the response to a cross-origin request: the CORS check, whether
//! caches may hand it to another origin, the fields a script cannot read, and the block.

use super::{Blocked, Cross, cors_check, safelisted_response_header};
use crate::model::codes;
use crate::model::http::ResponseRecord;
use crate::model::semantics::CorsInfo;
use crate::semantics::util::{list, trim};
use crate::semantics::{Exchange, Found, Side};

/// The CORS check of the response to a request (Fetch standard), added to `reasons`; noted when
/// `*` passes only because no credentials were seen.
pub(super) fn check(x: &Cross<'_, '_>, info: &mut CorsInfo, reasons: &mut Vec<Blocked>) {
    let c = x.c;
    let r = &c.r;
    let include = x.include;
    if c.resp.is_some() {
        let acao: Vec<&[u8]> = c
            .response_lines(r.acao, "access-control-allow-origin")
            .collect();
        reasons.extend(cors_check(&acao, r.acac, x.origin, include));
        if !include
            && reasons.is_empty()
            && acao.first().is_some_and(|v| trim(v) == b"*")
            && r.acac.is_some()
        {
            info.notes.push(
                "allowed because no credentials were seen; with credentials: 'include' the browser blocks '*'".into(),
            );
        }
    }
}

/// Vary: Origin when the allowed origin is specific and the response may be cached (Fetch
/// standard, CORS protocol and HTTP caches): without it a cache serves one origin's answer to
/// another.
pub(super) fn missing_vary_origin(
    c: &Exchange<'_>,
    resp: &ResponseRecord,
    info: &CorsInfo,
    out: &mut Vec<Found>,
) {
    if !info.vary_origin
        && info.allow_origin.as_deref().is_some_and(|o| o != "*")
        && matches!(c.method, "GET" | "HEAD")
        && crate::semantics::cache::heuristically_cacheable(resp.status)
        && !resp
            .headers
            .values("cache-control")
            .flat_map(list)
            .any(|d| d.eq_ignore_ascii_case(b"no-store"))
    {
        out.push(Found::new(
            &codes::CORS_MISSING_VARY_ORIGIN,
            Side::Response,
            format!(
                "Access-Control-Allow-Origin names {} but the response has no Vary: Origin: a cache can hand it to another origin, whose fetch then fails (Fetch standard, CORS protocol and HTTP caches); add Vary: Origin",
                info.allow_origin.as_deref().unwrap_or_default()
            ),
        ));
    }
}

/// The response fields an allowed cross-origin script cannot read: neither CORS-safelisted nor
/// in Access-Control-Expose-Headers (Fetch standard).
pub(super) fn not_exposed(resp: &ResponseRecord, include: bool, info: &mut CorsInfo) {
    let star = !include && info.expose_headers.iter().any(|h| h == "*");
    for h in resp.headers.iter() {
        let n = h.name_str();
        let low = n.to_ascii_lowercase();
        // HTTP/2's `:status` is the status line, not a header field a script could read.
        if h.pseudo
            || safelisted_response_header(&low)
            || low == "set-cookie"
            || low == "set-cookie2"
            || star
            || info
                .expose_headers
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&low))
            || info
                .not_exposed
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&low))
        {
            continue;
        }
        if info.not_exposed.len() < 16 {
            info.not_exposed.push(n.into_owned());
        }
    }
}

/// The browser blocks the preflight or the response (`reasons` is not empty): one finding
/// with every reason in the console's words, under the first one's code.
pub(super) fn blocked(
    preflight: bool,
    origin_raw: &str,
    reasons: Vec<Blocked>,
    info: &mut CorsInfo,
    out: &mut Vec<Found>,
) {
    info.decision = "blocked";
    let (code, _) = reasons[0].clone();
    let target = if preflight { "preflight" } else { "response" };
    let msg = format!(
        "the browser blocks this cross-origin {target} from {origin_raw}: {} (Fetch standard, {}){}",
        reasons
            .iter()
            .map(|r| r.1.as_ref())
            .collect::<Vec<_>>()
            .join(" "),
        if preflight {
            "CORS-preflight fetch"
        } else {
            "CORS check"
        },
        if preflight {
            "; the request itself is never sent"
        } else {
            "; the script gets a network error"
        }
    );
    out.push(Found::new(code, Side::Response, msg));
    info.reasons = reasons.into_iter().map(|r| r.1).collect();
}
