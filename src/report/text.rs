//! Human-readable report: one line per connection, the findings, then a summary.
//! Everything that could come from the wire passes through [`super::sanitize`].

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::ReportWriter;
use super::sanitize::terminal_safe_str;
use super::spool::Spool;
use crate::capture::Timestamp;
use crate::model::http::{BodyRecord, TransactionRecord};
use crate::model::tunnel::TunnelRecord;
use crate::model::websocket::{WebSocketRecord, WsMessageRecord};
use crate::model::{
    CaptureSummary, CloseKind, ConnectionRecord, Finding, Record, RecordSink, Severity,
};

pub struct TextWriter {
    out: Box<dyn Write>,
    connections: Spool,
    transactions: Spool,
    websockets: Spool,
    ws_messages: Spool,
    tunnels: Spool,
    findings: Spool,
    by_severity: BTreeMap<&'static str, u64>,
    by_close: BTreeMap<&'static str, u64>,
    by_method: BTreeMap<String, u64>,
    by_status: BTreeMap<String, u64>,
    error: Option<io::Error>,
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
            findings: Spool::default(),
            by_severity: BTreeMap::new(),
            by_close: BTreeMap::new(),
            by_method: BTreeMap::new(),
            by_status: BTreeMap::new(),
            error: None,
        }
    }
}

fn close_name(c: CloseKind) -> &'static str {
    match c {
        CloseKind::Fin => "fin",
        CloseKind::Rst => "rst",
        CloseKind::Timeout => "timeout",
        CloseKind::Open => "open",
        CloseKind::Evicted => "evicted",
        CloseKind::Reused => "reused",
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// `2026-11-24 08:55:58.405399` (UTC), from packet time.
pub fn utc(ts: Timestamp) -> String {
    let ns = ts.0.rem_euclid(1_000_000_000);
    let secs = ts.0.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:06}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        ns / 1000
    )
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
            let host = r
                .headers
                .get("host")
                .map(|v| String::from_utf8_lossy(v).into_owned())
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
    let shown_target = if target.starts_with('/') && !host.is_empty() {
        format!("{host}{target}")
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

fn tunnel_line(x: &TunnelRecord) -> String {
    let target = terminal_safe_str(x.target.as_deref().unwrap_or("?"));
    let state = match (&x.refused, x.established) {
        (Some(r), _) => format!("REFUSED {}", terminal_safe_str(r)),
        (None, true) => "established".into(),
        (None, false) => "not established".into(),
    };
    let mut inner = x.inner.clone();
    if let Some(t) = &x.tls {
        inner.push_str(&format!(
            " sni={} alpn={}",
            terminal_safe_str(&t.sni.join(",")),
            terminal_safe_str(&t.alpn.join(","))
        ));
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

fn websocket_line(x: &WebSocketRecord) -> String {
    let h = &x.handshake;
    let mut marks = Vec::new();
    if h.midstream {
        marks.push("midstream".to_string());
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
    format!(
        "#{:<5} {} {:>9.3}s  {} -> {}  {:<7} up {}B/{}p  down {}B/{}p  {}",
        c.id,
        utc(c.start),
        dur,
        c.client,
        c.server,
        close_name(c.close),
        a.bytes,
        a.packets,
        b.bytes,
        b.packets,
        marks.join(" ")
    )
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
        severity_name(f.severity),
        terminal_safe_str(&f.code),
        place,
        terminal_safe_str(&f.message)
    )
}

impl RecordSink for TextWriter {
    fn record(&mut self, record: Record) {
        if self.error.is_some() {
            return;
        }
        let res = match &record {
            Record::Connection(c) => {
                *self.by_close.entry(close_name(c.close)).or_default() += 1;
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
            Record::Finding(f) => {
                *self
                    .by_severity
                    .entry(severity_name(f.severity))
                    .or_default() += 1;
                self.findings
                    .push(f.packet.unwrap_or(u64::MAX), finding_line(f).as_bytes())
            }
        };
        if let Err(e) = res {
            self.error = Some(e);
        }
    }
}

impl ReportWriter for TextWriter {
    fn finish(&mut self, s: &CaptureSummary) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
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
        writeln!(
            w,
            "  connections: {} ({})",
            s.tcp.connections,
            closes.join(", ")
        )?;
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

    fn failed(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }
}
