use super::*;
use proptest::prelude::*;

/// Collects the stream as bytes, with gaps as `None` runs.
#[derive(Default, Debug)]
struct Collect {
    bytes: Vec<u8>,
    gaps: Vec<(u64, u64)>,
    causes: Vec<GapCause>,
    events: Vec<Event>,
}

impl Deliver for Collect {
    fn chunk(&mut self, offset: u64, chunk: Chunk<'_>) {
        let have = self.bytes.len() as u64 + self.gaps.iter().map(|g| g.1).sum::<u64>();
        assert_eq!(offset, have, "chunks must be contiguous");
        match chunk {
            Chunk::Data(d) => self.bytes.extend_from_slice(d),
            Chunk::Gap(n, cause) => {
                self.gaps.push((offset, n));
                self.causes.push(cause);
            }
        }
    }
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }
}

struct H {
    s: HalfStream,
    l: Limits,
    b: Budget,
    c: Collect,
}

impl H {
    fn new() -> Self {
        H::with(Limits::default())
    }
    fn with(l: Limits) -> Self {
        H {
            s: HalfStream::default(),
            l,
            b: Budget::new(64 << 20),
            c: Collect::default(),
        }
    }
    fn syn(&mut self, isn: u32) {
        assert!(self.s.syn(isn));
    }
    fn seg(&mut self, seq: u32, data: &[u8]) {
        self.s.segment(
            Timestamp(0),
            seq,
            data,
            0,
            false,
            &self.l,
            &mut self.b,
            &mut self.c,
        );
    }
    fn seg_at(&mut self, ts: i64, seq: u32, data: &[u8]) {
        self.s.segment(
            Timestamp(ts),
            seq,
            data,
            0,
            false,
            &self.l,
            &mut self.b,
            &mut self.c,
        );
    }
    fn ack(&mut self, ack: u32) {
        self.s.peer_ack(ack, &self.l, &mut self.b, &mut self.c);
    }
    fn flush(&mut self) {
        self.s
            .flush(&self.l, &mut self.b, &mut self.c, GapCause::Ended);
    }
    fn seg_fin(&mut self, seq: u32, data: &[u8]) {
        self.s.segment(
            Timestamp(0),
            seq,
            data,
            0,
            true,
            &self.l,
            &mut self.b,
            &mut self.c,
        );
    }
    fn jumps(&self) -> Vec<(i64, bool)> {
        self.c
            .events
            .iter()
            .filter_map(|e| match e {
                Event::SequenceJump { distance, ack, .. } => Some((*distance, *ack)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn in_order_after_syn() {
    let mut h = H::new();
    h.syn(1000);
    h.seg(1001, b"hello ");
    h.seg(1007, b"world");
    assert_eq!(h.c.bytes, b"hello world");
    assert_eq!(h.s.stats.bytes, 11);
    assert_eq!(h.s.stats.out_of_order, 0);
    assert_eq!(h.b.used, 0);
}

#[test]
fn out_of_order_is_buffered_then_delivered() {
    let mut h = H::new();
    h.syn(0);
    h.seg(11, b"KLMNOPQRST");
    h.seg(21, b"UVWXYZ");
    assert!(h.c.bytes.is_empty());
    assert_eq!(h.b.used, 16);
    h.seg(1, b"ABCDEFGHIJ");
    assert_eq!(h.c.bytes, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    assert_eq!(h.s.stats.out_of_order, 2);
    assert_eq!(h.b.used, 0, "budget returned");
}

#[test]
fn retransmission_is_deduplicated() {
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"abcdef");
    h.seg(1, b"abcdef");
    h.seg(4, b"defghi");
    assert_eq!(h.c.bytes, b"abcdefghi");
    assert_eq!(h.s.stats.retransmitted, 1);
    assert_eq!(h.s.stats.overlapping, 2);
    assert_eq!(h.s.stats.overlap_conflicts, 0);
    assert_eq!(h.s.stats.wire_bytes, 18);
}

#[test]
fn conflicting_retransmission_first_copy_wins() {
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"GET /safe HTTP/1.1\r\n");
    h.seg(6, b"evil");
    assert_eq!(h.c.bytes, b"GET /safe HTTP/1.1\r\n");
    assert_eq!(h.s.stats.overlap_conflicts, 1);
    assert_eq!(
        h.c.events,
        vec![Event::OverlapConflict { offset: 5, len: 4 }]
    );
}

#[test]
fn conflicting_buffered_overlap_first_copy_wins() {
    let mut h = H::new();
    h.syn(0);
    h.seg(5, b"EFGH");
    h.seg(7, b"xyIJ"); // G,H differ from the buffered copy
    h.seg(1, b"ABCD");
    assert_eq!(h.c.bytes, b"ABCDEFGHIJ");
    assert_eq!(
        h.c.events,
        vec![Event::OverlapConflict { offset: 6, len: 2 }]
    );
}

#[test]
fn retransmission_far_behind_but_unacknowledged_is_still_compared() {
    // The sender may retransmit anything the peer has not acknowledged; a conflict there is
    // found however much was delivered after it (up to the per-direction bound).
    let mut h = H::new();
    h.syn(0);
    let data: Vec<u8> = (0..20_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    h.seg(1, &data);
    h.seg(101, b"XXXX");
    assert_eq!(
        h.c.events,
        vec![Event::OverlapConflict {
            offset: 100,
            len: 4
        }]
    );
    assert_eq!(h.s.stats.overlap_unverified_bytes, 0);
    assert_eq!(h.b.retained, 20_000);
}

#[test]
fn acknowledged_bytes_are_released_and_counted_unverified() {
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"0123456789");
    h.ack(9); // the peer has bytes 0..8
    assert_eq!(h.s.retained_len(), 2);
    h.seg(1, b"01234567XY"); // the first 8 cannot be compared any more, the last 2 differ
    assert_eq!(h.s.stats.overlap_unverified_bytes, 8);
    assert_eq!(
        h.c.events,
        vec![Event::OverlapConflict { offset: 8, len: 2 }]
    );
    h.s.release_window(&mut h.b);
    assert_eq!(h.b.retained, 0);
}

#[test]
fn retention_is_bounded_per_direction_and_across_flows() {
    let mut h = H::with(Limits {
        overlap_window: 100,
        ..Limits::default()
    });
    h.syn(0);
    h.seg(1, &[b'x'; 1000]);
    assert_eq!(h.s.retained_len(), 100);
    h.seg(801, &[b'y'; 10]); // offset 800..810: older than the window
    assert_eq!(h.s.stats.overlap_unverified_bytes, 10);
    assert!(h.c.events.is_empty());
    // A shared bound smaller than one delivery: nothing retained, nothing breaks.
    let mut g = H::new();
    g.b.retained_cap = 50;
    g.syn(0);
    g.seg(1, &[b'x'; 100]);
    assert_eq!(g.b.retained, 0);
    assert_eq!(g.s.retained_len(), 0);
    g.seg(1, &[b'z'; 100]);
    assert_eq!(g.s.stats.overlap_unverified_bytes, 100);
    assert_eq!(g.c.bytes, vec![b'x'; 100]);
}

#[test]
fn a_gap_resets_the_retained_bytes() {
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"abcd");
    h.seg(9, b"ijkl"); // hole at 4..8
    h.flush();
    assert_eq!(h.c.gaps, vec![(4, 4)]);
    // The bytes after the gap are retained, those before are not contiguous and were dropped.
    assert_eq!(h.s.retained_len(), 4);
    h.seg(9, b"ijkX");
    assert_eq!(
        h.c.events,
        vec![Event::OverlapConflict { offset: 11, len: 4 }]
    );
}

#[test]
fn ack_proves_loss_and_emits_gap() {
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"0123456789");
    h.seg(21, b"KLMNO");
    assert_eq!(h.c.bytes, b"0123456789");
    // The receiver acknowledged past the hole: the missing bytes were received, never seen.
    h.ack(26);
    assert_eq!(h.c.gaps, vec![(10, 10)]);
    assert_eq!(h.c.bytes, b"0123456789KLMNO");
    assert_eq!(h.s.stats.missing_bytes, 10);
    assert_eq!(h.s.offset(), 25);
}

#[test]
fn ack_below_hole_does_not_gap() {
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"0123456789");
    h.seg(21, b"KLMNO");
    h.ack(11);
    assert!(h.c.gaps.is_empty());
    h.seg(11, b"ABCDEFGHIJ");
    assert_eq!(h.c.bytes, b"0123456789ABCDEFGHIJKLMNO");
}

#[test]
fn flush_turns_holes_into_gaps() {
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"ab");
    h.seg(6, b"fg");
    h.flush();
    assert_eq!(h.c.bytes, b"abfg");
    assert_eq!(h.c.gaps, vec![(2, 3)]);
}

