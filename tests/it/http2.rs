//! HTTP/2 through the whole pipeline: h2c upgrades on the bundled capture against what its
//! server logged (`samples/expected.json` → `details.h2c`), the suricata-verify h2c captures
//! against their Suricata tests, HTTP/2 over TLS in the third-party captures against tshark's
//! HTTP/2 view (`tests/data/tls-thirdparty/*/http.tshark.tsv`), and scripted prior-knowledge
//! connections (direct, inside a CONNECT and a SOCKS tunnel) for the probe, the findings'
//! places and the record. Every stream is a transaction (`transactions[]`, with its
//! `stream_id`), and the connection's `http2[]` record lists them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;
use hopscope::analyzers::AnalyzerConfig;
use hopscope::model::Dir;
use hopscope::model::http::{TransactionRecord, TxnState};
use hopscope::model::http2::Http2Record;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn facts(file: &str) -> Value {
    let p = samples_dir().join("expected.json");
    let v: Value = serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json");
    v["captures"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["file"] == file).cloned())
        .expect("listed")
}

fn flags(v: &Value) -> Vec<&str> {
    v["flags"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn h2c_upgrade_sample_is_what_its_server_logged() {
    let f = facts("h2c-upgrade.pcap");
    let x = &f["details"]["h2c"];
    let run = run_app(&samples_dir().join("h2c-upgrade.pcap"), Default::default());
    assert!(
        run.findings.is_empty(),
        "no finding expected: {:?}",
        run.codes()
    );
    assert_eq!(run.http2.len(), 1);
    let h = &run.http2[0];
    let stream = &f["streams"][0];
    assert_eq!(
        h.client.to_string(),
        stream["client"].as_str().expect("in the facts")
    );
    assert_eq!(
        h.server.to_string(),
        stream["server"].as_str().expect("in the facts")
    );
    assert_eq!(
        h.connection,
        stream["tshark_follow"]["tcp_stream_index"]
            .as_u64()
            .expect("in the facts")
    );
    assert_eq!(h.id, 0);
    assert_eq!(h.mode, "h2c-upgrade");
    // The upgrading transaction: the request line the facts name, switched to h2c.
    let line = x["upgrade_request_line"].as_str().expect("in the facts");
    let t = run
        .transactions
        .iter()
        .find(|t| Some(t.id) == h.transaction)
        .expect("the upgrade transaction");
    let req = t.request.as_ref().expect("request");
    assert_eq!(
        format!("{} {} {}", req.method, req.target, req.version),
        line
    );
    assert_eq!(
        t.switched_to.as_ref().map(|s| s.protocol.as_str()),
        Some("h2c")
    );
    assert!(h.preface_seen);

    // Frames per type per direction.
    for (got, key) in [
        (&h.frames.client_to_server, "client_to_server"),
        (&h.frames.server_to_client, "server_to_client"),
    ] {
        let want: BTreeMap<String, u64> =
            serde_json::from_value(x["frame_counts"][key].clone()).expect("in the facts");
        let got: BTreeMap<String, u64> = got.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(got, want, "{key}");
    }
    // Each side's first SETTINGS, names included.
    let cf = x["frames_client_to_server"]
        .as_array()
        .expect("in the facts");
    let sf = x["frames_server_to_client"]
        .as_array()
        .expect("in the facts");
    for (got, frames, side) in [
        (&h.settings.client, cf, "client"),
        (&h.settings.server, sf, "server"),
    ] {
        let first = frames
            .iter()
            .find(|w| w["type"] == "SETTINGS" && !flags(w).contains(&"ACK"))
            .expect("in the facts");
        let want: Vec<(String, u64, u64)> = first["settings"]
            .as_array()
            .expect("in the facts")
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().expect("in the facts").to_string(),
                    s["id"].as_u64().expect("in the facts"),
                    s["value"].as_u64().expect("in the facts"),
                )
            })
            .collect();
        let got: Vec<(String, u64, u64)> = got
            .iter()
            .map(|s| (s.name.to_string(), u64::from(s.id), u64::from(s.value)))
            .collect();
        assert_eq!(got, want, "{side}");
    }
    // Streams: what the facts say, END_STREAM and RST_STREAM from the logged frames.
    let want = x["streams"].as_array().expect("in the facts");
    assert_eq!(h.streams.len(), want.len());
    let on = |frames: &[Value], id: u64, pred: &dyn Fn(&Value) -> bool| {
        frames
            .iter()
            .any(|w| w["stream_id"].as_u64() == Some(id) && pred(w))
    };
    for (st, w) in h.streams.iter().zip(want) {
        let id = w["stream_id"].as_u64().expect("in the facts");
        assert_eq!(u64::from(st.id), id);
        assert_eq!(st.opened_by, "client", "{w}");
        assert_eq!(st.method.as_deref(), w["method"].as_str(), "{w}");
        assert_eq!(st.path.as_deref(), w["path"].as_str(), "{w}");
        assert_eq!(st.status.map(u64::from), w["status"].as_u64(), "{w}");
        assert_eq!(st.data_bytes.client_to_server, 0);
        assert_eq!(
            st.data_bytes.server_to_client,
            w["response_body_bytes"].as_u64().expect("in the facts")
        );
        let ended = |v: &Value| flags(v).contains(&"END_STREAM");
        // Stream 1's request was the HTTP/1.1 upgrade request, sent whole.
        assert_eq!(st.ended.client_to_server, id == 1 || on(cf, id, &ended));
        assert_eq!(st.ended.server_to_client, on(sf, id, &ended));
        let rst = |v: &Value| v["type"] == "RST_STREAM";
        assert_eq!(st.reset.is_some(), on(cf, id, &rst) || on(sf, id, &rst));
    }
    let goaway = |fs: &[Value]| fs.iter().any(|w| w["type"] == "GOAWAY");
    assert_eq!(h.goaway.is_some(), goaway(cf) || goaway(sf));
    // HTTP/2 bytes: from the preface on, and after the 101 head.
    assert_eq!(
        h.bytes.client_to_server,
        stream["client_bytes"].as_u64().expect("in the facts")
            - x["client_preface_offset"].as_u64().expect("in the facts")
    );
    assert_eq!(
        h.bytes.server_to_client,
        stream["server_bytes"].as_u64().expect("in the facts")
            - x["server_frames_offset"].as_u64().expect("in the facts")
    );
    assert_eq!(
        (h.lost_bytes.client_to_server, h.lost_bytes.server_to_client),
        (0, 0)
    );
    assert_eq!((h.untracked_stream_frames, h.notes_dropped), (0, 0));
}

