#![allow(clippy::unwrap_used)]
use super::*;
use proptest::prelude::*;
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(s.len().is_multiple_of(2), "odd hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// What a caller forwards to the inner analyzer, per direction.
#[derive(Default)]
struct Tunnel {
    payload: [Vec<u8>; 2],
    fed: [u64; 2],
}

/// Feeds like the engine would, checking the contract on every call.
fn drive(c: &mut SocksConn, t: &mut Tunnel, d: usize, data: &[u8]) {
    let was = c.state();
    let n = c.feed(d, data);
    assert!(n <= data.len());
    t.fed[d] += data.len() as u64;
    match c.state() {
        SocksState::Handshake => assert_eq!(n, data.len(), "takes everything while negotiating"),
        SocksState::Established => {
            for e in 0..2 {
                t.payload[e].extend(c.take_early_payload(e));
            }
            t.payload[d].extend_from_slice(&data[n..]);
        }
        _ => assert!(was == SocksState::Handshake || n == 0),
    }
    let hs = [
        c.info().client_handshake_bytes,
        c.info().server_handshake_bytes,
    ];
    assert!(hs[d] <= t.fed[d]);
}

/// Feeds `steps` in order; returns the connection and what was forwarded.
fn run(steps: &[(usize, Vec<u8>)]) -> (SocksConn, Tunnel) {
    run_with(SocksConn::new(), steps)
}

fn run_with(mut c: SocksConn, steps: &[(usize, Vec<u8>)]) -> (SocksConn, Tunnel) {
    let mut t = Tunnel::default();
    for (d, b) in steps {
        drive(&mut c, &mut t, *d, b);
    }
    (c, t)
}

fn codes(c: &SocksConn) -> Vec<&'static str> {
    c.notes().iter().map(|n| n.kind.code().name).collect()
}

/// Alternates client and server messages: c0 s0 c1 s1 ...
fn conversation(client: &[&str], server: &[&str]) -> Vec<(usize, Vec<u8>)> {
    let mut v = Vec::new();
    for i in 0..client.len().max(server.len()) {
        if let Some(m) = client.get(i) {
            v.push((0, hex(m)));
        }
        if let Some(m) = server.get(i) {
            v.push((1, hex(m)));
        }
    }
    v
}

// ---- the real captures --------------------------------------------------------------------

struct Fixture {
    name: &'static str,
    pcap: &'static str,
    client: String,
    steps: Vec<(usize, Vec<u8>)>,
}

fn fixture(name: &'static str, pcap: &'static str, text: &str) -> Fixture {
    let mut client = String::new();
    let mut steps = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        match line.split_once(' ').unwrap() {
            ("client:", a) => client = a.to_string(),
            ("c", h) => steps.push((0, hex(h))),
            ("s", h) => steps.push((1, hex(h))),
            other => panic!("{name}: bad fixture line {other:?}"),
        }
    }
    Fixture {
        name,
        pcap,
        client,
        steps,
    }
}

fn fixtures() -> Vec<Fixture> {
    vec![
        fixture(
            "socks5-noauth",
            "socks5.pcap",
            include_str!("testdata/socks5-noauth.hex"),
        ),
        fixture(
            "socks5-auth-ipv4",
            "socks5-auth.pcap",
            include_str!("testdata/socks5-auth-ipv4.hex"),
        ),
        fixture(
            "socks5-auth-domain",
            "socks5-auth.pcap",
            include_str!("testdata/socks5-auth-domain.hex"),
        ),
        fixture(
            "socks4-ipv4",
            "socks4.pcap",
            include_str!("testdata/socks4-ipv4.hex"),
        ),
        fixture(
            "socks4a-userid-host",
            "socks4.pcap",
            include_str!("testdata/socks4a-userid-host.hex"),
        ),
    ]
}

fn expected_capture(file: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/expected.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let caps = all["captures"].as_array().unwrap();
    caps.iter().find(|c| c["file"] == file).unwrap().clone()
}

