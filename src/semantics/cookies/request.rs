//! What came back: the cookies a request carried and who set them, and of the cookies the
//! client's jar holds for the request, which did not come back and why (RFC 6265bis §5.8.3).

use std::borrow::Cow;
use std::net::IpAddr;

use super::{Jar, MAX_LISTED, SameSite, Stored, Target, fmt_time, parse_cookie_header, path_match};
use crate::model::semantics::{CookieInfo, NotSentCookie, SentCookie, Text};
use crate::semantics::Exchange;
use crate::semantics::util::{Bounded, slice_text, text, trim};

/// How the browser sent the request, as far as it shows (Fetch metadata): what decides whether
/// a matching cookie is left out.
struct Context {
    /// Packet time, seconds.
    now: i64,
    cross_site: bool,
    /// A top-level GET navigation (SameSite=Lax cookies go along cross-site).
    navigation_get: bool,
    /// A cross-origin fetch without credentials: 'include' (no cookies at all).
    cors_no_creds: bool,
    /// No Cookie field.
    no_header: bool,
}

impl Context {
    fn of(c: &Exchange<'_>) -> Self {
        let q = &c.q;
        let navigation = q
            .sec_fetch_mode
            .is_some_and(|s| trim(s).eq_ignore_ascii_case(b"navigate"));
        Context {
            now: c.request_ns().unwrap_or(0).div_euclid(1_000_000_000),
            cross_site: q
                .sec_fetch_site
                .is_some_and(|s| trim(s).eq_ignore_ascii_case(b"cross-site")),
            navigation_get: navigation && c.method == "GET",
            cors_no_creds: q
                .sec_fetch_mode
                .is_some_and(|s| trim(s).eq_ignore_ascii_case(b"cors"))
                && q.sec_fetch_site
                    .is_some_and(|s| !trim(s).eq_ignore_ascii_case(b"same-origin"))
                && q.sec_fetch_storage_access.is_none()
                && !q.cookie.present(),
            no_header: !q.cookie.present(),
        }
    }
}

/// The request side (RFC 6265bis §5.8.3): which cookies came back and who set them, and which
/// cookies of the jar that match the request's host did not, and why.
pub(super) fn request_side(
    c: &Exchange<'_>,
    jars: &Bounded<IpAddr, Jar>,
    noted: &mut Bounded<u64, ()>,
    to: &Target<'_>,
    info: &mut CookieInfo,
) {
    let q = &c.q;
    let jar = jars.get(&c.client);
    let sent_names = sent(c, jar, to, info);
    let Some(jar) = jar else {
        return;
    };
    let preflight = c.method == "OPTIONS" && q.origin.is_some() && q.acr_method.is_some();
    if preflight {
        if jar.cookies.iter().any(|s| s.matches_host(to.host)) {
            info.notes.push(
                "a CORS preflight never carries cookies (Fetch standard, CORS-preflight request)"
                    .into(),
            );
        }
        return;
    }
    not_sent(c, jar, noted, to, &sent_names, info);
}

/// The cookies the request carried (RFC 6265bis §5.8.3), each with the response that set it:
/// the newest stored one that matches the request, or one a browser would have refused.
/// Returns every name sent when there is a jar to compare them with (none otherwise).
fn sent<'a>(
    c: &Exchange<'a>,
    jar: Option<&Jar>,
    to: &Target<'_>,
    info: &mut CookieInfo,
) -> Vec<&'a [u8]> {
    let (host, path) = (to.host, to.path);
    let mut sent_names: Vec<&[u8]> = Vec::new();
    if c.q.cookie.present() {
        // The lines classified once, not a new scan of the request's fields.
        for line in c.request_lines(c.q.cookie, "cookie") {
            // The line read as text once; its names and values are slices of it.
            let line_text = std::str::from_utf8(line).ok();
            let text = |part: &[u8]| match line_text.and_then(|t| slice_text(line, t, part)) {
                Some(s) => s.to_owned(),
                None => text(part),
            };
            for (n, v) in parse_cookie_header(line) {
                // Kept only for a jar to compare with.
                if jar.is_some() {
                    sent_names.push(n);
                }
                if info.sent.len() >= MAX_LISTED {
                    continue;
                }
                let name = text(n);
                let mut set_by = jar.and_then(|j| {
                    j.cookies
                        .iter()
                        .filter(|s| s.name == name)
                        .rev()
                        .find(|s| s.matches_host(host) && path_match(path, &s.path))
                        .or_else(|| j.cookies.iter().rev().find(|s| s.name == name))
                        .map(|s| s.set_by)
                });
                if set_by.is_none()
                    && let Some(r) = jar
                        .and_then(|j| j.rejected.iter().find(|r| r.name == name && r.host == host))
                {
                    // A client that kept what browsers refuse (curl ignores SameSite, for one).
                    set_by = Some(r.set_by);
                    info.notes.push(
                        format!(
                            "{name} came back although browsers refuse it ({}): this client is \
                             not a browser, or not a strict one",
                            r.reason
                        )
                        .into(),
                    );
                }
                info.sent.push(SentCookie {
                    name,
                    value: text(v),
                    set_by,
                });
            }
        }
    }
    sent_names
}

