//! `--threads N`: the engine's connections split over N worker threads, the output the same as
//! one thread's, byte for byte.
//!
//! The reading is not here: the pipeline's one drive loop (`super::drive`) reads the source
//! on the calling thread with the run's [`Front`], as on one thread, and hands each packet's
//! segment, the sweeps and the secrets to its back, here the [`Hub`]. The hub copies them
//! into the workers' batches, sends a round when they are full (and whenever the loop
//! flushes: a quiet or waiting live source, the end of the capture), and merges what the
//! workers send back into the [`Tail`]. This module holds the workers, the batches and the
//! merge.
//!
//! ```text
//!  source ─▶ Front (drive loop, this thread: counts, packet time, sweeps, decoding,
//!              │ defragmentation)
//!              ▼
//!           Hub: each TCP segment, copied into its worker's batch (the connection's share,
//!              │ a hash of its unordered address pair, mod N: both directions, and
//!              │ reassembled fragments, go to one worker); sweeps and pcapng secrets to
//!              │ every worker, in capture order
//!              ▼
//!           Shard × N (worker threads: flows, reassembly, analyzers)
//!              │ records in steps: a packet's, or one connection's of a sweep, each stamped
//!              ▼
//!           Merge (this thread): the steps in one thread's order, ids mapped to the run's,
//!           peaks of sums, once-per-run findings ─▶ Tail (proxy hops, semantics, the sink)
//! ```
//!
//! Why the order is one thread's: a packet's records all come from the worker that owns its
//! connection, so steps ordered by packet number are in capture order; a sweep (or the end)
//! reports connections in id order across all of them, so its steps, one per connection, are
//! ordered by the connection's run-wide id. Ids (connections, transactions, WebSockets,
//! tunnels, HTTP/2 connections) are given by each worker in its own order; every step says how
//! many of each its worker had given after it, so the merge, taking the steps in the run's
//! order, gives the run's ids in the order one thread would have, and rewrites every id in
//! the records. The peaks of sums over connections (live connections, buffered and retained
//! bytes, the memory count) are kept exact from each step's values and highs.
//!
//! Bounds: the retention bound for overlap checks is drawn by share on every run
//! (`reassembly::Budget`), and a share's connections are all on one worker, so it decides as
//! on one thread. The others are each worker's share of the run's (`--memory`, `--max-flows`,
//! `--max-buffered-bytes` divided by N): the output is one thread's as long as none is hit;
//! when one is, what is shed differs (the findings say what was).
//!
//! Batches go both ways in bounded channels and come back to their maker for reuse (a
//! worker's input batch to this thread, its output batch to the worker; the records the
//! writer is done with too), so buffers are freed where they were
//! allocated and memory stays bounded by the batches in flight. A sweep or the end, which can
//! report thousands of connections in one round, is sent in parts (`PART_STEPS` connections);
//! the merge takes a worker's next part when it has used the last, before it takes any step,
//! so the order is the same and the burst never waits whole on either side (at the end of
//! the 50 % prefix it was 10 MB of records, steps and events: `--threads 2` peak RSS 77.5 →
//! 70.6 MiB on the full file).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

use rustc_hash::FxHashSet;

use super::{Back, Clock, Ended, Factory, Pipeline, RunEnd, Setup, Tail, drive};
use crate::analyzers::http::conn::MAX_CREDS_SEEN;
use crate::base::{PacketView, Timestamp};
use crate::capture::{PacketSource, Secrets};
use crate::decode::{TcpFlags, TcpSegment};
use crate::engine::{Analyzer, EngineConfig, Front, Gauges, Shard};
use crate::flow::FlowKey;
use crate::flow::seen::{PointOffset, SameConnection};
use crate::model::{CaptureSummary, Note, OnceKey, Record, RecordSink, Sink, TcpSummary};

/// Kinds of ids mapped: connections, then the analyzer's (transactions, WebSockets, tunnels,
/// HTTP/2 connections).
const KINDS: usize = 1 + crate::engine::ID_KINDS;
const CONN: usize = 0;
const TXN: usize = 1;
const WS: usize = 2;
const TUNNEL: usize = 3;
const H2: usize = 4;

/// Packets per batch, per worker, before the batches are sent.
const BATCH_PACKETS: usize = 128;
/// Payload bytes per batch before they are sent.
const BATCH_BYTES: usize = 2 << 20;
/// A live capture's batches are sent this small (and whenever it is quiet).
const LIVE_BATCH_PACKETS: usize = 32;
/// Batches sent and not merged yet (each worker's input and output channels hold that many).
const IN_FLIGHT: usize = 2;

/// Steps' places in the run's order at one packet number.
const PH_RUN: u8 = 0;
const PH_SWEEP_CLOSE: u8 = 1;
const PH_SWEEP_LINGER: u8 = 2;
const PH_PACKET: u8 = 3;
const PH_TICK_CLOSE: u8 = 4;
const PH_TICK_LINGER: u8 = 5;
/// At the end (packet number `u64::MAX`): lingering records, then live connections, then the
/// analyzers' end, then the decoder's.
const PH_END_LINGER: u8 = 1;
const PH_END_CLOSE: u8 = 2;
const PH_END_ANALYZER: u8 = 3;
const PH_END_FRONT: u8 = 4;
const END: u64 = u64::MAX;

/// The default of `--threads`: the cores available.
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A TCP segment copied for a worker.
struct Seg {
    n: u64,
    ts: Timestamp,
    now: Timestamp,
    held: usize,
    file: u32,
    pkt_bytes: u64,
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    missing_tail: u32,
    /// Its payload in the batch's bytes.
    at: usize,
    len: usize,
}

