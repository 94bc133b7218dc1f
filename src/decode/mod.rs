//! Link → IP → TCP decoding.
//!
//! Contract: every input byte is untrusted. Lengths are checked once by etherparse's lax slicers;
//! fields are then read through its views, which cannot panic. A packet that stops parsing part
//! way keeps every layer that did parse: the outcome says where and why it stopped, and the
//! [`DecodeStats`] count it. Nothing is dropped silently. Checksums are never verified (loopback
//! captures carry partial checksums because of offload).

mod defrag;
mod link;

use std::net::{IpAddr, Ipv4Addr};

use etherparse::err::packet::SliceError;
use etherparse::err::{Layer, LenError};
use etherparse::{
    IpAuthHeaderSlice, IpNumber, Ipv6ExtensionSlice, Ipv6ExtensionsSlice, LaxIpPayloadSlice,
    LaxLinkExtSlice, LaxNetSlice, LaxSlicedPacket, LenSource, LinkSlice, TcpSlice, TransportSlice,
    ip_number,
};

use crate::base::{LinkType, PacketView};
use crate::model::DecodeStats;
pub use defrag::FragKey;
#[cfg(test)]
pub(crate) use defrag::test_key as test_frag_key;
use defrag::{Defragmenter, FragOutcome};

pub use defrag::TIMEOUT_NS as DEFRAG_TIMEOUT_NS;
pub use defrag::{MAX_BYTES as DEFRAG_MAX_BYTES, MAX_DATAGRAMS as DEFRAG_MAX_DATAGRAMS};

/// TCP flag bits as on the wire (byte 13 of the header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

/// A decoded TCP segment. `payload` borrows the packet (or the decoder's defragmentation buffer).
#[derive(Clone, Copy, Debug)]
pub struct TcpSegment<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// The captured payload bytes.
    pub payload: &'a [u8],
    /// Payload bytes the IP header announced but the capture does not hold (cut by snaplen).
    /// The reassembler delivers them as a gap.
    pub missing_tail: u32,
}

/// Where decoding stopped, for counters and findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Layer name: "link", "vlan", "ipv4", "ipv6", "ipv6-ext", "tcp".
    pub layer: &'static str,
    /// Byte offset in the packet where the layer started.
    pub offset: usize,
    /// What was wrong, e.g. "needs 20 bytes, 12 captured".
    pub what: String,
}

/// The outcome of decoding one packet.
#[derive(Debug)]
pub enum Decoded<'a> {
    /// A TCP segment (possibly from a reassembled IPv4/IPv6 fragment train).
    Tcp(TcpSegment<'a>),
    /// Decoded fine, but not TCP (UDP, ICMP, ARP, ...). `what` names it for counters.
    NotTcp { what: &'static str },
    /// An IP fragment that was buffered; the datagram is not complete yet.
    FragmentHeld,
    /// Could not be decoded far enough to find a TCP segment.
    Undecodable(DecodeError),
}

/// Stateful decoder: owns the IP defragmentation buffers (bounded).
pub struct Decoder {
    pub stats: DecodeStats,
    defrag: Defragmenter,
    /// The datagram of the last IP fragment decoded (valid for a packet when
    /// `stats.ipv4_fragments + stats.ipv6_fragments` grew while it was decoded): what
    /// `--write-pcap` joins a train's earlier fragments to its connection by.
    pub last_fragment: Option<FragKey>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

fn undecodable<'a>(
    stats: &mut DecodeStats,
    layer: &'static str,
    offset: usize,
    what: String,
) -> Decoded<'a> {
    stats.undecodable += 1;
    Decoded::Undecodable(DecodeError {
        layer,
        offset,
        what,
    })
}

fn not_tcp<'a>(stats: &mut DecodeStats, proto: IpNumber) -> Decoded<'a> {
    match proto {
        ip_number::UDP => {
            stats.udp += 1;
            Decoded::NotTcp { what: "udp" }
        }
        ip_number::ICMP | ip_number::IPV6_ICMP => {
            stats.icmp += 1;
            Decoded::NotTcp { what: "icmp" }
        }
        _ => {
            stats.other_ip += 1;
            Decoded::NotTcp { what: "other-ip" }
        }
    }
}

