//! Running an analysis: wiring a source, the engine and a report writer together.
//! This is the only place (with `main.rs` and the live capture thread) that does I/O.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use crate::analyzers::{AnalyzerConfig, Dispatcher};
use crate::capture::CaptureError;
use crate::capture::file::FileSource;
use crate::cli::{OutputArgs, ReportArgs};
use crate::engine::{Engine, EngineConfig};
use crate::hops::HopSink;
use crate::model::{Finding, Record, Severity};
use crate::report::{self, ReportWriter, is_broken_pipe};
use crate::semantics::SemanticsSink;

/// How a run ended, mapped to the exit status by `main`.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was read and reported.
    Ok,
    /// The capture could not be read to its end; what was read is reported. Exit status 2.
    CaptureIncomplete,
    /// Bad usage or an output error. Exit status 1.
    Failed,
}

/// Opens the report destination: a file or standard output.
pub fn open_output(out: &OutputArgs) -> io::Result<Box<dyn Write>> {
    Ok(match &out.output {
        Some(p) => Box::new(File::create(p).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", p.display()))
        })?),
        None => Box::new(io::stdout().lock()),
    })
}

/// Progress on standard error, at most a few times a second, only on a terminal.
pub struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
    shown: bool,
}

impl Progress {
    pub fn new(disabled: bool) -> Self {
        let now = Instant::now();
        Progress {
            enabled: !disabled && io::stderr().is_terminal(),
            started: now,
            last: now,
            shown: false,
        }
    }

    /// Call every few thousand packets.
    pub fn tick(&mut self, done_bytes: u64, total: Option<u64>, packets: u64, flows: usize) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last).as_millis() < 250 {
            return;
        }
        self.last = now;
        self.shown = true;
        let secs = now.duration_since(self.started).as_secs_f64().max(1e-3);
        let pct = total
            .filter(|t| *t > 0)
            .map(|t| format!("{:5.1}% ", done_bytes as f64 * 100.0 / t as f64))
            .unwrap_or_default();
        let mut e = io::stderr().lock();
        let _ = write!(
            e,
            "\r{pct}{:.0} MB, {packets} packets ({:.0}k/s), {flows} live flows   ",
            done_bytes as f64 / 1e6,
            packets as f64 / secs / 1e3
        );
        let _ = e.flush();
    }

    pub fn done(&mut self) {
        if self.shown {
            let mut e = io::stderr().lock();
            let _ = write!(e, "\r\x1b[2K");
            let _ = e.flush();
        }
    }
}

/// Analyses a capture file with the given engine configuration, writing into `writer`.
/// Returns the capture error, if reading stopped early.
pub fn analyse_file(
    path: &Path,
    cfg: EngineConfig,
    app: AnalyzerConfig,
    writer: &mut dyn ReportWriter,
    progress: &mut Progress,
) -> Result<Option<CaptureError>, CaptureError> {
    let mut src = FileSource::open(path)?;
    // Proxy legs are correlated over finished transactions, between the analyzers and the
    // report (not needed for --tcp-only).
    let correlate = app.enabled;
    let mut engine = Engine::with_analyzer(cfg, Dispatcher::new(app));
    let mut hops;
    let writer: &mut dyn ReportWriter = if correlate {
        hops = HopSink::new(writer);
        &mut hops
    } else {
        writer
    };
    let total = src.len();
    let mut stop_err = None;
    loop {
        match src.next_packet() {
            Ok(Some(pkt)) => {
                engine.handle_packet(&pkt, writer);
                if engine.packets().is_multiple_of(8192) {
                    if writer.failed().is_some() {
                        break;
                    }
                    progress.tick(src.offset(), total, engine.packets(), engine.live_flows());
                }
            }
            Ok(None) => break,
            Err(e) => {
                stop_err = Some(e);
                break;
            }
        }
    }
    progress.done();
    if let Some(e) = &stop_err {
        writer.record(Record::Finding(Finding::new(
            "capture.incomplete",
            Severity::Error,
            format!("{e}; everything before it was analysed"),
        )));
    }
    let mut summary = engine.finish(writer);
    summary.source = path.display().to_string();
    summary.format = src.format().to_string();
    summary.error = stop_err.as_ref().map(|e| e.to_string());
    if writer.failed().is_none()
        && let Err(e) = writer.finish(&summary)
    {
        return Err(CaptureError::Io {
            path: "<output>".into(),
            offset: 0,
            source: e,
        });
    }
    Ok(stop_err)
}

/// `hopscope report`.
pub fn report(args: &ReportArgs) -> Outcome {
    let cfg = match args.tuning.engine_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    let out = match open_output(&args.output) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    // The semantics step sits between the engine and the report writer.
    let mut writer = SemanticsSink::new(report::writer(args.output.format, out));
    let mut progress = Progress::new(args.output.no_progress);
    let res = analyse_file(
        &args.file,
        cfg,
        args.analysis.app_config(),
        &mut writer,
        &mut progress,
    );
    finish_outcome(res, &writer)
}

fn finish_outcome(
    res: Result<Option<CaptureError>, CaptureError>,
    writer: &dyn ReportWriter,
) -> Outcome {
    if let Some(e) = writer.failed() {
        if is_broken_pipe(e) {
            return Outcome::Ok;
        }
        eprintln!("hopscope: cannot write the report: {e}");
        return Outcome::Failed;
    }
    match res {
        Ok(None) => Outcome::Ok,
        Ok(Some(e)) => {
            eprintln!("hopscope: {e}");
            eprintln!("hopscope: the report covers everything before that point");
            Outcome::CaptureIncomplete
        }
        Err(CaptureError::Io { source, .. }) if is_broken_pipe(&source) => Outcome::Ok,
        Err(e @ CaptureError::Io { .. }) => {
            eprintln!("hopscope: {e}");
            Outcome::Failed
        }
        Err(e) => {
            eprintln!("hopscope: {e}");
            Outcome::CaptureIncomplete
        }
    }
}
