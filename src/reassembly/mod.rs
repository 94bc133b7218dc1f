//! One direction of a TCP connection turned into an ordered byte stream.
//!
//! Policy, in one place:
//! - **Order.** Segments ahead of a hole are buffered and delivered once the hole is filled.
//! - **Duplicates and overlap.** First copy wins. Delivered bytes that the peer has not yet
//!   acknowledged (the ones a sender may legitimately retransmit) are retained, bounded per
//!   direction and across flows, and retransmissions are compared with them; buffered bytes are
//!   compared with the buffer. A difference is reported as [`Event::OverlapConflict`]. Bytes
//!   that could not be compared are counted (`overlap_unverified_bytes`).
//! - **Loss.** A hole becomes an explicit [`Chunk::Gap`] of known length, with its
//!   [`GapCause`], when the peer's ACK proves the missing bytes were received (so they will
//!   never be retransmitted), when the connection closes, when the snaplen cut a segment, or
//!   when a bound is hit (hopscope gave up waiting: the cause names the bound).
//! - **Late data.** Bytes that arrive for a hole already given up are counted as late
//!   (`late_bytes`, [`Event::LateData`]), not as retransmissions: the last few given-up holes
//!   are remembered ([`given_up`]).
//! - **Implausible sequence numbers.** A segment (or an acknowledgment) further than the
//!   largest TCP window, [`Limits::max_seq_jump`] (2^30 bytes, RFC 7323 §2.3), from where the
//!   stream is (the bytes delivered, or acknowledged by the peer) cannot belong to this stream:
//!   no sender may have that many bytes in flight. It is not taken as data (nor as an
//!   acknowledgment), it is counted (`sequence_jumps`) and reported ([`Event::SequenceJump`]).
//!   So every packet moves the stream's end by at most one window, and `missing_bytes` stays
//!   within what the packets seen could prove. The stream is not resynchronised at the far
//!   place: one injected or corrupted segment must not take over a stream, and a capture that
//!   lost more than 1 GiB of one connection in both directions is rarer than either.
//! - **Mid-stream starts.** Without a SYN the first sequence number is a guess. The first
//!   segments are held (bounded) so that reordered early segments can still move the start
//!   backwards; the lowest one wins.
//! - **Bounds.** Buffered out-of-order bytes and segments per direction, and a budget shared
//!   by all flows. Hitting one flushes the buffer as a gap plus data, never a crash.
//!
//! Sequence numbers are unwrapped against the next expected one, so wraparound and streams
//! longer than 4 GiB work. Offsets are stream byte offsets, 0 at the first byte after the SYN
//! (or at the first byte seen mid-stream).

use std::collections::VecDeque;

pub mod given_up;

use crate::base::Timestamp;
use crate::model::DirStats;
use given_up::GivenUp;

/// Capacity an emptied retention buffer may keep (one or two segments' worth), so that
/// memory follows what is unacknowledged now, not the largest burst a flow ever had.
const RETAIN_KEEP_CAPACITY: usize = 4096;

/// The largest TCP receive window: 65,535 scaled by 2^14 (RFC 7323 §2.3), rounded up.
pub const MAX_WINDOW: u64 = 1 << 30;

/// Bounds for one direction.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Out-of-order bytes buffered per direction before giving up on the hole.
    pub max_ooo_bytes: usize,
    /// Out-of-order segments buffered per direction.
    pub max_ooo_segments: usize,
    /// Delivered, not yet acknowledged bytes kept per direction to compare retransmissions
    /// against (first-copy-wins check).
    pub overlap_window: usize,
    /// Mid-stream start: how long (packet time, ns) and how much to hold before choosing.
    pub midstream_hold_ns: i64,
    pub midstream_hold_segments: usize,
    pub midstream_hold_bytes: usize,
    /// How far from where the stream is (delivered or acknowledged bytes) a segment may
    /// start or end and still belong to it: the largest window TCP allows, 2^30 bytes (RFC
    /// 7323 §2.3: a 16-bit window scaled by at most 2^14). Smaller in tests.
    pub max_seq_jump: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_ooo_bytes: 1 << 20,
            max_ooo_segments: 2048,
            overlap_window: 64 * 1024,
            midstream_hold_ns: 500_000_000,
            midstream_hold_segments: 32,
            midstream_hold_bytes: 256 * 1024,
            max_seq_jump: MAX_WINDOW,
        }
    }
}

