//! Bounded IPv4/IPv6 fragment reassembly.
//!
//! etherparse's `IpDefragPool` needs a strictly sliced packet (a snaplen-cut capture fails
//! before reaching it), has no bound on datagrams or bytes, and exposes neither its size nor
//! its oldest entry; this small defragmenter is bounded instead:
//!
//! - at most [`MAX_DATAGRAMS`] datagrams and [`MAX_BYTES`] buffered bytes; a new datagram that
//!   does not fit evicts the oldest ones (their fragments count as expired);
//! - datagrams older than [`TIMEOUT_NS`] of packet time are dropped (expired);
//! - a datagram longer than 65535 bytes, a non-final fragment whose length is not a multiple of
//!   8, a second "last" fragment that disagrees, or a fragment that overlaps another one with a
//!   different range is an error and discards the whole datagram, as Linux does (and RFC 5722
//!   requires for IPv6): an overlap is how IDS evasion works, and the endpoint would not have
//!   delivered the datagram. An exact duplicate of a fragment already held is ignored.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::model::DecodeStats;

pub const MAX_DATAGRAMS: usize = 1024;
pub const MAX_BYTES: usize = 8 << 20;
pub const TIMEOUT_NS: i64 = 30_000_000_000;
const MAX_DATAGRAM_LEN: u32 = 65_535;
const SWEEP_EVERY_NS: i64 = 1_000_000_000;
const SPARE_BUFFERS: usize = 16;

/// What identifies the fragments of one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragKey {
    pub interface: u32,
    pub vlans: [u16; 3],
    pub v6: bool,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub id: u32,
    pub proto: u8,
}

struct Pending {
    data: Vec<u8>,
    /// Received byte ranges, sorted and merged when adjacent.
    ranges: Vec<(u32, u32)>,
    /// Length of the datagram, once its last fragment arrived.
    total: Option<u32>,
    first_ts: i64,
    /// Order of arrival among datagrams with the same `first_ts` (their key in `by_age`).
    seq: u64,
    fragments: u64,
}

pub enum FragOutcome {
    Held,
    /// The datagram is complete: its payload is in [`Defragmenter::out`].
    Complete,
    Error(&'static str),
}

#[derive(Default)]
pub struct Defragmenter {
    map: FxHashMap<FragKey, Pending>,
    /// The datagrams oldest first (first fragment's time, then arrival), so eviction and
    /// expiry take the oldest without a scan of the table.
    by_age: BTreeMap<(i64, u64), FragKey>,
    next_seq: u64,
    bytes: usize,
    spare: Vec<Vec<u8>>,
    last_sweep: i64,
    /// The last reassembled datagram (the payload after the IP header).
    pub out: Vec<u8>,
}

impl Defragmenter {
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Drops datagrams older than the timeout (checked at most once a second of packet time).
    /// Called for every packet: the check is inlined, the sweep is not.
    #[inline]
    pub fn expire(&mut self, now: i64, stats: &mut DecodeStats) {
        if self.map.is_empty() || now.saturating_sub(self.last_sweep) < SWEEP_EVERY_NS {
            return;
        }
        self.sweep(now, stats);
    }

    #[cold]
    fn sweep(&mut self, now: i64, stats: &mut DecodeStats) {
        self.last_sweep = now;
        let cutoff = now.saturating_sub(TIMEOUT_NS);
        while let Some((&(ts, _), &key)) = self.by_age.first_key_value() {
            if ts >= cutoff {
                break;
            }
            match self.remove(&key) {
                Some(p) => {
                    stats.fragments_expired += p.fragments;
                    recycle(&mut self.spare, p.data);
                }
                None => {
                    self.by_age.pop_first();
                }
            }
        }
    }

    fn remove(&mut self, key: &FragKey) -> Option<Pending> {
        let p = self.map.remove(key)?;
        self.by_age.remove(&(p.first_ts, p.seq));
        self.bytes = self.bytes.saturating_sub(p.data.len());
        Some(p)
    }

