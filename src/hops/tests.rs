//! Table tests of the correlator: pairing rules, each diagnosis, the bounds.
//!
//! The legs are built by hand here (what the HTTP analyzer would hand over); the real-capture
//! checks against the programs' logs are in `tests/it/hops.rs`.

use std::collections::BTreeSet;

use super::*;
use crate::model::Severity;
use crate::model::hops::HeaderChange;
use crate::model::http::Headers;

const CLIENT: &str = "10.0.0.1:40000";
const PROXY: &str = "10.0.0.2:80";
const PROXY_OUT: &str = "10.0.0.2:50000";
const ORIGIN: &str = "10.0.0.3:8080";

fn ep(s: &str) -> Endpoint {
    let a: std::net::SocketAddr = s.parse().expect("test address");
    Endpoint {
        ip: a.ip(),
        port: a.port(),
    }
}

fn headers(h: &[(&str, &str)]) -> Headers {
    let mut out = Headers::default();
    for (n, v) in h {
        out.push(n.as_bytes(), v.as_bytes(), None, false);
    }
    out
}

fn complete() -> BodyFacts {
    BodyFacts {
        complete: true,
        ..BodyFacts::default()
    }
}

/// A leg: `line` is `METHOD target VERSION`; times in milliseconds.
struct Side<'a> {
    conn: u64,
    id: u64,
    client: &'a str,
    server: &'a str,
    line: &'a str,
    req: &'a [(&'a str, &'a str)],
    status: Option<u16>,
    resp: &'a [(&'a str, &'a str)],
    start_ms: i64,
    end_ms: i64,
    resp_len: u64,
}

impl Side<'_> {
    fn snap(&self) -> Snap {
        let mut p = self.line.split(' ');
        let method = p.next().unwrap_or_default().to_string();
        let target = p.next().unwrap_or_default().to_string();
        let version = p.next().unwrap_or("HTTP/1.1").to_string().into();
        Snap {
            id: self.id,
            conn: self.conn,
            client: ep(self.client),
            server: ep(self.server),
            path_at: origin_at(&target),
            method: method.into(),
            target,
            version,
            req: headers(self.req),
            req_framing: BodyFraming::None,
            req_len: 0,
            status: self.status,
            resp_version: self.status.map(|_| "HTTP/1.1".into()),
            resp: self.status.map(|_| headers(self.resp)),
            resp_framing: self.status.map(|_| BodyFraming::ContentLength),
            resp_len: self.status.map(|_| self.resp_len),
            start: Timestamp(self.start_ms * 1_000_000),
            end: Some(Timestamp(self.end_ms * 1_000_000)),
            switched: (self.status == Some(101)).then(|| "websocket".to_string()),
            hop: None,
            stream: None,
            authority: None,
            req_body: complete(),
            resp_body: self.status.map(|_| complete()),
            reset: None,
            queued: false,
            file: None,
        }
    }
}

/// A client leg to the proxy (conn 0) and its upstream leg (conn 1), in the order a proxy
/// finishes them: the upstream first.
fn front<'a>(
    line: &'a str,
    req: &'a [(&'a str, &'a str)],
    status: u16,
    resp: &'a [(&'a str, &'a str)],
) -> Side<'a> {
    Side {
        conn: 0,
        id: 0,
        client: CLIENT,
        server: PROXY,
        line,
        req,
        status: Some(status),
        resp,
        start_ms: 1000,
        end_ms: 1100,
        resp_len: 10,
    }
}

fn back<'a>(
    line: &'a str,
    req: &'a [(&'a str, &'a str)],
    status: u16,
    resp: &'a [(&'a str, &'a str)],
) -> Side<'a> {
    Side {
        conn: 1,
        id: 1,
        client: PROXY_OUT,
        server: ORIGIN,
        line,
        req,
        status: Some(status),
        resp,
        start_ms: 1001,
        end_ms: 1050,
        resp_len: 10,
    }
}

#[derive(Default)]
struct Out {
    hops: Vec<ProxyHopRecord>,
    findings: Vec<Finding>,
}

impl Out {
    fn codes(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.code.name).collect()
    }
}

impl RecordSink for Out {
    fn record(&mut self, r: Record) {
        match r {
            Record::ProxyHop(h) => self.hops.push(*h),
            Record::Finding(f) => self.findings.push(*f),
            _ => {}
        }
    }
}

/// Runs the legs (in the order given) through a correlator and finishes it.
fn run(legs: &[Side]) -> Out {
    let mut c = Correlator::default();
    let mut out = Out::default();
    for l in legs {
        c.on_snap(l.snap(), &mut out);
    }
    c.finish(&mut out);
    out
}

fn change<'a>(d: &'a MessageDiff, name: &str) -> Vec<(&'static str, &'a HeaderChange)> {
    let mut v = Vec::new();
    for (kind, list) in [
        ("removed", &d.headers_removed),
        ("added", &d.headers_added),
        ("changed", &d.headers_changed),
        ("forwarded", &d.hop_by_hop_forwarded),
    ] {
        v.extend(list.iter().filter(|c| c.name == name).map(|c| (kind, c)));
    }
    v
}

