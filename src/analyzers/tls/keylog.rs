//! TLS secrets from key logs: the NSS key log format that browsers, curl, Python, Go and Node
//! write when `SSLKEYLOGFILE` (or its equivalent) is set, and that `editcap --inject-secrets`
//! embeds in a pcapng Decryption Secrets Block.
//!
//! One line per secret: `LABEL <client_random hex> <secret hex>`. The labels used:
//!
//! | label | secret |
//! | --- | --- |
//! | `CLIENT_RANDOM` | TLS 1.2 (and below) master secret, 48 bytes |
//! | `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `SERVER_HANDSHAKE_TRAFFIC_SECRET` | TLS 1.3 handshake traffic secrets |
//! | `CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0` | TLS 1.3 first application traffic secrets |
//! | `CLIENT_EARLY_TRAFFIC_SECRET` | TLS 1.3 0-RTT data |
//!
//! Other labels (`EXPORTER_SECRET`, `EARLY_EXPORTER_SECRET`, `RSA`, ...) are skipped quietly;
//! `#` comments and blank lines are allowed; any other line is reported with its line number and
//! skipped. Secrets are keyed by the ClientHello's random, which is how a connection finds them.
//!
//! A [`KeyLog`] holds what was read; a [`KeyLogFile`] follows one file, reading what was
//! appended since the last look (a live capture's client writes its key log as it goes). The
//! store is bounded: past [`MAX_ENTRIES`] client randoms, new ones are counted and dropped.

use crate::base::heap;
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Client randoms kept (a key log of a long browsing session has thousands; 1 MiB of file is
/// about 5,000 connections). Each entry is ~400 bytes with its secrets.
pub const MAX_ENTRIES: usize = 200_000;
/// Longest line read; longer ones are malformed (a secret is at most 64 bytes, 128 hex digits).
const MAX_LINE: usize = 1024;
/// Malformed lines reported one by one per source; the rest are counted.
pub const MAX_REPORTED: usize = 20;

/// The secrets logged for one client random.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS 1.2 and below: the master secret (`CLIENT_RANDOM`).
    pub master: Option<Vec<u8>>,
    pub client_handshake: Option<Vec<u8>>,
    pub server_handshake: Option<Vec<u8>>,
    pub client_traffic0: Option<Vec<u8>>,
    pub server_traffic0: Option<Vec<u8>>,
    pub client_early: Option<Vec<u8>>,
    /// Index in [`KeyLog::sources`] of where the last of them was read.
    pub source: u16,
}

impl Secrets {
    fn slot(&mut self, label: &str) -> Option<&mut Option<Vec<u8>>> {
        Some(match label {
            "CLIENT_RANDOM" => &mut self.master,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut self.client_handshake,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut self.server_handshake,
            "CLIENT_TRAFFIC_SECRET_0" => &mut self.client_traffic0,
            "SERVER_TRAFFIC_SECRET_0" => &mut self.server_traffic0,
            "CLIENT_EARLY_TRAFFIC_SECRET" => &mut self.client_early,
            _ => return None,
        })
    }

    /// The secrets as key log lines (`LABEL <client_random> <secret>`, hex, one per line),
    /// what a pcapng Decryption Secrets Block of type TLSK holds.
    pub fn lines(&self, client_random: &[u8; 32]) -> String {
        let random = hex_of(client_random);
        let mut out = String::new();
        for (label, secret) in [
            ("CLIENT_RANDOM", &self.master),
            ("CLIENT_EARLY_TRAFFIC_SECRET", &self.client_early),
            ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &self.client_handshake),
            ("SERVER_HANDSHAKE_TRAFFIC_SECRET", &self.server_handshake),
            ("CLIENT_TRAFFIC_SECRET_0", &self.client_traffic0),
            ("SERVER_TRAFFIC_SECRET_0", &self.server_traffic0),
        ] {
            if let Some(secret) = secret {
                out.push_str(label);
                out.push(' ');
                out.push_str(&random);
                out.push(' ');
                out.push_str(&hex_of(secret));
                out.push('\n');
            }
        }
        out
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        [
            &self.master,
            &self.client_handshake,
            &self.server_handshake,
            &self.client_traffic0,
            &self.server_traffic0,
            &self.client_early,
        ]
        .iter()
        .map(|s| s.as_ref().map_or(0, heap::vec))
        .sum()
    }
}

