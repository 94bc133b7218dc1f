//! Proxy hops on the bundled captures against what the programs logged.
//!
//! `samples/expected.json` → `details.proxy_legs` says, for every client request that crossed
//! a proxy, which upstream request it caused (paired by the clients' own tags, from the
//! client's, the proxy's and the backend's logs, never by hopscope or tshark), and which headers
//! the proxy removed, added and changed. `details.hop_by_hop` says which hop-by-hop fields
//! reached the backend. The correlator must find exactly those pairs, the same header changes,
//! and diagnose exactly what went wrong, and nothing on the captures where nothing did.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;

use crate::common::samples_dir;
use hopscope::analyzers::AnalyzerConfig;
use hopscope::capture::file::FileSource;
use hopscope::engine::EngineConfig;
use hopscope::model::hops::{MessageDiff, ProxyHopRecord};
use hopscope::model::http::TransactionRecord;
use hopscope::model::websocket::WebSocketRecord;
use hopscope::model::{CaptureSummary, Finding, Flow, Record, Sink};
use hopscope::pipeline::{CaptureClock, Pipeline};
use serde_json::Value;

#[derive(Default)]
struct Keep {
    txns: Vec<TransactionRecord>,
    hops: Vec<ProxyHopRecord>,
    ws: Vec<WebSocketRecord>,
    findings: Vec<Finding>,
}

impl Sink for Keep {
    fn record(&mut self, r: Record) -> io::Result<Flow> {
        match r {
            Record::Transaction(t) => self.txns.push(*t),
            Record::ProxyHop(h) => self.hops.push(*h),
            Record::WebSocket(w) => self.ws.push(*w),
            Record::Finding(f) => self.findings.push(*f),
            _ => {}
        }
        Ok(Flow::Continue)
    }
    fn finish(&mut self, _: &CaptureSummary) -> io::Result<()> {
        Ok(())
    }
}

impl Keep {
    fn txn(&self, id: u64) -> &TransactionRecord {
        self.txns
            .iter()
            .find(|t| t.id == id)
            .expect("transaction of a hop")
    }
    /// (client endpoint, index on its connection) of a transaction, as the logs name it.
    fn leg(&self, id: u64) -> (String, u64) {
        let t = self.txn(id);
        (t.client.to_string(), u64::from(t.index))
    }
    fn proxy_codes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.code.name.starts_with("proxy."))
            .map(|f| f.code.name.to_string())
            .collect();
        v.sort();
        v
    }
}

/// The whole pipeline, as `hopscope report` runs it (the correlator sits before the report).
fn analyse(name: &str) -> Keep {
    analyse_with(name, AnalyzerConfig::default())
}

/// The same with the sample's key log (`<stem>.keys`), when it has one.
fn analyse_keyed(name: &str) -> Keep {
    let stem = name.trim_end_matches(".pcapng").trim_end_matches(".pcap");
    let keys = samples_dir().join(format!("{stem}.keys"));
    let mut cfg = AnalyzerConfig::default();
    if keys.exists() {
        cfg.tls.keylogs = vec![keys];
    }
    analyse_with(name, cfg)
}

fn analyse_with(name: &str, cfg: AnalyzerConfig) -> Keep {
    let mut src = FileSource::open(&samples_dir().join(name)).expect("open sample");
    let mut p = Pipeline::new(EngineConfig::default(), cfg, Keep::default());
    let end = p.run(&mut src, &CaptureClock);
    assert!(
        end.capture_error.is_none() && end.sink_error.is_none(),
        "{name}: {end:?}"
    );
    p.into_sink()
}

fn facts() -> Vec<Value> {
    let p = samples_dir().join("expected.json");
    let v: Value = serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json");
    v["captures"].as_array().cloned().expect("captures")
}

fn leg_of(v: &Value) -> (String, u64) {
    (
        v["client"].as_str().unwrap_or_default().to_string(),
        v["index"].as_u64().unwrap_or(u64::MAX),
    )
}

/// Lower-case names of a ground-truth list: names, `[name, value]` pairs or `{name, ...}`.
fn names(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| {
            x.as_str()
                .or_else(|| x.get(0).and_then(Value::as_str))
                .or_else(|| x.get("name").and_then(Value::as_str))
        })
        .map(str::to_ascii_lowercase)
        .collect()
}

fn diff_names(d: &MessageDiff) -> [BTreeSet<String>; 3] {
    let n =
        |l: &Vec<hopscope::model::hops::HeaderChange>| l.iter().map(|c| c.name.clone()).collect();
    [
        n(&d.headers_removed),
        n(&d.headers_added),
        n(&d.headers_changed),
    ]
}

