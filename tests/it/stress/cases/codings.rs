//! Compressed payloads, made by the real compressors (flate2, brotli), never by hand.

use std::io::Write;

use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

/// Zeros are fed to the compressors in blocks of this size.
const BLOCK: usize = 1 << 20;

/// `n` bytes of text that compress like text (words from a small list in a pseudo-random
/// order), the same for the same `n`.
pub fn text(n: usize) -> Vec<u8> {
    const WORDS: [&str; 8] = [
        "stress ", "budget ", "window ", "shed ", "flow ", "gap ", "pair ", "bound ",
    ];
    let mut v = Vec::with_capacity(n + 8);
    let mut x = 0x2545_f491_u32;
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(WORDS[(x % 8) as usize].as_bytes());
    }
    v.truncate(n);
    v
}

/// Feeds `mib` MiB of zeros to a compressor.
fn zeros(w: &mut impl Write, mib: u64) {
    let block = vec![0u8; BLOCK];
    for _ in 0..mib {
        // Writing into a Vec-backed encoder cannot fail.
        let _ = w.write_all(&block);
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// `Content-Encoding: gzip` applied `layers` times.
pub fn gzip_layers(data: &[u8], layers: usize) -> Vec<u8> {
    (0..layers).fold(data.to_vec(), |d, _| gzip(&d))
}

/// gzip of `mib` MiB of zeros.
pub fn gzip_zeros(mib: u64) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    zeros(&mut e, mib);
    e.finish().unwrap_or_default()
}

/// zlib (`Content-Encoding: deflate` as RFC 9110 means it) of `mib` MiB of zeros.
pub fn zlib_zeros(mib: u64) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::best());
    zeros(&mut e, mib);
    e.finish().unwrap_or_default()
}

/// A permessage-deflate message payload (RFC 7692 §7.2.1): raw deflate of `mib` MiB of zeros
/// ended by a sync flush, whose `00 00 ff ff` tail is removed.
pub fn ws_deflate_zeros(mib: u64) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::best());
    zeros(&mut e, mib);
    // flush() is a sync flush: the stream so far, then an empty stored block `00 00 ff ff`.
    let _ = e.flush();
    let mut v = e.get_ref().clone();
    if v.ends_with(&[0, 0, 0xff, 0xff]) {
        v.truncate(v.len() - 4);
    }
    v
}

/// brotli of `mib` MiB of zeros with a window of 2^`lgwin` bytes (24 = 16 MiB, the largest
/// a standard stream can declare).
pub fn brotli_zeros(mib: u64, lgwin: u32) -> Vec<u8> {
    let mut w = brotli::CompressorWriter::new(Vec::new(), 1 << 16, 9, lgwin);
    zeros(&mut w, mib);
    w.into_inner()
}
