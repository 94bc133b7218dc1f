//! The command line as a user meets it: formats, output files, errors and exit statuses.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use crate::common::*;

fn hopscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hopscope"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// A small valid pcap written from a scripted exchange.
pub(crate) fn write_pcap(
    path: &std::path::Path,
    pkts: &[(hopscope::base::Timestamp, hopscope::base::LinkType, Vec<u8>)],
) {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&0i32.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for (ts, _, d) in pkts {
        let secs = ts.0 / 1_000_000_000;
        let usec = (ts.0 % 1_000_000_000) / 1000;
        f.extend_from_slice(&(secs as u32).to_le_bytes());
        f.extend_from_slice(&(usec as u32).to_le_bytes());
        f.extend_from_slice(&(d.len() as u32).to_le_bytes());
        f.extend_from_slice(&(d.len() as u32).to_le_bytes());
        f.extend_from_slice(d);
    }
    std::fs::write(path, f).expect("write pcap");
}

fn sample_pcap(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let mut s = Script::new();
    exchange(
        &mut s,
        C,
        S,
        1000,
        5000,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    );
    exchange(
        &mut s,
        ([192, 0, 2, 1], 40001),
        S,
        7,
        9,
        b"second",
        b"reply",
    );
    let p = dir.path().join("two.pcap");
    write_pcap(&p, &s.pkts);
    p
}

#[test]
fn json_document_has_the_documented_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = sample_pcap(&dir);
    let out = hopscope()
        .args(["report"])
        .arg(&p)
        .args(["--format", "json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["schema_version"], 1);
    let cap = &v["capture"];
    for k in [
        "source",
        "packets",
        "bytes",
        "link_types",
        "first_ts",
        "last_ts",
        "truncated",
        "undecodable",
        "dropped",
    ] {
        assert!(cap.get(k).is_some(), "capture.{k} missing");
    }
    assert_eq!(cap["packets"], 16);
    assert_eq!(cap["format"], "pcap");
    assert!(cap["dropped"].is_null());
    let conns = v["connections"].as_array().expect("connections");
    assert_eq!(conns.len(), 2);
    let c = &conns[0];
    for k in [
        "id",
        "client",
        "server",
        "start",
        "end",
        "handshake",
        "close",
        "client_to_server",
        "server_to_client",
    ] {
        assert!(c.get(k).is_some(), "connection.{k} missing");
    }
    assert_eq!(c["client"], "192.0.2.1:40000");
    assert_eq!(c["server"], "198.51.100.2:80");
    assert_eq!(c["close"], "fin");
    assert_eq!(c["handshake"], true);
    assert_eq!(c["client_to_server"]["bytes"], 27);
    for k in [
        "packets",
        "bytes",
        "gaps",
        "missing_bytes",
        "retransmitted",
        "out_of_order",
        "overlapping",
    ] {
        assert!(
            c["server_to_client"].get(k).is_some(),
            "direction.{k} missing"
        );
    }
    assert_eq!(conns[1]["id"], 1);
    assert!(v["findings"].as_array().expect("findings").is_empty());
}

#[test]
fn ndjson_streams_typed_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = sample_pcap(&dir);
    let out = hopscope()
        .args(["report"])
        .arg(&p)
        .args(["--format", "ndjson"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(
        lines.first().map(|l| l["type"].clone()),
        Some("start".into())
    );
    assert_eq!(
        lines.first().map(|l| l["schema_version"].clone()),
        Some(1.into())
    );
    assert_eq!(
        lines.last().map(|l| l["type"].clone()),
        Some("capture".into())
    );
    assert_eq!(lines.last().map(|l| l["packets"].clone()), Some(16.into()));
    assert_eq!(
        lines.iter().filter(|l| l["type"] == "connection").count(),
        2
    );
}

#[test]
fn output_file_and_text_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = sample_pcap(&dir);
    let o = dir.path().join("r.json");
    let st = hopscope()
        .args(["report"])
        .arg(&p)
        .arg("-o")
        .arg(&o)
        .status()
        .expect("run");
    assert!(st.success());
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&o).expect("report")).expect("json");
    assert_eq!(v["connections"].as_array().map(|a| a.len()), Some(2));

    let out = hopscope().arg(&p).output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("192.0.2.1:40000 -> 198.51.100.2:80"),
        "{text}"
    );
    assert!(text.contains("Connections (2)"), "{text}");
    assert!(text.contains("connections: 2 (fin 2)"), "{text}");

    // `open` is the terminal UI; into a pipe it is the same text summary.
    let open = hopscope().arg("open").arg(&p).output().expect("run");
    assert!(open.status.success());
    assert_eq!(String::from_utf8_lossy(&open.stdout), text);
}

