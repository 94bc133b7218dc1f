//! `--threads N`: the report is the same, byte for byte, whatever N, for every sample (with its
//! key log, as the goldens run it) and every multi-file run of the samples (split hosts, a
//! rotated set, one connection captured at two points), in JSON and NDJSON.

use std::fs;
use std::process::Command;

use crate::common::samples_dir;

/// Every run to compare: the arguments after `report`.
fn runs() -> Vec<Vec<String>> {
    let dir = samples_dir();
    let names: Vec<String> = crate::common::sample_captures()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .collect();
    let mut runs = Vec::new();
    for name in &names {
        let stem = name.trim_end_matches(".pcapng").trim_end_matches(".pcap");
        let mut args = vec![format!("samples/{name}")];
        if dir.join(format!("{stem}.keys")).exists() {
            args.push("--tls-keylog".into());
            args.push(format!("samples/{stem}.keys"));
        }
        runs.push(args);
    }
    let mut fronts: Vec<String> = fs::read_dir(dir.join("split"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".front.pcap"))
                .collect()
        })
        .unwrap_or_default();
    fronts.sort();
    for f in fronts {
        let back = f.replace(".front.pcap", ".back.pcap");
        runs.push(vec![
            format!("samples/split/{f}"),
            format!("samples/split/{back}"),
        ]);
    }
    runs.push(vec!["samples/rotated".into()]);
    for other in ["server", "server-skewed", "server-any"] {
        runs.push(vec![
            "samples/same-conn.client.pcap".into(),
            format!("samples/same-conn.{other}.pcap"),
        ]);
    }
    runs
}

fn report(args: &[String], format: &str, threads: u32) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SSLKEYLOGFILE")
        .arg("report")
        .args(args)
        .args(["--format", format, "--no-progress", "--threads"])
        .arg(threads.to_string())
        .output()
        .expect("run hopscope");
    assert!(
        matches!(out.status.code(), Some(0) | Some(2)),
        "{args:?} --threads {threads}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn every_sample_reports_the_same_whatever_the_threads() {
    let mut diffs = Vec::new();
    let runs = runs();
    assert!(runs.len() > 40, "samples/ has too few captures");
    for args in &runs {
        for format in ["json", "ndjson"] {
            let one = report(args, format, 1);
            assert!(!one.is_empty(), "{args:?}: empty report");
            for threads in [2, 3] {
                if report(args, format, threads) != one {
                    diffs.push(format!(
                        "{} --format {format} --threads {threads}",
                        args.join(" ")
                    ));
                }
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "reports that differ from --threads 1:\n{}",
        diffs.join("\n")
    );
}

/// What every worker raises about the key sources (a malformed line, a key log no connection
/// used) is reported once, where one thread reports it; with a pcapng secrets block too.
#[test]
fn key_source_findings_are_reported_once_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("bad.keys");
    let good = fs::read_to_string(samples_dir().join("h2-chromium.keys")).expect("keys");
    fs::write(&keys, format!("not a key line\n{good}CLIENT_RANDOM zz\n")).expect("write");
    let keys = keys.to_string_lossy().to_string();
    for sample in ["samples/h2-chromium.pcap", "samples/tls13-dsb.pcapng"] {
        let args = vec![sample.to_string(), "--tls-keylog".into(), keys.clone()];
        let one = report(&args, "json", 1);
        let v: serde_json::Value = serde_json::from_slice(&one).expect("json");
        let malformed = v["findings"].as_array().map_or(0, |a| {
            a.iter()
                .filter(|f| f["code"] == "tls.keylog-malformed")
                .count()
        });
        assert_eq!(malformed, 2, "{sample}: {v:#}");
        for threads in [2, 3] {
            assert!(
                report(&args, "json", threads) == one,
                "{sample} --threads {threads} differs from --threads 1"
            );
        }
    }
}
