//! Issue 16 item 4: the same connection captured at two points (the client's host and the
//! server's; the server on its interface and on `any`) is one connection seen twice: analysed
//! once, its copies counted, and the clock offset between the points taken from its segments.
//! Samples: samples/same-conn.*.pcap (record.sh scenario same_conn_two_hosts; the server's
//! file moved by `editcap -t`, which the fact names).

use crate::common::*;
use serde_json::Value;

fn report(files: &[&str], extra: &[&str]) -> Value {
    report_json(&samples_dir(), files, extra)
}

/// The shift `editcap -t` applied to same-conn.server-skewed.pcap, from the sample's facts.
fn skew() -> f64 {
    let all: Value = serde_json::from_str(
        &std::fs::read_to_string(samples_dir().join("expected.json")).expect("facts"),
    )
    .expect("json");
    let cap = all["captures"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["file"] == "same-conn.server-skewed.pcap")
        .expect("the skewed sample's facts");
    let sw = cap["software"].as_str().expect("software");
    sw.split_whitespace()
        .skip_while(|w| *w != "-t")
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no editcap -t in {sw}"))
}

fn arr<'a>(v: &'a Value, k: &str) -> Vec<&'a Value> {
    v[k].as_array().into_iter().flatten().collect()
}

/// What a connection carried, without where it was seen.
fn conn_key(c: &Value) -> String {
    format!(
        "{} {} {} {} {} {}",
        c["client"],
        c["server"],
        c["client_to_server"]["packets"],
        c["client_to_server"]["bytes"],
        c["server_to_client"]["packets"],
        c["server_to_client"]["bytes"]
    )
}

fn txn_key(t: &Value) -> String {
    format!(
        "{} {} {} {}",
        t["client"], t["request"]["target"], t["response"]["status"], t["response"]["body_bytes"]
    )
}

fn keys(r: &Value, k: &str, f: fn(&Value) -> String) -> Vec<String> {
    let mut v: Vec<String> = arr(r, k).into_iter().map(f).collect();
    v.sort();
    v
}

const CLIENT: &str = "same-conn.client.pcap";
const SKEWED: &str = "same-conn.server-skewed.pcap";
const ANY: &str = "same-conn.server-any.pcap";

/// Read with the server's skewed capture, the client's gives the same connections and
/// transactions as alone: the server's packets are copies, counted and not analysed.
#[test]
fn two_hosts_one_connection_each_analysed_once() {
    let alone = report(&[CLIENT], &[]);
    let both = report(&[CLIENT, SKEWED], &[]);
    assert_eq!(arr(&alone, "connections").len(), 3);
    assert_eq!(
        keys(&both, "connections", conn_key),
        keys(&alone, "connections", conn_key)
    );
    assert_eq!(arr(&both, "transactions").len(), 4);
    assert_eq!(
        keys(&both, "transactions", txn_key),
        keys(&alone, "transactions", txn_key)
    );
    let files = arr(&both["capture"], "files");
    let server_packets = files[1]["packets"].as_u64().expect("packets");
    assert!(server_packets > 0);
    assert_eq!(files[1]["duplicate_packets"].as_u64(), Some(server_packets));
    assert!(files[0].get("duplicate_packets").is_none());
    assert_eq!(
        both["capture"]["tcp"]["duplicate_packets"].as_u64(),
        Some(server_packets)
    );
    // Each connection says where else it was seen, with as many packets as the server saw.
    let mut copies = 0;
    for c in arr(&both, "connections") {
        assert_eq!(c["files"], serde_json::json!([0]), "{c}");
        let seen = arr(c, "also_seen_in");
        assert_eq!(seen.len(), 1, "{c}");
        assert_eq!(seen[0]["file"], 1);
        // After the file's offset (the second pass): what is left is the wire's delay.
        let off = seen[0]["clock_offset_s"].as_f64().expect("offset");
        assert!(off.abs() < 0.003, "{off}");
        copies += seen[0]["packets"].as_u64().unwrap_or(0);
    }
    assert_eq!(copies, server_packets);
    // No finding a doubled connection would raise (retransmissions, reuse).
    let codes: Vec<&str> = arr(&both, "findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    let alone_codes: Vec<&str> = arr(&alone, "findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, alone_codes);
}

