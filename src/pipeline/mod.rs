//! The one pipeline and its one drive loop.
//!
//! ```text
//!  PacketSource ─▶ engine::Front ─▶ the connections ─▶ proxy-hop ─▶ semantics ─▶ Sink
//!  (file, live)    counts, packet   one Shard on this   correlation   (semantics::  (JSON, NDJSON,
//!  + a Clock       time, sweeps,    thread, or N        (hops::       Semantics)    text, UI
//!                  decoding,        worker Shards and   Correlator,                 batches, a
//!                  defragmentation  their merge         analyzers on)               test's Vec)
//! ```
//!
//! [`Pipeline::new`] is the only place that assembles the analysis after the engine; every run
//! (`hopscope report`, `hopscope live`, the UI over a file or live, the tests) builds it there,
//! and [`Pipeline::run`] drives it with the one drive loop (`drive`), whatever the threads: it
//! tells the sink the run begins, reads a [`PacketSource`] to its end, counts and decodes
//! every packet with the engine's [`Front`] on the calling thread, schedules the sweeps (by
//! packet time, or on the [`Clock`] when a live source is quiet), hands progress to the sink a
//! few times a second, and ends every run the same way (drop findings, `capture.incomplete`,
//! the engine's and the steps' end, the clocks placed, the summary, the final progress,
//! [`Sink::finish`]).
//!
//! What the front makes of a packet (its TCP segment, the sweeps, a pcapng's secrets) goes to
//! the loop's back (`Back`), the engine's connections part and the way to the steps:
//! - one thread (`--threads 1`, the UI, a bare pipeline): `One`, the pipeline's own
//!   [`Shard`] on the same thread, its records straight into the steps (no channel, no batch);
//! - `--threads N`: `threads::Hub`, which copies them into batches for N worker threads'
//!   shards and merges their records back in one thread's order (`threads`).
//!
//! The loop is generic over its back, so each path is compiled on its own.
//! [`Pipeline::bare`] drives another analyzer with no steps (the Stream view's second pass,
//! engine tests), on one thread.
//!
//! A sink stops the run by answering [`Flow::Stop`] (the run is then finished as if the capture
//! had ended) or an error (the run ends at once; the error is the run's); an analyzer by
//! [`Analyzer::done`] (a pass over one connection that ended), as the sink's stop.

use std::io;
use std::time::{Duration, Instant};

use crate::analyzers::{AnalyzerConfig, Dispatcher};
use crate::base::PacketView;
use crate::base::Timestamp;
use crate::capture::{CaptureError, Next, PacketSource, Secrets, SourceEnd};
use crate::decode::TcpSegment;
use crate::engine::{Analyzer, EngineConfig, Front, Shard};
use crate::flow::seen::PointsOffset;
use crate::hops::Correlator;
use crate::model::{
    CaptureSummary, Dropped, Finding, Flow, Progress, Record, RecordSink, Sink, codes,
};
use crate::semantics::{Semantics, SemanticsConfig};

/// The least the engine is given of a budget, whatever the steps reserve.
const MIN_ENGINE_MEMORY: usize = 4 << 20;

/// What the steps may hold of a run's budget: their default bounds at the default budget
/// (96 MiB), scaled down alike below it. Returns (proxy-hop correlation, semantics tables).
fn steps_share(budget: usize) -> (usize, usize) {
    const DEFAULT: usize = 96 << 20;
    let scale = |bound: usize| {
        if budget >= DEFAULT {
            bound
        } else {
            ((bound >> 10) * (budget >> 10) / (DEFAULT >> 10)) << 10
        }
    };
    (
        scale(crate::hops::MEMORY_BOUND),
        scale(crate::semantics::MEMORY_BOUND),
    )
}

/// Progress goes to the sink at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);
/// A file is read this many packets between looks at the wall clock (a live source after
/// every packet).
const FILE_CHECK_EVERY: u64 = 1024;

/// The time a quiet live capture has reached, for the engine's idle sweep. Never taken as
/// packet time.
pub trait Clock {
    fn now(&self) -> Timestamp;
}

/// A live capture's clock: wall time less a second. libpcap hands buffered packets over
/// within its 100 ms read timeout and the second leaves room for the channel, so no packet
/// still on its way is older than the sweep the drive loop runs at it.
pub struct CaptureClock;

impl Clock for CaptureClock {
    fn now(&self) -> Timestamp {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        Timestamp(wall.saturating_sub(1_000_000_000))
    }
}

