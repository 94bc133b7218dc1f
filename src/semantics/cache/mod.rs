//! Caching (RFC 9111): Cache-Control on both sides, whether a shared cache may store the
//! response and why, its freshness lifetime and age at the capture point, and conditional
//! requests linked to the earlier response whose validator they carry.
//!
//! The rules are pure functions of field values ([`directives`], [`storable`],
//! [`freshness`], [`current_age`], [`weak_match`]); [`State`] remembers the validators of
//! earlier responses per URL (bounded).

mod response;
mod validators;

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::LazyLock;

use super::util::{Bounded, key_of, list, number, same_name, text, trim, unquote};
use super::{Exchange, Found, date};
use crate::model::semantics::{CacheInfo, Directive, Text};

const RESPONSE_DIRECTIVES: &[&str] = &[
    "max-age",
    "s-maxage",
    "no-cache",
    "no-store",
    "no-transform",
    "must-revalidate",
    "proxy-revalidate",
    "must-understand",
    "private",
    "public",
    "immutable",
    "stale-while-revalidate",
    "stale-if-error",
];
const REQUEST_DIRECTIVES: &[&str] = &[
    "max-age",
    "max-stale",
    "min-fresh",
    "no-cache",
    "no-store",
    "no-transform",
    "only-if-cached",
    "stale-if-error",
];
/// Directives kept per message.
const MAX_DIRECTIVES: usize = 32;
/// Validators remembered per URL (the newest first).
const PER_URL: usize = 2;

/// Status codes a cache may store with a heuristic lifetime (RFC 9110 §15.1).
const HEURISTIC_STATUSES: [u16; 12] = [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501];

/// Whether a status is one of [`HEURISTIC_STATUSES`].
pub fn heuristically_cacheable(status: u16) -> bool {
    HEURISTIC_STATUSES.contains(&status)
}

/// The fields that make a response explicitly cacheable (RFC 9111 §3), in the order the
/// reason names them.
const EXPLICIT: [&str; 4] = ["public", "s-maxage", "max-age", "Expires"];

const PARTIAL: &str = "; partial content, stored by caches that support ranges (RFC 9111 §3.3)";

/// [`storable`]'s reasons for explicitly cacheable responses, one per set of [`EXPLICIT`]
/// fields (a bit each) and for a 206 or not (the next bit). Built once, as
/// [`HEURISTIC_REASONS`]: most responses of a capture have one of these, and a reason built
/// per response was an allocation (and a free) each.
static EXPLICIT_REASONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    (0..2 << EXPLICIT.len())
        .map(|bits: usize| {
            let names: Vec<&str> = EXPLICIT
                .iter()
                .enumerate()
                .filter(|(k, _)| bits & 1 << k != 0)
                .map(|(_, n)| *n)
                .collect();
            let partial = if bits >> EXPLICIT.len() != 0 {
                PARTIAL
            } else {
                ""
            };
            format!(
                "explicitly cacheable: {} (RFC 9111 §3){partial}",
                names.join(", ")
            )
        })
        .collect()
});
/// [`storable`]'s reasons for heuristically cacheable responses, one per status of
/// [`HEURISTIC_STATUSES`].
static HEURISTIC_REASONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    HEURISTIC_STATUSES
        .iter()
        .map(|&s| {
            let partial = if s == 206 { PARTIAL } else { "" };
            format!(
                "status {s} is heuristically cacheable (RFC 9111 §4.2.2, RFC 9110 §15.1){partial}"
            )
        })
        .collect()
});

