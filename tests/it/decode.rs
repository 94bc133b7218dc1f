//! Decoder: every link type, VLAN stacks, IPv6 extension headers, padding, snaplen cuts,
//! fragments, arbitrary bytes, and the public corpus.

use std::net::IpAddr;
use std::path::Path;

use etherparse::PacketBuilder;
use hopscope::base::{LinkType, PacketView, Timestamp};
use hopscope::capture::file::FileSource;
use hopscope::decode::{Decoded, Decoder};
use hopscope::model::DecodeStats;
use proptest::prelude::*;

// ---- helpers ---------------------------------------------------------------------------------

/// An owned summary of one outcome, so the decoder can be used again.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Tcp {
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        seq: u32,
        flags: u8,
        payload: Vec<u8>,
        missing: u32,
    },
    NotTcp(&'static str),
    Held,
    Undecodable(&'static str, usize, String),
}

fn decode_at(d: &mut Decoder, link: u32, data: &[u8], orig_len: u32, ts: i64) -> Out {
    let pkt = PacketView {
        ts: Timestamp(ts),
        link: LinkType(link),
        data,
        orig_len,
        interface: 0,
        file: 0,
    };
    match d.decode(&pkt) {
        Decoded::Tcp(s) => Out::Tcp {
            src: s.src,
            dst: s.dst,
            sport: s.src_port,
            dport: s.dst_port,
            seq: s.seq,
            flags: s.flags.0,
            payload: s.payload.to_vec(),
            missing: s.missing_tail,
        },
        Decoded::NotTcp { what } => Out::NotTcp(what),
        Decoded::FragmentHeld => Out::Held,
        Decoded::Undecodable(e) => Out::Undecodable(e.layer, e.offset, e.what),
    }
}

fn decode(link: u32, data: &[u8]) -> (Out, DecodeStats) {
    let mut d = Decoder::new();
    let out = decode_at(&mut d, link, data, data.len() as u32, 0);
    (out, d.stats.clone())
}

const PAYLOAD: &[u8] = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n";

/// IPv4 + TCP (ports 40000 → 80, seq 1000, PSH+ACK).
fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 80, 1000, 65535)
        .ack(1)
        .psh();
    let mut v = Vec::new();
    b.write(&mut v, payload).expect("build");
    v
}

fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv6(
        [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        64,
    )
    .tcp(40000, 80, 1000, 65535)
    .ack(1)
    .psh();
    let mut v = Vec::new();
    b.write(&mut v, payload).expect("build");
    v
}

fn ethernet(ether_type: u16, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    v.extend(ether_type.to_be_bytes());
    v.extend_from_slice(rest);
    v
}

fn vlan_tag(tpid: u16, vid: u16, inner_type: u16) -> Vec<u8> {
    let mut v = tpid.to_be_bytes().to_vec();
    v.extend(vid.to_be_bytes());
    v.extend(inner_type.to_be_bytes());
    v
}

fn sll(proto: u16, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    v.extend(proto.to_be_bytes());
    v.extend_from_slice(rest);
    v
}

