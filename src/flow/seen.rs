//! One connection seen at several capture points: the same 4-tuple and initial sequence
//! numbers in two captures (the client's host and the server's, a proxy captured on `any` and
//! on an interface). It is one connection observed twice, not two.
//!
//! Policy: the capture point whose packet shows the connection first (in merged time) is its
//! *owner*; only the owner's packets are reassembled and analysed. The other points' packets
//! are *copies*: counted per point (packets, bytes, the first file) and not analysed, so
//! nothing is counted or reported twice. (A copy's packets that the owner lacks are not used
//! to fill the owner's holes: with clocks that disagree by seconds they arrive out of order by
//! as much, and would read as retransmissions.)
//!
//! The copies also give the offset between the two points' clocks: the first few segments
//! that carry a sequence number of their own (SYN, data, FIN) each way are kept with their
//! times at both points; a segment seen at both says `owner time − copy time`. For the
//! direction that reaches the owner's point second that difference is the offset plus the
//! one-way delay between the points, for the other the offset minus it, so the true offset
//! lies between the two directions' differences: [`Seen::offsets`] returns that interval for
//! each copy point.

use crate::base::Timestamp;

/// Segments kept per direction and point for the offset.
pub const SAMPLES: usize = 4;
/// Other capture points tracked per connection (more are counted in the last).
pub const MAX_COPIES: usize = 8;

/// A segment that names a place in its stream: its sequence number, length and SYN/FIN bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sample {
    seq: u32,
    len: u32,
    syn_fin: u8,
    ts: i64,
}

/// The first [`SAMPLES`] such segments one way at one point.
#[derive(Clone, Copy, Debug, Default)]
struct Samples {
    n: u8,
    at: [Option<Sample>; SAMPLES],
}

impl Samples {
    fn note(&mut self, s: Sample) {
        let n = usize::from(self.n);
        if n >= SAMPLES
            || self
                .at
                .iter()
                .flatten()
                .any(|x| (x.seq, x.len, x.syn_fin) == (s.seq, s.len, s.syn_fin))
        {
            return;
        }
        if let Some(slot) = self.at.get_mut(n) {
            *slot = Some(s);
            self.n += 1;
        }
    }

    fn find(&self, s: &Sample) -> Option<&Sample> {
        self.at
            .iter()
            .flatten()
            .find(|x| (x.seq, x.len, x.syn_fin) == (s.seq, s.len, s.syn_fin))
    }
}

/// What another capture point saw of the connection.
#[derive(Clone, Debug)]
pub struct Copy {
    /// The capture point.
    pub point: u32,
    /// The input file its first packet came from.
    pub file: u32,
    pub packets: u64,
    pub bytes: u64,
    samples: [Samples; 2],
}

/// The clock offset one connection gives between its owner's point and a copy's: the copy's
/// times plus anything in `lo..=hi` (nanoseconds) are on the owner's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PointOffset {
    pub owner_file: u32,
    pub copy_file: u32,
    pub lo: i64,
    pub hi: i64,
}

impl PointOffset {
    pub fn mid(&self) -> i64 {
        self.lo + (self.hi - self.lo) / 2
    }
}

/// A connection's capture points: its owner, its samples, its copies.
#[derive(Clone, Debug)]
pub struct Seen {
    pub owner: u32,
    pub owner_file: u32,
    own: [Samples; 2],
    pub copies: Vec<Copy>,
}

fn sample(seq: u32, len: u32, syn: bool, fin: bool, ts: Timestamp) -> Option<Sample> {
    let syn_fin = u8::from(syn) | u8::from(fin) << 1;
    // A bare ACK repeats its sequence number: it names no place of its own.
    (len > 0 || syn_fin != 0).then_some(Sample {
        seq,
        len,
        syn_fin,
        ts: ts.0,
    })
}

impl Seen {
    pub fn new(owner: u32, owner_file: u32) -> Self {
        Seen {
            owner,
            owner_file,
            own: [Samples::default(); 2],
            copies: Vec::new(),
        }
    }

    /// An owner's segment, direction `d` (0: client to server).
    pub fn own(&mut self, d: usize, seq: u32, len: u32, syn: bool, fin: bool, ts: Timestamp) {
        if let (Some(s), Some(slot)) = (sample(seq, len, syn, fin, ts), self.own.get_mut(d)) {
            slot.note(s);
        }
    }