/// How a run ended.
#[derive(Debug)]
pub struct RunEnd {
    /// The capture summary, as the sink got it.
    pub summary: CaptureSummary,
    /// Reading stopped early; everything before it was analysed and reported.
    pub capture_error: Option<CaptureError>,
    /// The sink failed (a closed pipe, a full disk, the UI gone): the run ended there.
    pub sink_error: Option<io::Error>,
    /// The saved copy of a live capture could not be written.
    pub save_error: Option<String>,
    /// Live: libpcap statistics were not available (why).
    pub stats_error: Option<String>,
}

/// What the sink said so far.
enum Halt {
    Go,
    Stop,
    Failed(io::Error),
}

/// The sink at the end of the steps, and what it said.
struct End<S> {
    sink: S,
    halt: Halt,
    /// Several inputs: which file each recent packet came from, for the findings.
    origins: Option<Origins>,
    /// A run split over threads: the records the sink only read, per worker that made them
    /// (`from`), handed back to be freed there (glibc's frees of another thread's memory
    /// contend with its allocations). Empty on one thread: records are dropped here.
    dead: Vec<Vec<Record>>,
    from: usize,
    /// While the merge takes a worker's step: the bytes the sink wrote ahead of that step's
    /// records on the worker ([`Sink::prewrite`]; the batch's own buffer, lent), where the
    /// next record's are in it, and which record they are for once the merge has given it
    /// the run's ids.
    ahead: Vec<u8>,
    ahead_at: (usize, usize),
    ahead_for: Ahead,
}

/// Whom [`End::ahead`]'s bytes are for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ahead {
    Nobody,
    /// The next record the merge takes.
    Next,
    /// This record ([`ahead_key`]), when it reaches the sink.
    For(u8, u64, u64),
}

/// Which record bytes written ahead are for: its kind and ids.
fn ahead_key(r: &Record) -> Ahead {
    match r {
        Record::Transaction(t) => Ahead::For(0, t.id, 0),
        Record::Connection(c) => Ahead::For(1, c.id, 0),
        Record::WsMessage(m) => Ahead::For(2, m.websocket, m.index),
        _ => Ahead::Nobody,
    }
}

impl<S> End<S> {
    /// The merge met the bytes written ahead of the next record: `self.ahead[a..b]`.
    fn ahead(&mut self, a: usize, b: usize) {
        self.ahead_at = (a, b);
        self.ahead_for = Ahead::Next;
    }

    /// Lends `bytes` (a batch's written-ahead bytes) for a step, or takes them back after it.
    fn lend_ahead(&mut self, bytes: &mut Vec<u8>) {
        std::mem::swap(&mut self.ahead, bytes);
        self.ahead_for = Ahead::Nobody;
    }

    /// The merge gave the next record its ids: the bytes written ahead are for it.
    fn ahead_is_for(&mut self, r: &Record) {
        if self.ahead_for == Ahead::Next {
            self.ahead_for = ahead_key(r);
        }
    }

    fn heed(&mut self, r: io::Result<Flow>) {
        match r {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => {
                if matches!(self.halt, Halt::Go) {
                    self.halt = Halt::Stop;
                }
            }
            Err(e) => self.halt = Halt::Failed(e),
        }
    }
}

impl<S: Sink> RecordSink for End<S> {
    fn record(&mut self, record: Record) {
        // After a failure nothing more is written; after a stop the end of the run still is.
        if matches!(self.halt, Halt::Failed(_)) {
            return;
        }
        let mut record = record;
        if let (Some(o), Record::Finding(f)) = (&self.origins, &mut record)
            && let Some(n) = f.packet
            && f.file.is_none()
            && let Some((file, k)) = o.locate(n)
        {
            f.file = Some(file);
            f.file_packet = Some(k);
        }
        // Between the merge and here, the steps may send other records first (a transaction's
        // findings): the bytes are used by the record they were written for.
        let ahead = match self.ahead_for {
            Ahead::For(..) if ahead_key(&record) == self.ahead_for => {
                self.ahead_for = Ahead::Nobody;
                self.ahead.get(self.ahead_at.0..self.ahead_at.1)
            }
            _ => None,
        };
        let r = match self.dead.get_mut(self.from) {
            Some(dead) => match match ahead {
                Some(a) => self.sink.record_ahead(&record, a),
                None => self.sink.record_ref(&record),
            } {
                Some(r) => {
                    // The semantics step ran on this thread: what it allocated is freed here,
                    // not by the worker the record goes back to (a free into another thread's
                    // arena takes that arena's lock; `--threads 2` spent 6 % more of its time
                    // in the allocator than one thread).
                    if let Record::Transaction(t) = &mut record {
                        t.semantics = None;
                    }
                    dead.push(record);
                    r
                }
                None => self.sink.record(record),
            },
            None => self.sink.record(record),
        };
        self.heed(r);
    }
}