enum Item {
    Seg(Seg),
    /// The sweep at `now` due before packet `n` (after it, live, when `tick`).
    Sweep {
        now: Timestamp,
        n: u64,
        tick: bool,
    },
    Secrets {
        kind: u32,
        at: u64,
        data: Vec<u8>,
    },
}

/// What a worker is given: items in capture order, and their payloads.
#[derive(Default)]
struct InBatch {
    items: Vec<Item>,
    bytes: Vec<u8>,
    /// The capture ended: after the items, finish at (packet time, last packet number).
    finish: Option<(Timestamp, u64)>,
}

/// One step's records (a packet's, or one connection's of a sweep or of the end).
struct Step {
    n: u64,
    phase: u8,
    /// The connection (the worker's id) a sweep or the end reports in this step.
    conn: u64,
    /// Ids the worker had given after the step, per kind.
    ids: [u64; KINDS],
    /// The worker's gauges after the step, and the step's highs (packets only).
    gauges: Option<(Gauges, Option<Gauges>)>,
    /// Its events end here in the batch's.
    end: usize,
}

// Records are most of the events: boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
enum Ev {
    Rec(Record),
    /// What the sink wrote ahead of the next record ([`Sink::prewrite`]): `OutBatch::ahead`'s
    /// bytes `.0...1`.
    Ahead(usize, usize),
    Note(Note),
    /// The reading thread's: packets from global number `.0` on come from file `.1`, its
    /// packet `.2` first.
    Run(u64, u32, u64),
}

/// What a worker (or the reading thread) hands the merge for one batch.
#[derive(Default)]
struct OutBatch {
    steps: Vec<Step>,
    events: Vec<Ev>,
    /// On the way back: records of this worker's the sink is done with, freed here.
    dead: Vec<Record>,
    /// After the capture's end: the worker's counts.
    end: Option<Box<ShardEnd>>,
    /// More of the same round follows: a sweep's or the end's steps are sent in parts of
    /// [`PART_STEPS`], so a burst of thousands of connections is never held whole.
    more: bool,
    /// What the sink wrote ahead of the batch's records, one after the other (`Ev::Ahead`).
    ahead: Vec<u8>,
}

/// A stream's batch in the merge: its next step, and where that step's events start.
struct Cursor {
    b: OutBatch,
    step: usize,
    ev: usize,
}

impl Cursor {
    fn new(b: OutBatch) -> Self {
        Cursor { b, step: 0, ev: 0 }
    }

    /// Every step taken, and more of the round to come from its worker.
    fn wants_more(&self) -> bool {
        self.b.more && self.step >= self.b.steps.len()
    }

    /// The batch, emptied for reuse.
    fn into_used(self) -> OutBatch {
        let mut b = self.b;
        b.events.clear();
        b.steps.clear();
        b.ahead.clear();
        trim(&mut b.events, KEEP_ENTRIES);
        trim(&mut b.steps, KEEP_ENTRIES);
        trim(&mut b.ahead, KEEP_AHEAD);
        b
    }
}

struct ShardEnd {
    summary: CaptureSummary,
    copies_by_file: Vec<u64>,
}

/// A worker's sink: records and notes into the batch, steps cut where a sweep announces the
/// next connection.
struct Collect<'a> {
    out: &'a mut OutBatch,
    /// Where a part of a long sweep goes, and where used batches come back from.
    tx: &'a SyncSender<OutBatch>,
    reuse: &'a Receiver<OutBatch>,
    /// In a sweep or the end: (phase of closed connections, phase of lingering records).
    sweeping: Option<(u8, u8)>,
    n: u64,
    phase: u8,
    conn: u64,
    /// The sink's work on each record done here, on the worker ([`Sink::prewrite`]).
    prewrite: Option<fn(&Record, &mut Vec<u8>) -> bool>,
}

impl Collect<'_> {
    /// Ends the step in progress; a sweep's first (before any connection) is dropped when
    /// empty.
    fn cut(&mut self, ids: [u64; KINDS], gauges: Option<(Gauges, Option<Gauges>)>) {
        let start = self.out.steps.last().map_or(0, |s| s.end);
        let end = self.out.events.len();
        if self.conn == u64::MAX && end == start && gauges.is_none() {
            return;
        }
        self.out.steps.push(Step {
            n: self.n,
            phase: self.phase,
            conn: if self.conn == u64::MAX { 0 } else { self.conn },
            ids,
            gauges,
            end,
        });
    }

    /// In a sweep or the end, at a step's boundary: sends what is collected as a part of the
    /// round when it is long, so the connections of a sweep (thousands at once, each with its
    /// unpacked record) wait in parts of [`PART_STEPS`] instead of all together, on both
    /// sides of the channel (the merge takes parts as it goes: `Hub::merge_one`).
    fn maybe_part(&mut self) {
        if self.out.steps.len() < PART_STEPS
            && self.out.events.len() < PART_EVENTS
            && self.out.ahead.len() < PART_AHEAD
        {
            return;
        }
        let fresh = fresh_out(self.reuse);
        let mut part = std::mem::replace(self.out, fresh);
        part.more = true;
        // The merge gone (a failed sink), the worker goes on to its end as it would.
        let _ = self.tx.send(part);
    }
}

/// Steps (connections) and events of a sweep or the end sent as one part.
const PART_STEPS: usize = 256;
const PART_EVENTS: usize = 1024;
/// Bytes written ahead of a part's records (hundreds of connections' JSON).
const PART_AHEAD: usize = 32 << 10;

