//! WebSocket over HTTP/2 (RFC 8441), the layer driven through [`Layer`] on scripted frames:
//! the server's SETTINGS_ENABLE_CONNECT_PROTOCOL, the extended CONNECT and its answer in HPACK
//! literals, WebSocket frames in DATA frames (split anywhere), and what breaks the rules.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::frame::*;
use super::tests::{client_start, frame, hpack_block, settings};
use super::{H2Layer, PREFACE};
use crate::analyzers::http::conn::Shared as HttpShared;
use crate::analyzers::layer::{Ids, Layer};
use crate::analyzers::stack::Shared;
use crate::analyzers::websocket::{WsConfig, WsShared};
use crate::base::Timestamp;
use crate::engine::Ctx;
use crate::model::codes::{
    H2_CONNECT_PROTOCOL_NOT_ENABLED, H2_EXTENDED_CONNECT_MALFORMED, H2_EXTENDED_CONNECT_REFUSED,
    H2_GAP, H2_PROTOCOL_WITHOUT_CONNECT, H2_RESET_ERROR, H2_WEBSOCKET_LIMIT, WS_INFLATE_ERROR,
    WS_RSV_WITHOUT_EXTENSION, WS_UNCLEAN_CLOSE,
};
use crate::model::http::{BodyFraming, TransactionRecord};
use crate::model::websocket::{Side, WebSocketRecord, WsMessageRecord};
use crate::model::{Dir, Endpoint, Finding, Record};

fn ctx(d: usize, packet: u64) -> Ctx {
    let ep = |port| Endpoint {
        ip: "192.0.2.1".parse().unwrap(),
        port,
    };
    Ctx {
        conn: 7,
        dir: Dir::from_index(d),
        client: ep(40000),
        server: ep(443),
        ts: Timestamp(packet as i64 * 1_000_000),
        packet,
        midstream: false,
    }
}

/// One step: a packet of direction `d` (its bytes), or `n` bytes of it lost.
#[derive(Clone, Debug)]
enum Step {
    Send(usize, Vec<u8>),
    Lose(usize, u64),
}

/// Plays the steps through an HTTP/2 layer with prior knowledge, each its own packet, then
/// the end; `frames` lists WebSocket frames inside messages.
fn play_cfg(steps: &[Step], frames: bool) -> Vec<Record> {
    let ws = WsConfig {
        frames,
        ..WsConfig::default()
    };
    let mut sh = Shared {
        http: HttpShared::new(Default::default()),
        ws: WsShared::new(ws),
        tls: Default::default(),
        tap: None,
    };
    let mut ids = Ids::default();
    let mut layer = H2Layer::prior_knowledge(0, &ctx(0, 0), 0, true);
    let mut out = Vec::new();
    let mut off = [0u64; 2];
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Send(d, b) => {
                let c = ctx(*d, i as u64 + 1);
                layer.data(&mut sh, &mut ids, &c, off[*d], b, &mut out);
                off[*d] += b.len() as u64;
            }
            Step::Lose(d, n) => {
                let c = ctx(*d, i as u64 + 1);
                layer.gap(&mut sh, &mut ids, &c, off[*d], *n, &mut out);
                off[*d] += n;
            }
        }
    }
    layer.close(&mut sh, &mut ids, &ctx(0, steps.len() as u64 + 1), &mut out);
    out
}

fn play(steps: &[Step]) -> Vec<Record> {
    play_cfg(steps, false)
}

