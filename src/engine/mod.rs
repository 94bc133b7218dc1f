//! The analysis engine: decode → flow table → reassembly → analyzers, sans-IO.
//!
//! Two parts, which the pipeline's one drive loop (`crate::pipeline`) calls: the [`Front`]
//! (counts, packet time, the sweeps' schedule, decoding) on the thread that reads, and a
//! [`Shard`] (flows, reassembly, the analyzer): the one of a run on one thread, or one per
//! worker of `--threads N`. A segment goes in with its capture timestamp, records come out
//! into a [`RecordSink`]; the engine never reads a clock, a file or a socket, so the same code
//! runs over files, behind the live capture thread and in tests (which drive it through
//! `Pipeline::bare`).

pub mod collect;
mod memory;
mod stream_findings;

use crate::base::{LinkType, PacketView, Timestamp};
use crate::decode::{Decoded, Decoder, TcpSegment};
use crate::flow::seen::{PointsOffset, SameConnection, Seen};
use crate::flow::{Conn, FlowKey, FlowTable, community_id, guess_client};
use rustc_hash::FxHashMap;

use crate::model::tunnel::TlsInfo;
use crate::model::{
    CaptureSummary, CloseKind, ConnectionRecord, Dir, Endpoint, Finding, Note, Record, RecordSink,
    SeenIn, TcpSummary, codes, pack,
};
use crate::reassembly::{Budget, Chunk, Deliver, Event, GapCause, Limits};

/// Where a chunk of stream belongs.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    pub conn: u64,
    pub dir: Dir,
    pub client: Endpoint,
    pub server: Endpoint,
    /// Timestamp and number of the packet that completed this delivery.
    pub ts: Timestamp,
    pub packet: u64,
    /// This direction's start was not captured (no SYN): offset 0 is wherever the capture
    /// began, possibly inside a message.
    pub midstream: bool,
}

/// An application-layer analyzer fed with reassembled streams.
///
/// `State` lives in each connection. The analyzer itself holds what is shared (configuration,
/// counters). Chunks arrive in stream order per direction; a [`Chunk::Gap`] says how many bytes
/// are missing.
pub trait Analyzer {
    type State: Default;
    fn on_chunk(
        &mut self,
        state: &mut Self::State,
        ctx: &Ctx,
        offset: u64,
        chunk: Chunk<'_>,
        out: &mut dyn RecordSink,
    );
    fn on_close(&mut self, _state: &mut Self::State, _ctx: &Ctx, _out: &mut dyn RecordSink) {}
    /// Bytes a connection's state holds (buffers, decoders, records in progress): the memory
    /// budget's count of it, taken after every delivery.
    fn footprint(&self, _state: &Self::State) -> usize {
        0
    }
    /// The memory budget is short: give up what the connection's state can give up (body
    /// decoders, inflaters), each named in one line of what is returned (what was given up
    /// and what that costs the analysis); the engine counts what was freed and reports it.
    fn shed(&mut self, _state: &mut Self::State) -> Vec<String> {
        Vec::new()
    }
    /// The analyzer wants nothing more from this capture (a pass over one connection that
    /// ended): the run stops reading and finishes.
    fn done(&self) -> bool {
        false
    }
    /// Adds what the analyzer knows of a connection to its record (TLS), before it is closed.
    fn annotate(&self, _state: &Self::State, _record: &mut ConnectionRecord) {}
    /// A capture's embedded secrets (a pcapng Decryption Secrets Block of type `kind`, at
    /// byte `at` of the file).
    fn secrets(&mut self, _kind: u32, _at: u64, _data: &[u8]) {}
    /// The capture ended and every connection was closed: what is left to report.
    fn finish(&mut self, _out: &mut dyn RecordSink) {}
    /// Adds the analyzer's counters to the capture summary at the end.
    fn summarize(&self, _summary: &mut CaptureSummary) {}
    /// The run reads several captures (before the first packet): what only pairing across
    /// captures needs is worth its cost now (body digests).
    fn several_captures(&mut self) {}
    /// The run is split over threads by connection (`pipeline::threads`), this analyzer sees
    /// some of them: what is decided across connections is left to the merge (findings
    /// reported once per run carry their key; findings about key sources say which they are
    /// with [`Note::KeySources`](crate::model::Note)).
    fn sharded(&mut self) {}
    /// The ids the analyzer gave so far, per kind (the merge maps a thread's to the run's):
    /// transactions, WebSockets, tunnels, HTTP/2 connections.
    fn ids_given(&self) -> [u64; ID_KINDS] {
        [0; ID_KINDS]
    }
}

/// Kinds of ids an analyzer gives ([`Analyzer::ids_given`]).
pub const ID_KINDS: usize = 4;

/// Reassembly only: the spine without application analyzers.
#[derive(Default)]
pub struct NoAnalyzer;

impl Analyzer for NoAnalyzer {
    type State = ();
    fn on_chunk(&mut self, _: &mut (), _: &Ctx, _: u64, _: Chunk<'_>, _: &mut dyn RecordSink) {}
}

/// Engine settings (validated by the CLI).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub limits: Limits,
    /// Bytes buffered across all flows (out-of-order and mid-stream hold).
    pub max_buffered_bytes: usize,
    /// Live flows in the table; beyond it the least recently active are evicted.
    pub max_flows: usize,
    /// A connection with no packet for this long (packet time) is closed as `timeout`.
    pub idle_timeout_ns: i64,
    /// A closed connection's record waits this long (packet time) for trailing packets (the
    /// last ACK, late duplicates) before it is reported.
    pub close_linger_ns: i64,
    /// Findings of the same kind reported per connection direction before only counting.
    pub max_gap_findings: u32,
    /// Undecodable packets reported individually before only counting.
    pub max_decode_findings: u64,
    /// Bytes of connection state the engine and its analyzer may hold together (flow table,
    /// reassembly buffers, the analyzers' per-connection state); beyond it the engine sheds
    /// by its policy (`engine::memory`).
    pub memory: usize,
    /// Several inputs: connections list the files their packets came from.
    pub track_files: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            limits: Limits::default(),
            max_buffered_bytes: 32 << 20,
            max_flows: 100_000,
            idle_timeout_ns: 300 * 1_000_000_000,
            close_linger_ns: 2 * 1_000_000_000,
            max_gap_findings: 3,
            max_decode_findings: 50,
            memory: 96 << 20,
            track_files: false,
        }
    }
}

