#![allow(clippy::unwrap_used)]
use super::*;
use proptest::prelude::*;

// ---------------------------------------------------------------- helpers

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// A fixture of `testdata/`: `(direction, segment)` in capture order.
fn fixture(text: &str) -> Vec<(usize, Vec<u8>)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (d, h) = l.split_once(' ').unwrap();
            (d.parse().unwrap(), unhex(h.trim()))
        })
        .collect()
}

const CT_40081: &str = include_str!("testdata/connect-tls-40081.txt");
const CT_40082: &str = include_str!("testdata/connect-tls-40082.txt");
const BUG_2769: &str = include_str!("testdata/suricata-bug-2769-connect-tls.txt");
const SV_CONNECT_TLS: &str = include_str!("testdata/suricata-http-connect-tls.txt");
const WSTUNNEL: &str = include_str!("testdata/zeek-wstunnel-https.txt");

/// The segments of a fixture from the given per-direction stream offsets on (where TLS starts).
fn from_offsets(segs: &[(usize, Vec<u8>)], start: [usize; 2]) -> Vec<(usize, Vec<u8>)> {
    let mut pos = [0usize; 2];
    let mut out = Vec::new();
    for (d, s) in segs {
        let skip = start[*d].saturating_sub(pos[*d]).min(s.len());
        pos[*d] += s.len();
        if skip < s.len() {
            out.push((*d, s[skip..].to_vec()));
        }
    }
    out
}

fn streams(segs: &[(usize, Vec<u8>)]) -> [Vec<u8>; 2] {
    let mut out = [Vec::new(), Vec::new()];
    for (d, s) in segs {
        out[*d].extend_from_slice(s);
    }
    out
}

fn sniff(segs: &[(usize, Vec<u8>)]) -> TlsSniffer {
    let mut t = TlsSniffer::default();
    for (d, s) in segs {
        t.feed(*d, s);
    }
    t
}