/// Buffered bytes shared by every flow: out-of-order and held bytes (`used`, bounded by
/// `cap`), and, separately, the allocations holding delivered bytes retained for overlap checks
/// (`retained`, bounded by `retained_cap`, a quarter of `cap`), so that retention never
/// starves reassembly.
///
/// The engine splits the retention bound into [`RETAIN_SHARES`] equal shares, a connection
/// drawing from the share its addresses hash to (`FlowKey::share`, set in `share` before the
/// engine hands the connection's streams the budget): whether a connection
/// may retain then depends only on the connections of its share, so a run split over threads
/// by that hash decides exactly as one thread does.
#[derive(Clone, Debug)]
pub struct Budget {
    pub used: usize,
    pub cap: usize,
    pub peak: usize,
    pub hits: u64,
    pub retained: usize,
    pub retained_cap: usize,
    pub retained_peak: usize,
    /// Retained bytes per share (empty: one bound for all, `retained_cap`).
    pub retained_shares: Vec<usize>,
    /// The share of the connection being handled.
    pub share: u8,
}

/// Shares of the retention bound (see [`Budget`]).
pub const RETAIN_SHARES: usize = 64;

impl Budget {
    pub fn new(cap: usize) -> Self {
        Budget {
            used: 0,
            cap,
            peak: 0,
            hits: 0,
            retained: 0,
            retained_cap: cap / 4,
            retained_peak: 0,
            retained_shares: Vec::new(),
            share: 0,
        }
    }

    /// Splits the retention bound into [`RETAIN_SHARES`] shares.
    pub fn share_retention(&mut self) {
        self.retained_shares = vec![0; RETAIN_SHARES];
    }
    fn take(&mut self, n: usize) {
        self.used += n;
        self.peak = self.peak.max(self.used);
    }
    fn give(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}

/// What the stream hands to analyzers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// `n` bytes are missing here, for this reason.
    Gap(u64, GapCause),
}

/// Why a hole was given up as a gap: the bytes were never captured, or hopscope stopped
/// waiting for them because one of its bounds was hit (and they may still arrive, as late
/// data). A new cause is a new variant; [`GapCause::by_limit`] and the engine's finding text
/// are the places that must name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapCause {
    /// The receiver acknowledged bytes the capture never had: they crossed the network but
    /// not the capture point.
    Acked,
    /// The connection, or the capture, ended with the hole still open (the FIN, a later
    /// segment or an acknowledgment had shown that the bytes existed).
    Ended,
    /// The capture's snaplen cut the segment: its bytes were on the wire, not in the file.
    Snaplen,
    /// The direction's out-of-order bound was hit (`--max-ooo-bytes`, or 2,048 segments).
    OooLimit,
    /// The reassembly buffers of all connections were full (`--max-buffered-bytes`).
    BufferLimit,
    /// The flow table was full and the connection was evicted (`--max-flows`).
    FlowLimit,
    /// The memory budget was short and shed this direction's buffered bytes (`--memory`).
    MemoryBudget,
}

impl GapCause {
    /// hopscope's own bound gave the bytes up; they were not necessarily lost.
    pub fn by_limit(self) -> bool {
        match self {
            GapCause::Acked | GapCause::Ended | GapCause::Snaplen => false,
            GapCause::OooLimit
            | GapCause::BufferLimit
            | GapCause::FlowLimit
            | GapCause::MemoryBudget => true,
        }
    }
}

/// Noteworthy things the reassembler saw, for findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Overlapping bytes differed from the first copy; `offset` is the first differing byte,
    /// `len` the number of overlapping bytes compared.
    OverlapConflict { offset: u64, len: u64 },
    /// The per-direction out-of-order bound was hit; a hole was given up as a gap.
    OooLimit { offset: u64, gap: u64 },
    /// The shared buffer budget was hit; a hole was given up as a gap.
    BudgetLimit { offset: u64, gap: u64 },
    /// Data arrived for bytes already given up as a gap: `len` such bytes, the first at
    /// `offset`, whose hole was given up for `cause`. `nth` counts these events in this
    /// direction (1 for the first), so the findings can be bounded.
    LateData {
        offset: u64,
        len: u64,
        cause: GapCause,
        nth: u32,
    },
    /// A segment (`ack` false) or an acknowledgment (`ack` true) lay further than
    /// [`Limits::max_seq_jump`] from `at`, where the stream was: `distance` bytes ahead
    /// (positive: its end, or the acknowledged offset) or behind (negative: a segment's end).
    /// It was ignored. `nth` counts these in this direction (`sequence_jumps`).
    SequenceJump {
        at: u64,
        distance: i64,
        len: u64,
        ack: bool,
        nth: u64,
    },
    /// The memory budget was short: a hole was given up as a gap so the bytes buffered after
    /// it could be delivered and freed.
    MemoryShed { offset: u64, gap: u64 },
}

