#![allow(clippy::unwrap_used)]
use super::*;
use crate::base::Timestamp;
use crate::model::{Dir, Endpoint, Record};

fn ctx(dir: Dir, packet: u64) -> Ctx {
    let ep = |port| Endpoint {
        ip: "192.0.2.1".parse().unwrap(),
        port,
    };
    Ctx {
        conn: 1,
        dir,
        client: ep(40000),
        server: ep(3128),
        ts: Timestamp(packet as i64 * 1_000_000),
        packet,
        midstream: false,
    }
}

/// A step of a scripted connection: bytes of a direction, or `n` of its bytes missing.
#[derive(Clone, Copy)]
enum Step<'a> {
    Data(Dir, &'a [u8]),
    Gap(Dir, u64),
}

/// A connection through the whole stack, then the end: its records, and what the stream was
/// named at the end.
fn play(steps: &[Step]) -> (Vec<Record>, &'static str) {
    let mut sh = Shared {
        http: HttpShared::new(Default::default()),
        ws: WsShared::new(Default::default()),
        tls: Default::default(),
        tap: None,
    };
    let mut ids = Ids::default();
    let mut stack = Stack::new(0, 0);
    let mut out = Vec::new();
    let mut off = [0u64; 2];
    for (i, step) in steps.iter().enumerate() {
        match *step {
            Step::Data(dir, b) => {
                let c = ctx(dir, i as u64 + 1);
                stack.data(&mut sh, &mut ids, &c, off[dir.index()], b, &mut out);
                off[dir.index()] += b.len() as u64;
            }
            Step::Gap(dir, n) => {
                let c = ctx(dir, i as u64 + 1);
                stack.gap(&mut sh, &mut ids, &c, off[dir.index()], n, &mut out);
                off[dir.index()] += n;
            }
        }
    }
    stack.close(&mut sh, &mut ids, &ctx(Dir::ClientToServer, 99), &mut out);
    (out, stack.name())
}

/// A connection through the whole stack: (direction, bytes) in order, then the end.
fn run(steps: &[(Dir, &[u8])]) -> Vec<Record> {
    let steps: Vec<Step> = steps.iter().map(|(d, b)| Step::Data(*d, b)).collect();
    play(&steps).0
}

#[test]
fn tunnels_inside_tunnels_are_followed_four_deep_and_no_deeper() {
    let mut steps: Vec<(Dir, &[u8])> = Vec::new();
    for _ in 0..12 {
        steps.push((
            Dir::ClientToServer,
            b"CONNECT next:8080 HTTP/1.1\r\nHost: next:8080\r\n\r\n",
        ));
        steps.push((Dir::ServerToClient, b"HTTP/1.1 200 OK\r\n\r\n"));
    }
    let out = run(&steps);
    let tunnels: Vec<_> = out
        .iter()
        .filter_map(|r| match r {
            Record::Tunnel(t) => Some(t),
            _ => None,
        })
        .collect();
    // HTTP at depths 0 to 4 opens a tunnel each; at depth 5 the bytes are not analysed.
    assert_eq!(tunnels.len(), 5);
    assert!(tunnels.iter().all(|t| t.established && t.kind == "connect"));
    // Closed innermost first: the deepest carries what was not analysed.
    assert_eq!(tunnels[0].inner, "unknown");
    assert!(tunnels[1..].iter().all(|t| t.inner == "http"));
    let txns = out
        .iter()
        .filter(|r| matches!(r, Record::Transaction(_)))
        .count();
    assert_eq!(txns, 5);
}

