#![allow(clippy::unwrap_used)]
use super::*;
use crate::model::Endpoint;
use proptest::prelude::*;
use std::io::Write;

fn ctx(d: usize, i: usize) -> Ctx {
    Ctx {
        conn: 3,
        dir: Dir::from_index(d),
        client: Endpoint {
            ip: "192.0.2.1".parse().unwrap(),
            port: 40000,
        },
        server: Endpoint {
            ip: "192.0.2.2".parse().unwrap(),
            port: 80,
        },
        ts: Timestamp(1_000_000 * (i as i64 + 1)),
        packet: i as u64 + 1,
        midstream: false,
    }
}

/// A frame as a client (masked) or server sends it.
fn frame(fin: bool, rsv1: bool, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut v = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode];
    let m = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => v.push(m | n as u8),
        n if n <= 0xffff => {
            v.push(m | 126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            v.push(m | 127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = [0x11, 0x22, 0x33, 0x44];
    if masked {
        v.extend_from_slice(&key);
        let mut p = payload.to_vec();
        frame::unmask(&mut p, key, 0);
        v.extend_from_slice(&p);
    } else {
        v.extend_from_slice(payload);
    }
    v
}

fn c(fin: bool, op: u8, p: &[u8]) -> (usize, Vec<u8>) {
    (0, frame(fin, false, op, p, true))
}
fn s(fin: bool, op: u8, p: &[u8]) -> (usize, Vec<u8>) {
    (1, frame(fin, false, op, p, false))
}

struct Out {
    msgs: Vec<WsMessageRecord>,
    conv: Vec<WebSocketRecord>,
    codes: Vec<String>,
    findings: Vec<Finding>,
}

fn run_with(
    steps: &[(usize, Vec<u8>)],
    deflate: Option<Deflate>,
    cfg: WsConfig,
    midstream: bool,
) -> Out {
    let mut sh = WsShared::new(cfg);
    let hs = WsHandshake {
        midstream,
        ..WsHandshake::default()
    };
    let mut w = WsConn::new(&mut sh, &ctx(0, 0), hs, deflate, [0, 0]);
    let mut out: Vec<Record> = Vec::new();
    for (i, (d, b)) in steps.iter().enumerate() {
        w.feed(&sh, &ctx(*d, i), *d, b, &mut out);
    }
    w.end(&sh, &ctx(0, steps.len()), &mut out);
    let mut o = Out {
        msgs: Vec::new(),
        conv: Vec::new(),
        codes: Vec::new(),
        findings: Vec::new(),
    };
    for r in out {
        match r {
            Record::WsMessage(m) => o.msgs.push(*m),
            Record::WebSocket(x) => o.conv.push(*x),
            Record::Finding(f) => {
                o.codes.push(f.code.name.to_string());
                o.findings.push(*f);
            }
            _ => {}
        }
    }
    o
}

fn run(steps: &[(usize, Vec<u8>)]) -> Out {
    run_with(steps, None, WsConfig::default(), false)
}

fn brief(o: &Out) -> Vec<(Side, String, u64, Option<String>)> {
    o.msgs
        .iter()
        .map(|m| (m.direction, m.opcode.to_string(), m.length, m.text.clone()))
        .collect()
}

#[test]
fn rfc6455_s5_4_fragments_join_and_control_frames_interleave() {
    let o = run(&[
        c(false, 1, b"Hel"),
        c(true, 9, b"p"), // a ping between fragments
        c(false, 0, b"lo "),
        c(true, 0, b""), // empty final fragment (Python websockets does this)
        s(true, 10, b"p"),
        c(true, 8, &[0x03, 0xe8, b'b', b'y', b'e']),
        s(true, 8, &[0x03, 0xe8]),
    ]);
    assert_eq!(
        brief(&o),
        vec![
            (Side::Client, "ping".into(), 1, Some("p".into())),
            (Side::Client, "text".into(), 6, Some("Hello ".into())),
            (Side::Server, "pong".into(), 1, Some("p".into())),
            (Side::Client, "close".into(), 5, Some("bye".into())),
            (Side::Server, "close".into(), 2, None),
        ]
    );
    assert_eq!(o.msgs[1].frames, 3);
    assert!(o.msgs[2].rtt.is_some(), "the pong answers the ping");
    let x = &o.conv[0];
    assert_eq!(x.close.initiator, Some(Side::Client));
    assert_eq!(
        (x.close.client_code, x.close.server_code),
        (Some(1000), Some(1000))
    );
    assert!(x.close.clean);
    assert_eq!(x.pings.answered, 1);
    assert!(o.codes.is_empty(), "{:?}", o.codes);
}

#[test]
fn rfc6455_s5_2_16_and_64_bit_lengths() {
    let big = vec![b'x'; 70_000];
    let mid = vec![b'y'; 300];
    let o = run(&[s(true, 2, &mid), s(true, 1, &big), c(true, 2, &big)]);
    assert_eq!(
        o.msgs.iter().map(|m| m.length).collect::<Vec<_>>(),
        vec![300, 70_000, 70_000]
    );
    assert!(o.msgs[1].text_truncated);
    assert_eq!(o.msgs[1].text.as_ref().unwrap().len(), 1024);
}

/// permessage-deflate as a compressor with context takeover would send it.
fn deflate_msgs(msgs: &[&[u8]], takeover: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut comp = flate2::Compress::new(flate2::Compression::default(), false);
    for m in msgs {
        if !takeover {
            comp.reset();
        }
        let mut buf = Vec::with_capacity(m.len() + 64);
        comp.compress_vec(m, &mut buf, flate2::FlushCompress::Sync)
            .unwrap();
        assert!(buf.ends_with(&[0, 0, 0xff, 0xff]));
        buf.truncate(buf.len() - 4);
        out.push(buf);
    }
    out
}

#[test]
fn rfc7692_context_takeover_and_fragmented_compressed_messages() {
    let text: &[u8] = b"the same sentence, repeated, compresses better the second time";
    for takeover in [true, false] {
        let z = deflate_msgs(&[text, text], takeover);
        let d = Deflate {
            server_no_context_takeover: !takeover,
            ..Deflate::default()
        };
        // Second message in two fragments: RSV1 only on the first.
        let (a, b) = z[1].split_at(z[1].len() / 2);
        let steps = vec![
            (1, frame(true, true, 1, &z[0], false)),
            (1, frame(false, true, 1, a, false)),
            (1, frame(true, false, 0, b, false)),
            (1, frame(true, false, 1, b"plain", false)),
        ];
        let o = run_with(&steps, Some(d), WsConfig::default(), false);
        let t: Vec<(Option<String>, bool, u64)> = o
            .msgs
            .iter()
            .map(|m| (m.text.clone(), m.compressed, m.wire_length))
            .collect();
        let full = String::from_utf8(text.to_vec()).unwrap();
        assert_eq!(
            t[0].0.as_deref(),
            Some(full.as_str()),
            "takeover={takeover}"
        );
        assert_eq!(
            t[1].0.as_deref(),
            Some(full.as_str()),
            "takeover={takeover}"
        );
        assert!(t[0].1 && t[1].1 && !t[2].1);
        assert_eq!(t[2].0.as_deref(), Some("plain"));
        if takeover {
            assert!(t[1].2 < t[0].2, "context takeover makes the repeat smaller");
        }
        // No close handshake in this script.
        assert_eq!(o.codes, vec!["ws.unclean-close".to_string()]);
    }
}

#[test]
fn an_inflate_bomb_stops_at_the_bound() {
    let zeros = vec![0u8; 8 << 20];
    let z = deflate_msgs(&[&zeros], true);
    let cfg = WsConfig {
        max_inflate: 1 << 20,
        ..WsConfig::default()
    };
    let o = run_with(
        &[(1, frame(true, true, 2, &z[0], false))],
        Some(Deflate::default()),
        cfg,
        false,
    );
    assert!(
        o.codes.contains(&"ws.inflate-limit".to_string()),
        "{:?}",
        o.codes
    );
    assert!(o.msgs[0].length <= 1 << 20);
    assert!(o.msgs[0].partial);
}

#[test]
fn violations_become_findings() {
    type Steps = Vec<(usize, Vec<u8>)>;
    let cases: Vec<(&str, Steps)> = vec![
        (
            "ws.unmasked-client-frame",
            vec![(0, frame(true, false, 1, b"x", false))],
        ),
        (
            "ws.masked-server-frame",
            vec![(1, frame(true, false, 1, b"x", true))],
        ),
        (
            "ws.rsv-without-extension",
            vec![(1, frame(true, true, 1, b"x", false))],
        ),
        ("ws.reserved-opcode", vec![s(true, 3, b"x")]),
        ("ws.control-too-long", vec![s(true, 9, &[b'p'; 126])]),
        ("ws.control-fragmented", vec![s(false, 9, b"p")]),
        ("ws.continuation-without-start", vec![s(true, 0, b"x")]),
        (
            "ws.data-inside-fragmented",
            vec![s(false, 1, b"a"), s(true, 1, b"b")],
        ),
        ("ws.invalid-utf8", vec![s(true, 1, &[0xff, 0xfe])]),
        ("ws.invalid-close-code", vec![s(true, 8, &[0x03, 0xed])]),
        ("ws.close-payload-one-byte", vec![s(true, 8, &[0x03])]),
        (
            "ws.non-minimal-length",
            vec![(1, vec![0x81, 126, 0, 5, b'h', b'e', b'l', b'l', b'o'])],
        ),
        (
            "ws.frame-after-close",
            vec![s(true, 8, &[0x03, 0xe8]), s(true, 1, b"late")],
        ),
        ("ws.unsolicited-pong", vec![s(true, 10, b"hb")]),
        ("ws.unclean-close", vec![s(true, 1, b"x")]),
    ];
    for (code, steps) in cases {
        let o = run(&steps);
        assert!(o.codes.contains(&code.to_string()), "{code}: {:?}", o.codes);
    }
    // A clean conversation raises none of them.
    let o = run(&[
        c(true, 1, "é".as_bytes()),
        s(true, 8, &[0x03, 0xe8]),
        c(true, 8, &[0x03, 0xe8]),
    ]);
    assert!(o.codes.is_empty(), "{:?}", o.codes);
}

#[test]
fn utf8_split_across_fragments_is_valid() {
    let t = "日本".as_bytes();
    let o = run(&[s(false, 1, &t[..2]), s(true, 0, &t[2..])]);
    assert_eq!(o.msgs[0].utf8_valid, Some(true));
    assert_eq!(o.msgs[0].text.as_deref(), Some("日本"));
}

#[test]
fn a_gap_inside_a_payload_keeps_frame_sync() {
    let mut sh = WsShared::new(WsConfig::default());
    let mut w = WsConn::new(&mut sh, &ctx(0, 0), WsHandshake::default(), None, [0, 0]);
    let mut out: Vec<Record> = Vec::new();
    let f1 = frame(true, false, 2, &[7u8; 100], false);
    w.feed(&sh, &ctx(1, 1), 1, &f1[..20], &mut out);
    w.lose(&ctx(1, 2), 1, 50, &mut out);
    w.feed(&sh, &ctx(1, 3), 1, &f1[70..], &mut out);
    w.feed(
        &sh,
        &ctx(1, 4),
        1,
        &frame(true, false, 1, b"after", false),
        &mut out,
    );
    w.end(&sh, &ctx(1, 5), &mut out);
    let msgs: Vec<WsMessageRecord> = out
        .into_iter()
        .filter_map(|r| match r {
            Record::WsMessage(m) => Some(*m),
            _ => None,
        })
        .collect();
    assert_eq!(msgs.len(), 2);
    assert!(msgs[0].partial);
    // 18 bytes before the gap, 32 after it: the 50 lost are declared, not seen.
    assert_eq!(msgs[0].wire_length, 50);
    assert_eq!(msgs[0].declared_length, Some(100));
    assert_eq!(msgs[1].text.as_deref(), Some("after"));
    assert_eq!(msgs[1].declared_length, None, "whole: nothing to add");
}

/// A frame header declaring `len` bytes, unmasked (server) or with a zero key (client).
fn header(opcode: u8, len: u64, masked: bool) -> Vec<u8> {
    let mut v = vec![0x80 | opcode, if masked { 0xff } else { 0x7f }];
    v.extend_from_slice(&len.to_be_bytes());
    if masked {
        v.extend_from_slice(&[0; 4]);
    }
    v
}

#[test]
fn hostile_frame_lengths_count_only_the_bytes_seen() {
    let mut sh = WsShared::new(WsConfig {
        frames: true,
        ..WsConfig::default()
    });
    let mut w = WsConn::new(&mut sh, &ctx(0, 0), WsHandshake::default(), None, [0, 0]);
    let mut out: Vec<Record> = Vec::new();
    // The client declares 2^63-1 bytes and sends 100; the server sets the forbidden top bit
    // (the length is then read without it) and sends 7, in two pieces.
    let mut client = header(2, (1 << 63) - 1, true);
    client.extend_from_slice(&[b'x'; 100]);
    w.feed(&sh, &ctx(0, 1), 0, &client, &mut out);
    let mut server = header(1, u64::MAX, false);
    server.extend_from_slice(b"hel");
    w.feed(&sh, &ctx(1, 2), 1, &server, &mut out);
    w.feed(&sh, &ctx(1, 3), 1, b"lo!!", &mut out);
    w.end(&sh, &ctx(0, 4), &mut out);
    let mut msgs = Vec::new();
    let mut conv = None;
    let mut codes = Vec::new();
    for r in out {
        match r {
            Record::WsMessage(m) => msgs.push(*m),
            Record::WebSocket(c) => conv = Some(*c),
            Record::Finding(f) => codes.push(f.code.name),
            _ => {}
        }
    }
    let conv = conv.unwrap();
    let (c, s) = (&conv.client_to_server, &conv.server_to_client);
    assert_eq!((c.payload_bytes, c.declared_bytes), (100, (1 << 63) - 1));
    assert_eq!((s.payload_bytes, s.declared_bytes), (7, (1 << 63) - 1));
    assert_eq!((c.message_bytes, s.message_bytes), (100, 7));
    assert!(codes.contains(&"ws.invalid-length"));
    assert_eq!(msgs.len(), 2);
    for (m, seen) in msgs.iter().zip([100, 7]) {
        assert!(m.partial);
        assert_eq!(m.wire_length, seen);
        assert_eq!(m.length, seen);
        assert_eq!(m.declared_length, Some((1 << 63) - 1));
        let f = &m.frame_list.as_ref().unwrap()[0];
        assert_eq!((f.length, f.declared_length), (seen, Some((1 << 63) - 1)));
    }
    // The JSON says the same (the fast writer is checked against serde_json elsewhere).
    let j = serde_json::to_value(&msgs[0]).unwrap();
    assert_eq!(j["wire_length"], 100);
    assert_eq!(j["declared_length"], 9_223_372_036_854_775_807u64);
}

#[test]
fn a_gap_over_a_huge_declared_payload_is_not_counted_as_seen() {
    let mut sh = WsShared::new(WsConfig::default());
    let mut w = WsConn::new(&mut sh, &ctx(0, 0), WsHandshake::default(), None, [0, 0]);
    let mut out: Vec<Record> = Vec::new();
    let mut f = header(2, (1 << 62) + 4, false);
    f.extend_from_slice(b"ab");
    w.feed(&sh, &ctx(1, 1), 1, &f, &mut out);
    w.lose(&ctx(1, 2), 1, 1 << 62, &mut out);
    w.feed(&sh, &ctx(1, 3), 1, b"cd", &mut out);
    w.feed(
        &sh,
        &ctx(1, 4),
        1,
        &frame(true, false, 1, b"ok", false),
        &mut out,
    );
    w.end(&sh, &ctx(1, 5), &mut out);
    let mut msgs = Vec::new();
    let mut conv = None;
    for r in out {
        match r {
            Record::WsMessage(m) => msgs.push(*m),
            Record::WebSocket(c) => conv = Some(*c),
            _ => {}
        }
    }
    let st = conv.unwrap().server_to_client;
    assert_eq!((st.payload_bytes, st.declared_bytes), (6, (1 << 62) + 6));
    assert_eq!(
        (msgs[0].wire_length, msgs[0].declared_length),
        (4, Some((1 << 62) + 4))
    );
    assert_eq!(msgs[1].text.as_deref(), Some("ok"), "frame sync kept");
}

fn stable(o: &Out) -> Vec<String> {
    o.msgs
        .iter()
        .map(|m| {
            let mut v = serde_json::to_value(m).unwrap();
            let x = v.as_object_mut().unwrap();
            x.remove("ts");
            x.remove("packet");
            x.remove("rtt");
            v.to_string()
        })
        .collect()
}

proptest! {
    /// A conversation fed whole or cut anywhere gives the same messages.
    #[test]
    fn split_anywhere_gives_the_same_messages(cuts in proptest::collection::vec(1usize..30, 0..40)) {
        let text: &[u8] = b"compressible compressible compressible";
        let z = deflate_msgs(&[text, text], true);
        let mut server = Vec::new();
        for f in [
            frame(true, true, 1, &z[0], false),
            frame(false, false, 2, &[1u8; 300], false),
            frame(true, false, 9, b"ping", false),
            frame(true, false, 0, &[2u8; 70_000], false),
            frame(true, true, 1, &z[1], false),
            frame(true, false, 8, &[0x03, 0xe8, b'o', b'k'], false),
        ] {
            server.extend_from_slice(&f);
        }
        let d = Some(Deflate::default());
        let whole = run_with(&[(1, server.clone())], d, WsConfig::default(), false);
        let mut steps = Vec::new();
        let mut at = 0;
        for n in cuts {
            if at >= server.len() { break; }
            let e = (at + n).min(server.len());
            steps.push((1, server[at..e].to_vec()));
            at = e;
        }
        if at < server.len() { steps.push((1, server[at..].to_vec())); }
        let split = run_with(&steps, d, WsConfig::default(), false);
        prop_assert_eq!(stable(&whole), stable(&split));
        prop_assert_eq!(whole.msgs.len(), 5);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        steps in proptest::collection::vec((0usize..2, proptest::collection::vec(any::<u8>(), 0..60), any::<bool>()), 0..20),
        deflate in any::<bool>(),
    ) {
        let mut sh = WsShared::new(WsConfig { max_inflate: 4096, ..WsConfig::default() });
        let d = deflate.then(Deflate::default);
        let mut w = WsConn::new(&mut sh, &ctx(0, 0), WsHandshake::default(), d, [0, 0]);
        let mut out: Vec<Record> = Vec::new();
        for (i, (dir, b, gap)) in steps.iter().enumerate() {
            if *gap {
                w.lose(&ctx(*dir, i), *dir, b.len() as u64 + 1, &mut out);
            } else {
                w.feed(&sh, &ctx(*dir, i), *dir, b, &mut out);
            }
        }
        w.end(&sh, &ctx(0, 99), &mut out);
    }
}

#[test]
fn deflate_helper_really_compresses() {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"x").unwrap();
    assert!(!e.finish().unwrap().is_empty());
}

#[test]
fn binary_previews_only_when_asked_and_never_as_text() {
    let payload: Vec<u8> = (0u8..=255).cycle().take(3000).collect();
    let steps = [c(false, 2, &payload[..1000]), c(true, 0, &payload[1000..])];
    let plain = run(&steps);
    assert_eq!(plain.msgs[0].binary, None);
    assert_eq!(plain.msgs[0].text, None);
    let cfg = WsConfig {
        binary_preview: true,
        preview: 1500,
        ..WsConfig::default()
    };
    let o = run_with(&steps, None, cfg, false);
    let m = &o.msgs[0];
    assert_eq!(m.text, None);
    assert_eq!(m.binary.as_deref(), Some(&payload[..1500]));
    assert!(m.text_truncated);
    assert_eq!(m.length, 3000);
}

/// Issue 19: a rule broken by both peers, and one broken again and again, stays visible: the
/// first of each (code, direction) at once, the repeats summed up at the end with `count` and
/// the first 16 packets; every violating frame's packet is named by a finding.
#[test]
fn rfc6455_s5_1_violations_of_both_peers_and_repeats_are_all_named() {
    let mut steps = Vec::new();
    let mut bad: Vec<(u64, &str)> = Vec::new();
    // The client breaks §5.1 first (an unmasked frame), once.
    steps.push((0, frame(true, false, 1, b"hi", false)));
    bad.push((steps.len() as u64, "ws.unmasked-client-frame"));
    steps.push(s(true, 1, b"ok"));
    // Later the server breaks the same section from its side (masked frames), 20 times.
    for i in 0..20u8 {
        steps.push((1, frame(true, false, 1, &[b'a' + i], true)));
        bad.push((steps.len() as u64, "ws.masked-server-frame"));
        steps.push(c(true, 1, b"fine"));
    }
    // And the client again, a second time.
    steps.push((0, frame(true, false, 1, b"again", false)));
    bad.push((steps.len() as u64, "ws.unmasked-client-frame"));
    steps.push(c(true, 8, &[0x03, 0xe8]));
    steps.push(s(true, 8, &[0x03, 0xe8]));
    let o = run(&steps);
    let of = |code: &str, dir: Dir| -> Vec<&Finding> {
        o.findings
            .iter()
            .filter(|f| f.code.name == code && f.direction == Some(dir))
            .collect()
    };
    // Client: first at once, then a summary with count 2 naming both packets.
    let cl = of("ws.unmasked-client-frame", Dir::ClientToServer);
    assert_eq!(cl.len(), 2, "{:?}", o.findings);
    assert_eq!(cl[0].count, None);
    assert_eq!(cl[1].count, Some(2));
    assert_eq!(cl[1].packets, vec![bad[0].0, bad[21].0]);
    // Server: first at once, then count 20, the packet list capped at 16.
    let sv = of("ws.masked-server-frame", Dir::ServerToClient);
    assert_eq!(sv.len(), 2);
    assert_eq!(sv[0].packet, Some(bad[1].0));
    assert_eq!(sv[1].count, Some(20));
    assert_eq!(sv[1].packets.len(), crate::model::MAX_REPEAT_PACKETS);
    assert_eq!(
        sv[1].packet,
        Some(bad[1].0),
        "the summary is at the first occurrence"
    );
    assert!(
        sv[1].message.contains("repeated 20 times"),
        "{}",
        sv[1].message
    );
    // Every violating frame's packet is named, up to the cap per (code, direction).
    let named = |p: u64| {
        o.findings
            .iter()
            .any(|f| f.packet == Some(p) || f.packets.contains(&p))
    };
    let server: Vec<u64> = bad
        .iter()
        .filter(|b| b.1 == "ws.masked-server-frame")
        .map(|b| b.0)
        .collect();
    for p in server.iter().take(crate::model::MAX_REPEAT_PACKETS) {
        assert!(named(*p), "packet {p}");
    }
    for b in bad.iter().filter(|b| b.1 == "ws.unmasked-client-frame") {
        assert!(named(b.0), "packet {}", b.0);
    }
    // The conversation names each code once.
    let conv = &o.conv[0];
    assert_eq!(
        conv.findings
            .iter()
            .filter(|c| **c == "ws.unmasked-client-frame")
            .count(),
        1
    );
    assert!(conv.findings.contains(&"ws.masked-server-frame"));
}

/// The preview as it was kept before it was kept as text: the taken part of every piece in one
/// byte buffer, made text (lossy) at the end, and the message valid when all of it was and no
/// character was left unfinished.
fn preview_as_bytes(pieces: &[&[u8]], limit: usize) -> (Vec<u8>, String, bool) {
    let mut kept: Vec<u8> = Vec::new();
    for p in pieces {
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&p[..room.min(p.len())]);
    }
    let all = pieces.concat();
    let text = String::from_utf8_lossy(&kept).into_owned();
    (kept, text, std::str::from_utf8(&all).is_ok())
}

