//! The drive loop over scripted sources and sinks: how a run begins, ends, stops and fails.

use std::cell::Cell;

use etherparse::PacketBuilder;

use super::*;
use crate::base::{LinkType, PacketView};
use crate::model::CloseKind;

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

const T0: i64 = 1_700_000_000_000_000_000;

/// A TCP/IPv4 packet from 192.0.2.1:40000 (`up`) or back.
fn tcp(up: bool, syn: bool, ack: bool, fin: bool, seq: u32, ackno: u32, payload: &[u8]) -> Vec<u8> {
    let (a, b) = (([192, 0, 2, 1], 40000), ([198, 51, 100, 2], 80));
    let (s, d) = if up { (a, b) } else { (b, a) };
    let mut p = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(s.0, d.0, 64)
        .tcp(s.1, d.1, seq, 65535);
    if syn {
        p = p.syn();
    }
    if ack {
        p = p.ack(ackno);
    }
    if fin {
        p = p.fin();
    }
    let mut v = Vec::new();
    p.write(&mut v, payload).expect("packet");
    v
}

/// One HTTP exchange, closed by both sides.
fn exchange() -> Vec<Vec<u8>> {
    let req = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let (rq, rs) = (req.len() as u32, resp.len() as u32);
    vec![
        tcp(true, true, false, false, 99, 0, b""),
        tcp(false, true, true, false, 499, 100, b""),
        tcp(true, false, true, false, 100, 500, req),
        tcp(false, false, true, false, 500, 100 + rq, resp),
        tcp(true, false, true, true, 100 + rq, 500 + rs, b""),
        tcp(false, false, true, true, 500 + rs, 101 + rq, b""),
        tcp(true, false, true, false, 101 + rq, 501 + rs, b""),
    ]
}

/// Packets 1 ms apart, then (optionally) idle turns, then the end or an error.
struct Script {
    pkts: Vec<Vec<u8>>,
    at: usize,
    idle: usize,
    error: Option<CaptureError>,
    live: bool,
}

impl Script {
    fn new(pkts: Vec<Vec<u8>>) -> Self {
        Script {
            pkts,
            at: 0,
            idle: 0,
            error: None,
            live: false,
        }
    }
}

impl PacketSource for Script {
    fn next(&mut self) -> Next<'_> {
        if let Some(d) = self.pkts.get(self.at) {
            self.at += 1;
            return Next::Packet(PacketView {
                ts: Timestamp(T0 + self.at as i64 * 1_000_000),
                link: LinkType::ETHERNET,
                data: d,
                orig_len: d.len() as u32,
                interface: 0,
                file: 0,
            });
        }
        if self.idle > 0 {
            self.idle -= 1;
            return Next::Idle;
        }
        match self.error.take() {
            Some(e) => Next::Error(e),
            None => Next::End,
        }
    }
    fn position(&self) -> (u64, Option<u64>) {
        (self.at as u64, Some(self.pkts.len() as u64))
    }
    fn is_live(&self) -> bool {
        self.live
    }
    fn finish(&mut self) -> SourceEnd {
        SourceEnd {
            name: "script".into(),
            format: "pcap".into(),
            ..SourceEnd::default()
        }
    }
}

/// Records what the pipeline asked of it; fails or stops on request.
#[derive(Default)]
struct Probe {
    calls: Vec<String>,
    fail_at: Option<usize>,
    stop_at: Option<usize>,
    records: usize,
}

