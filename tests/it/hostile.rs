//! Issue 19: a hostile request is still a request. Terminal escape sequences and other
//! control bytes in the request target, a header name, a header value, the reason phrase and a
//! body: the transaction is kept and paired, each deviation flagged with the rule it breaks,
//! and every output shows the bytes escaped.

use crate::common::*;

const REQ: &[u8] = b"GET /a\x1b[31mred\x1b[0m\x07?x=\x1b]0;pwned\x07 HTTP/1.1\r\nHost: h\r\nX-\x1b[2J: v\r\nX-Title: \x1b]2;owned\x07\r\n\r\n";
const RESP: &[u8] =
    b"HTTP/1.1 200 O\x1b[5mK\x07\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n\x1b[2Jboom\x07\r\n";

fn run() -> AppRun {
    let mut s = Script::new();
    exchange(&mut s, ([192, 0, 2, 1], 40000), S, 1, 1, REQ, RESP);
    run_app_packets(&s.pkts)
}

#[test]
fn a_request_line_with_escape_sequences_is_a_paired_and_flagged_transaction() {
    let r = run();
    assert_eq!(r.transactions.len(), 1, "{:#?}", r.findings);
    let t = &r.transactions[0];
    let req = t.request.as_ref().expect("the request is kept");
    let resp = t.response.as_ref().expect("paired with its response");
    assert_eq!(resp.status, 200);
    assert_eq!(req.method, "GET");
    // The target as sent, bytes and all (escaped wherever it is shown).
    assert!(req.target.contains("\u{1b}[31mred"), "{:?}", req.target);
    let codes = r.codes();
    let starts: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code.name == "http.control-in-start-line")
        .map(|f| f.direction)
        .collect();
    assert_eq!(
        starts,
        [
            Some(hopscope::model::Dir::ClientToServer),
            Some(hopscope::model::Dir::ServerToClient)
        ],
        "the target and the reason phrase"
    );
    for want in [
        "http.control-in-start-line",
        "http.invalid-field-name",
        "http.invalid-field-value",
    ] {
        assert!(codes.iter().any(|c| c == want), "{want} not in {codes:?}");
    }
}

/// The text report shows every one of those bytes escaped (`\x1b`), never raw.
#[test]
fn the_text_report_escapes_them() {
    let mut s = Script::new();
    exchange(&mut s, ([192, 0, 2, 1], 40000), S, 1, 1, REQ, RESP);
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("hostile.pcap");
    crate::cli::write_pcap(&p, &s.pkts);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .arg("report")
        .arg(&p)
        .args(["--format", "text", "--bodies"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.stdout.iter().any(|&b| b == 0x1b || b == 0x07),
        "raw control bytes in the text report:\n{text}"
    );
    assert!(text.contains("/a\\x1b[31mred\\x1b[0m\\x07"), "{text}");
    assert!(text.contains("http.control-in-start-line"), "{text}");
    assert!(text.contains(" 200 "), "{text}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The same on a real capture (samples/http-hostile-escapes.pcap: a raw client to Python's
/// http.server, which answers with escapes in its reason phrase, a header and the body): one
/// transaction, paired, each deviation flagged on its side, and the text report with bodies
/// holds no raw control byte.
#[test]
fn a_real_hostile_exchange_is_kept_paired_flagged_and_escaped() {
    let file = samples_dir().join("http-hostile-escapes.pcap");
    let run = run_app(&file, Default::default());
    assert_eq!(run.transactions.len(), 1);
    let t = &run.transactions[0];
    let req = t.request.as_ref().expect("request");
    assert!(
        req.target.starts_with("/hostile/\u{1b}[31mred"),
        "{:?}",
        req.target
    );
    let resp = t.response.as_ref().expect("paired");
    assert_eq!(resp.status, 200);
    assert!(resp.reason.contains('\u{1b}'), "{:?}", resp.reason);
    let mut codes = run.codes();
    codes.sort();
    codes.dedup();
    assert_eq!(
        codes,
        [
            "http.control-in-start-line",
            "http.invalid-field-name",
            "http.invalid-field-value",
            "http.lenient-parse"
        ]
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .arg("report")
        .arg(&file)
        .args(["--format", "text", "--bodies"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(
        !out.stdout.iter().any(|&b| b < 0x20 && b != b'\n'),
        "raw control bytes"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/hostile/\\x1b[31mred"), "{text}");
}
