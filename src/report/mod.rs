//! Sinks that turn records into reports: a JSON document, an NDJSON stream and text.
//!
//! Every writer is a [`RecordSink`]. Write errors are kept (the sink interface cannot return
//! them) and checked by the run loop through [`ReportWriter::failed`]; a closed pipe ends the
//! run quietly.

pub mod fastjson;
pub mod json;
pub mod semantics_text;
pub mod spool;
pub mod text;

use std::io;

use crate::model::{CaptureSummary, RecordSink};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON document (see docs/json-format.md).
    Json,
    /// One JSON record per line, streamed as records complete.
    Ndjson,
    /// Human-readable lines and a summary.
    Text,
}

/// A record sink that produces a report.
pub trait ReportWriter: RecordSink {
    /// Writes the end of the report.
    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()>;
    /// The first write error, if any.
    fn failed(&self) -> Option<&io::Error>;
}

impl<T: ReportWriter + ?Sized> ReportWriter for Box<T> {
    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        (**self).finish(summary)
    }
    fn failed(&self) -> Option<&io::Error> {
        (**self).failed()
    }
}

/// Whether an error only means the reader went away (`| head`).
pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// Builds the writer for `format`.
pub fn writer(format: Format, out: Box<dyn io::Write>) -> Box<dyn ReportWriter> {
    writer_with(format, out, false)
}

/// Builds the writer for `format`; `live` makes streaming formats flush every record.
pub fn writer_with(format: Format, out: Box<dyn io::Write>, live: bool) -> Box<dyn ReportWriter> {
    match format {
        Format::Json => Box::new(json::DocumentWriter::new(out)),
        Format::Ndjson => {
            let mut w = json::NdjsonWriter::new(out);
            w.flush_each = live;
            Box::new(w)
        }
        Format::Text => Box::new(text::TextWriter::new(out)),
    }
}
