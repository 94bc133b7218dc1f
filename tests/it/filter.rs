//! `report --filter EXPR` and `open --filter EXPR`: the UI's filter language on the command
//! line, checked against the unfiltered reports of real samples.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

fn hopscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hopscope"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn report(sample: &str, extra: &[&str]) -> Value {
    let out = hopscope()
        .args(["report", "--no-progress", sample])
        .args(extra)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{sample} {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn filtered(sample: &str, expr: &str) -> Value {
    report(sample, &["--filter", expr])
}

fn arr<'a>(d: &'a Value, k: &str) -> &'a [Value] {
    d[k].as_array().map_or(&[], Vec::as_slice)
}

fn ids(d: &Value, k: &str) -> BTreeSet<u64> {
    arr(d, k).iter().filter_map(|x| x["id"].as_u64()).collect()
}

fn status(t: &Value) -> Option<u64> {
    t["response"]["status"].as_u64()
}

/// What every filtered report holds: the kept transactions' connections, findings only of
/// kept items, the whole capture's summary and the counts.
fn check_consistent(sample: &str, all: &Value, f: &Value, expr: &str) {
    let txns = ids(f, "transactions");
    let conns = ids(f, "connections");
    for t in arr(f, "transactions") {
        let c = t["connection"].as_u64().expect("connection");
        assert!(conns.contains(&c), "{sample} {expr}: connection {c} kept");
    }
    for x in arr(f, "findings") {
        if let Some(t) = x["transaction"].as_u64() {
            assert!(txns.contains(&t), "{sample} {expr}: finding of dropped {t}");
        }
        if let Some(c) = x["connection"].as_u64() {
            assert!(
                conns.contains(&c),
                "{sample} {expr}: finding of dropped #{c}"
            );
        }
    }
    for w in arr(f, "websockets") {
        if let Some(t) = w["handshake"]["transaction"].as_u64() {
            assert!(
                txns.contains(&t),
                "{sample} {expr}: websocket of dropped {t}"
            );
        }
    }
    // Every finding of a kept transaction is there, those that arrived before it too.
    let kept: BTreeSet<String> = arr(f, "findings").iter().map(Value::to_string).collect();
    for x in arr(all, "findings") {
        if x["transaction"].as_u64().is_some_and(|t| txns.contains(&t)) {
            assert!(
                kept.contains(&x.to_string()),
                "{sample} {expr}: finding of a kept transaction missing: {x}"
            );
        }
    }
    let fc = &f["capture"]["filter"];
    assert_eq!(fc["expression"], expr);
    assert_eq!(fc["transactions_kept"].as_u64(), Some(txns.len() as u64));
    assert_eq!(
        fc["transactions_kept"].as_u64().unwrap_or(0)
            + fc["transactions_dropped"].as_u64().unwrap_or(0),
        arr(all, "transactions").len() as u64,
        "{sample} {expr}: kept + dropped = all"
    );
    // The summary stays the whole capture's.
    assert_eq!(f["capture"]["packets"], all["capture"]["packets"]);
    assert!(all["capture"].get("filter").is_none());
}

const WITH_4XX: &[&str] = &[
    "samples/http-keepalive.pcap",
    "samples/websocket-browser.pcap",
    "samples/http-smuggling.pcap",
    "samples/browser-cors.pcap",
    "samples/http-cl-servers-disagree.pcap",
];

#[test]
fn status_4xx_keeps_only_those_transactions_and_their_connections() {
    for s in WITH_4XX {
        let all = report(s, &[]);
        let f = filtered(s, "status:4xx");
        let want: BTreeSet<u64> = arr(&all, "transactions")
            .iter()
            .filter(|t| status(t).is_some_and(|x| (400..500).contains(&x)))
            .filter_map(|t| t["id"].as_u64())
            .collect();
        assert!(!want.is_empty(), "{s} has a 4xx");
        assert_eq!(ids(&f, "transactions"), want, "{s}");
        let conns: BTreeSet<u64> = arr(&f, "transactions")
            .iter()
            .filter_map(|t| t["connection"].as_u64())
            .collect();
        assert_eq!(ids(&f, "connections"), conns, "{s}: only their connections");
        check_consistent(s, &all, &f, "status:4xx");
    }
}

#[test]
fn a_negated_term_keeps_the_others() {
    for s in WITH_4XX {
        let all = report(s, &[]);
        let f = filtered(s, "-status:4xx");
        let want: BTreeSet<u64> = arr(&all, "transactions")
            .iter()
            .filter(|t| !status(t).is_some_and(|x| (400..500).contains(&x)))
            .filter_map(|t| t["id"].as_u64())
            .collect();
        assert_eq!(ids(&f, "transactions"), want, "{s}");
        check_consistent(s, &all, &f, "-status:4xx");
    }
    // Two terms: both must match.
    let s = "samples/http-keepalive.pcap";
    let all = report(s, &[]);
    let f = filtered(s, "method:GET -status:404");
    assert!(
        arr(&f, "transactions")
            .iter()
            .all(|t| status(t) != Some(404) && t["request"]["method"] == "GET")
    );
    check_consistent(s, &all, &f, "method:GET -status:404");
}

