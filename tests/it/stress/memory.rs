//! One memory budget (issue 13 item 1): analysis state that piles up per connection with
//! nothing to bound its sum (brotli windows, stacked gzip layers, undecided streams,
//! unfinished heads, flows whose first segment is missing).
//!
//! What holds today is checked in-process at small scale. The bound itself is the process's
//! memory, so those tests run the binary with its address space capped (`report_capped`):
//! past the cap an allocation fails and the process aborts, which today's code does. A trivial
//! run takes about 10 MiB of address space; the caps leave 32 MiB over the budget, as the
//! issue's 128 MB over the default 96 MiB budget does.

use hopscope::engine::EngineConfig;

use super::cases::net::FIRST_SEGMENT;
use super::{analyse, count, json_codes, make, report_capped};

/// The address-space cap of a run at the default budget (the issue: peak RSS ≤ 128 MB).
const DEFAULT_CAP_MIB: u64 = 160;
/// The budget of the runs with a small one, and their cap.
const SMALL_BUDGET: &str = "16M";
const SMALL_CAP_MIB: u64 = 16 + 32;

/// The peak of reassembly buffers stays under `--max-buffered-bytes`, and every connection
/// is reported.
fn assert_reassembly_bounded(run: &crate::common::AppRun, connections: usize) {
    let bound = EngineConfig::default().max_buffered_bytes as u64;
    assert!(run.summary.tcp.peak_buffered_bytes <= bound);
    assert_eq!(run.connections.len(), connections);
}

/// Findings that say the budget shed something (`memory.*`, each naming `--memory`).
fn shed(codes_and_messages: &serde_json::Value) -> usize {
    codes_and_messages["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| {
                    f["code"].as_str().is_some_and(|c| c.starts_with("memory."))
                        && f["message"]
                            .as_str()
                            .is_some_and(|m| m.contains("--memory"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// Runs a case through the binary under `cap_mib`; asserts it finished (no abort), reported
/// every connection, and says what the budget shed.
fn assert_within(name: &str, scale: u64, cap_mib: u64, args: &[&str]) {
    let m = make(name, scale);
    let r = report_capped(&m.path, cap_mib, args);
    assert_eq!(r.status, Some(0), "{name}: {}", r.stderr);
    let conns = r.json["connections"].as_array().map_or(0, Vec::len);
    assert_eq!(conns as u64, scale, "{name}: every connection reported");
    assert!(
        shed(&r.json) > 0,
        "{name}: a finding says what was shed: {:?}",
        json_codes(&r.json)
    );
}

#[test]
fn br_bodies_are_capped_and_reported() {
    let (_m, run) = analyse("br-open", 3);
    assert_reassembly_bounded(&run, 3);
    let codes = run.codes();
    assert_eq!(count(&codes, "http.decoded-size-limit"), 2, "{codes:?}");
    assert_eq!(count(&codes, "http.body-truncated"), 3, "{codes:?}");
    let decoded: Vec<_> = run
        .transactions
        .iter()
        .filter_map(|t| t.response.as_ref()?.body.decoded_length)
        .collect();
    // 17 MiB capped at 16 MiB; 15 MiB whole.
    assert_eq!(decoded, [16 << 20, 15 << 20, 16 << 20]);
}

#[test]
fn br_bodies_stay_within_the_default_budget() {
    assert_within("br-open", 24, DEFAULT_CAP_MIB, &[]);
}

#[test]
fn stacked_gzip_bodies_are_reported() {
    let (_m, run) = analyse("gzip4-open", 3);
    assert_reassembly_bounded(&run, 3);
    assert_eq!(count(&run.codes(), "http.body-truncated"), 3);
    assert_eq!(run.transactions.len(), 3);
}

#[test]
fn stacked_gzip_bodies_stay_within_the_default_budget() {
    assert_within("gzip4-open", 1_000, DEFAULT_CAP_MIB, &[]);
}

#[test]
fn undecided_streams_are_reported() {
    let (_m, run) = analyse("undecided", 3);
    assert_reassembly_bounded(&run, 3);
    assert!(run.transactions.is_empty());
    for c in &run.connections {
        assert_eq!(c.client_to_server.bytes, 16_000);
    }
}

#[test]
fn undecided_streams_stay_within_a_small_budget() {
    assert_within(
        "undecided",
        2_000,
        SMALL_CAP_MIB,
        &["--memory", SMALL_BUDGET],
    );
}

#[test]
fn unfinished_heads_are_reported() {
    let (_m, run) = analyse("heads-open", 3);
    assert_reassembly_bounded(&run, 3);
    assert_eq!(count(&run.codes(), "http.incomplete-head"), 3);
}

#[test]
fn unfinished_heads_stay_within_a_small_budget() {
    assert_within(
        "heads-open",
        800,
        SMALL_CAP_MIB,
        &["--memory", SMALL_BUDGET],
    );
}

#[test]
fn flows_missing_their_first_segment_are_reported() {
    let (_m, run) = analyse("missing-first", 50);
    assert_reassembly_bounded(&run, 50);
    assert_eq!(count(&run.codes(), "tcp.gap"), 50);
    for c in &run.connections {
        assert_eq!(c.client_to_server.missing_bytes, FIRST_SEGMENT as u64);
    }
}

#[test]
fn flows_missing_their_first_segment_stay_within_a_small_budget() {
    assert_within(
        "missing-first",
        40_000,
        SMALL_CAP_MIB,
        &["--memory", SMALL_BUDGET],
    );
}
