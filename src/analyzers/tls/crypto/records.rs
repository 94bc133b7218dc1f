//! The record layouts: where the nonce, IV, tag and MAC sit in a record, and what is
//! authenticated (RFC 8446 §5.2, RFC 5246 §6.2.3, RFC 5288, RFC 6655, RFC 7905, RFC 7366).

use super::primitives::{Aead, Block, MacKey};
use super::{AES_BLOCK, CryptoError, array};

pub(super) fn open_tls13(
    aead: &Aead,
    iv: &[u8; 12],
    seq: u64,
    header: &[u8; 5],
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<u8, CryptoError> {
    let (ct, tag) = split_tail(
        payload,
        aead.tag_len(),
        "TLS 1.3 record shorter than its AEAD tag",
    )?;
    out.extend_from_slice(ct);
    aead.open(&xor_seq(iv, seq), header, out, tag)?;
    let Some(end) = out.iter().rposition(|&b| b != 0) else {
        return Err(CryptoError::Malformed(
            "TLS 1.3 plaintext with no content type (all zeros)",
        ));
    };
    let kind = out.get(end).copied().unwrap_or(0);
    out.truncate(end);
    Ok(kind)
}

pub(super) fn open_explicit(
    aead: &Aead,
    salt: &[u8; 4],
    seq: u64,
    header: &[u8; 5],
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<u8, CryptoError> {
    const SHORT: &str = "TLS 1.2 AEAD record shorter than its explicit nonce and tag";
    let (explicit, rest) = payload
        .split_at_checked(8)
        .ok_or(CryptoError::Malformed(SHORT))?;
    let (ct, tag) = split_tail(rest, aead.tag_len(), SHORT)?;
    let mut nonce = [0u8; 12];
    for (n, b) in nonce.iter_mut().zip(salt.iter().chain(explicit)) {
        *n = *b;
    }
    let aad = aad12(seq, header, ct.len())?;
    out.extend_from_slice(ct);
    aead.open(&nonce, &aad, out, tag)?;
    Ok(header[0])
}

pub(super) fn open_implicit(
    aead: &Aead,
    iv: &[u8; 12],
    seq: u64,
    header: &[u8; 5],
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<u8, CryptoError> {
    let (ct, tag) = split_tail(
        payload,
        aead.tag_len(),
        "TLS 1.2 ChaCha20-Poly1305 record shorter than its tag",
    )?;
    let aad = aad12(seq, header, ct.len())?;
    out.extend_from_slice(ct);
    aead.open(&xor_seq(iv, seq), &aad, out, tag)?;
    Ok(header[0])
}

pub(super) fn open_null(
    mac: &MacKey,
    seq: u64,
    header: &[u8; 5],
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<u8, CryptoError> {
    let (content, tag) = split_tail(
        payload,
        mac.len(),
        "NULL-cipher record shorter than its MAC",
    )?;
    mac.check(
        &[
            &seq.to_be_bytes(),
            &mac_header(header, content.len())?,
            content,
        ],
        tag,
    )?;
    out.extend_from_slice(content);
    Ok(header[0])
}

/// One CBC record being opened.
pub(super) struct Cbc<'a> {
    pub(super) block: &'a Block,
    pub(super) mac: &'a MacKey,
    pub(super) seq: u64,
    pub(super) header: &'a [u8; 5],
}

impl Cbc<'_> {
    /// MAC-then-encrypt (RFC 5246 §6.2.3.2): IV ‖ E(content ‖ MAC ‖ padding ‖ padding_length).
    pub(super) fn open_mte(
        &self,
        chained: Option<[u8; 16]>,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, CryptoError> {
        let (iv, ct) = self.split_iv(chained, payload)?;
        if ct.len() < self.mac.len() + 1 {
            return Err(CryptoError::Malformed(
                "CBC record shorter than its MAC and padding",
            ));
        }
        out.extend_from_slice(ct);
        self.block.decrypt(&iv, out)?;
        let unpadded = unpad(out)?;
        let content_len = unpadded
            .checked_sub(self.mac.len())
            .ok_or(CryptoError::Authentication)?;
        let content = out.get(..content_len).ok_or(CryptoError::Authentication)?;
        let tag = out
            .get(content_len..unpadded)
            .ok_or(CryptoError::Authentication)?;
        self.mac.check(
            &[
                &self.seq.to_be_bytes(),
                &mac_header(self.header, content_len)?,
                content,
            ],
            tag,
        )?;
        out.truncate(content_len);
        Ok(self.header[0])
    }

    /// Encrypt-then-MAC (RFC 7366 §3): IV ‖ E(content ‖ padding ‖ padding_length) ‖ MAC, the
    /// MAC over the header (with the length of IV and ciphertext) then IV and ciphertext.
    pub(super) fn open_etm(
        &self,
        chained: Option<[u8; 16]>,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, CryptoError> {
        let (body, tag) = split_tail(
            payload,
            self.mac.len(),
            "encrypt-then-MAC record shorter than its MAC",
        )?;
        let (iv, ct) = self.split_iv(chained, body)?;
        self.mac.check(
            &[
                &self.seq.to_be_bytes(),
                &mac_header(self.header, body.len())?,
                body,
            ],
            tag,
        )?;
        out.extend_from_slice(ct);
        self.block.decrypt(&iv, out)?;
        let content_len = unpad(out)?;
        out.truncate(content_len);
        Ok(self.header[0])
    }

    /// The IV (explicit in TLS 1.1+, chained in TLS 1.0) and the ciphertext, checked to be a
    /// non-empty whole number of blocks.
    pub(super) fn split_iv<'p>(
        &self,
        chained: Option<[u8; 16]>,
        payload: &'p [u8],
    ) -> Result<([u8; 16], &'p [u8]), CryptoError> {
        let (iv, ct) = match chained {
            Some(iv) => (iv, payload),
            None => {
                let (iv, ct) = payload
                    .split_at_checked(AES_BLOCK)
                    .ok_or(CryptoError::Malformed("CBC record shorter than its IV"))?;
                (array(iv)?, ct)
            }
        };
        if ct.is_empty() || ct.len() % AES_BLOCK != 0 {
            return Err(CryptoError::Malformed(
                "CBC ciphertext not a whole, non-zero number of blocks",
            ));
        }
        Ok((iv, ct))
    }
}

/// The length of `plain` without its TLS CBC padding (every padding byte, and the length byte,
/// hold the padding length: RFC 5246 §6.2.3.2). Wrong padding is an authentication failure.
pub(super) fn unpad(plain: &[u8]) -> Result<usize, CryptoError> {
    let (&pad, body) = plain.split_last().ok_or(CryptoError::Authentication)?;
    let keep = body
        .len()
        .checked_sub(usize::from(pad))
        .ok_or(CryptoError::Authentication)?;
    match body.get(keep..) {
        Some(padding) if padding.iter().all(|&b| b == pad) => Ok(keep),
        _ => Err(CryptoError::Authentication),
    }
}

/// type ‖ version ‖ length: the part of the TLS 1.2 MAC input and AAD after the sequence number.
pub(super) fn mac_header(header: &[u8; 5], len: usize) -> Result<[u8; 5], CryptoError> {
    let len =
        u16::try_from(len).map_err(|_| CryptoError::Malformed("record longer than 65535 bytes"))?;
    let [hi, lo] = len.to_be_bytes();
    Ok([header[0], header[1], header[2], hi, lo])
}

/// The TLS 1.2 AEAD additional data (RFC 5246 §6.2.3.3): seq_num ‖ type ‖ version ‖ length.
pub(super) fn aad12(seq: u64, header: &[u8; 5], plain_len: usize) -> Result<[u8; 13], CryptoError> {
    let mut aad = [0u8; 13];
    for (a, b) in aad.iter_mut().zip(
        seq.to_be_bytes()
            .into_iter()
            .chain(mac_header(header, plain_len)?),
    ) {
        *a = b;
    }
    Ok(aad)
}

/// The per-record nonce: the IV with the 64-bit sequence number XORed into its last 8 bytes.
pub(super) fn xor_seq(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut nonce = *iv;
    for (n, s) in nonce.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    nonce
}

/// `data` split before its last `n` bytes.
pub(super) fn split_tail<'a>(
    data: &'a [u8],
    n: usize,
    short: &'static str,
) -> Result<(&'a [u8], &'a [u8]), CryptoError> {
    let at = data
        .len()
        .checked_sub(n)
        .ok_or(CryptoError::Malformed(short))?;
    data.split_at_checked(at)
        .ok_or(CryptoError::Malformed(short))
}
