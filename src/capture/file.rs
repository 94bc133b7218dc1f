//! Saved captures: classic pcap (µs and ns, either byte order) and pcapng (several interfaces,
//! each with its own link type and timestamp resolution).
//!
//! Contract: every byte of the file is untrusted. Records are framed by a length that is checked
//! against a cap before any buffer grows; fields are read with bounds-checked helpers that cannot
//! panic. Reading stops at the first error, which names the absolute byte offset of the record
//! where it happened; every packet before it has been returned.
//!
//! The framing is hand-written over one large read buffer (4 MiB, grown for a bigger record up
//! to [`MAX_RECORD`]): a packet is a view into that buffer, so nothing is copied or allocated
//! per packet. `pcap-parser` is used where its parsing is exact and off the hot path: the classic
//! global header and the pcapng section header. Its block readers are not used on the packet
//! path because (0.17) they allocate a `Vec` of options for every EPB that has options (dumpcap
//! writes `epb_flags`), reject the power-of-two form of `if_tsresol`, read `if_tsoffset`
//! little-endian in big-endian sections, skip the obsolete Packet Block, and report neither the
//! offset of an error nor the difference between a short file and a corrupt length.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use super::{CaptureError, pcapng};
use crate::base::{LinkType, PacketView, Timestamp};

/// Initial read buffer (also the read size): big reads keep the syscall count low.
const INITIAL_BUFFER: usize = 1 << 20;
/// Smallest buffer, for tiny files.
const MIN_BUFFER: usize = 64 << 10;
/// Smallest buffer asked for by [`FileSource::open_sized`] (many files open at once).
const SMALLEST_BUFFER: usize = 16 << 10;
/// No single record may be larger than this; a claim above it is corruption.
pub const MAX_RECORD: usize = 256 << 20;
/// Bytes of Decryption Secrets Blocks kept from one file.
const MAX_SECRETS: usize = 64 << 20;
/// A packet record larger than this (and than the declared snaplen) is corruption, as libpcap
/// decides (`MAXIMUM_SNAPLEN`).
const MAX_PACKET: u32 = 262_144;
/// Bound on interfaces per pcapng section.
const MAX_INTERFACES: usize = 1 << 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Pcap,
    PcapNg,
}

/// Classic pcap parameters from the global header.
#[derive(Clone, Copy, Debug)]
struct PcapInfo {
    big_endian: bool,
    /// Multiplier from the fraction field to nanoseconds (1000 for µs, 1 for ns).
    frac_ns: i64,
    /// 16 for the standard record header, 24 for the "modified" (Kuznetzov) format.
    rec_hdr: usize,
    snaplen: u32,
    link: LinkType,
}

/// How a pcapng timestamp unit converts to nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    /// units × n
    Mul(u64),
    /// units ÷ n (resolution finer than a nanosecond)
    Div(u64),
    /// units × 10⁹ ÷ 2ⁿ
    Pow2(u32),
}

impl Scale {
    fn from_tsresol(v: u8) -> Option<Scale> {
        if v & 0x80 == 0 {
            match v {
                0..=9 => Some(Scale::Mul(10u64.pow(9 - u32::from(v)))),
                10..=19 => Some(Scale::Div(10u64.pow(u32::from(v) - 9))),
                _ => None,
            }
        } else {
            let n = u32::from(v & 0x7f);
            (n <= 63).then_some(Scale::Pow2(n))
        }
    }