    /// Evicts the oldest datagram; false when there is none.
    fn evict_oldest(&mut self, stats: &mut DecodeStats) -> bool {
        let Some((&age, &key)) = self.by_age.first_key_value() else {
            return false;
        };
        match self.remove(&key) {
            Some(p) => {
                stats.fragments_expired += p.fragments;
                recycle(&mut self.spare, p.data);
            }
            // Never out of step with the table; if it were, the entry goes.
            None => {
                self.by_age.remove(&age);
            }
        }
        true
    }

    fn discard(&mut self, key: &FragKey) {
        if let Some(p) = self.remove(key) {
            recycle(&mut self.spare, p.data);
        }
    }

    /// Adds one fragment: `offset` in bytes, `more` = the MF flag, `payload` = the fragment's
    /// data after the IP header (and, for IPv6, after the fragment header).
    pub fn add(
        &mut self,
        key: FragKey,
        offset: u32,
        more: bool,
        payload: &[u8],
        now: i64,
        stats: &mut DecodeStats,
    ) -> FragOutcome {
        self.expire(now, stats);
        let len = payload.len() as u32;
        let end = offset.saturating_add(len);
        if end > MAX_DATAGRAM_LEN {
            self.discard(&key);
            return FragOutcome::Error("reassembled datagram would exceed 65535 bytes");
        }
        if more && (len == 0 || !len.is_multiple_of(8)) {
            self.discard(&key);
            return FragOutcome::Error("non-final fragment length is not a positive multiple of 8");
        }
        if !self.map.contains_key(&key) {
            while self.map.len() >= MAX_DATAGRAMS
                || self.bytes.saturating_add(end as usize) > MAX_BYTES
            {
                if !self.evict_oldest(stats) {
                    break;
                }
            }
            let mut data = self.spare.pop().unwrap_or_default();
            data.clear();
            let seq = self.next_seq;
            self.next_seq += 1;
            self.by_age.insert((now, seq), key);
            self.map.insert(
                key,
                Pending {
                    data,
                    ranges: Vec::new(),
                    total: None,
                    first_ts: now,
                    seq,
                    fragments: 0,
                },
            );
        }
        let Some(p) = self.map.get_mut(&key) else {
            return FragOutcome::Error("fragment table full");
        };
        // Checks against what is held.
        let mut err = None;
        if !more {
            if p.total.is_some_and(|t| t != end) {
                err = Some("two final fragments disagree on the datagram length");
            } else if p.ranges.last().is_some_and(|&(_, e)| e > end) {
                err = Some("final fragment ends before data already received");
            }
        } else if p.total.is_some_and(|t| end > t) {
            err = Some("fragment extends past the final fragment");
        }
        if err.is_none() {
            for &(a, b) in &p.ranges {
                if offset < b && a < end {
                    let same_range = a == offset && b == end;
                    let held = p.data.get(a as usize..b as usize);
                    if same_range && held == Some(payload) {
                        // an exact duplicate (retransmitted fragment): ignore it
                        p.fragments += 1;
                        return FragOutcome::Held;
                    }
                    err = Some("overlapping fragments (datagram discarded)");
                    break;
                }
            }
        }
        if let Some(e) = err {
            self.discard(&key);
            return FragOutcome::Error(e);
        }
        p.fragments += 1;
        if !more {
            p.total = Some(end);
        }
        let old_len = p.data.len();
        if p.data.len() < end as usize {
            p.data.resize(end as usize, 0);
        }
        if let Some(dst) = p.data.get_mut(offset as usize..end as usize) {
            dst.copy_from_slice(payload);
        }
        let grown = p.data.len() - old_len;
        if len > 0 {
            let i = p.ranges.partition_point(|&(a, _)| a < offset);
            p.ranges.insert(i, (offset, end));
            // merge adjacent ranges
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(p.ranges.len());
            for &(a, b) in &p.ranges {
                match merged.last_mut() {
                    Some(last) if last.1 == a => last.1 = b,
                    _ => merged.push((a, b)),
                }
            }
            p.ranges = merged;
        }
        let complete = match (p.total, p.ranges.as_slice()) {
            (Some(0), []) => true,
            (Some(t), [(0, e)]) => *e == t,
            _ => false,
        };
        self.bytes = self.bytes.saturating_add(grown);
        if !complete {
            return FragOutcome::Held;
        }
        stats.fragments_reassembled += 1;
        if let Some(p) = self.remove(&key) {
            let old = std::mem::replace(&mut self.out, p.data);
            recycle(&mut self.spare, old);
        }
        FragOutcome::Complete
    }
}

fn recycle(spare: &mut Vec<Vec<u8>>, mut buf: Vec<u8>) {
    if spare.len() < SPARE_BUFFERS && buf.capacity() > 0 {
        buf.clear();
        spare.push(buf);
    }
}

/// A datagram's key for tests: IPv4 from `[1; 16]` to `[2; 16]`, TCP, identification `id`.
#[cfg(test)]
pub(crate) fn test_key(id: u32) -> FragKey {
    FragKey {
        interface: 0,
        vlans: [0; 3],
        v6: false,
        src: [1; 16],
        dst: [2; 16],
        id,
        proto: 6,
    }
}

#[cfg(test)]
mod tests {
    use super::test_key as key;
    use super::*;

