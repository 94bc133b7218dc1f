//! Human-readable report: one line per connection, the findings, then a summary.
//! Everything that could come from the wire passes through [`super::sanitize`].

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::ReportWriter;
use super::sanitize::terminal_safe_str;
use super::spool::Spool;
use crate::model::{
    CaptureSummary, CloseKind, ConnectionRecord, Finding, Record, RecordSink, Severity,
};

pub struct TextWriter {
    out: Box<dyn Write>,
    connections: Spool,
    findings: Spool,
    by_severity: BTreeMap<&'static str, u64>,
    by_close: BTreeMap<&'static str, u64>,
    error: Option<io::Error>,
}

impl TextWriter {
    pub fn new(out: Box<dyn Write>) -> Self {
        TextWriter {
            out,
            connections: Spool::default(),
            findings: Spool::default(),
            by_severity: BTreeMap::new(),
            by_close: BTreeMap::new(),
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
        c.start,
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
