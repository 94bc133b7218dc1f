//! The report's fast JSON writer produces exactly serde_json's output for every record of
//! every bundled capture (byte for byte), so the derives stay the single description of the
//! format.

use std::fs;

use crate::common::*;
use hopscope::engine::EngineConfig;
use hopscope::model::Record;
use hopscope::pipeline::{CaptureClock, Pipeline};

#[test]
fn fast_writer_matches_serde_json_on_every_sample_record() {
    let mut n = 0;
    let mut names: Vec<_> = fs::read_dir(samples_dir())
        .expect("samples")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    names.sort();
    for p in names {
        let mut src = hopscope::capture::file::FileSource::open(&p).expect("open");
        let mut cfg = hopscope::analyzers::AnalyzerConfig::default();
        cfg.http.preview = 1 << 16;
        // The whole pipeline, so proxy hops and semantics are serialized too.
        let mut pipeline = Pipeline::new(EngineConfig::default(), cfg, Vec::new());
        let summary = pipeline.run(&mut src, &CaptureClock).summary;
        let out: Vec<Record> = pipeline.into_sink();
        for r in &out {
            let mut fast = Vec::new();
            hopscope::report::fastjson::to_vec(&mut fast, r).expect("fast");
            let slow = serde_json::to_vec(r).expect("serde_json");
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&slow),
                "{}",
                p.display()
            );
            n += 1;
        }
        let mut fast = Vec::new();
        hopscope::report::fastjson::to_vec(&mut fast, &summary).expect("fast");
        assert_eq!(fast, serde_json::to_vec(&summary).expect("serde"));
    }
    assert!(n > 150, "{n} records compared");
}
