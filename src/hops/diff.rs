//! What a proxy changed between the legs, and what that breaks.

use super::fix;
use std::collections::BTreeSet;

use super::{BodyFacts, Snap};
use crate::model::codes::{self, Code};
use crate::model::hops::{Change, HeaderChange, MessageDiff, ProxyHopRecord};
use crate::model::http::{BodyFraming, Headers};
use crate::model::syntax::is_standard_hop_by_hop;

/// Headers proxies add about themselves and the client.
const PROXY_HEADERS: &[&str] = &[
    "via",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-server",
    "forwarded",
    "x-real-ip",
    "x-request-id",
    "x-amzn-trace-id",
    "cdn-loop",
    "x-envoy-expected-rq-timeout-ms",
    "x-envoy-upstream-service-time",
    "x-envoy-external-address",
    "x-varnish",
    "age",
    "proxy-agent",
];

fn is_proxy_header(n: &str) -> bool {
    PROXY_HEADERS.contains(&n) || n.starts_with("x-envoy-") || n.starts_with("x-b3-")
}

/// Header names (lowercase) with their joined values, in first-seen order. Pseudo-headers
/// are not fields (HTTP/2's `:method`, `:path`, `:scheme` are the request line, `:authority`
/// is `Host`, `:status` the status line: they are compared as such). HTTP/2 may split `Cookie`
/// into one field per pair (RFC 9113 §8.2.3): its pairs are joined with `; ` as HTTP/1.1 sends
/// them, so the split and the joined forms compare equal.
fn fields(h: &Headers) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for f in h.iter().filter(|f| !f.pseudo) {
        let n = String::from_utf8_lossy(f.name).to_ascii_lowercase();
        let val = f.value_str().into_owned();
        match v.iter_mut().find(|(k, _)| *k == n) {
            Some((k, acc)) => {
                acc.push_str(if k == "cookie" { "; " } else { ", " });
                acc.push_str(&val);
            }
            None => v.push((n, val)),
        }
    }
    for (n, val) in &mut v {
        if n == "cookie" {
            *val = val
                .split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
        }
    }
    v
}

/// The fields HTTP/2 has no place for (RFC 9113 §8.2.2): the connection-specific ones, and `TE`
/// other than `trailers`.
fn connection_specific(name: &str, value: &str) -> bool {
    matches!(
        name,
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade"
    ) || (name == "te" && !value.trim().eq_ignore_ascii_case("trailers"))
}

