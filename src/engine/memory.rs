//! The memory budget of connection state, and what the engine sheds when it is full.
//!
//! Every live connection is counted: its slot in the flow table, its reassembly buffers (the
//! shared [`Budget`](crate::reassembly::Budget): out-of-order and held bytes, the retained
//! overlap window) and what its analyzers hold ([`Analyzer::footprint`], taken after every
//! delivery), and the records of closed connections lingering for trailing packets. The count
//! is an estimate from capacities that errs high, and it is the same on every run of the same
//! capture, so what is shed (and so the report) is deterministic.
//!
//! When the count passes `EngineConfig::memory`, the engine sheds down to seven eighths of
//! it, in this order:
//!
//! 1. connections idle for at least [`IDLE_NS`] of packet time, longest idle first: closed
//!    early and reported with `close: "evicted"` (`memory.connection-shed`);
//! 2. the largest buffers of the least active half of the connections: each is asked to give
//!    up what it can ([`Analyzer::shed`]: body decoders, WebSocket inflaters) and its
//!    out-of-order bytes are given up as gaps (`memory.buffer-shed`, naming what went);
//! 3. the least recently active connections, whatever their state: closed early
//!    (`memory.connection-shed`).
//!
//! The first time the budget is full, `memory.budget-full` says so; `capture.memory` counts
//! every connection and buffer shed and the bytes freed.

use super::{Analyzer, Ctx, Lingering, Tcp};
use crate::base::Timestamp;
use crate::flow::{Conn, FlowKey};
use crate::model::codes;
use crate::model::{CloseKind, Dir, Finding, MemoryStats, Record, RecordSink};
use crate::reassembly::GapCause;

/// A connection with no packet for this long (packet time) is idle: the first to go.
pub(super) const IDLE_NS: i64 = 10 * 1_000_000_000;
/// Shedding findings reported one by one before they are only counted.
const MAX_FINDINGS: u64 = 100;

/// The budget's count and what shedding did.
#[derive(Debug, Default)]
pub(super) struct Memory {
    /// What the analyzers of live connections hold (the sum of `Conn::mem`).
    pub analyzers: usize,
    pub stats: MemoryStats,
    findings: u64,
}

/// What one live connection costs besides its buffers and analyzer state: its flow-table slot
/// and index entry.
fn conn_bytes<S>() -> usize {
    size_of::<Option<(FlowKey, Conn<S>)>>() + size_of::<(FlowKey, u32)>() + 16
}

/// What a closed connection's lingering record costs besides its packed bytes (counted as
/// they are: `Tcp::lingering_bytes`): its box and its index entry.
const LINGER_BYTES: usize = size_of::<Lingering>() + size_of::<(FlowKey, usize)>() + 16;

impl<A: Analyzer> Tcp<A> {
    /// The budget's count of everything connections hold now (`held`: what the decoder holds
    /// for IP fragments).
    #[inline]
    pub(super) fn memory_used(&self, held: usize) -> usize {
        self.mem.analyzers
            + self.budget.used
            + self.budget.retained
            + self.flows.len() * conn_bytes::<A::State>()
            + self.lingering.len() * LINGER_BYTES
            + self.lingering_bytes
            + self.seen_bytes()
            + held
    }

    /// Several capture points: what each connection's `Seen` holds (its samples and two
    /// copies; more points are rare), live or lingering.
    fn seen_bytes(&self) -> usize {
        if self.points.is_empty() {
            return 0;
        }
        let each = size_of::<crate::flow::seen::Seen>() + 2 * size_of::<crate::flow::seen::Copy>();
        (self.flows.len() + self.lingering.len()) * each
    }

    /// After a delivery: counts again what the connection's analyzers hold.
    #[inline]
    pub(super) fn recount(analyzer: &A, mem: &mut Memory, conn: &mut Conn<A::State>) {
        let f = analyzer.footprint(&conn.app);
        mem.analyzers = mem.analyzers.saturating_sub(conn.mem) + f;
        conn.mem = f;
    }

    /// A connection leaves the table: its share goes with it.
    pub(super) fn uncount(&mut self, conn: &Conn<A::State>) {
        self.mem.analyzers = self.mem.analyzers.saturating_sub(conn.mem);
    }

    /// After every packet: records the peak, and sheds when the budget is exceeded.
    #[inline]
    pub(super) fn check_memory(
        &mut self,
        held: usize,
        now: Timestamp,
        n: u64,
        out: &mut dyn RecordSink,
    ) {
        let used = self.memory_used(held);
        let stats = &mut self.mem.stats;
        stats.peak = stats.peak.max(used as u64);
        if used > self.cfg.memory {
            self.shed(held, now, n, out);
        }
    }