/// Capture time between sweeps (closed connections past their linger reported, idle ones
/// closed). A quarter second, not a second: on a busy capture a sweep reports every
/// connection closed in that time at once, and the lingering ones wait up to that long past
/// their linger (the benchmark closes ~6,000 a second: peak RSS −4.5 MB with one thread,
/// −4.2 MB with two). Scanning the flow table four times as often is a few instructions a
/// packet.
const SWEEP_EVERY_NS: i64 = 250_000_000;

/// Several capture points: how long a closed connection waits for its copies from the other
/// points (their clocks may disagree by seconds; a given `--clock-offset` lines them up).
pub const MULTI_POINT_LINGER_NS: i64 = 30 * 1_000_000_000;

/// A connection that closed cleanly with everything delivered: its streams and analyzer
/// state are gone, only its record waits for trailing packets until the linger period ends.
/// Memory then follows live connections, not the connection rate times the linger.
///
/// The record waits packed (`model::pack`: about 110 bytes where the struct and its two
/// strings were 500; with tens of thousands lingering at once on a busy capture it was the
/// largest part of the heap), its TLS summary beside it.
struct Lingering {
    packed: Box<[u8]>,
    tls: Option<Box<TlsInfo>>,
    id: u64,
    client: Endpoint,
    closed_at: Timestamp,
    isn: [Option<u32>; 2],
    /// Several capture points: copies still arrive from the others.
    seen: Option<Box<Seen>>,
    absorbed: Absorbed,
}

impl Lingering {
    /// `scratch`: room to pack in, reused.
    fn new(
        scratch: &mut Vec<u8>,
        mut record: ConnectionRecord,
        closed_at: Timestamp,
        isn: [Option<u32>; 2],
        seen: Option<Box<Seen>>,
    ) -> Self {
        // Packed without its id (kept beside it), so the packed size, counted in the memory
        // figures, is the same whichever thread's numbering the id is in.
        let id = std::mem::take(&mut record.id);
        scratch.clear();
        // The Community ID as `Tcp::close_conn` left it (empty: made here, on the stack).
        let mut buf = [0u8; community_id::LEN];
        let cid = if record.community_id.is_empty() {
            community_id::v1_into(record.client, record.server, community_id::TCP, 0, &mut buf)
        } else {
            &record.community_id
        };
        pack::encode_conn_with(&record, cid, scratch);
        Lingering {
            packed: Box::from(&scratch[..]),
            tls: record.tls.take(),
            id,
            client: record.client,
            closed_at,
            isn,
            seen,
            absorbed: Absorbed::default(),
        }
    }

    /// The record back, TLS summary included.
    fn into_record(self) -> ConnectionRecord {
        let mut r = Self::unpack(&self.packed, self.tls, self.id, self.client);
        self.absorbed.apply(&mut r);
        r
    }

    fn unpack(
        packed: &[u8],
        tls: Option<Box<TlsInfo>>,
        id: u64,
        client: Endpoint,
    ) -> ConnectionRecord {
        match pack::decode_conn(packed, tls) {
            Some(mut r) => {
                r.id = id;
                r
            }
            // Not reached: the bytes are the encoder's own (`tests::lingering_records_unpack_as_packed`).
            // Should it happen, the connection is still reported, by id and client.
            None => Conn::<()>::new(
                id,
                client,
                client,
                "record lost while lingering".into(),
                Timestamp::default(),
                0,
            )
            .record(CloseKind::Fin),
        }
    }

    /// A packet after the close: counted beside the packed record (applied when it is
    /// unpacked). Its payload was either delivered already or lies past the FIN; it is not
    /// analysed.
    fn absorb(&mut self, d: usize, seg: &TcpSegment<'_>, ts: Timestamp, n: u64) {
        let a = &mut self.absorbed;
        a.packets[d] += 1;
        let len = seg.payload.len() as u64 + u64::from(seg.missing_tail);
        if len > 0 {
            a.with_data[d] += 1;
            a.bytes[d] += len;
        }
        if a.end.is_none_or(|e| ts > e) {
            a.end = Some(ts);
        }
        a.last_packet = Some(n);
    }
}

/// Trailing packets a lingering record absorbed, per direction (client's first).
#[derive(Default)]
struct Absorbed {
    packets: [u64; 2],
    with_data: [u64; 2],
    bytes: [u64; 2],
    end: Option<Timestamp>,
    last_packet: Option<u64>,
}

impl Absorbed {
    fn apply(&self, r: &mut ConnectionRecord) {
        for (d, st) in [&mut r.client_to_server, &mut r.server_to_client]
            .into_iter()
            .enumerate()
        {
            st.packets += self.packets[d];
            st.wire_bytes += self.bytes[d];
            st.retransmitted += self.with_data[d];
            st.overlapping += self.with_data[d];
            st.overlap_unverified_bytes += self.bytes[d];
        }
        if let Some(t) = self.end
            && t > r.end
        {
            r.end = t;
        }
        if let Some(n) = self.last_packet {
            r.last_packet = n;
        }
    }
}

/// TCP state, separate from the decoder so a decoded segment can borrow the decoder.
struct Tcp<A: Analyzer> {
    cfg: EngineConfig,
    flows: FlowTable<A::State>,
    /// Boxed whole: the map holds a key and a pointer (48 bytes a slot), so its table stays small
    /// while thousands linger.
    lingering: FxHashMap<FlowKey, Box<Lingering>>,
    /// The lingering records' packed bytes, for the memory count.
    lingering_bytes: usize,
    /// Room a record is packed in before it is copied to its exact size.
    pack_scratch: Vec<u8>,
    analyzer: A,
    budget: Budget,
    next_id: u64,
    stats: TcpSummary,
    flow_limit_reported: bool,
    scratch: Vec<FlowKey>,
    /// The input file of the packet being handled, and its captured length.
    file: u32,
    pkt_bytes: u64,
    /// Several capture points: each input file's (the files of a rotated set are one point,
    /// as are a file's own packets); empty for one point. See `flow::seen`.
    points: Vec<u32>,
    /// The clock offsets connections seen at two points gave.
    same_connection: SameConnection,
    /// Packets that were copies, per input file.
    copies_by_file: Vec<u64>,
    /// The memory budget's count of connection state, and what shedding did.
    mem: memory::Memory,
}

