//! A compact binary form of records: varints for numbers, length-prefixed bytes for strings,
//! every field written (destructured, so a field added to a record does not go unnoticed).
//! The UI's spool (`tui::codec`) keeps transactions, messages and connections in it; the
//! engine keeps closed connections' lingering records in it (a packed record is a third of
//! the 416-byte struct and its two strings).
//!
//! Decoding never panics: bytes that do not decode give `None`.

use std::net::IpAddr;
use std::sync::Mutex;

use rustc_hash::FxHashSet;

use crate::base::Timestamp;
use crate::model::http::{BodyFraming, BodyRecord, BodyState, Headers, HopReason, MessageStart};
use crate::model::{CloseKind, ConnectionRecord, DirStats, Endpoint, SeenIn};

/// The `&'static str` fields come back as the same static strings: they only ever hold a
/// few names the analyzers know, so the set kept here stays small.
pub fn intern(s: &str) -> &'static str {
    static SET: Mutex<Option<FxHashSet<&'static str>>> = Mutex::new(None);
    let mut g = match SET.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let set = g.get_or_insert_with(FxHashSet::default);
    if let Some(x) = set.get(s) {
        return x;
    }
    // Bounded: past a few hundred distinct names (not something the analyzers make) the
    // string is not kept.
    if set.len() >= 1024 {
        return "?";
    }
    let x: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(x);
    x
}

/// Writes values.
#[derive(Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    pub(crate) fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    pub(crate) fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }
    pub(crate) fn b(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }
    pub(crate) fn f(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.u(v.len() as u64);
        self.0.extend_from_slice(v);
    }
    pub(crate) fn s(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    pub(crate) fn opt<T>(&mut self, v: &Option<T>, f: impl FnOnce(&mut Self, &T)) {
        match v {
            Some(x) => {
                self.0.push(1);
                f(self, x);
            }
            None => self.0.push(0),
        }
    }
    pub(crate) fn strs(&mut self, v: &[String]) {
        self.u(v.len() as u64);
        for s in v {
            self.s(s);
        }
    }
    pub(crate) fn ts(&mut self, t: Timestamp) {
        self.i(t.0);
    }
    pub(crate) fn endpoint(&mut self, e: &Endpoint) {
        match e.ip {
            IpAddr::V4(a) => {
                self.0.push(4);
                self.0.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                self.0.push(6);
                self.0.extend_from_slice(&a.octets());
            }
        }
        self.u(u64::from(e.port));
    }
    pub(crate) fn headers(&mut self, h: &Headers) {
        self.u(h.len() as u64);
        for f in h.iter() {
            self.bytes(f.name);
            self.bytes(f.value);
            let hop = match f.hop_by_hop {
                None => 0,
                Some(HopReason::Standard) => 1,
                Some(HopReason::NamedInConnection) => 2,
                Some(HopReason::ForbiddenInHttp2) => 3,
            };
            self.0
                .push(hop | (u8::from(f.masked) << 2) | (u8::from(f.pseudo) << 3));
        }
    }
    pub(crate) fn at(&mut self, a: &MessageStart) {
        self.u(a.packet);
        self.u(a.stream_offset);
        self.u(a.head_bytes);
    }
    pub(crate) fn body(&mut self, x: &BodyRecord) {
        let BodyRecord {
            framing,
            state,
            wire_length,
            length,
            decoded_length,
            decoding,
            content_type,
            content_encoding,
            transfer_encoding,
            missing_bytes,
            chunks,
            chunk_extensions,
            trailers,
            preview,
            preview_b64,
            preview_truncated,
            byteranges: _,
            digest,
        } = x;
        self.0.push(match framing {
            BodyFraming::None => 0,
            BodyFraming::ContentLength => 1,
            BodyFraming::Chunked => 2,
            BodyFraming::Close => 3,
            BodyFraming::Http2Data => 4,
        });
        self.0.push(match state {
            BodyState::Complete => 0,
            BodyState::Partial => 1,
            BodyState::Incomplete => 2,
            BodyState::Error => 3,
        });
        self.u(*wire_length);
        self.u(*length);
        self.opt(decoded_length, |e, v| e.u(*v));
        self.opt(decoding, |e, v| e.s(v));
        self.opt(content_type, |e, v| e.s(v));
        self.strs(content_encoding);
        self.strs(transfer_encoding);
        self.u(*missing_bytes);
        self.opt(chunks, |e, v| e.u(*v));
        self.strs(chunk_extensions);
        self.headers(trailers);
        self.opt(preview, |e, v| e.s(v));
        self.opt(preview_b64, |e, v| e.s(v));
        self.b(*preview_truncated);
        self.opt(digest, |e, v| e.u(*v));
    }
    pub(crate) fn opt_ts(&mut self, t: &Option<Timestamp>) {
        self.opt(t, |e, v| e.ts(*v));
    }
}

pub(crate) fn close_code(c: CloseKind) -> u8 {
    match c {
        CloseKind::Fin => 0,
        CloseKind::Rst => 1,
        CloseKind::Timeout => 2,
        CloseKind::Open => 3,
        CloseKind::Evicted => 4,
        CloseKind::Reused => 5,
    }
}