#[test]
fn legs_pair_as_the_programs_logged() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for f in facts() {
        let Some(legs) = f["details"]["proxy_legs"].as_array() else {
            continue;
        };
        let name = f["file"].as_str().unwrap_or_default().to_string();
        let k = analyse(&name);
        // Ours: front leg → (back leg or none, product, the hop).
        let mut ours: BTreeMap<(String, u64), &ProxyHopRecord> = BTreeMap::new();
        for h in &k.hops {
            ours.insert(k.leg(h.front.transaction), h);
        }
        for l in legs {
            checked += 1;
            let front = leg_of(&l["front"]);
            let Some(h) = ours.remove(&front) else {
                problems.push(format!("{name}: no hop for {front:?}"));
                continue;
            };
            let want_back = (!l["back"].is_null()).then(|| leg_of(&l["back"]));
            let got_back = h.back.map(|b| k.leg(b.transaction));
            if want_back != got_back {
                problems.push(format!(
                    "{name}: {front:?} paired with {got_back:?}, logged {want_back:?}"
                ));
                continue;
            }
            let product = l["proxy"].as_str();
            if h.proxy.product.as_deref() != product {
                problems.push(format!(
                    "{name}: {front:?} proxy {:?} ({:?}), logged {product:?}",
                    h.proxy.product, h.proxy.product_from
                ));
            }
            if want_back.is_none() {
                if h.diagnosis != ["proxy.answered-itself"] {
                    problems.push(format!(
                        "{name}: {front:?} answered by the proxy: {:?}",
                        h.diagnosis
                    ));
                }
                continue;
            }
            // The header changes, by name, both ways.
            for (label, d, keys) in [
                (
                    "request",
                    &h.request,
                    ["headers_removed", "headers_added", "headers_changed"],
                ),
                (
                    "response",
                    &h.response,
                    [
                        "response_headers_removed",
                        "response_headers_added",
                        "response_headers_changed",
                    ],
                ),
            ] {
                let got = diff_names(d);
                for (i, key) in keys.iter().enumerate() {
                    let want = names(&l[*key]);
                    if got[i] != want {
                        problems.push(format!(
                            "{name}: {front:?} {label} {key}: got {:?}, logged {want:?}",
                            got[i]
                        ));
                    }
                }
            }
            let version = h.request.version.as_ref().map(|v| v.back.clone());
            let logged = l["version_back"]
                .as_str()
                .filter(|v| Some(*v) != l["version_front"].as_str());
            if version.as_deref() != logged {
                problems.push(format!(
                    "{name}: {front:?} version change {version:?}, logged {logged:?}"
                ));
            }
            if h.confidence == "low" {
                problems.push(format!(
                    "{name}: {front:?} only low confidence: {:?}",
                    h.evidence
                ));
            }
        }
        for (front, h) in ours {
            problems.push(format!(
                "{name}: a hop the logs do not have: {front:?} ({:?})",
                h.evidence
            ));
        }
    }
    assert!(
        checked >= 20,
        "only {checked} logged legs: samples missing?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn chains_link_their_hops() {
    let mut chains = 0;
    for f in facts() {
        let Some(cs) = f["details"]["proxy_chains"].as_array() else {
            continue;
        };
        let name = f["file"].as_str().unwrap_or_default().to_string();
        let k = analyse(&name);
        for c in cs {
            chains += 1;
            let legs: Vec<(String, u64)> = c["hops"]
                .as_array()
                .expect("hops")
                .iter()
                .map(leg_of)
                .collect();
            // Walk from the client's leg along next_hop.
            let mut walked = Vec::new();
            let mut hop = k
                .hops
                .iter()
                .find(|h| k.leg(h.front.transaction) == legs[0]);
            while let Some(h) = hop {
                walked.push(k.leg(h.front.transaction));
                let back = h.back.map(|b| k.leg(b.transaction));
                match h.next_hop {
                    Some(n) => hop = k.hops.iter().find(|x| x.id == n),
                    None => {
                        walked.extend(back);
                        hop = None;
                    }
                }
            }
            assert_eq!(walked, legs, "{name}: chain {}", c["tag"]);
        }
    }
    assert!(chains >= 2, "{chains} chains");
}

