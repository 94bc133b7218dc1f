//! Cookies (RFC 6265bis): Set-Cookie with every attribute, Cookie as name/value pairs, and a
//! cookie jar per client over the capture that says which cookies were stored, which came
//! back, and why the others did not (path, domain, expiry, Secure over plain HTTP, SameSite,
//! rejected when set).
//!
//! The jar applies the storage and retrieval rules of RFC 6265bis §5.7 and §5.8.3 as browsers
//! (and curl) do, with the user agents' own additions: `localhost` and loopback addresses are
//! secure contexts, SameSite=None requires Secure, Partitioned requires Secure. Values are the
//! masked forms from the header records (a prefix and a count); they are never unmasked.
//! There is no public-suffix list: only single-label Domain values are refused as suffixes.

mod request;
mod response;

use std::net::IpAddr;

use super::util::{Bounded, text, trim};
use super::{Exchange, Found, Side, date};
use crate::model::codes::{self, Code};
use crate::model::semantics::{CookieInfo, SetCookieInfo, Text};

/// Cookies kept per client jar, rejected cookies remembered per jar, entries listed per message.
const MAX_REJECTED: usize = 32;
const MAX_LISTED: usize = 32;

/// A Set-Cookie line split into its parts (RFC 6265bis §5.6).
#[derive(Debug)]
pub struct SetCookie<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    pub attrs: Vec<(&'a [u8], Option<&'a [u8]>)>,
}

pub fn parse_set_cookie(v: &[u8]) -> Option<SetCookie<'_>> {
    // A fold over every byte (no early exit, which the compiler vectorizes) rather than a test
    // a byte at a time; the separators found with `memchr`.
    let control = v
        .iter()
        .fold(false, |a, &c| a | ((c < 0x20) & (c != b'\t')) | (c == 0x7f));
    if control {
        return None;
    }
    let (nvp, mut rest) = split_once(v, b';');
    let (name, value) = match split_once(nvp, b'=') {
        (n, Some(x)) => (trim(n), trim(x)),
        (x, None) => (&b""[..], trim(x)),
    };
    if name.is_empty() && value.is_empty() {
        return None;
    }
    // Room for the usual attributes at once (a collect grew from nothing, twice a cookie).
    let mut attrs = Vec::with_capacity(8);
    while let Some(r) = rest
        && attrs.len() < 32
    {
        let (a, next) = split_once(r, b';');
        rest = next;
        let a = trim(a);
        if a.is_empty() {
            continue;
        }
        attrs.push(match split_once(a, b'=') {
            (n, Some(x)) => (trim(n), Some(trim(x))),
            (n, None) => (n, None),
        });
    }
    Some(SetCookie { name, value, attrs })
}

/// `v` before the first `sep`, and after it (None without one).
fn split_once(v: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match memchr::memchr(sep, v) {
        Some(i) => (v.get(..i).unwrap_or_default(), v.get(i + 1..)),
        None => (v, None),
    }
}

/// Cookie: `a=b; c=d` → pairs (RFC 6265bis §4.2.1, §5.8.3). The separators are found with
/// `memchr`, not a byte at a time.
pub fn parse_cookie_header(v: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = Some(v);
    std::iter::from_fn(move || {
        loop {
            let (p, next) = split_once(rest?, b';');
            rest = next;
            let p = trim(p);
            if p.is_empty() {
                continue;
            }
            return Some(match split_once(p, b'=') {
                (n, Some(x)) => (trim(n), trim(x)),
                (_, None) => (&b""[..], p),
            });
        }
    })
}

/// Domain matching (RFC 6265bis §5.1.3).
pub fn domain_match(host: &str, domain: &str) -> bool {
    if host == domain {
        return true;
    }
    host.len() > domain.len()
        && host.ends_with(domain)
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
        && host.parse::<IpAddr>().is_err()
}

/// Path matching (RFC 6265bis §5.1.4).
pub fn path_match(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request.as_bytes().get(cookie.len()) == Some(&b'/')))
}

