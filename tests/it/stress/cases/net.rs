//! TCP and IP cases: flows whose first data segment is missing (issue 13 item 1), late data
//! after a given-up hole and an absurd sequence jump (item 4), SYN and fragment floods.

use etherparse::{EtherType, Ethernet2Header, IpFragOffset, IpNumber, Ipv4Header};

use super::codings;
use super::wire::{ACK, Conn, MSS, PSH, Pcap, SERVER, SYN, Side, client};

/// Bytes of the first client segment that `missing-first` never shows.
pub const FIRST_SEGMENT: usize = MSS;
/// Bytes of the second client segment of `missing-first`, the one that is captured.
pub const SECOND_SEGMENT: usize = 500;
/// Bytes of the hole in each `late-data` connection.
pub const LATE_HOLE: usize = MSS;
/// Out-of-order bytes after the hole: more than the default `--max-ooo-bytes` (1 MiB).
pub const LATE_AFTER: usize = 1200 * 1024;
/// Each jump of `seq-jump` skips this many sequence numbers (just under 2^31: still ahead).
pub const JUMP: u32 = 0x7fff_ff00;

/// `n` handshaken connections whose client's first data segment is missing: the second
/// arrives after a hole and the server acknowledges both, and the connection stays open.
pub fn missing_first(p: &mut Pcap, n: u64) {
    let second = codings::text(SECOND_SEGMENT);
    for i in 0..n {
        let mut c = Conn::new(i);
        c.handshake(p);
        c.skip(Side::Client, FIRST_SEGMENT);
        c.send(p, Side::Client, &second);
        c.segment_at(p, Side::Server, ACK, 0, b"");
    }
}

/// `n` connections each with a hole of [`LATE_HOLE`] bytes followed by [`LATE_AFTER`] bytes,
/// so the hole is given up; then the hole's bytes arrive.
pub fn late_data(p: &mut Pcap, n: u64) {
    let hole = codings::text(LATE_HOLE);
    let after = codings::text(LATE_AFTER);
    for i in 0..n {
        let mut c = Conn::new(i);
        c.handshake(p);
        for (k, seg) in after.chunks(MSS).enumerate() {
            let ahead = (LATE_HOLE + k * MSS) as u32;
            c.segment_at(p, Side::Client, ACK | PSH, ahead, seg);
        }
        c.segment_at(p, Side::Client, ACK | PSH, 0, &hole);
        c.skip(Side::Client, LATE_HOLE + LATE_AFTER);
        c.close(p);
    }
}

/// One connection: a request, then `n` segments each [`JUMP`] sequence numbers past the
/// previous one's end, each acknowledged by the server (so the hole before it is given up
/// and the next jump is ahead again).
pub fn seq_jump(p: &mut Pcap, n: u64) {
    let mut c = Conn::new(0);
    c.handshake(p);
    c.send(
        p,
        Side::Client,
        b"GET /jump HTTP/1.1\r\nHost: stress.test\r\n\r\n",
    );
    for _ in 0..n {
        c.skip(Side::Client, JUMP as usize);
        c.send(p, Side::Client, b"jump");
        c.segment_at(p, Side::Server, ACK, 0, b"");
    }
    c.close(p);
}

/// `n` SYNs from distinct clients; no handshake completes.
pub fn syn_flood(p: &mut Pcap, n: u64) {
    for i in 0..n {
        Conn::new(i).segment_at(p, Side::Client, SYN, 0, b"");
    }
}

/// `n` first fragments (offset 0, more fragments) of distinct IPv4 datagrams, none of which
/// is ever completed.
pub fn frag_flood(p: &mut Pcap, n: u64) {
    let payload = [0x55u8; 64];
    for i in 0..n {
        let (src, _) = client(i);
        let Ok(mut ip) = Ipv4Header::new(1000, 64, IpNumber::TCP, src, SERVER.0) else {
            continue;
        };
        ip.identification = i as u16;
        ip.more_fragments = true;
        ip.fragment_offset = IpFragOffset::ZERO;
        ip.total_len = (ip.header_len() + payload.len()) as u16;
        ip.header_checksum = ip.calc_header_checksum();
        let eth = Ethernet2Header {
            source: [2, 0, 0, 0, 0, 1],
            destination: [2, 0, 0, 0, 0, 2],
            ether_type: EtherType::IPV4,
        };
        let mut f = Vec::with_capacity(14 + 20 + payload.len());
        f.extend_from_slice(&eth.to_bytes());
        f.extend_from_slice(&ip.to_bytes());
        f.extend_from_slice(&payload);
        p.frame(&f);
    }
}
