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

mod primitives;
mod records;
mod schedule;

pub use schedule::{hkdf_expand_label, prf};

use super::suites::{Cipher, Mac as MacAlg, Suite};
use primitives::{Aead, Block, MacKey};
use records::{Cbc, open_explicit, open_implicit, open_null, open_tls13};
use schedule::{check_secret, traffic_key_iv};
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

pub(super) fn take(data: &[u8], n: usize) -> Result<(&[u8], &[u8]), CryptoError> {
    data.split_at_checked(n)
        .ok_or(CryptoError::Malformed("key block too short"))
}

pub(super) fn array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], CryptoError> {
    bytes
        .try_into()
        .map_err(|_| CryptoError::Malformed("IV length"))
}

/// Key length of a cipher, `None` when it has no key.
pub(super) fn key_len(cipher: Cipher) -> Option<usize> {
    match cipher {
        Cipher::Aes128Gcm | Cipher::Aes128Ccm | Cipher::Aes128Ccm8 | Cipher::Aes128Cbc => Some(16),
        Cipher::Aes256Gcm | Cipher::Aes256Ccm | Cipher::Aes256Ccm8 | Cipher::Aes256Cbc => Some(32),
        Cipher::ChaCha20Poly1305 => Some(32),
        Cipher::Null | Cipher::Unsupported => None,
    }
}

pub(super) fn mac_len(mac: MacAlg) -> usize {
    match mac {
        MacAlg::Md5 => 16,
        MacAlg::Sha1 => 20,
        MacAlg::Sha256 => 32,
        MacAlg::Sha384 => 48,
        MacAlg::Aead | MacAlg::Null => 0,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod openssl_tests;
