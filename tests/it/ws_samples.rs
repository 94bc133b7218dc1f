//! WebSocket conversations on the bundled captures against what the client and server programs
//! logged of the frames they wrote (`samples/expected.json` → `details.websocket_connections`,
//! written by the recording scripts from `ws_client.py`/`ws_server.py` logs, never tshark).

use std::fs;

use crate::common::*;
use hopscope::model::websocket::Side;
use serde_json::Value;

fn facts() -> Vec<Value> {
    let p = samples_dir().join("expected.json");
    let v: Value = serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json");
    v["captures"].as_array().cloned().expect("captures")
}

fn run(name: &str) -> AppRun {
    let mut cfg = hopscope::analyzers::AnalyzerConfig::default();
    cfg.ws.frames = true;
    cfg.ws.preview = 1 << 20;
    run_app(&samples_dir().join(name), cfg)
}

#[test]
fn frames_and_messages_match_what_the_programs_logged() {
    let mut problems = Vec::new();
    let mut frames_checked = 0;
    let mut messages_checked = 0;
    for f in facts() {
        let Some(conns) = f["details"]["websocket_connections"].as_array() else {
            continue;
        };
        let name = f["file"].as_str().unwrap_or_default().to_string();
        let run = run(&name);
        for c in conns {
            let client = c["client"].as_str().unwrap_or_default();
            let Some(ws) = run
                .websockets
                .iter()
                .find(|w| w.client.to_string() == client)
            else {
                problems.push(format!("{name}: no conversation from {client}"));
                continue;
            };
            let msgs: Vec<_> = run
                .messages
                .iter()
                .filter(|m| m.websocket == ws.id)
                .collect();
            for (key, side, label) in [
                ("frames_client_to_server", Side::Client, "client"),
                ("frames_server_to_client", Side::Server, "server"),
            ] {
                // Frames, in order, as the sender logged them.
                let mut got: Vec<Value> = msgs
                    .iter()
                    .filter(|m| m.direction == side)
                    .flat_map(|m| m.frame_list.clone().unwrap_or_default())
                    .map(|fr| {
                        serde_json::json!([
                            fr.stream_offset,
                            fr.fin,
                            fr.rsv & 4 != 0,
                            fr.opcode,
                            fr.masked,
                            fr.length
                        ])
                    })
                    .collect();
                got.sort_by_key(|v| v[0].as_u64());
                let want: Vec<Value> = c[key]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|fr| {
                        serde_json::json!([
                            fr["stream_offset"],
                            fr["fin"],
                            fr["rsv1"],
                            fr["opcode"],
                            fr["masked"],
                            fr["payload_length"]
                        ])
                    })
                    .collect();
                if got != want {
                    problems.push(format!(
                        "{name} {client} {label} frames:\n  ours {got:?}\n  log  {want:?}"
                    ));
                }
                frames_checked += want.len();
            }
            for (key, side, label) in [
                ("messages_client_to_server", Side::Client, "client"),
                ("messages_server_to_client", Side::Server, "server"),
            ] {
                let Some(want) = c[key].as_array() else {
                    continue;
                };
                let ours: Vec<_> = msgs
                    .iter()
                    .filter(|m| {
                        m.direction == side && !matches!(&*m.opcode, "ping" | "pong" | "close")
                    })
                    .collect();
                if ours.len() != want.len() {
                    problems.push(format!(
                        "{name} {client} {label}: {} messages, log {}",
                        ours.len(),
                        want.len()
                    ));
                    continue;
                }
                for (m, w) in ours.iter().zip(want) {
                    let ok = m.opcode == w["type"].as_str().unwrap_or_default()
                        && m.length == w["payload_bytes"].as_u64().unwrap_or(u64::MAX)
                        && m.wire_length == w["wire_payload_bytes"].as_u64().unwrap_or(u64::MAX)
                        && m.compressed == w["compressed"].as_bool().unwrap_or(false)
                        && m.frames == w["fragments"].as_u64().unwrap_or(0)
                        && (w["payload_text"].is_null()
                            || m.text.as_deref() == w["payload_text"].as_str());
                    if !ok {
                        problems.push(format!(
                            "{name} {client} {label} message {}:\n  ours {m:?}\n  log  {w}",
                            w["index"]
                        ));
                    }
                    messages_checked += 1;
                }
            }
            let close = &c["close"];
            let ours = (ws.close.client_code, ws.close.server_code);
            let want = (
                close["client"]["code"].as_u64().map(|v| v as u16),
                close["server"]["code"].as_u64().map(|v| v as u16),
            );
            if !close.is_null() && ours != want {
                problems.push(format!(
                    "{name} {client}: close codes {ours:?}, log {want:?}"
                ));
            }
        }
    }
    assert!(frames_checked > 100, "{frames_checked} frames");
    assert!(messages_checked > 20, "{messages_checked} messages");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The echo samples: every message the client sent came back, same lengths and texts.
