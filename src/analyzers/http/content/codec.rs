//! One decoder per content coding, behind one push interface: `decode(input, out)` takes what it
//! can of `input`, writes at most `out.len()` bytes to `out` and says how much of each it used.
//! Each codec consumes bytes after its stream's end itself and counts them as trailing.
//! Offsets in errors are offsets in this codec's input.

use crate::base::heap;
use brotli_decompressor::{
    BrotliDecompressStream, BrotliResult, BrotliState, SliceWrapper, StandardAlloc,
};
use flate2::{Decompress, FlushDecompress, Status};

use super::gzip::GzipCodec;

/// How far one `decode` call got.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Progress {
    pub consumed: usize,
    pub produced: usize,
}

#[derive(Clone, Debug)]
pub(super) struct CodecError {
    pub offset: u64,
    pub message: String,
}

/// Where a codec's stream stands when its input ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    /// The stream (or the last gzip member) ended.
    Complete,
    /// No input at all.
    Empty,
    /// The stream stopped before its end.
    Truncated,
}

/// Which deflate stream `Content-Encoding: deflate` carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeflateVariant {
    /// zlib-wrapped (RFC 1950), as RFC 9110 §8.4.1.2 means.
    Zlib,
    /// Raw deflate (RFC 1951) without the zlib wrapper, as some servers send.
    Raw,
}

/// The zlib header check of RFC 1950 §2.2: CM 8, window at most 32 KiB, FCHECK.
pub(super) fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) * 256 + u16::from(flg)) % 31 == 0
}

pub(super) enum Codec {
    Identity,
    Deflate(DeflateCodec),
    Gzip(GzipCodec),
    Br(BrCodec),
    /// Decoding stopped (capped, an error, the memory budget): the state is gone, what the
    /// record reports of the stream is kept.
    Stopped(Stopped),
}

/// What a stopped codec still reports.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Stopped {
    pub variant: Option<DeflateVariant>,
    pub members: u64,
    pub trailing: u64,
}

/// What a brotli decoder holds besides its ring buffer (Huffman tables, context maps).
const BROTLI_TABLES: usize = 64 << 10;

impl Codec {
    /// Heap bytes the codec holds: an inflater's state, a brotli decoder's tables and ring
    /// buffer (its window, up to 16 MiB, allocated as the stream declares).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Codec::Identity | Codec::Stopped(_) => 0,
            Codec::Deflate(d) => match d.state {
                DeflateState::Inflate(..) => heap::INFLATER,
                _ => 0,
            },
            Codec::Gzip(_) => heap::INFLATER,
            Codec::Br(b) => size_of::<BrState>() + BROTLI_TABLES + b.state.ringbuffer.slice().len(),
        }
    }

    pub fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress, CodecError> {
        match self {
            Codec::Identity => {
                let n = input.len().min(out.len());
                if let (Some(dst), Some(src)) = (out.get_mut(..n), input.get(..n)) {
                    dst.copy_from_slice(src);
                }
                Ok(Progress {
                    consumed: n,
                    produced: n,
                })
            }
            Codec::Deflate(c) => c.decode(input, out),
            Codec::Gzip(c) => c.decode(input, out),
            Codec::Br(c) => c.decode(input, out),
            // Never fed (decoding stopped); what it is given is dropped.
            Codec::Stopped(_) => Ok(Progress {
                consumed: input.len(),
                produced: 0,
            }),
        }
    }

    pub fn end(&self, total_in: u64) -> End {
        if total_in == 0 {
            return End::Empty;
        }
        let complete = match self {
            Codec::Identity => true,
            Codec::Deflate(c) => matches!(c.state, DeflateState::Ended),
            Codec::Gzip(c) => c.at_member_boundary(),
            Codec::Br(c) => c.done,
            Codec::Stopped(_) => true,
        };
        if complete {
            End::Complete
        } else {
            End::Truncated
        }
    }

    pub fn trailing(&self) -> u64 {
        match self {
            Codec::Identity => 0,
            Codec::Deflate(c) => c.trailing,
            Codec::Gzip(c) => c.trailing,
            Codec::Br(c) => c.trailing,
            Codec::Stopped(s) => s.trailing,
        }
    }

    /// Drops the decoder state (an inflater's window, a brotli ring buffer), keeping what the
    /// record reports.
    pub fn stop(&mut self) {
        let kept = match self {
            Codec::Identity | Codec::Stopped(_) => return,
            Codec::Deflate(d) => Stopped {
                variant: d.variant,
                members: 0,
                trailing: d.trailing,
            },
            Codec::Gzip(g) => Stopped {
                variant: None,
                members: g.members,
                trailing: g.trailing,
            },
            Codec::Br(b) => Stopped {
                variant: None,
                members: 0,
                trailing: b.trailing,
            },
        };
        *self = Codec::Stopped(kept);
    }
}