fn sll2(proto: u16, rest: &[u8]) -> Vec<u8> {
    let mut v = proto.to_be_bytes().to_vec();
    v.extend([0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    v.extend_from_slice(rest);
    v
}

fn null(family: [u8; 4], rest: &[u8]) -> Vec<u8> {
    let mut v = family.to_vec();
    v.extend_from_slice(rest);
    v
}

/// NFLOG: header, a PACKET_HDR TLV, then the payload TLV, in the given TLV byte order.
fn nflog(family: u8, be: bool, rest: &[u8]) -> Vec<u8> {
    let u16b = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut v = vec![family, 0, 0, 42];
    v.extend(u16b(8));
    v.extend(u16b(1));
    v.extend([8, 0, 3, 0]);
    v.extend(u16b(4 + rest.len() as u16));
    v.extend(u16b(9));
    v.extend_from_slice(rest);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn tcp_payload(out: &Out) -> Option<&[u8]> {
    match out {
        Out::Tcp { payload, .. } => Some(payload),
        _ => None,
    }
}

// ---- link types --------------------------------------------------------------------------------

#[test]
fn every_link_type_reaches_tcp() {
    let v4 = ipv4_tcp(PAYLOAD);
    let v6 = ipv6_tcp(PAYLOAD);
    let cases: Vec<(&str, u32, Vec<u8>, bool)> = vec![
        ("ethernet v4", 1, ethernet(0x0800, &v4), false),
        ("ethernet v6", 1, ethernet(0x86dd, &v6), true),
        (
            "802.1Q",
            1,
            ethernet(
                0x8100,
                &[vlan_tag(0, 5, 0x0800)[2..].to_vec(), v4.clone()].concat(),
            ),
            false,
        ),
        (
            "QinQ 802.1ad + 802.1Q",
            1,
            ethernet(
                0x88a8,
                &[
                    vlan_tag(0, 100, 0x8100)[2..].to_vec(),
                    vlan_tag(0, 5, 0x86dd)[2..].to_vec(),
                    v6.clone(),
                ]
                .concat(),
            ),
            true,
        ),
        (
            "QinQ 0x9100",
            1,
            ethernet(
                0x9100,
                &[
                    vlan_tag(0, 100, 0x8100)[2..].to_vec(),
                    vlan_tag(0, 5, 0x0800)[2..].to_vec(),
                    v4.clone(),
                ]
                .concat(),
            ),
            false,
        ),
        ("SLL v4", 113, sll(0x0800, &v4), false),
        ("SLL v6", 113, sll(0x86dd, &v6), true),
        ("SLL2 v4", 276, sll2(0x0800, &v4), false),
        ("SLL2 v6", 276, sll2(0x86dd, &v6), true),
        ("NULL LE v4", 0, null(2u32.to_le_bytes(), &v4), false),
        ("NULL BE v4", 0, null(2u32.to_be_bytes(), &v4), false),
        ("NULL LE v6 (24)", 0, null(24u32.to_le_bytes(), &v6), true),
        ("NULL LE v6 (28)", 0, null(28u32.to_le_bytes(), &v6), true),
        ("NULL BE v6 (30)", 0, null(30u32.to_be_bytes(), &v6), true),
        ("LOOP v4", 108, null(2u32.to_be_bytes(), &v4), false),
        ("LOOP v6", 108, null(24u32.to_be_bytes(), &v6), true),
        ("RAW 101 v4", 101, v4.clone(), false),
        ("RAW 101 v6", 101, v6.clone(), true),
        ("RAW 12", 12, v4.clone(), false),
        ("RAW 14", 14, v6.clone(), true),
        ("IPV4 228", 228, v4.clone(), false),
        ("IPV6 229", 229, v6.clone(), true),
        ("NFLOG LE v4", 239, nflog(2, false, &v4), false),
        ("NFLOG BE v6", 239, nflog(10, true, &v6), true),
    ];
    for (name, link, bytes, is_v6) in cases {
        let (out, stats) = decode(link, &bytes);
        match &out {
            Out::Tcp {
                src,
                sport,
                dport,
                seq,
                flags,
                payload,
                missing,
                ..
            } => {
                assert_eq!(src.is_ipv6(), is_v6, "{name}");
                assert_eq!((*sport, *dport, *seq), (40000, 80, 1000), "{name}");
                assert_eq!(*flags, 0x18, "{name}: PSH+ACK");
                assert_eq!(payload.as_slice(), PAYLOAD, "{name}");
                assert_eq!(*missing, 0, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(stats.tcp, 1, "{name}");
        assert!(Decoder::supports(LinkType(link)));
    }
}

#[test]
fn ipv6_extension_headers_are_walked() {
    let v6 = ipv6_tcp(PAYLOAD);
    let tcp = &v6[40..];
    let mut ip = v6[..40].to_vec();
    ip[6] = 0; // next header: hop-by-hop
    let plen = (tcp.len() + 16) as u16;
    ip[4..6].copy_from_slice(&plen.to_be_bytes());
    ip.extend([60, 0, 1, 4, 0, 0, 0, 0]); // hop-by-hop → destination options (PadN)
    ip.extend([6, 0, 1, 4, 0, 0, 0, 0]); // destination options → TCP
    ip.extend_from_slice(tcp);
    let (out, _) = decode(1, &ethernet(0x86dd, &ip));
    assert_eq!(tcp_payload(&out), Some(PAYLOAD), "{out:?}");
    // the extension header cut short
    let (out, stats) = decode(1, &ethernet(0x86dd, &ip[..44]));
    assert!(
        matches!(out, Out::Undecodable("ipv6-ext", 54, _)),
        "{out:?}"
    );
    assert_eq!(stats.undecodable, 1);
}

#[test]
fn ethernet_padding_is_not_payload() {
    let v4 = ipv4_tcp(b"hi");
    let mut frame = ethernet(0x0800, &v4);
    frame.resize(60, 0xee); // minimum frame size, padded
    let (out, _) = decode(1, &frame);
    match out {
        Out::Tcp {
            payload, missing, ..
        } => {
            assert_eq!(payload, b"hi");
            assert_eq!(missing, 0);
        }
        other => panic!("{other:?}"),
    }
    // an empty ACK padded to 60 bytes: empty payload
    let frame = {
        let mut f = ethernet(0x0800, &ipv4_tcp(b""));
        f.resize(60, 0);
        f
    };
    assert_eq!(tcp_payload(&decode(1, &frame).0), Some(&b""[..]));
    // same for IPv6
    let mut frame = ethernet(0x86dd, &ipv6_tcp(b"x"));
    frame.extend([0; 8]);
    assert_eq!(tcp_payload(&decode(1, &frame).0), Some(&b"x"[..]));
}

#[test]
fn snaplen_cut_in_payload_reports_missing_tail() {
    let big = vec![b'a'; 1000];
    for (name, frame) in [
        ("v4", ethernet(0x0800, &ipv4_tcp(&big))),
        ("v6", ethernet(0x86dd, &ipv6_tcp(&big))),
    ] {
        let hdrs = frame.len() - 1000;
        let cut = &frame[..hdrs + 100];
        let mut d = Decoder::new();
        let out = decode_at(&mut d, 1, cut, frame.len() as u32, 0);
        match out {
            Out::Tcp {
                payload, missing, ..
            } => {
                assert_eq!(payload.len(), 100, "{name}");
                assert_eq!(missing, 900, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(d.stats.tcp_payload_truncated, 1);
    }
}

#[test]
fn cut_headers_are_undecodable_with_layer_and_offset() {
    let frame = ethernet(0x0800, &ipv4_tcp(PAYLOAD));
    // in the TCP header (starts at 34)
    let (out, stats) = decode(1, &frame[..40]);
    match &out {
        Out::Undecodable("tcp", 34, what) => assert!(what.contains("20"), "{what}"),
        other => panic!("{other:?}"),
    }
    assert_eq!((stats.undecodable, stats.tcp), (1, 0));
    // in the IPv4 header (starts at 14)
    let (out, _) = decode(1, &frame[..20]);
    assert!(matches!(out, Out::Undecodable("ipv4", 14, _)), "{out:?}");
    // in the Ethernet header
    let (out, _) = decode(1, &frame[..10]);
    assert!(matches!(out, Out::Undecodable("link", 0, _)), "{out:?}");
    // in a VLAN tag
    let (out, _) = decode(1, &ethernet(0x8100, &[0, 5]));
    assert!(matches!(out, Out::Undecodable("vlan", 14, _)), "{out:?}");
    // SLL / SLL2 / NULL headers too short
    for (link, n) in [(113, 10), (276, 12), (0, 3), (108, 2)] {
        let (out, _) = decode(link, &vec![0; n]);
        assert!(
            matches!(out, Out::Undecodable("link", 0, _)),
            "{link}: {out:?}"
        );
    }
    // raw IPv6 cut in the fixed header
    let (out, _) = decode(101, &ipv6_tcp(b"")[..30]);
    assert!(matches!(out, Out::Undecodable("ipv6", 0, _)), "{out:?}");
    // TCP data offset below 5
    let mut bad = ipv4_tcp(b"");
    bad[20 + 12] = 0x20;
    let (out, _) = decode(101, &bad);
    assert!(matches!(out, Out::Undecodable("tcp", 20, _)), "{out:?}");
}

#[test]
fn non_tcp_outcomes_are_counted() {
    let mut udp = Vec::new();
    PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9)
        .udp(53, 53)
        .write(&mut udp, b"dns")
        .expect("udp");
    let mut icmp = Vec::new();
    PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9)
        .icmpv4_echo_request(1, 1)
        .write(&mut icmp, b"ping")
        .expect("icmp");
    let mut gre = ipv4_tcp(b"");
    gre[9] = 47;
    let arp = ethernet(
        0x0806,
        &[
            0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
        ],
    );
    let mut d = Decoder::new();
    assert_eq!(decode_at(&mut d, 101, &udp, 0, 0), Out::NotTcp("udp"));
    assert_eq!(decode_at(&mut d, 101, &icmp, 0, 0), Out::NotTcp("icmp"));
    assert_eq!(decode_at(&mut d, 101, &gre, 0, 0), Out::NotTcp("other-ip"));
    assert_eq!(decode_at(&mut d, 1, &arp, 0, 0), Out::NotTcp("arp"));
    assert_eq!(
        decode_at(&mut d, 1, &ethernet(0x88cc, &[0; 40]), 0, 0),
        Out::NotTcp("non-ip")
    );
    assert_eq!(
        decode_at(&mut d, 1, &ethernet(0x0030, &[0; 40]), 0, 0),
        Out::NotTcp("non-ip")
    );
    assert_eq!(
        decode_at(&mut d, 113, &sll(0x0004, &[0; 20]), 0, 0),
        Out::NotTcp("non-ip")
    );
    assert_eq!(
        decode_at(&mut d, 0, &null([7, 0, 0, 0], &[0; 20]), 0, 0),
        Out::NotTcp("non-ip")
    );
    let out = decode_at(&mut d, 147, &[0; 40], 0, 0);
    assert!(
        matches!(out, Out::Undecodable("link", 0, ref w) if w.contains("147")),
        "{out:?}"
    );
    assert!(!Decoder::supports(LinkType(147)));
    let s = &d.stats;
    assert_eq!(
        (s.udp, s.icmp, s.other_ip, s.non_ip, s.unsupported_link_type),
        (1, 1, 1, 5, 1)
    );
    assert_eq!((s.tcp, s.undecodable), (0, 0));
}

// ---- fragments ---------------------------------------------------------------------------------

/// IPv4 fragments of `ip` (a complete IPv4 datagram with a 20-byte header), `size` bytes each.
fn ipv4_fragments(ip: &[u8], size: usize, id: u16) -> Vec<Vec<u8>> {
    let (hdr, body) = ip.split_at(20);
    let n = body.len().div_ceil(size);
    (0..n)
        .map(|i| {
            let piece = &body[i * size..((i + 1) * size).min(body.len())];
            let mut h = hdr.to_vec();
            h[2..4].copy_from_slice(&((20 + piece.len()) as u16).to_be_bytes());
            h[4..6].copy_from_slice(&id.to_be_bytes());
            let mf = if i + 1 < n { 0x2000 } else { 0 };
            h[6..8].copy_from_slice(&((mf | (i * size / 8)) as u16).to_be_bytes());
            h.extend_from_slice(piece);
            h
        })
        .collect()
}

/// IPv6 fragments of `ip` (40-byte header, no extension headers).
fn ipv6_fragments(ip: &[u8], size: usize, id: u32) -> Vec<Vec<u8>> {
    let (hdr, body) = ip.split_at(40);
    let next = hdr[6];
    let n = body.len().div_ceil(size);
    (0..n)
        .map(|i| {
            let piece = &body[i * size..((i + 1) * size).min(body.len())];
            let mut h = hdr.to_vec();
            h[4..6].copy_from_slice(&((8 + piece.len()) as u16).to_be_bytes());
            h[6] = 44;
            let m = u16::from(i + 1 < n);
            h.extend([next, 0]);
            h.extend((((i * size / 8) as u16) << 3 | m).to_be_bytes());
            h.extend(id.to_be_bytes());
            h.extend_from_slice(piece);
            h
        })
        .collect()
}

#[test]
fn ipv4_fragments_in_and_out_of_order() {
    let body: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let ip = ipv4_tcp(&body);
    let frags = ipv4_fragments(&ip, 1480, 7);
    assert_eq!(frags.len(), 3);
    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let mut d = Decoder::new();
        let mut outs = Vec::new();
        for (k, &i) in order.iter().enumerate() {
            let frame = ethernet(0x0800, &frags[i]);
            outs.push(decode_at(&mut d, 1, &frame, frame.len() as u32, k as i64));
        }
        assert_eq!(outs[0], Out::Held);
        assert_eq!(outs[1], Out::Held);
        assert_eq!(tcp_payload(&outs[2]), Some(body.as_slice()), "{order:?}");
        let s = &d.stats;
        assert_eq!(
            (s.ipv4_fragments, s.fragments_reassembled, s.tcp),
            (3, 1, 1)
        );
        assert_eq!(d.defrag_usage(), (0, 0));
    }
}

#[test]
fn ipv6_fragments_reassemble() {
    let body = vec![b'z'; 2500];
    let ip = ipv6_tcp(&body);
    let frags = ipv6_fragments(&ip, 1232, 0xdead);
    let mut d = Decoder::new();
    let mut last = Out::Held;
    for f in frags.iter().rev() {
        last = decode_at(&mut d, 101, f, f.len() as u32, 0);
    }
    assert_eq!(tcp_payload(&last), Some(body.as_slice()));
    assert_eq!(d.stats.ipv6_fragments, frags.len() as u64);
    assert_eq!(d.stats.fragments_reassembled, 1);
}

#[test]
fn overlapping_fragments_discard_the_datagram() {
    let body = vec![b'q'; 64];
    let ip = ipv4_tcp(&body);
    let mut frags = ipv4_fragments(&ip, 32, 9);
    // a second copy of the first fragment, longer: overlaps with different bytes
    let mut evil = ipv4_fragments(&ip, 48, 9).remove(0);
    evil[40] ^= 0xff;
    frags.insert(1, evil);
    let mut d = Decoder::new();
    let outs: Vec<Out> = frags
        .iter()
        .map(|f| decode_at(&mut d, 101, f, f.len() as u32, 0))
        .collect();
    assert!(outs.iter().all(|o| tcp_payload(o).is_none()), "{outs:?}");
    assert!(matches!(outs[1], Out::Undecodable("ipv4", 0, ref w) if w.contains("overlap")));
    assert_eq!(d.stats.fragment_errors, 1);
    assert_eq!(d.stats.tcp, 0);
    // an exact duplicate is harmless
    let frags = ipv4_fragments(&ip, 32, 10);
    let mut d = Decoder::new();
    let seq = [&frags[0], &frags[0], &frags[1], &frags[2]];
    let outs: Vec<Out> = seq
        .iter()
        .map(|f| decode_at(&mut d, 101, f, f.len() as u32, 0))
        .collect();
    assert_eq!(tcp_payload(&outs[3]), Some(body.as_slice()), "{outs:?}");
}

#[test]
fn fragments_expire_by_packet_time() {
    let ip = ipv4_tcp(&[1; 64]);
    let frags = ipv4_fragments(&ip, 32, 11);
    let mut d = Decoder::new();
    assert_eq!(decode_at(&mut d, 101, &frags[0], 0, 0), Out::Held);
    // 31 s later, an unrelated packet sweeps the table
    let other = ipv4_tcp(b"");
    decode_at(&mut d, 101, &other, 0, 31_000_000_000);
    assert_eq!(d.stats.fragments_expired, 1);
    assert_eq!(d.defrag_usage(), (0, 0));
    // the rest of the datagram no longer completes
    for f in &frags[1..] {
        assert_eq!(decode_at(&mut d, 101, f, 0, 31_000_000_001), Out::Held);
    }
}

#[test]
fn fragment_cut_by_snaplen_is_an_error() {
    let ip = ipv4_tcp(&[1; 64]);
    let frags = ipv4_fragments(&ip, 32, 12);
    let mut d = Decoder::new();
    let out = decode_at(&mut d, 101, &frags[0][..30], 0, 0);
    assert!(matches!(out, Out::Undecodable("ipv4", 0, _)), "{out:?}");
    assert_eq!(d.stats.fragment_errors, 1);
}

// ---- never panics ------------------------------------------------------------------------------

const LINKS: [u32; 13] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 239, 147, 9999];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(link in proptest::sample::select(&LINKS[..]), bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut d = Decoder::new();
        let _ = decode_at(&mut d, link, &bytes, bytes.len() as u32, 0);
    }

    #[test]
    fn mutated_packets_never_panic(
        link in proptest::sample::select(&LINKS[..]),
        v6 in any::<bool>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in any::<usize>(),
    ) {
        let ip = if v6 { ipv6_tcp(PAYLOAD) } else { ipv4_tcp(PAYLOAD) };
        let mut bytes = match link {
            1 => ethernet(if v6 { 0x86dd } else { 0x0800 }, &ip),
            113 => sll(0x0800, &ip),
            276 => sll2(0x86dd, &ip),
            0 | 108 => null([0, 0, 0, 2], &ip),
            _ => ip,
        };
        for (i, b) in edits {
            let n = bytes.len();
            bytes[i % n] = b;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let mut d = Decoder::new();
        // twice: the second call sees the defragmenter state the first left
        for ts in [0, 40_000_000_000] {
            let _ = decode_at(&mut d, link, &bytes, 1500, ts);
        }
    }
}

// ---- corpus ------------------------------------------------------------------------------------

/// Every packet of every corpus capture decodes past its link layer (including
/// `zeek/nflog-http.pcap`, LINKTYPE_NFLOG), and every capture has TCP.
#[test]
fn corpus_decodes_without_undecodable_packets() {
    let mut failures = Vec::new();
    let mut files = 0;
    for p in crate::common::corpus_files() {
        let name = p
            .strip_prefix(crate::common::corpus_dir())
            .unwrap_or(&p)
            .display()
            .to_string();
        {
            files += 1;
            let mut src = FileSource::open(&p).expect("open");
            let mut d = Decoder::new();
            let mut first_bad = None;
            let mut n = 0u64;
            while let Some(pkt) = src.next_packet().expect("read") {
                n += 1;
                if let Decoded::Undecodable(e) = d.decode(&pkt)
                    && first_bad.is_none()
                    && Decoder::supports(pkt.link)
                {
                    first_bad = Some(format!("packet {n}: {e:?}"));
                }
            }
            let s = &d.stats;
            if s.undecodable != 0 || s.unsupported_link_type != 0 {
                failures.push(format!("{name}: {s:?} first: {first_bad:?}"));
            }
            if s.tcp == 0 {
                failures.push(format!("{name}: no TCP at all"));
            }
        }
    }
    eprintln!("{files} corpus captures decoded");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- speed (not a test: run by hand) -----------------------------------------------------------

/// `HOPSCOPE_BENCH_FILE=/var/tmp/synth-1460.pcap cargo test --release --test it decode:: -- --ignored --nocapture`
#[test]
#[ignore]
fn decode_speed() {
    let Ok(path) = std::env::var("HOPSCOPE_BENCH_FILE") else {
        eprintln!("set HOPSCOPE_BENCH_FILE");
        return;
    };
    for round in 0..3 {
        let t0 = std::time::Instant::now();
        let mut src = FileSource::open(Path::new(&path)).expect("open");
        let mut d = Decoder::new();
        let (mut n, mut payload) = (0u64, 0u64);
        while let Some(pkt) = src.next_packet().expect("read") {
            n += 1;
            if let Decoded::Tcp(seg) = d.decode(&pkt) {
                payload += seg.payload.len() as u64;
            }
        }
        let s = t0.elapsed().as_secs_f64();
        println!(
            "round {round}: read+decode {n} packets in {s:.3} s: {:.2} M packets/s ({payload} TCP payload bytes; tcp {} undecodable {})",
            n as f64 / s / 1e6,
            d.stats.tcp,
            d.stats.undecodable
        );
    }
}
