//! Issue 16: a proxy's two legs captured on two hosts, read together. The facts
//! (`details.split_legs` in samples/expected.json, samples/split/split.json) come from nginx's
//! logs with `$request_id`, the client's and the backend's logs, and the clock shifts applied
//! with `editcap -t`; see samples/record.sh (split_nginx_ws, split_nginx_nat, split_samples).

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::common::*;
use serde_json::Value;

fn read_json(p: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&p).expect("facts")).expect("json")
}

/// `hopscope report FILES... --format json`.
fn report(files: &[PathBuf]) -> Value {
    report_json(&samples_dir(), files, [] as [&str; 0])
}

/// A file set's names as paths: `rotated/NAME.pcap0..4` is the rotated set's five parts.
fn paths(set: &[Value]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for f in set {
        let f = f.as_str().expect("a file name");
        match f.split_once("..") {
            Some((stem, last)) => {
                let (base, first) = stem.split_at(stem.len() - 1);
                let (a, b): (u32, u32) = (first.parse().expect("n"), last.parse().expect("n"));
                out.extend((a..=b).map(|i| samples_dir().join(format!("{base}{i}"))));
            }
            None => out.push(samples_dir().join(f)),
        }
    }
    out
}

/// (client, server, index on its connection) of a transaction in the report.
fn leg(r: &Value, txn: &Value) -> Option<(String, String, u64)> {
    let t = r["transactions"]
        .as_array()?
        .iter()
        .find(|t| t["id"] == *txn)?;
    Some((
        t["client"].as_str()?.to_string(),
        t["server"].as_str()?.to_string(),
        t["index"].as_u64()?,
    ))
}

fn fact_leg(v: &Value) -> (String, String, u64) {
    (
        v["client"].as_str().unwrap_or_default().to_string(),
        v["server"].as_str().unwrap_or_default().to_string(),
        v["index"].as_u64().unwrap_or(0),
    )
}

/// Checks one report of two hosts' files against the pairs the proxy logged: every relayed
/// request is one hop with its upstream leg, those the proxy answered itself none, each dropped
/// upgrade diagnosed with the nginx fix, no other `proxy.*` finding; and the files' clock
/// offsets differ by the true correction within 50 ms. Returns the hops checked.
fn check(
    r: &Value,
    offsets: &[f64],
    pairs: &[Value],
    dropped: &[Value],
    allowed: &[String],
    what: &str,
) -> usize {
    let files = r["capture"]["files"].as_array().expect("capture.files");
    let got: Vec<f64> = files
        .iter()
        .map(|f| f["clock_offset_s"].as_f64().expect("offset"))
        .collect();
    // The parts of a rotated set share one clock: compare each file's with the first's.
    let (g0, t0) = (got[0], offsets[0]);
    for (i, (g, t)) in got.iter().zip(offsets).enumerate() {
        assert!(
            ((g - g0) - (t - t0)).abs() <= 0.05,
            "{what}: file {i} offset {g} vs {t} (first {g0} vs {t0})"
        );
    }
    let hops: Vec<&Value> = r["proxy_hops"].as_array().into_iter().flatten().collect();
    let mut seen = 0;
    for p in pairs {
        let front = fact_leg(&p["front"]);
        let hop = hops
            .iter()
            .find(|h| leg(r, &h["front"]["transaction"]).as_ref() == Some(&front));
        if p["back"].is_null() {
            // Answered by the proxy itself: no upstream leg.
            assert!(hop.is_none_or(|h| h["back"].is_null()), "{what}: {front:?}");
            continue;
        }
        let hop = hop.unwrap_or_else(|| panic!("{what}: no hop for {front:?}"));
        let back = leg(r, &hop["back"]["transaction"]);
        assert_eq!(back, Some(fact_leg(&p["back"])), "{what}: {front:?}");
        seen += 1;
    }
    let findings: Vec<&Value> = r["findings"].as_array().into_iter().flatten().collect();
    for d in dropped {
        let front = fact_leg(&d["front"]);
        let hop = hops
            .iter()
            .find(|h| leg(r, &h["front"]["transaction"]).as_ref() == Some(&front))
            .unwrap_or_else(|| panic!("{what}: no hop for the dropped upgrade {front:?}"));
        assert!(
            hop["diagnosis"]
                .as_array()
                .is_some_and(|d| d.iter().any(|c| c == "proxy.upgrade-dropped")),
            "{what}: {hop}"
        );
        assert!(
            findings.iter().any(|f| f["code"] == "proxy.upgrade-dropped"
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("proxy_set_header Upgrade"))),
            "{what}: the nginx fix"
        );
    }
    let wrong: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["code"].as_str())
        .filter(|c| {
            c.starts_with("proxy.")
                && !["proxy.upgrade-dropped", "proxy.answered-itself"].contains(c)
                && !allowed.iter().any(|a| a == c)
        })
        .collect();
    assert!(wrong.is_empty(), "{what}: {wrong:?}");
    seen
}

