//! Independent oracle: for every capture in `../shared/corpus`, hopscope's packet count and TCP
//! connection count agree with tshark's (`*.tshark.json`), or the difference is listed below
//! with the reason.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use crate::common::*;
use hopscope::model::http::TransactionRecord;

/// Captures where hopscope deliberately counts connections differently from tshark.
/// (file, hopscope connections, tshark tcp.stream count, why)
const EXPLAINED: &[(&str, usize, u64, &str)] = &[];

fn oracle(p: &std::path::Path) -> serde_json::Value {
    let stem = p.with_extension("tshark.json");
    let text = fs::read_to_string(&stem).unwrap_or_else(|e| panic!("{}: {e}", stem.display()));
    serde_json::from_str(&text).expect("oracle json")
}

#[test]
fn packet_and_connection_counts_match_tshark() {
    let files = corpus_files();
    let mut problems = Vec::new();
    let mut checked = 0;
    for p in &files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let o = oracle(p);
        let (run, err) = run_file(p);
        assert!(err.is_none(), "{name}: read error {err:?}");
        let tpk = o["packets"].as_u64().unwrap_or(0);
        let tst = o["tcp_streams"].as_u64().unwrap_or(0);
        if run.summary.packets != tpk {
            problems.push(format!(
                "{name}: packets {} vs tshark {tpk}",
                run.summary.packets
            ));
        }
        let ours = run.connections.len();
        match EXPLAINED.iter().find(|e| e.0 == name) {
            Some(&(_, want_ours, want_tshark, why)) => {
                assert_eq!(tst, want_tshark, "{name}: oracle changed; re-check: {why}");
                if ours != want_ours {
                    problems.push(format!(
                        "{name}: connections {ours}, explained value was {want_ours} ({why})"
                    ));
                }
            }
            None if ours as u64 != tst => {
                problems.push(format!("{name}: connections {ours} vs tshark {tst}"));
            }
            None => {}
        }
        assert_eq!(run.summary.undecodable, 0, "{name}: undecodable packets");
        checked += 1;
    }
    println!("checked {checked} corpus captures");
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// HTTP counts per capture: (requests, responses including interim ones).
/// The HTTP/1.x transactions: what tshark's `http` view holds (its HTTP/2 streams are in its
/// `http2` view, which the oracles do not summarise; `http2.rs` checks those streams).
fn http1(run: &AppRun) -> impl Iterator<Item = &TransactionRecord> {
    run.transactions.iter().filter(|t| t.stream_id.is_none())
}

fn http_counts(run: &AppRun) -> (u64, u64) {
    let req = http1(run).filter(|t| t.request.is_some()).count() as u64;
    let resp = http1(run)
        .map(|t| t.response.is_some() as u64 + t.interim.len() as u64)
        .sum();
    (req, resp)
}

/// Where hopscope's HTTP view deliberately differs from tshark's: (file, our requests, our
/// responses, tshark requests, tshark responses, why). Each is checked both ways, so a change
/// on either side shows up.
const HTTP_EXPLAINED: &[(&str, u64, u64, u64, u64, &str)] = &[
    (
        "http-connect-fragmented.pcap",
        2,
        2,
        2,
        1,
        "the GET inside the CONNECT tunnel gets a response whose head spans segments; tshark does not pair it inside the tunnel, hopscope does",
    ),
    (
        "http-connect-simple.pcap",
        2,
        2,
        2,
        1,
        "the response to the GET inside the CONNECT tunnel: tshark does not pair it, hopscope does (Suricata's test expects the GET tx inside the tunnel too)",
    ),
    (
        "http-evader-098.pcap",
        1,
        1,
        1,
        0,
        "chunked body without the final 0-chunk: tshark never completes the response; hopscope records it with body-truncated (Suricata logs it too)",
    ),
    (
        "http-pipeline-files-with-gap.pcap",
        3,
        3,
        3,
        1,
        "a capture gap inside a body: tshark completes 1 of 3 responses; hopscope absorbs the gap in the Content-Length body and pairs all 3 (Suricata logs 3 files, one truncated)",
    ),
    (
        "tcp-ooo-http.pcap",
        1,
        1,
        1,
        0,
        "out-of-order segments: tshark (reassemble_out_of_order off) completes no response; hopscope reorders (Suricata logs 1 transaction)",
    ),
    (
        "261-variant-01-chunk_2pow64_overflow.pcap",
        2,
        0,
        1,
        0,
        "after the invalid chunk size hopscope resynchronises and finds the smuggled GET, as Zeek's http.log does; tshark stops",
    ),
    (
        "261-variant-09-te_obs_fold.pcap",
        2,
        0,
        1,
        0,
        "obs-folded Transfer-Encoding read as chunked, then the smuggled GET, as Zeek's http.log does; tshark sees one request",
    ),
    (
        "bro.org.pcap",
        31,
        31,
        31,
        30,
        "a lost segment inside a response body: hopscope keeps the response (state partial, missing_bytes); tshark drops it",
    ),
    (
        "http_09.pcap",
        3,
        3,
        0,
        0,
        "HTTP/0.9 requests (no version) and their bare responses: tshark does not parse HTTP/0.9; Zeek's http.log has them",
    ),
];

