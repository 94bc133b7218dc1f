//! Human-readable report: one line per connection, the findings, then a summary.
//! Everything that could come from the wire passes through [`crate::base::sanitize`].

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::spool::Spool;
use crate::base::sanitize::terminal_safe_str;
use crate::base::utc::utc;
use crate::model::hops::ProxyHopRecord;
use crate::model::http::{BodyRecord, Scheme, TransactionRecord};
use crate::model::http2::Http2Record;
use crate::model::tunnel::{TlsInfo, TlsStats, TunnelRecord};
use crate::model::websocket::{WebSocketRecord, WsMessageRecord};
use crate::model::{CaptureSummary, ConnectionRecord, Finding, Flow, Record, Sink};

pub struct TextWriter {
    out: Box<dyn Write>,
    connections: Spool,
    transactions: Spool,
    websockets: Spool,
    ws_messages: Spool,
    tunnels: Spool,
    http2: Spool,
    hops: Spool,
    findings: Spool,
    by_severity: BTreeMap<&'static str, u64>,
    by_close: BTreeMap<&'static str, u64>,
    by_method: BTreeMap<String, u64>,
    by_status: BTreeMap<String, u64>,
}

impl TextWriter {
    pub fn new(out: Box<dyn Write>) -> Self {
        TextWriter {
            out,
            connections: Spool::default(),
            transactions: Spool::default(),
            websockets: Spool::default(),
            ws_messages: Spool::default(),
            tunnels: Spool::default(),
            http2: Spool::default(),
            hops: Spool::default(),
            findings: Spool::default(),
            by_severity: BTreeMap::new(),
            by_close: BTreeMap::new(),
            by_method: BTreeMap::new(),
            by_status: BTreeMap::new(),
        }
    }
}

fn size(n: u64) -> String {
    if n < 10_000 {
        format!("{n}B")
    } else if n < 10_000_000 {
        format!("{:.1}kB", n as f64 / 1e3)
    } else {
        format!("{:.1}MB", n as f64 / 1e6)
    }
}

fn body_size(b: &BodyRecord) -> String {
    match b.decoded_length {
        Some(d) if d != b.length => format!("{}({} decoded)", size(b.length), size(d)),
        _ => size(b.length),
    }
}

fn transaction_line(t: &TransactionRecord) -> String {
    let when = t
        .timing
        .request_start
        .or(t.timing.response_start)
        .map(utc)
        .unwrap_or_else(|| "-".into());
    let (method, target, host, req_size) = match &t.request {
        Some(r) => {
            // HTTP/2: `:authority` (RFC 9113 §8.3.1), else `Host`.
            let host = r
                .authority
                .clone()
                .or_else(|| {
                    r.headers
                        .get("host")
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                })
                .unwrap_or_default();
            (r.method.clone(), r.target.clone(), host, body_size(&r.body))
        }
        None => (
            "-".into(),
            "(request not captured)".into(),
            String::new(),
            "-".into(),
        ),
    };
    // Over TLS the scheme is shown (`https://host/path`); cleartext stays `host/path`.
    let scheme = if t.scheme == Scheme::Https {
        "https://"
    } else {
        ""
    };
    let shown_target = if target.starts_with('/') && !host.is_empty() {
        format!("{scheme}{host}{target}")
    } else {
        target
    };
    let status = match &t.response {
        Some(r) => r
            .status_raw
            .as_deref()
            .map(terminal_safe_str)
            .unwrap_or_else(|| r.status.to_string()),
        None => "---".into(),
    };
    let resp_size = t
        .response
        .as_ref()
        .map(|r| body_size(&r.body))
        .unwrap_or_else(|| "-".into());
    let ttfb = t
        .timing
        .ttfb
        .map(|s| format!("{:.1}ms", s * 1e3))
        .unwrap_or_else(|| "-".into());
    let mut marks = Vec::new();
    if let Some(id) = t.stream_id {
        marks.push(format!("h2-stream={id}"));
    }
    if let Some(p) = &t.promised_by {
        marks.push(format!("pushed-on={}", p.stream_id));
    }
    if let Some(r) = &t.reset {
        marks.push(format!("reset={}", r.name));
    }
    if t.state == crate::model::http::TxnState::NotProcessed {
        marks.push("not-processed".into());
    }
    if !t.interim.is_empty() {
        let s: Vec<String> = t.interim.iter().map(|i| i.status.to_string()).collect();
        marks.push(format!("interim={}", s.join(",")));
    }
    if let Some(sw) = &t.switched_to {
        marks.push(format!("switched={}", sw.protocol));
    }
    if !t.findings.is_empty() {
        marks.push(format!("!{}", t.findings.join(",!")));
    }
    format!(
        "#{:<5} {} #{} {} -> {}  {} {}  {}  ttfb {}  {} / {}  {}",
        t.id,
        when,
        t.connection,
        t.client,
        t.server,
        terminal_safe_str(&method),
        terminal_safe_str(&shown_target),
        status,
        ttfb,
        req_size,
        resp_size,
        marks.join(" ")
    )
}

