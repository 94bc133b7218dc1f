//! The one pipeline and its one drive loop.
//!
//! ```text
//!  PacketSource ──▶ Engine<A> ──▶ proxy-hop correlation ──▶ semantics ──▶ Sink
//!  (file, live)     decode, flows,   (hops::Correlator,       (semantics::    (JSON, NDJSON,
//!  + a Clock        reassembly,      when analyzers run)      Semantics)      text, UI batches,
//!                   analyzers                                                  a test's Vec)
//! ```
//!
//! [`Pipeline::new`] is the only place that assembles the analysis after the engine; every run
//! (`hopscope report`, `hopscope live`, the UI over a file or live, the tests) builds it there,
//! and [`Pipeline::run`] is the only loop that drives it: it reads a [`PacketSource`] to its
//! end, hands progress to the sink a few times a second, runs the engine's idle sweep on the
//! [`Clock`] when a live source is quiet, and ends every run the same way (drop findings,
//! `capture.incomplete`, the engine's and the steps' end, the summary, [`Sink::finish`]).
//! [`Pipeline::bare`] drives another analyzer with no steps (the Stream view's second pass,
//! engine tests).
//!
//! A sink stops the run by answering [`Flow::Stop`] (the run is then finished as if the capture
//! had ended) or an error (the run ends at once; the error is the run's).

use std::io;
use std::time::{Duration, Instant};

use crate::analyzers::{AnalyzerConfig, Dispatcher};
use crate::base::Timestamp;
use crate::capture::{CaptureError, Next, PacketSource, SourceEnd};
use crate::engine::{Analyzer, Engine, EngineConfig};
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
/// still on its way is older than the sweep [`Engine::tick`] runs.
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
}

impl<S> End<S> {
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
        let r = match self.dead.get_mut(self.from) {
            Some(dead) => match self.sink.record_ref(&record) {
                Some(r) => {
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
    engine: Engine<A>,
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
            shards: Some((engine.clone(), {
                let a = analyzers.clone();
                std::sync::Arc::new(move || Dispatcher::new(a.clone()))
            })),
            engine: Engine::with_analyzer(engine, Dispatcher::new(analyzers)),
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
            _ => self.run_one(source, clock),
        }
    }

    /// Another analyzer and no steps: the engine straight into `sink` (the Stream view's pass
    /// over one connection, engine tests).
    pub fn bare(engine: EngineConfig, analyzer: A, sink: S) -> Self {
        Pipeline {
            budget: engine.memory,
            threads: 1,
            shards: None,
            engine: Engine::with_analyzer(engine, analyzer),
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
                },
            },
        }
    }

    pub fn engine(&self) -> &Engine<A> {
        &self.engine
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

    /// [`Pipeline::run`] on this thread.
    fn run_one<P: PacketSource + ?Sized>(&mut self, source: &mut P, clock: &dyn Clock) -> RunEnd {
        let started = Instant::now();
        let mut last = started;
        let every = if source.is_live() {
            1
        } else {
            FILE_CHECK_EVERY
        };
        let mut read_error = None;
        if source.inputs() > 1 {
            self.tail.clocks = (0..source.inputs() as u32)
                .map(|f| source.clock_of(f))
                .collect();
            self.tail.end.origins = Some(Origins::default());
            self.engine.track_files(true);
            self.engine.analyzer_mut().several_captures();
            self.engine.capture_points(
                (0..source.inputs() as u32)
                    .map(|f| source.capture_point(f))
                    .collect(),
            );
        }
        let r = self.tail.end.sink.begin();
        self.tail.end.heed(r);
        while matches!(self.tail.end.halt, Halt::Go) {
            match source.next() {
                Next::Packet(p) => {
                    if let Some(o) = &mut self.tail.end.origins {
                        o.note(self.engine.packets() + 1, p.file);
                    }
                    self.engine.handle_packet(&p, &mut self.tail);
                    if self.engine.analyzer().done() {
                        break;
                    }
                    let waits = every == 1 && source.may_wait();
                    if !waits
                        && (!self.engine.packets().is_multiple_of(every)
                            || last.elapsed() < PROGRESS_EVERY)
                    {
                        continue;
                    }
                }
                Next::Idle => self.engine.tick(clock.now(), &mut self.tail),
                Next::Secrets(s) => self.engine.analyzer_mut().secrets(s.kind, s.at, &s.data),
                Next::End => break,
                Next::Error(e) => {
                    read_error = Some(e);
                    break;
                }
            }
            if last.elapsed() >= PROGRESS_EVERY || (every == 1 && source.may_wait()) {
                last = Instant::now();
                self.progress(source, started);
            }
        }
        let end = source.finish();
        self.end(source, started, end, read_error)
    }

    fn progress<P: PacketSource + ?Sized>(&mut self, source: &P, started: Instant) {
        let (bytes_done, bytes_total) = source.position();
        let p = Progress {
            bytes_done,
            bytes_total,
            packets: self.engine.packets(),
            flows: self.engine.live_flows(),
            elapsed: started.elapsed().as_secs_f64(),
            dropped: source.dropped(),
        };
        let r = self.tail.end.sink.progress(&p);
        self.tail.end.heed(r);
    }

    /// The end of every run, built once.
    fn end<P: PacketSource + ?Sized>(
        &mut self,
        source: &P,
        started: Instant,
        mut src: SourceEnd,
        read_error: Option<CaptureError>,
    ) -> RunEnd {
        let error = read_error.or(src.error.take());
        self.end_findings(&src, &error);
        let summary = self.engine.finish(&mut self.tail);
        let offsets = self.engine.same_connection_offsets();
        let copies = self.engine.copies_by_file().to_vec();
        self.end_rest(source, started, src, error, summary, offsets, copies)
    }

    /// The end's findings before the engine's end: packets the source dropped, a saved
    /// capture not written, reading stopped early.
    fn end_findings(&mut self, src: &SourceEnd, error: &Option<CaptureError>) {
        let t = &mut self.tail;
        if let Some(d) = &src.dropped {
            for f in drop_findings(d, src.queue) {
                t.record(Record::Finding(f));
            }
        }
        if let Some(e) = &src.save_error {
            t.record(Record::Finding(Finding::new(
                &codes::CAPTURE_SAVE_FAILED,
                format!("{e}; the analysis is complete, the saved capture is not"),
            )));
        }
        if let Some(e) = error {
            t.record(Record::Finding(capture_incomplete(e)));
        }
    }

    /// The end after the engine's (`summary`, the clock offsets connections seen at two
    /// points gave, the copies per input file): the steps' end, the summary, the sink's end.
    #[allow(clippy::too_many_arguments)]
    fn end_rest<P: PacketSource + ?Sized>(
        &mut self,
        source: &P,
        started: Instant,
        src: SourceEnd,
        error: Option<CaptureError>,
        mut summary: CaptureSummary,
        offsets: Vec<crate::flow::seen::PointsOffset>,
        copies: Vec<u64>,
    ) -> RunEnd {
        let t = &mut self.tail;
        t.finish_steps(&mut summary);
        summary.source = src.name;
        summary.format = src.format;
        summary.files = src.files;
        for (f, n) in summary.files.iter_mut().zip(&copies) {
            f.duplicate_packets = *n;
        }
        let clock = |f: u32| self.tail.clocks.get(f as usize).copied().unwrap_or(f);
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
        if let Some(h) = &self.tail.hops {
            est.extend(h.clock_offsets().iter().map(|(a, b, e)| Estimate {
                a: *a,
                b: *b,
                offset_ns: e.offset_ns,
                uncertainty_ns: e.uncertainty_ns(),
                source: OffsetSource::ProxyPairs(e.support),
            }));
        }
        place_offsets(&mut summary.files, &self.tail.clocks, &est);
        // A clock no estimate placed, once (the files of a rotated set share one).
        let first = self.tail.clocks.first().copied();
        let mut said = Vec::new();
        for (f, file) in summary.files.iter().enumerate() {
            let clock = self.tail.clocks.get(f).copied();
            if file.offset_source == "none"
                && file.packets > 0
                && clock != first
                && !said.contains(&clock)
            {
                said.push(clock);
                self.tail.end.record(Record::Finding(Finding::new(
                    &codes::CAPTURE_CLOCK_UNPLACED,
                    format!(
                        "{}: its clock could not be placed against {}'s (no connection captured in both, no proxy hop paired across them): its times are its own; give --clock-offset {}=SECONDS if you know the offset",
                        file.path,
                        summary.files.first().map_or("", |f| f.path.as_str()),
                        file.path
                    ),
                )));
            }
        }
        summary.error = error.as_ref().map(ToString::to_string);
        summary.dropped = src.dropped;
        summary.memory.budget = self.budget as u64;
        // The final progress (what was read in all), then the end.
        if !matches!(self.tail.end.halt, Halt::Failed(_)) {
            self.progress(source, started);
        }
        let t = &mut self.tail;
        let sink_error = match std::mem::replace(&mut t.end.halt, Halt::Go) {
            Halt::Failed(e) => Some(e),
            Halt::Go | Halt::Stop => t.end.sink.finish(&summary).err(),
        };
        RunEnd {
            summary,
            capture_error: error,
            sink_error,
            save_error: src.save_error,
            stats_error: src.stats_error,
        }
    }
}