#[test]
fn hop_by_hop_leaks_are_the_ones_that_reached_the_backend() {
    let mut checked = 0;
    for f in facts() {
        let Some(probes) = f["details"]["hop_by_hop"].as_array() else {
            continue;
        };
        let name = f["file"].as_str().unwrap_or_default().to_string();
        let k = analyse(&name);
        for p in probes {
            checked += 1;
            let front = leg_of(&p["front"]);
            let h = k
                .hops
                .iter()
                .find(|h| k.leg(h.front.transaction) == front)
                .unwrap_or_else(|| panic!("{name}: no hop for {front:?}"));
            let leaked = names(&p["leaked"]);
            let got: BTreeSet<String> = h
                .request
                .hop_by_hop_forwarded
                .iter()
                .map(|c| c.name.clone())
                .collect();
            assert_eq!(got, leaked, "{name}: {front:?} ({})", p["proxy"]);
            // Each leak is diagnosed on this hop, with the proxy's own way to stop it.
            let txn = h.front.transaction;
            let msgs: Vec<&str> = k
                .findings
                .iter()
                .filter(|x| x.transaction == Some(txn) && x.code.name.starts_with("proxy."))
                .map(|x| x.message.as_str())
                .collect();
            assert_eq!(msgs.len(), leaked.len(), "{name}: {front:?} {msgs:?}");
            if leaked.contains("proxy-authorization") {
                assert!(h.diagnosis.contains(&"proxy.proxy-authorization-forwarded"));
            }
            if leaked.contains("te") {
                assert!(h.diagnosis.contains(&"proxy.te-forwarded"));
            }
            if p["proxy"] == "nginx" {
                assert!(
                    msgs.iter().all(|m| m.contains("proxy_set_header")),
                    "{msgs:?}"
                );
            }
            // The credential is never shown in full.
            let json = serde_json::to_string(h).expect("json");
            assert!(!json.contains("dXNlcjpzZWNyZXQ="), "{json}");
        }
    }
    assert!(checked >= 3);
}

/// The proxy.* findings each capture must give, and no others (the rest: none at all).
const EXPECTED: &[(&str, &[&str])] = &[
    ("websocket-nginx-broken.pcap", &["proxy.upgrade-dropped"]),
    // The client leg alone of a split capture: nginx's refused upgrade, its back leg in another
    // file (split-nginx-ws.back.pcap).
    ("split-nginx-ws.front.pcap", &["proxy.single-leg-hint"]),
    ("split-nginx-nat.client.pcap", &["proxy.single-leg-hint"]),
    (
        "split-nginx-nat.client-skewed.pcap",
        &["proxy.single-leg-hint"],
    ),
    (
        "websocket-nginx-http11-no-upgrade.pcap",
        &["proxy.upgrade-dropped"],
    ),
    (
        "websocket-apache-broken.pcap",
        &["proxy.answered-itself", "proxy.upgrade-dropped"],
    ),
    (
        "http-nginx-keepalive-mix.pcap",
        &["proxy.answered-itself", "proxy.answered-itself"],
    ),
    ("http-proxy-auth.pcap", &["proxy.answered-itself"]),
    (
        "http-proxy-leak.pcap",
        &[
            "proxy.hop-by-hop-forwarded",
            "proxy.hop-by-hop-forwarded",
            "proxy.hop-by-hop-forwarded",
            "proxy.proxy-authorization-forwarded",
            "proxy.proxy-authorization-forwarded",
            "proxy.proxy-authorization-forwarded",
            "proxy.te-forwarded",
        ],
    ),
];

#[test]
fn exactly_the_expected_diagnoses_on_every_sample() {
    let mut problems = Vec::new();
    let mut n = 0;
    for e in fs::read_dir(samples_dir()).expect("samples").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) || name.starts_with("corrupt") {
            continue;
        }
        n += 1;
        let k = analyse(&name);
        let want: Vec<String> = EXPECTED
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, c)| c.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        let got = k.proxy_codes();
        if got != want {
            problems.push(format!("{name}: {got:?}, expected {want:?}"));
        }
    }
    assert!(n >= 40, "{n} samples");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn dropped_upgrades_name_both_legs_and_the_fix() {
    for (name, fix) in [
        (
            "websocket-nginx-broken.pcap",
            "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";",
        ),
        (
            "websocket-nginx-http11-no-upgrade.pcap",
            "proxy_set_header Upgrade $http_upgrade",
        ),
        ("websocket-apache-broken.pcap", "upgrade=websocket"),
    ] {
        let k = analyse(name);
        let h = k
            .hops
            .iter()
            .find(|h| h.diagnosis.contains(&"proxy.upgrade-dropped"))
            .expect("hop");
        let f = k
            .findings
            .iter()
            .find(|f| f.code.name == "proxy.upgrade-dropped")
            .expect("finding");
        let front = k.txn(h.front.transaction);
        let back = k.txn(h.back.expect("back").transaction);
        for t in [front, back] {
            let leg = format!("#{} {} → {}", t.connection, t.client, t.server);
            assert!(
                f.message.contains(&leg),
                "{name}: {leg} not in {}",
                f.message
            );
        }
        assert!(f.message.contains(fix), "{name}: {}", f.message);
        assert_eq!(f.transaction, Some(front.id));
        // The upstream leg's refusal status is in the message.
        let status = back.response.as_ref().expect("response").status.to_string();
        assert!(
            f.message.contains(&format!("answered {status}")),
            "{}",
            f.message
        );
        // Upgrade is gone from the upstream request, and the diff says so.
        assert!(
            h.request
                .headers_removed
                .iter()
                .any(|c| c.name == "upgrade")
        );
    }
}

