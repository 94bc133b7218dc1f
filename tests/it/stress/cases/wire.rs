//! The capture writer and the TCP conversation builder every case is made of.
//!
//! Packets are Ethernet/IPv4/TCP frames built with etherparse (as the other tests build
//! theirs), written as they are made: a full-scale case of a few hundred megabytes is never
//! held in memory.

use std::io::{self, Write};

use etherparse::PacketBuilder;

/// Microseconds between two packets: 200,000 connections still fit in the idle timeout.
const TICK_US: u64 = 10;
/// Segment size for payloads.
pub const MSS: usize = 1460;
/// The server every case talks to.
pub const SERVER: ([u8; 4], u16) = ([192, 0, 2, 80], 80);

/// Where the packets go: a classic pcap (Ethernet, microseconds) or a pcapng with one
/// Ethernet interface.
pub struct Pcap<'w> {
    out: &'w mut dyn Write,
    ng: bool,
    t_us: u64,
    err: Option<io::Error>,
    /// Packets written so far.
    pub packets: u64,
    /// Bytes written so far.
    pub bytes: u64,
    /// The offset [`Pcap::mark`] noted: where a framing case's lie starts.
    pub marked: Option<u64>,
}

impl<'w> Pcap<'w> {
    /// A classic pcap: little-endian, microseconds, snaplen 262,144, Ethernet.
    pub fn classic(out: &'w mut dyn Write) -> Self {
        let mut p = Pcap::bare(out, false);
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        // thiszone, sigfigs, snaplen, link type (Ethernet)
        for v in [0u32, 0, 262_144, 1] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        p.raw(&h);
        p
    }

    /// A pcapng: a section header and one Ethernet interface (microseconds).
    pub fn pcapng(out: &'w mut dyn Write) -> Self {
        let mut p = Pcap::bare(out, true);
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        p.raw(&ng_block(0x0a0d_0d0a, &shb));
        let mut idb = Vec::new();
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&262_144u32.to_le_bytes());
        p.raw(&ng_block(1, &idb));
        p
    }

    /// No file header: for bytes that are not a capture.
    pub fn headerless(out: &'w mut dyn Write) -> Self {
        Pcap::bare(out, false)
    }

    fn bare(out: &'w mut dyn Write, ng: bool) -> Self {
        Pcap {
            out,
            ng,
            t_us: 1_700_000_000_000_000,
            err: None,
            packets: 0,
            bytes: 0,
            marked: None,
        }
    }

    /// Notes the current offset.
    pub fn mark(&mut self) {
        self.marked = Some(self.bytes);
    }

    /// Bytes as they are: headers, and the lies of the framing cases.
    pub fn raw(&mut self, b: &[u8]) {
        if self.err.is_none() {
            if let Err(e) = self.out.write_all(b) {
                self.err = Some(e);
            }
            self.bytes += b.len() as u64;
        }
    }

    /// One frame, `TICK_US` after the previous one.
    pub fn frame(&mut self, data: &[u8]) {
        self.t_us += TICK_US;
        let (sec, usec) = (self.t_us / 1_000_000, self.t_us % 1_000_000);
        let len = data.len() as u32;
        if self.ng {
            let mut b = Vec::with_capacity(20 + data.len() + 3);
            b.extend_from_slice(&0u32.to_le_bytes());
            b.extend_from_slice(&((self.t_us >> 32) as u32).to_le_bytes());
            b.extend_from_slice(&(self.t_us as u32).to_le_bytes());
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(data);
            self.raw(&ng_block(6, &b));
        } else {
            let mut h = [0u8; 16];
            h[0..4].copy_from_slice(&(sec as u32).to_le_bytes());
            h[4..8].copy_from_slice(&(usec as u32).to_le_bytes());
            h[8..12].copy_from_slice(&len.to_le_bytes());
            h[12..16].copy_from_slice(&len.to_le_bytes());
            self.raw(&h);
            self.raw(data);
        }
        self.packets += 1;
    }

    /// Packet time passes without packets.
    pub fn wait(&mut self, secs: u64) {
        self.t_us += secs * 1_000_000;
    }

    /// What was written, or the first write error.
    pub fn finish(self) -> io::Result<Written> {
        if let Some(e) = self.err {
            return Err(e);
        }
        self.out.flush()?;
        Ok(Written {
            packets: self.packets,
            bytes: self.bytes,
            marked: self.marked,
        })
    }
}

