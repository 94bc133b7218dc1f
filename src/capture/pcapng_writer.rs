//! A minimal pcapng writer for `hopscope live -w` and `report --write-pcap`: one Section
//! Header Block, one Interface Description Block per interface, Enhanced Packet Blocks, and
//! Decryption Secrets Blocks.
//!
//! Little-endian; microsecond timestamps (`if_tsresol` = 6, the pcapng default, spelled out
//! anyway) for a live capture, what libpcap gives by default, nanoseconds for packets read from files. Every block length is checked
//! before anything is written, so a packet too large for a block is an error, never a corrupt
//! file. Layout per the pcapng specification (draft-ietf-opsawg-pcapng), sections 4.1, 4.2, 4.3.

use std::io::{self, Write};

use crate::base::{LinkType, PacketView};

use super::pcapng::{
    BYTE_ORDER_MAGIC, DSB as DSB_TYPE, EPB as EPB_TYPE, IDB as IDB_TYPE, OPT_ENDOFOPT,
    OPT_IF_FILTER, OPT_IF_NAME, OPT_IF_TSRESOL, OPT_SHB_USERAPPL, SHB as SHB_TYPE,
};

/// Largest captured length written in one block (the block length is a `u32`).
const MAX_CAPLEN: usize = (u32::MAX - 64) as usize;

/// Converts a libpcap `DLT_*` value (what `pcap_datalink` returns) to the `LINKTYPE_*` value a
/// file must carry. They are equal except for a few historical ones; raw IP is the one a live
/// capture meets in practice (`DLT_RAW` is 12 on most systems, 14 on OpenBSD).
pub fn dlt_to_linktype(dlt: LinkType) -> LinkType {
    match dlt.0 {
        12 | 14 => LinkType::RAW,
        _ => dlt,
    }
}

/// Writes a pcapng file for one interface.
pub struct PcapngWriter<W: Write> {
    out: W,
    packets: u64,
    /// Interface Description Blocks written.
    interfaces: u32,
    /// Per interface: timestamps in nanoseconds (else microseconds).
    nanos: Vec<bool>,
}