/// The stream's transaction on connection `conn`.
fn on_stream(run: &AppRun, conn: u64, stream: u32) -> &TransactionRecord {
    run.transactions
        .iter()
        .find(|t| t.connection == conn && t.stream_id == Some(stream))
        .unwrap_or_else(|| panic!("no transaction for stream {stream} on #{conn}"))
}

/// (stream, method, target, status) of a transaction.
fn exchange(t: &TransactionRecord) -> (Option<u32>, String, String, Option<u16>) {
    let q = t.request.as_ref();
    (
        t.stream_id,
        q.map(|r| r.method.clone()).unwrap_or_default(),
        q.map(|r| r.target.clone()).unwrap_or_default(),
        t.response.as_ref().map(|r| r.status),
    )
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The decoded body a preview holds whole.
fn preview_bytes(b: &hopscope::model::http::BodyRecord) -> Vec<u8> {
    use base64::Engine as _;
    assert!(!b.preview_truncated);
    match (&b.preview, &b.preview_b64) {
        (Some(t), _) => t.as_bytes().to_vec(),
        (None, Some(x)) => base64::engine::general_purpose::STANDARD
            .decode(x)
            .expect("base64"),
        _ => Vec::new(),
    }
}

/// Every stream the server logged is a transaction: stream 1 answers the upgrading request
/// (a copy of it, linked to the `101`), stream 3 is the client's own; the bodies are what the
/// server sent, byte for byte.
#[test]
fn h2c_upgrade_sample_streams_are_transactions_as_logged() {
    let f = facts("h2c-upgrade.pcap");
    let x = &f["details"]["h2c"];
    let run = run_app_bodies(&samples_dir().join("h2c-upgrade.pcap"));
    assert!(run.findings.is_empty(), "{:?}", run.codes());
    let h = &run.http2[0];
    let upgrade = run
        .transactions
        .iter()
        .find(|t| Some(t.id) == h.transaction)
        .expect("the 101");
    let want = x["streams"].as_array().expect("in the facts");
    assert_eq!(run.transactions.len(), 1 + want.len());
    let mut ids = Vec::new();
    for w in want {
        let id = w["stream_id"].as_u64().expect("in the facts") as u32;
        let t = on_stream(&run, h.connection, id);
        ids.push(t.id);
        assert_eq!(t.state, TxnState::Complete);
        assert_eq!(
            exchange(t),
            (
                Some(id),
                w["method"].as_str().expect("in the facts").to_string(),
                w["path"].as_str().expect("in the facts").to_string(),
                w["status"].as_u64().map(|s| s as u16),
            )
        );
        let q = t.request.as_ref().expect("request");
        let r = t.response.as_ref().expect("response");
        assert_eq!(r.version, "HTTP/2");
        let body = &r.body;
        assert_eq!(
            body.length,
            w["response_body_bytes"].as_u64().expect("in the facts")
        );
        assert_eq!(
            sha256_hex(&preview_bytes(body)),
            w["response_body_sha256"].as_str().expect("in the facts")
        );
        if id == 1 {
            // The upgrading request, as sent in HTTP/1.1; the 101 stays its own transaction.
            assert_eq!(t.h2c_upgrade, Some(upgrade.id));
            assert_eq!(q.version, "HTTP/1.1");
            assert_eq!(
                q.headers.get("http2-settings"),
                upgrade
                    .request
                    .as_ref()
                    .and_then(|u| u.headers.get("http2-settings"))
            );
            assert_eq!(t.timing.request_start, upgrade.timing.request_start);
            assert_eq!(t.index, upgrade.index + 1);
        } else {
            assert_eq!(t.h2c_upgrade, None);
            assert_eq!(q.version, "HTTP/2");
            assert_eq!(q.authority.as_deref(), w["authority"].as_str());
            assert_eq!(q.scheme.as_deref(), w["scheme"].as_str());
            assert!(q.headers.iter().take(4).all(|f| f.pseudo));
        }
    }
    assert_eq!(h.transactions, ids);
    // The client's HTTP2-Settings header, decoded.
    let got: Vec<(String, u64, u64)> = h
        .settings
        .upgrade
        .as_ref()
        .expect("decoded")
        .iter()
        .map(|s| (s.name.to_string(), u64::from(s.id), u64::from(s.value)))
        .collect();
    let want: Vec<(String, u64, u64)> = x["http2_settings_decoded"]
        .as_array()
        .expect("in the facts")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().expect("in the facts").to_string(),
                s["id"].as_u64().expect("in the facts"),
                s["value"].as_u64().expect("in the facts"),
            )
        })
        .collect();
    assert_eq!(got, want);
}

fn corpus_capture(name: &str) -> std::path::PathBuf {
    let p = corpus_dir().join("suricata-verify").join(name);
    assert!(p.is_file(), "{} is missing from the corpus", p.display());
    p
}

fn stream_line(h: &Http2Record, id: u32) -> (Option<&str>, Option<&str>, Option<u16>) {
    let st = h.streams.iter().find(|s| s.id == id).expect("stream");
    (st.method.as_deref(), st.path.as_deref(), st.status)
}

/// suricata-verify h2c-upgrade (curl against nghttp2.org): what its suricata-test.yaml checks.
#[test]
fn corpus_h2c_upgrade_robots_and_humans() {
    let p = corpus_capture("h2c-upgrade.pcap");
    let run = run_app(&p, Default::default());
    assert!(run.findings.is_empty(), "{:?}", run.codes());
    assert_eq!(run.http2.len(), 1);
    let h = &run.http2[0];
    assert_eq!(h.mode, "h2c-upgrade");
    let t = &run.transactions[0];
    assert_eq!(h.transaction, Some(t.id));
    assert_eq!(t.response.as_ref().map(|r| r.status), Some(101));
    assert_eq!(
        stream_line(h, 1),
        (Some("GET"), Some("/robots.txt"), Some(200))
    );
    assert_eq!(
        stream_line(h, 3),
        (Some("GET"), Some("/humans.txt"), Some(404))
    );
    assert_eq!(h.streams.len(), 2);
    // http.http2.response.settings[2]: HEADER_TABLE_SIZE 8192; request.settings[2]: ENABLE_PUSH 0.
    let s = &h.settings.server[2];
    assert_eq!((s.name, s.value), ("HEADER_TABLE_SIZE", 8192));
    let c = &h.settings.client[2];
    assert_eq!((c.name, c.value), ("ENABLE_PUSH", 0));
    // Suricata's HTTP/2 events: stream 1 GET /robots.txt 200, stream 3 GET /humans.txt 404
    // with :authority nghttp2.org.
    assert_eq!(
        exchange(on_stream(&run, 0, 1)),
        (Some(1), "GET".into(), "/robots.txt".into(), Some(200))
    );
    let three = on_stream(&run, 0, 3);
    assert_eq!(
        exchange(three),
        (Some(3), "GET".into(), "/humans.txt".into(), Some(404))
    );
    let q = three.request.as_ref().expect("request");
    assert_eq!(q.authority.as_deref(), Some("nghttp2.org"));
    assert_eq!(run.transactions.len(), 3);
}

