//! Authentication (RFC 9110 §11; Basic RFC 7617, Digest RFC 7616, Bearer RFC 6750, Negotiate
//! RFC 4559): challenges parsed with their parameters, the retry that answered each and its
//! outcome. Credentials are named by scheme only (the header records are already masked);
//! cleartext credentials are the HTTP analyzer's `http.cleartext-credentials`, not repeated.

use std::net::IpAddr;

use super::util::{Bounded, key_of, list, text, trim, unquote};
use super::{Exchange, Found, Side};
use crate::model::codes;
use crate::model::semantics::{AuthInfo, AuthParam, Challenge, CredentialsSent};
use crate::model::syntax::is_tchar;

/// Challenges kept per response, parameters per challenge, pending challenges per key.
const MAX_CHALLENGES: usize = 16;
const MAX_PARAMS: usize = 16;
const MAX_PENDING: usize = 8;

fn token_len(v: &[u8]) -> usize {
    v.iter().take_while(|&&c| is_tchar(c)).count()
}

/// `name BWS = BWS value` → (name, value); None when the element is not an auth-param.
fn auth_param(e: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = token_len(e);
    if n == 0 {
        return None;
    }
    let rest = e[n..].trim_ascii_start();
    let v = rest.strip_prefix(b"=")?;
    // token68 padding (`abc==`) is not a parameter.
    if v.iter().all(|&c| c == b'=') {
        return None;
    }
    Some((&e[..n], trim(v)))
}

fn mask(v: &str) -> String {
    if crate::base::secrets::revealed() {
        return v.to_string();
    }
    let keep: String = v.chars().take(4).collect();
    let hidden = v.len().saturating_sub(keep.len());
    format!("{keep}…({hidden} more bytes masked)")
}

/// Parses one WWW-Authenticate / Proxy-Authenticate value (RFC 9110 §11.6.1): several
/// challenges may share a line, separated by commas like their parameters.
pub fn parse_challenges(v: &[u8], header: &'static str, out: &mut Vec<Challenge>) {
    for e in list(v) {
        let starts_param = auth_param(e).is_some();
        if starts_param {
            if let Some(c) = out.last_mut() {
                add_param(c, e);
            }
            continue;
        }
        let n = token_len(e);
        if n == 0 {
            continue;
        }
        if out.len() >= MAX_CHALLENGES {
            return;
        }
        let mut c = Challenge {
            header,
            scheme: text(&e[..n]),
            realm: None,
            params: Vec::new(),
            token68: None,
        };
        let rest = trim(&e[n..]);
        if !rest.is_empty() {
            if auth_param(rest).is_some() {
                add_param(&mut c, rest);
            } else {
                c.token68 = Some(mask(&text(rest)));
            }
        }
        out.push(c);
    }
}

fn add_param(c: &mut Challenge, e: &[u8]) {
    let Some((n, v)) = auth_param(e) else {
        return;
    };
    let name = text(n).to_ascii_lowercase();
    let mut value = unquote(v);
    if value.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|i| value.is_char_boundary(*i))
            .unwrap_or(0);
        value.truncate(cut);
        value.push('…');
    }
    if name == "realm" && c.realm.is_none() {
        c.realm = Some(value);
    } else if c.params.len() < MAX_PARAMS {
        c.params.push(AuthParam { name, value });
    }
}

/// The scheme of an Authorization value (`Basic dXNl…` → `Basic`).
pub fn credential_scheme(v: &[u8]) -> String {
    let v = trim(v);
    text(&v[..token_len(v)])
}

struct Pending {
    txn: u64,
    target: String,
    schemes: Vec<String>,
}

pub struct State {
    pending: Bounded<(IpAddr, u64), Vec<Pending>>,
}

impl State {
    pub fn new(cap: usize) -> Self {
        State {
            pending: Bounded::new(cap),
        }
    }
    pub fn evicted(&self) -> u64 {
        self.pending.evicted
    }
}

fn param<'a>(c: &'a Challenge, name: &str) -> Option<&'a str> {
    c.params
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.value.as_str())
}

impl State {
    /// The pending challenge that credentials for this protection space answer (RFC 9110
    /// §11.6.2): the newest for the same target, else the newest; taken off the list.
    fn answered(&mut self, key: (IpAddr, u64), target: &str) -> Option<Pending> {
        let mut answered: Option<Pending> = None;
        if let Some(list) = self.pending.get_mut(&key) {
            let i = list
                .iter()
                .rposition(|p| p.target == target)
                .or_else(|| list.len().checked_sub(1));
            if let Some(i) = i {
                answered = Some(list.remove(i));
            }
        }
        answered
    }
}

