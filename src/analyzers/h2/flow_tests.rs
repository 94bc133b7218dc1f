//! Flow control, PING round trips, SETTINGS acknowledgements and the frame lists, on byte
//! arrays (RFC 9113 §5.2, §6.5.3, §6.7, §6.9).
#![allow(clippy::unwrap_used)]
use super::tests::{client_start, frame, hpack_block, settings};
use super::*;
use crate::model::codes;

fn get(path: &str) -> Vec<u8> {
    let b = hpack_block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "a"),
    ]);
    frame(HEADERS, END_STREAM | END_HEADERS, 1, &b)
}

fn ok() -> Vec<u8> {
    frame(HEADERS, END_HEADERS, 1, &hpack_block(&[(":status", "200")]))
}

fn window_update(stream: u32, inc: u32) -> Vec<u8> {
    frame(WINDOW_UPDATE, 0, stream, &inc.to_be_bytes())
}

/// A connection whose client set SETTINGS_INITIAL_WINDOW_SIZE `w` and asked for stream 1,
/// answered with its HEADERS.
fn opened(w: u32) -> H2Conn {
    let mut c = H2Conn::new();
    let mut cl = PREFACE.to_vec();
    cl.extend(settings(&[(4, w)]));
    cl.extend(get("/"));
    c.feed(0, &cl);
    let mut sv = settings(&[]);
    sv.extend(frame(SETTINGS, ACK, 0, &[]));
    sv.extend(ok());
    c.feed(1, &sv);
    c
}

fn kinds(c: &H2Conn) -> Vec<H2NoteKind> {
    c.notes().iter().map(|n| n.kind.clone()).collect()
}

#[test]
fn windows_go_down_by_data_and_up_by_window_update() {
    let mut c = opened(100);
    c.at(Timestamp(1_000_000), 7);
    c.feed(1, &frame(DATA, 0, 1, &[b'x'; 100]));
    let f = &c.summary().streams[&1].flow[1];
    assert_eq!((f.window, f.stalls, f.min_window), (0, 1, Some(0)));
    assert_eq!(c.summary().conn_flow[1].window, DEFAULT_WINDOW - 100);
    assert_eq!(
        kinds(&c),
        [H2NoteKind::FlowControlStall {
            stream_id: 1,
            window: 0
        }]
    );
    c.at(Timestamp(11_000_000), 8);
    c.feed(0, &window_update(1, 50));
    c.feed(1, &frame(DATA, END_STREAM, 1, &[b'y'; 50]));
    let s = &c.summary().streams[&1];
    let f = &s.flow[1];
    assert_eq!(
        (f.window, f.stalls, f.window_updates, f.increments),
        (0, 1, 1, 50)
    );
    assert_eq!(f.stalled_ns, 10_000_000, "from the stall to the update");
    assert_eq!(
        (f.data_frames, f.largest_data_frame, f.data_length),
        (2, 100, 150)
    );
    // END_STREAM used the window up: the sender was done, no stall.
    assert_eq!(c.notes().len(), 1);
    // The frame list: both directions, flags by name, the window after DATA and
    // WINDOW_UPDATE.
    let fr: Vec<(usize, u8, u8, Option<i64>)> = s
        .frames
        .frames
        .iter()
        .map(|e| (e.dir, e.frame_type, e.flags, e.window))
        .collect();
    assert_eq!(
        fr,
        [
            (0, HEADERS, END_STREAM | END_HEADERS, None),
            (1, HEADERS, END_HEADERS, None),
            (1, DATA, 0, Some(0)),
            (0, WINDOW_UPDATE, 0, Some(50)),
            (1, DATA, END_STREAM, Some(0)),
        ]
    );
    assert_eq!(s.frames.frames[2].packet, 7);
    assert_eq!(
        s.frames.frames[2].connection_window,
        Some(DEFAULT_WINDOW - 100)
    );
}

#[test]
fn padding_counts_against_the_window() {
    let mut c = opened(1000);
    let mut p = vec![10u8];
    p.extend_from_slice(b"hello");
    p.extend_from_slice(&[0; 10]);
    c.feed(1, &frame(DATA, PADDED, 1, &p));
    let s = &c.summary().streams[&1];
    assert_eq!(s.data_bytes[1], 5);
    assert_eq!(s.flow[1].window, 1000 - 16);
    assert_eq!(s.flow[1].data_length, 16);
}

