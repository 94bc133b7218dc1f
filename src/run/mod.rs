//! The command-line runs: `hopscope report` here, `hopscope live` and `hopscope interfaces` in
//! [`live`]. Each opens its source and its output, builds the one pipeline
//! ([`crate::pipeline::Pipeline`]) with a report writer at its end, runs it and maps how the
//! run ended to an exit status. This is where I/O happens (with `main.rs`, the capture thread
//! and the terminal UI).

pub mod live;

use std::fs::File;
use std::io::{self, IsTerminal, Write};

use crate::capture::merge::{EstimatedOffset, InputFile, MergedSource};
use crate::cli::{OutputArgs, ReportArgs};
use crate::extract;
use crate::model::{CaptureSummary, Flow, Progress, Record, Sink};
use crate::pipeline::{CaptureClock, Pipeline, RunEnd};
use crate::query::Filter;
use crate::report::filter::FilterSink;
use crate::report::{self, is_broken_pipe};

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
    Ok(match out.file() {
        Some(p) => Box::new(File::create(p).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", p.display()))
        })?),
        None => Box::new(io::stdout().lock()),
    })
}

/// The progress line on standard error, at most a few times a second, only on a terminal.
pub struct ProgressLine {
    enabled: bool,
    last: Option<std::time::Instant>,
    shown: bool,
    /// Said before the figures (which pass of two).
    pub label: &'static str,
}

impl ProgressLine {
    pub fn new(disabled: bool) -> Self {
        ProgressLine {
            enabled: !disabled && io::stderr().is_terminal(),
            last: None,
            shown: false,
            label: "",
        }
    }

    pub fn show(&mut self, p: &Progress) {
        if !self.enabled || self.last.is_some_and(|t| t.elapsed().as_millis() < 250) {
            return;
        }
        self.last = Some(std::time::Instant::now());
        self.shown = true;
        let pct = p
            .bytes_total
            .filter(|t| *t > 0)
            .map(|t| format!("{:5.1}% ", p.bytes_done as f64 * 100.0 / t as f64))
            .unwrap_or_default();
        let mut e = io::stderr().lock();
        let _ = write!(
            e,
            "\r{}{pct}{:.0} MB, {} packets ({:.0}k/s), {} live flows   ",
            self.label,
            p.bytes_done as f64 / 1e6,
            p.packets,
            p.packets as f64 / p.elapsed.max(1e-3) / 1e3,
            p.flows
        );
        let _ = e.flush();
    }

    /// Clears the line (once it was shown).
    pub fn done(&mut self) {
        if std::mem::take(&mut self.shown) {
            let mut e = io::stderr().lock();
            let _ = write!(e, "\r\x1b[2K");
            let _ = e.flush();
        }
    }
}

/// The end of a command-line run's pipeline: the report writer, and the progress line.
pub struct ReportSink {
    pub writer: Box<dyn Sink>,
    pub progress: ProgressLine,
}

impl Sink for ReportSink {
    fn begin(&mut self) -> io::Result<Flow> {
        self.writer.begin()
    }
    fn record(&mut self, record: Record) -> io::Result<Flow> {
        self.writer.record(record)
    }
    fn record_ref(&mut self, record: &Record) -> Option<io::Result<Flow>> {
        self.writer.record_ref(record)
    }
    fn prewrite(&self) -> Option<fn(&Record, &mut Vec<u8>) -> bool> {
        self.writer.prewrite()
    }
    fn record_ahead(&mut self, record: &Record, ahead: &[u8]) -> Option<io::Result<Flow>> {
        self.writer.record_ahead(record, ahead)
    }
    fn progress(&mut self, p: &Progress) -> io::Result<Flow> {
        self.progress.show(p);
        Ok(Flow::Continue)
    }
    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        self.progress.done();
        self.writer.finish(summary)
    }
}