#[test]
fn sequence_wraparound() {
    let mut h = H::new();
    h.syn(u32::MAX - 3);
    h.seg(u32::MAX - 2, b"abc");
    h.seg(2, b"fgh"); // ahead of the hole, past the wrap
    h.seg(0, b"de");
    assert_eq!(h.c.bytes, b"abcdefgh");
    assert_eq!(h.s.offset(), 8);
}

#[test]
fn midstream_start_takes_lowest_reordered_segment() {
    let mut h = H::new();
    h.seg_at(0, 5010, b"klmnopqrst");
    h.seg_at(1_000, 5000, b"abcdefghij");
    h.seg_at(2_000, 5020, b"uvwxyz");
    assert!(h.c.bytes.is_empty(), "held while the start is unknown");
    // Half a second of packet time later the start is chosen.
    h.seg_at(600_000_000, 5026, b"!");
    assert_eq!(h.c.bytes, b"abcdefghijklmnopqrstuvwxyz!");
    assert!(h.s.midstream);
}

#[test]
fn midstream_hold_released_by_peer_ack() {
    let mut h = H::new();
    h.seg(7000, b"abc");
    h.ack(7003);
    assert_eq!(h.c.bytes, b"abc");
    h.seg(7003, b"def");
    assert_eq!(h.c.bytes, b"abcdef");
}

