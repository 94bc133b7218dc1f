//! What the server set: each Set-Cookie read as a user agent reads it, then stored in the
//! client's jar or rejected, and why (RFC 6265bis §5.7).

use super::{
    Jar, MAX_LISTED, MAX_REJECTED, Parsed, Rejected, State, Stored, Target, first,
    parse_attributes, parse_set_cookie, rejection, session_like,
};
use crate::model::codes;
use crate::model::semantics::{CookieInfo, Text};
use crate::semantics::{Exchange, Found, Side};

impl Jar {
    /// Remembers a rejected cookie (the newest per name and host), to say why it does not come
    /// back.
    fn reject(&mut self, p: &Parsed, host: &str, set_by: u64, why: Text) {
        self.rejected
            .retain(|r| !(r.name == p.info.name && r.host == host));
        if self.rejected.len() >= MAX_REJECTED {
            self.rejected.remove(0);
        }
        self.rejected.push(Rejected {
            name: p.info.name.clone(),
            host: host.to_string(),
            set_by,
            reason: why,
        });
    }

    /// Stores a cookie in place of the one with its name, domain and path (RFC 6265bis §5.7);
    /// an expired one only deletes it. Returns whether the jar was full and dropped its oldest
    /// cookie.
    fn store(
        &mut self,
        p: &mut Parsed,
        host: &str,
        set_by: u64,
        server: crate::model::Endpoint,
        per_jar: usize,
    ) -> bool {
        let domain = p.domain_attr.clone().unwrap_or_else(|| host.to_string());
        let host_only = p.domain_attr.is_none();
        self.cookies
            .retain(|s| !(s.name == p.info.name && s.domain == domain && s.path == p.path));
        self.rejected
            .retain(|r| !(r.name == p.info.name && r.host == host));
        if p.expired {
            p.info.deletes = true;
            return false;
        }
        let dropped = self.cookies.len() >= per_jar;
        if dropped {
            self.cookies.remove(0);
        }
        self.cookies.push(Stored {
            name: p.info.name.clone(),
            domain,
            host_only,
            path: p.path.clone(),
            secure: p.info.secure,
            same_site: p.same_site,
            expires_at: p.expires_at,
            set_by,
            server,
        });
        p.info.stored = true;
        dropped
    }
}

/// Each Set-Cookie of the response: rejected, with the reason a user agent has (RFC 6265bis
/// §5.7 and the browsers' additions), or stored in the client's jar, where a session cookie
/// without HttpOnly is open to any script on the page (§8.5).
pub(super) fn set_cookies(
    c: &Exchange<'_>,
    st: &mut State,
    to: &Target<'_>,
    info: &mut CookieInfo,
    out: &mut Vec<Found>,
) {
    let (host, path, secure_ctx) = (to.host, to.path, to.secure);
    let now = c.response_ns().unwrap_or(0).div_euclid(1_000_000_000);
    let (jar, evicted) = st.jars.get_or_insert_with(c.client, Jar::default);
    if evicted {
        out.push(Found::limit(
            &codes::COOKIE_STATE_LIMIT,
            "client cookie jars",
        ));
    }
    for line in c.response_lines(c.r.set_cookie, "set-cookie") {
        let Some(sc) = parse_set_cookie(line) else {
            continue;
        };
        let mut p = parse_attributes(&sc, path, now);
        if let Some((code, why)) = rejection(&p, host, secure_ctx) {
            if first(
                &mut st.once,
                &[code.name.as_bytes(), host.as_bytes(), sc.name],
                out,
            ) {
                out.push(Found::new(
                    code,
                    Side::Response,
                    format!(
                        "Set-Cookie {} for {host}: {why} (reported once per host and cookie)",
                        p.info.name
                    ),
                ));
            }
            p.info.rejected = Some(why.clone());
            jar.reject(&p, host, c.t.id, why);
        } else {
            if jar.store(&mut p, host, c.t.id, c.t.server, st.per_jar) {
                st.dropped_cookies += 1;
                out.push(Found::limit(
                    &codes::COOKIE_STATE_LIMIT,
                    "cookies in one client's jar",
                ));
            }
            if p.info.stored
                && session_like(&p.info.name)
                && !p.info.http_only
                && first(
                    &mut st.once,
                    &[
                        codes::COOKIE_SESSION_WITHOUT_HTTPONLY.name.as_bytes(),
                        host.as_bytes(),
                        sc.name,
                    ],
                    out,
                )
            {
                out.push(Found::new(
                    &codes::COOKIE_SESSION_WITHOUT_HTTPONLY,
                    Side::Response,
                    format!(
                        "Set-Cookie {} for {host} looks like a session cookie but has no \
                         HttpOnly: any script on the page (an XSS) can read it (RFC \
                         6265bis §8.5); add HttpOnly (reported once per host and cookie)",
                        p.info.name
                    ),
                ));
            }
        }
        if info.set.len() < MAX_LISTED {
            info.set.push(p.info);
        }
    }
}
