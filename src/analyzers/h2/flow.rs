//! Flow control as seen from the wire (RFC 9113 §5.2, §6.9): each direction's send window, per
//! stream and for the connection, and what the frame follower keeps per frame and per ping.
//!
//! A send window starts at the peer's SETTINGS_INITIAL_WINDOW_SIZE (stream) or 65 535
//! (connection), goes down by every DATA frame's whole length (padding included, §6.9.1), up
//! by every WINDOW_UPDATE the peer sends, and a change of SETTINGS_INITIAL_WINDOW_SIZE moves
//! the open streams' windows by the difference (§6.9.2; a window may go below 0 then).
//!
//! **Stall.** Whether a sender has data waiting cannot be seen on the wire; what can is that it
//! used its window up. A stall is a DATA frame that leaves a window at 0 or below while the
//! stream (for a connection stall: some stream of that direction) has not ended: the sender
//! can send no more DATA until the peer's WINDOW_UPDATE. It is counted once until a
//! WINDOW_UPDATE opens the window again; the time until then is the stall's duration. A
//! window that is 0 before any DATA (SETTINGS_INITIAL_WINDOW_SIZE 0), or a sender that stops
//! short of a non-zero window, is not counted.
//!
//! Everything here is a fixed-size value; the lists are bounded by their users.

use crate::base::Timestamp;

/// The connection's window and a stream's default initial window (§6.9.2).
pub const DEFAULT_WINDOW: i64 = 65_535;
/// The largest window a WINDOW_UPDATE or SETTINGS change may produce (§6.9.1).
pub const MAX_WINDOW: i64 = 0x7fff_ffff;

/// One sending direction's flow control on one stream or on the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowStats {
    /// DATA frames sent, their largest length and their lengths' sum (padding included: what
    /// flow control counts).
    pub data_frames: u64,
    pub largest_data_frame: u32,
    pub data_length: u64,
    /// WINDOW_UPDATEs the peer sent for this direction, and their increments' sum.
    pub window_updates: u64,
    pub increments: u64,
    pub stalls: u64,
    /// Nanoseconds from each stall to the WINDOW_UPDATE that ended it.
    pub stalled_ns: u64,
    /// The lowest window after a DATA frame or a SETTINGS change (`None` before either).
    pub min_window: Option<i64>,
    /// The window now.
    pub window: i64,
    /// DATA frames longer than the window (FLOW_CONTROL_ERROR, §6.9.1).
    pub violations: u64,
    /// WINDOW_UPDATEs or SETTINGS changes that took the window above 2³¹−1.
    pub overflows: u64,
    /// Since when the window is used up, while it is.
    pub stalled_since: Option<Timestamp>,
    /// The first [`MAX_STALL_LOG`] stalls: when, the stream of the DATA frame that used the
    /// window up, and nanoseconds until the WINDOW_UPDATE that ended it.
    pub stall_log: Vec<(Timestamp, u32, Option<u64>)>,
}

/// Stalls listed per window.
pub const MAX_STALL_LOG: usize = 16;

impl FlowStats {
    pub fn new(window: i64) -> Self {
        FlowStats {
            data_frames: 0,
            largest_data_frame: 0,
            data_length: 0,
            window_updates: 0,
            increments: 0,
            stalls: 0,
            stalled_ns: 0,
            min_window: None,
            window,
            violations: 0,
            overflows: 0,
            stalled_since: None,
            stall_log: Vec::new(),
        }
    }

    fn lowest(&mut self) {
        self.min_window = Some(self.min_window.map_or(self.window, |m| m.min(self.window)));
    }

    /// A DATA frame of `length`; `slack` is what a lowered initial window not yet acknowledged
    /// still allows. Whether the frame exceeded the window.
    pub fn data(&mut self, length: u32, slack: i64) -> bool {
        self.data_frames += 1;
        self.largest_data_frame = self.largest_data_frame.max(length);
        self.data_length += u64::from(length);
        let over = i64::from(length) > self.window.saturating_add(slack);
        self.window = self.window.saturating_sub(i64::from(length));
        self.lowest();
        if over {
            self.violations += 1;
        }
        over
    }

    /// After a DATA frame, when the sender may still send on it: a new stall when the window
    /// is used up and was not already.
    /// `stream` is the DATA frame's.
    pub fn check_stall(&mut self, now: Timestamp, stream: u32) -> bool {
        if self.window <= 0 && self.stalled_since.is_none() {
            self.stalls += 1;
            self.stalled_since = Some(now);
            if self.stall_log.len() < MAX_STALL_LOG {
                self.stall_log.push((now, stream, None));
            }
            return true;
        }
        false
    }

