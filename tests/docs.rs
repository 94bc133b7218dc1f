//! The documentation promises what the code does: every finding code the code can raise is
//! listed in docs/findings.md with the severity it is raised with, and nothing listed is
//! missing from the code.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

fn source_codes() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("src").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tests.rs") {
                let text = fs::read_to_string(&p).unwrap_or_default();
                for part in text.split('"').skip(1).step_by(2) {
                    let is_code = [
                        "capture.",
                        "decode.",
                        "tcp.",
                        "http.",
                        "ws.",
                        "tls.",
                        "socks.",
                        "proxy.",
                        "h2.",
                        "cache.",
                        "range.",
                        "cookie.",
                        "cors.",
                        "auth.",
                        "redirect.",
                    ]
                    .iter()
                    .any(|pre| part.starts_with(pre))
                        && part.len() < 48
                        && !part.ends_with('.')
                        && part.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
                        });
                    if is_code {
                        out.push(part.to_string());
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// code → severity, from the tables of docs/findings.md (a row may list several codes).
fn documented() -> BTreeMap<String, String> {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/findings.md"))
        .expect("docs/findings.md");
    let mut m = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(codes), Some(sev)) = (cols.get(1), cols.get(2)) else {
            continue;
        };
        for c in codes.split(',') {
            m.insert(c.trim().trim_matches('`').to_string(), sev.to_string());
        }
    }
    m
}

#[test]
fn every_finding_code_is_documented_and_every_documented_code_exists() {
    let src = source_codes();
    let doc = documented();
    let undocumented: Vec<&String> = src.iter().filter(|c| !doc.contains_key(*c)).collect();
    let stale: Vec<&String> = doc.keys().filter(|c| !src.contains(c)).collect();
    assert!(
        undocumented.is_empty(),
        "not in docs/findings.md: {undocumented:?}"
    );
    assert!(stale.is_empty(), "documented but never raised: {stale:?}");
}

#[test]
fn semantics_severities_match_the_docs() {
    let mut n = 0;
    for (code, sev) in documented() {
        let semantic = ["cache.", "range.", "cookie.", "cors.", "auth.", "redirect."]
            .iter()
            .any(|p| code.starts_with(p));
        if !semantic {
            continue;
        }
        n += 1;
        let got = format!("{:?}", hopscope::semantics::severity(&code)).to_lowercase();
        assert_eq!(&got, &sev, "{code}");
    }
    assert!(n >= 30, "only {n} semantics codes documented");
}

#[test]
fn http_severities_match_the_docs() {
    for (code, sev) in documented() {
        if !code.starts_with("http.") && !code.starts_with("ws.") {
            continue;
        }
        let got = format!("{:?}", hopscope::analyzers::http::conn::severity(&code)).to_lowercase();
        assert_eq!(&got, &sev, "{code}");
    }
}

#[test]
fn proxy_severities_match_the_docs() {
    let doc = documented();
    let mut n = 0;
    for (code, sev) in &doc {
        if !code.starts_with("proxy.") {
            continue;
        }
        n += 1;
        let got = format!("{:?}", hopscope::hops::severity(code)).to_lowercase();
        assert_eq!(&got, sev, "{code}");
        assert!(hopscope::hops::CODES.contains(&code.as_str()), "{code}");
    }
    assert_eq!(n, hopscope::hops::CODES.len());
}

/// One of each HTTP/2 note kind: the module's own code and severity for each.
fn h2_kinds() -> Vec<hopscope::analyzers::h2::H2NoteKind> {
    use hopscope::analyzers::h2::H2NoteKind::*;
    vec![
        BadPreface { found: 0 },
        FirstFrameNotSettings { frame_type: 0 },
        FrameTooLarge { length: 0, max: 0 },
        UnknownFrameType { frame_type: 0 },
        StreamIdRule {
            frame_type: 0,
            stream_id: 0,
        },
        StreamIdParity {
            stream_id: 0,
            opened_by: 0,
        },
        BadFrameLength {
            frame_type: 0,
            length: 0,
        },
        BadPadding {
            frame_type: 0,
            pad_length: 0,
            length: 0,
        },
        BadSettingValue { id: 0, value: 0 },
        TooManySettings { count: 0 },
        WindowUpdateZero { stream_id: 0 },
        PushPromiseFromClient,
        ContinuationExpected {
            stream_id: 0,
            frame_type: 0,
        },
        UnexpectedContinuation { stream_id: 0 },
        HpackStopped {
            reason: String::new(),
        },
        TooManyStreams,
        Gap {
            bytes: 0,
            resynced: false,
        },
        Truncated { missing: 0 },
    ]
}

#[test]
fn h2_severities_match_the_docs() {
    let doc = documented();
    let module: BTreeMap<&str, String> = h2_kinds()
        .iter()
        .map(|k| (k.code(), format!("{:?}", k.severity()).to_lowercase()))
        .collect();
    let mut n = 0;
    for (code, sev) in &doc {
        if !code.starts_with("h2.") {
            continue;
        }
        n += 1;
        assert_eq!(module.get(code.as_str()), Some(sev), "{code}");
    }
    // Every kind listed above is documented (and the source scan finds any new one).
    assert_eq!(n, module.len());
}
