//! The Stream view: one connection's reassembled bytes, both directions, gaps and message
//! boundaries marked.
//!
//! Records do not carry stream bytes, so opening the view reads the capture again for that
//! one connection ([`super::worker::load_stream`]: the pipeline with the engine's
//! [`StreamCollector`] as its analyzer, bounded per direction). The result arrives as an event
//! and is turned into lines here, escaped for the terminal.

use crate::base::sanitize::terminal_safe;
pub use crate::engine::collect::{Piece, STREAM_CAP, StreamCollector, StreamData};
use crate::model::Dir;

use super::store::Store;

/// Longest line shown before it is cut into pieces (binary data has few newlines).
const MAX_LINE: usize = 160;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Client,
    Server,
    Gap,
    Boundary,
    Note,
}

/// What the Stream view shows.
#[derive(Clone, Debug, Default)]
pub struct StreamView {
    pub conn: Option<u64>,
    pub loading: bool,
    pub fraction: f64,
    pub unavailable: Option<String>,
    pub lines: Vec<(LineKind, String)>,
    pub error: Option<String>,
}

impl StreamView {
    pub fn loading(conn: u64) -> Self {
        StreamView {
            conn: Some(conn),
            loading: true,
            ..StreamView::default()
        }
    }

    pub fn failed(&self) -> bool {
        self.error.is_some() || self.unavailable.is_some()
    }

    /// Turns the bytes into lines: each direction's runs split at newlines (and every
    /// [`MAX_LINE`] bytes), escaped for the terminal; message starts from the records become
    /// boundary lines.
    pub fn set_data(&mut self, data: StreamData, store: &Store) {
        self.loading = false;
        self.lines.clear();
        self.error = data.error.clone();
        if !data.found {
            self.lines.push((
                LineKind::Note,
                format!("connection {} carried no payload in the capture", data.conn),
            ));
            return;
        }
        let bounds = boundaries(data.conn, store);
        for p in &data.pieces {
            match p {
                Piece::Gap { dir, offset, len } => self.lines.push((
                    LineKind::Gap,
                    format!(
                        "{} [gap: {len} bytes missing at offset {offset}]",
                        arrow(*dir)
                    ),
                )),
                Piece::Data { dir, offset, bytes } => {
                    let end = offset + bytes.len() as u64;
                    let mut cuts: Vec<(u64, &str)> = bounds[dir.index()]
                        .iter()
                        .filter(|(o, _)| *o >= *offset && *o < end)
                        .map(|(o, l)| (*o, l.as_str()))
                        .collect();
                    cuts.sort_by_key(|c| c.0);
                    let mut at = *offset;
                    for (o, label) in cuts {
                        self.push_bytes(
                            *dir,
                            &bytes[(at - offset) as usize..(o - offset) as usize],
                        );
                        self.lines
                            .push((LineKind::Boundary, format!("── {label} ──")));
                        at = o;
                    }
                    self.push_bytes(*dir, &bytes[(at - offset) as usize..]);
                }
            }
        }
        for (d, n) in data.cut.iter().enumerate() {
            if *n > 0 {
                let dir = Dir::from_index(d);
                self.lines.push((
                    LineKind::Note,
                    format!(
                        "{} {n} more bytes not shown (the first {} MiB per direction are kept)",
                        arrow(dir),
                        STREAM_CAP >> 20
                    ),
                ));
            }
        }
        if let Some(e) = &data.error {
            self.lines
                .push((LineKind::Note, format!("reading stopped early: {e}")));
        }
    }

    fn push_bytes(&mut self, dir: Dir, b: &[u8]) {
        if b.is_empty() {
            return;
        }
        let kind = if dir == Dir::ClientToServer {
            LineKind::Client
        } else {
            LineKind::Server
        };
        for line in b.split_inclusive(|c| *c == b'\n') {
            for piece in line.chunks(MAX_LINE) {
                let shown = stream_safe(piece);
                self.lines.push((kind, format!("{} {shown}", arrow(dir))));
            }
        }
    }
}

fn arrow(d: Dir) -> &'static str {
    match d {
        Dir::ClientToServer => "→",
        Dir::ServerToClient => "←",
    }
}

/// Where messages start on a connection, per direction, from the records.
fn boundaries(conn: u64, store: &Store) -> [Vec<(u64, String)>; 2] {
    let mut out: [Vec<(u64, String)>; 2] = [Vec::new(), Vec::new()];
    for (_, row) in store.txns.iter() {
        let t = &row.rec;
        if t.connection != conn {
            continue;
        }
        if let Some(r) = &t.request {
            out[0].push((
                r.at.stream_offset,
                terminal_safe(format!("request #{} {} {}", t.id, r.method, r.target).as_bytes()),
            ));
        }
        for i in &t.interim {
            out[1].push((
                i.at.stream_offset,
                format!("interim {} of #{}", i.status, t.id),
            ));
        }
        if let Some(r) = &t.response {
            out[1].push((
                r.at.stream_offset,
                terminal_safe(format!("response #{} {} {}", t.id, r.status, r.reason).as_bytes()),
            ));
        }
    }
    if let Some(ws) = store.ws_on_conn(conn)
        && let Some(c) = store.conv_row_of(ws).and_then(|r| store.convs.get(r))
    {
        for id in &c.msgs {
            if let Some(m) = store.msgs.get(*id) {
                let d = match m.rec.direction {
                    crate::model::websocket::Side::Client => 0,
                    crate::model::websocket::Side::Server => 1,
                };
                out[d].push((
                    m.rec.stream_offset,
                    format!(
                        "ws message {} {} {}B",
                        m.rec.index, m.rec.opcode, m.rec.length
                    ),
                ));
            }
        }
    }
    out
}

/// Escaped for the terminal like every wire string, and zero-width characters (combining
/// marks, joiners) escaped too: in binary data they are noise that would merge into the
/// neighbouring characters.
fn stream_safe(b: &[u8]) -> String {
    use std::fmt::Write;
    use unicode_width::UnicodeWidthChar;
    let safe = terminal_safe(b);
    if safe.is_ascii() {
        return safe;
    }
    let mut out = String::with_capacity(safe.len());
    for c in safe.chars() {
        if c.width() == Some(0) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_bytes_are_escaped_and_zero_width_characters_shown() {
        assert_eq!(stream_safe(b"\x81&h\xc3\xa9llo"), "\\x81&h\u{e9}llo");
        assert_eq!(
            stream_safe("e\u{301}\u{200d}x".as_bytes()),
            r"e\u{301}\u{200d}x"
        );
        assert_eq!(stream_safe("日本".as_bytes()), "日本");
    }
}