const WS_REQ: &[(&str, &str)] = &[
    ("Host", "app.example"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
    ("User-Agent", "test/1"),
];

#[test]
fn nginx_default_upgrade_is_dropped_and_the_fix_is_nginx_config() {
    // nginx's proxy defaults: HTTP/1.0 upstream, Connection: close, Upgrade not forwarded.
    let b_req = [
        ("Host", "backend"),
        ("Connection", "close"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
        ("User-Agent", "test/1"),
    ];
    let o = run(&[
        back("GET /ws HTTP/1.0", &b_req, 426, &[("Server", "origin")]),
        front(
            "GET /ws HTTP/1.1",
            WS_REQ,
            426,
            &[("Server", "nginx/1.22.1")],
        ),
    ]);
    assert_eq!(o.hops.len(), 1);
    let h = &o.hops[0];
    assert_eq!(h.back.map(|b| b.connection), Some(1));
    assert_eq!(h.confidence, "high");
    assert_eq!(h.diagnosis, ["proxy.upgrade-dropped"]);
    assert_eq!(h.proxy.product.as_deref(), Some("nginx"));
    assert_eq!(o.codes(), ["proxy.upgrade-dropped"]);
    let m = &o.findings[0].message;
    assert!(m.contains("no Upgrade header"), "{m}");
    assert!(m.contains("HTTP/1.0"), "{m}");
    assert!(m.contains("proxy_http_version 1.1"), "{m}");
    assert!(m.contains("proxy_set_header Upgrade $http_upgrade"), "{m}");
    // Upgrade removed as hop-by-hop (correct on its own), version changed.
    let up = change(&h.request, "upgrade");
    assert_eq!(up.len(), 1);
    assert_eq!(
        (up[0].0, up[0].1.judgement),
        ("removed", "hop-by-hop-stripped")
    );
    assert!(
        h.request
            .version
            .as_ref()
            .is_some_and(|v| v.back == "HTTP/1.0")
    );
}

#[test]
fn upgrade_forwarded_properly_is_not_a_problem() {
    let mut b_req: Vec<(&str, &str)> = WS_REQ.to_vec();
    b_req[0] = ("Host", "backend");
    b_req.push(("X-Forwarded-For", "10.0.0.1"));
    let resp = [("Upgrade", "websocket"), ("Connection", "Upgrade")];
    let o = run(&[
        back("GET /ws HTTP/1.1", &b_req, 101, &resp),
        front("GET /ws HTTP/1.1", WS_REQ, 101, &resp),
    ]);
    assert_eq!(o.hops.len(), 1);
    let h = &o.hops[0];
    assert!(h.diagnosis.is_empty(), "{:?}", h.diagnosis);
    assert!(o.findings.is_empty(), "{:?}", o.codes());
    assert!(h.evidence.iter().any(|e| e.contains("Sec-WebSocket-Key")));
    assert!(
        h.evidence
            .iter()
            .any(|e| e.contains("X-Forwarded-For") || e.contains("x-forwarded-for"))
    );
    let xff = change(&h.request, "x-forwarded-for");
    assert_eq!(xff[0].1.judgement, "proxy-added");
    // Upgrade and Connection the same on both legs: recreated, not "forwarded".
    for n in ["upgrade", "connection"] {
        assert!(
            change(&h.request, n)
                .iter()
                .all(|(_, c)| c.judgement != "hop-by-hop-forwarded")
        );
    }
    // The relay record exists and, without WebSocket conversations, is not one-to-one.
    let r = h.relay.as_ref().expect("relay for an upgraded pair");
    assert!(!r.one_to_one);
}

#[test]
fn upstream_switched_but_client_did_not() {
    let resp = [("Upgrade", "websocket"), ("Connection", "Upgrade")];
    let o = run(&[
        back("GET /ws HTTP/1.1", WS_REQ, 101, &resp),
        front("GET /ws HTTP/1.1", WS_REQ, 502, &[("Server", "haproxy")]),
    ]);
    assert_eq!(o.codes(), ["proxy.upgrade-not-relayed"]);
    assert!(o.findings[0].message.contains("502"));
}

#[test]
fn proxy_authorization_forwarded_is_an_error() {
    let req = [
        ("Host", "origin"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("User-Agent", "curl/8"),
    ];
    let b_req = [
        ("Host", "origin"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("User-Agent", "curl/8"),
        ("X-Forwarded-For", "10.0.0.1"),
    ];
    let o = run(&[
        back("GET /x HTTP/1.1", &b_req, 200, &[]),
        front(
            "GET http://origin/x HTTP/1.1",
            &req,
            200,
            &[("Via", "1.1 haproxy")],
        ),
    ]);
    assert_eq!(o.codes(), ["proxy.proxy-authorization-forwarded"]);
    assert_eq!(o.findings[0].severity(), Severity::Error);
    assert!(
        o.findings[0]
            .message
            .contains("http-request del-header Proxy-Authorization")
    );
}

#[test]
fn keep_alive_and_connection_named_headers_forwarded() {
    let f_req = [
        ("Host", "origin"),
        ("Connection", "keep-alive, X-Hop"),
        ("Keep-Alive", "timeout=5"),
        ("X-Hop", "secret"),
        ("User-Agent", "curl/8"),
    ];
    let b_req = [
        ("Host", "origin"),
        ("Connection", "close"),
        ("Keep-Alive", "timeout=5"),
        ("X-Hop", "secret"),
        ("User-Agent", "curl/8"),
        ("X-Forwarded-For", "10.0.0.1"),
    ];
    let o = run(&[
        back("GET /x HTTP/1.1", &b_req, 200, &[]),
        front("GET /x HTTP/1.1", &f_req, 200, &[]),
    ]);
    let codes: BTreeSet<&str> = o.codes().into_iter().collect();
    assert_eq!(codes, BTreeSet::from(["proxy.hop-by-hop-forwarded"]));
    assert_eq!(o.findings.len(), 2, "Keep-Alive and X-Hop: {:?}", o.codes());
    let text: String = o.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(
        text.contains("keep-alive") && text.contains("x-hop"),
        "{text}"
    );
}

#[test]
fn te_forwarded_without_connection_te() {
    let f_req = [
        ("Host", "o"),
        ("TE", "trailers"),
        ("Connection", "TE"),
        ("User-Agent", "u"),
    ];
    let b_req = [
        ("Host", "o"),
        ("TE", "trailers"),
        ("User-Agent", "u"),
        ("Via", "1.1 p"),
    ];
    let o = run(&[
        back("GET /x HTTP/1.1", &b_req, 200, &[]),
        front("GET /x HTTP/1.1", &f_req, 200, &[]),
    ]);
    assert_eq!(o.codes(), ["proxy.te-forwarded"]);
    // With Connection: TE upstream as well, TE is the proxy's own, re-sent properly.
    let b_ok = [
        ("Host", "o"),
        ("TE", "trailers"),
        ("Connection", "TE"),
        ("User-Agent", "u"),
        ("Via", "1.1 p"),
    ];
    let o = run(&[
        back("GET /x HTTP/1.1", &b_ok, 200, &[]),
        front("GET /x HTTP/1.1", &f_req, 200, &[]),
    ]);
    assert!(o.findings.is_empty(), "{:?}", o.codes());
}

#[test]
fn end_to_end_header_dropped_but_expect_is_the_proxys_to_answer() {
    let f_req = [
        ("Host", "o"),
        ("X_Tenant", "acme"),
        ("Expect", "100-continue"),
        ("User-Agent", "u"),
    ];
    let b_req = [
        ("Host", "o"),
        ("User-Agent", "u"),
        ("X-Real-IP", "10.0.0.1"),
    ];
    let o = run(&[
        back("POST /x HTTP/1.1", &b_req, 200, &[]),
        front("POST /x HTTP/1.1", &f_req, 200, &[]),
    ]);
    assert_eq!(o.codes(), ["proxy.end-to-end-dropped"]);
    let m = &o.findings[0].message;
    assert!(m.contains("x_tenant") && !m.contains("expect"), "{m}");
    let e = change(&o.hops[0].request, "expect");
    assert_eq!(e[0].1.judgement, "expect-handled");
    // A cache revalidating by itself: the conditional and the range are its own to answer.
    let f_req = [
        ("Host", "o"),
        ("If-None-Match", "\"x\""),
        ("Range", "bytes=0-9"),
        ("User-Agent", "u"),
    ];
    let b_req = [("Host", "o"), ("User-Agent", "u"), ("Via", "1.1 varnish")];
    let o = run(&[
        back("GET /x HTTP/1.1", &b_req, 200, &[]),
        front("GET /x HTTP/1.1", &f_req, 206, &[]),
    ]);
    assert_eq!(o.codes(), ["proxy.status-changed"]);
    for n in ["if-none-match", "range"] {
        assert_eq!(
            change(&o.hops[0].request, n)[0].1.judgement,
            "cache-handled"
        );
    }
}

#[test]
fn status_changed_by_the_proxy() {
    let req = [("Host", "o"), ("User-Agent", "u"), ("X-Request-Id", "abc")];
    let o = run(&[
        back("GET /x HTTP/1.1", &req, 500, &[]),
        front("GET /x HTTP/1.1", &req[..2], 502, &[("Server", "nginx")]),
    ]);
    assert_eq!(o.codes(), ["proxy.status-changed"]);
    assert_eq!(o.findings[0].severity(), Severity::Info);
    let s = o.hops[0].response.status.as_ref().expect("status change");
    assert_eq!((s.front.as_str(), s.back.as_str()), ("502", "500"));
}

#[test]
fn forward_proxy_answering_by_itself() {
    let req = [("Host", "o"), ("User-Agent", "u")];
    let denied = || {
        let mut f = front(
            "GET http://o/x HTTP/1.1",
            &req,
            407,
            &[("Server", "tinyproxy/1.11")],
        );
        f.conn = 5;
        f.id = 5;
        f.end_ms = 1010;
        f
    };
    // Alone in the capture: the upstream leg may simply not have been captured.
    let o = run(&[denied()]);
    assert!(
        o.hops.is_empty() && o.findings.is_empty(),
        "{:?}",
        o.codes()
    );
    // With another request through the same proxy paired, the capture shows the proxy's
    // upstream side, so no upstream request means the proxy answered.
    let id = [("Host", "o"), ("User-Agent", "u"), ("X-Request-Id", "1")];
    let mut b = back("GET /y HTTP/1.1", &id, 200, &[]);
    b.start_ms = 2001;
    b.end_ms = 2050;
    let mut f = front(
        "GET http://o/y HTTP/1.1",
        &id,
        200,
        &[("Via", "1.1 tinyproxy")],
    );
    f.start_ms = 2000;
    f.end_ms = 2100;
    let o = run(&[denied(), b, f]);
    assert_eq!(o.codes(), ["proxy.answered-itself"]);
    let h = o
        .hops
        .iter()
        .find(|h| h.front.transaction == 5)
        .expect("hop of the 407");
    assert!(h.back.is_none() && h.upstream.is_none());
    assert_eq!(h.proxy.product.as_deref(), Some("tinyproxy"));
    assert!(
        h.proxy
            .product_from
            .as_deref()
            .is_some_and(|p| p.contains("Server"))
    );
}

#[test]
fn one_leg_refused_upgrade_gets_a_hint_to_capture_both_sides() {
    let o = run(&[front(
        "GET /ws HTTP/1.1",
        WS_REQ,
        400,
        &[("Server", "nginx/1.24")],
    )]);
    assert_eq!(o.codes(), ["proxy.single-leg-hint"]);
    let m = &o.findings[0].message;
    assert!(
        m.contains("tcpdump") && m.contains("proxy_http_version 1.1"),
        "{m}"
    );
    assert!(o.hops.is_empty());
    // The same proxy refusing again: said once.
    let mut again = front("GET /ws HTTP/1.1", WS_REQ, 400, &[("Server", "nginx/1.24")]);
    again.conn = 3;
    again.id = 3;
    again.client = "10.0.0.1:40001";
    let o = run(&[
        front("GET /ws HTTP/1.1", WS_REQ, 400, &[("Server", "nginx/1.24")]),
        again,
    ]);
    assert_eq!(o.codes(), ["proxy.single-leg-hint"]);
    // A refused upgrade from a server that does not look like a proxy: nothing to say here
    // (the HTTP analyzer reports the refusal itself).
    let o = run(&[front(
        "GET /ws HTTP/1.1",
        WS_REQ,
        400,
        &[("Server", "gunicorn")],
    )]);
    assert!(o.findings.is_empty(), "{:?}", o.codes());
}

#[test]
fn messages_not_relayed_one_to_one() {
    let resp = [("Upgrade", "websocket"), ("Connection", "Upgrade")];
    let mut c = Correlator::default();
    let mut out = Out::default();
    c.on_snap(
        back("GET /ws HTTP/1.1", WS_REQ, 101, &resp).snap(),
        &mut out,
    );
    c.on_snap(
        front("GET /ws HTTP/1.1", WS_REQ, 101, &resp).snap(),
        &mut out,
    );
    assert!(out.hops.is_empty(), "held for the relay check");
    let st = |id, m: [u64; 2]| WsStats {
        id,
        msgs: m,
        bytes: [m[0] * 10, m[1] * 10],
        frames: m,
    };
    c.on_ws_stats(1, st(7, [3, 3]), &mut out);
    assert!(out.hops.is_empty());
    c.on_ws_stats(0, st(8, [3, 2]), &mut out);
    assert_eq!(out.hops.len(), 1);
    let r = out.hops[0].relay.as_ref().expect("relay");
    assert_eq!((r.front_websocket, r.back_websocket), (Some(8), Some(7)));
    assert_eq!((r.to_server, r.to_client), ([3, 3], [2, 3]));
    assert!(!r.one_to_one);
    assert_eq!(out.codes(), ["proxy.websocket-not-relayed"]);
    c.finish(&mut out);
    assert_eq!(out.hops.len(), 1);

    // The same counts: one to one, nothing said.
    let mut c = Correlator::default();
    let mut out = Out::default();
    c.on_snap(
        back("GET /ws HTTP/1.1", WS_REQ, 101, &resp).snap(),
        &mut out,
    );
    c.on_snap(
        front("GET /ws HTTP/1.1", WS_REQ, 101, &resp).snap(),
        &mut out,
    );
    c.on_ws_stats(0, st(1, [4, 5]), &mut out);
    c.on_ws_stats(1, st(2, [4, 5]), &mut out);
    assert!(out.hops[0].relay.as_ref().is_some_and(|r| r.one_to_one));
    assert!(out.findings.is_empty());
}

#[test]
fn legs_that_cannot_be_a_pair() {
    let req = [("Host", "o"), ("User-Agent", "u"), ("X-Request-Id", "r1")];
    // Different method.
    let o = run(&[
        back("POST /x HTTP/1.1", &req, 200, &[]),
        front("GET /x HTTP/1.1", &req, 200, &[]),
    ]);
    assert!(o.hops.is_empty());
    // Different path.
    let o = run(&[
        back("GET /y HTTP/1.1", &req, 200, &[]),
        front("GET /x HTTP/1.1", &req, 200, &[]),
    ]);
    assert!(o.hops.is_empty());
    // The "back" started well before the front: not made for it.
    let mut b = back("GET /x HTTP/1.1", &req, 200, &[]);
    b.start_ms = 900;
    let o = run(&[b, front("GET /x HTTP/1.1", &req, 200, &[])]);
    assert!(o.hops.is_empty());
    // The "back" ended after the front did.
    let mut b = back("GET /x HTTP/1.1", &req, 200, &[]);
    b.end_ms = 1200;
    let o = run(&[b, front("GET /x HTTP/1.1", &req, 200, &[])]);
    assert!(o.hops.is_empty());
    // Both to the same server: two clients, not two legs.
    let mut b = back("GET /x HTTP/1.1", &req, 200, &[]);
    b.server = PROXY;
    let o = run(&[b, front("GET /x HTTP/1.1", &req, 200, &[])]);
    assert!(o.hops.is_empty());
    // Nothing links the legs (not from the proxy's address, no ids, no forwarding headers):
    // same path, status and length are not enough.
    let mut b = back("GET /x HTTP/1.1", &[("Host", "a")], 200, &[]);
    b.client = "10.0.0.7:50000";
    let o = run(&[b, front("GET /x HTTP/1.1", &[("Host", "a")], 200, &[])]);
    assert!(o.hops.is_empty());
    // Same connection.
    let mut b = back("GET /x HTTP/1.1", &req, 200, &[]);
    b.conn = 0;
    let o = run(&[b, front("GET /x HTTP/1.1", &req, 200, &[])]);
    assert!(o.hops.is_empty());
    // Only a matching method and path: too weak to call a pair.
    let mut b = back("GET /x HTTP/1.1", &[("Host", "a")], 200, &[]);
    b.client = "10.0.0.7:50000";
    b.resp_len = 11;
    let o = run(&[b, front("GET /x HTTP/1.1", &[("Host", "b")], 201, &[])]);
    assert!(o.hops.is_empty());
}

#[test]
fn weak_pairs_are_reported_but_not_diagnosed() {
    // Same path and status, the proxy's address: a low-confidence pair; a dropped header on it
    // is not a diagnosis.
    let mut b = back("GET /x HTTP/1.1", &[("Host", "a")], 200, &[]);
    b.resp_len = 11;
    let f = front(
        "GET /x HTTP/1.1",
        &[("Host", "b"), ("X-Custom", "1")],
        200,
        &[],
    );
    let o = run(&[b, f]);
    assert_eq!(o.hops.len(), 1);
    assert_eq!((o.hops[0].confidence, o.hops[0].score), ("low", 5));
    assert!(o.findings.is_empty(), "{:?}", o.codes());
    assert_eq!(
        change(&o.hops[0].request, "x-custom")[0].1.judgement,
        "end-to-end-dropped"
    );
}

#[test]
fn identical_requests_are_a_tcp_relay() {
    let req = [
        ("Host", "o"),
        ("Connection", "keep-alive"),
        ("Keep-Alive", "timeout=5"),
        ("User-Agent", "u"),
    ];
    let o = run(&[
        back("GET /x HTTP/1.1", &req, 200, &[]),
        front("GET /x HTTP/1.1", &req, 200, &[]),
    ]);
    assert_eq!(o.hops.len(), 1);
    assert!(o.findings.is_empty(), "{:?}", o.codes());
    assert!(o.hops[0].evidence.iter().any(|e| e.contains("tunnel")));
}

#[test]
fn concurrent_requests_pair_by_request_id() {
    // Two clients, same path, overlapping: the request id decides, not the order.
    let a = [("Host", "o"), ("X-Request-Id", "aaa")];
    let b = [("Host", "o"), ("X-Request-Id", "bbb")];
    let mut fa = front("GET /x HTTP/1.1", &a, 200, &[]);
    let mut fb = front("GET /x HTTP/1.1", &b, 200, &[]);
    fb.conn = 2;
    fb.id = 2;
    fb.client = "10.0.0.9:40001";
    fa.end_ms = 1200;
    fb.end_ms = 1201;
    let mut ba = back("GET /x HTTP/1.1", &a, 200, &[]);
    let mut bb = back("GET /x HTTP/1.1", &b, 200, &[]);
    bb.conn = 3;
    bb.id = 3;
    ba.start_ms = 1010;
    bb.start_ms = 1005;
    // Upstream b finishes first, then a; fronts in the other order.
    let o = run(&[bb, ba, fa, fb]);
    let pairs: BTreeSet<(u64, u64)> = o
        .hops
        .iter()
        .map(|h| (h.front.transaction, h.back.map_or(99, |b| b.transaction)))
        .collect();
    assert_eq!(pairs, BTreeSet::from([(0, 1), (2, 3)]));
    assert!(o.hops.iter().all(|h| h.confidence == "high"));
}

#[test]
fn requests_inside_a_connect_tunnel_are_relayed_and_name_the_proxy() {
    let mut connect = front(
        "CONNECT o:80 HTTP/1.1",
        &[("Host", "o:80")],
        200,
        &[("Proxy-agent", "tinyproxy/1.11.1")],
    );
    connect.end_ms = 1000;
    let mut c = Correlator::default();
    let mut out = Out::default();
    let mut cs = connect.snap();
    cs.switched = Some("tunnel".into());
    c.on_snap(cs, &mut out);
    // Inside: the same request bytes on both legs, hop-by-hop fields included.
    let req = [
        ("Host", "o"),
        ("Connection", "keep-alive"),
        ("Keep-Alive", "5"),
        ("User-Agent", "u"),
    ];
    let mut f = front("GET /x HTTP/1.1", &req, 200, &[]);
    f.id = 4;
    c.on_snap(back("GET /x HTTP/1.1", &req, 200, &[]).snap(), &mut out);
    c.on_snap(f.snap(), &mut out);
    c.finish(&mut out);
    assert_eq!(out.hops.len(), 1);
    let h = &out.hops[0];
    assert_eq!(h.proxy.product.as_deref(), Some("tinyproxy"));
    assert!(
        h.proxy
            .product_from
            .as_deref()
            .is_some_and(|p| p.contains("CONNECT"))
    );
    assert!(h.request.hop_by_hop_forwarded.is_empty());
    assert!(out.findings.is_empty(), "{:?}", out.codes());
}

#[test]
fn a_chain_of_two_proxies() {
    // client → P1 (10.0.0.2:80) → P2 (10.0.0.3:8080) → origin (10.0.0.4:9000); each proxy
    // adds to X-Forwarded-For; the origin's leg finishes first, the client's last.
    let c = [("Host", "o"), ("User-Agent", "u")];
    let p1 = [
        ("Host", "o"),
        ("User-Agent", "u"),
        ("X-Forwarded-For", "10.0.0.1"),
    ];
    let p2 = [
        ("Host", "o"),
        ("User-Agent", "u"),
        ("X-Forwarded-For", "10.0.0.1, 10.0.0.2"),
    ];
    let mut origin = back("GET /x HTTP/1.1", &p2, 200, &[]);
    origin.conn = 2;
    origin.id = 2;
    origin.client = "10.0.0.3:51000";
    origin.server = "10.0.0.4:9000";
    origin.start_ms = 1002;
    origin.end_ms = 1040;
    let middle = back("GET /x HTTP/1.1", &p1, 200, &[]);
    let o = run(&[origin, middle, front("GET /x HTTP/1.1", &c, 200, &[])]);
    assert_eq!(
        o.hops.len(),
        2,
        "{:?}",
        o.hops.iter().map(|h| &h.evidence).collect::<Vec<_>>()
    );
    let second = o
        .hops
        .iter()
        .find(|h| h.front.connection == 1)
        .expect("P1 → P2 → origin");
    let first = o
        .hops
        .iter()
        .find(|h| h.front.connection == 0)
        .expect("client → P1 → P2");
    assert_eq!(second.back.map(|b| b.connection), Some(2));
    assert_eq!(first.back.map(|b| b.connection), Some(1));
    assert_eq!(first.next_hop, Some(second.id));
    assert_eq!(second.next_hop, None);
    assert_eq!(first.upstream, Some(ep(ORIGIN)));
    assert!(o.findings.is_empty(), "{:?}", o.codes());
}

#[test]
fn rewritten_target_still_pairs() {
    let req = [("Host", "o"), ("X-Request-Id", "r9")];
    let o = run(&[
        back("GET /x HTTP/1.1", &req, 200, &[]),
        front("GET /api/x HTTP/1.1", &req, 200, &[]),
    ]);
    assert_eq!(o.hops.len(), 1);
    assert!(o.hops[0].request.target.is_some());
}

#[test]
fn window_is_bounded_and_overflow_is_reported() {
    let mut c = Correlator::default();
    let mut out = Out::default();
    let req = [("Host", "o")];
    let n = MAX_WINDOW as u64 + 50;
    // Many clients of one origin: none of them is another's upstream leg.
    for i in 0..n {
        let mut l = back("GET /x HTTP/1.1", &req, 200, &[]);
        l.conn = 10 + i;
        l.id = 10 + i;
        c.on_snap(l.snap(), &mut out);
    }
    assert!(
        out.hops.is_empty(),
        "{} pairs between clients of one origin",
        out.hops.len()
    );
    assert!(c.window.live <= MAX_WINDOW);
    assert!(c.window.bytes <= c.window_bytes());
    assert_eq!(c.limits.window_evicted, 50);
    c.finish(&mut out);
    assert_eq!(out.codes(), ["proxy.correlation-limit"]);
    assert!(out.findings[0].message.contains("50 candidate"));
}

#[test]
fn old_transactions_leave_the_window_with_time() {
    let mut c = Correlator::default();
    let mut out = Out::default();
    let req = [("Host", "o")];
    for i in 0..100u64 {
        let mut l = back("GET /x HTTP/1.1", &req, 200, &[]);
        l.conn = i;
        l.id = i;
        // One a second for 100 s, then one 10 minutes later.
        l.start_ms = i as i64 * 1000;
        l.end_ms = l.start_ms + 5;
        c.on_snap(l.snap(), &mut out);
    }
    let mut l = back("GET /x HTTP/1.1", &req, 200, &[]);
    l.conn = 1000;
    l.start_ms = 700_000;
    l.end_ms = 700_010;
    c.on_snap(l.snap(), &mut out);
    assert_eq!(c.window.live, 1);
    assert!(
        c.window
            .by_tail
            .get(&weak::tail_hash("/x"))
            .is_some_and(|q| q.len() == 1)
    );
    assert_eq!(c.limits.window_evicted, 0, "time eviction is not a limit");
}

#[test]
fn every_code_is_triggered() {
    // Each test above asserts its code; this keeps the registry's proxy codes and the tests in
    // step.
    let tested = [
        "proxy.upgrade-dropped",
        "proxy.upgrade-not-relayed",
        "proxy.proxy-authorization-forwarded",
        "proxy.hop-by-hop-forwarded",
        "proxy.te-forwarded",
        "proxy.end-to-end-dropped",
        "proxy.websocket-not-relayed",
        "proxy.correlation-limit",
        "proxy.status-changed",
        "proxy.answered-itself",
        "proxy.single-leg-hint",
        "proxy.connection-field-in-http2",
        "proxy.body-length-changed",
    ];
    assert_eq!(
        BTreeSet::from(tested),
        codes::ALL
            .iter()
            .filter(|c| c.area == codes::Area::Proxy)
            .map(|c| c.name)
            .collect::<BTreeSet<_>>()
    );
}

#[test]
fn origin_form_of_targets() {
    assert_eq!(origin_form("http://h:1/a?b"), "/a?b");
    assert_eq!(origin_form("HTTPS://h"), "/");
    assert_eq!(origin_form("/x"), "/x");
    assert_eq!(origin_form("*"), "*");
    assert_eq!(origin_form("http://"), "/");
    assert_eq!(origin_form("ht"), "ht");
}

// ---- across versions (HTTP/2 ↔ HTTP/1.x) ---------------------------------------------------

fn run_snaps(snaps: Vec<Snap>) -> Out {
    let mut c = Correlator::default();
    let mut out = Out::default();
    for s in snaps {
        c.on_snap(s, &mut out);
    }
    c.finish(&mut out);
    out
}

/// `s` as an HTTP/2 stream: the request's pseudo-headers first (from its request line and
/// `authority`), version `HTTP/2` both ways, bodies in DATA frames.
fn h2(mut s: Snap, stream: u32, authority: &str) -> Snap {
    let mut req = Headers::default();
    req.push_pseudo(b":method", s.method.as_bytes());
    req.push_pseudo(b":path", s.target.as_bytes());
    req.push_pseudo(b":scheme", b"https");
    req.push_pseudo(b":authority", authority.as_bytes());
    for h in s.req.iter() {
        req.push(h.name, h.value, h.hop_by_hop, h.masked);
    }
    s.req = req;
    s.version = "HTTP/2".into();
    s.req_framing = BodyFraming::Http2Data;
    s.authority = Some(authority.into());
    s.stream = Some(stream);
    if let (Some(st), Some(r)) = (s.status, &s.resp) {
        let mut resp = Headers::default();
        resp.push_pseudo(b":status", st.to_string().as_bytes());
        for h in r.iter() {
            resp.push(h.name, h.value, h.hop_by_hop, h.masked);
        }
        s.resp = Some(resp);
        s.resp_version = Some("HTTP/2".into());
        s.resp_framing = Some(BodyFraming::Http2Data);
    }
    s
}

/// The names of a diff's changes with their judgements, sorted.
fn judged(d: &MessageDiff) -> BTreeSet<(String, &'static str)> {
    d.headers_removed
        .iter()
        .chain(&d.headers_added)
        .chain(&d.headers_changed)
        .chain(&d.hop_by_hop_forwarded)
        .map(|c| (c.name.clone(), c.judgement))
        .collect()
}

fn set(v: &[(&str, &'static str)]) -> BTreeSet<(String, &'static str)> {
    v.iter().map(|(n, j)| (n.to_string(), *j)).collect()
}

#[test]
fn h2_front_http1_back_is_a_translation_not_a_drop() {
    // nginx's HTTP/2 front, HTTP/1.1 upstream: `:authority` becomes `Host` (the same host, or
    // another one), the cookie pairs curl sent as separate fields are joined, the upstream's
    // chunked response goes out in DATA frames without its connection fields.
    for (host, host_judgement) in [("app.example", "translated"), ("backend", "host-rewritten")] {
        let f_req = [
            ("user-agent", "curl/8"),
            ("cookie", "a=1"),
            ("cookie", "b=2"),
        ];
        let b_req = [
            ("Host", host),
            ("X-Request-ID", "aa128ac1dffeeaff"),
            ("Connection", "keep-alive"),
            ("User-Agent", "curl/8"),
            ("Cookie", "a=1; b=2"),
        ];
        let b_resp = [
            ("Content-Type", "text/plain"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "keep-alive"),
            ("Keep-Alive", "timeout=5"),
        ];
        let f_resp = [("server", "nginx/1.22.1"), ("content-type", "text/plain")];
        let mut b = back("GET /api/one HTTP/1.1", &b_req, 200, &b_resp).snap();
        b.resp_framing = Some(BodyFraming::Chunked);
        let f = h2(
            front("GET /api/one", &f_req, 200, &f_resp).snap(),
            1,
            "app.example",
        );
        let o = run_snaps(vec![b, f]);
        assert_eq!(o.hops.len(), 1, "{host}");
        let h = &o.hops[0];
        assert!(h.diagnosis.is_empty(), "{host}: {:?}", h.diagnosis);
        assert!(o.findings.is_empty(), "{host}: {:?}", o.codes());
        assert_eq!(
            judged(&h.request),
            set(&[
                ("host", host_judgement),
                ("x-request-id", "proxy-added"),
                ("connection", "hop-local"),
            ]),
            "{host}"
        );
        assert_eq!(
            judged(&h.response),
            set(&[
                ("transfer-encoding", "translated"),
                ("connection", "translated"),
                ("keep-alive", "translated"),
                ("server", "added"),
            ]),
            "{host}"
        );
        assert!(
            h.request
                .version
                .as_ref()
                .is_some_and(|v| v.back == "HTTP/1.1")
        );
        // The request line is the pseudo-headers: no target change.
        assert!(h.request.target.is_none());
        // Chunked against DATA with the same decoded length: framing, not a body change.
        assert!(h.response.framing.is_some() && h.response.body_length.is_none());
    }
}

#[test]
fn http1_front_h2_back_translated_correctly() {
    let f_req = [
        ("Host", "app.example"),
        ("Connection", "keep-alive, X-Hop"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"),
        ("X-Hop", "1"),
        ("Transfer-Encoding", "chunked"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("User-Agent", "curl/8"),
    ];
    let b_req = [("user-agent", "curl/8"), ("x-forwarded-for", "10.0.0.1")];
    let mut f = front(
        "POST /upload HTTP/1.1",
        &f_req,
        200,
        &[("Via", "1.1 envoy")],
    )
    .snap();
    f.req_framing = BodyFraming::Chunked;
    f.req_len = 3000;
    let mut b = h2(
        back("POST /upload", &b_req, 200, &[]).snap(),
        5,
        "app.example",
    );
    b.req_len = 3000;
    let o = run_snaps(vec![b, f]);
    assert_eq!(o.hops.len(), 1);
    let h = &o.hops[0];
    assert!(o.findings.is_empty(), "{:?}", o.codes());
    assert_eq!(
        judged(&h.request),
        set(&[
            ("host", "translated"),
            ("connection", "translated"),
            ("keep-alive", "translated"),
            ("proxy-connection", "translated"),
            ("x-hop", "translated"),
            ("transfer-encoding", "translated"),
            ("x-forwarded-for", "proxy-added"),
            // The proxy's own credential: consumed, as by any proxy.
            ("proxy-authorization", "hop-by-hop-stripped"),
        ])
    );
    assert!(h.request.body_length.is_none());
    assert_eq!(h.proxy.product.as_deref(), Some("envoy"));
    // Without a Via: the HTTP/2 leg's lowercase names are the protocol's, not HAProxy's habit.
    let mut f = front("POST /upload HTTP/1.1", &f_req, 200, &[]).snap();
    f.req_len = 3000;
    let mut b = h2(
        back("POST /upload", &b_req, 200, &[]).snap(),
        5,
        "app.example",
    );
    b.req_len = 3000;
    let o = run_snaps(vec![b, f]);
    assert_eq!(
        o.hops[0].proxy.product, None,
        "{:?}",
        o.hops[0].proxy.product_from
    );
}

#[test]
fn connection_fields_leaked_into_h2_and_the_reset_are_diagnosed() {
    let f_req = [
        ("Host", "app.example"),
        ("Connection", "keep-alive"),
        ("Transfer-Encoding", "chunked"),
        ("User-Agent", "curl/8"),
    ];
    // The proxy copied them into its HTTP/2 request; the upstream reset the stream and the
    // proxy answered 502 itself.
    let b_req = [
        ("connection", "keep-alive"),
        ("transfer-encoding", "chunked"),
        ("user-agent", "curl/8"),
        ("upgrade", "websocket, h2c"),
    ];
    let mut f = front(
        "POST /upload HTTP/1.1",
        &f_req,
        502,
        &[("Server", "haproxy")],
    )
    .snap();
    f.req_len = 10;
    let mut b = h2(
        back("POST /upload", &b_req, 200, &[]).snap(),
        3,
        "app.example",
    );
    b.status = None;
    b.resp = None;
    b.resp_version = None;
    b.resp_framing = None;
    b.resp_len = None;
    b.resp_body = None;
    b.end = None;
    b.req_len = 10;
    b.reset = Some(ResetRecord {
        code: 1,
        name: "PROTOCOL_ERROR",
        by: "server",
    });
    let o = run_snaps(vec![b, f]);
    assert_eq!(o.hops.len(), 1);
    let h = &o.hops[0];
    assert_eq!(
        h.diagnosis,
        ["proxy.connection-field-in-http2", "proxy.status-changed"]
    );
    assert_eq!(
        judged(&h.request),
        set(&[
            ("host", "translated"),
            ("connection", "forbidden-in-http2"),
            ("transfer-encoding", "forbidden-in-http2"),
            ("upgrade", "forbidden-in-http2"),
        ])
    );
    let leak = &o.findings[0];
    assert_eq!(leak.severity(), Severity::Error);
    let m = &leak.message;
    for want in [
        "connection, transfer-encoding, upgrade",
        "RST_STREAM PROTOCOL_ERROR from the server",
        "RFC 9113 §8.2.2",
        "stream 3",
        "the client got 502",
        "http-request del-header Transfer-Encoding",
    ] {
        assert!(m.contains(want), "{want}: {m}");
    }
    let st = &o.findings[1].message;
    assert!(
        st.contains("reset the stream") && st.contains("502"),
        "{st}"
    );
    // Not also a hop-by-hop-forwarded diagnosis for the same fields.
    assert!(!o.codes().contains(&"proxy.hop-by-hop-forwarded"));
}

#[test]
fn connection_fields_in_the_h2_response_to_the_client() {
    // HTTP/1.1 upstream, HTTP/2 client: the proxy passed the upstream's Keep-Alive on, the
    // client reset the stream.
    let b_resp = [("Keep-Alive", "timeout=5"), ("Content-Type", "text/plain")];
    let f_resp = [
        ("server", "nginx/1.22.1"),
        ("keep-alive", "timeout=5"),
        ("content-type", "text/plain"),
    ];
    let b = back(
        "GET /a HTTP/1.1",
        &[("Host", "backend"), ("User-Agent", "curl/8")],
        200,
        &b_resp,
    )
    .snap();
    let mut f = h2(
        front("GET /a", &[("user-agent", "curl/8")], 200, &f_resp).snap(),
        1,
        "app.example",
    );
    f.reset = Some(ResetRecord {
        code: 1,
        name: "PROTOCOL_ERROR",
        by: "client",
    });
    let o = run_snaps(vec![b, f]);
    let h = &o.hops[0];
    assert_eq!(h.diagnosis, ["proxy.connection-field-in-http2"]);
    assert!(judged(&h.response).contains(&("keep-alive".into(), "forbidden-in-http2")));
    let m = &o.findings[0].message;
    assert!(
        m.contains("RST_STREAM PROTOCOL_ERROR from the client"),
        "{m}"
    );
    assert!(m.contains("add_header Keep-Alive"), "{m}");
}

#[test]
fn h2_to_h2_compares_authority_and_nothing_else() {
    let req = [("user-agent", "grpc-go/1.60"), ("te", "trailers")];
    for (authority, changed) in [("app.example", false), ("backend:50051", true)] {
        let b = h2(back("POST /svc/Call", &req, 200, &[]).snap(), 1, authority);
        let f = h2(
            front("POST /svc/Call", &req, 200, &[("via", "2 envoy")]).snap(),
            7,
            "app.example",
        );
        let o = run_snaps(vec![b, f]);
        assert_eq!(o.hops.len(), 1);
        let h = &o.hops[0];
        assert!(o.findings.is_empty(), "{:?}", o.codes());
        let want = if changed {
            set(&[(":authority", "host-rewritten")])
        } else {
            BTreeSet::new()
        };
        // `te: trailers` is allowed in HTTP/2 and the same on both legs: nothing to say.
        assert_eq!(judged(&h.request), want, "{authority}");
        assert!(h.request.version.is_none() && h.response.version.is_none());
    }
}

#[test]
fn body_length_changed_across_versions() {
    let req = [("Host", "backend"), ("User-Agent", "curl/8")];
    let b = back("GET /page HTTP/1.1", &req, 200, &[]).snap();
    let mut f = h2(
        front(
            "GET /page",
            &[("user-agent", "curl/8")],
            200,
            &[("server", "nginx")],
        )
        .snap(),
        1,
        "app.example",
    );
    // The upstream's 10 bytes (content-length) reached the client as 14 (a filter added some).
    f.resp_len = Some(14);
    let o = run_snaps(vec![b.clone(), f.clone()]);
    let h = &o.hops[0];
    assert_eq!(h.diagnosis, ["proxy.body-length-changed"]);
    let c = h.response.body_length.as_ref().expect("body_length");
    assert_eq!((c.front.as_str(), c.back.as_str()), ("14", "10"));
    let m = &o.findings[0].message;
    assert!(m.contains("sub_filter") && m.contains("added to"), "{m}");
    assert!(
        m.contains("HTTP/1.1, content-length") && m.contains("HTTP/2, http2-data"),
        "{m}"
    );
    // Not when a leg's body was not seen whole (a capture gap), nor when the proxy compressed
    // it and the decoded lengths agree.
    if let Some(x) = f.resp_body.as_mut() {
        x.complete = false;
    }
    assert!(run_snaps(vec![b.clone(), f.clone()]).findings.is_empty());
    if let Some(x) = f.resp_body.as_mut() {
        x.complete = true;
        x.coding = "gzip".into();
        x.decoded = Some(10);
    }
    let o = run_snaps(vec![b.clone(), f.clone()]);
    assert!(o.findings.is_empty(), "{:?}", o.codes());
    if let Some(x) = f.resp_body.as_mut() {
        x.decoded = Some(9);
    }
    assert_eq!(run_snaps(vec![b, f]).codes(), ["proxy.body-length-changed"]);
}

#[test]
fn status_changed_across_versions_names_the_directive() {
    let req = [("Host", "backend"), ("User-Agent", "curl/8")];
    let b = back("GET /gone HTTP/1.1", &req, 404, &[]).snap();
    let f = h2(
        front(
            "GET /gone",
            &[("user-agent", "curl/8")],
            200,
            &[("server", "nginx/1.22.1")],
        )
        .snap(),
        3,
        "app.example",
    );
    let o = run_snaps(vec![b, f]);
    let h = &o.hops[0];
    assert_eq!(h.diagnosis, ["proxy.status-changed"]);
    let s = h.response.status.as_ref().expect("status");
    assert_eq!((s.front.as_str(), s.back.as_str()), ("200", "404"));
    let m = &o.findings[0].message;
    assert!(
        m.contains("proxy_intercept_errors") && m.contains("error_page 404"),
        "{m}"
    );
    assert!(m.contains("stream 3"), "{m}");
}

#[test]
fn multiplexed_streams_pair_with_their_own_upstream_requests() {
    // Three streams on one connection, two for the same path; nginx's upstream requests on
    // three connections. Arrival order (as transactions finish): the upstream legs, then the
    // streams in another order, so first-come pairing alone would cross the /poll pair.
    let ua = [("user-agent", "curl/8")];
    let b_req = [("Host", "backend"), ("User-Agent", "curl/8")];
    let mut backs = Vec::new();
    for (conn, path, len) in [(1, "/poll", 100), (2, "/poll", 200), (3, "/other", 300)] {
        let mut b = back(&format!("GET {path} HTTP/1.1"), &b_req, 200, &[]).snap();
        b.conn = conn;
        b.id = conn;
        b.client.port += conn as u16;
        b.resp_len = Some(len);
        backs.push(b);
    }
    let mut fronts = Vec::new();
    for (stream, path, len) in [
        (3u32, "/poll", 200u64),
        (5, "/other", 300),
        (1, "/poll", 100),
    ] {
        let mut f = h2(
            front(&format!("GET {path}"), &ua, 200, &[]).snap(),
            stream,
            "a",
        );
        f.id = 10 + u64::from(stream);
        f.resp_len = Some(len);
        fronts.push(f);
    }
    let o = run_snaps(backs.into_iter().chain(fronts).collect());
    let got: BTreeSet<(u64, Option<u64>)> = o
        .hops
        .iter()
        .map(|h| (h.front.transaction, h.back.map(|b| b.transaction)))
        .collect();
    assert_eq!(
        got,
        BTreeSet::from([(11, Some(1)), (13, Some(2)), (15, Some(3))])
    );
    assert!(o.findings.is_empty(), "{:?}", o.codes());
}

#[test]
fn h2c_upgrades_are_optional_for_a_proxy() {
    // HTTP/2 stream 1 after an h2c upgrade the proxy accepted itself: its request is the
    // upgrading HTTP/1.1 request, its response HTTP/2; the upstream request is plain HTTP/1.1.
    let f_req = [
        ("Host", "app.example"),
        ("Connection", "Upgrade, HTTP2-Settings"),
        ("Upgrade", "h2c"),
        ("HTTP2-Settings", "AAMAAABkAAIAAAAA"),
        ("User-Agent", "curl/8"),
    ];
    let b_req = [("Host", "app.example"), ("User-Agent", "curl/8")];
    let mut f = front("GET /x HTTP/1.1", &f_req, 200, &[("server", "nginx")]).snap();
    f.stream = Some(1);
    f.resp_version = Some("HTTP/2".into());
    f.resp_framing = Some(BodyFraming::Http2Data);
    let mut b = back(
        "GET /x HTTP/1.1",
        &b_req,
        200,
        &[("Connection", "keep-alive")],
    )
    .snap();
    // The proxy may also just ignore the upgrade and answer in HTTP/1.1.
    let mut ignored = f.clone();
    ignored.stream = None;
    ignored.resp_version = Some("HTTP/1.1".into());
    ignored.resp_framing = Some(BodyFraming::ContentLength);
    for (name, f) in [("accepted", f), ("ignored", ignored)] {
        b.resp_framing = Some(BodyFraming::ContentLength);
        let o = run_snaps(vec![b.clone(), f]);
        assert_eq!(o.hops.len(), 1, "{name}");
        let h = &o.hops[0];
        assert!(o.findings.is_empty(), "{name}: {:?}", o.codes());
        for n in ["upgrade", "http2-settings", "connection"] {
            assert_eq!(
                change(&h.request, n)
                    .iter()
                    .map(|(_, c)| c.judgement)
                    .collect::<Vec<_>>(),
                ["hop-by-hop-stripped"],
                "{name}: {n}"
            );
        }
    }
}

#[test]
fn a_stream_the_proxy_answered_before_any_pairing_is_answered_itself() {
    // nginx answers stream 7 (a 404 of its own) before the stream it forwards ends: when the
    // proxy becomes known, the earlier stream still in the window is checked like the others.
    let ua = [("user-agent", "curl/8")];
    let mut own = h2(
        front("GET /missing.txt", &ua, 404, &[("server", "nginx/1.22.1")]).snap(),
        7,
        "a",
    );
    own.id = 7;
    own.start = Timestamp(990_000_000);
    own.end = Some(Timestamp(995_000_000));
    let b = back(
        "GET /api/one HTTP/1.1",
        &[("Host", "backend"), ("User-Agent", "curl/8")],
        200,
        &[],
    )
    .snap();
    let f = h2(
        front("GET /api/one", &ua, 200, &[("server", "nginx/1.22.1")]).snap(),
        1,
        "a",
    );
    let o = run_snaps(vec![own, b, f]);
    let got: Vec<(u64, Option<u64>, Vec<&str>)> = o
        .hops
        .iter()
        .map(|h| {
            (
                h.front.transaction,
                h.back.map(|b| b.transaction),
                h.diagnosis.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0, Some(1), vec![]),
            (7, None, vec!["proxy.answered-itself"])
        ]
    );
}

#[test]
fn resets_and_missing_responses_that_are_not_the_proxys_doing() {
    let ua = [("user-agent", "curl/8")];
    let b_req = [("Host", "backend"), ("User-Agent", "curl/8")];
    let nginx = [("server", "nginx/1.22.1")];
    let b = back("GET /a HTTP/1.1", &b_req, 200, &[]).snap();
    // curl resets a stream whose response already ended (CANCEL): no refusal, no diagnosis.
    let mut f = h2(front("GET /a", &ua, 200, &nginx).snap(), 1, "a");
    f.reset = Some(ResetRecord {
        code: 8,
        name: "CANCEL",
        by: "client",
    });
    let o = run_snaps(vec![b.clone(), f.clone()]);
    assert_eq!(o.hops.len(), 1);
    assert!(o.findings.is_empty(), "{:?}", o.codes());
    // An upstream response the capture missed, while the client got a 200: no status change.
    let mut missed = b.clone();
    missed.status = None;
    missed.resp = None;
    missed.resp_version = None;
    missed.resp_framing = None;
    missed.resp_len = None;
    missed.resp_body = None;
    missed.end = None;
    let o = run_snaps(vec![missed.clone(), f.clone()]);
    assert_eq!(o.hops.len(), 1);
    assert!(o.hops[0].response.status.is_none());
    assert!(o.findings.is_empty(), "{:?}", o.codes());
    // But a 504 of the proxy's own for an upstream that never answered is one.
    f.status = Some(504);
    f.reset = None;
    let o = run_snaps(vec![missed, f]);
    assert_eq!(o.codes(), ["proxy.status-changed"]);
    let m = &o.findings[0].message;
    assert!(
        m.contains("sent no response") && m.contains("proxy_read_timeout"),
        "{m}"
    );
}

/// One leg of any version from a few numbers: HTTP/1.x or HTTP/2 each way, fields from a
/// vocabulary that holds what the translation looks at (connection-specific fields, split
/// cookies, Host, request ids), any status, body, reset and timing.
fn any_leg(i: u64, x: &[u8; 12]) -> Snap {
    const NAMES: &[&str] = &[
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "cookie",
        "Cookie",
        "host",
        "x-request-id",
        "user-agent",
        "content-length",
        "proxy-connection",
        "via",
        "x-forwarded-for",
    ];
    const VALUES: &[&str] = &[
        "trailers",
        "a=1",
        "b=2; c=3",
        "keep-alive, te",
        "10.0.0.1",
        "x",
        "",
    ];
    let pick = |n: u8, k: usize| NAMES[(n as usize + k) % NAMES.len()];
    let val = |n: u8| VALUES[n as usize % VALUES.len()];
    let mut req = Vec::new();
    for k in 0..(x[0] % 6) as usize {
        req.push((pick(x[1], k * 3), val(x[2].wrapping_add(k as u8))));
    }
    let resp = [(pick(x[3], 0), val(x[4])), (pick(x[3], 5), val(x[5]))];
    let endpoints = [CLIENT, PROXY, PROXY_OUT, ORIGIN];
    let mut s = Side {
        conn: u64::from(x[6] % 4),
        id: i,
        client: endpoints[(x[6] % 4) as usize],
        server: endpoints[(x[7] % 4) as usize],
        line: if x[8].is_multiple_of(3) {
            "POST /a HTTP/1.1"
        } else {
            "GET /a HTTP/1.0"
        },
        req: &req,
        status: [None, Some(101), Some(200), Some(404), Some(502)][(x[9] % 5) as usize],
        resp: &resp,
        start_ms: 1000 + i64::from(x[10] % 8),
        end_ms: 1000 + i64::from(x[11] % 16),
        resp_len: u64::from(x[11] % 3),
    }
    .snap();
    if x[8] % 2 == 1 {
        s = h2(s, 1 + 2 * u32::from(x[9]), val(x[10]));
    }
    if x[10].is_multiple_of(4) {
        s.reset = Some(ResetRecord {
            code: u32::from(x[11] % 3),
            name: "PROTOCOL_ERROR",
            by: "server",
        });
    }
    s.req_len = u64::from(x[2] % 3);
    s.req_body.complete = !x[4].is_multiple_of(5);
    s
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Legs of any versions, in any order: no panic, every leg in at most one hop as the
    /// client leg and at most one as the upstream leg, never both legs of one hop.
    #[test]
    fn any_legs_of_any_versions_pair_at_most_once(
        legs in proptest::collection::vec(proptest::prelude::any::<[u8; 12]>(), 0..14),
    ) {
        let snaps: Vec<Snap> = legs.iter().enumerate().map(|(i, x)| any_leg(i as u64, x)).collect();
        let o = run_snaps(snaps);
        let mut fronts = BTreeSet::new();
        let mut backs = BTreeSet::new();
        for h in &o.hops {
            proptest::prop_assert!(fronts.insert(h.front.transaction), "front twice: {:?}", h.front);
            if let Some(b) = h.back {
                proptest::prop_assert!(backs.insert(b.transaction), "back twice: {b:?}");
                proptest::prop_assert!(b.transaction != h.front.transaction);
            }
        }
        // A chain's middle link is a back and a front with its own back; never a back that
        // the proxy also "answered by itself".
        for h in o.hops.iter().filter(|h| h.back.is_none()) {
            proptest::prop_assert!(!backs.contains(&h.front.transaction), "{:?}", h.front);
        }
    }
}

// Legs captured on two hosts: the client leg on the proxy's front address (file 0), the
// upstream leg on the backend host (file 1, its clock `off` behind: its times are the true
// ones minus `off`).

const FRONT_CLIENT: &str = "203.0.113.5:40000";
const FRONT_PROXY: &str = "198.51.100.10:443";
const BACK_PROXY: &str = "10.0.0.10:50000";
const BACKEND: &str = "10.0.0.20:8080";

/// A hop across hosts: `n` numbers the connections and transactions, `t` the true start in
/// ms; the front leg lasts 100 ms, the back leg 1–50 ms of it.
fn cross<'a>(
    n: u64,
    t: i64,
    line: &'a str,
    f_req: &'a [(&'a str, &'a str)],
    b_req: &'a [(&'a str, &'a str)],
    status: (u16, u16),
) -> (Side<'a>, Side<'a>) {
    let f = Side {
        conn: 2 * n,
        id: 2 * n,
        client: FRONT_CLIENT,
        server: FRONT_PROXY,
        line,
        req: f_req,
        status: Some(status.0),
        resp: &[("Server", "nginx/1.22.1")],
        start_ms: t,
        end_ms: t + 100,
        resp_len: 10,
    };
    let b = Side {
        conn: 2 * n + 1,
        id: 2 * n + 1,
        client: BACK_PROXY,
        server: BACKEND,
        line,
        req: b_req,
        status: Some(status.1),
        resp: &[],
        start_ms: t + 1,
        end_ms: t + 50,
        resp_len: 10,
    };
    (f, b)
}

/// Runs legs of two files, `off_ns` the back file's clock offset, in the order a merged run
/// hands them over (by end time on their own clocks, as recorded).
fn run_files(legs: &[(Side, u32)], off_ns: i64) -> (Out, Vec<(u32, u32, ClockEstimate)>) {
    run_file_snaps(legs.iter().map(|(l, f)| (l.snap(), *f)).collect(), off_ns)
}

/// [`run_files`] with the snaps made.
fn run_file_snaps(legs: Vec<(Snap, u32)>, off_ns: i64) -> (Out, Vec<(u32, u32, ClockEstimate)>) {
    let mut snaps: Vec<Snap> = legs
        .into_iter()
        .map(|(mut s, file)| {
            s.file = Some(file);
            if file == 1 {
                s.start.0 -= off_ns;
                s.end = s.end.map(|e| Timestamp(e.0 - off_ns));
            }
            s
        })
        .collect();
    snaps.sort_by_key(|s| (s.end.map(|e| e.0), s.id));
    let mut c = Correlator::default();
    let mut out = Out::default();
    for s in snaps {
        c.on_snap(s, &mut out);
    }
    c.finish(&mut out);
    (out, c.clock_offsets())
}

fn pairs_of(o: &Out) -> BTreeSet<(u64, u64)> {
    o.hops
        .iter()
        .map(|h| {
            (
                h.front.transaction,
                h.back.map_or(u64::MAX, |b| b.transaction),
            )
        })
        .collect()
}

#[test]
fn legs_on_two_hosts_pair_by_what_survives_the_hop() {
    let ua = ("User-Agent", "test/1");
    let f_xff = [("Host", "app.example"), ua];
    let b_xff = [("Host", "backend"), ua, ("X-Forwarded-For", "203.0.113.5")];
    let f_id = [("Host", "app.example"), ("X-Request-Id", "r-42")];
    let b_id = [("Host", "backend"), ("X-Request-Id", "r-42")];
    let b_ws = [
        ("Host", "backend"),
        ("Connection", "close"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
        ("User-Agent", "test/1"),
    ];
    for off in [0, 1_234_000_000, -800_000_000] {
        let (f0, b0) = cross(0, 1000, "GET /a HTTP/1.1", &f_xff, &b_xff, (200, 200));
        let (f1, b1) = cross(1, 3000, "POST /b HTTP/1.1", &f_id, &b_id, (200, 200));
        let (f2, mut b2) = cross(2, 5000, "GET /ws HTTP/1.1", WS_REQ, &b_ws, (426, 426));
        b2.line = "GET /ws HTTP/1.0";
        let legs = [(f0, 0), (b0, 1), (f1, 0), (b1, 1), (f2, 0), (b2, 1)];
        let (o, clocks) = run_files(&legs, off);
        assert_eq!(
            pairs_of(&o),
            BTreeSet::from([(0, 1), (2, 3), (4, 5)]),
            "{off}"
        );
        for h in &o.hops {
            assert_eq!(h.proxy.address, ep(FRONT_PROXY));
            assert_eq!(h.proxy.back_address, Some(ep(BACK_PROXY)));
            assert_eq!(h.upstream, Some(ep(BACKEND)));
            assert_ne!(h.confidence, "low", "{:?}", h.evidence);
        }
        let ws = o
            .hops
            .iter()
            .find(|h| h.front.transaction == 4)
            .expect("ws hop");
        assert_eq!(ws.diagnosis, ["proxy.upgrade-dropped"]);
        assert_eq!(ws.proxy.product.as_deref(), Some("nginx"));
        let m = &o.findings[0].message;
        assert!(m.contains("proxy_set_header Upgrade $http_upgrade"), "{m}");
        assert!(m.contains("proxy_http_version 1.1"), "{m}");
        // Three pairs that need no clock: the offset, within what their latencies allow.
        let [(0, 1, e)] = clocks[..] else {
            panic!("{clocks:?}")
        };
        assert_eq!((e.support, e.pairs), (3, 3));
        eprintln!(
            "offset {off} ns: estimate {} ns ± {} ns, error {} ns",
            e.offset_ns,
            e.uncertainty_ns(),
            (e.offset_ns - off).abs()
        );
        assert!(e.interval.0 <= off && off <= e.interval.1, "{e:?} {off}");
        assert!((e.offset_ns - off).abs() <= e.uncertainty_ns(), "{e:?}");
    }
}

#[test]
fn hop_by_hop_leaks_and_credentials_across_hosts() {
    let f_req = [
        ("Host", "app.example"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("Keep-Alive", "timeout=5"),
        ("User-Agent", "curl/8"),
    ];
    let b_req = [
        ("Host", "app.example"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("Keep-Alive", "timeout=5"),
        ("User-Agent", "curl/8"),
        ("X-Forwarded-For", "203.0.113.5"),
    ];
    let (f, b) = cross(0, 1000, "GET /x HTTP/1.1", &f_req, &b_req, (200, 200));
    let (o, _) = run_files(&[(f, 0), (b, 1)], 2_000_000_000);
    assert_eq!(pairs_of(&o), BTreeSet::from([(0, 1)]));
    let codes = o.codes();
    assert!(
        codes.contains(&"proxy.proxy-authorization-forwarded"),
        "{codes:?}"
    );
    assert!(codes.contains(&"proxy.hop-by-hop-forwarded"), "{codes:?}");
}

#[test]
fn an_unrelated_transaction_with_the_same_target_does_not_pair() {
    let req = [("Host", "app.example"), ("User-Agent", "test/1")];
    let (f, mut b) = cross(0, 1000, "GET /x HTTP/1.1", &req, &req, (200, 200));
    // Another client to another server, the same resource, at the same time.
    b.client = "192.0.2.77:50000";
    b.server = "192.0.2.88:80";
    let (o, clocks) = run_files(&[(f, 0), (b, 1)], 0);
    assert!(o.hops.is_empty(), "{:?}", o.hops[0].evidence);
    assert!(clocks.is_empty());
    // One capture: a Via from some other proxy and the same resource are not enough either.
    let via = [
        ("Host", "app.example"),
        ("User-Agent", "test/1"),
        ("Via", "1.1 elsewhere"),
    ];
    let (f, mut b) = cross(0, 1000, "GET /x HTTP/1.1", &req, &via, (200, 200));
    b.client = "192.0.2.77:50000";
    assert!(run(&[b, f]).hops.is_empty());
    // The forwarding header names another client.
    let xff = [
        ("Host", "app.example"),
        ("User-Agent", "test/1"),
        ("X-Forwarded-For", "203.0.113.55"),
    ];
    let (f, b) = cross(0, 1000, "GET /x HTTP/1.1", &req, &xff, (200, 200));
    let (o, _) = run_files(&[(f, 0), (b, 1)], 0);
    assert!(o.hops.is_empty(), "{:?}", o.hops[0].evidence);
}

#[test]
fn offset_from_id_pairs_times_the_pairs_that_need_a_clock() {
    // Pairs with request ids give the offset; pairs whose only tie is X-Forwarded-For (the
    // proxy changed the User-Agent) need the time: paired after the offset is known, the
    // early ones by the sweep. A back whose times do not fit the offset stays unpaired.
    let off = 1_234_000_000;
    let ids: Vec<String> = (0..6).map(|i| format!("id-{i}")).collect();
    let f_reqs: Vec<Vec<(&str, &str)>> = ids
        .iter()
        .map(|i| {
            vec![
                ("Host", "a"),
                ("X-Request-Id", i.as_str()),
                ("User-Agent", "u"),
            ]
        })
        .collect();
    let f_plain = [("Host", "a"), ("User-Agent", "u")];
    let b_plain = [
        ("Host", "a"),
        ("User-Agent", "proxy"),
        ("X-Forwarded-For", "203.0.113.5"),
    ];
    let mut legs = Vec::new();
    // An XFF-only pair before any id pair, then ids, then another XFF-only pair.
    let (f, b) = cross(10, 500, "GET /p HTTP/1.1", &f_plain, &b_plain, (200, 200));
    legs.extend([(f, 0), (b, 1)]);
    for (i, r) in f_reqs.iter().enumerate() {
        let (f, mut b) = cross(
            i as u64,
            1000 + 1000 * i as i64,
            "GET /q HTTP/1.1",
            r,
            r,
            (200, 200),
        );
        // Latencies differ pair to pair: the intersection is the tightest.
        b.start_ms += i as i64;
        b.end_ms = b.start_ms + 20;
        legs.extend([(f, 0), (b, 1)]);
    }
    let (f, b) = cross(11, 9000, "GET /p HTTP/1.1", &f_plain, &b_plain, (200, 200));
    legs.extend([(f, 0), (b, 1)]);
    // A "back" 3 s off the offset: same evidence, impossible times once the clock is known.
    let (f, mut b) = cross(12, 12000, "GET /p HTTP/1.1", &f_plain, &b_plain, (200, 200));
    b.start_ms += 3000;
    b.end_ms += 3000;
    legs.extend([(f, 0), (b, 1)]);
    let (o, clocks) = run_files(&legs, off);
    let mut want: BTreeSet<(u64, u64)> = (0..6).map(|i| (2 * i, 2 * i + 1)).collect();
    want.extend([(20, 21), (22, 23)]);
    let got: BTreeSet<_> = pairs_of(&o)
        .into_iter()
        .filter(|p| p.1 != u64::MAX)
        .collect();
    assert_eq!(got, want);
    let [(0, 1, e)] = clocks[..] else {
        panic!("{clocks:?}")
    };
    assert_eq!((e.support, e.pairs), (6, 6));
    assert!(e.interval.0 <= off && off <= e.interval.1, "{e:?}");
    let err = (e.offset_ns - off).abs();
    eprintln!("offset +1.234 s: estimate {:?}, error {err} ns", e);
    assert!(err <= e.uncertainty_ns());
    let timed = o
        .hops
        .iter()
        .find(|h| h.front.transaction == 22)
        .expect("timed hop");
    assert!(
        timed
            .evidence
            .iter()
            .any(|e| e.contains("shifted by +1.27")),
        "{:?}",
        timed.evidence
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(100))]

    /// Hops across two captures tied by request ids, any clock offset within 5 s, any
    /// latencies: every pair is found, none other, and the offset interval holds the truth.
    #[test]
    fn hops_across_captures_pair_and_bound_the_offset(
        off in -5_000_000_000i64..5_000_000_000,
        hops in proptest::collection::vec((0i64..20, 1i64..60, 0i64..20), 1..10),
    ) {
        let ids: Vec<String> = (0..hops.len()).map(|i| format!("id-{i}")).collect();
        let reqs: Vec<[(&str, &str); 2]> =
            ids.iter().map(|i| [("Host", "a"), ("X-Request-Id", i.as_str())]).collect();
        let mut legs = Vec::new();
        for (i, (d1, dur, d2)) in hops.iter().enumerate() {
            let t = 1000 + 300 * i as i64;
            let (mut f, mut b) = cross(i as u64, t, "GET /q HTTP/1.1", &reqs[i], &reqs[i], (200, 200));
            b.start_ms = t + d1;
            b.end_ms = b.start_ms + dur;
            f.end_ms = b.end_ms + d2;
            legs.extend([(f, 0), (b, 1)]);
        }
        let (o, clocks) = run_files(&legs, off);
        let want: BTreeSet<(u64, u64)> = (0..hops.len() as u64).map(|i| (2 * i, 2 * i + 1)).collect();
        proptest::prop_assert_eq!(pairs_of(&o), want);
        let [(0, 1, e)] = clocks[..] else {
            return Err(proptest::test_runner::TestCaseError::fail(format!("{clocks:?}")));
        };
        proptest::prop_assert!(e.interval.0 <= off && off <= e.interval.1, "{:?} {}", e, off);
    }

    /// Legs of any versions on two captures with any offset: no panic, each leg in at most
    /// one hop on each side.
    #[test]
    fn any_legs_on_two_captures_pair_at_most_once(
        legs in proptest::collection::vec(proptest::prelude::any::<[u8; 12]>(), 0..14),
        off in -3_000i64..3_000,
    ) {
        let snaps: Vec<Snap> = legs
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let mut s = any_leg(i as u64, x);
                s.file = Some(u32::from(x[5] % 2));
                if x[5] % 2 == 1 {
                    s.start.0 -= off * 1_000_000;
                    s.end = s.end.map(|e| Timestamp(e.0 - off * 1_000_000));
                }
                s
            })
            .collect();
        let o = run_snaps(snaps);
        let mut fronts = BTreeSet::new();
        let mut backs = BTreeSet::new();
        for h in &o.hops {
            proptest::prop_assert!(fronts.insert(h.front.transaction), "front twice: {:?}", h.front);
            if let Some(b) = h.back {
                proptest::prop_assert!(backs.insert(b.transaction), "back twice: {b:?}");
            }
        }
    }
}

#[test]
fn one_capture_of_a_proxy_with_two_addresses() {
    // A proxy on two networks, both legs in one capture: X-Forwarded-For ties the first pair,
    // which shows the proxy's upstream address; a later pair from that address with only a
    // Cookie, the target, the User-Agent, status and length in common then pairs too, but the same
    // from an address the proxy was never seen using does not.
    let f_req = [("Host", "a"), ("User-Agent", "u"), ("Cookie", "s=1")];
    let b_xff = [
        ("Host", "a"),
        ("User-Agent", "u"),
        ("Cookie", "s=1"),
        ("X-Forwarded-For", "203.0.113.5"),
    ];
    let (f0, b0) = cross(0, 1000, "GET /a HTTP/1.1", &f_req, &b_xff, (200, 200));
    let (f1, b1) = cross(1, 2000, "GET /b HTTP/1.1", &f_req, &f_req, (200, 200));
    let (f2, mut b2) = cross(2, 3000, "GET /c HTTP/1.1", &f_req, &f_req, (200, 200));
    b2.client = "10.0.0.99:50000";
    let o = run(&[b0, f0, b1, f1, b2, f2]);
    // The third, unpaired, went to a proxy known to forward: answered by itself, as far as
    // the capture shows.
    assert_eq!(
        pairs_of(&o),
        BTreeSet::from([(0, 1), (2, 3), (4, u64::MAX)])
    );
    for h in o.hops.iter().filter(|h| h.back.is_some()) {
        assert_eq!(h.proxy.back_address, Some(ep(BACK_PROXY)));
        assert!(
            h.evidence
                .iter()
                .any(|e| e.contains("another address of the proxy")),
            "{:?}",
            h.evidence
        );
    }
    assert_eq!((o.hops[1].confidence, o.hops[1].score), ("high", 11));
}

// Weaker evidence across captures: a forward proxy (tinyproxy-like) on two hosts that adds
// only `Via`, no request id and no forwarding header.

const FWD_VIA: &str = "1.1 fwd (tinyproxy/1.11.1)";
const VIA_RESP: &[(&str, &str)] = &[("Via", FWD_VIA), ("Content-Type", "text/plain")];
const PLAIN_RESP: &[(&str, &str)] = &[("Content-Type", "text/plain")];
const F_FWD: &[(&str, &str)] = &[("Host", "app.example"), ("User-Agent", "curl/8")];
const B_FWD: &[(&str, &str)] = &[
    ("Host", "app.example"),
    ("Via", FWD_VIA),
    ("User-Agent", "curl/8"),
];

/// A hop through the forward proxy: the client sends `GET http://app.example{path}`, the
/// proxy `GET {path}` with its `Via`, and puts the same `Via` on the response it relays.
fn fwd<'a>(n: u64, t: i64, front_line: &'a str, back_line: &'a str) -> (Side<'a>, Side<'a>) {
    let (mut f, mut b) = cross(n, t, front_line, F_FWD, B_FWD, (200, 200));
    f.resp = VIA_RESP;
    b.resp = PLAIN_RESP;
    b.line = back_line;
    (f, b)
}

#[test]
fn weak_evidence_pairs_a_unique_match_across_captures_and_gives_the_offset() {
    for off in [1_500_000_000, -700_000_000, 42_000_000] {
        let (f0, b0) = fwd(
            0,
            1000,
            "GET http://app.example/a HTTP/1.1",
            "GET /a HTTP/1.1",
        );
        let (f1, mut b1) = fwd(
            1,
            1400,
            "GET http://app.example/b HTTP/1.1",
            "GET /b HTTP/1.1",
        );
        let (f2, b2) = fwd(
            2,
            2000,
            "GET http://app.example/c HTTP/1.1",
            "GET /c HTTP/1.1",
        );
        b1.start_ms += 3;
        b1.end_ms = b1.start_ms + 10;
        let legs = [(f0, 0), (b0, 1), (f1, 0), (b1, 1), (f2, 0), (b2, 1)];
        let (o, clocks) = run_files(&legs, off);
        assert_eq!(
            pairs_of(&o),
            BTreeSet::from([(0, 1), (2, 3), (4, 5)]),
            "{off}"
        );
        for h in &o.hops {
            assert!(
                h.evidence
                    .iter()
                    .any(|e| e.contains("Via the proxy put on the client's response")),
                "{:?}",
                h.evidence
            );
            assert!(
                h.evidence.iter().any(|e| e.contains("unique best match")),
                "{:?}",
                h.evidence
            );
            assert_eq!(h.proxy.back_address, Some(ep(BACK_PROXY)));
            assert!(h.diagnosis.is_empty(), "{:?}", h.diagnosis);
        }
        assert!(o.findings.is_empty(), "{:?}", o.codes());
        let [(0, 1, e)] = clocks[..] else {
            panic!("{clocks:?}")
        };
        assert_eq!((e.support, e.pairs), (3, 3));
        assert!(e.interval.0 <= off && off <= e.interval.1, "{e:?} {off}");
    }
    // The same legs without any sign of a proxy (no Via, an origin-form client target): the
    // same resource is no tie between two captures.
    let (mut f, mut b) = fwd(0, 1000, "GET /a HTTP/1.1", "GET /a HTTP/1.1");
    f.resp = PLAIN_RESP;
    b.req = F_FWD;
    let (o, clocks) = run_files(&[(f, 0), (b, 1)], 300_000_000);
    assert!(o.hops.is_empty(), "{:?}", o.hops[0].evidence);
    assert!(clocks.is_empty());
    // What contradicts it: another status, another origin Date.
    let (f, mut b) = fwd(
        0,
        1000,
        "GET http://app.example/a HTTP/1.1",
        "GET /a HTTP/1.1",
    );
    b.status = Some(304);
    let (o, _) = run_files(&[(f, 0), (b, 1)], 0);
    assert!(o.hops.is_empty(), "{:?}", o.hops[0].evidence);
    let (mut f, mut b) = fwd(
        0,
        1000,
        "GET http://app.example/a HTTP/1.1",
        "GET /a HTTP/1.1",
    );
    f.resp = &[("Via", FWD_VIA), ("ETag", "\"v1\"")];
    b.resp = &[("ETag", "\"v2\"")];
    let (o, _) = run_files(&[(f, 0), (b, 1)], 0);
    assert!(o.hops.is_empty(), "{:?}", o.hops[0].evidence);
}

#[test]
fn a_reverse_proxy_that_adds_nothing_pairs_by_the_response_it_relayed() {
    // nginx's defaults on two hosts: no Via, no forwarding header, `Host` rewritten, HTTP/1.0
    // upstream, its own `Server` and `Date`; the origin's `ETag` and `Last-Modified` relayed.
    let f_req: &[(&str, &str)] = &[("Host", "app.example"), ("User-Agent", "curl/8")];
    let b_req: &[(&str, &str)] = &[
        ("Host", "backend"),
        ("Connection", "close"),
        ("User-Agent", "curl/8"),
    ];
    let f_resp: [&[(&str, &str)]; 2] = [
        &[
            ("Server", "nginx/1.22.1"),
            ("Date", "Tue, 01 Dec 2026 15:58:20 GMT"),
            ("ETag", "W/\"a1\""),
        ],
        &[
            ("Server", "nginx/1.22.1"),
            ("Date", "Tue, 01 Dec 2026 15:58:21 GMT"),
            ("Last-Modified", "Mon, 30 Nov 2026 10:00:00 GMT"),
        ],
    ];
    let b_resp: [&[(&str, &str)]; 2] = [
        &[
            ("Server", "backend/1"),
            ("Date", "Tue, 01 Dec 2026 15:58:18 GMT"),
            ("ETag", "\"a1\""),
        ],
        &[
            ("Server", "backend/1"),
            ("Date", "Tue, 01 Dec 2026 15:58:19 GMT"),
            ("Last-Modified", "Mon, 30 Nov 2026 10:00:00 GMT"),
        ],
    ];
    let lines = [
        ("GET /a.css HTTP/1.1", "GET /a.css HTTP/1.0"),
        ("GET /b.js HTTP/1.1", "GET /b.js HTTP/1.0"),
    ];
    let off = 2_100_000_000;
    let mut legs = Vec::new();
    for i in 0..2 {
        let (mut f, mut b) = cross(
            i as u64,
            1000 + 700 * i as i64,
            lines[i].0,
            f_req,
            b_req,
            (200, 200),
        );
        b.line = lines[i].1;
        f.resp = f_resp[i];
        b.resp = b_resp[i];
        legs.extend([(f, 0), (b, 1)]);
    }
    let (o, clocks) = run_files(&legs, off);
    assert_eq!(pairs_of(&o), BTreeSet::from([(0, 1), (2, 3)]));
    assert!(
        o.hops[0]
            .evidence
            .iter()
            .any(|e| e.contains("downgraded from HTTP/1.1 to HTTP/1.0")),
        "{:?}",
        o.hops[0].evidence
    );
    let [(0, 1, e)] = clocks[..] else {
        panic!("{clocks:?}")
    };
    assert!(e.interval.0 <= off && off <= e.interval.1, "{e:?}");
    // Without the relayed validators (the same `Date` is no more than the same second), the
    // downgrade and the Server are not enough.
    let (mut f, mut b) = cross(0, 1000, "GET /a.css HTTP/1.1", f_req, b_req, (200, 200));
    b.line = "GET /a.css HTTP/1.0";
    f.resp = &[
        ("Server", "nginx/1.22.1"),
        ("Date", "Tue, 01 Dec 2026 15:58:20 GMT"),
    ];
    b.resp = &[
        ("Server", "backend/1"),
        ("Date", "Tue, 01 Dec 2026 15:58:20 GMT"),
    ];
    let (o, _) = run_files(&[(f, 0), (b, 1)], off);
    assert!(o.hops.is_empty(), "{:?}", o.hops[0].evidence);
}

#[test]
fn a_lone_unique_weak_pair_pairs_at_the_end_and_a_tie_does_not() {
    let (f, b) = fwd(
        0,
        1000,
        "GET http://app.example/a HTTP/1.1",
        "GET /a HTTP/1.1",
    );
    let (o, clocks) = run_files(&[(f, 0), (b, 1)], -2_000_000_000);
    assert_eq!(pairs_of(&o), BTreeSet::from([(0, 1)]));
    let [(0, 1, e)] = clocks[..] else {
        panic!("{clocks:?}")
    };
    assert_eq!((e.support, e.pairs), (1, 1));
    // Two client legs for the same resource, one upstream leg that fits both: which is a
    // guess, so neither (and neither is said to be answered by the proxy itself).
    let (f0, b0) = fwd(
        0,
        1000,
        "GET http://app.example/a HTTP/1.1",
        "GET /a HTTP/1.1",
    );
    let (f1, _) = fwd(
        1,
        1500,
        "GET http://app.example/a HTTP/1.1",
        "GET /a HTTP/1.1",
    );
    let (o, clocks) = run_files(&[(f0, 0), (f1, 0), (b0, 1)], 0);
    assert!(o.hops.iter().all(|h| h.back.is_none()), "{:?}", o.hops);
    assert!(clocks.is_empty(), "{clocks:?}");
    assert!(o.findings.is_empty(), "{:?}", o.codes());
}

#[test]
fn identical_repeated_requests_are_not_mispaired_across_captures() {
    let off = 1_234_000_000;
    let line = (
        "GET http://app.example/health HTTP/1.1",
        "GET /health HTTP/1.1",
    );
    // Alone, identical requests are all ties: nothing pairs, no offset.
    let mut legs = Vec::new();
    for i in 0..4 {
        let (f, b) = fwd(i, 1000 + 300 * i as i64, line.0, line.1);
        legs.extend([(f, 0), (b, 1)]);
    }
    let (o, clocks) = run_files(&legs, off);
    assert!(o.hops.iter().all(|h| h.back.is_none()), "{:?}", o.hops);
    assert!(clocks.is_empty(), "{clocks:?}");
    // With two pairs that are unique (their own targets) the offset is known, and the
    // repeated ones are timed by it: each back fits one front only, the true one.
    let (fa, ba) = fwd(
        10,
        500,
        "GET http://app.example/a HTTP/1.1",
        "GET /a HTTP/1.1",
    );
    let (fb, bb) = fwd(
        11,
        2600,
        "GET http://app.example/b HTTP/1.1",
        "GET /b HTTP/1.1",
    );
    legs.extend([(fa, 0), (ba, 1), (fb, 0), (bb, 1)]);
    // Two more that overlap so that both backs fit both fronts, the first client's back
    // being the later one: first in first out would pair them wrong; a tie pairs neither.
    let (f8, mut b8) = fwd(8, 4000, line.0, line.1);
    let (mut f9, mut b9) = fwd(9, 4005, line.0, line.1);
    f9.end_ms = 4105;
    (b8.start_ms, b8.end_ms) = (4012, 4052);
    (b9.start_ms, b9.end_ms) = (4010, 4050);
    legs.extend([(f8, 0), (b8, 1), (f9, 0), (b9, 1)]);
    let (o, clocks) = run_files(&legs, off);
    let got: BTreeSet<(u64, u64)> = pairs_of(&o)
        .into_iter()
        .filter(|p| p.1 != u64::MAX)
        .collect();
    let want: BTreeSet<(u64, u64)> = [0, 1, 2, 3, 10, 11]
        .iter()
        .map(|i| (2 * i, 2 * i + 1))
        .collect();
    assert_eq!(got, want);
    let [(0, 1, e)] = clocks[..] else {
        panic!("{clocks:?}")
    };
    assert!(e.interval.0 <= off && off <= e.interval.1, "{e:?}");
    assert!(o.findings.is_empty(), "{:?}", o.codes());
}

#[test]
fn a_weak_candidate_off_the_offset_the_others_agree_on_is_rejected() {
    let off = -900_000_000;
    let mut legs = Vec::new();
    let (f0, b0) = fwd(
        0,
        1000,
        "GET http://app.example/a HTTP/1.1",
        "GET /a HTTP/1.1",
    );
    let (f1, b1) = fwd(
        1,
        2000,
        "GET http://app.example/b HTTP/1.1",
        "GET /b HTTP/1.1",
    );
    let (f2, b2) = fwd(
        2,
        3000,
        "GET http://app.example/c HTTP/1.1",
        "GET /c HTTP/1.1",
    );
    // Unique by its target, but 3 s off the offset the three others allow: someone else's
    // request for the same resource, not this client's.
    let (f3, mut b3) = fwd(
        3,
        4000,
        "GET http://app.example/d HTTP/1.1",
        "GET /d HTTP/1.1",
    );
    b3.start_ms += 3000;
    b3.end_ms += 3000;
    legs.extend([
        (f0, 0),
        (b0, 1),
        (f1, 0),
        (b1, 1),
        (f2, 0),
        (b2, 1),
        (f3, 0),
        (b3, 1),
    ]);
    let (o, clocks) = run_files(&legs, off);
    let got: BTreeSet<(u64, u64)> = pairs_of(&o)
        .into_iter()
        .filter(|p| p.1 != u64::MAX)
        .collect();
    assert_eq!(got, BTreeSet::from([(0, 1), (2, 3), (4, 5)]));
    let [(0, 1, e)] = clocks[..] else {
        panic!("{clocks:?}")
    };
    assert_eq!(e.support, 3);
    assert!(e.interval.0 <= off && off <= e.interval.1, "{e:?}");
    // Two candidates that disagree and nothing else: no consensus, neither pairs.
    let (f0, b0) = fwd(
        0,
        1000,
        "GET http://app.example/a HTTP/1.1",
        "GET /a HTTP/1.1",
    );
    let (f1, mut b1) = fwd(
        1,
        2000,
        "GET http://app.example/b HTTP/1.1",
        "GET /b HTTP/1.1",
    );
    b1.start_ms += 3000;
    b1.end_ms += 3000;
    let (o, clocks) = run_files(&[(f0, 0), (b0, 1), (f1, 0), (b1, 1)], off);
    assert!(o.hops.iter().all(|h| h.back.is_none()), "{:?}", o.hops);
    assert!(clocks.is_empty(), "{clocks:?}");
}

#[test]
fn too_many_weak_candidates_pair_none_by_weaker_evidence() {
    // The same request thirty times while the offset is unknown: every leg has more
    // candidates than are kept, so none pairs by weaker evidence (and none is guessed).
    let line = (
        "GET http://app.example/health HTTP/1.1",
        "GET /health HTTP/1.1",
    );
    let mut legs = Vec::new();
    for i in 0..30 {
        let (f, b) = fwd(i, 1000 + 150 * i as i64, line.0, line.1);
        legs.extend([(f, 0), (b, 1)]);
    }
    let (o, clocks) = run_files(&legs, 250_000_000);
    assert!(o.hops.iter().all(|h| h.back.is_none()), "{:?}", o.hops);
    assert!(clocks.is_empty(), "{clocks:?}");
    // A bound that holds one candidate: weak pairing stops, and the report says so.
    let (f0, b0) = fwd(0, 1000, line.0, line.1);
    let (f1, b1) = fwd(1, 1300, line.0, line.1);
    let mut c = Correlator::with_memory(40 * size_of::<weak::Weak>() * 3 / 2 + 40);
    let mut out = Out::default();
    for (l, file) in [(b0, 1), (f0, 0), (b1, 1), (f1, 0)] {
        let mut s = l.snap();
        s.file = Some(file);
        c.on_snap(s, &mut out);
    }
    c.finish(&mut out);
    assert!(out.hops.iter().all(|h| h.back.is_none()), "{:?}", out.hops);
    assert!(c.limits.weak_dropped > 0);
    let limit = out
        .findings
        .iter()
        .find(|f| f.code.name == "proxy.correlation-limit")
        .expect("the limit is reported");
    assert!(
        limit.message.contains("weaker evidence"),
        "{}",
        limit.message
    );
}

#[test]
fn distinct_bodies_tell_repeated_requests_apart() {
    // The same URL twice at once (both upstream legs fit both client legs in time): the bodies
    // the proxy relayed, by their digests, say which is which. Without them it is a tie.
    let line = ("GET http://app.example/next HTTP/1.1", "GET /next HTTP/1.1");
    let legs = |digests: [Option<u64>; 2]| {
        let (f0, b0) = fwd(0, 1000, line.0, line.1);
        let (mut f1, mut b1) = fwd(1, 1005, line.0, line.1);
        f1.end_ms = 1105;
        (b1.start_ms, b1.end_ms) = (1012, 1052);
        let mut v = Vec::new();
        for (i, (l, file)) in [(f0, 0), (b0, 1), (f1, 0), (b1, 1)].into_iter().enumerate() {
            let mut s = l.snap();
            if let Some(b) = s.resp_body.as_mut() {
                b.digest = digests[i / 2];
            }
            v.push((s, file));
        }
        v
    };
    let (o, clocks) = run_file_snaps(legs([Some(7), Some(9)]), 400_000_000);
    assert_eq!(pairs_of(&o), BTreeSet::from([(0, 1), (2, 3)]));
    assert!(
        o.hops[0]
            .evidence
            .iter()
            .any(|e| e.contains("same response body (its digest)")),
        "{:?}",
        o.hops[0].evidence
    );
    assert_eq!(clocks.len(), 1);
    let (o, _) = run_file_snaps(legs([None, None]), 400_000_000);
    assert!(o.hops.iter().all(|h| h.back.is_none()), "{:?}", o.hops);
}

#[test]
fn a_competitor_that_left_the_window_leaves_the_tie_undecided() {
    // One client leg, two upstream legs that fit it as well (a tie); the first upstream leg
    // leaves the window for its count bound before the tie is decided: the other must not
    // then look unique.
    let line = ("GET http://app.example/x HTTP/1.1", "GET /x HTTP/1.1");
    let (f, b1) = fwd(0, 1000, line.0, line.1);
    let (_, mut b2) = fwd(1, 1000, line.0, line.1);
    (b2.start_ms, b2.end_ms) = (1003, 1040);
    let mut c = Correlator::default();
    let mut out = Out::default();
    for (l, file) in [(b1, 1), (b2, 1), (f, 0)] {
        let mut s = l.snap();
        s.file = Some(file);
        c.on_snap(s, &mut out);
    }
    // Just enough to push the oldest (the first upstream leg) out.
    let paths: Vec<String> = (0..MAX_WINDOW - 2).map(|i| format!("/fill/{i}")).collect();
    for (i, p) in paths.iter().enumerate() {
        let mut s = Side {
            conn: 10 + i as u64,
            id: 10 + i as u64,
            client: "192.0.2.1:1000",
            server: "192.0.2.2:80",
            line: "GET /fill HTTP/1.1",
            req: &[],
            status: Some(200),
            resp: &[],
            start_ms: 1200,
            end_ms: 1201,
            resp_len: 1,
        }
        .snap();
        s.target = p.clone();
        s.path_at = origin_at(&s.target);
        s.file = Some(0);
        c.on_snap(s, &mut out);
    }
    assert_eq!(c.limits.window_evicted, 1);
    c.finish(&mut out);
    assert!(
        out.hops.iter().all(|h| h.back.is_none()),
        "{:?}",
        out.hops
            .iter()
            .filter(|h| h.back.is_some())
            .map(|h| &h.evidence)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_path_too_popular_to_tell_apart_leaves_the_others_pairing() {
    // More legs for one path than a leg's candidates are looked among: that path is left to
    // the clock, the others still pair by weaker evidence.
    let line = ("GET http://app.example/p HTTP/1.1", "GET /p HTTP/1.1");
    let mut legs = Vec::new();
    for i in 0..(MAX_CANDIDATES as u64 + 8) {
        let (f, b) = fwd(100 + i, 1000 + i as i64, line.0, line.1);
        legs.push((if i % 2 == 0 { f } else { b }, (i % 2) as u32));
    }
    let (fa, ba) = fwd(
        0,
        1500,
        "GET http://app.example/a HTTP/1.1",
        "GET /a HTTP/1.1",
    );
    let (fb, bb) = fwd(
        1,
        1800,
        "GET http://app.example/b HTTP/1.1",
        "GET /b HTTP/1.1",
    );
    legs.extend([(fa, 0), (ba, 1), (fb, 0), (bb, 1)]);
    let (o, clocks) = run_files(&legs, 600_000_000);
    let got: BTreeSet<(u64, u64)> = pairs_of(&o).into_iter().filter(|p| p.0 < 200).collect();
    assert_eq!(got, BTreeSet::from([(0, 1), (2, 3)]));
    assert_eq!(clocks.len(), 1);
    assert!(
        o.findings
            .iter()
            .all(|f| f.code.name != "proxy.correlation-limit"),
        "{:?}",
        o.codes()
    );
}
