//! The semantics step on the bundled captures against what the software itself did
//! (`samples/expected.json` → `details`): nginx's validators and the 304s it sent, the
//! ranges and the file curl assembled with `-C -`, the cookies curl's jar stored and sent
//! back, the Basic challenge and retry, the redirect chains curl followed, the CORS decisions
//! (the Fetch rules on the recorded headers for curl's requests, and what headless Chromium
//! actually decided). And no secret of those captures in any output.
//!
//! The same concerns over HTTP/2 (`h2-semantics-curl.pcap`: curl `--http2` over TLS 1.3 with
//! its key log, against nginx alone) are checked by the same functions on the same keys of the
//! facts: there every fact that names a request by its `index` on the connection also names its
//! `stream_id` and `client`, and the transaction found by the index must carry that stream id.
//! Where HTTP/2 differs on purpose: the origin is `:authority`, not `Host` (RFC 9113 §8.3.1),
//! and a client may split its cookies over several `cookie` fields, which are one Cookie header
//! joined with "; " (RFC 9113 §8.2.3; curl 7.88 sends one field).

use std::fs;

use crate::common::*;
use base64::Engine as _;
use hopscope::analyzers::AnalyzerConfig;
use hopscope::model::TransactionRecord;
use hopscope::model::semantics::HttpSemantics;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn details(file: &str) -> Value {
    let p = samples_dir().join("expected.json");
    let v: Value =
        serde_json::from_str(&fs::read_to_string(p).expect("expected.json")).expect("json");
    v["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .find(|c| c["file"] == file)
        .map(|c| c["details"].clone())
        .expect("listed")
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn sem(t: &TransactionRecord) -> &HttpSemantics {
    t.semantics
        .as_deref()
        .unwrap_or_else(|| panic!("#{} has no semantics", t.id))
}

/// A sample run with the key log its client wrote (`NAME.keys`) when there is one.
fn run_sample(file: &str, bodies: bool) -> AppRun {
    let stem = file.trim_end_matches(".pcapng").trim_end_matches(".pcap");
    let keys = samples_dir().join(format!("{stem}.keys"));
    let mut cfg = AnalyzerConfig::default();
    if keys.exists() {
        cfg.tls.keylogs = vec![keys];
    }
    if bodies {
        cfg.http.preview = 4 << 20;
    }
    run_app(&samples_dir().join(file), cfg)
}

/// The transaction a fact names: the fact's `index` on its `client`'s connection (HTTP/2
/// facts), or on connection `conn` (the HTTP/1.1 facts name no client); an HTTP/2 fact's
/// `stream_id` must be that transaction's.
fn at<'a>(run: &'a AppRun, conn: u64, f: &Value) -> &'a TransactionRecord {
    let index = f["index"].as_u64().expect("index");
    let conn = match f["client"].as_str() {
        Some(client) => {
            run.transactions
                .iter()
                .find(|t| t.client.to_string() == client)
                .unwrap_or_else(|| panic!("no transaction from {client}"))
                .connection
        }
        None => conn,
    };
    let t = on_conn(run, conn, index);
    if let Some(sid) = f["stream_id"].as_u64() {
        assert_eq!(t.stream_id.map(u64::from), Some(sid), "#{index} on {conn}");
    }
    t
}

/// The transaction at `index` on connection `conn`.
fn on_conn(run: &AppRun, conn: u64, index: u64) -> &TransactionRecord {
    run.transactions
        .iter()
        .find(|t| t.connection == conn && u64::from(t.index) == index)
        .unwrap_or_else(|| panic!("no transaction #{index} on connection {conn}"))
}

fn by_request<'a>(run: &'a AppRun, method: &str, target: &str) -> Vec<&'a TransactionRecord> {
    run.transactions
        .iter()
        .filter(|t| {
            t.request
                .as_ref()
                .is_some_and(|r| r.method == method && r.target == target)
        })
        .collect()
}