/// A used output batch back from the merge (its dead records freed here, where they were
/// made), or a new one.
fn fresh_out(reuse: &Receiver<OutBatch>) -> OutBatch {
    let mut out = reuse.try_recv().unwrap_or_default();
    out.dead.clear();
    trim(&mut out.dead, KEEP_ENTRIES);
    out.more = false;
    out
}

impl RecordSink for Collect<'_> {
    fn record(&mut self, record: Record) {
        if let Some(prewrite) = self.prewrite {
            let ahead = &mut self.out.ahead;
            let at = ahead.len();
            if prewrite(&record, ahead) {
                let end = ahead.len();
                self.out.events.push(Ev::Ahead(at, end));
            } else {
                ahead.truncate(at);
            }
        }
        self.out.events.push(Ev::Rec(record));
    }

    fn note(&mut self, note: Note) {
        match note {
            Note::Conn { id, lingering, ids } => {
                if let Some((close, linger)) = self.sweeping {
                    self.cut(ids, None);
                    self.maybe_part();
                    self.phase = if lingering { linger } else { close };
                    self.conn = id;
                }
            }
            other => self.out.events.push(Ev::Note(other)),
        }
    }
}

/// A worker: its shard, fed batches until the capture's end.
fn work<A: Analyzer>(
    cfg: EngineConfig,
    make: &(dyn Fn() -> A + Send + Sync),
    setup: &Setup,
    rx: Receiver<InBatch>,
    give_back: std::sync::mpsc::Sender<InBatch>,
    tx: SyncSender<OutBatch>,
    reuse: Receiver<OutBatch>,
) {
    let mut shard = Shard::new(cfg, make());
    setup.prepare(&mut shard);
    while let Ok(mut batch) = rx.recv() {
        let mut out = fresh_out(&reuse);
        let mut sink = Collect {
            out: &mut out,
            tx: &tx,
            reuse: &reuse,
            sweeping: None,
            n: 0,
            phase: PH_PACKET,
            conn: u64::MAX,
            prewrite: setup.prewrite,
        };
        for item in batch.items.drain(..) {
            match item {
                Item::Seg(s) => {
                    sink.n = s.n;
                    sink.phase = PH_PACKET;
                    sink.conn = 0;
                    let payload = batch.bytes.get(s.at..s.at + s.len).unwrap_or(&[]);
                    let seg = TcpSegment {
                        src: s.src,
                        dst: s.dst,
                        src_port: s.src_port,
                        dst_port: s.dst_port,
                        seq: s.seq,
                        ack: s.ack,
                        flags: s.flags,
                        window: s.window,
                        payload,
                        missing_tail: s.missing_tail,
                    };
                    shard.start_step();
                    shard.packet(
                        &seg,
                        s.file,
                        s.pkt_bytes,
                        s.ts,
                        s.n,
                        s.now,
                        s.held,
                        &mut sink,
                    );
                    let (now, peak) = shard.gauges();
                    sink.cut(shard.ids_given(), Some((now, Some(peak))));
                }
                Item::Sweep { now, n, tick } => {
                    let (close, linger) = if tick {
                        (PH_TICK_CLOSE, PH_TICK_LINGER)
                    } else {
                        (PH_SWEEP_CLOSE, PH_SWEEP_LINGER)
                    };
                    sink.sweeping = Some((close, linger));
                    sink.n = n;
                    sink.phase = close;
                    sink.conn = u64::MAX;
                    shard.sweep(now, n, &mut sink);
                    sink.sweeping = None;
                    let (g, _) = shard.gauges();
                    sink.cut(shard.ids_given(), Some((g, None)));
                }
                Item::Secrets { kind, at, data } => shard.analyzer_mut().secrets(kind, at, &data),
            }
        }
        if let Some((now, n)) = batch.finish {
            sink.sweeping = Some((PH_END_CLOSE, PH_END_LINGER));
            sink.n = END;
            sink.phase = PH_END_LINGER;
            sink.conn = u64::MAX;
            shard.finish_connections(now, n, &mut sink);
            sink.sweeping = None;
            let (g, _) = shard.gauges();
            sink.cut(shard.ids_given(), Some((g, None)));
            sink.phase = PH_END_ANALYZER;
            sink.conn = 0;
            shard.finish_analyzer(&mut sink);
            sink.cut(shard.ids_given(), None);
            let mut summary = CaptureSummary::default();
            shard.summarize(&mut summary);
            out.end = Some(Box::new(ShardEnd {
                summary,
                copies_by_file: shard.copies_by_file().to_vec(),
            }));
        }
        batch.bytes.clear();
        trim(&mut batch.bytes, KEEP_BYTES);
        trim(&mut batch.items, KEEP_ENTRIES);
        let _ = give_back.send(batch);
        if tx.send(out).is_err() {
            return;
        }
    }
}

/// Entries a reused batch's vectors keep room for: a packet's batch needs a few hundred; a
/// sweep's (one step per connection closed, thousands at once) is given back, or every
/// batch that ever carried one would hold its room for the rest of the run (4 MB of steps
/// on the 50 % prefix).
const KEEP_ENTRIES: usize = 2048;
/// Payload bytes a reused input batch keeps room for: that many full-size segments.
const KEEP_BYTES: usize = KEEP_ENTRIES * 1500;
/// Bytes written ahead a reused output batch keeps room for: a round of packets writes a few
/// records (tens of KiB), a sweep's part hundreds of connections; one large record (a
/// WebSocket message's text) leaves no large room behind.
const KEEP_AHEAD: usize = 256 << 10;

/// Gives back `v`'s room beyond `keep` entries.
fn trim<T>(v: &mut Vec<T>, keep: usize) {
    if v.capacity() > keep {
        v.shrink_to(keep.max(v.len()));
    }
}

