//! Putting several live interfaces' packets in time order: [`HoldBack`], the bounded reorder
//! buffer between the capture threads (one per interface) and the analysis.
//!
//! Each capture thread hands its packets over as libpcap delivers them, in its own order, but
//! the threads race each other: a packet of `lo` can arrive after a later one of `eth0`. The
//! analysis wants one time order (a proxy's downstream request before its upstream one), so
//! each packet is held, in a FIFO per interface, until one of:
//!
//! - every other interface has delivered a packet at least as late, or has ended (nothing
//!   earlier can still come from it, as far as its own order goes);
//! - it has been held [`HOLD`] (a quiet interface delivers nothing; libpcap hands packets
//!   over within its 100 ms read timeout, so a packet still on its way after that is rare);
//! - the buffer holds `cap` packets or [`HOLD_BYTES`] of packet data (then the earliest is
//!   released whatever the others say, so the capture threads never wait for a quiet
//!   interface, and a busy one of large segments, loopback's 64 KiB, does not pile up 250 ms
//!   of them);
//! - the capture ended (everything left is released in order).
//!
//! What is released is always the earliest head of the per-interface FIFOs (ties by
//! interface index), so an interface's own packets keep their order even when its clock goes
//! backwards. The buffer is part of the `--queue` budget: capture threads count every packet
//! in it as queued (`crate::capture::live`), so the channel and the hold together never hold
//! more than `--queue` packets, and packets beyond that are dropped and counted.
//!
//! With one interface nothing is held: every packet is released as it arrives.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::base::{OwnedPacket, Timestamp};

/// Longest a packet waits for the other interfaces. Well below the second the live clock
/// (`crate::pipeline::CaptureClock`) stays behind wall time, so the idle sweep never passes
/// a held packet.
pub const HOLD: Duration = Duration::from_millis(250);

/// Most packet data held at once.
pub const HOLD_BYTES: usize = 32 << 20;

struct Lane {
    queue: VecDeque<(Instant, OwnedPacket)>,
    /// Latest timestamp delivered by this interface so far.
    watermark: Option<Timestamp>,
    /// The capture thread ended: nothing more comes.
    ended: bool,
}

/// The reorder buffer (see the module doc).
pub struct HoldBack {
    lanes: Vec<Lane>,
    held: usize,
    /// Bytes of packet data held.
    bytes: usize,
    cap: usize,
    max_bytes: usize,
    hold: Duration,
}

impl HoldBack {
    /// A buffer for `interfaces` interfaces, releasing early once it holds `cap` packets (at
    /// least 1) or `max_bytes` of packet data, and holding none longer than `hold`.
    pub fn new(interfaces: usize, cap: usize, max_bytes: usize, hold: Duration) -> Self {
        HoldBack {
            lanes: (0..interfaces.max(1))
                .map(|_| Lane {
                    queue: VecDeque::new(),
                    watermark: None,
                    ended: false,
                })
                .collect(),
            held: 0,
            bytes: 0,
            cap: cap.max(1),
            max_bytes,
            hold,
        }
    }

    /// Packets held now.
    pub fn len(&self) -> usize {
        self.held
    }

    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Takes a packet of interface `iface` (out of range: the last interface's lane, never a
    /// panic), arrived at `now`.
    pub fn push(&mut self, iface: usize, pkt: OwnedPacket, now: Instant) {
        let last = self.lanes.len().saturating_sub(1);
        let Some(lane) = self.lanes.get_mut(iface.min(last)) else {
            return;
        };
        lane.watermark = Some(lane.watermark.map_or(pkt.ts, |w| w.max(pkt.ts)));
        self.bytes = self.bytes.saturating_add(pkt.data.len());
        lane.queue.push_back((now, pkt));
        self.held += 1;
    }

    /// Interface `iface` ended: the others no longer wait for it.
    pub fn end(&mut self, iface: usize) {
        if let Some(lane) = self.lanes.get_mut(iface) {
            lane.ended = true;
        }
    }

    /// The interface whose head packet is earliest, and that packet's time and arrival.
    fn earliest(&self) -> Option<(usize, Timestamp, Instant)> {
        let mut best: Option<(usize, Timestamp, Instant)> = None;
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some((at, p)) = lane.queue.front()
                && best.is_none_or(|(_, ts, _)| p.ts < ts)
            {
                best = Some((i, p.ts, *at));
            }
        }
        best
    }

    /// The next packet in time order, with its interface, when it may go now: `flush` (the
    /// capture ended) releases everything.
    pub fn pop(&mut self, now: Instant, flush: bool) -> Option<(usize, OwnedPacket)> {
        let (i, ts, at) = self.earliest()?;
        let others_past = self
            .lanes
            .iter()
            .enumerate()
            .all(|(j, lane)| j == i || lane.ended || lane.watermark.is_some_and(|w| w >= ts));
        let go = flush
            || others_past
            || self.held >= self.cap
            || self.bytes >= self.max_bytes
            || now.saturating_duration_since(at) >= self.hold;
        if !go {
            return None;
        }
        let (_, pkt) = self.lanes.get_mut(i)?.queue.pop_front()?;
        self.held -= 1;
        self.bytes = self.bytes.saturating_sub(pkt.data.len());
        Some((i, pkt))
    }

