//! The clock offset between two captures, from the proxy hops that cross them.
//!
//! A proxy's upstream request starts after the client's request started and its response ends
//! before the client's response ends. With the front leg on one capture's clock and the back
//! leg on another's, each pair bounds the offset `off` to add to the back capture's times:
//! `back_start + off >= front_start` and `back_end + off <= front_end`, that is
//! `off ∈ [front_start - back_start, front_end - back_end]`. The offset consistent with every
//! pair is the intersection of these intervals; when some pairs disagree (a wrong pair, a
//! retransmission that moved an end), the offset consistent with the most pairs wins (a sweep
//! over the interval endpoints). Pure: plain numbers in, an estimate out.

/// One hop across two captures, in nanoseconds, each time on its own capture's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HopTimes {
    pub front_start: i64,
    pub front_end: i64,
    pub back_start: i64,
    pub back_end: i64,
}

impl HopTimes {
    /// The offsets (added to the back capture's times) this hop allows, or `None` when its
    /// back leg lasted longer than its front leg (no offset can fit it: not a pair, or broken
    /// timestamps).
    pub fn bounds(&self) -> Option<(i64, i64)> {
        let lo = self.front_start.checked_sub(self.back_start)?;
        let hi = self.front_end.checked_sub(self.back_end)?;
        (lo <= hi).then_some((lo, hi))
    }
}

/// The offset of the back capture's clock, to add to its times to put them on the front
/// capture's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockEstimate {
    /// The middle of `interval`, in nanoseconds.
    pub offset_ns: i64,
    /// Every offset in it is consistent with the `support` pairs (the uncertainty).
    pub interval: (i64, i64),
    /// Pairs whose bounds contain `interval`.
    pub support: u32,
    /// Pairs looked at (including those with no consistent offset at all).
    pub pairs: u32,
}

impl ClockEstimate {
    pub fn offset_s(&self) -> f64 {
        self.offset_ns as f64 / 1e9
    }

    /// Half the width of the interval: how far the true offset may be from `offset_ns`.
    pub fn uncertainty_ns(&self) -> i64 {
        (self.interval.1 - self.interval.0) / 2
    }
}

/// The offset consistent with the most pairs (ties: the earliest such interval), or `None`
/// without a usable pair.
pub fn estimate(pairs: &[HopTimes]) -> Option<ClockEstimate> {
    let total = u32::try_from(pairs.len()).unwrap_or(u32::MAX);
    let bounds: Vec<(i64, i64)> = pairs.iter().filter_map(HopTimes::bounds).collect();
    let (lo, hi) = bounds.iter().fold((i64::MIN, i64::MAX), |(l, h), (a, b)| {
        (l.max(*a), h.min(*b))
    });
    if bounds.is_empty() {
        return None;
    }
    if lo <= hi {
        return Some(make((lo, hi), bounds.len(), total));
    }
    // Some pairs disagree: sweep the endpoints (an interval opens before another closes at
    // the same point: both contain it).
    let mut ev: Vec<(i64, i8)> = Vec::with_capacity(2 * bounds.len());
    for (a, b) in &bounds {
        ev.push((*a, -1));
        ev.push((*b, 1));
    }
    ev.sort_unstable();
    let mut depth = 0usize;
    let mut best = (0usize, (0i64, 0i64));
    for (i, (x, kind)) in ev.iter().enumerate() {
        if *kind < 0 {
            depth += 1;
            if depth > best.0 {
                // Covered from here to the next closing endpoint (the next event is a close
                // or another open, both ≥ x; the region ends at the first close).
                let end = ev[i + 1..]
                    .iter()
                    .find(|(_, k)| *k > 0)
                    .map_or(*x, |(y, _)| *y);
                best = (depth, (*x, end));
            }
        } else {
            depth = depth.saturating_sub(1);
        }
    }
    Some(make(best.1, best.0, total))
}

