//! Shared test helpers: synthetic packets and an analyzer that collects stream bytes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use etherparse::PacketBuilder;
use hopscope::base::{LinkType, PacketView, Timestamp};
use hopscope::capture::file::FileSource;
use hopscope::capture::{Next, PacketSource, SourceEnd};
use hopscope::engine::{Analyzer, Ctx, EngineConfig};
use hopscope::model::{CaptureSummary, ConnectionRecord, Finding, Record, RecordSink};
use hopscope::pipeline::{CaptureClock, Pipeline};
use hopscope::reassembly::Chunk;

/// Both directions of one connection as delivered: bytes, and gaps as (offset, len).
#[derive(Default, Debug, Clone)]
pub struct Streams {
    pub data: [Vec<u8>; 2],
    pub gaps: [Vec<(u64, u64)>; 2],
    pub closed: bool,
}

/// Collects every connection's streams, keyed by connection id.
#[derive(Default)]
pub struct Collector {
    pub done: BTreeMap<u64, Streams>,
}

impl Analyzer for Collector {
    type State = Streams;
    fn on_chunk(
        &mut self,
        st: &mut Streams,
        ctx: &Ctx,
        offset: u64,
        chunk: Chunk<'_>,
        _out: &mut dyn RecordSink,
    ) {
        let d = ctx.dir.index();
        let have = st.data[d].len() as u64 + st.gaps[d].iter().map(|g| g.1).sum::<u64>();
        assert_eq!(have, offset, "chunks must be contiguous");
        match chunk {
            Chunk::Data(b) => st.data[d].extend_from_slice(b),
            Chunk::Gap(n, _) => st.gaps[d].push((offset, n)),
        }
    }
    fn on_close(&mut self, st: &mut Streams, ctx: &Ctx, _out: &mut dyn RecordSink) {
        let mut s = std::mem::take(st);
        s.closed = true;
        self.done.insert(ctx.conn, s);
    }
}

pub struct Run {
    pub summary: CaptureSummary,
    pub connections: Vec<ConnectionRecord>,
    pub findings: Vec<Finding>,
    pub streams: BTreeMap<u64, Streams>,
}

impl Run {
    pub fn conn(&self, id: u64) -> &ConnectionRecord {
        self.connections
            .iter()
            .find(|c| c.id == id)
            .expect("connection id")
    }
    pub fn codes(&self) -> Vec<String> {
        self.findings
            .iter()
            .map(|f| f.code.name.to_string())
            .collect()
    }
}

fn split(records: Vec<Record>) -> (Vec<ConnectionRecord>, Vec<Finding>) {
    let mut c = Vec::new();
    let mut f = Vec::new();
    for r in records {
        match r {
            Record::Connection(x) => c.push(*x),
            Record::Finding(x) => f.push(*x),
            _ => {}
        }
    }
    c.sort_by_key(|x| x.id);
    (c, f)
}

/// In-memory packets as a capture source.
pub struct Packets<'a> {
    pkts: &'a [(Timestamp, LinkType, Vec<u8>)],
    at: usize,
}

impl<'a> Packets<'a> {
    pub fn new(pkts: &'a [(Timestamp, LinkType, Vec<u8>)]) -> Self {
        Packets { pkts, at: 0 }
    }
}

impl PacketSource for Packets<'_> {
    fn next(&mut self) -> Next<'_> {
        let Some((ts, link, data)) = self.pkts.get(self.at) else {
            return Next::End;
        };
        self.at += 1;
        Next::Packet(PacketView {
            ts: *ts,
            link: *link,
            data,
            orig_len: data.len() as u32,
            interface: 0,
            file: 0,
        })
    }
    fn position(&self) -> (u64, Option<u64>) {
        (self.at as u64, Some(self.pkts.len() as u64))
    }
    fn finish(&mut self) -> SourceEnd {
        SourceEnd {
            name: "memory".into(),
            format: "pcap".into(),
            ..SourceEnd::default()
        }
    }
}

/// Runs the engine with the stream [`Collector`] (no steps) over a source, through the same
/// pipeline and drive loop as every run.
fn collect(cfg: EngineConfig, src: &mut dyn PacketSource) -> (Run, Option<String>) {
    let mut p = Pipeline::bare(cfg, Collector::default(), Vec::new());
    let end = p.run(src, &CaptureClock);
    assert!(end.sink_error.is_none());
    assert_eq!(
        p.shard().buffered_bytes(),
        0,
        "reassembly buffers returned at the end"
    );
    assert_eq!(
        p.shard().retained_bytes(),
        0,
        "retained bytes returned at the end"
    );
    let streams = p.shard().analyzer().done.clone();
    let (connections, findings) = split(p.into_sink());
    (
        Run {
            summary: end.summary,
            connections,
            findings,
            streams,
        },
        end.capture_error.map(|e| e.to_string()),
    )
}

/// Runs the engine over in-memory packets.
pub fn run_packets(cfg: EngineConfig, pkts: &[(Timestamp, LinkType, Vec<u8>)]) -> Run {
    collect(cfg, &mut Packets::new(pkts)).0
}

