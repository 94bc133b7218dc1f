//! The first handshake message of a direction, complete, to ClientHelloInfo / ServerHelloInfo.
//!
//! `tls-parser` does the parsing; this file turns its output into the sniffer's records and
//! turns every byte it did not account for (it stops quietly on a bad extension, and drops an
//! extensions block whose length overruns the message) into a [`NoteKind::Malformed`] note.

use super::{ClientHelloInfo, MAX_LIST, NoteKind, ServerHelloInfo, TlsNote, is_grease, note};
use tls_parser::nom;
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

pub(super) const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

pub(super) enum Parsed {
    Client(ClientHelloInfo),
    Server(ServerHelloInfo),
    Nothing,
}

/// Parses the complete first handshake message of `dir`, found at stream offset `offset`.
pub(super) fn parse(dir: usize, msg: &[u8], offset: u64, list: &mut Vec<TlsNote>) -> Parsed {
    let mut notes = Notes {
        dir,
        offset,
        msg,
        list,
    };
    match tls_parser::parse_tls_message_handshake(msg) {
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)))) if dir == 0 => {
            Parsed::Client(client_info(&ch, &mut notes))
        }
        Ok((_, TlsMessage::Handshake(h))) if dir == 1 => match server_info(&h, &mut notes) {
            Some(s) => Parsed::Server(s),
            None => Parsed::Nothing,
        },
        Ok(_) => {
            notes.at(0, "not the expected hello");
            Parsed::Nothing
        }
        Err(nom::Err::Incomplete(_)) => {
            notes.at(msg.len(), "hello fields run past the message length");
            Parsed::Nothing
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
            notes.at_slice(e.input, "hello field invalid");
            Parsed::Nothing
        }
    }
}

type ExtParser<'m> = fn(&'m [u8]) -> nom::IResult<&'m [u8], Vec<TlsExtension<'m>>>;

/// Notes about one hello message.
struct Notes<'a> {
    dir: usize,
    offset: u64,
    msg: &'a [u8],
    list: &'a mut Vec<TlsNote>,
}

impl Notes<'_> {
    fn at(&mut self, at: usize, what: &'static str) {
        let kind = NoteKind::Malformed { at, what };
        self.list.push(note(self.dir, self.offset, kind));
    }

    /// `sub` is a slice of the message (as `tls-parser` returns them).
    fn at_slice(&mut self, sub: &[u8], what: &'static str) {
        let at = pos(self.msg, sub).unwrap_or(self.msg.len());
        self.at(at, what);
    }

    /// The first [`MAX_LIST`] items, noting a longer list.
    fn bounded<T>(&mut self, mut items: Vec<T>, what: &'static str) -> Vec<T> {
        let total = items.len();
        if total > MAX_LIST {
            let kind = NoteKind::Truncated { what, total };
            self.list.push(note(self.dir, self.offset, kind));
            items.truncate(MAX_LIST);
        }
        items
    }

    /// Parses an extensions block; notes what the parser left over.
    fn extensions<'m>(
        &mut self,
        ext: Option<&'m [u8]>,
        fixed_end: usize,
        parse: ExtParser<'m>,
    ) -> Vec<TlsExtension<'m>> {
        let Some(ext) = ext else {
            if fixed_end < self.msg.len() {
                self.at(
                    fixed_end,
                    "bytes after the fixed fields not read as extensions",
                );
            }
            return Vec::new();
        };
        let end = pos(self.msg, ext).map_or(self.msg.len(), |p| p + ext.len());
        if end < self.msg.len() {
            self.at(end, "bytes after the extensions block");
        }
        match parse(ext) {
            Ok((rest, list)) => {
                if !rest.is_empty() {
                    self.at_slice(rest, "malformed extension; the ones after it are lost");
                }
                list
            }
            Err(_) => {
                self.at_slice(ext, "extensions unparsable");
                Vec::new()
            }
        }
    }
}

/// Offset of `sub` inside `msg`, when it is a sub-slice (tls-parser hands back sub-slices of its
/// input, errors included; comparing addresses needs no unsafe).
fn pos(msg: &[u8], sub: &[u8]) -> Option<usize> {
    let at = (sub.as_ptr() as usize).checked_sub(msg.as_ptr() as usize)?;
    (at + sub.len() <= msg.len()).then_some(at)
}

fn ext_type(e: &TlsExtension<'_>) -> u16 {
    match e {
        TlsExtension::Grease(t, _) => *t,
        e => tls_parser::TlsExtensionType::from(e).0,
    }
}

