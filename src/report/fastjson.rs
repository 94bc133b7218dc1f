//! A compact JSON serializer for serde, specialised for the report's records.
//!
//! It writes the same JSON as `serde_json::to_writer` (compact, same escapes, same number
//! formatting) about three times faster on our records, for two reasons measured with
//! callgrind on the benchmark capture: struct field names are written as they are (they are
//! Rust identifiers, never in need of escaping), each with its separator and colon as one
//! piece, and strings are scanned for bytes that need escaping eight at a time instead of one
//! at a time, plain runs copied whole. Records are still described once, by their
//! `#[derive(Serialize)]`; `tests::same_as_serde_json` and the golden tests check the output
//! against serde_json's.

use std::fmt;

use serde::ser::{self, Serialize};

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        std::io::Error::other(e.0)
    }
}

/// Appends the JSON of `value` to `out`.
pub fn to_vec<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(Ser { out })
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

/// The first byte at or after `from` that must be escaped: eight bytes at a time, the last
/// (partial) word read overlapping the one before it, so plain ASCII costs no per-byte work.
#[inline(always)]
fn find_escape(b: &[u8], from: usize) -> Option<usize> {
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
fn needs_escape(b: &[u8]) -> bool {
    find_escape(b, 0).is_some()
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
    out.reserve(b.len() + 8);
    out.push(b'"');
    let mut start = 0;
    let mut next = Some(first);
    while let Some(i) = next {
        out.extend_from_slice(b.get(start..i).unwrap_or_default());
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
        next = find_escape(b, start);
    }
    out.extend_from_slice(b.get(start..).unwrap_or_default());
    out.push(b'"');
}

struct Ser<'a> {
    out: &'a mut Vec<u8>,
}

pub struct Compound<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    close: u8,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b',');
        }
    }
    /// `"name":` for a struct field (with its `,`), written as one piece: a Rust identifier or
    /// a `rename` of one, never in need of escaping (checked in debug builds and by the
    /// equality tests). Inlined into each derived `serialize`, where the key is a literal, the
    /// piece is assembled from constants and copied with fixed-size moves, not `memcpy`.
    #[inline(always)]
    fn field_name(&mut self, key: &'static str) {
        debug_assert!(!needs_escape(key.as_bytes()), "{key}");
        let k = key.as_bytes();
        let n = k.len();
        let first = std::mem::replace(&mut self.first, false);
        const MAX: usize = 48;
        if n > MAX - 4 {
            return self.long_field_name(first, k);
        }
        let mut piece = [0u8; MAX];
        piece[0] = b',';
        piece[1] = b'"';
        piece[2..2 + n].copy_from_slice(k);
        piece[2 + n] = b'"';
        piece[3 + n] = b':';
        if first {
            self.out.extend_from_slice(&piece[1..n + 4]);
        } else {
            self.out.extend_from_slice(&piece[..n + 4]);
        }
    }

    #[cold]
    fn long_field_name(&mut self, first: bool, k: &[u8]) {
        if !first {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(k);
        self.out.extend_from_slice(b"\":");
    }
}