/// suricata-verify h2c-upgrade-range: three of its five connections upgrade and ask for a
/// range; each answers 206 with the range's bytes, then resets the stream. The ranges are
/// what tshark 4.0.17's HTTP/2 dissector shows in each response's `content-range`:
/// `bytes 0-10/69`, `bytes 20-30/69`, `bytes 40-68/69`.
#[test]
fn corpus_h2c_upgrade_range_is_206() {
    let p = corpus_capture("h2c-upgrade-range.pcap");
    let run = run_app(&p, Default::default());
    assert!(run.findings.is_empty(), "{:?}", run.codes());
    let upgrades: Vec<_> = run
        .transactions
        .iter()
        .filter(|t| t.switched_to.is_some())
        .collect();
    assert_eq!(upgrades.len(), 3, "tshark: 3 upgrades to h2c");
    assert_eq!(run.http2.len(), 3);
    let ranges = ["bytes 0-10/69", "bytes 20-30/69", "bytes 40-68/69"];
    for (((h, t), len), range) in run
        .http2
        .iter()
        .zip(&upgrades)
        .zip([11, 11, 29])
        .zip(ranges)
    {
        assert_eq!(h.transaction, Some(t.id));
        assert_eq!(h.connection, t.connection);
        assert_eq!(stream_line(h, 1), (Some("GET"), Some("/eicar"), Some(206)));
        assert_eq!(h.streams.len(), 1);
        assert_eq!(h.streams[0].data_bytes.server_to_client, len);
        assert!(h.streams[0].reset.is_some());
        // Stream 1 is a transaction: the 206 and its range, complete (the reset came after
        // the response ended: no error).
        let s1 = on_stream(&run, h.connection, 1);
        assert_eq!(s1.state, TxnState::Complete);
        assert_eq!(s1.h2c_upgrade, Some(t.id));
        let r = s1.response.as_ref().expect("response");
        assert_eq!((r.status, r.body.length), (206, len));
        assert_eq!(
            r.headers.get("content-range"),
            Some(range.as_bytes()),
            "as tshark shows it"
        );
        // The semantics step reads it like an HTTP/1.1 range response.
        let range = s1.semantics.as_ref().and_then(|s| s.range.as_ref());
        assert_eq!(
            range.map(|r| (r.outcome, r.matches)),
            Some(("partial", Some(true)))
        );
    }
}

// ------------------------------------------------------------------- scripted traffic

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn frame(t: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let n = payload.len() as u32;
    let mut v = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, t, flags];
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// An HPACK block of literals without indexing, new names (RFC 7541 §6.2.2), no Huffman.
fn block(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (n, val) in headers {
        v.push(0);
        v.push(n.len() as u8);
        v.extend_from_slice(n.as_bytes());
        v.push(val.len() as u8);
        v.extend_from_slice(val.as_bytes());
    }
    v
}

const SETTINGS: u8 = 4;
const HEADERS: u8 = 1;
const DATA: u8 = 0;
const WINDOW_UPDATE: u8 = 8;
/// HTTP/2 flags (not the TCP ones of `common`).
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;
const SETTINGS_ACK: u8 = 1;

/// A client's preface, SETTINGS and a GET for `path` on stream 1.
fn client_h2(path: &str) -> Vec<u8> {
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]));
    c.extend(frame(
        HEADERS,
        END_STREAM | END_HEADERS,
        1,
        &block(&[
            (":method", "GET"),
            (":path", path),
            (":scheme", "http"),
            (":authority", "h"),
        ]),
    ));
    c
}

/// A server's SETTINGS, ACK, and a 200 with 5 bytes on stream 1.
fn server_h2() -> Vec<u8> {
    let mut s = frame(SETTINGS, 0, 0, &[]);
    s.extend(frame(SETTINGS, SETTINGS_ACK, 0, &[]));
    s.extend(frame(
        HEADERS,
        END_HEADERS,
        1,
        &block(&[(":status", "200")]),
    ));
    s.extend(frame(DATA, END_STREAM, 1, b"hello"));
    s
}

/// A connection where the client and the server send these segments in turn, each acked.
fn conversation(segments: &[(usize, Vec<u8>)]) -> Script {
    let mut s = Script::new();
    let (mut sc, mut ss) = (1000u32, 5000u32);
    s.push(tcp4(C, S, SYN, sc - 1, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, ss - 1, sc, b""));
    s.push(tcp4(C, S, ACK, sc, ss, b""));
    for (d, b) in segments {
        if *d == 0 {
            s.push(tcp4(C, S, ACK | PSH, sc, ss, b));
            sc += b.len() as u32;
        } else {
            s.push(tcp4(S, C, ACK | PSH, ss, sc, b));
            ss += b.len() as u32;
        }
    }
    s.push(tcp4(C, S, ACK | FIN, sc, ss, b""));
    s.push(tcp4(S, C, ACK | FIN, ss, sc + 1, b""));
    s.push(tcp4(C, S, ACK, sc + 1, ss + 1, b""));
    s
}

fn only_h2(run: &AppRun) -> &Http2Record {
    assert_eq!(run.http2.len(), 1, "{:?}", run.codes());
    &run.http2[0]
}

#[test]
fn prior_knowledge_is_http2_not_an_http1_request() {
    // The preface split after its first line, which alone parses as `PRI * HTTP/2.0`.
    let c = client_h2("/pk");
    let run = run_app_packets(
        &conversation(&[
            (0, c[..16].to_vec()),
            (0, c[16..].to_vec()),
            (1, server_h2()),
        ])
        .pkts,
    );
    assert!(run.findings.is_empty(), "{:?}", run.codes());
    assert!(
        run.transactions.iter().all(|t| t.stream_id.is_some()),
        "not HTTP/1"
    );
    let h = only_h2(&run);
    assert_eq!(h.mode, "prior-knowledge");
    assert_eq!(h.transaction, None);
    assert!(h.preface_seen);
    assert_eq!(stream_line(h, 1), (Some("GET"), Some("/pk"), Some(200)));
    let st = &h.streams[0];
    assert_eq!(st.data_bytes.server_to_client, 5);
    assert!(st.ended.client_to_server && st.ended.server_to_client);
    assert_eq!(h.frames.client_to_server["SETTINGS"], 1);
    assert_eq!(h.frames.server_to_client["SETTINGS"], 2);
    assert_eq!(h.settings.client[0].name, "MAX_CONCURRENT_STREAMS");
    assert!(h.settings.server.is_empty());
    assert_eq!(h.bytes.client_to_server, c.len() as u64);
}

