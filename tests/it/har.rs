//! `--format har`: every sample's HAR is valid HAR 1.2 (the `har-schema` 2.0.0 definitions in
//! tests/data/har-schema, validated with the `jsonschema` crate, formats checked), holds one
//! entry per transaction with a request in the JSON report (same method, URL path, status), in
//! time order, and each WebSocket upgrade's entry holds its conversation's messages.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use jsonschema::{Retrieve, Uri};
use serde_json::Value;

/// Serves the har-schema files by name (their `$id`s and `$ref`s are relative: `entry.json#`).
struct HarSchemas(HashMap<String, Value>);

impl Retrieve for HarSchemas {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or("");
        let name = name.split('#').next().unwrap_or("");
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no schema {uri}").into())
    }
}

const BASE: &str = "https://har-schema.test/";

fn validator() -> jsonschema::Validator {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/har-schema");
    let mut schemas = HashMap::new();
    for e in std::fs::read_dir(&dir).expect("har-schema dir") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "json") {
            let mut v: Value =
                serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("schema json");
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_string();
            // Absolute ids, so the relative references resolve against one base.
            v["$id"] = Value::String(format!("{BASE}{name}#"));
            schemas.insert(name, v);
        }
    }
    let root = schemas.get("har.json").cloned().expect("har.json");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft6)
        .should_validate_formats(true)
        .with_retriever(HarSchemas(schemas))
        .build(&root)
        .expect("the HAR schema compiles")
}

fn hopscope(file: &Path, format: &str) -> Value {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hopscope"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "--bodies", "--format", format, "--no-progress"])
        .arg(file);
    let keys = file.with_extension("keys");
    if keys.exists() {
        c.arg("--tls-keylog").arg(&keys);
    }
    let out = c.output().expect("run hopscope");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {format} is not JSON ({e}); stderr {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("", |i| &rest[i..])
}

#[test]
fn every_sample_is_valid_har_with_an_entry_per_exchange() {
    let v = validator();
    let mut entries_seen = 0;
    let mut ws_seen = 0;
    for file in crate::common::sample_captures() {
        let har = hopscope(&file, "har");
        let errors: Vec<String> = v
            .iter_errors(&har)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        let report = hopscope(&file, "json");
        let txns: Vec<&Value> = report["transactions"]
            .as_array()
            .expect("transactions")
            .iter()
            .filter(|t| !t["request"].is_null())
            .collect();
        let entries = har["log"]["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), txns.len(), "{}", file.display());
        entries_seen += entries.len();
        // Time order.
        let starts: Vec<&str> = entries
            .iter()
            .map(|e| e["startedDateTime"].as_str().expect("startedDateTime"))
            .collect();
        assert!(
            starts.windows(2).all(|w| w[0] <= w[1]),
            "{}",
            file.display()
        );
        // Each entry is its transaction: method, target's path, status.
        let by_id: HashMap<u64, &Value> = txns
            .iter()
            .map(|t| (t["id"].as_u64().expect("id"), *t))
            .collect();
        for e in entries {
            let id = e["_hopscope"]["transaction"]
                .as_u64()
                .expect("_hopscope.transaction");
            let t = by_id.get(&id).expect("an entry of a known transaction");
            assert_eq!(e["request"]["method"], t["request"]["method"]);
            let target = t["request"]["target"].as_str().unwrap_or("");
            // Targets HAR's URI form keeps as sent (no byte it must percent-encode).
            if target.starts_with('/')
                && target
                    .bytes()
                    .all(|c| c.is_ascii_graphic() && !b"[]#%".contains(&c))
            {
                assert_eq!(path_of(e["request"]["url"].as_str().unwrap_or("")), target);
            }
            let status = t["response"]["status"].as_u64().unwrap_or(0);
            assert_eq!(e["response"]["status"].as_u64(), Some(status), "{id}");
        }
        // Each WebSocket conversation's messages on its upgrade's entry.
        for ws in report["websockets"].as_array().expect("websockets") {
            let Some(txn) = ws["handshake"]["transaction"].as_u64() else {
                continue;
            };
            let Some(e) = entries
                .iter()
                .find(|e| e["_hopscope"]["transaction"].as_u64() == Some(txn))
            else {
                continue;
            };
            let msgs = ws["messages"].as_array().map_or(0, Vec::len);
            let har_msgs = e["_webSocketMessages"]
                .as_array()
                .expect("_webSocketMessages");
            assert_eq!(har_msgs.len(), msgs, "{} ws {}", file.display(), ws["id"]);
            for (m, h) in ws["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .zip(har_msgs)
            {
                let send = m["direction"] == "client";
                assert_eq!(h["type"], if send { "send" } else { "receive" });
                if let Some(text) = m["text"].as_str() {
                    assert_eq!(h["data"], text);
                }
            }
            ws_seen += 1;
        }
    }
    // The samples hold many exchanges and upgrades: the checks above ran on them.
    assert!(entries_seen > 100, "{entries_seen}");
    assert!(ws_seen > 5, "{ws_seen}");
}

/// What an entry says of a plain exchange, field by field: the form body's params, cookies
/// with their attributes, the redirect, timings that add up.
#[test]
fn entry_fields() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let har = hopscope(&dir.join("http-cookies-auth-redirect.pcap"), "har");
    let entries = har["log"]["entries"].as_array().expect("entries");
    let set = entries
        .iter()
        .find(|e| e["request"]["url"] == "http://localhost:8001/cookies/set")
        .expect("the cookie-setting request");
    let cookies = set["response"]["cookies"].as_array().expect("cookies");
    let csrf = cookies
        .iter()
        .find(|c| c["name"] == "csrftoken")
        .expect("csrftoken");
    assert_eq!(csrf["httpOnly"], true);
    assert_eq!(csrf["sameSite"], "Strict");
    // Values are masked as in every output.
    assert!(
        csrf["value"].as_str().is_some_and(|v| v.contains("masked")),
        "{csrf}"
    );
    let lang = cookies.iter().find(|c| c["name"] == "lang").expect("lang");
    assert_eq!(lang["expires"], "2031-01-01T00:00:00.000Z");
    for e in entries {
        let t = &e["timings"];
        let sum: f64 = ["connect", "send", "wait", "receive"]
            .iter()
            .filter_map(|k| t[k].as_f64())
            .filter(|v| *v >= 0.0)
            .sum();
        let time = e["time"].as_f64().expect("time");
        assert!((time - sum).abs() < 0.01, "{time} vs {sum}");
        if let Some(loc) = e["response"]["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|h| {
                h["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case("location"))
            })
        {
            assert_eq!(e["response"]["redirectURL"], loc["value"]);
        }
    }
    assert!(entries.iter().any(|e| e["response"]["redirectURL"] != ""));
}

/// `-o x.har` writes HAR without `--format`.
#[test]
fn har_file_name_chooses_the_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run.har");
    let status = Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "samples/http-keepalive.pcap", "-o"])
        .arg(&out)
        .status()
        .expect("run");
    assert!(status.success());
    let har: Value = serde_json::from_slice(&std::fs::read(&out).expect("read")).expect("json");
    assert_eq!(har["log"]["version"], "1.2");
    assert!(
        !har["log"]["entries"]
            .as_array()
            .expect("entries")
            .is_empty()
    );
}

