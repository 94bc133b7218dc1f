//! Scripted conversations through the HTTP analyzer and the semantics step: every finding code
//! of the step is raised here by the rule that names it (the test names carry the section).
#![allow(clippy::unwrap_used)]

use super::*;
use crate::analyzers::http::HttpConfig;
use crate::analyzers::http::conn::{HttpConn, Shared};
use crate::analyzers::layer::{Ids, Layer};
use crate::base::Timestamp;
use crate::engine::Ctx as Delivery;
use crate::model::semantics::HttpSemantics;
use crate::model::{Endpoint, Severity};

/// Tue, 01 Dec 2026 14:40:21 GMT, the time the scripts start.
const T0: i64 = 1_796_136_021;
const DATE: &str = "Tue, 01 Dec 2026 14:40:21 GMT";

struct Lab {
    sh: Shared,
    tunnels: Ids,
    sink: Stepped,
    next_conn: u64,
    /// Packet time, ns.
    t: i64,
    packet: u64,
}

/// The semantics step as the pipeline runs it, keeping what it passes on.
struct Stepped {
    sem: Semantics,
    inner: Vec<Record>,
}

impl RecordSink for Stepped {
    fn record(&mut self, record: Record) {
        self.sem.step(record, &mut self.inner);
    }
}

impl Stepped {
    fn stats(&self) -> crate::model::semantics::SemanticsStats {
        self.sem.stats()
    }
}

fn ep(s: &str) -> Endpoint {
    let (ip, port) = s.rsplit_once(':').unwrap();
    Endpoint {
        ip: ip.trim_matches(['[', ']']).parse().unwrap(),
        port: port.parse().unwrap(),
    }
}

impl Lab {
    fn new() -> Self {
        Self::with(SemanticsConfig::default())
    }

    fn with(cfg: SemanticsConfig) -> Self {
        Lab {
            sh: Shared::new(HttpConfig::default()),
            tunnels: Ids::default(),
            sink: Stepped {
                sem: Semantics::new(cfg),
                inner: Vec::new(),
            },
            next_conn: 0,
            t: T0 * 1_000_000_000,
            packet: 0,
        }
    }

    /// Seconds of packet time pass.
    fn wait(&mut self, secs: i64) {
        self.t += secs * 1_000_000_000;
    }

    /// One connection: each request, then its response; returns the transaction ids.
    fn conn(&mut self, client: &str, server: &str, pairs: &[(&str, &str)]) -> Vec<u64> {
        let id = self.next_conn;
        self.next_conn += 1;
        let mut c = HttpConn::new();
        let mut off = [0u64; 2];
        let before: Vec<u64> = self.ids();
        for (req, resp) in pairs {
            for (d, bytes) in [(0usize, req), (1usize, resp)] {
                if bytes.is_empty() {
                    continue;
                }
                self.t += 1_000_000;
                self.packet += 1;
                let ctx = Delivery {
                    conn: id,
                    dir: if d == 0 {
                        Dir::ClientToServer
                    } else {
                        Dir::ServerToClient
                    },
                    client: ep(client),
                    server: ep(server),
                    ts: Timestamp(self.t),
                    packet: self.packet,
                    midstream: false,
                };
                let switch = c.data(
                    &mut self.sh,
                    &mut self.tunnels,
                    &ctx,
                    off[d],
                    bytes.as_bytes(),
                    &mut self.sink,
                );
                // After a switch (a WebSocket upgrade) HTTP takes nothing more; what it still
                // reports comes when the next protocol has the stream.
                if switch.is_some_and(|sw| sw.keep) {
                    c.handed_over(&mut self.sh, &mut self.tunnels, &ctx, &mut self.sink);
                }
                off[d] += bytes.len() as u64;
            }
        }
        self.packet += 1;
        let ctx = Delivery {
            conn: id,
            dir: Dir::ClientToServer,
            client: ep(client),
            server: ep(server),
            ts: Timestamp(self.t),
            packet: self.packet,
            midstream: false,
        };
        c.close(&mut self.sh, &mut self.tunnels, &ctx, &mut self.sink);
        self.ids()
            .into_iter()
            .filter(|i| !before.contains(i))
            .collect()
    }

    fn ids(&self) -> Vec<u64> {
        self.sink
            .inner
            .iter()
            .filter_map(|r| match r {
                Record::Transaction(t) => Some(t.id),
                _ => None,
            })
            .collect()
    }

    fn txn(&self, id: u64) -> &TransactionRecord {
        self.sink
            .inner
            .iter()
            .find_map(|r| match r {
                Record::Transaction(t) if t.id == id => Some(&**t),
                _ => None,
            })
            .unwrap()
    }

    fn sem(&self, id: u64) -> &HttpSemantics {
        self.txn(id).semantics.as_deref().unwrap()
    }

    fn findings(&self) -> Vec<&Finding> {
        self.sink
            .inner
            .iter()
            .filter_map(|r| match r {
                Record::Finding(f) => Some(&**f),
                _ => None,
            })
            .collect()
    }

    /// Codes of the semantics findings (not the HTTP analyzer's).
    fn codes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .findings()
            .iter()
            .map(|f| f.code.name.to_string())
            .filter(|c| !c.starts_with("http."))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn has(&self, code: &str) -> bool {
        self.codes().iter().any(|c| c == code)
    }