/// A line of a key log that is not one (line numbers from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub why: &'static str,
}

/// The labels hopscope knows but does not use: skipped without a word.
const IGNORED: [&str; 5] = [
    "EXPORTER_SECRET",
    "EARLY_EXPORTER_SECRET",
    "RSA",
    "PMS_CLIENT_RANDOM",
    "RSA_SESSION_ID",
];

/// Where the secrets came from, as the report says it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyLog {
    entries: FxHashMap<[u8; 32], Secrets>,
    /// The sources read, in order (`keys.txt`, `$SSLKEYLOGFILE (keys.txt)`, `pcapng secrets
    /// block at byte 1234`).
    pub sources: Vec<String>,
    /// Client randoms dropped because the store was full.
    pub dropped: u64,
    /// Client randoms a connection looked up and found.
    pub used: u64,
    /// Client randoms a connection looked up and did not find.
    pub missed: u64,
}

impl KeyLog {
    pub fn new() -> Self {
        KeyLog::default()
    }

    /// Client randoms with at least one secret.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The secrets for a ClientHello's random.
    pub fn get(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.entries.get(client_random)
    }

    /// Names a source of secrets (a file, a secrets block) and returns its index.
    pub fn add_source(&mut self, name: String) -> u16 {
        if let Some(i) = self.sources.iter().position(|s| *s == name) {
            return i as u16;
        }
        self.sources.push(name);
        (self.sources.len() - 1).min(usize::from(u16::MAX)) as u16
    }

    /// The name of source `i`.
    pub fn source(&self, i: u16) -> &str {
        self.sources.get(usize::from(i)).map_or("", String::as_str)
    }

    /// Adds the lines of `text` (a whole key log, or what was appended to one), whose first line
    /// is line `first_line` of source `source`. Returns the malformed lines.
    pub fn add_text(&mut self, text: &[u8], first_line: usize, source: u16) -> Vec<BadLine> {
        let mut bad = Vec::new();
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            if let Err(why) = self.add_line(raw, source) {
                bad.push(BadLine {
                    line: first_line + i,
                    why,
                });
            }
        }
        bad
    }

    /// One line (without its `\n`; a `\r` before it is allowed).
    fn add_line(&mut self, raw: &[u8], source: u16) -> Result<(), &'static str> {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE {
            return Err("line longer than 1,024 bytes");
        }
        let line = std::str::from_utf8(raw).map_err(|_| "not text")?.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let mut parts = line.split_ascii_whitespace();
        let label = parts.next().unwrap_or_default();
        // `CLIENT_TRAFFIC_SECRET_N` (OpenSSL writes the letter) or `_1`, `_2`...: the secrets
        // after each KeyUpdate; hopscope derives them from the first.
        let later_traffic = ["CLIENT_TRAFFIC_SECRET_", "SERVER_TRAFFIC_SECRET_"]
            .iter()
            .any(|p| {
                label
                    .strip_prefix(p)
                    .is_some_and(|n| n != "0" && !n.is_empty())
            });
        if IGNORED.contains(&label) || later_traffic {
            return Ok(());
        }
        if Secrets::default().slot(label).is_none() {
            return Err("unknown label (expected CLIENT_RANDOM or a TLS 1.3 traffic secret)");
        }
        let (Some(random), Some(secret), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err("expected three fields: label, client random, secret");
        };
        let random: [u8; 32] = hex(random)
            .and_then(|r| r.try_into().ok())
            .ok_or("client random is not 64 hex digits")?;
        let secret = hex(secret).ok_or("secret is not hex")?;
        if !matches!(secret.len(), 32 | 48 | 64) {
            return Err("secret is not 32, 48 or 64 bytes");
        }
        if label == "CLIENT_RANDOM" && secret.len() != 48 {
            return Err("CLIENT_RANDOM master secret is not 48 bytes");
        }
        if !self.entries.contains_key(&random) && self.entries.len() >= MAX_ENTRIES {
            self.dropped += 1;
            return Ok(());
        }
        let entry = self.entries.entry(random).or_default();
        entry.source = source;
        if let Some(slot) = entry.slot(label) {
            *slot = Some(secret);
        }
        Ok(())
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        let per = size_of::<([u8; 32], Secrets)>() + 8;
        self.entries.capacity() * per
            + self
                .entries
                .values()
                .map(Secrets::heap_bytes)
                .sum::<usize>()
    }
}