/// The engine's part that reads every packet in capture order: the capture's counts, packet
/// time, the sweep's schedule and the decoder (IP defragmentation, undecodable packets). A run
/// split over threads keeps it on the reading thread; the connections go to [`Shard`]s.
pub struct Front {
    decoder: Decoder,
    summary: CaptureSummary,
    link_counts: Vec<(LinkType, u64)>,
    packet_no: u64,
    now: Timestamp,
    last_sweep: Timestamp,
    bad: Undecodables,
}

/// What [`Front`] reported of undecodable packets.
struct Undecodables {
    findings: u64,
    max_findings: u64,
    unsupported_links: Vec<LinkType>,
}

impl Front {
    pub fn new(cfg: &EngineConfig) -> Self {
        Front {
            decoder: Decoder::new(),
            summary: CaptureSummary::default(),
            link_counts: Vec::new(),
            packet_no: 0,
            now: Timestamp::ZERO,
            last_sweep: Timestamp::ZERO,
            bad: Undecodables {
                findings: 0,
                max_findings: cfg.max_decode_findings,
                unsupported_links: Vec::new(),
            },
        }
    }

    /// Packets counted so far.
    pub fn packets(&self) -> u64 {
        self.packet_no
    }

    /// Packet time: the latest timestamp seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Bytes the decoder holds for IP fragments.
    pub fn held_bytes(&self) -> usize {
        self.decoder.held_bytes()
    }

    /// Counts one packet and advances packet time. Returns its number, and the time of the
    /// sweep due before it is analysed, if one is.
    #[inline]
    pub fn begin(&mut self, pkt: &PacketView<'_>) -> (u64, Option<Timestamp>) {
        self.packet_no += 1;
        let n = self.packet_no;
        let s = &mut self.summary;
        s.packets += 1;
        s.bytes += pkt.data.len() as u64;
        s.wire_bytes += u64::from(pkt.orig_len);
        if (pkt.data.len() as u64) < u64::from(pkt.orig_len) {
            s.truncated += 1;
        }
        match self.link_counts.iter_mut().find(|(l, _)| *l == pkt.link) {
            Some((_, c)) => *c += 1,
            None => self.link_counts.push((pkt.link, 1)),
        }
        if s.first_ts.is_none() {
            s.first_ts = Some(pkt.ts);
        }
        s.last_ts = Some(pkt.ts);
        if pkt.ts < self.now {
            s.time_went_backwards += 1;
        } else {
            self.now = pkt.ts;
        }
        let now = self.now;
        let sweep = (now.saturating_sub(self.last_sweep) >= SWEEP_EVERY_NS).then(|| {
            self.last_sweep = now;
            now
        });
        (n, sweep)
    }

    /// A quiet live capture reached `now`: whether the sweep is due at it.
    pub fn tick(&mut self, now: Timestamp) -> bool {
        if self.packet_no == 0 || now <= self.now {
            return false;
        }
        if now.saturating_sub(self.last_sweep) >= SWEEP_EVERY_NS {
            self.last_sweep = now;
            return true;
        }
        false
    }

    /// Decodes packet `n` (counted by [`Front::begin`]): its TCP segment, if it is one;
    /// undecodable packets are counted and reported here. Inlined into the drive loop (the
    /// segment is then not copied out of an enum and an `Option` again); what is not a TCP
    /// segment goes out of line.
    #[inline]
    pub fn decode<'a>(
        &'a mut self,
        pkt: &PacketView<'a>,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> Option<TcpSegment<'a>> {
        match self.decoder.decode(pkt) {
            Decoded::Tcp(seg) => Some(seg),
            Decoded::NotTcp { .. } | Decoded::FragmentHeld => None,
            Decoded::Undecodable(e) => {
                self.summary.undecodable += 1;
                self.bad.report(pkt, n, &e, out);
                None
            }
        }
    }

    /// The end of the capture, after the connections were finished: the count of undecodable
    /// packets not reported one by one, and the summary of what this part counted.
    pub fn finish(&mut self, out: &mut dyn RecordSink) -> CaptureSummary {
        let extra = self.summary.undecodable.saturating_sub(self.bad.findings);
        if self.bad.findings >= self.bad.max_findings && extra > 0 {
            out.record(Record::Finding(Box::new(Finding::new(
                &codes::DECODE_UNDECODABLE,
                format!(
                    "{extra} more undecodable packets were counted but not reported one by one"
                ),
            ))));
        }
        let mut s = self.summary.clone();
        s.link_types = self
            .link_counts
            .iter()
            .map(|(l, c)| (format!("{} ({})", l.name(), l.0), *c))
            .collect();
        s.decode = self.decoder.stats.clone();
        s
    }
}

impl Undecodables {
    /// An undecodable packet (counted by the caller): reported while reports are not bounded.
    #[cold]
    #[inline(never)]
    fn report(
        &mut self,
        pkt: &PacketView<'_>,
        n: u64,
        e: &crate::decode::DecodeError,
        out: &mut dyn RecordSink,
    ) {
        if !Decoder::supports(pkt.link) {
            if !self.unsupported_links.contains(&pkt.link) {
                self.unsupported_links.push(pkt.link);
                out.record(Record::Finding(Box::new(
                    Finding::new(
                        &codes::CAPTURE_UNSUPPORTED_LINK_TYPE,
                        format!(
                            "link type {} ({}) is not supported; its packets are counted but not analysed",
                            pkt.link.0,
                            pkt.link.name()
                        ),
                    )
                    .at(n, pkt.ts),
                )));
            }
        } else if self.findings < self.max_findings {
            self.findings += 1;
            out.record(Record::Finding(Box::new(
                Finding::new(
                    &codes::DECODE_UNDECODABLE,
                    format!(
                        "packet could not be decoded: {} header at byte {}: {}",
                        e.layer, e.offset, e.what
                    ),
                )
                .at(n, pkt.ts),
            )));
        }
    }
}