fn stream(steps: &[(usize, Vec<u8>)], d: usize) -> Vec<u8> {
    steps
        .iter()
        .filter(|s| s.0 == d)
        .flat_map(|s| s.1.clone())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What expected.json says about one fixture's connection, in this module's terms.
struct Expect {
    variant: &'static str,
    target: String,
    methods_offered: Vec<u8>,
    method_chosen: Option<u8>,
    username: Option<String>,
    password: Option<String>,
    reply: u8,
    client_hex: String,
    server_hex: String,
    client_offset: u64,
    server_offset: u64,
}

fn expect_for(f: &Fixture) -> Expect {
    let cap = expected_capture(f.pcap);
    let det = &cap["details"];
    let s = |v: &Value| v.as_str().unwrap().to_string();
    let n = |v: &Value| v.as_u64().unwrap();
    if let Some(conns) = det["socks4_connections"].as_array() {
        let c = conns
            .iter()
            .find(|c| c["client"] == f.client.as_str())
            .unwrap();
        let host = c.get("hostname").map_or_else(|| s(&c["address"]), s);
        let reply_hex = s(&c["reply_hex"]);
        return Expect {
            variant: if c["form"] == "4a" {
                "socks4a"
            } else {
                "socks4"
            },
            target: format!("{host}:{}", n(&c["port"])),
            methods_offered: vec![],
            method_chosen: None,
            username: Some(s(&c["user_id"])),
            password: None,
            reply: hex(&reply_hex)[1],
            client_hex: s(&c["request_hex"]),
            server_hex: reply_hex,
            client_offset: n(&c["http_stream_offset_client"]),
            server_offset: n(&c["http_stream_offset_server"]),
        };
    }
    if let Some(conns) = det["socks5_connections"].as_array() {
        let c = conns
            .iter()
            .find(|c| c["client"] == f.client.as_str())
            .unwrap();
        let s5 = &c["socks5"];
        return Expect {
            variant: "socks5",
            target: format!("{}:{}", s(&s5["dest_host"]), n(&s5["dest_port"])),
            methods_offered: s5["methods_offered"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| n(m) as u8)
                .collect(),
            method_chosen: Some(n(&s5["method_chosen"]) as u8),
            username: Some(s(&s5["auth"]["username"])),
            password: Some(s(&s5["auth"]["password"])),
            reply: hex(&s(&s5["reply_hex"]))[1],
            client_hex: s(&c["socks5_client_handshake_hex"]),
            server_hex: s(&c["socks5_server_handshake_hex"]),
            client_offset: n(&c["http_stream_offset_client"]),
            server_offset: n(&c["http_stream_offset_server"]),
        };
    }
    // socks5.pcap: only the handshake bytes are recorded; the target is in "shows".
    let (ch, sh) = (
        s(&det["socks5_client_handshake_hex"]),
        s(&det["socks5_server_handshake_hex"]),
    );
    let shows = s(&cap["shows"]);
    assert!(shows.contains("no auth") && shows.contains("CONNECT 127.0.0.1:8080"));
    Expect {
        variant: "socks5",
        target: "127.0.0.1:8080".into(),
        methods_offered: hex(&ch)[2..4].to_vec(),
        method_chosen: Some(0),
        username: None,
        password: None,
        reply: 0,
        client_offset: ch.len() as u64 / 2,
        server_offset: sh.len() as u64 / 2,
        client_hex: ch,
        server_hex: sh,
    }
}

fn check_fixture(f: &Fixture, steps: &[(usize, Vec<u8>)]) {
    let e = expect_for(f);
    let (c, t) = run(steps);
    let i = c.info();
    let name = f.name;
    assert_eq!(
        c.state(),
        SocksState::Established,
        "{name}: {:?}",
        c.notes()
    );
    assert_eq!(i.variant, e.variant, "{name}");
    assert_eq!(
        i.version,
        if e.variant == "socks5" { 5 } else { 4 },
        "{name}"
    );
    assert_eq!(i.target.as_deref(), Some(e.target.as_str()), "{name}");
    assert_eq!(i.command, Some(1), "{name}");
    assert_eq!(i.methods_offered, e.methods_offered, "{name}");
    assert_eq!(i.method_chosen, e.method_chosen, "{name}");
    assert_eq!(i.username, e.username, "{name}");
    assert_eq!(i.reply, Some(e.reply), "{name}");
    if let Some(p) = &e.password {
        assert_eq!(i.password_len, Some(p.len()), "{name}");
        assert_eq!(i.auth_ok, Some(true), "{name}");
        let first = p.chars().next().unwrap();
        let masked = format!("{first}…({} more)", p.chars().count() - 1);
        assert_eq!(
            i.password_masked.as_deref(),
            Some(masked.as_str()),
            "{name}"
        );
        let kept = |h: &Vec<u8>| h.windows(p.len()).any(|w| w == p.as_bytes());
        assert!(!c.held.iter().any(kept), "{name}: password kept");
        let quoted = format!("{p:?}");
        assert!(!format!("{i:?}").contains(&quoted), "{name}: password kept");
        assert!(codes(&c).contains(&"socks.cleartext-credentials"), "{name}");
    } else {
        assert_eq!(i.password_len, None, "{name}");
    }
    // Exact handshake lengths, and they are the bytes expected.json recorded.
    assert_eq!(i.client_handshake_bytes, e.client_offset, "{name}");
    assert_eq!(i.server_handshake_bytes, e.server_offset, "{name}");
    let (cs, ss) = (stream(steps, 0), stream(steps, 1));
    assert_eq!(
        to_hex(&cs[..e.client_offset as usize]),
        e.client_hex,
        "{name}"
    );
    assert_eq!(
        to_hex(&ss[..e.server_offset as usize]),
        e.server_hex,
        "{name}"
    );
    // The tunnel is exactly the rest, and it is the HTTP the capture carries.
    assert_eq!(t.payload[0], cs[e.client_offset as usize..], "{name}");
    assert_eq!(t.payload[1], ss[e.server_offset as usize..], "{name}");
    assert!(t.payload[0].starts_with(b"GET /"), "{name}");
    assert!(t.payload[1].starts_with(b"HTTP/1.1 200 OK\r\n"), "{name}");
    // The capture's client first bytes are recognised.
    assert_eq!(looks_like_socks(&cs), Prefix::Yes, "{name}");
}

#[test]
fn real_captures_match_expected_json() {
    for f in fixtures() {
        check_fixture(&f, &f.steps);
    }
}

#[test]
fn real_captures_byte_by_byte() {
    for f in fixtures() {
        let bytes: Vec<(usize, Vec<u8>)> = f
            .steps
            .iter()
            .flat_map(|(d, b)| b.iter().map(|x| (*d, vec![*x])))
            .collect();
        check_fixture(&f, &bytes);
    }
}

#[test]
fn real_captures_whole_client_stream_first() {
    // The client side as one piece (greeting, auth, request and HTTP pipelined), then the
    // server's: the payload offsets do not depend on the interleaving.
    for f in fixtures() {
        let steps = vec![(0, stream(&f.steps, 0)), (1, stream(&f.steps, 1))];
        check_fixture(&f, &steps);
    }
}

// ---- table-driven cases -------------------------------------------------------------------

const GREET_NOAUTH: &str = "050100";
const GREET_USERPASS: &str = "05020002";
const AUTH_ALICE: &str = "0105616c696365 0773656372657421"; // alice / secret!
const REQ_V4_80: &str = "05010001 c0000201 0050";
const REPLY_OK: &str = "05000001 0a000001 1f90";

struct Case {
    name: &'static str,
    client: &'static [&'static str],
    server: &'static [&'static str],
    state: SocksState,
    check: fn(&SocksInfo),
    /// Note codes, in order.
    notes: &'static [&'static str],
    /// Handshake bytes (client, server).
    hs: (u64, u64),
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "socks5 no auth CONNECT ipv4",
            client: &[GREET_NOAUTH, REQ_V4_80],
            server: &["0500", REPLY_OK],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.variant, "socks5");
                assert_eq!(i.methods_offered, [0]);
                assert_eq!(i.target.as_deref(), Some("192.0.2.1:80"));
                assert_eq!(i.address_type, Some("ipv4"));
                assert_eq!(i.bound.as_deref(), Some("10.0.0.1:8080"));
                assert_eq!(i.reply_text, Some("succeeded"));
                assert_eq!(i.username, None);
            },
            notes: &[],
            hs: (13, 12),
        },
        Case {
            name: "socks5 username/password, domain",
            client: &[
                GREET_USERPASS,
                AUTH_ALICE,
                "05010003 0b6578616d706c652e636f6d 01bb",
            ],
            server: &["0502", "0100", REPLY_OK],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.methods_offered, [0, 2]);
                assert_eq!(i.method_chosen, Some(2));
                assert_eq!(i.username.as_deref(), Some("alice"));
                assert_eq!(i.password_len, Some(7));
                assert_eq!(i.password_masked.as_deref(), Some("s…(6 more)"));
                assert_eq!(i.auth_ok, Some(true));
                assert_eq!(i.target.as_deref(), Some("example.com:443"));
                assert_eq!(i.address_type, Some("domain"));
            },
            notes: &["socks.cleartext-credentials"],
            hs: (4 + 15 + 18, 2 + 2 + 10),
        },
        Case {
            name: "socks5 ipv6 target and bound address",
            client: &[
                GREET_NOAUTH,
                "05010004 20010db8000000000000000000000001 01bb",
            ],
            server: &["0500", "05000004 fe800000000000000000000000000002 c350"],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.target.as_deref(), Some("[2001:db8::1]:443"));
                assert_eq!(i.address_type, Some("ipv6"));
                assert_eq!(i.bound.as_deref(), Some("[fe80::2]:50000"));
            },
            notes: &[],
            hs: (3 + 22, 2 + 22),
        },
        Case {
            name: "socks5 BIND: two replies",
            client: &[GREET_NOAUTH, "05020001 c0000201 0015"],
            server: &["0500", "05000001 0a000001 9c40", "05000001 c6336407 b000"],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.command, Some(2));
                assert_eq!(i.bound.as_deref(), Some("10.0.0.1:40000"));
                assert_eq!(i.bind_peer.as_deref(), Some("198.51.100.7:45056"));
            },
            notes: &[],
            hs: (13, 22),
        },
        Case {
            name: "socks5 BIND: second reply refused",
            client: &[GREET_NOAUTH, "05020001 c0000201 0015"],
            server: &["0500", "05000001 0a000001 9c40", "05040001 00000000 0000"],
            state: SocksState::Refused,
            check: |i| {
                assert_eq!(i.reply, Some(4));
                assert_eq!(i.reply_text, Some("host unreachable"));
            },
            notes: &["socks.refused"],
            hs: (13, 22),
        },
        Case {
            name: "socks5 UDP ASSOCIATE",
            client: &[GREET_NOAUTH, "05030001 00000000 0000"],
            server: &["0500", "05000001 0a000001 1389"],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.command, Some(3));
                assert_eq!(i.target.as_deref(), Some("0.0.0.0:0"));
                assert_eq!(i.bound.as_deref(), Some("10.0.0.1:5001"));
            },
            notes: &[],
            hs: (13, 12),
        },
        Case {
            name: "socks5 connection refused",
            client: &[GREET_NOAUTH, REQ_V4_80],
            server: &["0500", "05050001 00000000 0000"],
            state: SocksState::Refused,
            check: |i| {
                assert_eq!(i.reply, Some(5));
                assert_eq!(i.reply_text, Some("connection refused"));
            },
            notes: &["socks.refused"],
            hs: (13, 12),
        },
        Case {
            name: "socks5 no acceptable method",
            client: &[GREET_USERPASS],
            server: &["05ff"],
            state: SocksState::Refused,
            check: |i| assert_eq!(i.method_chosen, Some(0xFF)),
            notes: &["socks.no-acceptable-method"],
            hs: (4, 2),
        },
        Case {
            name: "socks5 bad password",
            client: &[GREET_USERPASS, AUTH_ALICE],
            server: &["0502", "0101"],
            state: SocksState::Refused,
            check: |i| {
                assert_eq!(i.auth_ok, Some(false));
                assert_eq!(i.username.as_deref(), Some("alice"));
            },
            notes: &["socks.cleartext-credentials", "socks.auth-failed"],
            hs: (4 + 15, 4),
        },
        Case {
            name: "socks5 RFC 1929 reply with version 5 (tolerated)",
            client: &[GREET_USERPASS, AUTH_ALICE, REQ_V4_80],
            server: &["0502", "0500", REPLY_OK],
            state: SocksState::Established,
            check: |i| assert_eq!(i.auth_ok, Some(true)),
            notes: &["socks.cleartext-credentials", "socks.bad-version"],
            hs: (4 + 15 + 10, 14),
        },
        Case {
            name: "socks5 empty password",
            client: &["050102", "01017800", REQ_V4_80],
            server: &["0502", "0100", REPLY_OK],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.username.as_deref(), Some("x"));
                assert_eq!(i.password_len, Some(0));
                assert_eq!(i.password_masked.as_deref(), Some(""));
            },
            notes: &["socks.cleartext-credentials", "socks.empty-field"],
            hs: (3 + 4 + 10, 14),
        },
        Case {
            name: "socks5 GSSAPI is not followed",
            client: &["05020001", "01010004deadbeef"],
            server: &["0501"],
            state: SocksState::Lost,
            check: |i| assert_eq!(i.method_chosen, Some(1)),
            notes: &["socks.unsupported-method"],
            hs: (4, 2),
        },
        Case {
            name: "socks5 method not offered, followed anyway",
            client: &[GREET_NOAUTH, AUTH_ALICE, REQ_V4_80],
            server: &["0502", "0100", REPLY_OK],
            state: SocksState::Established,
            check: |i| assert_eq!(i.method_chosen, Some(2)),
            notes: &["socks.method-not-offered", "socks.cleartext-credentials"],
            hs: (3 + 15 + 10, 14),
        },
        Case {
            name: "socks5 request with the wrong version",
            client: &[GREET_NOAUTH, "04010001c00002010050"],
            server: &["0500"],
            state: SocksState::Failed,
            check: |i| assert_eq!(i.target, None),
            notes: &["socks.bad-version"],
            hs: (3, 2),
        },
        Case {
            name: "socks5 unknown address type",
            client: &[GREET_NOAUTH, "05010002c00002010050"],
            server: &["0500"],
            state: SocksState::Failed,
            check: |_| {},
            notes: &["socks.unknown-address-type"],
            hs: (3, 2),
        },
        Case {
            name: "socks5 unknown command, server says not supported",
            client: &[GREET_NOAUTH, "05090001c00002010050"],
            server: &["0500", "05070001000000000000"],
            state: SocksState::Refused,
            check: |i| {
                assert_eq!(i.command, Some(9));
                assert_eq!(i.reply_text, Some("command not supported"));
            },
            notes: &["socks.unknown-command", "socks.refused"],
            hs: (13, 12),
        },
        Case {
            name: "socks5 non-zero RSV and empty domain are noted",
            client: &[GREET_NOAUTH, "050101030001bb"],
            server: &["0500", "05000101000000000000"],
            state: SocksState::Established,
            check: |i| assert_eq!(i.target.as_deref(), Some(":443")),
            notes: &[
                "socks.nonzero-reserved",
                "socks.empty-field",
                "socks.nonzero-reserved",
            ],
            hs: (10, 12),
        },
        Case {
            name: "socks5 server answers with the wrong version",
            client: &[GREET_NOAUTH],
            server: &["0400"],
            state: SocksState::Failed,
            check: |i| assert_eq!(i.method_chosen, None),
            notes: &["socks.bad-version"],
            hs: (3, 0),
        },
        Case {
            name: "socks5 zero methods",
            client: &["0500"],
            server: &["05ff"],
            state: SocksState::Refused,
            check: |i| assert!(i.methods_offered.is_empty()),
            notes: &["socks.no-methods", "socks.no-acceptable-method"],
            hs: (2, 2),
        },
        Case {
            name: "socks4 CONNECT granted",
            client: &["0401 0050 c0000201 626f6200"],
            server: &["005a 0000 00000000"],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.variant, "socks4");
                assert_eq!(i.username.as_deref(), Some("bob"));
                assert_eq!(i.target.as_deref(), Some("192.0.2.1:80"));
                assert_eq!(i.reply_text, Some("request granted"));
                assert_eq!(i.method_chosen, None);
            },
            notes: &[],
            hs: (12, 8),
        },
        Case {
            name: "socks4 to 0.0.0.0 is not 4a (x must be non-zero)",
            client: &["0401 0050 00000000 00"],
            server: &["005a 0000 00000000"],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.variant, "socks4");
                assert_eq!(i.target.as_deref(), Some("0.0.0.0:80"));
            },
            notes: &[],
            hs: (9, 8),
        },
        Case {
            name: "socks4a with host name",
            client: &["0401 01bb 000000ff 00 6578616d706c652e6f726700"],
            server: &["005a 01bb 00000000"],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.variant, "socks4a");
                assert_eq!(i.username.as_deref(), Some(""));
                assert_eq!(i.target.as_deref(), Some("example.org:443"));
                assert_eq!(i.address_type, Some("domain"));
            },
            notes: &[],
            hs: (21, 8),
        },
        Case {
            name: "socks4 rejected (0x5B)",
            client: &["0401 0050 c0000201 00"],
            server: &["005b 0000 00000000"],
            state: SocksState::Refused,
            check: |i| {
                assert_eq!(i.reply, Some(0x5B));
                assert_eq!(i.reply_text, Some("request rejected or failed"));
            },
            notes: &["socks.refused"],
            hs: (9, 8),
        },
        Case {
            name: "socks4 identd rejections (0x5C)",
            client: &["0401 0050 c0000201 00"],
            server: &["005c 0000 00000000"],
            state: SocksState::Refused,
            check: |i| assert_eq!(i.reply, Some(0x5C)),
            notes: &["socks.refused"],
            hs: (9, 8),
        },
        Case {
            name: "socks4 BIND: two replies",
            client: &["0402 0015 c0000201 00"],
            server: &["005a 9c40 0a000001", "005a b000 c6336407"],
            state: SocksState::Established,
            check: |i| {
                assert_eq!(i.command, Some(2));
                assert_eq!(i.bound.as_deref(), Some("10.0.0.1:40000"));
                assert_eq!(i.bind_peer.as_deref(), Some("198.51.100.7:45056"));
            },
            notes: &[],
            hs: (9, 16),
        },
        Case {
            name: "socks4 reply version 4 (tolerated)",
            client: &["0401 0050 c0000201 00"],
            server: &["045a 0050 c0000201"],
            state: SocksState::Established,
            check: |_| {},
            notes: &["socks.bad-version"],
            hs: (9, 8),
        },
        Case {
            name: "socks4 answered with HTTP",
            client: &["0401 0050 c0000201 00"],
            server: &["485454502f312e31"],
            state: SocksState::Failed,
            check: |i| assert_eq!(i.reply, None),
            notes: &["socks.bad-version"],
            hs: (9, 0),
        },
        Case {
            name: "not socks at all",
            client: &["474554202f20485454502f312e310d0a"],
            server: &[],
            state: SocksState::Failed,
            check: |i| assert_eq!(i.version, 0),
            notes: &["socks.not-socks"],
            hs: (0, 0),
        },
    ]
}

