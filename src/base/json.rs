//! JSON strings written fast, and the hook by which a model type hands the report's JSON
//! writer (`report::fastjson`) its JSON already written.
//!
//! Here, below the model and the report, so the model's hottest types (header lists) can
//! write their own JSON with the same escapes the writer uses for every other string.

/// The newtype-struct name under which a value offers its JSON already written: the report's
/// writer answers it with a serializer that is not human-readable and takes the JSON through
/// `serialize_bytes`; any other serializer (serde_json in tests and the UI) sees an ordinary
/// newtype and gets the value's structured form. See [`Raw`].
pub const RAW: &str = "\0hopscope-raw-json";

/// A value whose JSON `W` writes directly: serialized under [`RAW`], it gives the report's
/// writer its JSON in one piece, and any other serializer its structured form.
pub struct Raw<'a, T: ?Sized>(pub &'a T);

/// Types that write their own JSON (the same bytes their structured form gives serde_json),
/// or `false` to use the structured form.
pub trait WriteJson {
    fn write_json(&self, out: &mut Vec<u8>) -> bool;
    fn serialize_structured<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

std::thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Scratch kept at most this large between uses.
const SCRATCH_KEEP: usize = 64 << 10;

impl<T: WriteJson + ?Sized> serde::Serialize for Raw<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return self.0.serialize_structured(s);
        }
        SCRATCH.with(|cell| {
            let Ok(mut buf) = cell.try_borrow_mut() else {
                return self.0.serialize_structured(s);
            };
            buf.clear();
            if !self.0.write_json(&mut buf) {
                drop(buf);
                return self.0.serialize_structured(s);
            }
            let r = s.serialize_bytes(&buf);
            if buf.capacity() > SCRATCH_KEEP {
                *buf = Vec::new();
            }
            r
        })
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// A mask with the high bit set in (at least) the lowest byte of `w` (little-endian) that is
/// a control byte, `"` or `\\`, and zero when there is none. Higher bytes may be flagged
/// falsely (a borrow runs upwards), the lowest flagged one never is.
#[inline(always)]
fn escape_mask(w: u64) -> u64 {
    let ctl = w.wrapping_sub(LO * 0x20) & !w;
    let q = w ^ (LO * u64::from(b'"'));
    let q = q.wrapping_sub(LO) & !q;
    let b = w ^ (LO * u64::from(b'\\'));
    let b = b.wrapping_sub(LO) & !b;
    (ctl | q | b) & HI
}

#[inline(always)]
fn word_at(b: &[u8], i: usize) -> u64 {
    match b.get(i..i + 8) {
        Some(&[a0, a1, a2, a3, a4, a5, a6, a7]) => {
            u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7])
        }
        _ => 0,
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes that must be escaped in a JSON string.
static ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Whether any of 16 bytes must be escaped: written so the compiler makes it a few vector
/// compares (SSE2), about one instruction a byte.
#[inline(always)]
fn escape16(c: &[u8; 16]) -> bool {
    c.iter()
        .fold(false, |m, &x| m | (x < 0x20) | (x == b'"') | (x == b'\\'))
}

/// [`escape16`], and bytes from 0x80 (not ASCII): a signed compare catches both ranges.
#[inline(always)]
fn special16(c: &[u8; 16]) -> bool {
    c.iter().fold(false, |m, &x| {
        m | ((x as i8) < 0x20) | (x == b'"') | (x == b'\\')
    })
}

#[inline(always)]
fn chunk_at(b: &[u8], i: usize) -> Option<&[u8; 16]> {
    b.get(i..i.wrapping_add(16))?.try_into().ok()
}

/// The first byte to escape in the 16 at `i`, known to hold one.
#[inline(always)]
fn first_in_chunk(b: &[u8], i: usize) -> usize {
    let m = escape_mask(word_at(b, i));
    if m != 0 {
        i + (m.trailing_zeros() / 8) as usize
    } else {
        i + 8 + (escape_mask(word_at(b, i + 8)).trailing_zeros() / 8) as usize
    }
}