/// The semantics step in front of the sink.
struct SemStep<'a, S> {
    semantics: Option<&'a mut Semantics>,
    end: &'a mut End<S>,
}

impl<S: Sink> RecordSink for SemStep<'_, S> {
    fn record(&mut self, record: Record) {
        match self.semantics.as_deref_mut() {
            Some(s) => s.step(record, self.end),
            None => self.end.record(record),
        }
    }
}

/// Everything after the engine: the steps, in their order, then the sink.
struct Tail<S> {
    hops: Option<Correlator>,
    semantics: Option<Semantics>,
    end: End<S>,
    /// Several inputs: each file's clock (the files of a rotated set share one).
    clocks: Vec<u32>,
}

impl<S: Sink> Tail<S> {
    fn steps(&mut self) -> (Option<&mut Correlator>, SemStep<'_, S>) {
        (
            self.hops.as_mut(),
            SemStep {
                semantics: self.semantics.as_mut(),
                end: &mut self.end,
            },
        )
    }

    /// The end of the capture: the correlator decides what still waits.
    fn finish_steps(&mut self, summary: &mut CaptureSummary) {
        let (hops, mut next) = self.steps();
        if let Some(h) = hops {
            h.finish(&mut next);
        }
        if let Some(s) = &self.semantics {
            summary.semantics = Some(s.stats());
        }
    }
}

impl<S: Sink> RecordSink for Tail<S> {
    fn record(&mut self, record: Record) {
        // Several inputs: the clock of the file a transaction's first packet came from, for
        // pairing legs captured on two hosts (the correlator times them apart until it knows
        // the offset; the files of a rotated set are one capture, one clock).
        let file = match (&record, &self.end.origins) {
            (Record::Transaction(t), Some(o)) => t
                .request
                .as_ref()
                .map(|r| r.at.packet)
                .or(t.response.as_ref().map(|r| r.at.packet))
                .and_then(|n| o.locate(n))
                .map(|(f, _)| self.clocks.get(f as usize).copied().unwrap_or(f)),
            _ => None,
        };
        let (hops, mut next) = self.steps();
        match hops {
            Some(h) => h.relay_in(record, file, &mut next),
            None => next.record(record),
        }
    }
}

/// How an offset between two clocks was found.
#[derive(Clone, Copy, Debug)]
enum OffsetSource {
    /// From this many connections captured at both points (their segments' times).
    SameConnection(u32),
    /// From this many requests a proxy relayed between the two captures.
    ProxyPairs(u32),
}

/// An offset between clocks `a` and `b` (`clocks[file]`; the files of a rotated set share
/// one): `b`'s times plus `offset_ns` are on `a`'s.
#[derive(Clone, Copy, Debug)]
struct Estimate {
    a: u32,
    b: u32,
    offset_ns: i64,
    uncertainty_ns: i64,
    source: OffsetSource,
}

/// The clock offsets the captures imply, into `capture.files[]`. The first file's clock is the
/// reference; a clock with a given offset (`--clock-offset`) keeps it; an estimate places `b`
/// when `a` is placed (or `a` when `b` is), the first in `est` that can (same-connection ones
/// come first: a connection captured twice times its segments directly), and every file of the
/// clock placed gets it, added to what was applied before the merge. An interval that holds 0
/// places the clock at 0.
fn place_offsets(files: &mut [crate::model::FileSummary], clocks: &[u32], est: &[Estimate]) {
    let clock_of = |f: usize| clocks.get(f).copied().unwrap_or(f as u32);
    // Each placed clock's offset relative to the first file's.
    let mut placed: std::collections::BTreeMap<u32, f64> = std::collections::BTreeMap::new();
    placed.insert(clock_of(0), 0.0);
    for (f, file) in files.iter().enumerate() {
        // Given, or placed by an earlier pass (its records are on the reference clock now).
        if file.offset_source != "none" {
            placed.entry(clock_of(f)).or_insert(0.0);
        }
    }
    // Each round places at least one more clock, or stops.
    for _ in 0..files.len() {
        let mut more = false;
        for e in est {
            // The extra seconds that put clock `to` on the reference, beyond what was applied.
            // When the interval allowed holds 0, the clocks agree as far as the captures can
            // tell: 0, not the interval's middle (captures of one clock stay as they were).
            let ns = if e.offset_ns.abs() <= e.uncertainty_ns {
                0
            } else {
                e.offset_ns
            };
            let secs = ns as f64 / 1e9;
            let (lo, hi) = (
                (e.offset_ns - e.uncertainty_ns) as f64 / 1e9,
                (e.offset_ns + e.uncertainty_ns) as f64 / 1e9,
            );
            // The clock's offset, and the interval it lies in, beyond what was applied.
            let (to, delta, range) = match (placed.get(&e.a), placed.get(&e.b)) {
                (Some(&pa), None) => (e.b, pa + secs, (pa + lo, pa + hi)),
                (None, Some(&pb)) => (e.a, pb - secs, (pb - hi, pb - lo)),
                _ => continue,
            };
            placed.insert(to, delta);
            for (f, file) in files.iter_mut().enumerate() {
                if clock_of(f) == to {
                    file.clock_offset_interval_s =
                        Some([file.clock_offset_s + range.0, file.clock_offset_s + range.1]);
                    file.clock_offset_s += delta;
                    file.clock_offset_uncertainty_s = Some(e.uncertainty_ns as f64 / 1e9);
                    match e.source {
                        OffsetSource::SameConnection(n) => {
                            file.offset_source = "same-connection".into();
                            file.clock_offset_connections = Some(n);
                        }
                        OffsetSource::ProxyPairs(n) => {
                            file.offset_source = "proxy-pairs".into();
                            file.clock_offset_pairs = Some(n);
                        }
                    }
                }
            }
            more = true;
        }
        if !more {
            break;
        }
    }
}