#[test]
fn table() {
    for case in cases() {
        let steps = conversation(case.client, case.server);
        let (c, _) = run(&steps);
        let name = case.name;
        assert_eq!(c.state(), case.state, "{name}: {:?}", c.notes());
        (case.check)(c.info());
        assert_eq!(codes(&c), case.notes, "{name}");
        let i = c.info();
        let hs = (i.client_handshake_bytes, i.server_handshake_bytes);
        assert_eq!(hs, case.hs, "{name}");
    }
}

#[test]
fn passwords_are_masked() {
    assert_eq!(mask(b""), "");
    assert_eq!(
        mask(b"x"),
        "\u{2026}(1 more)",
        "a one-character password shows none"
    );
    assert_eq!(mask(b"pass"), "p\u{2026}(3 more)");
    assert_eq!(mask("\u{e9}t\u{e9}".as_bytes()), "\u{e9}\u{2026}(2 more)");
    assert_eq!(mask(&[0xff, b'a']), "\u{fffd}\u{2026}(1 more)");
}

#[test]
fn note_offsets_point_at_the_byte() {
    let (c, _) = run(&conversation(
        &[GREET_NOAUTH, "05010002c00002010050"],
        &["0500"],
    ));
    let n = &c.notes()[0];
    assert_eq!((n.dir, n.offset), (0, 3 + 3)); // ATYP of the request after a 3-byte greeting
    let (c, _) = run(&conversation(
        &[GREET_USERPASS, AUTH_ALICE],
        &["0502", "0101"],
    ));
    let n = c.notes().last().unwrap();
    assert_eq!(n.kind, NoteKind::AuthFailed { status: 1 });
    assert_eq!((n.dir, n.offset), (1, 3));
}

