//! docs/report.schema.json (the report's JSON Schema, tools/report_schema.py) holds every
//! sample's and corpus capture's report: the JSON document with `--bodies --frames`, and each
//! NDJSON line. Additional properties are refused everywhere, so a field the model writes that
//! the schema (and docs/json-format.md) does not name fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{corpus_files, sample_captures, samples_dir};

fn schema() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    serde_json::from_slice(&std::fs::read(p).expect("docs/report.schema.json")).expect("json")
}

fn validators() -> (jsonschema::Validator, jsonschema::Validator) {
    let doc = schema();
    let mut line = doc.clone();
    if let Some(o) = line.as_object_mut() {
        for k in ["type", "required", "properties", "additionalProperties"] {
            o.remove(k);
        }
        o.insert("$ref".into(), Value::String("#/$defs/ndjson_line".into()));
    }
    let build = |s: &Value| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(s)
            .expect("the schema compiles")
    };
    (build(&doc), build(&line))
}

fn inputs() -> Vec<PathBuf> {
    let mut v = sample_captures();
    // Each part of a rotated set alone: connections that begin mid-stream, handshakes missed.
    v.extend(
        std::fs::read_dir(samples_dir().join("rotated"))
            .expect("samples/rotated")
            .filter_map(|e| e.ok().map(|e| e.path())),
    );
    v.sort();
    v.extend(corpus_files());
    v
}

fn run(file: &Path, args: &[&str]) -> Vec<u8> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hopscope"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("report")
        .arg(file)
        .args(args)
        .arg("--no-progress");
    let keys = file.with_extension("keys");
    if keys.exists() {
        c.arg("--tls-keylog").arg(keys);
    }
    c.output().expect("run hopscope").stdout
}

fn errors(v: &jsonschema::Validator, x: &Value) -> Vec<String> {
    v.iter_errors(x)
        .take(3)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn every_report_matches_the_schema() {
    let (doc, line) = validators();
    let (mut docs, mut lines) = (0, 0);
    for file in inputs() {
        let d: Value = serde_json::from_slice(&run(&file, &["--bodies", "--frames"]))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let errs = errors(&doc, &d);
        assert!(errs.is_empty(), "{}: {errs:#?}", file.display());
        docs += 1;
        let out = run(&file, &["--format", "ndjson"]);
        for l in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let r: Value = serde_json::from_slice(l).expect("an NDJSON line");
            let errs = errors(&line, &r);
            assert!(errs.is_empty(), "{}: {errs:#?}\n{r}", file.display());
            lines += 1;
        }
    }
    assert!(
        docs > 150 && lines > 3000,
        "{docs} documents, {lines} lines"
    );
}

/// `--filter EXPR` reports: `capture.filter`, and what survives the filter.
#[test]
fn filtered_reports_match_the_schema() {
    let (doc, line) = validators();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, expr) in [
        ("samples/websocket-browser.pcap", "status:4xx"),
        ("samples/websocket-connect-tinyproxy.pcap", "ws"),
        ("samples/http-proxy-chain.pcap", "-finding"),
    ] {
        let f = root.join(file);
        let d: Value = serde_json::from_slice(&run(&f, &["--filter", expr])).expect("json");
        assert!(d["capture"]["filter"].is_object(), "{file}");
        let errs = errors(&doc, &d);
        assert!(errs.is_empty(), "{file} {expr}: {errs:#?}");
        let out = run(&f, &["--filter", expr, "--format", "ndjson"]);
        for l in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let r: Value = serde_json::from_slice(l).expect("an NDJSON line");
            let errs = errors(&line, &r);
            assert!(errs.is_empty(), "{file} {expr}: {errs:#?}\n{r}");
        }
    }
}

/// Several captures at once: `capture.files[]` with offsets, copies and errors.
#[test]
fn multi_input_reports_match_the_schema() {
    let (doc, _) = validators();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for files in [
        &[
            "samples/same-conn.client.pcap",
            "samples/same-conn.server-skewed.pcap",
        ][..],
        &[
            "samples/split-nginx-ws.front.pcap",
            "samples/split-nginx-ws.back-skewed.pcap",
        ],
        &[
            "samples/corrupt-truncated.pcap",
            "samples/no-such-file.pcap",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hopscope"))
            .current_dir(root)
            .arg("report")
            .args(files)
            .output()
            .expect("run");
        let d: Value = serde_json::from_slice(&out.stdout).expect("json");
        let errs = errors(&doc, &d);
        assert!(errs.is_empty(), "{files:?}: {errs:#?}");
    }
}

/// The schema can fail: an unknown field, a wrong type or a missing field is refused.
#[test]
fn the_schema_refuses_what_the_report_never_writes() {
    let (doc, line) = validators();
    let d: Value =
        serde_json::from_slice(&run(Path::new("samples/http-keepalive.pcap"), &[])).expect("json");
    assert!(doc.is_valid(&d));
    let mut extra = d.clone();
    extra["connections"][0]["color"] = Value::String("red".into());
    assert!(!doc.is_valid(&extra));
    let mut wrong = d.clone();
    wrong["transactions"][0]["response"]["status"] = Value::String("200".into());
    assert!(!doc.is_valid(&wrong));
    let mut missing = d;
    if let Some(o) = missing["capture"].as_object_mut() {
        o.remove("packets");
    }
    assert!(!doc.is_valid(&missing));
    assert!(!line.is_valid(&serde_json::json!({"type": "connection", "id": 0})));
    assert!(!line.is_valid(&serde_json::json!({"type": "no-such-record"})));
}
