//! The memory budget (`--memory`): connection state is counted, and when it is full the engine
//! sheds by its documented policy (idle connections first, then the largest buffers of the
//! least active ones, then the least active connections), each shedding a finding and a
//! counter, never a crash or a wrong record.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use hopscope::analyzers::AnalyzerConfig;
use hopscope::engine::EngineConfig;
use hopscope::model::{CaptureSummary, CloseKind, Record};
use hopscope::pipeline::{CaptureClock, Pipeline};

use crate::common::*;

/// A third of the default budget: the steps take a third of their default bounds (28 MiB),
/// and connection state gets the rest.
const BUDGET: usize = 32 << 20;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// `n` connections, each a request and the first segment of a response whose body is
/// compressed four times over and never ends: four inflaters (~59 KiB each) per connection,
/// all open at once.
fn stacked_gzip(n: u16, s: &mut Script) {
    let mut body = vec![b'y'; 256 << 10];
    for _ in 0..4 {
        body = gzip(&body);
    }
    body.truncate(1000);
    for i in 0..n {
        let c = ([10, 0, (i >> 8) as u8, i as u8], 20000 + i);
        let req = b"GET /g HTTP/1.1\r\nHost: h\r\n\r\n";
        let mut resp = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip, gzip, gzip\r\n\
                          Content-Length: 9999999\r\n\r\n"
            .to_vec();
        resp.extend_from_slice(&body);
        s.push(tcp4(c, S, SYN, 1000, 0, b""));
        s.push(tcp4(S, c, SYN | ACK, 5000, 1001, b""));
        s.push(tcp4(c, S, ACK | PSH, 1001, 5001, req));
        s.push(tcp4(S, c, ACK | PSH, 5001, 1001 + req.len() as u32, &resp));
    }
}

fn run(
    pkts: &[(hopscope::base::Timestamp, hopscope::base::LinkType, Vec<u8>)],
) -> (CaptureSummary, Vec<Record>) {
    let cfg = EngineConfig {
        memory: BUDGET,
        ..EngineConfig::default()
    };
    let mut p = Pipeline::new(cfg, AnalyzerConfig::default(), Vec::new());
    let end = p.run(&mut Packets::new(pkts), &CaptureClock);
    assert!(end.sink_error.is_none());
    (end.summary, p.into_sink())
}

fn codes(records: &[Record], code: &str) -> usize {
    records
        .iter()
        .filter(|r| matches!(r, Record::Finding(f) if f.code.name == code))
        .count()
}

#[test]
fn decoders_are_shed_before_connections_and_the_count_stays_in_the_budget() {
    let mut s = Script::new();
    stacked_gzip(200, &mut s);
    let (summary, records) = run(&s.pkts);
    let m = &summary.memory;
    assert_eq!(m.budget, BUDGET as u64);
    let share = BUDGET as u64 - (28 << 20) / 3;
    assert!(m.connection_budget.abs_diff(share) < 8 << 10, "{m:?}");
    // 200 × four inflaters would be ~47 MiB: the budget was full, and stayed a bound (a
    // packet's worth over it at most, before shedding brings it down).
    assert!(m.budget_full_at.is_some(), "{m:?}");
    assert!(m.peak <= m.connection_budget + (512 << 10), "{m:?}");
    assert!(m.buffers_shed >= 100, "{m:?}");
    assert!(m.bytes_shed > 10 << 20, "{m:?}");
    // Giving the decoders up was enough: no connection was closed early.
    assert_eq!(m.connections_shed, 0, "{m:?}");
    assert_eq!(codes(&records, "memory.budget-full"), 1);
    let shed = codes(&records, "memory.buffer-shed");
    assert!((1..=100).contains(&shed), "{shed} buffer-shed findings");
    // Nothing lost or mispaired: every transaction is there, the shed bodies say so.
    let txns: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Transaction(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(txns.len(), 200);
    let decoding = |t: &hopscope::model::TransactionRecord| {
        t.response
            .as_ref()
            .and_then(|r| r.body.decoding)
            .unwrap_or("none")
    };
    let n_shed = txns.iter().filter(|t| decoding(t) == "shed").count();
    // Every shedding gave up one body's decoders, and that body says so.
    assert_eq!(n_shed as u64, m.buffers_shed, "{m:?}");
    assert!(
        txns.iter()
            .all(|t| t.request.as_ref().is_some_and(|r| r.target == "/g"))
    );
    let shed_finding = records.iter().find_map(|r| match r {
        Record::Finding(f) if f.code.name == "memory.buffer-shed" => Some(f.message.clone()),
        _ => None,
    });
    let msg = shed_finding.unwrap_or_default();
    assert!(msg.contains("gzip, gzip, gzip, gzip decoder"), "{msg}");
}

#[test]
fn idle_connections_go_first() {
    let mut s = Script::new();
    // 40 connections left open, then 12 s of quiet, then the decoder flood.
    for i in 0..40u16 {
        let c = ([10, 1, 0, i as u8], 30000 + i);
        s.push(tcp4(c, S, SYN, 1, 0, b""));
        s.push(tcp4(S, c, SYN | ACK, 7, 2, b""));
        s.push(tcp4(
            c,
            S,
            ACK | PSH,
            2,
            8,
            b"GET /idle HTTP/1.1\r\nHost: h\r\n\r\n",
        ));
    }
    s.wait(12.0);
    stacked_gzip(200, &mut s);
    let (summary, records) = run(&s.pkts);
    let m = &summary.memory;
    assert!(m.connections_shed >= 1, "{m:?}");
    // The connections shed are the idle ones, reported as evicted.
    let evicted: Vec<u64> = records
        .iter()
        .filter_map(|r| match r {
            Record::Connection(c) if c.close == CloseKind::Evicted => Some(c.id),
            _ => None,
        })
        .collect();
    assert_eq!(evicted.len() as u64, m.connections_shed);
    assert!(evicted.iter().all(|id| *id < 40), "{evicted:?}");
    assert!(codes(&records, "memory.connection-shed") >= 1);
}

#[test]
fn a_small_capture_is_not_touched() {
    let mut s = Script::new();
    stacked_gzip(5, &mut s);
    let (summary, records) = run(&s.pkts);
    let m = &summary.memory;
    assert!(m.budget_full_at.is_none(), "{m:?}");
    assert_eq!(
        (m.connections_shed, m.buffers_shed, m.bytes_shed),
        (0, 0, 0)
    );
    // Five connections with four inflaters each were counted.
    assert!(m.peak > 5 * 4 * (43 << 10), "{m:?}");
    assert_eq!(codes(&records, "memory.buffer-shed"), 0);
}