    #[test]
    fn in_order_and_out_of_order() {
        let mut s = DecodeStats::default();
        let mut d = Defragmenter::default();
        let data: Vec<u8> = (0..40u8).collect();
        assert!(matches!(
            d.add(key(1), 16, true, &data[16..32], 0, &mut s),
            FragOutcome::Held
        ));
        assert!(matches!(
            d.add(key(1), 32, false, &data[32..], 0, &mut s),
            FragOutcome::Held
        ));
        assert!(matches!(
            d.add(key(1), 0, true, &data[..16], 0, &mut s),
            FragOutcome::Complete
        ));
        assert_eq!(d.out, data);
        assert!(d.is_empty());
        assert_eq!(d.buffered_bytes(), 0);
        assert_eq!(s.fragments_reassembled, 1);
    }

    #[test]
    fn overlap_discards_but_duplicate_is_ignored() {
        let mut s = DecodeStats::default();
        let mut d = Defragmenter::default();
        let data = [7u8; 24];
        assert!(matches!(
            d.add(key(1), 0, true, &data[..8], 0, &mut s),
            FragOutcome::Held
        ));
        assert!(matches!(
            d.add(key(1), 0, true, &data[..8], 0, &mut s),
            FragOutcome::Held
        ));
        assert!(matches!(
            d.add(key(1), 0, true, &data[..16], 0, &mut s),
            FragOutcome::Error(_)
        ));
        assert!(d.is_empty());
    }

    #[test]
    fn bounded_and_expiring() {
        let mut s = DecodeStats::default();
        let mut d = Defragmenter::default();
        for i in 0..(MAX_DATAGRAMS as u32 + 10) {
            d.add(key(i), 0, true, &[0; 8], i64::from(i), &mut s);
        }
        assert_eq!(d.len(), MAX_DATAGRAMS);
        assert_eq!(s.fragments_expired, 10);
        // far-away fragments: the byte cap holds
        for i in 0..400u32 {
            d.add(key(10_000 + i), 65_000, true, &[0; 8], 100, &mut s);
        }
        assert!(d.buffered_bytes() <= MAX_BYTES);
        d.expire(TIMEOUT_NS + 1_000_000_000, &mut s);
        assert!(d.is_empty());
    }

    #[test]
    fn too_long_and_odd_lengths() {
        let mut s = DecodeStats::default();
        let mut d = Defragmenter::default();
        assert!(matches!(
            d.add(key(1), 65_528, false, &[0; 16], 0, &mut s),
            FragOutcome::Error(_)
        ));
        assert!(matches!(
            d.add(key(2), 0, true, &[0; 7], 0, &mut s),
            FragOutcome::Error(_)
        ));
    }
}
