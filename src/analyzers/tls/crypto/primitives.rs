//! The RustCrypto primitives behind one enum each: an AEAD, an AES-CBC decryption key, a keyed
//! HMAC. Nothing here knows about records.

use super::{CryptoError, key_len, mac_len};
use crate::analyzers::tls::suites::{Cipher, Mac as MacAlg};
use aes::{Aes128, Aes128Dec, Aes256, Aes256Dec};
use aes_gcm::aead::{self, AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use cbc::cipher::{BlockModeDecrypt, InnerIvInit, block_padding::NoPadding};
use ccm::Ccm;
use ccm::consts::{U8, U12, U16};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

pub(super) type Aes128Ccm = Ccm<Aes128, U16, U12>;
pub(super) type Aes256Ccm = Ccm<Aes256, U16, U12>;
pub(super) type Aes128Ccm8 = Ccm<Aes128, U8, U12>;
pub(super) type Aes256Ccm8 = Ccm<Aes256, U8, U12>;

/// An AEAD with its key.
pub(super) enum Aead {
    Aes128Gcm(Aes128Gcm),
    Aes256Gcm(Aes256Gcm),
    ChaCha(ChaCha20Poly1305),
    Aes128Ccm(Aes128Ccm),
    Aes256Ccm(Aes256Ccm),
    Aes128Ccm8(Aes128Ccm8),
    Aes256Ccm8(Aes256Ccm8),
}

impl Aead {
    pub(super) fn new(cipher: Cipher, key: &[u8]) -> Result<Aead, CryptoError> {
        let want = key_len(cipher).ok_or(CryptoError::Unsupported("not an AEAD"))?;
        let bad = |_| CryptoError::BadKeyLength {
            want,
            got: key.len(),
        };
        Ok(match cipher {
            Cipher::Aes128Gcm => Aead::Aes128Gcm(Aes128Gcm::new_from_slice(key).map_err(bad)?),
            Cipher::Aes256Gcm => Aead::Aes256Gcm(Aes256Gcm::new_from_slice(key).map_err(bad)?),
            Cipher::ChaCha20Poly1305 => {
                Aead::ChaCha(ChaCha20Poly1305::new_from_slice(key).map_err(bad)?)
            }
            Cipher::Aes128Ccm => Aead::Aes128Ccm(Aes128Ccm::new_from_slice(key).map_err(bad)?),
            Cipher::Aes256Ccm => Aead::Aes256Ccm(Aes256Ccm::new_from_slice(key).map_err(bad)?),
            Cipher::Aes128Ccm8 => Aead::Aes128Ccm8(Aes128Ccm8::new_from_slice(key).map_err(bad)?),
            Cipher::Aes256Ccm8 => Aead::Aes256Ccm8(Aes256Ccm8::new_from_slice(key).map_err(bad)?),
            _ => return Err(CryptoError::Unsupported("not an AEAD")),
        })
    }

    pub(super) fn tag_len(&self) -> usize {
        match self {
            Aead::Aes128Ccm8(_) | Aead::Aes256Ccm8(_) => 8,
            _ => 16,
        }
    }

    /// Decrypts `buf` in place; `tag` must be [`Aead::tag_len`] bytes.
    pub(super) fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        match self {
            Aead::Aes128Gcm(a) => open_with(a, nonce, aad, buf, tag),
            Aead::Aes256Gcm(a) => open_with(a, nonce, aad, buf, tag),
            Aead::ChaCha(a) => open_with(a, nonce, aad, buf, tag),
            Aead::Aes128Ccm(a) => open_with(a, nonce, aad, buf, tag),
            Aead::Aes256Ccm(a) => open_with(a, nonce, aad, buf, tag),
            Aead::Aes128Ccm8(a) => open_with(a, nonce, aad, buf, tag),
            Aead::Aes256Ccm8(a) => open_with(a, nonce, aad, buf, tag),
        }
    }
}