/// Captures where the request targets differ from tshark's on purpose.
const TARGETS_EXPLAINED: &[(&str, &str)] = &[
    (
        "http-multiple-cl.pcap",
        "two Content-Length values (11 and 93): hopscope reads the first, so the next request is POST /evil.php; tshark reads the last and sees POST /bad.php. This ambiguity is the smuggling the http.content-length-conflict finding reports",
    ),
    (
        "connect-with-smtp.pcap",
        "the request line is `CONNECT host:25 / HTTP/1.0`: hopscope keeps the target as sent (`host:25 /`, as Zeek's http.log does); tshark drops the ` /`",
    ),
];

#[test]
fn http_requests_responses_methods_and_statuses_match_tshark() {
    let files = corpus_files();
    let mut problems = Vec::new();
    let mut checked = 0;
    for p in &files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let o = oracle(p);
        let h = &o["http"];
        let run = run_app(p, Default::default());
        let (req, resp) = http_counts(&run);
        let treq = h["requests"].as_u64().unwrap_or(0);
        let tresp = h["responses"].as_u64().unwrap_or(0);
        if let Some(&(_, our_q, our_r, t_q, t_r, why)) = HTTP_EXPLAINED.iter().find(|e| e.0 == name)
        {
            assert_eq!(
                (treq, tresp),
                (t_q, t_r),
                "{name}: oracle changed; re-check: {why}"
            );
            if (req, resp) != (our_q, our_r) {
                problems.push(format!(
                    "{name}: hopscope {req} requests/{resp} responses, explained value was {our_q}/{our_r} ({why})"
                ));
            }
            checked += 1;
            continue;
        }
        if (req, resp) != (treq, tresp) {
            problems.push(format!(
                "{name}: hopscope {req} requests/{resp} responses, tshark {treq}/{tresp}"
            ));
        }
        // Methods and statuses, as multisets.
        let mut ours_m: BTreeMap<String, u64> = BTreeMap::new();
        let mut ours_s: BTreeMap<String, u64> = BTreeMap::new();
        for t in http1(&run) {
            if let Some(r) = &t.request {
                *ours_m.entry(r.method.clone()).or_default() += 1;
            }
            if let Some(r) = &t.response {
                let s = r.status_raw.clone().unwrap_or_else(|| r.status.to_string());
                *ours_s.entry(s).or_default() += 1;
            }
            for i in &t.interim {
                *ours_s.entry(i.status.to_string()).or_default() += 1;
            }
        }
        let as_map = |v: &serde_json::Value| -> BTreeMap<String, u64> {
            v.as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default()
        };
        if ours_m != as_map(&h["by_method"]) {
            problems.push(format!(
                "{name}: methods {ours_m:?} vs tshark {}",
                h["by_method"]
            ));
        }
        let mut ts = as_map(&h["by_status"]);
        // tshark reads the status `2XX` as 2; hopscope keeps it as sent (Suricata's
        // status_string says 2XX too).
        if name == "http1-noint-status.pcap" && ts.remove("2") == Some(1) {
            ts.insert("2XX".into(), 1);
        }
        if ours_s != ts {
            problems.push(format!("{name}: statuses {ours_s:?} vs tshark {ts:?}"));
        }
        // Targets exactly as sent.
        let mut ours_t: Vec<(String, String)> = http1(&run)
            .filter_map(|t| t.request.as_ref())
            .map(|r| (r.method.clone(), r.target.clone()))
            .collect();
        let mut th_t: Vec<(String, String)> = h["transactions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|t| t["method"].is_string())
                    .map(|t| {
                        (
                            t["method"].as_str().unwrap_or_default().to_string(),
                            t["uri"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        ours_t.sort();
        th_t.sort();
        // tshark takes the version of `OPTIONS HTTP/1.1` for the target; hopscope (like
        // Zeek) records an empty target and the version.
        for t in th_t.iter_mut() {
            if name == "methods.pcap" && t.1 == "HTTP/1.1" {
                t.1 = String::new();
            }
        }
        th_t.sort();
        if let Some((_, why)) = TARGETS_EXPLAINED.iter().find(|e| e.0 == name) {
            assert_ne!(
                ours_t, th_t,
                "{name}: now agrees with tshark; drop the explanation: {why}"
            );
            checked += 1;
            continue;
        }
        if ours_t != th_t {
            problems.push(format!(
                "{name}: targets differ: ours {ours_t:?} tshark {th_t:?}"
            ));
        }
        checked += 1;
    }
    println!("checked {checked} corpus captures");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Zeek's http.log baselines: every request Zeek logged (method, uri) is one hopscope found.
#[test]
fn http_requests_match_zeek_http_logs() {
    let dir = corpus_dir();
    let mut problems = Vec::new();
    let mut checked = 0;
    let Ok(rd) = fs::read_dir(dir.join("zeek")) else {
        return;
    };
    let mut logs: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".zeek-http.log"))
        .collect();
    logs.sort();
    for log in logs {
        let text = fs::read_to_string(&log).unwrap_or_default();
        let mut fields: Vec<String> = Vec::new();
        let mut want: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if let Some(f) = line.strip_prefix("#fields\t") {
                fields = f.split('\t').map(str::to_string).collect();
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if fields.is_empty() {
                // A zeek-cut baseline: the first line names the columns.
                fields = cols.iter().map(|s| s.to_string()).collect();
                continue;
            }
            let get = |n: &str| {
                fields
                    .iter()
                    .position(|f| f == n)
                    .and_then(|i| cols.get(i))
                    .map(|s| s.to_string())
            };
            let (Some(m), Some(u)) = (get("method"), get("uri")) else {
                continue;
            };
            if m == "-" {
                continue;
            }
            let u = if u == "(empty)" { String::new() } else { u };
            want.push((m, u));
        }
        let stem = log.to_string_lossy().replace(".zeek-http.log", "");
        let pcap = [".pcap", ".pcapng"]
            .iter()
            .map(|e| PathBuf::from(format!("{stem}{e}")))
            .find(|p| p.exists());
        let Some(pcap) = pcap else { continue };
        let run = run_app(&pcap, Default::default());
        let mut got: Vec<(String, String)> = run
            .transactions
            .iter()
            .filter_map(|t| t.request.as_ref())
            .map(|r| (r.method.clone(), r.target.clone()))
            .collect();
        got.sort();
        want.sort();
        let name = pcap
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        // Zeek logs garbage it could not parse as "-" and sometimes keeps a bare method;
        // hopscope may find more requests (HTTP/0.9 with odd methods), never fewer.
        let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
        if !missing.is_empty() {
            problems.push(format!("{name}: Zeek logged {missing:?}, hopscope did not"));
        }
        checked += 1;
    }
    println!("checked {checked} Zeek http.log baselines");
    assert!(checked >= 10, "only {checked} baselines");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Where hopscope's WebSocket frames differ from tshark's on purpose: (file, why).
const WS_EXPLAINED: &[(&str, &str)] = &[];

/// WebSocket frames (FIN, RSV, opcode, mask bit, length) agree with tshark's on every corpus
/// capture. tshark reports `websocket.payload_length` as the 7-bit field (126 and 127 mean an
/// extended length follows), so lengths are compared in that form.
#[test]
fn websocket_frames_match_tshark() {
    let files = corpus_files();
    let mut problems = Vec::new();
    let mut checked = 0;
    for p in &files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let o = oracle(p);
        let want_list = o["websocket"]["frames_list"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut cfg = hopscope::analyzers::AnalyzerConfig::default();
        cfg.ws.frames = true;
        let run = run_app(p, cfg);
        let mut got: Vec<(u64, u64, u64, u64, u64)> = run
            .messages
            .iter()
            .flat_map(|m| m.frame_list.clone().unwrap_or_default())
            .map(|f| {
                (
                    u64::from(f.fin),
                    u64::from(f.rsv),
                    u64::from(f.opcode),
                    u64::from(f.masked),
                    f.length,
                )
            })
            .collect();
        let mut want: Vec<(u64, u64, u64, u64, u64)> = want_list
            .iter()
            .map(|f| {
                let g = |k: &str| f[k].as_u64().unwrap_or(0);
                (
                    g("fin"),
                    g("rsv"),
                    g("opcode"),
                    g("masked"),
                    g("payload_length"),
                )
            })
            .collect();
        if want.is_empty() && got.is_empty() {
            continue;
        }
        got.sort();
        want.sort();
        // Matched frame by frame; a tshark length of 126 or 127 may be the 7-bit length field
        // (an extended length follows), which any length of 126 or more matches.
        let mut left = got.clone();
        let mut unmatched = Vec::new();
        for w in &want {
            let hit = left.iter().position(|g| {
                g.0 == w.0
                    && g.1 == w.1
                    && g.2 == w.2
                    && g.3 == w.3
                    && (g.4 == w.4 || ((w.4 == 126 || w.4 == 127) && g.4 >= 126))
            });
            match hit {
                Some(i) => {
                    left.remove(i);
                }
                None => unmatched.push(*w),
            }
        }
        let agree = left.is_empty() && unmatched.is_empty();
        let explained = WS_EXPLAINED.iter().find(|e| e.0 == name);
        match explained {
            Some((_, why)) => assert!(!agree, "{name}: now agrees; drop the explanation: {why}"),
            None if !agree => problems.push(format!(
                "{name}: {} frames vs tshark {}\n  only ours  {left:?}\n  only tshark {unmatched:?}",
                got.len(),
                want.len()
            )),
            None => {}
        }
        checked += 1;
    }
    println!("checked {checked} captures with WebSocket frames");
    assert!(checked >= 10, "{checked}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Zeek's websocket.log baselines: host, uri, chosen subprotocol, offered subprotocols and
/// offered extensions of every conversation.
#[test]
fn websocket_handshakes_match_zeek() {
    let dir = corpus_dir();
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut logs: Vec<PathBuf> = fs::read_dir(dir.join("zeek"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".zeek-websocket.log"))
                .collect()
        })
        .unwrap_or_default();
    logs.sort();
    for log in logs {
        let text = fs::read_to_string(&log).unwrap_or_default();
        let mut fields: Vec<String> = Vec::new();
        let mut want = Vec::new();
        for line in text.lines() {
            if let Some(f) = line.strip_prefix("#fields\t") {
                fields = f.split('\t').map(str::to_string).collect();
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cols: Vec<String> = line.split('\t').map(str::to_string).collect();
            if fields.is_empty() {
                fields = cols;
                continue;
            }
            let get = |n: &str| {
                fields
                    .iter()
                    .position(|f| f == n)
                    .and_then(|i| cols.get(i).cloned())
                    .filter(|v| v != "-")
            };
            want.push((
                get("host"),
                get("uri"),
                get("subprotocol"),
                get("client_protocols"),
                get("client_extensions"),
            ));
        }
        let pcap = PathBuf::from(
            log.to_string_lossy()
                .replace(".zeek-websocket.log", ".pcap"),
        );
        if !pcap.exists() {
            continue;
        }
        let run = run_app(&pcap, Default::default());
        let mut got: Vec<_> = run
            .websockets
            .iter()
            .map(|w| {
                let h = &w.handshake;
                let join = |v: &[String]| (!v.is_empty()).then(|| v.join(","));
                (
                    h.host.clone(),
                    h.target.clone(),
                    h.subprotocol.clone(),
                    join(&h.subprotocols_offered),
                    join(&h.extensions_offered),
                )
            })
            .collect();
        got.sort();
        want.sort();
        if got != want {
            problems.push(format!("{}: ours {got:?}\n  zeek {want:?}", pcap.display()));
        }
        checked += 1;
    }
    assert!(checked >= 5, "{checked}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
