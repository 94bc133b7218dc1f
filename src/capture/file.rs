//! Saved captures: classic pcap (µs and ns, either byte order) and pcapng (several interfaces,
//! each with its own link type and timestamp resolution).

use std::path::Path;

use super::{CaptureError, PacketView};

/// Reads a capture file packet by packet. The returned view borrows the reader's buffer until
/// the next call.
pub struct FileSource {
    path: String,
}

impl FileSource {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        Ok(FileSource {
            path: path.display().to_string(),
        })
    }

    /// "pcap" or "pcapng".
    pub fn format(&self) -> &'static str {
        "pcap"
    }

    /// Total file size in bytes, when known (for progress).
    pub fn len(&self) -> Option<u64> {
        None
    }

    /// Bytes of the file consumed so far (for progress and error offsets).
    pub fn offset(&self) -> u64 {
        0
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The next packet, `Ok(None)` at a clean end of file, or the error that stopped reading.
    /// After an error, further calls return `Ok(None)`.
    pub fn next_packet(&mut self) -> Result<Option<PacketView<'_>>, CaptureError> {
        Ok(None)
    }
}
