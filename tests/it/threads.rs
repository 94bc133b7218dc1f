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

/// A sweep and the end that report more connections at once than a worker sends in one part
/// (`threads::PART_STEPS`, 256): 900 closed connections expire in one sweep, 900 live ones
/// are reported at the end, each with its transaction. The workers send them in parts and the
/// merge takes the parts as they come; the report is one thread's, every connection in it.
#[test]
fn sweeps_and_ends_longer_than_a_part_report_the_same_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("many.pcap");
    let mut s = crate::common::Script::new();
    let req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let client = |i: u32| ([10, 1, (i >> 8) as u8, i as u8], 40000 + (i % 1000) as u16);
    for i in 0..900u32 {
        crate::common::exchange(
            &mut s,
            client(i),
            crate::common::S,
            1000 + i,
            9000,
            req,
            resp,
        );
    }
    // Past the linger: the first packet after the wait sweeps the 900 closed ones at once.
    s.wait(5.0);
    for i in 900..1800u32 {
        let c = client(i);
        let srv = crate::common::S;
        use crate::common::{ACK, PSH, SYN, tcp4};
        s.push(tcp4(c, srv, SYN, i, 0, b""));
        s.push(tcp4(srv, c, SYN | ACK, 7000, i + 1, b""));
        s.push(tcp4(c, srv, ACK, i + 1, 7001, b""));
        s.push(tcp4(c, srv, ACK | PSH, i + 1, 7001, req));
        s.push(tcp4(
            srv,
            c,
            ACK | PSH,
            7001,
            i + 1 + req.len() as u32,
            resp,
        ));
    }
    crate::cli::write_pcap(&pcap, &s.pkts);
    let args = vec![pcap.to_string_lossy().to_string()];
    let one = report(&args, "ndjson", 1);
    let text = String::from_utf8_lossy(&one);
    let count = |t: &str| {
        text.lines()
            .filter(|l| l.starts_with(&format!("{{\"type\":\"{t}\"")))
            .count()
    };
    assert_eq!(
        count("connection"),
        1800,
        "{}",
        &text[..text.len().min(2000)]
    );
    assert_eq!(count("transaction"), 1800);
    for threads in [2, 3] {
        let other = report(&args, "ndjson", threads);
        assert!(
            other == one,
            "--threads {threads} differs from --threads 1 ({} and {} bytes)",
            other.len(),
            one.len()
        );
    }
}