/// Offset of `inner` within `outer` (both slices of the same packet).
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize)
        .saturating_sub(outer.as_ptr() as usize)
        .min(outer.len())
}

fn describe_len(e: &LenError) -> String {
    format!("needs {} bytes, {} captured", e.required_len, e.len)
}

pub(crate) fn describe_ip_err(e: &etherparse::err::ip::LaxHeaderSliceError) -> String {
    use etherparse::err::ip::LaxHeaderSliceError as E;
    match e {
        E::Len(l) => describe_len(l),
        E::Content(c) => c.to_string(),
    }
}

fn layer_name(layer: Layer, v6: bool) -> &'static str {
    match layer {
        Layer::VlanHeader | Layer::MacsecHeader | Layer::MacsecPacket => "vlan",
        Layer::IpHeader
        | Layer::Ipv4Header
        | Layer::Ipv4Packet
        | Layer::Ipv6Header
        | Layer::Ipv6Packet => {
            if v6 {
                "ipv6"
            } else {
                "ipv4"
            }
        }
        Layer::IpAuthHeader => {
            if v6 {
                "ipv6-ext"
            } else {
                "ipv4"
            }
        }
        Layer::Ipv6ExtHeader
        | Layer::Ipv6HopByHopHeader
        | Layer::Ipv6DestOptionsHeader
        | Layer::Ipv6RouteHeader
        | Layer::Ipv6FragHeader => "ipv6-ext",
        Layer::TcpHeader => "tcp",
        Layer::UdpHeader | Layer::UdpPayload => "udp",
        Layer::Icmpv4 | Layer::Icmpv4Timestamp | Layer::Icmpv4TimestampReply | Layer::Icmpv6 => {
            "icmp"
        }
        Layer::Arp => "arp",
        _ => "link",
    }
}

/// Decodes the transport layer of a reassembled datagram held by the defragmenter.
fn reassembled_transport<'a>(
    stats: &mut DecodeStats,
    bytes: &'a [u8],
    proto: IpNumber,
    v6: bool,
    src: IpAddr,
    dst: IpAddr,
    ip_start: usize,
) -> Decoded<'a> {
    // Headers that may follow the fragment header inside the reassembled payload.
    let (proto, payload) = if v6 {
        let (_, next, rest, err) = Ipv6ExtensionsSlice::from_slice_lax(proto, bytes);
        if let Some((_, layer)) = err {
            return undecodable(
                stats,
                layer_name(layer, true),
                ip_start,
                "reassembled datagram: extension header cut".into(),
            );
        }
        (next, rest)
    } else if proto == ip_number::AUTH {
        match IpAuthHeaderSlice::from_slice(bytes) {
            Ok(auth) => (
                auth.next_header(),
                bytes.get(auth.slice().len()..).unwrap_or(&[]),
            ),
            Err(e) => {
                return undecodable(
                    stats,
                    "ipv4",
                    ip_start,
                    format!("reassembled datagram: authentication header: {e}"),
                );
            }
        }
    } else {
        (proto, bytes)
    };
    if proto != ip_number::TCP {
        return not_tcp(stats, proto);
    }
    match TcpSlice::from_slice(payload) {
        Ok(tcp) => {
            stats.tcp += 1;
            Decoded::Tcp(segment(&tcp, src, dst, 0))
        }
        Err(e) => undecodable(stats, "tcp", ip_start, format!("reassembled datagram: {e}")),
    }
}

fn segment<'a>(tcp: &TcpSlice<'a>, src: IpAddr, dst: IpAddr, missing_tail: u32) -> TcpSegment<'a> {
    TcpSegment {
        src,
        dst,
        src_port: tcp.source_port(),
        dst_port: tcp.destination_port(),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: TcpFlags(tcp.header_slice().get(13).copied().unwrap_or(0)),
        window: tcp.window_size(),
        payload: tcp.payload(),
        missing_tail,
    }
}

