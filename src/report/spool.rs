//! A bounded-memory store of serialized records, read back sorted by a key.
//!
//! Records are appended as bytes; past [`MEM_LIMIT`] they spill to an anonymous temporary
//! file, so memory stays flat however large the capture. The index (key, offset, length per
//! record) is bounded too: every [`RUN_ENTRIES`] entries it is sorted and written to a second
//! temporary file as a run, and reading back merges the runs. Memory is then a few hundred KiB
//! per spool at any file size, instead of 32 bytes per record.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;

/// Serialized records kept in memory before they go to the temporary file.
const MEM_LIMIT: usize = 256 << 10;
/// Index entries kept in memory before they are sorted and written out as a run.
const RUN_ENTRIES: usize = 16 << 10;
/// Entries of one run read back at a time while merging.
const RUN_READ: usize = 1024;
/// Spilled record bytes read back at a time (records come back mostly in file order).
const READ_AHEAD: usize = 64 << 10;
/// An index entry in a run file: key, offset (little-endian u64 each), length (u32).
const ENTRY_BYTES: usize = 20;

/// Ordered by key, then offset: offsets grow with insertion, so ties keep insertion order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    key: u64,
    off: u64,
    len: u32,
}

impl Entry {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.key.to_le_bytes());
        out.extend_from_slice(&self.off.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
    }

    fn decode(b: &[u8]) -> Entry {
        let u64_at = |i: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(x)
        };
        let mut l = [0u8; 4];
        l.copy_from_slice(&b[16..20]);
        Entry {
            key: u64_at(0),
            off: u64_at(8),
            len: u32::from_le_bytes(l),
        }
    }
}

#[derive(Default)]
pub struct Spool {
    mem: Vec<u8>,
    file: Option<File>,
    /// Bytes already in the file.
    file_len: u64,
    /// Index entries not yet in a run, in insertion order.
    index: Vec<Entry>,
    /// Sorted runs of index entries: (byte offset in `runs_file`, entries).
    runs: Vec<(u64, usize)>,
    runs_file: Option<File>,
    runs_len: u64,
    count: usize,
}

impl Spool {
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends one serialized record.
    pub fn push(&mut self, key: u64, bytes: &[u8]) -> io::Result<()> {
        // Spill before the buffer would grow past its limit, so it never reallocates to
        // twice the limit.
        if !self.mem.is_empty() && self.mem.len() + bytes.len() > MEM_LIMIT {
            self.spill()?;
        }
        if self.mem.capacity() == 0 {
            self.mem.reserve_exact(MEM_LIMIT.max(bytes.len()));
        }
        let off = self.file_len + self.mem.len() as u64;
        self.mem.extend_from_slice(bytes);
        self.add(key, off, bytes.len())
    }

    /// Appends one record that `write` serializes straight into the buffer (no copy).
    pub fn push_with(
        &mut self,
        key: u64,
        write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        // Leave room for a typical record so the buffer rarely grows past its limit.
        if self.mem.len() > MEM_LIMIT - MEM_LIMIT / 8 {
            self.spill()?;
        }
        if self.mem.capacity() == 0 {
            self.mem.reserve_exact(MEM_LIMIT);
        }
        let start = self.mem.len();
        if let Err(e) = write(&mut self.mem) {
            self.mem.truncate(start);
            return Err(e);
        }
        let len = self.mem.len() - start;
        let off = self.file_len + start as u64;
        self.add(key, off, len)
    }

