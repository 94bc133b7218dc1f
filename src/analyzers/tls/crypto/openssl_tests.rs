//! Decryption of real connections: OpenSSL s_client → s_server on loopback, one per suite,
//! with the client's own key log (`tests/data/tls/make.sh`). What the client sent is known
//! exactly (`NAME.sent`); tshark's decryption of both directions with the same key log is the
//! independent oracle (the `C` / `S` lines of `NAME.txt`).
#![allow(clippy::unwrap_used)]

use super::*;
use crate::analyzers::tls::suites;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tls/");

struct Capture {
    /// TCP payload client→server, server→client.
    wire: [Vec<u8>; 2],
    /// tshark's decrypted application data, client→server, server→client.
    tshark: [Vec<u8>; 2],
    keys: String,
    sent: Vec<u8>,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn load(name: &str) -> Capture {
    let text = std::fs::read_to_string(format!("{DIR}{name}.txt")).unwrap();
    let mut c = Capture {
        wire: [vec![], vec![]],
        tshark: [vec![], vec![]],
        keys: std::fs::read_to_string(format!("{DIR}{name}.keys")).unwrap(),
        sent: std::fs::read(format!("{DIR}{name}.sent")).unwrap(),
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (tag, hex) = line.split_once(' ').unwrap();
        let buf = match tag {
            "c" => &mut c.wire[0],
            "s" => &mut c.wire[1],
            "C" => &mut c.tshark[0],
            "S" => &mut c.tshark[1],
            _ => panic!("{name}: line {line:?}"),
        };
        buf.extend(unhex(hex));
    }
    c
}

/// The records of a stream: (header, payload).
fn records(stream: &[u8]) -> Vec<([u8; 5], &[u8])> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let header: [u8; 5] = rest[..5].try_into().unwrap();
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        out.push((header, &rest[5..5 + len]));
        rest = &rest[5 + len..];
    }
    out
}

/// What the hellos say: client random, server random, suite, version, encrypt-then-MAC.
struct Hellos {
    client_random: [u8; 32],
    server_random: [u8; 32],
    suite: u16,
    version: u16,
    etm: bool,
}

fn hellos(c: &Capture) -> Hellos {
    let ch = records(&c.wire[0])[0].1;
    let sh = records(&c.wire[1])[0].1;
    assert_eq!((ch[0], sh[0]), (1, 2), "ClientHello, ServerHello");
    let sid = usize::from(sh[38]);
    let at = 39 + sid;
    let mut hellos = Hellos {
        client_random: ch[6..38].try_into().unwrap(),
        server_random: sh[6..38].try_into().unwrap(),
        suite: u16::from_be_bytes([sh[at], sh[at + 1]]),
        version: u16::from_be_bytes([sh[4], sh[5]]),
        etm: false,
    };
    let mut ext = &sh[at + 5..];
    while ext.len() >= 4 {
        let kind = u16::from_be_bytes([ext[0], ext[1]]);
        let len = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
        match kind {
            0x0016 => hellos.etm = true,
            0x002b => hellos.version = u16::from_be_bytes([ext[4], ext[5]]),
            _ => {}
        }
        ext = &ext[4 + len..];
    }
    hellos
}

/// The secret of `label` for this client random in the key log.
fn secret(c: &Capture, label: &str, client_random: &[u8; 32]) -> Vec<u8> {
    c.keys
        .lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            (f.next()? == label && unhex(f.next()?) == client_random)
                .then(|| unhex(f.next().unwrap()))
        })
        .next()
        .unwrap_or_else(|| panic!("no {label} in the key log"))
}

/// What one direction decrypted to.
#[derive(Default)]
struct Opened {
    app: Vec<u8>,
    handshake: Vec<u8>,
    alerts: Vec<Vec<u8>>,
    records: usize,
    key_updates: usize,
}