/// `-o -` is standard output, as for most tools (and as `-` is standard input): no file named
/// `-` is created, and the bytes are the ones written without `-o`.
#[test]
fn dash_output_is_standard_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = sample_pcap(&dir);
    let plain = hopscope()
        .args(["report", "--format", "ndjson", "--no-progress"])
        .arg(&p)
        .output()
        .expect("run");
    assert!(plain.status.success());
    assert!(!plain.stdout.is_empty());
    let dash = hopscope()
        .current_dir(dir.path())
        .args(["report", "--format", "ndjson", "--no-progress", "-o", "-"])
        .arg(&p)
        .output()
        .expect("run");
    assert!(dash.status.success());
    assert_eq!(dash.stdout, plain.stdout);
    assert!(!dir.path().join("-").exists(), "a file named - was written");
}

#[test]
fn truncated_file_reports_what_was_read_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = sample_pcap(&dir);
    let full = std::fs::read(&p).expect("read");
    let cut = dir.path().join("cut.pcap");
    // Cut in the middle of the last record's data.
    std::fs::write(&cut, &full[..full.len() - 10]).expect("write");
    let out = hopscope().args(["report"]).arg(&cut).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("offset"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report still written");
    assert_eq!(v["capture"]["packets"], 15);
    assert!(
        v["capture"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("offset"))
    );
    assert!(
        v["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["code"] == "capture.incomplete"))
    );
}

/// Runs `hopscope report FILE --format json -o OUT` and returns the exit status, stderr and the
/// report written to OUT.
fn report_to_file(file: &std::path::Path) -> (Option<i32>, String, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("report.json");
    let out = hopscope()
        .args(["report", "--format", "json", "-o"])
        .arg(&out_path)
        .arg(file)
        .output()
        .expect("run");
    let text = std::fs::read(&out_path).expect("-o written");
    let v = serde_json::from_slice(&text).expect("a JSON report at -o");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        v,
    )
}

/// What every report of a capture that could not be read at all says: the error in
/// `capture.error` and one `capture.incomplete` finding, nothing analysed.
fn assert_unreadable(v: &serde_json::Value, error_has: &str) {
    let e = v["capture"]["error"].as_str().unwrap_or_default();
    assert!(e.contains(error_has), "capture.error: {e}");
    assert_eq!(v["capture"]["packets"], 0);
    let findings = v["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["code"], "capture.incomplete");
    assert_eq!(findings[0]["severity"], "error");
    let m = findings[0]["message"].as_str().unwrap_or_default();
    assert!(m.ends_with("nothing could be analysed"), "{m}");
}

#[test]
fn not_a_capture_exits_2_with_a_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("notes.txt");
    std::fs::write(&p, b"hello, this is not a capture file at all\n").expect("write");
    let (code, err, v) = report_to_file(&p);
    assert_eq!(code, Some(2));
    assert!(err.contains("not a pcap or pcapng"), "{err}");
    assert!(!err.contains("covers everything before"), "{err}");
    assert_unreadable(&v, "not a pcap or pcapng file (first bytes 68 65 6c 6c");
    assert_eq!(v["capture"]["format"], "unknown");
}

#[test]
fn missing_file_exits_2_with_a_report() {
    let (code, err, v) = report_to_file(std::path::Path::new("/nonexistent/x.pcap"));
    assert_eq!(code, Some(2));
    assert!(err.contains("/nonexistent/x.pcap"), "{err}");
    assert_unreadable(&v, "cannot open /nonexistent/x.pcap");
    assert_eq!(v["capture"]["source"], "/nonexistent/x.pcap");
}

