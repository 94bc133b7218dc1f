//! Analyzers that collect stream bytes instead of analysing them: the terminal UI's Stream view
//! reads one connection's reassembled bytes again with [`StreamCollector`] (records do not
//! carry stream bytes). [`Kept`] is the bound every collected stream keeps to, the TCP bytes
//! here and the decrypted bytes of TLS (`analyzers::pass`) alike.

use super::{Analyzer, Ctx};
use crate::model::{Dir, RecordSink};
use crate::reassembly::Chunk;

/// Bytes kept per direction.
pub const STREAM_CAP: usize = 1 << 20;
/// Message starts kept per inner stream.
pub const MAX_STARTS: usize = 4096;

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

/// Both directions of a stream, the first [`STREAM_CAP`] bytes of each; consecutive pieces of
/// a direction are joined.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kept {
    pub pieces: Vec<Piece>,
    /// Bytes not kept per direction (past [`STREAM_CAP`]).
    pub cut: [u64; 2],
    kept: [usize; 2],
}

impl Kept {
    /// Bytes of `dir` at stream offset `offset`.
    pub fn data(&mut self, dir: Dir, offset: u64, b: &[u8]) {
        let d = dir.index();
        let room = STREAM_CAP.saturating_sub(self.kept[d]);
        let take = room.min(b.len());
        if take > 0 {
            let joined = match self.pieces.last_mut() {
                Some(Piece::Data {
                    dir: last,
                    offset: o,
                    bytes,
                }) if *last == dir && *o + bytes.len() as u64 == offset => {
                    bytes.extend_from_slice(&b[..take]);
                    true
                }
                _ => false,
            };
            if !joined {
                self.pieces.push(Piece::Data {
                    dir,
                    offset,
                    bytes: b[..take].to_vec(),
                });
            }
            self.kept[d] += take;
        }
        self.cut[d] += (b.len() - take) as u64;
    }

    /// `len` bytes of `dir` at `offset` are missing.
    pub fn gap(&mut self, dir: Dir, offset: u64, len: u64) {
        if self.kept[dir.index()] < STREAM_CAP {
            self.pieces.push(Piece::Gap { dir, offset, len });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty() && self.cut == [0, 0]
    }
}

/// Where a message starts in an inner stream, as the protocols inside found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    pub dir: Dir,
    /// Offset in the inner stream.
    pub offset: u64,
    /// Stream offset on the connection of what carried it (the TLS record): what the
    /// records report.
    pub wire: u64,
    /// `request`, `interim`, `response`, `ws message`.
    pub kind: &'static str,
    /// A transaction's position on the connection (among those inside the inner stream).
    pub txn: Option<u32>,
    /// What it is (`GET /index.html`, `200 OK`, `3 text 16B`), from the wire: not escaped,
    /// at most [`START_TEXT`] characters.
    pub text: String,
}

/// Characters of a message start's text kept.
pub const START_TEXT: usize = 200;

/// A stream inside the connection a layer made of its bytes (the decrypted application data
/// of TLS), with offsets of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InnerStream {
    pub bytes: Kept,
    /// Message starts, in the order they were reported (at most [`MAX_STARTS`]).
    pub starts: Vec<Start>,
    pub starts_dropped: u64,
}

impl InnerStream {
    pub fn push_start(&mut self, m: Start) {
        if self.starts.len() < MAX_STARTS {
            self.starts.push(m);
        } else {
            self.starts_dropped += 1;
        }
    }
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
    /// The application data TLS decrypted on the connection, when the pass decrypted it.
    pub decrypted: Option<Box<InnerStream>>,
}

/// The analyzer of the second pass: keeps one connection's chunks.
pub struct StreamCollector {
    conn: u64,
    kept: Kept,
    found: bool,
    /// The connection closed: the pass can stop.
    pub closed: bool,
}

impl StreamCollector {
    pub fn new(conn: u64) -> Self {
        StreamCollector {
            conn,
            kept: Kept::default(),
            found: false,
            closed: false,
        }
    }

    pub fn conn(&self) -> u64 {
        self.conn
    }

    /// What was kept of the connection.
    pub fn data(&self) -> StreamData {
        StreamData {
            conn: self.conn,
            pieces: self.kept.pieces.clone(),
            cut: self.kept.cut,
            found: self.found,
            error: None,
            decrypted: None,
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
        if ctx.conn != self.conn {
            return;
        }
        self.found = true;
        match chunk {
            Chunk::Data(b) => self.kept.data(ctx.dir, offset, b),
            Chunk::Gap(n, _) => self.kept.gap(ctx.dir, offset, n),
        }
    }

    fn on_close(&mut self, _: &mut (), ctx: &Ctx, _: &mut dyn RecordSink) {
        if ctx.conn == self.conn {
            self.closed = true;
        }
    }

    /// The connection closed: the rest of the capture is not needed.
    fn done(&self) -> bool {
        self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_joins_pieces_and_stops_at_the_cap_per_direction() {
        let mut k = Kept::default();
        k.data(Dir::ClientToServer, 0, b"ab");
        k.data(Dir::ClientToServer, 2, b"cd");
        k.data(Dir::ServerToClient, 0, b"x");
        k.gap(Dir::ClientToServer, 4, 3);
        k.data(Dir::ClientToServer, 7, &vec![0; STREAM_CAP]);
        assert_eq!(k.pieces.len(), 4);
        assert_eq!(
            k.pieces[0],
            Piece::Data {
                dir: Dir::ClientToServer,
                offset: 0,
                bytes: b"abcd".to_vec()
            }
        );
        assert_eq!(k.cut, [4, 0]);
        // Past the cap, gaps are not kept either.
        k.gap(Dir::ClientToServer, STREAM_CAP as u64 + 7, 1);
        assert_eq!(k.pieces.len(), 4);
    }

    #[test]
    fn an_inner_stream_keeps_a_bounded_number_of_message_starts() {
        let mut s = InnerStream::default();
        for i in 0..MAX_STARTS + 3 {
            s.push_start(Start {
                dir: Dir::ClientToServer,
                offset: i as u64,
                wire: 0,
                kind: "request",
                txn: None,
                text: String::new(),
            });
        }
        assert_eq!((s.starts.len(), s.starts_dropped), (MAX_STARTS, 3));
    }
}
