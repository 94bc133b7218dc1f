//! Several inputs as one capture (issue 16): files split from one sample and merged back give
//! the report of the sample; rotated sets, directories, gzip, zstd, standard input, clock offsets,
//! an unreadable file among good ones, and hundreds of files.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use serde_json::Value;

use hopscope::capture::file::FileSource;

fn hopscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hopscope"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// One packet of a capture, as written back.
#[derive(Clone)]
struct Pkt {
    ns: i64,
    link: u32,
    data: Vec<u8>,
    orig_len: u32,
}

fn packets(path: &Path) -> Vec<Pkt> {
    let mut src = FileSource::open(path).expect("open sample");
    let mut v = Vec::new();
    while let Ok(Some(p)) = src.next_packet() {
        v.push(Pkt {
            ns: p.ts.0,
            link: p.link.0,
            data: p.data.to_vec(),
            orig_len: p.orig_len,
        });
    }
    v
}

/// A classic pcap with nanosecond timestamps (so times are kept exactly).
fn pcap_bytes(pkts: &[Pkt], link: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&262_144u32.to_le_bytes());
    b.extend_from_slice(&link.to_le_bytes());
    for p in pkts {
        let secs = p.ns.div_euclid(1_000_000_000);
        let frac = p.ns.rem_euclid(1_000_000_000);
        b.extend_from_slice(&(secs as u32).to_le_bytes());
        b.extend_from_slice(&(frac as u32).to_le_bytes());
        b.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
        b.extend_from_slice(&p.orig_len.to_le_bytes());
        b.extend_from_slice(&p.data);
    }
    b
}

fn write_pcap(path: &Path, pkts: &[Pkt], link: u32) {
    std::fs::write(path, pcap_bytes(pkts, link)).expect("write pcap");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// `hopscope report ARGS --format json`: exit status, stderr, report.
fn report(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, Value) {
    let out = hopscope()
        .args(["report", "--format", "json", "--no-progress"])
        .args(args)
        .output()
        .expect("run");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        v,
    )
}

fn report_paths(paths: &[PathBuf]) -> (Option<i32>, String, Value) {
    let a: Vec<&std::ffi::OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
    report(&a)
}

/// The report less what tells the inputs apart: `capture`, connections' `files`, findings'
/// `file` and `file_packet`.
fn analysis(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("capture");
    }
    for c in v["connections"].as_array_mut().into_iter().flatten() {
        if let Some(o) = c.as_object_mut() {
            o.remove("files");
        }
    }
    for f in v["findings"].as_array_mut().into_iter().flatten() {
        if let Some(o) = f.as_object_mut() {
            o.remove("file");
            o.remove("file_packet");
        }
    }
    // Two inputs that are no rotated set are two captures with clocks of their own: a hop
    // across them says it was paired without a clock (the one file needed no such note).
    for h in v["proxy_hops"].as_array_mut().into_iter().flatten() {
        if let Some(e) = h["evidence"].as_array_mut() {
            e.retain(|x| {
                !x.as_str()
                    .is_some_and(|x| x.starts_with("the legs are on two captures"))
            });
        }
    }
    v
}

/// An unordered TCP/UDP 4-tuple of an Ethernet IPv4 packet (all packets else share one key).
fn conn_key(p: &Pkt) -> Vec<u8> {
    let d = &p.data;
    if p.link != 1 || d.len() < 14 + 20 + 4 || d[12..14] != [0x08, 0x00] {
        return Vec::new();
    }
    let ihl = usize::from(d[14] & 0x0f) * 4;
    let (src, dst) = (&d[26..30], &d[30..34]);
    let Some(ports) = d.get(14 + ihl..14 + ihl + 4) else {
        return Vec::new();
    };
    let a = [src, &ports[0..2]].concat();
    let b = [dst, &ports[2..4]].concat();
    if a < b {
        [a, b].concat()
    } else {
        [b, a].concat()
    }
}

