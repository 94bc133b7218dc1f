//! One HTTP/2 stream out of a connection's collected bytes, for the terminal UI's Stream view
//! ([`crate::engine::collect`] keeps a connection's bytes; records carry none): the frame
//! follower runs over them again and what concerns the stream asked for — its header blocks
//! decoded, its DATA bytes without framing or padding, END_STREAM, RST_STREAM, and the
//! connection's GOAWAY — comes out in the order it crossed the wire.
//!
//! Where HTTP/2 starts in each direction: the client's connection preface is searched for in
//! its first [`PREFACE_SEARCH`] bytes (at 0 for prior knowledge and TLS, after the request head
//! for h2c); the server's frames start at its first byte, or where the caller says (after the
//! `101` head of an h2c upgrade, which the records know).
//!
//! Bounded like what it reads: the items hold at most the bytes fed (each direction's
//! collected bytes are bounded by [`crate::engine::collect::STREAM_CAP`]) plus
//! [`MAX_ITEMS`] items; past that it stops and says so in [`Demuxed::truncated`].

pub use super::fields::error_name;

use super::event::{BlockStart, Events};
use super::frame::PREFACE;
use super::{H2Conn, frame_type_name};
use crate::engine::collect::Piece;
use crate::model::Dir;

/// Client bytes searched for the connection preface.
pub const PREFACE_SEARCH: usize = 64 * 1024;
/// Items kept for the stream.
pub const MAX_ITEMS: usize = 20_000;

/// What crossed the wire for the stream, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A header block: the client's request or trailers, the server's interim, final
    /// response or trailers, or a PUSH_PROMISE's request for the pushed stream (`promise`:
    /// the stream whose PUSH_PROMISE carried it). `decoded` is false when HPACK could not
    /// decode it (the fields then are not all of it).
    Headers {
        dir: Dir,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
        end_stream: bool,
        promise: Option<u32>,
        decoded: bool,
    },
    /// This stream's PUSH_PROMISE of another stream.
    Promised {
        stream: u32,
    },
    /// DATA payload bytes, consecutive ones of a direction joined.
    Data {
        dir: Dir,
        bytes: Vec<u8>,
    },
    /// DATA payload bytes the capture lost.
    Lost {
        dir: Dir,
        n: u64,
    },
    /// END_STREAM on a DATA frame (a HEADERS frame's is on its block).
    End {
        dir: Dir,
    },
    Reset {
        dir: Dir,
        code: u32,
    },
    /// The connection's GOAWAY (it concerns every stream).
    Goaway {
        dir: Dir,
        last_stream: u32,
        code: u32,
    },
}

