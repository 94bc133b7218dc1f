//! Making untrusted text safe for a terminal.
//!
//! Bytes from the wire never reach the terminal as control sequences: C0 and C1 controls,
//! DEL and invalid UTF-8 are shown as escapes (`\x1b`, `\u{9b}`), backslashes are doubled.

use std::fmt::Write;

/// Escapes `bytes` for display on a terminal.
pub fn terminal_safe(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Escapes a string for display on a terminal.
pub fn terminal_safe_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_char(&mut out, c);
    }
    out
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        // C1 controls (CSI is U+009B) and the bidi overrides that reorder what is shown.
        c if (0x80..0xa0).contains(&(c as u32))
            || matches!(c as u32, 0x202a..=0x202e | 0x2066..=0x2069) =>
        {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls() {
        assert_eq!(terminal_safe(b"a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(terminal_safe("x\u{9b}31m".as_bytes()), "x\\u{9b}31m");
        assert_eq!(terminal_safe(b"\xff\xfeok"), "\\xff\\xfeok");
        assert_eq!(terminal_safe(b"tab\there\r\n"), "tab\\there\\r\\n");
        assert_eq!(
            terminal_safe("caf\u{e9} \u{202e}".as_bytes()),
            "caf\u{e9} \\u{202e}"
        );
        assert_eq!(terminal_safe_str("a\\b"), "a\\\\b");
    }
}
