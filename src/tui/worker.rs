//! The threads that feed the UI: the analysis of a file or a live capture, the second pass
//! that reads one connection's bytes for the Stream view, and the `w` snapshot.
//!
//! They run the same pipeline as `run.rs` and send the UI [`Event`]s over its bounded
//! channel: record batches (every 50 ms or 10k records, whichever comes first) and progress.
//! A full channel makes the analysis wait, never the UI.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use super::app::{Done, Event, Progress};
use super::stream::StreamCollector;
use crate::analyzers::{AnalyzerConfig, Dispatcher};
use crate::capture::file::FileSource;
use crate::capture::live::LiveSession;
use crate::engine::{Engine, EngineConfig};
use crate::hops::Correlator;
use crate::model::{CaptureSummary, Dropped, Finding, Record, RecordSink, Severity};
use crate::semantics::SemanticsSink;

/// Records per batch at most.
const BATCH: usize = 10_000;
/// A batch and a progress event at least this often.
const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// Collects records and sends them to the UI in batches.
pub struct BatchSink {
    buf: Vec<Record>,
    tx: SyncSender<Event>,
    /// The UI is gone.
    pub closed: bool,
}

impl BatchSink {
    pub fn new(tx: SyncSender<Event>) -> Self {
        BatchSink {
            buf: Vec::new(),
            tx,
            closed: false,
        }
    }

    pub fn flush(&mut self) {
        if self.buf.is_empty() || self.closed {
            return;
        }
        let batch = std::mem::take(&mut self.buf);
        if self.tx.send(Event::Records(batch)).is_err() {
            self.closed = true;
        }
    }

    pub fn send(&mut self, ev: Event) {
        if !self.closed && self.tx.send(ev).is_err() {
            self.closed = true;
        }
    }
}

impl RecordSink for BatchSink {
    fn record(&mut self, record: Record) {
        self.buf.push(record);
        if self.buf.len() >= BATCH {
            self.flush();
        }
    }
}

/// The steps between the engine and the UI, in the order `hopscope report` runs them
/// (`run.rs`: `HopSink` over `SemanticsSink` over the writer): proxy legs are correlated
/// first (the correlator only reads transactions), then the semantics step fills each
/// transaction's `semantics`, then `inner` gets everything, the `ProxyHop` records and the
/// `proxy.*` findings included. The record handling is `hops::HopSink`'s; it is not reused
/// as is because that one wraps a `ReportWriter` behind a borrow, and the worker needs its
/// `BatchSink` (flushes, progress, `closed`) at hand between packets.
pub struct Pipeline<S> {
    corr: Correlator,
    /// The semantics step and, inside it (`inner.inner`), the destination.
    pub inner: SemanticsSink<S>,
}

impl<S: RecordSink> Pipeline<S> {
    pub fn new(inner: S) -> Self {
        Pipeline {
            corr: Correlator::default(),
            inner: SemanticsSink::new(inner),
        }
    }

    /// The destination.
    pub fn sink(&mut self) -> &mut S {
        &mut self.inner.inner
    }

    /// The end of the capture, after `Engine::finish`: the hops still waiting are decided,
    /// and the summary gets the semantics step's statistics (as `SemanticsSink::finish` does
    /// for a report).
    pub fn finish(&mut self, summary: &mut CaptureSummary) {
        self.corr.finish(&mut self.inner);
        summary.semantics = Some(self.inner.stats());
    }
}

impl<S: RecordSink> RecordSink for Pipeline<S> {
    fn record(&mut self, record: Record) {
        self.corr.relay(record, &mut self.inner);
    }
}

/// The analyzer settings of the TUI: body previews (pretty JSON and hex need them), large
/// message previews and the frames of each message.
pub fn ui_app_config(mut cfg: AnalyzerConfig) -> AnalyzerConfig {
    cfg.http.preview = cfg.http.preview.max(16 << 10);
    cfg.ws.preview = cfg.ws.preview.max(64 << 10);
    cfg.ws.frames = true;
    cfg.ws.binary_preview = true;
    cfg
}

