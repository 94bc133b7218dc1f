//! The UI state and its pure update function.
//!
//! Everything the UI thread knows lives in [`App`]; every input (keys, mouse, record batches
//! from the analysis, progress, timer ticks) arrives as one [`Event`], and [`App::update`]
//! turns it into new state plus an [`Action`] for the event loop to carry out (quit, load a
//! stream, save the capture). `update` does no I/O and reads no clock, so tests drive it with
//! scripted events.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::filter::{Filter, Scratch};
pub use super::list::ListState;
use super::rows::{self, ListKind};
use super::store::Store;
use super::stream::{H2Pick, Shown, StreamData, StreamView};
use super::theme::Theme;
use super::views;
use crate::model::codes::Area;
use crate::model::{CaptureSummary, Progress, Record};

/// Lists longer than this are filtered when Enter is pressed, not on every key.
const LIVE_FILTER_ROWS: usize = 20_000;

/// The analysis ended.
#[derive(Clone, Debug)]
pub struct Done {
    pub summary: Box<CaptureSummary>,
    /// Why reading stopped early, if it did.
    pub error: Option<String>,
}

/// Everything the UI thread reacts to.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// About once a second; carries the process's resident memory when known.
    Tick {
        rss: Option<u64>,
    },
    Records(Vec<Record>),
    Progress(Progress),
    Done(Done),
    /// A connection's reassembled bytes (the Stream view asked for them).
    Stream(Box<StreamData>),
    /// How far the stream pass has read (0..=1).
    StreamProgress {
        conn: u64,
        fraction: f64,
    },
    /// `w` finished: the file written, or why not.
    Saved(Result<String, String>),
    /// SIGINT from outside the terminal (the terminal itself sends Ctrl-C as a key).
    Interrupt,
    /// A background thread failed.
    Failed(String),
}

/// What the event loop should do after an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    /// Read connection `conn`'s bytes again from the capture.
    LoadStream(u64),
    /// Save what was captured so far (live).
    Save,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Transactions,
    WebSocket,
    Connections,
    Hops,
    Findings,
    Stream,
}

pub const VIEWS: [View; 6] = [
    View::Transactions,
    View::WebSocket,
    View::Connections,
    View::Hops,
    View::Findings,
    View::Stream,
];

impl View {
    pub fn title(self) -> &'static str {
        match self {
            View::Transactions => "Transactions",
            View::WebSocket => "WebSocket",
            View::Connections => "Connections",
            View::Hops => "Proxy hops",
            View::Findings => "Findings",
            View::Stream => "Stream",
        }
    }
    fn index(self) -> usize {
        VIEWS.iter().position(|v| *v == self).unwrap_or(0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    List,
    Detail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Search,
}

/// The `/` line being edited.
#[derive(Clone, Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    pub error: Option<String>,
    /// The filter before editing, restored by Esc.
    before: String,
}

/// The detail pane's scroll position and search.
#[derive(Clone, Debug, Default)]
pub struct DetailState {
    pub scroll: usize,
    /// Lowercase search text (empty: none).
    pub search: String,
    /// The line of the current match.
    pub hit: Option<usize>,
    /// What the pane showed last, to reset the scroll when the selection changes.
    key: Option<(View, Option<ListKind>, Option<u64>)>,
}

/// What is being read: a file or a live interface.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub live: bool,
}