#[test]
fn working_upgrades_relay_every_message() {
    for name in [
        "websocket-nginx-ok.pcap",
        "websocket-haproxy.pcap",
        "websocket-socks5.pcap",
    ] {
        let k = analyse(name);
        assert_eq!(k.hops.len(), 1, "{name}");
        let h = &k.hops[0];
        assert!(h.diagnosis.is_empty(), "{name}: {:?}", h.diagnosis);
        let front = k.txn(h.front.transaction);
        let back = k.txn(h.back.expect("back").transaction);
        for t in [front, back] {
            assert_eq!(t.response.as_ref().map(|r| r.status), Some(101), "{name}");
        }
        let r = h.relay.as_ref().expect("relay");
        let ws = |id: Option<u64>| {
            k.ws.iter()
                .find(|w| Some(w.id) == id)
                .expect("conversation")
        };
        let (fw, bw) = (ws(r.front_websocket), ws(r.back_websocket));
        assert!(r.one_to_one && r.frames_one_to_one, "{name}: {r:?}");
        assert_eq!(
            r.frames_to_server,
            [fw.client_to_server.frames, bw.client_to_server.frames]
        );
        assert_eq!(
            r.frames_to_client,
            [fw.server_to_client.frames, bw.server_to_client.frames]
        );
        // The counts are the conversations' own.
        let ws = |id: Option<u64>| {
            k.ws.iter()
                .find(|w| Some(w.id) == id)
                .expect("conversation")
        };
        let (fw, bw) = (ws(r.front_websocket), ws(r.back_websocket));
        assert_eq!(fw.handshake.transaction, Some(front.id));
        assert_eq!(bw.handshake.transaction, Some(back.id));
        assert_eq!(
            r.to_server,
            [fw.client_to_server.messages, bw.client_to_server.messages]
        );
        assert!(r.to_server[0] > 0 && r.to_client[0] > 0, "{name}: {r:?}");
    }
}

