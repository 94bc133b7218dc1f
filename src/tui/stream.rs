//! The Stream view: one connection's reassembled bytes, both directions, gaps and message
//! boundaries marked; for a connection whose TLS was decrypted, the decrypted application
//! data too (`d` switches between the two).
//!
//! Records do not carry stream bytes, so opening the view reads the capture again for that
//! one connection ([`super::worker::load_stream`]: the pipeline with
//! [`crate::analyzers::pass::StreamPass`] as its analyzer, which keeps the connection's bytes
//! and runs them through the analysis again with the run's key sources, so TLS decrypts them
//! again; both bounded per direction). The result arrives as an event and is turned into
//! lines here, escaped for the terminal.

use crate::base::sanitize::{terminal_safe, terminal_safe_str};
pub use crate::engine::collect::{InnerStream, Piece, STREAM_CAP, Start, StreamData};
use crate::model::http::Scheme;
use crate::model::{Dir, codes};

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
    /// The bytes as captured (TCP payload: for TLS, its records).
    pub lines: Vec<(LineKind, String)>,
    /// What TLS decrypted, when the pass decrypted the connection.
    pub decrypted: Option<Vec<(LineKind, String)>>,
    /// The decrypted lines are shown (`d` switches).
    pub show_decrypted: bool,
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

    /// The lines shown: the decrypted ones when there are and they are chosen.
    pub fn shown(&self) -> &[(LineKind, String)] {
        match &self.decrypted {
            Some(d) if self.show_decrypted => d,
            _ => &self.lines,
        }
    }

    /// Switches between the decrypted data and the bytes as captured; false when there is
    /// nothing decrypted to switch to.
    pub fn toggle(&mut self) -> bool {
        if self.decrypted.is_none() {
            return false;
        }
        self.show_decrypted = !self.show_decrypted;
        true
    }

    /// Turns the bytes into lines: each direction's runs split at newlines (and every
    /// [`MAX_LINE`] bytes), escaped for the terminal; message starts from the records become
    /// boundary lines. The decrypted data, when there is some, is shown first.
    pub fn set_data(&mut self, data: StreamData, store: &Store) {
        self.loading = false;
        self.lines.clear();
        self.decrypted = None;
        self.error = data.error.clone();
        if !data.found {
            self.lines.push((
                LineKind::Note,
                format!("connection {} carried no payload in the capture", data.conn),
            ));
            return;
        }
        let tls = store.tls_of_conn(data.conn);
        if let Some(t) = tls {
            let what = match (&data.decrypted, t.decrypted, t.not_decrypted.as_deref()) {
                (Some(_), _, _) => {
                    "TLS records as captured (encrypted); d: the decrypted data".into()
                }
                (None, true, _) => "TLS records as captured (encrypted): this pass decrypted \
                                    nothing (the key log changed since?)"
                    .to_string(),
                (None, false, Some(why)) => format!(
                    "TLS records as captured (encrypted): not decrypted, {}",
                    terminal_safe_str(why)
                ),
                (None, false, None) => "TLS records as captured (encrypted)".into(),
            };
            self.lines.push((LineKind::Note, what));
        }
        let bounds = boundaries(data.conn, store);
        let mut lines = Lines::default();
        lines.pieces(&data.pieces, &bounds);
        lines.cut(&data.cut);
        self.lines.append(&mut lines.0);
        if let Some(inner) = &data.decrypted {
            let mut lines = Lines::default();
            let what = match tls {
                Some(t) => format!(
                    "decrypted TLS application data ({} {}, keys from {}); offsets are the \
                     decrypted stream's; d: the TLS records as captured",
                    terminal_safe_str(t.version.as_deref().unwrap_or("TLS")),
                    terminal_safe_str(t.cipher_suite.as_deref().unwrap_or("")),
                    terminal_safe_str(t.key_source.as_deref().unwrap_or("?"))
                ),
                None => "decrypted TLS application data; offsets are the decrypted stream's; \
                         d: the TLS records as captured"
                    .into(),
            };
            lines.0.push((LineKind::Note, what));
            let bounds = inner_boundaries(data.conn, inner, store);
            lines.pieces(&inner.bytes.pieces, &bounds);
            lines.cut(&inner.bytes.cut);
            // Where a direction's decryption stopped, and why (its finding).
            for f in store.findings_of_conn(data.conn).filter(|f| {
                [&codes::TLS_GAP_ENDS_DECRYPTION, &codes::TLS_DECRYPT_FAILED]
                    .iter()
                    .any(|c| c.name == f.code.name)
            }) {
                lines.0.push((
                    LineKind::Note,
                    format!(
                        "{} decryption stopped: {}: {}",
                        f.direction.map_or("", arrow),
                        f.code.name,
                        terminal_safe_str(&f.message)
                    ),
                ));
            }
            if inner.starts_dropped > 0 {
                lines.0.push((
                    LineKind::Note,
                    format!(
                        "{} more message starts not marked (the first {} are)",
                        inner.starts_dropped,
                        inner.starts.len()
                    ),
                ));
            }
            self.decrypted = Some(lines.0);
            self.show_decrypted = true;
        }
        if let Some(e) = &data.error {
            let note = (
                LineKind::Note,
                format!("reading stopped early: {}", terminal_safe_str(e)),
            );
            self.lines.push(note.clone());
            if let Some(d) = &mut self.decrypted {
                d.push(note);
            }
        }
    }
}

