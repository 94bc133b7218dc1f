//! Several capture files read as one capture: [`MergedSource`], one [`PacketSource`] that the
//! drive loop reads like any other.
//!
//! Packets are merged by timestamp (after each file's clock offset), ties by input order; a
//! file's own packets keep their order even when its clock goes backwards. The merge holds one
//! read-ahead packet per *open* file, and a file is opened only when the merge reaches its
//! first packet: each file is opened once at the start to learn its first timestamp, then
//! closed again, so a rotated set (`tcpdump -C`/`-G`) of hundreds of files is read one file
//! after another with one open at a time, while two legs captured at the same time are open
//! together. A file is closed (its buffer freed) at its end. Memory is one read buffer per file
//! open at once plus a few words per input.
//!
//! A file that cannot be read stops only itself: its error is kept in its summary
//! (`capture.files[].error`) and in the run's, and the others are read to their end.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::path::{Path, PathBuf};

use super::file::FileSource;
use super::{CaptureError, Next, PacketSource, Secrets, SourceEnd};
use crate::base::Timestamp;
use crate::model::FileSummary;

/// One input of a run: a capture file, or standard input (`-`).
#[derive(Clone, Debug, PartialEq)]
pub struct InputFile {
    pub path: PathBuf,
    /// Nanoseconds added to its timestamps before the merge.
    pub offset_ns: i64,
    /// The offset was given (`--clock-offset`).
    pub offset_given: bool,
    /// Its clock: inputs of one rotated set share one (the set is one capture); every other
    /// input has its own, the index of its first file.
    pub clock: u32,
    /// `offset_ns` was estimated by an earlier pass over the inputs (see
    /// `run::place_clocks`): how, for `capture.files[]`.
    pub estimated: Option<EstimatedOffset>,
}

/// An offset an earlier pass estimated, as `capture.files[]` says it.
#[derive(Clone, Debug, PartialEq)]
pub struct EstimatedOffset {
    /// `same-connection` or `proxy-pairs`.
    pub source: String,
    pub uncertainty_s: Option<f64>,
    pub interval_s: Option<[f64; 2]>,
    pub pairs: Option<u32>,
    pub connections: Option<u32>,
}

impl InputFile {
    /// An input with a clock of its own (set by [`expand`] for the files of a rotated set).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        InputFile {
            path: path.into(),
            offset_ns: 0,
            offset_given: false,
            clock: u32::MAX,
            estimated: None,
        }
    }

    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }
}

/// Compares names the way people number files: digit runs by value (`dump.pcap9` before
/// `dump.pcap10`), the rest byte by byte.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, ra) = a.split_at(da);
                let (nb, rb) = b.split_at(db);
                let trim = |n: &[u8]| {
                    let z = n.iter().take_while(|c| **c == b'0').count();
                    n.get(z..).unwrap_or_default().to_vec()
                };
                let (ta, tb) = (trim(na), trim(nb));
                let o = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(&tb));
                if o != Ordering::Equal {
                    return o;
                }
                let o = da.cmp(&db);
                if o != Ordering::Equal {
                    return o;
                }
                (a, b) = (ra, rb);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (
                    a.get(1..).unwrap_or_default(),
                    b.get(1..).unwrap_or_default(),
                );
            }
        }
    }
}

