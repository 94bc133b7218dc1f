//! What a shared cache makes of a response: a consistent policy, whether it may store it, how
//! long it stays fresh and how old it was at the capture point, and a cookie it could hand to
//! other users.

use super::{
    State, StoreInput, current_age, freshness, has, has_bare, heuristically_cacheable, names_field,
    storable,
};
use crate::model::codes;
use crate::model::semantics::{CacheInfo, Directive};
use crate::semantics::util::key_of;
use crate::semantics::{Exchange, Found, Side};

/// Cache-Control directives that contradict each other (RFC 9111 §4.2.1 and §5.2.2): caches
/// take the most restrictive reading and disagree on the rest.
pub(super) fn conflicting_directives(rd: &[Directive], out: &mut Vec<Found>) {
    let mut conflicts: Vec<String> = Vec::new();
    if has(rd, "no-store") {
        for other in ["max-age", "s-maxage", "public"] {
            if has(rd, other) {
                conflicts.push(format!("no-store with {other}"));
            }
        }
    }
    if has(rd, "public") && has(rd, "private") {
        conflicts.push("public with private".into());
    }
    for n in ["max-age", "s-maxage"] {
        let vals = || {
            rd.iter()
                .filter(move |d| d.name == n)
                .filter_map(|d| d.value.as_deref())
        };
        // Collected only for the message: nearly every response has one value or none.
        let mut it = vals();
        if let Some(first) = it.next()
            && it.any(|v| v != first)
        {
            let vals: Vec<&str> = vals().collect();
            conflicts.push(format!("{n} given twice ({})", vals.join(", ")));
        }
    }
    if !conflicts.is_empty() {
        out.push(Found::new(
            &codes::CACHE_CONFLICTING_DIRECTIVES,
            Side::Response,
            format!(
                "Cache-Control says {}: caches take the most restrictive reading and \
                 disagree on the rest (RFC 9111 §5.2.2); send one consistent policy",
                conflicts.join("; ")
            ),
        ));
    }
}

/// May a shared cache store the response, and why (RFC 9111 §3 and §3.5); Vary: * makes a
/// stored response unusable (§4.1).
pub(super) fn may_store(
    c: &Exchange<'_>,
    status: u16,
    info: &mut CacheInfo,
    out: &mut Vec<Found>,
) -> bool {
    let (q, r) = (&c.q, &c.r);
    let (ok, why) = storable(&StoreInput {
        method: c.method,
        status,
        request: &info.request_directives,
        response: &info.response_directives,
        authorization: q.authorization.is_some(),
        expires: r.expires.present(),
    });
    info.storable = Some(ok);
    info.storable_reason = Some(why);
    let vary_star = info.vary.iter().any(|v| v == "*");
    if vary_star {
        info.notes.push(
            "Vary: * — a stored response never matches a later request (RFC 9111 §4.1)".into(),
        );
        out.push(Found::new(
            &codes::CACHE_VARY_STAR,
            Side::Response,
            "Vary: * makes the response unusable by any cache: it never matches a later \
             request (RFC 9111 §4.1); list the request fields it varies on instead"
                .into(),
        ));
    }
    ok
}

/// How long the response stays fresh in a shared cache and from which field (RFC 9111 §4.2.1),
/// and how old it was when it passed the capture point (§4.2.3), for a response a cache keeps.
/// `date_v` and `lm` are the Date and Last-Modified as times. Returns the lifetime and its
/// source.
pub(super) fn freshness_at_capture(
    c: &Exchange<'_>,
    status: u16,
    ok: bool,
    date_v: Option<i64>,
    lm: Option<i64>,
    info: &mut CacheInfo,
) -> (Option<u64>, &'static str) {
    let r = &c.r;
    let rd = &info.response_directives;
    let received = c.response_ns().unwrap_or(0);
    let (lifetime, source, note) = freshness(
        rd,
        r.expires.first,
        date_v,
        received.div_euclid(1_000_000_000),
        lm,
        ok && (heuristically_cacheable(status) || has(rd, "public")),
    );
    if r.expires.count > 1 {
        info.notes
            .push("several Expires fields: the first is used (RFC 9111 §4.2.1)".into());
    }
    if let Some(n) = note {
        info.notes.push(n);
    }
    if status != 304 && status >= 200 && (ok || has(rd, "private")) {
        info.freshness_lifetime = lifetime;
        info.freshness_source = Some(source);
        let age = current_age(
            info.age,
            date_v,
            c.request_ns().unwrap_or(received),
            received,
        );
        info.current_age = Some(age);
        if let Some(l) = lifetime {
            info.fresh = Some(l > age);
        }
        if let (Some(d), None) = (date_v, info.age)
            && received.div_euclid(1_000_000_000) - d > 60
        {
            info.notes.push(
                format!(
                    "Date is {} s behind the capture's clock: clock skew, or a cache served \
                     it without Age",
                    received.div_euclid(1_000_000_000) - d
                )
                .into(),
            );
        }
    }
    (lifetime, source)
}

/// What no-cache (RFC 9111 §5.2.2.4) and a Pragma (§5.4) in the response mean to a cache.
pub(super) fn directive_notes(c: &Exchange<'_>, info: &mut CacheInfo) {
    if has_bare(&info.response_directives, "no-cache") {
        info.notes.push(
            "no-cache: stored, but revalidated before every reuse (RFC 9111 §5.2.2.4)".into(),
        );
    }
    if c.r.pragma.is_some() {
        info.notes.push(
            "Pragma in a response has no defined meaning (RFC 9111 §5.4); use Cache-Control".into(),
        );
    }
}

/// Set-Cookie on a response a shared cache may store and serve to other users (RFC 9111 §3,
/// §7.3), reported once per host.
pub(super) fn set_cookie_shared(
    c: &Exchange<'_>,
    st: &mut State,
    ok: bool,
    (lifetime, source): (Option<u64>, &'static str),
    rd: &[Directive],
    out: &mut Vec<Found>,
) {
    let r = &c.r;
    if ok
        && r.set_cookie.present()
        && !has_bare(rd, "no-cache")
        && !names_field(rd, "no-cache", "set-cookie")
        && !names_field(rd, "private", "set-cookie")
        && lifetime.is_some_and(|l| l > 0)
    {
        let host = match (c.url_str(), c.url_parts()) {
            (Some(u), Some(p)) => p.host(u),
            _ => "",
        };
        let k = key_of(&[
            codes::CACHE_SET_COOKIE_STORABLE.name.as_bytes(),
            host.as_bytes(),
        ]);
        if st.once.get(&k).is_none() {
            if st.once.insert(k, ()) {
                out.push(Found::limit(
                    &codes::CACHE_STATE_LIMIT,
                    "hosts already reported",
                ));
            }
            out.push(Found::new(
                &codes::CACHE_SET_COOKIE_STORABLE,
                Side::Response,
                format!(
                    "a shared cache may store this response of {host} with its Set-Cookie for \
                     {} s ({source}) and hand that cookie to other users (RFC 9111 §3, \
                     §7.3); add Cache-Control: private or no-cache=\"Set-Cookie\" (reported \
                     once per host)",
                    lifetime.unwrap_or(0)
                ),
            ));
        }
    }
}