    fn add(&mut self, key: u64, off: u64, len: usize) -> io::Result<()> {
        if self.index.len() >= RUN_ENTRIES {
            self.write_run()?;
        }
        if self.index.capacity() == 0 {
            self.index.reserve_exact(RUN_ENTRIES);
        }
        self.index.push(Entry {
            key,
            off,
            len: len as u32,
        });
        self.count += 1;
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all_at(&self.mem, self.file_len)?;
        }
        self.file_len += self.mem.len() as u64;
        self.mem.clear();
        Ok(())
    }

    /// Sorts the in-memory index and writes it out as a run.
    fn write_run(&mut self) -> io::Result<()> {
        // Stable: records arrive partly in key order, runs a merge sort takes whole (fewer
        // instructions than the unstable sort); entries are distinct, so the order is the same.
        self.index.sort();
        if self.runs_file.is_none() {
            self.runs_file = Some(tempfile::tempfile()?);
        }
        let mut bytes = Vec::with_capacity(RUN_READ * ENTRY_BYTES);
        let start = self.runs_len;
        for chunk in self.index.chunks(RUN_READ) {
            bytes.clear();
            for e in chunk {
                e.encode(&mut bytes);
            }
            if let Some(f) = self.runs_file.as_mut() {
                f.write_all_at(&bytes, self.runs_len)?;
            }
            self.runs_len += bytes.len() as u64;
        }
        self.runs.push((start, self.index.len()));
        self.index.clear();
        Ok(())
    }

    /// The records in key order (ties in insertion order).
    pub fn sorted(&mut self) -> io::Result<Sorted<'_>> {
        // Stable: records arrive partly in key order, runs a merge sort takes whole (fewer
        // instructions than the unstable sort); entries are distinct, so the order is the same.
        self.index.sort();
        let mut s = Sorted {
            spool: self,
            runs: Vec::new(),
            heap: BinaryHeap::new(),
            pos: 0,
            ahead_at: 0,
            ahead: Vec::new(),
            ahead_len: 0,
            served: 0,
        };
        let sp = s.spool;
        if !sp.runs.is_empty() {
            for (i, &(at, n)) in sp.runs.iter().enumerate() {
                s.runs.push(Run {
                    at,
                    left: n,
                    buf: Vec::new(),
                    pos: 0,
                });
                if let Some(e) = s.next_of_run(i)? {
                    s.heap.push(Reverse((e, i)));
                }
            }
            // The in-memory index is the last source.
            if let Some(&e) = sp.index.first() {
                s.pos = 1;
                s.heap.push(Reverse((e, usize::MAX)));
            }
        }
        Ok(s)
    }

    /// Writes every record in key order (ties in insertion order), each preceded by
    /// `sep` except the first.
    pub fn write_sorted(&mut self, w: &mut dyn Write, sep: &[u8]) -> io::Result<()> {
        let mut s = self.sorted()?;
        let mut first = true;
        while let Some((_, rec)) = s.next_record()? {
            if !first {
                w.write_all(sep)?;
            }
            first = false;
            w.write_all(rec)?;
        }
        Ok(())
    }
}

struct Run {
    /// Byte offset of the next entry not yet read.
    at: u64,
    /// Entries not yet read.
    left: usize,
    buf: Vec<Entry>,
    pos: usize,
}

/// Reads a spool back in key order: a merge of its sorted runs and its in-memory index.
pub struct Sorted<'a> {
    spool: &'a Spool,
    runs: Vec<Run>,
    /// The next entry of each source (`usize::MAX`: the in-memory index).
    heap: BinaryHeap<Reverse<(Entry, usize)>>,
    /// Next position in the in-memory index.
    pos: usize,
    /// Spilled bytes read ahead, starting at file offset `ahead_at`.
    ahead_at: u64,
    ahead: Vec<u8>,
    ahead_len: usize,
    /// Records served from the current read-ahead.
    served: u32,
}