/// A WebSocket frame: a client's masked, a server's not.
fn ws_frame(fin: bool, rsv1: bool, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut v = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode];
    let m = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => v.push(m | n as u8),
        n => {
            v.push(m | 126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    if masked {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        v.extend_from_slice(&key);
        v.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        v.extend_from_slice(payload);
    }
    v
}

fn client_ws(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    ws_frame(fin, false, opcode, payload, true)
}

fn server_ws(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    ws_frame(fin, false, opcode, payload, false)
}

fn headers(h: &[(&str, &str)], stream: u32, flags: u8) -> Vec<u8> {
    frame(HEADERS, END_HEADERS | flags, stream, &hpack_block(h))
}

fn data(stream: u32, payload: &[u8], end: bool) -> Vec<u8> {
    frame(DATA, if end { END_STREAM } else { 0 }, stream, payload)
}

/// RFC 8441 §5's example request, on `stream`, with `extra` fields.
fn connect(stream: u32, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut h = vec![
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "https"),
        (":path", "/chat"),
        (":authority", "server.example.com"),
        ("sec-websocket-protocol", "chat, superchat"),
        ("sec-websocket-version", "13"),
        ("origin", "http://www.example.com"),
    ];
    h.extend_from_slice(extra);
    headers(&h, stream, 0)
}

fn ok(stream: u32, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut h = vec![(":status", "200"), ("sec-websocket-protocol", "chat")];
    h.extend_from_slice(extra);
    headers(&h, stream, 0)
}

fn server_settings(pairs: &[(u16, u32)]) -> Vec<u8> {
    let mut s = settings(pairs);
    s.extend(frame(SETTINGS, ACK, 0, &[]));
    s
}

/// The whole conversation on stream 1: the server enables the extended CONNECT, the client
/// opens a WebSocket, each side sends a text, a ping is answered, both close with END_STREAM.
fn conversation(ecp: &[(u16, u32)]) -> Vec<Step> {
    let mut c1 = client_start();
    c1.extend(connect(1, &[]));
    let mut c2 = data(1, &client_ws(true, 1, b"hello over h2"), false);
    c2.extend(data(1, &client_ws(true, 9, b"ping-1"), false));
    let mut s2 = data(1, &server_ws(true, 1, b"HELLO OVER H2"), false);
    s2.extend(data(1, &server_ws(true, 10, b"ping-1"), false));
    vec![
        Step::Send(1, server_settings(ecp)),
        Step::Send(0, c1),
        Step::Send(1, ok(1, &[])),
        Step::Send(0, c2),
        Step::Send(1, s2),
        Step::Send(0, data(1, &client_ws(true, 8, b"\x03\xe8bye"), true)),
        Step::Send(1, data(1, &server_ws(true, 8, b"\x03\xe8bye"), true)),
    ]
}

fn txns(recs: &[Record]) -> Vec<&TransactionRecord> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Transaction(t) => Some(&**t),
            _ => None,
        })
        .collect()
}

fn websockets(recs: &[Record]) -> Vec<&WebSocketRecord> {
    recs.iter()
        .filter_map(|r| match r {
            Record::WebSocket(w) => Some(&**w),
            _ => None,
        })
        .collect()
}

fn messages(recs: &[Record]) -> Vec<&WsMessageRecord> {
    recs.iter()
        .filter_map(|r| match r {
            Record::WsMessage(m) => Some(&**m),
            _ => None,
        })
        .collect()
}

fn findings(recs: &[Record]) -> Vec<&Finding> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Finding(f) => Some(&**f),
            _ => None,
        })
        .collect()
}

fn codes(recs: &[Record]) -> Vec<&'static str> {
    findings(recs).iter().map(|f| f.code.name).collect()
}

/// Each message as (direction, opcode, text, length, partial).
fn brief(recs: &[Record]) -> Vec<(Side, String, Option<String>, u64, bool)> {
    messages(recs)
        .iter()
        .map(|m| {
            (
                m.direction,
                m.opcode.to_string(),
                m.text.clone(),
                m.length,
                m.partial,
            )
        })
        .collect()
}

