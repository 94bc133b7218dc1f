//! The stress suite at small scale (issue 13): each hostile case of `cases` is written to a
//! temporary capture and analysed by the real pipeline (or the real binary, where the bound
//! is the process's memory or the report file), and the test asserts the bound and the
//! findings. `bench/stress.sh` runs the same cases at full scale.

pub mod cases;

mod counters;
mod files;
mod floods;
mod memory;
mod pairing;

use std::path::{Path, PathBuf};
use std::process::Command;

use hopscope::analyzers::AnalyzerConfig;
use hopscope::capture::file::FileSource;
use hopscope::engine::EngineConfig;
use hopscope::pipeline::{CaptureClock, Pipeline};
use serde_json::Value;

use crate::common::{AppRun, run_app};
use cases::Written;

/// A case written to a temporary directory (removed when dropped).
pub struct Made {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub written: Written,
}

/// Writes `name` at `scale`.
pub fn make(name: &str, scale: u64) -> Made {
    let case = cases::find(name).unwrap_or_else(|| panic!("no case {name}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{name}.pcap"));
    let written = cases::write(case, scale, &path).expect("write case");
    Made {
        _dir: dir,
        path,
        written,
    }
}

/// Writes `name` at `scale` and runs the whole pipeline over it at default settings.
pub fn analyse(name: &str, scale: u64) -> (Made, AppRun) {
    let m = make(name, scale);
    let run = run_app(&m.path, AnalyzerConfig::default());
    (m, run)
}

/// Runs the whole pipeline over a capture with these engine settings; returns the summary's
/// TCP and decode counters and the findings' codes.
pub fn analyse_engine(
    path: &Path,
    cfg: EngineConfig,
) -> (hopscope::model::CaptureSummary, Vec<String>) {
    let mut src = FileSource::open(path).expect("open capture");
    let mut p = Pipeline::new(cfg, AnalyzerConfig::default(), Vec::new());
    let end = p.run(&mut src, &CaptureClock);
    assert!(end.sink_error.is_none());
    let codes = p
        .into_sink()
        .into_iter()
        .filter_map(|r| match r {
            hopscope::model::Record::Finding(f) => Some(f.code.name.to_string()),
            _ => None,
        })
        .collect();
    (end.summary, codes)
}

/// How many findings have this code.
pub fn count(codes: &[String], code: &str) -> usize {
    codes.iter().filter(|c| *c == code).count()
}

/// What the binary did: its exit status (`None` when a signal ended it), stderr, and the
/// report it wrote at `-o` (`Null` when there is none or it is not JSON).
pub struct Report {
    pub status: Option<i32>,
    pub stderr: String,
    pub json: Value,
}

/// Runs `hopscope report PATH --format json -o OUT --no-progress ARGS` with its address
/// space capped at `cap_mib` MiB (`ulimit -v`), so a run that needs more memory than the
/// bound allows fails its allocation and aborts instead of passing. A trivial run takes under
/// 16 MiB.
pub fn report_capped(path: &Path, cap_mib: u64, args: &[&str]) -> Report {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.json");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {} && exec \"$0\" \"$@\"",
            cap_mib * 1024
        ))
        .arg(env!("CARGO_BIN_EXE_hopscope"))
        // One thread: an address-space cap counts every thread's malloc arena (64 MiB of
        // address reserved each, little of it resident), and the budget's shedding is what
        // is checked here, pinned to one thread's order.
        .args([
            "report",
            "--threads",
            "1",
            "--format",
            "json",
            "--no-progress",
            "-o",
        ])
        .arg(&out)
        .arg(path)
        .args(args)
        .output()
        .expect("run hopscope");
    let json = std::fs::read(&out)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    Report {
        status: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        json,
    }
}

/// The codes of a JSON report's findings.
pub fn json_codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