/// The engine, the steps after it and the sink: one analysis.
pub struct Pipeline<S, A: Analyzer = Dispatcher> {
    /// The engine's part that reads every packet in capture order: counts, packet time, the
    /// sweeps' schedule, the decoder.
    front: Front,
    /// The engine's connections part on one thread (a run over threads builds one per worker).
    shard: Shard<A>,
    tail: Tail<S>,
    /// The run's memory budget (`--memory`).
    budget: usize,
    /// Worker threads for the connections (`--threads`; 1: this thread does everything).
    threads: usize,
    /// What each worker's engine part is built from, and what builds its analyzer (none for
    /// a bare pipeline, which runs on one thread).
    shards: Option<(EngineConfig, Factory<A>)>,
}

/// Builds an analyzer on the worker thread that uses it.
type Factory<A> = std::sync::Arc<dyn Fn() -> A + Send + Sync>;

impl<S: Sink> Pipeline<S> {
    /// The analysis every run uses: the dispatcher's analyzers, proxy-hop correlation (when
    /// the analyzers run; it only reads transactions), the semantics step, then `sink`.
    ///
    /// `engine.memory` is the run's whole budget (`--memory`): the engine gets it less what
    /// the steps may hold at most (their bounds are fixed), and sheds connection state to
    /// stay within that.
    pub fn new(mut engine: EngineConfig, analyzers: AnalyzerConfig, sink: S) -> Self {
        let budget = engine.memory;
        let (hops_bytes, semantics_bytes) = steps_share(budget);
        let hops = analyzers
            .enabled
            .then(|| Correlator::with_memory(hops_bytes));
        let reserved = if hops.is_some() { hops_bytes } else { 0 } + semantics_bytes;
        engine.memory = budget.saturating_sub(reserved).max(MIN_ENGINE_MEMORY);
        Pipeline {
            budget,
            threads: 1,
            front: Front::new(&engine),
            shards: Some((engine.clone(), {
                let a = analyzers.clone();
                std::sync::Arc::new(move || Dispatcher::new(a.clone()))
            })),
            shard: Shard::whole(engine, Dispatcher::new(analyzers)),
            tail: Tail {
                hops,
                clocks: Vec::new(),
                semantics: Some(Semantics::new(SemanticsConfig::within(semantics_bytes))),
                end: End {
                    sink,
                    halt: Halt::Go,
                    origins: None,
                    dead: Vec::new(),
                    from: 0,
                    ahead: Vec::new(),
                    ahead_at: (0, 0),
                    ahead_for: Ahead::Nobody,
                },
            },
        }
    }
}