fn one<'a>(run: &'a AppRun, method: &str, target: &str) -> &'a TransactionRecord {
    let v = by_request(run, method, target);
    assert_eq!(v.len(), 1, "{method} {target}");
    v[0]
}

fn sha(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn body(t: &TransactionRecord) -> Vec<u8> {
    let b = &t.response.as_ref().expect("response").body;
    if let Some(p) = &b.preview {
        return p.as_bytes().to_vec();
    }
    b.preview_b64
        .as_ref()
        .map(|p| {
            base64::engine::general_purpose::STANDARD
                .decode(p)
                .expect("b64")
        })
        .unwrap_or_default()
}

// ---- caching and ranges: nginx + curl ------------------------------------------------------

#[test]
fn rfc9111_nginx_validators_and_the_304s_linked_to_the_response_that_carried_them() {
    check_validators_and_304s("http-cache-range.pcap");
}

/// HTTP/2: the same validators and 304s on curl's streams 3 and 5 (of connection 40861).
#[test]
fn rfc9111_over_h2_nginx_validators_and_the_304s_linked_to_the_response_that_carried_them() {
    check_validators_and_304s("h2-semantics-curl.pcap");
}

fn check_validators_and_304s(file: &str) {
    let d = details(file);
    let run = run_sample(file, false);
    let v = &d["validators"];
    // The HTTP/1.1 facts name no request: theirs is the capture's first.
    let first = match v.get("index") {
        Some(_) => at(&run, 0, v),
        None => on_conn(&run, 0, 0),
    };
    let c = sem(first).cache.as_ref().expect("cache");
    assert_eq!(c.etag.as_deref(), Some(s(&v["etag"])));
    assert_eq!(c.last_modified.as_deref(), Some(s(&v["last_modified"])));
    assert_eq!(c.expires.as_deref(), Some(s(&v["expires"])));
    let cc: Vec<String> = c
        .response_directives
        .iter()
        .map(|x| match &x.value {
            Some(v) => format!("{}={v}", x.name),
            None => x.name.to_string(),
        })
        .collect();
    let want: Vec<&str> = v["cache_control"]
        .as_array()
        .expect("cache_control")
        .iter()
        .map(s)
        .collect();
    assert_eq!(cc, want);
    // max-age wins over Expires (one hour after Date, too); public: a shared cache stores it.
    let max_age = want
        .iter()
        .find_map(|x| x.strip_prefix("max-age="))
        .and_then(|x| x.parse::<u64>().ok());
    assert!(max_age.is_some(), "{want:?}");
    assert_eq!(c.storable, Some(true));
    assert_eq!(
        (c.freshness_lifetime, c.freshness_source),
        (max_age, Some("max-age"))
    );
    assert_eq!(c.fresh, Some(true));
    let conds = d["conditional"].as_array().expect("conditional");
    assert_eq!(conds.len(), 2);
    for k in conds {
        let t = at(&run, first.connection, k);
        assert_eq!(
            t.response.as_ref().map(|r| u64::from(r.status)),
            k["status"].as_u64()
        );
        let cond = sem(t)
            .cache
            .as_ref()
            .and_then(|c| c.conditional.as_ref())
            .expect("conditional");
        let (sent, by) = match s(&k["header"]) {
            "if-none-match" => (cond.if_none_match.as_deref(), "etag"),
            _ => (cond.if_modified_since.as_deref(), "last-modified"),
        };
        assert_eq!(sent, Some(s(&k["value"])));
        assert_eq!(cond.validator_of, Some(first.id), "linked to the first 200");
        assert_eq!(cond.linked_by, Some(by));
        assert_eq!(cond.outcome, "not-modified");
        assert_eq!(cond.matches, Some(true), "nginx's 304 matches");
    }
    assert!(
        !run.codes().iter().any(|c| c.starts_with("cache.")),
        "{:?}",
        run.codes()
    );
}

#[test]
fn rfc9110_14_ranges_against_content_range_and_the_requested_ranges() {
    check_ranges("http-cache-range.pcap", None);
}

/// HTTP/2: a single range and an unsatisfiable one (streams 7 and 11).
#[test]
fn rfc9110_14_over_h2_ranges_against_content_range_and_the_requested_ranges() {
    check_ranges("h2-semantics-curl.pcap", Some(false));
}

/// HTTP/2: two ranges answered 206 multipart/byteranges in stream 9's DATA frames.
#[test]
fn rfc9110_14_over_h2_multipart_byteranges_parts_against_the_requested_ranges() {
    check_ranges("h2-semantics-curl.pcap", Some(true));
}

/// `multipart`: only the multipart answers (Some(true)), only the others (Some(false)), all.
fn check_ranges(file: &str, multipart: Option<bool>) {
    let d = details(file);
    let run = run_sample(file, false);
    let ranges: Vec<&Value> = d["ranges"]
        .as_array()
        .expect("ranges")
        .iter()
        .filter(|r| multipart.is_none_or(|m| r.get("multipart").is_some() == m))
        .collect();
    assert!(!ranges.is_empty());
    for r in ranges {
        let t = at(&run, 0, r);
        let g = sem(t).range.as_ref().expect("range");
        assert_eq!(g.request.as_deref(), Some(s(&r["range"])));
        let status = r["status"].as_u64();
        if let Some(mp) = r.get("multipart") {
            assert_eq!(g.outcome, "multipart");
            let parts = mp["parts"].as_array().expect("parts");
            assert_eq!(g.parts.len(), parts.len());
            for (got, want) in g.parts.iter().zip(parts) {
                assert_eq!(
                    got.content_range.as_deref(),
                    Some(s(&want["content_range"]))
                );
                assert_eq!(Some(got.offset), want["body_offset"].as_u64());
                assert_eq!(Some(got.length), want["bytes"].as_u64());
                assert!(got.matches);
            }
            assert_eq!(g.matches, Some(true));
            continue;
        }
        let cr = g.content_range.expect("content range");
        let p = &r["content_range_parsed"];
        assert_eq!(cr.complete_length, p["complete_length"].as_u64());
        if p["unsatisfied"].as_bool() == Some(true) {
            assert_eq!(status, Some(416));
            assert_eq!(g.outcome, "unsatisfiable");
            assert!(cr.unsatisfied);
            assert_eq!(
                g.matches,
                Some(true),
                "{} is beyond the file: a right 416",
                s(&r["range"])
            );
        } else {
            assert_eq!(g.outcome, "partial");
            assert_eq!(
                (cr.first, cr.last),
                (p["first"].as_u64(), p["last"].as_u64())
            );
            assert_eq!(g.delivered_bytes, r["body_bytes"].as_u64());
            assert_eq!(
                g.matches,
                Some(r["equals_file_range"].as_bool() == Some(true))
            );
        }
    }
    assert!(
        !run.codes().iter().any(|c| c.starts_with("range.")),
        "{:?}",
        run.codes()
    );
}

#[test]
fn rfc9110_14_the_resumed_download_is_one_object_equal_to_the_file_curl_wrote() {
    let d = details("http-cache-range.pcap");
    let resume = &d["resume"];
    let run = run_app_bodies(&samples_dir().join("http-cache-range.pcap"));
    let pieces = resume["pieces"].as_array().expect("pieces");
    let last = on_conn(
        &run,
        0,
        pieces
            .last()
            .and_then(|p| p["index"].as_u64())
            .expect("index"),
    );
    let o = sem(last)
        .range
        .as_ref()
        .and_then(|r| r.object.as_ref())
        .expect("object");
    assert_eq!(o.pieces.len(), pieces.len());
    assert_eq!(o.complete_length, resume["file_bytes"].as_u64());
    assert!(o.complete);
    assert_eq!(Some(o.covered), resume["file_bytes"].as_u64());
    // Assemble the object from the pieces' bodies at their offsets: curl's file.
    let mut file = vec![0u8; o.complete_length.unwrap_or(0) as usize];
    for (p, want) in o.pieces.iter().zip(pieces) {
        let t = run
            .transactions
            .iter()
            .find(|t| t.id == p.transaction)
            .expect("piece");
        assert_eq!(Some(u64::from(t.index)), want["index"].as_u64());
        let b = body(t);
        assert_eq!(sha(&b), s(&want["sha256"]));
        file[p.first as usize..=p.last as usize].copy_from_slice(&b);
    }
    assert_eq!(sha(&file), s(&resume["file_sha256"]));
    assert_eq!(sha(&file), s(&resume["client_file_sha256"]));
}

// ---- cookies, auth, redirects: curl + http.server ------------------------------------------

#[test]
fn rfc6265bis_the_cookies_curl_stored_and_sent_back() {
    check_cookies("http-cookies-auth-redirect.pcap");
}

/// HTTP/2: nginx's Set-Cookie fields on /cookies/set (one field each, as on HTTP/1.1) and the
/// cookie field curl's jar sends back on the next streams; the origin is `:authority`
/// (https://localhost:8443), so the Secure cookies are stored and sent over TLS.
#[test]
fn rfc6265bis_over_h2_the_cookies_curl_stored_and_sent_back() {
    check_cookies("h2-semantics-curl.pcap");
}

/// The transaction `sent_on[i]` (or `not_sent_on[i]`) of a cookie fact names: by index on
/// the connection, and on HTTP/2 the same list's stream ids (`sent_on_streams`).
fn sent_at<'a>(
    run: &'a AppRun,
    conn: u64,
    f: &Value,
    list: &str,
    i: usize,
) -> &'a TransactionRecord {
    let index = f[list][i].as_u64().expect("index");
    let t = on_conn(run, conn, index);
    if let Some(sid) = f[format!("{list}_streams")][i].as_u64() {
        assert_eq!(t.stream_id.map(u64::from), Some(sid), "{list} #{index}");
    }
    t
}