/// The UI's whole state.
pub struct App {
    pub store: Store,
    pub view: View,
    pub txns: ListState,
    pub convs: ListState,
    /// The messages of the conversation opened with Enter.
    pub msgs: Option<ListState>,
    pub conns: ListState,
    pub findings: ListState,
    pub hops: ListState,
    pub focus: Focus,
    pub prompt: Option<Prompt>,
    pub detail: DetailState,
    pub stream: StreamView,
    pub source: Source,
    pub progress: Progress,
    pub done: Option<Done>,
    pub failed: Option<String>,
    /// Live: the lists do not change while paused (records are still taken in).
    pub paused: bool,
    /// Records that arrived while paused.
    pub held: u64,
    pub help: bool,
    pub help_scroll: usize,
    /// A one-line message in the status bar until the next key.
    pub note: Option<String>,
    pub size: (u16, u16),
    pub rss: Option<u64>,
    pub theme: Theme,
    /// Live: the last file `w` wrote (the Stream view reads it).
    pub saved: Option<String>,
    pub saving: bool,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// The spool's failure was said in the status bar.
    spool_noted: bool,
    scratch: Scratch,
}

impl App {
    pub fn new(source: Source, store: Store, theme: Theme, size: (u16, u16)) -> App {
        let mut findings = ListState::new(ListKind::Findings);
        findings.sort = 0;
        App {
            store,
            view: View::Transactions,
            txns: ListState::new(ListKind::Txns),
            convs: ListState::new(ListKind::Convs),
            msgs: None,
            conns: ListState::new(ListKind::Conns),
            findings,
            hops: ListState::new(ListKind::Hops),
            focus: Focus::List,
            prompt: None,
            detail: DetailState::default(),
            stream: StreamView::default(),
            source,
            progress: Progress::default(),
            done: None,
            failed: None,
            paused: false,
            held: 0,
            help: false,
            help_scroll: 0,
            note: None,
            size,
            rss: None,
            theme,
            saved: None,
            saving: false,
            dirty: true,
            spool_noted: false,
            scratch: Scratch::default(),
        }
    }

    /// `open --filter EXPR`: the transactions list starts filtered by it (checked before).
    pub fn start_filter(&mut self, text: &str) {
        let _ = self.txns.set_filter(text, &self.store, &mut self.scratch);
    }

    /// The list the current view shows, if it has one.
    pub fn list(&self) -> Option<&ListState> {
        match self.view {
            View::Transactions => Some(&self.txns),
            View::WebSocket => Some(self.msgs.as_ref().unwrap_or(&self.convs)),
            View::Connections => Some(&self.conns),
            View::Hops => Some(&self.hops),
            View::Findings => Some(&self.findings),
            View::Stream => None,
        }
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        match self.view {
            View::Transactions => Some(&mut self.txns),
            View::WebSocket => Some(match &mut self.msgs {
                Some(m) => m,
                None => &mut self.convs,
            }),
            View::Connections => Some(&mut self.conns),
            View::Hops => Some(&mut self.hops),
            View::Findings => Some(&mut self.findings),
            View::Stream => None,
        }
    }

    /// Rows of the list that fit on the screen.
    pub fn list_height(&self) -> usize {
        let a = views::areas(self);
        usize::from(a.list.height.saturating_sub(2)).max(1)
    }

    /// Lines of the detail pane that fit on the screen.
    pub fn detail_height(&self) -> usize {
        let a = views::areas(self);
        let d = if self.view == View::Stream {
            a.stream
        } else {
            a.detail
        };
        usize::from(d.height.saturating_sub(1)).max(1)
    }