// ---- pipelining, early payload, bounds, gaps ----------------------------------------------

#[test]
fn pipelined_greeting_auth_request_and_payload() {
    // All client messages and the first request bytes in one segment, before any answer.
    let client = [
        hex(GREET_USERPASS),
        hex(AUTH_ALICE),
        hex(REQ_V4_80),
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
    ]
    .concat();
    let server = [
        hex("0502"),
        hex("0100"),
        hex(REPLY_OK),
        b"HTTP/1.1 204".to_vec(),
    ]
    .concat();
    let (c, t) = run(&[(0, client), (1, server)]);
    assert_eq!(c.state(), SocksState::Established);
    assert_eq!(c.info().client_handshake_bytes, 4 + 15 + 10);
    assert_eq!(c.info().server_handshake_bytes, 14);
    assert_eq!(t.payload[0], b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(t.payload[1], b"HTTP/1.1 204");
    let early = c
        .notes()
        .iter()
        .find(|n| n.kind.code().name == "socks.early-payload");
    let early = early.unwrap();
    assert_eq!((early.dir, early.offset), (0, 29));
    assert_eq!(early.kind, NoteKind::EarlyPayload { bytes: 18 });
}

#[test]
fn early_payload_is_handed_back_once_and_in_order() {
    let mut c = SocksConn::new();
    assert_eq!(c.feed(0, &hex(GREET_NOAUTH)), 3);
    assert_eq!(c.feed(1, &hex("0500")), 2);
    assert_eq!(c.feed(0, &[hex(REQ_V4_80), b"ab".to_vec()].concat()), 12);
    assert_eq!(c.feed(0, b"cd"), 2);
    assert!(
        c.take_early_payload(0).is_empty(),
        "nothing before the grant"
    );
    let reply = [hex(REPLY_OK), b"xyz".to_vec()].concat();
    assert_eq!(
        c.feed(1, &reply),
        10,
        "the server's payload is returned, not held"
    );
    assert_eq!(c.state(), SocksState::Established);
    assert_eq!(c.take_early_payload(0), b"abcd");
    assert!(c.take_early_payload(0).is_empty());
    assert!(c.take_early_payload(1).is_empty());
    assert_eq!(
        c.feed(0, b"ef"),
        0,
        "after the handshake everything is payload"
    );
    assert_eq!(c.early_dropped(0), 0);
}

#[test]
fn early_payload_is_discarded_when_refused() {
    let (c, t) = run(&[
        (
            0,
            [hex(GREET_NOAUTH), hex(REQ_V4_80), b"GET /".to_vec()].concat(),
        ),
        (1, [hex("0500"), hex("05020001000000000000")].concat()),
    ]);
    assert_eq!(c.state(), SocksState::Refused);
    assert_eq!(t.payload, [Vec::<u8>::new(), Vec::new()]);
    assert_eq!(codes(&c), ["socks.refused", "socks.held-discarded"]);
}

#[test]
fn held_bytes_are_bounded_and_the_drop_is_counted() {
    let limits = SocksLimits {
        max_message: 600,
        max_held: 64,
    };
    let mut c = SocksConn::with_limits(limits);
    let mut t = Tunnel::default();
    let payload: Vec<u8> = (0..200u8).collect();
    let client = [hex(GREET_NOAUTH), hex(REQ_V4_80), payload.clone()].concat();
    drive(&mut c, &mut t, 0, &client[..40]);
    drive(&mut c, &mut t, 0, &client[40..]);
    assert_eq!(c.state(), SocksState::Handshake);
    drive(&mut c, &mut t, 1, &[hex("0500"), hex(REPLY_OK)].concat());
    assert_eq!(c.state(), SocksState::Established);
    // The greeting was parsed at once; then 64 held = the 10-byte request + 54 payload bytes;
    // the other 146 were counted, in order after them.
    assert_eq!(t.payload[0], payload[..54]);
    assert_eq!(c.early_dropped(0), 146);
    assert_eq!(
        codes(&c),
        ["socks.held-bytes-dropped", "socks.early-payload"]
    );
    assert_eq!(c.notes()[0].offset, 3 + 64);
}

#[test]
fn nothing_is_kept_after_a_dropped_byte() {
    // Room frees up when the request is parsed, but bytes after the dropped ones must not be
    // kept: they would be handed back ahead of the gap.
    let limits = SocksLimits {
        max_message: 600,
        max_held: 32,
    };
    let mut c = SocksConn::with_limits(limits);
    let mut t = Tunnel::default();
    let payload: Vec<u8> = (0..40u8).collect();
    let client = [hex(GREET_NOAUTH), hex(REQ_V4_80), payload.clone()].concat();
    drive(&mut c, &mut t, 0, &client); // 32 held, greeting parsed, 21 dropped
    drive(&mut c, &mut t, 1, &hex("0500")); // request parsed: 19 held
    drive(&mut c, &mut t, 0, b"ZZ");
    drive(&mut c, &mut t, 1, &hex(REPLY_OK));
    assert_eq!(c.state(), SocksState::Established);
    assert_eq!(t.payload[0], payload[..19]);
    assert_eq!(c.early_dropped(0), 21 + 2);
}

#[test]
fn message_bound_applies_however_the_bytes_arrive() {
    let limits = SocksLimits {
        max_message: 16,
        max_held: 1024,
    };
    let request = hex("05010004 20010db8000000000000000000000001 01bb"); // 22 bytes
    let whole = vec![
        (0, hex(GREET_NOAUTH)),
        (1, hex("0500")),
        (0, request.clone()),
    ];
    let mut bytes = vec![(0, hex(GREET_NOAUTH)), (1, hex("0500"))];
    bytes.extend(request.iter().map(|b| (0, vec![*b])));
    for steps in [whole, bytes] {
        let (c, _) = run_with(SocksConn::with_limits(limits), &steps);
        assert_eq!(c.state(), SocksState::Failed);
        assert_eq!(c.notes()[0].kind, NoteKind::MessageTooLong { limit: 16 });
        assert_eq!((c.notes()[0].dir, c.notes()[0].offset), (0, 3));
    }
}

#[test]
fn socks4_user_id_without_nul_is_bounded() {
    let mut c = SocksConn::new();
    assert_eq!(c.feed(0, &hex("04010050c0000201")), 8);
    let user = vec![b'a'; 2000];
    c.feed(0, &user);
    assert_eq!(c.state(), SocksState::Failed);
    assert_eq!(c.notes()[0].kind, NoteKind::MessageTooLong { limit: 1024 });
    assert_eq!(c.notes()[0].offset, 8);
}

#[test]
fn gap_in_the_handshake_is_lost() {
    let mut c = SocksConn::new();
    c.feed(0, &hex("0502"));
    c.gap(0, 2);
    assert_eq!(c.state(), SocksState::Lost);
    assert_eq!(c.notes()[0].kind, NoteKind::Gap { len: 2 });
    assert_eq!(c.notes()[0].offset, 2);
    assert_eq!(c.feed(0, &hex(REQ_V4_80)), 0);
    // After the handshake a gap is the tunnel's business.
    let (mut c, _) = run(&conversation(
        &[GREET_NOAUTH, REQ_V4_80],
        &["0500", REPLY_OK],
    ));
    c.gap(1, 100);
    assert_eq!(c.state(), SocksState::Established);
    assert!(c.notes().is_empty());
}

#[test]
fn a_failure_does_not_depend_on_the_interleaving() {
    // Found by split_anywhere: a bad request after RFC 1929 failed before the status was
    // parsed when the client's bytes came first. The request now waits for the status.
    let client = [hex(GREET_USERPASS), hex(AUTH_ALICE), hex("0401")].concat();
    let server = [hex("0502"), hex("0100")].concat();
    let (a, _) = run(&[(0, client.clone()), (1, server.clone())]);
    let (b, _) = run(&[(1, server), (0, client)]);
    let (c, _) = run(&conversation(
        &[GREET_USERPASS, AUTH_ALICE, "0401"],
        &["0502", "0100"],
    ));
    for x in [&a, &b] {
        assert_eq!(x.state(), SocksState::Failed);
        assert_eq!(x.info(), c.info());
        assert_eq!(x.info().auth_ok, Some(true));
        assert_eq!(x.info().server_handshake_bytes, 4);
    }
}

#[test]
fn server_bytes_before_the_client_are_held_until_answered() {
    // An odd interleaving (capture reordering): the server's whole stream first.
    let (c, t) = run(&[
        (1, [hex("0500"), hex(REPLY_OK), b"HTTP".to_vec()].concat()),
        (
            0,
            [hex(GREET_NOAUTH), hex(REQ_V4_80), b"GET".to_vec()].concat(),
        ),
    ]);
    assert_eq!(c.state(), SocksState::Established);
    assert_eq!(t.payload[0], b"GET");
    assert_eq!(t.payload[1], b"HTTP");
}

// ---- looks_like_socks ---------------------------------------------------------------------

#[test]
fn looks_like_socks_says_no_to_other_protocols() {
    let no: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /api HTTP/1.1\r\n",
        b"CONNECT example.com:443 HTTP/1.1\r\n",
        b"HTTP/1.1 200 OK\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        &[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ],
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"hello world\n",
        b"\r\n",
        b"EHLO mail.example.com\r\n",
        &[0x05, 0x00],             // no methods
        &[0x05, 0x01, 0xff],       // X'FF' is never offered
        &[0x05, 0x01, 0x00, 0x47], // greeting then 'G'
        &[0x05, 0x02, 0x00, 0x42], // an unassigned method
        &[0x04, 0x03],             // SOCKS4 has only CONNECT and BIND
        &[0x04, 0x01, 0x00, 0x50, 0, 0, 0, 0, 0],
        &[0x04, 0x01, 0x00, 0x50, 1, 2, 3, 4, b'\n', 0],
        &[0x04, 0x01, 0x00, 0x50, 0, 0, 0, 1, 0, 0], // 4a with an empty host name
    ];
    for b in no {
        assert_eq!(looks_like_socks(b), Prefix::No, "{b:02x?}");
    }
}

