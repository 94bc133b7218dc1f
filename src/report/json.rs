//! JSON report writers. The layout is documented in `docs/json-format.md`.

use std::io::{self, Write};

use serde::Serialize;

use super::fastjson;
use super::records;
use super::spool::Spool;
use crate::model::http::TransactionRecord;
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

// ---- transactions written ahead --------------------------------------------------------
//
// A run split over threads reports a record after the merge, where the run's busiest thread
// gives it the run's ids and the semantics step adds a transaction's `findings` and
// `semantics`. Everything else of a transaction (`scheme` to `switched_to`, two thirds of the
// report's bytes on the benchmark), and all of a connection or a WebSocket message but its id,
// is final when the worker makes the record: the worker writes it ahead ([`prewrite`]), and
// the merging thread writes the ids, copies that part and writes the rest
// ([`write_from_ahead`]). The bytes are those of the record's derived `Serialize` (the parts
// are `records::middle` and `records::end`; `tests::records_written_ahead_read_as_written_whole`
// compares over the samples, and the goldens and the `--threads` tests compare whole reports).
// On the 10 % prefix with two workers (callgrind) it took the merging thread from 1,151 M
// instructions to 782 M, the workers from 626 M and 644 M to 819 M and 844 M.

/// [`Sink::prewrite`] of the JSON writers: a transaction's middle, as an object; a connection
/// or a WebSocket message whole (its first field is its only id, replaced after the merge;
/// nothing else of it changes there). The other records are few.
pub fn prewrite(r: &Record, out: &mut Vec<u8>) -> bool {
    match r {
        Record::Transaction(t) => prewrite_transaction(t, out),
        Record::Connection(c) => {
            records::connection(out, c, b"{");
            true
        }
        Record::WsMessage(m) => records::ws_message(out, m, b"{").is_ok(),
        _ => false,
    }
}

/// A transaction's middle, as an object. HTTP/2's stream transactions, whose first fields
/// hold more than the ids, are written whole later.
fn prewrite_transaction(t: &TransactionRecord, out: &mut Vec<u8>) -> bool {
    if t.stream_id.is_some() || t.promised_by.is_some() || t.h2c_upgrade.is_some() {
        return false;
    }
    out.push(b'{');
    let ok = records::middle(out, t).is_ok();
    out.push(b'}');
    ok
}

/// The middle written ahead of `t` without its braces, when its writer may use it.
fn written_ahead<'a>(t: &TransactionRecord, ahead: &'a [u8]) -> Option<&'a [u8]> {
    if t.stream_id.is_some() || t.promised_by.is_some() || t.h2c_upgrade.is_some() {
        return None;
    }
    ahead.strip_prefix(b"{")?.strip_suffix(b"}")
}

/// What follows a record's first field `"name":N` (from its comma) in what was written ahead
/// of it whole.
fn after_id<'a>(ahead: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let rest = ahead
        .strip_prefix(b"{\"")?
        .strip_prefix(name)?
        .strip_prefix(b"\":")?;
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest = rest.get(digits..)?;
    (digits > 0 && rest.first() == Some(&b',')).then_some(rest)
}

