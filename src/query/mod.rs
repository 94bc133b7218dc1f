//! The filter language: the UI's `/` prompt and `report --filter EXPR` / `open --filter EXPR`
//! share this one parser and matcher. Small enough to guess.
//!
//! A filter is a list of terms separated by spaces; a row is shown when **every** term
//! matches. A term starting with `-` is negated. Quotes keep spaces inside one term.
//!
//! | term | matches |
//! | --- | --- |
//! | `word` | the row's text contains `word` (case-insensitive) |
//! | `status:404` `status:5xx` `status:>=400` `status:400-499` `status:none` | the final response status (`none`: no response) |
//! | `method:POST` | the request method (case-insensitive) |
//! | `host:example.com` | the `Host` header, the tunnel target or the server address contains it |
//! | `target:/api` (`path:`) | the request target contains it |
//! | `conn:12` | connection 12 |
//! | `ws` `tunnel` `upgrade` | WebSocket conversations and their upgrades; CONNECT/SOCKS tunnels; any `Upgrade` |
//! | `finding` `finding:warning` `finding:ws.upgrade-refused` `finding:ws.` | rows with a finding: of at least that severity, or whose code starts with it |
//! | `dir:client` `dir:server` | WebSocket messages sent by that side |
//! | `opcode:text` | WebSocket message opcode |
//! | `len:>1000` `len:<=10k` | message or body length (k, M suffixes) |
//!
//! Fields that do not apply to a row (a status on a WebSocket message) do not match it.

pub mod records;

use crate::model::Severity;
use crate::model::websocket::Side;