/// The default path of a request path (RFC 6265bis §5.1.4).
pub fn default_path(path: &str) -> &str {
    if !path.starts_with('/') {
        return "/";
    }
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Names that look like a session identifier or an authentication token.
pub fn session_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let n = n
        .strip_prefix("__host-")
        .or_else(|| n.strip_prefix("__secure-"))
        .unwrap_or(&n);
    if n.contains("csrf") || n.contains("xsrf") {
        return false;
    }
    n.contains("sess")
        || n.ends_with("sid")
        || n.contains("auth")
        || n.contains("token")
        || n.contains("jwt")
        || n.contains("login")
        || n.contains("remember")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SameSite {
    Strict,
    Lax,
    None,
    /// Absent or unknown value: browsers enforce Lax by default (Chromium), curl nothing.
    Default,
}

/// The attributes of a Set-Cookie as a user agent reads them.
#[derive(Debug)]
struct Parsed {
    info: SetCookieInfo,
    same_site: SameSite,
    /// Absolute expiry (seconds), or the instant it expires because of Max-Age <= 0.
    expires_at: Option<i64>,
    expired: bool,
    path: String,
    domain_attr: Option<String>,
    len: usize,
}

fn parse_attributes(sc: &SetCookie<'_>, request_path: &str, now: i64) -> Parsed {
    let mut info = SetCookieInfo {
        name: text(sc.name),
        value: text(sc.value),
        ..SetCookieInfo::default()
    };
    let mut same_site = SameSite::Default;
    let mut expires: Option<i64> = None;
    let mut max_age: Option<i64> = None;
    let mut path_attr: Option<String> = None;
    let mut domain_attr: Option<String> = None;
    for (n, v) in &sc.attrs {
        let v = v.unwrap_or_default();
        if v.len() > 1024 {
            continue;
        }
        // The attribute names compared as bytes, not copied and lowercased (the names are
        // ASCII: bytes that are not never match).
        let is = |name: &[u8]| n.eq_ignore_ascii_case(name);
        if is(b"expires") {
            info.expires = Some(text(v));
            expires = date::parse(v);
        } else if is(b"max-age") {
            let s = text(v);
            let ok = !s.is_empty()
                && s.bytes()
                    .enumerate()
                    .all(|(i, c)| c.is_ascii_digit() || (i == 0 && c == b'-'))
                && s != "-";
            if ok {
                let n = s.parse::<i64>().unwrap_or(if s.starts_with('-') {
                    i64::MIN
                } else {
                    i64::MAX
                });
                max_age = Some(n);
                info.max_age = Some(n);
            }
        } else if is(b"domain") {
            let d = text(v);
            let d = d.trim_start_matches('.').to_ascii_lowercase();
            if !d.is_empty() {
                info.domain = Some(text(v));
                domain_attr = Some(d);
            }
        } else if is(b"path") {
            info.path = Some(text(v));
            if v.starts_with(b"/") {
                path_attr = Some(text(v));
            }
        } else if is(b"secure") {
            info.secure = true;
        } else if is(b"httponly") {
            info.http_only = true;
        } else if is(b"partitioned") {
            info.partitioned = true;
        } else if is(b"samesite") {
            info.same_site = Some(text(v));
            same_site = if v.eq_ignore_ascii_case(b"strict") {
                SameSite::Strict
            } else if v.eq_ignore_ascii_case(b"lax") {
                SameSite::Lax
            } else if v.eq_ignore_ascii_case(b"none") {
                SameSite::None
            } else {
                SameSite::Default
            };
        } else if info.other_attributes.len() < 8 {
            info.other_attributes.push(text(n));
        }
    }
    let starts = |p: &[u8]| {
        info.name
            .as_bytes()
            .get(..p.len())
            .is_some_and(|x| x.eq_ignore_ascii_case(p))
    };
    info.prefix = if starts(b"__host-") {
        Some("__Host-")
    } else if starts(b"__secure-") {
        Some("__Secure-")
    } else {
        None
    };
    // Max-Age wins over Expires (RFC 6265bis §5.6.2).
    let (expires_at, expired) = match (max_age, expires) {
        (Some(m), _) if m <= 0 => (Some(now), true),
        (Some(m), _) => (Some(now.saturating_add(m)), false),
        (None, Some(e)) => (Some(e), e <= now),
        (None, None) => (None, false),
    };
    let path = path_attr.unwrap_or_else(|| default_path(request_path).to_string());
    Parsed {
        len: sc.name.len() + super::util::unmasked_len(sc.value),
        info,
        same_site,
        expires_at,
        expired,
        path,
        domain_attr,
    }
}

/// Why a user agent ignores a cookie: (finding code, reason). RFC 6265bis §5.7 and the
/// browsers' additions.
fn rejection(p: &Parsed, host: &str, secure_ctx: bool) -> Option<(&'static Code, Text)> {
    let i = &p.info;
    if p.len > 4096 {
        return Some((
            &codes::COOKIE_REJECTED,
            "name and value are longer than 4096 bytes (RFC 6265bis §5.7 step 3)".into(),
        ));
    }
    if let Some(d) = &p.domain_attr {
        if !d.contains('.') && d != host {
            return Some((
                &codes::COOKIE_REJECTED,
                format!("Domain={d} is a public suffix (RFC 6265bis §5.7 step 9)").into(),
            ));
        }
        if !domain_match(host, d) {
            return Some((
                &codes::COOKIE_REJECTED,
                format!("Domain={d} does not cover the host {host} (RFC 6265bis §5.7 step 10)")
                    .into(),
            ));
        }
    }
    if i.prefix == Some("__Host-") && i.domain.is_some() {
        return Some((
            &codes::COOKIE_HOST_PREFIX_WITH_DOMAIN,
            "a __Host- cookie must not have a Domain attribute (RFC 6265bis §4.1.3.2): user \
             agents refuse it"
                .into(),
        ));
    }
    if i.secure && !secure_ctx {
        return Some((
            &codes::COOKIE_REJECTED,
            "Secure cookie set over plain HTTP to a host that is not localhost (RFC 6265bis §5.7 \
             step 8)"
                .into(),
        ));
    }
    if p.same_site == SameSite::None && !i.secure {
        return Some((
            &codes::COOKIE_SAMESITE_NONE_WITHOUT_SECURE,
            "SameSite=None without Secure: browsers refuse it (RFC 6265bis §5.7 step 18; \
             Chromium since 80, Firefox since 69 with the flag); add Secure"
                .into(),
        ));
    }
    if i.partitioned && !i.secure {
        return Some((
            &codes::COOKIE_REJECTED,
            "Partitioned without Secure: browsers refuse it (CHIPS)".into(),
        ));
    }
    match i.prefix {
        Some("__Secure-") if !i.secure => Some((
            &codes::COOKIE_PREFIX_VIOLATION,
            "a __Secure- cookie needs the Secure attribute (RFC 6265bis §4.1.3.1): user agents \
             refuse it"
                .into(),
        )),
        Some("__Host-") if !i.secure || i.path.as_deref() != Some("/") => Some((
            &codes::COOKIE_PREFIX_VIOLATION,
            "a __Host- cookie needs Secure and Path=/ (RFC 6265bis §4.1.3.2): user agents \
             refuse it"
                .into(),
        )),
        _ => None,
    }
}

struct Stored {
    name: String,
    domain: String,
    host_only: bool,
    path: String,
    secure: bool,
    same_site: SameSite,
    expires_at: Option<i64>,
    set_by: u64,
    /// The server (address and port) whose response set it: a request to the same server
    /// under another name does not get it back, and is told why.
    server: crate::model::Endpoint,
}

impl Stored {
    /// Whether the cookie is for this host: the host it was set by when host-only, else the
    /// hosts its Domain covers (RFC 6265bis §5.8.3).
    fn matches_host(&self, host: &str) -> bool {
        if self.host_only {
            self.domain == host
        } else {
            domain_match(host, &self.domain)
        }
    }
}

struct Rejected {
    name: String,
    host: String,
    set_by: u64,
    reason: Text,
}

#[derive(Default)]
struct Jar {
    cookies: Vec<Stored>,
    rejected: Vec<Rejected>,
}

pub struct State {
    jars: Bounded<IpAddr, Jar>,
    per_jar: usize,
    /// Findings already raised: cleartext per host, the others per host, cookie and code.
    once: Bounded<u64, ()>,
    /// Connections already told that their client's cookies did not come back.
    noted: Bounded<u64, ()>,
    pub dropped_cookies: u64,
}

impl State {
    pub fn new(jars: usize, per_jar: usize, once: usize) -> Self {
        State {
            jars: Bounded::new(jars),
            per_jar: per_jar.max(1),
            once: Bounded::new(once),
            noted: Bounded::new(once),
            dropped_cookies: 0,
        }
    }
    /// Per-connection notes end with their connection.
    pub fn connection_closed(&mut self, id: u64) {
        if !self.noted.is_empty() {
            self.noted.remove(&id);
        }
    }

    pub fn evicted(&self) -> (u64, u64, u64) {
        (
            self.jars.evicted,
            self.dropped_cookies,
            self.once.evicted + self.noted.evicted,
        )
    }
}

fn fmt_time(secs: i64) -> String {
    crate::base::utc::utc_secs(secs)
}

/// Where a request goes, as the cookie rules read it.
struct Target<'a> {
    host: &'a str,
    path: &'a str,
    /// A secure context: HTTPS, HTTPS before a TLS-terminating proxy, or localhost.
    secure: bool,
}