impl<A: Analyzer> Tcp<A> {
    fn new(cfg: EngineConfig, analyzer: A) -> Self {
        let mut budget = Budget::new(cfg.max_buffered_bytes);
        budget.share_retention();
        Tcp {
            cfg,
            flows: FlowTable::default(),
            lingering: FxHashMap::default(),
            lingering_bytes: 0,
            pack_scratch: Vec::new(),
            analyzer,
            budget,
            next_id: 0,
            stats: TcpSummary::default(),
            flow_limit_reported: false,
            mem: memory::Memory::default(),
            scratch: Vec::new(),
            file: 0,
            pkt_bytes: 0,
            points: Vec::new(),
            same_connection: SameConnection::default(),
            copies_by_file: Vec::new(),
        }
    }

    /// Several capture points: see [`Shard::capture_points`].
    fn capture_points(&mut self, points: Vec<u32>) {
        let mut distinct = points.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > 1 {
            self.cfg.close_linger_ns = self.cfg.close_linger_ns.max(MULTI_POINT_LINGER_NS);
            self.copies_by_file = vec![0; points.len()];
            self.points = points;
        }
    }

    /// Connection ids given so far, then the analyzer's ([`Analyzer::ids_given`]).
    fn ids_given(&self) -> [u64; 1 + ID_KINDS] {
        let mut v = [0; 1 + ID_KINDS];
        v[0] = self.next_id;
        v[1..].copy_from_slice(&self.analyzer.ids_given());
        v
    }

    /// What the connections' part counted, into the summary.
    fn summarize(&self, s: &mut CaptureSummary) {
        s.tcp = self.stats.clone();
        s.tcp.buffer_limit_hits = self.budget.hits;
        s.tcp.peak_buffered_bytes = self.budget.peak as u64;
        s.tcp.peak_retained_bytes = self.budget.retained_peak as u64;
        s.memory = self.mem.stats.clone();
        s.memory.connection_budget = self.cfg.memory as u64;
        self.analyzer.summarize(s);
    }
}

/// What a [`Shard`]'s connections hold, for peaks of sums over shards: live connections,
/// reassembly bytes buffered and retained, the memory budget's count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gauges {
    pub flows: u64,
    pub buffered: u64,
    pub retained: u64,
    pub memory: u64,
}

/// The engine's connections part alone: the flow table, reassembly and the analyzer for the
/// connections a run split over threads gives it (all of a connection's packets, in capture
/// order, numbered as in the capture). The reading thread's [`Front`] decodes for it.
pub struct Shard<A: Analyzer> {
    tcp: Tcp<A>,
}

impl<A: Analyzer> Shard<A> {
    /// `cfg`'s bounds are this shard's (the caller divides the run's).
    pub fn new(cfg: EngineConfig, mut analyzer: A) -> Self {
        analyzer.sharded();
        Shard {
            tcp: Tcp::new(cfg, analyzer),
        }
    }

    pub fn analyzer_mut(&mut self) -> &mut A {
        &mut self.tcp.analyzer
    }

    /// One of `n` workers: an `n`th of the reassembly buffers' bound (`--max-buffered-bytes`);
    /// the retention bound stays the run's, drawn by share (see `reassembly::Budget`).
    pub fn divide_buffers(&mut self, n: usize) {
        self.tcp.budget.cap /= n.max(1);
    }

    pub fn track_files(&mut self, on: bool) {
        self.tcp.cfg.track_files = on;
    }

    pub fn capture_points(&mut self, points: Vec<u32>) {
        self.tcp.capture_points(points);
    }

    /// Connection ids given so far, then the analyzer's ([`Analyzer::ids_given`]).
    pub fn ids_given(&self) -> [u64; 1 + ID_KINDS] {
        self.tcp.ids_given()
    }

    /// Starts what [`Shard::gauges`] reports as the peaks of one step (a packet, or one
    /// connection of a sweep).
    pub fn start_step(&mut self) {
        let t = &mut self.tcp;
        t.stats.max_live_flows = 0;
        t.budget.peak = t.budget.used;
        t.budget.retained_peak = t.budget.retained;
        t.mem.stats.peak = 0;
    }

    /// Now, and the highest of the step so far (0 for live connections and memory when the step
    /// created no connection or checked no memory).
    pub fn gauges(&self) -> (Gauges, Gauges) {
        let t = &self.tcp;
        let now = Gauges {
            flows: t.flows.len() as u64,
            buffered: t.budget.used as u64,
            retained: t.budget.retained as u64,
            memory: t.memory_used(0) as u64,
        };
        let peak = Gauges {
            flows: t.stats.max_live_flows,
            buffered: t.budget.peak as u64,
            retained: t.budget.retained_peak as u64,
            memory: t.mem.stats.peak,
        };
        (now, peak)
    }

    /// One TCP segment of packet `n` (captured `pkt_bytes` long, from input `file`); `held`
    /// is what the reading thread's decoder holds.
    #[allow(clippy::too_many_arguments)]
    pub fn packet(
        &mut self,
        seg: &TcpSegment<'_>,
        file: u32,
        pkt_bytes: u64,
        ts: Timestamp,
        n: u64,
        now: Timestamp,
        held: usize,
        out: &mut dyn RecordSink,
    ) {
        self.segment(seg, file, pkt_bytes, ts, n, out);
        self.check_memory(held, now, n, out);
    }

    /// The sweep due before packet `n` (or after it, live, at `now`); each connection it
    /// reports is announced with [`Note::Conn`](crate::model::Note).
    pub fn sweep(&mut self, now: Timestamp, n: u64, out: &mut dyn RecordSink) {
        self.tcp.sweep(now, n, out);
    }

    /// The end of the capture: the lingering records, then every live connection, each
    /// announced with [`Note::Conn`](crate::model::Note).
    pub fn finish_connections(&mut self, now: Timestamp, n: u64, out: &mut dyn RecordSink) {
        self.tcp.finish_all(now, n, out);
    }