/// The validator above can fail: a HAR missing a required field, with a start that is not a
/// date or a URL that is not a URI, is refused.
#[test]
fn the_schema_refuses_broken_hars() {
    let v = validator();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let good = hopscope(&dir.join("http-keepalive.pcap"), "har");
    assert!(v.is_valid(&good));
    let mut no_time = good.clone();
    if let Some(e) = no_time["log"]["entries"][0].as_object_mut() {
        e.remove("time");
    }
    assert!(!v.is_valid(&no_time));
    let mut bad_date = good.clone();
    bad_date["log"]["entries"][0]["startedDateTime"] = Value::String("yesterday".into());
    assert!(!v.is_valid(&bad_date));
    let mut bad_url = good.clone();
    bad_url["log"]["entries"][0]["request"]["url"] = Value::String("http://a b/\u{1b}[2J".into());
    assert!(!v.is_valid(&bad_url));
    let mut bad_status = good;
    bad_status["log"]["entries"][0]["response"]["status"] = Value::String("200".into());
    assert!(!v.is_valid(&bad_status));
}

/// `timings.connect`: the connection's TCP handshake (SYN to SYN-ACK, `handshake_s` in the
/// JSON report) on its first entry, -1 on the next ones of the same keep-alive connection.
#[test]
fn connect_is_the_handshake_of_the_first_entry() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/http-keepalive.pcap");
    let har = hopscope(&file, "har");
    let report = hopscope(&file, "json");
    let h = report["connections"][0]["handshake_s"]
        .as_f64()
        .expect("the handshake was captured");
    let entries = har["log"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 4);
    let connect = entries[0]["timings"]["connect"].as_f64().expect("connect");
    assert!((connect - h * 1e3).abs() < 0.001, "{connect} vs {h}");
    assert!(connect > 0.0);
    for e in &entries[1..] {
        assert_eq!(e["timings"]["connect"], -1.0);
    }
}

/// `timings.ssl`: the TLS handshake of the connection (`tls.handshake_s`) on its first entry,
/// counted inside `connect` as HAR 1.2 says (TCP handshake + TLS handshake), and not added to
/// `time` a second time; -1 on the connection's later entries.
#[test]
fn ssl_is_the_tls_handshake_and_inside_connect() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/tls12-curl-nginx.pcap");
    let har = hopscope(&file, "har");
    let report = hopscope(&file, "json");
    let entries = har["log"]["entries"].as_array().expect("entries");
    assert!(!entries.is_empty());
    let mut firsts = 0;
    for e in entries {
        let id: u64 = e["connection"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("id");
        let c = report["connections"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["id"] == id))
            .expect("its connection");
        let t = &e["timings"];
        let (connect, ssl) = (
            t["connect"].as_f64().expect("c"),
            t["ssl"].as_f64().expect("s"),
        );
        if connect < 0.0 {
            assert_eq!(ssl, -1.0, "a later entry: {t}");
            continue;
        }
        firsts += 1;
        let tls = c["tls"]["handshake_s"].as_f64().expect("tls.handshake_s");
        let tcp = c["handshake_s"].as_f64().expect("handshake_s");
        assert!((ssl - tls * 1e3).abs() < 0.001, "{ssl} vs {tls}");
        assert!(ssl > 0.0);
        assert!((connect - (tcp + tls) * 1e3).abs() < 0.002, "{connect}");
        let sum: f64 = ["connect", "send", "wait", "receive"]
            .iter()
            .filter_map(|k| t[k].as_f64())
            .filter(|v| *v >= 0.0)
            .sum();
        assert!((e["time"].as_f64().expect("time") - sum).abs() < 0.01);
    }
    assert!(firsts >= 1, "no first entry");
}