    /// The event loop's single entry point.
    pub fn update(&mut self, ev: Event) -> Action {
        let action = match ev {
            Event::Key(k) => {
                if k.kind == KeyEventKind::Release {
                    return Action::None;
                }
                self.dirty = true;
                self.key(k)
            }
            Event::Mouse(m) => self.mouse(m),
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.dirty = true;
                Action::None
            }
            Event::Tick { rss } => {
                if rss != self.rss {
                    self.rss = rss;
                    self.dirty = true;
                }
                if self.source.live {
                    self.dirty = true;
                }
                Action::None
            }
            Event::Records(batch) => {
                let n = batch.len() as u64;
                for r in batch {
                    self.store.push(r);
                }
                if !self.spool_noted
                    && let Some(e) = &self.store.spool.error
                {
                    self.spool_noted = true;
                    self.note = Some(format!(
                        "{e}; the rows stay, the details of new ones are not kept"
                    ));
                }
                if self.paused {
                    self.held += n;
                } else {
                    self.sync_lists();
                }
                self.dirty = true;
                Action::None
            }
            Event::Progress(p) => {
                self.progress = p;
                self.dirty = true;
                Action::None
            }
            Event::Done(d) => {
                // Several inputs: the clocks the run placed (`proxy-pairs`) are known now
                // (a live capture's interfaces share one clock: its name stays).
                if d.summary.files.len() > 1 && !self.source.live {
                    self.source.name = super::files_label(&d.summary.files);
                }
                self.done = Some(d);
                self.dirty = true;
                Action::None
            }
            Event::Stream(data) => {
                if self.stream.conn == Some(data.conn) {
                    self.stream.set_data(*data, &self.store);
                    self.dirty = true;
                }
                Action::None
            }
            Event::StreamProgress { conn, fraction } => {
                if self.stream.conn == Some(conn) {
                    self.stream.fraction = fraction;
                    self.dirty = true;
                }
                Action::None
            }
            Event::Saved(r) => {
                self.saving = false;
                match r {
                    Ok(p) => {
                        self.note = Some(format!("saved the capture so far to {p}"));
                        self.saved = Some(p);
                    }
                    Err(e) => self.note = Some(format!("could not save: {e}")),
                }
                self.dirty = true;
                Action::None
            }
            Event::Interrupt => Action::Quit,
            Event::Failed(e) => {
                self.failed = Some(e);
                self.dirty = true;
                Action::None
            }
        };
        self.after_update();
        action
    }

    fn after_update(&mut self) {
        let h = self.list_height();
        if let Some(l) = self.list_mut() {
            l.ensure_visible(h);
        }
        let key = (
            self.view,
            self.list().map(|l| l.kind),
            self.list().and_then(|l| l.selected()),
        );
        if self.detail.key != Some(key) {
            self.detail.key = Some(key);
            self.detail.scroll = 0;
            self.detail.hit = None;
        }
    }

    fn sync_lists(&mut self) {
        let store = &self.store;
        let sc = &mut self.scratch;
        self.txns.sync(store, sc);
        // Conversations sort by their record's contents except in the default order.
        if store.convs_changed && self.convs.sort != 0 {
            self.convs.rebuild(store, sc);
        } else {
            self.convs.sync(store, sc);
        }
        if let Some(m) = &mut self.msgs {
            m.sync(store, sc);
        }
        self.conns.sync(store, sc);
        self.findings.sync(store, sc);
        self.hops.sync(store, sc);
        self.store.convs_changed = false;
    }

    fn key(&mut self, k: KeyEvent) -> Action {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(k.code, KeyCode::Char('c') | KeyCode::Char('q')) {
            return Action::Quit;
        }
        self.note = None;
        if self.prompt.is_some() {
            self.prompt_key(k);
            return Action::None;
        }
        if self.help {
            match k.code {
                KeyCode::Down | KeyCode::Char('j') => self.help_scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => {
                    self.help_scroll = self.help_scroll.saturating_sub(1)
                }
                KeyCode::PageDown | KeyCode::Char(' ') => self.help_scroll += 10,
                KeyCode::PageUp => self.help_scroll = self.help_scroll.saturating_sub(10),
                _ => {
                    self.help = false;
                    self.help_scroll = 0;
                }
            }
            return Action::None;
        }
        // Keys that mean the same everywhere.
        match k.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Char('?') | KeyCode::F(1) => {
                self.help = true;
                return Action::None;
            }
            KeyCode::Tab => return self.switch(VIEWS[(self.view.index() + 1) % VIEWS.len()]),
            KeyCode::BackTab => {
                return self.switch(VIEWS[(self.view.index() + VIEWS.len() - 1) % VIEWS.len()]);
            }
            KeyCode::Char(c @ '1'..='6') => {
                return self.switch(VIEWS[usize::from(c as u8 - b'1')]);
            }
            KeyCode::Char('f') if self.focus == Focus::List => return self.switch(View::Findings),
            KeyCode::Char('p') => {
                self.paused = !self.paused;
                if !self.paused {
                    self.held = 0;
                    self.sync_lists();
                }
                self.note = Some(if self.paused {
                    "paused: the lists stay as they are (records are still taken in); p resumes"
                        .into()
                } else {
                    "resumed".into()
                });
                return Action::None;
            }
            KeyCode::Char('w') => {
                if !self.source.live {
                    self.note = Some("w saves a live capture; this is already a file".into());
                    return Action::None;
                }
                if self.saving {
                    self.note = Some("already saving".into());
                    return Action::None;
                }
                self.saving = true;
                self.note = Some("saving...".into());
                return Action::Save;
            }
            _ => {}
        }
        if self.view == View::Stream || self.focus == Focus::Detail {
            return self.detail_key(k);
        }
        self.list_key(k)
    }

    fn parts(&mut self) -> (Option<&mut ListState>, &Store, &mut Scratch) {
        let l = list_of(
            self.view,
            &mut self.txns,
            &mut self.convs,
            &mut self.msgs,
            &mut self.conns,
            &mut self.findings,
            &mut self.hops,
        );
        (l, &self.store, &mut self.scratch)
    }

    fn list_key(&mut self, k: KeyEvent) -> Action {
        let page = self.list_height() as isize;
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let jumps = matches!(self.view, View::Findings | View::Hops);
        let (Some(list), store, sc) = self.parts() else {
            return Action::None;
        };
        let mut note = None;
        let mut back = false;
        match k.code {
            KeyCode::Down | KeyCode::Char('j') => list.step(1),
            KeyCode::Up | KeyCode::Char('k') => list.step(-1),
            KeyCode::PageDown | KeyCode::Char(' ') => list.step(page),
            KeyCode::PageUp => list.step(-page),
            KeyCode::Char('d') if ctrl => list.step(page / 2),
            KeyCode::Char('u') if ctrl => list.step(-page / 2),
            KeyCode::Home | KeyCode::Char('g') => list.step(isize::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => {
                list.step(isize::MAX / 2);
                list.follow = true;
            }
            KeyCode::Char('/') => {
                let before = list.filter_text.clone();
                self.prompt = Some(Prompt {
                    kind: PromptKind::Filter,
                    text: before.clone(),
                    error: None,
                    before,
                });
            }
            KeyCode::Char('s') | KeyCode::Char('S') => {
                let n = rows::sort_columns(list.kind).len();
                if k.code == KeyCode::Char('s') {
                    list.sort = (list.sort + 1) % n;
                } else {
                    list.rev = !list.rev;
                }
                list.rebuild(store, sc);
                note = Some(format!(
                    "sorted by {}{}",
                    rows::sort_columns(list.kind)[list.sort],
                    if list.rev { " (reversed)" } else { "" }
                ));
            }
            KeyCode::Enter => return self.enter(),
            // Where Enter jumps elsewhere (Findings, Proxy hops), → and l open the detail pane
            // to scroll it.
            KeyCode::Char('l') | KeyCode::Right if jumps && list.selected().is_some() => {
                self.focus = Focus::Detail;
            }
            KeyCode::Char('l') | KeyCode::Right => return self.enter(),
            KeyCode::Esc | KeyCode::Char('h') | KeyCode::Left | KeyCode::Backspace => {
                if !list.filter_text.is_empty() && k.code == KeyCode::Esc {
                    let _ = list.set_filter("", store, sc);
                    note = Some("filter cleared".to_string());
                } else {
                    back = true;
                }
            }
            _ => {}
        }
        if note.is_some() {
            self.note = note;
        }
        if back && self.view == View::WebSocket && self.msgs.is_some() {
            let conv = self.msgs.as_ref().and_then(|m| match m.kind {
                ListKind::Msgs(c) => Some(c),
                _ => None,
            });
            self.msgs = None;
            if let Some(c) = conv {
                self.convs.select_id(c);
            }
        }
        Action::None
    }

    /// Enter on a list row: open the detail, drill down, or jump.
    fn enter(&mut self) -> Action {
        match self.view {
            View::WebSocket if self.msgs.is_none() => {
                if let Some(c) = self.convs.selected() {
                    self.open_conv(c);
                }
            }
            View::Findings => {
                if let Some(id) = self.findings.selected() {
                    return self.jump_to_finding(id);
                }
            }
            View::Hops => {
                let front = self
                    .hops
                    .selected()
                    .and_then(|id| self.store.hops.get(id))
                    .map(|h| (h.rec.id, h.rec.front.transaction));
                if let Some((hop, t)) = front
                    && self.jump_to_txn(t)
                {
                    self.note = Some(format!(
                        "transaction {t}, the client leg of hop#{hop}: Enter for its detail, \
                         4 back to the hops"
                    ));
                } else if front.is_some() {
                    self.note = Some("that transaction is no longer kept".into());
                }
            }
            _ => {
                if self.list().and_then(|l| l.selected()).is_some() {
                    self.focus = Focus::Detail;
                }
            }
        }
        Action::None
    }

    fn open_conv(&mut self, conv_row: u64) {
        let mut m = ListState::new(ListKind::Msgs(conv_row));
        m.rebuild(&self.store, &mut self.scratch);
        self.msgs = Some(m);
        self.focus = Focus::List;
    }

    /// Shows transaction `t` selected in the transactions list (its filter cleared if it
    /// hid it); false when the transaction is no longer kept.
    fn jump_to_txn(&mut self, t: u64) -> bool {
        let Some(row) = self.store.txn_row(t) else {
            return false;
        };
        self.view = View::Transactions;
        self.focus = Focus::List;
        if !self.txns.select_id(row) {
            let _ = self.txns.set_filter("", &self.store, &mut self.scratch);
            self.txns.select_id(row);
        }
        true
    }

    /// Finding → its transaction, WebSocket message or connection.
    fn jump_to_finding(&mut self, id: u64) -> Action {
        let Some(f) = self.store.findings.get(id).cloned() else {
            return Action::None;
        };
        if let Some(t) = f.transaction
            && self.jump_to_txn(t)
        {
            self.note = Some(format!(
                "transaction {t}: Enter for its detail, 5 or f back to findings"
            ));
            return Action::None;
        }
        if let Some(c) = f.connection {
            if f.code.area == Area::Ws
                && let Some(ws) = self.store.ws_on_conn(c)
                && let Some(conv) = self.store.conv_row_of(ws)
            {
                self.view = View::WebSocket;
                if !self.convs.select_id(conv) {
                    let _ = self.convs.set_filter("", &self.store, &mut self.scratch);
                    self.convs.select_id(conv);
                }
                self.open_conv(conv);
                // The last message of that direction starting at or before the finding.
                let side = f.direction.map(|d| match d {
                    crate::model::Dir::ClientToServer => crate::model::websocket::Side::Client,
                    crate::model::Dir::ServerToClient => crate::model::websocket::Side::Server,
                });
                let target = self.msgs.as_ref().and_then(|m| {
                    m.rows
                        .iter()
                        .filter_map(|r| self.store.msgs.get(*r).map(|x| (*r, x)))
                        .filter(|(_, x)| side.is_none_or(|s| x.direction == s))
                        .rfind(|(_, x)| f.stream_offset.is_none_or(|o| x.stream_offset <= o))
                        .map(|(r, _)| r)
                });
                if let (Some(m), Some(t)) = (&mut self.msgs, target) {
                    m.select_id(t);
                }
                self.note = Some(format!("WebSocket ws#{ws}: the message at the finding"));
                return Action::None;
            }
            if let Some(row) = self.store.conn_row(c) {
                self.view = View::Connections;
                self.focus = Focus::List;
                if !self.conns.select_id(row) {
                    let _ = self.conns.set_filter("", &self.store, &mut self.scratch);
                    self.conns.select_id(row);
                }
                return Action::None;
            }
            self.note = Some(format!(
                "connection {c} is not reported yet (still open); its stream is in view 6"
            ));
            return Action::None;
        }
        self.note = Some("this finding is about the capture, not one connection".into());
        Action::None
    }

    fn detail_key(&mut self, k: KeyEvent) -> Action {
        if self.view == View::Stream && k.code == KeyCode::Char('d') {
            if self.stream.toggle() {
                self.detail.scroll = 0;
                self.detail.hit = None;
                let tls = self.stream.decrypted.is_some();
                self.note = Some(
                    match self.stream.showing() {
                        Shown::H2Stream => "the HTTP/2 stream of the transaction",
                        Shown::Decrypted => "the decrypted TLS application data",
                        Shown::Captured if tls => "the TLS records as captured (encrypted)",
                        Shown::Captured => "the connection's bytes as captured",
                    }
                    .into(),
                );
            } else {
                self.note = Some(
                    "nothing decrypted on this connection: d shows TLS decrypted with \
                                  a key log (--tls-keylog)"
                        .into(),
                );
            }
            return Action::None;
        }
        let page = self.detail_height();
        let len = views::detail_len(self);
        let max = len.saturating_sub(1);
        let d = &mut self.detail;
        match k.code {
            KeyCode::Down | KeyCode::Char('j') => d.scroll = (d.scroll + 1).min(max),
            KeyCode::Up | KeyCode::Char('k') => d.scroll = d.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => d.scroll = (d.scroll + page).min(max),
            KeyCode::PageUp => d.scroll = d.scroll.saturating_sub(page),
            KeyCode::Home | KeyCode::Char('g') => d.scroll = 0,
            KeyCode::End | KeyCode::Char('G') => d.scroll = len.saturating_sub(page),
            KeyCode::Char('/') => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Search,
                    text: String::new(),
                    error: None,
                    before: String::new(),
                });
            }
            KeyCode::Char('n') => self.search_step(true, false),
            KeyCode::Char('N') => self.search_step(false, false),
            KeyCode::Esc | KeyCode::Char('h') | KeyCode::Left | KeyCode::Backspace => {
                if self.view == View::Stream {
                    if !self.detail.search.is_empty() && k.code == KeyCode::Esc {
                        self.detail.search.clear();
                        self.detail.hit = None;
                    }
                } else {
                    self.focus = Focus::List;
                }
            }
            _ => {}
        }
        Action::None
    }

    /// Moves to the next (or previous) line matching the search; `from_here` includes the
    /// current line.
    fn search_step(&mut self, forward: bool, from_here: bool) {
        if self.detail.search.is_empty() {
            self.note = Some("no search: / in the detail pane searches it".into());
            return;
        }
        let lines = views::detail_text(self);
        let n = lines.len();
        if n == 0 {
            return;
        }
        let start = self.detail.hit.unwrap_or(self.detail.scroll);
        let needle = self.detail.search.clone();
        let found = (0..n).map(|i| {
            if forward {
                (start + i + usize::from(!from_here)) % n
            } else {
                (start + n * 2 - i - usize::from(!from_here)) % n
            }
        });
        for i in found {
            if lines[i].to_lowercase().contains(&needle) {
                self.detail.hit = Some(i);
                let page = self.detail_height();
                if i < self.detail.scroll || i >= self.detail.scroll + page {
                    self.detail.scroll = i.saturating_sub(page / 3);
                }
                return;
            }
        }
        self.detail.hit = None;
        self.note = Some(format!("not found: {needle}"));
    }

    fn prompt_key(&mut self, k: KeyEvent) {
        let Some(p) = &mut self.prompt else {
            return;
        };
        match k.code {
            KeyCode::Esc => {
                let p = self.prompt.take();
                if let Some(p) = p
                    && p.kind == PromptKind::Filter
                    && let (Some(l), store, sc) = self.parts()
                {
                    let _ = l.set_filter(&p.before, store, sc);
                }
                return;
            }
            KeyCode::Enter => {
                if p.error.is_none() {
                    let p = self.prompt.take();
                    if let Some(p) = p {
                        match p.kind {
                            PromptKind::Filter => {
                                if let (Some(l), store, sc) = self.parts() {
                                    let _ = l.set_filter(&p.text, store, sc);
                                }
                                let n = self.list().map_or(0, |l| l.rows.len());
                                self.note = Some(if p.text.trim().is_empty() {
                                    "filter cleared".into()
                                } else {
                                    format!("{n} rows match; Esc clears the filter")
                                });
                            }
                            PromptKind::Search => {
                                self.detail.search = p.text.to_lowercase();
                                self.detail.hit = None;
                                self.search_step(true, true);
                            }
                        }
                    }
                }
                return;
            }
            KeyCode::Backspace => {
                p.text.pop();
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => p.text.clear(),
            KeyCode::Char(c) => p.text.push(c),
            _ => return,
        }
        if p.kind == PromptKind::Filter {
            // Small lists filter as you type; big ones when Enter is pressed (the syntax is
            // still checked on every key, so errors show at once).
            let text = p.text.clone();
            let res = match self.parts() {
                (Some(l), store, sc) if l.candidate_count(store) <= LIVE_FILTER_ROWS => {
                    l.set_filter(&text, store, sc)
                }
                _ => Filter::parse(&text).map(|_| ()),
            };
            if let Some(p) = &mut self.prompt {
                p.error = res.err();
            }
        }
    }

    fn mouse(&mut self, m: MouseEvent) -> Action {
        let a = views::areas(self);
        let inside = |r: ratatui::layout::Rect| {
            m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
        };
        let in_detail = if self.view == View::Stream {
            inside(a.stream)
        } else {
            inside(a.detail)
        };
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta: isize = if m.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                if in_detail || self.view == View::Stream {
                    let len = views::detail_len(self);
                    let s = self.detail.scroll as isize + delta;
                    self.detail.scroll = s.clamp(0, len.saturating_sub(1) as isize) as usize;
                } else if let Some(l) = self.list_mut() {
                    l.step(delta);
                }
                self.dirty = true;
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if inside(a.list) && self.view != View::Stream {
                    // Row 0 is the title, row 1 the column header.
                    let r = m.row.saturating_sub(a.list.y);
                    if r >= 2 {
                        let h = self.list_height();
                        if let Some(l) = self.list_mut() {
                            let i = l.offset + usize::from(r - 2);
                            if i < l.rows.len() {
                                let again = l.sel == i;
                                l.select_index(i);
                                l.follow = false;
                                l.ensure_visible(h);
                                self.focus = Focus::List;
                                if again {
                                    let act = self.enter();
                                    self.after_update();
                                    self.dirty = true;
                                    return act;
                                }
                            }
                        }
                    }
                } else if in_detail && self.view != View::Stream {
                    self.focus = Focus::Detail;
                } else if inside(a.tabs)
                    && let Some(v) = views::tab_at(self, m.column)
                {
                    let act = self.switch(v);
                    self.after_update();
                    self.dirty = true;
                    return act;
                }
                self.dirty = true;
            }
            _ => {}
        }
        self.after_update();
        Action::None
    }

    /// The connection of whatever is selected in the current view.
    pub fn selected_conn(&self) -> Option<u64> {
        let l = self.list()?;
        let id = l.selected()?;
        let s = &self.store;
        match l.kind {
            ListKind::Txns => s.txns.get(id).map(|r| r.connection),
            ListKind::Convs => s
                .convs
                .get(id)
                .and_then(|c| c.rec.as_ref())
                .map(|r| r.connection),
            ListKind::Msgs(c) => s
                .convs
                .get(c)
                .and_then(|c| c.rec.as_ref())
                .map(|r| r.connection),
            ListKind::Conns => s.conns.get(id).map(|c| c.id),
            ListKind::Findings => s.findings.get(id).and_then(|f| f.connection),
            ListKind::Hops => s.hops.get(id).map(|h| h.rec.front.connection),
        }
    }

    /// The selected transaction's HTTP/2 stream, when the Transactions list is shown and
    /// its selection is an HTTP/2 transaction.
    pub fn selected_h2(&self) -> Option<H2Pick> {
        let l = self.list()?;
        if l.kind != ListKind::Txns {
            return None;
        }
        let t = self.store.txns.get(l.selected()?)?;
        Some(H2Pick {
            txn: t.id,
            stream: t.stream_id?,
        })
    }

    /// Selects, in view `v`, the row of connection `c` when the current selection is about
    /// another connection: a transaction's connection, its WebSocket conversation, and back.
    fn follow_conn(&mut self, v: View, c: u64) {
        if self.selected_conn() == Some(c) {
            return;
        }
        let s = &self.store;
        match v {
            View::Connections => {
                if let Some(r) = s.conn_row(c) {
                    self.conns.select_id(r);
                }
            }
            View::WebSocket if self.msgs.is_none() => {
                if let Some(r) = s.ws_on_conn(c).and_then(|ws| s.conv_row_of(ws)) {
                    self.convs.select_id(r);
                }
            }
            View::Transactions => {
                let first = self
                    .txns
                    .rows
                    .iter()
                    .copied()
                    .find(|r| s.txns.get(*r).is_some_and(|t| t.connection == c));
                if let Some(r) = first {
                    self.txns.select_id(r);
                }
            }
            _ => {}
        }
    }

    fn switch(&mut self, v: View) -> Action {
        if v == self.view {
            return Action::None;
        }
        let conn = self.selected_conn();
        let h2 = self.selected_h2();
        self.view = v;
        self.focus = Focus::List;
        if let Some(c) = conn {
            self.follow_conn(v, c);
        }
        if v != View::Stream {
            return Action::None;
        }
        let Some(conn) = conn.or(self.stream.conn) else {
            self.stream = StreamView::default();
            return Action::None;
        };
        // On an HTTP/2 transaction the view shows its stream; another stream of the same
        // connection is read again.
        if self.stream.conn == Some(conn)
            && !self.stream.failed()
            && (h2.is_none() || self.stream.h2 == h2)
        {
            return Action::None;
        }
        self.stream = StreamView::loading_h2(conn, h2);
        self.detail.scroll = 0;
        self.detail.search.clear();
        if self.source.live && self.saved.is_none() {
            self.stream.unavailable =
                Some("a live capture's streams are available after saving it with w".into());
            return Action::None;
        }
        Action::LoadStream(conn)
    }
}

#[allow(clippy::too_many_arguments)]
fn list_of<'a>(
    v: View,
    txns: &'a mut ListState,
    convs: &'a mut ListState,
    msgs: &'a mut Option<ListState>,
    conns: &'a mut ListState,
    findings: &'a mut ListState,
    hops: &'a mut ListState,
) -> Option<&'a mut ListState> {
    match v {
        View::Transactions => Some(txns),
        View::WebSocket => Some(match msgs {
            Some(m) => m,
            None => convs,
        }),
        View::Connections => Some(conns),
        View::Hops => Some(hops),
        View::Findings => Some(findings),
        View::Stream => None,
    }
}
