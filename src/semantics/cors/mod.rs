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

mod preflight;
mod response;
mod websocket;

use std::net::IpAddr;

use super::util::{Bounded, canonical_origin, key_of, list, text, trim};
use super::{Exchange, Found};
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

/// The Access-Control-Allow-Methods or -Headers names; Err names a value that is not a token.
type Tokens = Result<Vec<String>, String>;

/// One cross-origin request or preflight as the checks read it.
struct Cross<'a, 'e> {
    c: &'a Exchange<'e>,
    /// The Origin field as sent.
    origin: &'a str,
    /// The client, origin and URL a preflight and the request it clears share.
    key: (IpAddr, u64),
    /// Packet time, seconds.
    now: i64,
    /// Credentials mode `include`, as far as the request shows it.
    include: bool,
}

/// Same origin as the request's URL (scheme, host and port, RFC 6454 §5): equal, behind a
/// TLS-terminating proxy, or as the browser says (Sec-Fetch-Site).
fn same_origin(c: &Exchange<'_>, origin: &str, site: &str) -> bool {
    let q = &c.q;
    origin == site
        || tls_terminated_same_origin(origin, site, q.forwarded_https())
        || q.sec_fetch_site
            .is_some_and(|s| trim(s).eq_ignore_ascii_case(b"same-origin"))
}

/// What shows that the request's credentials mode (Fetch standard) is `include`, since it is
/// not on the wire; a preflight never carries credentials.
fn credentials_evidence(c: &Exchange<'_>, preflight: bool) -> Option<&'static str> {
    let q = &c.q;
    if preflight {
        None
    } else if q.cookie.present() {
        Some("Cookie header")
    } else if q.authorization.is_some() {
        Some("Authorization header")
    } else if q.sec_fetch_storage_access.is_some() {
        Some("Sec-Fetch-Storage-Access (browsers send it only in credentials mode include)")
    } else {
        None
    }
}

/// What the request and the response say: the kind, the origin, the credentials mode and the
/// Access-Control-* fields (Fetch standard, HTTP responses of the CORS protocol), with the
/// method and header lists a preflight is checked against.
fn fields(
    c: &Exchange<'_>,
    preflight: bool,
    origin_raw: &str,
    mode: Option<String>,
    evidence: Option<&'static str>,
) -> (CorsInfo, Tokens, Tokens) {
    let r = &c.r;
    let include = evidence.is_some();
    let mut info = CorsInfo {
        kind: if preflight { "preflight" } else { "request" },
        origin: origin_raw.to_string(),
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
    let methods = token_list(c.response_lines(r.acam, "access-control-allow-methods"));
    let headers = token_list(c.response_lines(r.acah, "access-control-allow-headers"));
    info.allow_methods = methods.clone().unwrap_or_default();
    info.allow_headers = headers.clone().unwrap_or_default();
    info.expose_headers =
        token_list(c.response_lines(r.aceh, "access-control-expose-headers")).unwrap_or_default();
    (info, methods, headers)
}

/// The CORS part of a transaction: cross-origin requests, preflights, WebSocket upgrades with
/// an Origin. It answers: is the request cross-origin and under CORS (a WebSocket upgrade is
/// the server's to check), with which credentials mode; does the preflight pass, or which
/// preflight cleared the request, and does the response pass the CORS check; may caches mix
/// origins up; what can the script read, or why does the browser block it.
pub fn analyse(c: &Exchange<'_>, st: &mut State, out: &mut Vec<Found>) -> Option<CorsInfo> {
    let q = &c.q;
    let origin_raw = text(trim(q.origin?));
    let (Some(url), Some(parts)) = (c.url_str(), c.url_parts()) else {
        return None;
    };
    let origin = canonical_origin(&origin_raw);
    let same_origin = same_origin(c, &origin, parts.origin(url));
    let websocket = q
        .upgrade
        .is_some_and(|u| list(u).any(|t| t.eq_ignore_ascii_case(b"websocket")));
    if websocket {
        return Some(websocket::upgrade(c, st, out, origin_raw, same_origin));
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
    let evidence = credentials_evidence(c, preflight);
    let (mut info, methods, headers) = fields(c, preflight, &origin_raw, mode, evidence);
    let x = Cross {
        c,
        origin: &origin_raw,
        key: (c.client, key_of(&[origin.as_bytes(), url.as_bytes()])),
        now: c
            .response_ns()
            .or(c.request_ns())
            .unwrap_or(0)
            .div_euclid(1_000_000_000),
        include: evidence.is_some(),
    };
    let reasons = if preflight {
        preflight::fetch(&x, &methods, &headers, st, &mut info, out)
    } else {
        let mut reasons = preflight::cleared_by(&x, st, &mut info);
        response::check(&x, &mut info, &mut reasons);
        reasons
    };
    let Some(resp) = c.resp else {
        info.decision = "no-response";
        return Some(info);
    };
    response::missing_vary_origin(c, resp, &info, out);
    if reasons.is_empty() {
        if !preflight {
            response::not_exposed(resp, x.include, &mut info);
        }
        return Some(info);
    }
    response::blocked(preflight, &origin_raw, reasons, &mut info, out);
    Some(info)
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