#[test]
fn midstream_flushed_at_end() {
    let mut h = H::new();
    h.seg(42, b"xyz");
    h.flush();
    assert_eq!(h.c.bytes, b"xyz");
}

#[test]
fn ooo_limit_gives_up_hole() {
    let mut h = H::with(Limits {
        max_ooo_bytes: 10,
        ..Limits::default()
    });
    h.syn(0);
    h.seg(1, b"a");
    h.seg(11, b"0123456");
    h.seg(18, b"789ABC");
    assert_eq!(h.c.gaps, vec![(1, 9)]);
    assert_eq!(h.c.bytes, b"a0123456789ABC");
    assert!(matches!(
        h.c.events[0],
        Event::OooLimit { offset: 1, gap: 9 }
    ));
    assert_eq!(h.b.used, 0);
}

#[test]
fn budget_limit_gives_up_hole() {
    let mut h = H::new();
    h.b = Budget::new(4);
    h.syn(0);
    h.seg(3, b"cdefgh");
    assert_eq!(h.c.gaps, vec![(0, 2)]);
    assert_eq!(h.c.bytes, b"cdefgh");
    assert_eq!(h.b.hits, 1);
}

#[test]
fn snaplen_cut_payload_becomes_gap() {
    let mut h = H::new();
    h.syn(0);
    h.s.segment(
        Timestamp(0),
        1,
        b"GET /",
        95,
        false,
        &h.l,
        &mut h.b,
        &mut h.c,
    );
    h.seg(101, b"next");
    assert_eq!(h.c.bytes, b"GET /next");
    assert_eq!(h.c.gaps, vec![(5, 95)]);
}

#[test]
fn fin_marks_finished() {
    let mut h = H::new();
    h.syn(0);
    h.s.segment(Timestamp(0), 1, b"bye", 0, true, &h.l, &mut h.b, &mut h.c);
    assert!(h.s.finished);
}

#[test]
fn data_before_stream_start_is_ignored() {
    let mut h = H::new();
    h.syn(100);
    h.seg(90, b"0123456789ab"); // 11 bytes before the start, one after
    assert_eq!(h.c.bytes, b"b");
}

