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
            // The hand-written writers of the hottest records, too.
            let mut direct = Vec::new();
            hopscope::report::records::write_record(&mut direct, r, true).expect("direct");
            assert_eq!(
                String::from_utf8_lossy(&direct),
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

/// A WebSocket frame declaring a 2^63−1 byte payload, through the whole pipeline: the
/// counters report the bytes seen, the declared length has its own fields, and the fast
/// writer still matches serde_json on the new (optional) fields.
#[test]
fn hostile_websocket_frame_lengths_end_to_end() {
    let mut s = Script::new();
    let req = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let mut resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec();
    resp.extend_from_slice(&[0x82, 0x7f]);
    resp.extend_from_slice(&((1u64 << 63) - 1).to_be_bytes());
    resp.extend_from_slice(&[b'x'; 100]);
    exchange(&mut s, C, S, 1000, 5000, req, &resp);
    let mut cfg = hopscope::analyzers::AnalyzerConfig::default();
    cfg.ws.frames = true;
    let mut pipeline = Pipeline::new(EngineConfig::default(), cfg, Vec::new());
    pipeline.run(&mut Packets::new(&s.pkts), &CaptureClock);
    let out: Vec<Record> = pipeline.into_sink();
    let json = |r: &Record| {
        let mut fast = Vec::new();
        hopscope::report::fastjson::to_vec(&mut fast, r).expect("fast");
        assert_eq!(fast, serde_json::to_vec(r).expect("serde_json"));
        serde_json::from_slice::<serde_json::Value>(&fast).expect("json")
    };
    let conv = out
        .iter()
        .find(|r| matches!(r, Record::WebSocket(_)))
        .map(json)
        .expect("a conversation");
    let st = &conv["server_to_client"];
    assert_eq!(st["payload_bytes"], 100);
    assert_eq!(st["declared_bytes"], 9_223_372_036_854_775_807u64);
    assert_eq!(st["message_bytes"], 100);
    let msg = out
        .iter()
        .find(|r| matches!(r, Record::WsMessage(_)))
        .map(json)
        .expect("a message");
    assert_eq!(msg["wire_length"], 100);
    assert_eq!(msg["declared_length"], 9_223_372_036_854_775_807u64);
    assert_eq!(msg["partial"], true);
    assert_eq!(msg["frame_list"][0]["length"], 100);
    assert_eq!(
        msg["frame_list"][0]["declared_length"],
        9_223_372_036_854_775_807u64
    );
}
