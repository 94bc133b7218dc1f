//! `FileSource` on hand-made pcap/pcapng files, the public corpus, and arbitrary bytes.

use std::io::Write;
use std::path::Path;

use hopscope::base::{LinkType, Timestamp};
use hopscope::capture::CaptureError;
use hopscope::capture::file::FileSource;
use proptest::prelude::*;

// ---- file builders -----------------------------------------------------------------------

fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("tempfile");
    f.write_all(bytes).expect("write");
    f.flush().expect("flush");
    f
}

fn u16b(v: u16, be: bool) -> [u8; 2] {
    if be { v.to_be_bytes() } else { v.to_le_bytes() }
}
fn u32b(v: u32, be: bool) -> [u8; 4] {
    if be { v.to_be_bytes() } else { v.to_le_bytes() }
}

/// Classic pcap global header.
fn pcap_header(magic: u32, be: bool, snaplen: u32, link: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(u32b(magic, be));
    v.extend(u16b(2, be));
    v.extend(u16b(4, be));
    v.extend(u32b(0, be));
    v.extend(u32b(0, be));
    v.extend(u32b(snaplen, be));
    v.extend(u32b(link, be));
    v
}

fn pcap_record(be: bool, sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(u32b(sec, be));
    v.extend(u32b(frac, be));
    v.extend(u32b(data.len() as u32, be));
    v.extend(u32b(orig, be));
    v.extend_from_slice(data);
    v
}

fn block(kind: u32, body: &[u8], be: bool) -> Vec<u8> {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let len = (body.len() + 12) as u32;
    let mut v = Vec::new();
    v.extend(u32b(kind, be));
    v.extend(u32b(len, be));
    v.extend(body);
    v.extend(u32b(len, be));
    v
}

fn shb(be: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(0x1A2B_3C4D, be));
    body.extend(u16b(1, be));
    body.extend(u16b(0, be));
    body.extend((-1i64).to_le_bytes());
    block(0x0A0D_0D0A, &body, be)
}

fn opt(code: u16, value: &[u8], be: bool) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(u16b(code, be));
    v.extend(u16b(value.len() as u16, be));
    v.extend_from_slice(value);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn idb(link: u16, tsresol: Option<u8>, tsoffset: Option<i64>, be: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u16b(link, be));
    body.extend(u16b(0, be));
    body.extend(u32b(65535, be));
    if let Some(r) = tsresol {
        body.extend(opt(9, &[r], be));
    }
    if let Some(o) = tsoffset {
        let b = if be { o.to_be_bytes() } else { o.to_le_bytes() };
        body.extend(opt(14, &b, be));
    }
    body.extend(opt(0, &[], be));
    block(1, &body, be)
}

fn epb(if_id: u32, ts: u64, data: &[u8], orig: u32, be: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(if_id, be));
    body.extend(u32b((ts >> 32) as u32, be));
    body.extend(u32b(ts as u32, be));
    body.extend(u32b(data.len() as u32, be));
    body.extend(u32b(orig, be));
    body.extend_from_slice(data);
    while body.len() % 4 != 0 {
        body.push(0);
    }
    // an epb_flags option, as dumpcap writes
    body.extend(opt(2, &u32b(1, be), be));
    body.extend(opt(0, &[], be));
    block(6, &body, be)
}

fn spb(data: &[u8], orig: u32, be: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(orig, be));
    body.extend_from_slice(data);
    block(3, &body, be)
}

fn obsolete_pb(if_id: u16, ts: u64, data: &[u8], be: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u16b(if_id, be));
    body.extend(u16b(0, be));
    body.extend(u32b((ts >> 32) as u32, be));
    body.extend(u32b(ts as u32, be));
    body.extend(u32b(data.len() as u32, be));
    body.extend(u32b(data.len() as u32, be));
    body.extend_from_slice(data);
    block(2, &body, be)
}

#[derive(Debug, PartialEq)]
struct Pkt {
    ts: i64,
    link: u32,
    data: Vec<u8>,
    orig_len: u32,
    interface: u32,
}

