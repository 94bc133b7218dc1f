//! Content-Encoding decoding (RFC 9110 §8.4): gzip (multi-member), deflate (zlib-wrapped or
//! raw), br, identity, stacked in any order. Streaming and bounded.
//!
//! Contract:
//! - **Input** is the transfer-decoded body (what [`super::body::BodyDecoder`] hands on), fed in
//!   pieces split anywhere; the output is the same whatever the split.
//! - **Order.** Codings are listed in the order they were applied (`Content-Encoding: gzip, br`
//!   means gzip, then br) and are decoded in reverse; each layer's output is piped into the
//!   next, chunk by chunk, never collected.
//! - **Bound.** The decoder never hands on more than `max_output` bytes, and no inner layer of
//!   a stack produces more than a little over that (see `inner_cap`). At a bound decoding
//!   stops for good with [`ContentOutcome::Capped`]: a decompression bomb costs output work
//!   proportional to `max_output`, and its remaining input is ignored.
//!   Memory does not grow with the input: per layer a 16 KiB output buffer and the decoder's
//!   state (about 43 KiB for deflate and gzip; for brotli a ring buffer sized by the
//!   meta-block lengths the stream declares, up to its window: 16 MiB at most, since
//!   large-window streams are refused, but a 51-byte stream can ask for all of it whatever
//!   `max_output` is). At most [`MAX_LAYERS`] codings.
//! - **Errors.** Corrupt input stops decoding with [`ContentOutcome::Error`], naming the layer
//!   and the offset in that layer's input (for the first layer, the offset in the body) at
//!   which the decoder failed; the inflaters may have read a few bytes past the bad one. Output
//!   already handed on is not taken back (and may be wrong: only gzip and zlib carry a
//!   checksum, checked at the end of the stream). Never a panic.
//! - **End.** [`ContentDecoder::finish`] says whether every stream was complete
//!   ([`ContentOutcome::Truncated`] if not). An empty body is `Ok` (servers label empty bodies
//!   too). Bytes after a complete stream are counted in [`ContentDecoder::trailing_bytes`],
//!   not decoded, and are not an error. After a gap in the body, stop feeding and call
//!   `finish`: no compressed stream survives missing bytes.

pub mod byteranges;
mod codec;
mod gzip;
#[cfg(test)]
mod tests;

use crate::base::heap;
use std::fmt;

pub use codec::DeflateVariant;
use codec::{BrCodec, Codec, DeflateCodec, End};
use gzip::GzipCodec;

/// Most stacked codings decoded (identity not counted); more is [`ContentOutcome::TooManyCodings`].
pub const MAX_LAYERS: usize = 4;
const BUF: usize = 16 * 1024;
/// Longest unknown coding name kept.
const MAX_NAME: usize = 64;

/// A content coding (RFC 9110 §8.4.1), parsed case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    /// `gzip` or `x-gzip`.
    Gzip,
    Deflate,
    Br,
    Identity,
    /// Anything else (`compress`, `zstd`, …), lowercased, at most 64 bytes.
    Unknown(String),
}

impl Coding {
    pub fn parse(token: &[u8]) -> Coding {
        let lower = token.to_ascii_lowercase();
        match lower.as_slice() {
            b"gzip" | b"x-gzip" => Coding::Gzip,
            b"deflate" => Coding::Deflate,
            b"br" => Coding::Br,
            b"identity" => Coding::Identity,
            _ => {
                let kept = lower.get(..MAX_NAME).unwrap_or(&lower);
                Coding::Unknown(String::from_utf8_lossy(kept).into_owned())
            }
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Br => "br",
            Coding::Identity => "identity",
            Coding::Unknown(s) => s,
        }
    }
}

impl fmt::Display for Coding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The codings of all `Content-Encoding` field lines, in the order applied. Comma lists,
/// optional whitespace and empty list elements are handled as RFC 9110 §5.6.1 says.
pub fn parse_codings(header_values: &[&[u8]]) -> Vec<Coding> {
    header_values
        .iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|t| t.trim_ascii())
        .filter(|t| !t.is_empty())
        .map(Coding::parse)
        .collect()
}

/// Why content decoding stopped, with where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{coding} decoding failed at offset {offset} of layer {layer}'s input: {message}")]
pub struct ContentError {
    /// 0 is the first decoded, i.e. the last coding applied.
    pub layer: usize,
    pub coding: Coding,
    pub offset: u64,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentOutcome {
    /// Nothing went wrong (so far, before [`ContentDecoder::finish`]).
    Ok,
    /// Stopped at the output bound; `at` bytes were handed on.
    Capped {
        at: u64,
    },
    /// Given up to stay within the memory budget; `at` bytes were handed on.
    Shed {
        at: u64,
    },
    Error(ContentError),
    /// A coding this decoder does not implement; nothing is decoded.
    Unsupported(Coding),
    /// More stacked codings than [`MAX_LAYERS`]; nothing is decoded.
    TooManyCodings {
        count: usize,
    },
    /// The input ended inside a compressed stream (a layer's stream had no end).
    Truncated {
        layer: usize,
        coding: Coding,
    },
}

/// Why a push through the layers stopped.
enum Stop {
    Capped,
    Error(ContentError),
}

struct Layer {
    coding: Coding,
    codec: Codec,
    buf: Box<[u8]>,
    cap: u64,
    in_len: u64,
    out_len: u64,
}

impl Layer {
    fn heap_bytes(&self) -> usize {
        self.buf.len() + self.codec.heap_bytes()
    }