fn make(interval: (i64, i64), support: usize, pairs: u32) -> ClockEstimate {
    let (lo, hi) = interval;
    ClockEstimate {
        offset_ns: lo + (hi - lo) / 2,
        interval,
        support: u32::try_from(support).unwrap_or(u32::MAX),
        pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    /// A hop whose front starts at `t` ms (front clock), the proxy taking `d1` ms to send the
    /// request upstream, the backend `dur` ms to answer, the proxy `d2` ms to relay it; the
    /// back capture's clock is `off` ns behind (its times are the true ones minus `off`).
    fn hop(t: i64, d1: i64, dur: i64, d2: i64, off: i64) -> HopTimes {
        let fs = t * MS;
        let bs = fs + d1 * MS;
        let be = bs + dur * MS;
        let fe = be + d2 * MS;
        HopTimes {
            front_start: fs,
            front_end: fe,
            back_start: bs - off,
            back_end: be - off,
        }
    }

    #[test]
    fn recovers_known_offsets_within_the_pairs_latencies() {
        for off in [1_234 * MS, -800 * MS, 0] {
            let pairs = [
                hop(1000, 2, 30, 3, off),
                hop(1500, 1, 5, 1, off),
                hop(2000, 4, 100, 2, off),
            ];
            let e = estimate(&pairs).expect("an estimate");
            assert_eq!((e.support, e.pairs), (3, 3));
            // The tightest hop allows [off - 1 ms, off + 1 ms].
            assert_eq!(e.interval, (off - MS, off + MS), "{off}");
            assert_eq!(e.offset_ns, off);
            assert!(e.uncertainty_ns() <= MS);
        }
    }

    #[test]
    fn a_wrong_pair_is_outvoted() {
        let off = 1_234 * MS;
        let mut pairs = vec![
            hop(1000, 2, 30, 3, off),
            hop(1500, 1, 5, 1, off),
            hop(2000, 4, 100, 2, off),
        ];
        // A front paired with someone else's back, 5 s later on its clock.
        pairs.push(hop(3000, 1, 5, 1, off - 5_000 * MS));
        let e = estimate(&pairs).expect("an estimate");
        assert_eq!((e.support, e.pairs), (3, 4));
        assert_eq!(e.interval, (off - MS, off + MS));
        assert_eq!(e.offset_s(), 1.234);
    }

    #[test]
    fn impossible_pairs_and_nothing() {
        assert_eq!(estimate(&[]), None);
        // The back lasted longer than the front: no offset fits.
        let p = HopTimes {
            front_start: 0,
            front_end: 10,
            back_start: 0,
            back_end: 20,
        };
        assert_eq!(estimate(&[p]), None);
        let e = estimate(&[p, hop(0, 1, 1, 1, 0)]).expect("one usable pair");
        assert_eq!((e.support, e.pairs), (1, 2));
        // Extreme values do not overflow.
        let x = HopTimes {
            front_start: i64::MIN,
            front_end: i64::MAX,
            back_start: i64::MAX,
            back_end: i64::MIN,
        };
        assert_eq!(estimate(&[x]), None);
    }

    #[test]
    fn two_camps_the_larger_wins_and_ties_go_to_the_earliest() {
        let a = hop(0, 1, 1, 1, 0);
        let b = hop(0, 1, 1, 1, 3_000 * MS);
        let e = estimate(&[b, a, b]).expect("an estimate");
        assert_eq!((e.offset_ns, e.support), (3_000 * MS, 2));
        let e = estimate(&[b, a]).expect("an estimate");
        assert_eq!((e.offset_ns, e.support), (0, 1));
    }

    proptest::proptest! {
        /// Pairs generated from a true offset always yield an interval that contains it.
        #[test]
        fn the_interval_contains_the_true_offset(
            off in -10_000_000_000i64..10_000_000_000,
            hops in proptest::collection::vec(
                (0i64..1_000_000_000_000, 0i64..50_000_000, 0i64..5_000_000_000, 0i64..50_000_000),
                1..40,
            ),
        ) {
            let pairs: Vec<HopTimes> = hops
                .iter()
                .map(|&(t, d1, dur, d2)| {
                    let (bs, fe) = (t + d1, t + d1 + dur + d2);
                    HopTimes {
                        front_start: t,
                        front_end: fe,
                        back_start: bs - off,
                        back_end: bs + dur - off,
                    }
                })
                .collect();
            let e = estimate(&pairs).expect("consistent pairs");
            proptest::prop_assert!(e.interval.0 <= off && off <= e.interval.1, "{e:?} {off}");
            proptest::prop_assert_eq!(e.support as usize, pairs.len());
            proptest::prop_assert!((e.offset_ns - off).abs() <= e.uncertainty_ns() + 1);
        }
    }
}
