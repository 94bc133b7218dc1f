//! JSON report writers. The layout is documented in `docs/json-format.md`.

use std::io::{self, Write};

use serde::Serialize;

use super::fastjson;
use super::spool::Spool;
use crate::model::{CaptureSummary, Flow, Record, SCHEMA_VERSION, Sink};

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

const TOOL: Tool = Tool {
    name: "hopscope",
    version: env!("CARGO_PKG_VERSION"),
};

/// One JSON document: `schema_version`, `tool`, `capture`, `connections[]` (by id),
/// `transactions[]`, `websockets[]`, `tunnels[]`, `http2[]`, `proxy_hops[]` (by id),
/// `findings[]` (by packet). Records are spooled with bounded memory until the end.
pub struct DocumentWriter {
    out: Box<dyn Write>,
    connections: Spool,
    transactions: Spool,
    websockets: Spool,
    ws_messages: Spool,
    tunnels: Spool,
    http2: Spool,
    hops: Spool,
    findings: Spool,
}

/// Sort key of a WebSocket message: its conversation, then its index.
fn message_key(ws: u64, index: u64) -> u64 {
    (ws << 32) | index.min(u64::from(u32::MAX))
}

impl DocumentWriter {
    pub fn new(out: Box<dyn Write>) -> Self {
        DocumentWriter {
            out,
            connections: Spool::default(),
            transactions: Spool::default(),
            websockets: Spool::default(),
            ws_messages: Spool::default(),
            tunnels: Spool::default(),
            http2: Spool::default(),
            hops: Spool::default(),
            findings: Spool::default(),
        }
    }

    fn write_doc(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        let mut w = io::BufWriter::with_capacity(1 << 16, &mut self.out);
        write!(w, "{{\"schema_version\":{SCHEMA_VERSION},\n\"tool\":")?;
        serde_json::to_writer(&mut w, &TOOL)?;
        w.write_all(b",\n\"capture\":")?;
        serde_json::to_writer(&mut w, summary)?;
        w.write_all(b",\n\"connections\":[\n")?;
        self.connections.write_sorted(&mut w, b",\n")?;
        w.write_all(b"\n],\n\"transactions\":[\n")?;
        self.transactions.write_sorted(&mut w, b",\n")?;
        w.write_all(b"\n],\n\"websockets\":[\n")?;
        write_websockets(&mut self.websockets, &mut self.ws_messages, &mut w)?;
        w.write_all(b"\n],\n\"tunnels\":[\n")?;
        self.tunnels.write_sorted(&mut w, b",\n")?;
        w.write_all(b"\n],\n\"http2\":[\n")?;
        self.http2.write_sorted(&mut w, b",\n")?;
        w.write_all(b"\n],\n\"proxy_hops\":[\n")?;
        self.hops.write_sorted(&mut w, b",\n")?;
        w.write_all(b"\n],\n\"findings\":[\n")?;
        self.findings.write_sorted(&mut w, b",\n")?;
        w.write_all(b"\n]}\n")?;
        w.flush()
    }
}

/// Each conversation with its messages nested as `messages[]` (its last field), merged from
/// the two spools, both sorted by conversation.
fn write_websockets(
    websockets: &mut Spool,
    ws_messages: &mut Spool,
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut convs = websockets.sorted()?;
    let mut msgs = ws_messages.sorted()?;
    let mut msg = Vec::new();
    let mut next_msg = |msg: &mut Vec<u8>| -> io::Result<Option<u64>> {
        Ok(msgs.next_record()?.map(|(k, b)| {
            msg.clear();
            msg.extend_from_slice(b);
            k
        }))
    };
    let mut pending = next_msg(&mut msg)?;
    let mut first_conv = true;
    while let Some((id, conv)) = convs.next_record()? {
        if !first_conv {
            w.write_all(b",\n")?;
        }
        first_conv = false;
        // Messages of conversations that ended without a record (none should) are skipped.
        while pending.is_some_and(|k| k >> 32 < id) {
            pending = next_msg(&mut msg)?;
        }
        let body = conv.strip_suffix(b"}").unwrap_or(conv);
        w.write_all(body)?;
        w.write_all(b",\"messages\":[")?;
        let mut first = true;
        while pending.is_some_and(|k| k >> 32 == id) {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            w.write_all(&msg)?;
            pending = next_msg(&mut msg)?;
        }
        w.write_all(b"]}")?;
    }
    Ok(())
}

