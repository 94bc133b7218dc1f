//! End-to-end engine behaviour on scripted TCP conversations (decode → flows → reassembly).

use crate::common::*;
use hopscope::engine::EngineConfig;
use hopscope::model::CloseKind;

#[test]
fn handshake_exchange_and_fin() {
    let mut s = Script::new();
    exchange(
        &mut s,
        C,
        S,
        1000,
        5000,
        b"GET / HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
    );
    let r = run_packets(EngineConfig::default(), &s.pkts);
    assert_eq!(r.connections.len(), 1);
    let c = r.conn(0);
    assert_eq!(c.client.to_string(), "192.0.2.1:40000");
    assert_eq!(c.server.to_string(), "198.51.100.2:80");
    assert_eq!(c.client_reason, "syn");
    assert!(c.handshake);
    assert_eq!(c.close, CloseKind::Fin);
    assert_eq!(c.client_to_server.bytes, 18);
    assert_eq!(c.server_to_client.bytes, 19);
    assert_eq!(c.client_to_server.packets, 5);
    assert_eq!(c.server_to_client.packets, 3);
    assert_eq!((c.client_isn, c.server_isn), (Some(1000), Some(5000)));
    assert_eq!(r.streams[&0].data[0], b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(r.streams[&0].data[1], b"HTTP/1.1 200 OK\r\n\r\n");
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.summary.packets, 8);
    assert_eq!(r.summary.tcp.connections, 1);
}

#[test]
fn isn_wraparound_across_exchange() {
    let mut s = Script::new();
    exchange(
        &mut s,
        C,
        S,
        u32::MAX - 5,
        u32::MAX,
        b"0123456789",
        b"abcdefghij",
    );
    let r = run_packets(EngineConfig::default(), &s.pkts);
    assert_eq!(r.streams[&0].data[0], b"0123456789");
    assert_eq!(r.streams[&0].data[1], b"abcdefghij");
    assert_eq!(r.conn(0).close, CloseKind::Fin);
}

#[test]
fn synack_before_syn_is_one_connection() {
    let mut s = Script::new();
    s.push(tcp4(S, C, SYN | ACK, 7000, 101, b""));
    s.push(tcp4(C, S, SYN, 100, 0, b""));
    s.push(tcp4(C, S, ACK, 101, 7001, b""));
    s.push(tcp4(C, S, ACK, 101, 7001, b"hi"));
    let r = run_packets(EngineConfig::default(), &s.pkts);
    assert_eq!(r.connections.len(), 1);
    let c = r.conn(0);
    assert_eq!(c.client.port, 40000);
    assert_eq!(c.client_reason, "syn-ack");
    assert!(c.handshake);
    assert_eq!(r.streams[&0].data[0], b"hi");
}

#[test]
fn capture_starting_with_server_data() {
    let mut s = Script::new();
    // No handshake; the first packet is the server's response.
    s.push(tcp4(S, C, ACK | PSH, 9000, 300, b"HTTP/1.1 200 OK\r\n"));
    s.push(tcp4(C, S, ACK, 300, 9017, b""));
    s.push(tcp4(
        C,
        S,
        ACK | PSH,
        300,
        9017,
        b"GET /next HTTP/1.1\r\n\r\n",
    ));
    let r = run_packets(EngineConfig::default(), &s.pkts);
    let c = r.conn(0);
    assert_eq!(c.client.port, 40000, "port 80 side is the server");
    assert!(!c.handshake);
    assert!(c.client_reason.contains("80"), "{}", c.client_reason);
    assert_eq!(c.close, CloseKind::Open);
    assert_eq!(r.streams[&0].data[1], b"HTTP/1.1 200 OK\r\n");
    assert_eq!(r.streams[&0].data[0], b"GET /next HTTP/1.1\r\n\r\n");
}

#[test]
fn port_reuse_after_close_is_a_new_connection() {
    let mut s = Script::new();
    exchange(&mut s, C, S, 1000, 5000, b"one", b"1");
    s.wait(1.0);
    exchange(&mut s, C, S, 90000, 70000, b"two", b"2");
    let r = run_packets(EngineConfig::default(), &s.pkts);
    assert_eq!(r.connections.len(), 2);
    assert_eq!(r.streams[&0].data[0], b"one");
    assert_eq!(r.streams[&1].data[0], b"two");
    assert_eq!(r.conn(0).close, CloseKind::Fin);
    assert_eq!(r.conn(1).close, CloseKind::Fin);
}

