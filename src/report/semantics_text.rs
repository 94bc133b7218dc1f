//! The `--format text` lines of a transaction's semantics: one indented line per concern,
//! under the transaction line. Everything from the wire passes through [`terminal_safe_str`].

use crate::base::sanitize::terminal_safe_str;
use crate::model::semantics::{
    AuthInfo, CacheInfo, CookieInfo, CorsInfo, HttpSemantics, RangeInfo, RedirectInfo,
};

const INDENT: &str = "        ";

/// One line per concern present, each starting with the indent and the concern's name.
pub fn lines(s: &HttpSemantics) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &s.cache {
        out.push(format!("{INDENT}cache: {}", cache(c)));
    }
    if let Some(r) = &s.range {
        out.push(format!("{INDENT}range: {}", range(r)));
    }
    if let Some(c) = &s.cookies {
        out.push(format!("{INDENT}cookies: {}", cookies(c)));
    }
    if let Some(c) = &s.cors {
        out.push(format!("{INDENT}cors: {}", cors(c)));
    }
    if let Some(a) = &s.auth {
        out.push(format!("{INDENT}auth: {}", auth(a)));
    }
    if let Some(r) = &s.redirect {
        out.push(format!("{INDENT}redirect: {}", redirect(r)));
    }
    out.into_iter().map(|l| terminal_safe_str(&l)).collect()
}

fn cache(c: &CacheInfo) -> String {
    let mut parts = Vec::new();
    match (c.storable, &c.storable_reason) {
        (Some(true), Some(r)) => parts.push(format!("storable by a shared cache ({r})")),
        (Some(false), Some(r)) => parts.push(format!("not stored by a shared cache ({r})")),
        _ => {}
    }
    if let (Some(l), Some(src)) = (c.freshness_lifetime, c.freshness_source) {
        parts.push(format!(
            "lifetime {l}s ({src}), age {}s, {}",
            c.current_age.unwrap_or(0),
            if c.fresh == Some(true) {
                "fresh"
            } else {
                "stale"
            }
        ));
    }
    if let Some(e) = &c.etag {
        parts.push(format!("ETag {e}"));
    }
    if let Some(k) = &c.conditional {
        let cond = k
            .if_none_match
            .as_ref()
            .map(|v| format!("If-None-Match {v}"))
            .or(k
                .if_modified_since
                .as_ref()
                .map(|v| format!("If-Modified-Since {v}")))
            .unwrap_or_default();
        let link = match k.validator_of {
            Some(id) => format!("validator of #{id}"),
            None => "no earlier response carried it".into(),
        };
        let m = match k.matches {
            Some(true) => ", 304 matches",
            Some(false) => ", 304 DOES NOT MATCH",
            None => "",
        };
        parts.push(format!("{cond}: {link}, {}{m}", k.outcome));
    }
    if !c.vary.is_empty() {
        parts.push(format!("Vary {}", c.vary.join(", ")));
    }
    parts.extend(c.notes.iter().map(|n| n.to_string()));
    parts.join("; ")
}

fn range(r: &RangeInfo) -> String {
    let mut parts = Vec::new();
    let asked = r.request.as_deref().unwrap_or("no Range");
    let got = match (&r.content_range, r.outcome) {
        (Some(cr), _) if cr.unsatisfied => format!(
            "unsatisfiable (bytes */{})",
            cr.complete_length.map_or("*".into(), |n| n.to_string())
        ),
        (Some(cr), o) => format!(
            "{o} bytes {}-{}/{}",
            cr.first.unwrap_or(0),
            cr.last.unwrap_or(0),
            cr.complete_length.map_or("*".into(), |n| n.to_string())
        ),
        (None, o) => o.to_string(),
    };
    let mut s = format!("{asked} -> {got}");
    if let Some(d) = r.delivered_bytes {
        s.push_str(&format!(
            ", {d}{} B delivered",
            r.expected_bytes
                .map(|e| format!("/{e}"))
                .unwrap_or_default()
        ));
    }
    match r.matches {
        Some(true) => s.push_str(", matches"),
        Some(false) => s.push_str(", MISMATCH"),
        None => {}
    }
    parts.push(s);
    if !r.parts.is_empty() {
        let p: Vec<String> = r
            .parts
            .iter()
            .map(|p| {
                format!(
                    "{} @{}+{}{}",
                    p.content_range.as_deref().unwrap_or("?"),
                    p.offset,
                    p.length,
                    if p.matches { "" } else { " MISMATCH" }
                )
            })
            .collect();
        parts.push(format!("parts {}", p.join(", ")));
    }
    if let Some(o) = &r.object {
        let ids: Vec<String> = o
            .pieces
            .iter()
            .map(|p| format!("#{}", p.transaction))
            .collect();
        parts.push(format!(
            "object {}/{} B from {}{}",
            o.covered,
            o.complete_length.map_or("?".into(), |n| n.to_string()),
            ids.join(","),
            if o.complete { " (complete)" } else { "" }
        ));
    }
    parts.extend(r.notes.iter().map(|n| n.to_string()));
    parts.join("; ")
}