/// The two recorded topologies (front and back addresses differ; one behind a NAT), each file
/// set the facts list: unskewed, a clock off by −1.234 s or +0.35 s, a rotated set with a
/// gzip'd back file.
#[test]
fn two_hosts_files_pair_every_relayed_request_and_find_the_clock_offset() {
    let all = read_json(samples_dir().join("expected.json"));
    let mut sets = BTreeSet::new();
    let mut checked = 0;
    for cap in all["captures"].as_array().into_iter().flatten() {
        let sl = &cap["details"]["split_legs"];
        let Some(file_sets) = sl["file_sets"].as_array() else {
            continue;
        };
        let offset_of = |name: &str| -> f64 {
            // The rotated parts and the gzip'd copy keep the clock of the file they came from.
            let base = name
                .trim_start_matches("rotated/")
                .trim_end_matches(".gz")
                .trim_end_matches(char::is_numeric)
                .to_string();
            let base = if base.ends_with(".pcap") {
                base
            } else {
                format!("{base}.pcap")
            };
            sl["files"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|f| f["file"] == base.as_str())
                .and_then(|f| f["clock_offset_s"].as_f64())
                .unwrap_or_else(|| panic!("no clock fact for {name}"))
        };
        for set in file_sets {
            let set = set.as_array().expect("a file set").clone();
            if !sets.insert(serde_json::to_string(&set).unwrap_or_default()) {
                continue;
            }
            let files = paths(&set);
            let offsets: Vec<f64> = files
                .iter()
                .map(|p| {
                    let n = p.strip_prefix(samples_dir()).unwrap_or(p);
                    offset_of(&n.to_string_lossy())
                })
                .collect();
            let r = report(&files);
            let pairs = sl["pairs"].as_array().cloned().unwrap_or_default();
            let dropped = sl["dropped_upgrades"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let what = format!("{set:?}");
            checked += check(&r, &offsets, &pairs, &dropped, &[], &what);
        }
    }
    assert_eq!(sets.len(), 5, "{sets:?}");
    // 6 relayed requests per topology and file set.
    assert!(checked >= 5 * 6, "{checked} hops checked");
}

/// The splits whose relayed requests share no strong clock-free evidence (tinyproxy and the
/// leak sample's nginx add no request id and no X-Forwarded-For; the samples' own
/// X-Hopscope-Tag is no header the correlator trusts): across two captures their legs pair by
/// weaker evidence (the target, `Host`, `User-Agent`, the `Via` the proxy put on both, the
/// relayed response), unique on both sides and agreeing on the offset.
const NO_CLOCK_FREE_EVIDENCE: [&str; 3] = [
    "http-proxy-chain.pcap",
    "http-proxy-leak.pcap",
    "websocket-connect-tinyproxy.pcap",
];

/// Every single-file proxy sample split into its two legs with the back file's clock moved
/// (samples/split/split.json): the hops are the sample's own and the offset is found.
#[test]
fn split_proxy_samples_pair_as_in_one_file() {
    let n = split_samples(|what| !NO_CLOCK_FREE_EVIDENCE.contains(&what));
    // websocket-nginx-ok 1, -broken 1, http-nginx-keepalive-mix 8 relayed, apache 1,
    // haproxy 1, nginx-http11-no-upgrade 1, socks5 1.
    assert!(n >= 14, "{n} hops checked");
}

/// The splits above: their legs pair in one file by time and the proxy's address; split across
/// two captures (clocks shifted by 42 ms, -1.1 s, -0.75 s) they pair by the weaker evidence that
/// survives the hop, and the offset those pairs allow is the second file's correction. 2 hops
/// each.
#[test]
fn split_proxy_chain_pairs_as_in_one_file() {
    assert_eq!(
        split_samples(|what| NO_CLOCK_FREE_EVIDENCE.contains(&what)),
        6
    );
}

/// The `proxy.*` codes of a report's findings.
fn proxy_codes(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str())
        .filter(|c| c.starts_with("proxy."))
        .map(String::from)
        .collect()
}