    fn to_ns(self, units: u64) -> i128 {
        let u = i128::from(units);
        match self {
            Scale::Mul(m) => u * i128::from(m),
            Scale::Div(d) => u / i128::from(d),
            Scale::Pow2(n) => (u * 1_000_000_000) >> n,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    scale: Scale,
    offset_ns: i128,
}

/// What the framing found: a packet (as a range of the buffer) or a block to skip.
struct Found {
    ts: Timestamp,
    link: LinkType,
    start: usize,
    len: usize,
    orig_len: u32,
    interface: u32,
}

/// Reads a capture file packet by packet. The returned view borrows the reader's buffer until
/// the next call.
pub struct FileSource {
    path: String,
    /// The file, its decompressor, or standard input.
    file: Box<dyn Read + Send>,
    /// `gzip` or `zstd` when the bytes were decompressed on the way.
    compression: Option<&'static str>,
    len: Option<u64>,
    format: Format,
    /// Read buffer; `buf[start..end]` holds unconsumed file bytes.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    /// Size of the record returned last; consumed at the start of the next call.
    pending: usize,
    /// The file returned end-of-file.
    eof: bool,
    /// An error was returned (or end of file reached): every later call returns `Ok(None)`.
    done: bool,
    pcap: PcapInfo,
    ng_big_endian: bool,
    interfaces: Vec<Interface>,
    link_types: Vec<LinkType>,
    /// Timestamp of the last packet, for Simple Packet Blocks (which carry none).
    last_ts: Timestamp,
    /// Decryption Secrets Blocks read, not yet handed to the analysis.
    secrets: Vec<super::Secrets>,
    /// Bytes of secrets read from the file (bounded by [`MAX_SECRETS`]).
    secrets_bytes: usize,
    /// A packet found after secrets that had to be handed out first.
    stash: Option<Found>,
}

impl FileSource {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        Self::open_sized(path, INITIAL_BUFFER)
    }

    /// [`FileSource::open`] with a read buffer of at most `buffer` bytes (at least 16 KiB;
    /// it still grows for a larger record): a merge of many files open at once keeps its
    /// buffers small.
    pub fn open_sized(path: &Path, buffer: usize) -> Result<Self, CaptureError> {
        let buffer = buffer.clamp(SMALLEST_BUFFER, INITIAL_BUFFER);
        let path_s = path.display().to_string();
        let mut file = File::open(path).map_err(|source| CaptureError::Open {
            path: path_s.clone(),
            source,
        })?;
        let meta = file.metadata().ok();
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(CaptureError::IsDirectory { path: path_s });
        }
        // Compression is told by the magic bytes (not the name): gzip is `1f 8b`, zstd
        // `28 b5 2f fd`.
        let mut magic = [0u8; 4];
        let got = read_magic(&mut file, &mut magic);
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(|source| CaptureError::Open {
                path: path_s.clone(),
                source,
            })?;
        match Compression::of(magic.get(..got).unwrap_or_default()) {
            Some(c) => {
                // The size on disk is not the size read: no total for progress.
                let reader = c.reader(std::io::BufReader::new(file));
                Self::from_reader(path_s, reader, None, Some(c.name()), buffer)
            }
            None => {
                let len = meta.map(|m| m.len());
                Self::from_reader(path_s, Box::new(file), len, None, buffer)
            }
        }
    }

    /// Reads a capture from standard input (`-`), decompressing gzip or zstd when it starts
    /// with their magic bytes.
    pub fn stdin() -> Result<Self, CaptureError> {
        let mut input = std::io::BufReader::with_capacity(INITIAL_BUFFER, std::io::stdin());
        // A pipe may hand out its first bytes a few at a time: read up to the longest magic
        // and put it back in front.
        let mut magic = [0u8; 4];
        let got = read_magic(&mut input, &mut magic);
        let head = std::io::Cursor::new(magic.get(..got).unwrap_or_default().to_vec());
        let input = head.chain(input);
        match Compression::of(magic.get(..got).unwrap_or_default()) {
            Some(c) => Self::from_reader(
                "-".into(),
                c.reader(input),
                None,
                Some(c.name()),
                INITIAL_BUFFER,
            ),
            None => Self::from_reader("-".into(), Box::new(input), None, None, INITIAL_BUFFER),
        }
    }

    /// A capture read from `file` (`len` bytes when known).
    fn from_reader(
        path_s: String,
        file: Box<dyn Read + Send>,
        len: Option<u64>,
        compression: Option<&'static str>,
        buffer: usize,
    ) -> Result<Self, CaptureError> {
        let cap = match len {
            Some(l) => usize::try_from(l.saturating_add(1))
                .unwrap_or(buffer)
                .clamp(
                    MIN_BUFFER.min(buffer).min(SMALLEST_BUFFER.max(buffer / 4)),
                    buffer,
                ),
            None => buffer,
        };
        let mut src = FileSource {
            path: path_s,
            file,
            compression,
            len,
            format: Format::Pcap,
            buf: vec![0; cap],
            start: 0,
            end: 0,
            base: 0,
            pending: 0,
            eof: false,
            done: false,
            pcap: PcapInfo {
                big_endian: false,
                frac_ns: 1000,
                rec_hdr: 16,
                snaplen: 0,
                link: LinkType::ETHERNET,
            },
            ng_big_endian: false,
            interfaces: Vec::new(),
            link_types: Vec::new(),
            last_ts: Timestamp::ZERO,
            secrets: Vec::new(),
            secrets_bytes: 0,
            stash: None,
        };
        src.read_header()?;
        Ok(src)
    }