/// Runs the engine over a capture file; returns the run and the reader's error, if any.
pub fn run_file(path: &Path) -> (Run, Option<String>) {
    let mut src = FileSource::open(path).expect("open capture");
    collect(EngineConfig::default(), &mut src)
}

/// A TCP/IPv4 Ethernet packet from a to b.
pub struct Tcp {
    pub src: ([u8; 4], u16),
    pub dst: ([u8; 4], u16),
}

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;

pub fn tcp4(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1])
        .ipv4(src.0, dst.0, 64)
        .tcp(src.1, dst.1, seq, 65535);
    if flags & SYN != 0 {
        b = b.syn();
    }
    if flags & ACK != 0 {
        b = b.ack(ack);
    }
    if flags & FIN != 0 {
        b = b.fin();
    }
    if flags & RST != 0 {
        b = b.rst();
    }
    if flags & PSH != 0 {
        b = b.psh();
    }
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).expect("build packet");
    v
}

/// Builds a scripted conversation with packet times 1 ms apart.
pub struct Script {
    pub pkts: Vec<(Timestamp, LinkType, Vec<u8>)>,
    pub t: i64,
}

impl Script {
    pub fn new() -> Self {
        Script {
            pkts: Vec::new(),
            t: 1_700_000_000_000_000_000,
        }
    }
    pub fn push(&mut self, pkt: Vec<u8>) {
        self.t += 1_000_000;
        self.pkts.push((Timestamp(self.t), LinkType::ETHERNET, pkt));
    }
    pub fn wait(&mut self, secs: f64) {
        self.t += (secs * 1e9) as i64;
    }
}

pub const C: ([u8; 4], u16) = ([192, 0, 2, 1], 40000);
pub const S: ([u8; 4], u16) = ([198, 51, 100, 2], 80);

/// A complete exchange: handshake, request, response, FIN/FIN.
pub fn exchange(
    s: &mut Script,
    c: ([u8; 4], u16),
    srv: ([u8; 4], u16),
    isn_c: u32,
    isn_s: u32,
    req: &[u8],
    resp: &[u8],
) {
    s.push(tcp4(c, srv, SYN, isn_c, 0, b""));
    s.push(tcp4(srv, c, SYN | ACK, isn_s, isn_c.wrapping_add(1), b""));
    s.push(tcp4(
        c,
        srv,
        ACK,
        isn_c.wrapping_add(1),
        isn_s.wrapping_add(1),
        b"",
    ));
    s.push(tcp4(
        c,
        srv,
        ACK | PSH,
        isn_c.wrapping_add(1),
        isn_s.wrapping_add(1),
        req,
    ));
    let rq = req.len() as u32;
    let rs = resp.len() as u32;
    s.push(tcp4(
        srv,
        c,
        ACK | PSH,
        isn_s.wrapping_add(1),
        isn_c.wrapping_add(1 + rq),
        resp,
    ));
    s.push(tcp4(
        c,
        srv,
        ACK | FIN,
        isn_c.wrapping_add(1 + rq),
        isn_s.wrapping_add(1 + rs),
        b"",
    ));
    s.push(tcp4(
        srv,
        c,
        ACK | FIN,
        isn_s.wrapping_add(1 + rs),
        isn_c.wrapping_add(2 + rq),
        b"",
    ));
    s.push(tcp4(
        c,
        srv,
        ACK,
        isn_c.wrapping_add(2 + rq),
        isn_s.wrapping_add(2 + rs),
        b"",
    ));
}

/// tshark's standard output reading `file` with `args`, or `None` when tshark is not there
/// or fails (the callers skip, saying so: `.ci/run` installs it).
pub fn tshark(file: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `../shared/corpus`, the independent oracles (public captures with what tshark, Zeek and
/// Suricata saw). A test that needs it fails when it is missing: a comparison that silently
/// did not run must not pass.
pub fn corpus_dir() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        p.join("MANIFEST.tsv").is_file(),
        "{} is missing: the corpus tests compare hopscope with tshark, Zeek and Suricata on \
         it and cannot pass without it",
        p.display()
    );
    p
}

/// Every capture of the corpus (`zeek/`, `suricata-verify/`), sorted; fails when there are
/// fewer than the 84 the corpus holds, so a half-copied corpus cannot pass either.
pub fn corpus_files() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut v = Vec::new();
    for sub in ["zeek", "suricata-verify"] {
        let rd = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(sub).display()));
        for e in rd.flatten() {
            let p = e.path();
            let name = p.to_string_lossy().to_string();
            if name.ends_with(".pcap") || name.ends_with(".pcapng") {
                v.push(p);
            }
        }
    }
    v.sort();
    assert!(
        v.len() >= 84,
        "only {} corpus captures in {}",
        v.len(),
        dir.display()
    );
    v
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// The captures at the top of `samples/` (`.pcap`, `.pcapng`), sorted.
pub fn sample_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .expect("samples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    v
}