/// `hopscope report`.
pub fn report(args: &ReportArgs) -> Outcome {
    // A bad `--filter` is a usage error naming the term, before anything is opened.
    let filter = match args.filter.as_deref().map(|f| (f, Filter::parse(f))) {
        None => None,
        Some((f, Ok(p))) => Some((f, p)),
        Some((f, Err(e))) => {
            eprintln!("hopscope: --filter {f:?}: {e}");
            return Outcome::Failed;
        }
    };
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
    let inputs = match args.input.inputs() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    // `--write-pcap`: refused before anything is analysed when it cannot be done.
    let pcap_file = match &args.write_pcap {
        None => None,
        Some(path) => match can_write_pcap(path, &inputs)
            .and_then(|()| File::create(path).map_err(|e| format!("cannot create it: {e}")))
        {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("hopscope: --write-pcap {}: {e}", path.display());
                return Outcome::Failed;
            }
        },
    };
    let two_passes = !args.input.single_pass && needs_placing(&inputs);
    let inputs = if two_passes {
        place_clocks(&cfg, args, inputs)
    } else {
        inputs
    };
    // An input that cannot be opened still gets its report, with `capture.error`; the
    // others are analysed.
    let mut src = MergedSource::open(inputs);
    let mut progress = ProgressLine::new(args.output.no_progress);
    if two_passes {
        progress.label = "pass 2 of 2 (analysing): ";
    }
    let mut writer = report::writer(args.output.format(), out, false);
    let chosen = args.write_pcap.as_ref().map(|_| extract::Shared::default());
    if let Some(c) = &chosen {
        writer = Box::new(extract::Tap::kept(writer, c.clone()));
    }
    if let Some((text, f)) = filter {
        writer = Box::new(FilterSink::new(writer, f, text));
        if let Some(c) = &chosen {
            writer = Box::new(extract::Tap::all(writer, c.clone()));
        }
    }
    let sink = ReportSink { writer, progress };
    let analyzers = args.analysis.analyzer_config();
    let tls = analyzers.tls.clone();
    let placed = src.inputs().cloned().collect::<Vec<_>>();
    let mut pipeline = Pipeline::new(cfg, analyzers, sink).threads(args.threads.count());
    let end = pipeline.run(&mut src, &CaptureClock);
    pipeline.sink_mut().progress.done();
    let mut result = outcome(&end);
    if let (Some(path), Some(file), Some(chosen)) = (&args.write_pcap, pcap_file, chosen) {
        let chosen = match chosen.lock() {
            Ok(mut c) => std::mem::take(&mut *c),
            Err(_) => return Outcome::Failed,
        };
        if end.sink_error.is_some() {
            eprintln!(
                "hopscope: --write-pcap {}: not written, the report was not",
                path.display()
            );
            return Outcome::Failed;
        }
        let out = PcapOut { path, file };
        if write_pcap(out, placed, &chosen, &tls, args.output.no_progress).is_err() {
            result = Outcome::Failed;
        }
    }
    result
}

/// `--write-pcap PATH` is possible: the captures can be read again (not standard input) and
/// PATH is none of them.
fn can_write_pcap(path: &std::path::Path, inputs: &[InputFile]) -> Result<(), String> {
    if inputs.iter().any(InputFile::is_stdin) {
        return Err(
            "the packets are written from a second read of the captures, and standard input \
             cannot be read twice (save it to a file first, e.g. `tcpdump -w cap.pcap`)"
                .into(),
        );
    }
    let same = |i: &InputFile| match (path.canonicalize(), i.path.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if inputs.iter().any(same) {
        return Err("that is one of the captures being read; choose another name".into());
    }
    Ok(())
}

/// The second read of the captures for `--write-pcap`; says what was written, or why not, on
/// standard error.
struct PcapOut<'a> {
    path: &'a std::path::Path,
    file: File,
}

fn write_pcap(
    out: PcapOut<'_>,
    inputs: Vec<InputFile>,
    chosen: &extract::Chosen,
    tls: &crate::analyzers::tls::shared::TlsConfig,
    no_progress: bool,
) -> Result<(), ()> {
    let mut progress = ProgressLine::new(no_progress);
    progress.label = "writing packets: ";
    let path = out.path;
    let r = extract::write(inputs, chosen, tls, out.file, path, &mut |p| {
        progress.show(p)
    });
    progress.done();
    let w = match r {
        Ok(w) => w,
        Err(e) => {
            eprintln!("hopscope: --write-pcap: {e}; the report is complete");
            return Err(());
        }
    };
    let keys = match w.keys {
        0 => String::new(),
        k => format!(
            ", with the TLS keys of {k} connection{}",
            if k == 1 { "" } else { "s" }
        ),
    };
    eprintln!(
        "hopscope: wrote {} packets of {} connection{} to {}{keys}",
        w.packets,
        w.connections,
        if w.connections == 1 { "" } else { "s" },
        path.display()
    );
    if w.keys_missing > 0 {
        eprintln!(
            "hopscope: --write-pcap: the keys of {} decrypted connection(s) were not found again \
             (a key log that changed since); those connections are written without them",
            w.keys_missing
        );
    }
    if chosen.legs_missing() > 0 {
        eprintln!(
            "hopscope: --write-pcap: {} proxy-hop leg(s) closed too long before their hop was \
             paired (more than {} connections earlier) and are not written",
            chosen.legs_missing(),
            extract::RECENT
        );
    }
    if w.fragments_dropped > 0 {
        eprintln!(
            "hopscope: --write-pcap: {} IP fragment(s) held past {} MiB while their datagram \
             was incomplete were given up (not written)",
            w.fragments_dropped,
            extract::MAX_PENDING_BYTES >> 20
        );
    }
    if let Some(e) = w.read_error {
        eprintln!("hopscope: --write-pcap: reading stopped early ({e}); what was read is written");
    }
    Ok(())
}

