//! Floods and bombs: what holds on `main` and must keep holding (flows, fragments, heads,
//! chunks and decoded bytes stay within their bounds, and each bound hit is a finding).

use hopscope::engine::EngineConfig;

use super::cases::http::MANY_FIELDS;
use super::{analyse, analyse_engine, count, make};

#[test]
fn syn_flood_stays_within_the_flow_limit() {
    let m = make("syn-flood", 3_000);
    let cfg = EngineConfig {
        max_flows: 1_000,
        ..EngineConfig::default()
    };
    let (s, codes) = analyse_engine(&m.path, cfg);
    assert_eq!(s.packets, 3_000);
    assert_eq!(s.tcp.connections, 3_000, "every SYN is a connection");
    assert_eq!(s.tcp.max_live_flows, 1_000);
    // A full table evicts the least recently active 1/64 at once.
    let evicted = s.tcp.flows_evicted;
    assert!((2_000..=2_000 + 1_000 / 64).contains(&evicted), "{evicted}");
    assert_eq!(count(&codes, "tcp.flow-limit"), 1, "{codes:?}");
    assert_eq!(s.tcp.peak_buffered_bytes, 0, "a SYN buffers nothing");
}

#[test]
fn fragment_flood_stays_within_the_datagram_bound() {
    let (_m, run) = analyse("frag-flood", 3_000);
    let d = &run.summary.decode;
    assert_eq!(d.ipv4_fragments, 3_000);
    assert_eq!(d.fragments_reassembled, 0);
    // 1,024 datagrams are kept; every older one is evicted and its fragment counted.
    assert_eq!(d.fragments_expired, 3_000 - 1_024);
    assert_eq!(run.summary.tcp.connections, 0);
}

#[test]
fn header_bomb_is_bounded_and_named() {
    let (_m, run) = analyse("header-bomb", 20_000);
    let codes = run.codes();
    // 20,000 tiny fields and one 160,000-byte field: both heads are over 64 KiB.
    assert_eq!(count(&codes, "http.head-too-large"), 2, "{codes:?}");
    assert_eq!(count(&codes, "http.too-many-fields"), 1, "{codes:?}");
    let kept = run
        .transactions
        .iter()
        .filter_map(|t| t.request.as_ref())
        .find(|r| r.target == "/bomb/1")
        .map(|r| r.headers.len());
    // The limit is 256 fields kept of the MANY_FIELDS + Host sent.
    assert_eq!(kept, Some(256), "of {}", MANY_FIELDS + 1);
    assert!(run.transactions.len() <= 3);
}

#[test]
fn chunk_bomb_is_bounded_and_counted() {
    let (_m, run) = analyse("chunk-bomb", 10_000);
    let codes = run.codes();
    // A 10,001-digit chunk-size line and a chunk size past 2^64.
    assert_eq!(count(&codes, "http.chunked-error"), 2, "{codes:?}");
    let tiny = run
        .transactions
        .iter()
        .find(|t| t.request.as_ref().is_some_and(|r| r.target == "/chunks/2"))
        .and_then(|t| t.response.as_ref())
        .map(|r| (r.body.chunks, r.body.length));
    assert_eq!(
        tiny,
        Some((Some(10_000), 10_000)),
        "10,000 chunks of 1 byte"
    );
}

#[test]
fn http_decompression_bombs_stop_at_the_decoding_cap() {
    let (_m, run) = analyse("decompression-bomb", 32);
    let codes = run.codes();
    assert_eq!(count(&codes, "http.decoded-size-limit"), 3, "{codes:?}");
    let http = run.summary.http.as_ref().expect("http counters");
    assert_eq!(http.decode_capped, 3);
    let mut seen: Vec<(String, Option<u64>)> = run
        .transactions
        .iter()
        .filter_map(|t| {
            let r = t.response.as_ref()?;
            Some((r.body.content_encoding.join(","), r.body.decoded_length))
        })
        .collect();
    seen.sort();
    let cap = Some(16 << 20);
    assert_eq!(
        seen,
        [
            ("br".to_string(), cap),
            ("deflate".to_string(), cap),
            ("gzip".to_string(), cap)
        ]
    );
}

#[test]
fn websocket_deflate_bomb_stops_at_the_inflate_cap() {
    let (_m, run) = analyse("ws-deflate-bomb", 32);
    let codes = run.codes();
    assert_eq!(count(&codes, "ws.inflate-limit"), 1, "{codes:?}");
    assert_eq!(run.messages.len(), 1);
    let m = &run.messages[0];
    assert!(m.compressed);
    assert_eq!(m.length, 16 << 20, "inflated to the 16 MiB cap, not 32 MiB");
    let ws = &run.websockets[0].server_to_client;
    assert_eq!(ws.capped_messages, 1);
}