/// Parses the Cache-Control lines of a message (RFC 9111 §5.2): names lowercased, values
/// unquoted, unknown directives kept and marked.
pub fn directives<'a>(lines: impl Iterator<Item = &'a [u8]>, response: bool) -> Vec<Directive> {
    let known = if response {
        RESPONSE_DIRECTIVES
    } else {
        REQUEST_DIRECTIVES
    };
    // Called only for a Cache-Control field: room for a few directives from the start.
    let mut out = Vec::with_capacity(4);
    for line in lines {
        for item in list(line) {
            if out.len() >= MAX_DIRECTIVES {
                return out;
            }
            let (n, v) = match item.iter().position(|&c| c == b'=') {
                Some(i) => (trim(&item[..i]), Some(unquote(&item[i + 1..]))),
                None => (item, None),
            };
            // Known names are the static strings (no allocation per directive).
            let name: Text = match known.iter().find(|k| same_name(n, k.as_bytes())) {
                Some(k) => Cow::Borrowed(k),
                None => Cow::Owned(text(n).to_ascii_lowercase()),
            };
            let unknown = matches!(name, Cow::Owned(_));
            out.push(Directive {
                name,
                value: v,
                unknown,
            });
        }
    }
    out
}

fn has(d: &[Directive], name: &str) -> bool {
    d.iter().any(|x| x.name == name)
}

/// A directive without a value (`private`, `no-cache` unqualified).
fn has_bare(d: &[Directive], name: &str) -> bool {
    d.iter().any(|x| x.name == name && x.value.is_none())
}

/// The first delta-seconds value of a directive: Some(Ok(n)), Some(Err(())) when invalid.
fn seconds(d: &[Directive], name: &str) -> Option<Result<u64, ()>> {
    d.iter().find(|x| x.name == name).map(|x| {
        x.value
            .as_deref()
            .and_then(|v| number(v.as_bytes()))
            .ok_or(())
    })
}

/// Whether a directive names a field (`no-cache="Set-Cookie"`, `private="set-cookie"`).
fn names_field(d: &[Directive], directive: &str, field: &str) -> bool {
    d.iter().any(|x| {
        x.name == directive
            && x.value
                .as_deref()
                .is_some_and(|v| v.split(',').any(|f| f.trim().eq_ignore_ascii_case(field)))
    })
}

/// What [`storable`] needs to know about the exchange.
pub struct StoreInput<'a> {
    pub method: &'a str,
    pub status: u16,
    pub request: &'a [Directive],
    pub response: &'a [Directive],
    pub authorization: bool,
    pub expires: bool,
}

/// Whether a shared cache may store the response (RFC 9111 §3 and §3.5), and why.
pub fn storable(i: &StoreInput<'_>) -> (bool, Text) {
    let rd = i.response;
    if i.method != "GET" && i.method != "HEAD" {
        return (
            false,
            if i.method == "POST" {
                Cow::Borrowed(
                    "POST: reusable only with explicit freshness and a Content-Location naming \
                     the request's URI (RFC 9110 §9.3.3); caches do not store it in practice",
                )
            } else {
                format!("method {} is not cacheable (RFC 9110 §9.2.3)", i.method).into()
            },
        );
    }
    if i.status < 200 {
        return (false, "an interim response is never stored".into());
    }
    if i.status == 304 {
        return (
            false,
            "a 304 is not stored itself: it freshens the stored response it validates (RFC \
             9111 §4.3.4)"
                .into(),
        );
    }
    if has(i.request, "no-store") {
        return (
            false,
            "the request's no-store forbids storing the response (RFC 9111 §5.2.1.5)".into(),
        );
    }
    if has(rd, "no-store") {
        return (false, "no-store (RFC 9111 §5.2.2.5)".into());
    }
    if has_bare(rd, "private") {
        return (
            false,
            "private: only a private (browser) cache may store it (RFC 9111 §5.2.2.7)".into(),
        );
    }
    if i.authorization && !has(rd, "public") && !has(rd, "s-maxage") && !has(rd, "must-revalidate")
    {
        return (
            false,
            "the request carried Authorization: a shared cache stores the response only with \
             public, s-maxage or must-revalidate (RFC 9111 §3.5)"
                .into(),
        );
    }
    let explicit = [
        has(rd, "public"),
        has(rd, "s-maxage"),
        has(rd, "max-age"),
        i.expires,
    ];
    if explicit.iter().any(|&e| e) {
        let fields = explicit
            .iter()
            .enumerate()
            .fold(0, |m, (k, &e)| m | usize::from(e) << k);
        let reason = EXPLICIT_REASONS
            .get(fields | usize::from(i.status == 206) << EXPLICIT.len())
            .map_or("", String::as_str);
        return (true, Cow::Borrowed(reason));
    }
    if let Some(k) = HEURISTIC_STATUSES.iter().position(|&s| s == i.status) {
        let reason = HEURISTIC_REASONS.get(k).map_or("", String::as_str);
        return (true, Cow::Borrowed(reason));
    }
    (
        false,
        format!(
            "status {} is stored only with explicit freshness (max-age, s-maxage, Expires, \
             public) and there is none (RFC 9111 §3)",
            i.status
        )
        .into(),
    )
}

