//! The Stream view: one connection's reassembled bytes, both directions, gaps and message
//! boundaries marked; for a connection whose TLS was decrypted, the decrypted application
//! data too; for an HTTP/2 transaction, its stream alone: header blocks decoded, DATA without
//! framing (`d` goes round them).
//!
//! Records do not carry stream bytes, so opening the view reads the capture again for that
//! one connection ([`super::worker::load_stream`]: the pipeline with
//! [`crate::analyzers::pass::StreamPass`] as its analyzer, which keeps the connection's bytes
//! and runs them through the analysis again with the run's key sources, so TLS decrypts them
//! again; both bounded per direction). The result arrives as an event and is turned into
//! lines here, escaped for the terminal.

use crate::analyzers::h2::demux;
use crate::base::sanitize::{terminal_safe, terminal_safe_str};
pub use crate::engine::collect::{InnerStream, Piece, STREAM_CAP, Start, StreamData};
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
    /// The HTTP/2 stream asked for (the view was opened on an HTTP/2 transaction).
    pub h2: Option<H2Pick>,
    /// That stream alone, when HTTP/2 was found in the bytes.
    pub h2_lines: Option<Vec<(LineKind, String)>>,
    /// The HTTP/2 stream's lines are shown.
    pub show_h2: bool,
    pub error: Option<String>,
}

/// An HTTP/2 stream of the connection, and the transaction it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H2Pick {
    pub txn: u64,
    pub stream: u32,
}

/// What the view shows (`d` goes round those there are).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    H2Stream,
    Decrypted,
    Captured,
}

impl StreamView {
    pub fn loading(conn: u64) -> Self {
        StreamView {
            conn: Some(conn),
            loading: true,
            ..StreamView::default()
        }
    }

    /// Loading connection `conn` to show HTTP/2 stream `h2` of it.
    pub fn loading_h2(conn: u64, h2: Option<H2Pick>) -> Self {
        StreamView {
            h2,
            ..StreamView::loading(conn)
        }
    }

    /// What is shown now.
    pub fn showing(&self) -> Shown {
        match (&self.h2_lines, &self.decrypted) {
            (Some(_), _) if self.show_h2 => Shown::H2Stream,
            (_, Some(_)) if self.show_decrypted => Shown::Decrypted,
            _ => Shown::Captured,
        }
    }

    pub fn failed(&self) -> bool {
        self.error.is_some() || self.unavailable.is_some()
    }

    /// The lines shown: the decrypted ones when there are and they are chosen.
    pub fn shown(&self) -> &[(LineKind, String)] {
        match (self.showing(), &self.h2_lines, &self.decrypted) {
            (Shown::H2Stream, Some(h), _) => h,
            (Shown::Decrypted, _, Some(d)) => d,
            _ => &self.lines,
        }
    }

    /// Goes to the next of what there is to show: the HTTP/2 stream, the decrypted data, the
    /// bytes as captured; false when there is only the bytes as captured.
    pub fn toggle(&mut self) -> bool {
        let h2 = self.h2_lines.is_some();
        let dec = self.decrypted.is_some();
        if !h2 && !dec {
            return false;
        }
        let next = match self.showing() {
            Shown::H2Stream if dec => Shown::Decrypted,
            Shown::H2Stream => Shown::Captured,
            Shown::Decrypted => Shown::Captured,
            Shown::Captured if h2 => Shown::H2Stream,
            Shown::Captured => Shown::Decrypted,
        };
        self.show_h2 = next == Shown::H2Stream;
        self.show_decrypted = next == Shown::Decrypted;
        true
    }

    /// Turns the bytes into lines: each direction's runs split at newlines (and every
    /// [`MAX_LINE`] bytes), escaped for the terminal; message starts from the records become
    /// boundary lines. The decrypted data, when there is some, is shown first.
    pub fn set_data(&mut self, data: StreamData, store: &Store) {
        self.loading = false;
        self.lines.clear();
        self.decrypted = None;
        self.h2_lines = None;
        self.show_h2 = false;
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
        if let Some(pick) = self.h2 {
            let pieces = match &data.decrypted {
                Some(inner) => &inner.bytes.pieces,
                None => &data.pieces,
            };
            self.h2_lines = h2_stream_lines(data.conn, pick, pieces, store);
            self.show_h2 = self.h2_lines.is_some();
        }
        if let Some(e) = &data.error {
            let note = (
                LineKind::Note,
                format!("reading stopped early: {}", terminal_safe_str(e)),
            );
            self.lines.push(note.clone());
            for d in [&mut self.decrypted, &mut self.h2_lines]
                .into_iter()
                .flatten()
            {
                d.push(note.clone());
            }
        }
    }
}