pub(super) fn open_with<A: AeadInOut>(
    a: &A,
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<(), CryptoError> {
    let nonce = aead::Nonce::<A>::try_from(&nonce[..])
        .map_err(|_| CryptoError::Malformed("nonce length"))?;
    let tag = aead::Tag::<A>::try_from(tag).map_err(|_| CryptoError::Malformed("tag length"))?;
    a.decrypt_inout_detached(&nonce, aad, buf.into(), &tag)
        .map_err(|_| CryptoError::Authentication)
}

/// An AES decryption key for CBC. Variants differ in size; the whole [`Record`] is boxed.
#[allow(clippy::large_enum_variant)]
pub(super) enum Block {
    Aes128(Aes128Dec),
    Aes256(Aes256Dec),
}

impl Block {
    pub(super) fn new(cipher: Cipher, key: &[u8]) -> Result<Block, CryptoError> {
        let want = key_len(cipher).unwrap_or(0);
        let bad = |_| CryptoError::BadKeyLength {
            want,
            got: key.len(),
        };
        match cipher {
            Cipher::Aes128Cbc => Ok(Block::Aes128(Aes128Dec::new_from_slice(key).map_err(bad)?)),
            Cipher::Aes256Cbc => Ok(Block::Aes256(Aes256Dec::new_from_slice(key).map_err(bad)?)),
            _ => Err(CryptoError::Unsupported("not a CBC cipher")),
        }
    }

    /// CBC-decrypts `buf` (a whole number of blocks) in place.
    pub(super) fn decrypt(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        let odd = |_| CryptoError::Malformed("CBC ciphertext not a whole number of blocks");
        let bad_iv = |_| CryptoError::Malformed("CBC IV length");
        match self {
            Block::Aes128(k) => cbc::Decryptor::<Aes128Dec>::inner_iv_slice_init(k.clone(), iv)
                .map_err(bad_iv)?
                .decrypt_padded::<NoPadding>(buf)
                .map(drop)
                .map_err(odd),
            Block::Aes256(k) => cbc::Decryptor::<Aes256Dec>::inner_iv_slice_init(k.clone(), iv)
                .map_err(bad_iv)?
                .decrypt_padded::<NoPadding>(buf)
                .map(drop)
                .map_err(odd),
        }
    }
}

/// A keyed HMAC, cloned for each record.
#[derive(Clone)]
pub(super) enum MacKey {
    Md5(Hmac<Md5>),
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
}

impl MacKey {
    pub(super) fn new(alg: MacAlg, key: &[u8]) -> Result<MacKey, CryptoError> {
        let bad = |_| CryptoError::BadKeyLength {
            want: mac_len(alg),
            got: key.len(),
        };
        Ok(match alg {
            MacAlg::Md5 => MacKey::Md5(<Hmac<Md5> as KeyInit>::new_from_slice(key).map_err(bad)?),
            MacAlg::Sha1 => {
                MacKey::Sha1(<Hmac<Sha1> as KeyInit>::new_from_slice(key).map_err(bad)?)
            }
            MacAlg::Sha256 => {
                MacKey::Sha256(<Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(bad)?)
            }
            MacAlg::Sha384 => {
                MacKey::Sha384(<Hmac<Sha384> as KeyInit>::new_from_slice(key).map_err(bad)?)
            }
            MacAlg::Aead | MacAlg::Null => return Err(CryptoError::Unsupported("no record MAC")),
        })
    }

    pub(super) fn len(&self) -> usize {
        match self {
            MacKey::Md5(_) => 16,
            MacKey::Sha1(_) => 20,
            MacKey::Sha256(_) => 32,
            MacKey::Sha384(_) => 48,
        }
    }

    /// Whether HMAC over the concatenated `parts` is `tag`.
    pub(super) fn check(&self, parts: &[&[u8]], tag: &[u8]) -> Result<(), CryptoError> {
        fn go<M: Mac + Clone>(m: &M, parts: &[&[u8]], tag: &[u8]) -> bool {
            let mut m = m.clone();
            for p in parts {
                m.update(p);
            }
            m.verify_slice(tag).is_ok()
        }
        let ok = match self {
            MacKey::Md5(m) => go(m, parts, tag),
            MacKey::Sha1(m) => go(m, parts, tag),
            MacKey::Sha256(m) => go(m, parts, tag),
            MacKey::Sha384(m) => go(m, parts, tag),
        };
        if ok {
            Ok(())
        } else {
            Err(CryptoError::Authentication)
        }
    }
}
