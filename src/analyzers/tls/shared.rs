//! What every TLS stream of a run shares: the secrets of every key source (files given with
//! `--tls-keylog`, `$SSLKEYLOGFILE`, pcapng Decryption Secrets Blocks), the files followed as
//! they grow (live), and the run's TLS counters.

use super::keylog::{BadLine, KeyLog, KeyLogFile, MAX_REPORTED, Polled};
use crate::model::tunnel::TlsStats;
use crate::model::{Finding, codes};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a followed key log is left alone after a look that found nothing new, while
/// connections wait for their keys (a look is a `stat`, and a read when the file grew).
const POLL_EVERY: Duration = Duration::from_millis(10);
/// Bytes of encrypted records a connection keeps while its keys are not in the key log yet
/// (live only).
pub const LIVE_HOLD: usize = 1 << 20;
/// Secrets blocks read from one capture (bytes); past it they are skipped with a finding.
const MAX_BLOCK_BYTES: usize = 64 << 20;

/// Where keys come from, as the command line and environment gave them.
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    /// `--tls-keylog FILE`, in order.
    pub keylogs: Vec<PathBuf>,
    /// `$SSLKEYLOGFILE`, used when no `--tls-keylog` was given.
    pub env_keylog: Option<PathBuf>,
    /// A live capture: key logs are followed as they grow, records wait for their keys.
    pub live: bool,
}

/// The TLS part of what every stream's layers share.
pub struct TlsShared {
    pub keys: KeyLog,
    files: Vec<KeyLogFile>,
    /// Bytes of encrypted records a connection may hold while waiting for keys (0: none).
    pub hold: usize,
    last_poll: Option<Instant>,
    /// Findings about the key sources, raised at the next chance to report.
    pending: Vec<Finding>,
    pub stats: TlsStats,
    block_bytes: usize,
}

impl Default for TlsShared {
    fn default() -> Self {
        TlsShared::new(TlsConfig::default())
    }
}

impl TlsShared {
    /// Reads every key log given (a live run's files are followed from here on).
    pub fn new(cfg: TlsConfig) -> Self {
        let mut sh = TlsShared {
            keys: KeyLog::new(),
            files: Vec::new(),
            hold: if cfg.live { LIVE_HOLD } else { 0 },
            last_poll: None,
            pending: Vec::new(),
            stats: TlsStats::default(),
            block_bytes: 0,
        };
        let from_env = cfg.keylogs.is_empty();
        let paths = if from_env {
            cfg.env_keylog.into_iter().collect()
        } else {
            cfg.keylogs
        };
        for path in paths {
            let shown = path.display().to_string();
            let name = if from_env {
                format!("$SSLKEYLOGFILE ({shown})")
            } else {
                shown
            };
            let source = sh.keys.add_source(name);
            let mut f = KeyLogFile::new(&path, source);
            let read = if cfg.live {
                f.poll(&mut sh.keys)
            } else {
                f.read_all(&mut sh.keys)
            };
            match read {
                Ok(p) => sh.malformed(source, &p),
                // Live: the client may not have written it yet.
                Err(e) if cfg.live && e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => sh.pending.push(Finding::new(
                    &codes::TLS_KEYLOG_UNREADABLE,
                    format!(
                        "key log {}: {e}; TLS is analysed without it",
                        sh.keys.source(source)
                    ),
                )),
            }
            if cfg.live {
                sh.files.push(f);
            }
        }
        sh.stats.key_sources = sh.keys.sources.clone();
        sh
    }

    /// Key sources were given (a file, the environment, a secrets block).
    pub fn any_source(&self) -> bool {
        !self.keys.sources.is_empty()
    }

    /// A pcapng Decryption Secrets Block of type `kind` at byte `at` of the capture.
    pub fn secrets_block(&mut self, kind: u32, at: u64, data: &[u8]) {
        // "TLSK": the NSS key log format (pcapng §4.7).
        if kind != crate::capture::pcapng::SECRETS_TLS_KEY_LOG {
            return;
        }
        if self.block_bytes + data.len() > MAX_BLOCK_BYTES {
            self.pending.push(Finding::new(
                &codes::TLS_KEYLOG_UNREADABLE,
                format!(
                    "the capture's secrets block at byte {at} is skipped: the capture's secrets \
                     blocks hold more than {} MiB",
                    MAX_BLOCK_BYTES >> 20
                ),
            ));
            return;
        }
        self.block_bytes += data.len();
        let source = self
            .keys
            .add_source(format!("pcapng secrets block at byte {at}"));
        let bad = self.keys.add_text(data, 1, source);
        let n = bad.len();
        let polled = Polled {
            lines: 0,
            more_bad: n.saturating_sub(MAX_REPORTED),
            bad: bad.into_iter().take(MAX_REPORTED).collect(),
        };
        self.malformed(source, &polled);
        self.stats.key_sources = self.keys.sources.clone();
    }

    /// Live: reads what the followed key logs gained, at most every 10 ms.
    pub fn refresh(&mut self) {
        if self.files.is_empty() || self.last_poll.is_some_and(|t| t.elapsed() < POLL_EVERY) {
            return;
        }
        self.last_poll = Some(Instant::now());
        let mut files = std::mem::take(&mut self.files);
        for f in &mut files {
            if let Ok(p) = f.poll(&mut self.keys) {
                self.malformed(f.source, &p);
            }
        }
        self.files = files;
    }

    /// Findings about the key sources not reported yet.
    pub fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.pending)
    }

    pub fn has_findings(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The end of the run: a key log that opened nothing is said once.
    pub fn finish(&mut self) {
        self.stats.keys = self.keys.len() as u64;
        self.stats.key_sources = self.keys.sources.clone();
        if self.any_source() && self.keys.used == 0 && self.stats.connections > 0 {
            self.pending.push(Finding::new(
                &codes::TLS_KEYLOG_UNUSED,
                format!(
                    "{} client randoms were read from {}, but none is the random of one of the \
                     capture's {} TLS connections",
                    self.keys.len(),
                    self.keys.sources.join(", "),
                    self.stats.connections
                ),
            ));
        }
    }

    fn malformed(&mut self, source: u16, p: &Polled) {
        let name = self.keys.source(source).to_string();
        for BadLine { line, why } in &p.bad {
            self.pending.push(Finding::new(
                &codes::TLS_KEYLOG_MALFORMED,
                format!("key log {name}, line {line}: {why}; the line is skipped"),
            ));
        }
        if p.more_bad > 0 {
            self.pending.push(Finding::new(
                &codes::TLS_KEYLOG_MALFORMED,
                format!(
                    "key log {name}: {} more malformed lines were skipped",
                    p.more_bad
                ),
            ));
        }
    }

    /// Bytes held: the secrets.
    pub fn heap_bytes(&self) -> usize {
        self.keys.heap_bytes()
    }
}