/// One worker's channels, as this thread holds them.
struct Lane {
    tx: SyncSender<InBatch>,
    back: Receiver<InBatch>,
    rx: Receiver<OutBatch>,
    reuse: std::sync::mpsc::Sender<OutBatch>,
    /// The batch being filled.
    fill: InBatch,
}

/// The worker a connection's segments go to: its share (a hash of its unordered address
/// pair), so every connection of a share of the retention bound is on one worker.
fn lane_of(seg: &TcpSegment<'_>, lanes: usize) -> usize {
    usize::from(FlowKey::of_segment(seg).share()) % lanes.max(1)
}

/// Maps a worker's ids of one kind to the run's: the run's id of each of the worker's ids from
/// `base` on, one entry per id (with the workers' ids interleaved, runs of consecutive ids are
/// one or two long, and a search among them was 3 % of `--threads 2`'s time).
#[derive(Default)]
struct IdMap {
    base: u64,
    /// The run's ids, less `origin`, in 32 bits (half the room: a long-lived connection keeps
    /// every id given after it). Monotonic, so rebasing on the front keeps them small.
    to: VecDeque<u32>,
    origin: u64,
    /// Ids the worker had given (all mapped).
    given: u64,
}

impl IdMap {
    fn grow(&mut self, given: u64, next: &mut u64) {
        if given <= self.given {
            return;
        }
        if self.to.is_empty() {
            self.base = self.given;
            self.origin = *next;
        }
        for _ in self.given..given {
            let d = match u32::try_from(*next - self.origin) {
                Ok(d) => d,
                Err(_) => {
                    self.rebase();
                    // Past 32 bits even from the front: more ids between the oldest mapped and
                    // the newest than memory could hold entries for.
                    u32::try_from(*next - self.origin).unwrap_or(u32::MAX)
                }
            };
            self.to.push_back(d);
            *next += 1;
        }
        self.given = given;
    }

    /// Measures the entries from the front's id (the smallest) instead.
    fn rebase(&mut self) {
        let Some(&front) = self.to.front() else {
            return;
        };
        self.origin += u64::from(front);
        for d in &mut self.to {
            *d -= front;
        }
    }

    #[inline]
    fn map(&self, local: u64) -> u64 {
        let Some(i) = local.checked_sub(self.base) else {
            return local;
        };
        match usize::try_from(i).ok().and_then(|i| self.to.get(i)) {
            Some(&d) => self.origin + u64::from(d),
            // Not given yet: after the latest, as one thread would give it.
            None => match self.to.back() {
                Some(&d) => {
                    self.origin + u64::from(d) + (local - self.base - (self.to.len() as u64 - 1))
                }
                None => local,
            },
        }
    }

    /// Forgets the ids below `below` (no record can name them any more); the latest stays.
    fn prune(&mut self, below: u64) {
        while self.base < below && self.to.len() > 1 {
            self.to.pop_front();
            self.base += 1;
        }
    }
}

/// The merge: the steps of every worker and the reading thread in the run's order.
struct Merge {
    /// The reading thread's batches not merged yet (the workers' wait in their channels).
    reader: VecDeque<OutBatch>,
    ids: Vec<[IdMap; KINDS]>,
    next: [u64; KINDS],
    /// Per worker, its connections not reported yet, with the ids it had given when each was
    /// created: a connection's records name only its own ids, all given after it was, and its
    /// connection record is its last, so the ids below the oldest's are forgotten (the id map
    /// follows the live connections, not the capture's length).
    /// The counts are kept in 32 bits (`low32`), half the room of a map that holds every
    /// connection of a worker not reported yet (tens of thousands lingering at once).
    live: Vec<std::collections::BTreeMap<u64, [u32; KINDS]>>,
    gauges: Vec<Gauges>,
    total: Gauges,
    /// Highs of the sums: live connections, buffered, retained, memory.
    peak: Gauges,
    once: FxHashSet<OnceKey>,
    /// Key-source findings reported so far, and the batch of them being read.
    key_sources: u64,
    key_batch: Option<(u64, u64, u64)>,
    same_connection: SameConnection,
}

/// An id count in 32 bits for the live map: past `u32::MAX` it is kept as `u32::MAX`, lower
/// than the truth, so the ids below it that are forgotten are still below the truth (only
/// fewer are forgotten: a mapping is never lost).
fn low32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn add(a: Gauges, b: Gauges) -> Gauges {
    Gauges {
        flows: a.flows + b.flows,
        buffered: a.buffered + b.buffered,
        retained: a.retained + b.retained,
        memory: a.memory + b.memory,
    }
}

fn sub(a: Gauges, b: Gauges) -> Gauges {
    Gauges {
        flows: a.flows.saturating_sub(b.flows),
        buffered: a.buffered.saturating_sub(b.buffered),
        retained: a.retained.saturating_sub(b.retained),
        memory: a.memory.saturating_sub(b.memory),
    }
}

impl Merge {
    fn new(workers: usize) -> Self {
        Merge {
            reader: VecDeque::new(),
            ids: (0..workers).map(|_| Default::default()).collect(),
            live: (0..workers).map(|_| Default::default()).collect(),
            next: [0; KINDS],
            gauges: vec![Gauges::default(); workers],
            total: Gauges::default(),
            peak: Gauges::default(),
            once: FxHashSet::default(),
            key_sources: 0,
            key_batch: None,
            same_connection: SameConnection::default(),
        }
    }

    fn workers(&self) -> usize {
        self.ids.len()
    }