/// A name's rotated-set pattern: its digit runs replaced by `#` (`dump.pcap12` and
/// `dump.pcap3` share `dump.pcap#`; `-G` names with times share theirs). A `.gz` or `.zst`
/// ending is left out: `tcpdump -z gzip` (or `-z zstd`) compresses each file of the set once
/// it is closed, and the file still being written is not.
fn set_pattern(p: &Path) -> String {
    let s = p.to_string_lossy();
    let s = s
        .strip_suffix(".gz")
        .or_else(|| s.strip_suffix(".zst"))
        .unwrap_or(&s);
    let mut out = String::with_capacity(s.len());
    let mut in_digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// Whether a file starts like a capture (pcap, pcapng) or a gzip or zstd stream.
fn looks_like_capture(p: &Path) -> bool {
    use std::io::Read;
    let mut m = [0u8; 4];
    let Ok(mut f) = std::fs::File::open(p) else {
        return false;
    };
    if f.read_exact(&mut m).is_err() {
        return false;
    }
    let le = u32::from_le_bytes(m);
    matches!(
        le,
        0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0xa1b2_cd34 | 0x0a0d_0d0a
    ) || super::file::Compression::of(&m).is_some()
}

/// The inputs of a run from its arguments: a directory stands for the capture files in it
/// (pcap, pcapng, gzip or zstd by their first bytes; hidden files skipped), `-` for standard input
/// (once at most), anything else for itself. The files of a rotated set (same name but for
/// its numbers) are put in numeric order (`dump.pcap9` before `dump.pcap10`), at the place
/// of the set's first file; other inputs keep the order given. `offsets` (`--clock-offset
/// FILE=SECONDS`) name an input as given or one of a directory's files.
pub fn expand(args: &[PathBuf], offsets: &[(PathBuf, f64)]) -> Result<Vec<InputFile>, String> {
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new(); // (file, the argument it came from)
    let mut stdin = false;
    for a in args {
        if a.as_os_str() == "-" {
            if stdin {
                return Err("standard input (-) can be read only once".into());
            }
            stdin = true;
            files.push((a.clone(), a.clone()));
        } else if a.is_dir() {
            let rd = std::fs::read_dir(a)
                .map_err(|e| format!("cannot read directory {}: {e}", a.display()))?;
            let mut inside: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .filter(|p| p.is_file() && looks_like_capture(p))
                .collect();
            if inside.is_empty() {
                // Read as a file, it fails with its own error, like any unreadable input.
                inside.push(a.clone());
            }
            inside.sort_by(|x, y| natural_cmp(&x.to_string_lossy(), &y.to_string_lossy()));
            files.extend(inside.into_iter().map(|p| (p, a.clone())));
        } else {
            files.push((a.clone(), a.clone()));
        }
    }
    // One capture read twice would read as every packet retransmitted: refuse it.
    for (i, (f, arg)) in files.iter().enumerate() {
        if f.as_os_str() == "-" {
            continue;
        }
        if let Some((_, other)) = files
            .get(..i)
            .unwrap_or_default()
            .iter()
            .find(|(g, _)| same_file(f, g))
        {
            return Err(format!(
                "{} is given twice (through {} and {}): each capture file is read once",
                f.display(),
                other.display(),
                arg.display()
            ));
        }
    }
    // Rotated sets in numeric order, each where its first file was.
    let mut groups: Vec<(String, Vec<(PathBuf, PathBuf)>)> = Vec::new();
    for f in files {
        let pat = set_pattern(&f.0);
        match groups.iter_mut().find(|(p, _)| *p == pat) {
            Some((_, g)) => g.push(f),
            None => groups.push((pat, vec![f])),
        }
    }
    let mut inputs = Vec::new();
    for (_, mut g) in groups {
        g.sort_by(|x, y| natural_cmp(&x.0.to_string_lossy(), &y.0.to_string_lossy()));
        let clock = inputs.len() as u32;
        for (file, arg) in g {
            let mut input = InputFile::new(file.clone());
            input.clock = clock;
            if let Some((_, secs)) = offsets
                .iter()
                .rev()
                .find(|(p, _)| same_file(p, &file) || same_file(p, &arg))
            {
                input.offset_ns = (secs * 1e9).round() as i64;
                input.offset_given = true;
            }
            inputs.push(input);
        }
    }
    for (p, _) in offsets {
        if !inputs.iter().any(|i| same_file(&i.path, p)) && !args.iter().any(|a| same_file(a, p)) {
            return Err(format!(
                "--clock-offset names {}, which is not one of the inputs",
                p.display()
            ));
        }
    }
    Ok(inputs)
}

/// The same path, or two spellings of one existing file (`./a.pcap`, `a.pcap`).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// Where one input is.
enum State {
    /// Not open: its first packet is at this time (kept in the waiting heap).
    Waiting,
    /// Open, with one packet read ahead (its time is in the heads heap) or just handed out.
    Open(Box<FileSource>),
    /// Read to its end, or stopped by an error.
    Done,
}

struct Slot {
    input: InputFile,
    state: State,
    summary: FileSummary,
    /// File size when known (progress).
    size: Option<u64>,
    /// Bytes read from it when it was closed.
    read: u64,
}

/// Several capture files merged by time into one source (see the module doc).
pub struct MergedSource {
    slots: Vec<Slot>,
    /// Files not yet open, by (first packet time, input index).
    waiting: BinaryHeap<Reverse<(i64, usize)>>,
    /// Open files' read-ahead packets, by (time, input index).
    heads: BinaryHeap<Reverse<(i64, usize)>>,
    /// The one read-ahead packet when it is the only one (`heads` then empty): one open
    /// file, the common case, hands its packets out without a heap's push and pop each.
    solo: Option<(i64, usize)>,
    /// The file whose packet was handed out last: it reads on at the next call.
    last: Option<usize>,
    secrets: VecDeque<Secrets>,
    errors: Vec<CaptureError>,
    delivered: u64,
}

fn shift(ts: Timestamp, off: i64) -> Timestamp {
    Timestamp(ts.0.saturating_add(off))
}

/// Read buffers of all the files of a merge together, when many are open at once: each gets
/// this divided by the number of inputs (at least 16 KiB, at most the 1 MiB of one file).
const BUFFERS: usize = 16 << 20;

/// Opens input `input` of `count`: standard input or a file.
fn open_input(input: &InputFile, count: usize) -> Result<FileSource, CaptureError> {
    if input.is_stdin() {
        FileSource::stdin()
    } else {
        FileSource::open_sized(&input.path, BUFFERS / count.max(1))
    }
}

impl MergedSource {
    /// Opens every input once, in order, to learn its format, link types and first packet
    /// time, and closes it again (standard input, which cannot be read twice, stays open). An
    /// input that cannot be opened is kept with its error.
    pub fn open(inputs: Vec<InputFile>) -> Self {
        let mut m = MergedSource {
            slots: Vec::with_capacity(inputs.len()),
            waiting: BinaryHeap::new(),
            heads: BinaryHeap::new(),
            solo: None,
            last: None,
            secrets: VecDeque::new(),
            errors: Vec::new(),
            delivered: 0,
        };
        let count = inputs.len();
        for (i, input) in inputs.into_iter().enumerate() {
            let mut summary = FileSummary {
                path: input.path.display().to_string(),
                format: "unknown".into(),
                clock_offset_s: input.offset_ns as f64 / 1e9,
                offset_source: if input.offset_given { "given" } else { "none" }.into(),
                ..FileSummary::default()
            };
            if let Some(e) = &input.estimated {
                summary.offset_source = e.source.clone();
                summary.clock_offset_uncertainty_s = e.uncertainty_s;
                summary.clock_offset_interval_s = e.interval_s;
                summary.clock_offset_pairs = e.pairs;
                summary.clock_offset_connections = e.connections;
            }
            m.slots.push(Slot {
                input,
                state: State::Done,
                summary,
                size: None,
                read: 0,
            });
            m.first_look(i, count);
        }
        m
    }

    /// Files open now (each holds a read buffer and one read-ahead packet).
    pub fn open_files(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s.state, State::Open(_)))
            .count()
    }

    /// The inputs, in order.
    pub fn inputs(&self) -> impl Iterator<Item = &InputFile> {
        self.slots.iter().map(|s| &s.input)
    }

    fn first_look(&mut self, i: usize, count: usize) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let mut src = match open_input(&slot.input, count) {
            Ok(s) => s,
            Err(e) => {
                slot.summary.error = Some(e.to_string());
                self.errors.push(e);
                return;
            }
        };
        slot.summary.format = src.format().into();
        slot.summary.compression = src.compression().map(Into::into);
        slot.size = src.len();
        let off = slot.input.offset_ns;
        match src.peek() {
            Ok(Some(ts)) => {
                note_links(&mut slot.summary, &src);
                let ts = shift(ts, off).0;
                if slot.input.is_stdin() {
                    while let Some(s) = src.take_secrets() {
                        self.secrets.push_back(s);
                    }
                    slot.state = State::Open(Box::new(src));
                    self.push_head(ts, i);
                } else {
                    slot.state = State::Waiting;
                    self.waiting.push(Reverse((ts, i)));
                }
            }
            Ok(None) => {
                note_links(&mut slot.summary, &src);
                while let Some(s) = src.take_secrets() {
                    self.secrets.push_back(s);
                }
                slot.read = src.offset();
            }
            Err(e) => {
                note_links(&mut slot.summary, &src);
                slot.read = src.offset();
                slot.summary.error = Some(e.to_string());
                self.errors.push(e);
            }
        }
    }

    /// Opens a waiting file again and reads its first packet ahead.
    fn reopen(&mut self, i: usize) {
        let count = self.slots.len();
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        match open_input(&slot.input, count) {
            Ok(src) => {
                slot.state = State::Open(Box::new(src));
                self.read_ahead(i);
            }
            Err(e) => {
                slot.state = State::Done;
                slot.summary.error = Some(e.to_string());
                self.errors.push(e);
            }
        }
    }

    /// Reads file `i`'s next packet ahead, or closes it at its end or error.
    #[inline]
    fn read_ahead(&mut self, i: usize) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let State::Open(src) = &mut slot.state else {
            return;
        };
        let r = src.peek();
        while let Some(s) = src.take_secrets() {
            self.secrets.push_back(s);
        }
        match r {
            Ok(Some(ts)) => {
                let ts = shift(ts, slot.input.offset_ns).0;
                self.push_head(ts, i);
            }
            Ok(None) => {
                note_links(&mut slot.summary, src);
                slot.read = src.offset();
                slot.state = State::Done;
            }
            Err(e) => {
                note_links(&mut slot.summary, src);
                slot.read = src.offset();
                slot.state = State::Done;
                slot.summary.error = Some(e.to_string());
                self.errors.push(e);
            }
        }
    }

    /// The file whose packet comes next, after opening the waiting files that come before
    /// every open one.
    fn pick(&mut self) -> Option<usize> {
        while let Some(&Reverse(w)) = self.waiting.peek() {
            if self.peek_head().is_some_and(|h| h < w) {
                break;
            }
            self.waiting.pop();
            self.reopen(w.1);
        }
        self.pop_head().map(|(_, i)| i)
    }

    /// The read-ahead packets are `heads` and `solo` together (`solo` only when `heads` is
    /// empty): adds one.
    fn push_head(&mut self, ts: i64, i: usize) {
        if self.heads.is_empty() && self.solo.is_none() {
            self.solo = Some((ts, i));
            return;
        }
        if let Some(s) = self.solo.take() {
            self.heads.push(Reverse(s));
        }
        self.heads.push(Reverse((ts, i)));
    }

    /// The earliest read-ahead packet, (time, input).
    fn peek_head(&self) -> Option<(i64, usize)> {
        self.solo.or_else(|| self.heads.peek().map(|&Reverse(h)| h))
    }

    fn pop_head(&mut self) -> Option<(i64, usize)> {
        self.solo
            .take()
            .or_else(|| self.heads.pop().map(|Reverse(h)| h))
    }

    /// Why reading stopped early, for the whole run: the one file's error, or all of them.
    fn run_error(&mut self) -> Option<CaptureError> {
        let total = self.slots.len();
        match self.errors.len() {
            0 => None,
            1 if total == 1 => self.errors.pop(),
            _ => {
                let nothing =
                    self.delivered == 0 && self.errors.iter().all(|e| e.before_anything());
                let list: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
                Some(CaptureError::Inputs {
                    failed: list.len(),
                    total,
                    list: list.join("; "),
                    nothing,
                })
            }
        }
    }
}