impl DocumentWriter {
    fn take(&mut self, record: &Record) -> io::Result<Flow> {
        let res = match record {
            Record::Connection(c) => self
                .connections
                .push_with(c.id, |b| fastjson::to_vec(b, c).map_err(io::Error::from)),
            Record::Transaction(t) => self
                .transactions
                .push_with(t.id, |b| fastjson::to_vec(b, t).map_err(io::Error::from)),
            Record::WebSocket(x) => self
                .websockets
                .push_with(x.id, |b| fastjson::to_vec(b, x).map_err(io::Error::from)),
            Record::WsMessage(m) => self
                .ws_messages
                .push_with(message_key(m.websocket, m.index), |b| {
                    fastjson::to_vec(b, m).map_err(io::Error::from)
                }),
            Record::Tunnel(x) => self
                .tunnels
                .push_with(x.id, |b| fastjson::to_vec(b, x).map_err(io::Error::from)),
            Record::Http2(x) => self
                .http2
                .push_with(x.id, |b| fastjson::to_vec(b, x).map_err(io::Error::from)),
            Record::ProxyHop(x) => self
                .hops
                .push_with(x.id, |b| fastjson::to_vec(b, x).map_err(io::Error::from)),
            Record::Finding(f) => self.findings.push_with(f.packet.unwrap_or(u64::MAX), |b| {
                fastjson::to_vec(b, f).map_err(io::Error::from)
            }),
        };
        res?;
        Ok(Flow::Continue)
    }
}

impl Sink for DocumentWriter {
    fn record(&mut self, record: Record) -> io::Result<Flow> {
        self.take(&record)
    }

    fn record_ref(&mut self, record: &Record) -> Option<io::Result<Flow>> {
        Some(self.take(record))
    }

    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        self.write_doc(summary)
    }
}

/// NDJSON: a `start` line, then one line per record as it completes (each with a `type`),
/// then a `capture` line with the summary.
pub struct NdjsonWriter {
    out: io::BufWriter<Box<dyn Write>>,
    buf: Vec<u8>,
    started: bool,
    /// Flush after every record (live runs), so a reader sees records as they happen.
    pub flush_each: bool,
}

#[derive(Serialize)]
struct Start {
    #[serde(rename = "type")]
    kind: &'static str,
    schema_version: u32,
    tool: Tool,
}

#[derive(Serialize)]
struct End<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    capture: &'a CaptureSummary,
}

impl NdjsonWriter {
    pub fn new(out: Box<dyn Write>) -> Self {
        NdjsonWriter {
            out: io::BufWriter::with_capacity(1 << 16, out),
            buf: Vec::with_capacity(4096),
            started: false,
            flush_each: false,
        }
    }

    /// The `start` line, once.
    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            let start = Start {
                kind: "start",
                schema_version: SCHEMA_VERSION,
                tool: TOOL,
            };
            serde_json::to_writer(&mut self.out, &start)?;
            self.out.write_all(b"\n")?;
            if self.flush_each {
                self.out.flush()?;
            }
        }
        Ok(())
    }

    fn line<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        self.start()?;
        self.buf.clear();
        fastjson::to_vec(&mut self.buf, value)?;
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }
}

impl Sink for NdjsonWriter {
    /// The `start` line goes out at once (a live run's reader sees it before any record).
    fn begin(&mut self) -> io::Result<Flow> {
        self.start()?;
        Ok(Flow::Continue)
    }

    fn record(&mut self, record: Record) -> io::Result<Flow> {
        self.line(&record)?;
        Ok(Flow::Continue)
    }

    fn record_ref(&mut self, record: &Record) -> Option<io::Result<Flow>> {
        Some(self.line(record).map(|()| Flow::Continue))
    }

    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        self.line(&End {
            kind: "capture",
            capture: summary,
        })?;
        self.out.flush()
    }
}
