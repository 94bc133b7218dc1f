//! Analyzers that collect stream bytes instead of analysing them: the terminal UI's Stream view
//! reads one connection's reassembled bytes again with [`StreamCollector`] (records do not
//! carry stream bytes).

use super::{Analyzer, Ctx};
use crate::model::{Dir, RecordSink};
use crate::reassembly::Chunk;

/// Bytes kept per direction.
pub const STREAM_CAP: usize = 1 << 20;

/// A delivered piece of one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Data {
        dir: Dir,
        offset: u64,
        bytes: Vec<u8>,
    },
    Gap {
        dir: Dir,
        offset: u64,
        len: u64,
    },
}

/// One connection's bytes, as far as they were kept.
#[derive(Clone, Debug, Default)]
pub struct StreamData {
    pub conn: u64,
    pub pieces: Vec<Piece>,
    /// Bytes not kept per direction (past [`STREAM_CAP`]).
    pub cut: [u64; 2],
    /// The connection was found in the capture.
    pub found: bool,
    /// Why reading stopped early.
    pub error: Option<String>,
}

/// The analyzer of the second pass: keeps one connection's chunks.
pub struct StreamCollector {
    pub data: StreamData,
    kept: [usize; 2],
    /// The connection closed: the pass can stop.
    pub closed: bool,
}

impl StreamCollector {
    pub fn new(conn: u64) -> Self {
        StreamCollector {
            data: StreamData {
                conn,
                ..StreamData::default()
            },
            kept: [0, 0],
            closed: false,
        }
    }
}

impl Analyzer for StreamCollector {
    type State = ();

    fn on_chunk(
        &mut self,
        _: &mut (),
        ctx: &Ctx,
        offset: u64,
        chunk: Chunk<'_>,
        _: &mut dyn RecordSink,
    ) {
        if ctx.conn != self.data.conn {
            return;
        }
        self.data.found = true;
        let d = ctx.dir.index();
        match chunk {
            Chunk::Data(b) => {
                let room = STREAM_CAP.saturating_sub(self.kept[d]);
                let take = room.min(b.len());
                if take > 0 {
                    // Consecutive pieces of one direction are joined.
                    let joined = match self.data.pieces.last_mut() {
                        Some(Piece::Data {
                            dir,
                            offset: o,
                            bytes,
                        }) if *dir == ctx.dir && *o + bytes.len() as u64 == offset => {
                            bytes.extend_from_slice(&b[..take]);
                            true
                        }
                        _ => false,
                    };
                    if !joined {
                        self.data.pieces.push(Piece::Data {
                            dir: ctx.dir,
                            offset,
                            bytes: b[..take].to_vec(),
                        });
                    }
                    self.kept[d] += take;
                }
                self.data.cut[d] += (b.len() - take) as u64;
            }
            Chunk::Gap(n, _) => {
                if self.kept[d] < STREAM_CAP {
                    self.data.pieces.push(Piece::Gap {
                        dir: ctx.dir,
                        offset,
                        len: n,
                    });
                }
            }
        }
    }

    fn on_close(&mut self, _: &mut (), ctx: &Ctx, _: &mut dyn RecordSink) {
        if ctx.conn == self.data.conn {
            self.closed = true;
        }
    }

    /// The connection closed: the rest of the capture is not needed.
    fn done(&self) -> bool {
        self.closed
    }
}