fn concat(steps: &[Step], d: usize) -> Vec<u8> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Send(x, b) if *x == d => Some(b.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn rfc8441_websocket_on_a_stream_is_a_websocket_record() {
    let steps = conversation(&[(8, 1)]);
    let recs = play(&steps);
    assert_eq!(codes(&recs), Vec::<&str>::new());
    let t = txns(&recs);
    assert_eq!(t.len(), 1);
    let t = t[0];
    let q = t.request.as_ref().unwrap();
    assert_eq!((q.method.as_str(), q.target.as_str()), ("CONNECT", "/chat"));
    // To the origin server, not a proxy (a plain CONNECT is a proxy's).
    assert!(!q.proxy_request);
    assert_eq!(t.response.as_ref().unwrap().status, 200);
    assert_eq!(t.switched_to.as_ref().unwrap().protocol, "websocket");
    // The DATA frames are the WebSocket's, not bodies.
    for b in [&q.body, &t.response.as_ref().unwrap().body] {
        assert_eq!((b.framing, b.length), (BodyFraming::None, 0));
    }
    // As after a 101: the request ends with its head, the response with the 200.
    assert_eq!(t.timing.request_end, t.timing.request_start);
    assert_eq!(t.timing.response_end, t.timing.response_start);

    let w = websockets(&recs);
    assert_eq!(w.len(), 1);
    let w = w[0];
    let h = &w.handshake;
    assert_eq!(h.http_version, Some("HTTP/2"));
    assert_eq!(h.stream_id, Some(1));
    assert_eq!(h.transaction, Some(t.id));
    assert_eq!(h.target.as_deref(), Some("/chat"));
    assert_eq!(h.host.as_deref(), Some("server.example.com"));
    assert_eq!(h.origin.as_deref(), Some("http://www.example.com"));
    assert_eq!(h.version.as_deref(), Some("13"));
    assert_eq!(h.subprotocols_offered, vec!["chat", "superchat"]);
    assert_eq!(h.subprotocol.as_deref(), Some("chat"));
    assert_eq!((h.key.as_deref(), h.accept_valid), (None, None));
    assert!(w.close.clean);
    assert_eq!(w.close.client_code, Some(1000));
    assert_eq!(w.pings.answered, 1);
    assert_eq!(w.client_to_server.frames, 3);
    assert_eq!(w.server_to_client.frames, 3);
    let text = |s: &str| Some(s.to_string());
    assert_eq!(
        brief(&recs),
        vec![
            (
                Side::Client,
                "text".into(),
                text("hello over h2"),
                13,
                false
            ),
            (Side::Client, "ping".into(), text("ping-1"), 6, false),
            (
                Side::Server,
                "text".into(),
                text("HELLO OVER H2"),
                13,
                false
            ),
            (Side::Server, "pong".into(), text("ping-1"), 6, false),
            (Side::Client, "close".into(), text("bye"), 5, false),
            (Side::Server, "close".into(), text("bye"), 5, false),
        ]
    );
    // Each message's offset is its first byte in the HTTP/2 stream: after its DATA header.
    let client = concat(&steps, 0);
    let server = concat(&steps, 1);
    for m in messages(&recs) {
        let (bytes, first) = match m.direction {
            Side::Client => (&client, client_ws(true, 1, b"hello over h2")),
            Side::Server => (&server, server_ws(true, 1, b"HELLO OVER H2")),
        };
        if m.opcode == "text" {
            let at = bytes.windows(first.len()).position(|w| w == first).unwrap();
            assert_eq!(m.stream_offset, at as u64, "{m:?}");
        }
    }
    // The transaction is reported before its WebSocket, as after a 101.
    let order: Vec<&str> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Transaction(_) => Some("txn"),
            Record::WebSocket(_) => Some("ws"),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["txn", "ws"]);
}

/// The same bytes with each step cut in two at every offset, and the WebSocket frames cut
/// across DATA frames anywhere: the same messages.
#[test]
fn rfc8441_split_anywhere() {
    let steps = conversation(&[(8, 1)]);
    let want = brief(&play(&steps));
    for (i, s) in steps.iter().enumerate() {
        let Step::Send(d, b) = s else { continue };
        for cut in 1..b.len() {
            let mut split = steps.clone();
            split.splice(
                i..=i,
                [
                    Step::Send(*d, b[..cut].to_vec()),
                    Step::Send(*d, b[cut..].to_vec()),
                ],
            );
            let recs = play(&split);
            assert_eq!(brief(&recs), want, "step {i} cut at {cut}");
            assert_eq!(codes(&recs), Vec::<&str>::new(), "step {i} cut at {cut}");
        }
    }
    // One WebSocket frame (a 200-byte text, 16-bit length) in two DATA frames, cut anywhere.
    let text = "x".repeat(200);
    let f = client_ws(true, 1, text.as_bytes());
    for cut in 0..=f.len() {
        let mut steps = conversation(&[(8, 1)]);
        let mut two = data(1, &f[..cut], false);
        two.extend(data(1, &f[cut..], false));
        steps.insert(4, Step::Send(0, two));
        let recs = play(&steps);
        let m = messages(&recs);
        let long = m.iter().find(|m| m.length == 200).unwrap();
        assert_eq!(long.text.as_deref(), Some(text.as_str()), "cut {cut}");
        assert!(!long.partial);
        assert_eq!(codes(&recs), Vec::<&str>::new(), "cut {cut}");
    }
}