/// Runs a flate2 inflater on `input` into `out`; returns progress and whether the stream ended.
pub(super) fn inflate(
    z: &mut Decompress,
    input: &[u8],
    out: &mut [u8],
    base: u64,
) -> Result<(Progress, bool), CodecError> {
    let (in0, out0) = (z.total_in(), z.total_out());
    let status = z.decompress(input, out, FlushDecompress::None);
    let consumed = usize::try_from(z.total_in() - in0).unwrap_or(input.len());
    let produced = usize::try_from(z.total_out() - out0).unwrap_or(out.len());
    match status {
        Ok(s) => Ok((Progress { consumed, produced }, s == Status::StreamEnd)),
        Err(e) => Err(CodecError {
            offset: base + consumed as u64,
            message: e.to_string(),
        }),
    }
}

pub(super) enum DeflateState {
    /// Waiting for the two bytes that tell zlib from raw; holds the first if it came alone.
    Detect(Option<u8>),
    /// Inflating; `held` is the first header byte still to be given to the inflater.
    Inflate(Box<Decompress>, Option<u8>),
    Ended,
}

pub(super) struct DeflateCodec {
    pub state: DeflateState,
    pub variant: Option<DeflateVariant>,
    pos: u64,
    trailing: u64,
}

impl DeflateCodec {
    pub fn new() -> Self {
        DeflateCodec {
            state: DeflateState::Detect(None),
            variant: None,
            pos: 0,
            trailing: 0,
        }
    }

    fn start(&mut self, cmf: u8, flg: u8, held: Option<u8>) {
        let zlib = is_zlib_header(cmf, flg);
        self.variant = Some(if zlib {
            DeflateVariant::Zlib
        } else {
            DeflateVariant::Raw
        });
        self.state = DeflateState::Inflate(Box::new(Decompress::new(zlib)), held);
    }

    fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress, CodecError> {
        if let DeflateState::Detect(first) = self.state {
            match (first, input) {
                (None, [a, b, ..]) => self.start(*a, *b, None),
                (None, [a]) => {
                    self.state = DeflateState::Detect(Some(*a));
                    self.pos += 1;
                    return Ok(Progress {
                        consumed: 1,
                        produced: 0,
                    });
                }
                (Some(a), [b, ..]) => self.start(a, *b, Some(a)),
                (_, []) => return Ok(Progress::default()),
            }
        }
        let pos = self.pos;
        let (progress, ended) = match &mut self.state {
            DeflateState::Ended => {
                self.trailing += input.len() as u64;
                self.pos += input.len() as u64;
                return Ok(Progress {
                    consumed: input.len(),
                    produced: 0,
                });
            }
            DeflateState::Detect(_) => return Ok(Progress::default()),
            DeflateState::Inflate(z, held) => {
                if let Some(h) = *held {
                    // The header byte that came alone; it was counted in `pos` then.
                    let (p, ended) = inflate(z, &[h], out, pos.saturating_sub(1))?;
                    if p.consumed == 1 {
                        *held = None;
                    }
                    if p.produced > 0 || ended || held.is_some() {
                        (
                            Progress {
                                consumed: 0,
                                produced: p.produced,
                            },
                            ended,
                        )
                    } else {
                        inflate(z, input, out, pos)?
                    }
                } else {
                    inflate(z, input, out, pos)?
                }
            }
        };
        self.pos += progress.consumed as u64;
        if ended {
            self.state = DeflateState::Ended;
        }
        Ok(progress)
    }
}

type BrState = BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>;

pub(super) struct BrCodec {
    state: Box<BrState>,
    done: bool,
    pos: u64,
    trailing: u64,
}

impl BrCodec {
    pub fn new() -> Self {
        // `new_strict` refuses large-window streams (RFC 7932 allows windows up to 16 MiB;
        // the large-window extension would let a peer make us allocate up to 1 GiB).
        let state = BrState::new_strict(
            StandardAlloc::default(),
            StandardAlloc::default(),
            StandardAlloc::default(),
        );
        BrCodec {
            state: Box::new(state),
            done: false,
            pos: 0,
            trailing: 0,
        }
    }

    fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress, CodecError> {
        if self.done {
            self.trailing += input.len() as u64;
            self.pos += input.len() as u64;
            return Ok(Progress {
                consumed: input.len(),
                produced: 0,
            });
        }
        let (mut avail_in, mut in_off) = (input.len(), 0);
        let (mut avail_out, mut out_off) = (out.len(), 0);
        let mut total = 0;
        let result = BrotliDecompressStream(
            &mut avail_in,
            &mut in_off,
            input,
            &mut avail_out,
            &mut out_off,
            out,
            &mut total,
            &mut self.state,
        );
        let progress = Progress {
            consumed: in_off.min(input.len()),
            produced: out_off.min(out.len()),
        };
        match result {
            BrotliResult::ResultSuccess => self.done = true,
            BrotliResult::NeedsMoreInput | BrotliResult::NeedsMoreOutput => {}
            BrotliResult::ResultFailure => {
                return Err(CodecError {
                    offset: self.pos + progress.consumed as u64,
                    message: format!("brotli: {:?}", self.state.error_code),
                });
            }
        }
        self.pos += progress.consumed as u64;
        Ok(progress)
    }
}
