//! One list of a view: the ids of the rows it shows (filtered, sorted), the cursor and the
//! scroll offset. Rows are kept by their stable store id, so records arriving or being dropped
//! never move the cursor to another record.

use super::filter::{Filter, Scratch};
use super::rows::{self, ListKind};
use super::store::Store;

/// One list: the ids of the rows shown, in order, and where the cursor is.
#[derive(Clone, Debug)]
pub struct ListState {
    pub kind: ListKind,
    pub rows: Vec<u64>,
    pub sel: usize,
    pub offset: usize,
    /// Sort column (index into `rows::sort_columns`), reversed or not.
    pub sort: usize,
    pub rev: bool,
    pub filter: Filter,
    pub filter_text: String,
    /// Follow the newest row (after `G`), like `tail -f`.
    pub follow: bool,
    /// The store's next id when this list was last brought up to date.
    synced: u64,
    /// The store's first id then.
    first: u64,
    sel_id: Option<u64>,
}

impl ListState {
    pub fn new(kind: ListKind) -> Self {
        ListState {
            kind,
            rows: Vec::new(),
            sel: 0,
            offset: 0,
            sort: 0,
            rev: false,
            filter: Filter::default(),
            filter_text: String::new(),
            follow: false,
            synced: 0,
            first: 0,
            sel_id: None,
        }
    }

    pub fn selected(&self) -> Option<u64> {
        self.rows.get(self.sel).copied()
    }

    /// Every candidate id of this list in the store, from `from` on.
    fn candidates(&self, store: &Store, from: u64) -> Vec<u64> {
        match self.kind {
            ListKind::Txns => ids(store.txns.first_id(), store.txns.next_id(), from),
            ListKind::Convs => ids(store.convs.first_id(), store.convs.next_id(), from),
            ListKind::Conns => ids(store.conns.first_id(), store.conns.next_id(), from),
            ListKind::Findings => ids(store.findings.first_id(), store.findings.next_id(), from),
            ListKind::Hops => ids(store.hops.first_id(), store.hops.next_id(), from),
            ListKind::Msgs(c) => store
                .convs
                .get(c)
                .map(|c| c.msgs.iter().copied().filter(|id| *id >= from).collect())
                .unwrap_or_default(),
        }
    }

    /// Rows the filter would look at.
    pub fn candidate_count(&self, store: &Store) -> usize {
        match self.kind {
            ListKind::Msgs(c) => store.convs.get(c).map_or(0, |c| c.msgs.len()),
            _ => (self.store_next(store) - self.store_first(store)) as usize,
        }
    }

    fn store_next(&self, store: &Store) -> u64 {
        match self.kind {
            ListKind::Txns => store.txns.next_id(),
            ListKind::Convs => store.convs.next_id(),
            ListKind::Conns => store.conns.next_id(),
            ListKind::Findings => store.findings.next_id(),
            ListKind::Hops => store.hops.next_id(),
            ListKind::Msgs(_) => store.msgs.next_id(),
        }
    }

    fn store_first(&self, store: &Store) -> u64 {
        match self.kind {
            ListKind::Txns => store.txns.first_id(),
            ListKind::Convs => store.convs.first_id(),
            ListKind::Conns => store.conns.first_id(),
            ListKind::Findings => store.findings.first_id(),
            ListKind::Hops => store.hops.first_id(),
            ListKind::Msgs(_) => store.msgs.first_id(),
        }
    }