    /// "pcap" or "pcapng".
    pub fn format(&self) -> &'static str {
        match self.format {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        }
    }

    /// `gzip` or `zstd` when the capture was decompressed on the way.
    pub fn compression(&self) -> Option<&'static str> {
        self.compression
    }

    /// The next packet's timestamp, reading it ahead (and any Decryption Secrets Blocks
    /// before it, see [`FileSource::take_secrets`]); `Ok(None)` at the end. The packet stays
    /// in the buffer until [`FileSource::take_peeked`] hands it out and a later call reads on:
    /// the one read-ahead packet a merge of several files holds per file.
    #[inline]
    pub fn peek(&mut self) -> Result<Option<Timestamp>, CaptureError> {
        if self.stash.is_none() {
            self.stash = self.next_found()?;
        }
        Ok(self.stash.as_ref().map(|f| f.ts))
    }

    /// The packet [`FileSource::peek`] read ahead, borrowed until the next call.
    #[inline]
    pub fn take_peeked(&mut self) -> Option<PacketView<'_>> {
        let f = self.stash.take()?;
        Some(self.view(&f))
    }

    /// Whether the read buffer holds the next record whole (reading it needs no read from the
    /// input, which may wait on a pipe).
    pub fn record_buffered(&self) -> bool {
        if self.stash.is_some() {
            return true;
        }
        // The record returned last is still at the front of the buffer.
        let at = self.pending;
        let avail = self.available().saturating_sub(at);
        let need = match self.format {
            Format::Pcap => {
                if avail < self.pcap.rec_hdr {
                    return false;
                }
                (self.u32_at(at + 8, self.pcap.big_endian) as usize)
                    .saturating_add(self.pcap.rec_hdr)
            }
            Format::PcapNg => {
                if avail < 8 {
                    return false;
                }
                self.u32_at(at + 4, self.ng_big_endian) as usize
            }
        };
        avail >= need
    }

    /// Total file size in bytes, when known (for progress).
    pub fn len(&self) -> Option<u64> {
        self.len
    }

    /// Whether the file is empty (never true for an opened capture: it has a header).
    pub fn is_empty(&self) -> bool {
        self.len == Some(0)
    }

    /// Bytes of the file consumed so far (for progress and error offsets), including the packet
    /// returned last.
    pub fn offset(&self) -> u64 {
        self.pos(self.start.saturating_add(self.pending))
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The distinct link types declared by the headers read so far (the global header of a
    /// pcap; every interface description of a pcapng), in order of first appearance.
    pub fn link_types(&self) -> Vec<LinkType> {
        self.link_types.clone()
    }

    /// The next packet, `Ok(None)` at a clean end of file, or the error that stopped reading.
    /// After an error, further calls return `Ok(None)`.
    pub fn next_packet(&mut self) -> Result<Option<PacketView<'_>>, CaptureError> {
        Ok(self.next_found()?.map(|f| self.view(&f)))
    }

    /// The next packet's place in the buffer (see [`FileSource::next_packet`]).
    #[inline]
    fn next_found(&mut self) -> Result<Option<Found>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        self.start = self.start.saturating_add(self.pending).min(self.end);
        self.pending = 0;
        let found = match self.format {
            Format::Pcap => self.next_pcap(),
            Format::PcapNg => self.next_pcapng(),
        };
        match found {
            Ok(Some(f)) => {
                self.last_ts = f.ts;
                Ok(Some(f))
            }
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// The packet `f` found, borrowed from the buffer.
    #[inline]
    fn view(&self, f: &Found) -> PacketView<'_> {
        let data = f
            .start
            .checked_add(f.len)
            .and_then(|e| self.buf.get(f.start..e))
            .unwrap_or(&[]);
        PacketView {
            ts: f.ts,
            link: f.link,
            data,
            orig_len: f.orig_len,
            interface: f.interface,
            file: 0,
        }
    }

    /// Decryption Secrets Blocks read and not yet handed out (pcapng §4.7).
    #[inline]
    pub fn take_secrets(&mut self) -> Option<super::Secrets> {
        if self.secrets.is_empty() {
            None
        } else {
            Some(self.secrets.remove(0))
        }
    }

    // ---- buffer ------------------------------------------------------------------------------

    fn pos(&self, i: usize) -> u64 {
        self.base.saturating_add(i as u64)
    }

    fn available(&self) -> usize {
        self.end - self.start
    }

    /// Makes at least `n` bytes available at `buf[start..]`. Returns `false` when the file ends
    /// first (whatever was there stays available).
    #[inline]
    fn ensure(&mut self, n: usize) -> Result<bool, CaptureError> {
        if self.available() >= n {
            return Ok(true);
        }
        self.fill(n)
    }

    #[cold]
    fn fill(&mut self, n: usize) -> Result<bool, CaptureError> {
        if self.eof {
            return Ok(false);
        }
        // The bytes cannot be in the file: do not grow the buffer for them.
        if let Some(len) = self.len
            && self.pos(self.start).saturating_add(n as u64) > len
        {
            // Still read what is there, so `available()` reflects the file's tail.
            self.read_more(self.buf.len())?;
            return Ok(self.available() >= n);
        }
        if n > self.buf.len() {
            let grown = n.max(self.buf.len().saturating_mul(2)).min(MAX_RECORD);
            self.compact();
            self.buf.resize(grown.max(n), 0);
        }
        self.read_more(n)?;
        Ok(self.available() >= n)
    }

    /// Moves the unconsumed bytes to the front of the buffer.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base = self.pos(self.start);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Reads until `n` bytes are available, the buffer is full, or the file ends.
    fn read_more(&mut self, n: usize) -> Result<(), CaptureError> {
        // The leftover is less than one record: moving it is cheap and keeps reads large.
        self.compact();
        while self.available() < n && !self.eof {
            let Some(space) = self.buf.get_mut(self.end..) else {
                break;
            };
            if space.is_empty() {
                break;
            }
            match self.file.read(space) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(CaptureError::Io {
                        path: self.path.clone(),
                        offset: self.pos(self.end),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// `len` bytes at `buf[start + at..]`, or an empty slice (callers `ensure` first).
    fn bytes(&self, at: usize, len: usize) -> &[u8] {
        let s = self.start.saturating_add(at);
        s.checked_add(len)
            .and_then(|e| self.buf.get(s..e))
            .unwrap_or(&[])
    }

    fn u16_at(&self, at: usize, big_endian: bool) -> u16 {
        let b: [u8; 2] = self.bytes(at, 2).try_into().unwrap_or([0; 2]);
        if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    fn u32_at(&self, at: usize, big_endian: bool) -> u32 {
        let b: [u8; 4] = self.bytes(at, 4).try_into().unwrap_or([0; 4]);
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    #[cold]
    fn corrupt(&self, offset: u64, what: String) -> CaptureError {
        CaptureError::Corrupt {
            path: self.path.clone(),
            offset,
            what,
        }
    }

    #[cold]
    fn truncated(&self, offset: u64, what: String) -> CaptureError {
        CaptureError::Truncated {
            path: self.path.clone(),
            offset,
            what,
        }
    }

    fn note_link(&mut self, link: LinkType) {
        if !self.link_types.contains(&link) {
            self.link_types.push(link);
        }
    }

    // ---- headers -----------------------------------------------------------------------------

    fn read_header(&mut self) -> Result<(), CaptureError> {
        self.ensure(24)?;
        let magic = self.u32_at(0, false);
        match magic {
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0xa1b2_cd34 => {
                self.read_pcap_header()
            }
            pcapng::SHB => {
                self.format = Format::PcapNg;
                // The first block must be a section header with a valid byte-order magic.
                if self.available() >= 12 {
                    let bom = self.u32_at(8, false);
                    if bom != pcapng::BYTE_ORDER_MAGIC
                        && bom.swap_bytes() != pcapng::BYTE_ORDER_MAGIC
                    {
                        return Err(self.not_a_capture());
                    }
                }
                Ok(())
            }
            _ => Err(self.not_a_capture()),
        }
    }

    fn not_a_capture(&self) -> CaptureError {
        let n = self.available().min(16);
        let magic = self
            .bytes(0, n)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        CaptureError::NotACapture {
            path: self.path.clone(),
            magic: if magic.is_empty() {
                "(empty file)".into()
            } else {
                magic
            },
        }
    }

    fn read_pcap_header(&mut self) -> Result<(), CaptureError> {
        if self.available() < 24 {
            let have = self.available();
            return Err(self.truncated(
                0,
                format!("pcap global header needs 24 bytes, {have} present"),
            ));
        }
        let hdr = match pcap_parser::parse_pcap_header(self.bytes(0, 24)) {
            Ok((_, h)) => h,
            Err(e) => return Err(self.corrupt(0, format!("pcap global header: {e:?}"))),
        };
        // The upper 16 bits may carry FCS information (libpcap's LT_LINKTYPE mask).
        let link = LinkType((hdr.network.0 as u32) & 0xffff);
        self.pcap = PcapInfo {
            big_endian: hdr.is_bigendian(),
            frac_ns: if hdr.is_nanosecond_precision() {
                1
            } else {
                1000
            },
            rec_hdr: if hdr.is_modified_format() { 24 } else { 16 },
            snaplen: hdr.snaplen,
            link,
        };
        self.note_link(link);
        self.start = 24;
        Ok(())
    }

    // ---- classic pcap ------------------------------------------------------------------------

    #[inline]
    fn next_pcap(&mut self) -> Result<Option<Found>, CaptureError> {
        let info = self.pcap;
        let hdr = info.rec_hdr;
        if !self.ensure(hdr)? {
            let have = self.available();
            if have == 0 {
                return Ok(None);
            }
            return Err(self.truncated(
                self.pos(self.start),
                format!("record header needs {hdr} bytes, {have} present"),
            ));
        }
        // The four fields at once (the header is at least 16 bytes, `ensure`d above).
        let h: [u8; 16] = self.bytes(0, 16).try_into().unwrap_or([0; 16]);
        let [ts_sec, ts_frac, caplen, orig_len] = record_fields(h, info.big_endian);
        let limit = info.snaplen.max(MAX_PACKET).min(MAX_RECORD as u32);
        if caplen > limit {
            return Err(self.corrupt(
                self.pos(self.start),
                format!(
                    "record claims {caplen} captured bytes, more than the maximum {limit} (snaplen {})",
                    info.snaplen
                ),
            ));
        }
        let total = hdr + caplen as usize;
        if !self.ensure(total)? {
            let have = self.available();
            return Err(self.truncated(
                self.pos(self.start),
                format!("record needs {total} bytes ({caplen} captured), {have} present"),
            ));
        }
        self.pending = total;
        Ok(Some(Found {
            ts: Timestamp(i64::from(ts_sec) * 1_000_000_000 + i64::from(ts_frac) * info.frac_ns),
            link: info.link,
            start: self.start + hdr,
            len: caplen as usize,
            orig_len,
            interface: 0,
        }))
    }

    // ---- pcapng ------------------------------------------------------------------------------

    #[inline(never)]
    fn next_pcapng(&mut self) -> Result<Option<Found>, CaptureError> {
        loop {
            self.start = self.start.saturating_add(self.pending).min(self.end);
            self.pending = 0;
            if !self.ensure(12)? {
                let have = self.available();
                if have == 0 {
                    return Ok(None);
                }
                if have < 8 {
                    return Err(self.truncated(
                        self.pos(self.start),
                        format!("block header needs 8 bytes, {have} present"),
                    ));
                }
                // 8..12 bytes: the length below decides whether this is truncation.
            }
            let at = self.pos(self.start);
            let mut be = self.ng_big_endian;
            let block_type = self.u32_at(0, be);
            if block_type == pcapng::SHB {
                if self.available() < 12 {
                    let have = self.available();
                    return Err(self.truncated(
                        at,
                        format!("section header needs at least 28 bytes, {have} present"),
                    ));
                }
                let bom = self.u32_at(8, false);
                be = if bom == pcapng::BYTE_ORDER_MAGIC {
                    false
                } else if bom.swap_bytes() == pcapng::BYTE_ORDER_MAGIC {
                    true
                } else {
                    return Err(self.corrupt(
                        at,
                        format!("section header with byte-order magic {bom:#010x}"),
                    ));
                };
            }
            let block_len = self.u32_at(4, be) as usize;
            if block_len < 12 || !block_len.is_multiple_of(4) {
                return Err(self.corrupt(
                    at,
                    format!(
                        "block type {block_type:#x} has length {block_len} (must be a multiple of 4, at least 12)"
                    ),
                ));
            }
            if block_len > MAX_RECORD {
                return Err(self.corrupt(
                    at,
                    format!(
                        "block type {block_type:#x} claims {block_len} bytes, more than the {MAX_RECORD}-byte limit"
                    ),
                ));
            }
            // Packet blocks: check the captured length before reading the body.
            if matches!(block_type, pcapng::EPB | pcapng::PB) && self.ensure(28)? {
                let caplen = self.u32_at(20, be);
                let limit = self.packet_limit(block_type, be);
                if caplen > limit {
                    return Err(self.corrupt(
                        at,
                        format!("packet block claims {caplen} captured bytes, more than the maximum {limit}"),
                    ));
                }
            }
            if !self.ensure(block_len)? {
                let have = self.available();
                return Err(self.truncated(
                    at,
                    format!("block type {block_type:#x} needs {block_len} bytes, {have} present"),
                ));
            }
            let trailer = self.u32_at(block_len - 4, be) as usize;
            if trailer != block_len {
                return Err(self.corrupt(
                    at,
                    format!(
                        "block type {block_type:#x}: leading length {block_len} differs from trailing length {trailer}"
                    ),
                ));
            }
            self.pending = block_len;
            match block_type {
                pcapng::SHB => self.section_header(at, block_len)?,
                pcapng::IDB => self.interface_description(at, block_len, be)?,
                pcapng::EPB | pcapng::PB => {
                    return self.packet_block(at, block_type, block_len, be).map(Some);
                }
                pcapng::SPB => return self.simple_packet_block(at, block_len, be).map(Some),
                pcapng::DSB => self.secrets_block(at, block_len, be),
                _ => {} // NRB, ISB, custom, unknown: skipped
            }
        }
    }

    /// A Decryption Secrets Block: its type and data are kept for the analysis (up to
    /// [`MAX_SECRETS`] bytes in all; a block that lies about its length is skipped).
    fn secrets_block(&mut self, at: u64, block_len: usize, be: bool) {
        if block_len < 20 {
            return;
        }
        let kind = self.u32_at(8, be);
        let len = self.u32_at(12, be) as usize;
        if len > block_len - 20 || self.secrets_bytes + len > MAX_SECRETS {
            return;
        }
        self.secrets_bytes += len;
        let data = self.bytes(16, len).to_vec();
        self.secrets.push(super::Secrets { kind, at, data });
    }

    fn packet_limit(&self, block_type: u32, be: bool) -> u32 {
        let if_id = if block_type == pcapng::PB {
            u32::from(self.u16_at(8, be))
        } else {
            self.u32_at(8, be)
        };
        let snaplen = self.interfaces.get(if_id as usize).map_or(0, |i| i.snaplen);
        snaplen.max(MAX_PACKET).min(MAX_RECORD as u32)
    }

    fn section_header(&mut self, at: u64, block_len: usize) -> Result<(), CaptureError> {
        match pcap_parser::pcapng::parse_sectionheaderblock(self.bytes(0, block_len)) {
            Ok((_, shb)) => {
                if shb.major_version != 1 {
                    return Err(self.corrupt(
                        at,
                        format!(
                            "section header version {}.{} (only 1.x is defined)",
                            shb.major_version, shb.minor_version
                        ),
                    ));
                }
                self.ng_big_endian = shb.big_endian();
                self.interfaces.clear();
                Ok(())
            }
            Err(e) => Err(self.corrupt(at, format!("section header: {e:?}"))),
        }
    }

    fn interface_description(
        &mut self,
        at: u64,
        block_len: usize,
        be: bool,
    ) -> Result<(), CaptureError> {
        if block_len < 20 {
            return Err(self.corrupt(
                at,
                format!("interface description of {block_len} bytes (at least 20 needed)"),
            ));
        }
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(self.corrupt(
                at,
                format!("more than {MAX_INTERFACES} interfaces in one section"),
            ));
        }
        let link = LinkType(u32::from(self.u16_at(8, be)));
        let snaplen = self.u32_at(12, be);
        let mut tsresol = 6u8;
        let mut offset_s = 0i64;
        // Options: code, length, value padded to 4 bytes; a malformed list ends the walk.
        let mut p = 16usize;
        let opts_end = block_len - 4;
        while p + 4 <= opts_end {
            let code = self.u16_at(p, be);
            let len = usize::from(self.u16_at(p + 2, be));
            if code == pcapng::OPT_ENDOFOPT || p + 4 + len > opts_end {
                break;
            }
            let v = self.bytes(p + 4, len);
            match (code, len) {
                (pcapng::OPT_IF_TSRESOL, 1..) => tsresol = v.first().copied().unwrap_or(6),
                (pcapng::OPT_IF_TSOFFSET, 8..) => {
                    let b: [u8; 8] = v.get(..8).and_then(|s| s.try_into().ok()).unwrap_or([0; 8]);
                    offset_s = if be {
                        i64::from_be_bytes(b)
                    } else {
                        i64::from_le_bytes(b)
                    };
                }
                _ => {}
            }
            p += 4 + len.div_ceil(4) * 4;
        }
        let Some(scale) = Scale::from_tsresol(tsresol) else {
            return Err(self.corrupt(
                at,
                format!(
                    "interface {} has unusable if_tsresol {tsresol:#04x}",
                    self.interfaces.len()
                ),
            ));
        };
        self.interfaces.push(Interface {
            link,
            snaplen,
            scale,
            offset_ns: i128::from(offset_s) * 1_000_000_000,
        });
        self.note_link(link);
        Ok(())
    }

    fn timestamp(iface: &Interface, high: u32, low: u32) -> Timestamp {
        let units = (u64::from(high) << 32) | u64::from(low);
        let ns = iface.scale.to_ns(units) + iface.offset_ns;
        Timestamp(ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }

    fn packet_block(
        &mut self,
        at: u64,
        block_type: u32,
        block_len: usize,
        be: bool,
    ) -> Result<Found, CaptureError> {
        let name = if block_type == pcapng::EPB {
            "enhanced packet block"
        } else {
            "packet block"
        };
        if block_len < 32 {
            return Err(self.corrupt(
                at,
                format!("{name} of {block_len} bytes (at least 32 needed)"),
            ));
        }
        let if_id = if block_type == pcapng::EPB {
            self.u32_at(8, be)
        } else {
            u32::from(self.u16_at(8, be))
        };
        let Some(iface) = self.interfaces.get(if_id as usize).copied() else {
            return Err(self.corrupt(
                at,
                format!(
                    "{name} references interface {if_id}, but the section describes {}",
                    self.interfaces.len()
                ),
            ));
        };
        let ts = Self::timestamp(&iface, self.u32_at(12, be), self.u32_at(16, be));
        let caplen = self.u32_at(20, be) as usize;
        let orig_len = self.u32_at(24, be);
        if caplen > block_len - 32 {
            return Err(self.corrupt(
                at,
                format!(
                    "{name} claims {caplen} captured bytes but the block holds {}",
                    block_len - 32
                ),
            ));
        }
        Ok(Found {
            ts,
            link: iface.link,
            start: self.start + 28,
            len: caplen,
            orig_len,
            interface: if_id,
        })
    }

    fn simple_packet_block(
        &mut self,
        at: u64,
        block_len: usize,
        be: bool,
    ) -> Result<Found, CaptureError> {
        if block_len < 16 {
            return Err(self.corrupt(
                at,
                format!("simple packet block of {block_len} bytes (at least 16 needed)"),
            ));
        }
        let Some(iface) = self.interfaces.first().copied() else {
            return Err(self.corrupt(
                at,
                "simple packet block before any interface description".into(),
            ));
        };
        let orig_len = self.u32_at(8, be);
        let mut caplen = (orig_len as usize).min(block_len - 16);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        Ok(Found {
            ts: self.last_ts,
            link: iface.link,
            start: self.start + 12,
            len: caplen,
            orig_len,
            interface: 0,
        })
    }
}

/// A classic pcap record header's four 32-bit fields (seconds, fraction, captured and
/// original length) in the file's byte order.
#[inline]
fn record_fields(h: [u8; 16], big_endian: bool) -> [u32; 4] {
    let mut out = [0u32; 4];
    for (v, b) in out.iter_mut().zip(h.chunks_exact(4)) {
        let b: [u8; 4] = b.try_into().unwrap_or([0; 4]);
        *v = if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
    }
    out
}

impl super::PacketSource for FileSource {
    #[inline]
    fn next(&mut self) -> super::Next<'_> {
        if let Some(s) = self.take_secrets() {
            return super::Next::Secrets(s);
        }
        if let Some(f) = self.stash.take() {
            return super::Next::Packet(self.view(&f));
        }
        let found = match self.next_found() {
            Ok(f) => f,
            Err(e) => {
                self.secrets.clear();
                return super::Next::Error(e);
            }
        };
        // Secrets come before the packets after them.
        if let Some(s) = self.take_secrets() {
            self.stash = found;
            return super::Next::Secrets(s);
        }
        match found {
            Some(f) => super::Next::Packet(self.view(&f)),
            None => super::Next::End,
        }
    }
    fn position(&self) -> (u64, Option<u64>) {
        (self.offset(), self.len())
    }
    fn finish(&mut self) -> super::SourceEnd {
        super::SourceEnd {
            name: self.path().to_string(),
            format: self.format().to_string(),
            ..super::SourceEnd::default()
        }
    }
}

/// Reads the first bytes of `file` into `magic`; false when it is shorter.
/// Reads up to `magic.len()` bytes (fewer at the end of the input); the count read.
fn read_magic(file: &mut impl Read, magic: &mut [u8]) -> usize {
    let mut got = 0;
    while let Some(rest) = magic.get_mut(got..) {
        if rest.is_empty() {
            break;
        }
        match file.read(rest) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    got
}

/// How a capture file may be compressed, told by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression whose magic bytes `head` starts with.
    pub fn of(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&super::zstd::MAGIC) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// `gzip` or `zstd` (`capture.files[].compression`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The decompressed bytes of `input` (which should be buffered).
    fn reader(self, input: impl Read + Send + 'static) -> Box<dyn Read + Send> {
        match self {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Compression::Zstd => Box::new(super::zstd::ZstdReader::new(input)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Scale, record_fields};

    /// The header's fields read at once are what reading them one by one gave, both orders.
    #[test]
    fn record_fields_as_read_one_by_one() {
        let h: [u8; 16] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(5));
        for be in [false, true] {
            let want: Vec<u32> = (0..4)
                .map(|i| {
                    let b = [h[4 * i], h[4 * i + 1], h[4 * i + 2], h[4 * i + 3]];
                    if be {
                        u32::from_be_bytes(b)
                    } else {
                        u32::from_le_bytes(b)
                    }
                })
                .collect();
            assert_eq!(record_fields(h, be).to_vec(), want);
        }
    }

    #[test]
    fn tsresol_scales() {
        assert_eq!(Scale::from_tsresol(6), Some(Scale::Mul(1000)));
        assert_eq!(Scale::from_tsresol(9), Some(Scale::Mul(1)));
        assert_eq!(Scale::from_tsresol(12), Some(Scale::Div(1000)));
        assert_eq!(Scale::from_tsresol(20), None);
        assert_eq!(Scale::from_tsresol(0x80 | 10), Some(Scale::Pow2(10)));
        assert_eq!(Scale::Pow2(10).to_ns(1024), 1_000_000_000);
        assert_eq!(Scale::Pow2(63).to_ns(u64::MAX), 1_999_999_999);
        assert_eq!(Scale::Div(1000).to_ns(5_000), 5);
    }
}