/// Why a stored cookie for the request's host did not come back (RFC 6265bis §5.8.3, SameSite
/// §5.8.3.1, the Fetch standard's credentials mode); None when the rules say it is due and the
/// request carries no Cookie at all.
fn why_not_sent(s: &Stored, to: &Target<'_>, f: &Context) -> Option<Text> {
    let (path, secure_ctx) = (to.path, to.secure);
    if !path_match(path, &s.path) {
        Some(format!("Path={} does not cover {path} (RFC 6265bis §5.1.4)", s.path).into())
    } else if s.expires_at.is_some_and(|e| e <= f.now) {
        Some(
            format!(
                "expired at {} (Expires/Max-Age, RFC 6265bis §5.8.3)",
                fmt_time(s.expires_at.unwrap_or(0))
            )
            .into(),
        )
    } else if s.secure && !secure_ctx {
        Some(Cow::Borrowed(
            "Secure: sent only over HTTPS (or to localhost), this request is plain HTTP (RFC \
             6265bis §5.8.3)",
        ))
    } else if f.cross_site && s.same_site == SameSite::Strict {
        Some("SameSite=Strict: never sent on a cross-site request (RFC 6265bis §5.8.3.1)".into())
    } else if f.cross_site && s.same_site == SameSite::Lax && !f.navigation_get {
        Some(
            "SameSite=Lax: sent cross-site only on top-level GET navigations (RFC 6265bis \
             §5.8.3.1)"
                .into(),
        )
    } else if f.cross_site && s.same_site == SameSite::Default && !f.navigation_get {
        Some(
            "no SameSite attribute: browsers treat it as Lax and do not send it on this \
             cross-site request (RFC 6265bis §5.6.7)"
                .into(),
        )
    } else if f.cors_no_creds {
        Some(
            "a cross-origin fetch without credentials: 'include' sends no cookies (Fetch \
             standard)"
                .into(),
        )
    } else if f.no_header {
        None
    } else {
        Some(
            "matches this request by RFC 6265bis §5.8.3 but was not sent: the client dropped \
             it, never stored it, or keeps another jar"
                .into(),
        )
    }
}

/// Whether a host name is one a machine is also reached by under other names: an address
/// literal (`127.0.0.1`, `[::1]`) or `localhost`.
fn is_alias_name(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok()
}

/// The jar's cookies for this request that did not come back (RFC 6265bis §5.8.3), each with
/// its reason, and the ones rejected when set (§5.7). Cookies the rules say are due, with no Cookie field at all, make
/// one note per connection instead.
fn not_sent(
    c: &Exchange<'_>,
    jar: &Jar,
    noted: &mut Bounded<u64, ()>,
    to: &Target<'_>,
    sent_names: &[&[u8]],
    info: &mut CookieInfo,
) {
    let host = to.host;
    let f = Context::of(c);
    let mut unexplained = 0usize;
    let mut explained: Vec<NotSentCookie> = Vec::new();
    for s in jar.cookies.iter().filter(|s| s.matches_host(host)) {
        if sent_names.contains(&s.name.as_bytes()) {
            continue;
        }
        let reason = why_not_sent(s, to, &f);
        if reason.is_none() {
            unexplained += 1;
        }
        if let Some(reason) = reason
            && explained.len() < MAX_LISTED
        {
            explained.push(NotSentCookie {
                name: s.name.clone(),
                set_by: Some(s.set_by),
                reason,
            });
        }
    }
    // Cookies of the same server (address and port) under another name: "my login works on
    // localhost but not on 127.0.0.1". Only when one of the names is an address literal or
    // localhost, the names of one machine: virtual hosts that share an address keep their
    // cookies apart on purpose.
    {
        for s in jar.cookies.iter().filter(|s| {
            (is_alias_name(host) || is_alias_name(&s.domain))
                && s.server == c.t.server
                && !s.matches_host(host)
                && !sent_names.contains(&s.name.as_bytes())
        }) {
            if explained.len() >= MAX_LISTED {
                break;
            }
            let reason = if s.host_only {
                format!(
                    "host-only (set without Domain by {}): sent only to {}, and this request \
                     names {host}, though it reaches the same server {} (RFC 6265bis §5.8.3); \
                     use one host name for the site",
                    s.domain, s.domain, c.t.server
                )
            } else {
                format!(
                    "Domain={} does not cover {host}, though this request reaches the same \
                     server {} (RFC 6265bis §5.1.3); use one host name for the site",
                    s.domain, c.t.server
                )
            };
            explained.push(NotSentCookie {
                name: s.name.clone(),
                set_by: Some(s.set_by),
                reason: reason.into(),
            });
        }
    }
    if unexplained > 0 {
        // Cookies the rules say must come back, and no Cookie header at all: this is not the
        // program that got them (or it keeps no jar). One note per connection instead of a
        // list per cookie and request.
        if noted.get(&c.t.connection).is_some() {
            return;
        }
        noted.insert(c.t.connection, ());
        info.notes.push(
            format!(
                "no Cookie header: {unexplained} cookie(s) this client IP was given for {host} \
                 match this request but none came back (a different program on the same host, \
                 a client without a cookie jar, or cookies disabled)"
            )
            .into(),
        );
        return;
    }
    info.not_sent = explained;
    for r in jar.rejected.iter().filter(|r| r.host == host) {
        if sent_names.contains(&r.name.as_bytes()) || info.not_sent.len() >= MAX_LISTED {
            continue;
        }
        info.not_sent.push(NotSentCookie {
            name: r.name.clone(),
            set_by: Some(r.set_by),
            reason: format!("rejected when set by #{}: {}", r.set_by, r.reason).into(),
        });
    }
}