    /// Sheds down to seven eighths of the budget, by the policy of the module doc.
    #[cold]
    #[inline(never)]
    fn shed(&mut self, held: usize, now: Timestamp, n: u64, out: &mut dyn RecordSink) {
        let target = self.cfg.memory - self.cfg.memory / 8;
        if self.mem.stats.budget_full_at.is_none() {
            self.mem.stats.budget_full_at = Some(n);
            out.record(Record::Finding(Box::new(
                Finding::new(
                    &codes::MEMORY_BUDGET_FULL,
                    format!(
                        "connection state reached the memory budget ({} MiB, --memory) at \
                         packet {n}; from here hopscope sheds idle connections, then the \
                         largest buffers of the least active ones, then the least active \
                         connections (capture.memory counts what was shed)",
                        self.cfg.memory >> 20
                    ),
                )
                .at(n, now),
            )));
        }
        let mut by_age: Vec<(Timestamp, u64, FlowKey)> = self
            .flows
            .iter()
            .map(|(k, c)| (c.last_ts, c.id, *k))
            .collect();
        by_age.sort_unstable_by_key(|&(t, id, _)| (t, id));
        // 1. Idle connections, longest idle first.
        for &(last, _, key) in &by_age {
            if self.memory_used(held) <= target || now.saturating_sub(last) < IDLE_NS {
                break;
            }
            self.shed_connection(key, now, n, out);
        }
        if self.memory_used(held) <= target {
            return;
        }
        // 2. Buffers: the largest of the least active half first, then the rest of the
        // connections, least active first.
        let half = by_age.len().div_ceil(2);
        let mut big: Vec<(usize, u64, FlowKey)> = by_age[..half]
            .iter()
            .filter_map(|&(_, id, k)| {
                let c = self.flows.get(&k)?;
                let buffered = c.streams.iter().map(|s| s.buffered_bytes()).sum::<usize>();
                Some((c.mem + buffered, id, k))
            })
            .collect();
        big.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let rest = by_age[half..].iter().map(|&(_, _, k)| k);
        for key in big.iter().map(|&(_, _, k)| k).chain(rest) {
            if self.memory_used(held) <= target {
                return;
            }
            self.shed_buffers(key, now, n, out);
        }
        // 3. The least recently active connections.
        for &(_, _, key) in &by_age {
            if self.memory_used(held) <= target {
                return;
            }
            self.shed_connection(key, now, n, out);
        }
        // Only lingering records and fragments are left: report the lingering ones now.
        if self.memory_used(held) > target {
            self.report_lingering(|_| true, out);
        }
    }

    /// Closes a connection early and reports it as evicted.
    fn shed_connection(&mut self, key: FlowKey, now: Timestamp, n: u64, out: &mut dyn RecordSink) {
        let Some(conn) = self.flows.remove(&key) else {
            return;
        };
        let before = conn.mem;
        let (id, idle) = (conn.id, now.saturating_sub(conn.last_ts));
        self.stats.flows_evicted += 1;
        self.finalize(
            conn,
            CloseKind::Evicted,
            GapCause::MemoryBudget,
            now,
            n,
            out,
        );
        let stats = &mut self.mem.stats;
        stats.connections_shed += 1;
        stats.bytes_shed += before as u64;
        if self.mem.findings < MAX_FINDINGS {
            self.mem.findings += 1;
            out.record(Record::Finding(Box::new(
                Finding::new(
                    &codes::MEMORY_CONNECTION_SHED,
                    format!(
                        "closed early to stay within the memory budget (--memory), after \
                         {:.1} s without a packet; it is reported as evicted and what its \
                         analyzers held ({before} bytes) was given up",
                        idle as f64 / 1e9
                    ),
                )
                .conn(id)
                .at(n, now),
            )));
        }
    }

    /// Asks a connection's analyzers and reassembly to give up what they can.
    fn shed_buffers(&mut self, key: FlowKey, now: Timestamp, n: u64, out: &mut dyn RecordSink) {
        let Some(conn) = self.flows.get_mut(&key) else {
            return;
        };
        let ctx = Ctx {
            conn: conn.id,
            dir: Dir::ClientToServer,
            client: conn.client,
            server: conn.server,
            ts: now,
            packet: n,
            midstream: conn.streams[0].isn.is_none(),
        };
        let budget_before = self.budget.used + self.budget.retained;
        let mut limits = self.cfg.limits.clone();
        limits.max_ooo_bytes = 0;
        self.budget.share = FlowKey::new(conn.client, conn.server).share();
        for d in [Dir::ClientToServer, Dir::ServerToClient] {
            let i = d.index();
            let here = Ctx {
                dir: d,
                midstream: conn.streams[i].isn.is_none(),
                ..ctx
            };
            let mut sink = super::Sink {
                analyzer: &mut self.analyzer,
                state: &mut conn.app,
                at: super::Here::of(&here),
                out,
                gap_findings: &mut conn.gap_findings[i],
                max_gap_findings: self.cfg.max_gap_findings,
                ooo_hits: &mut self.stats.ooo_limit_hits,
            };
            conn.streams[i].shed(&limits, &mut self.budget, &mut sink);
        }
        let reassembly = budget_before.saturating_sub(self.budget.used + self.budget.retained);
        let before = conn.mem;
        let mut what = self.analyzer.shed(&mut conn.app);
        Self::recount(&self.analyzer, &mut self.mem, conn);
        let freed = reassembly + before.saturating_sub(conn.mem);
        if freed == 0 {
            return;
        }
        if reassembly > 0 {
            what.push(format!(
                "{reassembly} bytes of reassembly (segments waiting for missing ones: the \
                 holes before them became gaps; bytes kept to compare retransmissions: later \
                 ones are counted as unverified)"
            ));
        }
        let stats = &mut self.mem.stats;
        stats.buffers_shed += 1;
        stats.bytes_shed += freed as u64;
        if self.mem.findings < MAX_FINDINGS {
            self.mem.findings += 1;
            out.record(Record::Finding(Box::new(
                Finding::new(
                    &codes::MEMORY_BUFFER_SHED,
                    format!(
                        "to stay within the memory budget (--memory), this connection gave \
                         up {freed} bytes: {}",
                        what.join("; ")
                    ),
                )
                .conn(ctx.conn)
                .at(n, now),
            )));
        }
    }
}