    /// The order key of stream `s`'s step.
    fn key(&self, s: usize, step: &Step) -> (u64, u8, u64, usize) {
        let sweep = s < self.workers()
            && matches!(
                (step.n == END, step.phase),
                (
                    false,
                    PH_SWEEP_CLOSE | PH_SWEEP_LINGER | PH_TICK_CLOSE | PH_TICK_LINGER
                ) | (true, PH_END_LINGER | PH_END_CLOSE)
            );
        let conn = if sweep {
            self.ids
                .get(s)
                .map_or(step.conn, |m| m[CONN].map(step.conn))
        } else {
            0
        };
        (step.n, step.phase, conn, s)
    }

    /// The stream whose next step comes first in the run's order, if any has one left.
    fn next_stream(&self, cur: &[Cursor]) -> Option<usize> {
        let mut best: Option<((u64, u8, u64, usize), usize)> = None;
        for (s, c) in cur.iter().enumerate() {
            let Some(step) = c.b.steps.get(c.step) else {
                continue;
            };
            let k = self.key(s, step);
            if best.is_none_or(|(b, _)| k < b) {
                best = Some((k, s));
            }
        }
        best.map(|(_, s)| s)
    }

    /// Stream `s`'s next step into `tail`: its ids and gauges, then its events.
    fn take_step<S: Sink>(&mut self, s: usize, c: &mut Cursor, tail: &mut Tail<S>) {
        let Some(step) = c.b.steps.get(c.step) else {
            return;
        };
        c.step += 1;
        let end = step.end;
        if s < self.workers() {
            self.grow(s, step);
        }
        tail.end.lend_ahead(&mut c.b.ahead);
        while c.ev < end {
            let Some(e) = c.b.events.get_mut(c.ev) else {
                break;
            };
            let e = std::mem::replace(e, Ev::Run(0, 0, 0));
            c.ev += 1;
            if let Ev::Ahead(a, b) = e {
                tail.end.ahead(a, b);
                continue;
            }
            self.event(s, e, tail);
        }
        tail.end.lend_ahead(&mut c.b.ahead);
        c.ev = end;
    }

    /// A worker's step comes next: the ids it gave are the run's next ones, its gauges move
    /// the sums (and a packet's highs, the sums' peaks).
    fn grow(&mut self, s: usize, step: &Step) {
        if let (Some(maps), Some(live)) = (self.ids.get(s), self.live.get_mut(s)) {
            let first = maps[CONN].given;
            let before: [u32; KINDS] = std::array::from_fn(|k| low32(maps[k].given));
            for conn in first..step.ids[CONN] {
                live.insert(conn, before);
            }
        }
        if let Some(maps) = self.ids.get_mut(s) {
            for (k, m) in maps.iter_mut().enumerate() {
                m.grow(step.ids[k], &mut self.next[k]);
            }
        }
        let Some((now, highs)) = step.gauges else {
            return;
        };
        let Some(mine) = self.gauges.get_mut(s) else {
            return;
        };
        let others = sub(self.total, *mine);
        if let Some(h) = highs {
            let p = &mut self.peak;
            if h.flows > 0 {
                p.flows = p.flows.max(others.flows + h.flows);
            }
            p.buffered = p.buffered.max(others.buffered + h.buffered);
            p.retained = p.retained.max(others.retained + h.retained);
            if h.memory > 0 {
                p.memory = p.memory.max(others.memory + h.memory);
            }
        }
        *mine = now;
        self.total = add(others, now);
    }

    /// Worker `s` reported its connection `conn`: the ids only older connections could name
    /// are forgotten.
    fn forget(&mut self, s: usize, conn: u64) {
        let (Some(maps), Some(live)) = (self.ids.get_mut(s), self.live.get_mut(s)) else {
            return;
        };
        live.remove(&conn);
        let below: [u64; KINDS] = match live.first_key_value() {
            Some((&oldest, given)) => {
                let mut b = given.map(u64::from);
                b[CONN] = oldest;
                b
            }
            None => std::array::from_fn(|k| maps[k].given),
        };
        for (m, b) in maps.iter_mut().zip(below) {
            m.prune(b);
        }
    }

    fn event<S: Sink>(&mut self, s: usize, e: Ev, tail: &mut Tail<S>) {
        match e {
            Ev::Rec(mut r) => {
                let closed = match &r {
                    Record::Connection(c) => Some(c.id),
                    _ => None,
                };
                if let Some(m) = self.ids.get(s) {
                    remap(&mut r, m);
                }
                tail.end.ahead_is_for(&r);
                if let Some(conn) = closed {
                    self.forget(s, conn);
                }
                if let Record::Finding(f) = &mut r {
                    if let Some((first, count, i)) = self.key_batch {
                        let seen = first + i < self.key_sources;
                        self.key_batch = (i + 1 < count).then_some((first, count, i + 1));
                        if i + 1 >= count {
                            self.key_sources = self.key_sources.max(first + count);
                        }
                        if seen {
                            return;
                        }
                    }
                    if let Some(key) = f.once.take() {
                        if self.once.contains(&*key) {
                            return;
                        }
                        if self.once.len() < MAX_CREDS_SEEN {
                            self.once.insert(*key);
                        }
                    }
                }
                tail.end.from = s;
                tail.record(r);
            }
            Ev::Note(Note::KeySources { first, count }) => {
                self.key_batch = (count > 0).then_some((first, count, 0));
                if count == 0 {
                    self.key_sources = self.key_sources.max(first);
                }
            }
            Ev::Note(Note::SameConnection {
                owner,
                copy,
                owner_file,
                copy_file,
                lo,
                hi,
            }) => self.same_connection.add(
                owner,
                copy,
                PointOffset {
                    owner_file,
                    copy_file,
                    lo,
                    hi,
                },
            ),
            Ev::Note(Note::Conn { .. }) => {}
            Ev::Run(g, file, k) => {
                if let Some(o) = &mut tail.end.origins {
                    o.start_run(g, file, k);
                }
            }
            // Taken by `take_step` before it gets here.
            Ev::Ahead(..) => {}
        }
    }
}