#[test]
fn a_directory_exits_2_with_a_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, err, v) = report_to_file(dir.path());
    assert_eq!(code, Some(2));
    assert!(err.contains("is a directory"), "{err}");
    assert_unreadable(&v, "is a directory with no capture file in it");
}

#[test]
fn bad_flag_value_is_usage_error() {
    let out = hopscope()
        .args(["report", "x.pcap", "--max-flows", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-flows"));
}

#[test]
fn broken_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Many connections so the output is larger than a pipe buffer.
    let mut s = Script::new();
    for i in 0..3000u16 {
        exchange(&mut s, ([192, 0, 2, 1], 10000 + i), S, 1, 1, b"x", b"y");
    }
    let p = dir.path().join("many.pcap");
    write_pcap(&p, &s.pkts);
    let mut child = hopscope()
        .args(["report"])
        .arg(&p)
        .args(["--format", "ndjson"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).expect("some output");
    drop(stdout);
    let status = child.wait().expect("wait");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert!(status.success(), "status {status:?}, stderr: {err}");
    assert!(err.is_empty(), "{err}");
    let _ = std::io::stdout().flush();
}

/// `hopscope report` of a TLS sample with `args` and `SSLKEYLOGFILE` set to `env` (or unset):
/// the capture's `tls` counters.
fn tls_counters(args: &[&str], env: Option<&str>) -> serde_json::Value {
    let mut c = hopscope();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "report",
            "samples/tls13-curl-nginx.pcap",
            "--format",
            "json",
        ])
        .args(args)
        .env_remove("SSLKEYLOGFILE");
    if let Some(e) = env {
        c.env("SSLKEYLOGFILE", e);
    }
    let out = c.output().expect("run hopscope");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["capture"]["tls"].clone()
}

#[test]
fn sslkeylogfile_is_used_when_no_key_log_is_given_and_the_report_says_so() {
    let keys = "samples/tls13-curl-nginx.keys";
    let env = tls_counters(&[], Some(keys));
    assert_eq!(env["key_sources"][0], format!("$SSLKEYLOGFILE ({keys})"));
    assert_eq!(env["decrypted"], 4);
    // --tls-keylog wins over the environment.
    let flag = tls_counters(
        &["--tls-keylog", keys],
        Some("samples/tls12-curl-nginx.keys"),
    );
    assert_eq!(flag["key_sources"][0], keys);
    assert_eq!(flag["decrypted"], 4);
    // Neither: nothing decrypted, every connection counted as without keys.
    let none = tls_counters(&[], None);
    assert_eq!(none["decrypted"], 0);
    assert_eq!(none["not_decrypted"]["no-keys"], 4);
}

