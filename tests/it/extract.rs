//! `hopscope report --write-pcap OUT.pcapng` (issue 18, item 3), checked with tshark as the
//! independent reader: the file holds exactly the packets of the connections the report kept
//! (every frame tshark puts in those TCP streams, in order, nothing else), both legs of a kept
//! proxy hop and the rest of a proxy chain, IP fragments with their datagram, several inputs
//! as several interfaces; the TLS keys of the kept connections only, in a Decryption Secrets
//! Block that both tshark and hopscope decrypt with and no key log; and the usage errors.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::tshark;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

fn hopscope(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .env_remove("SSLKEYLOGFILE")
        .args(args)
        .output()
        .expect("run hopscope")
}

/// `hopscope report CAPTURE ARGS... --write-pcap OUT`.
fn write_pcap(cap: &[&Path], args: &[&str], out: &Path) -> Output {
    let mut all: Vec<&std::ffi::OsStr> = vec!["report".as_ref()];
    all.extend(cap.iter().map(|c| c.as_os_str()));
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    all.extend(["--write-pcap".as_ref(), out.as_os_str()]);
    hopscope(&all)
}

/// One frame as tshark shows it: its TCP stream (none for a fragment before the last) and
/// what identifies it across files (time, captured length, IP id, ports, raw sequence and
/// acknowledgement numbers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Frame {
    stream: Option<u64>,
    id: String,
}