/// `details.h2_proxy_legs`: each HTTP/2 stream a version-translating proxy (nginx, HTTP/2 in
/// front, HTTP/1.1 upstream) got, and the upstream request it made for it, matched by the
/// `X-Request-ID` nginx added (from nginx's and the backend's logs). The hop of each stream has
/// that upstream leg, the header changes the logs show (pseudo-headers are the request line,
/// `:authority` is `Host`: neither is a dropped header), the statuses and body lengths, and no
/// diagnosis where the logs note nothing wrong.
#[test]
fn h2_streams_pair_across_versions_as_the_proxy_logged() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for f in facts() {
        let Some(legs) = f["details"]["h2_proxy_legs"].as_array() else {
            continue;
        };
        let name = f["file"].as_str().unwrap_or_default().to_string();
        let k = analyse_keyed(&name);
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        for l in legs {
            checked += 1;
            let (client, server) = (text(&l["front"]["client"]), text(&l["front"]["server"]));
            let stream = l["front"]["stream_id"]
                .as_u64()
                .and_then(|x| u32::try_from(x).ok());
            let Some(t) = k.txns.iter().find(|t| {
                t.client.to_string() == client
                    && t.server.to_string() == server
                    && t.stream_id == stream
            }) else {
                problems.push(format!(
                    "{name}: no transaction for {client} stream {stream:?}"
                ));
                continue;
            };
            let at = format!("{name}: {client} stream {}", stream.unwrap_or_default());
            let hop = k.hops.iter().find(|h| h.front.transaction == t.id);
            let notes = l["notes"].as_array().map_or(0, Vec::len);
            let req = t.request.as_ref();
            let resp = t.response.as_ref();
            if req.map(|r| r.body.length) != l["front_request_body_bytes"].as_u64()
                || resp.map(|r| u64::from(r.status)) != l["front_status"].as_u64()
                || resp.map(|r| r.body.length) != l["front_response_body_bytes"].as_u64()
            {
                problems.push(format!("{at}: the stream is not the one logged"));
            }
            if l["back"].is_null() {
                // Answered by the proxy itself: no upstream leg, at most that diagnosis.
                if let Some(h) = hop
                    && (h.back.is_some()
                        || h.diagnosis.iter().any(|d| *d != "proxy.answered-itself"))
                {
                    problems.push(format!(
                        "{at}: logged without an upstream leg: {:?} {:?}",
                        h.back, h.diagnosis
                    ));
                }
                continue;
            }
            let Some(h) = hop else {
                problems.push(format!("{at}: no hop"));
                continue;
            };
            let Some(b) = h.back.map(|b| k.txn(b.transaction)) else {
                problems.push(format!("{at}: no upstream leg"));
                continue;
            };
            let got = (
                b.client.to_string(),
                b.server.to_string(),
                u64::from(b.index),
            );
            let want = (
                text(&l["back"]["client"]),
                text(&l["back"]["server"]),
                l["back"]["index"].as_u64().unwrap_or(u64::MAX),
            );
            if got != want {
                problems.push(format!("{at}: paired with {got:?}, logged {want:?}"));
                continue;
            }
            for (label, d, keys) in [
                ("request", &h.request, ["headers_removed", "headers_added"]),
                (
                    "response",
                    &h.response,
                    ["response_headers_removed", "response_headers_added"],
                ),
            ] {
                let got = diff_names(d);
                for (i, key) in keys.iter().enumerate() {
                    let want = names(&l[*key]);
                    if got[i] != want {
                        problems.push(format!(
                            "{at}: {label} {key}: got {:?}, logged {want:?}",
                            got[i]
                        ));
                    }
                }
            }
            // `Host` made from `:authority`: translated when it names the same host.
            let host = h.request.headers_added.iter().find(|c| c.name == "host");
            let same = l["back_host"] == l["front_authority"];
            let want = if same { "translated" } else { "host-rewritten" };
            if host.is_some_and(|c| c.judgement != want) {
                problems.push(format!(
                    "{at}: host judged {:?}, not {want}",
                    host.map(|c| c.judgement)
                ));
            }
            let br = b.request.as_ref();
            let bs = b.response.as_ref();
            if br.map(|r| r.body.length) != l["back_request_body_bytes"].as_u64()
                || bs.map(|r| u64::from(r.status)) != l["back_status"].as_u64()
                || bs.map(|r| r.body.length) != l["back_response_body_bytes"].as_u64()
            {
                problems.push(format!("{at}: the upstream leg is not the one logged"));
            }
            // Body lengths compared as decoded: a change only where the logs have one.
            let changed = |a: &str, b: &str| l[a] != l[b];
            if h.request.body_length.is_some()
                != changed("front_request_body_bytes", "back_request_body_bytes")
                || h.response.body_length.is_some()
                    != changed("front_response_body_bytes", "back_response_body_bytes")
            {
                problems.push(format!(
                    "{at}: body lengths {:?} {:?}",
                    h.request.body_length, h.response.body_length
                ));
            }
            if h.response.status.is_some() != changed("front_status", "back_status") {
                problems.push(format!("{at}: status change {:?}", h.response.status));
            }
            let version = h
                .request
                .version
                .as_ref()
                .map(|v| (v.front.clone(), v.back.clone()));
            let logged = (text(&l["version_front"]), text(&l["version_back"]));
            if version.as_ref() != Some(&logged).filter(|(a, b)| a != b) {
                problems.push(format!(
                    "{at}: version change {version:?}, logged {logged:?}"
                ));
            }
            if notes == 0 {
                let ours: Vec<&str> = k
                    .findings
                    .iter()
                    .filter(|x| x.transaction == Some(t.id) && x.code.name.starts_with("proxy."))
                    .map(|x| x.code.name)
                    .collect();
                if !h.diagnosis.is_empty() || !ours.is_empty() {
                    problems.push(format!(
                        "{at}: nothing wrong logged, diagnosed {:?} {ours:?}",
                        h.diagnosis
                    ));
                }
            }
        }
        // No other HTTP/2 stream of these captures is paired.
        for h in &k.hops {
            let t = k.txn(h.front.transaction);
            let logged = legs.iter().any(|l| {
                l["front"]["client"].as_str() == Some(t.client.to_string().as_str())
                    && l["front"]["stream_id"].as_u64() == t.stream_id.map(u64::from)
            });
            if t.stream_id.is_some() && !logged {
                problems.push(format!(
                    "{name}: a hop the logs do not have: {} stream {:?}",
                    t.client, t.stream_id
                ));
            }
        }
    }
    assert!(
        checked >= 4,
        "only {checked} logged HTTP/2 legs: samples missing?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