impl<S: Sink, A: Analyzer> Pipeline<S, A> {
    /// Splits the connections over `n` worker threads (`--threads`); 1 (the default) keeps
    /// the whole analysis on the calling thread. The output is the same either way
    /// (`threads`). A bare pipeline always runs on one thread.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// Tells the sink the run begins, reads `source` to its end (or until the sink or the
    /// analyzer stops it), then ends the run: the source's drop findings, `capture.incomplete`,
    /// the engine's and the steps' end, the summary, [`Sink::finish`]. On one thread, or with
    /// the connections split over the threads [`Pipeline::threads`] asked for.
    ///
    /// Generic over the source so a file's reader is inlined into the loop; a `&mut dyn
    /// PacketSource` works too.
    pub fn run<P: PacketSource + ?Sized>(&mut self, source: &mut P, clock: &dyn Clock) -> RunEnd {
        match (self.threads, self.shards.clone()) {
            (n, Some((cfg, make))) if n > 1 => threads::run(self, n, cfg, make, source, clock),
            _ => {
                Setup::new(source, 1).prepare(&mut self.shard);
                let back = One(&mut self.shard);
                drive(
                    &mut self.front,
                    &mut self.tail,
                    self.budget,
                    back,
                    source,
                    clock,
                )
            }
        }
    }

    /// Another analyzer and no steps: the engine straight into `sink` (the Stream view's pass
    /// over one connection, engine tests).
    pub fn bare(engine: EngineConfig, analyzer: A, sink: S) -> Self {
        Pipeline {
            budget: engine.memory,
            threads: 1,
            shards: None,
            front: Front::new(&engine),
            shard: Shard::whole(engine, analyzer),
            tail: Tail {
                hops: None,
                clocks: Vec::new(),
                semantics: None,
                end: End {
                    sink,
                    halt: Halt::Go,
                    origins: None,
                    dead: Vec::new(),
                    from: 0,
                    ahead: Vec::new(),
                    ahead_at: (0, 0),
                    ahead_for: Ahead::Nobody,
                },
            },
        }
    }

    /// The engine's connections part of a run on one thread (its analyzer, what reassembly
    /// still buffers); a run over threads has one per worker and leaves this one unused.
    pub fn shard(&self) -> &Shard<A> {
        &self.shard
    }

    pub fn sink(&self) -> &S {
        &self.tail.end.sink
    }

    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.tail.end.sink
    }

    pub fn into_sink(self) -> S {
        self.tail.end.sink
    }
}

/// What every shard is told before the first packet (each worker's, or the one of a run on
/// one thread).
struct Setup {
    /// Shards in the run.
    workers: usize,
    inputs: usize,
    /// Each input's capture point.
    points: Vec<u32>,
    /// Split over threads: what the sink does with each record on its worker
    /// ([`Sink::prewrite`]).
    prewrite: Option<fn(&Record, &mut Vec<u8>) -> bool>,
}

impl Setup {
    fn new<P: PacketSource + ?Sized>(source: &P, workers: usize) -> Self {
        let inputs = source.inputs();
        Setup {
            workers,
            inputs,
            points: (0..inputs as u32)
                .map(|f| source.capture_point(f))
                .collect(),
            prewrite: None,
        }
    }

    fn prepare<A: Analyzer>(&self, shard: &mut Shard<A>) {
        shard.divide_buffers(self.workers);
        if self.inputs > 1 {
            shard.track_files(true);
            shard.analyzer_mut().several_captures();
            shard.capture_points(self.points.clone());
        }
    }
}

/// What the engine's connections part counted at the end of the run.
struct Ended {
    summary: CaptureSummary,
    /// The clock offsets connections seen at two capture points gave.
    offsets: Vec<PointsOffset>,
    /// Copies per input file.
    copies: Vec<u64>,
}

/// Where [`drive`] hands what the [`Front`] made of each packet: the connections' part of
/// the engine, and how its records reach the [`Tail`]. [`One`]: one [`Shard`] on this
/// thread, its records straight into the tail; `threads::Hub`: batches to the worker
/// threads' shards and the merge of their records.
trait Back<S: Sink> {
    /// Where the decoder's records (undecodable packets) go.
    fn front_out<'a>(&'a mut self, tail: &'a mut Tail<S>) -> &'a mut dyn RecordSink;
    /// Several inputs: packets from global number `n` on come from `file`, its packet `k`
    /// first.
    fn run_start(&mut self, n: u64, file: u32, k: u64, tail: &mut Tail<S>);
    /// The sweep at `now` due before packet `n` (after it when `tick`: a quiet live capture's
    /// clock).
    fn sweep(&mut self, now: Timestamp, n: u64, tick: bool, tail: &mut Tail<S>);
    /// Packet `n`'s TCP segment (`now`: packet time).
    fn segment(
        &mut self,
        seg: &TcpSegment<'_>,
        pkt: &PacketView<'_>,
        n: u64,
        now: Timestamp,
        tail: &mut Tail<S>,
    );
    /// After packet `n`'s segment: what the decoder holds now, for the memory check.
    fn held(&mut self, held: usize, now: Timestamp, n: u64, tail: &mut Tail<S>);
    /// Packet `n` is handled.
    fn packet_done(&mut self, n: u64, tail: &mut Tail<S>);
    fn secrets(&mut self, s: Secrets);
    /// Everything handed over so far reaches the tail (before a wait, or a progress a live
    /// reader should see).
    fn flush(&mut self, tail: &mut Tail<S>);
    /// The analyzer wants no more packets ([`Analyzer::done`]).
    fn done(&self) -> bool;
    /// Live connections, for progress.
    fn flows(&self) -> usize;
    /// The end of the capture (after [`Back::flush`]): every connection, the analyzers' end,
    /// the decoder's, and what was counted.
    fn finish(&mut self, front: &mut Front, tail: &mut Tail<S>) -> Ended;
}