/// TLS 1.0-1.2: the records after ChangeCipherSpec, in order.
fn open12(mut p: Protection, stream: &[u8]) -> Opened {
    let mut o = Opened::default();
    let mut out = Vec::new();
    let mut protected = false;
    for (header, payload) in records(stream) {
        if !protected {
            protected = header[0] == 20;
            continue;
        }
        let kind = p.open(&header, payload, &mut out).unwrap();
        assert_eq!(kind, header[0]);
        o.records += 1;
        match kind {
            23 => o.app.extend_from_slice(&out),
            22 => o.handshake.extend_from_slice(&out),
            21 => o.alerts.push(out.clone()),
            _ => panic!("content type {kind}"),
        }
    }
    o
}

/// TLS 1.3: the protected records (outer type 23) with the handshake keys up to Finished, then
/// the application keys, renewed at each KeyUpdate (RFC 8446 §4.6.3).
fn open13(suite: &Suite, stream: &[u8], handshake_secret: &[u8], app_secret: &[u8]) -> Opened {
    let mut o = Opened::default();
    let mut p = Protection::tls13(suite, handshake_secret).unwrap();
    let mut app_secret = app_secret.to_vec();
    let mut messages = Vec::new();
    let mut out = Vec::new();
    for (header, payload) in records(stream).into_iter().filter(|(h, _)| h[0] == 23) {
        let kind = p.open(&header, payload, &mut out).unwrap();
        o.records += 1;
        match kind {
            23 => o.app.extend_from_slice(&out),
            21 => o.alerts.push(out.clone()),
            22 => {
                o.handshake.extend_from_slice(&out);
                messages.extend_from_slice(&out);
                while messages.len() >= 4 {
                    let len = 4
                        + (usize::from(messages[1]) << 16
                            | usize::from(messages[2]) << 8
                            | usize::from(messages[3]));
                    if messages.len() < len {
                        break;
                    }
                    match messages[0] {
                        20 => p = Protection::tls13(suite, &app_secret).unwrap(),
                        24 => {
                            app_secret = Protection::tls13_next_secret(suite, &app_secret).unwrap();
                            p = Protection::tls13(suite, &app_secret).unwrap();
                            o.key_updates += 1;
                        }
                        _ => {}
                    }
                    messages.drain(..len);
                }
            }
            _ => panic!("content type {kind}"),
        }
    }
    o
}