pub(crate) fn enc_dir(e: &mut Enc, d: &DirStats) {
    let DirStats {
        packets,
        wire_bytes,
        bytes,
        gaps,
        missing_bytes,
        retransmitted,
        out_of_order,
        overlapping,
        overlap_conflicts,
        overlap_unverified_bytes,
        late_bytes,
        sequence_jumps,
    } = d;
    for v in [
        packets,
        wire_bytes,
        bytes,
        gaps,
        missing_bytes,
        retransmitted,
        out_of_order,
        overlapping,
        overlap_conflicts,
        overlap_unverified_bytes,
        late_bytes,
        sequence_jumps,
    ] {
        e.u(*v);
    }
}

/// Writes a connection, all but its TLS (which its row keeps).
pub fn encode_conn(c: &ConnectionRecord, out: &mut Vec<u8>) {
    encode_conn_with(c, &c.community_id, out);
}

/// [`encode_conn`] with the Community ID given apart (the record's own is not read): the
/// engine packs a closed connection's record without making its Community ID a `String`.
pub fn encode_conn_with(c: &ConnectionRecord, community_id: &str, out: &mut Vec<u8>) {
    let mut e = Enc(std::mem::take(out));
    let ConnectionRecord {
        id,
        client,
        server,
        community_id: _,
        client_reason,
        start,
        end,
        first_packet,
        last_packet,
        files,
        also_seen_in,
        handshake,
        handshake_s,
        close,
        client_isn,
        server_isn,
        client_to_server,
        server_to_client,
        tls: _,
    } = c;
    e.u(*id);
    e.endpoint(client);
    e.endpoint(server);
    e.s(community_id);
    e.s(client_reason);
    e.ts(*start);
    e.ts(*end);
    e.u(*first_packet);
    e.u(*last_packet);
    e.u(files.len() as u64);
    for f in files {
        e.u(u64::from(*f));
    }
    e.u(also_seen_in.len() as u64);
    for x in also_seen_in {
        let SeenIn {
            file,
            packets,
            bytes,
            clock_offset_s,
            clock_offset_uncertainty_s,
        } = x;
        e.u(u64::from(*file));
        e.u(*packets);
        e.u(*bytes);
        e.opt(clock_offset_s, |e, v| e.f(*v));
        e.opt(clock_offset_uncertainty_s, |e, v| e.f(*v));
    }
    e.b(*handshake);
    e.opt(handshake_s, |e, v| e.f(*v));
    e.0.push(close_code(*close));
    e.opt(client_isn, |e, v| e.u(u64::from(*v)));
    e.opt(server_isn, |e, v| e.u(u64::from(*v)));
    enc_dir(&mut e, client_to_server);
    enc_dir(&mut e, server_to_client);
    *out = e.0;
}

/// Reads values back; every read checks the bytes left.
pub struct Dec<'a> {
    pub(crate) b: &'a [u8],
}