/// Rewrites a worker's ids in a record with the run's.
fn remap(r: &mut Record, m: &[IdMap; KINDS]) {
    let c = |id: &mut u64| *id = m[CONN].map(*id);
    let t = |id: &mut u64| *id = m[TXN].map(*id);
    match r {
        Record::Connection(x) => c(&mut x.id),
        Record::Finding(f) => {
            if let Some(id) = &mut f.connection {
                c(id);
            }
            if let Some(id) = &mut f.transaction {
                t(id);
            }
        }
        Record::Transaction(x) => {
            t(&mut x.id);
            c(&mut x.connection);
            if let Some(p) = &mut x.promised_by
                && let Some(id) = &mut p.transaction
            {
                t(id);
            }
            if let Some(id) = &mut x.h2c_upgrade {
                t(id);
            }
        }
        Record::WebSocket(x) => {
            x.id = m[WS].map(x.id);
            c(&mut x.connection);
            if let Some(id) = &mut x.handshake.transaction {
                t(id);
            }
        }
        Record::WsMessage(x) => x.websocket = m[WS].map(x.websocket),
        Record::Tunnel(x) => {
            x.id = m[TUNNEL].map(x.id);
            c(&mut x.connection);
            if let Some(id) = &mut x.transaction {
                t(id);
            }
        }
        Record::Http2(x) => {
            x.id = m[H2].map(x.id);
            c(&mut x.connection);
            if let Some(id) = &mut x.transaction {
                t(id);
            }
            for id in &mut x.transactions {
                t(id);
            }
        }
        // Made after the merge, by the correlator.
        Record::ProxyHop(_) => {}
    }
}

/// The reading thread's records (undecodable packets) into its stream.
impl RecordSink for OutBatch {
    fn record(&mut self, record: Record) {
        self.events.push(Ev::Rec(record));
    }
}

/// Ends the reading thread's step at `(n, phase)` if it has events.
fn reader_step(b: &mut OutBatch, n: u64, phase: u8) {
    let start = b.steps.last().map_or(0, |s| s.end);
    let end = b.events.len();
    if end > start {
        b.steps.push(Step {
            n,
            phase,
            conn: 0,
            ids: [0; KINDS],
            gauges: None,
            end,
        });
    }
}

/// Each worker's share of the run's bounds.
fn share(cfg: &EngineConfig, workers: usize) -> EngineConfig {
    let w = workers.max(1);
    let mut c = cfg.clone();
    c.memory = (cfg.memory / w).max(1);
    c.max_flows = (cfg.max_flows / w).max(1);
    c
}

/// A worker's used batch back to it, with the records the sink is done with (freed there), and
/// its counts kept when it carried the end.
fn hand_back<S: Sink>(
    lane: &Lane,
    w: usize,
    mut b: OutBatch,
    tail: &mut Tail<S>,
    ends: &mut [Option<Box<ShardEnd>>],
) {
    if let Some(dead) = tail.end.dead.get_mut(w) {
        std::mem::swap(dead, &mut b.dead);
    }
    if let Some(e) = b.end.take()
        && let Some(slot) = ends.get_mut(w)
    {
        *slot = Some(e);
    }
    let _ = lane.reuse.send(b);
}

/// The drive loop's back on N threads: the workers' lanes, the reading thread's stream, the merge.
struct Hub {
    lanes: Vec<Lane>,
    reader: OutBatch,
    spare: Option<OutBatch>,
    merge: Merge,
    /// Batches sent and not merged yet.
    in_flight: usize,
    /// Packets and payload bytes in the batches being filled.
    packets: usize,
    bytes: usize,
    /// The batches are sent at this many packets.
    batch_packets: usize,
    /// The worker given the latest segment.
    last: usize,
    ends: Vec<Option<Box<ShardEnd>>>,
    /// The run's connection budget, for the summary.
    memory: usize,
}

impl Hub {
    /// Sends every worker its batch (empty ones too: every worker answers every batch), and
    /// merges what is due so that at most `IN_FLIGHT` batches are in flight.
    fn send<S: Sink>(&mut self, tail: &mut Tail<S>, finish: Option<(Timestamp, u64)>) {
        for lane in &mut self.lanes {
            let fresh = lane.back.try_recv().unwrap_or_default();
            let mut b = std::mem::replace(&mut lane.fill, fresh);
            b.finish = finish;
            // A worker that ended early (a panic) is reported by its join; the rest go on.
            let _ = lane.tx.send(b);
        }
        let fresh = self.spare.take().unwrap_or_default();
        let r = std::mem::replace(&mut self.reader, fresh);
        self.merge.reader.push_back(r);
        self.in_flight += 1;
        self.packets = 0;
        self.bytes = 0;
        while self.in_flight > IN_FLIGHT {
            self.merge_one(tail);
        }
    }

