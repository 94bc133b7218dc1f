//! CORS (Fetch standard, "CORS protocol"): for a cross-origin request or preflight, what the
//! browser decides from the response's Access-Control-* fields, with the reason in the words
//! of Chromium's console when it blocks; preflights paired with the request they cleared;
//! WebSocket upgrades with their Origin and whether the server checks it.
//!
//! The checks are the Fetch standard's "CORS check" and "CORS-preflight fetch" steps
//! ([`cors_check`], [`preflight_check`]). The request's credentials mode is not on the wire:
//! it is `include` when the request carried a Cookie or Authorization, or
//! `Sec-Fetch-Storage-Access` (which browsers send only in that mode); otherwise the decision
//! is the one for a request without credentials, and says so when that matters.

use std::net::IpAddr;

use super::util::{Bounded, canonical_origin, key_of, list, text, trim};
use super::{Exchange, Found, Side};
use crate::model::Endpoint;
use crate::model::codes::{self, Code};
use crate::model::semantics::{CorsInfo, Text};
use crate::model::syntax::is_tchar;

/// Why the browser blocks: (finding code, console-style reason).
pub type Blocked = (&'static Code, Text);

/// The Fetch standard's CORS check on one response.
pub fn cors_check(
    acao: &[&[u8]],
    acac: Option<&[u8]>,
    origin: &str,
    include: bool,
) -> Option<Blocked> {
    let origin = origin.trim();
    let Some(first) = acao.first().map(|v| trim(v)) else {
        return Some((
            &codes::CORS_ORIGIN_NOT_ALLOWED,
            "No 'Access-Control-Allow-Origin' header is present on the requested resource.".into(),
        ));
    };
    if acao.len() > 1 || first.contains(&b',') {
        let all: Vec<String> = acao.iter().map(|v| text(v)).collect();
        return Some((
            &codes::CORS_ORIGIN_NOT_ALLOWED,
            format!(
                "The 'Access-Control-Allow-Origin' header contains multiple values '{}', but only one is allowed.",
                all.join(", ")
            )
            .into(),
        ));
    }
    if first == b"*" {
        if include {
            return Some((
                &codes::CORS_WILDCARD_WITH_CREDENTIALS,
                "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.".into(),
            ));
        }
        return None;
    }
    if first != origin.as_bytes() {
        return Some((
            &codes::CORS_ORIGIN_NOT_ALLOWED,
            format!(
                "The 'Access-Control-Allow-Origin' header has a value '{}' that is not equal to the supplied origin.",
                text(first)
            )
            .into(),
        ));
    }
    if include && acac.map(trim) != Some(b"true") {
        return Some((
            &codes::CORS_CREDENTIALS_NOT_ALLOWED,
            format!(
                "The value of the 'Access-Control-Allow-Credentials' header in the response is '{}' which must be 'true' when the request's credentials mode is 'include'.",
                acac.map(text).unwrap_or_default()
            )
            .into(),
        ));
    }
    None
}

/// Methods and header names of Access-Control-Allow-Methods/-Headers; Err when one is not a
/// token (the preflight then fails).
pub fn token_list<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for l in lines {
        for t in list(l) {
            if !t.iter().all(|&c| is_tchar(c)) {
                return Err(text(t));
            }
            if out.len() < 64 {
                out.push(text(t));
            }
        }
    }
    Ok(out)
}

/// CORS-safelisted methods (Fetch standard).
pub fn safelisted_method(m: &str) -> bool {
    matches!(m, "GET" | "HEAD" | "POST")
}

/// The method and header checks of a CORS-preflight fetch (after its CORS check).
pub fn preflight_check(
    status: u16,
    methods: &[String],
    headers: &[String],
    request_method: &str,
    request_headers: &[String],
    include: bool,
) -> Vec<Blocked> {
    let mut out = Vec::new();
    if !(200..300).contains(&status) {
        out.push((
            &codes::CORS_PREFLIGHT_NOT_OK,
            "Response to preflight request doesn't pass access control check: It does not have HTTP ok status.".into(),
        ));
        return out;
    }
    let star_m = !include && methods.iter().any(|m| m == "*");
    if !request_method.is_empty()
        && !safelisted_method(request_method)
        && !methods.iter().any(|m| m == request_method)
        && !star_m
    {
        out.push((
            &codes::CORS_METHOD_NOT_ALLOWED,
            format!(
                "Method {request_method} is not allowed by Access-Control-Allow-Methods in preflight response."
            )
            .into(),
        ));
    }
    let star_h = !include && headers.iter().any(|h| h == "*");
    for h in request_headers {
        let listed = headers.iter().any(|x| x.eq_ignore_ascii_case(h));
        if !listed && (!star_h || h.eq_ignore_ascii_case("authorization")) {
            out.push((
                &codes::CORS_HEADER_NOT_ALLOWED,
                format!(
                    "Request header field {h} is not allowed by Access-Control-Allow-Headers in preflight response."
                )
                .into(),
            ));
        }
    }
    out
}

