//! Files that lie about their framing (each stops the reader at the lie, with everything
//! before it analysed), and files that are no capture at all (issue 13 item 5: a report
//! for every run).

use hopscope::analyzers::AnalyzerConfig;

use super::{count, json_codes, make, report_capped};
use crate::common::run_app;

/// Every lie stops reading exactly where it starts; the packets before it are analysed.
#[test]
fn framing_lies_stop_at_the_lie_with_everything_before_it() {
    let lies = [
        (
            "pcap-lie-caplen",
            "corrupt capture",
            "claims 4294901760 captured bytes",
        ),
        (
            "pcap-lie-cut",
            "file ends in the middle of a record",
            "1500 captured",
        ),
        (
            "pcapng-lie-interface",
            "corrupt capture",
            "references interface 7",
        ),
        (
            "pcapng-lie-length",
            "corrupt capture",
            "differs from trailing length 64",
        ),
        (
            "pcapng-lie-caplen",
            "corrupt capture",
            "claims 4000 captured bytes",
        ),
    ];
    for (name, kind, what) in lies {
        let m = make(name, 50);
        let run = run_app(&m.path, AnalyzerConfig::default());
        let at = m.written.marked.expect("the lie's offset");
        let err = run.error.clone().unwrap_or_default();
        assert!(err.contains(kind), "{name}: {err}");
        assert!(err.contains(&format!("byte offset {at}")), "{name}: {err}");
        assert!(err.contains(what), "{name}: {err}");
        assert_eq!(run.summary.packets, m.written.packets, "{name}");
        // 7 exchanges of 8 packets: every one complete before the lie.
        assert_eq!(run.transactions.len(), 7, "{name}");
        assert_eq!(count(&run.codes(), "capture.incomplete"), 1, "{name}");
    }
}

#[test]
fn a_framing_lie_exits_2_with_a_report() {
    let m = make("pcapng-lie-length", 50);
    let r = report_capped(&m.path, 256, &[]);
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    let e = r.json["capture"]["error"].as_str().unwrap_or_default();
    assert!(e.contains("differs from trailing length 64"), "{e}");
    assert_eq!(r.json["capture"]["packets"], m.written.packets);
}

/// A file that cannot be read at all still gets a report with `capture.error`, exit 2.
fn assert_unreadable_report(name: &str, error_has: &str) {
    let m = make(name, 1000);
    let r = report_capped(&m.path, 256, &[]);
    assert_eq!(r.status, Some(2), "{name}: {}", r.stderr);
    let e = r.json["capture"]["error"].as_str().unwrap_or_default();
    assert!(e.contains(error_has), "{name}: capture.error {e:?}");
    assert_eq!(r.json["capture"]["packets"], 0, "{name}");
    let codes = json_codes(&r.json);
    assert_eq!(codes, ["capture.incomplete"], "{name}");
}

#[test]
fn not_a_capture_gets_a_report() {
    assert_unreadable_report("not-a-capture", "not a pcap or pcapng file");
}

#[test]
fn a_missing_file_gets_a_report() {
    assert_unreadable_report("missing-file", "cannot open");
}

#[test]
fn a_directory_gets_a_report() {
    assert_unreadable_report("directory", "directory");
}
