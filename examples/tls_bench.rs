//! Throughput of TLS record decryption (`Protection::open`) per cipher suite, on full-size
//! records (16 KiB of plaintext), printed as a table:
//!
//! ```sh
//! cargo run --release --example tls_bench [-- SECONDS]
//! ```
//!
//! The records are sealed here with the same RustCrypto crates, from keys derived with the
//! crate's own key schedule (`hkdf_expand_label`, `prf`); every record must open, so a layout
//! mistake fails the run instead of timing an error path. MB/s counts plaintext bytes
//! (10^6 bytes per MB), one core. A benchmark, not a test: nothing asserts a speed.

use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
use aes_gcm::aead::{AeadInOut, KeyInit};
use hmac::{Hmac, Mac};
use hopscope::analyzers::tls::crypto::{Protection, hkdf_expand_label, prf};
use hopscope::analyzers::tls::suites::{self, Cipher, Mac as MacAlg, Suite};
use std::error::Error;
use std::time::{Duration, Instant};

const PLAIN: usize = 16 * 1024;
const RECORDS: usize = 64;
const CLIENT_RANDOM: [u8; 32] = [0x11; 32];
const SERVER_RANDOM: [u8; 32] = [0x22; 32];
const MASTER: [u8; 48] = [0x33; 48];

type Res<T> = Result<T, Box<dyn Error>>;

/// One record as on the wire.
struct Record {
    header: [u8; 5],
    payload: Vec<u8>,
}

/// A configuration to measure.
struct Case {
    suite: &'static Suite,
    etm: bool,
}

fn main() -> Res<()> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1.0);
    #[cfg(target_arch = "x86_64")]
    println!(
        "CPU: AES-NI {}, PCLMULQDQ {}, AVX2 {}",
        std::arch::is_x86_feature_detected!("aes"),
        std::arch::is_x86_feature_detected!("pclmulqdq"),
        std::arch::is_x86_feature_detected!("avx2"),
    );
    println!("{RECORDS} records of {PLAIN} bytes per pass, at least {seconds} s per suite\n");
    println!("{:<48} {:>5} {:>10}", "suite", "mode", "MB/s");
    let ids: &[(u16, bool)] = &[
        (0x1301, false),
        (0x1302, false),
        (0x1303, false),
        (0x1304, false),
        (0x1305, false),
        (0xC02F, false),
        (0xC030, false),
        (0xCCA8, false),
        (0xC09C, false),
        (0xC0A0, false),
        (0x002F, false),
        (0x002F, true),
        (0x003D, false),
        (0x003D, true),
        (0xC028, false),
        (0xC028, true),
        (0x003B, false),
    ];
    for &(id, etm) in ids {
        let suite = suites::suite(id).ok_or("suite not in the table")?;
        let case = Case { suite, etm };
        let records = (0..RECORDS as u64)
            .map(|seq| seal(&case, seq))
            .collect::<Res<Vec<_>>>()?;
        let mbps = measure(&case, &records, Duration::from_secs_f64(seconds))?;
        let mode = match (suite.mac, etm) {
            (MacAlg::Aead, _) => "aead",
            (_, true) => "etm",
            (_, false) if suite.cipher == Cipher::Null => "null",
            _ => "mte",
        };
        println!("{:<48} {:>5} {:>10.0}", suite.name, mode, mbps);
    }
    Ok(())
}

/// A fresh client→server protection for the case (sequence number 0).
fn protection(case: &Case) -> Res<Protection> {
    let s = case.suite;
    if s.tls13 {
        return Ok(Protection::tls13(s, &[0x44; 48][..s.hash.size()])?);
    }
    let [client, _] =
        Protection::tls12(s, 0x0303, &MASTER, &CLIENT_RANDOM, &SERVER_RANDOM, case.etm)?;
    Ok(client)
}

/// MB/s of plaintext opened, over whole passes of all records, for at least `time`.
fn measure(case: &Case, records: &[Record], time: Duration) -> Res<f64> {
    let mut out = Vec::with_capacity(PLAIN + 256);
    let mut bytes = 0usize;
    let start = Instant::now();
    while start.elapsed() < time {
        let mut p = protection(case)?;
        for r in records {
            p.open(&r.header, &r.payload, &mut out)?;
            bytes += out.len();
        }
    }
    Ok(bytes as f64 / start.elapsed().as_secs_f64() / 1e6)
}