    /// Then the analyzer's end.
    pub fn finish_analyzer(&mut self, out: &mut dyn RecordSink) {
        self.tcp.analyzer.finish(out);
    }

    /// This shard's counts (the peaks of sums over shards are the caller's).
    pub fn summarize(&self, s: &mut CaptureSummary) {
        self.tcp.summarize(s);
    }

    pub fn copies_by_file(&self) -> &[u64] {
        &self.tcp.copies_by_file
    }

    /// The only shard of a run on one thread: every connection is its own and its records go
    /// straight to the steps, so nothing is left to a merge (the analyzer is not told it is
    /// [sharded](Analyzer::sharded)).
    pub fn whole(cfg: EngineConfig, analyzer: A) -> Self {
        Shard {
            tcp: Tcp::new(cfg, analyzer),
        }
    }

    pub fn analyzer(&self) -> &A {
        &self.tcp.analyzer
    }

    /// Connections currently in the flow table.
    pub fn live_flows(&self) -> usize {
        self.tcp.flows.len()
    }

    /// Bytes currently buffered for reassembly (out-of-order and held).
    pub fn buffered_bytes(&self) -> usize {
        self.tcp.budget.used
    }

    /// Delivered bytes currently retained for overlap checks.
    pub fn retained_bytes(&self) -> usize {
        self.tcp.budget.retained
    }

    /// [`Shard::packet`] in two, for the thread that decodes: the segment (which may borrow
    /// the decoder's fragment buffer), then [`Shard::check_memory`] with what the decoder
    /// holds after it.
    #[inline]
    pub fn segment(
        &mut self,
        seg: &TcpSegment<'_>,
        file: u32,
        pkt_bytes: u64,
        ts: Timestamp,
        n: u64,
        out: &mut dyn RecordSink,
    ) {
        let t = &mut self.tcp;
        t.file = file;
        t.pkt_bytes = pkt_bytes;
        t.segment(seg, ts, n, out);
    }

    /// The memory check after packet `n`'s segment (`held`: the decoder's fragment bytes).
    #[inline]
    pub fn check_memory(&mut self, held: usize, now: Timestamp, n: u64, out: &mut dyn RecordSink) {
        self.tcp.check_memory(held, now, n, out);
    }

    /// The clock offsets between capture points that connections seen at both gave.
    pub fn same_connection_offsets(&self) -> Vec<PointsOffset> {
        self.tcp.same_connection.estimates()
    }
}

/// Adapter from the reassembler's callbacks to the analyzer and findings.
struct Sink<'x, A: Analyzer> {
    analyzer: &'x mut A,
    state: &'x mut A::State,
    at: Here<'x>,
    out: &'x mut dyn RecordSink,
    gap_findings: &'x mut u32,
    max_gap_findings: u32,
    ooo_hits: &'x mut u64,
}

/// Where a [`Sink`] delivers, the endpoints borrowed: the [`Ctx`] an analyzer is given is made
/// from it only when something is delivered (most packets deliver nothing, in one direction
/// or both), not twice for every packet.
#[derive(Clone, Copy)]
struct Here<'x> {
    conn: u64,
    dir: Dir,
    client: &'x Endpoint,
    server: &'x Endpoint,
    ts: Timestamp,
    packet: u64,
    midstream: bool,
}

impl Here<'_> {
    fn of(c: &Ctx) -> Here<'_> {
        Here {
            conn: c.conn,
            dir: c.dir,
            client: &c.client,
            server: &c.server,
            ts: c.ts,
            packet: c.packet,
            midstream: c.midstream,
        }
    }

    fn ctx(&self) -> Ctx {
        Ctx {
            conn: self.conn,
            dir: self.dir,
            client: *self.client,
            server: *self.server,
            ts: self.ts,
            packet: self.packet,
            midstream: self.midstream,
        }
    }
}

impl<A: Analyzer> Deliver for Sink<'_, A> {
    fn chunk(&mut self, offset: u64, chunk: Chunk<'_>) {
        if let Chunk::Gap(n, cause) = chunk
            && *self.gap_findings < self.max_gap_findings
        {
            *self.gap_findings += 1;
            self.out.record(Record::Finding(Box::new(
                Finding::new(&codes::TCP_GAP, stream_findings::gap(n, cause))
                    .conn(self.at.conn)
                    .at(self.at.packet, self.at.ts)
                    .dir(self.at.dir, offset),
            )));
        }
        let ctx = self.at.ctx();
        self.analyzer
            .on_chunk(self.state, &ctx, offset, chunk, self.out);
    }

    fn event(&mut self, event: Event) {
        if let Event::OooLimit { .. } = event {
            *self.ooo_hits += 1;
        }
        let Some((code, offset, msg)) = stream_findings::event(&event, self.max_gap_findings)
        else {
            return;
        };
        self.out.record(Record::Finding(Box::new(
            Finding::new(code, msg)
                .conn(self.at.conn)
                .at(self.at.packet, self.at.ts)
                .dir(self.at.dir, offset),
        )));
    }
}