/// Freshness lifetime for a shared cache (RFC 9111 §4.2.1) in seconds, its source, and a note.
pub fn freshness(
    response: &[Directive],
    expires: Option<&[u8]>,
    date: Option<i64>,
    received: i64,
    last_modified: Option<i64>,
    heuristic_allowed: bool,
) -> (Option<u64>, &'static str, Option<Text>) {
    if let Some(v) = seconds(response, "s-maxage") {
        return match v {
            Ok(n) => (Some(n), "s-maxage", None),
            Err(()) => (Some(0), "s-maxage", Some("invalid s-maxage: stale".into())),
        };
    }
    if let Some(v) = seconds(response, "max-age") {
        return match v {
            Ok(n) => (Some(n), "max-age", None),
            Err(()) => (
                Some(0),
                "max-age",
                Some("invalid max-age: the response is stale (RFC 9111 §4.2.1)".into()),
            ),
        };
    }
    let base = date.unwrap_or(received);
    if let Some(e) = expires {
        return match date::parse(e) {
            Some(t) => (Some(t.saturating_sub(base).max(0) as u64), "expires", None),
            None => (
                Some(0),
                "expires",
                Some(
                    format!(
                        "Expires {:?} is not a date: already expired (RFC 9111 §5.3)",
                        text(e)
                    )
                    .into(),
                ),
            ),
        };
    }
    if heuristic_allowed && let Some(lm) = last_modified {
        let age = base.saturating_sub(lm).max(0) as u64;
        return (
            Some(age / 10),
            "heuristic",
            Some(
                "no explicit lifetime: 10 % of the time since Last-Modified, the usual \
                 heuristic (RFC 9111 §4.2.2)"
                    .into(),
            ),
        );
    }
    (None, "none", None)
}

/// Age when the response reached the capture point (RFC 9111 §4.2.3), in whole seconds; all
/// times in nanoseconds since the epoch except `date` and `age` (seconds).
pub fn current_age(age: Option<u64>, date: Option<i64>, request_ns: i64, response_ns: i64) -> u64 {
    let resp_s = response_ns.div_euclid(1_000_000_000);
    let apparent = date.map_or(0, |d| resp_s.saturating_sub(d).max(0)) as u64;
    let delay = (response_ns.saturating_sub(request_ns).max(0) / 1_000_000_000) as u64;
    let corrected = age.unwrap_or(0).saturating_add(delay);
    apparent.max(corrected)
}

/// Entity tags of an If-None-Match list (`*` kept as is).
pub fn etags<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Vec<&'a [u8]> {
    lines.flat_map(list).take(32).collect()
}

fn opaque(tag: &[u8]) -> &[u8] {
    let t = trim(tag);
    t.strip_prefix(b"W/").unwrap_or(t)
}

/// Weak comparison (RFC 9110 §8.8.3.2): the opaque tags are equal, W/ ignored.
pub fn weak_match(a: &[u8], b: &[u8]) -> bool {
    opaque(a) == opaque(b)
}

/// A validator an earlier response carried, compactly: the key of its entity-tag's opaque part
/// (weak comparison ignores `W/`) and its Last-Modified as a time, each with a bit saying it
/// was there (48 bytes; with `Option`s for the two it was 64, and the validators table holds
/// two per URL).
#[derive(Clone, Copy)]
struct Validator {
    txn: u64,
    etag: u64,
    last_modified: i64,
    client: IpAddr,
    /// [`Validator::ETAG`], [`Validator::LAST_MODIFIED`].
    has: u8,
}

