//! HPACK (RFC 7541) decoding, just what the HTTP/2 analyzer needs: one [`Decoder`] per
//! direction replays that encoder's dynamic table and hands each field to a callback.
//!
//! Panic-free on any block: every read goes through [`Reader`], which checks the length
//! first; integers longer than five continuation bytes are refused (§5.1 lets a decoder limit
//! them), and a table size update past the caller's limit is an error, so the dynamic table
//! never holds more than that limit. Huffman strings (§5.2, Appendix B) are decoded bit by bit
//! with the canonical code rebuilt at compile time from the 257 code lengths.

use crate::base::heap;
use std::collections::VecDeque;
use std::fmt;

/// SETTINGS_HEADER_TABLE_SIZE until a size update says otherwise (RFC 9113 §6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;
/// What an entry costs beyond its name and value (§4.1).
const ENTRY_OVERHEAD: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HpackError {
    /// The block ends inside a field representation.
    Truncated,
    /// An integer with more than five continuation bytes.
    IntegerTooLong,
    /// Index 0, or past the static and dynamic tables (§2.3.3).
    BadIndex(u64),
    /// The EOS symbol inside a Huffman string (§5.2).
    HuffmanEos,
    /// Huffman padding longer than 7 bits or not the EOS prefix (§5.2).
    HuffmanPadding,
    /// A dynamic table size update past the limit (§6.3).
    TableSizeTooLarge { asked: u64, limit: usize },
    /// Not fatal here: a dynamic table size update after a field of the block (§4.2: it
    /// must come first).
    SizeUpdateNotAtStart,
    /// Not fatal here: a dynamic table size update above every SETTINGS_HEADER_TABLE_SIZE the
    /// decoding side sent (§4.2, §6.3; RFC 9113 §6.5.2).
    SizeAboveSetting { asked: u64, setting: usize },
}

impl HpackError {
    /// A short stable name of the error, for findings.
    pub fn kind(&self) -> &'static str {
        match self {
            HpackError::Truncated => "truncated",
            HpackError::IntegerTooLong => "integer-too-long",
            HpackError::BadIndex(_) => "index-out-of-range",
            HpackError::HuffmanEos => "huffman-eos",
            HpackError::HuffmanPadding => "huffman-padding",
            HpackError::TableSizeTooLarge { .. } => "table-too-large",
            HpackError::SizeUpdateNotAtStart => "size-update-not-at-start",
            HpackError::SizeAboveSetting { .. } => "size-update-above-setting",
        }
    }
}

impl fmt::Display for HpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HpackError::Truncated => write!(f, "header block ends inside a field"),
            HpackError::IntegerTooLong => write!(f, "integer longer than 5 continuation bytes"),
            HpackError::BadIndex(i) => write!(f, "index {i} is in neither table (§2.3.3)"),
            HpackError::HuffmanEos => write!(f, "EOS inside a Huffman string (§5.2)"),
            HpackError::HuffmanPadding => write!(f, "bad Huffman padding (§5.2)"),
            HpackError::TableSizeTooLarge { asked, limit } => {
                write!(
                    f,
                    "table size update to {asked} past the limit {limit} (§6.3)"
                )
            }
            HpackError::SizeUpdateNotAtStart => write!(
                f,
                "dynamic table size update after a field of the block (RFC 7541 §4.2: it must come first)"
            ),
            HpackError::SizeAboveSetting { asked, setting } => write!(
                f,
                "dynamic table size update to {asked}, above the decoder's SETTINGS_HEADER_TABLE_SIZE {setting} (RFC 7541 §4.2, §6.3)"
            ),
        }
    }
}

/// One encoder's context: the dynamic table, newest entry first.
#[derive(Debug)]
pub struct Decoder {
    table: VecDeque<(Vec<u8>, Vec<u8>)>,
    size: usize,
    max_size: usize,
    limit: usize,
    /// The largest SETTINGS_HEADER_TABLE_SIZE the decoding side announced (4096 before any).
    setting: usize,
    /// The first rule broken in the last block that did not stop decoding.
    warning: Option<HpackError>,
}

