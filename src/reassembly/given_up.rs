//! The holes a direction gave up as gaps, remembered so that bytes arriving for them later
//! are recognised as late data (`tcp.late-data`, `late_bytes`) instead of being taken for
//! retransmissions of bytes that were seen.
//!
//! Bounded: the most recent [`MAX_RANGES`] ranges are kept (a range is split when late bytes
//! fill its middle). Late data for an older hole is counted as a retransmission, as before;
//! late data comes from capture reordering or a give-up by a limit, and both reach only the
//! last few holes. Each late byte is counted once: the bytes it filled leave the range.

use super::GapCause;

/// Ranges kept per direction.
pub const MAX_RANGES: usize = 8;

/// Given-up stream ranges `[start, end)` with why each was given up, in stream order.
#[derive(Debug, Default)]
pub struct GivenUp {
    ranges: Vec<(u64, u64, GapCause)>,
    /// Segments that brought late bytes so far (they only come after a gap, so the count
    /// lives here, not in every connection).
    events: u32,
}

/// Bytes of a segment that fell in given-up holes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Late {
    /// How many.
    pub bytes: u64,
    /// Stream offset of the first one.
    pub first: u64,
    /// Why the hole of the first one was given up.
    pub cause: GapCause,
    /// 1 for the first segment that brought late bytes to this direction, and so on.
    pub nth: u32,
}

impl GivenUp {
    /// A hole `[start, end)` was given up for `cause` (holes are given up in stream order).
    pub fn add(&mut self, start: u64, end: u64, cause: GapCause) {
        if let Some(last) = self.ranges.last_mut()
            && last.1 == start
            && last.2 == cause
        {
            last.1 = end;
            return;
        }
        self.ranges.push((start, end, cause));
        self.trim();
    }

    /// Takes the bytes of `[start, end)` that lie in given-up holes out of them and says how
    /// many there were.
    pub fn take(&mut self, start: u64, end: u64) -> Option<Late> {
        let mut late: Option<Late> = None;
        let mut i = self.ranges.partition_point(|r| r.1 <= start);
        while let Some(&(s, e, cause)) = self.ranges.get(i) {
            if s >= end {
                break;
            }
            let (lo, hi) = (s.max(start), e.min(end));
            match late.as_mut() {
                Some(l) => l.bytes += hi - lo,
                None => {
                    self.events = self.events.saturating_add(1);
                    late = Some(Late {
                        bytes: hi - lo,
                        first: lo,
                        cause,
                        nth: self.events,
                    })
                }
            }
            match (s < lo, hi < e) {
                (false, false) => {
                    self.ranges.remove(i);
                    continue;
                }
                (true, false) => self.ranges[i].1 = lo,
                (false, true) => self.ranges[i].0 = hi,
                (true, true) => {
                    self.ranges[i].1 = lo;
                    self.ranges.insert(i + 1, (hi, e, cause));
                    i += 1;
                }
            }
            i += 1;
        }
        self.trim();
        late
    }

    fn trim(&mut self) {
        if self.ranges.len() > MAX_RANGES {
            let extra = self.ranges.len() - MAX_RANGES;
            self.ranges.drain(..extra);
        }
    }

    #[cfg(test)]
    pub fn ranges(&self) -> &[(u64, u64, GapCause)] {
        &self.ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_bytes_are_taken_once_and_split_ranges() {
        let mut g = GivenUp::default();
        g.add(10, 20, GapCause::OooLimit);
        g.add(20, 25, GapCause::OooLimit);
        g.add(40, 50, GapCause::Acked);
        assert_eq!(
            g.ranges(),
            &[(10, 25, GapCause::OooLimit), (40, 50, GapCause::Acked)]
        );
        // The middle of the first hole, and nothing outside the holes.
        assert_eq!(
            g.take(5, 15),
            Some(Late {
                bytes: 5,
                first: 10,
                cause: GapCause::OooLimit,
                nth: 1
            })
        );
        assert_eq!(g.take(12, 15), None, "those bytes were taken already");
        assert_eq!(
            g.take(16, 45),
            Some(Late {
                bytes: 14,
                first: 16,
                cause: GapCause::OooLimit,
                nth: 2
            })
        );
        assert_eq!(
            g.ranges(),
            &[(15, 16, GapCause::OooLimit), (45, 50, GapCause::Acked)]
        );
        assert_eq!(g.take(25, 40), None);
    }

    #[test]
    fn only_the_latest_ranges_are_kept() {
        let mut g = GivenUp::default();
        for i in 0..20u64 {
            g.add(i * 10, i * 10 + 5, GapCause::Acked);
        }
        assert_eq!(g.ranges().len(), MAX_RANGES);
        assert_eq!(g.take(0, 100), None, "forgotten");
        assert_eq!(g.take(190, 195).map(|l| l.bytes), Some(5));
        // Splitting a range in two never keeps more than the bound.
        for i in 12..19u64 {
            g.take(i * 10 + 2, i * 10 + 3);
        }
        assert!(g.ranges().len() <= MAX_RANGES);
    }
}
