//! `hopscope live` on the loopback interface, end to end: a real TCP exchange on 127.0.0.1 is
//! captured by the binary and the report must describe exactly that exchange.
//!
//! These tests need capture privileges (CI runs as root). When opening `lo` is not permitted,
//! each test says so on stderr and returns: the only skip allowed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Bytes the client sends and the server answers with. The reply is larger than one loopback
/// segment is likely to be, so reassembly has more than one segment to put together.
const N1: usize = 1234;
const N2: usize = 100_000;

const READY_TIMEOUT: Duration = Duration::from_secs(15);
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);

fn hopscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hopscope"))
}

/// A running `hopscope live`, past its "capturing on" line.
struct Live {
    child: Child,
    /// The rest of its standard error, line by line.
    stderr: Receiver<String>,
    /// What it said before "capturing on".
    before: Vec<String>,
}

impl Live {
    /// Starts `hopscope live ARGS` and waits until the capture is open. `None` when capturing
    /// is not permitted here (the test is then skipped, with the reason on stderr).
    fn start(args: &[&str]) -> Option<Live> {
        let mut child = hopscope()
            .arg("live")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hopscope live");
        let err = child.stderr.take().expect("stderr piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with("hopscope: capturing on ") => {
                    seen.push(line);
                    return Some(Live {
                        child,
                        stderr: rx,
                        before: seen,
                    });
                }
                Ok(line) => seen.push(line),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait");
                    let text = seen.join("\n");
                    if text.contains("not permitted to capture") {
                        eprintln!(
                            "SKIPPED: capturing on lo is not permitted for this user \
                             (run the tests as root or with cap_net_raw): {text}"
                        );
                        return None;
                    }
                    panic!("hopscope live ended before capturing ({status}): {text}");
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    panic!(
                        "no \"capturing on\" line within {READY_TIMEOUT:?}; stderr so far: {}",
                        seen.join("\n")
                    );
                }
            }
        }
    }

    /// Sends SIGINT, as Ctrl-C would (no new dependency: the `kill` command).
    fn interrupt(&self) {
        let st = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -INT failed: {st}");
    }

    /// Waits for the process to end by itself; returns its status and remaining stderr.
    fn wait(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + EXIT_TIMEOUT;
        let status = loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                break st;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("hopscope live did not end within {EXIT_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        let rest: Vec<String> = self.stderr.try_iter().collect();
        (status, rest.join("\n"))
    }
}

/// A listener on 127.0.0.1 with an OS-chosen port.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = l.local_addr().expect("local_addr").port();
    (l, port)
}

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// One connection: the client sends exactly `N1` bytes, the server reads them all and answers
/// with exactly `N2`, then closes; the client reads to the end and closes. Both sides send a
/// FIN and no RST (nothing is left unread). Returns the client's port.
fn exchange(l: TcpListener, port: u16) -> u16 {
    let server = thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        let mut got = vec![0u8; N1];
        s.read_exact(&mut got).expect("server read");
        assert_eq!(got, pattern(N1, 1));
        s.write_all(&pattern(N2, 2)).expect("server write");
        s.shutdown(Shutdown::Write).expect("server shutdown");
        // Wait for the client's FIN before closing, so the close is FIN/FIN, not a RST.
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).expect("server read to end");
        assert!(rest.is_empty());
    });
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let client_port = c.local_addr().expect("client addr").port();
    c.write_all(&pattern(N1, 1)).expect("client write");
    let mut got = Vec::new();
    c.read_to_end(&mut got).expect("client read");
    assert_eq!(got.len(), N2);
    c.shutdown(Shutdown::Write).expect("client shutdown");
    drop(c);
    server.join().expect("server thread");
    client_port
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read report");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not one JSON document ({e}): {text}"))
}

/// The connections of a report between the two ports, either way round.
fn connections_between(conns: &[Value], a: u16, b: u16) -> Vec<Value> {
    let port = |v: &Value| -> Option<u16> { v.as_str()?.rsplit_once(':')?.1.parse().ok() };
    conns
        .iter()
        .filter(|c| {
            let (cp, sp) = (port(&c["client"]), port(&c["server"]));
            (cp, sp) == (Some(a), Some(b)) || (cp, sp) == (Some(b), Some(a))
        })
        .cloned()
        .collect()
}