#[test]
fn prior_knowledge_when_the_server_sends_settings_first() {
    let run = run_app_packets(
        &conversation(&[
            (1, frame(SETTINGS, 0, 0, &[])),
            (0, client_h2("/first")),
            (1, frame(SETTINGS, SETTINGS_ACK, 0, &[])),
        ])
        .pkts,
    );
    assert!(run.findings.is_empty(), "{:?}", run.codes());
    assert!(run.websockets.is_empty());
    let h = only_h2(&run);
    assert_eq!(h.mode, "prior-knowledge");
    assert_eq!(stream_line(h, 1), (Some("GET"), Some("/first"), None));
}

#[test]
fn findings_name_the_absolute_offset_and_are_reported_once() {
    // h2c: the server's first frame is a WINDOW_UPDATE with increment 0, twice.
    let req = b"GET /u HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n\
                Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n"
        .to_vec();
    let resp = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    let mut server = resp.to_vec();
    let wu = frame(WINDOW_UPDATE, 0, 0, &[0, 0, 0, 0]);
    server.extend(&wu);
    let mut more = wu.clone();
    more.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &block(&[(":status", "204")]),
    ));
    // The client cuts its last frame header short.
    let mut client = PREFACE.to_vec();
    client.extend(frame(SETTINGS, 0, 0, &[]));
    client.extend_from_slice(&[0, 0]);
    let run = run_app_packets(
        &conversation(&[
            (0, req.clone()),
            (1, server),
            (0, client.clone()),
            (1, more),
        ])
        .pkts,
    );
    let h = only_h2(&run);
    assert_eq!(h.mode, "h2c-upgrade");
    assert_eq!(h.transaction, Some(run.transactions[0].id));
    assert_eq!(stream_line(h, 1), (Some("GET"), Some("/u"), Some(204)));
    let got: Vec<_> = run
        .findings
        .iter()
        .map(|f| {
            (
                f.code.name.to_string(),
                format!("{:?}", f.severity()).to_lowercase(),
                f.direction,
                f.stream_offset,
                f.connection,
            )
        })
        .collect();
    let (r, s) = (req.len() as u64, resp.len() as u64);
    let w = wu.len() as u64;
    assert_eq!(
        got,
        [
            (
                "h2.first-frame-not-settings".into(),
                "warning".into(),
                Some(Dir::ServerToClient),
                Some(s),
                Some(0)
            ),
            (
                "h2.window-update-zero".into(),
                "warning".into(),
                Some(Dir::ServerToClient),
                Some(s),
                Some(0)
            ),
            (
                "h2.window-update-zero".into(),
                "warning".into(),
                Some(Dir::ServerToClient),
                Some(s + w),
                Some(0)
            ),
            (
                "h2.truncated".into(),
                "info".into(),
                Some(Dir::ClientToServer),
                Some(r + client.len() as u64),
                Some(0)
            ),
        ]
    );
    assert!(
        run.findings
            .iter()
            .all(|f| f.packet.is_some() && f.ts.is_some())
    );
    assert!(run.findings[0].message.contains("RFC 9113"));
}

#[test]
fn http2_inside_connect_and_socks_tunnels() {
    let connect = b"CONNECT h:80 HTTP/1.1\r\nHost: h:80\r\n\r\n".to_vec();
    let ok = b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec();
    // A frame whose header is not SETTINGS places a finding inside the tunnel.
    let mut c = client_h2("/in-connect");
    c.extend(frame(WINDOW_UPDATE, 0, 0, &[0, 0, 0, 0]));
    let run = run_app_packets(
        &conversation(&[
            (0, connect.clone()),
            (1, ok),
            (0, c.clone()),
            (1, server_h2()),
        ])
        .pkts,
    );
    assert_eq!(run.tunnels.len(), 1);
    assert_eq!(run.tunnels[0].inner, "http2");
    let h = only_h2(&run);
    assert_eq!(h.mode, "prior-knowledge");
    assert_eq!(
        stream_line(h, 1),
        (Some("GET"), Some("/in-connect"), Some(200))
    );
    assert_eq!(run.codes(), ["h2.window-update-zero"]);
    assert_eq!(
        run.findings[0].stream_offset,
        Some((connect.len() + c.len() - 13) as u64)
    );

    // SOCKS5, no authentication, CONNECT to 10.0.0.1:80.
    let hello = vec![5, 1, 0];
    let choice = vec![5, 0];
    let req = vec![5, 1, 0, 1, 10, 0, 0, 1, 0, 80];
    let rep = vec![5, 0, 0, 1, 10, 0, 0, 1, 0, 80];
    let run = run_app_packets(
        &conversation(&[
            (0, hello),
            (1, choice),
            (0, req),
            (1, rep),
            (0, client_h2("/in-socks")),
            (1, server_h2()),
        ])
        .pkts,
    );
    assert!(run.findings.is_empty(), "{:?}", run.codes());
    assert_eq!(run.tunnels.len(), 1);
    assert_eq!(run.tunnels[0].kind, "socks5");
    assert_eq!(run.tunnels[0].inner, "http2");
    assert_eq!(
        stream_line(only_h2(&run), 1),
        (Some("GET"), Some("/in-socks"), Some(200))
    );
}

#[test]
fn reports_carry_the_record() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "samples/h2c-upgrade.pcap", "--format", "ndjson"])
        .output()
        .expect("run");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let h: Vec<_> = lines.iter().filter(|l| l["type"] == "http2").collect();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["mode"], "h2c-upgrade");
    assert_eq!(h[0]["streams"][1]["path"], "/two.json");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "samples/h2c-upgrade.pcap", "--format", "text"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("HTTP/2 (1):"), "{text}");
    assert!(
        text.contains("1 GET /one.txt → 200, 3 GET /two.json → 200"),
        "{text}"
    );
}

#[test]
fn h2c_upgrade_of_a_request_with_a_body() {
    // RFC 9113 §3.2: the request body is sent whole before the client's preface.
    let req = b"POST /up HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n\
                Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\nContent-Length: 5\r\n\r\nhello"
        .to_vec();
    let mut resp =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".to_vec();
    resp.extend(server_h2());
    let mut client = PREFACE.to_vec();
    client.extend(frame(SETTINGS, 0, 0, &[]));
    // The preface after the 101, or sent at once behind the request (held until the 101).
    let mut eager = req.clone();
    eager.extend(&client);
    for segments in [
        vec![(0, req), (1, resp.clone()), (0, client)],
        vec![(0, eager), (1, resp)],
    ] {
        let run = run_app_packets(&conversation(&segments).pkts);
        assert!(run.findings.is_empty(), "{:?}", run.codes());
        let h = only_h2(&run);
        assert_eq!(stream_line(h, 1), (Some("POST"), Some("/up"), Some(200)));
        assert_eq!(h.bytes.client_to_server, (PREFACE.len() + 9) as u64);
    }
}