impl<A: Analyzer> Tcp<A> {
    fn segment(&mut self, seg: &TcpSegment<'_>, ts: Timestamp, n: u64, out: &mut dyn RecordSink) {
        let src = Endpoint {
            ip: seg.src,
            port: seg.src_port,
        };
        let dst = Endpoint {
            ip: seg.dst,
            port: seg.dst_port,
        };
        let key = FlowKey::new(src, dst);
        let flags = seg.flags;
        let syn_only = flags.syn() && !flags.ack();
        let (track_files, file) = (self.cfg.track_files, self.file);
        let point = match self.points.get(file as usize) {
            Some(&p) => Some(p),
            None if self.points.is_empty() => None,
            None => Some(file),
        };
        if let Some(point) = point
            && self.copy(key, src, seg, point, ts)
        {
            return;
        }

        // One flow-table lookup per packet: its slot serves every use below.
        let mut found = self.flows.find(&key);
        if !self.lingering.is_empty()
            && found.is_none()
            && let Some(l) = self.lingering.get_mut(&key)
        {
            let d = usize::from(src != l.client);
            if !(syn_only && l.isn[d] != Some(seg.seq)) {
                l.absorb(d, seg, ts, n);
                return;
            }
            // A new SYN on the same ports: the old connection is done for good.
            if let Some(l) = self.lingering.remove(&key) {
                self.lingering_bytes = self.lingering_bytes.saturating_sub(l.packed.len());
                out.record(Record::Connection(Box::new(l.into_record())));
            }
        }
        if syn_only
            && let Some(old) = found.and_then(|i| self.flows.at(i))
            && old.syn_starts_new(src, seg.seq)
            && let Some(old) = self.flows.remove(&key)
        {
            found = None;
            let kind = old.close_kind().unwrap_or(CloseKind::Reused);
            self.finalize(old, kind, GapCause::Ended, ts, n, out);
        }
        if self.flows.len() >= self.cfg.max_flows && found.is_none() {
            self.make_room(ts, n, out);
        }
        let live_before = self.flows.len() as u64;
        let id_before = self.next_id;
        let next_id = &mut self.next_id;
        let conn = self.flows.get_or_insert_at(found, key, || {
            let (client, server, reason) = if syn_only {
                (src, dst, "syn".to_string())
            } else if flags.syn() {
                (dst, src, "syn-ack".to_string())
            } else {
                guess_client(src, dst)
            };
            let id = *next_id;
            *next_id += 1;
            let mut c = Conn::new(id, client, server, reason, ts, n);
            c.seen = point.map(|p| Box::new(Seen::new(p, file)));
            c
        });
        if self.next_id != id_before {
            self.stats.connections += 1;
            self.stats.max_live_flows = self.stats.max_live_flows.max(live_before + 1);
        }
        let dir = conn.dir_of(src);
        self.budget.share = key.share();
        let d = dir.index();
        let o = 1 - d;
        if ts > conn.last_ts {
            conn.last_ts = ts;
        }
        conn.last_packet = n;
        if track_files {
            conn.note_file(file);
        }
        if let Some(seen) = conn.seen.as_deref_mut() {
            let len = seg.payload.len() as u32 + seg.missing_tail;
            seen.own(d, seg.seq, len, flags.syn(), flags.fin(), ts);
        }
        conn.streams[d].stats.packets += 1;

        if flags.syn() {
            if flags.ack() {
                conn.synack_seen = true;
                conn.synack_at.get_or_insert(ts);
                conn.streams[d].syn(seg.seq);
                conn.streams[o].base_from_synack(seg.ack);
            } else {
                conn.syn_seen = true;
                conn.streams[d].syn(seg.seq);
            }
        }
        if flags.fin() {
            conn.fin_seen[d] = true;
        }

        let midstream = conn.streams[d].isn.is_none();
        let conn_id = conn.id;
        let peer_midstream = conn.streams[o].isn.is_none();
        // What was delivered before this packet: the analyzers' state only changes with a
        // delivery, so only then is it counted again.
        let delivered = conn.streams[0].offset() + conn.streams[1].offset();
        let limits = &self.cfg.limits;
        let (s0, s1) = conn.streams.split_at_mut(1);
        let (this, peer) = if d == 0 {
            (&mut s0[0], &mut s1[0])
        } else {
            (&mut s1[0], &mut s0[0])
        };
        let [g0, g1] = &mut conn.gap_findings;
        let (g_this, g_peer) = if d == 0 { (g0, g1) } else { (g1, g0) };
        let at = Here {
            conn: conn_id,
            dir,
            client: &conn.client,
            server: &conn.server,
            ts,
            packet: n,
            midstream,
        };
        let mut sink = Sink {
            analyzer: &mut self.analyzer,
            state: &mut conn.app,
            at,
            out,
            gap_findings: g_this,
            max_gap_findings: self.cfg.max_gap_findings,
            ooo_hits: &mut self.stats.ooo_limit_hits,
        };
        if !flags.syn() || !seg.payload.is_empty() || seg.missing_tail > 0 {
            // Data on a SYN starts after the SYN's sequence number.
            let seq = if flags.syn() {
                seg.seq.wrapping_add(1)
            } else {
                seg.seq
            };
            this.segment(
                ts,
                seq,
                seg.payload,
                seg.missing_tail,
                flags.fin(),
                limits,
                &mut self.budget,
                &mut sink,
            );
        }
        if flags.ack() {
            let mut peer_sink = Sink {
                at: Here {
                    dir: dir.flip(),
                    midstream: peer_midstream,
                    ..at
                },
                gap_findings: g_peer,
                ..sink
            };
            peer.peer_ack(seg.ack, limits, &mut self.budget, &mut peer_sink);
        }
        if conn.streams[0].offset() + conn.streams[1].offset() != delivered {
            Self::recount(&self.analyzer, &mut self.mem, conn);
        }
        if flags.rst() {
            conn.rst_seen = true;
        }
        if conn.closed_at.is_none() && (conn.rst_seen || (conn.fin_seen[0] && conn.fin_seen[1])) {
            conn.closed_at = Some(ts);
            // Memory follows live connections: a closed one only waits for trailing packets.
            for s in &mut conn.streams {
                s.release_window(&mut self.budget);
            }
        }
        if conn.closed_at.is_some() && !conn.rst_seen && conn.streams.iter().all(|s| s.settled()) {
            self.retire(key, ts, n, out);
        }
    }

    /// A cleanly closed connection whose bytes were all delivered: analyzers are closed now,
    /// its record lingers (small) for trailing packets.
    fn retire(&mut self, key: FlowKey, ts: Timestamp, n: u64, out: &mut dyn RecordSink) {
        let Some(mut conn) = self.flows.remove(&key) else {
            return;
        };
        let isn = [conn.streams[0].isn, conn.streams[1].isn];
        let closed_at = conn.closed_at.unwrap_or(ts);
        let seen = conn.seen.take();
        let record = self.close_conn(conn, CloseKind::Fin, GapCause::Ended, ts, n, out);
        if self.lingering.len() >= self.cfg.max_flows {
            self.report_lingering(|_| true, out);
        }
        let l = Lingering::new(&mut self.pack_scratch, record, closed_at, isn, seen);
        self.lingering_bytes += l.packed.len();
        if let Some(old) = self.lingering.insert(key, Box::new(l)) {
            self.lingering_bytes = self.lingering_bytes.saturating_sub(old.packed.len());
        }
    }