    /// Merges the oldest round in flight: every worker's batch for it (in parts, for a long
    /// sweep or the end: a part used up, the next is waited for before any step is taken, as
    /// it may hold the earliest) and the reading thread's, step by step in the run's order.
    fn merge_one<S: Sink>(&mut self, tail: &mut Tail<S>) {
        if self.in_flight == 0 {
            return;
        }
        // A worker gone answers nothing: its steps are missing (its join reports why).
        let mut cur: Vec<Cursor> = self
            .lanes
            .iter()
            .map(|lane| Cursor::new(lane.rx.recv().unwrap_or_default()))
            .collect();
        cur.push(Cursor::new(
            self.merge.reader.pop_front().unwrap_or_default(),
        ));
        loop {
            for (w, lane) in self.lanes.iter().enumerate() {
                let Some(c) = cur.get_mut(w) else { continue };
                while c.wants_more() {
                    let next = Cursor::new(lane.rx.recv().unwrap_or_default());
                    let used = std::mem::replace(c, next).into_used();
                    hand_back(lane, w, used, tail, &mut self.ends);
                }
            }
            let Some(s) = self.merge.next_stream(&cur) else {
                break;
            };
            if let Some(c) = cur.get_mut(s) {
                self.merge.take_step(s, c, tail);
            }
        }
        self.in_flight -= 1;
        for (w, c) in cur.into_iter().enumerate() {
            let used = c.into_used();
            match self.lanes.get(w) {
                Some(lane) => hand_back(lane, w, used, tail, &mut self.ends),
                None => self.spare = Some(used),
            }
        }
    }

    fn drain<S: Sink>(&mut self, tail: &mut Tail<S>) {
        while self.in_flight > 0 {
            self.merge_one(tail);
        }
    }
}

impl<S: Sink> Back<S> for Hub {
    #[inline]
    fn front_out<'a>(&'a mut self, _tail: &'a mut Tail<S>) -> &'a mut dyn RecordSink {
        &mut self.reader
    }

    fn run_start(&mut self, n: u64, file: u32, k: u64, _tail: &mut Tail<S>) {
        self.reader.events.push(Ev::Run(n, file, k));
        reader_step(&mut self.reader, n, PH_RUN);
    }

    fn sweep(&mut self, now: Timestamp, n: u64, tick: bool, _tail: &mut Tail<S>) {
        for lane in &mut self.lanes {
            lane.fill.items.push(Item::Sweep { now, n, tick });
        }
    }

    #[inline]
    fn segment(
        &mut self,
        seg: &TcpSegment<'_>,
        pkt: &PacketView<'_>,
        n: u64,
        now: Timestamp,
        _tail: &mut Tail<S>,
    ) {
        let w = lane_of(seg, self.lanes.len());
        let Some(lane) = self.lanes.get_mut(w) else {
            return;
        };
        let at = lane.fill.bytes.len();
        lane.fill.bytes.extend_from_slice(seg.payload);
        lane.fill.items.push(Item::Seg(Seg {
            n,
            ts: pkt.ts,
            now,
            held: 0,
            file: pkt.file,
            pkt_bytes: pkt.data.len() as u64,
            src: seg.src,
            dst: seg.dst,
            src_port: seg.src_port,
            dst_port: seg.dst_port,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: seg.window,
            missing_tail: seg.missing_tail,
            at,
            len: seg.payload.len(),
        }));
        self.last = w;
        self.packets += 1;
        self.bytes += seg.payload.len();
    }

    #[inline]
    fn held(&mut self, held: usize, _now: Timestamp, _n: u64, _tail: &mut Tail<S>) {
        if let Some(Item::Seg(s)) = self
            .lanes
            .get_mut(self.last)
            .and_then(|l| l.fill.items.last_mut())
        {
            s.held = held;
        }
    }

    #[inline]
    fn packet_done(&mut self, n: u64, tail: &mut Tail<S>) {
        reader_step(&mut self.reader, n, PH_PACKET);
        if self.packets >= self.batch_packets || self.bytes >= BATCH_BYTES {
            self.send(tail, None);
        }
    }

    fn secrets(&mut self, s: Secrets) {
        for lane in &mut self.lanes {
            lane.fill.items.push(Item::Secrets {
                kind: s.kind,
                at: s.at,
                data: s.data.clone(),
            });
        }
    }

    fn flush(&mut self, tail: &mut Tail<S>) {
        self.send(tail, None);
        self.drain(tail);
    }

    /// The workers' analyzers are built by the factory (the dispatcher's, which reads every
    /// packet); a pass that stops early is a bare pipeline's, on one thread.
    fn done(&self) -> bool {
        false
    }

    fn flows(&self) -> usize {
        self.merge.total.flows as usize
    }

    fn finish(&mut self, front: &mut Front, tail: &mut Tail<S>) -> Ended {
        // Every worker's connections and analyzers, then the decoder's count.
        let mut summary = front.finish(&mut self.reader);
        reader_step(&mut self.reader, END, PH_END_FRONT);
        self.send(tail, Some((front.now(), front.packets())));
        self.drain(tail);
        let ends: Vec<Box<ShardEnd>> = self.ends.drain(..).flatten().collect();
        let copies = combine(&mut summary, &ends, &self.merge, self.memory);
        tail.end.dead = Vec::new();
        Ended {
            summary,
            offsets: self.merge.same_connection.estimates(),
            copies,
        }
    }
}

