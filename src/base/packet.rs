//! The packet view every source yields and the decoder reads.

use super::{LinkType, Timestamp};

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
    /// Index of the input file it came from, in the order of the inputs (0 for a single
    /// file and for live capture).
    pub file: u32,
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
            file: 0,
        }
    }
}