impl Sink for Probe {
    fn begin(&mut self) -> io::Result<Flow> {
        self.calls.push("begin".into());
        Ok(Flow::Continue)
    }
    fn record(&mut self, r: Record) -> io::Result<Flow> {
        self.records += 1;
        let kind = match r {
            Record::Connection(_) => "connection".to_string(),
            Record::Transaction(_) => "transaction".to_string(),
            Record::Finding(f) => format!("finding {}", f.code.name),
            _ => "other".to_string(),
        };
        self.calls.push(kind);
        if self.fail_at == Some(self.records) {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        if self.stop_at == Some(self.records) {
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
    fn progress(&mut self, p: &Progress) -> io::Result<Flow> {
        self.calls.push(format!("progress {}", p.packets));
        Ok(Flow::Continue)
    }
    fn finish(&mut self, s: &CaptureSummary) -> io::Result<()> {
        self.calls
            .push(format!("finish {} {}", s.source, s.packets));
        Ok(())
    }
}

fn run(script: &mut Script, sink: Probe) -> (RunEnd, Probe) {
    let mut p = Pipeline::new(EngineConfig::default(), AnalyzerConfig::default(), sink);
    let end = p.run(script, &CaptureClock);
    (end, p.into_sink())
}

#[test]
fn a_run_begins_reports_every_record_and_finishes_with_the_summary() {
    let (end, sink) = run(&mut Script::new(exchange()), Probe::default());
    assert!(end.sink_error.is_none() && end.capture_error.is_none());
    assert_eq!(sink.calls.first().map(String::as_str), Some("begin"));
    assert_eq!(
        sink.calls.last().map(String::as_str),
        Some("finish script 7")
    );
    assert!(sink.calls.contains(&"transaction".to_string()));
    assert!(sink.calls.contains(&"connection".to_string()));
    // The final progress comes just before the end, with every packet counted.
    assert_eq!(sink.calls[sink.calls.len() - 2], "progress 7");
    assert_eq!(end.summary.source, "script");
    assert!(end.summary.semantics.is_some(), "the semantics step ran");
    assert_eq!(end.summary.http.as_ref().map(|h| h.transactions), Some(1));
}

#[test]
fn a_read_error_is_reported_once_and_the_run_still_finishes() {
    let mut s = Script::new(exchange()[..4].to_vec());
    s.error = Some(CaptureError::Truncated {
        path: "x.pcap".into(),
        offset: 1234,
        what: "record header".into(),
    });
    let (end, sink) = run(&mut s, Probe::default());
    assert!(matches!(
        end.capture_error,
        Some(CaptureError::Truncated { .. })
    ));
    let msg = end.summary.error.clone().unwrap_or_default();
    assert!(msg.contains("byte offset 1234"), "{msg}");
    let incomplete: Vec<_> = sink
        .calls
        .iter()
        .filter(|c| *c == "finding capture.incomplete")
        .collect();
    assert_eq!(incomplete.len(), 1);
    // What was read before the error was analysed: the open connection is reported.
    assert!(sink.calls.contains(&"connection".to_string()));
    assert!(sink.calls.last().is_some_and(|c| c.starts_with("finish")));
}

#[test]
fn a_failing_sink_ends_the_run_at_once_and_is_not_finished() {
    let sink = Probe {
        fail_at: Some(1),
        ..Probe::default()
    };
    let (end, sink) = run(&mut Script::new(exchange()), sink);
    let e = end.sink_error.expect("the sink's error is the run's");
    assert_eq!(e.kind(), io::ErrorKind::StorageFull);
    assert_eq!(
        sink.records, 1,
        "nothing more was written after the failure"
    );
    assert!(!sink.calls.iter().any(|c| c.starts_with("finish")));
}

#[test]
fn a_sink_that_stops_the_run_still_gets_its_end() {
    // The transaction is the first record; stopping there leaves the last packets unread, and
    // the connection is reported as the run ends, still open.
    let sink = Probe {
        stop_at: Some(1),
        ..Probe::default()
    };
    let mut s = Script::new(exchange());
    let (end, sink) = run(&mut s, sink);
    assert!(end.sink_error.is_none());
    assert!(s.at < 7, "reading stopped early ({} packets read)", s.at);
    assert!(sink.calls.contains(&"connection".to_string()));
    assert!(sink.calls.last().is_some_and(|c| c.starts_with("finish")));
}

/// A clock frozen at a given time.
struct Frozen(Cell<i64>);

impl Clock for Frozen {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.get())
    }
}

#[test]
fn a_quiet_live_source_runs_the_idle_sweep_on_the_clock() {
    // A connection left open; the source then goes quiet while the clock passes the idle
    // timeout: the sweep reports it as timed out before the capture ends.
    let mut s = Script::new(exchange()[..4].to_vec());
    s.idle = 2;
    s.live = true;
    let clock = Frozen(Cell::new(T0 + 400 * 1_000_000_000));
    let mut p = Pipeline::bare(
        EngineConfig::default(),
        crate::engine::NoAnalyzer,
        Vec::new(),
    );
    let end = p.run(&mut s, &clock);
    assert!(end.sink_error.is_none());
    let closes: Vec<CloseKind> = p
        .sink()
        .iter()
        .filter_map(|r| match r {
            Record::Connection(c) => Some(c.close),
            _ => None,
        })
        .collect();
    assert_eq!(closes, [CloseKind::Timeout]);
}
