//! gzip (RFC 1952): header fields parsed byte by byte, the deflate data inflated raw, the
//! CRC-32 and length trailer checked; several members in a row, then trailing bytes, counted.

use flate2::{Crc, Decompress};

use super::codec::{CodecError, Progress, inflate};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GzPhase {
    /// The 10 fixed header bytes; `n` seen so far.
    Fixed,
    ExtraLen,
    Extra(u16),
    Name,
    Comment,
    HeaderCrc,
    Body,
    Trailer,
    /// Between members: a new one may start (1f 8b) or trailing bytes follow.
    Between,
    Trailing,
}

pub(super) struct GzipCodec {
    phase: GzPhase,
    head: [u8; 10],
    n: usize,
    xlen: [u8; 2],
    inflater: Box<Decompress>,
    crc: Crc,
    trailer: [u8; 8],
    trailer_at: u64,
    pos: u64,
    pub members: u64,
    pub(super) trailing: u64,
}

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

impl GzipCodec {
    pub fn new() -> Self {
        GzipCodec {
            phase: GzPhase::Fixed,
            head: [0; 10],
            n: 0,
            xlen: [0; 2],
            inflater: Box::new(Decompress::new(false)),
            crc: Crc::new(),
            trailer: [0; 8],
            trailer_at: 0,
            pos: 0,
            members: 0,
            trailing: 0,
        }
    }

    pub(super) fn at_member_boundary(&self) -> bool {
        match self.phase {
            GzPhase::Between | GzPhase::Trailing => true,
            // A lone 0x1f after a member: not a member, just a trailing byte.
            GzPhase::Fixed => self.members > 0 && self.n <= 1,
            _ => false,
        }
    }

    fn err(&self, offset: u64, message: &str) -> CodecError {
        CodecError {
            offset,
            message: format!("gzip member {}: {message}", self.members + 1),
        }
    }

    pub(super) fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress, CodecError> {
        let mut used = 0;
        while let Some(rest) = input.get(used..).filter(|r| !r.is_empty()) {
            if self.phase == GzPhase::Body {
                let (p, ended) = inflate(&mut self.inflater, rest, out, self.pos)?;
                if let Some(o) = out.get(..p.produced) {
                    self.crc.update(o);
                }
                self.pos += p.consumed as u64;
                if ended {
                    self.phase = GzPhase::Trailer;
                    self.n = 0;
                    self.trailer_at = self.pos;
                }
                return Ok(Progress {
                    consumed: used + p.consumed,
                    produced: p.produced,
                });
            }
            if self.phase == GzPhase::Trailing {
                self.trailing += rest.len() as u64;
                self.pos += rest.len() as u64;
                used += rest.len();
                break;
            }
            let Some(&b) = rest.first() else { break };
            self.header_or_trailer_byte(b)?;
            self.pos += 1;
            used += 1;
        }
        Ok(Progress {
            consumed: used,
            produced: 0,
        })
    }

    /// One byte outside the deflate data, at codec offset `self.pos`.
    fn header_or_trailer_byte(&mut self, b: u8) -> Result<(), CodecError> {
        let at = self.pos;
        match self.phase {
            GzPhase::Between => {
                if b == 0x1f {
                    self.head[0] = b;
                    self.n = 1;
                    self.phase = GzPhase::Fixed;
                } else {
                    self.trailing += 1;
                    self.phase = GzPhase::Trailing;
                }
            }
            GzPhase::Fixed => {
                if let Some(slot) = self.head.get_mut(self.n) {
                    *slot = b;
                }
                self.n += 1;
                match self.n {
                    1 if b != 0x1f => {
                        if self.members > 0 {
                            self.trailing += 1;
                            self.phase = GzPhase::Trailing;
                        } else {
                            return Err(self.err(at, "not a gzip stream (no 1f 8b magic)"));
                        }
                    }
                    2 if b != 0x8b => {
                        if self.members > 0 {
                            self.trailing += 2;
                            self.phase = GzPhase::Trailing;
                        } else {
                            return Err(self.err(at, "not a gzip stream (no 1f 8b magic)"));
                        }
                    }
                    3 if b != 8 => return Err(self.err(at, "compression method is not deflate")),
                    4 if b & 0xe0 != 0 => return Err(self.err(at, "reserved header flags set")),
                    10 => self.next_header_field(FEXTRA),
                    _ => {}
                }
            }
            GzPhase::ExtraLen => {
                if let Some(slot) = self.xlen.get_mut(self.n) {
                    *slot = b;
                }
                self.n += 1;
                if self.n == 2 {
                    match u16::from_le_bytes(self.xlen) {
                        0 => self.next_header_field(FNAME),
                        len => self.phase = GzPhase::Extra(len),
                    }
                }
            }
            GzPhase::Extra(left) => {
                if left <= 1 {
                    self.next_header_field(FNAME);
                } else {
                    self.phase = GzPhase::Extra(left - 1);
                }
            }
            GzPhase::Name if b == 0 => self.next_header_field(FCOMMENT),
            GzPhase::Comment if b == 0 => self.next_header_field(FHCRC),
            GzPhase::Name | GzPhase::Comment => {}
            GzPhase::HeaderCrc => {
                self.n += 1;
                if self.n == 2 {
                    self.begin_body();
                }
            }
            GzPhase::Trailer => {
                if let Some(slot) = self.trailer.get_mut(self.n) {
                    *slot = b;
                }
                self.n += 1;
                if self.n == 8 {
                    let [c0, c1, c2, c3, s0, s1, s2, s3] = self.trailer;
                    if u32::from_le_bytes([c0, c1, c2, c3]) != self.crc.sum() {
                        return Err(self.err(self.trailer_at, "CRC-32 mismatch"));
                    }
                    if u32::from_le_bytes([s0, s1, s2, s3]) != self.crc.amount() {
                        return Err(self.err(self.trailer_at + 4, "ISIZE mismatch"));
                    }
                    self.members += 1;
                    self.phase = GzPhase::Between;
                }
            }
            GzPhase::Body | GzPhase::Trailing => {}
        }
        Ok(())
    }

    /// Moves to the first optional header field, from `from` on in header order, that the
    /// flags announce; the deflate data when none is left.
    fn next_header_field(&mut self, from: u8) {
        let flags = self.head[3];
        let order = [
            (FEXTRA, GzPhase::ExtraLen),
            (FNAME, GzPhase::Name),
            (FCOMMENT, GzPhase::Comment),
            (FHCRC, GzPhase::HeaderCrc),
        ];
        let start = order
            .iter()
            .position(|(f, _)| *f == from)
            .unwrap_or(order.len());
        let next = order
            .get(start..)
            .unwrap_or_default()
            .iter()
            .find(|(f, _)| flags & f != 0);
        match next {
            Some((_, phase)) => {
                self.n = 0;
                self.phase = *phase;
            }
            None => self.begin_body(),
        }
    }

    fn begin_body(&mut self) {
        self.inflater.reset(false);
        self.crc.reset();
        self.n = 0;
        self.phase = GzPhase::Body;
    }
}