    fn finding(&self, code: &str) -> &Finding {
        self.findings()
            .into_iter()
            .find(|f| f.code.name == code)
            .unwrap_or_else(|| panic!("no {code} in {:?}", self.codes()))
    }
}

fn get(target: &str, extra: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: example.com\r\n{extra}\r\n")
}

fn resp(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nDate: {DATE}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const C: &str = "192.0.2.10:40000";
const S: &str = "198.51.100.1:80";

// ---- cache ---------------------------------------------------------------------------------

#[test]
fn rfc9111_3_and_4_2_a_cacheable_response_then_rfc9110_13_1_2_its_304() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (
                &get("/doc", ""),
                &resp(
                    "200 OK",
                    "Cache-Control: max-age=600, public\r\nETag: \"v1\"\r\nLast-Modified: Tue, 01 Dec 2026 14:00:00 GMT\r\nAge: 30\r\n",
                    "hello",
                ),
            ),
            (
                &get("/doc", "If-None-Match: \"v1\"\r\n"),
                "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
            ),
            (
                &get("/doc", "If-Modified-Since: Tue, 01 Dec 2026 14:00:00 GMT\r\n"),
                "HTTP/1.1 304 Not Modified\r\n\r\n",
            ),
        ],
    );
    let c = lab.sem(ids[0]).cache.as_ref().unwrap();
    assert_eq!(c.storable, Some(true));
    assert_eq!(
        (c.freshness_lifetime, c.freshness_source),
        (Some(600), Some("max-age"))
    );
    assert_eq!(c.current_age, Some(30), "Age plus the delay");
    assert_eq!(c.fresh, Some(true));
    let k = lab
        .sem(ids[1])
        .cache
        .as_ref()
        .unwrap()
        .conditional
        .as_ref()
        .unwrap();
    assert_eq!(
        (k.validator_of, k.linked_by, k.outcome, k.matches),
        (Some(ids[0]), Some("etag"), "not-modified", Some(true))
    );
    let k = lab
        .sem(ids[2])
        .cache
        .as_ref()
        .unwrap()
        .conditional
        .as_ref()
        .unwrap();
    assert_eq!(
        (k.validator_of, k.linked_by),
        (Some(ids[0]), Some("last-modified"))
    );
    assert!(lab.codes().is_empty(), "{:?}", lab.codes());
}

#[test]
fn rfc9110_15_4_5_a_304_with_a_body_and_rfc9110_9_3_2_a_head_response_with_one() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (
                &get("/a", "If-None-Match: \"x\"\r\n"),
                "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\nstray body\r\n",
            ),
            (&get("/b", ""), &resp("200 OK", "", "ok")),
        ],
    );
    let f = lab.finding("cache.body-on-304");
    assert_eq!(f.transaction, Some(ids[0]));
    assert_eq!(f.severity(), Severity::Warning);
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (
                "HEAD /a HTTP/1.1\r\nHost: example.com\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\r\n",
            ),
            (&get("/b", ""), &resp("200 OK", "", "ok")),
        ],
    );
    assert_eq!(lab.finding("cache.body-on-head").transaction, Some(ids[0]));
    assert!(!lab.has("cache.body-on-304"));
}

#[test]
fn rfc9111_5_2_2_conflicting_directives() {
    for cc in [
        "no-store, max-age=60",
        "public, private",
        "max-age=60, max-age=120",
        "no-store, public",
    ] {
        let mut lab = Lab::new();
        lab.conn(
            C,
            S,
            &[(
                &get("/", ""),
                &resp("200 OK", &format!("Cache-Control: {cc}\r\n"), ""),
            )],
        );
        assert!(lab.has("cache.conflicting-directives"), "{cc}");
    }
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(
            &get("/", ""),
            &resp(
                "200 OK",
                "Cache-Control: max-age=60, must-revalidate\r\n",
                "",
            ),
        )],
    );
    assert!(lab.codes().is_empty());
}

#[test]
fn rfc9110_13_1_a_validator_that_matches_no_earlier_response() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (&get("/doc", ""), &resp("200 OK", "ETag: \"v2\"\r\n", "x")),
            (
                &get("/doc", "If-None-Match: \"v1\"\r\n"),
                &resp("200 OK", "ETag: \"v2\"\r\n", "x"),
            ),
            (
                &get("/other", "If-None-Match: \"zz\"\r\n"),
                "HTTP/1.1 304 Not Modified\r\n\r\n",
            ),
        ],
    );
    let f = lab.finding("cache.validator-unmatched");
    assert_eq!(f.transaction, Some(ids[1]));
    assert_eq!(f.severity(), Severity::Info);
    let k = lab
        .sem(ids[1])
        .cache
        .as_ref()
        .unwrap()
        .conditional
        .as_ref()
        .unwrap();
    assert_eq!((k.validator_of, k.outcome), (None, "modified"));
    // Nothing earlier for /other: linked to nothing, no finding (cached before the capture).
    let k = lab
        .sem(ids[2])
        .cache
        .as_ref()
        .unwrap()
        .conditional
        .as_ref()
        .unwrap();
    assert_eq!(k.validator_of, None);
    assert_eq!(
        lab.findings()
            .iter()
            .filter(|f| f.code.name == "cache.validator-unmatched")
            .count(),
        1
    );
}