/// A header change's values in the order the message travelled: a request front → back, a
/// response back → front.
fn ft(c: &crate::model::hops::HeaderChange, request: bool) -> (String, String) {
    let safe = |v: &Option<String>| terminal_safe_str(v.as_deref().unwrap_or(""));
    if request {
        (safe(&c.front), safe(&c.back))
    } else {
        (safe(&c.back), safe(&c.front))
    }
}

fn hop_lines(x: &ProxyHopRecord) -> String {
    let upstream = x
        .upstream
        .map_or("(answered by itself)".to_string(), |u| u.to_string());
    let product = x
        .proxy
        .product
        .as_deref()
        .map(|p| format!(" [{p}]"))
        .unwrap_or_default();
    let back = x.back.map_or("-".into(), |b| {
        format!("txn#{} conn#{}", b.transaction, b.connection)
    });
    let mut s = format!(
        "hop#{:<3} {} → {}{} → {}   txn#{} conn#{} ⇢ {}  confidence {}",
        x.id,
        x.client,
        x.proxy.address,
        product,
        upstream,
        x.front.transaction,
        x.front.connection,
        back,
        x.confidence
    );
    for (label, d) in [("request", &x.request), ("response", &x.response)] {
        if let Some(v) = &d.version {
            s.push_str(&format!("\n    {label} version {} → {}", v.front, v.back));
        }
        if let Some(v) = &d.status {
            s.push_str(&format!(
                "\n    {label} status upstream {} → client {}",
                v.back, v.front
            ));
        }
        if let Some(v) = &d.target {
            s.push_str(&format!(
                "\n    {label} target {} → {}",
                terminal_safe_str(&v.front),
                terminal_safe_str(&v.back)
            ));
        }
        // In the order the message travelled (the response upstream → client).
        if let Some(v) = &d.body_length {
            let (a, b) = if label == "request" {
                (&v.front, &v.back)
            } else {
                (&v.back, &v.front)
            };
            s.push_str(&format!(
                "\n    {label} body length {} → {}",
                terminal_safe_str(a),
                terminal_safe_str(b)
            ));
        }
        // Values in the order the message travelled: the request front → back, the
        // response back → front.
        let request = label == "request";
        for c in &d.headers_removed {
            let (was, _) = ft(c, request);
            s.push_str(&format!(
                "\n    {label} - {}: {}  ({})",
                terminal_safe_str(&c.name),
                was,
                c.judgement
            ));
        }
        for c in &d.headers_added {
            let (_, now) = ft(c, request);
            s.push_str(&format!(
                "\n    {label} + {}: {}  ({})",
                terminal_safe_str(&c.name),
                now,
                c.judgement
            ));
        }
        for c in &d.headers_changed {
            let (was, now) = ft(c, request);
            s.push_str(&format!(
                "\n    {label} ~ {}: {} → {}  ({})",
                terminal_safe_str(&c.name),
                was,
                now,
                c.judgement
            ));
        }
        for c in &d.hop_by_hop_forwarded {
            let (was, _) = ft(c, request);
            s.push_str(&format!(
                "\n    {label} = {}: {}  (hop-by-hop-forwarded)",
                terminal_safe_str(&c.name),
                was
            ));
        }
    }
    if let Some(r) = &x.relay {
        s.push_str(&format!(
            "\n    websocket relay: to server {}/{}, to client {}/{} messages, frames {}/{} and \
             {}/{}{}",
            r.to_server[0],
            r.to_server[1],
            r.to_client[1],
            r.to_client[0],
            r.frames_to_server[0],
            r.frames_to_server[1],
            r.frames_to_client[1],
            r.frames_to_client[0],
            match (r.one_to_one, r.frames_one_to_one) {
                (true, true) => " (one to one)",
                (true, false) => " (messages one to one, re-framed)",
                _ => "",
            }
        ));
    }
    if !x.diagnosis.is_empty() {
        s.push_str(&format!("\n    DIAGNOSIS: {}", x.diagnosis.join(", ")));
    }
    s
}

