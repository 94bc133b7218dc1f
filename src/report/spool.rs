//! A bounded-memory store of serialized records, read back sorted by a key.
//!
//! Records are appended as bytes; past 2 MiB they spill to an anonymous temporary file, so
//! memory stays flat however large the capture. Only a small index entry per record stays in
//! memory.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;

/// Serialized records kept in memory before they go to the temporary file.
const MEM_LIMIT: usize = 2 << 20;

#[derive(Default)]
pub struct Spool {
    mem: Vec<u8>,
    file: Option<File>,
    /// Bytes already in the file.
    file_len: u64,
    /// (sort key, sequence, offset, length)
    index: Vec<(u64, u64, u64, u32)>,
}

impl Spool {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
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
        let seq = self.index.len() as u64;
        self.index.push((key, seq, off, bytes.len() as u32));
        self.mem.extend_from_slice(bytes);
        Ok(())
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
        let seq = self.index.len() as u64;
        self.index.push((key, seq, off, len as u32));
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

    /// Sorts the index by key (ties in insertion order); then [`Spool::read`] reads record `i`
    /// of that order.
    pub fn sort(&mut self) {
        self.index.sort_unstable_by_key(|&(k, s, _, _)| (k, s));
    }

    /// Record `i` in the current index order into `buf` (replacing its contents); its key.
    pub fn read(&self, i: usize, buf: &mut Vec<u8>) -> io::Result<Option<u64>> {
        let Some(&(key, _, off, len)) = self.index.get(i) else {
            return Ok(None);
        };
        buf.clear();
        if off >= self.file_len {
            let start = (off - self.file_len) as usize;
            buf.extend_from_slice(
                self.mem
                    .get(start..start + len as usize)
                    .unwrap_or_default(),
            );
        } else if let Some(f) = self.file.as_ref() {
            buf.resize(len as usize, 0);
            f.read_exact_at(buf, off)?;
        }
        Ok(Some(key))
    }

    /// Writes every record in key order (ties in insertion order), each preceded by
    /// `sep` except the first.
    pub fn write_sorted(&mut self, w: &mut dyn Write, sep: &[u8]) -> io::Result<()> {
        self.index.sort_unstable_by_key(|&(k, s, _, _)| (k, s));
        let mut buf = Vec::new();
        for (i, &(_, _, off, len)) in self.index.iter().enumerate() {
            if i > 0 {
                w.write_all(sep)?;
            }
            if off >= self.file_len {
                let start = (off - self.file_len) as usize;
                let rec = self
                    .mem
                    .get(start..start + len as usize)
                    .unwrap_or_default();
                w.write_all(rec)?;
            } else if let Some(f) = self.file.as_ref() {
                buf.resize(len as usize, 0);
                f.read_exact_at(&mut buf, off)?;
                w.write_all(&buf)?;
            }
        }
        Ok(())
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
        assert!(s.file.is_some(), "should have spilled past 2 MiB");
        assert!(
            s.mem.capacity() <= MEM_LIMIT,
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
}
