//! Capture sources: saved files (`.pcap`, `.pcapng`) and live interfaces, each a
//! [`PacketSource`] that the one drive loop (`crate::pipeline`) reads.
//!
//! A source yields [`PacketView`]s that borrow the source's buffer until the next call, so the
//! file path copies nothing per packet. The live source owns its packets (they cross a channel).

pub mod file;
pub mod holdback;
pub mod live;
pub mod merge;
pub mod pcapng;
pub mod pcapng_writer;
pub mod zstd;

use crate::base::PacketView;
use crate::model::Dropped;

/// What a source has next.
pub enum Next<'a> {
    Packet(PacketView<'a>),
    /// Nothing for now (a quiet live interface); time still passes.
    Idle,
    /// The capture ended.
    End,
    /// Reading stopped early: everything before it was delivered.
    Error(CaptureError),
    /// Secrets the capture carries (a pcapng Decryption Secrets Block), before the packets
    /// that follow them.
    Secrets(Secrets),
}

/// A pcapng Decryption Secrets Block: its secrets type (`0x544c534b`, "TLSK": an NSS key
/// log), the file offset of the block, and its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets {
    pub kind: u32,
    pub at: u64,
    pub data: Vec<u8>,
}

/// A source of packets: a file, several files merged by time, one or several live interfaces.
pub trait PacketSource {
    /// The next packet, borrowed until the next call.
    fn next(&mut self) -> Next<'_>;
    /// Bytes read so far (live: captured), and the total when known, for progress.
    fn position(&self) -> (u64, Option<u64>);
    /// Packets arrive in real time: progress is checked after every packet, not every
    /// thousand.
    fn is_live(&self) -> bool {
        false
    }
    /// The next call may wait for input (standard input with no whole record buffered): the
    /// progress so far is handed on before it, so a burst that ends is shown whole.
    fn may_wait(&self) -> bool {
        false
    }
    /// Input files merged (several: records name the file they came from).
    fn inputs(&self) -> usize {
        1
    }
    /// The clock input `file` was captured with: the files of one rotated set share one (the
    /// first file's index); other inputs have their own.
    fn clock_of(&self, file: u32) -> u32 {
        file
    }
    /// Where input `file` was captured: inputs with the same capture point saw the same
    /// packets (a rotated set's files are one point, in turn); different points may each see
    /// the same connection (a live capture's interfaces: `-i any -i lo` sees lo's connections
    /// at both, once per point). Defaults to the clock: files with a clock of their own were
    /// captured apart; a live capture answers the interface's index (each interface is a point,
    /// though all share one clock). For telling "the same connection seen at two capture
    /// points" from two connections.
    fn capture_point(&self, file: u32) -> u32 {
        self.clock_of(file)
    }
    /// Live: packets dropped so far before the analysis.
    fn dropped(&self) -> Option<Dropped> {
        None
    }
    /// Ends the source (a live capture is stopped and its thread joined) and says how it went.
    fn finish(&mut self) -> SourceEnd;
}

/// How a source ended, for the capture summary.
#[derive(Debug, Default)]
pub struct SourceEnd {
    /// What was read, as the report names it (a path, `live:IFACE`).
    pub name: String,
    /// `pcap`, `pcapng` or `live`.
    pub format: String,
    /// Live: packets dropped before the analysis.
    pub dropped: Option<Dropped>,
    /// Live: the queue length the drops are measured against.
    pub queue: usize,
    /// Why reading stopped early, when the source only learns it at the end (live).
    pub error: Option<CaptureError>,
    /// The saved copy (`-w`) could not be written.
    pub save_error: Option<String>,
    /// Live: libpcap statistics were not available (why).
    pub stats_error: Option<String>,
    /// Files: each input file, for `capture.files`.
    pub files: Vec<crate::model::FileSummary>,
}

/// Why reading a capture stopped early. Everything read before it was analysed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is a directory with no capture file in it (give .pcap or .pcapng files, or a directory of them)"
    )]
    IsDirectory { path: String },
    #[error("{path}: not a pcap or pcapng file (first bytes {magic})")]
    NotACapture { path: String, magic: String },
    #[error("{path}: corrupt capture at byte offset {offset}: {what}")]
    Corrupt {
        path: String,
        offset: u64,
        what: String,
    },
    #[error("{path}: file ends in the middle of a record at byte offset {offset} ({what})")]
    Truncated {
        path: String,
        offset: u64,
        what: String,
    },
    #[error("read error on {path} at byte offset {offset}: {source}")]
    Io {
        path: String,
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Live(String),
    /// A live capture over several interfaces: the ones that could not be opened or stopped
    /// early (the others were captured).
    #[error("{failed} of {total} interfaces could not be captured completely: {list}")]
    Interfaces {
        failed: usize,
        total: usize,
        list: String,
    },
    #[error("{failed} of {total} input files could not be read completely: {list}")]
    Inputs {
        failed: usize,
        total: usize,
        list: String,
        /// No packet could be read from any input.
        nothing: bool,
    },
}

impl CaptureError {
    /// Nothing of the capture could be read (it could not be opened, or is not a capture).
    pub fn before_anything(&self) -> bool {
        matches!(
            self,
            CaptureError::Open { .. }
                | CaptureError::IsDirectory { .. }
                | CaptureError::NotACapture { .. }
                | CaptureError::Inputs { nothing: true, .. }
        )
    }
}

/// A capture that could not be opened: a source that ends at once with the error, so the run
/// still writes its report (with `capture.error`) like any other.
pub struct Unopened {
    path: String,
    error: Option<CaptureError>,
}

impl Unopened {
    pub fn new(path: &std::path::Path, error: CaptureError) -> Self {
        Unopened {
            path: path.display().to_string(),
            error: Some(error),
        }
    }
}

impl PacketSource for Unopened {
    fn next(&mut self) -> Next<'_> {
        match self.error.take() {
            Some(e) => Next::Error(e),
            None => Next::End,
        }
    }
    fn position(&self) -> (u64, Option<u64>) {
        (0, None)
    }
    fn finish(&mut self) -> SourceEnd {
        SourceEnd {
            name: self.path.clone(),
            format: "unknown".into(),
            ..SourceEnd::default()
        }
    }
}