/// Reads every packet; returns them and the error that stopped reading, if any.
fn read_all(path: &Path) -> (Vec<Pkt>, Option<CaptureError>) {
    let mut src = FileSource::open(path).expect("open");
    let mut out = Vec::new();
    loop {
        match src.next_packet() {
            Ok(Some(p)) => out.push(Pkt {
                ts: p.ts.0,
                link: p.link.0,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
                interface: p.interface,
            }),
            Ok(None) => return (out, None),
            Err(e) => {
                // after an error: nothing more
                assert!(matches!(src.next_packet(), Ok(None)));
                return (out, Some(e));
            }
        }
    }
}

// ---- classic pcap ------------------------------------------------------------------------

#[test]
fn pcap_microseconds_little_endian() {
    let mut f = pcap_header(0xa1b2_c3d4, false, 65535, 1);
    f.extend(pcap_record(false, 1_700_000_000, 123_456, b"abcdef", 60));
    f.extend(pcap_record(false, 1_700_000_001, 999_999, b"xy", 2));
    let t = write_temp(&f);
    let mut src = FileSource::open(t.path()).expect("open");
    assert_eq!(src.format(), "pcap");
    assert_eq!(src.len(), Some(f.len() as u64));
    assert_eq!(src.link_types(), vec![LinkType::ETHERNET]);
    let p = src.next_packet().expect("ok").expect("packet");
    assert_eq!(p.ts, Timestamp(1_700_000_000_123_456_000));
    assert_eq!(p.data, b"abcdef");
    assert_eq!(p.orig_len, 60);
    assert_eq!(p.interface, 0);
    assert_eq!(p.link, LinkType::ETHERNET);
    assert_eq!(src.offset(), 24 + 16 + 6);
    let p = src.next_packet().expect("ok").expect("packet");
    assert_eq!(p.ts, Timestamp(1_700_000_001_999_999_000));
    assert!(src.next_packet().expect("ok").is_none());
    assert_eq!(src.offset(), f.len() as u64);
}

#[test]
fn pcap_nanoseconds_big_endian() {
    let mut f = pcap_header(0xa1b2_3c4d, true, 65535, 101);
    f.extend(pcap_record(true, 1_700_000_000, 123_456_789, b"\x45raw", 4));
    let t = write_temp(&f);
    let (pkts, err) = read_all(t.path());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        pkts,
        vec![Pkt {
            ts: 1_700_000_000_123_456_789,
            link: 101,
            data: b"\x45raw".to_vec(),
            orig_len: 4,
            interface: 0
        }]
    );
}

#[test]
fn pcap_truncated_record_reports_its_start() {
    let mut f = pcap_header(0xa1b2_c3d4, false, 65535, 1);
    f.extend(pcap_record(false, 1, 0, &[7; 40], 40));
    let second = f.len() as u64;
    f.extend(pcap_record(false, 2, 0, &[8; 40], 40));
    // cut inside the second record's data
    f.truncate(f.len() - 10);
    let t = write_temp(&f);
    let (pkts, err) = read_all(t.path());
    assert_eq!(pkts.len(), 1);
    match err {
        Some(CaptureError::Truncated { offset, .. }) => assert_eq!(offset, second),
        other => panic!("expected Truncated, got {other:?}"),
    }
    // cut inside the record header
    let mut g = pcap_header(0xa1b2_c3d4, false, 65535, 1);
    g.extend(pcap_record(false, 1, 0, &[7; 40], 40));
    let second = g.len() as u64;
    g.extend_from_slice(&[1, 2, 3, 4, 5]);
    let t = write_temp(&g);
    let (pkts, err) = read_all(t.path());
    assert_eq!(pkts.len(), 1);
    assert!(
        matches!(err, Some(CaptureError::Truncated { offset, .. }) if offset == second),
        "{err:?}"
    );
}

