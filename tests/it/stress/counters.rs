//! Counters that count what was seen (issue 13 item 4): a WebSocket frame that declares
//! 2^63 − 1 bytes, bytes that arrive after their hole was given up, an absurd sequence jump.

use super::cases::net::{JUMP, LATE_AFTER, LATE_HOLE};

/// Ignored in `seq-jump` at scale 3: the first and third jumped segments and the server's
/// acknowledgments of them, the client's FIN after the third and the server's
/// acknowledgment of that FIN.
const SEQ_JUMPS: u64 = 6;
use super::{analyse, count};

/// Bytes the frame of `ws-huge-frame` carries at this scale (KiB).
const SEEN_KIB: u64 = 4;

#[test]
fn huge_websocket_frame_is_analysed_as_far_as_captured() {
    let (_m, run) = analyse("ws-huge-frame", SEEN_KIB);
    assert_eq!(run.websockets.len(), 1);
    let s = &run.websockets[0].server_to_client;
    assert_eq!(s.frames, 1);
    assert_eq!(
        s.message_bytes,
        SEEN_KIB * 1024,
        "the message holds what was seen"
    );
}

#[test]
fn huge_websocket_frame_counts_the_payload_seen() {
    let (_m, run) = analyse("ws-huge-frame", SEEN_KIB);
    let s = &run.websockets[0].server_to_client;
    assert_eq!(s.payload_bytes, SEEN_KIB * 1024);
    assert_eq!(
        s.declared_bytes,
        (1 << 63) - 1,
        "the declared length has its own field"
    );
    let captured = run.connections[0].server_to_client.bytes;
    assert!(s.payload_bytes <= captured);
}

#[test]
fn late_data_hole_is_given_up_at_the_out_of_order_limit() {
    let (_m, run) = analyse("late-data", 2);
    assert_eq!(run.summary.tcp.ooo_limit_hits, 2);
    assert_eq!(count(&run.codes(), "tcp.ooo-limit"), 2);
    for c in &run.connections {
        let d = &c.client_to_server;
        assert_eq!(d.gaps, 1);
        assert_eq!(d.missing_bytes, LATE_HOLE as u64);
        assert_eq!(
            d.bytes, LATE_AFTER as u64,
            "the bytes after the hole are delivered"
        );
    }
}

#[test]
fn late_data_is_named_and_the_gap_blames_the_limit() {
    let (_m, run) = analyse("late-data", 2);
    let late: Vec<_> = run
        .findings
        .iter()
        .filter(|f| f.code.name == "tcp.late-data")
        .collect();
    assert_eq!(late.len(), 2, "{:?}", run.codes());
    for f in late {
        assert!(f.message.contains(&LATE_HOLE.to_string()), "{}", f.message);
    }
    for c in &run.connections {
        assert_eq!(
            c.client_to_server.retransmitted, 0,
            "late data is no retransmission"
        );
        assert_eq!(c.client_to_server.late_bytes, LATE_HOLE as u64);
    }
    for f in run.findings.iter().filter(|f| f.code.name == "tcp.gap") {
        assert!(
            !f.message.contains("not captured"),
            "the ooo limit dropped these bytes: {}",
            f.message
        );
    }
}

/// A segment further than any window from the stream is not taken as its data (the choice
/// documented under `sequence_jumps` in docs/json-format.md): the request stays whole and
/// nothing is missing. The second jump lands, in 32-bit sequence space, 500 bytes before the
/// stream's start (within a window): it is counted as a retransmission of bytes before the
/// start, as any such segment is.
#[test]
fn sequence_jumps_are_ignored_and_the_stream_goes_on() {
    let (_m, run) = analyse("seq-jump", 3);
    assert_eq!(run.connections.len(), 1);
    let d = &run.connections[0].client_to_server;
    assert_eq!((d.gaps, d.missing_bytes), (0, 0));
    assert_eq!(d.bytes, 41, "the request; no jumped segment is taken");
    assert_eq!(d.retransmitted, 1);
    assert_eq!(d.sequence_jumps, SEQ_JUMPS);
    assert_eq!(run.transactions.len(), 1);
}

#[test]
fn absurd_sequence_jump_is_a_finding_not_missing_bytes() {
    let (_m, run) = analyse("seq-jump", 3);
    let d = &run.connections[0].client_to_server;
    // No TCP window is larger than 2^30 bytes (RFC 7323 §2.3).
    assert!(
        d.missing_bytes < 1 << 30,
        "missing_bytes {} after 3 jumps of {JUMP}",
        d.missing_bytes
    );
    let codes = run.codes();
    assert!(
        codes
            .iter()
            .any(|c| c.starts_with("tcp.") && c != "tcp.gap"),
        "a finding names the jump: {codes:?}"
    );
}