/// A run on one thread: the pipeline's own shard, its records straight into the tail.
struct One<'a, A: Analyzer>(&'a mut Shard<A>);

impl<S: Sink, A: Analyzer> Back<S> for One<'_, A> {
    #[inline]
    fn front_out<'a>(&'a mut self, tail: &'a mut Tail<S>) -> &'a mut dyn RecordSink {
        tail
    }

    fn run_start(&mut self, n: u64, file: u32, k: u64, tail: &mut Tail<S>) {
        if let Some(o) = &mut tail.end.origins {
            o.start_run(n, file, k);
        }
    }

    fn sweep(&mut self, now: Timestamp, n: u64, _tick: bool, tail: &mut Tail<S>) {
        self.0.sweep(now, n, tail);
    }

    #[inline]
    fn segment(
        &mut self,
        seg: &TcpSegment<'_>,
        pkt: &PacketView<'_>,
        n: u64,
        _now: Timestamp,
        tail: &mut Tail<S>,
    ) {
        self.0
            .segment(seg, pkt.file, pkt.data.len() as u64, pkt.ts, n, tail);
    }

    #[inline]
    fn held(&mut self, held: usize, now: Timestamp, n: u64, tail: &mut Tail<S>) {
        self.0.check_memory(held, now, n, tail);
    }

    #[inline]
    fn packet_done(&mut self, _n: u64, _tail: &mut Tail<S>) {}

    fn secrets(&mut self, s: Secrets) {
        self.0.analyzer_mut().secrets(s.kind, s.at, &s.data);
    }

    fn flush(&mut self, _tail: &mut Tail<S>) {}

    #[inline]
    fn done(&self) -> bool {
        self.0.analyzer().done()
    }

    fn flows(&self) -> usize {
        self.0.live_flows()
    }

    fn finish(&mut self, front: &mut Front, tail: &mut Tail<S>) -> Ended {
        self.0
            .finish_connections(front.now(), front.packets(), tail);
        self.0.finish_analyzer(tail);
        let mut summary = front.finish(tail);
        self.0.summarize(&mut summary);
        Ended {
            summary,
            offsets: self.0.same_connection_offsets(),
            copies: self.0.copies_by_file().to_vec(),
        }
    }
}