fn data(seq: u64) -> Vec<u8> {
    (0..PLAIN).map(|i| (i as u64 ^ seq) as u8).collect()
}

/// The record with sequence number `seq`, sealed independently of `Protection`.
fn seal(case: &Case, seq: u64) -> Res<Record> {
    let s = case.suite;
    let plain = data(seq);
    if s.tls13 {
        let key = hkdf_expand_label(
            s.hash,
            &[0x44; 48][..s.hash.size()],
            b"key",
            b"",
            key_len(s.cipher),
        )?;
        let iv = hkdf_expand_label(s.hash, &[0x44; 48][..s.hash.size()], b"iv", b"", 12)?;
        let mut body = plain;
        body.push(23);
        let header = header(body.len() + tag_len(s.cipher))?;
        let tag = aead_seal(s.cipher, &key, &xor_seq(&iv, seq), &header, &mut body)?;
        body.extend_from_slice(&tag);
        return Ok(Record {
            header,
            payload: body,
        });
    }
    // The key block, split as RFC 5246 section 6.3 says; the client's half.
    let (mac_len, key_len) = (mac_len(s.mac), key_len(s.cipher));
    let iv_len = match s.cipher {
        Cipher::ChaCha20Poly1305 => 12,
        Cipher::Aes128Gcm | Cipher::Aes256Gcm | Cipher::Aes128Ccm | Cipher::Aes128Ccm8 => 4,
        _ => 0,
    };
    let mut block = vec![0u8; 2 * (mac_len + key_len + iv_len)];
    prf(
        0x0303,
        s.hash,
        &MASTER,
        b"key expansion",
        &[&SERVER_RANDOM, &CLIENT_RANDOM],
        &mut block,
    )?;
    let mac_key = &block[..mac_len];
    let key = &block[2 * mac_len..2 * mac_len + key_len];
    let iv = &block[2 * (mac_len + key_len)..2 * (mac_len + key_len) + iv_len];
    let aad = |len: usize| -> Vec<u8> {
        [
            &seq.to_be_bytes()[..],
            &[23, 3, 3],
            &(len as u16).to_be_bytes(),
        ]
        .concat()
    };
    match s.cipher {
        Cipher::ChaCha20Poly1305 => {
            let mut body = plain;
            let tag = aead_seal(
                s.cipher,
                key,
                &xor_seq(iv, seq),
                &aad(body.len()),
                &mut body,
            )?;
            body.extend_from_slice(&tag);
            Ok(Record {
                header: header(body.len())?,
                payload: body,
            })
        }
        Cipher::Aes128Cbc | Cipher::Aes256Cbc | Cipher::Null => {
            let cbc_iv = [0x55u8; 16];
            let mac = |parts: &[&[u8]]| hmac(s.mac, mac_key, parts);
            let payload = if s.cipher == Cipher::Null {
                let tag = mac(&[&aad(plain.len()), &plain])?;
                [plain, tag].concat()
            } else if case.etm {
                let ct = cbc_encrypt(s.cipher, key, &cbc_iv, pad(plain))?;
                let body = [&cbc_iv[..], &ct].concat();
                let tag = mac(&[&aad(body.len()), &body])?;
                [body, tag].concat()
            } else {
                let tag = mac(&[&aad(plain.len()), &plain])?;
                let ct = cbc_encrypt(s.cipher, key, &cbc_iv, pad([plain, tag].concat()))?;
                [&cbc_iv[..], &ct].concat()
            };
            Ok(Record {
                header: header(payload.len())?,
                payload,
            })
        }
        _ => {
            let explicit = seq.to_be_bytes();
            let nonce: Vec<u8> = [iv, &explicit].concat();
            let mut body = plain;
            let tag = aead_seal(s.cipher, key, &nonce, &aad(body.len()), &mut body)?;
            let payload = [&explicit[..], &body, &tag].concat();
            Ok(Record {
                header: header(payload.len())?,
                payload,
            })
        }
    }
}