/// [`Pipeline::run`] over `workers` threads (more than one): the workers spawned, then the
/// drive loop on this thread with the [`Hub`] as its back.
pub(super) fn run<S: Sink, A: Analyzer, P: PacketSource + ?Sized>(
    p: &mut Pipeline<S, A>,
    workers: usize,
    cfg: EngineConfig,
    make: Factory<A>,
    source: &mut P,
    clock: &dyn Clock,
) -> RunEnd {
    let setup = &Setup {
        prewrite: p.tail.end.sink.prewrite(),
        ..Setup::new(source, workers)
    };
    // Records the writer is done with go back to the worker that made them, to be freed
    // there: freeing them on this thread was a fifth of its samples (`_int_free`, `cfree`,
    // `malloc_consolidate` on the workers' arenas), and this thread bounds the run's speed.
    // On the 50 % prefix with two workers (`perf record`, best of four) it took this thread
    // from 5,464 to 4,673 samples, the workers' unchanged, for 0–2 MB of peak RSS.
    p.tail.end.dead = (0..workers).map(|_| Vec::new()).collect();
    let shard_cfg = share(&cfg, workers);
    let batch_packets = if source.is_live() {
        LIVE_BATCH_PACKETS
    } else {
        BATCH_PACKETS * workers
    };
    std::thread::scope(|scope| {
        let mut lanes = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = sync_channel(IN_FLIGHT + 1);
            let (give_back, back) = channel();
            let (otx, orx) = sync_channel(IN_FLIGHT + 1);
            let (reuse_tx, reuse_rx) = channel();
            let (c, a) = (shard_cfg.clone(), make.clone());
            scope.spawn(move || work(c, &*a, setup, rx, give_back, otx, reuse_rx));
            lanes.push(Lane {
                tx,
                back,
                rx: orx,
                reuse: reuse_tx,
                fill: InBatch::default(),
            });
        }
        let hub = Hub {
            lanes,
            reader: OutBatch::default(),
            spare: None,
            merge: Merge::new(workers),
            in_flight: 0,
            packets: 0,
            bytes: 0,
            batch_packets,
            last: 0,
            ends: (0..workers).map(|_| None).collect(),
            memory: cfg.memory,
        };
        // The hub is dropped at the end of the run: the workers see their channels close.
        drive(&mut p.front, &mut p.tail, p.budget, hub, source, clock)
    })
}

/// The workers' counts into the summary (the decoder's already in it): sums, and the peaks
/// of sums the merge kept. Returns the copies per input file.
fn combine(
    s: &mut CaptureSummary,
    ends: &[Box<ShardEnd>],
    merge: &Merge,
    memory: usize,
) -> Vec<u64> {
    let mut tcp = TcpSummary::default();
    let mut copies: Vec<u64> = Vec::new();
    for e in ends {
        let t = &e.summary.tcp;
        tcp.connections += t.connections;
        tcp.flows_evicted += t.flows_evicted;
        tcp.ooo_limit_hits += t.ooo_limit_hits;
        tcp.buffer_limit_hits += t.buffer_limit_hits;
        tcp.duplicate_packets += t.duplicate_packets;
        let m = &e.summary.memory;
        s.memory.connections_shed += m.connections_shed;
        s.memory.buffers_shed += m.buffers_shed;
        s.memory.bytes_shed += m.bytes_shed;
        s.memory.budget_full_at = match (s.memory.budget_full_at, m.budget_full_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if copies.len() < e.copies_by_file.len() {
            copies.resize(e.copies_by_file.len(), 0);
        }
        for (c, n) in copies.iter_mut().zip(&e.copies_by_file) {
            *c += n;
        }
        if let Some(h) = &e.summary.http {
            let a = s.http.get_or_insert_with(Default::default);
            a.connections += h.connections;
            a.transactions += h.transactions;
            a.requests += h.requests;
            a.responses += h.responses;
            a.interim_responses += h.interim_responses;
            a.upgrades += h.upgrades;
            a.tunnels += h.tunnels;
            a.resync_skipped_bytes += h.resync_skipped_bytes;
            a.pipeline_limit_hits += h.pipeline_limit_hits;
            a.decode_capped += h.decode_capped;
        }
        if let Some(t) = &e.summary.tls {
            match &mut s.tls {
                None => s.tls = Some(t.clone()),
                Some(a) => {
                    // Every worker read the same key sources; the streams are each one's.
                    a.connections += t.connections;
                    a.decrypted += t.decrypted;
                    a.records_decrypted += t.records_decrypted;
                    a.bytes_decrypted += t.bytes_decrypted;
                    for (k, v) in &t.not_decrypted {
                        *a.not_decrypted.entry(k.clone()).or_insert(0) += v;
                    }
                }
            }
        }
    }
    tcp.max_live_flows = merge.peak.flows;
    tcp.peak_buffered_bytes = merge.peak.buffered;
    tcp.peak_retained_bytes = merge.peak.retained;
    s.tcp = tcp;
    s.memory.peak = merge.peak.memory;
    s.memory.connection_budget = memory as u64;
    copies
}

#[cfg(test)]
mod tests {
    use super::IdMap;

    /// A worker's ids mapped to the run's as they were given, interleaved with another's,
    /// forgotten below the oldest still needed, and measured from a new front when the run's
    /// ids have moved more than 32 bits past the first.
    #[test]
    fn id_maps_follow_the_given_ids_and_rebase_past_32_bits() {
        let mut m = IdMap::default();
        let mut next = 10;
        m.grow(2, &mut next); // local 0, 1 -> 10, 11
        next += 3; // another worker's 12..15
        m.grow(3, &mut next); // local 2 -> 15
        assert_eq!((m.map(0), m.map(1), m.map(2)), (10, 11, 15));
        // Not given yet: after the latest, as one thread would give it.
        assert_eq!(m.map(4), 17);
        m.prune(2);
        assert_eq!(m.map(2), 15);
        assert_eq!(m.to.len(), 1);
        // The run's ids jump past 32 bits from the first mapped one: rebased on the front.
        next = 10 + (1u64 << 32) + 1;
        m.grow(4, &mut next);
        assert_eq!(m.map(2), 15);
        assert_eq!(m.map(3), 10 + (1u64 << 32) + 1);
        assert_eq!(m.origin, 15);
    }
}
