//! Golden reports: every capture in `samples/` has its expected JSON report checked in beside it
//! as `samples/golden/<capture>.json`. A change in output is a reviewed diff:
//! `UPDATE_GOLDEN=1 cargo test --test it golden::` rewrites them, then `git diff samples/golden`.

use std::fs;
use std::process::Command;

use crate::common::samples_dir;

fn captures() -> Vec<String> {
    crate::common::sample_captures()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .collect()
}

#[test]
fn reports_match_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let names = captures();
    assert!(!names.is_empty(), "samples/ has no captures");
    let gold_dir = samples_dir().join("golden");
    if update {
        fs::create_dir_all(&gold_dir).expect("create samples/golden");
    }
    let mut diffs = Vec::new();
    for name in &names {
        // A TLS sample is reported with the key log its client wrote (`NAME.keys`).
        let stem = name.trim_end_matches(".pcapng").trim_end_matches(".pcap");
        let keys = format!("samples/{stem}.keys");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hopscope"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("SSLKEYLOGFILE")
            .args(["report", &format!("samples/{name}"), "--format", "json"]);
        if samples_dir().join(format!("{stem}.keys")).exists() {
            cmd.args(["--tls-keylog", &keys]);
        }
        let out = cmd.output().expect("run hopscope");
        // Corrupt samples exit 2 by design; the report is still golden.
        assert!(
            matches!(out.status.code(), Some(0) | Some(2)),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
        let path = gold_dir.join(format!("{name}.json"));
        if update {
            let pretty = serde_json::to_string_pretty(&got).expect("serialize");
            fs::write(&path, pretty + "\n").expect("write golden");
            continue;
        }
        let want: serde_json::Value = match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).expect("golden json"),
            Err(_) => {
                diffs.push(format!("{name}: no golden report at {}", path.display()));
                continue;
            }
        };
        if got != want {
            diffs.push(format!("{name}: report differs from {}", path.display()));
        }
    }
    assert!(
        diffs.is_empty(),
        "{}\nrun `UPDATE_GOLDEN=1 cargo test --test it golden::` and review `git diff samples/golden`",
        diffs.join("\n")
    );
}