/// Captures from several hosts whose clocks are not all given: inputs with more than one clock
/// (a rotated set is one), none of them standard input (which cannot be read twice), some clock
/// other than the first file's without `--clock-offset`.
fn needs_placing(inputs: &[InputFile]) -> bool {
    let first = inputs.first().map(|i| i.clock);
    !inputs.iter().any(InputFile::is_stdin)
        && inputs
            .iter()
            .any(|i| Some(i.clock) != first && !i.offset_given)
}

/// Does nothing with what it is given: the first pass's end.
struct Discard(ProgressLine);

impl Sink for Discard {
    fn record(&mut self, _: Record) -> io::Result<Flow> {
        Ok(Flow::Continue)
    }
    fn record_ref(&mut self, _: &Record) -> Option<io::Result<Flow>> {
        Some(Ok(Flow::Continue))
    }
    fn progress(&mut self, p: &Progress) -> io::Result<Flow> {
        self.0.show(p);
        Ok(Flow::Continue)
    }
    fn finish(&mut self, _: &CaptureSummary) -> io::Result<()> {
        self.0.done();
        Ok(())
    }
}

/// The first of two passes over several hosts' captures: the whole analysis, its records
/// discarded, for the clock offsets it finds (`capture.files[]`: `same-connection`,
/// `proxy-pairs`). Returns the inputs with those offsets applied, so the second pass merges
/// the packets on the first file's clock and its records are on it. Errors are left to the
/// second pass, which reads the same files and reports them.
fn place_clocks(
    cfg: &crate::engine::EngineConfig,
    args: &ReportArgs,
    mut inputs: Vec<InputFile>,
) -> Vec<InputFile> {
    let mut src = MergedSource::open(inputs.clone());
    let mut progress = ProgressLine::new(args.output.no_progress);
    progress.label = "pass 1 of 2 (placing clocks): ";
    let mut pipeline = Pipeline::new(
        cfg.clone(),
        args.analysis.analyzer_config(),
        Discard(progress),
    )
    .threads(args.threads.count());
    let end = pipeline.run(&mut src, &CaptureClock);
    for (input, f) in inputs.iter_mut().zip(&end.summary.files) {
        if matches!(f.offset_source.as_str(), "same-connection" | "proxy-pairs") {
            input.offset_ns = (f.clock_offset_s * 1e9).round() as i64;
            input.estimated = Some(EstimatedOffset {
                source: f.offset_source.clone(),
                uncertainty_s: f.clock_offset_uncertainty_s,
                interval_s: f.clock_offset_interval_s,
                pairs: f.clock_offset_pairs,
                connections: f.clock_offset_connections,
            });
        }
    }
    inputs
}

/// Maps how a run ended to an outcome, saying why on standard error: a closed pipe is not an
/// error; a capture read only in part is status 2; an output error or a saved capture that
/// could not be written is status 1.
pub fn outcome(end: &RunEnd) -> Outcome {
    let mut result = Outcome::Ok;
    if let Some(e) = &end.stats_error {
        eprintln!("hopscope: libpcap statistics are not available: {e}");
    }
    if let Some(e) = &end.save_error {
        eprintln!("hopscope: {e}; the report is complete but the saved capture is not");
        result = Outcome::Failed;
    }
    if let Some(e) = &end.sink_error {
        if is_broken_pipe(e) {
            return result;
        }
        eprintln!("hopscope: cannot write the report: {e}");
        return Outcome::Failed;
    }
    if let Some(e) = &end.capture_error {
        eprintln!("hopscope: {e}");
        if matches!(e, crate::capture::CaptureError::Interfaces { .. }) {
            eprintln!("hopscope: the report covers everything captured");
        } else if !e.before_anything() {
            eprintln!("hopscope: the report covers everything before that point");
        }
        if result == Outcome::Ok {
            result = Outcome::CaptureIncomplete;
        }
    }
    result
}
