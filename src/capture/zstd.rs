//! Zstandard-compressed captures (`.zst`): a [`Read`] over the decompressed bytes, decoded by
//! `ruzstd` (pure Rust) one block at a time, so memory stays at one block (≤ 128 KiB) plus the
//! frame's window (at most `ruzstd`'s default limit, 128 MiB; `zstd` writes 8 MiB windows at
//! most unless told `--long` or `--ultra`).
//!
//! Why not `ruzstd::decoding::StreamingDecoder` alone: it decodes one frame (a stream may hold
//! several, and skippable frames), does not check the content checksum, and keeps the last
//! window of decoded bytes to itself when the input ends early. A capture cut short (a
//! `tcpdump -w - | zstd` that was killed) would lose up to a window of packets, and a small
//! file (one frame whose window is the whole file) all of them. So this reader frames the
//! blocks itself (the 3-byte block header says how many bytes follow) and hands `ruzstd` only
//! whole blocks: when the input ends inside one (or one does not decode), the frame is closed
//! with an empty last block, everything decoded so far is returned, and then the error.
//! Decompression is `ruzstd`'s (`FrameDecoder`, the decoder `StreamingDecoder` wraps).
//!
//! Every byte is untrusted: no error panics, each is an [`std::io::Error`] naming what broke.