/// What a case wrote.
#[derive(Clone, Copy, Debug, Default)]
pub struct Written {
    pub packets: u64,
    pub bytes: u64,
    /// Where the lie of a framing case starts.
    pub marked: Option<u64>,
}

/// A pcapng block: type, total length, body padded to 4 bytes, total length again.
pub fn ng_block(kind: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    let mut b = Vec::with_capacity(total as usize);
    b.extend_from_slice(&kind.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(body);
    b.resize(8 + padded, 0);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const PSH: u8 = 0x08;

/// An Ethernet/IPv4/TCP frame.
pub fn tcp_frame(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src.0, dst.0, 64)
        .tcp(src.1, dst.1, seq, 65535);
    if flags & SYN != 0 {
        b = b.syn();
    }
    if flags & ACK != 0 {
        b = b.ack(ack);
    }
    if flags & FIN != 0 {
        b = b.fin();
    }
    if flags & PSH != 0 {
        b = b.psh();
    }
    let mut v = Vec::with_capacity(b.size(payload.len()));
    // Building into a Vec cannot fail for payloads under 64 KiB, which is all the cases send.
    let _ = b.write(&mut v, payload);
    v
}

/// The `i`-th client: a distinct address and port for up to 16 million clients.
pub fn client(i: u64) -> ([u8; 4], u16) {
    let a = (i % 250_000) as u32 + 1;
    (
        [10, (a >> 16) as u8, (a >> 8) as u8, a as u8],
        40_000 + (i / 250_000) as u16,
    )
}

/// Which end of a connection sends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// One TCP connection between `client(i)` and [`SERVER`], with each side's next sequence
/// number.
pub struct Conn {
    ends: [([u8; 4], u16); 2],
    next: [u32; 2],
}

impl Conn {
    pub fn new(i: u64) -> Self {
        let isn = (i as u32).wrapping_mul(2_654_435_761);
        Conn {
            ends: [client(i), SERVER],
            next: [isn, isn.wrapping_add(0x4000_0000)],
        }
    }

    fn ix(side: Side) -> usize {
        match side {
            Side::Client => 0,
            Side::Server => 1,
        }
    }

    /// One segment from `side` at its next sequence number plus `ahead`; the sequence
    /// numbers do not move.
    pub fn segment_at(&self, p: &mut Pcap, side: Side, flags: u8, ahead: u32, payload: &[u8]) {
        let (me, peer) = (Self::ix(side), 1 - Self::ix(side));
        let seq = self.next[me].wrapping_add(ahead);
        p.frame(&tcp_frame(
            self.ends[me],
            self.ends[peer],
            flags,
            seq,
            self.next[peer],
            payload,
        ));
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self, p: &mut Pcap) {
        self.segment_at(p, Side::Client, SYN, 0, b"");
        self.next[0] = self.next[0].wrapping_add(1);
        // The SYN-ACK acknowledges the client's SYN.
        self.segment_at(p, Side::Server, SYN | ACK, 0, b"");
        self.next[1] = self.next[1].wrapping_add(1);
        self.segment_at(p, Side::Client, ACK, 0, b"");
    }

    /// `data` from `side` in segments of at most [`MSS`] bytes.
    pub fn send(&mut self, p: &mut Pcap, side: Side, data: &[u8]) {
        for seg in data.chunks(MSS) {
            self.segment_at(p, side, ACK | PSH, 0, seg);
            self.skip(side, seg.len());
        }
    }

    /// `n` bytes of `side` that the capture never saw.
    pub fn skip(&mut self, side: Side, n: usize) {
        let i = Self::ix(side);
        self.next[i] = self.next[i].wrapping_add(n as u32);
    }

    /// FIN from the client, FIN from the server, the last ACK.
    pub fn close(&mut self, p: &mut Pcap) {
        self.segment_at(p, Side::Client, ACK | FIN, 0, b"");
        self.next[0] = self.next[0].wrapping_add(1);
        self.segment_at(p, Side::Server, ACK | FIN, 0, b"");
        self.next[1] = self.next[1].wrapping_add(1);
        self.segment_at(p, Side::Client, ACK, 0, b"");
    }
}