fn tunnel_line(x: &TunnelRecord) -> String {
    let target = terminal_safe_str(x.target.as_deref().unwrap_or("?"));
    let state = match (&x.refused, x.established) {
        (Some(r), _) => format!("REFUSED {}", terminal_safe_str(r)),
        (None, true) => "established".into(),
        (None, false) => "not established".into(),
    };
    let mut inner = terminal_safe_str(&x.inner);
    if let Some(t) = &x.tls {
        inner.push(' ');
        inner.push_str(&tls_summary(t));
    }
    format!(
        "tun#{:<3} #{} {} -> {} {} {}  {}  inner {}  {}B/{}B",
        x.id,
        x.connection,
        x.client,
        x.proxy,
        x.kind,
        target,
        state,
        inner,
        x.bytes_to_target,
        x.bytes_from_target
    )
}

/// Streams shown per HTTP/2 connection line; the rest are counted.
const H2_STREAMS_SHOWN: usize = 10;
/// Characters of an HTTP/2 `:path` shown.
const H2_PATH_SHOWN: usize = 80;

fn http2_line(x: &Http2Record) -> String {
    let frames = |m: &BTreeMap<&'static str, u64>| {
        let list: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!("{} [{}]", m.values().sum::<u64>(), list.join(", "))
    };
    let mut streams: Vec<String> = x
        .streams
        .iter()
        .take(H2_STREAMS_SHOWN)
        .map(|st| {
            let path = st.path.as_deref().map_or("-".to_string(), |p| {
                let cut: String = p.chars().take(H2_PATH_SHOWN).collect();
                let more = if cut.len() < p.len() { "…" } else { "" };
                format!("{}{more}", terminal_safe_str(&cut))
            });
            let mut s = format!(
                "{} {} {} → {}",
                st.id,
                terminal_safe_str(st.method.as_deref().unwrap_or("-")),
                path,
                st.status.map_or("---".into(), |c| c.to_string())
            );
            if let Some(code) = st.reset {
                s.push_str(&format!(" RST_STREAM {code}"));
            }
            s
        })
        .collect();
    if x.streams.len() > H2_STREAMS_SHOWN {
        streams.push(format!("+{} more", x.streams.len() - H2_STREAMS_SHOWN));
    }
    let mut marks = vec![x.mode.to_string()];
    if let Some(t) = x.transaction {
        marks.push(format!("txn#{t}"));
    }
    if !x.preface_seen {
        marks.push("NO-PREFACE".into());
    }
    if let Some(g) = &x.goaway {
        marks.push(format!(
            "goaway(last {}, code {})",
            g.last_stream, g.error_code
        ));
    }
    // Flow control: each sending direction's stalls at a zero window (RFC 9113 §5.2).
    let up: u64 = x
        .streams
        .iter()
        .map(|st| st.flow.client_to_server.stalls)
        .sum();
    let down: u64 = x
        .streams
        .iter()
        .map(|st| st.flow.server_to_client.stalls)
        .sum();
    for (dir, streams, conn) in [
        ("up", up, x.flow.client_to_server.stalls),
        ("down", down, x.flow.server_to_client.stalls),
    ] {
        if streams + conn > 0 {
            marks.push(format!(
                "stalls-{dir}(streams {streams}, connection {conn})"
            ));
        }
    }
    for (dir, p) in [
        ("up", &x.ping.client_to_server),
        ("down", &x.ping.server_to_client),
    ] {
        if let (Some(lo), Some(mid), Some(hi)) = (p.min_ms, p.median_ms, p.max_ms) {
            marks.push(format!("ping-{dir}(rtt {lo:.1}/{mid:.1}/{hi:.1} ms)"));
        }
    }
    let lost = x.lost_bytes.client_to_server + x.lost_bytes.server_to_client;
    if lost > 0 {
        marks.push(format!("lost={lost}B"));
    }
    if x.untracked_stream_frames > 0 {
        marks.push(format!("untracked-frames={}", x.untracked_stream_frames));
    }
    format!(
        "h2#{:<4} #{} {} -> {}  {}  frames up {} down {}  streams {}: {}",
        x.id,
        x.connection,
        x.client,
        x.server,
        marks.join(" "),
        frames(&x.frames.client_to_server),
        frames(&x.frames.server_to_client),
        x.streams.len(),
        streams.join(", ")
    )
}