/// Lines being built from pieces of a stream.
#[derive(Default)]
struct Lines(Vec<(LineKind, String)>);

impl Lines {
    /// The pieces, with a boundary line where a message starts (`bounds`: per direction,
    /// offset and label).
    fn pieces(&mut self, pieces: &[Piece], bounds: &[Vec<(u64, String)>; 2]) {
        for p in pieces {
            match p {
                Piece::Gap { dir, offset, len } => self.0.push((
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
                        let (from, to) = ((at - offset) as usize, (o - offset) as usize);
                        self.bytes(*dir, bytes.get(from..to).unwrap_or_default());
                        self.0.push((LineKind::Boundary, format!("── {label} ──")));
                        at = o;
                    }
                    let from = (at - offset) as usize;
                    self.bytes(*dir, bytes.get(from..).unwrap_or_default());
                }
            }
        }
    }

    /// The note for bytes not kept.
    fn cut(&mut self, cut: &[u64; 2]) {
        for (d, n) in cut.iter().enumerate() {
            if *n > 0 {
                let dir = Dir::from_index(d);
                self.0.push((
                    LineKind::Note,
                    format!(
                        "{} {n} more bytes not shown (the first {} MiB per direction are kept)",
                        arrow(dir),
                        STREAM_CAP >> 20
                    ),
                ));
            }
        }
    }

    fn bytes(&mut self, dir: Dir, b: &[u8]) {
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
                self.0.push((kind, format!("{} {shown}", arrow(dir))));
            }
        }
    }
}

/// Where messages start in a connection's decrypted stream: what the pass's analysis found,
/// labelled like the records (a transaction by its id in the store, found by its position
/// on the connection; the TLS record's stream offset, which the records report, with it).
fn inner_boundaries(conn: u64, inner: &InnerStream, store: &Store) -> [Vec<(u64, String)>; 2] {
    let mut out: [Vec<(u64, String)>; 2] = [Vec::new(), Vec::new()];
    for s in &inner.starts {
        let id = s.txn.and_then(|i| {
            store
                .txns_on_conn(conn)
                .find(|t| t.scheme == Scheme::Https && t.index == i)
                .map(|t| t.id)
        });
        let text = terminal_safe_str(&s.text);
        let label = match (s.kind, id) {
            ("interim", Some(id)) => format!("interim {text} of #{id}"),
            (k, Some(id)) => format!("{k} #{id} {text}"),
            (k, None) => format!("{k} {text}"),
        };
        out[s.dir.index()].push((s.offset, format!("{label} (TLS record at {})", s.wire)));
    }
    out
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