#[test]
fn each_gap_carries_its_cause() {
    // The receiver acknowledged bytes the capture never had.
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"ab");
    h.seg(11, b"kl");
    h.ack(13);
    assert_eq!(h.c.causes, vec![GapCause::Acked]);

    // The connection ended with the hole open; then the FIN beyond what was seen.
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"ab");
    h.seg(11, b"kl");
    h.seg_fin(21, b"");
    h.flush();
    assert_eq!(h.c.gaps, vec![(2, 8), (12, 8)]);
    assert_eq!(h.c.causes, vec![GapCause::Ended, GapCause::Ended]);

    // An evicted connection's holes are the flow bound's doing.
    let mut h = H::new();
    h.syn(0);
    h.seg(11, b"kl");
    h.s.flush(&h.l, &mut h.b, &mut h.c, GapCause::FlowLimit);
    assert_eq!(h.c.causes, vec![GapCause::FlowLimit]);
    assert!(GapCause::FlowLimit.by_limit() && !GapCause::Ended.by_limit());

    // The snaplen cut a segment: on the wire, not in the file.
    let mut h = H::new();
    h.syn(0);
    h.s.segment(Timestamp(0), 1, b"GET", 7, false, &h.l, &mut h.b, &mut h.c);
    assert_eq!(h.c.causes, vec![GapCause::Snaplen]);

    // Both bounds.
    let mut h = H::with(Limits {
        max_ooo_bytes: 4,
        ..Limits::default()
    });
    h.syn(0);
    h.seg(11, b"klmnop");
    assert_eq!(h.c.causes, vec![GapCause::OooLimit]);
    assert!(GapCause::OooLimit.by_limit());
    let mut h = H::new();
    h.b = Budget::new(4);
    h.syn(0);
    h.seg(3, b"cdefgh");
    assert_eq!(h.c.causes, vec![GapCause::BufferLimit]);
}

#[test]
fn late_data_after_an_ooo_limit_give_up_is_not_a_retransmission() {
    let mut h = H::with(Limits {
        max_ooo_bytes: 10,
        ..Limits::default()
    });
    h.syn(0);
    h.seg(1, b"a");
    h.seg(11, b"0123456");
    h.seg(18, b"789ABC"); // the bound: [1, 10) is given up
    assert_eq!(h.c.gaps, vec![(1, 9)]);
    h.c.events.clear();
    // The missing bytes arrive after all, in two pieces, one of them twice.
    h.seg(2, b"bcdef");
    h.seg(7, b"ghi");
    h.seg(7, b"ghi");
    assert_eq!(h.s.stats.late_bytes, 8, "each late byte once");
    assert_eq!(h.s.stats.retransmitted, 1, "only the second copy");
    assert_eq!(
        h.c.events,
        vec![
            Event::LateData {
                offset: 1,
                len: 5,
                cause: GapCause::OooLimit,
                nth: 1
            },
            Event::LateData {
                offset: 6,
                len: 3,
                cause: GapCause::OooLimit,
                nth: 2
            },
        ]
    );
    assert_eq!(h.c.bytes, b"a0123456789ABC", "late bytes are not analysed");
    assert!(h.s.stats.late_bytes <= h.s.stats.missing_bytes);
    // Late bytes are not overlapping ones, and not unverified overlap either.
    assert_eq!(h.s.stats.overlapping, 1);
    assert_eq!(h.s.stats.overlap_unverified_bytes, 3);
}

#[test]
fn late_data_after_an_ack_give_up_straddling_delivered_bytes() {
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"0123456789");
    h.seg(21, b"KLMNO");
    h.ack(26); // [10, 20) given up: the capture had the ACK before the data
    assert_eq!(h.c.causes, vec![GapCause::Acked]);
    // A segment covering the end of the delivered data, the hole, the bytes after it and
    // two new ones.
    h.seg(10, b"9abcdefghijKLMNOPQ");
    assert_eq!(h.s.stats.late_bytes, 10);
    assert_eq!(h.s.stats.retransmitted, 0);
    assert_eq!(
        h.s.stats.overlapping, 1,
        "it overlapped bytes that were seen"
    );
    assert!(h.c.events.contains(&Event::LateData {
        offset: 10,
        len: 10,
        cause: GapCause::Acked,
        nth: 1
    }));
    assert_eq!(h.c.bytes, b"0123456789KLMNOPQ", "the new tail is delivered");
}