/// Checks the splits `which` accepts; returns the hops checked.
fn split_samples(which: impl Fn(&str) -> bool) -> usize {
    let facts = read_json(samples_dir().join("split").join("split.json"));
    let mut checked = 0;
    for s in facts["splits"].as_array().into_iter().flatten() {
        if !which(s["split_of"].as_str().unwrap_or_default()) {
            continue;
        }
        let files: Vec<&Value> = s["files"].as_array().into_iter().flatten().collect();
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|f| {
                samples_dir()
                    .join("split")
                    .join(f["file"].as_str().unwrap_or_default())
            })
            .collect();
        let offsets: Vec<f64> = files
            .iter()
            .map(|f| f["clock_offset_s"].as_f64().expect("offset"))
            .collect();
        let r = report(&paths);
        let pairs = s["proxy_legs"].as_array().cloned().unwrap_or_default();
        let what = s["split_of"].as_str().unwrap_or_default().to_string();
        assert!(!pairs.is_empty(), "{what}: facts");
        let dropped: Vec<Value> = Vec::new();
        // What the one file says of these hops is the truth the split must give: the same
        // diagnosis on each hop, and no proxy finding the one file does not raise.
        let one = report(&[samples_dir().join(&what)]);
        let allowed = proxy_codes(&one);
        let n = check(&r, &offsets, &pairs, &dropped, &allowed, &what);
        assert_eq!(n, pairs.iter().filter(|p| !p["back"].is_null()).count());
        for hop in r["proxy_hops"].as_array().into_iter().flatten() {
            let front = leg(&r, &hop["front"]["transaction"]);
            let same = one["proxy_hops"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|h| leg(&one, &h["front"]["transaction"]) == front)
                .unwrap_or_else(|| panic!("{what}: {front:?} is no hop in the one file"));
            assert_eq!(hop["diagnosis"], same["diagnosis"], "{what}: {front:?}");
        }
        checked += n;
    }
    checked
}

/// The text report says which way the second host's clock was off, how it was found and how
/// sure it is.
#[test]
fn the_text_report_names_the_estimated_clock_offset() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "report",
            "samples/split-nginx-ws.front.pcap",
            "samples/split-nginx-ws.back-skewed.pcap",
            "--format",
            "text",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("[1] ") && l.contains("back-skewed.pcap:"))
        .expect("the back file's line");
    let secs: f64 = line
        .split("clock ")
        .nth(1)
        .and_then(|r| r.split(" s (").next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    // editcap -t +1.234 moved it: -1.234 puts it back.
    assert!((secs + 1.234).abs() <= 0.05, "{line}");
    assert!(
        line.contains("(proxy-pairs ± ") && line.contains(" pairs)"),
        "{line}"
    );
}

/// Where an endpoint of a split sample goes when its hosts have other addresses: the proxy's
/// front address (`listen`) and the client on the front network, the proxy's back address and
/// the upstream on the back network.
fn moved(ep: &str, listen: &str, upstreams: &[&str], front: bool) -> String {
    let port = ep.rsplit_once(':').map_or("", |(_, p)| p);
    let ip = if front {
        if ep == listen {
            "192.0.2.10"
        } else {
            "198.51.100.7"
        }
    } else if upstreams.contains(&ep) {
        "10.1.0.9"
    } else {
        "10.1.0.5"
    };
    format!("{ip}:{port}")
}