fn websocket_line(x: &WebSocketRecord) -> String {
    let h = &x.handshake;
    let mut marks = Vec::new();
    if h.midstream {
        marks.push("midstream".to_string());
    }
    if let Some(id) = h.stream_id {
        marks.push(format!("h2-stream={id}"));
    }
    if let Some(false) = h.accept_valid {
        marks.push("ACCEPT-MISMATCH".into());
    }
    if let Some(p) = &h.subprotocol {
        marks.push(format!("subprotocol={}", terminal_safe_str(p)));
    }
    if x.compression.is_some() {
        marks.push("permessage-deflate".into());
    }
    let close = &x.close;
    let close_s = match (close.initiator, close.client_code, close.server_code) {
        (None, _, _) => "no close".to_string(),
        (Some(i), c, s) => format!(
            "closed by {} ({}/{}){}",
            if matches!(i, crate::model::websocket::Side::Client) {
                "client"
            } else {
                "server"
            },
            c.map_or("-".into(), |v| v.to_string()),
            s.map_or("-".into(), |v| v.to_string()),
            if close.clean { "" } else { " unclean" }
        ),
    };
    if !x.findings.is_empty() {
        marks.push(format!("!{}", x.findings.join(",!")));
    }
    format!(
        "ws#{:<4} #{} {} -> {}  {}  msgs {}/{}  {}  {}",
        x.id,
        x.connection,
        x.client,
        x.server,
        terminal_safe_str(h.target.as_deref().unwrap_or("-")),
        x.client_to_server.messages,
        x.server_to_client.messages,
        close_s,
        marks.join(" ")
    )
}

fn message_line(m: &WsMessageRecord) -> String {
    let arrow = match m.direction {
        crate::model::websocket::Side::Client => "->",
        crate::model::websocket::Side::Server => "<-",
    };
    let mut extra = String::new();
    if m.compressed {
        extra.push_str(" deflate");
    }
    if m.frames > 1 {
        extra.push_str(&format!(" frames={}", m.frames));
    }
    if let Some(c) = m.close_code {
        extra.push_str(&format!(" code={c}"));
    }
    if let Some(r) = m.rtt {
        extra.push_str(&format!(" rtt={:.1}ms", r * 1e3));
    }
    if m.partial {
        extra.push_str(" partial");
    }
    let text = m
        .text
        .as_deref()
        .map(|t| {
            let cut: String = t.chars().take(80).collect();
            format!(" \"{}\"", terminal_safe_str(&cut))
        })
        .unwrap_or_default();
    format!(
        "  ws#{} {:>5} {} {:<6} {}B{}{}",
        m.websocket, m.index, arrow, m.opcode, m.length, extra, text
    )
}

fn connection_line(c: &ConnectionRecord) -> String {
    let dur = c.end.saturating_sub(c.start) as f64 / 1e9;
    let a = &c.client_to_server;
    let b = &c.server_to_client;
    let mut marks = Vec::new();
    if !c.handshake {
        marks.push("no-handshake".to_string());
    }
    let gaps = a.gaps + b.gaps;
    if gaps > 0 {
        marks.push(format!(
            "gaps={gaps} missing={}B",
            a.missing_bytes + b.missing_bytes
        ));
    }
    let rtx = a.retransmitted + b.retransmitted;
    if rtx > 0 {
        marks.push(format!("retrans={rtx}"));
    }
    let ooo = a.out_of_order + b.out_of_order;
    if ooo > 0 {
        marks.push(format!("ooo={ooo}"));
    }
    let conflicts = a.overlap_conflicts + b.overlap_conflicts;
    if conflicts > 0 {
        marks.push(format!("OVERLAP-CONFLICT={conflicts}"));
    }
    if let Some(t) = &c.tls {
        marks.push(tls_summary(t));
    }
    if !c.also_seen_in.is_empty() {
        let files: Vec<String> = c
            .also_seen_in
            .iter()
            .map(|s| format!("[{}]", s.file))
            .collect();
        marks.push(format!("also-seen-in={}", files.join(",")));
    }
    format!(
        "#{:<5} {} {:>9.3}s  {} -> {}  {:<7} up {}B/{}p  down {}B/{}p  {}",
        c.id,
        utc(c.start),
        dur,
        c.client,
        c.server,
        c.close.name(),
        a.bytes,
        a.packets,
        b.bytes,
        b.packets,
        marks.join(" ")
    )
}