#[test]
fn rfc9110_13_1_2_a_304_that_does_not_match() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (&get("/doc", ""), &resp("200 OK", "ETag: \"v1\"\r\n", "x")),
            (
                &get("/doc", "If-None-Match: \"v1\"\r\n"),
                "HTTP/1.1 304 Not Modified\r\nETag: \"v9\"\r\n\r\n",
            ),
        ],
    );
    let k = lab
        .sem(ids[1])
        .cache
        .as_ref()
        .unwrap()
        .conditional
        .as_ref()
        .unwrap();
    assert_eq!(k.matches, Some(false));
    assert_eq!(lab.finding("cache.304-mismatch").transaction, Some(ids[1]));
    // If-Modified-Since answered 304 although Last-Modified is later.
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(
            &get(
                "/doc",
                "If-Modified-Since: Tue, 01 Dec 2026 10:00:00 GMT\r\n",
            ),
            "HTTP/1.1 304 Not Modified\r\nLast-Modified: Tue, 01 Dec 2026 12:00:00 GMT\r\n\r\n",
        )],
    );
    assert!(lab.has("cache.304-mismatch"));
}

#[test]
fn rfc9111_4_1_vary_star_and_rfc9111_3_set_cookie_on_a_storable_response() {
    let mut lab = Lab::new();
    lab.conn(C, S, &[(&get("/", ""), &resp("200 OK", "Vary: *\r\n", ""))]);
    assert_eq!(lab.finding("cache.vary-star").severity(), Severity::Info);
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(
            &get("/", ""),
            &resp(
                "200 OK",
                "Cache-Control: public, max-age=300\r\nSet-Cookie: a=b\r\n",
                "",
            ),
        )],
    );
    assert_eq!(
        lab.finding("cache.set-cookie-storable").severity(),
        Severity::Warning
    );
    // Exempted by private, no-cache="Set-Cookie", or no lifetime at all.
    for h in [
        "Cache-Control: private, max-age=300\r\n",
        "Cache-Control: max-age=300, no-cache=\"Set-Cookie\"\r\n",
        "",
    ] {
        let mut lab = Lab::new();
        lab.conn(
            C,
            S,
            &[(
                &get("/", ""),
                &resp("200 OK", &format!("{h}Set-Cookie: a=b\r\n"), ""),
            )],
        );
        assert!(!lab.has("cache.set-cookie-storable"), "{h:?}");
    }
}

#[test]
fn rfc9111_4_2_2_heuristic_freshness_and_rfc9111_3_5_authorization() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (
                &get("/h", ""),
                &resp(
                    "200 OK",
                    "Last-Modified: Tue, 01 Dec 2026 12:40:21 GMT\r\n",
                    "",
                ),
            ),
            (
                &get("/p", "Authorization: Bearer abcdefgh\r\n"),
                &resp("200 OK", "Cache-Control: max-age=60\r\n", ""),
            ),
        ],
    );
    let c = lab.sem(ids[0]).cache.as_ref().unwrap();
    assert_eq!(
        (c.freshness_lifetime, c.freshness_source),
        (Some(720), Some("heuristic"))
    );
    let c = lab.sem(ids[1]).cache.as_ref().unwrap();
    assert_eq!(c.storable, Some(false));
    assert!(c.storable_reason.as_deref().unwrap().contains("§3.5"));
}

// ---- ranges --------------------------------------------------------------------------------

#[test]
fn rfc9110_14_4_a_206_whose_body_disagrees_with_content_range() {
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(
            &get("/f", "Range: bytes=0-99\r\n"),
            &resp(
                "206 Partial Content",
                "Content-Range: bytes 0-99/1000\r\n",
                "only fifty bytes of it......................",
            ),
        )],
    );
    assert_eq!(
        lab.finding("range.length-mismatch").severity(),
        Severity::Error
    );
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(
            &get("/f", "Range: bytes=0-9\r\n"),
            &resp("206 Partial Content", "", "0123456789"),
        )],
    );
    assert!(lab.has("range.content-range-missing"));
}

#[test]
fn rfc9110_14_2_a_206_with_bytes_not_asked_for() {
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(
            &get("/f", "Range: bytes=0-9\r\n"),
            &resp(
                "206 Partial Content",
                "Content-Range: bytes 500-509/1000\r\n",
                "0123456789",
            ),
        )],
    );
    assert!(lab.has("range.not-requested"));
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(
            &get("/f", ""),
            &resp(
                "206 Partial Content",
                "Content-Range: bytes 0-9/1000\r\n",
                "0123456789",
            ),
        )],
    );
    assert!(lab.has("range.not-requested"), "206 without Range");
}

#[test]
fn rfc9110_15_5_17_a_416_for_a_satisfiable_range() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (
                &get("/f", "Range: bytes=10-20\r\n"),
                &resp(
                    "416 Range Not Satisfiable",
                    "Content-Range: bytes */1000\r\n",
                    "",
                ),
            ),
            (
                &get("/f", "Range: bytes=5000-\r\n"),
                &resp(
                    "416 Range Not Satisfiable",
                    "Content-Range: bytes */1000\r\n",
                    "",
                ),
            ),
        ],
    );
    assert_eq!(
        lab.finding("range.416-satisfiable").transaction,
        Some(ids[0])
    );
    assert_eq!(lab.sem(ids[1]).range.as_ref().unwrap().matches, Some(true));
}

