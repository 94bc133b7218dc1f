//! Whether credentials and cookie values are masked in what hopscope writes: masked unless the
//! user asked with `--reveal-secrets` (one switch for every output: JSON, NDJSON, text, HAR,
//! the terminal UI). Process-wide: set once by the command line before a run starts and only
//! read afterwards; the library's default, and its tests', is masked.

use std::sync::atomic::{AtomicBool, Ordering};

static REVEAL: AtomicBool = AtomicBool::new(false);

/// Show credentials and cookie values as sent (`--reveal-secrets`). Dangerous: the report then
/// holds passwords, tokens and session cookies in clear.
pub fn reveal(on: bool) {
    REVEAL.store(on, Ordering::Relaxed);
}

/// Whether secrets are written as sent.
pub fn revealed() -> bool {
    REVEAL.load(Ordering::Relaxed)
}