#[test]
fn two_legs_split_by_connection_give_the_report_of_one_file() {
    let orig = sample("websocket-nginx-broken.pcap");
    let pkts = packets(&orig);
    let mut order: Vec<Vec<u8>> = Vec::new();
    let mut files: [Vec<Pkt>; 2] = [Vec::new(), Vec::new()];
    // Where each original packet went: (file, number in it).
    let mut place = Vec::new();
    for p in &pkts {
        let k = conn_key(p);
        let i = match order.iter().position(|x| *x == k) {
            Some(i) => i,
            None => {
                order.push(k);
                order.len() - 1
            }
        } % 2;
        files[i].push(p.clone());
        place.push((i as u64, files[i].len() as u64));
    }
    assert!(order.len() >= 2, "the sample has both legs");
    assert!(!files[0].is_empty() && !files[1].is_empty());
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (
        dir.path().join("client-leg.pcap"),
        dir.path().join("server-leg.pcap"),
    );
    write_pcap(&a, &files[0], 1);
    write_pcap(&b, &files[1], 1);

    let (code1, _, one) = report_paths(&[orig]);
    let (code2, err, two) = report_paths(&[a.clone(), b.clone()]);
    assert_eq!((code1, code2), (Some(0), Some(0)), "{err}");
    assert_eq!(analysis(&one), analysis(&two));
    assert!(!two["proxy_hops"].as_array().expect("hops").is_empty());

    let f = two["capture"]["files"].as_array().expect("capture.files");
    assert_eq!(f.len(), 2);
    assert_eq!(f[0]["path"], a.display().to_string());
    assert_eq!(f[0]["packets"], files[0].len());
    assert_eq!(f[1]["packets"], files[1].len());
    assert_eq!(f[1]["link_types"], serde_json::json!(["EN10MB"]));
    assert_eq!(two["capture"]["packets"], pkts.len());
    // Each connection was seen in its own file.
    for c in two["connections"].as_array().expect("connections") {
        let first = c["first_packet"].as_u64().expect("first_packet") as usize;
        let (file, _) = place[first - 1];
        assert_eq!(c["files"], serde_json::json!([file]), "{c}");
    }
    // Findings name the file and the packet inside it.
    let mut named = 0;
    for x in two["findings"].as_array().expect("findings") {
        if let Some(n) = x["packet"].as_u64() {
            let (file, k) = place[n as usize - 1];
            assert_eq!(
                (x["file"].as_u64(), x["file_packet"].as_u64()),
                (Some(file), Some(k))
            );
            named += 1;
        }
    }
    assert!(named > 0, "the sample has findings on packets");
    // One file: no file fields on records.
    assert!(one["connections"][0].get("files").is_none());
}

/// `dump.pcap0` ... `dump.pcap{n-1}`, the sample cut in `n` pieces of consecutive packets
/// (`n` at most the number of packets).
fn rotated(dir: &Path, pkts: &[Pkt], n: usize) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for i in 0..n {
        let chunk = &pkts[i * pkts.len() / n..(i + 1) * pkts.len() / n];
        let p = dir.join(format!("dump.pcap{i}"));
        write_pcap(&p, chunk, chunk[0].link);
        paths.push(p);
    }
    paths
}