#[test]
fn rfc9110_13_1_5_if_range_mismatch_restarts_the_download() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[(
            &get("/f", "Range: bytes=100-\r\nIf-Range: \"old\"\r\n"),
            &resp("200 OK", "ETag: \"new\"\r\n", "whole"),
        )],
    );
    let r = lab.sem(ids[0]).range.as_ref().unwrap();
    assert_eq!(r.outcome, "ignored");
    let f = lab.finding("range.ignored");
    assert!(f.message.contains("restarts"), "{}", f.message);
}

#[test]
fn rfc9110_14_a_cut_download_resumed_into_one_object_and_a_changed_one() {
    let mut lab = Lab::new();
    // The first transfer is cut by the connection end (Content-Length 10, 4 bytes sent).
    let a = lab.conn(
        C,
        S,
        &[(
            &get("/big", ""),
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"e1\"\r\n\r\n0123",
        )],
    );
    let b = lab.conn(
        C,
        S,
        &[(
            &get("/big", "Range: bytes=4-\r\nIf-Range: \"e1\"\r\n"),
            &resp(
                "206 Partial Content",
                "Content-Range: bytes 4-9/10\r\nETag: \"e1\"\r\n",
                "456789",
            ),
        )],
    );
    let r = lab.sem(b[0]).range.as_ref().unwrap();
    assert_eq!(r.if_range_matches, Some(true));
    let o = r.object.as_ref().unwrap();
    assert_eq!(
        o.pieces
            .iter()
            .map(|p| (p.transaction, p.first, p.last))
            .collect::<Vec<_>>(),
        vec![(a[0], 0, 3), (b[0], 4, 9)]
    );
    assert!(o.complete && o.covered == 10);
    assert!(!lab.has("range.object-changed"));
    // A later piece of another version of the file.
    lab.conn(
        C,
        S,
        &[(
            &get("/big", "Range: bytes=0-1\r\n"),
            &resp(
                "206 Partial Content",
                "Content-Range: bytes 0-1/12\r\nETag: \"e2\"\r\n",
                "ab",
            ),
        )],
    );
    assert!(lab.has("range.object-changed"));
}

// ---- cookies -------------------------------------------------------------------------------

#[test]
fn rfc6265bis_5_7_set_cookie_findings() {
    let mut lab = Lab::new();
    lab.conn(
        "127.0.0.1:40000",
        "127.0.0.1:8000",
        &[(
            "GET /s HTTP/1.1\r\nHost: localhost:8000\r\n\r\n",
            &resp(
                "200 OK",
                "Set-Cookie: a=1; SameSite=None\r\nSet-Cookie: __Host-x=1; Domain=localhost; Path=/; Secure\r\nSet-Cookie: __Secure-y=1\r\nSet-Cookie: PHPSESSID=abcdef123456; Path=/\r\nSet-Cookie: d=1; Domain=other.example\r\n",
                "",
            ),
        )],
    );
    for code in [
        "cookie.samesite-none-without-secure",
        "cookie.host-prefix-with-domain",
        "cookie.prefix-violation",
        "cookie.session-without-httponly",
        "cookie.rejected",
        "cookie.cleartext",
    ] {
        assert!(lab.has(code), "{code} in {:?}", lab.codes());
    }
    assert_eq!(lab.finding("cookie.rejected").severity(), Severity::Info);
    assert_eq!(
        lab.finding("cookie.cleartext").severity(),
        Severity::Warning
    );
}

#[test]
fn rfc6265bis_5_8_3_which_cookies_come_back_and_why_not() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (
                &get("/app/login", ""),
                &resp(
                    "200 OK",
                    "Set-Cookie: sid=s3cr3tvalue; Path=/; HttpOnly\r\nSet-Cookie: adm=1; Path=/admin\r\nSet-Cookie: sec=1; Secure\r\nSet-Cookie: short=1; Max-Age=5\r\nSet-Cookie: wide=1; Domain=example.com\r\n",
                    "",
                ),
            ),
        ],
    );
    lab.wait(10);
    let later = lab.conn(
        C,
        S,
        &[(
            &get("/app/x", "Cookie: sid=s3cr3tvalue; wide=1; old=7\r\n"),
            &resp("200 OK", "", ""),
        )],
    );
    let set = &lab.sem(ids[0]).cookies.as_ref().unwrap().set;
    let stored: Vec<(&str, bool)> = set.iter().map(|s| (s.name.as_str(), s.stored)).collect();
    assert_eq!(
        stored,
        vec![
            ("sid", true),
            ("adm", true),
            ("sec", false),
            ("short", true),
            ("wide", true)
        ]
    );
    let ck = lab.sem(later[0]).cookies.as_ref().unwrap();
    let sent: Vec<(&str, Option<u64>)> = ck
        .sent
        .iter()
        .map(|s| (s.name.as_str(), s.set_by))
        .collect();
    assert_eq!(
        sent,
        vec![("sid", Some(ids[0])), ("wide", Some(ids[0])), ("old", None)]
    );
    let why: Vec<(&str, &str)> = ck
        .not_sent
        .iter()
        .map(|n| (n.name.as_str(), n.reason.as_ref()))
        .collect();
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(
        why[0].0 == "adm" && why[0].1.starts_with("Path=/admin"),
        "{why:?}"
    );
    assert!(
        why[1].0 == "short" && why[1].1.starts_with("expired"),
        "{why:?}"
    );
    assert!(
        why[2].0 == "sec" && why[2].1.contains("Secure cookie set over plain HTTP"),
        "{why:?}"
    );
    // Values never appear in full.
    let json = serde_json::to_string(&lab.sink.inner).unwrap();
    assert!(!json.contains("s3cr3tvalue"), "{json}");
}