#[test]
fn a_3_gb_sequence_jump_is_ignored_not_missing() {
    let mut h = H::new();
    h.syn(1000);
    h.seg(1001, b"hello ");
    // 3,000,000,000 bytes ahead: past 2^31, so in 32-bit sequence space it lands ~1.29 GB
    // behind the start; either way no window reaches it.
    h.seg(1007u32.wrapping_add(3_000_000_000), b"injected");
    h.seg(1007, b"world");
    h.flush();
    assert_eq!(h.c.bytes, b"hello world");
    assert!(h.c.gaps.is_empty());
    assert_eq!(h.s.stats.missing_bytes, 0);
    assert_eq!(h.s.stats.retransmitted, 0, "not a retransmission either");
    assert_eq!(h.s.stats.sequence_jumps, 1);
    // The segment's end, 3e9 - 2^32 + 8 bytes from the end of "hello ".
    assert_eq!(h.jumps(), vec![(3_000_000_000 - (1 << 32) + 8, false)]);
}

#[test]
fn a_forward_jump_beyond_any_window_is_ignored_with_its_fin_and_ack() {
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"abc");
    let far = 1 + 3 + (1u32 << 30) + 10; // 1 GiB + 10 bytes past the stream's end
    h.seg_fin(far, b"xyz");
    h.ack(far + 3); // the acknowledgment of it is no proof either
    h.seg(4, b"def");
    h.flush();
    assert_eq!(h.c.bytes, b"abcdef");
    assert_eq!(h.s.stats.missing_bytes, 0);
    assert!(!h.s.finished, "the jumped segment's FIN was not taken");
    assert_eq!(
        h.jumps(),
        vec![((1 << 30) + 13, false), ((1 << 30) + 13, true)]
    );
    assert_eq!(h.s.stats.sequence_jumps, 2);
    // Within a window is a hole, as before.
    let mut h = H::new();
    h.syn(0);
    h.seg(1, b"abc");
    h.seg((1 << 30) - 100, b"xyz");
    h.flush();
    assert_eq!(h.s.stats.sequence_jumps, 0);
    assert_eq!(h.c.gaps.len(), 1);
}

#[test]
fn midstream_start_is_not_taken_from_a_far_segment() {
    let mut h = H::new();
    h.seg(5000, b"abc");
    h.seg(5000u32.wrapping_sub(1_500_000_000), b"far"); // "lower", but no window away
    h.seg(5003, b"def");
    h.flush();
    assert_eq!(h.c.bytes, b"abcdef");
    assert_eq!(h.s.stats.sequence_jumps, 1);
    assert_eq!(h.s.stats.missing_bytes, 0);
}