impl Validator {
    const ETAG: u8 = 1;
    const LAST_MODIFIED: u8 = 2;

    fn new(txn: u64, client: IpAddr, etag: Option<u64>, last_modified: Option<i64>) -> Self {
        Validator {
            txn,
            etag: etag.unwrap_or(0),
            last_modified: last_modified.unwrap_or(0),
            client,
            has: if etag.is_some() { Self::ETAG } else { 0 }
                | if last_modified.is_some() {
                    Self::LAST_MODIFIED
                } else {
                    0
                },
        }
    }
    fn etag(&self) -> Option<u64> {
        (self.has & Self::ETAG != 0).then_some(self.etag)
    }
    fn last_modified(&self) -> Option<i64> {
        (self.has & Self::LAST_MODIFIED != 0).then_some(self.last_modified)
    }
}

fn etag_key(tag: &[u8]) -> u64 {
    key_of(&[opaque(tag)])
}

/// Earlier validators per URL, the newest first.
pub struct State {
    urls: Bounded<u64, [Option<Validator>; PER_URL]>,
    /// Hosts already reported for storable responses with Set-Cookie.
    once: Bounded<u64, ()>,
    /// The last Date value read, and its time ([`State::date`]).
    last_date: (Vec<u8>, Option<i64>),
    /// That value as text ([`text`]): a copy of it is the next responses' `date` while it
    /// stays the same (no UTF-8 check of each).
    last_date_text: String,
}

impl State {
    pub fn new(cap: usize, once: usize) -> Self {
        State {
            urls: Bounded::new(cap),
            once: Bounded::new(once),
            last_date: (Vec::new(), None),
            last_date_text: String::new(),
        }
    }
    pub fn evicted(&self) -> u64 {
        self.urls.evicted + self.once.evicted
    }

    /// A Date field's time. The responses of one second share their Date, and comparing it
    /// with the last one read costs a tenth of parsing it again.
    fn date(&mut self, v: Option<&[u8]>) -> Option<i64> {
        let v = v?;
        let (last, t) = &mut self.last_date;
        if last.as_slice() != v {
            last.clear();
            last.extend_from_slice(v);
            *t = date::parse(v);
            self.last_date_text = text(v);
        }
        *t
    }
}

/// Whether a cache has anything to say: a conditional request, explicit caching fields, or
/// validators and Vary on a response to a method whose responses caches store (RFC 9110
/// §9.2.3).
fn applies(c: &Exchange<'_>, conditional: bool) -> bool {
    let q = &c.q;
    let r = &c.r;
    let explicit = r.cache_control.present()
        || r.expires.present()
        || r.pragma.is_some()
        || q.cache_control.present()
        || q.pragma.is_some();
    // Validators and Vary matter to caches only for methods whose responses they store.
    let cacheable_method = matches!(c.method, "GET" | "HEAD");
    explicit || conditional || (cacheable_method && r.has_cache_fields())
}

/// What the two messages say to caches: Cache-Control on both sides (RFC 9111 §5.2), Pragma,
/// Date, Expires, Age, the validators and Vary.
fn fields(c: &Exchange<'_>) -> CacheInfo {
    let q = &c.q;
    let r = &c.r;
    // Most messages have no Cache-Control (requests nearly never): nothing to walk then.
    let request_directives = if q.cache_control.present() {
        directives(c.request_lines(q.cache_control, "cache-control"), false)
    } else {
        Vec::new()
    };
    let response_directives = if r.cache_control.present() {
        directives(c.response_lines(r.cache_control, "cache-control"), true)
    } else {
        Vec::new()
    };
    let mut vary = Vec::new();
    if r.vary.present() {
        'lines: for line in c.response_lines(r.vary, "vary") {
            for v in list(line) {
                if vary.len() >= 16 {
                    break 'lines;
                }
                vary.push(text(v));
            }
        }
    }
    CacheInfo {
        request_directives,
        response_directives,
        pragma: q.pragma.map(text),
        // Set by `analyse` from the Date read last ([`State::date`]).
        date: None,
        expires: r.expires.first.map(text),
        age: r.age.and_then(number),
        etag: r.etag.map(text),
        last_modified: r.last_modified.map(text),
        vary,
        ..CacheInfo::default()
    }
}