fn check_cookies(file: &str) {
    let d = details(file);
    let run = run_sample(file, false);
    let ck = &d["cookies"];
    let set_txn = one(&run, "GET", "/cookies/set");
    let conn = set_txn.connection;
    let set = &sem(set_txn).cookies.as_ref().expect("cookies").set;
    let facts = ck["set_cookies"].as_array().expect("set_cookies");
    assert_eq!(set.len(), facts.len());
    for f in facts {
        let name = s(&f["name"]);
        let got = set.iter().find(|x| x.name == name).expect(name);
        assert_eq!(
            got.stored,
            f["stored_by_curl"].as_bool() == Some(true),
            "{name}: stored"
        );
        if let Some(j) = f["jar_entry"].as_object() {
            assert_eq!(
                got.secure,
                j["secure"].as_bool() == Some(true),
                "{name}: secure"
            );
            assert_eq!(
                got.http_only,
                j["httponly"].as_bool() == Some(true),
                "{name}: httponly"
            );
            assert_eq!(
                got.path.as_deref().unwrap_or("/"),
                j["path"].as_str().unwrap_or_default(),
                "{name}: path"
            );
        } else {
            assert!(got.rejected.is_some(), "{name}: why curl refused it");
        }
        for i in 0..f["sent_on"].as_array().expect("sent_on").len() {
            let t = sent_at(&run, conn, f, "sent_on", i);
            let c = sem(t).cookies.as_ref().expect("cookies");
            let sent = c.sent.iter().find(|x| x.name == name).expect(name);
            assert_eq!(sent.set_by, Some(set_txn.id), "{name} set by /cookies/set");
        }
        for i in 0..f["not_sent_on"].as_array().expect("not_sent_on").len() {
            let t = sent_at(&run, conn, f, "not_sent_on", i);
            let c = sem(t).cookies.as_ref().expect("cookies");
            let why = c
                .not_sent
                .iter()
                .find(|x| x.name == name)
                .unwrap_or_else(|| panic!("{name} not listed as not sent on #{}", t.index));
            let want = if name == "adminonly" {
                "Path=/admin"
            } else {
                "rejected"
            };
            assert!(why.reason.contains(want), "{name}: {}", why.reason);
        }
    }
    for r in ck["requests"].as_array().expect("requests") {
        let t = at(&run, conn, r);
        assert_eq!(
            t.request.as_ref().map(|q| q.target.as_str()),
            Some(s(&r["target"]))
        );
        let names: Vec<&str> = t
            .semantics
            .as_deref()
            .and_then(|x| x.cookies.as_ref())
            .map(|c| c.sent.iter().map(|x| x.name.as_str()).collect())
            .unwrap_or_default();
        let want: Vec<&str> = r["names"]
            .as_array()
            .expect("names")
            .iter()
            .map(s)
            .collect();
        assert_eq!(names, want, "{}", s(&r["target"]));
    }
}