#[test]
fn rfc8441_s3_connect_without_the_servers_setting_is_a_finding() {
    for ecp in [&[][..], &[(8, 0)][..], &[(3, 100)][..]] {
        let recs = play(&conversation(ecp));
        let f = findings(&recs);
        assert_eq!(
            codes(&recs),
            [H2_CONNECT_PROTOCOL_NOT_ENABLED.name],
            "{ecp:?}"
        );
        let t = txns(&recs)[0];
        assert_eq!(f[0].transaction, Some(t.id));
        assert_eq!(f[0].direction, Some(Dir::ClientToServer));
        // At the CONNECT's HEADERS frame: after the preface and the client's SETTINGS.
        assert_eq!(f[0].stream_offset, Some(PREFACE.len() as u64 + 9));
        assert!(f[0].message.contains("nginx"), "{}", f[0].message);
        assert_eq!(t.findings, [H2_CONNECT_PROTOCOL_NOT_ENABLED.name]);
        // The WebSocket is still analysed: the server answered 200.
        assert_eq!(messages(&recs).len(), 6);
    }
    // The client's CONNECT captured before the server's SETTINGS: checked once they come.
    let mut steps = conversation(&[(8, 1)]);
    steps.swap(0, 1);
    assert_eq!(codes(&play(&steps)), Vec::<&str>::new());
    let mut steps = conversation(&[]);
    steps.swap(0, 1);
    assert_eq!(codes(&play(&steps)), [H2_CONNECT_PROTOCOL_NOT_ENABLED.name]);
    // A later SETTINGS that enables it, before the CONNECT: no finding.
    let mut steps = conversation(&[(3, 100)]);
    steps.insert(1, Step::Send(1, settings(&[(8, 1)])));
    assert_eq!(codes(&play(&steps)), Vec::<&str>::new());
    // One that turns it off again (a value other than 1), before the CONNECT: the finding.
    let mut steps = conversation(&[(8, 1)]);
    steps.insert(1, Step::Send(1, settings(&[(8, 0)])));
    assert_eq!(codes(&play(&steps)), [H2_CONNECT_PROTOCOL_NOT_ENABLED.name]);
}

#[test]
fn rfc8441_s4_protocol_needs_connect_scheme_and_path() {
    let get = headers(
        &[
            (":method", "GET"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":path", "/chat"),
            (":authority", "a"),
        ],
        1,
        END_STREAM,
    );
    let no_path = headers(
        &[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":authority", "a"),
        ],
        3,
        0,
    );
    let mut c = client_start();
    c.extend(get);
    c.extend(no_path);
    let recs = play(&[Step::Send(1, server_settings(&[(8, 1)])), Step::Send(0, c)]);
    assert_eq!(
        codes(&recs),
        [
            H2_PROTOCOL_WITHOUT_CONNECT.name,
            H2_EXTENDED_CONNECT_MALFORMED.name
        ]
    );
    let f = findings(&recs);
    assert!(f[1].message.contains(":scheme, :path"), "{}", f[1].message);
    let t = txns(&recs);
    let on = |s: u32| t.iter().find(|t| t.stream_id == Some(s)).unwrap();
    assert_eq!(on(1).findings, [H2_PROTOCOL_WITHOUT_CONNECT.name]);
    assert_eq!(on(3).findings, [H2_EXTENDED_CONNECT_MALFORMED.name]);
    assert!(websockets(&recs).is_empty());
}