#[test]
fn a_text_preview_kept_as_checked_text_is_the_one_kept_as_bytes() {
    // Characters of 1 to 4 bytes, invalid bytes, pieces that split characters, previews cut
    // inside a character, and the budget's count of the buffers along the way.
    let texts: Vec<Vec<u8>> = vec![
        b"plain ascii text, long enough to be cut".to_vec(),
        "héllo wörld ✓ 𝄞 ende".as_bytes().to_vec(),
        "ééééééééééééééééé".as_bytes().to_vec(),
        b"bad \xff byte in the middle".to_vec(),
        b"cut \xe2\x9c".to_vec(),
        "𝄞𝄞𝄞𝄞".as_bytes().to_vec(),
        Vec::new(),
    ];
    for t in &texts {
        for limit in [0, 1, 2, 3, 5, 7, 8, 13, 1024] {
            for split in 0..=t.len().min(12) {
                let pieces: Vec<&[u8]> = if split == 0 {
                    vec![&t[..]]
                } else {
                    t.chunks(split).collect()
                };
                let mut m = Msg::new(Opcode::Text, false, 0);
                let (kept, want, valid) = preview_as_bytes(&pieces, limit);
                let mut bytes_cap: Vec<u8> = Vec::new();
                for p in &pieces {
                    consume(&mut m, p, limit);
                    let room = limit.saturating_sub(bytes_cap.len());
                    bytes_cap.extend_from_slice(&p[..room.min(p.len())]);
                    assert_eq!(
                        m.preview.capacity() + m.payload.capacity(),
                        bytes_cap.capacity(),
                        "{t:?} {limit} {split}"
                    );
                }
                if !m.utf8_carry.is_empty() {
                    m.invalid();
                }
                assert_eq!(m.utf8 != Utf8::Invalid, valid, "{t:?} {limit} {split}");
                assert_eq!(m.text(), want, "{t:?} {limit} {split} {kept:?}");
            }
        }
    }
    // A ping's payload: text only when it is, cut at the preview.
    for (b, limit) in [
        (&b"ping \xe2\x9c\x93"[..], 6),
        (&b"ping"[..], 2),
        (&b"\xff"[..], 9),
    ] {
        let mut m = Msg::new(Opcode::Ping, false, 0);
        preview_if_text(&mut m, b, limit);
        let want = if std::str::from_utf8(b).is_ok() {
            String::from_utf8_lossy(&b[..limit.min(b.len())]).into_owned()
        } else {
            String::new()
        };
        assert_eq!(m.text(), want);
    }
}