#[test]
fn a_data_frame_beyond_the_window_is_a_violation() {
    let mut c = opened(100);
    c.feed(1, &frame(DATA, 0, 1, &[0; 150]));
    assert_eq!(
        kinds(&c),
        [
            H2NoteKind::FlowControlViolation {
                stream_id: 1,
                length: 150,
                window: 100
            },
            H2NoteKind::FlowControlStall {
                stream_id: 1,
                window: -50
            }
        ]
    );
    assert_eq!(
        c.notes()[0].notes_code(),
        codes::H2_FLOW_CONTROL_VIOLATION.name
    );
    // Counted every time, noted once per stream.
    c.feed(0, &window_update(1, 10));
    c.feed(1, &frame(DATA, 0, 1, &[0; 20]));
    assert_eq!(c.summary().streams[&1].flow[1].violations, 2);
    assert_eq!(c.notes().len(), 2);
}

#[test]
fn the_connection_window_is_its_own() {
    let mut c = opened(0x7fff_ffff);
    for _ in 0..4 {
        c.feed(1, &frame(DATA, 0, 1, &[0; 16_383]));
    }
    c.feed(1, &frame(DATA, 0, 1, &[0; 3]));
    let s = c.summary();
    assert_eq!(s.conn_flow[1].window, 0);
    assert_eq!(s.conn_flow[1].stalls, 1);
    assert_eq!(s.streams[&1].flow[1].stalls, 0);
    assert_eq!(
        kinds(&c),
        [H2NoteKind::FlowControlStall {
            stream_id: 0,
            window: 0
        }]
    );
    c.feed(1, &frame(DATA, 0, 1, &[0; 1]));
    assert_eq!(
        kinds(&c)[1],
        H2NoteKind::FlowControlViolation {
            stream_id: 0,
            length: 1,
            window: 0
        }
    );
    c.feed(0, &window_update(0, 1000));
    let s = c.summary();
    assert_eq!(
        (s.conn_flow[1].window, s.conn_flow[1].window_updates),
        (999, 1)
    );
    assert_eq!(s.conn_frames.frames.last().unwrap().window, Some(999));
}

#[test]
fn a_settings_change_moves_open_streams_windows() {
    let mut c = opened(1000);
    c.feed(1, &frame(DATA, 0, 1, &[0; 500]));
    // Lowered to 100: the window is 100 - 500 = -400 (§6.9.2).
    c.feed(0, &settings(&[(4, 100)]));
    assert_eq!(c.summary().streams[&1].flow[1].window, -400);
    assert_eq!(c.summary().initial_window[1], 100);
    // The server sent this before reading the change: not a violation until it ACKs.
    c.feed(1, &frame(DATA, 0, 1, &[0; 200]));
    assert!(
        !codes_of(&c).contains(&codes::H2_FLOW_CONTROL_VIOLATION.name),
        "{:?}",
        kinds(&c)
    );
    c.feed(1, &frame(SETTINGS, ACK, 0, &[]));
    c.feed(1, &frame(DATA, 0, 1, &[0; 1]));
    assert!(codes_of(&c).contains(&codes::H2_FLOW_CONTROL_VIOLATION.name));
    // Raised again: the window follows, a stall ends.
    c.feed(0, &settings(&[(4, 2000)]));
    let f = &c.summary().streams[&1].flow[1];
    assert_eq!(f.window, 2000 - 701);
    assert_eq!(f.stalled_since, None);
    // A stream opened later starts at the new value.
    let mut b = hpack_block(&[(":method", "GET"), (":path", "/b")]);
    b = frame(HEADERS, END_STREAM | END_HEADERS, 3, &b);
    c.feed(0, &b);
    assert_eq!(c.summary().streams[&3].flow[1].window, 2000);
}

#[test]
fn window_overflow_is_noted() {
    let mut c = opened(100);
    c.feed(0, &window_update(0, 0x7fff_ffff));
    assert_eq!(
        kinds(&c),
        [H2NoteKind::WindowOverflow {
            stream_id: 0,
            window: DEFAULT_WINDOW + 0x7fff_ffff,
            increment: 0x7fff_ffff
        }]
    );
    // A setting that pushes an open stream's window over.
    let mut c = opened(100);
    c.feed(0, &window_update(1, 0x7fff_ffff - 100));
    assert!(kinds(&c).is_empty());
    c.feed(0, &settings(&[(4, 200)]));
    assert_eq!(codes_of(&c), [codes::H2_WINDOW_OVERFLOW.name]);
}