/// One line of what TLS on a stream is and whether it was decrypted, e.g.
/// `TLS 1.3 TLS_AES_128_GCM_SHA256 decrypted 566B/106143B sni=localhost alpn=http/1.1` or
/// `TLS 1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 not decrypted: no-keys sni=example.test
/// alpn=[h2,http/1.1]` (the ALPN protocol selected, else the ones offered in brackets). The
/// SNI and ALPN come from the wire: escaped for the terminal.
pub fn tls_summary(t: &TlsInfo) -> String {
    let mut s = terminal_safe_str(t.version.as_deref().unwrap_or("TLS"));
    if let Some(c) = &t.cipher_suite {
        s.push(' ');
        s.push_str(&terminal_safe_str(c));
    }
    if t.decrypted {
        s.push_str(&format!(
            " decrypted {}B/{}B",
            t.client_bytes, t.server_bytes
        ));
    } else {
        match &t.not_decrypted {
            Some(why) => s.push_str(&format!(" not decrypted: {}", terminal_safe_str(why))),
            None => s.push_str(" no encrypted data"),
        }
    }
    if !t.sni.is_empty() {
        s.push_str(&format!(" sni={}", terminal_safe_str(&t.sni.join(","))));
    }
    match &t.alpn_selected {
        Some(a) => s.push_str(&format!(" alpn={}", terminal_safe_str(a))),
        None if !t.alpn.is_empty() => {
            s.push_str(&format!(" alpn=[{}]", terminal_safe_str(&t.alpn.join(","))))
        }
        None => {}
    }
    s
}

/// The summary's TLS lines: how many TLS streams were decrypted, why the others were not,
/// and where the keys came from (paths escaped for the terminal).
fn tls_lines(t: &TlsStats) -> Vec<String> {
    if t.connections == 0 && t.key_sources.is_empty() {
        return Vec::new();
    }
    let mut line = format!(
        "  tls: decrypted {} of {} TLS streams",
        t.decrypted, t.connections
    );
    if !t.not_decrypted.is_empty() {
        let why: Vec<String> = t
            .not_decrypted
            .iter()
            .map(|(k, v)| format!("{} {v}", terminal_safe_str(k)))
            .collect();
        line.push_str(&format!(" (not decrypted: {})", why.join(", ")));
    }
    if t.records_decrypted > 0 {
        line.push_str(&format!(
            "; {} records, {} bytes decrypted",
            t.records_decrypted, t.bytes_decrypted
        ));
    }
    let keys = if t.key_sources.is_empty() {
        "  tls keys: none given (--tls-keylog FILE, $SSLKEYLOGFILE or a pcapng secrets block; \
         see docs/tls.md)"
            .to_string()
    } else {
        let sources: Vec<String> = t.key_sources.iter().map(|k| terminal_safe_str(k)).collect();
        format!(
            "  tls keys: {} client randoms from {}",
            t.keys,
            sources.join(", ")
        )
    };
    vec![line, keys]
}

fn finding_line(f: &Finding) -> String {
    let mut place = String::new();
    if let Some(c) = f.connection {
        place.push_str(&format!(" conn #{c}"));
    }
    if let Some(p) = f.packet {
        place.push_str(&format!(" pkt {p}"));
    }
    format!(
        "{:<7} {}{}: {}",
        f.severity().name(),
        terminal_safe_str(f.code.name),
        place,
        terminal_safe_str(&f.message)
    )
}

/// Files listed in the summary at most (the rest are counted).
const MAX_FILES_LISTED: usize = 50;

/// Several inputs (or one with a clock offset): each file with its packets, its offset when
/// not 0 and its error.
fn write_files(w: &mut impl Write, s: &CaptureSummary) -> io::Result<()> {
    if s.files.len() < 2 && s.files.iter().all(|f| f.clock_offset_s == 0.0) {
        return Ok(());
    }
    // A live capture over several interfaces lists them (each is an input).
    let what = if s.format == "live" {
        "interfaces"
    } else {
        "files"
    };
    writeln!(w, "  {} {what}:", s.files.len())?;
    for (i, f) in s.files.iter().enumerate().take(MAX_FILES_LISTED) {
        let mut line = format!(
            "    [{i}] {}: {} packets ({}",
            terminal_safe_str(&f.path),
            f.packets,
            f.format
        );
        if let Some(c) = &f.compression {
            line.push_str(&format!(", {c}"));
        }
        line.push(')');
        if f.clock_offset_s != 0.0 || f.offset_source != "none" {
            line.push_str(&format!(
                ", clock {:+} s ({}",
                f.clock_offset_s, f.offset_source
            ));
            if let (Some(u), Some(n)) = (f.clock_offset_uncertainty_s, f.clock_offset_pairs) {
                line.push_str(&format!(" ± {:.3} ms, {n} pairs", u * 1000.0));
            }
            if let (Some(u), Some(n)) = (f.clock_offset_uncertainty_s, f.clock_offset_connections) {
                line.push_str(&format!(" ± {:.3} ms, {n} connections", u * 1000.0));
            }
            line.push(')');
        }
        if f.duplicate_packets > 0 {
            line.push_str(&format!(
                ", {} packets of connections analysed from another input",
                f.duplicate_packets
            ));
        }
        if let Some(d) = &f.dropped
            && d.kernel + d.interface + d.hopscope > 0
        {
            line.push_str(&format!(
                ", dropped: kernel {}, interface {}, hopscope {}",
                d.kernel, d.interface, d.hopscope
            ));
        }
        if let Some(e) = &f.error {
            line.push_str(&format!(", error: {}", terminal_safe_str(e)));
        }
        writeln!(w, "{line}")?;
    }
    if s.files.len() > MAX_FILES_LISTED {
        writeln!(w, "    ... {} more", s.files.len() - MAX_FILES_LISTED)?;
    }
    Ok(())
}