/// Most runs of consecutive packets from one file remembered to name a finding's file.
const MAX_RUNS: usize = 1 << 16;

/// Which input file the recent packets came from: runs of consecutive packets of one file
/// (a rotated set is one run per file; two interleaved legs one per switch), the last
/// [`MAX_RUNS`] of them, and each file's packet count. A finding about an older packet than
/// that keeps its global number only.
#[derive(Default)]
struct Origins {
    /// (first global packet number, file, that packet's number in the file).
    runs: std::collections::VecDeque<(u64, u32, u64)>,
    /// Packets read so far from each file.
    counts: Vec<u64>,
    /// Runs are given whole (`start_run`, a merge of threads that reads behind the capture):
    /// the last one reaches every packet asked about.
    open_ended: bool,
}

impl Origins {
    fn note(&mut self, global: u64, file: u32) {
        let i = file as usize;
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        let Some(c) = self.counts.get_mut(i) else {
            return;
        };
        *c += 1;
        if self.runs.back().is_none_or(|r| r.1 != file) {
            if self.runs.len() >= MAX_RUNS {
                self.runs.pop_front();
            }
            self.runs.push_back((global, file, *c));
        }
    }

    /// Packets from global number `global` on come from `file`, its packet `k` first.
    fn start_run(&mut self, global: u64, file: u32, k: u64) {
        self.open_ended = true;
        if self.runs.len() >= MAX_RUNS {
            self.runs.pop_front();
        }
        self.runs.push_back((global, file, k));
    }

    /// The file of global packet `n` and its number there.
    fn locate(&self, n: u64) -> Option<(u32, u64)> {
        let i = self.runs.partition_point(|r| r.0 <= n).checked_sub(1)?;
        let (g, file, k) = *self.runs.get(i)?;
        // The run ends where the next begins (or at the last packet read).
        let end = match self.runs.get(i + 1) {
            Some(next) => next.0,
            None if self.open_ended => u64::MAX,
            None => g + self.counts.get(file as usize)?.saturating_sub(k) + 1,
        };
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