#[test]
fn rfc6265bis_5_8_3_1_samesite_on_a_cross_site_browser_request() {
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(&get("/", ""), &resp("200 OK", "Set-Cookie: lax=1; SameSite=Lax\r\nSet-Cookie: none=1; SameSite=None; Secure\r\nSet-Cookie: plain=1\r\n", ""))],
    );
    let ids = lab.conn(
        C,
        S,
        &[(
            &get(
                "/api",
                "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\nCookie: x=1\r\n",
            ),
            &resp("200 OK", "", ""),
        )],
    );
    let ck = lab.sem(ids[0]).cookies.as_ref().unwrap();
    let why: Vec<&str> = ck.not_sent.iter().map(|n| n.reason.as_ref()).collect();
    assert!(why.iter().any(|w| w.starts_with("SameSite=Lax")), "{why:?}");
    assert!(why.iter().any(|w| w.starts_with("no SameSite")), "{why:?}");
    // A client that keeps what browsers refuse (curl ignores SameSite and Secure rules).
    let ids = lab.conn(
        C,
        S,
        &[(&get("/", "Cookie: none=1\r\n"), &resp("200 OK", "", ""))],
    );
    let ck = lab.sem(ids[0]).cookies.as_ref().unwrap();
    assert!(ck.sent[0].set_by.is_some());
    assert!(
        ck.notes.iter().any(|n| n.contains("browsers refuse")),
        "{:?}",
        ck.notes
    );
}

#[test]
fn rfc7239_behind_a_tls_terminating_proxy_secure_cookies_stay_and_the_origin_is_the_same() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (
                &get("/", "X-Forwarded-Proto: https\r\n"),
                &resp("200 OK", "Set-Cookie: s=1; Secure; HttpOnly\r\n", ""),
            ),
            (
                "POST /api HTTP/1.1\r\nHost: example.com\r\nOrigin: https://example.com\r\nCookie: s=1\r\nContent-Length: 0\r\n\r\n",
                &resp("200 OK", "", ""),
            ),
        ],
    );
    let set = &lab.sem(ids[0]).cookies.as_ref().unwrap().set;
    assert!(set[0].stored && set[0].rejected.is_none());
    assert!(
        lab.sem(ids[1]).cors.is_none(),
        "same origin behind the proxy"
    );
    assert!(!lab.has("cookie.rejected") && !lab.has("cors.origin-not-allowed"));
}

// ---- CORS ----------------------------------------------------------------------------------

fn options(target: &str, origin: &str, method: &str, headers: &str) -> String {
    format!(
        "OPTIONS {target} HTTP/1.1\r\nHost: api.example\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: {method}\r\n{}\r\n",
        if headers.is_empty() {
            String::new()
        } else {
            format!("Access-Control-Request-Headers: {headers}\r\n")
        }
    )
}

#[test]
fn fetch_cors_preflight_then_request_paired() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (
                &options("/item", "http://app.example", "PUT", "content-type"),
                "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: http://app.example\r\nAccess-Control-Allow-Methods: GET, PUT\r\nAccess-Control-Allow-Headers: Content-Type\r\nVary: Origin\r\n\r\n",
            ),
            (
                "PUT /item HTTP/1.1\r\nHost: api.example\r\nOrigin: http://app.example\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                &resp("200 OK", "Access-Control-Allow-Origin: http://app.example\r\nVary: Origin\r\nX-Total: 3\r\n", ""),
            ),
        ],
    );
    let p = lab.sem(ids[0]).cors.as_ref().unwrap();
    assert_eq!((p.kind, p.decision), ("preflight", "allowed"));
    let r = lab.sem(ids[1]).cors.as_ref().unwrap();
    assert_eq!(
        (r.kind, r.decision, r.preflight),
        ("request", "allowed", Some(ids[0]))
    );
    assert!(
        r.not_exposed.contains(&"X-Total".to_string()),
        "{:?}",
        r.not_exposed
    );
    assert!(lab.codes().is_empty(), "{:?}", lab.codes());
}