// ------------------------------------------------------------------- HTTP/2 over TLS

fn thirdparty() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls-thirdparty")
}

/// Runs a third-party capture with the key logs its row names (none: keys in the pcapng).
fn run_thirdparty(source: &str, capture: &str, keylog: &str) -> AppRun {
    let dir = thirdparty().join(source);
    let mut cfg = AnalyzerConfig::default();
    cfg.tls.keylogs = keylog
        .split(',')
        .filter(|k| !k.is_empty() && *k != "-" && !k.starts_with('('))
        .map(|k| dir.join(k))
        .collect();
    cfg.http.preview = 1 << 20;
    run_app(&dir.join(capture), cfg)
}

/// tshark's HTTP/2 view of the third-party captures (`http.tshark.tsv`: one row per frame
/// that carries HTTP/2, its frames' stream ids and types listed): every request (method,
/// path) and every response status there is a transaction of that stream.
#[test]
fn http2_over_tls_streams_are_the_transactions_tshark_shows() {
    let mut checked = 0;
    for source in ["wireshark", "snet"] {
        let text = fs::read_to_string(thirdparty().join(source).join("http.tshark.tsv"))
            .expect("http.tshark.tsv");
        let mut lines = text.lines();
        let head: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        let rows: Vec<BTreeMap<&str, &str>> = lines
            .map(|l| head.iter().copied().zip(l.split('\t')).collect())
            .filter(|r: &BTreeMap<&str, &str>| r.get("proto") == Some(&"http2"))
            .collect();
        let mut runs: BTreeMap<(&str, &str), AppRun> = BTreeMap::new();
        for r in &rows {
            let key = (r["capture"], r["keylog"]);
            let run = runs
                .entry(key)
                .or_insert_with(|| run_thirdparty(source, key.0, key.1));
            let conn: u64 = r["tcp_stream"].parse().expect("tcp_stream");
            let list = |k: &str| -> Vec<&str> {
                r.get(k).map_or(Vec::new(), |v| {
                    v.split(',').filter(|x| !x.is_empty()).collect()
                })
            };
            // The streams of this frame's HEADERS, in order.
            let streams: Vec<u32> = list("h2_stream")
                .iter()
                .zip(list("h2_type"))
                .filter(|(_, t)| *t == "1")
                .map(|(s, _)| s.parse().expect("stream id"))
                .collect();
            let what = format!("{source}/{} frame {}", key.0, r["frame"]);
            if !r["method"].is_empty() {
                let [id] = streams[..] else {
                    panic!("{what}: one request per row: {streams:?}")
                };
                let t = on_stream(run, conn, id);
                let q = t.request.as_ref().unwrap_or_else(|| panic!("{what}"));
                assert_eq!(
                    (q.method.as_str(), q.target.as_str()),
                    (r["method"], r["uri"])
                );
                assert_eq!(q.version, "HTTP/2", "{what}");
                checked += 1;
            }
            let statuses = list("status");
            if !statuses.is_empty() {
                assert_eq!(statuses.len(), streams.len(), "{what}");
                for (id, st) in streams.iter().zip(statuses) {
                    let t = on_stream(run, conn, *id);
                    let got = t.response.as_ref().map(|r| r.status.to_string());
                    assert_eq!(got.as_deref(), Some(st), "{what} stream {id}");
                    checked += 1;
                }
            }
        }
        for ((capture, _), run) in &runs {
            assert!(
                run.transactions
                    .iter()
                    .all(|t| t.stream_id.is_some()
                        && t.scheme == hopscope::model::http::Scheme::Https),
                "{capture}: HTTP/2 over TLS only"
            );
        }
    }
    // 22 requests and the 16 statuses tshark's default view shows (see the next test for
    // the other 6), each found on a transaction of its stream.
    assert_eq!(checked, 22 + 16, "checked {checked}");
}

/// Wireshark's `http2_follow_multistream.pcapng` (Firefox to www.mozilla.org): 19 GETs on
/// streams 13 … 49, every one answered 200. tshark's default view shows 13 responses (its TCP
/// reassembly stops at an out-of-order segment); with `-o tcp.reassemble_out_of_order:TRUE`
/// it shows all 19, and the six it missed carry `content-length` 47112 (29), 3564 (33),
/// 4931 (35), 5367 (41), 52156 (49), and 43 an svg: the bodies hopscope reads have exactly
/// the declared lengths, and the gzip ones decode.
#[test]
fn http2_multistream_all_nineteen_answered() {
    let run = run_thirdparty(
        "wireshark",
        "http2_follow_multistream.pcapng",
        "(pcapng DSB)",
    );
    assert!(run.findings.is_empty(), "{:?}", run.codes());
    assert_eq!(run.transactions.len(), 19);
    let want: Vec<u32> = (13..=49).step_by(2).collect();
    let mut got: Vec<u32> = run
        .transactions
        .iter()
        .filter_map(|t| t.stream_id)
        .collect();
    got.sort_unstable();
    assert_eq!(got, want);
    for (id, len) in [(29, 47112), (33, 3564), (35, 4931), (41, 5367), (49, 52156)] {
        let r = on_stream(&run, 0, id).response.as_ref().expect("response");
        assert_eq!(r.body.length, len, "stream {id}");
    }
    for t in &run.transactions {
        assert_eq!(t.state, TxnState::Complete, "{:?}", t.stream_id);
        let q = t.request.as_ref().expect("request");
        assert_eq!(q.authority.as_deref(), Some("www.mozilla.org"));
        assert_eq!(q.body.framing, hopscope::model::http::BodyFraming::None);
        let r = t.response.as_ref().expect("response");
        assert_eq!(r.status, 200);
        if let Some(cl) = r.headers.get("content-length") {
            let cl: u64 = std::str::from_utf8(cl)
                .expect("text")
                .parse()
                .expect("number");
            assert_eq!(r.body.length, cl, "{:?}", t.stream_id);
        }
        if r.body.content_encoding == ["gzip"] {
            assert_eq!(r.body.decoding, Some("complete"), "{:?}", t.stream_id);
        }
    }
    // The first page: 4244 bytes of gzip, HTML when decoded.
    let page = on_stream(&run, 0, 13).response.as_ref().expect("response");
    assert_eq!(page.body.length, 4244);
    assert!(preview_bytes(&page.body).starts_with(b"\n\n\n\n<!doctype html>"));
    assert_eq!(run.http2[0].transactions.len(), 19);
}