    /// Reports (and forgets) the lingering records `done` selects, in id order.
    fn report_lingering(&mut self, done: impl Fn(&Lingering) -> bool, out: &mut dyn RecordSink) {
        let mut keys: Vec<(u64, FlowKey)> = self
            .lingering
            .iter()
            .filter(|(_, l)| done(l))
            .map(|(k, l)| (l.id, *k))
            .collect();
        keys.sort_unstable_by_key(|(id, _)| *id);
        for (_, k) in keys {
            if let Some(l) = self.lingering.remove(&k) {
                self.lingering_bytes = self.lingering_bytes.saturating_sub(l.packed.len());
                let mut l = *l;
                let seen = l.seen.take();
                let mut record = l.into_record();
                out.note(Note::Conn {
                    id: record.id,
                    lingering: true,
                    ids: self.ids_given(),
                });
                self.place_copies(seen, &mut record, out);
                out.record(Record::Connection(Box::new(record)));
            }
        }
    }

    /// Flushes a connection's streams, closes its analyzers and reports it. `cause` is why
    /// holes still open are given up now.
    fn finalize(
        &mut self,
        conn: Conn<A::State>,
        close: CloseKind,
        cause: GapCause,
        ts: Timestamp,
        n: u64,
        out: &mut dyn RecordSink,
    ) {
        let mut conn = conn;
        let seen = conn.seen.take();
        let mut record = self.close_conn(conn, close, cause, ts, n, out);
        if record.community_id.is_empty() {
            record.community_id =
                community_id::v1(record.client, record.server, community_id::TCP, 0);
        }
        self.place_copies(seen, &mut record, out);
        out.record(Record::Connection(Box::new(record)));
    }

    /// Several capture points: a packet of a connection another point shows (live, or closed
    /// and waiting for trailing packets) is a copy: counted there, not analysed. A SYN with
    /// another initial sequence number than the connection's is a new connection, not a copy.
    fn copy(
        &mut self,
        key: FlowKey,
        src: Endpoint,
        seg: &TcpSegment<'_>,
        point: u32,
        ts: Timestamp,
    ) -> bool {
        let syn_only = seg.flags.syn() && !seg.flags.ack();
        let (seen, d, isn) = if let Some(c) = self.flows.get_mut(&key) {
            let d = c.dir_of(src).index();
            let isn = c.streams[d].isn;
            (c.seen.as_deref_mut(), d, isn)
        } else if let Some(l) = self.lingering.get_mut(&key) {
            let d = usize::from(src != l.client);
            (l.seen.as_deref_mut(), d, l.isn[d])
        } else {
            return false;
        };
        let Some(seen) = seen else {
            return false;
        };
        if seen.owner == point || (syn_only && isn.is_some_and(|i| i != seg.seq)) {
            return false;
        }
        let len = seg.payload.len() as u32 + seg.missing_tail;
        let parts = (seg.seq, len, seg.flags.syn(), seg.flags.fin());
        seen.copy(point, self.file, self.pkt_bytes, d, parts, ts);
        self.stats.duplicate_packets += 1;
        if let Some(c) = self.copies_by_file.get_mut(self.file as usize) {
            *c += 1;
        }
        true
    }

    /// Writes where else a connection was seen into its record, and adds the clock offsets its
    /// copies gave to the run's.
    fn place_copies(
        &mut self,
        seen: Option<Box<Seen>>,
        record: &mut ConnectionRecord,
        out: &mut dyn RecordSink,
    ) {
        let Some(seen) = seen else {
            return;
        };
        let offsets = seen.offsets();
        for (i, c) in seen.copies.iter().enumerate() {
            let o = offsets.iter().find(|(j, _)| *j == i).map(|(_, o)| *o);
            if let Some(o) = o {
                self.same_connection.add(seen.owner, c.point, o);
                out.note(Note::SameConnection {
                    owner: seen.owner,
                    copy: c.point,
                    owner_file: o.owner_file,
                    copy_file: o.copy_file,
                    lo: o.lo,
                    hi: o.hi,
                });
            }
            record.also_seen_in.push(SeenIn {
                file: c.file,
                packets: c.packets,
                bytes: c.bytes,
                clock_offset_s: o.map(|o| o.mid() as f64 / 1e9),
                clock_offset_uncertainty_s: o.map(|o| (o.hi - o.lo) as f64 / 2e9),
            });
        }
    }