    /// A copy's packet from `point` (input `file`), `bytes` captured.
    pub fn copy(
        &mut self,
        point: u32,
        file: u32,
        bytes: u64,
        d: usize,
        (seq, len, syn, fin): (u32, u32, bool, bool),
        ts: Timestamp,
    ) {
        let i = match self.copies.iter().position(|c| c.point == point) {
            Some(i) => i,
            None if self.copies.len() < MAX_COPIES => {
                self.copies.push(Copy {
                    point,
                    file,
                    packets: 0,
                    bytes: 0,
                    samples: [Samples::default(); 2],
                });
                self.copies.len() - 1
            }
            None => self.copies.len() - 1,
        };
        let Some(c) = self.copies.get_mut(i) else {
            return;
        };
        c.packets += 1;
        c.bytes += bytes;
        if c.point == point
            && let (Some(s), Some(slot)) = (sample(seq, len, syn, fin, ts), c.samples.get_mut(d))
        {
            slot.note(s);
        }
    }

    /// For each copy with segments in common with the owner: the interval its clock offset
    /// lies in (see the module doc). When the two directions' differences overlap (timestamps
    /// with jitter, or segments only one way), the interval spans them all.
    pub fn offsets(&self) -> Vec<(usize, PointOffset)> {
        let mut out = Vec::new();
        for (i, c) in self.copies.iter().enumerate() {
            let mut per_dir: [Option<(i64, i64)>; 2] = [None, None];
            for (d, range) in per_dir.iter_mut().enumerate() {
                let (Some(own), Some(theirs)) = (self.own.get(d), c.samples.get(d)) else {
                    continue;
                };
                for s in theirs.at.iter().flatten() {
                    if let Some(o) = own.find(s) {
                        let diff = o.ts.saturating_sub(s.ts);
                        *range = Some(match *range {
                            Some((lo, hi)) => (lo.min(diff), hi.max(diff)),
                            None => (diff, diff),
                        });
                    }
                }
            }
            let (lo, hi) = match per_dir {
                [Some(a), Some(b)] if a.1 <= b.0 => (a.1, b.0),
                [Some(a), Some(b)] if b.1 <= a.0 => (b.1, a.0),
                [Some(a), Some(b)] => (a.0.min(b.0), a.1.max(b.1)),
                [Some(a), None] | [None, Some(a)] => a,
                [None, None] => continue,
            };
            out.push((
                i,
                PointOffset {
                    owner_file: self.owner_file,
                    copy_file: c.file,
                    lo,
                    hi,
                },
            ));
        }
        out
    }
}

/// The offsets every connection seen twice gave, per pair of capture points: the intersection
/// of their intervals (and, should it be empty, the median of their midpoints, with their
/// spread), for `capture.files[]`.
#[derive(Default, Debug)]
pub struct SameConnection {
    pairs: Vec<Agg>,
}

#[derive(Debug)]
struct Agg {
    /// Points `a < b`, with a file of each: `b`'s times plus the offset are on `a`'s.
    a: u32,
    b: u32,
    a_file: u32,
    b_file: u32,
    lo: i64,
    hi: i64,
    n: u32,
    /// The first midpoints (bounded), for when the intervals do not intersect.
    mids: Vec<i64>,
}

/// Midpoints kept per pair of points.
const MAX_MIDS: usize = 256;

/// The offset between two capture points that connections seen at both gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PointsOffset {
    /// A file of each point: `b_file`'s times plus `offset_ns` are on `a_file`'s clock.
    pub a_file: u32,
    pub b_file: u32,
    pub offset_ns: i64,
    /// Where the true offset lies.
    pub interval: (i64, i64),
    /// Connections that gave it.
    pub connections: u32,
    /// Their intervals had a common part (else the offset is the median of their midpoints
    /// and the interval their spread).
    pub consistent: bool,
}