/// Decrypts both directions of capture `name` and checks them against what the client sent and
/// what tshark decrypted.
fn check(name: &str) -> [Opened; 2] {
    let c = load(name);
    let hello = hellos(&c);
    let suite = suites::suite(hello.suite).unwrap();
    let [client, server] = if hello.version == 0x0304 {
        let cr = &hello.client_random;
        let client = open13(
            suite,
            &c.wire[0],
            &secret(&c, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", cr),
            &secret(&c, "CLIENT_TRAFFIC_SECRET_0", cr),
        );
        let server = open13(
            suite,
            &c.wire[1],
            &secret(&c, "SERVER_HANDSHAKE_TRAFFIC_SECRET", cr),
            &secret(&c, "SERVER_TRAFFIC_SECRET_0", cr),
        );
        // The first protected handshake messages: the client's Finished; the server's
        // EncryptedExtensions.
        assert_eq!(
            (client.handshake[0], server.handshake[0]),
            (20, 8),
            "{name}"
        );
        [client, server]
    } else {
        let master = secret(&c, "CLIENT_RANDOM", &hello.client_random);
        let [client, server] = Protection::tls12(
            suite,
            hello.version,
            &master,
            &hello.client_random,
            &hello.server_random,
            hello.etm,
        )
        .unwrap();
        let opened = [open12(client, &c.wire[0]), open12(server, &c.wire[1])];
        // Each direction's first protected record is its Finished (12 bytes of verify_data).
        for o in &opened {
            assert_eq!(o.handshake[..4], [20, 0, 0, 12], "{name}");
        }
        opened
    };
    assert_eq!(client.app, c.sent, "{name}: what the client sent");
    assert_eq!(client.app, c.tshark[0], "{name}: tshark, client");
    assert_eq!(server.app, c.tshark[1], "{name}: tshark, server");
    assert!(
        server.app.starts_with(b"1.1/PTTH olleh/ TEG"),
        "{name}: the server's reversed request line"
    );
    assert_eq!(client.alerts, [[1, 0]], "{name}: the client's close_notify");
    [client, server]
}

macro_rules! captures {
    ($($test:ident: $name:literal,)*) => {$(
        #[test]
        fn $test() {
            check($name);
        }
    )*};
}

captures! {
    tls12_ecdhe_rsa_aes128_gcm: "tls12-ecdhe-rsa-aes128-gcm",
    tls12_ecdhe_rsa_aes256_gcm: "tls12-ecdhe-rsa-aes256-gcm",
    tls12_ecdhe_rsa_chacha20: "tls12-ecdhe-rsa-chacha20",
    tls12_rsa_aes128_ccm: "tls12-rsa-aes128-ccm",
    tls12_dhe_rsa_aes256_ccm: "tls12-dhe-rsa-aes256-ccm",
    tls12_rsa_aes128_ccm8: "tls12-rsa-aes128-ccm8",
    tls12_rsa_aes256_ccm8: "tls12-rsa-aes256-ccm8",
    tls12_rsa_aes128_sha_etm: "tls12-rsa-aes128-sha-etm",
    tls12_rsa_aes128_sha_mte: "tls12-rsa-aes128-sha-mte",
    tls12_rsa_aes256_sha256_etm: "tls12-rsa-aes256-sha256-etm",
    tls12_rsa_aes256_sha256_mte: "tls12-rsa-aes256-sha256-mte",
    tls12_ecdhe_rsa_aes256_sha384_etm: "tls12-ecdhe-rsa-aes256-sha384-etm",
    tls12_ecdhe_rsa_aes256_sha384_mte: "tls12-ecdhe-rsa-aes256-sha384-mte",
    tls12_rsa_null_sha256: "tls12-rsa-null-sha256",
    tls10_rsa_aes128_sha_mte: "tls10-rsa-aes128-sha-mte",
    tls10_rsa_aes256_sha_etm: "tls10-rsa-aes256-sha-etm",
    tls11_rsa_aes128_sha_mte: "tls11-rsa-aes128-sha-mte",
    tls13_aes256_gcm: "tls13-aes256-gcm",
    tls13_aes128_ccm: "tls13-aes128-ccm",
    tls13_aes128_ccm8: "tls13-aes128-ccm8",
}

/// Both directions update their keys once, and what follows still decrypts. OpenSSL logs the
/// updated secrets as `*_TRAFFIC_SECRET_N`: our "traffic upd" derivation must give them.
fn check_key_update(name: &str) {
    let [client, server] = check(name);
    assert_eq!((client.key_updates, server.key_updates), (1, 1), "{name}");
    assert!(client.app.ends_with(b"after the key update\r\n"), "{name}");
    let c = load(name);
    let cr = hellos(&c).client_random;
    let suite = suites::suite(hellos(&c).suite).unwrap();
    for side in ["CLIENT", "SERVER"] {
        let first = secret(&c, &format!("{side}_TRAFFIC_SECRET_0"), &cr);
        let next = secret(&c, &format!("{side}_TRAFFIC_SECRET_N"), &cr);
        assert_eq!(
            Protection::tls13_next_secret(suite, &first).unwrap(),
            next,
            "{name} {side}"
        );
    }
}

#[test]
fn tls13_aes128_gcm_keyupdate() {
    check_key_update("tls13-aes128-gcm-keyupdate");
}

#[test]
fn tls13_chacha20_keyupdate() {
    check_key_update("tls13-chacha20-keyupdate");
}

#[test]
fn tls10_chains_the_cbc_iv() {
    // Every TLS 1.0 record after the first is opened with the previous record's last block as
    // its IV; many records decrypting is the proof.
    let [client, server] = check("tls10-rsa-aes128-sha-mte");
    assert!(client.records > 3 && server.records > 3);
}

#[test]
fn camellia_is_named_not_decrypted() {
    let c = load("tls12-rsa-camellia128-sha");
    let hello = hellos(&c);
    let suite = suites::suite(hello.suite).unwrap();
    assert_eq!(suite.name, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA");
    let master = secret(&c, "CLIENT_RANDOM", &hello.client_random);
    let made = Protection::tls12(
        suite,
        0x0303,
        &master,
        &hello.client_random,
        &hello.server_random,
        hello.etm,
    );
    assert_eq!(made.err(), Some(CryptoError::Unsupported("Camellia")));
}

/// The first application-data record of the client, and a fresh protection positioned on it.
fn first_app_record(name: &str) -> (Protection, [u8; 5], Vec<u8>) {
    let c = load(name);
    let hello = hellos(&c);
    let suite = suites::suite(hello.suite).unwrap();
    let master = secret(&c, "CLIENT_RANDOM", &hello.client_random);
    let [mut p, _] = Protection::tls12(
        suite,
        hello.version,
        &master,
        &hello.client_random,
        &hello.server_random,
        hello.etm,
    )
    .unwrap();
    let recs = records(&c.wire[0]);
    let ccs = recs.iter().position(|(h, _)| h[0] == 20).unwrap();
    let mut out = Vec::new();
    let (h, finished) = recs[ccs + 1];
    p.open(&h, finished, &mut out).unwrap();
    let (h, app) = recs[ccs + 2];
    assert_eq!(h[0], 23);
    (p, h, app.to_vec())
}

#[test]
fn altered_records_do_not_authenticate() {
    for name in [
        "tls12-ecdhe-rsa-aes128-gcm",
        "tls12-ecdhe-rsa-chacha20",
        "tls12-rsa-aes128-ccm8",
        "tls12-rsa-aes128-sha-etm",
        "tls12-rsa-aes128-sha-mte",
        "tls10-rsa-aes256-sha-etm",
        "tls12-rsa-null-sha256",
    ] {
        let mut out = Vec::new();
        let (mut p, header, app) = first_app_record(name);
        p.open(&header, &app, &mut out).unwrap();
        // (OpenSSL's TLS 1.0 CBC sends an empty record first, against BEAST.)
        assert!(
            b"GET /hello HTTP/1.1\r\nHost: hopscope.test\r\n\r\n".starts_with(&out),
            "{name}"
        );
        for at in [0, app.len() / 2, app.len() - 1] {
            let (mut p, header, mut app) = first_app_record(name);
            app[at] ^= 0x80;
            assert_eq!(
                p.open(&header, &app, &mut out),
                Err(CryptoError::Authentication),
                "{name} byte {at}"
            );
            assert!(out.is_empty());
        }
        // The header is authenticated too (its type).
        let (mut p, header, app) = first_app_record(name);
        let relabelled = [22, header[1], header[2], header[3], header[4]];
        assert_eq!(
            p.open(&relabelled, &app, &mut out),
            Err(CryptoError::Authentication),
            "{name}"
        );
        // A lost record: the sequence number is one ahead (a failed record takes one too).
        let (mut p, header, app) = first_app_record(name);
        assert!(p.open(&header, &[], &mut out).is_err());
        assert_eq!(
            p.open(&header, &app, &mut out),
            Err(CryptoError::Authentication),
            "{name}"
        );
        // Truncated anywhere: an error, never a panic.
        for cut in 0..app.len() {
            let (mut p, header, app) = first_app_record(name);
            assert!(
                p.open(&header, &app[..cut], &mut out).is_err(),
                "{name} cut at {cut}"
            );
        }
    }
}

#[test]
fn another_captures_key_log_does_not_authenticate() {
    let c = load("tls12-ecdhe-rsa-aes128-gcm");
    let other = load("tls12-ecdhe-rsa-aes256-gcm");
    let hello = hellos(&c);
    let master = secret(&other, "CLIENT_RANDOM", &hellos(&other).client_random);
    let suite = suites::suite(hello.suite).unwrap();
    let [mut p, _] = Protection::tls12(
        suite,
        0x0303,
        &master,
        &hello.client_random,
        &hello.server_random,
        false,
    )
    .unwrap();
    let recs = records(&c.wire[0]);
    let ccs = recs.iter().position(|(h, _)| h[0] == 20).unwrap();
    let (h, finished) = recs[ccs + 1];
    assert_eq!(
        p.open(&h, finished, &mut Vec::new()),
        Err(CryptoError::Authentication)
    );
}