/// The protection space (RFC 9110 §11.5) of the exchange, per client: the proxy for proxy
/// authentication, else the origin of the URL.
fn space(c: &Exchange<'_>, proxy: bool) -> (IpAddr, u64) {
    let space_key = if proxy {
        key_of(&[c.t.server.to_string().as_bytes()])
    } else {
        match (c.url_str(), c.url_parts()) {
            (Some(u), Some(p)) => key_of(&[p.origin(u).as_bytes()]),
            _ => key_of(&[c.t.server.to_string().as_bytes()]),
        }
    };
    (c.client, space_key)
}

/// The challenges of the response (RFC 9110 §11.6.1), WWW-Authenticate and Proxy-Authenticate.
fn challenges(c: &Exchange<'_>, info: &mut AuthInfo) {
    for v in c.response_lines(c.r.www_authenticate, "www-authenticate") {
        parse_challenges(v, "WWW-Authenticate", &mut info.challenges);
    }
    for v in c.response_lines(c.r.proxy_authenticate, "proxy-authenticate") {
        parse_challenges(v, "Proxy-Authenticate", &mut info.challenges);
    }
}

/// A 401 or 407 without a challenge of its kind (RFC 9110 §15.5.2, §15.5.8), and what each
/// challenge says: a Basic one needs a realm (RFC 7617 §2), a Bearer one may carry an error
/// (RFC 6750 §3.1).
fn check_challenges(
    status: Option<u16>,
    want_header: &str,
    info: &mut AuthInfo,
    out: &mut Vec<Found>,
) {
    let challenged = matches!(status, Some(401) | Some(407));
    if challenged && !info.challenges.iter().any(|ch| ch.header == want_header) {
        out.push(Found::new(
            &codes::AUTH_MISSING_CHALLENGE,
            Side::Response,
            format!(
                "{} without {want_header}: the client cannot know how to authenticate (RFC 9110 \
                 §15.5.{}: the server must send at least one challenge)",
                status.unwrap_or(0),
                if status == Some(407) { 8 } else { 2 }
            ),
        ));
    }
    for ch in &info.challenges {
        if ch.scheme.eq_ignore_ascii_case("basic") && ch.realm.is_none() {
            out.push(Found::new(
                &codes::AUTH_BASIC_WITHOUT_REALM,
                Side::Response,
                "a Basic challenge without realm (RFC 7617 §2 requires it): clients cannot tell \
                 which password to use"
                    .into(),
            ));
        }
        if ch.scheme.eq_ignore_ascii_case("bearer")
            && let Some(e) = param(ch, "error")
        {
            info.notes.push(
                format!(
                    "Bearer error={e}{} (RFC 6750 §3.1)",
                    param(ch, "error_description")
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                )
                .into(),
            );
        }
    }
}