#[test]
fn echo_samples_round_trip() {
    for name in [
        "websocket-echo.pcap",
        "websocket-deflate.pcap",
        "websocket-nginx-ok.pcap",
        "websocket-socks5.pcap",
    ] {
        let run = run(name);
        assert!(!run.websockets.is_empty(), "{name}");
        for ws in &run.websockets {
            let data = |side: Side| -> Vec<(String, u64, Option<String>)> {
                run.messages
                    .iter()
                    .filter(|m| {
                        m.websocket == ws.id
                            && m.direction == side
                            && (m.opcode == "text" || m.opcode == "binary")
                    })
                    .map(|m| (m.opcode.to_string(), m.length, m.text.clone()))
                    .collect()
            };
            assert_eq!(data(Side::Client), data(Side::Server), "{name}");
            assert!(!data(Side::Client).is_empty());
            assert!(ws.close.clean, "{name}");
            assert_eq!(ws.handshake.accept_valid, Some(true));
        }
    }
    let deflate = run("websocket-deflate.pcap");
    assert!(deflate.websockets[0].compression.is_some());
    assert!(
        deflate
            .messages
            .iter()
            .any(|m| m.compressed && m.length == 68_000)
    );
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// websocket-browser: headless Chromium as the client (samples/tools/ws_browser_lab.py). The
/// expected values are what the page logged (`details.page_log`: types, UTF-8 byte lengths,
/// sha256 via crypto.subtle, the close event) and what the websockets server logged (the
/// bytes it read and wrote, the close frames its protocol state recorded), never hopscope's
/// or tshark's output.
///
/// Second opinion, tshark 4.x (`tshark -r samples/websocket-browser.pcap -Y websocket -T fields
/// -e websocket.opcode -e websocket.payload_length`): 12 frames, 7 from the browser (text,
/// text, binary, text + 2 continuations, close) and 5 from the server (text, text, binary,
/// text, close), the same as hopscope and the logs. Its `websocket.payload_length` column
/// prints the 7-bit length field (126 / 127 for the 16/64-bit forms; the real lengths are in
/// `payload_length_ext_16` / `_ext_64`: 364, 62682, 62702, 25240, 151434, as here). tshark
/// inflates each frame on its own, so it shows the browser's last continuation (RSV1 clear,
/// still compressed: RFC 7692 puts RSV1 on the first frame only) as raw deflate bytes with
/// "Trailing stray characters"; hopscope inflates across the three fragments and gets the
/// page's 1,000,000 bytes and sha256. Chromium's fragment boundaries are its own (data-pipe
/// chunks) and change between recordings, so this test reads them from the facts.
#[test]
fn browser_websocket_matches_the_page_and_server_logs() {
    let name = "websocket-browser.pcap";
    let f = facts()
        .into_iter()
        .find(|f| f["file"] == name)
        .expect("facts for websocket-browser.pcap");
    let det = &f["details"];
    let conn = &det["websocket_connections"][0];
    let page: Vec<&Value> = det["page_log"]
        .as_array()
        .expect("page_log")
        .iter()
        .collect();
    let page_events =
        |ev: &str| -> Vec<&Value> { page.iter().copied().filter(|e| e["event"] == ev).collect() };
    let run = run(name);

    // One conversation (the refused upgrade is not one), from the browser's logged port.
    assert_eq!(run.websockets.len(), 1, "{:?}", run.websockets);
    let ws = &run.websockets[0];
    assert_eq!(
        ws.client.to_string(),
        conn["client"].as_str().expect("present")
    );
    assert_eq!(ws.server.to_string(), "127.0.0.1:8791");
    assert_eq!(ws.handshake.accept_valid, Some(true));
    assert_eq!(
        ws.handshake.origin.as_deref(),
        conn["handshake"]["origin"].as_str()
    );
    // Negotiation: Chromium's default offer, the server's answer, and what the page saw in
    // WebSocket.extensions.
    assert_eq!(
        ws.handshake.extensions_offered,
        [conn["handshake"]["extensions_offered"]
            .as_str()
            .expect("present")]
    );
    assert_eq!(
        ws.handshake.extensions,
        [conn["extensions_browser_reports"]
            .as_str()
            .expect("present")]
    );
    assert_eq!(
        conn["handshake"]["extensions_agreed"],
        conn["extensions_browser_reports"]
    );
    let deflate = ws.compression.as_ref().expect("permessage-deflate");
    assert_eq!(
        (
            deflate.client_max_window_bits,
            deflate.server_max_window_bits
        ),
        (Some(12), Some(12)),
        "{deflate:?}"
    );
    assert!(!deflate.client_no_context_takeover && !deflate.server_no_context_takeover);

    // Data messages, both directions, against the page's log (what it sent, what it received)
    // and the wire facts (compression, fragments, compressed length).
    for (side, page_ev, key) in [
        (Side::Client, "sent", "messages_client_to_server"),
        (Side::Server, "received", "messages_server_to_client"),
    ] {
        let ours: Vec<_> = run
            .messages
            .iter()
            .filter(|m| m.direction == side && (m.opcode == "text" || m.opcode == "binary"))
            .collect();
        let logged = page_events(page_ev);
        let wire = conn[key].as_array().expect(key);
        assert_eq!(ours.len(), 4, "{side:?}");
        assert_eq!(logged.len(), 4, "{side:?}");
        for ((m, b), w) in ours.iter().zip(&logged).zip(wire) {
            let what = format!(
                "{side:?} message {}: ours {m:?}, page {b}, wire {w}",
                b["index"]
            );
            assert_eq!(m.opcode, b["type"].as_str().expect("present"), "{what}");
            assert_eq!(m.length, b["bytes"].as_u64().expect("present"), "{what}");
            assert!(m.compressed, "{what}");
            assert_eq!(
                m.compressed,
                w["compressed"].as_bool().expect("present"),
                "{what}"
            );
            assert_eq!(
                m.wire_length,
                w["wire_payload_bytes"].as_u64().expect("present"),
                "{what}"
            );
            assert_eq!(
                m.frames,
                w["fragments"].as_u64().expect("present"),
                "{what}"
            );
            assert!(!m.partial, "{what}");
            if m.opcode == "text" {
                // preview is 1 MiB here: the whole 1,000,000-byte text is kept
                assert!(!m.text_truncated, "{what}");
                assert_eq!(m.utf8_valid, Some(true), "{what}");
                let text = m.text.as_deref().expect("present");
                assert_eq!(
                    sha256_hex(text.as_bytes()),
                    b["sha256"].as_str().expect("present"),
                    "{what}"
                );
                // the page's `chars` is JavaScript's String.length: UTF-16 code units (the
                // non-ASCII text has 19 characters, 20 units: U+1F680 is a surrogate pair)
                assert_eq!(
                    text.encode_utf16().count() as u64,
                    b["chars"].as_u64().expect("present"),
                    "{what}"
                );
                if let Some(t) = b["text"].as_str() {
                    assert_eq!(text, t);
                }
            }
        }
        // the figures: 19, 32 (non-ASCII: 20 chars), 4096 binary, 1,000,000
        let lens: Vec<u64> = ours.iter().map(|m| m.length).collect();
        assert_eq!(lens, [19, 32, 4096, 1_000_000], "{side:?}");
    }
    // The big message: Chromium fragments it (text + continuations, RSV1 on the first only),
    // the server sends one frame with a 64-bit length.
    let big_c = &conn["messages_client_to_server"][3];
    assert!(big_c["fragments"].as_u64().expect("present") > 1, "{big_c}");
    let big_s_frame = &conn["frames_server_to_client"][3];
    assert_eq!(big_s_frame["length_field"], "64-bit");
    let ours_big_s = run
        .messages
        .iter()
        .find(|m| m.direction == Side::Server && m.length == 1_000_000)
        .expect("present");
    assert_eq!(ours_big_s.frames, 1);
    assert!(ours_big_s.wire_length > 65_535);

    // The close: the server first with 4001 "done by server", Chromium echoes it; the page's
    // close event has that code and reason and wasClean true.
    let close = &ws.close;
    let browser_close = page_events("close")[0];
    assert_eq!(conn["close_initiator"], "server");
    assert_eq!(close.initiator, Some(Side::Server));
    assert_eq!(close.code, Some(4001));
    assert_eq!(close.reason.as_deref(), Some("done by server"));
    assert_eq!(
        (close.server_code, close.server_reason.as_deref()),
        (
            conn["close"]["server"]["code"].as_u64().map(|c| c as u16),
            conn["close"]["server"]["reason"].as_str()
        )
    );
    assert_eq!(
        (close.client_code, close.client_reason.as_deref()),
        (
            conn["close"]["client"]["code"].as_u64().map(|c| c as u16),
            conn["close"]["client"]["reason"].as_str()
        )
    );
    assert_eq!(close.client_code, Some(4001), "Chromium echoes the code");
    assert_eq!(
        close.code.map(u64::from),
        browser_close["code"].as_u64(),
        "{browser_close}"
    );
    assert_eq!(close.reason.as_deref(), browser_close["reason"].as_str());
    assert_eq!(browser_close["wasClean"], true);
    assert!(close.clean);
    assert_eq!(close.frames_after_close, 0);
    let closes: Vec<_> = run
        .messages
        .iter()
        .filter(|m| m.opcode == "close")
        .map(|m| (m.direction, m.close_code))
        .collect();
    assert_eq!(
        closes,
        [(Side::Server, Some(4001)), (Side::Client, Some(4001))]
    );

    // The refused upgrade: 403 by Origin, reported as such; the page saw close 1006, unclean.
    let refused = &det["refused_upgrades"][0];
    let tx = run
        .transactions
        .iter()
        .find(|t| t.client.to_string() == refused["client"].as_str().expect("present"))
        .expect("the refused upgrade's transaction");
    assert_eq!(tx.response.as_ref().map(|r| r.status), Some(403));
    assert!(tx.switched_to.is_none());
    assert!(
        tx.findings.contains(&"ws.upgrade-refused"),
        "{:?}",
        tx.findings
    );
    assert_eq!(refused["browser_close_event"]["code"], 1006);
    assert_eq!(refused["browser_close_event"]["wasClean"], false);
    // The accepting server never refused an Origin in this capture (the refusing one is
    // another port, i.e. another server): the cross-origin accept is flagged.
    let any = run
        .findings
        .iter()
        .filter(|f| f.code.name == "cors.websocket-any-origin")
        .count();
    assert_eq!(any, 1, "{:?}", run.codes());
    assert!(!run.codes().iter().any(|c| c.starts_with("ws.inflate")));
}

/// The inflate cap on the browser sample: with the defaults (`WsConfig::max_inflate` 16 MiB,
/// `preview` 1024) the 1,000,000-byte messages decode whole and only the preview is cut;
/// below the message size, decoding stops at the cap and both 1 MB messages are partial; the
/// `ws.inflate-limit` finding is raised once per direction of the conversation at once, a
/// repeat in the same direction counted in one summary at the end (`docs/findings.md`,
/// "Repeated findings"), the other messages unaffected.
#[test]
fn browser_websocket_inflate_cap() {
    let name = "websocket-browser.pcap";
    let dflt = run_app(
        &samples_dir().join(name),
        hopscope::analyzers::AnalyzerConfig::default(),
    );
    let big: Vec<_> = dflt
        .messages
        .iter()
        .filter(|m| m.length == 1_000_000)
        .collect();
    assert_eq!(big.len(), 2);
    for m in &big {
        assert!(!m.partial && m.text_truncated);
        assert_eq!(m.text.as_deref().map(str::len), Some(1024));
    }
    assert!(!dflt.codes().iter().any(|c| c == "ws.inflate-limit"));

    let mut cfg = hopscope::analyzers::AnalyzerConfig::default();
    cfg.ws.max_inflate = 500_000;
    let capped = run_app(&samples_dir().join(name), cfg);
    let limit: Vec<_> = capped
        .findings
        .iter()
        .filter(|f| f.code.name == "ws.inflate-limit")
        .collect();
    let firsts: Vec<_> = limit.iter().filter(|f| f.count.is_none()).collect();
    let repeats: u64 = limit.iter().filter_map(|f| f.count).map(|n| n - 1).sum();
    assert_eq!(firsts.len() as u64 + repeats, 2, "{limit:?}");
    assert!(firsts.len() < 2 || firsts[0].direction != firsts[1].direction);
    let data: Vec<_> = capped
        .messages
        .iter()
        .filter(|m| m.opcode == "text" || m.opcode == "binary")
        .collect();
    assert_eq!(data.len(), 8);
    for m in data {
        if m.wire_length > 100_000 {
            assert!(m.partial && m.length <= 500_000, "{m:?}");
        } else {
            assert!(!m.partial, "{m:?}");
        }
    }
    assert!(capped.websockets[0].close.clean);
    // One finding for the conversation, but every capped message counted, each way.
    let w = &capped.websockets[0];
    assert_eq!(
        (
            w.client_to_server.capped_messages,
            w.server_to_client.capped_messages
        ),
        (1, 1)
    );
    let d = &dflt.websockets[0];
    assert_eq!(
        d.client_to_server.capped_messages + d.server_to_client.capped_messages,
        0
    );
}

/// WebSocket over HTTP/2 (RFC 8441, `h2-websocket-rfc8441.pcap`) against what the client logged
/// of its socket (`details.h2_websocket`: stream 3's DATA parsed into WebSocket frames, checked
/// against the server's own log): the extended CONNECT is the stream's transaction, switched to
/// a WebSocket whose every frame each way (opcode, FIN, mask, length, where its DATA frame
/// sits) and every message (fragments joined: opcode, length, text, payload hash, close code
/// and reason) is the logged one, in order.
#[test]
#[allow(clippy::unwrap_used)]
fn websocket_over_http2_is_what_the_client_logged() {
    use sha2::{Digest, Sha256};
    let f = facts()
        .into_iter()
        .find(|c| c["file"] == "h2-websocket-rfc8441.pcap")
        .expect("listed");
    let x = &f["details"]["h2_websocket"];
    let mut cfg = hopscope::analyzers::AnalyzerConfig::default();
    cfg.ws.frames = true;
    cfg.ws.binary_preview = true;
    cfg.ws.preview = 1 << 20;
    let run = run_app(&samples_dir().join("h2-websocket-rfc8441.pcap"), cfg);
    assert_eq!(run.codes(), Vec::<String>::new(), "{:?}", run.findings);

    // The server enabled the extended CONNECT, as logged.
    let h2 = &run.http2[0];
    let ecp = |v: &[hopscope::model::http2::Http2Setting]| {
        v.iter().find(|s| s.id == 8).map(|s| u64::from(s.value))
    };
    let logged = x["server_settings"].as_array().expect("settings");
    let want_ecp = logged
        .iter()
        .find(|s| s["id"] == 8)
        .and_then(|s| s["value"].as_u64());
    assert_eq!(ecp(&h2.settings.server), want_ecp);
    assert_eq!(x["enable_connect_protocol_from_server"], true);

    // The extended CONNECT is the stream's transaction, and it switched.
    let stream = x["stream_id"].as_u64().expect("stream_id") as u32;
    let t = run
        .transactions
        .iter()
        .find(|t| t.stream_id == Some(stream))
        .expect("the CONNECT's transaction");
    let q = t.request.as_ref().expect("request");
    let field = |name: &str| {
        x["connect_request_headers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|h| h[0] == name)
            .and_then(|h| h[1].as_str())
            .map(str::to_string)
    };
    assert_eq!(Some(q.method.clone()), field(":method"));
    assert_eq!(
        q.headers.get(":protocol"),
        Some(x["protocol"].as_str().unwrap().as_bytes())
    );
    assert_eq!(q.target, x["path"].as_str().unwrap());
    assert_eq!(q.authority.as_deref(), x["authority"].as_str());
    assert_eq!(q.scheme.as_deref(), x["scheme"].as_str());
    assert_eq!(
        t.response.as_ref().map(|r| u64::from(r.status)),
        x["status"].as_u64()
    );
    assert_eq!(
        t.switched_to.as_ref().map(|s| s.protocol.as_str()),
        Some("websocket")
    );

    // One WebSocket, on that stream, of that transaction.
    assert_eq!(run.websockets.len(), 1);
    let w = &run.websockets[0];
    let h = &w.handshake;
    assert_eq!(h.http_version, Some("HTTP/2"));
    assert_eq!(h.stream_id, Some(stream));
    assert_eq!(h.transaction, Some(t.id));
    assert_eq!(h.target.as_deref(), x["path"].as_str());
    assert_eq!(h.host.as_deref(), x["authority"].as_str());
    assert_eq!(h.version, field("sec-websocket-version"));
    assert_eq!(h.origin, field("origin"));
    assert_eq!(h.key, None);
    assert!(w.close.clean);
    for (side, code, reason) in [
        ("client", w.close.client_code, &w.close.client_reason),
        ("server", w.close.server_code, &w.close.server_reason),
    ] {
        let c = &x["close"][side];
        assert_eq!(code.map(u64::from), c["code"].as_u64(), "{side}");
        assert_eq!(reason.as_deref(), c["reason"].as_str(), "{side}");
    }

    let hex = |b: &[u8]| -> String {
        Sha256::digest(b)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let mut frames_checked = 0;
    for (key, side, stats) in [
        ("frames_client_to_server", Side::Client, &w.client_to_server),
        ("frames_server_to_client", Side::Server, &w.server_to_client),
    ] {
        let logged = x[key].as_array().expect("frames");
        let msgs: Vec<_> = run
            .messages
            .iter()
            .filter(|m| m.direction == side)
            .collect();
        // Every frame, in order.
        let frames: Vec<_> = msgs
            .iter()
            .flat_map(|m| m.frame_list.iter().flatten())
            .collect();
        assert_eq!(frames.len(), logged.len(), "{key}");
        assert_eq!(stats.frames, logged.len() as u64, "{key}");
        for (i, (got, want)) in frames.iter().zip(logged).enumerate() {
            let at = format!("{key} frame {i}");
            assert_eq!(
                u64::from(got.opcode),
                want["opcode"].as_u64().unwrap(),
                "{at}"
            );
            assert_eq!(got.fin, want["fin"].as_bool().unwrap(), "{at}");
            assert_eq!(got.masked, want["masked"].as_bool().unwrap(), "{at}");
            assert_eq!(got.length, want["payload_length"].as_u64().unwrap(), "{at}");
            // One WebSocket frame per DATA frame (unpadded): right after its 9-byte header.
            let data_at = want["h2_stream_offset"].as_u64().unwrap();
            assert_eq!(got.stream_offset, data_at + 9, "{at}");
            frames_checked += 1;
        }
        // Every message: the logged frames joined (a data frame and its continuations; a
        // control frame alone).
        // (opcode, length, text, each frame's payload hash, close code)
        type Want = (u64, u64, Vec<u8>, Vec<String>, Option<u64>);
        let mut want_msgs: Vec<Want> = Vec::new();
        let mut open = false;
        for fr in logged {
            let op = fr["opcode"].as_u64().unwrap();
            let len = fr["payload_length"].as_u64().unwrap();
            let text = fr["payload_text"].as_str().unwrap_or_default().as_bytes();
            let sha = fr["payload_sha256"].as_str().unwrap().to_string();
            if op == 0 && open {
                let m = want_msgs.last_mut().unwrap();
                m.1 += len;
                m.2.extend_from_slice(text);
                m.3.push(sha);
            } else {
                want_msgs.push((op, len, text.to_vec(), vec![sha], fr["close_code"].as_u64()));
            }
            if op < 8 {
                open = !fr["fin"].as_bool().unwrap();
            }
        }
        assert_eq!(msgs.len(), want_msgs.len(), "{key} messages");
        for (i, (m, (op, len, text, shas, close))) in msgs.iter().zip(&want_msgs).enumerate() {
            let at = format!("{key} message {i}");
            let name = match op {
                1 => "text",
                2 => "binary",
                8 => "close",
                9 => "ping",
                10 => "pong",
                _ => "?",
            };
            assert_eq!(m.opcode, name, "{at}");
            assert_eq!(m.length, *len, "{at}");
            assert_eq!(m.frames, shas.len() as u64, "{at}");
            assert!(!m.partial, "{at}");
            match *op {
                1 => assert_eq!(
                    m.text.as_deref().map(str::as_bytes),
                    Some(text.as_slice()),
                    "{at}"
                ),
                2 | 9 | 10 if shas.len() == 1 => {
                    let payload = m
                        .binary
                        .clone()
                        .or_else(|| m.text.clone().map(String::into_bytes));
                    assert_eq!(hex(&payload.unwrap_or_default()), shas[0], "{at}");
                }
                8 => assert_eq!(m.close_code.map(u64::from), *close, "{at}"),
                _ => {}
            }
        }
    }
    assert!(frames_checked >= 12, "frames checked: {frames_checked}");
}

/// Issue 19, on a real capture (`record.sh websocket_both_bad`, raw sockets): both peers break
/// RFC 6455 §5.1 on one conversation, the client 4 times (unmasked), the server 20 times
/// (masked). Each (code, direction) is a finding at once, the repeats one summary with `count`;
/// every packet that tshark's dissector shows carrying a violating frame is named by a finding
/// (its `packet` or one of its `packets`).
#[test]
fn both_peers_breaking_rfc6455_are_all_named() {
    let path = samples_dir().join("websocket-both-bad.pcap");
    let run = run_app(&path, Default::default());
    let of = |code: &str| -> Vec<&hopscope::model::Finding> {
        run.findings
            .iter()
            .filter(|f| f.code.name == code)
            .collect()
    };
    let cl = of("ws.unmasked-client-frame");
    let sv = of("ws.masked-server-frame");
    assert_eq!(cl.len(), 2, "{cl:?}");
    assert_eq!(sv.len(), 2, "{sv:?}");
    assert_eq!(cl[1].count, Some(4));
    assert_eq!(sv[1].count, Some(20));
    assert_eq!(
        cl[0].packet, cl[1].packet,
        "the summary is at the first occurrence"
    );
    assert!(sv[1].packets.len() <= hopscope::model::MAX_REPEAT_PACKETS);
    let named = |p: u64| {
        run.findings.iter().any(|f| {
            f.code.name.starts_with("ws.") && (f.packet == Some(p) || f.packets.contains(&p))
        })
    };
    let Ok(out) = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-Y", "websocket", "-T", "fields"])
        .args([
            "-e",
            "frame.number",
            "-e",
            "tcp.srcport",
            "-e",
            "websocket.mask",
        ])
        .output()
    else {
        eprintln!("tshark not found: the packets are not cross-checked");
        return;
    };
    let mut bad = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: Vec<&str> = line.split('\t').collect();
        let (Some(n), Some(port), Some(masks)) = (v.first(), v.get(1), v.get(2)) else {
            continue;
        };
        let from_server = *port == "8773";
        let broken = masks.split(',').any(|m| (m == "1") == from_server);
        if broken {
            bad += 1;
            let n: u64 = n.parse().expect("frame number");
            assert!(
                named(n),
                "packet {n} carries a violating frame and no finding names it"
            );
        }
    }
    assert!(bad >= 2, "tshark found {bad} packets with violating frames");
}