/// Pragma: no-cache in a request without Cache-Control (RFC 9111 §5.4).
fn request_pragma(c: &Exchange<'_>, info: &mut CacheInfo) {
    if info.request_directives.is_empty()
        && c.q
            .pragma
            .is_some_and(|p| list(p).any(|x| x.eq_ignore_ascii_case(b"no-cache")))
    {
        info.notes.push(
            "Pragma: no-cache without Cache-Control: caches treat it as no-cache (RFC 9111 §5.4)"
                .into(),
        );
    }
}

/// The cache part of a transaction; None when no field of it is present. It answers: what do
/// the messages say to caches; is the response's policy consistent, may a shared cache store
/// it, how fresh is it, could a cache hand its cookie to others; what does the request ask of
/// caches, which earlier response does a conditional request revalidate and did the answer
/// match it.
pub fn analyse(c: &Exchange<'_>, st: &mut State, out: &mut Vec<Found>) -> Option<CacheInfo> {
    let conditional = c.q.if_none_match.present() || c.q.if_modified_since.is_some();
    if !applies(c, conditional) {
        return None;
    }
    let mut info = fields(c);
    // The Date's time, and its text (a copy of the last one's when it is the same).
    let date = st.date(c.r.date);
    info.date = c.r.date.map(|_| st.last_date_text.clone());
    // Read once for the freshness heuristic and the validators remembered.
    let last_modified = c.r.last_modified.and_then(date::parse);
    if let Some(resp) = c.resp {
        response::conflicting_directives(&info.response_directives, out);
        let ok = response::may_store(c, resp.status, &mut info, out);
        let fresh =
            response::freshness_at_capture(c, resp.status, ok, date, last_modified, &mut info);
        response::directive_notes(c, &mut info);
        response::set_cookie_shared(c, st, ok, fresh, &info.response_directives, out);
    }
    request_pragma(c, &mut info);
    if conditional {
        info.conditional = Some(validators::link(c, st, out));
    }
    validators::remember(c, st, &info, last_modified, out);
    Some(info)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::type_complexity)]
    use super::*;

    fn d(v: &str) -> Vec<Directive> {
        directives(std::iter::once(v.as_bytes()), true)
    }

    #[test]
    fn rfc9111_5_2_directives_parsed_with_unknown_ones_kept() {
        let got = d(
            r#"max-age=3600, Public, no-cache="Set-Cookie, X-A", x-ext=1, stale-while-revalidate=30"#,
        );
        let names: Vec<(&str, Option<&str>, bool)> = got
            .iter()
            .map(|x| (x.name.as_ref(), x.value.as_deref(), x.unknown))
            .collect();
        assert_eq!(
            names,
            vec![
                ("max-age", Some("3600"), false),
                ("public", None, false),
                ("no-cache", Some("Set-Cookie, X-A"), false),
                ("x-ext", Some("1"), true),
                ("stale-while-revalidate", Some("30"), false),
            ]
        );
        let req = directives(
            std::iter::once(&b"max-stale, only-if-cached, public"[..]),
            false,
        );
        assert_eq!(
            req.iter().map(|x| x.unknown).collect::<Vec<_>>(),
            vec![false, false, true],
            "public is a response directive"
        );
    }

    #[test]
    fn directive_names_are_found_whatever_their_case() {
        // `same_name` compares names made of lowercase letters and `-` only.
        for k in RESPONSE_DIRECTIVES.iter().chain(REQUEST_DIRECTIVES) {
            assert!(
                k.bytes().all(|c| c.is_ascii_lowercase() || c == b'-'),
                "{k}"
            );
            for v in [k.to_string(), k.to_ascii_uppercase()] {
                let got = directives(std::iter::once(v.as_bytes()), true);
                let want = RESPONSE_DIRECTIVES.contains(k);
                assert_eq!(got.first().map(|x| !x.unknown), Some(want), "{v}");
            }
        }
        // A control byte where a `-` is (what the case bit makes of it) is another name.
        assert!(d("max\rage=1")[0].unknown);
    }

    #[test]
    fn rfc9111_3_storable_by_a_shared_cache() {
        // (method, status, request CC, response CC, Authorization, Expires, storable, reason contains)
        let cases: &[(&str, u16, &str, &str, bool, bool, bool, &str)] = &[
            (
                "GET",
                200,
                "",
                "max-age=60",
                false,
                false,
                true,
                "explicitly cacheable: max-age",
            ),
            (
                "GET",
                200,
                "",
                "",
                false,
                false,
                true,
                "heuristically cacheable",
            ),
            ("GET", 200, "", "", false, true, true, "Expires"),
            (
                "GET",
                302,
                "",
                "",
                false,
                false,
                false,
                "explicit freshness",
            ),
            ("GET", 302, "", "max-age=5", false, false, true, "max-age"),
            ("GET", 200, "", "no-store", false, false, false, "§5.2.2.5"),
            (
                "GET",
                200,
                "no-store",
                "max-age=60",
                false,
                false,
                false,
                "§5.2.1.5",
            ),
            ("GET", 200, "", "private", false, false, false, "private"),
            (
                "GET",
                200,
                "",
                "private=\"x-a\", max-age=9",
                false,
                false,
                true,
                "max-age",
            ),
            ("GET", 200, "", "max-age=60", true, false, false, "§3.5"),
            (
                "GET",
                200,
                "",
                "max-age=60, public",
                true,
                false,
                true,
                "public",
            ),
            (
                "GET",
                200,
                "",
                "must-revalidate",
                true,
                false,
                true,
                "heuristically",
            ),
            ("POST", 200, "", "max-age=60", false, false, false, "§9.3.3"),
            ("PUT", 200, "", "max-age=60", false, false, false, "§9.2.3"),
            ("GET", 304, "", "max-age=60", false, false, false, "§4.3.4"),
            ("GET", 206, "", "max-age=60", false, false, true, "§3.3"),
            ("HEAD", 404, "", "", false, false, true, "404"),
        ];
        for (m, s, qc, rc, auth, exp, want, why) in cases {
            let qd = directives(std::iter::once(qc.as_bytes()), false);
            let rdv = d(rc);
            let (ok, reason) = storable(&StoreInput {
                method: m,
                status: *s,
                request: &qd,
                response: &rdv,
                authorization: *auth,
                expires: *exp,
            });
            assert_eq!(ok, *want, "{m} {s} {qc:?} {rc:?}: {reason}");
            assert!(reason.contains(why), "{m} {s} {rc:?}: {reason}");
        }
    }

    #[test]
    fn storable_reasons_name_every_explicit_field_in_order() {
        let reason = |rc: &str, status: u16, expires: bool| {
            let rdv = d(rc);
            let (ok, why) = storable(&StoreInput {
                method: "GET",
                status,
                request: &[],
                response: &rdv,
                authorization: false,
                expires,
            });
            assert!(ok, "{rc:?} {status}");
            why.into_owned()
        };
        assert_eq!(
            reason("max-age=60", 200, false),
            "explicitly cacheable: max-age (RFC 9111 §3)"
        );
        assert_eq!(
            reason("max-age=1, public, s-maxage=2", 200, true),
            "explicitly cacheable: public, s-maxage, max-age, Expires (RFC 9111 §3)"
        );
        assert_eq!(
            reason("public", 206, true),
            "explicitly cacheable: public, Expires (RFC 9111 §3); partial content, stored by \
             caches that support ranges (RFC 9111 §3.3)"
        );
        assert_eq!(
            reason("", 200, false),
            "status 200 is heuristically cacheable (RFC 9111 §4.2.2, RFC 9110 §15.1)"
        );
        assert_eq!(
            reason("", 206, false),
            "status 206 is heuristically cacheable (RFC 9111 §4.2.2, RFC 9110 §15.1); partial \
             content, stored by caches that support ranges (RFC 9111 §3.3)"
        );
        assert_eq!(
            reason("", 501, false),
            "status 501 is heuristically cacheable (RFC 9111 §4.2.2, RFC 9110 §15.1)"
        );
    }

    #[test]
    fn rfc9111_4_2_1_freshness_lifetime_sources() {
        let date = 1_000_000;
        let cases: &[(&str, Option<&str>, Option<i64>, bool, Option<u64>, &str)] = &[
            (
                "s-maxage=10, max-age=60",
                None,
                None,
                true,
                Some(10),
                "s-maxage",
            ),
            (
                "max-age=60",
                Some("Thu, 01 Jan 1970 11:46:40 GMT"),
                None,
                true,
                Some(60),
                "max-age",
            ),
            (
                "",
                Some("Mon, 12 Jan 1970 14:46:40 GMT"),
                None,
                true,
                Some(3600),
                "expires",
            ),
            ("", Some("0"), None, true, Some(0), "expires"),
            ("", None, Some(date - 10_000), true, Some(1000), "heuristic"),
            ("", None, Some(date - 10_000), false, None, "none"),
            ("max-age=abc", None, None, true, Some(0), "max-age"),
            ("", None, None, true, None, "none"),
        ];
        for (cc, exp, lm, heur, want, src) in cases {
            let (l, s, _) = freshness(&d(cc), exp.map(str::as_bytes), Some(date), date, *lm, *heur);
            assert_eq!((l, s), (*want, *src), "{cc:?} {exp:?}");
        }
    }

    #[test]
    fn rfc9111_4_2_3_current_age() {
        let s = 1_000_000_000i64;
        // Age header plus the response delay; the apparent age from Date; the larger wins.
        assert_eq!(current_age(Some(100), Some(1000), 1000 * s, 1002 * s), 102);
        assert_eq!(current_age(None, Some(900), 1000 * s, 1000 * s), 100);
        assert_eq!(current_age(None, Some(1000), 1000 * s, 1000 * s + s / 2), 0);
        assert_eq!(
            current_age(None, Some(2000), 1000 * s, 1000 * s),
            0,
            "Date in the future"
        );
    }

    #[test]
    fn dates_read_through_the_last_one_are_parsed() {
        let mut st = State::new(4, 4);
        let a = b"Mon, 01 Jan 2024 00:00:00 GMT";
        let b = b"Mon, 01 Jan 2024 00:00:01 GMT";
        for v in [&a[..], a, b, b"not a date", b"", a, b] {
            assert_eq!(
                st.date(Some(v)),
                date::parse(v),
                "{:?}",
                String::from_utf8_lossy(v)
            );
        }
        assert_eq!(st.date(None), None);
        assert_eq!(st.date(Some(a)), date::parse(a));
    }

    #[test]
    fn validators_stay_compact() {
        assert_eq!(
            std::mem::size_of::<[Option<Validator>; PER_URL]>(),
            48 * PER_URL
        );
        let v = Validator::new(7, [10, 0, 0, 1].into(), None, Some(-3));
        assert_eq!((v.txn, v.etag(), v.last_modified()), (7, None, Some(-3)));
        let v = Validator::new(8, [10, 0, 0, 1].into(), Some(0), None);
        assert_eq!((v.etag(), v.last_modified()), (Some(0), None));
    }

    #[test]
    fn rfc9110_8_8_3_2_weak_comparison() {
        assert!(weak_match(br#""abc""#, br#"W/"abc""#));
        assert!(weak_match(br#"W/"abc""#, br#"W/"abc""#));
        assert!(!weak_match(br#""abc""#, br#""abd""#));
        let tags = etags([&br#""a", W/"b""#[..], br#""c""#].into_iter());
        assert_eq!(tags.len(), 3);
    }
}