/// The drive loop of every run: tells the sink the run begins, reads `source` (each packet
/// counted and decoded by `front`, its segment handed to `back`; the sweeps as packet time or
/// a quiet live source's `clock` makes them due; progress a few times a second) until it ends,
/// fails, or the sink or the analyzer stops it; then ends the run: the source's drop findings,
/// `capture.incomplete`, the engine's and the steps' end, the clocks placed, the summary, the
/// final progress, [`Sink::finish`].
fn drive<S: Sink, B: Back<S>, P: PacketSource + ?Sized>(
    front: &mut Front,
    tail: &mut Tail<S>,
    budget: usize,
    mut back: B,
    source: &mut P,
    clock: &dyn Clock,
) -> RunEnd {
    let started = Instant::now();
    let mut last = started;
    let every = if source.is_live() {
        1
    } else {
        FILE_CHECK_EVERY
    };
    let inputs = source.inputs();
    if inputs > 1 {
        tail.clocks = (0..inputs as u32).map(|f| source.clock_of(f)).collect();
        tail.end.origins = Some(Origins::default());
    }
    let r = tail.end.sink.begin();
    tail.end.heed(r);
    // Several inputs: packets read from each, and the file of the latest.
    let mut counts: Vec<u64> = Vec::new();
    let mut run_file: Option<u32> = None;
    let mut read_error = None;
    while matches!(tail.end.halt, Halt::Go) {
        match source.next() {
            Next::Packet(pkt) => {
                let (n, sweep) = front.begin(&pkt);
                if inputs > 1 {
                    let f = pkt.file as usize;
                    if counts.len() <= f {
                        counts.resize(f + 1, 0);
                    }
                    let k = counts.get_mut(f).map_or(0, |c| {
                        *c += 1;
                        *c
                    });
                    if run_file != Some(pkt.file) {
                        run_file = Some(pkt.file);
                        back.run_start(n, pkt.file, k, tail);
                    }
                }
                if let Some(at) = sweep {
                    back.sweep(at, n, false, tail);
                }
                let now = front.now();
                if let Some(seg) = front.decode(&pkt, n, back.front_out(tail)) {
                    back.segment(&seg, &pkt, n, now, tail);
                    back.held(front.held_bytes(), now, n, tail);
                }
                back.packet_done(n, tail);
                if back.done() {
                    break;
                }
                let waits = every == 1 && source.may_wait();
                if !waits && (!n.is_multiple_of(every) || last.elapsed() < PROGRESS_EVERY) {
                    continue;
                }
                if waits {
                    back.flush(tail);
                }
            }
            Next::Idle => {
                let now = clock.now();
                if front.tick(now) {
                    back.sweep(now, front.packets(), true, tail);
                }
                back.flush(tail);
            }
            Next::Secrets(s) => back.secrets(s),
            Next::End => break,
            Next::Error(e) => {
                read_error = Some(e);
                break;
            }
        }
        if last.elapsed() >= PROGRESS_EVERY || (every == 1 && source.may_wait()) {
            last = Instant::now();
            progress(tail, source, started, front.packets(), back.flows());
        }
    }
    back.flush(tail);
    let mut src = source.finish();
    let error = read_error.or(src.error.take());
    tail.end_findings(&src, &error);
    let Ended {
        mut summary,
        offsets,
        copies,
    } = back.finish(front, tail);
    let flows = back.flows();
    drop(back);
    tail.finish_steps(&mut summary);
    summary.source = src.name;
    summary.format = src.format;
    summary.files = src.files;
    for (f, n) in summary.files.iter_mut().zip(&copies) {
        f.duplicate_packets = *n;
    }
    tail.place_clocks(&mut summary, &offsets);
    summary.error = error.as_ref().map(ToString::to_string);
    summary.dropped = src.dropped;
    summary.memory.budget = budget as u64;
    // The final progress (what was read in all), then the end.
    if !matches!(tail.end.halt, Halt::Failed(_)) {
        progress(tail, source, started, front.packets(), flows);
    }
    let sink_error = match std::mem::replace(&mut tail.end.halt, Halt::Go) {
        Halt::Failed(e) => Some(e),
        Halt::Go | Halt::Stop => tail.end.sink.finish(&summary).err(),
    };
    RunEnd {
        summary,
        capture_error: error,
        sink_error,
        save_error: src.save_error,
        stats_error: src.stats_error,
    }
}

fn progress<S: Sink, P: PacketSource + ?Sized>(
    tail: &mut Tail<S>,
    source: &P,
    started: Instant,
    packets: u64,
    flows: usize,
) {
    let (bytes_done, bytes_total) = source.position();
    let p = Progress {
        bytes_done,
        bytes_total,
        packets,
        flows,
        elapsed: started.elapsed().as_secs_f64(),
        dropped: source.dropped(),
    };
    let r = tail.end.sink.progress(&p);
    tail.end.heed(r);
}

impl<S: Sink> Tail<S> {
    /// The end's findings before the engine's end: packets the source dropped, a saved
    /// capture not written, reading stopped early.
    fn end_findings(&mut self, src: &SourceEnd, error: &Option<CaptureError>) {
        if let Some(d) = &src.dropped {
            for f in drop_findings(d, src.queue) {
                self.record(Record::Finding(Box::new(f)));
            }
        }
        if let Some(e) = &src.save_error {
            self.record(Record::Finding(Box::new(Finding::new(
                &codes::CAPTURE_SAVE_FAILED,
                format!("{e}; the analysis is complete, the saved capture is not"),
            ))));
        }
        if let Some(e) = error {
            self.record(Record::Finding(Box::new(capture_incomplete(e))));
        }
    }