/// TLS records of type `ct` carrying `payload`, cut into fragments of the given sizes (cycled).
fn records(ct: u8, payload: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = payload;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(rest.len());
        let n = n.clamp(1, rest.len()).min(16384);
        out.extend_from_slice(&[ct, 3, 3]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    out
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![msg_type];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

fn ext(t: u16, data: &[u8]) -> Vec<u8> {
    let mut e = t.to_be_bytes().to_vec();
    e.extend_from_slice(&(data.len() as u16).to_be_bytes());
    e.extend_from_slice(data);
    e
}

fn vec16(items: &[u8]) -> Vec<u8> {
    let mut v = (items.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(items);
    v
}

fn sni(name: &str) -> Vec<u8> {
    let mut entry = vec![0];
    entry.extend_from_slice(&vec16(name.as_bytes()));
    ext(0, &vec16(&entry))
}

fn alpn(protos: &[&str]) -> Vec<u8> {
    let mut list = Vec::new();
    for p in protos {
        list.push(p.len() as u8);
        list.extend_from_slice(p.as_bytes());
    }
    ext(16, &vec16(&list))
}

fn versions(vs: &[u16]) -> Vec<u8> {
    let mut l = vec![(2 * vs.len()) as u8];
    vs.iter()
        .for_each(|v| l.extend_from_slice(&v.to_be_bytes()));
    ext(43, &l)
}

/// A ClientHello handshake message (header included).
fn client_hello(ciphers: &[u16], exts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.push(0);
    let cs: Vec<u8> = ciphers.iter().flat_map(|c| c.to_be_bytes()).collect();
    b.extend_from_slice(&vec16(&cs));
    b.extend_from_slice(&[1, 0]);
    b.extend_from_slice(&vec16(&exts.concat()));
    handshake(1, &b)
}

/// A ServerHello handshake message (header included).
fn server_hello(random: [u8; 32], cipher: u16, exts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.push(32);
    b.extend_from_slice(&[9; 32]);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    b.extend_from_slice(&vec16(&exts.concat()));
    handshake(2, &b)
}

/// ServerHello (ALPN h2, TLS 1.2) + Certificate + ServerHelloDone: a TLS 1.2 server flight.
fn server_flight() -> Vec<u8> {
    let mut f = server_hello([5; 32], 0xc02f, &[alpn(&["h2"]), ext(0xff01, &[0])]);
    f.extend_from_slice(&handshake(11, &[0, 0, 6, 0, 0, 3, 1, 2, 3]));
    f.extend_from_slice(&handshake(14, &[]));
    f
}

fn kinds(t: &TlsSniffer) -> Vec<&'static str> {
    t.notes().iter().map(|n| n.code().name).collect()
}

/// Everything a sniffer reports, notes in a direction-independent order.
fn outcome(t: &TlsSniffer) -> impl PartialEq + std::fmt::Debug {
    let mut notes = t.notes().to_vec();
    notes.sort_by_key(|n| (n.dir, n.offset));
    (
        t.client_hello().cloned(),
        t.server_hello().cloned(),
        notes,
        [t.records(0), t.records(1)],
        [t.bytes(0), t.bytes(1)],
        t.is_done(),
    )
}

// ---------------------------------------------------------------- recognition

#[test]
fn looks_like_tls_table() {
    let cases: &[(&[u8], Prefix)] = &[
        (b"", Prefix::Maybe),
        (&[0x16], Prefix::Maybe),
        (&[0x16, 3, 1, 0], Prefix::Maybe),
        (&[0x16, 3, 1, 0, 0xd7], Prefix::Yes),
        (&[0x16, 3, 0, 0, 0], Prefix::Yes), // suricata-verify http-connect-tls: empty record
        (&[0x16, 3, 4, 0x48, 0x00], Prefix::Yes),
        (&[0x16, 3, 4, 0x48, 0x01], Prefix::No), // longer than 2^14 + 2048
        (&[0x16, 3, 5], Prefix::No),
        (&[0x16, 2], Prefix::No),
        (&[0x17, 3, 3, 0, 1], Prefix::No), // application data is not a start
        (b"GET / HTTP/1.1\r\n", Prefix::No),
        (b"\nGET", Prefix::No),
        (&[0x80, 0x2e, 1, 3, 1], Prefix::Yes), // SSLv2-compatible ClientHello
        (&[0x80, 0x2e, 1, 0, 2], Prefix::Yes),
        (&[0x80, 0x2e, 1], Prefix::Maybe),
        (&[0x80, 0x2e, 2, 3, 1], Prefix::No),
        (&[0x80, 0x2e, 1, 3, 7], Prefix::No),
        (&[0xff], Prefix::Maybe),
    ];
    for (bytes, want) in cases {
        assert_eq!(looks_like_tls(bytes), *want, "{bytes:02x?}");
    }
}

#[test]
fn version_names_and_grease() {
    let names = [
        (0x0304, "TLS 1.3"),
        (0x0303, "TLS 1.2"),
        (0x0302, "TLS 1.1"),
        (0x0301, "TLS 1.0"),
        (0x0300, "SSL 3.0"),
        (0x0002, "SSL 2.0"),
        (0x7f17, "TLS 1.3 draft"),
        (0xfefd, "DTLS 1.2"),
        (0x1a1a, "GREASE"),
        (0x1234, "unknown"),
    ];
    for (v, n) in names {
        assert_eq!(version_name(v), n, "{v:04x}");
    }
    assert!(is_grease(0x0a0a) && is_grease(0xfafa));
    // tls-parser's own test (`& 0x0f0f == 0x0a0a`) would call 0x1a2a GREASE; RFC 8701 does not.
    assert!(!is_grease(0x1a2a) && !is_grease(0x0303));
}

// ---------------------------------------------------------------- real data

fn connect_tls_facts() -> Vec<serde_json::Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/expected.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let capture = json["captures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["file"] == "connect-tls.pcap")
        .unwrap();
    capture["details"]["connect_tls_connections"]
        .as_array()
        .unwrap()
        .clone()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn hex_u16(v: &serde_json::Value) -> u16 {
    u16::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// `client_hello_hex` is the handshake message without the record header (samples/README.md:
/// "the handshake message as curl's TLS library logged it"): wrapped in the record header the
/// facts give, it is what the client sent, and it parses to the facts.
#[test]
fn expected_json_client_hellos() {
    let facts = connect_tls_facts();
    assert_eq!(facts.len(), 2);
    let fixtures = [CT_40081, CT_40082];
    for (c, fx) in facts.iter().zip(fixtures) {
        let msg = unhex(c["client_hello_hex"].as_str().unwrap());
        let ch = &c["client_hello"];
        assert_eq!(
            msg.len() as u64,
            ch["handshake_message_bytes"].as_u64().unwrap()
        );
        let leg = &c["legs"]["client_to_proxy"];
        let mut wire = unhex(leg["records"][0]["header_hex"].as_str().unwrap());
        assert_eq!(wire.len(), 5);
        wire.extend_from_slice(&msg);
        // The fixture (tshark's follow) carries exactly these bytes where TLS starts.
        let at = c["tls_stream_offset_client"].as_u64().unwrap() as usize;
        assert_eq!(&streams(&fixture(fx))[0][at..at + wire.len()], &wire[..]);

        let mut t = TlsSniffer::default();
        t.feed(0, &wire);
        assert_eq!(t.notes(), &[]);
        let got = t.client_hello().unwrap();
        assert_eq!(got.sni, strings(&ch["sni"]));
        assert_eq!(got.alpn, strings(&ch["alpn"]));
        let offered: Vec<_> = got
            .offered_versions
            .iter()
            .map(|v| version_name(*v))
            .collect();
        let facts_offered = strings(&ch["offered_versions"]);
        if ch["offered_versions_from"] == "supported_versions" {
            assert_eq!(offered, facts_offered);
        } else {
            // Disagreement on purpose: without supported_versions, samples/tools/tls_hello.py
            // lists legacy_version "and below" down to TLS 1.0, a floor the hello does not
            // state (RFC 5246 E.1: client_version is only the highest). We report what was
            // sent, [legacy_version], which is the facts' first entry.
            let from = "legacy_version (no supported_versions extension)";
            assert_eq!(ch["offered_versions_from"], from);
            assert_eq!(offered, facts_offered[..1]);
            assert_eq!(facts_offered, ["TLS 1.2", "TLS 1.1", "TLS 1.0"]);
        }
        assert_eq!(got.legacy_version, hex_u16(&ch["legacy_version"]));
        assert_eq!(
            got.session_id_len as u64,
            ch["session_id_bytes"].as_u64().unwrap()
        );
        assert_eq!(
            got.cipher_suites,
            ch["cipher_suites"].as_array().unwrap().len()
        );
        let types: Vec<u16> = ch["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_u64().unwrap() as u16)
            .collect();
        assert_eq!(got.extensions, types);
        assert!(!got.grease);
        assert_eq!(
            t.records(0),
            leg["records"].as_array().unwrap().len() as u64
        );
    }
}

fn ext_type_of(name: &str) -> u16 {
    match name {
        "server_name" => 0,
        "ec_point_formats" => 11,
        "application_layer_protocol_negotiation" => 16,
        "extended_master_secret" => 23,
        "supported_versions" => 43,
        "key_share" => 51,
        "renegotiation_info" => 0xff01,
        other => panic!("add {other}"),
    }
}

/// The whole tunnelled TLS of both curl connections, segment by segment as captured, against
/// expected.json (ServerHello facts from curl's trace) and tshark's record counts.
#[test]
fn connect_tls_streams() {
    let facts = connect_tls_facts();
    // Records per direction: tshark 4.0 on tcp.stream 0 (TLS 1.2: 1+3+3 / 4+2+3); for the
    // TLS 1.3 stream tshark shows no record types after the CCS, so the walk of the headers
    // by hand (fixture header) is the reference.
    let want_records = [[7, 9], [5, 9]];
    for ((c, fx), want_records) in facts.iter().zip([CT_40081, CT_40082]).zip(want_records) {
        let start = [
            c["tls_stream_offset_client"].as_u64().unwrap() as usize,
            c["tls_stream_offset_server"].as_u64().unwrap() as usize,
        ];
        let all = streams(&fixture(fx));
        assert_eq!(looks_like_tls(&all[0]), Prefix::No, "CONNECT is not TLS");
        assert_eq!(looks_like_tls(&all[0][start[0]..]), Prefix::Yes);
        assert_eq!(looks_like_tls(&all[1][start[1]..]), Prefix::Yes);

        let segs = from_offsets(&fixture(fx), start);
        let t = sniff(&segs);
        assert_eq!(t.notes(), &[]);
        assert!(t.is_done());
        assert_eq!(t.buffered(), 0);
        assert_eq!([t.records(0), t.records(1)], want_records);
        assert_eq!(t.bytes(0) as usize, all[0].len() - start[0]);
        assert_eq!(t.bytes(1) as usize, all[1].len() - start[1]);
        let sh = &c["server_hello"];
        let got = t.server_hello().unwrap();
        assert_eq!(got.legacy_version, hex_u16(&sh["legacy_version"]));
        assert_eq!(got.cipher_suite, hex_u16(&sh["cipher_suite"]));
        assert_eq!(version_name(got.selected_version), sh["selected_version"]);
        assert_eq!(got.alpn.as_deref(), sh["alpn"].as_str());
        let types: Vec<u16> = strings(&sh["extensions"])
            .iter()
            .map(|n| ext_type_of(n))
            .collect();
        assert_eq!(got.extensions, types);
        assert!(!got.hello_retry_request);
        assert_eq!(t.client_hello().unwrap().sni, ["localhost"]);
    }
}

/// JA4 section a, derived by hand from the FoxIO JA4 rules and the facts (no tool computes it
/// here: tshark 4.0 predates its JA4 fields).
#[test]
fn ja4_a_of_real_hellos() {
    let ja4 = |fx: &str, start: [usize; 2]| {
        let t = sniff(&from_offsets(&fixture(fx), start));
        t.client_hello().unwrap().ja4_like.clone().unwrap()
    };
    // TLS 1.2 max, SNI, 28 suites, 7 extensions, "h2".
    assert_eq!(ja4(CT_40081, [112, 70]), "t12d2807h2");
    // supported_versions up to 1.3, 31 suites, 12 extensions, "http/1.1" -> h1.
    assert_eq!(ja4(CT_40082, [112, 70]), "t13d3112h1");
    // No ALPN: "00".
    assert_eq!(ja4(BUG_2769, [379, 65]), "t12d190800");
    assert_eq!(ja4(WSTUNNEL, [0, 0]), "t13d3113h2");
}

/// suricata-verify bug-2769-connect-tls: facts from tshark 4.0 (fixture header). The
/// ServerHello has a record of its own; the Certificate record after it spans three segments;
/// the capture ends inside the last server record.
#[test]
fn suricata_bug_2769() {
    let t = sniff(&from_offsets(&fixture(BUG_2769), [379, 65]));
    assert_eq!(t.notes(), &[]);
    let ch = t.client_hello().unwrap();
    assert_eq!(ch.legacy_version, 0x0303);
    assert_eq!(ch.sni, ["supportingfunctions.us.newsweaver.com"]);
    assert!(ch.alpn.is_empty());
    assert_eq!(ch.offered_versions, [0x0303]);
    assert_eq!((ch.session_id_len, ch.cipher_suites), (0, 19));
    assert_eq!(ch.extensions, [0, 5, 10, 11, 13, 35, 23, 65281]);
    let sh = t.server_hello().unwrap();
    assert_eq!((sh.legacy_version, sh.selected_version), (0x0303, 0x0303));
    assert_eq!((sh.cipher_suite, sh.alpn.as_deref()), (0xc013, None));
    assert_eq!(sh.extensions, [65281, 11]);
    assert_eq!([t.records(0), t.records(1)], [5, 7]);
    assert!(t.is_done());
}

/// suricata-verify http-connect-tls: Suricata calls the tunnel TLS (app_proto tls) from its
/// first bytes, an empty handshake record; after it come zeros, which are no record header.
#[test]
fn suricata_http_connect_tls() {
    let segs = fixture(SV_CONNECT_TLS);
    let all = streams(&segs);
    assert_eq!(&all[0][51..53], b"\n\n", "CONNECT head plus a stray LF");
    assert_eq!(looks_like_tls(&all[0][52..]), Prefix::No);
    assert_eq!(looks_like_tls(&all[0][53..]), Prefix::Yes);
    let t = sniff(&from_offsets(&segs, [53, all[1].len()]));
    assert_eq!(t.records(0), 1);
    assert_eq!(
        t.notes(),
        &[note(0, 5, NoteKind::BadRecord { header: [0; 5] })]
    );
    assert!(t.client_hello().is_none());
    assert!(!t.is_done(), "the server has not spoken");
    assert_eq!(t.bytes(0), 14);
}

/// zeek wstunnel-https: TLS 1.3 carried in WebSocket messages; facts from tshark 4.0 on the
/// payloads (fixture header).
#[test]
fn zeek_wstunnel_https() {
    let t = sniff(&fixture(WSTUNNEL));
    assert_eq!(t.notes(), &[]);
    let ch = t.client_hello().unwrap();
    assert_eq!(ch.sni, ["zeek.org"]);
    assert_eq!(ch.alpn, ["h2", "http/1.1"]);
    assert_eq!(ch.offered_versions, [0x0304, 0x0303]);
    assert_eq!((ch.session_id_len, ch.cipher_suites), (32, 31));
    let exts = [0, 11, 10, 13172, 16, 22, 23, 49, 13, 43, 45, 51, 21];
    assert_eq!(ch.extensions, exts);
    let sh = t.server_hello().unwrap();
    assert_eq!((sh.selected_version, sh.cipher_suite), (0x0304, 0x1302));
    assert_eq!(sh.extensions, [43, 51]);
    assert_eq!([t.records(0), t.records(1)], [8, 10]);
}

// ---------------------------------------------------------------- synthetic hellos

#[test]
fn grease_is_removed_from_versions_and_kept_in_extensions() {
    let msg = client_hello(
        &[0x2a2a, 0x1301],
        &[
            ext(0x3a3a, &[]),
            sni("example.com"),
            versions(&[0x4a4a, 0x0304, 0x0303]),
            alpn(&["h2"]),
        ],
    );
    let mut t = TlsSniffer::default();
    t.feed(0, &records(22, &msg, &[usize::MAX]));
    let ch = t.client_hello().unwrap();
    assert!(ch.grease);
    assert_eq!(ch.offered_versions, [0x0304, 0x0303]);
    assert_eq!(ch.extensions, [0x3a3a, 0, 43, 16]);
    assert_eq!(ch.cipher_suites, 2);
    assert_eq!(ch.ja4_like.as_deref(), Some("t13d0103h2"));
    assert_eq!(t.notes(), &[]);
}

#[test]
fn server_flight_in_one_record_and_hello_retry_request() {
    let mut t = TlsSniffer::default();
    t.feed(1, &records(22, &server_flight(), &[usize::MAX]));
    let sh = t.server_hello().unwrap();
    assert_eq!(sh.alpn.as_deref(), Some("h2"));
    assert_eq!((sh.cipher_suite, sh.selected_version), (0xc02f, 0x0303));
    assert_eq!(sh.extensions, [16, 0xff01]);
    assert_eq!((t.records(1), t.notes().len()), (1, 0));

    let hrr = server_hello(hello::HRR_RANDOM, 0x1301, &[ext(43, &[3, 4])]);
    let mut t = TlsSniffer::default();
    t.feed(1, &records(22, &hrr, &[usize::MAX]));
    let sh = t.server_hello().unwrap();
    assert!(sh.hello_retry_request);
    assert_eq!((sh.legacy_version, sh.selected_version), (0x0303, 0x0304));
}

#[test]
fn notes_for_what_is_not_a_hello() {
    // HTTP is not TLS.
    let mut t = TlsSniffer::default();
    t.feed(0, b"GET / HTTP/1.1\r\n");
    t.feed(0, b"more");
    assert_eq!(
        t.notes(),
        &[note(0, 0, NoteKind::NotTls { header: *b"GET /" })]
    );
    assert_eq!((t.bytes(0), t.records(0)), (20, 0));
    // SSLv2-compatible ClientHello.
    let mut t = TlsSniffer::default();
    t.feed(0, &[0x80, 0x2e, 1, 3, 1, 0, 0x15]);
    assert_eq!(kinds(&t), ["tls.sslv2-hello"]);
    // A ServerHello from the client; an alert before the ServerHello.
    let mut t = TlsSniffer::default();
    t.feed(0, &records(22, &server_flight(), &[100]));
    t.feed(1, &records(21, &[2, 40], &[2]));
    t.feed(1, &records(22, &server_flight(), &[100]));
    let want = [
        note(0, 5, NoteKind::UnexpectedHandshake { msg_type: 2 }),
        note(1, 0, NoteKind::HelloInterrupted { content_type: 21 }),
    ];
    assert_eq!(t.notes(), &want);
    assert!(t.is_done() && t.server_hello().is_none());
    assert_eq!(t.records(1), 1 + 2, "the walk goes on");
    // A direction that does not exist is ignored.
    t.feed(2, b"\x16\x03\x01\x00\x01\x01");
    t.gap(7, 3);
    assert_eq!((t.bytes(2), t.records(2), t.notes().len()), (0, 0, 2));
}

#[test]
fn malformed_hellos_are_notes_with_the_place() {
    // Empty ClientHello body: no fields at all (and no endless loop on a 4-byte message).
    let mut t = TlsSniffer::default();
    t.feed(0, &records(22, &handshake(1, &[]), &[9]));
    assert_eq!(kinds(&t), ["tls.malformed-hello"]);
    assert!(t.client_hello().is_none() && !t.is_done());

    // An extensions block whose length runs past the message: tls-parser drops it quietly.
    let mut msg = client_hello(&[0x1301], &[sni("a.example")]);
    let at = msg.len() - sni("a.example").len() - 2;
    msg[at] = 0x40;
    let mut t = TlsSniffer::default();
    t.feed(0, &records(22, &msg, &[usize::MAX]));
    let ch = t.client_hello().unwrap();
    assert!(ch.sni.is_empty() && ch.extensions.is_empty());
    let want = NoteKind::Malformed {
        at,
        what: "bytes after the fixed fields not read as extensions",
    };
    assert_eq!(t.notes(), &[note(0, 5, want)]);

    // A malformed extension: the ones before it are kept.
    let bad_alpn = ext(16, &[0, 9, 2, b'h']);
    let msg = client_hello(
        &[0x1301],
        &[sni("a.example"), bad_alpn.clone(), versions(&[0x0304])],
    );
    let at = msg.len() - bad_alpn.len() - versions(&[0x0304]).len();
    let mut t = TlsSniffer::default();
    t.feed(0, &records(22, &msg, &[usize::MAX]));
    let ch = t.client_hello().unwrap();
    assert_eq!(
        (ch.sni.clone(), ch.extensions.clone()),
        (vec!["a.example".to_string()], vec![0])
    );
    let what = "malformed extension; the ones after it are lost";
    assert_eq!(t.notes(), &[note(0, 5, NoteKind::Malformed { at, what })]);

    // Session id longer than 32: tls-parser's error is placed at the length byte.
    let mut msg = client_hello(&[0x1301], &[]);
    msg[4 + 2 + 32] = 33;
    let mut t = TlsSniffer::default();
    t.feed(0, &records(22, &msg, &[usize::MAX]));
    assert_eq!(
        t.notes(),
        &[note(
            0,
            5,
            NoteKind::Malformed {
                at: 38,
                what: "hello field invalid"
            }
        )]
    );
}

#[test]
fn long_lists_are_cut_with_a_note() {
    let names: Vec<String> = (0..100).map(|i| format!("p{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut t = TlsSniffer::default();
    t.feed(
        0,
        &records(22, &client_hello(&[0x1301], &[alpn(&names)]), &[usize::MAX]),
    );
    assert_eq!(t.client_hello().unwrap().alpn.len(), MAX_LIST);
    let kind = NoteKind::Truncated {
        what: "ALPN protocols",
        total: 100,
    };
    assert_eq!(t.notes(), &[note(0, 5, kind)]);
}

// ---------------------------------------------------------------- gaps and bounds

#[test]
fn gaps() {
    let ch = client_hello(&[0x1301], &[sni("gap.example")]);
    let recs = records(22, &ch, &[20]);
    // A gap inside the hello loses it; the walk survives a gap inside a record payload.
    let mut t = TlsSniffer::default();
    t.feed(0, &recs[..10]);
    t.gap(0, 5);
    t.feed(0, &recs[15..]);
    assert_eq!(t.notes(), &[note(0, 10, NoteKind::GapInHello { len: 5 })]);
    assert!(t.client_hello().is_none());
    assert_eq!(t.records(0), recs.len().div_ceil(25) as u64);
    assert_eq!(t.bytes(0), recs.len() as u64 - 5);
    // After the hello, a gap in application data is no loss; one over a header is.
    let mut t = TlsSniffer::default();
    t.feed(0, &recs);
    let app = records(23, &[0; 300], &[100]);
    t.feed(0, &app[..50]);
    t.gap(0, 50); // inside the first payload
    t.feed(0, &app[100..110]); // its end and the second header
    t.gap(0, 100); // the whole second payload
    t.feed(0, &app[210..212]);
    t.gap(0, 10); // the rest of the third header and more
    t.feed(0, &app[222..]);
    assert_eq!(t.records(0), recs.len().div_ceil(25) as u64 + 2);
    let at = (recs.len() + 212) as u64;
    assert_eq!(t.notes(), &[note(0, at, NoteKind::WalkLost { len: 10 })]);
    assert!(t.client_hello().is_some());
    // A gap before the server said anything: the ServerHello is lost.
    t.gap(1, 100);
    assert!(t.is_done());
    let want = [
        note(1, 0, NoteKind::GapInHello { len: 100 }),
        note(1, 0, NoteKind::WalkLost { len: 100 }),
    ];
    assert_eq!(t.notes()[1..], want);
}

#[test]
fn a_hello_claiming_16_mb_stops_at_its_header() {
    let mut t = TlsSniffer::default();
    let mut payload = vec![1, 0xff, 0xff, 0xff];
    payload.extend(std::iter::repeat_n(0x41, 200_000));
    for piece in records(22, &payload, &[16384]).chunks(1000) {
        t.feed(0, piece);
        assert!(t.buffered() <= 4);
    }
    let kind = NoteKind::HelloTooLarge {
        claimed: 0xff_ffff + 4,
        limit: MAX_HELLO,
    };
    assert_eq!(t.notes(), &[note(0, 5, kind)]);
    assert_eq!(t.records(0), 200_004u64.div_ceil(16384));
    assert_eq!(t.buffered(), 0);
}

#[test]
fn a_hello_at_the_limit_is_read_and_one_byte_more_is_not() {
    // A padding extension fills the hello to exactly MAX_HELLO bytes.
    let base = client_hello(&[0x1301], &[sni("big.example"), ext(21, &[])]).len();
    let big = client_hello(
        &[0x1301],
        &[sni("big.example"), ext(21, &vec![0; MAX_HELLO - base])],
    );
    assert_eq!(big.len(), MAX_HELLO);
    let mut t = TlsSniffer::default();
    let mut most = 0;
    for piece in records(22, &big, &[16384]).chunks(3000) {
        t.feed(0, piece);
        most = most.max(t.buffered());
    }
    assert_eq!(t.notes(), &[]);
    assert_eq!(t.client_hello().unwrap().sni, ["big.example"]);
    assert!(most <= MAX_HELLO, "{most}");
    assert_eq!(t.buffered(), 0);

    let over = client_hello(
        &[0x1301],
        &[sni("big.example"), ext(21, &vec![0; MAX_HELLO - base + 1])],
    );
    let mut t = TlsSniffer::default();
    t.feed(0, &records(22, &over, &[16384]));
    assert_eq!(kinds(&t), ["tls.hello-too-large"]);
}

// ---------------------------------------------------------------- properties

/// The TLS part of every real fixture.
fn real_streams() -> Vec<Vec<(usize, Vec<u8>)>> {
    vec![
        from_offsets(&fixture(CT_40081), [112, 70]),
        from_offsets(&fixture(CT_40082), [112, 70]),
        from_offsets(&fixture(BUG_2769), [379, 65]),
        fixture(WSTUNNEL),
    ]
}

/// Feeds both streams cut at `cuts` (sizes, cycled), directions interleaved by `order`.
fn feed_cut(streams: &[Vec<u8>; 2], cuts: &[usize], order: &[bool]) -> TlsSniffer {
    let mut t = TlsSniffer::default();
    let mut pos = [0usize; 2];
    let mut i = 0;
    while pos[0] < streams[0].len() || pos[1] < streams[1].len() {
        let mut d = usize::from(order.get(i % order.len().max(1)).copied().unwrap_or(false));
        if pos[d] == streams[d].len() {
            d = 1 - d;
        }
        let n = cuts
            .get(i % cuts.len().max(1))
            .copied()
            .unwrap_or(usize::MAX);
        let end = pos[d].saturating_add(n.max(1)).min(streams[d].len());
        t.feed(d, &streams[d][pos[d]..end]);
        pos[d] = end;
        i += 1;
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Real streams cut anywhere, directions interleaved anyhow: the same outcome.
    #[test]
    fn real_streams_split_anywhere(
        which in 0..4usize,
        cuts in proptest::collection::vec(1usize..700, 1..40),
        order in proptest::collection::vec(any::<bool>(), 1..20),
    ) {
        let segs = &real_streams()[which];
        let whole = sniff(segs);
        prop_assert!(whole.client_hello().is_some() && whole.server_hello().is_some());
        let cut = feed_cut(&streams(segs), &cuts, &order);
        prop_assert_eq!(outcome(&cut), outcome(&whole));
    }

    /// A ClientHello and a server flight re-cut into TLS records of any sizes (the hello
    /// spanning records) and then into segments of any sizes: the same hellos.
    #[test]
    fn hellos_split_across_records_and_segments(
        client_sizes in proptest::collection::vec(1usize..300, 1..10),
        server_sizes in proptest::collection::vec(1usize..300, 1..10),
        cuts in proptest::collection::vec(1usize..100, 1..20),
        order in proptest::collection::vec(any::<bool>(), 1..10),
    ) {
        let ch = unhex(connect_tls_facts()[1]["client_hello_hex"].as_str().unwrap());
        let c = records(22, &ch, &[usize::MAX]);
        let s = records(22, &server_flight(), &[usize::MAX]);
        let whole = feed_cut(&[c, s], &[usize::MAX], &[false, true]);
        let c = records(22, &ch, &client_sizes);
        let s = records(22, &server_flight(), &server_sizes);
        let lens = [c.len(), s.len()];
        let cut = feed_cut(&[c, s], &cuts, &order);
        prop_assert_eq!(cut.client_hello(), whole.client_hello());
        prop_assert_eq!(cut.server_hello(), whole.server_hello());
        prop_assert_eq!(cut.notes(), &[]);
        prop_assert!(cut.is_done() && cut.server_hello().unwrap().alpn.is_some());
        let n = |len: usize, sizes: &[usize]| {
            let mut left = len; let mut i = 0; let mut k = 0u64;
            while left > 0 { left -= sizes[i % sizes.len()].min(left); i += 1; k += 1; }
            k
        };
        prop_assert_eq!(cut.records(0), n(ch.len(), &client_sizes));
        prop_assert_eq!(cut.records(1), n(server_flight().len(), &server_sizes));
        prop_assert_eq!([cut.bytes(0), cut.bytes(1)], lens.map(|l| l as u64));
    }
}

#[derive(Clone, Debug)]
enum Op {
    Feed(usize, Vec<u8>),
    Gap(usize, u64),
}

/// Bytes that get past the record layer often: a handshake record header and a hello type.
fn tlsish() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>(),
        0u16..400,
        1u8..3,
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(minor, len, t, body)| {
            let mut v = vec![0x16, 3, minor % 5];
            v.extend_from_slice(&len.to_be_bytes());
            v.push(t);
            v.extend_from_slice(&[0, (body.len() >> 8) as u8, body.len() as u8]);
            v.extend_from_slice(&body);
            v
        })
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..3usize, proptest::collection::vec(any::<u8>(), 0..200)).prop_map(|(d, b)| Op::Feed(d, b)),
        4 => (0..2usize, tlsish()).prop_map(|(d, b)| Op::Feed(d, b)),
        1 => (0..3usize, 0u64..70_000).prop_map(|(d, n)| Op::Gap(d, n)),
    ];
    proptest::collection::vec(op, 0..30)
}

/// After any input: no panic, memory within the bound, and a direction that stopped looking
/// for its hello without one has said why.
fn check(t: &TlsSniffer) -> Result<(), TestCaseError> {
    prop_assert!(t.buffered() <= 2 * MAX_HELLO);
    for dir in 0..2 {
        let found = if dir == 0 {
            t.client_hello().is_some()
        } else {
            t.server_hello().is_some()
        };
        if !t.sides[dir].collecting() && !found {
            prop_assert!(t.notes().iter().any(|n| n.dir == dir), "dir {} silent", dir);
        }
    }
    for n in t.notes() {
        prop_assert!(!n.to_string().is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn never_panics_and_never_loses_a_hello_silently(ops in ops()) {
        let mut t = TlsSniffer::default();
        for op in &ops {
            match op {
                Op::Feed(d, b) => t.feed(*d, b),
                Op::Gap(d, n) => t.gap(*d, *n),
            }
            check(&t)?;
        }
    }

    /// The real ClientHello record with bytes changed and cut short.
    #[test]
    fn mutated_real_hellos(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        keep in any::<usize>(),
        pieces in 1usize..50,
    ) {
        let c = &connect_tls_facts()[1];
        let mut rec = unhex("1603010200");
        rec.extend_from_slice(&unhex(c["client_hello_hex"].as_str().unwrap()));
        for (i, b) in edits {
            let i = i % rec.len();
            rec[i] = b;
        }
        rec.truncate(keep % (rec.len() + 1));
        let mut t = TlsSniffer::default();
        for piece in rec.chunks(pieces) {
            t.feed(0, piece);
        }
        check(&t)?;
    }
}