/// `http2-brotli.pcapng`: one stream whose body is brotli (52 bytes on the wire).
#[test]
fn http2_brotli_body_decodes() {
    let run = run_thirdparty("wireshark", "http2-brotli.pcapng", "(pcapng DSB)");
    assert!(run.findings.is_empty(), "{:?}", run.codes());
    let t = on_stream(&run, 0, 1);
    assert_eq!(
        exchange(t),
        (Some(1), "GET".into(), "/test.txt".into(), Some(200))
    );
    let b = &t.response.as_ref().expect("response").body;
    assert_eq!(b.content_encoding, ["br"]);
    assert_eq!((b.length, b.decoding), (52, Some("complete")));
    assert_eq!(b.decoded_length, Some(preview_bytes(b).len() as u64));
}

/// `http2-data-reassembly.pcap`: one PNG in DATA frames of 4 × 16384 + 10555 bytes.
#[test]
fn http2_data_frames_make_one_body() {
    let run = run_thirdparty(
        "wireshark",
        "http2-data-reassembly.pcap",
        "http2-data-reassembly.keys",
    );
    let t = on_stream(&run, 0, 1);
    assert_eq!(
        exchange(t),
        (Some(1), "GET".into(), "/wireshark.png".into(), Some(200))
    );
    let b = &t.response.as_ref().expect("response").body;
    assert_eq!(b.length, 4 * 16384 + 10555);
    // Six DATA frames (the last one empty, with END_STREAM), each with its 9-byte header.
    assert_eq!(b.wire_length, b.length + 6 * 9);
    assert!(preview_bytes(b).starts_with(b"\x89PNG"));
}

/// Each HTTP/2 sample with facts (`details.h2_connections`): its file name, those
/// connections' facts, and the run over it with its key log when it has one.
fn h2_sample_runs() -> Vec<(String, Vec<Value>, AppRun)> {
    let text = fs::read_to_string(samples_dir().join("expected.json")).expect("expected.json");
    let all: Value = serde_json::from_str(&text).expect("json");
    let mut out = Vec::new();
    for cap in all["captures"].as_array().into_iter().flatten() {
        let Some(conns) = cap["details"]["h2_connections"].as_array() else {
            continue;
        };
        let file = cap["file"].as_str().unwrap_or_default();
        let stem = file.trim_end_matches(".pcapng").trim_end_matches(".pcap");
        let keys = samples_dir().join(format!("{stem}.keys"));
        let mut cfg = AnalyzerConfig::default();
        if keys.exists() {
            cfg.tls.keylogs = vec![keys];
        }
        let run = run_app(&samples_dir().join(file), cfg);
        out.push((file.to_string(), conns.clone(), run));
    }
    out
}

