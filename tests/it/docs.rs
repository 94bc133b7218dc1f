//! The documentation promises what the code does: the tables of docs/findings.md are the
//! findings registry (`hopscope::model::codes`) rendered row by row, in both directions and
//! in order, and every registry entry is raised somewhere in the code.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use hopscope::model::codes::{self, ALL, Code};

/// How many codes there are at least: an empty or truncated registry (and docs to match)
/// must not pass. Raise it when codes are added.
const AT_LEAST: usize = 180;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The table rows of docs/findings.md, in order.
fn doc_rows() -> Vec<String> {
    fs::read_to_string(root().join("docs/findings.md"))
        .expect("docs/findings.md")
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(str::to_string)
        .collect()
}

#[test]
fn docs_tables_are_the_registry() {
    let want: Vec<String> = ALL.iter().map(|c| c.doc_row()).collect();
    let got = doc_rows();
    let missing: Vec<&String> = want.iter().filter(|r| !got.contains(r)).collect();
    let stale: Vec<&String> = got.iter().filter(|r| !want.contains(r)).collect();
    assert!(
        missing.is_empty(),
        "registry entries whose row is not in docs/findings.md (add or fix it):\n{}",
        missing
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        stale.is_empty(),
        "rows of docs/findings.md that no registry entry renders (src/model/codes.rs):\n{}",
        stale
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        got, want,
        "same rows, different order: keep the registry in the docs' order"
    );
    assert!(
        ALL.len() >= AT_LEAST,
        "only {} codes in the registry, expected at least {AT_LEAST}",
        ALL.len()
    );
}

#[test]
fn registry_entries_are_well_formed() {
    let mut names = BTreeSet::new();
    for c in ALL {
        assert!(names.insert(c.name), "{} twice", c.name);
        let (area, rest) = c.name.split_once('.').expect("dotted name");
        assert_eq!(area, c.area.prefix(), "{}: area", c.name);
        assert!(
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
            "{}: a name is lowercase words joined by '-'",
            c.name
        );
        assert!(!c.summary.is_empty(), "{}: no summary", c.name);
        for text in [c.summary, c.advice] {
            assert!(
                !text.contains('|') && !text.contains('\n') && text.trim() == text,
                "{}: one table cell, one line: {text:?}",
                c.name
            );
        }
        assert!(
            codes::lookup(c.name).is_some_and(|x| std::ptr::eq(x, *c)),
            "{}: lookup",
            c.name
        );
    }
    assert!(codes::lookup("http.no-such-code").is_none());
}

/// The Rust identifier of a code's static: `http.cl-and-te` → `HTTP_CL_AND_TE`.
fn ident(c: &Code) -> String {
    c.name
        .chars()
        .map(|ch| match ch {
            '.' | '-' => '_',
            ch => ch.to_ascii_uppercase(),
        })
        .collect()
}

/// Every source file under src/ but the registry itself, without unit-test code (a test
/// naming a code does not raise it).
fn sources() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("src")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("src").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs")
                && !p.ends_with("tests.rs")
                && !p.ends_with("model/codes.rs")
            {
                let mut text = fs::read_to_string(&p).unwrap_or_default();
                if let Some(i) = text.find("#[cfg(test)]\nmod tests {") {
                    text.truncate(i);
                }
                out.push((p, text));
            }
        }
    }
    out
}

fn has_word(text: &str, word: &str) -> bool {
    let is_id = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    text.match_indices(word).any(|(i, _)| {
        let before = i.checked_sub(1).and_then(|j| text.as_bytes().get(j));
        let after = text.as_bytes().get(i + word.len());
        !before.is_some_and(|&b| is_id(b)) && !after.is_some_and(|&b| is_id(b))
    })
}

#[test]
fn every_registry_entry_is_raised() {
    let src = sources();
    let never: Vec<&str> = ALL
        .iter()
        .filter(|c| {
            let id = ident(c);
            !src.iter().any(|(_, text)| has_word(text, &id))
        })
        .map(|c| c.name)
        .collect();
    assert!(
        never.is_empty(),
        "in the registry but raised nowhere: {never:?}"
    );
}

#[test]
fn codes_are_raised_by_entry_not_by_name() {
    let prefixes: BTreeSet<&str> = ALL.iter().map(|c| c.area.prefix()).collect();
    let mut named = Vec::new();
    for (p, text) in sources() {
        for lit in text.split('"').skip(1).step_by(2) {
            let code_like = lit.split_once('.').is_some_and(|(area, rest)| {
                prefixes.contains(area)
                    && !rest.is_empty()
                    && rest
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
            });
            if code_like {
                named.push(format!("{}: {lit:?}", p.display()));
            }
        }
    }
    assert!(
        named.is_empty(),
        "name the registry entry (`&codes::X`), not the string:\n{}",
        named.join("\n")
    );
}