/// Adds the link types `src`'s headers declared so far to the summary.
fn note_links(summary: &mut FileSummary, src: &FileSource) {
    for l in src.link_types() {
        let n = l.name();
        if !summary.link_types.contains(&n) {
            summary.link_types.push(n);
        }
    }
}

impl PacketSource for MergedSource {
    fn next(&mut self) -> Next<'_> {
        if let Some(s) = self.secrets.pop_front() {
            return Next::Secrets(s);
        }
        if let Some(i) = self.last.take() {
            self.read_ahead(i);
            if let Some(s) = self.secrets.pop_front() {
                return Next::Secrets(s);
            }
        }
        let Some(i) = self.pick() else {
            return Next::End;
        };
        self.last = Some(i);
        // Secrets a newly opened file holds before its packets go first.
        if let Some(s) = self.secrets.pop_front() {
            self.push_head(i64::MIN, i);
            self.last = None;
            return Next::Secrets(s);
        }
        let Some(slot) = self.slots.get_mut(i) else {
            return Next::End;
        };
        let State::Open(src) = &mut slot.state else {
            return Next::End;
        };
        let Some(mut p) = src.take_peeked() else {
            return Next::End;
        };
        p.ts = shift(p.ts, slot.input.offset_ns);
        p.file = u32::try_from(i).unwrap_or(u32::MAX);
        let s = &mut slot.summary;
        s.packets += 1;
        s.bytes += p.data.len() as u64;
        s.first_ts.get_or_insert(p.ts);
        s.last_ts = Some(p.ts);
        self.delivered += 1;
        Next::Packet(p)
    }

    fn position(&self) -> (u64, Option<u64>) {
        let mut done = 0u64;
        let mut total = Some(0u64);
        for s in &self.slots {
            done = done.saturating_add(match &s.state {
                State::Open(src) => src.offset(),
                _ => s.read,
            });
            total = total.zip(s.size).map(|(t, n)| t.saturating_add(n));
        }
        (done, total)
    }

    /// Standard input may be a capture being written (`tcpdump -U -w - | hopscope -`): its
    /// packets come when they are captured, and the UI shows each as it comes instead of
    /// waiting for a thousand.
    fn is_live(&self) -> bool {
        self.slots.iter().any(|s| s.input.is_stdin())
    }

    fn may_wait(&self) -> bool {
        self.slots.iter().any(|s| {
            s.input.is_stdin() && matches!(&s.state, State::Open(src) if !src.record_buffered())
        })
    }

    fn inputs(&self) -> usize {
        self.slots.len()
    }

    fn clock_of(&self, file: u32) -> u32 {
        match self.slots.get(file as usize).map(|s| s.input.clock) {
            Some(c) if c != u32::MAX => c,
            _ => file,
        }
    }

    fn finish(&mut self) -> SourceEnd {
        for s in &mut self.slots {
            if let State::Open(src) = &s.state {
                note_links(&mut s.summary, src);
                s.read = src.offset();
            }
            s.state = State::Done;
        }
        let names: Vec<String> = self.slots.iter().map(|s| s.summary.path.clone()).collect();
        let name = match names.len() {
            0..=8 => names.join(", "),
            n => format!(
                "{}, ..., {} ({n} files)",
                names.first().map_or("", String::as_str),
                names.last().map_or("", String::as_str)
            ),
        };
        let mut formats: Vec<&str> = self
            .slots
            .iter()
            .map(|s| s.summary.format.as_str())
            .filter(|f| *f != "unknown")
            .collect();
        formats.dedup();
        let format = match formats.as_slice() {
            [] => "unknown".to_string(),
            [f] => (*f).to_string(),
            _ if formats.iter().all(|f| *f == formats[0]) => formats[0].to_string(),
            _ => "mixed".to_string(),
        };
        SourceEnd {
            name,
            format,
            error: self.run_error(),
            files: self.slots.iter().map(|s| s.summary.clone()).collect(),
            ..SourceEnd::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_order() {
        let mut v = vec![
            "dump.pcap10",
            "dump.pcap9",
            "dump.pcap1",
            "dump.pcap0",
            "dump.pcap",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "dump.pcap",
                "dump.pcap0",
                "dump.pcap1",
                "dump.pcap9",
                "dump.pcap10"
            ]
        );
        assert_eq!(natural_cmp("a01", "a1"), Ordering::Greater);
        assert_eq!(
            set_pattern(Path::new("d/x-2026-12-07_07:00.pcap3")),
            "d/x-#-#-#_#:#.pcap#"
        );
        // Files compressed by `tcpdump -z` stay in their set.
        for n in ["dump.pcap3", "dump.pcap12.zst", "dump.pcap4.gz"] {
            assert_eq!(set_pattern(Path::new(n)), "dump.pcap#", "{n}");
        }
        assert_eq!(set_pattern(Path::new("dump.pcap.zst")), "dump.pcap");
    }

    #[test]
    fn rotated_sets_sorted_in_place() {
        let args: Vec<PathBuf> = ["b.pcap", "r.pcap10", "r.pcap2", "a.pcap"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let got: Vec<String> = expand(&args, &[(PathBuf::from("a.pcap"), 1.5)])
            .unwrap_or_default()
            .iter()
            .map(|i| format!("{}:{}", i.path.display(), i.offset_ns))
            .collect();
        assert_eq!(
            got,
            ["b.pcap:0", "r.pcap2:0", "r.pcap10:0", "a.pcap:1500000000"]
        );
        assert!(expand(&args, &[(PathBuf::from("zz"), 1.0)]).is_err());
        let twice = [PathBuf::from("-"), PathBuf::from("-")];
        assert!(expand(&twice, &[]).is_err());
        // One file twice, however spelt.
        let dir = std::env::temp_dir().join(format!("hopscope-twice-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let f = dir.join("a.pcap");
        std::fs::write(&f, [0xd4, 0xc3, 0xb2, 0xa1]).ok();
        for args in [
            vec![f.clone(), dir.join(".").join("a.pcap")],
            vec![dir.clone(), f.clone()],
        ] {
            let e = expand(&args, &[]).err().unwrap_or_default();
            assert!(e.contains("is given twice"), "{args:?}: {e}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