/// Receives the stream, in order.
pub trait Deliver {
    /// `offset` is the stream offset of the chunk's first byte.
    fn chunk(&mut self, offset: u64, chunk: Chunk<'_>);
    fn event(&mut self, event: Event);
}

#[derive(Debug)]
struct Seg {
    off: u64,
    /// `None`: bytes known to exist but not captured (snaplen).
    data: Option<Vec<u8>>,
    len: u64,
}

impl Seg {
    fn end(&self) -> u64 {
        self.off + self.len
    }
    fn heap(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.len())
    }
}

#[derive(Debug)]
struct Held {
    seq: u32,
    data: Vec<u8>,
    missing_tail: u32,
    fin: bool,
}

/// One direction of a connection.
#[derive(Debug, Default)]
pub struct HalfStream {
    /// The base sequence number is known (SYN, SYN-ACK's ACK, or a mid-stream choice).
    started: bool,
    /// Initial sequence number when the SYN was seen (or derived from the SYN-ACK).
    pub isn: Option<u32>,
    /// True when the stream start was guessed (no SYN).
    pub midstream: bool,
    next_seq: u32,
    /// Stream offset of `next_seq`: bytes delivered, gaps included.
    delivered: u64,
    fin_offset: Option<u64>,
    /// All bytes up to the FIN were delivered.
    pub finished: bool,
    pending: VecDeque<Seg>,
    pending_bytes: usize,
    held: Vec<Held>,
    held_bytes: usize,
    held_since: Option<Timestamp>,
    /// Highest stream offset the peer acknowledged.
    peer_ack: Option<u64>,
    /// Delivered bytes not yet acknowledged by the peer, from stream offset `tail_from` up to
    /// `delivered` (bounded by `Limits::overlap_window` and `Budget::retained_cap`).
    tail: VecDeque<u8>,
    tail_from: u64,
    window_released: bool,
    /// The last holes given up, for late data; allocated at the first gap.
    given_up: Option<Box<GivenUp>>,
    pub stats: DirStats,
}

impl HalfStream {
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// Stream bytes delivered so far (gaps included).
    pub fn offset(&self) -> u64 {
        self.delivered
    }

    /// Frees the retained bytes once the connection has closed (or is reported): later
    /// retransmissions are then counted as unverified instead of compared.
    pub fn release_window(&mut self, budget: &mut Budget) {
        self.free_retained(budget);
        self.tail_from = self.delivered;
        self.window_released = true;
    }

    /// Drops retained bytes below stream offset `lo`.
    fn trim_retained(&mut self, lo: u64, budget: &mut Budget) {
        if lo <= self.tail_from {
            return;
        }
        let n = ((lo - self.tail_from) as usize).min(self.tail.len());
        self.tail.drain(..n);
        self.tail_from = lo;
        if self.tail.is_empty() && self.tail.capacity() > RETAIN_KEEP_CAPACITY {
            // Everything was acknowledged: give back a burst's worth of capacity.
            self.free_retained(budget);
        }
    }

    /// Everything up to the FIN was delivered and nothing is buffered or held: no later
    /// segment can change what analyzers saw.
    pub fn settled(&self) -> bool {
        self.finished && self.pending.is_empty() && self.held.is_empty()
    }

    pub fn buffered_bytes(&self) -> usize {
        self.pending_bytes + self.held_bytes
    }

    /// A SYN from this side. Returns false when it carries a different ISN from the one
    /// already known (port reuse is the caller's decision).
    pub fn syn(&mut self, seq: u32) -> bool {
        match self.isn {
            Some(isn) => isn == seq,
            None if !self.started => {
                self.isn = Some(seq);
                self.next_seq = seq.wrapping_add(1);
                self.started = true;
                true
            }
            // Started mid-stream (data seen before this SYN): keep the data base.
            None => {
                self.isn = Some(seq);
                true
            }
        }
    }