/// The offset comes from the connections' segments (`same-connection`), within the wire's
/// one-way delay of the true correction, whichever file comes first.
#[test]
fn the_offset_comes_from_the_connections_segments() {
    let r = report(&[CLIENT, SKEWED], &[]);
    let f = &r["capture"]["files"][1];
    assert_eq!(f["offset_source"], "same-connection", "{f}");
    assert_eq!(f["clock_offset_connections"], 3);
    let got = f["clock_offset_s"].as_f64().expect("offset");
    let u = f["clock_offset_uncertainty_s"]
        .as_f64()
        .expect("uncertainty");
    assert!((got + skew()).abs() <= 0.003, "{got} vs -{}", skew());
    assert!(u > 0.0 && u < 0.003, "{u}");
    // The interval holds the offset and the truth (the wire's 3 ms delay bounds it).
    let lo = f["clock_offset_interval_s"][0].as_f64().expect("low");
    let hi = f["clock_offset_interval_s"][1].as_f64().expect("high");
    assert!(
        lo <= got && got <= hi && (hi - lo - 2.0 * u).abs() < 1e-6,
        "{lo} {hi}"
    );
    assert!(lo - 0.003 <= -skew() && -skew() <= hi + 0.003, "{lo} {hi}");
    // The other way round: the server's file is the reference, the client's is ahead.
    let r = report(&[SKEWED, CLIENT], &[]);
    let f = &r["capture"]["files"][1];
    assert_eq!(f["offset_source"], "same-connection");
    let got = f["clock_offset_s"].as_f64().expect("offset");
    assert!((got - skew()).abs() <= 0.003, "{got} vs {}", skew());
    assert_eq!(arr(&r, "connections").len(), 3);
    // The text report names the source and the connections.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .current_dir(samples_dir())
        .args(["report", CLIENT, SKEWED, "--format", "text"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(same-connection ± ") && text.contains("3 connections)"),
        "{text}"
    );
    assert!(text.contains("also-seen-in=[1]"), "{text}");
}

/// Three points: the client's interface, the server's and the server's `any` (another link
/// type, the server's clock). One analysis of each connection; both other files placed.
#[test]
fn three_points_two_link_types() {
    let r = report(&[CLIENT, SKEWED, ANY], &[]);
    assert_eq!(arr(&r, "connections").len(), 3);
    assert_eq!(arr(&r, "transactions").len(), 4);
    let files = arr(&r["capture"], "files");
    assert!(files[2]["link_types"].to_string().contains("LINUX_SLL"));
    for (i, want) in [(1, -skew()), (2, 0.0)] {
        let f = files[i];
        assert_eq!(f["offset_source"], "same-connection", "{f}");
        let got = f["clock_offset_s"].as_f64().expect("offset");
        assert!((got - want).abs() <= 0.003, "file {i}: {got} vs {want}");
    }
    for c in arr(&r, "connections") {
        let mut seen: Vec<u64> = arr(c, "also_seen_in")
            .iter()
            .filter_map(|s| s["file"].as_u64())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, [1, 2], "{c}");
    }
}

/// The records are on the first file's clock: the second pass merged the packets after the
/// offset the first found; with `--single-pass` they keep the file's own, and a connection's
/// copy says the whole offset.
#[test]
fn records_are_on_the_first_files_clock() {
    let ts = |r: &Value, k: &str| -> Vec<f64> {
        arr(r, k)
            .iter()
            .filter_map(|v| v["start"].as_f64().or(v["request"]["at"]["ts"].as_f64()))
            .collect()
    };
    let two = report(&[SKEWED, CLIENT], &[]);
    let f = &two["capture"]["files"][1];
    let off = f["clock_offset_s"].as_f64().expect("offset");
    assert!((off - skew()).abs() <= 0.003, "{off}");
    // The server's file is the reference: the client's times moved by the offset.
    let client_alone = report(&[CLIENT], &[]);
    let first_client = f["first_ts"].as_f64().expect("first_ts");
    let alone_first = client_alone["capture"]["first_ts"]
        .as_f64()
        .expect("first_ts");
    assert!(
        (first_client - alone_first - off).abs() < 1e-6,
        "{first_client}"
    );
    // The connections (analysed from the client's packets, which show each first once the
    // clocks agree) start within the wire's delay of the server's view.
    let server_alone = report(&[SKEWED], &[]);
    let (a, b) = (ts(&two, "connections"), ts(&server_alone, "connections"));
    assert_eq!(a.len(), 3);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 0.003, "{x} vs {y}");
    }
    let one = report(&[SKEWED, CLIENT], &["--single-pass"]);
    let f1 = &one["capture"]["files"][1];
    assert_eq!(f1["offset_source"], "same-connection");
    assert!((f1["first_ts"].as_f64().expect("ts") - alone_first).abs() < 1e-6);
    // Unaligned, the client's packets come 1.75 s first: the client's file (1) is analysed,
    // the server's (0) is the copy, 1.75 s ahead of it.
    for c in arr(&one, "connections") {
        assert_eq!(c["files"], serde_json::json!([1]), "{c}");
        assert_eq!(c["also_seen_in"][0]["file"], 0);
        let o = c["also_seen_in"][0]["clock_offset_s"]
            .as_f64()
            .expect("offset");
        assert!((o + skew()).abs() < 0.003, "{o}");
    }
}

/// A given offset is kept (and lines the copies up); the file is still a copy.
#[test]
fn a_given_offset_is_kept() {
    let off = format!("{SKEWED}={}", -skew());
    let r = report(&[CLIENT, SKEWED], &["--clock-offset", &off]);
    let f = &r["capture"]["files"][1];
    assert_eq!(f["offset_source"], "given");
    assert_eq!(f["clock_offset_s"].as_f64(), Some(-skew()));
    assert_eq!(arr(&r, "connections").len(), 3);
    // What is left between the lined-up copies is the wire's delay, not the skew.
    for c in arr(&r, "connections") {
        let o = c["also_seen_in"][0]["clock_offset_s"]
            .as_f64()
            .expect("offset");
        assert!(o.abs() < 0.003, "{o}");
    }
}

/// Two captures with nothing in common: the second's clock cannot be placed, and the report
/// says so once, naming the file and `--clock-offset`.
#[test]
fn an_unplaced_clock_is_said() {
    let r = report(&["http-keepalive.pcap", "websocket-echo.pcap"], &[]);
    let f = &r["capture"]["files"][1];
    assert_eq!(f["offset_source"], "none");
    let said: Vec<&Value> = arr(&r, "findings")
        .into_iter()
        .filter(|f| f["code"] == "capture.clock-unplaced")
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    let m = said[0]["message"].as_str().unwrap_or_default();
    assert!(
        m.starts_with("websocket-echo.pcap:") && m.contains("--clock-offset websocket-echo.pcap="),
        "{m}"
    );
    // Placed files raise nothing.
    let r = report(&[CLIENT, SKEWED], &[]);
    assert!(
        !arr(&r, "findings")
            .iter()
            .any(|f| f["code"] == "capture.clock-unplaced")
    );
}