/// HTTP/2 stream `pick` of connection `conn` out of its bytes (the decrypted ones for TLS):
/// each header block as its fields, each run of DATA as text like the bytes of a stream, the
/// ends and resets; `None` when the bytes hold no HTTP/2.
fn h2_stream_lines(
    conn: u64,
    pick: H2Pick,
    pieces: &[Piece],
    store: &Store,
) -> Option<Vec<(LineKind, String)>> {
    // After an h2c upgrade the server's frames follow the `101` head the records place.
    let server_start = store.txns_on_conn(conn).find_map(|t| t.h2c_start);
    let d = demux::demux(pieces, pick.stream, server_start);
    if !d.found {
        return None;
    }
    let mut lines = Lines::default();
    let frames = |d: &[(&str, u64)]| {
        d.iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    lines.0.push((
        LineKind::Note,
        format!(
            "HTTP/2 stream {} (transaction #{}): header blocks decoded, DATA without its \
             framing; frames → [{}] ← [{}]; d: the connection's bytes",
            pick.stream,
            pick.txn,
            frames(&d.frames[0]),
            frames(&d.frames[1])
        ),
    ));
    let mut blocks = [0usize; 2];
    let mut final_seen = false;
    let mut data_open: Option<Dir> = None;
    for it in &d.items {
        if !matches!(it, demux::Item::Data { .. }) {
            data_open = None;
        }
        match it {
            demux::Item::Headers {
                dir,
                fields,
                end_stream,
                promise,
                decoded,
            } => {
                let status = fields
                    .iter()
                    .find(|(n, _)| n == b":status")
                    .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<u16>().ok());
                let what = match (dir, promise, status) {
                    (_, Some(by), _) => format!("pushed request (PUSH_PROMISE on stream {by})"),
                    (Dir::ClientToServer, None, _) if blocks[0] == 0 => "request".into(),
                    (Dir::ServerToClient, None, Some(s)) if s < 200 && !final_seen => {
                        "interim response".into()
                    }
                    (Dir::ServerToClient, None, Some(_)) if !final_seen => {
                        final_seen = true;
                        "response".into()
                    }
                    _ => "trailers".into(),
                };
                blocks[dir.index()] += 1;
                let end = if *end_stream { ", END_STREAM" } else { "" };
                lines.0.push((
                    LineKind::Boundary,
                    format!("── {} HEADERS: {what}{end} ──", arrow(*dir)),
                ));
                let kind = side_kind(*dir);
                for (n, v) in fields {
                    lines.0.push((
                        kind,
                        format!("{} {}: {}", arrow(*dir), stream_safe(n), stream_safe(v)),
                    ));
                }
                if !decoded {
                    lines.0.push((
                        LineKind::Note,
                        "(this header block could not be decoded: HPACK had stopped, see the \
                         h2.* findings)"
                            .into(),
                    ));
                }
            }
            demux::Item::Promised { stream } => lines.0.push((
                LineKind::Boundary,
                format!("── ← PUSH_PROMISE: stream {stream} pushed ──"),
            )),
            demux::Item::Data { dir, bytes } => {
                if data_open != Some(*dir) {
                    lines
                        .0
                        .push((LineKind::Boundary, format!("── {} DATA ──", arrow(*dir))));
                    data_open = Some(*dir);
                }
                lines.bytes(*dir, bytes);
            }
            demux::Item::Lost { dir, n } => lines.0.push((
                LineKind::Gap,
                format!("{} [gap: {n} bytes of DATA missing]", arrow(*dir)),
            )),
            demux::Item::End { dir } => lines.0.push((
                LineKind::Boundary,
                format!("── {} END_STREAM ──", arrow(*dir)),
            )),
            demux::Item::Reset { dir, code } => lines.0.push((
                LineKind::Boundary,
                format!(
                    "── {} RST_STREAM {} ({code}) ──",
                    arrow(*dir),
                    demux::error_name(*code)
                ),
            )),
            demux::Item::Goaway {
                dir,
                last_stream,
                code,
            } => lines.0.push((
                LineKind::Note,
                format!(
                    "{} GOAWAY {} ({code}), last stream {last_stream}",
                    arrow(*dir),
                    demux::error_name(*code)
                ),
            )),
        }
    }
    if d.truncated {
        lines.0.push((
            LineKind::Note,
            format!(
                "more of the stream not shown (the first {} items are)",
                demux::MAX_ITEMS
            ),
        ));
    }
    Some(lines.0)
}

fn side_kind(dir: Dir) -> LineKind {
    if dir == Dir::ClientToServer {
        LineKind::Client
    } else {
        LineKind::Server
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
        let kind = side_kind(dir);
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
                .find(|t| t.is_https() && t.index == i)
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
    // The connection's transactions, read back from the spool (where they start).
    for row in store.txns_on_conn(conn) {
        let Ok(full) = store.read_txn(row) else {
            continue;
        };
        let t = &full.rec;
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
                let d = match m.direction {
                    crate::model::websocket::Side::Client => 0,
                    crate::model::websocket::Side::Server => 1,
                };
                out[d].push((
                    m.stream_offset,
                    format!("ws message {} {} {}B", m.index, m.opcode, m.length),
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