/// Cookies in cleartext (RFC 6265bis §8.3, §8.6): anyone on the path reads and replays them;
/// reported once per host.
fn cleartext(st: &mut State, host: &str, has_cookie: bool, out: &mut Vec<Found>) {
    if first(
        &mut st.once,
        &[codes::COOKIE_CLEARTEXT.name.as_bytes(), host.as_bytes()],
        out,
    ) {
        let (side, what) = if has_cookie {
            (Side::Request, "the client sent cookies")
        } else {
            (Side::Response, "the server set cookies")
        };
        out.push(Found::new(
            &codes::COOKIE_CLEARTEXT,
            side,
            format!(
                "{what} for {host} over cleartext HTTP: anyone on the path can read and replay \
                 them (RFC 6265bis §8.3, §8.6); use HTTPS and Secure cookies (reported once per \
                 host; {})",
                if crate::base::secrets::revealed() {
                    "values are written as sent: --reveal-secrets"
                } else {
                    "values are masked in every output"
                }
            ),
        ));
    }
}

/// The cookie part of a transaction. It answers: do cookies travel in cleartext; which came
/// back of what the client was given before, and why the others did not; what the server set,
/// and whether the client stores it.
pub fn analyse(c: &Exchange<'_>, st: &mut State, out: &mut Vec<Found>) -> Option<CookieInfo> {
    let (Some(url), Some(parts)) = (c.url_str(), c.url_parts()) else {
        return None;
    };
    let host = parts.host(url);
    let path = parts.path(url);
    let has_cookie = c.q.cookie.present();
    let has_set = c.r.set_cookie.present();
    if !has_cookie
        && !has_set
        && st
            .jars
            .get(&c.client)
            .is_none_or(|j| j.cookies.is_empty() && j.rejected.is_empty())
    {
        return None;
    }
    // A TLS-terminating proxy in front (X-Forwarded-Proto / Forwarded) means the browser's side
    // was HTTPS: Secure cookies are set and sent there.
    let secure_ctx = parts.https || c.q.forwarded_https() || super::util::trustworthy_host(host);
    let to = Target {
        host,
        path,
        secure: secure_ctx,
    };
    let mut info = CookieInfo::default();
    // Decrypted TLS is not cleartext (the key log's owner saw it, the path did not).
    if (has_cookie || has_set) && !parts.https {
        cleartext(st, host, has_cookie, out);
    }
    // The request side first: what came back of what was stored before this exchange.
    if c.req.is_some() {
        request::request_side(c, &st.jars, &mut st.noted, &to, &mut info);
    }
    if has_set && c.resp.is_some() {
        response::set_cookies(c, st, &to, &mut info, out);
    }
    if info.set.is_empty()
        && info.sent.is_empty()
        && info.not_sent.is_empty()
        && info.notes.is_empty()
    {
        return None;
    }
    Some(info)
}