    /// When the earliest held packet's hold runs out (`None` when nothing is held).
    pub fn deadline(&self) -> Option<Instant> {
        self.lanes
            .iter()
            .filter_map(|l| l.queue.front().map(|(at, _)| *at + self.hold))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::LinkType;

    fn pkt(ts: i64, tag: u8) -> OwnedPacket {
        OwnedPacket {
            ts: Timestamp(ts),
            link: LinkType::ETHERNET,
            data: vec![tag],
            orig_len: 1,
            interface: 0,
        }
    }

    fn drain(h: &mut HoldBack, now: Instant, flush: bool) -> Vec<(usize, i64)> {
        let mut out = Vec::new();
        while let Some((i, p)) = h.pop(now, flush) {
            out.push((i, p.ts.0));
        }
        out
    }

    #[test]
    fn interleaves_interfaces_by_time() {
        let t0 = Instant::now();
        let mut h = HoldBack::new(2, 100, HOLD_BYTES, HOLD);
        // Interface 1's batch arrives first, though interface 0's packets are earlier.
        h.push(1, pkt(20, 0), t0);
        h.push(1, pkt(40, 0), t0);
        // Nothing from 0 yet: interface 1's packets wait.
        assert!(h.pop(t0, false).is_none());
        h.push(0, pkt(10, 0), t0);
        h.push(0, pkt(30, 0), t0);
        // 10 (every other interface is past it), 20, 30; 40 waits for interface 0.
        assert_eq!(drain(&mut h, t0, false), vec![(0, 10), (1, 20), (0, 30)]);
        assert_eq!(h.len(), 1);
        h.push(0, pkt(50, 0), t0);
        assert_eq!(drain(&mut h, t0, false), vec![(1, 40)]);
        // 50 waits for interface 1, until it ends.
        h.end(1);
        assert_eq!(drain(&mut h, t0, false), vec![(0, 50)]);
        assert!(h.is_empty());
    }

    #[test]
    fn a_quiet_interface_delays_a_packet_at_most_the_hold() {
        let t0 = Instant::now();
        let mut h = HoldBack::new(3, 100, HOLD_BYTES, HOLD);
        h.push(0, pkt(10, 0), t0);
        assert!(h.pop(t0 + HOLD / 2, false).is_none());
        assert_eq!(h.deadline(), Some(t0 + HOLD));
        assert_eq!(drain(&mut h, t0 + HOLD, false), vec![(0, 10)]);
        assert_eq!(h.deadline(), None);
    }

    #[test]
    fn a_full_buffer_releases_the_earliest_at_once() {
        let t0 = Instant::now();
        let mut h = HoldBack::new(2, 3, HOLD_BYTES, HOLD);
        for ts in [5, 6, 7] {
            h.push(1, pkt(ts, 0), t0);
        }
        // Three held, the cap: the earliest goes, then the rest wait again.
        assert_eq!(drain(&mut h, t0, false), vec![(1, 5)]);
        assert_eq!(h.len(), 2);
        h.push(1, pkt(8, 0), t0);
        assert_eq!(drain(&mut h, t0, false), vec![(1, 6)]);
        // Never more than the cap held, whatever arrives.
        for ts in 9..1000 {
            h.push(1, pkt(ts, 0), t0);
            while h.len() >= 3 {
                assert!(h.pop(t0, false).is_some());
            }
        }
        assert!(h.len() < 3);
        assert_eq!(drain(&mut h, t0, true).len(), 2);
    }

    #[test]
    fn held_bytes_are_bounded_too() {
        let t0 = Instant::now();
        let mut h = HoldBack::new(2, 1000, 100, HOLD);
        let big = |ts| OwnedPacket {
            data: vec![0; 40],
            ..pkt(ts, 0)
        };
        h.push(1, big(1), t0);
        h.push(1, big(2), t0);
        assert!(h.pop(t0, false).is_none(), "80 bytes held, under the bound");
        h.push(1, big(3), t0);
        // 120 bytes: the earliest goes; 80 left wait again.
        assert_eq!(drain(&mut h, t0, false), vec![(1, 1)]);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn an_interface_keeps_its_own_order_when_its_clock_steps_back() {
        let t0 = Instant::now();
        let mut h = HoldBack::new(2, 100, HOLD_BYTES, HOLD);
        h.push(0, pkt(100, 1), t0);
        h.push(0, pkt(50, 2), t0);
        h.push(1, pkt(70, 3), t0);
        let got = drain(&mut h, t0, true);
        // Interface 0's 100 comes before its 50 (its own order); 70 goes before 100.
        assert_eq!(got, vec![(1, 70), (0, 100), (0, 50)]);
    }

    #[test]
    fn one_interface_holds_nothing() {
        let t0 = Instant::now();
        let mut h = HoldBack::new(1, 100, HOLD_BYTES, HOLD);
        h.push(0, pkt(3, 0), t0);
        assert_eq!(drain(&mut h, t0, false), vec![(0, 3)]);
        // An interface index out of range goes to the last lane (no panic).
        h.push(7, pkt(4, 0), t0);
        assert_eq!(drain(&mut h, t0, false), vec![(0, 4)]);
    }

    #[test]
    fn ties_go_by_interface_index() {
        let t0 = Instant::now();
        let mut h = HoldBack::new(2, 100, HOLD_BYTES, HOLD);
        h.push(1, pkt(10, 0), t0);
        h.push(0, pkt(10, 0), t0);
        assert_eq!(drain(&mut h, t0, false), vec![(0, 10), (1, 10)]);
    }
}