/// Analyses a file, sending records and progress until the end (or until `cancel`).
pub fn analyse_file(
    path: &Path,
    cfg: EngineConfig,
    app: AnalyzerConfig,
    tx: SyncSender<Event>,
    cancel: Arc<AtomicBool>,
) {
    let started = Instant::now();
    let mut sink = Pipeline::new(BatchSink::new(tx));
    let mut src = match FileSource::open(path) {
        Ok(s) => s,
        Err(e) => {
            let mut summary = crate::model::CaptureSummary {
                source: path.display().to_string(),
                ..Default::default()
            };
            summary.error = Some(e.to_string());
            sink.record(Record::Finding(Finding::new(
                "capture.incomplete",
                Severity::Error,
                format!("{e}; nothing could be analysed"),
            )));
            sink.sink().flush();
            sink.sink().send(Event::Done(Done {
                summary: Box::new(summary),
                error: Some(e.to_string()),
            }));
            return;
        }
    };
    let total = src.len();
    let mut engine = Engine::with_analyzer(cfg, Dispatcher::new(app));
    let mut last = Instant::now();
    let mut stop_err = None;
    let progress = |engine: &Engine<Dispatcher>, done: u64| Progress {
        bytes_done: done,
        bytes_total: total,
        packets: engine.packets(),
        flows: engine.live_flows(),
        elapsed: started.elapsed().as_secs_f64(),
        dropped: None,
    };
    loop {
        match src.next_packet() {
            Ok(Some(pkt)) => {
                engine.handle_packet(&pkt, &mut sink);
                if engine.packets().is_multiple_of(512) {
                    if cancel.load(Ordering::Relaxed) || sink.sink().closed {
                        return;
                    }
                    if last.elapsed() >= FLUSH_EVERY {
                        last = Instant::now();
                        sink.sink().flush();
                        sink.sink()
                            .send(Event::Progress(progress(&engine, src.offset())));
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                stop_err = Some(e);
                break;
            }
        }
    }
    if let Some(e) = &stop_err {
        sink.record(Record::Finding(Finding::new(
            "capture.incomplete",
            Severity::Error,
            format!("{e}; everything before it was analysed"),
        )));
    }
    let mut summary = engine.finish(&mut sink);
    sink.finish(&mut summary);
    summary.source = path.display().to_string();
    summary.format = src.format().to_string();
    summary.error = stop_err.as_ref().map(|e| e.to_string());
    sink.sink().flush();
    sink.sink()
        .send(Event::Progress(progress(&engine, src.offset())));
    sink.sink().send(Event::Done(Done {
        error: summary.error.clone(),
        summary: Box::new(summary),
    }));
}

/// Analyses a live capture until it ends (`-c`, `--duration`) or `cancel` is set.
pub fn analyse_live(
    mut session: LiveSession,
    source: String,
    cfg: EngineConfig,
    app: AnalyzerConfig,
    tx: SyncSender<Event>,
    cancel: Arc<AtomicBool>,
) {
    let mut sink = Pipeline::new(BatchSink::new(tx));
    let mut engine = Engine::with_analyzer(cfg, Dispatcher::new(app));
    let mut bytes = 0u64;
    let mut last = Instant::now();
    loop {
        if cancel.load(Ordering::Relaxed) || sink.sink().closed {
            session.request_stop();
        }
        session.poll_stop();
        match session.rx.recv_timeout(Duration::from_millis(50)) {
            Ok(pkt) => {
                bytes += pkt.data.len() as u64;
                engine.handle_packet(&pkt.view(), &mut sink);
            }
            Err(RecvTimeoutError::Timeout) => {
                engine.tick(crate::capture::live::quiet_clock(), &mut sink);
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last.elapsed() >= FLUSH_EVERY {
            last = Instant::now();
            sink.sink().flush();
            let (pcap, ours) = session.drops();
            sink.sink().send(Event::Progress(Progress {
                bytes_done: bytes,
                bytes_total: None,
                packets: engine.packets(),
                flows: engine.live_flows(),
                elapsed: session.elapsed(),
                dropped: Some(Dropped {
                    kernel: pcap,
                    interface: 0,
                    hopscope: ours,
                }),
            }));
        }
    }
    let elapsed = session.elapsed();
    let end = session.finish();
    if cancel.load(Ordering::Relaxed) {
        return;
    }
    for f in end.findings {
        sink.record(Record::Finding(f));
    }
    let mut summary = engine.finish(&mut sink);
    sink.finish(&mut summary);
    summary.source = source;
    summary.format = "live".into();
    summary.error = end.error.clone().or(end.save_error.clone());
    let dropped = Dropped {
        kernel: end.kernel,
        interface: end.interface,
        hopscope: end.ours,
    };
    summary.dropped = Some(dropped.clone());
    sink.sink().flush();
    sink.sink().send(Event::Progress(Progress {
        bytes_done: bytes,
        bytes_total: None,
        packets: engine.packets(),
        flows: engine.live_flows(),
        elapsed,
        dropped: Some(dropped),
    }));
    sink.sink().send(Event::Done(Done {
        error: summary.error.clone(),
        summary: Box::new(summary),
    }));
}

/// Drops records: the stream pass only wants the bytes.
struct NullSink;

impl RecordSink for NullSink {
    fn record(&mut self, _: Record) {}
}

/// Reads `path` again and sends connection `conn`'s bytes (bounded) as [`Event::Stream`].
/// Stops early once the connection closed, or when `cancel` is set.
pub fn load_stream(
    path: &Path,
    conn: u64,
    cfg: EngineConfig,
    tx: SyncSender<Event>,
    cancel: Arc<AtomicBool>,
) {
    let mut src = match FileSource::open(path) {
        Ok(s) => s,
        Err(e) => {
            let mut d = super::stream::StreamData {
                conn,
                ..Default::default()
            };
            d.error = Some(e.to_string());
            let _ = tx.send(Event::Stream(Box::new(d)));
            return;
        }
    };
    let total = src.len().unwrap_or(0).max(1);
    let mut engine = Engine::with_analyzer(cfg, StreamCollector::new(conn));
    let mut sink = NullSink;
    let mut last = Instant::now();
    let mut error = None;
    loop {
        match src.next_packet() {
            Ok(Some(pkt)) => {
                engine.handle_packet(&pkt, &mut sink);
                if engine.packets().is_multiple_of(1024) {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    if engine.analyzer().closed {
                        break;
                    }
                    if last.elapsed() >= Duration::from_millis(200) {
                        last = Instant::now();
                        let fraction = src.offset() as f64 / total as f64;
                        if tx.send(Event::StreamProgress { conn, fraction }).is_err() {
                            return;
                        }
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    if !engine.analyzer().closed {
        engine.finish(&mut sink);
    }
    let mut data = engine.analyzer().data.clone();
    data.error = error;
    let _ = tx.send(Event::Stream(Box::new(data)));
}

/// The file `w` writes: `hopscope-live-IFACE-SECONDS.pcapng` in the current directory.
pub fn snapshot_name(iface: &str, unix_secs: u64) -> PathBuf {
    let clean: String = iface
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from(format!("hopscope-live-{clean}-{unix_secs}.pcapng"))
}