    /// The clock offsets of the input files (`summary.files`, after the steps' end) from
    /// `offsets` (connections seen at two capture points) and the correlator's proxy pairs,
    /// and a finding for each clock none placed.
    fn place_clocks(&mut self, summary: &mut CaptureSummary, offsets: &[PointsOffset]) {
        let clock = |f: u32| self.clocks.get(f as usize).copied().unwrap_or(f);
        let mut est: Vec<Estimate> = offsets
            .iter()
            .map(|e| Estimate {
                a: clock(e.a_file),
                b: clock(e.b_file),
                offset_ns: e.offset_ns,
                uncertainty_ns: (e.interval.1 - e.interval.0) / 2,
                source: OffsetSource::SameConnection(e.connections),
            })
            .filter(|e| e.a != e.b)
            .collect();
        if let Some(h) = &self.hops {
            est.extend(h.clock_offsets().iter().map(|(a, b, e)| Estimate {
                a: *a,
                b: *b,
                offset_ns: e.offset_ns,
                uncertainty_ns: e.uncertainty_ns(),
                source: OffsetSource::ProxyPairs(e.support),
            }));
        }
        place_offsets(&mut summary.files, &self.clocks, &est);
        // A clock no estimate placed, once (the files of a rotated set share one).
        let first = self.clocks.first().copied();
        let mut said = Vec::new();
        for (f, file) in summary.files.iter().enumerate() {
            let clock = self.clocks.get(f).copied();
            if file.offset_source == "none"
                && file.packets > 0
                && clock != first
                && !said.contains(&clock)
            {
                said.push(clock);
                self.end.record(Record::Finding(Box::new(Finding::new(
                    &codes::CAPTURE_CLOCK_UNPLACED,
                    format!(
                        "{}: its clock could not be placed against {}'s (no connection captured in both, no proxy hop paired across them): its times are its own; give --clock-offset {}=SECONDS if you know the offset",
                        file.path,
                        summary.files.first().map_or("", |f| f.path.as_str()),
                        file.path
                    ),
                ))));
            }
        }
    }
}

/// Most runs of consecutive packets from one file remembered to name a finding's file.
const MAX_RUNS: usize = 1 << 16;

/// Which input file the recent packets came from: runs of consecutive packets of one file
/// (a rotated set is one run per file; two interleaved legs one per switch), the last
/// [`MAX_RUNS`] of them, each given as it starts (by the drive loop as it reads, or by the
/// merge of a run over threads, which reaches the sink behind the reading). The latest run
/// reaches every packet read; a finding about an older packet than the runs remembered keeps
/// its global number only.
#[derive(Default)]
struct Origins {
    /// (first global packet number, file, that packet's number in the file).
    runs: std::collections::VecDeque<(u64, u32, u64)>,
}

impl Origins {
    /// Packets from global number `global` on come from `file`, its packet `k` first.
    fn start_run(&mut self, global: u64, file: u32, k: u64) {
        if self.runs.len() >= MAX_RUNS {
            self.runs.pop_front();
        }
        self.runs.push_back((global, file, k));
    }

    /// The file of global packet `n` and its number there.
    fn locate(&self, n: u64) -> Option<(u32, u64)> {
        let i = self.runs.partition_point(|r| r.0 <= n).checked_sub(1)?;
        let (g, file, k) = *self.runs.get(i)?;
        // The run ends where the next begins.
        let end = self.runs.get(i + 1).map_or(u64::MAX, |next| next.0);
        (n < end).then_some((file, k + (n - g)))
    }
}

/// `capture.incomplete`: reading stopped at `e`, after everything before it was analysed (or
/// before anything was, when the capture could not be opened or is not a capture).
fn capture_incomplete(e: &CaptureError) -> Finding {
    let what = if e.before_anything() {
        "nothing could be analysed"
    } else if matches!(e, CaptureError::Inputs { .. }) {
        "everything read from them and the other inputs was analysed"
    } else if matches!(e, CaptureError::Interfaces { .. }) {
        "everything captured on them and the other interfaces was analysed"
    } else {
        "everything before it was analysed"
    };
    Finding::new(&codes::CAPTURE_INCOMPLETE, format!("{e}; {what}"))
}

/// Findings for packets lost before the analysis (the report is partial when any are).
fn drop_findings(d: &Dropped, queue: usize) -> Vec<Finding> {
    let mut v = Vec::new();
    if d.kernel > 0 || d.interface > 0 {
        v.push(Finding::new(
            &codes::CAPTURE_KERNEL_DROPPED,
            format!(
                "libpcap reports {} packets dropped by the kernel and {} by the interface; \
                 connections that lost them show gaps (narrow the capture with -f, or lower -s)",
                d.kernel, d.interface
            ),
        ));
    }
    if d.hopscope > 0 {
        v.push(Finding::new(
            &codes::CAPTURE_ANALYSIS_DROPPED,
            format!(
                "{} packets were captured but dropped because the analysis fell behind \
                 (queue of {queue} packets full); they are in the -w file if one was written \
                 (raise --queue, or narrow the capture with -f)",
                d.hopscope
            ),
        ));
    }
    v
}

#[cfg(test)]
mod tests;
mod threads;

pub use threads::available as available_threads;