    fn matches(&self, store: &Store, id: u64, sc: &mut Scratch) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let f = &self.filter;
        match self.kind {
            ListKind::Txns => store
                .txns
                .get(id)
                .is_some_and(|t| f.matches(&rows::TxnSubject { t, store }, sc)),
            ListKind::Convs => store
                .convs
                .get(id)
                .is_some_and(|c| f.matches(&rows::ConvSubject { c, store }, sc)),
            ListKind::Msgs(c) => {
                let conn = store
                    .convs
                    .get(c)
                    .and_then(|c| c.rec.as_ref())
                    .map(|r| r.connection);
                store
                    .msgs
                    .get(id)
                    .is_some_and(|m| f.matches(&rows::MsgSubject { m, conn, store }, sc))
            }
            ListKind::Conns => store
                .conns
                .get(id)
                .is_some_and(|c| f.matches(&rows::ConnSubject { c, store }, sc)),
            ListKind::Findings => store
                .findings
                .get(id)
                .is_some_and(|x| f.matches(&rows::FindingSubject { f: x }, sc)),
            ListKind::Hops => store
                .hops
                .get(id)
                .is_some_and(|h| f.matches(&rows::HopSubject { h, store }, sc)),
        }
    }

    fn cmp(&self, store: &Store, a: u64, b: u64) -> std::cmp::Ordering {
        let o = rows::compare(store, self.kind, self.sort, a, b);
        if self.rev { o.reverse() } else { o }
    }

    /// Recomputes the rows from scratch (filter or sort changed).
    pub fn rebuild(&mut self, store: &Store, sc: &mut Scratch) {
        let mut v: Vec<u64> = self
            .candidates(store, 0)
            .into_iter()
            .filter(|id| self.matches(store, *id, sc))
            .collect();
        if !rows::arrival_ordered(self.kind, self.sort, self.rev) {
            v.sort_by(|a, b| self.cmp(store, *a, *b));
        }
        self.rows = v;
        self.synced = self.store_next(store);
        self.first = self.store_first(store);
        self.reselect();
    }

    /// Takes in the rows that arrived (and drops the ones the store let go) without moving
    /// the selection to another record.
    pub fn sync(&mut self, store: &Store, sc: &mut Scratch) {
        let first = self.store_first(store);
        if first > self.first {
            // Rows the store let go.
            self.first = first;
            self.rows.retain(|r| *r >= first);
        }
        let next = self.store_next(store);
        if next > self.synced {
            let mut new: Vec<u64> = self
                .candidates(store, self.synced)
                .into_iter()
                .filter(|id| self.matches(store, *id, sc))
                .collect();
            self.synced = next;
            if !new.is_empty() {
                if !rows::arrival_ordered(self.kind, self.sort, self.rev) {
                    new.sort_by(|a, b| self.cmp(store, *a, *b));
                }
                if rows::arrival_ordered(self.kind, self.sort, self.rev) {
                    self.rows.extend(new);
                } else {
                    // Only the tail after the first new row's place is merged: new rows
                    // usually sort near the end, so this is close to an append.
                    let first_new = new[0];
                    let at = self.rows.partition_point(|r| {
                        self.cmp(store, *r, first_new) != std::cmp::Ordering::Greater
                    });
                    let tail = self.rows.split_off(at);
                    let merged = merge(tail, new, |a, b| self.cmp(store, *a, *b));
                    self.rows.extend(merged);
                }
            }
        }
        self.reselect();
    }

    /// Puts the cursor back on the selected record (or the newest, when following), keeping
    /// its place on the screen.
    fn reselect(&mut self) {
        let screen = self.sel.saturating_sub(self.offset);
        if self.follow && !self.rows.is_empty() {
            self.sel = self.rows.len() - 1;
        } else if let Some(id) = self.sel_id {
            if self.rows.get(self.sel) != Some(&id) {
                match self.rows.iter().position(|r| *r == id) {
                    Some(p) => {
                        self.sel = p;
                        self.offset = p.saturating_sub(screen);
                    }
                    None => self.sel = self.sel.min(self.rows.len().saturating_sub(1)),
                }
            }
        } else {
            self.sel = 0;
        }
        if self.sel >= self.rows.len() {
            self.sel = self.rows.len().saturating_sub(1);
        }
        self.sel_id = self.selected();
    }

    /// Moves the cursor by `delta` rows.
    pub fn step(&mut self, delta: isize) {
        if self.rows.is_empty() {
            return;
        }
        let max = self.rows.len() - 1;
        self.sel = (self.sel as isize + delta).clamp(0, max as isize) as usize;
        self.follow = false;
        self.sel_id = self.selected();
    }

    pub fn select_index(&mut self, i: usize) {
        if !self.rows.is_empty() {
            self.sel = i.min(self.rows.len() - 1);
            self.sel_id = self.selected();
        }
    }

    pub fn select_id(&mut self, id: u64) -> bool {
        match self.rows.iter().position(|r| *r == id) {
            Some(p) => {
                self.sel = p;
                self.follow = false;
                self.sel_id = Some(id);
                true
            }
            None => false,
        }
    }

    /// Keeps the cursor inside the `height` visible rows.
    pub fn ensure_visible(&mut self, height: usize) {
        let h = height.max(1);
        if self.sel < self.offset {
            self.offset = self.sel;
        } else if self.sel >= self.offset + h {
            self.offset = self.sel + 1 - h;
        }
        let max_off = self.rows.len().saturating_sub(h);
        self.offset = self.offset.min(max_off);
    }

    pub fn set_filter(
        &mut self,
        text: &str,
        store: &Store,
        sc: &mut Scratch,
    ) -> Result<(), String> {
        let f = Filter::parse(text)?;
        if f != self.filter {
            self.filter = f;
            self.rebuild(store, sc);
        }
        self.filter_text = text.trim().to_string();
        Ok(())
    }
}

fn ids(first: u64, next: u64, from: u64) -> Vec<u64> {
    (first.max(from)..next).collect()
}

fn merge<T: Copy>(a: Vec<T>, b: Vec<T>, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if cmp(&b[j], &a[i]) == std::cmp::Ordering::Less {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}
