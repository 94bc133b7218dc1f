//! RFC 6455 §5.2 frame headers.
//!
//! [`parse_header`] reads one header from the start of a buffer without panicking: it returns
//! `None` until the whole header (2 to 14 bytes) is there. The payload is not touched; the
//! caller streams it and unmasks it with [`unmask`].

/// Frame opcodes (RFC 6455 §5.2); reserved values are kept as `Reserved(n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
    Reserved(u8),
}

impl Opcode {
    pub fn from_u8(v: u8) -> Opcode {
        match v {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            n => Opcode::Reserved(n),
        }
    }

    pub fn is_control(self) -> bool {
        match self {
            Opcode::Close | Opcode::Ping | Opcode::Pong => true,
            Opcode::Reserved(n) => n >= 8,
            _ => false,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Opcode::Continuation => "continuation",
            Opcode::Text => "text",
            Opcode::Binary => "binary",
            Opcode::Close => "close",
            Opcode::Ping => "ping",
            Opcode::Pong => "pong",
            Opcode::Reserved(_) => "reserved",
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
            Opcode::Reserved(n) => n,
        }
    }
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: Opcode,
    pub mask: Option<[u8; 4]>,
    pub len: u64,
    /// Bytes of the header (2..=14).
    pub header_len: usize,
    /// The length used a longer encoding than needed (RFC 6455 §5.2: "the minimal number of
    /// bytes MUST be used").
    pub non_minimal: bool,
    /// The 64-bit length had its most significant bit set (must be 0).
    pub len_msb_set: bool,
}

/// Reads a frame header from the start of `b`; `None` when more bytes are needed.
pub fn parse_header(b: &[u8]) -> Option<Header> {
    let b0 = *b.first()?;
    let b1 = *b.get(1)?;
    let masked = b1 & 0x80 != 0;
    let len7 = b1 & 0x7f;
    let (len, ext, non_minimal, msb) = match len7 {
        126 => {
            let v = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
            (u64::from(v), 2, v < 126, false)
        }
        127 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(b.get(2..10)?);
            let v = u64::from_be_bytes(a);
            (v & !(1 << 63), 8, v <= 0xffff, v >> 63 != 0)
        }
        n => (u64::from(n), 0, false, false),
    };
    let mask_at = 2 + ext;
    let mask = if masked {
        let m = b.get(mask_at..mask_at + 4)?;
        Some([m[0], m[1], m[2], m[3]])
    } else {
        None
    };
    Some(Header {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x07,
        opcode: Opcode::from_u8(b0 & 0x0f),
        mask,
        len,
        header_len: mask_at + if masked { 4 } else { 0 },
        non_minimal,
        len_msb_set: msb,
    })
}

/// Unmasks `data` in place; `pos` is the payload offset of `data[0]` (the key repeats every
/// 4 bytes).
///
/// Eight bytes at a time against the key rotated to `pos` (a byte-order-free XOR of two
/// native words), then the tail byte by byte: the same bytes as one key byte per data byte.
pub fn unmask(data: &mut [u8], key: [u8; 4], pos: u64) {
    let start = (pos % 4) as usize;
    // The key as it lines up with data[0], twice over: 8 bytes, a whole number of periods.
    let mut k8 = [0u8; 8];
    for (i, b) in k8.iter_mut().enumerate() {
        *b = key[(start + i) % 4];
    }
    let word = u64::from_ne_bytes(k8);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        c.copy_from_slice(&(u64::from_ne_bytes(w) ^ word).to_ne_bytes());
    }
    // Each chunk was 8 bytes, so the tail starts in the same phase as data[0].
    for (b, k) in chunks.into_remainder().iter_mut().zip(k8) {
        *b ^= k;
    }
}

/// Whether `b` plausibly starts with WebSocket frames sent by the client (`masked` true) or
/// the server: a known opcode, no stray reserved bits beyond RSV1, the expected masking, a
/// sane length, and — when the bytes are there — a second valid header right after.
pub fn looks_like_frames(b: &[u8], masked: bool) -> crate::analyzers::layer::Prefix {
    use crate::analyzers::layer::Prefix;
    let Some(h) = parse_header(b) else {
        return if b.len() < 14 {
            Prefix::Maybe
        } else {
            Prefix::No
        };
    };
    let known = !matches!(h.opcode, Opcode::Reserved(_));
    let ok = known
        && h.rsv & 0x06 == 0
        && h.mask.is_some() == masked
        && h.len < (1 << 31)
        && !h.len_msb_set
        && !(h.opcode.is_control() && (h.len > 125 || !h.fin));
    if !ok {
        return Prefix::No;
    }
    let next = h.header_len as u64 + h.len;
    match b.get(next as usize..) {
        Some(rest) if !rest.is_empty() => match looks_like_frames_one(rest, masked) {
            Some(true) => Prefix::Yes,
            Some(false) => Prefix::No,
            None => Prefix::Maybe,
        },
        // One whole frame and nothing after it: plausible enough.
        Some(_) => Prefix::Yes,
        None => Prefix::Maybe,
    }
}