/// Credentials sent (RFC 9110 §11.6.2): the challenge they answer and whether it offered their
/// scheme; then whether the server took them.
fn credentials(
    c: &Exchange<'_>,
    (header, v): (&'static str, &[u8]),
    answered: Option<Pending>,
    info: &mut AuthInfo,
    out: &mut Vec<Found>,
) {
    let status = c.status();
    let stale = info
        .challenges
        .iter()
        .any(|ch| param(ch, "stale").is_some_and(|v| v.eq_ignore_ascii_case("true")));
    let scheme = credential_scheme(v);
    info.credentials = Some(CredentialsSent {
        header,
        scheme: scheme.clone(),
    });
    match &answered {
        Some(p) => {
            info.answers = Some(p.txn);
            if !p.schemes.is_empty() && !p.schemes.iter().any(|s| s.eq_ignore_ascii_case(&scheme)) {
                out.push(Found::new(
                    &codes::AUTH_SCHEME_NOT_OFFERED,
                    Side::Request,
                    format!(
                        "{header}: {scheme} answers the challenge of #{} which offered {} \
                         (RFC 9110 §11.6.2): the server will not accept it",
                        p.txn,
                        p.schemes.join(", ")
                    ),
                ));
            }
        }
        None => info.notes.push(
            "sent without a challenge in the capture: preemptive, or the challenge came \
             before the capture"
                .into(),
        ),
    }
    let rejected_status = if header == "Proxy-Authorization" {
        407
    } else {
        401
    };
    info.outcome = match status {
        None => "no-response".into(),
        Some(s) if s == rejected_status => {
            if stale {
                info.notes.push(
                    "stale=true: the nonce expired, the client retries with the new one (RFC \
                     7616 §3.3)"
                        .into(),
                );
            } else {
                out.push(Found::new(
                    &codes::AUTH_RETRY_REJECTED,
                    Side::Response,
                    format!(
                        "{header}: {scheme} credentials{} were rejected with {s} (RFC 9110 \
                         §11.6): a wrong password or token, or a scheme the server does \
                         not take",
                        answered
                            .as_ref()
                            .map(|p| format!(" answering the challenge of #{}", p.txn))
                            .unwrap_or_default()
                    ),
                ));
            }
            "rejected".into()
        }
        Some(403) => "forbidden".into(),
        Some(s) if s < 400 => "accepted".into(),
        Some(s) => format!("status-{s}").into(),
    };
}

/// A challenge remembered for the retry that answers it, with the schemes it offered (RFC 9110
/// §11.6.1).
fn remember(
    c: &Exchange<'_>,
    st: &mut State,
    key: (IpAddr, u64),
    want_header: &str,
    target: String,
    info: &AuthInfo,
    out: &mut Vec<Found>,
) {
    let schemes: Vec<String> = info
        .challenges
        .iter()
        .filter(|ch| ch.header == want_header)
        .map(|ch| ch.scheme.clone())
        .collect();
    let (list, evicted) = st.pending.get_or_insert_with(key, Vec::new);
    if list.len() >= MAX_PENDING {
        list.remove(0);
    }
    list.push(Pending {
        txn: c.t.id,
        target,
        schemes,
    });
    if evicted {
        out.push(Found::limit(
            &codes::AUTH_STATE_LIMIT,
            "unanswered challenges",
        ));
    }
}

/// The authentication part of a transaction. It answers: which challenges did the response
/// make, and are they well formed; which challenge do the credentials sent answer, and did the
/// server take them; which challenge waits for a retry.
pub fn analyse(c: &Exchange<'_>, st: &mut State, out: &mut Vec<Found>) -> Option<AuthInfo> {
    let q = &c.q;
    let r = &c.r;
    let status = c.status();
    let challenged = matches!(status, Some(401) | Some(407));
    let creds = q
        .authorization
        .map(|v| ("Authorization", v))
        .or(q.proxy_authorization.map(|v| ("Proxy-Authorization", v)));
    if !challenged
        && creds.is_none()
        && !r.www_authenticate.present()
        && !r.proxy_authenticate.present()
    {
        return None;
    }
    let mut info = AuthInfo {
        outcome: "challenged".into(),
        ..AuthInfo::default()
    };
    challenges(c, &mut info);
    let proxy = status == Some(407) || creds.is_some_and(|(h, _)| h == "Proxy-Authorization");
    let key = space(c, proxy);
    let target = c.req.map(|x| x.target.clone()).unwrap_or_default();
    let want_header = if status == Some(407) {
        "Proxy-Authenticate"
    } else {
        "WWW-Authenticate"
    };
    check_challenges(status, want_header, &mut info, out);
    if let Some(creds) = creds {
        let answered = st.answered(key, &target);
        credentials(c, creds, answered, &mut info, out);
    }
    if challenged && !info.challenges.is_empty() {
        remember(c, st, key, want_header, target, &info, out);
    }
    Some(info)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::type_complexity)]
    use super::*;

    fn parse(v: &str) -> Vec<Challenge> {
        let mut out = Vec::new();
        parse_challenges(v.as_bytes(), "WWW-Authenticate", &mut out);
        out
    }

    #[test]
    fn rfc9110_11_6_1_challenges_with_parameters() {
        let c = parse(r#"Basic realm="x""#);
        assert_eq!(
            (c[0].scheme.as_str(), c[0].realm.as_deref()),
            ("Basic", Some("x"))
        );
        // RFC 7616 §3.9.1 example, and a second challenge on the same line.
        let c = parse(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Basic realm="b""#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "Digest");
        assert_eq!(c[0].realm.as_deref(), Some("http-auth@example.org"));
        assert_eq!(param(&c[0], "qop"), Some("auth, auth-int"));
        assert_eq!(param(&c[0], "algorithm"), Some("SHA-256"));
        assert_eq!(
            (c[1].scheme.as_str(), c[1].realm.as_deref()),
            ("Basic", Some("b"))
        );
        // RFC 6750 §3 example.
        let c = parse(
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        );
        assert_eq!(param(&c[0], "error"), Some("invalid_token"));
        // Negotiate with a token68 (masked), and bare schemes.
        let c = parse("Negotiate YIIB7gYGKwYBBQUCoIIB4jCCAd6gMDAu==, NTLM");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].token68.as_deref(), Some("YIIB…(30 more bytes masked)"));
        assert_eq!(c[1].scheme, "NTLM");
        let c = parse("Negotiate abc==");
        assert!(c[0].token68.is_some() && c[0].params.is_empty());
        // Spaces around '=' (BWS).
        let c = parse(r#"Basic realm = "spaced", charset="UTF-8""#);
        assert_eq!(c[0].realm.as_deref(), Some("spaced"));
        assert_eq!(param(&c[0], "charset"), Some("UTF-8"));
    }

    #[test]
    fn credential_schemes_from_masked_values() {
        assert_eq!(
            credential_scheme(b"Basic dXNl\xe2\x80\xa6(8 more bytes masked)"),
            "Basic"
        );
        assert_eq!(credential_scheme(b"Bearer abcd"), "Bearer");
        assert_eq!(credential_scheme(b"Digest user\xe2\x80\xa6"), "Digest");
    }
}