#[test]
fn fetch_cors_every_blocking_reason() {
    // (request, response, code)
    let cases: Vec<(String, String, &str)> = vec![
        (
            get("/x", "Origin: http://app.example\r\n"),
            resp("200 OK", "", ""),
            "cors.origin-not-allowed",
        ),
        (
            get("/x", "Origin: http://app.example\r\n"),
            resp(
                "200 OK",
                "Access-Control-Allow-Origin: http://evil.example\r\nVary: Origin\r\n",
                "",
            ),
            "cors.origin-not-allowed",
        ),
        (
            get("/x", "Origin: http://app.example\r\nCookie: s=1\r\n"),
            resp(
                "200 OK",
                "Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Credentials: true\r\n",
                "",
            ),
            "cors.wildcard-with-credentials",
        ),
        (
            get(
                "/x",
                "Origin: http://app.example\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Storage-Access: none\r\n",
            ),
            resp(
                "200 OK",
                "Access-Control-Allow-Origin: http://app.example\r\nVary: Origin\r\n",
                "",
            ),
            "cors.credentials-not-allowed",
        ),
        (
            options("/x", "http://app.example", "DELETE", ""),
            resp(
                "204 No Content",
                "Access-Control-Allow-Origin: http://app.example\r\nAccess-Control-Allow-Methods: GET, POST\r\n",
                "",
            ),
            "cors.method-not-allowed",
        ),
        (
            options("/x", "http://app.example", "GET", "x-custom"),
            resp(
                "204 No Content",
                "Access-Control-Allow-Origin: http://app.example\r\n",
                "",
            ),
            "cors.header-not-allowed",
        ),
        (
            options("/x", "http://app.example", "PUT", ""),
            resp(
                "403 Forbidden",
                "Access-Control-Allow-Origin: http://app.example\r\nAccess-Control-Allow-Methods: PUT\r\n",
                "",
            ),
            "cors.preflight-not-ok",
        ),
    ];
    for (q, r, code) in cases {
        let mut lab = Lab::new();
        let ids = lab.conn(C, S, &[(&q, &r)]);
        assert_eq!(
            lab.sem(ids[0]).cors.as_ref().unwrap().decision,
            "blocked",
            "{code}"
        );
        let f = lab.finding(code);
        assert_eq!(f.severity(), Severity::Warning);
        assert!(f.message.contains("blocks"), "{}", f.message);
    }
    // Same origin: no CORS at all.
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[(
            &get("/x", "Origin: http://example.com\r\n"),
            &resp("200 OK", "", ""),
        )],
    );
    assert!(
        lab.txn(ids[0])
            .semantics
            .as_ref()
            .is_none_or(|s| s.cors.is_none())
    );
}

#[test]
fn fetch_cors_and_http_caches_vary_origin() {
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(
            &get("/x", "Origin: http://app.example\r\n"),
            &resp(
                "200 OK",
                "Access-Control-Allow-Origin: http://app.example\r\n",
                "",
            ),
        )],
    );
    assert!(lab.has("cors.missing-vary-origin"));
}

#[test]
fn rfc6455_10_2_websocket_upgrades_and_their_origin() {
    let up = |origin: &str| {
        format!(
            "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
        )
    };
    let ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    let mut lab = Lab::new();
    let ids = lab.conn(C, S, &[(&up("http://evil.example"), ok)]);
    let w = lab.sem(ids[0]).cors.as_ref().unwrap();
    assert_eq!((w.kind, w.decision), ("websocket", "accepted"));
    assert_eq!(
        lab.finding("cors.websocket-any-origin").severity(),
        Severity::Info
    );
    // A server seen refusing another Origin does check it.
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(&up("http://evil.example"), &resp("403 Forbidden", "", ""))],
    );
    lab.conn(C, S, &[(&up("http://friend.example"), ok)]);
    assert!(!lab.has("cors.websocket-any-origin"));
}

// ---- authentication ------------------------------------------------------------------------

#[test]
fn rfc9110_11_6_challenge_retry_outcome() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[
            (
                &get("/p", ""),
                &resp(
                    "401 Unauthorized",
                    "WWW-Authenticate: Basic realm=\"r\"\r\n",
                    "",
                ),
            ),
            (
                &get("/p", "Authorization: Basic d3Jvbmc6cGFzcw==\r\n"),
                &resp(
                    "401 Unauthorized",
                    "WWW-Authenticate: Basic realm=\"r\"\r\n",
                    "",
                ),
            ),
            (
                &get("/p", "Authorization: Basic dXNlcjpwYXNz\r\n"),
                &resp("200 OK", "", ""),
            ),
        ],
    );
    let a = lab.sem(ids[1]).auth.as_ref().unwrap();
    assert_eq!((a.answers, a.outcome.as_ref()), (Some(ids[0]), "rejected"));
    let a = lab.sem(ids[2]).auth.as_ref().unwrap();
    assert_eq!((a.answers, a.outcome.as_ref()), (Some(ids[1]), "accepted"));
    assert_eq!(lab.finding("auth.retry-rejected").transaction, Some(ids[1]));
    let json = serde_json::to_string(&lab.sink.inner).unwrap();
    assert!(
        !json.contains("dXNlcjpwYXNz") && !json.contains("d3Jvbmc6cGFzcw"),
        "credentials leak"
    );
}

#[test]
fn rfc9110_15_5_2_and_rfc7617_2_challenge_problems() {
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[
            (&get("/a", ""), &resp("401 Unauthorized", "", "")),
            (
                &get("/b", ""),
                &resp("401 Unauthorized", "WWW-Authenticate: Basic\r\n", ""),
            ),
            (
                &get("/b", "Authorization: Bearer tokentokentoken\r\n"),
                &resp("200 OK", "", ""),
            ),
        ],
    );
    assert_eq!(
        lab.finding("auth.missing-challenge").severity(),
        Severity::Warning
    );
    assert_eq!(
        lab.finding("auth.basic-without-realm").severity(),
        Severity::Info
    );
    assert_eq!(
        lab.finding("auth.scheme-not-offered").severity(),
        Severity::Info
    );
}