/// Cuts `data` into segments at random points, with duplicates and overlaps.
fn segments(data: Vec<u8>) -> impl Strategy<Value = (Vec<u8>, Vec<(usize, usize)>)> {
    let n = data.len();
    (
        proptest::collection::vec((0..n, 1..64usize), 0..40),
        Just(data),
    )
        .prop_map(move |(extra, data)| {
            // A covering segmentation plus random overlapping extras.
            let mut segs = Vec::new();
            let mut i = 0;
            let mut k = 0;
            while i < n {
                let len = 1 + (k * 7919 + n) % 50;
                let end = (i + len).min(n);
                segs.push((i, end));
                i = end;
                k += 1;
            }
            for (s, l) in extra {
                segs.push((s, (s + l).min(n)));
            }
            (data, segs)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any reordering, duplication or overlapping re-segmentation reassembles to the same bytes.
    #[test]
    fn any_resegmentation_gives_the_same_stream(
        (data, mut segs) in proptest::collection::vec(any::<u8>(), 1..400).prop_flat_map(segments),
        seed in any::<u64>(),
        isn in any::<u32>(),
    ) {
        // Deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..segs.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            segs.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut h = H::new();
        h.syn(isn);
        for (s, e) in &segs {
            let seq = isn.wrapping_add(1).wrapping_add(*s as u32);
            h.seg(seq, &data[*s..*e]);
        }
        h.flush();
        prop_assert_eq!(&h.c.bytes, &data);
        prop_assert!(h.c.gaps.is_empty());
        prop_assert_eq!(h.s.stats.overlap_conflicts, 0);
        prop_assert_eq!(h.b.used, 0);
    }

    /// Same without a SYN: the lowest segment becomes the start when it is held in time.
    #[test]
    fn midstream_resegmentation_gives_the_same_stream(
        (data, segs) in proptest::collection::vec(any::<u8>(), 1..400).prop_flat_map(segments),
        isn in any::<u32>(),
    ) {
        // Put the first segment somewhere in the first few: it is still found.
        let mut segs = segs;
        if segs.len() > 3 { segs.swap(0, 2); }
        let mut h = H::with(Limits { midstream_hold_segments: 1000, midstream_hold_bytes: 1 << 20, ..Limits::default() });
        for (s, e) in &segs {
            h.seg(isn.wrapping_add(*s as u32), &data[*s..*e]);
        }
        h.flush();
        prop_assert_eq!(&h.c.bytes, &data);
    }

    /// Arbitrary segments and ACKs: every packet moves the stream by at most one window, so
    /// the stream's length (data and missing bytes) stays within what the packets could
    /// prove, late bytes are part of the missing ones, and delivered data was fed.
    #[test]
    fn counters_stay_bounded_by_plausibility(ops in proptest::collection::vec((any::<u8>(), any::<u32>(), proptest::collection::vec(any::<u8>(), 0..100), 0u32..2000), 0..60), isn in any::<u32>()) {
        let reach = 5000u64;
        let mut h = H::with(Limits { max_ooo_bytes: 300, max_ooo_segments: 5, max_seq_jump: reach, ..Limits::default() });
        h.b = Budget::new(1000);
        h.syn(isn);
        let mut fed = 0u64;
        let n = ops.len() as u64;
        for (op, seq, data, tail) in ops {
            // Mostly near the stream, sometimes anywhere in sequence space.
            let seq = if op & 16 == 0 { isn.wrapping_add(seq % 20_000) } else { seq };
            match op % 3 {
                0 => h.ack(seq),
                1 => h.seg(seq, &data),
                _ => h.s.segment(Timestamp(0), seq, &data, tail, op & 8 != 0, &h.l, &mut h.b, &mut h.c),
            }
            fed += data.len() as u64;
        }
        h.flush();
        let st = &h.s.stats;
        prop_assert!(h.s.offset() <= n * reach, "{} > {} ops x {}", h.s.offset(), n, reach);
        prop_assert_eq!(st.bytes + st.missing_bytes, h.s.offset());
        prop_assert!(st.bytes <= fed);
        prop_assert!(st.late_bytes <= st.missing_bytes);
    }

    /// Arbitrary segments and ACKs never panic and keep the budget balanced.
    #[test]
    fn arbitrary_input_never_panics(ops in proptest::collection::vec((any::<u8>(), any::<u32>(), proptest::collection::vec(any::<u8>(), 0..100), 0u32..2000), 0..60)) {
        let mut h = H::with(Limits { max_ooo_bytes: 300, max_ooo_segments: 5, ..Limits::default() });
        h.b = Budget::new(1000);
        for (op, seq, data, tail) in ops {
            match op % 5 {
                0 => { h.s.syn(seq); }
                1 => h.ack(seq),
                2 => h.s.segment(Timestamp(i64::from(seq)), seq, &data, tail, op & 8 != 0, &h.l, &mut h.b, &mut h.c),
                3 => h.seg(seq % 5000, &data),
                _ => h.seg(seq, &data),
            }
        }
        h.flush();
        prop_assert_eq!(h.b.used, 0);
        prop_assert!(h.s.retained_len() <= h.l.overlap_window);
        h.s.release_window(&mut h.b);
        prop_assert_eq!(h.b.retained, 0);
        let total: u64 = h.c.bytes.len() as u64 + h.c.gaps.iter().map(|g| g.1).sum::<u64>();
        prop_assert_eq!(total, h.s.offset());
    }
}
