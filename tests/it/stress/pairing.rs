//! Nothing lost to an early gap (issue 13 item 2) and never a wrong pair (item 3): every
//! response of these cases echoes its request's target in `X-Echo`, so a transaction shows
//! whether it pairs a request with its own response.

use hopscope::model::TransactionRecord;

use super::cases::http::GAP_TXNS;
use super::{analyse, count};

/// A transaction's request target and its response's `X-Echo`.
fn pair(t: &TransactionRecord) -> (Option<String>, Option<String>) {
    let target = t.request.as_ref().map(|r| r.target.clone());
    let echo = t.response.as_ref().and_then(|r| {
        let v = r.headers.get("x-echo")?;
        Some(String::from_utf8_lossy(v).into_owned())
    });
    (target, echo)
}

/// Transactions that pair a request with another request's response.
fn wrong_pairs(ts: &[TransactionRecord]) -> Vec<(Option<String>, Option<String>)> {
    ts.iter()
        .map(pair)
        .filter(|(t, e)| t.is_some() && e.is_some() && t != e)
        .collect()
}

#[test]
fn early_gap_connections_are_reported() {
    let (_m, run) = analyse("early-gap", 3);
    assert_eq!(run.connections.len(), 3);
    for c in &run.connections {
        assert_eq!(c.client_to_server.gaps, 1);
        assert_eq!(c.client_to_server.missing_bytes, 1460);
    }
    assert!(wrong_pairs(&run.transactions).is_empty());
}

#[test]
fn transactions_after_an_early_gap_are_present() {
    let n = 3;
    let (_m, run) = analyse("early-gap", n);
    assert!(wrong_pairs(&run.transactions).is_empty());
    for i in 0..n {
        for t in 1..GAP_TXNS {
            let target = format!("/gap/{i}/{t}");
            let found = run
                .transactions
                .iter()
                .map(pair)
                .any(|p| p == (Some(target.clone()), Some(target.clone())));
            assert!(found, "{target} paired with its response");
        }
    }
    // The response to each lost request is reported: a finding, or an orphan response.
    let orphans = run
        .transactions
        .iter()
        .map(pair)
        .filter(|(t, e)| t.is_none() && e.as_deref().is_some_and(|e| e.ends_with("/0")))
        .count();
    let found = count(&run.codes(), "http.response-without-request-captured");
    assert!(
        orphans == n as usize || found == n as usize,
        "{orphans} orphan responses, {found} findings"
    );
}

/// Requests past the pipeline limit (256 waiting) at this scale.
const PIPELINED: u64 = 600;

#[test]
fn a_pipeline_past_its_limit_counts_every_message() {
    let (_m, run) = analyse("pipeline", PIPELINED);
    let http = run.summary.http.as_ref().expect("http counters");
    assert_eq!(http.requests, PIPELINED);
    assert_eq!(http.responses, PIPELINED);
    assert!(count(&run.codes(), "http.pipeline-limit") >= 1);
}

#[test]
fn a_pipeline_past_its_limit_never_pairs_wrongly() {
    let (_m, run) = analyse("pipeline", PIPELINED);
    let wrong = wrong_pairs(&run.transactions);
    assert!(
        wrong.is_empty(),
        "{} wrong pairs, e.g. {:?}",
        wrong.len(),
        wrong.first()
    );
    let limit: Vec<_> = run
        .findings
        .iter()
        .filter(|f| f.code.name == "http.pipeline-limit")
        .collect();
    assert_eq!(limit.len(), 1, "one finding per connection");
    let dropped = (PIPELINED - 256).to_string();
    assert!(limit[0].message.contains(&dropped), "{}", limit[0].message);
    // Every response is accounted for: paired with its own request, or an orphan.
    let responses = run
        .transactions
        .iter()
        .filter(|t| t.response.is_some())
        .count();
    assert_eq!(responses as u64, PIPELINED);
}