#[test]
fn rfc9110_11_7_proxy_challenge_answered_on_another_connection() {
    let mut lab = Lab::new();
    let a = lab.conn(
        C,
        "198.51.100.9:3128",
        &[(
            "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
            &resp(
                "407 Proxy Authentication Required",
                "Proxy-Authenticate: Basic realm=\"proxy\"\r\n",
                "",
            ),
        )],
    );
    let b = lab.conn(
        C,
        "198.51.100.9:3128",
        &[("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n", &resp("200 OK", "", ""))],
    );
    let x = lab.sem(b[0]).auth.as_ref().unwrap();
    assert_eq!((x.answers, x.outcome.as_ref()), (Some(a[0]), "accepted"));
    assert_eq!(
        x.credentials.as_ref().unwrap().header,
        "Proxy-Authorization"
    );
}

// ---- redirects -----------------------------------------------------------------------------

#[test]
fn rfc9110_15_4_chains_method_changes_and_loops() {
    let mut lab = Lab::new();
    let post =
        |t: &str| format!("POST {t} HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1\r\n\r\nx");
    let ids = lab.conn(
        C,
        S,
        &[
            (&post("/a"), &resp("302 Found", "Location: /b\r\n", "")),
            (
                &get("/b", ""),
                &resp(
                    "307 Temporary Redirect",
                    "Location: http://example.com/c\r\n",
                    "",
                ),
            ),
            (&post("/c"), &resp("200 OK", "", "")),
        ],
    );
    let r = lab.sem(ids[2]).redirect.as_ref().unwrap();
    assert_eq!((r.chain, r.hop, r.from), (ids[0], 2, Some(ids[1])));
    assert_eq!(r.hops.len(), 3);
    assert_eq!(
        lab.finding("redirect.post-to-get").severity(),
        Severity::Info
    );
    assert_eq!(
        lab.finding("redirect.method-changed").transaction,
        Some(ids[2])
    );
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[
            (&get("/x", ""), &resp("302 Found", "Location: /y\r\n", "")),
            (&get("/y", ""), &resp("302 Found", "Location: /x\r\n", "")),
            (&get("/x", ""), &resp("302 Found", "Location: /y\r\n", "")),
        ],
    );
    assert_eq!(
        lab.findings()
            .iter()
            .filter(|f| f.code.name == "redirect.loop")
            .count(),
        1
    );
    let mut lab = Lab::new();
    lab.conn(
        C,
        S,
        &[(&get("/x", ""), &resp("301 Moved Permanently", "", ""))],
    );
    assert!(lab.has("redirect.missing-location"));
}

// ---- bounds --------------------------------------------------------------------------------

#[test]
fn every_table_is_bounded_and_says_so_once() {
    let cfg = SemanticsConfig {
        validators: 1,
        range_objects: 1,
        cookie_jars: 1,
        cookies_per_jar: 1,
        preflights: 1,
        websocket_servers: 1,
        challenges: 1,
        redirects: 1,
        once: 1,
    };
    let mut lab = Lab::with(cfg);
    for i in 0..3 {
        let client = format!("192.0.2.{}:4000", 20 + i);
        lab.conn(
            &client,
            &format!("198.51.100.{}:80", 20 + i),
            &[
                (&get(&format!("/v{i}"), ""), &resp("200 OK", "ETag: \"e\"\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n", "")),
                (&get(&format!("/r{i}"), "Range: bytes=0-0\r\n"), &resp("206 Partial Content", "Content-Range: bytes 0-0/5\r\n", "x")),
                (&options(&format!("/o{i}"), "http://app.example", "PUT", ""), &resp("204 No Content", "Access-Control-Allow-Origin: http://app.example\r\nAccess-Control-Allow-Methods: PUT\r\n", "")),
                (&get(&format!("/a{i}"), ""), &resp("401 Unauthorized", "WWW-Authenticate: Basic realm=\"r\"\r\n", "")),
                (&get(&format!("/d{i}"), ""), &resp("302 Found", &format!("Location: /e{i}\r\n"), "")),
                (
                    "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://x.example\r\n\r\n",
                    "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
                ),
            ],
        );
    }
    for code in [
        "cache.state-limit",
        "range.state-limit",
        "cookie.state-limit",
        "cors.state-limit",
        "auth.state-limit",
        "redirect.state-limit",
    ] {
        let n = lab
            .findings()
            .iter()
            .filter(|f| f.code.name == code)
            .count();
        assert_eq!(n, 1, "{code} once, in {:?}", lab.codes());
    }
    let st = lab.sink.stats();
    let e = &st.evicted;
    assert!(e.validators >= 2 && e.range_objects >= 2 && e.cookie_jars >= 2 && e.cookies >= 1);
    assert!(e.preflights >= 2 && e.challenges >= 2 && e.redirects >= 2 && e.websocket_servers >= 2);
}

