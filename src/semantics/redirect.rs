//! Redirects (RFC 9110 §15.4): 301/302/303/307/308 chains followed within the capture by the
//! same client (on any connection), the method changes along them and loops.

use std::borrow::Cow;
use std::net::IpAddr;

use super::util::{Bounded, key_of, resolve, text, trim};
use super::{Exchange, Found, Side};
use crate::model::codes::{self, Code};
use crate::model::semantics::{Hop, RedirectInfo, Text};

/// Hops listed per chain, URLs remembered per chain, seconds a redirect waits to be followed.
const MAX_HOPS: usize = 20;
const MAX_VISITED: usize = 64;
const FOLLOW_WINDOW: i64 = 120;

pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// How the method changed between a redirect and the request that followed it: (text, finding
/// code when one applies).
pub fn method_change(
    status: u16,
    before: &str,
    after: &str,
) -> Option<(Text, Option<&'static Code>)> {
    let safe = |m: &str| m == "GET" || m == "HEAD";
    if before == after {
        return match status {
            303 if !safe(before) => Some((
                format!("kept {before} after 303 (RFC 9110 §15.4.4: a user agent follows a 303 with GET)").into(),
                None,
            )),
            301 | 302 if before == "POST" => Some((
                Cow::Borrowed(
                    "kept POST after 301/302 (RFC 9110 §15.4.2/§15.4.3 allow it; browsers switch to GET)",
                ),
                None,
            )),
            _ => None,
        };
    }
    Some(match status {
        307 | 308 => (
            format!(
                "{before} → {after}: {status} requires the same method and content (RFC 9110 §15.4.{})",
                if status == 307 { 8 } else { 9 }
            )
            .into(),
            Some(&codes::REDIRECT_METHOD_CHANGED),
        ),
        303 => (
            format!("{before} → {after} (303 See Other: expected, RFC 9110 §15.4.4)").into(),
            None,
        ),
        301 | 302 if before == "POST" && after == "GET" => (
            format!(
                "POST → GET after {status}: allowed for historical reasons, the request content is dropped (RFC 9110 §15.4.{})",
                if status == 301 { 2 } else { 3 }
            )
            .into(),
            Some(&codes::REDIRECT_POST_TO_GET),
        ),
        _ => (format!("{before} → {after} after {status}").into(), None),
    })
}

struct Pending {
    chain: u64,
    from: u64,
    status: u16,
    method: String,
    hops: Vec<Hop>,
    visited: Vec<u64>,
    at: i64,
    loop_reported: bool,
}

pub struct State {
    pending: Bounded<(IpAddr, u64), Pending>,
    scratch: String,
}

impl State {
    pub fn new(cap: usize) -> Self {
        State {
            pending: Bounded::new(cap),
            scratch: String::new(),
        }
    }
    pub fn evicted(&self) -> u64 {
        self.pending.evicted
    }
}

