//! HTTP's field grammar in one place (RFC 9110 §5.6): token characters, optional whitespace,
//! and the fields that are hop-by-hop. The HTTP analyzer, the proxy-hop correlator and the
//! semantics step all read fields with these.

/// RFC 9110 §5.6.2 token characters (`tchar`).
pub fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// RFC 9110 §5.6.2 `token`: one or more `tchar`.
pub fn is_token(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|&c| is_tchar(c))
}

/// `b` without leading and trailing optional whitespace (RFC 9110 §5.6.3 OWS: spaces and
/// horizontal tabs, nothing else).
pub fn trim_ows(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(s, |i| i + 1);
    b.get(s..e.max(s)).unwrap_or_default()
}

/// Fields RFC 9110 §7.6.1 and RFC 9112 define as hop-by-hop, plus the non-standard
/// `Proxy-Connection` that some clients still send.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
];

/// Whether `name` (any case) is one of [`HOP_BY_HOP`].
pub fn is_standard_hop_by_hop(name: &[u8]) -> bool {
    HOP_BY_HOP
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9110_5_6_tokens_and_ows() {
        assert!(is_token(b"keep-alive") && is_token(b"x~!#$%&'*+.^_`|"));
        assert!(!is_token(b"") && !is_token(b"a b") && !is_token(b"a:b") && !is_token(b"\"q\""));
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b" \t "), b"");
        // OWS is only SP and HTAB: a CR or LF is not trimmed.
        assert_eq!(trim_ows(b"\r\nx\n"), b"\r\nx\n");
        assert!(is_standard_hop_by_hop(b"Transfer-Encoding"));
        assert!(!is_standard_hop_by_hop(b"content-length"));
    }
}