#[test]
fn ping_round_trips_and_settings_acks() {
    let mut c = H2Conn::new();
    c.at(Timestamp(0), 1);
    c.feed(0, &client_start());
    c.at(Timestamp(2_000_000), 2);
    let mut sv = settings(&[(3, 100)]);
    sv.extend(frame(SETTINGS, ACK, 0, &[]));
    c.feed(1, &sv);
    c.at(Timestamp(3_000_000), 3);
    let mut cl = frame(SETTINGS, ACK, 0, &[]);
    cl.extend(frame(PING, 0, 0, b"12345678"));
    cl.extend(frame(PING, 0, 0, b"abcdefgh"));
    c.feed(0, &cl);
    c.at(Timestamp(7_000_000), 4);
    let mut sv = frame(PING, ACK, 0, b"abcdefgh");
    sv.extend(frame(PING, ACK, 0, b"zzzzzzzz"));
    c.feed(1, &sv);
    c.at(Timestamp(9_000_000), 5);
    c.feed(1, &frame(PING, ACK, 0, b"12345678"));
    let s = c.summary();
    let log: Vec<_> = s
        .settings_log
        .iter()
        .map(|e| (e.dir, e.ts, e.settings.clone(), e.ack_ns))
        .collect();
    assert_eq!(
        log,
        [
            (0, Timestamp(0), vec![], Some(2_000_000)),
            (1, Timestamp(2_000_000), vec![(3, 100)], Some(1_000_000)),
        ]
    );
    let p = &s.pings[0];
    assert_eq!((p.sent, p.acked), (2, 2));
    assert_eq!(p.rtt_ns, [4_000_000, 6_000_000]);
    assert_eq!(p.median_ns(), Some(5_000_000));
    assert_eq!(s.pings[1].sent, 0);
    // Stream 0's frames are the connection's list.
    assert_eq!(s.conn_frames.frames.len(), 9);
}

#[test]
fn frame_lists_are_bounded() {
    let mut c = opened(0x7fff_ffff);
    c.feed(0, &window_update(0, 0x7fff_0000));
    for _ in 0..100 {
        c.feed(1, &frame(DATA, 0, 1, &[0; 1]));
    }
    let s = &c.summary().streams[&1];
    assert_eq!(s.frames.frames.len(), flow::MAX_FRAMES);
    assert_eq!(s.frames.dropped, 102 - flow::MAX_FRAMES as u64);
    assert_eq!(s.flow[1].data_frames, 100);
    let round = |c: &mut H2Conn| {
        for i in 0..100u64 {
            c.feed(1, &frame(DATA, 0, 1, &[0; 1]));
            c.feed(0, &frame(PING, 0, 0, &i.to_be_bytes()));
            c.feed(0, &settings(&[(3, 1)]));
        }
    };
    round(&mut c);
    let before = c.heap_bytes();
    round(&mut c);
    assert_eq!(c.heap_bytes(), before, "nothing grows past the bounds");
    // Shed: the lists go, their frames and later ones are counted.
    let freed = c.shed_frames();
    assert!(freed > 0);
    assert_eq!(c.heap_bytes(), before - freed);
    assert_eq!(c.shed_frames(), 0);
    c.feed(1, &frame(DATA, 0, 1, &[0; 1]));
    let s = &c.summary().streams[&1];
    assert!(s.frames.frames.is_empty());
    assert_eq!(s.frames.dropped, 2 + 300 + 1);
    assert_eq!(c.summary().settings_log.len(), flow::MAX_SETTINGS_FRAMES);
}

fn codes_of(c: &H2Conn) -> Vec<&'static str> {
    c.notes().iter().map(|n| n.kind.code().name).collect()
}

trait NoteCode {
    fn notes_code(&self) -> &'static str;
}

impl NoteCode for H2Note {
    fn notes_code(&self) -> &'static str {
        self.kind.code().name
    }
}