/// The redirect part of a transaction: a redirect response, or a request that followed one.
pub fn analyse(c: &Exchange<'_>, st: &mut State, out: &mut Vec<Found>) -> Option<RedirectInfo> {
    let (Some(url), Some(parts), Some(key)) = (c.url_str(), c.url_parts(), c.url_key) else {
        return None;
    };
    let status = c.status();
    let redirect = status.is_some_and(is_redirect);
    let now = c
        .request_ns()
        .or(c.response_ns())
        .unwrap_or(0)
        .div_euclid(1_000_000_000);
    let followed = if st.pending.is_empty() {
        None
    } else {
        st.pending
            .remove(&(c.client, key))
            .filter(|p| now - p.at <= FOLLOW_WINDOW)
    };
    if !redirect && followed.is_none() {
        return None;
    }
    let hop = Hop {
        transaction: c.t.id,
        method: c.method.to_string(),
        url: url.to_string(),
        status,
    };
    let mut info = RedirectInfo::default();
    let (mut hops, mut visited, mut loop_reported) = match followed {
        Some(p) => {
            info.chain = p.chain;
            info.hop = p.hops.len() as u32;
            info.from = Some(p.from);
            if let Some((t, code)) = method_change(p.status, &p.method, c.method) {
                if let Some(code) = code {
                    out.push(Found::new(
                        code,
                        Side::Request,
                        format!("redirect #{} → #{}: {t}", p.from, c.t.id),
                    ));
                }
                info.method_change = Some(t);
            }
            if p.visited.contains(&key) {
                info.is_loop = true;
            }
            (p.hops, p.visited, p.loop_reported)
        }
        None => {
            info.chain = c.t.id;
            (Vec::new(), Vec::new(), false)
        }
    };
    if hops.len() < MAX_HOPS {
        hops.push(hop);
    } else {
        info.notes
            .push(format!("more than {MAX_HOPS} hops: the first {MAX_HOPS} are listed").into());
    }
    if !visited.contains(&key) && visited.len() < MAX_VISITED {
        visited.push(key);
    }
    let mut next: Option<(u64, String, bool)> = None;
    if redirect {
        info.status = status;
        match c.r.location.map(|l| text(trim(l))) {
            None => {
                out.push(Found::new(
                    &codes::REDIRECT_MISSING_LOCATION,
                    Side::Response,
                    format!(
                        "{} without Location: the client has nowhere to go (RFC 9110 §15.4: the \
                         server should send one)",
                        status.unwrap_or(0)
                    ),
                ));
            }
            Some(loc) => {
                if let Some(np) = resolve(url, &parts, &loc, &mut st.scratch) {
                    let resolved = st.scratch.clone();
                    let next_key = key_of(&[resolved.as_bytes()]);
                    if visited.contains(&next_key) {
                        info.is_loop = true;
                        info.notes.push(
                            format!(
                                "Location {resolved} is a URL this chain already visited: a loop"
                            )
                            .into(),
                        );
                    }
                    // From cleartext to HTTPS the next hops are encrypted; a chain already
                    // over HTTPS is in the capture only because it was decrypted, and so are
                    // its next hops.
                    if np.https && !parts.https {
                        info.notes.push(
                            "the chain continues over HTTPS: the next hops are encrypted, not in the capture".into(),
                        );
                    }
                    next = Some((next_key, resolved, np.https));
                }
                info.location = Some(loc);
            }
        }
    }
    let report_loop = info.is_loop && !loop_reported;
    loop_reported |= info.is_loop;
    if let Some((next_key, resolved, _)) = next {
        let evicted = st.pending.insert(
            (c.client, next_key),
            Pending {
                chain: info.chain,
                from: c.t.id,
                status: status.unwrap_or(0),
                method: c.method.to_string(),
                hops: hops.clone(),
                visited,
                at: now,
                loop_reported,
            },
        );
        if evicted {
            out.push(Found::limit(
                &codes::REDIRECT_STATE_LIMIT,
                "redirects waiting to be followed",
            ));
        }
        info.resolved = Some(resolved);
    }
    if report_loop {
        let urls: Vec<&str> = hops.iter().map(|h| h.url.as_str()).collect();
        out.push(Found::new(
            &codes::REDIRECT_LOOP,
            Side::Response,
            format!(
                "redirect loop: the chain from #{} comes back to a URL it already visited ({}); \
                 clients give up after a limit (curl --max-redirs, browsers ~20: \
                 ERR_TOO_MANY_REDIRECTS); fix the server's redirect rules",
                info.chain,
                urls.join(" → ")
            ),
        ));
    }
    info.hops = hops;
    Some(info)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::type_complexity)]
    use super::*;

    #[test]
    fn rfc9110_15_4_method_changes() {
        // (status, before, after, finding)
        let cases: &[(u16, &str, &str, Option<Option<&str>>)] = &[
            (301, "GET", "GET", None),
            (301, "POST", "POST", Some(None)),
            (301, "POST", "GET", Some(Some("redirect.post-to-get"))),
            (302, "POST", "GET", Some(Some("redirect.post-to-get"))),
            (303, "POST", "GET", Some(None)),
            (303, "PUT", "PUT", Some(None)),
            (303, "GET", "GET", None),
            (307, "POST", "POST", None),
            (307, "POST", "GET", Some(Some("redirect.method-changed"))),
            (308, "PUT", "GET", Some(Some("redirect.method-changed"))),
        ];
        for (s, b, a, want) in cases {
            let got = method_change(*s, b, a).map(|x| x.1.map(|c| c.name));
            assert_eq!(got, *want, "{s} {b} -> {a}");
        }
    }
}