impl<'a> ser::Serializer for Ser<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        if v.is_finite() {
            self.out
                .extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
        } else {
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        let mut b = [0u8; 4];
        write_str(self.out, v.encode_utf8(&mut b));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        use ser::SerializeSeq;
        let mut s = self.serialize_seq(Some(v.len()))?;
        for b in v {
            s.serialize_element(b)?;
        }
        s.end()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        write_str(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
        v.serialize(Ser {
            out: &mut *self.out,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        self.out.push(b'[');
        Ok(Compound {
            out: self.out,
            first: true,
            close: b']',
        })
    }
    fn serialize_tuple(self, n: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(n))
    }
    fn serialize_tuple_struct(self, _: &'static str, n: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(n))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":[");
        Ok(Compound {
            out: self.out,
            first: true,
            close: b'}',
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        self.out.push(b'{');
        Ok(Compound {
            out: self.out,
            first: true,
            close: b'}',
        })
    }
    fn serialize_struct(self, _: &'static str, n: usize) -> Result<Compound<'a>, Error> {
        self.serialize_map(Some(n))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":{");
        Ok(Compound {
            out: self.out,
            first: true,
            close: b'}',
        })
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.comma();
        v.serialize(Ser {
            out: &mut *self.out,
        })
    }
    fn end(self) -> Result<(), Error> {
        self.out.push(b']');
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<(), Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<(), Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"]}");
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Error> {
        self.comma();
        k.serialize(KeySer {
            out: &mut *self.out,
        })?;
        self.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        v.serialize(Ser {
            out: &mut *self.out,
        })
    }
    fn end(self) -> Result<(), Error> {
        self.out.push(self.close);
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    #[inline(always)]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.field_name(key);
        v.serialize(Ser {
            out: &mut *self.out,
        })
    }
    fn end(self) -> Result<(), Error> {
        self.out.push(self.close);
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(self, key, v)
    }
    fn end(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"}}");
        Ok(())
    }
}

/// Map keys: strings (and, like serde_json, numbers and bools as strings).
struct KeySer<'a> {
    out: &'a mut Vec<u8>,
}

impl KeySer<'_> {
    fn quoted(self, s: &str) -> Result<(), Error> {
        write_str(self.out, s);
        Ok(())
    }
}

fn key_error() -> Error {
    Error("map key must be a string".into())
}

impl<'a> ser::Serializer for KeySer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.quoted(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }
    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        let mut b = [0u8; 4];
        self.quoted(v.encode_utf8(&mut b))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.quoted(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    fn ours<T: Serialize>(v: &T) -> String {
        let mut out = Vec::new();
        to_vec(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[derive(Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Tagged {
        A { x: u8, name: String },
        B(Inner),
    }

    #[derive(Serialize)]
    struct Inner {
        f: f64,
        n: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        v: Vec<i32>,
        m: BTreeMap<String, u64>,
        t: (u8, bool),
        e: Unit,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    enum Unit {
        SomeThing,
    }

    #[test]
    fn same_as_serde_json_on_shapes_the_records_use() {
        let mut m = BTreeMap::new();
        m.insert("EN10MB (1)\"q\"".to_string(), 3);
        let vals = [
            Tagged::A {
                x: 7,
                name: "a\"b\\c\n\u{1}é\u{7f}".into(),
            },
            Tagged::B(Inner {
                f: 1_700_000_000.123_456,
                n: None,
                skipped: None,
                v: vec![-1, 0, 2],
                m,
                t: (1, true),
                e: Unit::SomeThing,
            }),
        ];
        for v in &vals {
            assert_eq!(ours(v), serde_json::to_string(v).unwrap());
        }
        assert_eq!(ours(&f64::NAN), "null");
        assert_eq!(
            ours(&[0.1f64, 1e300, -0.0]),
            serde_json::to_string(&[0.1f64, 1e300, -0.0]).unwrap()
        );
    }

    proptest! {
        #[test]
        fn strings_escape_exactly_like_serde_json(s in ".*", bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(ours(&s), serde_json::to_string(&s).unwrap());
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            prop_assert_eq!(ours(&lossy), serde_json::to_string(&lossy).unwrap());
        }

        /// Escapes next to each other and to the bytes a word-at-a-time borrow can flag
        /// falsely (`#` after `"`, `]` after `\\`, 0x01 and 0x20 after a control byte), at
        /// every offset of the words and of the overlapping last word.
        #[test]
        fn escapes_at_word_boundaries_like_serde_json(
            cs in proptest::collection::vec(
                proptest::sample::select(vec!['a', '"', '#', '\\', ']', '\n', '\u{0}', '\u{1}', '\u{1f}', ' ', '!', 'é', '\u{7f}']),
                0..40,
            )
        ) {
            let s: String = cs.into_iter().collect();
            prop_assert_eq!(ours(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