    /// A WINDOW_UPDATE of `increment`: whether it overflowed the window.
    pub fn update(&mut self, increment: u32, now: Timestamp) -> bool {
        self.window_updates += 1;
        self.increments += u64::from(increment);
        self.shift(i64::from(increment), now)
    }

    /// The window moves by `delta` (a WINDOW_UPDATE, a SETTINGS change): whether it went
    /// above the largest window.
    pub fn shift(&mut self, delta: i64, now: Timestamp) -> bool {
        let before = self.window;
        self.window = self.window.saturating_add(delta);
        if delta < 0 {
            self.lowest();
        }
        if self.window > 0
            && let Some(t) = self.stalled_since.take()
        {
            let waited = u64::try_from(now.saturating_sub(t)).unwrap_or(0);
            self.stalled_ns = self.stalled_ns.saturating_add(waited);
            if let Some(last) = self.stall_log.last_mut()
                && last.0 == t
                && last.2.is_none()
            {
                last.2 = Some(waited);
            }
        }
        let over = self.window > MAX_WINDOW && before <= MAX_WINDOW;
        if over {
            self.overflows += 1;
        }
        over
    }
}

impl Default for FlowStats {
    fn default() -> Self {
        FlowStats::new(DEFAULT_WINDOW)
    }
}

/// One frame in a stream's (or the connection's) frame list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameEntry {
    pub dir: usize,
    pub frame_type: u8,
    pub flags: u8,
    pub length: u32,
    /// Offset of the frame header in its direction (from the first byte fed).
    pub offset: u64,
    /// The packet that completed the frame.
    pub packet: u64,
    pub ts: Timestamp,
    /// After a DATA or WINDOW_UPDATE: the sender's stream window (the connection's for
    /// stream 0), and for DATA the connection window.
    pub window: Option<i64>,
    pub connection_window: Option<i64>,
}

/// A bounded list of frames and the count of those left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameList {
    pub frames: Vec<FrameEntry>,
    pub dropped: u64,
}

/// Frames kept per stream and for the connection (stream 0).
pub const MAX_FRAMES: usize = 64;

impl FrameList {
    pub fn push(&mut self, e: FrameEntry) {
        if self.frames.len() < MAX_FRAMES {
            self.frames.push(e);
        } else {
            self.dropped += 1;
        }
    }
}

/// One SETTINGS frame (not an ACK): who sent it, when, what, and when its ACK came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsEntry {
    pub dir: usize,
    pub ts: Timestamp,
    pub offset: u64,
    pub settings: Vec<(u16, u32)>,
    /// Nanoseconds until the peer's ACK (§6.5.3: ACKs come in order).
    pub ack_ns: Option<u64>,
}

/// SETTINGS frames kept per connection.
pub const MAX_SETTINGS_FRAMES: usize = 16;
/// PINGs awaiting their ACK per direction; an older one is forgotten past this.
pub const MAX_PINGS_OUTSTANDING: usize = 16;
/// Round-trip times kept per direction (the first ones; the rest only in min/max/count).
pub const MAX_RTT_SAMPLES: usize = 64;

/// The PINGs one direction sent and the round trips their ACKs gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PingStats {
    pub sent: u64,
    pub acked: u64,
    /// Opaque data and time of PINGs not yet answered (at most [`MAX_PINGS_OUTSTANDING`]).
    pub outstanding: Vec<([u8; 8], Timestamp)>,
    /// The first [`MAX_RTT_SAMPLES`] round trips, in nanoseconds.
    pub rtt_ns: Vec<u64>,
    pub min_ns: Option<u64>,
    pub max_ns: Option<u64>,
}

impl PingStats {
    /// A PING (not an ACK) with `data`.
    pub fn ping(&mut self, data: [u8; 8], now: Timestamp) {
        self.sent += 1;
        if self.outstanding.len() >= MAX_PINGS_OUTSTANDING {
            self.outstanding.remove(0);
        }
        self.outstanding.push((data, now));
    }