use std::io::{self, ErrorKind, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

/// The first bytes of a Zstandard frame (`0xFD2FB528` little-endian).
pub const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Largest block the format allows (RFC 8878 §3.1.1.2.3).
const MAX_BLOCK: usize = 128 << 10;

/// An empty raw block that is the last of its frame: closes a frame cut short.
const LAST_EMPTY_BLOCK: [u8; 3] = [0x01, 0x00, 0x00];

enum State {
    /// Before a frame (or at the clean end of the stream).
    Between,
    /// Inside a frame; `checksum`: the frame ends with a content checksum.
    Frame { checksum: bool },
    /// The input ended inside a frame, or a block of it did not decode: the frame was closed
    /// early, what was decoded is being handed out, then the error.
    Salvage(Option<io::Error>),
    /// An error was returned: nothing more.
    Failed,
}

/// The decompressed bytes of a Zstandard stream read from `R` (buffered by the caller: the
/// framing reads a few bytes at a time).
pub struct ZstdReader<R: Read> {
    source: R,
    decoder: FrameDecoder,
    state: State,
    /// The block being read (header and content).
    block: Vec<u8>,
    /// Compressed bytes consumed so far, for error messages.
    consumed: u64,
}

impl<R: Read> ZstdReader<R> {
    pub fn new(source: R) -> Self {
        ZstdReader {
            source,
            decoder: FrameDecoder::new(),
            state: State::Between,
            block: Vec::new(),
            consumed: 0,
        }
    }

    /// Reads into `buf` until it is full or the input ends; the count read.
    fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut got = 0;
        while let Some(rest) = buf.get_mut(got..) {
            if rest.is_empty() {
                break;
            }
            match self.source.read(rest) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.consumed = self.consumed.saturating_add(got as u64);
        Ok(got)
    }

    fn corrupt(&self, what: impl std::fmt::Display) -> io::Error {
        io::Error::new(
            ErrorKind::InvalidData,
            format!(
                "corrupt zstd stream (compressed byte {}): {what}",
                self.consumed
            ),
        )
    }

    fn cut_short(&self, inside: &str) -> io::Error {
        io::Error::new(
            ErrorKind::UnexpectedEof,
            format!(
                "zstd stream ends inside {inside} (compressed byte {}): the file is truncated",
                self.consumed
            ),
        )
    }

    /// Starts the next frame (skipping skippable frames). `Ok(false)` at the clean end.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            let mut head = [0u8; 5];
            let n = self.read_full(&mut head[..4])?;
            if n == 0 {
                return Ok(false);
            }
            if n < 4 {
                return Err(self.cut_short("a frame header"));
            }
            let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
            if magic & 0xffff_fff0 == 0x184d_2a50 {
                // A skippable frame: a 4-byte length, then that many bytes of no concern.
                let mut len = [0u8; 4];
                if self.read_full(&mut len)? < 4 {
                    return Err(self.cut_short("a skippable frame"));
                }
                let len = u64::from(u32::from_le_bytes(len));
                let skipped = io::copy(&mut (&mut self.source).take(len), &mut io::sink())?;
                self.consumed = self.consumed.saturating_add(skipped);
                if skipped < len {
                    return Err(self.cut_short("a skippable frame"));
                }
                continue;
            }
            if head[..4] != MAGIC {
                return Err(self.corrupt(format!(
                    "after a frame, bytes that start no zstd frame ({:02x} {:02x} {:02x} {:02x})",
                    head[0], head[1], head[2], head[3]
                )));
            }
            if self.read_full(&mut head[4..])? < 1 {
                return Err(self.cut_short("a frame header"));
            }
            // Frame header descriptor, bit 2: a 4-byte content checksum ends the frame.
            let checksum = head[4] & 0x04 != 0;
            let before = self.consumed;
            let mut counted = Counted {
                inner: &mut self.source,
                n: 0,
            };
            let res = self.decoder.init((&head[..]).chain(&mut counted));
            self.consumed = before.saturating_add(counted.n);
            match res {
                Ok(()) => {
                    self.state = State::Frame { checksum };
                    return Ok(true);
                }
                Err(FrameDecoderError::ReadFrameHeaderError(
                    ReadFrameHeaderError::FrameDescriptorReadError(e)
                    | ReadFrameHeaderError::DictionaryIdReadError(e)
                    | ReadFrameHeaderError::FrameContentSizeReadError(e)
                    | ReadFrameHeaderError::WindowDescriptorReadError(e),
                )) if e.kind() == ErrorKind::UnexpectedEof => {
                    return Err(self.cut_short("a frame header"));
                }
                Err(e) => return Err(self.corrupt(e)),
            }
        }
    }

    /// Decodes the frame's next block. When the input ends inside it or it does not decode,
    /// the frame is closed early (see [`State::Salvage`]).
    fn next_block(&mut self, checksum: bool) -> io::Result<()> {
        let mut block = std::mem::take(&mut self.block);
        block.clear();
        block.resize(3, 0);
        let got = self.read_full(&mut block)?;
        if got < 3 {
            self.block = block;
            let e = self.cut_short("a block header");
            return self.salvage(checksum, e);
        }
        let h = u32::from(block[0]) | u32::from(block[1]) << 8 | u32::from(block[2]) << 16;
        let last = h & 1 == 1;
        let size = (h >> 3) as usize;
        // Bytes that follow the header: raw and compressed blocks carry `size`, an RLE block
        // one byte. A reserved type or an oversized block is left for `ruzstd` to reject.
        let content = match (h >> 1) & 3 {
            1 => 1,
            0 | 2 if size <= MAX_BLOCK => size,
            _ => 0,
        };
        let tail = if last && checksum { 4 } else { 0 };
        block.resize(3 + content + tail, 0);
        let got = match block.get_mut(3..) {
            Some(rest) => self.read_full(rest)?,
            None => 0,
        };
        if got < content {
            self.block = block;
            let e = self.cut_short("a block");
            return self.salvage(checksum, e);
        }
        let short_checksum = got < content + tail;
        let res = self
            .decoder
            .decode_blocks(block.as_slice(), BlockDecodingStrategy::UptoBlocks(1));
        self.block = block;
        if let Err(e) = res {
            // What the blocks before decoded is handed out first, as a gzip stream's is (and
            // like it, what the broken block made of its bytes before the error, if anything).
            let e = self.corrupt(e);
            return self.salvage(checksum, e);
        }
        if short_checksum {
            // The content is whole, the checksum is not: hand out the content, then say so.
            // (The zeros read as the checksum are not compared.)
            self.state = State::Salvage(Some(self.cut_short("a frame's checksum")));
        }
        Ok(())
    }

    /// The input ended inside a block, or a block did not decode: closes the frame with an
    /// empty last block (and a checksum that is not compared) so that what was decoded can be
    /// handed out before `err`.
    fn salvage(&mut self, checksum: bool, err: io::Error) -> io::Result<()> {
        let mut end = LAST_EMPTY_BLOCK.to_vec();
        if checksum {
            end.extend_from_slice(&[0; 4]);
        }
        match self
            .decoder
            .decode_blocks(end.as_slice(), BlockDecodingStrategy::UptoBlocks(1))
        {
            Ok(_) => {
                self.state = State::Salvage(Some(err));
                Ok(())
            }
            Err(_) => Err(err),
        }
    }

    /// After a frame's last byte was handed out: its checksum, when it has one.
    fn check_frame(&self) -> io::Result<()> {
        match (
            self.decoder.get_checksum_from_data(),
            self.decoder.get_calculated_checksum(),
        ) {
            (Some(want), Some(got)) if want != got => Err(self.corrupt(format!(
                "content checksum {got:08x} where the frame says {want:08x}"
            ))),
            _ => Ok(()),
        }
    }

    fn step(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match &mut self.state {
                State::Failed => return Ok(0),
                State::Between => {
                    if !self.next_frame()? {
                        return Ok(0);
                    }
                }
                State::Salvage(err) => {
                    let n = self.decoder.read(buf)?;
                    if n > 0 {
                        return Ok(n);
                    }
                    let e = err
                        .take()
                        .unwrap_or_else(|| self.cut_short("a frame (closed early)"));
                    self.state = State::Failed;
                    return Err(e);
                }
                State::Frame { checksum } => {
                    let checksum = *checksum;
                    let n = self.decoder.read(buf)?;
                    if n > 0 {
                        return Ok(n);
                    }
                    if self.decoder.is_finished() {
                        self.check_frame()?;
                        self.state = State::Between;
                    } else {
                        self.next_block(checksum)?;
                    }
                }
            }
        }
    }
}