#[test]
fn rfc7617_the_basic_challenge_the_retry_that_answered_it_and_its_outcome() {
    check_basic_auth("http-cookies-auth-redirect.pcap");
}

/// HTTP/2: nginx's auth_basic answers curl's first stream 401 (www-authenticate Basic
/// realm="x"); curl --anyauth retries on the next stream with authorization: Basic (200).
#[test]
fn rfc7617_over_h2_the_basic_challenge_the_retry_that_answered_it_and_its_outcome() {
    check_basic_auth("h2-semantics-curl.pcap");
}

fn check_basic_auth(file: &str) {
    let d = details(file);
    let run = run_sample(file, false);
    let facts = d["auth"].as_array().expect("auth");
    let txns = by_request(&run, "GET", s(&facts[0]["target"]));
    assert_eq!(txns.len(), facts.len());
    let challenge = txns[0];
    for (t, f) in txns.iter().zip(facts) {
        if f["stream_id"].is_u64() {
            assert_eq!(at(&run, 0, f).id, t.id);
        }
        assert_eq!(
            t.response.as_ref().map(|r| u64::from(r.status)),
            f["status"].as_u64()
        );
        let a = sem(t).auth.as_ref().expect("auth");
        let offered: Vec<String> = a
            .challenges
            .iter()
            .map(|c| {
                format!(
                    "{} realm=\"{}\"",
                    c.scheme,
                    c.realm.as_deref().unwrap_or("")
                )
            })
            .collect();
        let want: Vec<&str> = f["www_authenticate"]
            .as_array()
            .expect("challenges")
            .iter()
            .map(s)
            .collect();
        assert_eq!(offered, want);
        match f["authorization"].as_str() {
            None => assert_eq!(a.outcome, "challenged"),
            Some(v) => {
                let scheme = v.split(' ').next().unwrap_or_default();
                assert_eq!(
                    a.credentials.as_ref().map(|c| c.scheme.as_str()),
                    Some(scheme)
                );
                assert_eq!(a.answers, Some(challenge.id));
                assert_eq!(a.outcome, "accepted");
            }
        }
    }
}

