//! Files that lie about their framing, and a file that is not a capture (issue 13 item 5).
//! Each lying capture starts with `n` or a few more good packets; [`Pcap::mark`] notes the
//! byte offset where the lie starts.

use super::http::{echo, get};
use super::wire::{Conn, Pcap, Side, ng_block};

/// Complete HTTP exchanges (8 packets each) until at least `n` packets are written.
fn traffic(p: &mut Pcap, n: u64) {
    let mut i = 0;
    while p.packets < n {
        let mut c = Conn::new(i);
        c.handshake(p);
        c.send(p, Side::Client, &get("/ok"));
        c.send(p, Side::Server, &echo("/ok"));
        c.close(p);
        i += 1;
    }
}

/// A pcap record header: time, captured and original length.
fn record_header(caplen: u32) -> Vec<u8> {
    [1_700_000_000u32, 0, caplen, caplen]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

/// Good packets, then a record claiming 4 GB − 64 KiB captured bytes.
pub fn pcap_lie_caplen(p: &mut Pcap, n: u64) {
    traffic(p, n);
    p.mark();
    p.raw(&record_header(0xffff_0000));
    p.raw(&[0u8; 64]);
}

/// Good packets, then a record claiming 1,500 bytes of which the file holds 100.
pub fn pcap_lie_cut(p: &mut Pcap, n: u64) {
    traffic(p, n);
    p.mark();
    p.raw(&record_header(1500));
    p.raw(&[0u8; 100]);
}

/// An enhanced packet block body: interface, time, captured and original length, data.
fn epb(interface: u32, caplen: u32, data: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = [interface, 0, 0, caplen, caplen]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    b.extend_from_slice(data);
    b
}

/// Good packets, then a packet block on interface 7 of a section that describes one.
pub fn pcapng_lie_interface(p: &mut Pcap, n: u64) {
    traffic(p, n);
    p.mark();
    p.raw(&ng_block(6, &epb(7, 60, &[0u8; 60])));
}

/// Good packets, then a block whose trailing length differs from its leading length.
pub fn pcapng_lie_length(p: &mut Pcap, n: u64) {
    traffic(p, n);
    p.mark();
    let mut b = ng_block(6, &epb(0, 60, &[0u8; 60]));
    let at = b.len() - 4;
    b[at..].copy_from_slice(&64u32.to_le_bytes());
    p.raw(&b);
}

/// Good packets, then a packet block claiming more captured bytes than it holds.
pub fn pcapng_lie_caplen(p: &mut Pcap, n: u64) {
    traffic(p, n);
    p.mark();
    p.raw(&ng_block(6, &epb(0, 4000, &[0u8; 60])));
}

/// `n` bytes of text: not a capture.
pub fn not_a_capture(p: &mut Pcap, n: u64) {
    let line = b"this is a text file, not a capture\n";
    let mut left = n as usize;
    while left > 0 {
        let k = left.min(line.len());
        p.raw(&line[..k]);
        left -= k;
    }
}