impl TextWriter {
    fn take(&mut self, record: &Record) -> io::Result<Flow> {
        let res = match record {
            Record::Connection(c) => {
                *self.by_close.entry(c.close.name()).or_default() += 1;
                self.connections.push(c.id, connection_line(c).as_bytes())
            }
            Record::Transaction(t) => {
                if let Some(r) = &t.request {
                    *self
                        .by_method
                        .entry(terminal_safe_str(&r.method))
                        .or_default() += 1;
                }
                let class = t
                    .response
                    .as_ref()
                    .map_or("none".to_string(), |r| format!("{}xx", r.status / 100));
                *self.by_status.entry(class).or_default() += 1;
                let mut line = transaction_line(t);
                if let Some(sem) = &t.semantics {
                    for l in super::semantics_text::lines(sem) {
                        line.push('\n');
                        line.push_str(&l);
                    }
                }
                self.transactions.push(t.id, line.as_bytes())
            }
            Record::WebSocket(x) => self.websockets.push(x.id, websocket_line(x).as_bytes()),
            Record::WsMessage(m) => self.ws_messages.push(
                (m.websocket << 32) | m.index.min(u64::from(u32::MAX)),
                message_line(m).as_bytes(),
            ),
            Record::Tunnel(x) => self.tunnels.push(x.id, tunnel_line(x).as_bytes()),
            Record::Http2(x) => self.http2.push(x.id, http2_line(x).as_bytes()),
            Record::ProxyHop(x) => self.hops.push(x.id, hop_lines(x).as_bytes()),
            Record::Finding(f) => {
                *self.by_severity.entry(f.severity().name()).or_default() += 1;
                self.findings
                    .push(f.packet.unwrap_or(u64::MAX), finding_line(f).as_bytes())
            }
        };
        res?;
        Ok(Flow::Continue)
    }
}

impl Sink for TextWriter {
    fn record(&mut self, record: Record) -> io::Result<Flow> {
        self.take(&record)
    }

    fn record_ref(&mut self, record: &Record) -> Option<io::Result<Flow>> {
        Some(self.take(record))
    }