fn looks_like_frames_one(b: &[u8], masked: bool) -> Option<bool> {
    let h = parse_header(b)?;
    Some(
        !matches!(h.opcode, Opcode::Reserved(_))
            && h.rsv & 0x06 == 0
            && h.mask.is_some() == masked
            && h.len < (1 << 31),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::analyzers::layer::Prefix;
    use proptest::prelude::*;

    /// The byte-at-a-time unmasking the word-wide [`unmask`] must match.
    fn unmask_bytewise(data: &mut [u8], key: [u8; 4], pos: u64) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= key[(pos.wrapping_add(i as u64) % 4) as usize];
        }
    }

    #[test]
    fn unmask_word_wide_matches_bytewise_every_length_and_phase() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..64usize {
            // Distinct bytes, so a key byte out of place shows.
            let data: Vec<u8> = (0..len)
                .map(|i| (i as u8).wrapping_mul(29) ^ 0x5a)
                .collect();
            for phase in 0..4u64 {
                for pos in [phase, 4 * 1_000_003 + phase, u64::MAX - 3 + phase] {
                    let mut want = data.clone();
                    unmask_bytewise(&mut want, key, pos);
                    let mut got = data.clone();
                    unmask(&mut got, key, pos);
                    assert_eq!(got, want, "len {len} pos {pos}");
                    // In two pieces, each at its own payload offset, as a stream arrives.
                    for cut in 0..=len {
                        let mut got = data.clone();
                        let (a, b) = got.split_at_mut(cut);
                        unmask(a, key, pos);
                        unmask(b, key, pos.wrapping_add(cut as u64));
                        assert_eq!(got, want, "len {len} pos {pos} cut {cut}");
                    }
                }
            }
        }
    }

    #[test]
    fn rfc6455_s5_2_lengths_masks_and_bits() {
        // RFC 6455 §5.7 examples.
        let h = parse_header(&[0x81, 0x05, b'H']).unwrap();
        assert_eq!(
            (h.fin, h.opcode, h.len, h.header_len, h.mask),
            (true, Opcode::Text, 5, 2, None)
        );
        let h = parse_header(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f]).unwrap();
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(h.header_len, 6);
        let mut p = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        unmask(&mut p, h.mask.unwrap(), 0);
        assert_eq!(&p, b"Hello");
        let h = parse_header(&[0x01, 0x03]).unwrap();
        assert!(!h.fin);
        let h = parse_header(&[0x82, 0x7e, 0x01, 0x00]).unwrap();
        assert_eq!((h.len, h.header_len, h.non_minimal), (256, 4, false));
        let h = parse_header(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap();
        assert_eq!((h.len, h.header_len, h.non_minimal), (65536, 10, false));
        let h = parse_header(&[0x82, 0x7e, 0x00, 0x05]).unwrap();
        assert!(h.non_minimal);
        let h = parse_header(&[0xc1, 0x00]).unwrap();
        assert_eq!(h.rsv, 4, "RSV1 is the 0x40 bit");
        assert_eq!(
            parse_header(&[0x8b, 0]).unwrap().opcode,
            Opcode::Reserved(11)
        );
        assert!(
            parse_header(&[0x82, 0x7f, 0, 0]).is_none(),
            "needs the 8 length bytes"
        );
        assert!(
            parse_header(&[0x81, 0x85, 1, 2]).is_none(),
            "needs the mask key"
        );
    }

    #[test]
    fn unmasking_resumes_mid_key() {
        let key = [1, 2, 3, 4];
        let mut whole = *b"abcdefghij";
        unmask(&mut whole, key, 0);
        let mut a = *b"abc";
        let mut b = *b"defghij";
        unmask(&mut a, key, 0);
        unmask(&mut b, key, 3);
        assert_eq!([a.as_slice(), b.as_slice()].concat(), whole.to_vec());
    }

    #[test]
    fn frame_detection() {
        assert_eq!(
            looks_like_frames(&[0x81, 0x82, 1, 2, 3, 4, 9, 9], true),
            Prefix::Yes
        );
        assert_eq!(
            looks_like_frames(&[0x81, 0x02, b'h', b'i'], false),
            Prefix::Yes
        );
        assert_eq!(
            looks_like_frames(&[0x81, 0x02, b'h', b'i'], true),
            Prefix::No
        );
        assert_eq!(looks_like_frames(b"GET / HTTP/1.1\r\n", true), Prefix::No);
        assert_eq!(looks_like_frames(&[0x81], true), Prefix::Maybe);
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..40), m in any::<bool>()) {
            let _ = parse_header(&b);
            let _ = looks_like_frames(&b, m);
        }
    }
}