    /// The peer's PING ACK with `data`: the round trip, when it answers one of ours.
    pub fn ack(&mut self, data: [u8; 8], now: Timestamp) -> Option<u64> {
        let i = self.outstanding.iter().position(|(d, _)| *d == data)?;
        let (_, t) = self.outstanding.remove(i);
        let rtt = u64::try_from(now.saturating_sub(t)).unwrap_or(0);
        self.acked += 1;
        if self.rtt_ns.len() < MAX_RTT_SAMPLES {
            self.rtt_ns.push(rtt);
        }
        self.min_ns = Some(self.min_ns.map_or(rtt, |m| m.min(rtt)));
        self.max_ns = Some(self.max_ns.map_or(rtt, |m| m.max(rtt)));
        Some(rtt)
    }

    /// The median of the kept round trips.
    pub fn median_ns(&self) -> Option<u64> {
        let mut v = self.rtt_ns.clone();
        v.sort_unstable();
        let n = v.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => v.get(n / 2).copied(),
            _ => Some((v.get(n / 2 - 1)? + v.get(n / 2)?) / 2),
        }
    }
}

/// The frame's flags by name for its type (§6), `|`-separated; bits without a name for this
/// type as hex (`0x40`). Empty when none is set.
pub fn flag_names(frame_type: u8, flags: u8) -> String {
    use super::frame::*;
    let named: &[(u8, &str)] = match frame_type {
        DATA => &[(END_STREAM, "END_STREAM"), (PADDED, "PADDED")],
        HEADERS => &[
            (END_STREAM, "END_STREAM"),
            (END_HEADERS, "END_HEADERS"),
            (PADDED, "PADDED"),
            (PRIORITY_FLAG, "PRIORITY"),
        ],
        SETTINGS | PING => &[(ACK, "ACK")],
        PUSH_PROMISE => &[(END_HEADERS, "END_HEADERS"), (PADDED, "PADDED")],
        CONTINUATION => &[(END_HEADERS, "END_HEADERS")],
        _ => &[],
    };
    let mut parts: Vec<String> = Vec::new();
    let mut rest = flags;
    for &(bit, name) in named {
        if flags & bit != 0 {
            parts.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#04x}"));
    }
    parts.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_used_up_stalls_once_until_an_update() {
        let mut f = FlowStats::new(1024);
        assert!(!f.data(1000, 0));
        assert!(!f.check_stall(Timestamp(1), 1));
        assert!(!f.data(24, 0));
        assert!(f.check_stall(Timestamp(10), 1));
        assert!(!f.check_stall(Timestamp(11), 1), "counted once");
        assert!(!f.update(1024, Timestamp(30)));
        assert_eq!(
            (f.stalls, f.stalled_ns, f.window, f.min_window),
            (1, 20, 1024, Some(0))
        );
        assert_eq!(f.stall_log, [(Timestamp(10), 1, Some(20))]);
        assert!(f.data(2000, 0), "a frame beyond the window");
        assert_eq!((f.violations, f.window), (1, -976));
        assert!(!f.data(0, 2000), "slack of an unacknowledged lower setting");
        assert!(f.update(0x7fff_ffff, Timestamp(40)) || f.window <= MAX_WINDOW);
        let mut g = FlowStats::new(MAX_WINDOW);
        assert!(g.update(1, Timestamp(0)));
        assert_eq!(g.overflows, 1);
    }

    #[test]
    fn pings_are_matched_by_their_data() {
        let mut p = PingStats::default();
        p.ping(*b"aaaaaaaa", Timestamp(0));
        p.ping(*b"bbbbbbbb", Timestamp(5));
        assert_eq!(p.ack(*b"cccccccc", Timestamp(6)), None);
        assert_eq!(p.ack(*b"bbbbbbbb", Timestamp(9)), Some(4));
        assert_eq!(p.ack(*b"aaaaaaaa", Timestamp(10)), Some(10));
        assert_eq!(p.ack(*b"aaaaaaaa", Timestamp(11)), None, "answered once");
        assert_eq!(
            (p.min_ns, p.max_ns, p.median_ns()),
            (Some(4), Some(10), Some(7))
        );
        for i in 0..40u8 {
            p.ping([i; 8], Timestamp(0));
        }
        assert_eq!(p.outstanding.len(), MAX_PINGS_OUTSTANDING);
    }

    #[test]
    fn flags_by_name() {
        assert_eq!(flag_names(1, 0x05), "END_STREAM|END_HEADERS");
        assert_eq!(flag_names(4, 0x01), "ACK");
        assert_eq!(flag_names(0, 0x00), "");
        assert_eq!(flag_names(0, 0x41), "END_STREAM|0x40");
        assert_eq!(flag_names(8, 0x01), "0x01");
    }
}