#[test]
fn pcap_garbage_record_length_is_corrupt() {
    let mut f = pcap_header(0xa1b2_c3d4, false, 65535, 1);
    f.extend(pcap_record(false, 1, 0, &[7; 40], 40));
    let bad = f.len() as u64;
    let mut rec = pcap_record(false, 2, 0, &[8; 40], 40);
    rec[8..12].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    f.extend(rec);
    let t = write_temp(&f);
    let (pkts, err) = read_all(t.path());
    assert_eq!(pkts.len(), 1);
    match err {
        Some(e @ CaptureError::Corrupt { .. }) => {
            let CaptureError::Corrupt { offset, .. } = &e else {
                unreachable!()
            };
            assert_eq!(*offset, bad);
            assert!(e.to_string().contains("2147418112"), "{e}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn not_a_capture_shows_first_bytes() {
    for bytes in [&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], b"", b"\x0a\x0d"] {
        let t = write_temp(bytes);
        match FileSource::open(t.path()) {
            Err(CaptureError::NotACapture { magic, .. }) => {
                if bytes.starts_with(b"GET") {
                    assert!(magic.starts_with("47 45 54 20"), "{magic}");
                }
            }
            Err(e) => panic!("expected NotACapture, got {e:?}"),
            Ok(_) => panic!("expected NotACapture, got a source"),
        }
    }
    let r = FileSource::open(Path::new("/nonexistent/hopscope.pcap"));
    assert!(matches!(r, Err(CaptureError::Open { .. })));
}

#[test]
fn pcap_header_cut_short_is_truncated() {
    let f = pcap_header(0xa1b2_c3d4, false, 65535, 1);
    let t = write_temp(&f[..20]);
    assert!(matches!(
        FileSource::open(t.path()),
        Err(CaptureError::Truncated { offset: 0, .. })
    ));
}

#[test]
fn big_record_grows_the_buffer() {
    // 200 KiB packets (within the snaplen limit) read through a buffer sized for a small file.
    let big = vec![0x5a; 200 * 1024];
    let mut f = pcap_header(0xa1b2_c3d4, false, 262_144, 1);
    for i in 0..3 {
        f.extend(pcap_record(false, i, 0, &big, big.len() as u32));
    }
    let t = write_temp(&f);
    let (pkts, err) = read_all(t.path());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pkts.len(), 3);
    assert!(pkts.iter().all(|p| p.data == big));
}

#[test]
fn block_bigger_than_the_initial_buffer() {
    // a 6 MiB custom block (more than the 4 MiB initial buffer) between two packets
    let mut f = shb(false);
    f.extend(idb(1, None, None, false));
    f.extend(epb(0, 1, b"before", 6, false));
    f.extend(block(0x0000_0BAD, &vec![0xab; 6 << 20], false));
    f.extend(epb(0, 2, b"after", 5, false));
    let t = write_temp(&f);
    let (pkts, err) = read_all(t.path());
    assert!(err.is_none(), "{err:?}");
    let data: Vec<&[u8]> = pkts.iter().map(|p| p.data.as_slice()).collect();
    assert_eq!(data, vec![&b"before"[..], &b"after"[..]]);
}

// ---- pcapng --------------------------------------------------------------------------------

#[test]
fn pcapng_two_interfaces_with_different_link_types_and_resolutions() {
    for be in [false, true] {
        let mut f = shb(be);
        f.extend(idb(1, None, None, be)); // Ethernet, µs
        f.extend(idb(276, Some(9), Some(10), be)); // SLL2, ns, +10 s
        f.extend(block(4, &[1, 0, 0, 0], be)); // NRB-like block: skipped
        f.extend(epb(0, 1_700_000_000_000_001, b"eth-frame", 100, be));
        f.extend(epb(1, 5_000_000_123, b"sll2", 4, be));
        f.extend(block(5, &[0; 16], be)); // ISB: skipped
        f.extend(block(0x0BAD, &[1, 2, 3, 4], be)); // custom: skipped
        f.extend(spb(b"simple-pkt", 10, be));
        f.extend(obsolete_pb(1, 7_000_000_000, b"old", be));
        let t = write_temp(&f);
        let mut src = FileSource::open(t.path()).expect("open");
        assert_eq!(src.format(), "pcapng");
        let (pkts, err) = read_all(t.path());
        assert!(err.is_none(), "be={be}: {err:?}");
        while src.next_packet().expect("ok").is_some() {}
        assert_eq!(
            src.link_types(),
            vec![LinkType::ETHERNET, LinkType::LINUX_SLL2]
        );
        assert_eq!(pkts.len(), 4, "be={be}");
        assert_eq!(pkts[0].ts, 1_700_000_000_000_001_000);
        assert_eq!(pkts[0].link, 1);
        assert_eq!(pkts[0].data, b"eth-frame");
        assert_eq!(pkts[0].orig_len, 100);
        assert_eq!(pkts[1].ts, 15_000_000_123);
        assert_eq!(pkts[1].link, 276);
        assert_eq!(pkts[1].interface, 1);
        // SPB: interface 0, length from the block, time of the previous packet
        assert_eq!(pkts[2].data, b"simple-pkt");
        assert_eq!(pkts[2].interface, 0);
        assert_eq!(pkts[2].link, 1);
        assert_eq!(pkts[2].ts, 15_000_000_123);
        assert_eq!(pkts[3].data, b"old");
        assert_eq!(pkts[3].interface, 1);
        assert_eq!(pkts[3].ts, 17_000_000_000);
    }
}

#[test]
fn pcapng_power_of_two_resolution() {
    let mut f = shb(false);
    f.extend(idb(101, Some(0x80 | 20), None, false)); // 2^-20 s units
    f.extend(epb(0, 3 << 20 | 1 << 19, b"x", 1, false)); // 3.5 s
    let t = write_temp(&f);
    let (pkts, err) = read_all(t.path());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pkts[0].ts, 3_500_000_000);
}