#[test]
fn looks_like_socks_yes_and_maybe() {
    let yes: &[&str] = &[
        "050100",
        "05020002",
        "0503000102",
        "050100 050100017f0000011f90",
        "0502000201 04757365720470617373",
        "04011f907f00000100",
        "04011f9000000001686f7073636f7065006c6f63616c686f737400",
        "04011f907f00000100 474554",
    ];
    for h in yes {
        let b = hex(h);
        assert_eq!(looks_like_socks(&b), Prefix::Yes, "{h}");
        for n in 0..b.len() {
            assert_ne!(looks_like_socks(&b[..n]), Prefix::No, "{h} cut at {n}");
        }
    }
    for h in [
        "",
        "05",
        "0502",
        "050200",
        "0401",
        "04011f90",
        "04011f9000000001686f",
    ] {
        assert_eq!(looks_like_socks(&hex(h)), Prefix::Maybe, "{h}");
    }
}

// ---- properties ---------------------------------------------------------------------------

/// Valid conversations with payload after the handshake in both directions.
fn valid_conversations() -> Vec<Vec<(usize, Vec<u8>)>> {
    let mut v: Vec<_> = fixtures().into_iter().map(|f| f.steps).collect();
    for case in cases() {
        let mut steps = conversation(case.client, case.server);
        if case.state == SocksState::Established {
            steps.push((0, b"GET / HTTP/1.1\r\n\r\n".to_vec()));
            steps.push((1, b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()));
        }
        v.push(steps);
    }
    v
}