/// Every HTTP/2 stream the programs logged in the samples of issue 15 (`details.h2_*`: nginx's
/// logs, curl's traces, the Python clients' own logs) is a transaction of its connection with
/// the same stream id, method, path and status, and the body lengths they logged: the
/// request's, the response's content as sent and after Content-Encoding.
#[test]
fn every_logged_stream_of_the_h2_samples_is_a_transaction() {
    let mut checked = 0;
    let mut bodies = 0;
    for (file, conns, run) in h2_sample_runs() {
        let file = file.as_str();
        for c in &conns {
            let client = c["client"].as_str().unwrap_or_default();
            for s in c["streams"].as_array().into_iter().flatten() {
                let id = s["stream_id"].as_u64().expect("stream_id");
                let t = run
                    .transactions
                    .iter()
                    .find(|t| t.client.to_string() == client && t.stream_id == Some(id as u32))
                    .unwrap_or_else(|| panic!("{file}: {client} stream {id} is no transaction"));
                let req = t.request.as_ref().expect("request");
                assert_eq!(
                    req.method,
                    s["method"].as_str().unwrap_or_default(),
                    "{file} {id}"
                );
                assert_eq!(
                    req.target,
                    s["path"].as_str().unwrap_or_default(),
                    "{file} {id}"
                );
                assert_eq!(
                    t.response.as_ref().map(|r| u64::from(r.status)),
                    s["status"].as_u64(),
                    "{file} {client} stream {id}"
                );
                // Body lengths as the programs logged them: the request's DATA (for h2c's
                // stream 1, the upgrading request's body), the response's content as sent
                // (DATA payload without padding) and after Content-Encoding.
                if t.switched_to.is_some() {
                    // RFC 8441: the DATA after the extended CONNECT's 200 is a WebSocket
                    // (websockets[]), not a body.
                    checked += 1;
                    continue;
                }
                assert_eq!(
                    Some(req.body.length),
                    s["request_body_bytes"].as_u64(),
                    "{file} {client} stream {id}: request body"
                );
                let resp = t.response.as_ref().map(|r| &r.body);
                if let Some(wire) = s["response_body_wire_bytes"].as_u64() {
                    assert_eq!(
                        resp.map(|b| b.length),
                        Some(wire),
                        "{file} {client} stream {id}: response content"
                    );
                    bodies += 1;
                }
                if let Some(decoded) = s["response_body_decoded_bytes"].as_u64() {
                    assert_eq!(
                        resp.map(|b| b.decoded_length.unwrap_or(b.length)),
                        Some(decoded),
                        "{file} {client} stream {id}: decoded response"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "streams checked: {checked}");
    assert!(bodies >= 20, "response bodies checked: {bodies}");
}

/// h2-small-window: the client (SETTINGS_INITIAL_WINDOW_SIZE 1024) logged every stall and
/// WINDOW_UPDATE it made (`details.h2_flow_control`); the record's flow figures are the same.
///
/// A stall is defined from the wire (see `h2.flow-control-stall`): a DATA frame leaves the
/// window at 0 or below while the stream is not done. The client counts a stall when it finds
/// a window used up and waits before giving it back: the same events here, because nginx
/// always fills the window exactly (the stream's last window is not used up on stream 3, and
/// on stream 1 the frame that uses it up carries END_STREAM, so neither counts either way).
/// Were a sender to stop short of a non-zero window, the wire would show no stall; the test
/// would then say so by failing on `stalls` alone, while updates, increments and frame counts
/// are unambiguous and must match exactly.
#[test]
fn small_window_flow_control_is_what_the_client_logged() {
    let f = facts("h2-small-window.pcap");
    let x = &f["details"]["h2_flow_control"];
    let n = |v: &Value| v.as_u64().expect("in the facts");
    let run = run_app(
        &samples_dir().join("h2-small-window.pcap"),
        Default::default(),
    );
    let h = only_h2(&run);
    // The client's setting is the server's initial stream window.
    assert_eq!(
        h.initial_window.server_to_client,
        x["initial_window_size"].as_i64().expect("in the facts")
    );
    let conn = &h.flow.server_to_client;
    let per_stream = x["per_stream"].as_array().expect("in the facts");
    let mut stream_stalls = 0;
    let mut stream_updates = 0;
    for want in per_stream {
        let id = n(&want["stream_id"]) as u32;
        let s = h.streams.iter().find(|s| s.id == id).expect("the stream");
        assert_eq!(s.path.as_deref(), want["path"].as_str());
        let fl = &s.flow.server_to_client;
        assert_eq!(
            fl.window_updates,
            n(&want["window_updates_from_client"]),
            "{id}"
        );
        assert_eq!(fl.window_increments, n(&want["increment_total"]), "{id}");
        assert_eq!(fl.data_frames, n(&want["response_data_frames"]), "{id}");
        assert_eq!(
            u64::from(fl.largest_data_frame),
            n(&want["largest_data_frame"]),
            "{id}"
        );
        // No padding in this capture: the flow-controlled length is the body's.
        assert_eq!(fl.data_length, n(&want["response_body_wire_bytes"]), "{id}");
        assert_eq!(fl.violations + fl.overflows, 0);
        assert_eq!(fl.min_window, Some(0), "{id}: the window was used up");
        // The frame list shows the window each DATA left.
        let data: Vec<_> = s.frames.iter().filter(|e| e.frame_type == "DATA").collect();
        assert!(
            data.iter()
                .all(|e| e.window.is_some() && e.connection_window.is_some())
        );
        stream_stalls += fl.stalls;
        stream_updates += fl.window_updates;
    }
    // Every stall ended with a WINDOW_UPDATE after the client's wait (stall_ms), and the
    // ones listed (the first 16) each waited that long, on their own stream.
    let stall_ms = x["stall_ms"].as_f64().expect("in the facts");
    for s in &h.streams {
        let fl = &s.flow.server_to_client;
        assert!(fl.stalled_ms >= stall_ms * fl.stalls as f64, "{}", s.id);
        assert_eq!(fl.stall_list.len() as u64, fl.stalls.min(16), "{}", s.id);
        for st in &fl.stall_list {
            assert_eq!(st.stream, s.id);
            assert!(st.waited_ms.is_some_and(|w| w >= stall_ms), "{st:?}");
        }
    }
    // The connection's stalls: after a DATA frame of the stream the client logged.
    let after: Vec<u64> = x["connection_stalls"]
        .as_array()
        .expect("in the facts")
        .iter()
        .map(|c| n(&c["after_stream"]))
        .collect();
    let got: Vec<u64> = conn
        .stall_list
        .iter()
        .map(|s| u64::from(s.stream))
        .collect();
    assert_eq!(got, after);
    assert!(
        conn.stall_list
            .iter()
            .all(|s| s.waited_ms.is_some_and(|w| w >= stall_ms))
    );
    assert_eq!(stream_stalls, n(&x["stalls"]["stream"]));
    assert_eq!(conn.stalls, n(&x["stalls"]["connection"]));
    assert_eq!(
        x["connection_stalls"].as_array().map(Vec::len),
        Some(conn.stalls as usize)
    );
    assert_eq!(conn.window_increments, n(&x["connection_window"]));
    assert_eq!(
        stream_updates + conn.window_updates,
        n(&x["window_updates_sent"])
    );
    assert_eq!(
        conn.min_window,
        Some(0),
        "the connection window of {} was used up",
        x["connection_window"]
    );
    // One finding per kind of stall, at the first.
    let stalls: Vec<_> = run
        .findings
        .iter()
        .filter(|f| f.code.name == "h2.flow-control-stall")
        .collect();
    assert_eq!(stalls.len(), 2, "{:?}", run.codes());
    assert!(!run.codes().iter().any(|c| c == "h2.flow-control-violation"));
}

/// Every HTTP/2 connection of the samples: `mode` is how its client began (`start` in the
/// facts: ALPN `h2` inside TLS, prior knowledge, or the h2c upgrade), and the WINDOW_UPDATEs
/// each side sent (tshark's count and increments, per connection and over the streams) are
/// those the record's flow figures hold for the other side's windows.
#[test]
fn h2_samples_mode_and_window_updates_are_the_facts() {
    let mut checked = 0;
    for (file, conns, run) in h2_sample_runs() {
        let file = file.as_str();
        for c in &conns {
            let client = c["client"].as_str().unwrap_or_default();
            let h = run
                .http2
                .iter()
                .find(|h| h.client.to_string() == client)
                .unwrap_or_else(|| panic!("{file}: no http2 record for {client}"));
            let mode = match (c["start"].as_str(), c["alpn"].as_str()) {
                (Some("alpn"), Some("h2")) => "tls-alpn",
                (Some("prior-knowledge"), _) => "prior-knowledge",
                (Some("upgrade"), _) => "h2c-upgrade",
                other => panic!("{file}: start {other:?}"),
            };
            assert_eq!(h.mode, mode, "{file} {client}");
            let wu = &c["window_updates"];
            // WINDOW_UPDATEs the client sent raise the server's windows, and the reverse.
            for (sender, receiver) in [
                ("tshark_client_to_server", &h.flow.server_to_client),
                ("tshark_server_to_client", &h.flow.client_to_server),
            ] {
                let n = |k: &str| wu[sender][k].as_u64().expect("in the facts");
                let streams = |f: fn(&hopscope::model::http2::Http2Flow) -> u64| -> u64 {
                    h.streams
                        .iter()
                        .map(|s| {
                            if std::ptr::eq(receiver, &h.flow.server_to_client) {
                                f(&s.flow.server_to_client)
                            } else {
                                f(&s.flow.client_to_server)
                            }
                        })
                        .sum()
                };
                let at = format!("{file} {client} {sender}");
                assert_eq!(receiver.window_updates, n("connection"), "{at}");
                assert_eq!(
                    receiver.window_increments,
                    n("connection_increment_total"),
                    "{at}"
                );
                assert_eq!(streams(|f| f.window_updates), n("stream"), "{at}");
                assert_eq!(
                    streams(|f| f.window_increments),
                    n("stream_increment_total"),
                    "{at}"
                );
                assert_eq!(receiver.violations + receiver.overflows, 0, "{at}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 16, "directions checked: {checked}");
}

/// The HTTP/2 samples whose programs logged every frame they sent and received
/// (`frames_client_to_server`, `frames_server_to_client`): each stream's frame list, and
/// stream 0's, are those frames (type, flags by name, length) in each direction's order, and
/// every SETTINGS frame is listed with an ACK latency exactly when the peer ACKed it.
#[test]
fn h2_samples_frame_lists_are_the_logged_frames() {
    let text = fs::read_to_string(samples_dir().join("expected.json")).expect("expected.json");
    let all: Value = serde_json::from_str(&text).expect("json");
    let mut checked = 0;
    for cap in all["captures"].as_array().into_iter().flatten() {
        let Some(conns) = cap["details"]["h2_connections"].as_array() else {
            continue;
        };
        let file = cap["file"].as_str().unwrap_or_default();
        let mut run = None;
        for c in conns {
            let (Some(cf), Some(sf)) = (
                c["frames_client_to_server"].as_array(),
                c["frames_server_to_client"].as_array(),
            ) else {
                continue;
            };
            let run = run.get_or_insert_with(|| {
                run_app(&samples_dir().join(file), AnalyzerConfig::default())
            });
            let client = c["client"].as_str().unwrap_or_default();
            let h = run
                .http2
                .iter()
                .find(|h| h.client.to_string() == client)
                .unwrap_or_else(|| panic!("{file}: no http2 record for {client}"));
            let logged = |frames: &[Value], stream: u64| -> Vec<(String, String, u64)> {
                frames
                    .iter()
                    .filter(|f| f["stream_id"].as_u64() == Some(stream))
                    .map(|f| {
                        (
                            f["type"].as_str().unwrap_or_default().to_string(),
                            flags(f).join("|"),
                            f["length"].as_u64().unwrap_or_default(),
                        )
                    })
                    .collect()
            };
            let listed = |frames: &[hopscope::model::http2::Http2FrameEntry],
                          dir: &str|
             -> Vec<(String, String, u64)> {
                frames
                    .iter()
                    .filter(|f| f.dir == dir)
                    .map(|f| {
                        (
                            f.frame_type.to_string(),
                            f.flags.clone(),
                            u64::from(f.length),
                        )
                    })
                    .collect()
            };
            let mut lists = vec![(0u64, &h.connection_frames, h.connection_frames_dropped)];
            lists.extend(
                h.streams
                    .iter()
                    .map(|s| (u64::from(s.id), &s.frames, s.frames_dropped)),
            );
            for (id, frames, dropped) in lists {
                for (dir, log) in [("client_to_server", cf), ("server_to_client", sf)] {
                    let want = logged(log, id);
                    let got = listed(frames, dir);
                    let at = format!("{file} {client} stream {id} {dir}");
                    if dropped == 0 {
                        assert_eq!(got, want, "{at}");
                    } else {
                        assert_eq!(got, want[..got.len()], "{at}");
                    }
                    checked += 1;
                }
            }
            // Every SETTINGS, and an ACK latency when the peer's ACK came.
            for (dir, mine, peer) in [("client_to_server", cf, sf), ("server_to_client", sf, cf)] {
                let sent = mine
                    .iter()
                    .filter(|f| f["type"] == "SETTINGS" && !flags(f).contains(&"ACK"))
                    .count();
                let acks = peer
                    .iter()
                    .filter(|f| f["type"] == "SETTINGS" && flags(f).contains(&"ACK"))
                    .count();
                let listed: Vec<_> = h.settings_frames.iter().filter(|s| s.dir == dir).collect();
                assert_eq!(listed.len(), sent, "{file} {client} {dir}");
                let acked = listed.iter().filter(|s| s.ack_ms.is_some()).count();
                assert_eq!(acked, acks.min(sent), "{file} {client} {dir}");
            }
        }
    }
    assert!(checked >= 20, "lists checked: {checked}");
}

/// The text report's HTTP/2 line says which way the sender stalled at a zero window, as many
/// times as the small-window client logged (`details.h2_flow_control.stalls`).
#[test]
fn the_text_report_names_the_stalls_the_client_logged() {
    let f = facts("h2-small-window.pcap");
    let st = &f["details"]["h2_flow_control"]["stalls"];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "samples/h2-small-window.pcap", "--format", "text"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let want = format!(
        "stalls-down(streams {}, connection {})",
        st["stream"].as_u64().expect("facts"),
        st["connection"].as_u64().expect("facts")
    );
    assert!(text.contains(&want), "{want} in {text}");
    assert!(!text.contains("stalls-up"), "{text}");
}

/// Keys inside the capture (a pcapng Decryption Secrets Block, as `editcap --inject-secrets`
/// writes them) decrypt HTTP/2 as the key log file does: h2-chromium.pcap rewritten as a
/// pcapng whose first block after the interface holds h2-chromium.keys, analysed with no key
/// log, gives the same streams (id, method, path, status, body lengths) as the file with it.
#[test]
fn keys_inside_a_pcapng_decrypt_http2_like_the_key_log_file() {
    use hopscope::capture::file::FileSource;
    use hopscope::capture::pcapng::SECRETS_TLS_KEY_LOG;
    use hopscope::capture::pcapng_writer::{InterfaceInfo, PcapngWriter};
    let src_path = samples_dir().join("h2-chromium.pcap");
    let keys = samples_dir().join("h2-chromium.keys");
    let mut src = FileSource::open(&src_path).expect("open");
    let link = src.link_types()[0];
    let tmp = tempfile::NamedTempFile::new().expect("tempfile");
    let file = std::fs::File::create(tmp.path()).expect("create");
    let mut w = PcapngWriter::new(file, link, &InterfaceInfo::default()).expect("writer");
    w.write_secrets(SECRETS_TLS_KEY_LOG, &fs::read(&keys).expect("keys"))
        .expect("dsb");
    while let Some(p) = src.next_packet().expect("read") {
        w.write_packet(&p).expect("write");
    }
    w.into_inner().expect("flush");

    type Shape = (Option<u32>, String, String, Option<u16>, u64, u64);
    let shape = |run: &AppRun| -> Vec<Shape> {
        run.transactions
            .iter()
            .map(|t| {
                let (m, p, q) = t.request.as_ref().map_or(("-".into(), "-".into(), 0), |r| {
                    (r.method.clone(), r.target.clone(), r.body.length)
                });
                let resp = t.response.as_ref();
                let len = resp.map_or(0, |r| r.body.decoded_length.unwrap_or(r.body.length));
                (t.stream_id, m, p, resp.map(|r| r.status), q, len)
            })
            .collect()
    };
    let mut cfg = AnalyzerConfig::default();
    cfg.tls.keylogs = vec![keys];
    let with_file = shape(&run_app(&src_path, cfg));
    let inside = shape(&run_app(tmp.path(), AnalyzerConfig::default()));
    assert!(with_file.len() >= 7, "{with_file:?}");
    assert!(
        with_file.iter().all(|t| t.0.is_some()),
        "all HTTP/2 streams"
    );
    assert_eq!(inside, with_file);
    // And without keys at all, nothing is decrypted.
    let none = shape(&run_app(&src_path, AnalyzerConfig::default()));
    assert!(none.is_empty(), "{none:?}");
}