#[test]
fn the_switching_transaction_follows_what_the_next_protocol_made_of_the_held_bytes() {
    // The client's first frame arrives before the 101: HTTP holds it, hands it over.
    let out = run(&[
        (
            Dir::ClientToServer,
            b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\
              \x81\x82abcd\x09\x0b",
        ),
        (
            Dir::ServerToClient,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: wrong\r\n\r\n\x81\x02ok",
        ),
    ]);
    let kinds: Vec<String> = out
        .iter()
        .map(|r| match r {
            Record::Finding(f) => f.code.name.to_string(),
            Record::WsMessage(m) => format!("message {:?}", m.direction),
            Record::Transaction(_) => "transaction".into(),
            Record::WebSocket(_) => "websocket".into(),
            _ => "other".into(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "ws.accept-mismatch",
            "message Client",
            "transaction",
            "message Server",
            "ws.unclean-close",
            "websocket"
        ]
    );
}

// ---- a gap before the protocol is known --------------------------------------------------

use Dir::{ClientToServer as C, ServerToClient as S};

fn response(target: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nX-Echo: {target}\r\nContent-Length: 2\r\n\r\nok").into_bytes()
}

fn request(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: h\r\n\r\n").into_bytes()
}

/// (request target, the response's `X-Echo`) of each transaction, in the order reported.
fn pairs(out: &[Record]) -> Vec<(Option<String>, Option<String>)> {
    out.iter()
        .filter_map(|r| match r {
            Record::Transaction(t) => Some((
                t.request.as_ref().map(|q| q.target.clone()),
                (t.response.as_ref())
                    .and_then(|a| a.headers.get("x-echo"))
                    .map(|v| String::from_utf8_lossy(v).into_owned()),
            )),
            _ => None,
        })
        .collect()
}

fn codes(out: &[Record]) -> Vec<&'static str> {
    out.iter()
        .filter_map(|r| match r {
            Record::Finding(f) => Some(f.code.name),
            _ => None,
        })
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn an_early_gap_loses_one_transaction_not_the_connection() {
    // The client's first segment (most of the request for /1) was not captured.
    let (r1, r2, r3) = (response("/1"), request("/2"), request("/3"));
    let (a2, a3) = (response("/2"), response("/3"));
    let lost = Step::Gap(C, 20);
    let tail = Step::Data(C, b"st: h\r\n\r\n");
    // The engine hands the gap over when it gives the hole up: before or after the response.
    let orders = [
        vec![lost, tail, Step::Data(S, &r1)],
        vec![Step::Data(S, &r1), lost, tail],
        vec![lost, Step::Data(S, &r1), tail],
    ];
    for start in orders {
        let mut steps = start.clone();
        steps.extend([
            Step::Data(C, &r2),
            Step::Data(S, &a2),
            Step::Data(C, &r3),
            Step::Data(S, &a3),
        ]);
        let (out, name) = play(&steps);
        assert_eq!(name, "http");
        assert_eq!(
            pairs(&out),
            [
                (None, some("/1")),
                (some("/2"), some("/2")),
                (some("/3"), some("/3"))
            ]
        );
        assert_eq!(codes(&out), ["http.response-without-request-captured"]);
    }
}

#[test]
fn a_gap_in_the_middle_of_an_undecided_stream() {
    // The request line is not complete when the gap comes: the stream is still undecided.
    let (r2, a2) = (request("/2"), response("/2"));
    let (out, name) = play(&[
        Step::Data(C, b"GET /a-long-target-c"),
        Step::Gap(C, 30),
        Step::Data(C, &r2),
        Step::Data(S, &a2),
    ]);
    assert_eq!(name, "http");
    assert_eq!(pairs(&out), [(some("/2"), some("/2"))]);
    // What came before the gap reaches HTTP too: a head the gap cut.
    assert_eq!(codes(&out), ["http.gap-in-head"]);
}

#[test]
fn both_starts_lost_the_stream_is_picked_up_at_a_line_start() {
    let client = [b"ding\r\nX: 1\r\n\r\n".to_vec(), request("/2")].concat();
    let server = [b"ody of the first response\n".to_vec(), response("/2")].concat();
    let (out, name) = play(&[
        Step::Gap(C, 25),
        Step::Gap(S, 40),
        Step::Data(C, &client),
        Step::Data(S, &server),
    ]);
    assert_eq!(name, "http");
    assert_eq!(pairs(&out), [(some("/2"), some("/2"))]);
}

#[test]
fn a_start_line_split_after_a_gap_is_joined() {
    let a2 = response("/2");
    let (out, name) = play(&[
        Step::Gap(C, 25),
        Step::Data(C, b"GET /2 HTTP/1"),
        Step::Data(C, b".1\r\nHost: h\r\n\r\n"),
        Step::Data(S, &a2),
    ]);
    assert_eq!(name, "http");
    assert_eq!(pairs(&out), [(some("/2"), some("/2"))]);
}

/// Bytes from a fixed xorshift generator.
fn random(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn random_payload_after_a_gap_is_not_taken_for_anything() {
    // Lines a stream's first bytes would pass as HTTP (HTTP/0.9, a broken request line) and
    // bytes shaped like WebSocket frames, among random bytes, segment after segment.
    let texts: [&[u8]; 4] = [
        b"\nGET /index.html\n",
        b"OPTIONS\nHost: x\n",
        b"\x81\x05hello",
        b"\nGET / HTT",
    ];
    let chunks: Vec<Vec<u8>> = (0..300)
        .map(|i| [texts[i % 4].to_vec(), random(1400, 0x9e37_79b9 + i as u64)].concat())
        .collect();
    let mut steps = vec![Step::Gap(C, 100), Step::Gap(S, 100)];
    for (i, ch) in chunks.iter().enumerate() {
        steps.push(Step::Data(if i % 3 == 0 { S } else { C }, ch));
    }
    let (out, name) = play(&steps);
    assert_eq!(name, "none", "still looking");
    assert!(out.is_empty(), "{:?}", codes(&out));
}

#[test]
fn tls_is_picked_up_after_a_gap() {
    // The ServerHello seen from the server's start decides it ...
    let server_hello = b"\x16\x03\x03\x00\x31\x02\x00\x00\x2d\x03\x03";
    let (_, name) = play(&[Step::Gap(C, 517), Step::Data(S, server_hello)]);
    assert_eq!(name, "tls");
    // ... and with both starts lost, a record header at a segment boundary.
    let mut record = b"\x17\x03\x03\x00\x20".to_vec();
    record.extend(random(32, 7));
    let (_, name) = play(&[
        Step::Gap(C, 517),
        Step::Gap(S, 1400),
        Step::Data(C, &record),
    ]);
    assert_eq!(name, "tls");
}

#[test]
fn websocket_frames_are_not_guessed_after_a_gap() {
    let frame = b"\x81\x05hello";
    let (_, name) = play(&[Step::Data(S, frame)]);
    assert_eq!(name, "websocket", "a server frame at the very start is");
    let (_, name) = play(&[Step::Gap(C, 10), Step::Data(S, frame)]);
    assert_eq!(name, "unknown");
}

#[test]
fn undecided_after_a_gap_the_probe_gives_up_and_says_so() {
    // An HTTP/2 server's SETTINGS makes the probe wait for the client's preface, which a gap
    // took: the probe holds at most 16 KiB, then gives up.
    let mut server = b"\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64".to_vec();
    server.extend(random(20_000, 3));
    let (out, name) = play(&[Step::Gap(C, 24), Step::Data(S, &server)]);
    assert_eq!(name, "unknown");
    assert_eq!(codes(&out), ["tcp.undecided-after-gap"]);
    let Some(Record::Finding(f)) = out.first() else {
        panic!("a finding")
    };
    assert!(f.message.contains("the client's bytes"), "{}", f.message);
    // Without a gap the same stream is given up as before, silently: it is just unknown.
    let (out, name) = play(&[Step::Data(S, &server)]);
    assert_eq!(name, "unknown");
    assert!(out.is_empty());
}

/// HTTP/2 in what TLS decrypted says how it came to be: ALPN `h2`, or TLS whose selected
/// protocol is unknown or another; in cleartext, prior knowledge.
#[test]
fn http2_mode_names_how_the_client_knew() {
    let mode = |stack: &mut Stack| {
        let mut sh = Shared {
            http: HttpShared::new(Default::default()),
            ws: WsShared::new(Default::default()),
            tls: Default::default(),
            tap: None,
        };
        let mut ids = Ids::default();
        let mut out = Vec::new();
        let mut client = crate::analyzers::h2::PREFACE.to_vec();
        client.extend([0, 0, 0, 4, 0, 0, 0, 0, 0]);
        let c = ctx(Dir::ClientToServer, 1);
        stack.data(&mut sh, &mut ids, &c, 0, &client, &mut out);
        stack.close(&mut sh, &mut ids, &c, &mut out);
        out.iter()
            .find_map(|r| match r {
                Record::Http2(h) => Some(h.mode),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(mode(&mut Stack::new(0, 0)), "prior-knowledge");
    for (alpn, want) in [
        (Some(true), "tls-alpn"),
        (Some(false), "tls"),
        (None, "tls"),
    ] {
        let mut s = Stack::decrypted(0, 0);
        s.alpn_h2 = alpn;
        assert_eq!(mode(&mut s), want, "{alpn:?}");
    }
}

/// The records of `steps` through a stack, every step at packet 1 (so that a leading empty
/// delivery changes nothing but the probe's path), as text.
fn records_at_one_packet(steps: &[(Dir, &[u8])]) -> Vec<String> {
    let mut sh = Shared {
        http: HttpShared::new(Default::default()),
        ws: WsShared::new(Default::default()),
        tls: Default::default(),
        tap: None,
    };
    let mut ids = Ids::default();
    let mut stack = Stack::new(0, 0);
    let mut out = Vec::new();
    let mut off = [0u64; 2];
    for &(dir, b) in steps {
        stack.data(
            &mut sh,
            &mut ids,
            &ctx(dir, 1),
            off[dir.index()],
            b,
            &mut out,
        );
        off[dir.index()] += b.len() as u64;
    }
    stack.close(&mut sh, &mut ids, &ctx(Dir::ClientToServer, 1), &mut out);
    out.iter().map(|r| format!("{r:?}")).collect()
}

#[test]
fn a_stream_decided_by_its_first_delivery_is_analysed_as_when_the_probe_logged_it() {
    // A leading empty delivery sends the probe down its logging path (the bytes are copied,
    // logged and replayed); without it the first delivery is decided where it lies and handed
    // over whole. Both must come out the same, whatever the stream turns out to be.
    let c = Dir::ClientToServer;
    let s = Dir::ServerToClient;
    let ws_req: &[u8] = b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";
    let ws_resp: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    let cases: Vec<Vec<(Dir, &[u8])>> = vec![
        // HTTP, decided by the request; by the response (the server first); pipelined.
        vec![
            (c, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
            (s, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        ],
        vec![
            (s, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            (c, b"GET /b HTTP/1.1\r\n\r\n"),
        ],
        vec![
            (c, b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
            (
                s,
                b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            ),
        ],
        // Undecided first (a partial method), then decided.
        vec![
            (c, b"GE"),
            (c, b"T / HTTP/1.1\r\n\r\n"),
            (s, b"HTTP/1.1 200 OK\r\n\r\n"),
        ],
        // A WebSocket upgrade with a frame in the same delivery as the 101.
        vec![
            (c, ws_req),
            (s, &[ws_resp, b"\x81\x02hi"].concat().leak()[..]),
        ],
        // WebSocket frames mid-stream (its starts are read from the log).
        vec![(c, b"\x81\x85abcd\x09\x07\x0f\x08\x0e"), (s, b"\x81\x02ok")],
        // The HTTP/2 preface; a TLS ClientHello start; SOCKS5; nothing known.
        vec![(
            c,
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
        )],
        vec![(c, b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00")],
        vec![(c, b"\x05\x01\x00"), (s, b"\x05\x00")],
        vec![(c, b"\x00\x01\x02garbage"), (s, b"\x00\x00more garbage")],
    ];
    for steps in cases {
        let mut logged = vec![(steps[0].0, &b""[..])];
        logged.extend(steps.iter().copied());
        assert_eq!(
            records_at_one_packet(&steps),
            records_at_one_packet(&logged),
            "{steps:?}"
        );
    }
}
