//! Capture sources: saved files (`.pcap`, `.pcapng`) and live interfaces.
//!
//! A source yields [`PacketView`]s that borrow the source's buffer until the next call, so the
//! file path copies nothing per packet. The live source owns its packets (they cross a channel).

pub mod file;
pub mod live;
pub mod pcapng_writer;

use std::fmt;

/// Packet time: nanoseconds since the Unix epoch, as recorded in the capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);

    pub fn from_secs_nanos(secs: i64, nanos: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }

    /// Seconds since the epoch as a float (microsecond precision for current dates).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    pub fn saturating_sub(self, other: Timestamp) -> i64 {
        self.0.saturating_sub(other.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000_000);
        let nanos = self.0.rem_euclid(1_000_000_000);
        write!(f, "{secs}.{nanos:09}")
    }
}

/// A libpcap link-layer type (`LINKTYPE_*` value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// OpenBSD's DLT_RAW value as written by some tools.
    pub const RAW_OPENBSD: LinkType = LinkType(12);
    pub const RAW_DLT14: LinkType = LinkType(14);

    /// Short name as libpcap spells it, for reports.
    pub fn name(self) -> String {
        match self.0 {
            0 => "NULL".into(),
            1 => "EN10MB".into(),
            12 | 14 | 101 => "RAW".into(),
            108 => "LOOP".into(),
            113 => "LINUX_SLL".into(),
            228 => "IPV4".into(),
            229 => "IPV6".into(),
            276 => "LINUX_SLL2".into(),
            n => format!("LINKTYPE_{n}"),
        }
    }
}

/// One captured packet, borrowed from the source.
#[derive(Clone, Copy, Debug)]
pub struct PacketView<'a> {
    pub ts: Timestamp,
    pub link: LinkType,
    /// The captured bytes (`caplen` of them).
    pub data: &'a [u8],
    /// The length of the packet on the wire; larger than `data.len()` when cut by snaplen.
    pub orig_len: u32,
    /// pcapng interface id (0 for classic pcap and live capture).
    pub interface: u32,
}

/// An owned packet, for crossing threads.
#[derive(Clone, Debug)]
pub struct OwnedPacket {
    pub ts: Timestamp,
    pub link: LinkType,
    pub data: Vec<u8>,
    pub orig_len: u32,
    pub interface: u32,
}

impl OwnedPacket {
    pub fn view(&self) -> PacketView<'_> {
        PacketView {
            ts: self.ts,
            link: self.link,
            data: &self.data,
            orig_len: self.orig_len,
            interface: self.interface,
        }
    }
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