#[test]
fn rfc8441_a_refused_connect_opens_no_websocket() {
    let mut c = client_start();
    c.extend(connect(1, &[]));
    let refused = headers(&[(":status", "405"), ("allow", "GET")], 1, END_STREAM);
    let recs = play(&[
        Step::Send(1, server_settings(&[(8, 1)])),
        Step::Send(0, c),
        Step::Send(1, refused),
        Step::Send(0, frame(RST_STREAM, 0, 1, &8u32.to_be_bytes())),
    ]);
    assert_eq!(codes(&recs), [H2_EXTENDED_CONNECT_REFUSED.name]);
    let f = findings(&recs);
    assert!(f[0].message.contains("405"), "{}", f[0].message);
    assert_eq!(f[0].direction, Some(Dir::ServerToClient));
    let t = txns(&recs)[0];
    assert!(t.switched_to.is_none());
    assert_eq!(t.findings, [H2_EXTENDED_CONNECT_REFUSED.name]);
    assert!(websockets(&recs).is_empty());
}

#[test]
fn rfc8441_a_connect_reset_before_an_answer_opened_nothing() {
    let mut c = client_start();
    c.extend(connect(1, &[]));
    let recs = play(&[
        Step::Send(1, server_settings(&[])),
        Step::Send(0, c),
        Step::Send(1, frame(RST_STREAM, 0, 1, &1u32.to_be_bytes())),
    ]);
    // The reset itself is a protocol error reset (h2.reset-error) as well as the refusal.
    assert_eq!(
        codes(&recs),
        [
            H2_CONNECT_PROTOCOL_NOT_ENABLED.name,
            H2_EXTENDED_CONNECT_REFUSED.name,
            H2_RESET_ERROR.name
        ]
    );
    let f = findings(&recs);
    assert!(f[1].message.contains("PROTOCOL_ERROR"), "{}", f[1].message);
    assert_eq!(f[1].direction, Some(Dir::ServerToClient));
    // At the RST_STREAM frame, the server's fourth: SETTINGS, its ACK, then the reset.
    assert_eq!(f[1].stream_offset, Some(9 + 9));
    let t = txns(&recs)[0];
    assert_eq!(
        t.findings,
        [
            H2_CONNECT_PROTOCOL_NOT_ENABLED.name,
            H2_EXTENDED_CONNECT_REFUSED.name
        ]
    );
    assert!(websockets(&recs).is_empty());
}

#[test]
fn rfc8441_end_stream_on_a_header_block_ends_that_side() {
    let mut c1 = client_start();
    c1.extend(connect(1, &[]));
    let recs = play(&[
        Step::Send(1, server_settings(&[(8, 1)])),
        Step::Send(0, c1),
        // The server accepts and ends its side at once; the client closes its side.
        Step::Send(1, headers(&[(":status", "200")], 1, END_STREAM)),
        Step::Send(0, data(1, &client_ws(true, 8, b"\x03\xe8"), true)),
    ]);
    let order: Vec<&str> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Transaction(_) => Some("txn"),
            Record::WebSocket(_) => Some("ws"),
            Record::Http2(_) => Some("h2"),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["txn", "ws", "h2"]);
    // Both sides ended: the WebSocket ends with the stream (packet 4), not at the
    // connection's end (packet 5); the server sent no close frame.
    let f = findings(&recs);
    assert_eq!(codes(&recs), [WS_UNCLEAN_CLOSE.name]);
    assert_eq!(f[0].packet, Some(4));
}