/// Bytes the IP header announced beyond the captured ones. `announced_end` is the offset in the
/// packet where the IP datagram ends according to its header, when the header says.
fn missing(
    payload: &LaxIpPayloadSlice<'_>,
    announced_end: Option<usize>,
    pkt: &PacketView<'_>,
) -> u32 {
    let captured = pkt.data.len();
    if payload.incomplete {
        return announced_end.map_or(0, |e| e.saturating_sub(captured)) as u32;
    }
    if payload.len_source == LenSource::Slice {
        // The IP header gives no length (IPv4 total length 0 from segmentation offload, IPv6
        // jumbogram): the record's original length is the only hint.
        return (pkt.orig_len as usize).saturating_sub(captured) as u32;
    }
    0
}

/// The common case, decoded without etherparse: Ethernet (optionally one 802.1Q tag), IPv4
/// without fragmentation and wholly captured, TCP with a complete header. Returns `None` for
/// anything else, which then takes the general path; for what it accepts it gives exactly what
/// the general path gives (a property test checks this). About a quarter of the instructions
/// of the general path, which copies several large slice structs per packet.
#[inline]
fn fast_tcp4<'a>(pkt: &PacketView<'a>) -> Option<TcpSegment<'a>> {
    if pkt.link != LinkType::ETHERNET {
        return None;
    }
    let d = pkt.data;
    let be16 = |at: usize| -> Option<u16> {
        Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?))
    };
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
    };
    let ip = match be16(12)? {
        0x0800 => 14,
        0x8100 if be16(16)? == 0x0800 => 18,
        _ => return None,
    };
    let vihl = *d.get(ip)?;
    let ihl = usize::from(vihl & 0x0f) * 4;
    let total = usize::from(be16(ip + 2)?);
    // Version 4, a sane header, no fragment (MF clear, offset 0), TCP, and the whole datagram
    // captured (trailing Ethernet padding allowed).
    if vihl >> 4 != 4
        || ihl < 20
        || total < ihl + 20
        || be16(ip + 6)? & 0x3fff != 0
        || *d.get(ip + 9)? != 6
        || ip + total > d.len()
    {
        return None;
    }
    let src = Ipv4Addr::from(be32(ip + 12)?);
    let dst = Ipv4Addr::from(be32(ip + 16)?);
    let t = ip + ihl;
    let doff = usize::from(*d.get(t + 12)? >> 4) * 4;
    if doff < 20 || t + doff > ip + total {
        return None;
    }
    Some(TcpSegment {
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        src_port: be16(t)?,
        dst_port: be16(t + 2)?,
        seq: be32(t + 4)?,
        ack: be32(t + 8)?,
        flags: TcpFlags(*d.get(t + 13)?),
        window: be16(t + 14)?,
        payload: d.get(t + doff..ip + total)?,
        missing_tail: 0,
    })
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            stats: DecodeStats::default(),
            defrag: Defragmenter::default(),
            last_fragment: None,
        }
    }

    /// IP fragments decoded so far (IPv4 and IPv6).
    pub fn fragments(&self) -> u64 {
        self.stats.ipv4_fragments + self.stats.ipv6_fragments
    }

    /// Whether hopscope can decode this link type.
    pub fn supports(link: LinkType) -> bool {
        matches!(
            link.0,
            0 | 1 | 12 | 14 | 101 | 108 | 113 | 228 | 229 | 239 | 276
        )
    }

    /// Datagrams being reassembled and the bytes they hold.
    pub fn defrag_usage(&self) -> (usize, usize) {
        (self.defrag.len(), self.defrag.buffered_bytes())
    }

    /// Bytes held for IP datagrams still being reassembled (the memory budget counts them).
    pub fn held_bytes(&self) -> usize {
        self.defrag.buffered_bytes()
    }

    /// Decodes one packet. Never panics.
    #[inline]
    pub fn decode<'a>(&'a mut self, pkt: &PacketView<'a>) -> Decoded<'a> {
        self.defrag.expire(pkt.ts.0, &mut self.stats);
        if let Some(seg) = fast_tcp4(pkt) {
            self.stats.tcp += 1;
            return Decoded::Tcp(seg);
        }
        self.decode_sliced(pkt)
    }

    /// The general path: etherparse's lax slicers, every link type, IPv6, fragments, errors.
    #[inline(never)]
    fn decode_sliced<'a>(&'a mut self, pkt: &PacketView<'a>) -> Decoded<'a> {
        let stats = &mut self.stats;
        let linked = match link::slice(pkt.link, pkt.data) {
            Ok(l) => l,
            Err(link::LinkStop::Unsupported) => {
                stats.unsupported_link_type += 1;
                return Decoded::Undecodable(DecodeError {
                    layer: "link",
                    offset: 0,
                    what: format!(
                        "link type {} ({}) is not supported",
                        pkt.link.0,
                        pkt.link.name()
                    ),
                });
            }
            Err(link::LinkStop::Short { need, what }) => {
                return undecodable(
                    stats,
                    "link",
                    0,
                    format!("{what} needs {need} bytes, {} captured", pkt.data.len()),
                );
            }
            Err(link::LinkStop::NotIp) => {
                stats.non_ip += 1;
                return Decoded::NotTcp { what: "non-ip" };
            }
            Err(link::LinkStop::Ip(layer, what)) => return undecodable(stats, layer, 0, what),
        };
        let sliced = linked.sliced;
        let base = linked.base;
        match &sliced.net {
            Some(LaxNetSlice::Ipv4(_)) | Some(LaxNetSlice::Ipv6(_)) => {}
            Some(LaxNetSlice::Arp(_)) => {
                stats.non_ip += 1;
                return Decoded::NotTcp { what: "arp" };
            }
            None => return Self::no_net(stats, &sliced, base, pkt.data),
        }
        let data = pkt.data;
        let v6 = matches!(sliced.net, Some(LaxNetSlice::Ipv6(_)));
        // IP header facts, copied out of the slice.
        let (src, dst, ip_start, announced_end, payload) = match &sliced.net {
            Some(LaxNetSlice::Ipv4(ip)) => {
                let h = ip.header();
                let start = offset_in(data, h.slice());
                let total = usize::from(h.total_len());
                (
                    IpAddr::V4(h.source_addr()),
                    IpAddr::V4(h.destination_addr()),
                    start,
                    (total >= h.slice().len()).then_some(start + total),
                    ip.payload().clone(),
                )
            }
            Some(LaxNetSlice::Ipv6(ip)) => {
                let h = ip.header();
                let start = offset_in(data, h.slice());
                let plen = usize::from(h.payload_length());
                (
                    IpAddr::V6(h.source_addr()),
                    IpAddr::V6(h.destination_addr()),
                    start,
                    (plen > 0).then_some(start + 40 + plen),
                    ip.payload().clone(),
                )
            }
            _ => return undecodable(stats, "link", 0, "no network layer".into()),
        };
        if payload.fragmented {
            return self.fragment(pkt, &sliced, src, dst, ip_start, announced_end);
        }
        let stats = &mut self.stats;
        if let Some((err, layer)) = &sliced.stop_err {
            let name = layer_name(*layer, v6);
            match name {
                "udp" => return not_tcp(stats, ip_number::UDP),
                "icmp" => return not_tcp(stats, ip_number::ICMP),
                _ => {}
            }
            let (offset, what) = match err {
                SliceError::Len(l) => (base + l.layer_start_offset, describe_len(l)),
                other => (
                    if name == "tcp" {
                        offset_in(data, payload.payload)
                    } else {
                        ip_start
                    },
                    other.to_string(),
                ),
            };
            return undecodable(stats, name, offset, what);
        }
        if payload.ip_number != ip_number::TCP {
            return not_tcp(stats, payload.ip_number);
        }
        match &sliced.transport {
            Some(TransportSlice::Tcp(tcp)) => {
                let missing_tail = missing(&payload, announced_end, pkt);
                if missing_tail > 0 {
                    stats.tcp_payload_truncated += 1;
                }
                stats.tcp += 1;
                Decoded::Tcp(segment(tcp, src, dst, missing_tail))
            }
            _ => undecodable(
                stats,
                "tcp",
                offset_in(data, payload.payload),
                "TCP header not decoded".into(),
            ),
        }
    }

    /// No network layer: a cut link extension or IP header, or a non-IP EtherType.
    fn no_net<'a>(
        stats: &mut DecodeStats,
        sliced: &LaxSlicedPacket<'_>,
        base: usize,
        data: &[u8],
    ) -> Decoded<'a> {
        // Where the layer after the link headers starts.
        let mut next = base;
        if let Some(LinkSlice::Ethernet2(_)) = sliced.link {
            next += 14;
        }
        for ext in &sliced.link_exts {
            next += ext.header_len();
        }
        let v6 = data.get(next).is_some_and(|b| b >> 4 == 6);
        if let Some((err, layer)) = &sliced.stop_err {
            let name = layer_name(*layer, v6);
            if name == "arp" {
                stats.non_ip += 1;
                return Decoded::NotTcp { what: "arp" };
            }
            return match err {
                SliceError::Len(l) => {
                    undecodable(stats, name, base + l.layer_start_offset, describe_len(l))
                }
                other => undecodable(stats, name, next, other.to_string()),
            };
        }
        if let Some(ep) = sliced.ether_payload() {
            use etherparse::EtherType as E;
            if matches!(
                ep.ether_type,
                E::VLAN_TAGGED_FRAME | E::PROVIDER_BRIDGING | E::VLAN_DOUBLE_TAGGED_FRAME
            ) && sliced.link_exts.is_full()
            {
                return undecodable(
                    stats,
                    "vlan",
                    next,
                    format!("more than {} stacked VLAN tags", sliced.link_exts.len()),
                );
            }
        }
        if matches!(sliced.link_exts.last(), Some(LaxLinkExtSlice::Macsec(_))) {
            stats.non_ip += 1;
            return Decoded::NotTcp { what: "macsec" };
        }
        stats.non_ip += 1;
        Decoded::NotTcp { what: "non-ip" }
    }

    /// An IPv4 or IPv6 fragment: hand it to the defragmenter.
    fn fragment<'a>(
        &'a mut self,
        pkt: &PacketView<'a>,
        sliced: &LaxSlicedPacket<'a>,
        src: IpAddr,
        dst: IpAddr,
        ip_start: usize,
        announced_end: Option<usize>,
    ) -> Decoded<'a> {
        let data = pkt.data;
        let stats = &mut self.stats;
        let mut vlans = [0u16; 3];
        for (slot, id) in vlans.iter_mut().zip(sliced.vlan_ids()) {
            *slot = id.value();
        }
        let v6 = matches!(sliced.net, Some(LaxNetSlice::Ipv6(_)));
        let layer = if v6 { "ipv6" } else { "ipv4" };
        // (offset, more, id, next protocol, fragment data start)
        let frag = match &sliced.net {
            Some(LaxNetSlice::Ipv4(ip)) => {
                stats.ipv4_fragments += 1;
                let h = ip.header();
                Some((
                    u32::from(h.fragments_offset().value()) * 8,
                    h.more_fragments(),
                    u32::from(h.identification()),
                    h.protocol(),
                    ip_start + h.slice().len(),
                ))
            }
            Some(LaxNetSlice::Ipv6(ip)) => {
                stats.ipv6_fragments += 1;
                ip.extensions().clone().into_iter().find_map(|e| match e {
                    Ipv6ExtensionSlice::Fragment(f) => Some((
                        u32::from(f.fragment_offset().value()) * 8,
                        f.more_fragments(),
                        f.identification(),
                        f.next_header(),
                        offset_in(data, f.slice()) + f.slice().len(),
                    )),
                    _ => None,
                })
            }
            _ => None,
        };
        let Some((offset, more, id, proto, start)) = frag else {
            stats.fragment_errors += 1;
            return undecodable(stats, layer, ip_start, "fragment header not found".into());
        };
        let end = match announced_end {
            Some(e) if e <= data.len() => e,
            Some(e) => {
                stats.fragment_errors += 1;
                return undecodable(
                    stats,
                    layer,
                    ip_start,
                    format!(
                        "fragment cut by the snaplen: {} of {} bytes captured",
                        data.len().saturating_sub(ip_start),
                        e - ip_start
                    ),
                );
            }
            None => data.len(),
        };
        let Some(piece) = data.get(start..end) else {
            stats.fragment_errors += 1;
            return undecodable(
                stats,
                layer,
                ip_start,
                "fragment shorter than its headers".into(),
            );
        };
        let key = FragKey {
            interface: pkt.interface,
            vlans,
            v6,
            src: ip_octets(src),
            dst: ip_octets(dst),
            id,
            proto: proto.0,
        };
        self.last_fragment = Some(key);
        match self.defrag.add(key, offset, more, piece, pkt.ts.0, stats) {
            FragOutcome::Held => Decoded::FragmentHeld,
            FragOutcome::Error(what) => {
                stats.fragment_errors += 1;
                undecodable(stats, layer, ip_start, what.into())
            }
            FragOutcome::Complete => {
                reassembled_transport(stats, &self.defrag.out, proto, v6, src, dst, ip_start)
            }
        }
    }
}