    fn new(coding: Coding, cap: u64) -> Self {
        let codec = match coding {
            Coding::Gzip => Codec::Gzip(GzipCodec::new()),
            Coding::Deflate => Codec::Deflate(DeflateCodec::new()),
            Coding::Br => Codec::Br(BrCodec::new()),
            Coding::Identity | Coding::Unknown(_) => Codec::Identity,
        };
        Layer {
            coding,
            codec,
            buf: vec![0; BUF].into_boxed_slice(),
            cap,
            in_len: 0,
            out_len: 0,
        }
    }

    /// Decodes all of `input`, handing output chunks to `next`. Every turn of the loop either
    /// consumes input or produces output, and output stops one byte past the cap, so it ends.
    fn push(
        &mut self,
        index: usize,
        mut input: &[u8],
        next: &mut dyn FnMut(&[u8]) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        loop {
            let left = self.cap.saturating_sub(self.out_len);
            // One byte of room past the cap tells "exactly at the cap" from "more to come".
            let room = usize::try_from(left.saturating_add(1)).map_or(BUF, |r| r.min(BUF));
            let out = self.buf.get_mut(..room).unwrap_or_default();
            let p = match self.codec.decode(input, out) {
                Ok(p) => p,
                Err(e) => return Err(self.error(index, e.offset, e.message)),
            };
            self.in_len += p.consumed as u64;
            input = input.get(p.consumed..).unwrap_or_default();
            if p.produced > 0 {
                let allowed = usize::try_from(left).map_or(p.produced, |l| l.min(p.produced));
                self.out_len += allowed as u64;
                if allowed > 0 {
                    next(self.buf.get(..allowed).unwrap_or_default())?;
                }
                if allowed < p.produced {
                    return Err(Stop::Capped);
                }
            }
            if p.consumed == 0 && p.produced == 0 {
                if !input.is_empty() {
                    let msg = "decoder made no progress".to_string();
                    return Err(self.error(index, self.in_len, msg));
                }
                return Ok(());
            }
        }
    }

    fn error(&self, layer: usize, offset: u64, message: String) -> Stop {
        Stop::Error(ContentError {
            layer,
            coding: self.coding.clone(),
            offset,
            message,
        })
    }
}

/// Pushes `input` through `layers[0]`, its output through `layers[1]`, …, then to `out`.
fn push_all(
    layers: &mut [Layer],
    first_index: usize,
    input: &[u8],
    out: &mut dyn FnMut(&[u8]),
) -> Result<(), Stop> {
    match layers.split_first_mut() {
        None => {
            out(input);
            Ok(())
        }
        Some((layer, rest)) => layer.push(first_index, input, &mut |chunk| {
            push_all(rest, first_index + 1, chunk, out)
        }),
    }
}

/// The bound on an inner layer's output (compressed data for the next layer): enough for any
/// deflate or brotli stream of `max_output` decoded bytes (stored blocks add well under 1/8),
/// so a stack is not cut short for a body whose decoded size fits, while a bomb in an outer
/// layer that the inner one would swallow (e.g. as trailing bytes) still stops.
fn inner_cap(max_output: u64) -> u64 {
    max_output
        .saturating_add(max_output / 8)
        .saturating_add(64 * 1024)
}

/// Streaming, bounded decoder for a stack of content codings. See the module docs.
pub struct ContentDecoder {
    layers: Vec<Layer>,
    in_len: u64,
    out_len: u64,
    outcome: ContentOutcome,
    finished: bool,
}

impl ContentDecoder {
    /// Heap bytes held: each layer's buffer and decoder state.
    pub fn heap_bytes(&self) -> usize {
        heap::vec(&self.layers) + self.layers.iter().map(Layer::heap_bytes).sum::<usize>()
    }

    /// `codings` in the order applied (as [`parse_codings`] returns them).
    pub fn new(codings: &[Coding], max_output: u64) -> Self {
        let applied: Vec<&Coding> = codings.iter().filter(|c| **c != Coding::Identity).collect();
        let mut outcome = ContentOutcome::Ok;
        if let Some(unknown) = applied.iter().find(|c| matches!(c, Coding::Unknown(_))) {
            outcome = ContentOutcome::Unsupported((*unknown).clone());
        } else if applied.len() > MAX_LAYERS {
            outcome = ContentOutcome::TooManyCodings {
                count: applied.len(),
            };
        }
        let layers = if outcome != ContentOutcome::Ok {
            Vec::new()
        } else if applied.is_empty() {
            vec![Layer::new(Coding::Identity, max_output)]
        } else {
            let last = applied.len() - 1;
            applied
                .iter()
                .rev()
                .enumerate()
                .map(|(i, c)| {
                    let cap = if i == last {
                        max_output
                    } else {
                        inner_cap(max_output)
                    };
                    Layer::new((*c).clone(), cap)
                })
                .collect()
        };
        ContentDecoder {
            layers,
            in_len: 0,
            out_len: 0,
            outcome,
            finished: false,
        }
    }