#[test]
fn rfc8441_rst_stream_ends_the_websocket() {
    let mut steps = conversation(&[(8, 1)]);
    steps.truncate(5);
    steps.push(Step::Send(1, frame(RST_STREAM, 0, 1, &8u32.to_be_bytes())));
    // A frame after the reset on the same stream is not the WebSocket's any more.
    steps.push(Step::Send(0, data(1, &client_ws(true, 1, b"late"), false)));
    let recs = play(&steps);
    let w = websockets(&recs);
    assert_eq!(w.len(), 1);
    assert!(!w[0].close.clean);
    assert_eq!(codes(&recs), [WS_UNCLEAN_CLOSE.name]);
    assert!(!brief(&recs).iter().any(|m| m.2.as_deref() == Some("late")));
    // The WebSocket's records come when the reset does, before the connection's end.
    let ws_at = recs
        .iter()
        .position(|r| matches!(r, Record::WebSocket(_)))
        .unwrap();
    let h2_at = recs
        .iter()
        .position(|r| matches!(r, Record::Http2(_)))
        .unwrap();
    assert!(ws_at < h2_at);
}

#[test]
fn rfc8441_a_gap_inside_data_is_the_websockets_gap() {
    let steps = conversation(&[(8, 1)]);
    // The client's first DATA frame: 9 + (2 + 4 + 13) bytes; lose 5 bytes of the text.
    let Step::Send(_, c2) = &steps[3] else {
        panic!()
    };
    let cut = 9 + 6 + 4;
    let mut lossy = steps.clone();
    lossy.splice(
        3..=3,
        [
            Step::Send(0, c2[..cut].to_vec()),
            Step::Lose(0, 5),
            Step::Send(0, c2[cut + 5..].to_vec()),
        ],
    );
    let recs = play(&lossy);
    let b = brief(&recs);
    assert_eq!(b[0].1, "text");
    assert!(b[0].4, "partial: {b:?}");
    // Frame sync survives: the ping and the close still come.
    assert_eq!(b.len(), 6);
    assert!(codes(&recs).contains(&H2_GAP.name));
    // A gap that takes a whole DATA frame header loses HTTP/2 framing, and the rest of
    // the WebSocket in that direction with it.
    let mut dead = steps.clone();
    dead.splice(3..=3, [Step::Lose(0, c2.len() as u64)]);
    let recs = play(&dead);
    assert_eq!(
        messages(&recs)
            .iter()
            .filter(|m| m.direction == Side::Client)
            .count(),
        0
    );
    assert_eq!(websockets(&recs).len(), 1);
}

/// Raw DEFLATE of each message with a shared context, RFC 7692's tail removed.
fn deflate(msgs: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut c = flate2::Compress::new(flate2::Compression::default(), false);
    msgs.iter()
        .map(|m| {
            let mut out = Vec::with_capacity(m.len() + 64);
            c.compress_vec(m, &mut out, flate2::FlushCompress::Sync)
                .unwrap();
            assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
            out.truncate(out.len() - 4);
            out
        })
        .collect()
}

#[test]
fn rfc8441_permessage_deflate_from_the_header_fields() {
    let ext = ("sec-websocket-extensions", "permessage-deflate");
    let mut c1 = client_start();
    c1.extend(connect(1, &[ext]));
    let text = "compressed over h2, compressed over h2, compressed over h2";
    let z = deflate(&[text.as_bytes(), text.as_bytes()]);
    let mut c2 = data(1, &ws_frame(true, true, 1, &z[0], true), false);
    c2.extend(data(1, &ws_frame(true, true, 1, &z[1], true), true));
    let recs = play(&[
        Step::Send(1, server_settings(&[(8, 1)])),
        Step::Send(0, c1),
        Step::Send(1, ok(1, &[ext])),
        Step::Send(0, c2),
    ]);
    let w = websockets(&recs)[0];
    assert!(w.compression.is_some());
    assert_eq!(w.handshake.extensions, ["permessage-deflate"]);
    let m = messages(&recs);
    assert_eq!(m.len(), 2);
    for m in m {
        assert!(m.compressed);
        assert_eq!(m.text.as_deref(), Some(text));
    }
    assert!(!codes(&recs).contains(&WS_INFLATE_ERROR.name));
    assert!(!codes(&recs).contains(&WS_RSV_WITHOUT_EXTENSION.name));
}