impl Sorted<'_> {
    fn next_of_run(&mut self, i: usize) -> io::Result<Option<Entry>> {
        let r = &mut self.runs[i];
        if r.pos == r.buf.len() {
            if r.left == 0 {
                return Ok(None);
            }
            let n = r.left.min(RUN_READ);
            let mut bytes = vec![0u8; n * ENTRY_BYTES];
            if let Some(f) = self.spool.runs_file.as_ref() {
                f.read_exact_at(&mut bytes, r.at)?;
            }
            r.buf.clear();
            r.buf
                .extend(bytes.chunks_exact(ENTRY_BYTES).map(Entry::decode));
            r.pos = 0;
            r.at += bytes.len() as u64;
            r.left -= n;
        }
        let e = r.buf[r.pos];
        r.pos += 1;
        Ok(Some(e))
    }

    fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        if self.spool.runs.is_empty() {
            let e = self.spool.index.get(self.pos).copied();
            self.pos += 1;
            return Ok(e);
        }
        let Some(Reverse((e, src))) = self.heap.pop() else {
            return Ok(None);
        };
        let next = if src == usize::MAX {
            let n = self.spool.index.get(self.pos).copied();
            self.pos += 1;
            n
        } else {
            self.next_of_run(src)?
        };
        if let Some(n) = next {
            self.heap.push(Reverse((n, src)));
        }
        Ok(Some(e))
    }

    /// The next record and its key.
    pub fn next_record(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        let Some(e) = self.next_entry()? else {
            return Ok(None);
        };
        let sp = self.spool;
        let len = e.len as usize;
        if e.off >= sp.file_len {
            let start = (e.off - sp.file_len) as usize;
            return Ok(Some((
                e.key,
                sp.mem.get(start..start + len).unwrap_or_default(),
            )));
        }
        let Some(f) = sp.file.as_ref() else {
            return Ok(Some((e.key, &[])));
        };
        let end = e.off + len as u64;
        if e.off < self.ahead_at || end > self.ahead_at + self.ahead_len as u64 {
            // A spilled record lies wholly before `file_len`. Read ahead only while reading
            // ahead pays (records come back in file order); a jump reads just the record.
            let want = if self.served > 1 {
                len.max(READ_AHEAD)
            } else {
                len.max(4096)
            };
            let n = (sp.file_len - e.off).min(want as u64) as usize;
            if self.ahead.len() < n {
                self.ahead.resize(n, 0);
            }
            f.read_exact_at(&mut self.ahead[..n], e.off)?;
            self.ahead_at = e.off;
            self.ahead_len = n;
            self.served = 0;
        }
        self.served += 1;
        let start = (e.off - self.ahead_at) as usize;
        Ok(Some((e.key, &self.ahead[start..start + len])))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sorts_and_spills() {
        let mut s = Spool::default();
        let big = vec![b'x'; 1 << 20];
        for k in (0..10u64).rev() {
            let mut rec = format!("{k}:").into_bytes();
            rec.extend_from_slice(&big[..(k as usize + 1) * 100_000]);
            s.push(k, &rec).unwrap();
        }
        assert!(s.file.is_some(), "should have spilled");
        assert!(
            s.mem.capacity() <= (MEM_LIMIT).max(1_000_002),
            "buffer stays within its limit"
        );
        let mut out = Vec::new();
        s.write_sorted(&mut out, b"|").unwrap();
        let parts: Vec<&[u8]> = out.split(|&b| b == b'|').collect();
        assert_eq!(parts.len(), 10);
        for (k, p) in parts.iter().enumerate() {
            assert!(p.starts_with(format!("{k}:").as_bytes()));
            assert_eq!(p.len(), format!("{k}:").len() + (k + 1) * 100_000);
        }
    }

    /// Many records, nearly sorted with duplicate keys: several index runs are merged, ties
    /// come back in insertion order, and the index in memory stays bounded.
    #[test]
    fn merges_index_runs_keeping_insertion_order() {
        let mut s = Spool::default();
        let n = RUN_ENTRIES * 3 + 77;
        let key = |i: usize| ((i * 7919) % 1000) as u64;
        for i in 0..n {
            s.push_with(key(i), |b| write!(b, "{i}")).unwrap();
            assert!(s.index.len() <= RUN_ENTRIES);
        }
        assert_eq!(s.len(), n);
        assert_eq!(s.runs.len(), 3);
        let mut want: Vec<(u64, usize)> = (0..n).map(|i| (key(i), i)).collect();
        want.sort();
        let mut got = Vec::new();
        let mut c = s.sorted().unwrap();
        while let Some((k, rec)) = c.next_record().unwrap() {
            let i: usize = std::str::from_utf8(rec).unwrap().parse().unwrap();
            got.push((k, i));
        }
        assert_eq!(got, want);
    }
}