impl Decoder {
    /// Heap bytes held by the dynamic table (bounded by its size limit).
    pub fn heap_bytes(&self) -> usize {
        heap::deque(&self.table)
            + self
                .table
                .iter()
                .map(|(n, v)| heap::vec(n) + heap::vec(v))
                .sum::<usize>()
    }
}

impl Decoder {
    /// A decoder whose dynamic table may be resized up to `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Decoder {
            table: VecDeque::new(),
            size: 0,
            max_size: DEFAULT_TABLE_SIZE.min(limit),
            limit,
            setting: DEFAULT_TABLE_SIZE,
            warning: None,
        }
    }

    /// The decoding side announced SETTINGS_HEADER_TABLE_SIZE `size`: the encoder may use up
    /// to it (the largest announced is taken, so an update in flight is not a fault).
    pub fn allow(&mut self, size: u32) {
        self.setting = self
            .setting
            .max(usize::try_from(size).unwrap_or(usize::MAX));
    }

    /// The first rule the last block broke without stopping decoding
    /// ([`HpackError::SizeUpdateNotAtStart`], [`HpackError::SizeAboveSetting`]).
    pub fn warning(&self) -> Option<HpackError> {
        self.warning
    }

    /// Decodes one whole header block (HEADERS/PUSH_PROMISE + CONTINUATION fragments),
    /// calling `field(name, value)` for each field in order. After an error the context no
    /// longer matches the encoder's.
    pub fn decode(
        &mut self,
        block: &[u8],
        mut field: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), HpackError> {
        let mut r = Reader { buf: block, pos: 0 };
        self.warning = None;
        let mut fields = false;
        while let Some(b) = r.peek() {
            fields |= b & 0xe0 != 0x20;
            if b & 0x80 != 0 {
                // §6.1 indexed field
                let (n, v) = self.get(r.int(7)?)?;
                field(n, v);
            } else if b & 0x40 != 0 {
                // §6.2.1 literal with incremental indexing
                let (n, v) = self.literal(&mut r, 6)?;
                field(&n, &v);
                self.insert(n, v);
            } else if b & 0x20 != 0 {
                // §6.3 dynamic table size update
                let asked = r.int(5)?;
                if fields {
                    self.warning.get_or_insert(HpackError::SizeUpdateNotAtStart);
                }
                let setting = self.setting;
                if usize::try_from(asked).map_or(true, |a| a > setting) {
                    self.warning
                        .get_or_insert(HpackError::SizeAboveSetting { asked, setting });
                }
                let limit = self.limit;
                self.max_size = usize::try_from(asked)
                    .ok()
                    .filter(|&s| s <= limit)
                    .ok_or(HpackError::TableSizeTooLarge { asked, limit })?;
                self.evict(0);
            } else {
                // §6.2.2 without indexing, §6.2.3 never indexed
                let (n, v) = self.literal(&mut r, 4)?;
                field(&n, &v);
            }
        }
        Ok(())
    }

    fn literal(&self, r: &mut Reader<'_>, prefix: u8) -> Result<(Vec<u8>, Vec<u8>), HpackError> {
        let name = match r.int(prefix)? {
            0 => r.string()?,
            i => self.get(i)?.0.to_vec(),
        };
        Ok((name, r.string()?))
    }

    /// Index space: 1..=61 static, then the dynamic table newest first (§2.3.3).
    fn get(&self, index: u64) -> Result<(&[u8], &[u8]), HpackError> {
        let i = usize::try_from(index).unwrap_or(usize::MAX);
        let found = match i.checked_sub(1) {
            Some(s) if s < STATIC.len() => STATIC.get(s).copied(),
            Some(s) => self
                .table
                .get(s - STATIC.len())
                .map(|(n, v)| (n.as_slice(), v.as_slice())),
            None => None,
        };
        found.ok_or(HpackError::BadIndex(index))
    }

    /// §4.4: evict until the entry fits; an entry larger than the table empties it.
    fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            self.table.clear();
            self.size = 0;
            return;
        }
        self.evict(size);
        self.size += size;
        self.table.push_front((name, value));
    }

    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            let Some((n, v)) = self.table.pop_back() else {
                self.size = 0;
                return;
            };
            self.size = self.size.saturating_sub(n.len() + v.len() + ENTRY_OVERHEAD);
        }
    }

    #[cfg(test)]
    pub fn table_size(&self) -> (usize, usize, usize) {
        (self.table.len(), self.size, self.max_size)
    }
}

