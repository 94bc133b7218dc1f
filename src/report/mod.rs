//! Sinks that turn records into reports: a JSON document, an NDJSON stream and text.
//!
//! Every writer is a [`Sink`] at the end of the pipeline (`crate::pipeline`): a write error ends
//! the run there and is the run's error; a closed pipe (`| head`) ends it quietly.

pub mod fastjson;
pub mod filter;
pub mod har;
pub mod json;
pub mod records;
pub mod semantics_text;
pub mod spool;
pub mod text;

use std::io;

use crate::model::Sink;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON document (see docs/json-format.md).
    Json,
    /// One JSON record per line, streamed as records complete.
    Ndjson,
    /// Human-readable lines and a summary.
    Text,
    /// HAR 1.2, for browsers' Network panels and HAR tools (see docs/har.md).
    Har,
}

impl Format {
    /// The format a report file's name asks for: `.har`, `.ndjson`/`.jsonl`, `.txt`, else JSON.
    pub fn for_path(path: &std::path::Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "har" => Format::Har,
            Some(e) if e == "ndjson" || e == "jsonl" => Format::Ndjson,
            Some(e) if e == "txt" => Format::Text,
            _ => Format::Json,
        }
    }
}

/// Whether an error only means the reader went away (`| head`).
pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// Builds the writer for `format`; `live` makes streaming formats flush every record.
pub fn writer(format: Format, out: Box<dyn io::Write>, live: bool) -> Box<dyn Sink> {
    match format {
        Format::Json => Box::new(json::DocumentWriter::new(out)),
        Format::Ndjson => {
            let mut w = json::NdjsonWriter::new(out);
            w.flush_each = live;
            Box::new(w)
        }
        Format::Text => Box::new(text::TextWriter::new(out)),
        Format::Har => Box::new(har::HarWriter::new(out)),
    }
}
