//! The threads that feed the UI: the analysis of a file or a live capture, the second pass
//! that reads one connection's bytes for the Stream view, and the `w` snapshot.
//!
//! They run the one pipeline (`crate::pipeline`), as `hopscope report` does, with the UI's
//! sink at its end: record batches (every 50 ms or 1k records, whichever comes first) and
//! progress go over the UI's bounded channel as [`Event`]s. A full channel makes the analysis
//! wait, never the UI.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use super::app::{Done, Event};
use crate::analyzers::AnalyzerConfig;
use crate::analyzers::pass::StreamPass;
use crate::capture::live::LiveSession;
use crate::capture::merge::{InputFile, MergedSource};
use crate::engine::EngineConfig;
use crate::model::{CaptureSummary, Flow, Progress, Record, Sink};
use crate::pipeline::{CaptureClock, Pipeline};

/// Records per batch at most.
/// Small, so that the records in flight (the channel holds [`super::CHANNEL`] events) stay
/// a few MB: whole records are 2–3 KB each until the UI makes rows of them.
const BATCH: usize = 1_000;

/// The UI went away, or asked the analysis to stop.
fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the terminal UI stopped the analysis",
    )
}

/// The UI's end of the pipeline: records in batches (1k at most, else whatever came since
/// the last progress, a few times a second), progress, and the end of the run.
pub struct BatchSink {
    buf: Vec<Record>,
    tx: SyncSender<Event>,
    cancel: Arc<AtomicBool>,
}

impl BatchSink {
    pub fn new(tx: SyncSender<Event>, cancel: Arc<AtomicBool>) -> Self {
        BatchSink {
            buf: Vec::new(),
            tx,
            cancel,
        }
    }

    fn send(&mut self, ev: Event) -> io::Result<()> {
        self.tx.send(ev).map_err(|_| gone())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.buf);
        self.send(Event::Records(batch))
    }
}

impl Sink for BatchSink {
    fn record(&mut self, record: Record) -> io::Result<Flow> {
        self.buf.push(record);
        if self.buf.len() >= BATCH {
            self.flush()?;
        }
        Ok(Flow::Continue)
    }

    fn progress(&mut self, p: &Progress) -> io::Result<Flow> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(gone());
        }
        self.flush()?;
        self.send(Event::Progress(p.clone()))?;
        Ok(Flow::Continue)
    }

    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        self.flush()?;
        self.send(Event::Done(Done {
            error: summary.error.clone(),
            summary: Box::new(summary.clone()),
        }))
    }
}

/// The analyzer settings of the TUI: body previews (pretty JSON and hex need them), large
/// message previews and the frames of each message.
pub fn ui_analyzer_config(mut cfg: AnalyzerConfig) -> AnalyzerConfig {
    cfg.http.preview = cfg.http.preview.max(16 << 10);
    cfg.ws.preview = cfg.ws.preview.max(64 << 10);
    cfg.ws.frames = true;
    cfg.ws.binary_preview = true;
    cfg
}

/// Analyses a file, sending records and progress until the end (or until `cancel`).
pub fn analyse_file(
    inputs: Vec<InputFile>,
    cfg: EngineConfig,
    analyzers: AnalyzerConfig,
    tx: SyncSender<Event>,
    cancel: Arc<AtomicBool>,
) {
    let sink = BatchSink::new(tx, cancel);
    // An input that cannot be opened ends at once, with its error, like any other run; the
    // others are analysed.
    let mut src = MergedSource::open(inputs);
    Pipeline::new(cfg, analyzers, sink).run(&mut src, &CaptureClock);
}

/// Analyses a live capture until it ends (`-c`, `--duration`) or `cancel` is set.
pub fn analyse_live(
    mut session: LiveSession,
    cfg: EngineConfig,
    analyzers: AnalyzerConfig,
    tx: SyncSender<Event>,
    cancel: Arc<AtomicBool>,
) {
    Pipeline::new(cfg, analyzers, BatchSink::new(tx, cancel)).run(&mut session, &CaptureClock);
}

/// The Stream view's pass: records are not wanted, only progress.
struct StreamSink {
    conn: u64,
    tx: SyncSender<Event>,
    cancel: Arc<AtomicBool>,
}

impl Sink for StreamSink {
    fn record(&mut self, _: Record) -> io::Result<Flow> {
        Ok(Flow::Continue)
    }

    fn progress(&mut self, p: &Progress) -> io::Result<Flow> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(gone());
        }
        let total = p.bytes_total.unwrap_or(0).max(1);
        let fraction = p.bytes_done as f64 / total as f64;
        self.tx
            .send(Event::StreamProgress {
                conn: self.conn,
                fraction,
            })
            .map_err(|_| gone())?;
        Ok(Flow::Continue)
    }

    fn finish(&mut self, _: &CaptureSummary) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the inputs again (merged as in the run, so connection ids match) and sends connection `conn`'s bytes (bounded) as [`Event::Stream`],
/// with what its TLS decrypts when `analyzers` (the run's, with its key sources) decrypt it.
/// Stops early once the connection closed, or when `cancel` is set.
pub fn load_stream(
    inputs: Vec<InputFile>,
    conn: u64,
    cfg: EngineConfig,
    analyzers: AnalyzerConfig,
    tx: SyncSender<Event>,
    cancel: Arc<AtomicBool>,
) {
    if inputs.iter().any(InputFile::is_stdin) {
        let d = super::stream::StreamData {
            conn,
            error: Some("standard input cannot be read a second time for the Stream view".into()),
            ..Default::default()
        };
        let _ = tx.send(Event::Stream(Box::new(d)));
        return;
    }
    let mut src = MergedSource::open(inputs);
    let sink = StreamSink {
        conn,
        tx: tx.clone(),
        cancel,
    };
    let mut pipeline = Pipeline::bare(cfg, StreamPass::new(conn, analyzers), sink);
    let end = pipeline.run(&mut src, &CaptureClock);
    if end.sink_error.is_some() {
        return;
    }
    let mut data = pipeline.shard().analyzer().data();
    data.error = end.capture_error.map(|e| e.to_string());
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
