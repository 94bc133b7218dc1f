//! Where a pipeline's records end: the report writers, the terminal UI's batches, a test's
//! vector.
//!
//! Analyzers and steps push records into a [`RecordSink`](super::RecordSink), which cannot fail.
//! The end of the pipeline is a [`Sink`]: like ripgrep's, each call can fail (a full disk, a
//! closed pipe, the UI gone: the run ends there and the error is the run's) or ask the run to
//! stop (it is then finished as if the capture had ended); [`Sink::begin`] and [`Sink::finish`]
//! write the start and the end.

use std::io;

use super::{CaptureSummary, Dropped, Record};

/// What a sink wants after it took something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop reading; finish the run as if the capture had ended.
    Stop,
}

/// How far a run is, for progress displays.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// Bytes of the file read (live: bytes captured).
    pub bytes_done: u64,
    /// The file's size (live: none).
    pub bytes_total: Option<u64>,
    pub packets: u64,
    pub flows: usize,
    /// Seconds since the run started.
    pub elapsed: f64,
    /// Live runs: packets dropped so far.
    pub dropped: Option<Dropped>,
}

/// The end of a pipeline: [`Sink::begin`], the records as they complete, [`Sink::finish`].
pub trait Sink {
    /// The run starts (before the first packet is read).
    fn begin(&mut self) -> io::Result<Flow> {
        Ok(Flow::Continue)
    }
    /// A finished record.
    fn record(&mut self, record: Record) -> io::Result<Flow>;
    /// A finished record the sink only reads (the report writers): the caller keeps it, so a
    /// run split over threads frees it on the thread that made it. `None`: the sink needs it
    /// whole, [`Sink::record`] is called.
    fn record_ref(&mut self, _record: &Record) -> Option<io::Result<Flow>> {
        None
    }
    /// Called a few times a second while the run goes on (and when a live capture is quiet).
    fn progress(&mut self, _progress: &Progress) -> io::Result<Flow> {
        Ok(Flow::Continue)
    }
    /// What a run split over threads does with each record on the worker thread that made
    /// it, before the merge: the JSON writers write the part of a transaction no later step
    /// changes, appended to the buffer (`true` when written), so the merging thread, which
    /// bounds the run's speed, has less to write; the merge gives it back with the record
    /// ([`Sink::record_ahead`]). `None`: nothing.
    fn prewrite(&self) -> Option<fn(&Record, &mut Vec<u8>) -> bool> {
        None
    }
    /// [`Sink::record_ref`] of a record with what [`Sink::prewrite`] wrote of it.
    fn record_ahead(&mut self, record: &Record, _ahead: &[u8]) -> Option<io::Result<Flow>> {
        self.record_ref(record)
    }
    /// The end of the run: the capture's summary. Not called after a failure.
    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()>;
}

impl<T: Sink + ?Sized> Sink for Box<T> {
    fn begin(&mut self) -> io::Result<Flow> {
        (**self).begin()
    }
    fn record(&mut self, record: Record) -> io::Result<Flow> {
        (**self).record(record)
    }
    fn record_ref(&mut self, record: &Record) -> Option<io::Result<Flow>> {
        (**self).record_ref(record)
    }
    fn progress(&mut self, progress: &Progress) -> io::Result<Flow> {
        (**self).progress(progress)
    }
    fn prewrite(&self) -> Option<fn(&Record, &mut Vec<u8>) -> bool> {
        (**self).prewrite()
    }
    fn record_ahead(&mut self, record: &Record, ahead: &[u8]) -> Option<io::Result<Flow>> {
        (**self).record_ahead(record, ahead)
    }
    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        (**self).finish(summary)
    }
}

impl<T: Sink + ?Sized> Sink for &mut T {
    fn begin(&mut self) -> io::Result<Flow> {
        (**self).begin()
    }
    fn record(&mut self, record: Record) -> io::Result<Flow> {
        (**self).record(record)
    }
    fn record_ref(&mut self, record: &Record) -> Option<io::Result<Flow>> {
        (**self).record_ref(record)
    }
    fn progress(&mut self, progress: &Progress) -> io::Result<Flow> {
        (**self).progress(progress)
    }
    fn prewrite(&self) -> Option<fn(&Record, &mut Vec<u8>) -> bool> {
        (**self).prewrite()
    }
    fn record_ahead(&mut self, record: &Record, ahead: &[u8]) -> Option<io::Result<Flow>> {
        (**self).record_ahead(record, ahead)
    }
    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        (**self).finish(summary)
    }
}

/// Keeps every record (tests, and the UI's tests of its own pipeline).
impl Sink for Vec<Record> {
    fn record(&mut self, record: Record) -> io::Result<Flow> {
        self.push(record);
        Ok(Flow::Continue)
    }
    fn finish(&mut self, _: &CaptureSummary) -> io::Result<()> {
        Ok(())
    }
}
