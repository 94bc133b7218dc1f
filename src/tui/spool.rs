//! Where the UI keeps the full records it does not hold in memory: an append-only temporary
//! file (anonymous: removed when the UI ends, however it ends), read back one record at a
//! time for the detail pane, the message previews and free-text filtering.
//!
//! Writes go through a buffer of [`BUF`] bytes; a record still in the buffer is read from it.
//! The file is behind [`Backend`] so that tests can make writes fail (a full disk): the first
//! failure is kept as [`DetailSpool::error`], and the records after it are not spooled (their
//! rows stay, their details say why they are missing).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Bytes buffered before they are written to the file.
const BUF: usize = 256 << 10;

/// Positioned reads and writes: the temporary file, or a test's stand-in.
pub trait Backend {
    fn write_all_at(&mut self, buf: &[u8], off: u64) -> io::Result<()>;
    fn read_exact_at(&self, buf: &mut [u8], off: u64) -> io::Result<()>;
}

impl Backend for File {
    fn write_all_at(&mut self, buf: &[u8], off: u64) -> io::Result<()> {
        FileExt::write_all_at(self, buf, off)
    }
    fn read_exact_at(&self, buf: &mut [u8], off: u64) -> io::Result<()> {
        FileExt::read_exact_at(self, buf, off)
    }
}

/// Where a record lies in the spool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub off: u64,
    pub len: u32,
}

/// The spool of full records.
pub struct DetailSpool {
    backend: Option<Box<dyn Backend>>,
    /// Bytes already written to the backend.
    flushed: u64,
    buf: Vec<u8>,
    /// Bytes buffered before a write ([`BUF`]; tests make it small).
    limit: usize,
    /// Why records are no longer spooled (the first failure).
    pub error: Option<String>,
    /// Bytes spooled, all records.
    pub bytes: u64,
}

impl std::fmt::Debug for DetailSpool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetailSpool")
            .field("flushed", &self.flushed)
            .field("buffered", &self.buf.len())
            .field("error", &self.error)
            .finish()
    }
}

impl Default for DetailSpool {
    /// A spool whose temporary file is made at its first write.
    fn default() -> Self {
        DetailSpool {
            backend: None,
            flushed: 0,
            buf: Vec::new(),
            limit: BUF,
            error: None,
            bytes: 0,
        }
    }
}

impl DetailSpool {
    /// A spool on `backend` that writes whenever `limit` bytes are buffered.
    pub fn with_backend(backend: Box<dyn Backend>, limit: usize) -> Self {
        DetailSpool {
            backend: Some(backend),
            limit,
            ..DetailSpool::default()
        }
    }