/// A cursor over a block that never reads past its end.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn byte(&mut self) -> Result<u8, HpackError> {
        let b = self.peek().ok_or(HpackError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// §5.1: an integer in the low `prefix` bits of the first byte, then 7 bits a byte.
    fn int(&mut self, prefix: u8) -> Result<u64, HpackError> {
        let mask = (1u8 << prefix) - 1;
        let mut v = u64::from(self.byte()? & mask);
        if v < u64::from(mask) {
            return Ok(v);
        }
        for shift in [0, 7, 14, 21, 28] {
            let b = self.byte()?;
            v += u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(HpackError::IntegerTooLong)
    }

    /// §5.2: a length-prefixed string, Huffman-coded when the top bit says so.
    fn string(&mut self) -> Result<Vec<u8>, HpackError> {
        let huffman = self.peek().is_some_and(|b| b & 0x80 != 0);
        let len = usize::try_from(self.int(7)?).map_err(|_| HpackError::Truncated)?;
        let end = self.pos.checked_add(len).ok_or(HpackError::Truncated)?;
        let raw = self.buf.get(self.pos..end).ok_or(HpackError::Truncated)?;
        self.pos = end;
        if huffman {
            huffman_decode(raw)
        } else {
            Ok(raw.to_vec())
        }
    }
}

/// Decodes a Huffman string with the canonical code: after `len` bits, the bits read are a
/// code of that length when they fall in `first[len] .. first[len] + count[len]`.
pub fn huffman_decode(raw: &[u8]) -> Result<Vec<u8>, HpackError> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 2);
    let (mut code, mut len) = (0u32, 0usize);
    for &byte in raw {
        for bit in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> bit) & 1);
            len += 1;
            let (Some(&first), Some(&count), Some(&offset)) = (
                CANON.first.get(len),
                CANON.count.get(len),
                CANON.offset.get(len),
            ) else {
                return Err(HpackError::HuffmanPadding); // unreachable: the code is complete
            };
            let d = code.wrapping_sub(first);
            if code >= first && d < u32::from(count) {
                match CANON.symbols.get(usize::from(offset) + d as usize) {
                    Some(&s) if s < 256 => out.push(s as u8),
                    _ => return Err(HpackError::HuffmanEos),
                }
                (code, len) = (0, 0);
            }
        }
    }
    // What is left must be at most 7 bits of the EOS code, which is all ones.
    if len > 7 || code != (1 << len) - 1 {
        return Err(HpackError::HuffmanPadding);
    }
    Ok(out)
}

/// The canonical Huffman code (Appendix B) as first code, count and first symbol index per
/// code length, and the symbols ordered by (length, symbol).
pub struct Canon {
    pub first: [u32; 31],
    pub count: [u16; 31],
    pub offset: [u16; 31],
    pub symbols: [u16; 257],
}

pub const CANON: Canon = canon(&HUFFMAN_LENGTHS);

const fn canon(lengths: &[u8; 257]) -> Canon {
    let mut count = [0u16; 31];
    let mut s = 0;
    while s < 257 {
        count[lengths[s] as usize] += 1;
        s += 1;
    }
    let (mut first, mut offset) = ([0u32; 31], [0u16; 31]);
    let (mut code, mut off, mut l) = (0u32, 0u16, 1);
    while l <= 30 {
        code = (code + count[l - 1] as u32) << 1;
        first[l] = code;
        offset[l] = off;
        off += count[l];
        l += 1;
    }
    let mut next = offset;
    let mut symbols = [0u16; 257];
    s = 0;
    while s < 257 {
        let l = lengths[s] as usize;
        symbols[next[l] as usize] = s as u16;
        next[l] += 1;
        s += 1;
    }
    Canon {
        first,
        count,
        offset,
        symbols,
    }
}

/// Code length of each symbol 0..=255 and EOS (256), RFC 7541 Appendix B.
pub const HUFFMAN_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5,
    5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6,
    6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22,
    23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22,
    21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20,
    22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19,
    21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22,
    22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

/// RFC 7541 Appendix A.
pub const STATIC: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];