/// A sample's entry in `samples/expected.json` (what the recording programs logged).
pub fn sample_fact(file: &str) -> serde_json::Value {
    let p = samples_dir().join("expected.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p).expect("expected.json")).expect("json");
    v["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .find(|c| c["file"] == file)
        .cloned()
        .unwrap_or_else(|| panic!("{file} is not in samples/expected.json"))
}

/// Everything the full pipeline (with the application analyzers) reports for a capture.
pub struct AppRun {
    pub summary: CaptureSummary,
    pub connections: Vec<ConnectionRecord>,
    pub transactions: Vec<hopscope::model::TransactionRecord>,
    pub websockets: Vec<hopscope::model::websocket::WebSocketRecord>,
    pub messages: Vec<hopscope::model::websocket::WsMessageRecord>,
    pub tunnels: Vec<hopscope::model::tunnel::TunnelRecord>,
    pub http2: Vec<hopscope::model::http2::Http2Record>,
    pub hops: Vec<hopscope::model::hops::ProxyHopRecord>,
    pub findings: Vec<Finding>,
    pub error: Option<String>,
}

impl AppRun {
    pub fn codes(&self) -> Vec<String> {
        self.findings
            .iter()
            .map(|f| f.code.name.to_string())
            .collect()
    }
}

/// Runs the whole pipeline, as `hopscope report` runs it (analyzers, proxy-hop correlation,
/// semantics), over a source.
fn analyse(cfg: hopscope::analyzers::AnalyzerConfig, src: &mut dyn PacketSource) -> AppRun {
    let mut p = Pipeline::new(EngineConfig::default(), cfg, Vec::new());
    let end = p.run(src, &CaptureClock);
    assert!(end.sink_error.is_none());
    assert_eq!(
        p.shard().buffered_bytes(),
        0,
        "reassembly buffers returned at the end"
    );
    let error = end.capture_error.map(|e| e.to_string());
    app_run(end.summary, p.into_sink(), error)
}

/// Runs the whole pipeline over a capture file.
pub fn run_app(path: &Path, cfg: hopscope::analyzers::AnalyzerConfig) -> AppRun {
    let mut src = FileSource::open(path).expect("open capture");
    analyse(cfg, &mut src)
}

/// Runs the whole pipeline over any source.
pub fn run_app_source(
    src: &mut dyn PacketSource,
    cfg: hopscope::analyzers::AnalyzerConfig,
) -> AppRun {
    analyse(cfg, src)
}

/// Every packet of a capture file, in memory (timestamp, link type, bytes).
pub fn read_packets(path: &Path) -> Vec<(Timestamp, LinkType, Vec<u8>)> {
    let mut src = FileSource::open(path).expect("open capture");
    let mut out = Vec::new();
    while let Ok(Some(p)) = src.next_packet() {
        out.push((p.ts, p.link, p.data.to_vec()));
    }
    out
}

/// Runs the whole pipeline (default settings) over in-memory packets.
pub fn run_app_packets(pkts: &[(Timestamp, LinkType, Vec<u8>)]) -> AppRun {
    analyse(Default::default(), &mut Packets::new(pkts))
}

/// Sorts an analyzer run's records by kind and id.
fn app_run(summary: CaptureSummary, out: Vec<Record>, error: Option<String>) -> AppRun {
    let mut r = AppRun {
        summary,
        connections: Vec::new(),
        transactions: Vec::new(),
        websockets: Vec::new(),
        messages: Vec::new(),
        tunnels: Vec::new(),
        http2: Vec::new(),
        hops: Vec::new(),
        findings: Vec::new(),
        error,
    };
    for rec in out {
        match rec {
            Record::Connection(c) => r.connections.push(*c),
            Record::Finding(f) => r.findings.push(*f),
            Record::Transaction(t) => r.transactions.push(*t),
            Record::WebSocket(w) => r.websockets.push(*w),
            Record::WsMessage(m) => r.messages.push(*m),
            Record::Tunnel(t) => r.tunnels.push(*t),
            Record::Http2(h) => r.http2.push(*h),
            Record::ProxyHop(h) => r.hops.push(*h),
        }
    }
    r.connections.sort_by_key(|c| c.id);
    r.transactions.sort_by_key(|t| t.id);
    r.websockets.sort_by_key(|w| w.id);
    r.messages.sort_by_key(|m| (m.websocket, m.index));
    r.tunnels.sort_by_key(|t| t.id);
    r.http2.sort_by_key(|h| h.id);
    r.hops.sort_by_key(|h| h.id);
    r
}

/// Runs [`run_app`] with every body kept whole (for byte-exact checks).
pub fn run_app_bodies(path: &Path) -> AppRun {
    let mut cfg = hopscope::analyzers::AnalyzerConfig::default();
    cfg.http.preview = 4 << 20;
    run_app(path, cfg)
}

/// `hopscope report INPUTS... --format json EXTRA...` run in `dir`: it must succeed; its JSON.
pub fn report_json<I, E>(dir: &Path, inputs: I, extra: E) -> serde_json::Value
where
    I: IntoIterator,
    I::Item: AsRef<std::ffi::OsStr>,
    E: IntoIterator,
    E::Item: AsRef<std::ffi::OsStr>,
{
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .current_dir(dir)
        .arg("report")
        .args(inputs)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("run hopscope");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json report")
}
