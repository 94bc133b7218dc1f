//! WebSocket conversations on the bundled captures against what the client and server programs
//! logged of the frames they wrote (`samples/expected.json` → `details.websocket_connections`,
//! written by the recording scripts from `ws_client.py`/`ws_server.py` logs, never tshark).

mod common;

use std::fs;

use common::*;
use hopscope::model::websocket::Side;
use serde_json::Value;

fn facts() -> Vec<Value> {
    let p = samples_dir().join("expected.json");
    let v: Value = serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json");
    v["captures"].as_array().cloned().expect("captures")
}

fn run(name: &str) -> AppRun {
    let mut cfg = hopscope::analyzers::AppConfig::default();
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
                        m.direction == side
                            && !matches!(m.opcode.as_str(), "ping" | "pong" | "close")
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
                    .map(|m| (m.opcode.clone(), m.length, m.text.clone()))
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
