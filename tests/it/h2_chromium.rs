//! A browser page over HTTP/2 (`h2-chromium.pcap`): headless Chromium's own NetLog of its
//! streams (`details.chromium_netlog`: stream id, the header lists it sent and received, the
//! DATA bytes) and the page's own output against hopscope's transactions, decrypted with the
//! key log Chromium wrote. nginx's view of the same streams (`details.h2_connections`) is
//! checked by `http2::every_logged_stream_of_the_h2_samples_is_a_transaction`.

use std::fs;

use crate::common::*;
use hopscope::analyzers::AnalyzerConfig;
use hopscope::model::http::{Headers, TransactionRecord};
use serde_json::Value;

const FILE: &str = "h2-chromium.pcap";

fn details() -> Value {
    let p = samples_dir().join("expected.json");
    let v: Value = serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json");
    v["captures"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["file"] == FILE).cloned())
        .expect("listed")["details"]
        .clone()
}

fn run() -> AppRun {
    let mut cfg = AnalyzerConfig::default();
    cfg.tls.keylogs = vec![samples_dir().join("h2-chromium.keys")];
    run_app(&samples_dir().join(FILE), cfg)
}

/// A header list as `[name, value]` pairs, in order, pseudo-header fields included.
fn pairs(h: &Headers) -> Vec<(String, String)> {
    h.iter()
        .map(|x| (x.name_str().into_owned(), x.value_str().into_owned()))
        .collect()
}

fn logged(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("header list")
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap_or_default().to_string(),
                p[1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn on_stream<'a>(run: &'a AppRun, client: &str, id: u64) -> &'a TransactionRecord {
    run.transactions
        .iter()
        .find(|t| t.client.to_string() == client && t.stream_id.map(u64::from) == Some(id))
        .unwrap_or_else(|| panic!("{client} stream {id} is no transaction"))
}

/// Every stream Chromium's NetLog shows is a transaction with the header lists Chromium sent
/// and received (HPACK-decoded, in order, with the pseudo-header fields) and its DATA bytes.
#[test]
fn chromiums_netlog_streams_are_the_transactions_with_their_header_lists() {
    let d = details();
    let run = run();
    let sessions = d["chromium_netlog"]["sessions"]
        .as_array()
        .expect("sessions");
    assert_eq!(sessions.len(), 1, "one HTTP/2 session");
    let mut checked = 0;
    for s in sessions {
        let client = s["client"].as_str().expect("client");
        let streams = s["streams"].as_array().expect("streams");
        let mine: Vec<u32> = run
            .transactions
            .iter()
            .filter(|t| t.client.to_string() == client)
            .filter_map(|t| t.stream_id)
            .collect();
        let theirs: Vec<u32> = streams
            .iter()
            .filter_map(|x| x["stream_id"].as_u64())
            .map(|x| x as u32)
            .collect();
        assert_eq!(mine, theirs, "{client}: the same streams, in order");
        for x in streams {
            let id = x["stream_id"].as_u64().expect("stream_id");
            let t = on_stream(&run, client, id);
            let q = t.request.as_ref().expect("request");
            assert_eq!(q.method, x["method"].as_str().unwrap_or_default());
            assert_eq!(q.target, x["path"].as_str().unwrap_or_default());
            assert_eq!(q.authority.as_deref(), x["authority"].as_str());
            assert_eq!(
                pairs(&q.headers),
                logged(&x["request_headers"]),
                "stream {id}"
            );
            let r = t.response.as_ref().expect("response");
            assert_eq!(Some(u64::from(r.status)), x["status"].as_u64());
            assert_eq!(
                pairs(&r.headers),
                logged(&x["response_headers"]),
                "stream {id}"
            );
            assert_eq!(
                Some(r.body.length),
                x["response_data_bytes"].as_u64(),
                "stream {id}: DATA payload bytes"
            );
            checked += 1;
        }
    }
    assert!(checked >= 7, "{checked}");
}

/// The page's script printed each fetch()'s status and body length as it got them: the
/// transaction's status and its decoded body (gzip'd on the wire) say the same.
#[test]
fn the_page_results_equal_the_fetched_transactions() {
    let d = details();
    let run = run();
    let results = d["chromium_netlog"]["page_results"]
        .as_array()
        .expect("page_results");
    let mut checked = 0;
    for line in results.iter().filter_map(Value::as_str) {
        // "/data.json: 200 5881 bytes"
        let Some((path, rest)) = line.split_once(": ") else {
            continue;
        };
        let mut w = rest.split(' ');
        let (Some(status), Some(bytes)) = (w.next(), w.next()) else {
            continue;
        };
        let t = run
            .transactions
            .iter()
            .find(|t| t.request.as_ref().is_some_and(|q| q.target == path))
            .unwrap_or_else(|| panic!("no transaction for {path}"));
        let r = t.response.as_ref().expect("response");
        assert_eq!(r.status.to_string(), status, "{path}");
        let decoded = r.body.decoded_length.unwrap_or(r.body.length);
        assert_eq!(decoded.to_string(), bytes, "{path}");
        checked += 1;
    }
    assert_eq!(checked, 2, "{results:?}");
}