/// The stream's items, and the frames seen on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Demuxed {
    pub items: Vec<Item>,
    /// Frames on the stream by type name, per direction (client, server).
    pub frames: [Vec<(&'static str, u64)>; 2],
    /// HTTP/2 was found: the client's preface, or server frames where the caller said.
    pub found: bool,
    /// [`MAX_ITEMS`] were reached: later ones are not shown.
    pub truncated: bool,
}

struct Collector {
    want: u32,
    out: Demuxed,
    /// A block of the stream being decoded, per direction.
    open: [bool; 2],
}

impl Collector {
    fn push(&mut self, it: Item) {
        if self.out.items.len() < MAX_ITEMS {
            self.out.items.push(it);
        } else {
            self.out.truncated = true;
        }
    }
}

impl Events for Collector {
    fn frame(&mut self, dir: usize, h: &super::FrameInfo) {
        if h.stream_id != self.want {
            return;
        }
        let name = frame_type_name(h.frame_type);
        let counts = &mut self.out.frames[dir.min(1)];
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }

    fn block_start(&mut self, dir: usize, b: &BlockStart) {
        let d = dir.min(1);
        self.open[d] = false;
        if b.promised == Some(self.want) {
            self.open[d] = true;
            self.push(Item::Headers {
                dir: Dir::from_index(d),
                fields: Vec::new(),
                end_stream: false,
                promise: Some(b.stream),
                decoded: true,
            });
        } else if b.stream == self.want {
            match b.promised {
                Some(stream) => self.push(Item::Promised { stream }),
                None => {
                    self.open[d] = true;
                    self.push(Item::Headers {
                        dir: Dir::from_index(d),
                        fields: Vec::new(),
                        end_stream: b.end_stream,
                        promise: None,
                        decoded: true,
                    });
                }
            }
        }
    }

    fn field(&mut self, dir: usize, name: &[u8], value: &[u8]) {
        if !self.open[dir.min(1)] {
            return;
        }
        if let Some(Item::Headers { fields, .. }) = self.out.items.last_mut() {
            fields.push((name.to_vec(), value.to_vec()));
        }
    }

    fn block_end(&mut self, dir: usize, ok: bool) {
        if std::mem::take(&mut self.open[dir.min(1)])
            && let Some(Item::Headers { decoded, .. }) = self.out.items.last_mut()
        {
            *decoded = ok;
        }
    }

    fn data(&mut self, dir: usize, stream: u32, bytes: &[u8]) {
        if stream != self.want {
            return;
        }
        let d = Dir::from_index(dir.min(1));
        if let Some(Item::Data {
            dir: last,
            bytes: b,
        }) = self.out.items.last_mut()
            && *last == d
        {
            b.extend_from_slice(bytes);
            return;
        }
        self.push(Item::Data {
            dir: d,
            bytes: bytes.to_vec(),
        });
    }

    fn data_lost(&mut self, dir: usize, stream: u32, n: u64) {
        if stream == self.want {
            let dir = Dir::from_index(dir.min(1));
            self.push(Item::Lost { dir, n });
        }
    }

    fn data_end(&mut self, dir: usize, stream: u32, _wire: u64, end_stream: bool) {
        if stream == self.want && end_stream {
            let dir = Dir::from_index(dir.min(1));
            self.push(Item::End { dir });
        }
    }

    fn reset(&mut self, dir: usize, stream: u32, code: u32) {
        if stream == self.want {
            let dir = Dir::from_index(dir.min(1));
            self.push(Item::Reset { dir, code });
        }
    }

    fn goaway(&mut self, dir: usize, last_stream: u32, code: u32) {
        let dir = Dir::from_index(dir.min(1));
        self.push(Item::Goaway {
            dir,
            last_stream,
            code,
        });
    }
}

/// Where the client's HTTP/2 begins: the stream offset of its connection preface in its first
/// contiguous bytes (at most [`PREFACE_SEARCH`] of them, across pieces: after an h2c request
/// the preface comes in a later piece than the head).
fn preface_at(pieces: &[Piece]) -> Option<u64> {
    let mut first: Option<u64> = None;
    let mut hay: Vec<u8> = Vec::new();
    for p in pieces {
        match p {
            Piece::Data {
                dir: Dir::ClientToServer,
                offset,
                bytes,
            } => {
                let start = *first.get_or_insert(*offset);
                if start + hay.len() as u64 != *offset {
                    break;
                }
                let room = PREFACE_SEARCH.saturating_sub(hay.len());
                hay.extend_from_slice(bytes.get(..room).unwrap_or(bytes));
                if hay.len() >= PREFACE_SEARCH {
                    break;
                }
            }
            Piece::Gap {
                dir: Dir::ClientToServer,
                ..
            } => break,
            _ => {}
        }
    }
    let i = hay.windows(PREFACE.len()).position(|w| w == PREFACE)?;
    Some(first? + i as u64)
}

/// Stream `want` of the HTTP/2 connection in `pieces` (both directions, in the order they
/// were delivered). `server_start`: the stream offset of the server's first frame when it is
/// not its first byte (h2c: after the `101` head).
pub fn demux(pieces: &[Piece], want: u32, server_start: Option<u64>) -> Demuxed {
    let mut c = Collector {
        want,
        out: Demuxed::default(),
        open: [false, false],
    };
    let Some(client_start) = preface_at(pieces) else {
        return c.out;
    };
    c.out.found = true;
    let mut conn = H2Conn::new();
    let start = [Some(client_start), server_start];
    // Each direction is fed from its start on; the server's first byte when none was given.
    let mut from: [Option<u64>; 2] = start;
    for p in pieces {
        if c.out.truncated {
            break;
        }
        match p {
            Piece::Data { dir, offset, bytes } => {
                let d = dir.index();
                let at = *from[d].get_or_insert(*offset);
                let end = offset + bytes.len() as u64;
                if end <= at {
                    continue;
                }
                let skip = at.saturating_sub(*offset) as usize;
                conn.feed_with(d, bytes.get(skip..).unwrap_or_default(), &mut c);
            }
            Piece::Gap { dir, offset, len } => {
                let d = dir.index();
                if from[d].is_some_and(|at| *offset >= at) {
                    conn.gap_with(d, *len, &mut c);
                }
            }
        }
    }
    c.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let n = payload.len() as u32;
        let mut f = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, t, flags];
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn data(dir: Dir, offset: u64, bytes: Vec<u8>) -> Piece {
        Piece::Data { dir, offset, bytes }
    }

    /// Two streams interleaved: stream 3's request, response and body come out alone and in
    /// order, stream 1's not at all; the GOAWAY concerns every stream.
    #[test]
    fn one_stream_out_of_interleaved_ones() {
        let mut client = PREFACE.to_vec();
        client.extend(frame(4, 0, 0, &[]));
        // HEADERS, END_HEADERS|END_STREAM: :method GET (static 2), :path / (static 4),
        // :scheme http (6); stream 1 and stream 3.
        client.extend(frame(1, 0x5, 1, &[0x82, 0x84, 0x86]));
        client.extend(frame(1, 0x5, 3, &[0x82, 0x84, 0x86]));
        let mut server = frame(4, 0, 0, &[]);
        // :status 200 (static 8), then DATA on 1 and 3, END_STREAM on 3's second DATA.
        server.extend(frame(1, 0x4, 3, &[0x88]));
        server.extend(frame(0, 0, 1, b"one"));
        server.extend(frame(0, 0, 3, b"thr"));
        server.extend(frame(0, 1, 3, b"ee"));
        server.extend(frame(7, 0, 0, &[0, 0, 0, 3, 0, 0, 0, 0]));
        let cut = server.len() / 2;
        let pieces = vec![
            data(Dir::ClientToServer, 0, client),
            data(Dir::ServerToClient, 0, server[..cut].to_vec()),
            data(Dir::ServerToClient, cut as u64, server[cut..].to_vec()),
        ];
        let d = demux(&pieces, 3, None);
        assert!(d.found && !d.truncated);
        let kinds: Vec<String> = d
            .items
            .iter()
            .map(|i| match i {
                Item::Headers { dir, fields, .. } => format!(
                    "{dir:?} {}",
                    fields
                        .iter()
                        .map(|(n, v)| format!(
                            "{}={}",
                            String::from_utf8_lossy(n),
                            String::from_utf8_lossy(v)
                        ))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                Item::Data { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "ClientToServer :method=GET,:path=/,:scheme=http",
                "ServerToClient :status=200",
                "three",
                "End { dir: ServerToClient }",
                "Goaway { dir: ServerToClient, last_stream: 3, code: 0 }",
            ]
        );
        assert_eq!(d.frames[0], [("HEADERS", 1)]);
        assert_eq!(d.frames[1], [("HEADERS", 1), ("DATA", 2)]);
    }

    /// h2c: the client's preface follows its request head, the server's frames its `101`
    /// head; bytes before them are not frames.
    #[test]
    fn h2c_starts_after_the_upgrade() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n".to_vec();
        let mut client = head.clone();
        client.extend_from_slice(PREFACE);
        client.extend(frame(4, 0, 0, &[]));
        let resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n".to_vec();
        let mut server = resp.clone();
        server.extend(frame(4, 0, 0, &[]));
        server.extend(frame(1, 0x4, 1, &[0x88]));
        server.extend(frame(0, 1, 1, b"hi"));
        // The head, the server's answer, then the preface in a piece of its own.
        let (head_part, rest) = client.split_at(head.len());
        let pieces = vec![
            data(Dir::ClientToServer, 0, head_part.to_vec()),
            data(Dir::ServerToClient, 0, server),
            data(Dir::ClientToServer, head.len() as u64, rest.to_vec()),
        ];
        let d = demux(&pieces, 1, Some(resp.len() as u64));
        assert!(d.found);
        assert!(matches!(&d.items[1], Item::Data { bytes, .. } if bytes == b"hi"));
        assert_eq!(d.items.len(), 3, "{:?}", d.items);
        // Without the server's start its head is read as frames: nothing sensible comes out.
        let wrong = demux(&pieces, 1, None);
        assert!(wrong.items.is_empty(), "{:?}", wrong.items);
    }

    #[test]
    fn no_preface_no_http2() {
        let pieces = vec![data(
            Dir::ClientToServer,
            0,
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        )];
        let d = demux(&pieces, 1, None);
        assert!(!d.found && d.items.is_empty());
    }
}