#[test]
fn rfc9110_15_4_the_redirect_chains_curl_followed() {
    check_redirect_chains("http-cookies-auth-redirect.pcap");
}

/// HTTP/2: the chains curl -L followed are streams of one connection each (nginx's `return`
/// answers the POSTs before their bodies and resets the streams with NO_ERROR).
#[test]
fn rfc9110_15_4_over_h2_the_redirect_chains_curl_followed() {
    check_redirect_chains("h2-semantics-curl.pcap");
}

fn check_redirect_chains(file: &str) {
    let d = details(file);
    let run = run_sample(file, false);
    let mut looping = 0;
    for chain in d["redirect_chains"].as_array().expect("chains") {
        let client = s(&chain["client"]);
        let hops = chain["hops"].as_array().expect("hops");
        let txns: Vec<&TransactionRecord> = run
            .transactions
            .iter()
            .filter(|t| t.client.to_string() == client)
            .collect();
        assert_eq!(txns.len(), hops.len(), "{client}");
        let start = txns[0].id;
        for (i, (t, h)) in txns.iter().zip(hops).enumerate() {
            if h["stream_id"].is_u64() {
                assert_eq!(at(&run, 0, h).id, t.id);
            }
            let q = t.request.as_ref().expect("request");
            assert_eq!(q.method, s(&h["method"]));
            assert_eq!(q.target, s(&h["target"]));
            let r = sem(t).redirect.as_ref().expect("redirect");
            assert_eq!((r.chain, r.hop as usize), (start, i), "{client} hop {i}");
            assert_eq!(r.hops.len(), i + 1);
            assert_eq!(r.location.as_deref(), h["location"].as_str());
            // the next hop is in the capture (the facts have it): no note may say otherwise
            if i + 1 < hops.len() {
                assert!(
                    !r.notes.iter().any(|n| n.contains("not in the capture")),
                    "{client} hop {i}: {:?}",
                    r.notes
                );
            }
            if i > 0 {
                assert_eq!(r.from, Some(txns[i - 1].id));
                let before = s(&hops[i - 1]["method"]);
                let status = hops[i - 1]["status"].as_u64();
                let change = r.method_change.as_deref().unwrap_or("");
                if before != q.method {
                    assert_eq!(status, Some(303), "only the 303 changed the method");
                    assert!(change.contains("303"), "{change}");
                }
            }
        }
        let looped = hops
            .iter()
            .skip(1)
            .all(|h| h["target"] == hops[0]["target"]);
        let last = sem(txns[txns.len() - 1])
            .redirect
            .as_ref()
            .expect("redirect");
        assert_eq!(last.is_loop, looped, "{client}");
        looping += usize::from(looped);
    }
    let loops = run
        .findings
        .iter()
        .filter(|f| f.code.name == "redirect.loop")
        .count();
    assert!(looping > 0, "the sample has a loop");
    assert_eq!(loops, looping, "each loop reported once");
}