/// Appends record `r`'s JSON (with its `type` when `tagged`, as an NDJSON line has it) from
/// what was written ahead of it (`ahead`, [`prewrite`]), with the run's ids: `false`, and
/// nothing appended, when there is nothing it can use.
fn write_from_ahead(
    out: &mut Vec<u8>,
    r: &Record,
    ahead: &[u8],
    tagged: bool,
) -> Result<bool, fastjson::Error> {
    let (kind, name, id, rest) = match r {
        Record::Transaction(t) => {
            let Some(middle) = written_ahead(t, ahead) else {
                return Ok(false);
            };
            write_transaction(out, t, middle, tagged)?;
            return Ok(true);
        }
        Record::Connection(c) => ("connection", "id", c.id, ahead),
        Record::WsMessage(m) => ("websocket_message", "websocket", m.websocket, ahead),
        _ => return Ok(false),
    };
    let Some(rest) = after_id(rest, name.as_bytes()) else {
        return Ok(false);
    };
    out.push(b'{');
    if tagged {
        out.extend_from_slice(b"\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",");
    }
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(itoa::Buffer::new().format(id).as_bytes());
    out.extend_from_slice(rest);
    Ok(true)
}

/// Appends transaction `t`'s JSON (with its `type` when `tagged`, as an NDJSON line has it)
/// from its `middle` written ahead (without its braces).
fn write_transaction(
    out: &mut Vec<u8>,
    t: &TransactionRecord,
    middle: &[u8],
    tagged: bool,
) -> Result<(), fastjson::Error> {
    let mut n = itoa::Buffer::new();
    out.extend_from_slice(if tagged {
        b"{\"type\":\"transaction\",\"id\":"
    } else {
        b"{\"id\":"
    });
    out.extend_from_slice(n.format(t.id).as_bytes());
    out.extend_from_slice(b",\"connection\":");
    out.extend_from_slice(n.format(t.connection).as_bytes());
    out.extend_from_slice(b",\"index\":");
    out.extend_from_slice(n.format(t.index).as_bytes());
    out.push(b',');
    out.extend_from_slice(middle);
    records::end(out, t)
}

impl DocumentWriter {
    fn take(&mut self, record: &Record) -> io::Result<Flow> {
        self.take_ahead(record, &[])
    }

    /// A record, from what was written ahead of it when it can be used.
    fn take_ahead(&mut self, record: &Record, ahead: &[u8]) -> io::Result<Flow> {
        /// Its JSON, from what was written ahead when that can be used, else whole.
        fn json(b: &mut Vec<u8>, r: &Record, ahead: &[u8]) -> io::Result<()> {
            if !write_from_ahead(b, r, ahead, false)? {
                records::write_record(b, r, false)?;
            }
            Ok(())
        }
        let r = record;
        let res = match record {
            Record::Connection(c) => self.connections.push_with(c.id, |b| json(b, r, ahead)),
            Record::Transaction(t) => self.transactions.push_with(t.id, |b| json(b, r, ahead)),
            Record::WebSocket(x) => self.websockets.push_with(x.id, |b| json(b, r, ahead)),
            Record::WsMessage(m) => self
                .ws_messages
                .push_with(message_key(m.websocket, m.index), |b| json(b, r, ahead)),
            Record::Tunnel(x) => self.tunnels.push_with(x.id, |b| json(b, r, ahead)),
            Record::Http2(x) => self.http2.push_with(x.id, |b| json(b, r, ahead)),
            Record::ProxyHop(x) => self.hops.push_with(x.id, |b| json(b, r, ahead)),
            Record::Finding(f) => self
                .findings
                .push_with(f.packet.unwrap_or(u64::MAX), |b| json(b, r, ahead)),
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

    fn prewrite(&self) -> Option<fn(&Record, &mut Vec<u8>) -> bool> {
        Some(prewrite)
    }

    fn record_ahead(&mut self, record: &Record, ahead: &[u8]) -> Option<io::Result<Flow>> {
        Some(self.take_ahead(record, ahead))
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
            buf: Vec::with_capacity(BATCH + 4096),
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
        self.line_with(|buf| fastjson::to_vec(buf, value))
    }

    /// A record's line, from what was written ahead of it when that can be used.
    fn record_line(&mut self, record: &Record, ahead: &[u8]) -> io::Result<()> {
        self.line_with(|buf| {
            if ahead.is_empty() || !write_from_ahead(buf, record, ahead, true)? {
                records::write_record(buf, record, true)?;
            }
            Ok(())
        })
    }

    /// Lines gather in `buf` and go to `out` 64 KiB at a time (a write that size skips the
    /// `BufWriter`'s copy), or one at a time when `flush_each`.
    fn line_with(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), fastjson::Error>,
    ) -> io::Result<()> {
        self.start()?;
        let at = self.buf.len();
        if let Err(e) = write(&mut self.buf) {
            self.buf.truncate(at);
            return Err(e.into());
        }
        self.buf.push(b'\n');
        if self.flush_each || self.buf.len() >= BATCH {
            self.write_out()?;
        }
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    /// The lines gathered, to `out`.
    fn write_out(&mut self) -> io::Result<()> {
        let r = self.out.write_all(&self.buf);
        self.buf.clear();
        r
    }
}

/// Bytes of lines an [`NdjsonWriter`] gathers before writing them.
const BATCH: usize = 1 << 16;

/// Lines still gathered go out (a run that stops without `finish`).
impl Drop for NdjsonWriter {
    fn drop(&mut self) {
        let _ = self.write_out();
    }
}

impl Sink for NdjsonWriter {
    /// The `start` line goes out at once (a live run's reader sees it before any record).
    fn begin(&mut self) -> io::Result<Flow> {
        self.start()?;
        Ok(Flow::Continue)
    }

    fn record(&mut self, record: Record) -> io::Result<Flow> {
        self.record_line(&record, &[])?;
        Ok(Flow::Continue)
    }

    fn record_ref(&mut self, record: &Record) -> Option<io::Result<Flow>> {
        Some(self.record_line(record, &[]).map(|()| Flow::Continue))
    }

    fn prewrite(&self) -> Option<fn(&Record, &mut Vec<u8>) -> bool> {
        Some(prewrite)
    }

    fn record_ahead(&mut self, record: &Record, ahead: &[u8]) -> Option<io::Result<Flow>> {
        Some(self.record_line(record, ahead).map(|()| Flow::Continue))
    }

    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        self.line(&End {
            kind: "capture",
            capture: summary,
        })?;
        self.write_out()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::analyzers::AnalyzerConfig;
    use crate::capture::file::FileSource;
    use crate::engine::EngineConfig;
    use crate::pipeline::{CaptureClock, Pipeline};

    /// Every record of the samples (one thread: nothing written ahead).
    fn sample_records() -> Vec<Record> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .collect();
        names.sort();
        let mut out = Vec::new();
        for path in names {
            let Ok(mut src) = FileSource::open(&path) else {
                continue;
            };
            let mut p = Pipeline::new(
                EngineConfig::default(),
                AnalyzerConfig::default(),
                Vec::new(),
            );
            p.run(&mut src, &CaptureClock);
            out.extend(p.into_sink());
        }
        out
    }

    /// A record's JSON whole, without its `type` (as the JSON document has it).
    fn untagged(r: &Record) -> Vec<u8> {
        let mut v = Vec::new();
        match r {
            Record::Transaction(t) => fastjson::to_vec(&mut v, t),
            Record::Connection(c) => fastjson::to_vec(&mut v, c),
            Record::WsMessage(m) => fastjson::to_vec(&mut v, m),
            other => fastjson::to_vec(&mut v, other),
        }
        .unwrap();
        v
    }

    /// A record written from what was written ahead of it is the one written whole, tagged
    /// (NDJSON) and not (the JSON document), over every record of the samples; and a
    /// transaction's findings added after its middle was written (as the semantics step adds
    /// them after the merge) come after it.
    #[test]
    fn records_written_ahead_read_as_written_whole() {
        let records = sample_records();
        let mut compared = [0usize; 3];
        let mut whole = 0;
        for r in &records {
            let mut ahead = Vec::new();
            if !prewrite(r, &mut ahead) {
                // HTTP/2 streams, and the records never written ahead.
                if let Record::Transaction(t) = r {
                    assert!(t.stream_id.is_some());
                }
                assert!(
                    !write_from_ahead(&mut Vec::new(), r, b"{\"id\":1,\"x\":2}", true).unwrap()
                );
                whole += 1;
                continue;
            }
            for tagged in [true, false] {
                let expect = if tagged {
                    let mut v = Vec::new();
                    fastjson::to_vec(&mut v, r).unwrap();
                    v
                } else {
                    untagged(r)
                };
                let mut got = Vec::new();
                assert!(write_from_ahead(&mut got, r, &ahead, tagged).unwrap());
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&expect),
                    "tagged: {tagged}"
                );
                let k = match r {
                    Record::Transaction(_) => 0,
                    Record::Connection(_) => 1,
                    _ => 2,
                };
                compared[k] += 1;
            }
        }
        assert!(
            compared.iter().all(|&n| n > 20) && whole > 0,
            "{compared:?} compared, {whole} whole"
        );
        let with_semantics = records
            .iter()
            .filter(|r| matches!(r, Record::Transaction(t) if t.semantics.is_some()))
            .count();
        assert!(with_semantics > 10, "{with_semantics} with semantics");
        let Some(Record::Transaction(t)) = records.iter().find(|r| {
            matches!(r, Record::Transaction(t) if t.stream_id.is_none() && t.findings.is_empty())
        }) else {
            panic!("no plain transaction");
        };
        let mut t = t.clone();
        let mut ahead = Vec::new();
        assert!(prewrite(&Record::Transaction(t.clone()), &mut ahead));
        t.findings.push("http.example");
        let mut got = Vec::new();
        write_transaction(&mut got, &t, written_ahead(&t, &ahead).unwrap(), false).unwrap();
        let mut expect = Vec::new();
        fastjson::to_vec(&mut expect, &*t).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expect)
        );
        assert!(got.ends_with(b",\"findings\":[\"http.example\"]}"));
        // What was written ahead of another record (or cut short) is not used.
        assert!(!write_from_ahead(&mut Vec::new(), &Record::Transaction(t), b"{", true).unwrap());
    }
}
