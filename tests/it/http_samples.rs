//! HTTP transactions on the bundled captures against what the client programs themselves logged
//! (`samples/expected.json` → `transactions`, written by `samples/tools/httpwire.py` from curl's
//! `--trace` or the raw client's log, never from tshark), and the exact set of findings each
//! capture must raise.

use std::collections::BTreeSet;
use std::fs;

use crate::common::*;
use base64::Engine as _;
use hopscope::model::TransactionRecord;
use hopscope::model::http::{BodyRecord, Headers};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn facts() -> Vec<Value> {
    let p = samples_dir().join("expected.json");
    let v: Value =
        serde_json::from_str(&fs::read_to_string(p).expect("expected.json")).expect("json");
    v["captures"].as_array().cloned().expect("captures")
}

fn sha(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn body_bytes(b: &BodyRecord) -> Vec<u8> {
    if let Some(p) = &b.preview {
        return p.as_bytes().to_vec();
    }
    b.preview_b64
        .as_ref()
        .map(|p| {
            base64::engine::general_purpose::STANDARD
                .decode(p)
                .expect("b64")
        })
        .unwrap_or_default()
}

fn framing_name(b: &BodyRecord) -> String {
    serde_json::to_value(b.framing)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn header(hs: &Headers, name: &str) -> Option<String> {
    hs.get(name)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

fn check(want: &Value, got: &TransactionRecord, bad: &mut Vec<String>) {
    let mut ne = |what: &str, a: String, b: String| {
        if a != b {
            bad.push(format!("{what}: hopscope {a:?}, client logged {b:?}"));
        }
    };
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let u = |v: &Value| v.as_u64().map(|x| x.to_string()).unwrap_or_default();
    let Some(req) = &got.request else {
        bad.push("no request".into());
        return;
    };
    ne("method", req.method.clone(), s(&want["method"]));
    ne("target", req.target.clone(), s(&want["target"]));
    ne("version", req.version.to_string(), s(&want["version"]));
    // What the client logged sending: a forward-proxy request is absolute-form or CONNECT.
    let logged = s(&want["target"]);
    let to_proxy =
        logged.to_ascii_lowercase().starts_with("http://") || s(&want["method"]) == "CONNECT";
    ne(
        "proxy_request",
        req.proxy_request.to_string(),
        to_proxy.to_string(),
    );
    ne(
        "request offset",
        req.at.stream_offset.to_string(),
        u(&want["request_offset"]),
    );
    ne(
        "request head bytes",
        req.at.head_bytes.to_string(),
        u(&want["request_head_bytes"]),
    );
    ne(
        "request body bytes",
        req.body.length.to_string(),
        u(&want["request_body_bytes"]),
    );
    ne(
        "request body wire bytes",
        req.body.wire_length.to_string(),
        u(&want["request_body_wire_bytes"]),
    );
    ne(
        "request body sha256",
        sha(&body_bytes(&req.body)),
        s(&want["request_body_sha256"]),
    );
    let interim: Vec<u64> = got.interim.iter().map(|i| u64::from(i.status)).collect();
    let want_interim: Vec<u64> = want["interim"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    ne(
        "interim",
        format!("{interim:?}"),
        format!("{want_interim:?}"),
    );
    let Some(resp) = &got.response else {
        if !want["status"].is_null() {
            bad.push("no response".into());
        }
        return;
    };
    ne("status", resp.status.to_string(), u(&want["status"]));
    ne("reason", resp.reason.clone(), s(&want["reason"]));
    ne(
        "response version",
        resp.version.to_string(),
        s(&want["response_version"]),
    );
    ne(
        "final response offset",
        resp.at.stream_offset.to_string(),
        u(&want["final_response_offset"]),
    );
    ne(
        "response head bytes",
        resp.at.head_bytes.to_string(),
        u(&want["response_head_bytes"]),
    );
    ne(
        "response framing",
        framing_name(&resp.body),
        s(&want["response_framing"]),
    );
    ne(
        "response body wire bytes",
        resp.body.wire_length.to_string(),
        u(&want["response_body_wire_bytes"]),
    );
    ne(
        "response body payload bytes",
        resp.body.length.to_string(),
        u(&want["response_body_payload_bytes"]),
    );
    ne(
        "response body decoded bytes",
        resp.body
            .decoded_length
            .unwrap_or(resp.body.length)
            .to_string(),
        u(&want["response_body_decoded_bytes"]),
    );
    ne(
        "response body sha256 (decoded)",
        sha(&body_bytes(&resp.body)),
        s(&want["response_body_sha256"]),
    );
    ne(
        "content-encoding",
        resp.body.content_encoding.join(", "),
        s(&want["content_encoding"]),
    );
    ne(
        "transfer-encoding",
        resp.body.transfer_encoding.join(", "),
        s(&want["transfer_encoding"]),
    );
    if let Some(sizes) = want["chunk_sizes"].as_array() {
        // The logged sizes end with the zero-size last chunk, which is not counted.
        ne(
            "chunks",
            resp.body.chunks.unwrap_or(0).to_string(),
            (sizes.len() - 1).to_string(),
        );
        let exts: Vec<String> = want["chunk_extensions"]
            .as_array()
            .map(|a| a.iter().map(|e| s(&e["extension"])).collect())
            .unwrap_or_default();
        ne(
            "chunk extensions",
            format!("{:?}", resp.body.chunk_extensions),
            format!("{exts:?}"),
        );
        let trailers: Vec<(String, String)> = resp
            .body
            .trailers
            .iter()
            .map(|h| (h.name_str().into_owned(), h.value_str().into_owned()))
            .collect();
        let want_tr: Vec<(String, String)> = want["trailers"]
            .as_array()
            .map(|a| a.iter().map(|p| (s(&p[0]), s(&p[1]))).collect())
            .unwrap_or_default();
        ne("trailers", format!("{trailers:?}"), format!("{want_tr:?}"));
    }
    if let Some(up) = want["upgrade"].as_str() {
        ne(
            "switched to",
            got.switched_to
                .as_ref()
                .map(|s| s.protocol.clone())
                .unwrap_or_default(),
            up.to_ascii_lowercase(),
        );
    }
    if let Some(cl) = want["content_length"].as_u64() {
        ne(
            "Content-Length",
            header(&resp.headers, "content-length")
                .unwrap_or_default()
                .to_string(),
            cl.to_string(),
        );
    }
}

#[test]
fn transactions_match_what_the_clients_logged() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for f in facts() {
        let Some(want) = f["transactions"].as_array() else {
            continue;
        };
        let name = f["file"].as_str().unwrap_or_default().to_string();
        let run = run_app_bodies(&samples_dir().join(&name));
        for w in want {
            let client = w["client"].as_str().unwrap_or_default();
            let server = w["server"].as_str().unwrap_or_default();
            let index = w["index"].as_u64().unwrap_or(0);
            let got = run.transactions.iter().find(|t| {
                t.client.to_string() == client
                    && t.server.to_string() == server
                    && u64::from(t.index) == index
            });
            let Some(got) = got else {
                problems.push(format!(
                    "{name}: no transaction {client} -> {server} #{index}"
                ));
                continue;
            };
            let mut bad = Vec::new();
            check(w, got, &mut bad);
            for b in bad {
                problems.push(format!("{name} {client} #{index}: {b}"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} transactions checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Exactly these finding codes (warning or error) on each sample; everything else is clean.
const EXPECTED_FINDINGS: &[(&str, &[&str])] = &[
    ("socks5-auth.pcap", &["socks.cleartext-credentials"]),
    (
        "http-smuggling.pcap",
        &[
            "http.bare-lf",
            "http.cl-and-te",
            "http.content-length-conflict",
            "http.lenient-parse",
            "http.obs-fold",
            "http.space-before-colon",
            "http.te-not-chunked",
        ],
    ),
    ("http-proxy-auth.pcap", &["http.cleartext-credentials"]),
    // The semantics step's warnings, each the sample's recorded purpose (samples/README.md):
    // cookies set and sent over plain HTTP (cookie.cleartext), the sessionid without HttpOnly,
    // the __Host-bad cookie with a Domain that curl rejected, the /loop redirect loop that
    // curl's --max-redirs stopped, the preflight that does not allow DELETE and the
    // credentialed GET answered with `*` (both "blocked" in the sample's facts).
    (
        "http-cookies-auth-redirect.pcap",
        &[
            "cookie.cleartext",
            "cookie.host-prefix-with-domain",
            "cookie.session-without-httponly",
            "cors.method-not-allowed",
            "cors.wildcard-with-credentials",
            "http.cleartext-credentials",
            "redirect.loop",
        ],
    ),
    // Escape sequences in the target, a header name and value, the reason phrase (issue 19).
    (
        "http-hostile-escapes.pcap",
        &[
            "http.control-in-start-line",
            "http.invalid-field-name",
            "http.invalid-field-value",
            "http.lenient-parse",
        ],
    ),
    // Content-Length repeated or differing, sent to nginx and http.server (issue 19).
    (
        "http-cl-servers-disagree.pcap",
        &[
            "http.content-length-conflict",
            "http.content-length-repeated",
        ],
    ),
    // The same app's cookies (issue 19's one server under two names): set over plain HTTP,
    // the sessionid without HttpOnly, the __Host-bad cookie with a Domain.
    (
        "http-cookies-two-names.pcap",
        &[
            "cookie.cleartext",
            "cookie.host-prefix-with-domain",
            "cookie.session-without-httponly",
        ],
    ),
    // What headless Chromium blocked: the preflight without X-Hopscope in
    // Access-Control-Allow-Headers, and the credentialed fetch answered with `*`.
    (
        "browser-cors.pcap",
        &["cors.header-not-allowed", "cors.wildcard-with-credentials"],
    ),
    ("tcp-overlap-conflict.pcap", &["tcp.overlap-conflict"]),
    // A proxy that dropped the upgrade: the refusal on both legs, and the correlator's
    // diagnosis of the proxy (checked against the proxies' logs in tests/it/hops.rs).
    (
        "websocket-nginx-broken.pcap",
        &["proxy.upgrade-dropped", "ws.upgrade-refused"],
    ),
    // The backend's 426 passed on by the proxy.
    (
        "websocket-nginx-http11-no-upgrade.pcap",
        &["proxy.upgrade-dropped", "ws.upgrade-refused"],
    ),
    (
        "websocket-apache-broken.pcap",
        &["proxy.upgrade-dropped", "ws.upgrade-refused"],
    ),
    // The client leg alone of a split capture (split-nginx-ws.*): the refusal of /ws-broken/
    // reaches the client, but the back leg that shows nginx dropped the Upgrade is in another
    // file (split-nginx-ws.back.pcap), so no proxy diagnosis from this file alone.
    ("split-nginx-ws.front.pcap", &["ws.upgrade-refused"]),
    // The same, captured on the client behind a NAT (and a copy with the clock moved).
    ("split-nginx-nat.client.pcap", &["ws.upgrade-refused"]),
    (
        "split-nginx-nat.client-skewed.pcap",
        &["ws.upgrade-refused"],
    ),
    // The second WebSocket of the page: the server refuses its Origin with 403 (the accepted
    // cross-origin one is cors.websocket-any-origin, an info: not counted here).
    ("websocket-browser.pcap", &["ws.upgrade-refused"]),
    // Proxy-Authorization: Basic sent in the clear (to the proxies and, leaked, upstream),
    // and the proxy that forwarded it with TE and another hop-by-hop field (tests/it/hops.rs).
    (
        "http-proxy-leak.pcap",
        &[
            "http.cleartext-credentials",
            "proxy.hop-by-hop-forwarded",
            "proxy.proxy-authorization-forwarded",
            "proxy.te-forwarded",
        ],
    ),
    // Damaged files: read up to the damage, which the report names.
    ("corrupt-garbage.pcap", &["capture.incomplete"]),
    ("corrupt-truncated.pcap", &["capture.incomplete"]),
    (
        "websocket-bad.pcap",
        &[
            "ws.accept-mismatch",
            "ws.close-payload-one-byte",
            "ws.continuation-without-start",
            "ws.control-fragmented",
            "ws.control-too-long",
            "ws.data-inside-fragmented",
            "ws.frame-after-close",
            "ws.invalid-close-code",
            "ws.invalid-utf8",
            "ws.masked-server-frame",
            "ws.non-minimal-length",
            "ws.reserved-opcode",
            "ws.rsv-without-extension",
            "ws.subprotocol-not-offered",
            "ws.unmasked-client-frame",
        ],
    ),
    (
        "websocket-both-bad.pcap",
        &["ws.masked-server-frame", "ws.unmasked-client-frame"],
    ),
];

#[test]
fn findings_are_exactly_the_expected_ones_and_clean_samples_are_silent() {
    let mut problems = Vec::new();
    for f in facts() {
        let name = f["file"].as_str().unwrap_or_default().to_string();
        let run = run_app(&samples_dir().join(&name), Default::default());
        let got: BTreeSet<String> = run
            .findings
            .iter()
            .filter(|x| x.severity() >= hopscope::model::Severity::Warning)
            .map(|x| x.code.name.to_string())
            .collect();
        let want: BTreeSet<String> = EXPECTED_FINDINGS
            .iter()
            .find(|e| e.0 == name)
            .map(|e| e.1.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        if got != want {
            problems.push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn each_smuggling_case_gets_its_own_finding() {
    let f = facts()
        .into_iter()
        .find(|f| f["file"] == "http-smuggling.pcap")
        .expect("listed");
    let run = run_app(
        &samples_dir().join("http-smuggling.pcap"),
        Default::default(),
    );
    let want: &[(&str, &[&str])] = &[
        ("cl-and-te", &["http.cl-and-te"]),
        ("two-content-lengths", &["http.content-length-conflict"]),
        ("obs-fold", &["http.obs-fold"]),
        ("space-before-colon", &["http.space-before-colon"]),
        ("bare-lf", &["http.bare-lf"]),
        ("te-chunked-not-final", &["http.te-not-chunked"]),
        (
            "te-space-before-colon",
            &["http.space-before-colon", "http.cl-and-te"],
        ),
    ];
    for case in f["details"]["smuggling_cases"].as_array().expect("cases") {
        let name = case["name"].as_str().unwrap_or_default();
        let client = case["client"].as_str().unwrap_or_default();
        let t = run
            .transactions
            .iter()
            .find(|t| t.client.to_string() == client)
            .unwrap_or_else(|| panic!("{name}: no transaction from {client}"));
        let status = t.response.as_ref().map(|r| u64::from(r.status));
        assert_eq!(status, case["response_status"].as_u64(), "{name}");
        let codes = want
            .iter()
            .find(|w| w.0 == name)
            .map(|w| w.1)
            .expect("case known");
        for c in codes.iter() {
            assert!(
                t.findings.contains(c),
                "{name}: {c} missing from {:?}",
                t.findings
            );
        }
    }
}

#[test]
fn credentials_never_appear_unmasked() {
    let f = facts()
        .into_iter()
        .find(|f| f["file"] == "http-proxy-auth.pcap")
        .expect("listed");
    let secrets: Vec<String> = f["details"]["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .flat_map(|c| {
            [
                c["base64"].as_str().unwrap_or_default().to_string(),
                c["password"].as_str().unwrap_or_default().to_string(),
            ]
        })
        .filter(|s| s.len() >= 6)
        .collect();
    assert!(!secrets.is_empty());
    for format in ["json", "ndjson", "text"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopscope"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "report",
                "samples/http-proxy-auth.pcap",
                "--format",
                format,
                "--bodies",
            ])
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("masked"),
            "{format}: the masked value is shown"
        );
        for s in &secrets {
            // The base64 form in full, and the base64 of the password alone.
            assert!(!text.contains(s.as_str()), "{format}: {s} appears");
        }
    }
}

#[test]
fn target_forms() {
    use hopscope::model::http::target_form;
    for (m, t, want) in [
        ("GET", "/a?b", "origin"),
        ("GET", "http://h/a", "absolute"),
        ("GET", "HTTPS://h:8443", "absolute"),
        ("GET", "ftp://h/x", "absolute"),
        ("CONNECT", "h:443", "authority"),
        ("CONNECT", "[::1]:443", "authority"),
        ("OPTIONS", "*", "asterisk"),
        ("GET", "index.html", "other"),
        ("GET", "", "other"),
    ] {
        assert_eq!(target_form(m.as_bytes(), t.as_bytes()), want, "{m} {t}");
    }
    // On the forward-proxy sample: the proxied GETs and the CONNECT are proxy requests, the
    // GETs inside the tunnel are not.
    let run = run_app(&samples_dir().join("http-proxy.pcap"), Default::default());
    let forms: Vec<(&str, &str, bool)> = run
        .transactions
        .iter()
        .filter_map(|t| t.request.as_ref())
        .map(|r| (r.method.as_str(), r.target_form, r.proxy_request))
        .collect();
    assert!(forms.contains(&("GET", "absolute", true)), "{forms:?}");
    assert!(forms.contains(&("CONNECT", "authority", true)), "{forms:?}");
    assert!(forms.contains(&("GET", "origin", false)), "{forms:?}");
}

/// Issue 19: Content-Length sent twice with one value, as a list, with two values, and the
/// controls, to nginx and to Python's http.server, which disagree (nginx answers 400,
/// http.server 200, or drops the connection on the list): every ambiguous request is flagged
/// with its specific code, the controls with none, and each answer is the one the client got
/// (the sample's facts, from the raw client's log).
#[test]
fn repeated_content_length_flagged_where_real_servers_disagree() {
    let file = "http-cl-servers-disagree.pcap";
    let shows = sample_fact(file)["shows"]
        .as_str()
        .expect("shows")
        .to_string();
    let lines = shows.split("Status lines: ").nth(1).expect("status lines");
    let run = run_app(&samples_dir().join(file), Default::default());
    let mut disagree = 0;
    let mut seen = 0;
    for entry in lines.split("; ") {
        // "twice to nginx from port 40301: HTTP/1.1 400 Bad Request"
        let (what, answer) = entry.split_once(": ").expect("an answer");
        let mut w = what.split_whitespace();
        let case = w.next().expect("case");
        let port: u16 = w.last().and_then(|p| p.parse().ok()).expect("port");
        let status: Option<u16> = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok());
        let t = run
            .transactions
            .iter()
            .find(|t| t.client.port == port)
            .unwrap_or_else(|| panic!("no transaction from port {port}"));
        assert_eq!(t.response.as_ref().map(|r| r.status), status, "{entry}");
        let conn = t.connection;
        let codes: Vec<&str> = run
            .findings
            .iter()
            .filter(|f| {
                f.connection == Some(conn) && f.code.name.starts_with("http.content-length")
            })
            .map(|f| f.code.name)
            .collect();
        let want: &[&str] = match case {
            "one" | "chunked" => &[],
            "twice" | "list" => &["http.content-length-repeated"],
            "differ" => &["http.content-length-conflict"],
            other => panic!("unknown case {other}"),
        };
        assert_eq!(codes, want, "{entry}");
        if case == "twice" || case == "list" {
            disagree += usize::from(status != Some(200));
        }
        seen += 1;
    }
    assert_eq!(seen, 10);
    // nginx refused both forms of the repeated value; http.server did not.
    assert_eq!(disagree, 3, "{lines}");
}