/// The connection checks shared by every test: one connection, the right client, a full
/// handshake, a FIN close and exactly the bytes that were sent each way.
fn assert_exchange(conns: &[Value], client_port: u16, server_port: u16) {
    let found = connections_between(conns, client_port, server_port);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one connection {client_port} <-> {server_port}, got {conns:#?}"
    );
    let c = &found[0];
    assert_eq!(c["client"], format!("127.0.0.1:{client_port}"), "{c:#}");
    assert_eq!(c["server"], format!("127.0.0.1:{server_port}"), "{c:#}");
    assert_eq!(c["handshake"], true, "{c:#}");
    assert_eq!(c["close"], "fin", "{c:#}");
    assert_eq!(c["client_to_server"]["bytes"], N1 as u64, "{c:#}");
    assert_eq!(c["server_to_client"]["bytes"], N2 as u64, "{c:#}");
    assert_eq!(c["client_to_server"]["gaps"], 0, "{c:#}");
    assert_eq!(c["server_to_client"]["gaps"], 0, "{c:#}");
}

fn conns_of(doc: &Value) -> Vec<Value> {
    doc["connections"]
        .as_array()
        .unwrap_or_else(|| panic!("no connections array: {doc:#}"))
        .clone()
}

#[test]
fn ctrl_c_ends_with_the_full_report_of_a_loopback_exchange() {
    let dir = tmp();
    let out = dir.path().join("report.json");
    let (l, port) = listener();
    let filter = format!("tcp port {port}");
    let args = ["-i", "lo", "-f", &filter, "--format", "json", "-o"];
    let mut args: Vec<&str> = args.to_vec();
    let out_s = out.to_str().expect("utf-8 temp path");
    args.push(out_s);
    let Some(live) = Live::start(&args) else {
        return;
    };
    let client_port = exchange(l, port);
    thread::sleep(Duration::from_millis(500));
    live.interrupt();
    let (status, stderr) = live.wait();
    assert!(status.success(), "status {status}; stderr: {stderr}");

    let doc = read_json(&out);
    let cap = &doc["capture"];
    assert_eq!(cap["format"], "live", "{cap:#}");
    assert_eq!(cap["source"], "live:lo", "{cap:#}");
    let dropped = &cap["dropped"];
    assert!(dropped.is_object(), "capture.dropped missing: {cap:#}");
    for k in ["kernel", "interface", "hopscope"] {
        assert!(dropped[k].is_u64(), "capture.dropped.{k} missing: {cap:#}");
    }
    assert_eq!(dropped["hopscope"], 0, "{cap:#}");
    // At least SYN, SYN-ACK, ACK, the data, and two FINs.
    assert!(cap["packets"].as_u64().unwrap_or(0) >= 6, "{cap:#}");
    assert!(doc["findings"].is_array(), "{doc:#}");
    assert_exchange(&conns_of(&doc), client_port, port);
}

#[test]
fn saved_pcapng_reads_back_with_the_same_connection() {
    let dir = tmp();
    let out = dir.path().join("live.json");
    let saved = dir.path().join("saved.pcapng");
    let (l, port) = listener();
    let filter = format!("tcp port {port}");
    let out_s = out.to_str().expect("utf-8 temp path");
    let saved_s = saved.to_str().expect("utf-8 temp path");
    let args = [
        "-i", "lo", "-f", &filter, "-w", saved_s, "--format", "json", "-o", out_s,
    ];
    let Some(live) = Live::start(&args) else {
        return;
    };
    let client_port = exchange(l, port);
    thread::sleep(Duration::from_millis(500));
    live.interrupt();
    let (status, stderr) = live.wait();
    assert!(status.success(), "status {status}; stderr: {stderr}");
    let live_doc = read_json(&out);
    tshark_agrees(&saved, client_port, port);

    // The file has what the live run analysed, packet for packet.
    let rep: Output = hopscope()
        .args(["report", "--format", "json"])
        .arg(&saved)
        .output()
        .expect("run hopscope report");
    assert!(
        rep.status.success(),
        "hopscope report on the saved file: {}",
        String::from_utf8_lossy(&rep.stderr)
    );
    let file_doc: Value = serde_json::from_slice(&rep.stdout).expect("report JSON");
    assert_eq!(file_doc["capture"]["format"], "pcapng");
    assert_eq!(
        file_doc["capture"]["packets"], live_doc["capture"]["packets"],
        "the saved file and the live analysis disagree on the packet count"
    );
    assert_eq!(file_doc["capture"]["bytes"], live_doc["capture"]["bytes"]);
    assert_exchange(&conns_of(&file_doc), client_port, port);
    assert_exchange(&conns_of(&live_doc), client_port, port);
}