#[test]
fn semantics_absent_when_nothing_applies() {
    let mut lab = Lab::new();
    let ids = lab.conn(
        C,
        S,
        &[(
            "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        )],
    );
    assert!(lab.txn(ids[0]).semantics.is_none());
    assert!(lab.codes().is_empty());
}

// ---- never panics --------------------------------------------------------------------------

mod arbitrary {
    use super::*;
    use proptest::prelude::*;

    const REQ_FIELDS: &[&str] = &[
        "Cookie",
        "Cache-Control",
        "Pragma",
        "If-None-Match",
        "If-Modified-Since",
        "If-Range",
        "Range",
        "Origin",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
        "Authorization",
        "Proxy-Authorization",
        "Sec-Fetch-Site",
        "Sec-Fetch-Mode",
        "X-Forwarded-Proto",
        "Forwarded",
    ];
    const RESP_FIELDS: &[&str] = &[
        "Set-Cookie",
        "Cache-Control",
        "Expires",
        "Age",
        "Date",
        "ETag",
        "Last-Modified",
        "Vary",
        "Content-Range",
        "Content-Type",
        "Location",
        "WWW-Authenticate",
        "Proxy-Authenticate",
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Credentials",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Expose-Headers",
        "Access-Control-Max-Age",
    ];
    const STATUSES: &[&str] = &[
        "200 OK",
        "206 Partial Content",
        "304 Not Modified",
        "302 Found",
        "401 Unauthorized",
        "407 Proxy Authentication Required",
        "416 Range Not Satisfiable",
        "204 No Content",
        "101 Switching Protocols",
    ];
    const METHODS: &[&str] = &["GET", "HEAD", "POST", "OPTIONS", "PUT"];
    /// Value pieces that reach the parsers' corners.
    const PIECES: &[&str] = &[
        "bytes=",
        "0-",
        "-5",
        "18446744073709551615",
        "99999999999999999999",
        ",",
        ";",
        "=",
        "\"",
        "W/\"x\"",
        "*",
        "max-age=",
        "no-store",
        "private",
        "public",
        "Secure",
        "HttpOnly",
        "SameSite=None",
        "Domain=.",
        "Path=",
        "__Host-",
        "__Secure-",
        "Max-Age=-1",
        "Expires=",
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "bytes */",
        "bytes 5-",
        "/",
        "..",
        "?",
        "#",
        "//",
        "http://",
        "https://a",
        "[::1]",
        ":",
        "@",
        "Basic",
        " realm=",
        "Negotiate ",
        "…(",
        " more bytes masked)",
        "multipart/byteranges; boundary=",
        "é",
        "\t",
        " ",
    ];

    fn value() -> impl Strategy<Value = String> {
        proptest::collection::vec(0..PIECES.len(), 0..8)
            .prop_map(|v| v.into_iter().map(|i| PIECES[i]).collect::<String>())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn arbitrary_semantic_fields_never_panic(
            exchanges in proptest::collection::vec(
                (
                    0..METHODS.len(),
                    0..STATUSES.len(),
                    proptest::collection::vec((0..REQ_FIELDS.len(), value()), 0..6),
                    proptest::collection::vec((0..RESP_FIELDS.len(), value()), 0..6),
                    value(),
                ),
                1..6,
            ),
        ) {
            let mut lab = Lab::with(SemanticsConfig { validators: 2, range_objects: 2, cookie_jars: 2, cookies_per_jar: 2, preflights: 2, websocket_servers: 2, challenges: 2, redirects: 2, once: 2 });
            let pairs: Vec<(String, String)> = exchanges
                .iter()
                .map(|(m, st, q, r, body)| {
                    let mut req = format!("{} /{} HTTP/1.1\r\nHost: h.example\r\n", METHODS[*m], body.replace([' ', '\t', '\r', '\n'], ""));
                    for (f, v) in q {
                        req.push_str(&format!("{}: {}\r\n", REQ_FIELDS[*f], v));
                    }
                    req.push_str("\r\n");
                    let mut resp = format!("HTTP/1.1 {}\r\n", STATUSES[*st]);
                    for (f, v) in r {
                        resp.push_str(&format!("{}: {}\r\n", RESP_FIELDS[*f], v));
                    }
                    resp.push_str(&format!("Content-Length: {}\r\n\r\n{}", body.len(), body));
                    (req, resp)
                })
                .collect();
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            lab.conn(C, S, &refs);
            lab.conn(C, S, &refs);
            prop_assert!(!lab.ids().is_empty());
            // Everything serializes.
            prop_assert!(serde_json::to_string(&lab.sink.inner).is_ok());
        }
    }
}

/// A response's `date` is its own Date's text whether Dates repeat, change, come back or are
/// missing (the text of the Date read last is reused while it stays the same).
#[test]
fn each_response_has_its_own_date_text() {
    let mut lab = Lab::new();
    let dates = [
        Some("Mon, 01 Jan 2024 00:00:00 GMT"),
        Some("Mon, 01 Jan 2024 00:00:00 GMT"),
        None,
        Some("Mon, 01 Jan 2024 00:00:01 GMT"),
        Some("Mon, 01 Jan 2024 00:00:00 GMT"),
        Some("not a date"),
        Some("not a date"),
    ];
    let msgs: Vec<(String, String)> = dates
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let date = d.map_or(String::new(), |d| format!("Date: {d}\r\n"));
            (
                get(&format!("/d{i}"), ""),
                format!(
                    "HTTP/1.1 200 OK\r\n{date}Cache-Control: max-age=60\r\nContent-Length: 0\r\n\r\n"
                ),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = msgs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let ids = lab.conn(C, S, &pairs);
    assert_eq!(ids.len(), dates.len());
    for (i, d) in dates.iter().enumerate() {
        let c = lab.sem(ids[i]).cache.as_ref().unwrap();
        assert_eq!(c.date.as_deref(), *d, "{i}");
    }
}