/// Whether a finding with this key is new (and remembers it).
fn first(once: &mut Bounded<u64, ()>, parts: &[&[u8]], out: &mut Vec<Found>) -> bool {
    let k = super::util::key_of(parts);
    if once.get(&k).is_some() {
        return false;
    }
    if once.insert(k, ()) {
        out.push(Found::limit(
            &codes::COOKIE_STATE_LIMIT,
            "cookie findings already raised",
        ));
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::type_complexity)]
    use super::*;

    #[test]
    fn rfc6265bis_5_6_set_cookie_attributes() {
        let sc = parse_set_cookie(
            b"sid=abc; Path=/app; Domain=.Example.com; Max-Age=60; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax; Partitioned; Foo=bar",
        )
        .unwrap();
        let p = parse_attributes(&sc, "/app/x", 1000);
        let i = &p.info;
        assert_eq!((i.name.as_str(), i.value.as_str()), ("sid", "abc"));
        assert_eq!(i.domain.as_deref(), Some(".Example.com"));
        assert_eq!(p.domain_attr.as_deref(), Some("example.com"));
        assert_eq!(p.path, "/app");
        assert_eq!(i.max_age, Some(60));
        assert_eq!(p.expires_at, Some(1060), "Max-Age wins over Expires");
        assert!(i.secure && i.http_only && i.partitioned);
        assert_eq!(p.same_site, SameSite::Lax);
        assert_eq!(i.other_attributes, vec!["Foo".to_string()]);
        // No '=': the whole pair is the value, the name is empty.
        let sc = parse_set_cookie(b"lonely").unwrap();
        assert_eq!((sc.name, sc.value), (&b""[..], &b"lonely"[..]));
        assert!(parse_set_cookie(b"=").is_none());
        assert!(parse_set_cookie(b"a=b\x01").is_none());
        // Path without a leading slash: the default path.
        let p = parse_attributes(&parse_set_cookie(b"a=b; Path=x").unwrap(), "/d/e/f", 0);
        assert_eq!(p.path, "/d/e");
        let p = parse_attributes(&parse_set_cookie(b"a=b; Max-Age=0").unwrap(), "/", 5);
        assert!(p.expired);
        let p = parse_attributes(&parse_set_cookie(b"a=b; Max-Age=1x").unwrap(), "/", 5);
        assert_eq!(p.info.max_age, None, "an invalid Max-Age is ignored");
    }

    #[test]
    fn rfc6265bis_5_1_3_and_5_1_4_domain_and_path_matching() {
        let d = [
            ("example.com", "example.com", true),
            ("www.example.com", "example.com", true),
            ("wwwexample.com", "example.com", false),
            ("example.com", "www.example.com", false),
            ("10.0.0.1", "0.0.1", false),
        ];
        for (h, dom, want) in d {
            assert_eq!(domain_match(h, dom), want, "{h} {dom}");
        }
        let p = [
            ("/admin", "/admin", true),
            ("/admin/page", "/admin", true),
            ("/administrator", "/admin", false),
            ("/cookies/check", "/admin", false),
            ("/a/b", "/a/", true),
            ("/", "/", true),
        ];
        for (r, c, want) in p {
            assert_eq!(path_match(r, c), want, "{r} {c}");
        }
        assert_eq!(default_path("/cookies/set"), "/cookies");
        assert_eq!(default_path("/set"), "/");
        assert_eq!(default_path(""), "/");
    }

    #[test]
    fn rfc6265bis_5_7_storage_rules_and_prefixes() {
        // (Set-Cookie, host, secure context, rejection code)
        let cases: &[(&str, &str, bool, Option<&str>)] = &[
            ("a=b; Path=/", "example.com", false, None),
            ("a=b; Domain=example.com", "www.example.com", false, None),
            (
                "a=b; Domain=other.com",
                "example.com",
                false,
                Some("cookie.rejected"),
            ),
            (
                "a=b; Domain=com",
                "example.com",
                false,
                Some("cookie.rejected"),
            ),
            ("a=b; Domain=localhost", "localhost", true, None),
            ("a=b; Secure", "example.com", false, Some("cookie.rejected")),
            ("a=b; Secure", "localhost", true, None),
            (
                "a=b; SameSite=None",
                "localhost",
                true,
                Some("cookie.samesite-none-without-secure"),
            ),
            ("a=b; SameSite=None; Secure", "localhost", true, None),
            (
                "a=b; Partitioned",
                "localhost",
                true,
                Some("cookie.rejected"),
            ),
            (
                "__Secure-a=b",
                "localhost",
                true,
                Some("cookie.prefix-violation"),
            ),
            ("__Secure-a=b; Secure", "localhost", true, None),
            ("__Host-a=b; Secure; Path=/", "localhost", true, None),
            (
                "__Host-a=b; Secure; Path=/; Domain=localhost",
                "localhost",
                true,
                Some("cookie.host-prefix-with-domain"),
            ),
            (
                "__Host-a=b; Secure",
                "localhost",
                true,
                Some("cookie.prefix-violation"),
            ),
            (
                "__HOST-a=b; Secure; Path=/x",
                "localhost",
                true,
                Some("cookie.prefix-violation"),
            ),
        ];
        for (v, host, sec, want) in cases {
            let sc = parse_set_cookie(v.as_bytes()).unwrap();
            let p = parse_attributes(&sc, "/", 0);
            assert_eq!(
                rejection(&p, host, *sec).map(|r| r.0.name),
                *want,
                "{v} on {host}"
            );
        }
        let long = format!("a={}", "x".repeat(5000));
        let p = parse_attributes(&parse_set_cookie(long.as_bytes()).unwrap(), "/", 0);
        assert_eq!(
            rejection(&p, "h", false).map(|r| r.0.name),
            Some("cookie.rejected")
        );
    }

    #[test]
    fn session_looking_names() {
        for n in [
            "sessionid",
            "PHPSESSID",
            "JSESSIONID",
            "connect.sid",
            "auth_token",
            "__Host-session",
            "jwt",
            "remember_me",
        ] {
            assert!(session_like(n), "{n}");
        }
        for n in [
            "theme",
            "lang",
            "csrftoken",
            "XSRF-TOKEN",
            "crosssite",
            "__Host-id",
            "laxpref",
        ] {
            assert!(!session_like(n), "{n}");
        }
    }

    /// The `memchr` scan finds the pairs the plain split finds, near misses included.
    #[test]
    fn cookie_header_pairs_as_the_plain_split_finds_them() {
        let plain = |v: &[u8]| -> Vec<(Vec<u8>, Vec<u8>)> {
            v.split(|&c| c == b';')
                .map(trim)
                .filter(|p| !p.is_empty())
                .map(|p| match p.iter().position(|&c| c == b'=') {
                    Some(i) => (trim(&p[..i]).to_vec(), trim(&p[i + 1..]).to_vec()),
                    None => (Vec::new(), p.to_vec()),
                })
                .collect()
        };
        for v in [
            &b""[..],
            b";",
            b";;; ;",
            b"a",
            b"=",
            b"a=",
            b"=b",
            b" a = b ; c=d;",
            b"a=b=c; ;d",
            b";a=1;",
            b"\t a\t=\t1 \t;  b",
            "x=é…(3 more bytes masked); y=€".as_bytes(),
        ] {
            let got: Vec<(Vec<u8>, Vec<u8>)> = parse_cookie_header(v)
                .map(|(n, x)| (n.to_vec(), x.to_vec()))
                .collect();
            assert_eq!(got, plain(v), "{:?}", String::from_utf8_lossy(v));
        }
    }

    /// The `memchr` scan and the vectorized control-byte test read every Set-Cookie as the plain
    /// byte loops did, near misses included.
    #[test]
    fn set_cookie_parsed_as_the_plain_loops_parse_it() {
        fn plain(v: &[u8]) -> Option<SetCookie<'_>> {
            if v.iter().any(|&c| c < 0x20 && c != b'\t' || c == 0x7f) {
                return None;
            }
            let mut parts = v.split(|&c| c == b';');
            let nvp = parts.next().unwrap_or_default();
            let (name, value) = match nvp.iter().position(|&c| c == b'=') {
                Some(i) => (trim(&nvp[..i]), trim(&nvp[i + 1..])),
                None => (&b""[..], trim(nvp)),
            };
            if name.is_empty() && value.is_empty() {
                return None;
            }
            let attrs = parts
                .map(trim)
                .filter(|a| !a.is_empty())
                .take(32)
                .map(|a| match a.iter().position(|&c| c == b'=') {
                    Some(i) => (trim(&a[..i]), Some(trim(&a[i + 1..]))),
                    None => (a, None),
                })
                .collect();
            Some(SetCookie { name, value, attrs })
        }
        let many = format!("a=b{}", "; x=1".repeat(40));
        let long = format!("a=b;{}", ";".repeat(40));
        for v in [
            &b""[..],
            b";",
            b"=",
            b"a",
            b"=b",
            b"a=",
            b" a = b ; Path = / ;; Secure ;",
            b"a=b; Max-Age=1; max-age=2; =x; y=",
            b"a=b\x01",
            b"a=b\x7f; c",
            b"a=b;\tHttpOnly\t",
            b"a=b; c=\x1f",
            b"a=b=c; d=e=f",
            many.as_bytes(),
            long.as_bytes(),
            "é=€; Path=/ü".as_bytes(),
        ] {
            let see = |s: Option<SetCookie<'_>>| {
                s.map(|s| (s.name.to_vec(), s.value.to_vec(), format!("{:?}", s.attrs)))
            };
            assert_eq!(
                see(parse_set_cookie(v)),
                see(plain(v)),
                "{:?}",
                String::from_utf8_lossy(v)
            );
        }
    }

    #[test]
    fn cookie_header_pairs() {
        let got: Vec<(&[u8], &[u8])> = parse_cookie_header(b"a=1; b=2;c; d=x=y").collect();
        assert_eq!(
            got,
            vec![
                (&b"a"[..], &b"1"[..]),
                (b"b", b"2"),
                (b"", b"c"),
                (b"d", b"x=y")
            ]
        );
    }
}