fn ones_sum(b: &[u8], mut s: u32) -> u16 {
    for c in b.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// A copy of an Ethernet/IPv4 capture with every TCP endpoint moved by `to` (checksums
/// written again).
fn rewrite(from: &std::path::Path, to_path: &std::path::Path, to: impl Fn(&str) -> String) {
    let mut src = hopscope::capture::file::FileSource::open(from).expect("open split file");
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    while let Ok(Some(p)) = src.next_packet() {
        assert_eq!(p.link.0, 1, "Ethernet");
        let mut f = p.data.to_vec();
        if f.len() >= 34 && f[12..14] == [8, 0] && f[23] == 6 {
            let ihl = usize::from(f[14] & 15) * 4;
            let (ip, tcp) = (14, 14 + ihl);
            let ep = |a: &[u8], port: &[u8]| {
                format!(
                    "{}.{}.{}.{}:{}",
                    a[0],
                    a[1],
                    a[2],
                    a[3],
                    u16::from_be_bytes([port[0], port[1]])
                )
            };
            let src_ep = ep(&f[ip + 12..ip + 16], &f[tcp..tcp + 2]);
            let dst_ep = ep(&f[ip + 16..ip + 20], &f[tcp + 2..tcp + 4]);
            for (at, e) in [(ip + 12, src_ep), (ip + 16, dst_ep)] {
                let m = to(&e);
                let addr: std::net::Ipv4Addr = m
                    .rsplit_once(':')
                    .map_or("", |(a, _)| a)
                    .parse()
                    .expect("v4");
                f[at..at + 4].copy_from_slice(&addr.octets());
            }
            f[ip + 10..ip + 12].copy_from_slice(&[0, 0]);
            let c = ones_sum(&f[ip..ip + ihl], 0);
            f[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
            let total = usize::from(u16::from_be_bytes([f[ip + 2], f[ip + 3]]));
            if f.len() >= ip + total {
                f[tcp + 16..tcp + 18].copy_from_slice(&[0, 0]);
                let mut pseudo = f[ip + 12..ip + 20].to_vec();
                pseudo.extend_from_slice(&[0, 6]);
                pseudo.extend_from_slice(&((ip + total - tcp) as u16).to_be_bytes());
                let pre = pseudo
                    .chunks(2)
                    .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
                    .sum();
                let c = ones_sum(&f[tcp..ip + total], pre);
                f[tcp + 16..tcp + 18].copy_from_slice(&c.to_be_bytes());
            }
        }
        let ns = p.ts.0;
        out.extend_from_slice(&(ns.div_euclid(1_000_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(ns.rem_euclid(1_000_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&p.orig_len.to_le_bytes());
        out.extend_from_slice(&f);
    }
    std::fs::write(to_path, out).expect("write moved copy");
}

/// The ten splits again, with the hosts on other networks (the client and the proxy's front
/// address on one, the proxy's back address and the upstream on another): what pairs must not
/// depend on the proxy having one address. The HTTP inside is unchanged, so a forwarding header
/// names the client's old address, as behind a NAT.
#[test]
fn split_proxy_samples_on_other_addresses_pair_too() {
    let facts = read_json(samples_dir().join("split").join("split.json"));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for s in facts["splits"].as_array().into_iter().flatten() {
        let what = s["split_of"].as_str().unwrap_or_default().to_string();
        let listen = s["proxy_listen"].as_str().expect("listen");
        let ups: Vec<&str> = s["upstreams"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let files: Vec<&Value> = s["files"].as_array().into_iter().flatten().collect();
        let mut paths = Vec::new();
        for f in &files {
            let name = f["file"].as_str().unwrap_or_default();
            let front = f["leg"] == "front";
            let to = dir.path().join(name);
            rewrite(&samples_dir().join("split").join(name), &to, |e| {
                moved(e, listen, &ups, front)
            });
            paths.push(to);
        }
        let offsets: Vec<f64> = files
            .iter()
            .map(|f| f["clock_offset_s"].as_f64().expect("offset"))
            .collect();
        let mv = |l: &Value, front: bool| -> Value {
            if l.is_null() {
                return Value::Null;
            }
            serde_json::json!({
                "client": moved(l["client"].as_str().unwrap_or_default(), listen, &ups, front),
                "server": moved(l["server"].as_str().unwrap_or_default(), listen, &ups, front),
                "index": l["index"],
            })
        };
        let pairs: Vec<Value> = s["proxy_legs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| serde_json::json!({"front": mv(&p["front"], true), "back": mv(&p["back"], false)}))
            .collect();
        let one = report(&[samples_dir().join(&what)]);
        let allowed = proxy_codes(&one);
        let r = report(&paths);
        let n = check(&r, &offsets, &pairs, &[], &allowed, &what);
        assert_eq!(
            n,
            pairs.iter().filter(|p| !p["back"].is_null()).count(),
            "{what}"
        );
        checked += n;
    }
    assert!(checked >= 20, "{checked} hops checked");
}