/// What a row offers to the filter. Fields it does not have return `None` (no match).
pub trait Subject {
    /// The row's searchable text, lowercase, appended to `out`.
    fn text(&self, out: &mut String);
    fn status(&self) -> Option<Option<u16>> {
        None
    }
    fn method(&self) -> Option<&str> {
        None
    }
    /// Host-like strings (Host header, server address, tunnel target).
    fn hosts(&self, _out: &mut Vec<String>) {}
    fn target(&self) -> Option<&str> {
        None
    }
    fn conn(&self) -> Option<u64> {
        None
    }
    fn is_ws(&self) -> bool {
        false
    }
    fn is_tunnel(&self) -> bool {
        false
    }
    fn is_upgrade(&self) -> bool {
        false
    }
    /// The row's findings: (severity, code).
    fn findings(&self, _out: &mut Vec<(Severity, String)>) {}
    fn side(&self) -> Option<Side> {
        None
    }
    fn opcode(&self) -> Option<&str> {
        None
    }
    fn length(&self) -> Option<u64> {
        None
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn test(self, a: u64, b: u64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum StatusPat {
    Range(u16, u16),
    Cmp(Cmp, u16),
    None,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum FindingPat {
    Any,
    AtLeast(Severity),
    Code(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Text(String),
    Status(StatusPat),
    Method(String),
    Host(String),
    Target(String),
    Conn(u64),
    Ws,
    Tunnel,
    Upgrade,
    Finding(FindingPat),
    Side(Side),
    Opcode(String),
    Len(Cmp, u64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Term {
    neg: bool,
    kind: Kind,
}

/// A parsed filter; the empty filter matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    terms: Vec<Term>,
}

/// The fields, for error messages and the help screen.
pub const FIELDS: &str =
    "status: method: host: target: conn: finding[:] ws tunnel upgrade dir: opcode: len:";

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether some term is about findings (`finding`, `finding:warning`, `-finding:tls.`).
    pub fn has_finding_terms(&self) -> bool {
        self.terms
            .iter()
            .any(|t| matches!(t.kind, Kind::Finding(_)))
    }

    /// Parses `input`; the error says which term is wrong and what was expected.
    pub fn parse(input: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for word in split(input)? {
            let (neg, w) = match word.strip_prefix('-') {
                Some(rest) if !rest.is_empty() => (true, rest.to_string()),
                _ => (false, word),
            };
            terms.push(Term {
                neg,
                kind: parse_term(&w)?,
            });
        }
        Ok(Filter { terms })
    }

    /// Whether `s` passes every term. `scratch` is reused between calls.
    pub fn matches(&self, s: &dyn Subject, scratch: &mut Scratch) -> bool {
        scratch.text_done = false;
        self.terms
            .iter()
            .all(|t| t.neg != term_matches(&t.kind, s, scratch))
    }
}

/// Buffers reused across rows.
#[derive(Default)]
pub struct Scratch {
    text: String,
    text_done: bool,
    hosts: Vec<String>,
    findings: Vec<(Severity, String)>,
}

fn term_matches(k: &Kind, s: &dyn Subject, sc: &mut Scratch) -> bool {
    match k {
        Kind::Text(t) => {
            if !sc.text_done {
                sc.text.clear();
                s.text(&mut sc.text);
                sc.text_done = true;
            }
            sc.text.contains(t.as_str())
        }
        Kind::Status(p) => match (s.status(), p) {
            (None, _) => false,
            (Some(None), StatusPat::None) => true,
            (Some(None), _) | (Some(Some(_)), StatusPat::None) => false,
            (Some(Some(st)), StatusPat::Range(a, b)) => (*a..=*b).contains(&st),
            (Some(Some(st)), StatusPat::Cmp(c, n)) => c.test(u64::from(st), u64::from(*n)),
        },
        Kind::Method(m) => s.method().is_some_and(|x| x.eq_ignore_ascii_case(m)),
        Kind::Host(h) => {
            sc.hosts.clear();
            s.hosts(&mut sc.hosts);
            sc.hosts
                .iter()
                .any(|x| x.to_ascii_lowercase().contains(h.as_str()))
        }
        Kind::Target(t) => s
            .target()
            .is_some_and(|x| x.to_ascii_lowercase().contains(t.as_str())),
        Kind::Conn(c) => s.conn() == Some(*c),
        Kind::Ws => s.is_ws(),
        Kind::Tunnel => s.is_tunnel(),
        Kind::Upgrade => s.is_upgrade(),
        Kind::Finding(p) => {
            sc.findings.clear();
            s.findings(&mut sc.findings);
            sc.findings.iter().any(|(sev, code)| match p {
                FindingPat::Any => true,
                FindingPat::AtLeast(min) => sev >= min,
                FindingPat::Code(c) => code.starts_with(c.as_str()),
            })
        }
        Kind::Side(d) => s.side() == Some(*d),
        Kind::Opcode(o) => s.opcode().is_some_and(|x| x.eq_ignore_ascii_case(o)),
        Kind::Len(c, n) => s.length().is_some_and(|l| c.test(l, *n)),
    }
}

/// Splits on spaces, keeping quoted runs together (`"a b"` is one term; quotes removed).
fn split(input: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in input.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err("a quote is not closed".into());
    }
    if any {
        out.push(cur);
    }
    Ok(out)
}

fn parse_term(w: &str) -> Result<Kind, String> {
    let lower = w.to_lowercase();
    match lower.as_str() {
        "ws" | "websocket" => return Ok(Kind::Ws),
        "tunnel" => return Ok(Kind::Tunnel),
        "upgrade" => return Ok(Kind::Upgrade),
        "finding" | "findings" | "!" => return Ok(Kind::Finding(FindingPat::Any)),
        _ => {}
    }
    let Some((field, value)) = lower.split_once(':') else {
        return Ok(Kind::Text(lower));
    };
    // `http://...` or `[::1]:80` typed as free text.
    if value.starts_with("//") || field.starts_with('[') || field.parse::<u64>().is_ok() {
        return Ok(Kind::Text(lower));
    }
    if value.is_empty() {
        return Err(format!("`{field}:` needs a value"));
    }
    Ok(match field {
        "status" | "code" => Kind::Status(parse_status(value)?),
        "method" => Kind::Method(value.to_string()),
        "host" => Kind::Host(value.to_string()),
        "target" | "path" | "url" => Kind::Target(value.to_string()),
        "conn" | "connection" => Kind::Conn(
            value
                .parse()
                .map_err(|_| format!("conn: expected a connection number, got `{value}`"))?,
        ),
        "finding" | "findings" | "severity" => Kind::Finding(match value {
            "error" | "errors" | "e" => FindingPat::AtLeast(Severity::Error),
            "warning" | "warnings" | "warn" | "w" => FindingPat::AtLeast(Severity::Warning),
            "info" | "i" => FindingPat::AtLeast(Severity::Info),
            code if code.contains('.') => FindingPat::Code(code.to_string()),
            other => {
                return Err(format!(
                    "finding: expected error, warning, info or a code like ws.upgrade-refused, \
                     got `{other}`"
                ));
            }
        }),
        "dir" | "from" => Kind::Side(match value {
            "client" | "c" | ">" | "out" => Side::Client,
            "server" | "s" | "<" | "in" => Side::Server,
            other => return Err(format!("dir: expected client or server, got `{other}`")),
        }),
        "opcode" | "op" => Kind::Opcode(value.to_string()),
        "len" | "length" | "size" => {
            let (c, rest) = parse_cmp(value);
            Kind::Len(
                c,
                parse_size(rest).ok_or_else(|| {
                    format!("len: expected a size like >1000 or <=10k, got `{value}`")
                })?,
            )
        }
        other => {
            return Err(format!("unknown field `{other}:` (fields: {FIELDS})"));
        }
    })
}

fn parse_cmp(v: &str) -> (Cmp, &str) {
    for (p, c) in [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
        ("=", Cmp::Eq),
    ] {
        if let Some(rest) = v.strip_prefix(p) {
            return (c, rest);
        }
    }
    (Cmp::Eq, v)
}

fn parse_size(v: &str) -> Option<u64> {
    let (num, mul) = match v.as_bytes().last()? {
        b'k' => (&v[..v.len() - 1], 1_000),
        b'm' => (&v[..v.len() - 1], 1_000_000),
        b'g' => (&v[..v.len() - 1], 1_000_000_000),
        _ => (v, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

fn parse_status(v: &str) -> Result<StatusPat, String> {
    let bad = || format!("status: expected 404, 5xx, >=400, 400-499 or none, got `{v}`");
    if v == "none" || v == "-" {
        return Ok(StatusPat::None);
    }
    if let Some((a, b)) = v.split_once('-') {
        let a = a.parse::<u16>().map_err(|_| bad())?;
        let b = b.parse::<u16>().map_err(|_| bad())?;
        return Ok(StatusPat::Range(a.min(b), a.max(b)));
    }
    let (c, rest) = parse_cmp(v);
    if c != Cmp::Eq || v.starts_with('=') {
        return rest
            .parse()
            .map(|n| StatusPat::Cmp(c, n))
            .map_err(|_| bad());
    }
    let b = v.as_bytes();
    if b.len() == 3 && b[0].is_ascii_digit() && &v[1..] == "xx" {
        let d = u16::from(b[0] - b'0');
        return Ok(StatusPat::Range(d * 100, d * 100 + 99));
    }
    if b.len() == 1 && b[0].is_ascii_digit() {
        let d = u16::from(b[0] - b'0');
        return Ok(StatusPat::Range(d * 100, d * 100 + 99));
    }
    v.parse::<u16>()
        .map(|n| StatusPat::Range(n, n))
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Row {
        text: &'static str,
        status: Option<Option<u16>>,
        method: Option<&'static str>,
        host: Option<&'static str>,
        target: Option<&'static str>,
        conn: Option<u64>,
        ws: bool,
        tunnel: bool,
        upgrade: bool,
        findings: Vec<(Severity, &'static str)>,
        side: Option<Side>,
        opcode: Option<&'static str>,
        len: Option<u64>,
    }

    impl Subject for Row {
        fn text(&self, out: &mut String) {
            out.push_str(&self.text.to_lowercase());
        }
        fn status(&self) -> Option<Option<u16>> {
            self.status
        }
        fn method(&self) -> Option<&str> {
            self.method
        }
        fn hosts(&self, out: &mut Vec<String>) {
            out.extend(self.host.map(String::from));
        }
        fn target(&self) -> Option<&str> {
            self.target
        }
        fn conn(&self) -> Option<u64> {
            self.conn
        }
        fn is_ws(&self) -> bool {
            self.ws
        }
        fn is_tunnel(&self) -> bool {
            self.tunnel
        }
        fn is_upgrade(&self) -> bool {
            self.upgrade
        }
        fn findings(&self, out: &mut Vec<(Severity, String)>) {
            out.extend(self.findings.iter().map(|(s, c)| (*s, c.to_string())));
        }
        fn side(&self) -> Option<Side> {
            self.side
        }
        fn opcode(&self) -> Option<&str> {
            self.opcode
        }
        fn length(&self) -> Option<u64> {
            self.len
        }
    }

    fn txn() -> Row {
        Row {
            text: "GET Example.com /chat 505 HTTP Version Not Supported",
            status: Some(Some(505)),
            method: Some("GET"),
            host: Some("Example.com:8080"),
            target: Some("/chat?x=1"),
            conn: Some(12),
            upgrade: true,
            findings: vec![(Severity::Warning, "ws.upgrade-refused")],
            len: Some(75),
            ..Row::default()
        }
    }

    fn msg() -> Row {
        Row {
            text: "hello world",
            conn: Some(3),
            ws: true,
            side: Some(Side::Server),
            opcode: Some("text"),
            len: Some(2048),
            ..Row::default()
        }
    }

    #[test]
    fn table() {
        // (filter, matches the transaction, matches the message)
        let cases: &[(&str, bool, bool)] = &[
            ("", true, true),
            ("chat", true, false),
            ("CHAT", true, false),
            ("version not", true, false),
            ("\"version not\"", true, false),
            ("\"not version\"", false, false),
            ("status:505", true, false),
            ("status:5xx", true, false),
            ("status:5", true, false),
            ("status:4xx", false, false),
            ("status:>=500", true, false),
            ("status:<500", false, false),
            ("status:500-599", true, false),
            ("status:599-500", true, false),
            ("status:none", false, false),
            ("method:get", true, false),
            ("method:POST", false, false),
            ("host:example.com", true, false),
            ("host:other", false, false),
            ("target:/chat", true, false),
            ("path:/CHAT", true, false),
            ("conn:12", true, false),
            ("conn:3", false, true),
            ("ws", false, true),
            ("upgrade", true, false),
            ("tunnel", false, false),
            ("finding", true, false),
            ("finding:warning", true, false),
            ("finding:error", false, false),
            ("finding:info", true, false),
            ("finding:ws.", true, false),
            ("finding:ws.upgrade-refused", true, false),
            ("finding:http.", false, false),
            ("-finding", false, true),
            ("-ws", true, false),
            ("dir:server", false, true),
            ("dir:client", false, false),
            ("opcode:TEXT", false, true),
            ("len:>1k", false, true),
            ("len:<=75", true, false),
            ("len:2048", false, true),
            ("status:5xx method:get", true, false),
            ("status:5xx method:post", false, false),
            ("http://x", false, false),
            ("[::1]:80", false, false),
        ];
        let mut sc = Scratch::default();
        let (t, m) = (txn(), msg());
        for (f, want_t, want_m) in cases {
            let p = Filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(p.matches(&t, &mut sc), *want_t, "{f} on the transaction");
            assert_eq!(p.matches(&m, &mut sc), *want_m, "{f} on the message");
        }
    }

    #[test]
    fn errors_say_what_was_expected() {
        let cases: &[(&str, &str)] = &[
            ("status:abc", "status: expected 404, 5xx"),
            ("status:", "`status:` needs a value"),
            ("colour:red", "unknown field `colour:`"),
            ("conn:x", "conn: expected a connection number"),
            ("finding:bad", "finding: expected error, warning, info"),
            ("dir:up", "dir: expected client or server"),
            ("len:big", "len: expected a size"),
            ("\"open", "a quote is not closed"),
        ];
        for (f, want) in cases {
            match Filter::parse(f) {
                Ok(p) => panic!("{f} parsed: {p:?}"),
                Err(e) => assert!(e.contains(want), "{f}: {e}"),
            }
        }
    }

    #[test]
    fn a_lone_dash_is_text() {
        let f = Filter::parse("-").expect("parses");
        let mut sc = Scratch::default();
        assert!(!f.matches(&txn(), &mut sc));
        assert!(Filter::parse("   ").expect("parses").is_empty());
    }
}