/// The exit status contract, every documented status (README "Exit status", `--help`):
/// 0 read to its end (also `--help`, `--version`), 1 bad usage of any kind or a report that
/// could not be written, 2 a capture not read completely (the tests above: missing, directory,
/// not a capture, truncated).
#[test]
fn exit_statuses_are_the_documented_ones() {
    let run = |args: &[&str]| {
        let out = hopscope().args(args).output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Usage errors clap finds itself exit 1 too (clap's own default is 2, which here means
    // a capture read in part), with clap's message naming what was wrong.
    for (args, names) in [
        (
            &["report", "samples/http-keepalive.pcap", "--no-such-flag"][..],
            "--no-such-flag",
        ),
        (&["report"][..], "<FILE>"),
        (
            &["report", "samples/http-keepalive.pcap", "--format", "xml"][..],
            "xml",
        ),
        (&["no-such-command-or-file", "--frames"][..], "--frames"),
        (&["completions", "tcsh"][..], "tcsh"),
        (&["man", "nonsense"][..], "nonsense"),
        (&[][..], "give a capture file"),
    ] {
        let (code, _, err) = run(args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains(names), "{args:?}: {err}");
    }
    for args in [
        &["--help"][..],
        &["report", "--help"],
        &["-V"],
        &["--version"],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(out.contains("hopscope"), "{args:?}: {out}");
    }
    let (code, _, err) = run(&[
        "report",
        "samples/http-keepalive.pcap",
        "-o",
        "/nonexistent-dir/x.json",
    ]);
    assert_eq!(code, Some(1), "{err}");
    let (code, out, _) = run(&["report", "samples/http-keepalive.pcap", "--format", "text"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("transactions"), "{out}");
    // The help says the same as this test.
    let (_, help, _) = run(&["--help"]);
    assert!(
        help.contains("0 success, 1 bad usage or output error, 2 the capture"),
        "{help}"
    );
}

/// Each command's `--help` ends with examples.
#[test]
fn every_command_help_has_examples() {
    for cmd in ["report", "open", "live", "interfaces", "completions", "man"] {
        let out = hopscope().args([cmd, "--help"]).output().expect("run");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{cmd}");
        assert!(help.contains("Example"), "{cmd}: {help}");
        assert!(help.contains(&format!("hopscope {cmd}")), "{cmd}: {help}");
    }
}

/// `hopscope completions SHELL` for every shell clap_complete knows; the bash script is loaded
/// by bash and completes the commands and `report`'s flags.
#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = hopscope()
            .args(["completions", shell])
            .output()
            .expect("run");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{shell}");
        for word in ["report", "live", "tls-keylog", "clock-offset"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_err()
    {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_hopscope");
    // Complete `hopscope report --tls` and `hopscope re` as bash would.
    let script = format!(
        r#"source <("{bin}" completions bash)
complete -p hopscope
COMP_WORDS=(hopscope report --tls); COMP_CWORD=2; _hopscope hopscope --tls report; echo "flags: ${{COMPREPLY[*]}}"
COMP_WORDS=(hopscope re); COMP_CWORD=1; _hopscope hopscope re hopscope; echo "commands: ${{COMPREPLY[*]}}""#
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("-F _hopscope hopscope"), "{text}");
    assert!(text.contains("flags: --tls-keylog"), "{text}");
    assert!(text.contains("commands: report"), "{text}");
}

/// `hopscope man` and `hopscope man COMMAND`: roff pages naming the options.
#[test]
fn man_pages() {
    for (args, title, has) in [
        (&["man"][..], ".TH hopscope 1", "completions"),
        (
            &["man", "report"][..],
            ".TH hopscope-report 1",
            "tls\\-keylog",
        ),
        (&["man", "live"][..], ".TH hopscope-live 1", "interface"),
    ] {
        let out = hopscope().args(args).output().expect("run");
        let page = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}");
        assert!(page.contains(title), "{args:?}: {page}");
        assert!(page.contains(has), "{args:?} lacks {has}");
    }
}

/// `--reveal-secrets`: one switch for every format. The sample's client was curl with
/// `-u user:pass` and a cookie jar (samples/record.sh): masked by default, as sent with it.
#[test]
fn reveal_secrets_is_one_switch_for_every_format() {
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("user:pass")
    );
    let run = |args: &[&str]| {
        let out = hopscope()
            .args(["report", "samples/http-cookies-auth-redirect.pcap"])
            .args(args)
            .output()
            .expect("run");
        assert!(out.status.success());
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // (The text report prints no header values: nothing to mask there.)
    for format in ["json", "ndjson", "har"] {
        let (masked, err) = run(&["--format", format]);
        assert!(!masked.contains(&basic), "{format}: a credential in clear");
        assert!(
            !masked.contains("sessionid=4f2c9a1b7e"),
            "{format}: a cookie in clear"
        );
        assert!(err.is_empty(), "{err}");
        let (clear, err) = run(&["--format", format, "--reveal-secrets"]);
        assert!(clear.contains(&basic), "{format}: {clear}");
        assert!(clear.contains("sessionid=4f2c9a1b7e"), "{format}");
        assert!(err.contains("do not share this report"), "{err}");
    }
}