impl<R: Read> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.step(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                self.state = State::Failed;
                Err(e)
            }
        }
    }
}

/// Counts the bytes read through it.
struct Counted<'a, R: Read> {
    inner: &'a mut R,
    n: u64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n = self.n.saturating_add(k as u64);
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> (Vec<u8>, Option<io::Error>) {
        let mut r = ZstdReader::new(bytes);
        let mut out = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    /// A frame of raw blocks built by hand (no compressor among the dependencies): magic,
    /// descriptor (single segment, content size in 1 byte when `size` fits, checksum flag),
    /// the blocks, the checksum.
    fn raw_frame(data: &[u8], block: usize, checksum: Option<u32>) -> Vec<u8> {
        let mut f = MAGIC.to_vec();
        let flag = if checksum.is_some() { 0x04 } else { 0 };
        // Frame_Content_Size_flag 2 (4 bytes), Single_Segment_flag.
        f.push(0x80 | 0x20 | flag);
        f.extend_from_slice(&(data.len() as u32).to_le_bytes());
        let chunks: Vec<&[u8]> = data.chunks(block).collect();
        for (i, c) in chunks.iter().enumerate() {
            let last = u32::from(i + 1 == chunks.len());
            let h = last | ((c.len() as u32) << 3);
            f.extend_from_slice(&h.to_le_bytes()[..3]);
            f.extend_from_slice(c);
        }
        if let Some(c) = checksum {
            f.extend_from_slice(&c.to_le_bytes());
        }
        f
    }

    /// The frame checksum of `data` (the low 32 bits of its XXH64), as `ruzstd`'s encoder
    /// writes it at the end of its frame.
    fn xxh32_low(data: &[u8]) -> u32 {
        let z = compress(data);
        let t: [u8; 4] = z[z.len() - 4..].try_into().expect("4 bytes");
        u32::from_le_bytes(t)
    }

    fn compress(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    #[test]
    fn compressed_blocks_cut_anywhere_give_a_prefix_then_the_error() {
        // Text that compresses (matches across blocks) and is several blocks long.
        let text: Vec<u8> = (0..60_000u32)
            .flat_map(|i| format!("GET /item/{} HTTP/1.1\r\n", i % 977).into_bytes())
            .collect();
        let z = compress(&text);
        assert!(z.len() < text.len() / 4, "it compresses: {}", z.len());
        let (out, err) = all(&z);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, text);
        let mut longest = 0;
        for cut in (1..z.len()).step_by(97).chain([z.len() - 1]) {
            let (out, err) = all(&z[..cut]);
            let e = err.unwrap_or_else(|| panic!("cut at {cut}: no error"));
            assert!(e.to_string().contains("truncated"), "cut at {cut}: {e}");
            assert_eq!(out[..], text[..out.len()], "cut at {cut}: a prefix");
            longest = longest.max(out.len());
        }
        // Cut in the last block, all the blocks before it come out (a block holds 128 KiB).
        assert!(
            longest >= text.len() - (128 << 10),
            "{longest} of {}",
            text.len()
        );
    }

    #[test]
    fn frames_in_a_row_and_skippable_frames() {
        let a: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let b = b"second frame".to_vec();
        let mut s = raw_frame(&a, 1000, Some(xxh32_low(&a)));
        s.extend_from_slice(&[0x53, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        s.extend_from_slice(&raw_frame(&b, 100, None));
        let (out, err) = all(&s);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, [a.clone(), b].concat());
    }

    #[test]
    fn a_wrong_checksum_is_an_error_after_the_content() {
        let a = b"some content".to_vec();
        let (out, err) = all(&raw_frame(&a, 5, Some(xxh32_low(&a) ^ 1)));
        assert_eq!(out, a);
        let e = err.expect("an error");
        assert_eq!(e.kind(), ErrorKind::InvalidData);
        assert!(e.to_string().contains("checksum"), "{e}");
    }

    #[test]
    fn cut_anywhere_gives_every_whole_block_then_the_error() {
        let a: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 256) as u8).collect();
        let s = raw_frame(&a, 300, Some(xxh32_low(&a)));
        let whole = all(&s);
        assert_eq!(whole.0, a);
        assert!(whole.1.is_none());
        for cut in 1..s.len() {
            let (out, err) = all(&s[..cut]);
            let e = err.unwrap_or_else(|| panic!("cut at {cut}: no error"));
            assert!(e.to_string().contains("truncated"), "cut at {cut}: {e}");
            // Every block wholly before the cut is handed out (frame header 9 bytes, blocks
            // of 3 + 300 bytes, the last one 3 + 200, then the checksum).
            let blocks = cut.saturating_sub(9) / 303;
            let want = if cut >= 9 + 6 * 303 + 203 {
                a.len()
            } else {
                blocks * 300
            };
            assert_eq!(out.len(), want, "cut at {cut}");
            assert_eq!(out[..], a[..want]);
        }
    }

    #[test]
    fn trailing_bytes_that_are_no_frame_are_an_error() {
        let mut s = raw_frame(b"abc", 10, None);
        s.extend_from_slice(b"junk");
        let (out, err) = all(&s);
        assert_eq!(out, b"abc");
        assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::InvalidData));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Any bytes after the magic, and a real stream with bytes changed: an error or the
        /// end, never a panic, and the output stays within what a frame may hold.
        #[test]
        fn any_bytes_never_panic(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            flips in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 1..6),
        ) {
            let _ = all(&[MAGIC.as_slice(), &body].concat());
            let text: Vec<u8> = (0..3000u32).flat_map(|i| format!("line {} ", i % 50).into_bytes()).collect();
            let mut z = compress(&text);
            for (at, x) in flips {
                let n = z.len();
                z[at % n] ^= x | 1;
            }
            let (out, _) = all(&z);
            proptest::prop_assert!(out.len() <= 4 << 20);
        }
    }
}