#[test]
fn rfc8441_frames_listed_point_into_the_http2_stream() {
    let steps = conversation(&[(8, 1)]);
    let recs = play_cfg(&steps, true);
    let client = concat(&steps, 0);
    for m in messages(&recs)
        .iter()
        .filter(|m| m.direction == Side::Client)
    {
        for f in m.frame_list.as_ref().unwrap() {
            // A WebSocket frame starts right after a DATA frame header on stream 1.
            let at = f.stream_offset as usize;
            let h = &client[at - 9..at];
            assert_eq!((h[3], h[8]), (DATA, 1), "{f:?}");
        }
    }
}

#[test]
fn rfc8441_offsets_of_messages_sharing_a_data_frame() {
    let mut steps = conversation(&[(8, 1)]);
    let a = client_ws(true, 2, &[7; 20]);
    let b = client_ws(true, 1, b"second");
    let mut both = a.clone();
    both.extend(&b);
    // Two WebSocket frames in one DATA frame, padded (the pad length byte comes first).
    let mut padded = vec![3u8];
    padded.extend(&both);
    padded.extend([0, 0, 0]);
    steps.insert(4, Step::Send(0, frame(DATA, PADDED, 1, &padded)));
    let recs = play(&steps);
    let client = concat(&steps, 0);
    let at = client.windows(b.len()).position(|w| w == b).unwrap() as u64;
    let m = messages(&recs);
    let second = m
        .iter()
        .find(|m| m.text.as_deref() == Some("second"))
        .unwrap();
    assert_eq!(second.stream_offset, at);
    let first = m.iter().find(|m| m.opcode == "binary").unwrap();
    assert_eq!(first.stream_offset, at - a.len() as u64);
    assert_eq!(codes(&recs), Vec::<&str>::new());
}

#[test]
fn rfc8441_websockets_per_connection_are_bounded() {
    use super::ws::MAX_WEBSOCKETS;
    let n = MAX_WEBSOCKETS as u32 + 2;
    let ids: Vec<u32> = (0..n).map(|i| 2 * i + 1).collect();
    let mut c = client_start();
    let mut s = Vec::new();
    let mut msgs = Vec::new();
    for &id in &ids {
        c.extend(connect(id, &[]));
        s.extend(ok(id, &[]));
        msgs.extend(data(id, &client_ws(true, 1, b"hi"), true));
    }
    let recs = play(&[
        Step::Send(1, server_settings(&[(8, 1)])),
        Step::Send(0, c),
        Step::Send(1, s),
        Step::Send(0, msgs),
    ]);
    assert_eq!(websockets(&recs).len(), MAX_WEBSOCKETS);
    assert_eq!(messages(&recs).len(), MAX_WEBSOCKETS);
    let limit: Vec<_> = findings(&recs)
        .into_iter()
        .filter(|f| f.code == &H2_WEBSOCKET_LIMIT)
        .collect();
    assert_eq!(limit.len(), 1, "raised once");
    // Every stream is still a transaction, switched.
    let t = txns(&recs);
    assert_eq!(t.len(), ids.len());
    assert!(t.iter().all(|t| t.switched_to.is_some()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary bytes as the WebSocket, in DATA frames of arbitrary sizes both ways: no panic,
    /// and a WebSocket record at the end.
    #[test]
    fn rfc8441_never_panics(
        client in proptest::collection::vec(any::<u8>(), 0..600),
        server in proptest::collection::vec(any::<u8>(), 0..600),
        sizes in proptest::collection::vec(1usize..64, 1..8),
        lose in any::<bool>(),
    ) {
        let mut steps = conversation(&[(8, 1)]);
        steps.truncate(3);
        for (d, bytes) in [(0, &client), (1, &server)] {
            let mut rest = bytes.as_slice();
            for &n in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (a, b) = rest.split_at(n.min(rest.len()));
                rest = b;
                let f = data(1, a, false);
                if lose && n % 3 == 0 {
                    steps.push(Step::Send(d, f[..9].to_vec()));
                    steps.push(Step::Lose(d, (f.len() - 9) as u64));
                } else {
                    steps.push(Step::Send(d, f));
                }
            }
        }
        let recs = play(&steps);
        prop_assert_eq!(websockets(&recs).len(), 1);
    }
}