    /// Appends one record that `write` serializes; its slot, or `None` once spooling failed
    /// (the error is in [`DetailSpool::error`]).
    pub fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Option<Slot> {
        if self.error.is_some() {
            return None;
        }
        if self.buf.len() >= self.limit
            && let Err(e) = self.flush()
        {
            // What is buffered stays readable (no more comes in).
            self.error = Some(format!("cannot write the details to a temporary file: {e}"));
            return None;
        }
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(self.limit + self.limit / 4);
        }
        let start = self.buf.len();
        write(&mut self.buf);
        let len = self.buf.len() - start;
        let Ok(len32) = u32::try_from(len) else {
            self.buf.truncate(start);
            return None;
        };
        self.bytes += len as u64;
        Some(Slot {
            off: self.flushed + start as u64,
            len: len32,
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if self.backend.is_none() {
            self.backend = Some(Box::new(tempfile::tempfile()?));
        }
        if let Some(b) = self.backend.as_mut() {
            b.write_all_at(&self.buf, self.flushed)?;
        }
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// The bytes of the record at `slot`.
    pub fn read(&self, slot: Slot) -> io::Result<Vec<u8>> {
        let len = slot.len as usize;
        if slot.off >= self.flushed {
            let start = usize::try_from(slot.off - self.flushed).unwrap_or(usize::MAX);
            return self
                .buf
                .get(start..start.saturating_add(len))
                .map(<[u8]>::to_vec)
                .ok_or_else(|| io::Error::other("the record is not in the spool"));
        }
        let Some(b) = self.backend.as_ref() else {
            return Err(io::Error::other("the record is not in the spool"));
        };
        let mut out = vec![0u8; len];
        b.read_exact_at(&mut out, slot.off)?;
        Ok(out)
    }
}

/// The few full records read back last, newest first.
#[derive(Debug)]
pub struct Lru<T> {
    items: std::collections::VecDeque<(u64, T)>,
    cap: usize,
}

impl<T: Clone> Lru<T> {
    pub fn new(cap: usize) -> Self {
        Lru {
            items: std::collections::VecDeque::new(),
            cap: cap.max(1),
        }
    }

    pub fn get(&mut self, key: u64) -> Option<T> {
        let i = self.items.iter().position(|(k, _)| *k == key)?;
        let it = self.items.remove(i)?;
        let v = it.1.clone();
        self.items.push_front(it);
        Some(v)
    }

    pub fn put(&mut self, key: u64, v: T) {
        if let Some(i) = self.items.iter().position(|(k, _)| *k == key) {
            self.items.remove(i);
        }
        self.items.push_front((key, v));
        self.items.truncate(self.cap);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A backend in memory, or one whose writes fail like a full disk.
    #[derive(Clone, Default)]
    struct Mem {
        bytes: Rc<RefCell<Vec<u8>>>,
        full: bool,
    }

    impl Backend for Mem {
        fn write_all_at(&mut self, buf: &[u8], off: u64) -> io::Result<()> {
            if self.full {
                return Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "No space left on device",
                ));
            }
            let mut b = self.bytes.borrow_mut();
            let end = off as usize + buf.len();
            if b.len() < end {
                b.resize(end, 0);
            }
            b[off as usize..end].copy_from_slice(buf);
            Ok(())
        }
        fn read_exact_at(&self, buf: &mut [u8], off: u64) -> io::Result<()> {
            let b = self.bytes.borrow();
            let src = b
                .get(off as usize..off as usize + buf.len())
                .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
            buf.copy_from_slice(src);
            Ok(())
        }
    }

    fn record(i: usize) -> Vec<u8> {
        (0..(i * 37) % 5000).map(|j| (i + j) as u8).collect()
    }

    #[test]
    fn records_read_back_from_the_buffer_and_the_file() {
        for limit in [0, 100, 4096, BUF] {
            let mem = Mem::default();
            let mut s = DetailSpool::with_backend(Box::new(mem.clone()), limit);
            let slots: Vec<Slot> = (0..300)
                .map(|i| s.push(|b| b.extend_from_slice(&record(i))).unwrap())
                .collect();
            assert!(s.error.is_none());
            for (i, slot) in slots.iter().enumerate() {
                assert_eq!(s.read(*slot).unwrap(), record(i), "limit {limit} #{i}");
            }
            if limit < BUF {
                assert!(!mem.bytes.borrow().is_empty(), "written to the backend");
            }
        }
    }

    #[test]
    fn the_temporary_file_holds_what_does_not_fit_the_buffer() {
        let mut s = DetailSpool::default();
        let big = vec![7u8; BUF / 2 + 1];
        let slots: Vec<Slot> = (0..5)
            .map(|_| s.push(|b| b.extend_from_slice(&big)).unwrap())
            .collect();
        assert!(s.flushed > 0, "spilled to the file");
        for slot in slots {
            assert_eq!(s.read(slot).unwrap(), big);
        }
    }

    #[test]
    fn a_full_disk_stops_the_spool_with_its_reason() {
        let mem = Mem {
            full: true,
            ..Mem::default()
        };
        let mut s = DetailSpool::with_backend(Box::new(mem), 10);
        let first = s.push(|b| b.extend_from_slice(&[1; 20]));
        assert!(first.is_some(), "buffered before any write");
        assert_eq!(s.push(|b| b.extend_from_slice(&[2; 20])), None);
        let e = s.error.clone().unwrap();
        assert!(e.contains("No space left on device"), "{e}");
        assert_eq!(s.push(|b| b.push(3)), None, "nothing after the failure");
        assert_eq!(
            s.read(first.unwrap()).unwrap(),
            [1; 20],
            "the buffered one stays"
        );
        // What is out of the spool reads as an error, never a panic.
        assert!(
            s.read(Slot {
                off: 1 << 40,
                len: 10
            })
            .is_err()
        );
    }

    #[test]
    fn lru_keeps_the_last_used() {
        let mut l = Lru::new(2);
        l.put(1, "a");
        l.put(2, "b");
        assert_eq!(l.get(1), Some("a"));
        l.put(3, "c");
        assert_eq!(l.get(2), None, "the least recently used went");
        assert_eq!(l.get(1), Some("a"));
        assert_eq!(l.get(3), Some("c"));
        assert_eq!(l.len(), 2);
    }
}
