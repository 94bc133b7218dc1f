//! The drive loop over scripted sources and sinks: how a run ends, stops and fails.

use super::*;

#[test]
fn drop_findings_only_when_something_was_dropped() {
    assert!(drop_findings(&Dropped::default(), 10).is_empty());
    let d = Dropped {
        kernel: 3,
        interface: 0,
        hopscope: 5,
    };
    let f = drop_findings(&d, 10);
    let codes: Vec<_> = f.iter().map(|f| f.code.name).collect();
    assert_eq!(
        codes,
        ["capture.kernel-dropped", "capture.analysis-dropped"]
    );
    assert!(
        f[1].message.contains("queue of 10 packets"),
        "{}",
        f[1].message
    );
}