fn tshark_frames(file: &Path) -> Option<Vec<Frame>> {
    let out = tshark(
        file,
        &[
            "-T",
            "fields",
            "-E",
            "occurrence=f",
            "-e",
            "tcp.stream",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.cap_len",
            "-e",
            "ip.id",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "tcp.seq_raw",
            "-e",
            "tcp.ack_raw",
            "-e",
            "frame.interface_name",
        ],
    )?;
    Some(
        out.lines()
            .map(|l| {
                let (stream, rest) = l.split_once('\t').unwrap_or((l, ""));
                // The interface name is the output's own: not part of the identity.
                let id = rest.rsplit_once('\t').map_or(rest, |(a, _)| a).to_string();
                Frame {
                    stream: stream.parse().ok(),
                    id,
                }
            })
            .collect(),
    )
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

/// Frames of `file` in the given streams, in order.
fn frames_of(all: &[Frame], streams: &BTreeSet<u64>) -> Vec<String> {
    all.iter()
        .filter(|f| f.stream.is_some_and(|s| streams.contains(&s)))
        .map(|f| f.id.clone())
        .collect()
}

fn ids(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(|f| f.id.clone()).collect()
}

/// The Decryption Secrets Blocks of a little-endian pcapng file: their data.
fn secrets_blocks(file: &Path) -> Vec<String> {
    let b = std::fs::read(file).expect("read");
    let mut at = 0;
    let mut out = Vec::new();
    while at + 12 <= b.len() {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (kind, len) = (u32_at(at), u32_at(at + 4) as usize);
        assert!(len >= 12 && at + len <= b.len(), "block at {at}: {len}");
        if kind == 0x0000_000A {
            assert_eq!(u32_at(at + 8), 0x544c_534b, "secrets type TLSK");
            let n = u32_at(at + 12) as usize;
            out.push(String::from_utf8_lossy(&b[at + 16..at + 16 + n]).into_owned());
        }
        at += len;
    }
    out
}

#[test]
fn a_kept_leg_brings_the_whole_proxy_chain_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("chain.pcapng");
    let cap = sample("http-proxy-chain.pcap");
    let Some(all) = tshark_frames(&cap) else {
        eprintln!("tshark is not installed: skipped (.ci/run installs it)");
        return;
    };
    let r = write_pcap(&[&cap], &["--filter", "conn:0"], &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rep = report(&r);
    // The report keeps the client's connection; its hop names the first proxy's upstream.
    let kept: Vec<u64> = rep["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter_map(|c| c["id"].as_u64())
        .collect();
    assert_eq!(kept, [0]);
    // The whole run's hops: 0 -> 1 -> 2 is the chain of the client's request.
    let whole = report(&hopscope(&["report".as_ref(), cap.as_ref()]));
    let hops: Vec<(u64, u64)> = whole["proxy_hops"]
        .as_array()
        .expect("hops")
        .iter()
        .filter_map(|h| {
            Some((
                h["front"]["connection"].as_u64()?,
                h["back"]["connection"].as_u64()?,
            ))
        })
        .collect();
    assert!(hops.contains(&(0, 1)) && hops.contains(&(1, 2)), "{hops:?}");
    let chain: BTreeSet<u64> = [0, 1, 2].into();
    let expected = frames_of(&all, &chain);
    let got = tshark_frames(&out).expect("tshark reads the output");
    assert_eq!(ids(&got), expected);
    assert!(
        expected.len() < all.len(),
        "the other connections are left out"
    );
    let said = String::from_utf8_lossy(&r.stderr);
    assert!(
        said.contains(&format!(
            "wrote {} packets of 3 connections",
            expected.len()
        )),
        "{said}"
    );
}

#[test]
fn tls_keys_of_the_kept_connections_only_and_both_readers_decrypt_with_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("tls.pcapng");
    let cap = sample("tls-connect-tinyproxy.pcap");
    let keys = sample("tls-connect-tinyproxy.keys");
    let Some(all) = tshark_frames(&cap) else {
        eprintln!("tshark is not installed: skipped (.ci/run installs it)");
        return;
    };
    let keys_arg = keys.to_str().expect("utf-8 path");
    let r = write_pcap(
        &[&cap],
        &["--tls-keylog", keys_arg, "--filter", "path:/data.json"],
        &out,
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rep = report(&r);
    let kept: BTreeSet<u64> = rep["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter_map(|c| c["id"].as_u64())
        .collect();
    // The second tunnel (client to proxy) and the proxy's connection to the server.
    assert_eq!(kept, [2, 3].into());
    let got = tshark_frames(&out).expect("tshark reads the output");
    assert_eq!(ids(&got), frames_of(&all, &kept));

    // The secrets: exactly the kept TLS session's (the tunnel's TLS is the same session
    // end to end), none of the other session in the key log.
    let randoms: BTreeSet<String> = rep["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(rep["tunnels"].as_array().into_iter().flatten())
        .filter(|c| c["tls"]["decrypted"] == true)
        .filter_map(|c| c["tls"]["client_random"].as_str().map(str::to_string))
        .collect();
    assert_eq!(randoms.len(), 1, "{randoms:?}");
    let blocks = secrets_blocks(&out);
    assert_eq!(blocks.len(), 1);
    let in_block: BTreeSet<String> = blocks[0]
        .lines()
        .filter_map(|l| l.split(' ').nth(1).map(str::to_string))
        .collect();
    assert_eq!(in_block, randoms);
    let log = std::fs::read_to_string(&keys).expect("keys");
    let logged: BTreeSet<&str> = log.lines().filter_map(|l| l.split(' ').nth(1)).collect();
    assert!(logged.len() > 1, "the key log has another session");
    for line in blocks[0].lines() {
        assert!(log.lines().any(|l| l == line), "{line} is a key log line");
    }

    // hopscope, no key log: decrypted from the block.
    let again = report(&hopscope(&["report".as_ref(), out.as_ref()]));
    let tls = &again["connections"][1]["tls"];
    assert_eq!(tls["decrypted"], true, "{tls}");
    assert!(
        tls["key_source"]
            .as_str()
            .is_some_and(|s| s.contains("secrets block")),
        "{tls}"
    );
    let targets: Vec<&str> = again["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .filter_map(|t| t["request"]["target"].as_str())
        .collect();
    assert_eq!(
        targets.iter().filter(|t| t.ends_with("/data.json")).count(),
        2,
        "{targets:?}"
    );
    // tshark, no key log: decrypted from the block too.
    let uris = Command::new("tshark")
        .arg("-r")
        .arg(&out)
        .args([
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "http.request.uri",
        ])
        .output()
        .expect("tshark");
    let uris = String::from_utf8_lossy(&uris.stdout);
    assert!(
        uris.lines().any(|u| u == "/data.json"),
        "tshark did not decrypt: {uris}"
    );
}

#[test]
fn ip_fragments_are_written_with_their_datagram() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("frag.pcapng");
    let cap = sample("tcp-fragments.pcap");
    let Some(all) = tshark_frames(&cap) else {
        eprintln!("tshark is not installed: skipped (.ci/run installs it)");
        return;
    };
    // 14 frames are fragments, 12 of them before their datagram's last.
    assert!(all.iter().filter(|f| f.stream.is_none()).count() >= 12);
    let r = write_pcap(&[&cap], &["-o", "/dev/null"], &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let got = tshark_frames(&out).expect("tshark reads the output");
    assert_eq!(ids(&got), ids(&all));
    // Nanosecond timestamps: the times are the input's to the digit.
    let a = report(&hopscope(&["report".as_ref(), cap.as_ref()]));
    let b = report(&hopscope(&["report".as_ref(), out.as_ref()]));
    assert_eq!(a["transactions"], b["transactions"]);
}

#[test]
fn several_inputs_are_several_interfaces() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("two.pcapng");
    let (front, back) = (
        sample("split-nginx-ws.front.pcap"),
        sample("split-nginx-ws.back.pcap"),
    );
    let (Some(f), Some(b)) = (tshark_frames(&front), tshark_frames(&back)) else {
        eprintln!("tshark is not installed: skipped (.ci/run installs it)");
        return;
    };
    let r = write_pcap(&[&front, &back], &["-o", "/dev/null"], &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let got = tshark_frames(&out).expect("tshark reads the output");
    assert_eq!(got.len(), f.len() + b.len());
    let names = tshark(&out, &["-T", "fields", "-e", "frame.interface_name"]).expect("tshark");
    let names: BTreeSet<String> = names.lines().map(str::to_string).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("split-nginx-ws.front.pcap"))
    );
    // Each input's frames, in their order, are in the output.
    let mut from_front: Vec<String> = Vec::new();
    for g in &got {
        if f.iter().any(|x| x.id == g.id) {
            from_front.push(g.id.clone());
        }
    }
    assert_eq!(from_front, ids(&f));
}

#[test]
fn what_cannot_be_written_is_a_usage_error() {
    let cap = sample("http-keepalive.pcap");
    // Standard input cannot be read twice.
    let never = Path::new("/tmp/never-written.pcapng");
    let r = write_pcap(&[Path::new("-")], &[], never);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("standard input"));
    assert!(!never.exists());
    // Writing over an input.
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("in.pcap");
    std::fs::copy(&cap, &copy).expect("copy");
    let before = std::fs::read(&copy).expect("read");
    let r = write_pcap(&[&copy], &[], &copy);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("one of the captures"));
    assert_eq!(std::fs::read(&copy).expect("read"), before);
    // A place that cannot be written: said before anything is analysed.
    let r = write_pcap(&[&cap], &[], &dir.path().join("no/such/dir/x.pcapng"));
    assert_eq!(r.status.code(), Some(1));
    assert!(r.stdout.is_empty());
    assert!(String::from_utf8_lossy(&r.stderr).contains("cannot create"));
}