    fn finish(&mut self, s: &CaptureSummary) -> io::Result<()> {
        let mut w = io::BufWriter::new(&mut self.out);
        writeln!(w, "Connections ({}):", self.connections.len())?;
        self.connections.write_sorted(&mut w, b"\n")?;
        if !self.connections.is_empty() {
            writeln!(w)?;
        }
        if !self.transactions.is_empty() {
            writeln!(w, "\nHTTP transactions ({}):", self.transactions.len())?;
            self.transactions.write_sorted(&mut w, b"\n")?;
            writeln!(w)?;
        }
        if !self.websockets.is_empty() {
            writeln!(
                w,
                "\nWebSocket conversations ({}), messages ({}):",
                self.websockets.len(),
                self.ws_messages.len()
            )?;
            self.websockets.write_sorted(&mut w, b"\n")?;
            writeln!(w)?;
            self.ws_messages.write_sorted(&mut w, b"\n")?;
            writeln!(w)?;
        }
        if !self.tunnels.is_empty() {
            writeln!(w, "\nTunnels ({}):", self.tunnels.len())?;
            self.tunnels.write_sorted(&mut w, b"\n")?;
            writeln!(w)?;
        }
        if !self.http2.is_empty() {
            writeln!(w, "\nHTTP/2 ({}):", self.http2.len())?;
            self.http2.write_sorted(&mut w, b"\n")?;
            writeln!(w)?;
        }
        if !self.hops.is_empty() {
            writeln!(w, "\nProxy hops ({}):", self.hops.len())?;
            self.hops.write_sorted(&mut w, b"\n")?;
            writeln!(w)?;
        }
        writeln!(w, "\nFindings ({}):", self.findings.len())?;
        self.findings.write_sorted(&mut w, b"\n")?;
        if !self.findings.is_empty() {
            writeln!(w)?;
        }
        writeln!(w, "\nSummary:")?;
        writeln!(
            w,
            "  {}: {} packets, {} bytes ({})",
            terminal_safe_str(&s.source),
            s.packets,
            s.bytes,
            s.format
        )?;
        write_files(&mut w, s)?;
        if let Some(f) = &s.filter {
            writeln!(
                w,
                "  filter {}: {} of {} transactions kept",
                terminal_safe_str(&f.expression),
                f.transactions_kept,
                f.transactions_kept + f.transactions_dropped
            )?;
        }
        let links: Vec<String> = s
            .link_types
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        writeln!(w, "  link types: {}", links.join(", "))?;
        writeln!(
            w,
            "  truncated {}, undecodable {}, non-TCP {}, IP fragments {}",
            s.truncated,
            s.undecodable,
            s.decode.udp + s.decode.icmp + s.decode.other_ip + s.decode.non_ip,
            s.decode.ipv4_fragments + s.decode.ipv6_fragments
        )?;
        let closes: Vec<String> = self
            .by_close
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        if closes.is_empty() {
            writeln!(w, "  connections: {}", s.tcp.connections)?;
        } else {
            writeln!(
                w,
                "  connections: {} ({})",
                s.tcp.connections,
                closes.join(", ")
            )?;
        }
        if !self.transactions.is_empty() {
            let methods: Vec<String> = self
                .by_method
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let statuses: Vec<String> = self
                .by_status
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            writeln!(
                w,
                "  http: {} transactions; methods: {}; status: {}",
                self.transactions.len(),
                methods.join(", "),
                statuses.join(", ")
            )?;
        }
        for l in s.tls.as_ref().map(tls_lines).unwrap_or_default() {
            writeln!(w, "{l}")?;
        }
        let sev: Vec<String> = self
            .by_severity
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            w,
            "  findings: {}",
            if sev.is_empty() {
                "none".into()
            } else {
                sev.join(", ")
            }
        )?;
        if let Some(d) = &s.dropped {
            writeln!(
                w,
                "  dropped: kernel {}, interface {}, hopscope {}",
                d.kernel, d.interface, d.hopscope
            )?;
        }
        if let Some(e) = &s.error {
            writeln!(w, "  error: {}", terminal_safe_str(e))?;
        }
        w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Endpoint;

