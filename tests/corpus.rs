//! Independent oracle: for every capture in `../shared/corpus`, hopscope's packet count and TCP
//! connection count agree with tshark's (`*.tshark.json`), or the difference is listed below
//! with the reason.

mod common;

use std::fs;
use std::path::PathBuf;

use common::*;

/// Captures where hopscope deliberately counts connections differently from tshark.
/// (file, hopscope connections, tshark tcp.stream count, why)
const EXPLAINED: &[(&str, usize, u64, &str)] = &[];

fn corpus_files() -> Vec<PathBuf> {
    let Some(dir) = corpus_dir() else {
        return Vec::new();
    };
    let mut v = Vec::new();
    for sub in ["zeek", "suricata-verify"] {
        if let Ok(rd) = fs::read_dir(dir.join(sub)) {
            for e in rd.flatten() {
                let p = e.path();
                let name = p.to_string_lossy().to_string();
                if name.ends_with(".pcap") || name.ends_with(".pcapng") {
                    v.push(p);
                }
            }
        }
    }
    v.sort();
    v
}

fn oracle(p: &std::path::Path) -> serde_json::Value {
    let stem = p.with_extension("tshark.json");
    let text = fs::read_to_string(&stem).unwrap_or_else(|e| panic!("{}: {e}", stem.display()));
    serde_json::from_str(&text).expect("oracle json")
}

#[test]
fn packet_and_connection_counts_match_tshark() {
    let files = corpus_files();
    if files.is_empty() {
        println!("SKIP: ../shared/corpus not found; the corpus comparison needs it");
        return;
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for p in &files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let o = oracle(p);
        let (run, err) = run_file(p);
        assert!(err.is_none(), "{name}: read error {err:?}");
        let tpk = o["packets"].as_u64().unwrap_or(0);
        let tst = o["tcp_streams"].as_u64().unwrap_or(0);
        if run.summary.packets != tpk {
            problems.push(format!(
                "{name}: packets {} vs tshark {tpk}",
                run.summary.packets
            ));
        }
        let ours = run.connections.len();
        match EXPLAINED.iter().find(|e| e.0 == name) {
            Some(&(_, want_ours, want_tshark, why)) => {
                assert_eq!(tst, want_tshark, "{name}: oracle changed; re-check: {why}");
                if ours != want_ours {
                    problems.push(format!(
                        "{name}: connections {ours}, explained value was {want_ours} ({why})"
                    ));
                }
            }
            None if ours as u64 != tst => {
                problems.push(format!("{name}: connections {ours} vs tshark {tst}"));
            }
            None => {}
        }
        assert_eq!(run.summary.undecodable, 0, "{name}: undecodable packets");
        checked += 1;
    }
    println!("checked {checked} corpus captures");
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