impl SameConnection {
    /// One connection's interval between its owner's point and a copy's.
    pub fn add(&mut self, owner: u32, copy: u32, o: PointOffset) {
        // Normalised to `a < b`: `b + e = a`.
        let (a, b, a_file, b_file, lo, hi) = if owner <= copy {
            (owner, copy, o.owner_file, o.copy_file, o.lo, o.hi)
        } else {
            (
                copy,
                owner,
                o.copy_file,
                o.owner_file,
                o.hi.saturating_neg(),
                o.lo.saturating_neg(),
            )
        };
        let mid = lo + (hi - lo) / 2;
        match self.pairs.iter_mut().find(|g| (g.a, g.b) == (a, b)) {
            Some(g) => {
                g.lo = g.lo.max(lo);
                g.hi = g.hi.min(hi);
                g.n = g.n.saturating_add(1);
                if g.mids.len() < MAX_MIDS {
                    g.mids.push(mid);
                }
            }
            None => self.pairs.push(Agg {
                a,
                b,
                a_file,
                b_file,
                lo,
                hi,
                n: 1,
                mids: vec![mid],
            }),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Each pair of points' offset.
    pub fn estimates(&self) -> Vec<PointsOffset> {
        self.pairs
            .iter()
            .map(|g| {
                let consistent = g.lo <= g.hi;
                let (offset_ns, interval) = if consistent {
                    (g.lo + (g.hi - g.lo) / 2, (g.lo, g.hi))
                } else {
                    let mut m = g.mids.clone();
                    m.sort_unstable();
                    let med = m.get(m.len() / 2).copied().unwrap_or(0);
                    let lo = m.first().copied().unwrap_or(med);
                    let hi = m.last().copied().unwrap_or(med);
                    (med, (lo, hi))
                };
                PointsOffset {
                    a_file: g.a_file,
                    b_file: g.b_file,
                    offset_ns,
                    interval,
                    connections: g.n,
                    consistent,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    /// The client's point owns; the server's clock is 1.75 s ahead; 3 ms one way.
    #[test]
    fn the_offset_lies_between_the_two_directions() {
        let mut s = Seen::new(0, 0);
        let t = |ms: i64| Timestamp(10_000 * MS + ms * MS);
        let skew = 1750;
        // SYN client->server, SYN-ACK back, then a request and a response.
        s.own(0, 100, 0, true, false, t(0));
        s.copy(1, 1, 60, 0, (100, 0, true, false), t(3 + skew));
        s.copy(1, 1, 60, 1, (500, 0, true, false), t(4 + skew));
        s.own(1, 500, 0, true, false, t(7));
        s.own(0, 101, 80, false, false, t(8));
        s.copy(1, 1, 140, 0, (101, 80, false, false), t(11 + skew));
        // A bare ACK names no place: not a sample.
        s.copy(1, 1, 60, 0, (181, 0, false, false), t(12 + skew));
        s.copy(1, 1, 1500, 1, (501, 1448, false, false), t(12 + skew));
        s.own(1, 501, 1448, false, false, t(15));
        let got = s.offsets();
        assert_eq!(got.len(), 1);
        let (i, o) = got[0];
        assert_eq!(i, 0);
        assert_eq!((o.lo, o.hi), ((-3 - skew) * MS, (3 - skew) * MS));
        assert_eq!(o.mid(), -skew * MS);
        assert_eq!(s.copies[0].packets, 5);
        assert_eq!(s.copies[0].bytes, 60 + 60 + 140 + 60 + 1500);
    }

    #[test]
    fn no_common_segment_no_offset() {
        let mut s = Seen::new(0, 0);
        s.own(0, 100, 10, false, false, Timestamp(5));
        s.copy(1, 2, 60, 0, (900, 10, false, false), Timestamp(7));
        assert!(s.offsets().is_empty());
        assert_eq!(s.copies[0].file, 2);
    }

    #[test]
    fn copies_are_bounded() {
        let mut s = Seen::new(0, 0);
        for p in 1..=(MAX_COPIES as u32 + 5) {
            s.copy(p, p, 1, 0, (1, 1, false, false), Timestamp(1));
        }
        assert_eq!(s.copies.len(), MAX_COPIES);
        let total: u64 = s.copies.iter().map(|c| c.packets).sum();
        assert_eq!(total, MAX_COPIES as u64 + 5);
    }

    #[test]
    fn connections_intersect_whichever_point_owned_them() {
        let mut agg = SameConnection::default();
        let o = |lo, hi| PointOffset {
            owner_file: 0,
            copy_file: 3,
            lo,
            hi,
        };
        // Point 0 owned one (point 1's times + [-10, -4] are on 0's) ...
        agg.add(0, 1, o(-10, -4));
        // ... point 1 the other: 0's times + [5, 8] are on 1's, so 1's + [-8, -5] on 0's.
        agg.add(
            1,
            0,
            PointOffset {
                owner_file: 3,
                copy_file: 0,
                lo: 5,
                hi: 8,
            },
        );
        let e = agg.estimates();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].a_file, e[0].b_file), (0, 3));
        assert_eq!(e[0].interval, (-8, -5));
        assert_eq!(e[0].offset_ns, -7);
        assert_eq!(e[0].connections, 2);
        assert!(e[0].consistent);
        // A connection off the others: no common part, the median of the midpoints.
        agg.add(0, 1, o(100, 102));
        let e = agg.estimates();
        assert!(!e[0].consistent);
        assert_eq!(e[0].offset_ns, -7);
        assert_eq!(e[0].interval, (-7, 101));
    }
}