/// Describes the single interface of the file.
#[derive(Clone, Debug, Default)]
pub struct InterfaceInfo<'a> {
    /// Interface name (`if_name`).
    pub name: Option<&'a str>,
    /// Capture filter in libpcap syntax (`if_filter`).
    pub filter: Option<&'a str>,
    /// Snapshot length; 0 means no limit.
    pub snaplen: u32,
    /// Timestamps in nanoseconds (`if_tsresol` = 9), as a capture file read with them keeps
    /// them; else microseconds, what a live capture has.
    pub nanoseconds: bool,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header and the interface description; `link` is a `LINKTYPE_*` value
    /// (see [`dlt_to_linktype`]).
    pub fn new(out: W, link: LinkType, iface: &InterfaceInfo<'_>) -> io::Result<Self> {
        let mut w = Self::section(out)?;
        w.add_interface(link, iface)?;
        Ok(w)
    }

    /// Writes the section header only: interfaces are added with [`Self::add_interface`]
    /// before their first packet (a Decryption Secrets Block may come first).
    pub fn section(mut out: W) -> io::Result<Self> {
        let mut shb_body = Vec::with_capacity(64);
        put_u32(&mut shb_body, BYTE_ORDER_MAGIC);
        put_u16(&mut shb_body, 1); // major version
        put_u16(&mut shb_body, 0); // minor version
        shb_body.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not given
        let appl = concat!("hopscope ", env!("CARGO_PKG_VERSION"));
        put_option(&mut shb_body, OPT_SHB_USERAPPL, appl.as_bytes())?;
        put_option(&mut shb_body, OPT_ENDOFOPT, &[])?;
        write_block(&mut out, SHB_TYPE, &shb_body)?;
        Ok(PcapngWriter {
            out,
            packets: 0,
            interfaces: 0,
            nanos: Vec::new(),
        })
    }

    /// Adds another interface (an Interface Description Block) and returns its id, for
    /// [`Self::write_packet_on`]. Every interface must be added before the packets that name
    /// it (a live capture over several interfaces adds them all first).
    pub fn add_interface(&mut self, link: LinkType, iface: &InterfaceInfo<'_>) -> io::Result<u32> {
        let link = u16::try_from(link.0).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("link type {} does not fit a pcapng interface block", link.0),
            )
        })?;
        write_idb(&mut self.out, link, iface)?;
        let id = self.interfaces;
        self.interfaces += 1;
        self.nanos.push(iface.nanoseconds);
        Ok(id)
    }

    /// Appends one packet (interface 0). Its timestamp is written in microseconds.
    pub fn write_packet(&mut self, pkt: &PacketView<'_>) -> io::Result<()> {
        self.write_packet_on(0, pkt)
    }

    /// Appends one packet of interface `id` (0, or one [`Self::add_interface`] returned).
    pub fn write_packet_on(&mut self, id: u32, pkt: &PacketView<'_>) -> io::Result<()> {
        if id >= self.interfaces {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("interface {id} was not described in the file"),
            ));
        }
        let data = pkt.data;
        if data.len() > MAX_CAPLEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("packet of {} bytes is too large for pcapng", data.len()),
            ));
        }
        let caplen = data.len() as u32;
        let pad = padding(data.len());
        let units = if self.nanos.get(id as usize) == Some(&true) {
            pkt.ts.0
        } else {
            pkt.ts.0.div_euclid(1000)
        };
        // pcapng timestamps are unsigned; a time before 1970 is written as 0.
        let micros = u64::try_from(units).unwrap_or(0);
        // 28 bytes of fixed fields after the type and length, then data, padding, trailer.
        let total = 32 + data.len() + pad;
        let total = u32::try_from(total)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "block too large"))?;

        let mut head = [0u8; 28];
        head[0..4].copy_from_slice(&EPB_TYPE.to_le_bytes());
        head[4..8].copy_from_slice(&total.to_le_bytes());
        head[8..12].copy_from_slice(&id.to_le_bytes()); // interface id
        head[12..16].copy_from_slice(&((micros >> 32) as u32).to_le_bytes());
        head[16..20].copy_from_slice(&(micros as u32).to_le_bytes());
        head[20..24].copy_from_slice(&caplen.to_le_bytes());
        head[24..28].copy_from_slice(&pkt.orig_len.max(caplen).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(data)?;
        self.out.write_all(&[0u8; 3][..pad])?;
        self.out.write_all(&total.to_le_bytes())?;
        self.packets += 1;
        Ok(())
    }

    /// Appends a Decryption Secrets Block (pcapng §4.7): `kind` is the secrets type
    /// ([`super::pcapng::SECRETS_TLS_KEY_LOG`] for a TLS key log), `data` the secrets. Readers
    /// use them for the packets that follow.
    pub fn write_secrets(&mut self, kind: u32, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len())
            .ok()
            .filter(|n| (*n as usize) <= MAX_CAPLEN)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "secrets too large"))?;
        let mut body = Vec::with_capacity(data.len() + 12);
        put_u32(&mut body, kind);
        put_u32(&mut body, len);
        body.extend_from_slice(data);
        body.extend_from_slice(&[0u8; 3][..padding(data.len())]);
        write_block(&mut self.out, DSB_TYPE, &body)
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One Interface Description Block.
fn write_idb<W: Write>(out: &mut W, link: u16, iface: &InterfaceInfo<'_>) -> io::Result<()> {
    let mut idb_body = Vec::with_capacity(64);
    put_u16(&mut idb_body, link);
    put_u16(&mut idb_body, 0); // reserved
    put_u32(&mut idb_body, iface.snaplen);
    if let Some(name) = iface.name {
        put_option(&mut idb_body, OPT_IF_NAME, name.as_bytes())?;
    }
    if let Some(filter) = iface.filter {
        // The first byte says which syntax: 0 is a libpcap filter string.
        let mut v = Vec::with_capacity(filter.len() + 1);
        v.push(0);
        v.extend_from_slice(filter.as_bytes());
        put_option(&mut idb_body, OPT_IF_FILTER, &v)?;
    }
    put_option(
        &mut idb_body,
        OPT_IF_TSRESOL,
        &[if iface.nanoseconds { 9 } else { 6 }],
    )?;
    put_option(&mut idb_body, OPT_ENDOFOPT, &[])?;
    write_block(out, IDB_TYPE, &idb_body)
}

fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

fn put_u16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put_u32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put_option(v: &mut Vec<u8>, code: u16, value: &[u8]) -> io::Result<()> {
    let len = u16::try_from(value.len()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("pcapng option {code} longer than 65535 bytes"),
        )
    })?;
    put_u16(v, code);
    put_u16(v, len);
    v.extend_from_slice(value);
    v.extend_from_slice(&[0u8; 3][..padding(value.len())]);
    Ok(())
}

fn write_block(out: &mut impl Write, block_type: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(body.len() + 12)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "block too large"))?;
    out.write_all(&block_type.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::base::Timestamp;
    use pcap_parser::pcapng::Block;

    fn pkt(ts: i64, data: &[u8], orig_len: u32) -> PacketView<'_> {
        PacketView {
            ts: Timestamp(ts),
            link: LinkType::ETHERNET,
            data,
            orig_len,
            interface: 0,
            file: 0,
        }
    }

    fn blocks(buf: &[u8]) -> Vec<Block<'_>> {
        let mut rest = buf;
        let mut out = Vec::new();
        while !rest.is_empty() {
            let (r, b) = pcap_parser::pcapng::parse_block_le(rest).unwrap();
            out.push(b);
            rest = r;
        }
        out
    }

    #[test]
    fn reads_back_with_pcap_parser() {
        let info = InterfaceInfo {
            name: Some("lo"),
            filter: Some("tcp port 80"),
            snaplen: 262_144,
            nanoseconds: false,
        };
        let mut w = PcapngWriter::new(Vec::new(), LinkType::ETHERNET, &info).unwrap();
        // Every padding length: 0..=3 bytes.
        let payloads: [&[u8]; 5] = [b"", b"a", b"ab", b"abc", b"abcd"];
        for (i, p) in payloads.iter().enumerate() {
            let ts = 1_700_000_000_123_456_789 + i as i64 * 1_000_000_000;
            w.write_packet(&pkt(ts, p, p.len() as u32 + 10)).unwrap();
        }
        assert_eq!(w.packets(), 5);
        let buf = w.into_inner().unwrap();
        assert_eq!(buf.len() % 4, 0);
        let b = blocks(&buf);
        assert_eq!(b.len(), 7);
        let Block::SectionHeader(shb) = &b[0] else {
            panic!("first block is not a section header: {:?}", b[0]);
        };
        assert_eq!((shb.major_version, shb.minor_version), (1, 0));
        let Block::InterfaceDescription(idb) = &b[1] else {
            panic!("second block is not an interface description");
        };
        assert_eq!(idb.linktype.0, 1);
        assert_eq!(idb.snaplen, 262_144);
        assert_eq!(idb.if_name().unwrap().unwrap(), "lo");
        assert_eq!(idb.if_tsresol().unwrap().unwrap(), 6);
        for (i, p) in payloads.iter().enumerate() {
            let Block::EnhancedPacket(epb) = &b[2 + i] else {
                panic!("block {} is not an EPB", 2 + i);
            };
            assert_eq!(epb.if_id, 0);
            assert_eq!(epb.caplen as usize, p.len());
            assert_eq!(epb.origlen as usize, p.len() + 10);
            assert_eq!(&epb.data[..p.len()], *p);
            let micros = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            assert_eq!(micros, 1_700_000_000_123_456 + i as u64 * 1_000_000);
        }
    }

    /// Secrets of every padding length read back as pcap_parser's Decryption Secrets Block.
    #[test]
    fn secrets_block_reads_back() {
        for data in [&b""[..], b"C", b"CL", b"CLI", b"CLIENT_RANDOM x y\n"] {
            let mut w =
                PcapngWriter::new(Vec::new(), LinkType::ETHERNET, &InterfaceInfo::default())
                    .unwrap();
            w.write_secrets(super::super::pcapng::SECRETS_TLS_KEY_LOG, data)
                .unwrap();
            let buf = w.into_inner().unwrap();
            assert_eq!(buf.len() % 4, 0);
            let b = blocks(&buf);
            let Block::DecryptionSecrets(d) = &b[2] else {
                panic!("not a DSB: {:?}", b[2]);
            };
            assert_eq!(d.secrets_type.0, 0x544c_534b);
            assert_eq!(d.secrets_len as usize, data.len());
            assert_eq!(&d.data[..data.len()], data);
        }
    }

    #[test]
    fn several_interfaces_each_get_a_description_and_their_packets_name_them() {
        let lo = InterfaceInfo {
            name: Some("lo"),
            ..InterfaceInfo::default()
        };
        let any = InterfaceInfo {
            name: Some("any"),
            ..InterfaceInfo::default()
        };
        let mut w = PcapngWriter::new(Vec::new(), LinkType::ETHERNET, &lo).unwrap();
        let id = w.add_interface(LinkType::LINUX_SLL2, &any).unwrap();
        assert_eq!(id, 1);
        w.write_packet_on(1, &pkt(1_000, b"b", 1)).unwrap();
        w.write_packet(&pkt(2_000, b"a", 1)).unwrap();
        assert!(w.write_packet_on(2, &pkt(3_000, b"c", 1)).is_err());
        let buf = w.into_inner().unwrap();
        let b = blocks(&buf);
        assert_eq!(
            b.len(),
            5,
            "SHB, two IDBs, two EPBs (the refused one not written)"
        );
        let Block::InterfaceDescription(idb) = &b[2] else {
            panic!("third block is not an interface description");
        };
        assert_eq!(idb.linktype.0, 276);
        assert_eq!(idb.if_name().unwrap().unwrap(), "any");
        let ids: Vec<u32> = b[3..]
            .iter()
            .map(|x| match x {
                Block::EnhancedPacket(e) => e.if_id,
                other => panic!("not an EPB: {other:?}"),
            })
            .collect();
        assert_eq!(ids, vec![1, 0]);
    }

    #[test]
    fn raw_dlt_becomes_linktype_raw() {
        assert_eq!(dlt_to_linktype(LinkType(12)), LinkType::RAW);
        assert_eq!(dlt_to_linktype(LinkType(14)), LinkType::RAW);
        assert_eq!(dlt_to_linktype(LinkType::ETHERNET), LinkType::ETHERNET);
        assert_eq!(dlt_to_linktype(LinkType::LINUX_SLL), LinkType::LINUX_SLL);
    }

    #[test]
    fn link_type_too_large_is_an_error() {
        let r = PcapngWriter::new(Vec::new(), LinkType(70_000), &InterfaceInfo::default());
        assert!(r.is_err());
    }

    #[test]
    fn time_before_epoch_is_written_as_zero() {
        let mut w =
            PcapngWriter::new(Vec::new(), LinkType::ETHERNET, &InterfaceInfo::default()).unwrap();
        w.write_packet(&pkt(-5, b"x", 1)).unwrap();
        let buf = w.into_inner().unwrap();
        let b = blocks(&buf);
        let Block::EnhancedPacket(epb) = &b[2] else {
            panic!("not an EPB");
        };
        assert_eq!((epb.ts_high, epb.ts_low), (0, 0));
    }
}