fn cookies(c: &CookieInfo) -> String {
    let mut parts = Vec::new();
    if !c.set.is_empty() {
        let stored = c.set.iter().filter(|s| s.stored).count();
        let mut s = format!("set {} ({stored} stored)", c.set.len());
        let rejected: Vec<String> = c
            .set
            .iter()
            .filter_map(|x| x.rejected.as_ref().map(|r| format!("{}: {r}", x.name)))
            .collect();
        if !rejected.is_empty() {
            s.push_str(&format!(", rejected {}", rejected.join(", ")));
        }
        parts.push(s);
    }
    if !c.sent.is_empty() {
        let n: Vec<&str> = c.sent.iter().map(|s| s.name.as_str()).collect();
        parts.push(format!("sent {}", n.join(", ")));
    }
    if !c.not_sent.is_empty() {
        let n: Vec<String> = c
            .not_sent
            .iter()
            .map(|s| format!("{} ({})", s.name, s.reason))
            .collect();
        parts.push(format!("not sent {}", n.join(", ")));
    }
    parts.extend(c.notes.iter().map(|n| n.to_string()));
    parts.join("; ")
}

fn cors(c: &CorsInfo) -> String {
    let mut s = format!("{} from {}", c.kind, c.origin);
    if let Some(m) = &c.request_method {
        s.push_str(&format!(" for {m}"));
        if !c.request_headers.is_empty() {
            s.push_str(&format!(" [{}]", c.request_headers.join(", ")));
        }
    }
    if c.credentials == "include" {
        s.push_str(&format!(
            " with credentials ({})",
            c.credentials_evidence.unwrap_or("")
        ));
    }
    if let Some(p) = c.preflight {
        s.push_str(&format!(" after preflight #{p}"));
    }
    s.push_str(&format!(": {}", c.decision.to_uppercase()));
    if !c.reasons.is_empty() {
        let r: Vec<&str> = c.reasons.iter().map(|r| r.as_ref()).collect();
        s.push_str(&format!(" ({})", r.join(" ")));
    }
    for n in &c.notes {
        s.push_str(&format!("; {n}"));
    }
    s
}

fn auth(a: &AuthInfo) -> String {
    let mut parts = Vec::new();
    if !a.challenges.is_empty() {
        let ch: Vec<String> = a
            .challenges
            .iter()
            .map(|c| {
                format!(
                    "{}{}",
                    c.scheme,
                    c.realm
                        .as_ref()
                        .map(|r| format!(" realm=\"{r}\""))
                        .unwrap_or_default()
                )
            })
            .collect();
        parts.push(format!("challenge {}", ch.join(", ")));
    }
    if let Some(c) = &a.credentials {
        parts.push(format!(
            "{} {}{}",
            c.header,
            c.scheme,
            a.answers
                .map(|id| format!(" answering #{id}"))
                .unwrap_or_default()
        ));
    }
    parts.push(a.outcome.to_string());
    parts.extend(a.notes.iter().map(|n| n.to_string()));
    parts.join("; ")
}

fn redirect(r: &RedirectInfo) -> String {
    let mut s = format!("chain #{} hop {}", r.chain, r.hop);
    if let Some(f) = r.from {
        s.push_str(&format!(" (from #{f})"));
    }
    if let Some(st) = r.status {
        s.push_str(&format!(
            ": {st} -> {}",
            r.resolved
                .as_deref()
                .or(r.location.as_deref())
                .unwrap_or("(no Location)")
        ));
    } else {
        s.push_str(": end of the chain");
    }
    if let Some(m) = &r.method_change {
        s.push_str(&format!("; {m}"));
    }
    if r.is_loop {
        s.push_str("; LOOP");
    }
    for n in &r.notes {
        s.push_str(&format!("; {n}"));
    }
    s
}
