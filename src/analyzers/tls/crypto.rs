//! TLS record protection from key-log secrets: the key schedules and the record layouts, on
//! RustCrypto primitives.
//!
//! Contract:
//!
//! - **Ours are the protocol constructions, never a primitive.** AES-GCM, AES-CCM,
//!   ChaCha20-Poly1305, AES-CBC, HMAC and HKDF come from RustCrypto (`aes` detects AES-NI at run
//!   time); this module writes HKDF-Expand-Label (RFC 8446 §7.1), the TLS PRF's `P_hash` and its
//!   TLS 1.0/1.1 MD5 ⊕ SHA-1 form (RFC 5246 §5, RFC 2246 §5), the key-block split (RFC 5246
//!   §6.3) and the record layouts (RFC 8446 §5.2, RFC 5288, RFC 6655, RFC 7905, RFC 5246
//!   §6.2.3, RFC 7366).
//! - **One [`Protection`] per direction.** It holds that direction's keys, IV and sequence
//!   number. [`Protection::open`] takes records in the order the peer sent them.
//! - **Sequence numbers.** Every call to `open` consumes one sequence number, whatever the
//!   outcome: the sender numbered every record it sent, so a record that fails still took its
//!   number. After an [`CryptoError::Authentication`] failure the caller should stop decrypting
//!   that direction (wrong keys, or a lost or altered record): every later record fails too. In
//!   TLS 1.0 CBC the chained IV likewise advances on every record of at least one block.
//! - **No panic on any input.** Short records, lengths that are not a whole number of blocks,
//!   padding longer than the record, all-zero TLS 1.3 plaintext: each is an error. All slicing
//!   goes through `get` or `split_at_checked`. Not constant-time: a passive analyzer has no
//!   oracle to protect.
//! - **Keys stay inside.** [`Protection`]'s `Debug` prints the kind and sequence number only.

use super::suites::{Cipher, Hash, Mac as MacAlg, Suite};
use aes::{Aes128, Aes128Dec, Aes256, Aes256Dec};
use aes_gcm::aead::{self, AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use cbc::cipher::{BlockModeDecrypt, InnerIvInit, block_padding::NoPadding};
use ccm::Ccm;
use ccm::consts::{U8, U12, U16};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};
use std::fmt;