#[test]
fn ws_keeps_the_upgrades_with_their_messages() {
    for s in [
        "samples/websocket-browser.pcap",
        "samples/websocket-nginx-ok.pcap",
        "samples/split-nginx-ws.front.pcap",
        "samples/websocket-echo.pcap",
    ] {
        let all = report(s, &[]);
        let f = filtered(s, "ws");
        assert!(!arr(&f, "transactions").is_empty(), "{s}");
        for t in arr(&f, "transactions") {
            let switched = t["switched_to"]["protocol"] == "websocket";
            let header = t["request"]["headers"].as_array().is_some_and(|h| {
                h.iter().any(|x| {
                    x["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case("upgrade"))
                })
            });
            assert!(switched || header, "{s}: {t}");
        }
        // Every conversation, each with all its messages.
        assert_eq!(ids(&f, "websockets"), ids(&all, "websockets"), "{s}");
        for (a, b) in arr(&all, "websockets").iter().zip(arr(&f, "websockets")) {
            assert_eq!(a["messages"], b["messages"], "{s}: messages");
        }
        check_consistent(s, &all, &f, "ws");
        let none = filtered(s, "-ws");
        assert!(arr(&none, "websockets").is_empty(), "{s}: -ws");
        check_consistent(s, &all, &none, "-ws");
    }
}

#[test]
fn finding_terms_select_transactions_with_findings() {
    let s = "samples/websocket-browser.pcap";
    let all = report(s, &[]);
    let f = filtered(s, "finding:warning");
    assert!(!arr(&f, "transactions").is_empty());
    assert!(!arr(&f, "findings").is_empty());
    check_consistent(s, &all, &f, "finding:warning");
}

fn ndjson(sample: &str, expr: &str) -> Vec<Value> {
    let out = hopscope()
        .args([
            "report",
            "--no-progress",
            sample,
            "--format",
            "ndjson",
            "--filter",
            expr,
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn ndjson_holds_what_the_json_document_holds() {
    for (s, expr) in [
        ("samples/websocket-browser.pcap", "ws"),
        ("samples/websocket-browser.pcap", "status:4xx"),
        ("samples/http-smuggling.pcap", "-status:400"),
        ("samples/websocket-connect-tinyproxy.pcap", "tunnel"),
        ("samples/http-proxy.pcap", "host:example"),
    ] {
        let doc = filtered(s, expr);
        let lines = ndjson(s, expr);
        let of = |ty: &str| -> BTreeSet<String> {
            lines
                .iter()
                .filter(|l| l["type"] == ty)
                .map(|l| {
                    let mut l = l.clone();
                    l.as_object_mut().map(|o| o.remove("type"));
                    l.to_string()
                })
                .collect()
        };
        let docs = |k: &str| -> BTreeSet<String> {
            arr(&doc, k)
                .iter()
                .map(|x| {
                    let mut x = x.clone();
                    x.as_object_mut().map(|o| o.remove("messages"));
                    x.to_string()
                })
                .collect()
        };
        for (ty, k) in [
            ("connection", "connections"),
            ("transaction", "transactions"),
            ("finding", "findings"),
            ("tunnel", "tunnels"),
            ("proxy_hop", "proxy_hops"),
            ("http2", "http2"),
        ] {
            assert_eq!(of(ty), docs(k), "{s} {expr}: {k}");
        }
        let msgs = lines
            .iter()
            .filter(|l| l["type"] == "websocket_message")
            .count();
        let doc_msgs: usize = arr(&doc, "websockets")
            .iter()
            .map(|w| w["messages"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(msgs, doc_msgs, "{s} {expr}: messages");
        let cap = lines.last().expect("capture line");
        assert_eq!(cap["type"], "capture");
        assert_eq!(cap["filter"], doc["capture"]["filter"], "{s} {expr}");
    }
}

#[test]
fn har_holds_only_the_matching_entries() {
    let s = "samples/http-keepalive.pcap";
    let har = |extra: &[&str]| -> Vec<u64> {
        let out = hopscope()
            .args(["report", "--no-progress", s, "--format", "har"])
            .args(extra)
            .output()
            .expect("run");
        assert!(out.status.success());
        let d: Value = serde_json::from_slice(&out.stdout).expect("HAR is JSON");
        d["log"]["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["response"]["status"].as_u64())
            .collect()
    };
    let all = har(&[]);
    let four = har(&["--filter", "status:4xx"]);
    let want: Vec<u64> = all
        .iter()
        .copied()
        .filter(|x| (400..500).contains(x))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(four, want);
    let rest = har(&["--filter", "-status:4xx"]);
    assert_eq!(rest.len() + four.len(), all.len());
}

#[test]
fn a_bad_expression_is_a_usage_error_naming_the_term() {
    for (cmd, expr, term) in [
        ("report", "status:9zz", "9zz"),
        ("report", "method:GET colour:red", "colour:"),
        ("report", "finding:bad", "bad"),
        ("report", "\"open", "quote"),
        ("open", "status:9zz", "9zz"),
    ] {
        let out = hopscope()
            .args([cmd, "samples/http-keepalive.pcap", "--filter", expr])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{cmd} {expr}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--filter"), "{expr}: {err}");
        assert!(err.contains(term), "{expr}: {err}");
        assert!(out.stdout.is_empty(), "{expr}: nothing written");
    }
}

#[test]
fn open_prints_the_filtered_text_report() {
    // Standard output is not a terminal here: `open` prints the text report.
    let out = hopscope()
        .args([
            "open",
            "samples/http-keepalive.pcap",
            "--filter",
            "status:404",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("HTTP transactions (1):"), "{text}");
    assert!(
        text.contains("filter status:404: 1 of 4 transactions kept"),
        "{text}"
    );
}