/// Request fields a script may not set (Fetch "forbidden request-header"): they never make a
/// request non-simple.
fn forbidden_request_header(n: &str) -> bool {
    let n = n.to_ascii_lowercase();
    n.starts_with("sec-")
        || n.starts_with("proxy-")
        || matches!(
            n.as_str(),
            "accept-charset"
                | "accept-encoding"
                | "access-control-request-headers"
                | "access-control-request-method"
                | "connection"
                | "content-length"
                | "cookie"
                | "cookie2"
                | "date"
                | "dnt"
                | "expect"
                | "host"
                | "keep-alive"
                | "origin"
                | "referer"
                | "set-cookie"
                | "te"
                | "trailer"
                | "transfer-encoding"
                | "upgrade"
                | "via"
                | "user-agent"
                | "priority"
        )
}

/// Whether a request field is CORS-safelisted (Fetch standard, simplified to the names and
/// the Content-Type values).
fn safelisted_request_header(n: &str, v: &[u8]) -> bool {
    match n.to_ascii_lowercase().as_str() {
        "accept" | "accept-language" | "content-language" | "range" => true,
        "content-type" => {
            let mt = text(v.split(|&c| c == b';').next().unwrap_or_default())
                .trim()
                .to_ascii_lowercase();
            matches!(
                mt.as_str(),
                "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
            )
        }
        _ => false,
    }
}

/// Safelisted response fields a script can always read.
fn safelisted_response_header(n: &str) -> bool {
    matches!(
        n.to_ascii_lowercase().as_str(),
        "cache-control"
            | "content-language"
            | "content-length"
            | "content-type"
            | "expires"
            | "last-modified"
            | "pragma"
    )
}

/// An `https://host` Origin on a plain-HTTP request for the same host: the page and the request
/// were both on HTTPS and a TLS-terminating proxy forwards over HTTP (with `X-Forwarded-Proto:
/// https` the proxy says so; without it the same host and the default HTTPS port are taken as
/// the sign). Same scheme with another port stays cross-origin (`localhost:3000` →
/// `localhost:8001`).
fn tls_terminated_same_origin(origin: &str, site: &str, forwarded_https: bool) -> bool {
    let (Some(o), Some(s)) = (
        origin.strip_prefix("https://"),
        site.strip_prefix("http://"),
    ) else {
        return false;
    };
    let (oh, op) = super::util::split_host_port(o);
    let (sh, _) = super::util::split_host_port(s);
    oh == sh && (op.is_none() || forwarded_https)
}

struct Preflight {
    txn: u64,
    method: String,
    headers: Vec<String>,
    blocked: bool,
    credentials_ok: bool,
    at: i64,
    max_age: i64,
    used: bool,
}

#[derive(Default)]
struct WsServer {
    refused_cross: u64,
}

pub struct State {
    preflights: Bounded<(IpAddr, u64), Preflight>,
    ws: Bounded<Endpoint, WsServer>,
}

impl State {
    pub fn new(preflights: usize, servers: usize) -> Self {
        State {
            preflights: Bounded::new(preflights),
            ws: Bounded::new(servers),
        }
    }
    pub fn evicted(&self) -> (u64, u64) {
        (self.preflights.evicted, self.ws.evicted)
    }
}

