//! The bundled captures against the facts recorded beside them (`samples/expected.json`,
//! written by `samples/tools/facts.py` from what the programs themselves logged: curl's
//! `--trace`, the WebSocket client's transport log, the generated payloads).
//!
//! For every capture: packet and TCP connection counts, link types, and for every stream whose
//! bytes are known the client, the server, the byte counts and the SHA-256 of each direction as
//! hopscope reassembled it.

use std::fs;

use crate::common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn facts() -> Vec<Value> {
    let p = samples_dir().join("expected.json");
    let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let v: Value = serde_json::from_str(&text).expect("expected.json");
    v["captures"].as_array().cloned().expect("captures[]")
}

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("missing {k} in {v}"))
}

fn u64_of(v: &Value, k: &str) -> u64 {
    v[k].as_u64()
        .unwrap_or_else(|| panic!("missing {k} in {v}"))
}

#[test]
fn every_capture_matches_its_recorded_facts() {
    let all = facts();
    assert!(
        all.len() >= 20,
        "expected.json lists {} captures",
        all.len()
    );
    let mut problems = Vec::new();
    for f in &all {
        let name = str_of(f, "file");
        let (run, err) = run_file(&samples_dir().join(name));
        let mut bad = |m: String| problems.push(format!("{name}: {m}"));

        // A capture tshark could not read to its end must be an error for us too.
        let tshark_err = f["tshark_read_error"].as_str().is_some();
        if tshark_err != err.is_some() {
            bad(format!(
                "read error {err:?}, tshark: {}",
                f["tshark_read_error"]
            ));
        }
        let want_pk = f["details"]["complete_packets"]
            .as_u64()
            .unwrap_or_else(|| u64_of(f, "packets"));
        if run.summary.packets != want_pk {
            bad(format!("packets {} != {want_pk}", run.summary.packets));
        }
        let want_conns = u64_of(f, "tcp_connections");
        if run.connections.len() as u64 != want_conns {
            bad(format!(
                "tcp connections {} != {want_conns}",
                run.connections.len()
            ));
        }
        if run.summary.undecodable != 0 {
            bad(format!("{} undecodable packets", run.summary.undecodable));
        }
        let links = f["link_types"].as_array().cloned().unwrap_or_default();
        for l in links {
            let l = l.as_str().unwrap_or_default();
            if !run.summary.link_types.keys().any(|k| k.starts_with(l)) {
                bad(format!("link type {l} not in {:?}", run.summary.link_types));
            }
        }

        for s in f["streams"].as_array().cloned().unwrap_or_default() {
            let client = str_of(&s, "client");
            let server = str_of(&s, "server");
            let Some(c) = run
                .connections
                .iter()
                .find(|c| c.client.to_string() == client && c.server.to_string() == server)
            else {
                bad(format!(
                    "no connection {client} -> {server}; have {:?}",
                    run.connections
                        .iter()
                        .map(|c| format!("{} -> {}", c.client, c.server))
                        .collect::<Vec<_>>()
                ));
                continue;
            };
            let st = &run.streams[&c.id];
            let complete = s["complete_in_capture"].as_bool().unwrap_or(true);
            for (d, label) in [(0usize, "client"), (1, "server")] {
                let want_len = u64_of(&s, &format!("{label}_bytes"));
                let want_sha = str_of(&s, &format!("{label}_sha256"));
                let got = &st.data[d];
                let missing: u64 = st.gaps[d].iter().map(|g| g.1).sum();
                if complete {
                    if got.len() as u64 != want_len || !st.gaps[d].is_empty() {
                        bad(format!(
                            "{label} bytes {} (gaps {:?}) != {want_len}",
                            got.len(),
                            st.gaps[d]
                        ));
                    } else if hex(got) != want_sha {
                        bad(format!("{label} sha256 differs"));
                    }
                } else if got.len() as u64 + missing != want_len {
                    // Cut by the snaplen: what was captured plus explicit gaps covers the stream.
                    bad(format!(
                        "{label}: {} captured + {missing} missing != {want_len}",
                        got.len()
                    ));
                }
                let stats = if d == 0 {
                    &c.client_to_server
                } else {
                    &c.server_to_client
                };
                if stats.bytes + stats.missing_bytes != want_len {
                    bad(format!(
                        "{label} record: bytes {} + missing {} != {want_len}",
                        stats.bytes, stats.missing_bytes
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn overlap_conflict_sample_names_the_changed_bytes() {
    let f = facts()
        .into_iter()
        .find(|f| f["file"] == "tcp-overlap-conflict.pcap")
        .expect("sample listed");
    let want = &f["details"]["conflict"];
    let (run, _) = run_file(&samples_dir().join("tcp-overlap-conflict.pcap"));
    let hits: Vec<_> = run
        .findings
        .iter()
        .filter(|x| x.code.name == "tcp.overlap-conflict")
        .collect();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let h = hits[0];
    assert_eq!(h.packet, Some(u64_of(want, "frame_number")));
    assert_eq!(
        h.stream_offset,
        Some(u64_of(want, "conflict_stream_offset"))
    );
    assert_eq!(
        serde_json::to_value(h.direction).expect("dir"),
        want["direction"]
    );
    assert_eq!(run.connections[0].server_to_client.overlap_conflicts, 1);
    // The clean twin has the same re-segmentation and no conflict.
    let (clean, _) = run_file(&samples_dir().join("tcp-overlap.pcap"));
    assert!(!clean.codes().contains(&"tcp.overlap-conflict".to_string()));
    let c = &clean.connections[0];
    assert!(c.client_to_server.overlapping + c.server_to_client.overlapping > 0);
}

#[test]
fn midstream_sample_is_recovered_from_retransmissions() {
    let (run, err) = run_file(&samples_dir().join("tcp-reorder-midstream.pcap"));
    assert!(err.is_none());
    let c = &run.connections[0];
    assert!(!c.handshake);
    assert_ne!(c.client_reason, "syn");
    let d = &c.client_to_server;
    assert!(d.out_of_order > 0, "reordering was applied: {d:?}");
    assert!(d.retransmitted > 0, "duplicates were applied: {d:?}");
    assert_eq!(d.gaps, 0);
}
