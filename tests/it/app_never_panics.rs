//! Arbitrary traffic through the whole pipeline with every analyzer on never panics and keeps
//! the buffers balanced. Payloads are biased towards the protocols' first bytes (HTTP, TLS,
//! SOCKS, WebSocket frames, ranges and cookies, the HTTP/2 preface and frames, h2c upgrades) so the analyzers, not
//! only the probe, see hostile input.

use crate::common::*;
use hopscope::analyzers::AnalyzerConfig;
use hopscope::engine::EngineConfig;
use hopscope::model::Record;
use hopscope::pipeline::{CaptureClock, Pipeline};
use proptest::prelude::*;

const PREFIXES: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=b\r\nContent-Length: 60\r\n\r\n--b\r\nContent-Range: bytes 0-1/9\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: h\r\nOrigin: http://o\r\nCookie: a=b\r\nRange: bytes=0-\r\nIf-None-Match: \"x\"\r\n",
    b"\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03",
    b"\x05\x01\x00",
    b"\x05\x00",
    b"\x04\x01\x00\x50\x7f\x00\x00\x01user\x00",
    b"\x81\x85\x01\x02\x03\x04",
    // HTTP/2: the client preface (alone, and with a SETTINGS frame header), a server's
    // SETTINGS, a HEADERS frame header, and an h2c upgrade with its 101.
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x06\x04\x00\x00\x00\x00\x00",
    b"\x00\x00\x00\x04\x00\x00\x00\x00\x00",
    b"\x00\x00\x10\x01\x05\x00\x00\x00\x01",
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
    b"",
];

/// Index of the bare client preface in [`PREFIXES`].
const PREFACE: usize = 11;

type Op = (u8, usize, Vec<u8>, u32, u8);

/// Runs one conversation of (direction, prefix, body, sequence skew, flags) segments; returns
/// the records and the bytes still buffered at the end.
fn run(ops: Vec<Op>) -> (Vec<Record>, usize) {
    let mut cfg = AnalyzerConfig::default();
    cfg.http.preview = 64;
    cfg.ws.frames = true;
    // The whole pipeline, proxy-hop correlation and the semantics step too, as `hopscope
    // report` runs it.
    let mut p = Pipeline::new(EngineConfig::default(), cfg, Vec::new());
    let (mut sc, mut ss) = (1000u32, 5000u32);
    let mut s = Script::new();
    s.push(tcp4(C, S, SYN, 999, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, 4999, 1000, b""));
    for (dir, pre, body, skew, flags) in ops {
        let mut payload = PREFIXES[pre].to_vec();
        payload.extend_from_slice(&body);
        let extra =
            if flags & 0x80 != 0 { FIN } else { 0 } | if flags & 0x40 != 0 { RST } else { 0 };
        if dir == 0 {
            let seq = if flags & 1 != 0 {
                sc.wrapping_add(skew)
            } else {
                sc
            };
            s.push(tcp4(C, S, ACK | PSH | extra, seq, ss, &payload));
            sc = sc.wrapping_add(payload.len() as u32);
        } else {
            let seq = if flags & 1 != 0 {
                ss.wrapping_sub(skew)
            } else {
                ss
            };
            s.push(tcp4(S, C, ACK | PSH | extra, seq, sc, &payload));
            ss = ss.wrapping_add(payload.len() as u32);
        }
    }
    let end = p.run(&mut Packets::new(&s.pkts), &CaptureClock);
    assert!(end.sink_error.is_none());
    let buffered = p.shard().buffered_bytes();
    (p.into_sink(), buffered)
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(
        (
            0u8..2,
            0usize..PREFIXES.len(),
            proptest::collection::vec(any::<u8>(), 0..120),
            0u32..3000,
            any::<u8>(),
        ),
        1..40,
    )
}

/// The probe path the HTTP/2 cases below rely on: a client that starts with the preface is
/// followed as HTTP/2 by this harness.
#[test]
fn a_conversation_that_starts_with_the_preface_reaches_http2() {
    assert_eq!(PREFIXES[PREFACE], b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    let (out, _) = run(vec![
        (0, PREFACE, Vec::new(), 0, 0),
        (1, PREFACE + 2, Vec::new(), 0, 0),
    ]);
    assert!(
        out.iter()
            .any(|r| matches!(r, Record::Http2(h) if h.mode == "prior-knowledge"))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn arbitrary_conversations_never_panic(ops in ops()) {
        let (_, buffered) = run(ops);
        prop_assert_eq!(buffered, 0);
    }

    /// The client starts with the HTTP/2 preface: hostile frames go to the HTTP/2 follower.
    #[test]
    fn arbitrary_http2_conversations_never_panic(ops in ops()) {
        let mut all = vec![(0, PREFACE, Vec::new(), 0, 0)];
        all.extend(ops);
        let (_, buffered) = run(all);
        prop_assert_eq!(buffered, 0);
    }
}