/// The first byte at or after `from` that must be escaped: sixteen bytes at a time (vector
/// compares), then eight (the last word read overlapping the one before it), so plain ASCII
/// costs no per-byte work.
#[inline(always)]
pub fn find_escape(b: &[u8], from: usize) -> Option<usize> {
    let n = b.len();
    let mut i = from;
    if i + 16 <= n {
        while let Some(c) = chunk_at(b, i) {
            if escape16(c) {
                return Some(first_in_chunk(b, i));
            }
            i += 16;
        }
        if i < n {
            // The overlap, `n - 16..i`, lies in `from..i`, known plain, so the lowest
            // flagged byte of the last sixteen is a true one at or after `i`.
            return match chunk_at(b, n - 16) {
                Some(c) if escape16(c) => Some(first_in_chunk(b, n - 16)),
                _ => None,
            };
        }
        return None;
    }
    find_escape_words(b, from)
}

/// `find_escape` eight bytes at a time.
#[inline(always)]
fn find_escape_words(b: &[u8], from: usize) -> Option<usize> {
    let n = b.len();
    if from + 8 > n {
        return find_escape_short(b, from);
    }
    let mut i = from;
    while i + 8 <= n {
        let m = escape_mask(word_at(b, i));
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    if i < n {
        // The overlap, `n - 8..i`, lies in `from..i`, known plain, so the lowest flagged
        // byte is a true one at or after `i`.
        let m = escape_mask(word_at(b, n - 8));
        if m != 0 {
            return Some(n - 8 + (m.trailing_zeros() / 8) as usize);
        }
    }
    None
}

/// `find_escape` for fewer than eight bytes from `from`: a whole string of four to seven
/// bytes is checked as two overlapping four-byte halves, otherwise byte by byte.
#[inline(always)]
fn find_escape_short(b: &[u8], from: usize) -> Option<usize> {
    if from == 0
        && let (Some(&[a0, a1, a2, a3]), Some(&[c0, c1, c2, c3])) =
            (b.get(..4), b.get(b.len().wrapping_sub(4)..))
        && escape_mask(u64::from_le_bytes([a0, a1, a2, a3, c0, c1, c2, c3])) == 0
    {
        return None;
    }
    b.get(from..)?
        .iter()
        .position(|&c| ESCAPE[usize::from(c)])
        .map(|p| from + p)
}

/// Whether any byte of `b` must be escaped.
pub fn needs_escape(b: &[u8]) -> bool {
    find_escape(b, 0).is_some()
}

/// Whether `b` is ASCII with nothing to escape: a word at a time (the escape mask with the
/// high bits), so a string that will be written as it is needs no separate UTF-8 check.
#[inline(always)]
pub fn plain_ascii(b: &[u8]) -> bool {
    #[inline(always)]
    fn special(w: u64) -> bool {
        (escape_mask(w) | (w & HI)) != 0
    }
    let n = b.len();
    if n >= 16 {
        let mut i = 0;
        while let Some(c) = chunk_at(b, i) {
            if special16(c) {
                return false;
            }
            i += 16;
        }
        return i == n || chunk_at(b, n - 16).is_some_and(|c| !special16(c));
    }
    if n < 8 {
        if let (Some(&[a0, a1, a2, a3]), Some(&[c0, c1, c2, c3])) =
            (b.get(..4), b.get(n.wrapping_sub(4)..))
        {
            return !special(u64::from_le_bytes([a0, a1, a2, a3, c0, c1, c2, c3]));
        }
        return b.iter().all(|&c| c < 0x80 && !ESCAPE[usize::from(c)]);
    }
    !special(word_at(b, 0)) && !special(word_at(b, n - 8))
}

/// Writes bytes `b` as a JSON string when they are UTF-8 (`false`, and nothing written,
/// when not): plain ASCII, the common case, is found and written in one pass.
#[inline]
pub fn write_text(out: &mut Vec<u8>, b: &[u8]) -> bool {
    if plain_ascii(b) {
        write_plain(out, b);
        return true;
    }
    match std::str::from_utf8(b) {
        Ok(s) => {
            write_str(out, s);
            true
        }
        Err(_) => false,
    }
}

/// Writes `s` as a JSON string, with serde_json's escapes.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    match find_escape(b, 0) {
        None => write_plain(out, b),
        Some(i) => write_escaped(out, b, i),
    }
}