    #[test]
    fn live_interfaces_are_listed_with_their_drops() {
        use crate::model::{Dropped, FileSummary};
        let iface = |path: &str, hopscope: u64| FileSummary {
            path: path.into(),
            format: "live".into(),
            packets: 3,
            offset_source: "none".into(),
            dropped: Some(Dropped {
                hopscope,
                ..Dropped::default()
            }),
            ..FileSummary::default()
        };
        let s = CaptureSummary {
            format: "live".into(),
            files: vec![iface("live:lo", 0), iface("live:eth0", 7)],
            ..CaptureSummary::default()
        };
        let mut out = Vec::new();
        write_files(&mut out, &s).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "  2 interfaces:\n    [0] live:lo: 3 packets (live)\n    [1] live:eth0: 3 packets \
             (live), dropped: kernel 0, interface 0, hopscope 7\n"
        );
    }
    use crate::model::http2::{Http2Stream, PerDir};

    fn h2(streams: Vec<Http2Stream>) -> Http2Record {
        let ep = |port| Endpoint {
            ip: [192, 0, 2, 1].into(),
            port,
        };
        Http2Record {
            id: 3,
            connection: 7,
            client: ep(40000),
            server: ep(80),
            mode: "prior-knowledge",
            transaction: None,
            preface_seen: true,
            frames: PerDir {
                client_to_server: [("HEADERS", 1), ("SETTINGS", 2)].into_iter().collect(),
                server_to_client: [("DATA", 1)].into_iter().collect(),
            },
            settings: Default::default(),
            streams,
            goaway: None,
            bytes: PerDir::default(),
            lost_bytes: PerDir::default(),
            untracked_stream_frames: 0,
            notes_dropped: 0,
            transactions: Vec::new(),
            flow: PerDir::default(),
            initial_window: PerDir::default(),
            connection_frames: Vec::new(),
            connection_frames_dropped: 0,
            settings_frames: Vec::new(),
            settings_frames_dropped: 0,
            ping: PerDir::default(),
        }
    }

    fn stream(id: u32, method: &str, path: &str, status: Option<u16>) -> Http2Stream {
        Http2Stream {
            id,
            opened_by: "client",
            method: Some(method.into()),
            path: Some(path.into()),
            status,
            data_bytes: PerDir::default(),
            ended: PerDir::default(),
            reset: None,
            flow: PerDir::default(),
            frames: Vec::new(),
            frames_dropped: 0,
        }
    }

    /// A hop's body length change reads in the order the message travelled.
    #[test]
    fn hop_lines_show_a_changed_body_length_in_travel_order() {
        use crate::model::hops::{Change, Leg, MessageDiff, ProxyHopRecord, ProxyInfo};
        let ep = |port| Endpoint {
            ip: [192, 0, 2, 1].into(),
            port,
        };
        let change = |front: &str, back: &str| {
            Some(Change {
                front: front.into(),
                back: back.into(),
            })
        };
        let h = ProxyHopRecord {
            id: 0,
            front: Leg {
                connection: 0,
                transaction: 0,
            },
            back: Some(Leg {
                connection: 1,
                transaction: 1,
            }),
            client: ep(40000),
            proxy: ProxyInfo {
                address: ep(443),
                back_address: None,
                product: None,
                product_from: None,
            },
            upstream: Some(ep(8080)),
            evidence: Vec::new(),
            confidence: "high",
            score: 10,
            request: MessageDiff {
                body_length: change("3000", "2999"),
                ..MessageDiff::default()
            },
            response: MessageDiff {
                body_length: change("100", "105"),
                ..MessageDiff::default()
            },
            next_hop: None,
            relay: None,
            diagnosis: vec!["proxy.body-length-changed"],
        };
        let s = hop_lines(&h);
        assert!(s.contains("request body length 3000 → 2999"), "{s}");
        assert!(s.contains("response body length 105 → 100"), "{s}");
    }

    #[test]
    fn http2_line_shows_frames_and_streams() {
        let line = http2_line(&h2(vec![
            stream(1, "GET", "/a", Some(200)),
            Http2Stream {
                reset: Some(8),
                ..stream(3, "POST", "/b", None)
            },
        ]));
        assert_eq!(
            line,
            "h2#3    #7 192.0.2.1:40000 -> 192.0.2.1:80  prior-knowledge  frames up 3 \
             [HEADERS 1, SETTINGS 2] down 1 [DATA 1]  streams 2: 1 GET /a → 200, \
             3 POST /b → --- RST_STREAM 8"
        );
    }

    #[test]
    fn http2_line_never_carries_control_bytes_and_is_bounded() {
        let long = "/".repeat(500);
        let mut streams = vec![stream(
            1,
            "G\x1b[2JET",
            "/\x1b]0;owned\x07\u{9b}31m",
            Some(200),
        )];
        streams.extend((0..20).map(|i| stream(2 * i + 3, "GET", &long, None)));
        let line = http2_line(&h2(streams));
        assert!(
            !line
                .chars()
                .any(|c| c.is_control() || ('\u{80}'..'\u{a0}').contains(&c)),
            "{line}"
        );
        assert!(line.contains("G\\x1b[2JET /\\x1b]0;owned\\x07\\u{9b}31m → 200"));
        assert!(line.contains("+11 more"), "{line}");
        assert!(line.len() < 2000, "{}", line.len());
    }

    #[test]
    fn tls_summary_says_what_and_why_and_escapes_the_wire_strings() {
        let t = TlsInfo {
            sni: vec!["evil\x1b]0;owned\x07.test".into()],
            alpn: vec!["h2".into(), "http/1.1\u{9b}31m".into()],
            version: Some("TLS 1.2".into()),
            cipher_suite: Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()),
            not_decrypted: Some("no-keys".into()),
            ..TlsInfo::default()
        };
        assert_eq!(
            tls_summary(&t),
            "TLS 1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 not decrypted: no-keys \
             sni=evil\\x1b]0;owned\\x07.test alpn=[h2,http/1.1\\u{9b}31m]"
        );
        let d = TlsInfo {
            decrypted: true,
            not_decrypted: None,
            alpn_selected: Some("http/1.1".into()),
            client_bytes: 5,
            server_bytes: 7,
            ..t
        };
        assert!(
            tls_summary(&d).contains(" decrypted 5B/7B sni=")
                && tls_summary(&d).ends_with(" alpn=http/1.1"),
            "{}",
            tls_summary(&d)
        );
        let none = TlsInfo::default();
        assert_eq!(tls_summary(&none), "TLS no encrypted data");
    }
}