fn ip_octets(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::base::Timestamp;
    use etherparse::PacketBuilder;
    use proptest::prelude::*;

    fn view(data: &[u8]) -> PacketView<'_> {
        PacketView {
            ts: Timestamp(0),
            link: LinkType::ETHERNET,
            data,
            orig_len: data.len() as u32,
            interface: 0,
            file: 0,
        }
    }

    fn build(vlan: bool, opts: bool, payload: &[u8], flags: u8) -> Vec<u8> {
        let eth = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]);
        let ip = if vlan {
            eth.single_vlan(100.try_into().unwrap())
                .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        } else {
            eth.ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        };
        let mut t = ip.tcp(40000, 80, 0x1234_5678, 1000).ack(0x9abc_def0);
        if flags & 1 != 0 {
            t = t.fin();
        }
        if flags & 2 != 0 {
            t = t.syn();
        }
        if opts {
            t = t
                .options(&[etherparse::TcpOptionElement::Timestamp(1, 2)])
                .unwrap();
        }
        let mut v = Vec::new();
        t.write(&mut v, payload).unwrap();
        v
    }

    fn same(a: &TcpSegment<'_>, b: &TcpSegment<'_>) -> bool {
        a.src == b.src
            && a.dst == b.dst
            && a.src_port == b.src_port
            && a.dst_port == b.dst_port
            && a.seq == b.seq
            && a.ack == b.ack
            && a.flags == b.flags
            && a.window == b.window
            && std::ptr::eq(a.payload, b.payload)
            && a.missing_tail == b.missing_tail
    }

    #[test]
    fn fast_path_takes_the_common_case() {
        for vlan in [false, true] {
            let p = build(vlan, true, b"GET / HTTP/1.1\r\n\r\n", 0);
            let seg = fast_tcp4(&view(&p)).expect("fast path");
            assert_eq!(seg.payload, b"GET / HTTP/1.1\r\n\r\n");
            assert_eq!(seg.seq, 0x1234_5678);
            let mut padded = build(vlan, false, b"", 0);
            padded.resize(60, 0); // Ethernet minimum frame: padding is not payload
            assert_eq!(fast_tcp4(&view(&padded)).expect("fast path").payload, b"");
        }
    }

    proptest! {
        /// Whatever the fast path accepts, the general path decodes to the same segment.
        #[test]
        fn fast_path_agrees_with_etherparse(
            vlan in any::<bool>(),
            opts in any::<bool>(),
            flags in 0u8..4,
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            muts in proptest::collection::vec((0usize..80, any::<u8>()), 0..4),
            cut in proptest::option::of(0usize..140),
        ) {
            let mut p = build(vlan, opts, &payload, flags);
            for (at, b) in muts {
                if let Some(x) = p.get_mut(at) { *x = b; }
            }
            if let Some(c) = cut { p.truncate(c); }
            let fast = fast_tcp4(&view(&p));
            let mut d = Decoder::new();
            let slow = d.decode_sliced(&view(&p));
            if let Some(f) = fast {
                match slow {
                    Decoded::Tcp(s) => prop_assert!(same(&f, &s), "fast {f:?} slow {s:?}"),
                    other => prop_assert!(false, "fast {f:?} but general path {other:?}"),
                }
            }
        }
    }
}