    /// Flushes a connection's streams (the holes still open are given up for `cause`: the
    /// connection ended, or a bound closed it early), closes its analyzers and returns its
    /// record, its Community ID left empty (`Conn::take_record`) for the caller to fill or
    /// pack.
    fn close_conn(
        &mut self,
        mut conn: Conn<A::State>,
        close: CloseKind,
        cause: GapCause,
        ts: Timestamp,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> ConnectionRecord {
        self.uncount(&conn);
        self.budget.share = FlowKey::new(conn.client, conn.server).share();
        let limits = &self.cfg.limits;
        for d in [Dir::ClientToServer, Dir::ServerToClient] {
            let i = d.index();
            let ctx = Ctx {
                conn: conn.id,
                dir: d,
                client: conn.client,
                server: conn.server,
                ts,
                packet: n,
                midstream: conn.streams[i].isn.is_none(),
            };
            let mut sink = Sink {
                analyzer: &mut self.analyzer,
                state: &mut conn.app,
                at: Here::of(&ctx),
                out,
                gap_findings: &mut conn.gap_findings[i],
                max_gap_findings: self.cfg.max_gap_findings,
                ooo_hits: &mut self.stats.ooo_limit_hits,
            };
            conn.streams[i].flush(limits, &mut self.budget, &mut sink, cause);
            conn.streams[i].release_window(&mut self.budget);
        }
        let ctx = Ctx {
            conn: conn.id,
            dir: Dir::ClientToServer,
            client: conn.client,
            server: conn.server,
            ts,
            packet: n,
            midstream: conn.streams[0].isn.is_none(),
        };
        self.analyzer.on_close(&mut conn.app, &ctx, out);
        let mut record = conn.take_record(close);
        self.analyzer.annotate(&conn.app, &mut record);
        record
    }

    /// Reports connections that closed a while ago or went idle.
    fn sweep(&mut self, now: Timestamp, n: u64, out: &mut dyn RecordSink) {
        let linger = self.cfg.close_linger_ns;
        let idle = self.cfg.idle_timeout_ns;
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        keys.extend(self.flows.iter().filter_map(|(k, c)| {
            let done = match c.closed_at {
                Some(t) => now.saturating_sub(t) >= linger,
                None => now.saturating_sub(c.last_ts) >= idle,
            };
            done.then_some(*k)
        }));
        self.finalize_keys(&mut keys, now, n, CloseKind::Timeout, out);
        self.scratch = keys;
        self.report_lingering(|l| now.saturating_sub(l.closed_at) >= linger, out);
    }

    fn finalize_keys(
        &mut self,
        keys: &mut [FlowKey],
        now: Timestamp,
        n: u64,
        default: CloseKind,
        out: &mut dyn RecordSink,
    ) {
        // Reported in id order; sort the keys, not the (large) connections.
        keys.sort_by_cached_key(|k| self.flows.get(k).map_or(u64::MAX, |c| c.id));
        for k in keys.iter() {
            if let Some(c) = self.flows.remove(k) {
                out.note(Note::Conn {
                    id: c.id,
                    lingering: false,
                    ids: self.ids_given(),
                });
                let kind = c.close_kind().unwrap_or(default);
                // An evicted connection's holes were given up by the flow bound, not the
                // capture.
                let cause = if default == CloseKind::Evicted {
                    GapCause::FlowLimit
                } else {
                    GapCause::Ended
                };
                self.finalize(c, kind, cause, now, n, out);
            }
        }
    }

    /// The flow table is full: report closed connections early, then evict the least
    /// recently active ones.
    fn make_room(&mut self, now: Timestamp, n: u64, out: &mut dyn RecordSink) {
        let mut keys: Vec<FlowKey> = self
            .flows
            .iter()
            .filter(|(_, c)| c.closed_at.is_some())
            .map(|(k, _)| *k)
            .collect();
        self.finalize_keys(&mut keys, now, n, CloseKind::Fin, out);
        if self.flows.len() < self.cfg.max_flows {
            return;
        }
        let mut by_age: Vec<(Timestamp, FlowKey)> =
            self.flows.iter().map(|(k, c)| (c.last_ts, *k)).collect();
        let evict = (self.flows.len() / 64).max(1);
        by_age.select_nth_unstable_by_key(evict - 1, |(t, _)| *t);
        let mut keys: Vec<FlowKey> = by_age[..evict].iter().map(|(_, k)| *k).collect();
        self.stats.flows_evicted += keys.len() as u64;
        if !self.flow_limit_reported {
            self.flow_limit_reported = true;
            out.record(Record::Finding(Box::new(
                Finding::new(
                    &codes::TCP_FLOW_LIMIT,
                    format!(
                        "more than {} connections were live at once; the least recently active were closed early and reported as evicted (raise --max-flows)",
                        self.cfg.max_flows
                    ),
                )
                .at(n, now),
            )));
        }
        self.finalize_keys(&mut keys, now, n, CloseKind::Evicted, out);
    }

    fn finish_all(&mut self, now: Timestamp, n: u64, out: &mut dyn RecordSink) {
        self.report_lingering(|_| true, out);
        let mut keys: Vec<FlowKey> = self.flows.iter().map(|(k, _)| *k).collect();
        self.finalize_keys(&mut keys, now, n, CloseKind::Open, out);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::decode::TcpFlags;

    fn seg(payload: &[u8], missing_tail: u32) -> TcpSegment<'_> {
        TcpSegment {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            src_port: 40000,
            dst_port: 80,
            seq: 1,
            ack: 1,
            flags: TcpFlags(TcpFlags::ACK),
            window: 512,
            payload,
            missing_tail,
        }
    }

    /// A lingering record is kept packed and its trailing packets beside it: unpacked, it is
    /// what counting them into the record itself gave, every field (TLS summary, large
    /// counts, a float, several files) included.
    #[test]
    fn lingering_records_unpack_as_packed() {
        let ep = |a: &str, port| Endpoint {
            ip: a.parse().unwrap(),
            port,
        };
        let conn: Conn<()> = Conn::new(
            123_456,
            ep("10.0.0.1", 40000),
            ep("2001:db8::2", 80),
            "syn".into(),
            Timestamp(5_000),
            7,
        );
        let mut r = conn.record(CloseKind::Fin);
        r.community_id = "1:abcdefghijklmnopqrstuvwxyz01=".into();
        r.client_to_server.packets = 300;
        r.server_to_client.wire_bytes = 1 << 40;
        r.handshake_s = Some(0.25);
        r.files = vec![0, 2];
        r.end = Timestamp(9_500);
        r.tls = Some(Box::new(TlsInfo::default()));
        let mut want = r.clone();
        let mut scratch = Vec::new();
        let mut l = Lingering::new(&mut scratch, r, Timestamp(9_500), [Some(1), Some(2)], None);
        assert!(l.packed.len() < 120, "{} bytes packed", l.packed.len());
        l.absorb(0, &seg(b"", 0), Timestamp(10_000), 20);
        l.absorb(1, &seg(b"0123456789", 5), Timestamp(9_000), 21);
        want.client_to_server.packets += 1;
        let s = &mut want.server_to_client;
        s.packets += 1;
        s.wire_bytes += 15;
        s.retransmitted += 1;
        s.overlapping += 1;
        s.overlap_unverified_bytes += 15;
        want.end = Timestamp(10_000);
        want.last_packet = 21;
        let got = l.into_record();
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&want).unwrap()
        );
        assert_eq!(got.id, 123_456);
        assert!(got.tls.is_some());
    }
}