#[test]
fn pcapng_sections_reset_interfaces_and_switch_byte_order() {
    let mut f = shb(false);
    f.extend(idb(1, None, None, false));
    f.extend(epb(0, 1, b"a", 1, false));
    f.extend(shb(true));
    f.extend(idb(101, Some(9), None, true));
    f.extend(epb(0, 2, b"b", 1, true));
    let bad = f.len() as u64;
    f.extend(epb(1, 3, b"c", 1, true)); // interface 1 belongs to no section
    let t = write_temp(&f);
    let (pkts, err) = read_all(t.path());
    assert_eq!(pkts.len(), 2);
    assert_eq!((pkts[0].link, pkts[0].ts), (1, 1000));
    assert_eq!((pkts[1].link, pkts[1].ts), (101, 2));
    match err {
        Some(CaptureError::Corrupt { offset, what, .. }) => {
            assert_eq!(offset, bad);
            assert!(what.contains("interface 1"), "{what}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn pcapng_truncated_and_corrupt_blocks() {
    let mut base = shb(false);
    base.extend(idb(1, None, None, false));
    base.extend(epb(0, 1, b"first", 5, false));
    let second = base.len() as u64;
    let full = {
        let mut f = base.clone();
        f.extend(epb(0, 2, b"second packet", 13, false));
        f
    };
    // truncated at every point inside the second block
    for cut in second as usize + 1..full.len() {
        let t = write_temp(&full[..cut]);
        let (pkts, err) = read_all(t.path());
        assert_eq!(pkts.len(), 1, "cut {cut}");
        assert!(
            matches!(err, Some(CaptureError::Truncated { offset, .. }) if offset == second),
            "cut {cut}: {err:?}"
        );
    }
    // trailing length differs
    let mut f = full.clone();
    let n = f.len();
    f[n - 4] ^= 0x40;
    let t = write_temp(&f);
    let (pkts, err) = read_all(t.path());
    assert_eq!(pkts.len(), 1);
    assert!(matches!(err, Some(CaptureError::Corrupt { offset, .. }) if offset == second));
    // absurd block length
    let mut f = full.clone();
    f[second as usize + 4..second as usize + 8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let t = write_temp(&f);
    let (_, err) = read_all(t.path());
    assert!(matches!(err, Some(CaptureError::Corrupt { offset, .. }) if offset == second));
    // length not a multiple of 4
    let mut f = full.clone();
    f[second as usize + 4] = 0x31;
    let t = write_temp(&f);
    let (_, err) = read_all(t.path());
    assert!(matches!(err, Some(CaptureError::Corrupt { offset, .. }) if offset == second));
    // caplen larger than the block
    let mut f = full;
    f[second as usize + 20..second as usize + 24].copy_from_slice(&1000u32.to_le_bytes());
    let t = write_temp(&f);
    let (_, err) = read_all(t.path());
    assert!(matches!(err, Some(CaptureError::Corrupt { offset, .. }) if offset == second));
}

// ---- never panics --------------------------------------------------------------------------

fn mutate(base: &[u8], edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(i, b) in edits {
        if !v.is_empty() {
            let n = v.len();
            v[i % n] = b;
        }
    }
    v.truncate(cut % (v.len() + 1));
    v
}

fn read_to_end(bytes: &[u8]) {
    let t = write_temp(bytes);
    if let Ok(mut src) = FileSource::open(t.path()) {
        let mut n = 0u64;
        while let Ok(Some(p)) = src.next_packet() {
            assert!(p.data.len() <= 256 << 20);
            n += 1;
        }
        assert!(src.offset() <= bytes.len() as u64, "{n} packets");
        assert!(matches!(src.next_packet(), Ok(None)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_to_end(&bytes);
    }

    #[test]
    fn mutated_captures_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in any::<usize>(),
        ng in any::<bool>(),
    ) {
        let base = if ng {
            let mut f = shb(false);
            f.extend(idb(1, Some(9), Some(3), false));
            f.extend(idb(113, Some(0x83), None, false));
            f.extend(epb(0, 1, b"hello", 5, false));
            f.extend(epb(1, 2, b"world!", 6, false));
            f.extend(spb(b"spb", 3, false));
            f
        } else {
            let mut f = pcap_header(0xa1b2_c3d4, false, 65535, 1);
            f.extend(pcap_record(false, 1, 2, b"hello", 5));
            f.extend(pcap_record(false, 3, 4, b"world!", 6));
            f
        };
        read_to_end(&mutate(&base, &edits, cut));
    }
}

// ---- the public corpus -----------------------------------------------------------------------

#[test]
fn corpus_packet_counts_match_tshark() {
    let files = crate::common::corpus_files();
    let mut failures = Vec::new();
    for f in &files {
        let oracle = f.with_extension("tshark.json");
        let Ok(text) = std::fs::read_to_string(&oracle) else {
            failures.push(format!("{}: no oracle", f.display()));
            continue;
        };
        let json: serde_json::Value = serde_json::from_str(&text).expect("oracle json");
        let want = json["packets"].as_u64().expect("packets field");
        let (pkts, err) = read_all(f);
        if let Some(e) = err {
            failures.push(format!("{}: {e}", f.display()));
        }
        if pkts.len() as u64 != want {
            failures.push(format!(
                "{}: {} packets, tshark {want}",
                f.display(),
                pkts.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- speed (not a test: run by hand) -------------------------------------------------------

/// `HOPSCOPE_BENCH_FILE=/var/tmp/synth-1460.pcap cargo test --release --test it file_reader:: -- --ignored --nocapture`
#[test]
#[ignore]
fn read_speed() {
    let Ok(path) = std::env::var("HOPSCOPE_BENCH_FILE") else {
        eprintln!("set HOPSCOPE_BENCH_FILE");
        return;
    };
    for round in 0..3 {
        let t0 = std::time::Instant::now();
        let mut src = FileSource::open(Path::new(&path)).expect("open");
        let (mut n, mut bytes, mut sum) = (0u64, 0u64, 0u64);
        while let Some(p) = src.next_packet().expect("read") {
            n += 1;
            bytes += p.data.len() as u64;
            // touch every byte, as pcap_floor does
            let mut chunks = p.data.chunks_exact(8);
            for c in &mut chunks {
                sum = sum.wrapping_add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
            }
            for &b in chunks.remainder() {
                sum = sum.wrapping_add(u64::from(b));
            }
        }
        let s = t0.elapsed().as_secs_f64();
        println!(
            "round {round}: {n} packets, {bytes} bytes in {s:.3} s: {:.2} M packets/s, {:.0} MB/s (check {sum:x})",
            n as f64 / s / 1e6,
            bytes as f64 / s / 1e6
        );
    }
}