#[test]
fn retransmitted_syn_is_not_reuse() {
    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 1000, 0, b""));
    s.push(tcp4(C, S, SYN, 1000, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, 5000, 1001, b""));
    let r = run_packets(EngineConfig::default(), &s.pkts);
    assert_eq!(r.connections.len(), 1);
}

#[test]
fn new_syn_on_open_connection_with_other_isn_reuses() {
    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 1000, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, 5000, 1001, b""));
    s.push(tcp4(C, S, ACK, 1001, 5001, b"data"));
    s.push(tcp4(C, S, SYN, 424242, 0, b""));
    let r = run_packets(EngineConfig::default(), &s.pkts);
    assert_eq!(r.connections.len(), 2);
    assert_eq!(r.conn(0).close, CloseKind::Reused);
}

#[test]
fn rst_closes() {
    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 1, 0, b""));
    s.push(tcp4(S, C, RST | ACK, 0, 2, b""));
    let r = run_packets(EngineConfig::default(), &s.pkts);
    assert_eq!(r.conn(0).close, CloseKind::Rst);
    assert!(!r.conn(0).handshake);
}

#[test]
fn idle_timeout_in_packet_time() {
    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 1, 0, b""));
    s.wait(10.0);
    // An unrelated packet much later drives the clock.
    s.push(tcp4(([192, 0, 2, 9], 1234), S, SYN, 1, 0, b""));
    let cfg = EngineConfig {
        idle_timeout_ns: 5_000_000_000,
        ..EngineConfig::default()
    };
    let r = run_packets(cfg, &s.pkts);
    assert_eq!(r.conn(0).close, CloseKind::Timeout);
    assert_eq!(r.conn(1).close, CloseKind::Open);
}

#[test]
fn reordered_and_lost_segments_with_ack_evidence() {
    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 0, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, 0, 1, b""));
    s.push(tcp4(C, S, ACK, 1, 1, b""));
    s.push(tcp4(S, C, ACK, 11, 1, b"BBBBBBBBBB")); // ahead of the hole
    s.push(tcp4(S, C, ACK, 1, 1, b"AAAAAAAAAA")); // fills it
    s.push(tcp4(S, C, ACK, 31, 1, b"DDDDD")); // 21..31 never captured
    s.push(tcp4(C, S, ACK, 1, 36, b"")); // the client got it all
    let r = run_packets(EngineConfig::default(), &s.pkts);
    let st = &r.streams[&0];
    assert_eq!(st.data[1], b"AAAAAAAAAABBBBBBBBBBDDDDD");
    assert_eq!(st.gaps[1], vec![(20, 10)]);
    let c = r.conn(0);
    assert_eq!(c.server_to_client.out_of_order, 2);
    assert_eq!(c.server_to_client.gaps, 1);
    assert_eq!(c.server_to_client.missing_bytes, 10);
    assert!(r.codes().contains(&"tcp.gap".to_string()));
}

#[test]
fn overlap_conflict_is_a_finding() {
    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 0, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, 0, 1, b""));
    s.push(tcp4(C, S, ACK, 1, 1, b"GET /a HTTP/1.1\r\n"));
    s.push(tcp4(C, S, ACK, 1, 1, b"GET /b HTTP/1.1\r\n"));
    let r = run_packets(EngineConfig::default(), &s.pkts);
    assert_eq!(r.streams[&0].data[0], b"GET /a HTTP/1.1\r\n");
    let f = r
        .findings
        .iter()
        .find(|f| f.code.name == "tcp.overlap-conflict")
        .expect("finding");
    assert_eq!(f.packet, Some(4));
    assert_eq!(f.connection, Some(0));
    assert_eq!(f.stream_offset, Some(5));
    assert_eq!(r.conn(0).client_to_server.overlap_conflicts, 1);
}

#[test]
fn flow_limit_evicts_least_recent() {
    let mut s = Script::new();
    for i in 0..10u16 {
        s.push(tcp4(([192, 0, 2, 1], 40000 + i), S, SYN, 1, 0, b""));
    }
    let cfg = EngineConfig {
        max_flows: 4,
        ..EngineConfig::default()
    };
    let r = run_packets(cfg, &s.pkts);
    assert_eq!(
        r.connections.len(),
        10,
        "every connection is still reported"
    );
    assert!(
        r.connections
            .iter()
            .filter(|c| c.close == CloseKind::Evicted)
            .count()
            >= 6
    );
    assert!(r.summary.tcp.flows_evicted >= 6);
    assert_eq!(
        r.codes().iter().filter(|c| *c == "tcp.flow-limit").count(),
        1
    );
    assert!(r.summary.tcp.max_live_flows <= 4);
}

