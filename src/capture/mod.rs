//! Capture sources: saved files (`.pcap`, `.pcapng`) and live interfaces.
//!
//! A source yields [`PacketView`]s that borrow the source's buffer until the next call, so the
//! file path copies nothing per packet. The live source owns its packets (they cross a channel).

pub mod file;
pub mod live;
pub mod pcapng_writer;

/// Why reading a capture stopped early. Everything read before it was analysed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
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
}