/// Why keys could not be made or a record not opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A secret of the wrong length (a TLS 1.2 master secret is 48 bytes; a TLS 1.3 traffic
    /// secret is as long as the suite's hash).
    #[error("secret of {got} bytes where {want} are needed")]
    BadKeyLength { want: usize, got: usize },
    /// The suite or protocol version is not decrypted; the text names why.
    #[error("not decrypted: {0}")]
    Unsupported(&'static str),
    /// The AEAD tag or the record MAC does not match, or the CBC padding is wrong: the wrong
    /// keys, or a lost, reordered or corrupt record.
    #[error("record does not authenticate (AEAD tag, MAC or padding)")]
    Authentication,
    /// The record cannot hold what its protection needs; the text says what.
    #[error("malformed record: {0}")]
    Malformed(&'static str),
}

type Aes128Ccm = Ccm<Aes128, U16, U12>;
type Aes256Ccm = Ccm<Aes256, U16, U12>;
type Aes128Ccm8 = Ccm<Aes128, U8, U12>;
type Aes256Ccm8 = Ccm<Aes256, U8, U12>;

/// An AEAD with its key.
enum Aead {
    Aes128Gcm(Aes128Gcm),
    Aes256Gcm(Aes256Gcm),
    ChaCha(ChaCha20Poly1305),
    Aes128Ccm(Aes128Ccm),
    Aes256Ccm(Aes256Ccm),
    Aes128Ccm8(Aes128Ccm8),
    Aes256Ccm8(Aes256Ccm8),
}

impl Aead {
    fn new(cipher: Cipher, key: &[u8]) -> Result<Aead, CryptoError> {
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

    fn tag_len(&self) -> usize {
        match self {
            Aead::Aes128Ccm8(_) | Aead::Aes256Ccm8(_) => 8,
            _ => 16,
        }
    }

    /// Decrypts `buf` in place; `tag` must be [`Aead::tag_len`] bytes.
    fn open(
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

fn open_with<A: AeadInOut>(
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
enum Block {
    Aes128(Aes128Dec),
    Aes256(Aes256Dec),
}

impl Block {
    fn new(cipher: Cipher, key: &[u8]) -> Result<Block, CryptoError> {
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
    fn decrypt(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
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
enum MacKey {
    Md5(Hmac<Md5>),
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
}

impl MacKey {
    fn new(alg: MacAlg, key: &[u8]) -> Result<MacKey, CryptoError> {
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

    fn len(&self) -> usize {
        match self {
            MacKey::Md5(_) => 16,
            MacKey::Sha1(_) => 20,
            MacKey::Sha256(_) => 32,
            MacKey::Sha384(_) => 48,
        }
    }

    /// Whether HMAC over the concatenated `parts` is `tag`.
    fn check(&self, parts: &[&[u8]], tag: &[u8]) -> Result<(), CryptoError> {
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

/// The record layout of one direction, with its keys.
enum Record {
    /// TLS 1.3 (RFC 8446 §5.2): nonce = iv ⊕ seq, AAD = the record header, inner content type.
    Tls13 { aead: Aead, iv: [u8; 12] },
    /// TLS 1.2 AES-GCM / AES-CCM (RFC 5288 §3, RFC 6655 §3): nonce = salt ‖ the record's
    /// 8-byte explicit nonce.
    Explicit { aead: Aead, salt: [u8; 4] },
    /// TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2): nonce = iv ⊕ seq, nothing explicit.
    Implicit { aead: Aead, iv: [u8; 12] },
    /// AES-CBC with HMAC (RFC 5246 §6.2.3.2), encrypt-then-MAC when negotiated (RFC 7366). TLS
    /// 1.1+ carry an explicit IV per record; TLS 1.0 chains it (`chained`).
    Cbc {
        block: Block,
        mac: MacKey,
        etm: bool,
        chained: Option<[u8; 16]>,
    },
    /// A NULL cipher: the content then its MAC.
    Null { mac: MacKey },
}

/// One direction's record protection: cipher, keys, IV state and sequence number.
pub struct Protection {
    record: Box<Record>,
    seq: u64,
}

impl fmt::Debug for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &*self.record {
            Record::Tls13 { .. } => "TLS 1.3 AEAD",
            Record::Explicit { .. } => "TLS 1.2 AEAD, explicit nonce",
            Record::Implicit { .. } => "TLS 1.2 ChaCha20-Poly1305",
            Record::Cbc { etm: true, .. } => "CBC, encrypt-then-MAC",
            Record::Cbc { .. } => "CBC, MAC-then-encrypt",
            Record::Null { .. } => "NULL cipher",
        };
        f.debug_struct("Protection")
            .field("kind", &kind)
            .field("seq", &self.seq)
            .finish()
    }
}

const AES_BLOCK: usize = 16;

impl Protection {
    /// TLS 1.3, from a traffic secret (RFC 8446 §7.3: key and iv by HKDF-Expand-Label(secret,
    /// "key" / "iv", "", length)). The secret must be as long as the suite's hash.
    pub fn tls13(suite: &Suite, secret: &[u8]) -> Result<Protection, CryptoError> {
        if let Some(why) = suite.unsupported_reason() {
            return Err(CryptoError::Unsupported(why));
        }
        if !suite.tls13 {
            return Err(CryptoError::Unsupported(
                "a TLS 1.2 cipher suite with TLS 1.3 secrets",
            ));
        }
        let (key, iv) = traffic_key_iv(suite, secret)?;
        let aead = Aead::new(suite.cipher, &key)?;
        Ok(Protection {
            record: Box::new(Record::Tls13 { aead, iv }),
            seq: 0,
        })
    }

    /// TLS 1.3 KeyUpdate (RFC 8446 §7.2): application_traffic_secret_N+1 =
    /// HKDF-Expand-Label(secret, "traffic upd", "", Hash.length). Make the next
    /// [`Protection::tls13`] from it; the sequence number starts again at 0.
    pub fn tls13_next_secret(suite: &Suite, secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_secret(suite.hash, secret)?;
        hkdf_expand_label(suite.hash, secret, b"traffic upd", b"", suite.hash.size())
    }

    /// TLS 1.0 to 1.2 (`version` 0x0301..=0x0303, the negotiated version): key_block =
    /// PRF(master, "key expansion", server_random + client_random) (RFC 5246 §6.3), split into
    /// the client and server MAC keys, keys and IVs. `encrypt_then_mac` is whether the
    /// ServerHello echoed the extension (RFC 7366); it matters to CBC suites only. Returns
    /// `[client→server, server→client]`.
    pub fn tls12(
        suite: &Suite,
        version: u16,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        encrypt_then_mac: bool,
    ) -> Result<[Protection; 2], CryptoError> {
        if let Some(why) = suite.unsupported_reason() {
            return Err(CryptoError::Unsupported(why));
        }
        if suite.tls13 {
            return Err(CryptoError::Unsupported(
                "a TLS 1.3 cipher suite with a TLS 1.2 master secret",
            ));
        }
        match version {
            0x0301..=0x0303 => {}
            0x0300 => return Err(CryptoError::Unsupported("SSL 3.0")),
            _ => {
                return Err(CryptoError::Unsupported(
                    "protocol version not TLS 1.0 to 1.2",
                ));
            }
        }
        if master.len() != 48 {
            return Err(CryptoError::BadKeyLength {
                want: 48,
                got: master.len(),
            });
        }
        let aead = suite.mac == MacAlg::Aead;
        if aead && version < 0x0303 {
            return Err(CryptoError::Unsupported(
                "an AEAD cipher suite below TLS 1.2",
            ));
        }
        let mac_len = if aead { 0 } else { mac_len(suite.mac) };
        let key_len = key_len(suite.cipher).unwrap_or(0);
        let iv_len = match suite.cipher {
            Cipher::ChaCha20Poly1305 => 12,
            Cipher::Aes128Cbc | Cipher::Aes256Cbc if version == 0x0301 => AES_BLOCK,
            Cipher::Aes128Cbc | Cipher::Aes256Cbc | Cipher::Null => 0,
            _ => 4,
        };
        let mut block = vec![0u8; 2 * (mac_len + key_len + iv_len)];
        prf(
            version,
            suite.hash,
            master,
            b"key expansion",
            &[server_random, client_random],
            &mut block,
        )?;
        let rest = block.as_slice();
        let (client_mac, rest) = take(rest, mac_len)?;
        let (server_mac, rest) = take(rest, mac_len)?;
        let (client_key, rest) = take(rest, key_len)?;
        let (server_key, rest) = take(rest, key_len)?;
        let (client_iv, rest) = take(rest, iv_len)?;
        let (server_iv, _) = take(rest, iv_len)?;
        let side = |mac: &[u8], key: &[u8], iv: &[u8]| -> Result<Protection, CryptoError> {
            let record = match suite.cipher {
                Cipher::ChaCha20Poly1305 => Record::Implicit {
                    aead: Aead::new(suite.cipher, key)?,
                    iv: array(iv)?,
                },
                Cipher::Aes128Cbc | Cipher::Aes256Cbc => Record::Cbc {
                    block: Block::new(suite.cipher, key)?,
                    mac: MacKey::new(suite.mac, mac)?,
                    etm: encrypt_then_mac,
                    chained: if version == 0x0301 {
                        Some(array(iv)?)
                    } else {
                        None
                    },
                },
                Cipher::Null => Record::Null {
                    mac: MacKey::new(suite.mac, mac)?,
                },
                _ => Record::Explicit {
                    aead: Aead::new(suite.cipher, key)?,
                    salt: array(iv)?,
                },
            };
            Ok(Protection {
                record: Box::new(record),
                seq: 0,
            })
        };
        Ok([
            side(client_mac, client_key, client_iv)?,
            side(server_mac, server_key, server_iv)?,
        ])
    }

    /// Decrypts one record. `header` is the record's 5 header bytes as they were on the wire,
    /// `payload` its body. The plaintext is written to `out` (cleared first; left empty on
    /// error). Returns the plaintext's content type: in TLS 1.3 the inner type (zero padding
    /// stripped, RFC 8446 §5.4; all zeros is [`CryptoError::Malformed`]), in TLS 1.2 and below
    /// `header[0]`. Consumes one sequence number whatever the outcome (module doc).
    pub fn open(
        &mut self,
        header: &[u8; 5],
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, CryptoError> {
        out.clear();
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let result = match &mut *self.record {
            Record::Tls13 { aead, iv } => open_tls13(aead, iv, seq, header, payload, out),
            Record::Explicit { aead, salt } => open_explicit(aead, salt, seq, header, payload, out),
            Record::Implicit { aead, iv } => open_implicit(aead, iv, seq, header, payload, out),
            Record::Cbc {
                block,
                mac,
                etm,
                chained,
            } => {
                let chain_iv = *chained;
                if chained.is_some() {
                    // TLS 1.0: the next record's IV is this record's last ciphertext block.
                    let body = if *etm {
                        payload.len().saturating_sub(mac.len())
                    } else {
                        payload.len()
                    };
                    if let Some(last) = body
                        .checked_sub(AES_BLOCK)
                        .and_then(|at| payload.get(at..body))
                    {
                        *chained = array(last).ok();
                    }
                }
                let cbc = Cbc {
                    block,
                    mac,
                    seq,
                    header,
                };
                if *etm {
                    cbc.open_etm(chain_iv, payload, out)
                } else {
                    cbc.open_mte(chain_iv, payload, out)
                }
            }
            Record::Null { mac } => open_null(mac, seq, header, payload, out),
        };
        if result.is_err() {
            out.clear();
        }
        result
    }

    /// The sequence number the next record will be opened with.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Heap bytes held: the boxed keys (key schedules, IVs, keyed HMAC state). `open` holds
    /// nothing between records; the plaintext goes to the caller's buffer.
    pub fn heap_bytes(&self) -> usize {
        crate::base::heap::boxed::<Record>(0)
    }
}

fn open_tls13(
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

fn open_explicit(
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

fn open_implicit(
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

fn open_null(
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
struct Cbc<'a> {
    block: &'a Block,
    mac: &'a MacKey,
    seq: u64,
    header: &'a [u8; 5],
}

impl Cbc<'_> {
    /// MAC-then-encrypt (RFC 5246 §6.2.3.2): IV ‖ E(content ‖ MAC ‖ padding ‖ padding_length).
    fn open_mte(
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
    fn open_etm(
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
    fn split_iv<'p>(
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
fn unpad(plain: &[u8]) -> Result<usize, CryptoError> {
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
fn mac_header(header: &[u8; 5], len: usize) -> Result<[u8; 5], CryptoError> {
    let len =
        u16::try_from(len).map_err(|_| CryptoError::Malformed("record longer than 65535 bytes"))?;
    let [hi, lo] = len.to_be_bytes();
    Ok([header[0], header[1], header[2], hi, lo])
}

/// The TLS 1.2 AEAD additional data (RFC 5246 §6.2.3.3): seq_num ‖ type ‖ version ‖ length.
fn aad12(seq: u64, header: &[u8; 5], plain_len: usize) -> Result<[u8; 13], CryptoError> {
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
fn xor_seq(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut nonce = *iv;
    for (n, s) in nonce.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    nonce
}

/// `data` split before its last `n` bytes.
fn split_tail<'a>(
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

fn take(data: &[u8], n: usize) -> Result<(&[u8], &[u8]), CryptoError> {
    data.split_at_checked(n)
        .ok_or(CryptoError::Malformed("key block too short"))
}

fn array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], CryptoError> {
    bytes
        .try_into()
        .map_err(|_| CryptoError::Malformed("IV length"))
}

/// Key length of a cipher, `None` when it has no key.
fn key_len(cipher: Cipher) -> Option<usize> {
    match cipher {
        Cipher::Aes128Gcm | Cipher::Aes128Ccm | Cipher::Aes128Ccm8 | Cipher::Aes128Cbc => Some(16),
        Cipher::Aes256Gcm | Cipher::Aes256Ccm | Cipher::Aes256Ccm8 | Cipher::Aes256Cbc => Some(32),
        Cipher::ChaCha20Poly1305 => Some(32),
        Cipher::Null | Cipher::Unsupported => None,
    }
}

fn mac_len(mac: MacAlg) -> usize {
    match mac {
        MacAlg::Md5 => 16,
        MacAlg::Sha1 => 20,
        MacAlg::Sha256 => 32,
        MacAlg::Sha384 => 48,
        MacAlg::Aead | MacAlg::Null => 0,
    }
}

fn check_secret(hash: Hash, secret: &[u8]) -> Result<(), CryptoError> {
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
fn traffic_key_iv(suite: &Suite, secret: &[u8]) -> Result<(Vec<u8>, [u8; 12]), CryptoError> {
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
fn prf(
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
fn p_hash<M: Mac + KeyInit + Clone>(
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

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;