#[test]
fn trailing_ack_after_fin_stays_in_connection() {
    let mut s = Script::new();
    exchange(&mut s, C, S, 10, 20, b"q", b"r");
    s.wait(1.0);
    s.push(tcp4(C, S, ACK, 13, 23, b""));
    let r = run_packets(EngineConfig::default(), &s.pkts);
    assert_eq!(r.connections.len(), 1);
    assert_eq!(r.conn(0).client_to_server.packets, 6);
}

/// Live captures: with no packet arriving, the pipeline's idle sweep moves on by the capture's
/// clock, so a closed connection is reported after the linger (2 s), not at the next packet.
/// The source goes quiet three times, the clock first before the last packet, then 1.5 s and
/// 3 s after it: the connection arrives at the third, once, and the clock is not packet time.
#[test]
fn a_quiet_live_interface_still_reports_closed_connections() {
    use hopscope::base::Timestamp;
    use hopscope::capture::{Next, PacketSource, SourceEnd};
    use hopscope::model::{CaptureSummary, Flow, Record, Sink};
    use hopscope::pipeline::{Clock, Pipeline};
    use std::cell::Cell;
    use std::rc::Rc;

    /// The script's packets, then quiet moments, then the end.
    struct Quiet<'a> {
        pkts: Packets<'a>,
        /// Clock times the source goes quiet at, in turn.
        quiet: Vec<i64>,
        clock: Rc<Cell<i64>>,
    }
    impl PacketSource for Quiet<'_> {
        fn next(&mut self) -> Next<'_> {
            if let p @ Next::Packet(_) = self.pkts.next() {
                return p;
            }
            if self.quiet.is_empty() {
                return Next::End;
            }
            self.clock.set(self.quiet.remove(0));
            Next::Idle
        }
        fn position(&self) -> (u64, Option<u64>) {
            (self.pkts.position().0, None)
        }
        fn is_live(&self) -> bool {
            true
        }
        fn finish(&mut self) -> SourceEnd {
            SourceEnd {
                name: "live:quiet".into(),
                format: "live".into(),
                ..SourceEnd::default()
            }
        }
    }
    struct At(Rc<Cell<i64>>);
    impl Clock for At {
        fn now(&self) -> Timestamp {
            Timestamp(self.0.get())
        }
    }
    /// Each connection record with the clock's time when it came.
    struct Arrivals(Rc<Cell<i64>>, Vec<i64>, Option<CaptureSummary>);
    impl Sink for Arrivals {
        fn record(&mut self, r: Record) -> std::io::Result<Flow> {
            if matches!(r, Record::Connection(_)) {
                self.1.push(self.0.get());
            }
            Ok(Flow::Continue)
        }
        fn finish(&mut self, s: &CaptureSummary) -> std::io::Result<()> {
            self.2 = Some(s.clone());
            Ok(())
        }
    }

    let mut s = Script::new();
    exchange(
        &mut s,
        C,
        S,
        1000,
        5000,
        b"GET / HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
    );
    let last = s.pkts.last().map(|p| p.0).expect("packets");
    let clock = Rc::new(Cell::new(0));
    let mut src = Quiet {
        pkts: Packets::new(&s.pkts),
        quiet: vec![
            last.0 - 5_000_000_000,
            last.0 + 1_500_000_000,
            last.0 + 3_000_000_000,
        ],
        clock: clock.clone(),
    };
    let sink = Arrivals(clock.clone(), Vec::new(), None);
    let mut p = Pipeline::bare(EngineConfig::default(), hopscope::engine::NoAnalyzer, sink);
    let end = p.run(&mut src, &At(clock));
    assert!(end.sink_error.is_none());
    let sink = p.into_sink();
    assert_eq!(
        sink.1,
        [last.0 + 3_000_000_000],
        "reported after the linger, on the clock, once"
    );
    let summary = sink.2.expect("finished");
    assert_eq!(summary.packets, 8);
    assert_eq!(
        summary.time_went_backwards, 0,
        "the clock is not packet time"
    );
}

fn messages(r: &Run, code: &str) -> Vec<String> {
    r.findings
        .iter()
        .filter(|f| f.code.name == code)
        .map(|f| f.message.clone())
        .collect()
}