fn header(len: usize) -> Res<[u8; 5]> {
    let [hi, lo] = u16::try_from(len)?.to_be_bytes();
    Ok([23, 3, 3, hi, lo])
}

fn xor_seq(iv: &[u8], seq: u64) -> Vec<u8> {
    let mut nonce = iv.to_vec();
    for (n, s) in nonce.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    nonce
}

/// TLS CBC padding: n+1 bytes of value n up to a whole number of blocks.
fn pad(mut data: Vec<u8>) -> Vec<u8> {
    let n = 15 - data.len() % 16;
    data.extend(std::iter::repeat_n(n as u8, n + 1));
    data
}

fn key_len(c: Cipher) -> usize {
    match c {
        Cipher::Aes128Gcm | Cipher::Aes128Ccm | Cipher::Aes128Ccm8 | Cipher::Aes128Cbc => 16,
        Cipher::Null | Cipher::Unsupported => 0,
        _ => 32,
    }
}

fn tag_len(c: Cipher) -> usize {
    if matches!(c, Cipher::Aes128Ccm8 | Cipher::Aes256Ccm8) {
        8
    } else {
        16
    }
}

fn mac_len(m: MacAlg) -> usize {
    match m {
        MacAlg::Sha1 => 20,
        MacAlg::Sha256 => 32,
        MacAlg::Sha384 => 48,
        MacAlg::Md5 => 16,
        MacAlg::Aead | MacAlg::Null => 0,
    }
}

fn hmac(alg: MacAlg, key: &[u8], parts: &[&[u8]]) -> Res<Vec<u8>> {
    fn go<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Res<Vec<u8>> {
        let mut m = <M as KeyInit>::new_from_slice(key)?;
        for p in parts {
            m.update(p);
        }
        Ok(m.finalize().into_bytes().to_vec())
    }
    match alg {
        MacAlg::Sha1 => go::<Hmac<sha1::Sha1>>(key, parts),
        MacAlg::Sha256 => go::<Hmac<sha2::Sha256>>(key, parts),
        MacAlg::Sha384 => go::<Hmac<sha2::Sha384>>(key, parts),
        _ => Err("no HMAC for this suite".into()),
    }
}

fn cbc_encrypt(c: Cipher, key: &[u8], iv: &[u8], mut data: Vec<u8>) -> Res<Vec<u8>> {
    let len = data.len();
    match c {
        Cipher::Aes128Cbc => {
            cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)?
                .encrypt_padded::<NoPadding>(&mut data, len)?;
        }
        _ => {
            cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)?
                .encrypt_padded::<NoPadding>(&mut data, len)?;
        }
    }
    Ok(data)
}

/// Seals `buf` in place, returning the tag.
fn aead_seal(c: Cipher, key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Res<Vec<u8>> {
    fn go<A: AeadInOut + KeyInit>(
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Res<Vec<u8>> {
        let a = A::new_from_slice(key)?;
        let nonce = aes_gcm::aead::Nonce::<A>::try_from(nonce).map_err(|_| "nonce length")?;
        let tag = a
            .encrypt_inout_detached(&nonce, aad, buf.into())
            .map_err(|_| "seal")?;
        Ok(tag.to_vec())
    }
    use ccm::consts::{U8, U12, U16};
    match c {
        Cipher::Aes128Gcm => go::<aes_gcm::Aes128Gcm>(key, nonce, aad, buf),
        Cipher::Aes256Gcm => go::<aes_gcm::Aes256Gcm>(key, nonce, aad, buf),
        Cipher::ChaCha20Poly1305 => go::<chacha20poly1305::ChaCha20Poly1305>(key, nonce, aad, buf),
        Cipher::Aes128Ccm => go::<ccm::Ccm<aes::Aes128, U16, U12>>(key, nonce, aad, buf),
        Cipher::Aes128Ccm8 => go::<ccm::Ccm<aes::Aes128, U8, U12>>(key, nonce, aad, buf),
        _ => Err("not an AEAD measured here".into()),
    }
}
