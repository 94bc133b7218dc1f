//! The opening handshake (RFC 6455 §4): the accept key, offered and agreed subprotocols and
//! extensions (RFC 7692 permessage-deflate parameters), and what is wrong with them.

use crate::model::websocket::Deflate;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// RFC 6455 §1.3.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
pub fn accept_for(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// One extension with its parameters, as in `Sec-WebSocket-Extensions` (RFC 6455 §9.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    /// (name, value) pairs, names lowercase, values unquoted.
    pub params: Vec<(String, Option<String>)>,
}

impl Extension {
    pub fn has(&self, p: &str) -> bool {
        self.params.iter().any(|(n, _)| n == p)
    }
    pub fn value(&self, p: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == p)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Parses every `Sec-WebSocket-Extensions` value (several fields, comma lists).
pub fn parse_extensions<'a>(values: impl Iterator<Item = &'a [u8]>) -> Vec<Extension> {
    let mut out = Vec::new();
    for v in values {
        let text = String::from_utf8_lossy(v);
        for item in text.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let Some(name) = parts.next().filter(|n| !n.is_empty()) else {
                continue;
            };
            let params = parts
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (
                        k.trim().to_ascii_lowercase(),
                        Some(v.trim().trim_matches('"').to_string()),
                    ),
                    None => (p.to_ascii_lowercase(), None),
                })
                .collect();
            out.push(Extension {
                name: name.to_ascii_lowercase(),
                params,
            });
            if out.len() >= 32 {
                return out;
            }
        }
    }
    out
}

/// The comma-separated tokens of every value (subprotocols).
pub fn tokens<'a>(values: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    values
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .take(32)
        .collect()
}

impl Extension {
    /// permessage-deflate's parameters (RFC 7692 §7), when this is that extension.
    pub fn deflate(&self) -> Deflate {
        let bits = |p: &str| self.value(p).and_then(|v| v.parse::<u8>().ok());
        Deflate {
            client_no_context_takeover: self.has("client_no_context_takeover"),
            server_no_context_takeover: self.has("server_no_context_takeover"),
            client_max_window_bits: bits("client_max_window_bits"),
            server_max_window_bits: bits("server_max_window_bits"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc6455_s1_3_accept_example() {
        assert_eq!(
            accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn rfc7692_extension_parameters() {
        let v: &[&[u8]] = &[
            b"permessage-deflate; client_max_window_bits; server_max_window_bits=10",
            b"permessage-deflate;server_no_context_takeover, x-webkit-deflate-frame",
        ];
        let e = parse_extensions(v.iter().copied());
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].name, "permessage-deflate");
        assert!(e[0].has("client_max_window_bits"));
        assert_eq!(e[0].value("server_max_window_bits"), Some("10"));
        let d = e[1].deflate();
        assert!(d.server_no_context_takeover && !d.client_no_context_takeover);
        assert_eq!(e[2].name, "x-webkit-deflate-frame");
        assert_eq!(
            tokens([b"chat, superchat".as_slice()].into_iter()),
            vec!["chat", "superchat"]
        );
    }
}