/// Bytes to lower-case hex.
fn hex_of(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Lower or upper case hex to bytes.
fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// Follows one key log file: each [`KeyLogFile::poll`] reads what was appended since the last,
/// whole lines only (a line being written is read next time).
#[derive(Debug)]
pub struct KeyLogFile {
    pub path: PathBuf,
    /// Its index in the key log's sources.
    pub source: u16,
    /// Bytes of the file consumed (whole lines).
    read: u64,
    /// Lines consumed.
    lines: usize,
    /// Malformed lines met so far.
    pub bad: usize,
}

/// What one poll found.
#[derive(Debug, Default)]
pub struct Polled {
    /// Lines read.
    pub lines: usize,
    /// Malformed lines, up to [`MAX_REPORTED`] per file over its life.
    pub bad: Vec<BadLine>,
    /// Malformed lines beyond those.
    pub more_bad: usize,
}

impl KeyLogFile {
    pub fn new(path: &Path, source: u16) -> Self {
        KeyLogFile {
            path: path.to_path_buf(),
            source,
            read: 0,
            lines: 0,
            bad: 0,
        }
    }

    /// Reads what was appended, into `log`. A file that shrank (rewritten) is read again from
    /// its start.
    pub fn poll(&mut self, log: &mut KeyLog) -> std::io::Result<Polled> {
        let mut f = File::open(&self.path)?;
        let len = f.metadata()?.len();
        if len < self.read {
            self.read = 0;
            self.lines = 0;
        }
        if len == self.read {
            return Ok(Polled::default());
        }
        f.seek(SeekFrom::Start(self.read))?;
        let mut buf = Vec::new();
        // A key log is small; one read to the end, bounded so a wrong file is not slurped.
        f.take(64 << 20).read_to_end(&mut buf)?;
        let whole = buf.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let text = buf.get(..whole).unwrap_or_default();
        let mut polled = Polled::default();
        for b in log.add_text(
            text.strip_suffix(b"\n").unwrap_or(text),
            self.lines + 1,
            self.source,
        ) {
            if self.bad < MAX_REPORTED {
                polled.bad.push(b);
            } else {
                polled.more_bad += 1;
            }
            self.bad += 1;
        }
        let n = text.iter().filter(|&&b| b == b'\n').count();
        polled.lines = n;
        self.lines += n;
        self.read += whole as u64;
        Ok(polled)
    }

    /// Reads the whole file once, the last line too even without its newline (a file given on
    /// the command line is complete).
    pub fn read_all(&mut self, log: &mut KeyLog) -> std::io::Result<Polled> {
        let mut polled = self.poll(log)?;
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(self.read))?;
        let mut tail = Vec::new();
        f.take(MAX_LINE as u64 + 1).read_to_end(&mut tail)?;
        if !tail.is_empty() {
            if let Some(b) = log
                .add_text(&tail, self.lines + 1, self.source)
                .into_iter()
                .next()
            {
                polled.bad.push(b);
                self.bad += 1;
            }
            self.read += tail.len() as u64;
            self.lines += 1;
            polled.lines += 1;
        }
        Ok(polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn random() -> [u8; 32] {
        hex(R).and_then(|v| v.try_into().ok()).unwrap_or([0; 32])
    }

    #[test]
    fn every_label_lands_in_its_slot_and_others_are_skipped() {
        let text = format!(
            "# a comment\n\nCLIENT_RANDOM {R} {m}\r\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {R} {a}\n\
             SERVER_HANDSHAKE_TRAFFIC_SECRET {R} {b}\nCLIENT_TRAFFIC_SECRET_0 {R} {c}\n\
             SERVER_TRAFFIC_SECRET_0 {R} {d}\nEXPORTER_SECRET {R} {a}\n",
            m = "11".repeat(48),
            a = "aa".repeat(32),
            b = "BB".repeat(32),
            c = "cc".repeat(48),
            d = "dd".repeat(48),
        );
        let mut log = KeyLog::new();
        assert_eq!(log.add_text(text.as_bytes(), 1, 0), []);
        let s = log.get(&random()).cloned().unwrap_or_default();
        assert_eq!(s.master, Some(vec![0x11; 48]));
        assert_eq!(s.client_handshake, Some(vec![0xaa; 32]));
        assert_eq!(s.server_handshake, Some(vec![0xbb; 32]));
        assert_eq!(s.client_traffic0, Some(vec![0xcc; 48]));
        assert_eq!(s.server_traffic0, Some(vec![0xdd; 48]));
        assert_eq!(s.client_early, None);
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn malformed_lines_are_named_by_number_and_skipped() {
        let text = format!(
            "CLIENT_RANDOM {R}\nCLIENT_RANDOM zz {m}\nCLIENT_RANDOM {R} {short}\n\
             BOGUS_LABEL {R} {m}\nCLIENT_RANDOM {R} {m} extra\nCLIENT_RANDOM {R} {m}\n",
            m = "22".repeat(48),
            short = "22".repeat(32),
        );
        let mut log = KeyLog::new();
        let bad = log.add_text(text.as_bytes(), 1, 0);
        assert_eq!(
            bad.iter().map(|b| b.line).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(
            log.get(&random()).and_then(|s| s.master.clone()),
            Some(vec![0x22; 48])
        );
    }

    #[test]
    fn a_followed_file_gives_whole_lines_as_they_are_appended() -> std::io::Result<()> {
        use std::io::Write;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("keys.txt");
        let mut f = File::create(&path)?;
        let line = format!("CLIENT_RANDOM {R} {}\n", "33".repeat(48));
        let (head, tail) = line.split_at(40);
        f.write_all(b"# first\n")?;
        f.write_all(head.as_bytes())?;
        f.flush()?;
        let mut follow = KeyLogFile::new(&path, 0);
        let mut log = KeyLog::new();
        let first = follow.poll(&mut log)?;
        assert_eq!((first.lines, log.len()), (1, 0));
        f.write_all(tail.as_bytes())?;
        f.write_all(b"garbage\n")?;
        f.flush()?;
        let second = follow.poll(&mut log)?;
        assert_eq!(second.lines, 2);
        assert_eq!(log.len(), 1);
        assert_eq!(second.bad.first().map(|b| b.line), Some(3));
        Ok(())
    }

    #[test]
    fn a_full_store_counts_what_it_drops() {
        let mut log = KeyLog::new();
        let mut text = String::new();
        for i in 0..(MAX_ENTRIES + 5) {
            text.push_str(&format!("CLIENT_RANDOM {i:064x} {}\n", "44".repeat(48)));
        }
        assert_eq!(log.add_text(text.as_bytes(), 1, 0), []);
        assert_eq!(log.len(), MAX_ENTRIES);
        assert_eq!(log.dropped, 5);
    }

    #[test]
    fn secrets_written_back_are_read_the_same() {
        let cr = "ab".repeat(32);
        let text = format!(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET {cr} {a}\nSERVER_HANDSHAKE_TRAFFIC_SECRET {cr} {b}\n\
             CLIENT_TRAFFIC_SECRET_0 {cr} {c}\nSERVER_TRAFFIC_SECRET_0 {cr} {d}\n\
             EXPORTER_SECRET {cr} {a}\nCLIENT_RANDOM {o} {m}\n",
            a = "01".repeat(32),
            b = "02".repeat(32),
            c = "03".repeat(48),
            d = "04".repeat(32),
            o = "cd".repeat(32),
            m = "05".repeat(48),
        );
        let mut log = KeyLog::new();
        assert_eq!(log.add_text(text.as_bytes(), 1, 0), []);
        let random = [0xab; 32];
        let lines = log.get(&random).expect("entry").lines(&random);
        assert_eq!(lines.lines().count(), 4, "{lines}");
        assert!(lines.contains(&format!("SERVER_TRAFFIC_SECRET_0 {cr} {}", "04".repeat(32))));
        assert!(!lines.contains("EXPORTER") && !lines.contains("CLIENT_RANDOM"));
        let mut again = KeyLog::new();
        assert_eq!(again.add_text(lines.as_bytes(), 1, 0), []);
        assert_eq!(again.get(&random), log.get(&random));
        let other = [0xcd; 32];
        let master = log.get(&other).expect("tls 1.2").lines(&other);
        assert_eq!(
            master,
            format!("CLIENT_RANDOM {} {}\n", "cd".repeat(32), "05".repeat(48))
        );
    }
}