/// The names listed in `Connection`.
fn connection_names(h: &Headers) -> Vec<String> {
    h.values("connection")
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The judgement of a field the proxy sent on (changed, or added): a hop-by-hop field is this
/// hop's own (or, for an upgrade, re-created as every hop must), `Host` is rewritten, a
/// proxy's own field is added; anything else is `otherwise`. (Proxy fields, `Host` and the
/// hop-by-hop fields are disjoint sets, so the order of the questions does not matter.)
fn sent(name: &str, hop_by_hop: bool, upgrade: bool, otherwise: &'static str) -> &'static str {
    if hop_by_hop {
        if upgrade && (name == "connection" || name == "upgrade") {
            "hop-by-hop-recreated"
        } else {
            "hop-local"
        }
    } else if name == "host" {
        "host-rewritten"
    } else if is_proxy_header(name) {
        "proxy-added"
    } else {
        otherwise
    }
}

/// The two sides of one message: `from` the sender's (the client leg of a request, the
/// upstream leg of a response), `to` what the proxy sent on.
struct Sides<'a> {
    /// Both legs upgraded (or both asked to).
    upgrade: bool,
    request: bool,
    from_h2: bool,
    to_h2: bool,
    /// Requests: each side's `:authority` (HTTP/2).
    from_authority: Option<&'a str>,
    to_authority: Option<&'a str>,
}

/// Headers of `from` (the sender's side) against `to` (after the proxy). Across versions the
/// proxy translates: fields HTTP/2 has no place for go, `Host` and `:authority` stand for each
/// other, a body's `Content-Length`/`Transfer-Encoding` follow its new framing (`translated`);
/// a connection-specific field in an HTTP/2 message the proxy sent is `forbidden-in-http2`.
fn headers(from: &Headers, to: &Headers, s: &Sides) -> MessageDiff {
    let a = fields(from);
    let b = fields(to);
    let named = connection_names(from);
    let hop = |n: &str| is_standard_hop_by_hop(n.as_bytes()) || named.iter().any(|c| c == n);
    let cross = s.from_h2 != s.to_h2;
    // HTTP/1.x to HTTP/2: what must go, and goes.
    // (`Proxy-Authorization` and the like are this proxy's to consume: stripped, as in 1.1.)
    let h2_drops = |n: &str, v: &str| {
        s.to_h2 && !s.from_h2 && (connection_specific(n, v) || named.iter().any(|c| c == n))
    };
    let leaked = |n: &str, v: &str| s.to_h2 && connection_specific(n, v);
    let reframed = |n: &str| cross && (n == "content-length" || n == "transfer-encoding");
    let mut d = MessageDiff::default();
    for (n, v) in &a {
        match b.iter().find(|(k, _)| k == n) {
            None => d.headers_removed.push(HeaderChange {
                name: n.clone(),
                front: Some(v.clone()),
                back: None,
                judgement: if h2_drops(n, v) || reframed(n) {
                    "translated"
                } else if hop(n) {
                    "hop-by-hop-stripped"
                } else if s.request && n == "expect" {
                    // RFC 9110 §10.1.1: a proxy may answer `100-continue` itself and then has
                    // nothing to forward (nginx does).
                    "expect-handled"
                } else if s.request && (n.starts_with("if-") || n == "range") {
                    // A cache fetches the whole, unconditional object and answers the
                    // conditional or range itself (RFC 9111 §4.3, RFC 9110 §14.2).
                    "cache-handled"
                } else if n == "host" && s.request && s.to_authority == Some(v.as_str()) {
                    // `Host` became `:authority`.
                    "translated"
                } else if n == "host" {
                    "host-rewritten"
                } else {
                    "end-to-end-dropped"
                },
            }),
            Some((_, w)) if leaked(n, w) => {
                let c = HeaderChange {
                    name: n.clone(),
                    front: Some(v.clone()),
                    back: Some(w.clone()),
                    judgement: "forbidden-in-http2",
                };
                if w == v {
                    d.hop_by_hop_forwarded.push(c);
                } else {
                    d.headers_changed.push(c);
                }
            }
            Some((_, w)) if w != v => d.headers_changed.push(HeaderChange {
                name: n.clone(),
                front: Some(v.clone()),
                back: Some(w.clone()),
                judgement: if reframed(n) {
                    "translated"
                } else {
                    sent(n, hop(n), s.upgrade, "changed")
                },
            }),
            Some(_) if hop(n) => {
                // The same hop-by-hop field on both legs: forwarded, unless it is what an
                // upgrade needs re-created on every hop, or Connection, which every hop sets
                // for itself (the same `keep-alive` on both sides is no sign of forwarding).
                let recreated = s.upgrade && (n == "upgrade" || n == "connection");
                // `TE: trailers` is the one TE HTTP/2 allows, and says what the proxy's own
                // side accepts (gRPC proxies send it on every hop).
                let h2_trailers = s.to_h2 && n == "te";
                if !recreated && !h2_trailers && n != "connection" {
                    d.hop_by_hop_forwarded.push(HeaderChange {
                        name: n.clone(),
                        front: Some(v.clone()),
                        back: Some(v.clone()),
                        judgement: "hop-by-hop-forwarded",
                    });
                }
            }
            Some(_) => {}
        }
    }
    for (n, v) in &b {
        if a.iter().any(|(k, _)| k == n) {
            continue;
        }
        d.headers_added.push(HeaderChange {
            name: n.clone(),
            front: None,
            back: Some(v.clone()),
            judgement: if leaked(n, v) {
                "forbidden-in-http2"
            } else if reframed(n) {
                "translated"
            } else if n == "host" && s.request && s.from_authority.is_some() {
                // `:authority` became `Host`: the same host, or another one.
                if s.from_authority == Some(v.as_str()) {
                    "translated"
                } else {
                    "host-rewritten"
                }
            } else {
                sent(n, is_standard_hop_by_hop(n.as_bytes()), s.upgrade, "added")
            },
        });
    }
    // HTTP/2 on both legs, no `Host` on either: the host is `:authority`.
    let no_host = |f: &[(String, String)]| f.iter().all(|(k, _)| k != "host");
    if s.request
        && no_host(&a)
        && no_host(&b)
        && let (Some(x), Some(y)) = (s.from_authority, s.to_authority)
        && x != y
    {
        d.headers_changed.push(HeaderChange {
            name: ":authority".into(),
            front: Some(x.into()),
            back: Some(y.into()),
            judgement: "host-rewritten",
        });
    }
    d
}

/// The decoded length of each leg's body when both were seen whole and they differ: after
/// transfer decoding (chunks, DATA frames: framing is the proxy's to change), and after content
/// decoding when the legs' `Content-Encoding` differ (a proxy that compresses).
fn body_change(f: (u64, &BodyFacts), b: (u64, &BodyFacts)) -> Option<Change> {
    if !(f.1.complete && b.1.complete) {
        return None;
    }
    let (x, y) = if f.1.coding == b.1.coding {
        (f.0, b.0)
    } else {
        let plain = |(l, x): (u64, &BodyFacts)| {
            if x.coding.is_empty() || x.coding == "identity" {
                Some(l)
            } else {
                x.decoded
            }
        };
        (plain(f)?, plain(b)?)
    };
    (x != y).then(|| Change {
        front: x.to_string(),
        back: y.to_string(),
    })
}

/// The request, client leg (`f`) against upstream leg (`b`).
pub fn request(f: &Snap, b: &Snap) -> MessageDiff {
    let sides = Sides {
        upgrade: f.asks_upgrade() && b.asks_upgrade(),
        request: true,
        from_h2: f.h2_request(),
        to_h2: b.h2_request(),
        from_authority: f.authority.as_deref(),
        to_authority: b.authority.as_deref(),
    };
    let mut d = headers(&f.req, &b.req, &sides);
    if f.version != b.version {
        d.version = Some(Change {
            front: f.version.to_string(),
            back: b.version.to_string(),
        });
    }
    if f.target != b.target {
        d.target = Some(Change {
            front: f.target.clone(),
            back: b.target.clone(),
        });
    }
    if f.req_framing != b.req_framing && (f.req_len > 0 || b.req_len > 0) {
        d.framing = Some(Change {
            front: f.req_framing.name().into(),
            back: b.req_framing.name().into(),
        });
    }
    d.body_length = body_change((f.req_len, &f.req_body), (b.req_len, &b.req_body));
    d
}

/// The response, upstream leg (`b`) against what the client got (`f`).
pub fn response(f: &Snap, b: &Snap) -> MessageDiff {
    let (Some(fr), Some(br)) = (&f.resp, &b.resp) else {
        // One leg without a response: the proxy answered although the upstream did not (a 502
        // or 504 of its own, or after the upstream reset the stream), or the client reset its
        // stream and got none. (A response missing for no such reason is the capture's end,
        // not a change.)
        let mut d = MessageDiff::default();
        // (A 200 with no upstream response in the capture is a capture that missed it.)
        let gateway = f.status.is_some_and(|s| s >= 500) || b.reset.is_some();
        let refused = f.status.is_none() && f.reset.is_some();
        if f.status != b.status && ((b.status.is_none() && gateway) || refused) {
            d.status = Some(Change {
                front: f.status.map_or("-".into(), |s| s.to_string()),
                back: b.status.map_or("-".into(), |s| s.to_string()),
            });
        }
        return d;
    };
    let sides = Sides {
        upgrade: f.status == Some(101) && b.status == Some(101),
        request: false,
        from_h2: b.h2_response(),
        to_h2: f.h2_response(),
        from_authority: None,
        to_authority: None,
    };
    let mut d = headers(br, fr, &sides);
    // Compared in the direction the response travels; `front`/`back` name the legs.
    for c in d
        .headers_removed
        .iter_mut()
        .chain(d.headers_added.iter_mut())
        .chain(d.headers_changed.iter_mut())
        .chain(d.hop_by_hop_forwarded.iter_mut())
    {
        std::mem::swap(&mut c.front, &mut c.back);
    }
    if let (Some(fv), Some(bv)) = (&f.resp_version, &b.resp_version)
        && fv != bv
    {
        d.version = Some(Change {
            front: fv.to_string(),
            back: bv.to_string(),
        });
    }
    if f.status != b.status {
        d.status = Some(Change {
            front: f.status.map_or("-".into(), |s| s.to_string()),
            back: b.status.map_or("-".into(), |s| s.to_string()),
        });
    }
    if let (Some(ff), Some(bf)) = (f.resp_framing, b.resp_framing)
        && ff != bf
    {
        d.framing = Some(Change {
            front: ff.name().into(),
            back: bf.name().into(),
        });
    }
    if f.status == b.status
        && let (Some(fl), Some(ff), Some(bl), Some(bf)) =
            (f.resp_len, &f.resp_body, b.resp_len, &b.resp_body)
    {
        d.body_length = body_change((fl, ff), (bl, bf));
    }
    d
}

fn leg(s: &Snap) -> String {
    match s.stream {
        Some(id) => format!("#{} {} → {} stream {id}", s.conn, s.client, s.server),
        None => format!("#{} {} → {}", s.conn, s.client, s.server),
    }
}

/// `RST_STREAM PROTOCOL_ERROR from the server`, for a message.
fn reset_text(s: &Snap) -> Option<String> {
    s.reset
        .map(|r| format!("RST_STREAM {} from the {}", r.name, r.by))
}

/// Diagnoses of a paired hop: (code, message).
pub fn diagnose(
    f: &Snap,
    b: &Snap,
    hop: &ProxyHopRecord,
    product: Option<&str>,
    relayed: bool,
) -> Vec<(&'static Code, String)> {
    let mut out = Vec::new();
    let asked = f.needs_upgrade();
    let front_ok = f.status == Some(101);
    let back_ok = b.status == Some(101);
    // A relayed request (the same bytes on both legs) forwarded whatever upgrade it asked for.
    if let Some(proto) = &asked
        && !back_ok
        && !relayed
    {
        let back_upgrade = b.asked_upgrade();
        let back_conn_upgrade = connection_names(&b.req).iter().any(|c| c == "upgrade");
        let mut missing = Vec::new();
        if back_upgrade.is_none() {
            missing.push("no Upgrade header");
        }
        if !back_conn_upgrade {
            missing.push("no \"upgrade\" in Connection");
        }
        if b.version == "HTTP/1.0" {
            missing.push("is HTTP/1.0, which has no upgrade mechanism");
        }
        if !missing.is_empty() {
            out.push((
                &codes::PROXY_UPGRADE_DROPPED,
                format!(
                    "the client asked to upgrade to {proto} on {} ({} {}), but the proxy's \
                     {} upstream request on {} has {}, so the upstream could not switch \
                     protocols and answered {}; the client got {}. The proxy must forward the \
                     upgrade: {}",
                    leg(f),
                    f.method,
                    f.target,
                    b.version,
                    leg(b),
                    missing.join(", "),
                    b.status.map_or("nothing".into(), |s| s.to_string()),
                    f.status.map_or("no response".into(), |s| s.to_string()),
                    fix::upgrade_fix(product)
                ),
            ));
        }
    }
    if back_ok && !front_ok {
        out.push((
            &codes::PROXY_UPGRADE_NOT_RELAYED,
            format!(
                "the upstream accepted the upgrade on {} (101), but the proxy answered the \
                 client on {} with {}: the proxy did not relay the switch. {}",
                leg(b),
                leg(f),
                f.status.map_or("nothing".into(), |s| s.to_string()),
                fix::upgrade_fix(product)
            ),
        ));
    }
    for c in &hop.request.hop_by_hop_forwarded {
        if c.judgement == "forbidden-in-http2" {
            // Diagnosed below, with the other fields HTTP/2 forbids.
            continue;
        }
        let name = c.name.as_str();
        let (code, why) = match name {
            "proxy-authorization" => (
                &codes::PROXY_PROXY_AUTHORIZATION_FORWARDED,
                "Proxy-Authorization is the credential for this proxy and must not go further \
                 (RFC 9110 §11.7.2): the upstream now has the client's proxy password"
                    .to_string(),
            ),
            "te" if !connection_names(&b.req).iter().any(|n| n == "te") => (
                &codes::PROXY_TE_FORWARDED,
                "TE was forwarded without \"TE\" in Connection (RFC 9110 §10.1.4: a sender of \
                 TE must also send Connection: TE); the upstream may send trailers or codings \
                 the client did not ask of it"
                    .into(),
            ),
            "te" => continue,
            "keep-alive" | "proxy-connection" => (
                &codes::PROXY_HOP_BY_HOP_FORWARDED,
                format!(
                    "{} is hop-by-hop (RFC 9110 §7.6.1) but was forwarded upstream; it \
                     describes the client's connection to the proxy, not the proxy's to the \
                     upstream",
                    c.name
                ),
            ),
            other => (
                &codes::PROXY_HOP_BY_HOP_FORWARDED,
                format!(
                    "{other} is hop-by-hop (standard, or named in the client's Connection) but \
                     was forwarded upstream (RFC 9110 §7.6.1: a proxy must remove it)"
                ),
            ),
        };
        out.push((
            code,
            format!(
                "{why}; client leg {}, upstream leg {}. {}",
                leg(f),
                leg(b),
                fix::strip_fix(product, name)
            ),
        ));
    }
    let dropped: Vec<&str> = hop
        .request
        .headers_removed
        .iter()
        .filter(|c| c.judgement == "end-to-end-dropped")
        .map(|c| c.name.as_str())
        .collect();
    if !dropped.is_empty() {
        out.push((
            &codes::PROXY_END_TO_END_DROPPED,
            format!(
                "end-to-end header(s) {} reached the proxy on {} but not the upstream on {} \
                 (a proxy should forward end-to-end fields, RFC 9110 §7.6.1): a configuration \
                 that drops or overrides them (nginx drops fields with underscores unless \
                 underscores_in_headers on)",
                dropped.join(", "),
                leg(f),
                leg(b)
            ),
        ));
    }
    for (request, d) in [(true, &hop.request), (false, &hop.response)] {
        let names: Vec<&str> = d
            .headers_added
            .iter()
            .chain(&d.headers_changed)
            .chain(&d.hop_by_hop_forwarded)
            .filter(|c| c.judgement == "forbidden-in-http2")
            .map(|c| c.name.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !names.is_empty() {
            out.push(connection_fields(f, b, request, &names, product));
        }
    }
    for (request, d) in [(true, &hop.request), (false, &hop.response)] {
        if let Some(c) = &d.body_length {
            out.push(body_length(f, b, request, c, product));
        }
    }
    if let Some(s) = &hop.response.status
        && !(back_ok || front_ok)
    {
        let upstream = match (b.status, reset_text(b)) {
            (Some(_), _) => format!("the upstream answered {} on {}", s.back, leg(b)),
            (None, Some(r)) => format!(
                "the upstream reset the stream on {} ({r}) without a response",
                leg(b)
            ),
            (None, None) => format!("the upstream sent no response on {}", leg(b)),
        };
        let client = match (f.status, reset_text(f)) {
            (None, Some(r)) => format!("the client got no response on {} ({r})", leg(f)),
            _ => format!("the proxy passed {} to the client on {}", s.front, leg(f)),
        };
        out.push((
            &codes::PROXY_STATUS_CHANGED,
            format!(
                "{upstream} and {client}. {}",
                fix::status_fix(product, b.status, f.status)
            ),
        ));
    }
    out
}

/// Connection-specific fields the proxy sent in HTTP/2: on the upstream leg's request, or in
/// the response on the client leg.
fn connection_fields(
    f: &Snap,
    b: &Snap,
    request: bool,
    names: &[&str],
    product: Option<&str>,
) -> (&'static Code, String) {
    // The side that got the malformed message, and who there must refuse it.
    let (h2, other, peer, what) = if request {
        (b, f, "upstream", "its HTTP/2 request on the upstream leg")
    } else {
        (f, b, "client", "its HTTP/2 response on the client leg")
    };
    // The reset a malformed message calls for (curl's CANCEL of a finished stream is none).
    let protocol_error = h2
        .reset
        .filter(|r| r.code == 1)
        .and_then(|_| reset_text(h2));
    let refused = match protocol_error {
        Some(r) => format!("; the {peer} refused it and reset the stream ({r})"),
        None => format!(
            "; the {peer} must treat it as a stream error (PROTOCOL_ERROR) and did not reset \
             the stream in the capture (a lenient implementation)"
        ),
    };
    (
        &codes::PROXY_CONNECTION_FIELD_IN_HTTP2,
        format!(
            "the proxy sent connection-specific field(s) {} in {what} {} (the other leg {}): \
             an HTTP/2 message with them is malformed (RFC 9113 §8.2.2: Connection, the fields \
             it names, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, TE other than \
             \"trailers\"){refused}; the client got {}. {}",
            names.join(", "),
            leg(h2),
            leg(other),
            f.status.map_or("no response".into(), |s| s.to_string()),
            fix::h2_strip_fix(product, names, request)
        ),
    )
}

/// A body whose decoded length differs between the legs.
fn body_length(
    f: &Snap,
    b: &Snap,
    request: bool,
    c: &Change,
    product: Option<&str>,
) -> (&'static Code, String) {
    let framing = |s: &Snap| {
        let fr = if request {
            s.req_framing
        } else {
            s.resp_framing.unwrap_or(BodyFraming::None)
        };
        let v = if request {
            s.version.as_ref()
        } else {
            s.resp_version.as_deref().unwrap_or("-")
        };
        format!("{v}, {}", fr.name())
    };
    // In the direction the body travelled.
    let ((from, n), (to, m)) = if request {
        ((f, &c.front), (b, &c.back))
    } else {
        ((b, &c.back), (f, &c.front))
    };
    let shorter = n.parse::<u64>().ok() > m.parse::<u64>().ok();
    (
        &codes::PROXY_BODY_LENGTH_CHANGED,
        format!(
            "the {} body was {n} bytes on {} ({}) and {m} bytes on {} ({}), both complete and \
             compared after transfer decoding (chunks and DATA frames are framing, the proxy's \
             to change): the proxy {} the {}. {}",
            if request { "request" } else { "response" },
            leg(from),
            framing(from),
            leg(to),
            framing(to),
            if shorter { "cut short" } else { "added to" },
            if request {
                "request body"
            } else {
                "response body"
            },
            fix::body_fix(product, request, shorter)
        ),
    )
}

/// Diagnoses of a transaction to a proxy with no upstream leg in the capture.
pub fn alone(f: &Snap, product: Option<&str>) -> Vec<(&'static Code, String)> {
    let mut out = vec![(
        &codes::PROXY_ANSWERED_ITSELF,
        format!(
            "the proxy at {} answered {} {} with {} and made no upstream request in the \
             capture (a cache hit, an error page, a redirect or an access rule)",
            f.server,
            f.method,
            f.target,
            f.status.map_or("nothing".into(), |s| s.to_string())
        ),
    )];
    if f.needs_any_upgrade() && f.status != Some(101) {
        out.push(single_leg(f, product));
    }
    out
}

/// A refused upgrade answered by something that says it is a proxy, with no upstream leg.
pub fn single_leg(f: &Snap, product: Option<&str>) -> (&'static Code, String) {
    (
        &codes::PROXY_SINGLE_LEG_HINT,
        format!(
            "the upgrade on {} was answered {} by {}; the capture holds no upstream leg, so \
             the likely cause — a proxy that does not forward Upgrade/Connection or speaks \
             HTTP/1.0 upstream — cannot be confirmed. Capture both sides of the proxy (on the \
             proxy host: tcpdump -i any -w both.pcap 'tcp port {} or tcp port <upstream \
             port>') to see what the upstream got. Likely fix: {} (reported once per proxy \
             address)",
            leg(f),
            f.status.map_or("nothing".into(), |s| s.to_string()),
            product.unwrap_or("a proxy"),
            f.server.port,
            fix::upgrade_fix(product)
        ),
    )
}