/// A string with nothing to escape, quoted. Up to 32 bytes (most header names and values)
/// it is assembled in a stack array with fixed-size (overlapping) copies and appended with
/// one fixed-size copy, the surplus cut off, instead of three appends and a `memcpy` call.
#[inline(always)]
fn write_plain(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    if n > 32 {
        out.reserve(n + 2);
        out.push(b'"');
        out.extend_from_slice(b);
        out.push(b'"');
        return;
    }
    let mut piece = [0u8; 34];
    piece[0] = b'"';
    if n >= 16 {
        piece[1..17].copy_from_slice(&b[..16]);
        piece[n - 15..n + 1].copy_from_slice(&b[n - 16..]);
    } else if n >= 8 {
        piece[1..9].copy_from_slice(&b[..8]);
        piece[n - 7..n + 1].copy_from_slice(&b[n - 8..]);
    } else if n >= 4 {
        piece[1..5].copy_from_slice(&b[..4]);
        piece[n - 3..n + 1].copy_from_slice(&b[n - 4..]);
    } else {
        for (d, &c) in piece[1..].iter_mut().zip(b) {
            *d = c;
        }
    }
    piece[n + 1] = b'"';
    let len = out.len();
    out.extend_from_slice(&piece);
    out.truncate(len + n + 2);
}

/// `b` as a JSON string whose first byte to escape is at `first`: runs of plain bytes copied
/// whole, found a word at a time.
#[cold]
fn write_escaped(out: &mut Vec<u8>, b: &[u8], first: usize) {
    out.reserve(b.len() + b.len() / 4 + 8);
    out.push(b'"');
    let mut start = 0;
    let mut next = Some(first);
    while let Some(i) = next {
        copy_run(out, b, start, i);
        let c = b.get(i).copied().unwrap_or_default();
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xf)]);
            }
        }
        start = i + 1;
        next = find_escape_words(b, start);
    }
    out.extend_from_slice(b.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// Appends `b[start..end]`: a run of up to 16 bytes (escapes are dense in the strings that
/// have them) as one fixed-size copy of the 16 from `start`, cut back to the run, when `b`
/// holds them; longer runs with `memcpy`.
#[inline(always)]
fn copy_run(out: &mut Vec<u8>, b: &[u8], start: usize, end: usize) {
    let len = end.saturating_sub(start);
    if len <= 16
        && let Some(c) = chunk_at(b, start)
    {
        let at = out.len();
        out.extend_from_slice(c);
        out.truncate(at + len);
        return;
    }
    out.extend_from_slice(b.get(start..end).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn naive_find(b: &[u8], from: usize) -> Option<usize> {
        (from..b.len()).find(|&i| ESCAPE[usize::from(b[i])])
    }

    /// Bytes near the ones that matter: the escapes, their neighbours (which a borrow can
    /// flag falsely), 0x7f/0x80 (the signed compare's edge), a plain letter.
    fn near_miss() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                b'a', b'"', b'#', b'!', b'\\', b']', b'[', 0, 1, 0x1f, 0x20, 0x7f, 0x80, 0xc3,
                0xa9, 0xff, b'\n',
            ]),
            0..70,
        )
    }

    proptest! {
        /// The vector and word scans find what a byte-by-byte scan finds, from every offset.
        #[test]
        fn scans_agree_with_byte_by_byte(b in near_miss()) {
            for from in 0..=b.len() {
                prop_assert_eq!(find_escape(&b, from), naive_find(&b, from));
                prop_assert_eq!(find_escape_words(&b, from), naive_find(&b, from));
            }
            let plain = b.iter().all(|&c| c < 0x80 && !ESCAPE[usize::from(c)]);
            prop_assert_eq!(plain_ascii(&b), plain);
        }

        /// `write_text` writes what serde_json writes of the text, and nothing when the bytes
        /// are not UTF-8.
        #[test]
        fn write_text_is_serde_json(b in near_miss()) {
            let mut out = b"x".to_vec();
            let ok = write_text(&mut out, &b);
            match std::str::from_utf8(&b) {
                Ok(s) => {
                    prop_assert!(ok);
                    let want = format!("x{}", serde_json::to_string(s).unwrap());
                    prop_assert_eq!(String::from_utf8(out).unwrap(), want);
                }
                Err(_) => {
                    prop_assert!(!ok);
                    prop_assert_eq!(out, b"x".to_vec());
                }
            }
        }
    }
}