#[test]
fn a_rotated_set_and_its_directory_read_as_one_capture() {
    let orig = sample("http-proxy-chain.pcap");
    let pkts = packets(&orig);
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = rotated(dir.path(), &pkts, 12);
    let (_, _, one) = report_paths(&[orig]);
    // Given as a shell glob sorts them: dump.pcap0, dump.pcap1, dump.pcap10, dump.pcap11, ...
    let mut lexical = paths.clone();
    lexical.sort();
    let (code, err, set) = report_paths(&lexical);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(analysis(&one), analysis(&set));
    let names: Vec<String> = set["capture"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().unwrap_or_default().to_string())
        .collect();
    let want: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(names, want, "numeric order: dump.pcap10 after dump.pcap9");
    // The directory: the same files, the same order.
    std::fs::write(dir.path().join("notes.txt"), "not a capture").expect("write");
    let (code, err, d) = report_paths(&[dir.path().to_path_buf()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(analysis(&one), analysis(&d));
    assert_eq!(d["capture"]["files"].as_array().map(Vec::len), Some(12));
}

#[test]
fn a_gzip_capture_is_read_as_it_is() {
    let orig = sample("websocket-nginx-broken.pcap");
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("copy.pcap.gz");
    let bytes = std::fs::read(&orig).expect("read");
    std::fs::write(&gz, gzip(&bytes)).expect("write");
    // Told by its magic bytes, not its name.
    let hidden = dir.path().join("copy.pcap");
    std::fs::copy(&gz, &hidden).expect("copy");
    let (_, _, one) = report_paths(&[orig]);
    for p in [gz, hidden] {
        let (code, err, v) = report_paths(std::slice::from_ref(&p));
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(analysis(&one), analysis(&v), "{}", p.display());
        assert_eq!(v["capture"]["files"][0]["compression"], "gzip");
        assert_eq!(v["capture"]["files"][0]["format"], "pcap");
    }
    // A corrupt gzip stream is a read error of that file, after what could be read.
    let cut = dir.path().join("cut.pcap.gz");
    let z = gzip(&bytes);
    std::fs::write(&cut, &z[..z.len() / 2]).expect("write");
    let (code, _, v) = report_paths(&[cut]);
    assert_eq!(code, Some(2));
    assert!(v["capture"]["error"].is_string());
}

/// The checked-in zstd files (`samples/zstd/`, made by `samples/record.sh` with the zstd CLI)
/// give the reports of the files they were made from, told by their magic bytes.
#[test]
fn a_zstd_capture_is_read_as_it_is() {
    let plain = sample("split-nginx-ws.back.pcap");
    let zst = sample("zstd/split-nginx-ws.back.pcap.zst");
    let dir = tempfile::tempdir().expect("tempdir");
    let hidden = dir.path().join("back.pcap");
    std::fs::copy(&zst, &hidden).expect("copy");
    let (_, _, one) = report_paths(std::slice::from_ref(&plain));
    assert_eq!(one["capture"]["packets"], 59);
    assert_eq!(one["transactions"].as_array().map(Vec::len), Some(6));
    for p in [zst, hidden] {
        let (code, err, v) = report_paths(std::slice::from_ref(&p));
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(analysis(&one), analysis(&v), "{}", p.display());
        let f = &v["capture"]["files"][0];
        assert_eq!(f["compression"], "zstd");
        assert_eq!(f["format"], "pcap");
        assert_eq!(f["packets"], 59);
        assert!(f["error"].is_null(), "{f}");
    }
    // The parts of the rotated set, each against the part it was made from.
    for i in 0..4 {
        let (_, _, a) = report_paths(&[sample(&format!("rotated/split-nginx-ws.front.pcap{i}"))]);
        let (code, err, b) =
            report_paths(&[sample(&format!("zstd/split-nginx-ws.front.pcap{i}.zst"))]);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(analysis(&a), analysis(&b), "part {i}");
        assert_eq!(a["capture"]["packets"], b["capture"]["packets"], "part {i}");
        assert_eq!(b["capture"]["files"][0]["compression"], "zstd");
    }
}

/// `samples/zstd/` as a directory, and its files given one by one in shell-glob order: the
/// rotated set (four parts zstd'd, the last plain, as `tcpdump -z zstd` leaves it) and the
/// zstd'd back file read as the plain front and back files are.
#[test]
fn zstd_files_in_a_rotated_set_and_a_directory() {
    let (_, _, plain) = report_paths(&[
        sample("split-nginx-ws.front.pcap"),
        sample("split-nginx-ws.back.pcap"),
    ]);
    assert_eq!(plain["capture"]["packets"], 110);
    let mut given: Vec<PathBuf> = std::fs::read_dir(sample("zstd"))
        .expect("samples/zstd")
        .flatten()
        .map(|e| e.path())
        .collect();
    given.sort();
    assert_eq!(given.len(), 6);
    for args in [vec![sample("zstd")], given] {
        let (code, err, v) = report_paths(&args);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(analysis(&plain), analysis(&v), "{args:?}");
        let files: Vec<(String, Value)> = v["capture"]["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| {
                let p = f["path"].as_str().unwrap_or_default();
                let name = Path::new(p).file_name().unwrap_or_default();
                (
                    name.to_string_lossy().into_owned(),
                    f["compression"].clone(),
                )
            })
            .collect();
        let zstd = Value::from("zstd");
        assert_eq!(
            files,
            [
                ("split-nginx-ws.back.pcap.zst", zstd.clone()),
                ("split-nginx-ws.front.pcap0.zst", zstd.clone()),
                ("split-nginx-ws.front.pcap1.zst", zstd.clone()),
                ("split-nginx-ws.front.pcap2.zst", zstd.clone()),
                ("split-nginx-ws.front.pcap3.zst", zstd),
                ("split-nginx-ws.front.pcap4", Value::Null),
            ]
            .map(|(n, c)| (n.to_string(), c))
        );
    }
}

/// A zstd file cut short: every packet before the cut is read (exactly those of the plain
/// file), then an error that says the zstd stream is truncated; `report` analyses them and
/// exits 2. The same for a byte changed inside the stream.
#[test]
fn a_zstd_capture_cut_short_gives_the_packets_before_the_cut_and_an_error() {
    let plain = packets(&sample("split-nginx-ws.back.pcap"));
    assert_eq!(plain.len(), 59);
    let z = std::fs::read(sample("zstd/split-nginx-ws.back.pcap.zst")).expect("read");
    let dir = tempfile::tempdir().expect("tempdir");
    let read = |p: &Path| -> (usize, String) {
        let mut src = FileSource::open(p).expect("open");
        assert_eq!(src.compression(), Some("zstd"));
        let mut n = 0;
        loop {
            match src.next_packet() {
                Ok(Some(pk)) => {
                    let want = &plain[n];
                    assert_eq!((pk.ts.0, pk.data), (want.ns, &want.data[..]), "packet {n}");
                    n += 1;
                }
                Ok(None) => return (n, String::new()),
                Err(e) => return (n, e.to_string()),
            }
        }
    };
    // Cut inside the first block: nothing decodes, not even the pcap header.
    let cut = dir.path().join("cut-head.pcap.zst");
    std::fs::write(&cut, &z[..z.len() / 4]).expect("write");
    let e = FileSource::open(&cut).err().map(|e| e.to_string());
    assert!(
        e.as_deref().is_some_and(|e| e.contains("truncated")),
        "{e:?}"
    );
    // Cut in the second and third (last) block, and inside the frame's 4-byte checksum.
    let mut last = 0;
    for (k, end) in [z.len() / 2, z.len() * 3 / 4, z.len() - 2]
        .into_iter()
        .enumerate()
    {
        let cut = dir.path().join(format!("cut{k}.pcap.zst"));
        std::fs::write(&cut, &z[..end]).expect("write");
        let (n, err) = read(&cut);
        assert!(
            err.contains("zstd stream ends inside") && err.contains("truncated"),
            "{err}"
        );
        // The blocks are about 1.3 KB: a cut loses the block it falls in, not more.
        assert!(n > last, "{n} packets cut at {end}");
        last = n;
        let (code, _, v) = report_paths(std::slice::from_ref(&cut));
        assert_eq!(code, Some(2));
        assert_eq!(v["capture"]["packets"], n);
        let e = v["capture"]["error"].as_str().unwrap_or_default();
        assert!(e.contains("truncated"), "{e}");
    }
    // Only the checksum was cut: every packet was read.
    assert_eq!(last, plain.len());
    // A changed byte in the middle: the packets before its block, then a zstd error (or, if
    // the block decoded to other bytes, whatever the capture reader makes of them).
    let mut bad = z.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0x55;
    let p = dir.path().join("bad.pcap.zst");
    std::fs::write(&p, &bad).expect("write");
    let (n, err) = read_prefix(&p, &plain);
    assert!(!err.is_empty(), "no error after {n} packets");
    assert!(n > 0 && n < plain.len(), "{n}: {err}");
}

/// Packets of `p` while they equal `plain`'s, and the error that ended the reading.
fn read_prefix(p: &Path, plain: &[Pkt]) -> (usize, String) {
    let mut src = FileSource::open(p).expect("open");
    let mut n = 0;
    loop {
        match src.next_packet() {
            Ok(Some(pk)) if plain.get(n).is_some_and(|w| w.data == pk.data) => n += 1,
            Ok(Some(_)) => {}
            Ok(None) => return (n, String::new()),
            Err(e) => return (n, e.to_string()),
        }
    }
}

#[test]
fn standard_input_is_one_input() {
    let orig = sample("websocket-nginx-broken.pcap");
    let bytes = std::fs::read(&orig).expect("read");
    let (_, _, one) = report_paths(std::slice::from_ref(&orig));
    let zst = std::fs::read(sample("zstd/split-nginx-ws.back.pcap.zst")).expect("read");
    let (_, _, back) = report_paths(&[sample("split-nginx-ws.back.pcap")]);
    for (input, want, compression) in [
        (bytes.clone(), &one, None),
        (gzip(&bytes), &one, Some("gzip")),
        (zst, &back, Some("zstd")),
    ] {
        let mut child = hopscope()
            .args(["report", "--format", "json", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().expect("wait");
        writer.join().expect("join").expect("write stdin");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(analysis(want), analysis(&v));
        assert_eq!(v["capture"]["files"][0]["path"], "-");
        assert_eq!(
            v["capture"]["files"][0]["compression"].as_str(),
            compression
        );
    }
    let (code, err, _) = report(&["-".as_ref(), "-".as_ref()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("only once"), "{err}");
}

#[test]
fn a_clock_offset_moves_that_file_by_exactly_its_seconds() {
    let orig = sample("websocket-nginx-broken.pcap");
    let pkts = packets(&orig);
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a.pcap"), dir.path().join("b.pcap"));
    let half = pkts.len() / 2;
    write_pcap(&a, &pkts[..half], 1);
    write_pcap(&b, &pkts[half..], 1);
    let (_, _, plain) = report_paths(&[a.clone(), b.clone()]);
    let arg = format!("{}=2.5", b.display());
    let (code, err, moved) = report(&[
        a.as_os_str(),
        b.as_os_str(),
        "--clock-offset".as_ref(),
        arg.as_ref(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (f0, f1) = (&moved["capture"]["files"][0], &moved["capture"]["files"][1]);
    assert_eq!(f0["offset_source"], "none");
    assert_eq!(f0["clock_offset_s"], 0.0);
    assert_eq!(f1["offset_source"], "given");
    assert_eq!(f1["clock_offset_s"], 2.5);
    let t = |v: &Value| v.as_f64().expect("time");
    let p1 = &plain["capture"]["files"][1];
    assert!((t(&f1["first_ts"]) - t(&p1["first_ts"]) - 2.5).abs() < 1e-6);
    assert!((t(&f1["last_ts"]) - t(&p1["last_ts"]) - 2.5).abs() < 1e-6);
    assert_eq!(f0["first_ts"], plain["capture"]["files"][0]["first_ts"]);
    assert!((t(&moved["capture"]["last_ts"]) - t(&plain["capture"]["last_ts"]) - 2.5).abs() < 1e-6);
    // An offset naming no input is bad usage.
    let (code, err, _) = report(&[
        a.as_os_str(),
        "--clock-offset".as_ref(),
        "nope.pcap=1".as_ref(),
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("nope.pcap"), "{err}");
}

#[test]
fn an_unreadable_file_among_good_ones_is_named_and_the_rest_analysed() {
    let orig = sample("websocket-nginx-broken.pcap");
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture at all").expect("write");
    let missing = dir.path().join("missing.pcap");
    let (_, _, one) = report_paths(std::slice::from_ref(&orig));
    let (code, err, v) = report_paths(&[junk.clone(), orig, missing.clone()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("junk.pcap") && err.contains("missing.pcap"),
        "{err}"
    );
    assert_eq!(analysis(&one)["transactions"], analysis(&v)["transactions"]);
    let files = v["capture"]["files"].as_array().expect("files");
    assert!(
        files[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("not a pcap")
    );
    assert!(files[1]["error"].is_null());
    assert!(
        files[2]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot open")
    );
    let e = v["capture"]["error"].as_str().unwrap_or_default();
    assert!(e.starts_with("2 of 3 input files"), "{e}");
    let incomplete = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "capture.incomplete")
        .count();
    assert_eq!(incomplete, 1);
}

#[test]
fn three_hundred_rotated_files() {
    let orig = sample("http-proxy-chain.pcap");
    let pkts = packets(&orig);
    // 300 files of at least one packet: the sample repeated, one minute later each time.
    let mut many = Vec::new();
    for round in 0..3 {
        for p in &pkts {
            let mut q = p.clone();
            q.ns += round * 60_000_000_000;
            many.push(q);
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = rotated(dir.path(), &many, 300);
    assert_eq!(paths.len(), 300);
    let (code, err, v) = report_paths(&[dir.path().to_path_buf()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["capture"]["packets"], many.len());
    assert_eq!(v["capture"]["files"].as_array().map(Vec::len), Some(300));
    let (_, _, one) = report_paths(&[orig]);
    assert_eq!(
        v["transactions"].as_array().map(Vec::len),
        one["transactions"].as_array().map(|t| t.len() * 3)
    );
    // Read one after another: never more than two open at once (the one ending and the next).
    let inputs =
        hopscope::capture::merge::expand(&[dir.path().to_path_buf()], &[]).expect("expand");
    let mut src = hopscope::capture::merge::MergedSource::open(inputs);
    let (mut most, mut n) = (0, 0);
    loop {
        most = most.max(src.open_files());
        match hopscope::capture::PacketSource::next(&mut src) {
            hopscope::capture::Next::Packet(_) => n += 1,
            hopscope::capture::Next::Secrets(_) => {}
            _ => break,
        }
    }
    assert_eq!(n, many.len());
    assert!(most <= 2, "{most} files open at once");
    // A connection cut by a rotation lists the files it crossed.
    assert!(
        v["connections"]
            .as_array()
            .expect("connections")
            .iter()
            .any(|c| c["files"].as_array().is_some_and(|f| f.len() > 1))
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Any bytes as several inputs (some starting like a capture, some gzip or zstd): the merge reads
    /// to its end without a panic and accounts for every packet it handed out.
    #[test]
    fn any_inputs_never_panic(files in proptest::collection::vec((0u8..6, proptest::collection::vec(any::<u8>(), 0..400)), 1..5)) {
        use hopscope::capture::{Next, PacketSource};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut inputs = Vec::new();
        for (i, (kind, body)) in files.iter().enumerate() {
            let bytes = match kind {
                0 => body.clone(),
                1 => [pcap_bytes(&[], 1)[..24].to_vec(), body.clone()].concat(),
                2 => gzip(&[pcap_bytes(&[], 1)[..24].to_vec(), body.clone()].concat()),
                3 => ruzstd::encoding::compress_to_vec(
                    &[pcap_bytes(&[], 1)[..24].to_vec(), body.clone()].concat()[..],
                    ruzstd::encoding::CompressionLevel::Fastest,
                ),
                4 => [vec![0x28, 0xb5, 0x2f, 0xfd], body.clone()].concat(),
                _ => [vec![0x0a, 0x0d, 0x0d, 0x0a], body.clone()].concat(),
            };
            let p = dir.path().join(format!("in-{}.pcap", ["a", "b", "c", "d", "e"][i]));
            std::fs::write(&p, bytes).expect("write");
            inputs.push(hopscope::capture::merge::InputFile::new(p));
        }
        let mut src = hopscope::capture::merge::MergedSource::open(inputs);
        let mut n = 0u64;
        for _ in 0..100_000 {
            match src.next() {
                Next::Packet(_) => n += 1,
                Next::Secrets(_) | Next::Idle => {}
                Next::End | Next::Error(_) => break,
            }
        }
        let end = src.finish();
        prop_assert_eq!(end.files.iter().map(|f| f.packets).sum::<u64>(), n);
    }

    /// The packets of one capture dealt to k files in any way, merged back: the report of the
    /// capture (its times strictly increase, so the merge restores its order).
    #[test]
    fn any_split_by_packet_merges_back(k in 1usize..5, seed in proptest::collection::vec(0usize..5, 108)) {
        let orig = sample("http-proxy-chain.pcap");
        let pkts = packets(&orig);
        let mut files: Vec<Vec<Pkt>> = vec![Vec::new(); k];
        for (i, p) in pkts.iter().enumerate() {
            files[seed[i % seed.len()] % k].push(p.clone());
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let mut paths = Vec::new();
        for (i, f) in files.iter().enumerate() {
            // Pieces of one capture: a rotated set, one clock.
            let p = dir.path().join(format!("part.pcap{i}"));
            write_pcap(&p, f, 1);
            paths.push(p);
        }
        let (_, _, one) = report_paths(&[orig]);
        let (code, err, merged) = report_paths(&paths);
        prop_assert_eq!(code, Some(0), "{}", err);
        prop_assert_eq!(analysis(&one), analysis(&merged));
        let counts: HashMap<usize, u64> = files.iter().enumerate().map(|(i, f)| (i, f.len() as u64)).collect();
        for (i, f) in merged["capture"]["files"].as_array().expect("files").iter().enumerate() {
            prop_assert_eq!(f["packets"].as_u64(), counts.get(&i).copied());
        }
    }
}

#[test]
fn the_status_bar_names_the_files_and_their_offsets() {
    use hopscope::capture::merge::InputFile;
    use hopscope::tui::inputs_label;
    let one = InputFile::new("/x/dump.pcap");
    assert_eq!(inputs_label(std::slice::from_ref(&one)), "dump.pcap");
    let mut b = InputFile::new("/y/b.pcap");
    b.offset_ns = 1_500_000_000;
    assert_eq!(
        inputs_label(&[one.clone(), InputFile::new("c.pcap")]),
        "2 files"
    );
    assert_eq!(inputs_label(&[one, b.clone()]), "2 files (b.pcap +1.5s)");
    assert_eq!(inputs_label(&[b]), "b.pcap +1.5s");
}

#[test]
fn the_text_report_lists_the_files() {
    let a = sample("http-proxy.pcap");
    let b = sample("http-sll.pcap");
    let arg = format!("{}=-1.25", b.display());
    let out = hopscope()
        .args(["report", "--format", "text"])
        .arg(&a)
        .arg(&b)
        .args(["--clock-offset", &arg])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("  2 files:\n"), "{text}");
    assert!(
        text.contains("http-proxy.pcap: 78 packets (pcap)\n"),
        "{text}"
    );
    assert!(
        text.contains("http-sll.pcap: 16 packets (pcap), clock -1.25 s (given)\n"),
        "{text}"
    );
}

/// The Stream view's pass over the inputs of a run, for connection `conn`.
fn stream_of(inputs: Vec<hopscope::capture::merge::InputFile>, conn: u64) -> String {
    use hopscope::tui::app::Event;
    let (tx, rx) = std::sync::mpsc::sync_channel(64);
    hopscope::tui::worker::load_stream(
        inputs,
        conn,
        hopscope::engine::EngineConfig::default(),
        hopscope::tui::analyzer_config(&hopscope::cli::AnalysisArgs::default()),
        tx,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    match rx.try_iter().find(|e| matches!(e, Event::Stream(_))) {
        Some(Event::Stream(d)) => {
            assert!(d.found && d.error.is_none(), "{:?}", d.error);
            format!("{:?}", d.pieces)
        }
        _ => panic!("no stream event"),
    }
}

#[test]
fn the_stream_view_reads_the_merged_inputs_again() {
    use hopscope::capture::merge::InputFile;
    let orig = sample("websocket-nginx-broken.pcap");
    let pkts = packets(&orig);
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a.pcap"), dir.path().join("b.pcap"));
    let key = conn_key(&pkts[0]);
    let (first, rest): (Vec<Pkt>, Vec<Pkt>) =
        pkts.iter().cloned().partition(|p| conn_key(p) == key);
    write_pcap(&a, &rest, 1);
    write_pcap(&b, &first, 1);
    for conn in 0..2 {
        let one = stream_of(vec![InputFile::new(&orig)], conn);
        let two = stream_of(vec![InputFile::new(&a), InputFile::new(&b)], conn);
        assert_ne!(one, "[]", "connection {conn} has bytes");
        assert_eq!(one, two, "connection {conn}");
    }
}
