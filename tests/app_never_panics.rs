//! Arbitrary traffic through the whole pipeline with every analyzer on never panics and keeps
//! the buffers balanced. Payloads are biased towards the protocols' first bytes (HTTP, TLS,
//! SOCKS, WebSocket frames) so the analyzers, not only the probe, see hostile input.

mod common;

use common::*;
use hopscope::analyzers::{App, AppConfig};
use hopscope::capture::{LinkType, PacketView, Timestamp};
use hopscope::engine::{Engine, EngineConfig};
use hopscope::model::Record;
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
    b"",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn arbitrary_conversations_never_panic(
        ops in proptest::collection::vec(
            (0u8..2, 0usize..PREFIXES.len(), proptest::collection::vec(any::<u8>(), 0..120), 0u32..3000, any::<u8>()),
            1..40,
        ),
    ) {
        let mut cfg = AppConfig::default();
        cfg.http.preview = 64;
        cfg.ws.frames = true;
        let mut e = Engine::with_analyzer(EngineConfig::default(), App::new(cfg));
        // Through the semantics step too, as `hopscope report` runs it.
        let mut out = hopscope::semantics::SemanticsSink::new(Vec::<Record>::new());
        let (mut sc, mut ss) = (1000u32, 5000u32);
        let mut s = Script::new();
        s.push(tcp4(C, S, SYN, 999, 0, b""));
        s.push(tcp4(S, C, SYN | ACK, 4999, 1000, b""));
        for (dir, pre, body, skew, flags) in ops {
            let mut payload = PREFIXES[pre].to_vec();
            payload.extend_from_slice(&body);
            let extra = if flags & 0x80 != 0 { FIN } else { 0 } | if flags & 0x40 != 0 { RST } else { 0 };
            if dir == 0 {
                let seq = if flags & 1 != 0 { sc.wrapping_add(skew) } else { sc };
                s.push(tcp4(C, S, ACK | PSH | extra, seq, ss, &payload));
                sc = sc.wrapping_add(payload.len() as u32);
            } else {
                let seq = if flags & 1 != 0 { ss.wrapping_sub(skew) } else { ss };
                s.push(tcp4(S, C, ACK | PSH | extra, seq, sc, &payload));
                ss = ss.wrapping_add(payload.len() as u32);
            }
        }
        for (ts, link, data) in &s.pkts {
            let v = PacketView { ts: *ts, link: *link, data, orig_len: data.len() as u32, interface: 0 };
            e.handle_packet(&v, &mut out);
        }
        let _ = e.finish(&mut out);
        prop_assert_eq!(e.buffered_bytes(), 0);
        let _ = (LinkType::ETHERNET, Timestamp::ZERO);
    }
}