    /// The peer's SYN-ACK acknowledged `ack`: this side's ISN is `ack - 1`.
    pub fn base_from_synack(&mut self, ack: u32) {
        if !self.started {
            self.isn = Some(ack.wrapping_sub(1));
            self.next_seq = ack;
            self.started = true;
        }
    }

    /// Unwraps `seq` to a signed stream offset (negative: before the stream start).
    fn rel(&self, seq: u32) -> i64 {
        self.delivered as i64 + i64::from(seq.wrapping_sub(self.next_seq) as i32)
    }

    /// A segment from this side. `fin` marks the FIN flag.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        ts: Timestamp,
        seq: u32,
        payload: &[u8],
        missing_tail: u32,
        fin: bool,
        limits: &Limits,
        budget: &mut Budget,
        out: &mut dyn Deliver,
    ) {
        let len = payload.len() as u64 + u64::from(missing_tail);
        self.stats.wire_bytes += len;
        if self.started && !self.held.is_empty() {
            self.release_hold(limits, budget, out);
        }
        if !self.started {
            if len == 0 && !fin {
                return;
            }
            self.hold(ts, seq, payload, missing_tail, fin, limits, budget, out);
            return;
        }
        self.accept(seq, payload, missing_tail, fin, limits, budget, out);
    }

    /// Inlined into `segment`, as it was before the sequence-jump check made it bigger: a
    /// call here costs ~35 instructions a segment (callgrind, 10 % prefix).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn accept(
        &mut self,
        seq: u32,
        payload: &[u8],
        missing_tail: u32,
        fin: bool,
        limits: &Limits,
        budget: &mut Budget,
        out: &mut dyn Deliver,
    ) {
        let off = self.rel(seq);
        let plen = payload.len() as u64;
        let len = plen + u64::from(missing_tail);
        if (len > 0 || fin)
            && let Some(distance) = self.jump(off + len as i64, limits)
        {
            self.jumped(distance, len, false, out);
            return;
        }
        if plen > 0 {
            self.insert(off, Some(payload), plen, limits, budget, out);
        }
        if missing_tail > 0 {
            self.insert(
                off + plen as i64,
                None,
                u64::from(missing_tail),
                limits,
                budget,
                out,
            );
        }
        if fin {
            let end = off + plen as i64 + i64::from(missing_tail);
            if end >= 0 && self.fin_offset.is_none() {
                self.fin_offset = Some(end as u64);
            }
        }
        self.check_finished();
    }

    /// Where the stream is: the bytes delivered, or acknowledged by the peer when that is
    /// further (the sender cannot be more than a window beyond either).
    fn position(&self) -> u64 {
        self.peer_ack
            .map_or(self.delivered, |a| a.max(self.delivered))
    }

    /// `Some(distance)` when stream offset `to` (a segment's end, or an acknowledged offset)
    /// is further than any window from [`Self::position`]: ahead (positive) or behind.
    fn jump(&self, to: i64, limits: &Limits) -> Option<i64> {
        let distance = to.saturating_sub(self.position() as i64);
        (distance.unsigned_abs() > limits.max_seq_jump).then_some(distance)
    }

    /// A segment or acknowledgment [`Self::jump`] found implausible: counted and reported.
    #[cold]
    #[inline(never)]
    fn jumped(&mut self, distance: i64, len: u64, ack: bool, out: &mut dyn Deliver) {
        self.stats.sequence_jumps += 1;
        out.event(Event::SequenceJump {
            at: self.position(),
            distance,
            len,
            ack,
            nth: self.stats.sequence_jumps,
        });
    }

    fn check_finished(&mut self) {
        if let Some(f) = self.fin_offset
            && self.delivered >= f
            && !self.finished
        {
            self.finished = true;
        }
    }

    /// Mid-stream: hold segments until the start can be chosen.
    #[allow(clippy::too_many_arguments)]
    fn hold(
        &mut self,
        ts: Timestamp,
        seq: u32,
        payload: &[u8],
        missing_tail: u32,
        fin: bool,
        limits: &Limits,
        budget: &mut Budget,
        out: &mut dyn Deliver,
    ) {
        self.held_since.get_or_insert(ts);
        self.held_bytes += payload.len();
        budget.take(payload.len());
        self.held.push(Held {
            seq,
            data: payload.to_vec(),
            missing_tail,
            fin,
        });
        let waited = self.held_since.map_or(0, |t| ts.saturating_sub(t));
        if self.held.len() >= limits.midstream_hold_segments
            || self.held_bytes >= limits.midstream_hold_bytes
            || waited >= limits.midstream_hold_ns
            || budget.used > budget.cap
        {
            self.release_hold(limits, budget, out);
        }
    }

    /// Chooses the lowest held sequence number as the stream start and replays the held
    /// segments through the normal path.
    /// If a SYN arrived meanwhile, its base is kept and the held segments are replayed.
    pub fn release_hold(&mut self, limits: &Limits, budget: &mut Budget, out: &mut dyn Deliver) {
        if self.held.is_empty() {
            return;
        }
        if !self.started {
            // The lowest held segment within a window of the first one: a segment further
            // away than any window cannot be this stream's start (it would make every real
            // segment a sequence jump).
            let first = self.held[0].seq;
            let lowest = self
                .held
                .iter()
                .map(|h| h.seq)
                .filter(|s| {
                    u64::from((s.wrapping_sub(first) as i32).unsigned_abs()) <= limits.max_seq_jump
                })
                .min_by_key(|s| s.wrapping_sub(first) as i32)
                .unwrap_or(first);
            self.started = true;
            self.midstream = true;
            self.next_seq = lowest;
            self.delivered = 0;
        }
        let mut held = std::mem::take(&mut self.held);
        budget.give(self.held_bytes);
        self.held_bytes = 0;
        self.held_since = None;
        let base = self.next_seq;
        held.sort_by_key(|h| h.seq.wrapping_sub(base) as i32);
        for h in held {
            self.accept(h.seq, &h.data, h.missing_tail, h.fin, limits, budget, out);
        }
        self.apply_peer_ack(limits, budget, out);
    }

    /// The peer acknowledged up to `ack` (absolute sequence number of this side).
    pub fn peer_ack(
        &mut self,
        ack: u32,
        limits: &Limits,
        budget: &mut Budget,
        out: &mut dyn Deliver,
    ) {
        if self.started && !self.held.is_empty() {
            self.release_hold(limits, budget, out);
        }
        if !self.started {
            if self.held.is_empty() {
                return;
            }
            // The peer has everything below `ack`: if that covers our lowest held segment,
            // nothing earlier can still arrive, so the start is known.
            let first = self.held[0].seq;
            let covers = self.held.iter().any(|h| {
                (ack.wrapping_sub(h.seq) as i32) > 0 && (h.seq.wrapping_sub(first) as i32) <= 0
            });
            if covers {
                self.release_hold(limits, budget, out);
            }
            return;
        }
        let a = self.rel(ack);
        if a <= 0 {
            return;
        }
        if self.peer_ack.is_none_or(|p| a as u64 > p) {
            if let Some(distance) = self.jump(a, limits) {
                // An acknowledgment of bytes no sender could have had in flight: it proves
                // nothing missing.
                self.jumped(distance, 0, true, out);
                return;
            }
            let a = a as u64;
            self.peer_ack = Some(a);
            self.trim_retained(a, budget);
            self.apply_peer_ack(limits, budget, out);
        }
    }

    /// Bytes the peer acknowledged but we never saw are lost for good: give them up as a gap,
    /// but only up to buffered data (a bare ACK past our data could be a lost FIN).
    fn apply_peer_ack(&mut self, limits: &Limits, budget: &mut Budget, out: &mut dyn Deliver) {
        let Some(ack) = self.peer_ack else { return };
        while let Some(first) = self.pending.front() {
            if ack <= self.delivered || first.off <= self.delivered {
                break;
            }
            let gap_end = first.off.min(ack);
            self.gap_to(gap_end, GapCause::Acked, budget, out);
            self.drain(limits, budget, out);
        }
    }

    /// The memory budget is short: the mid-stream hold is released, every hole before
    /// buffered segments is given up as a gap (so the buffered bytes are delivered and
    /// freed), and the bytes retained for overlap checks are let go (later retransmissions of
    /// this direction are counted as unverified). Missing bytes that nothing was buffered
    /// behind stay awaited.
    pub fn shed(&mut self, limits: &Limits, budget: &mut Budget, out: &mut dyn Deliver) {
        self.release_window(budget);
        self.release_hold(limits, budget, out);
        while let Some(first) = self.pending.front() {
            let (off, at) = (first.off, self.delivered);
            if off > at {
                self.gap_to(off, GapCause::MemoryBudget, budget, out);
                out.event(Event::MemoryShed {
                    offset: at,
                    gap: off - at,
                });
            }
            self.drain(limits, budget, out);
        }
    }

    /// Gives up everything still missing: holes become gaps, buffered data is delivered.
    /// Called on RST, timeout, eviction and at the end of the capture; `cause` is why the
    /// connection ends here ([`GapCause::Ended`], or the bound that evicted it). Bytes the peer
    /// acknowledged are [`GapCause::Acked`] whatever the end.
    pub fn flush(
        &mut self,
        limits: &Limits,
        budget: &mut Budget,
        out: &mut dyn Deliver,
        cause: GapCause,
    ) {
        self.release_hold(limits, budget, out);
        while let Some(first) = self.pending.front() {
            let off = first.off;
            if off > self.delivered {
                self.gap_to(off, cause, budget, out);
            }
            self.drain(limits, budget, out);
        }
        // Bytes the peer acknowledged beyond what we saw: lost at the end. One byte could be
        // an unseen FIN, so only more than that counts.
        if let Some(ack) = self.peer_ack {
            let end = self
                .fin_offset
                .map_or(ack.saturating_sub(1), |f| f.min(ack));
            if end > self.delivered {
                self.gap_to(end, GapCause::Acked, budget, out);
            }
        }
        if let Some(f) = self.fin_offset
            && f > self.delivered
        {
            self.gap_to(f, cause, budget, out);
        }
        self.check_finished();
    }

    fn gap_to(&mut self, end: u64, cause: GapCause, budget: &mut Budget, out: &mut dyn Deliver) {
        if end <= self.delivered {
            return;
        }
        let start = self.delivered;
        let n = end - start;
        out.chunk(start, Chunk::Gap(n, cause));
        self.stats.gaps += 1;
        self.stats.missing_bytes += n;
        self.given_up
            .get_or_insert_with(Default::default)
            .add(start, end, cause);
        self.advance(n);
        // The retained bytes must be contiguous up to `delivered`.
        let end = self.delivered;
        self.trim_retained(end, budget);
    }

    fn advance(&mut self, n: u64) {
        self.delivered += n;
        self.next_seq = self.next_seq.wrapping_add(n as u32);
    }

    #[inline]
    fn deliver_data(
        &mut self,
        data: &[u8],
        limits: &Limits,
        budget: &mut Budget,
        out: &mut dyn Deliver,
    ) {
        if data.is_empty() {
            return;
        }
        out.chunk(self.delivered, Chunk::Data(data));
        self.stats.bytes += data.len() as u64;
        self.advance(data.len() as u64);
        self.remember(data, limits, budget);
    }

    /// Retains the tail of `data` (just delivered, ending at `delivered`) while the peer has
    /// not acknowledged it: at most `overlap_window` bytes, and nothing when every flow's
    /// retention together is at `Budget::retained_cap`.
    fn remember(&mut self, data: &[u8], limits: &Limits, budget: &mut Budget) {
        let w = limits.overlap_window as u64;
        if self.window_released || w == 0 {
            return;
        }
        let end = self.delivered;
        let lo = self.peer_ack.unwrap_or(0).max(end.saturating_sub(w));
        let keep = end.saturating_sub(lo).min(data.len() as u64) as usize;
        let add = &data[data.len() - keep..];
        let add_from = end - keep as u64;
        if self.tail_from + self.tail.len() as u64 != add_from {
            self.drop_retained(budget);
        }
        if self.tail.is_empty() {
            self.tail_from = add_from;
        }
        // The budget counts allocated capacity, so it bounds real memory.
        let cap0 = self.tail.capacity();
        self.tail.extend(add);
        let cap1 = self.tail.capacity();
        budget.retained += cap1 - cap0;
        let over = match budget.retained_shares.get_mut(usize::from(budget.share)) {
            Some(s) => {
                *s += cap1 - cap0;
                *s > budget.retained_cap / RETAIN_SHARES
            }
            None => budget.retained > budget.retained_cap,
        };
        if over {
            // Every flow's retention together is at its bound: keep nothing for this one.
            self.free_retained(budget);
            self.tail_from = end;
            return;
        }
        budget.retained_peak = budget.retained_peak.max(budget.retained);
        self.trim_retained(lo, budget);
    }

    /// Forgets the retained bytes, keeping the allocation.
    fn drop_retained(&mut self, _budget: &mut Budget) {
        self.tail.clear();
    }

    /// Forgets the retained bytes and frees their allocation.
    fn free_retained(&mut self, budget: &mut Budget) {
        budget.retained = budget.retained.saturating_sub(self.tail.capacity());
        if let Some(s) = budget.retained_shares.get_mut(usize::from(budget.share)) {
            *s = s.saturating_sub(self.tail.capacity());
        }
        self.tail = VecDeque::new();
    }

    /// Delivered bytes retained now for overlap checks.
    pub fn retained_len(&self) -> usize {
        self.tail.len()
    }

    /// Compares `data` (at stream offset `off`, already delivered) with the retained bytes.
    /// Returns (compared bytes, stream offset of the first differing byte).
    fn verify_delivered(&self, off: u64, data: &[u8]) -> (u64, Option<u64>) {
        let lo = off.max(self.tail_from);
        let hi = (off + data.len() as u64).min(self.tail_from + self.tail.len() as u64);
        if lo >= hi {
            return (0, None);
        }
        let differs = (lo..hi)
            .find(|&o| data[(o - off) as usize] != self.tail[(o - self.tail_from) as usize]);
        (hi - lo, differs)
    }

    fn insert(
        &mut self,
        off: i64,
        data: Option<&[u8]>,
        len: u64,
        limits: &Limits,
        budget: &mut Budget,
        out: &mut dyn Deliver,
    ) {
        // Bytes before the stream start cannot be placed.
        let (mut off, mut data, mut len) = (off, data, len);
        if off < 0 {
            let cut = (-off) as u64;
            if cut >= len {
                self.stats.retransmitted += 1;
                self.stats.overlapping += 1;
                return;
            }
            data = data.map(|d| &d[cut as usize..]);
            len -= cut;
            off = 0;
        }
        let off = off as u64;
        let end = off + len;
        if end <= self.delivered {
            let late = data.map_or(0, |d| self.old_bytes(off, d, out));
            // Late bytes were never seen: a segment with some is not a retransmission.
            if late == 0 {
                self.stats.retransmitted += 1;
            }
            if late < len {
                self.stats.overlapping += 1;
            }
            return;
        }
        let (off, data) = if off < self.delivered {
            let cut = (self.delivered - off) as usize;
            let late = data.map_or(0, |d| self.old_bytes(off, &d[..cut], out));
            if late < cut as u64 {
                self.stats.overlapping += 1;
            }
            (self.delivered, data.map(|d| &d[cut..]))
        } else {
            (off, data)
        };
        let len = end - off;
        if off == self.delivered && self.pending.front().is_none_or(|p| p.off >= end) {
            // Fast path: in order, nothing buffered in the way.
            match data {
                Some(d) => self.deliver_data(d, limits, budget, out),
                None => self.gap_to(end, GapCause::Snaplen, budget, out),
            }
            self.drain(limits, budget, out);
            return;
        }
        if off > self.delivered {
            self.stats.out_of_order += 1;
        }
        self.buffer(off, data, len, out, budget);
        self.drain(limits, budget, out);
        self.apply_peer_ack(limits, budget, out);
        self.enforce_limits(limits, budget, out);
    }

    /// Bytes `d` at `off`, all below `delivered`: the ones in given-up holes are late data
    /// (counted, reported, returned); the others were delivered and are compared with the
    /// retained bytes (which never reach back into a hole: a gap resets them).
    /// Out of line: retransmissions are the uncommon path, and the in-order path stays small.
    #[inline(never)]
    fn old_bytes(&mut self, off: u64, d: &[u8], out: &mut dyn Deliver) -> u64 {
        let end = off + d.len() as u64;
        let late = self.given_up.as_mut().and_then(|g| g.take(off, end));
        let n = late.map_or(0, |l| l.bytes);
        if let Some(l) = late {
            self.stats.late_bytes += l.bytes;
            out.event(Event::LateData {
                offset: l.first,
                len: l.bytes,
                cause: l.cause,
                nth: l.nth,
            });
        }
        let (compared, differs) = self.verify_delivered(off, d);
        self.stats.overlap_unverified_bytes += (d.len() as u64).saturating_sub(compared + n);
        if let Some(at) = differs {
            self.stats.overlap_conflicts += 1;
            out.event(Event::OverlapConflict {
                offset: at,
                len: compared,
            });
        }
        n
    }

    /// Inserts [off, off+len) into the pending list, keeping bytes already buffered (first
    /// copy wins) and reporting differences.
    fn buffer(
        &mut self,
        off: u64,
        data: Option<&[u8]>,
        len: u64,
        out: &mut dyn Deliver,
        budget: &mut Budget,
    ) {
        let end = off + len;
        // First pending segment that ends after `off`.
        let mut i = self.pending.partition_point(|s| s.end() <= off);
        let mut cur = off;
        let mut overlapped = false;
        while cur < end {
            match self.pending.get(i) {
                Some(s) if s.off <= cur => {
                    overlapped = true;
                    let o_end = s.end().min(end);
                    if let (Some(new), Some(old)) = (data, s.data.as_ref()) {
                        let a = &new[(cur - off) as usize..(o_end - off) as usize];
                        let b = &old[(cur - s.off) as usize..(o_end - s.off) as usize];
                        if let Some(i) = a.iter().zip(b).position(|(x, y)| x != y) {
                            self.stats.overlap_conflicts += 1;
                            out.event(Event::OverlapConflict {
                                offset: cur + i as u64,
                                len: o_end - cur,
                            });
                        }
                    }
                    cur = o_end;
                    i += 1;
                }
                next => {
                    let piece_end = next.map_or(end, |s| s.off.min(end));
                    let piece =
                        data.map(|d| d[(cur - off) as usize..(piece_end - off) as usize].to_vec());
                    let seg = Seg {
                        off: cur,
                        len: piece_end - cur,
                        data: piece,
                    };
                    let h = seg.heap();
                    self.pending_bytes += h;
                    budget.take(h);
                    self.pending.insert(i, seg);
                    i += 1;
                    cur = piece_end;
                }
            }
        }
        if overlapped {
            self.stats.overlapping += 1;
        }
    }

    /// Delivers buffered segments that have become contiguous.
    fn drain(&mut self, limits: &Limits, budget: &mut Budget, out: &mut dyn Deliver) {
        while let Some(first) = self.pending.front() {
            if first.off > self.delivered {
                break;
            }
            let Some(seg) = self.pending.pop_front() else {
                break;
            };
            let h = seg.heap();
            self.pending_bytes -= h;
            budget.give(h);
            if seg.end() <= self.delivered {
                // Cannot happen: holes are given up only up to the first buffered segment.
                continue;
            }
            let cut = self.delivered - seg.off;
            match seg.data {
                Some(d) => self.deliver_data(&d[cut as usize..], limits, budget, out),
                None => {
                    let end = seg.end();
                    self.gap_to(end, GapCause::Snaplen, budget, out)
                }
            }
        }
    }

    fn enforce_limits(&mut self, limits: &Limits, budget: &mut Budget, out: &mut dyn Deliver) {
        loop {
            let over_dir = self.pending_bytes > limits.max_ooo_bytes
                || self.pending.len() > limits.max_ooo_segments;
            let over_all = budget.used > budget.cap;
            if !(over_dir || over_all) {
                break;
            }
            let Some(first) = self.pending.front() else {
                break;
            };
            let off = first.off;
            let gap = off.saturating_sub(self.delivered);
            let at = self.delivered;
            let cause = if over_dir {
                GapCause::OooLimit
            } else {
                GapCause::BufferLimit
            };
            self.gap_to(off, cause, budget, out);
            self.drain(limits, budget, out);
            if over_dir {
                out.event(Event::OooLimit { offset: at, gap });
            } else {
                budget.hits += 1;
                out.event(Event::BudgetLimit { offset: at, gap });
            }
        }
    }
}

#[cfg(test)]
mod tests;