/// The CORS part of a transaction: cross-origin requests, preflights, WebSocket upgrades with
/// an Origin.
pub fn analyse(c: &Exchange<'_>, st: &mut State, out: &mut Vec<Found>) -> Option<CorsInfo> {
    let q = &c.q;
    let origin_raw = text(trim(q.origin?));
    let (Some(url), Some(parts)) = (c.url_str(), c.url_parts()) else {
        return None;
    };
    let site = parts.origin(url);
    let origin = canonical_origin(&origin_raw);
    let same_origin = origin == site
        || tls_terminated_same_origin(&origin, site, q.forwarded_https())
        || q.sec_fetch_site
            .is_some_and(|s| trim(s).eq_ignore_ascii_case(b"same-origin"));
    let websocket = q
        .upgrade
        .is_some_and(|u| list(u).any(|t| t.eq_ignore_ascii_case(b"websocket")));
    if websocket {
        return Some(websocket_origin(c, st, out, origin_raw, same_origin));
    }
    let preflight = c.method == "OPTIONS" && q.acr_method.is_some();
    if same_origin && !preflight {
        return None;
    }
    let mode = q.sec_fetch_mode.map(|m| text(trim(m)));
    if !preflight && mode.as_deref().is_some_and(|m| m != "cors") {
        // navigate / no-cors / same-origin: no CORS check applies (an opaque response at most).
        return None;
    }
    let evidence = if preflight {
        None
    } else if q.cookie.present() {
        Some("Cookie header")
    } else if q.authorization.is_some() {
        Some("Authorization header")
    } else if q.sec_fetch_storage_access.is_some() {
        Some("Sec-Fetch-Storage-Access (browsers send it only in credentials mode include)")
    } else {
        None
    };
    let include = evidence.is_some();
    let r = &c.r;
    let mut info = CorsInfo {
        kind: if preflight { "preflight" } else { "request" },
        origin: origin_raw.clone(),
        mode,
        credentials: if include { "include" } else { "none-seen" },
        credentials_evidence: evidence,
        allow_origin: r.acao.first.map(|v| text(trim(v))),
        allow_credentials: r.acac.map(|v| text(trim(v))),
        max_age: r.acma.map(|v| text(trim(v))),
        vary_origin: c.resp.is_some_and(|resp| {
            resp.headers
                .values("vary")
                .flat_map(list)
                .any(|v| v.eq_ignore_ascii_case(b"origin") || v == b"*")
        }),
        decision: "allowed",
        ..CorsInfo::default()
    };
    let mut reasons: Vec<Blocked> = Vec::new();
    let methods = token_list(c.response_lines(r.acam, "access-control-allow-methods"));
    let headers = token_list(c.response_lines(r.acah, "access-control-allow-headers"));
    info.allow_methods = methods.clone().unwrap_or_default();
    info.allow_headers = headers.clone().unwrap_or_default();
    info.expose_headers =
        token_list(c.response_lines(r.aceh, "access-control-expose-headers")).unwrap_or_default();
    let key = (c.client, key_of(&[origin.as_bytes(), url.as_bytes()]));
    let now = c
        .response_ns()
        .or(c.request_ns())
        .unwrap_or(0)
        .div_euclid(1_000_000_000);
    if preflight {
        let rm = text(trim(q.acr_method.unwrap_or_default()));
        let rh: Vec<String> = c
            .req
            .map(|x| {
                x.headers
                    .values("access-control-request-headers")
                    .flat_map(list)
                    .take(64)
                    .map(|h| text(h).to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        info.request_method = Some(rm.clone());
        info.request_headers = rh.clone();
        if let Some(resp) = c.resp {
            let acao: Vec<&[u8]> = c
                .response_lines(r.acao, "access-control-allow-origin")
                .collect();
            reasons.extend(cors_check(&acao, r.acac, &origin_raw, false));
            match (&methods, &headers) {
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
            let credentials_ok = cors_check(&acao, r.acac, &origin_raw, true).is_none();
            if reasons.is_empty() && !credentials_ok && r.acac.is_some() {
                info.notes.push(
                    "allowed for a request without credentials; a fetch with credentials: \
                     'include' also needs the exact origin and Access-Control-Allow-Credentials: \
                     true on this preflight, else the browser blocks it here"
                        .into(),
                );
            }
            let max_age = r
                .acma
                .and_then(super::util::number)
                .map_or(5, |n| n.min(7200) as i64);
            if st.preflights.insert(
                key,
                Preflight {
                    txn: c.t.id,
                    method: rm,
                    headers: rh,
                    blocked: !reasons.is_empty(),
                    credentials_ok,
                    at: now,
                    max_age,
                    used: false,
                },
            ) {
                out.push(Found::limit(&codes::CORS_STATE_LIMIT, "pending preflights"));
            }
        }
    } else {
        // The preflight that cleared this request, when one was seen.
        let method = c.method;
        let custom: Vec<String> = c
            .req
            .map(|x| {
                x.headers
                    .iter()
                    .filter(|h| {
                        let n = h.name_str();
                        !forbidden_request_header(&n) && !safelisted_request_header(&n, h.value)
                    })
                    .take(32)
                    .map(|h| h.name_str().to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let needs_preflight = !safelisted_method(method) || !custom.is_empty();
        if let Some(p) = st.preflights.get_mut(&key) {
            let fits = (p.method == method || safelisted_method(method))
                && custom.iter().all(|h| p.headers.contains(h));
            let cached = p.used && now - p.at <= p.max_age;
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
                if include && !p.credentials_ok {
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
        if c.resp.is_some() {
            let acao: Vec<&[u8]> = c
                .response_lines(r.acao, "access-control-allow-origin")
                .collect();
            reasons.extend(cors_check(&acao, r.acac, &origin_raw, include));
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
    let Some(resp) = c.resp else {
        info.decision = "no-response";
        return Some(info);
    };
    // Vary: Origin when the allowed origin is specific and the response may be cached.
    if !info.vary_origin
        && info.allow_origin.as_deref().is_some_and(|o| o != "*")
        && matches!(c.method, "GET" | "HEAD")
        && super::cache::heuristically_cacheable(resp.status)
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
    if reasons.is_empty() {
        if !preflight {
            let star = !include && info.expose_headers.iter().any(|h| h == "*");
            for h in resp.headers.iter() {
                let n = h.name_str();
                let low = n.to_ascii_lowercase();
                if safelisted_response_header(&low)
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
        return Some(info);
    }
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
    Some(info)
}

/// A WebSocket upgrade with an Origin: no CORS applies, the server must check it (RFC 6455
/// §10.2).
fn websocket_origin(
    c: &Exchange<'_>,
    st: &mut State,
    out: &mut Vec<Found>,
    origin: String,
    same_origin: bool,
) -> CorsInfo {
    let mut info = CorsInfo {
        kind: "websocket",
        origin: origin.clone(),
        credentials: if c.q.cookie.present() {
            "include"
        } else {
            "none-seen"
        },
        credentials_evidence: c.q.cookie.present().then_some("Cookie header"),
        decision: "no-response",
        ..CorsInfo::default()
    };
    let Some(resp) = c.resp else {
        return info;
    };
    let server = c.t.server;
    let (entry, evicted) = st.ws.get_or_insert_with(server, WsServer::default);
    if evicted {
        out.push(Found::limit(&codes::CORS_STATE_LIMIT, "WebSocket servers"));
    }
    if resp.status == 101 {
        info.decision = "accepted";
        if same_origin {
            info.notes.push("same origin as the server".into());
        } else if entry.refused_cross > 0 {
            info.notes.push(
                "cross-origin, accepted; the server refused another Origin earlier in the capture, so it does check Origin".into(),
            );
        } else {
            info.notes.push(
                "cross-origin and accepted: nothing in the capture shows the server checks Origin"
                    .into(),
            );
            out.push(Found::new(
                &codes::CORS_WEBSOCKET_ANY_ORIGIN,
                Side::Response,
                format!(
                    "the WebSocket upgrade from Origin {origin} was accepted (101) and the capture never shows this server refusing an Origin: browsers do not apply CORS to WebSockets, so a server that authenticates by cookie must check Origin itself (RFC 6455 §10.2; cross-site WebSocket hijacking)"
                ),
            ));
        }
    } else {
        info.decision = "refused";
        if !same_origin {
            entry.refused_cross += 1;
        }
        info.notes.push(
            format!(
                "refused with {}: the server may be checking Origin",
                resp.status
            )
            .into(),
        );
    }
    info
}

#[cfg(test)]
mod tests {
    #![allow(clippy::type_complexity)]
    use super::*;

    #[test]
    fn fetch_cors_check() {
        let o = "http://app.example";
        // (ACAO values, ACAC, include, blocked code)
        let cases: &[(&[&str], Option<&str>, bool, Option<&str>)] = &[
            (&["http://app.example"], None, false, None),
            (&["*"], None, false, None),
            (
                &["*"],
                Some("true"),
                true,
                Some("cors.wildcard-with-credentials"),
            ),
            (&["http://app.example"], Some("true"), true, None),
            (
                &["http://app.example"],
                None,
                true,
                Some("cors.credentials-not-allowed"),
            ),
            (
                &["http://app.example"],
                Some("TRUE"),
                true,
                Some("cors.credentials-not-allowed"),
            ),
            (
                &["http://other.example"],
                None,
                false,
                Some("cors.origin-not-allowed"),
            ),
            (
                &["http://APP.example"],
                None,
                false,
                Some("cors.origin-not-allowed"),
            ),
            (&[], None, false, Some("cors.origin-not-allowed")),
            (
                &["http://app.example, http://b"],
                None,
                false,
                Some("cors.origin-not-allowed"),
            ),
            (
                &["http://app.example", "*"],
                None,
                false,
                Some("cors.origin-not-allowed"),
            ),
            (&["null"], None, false, Some("cors.origin-not-allowed")),
        ];
        for (acao, acac, inc, want) in cases {
            let v: Vec<&[u8]> = acao.iter().map(|s| s.as_bytes()).collect();
            let got = cors_check(&v, acac.map(str::as_bytes), o, *inc).map(|b| b.0.name);
            assert_eq!(got, *want, "{acao:?} {acac:?} include={inc}");
        }
        assert_eq!(
            cors_check(&[b"null"], None, "null", false),
            None,
            "an opaque origin matches null"
        );
    }

    #[test]
    fn fetch_cors_preflight_methods_and_headers() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        // (status, methods, headers, method, request headers, include, codes)
        let cases: &[(u16, &[&str], &[&str], &str, &[&str], bool, &[&str])] = &[
            (
                204,
                &["GET", "PUT"],
                &["content-type"],
                "PUT",
                &["content-type"],
                false,
                &[],
            ),
            (
                204,
                &["GET", "POST"],
                &[],
                "DELETE",
                &[],
                false,
                &["cors.method-not-allowed"],
            ),
            (
                204,
                &["GET"],
                &[],
                "GET",
                &["x-hopscope"],
                false,
                &["cors.header-not-allowed"],
            ),
            (
                204,
                &["GET"],
                &["X-Hopscope"],
                "GET",
                &["x-hopscope"],
                false,
                &[],
            ),
            (204, &[], &[], "POST", &[], false, &[]),
            (204, &["*"], &["*"], "DELETE", &["x-a"], false, &[]),
            (
                204,
                &["*"],
                &["*"],
                "DELETE",
                &["x-a"],
                true,
                &["cors.method-not-allowed", "cors.header-not-allowed"],
            ),
            (
                204,
                &["*"],
                &["*"],
                "GET",
                &["authorization"],
                false,
                &["cors.header-not-allowed"],
            ),
            (
                404,
                &["GET"],
                &[],
                "GET",
                &[],
                false,
                &["cors.preflight-not-ok"],
            ),
            (
                302,
                &["GET"],
                &[],
                "GET",
                &[],
                false,
                &["cors.preflight-not-ok"],
            ),
            (
                204,
                &["put"],
                &[],
                "PUT",
                &[],
                false,
                &["cors.method-not-allowed"],
            ),
        ];
        for (st, m, h, rm, rh, inc, want) in cases {
            let got: Vec<&str> = preflight_check(*st, &s(m), &s(h), rm, &s(rh), *inc)
                .into_iter()
                .map(|b| b.0.name)
                .collect();
            assert_eq!(got, *want, "{st} {m:?} {h:?} {rm} {rh:?} {inc}");
        }
        assert!(token_list(std::iter::once(&b"GET, PUT"[..])).is_ok());
        assert!(token_list(std::iter::once(&b"GET PUT"[..])).is_err());
    }

    #[test]
    fn fetch_origin_behind_a_tls_terminating_proxy() {
        let cases = [
            ("https://app.example", "http://app.example", false, true),
            (
                "https://app.example",
                "http://app.example:8080",
                false,
                true,
            ),
            (
                "https://app.example:8443",
                "http://app.example",
                false,
                false,
            ),
            ("https://app.example:8443", "http://app.example", true, true),
            ("https://other.example", "http://app.example", true, false),
            (
                "http://localhost:3000",
                "http://localhost:8001",
                false,
                false,
            ),
        ];
        for (o, site, xfp, want) in cases {
            assert_eq!(
                tls_terminated_same_origin(o, site, xfp),
                want,
                "{o} {site} {xfp}"
            );
        }
    }

    #[test]
    fn fetch_forbidden_and_safelisted_request_headers() {
        for n in [
            "Sec-Fetch-Mode",
            "User-Agent",
            "Cookie",
            "Origin",
            "Referer",
            "Proxy-Authorization",
        ] {
            assert!(forbidden_request_header(n), "{n}");
        }
        assert!(safelisted_request_header(
            "Content-Type",
            b"text/plain; charset=utf-8"
        ));
        assert!(!safelisted_request_header(
            "Content-Type",
            b"application/json"
        ));
        assert!(!safelisted_request_header("X-Hopscope", b"1"));
    }
}