impl<'a> Dec<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Dec { b }
    }
    pub(crate) fn byte(&mut self) -> Option<u8> {
        let (x, rest) = self.b.split_first()?;
        self.b = rest;
        Some(*x)
    }
    /// A varint; one byte (below 128: most counts) without the loop.
    #[inline]
    pub(crate) fn u(&mut self) -> Option<u64> {
        match self.b.split_first() {
            Some((&x, rest)) if x < 0x80 => {
                self.b = rest;
                Some(u64::from(x))
            }
            _ => self.u_long(),
        }
    }
    fn u_long(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let x = self.byte()?;
            v |= u64::from(x & 0x7f) << shift;
            if x & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.u()?).ok()
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        u16::try_from(self.u()?).ok()
    }
    pub(crate) fn i(&mut self) -> Option<i64> {
        let v = self.u()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }
    pub(crate) fn b(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    pub(crate) fn f(&mut self) -> Option<f64> {
        let (x, rest) = self.b.split_first_chunk::<8>()?;
        self.b = rest;
        Some(f64::from_bits(u64::from_le_bytes(*x)))
    }
    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u()?).ok()?;
        if n > self.b.len() {
            return None;
        }
        let (x, rest) = self.b.split_at(n);
        self.b = rest;
        Some(x)
    }
    pub(crate) fn s(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    #[inline]
    pub(crate) fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.byte()? {
            0 => Some(None),
            1 => f(self).map(Some),
            _ => None,
        }
    }
    /// A count of items each at least one byte long: no more than the bytes left.
    pub(crate) fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u()?).ok()?;
        (n <= self.b.len()).then_some(n)
    }
    pub(crate) fn strs(&mut self) -> Option<Vec<String>> {
        let n = self.count()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.s()?);
        }
        Some(v)
    }
    pub(crate) fn ts(&mut self) -> Option<Timestamp> {
        self.i().map(Timestamp)
    }
    pub(crate) fn opt_ts(&mut self) -> Option<Option<Timestamp>> {
        self.opt(|d| d.ts())
    }
    pub(crate) fn endpoint(&mut self) -> Option<Endpoint> {
        let ip = match self.byte()? {
            4 => {
                let (a, rest) = self.b.split_first_chunk::<4>()?;
                self.b = rest;
                IpAddr::from(*a)
            }
            6 => {
                let (a, rest) = self.b.split_first_chunk::<16>()?;
                self.b = rest;
                IpAddr::from(*a)
            }
            _ => return None,
        };
        Some(Endpoint {
            ip,
            port: self.u16()?,
        })
    }
    pub(crate) fn headers(&mut self) -> Option<Headers> {
        let n = self.count()?;
        let mut h = Headers::with_capacity(n, 0);
        for _ in 0..n {
            let name = self.bytes()?;
            let value = self.bytes()?;
            let flags = self.byte()?;
            if flags & 8 != 0 {
                h.push_pseudo(name, value);
                continue;
            }
            let hop = match flags & 3 {
                0 => None,
                1 => Some(HopReason::Standard),
                2 => Some(HopReason::NamedInConnection),
                _ => Some(HopReason::ForbiddenInHttp2),
            };
            h.push(name, value, hop, flags & 4 != 0);
        }
        Some(h)
    }
    pub(crate) fn at(&mut self) -> Option<MessageStart> {
        Some(MessageStart {
            packet: self.u()?,
            stream_offset: self.u()?,
            head_bytes: self.u()?,
        })
    }
    pub(crate) fn body(&mut self) -> Option<BodyRecord> {
        Some(BodyRecord {
            framing: match self.byte()? {
                0 => BodyFraming::None,
                1 => BodyFraming::ContentLength,
                2 => BodyFraming::Chunked,
                3 => BodyFraming::Close,
                4 => BodyFraming::Http2Data,
                _ => return None,
            },
            state: match self.byte()? {
                0 => BodyState::Complete,
                1 => BodyState::Partial,
                2 => BodyState::Incomplete,
                3 => BodyState::Error,
                _ => return None,
            },
            wire_length: self.u()?,
            length: self.u()?,
            decoded_length: self.opt(|d| d.u())?,
            decoding: self.opt(|d| d.s().map(|s| intern(&s)))?,
            content_type: self.opt(|d| d.s())?,
            content_encoding: self.strs()?,
            transfer_encoding: self.strs()?,
            missing_bytes: self.u()?,
            chunks: self.opt(|d| d.u())?,
            chunk_extensions: self.strs()?,
            trailers: self.headers()?,
            preview: self.opt(|d| d.s())?,
            preview_b64: self.opt(|d| d.s())?,
            preview_truncated: self.b()?,
            byteranges: None,
            digest: self.opt(|d| d.u())?,
        })
    }
}

pub(crate) fn dec_dir(d: &mut Dec<'_>) -> Option<DirStats> {
    Some(DirStats {
        packets: d.u()?,
        wire_bytes: d.u()?,
        bytes: d.u()?,
        gaps: d.u()?,
        missing_bytes: d.u()?,
        retransmitted: d.u()?,
        out_of_order: d.u()?,
        overlapping: d.u()?,
        overlap_conflicts: d.u()?,
        overlap_unverified_bytes: d.u()?,
        late_bytes: d.u()?,
        sequence_jumps: d.u()?,
    })
}

/// Reads a connection back (`tls`: its row's); `None` when the bytes are not one.
pub fn decode_conn(
    b: &[u8],
    tls: Option<Box<crate::model::tunnel::TlsInfo>>,
) -> Option<ConnectionRecord> {
    let mut d = Dec::new(b);
    let id = d.u()?;
    let client = d.endpoint()?;
    let server = d.endpoint()?;
    let community_id = d.s()?;
    let client_reason = d.s()?;
    let start = d.ts()?;
    let end = d.ts()?;
    let first_packet = d.u()?;
    let last_packet = d.u()?;
    let n = d.count()?;
    let mut files = Vec::with_capacity(n);
    for _ in 0..n {
        files.push(d.u32()?);
    }
    let n = d.count()?;
    let mut also_seen_in = Vec::with_capacity(n);
    for _ in 0..n {
        also_seen_in.push(SeenIn {
            file: d.u32()?,
            packets: d.u()?,
            bytes: d.u()?,
            clock_offset_s: d.opt(|d| d.f())?,
            clock_offset_uncertainty_s: d.opt(|d| d.f())?,
        });
    }
    let c = ConnectionRecord {
        id,
        client,
        server,
        community_id,
        client_reason,
        start,
        end,
        first_packet,
        last_packet,
        files,
        also_seen_in,
        handshake: d.b()?,
        handshake_s: d.opt(|d| d.f())?,
        close: match d.byte()? {
            0 => CloseKind::Fin,
            1 => CloseKind::Rst,
            2 => CloseKind::Timeout,
            3 => CloseKind::Open,
            4 => CloseKind::Evicted,
            5 => CloseKind::Reused,
            _ => return None,
        },
        client_isn: d.opt(|d| d.u32())?,
        server_isn: d.opt(|d| d.u32())?,
        client_to_server: dec_dir(&mut d)?,
        server_to_client: dec_dir(&mut d)?,
        tls,
    };
    if !d.b.is_empty() {
        return None;
    }
    Some(c)
}