// ---- CORS ----------------------------------------------------------------------------------

#[test]
fn fetch_cors_decisions_on_curls_requests_equal_the_recorded_facts() {
    check_cors_of_curls_requests("http-cookies-auth-redirect.pcap");
}

/// HTTP/2: the preflights (OPTIONS with origin and access-control-request-method) and the
/// requests answered by nginx's add_header; the origin header is a field like any other.
#[test]
fn fetch_cors_over_h2_decisions_on_curls_requests_equal_the_recorded_facts() {
    check_cors_of_curls_requests("h2-semantics-curl.pcap");
}

fn check_cors_of_curls_requests(file: &str) {
    let d = details(file);
    let run = run_sample(file, false);
    let mut preflight_of_put = None;
    for f in d["cors"].as_array().expect("cors") {
        let t = one(&run, s(&f["method"]), s(&f["target"]));
        if f["stream_id"].is_u64() {
            assert_eq!(at(&run, 0, f).id, t.id);
        }
        let c = sem(t).cors.as_ref().expect("cors");
        let kind = if s(&f["kind"]) == "preflight" {
            "preflight"
        } else {
            "request"
        };
        assert_eq!(c.kind, kind);
        assert_eq!(c.origin, s(&f["origin"]));
        // HTTP/2's :status is no header field a script could be denied
        assert!(
            c.not_exposed.iter().all(|h| !h.starts_with(':')),
            "{:?}",
            c.not_exposed
        );
        assert_eq!(
            c.decision,
            s(&f["browser_decision"]),
            "{} {}",
            s(&f["method"]),
            s(&f["target"])
        );
        assert_eq!(
            c.credentials == "include",
            f["credentialed"].as_bool() == Some(true)
        );
        assert_eq!(
            c.reasons.is_empty(),
            f["reasons"].as_array().is_none_or(|r| r.is_empty())
        );
        if kind == "preflight" {
            assert_eq!(
                c.request_method.as_deref(),
                f["access_control_request_method"].as_str()
            );
            if f["access_control_request_method"] == "PUT" {
                preflight_of_put = Some(t.id);
            }
        }
        if s(&f["method"]) == "PUT" {
            assert_eq!(
                c.preflight, preflight_of_put,
                "the PUT follows its preflight"
            );
        }
    }
}

