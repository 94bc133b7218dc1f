//! Key schedules: TLS 1.3 HKDF-Expand-Label (RFC 8446 §7.1) and the TLS PRF (RFC 5246 §5,
//! RFC 2246 §5), both on RustCrypto's `hkdf` and `hmac`.

use super::{CryptoError, array, key_len};
use crate::analyzers::tls::suites::{Hash, Suite};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

pub(super) fn check_secret(hash: Hash, secret: &[u8]) -> Result<(), CryptoError> {
    if secret.len() == hash.size() {
        Ok(())
    } else {
        Err(CryptoError::BadKeyLength {
            want: hash.size(),
            got: secret.len(),
        })
    }
}

/// The TLS 1.3 traffic key and IV of a traffic secret (RFC 8446 §7.3).
pub(super) fn traffic_key_iv(
    suite: &Suite,
    secret: &[u8],
) -> Result<(Vec<u8>, [u8; 12]), CryptoError> {
    check_secret(suite.hash, secret)?;
    let key_len = key_len(suite.cipher).ok_or(CryptoError::Unsupported("cipher without a key"))?;
    let key = hkdf_expand_label(suite.hash, secret, b"key", b"", key_len)?;
    let iv = hkdf_expand_label(suite.hash, secret, b"iv", b"", 12)?;
    Ok((key, array(&iv)?))
}

/// HKDF-Expand-Label(secret, label, context, length) (RFC 8446 §7.1): HKDF-Expand with the
/// info `length ‖ len("tls13 " + label) ‖ "tls13 " + label ‖ len(context) ‖ context`.
pub fn hkdf_expand_label(
    hash: Hash,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    len: usize,
) -> Result<Vec<u8>, CryptoError> {
    let too_long = CryptoError::Malformed("HKDF-Expand-Label input too long");
    let length = u16::try_from(len)
        .map_err(|_| too_long.clone())?
        .to_be_bytes();
    let label_len = u8::try_from(label.len() + 6).map_err(|_| too_long.clone())?;
    let context_len = u8::try_from(context.len()).map_err(|_| too_long.clone())?;
    let info: [&[u8]; 6] = [
        &length,
        &[label_len],
        b"tls13 ",
        label,
        &[context_len],
        context,
    ];
    let mut out = vec![0u8; len];
    let bad_prk = |_| CryptoError::BadKeyLength {
        want: hash.size(),
        got: secret.len(),
    };
    let expanded = match hash {
        Hash::Sha256 => Hkdf::<Sha256>::from_prk(secret)
            .map_err(bad_prk)?
            .expand_multi_info(&info, &mut out),
        Hash::Sha384 => Hkdf::<Sha384>::from_prk(secret)
            .map_err(bad_prk)?
            .expand_multi_info(&info, &mut out),
    };
    expanded.map_err(|_| too_long)?;
    Ok(out)
}

/// The TLS PRF (RFC 5246 §5) into `out`: P_SHA256 or P_SHA384 in TLS 1.2; in TLS 1.0 and 1.1
/// P_MD5 over the secret's first half XOR P_SHA1 over its second half (RFC 2246 §5).
pub fn prf(
    version: u16,
    hash: Hash,
    secret: &[u8],
    label: &[u8],
    seeds: &[&[u8]],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    if version >= 0x0303 {
        return match hash {
            Hash::Sha256 => p_hash::<Hmac<Sha256>>(secret, label, seeds, out),
            Hash::Sha384 => p_hash::<Hmac<Sha384>>(secret, label, seeds, out),
        };
    }
    let half = secret.len().div_ceil(2);
    let first = secret.get(..half).unwrap_or(secret);
    let second = secret.get(secret.len() - half..).unwrap_or(secret);
    p_hash::<Hmac<Md5>>(first, label, seeds, out)?;
    let mut sha = vec![0u8; out.len()];
    p_hash::<Hmac<Sha1>>(second, label, seeds, &mut sha)?;
    for (o, s) in out.iter_mut().zip(&sha) {
        *o ^= s;
    }
    Ok(())
}

/// P_hash(secret, label + seed) (RFC 5246 §5): A(0) = seed, A(i) = HMAC(secret, A(i-1)),
/// output HMAC(secret, A(1) + seed) ‖ HMAC(secret, A(2) + seed) ‖ ...
pub(super) fn p_hash<M: Mac + KeyInit + Clone>(
    secret: &[u8],
    label: &[u8],
    seeds: &[&[u8]],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let keyed = <M as KeyInit>::new_from_slice(secret).map_err(|_| CryptoError::BadKeyLength {
        want: 48,
        got: secret.len(),
    })?;
    let with_seed = |m: &mut M| {
        m.update(label);
        for s in seeds {
            m.update(s);
        }
    };
    let mut a = keyed.clone();
    with_seed(&mut a);
    let mut a = a.finalize().into_bytes();
    let size = a.len();
    for chunk in out.chunks_mut(size) {
        let mut m = keyed.clone();
        m.update(&a);
        with_seed(&mut m);
        for (o, b) in chunk.iter_mut().zip(m.finalize().into_bytes()) {
            *o = b;
        }
        let mut next = keyed.clone();
        next.update(&a);
        a = next.finalize().into_bytes();
    }
    Ok(())
}