    /// Decodes the next piece of the body; output goes to `out` in chunks of at most 16 KiB.
    /// Ignored once decoding stopped (capped, error, unsupported, finished).
    pub fn feed(&mut self, data: &[u8], out: &mut dyn FnMut(&[u8])) {
        self.in_len += data.len() as u64;
        if self.outcome != ContentOutcome::Ok || self.finished {
            return;
        }
        let mut emitted = 0u64;
        let result = push_all(&mut self.layers, 0, data, &mut |chunk| {
            emitted += chunk.len() as u64;
            out(chunk);
        });
        self.out_len += emitted;
        match result {
            Ok(()) => {}
            Err(Stop::Capped) => {
                self.outcome = ContentOutcome::Capped { at: self.out_len };
                self.release();
            }
            Err(Stop::Error(e)) => {
                self.outcome = ContentOutcome::Error(e);
                self.release();
            }
        }
    }

    /// Decoding stopped for good: the decoders' state (inflater windows, brotli ring buffers,
    /// the 16 KiB buffers) is freed at once; what the record reports of each layer is kept.
    fn release(&mut self) {
        for l in &mut self.layers {
            l.codec.stop();
            l.buf = Box::default();
        }
    }

    /// Gives decoding up to stay within the memory budget: what was decoded so far stands,
    /// the rest of the body is not decoded. Returns the bytes freed.
    pub fn shed(&mut self) -> usize {
        if self.outcome != ContentOutcome::Ok || self.finished {
            return 0;
        }
        let before = self.heap_bytes();
        self.outcome = ContentOutcome::Shed { at: self.out_len };
        self.release();
        before.saturating_sub(self.heap_bytes())
    }

    /// The body ended: checks that every stream was complete. Output was already handed on
    /// by `feed` (nothing is held back), so `out` is only called by a decoder with more to say.
    pub fn finish(&mut self, out: &mut dyn FnMut(&[u8])) {
        if self.finished {
            return;
        }
        self.feed(&[], out);
        self.finished = true;
        if self.outcome != ContentOutcome::Ok {
            return;
        }
        for (index, layer) in self.layers.iter().enumerate() {
            match layer.codec.end(layer.in_len) {
                End::Complete => {}
                // An empty layer has an empty output, so every later layer is empty too.
                End::Empty => break,
                End::Truncated => {
                    self.outcome = ContentOutcome::Truncated {
                        layer: index,
                        coding: layer.coding.clone(),
                    };
                    break;
                }
            }
        }
    }

    /// Decoded bytes handed on.
    pub fn output_len(&self) -> u64 {
        self.out_len
    }

    /// Body bytes fed (including any ignored after decoding stopped).
    pub fn input_len(&self) -> u64 {
        self.in_len
    }

    /// Body bytes the first layer took before it stopped (all of them unless it stopped early).
    pub fn consumed_len(&self) -> u64 {
        self.layers.first().map_or(0, |l| l.in_len)
    }

    pub fn outcome(&self) -> ContentOutcome {
        self.outcome.clone()
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// For `deflate`, which stream was seen (the first deflate layer), once known. Raw deflate
    /// is worth a finding: RFC 9110 §8.4.1.2 means zlib.
    pub fn deflate_variant(&self) -> Option<DeflateVariant> {
        self.layers.iter().find_map(|l| match &l.codec {
            Codec::Deflate(d) => d.variant,
            Codec::Stopped(s) => s.variant,
            _ => None,
        })
    }

    /// Complete gzip members seen, all gzip layers together.
    pub fn gzip_members(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| match &l.codec {
                Codec::Gzip(g) => g.members,
                Codec::Stopped(s) => s.members,
                _ => 0,
            })
            .sum()
    }

    /// Bytes after the end of a complete stream (any layer), ignored.
    pub fn trailing_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.codec.trailing()).sum()
    }
}

/// The first `limit` bytes of a stream, and how long it was (for `--bodies`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preview {
    limit: usize,
    bytes: Vec<u8>,
    total: u64,
}

impl Preview {
    pub fn heap_bytes(&self) -> usize {
        heap::vec(&self.bytes)
    }

    pub fn new(limit: usize) -> Self {
        Preview {
            limit,
            bytes: Vec::new(),
            total: 0,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.total += data.len() as u64;
        let room = self.limit.saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(data.get(..room).unwrap_or(data));
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Bytes pushed, kept or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn is_truncated(&self) -> bool {
        self.total > self.bytes.len() as u64
    }
}