/// The gap says who lost the bytes: the capture (the receiver acknowledged them) or
/// hopscope's own bound (which one); bytes arriving after a bound gave them up are late data,
/// not retransmissions.
#[test]
fn gap_by_capture_versus_gap_by_limit_and_late_data() {
    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 0, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, 0, 1, b""));
    s.push(tcp4(C, S, ACK, 1, 1, b"0123456789"));
    s.push(tcp4(C, S, ACK, 21, 1, b"KLMNO")); // 11..21 missing
    s.push(tcp4(S, C, ACK, 1, 26, b"")); // ...and acknowledged: lost before the capture
    let r = run_packets(EngineConfig::default(), &s.pkts);
    let gaps = messages(&r, "tcp.gap");
    assert_eq!(gaps.len(), 1);
    assert!(
        gaps[0].starts_with(
            "10 bytes of this stream were not captured: the receiver acknowledged them"
        ),
        "{}",
        gaps[0]
    );

    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 0, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, 0, 1, b""));
    s.push(tcp4(C, S, ACK, 1, 1, b"a"));
    for i in 0..6u32 {
        // Ten bytes beyond a 2-byte hole: the bound gives the hole up; then its bytes arrive.
        s.push(tcp4(C, S, ACK, 4 + i * 12, 1, b"0123456789"));
        s.push(tcp4(C, S, ACK, 2 + i * 12, 1, b"xy"));
    }
    let cfg = EngineConfig {
        limits: hopscope::reassembly::Limits {
            max_ooo_bytes: 5,
            ..Default::default()
        },
        ..EngineConfig::default()
    };
    let r = run_packets(cfg, &s.pkts);
    let gaps = messages(&r, "tcp.gap");
    assert_eq!(gaps.len(), 3, "bounded per direction");
    assert!(gaps[0].contains("given up by hopscope, not lost by the capture: the out-of-order buffer of this direction was full (raise --max-ooo-bytes)"), "{}", gaps[0]);
    let late = messages(&r, "tcp.late-data");
    assert_eq!(late.len(), 3, "bounded per direction");
    assert!(late[0].starts_with("2 bytes arrived after they had been given up as a gap because the out-of-order buffer was full"), "{}", late[0]);
    let c = &r.conn(0).client_to_server;
    assert_eq!((c.gaps, c.missing_bytes, c.late_bytes), (6, 12, 12));
    assert_eq!(c.retransmitted, 0, "late data is not a retransmission");
    assert_eq!(c.bytes, 61);
}

/// A segment further than any window is ignored with a warning, not turned into a gigabyte
/// of missing bytes; the connection goes on.
#[test]
fn an_absurd_sequence_jump_is_a_finding_not_missing_bytes() {
    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 0, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, 0, 1, b""));
    s.push(tcp4(C, S, ACK, 1, 1, b"GET / HTTP/1.1\r\n"));
    for i in 0..5u32 {
        // 1.5 GiB and more ahead, and one 3 GB ahead (in 32-bit space: behind).
        let seq = 17u32.wrapping_add(if i == 4 { 3_000_000_000 } else { (3 << 29) + i });
        s.push(tcp4(C, S, ACK, seq, 1, b"junk"));
    }
    s.push(tcp4(C, S, ACK | FIN, 17, 1, b"\r\n"));
    s.push(tcp4(S, C, ACK | FIN, 1, 20, b""));
    s.push(tcp4(C, S, ACK, 20, 2, b""));
    let r = run_packets(EngineConfig::default(), &s.pkts);
    let c = &r.conn(0).client_to_server;
    assert_eq!((c.bytes, c.missing_bytes, c.gaps), (18, 0, 0));
    assert_eq!(c.sequence_jumps, 5);
    assert_eq!(c.retransmitted, 0);
    assert_eq!(r.streams[&0].data[0], b"GET / HTTP/1.1\r\n\r\n");
    let jumps = messages(&r, "tcp.sequence-jump");
    assert_eq!(jumps.len(), 3, "bounded per direction");
    assert!(jumps[0].starts_with("a 4-byte segment reaches 1610612740 bytes beyond where this stream was, further than any TCP window allows"), "{}", jumps[0]);
    let f = r
        .findings
        .iter()
        .find(|f| f.code.name == "tcp.sequence-jump")
        .expect("a sequence-jump finding");
    assert_eq!(f.severity().name(), "warning");
    assert_eq!(f.stream_offset, Some(16));
}
