//! Tunnels on the bundled captures against what the programs logged: CONNECT targets and the
//! TLS hello inside (SNI, ALPN, the version the server chose), SOCKS variants, targets and
//! users, and the HTTP inside SOCKS starting exactly where the handshake ends.

use std::fs;

use crate::common::*;
use serde_json::Value;

fn facts(file: &str) -> Value {
    let p = samples_dir().join("expected.json");
    let v: Value = serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json");
    v["captures"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["file"] == file).cloned())
        .expect("listed")
}

#[test]
fn connect_tunnels_carry_the_tls_hellos_the_client_sent() {
    let f = facts("connect-tls.pcap");
    let run = run_app(&samples_dir().join("connect-tls.pcap"), Default::default());
    let conns = f["details"]["connect_tls_connections"]
        .as_array()
        .expect("facts");
    assert_eq!(conns.len(), 2);
    for c in conns {
        let client = c["client"].as_str().unwrap_or_default();
        let t = run
            .tunnels
            .iter()
            .find(|t| t.client.to_string() == client)
            .unwrap_or_else(|| panic!("no tunnel from {client}"));
        assert_eq!(t.kind, "connect");
        assert!(t.established);
        assert_eq!(t.inner, "tls");
        let want_target = c["connect_request_line"]
            .as_str()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or_default();
        assert_eq!(t.target.as_deref(), Some(want_target));
        let tls = t.tls.as_ref().expect("tls info");
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(tls.sni, strings(&c["client_hello"]["sni"]), "{client}");
        assert_eq!(tls.alpn, strings(&c["client_hello"]["alpn"]), "{client}");
        assert_eq!(
            tls.version.as_deref(),
            c["server_hello"]["selected_version"].as_str(),
            "{client}"
        );
        // TLS 1.2 sends the server's ALPN choice in the clear; TLS 1.3 encrypts it.
        if tls.version.as_deref() == Some("TLS 1.2") {
            assert_eq!(tls.alpn_selected.as_deref(), c["alpn_selected"].as_str());
        }
    }
}

#[test]
fn socks_tunnels_and_the_http_inside() {
    for (file, key) in [
        ("socks4.pcap", "socks4_connections"),
        ("socks5-auth.pcap", "socks5_connections"),
    ] {
        let f = facts(file);
        let run = run_app(&samples_dir().join(file), Default::default());
        for c in f["details"][key].as_array().expect("facts") {
            let client = c["client"].as_str().unwrap_or_default();
            let t = run
                .tunnels
                .iter()
                .find(|t| t.client.to_string() == client)
                .unwrap_or_else(|| panic!("{file}: no tunnel from {client}"));
            assert!(t.established, "{file} {client}");
            assert_eq!(t.inner, "http", "{file} {client}");
            // SOCKS4/4a facts: port, address or (4a) hostname; SOCKS5: dest_host, dest_port.
            let s5 = &c["socks5"];
            let (host, port) = if s5.is_object() {
                (
                    s5["dest_host"].as_str().unwrap_or_default(),
                    s5["dest_port"].as_u64().unwrap_or(0),
                )
            } else if c["form"] == "4a" {
                (
                    c["hostname"].as_str().unwrap_or_default(),
                    c["port"].as_u64().unwrap_or(0),
                )
            } else {
                (
                    c["address"].as_str().unwrap_or_default(),
                    c["port"].as_u64().unwrap_or(0),
                )
            };
            assert_eq!(
                t.target.as_deref(),
                Some(format!("{host}:{port}").as_str()),
                "{file} {client}"
            );
            if s5.is_object() {
                assert_eq!(t.user.as_deref(), s5["auth"]["username"].as_str());
                assert_eq!(t.auth.as_deref(), Some("username/password"));
            }
            // The HTTP request inside starts where the client's handshake ended.
            let req = run
                .transactions
                .iter()
                .find(|x| x.client.to_string() == client)
                .and_then(|x| x.request.as_ref())
                .unwrap_or_else(|| panic!("{file}: no request inside the tunnel from {client}"));
            assert_eq!(
                req.at.stream_offset,
                c["http_stream_offset_client"].as_u64().unwrap_or(u64::MAX),
                "{file} {client}"
            );
        }
    }
}

/// Every `details.tunnels` entry (the tunnels whose both legs the programs logged): kind,
/// target, established, the bytes each way, SOCKS authentication, and the first request inside
/// starting exactly where the tunnelled bytes begin.
#[test]
fn logged_tunnels_and_where_their_payload_starts() {
    let p = samples_dir().join("expected.json");
    let v: Value = serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json");
    let mut checked = 0;
    for f in v["captures"].as_array().expect("captures") {
        let Some(tunnels) = f["details"]["tunnels"].as_array() else {
            continue;
        };
        let file = f["file"].as_str().unwrap_or_default();
        let run = run_app(&samples_dir().join(file), Default::default());
        for want in tunnels {
            checked += 1;
            let client = want["client"].as_str().unwrap_or_default();
            let t = run
                .tunnels
                .iter()
                .find(|t| t.client.to_string() == client)
                .unwrap_or_else(|| panic!("{file}: no tunnel from {client}"));
            assert_eq!(
                t.proxy.to_string(),
                want["proxy"].as_str().unwrap_or_default()
            );
            assert_eq!(t.kind, want["kind"].as_str().unwrap_or_default(), "{file}");
            assert_eq!(t.target.as_deref(), want["target"].as_str(), "{file}");
            assert_eq!(Some(t.established), want["established"].as_bool(), "{file}");
            assert_eq!(
                Some(t.bytes_to_target),
                want["bytes_to_target"].as_u64(),
                "{file}"
            );
            assert_eq!(
                Some(t.bytes_from_target),
                want["bytes_from_target"].as_u64(),
                "{file}"
            );
            if want["kind"] == "socks5" {
                assert_eq!(t.auth.as_deref(), want["auth"].as_str(), "{file}");
            }
            // The first request inside the tunnel (not the CONNECT itself) starts where the
            // proxy handshake ended, in both directions.
            let inner = run
                .transactions
                .iter()
                .filter(|x| x.client.to_string() == client)
                .filter_map(|x| Some((x.request.as_ref()?, x.response.as_ref()?)))
                .find(|(r, _)| r.method != "CONNECT")
                .unwrap_or_else(|| panic!("{file}: no request inside the tunnel from {client}"));
            assert_eq!(
                Some(inner.0.at.stream_offset),
                want["tunnel_stream_offset_client"].as_u64(),
                "{file} {client}"
            );
            assert_eq!(
                Some(inner.1.at.stream_offset),
                want["tunnel_stream_offset_server"].as_u64(),
                "{file} {client}"
            );
        }
    }
    assert!(checked >= 1, "no logged tunnels");
}