/// A hello's 32-byte random (tls-parser's slice is exactly that long).
fn random32(r: &[u8]) -> [u8; 32] {
    r.try_into().unwrap_or([0; 32])
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn client_info(
    ch: &tls_parser::TlsClientHelloContents<'_>,
    notes: &mut Notes<'_>,
) -> ClientHelloInfo {
    let sid = ch.session_id.map_or(0, <[u8]>::len);
    let fixed_end = 4 + 2 + 32 + 1 + sid + 2 + 2 * ch.ciphers.len() + 1 + ch.comp.len();
    let exts = notes.extensions(
        ch.ext,
        fixed_end,
        tls_parser::parse_tls_client_hello_extensions,
    );
    let legacy_version = ch.version.0;
    let mut info = ClientHelloInfo {
        legacy_version,
        cipher_suites: ch.ciphers.len(),
        session_id_len: sid,
        extensions: notes.bounded(exts.iter().map(ext_type).collect(), "extensions"),
        offered_versions: vec![legacy_version],
        random: random32(ch.random),
        ..ClientHelloInfo::default()
    };
    info.grease =
        ch.ciphers.iter().any(|c| is_grease(c.0)) || exts.iter().any(|e| is_grease(ext_type(e)));
    for e in &exts {
        match e {
            TlsExtension::SNI(names) => {
                let hosts = names
                    .iter()
                    .filter(|(t, _)| t.0 == 0)
                    .map(|(_, n)| lossy(n));
                info.sni = notes.bounded(hosts.collect(), "server names");
            }
            TlsExtension::ALPN(protos) => {
                info.alpn =
                    notes.bounded(protos.iter().map(|p| lossy(p)).collect(), "ALPN protocols");
            }
            TlsExtension::SupportedVersions(vs) => {
                info.grease |= vs.iter().any(|v| is_grease(v.0));
                let real = vs.iter().map(|v| v.0).filter(|&v| !is_grease(v));
                info.offered_versions = notes.bounded(real.collect(), "versions");
            }
            _ => {}
        }
    }
    info.ja4_like = Some(ja4_a(&info, ch, &exts));
    info
}

/// JA4 section a: protocol, version, SNI, cipher and extension counts, ALPN ends.
fn ja4_a(
    info: &ClientHelloInfo,
    ch: &tls_parser::TlsClientHelloContents<'_>,
    exts: &[TlsExtension<'_>],
) -> String {
    let top = info
        .offered_versions
        .iter()
        .copied()
        .max()
        .unwrap_or(info.legacy_version);
    let version = match top {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        _ => "00",
    };
    let sni = if info.sni.is_empty() { 'i' } else { 'd' };
    let count = |n: usize| n.min(99);
    let ciphers = count(ch.ciphers.iter().filter(|c| !is_grease(c.0)).count());
    let extensions = count(exts.iter().filter(|e| !is_grease(ext_type(e))).count());
    let first_alpn = exts.iter().find_map(|e| match e {
        TlsExtension::ALPN(p) => p.first().and_then(|p| Some((*p.first()?, *p.last()?))),
        _ => None,
    });
    let alpn = match first_alpn {
        Some((a, z)) if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() => {
            format!("{}{}", char::from(a), char::from(z))
        }
        // JA4: the first and last characters of the value's hex form.
        Some((a, z)) => format!("{:x}{:x}", a >> 4, z & 0xf),
        None => "00".to_string(),
    };
    format!("t{version}{sni}{ciphers:02}{extensions:02}{alpn}")
}

fn server_info(h: &TlsMessageHandshake<'_>, notes: &mut Notes<'_>) -> Option<ServerHelloInfo> {
    let (version, random, cipher, ext, fixed_end) = match h {
        TlsMessageHandshake::ServerHello(s) => {
            let sid = s.session_id.map_or(0, <[u8]>::len);
            (
                s.version.0,
                s.random,
                s.cipher.0,
                s.ext,
                4 + 2 + 32 + 1 + sid + 2 + 1,
            )
        }
        TlsMessageHandshake::ServerHelloV13Draft18(s) => {
            (s.version.0, s.random, s.cipher.0, s.ext, 4 + 2 + 32 + 2)
        }
        _ => {
            notes.at(0, "not the expected hello");
            return None;
        }
    };
    let exts = notes.extensions(
        ext,
        fixed_end,
        tls_parser::parse_tls_server_hello_extensions,
    );
    let mut info = ServerHelloInfo {
        legacy_version: version,
        selected_version: version,
        cipher_suite: cipher,
        extensions: notes.bounded(exts.iter().map(ext_type).collect(), "extensions"),
        hello_retry_request: random == HRR_RANDOM,
        alpn: None,
        random: random32(random),
    };
    for e in &exts {
        match e {
            TlsExtension::SupportedVersions(v) => {
                info.selected_version = v.first().map_or(version, |v| v.0)
            }
            TlsExtension::ALPN(p) => info.alpn = p.first().map(|p| lossy(p)),
            _ => {}
        }
    }
    Some(info)
}