#[test]
fn fetch_cors_decisions_equal_what_headless_chromium_decided() {
    let d = details("browser-cors.pcap");
    let run = run_app(&samples_dir().join("browser-cors.pcap"), Default::default());
    let path = |name: &str| match name {
        "allowed" => "/api/allowed",
        "denied" => "/api/denied",
        _ => "/api/cred",
    };
    let mut checked = 0;
    for case in d["cors_browser_cases"].as_array().expect("cases") {
        let name = s(&case["name"]);
        let target = path(name);
        let preflights = by_request(&run, "OPTIONS", target);
        let actual = by_request(&run, "GET", target);
        assert_eq!(
            !preflights.is_empty(),
            case["preflight_sent"].as_bool() == Some(true),
            "{name}"
        );
        assert_eq!(
            !actual.is_empty(),
            case["actual_request_sent"].as_bool() == Some(true),
            "{name}"
        );
        // The browser's decision is on the last exchange it made for the fetch.
        let decisive = actual.first().or(preflights.first()).expect("an exchange");
        let c = sem(decisive).cors.as_ref().expect("cors");
        assert_eq!(c.decision, s(&case["browser_decision"]), "{name}");
        if let Some(p) = preflights.first() {
            let pc = sem(p).cors.as_ref().expect("cors");
            assert_eq!(pc.kind, "preflight");
            if let Some(a) = actual.first() {
                assert_eq!(
                    sem(a).cors.as_ref().and_then(|c| c.preflight),
                    Some(p.id),
                    "{name}"
                );
            }
        }
        match case["console_reason"].as_str() {
            Some(console) => {
                // Chromium: "Access to fetch at '...' from origin '...' has been blocked by
                // CORS policy: <reason>".
                let reason = console.split("CORS policy: ").nth(1).expect("reason");
                assert_eq!(
                    c.reasons.iter().map(|r| r.as_ref()).collect::<Vec<_>>(),
                    vec![reason],
                    "{name}"
                );
            }
            None => assert!(c.reasons.is_empty(), "{name}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 3);
    // The credentialed fetch carried no cookie (none for 127.0.0.2): the evidence is the
    // Sec-Fetch-Storage-Access header Chromium sends only in credentials mode include.
    let cred = one(&run, "GET", "/api/cred");
    let c = sem(cred).cors.as_ref().expect("cors");
    assert_eq!(c.credentials, "include");
    assert!(
        c.credentials_evidence
            .unwrap_or_default()
            .starts_with("Sec-Fetch-Storage-Access")
    );
}

// ---- secrets -------------------------------------------------------------------------------

#[test]
fn no_cookie_value_or_credential_appears_unmasked_in_any_output() {
    check_no_secret_in_any_output("http-cookies-auth-redirect.pcap");
}

/// HTTP/2: the same cookies and credentials, decrypted with the key log and HPACK-decoded.
#[test]
fn no_cookie_value_or_credential_over_h2_appears_unmasked_in_any_output() {
    check_no_secret_in_any_output("h2-semantics-curl.pcap");
}

fn check_no_secret_in_any_output(file: &str) {
    let d = details(file);
    let mut secrets: Vec<String> = d["cookies"]["set_cookies"]
        .as_array()
        .expect("set_cookies")
        .iter()
        .map(|c| s(&c["value"]).to_string())
        .filter(|v| v.len() >= 5)
        .collect();
    for a in d["auth"].as_array().expect("auth") {
        if let Some(v) = a["authorization"].as_str() {
            secrets.push(v.split(' ').nth(1).unwrap_or_default().to_string());
        }
        if let Some(v) = a["decoded"].as_str() {
            secrets.push(v.to_string());
        }
    }
    assert!(secrets.len() >= 5, "{secrets:?}");
    let stem = file.trim_end_matches(".pcap");
    let keys = format!("samples/{stem}.keys");
    let keys_exist = samples_dir().join(format!("{stem}.keys")).exists();
    for format in ["json", "ndjson", "text"] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("SSLKEYLOGFILE")
            .args(["report", &format!("samples/{file}"), "--format", format]);
        if keys_exist {
            cmd.args(["--tls-keylog", &keys]);
        }
        let out = cmd.output().expect("run");
        assert!(out.status.success(), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        // The text report shows no header values: "masked" is there only in the cleartext
        // findings (which a capture over TLS has not).
        if format != "text" || !keys_exist {
            assert!(text.contains("masked"), "{format}");
        }
        // the exchanges are there (decrypted), so the absence of the secrets means something
        assert!(text.contains("/cookies/set"), "{format}");
        for sec in &secrets {
            assert!(!text.contains(sec.as_str()), "{format}: {sec} appears");
        }
    }
}

/// Issue 19: one server, two names. curl's jar (its names are in the sample's facts, written
/// from the jar file curl kept) got its cookies from http://localhost:8001; the request to
/// http://127.0.0.1:8001, the same address and port, carried none of them, and every one is
/// explained as set for another name; the request to localhost again carried them back.
#[test]
fn rfc6265bis_cookies_set_by_localhost_are_not_sent_to_127_0_0_1_and_say_why() {
    let file = "http-cookies-two-names.pcap";
    let shows = s(&sample_fact(file)["shows"]).to_string();
    let jar: Vec<String> = shows
        .split("curl's jar then holds (domain, name): ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .expect("the jar in the facts")
        .split(", ")
        .filter_map(|e| e.split_whitespace().nth(1).map(str::to_string))
        .collect();
    assert_eq!(jar.len(), 10, "{jar:?}");
    let run = run_sample(file, false);
    let by_ip = on_conn(&run, 1, 0);
    let host = |t: &TransactionRecord| {
        t.request
            .as_ref()
            .and_then(|r| r.headers.get("host"))
            .map(|h| String::from_utf8_lossy(h).into_owned())
    };
    assert_eq!(host(by_ip).as_deref(), Some("127.0.0.1:8001"));
    let c = sem(by_ip).cookies.as_ref().expect("cookies");
    assert!(c.sent.is_empty());
    for name in &jar {
        let n = c
            .not_sent
            .iter()
            .find(|n| &n.name == name)
            .unwrap_or_else(|| panic!("{name} not explained: {:?}", c.not_sent));
        assert!(
            n.reason.contains("same server 127.0.0.1:8001") && n.reason.contains("localhost"),
            "{name}: {}",
            n.reason
        );
        assert_eq!(n.set_by, Some(0));
    }
    // Back to localhost: what curl sent is what the jar holds for /cookies/check.
    let by_name = on_conn(&run, 2, 0);
    assert_eq!(host(by_name).as_deref(), Some("localhost:8001"));
    let c = sem(by_name).cookies.as_ref().expect("cookies");
    let sent: Vec<&str> = c.sent.iter().map(|x| x.name.as_str()).collect();
    for name in &jar {
        assert!(
            sent.contains(&name.as_str()) || name == "adminonly",
            "{name} not sent to localhost: {sent:?}"
        );
    }
    assert!(
        c.not_sent.iter().all(|n| !n.reason.contains("same server")),
        "{:?}",
        c.not_sent
    );
}