/// Cuts each direction's stream into pieces and interleaves them.
fn reshuffle(steps: &[(usize, Vec<u8>)], cuts: &[usize], order: &[bool]) -> Vec<(usize, Vec<u8>)> {
    let streams = [stream(steps, 0), stream(steps, 1)];
    let mut pos = [0usize; 2];
    let mut out = Vec::new();
    let (mut ci, mut oi) = (0, 0);
    while pos[0] < streams[0].len() || pos[1] < streams[1].len() {
        let mut d = usize::from(order.get(oi).copied().unwrap_or(oi % 2 == 1));
        oi += 1;
        if pos[d] == streams[d].len() {
            d = 1 - d;
        }
        let n = cuts.get(ci).copied().unwrap_or(7);
        ci += 1;
        let end = (pos[d] + n).min(streams[d].len());
        out.push((d, streams[d][pos[d]..end].to_vec()));
        pos[d] = end;
    }
    out
}

/// Notes that do not depend on how the bytes were cut.
fn stable_notes(c: &SocksConn) -> Vec<SocksNote> {
    let early = |k: &NoteKind| {
        matches!(
            k,
            NoteKind::EarlyPayload { .. } | NoteKind::HeldDiscarded { .. }
        )
    };
    c.notes()
        .iter()
        .filter(|n| !early(&n.kind))
        .cloned()
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn split_anywhere_same_result(
        which in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(1..16usize, 0..80),
        order in prop::collection::vec(any::<bool>(), 0..80),
    ) {
        let all = valid_conversations();
        let steps = which.get(&all);
        let (a, ta) = run(steps);
        let (b, tb) = run(&reshuffle(steps, &cuts, &order));
        prop_assert_eq!(a.state(), b.state());
        prop_assert_eq!(a.info(), b.info());
        prop_assert_eq!(stable_notes(&a), stable_notes(&b));
        prop_assert_eq!(&ta.payload, &tb.payload);
        if a.state() == SocksState::Established {
            // The tunnel is exactly what follows the handshake in each direction.
            let hs = [a.info().client_handshake_bytes, a.info().server_handshake_bytes];
            for (d, hs) in hs.into_iter().enumerate() {
                prop_assert_eq!(&tb.payload[d][..], &stream(steps, d)[hs as usize..]);
            }
        }
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(
        first in prop_oneof![Just(4u8), Just(5u8), any::<u8>()],
        steps in prop::collection::vec(
            (0..3usize, prop::collection::vec(any::<u8>(), 0..40), any::<u16>()),
            0..30,
        ),
        small in any::<bool>(),
    ) {
        let limits = if small {
            SocksLimits { max_message: 16, max_held: 24 }
        } else {
            SocksLimits::default()
        };
        let mut c = SocksConn::with_limits(limits);
        let mut t = Tunnel::default();
        drive(&mut c, &mut t, 0, &[first]);
        for (d, bytes, gap) in steps {
            if d == 2 {
                c.gap(usize::from(gap % 2 == 1), u64::from(gap % 5));
            } else {
                drive(&mut c, &mut t, d, &bytes);
            }
            let _ = looks_like_socks(&bytes);
        }
        let i = c.info();
        prop_assert!(i.client_handshake_bytes <= t.fed[0]);
        prop_assert!(i.server_handshake_bytes <= t.fed[1]);
    }

    #[test]
    fn never_panics_on_mutated_handshakes(
        which in any::<prop::sample::Index>(),
        flips in prop::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>()),
            1..4,
        ),
        cuts in prop::collection::vec(1..16usize, 0..40),
    ) {
        let all = valid_conversations();
        let mut steps = which.get(&all).clone();
        for (step, byte, v) in flips {
            let k = step.index(steps.len());
            let b = &mut steps[k].1;
            if !b.is_empty() {
                let i = byte.index(b.len());
                b[i] = v;
            }
        }
        let (a, _) = run(&steps);
        let (b, _) = run(&reshuffle(&steps, &cuts, &[]));
        prop_assert_eq!(a.state(), b.state());
        prop_assert_eq!(a.info(), b.info());
    }

    #[test]
    fn looks_like_socks_never_panics(b in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = looks_like_socks(&b);
    }
}

#[test]
fn a_reply_cut_by_the_held_bound_is_never_made_of_later_bytes() {
    // SOCKS pairs one request with one reply, in order. A reply whose bytes went past the held
    // bound waits for them forever: the next bytes (here a second reply) are counted, never
    // parsed in its place.
    let limits = SocksLimits {
        max_message: 600,
        max_held: 10,
    };
    let mut c = SocksConn::with_limits(limits);
    let mut t = Tunnel::default();
    drive(&mut c, &mut t, 0, &hex(GREET_NOAUTH));
    // Method selection and the first 8 bytes of the reply are kept, 2 dropped.
    drive(&mut c, &mut t, 1, &[hex("0500"), hex(REPLY_OK)].concat());
    drive(&mut c, &mut t, 1, &hex("05000001 0a000002 1f91"));
    drive(&mut c, &mut t, 0, &hex(REQ_V4_80));
    assert_eq!(c.state(), SocksState::Handshake);
    assert_eq!(c.info().reply, None);
    assert_eq!(c.info().bound, None);
    assert_eq!(c.early_dropped(1), 2 + 10);
    assert_eq!(codes(&c), ["socks.held-bytes-dropped"]);
}