/// An independent reader: tshark must open the file and count the same payload bytes.
fn tshark_agrees(saved: &Path, client_port: u16, server_port: u16) {
    let out = match Command::new("tshark")
        .arg("-r")
        .arg(saved)
        .args(["-T", "fields", "-e", "tcp.srcport", "-e", "tcp.len"])
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tshark is not available ({e}); the check with tshark was not run");
            return;
        }
    };
    assert!(
        out.status.success(),
        "tshark -r failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut c2s, mut s2c) = (0u64, 0u64);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = line.split('\t');
        let (Some(src), Some(len)) = (f.next(), f.next()) else {
            continue;
        };
        let (Ok(src), Ok(len)) = (src.parse::<u16>(), len.parse::<u64>()) else {
            continue;
        };
        if src == client_port {
            c2s += len;
        } else if src == server_port {
            s2c += len;
        }
    }
    assert_eq!(
        (c2s, s2c),
        (N1 as u64, N2 as u64),
        "tshark's payload byte counts"
    );
}

#[test]
fn bad_filter_exits_1_naming_the_filter() {
    let out = hopscope()
        .args(["live", "-i", "lo", "-f", "tcp port nonsense and ("])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("not permitted to capture") {
        eprintln!("SKIPPED: capturing on lo is not permitted for this user: {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("bad capture filter"), "{stderr}");
    assert!(stderr.contains("tcp port nonsense and ("), "{stderr}");
    assert!(!stderr.contains("capturing on"), "{stderr}");
}

#[test]
fn unknown_interface_exits_1_pointing_to_interfaces() {
    let out = hopscope()
        .args(["live", "-i", "hopscope-no-such0"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    // Without privileges libpcap may fail on the socket before it looks at the name.
    assert!(
        stderr.contains("hopscope interfaces") || stderr.contains("not permitted to capture"),
        "{stderr}"
    );
}

#[test]
fn interfaces_lists_loopback() {
    let out = hopscope().arg("interfaces").output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lo = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some("lo"))
        .unwrap_or_else(|| panic!("no `lo` line in:\n{stdout}"));
    assert!(lo.contains("loopback"), "{lo}");
    assert!(lo.contains("127.0.0.1"), "{lo}");
}

/// NDJSON lines of a finished run, each parsed; the last must be the `capture` summary.
fn ndjson(path: &Path) -> (Vec<Value>, Value) {
    let text = std::fs::read_to_string(path).expect("read ndjson");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad NDJSON line ({e}): {l}")))
        .collect();
    assert_eq!(
        lines.first().map(|v| &v["type"]),
        Some(&Value::from("start")),
        "{text}"
    );
    let last = lines.last().cloned().expect("lines");
    assert_eq!(last["type"], "capture", "{text}");
    (lines, last)
}

#[test]
fn count_ends_the_run_by_itself() {
    let dir = tmp();
    let out = dir.path().join("out.ndjson");
    let (l, port) = listener();
    let filter = format!("tcp port {port}");
    let out_s = out.to_str().expect("utf-8 temp path");
    let args = [
        "-i", "lo", "-f", &filter, "-c", "3", "--format", "ndjson", "-o", out_s,
    ];
    let Some(live) = Live::start(&args) else {
        return;
    };
    let client_port = exchange(l, port);
    let (status, stderr) = live.wait();
    assert!(status.success(), "status {status}; stderr: {stderr}");
    let (lines, cap) = ndjson(&out);
    assert_eq!(cap["packets"], 3, "{cap:#}");
    assert_eq!(cap["format"], "live");
    assert!(cap["dropped"].is_object(), "{cap:#}");
    // SYN, SYN-ACK, ACK: a connection still open when the capture ended.
    let conns: Vec<Value> = lines
        .iter()
        .filter(|v| v["type"] == "connection")
        .cloned()
        .collect();
    let found = connections_between(&conns, client_port, port);
    assert_eq!(found.len(), 1, "{lines:#?}");
    assert_eq!(found[0]["handshake"], true, "{:#}", found[0]);
    assert_eq!(found[0]["close"], "open", "{:#}", found[0]);
}

#[test]
fn duration_ends_the_run_by_itself_and_streams_ndjson() {
    let dir = tmp();
    let out = dir.path().join("out.ndjson");
    let (l, port) = listener();
    let filter = format!("tcp port {port}");
    let out_s = out.to_str().expect("utf-8 temp path");
    let args = [
        "-i",
        "lo",
        "-f",
        &filter,
        "--duration",
        "2",
        "--format",
        "ndjson",
        "-o",
        out_s,
    ];
    let started = Instant::now();
    let Some(live) = Live::start(&args) else {
        return;
    };
    let client_port = exchange(l, port);
    let (status, stderr) = live.wait();
    let took = started.elapsed();
    assert!(status.success(), "status {status}; stderr: {stderr}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "--duration 2 took {took:?}"
    );
    let (lines, cap) = ndjson(&out);
    assert_eq!(cap["format"], "live");
    assert_eq!(cap["dropped"]["hopscope"], 0, "{cap:#}");
    let conns: Vec<Value> = lines
        .iter()
        .filter(|v| v["type"] == "connection")
        .cloned()
        .collect();
    assert_exchange(&conns, client_port, port);
}

#[test]
fn duration_ends_a_quiet_capture() {
    let dir = tmp();
    let out = dir.path().join("out.json");
    let (_l, port) = listener();
    let filter = format!("tcp port {port}");
    let out_s = out.to_str().expect("utf-8 temp path");
    let args = [
        "-i",
        "lo",
        "-f",
        &filter,
        "--duration",
        "0.5",
        "--format",
        "json",
        "-o",
        out_s,
    ];
    let Some(live) = Live::start(&args) else {
        return;
    };
    let (status, stderr) = live.wait();
    assert!(status.success(), "status {status}; stderr: {stderr}");
    let doc = read_json(&out);
    assert_eq!(doc["capture"]["packets"], 0, "{doc:#}");
    assert_eq!(doc["capture"]["format"], "live");
    assert!(conns_of(&doc).is_empty());
}

/// `-i lo -i any`: two capture threads, one analysis. Both interfaces see the loopback
/// exchange, so its connection lists both, each interface is a `capture.files[]` entry with
/// its own counts and drops, and `-w` saves one pcapng describing both.
#[test]
fn two_interfaces_feed_one_analysis() {
    let dir = tmp();
    let out = dir.path().join("two.json");
    let saved = dir.path().join("two.pcapng");
    let (l, port) = listener();
    let filter = format!("tcp port {port}");
    let out_s = out.to_str().expect("utf-8 temp path");
    let saved_s = saved.to_str().expect("utf-8 temp path");
    // Headers only: two sockets each copy the 64 KiB loopback segments, and with the default
    // snaplen libpcap's 2 MiB ring holds only a few of them (a busy machine then drops some).
    let args = [
        "-i", "lo", "-i", "any", "-s", "256", "-f", &filter, "-w", saved_s, "--format", "json",
        "-o", out_s,
    ];
    let Some(live) = Live::start(&args) else {
        return;
    };
    assert!(
        live.before
            .last()
            .is_some_and(|l| l.starts_with("hopscope: capturing on lo, any (")),
        "{:?}",
        live.before
    );
    let client_port = exchange(l, port);
    thread::sleep(Duration::from_millis(500));
    live.interrupt();
    let (status, stderr) = live.wait();
    assert!(status.success(), "status {status}; stderr: {stderr}");

    let doc = read_json(&out);
    let cap = &doc["capture"];
    assert_eq!(cap["source"], "live:lo,any", "{cap:#}");
    assert_eq!(cap["format"], "live", "{cap:#}");
    let files = cap["files"].as_array().expect("capture.files");
    assert_eq!(files.len(), 2, "{cap:#}");
    let mut packets = 0;
    let mut hopscope_drops = 0;
    for (f, name) in files.iter().zip(["live:lo", "live:any"]) {
        assert_eq!(f["path"], name, "{f:#}");
        assert_eq!(f["format"], "live", "{f:#}");
        assert_eq!(f["clock_offset_s"], 0.0, "{f:#}");
        assert_eq!(f["offset_source"], "none", "{f:#}");
        assert!(f["error"].is_null(), "{f:#}");
        // SYN, SYN-ACK, ACK, the data, two FINs: on each interface.
        assert!(f["packets"].as_u64().unwrap_or(0) >= 6, "{f:#}");
        assert!(
            f["link_types"].as_array().is_some_and(|l| l.len() == 1),
            "{f:#}"
        );
        assert!(f["dropped"]["kernel"].is_u64(), "{f:#}");
        packets += f["packets"].as_u64().unwrap_or(0);
        hopscope_drops += f["dropped"]["hopscope"].as_u64().unwrap_or(0);
    }
    assert_eq!(cap["packets"], packets, "the interfaces' packets add up");
    assert_eq!(cap["dropped"]["hopscope"], hopscope_drops, "{cap:#}");
    // The exchange was seen on both interfaces (two capture points): one connection,
    // analysed from the interface that showed it first, the other's packets its copies.
    let conns = connections_between(&conns_of(&doc), client_port, port);
    assert_eq!(conns.len(), 1, "{doc:#}");
    let c = &conns[0];
    let mut seen_on: Vec<u64> = c["files"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            c["also_seen_in"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| &s["file"]),
        )
        .filter_map(|v| v.as_u64())
        .collect();
    seen_on.sort_unstable();
    assert_eq!(seen_on, vec![0, 1], "{c:#}");
    assert_eq!(c["client_to_server"]["retransmitted"], 0, "{c:#}");
    assert!(
        cap["tcp"]["duplicate_packets"].as_u64().unwrap_or(0) >= 6,
        "{cap:#}"
    );

    // The saved file has what the live run analysed, with an interface description each.
    let rep: Output = hopscope()
        .args(["report", "--format", "json"])
        .arg(&saved)
        .output()
        .expect("run hopscope report");
    assert!(
        rep.status.success(),
        "hopscope report on the saved file: {}",
        String::from_utf8_lossy(&rep.stderr)
    );
    let file_doc: Value = serde_json::from_slice(&rep.stdout).expect("report JSON");
    assert_eq!(file_doc["capture"]["packets"], cap["packets"]);
    assert_eq!(file_doc["capture"]["bytes"], cap["bytes"]);
    match Command::new("tshark")
        .arg("-r")
        .arg(&saved)
        .args(["-T", "fields", "-e", "frame.interface_name"])
        .output()
    {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let mut names: Vec<&str> = text.lines().map(str::trim).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names, vec!["any", "lo"], "{text}");
        }
        Ok(o) => panic!(
            "tshark cannot read the saved file: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => eprintln!("tshark is not available ({e}); the check with tshark was not run"),
    }
}

/// An interface that cannot be opened among others is named on stderr and in its
/// `capture.files[]` entry; the others are captured and analysed; the exit status is 2.
#[test]
fn an_interface_that_cannot_be_opened_does_not_stop_the_others() {
    let dir = tmp();
    let out = dir.path().join("partial.json");
    let (l, port) = listener();
    let filter = format!("tcp port {port}");
    let out_s = out.to_str().expect("utf-8 temp path");
    let args = [
        "-i",
        "lo",
        "-i",
        "hopscope-no-such0",
        "-f",
        &filter,
        "--format",
        "json",
        "-o",
        out_s,
    ];
    let Some(live) = Live::start(&args) else {
        return;
    };
    let before = live.before.join("\n");
    assert!(before.contains("hopscope-no-such0"), "{before}");
    assert!(before.contains("capturing on lo ("), "{before}");
    let client_port = exchange(l, port);
    thread::sleep(Duration::from_millis(500));
    live.interrupt();
    let (status, stderr) = live.wait();
    assert_eq!(status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("1 of 2 interfaces"), "{stderr}");

    let doc = read_json(&out);
    let cap = &doc["capture"];
    let files = cap["files"].as_array().expect("capture.files");
    assert_eq!(files.len(), 2, "{cap:#}");
    assert!(files[0]["error"].is_null(), "{cap:#}");
    assert_eq!(files[1]["path"], "live:hopscope-no-such0", "{cap:#}");
    assert_eq!(files[1]["packets"], 0, "{cap:#}");
    assert!(
        files[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("hopscope-no-such0")),
        "{cap:#}"
    );
    assert!(
        cap["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("1 of 2 interfaces could not be captured")),
        "{cap:#}"
    );
    assert_exchange(&conns_of(&doc), client_port, port);
}

#[test]
fn the_same_interface_twice_is_refused() {
    let out = hopscope()
        .args(["live", "-i", "lo", "-i", "lo"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("interface lo is given twice"), "{stderr}");
}
