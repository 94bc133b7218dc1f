//! The TLS cipher suite table: IANA names, and what record protection each suite asks for.
//!
//! Contract:
//!
//! - **Data, not code.** [`TABLE`] is one row per suite, sorted by id, holding the id, the IANA
//!   name (TLS Cipher Suites registry) and the bulk cipher; the record MAC and the PRF / HKDF
//!   hash are read off the name's suffix at compile time (`_SHA` is HMAC-SHA1, `_SHA256` and
//!   `_SHA384` name both the MAC of a CBC suite and the TLS 1.2 PRF; AEAD suites have no MAC and
//!   every suite not ending in `_SHA384` uses the SHA-256 PRF, RFC 5246 §5, RFC 6655 §4).
//! - **Every suite that has seen real use is named**, decryptable or not, so a finding can say
//!   which suite a connection used: RC4, DES, 3DES, export, Camellia, SEED, IDEA, ARIA, GOST, SM4
//!   and NULL-MD5 suites are rows with [`Cipher::Unsupported`], and
//!   [`Suite::unsupported_reason`] names the algorithm from the name.
//! - A suite not in the table is named `0xHHHH` by [`name`].

/// The bulk cipher of a suite, as far as decryption is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
    /// AES-128-CCM with a 16-byte tag.
    Aes128Ccm,
    Aes256Ccm,
    /// AES-128-CCM with an 8-byte tag (RFC 6655 `_CCM_8`).
    Aes128Ccm8,
    Aes256Ccm8,
    Aes128Cbc,
    Aes256Cbc,
    /// No encryption, only the record MAC (`TLS_RSA_WITH_NULL_SHA256`, ...).
    Null,
    /// Anything hopscope does not decrypt; [`Suite::unsupported_reason`] says what.
    Unsupported,
}

/// The record MAC of a CBC or NULL suite; [`Mac::Aead`] for AEAD suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mac {
    Aead,
    /// HMAC-MD5, only in legacy suites (`TLS_RSA_WITH_NULL_MD5` is the one decrypted).
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Null,
}

/// The TLS 1.2 PRF hash, or the TLS 1.3 HKDF hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    /// Output length in bytes.
    pub fn size(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }
}

/// One cipher suite.
#[derive(Debug, PartialEq, Eq)]
pub struct Suite {
    pub id: u16,
    /// IANA name, `TLS_...`.
    pub name: &'static str,
    pub cipher: Cipher,
    pub mac: Mac,
    pub hash: Hash,
    /// A TLS 1.3 suite (RFC 8446 §B.4, RFC 8998): keys from traffic secrets.
    pub tls13: bool,
}

impl Suite {
    /// Whether [`crate::analyzers::tls::crypto::Protection`] can open this suite's records.
    pub fn decryptable(&self) -> bool {
        self.unsupported_reason().is_none()
    }

    /// Why this suite's records are not decrypted: a short algorithm name ("RC4", "3DES",
    /// "Camellia", ...) for a finding. `None` when it is decrypted.
    pub fn unsupported_reason(&self) -> Option<&'static str> {
        if self.cipher != Cipher::Unsupported {
            return None;
        }
        let name = self.name.as_bytes();
        REASONS
            .iter()
            .find(|(fragment, _)| contains(name, fragment.as_bytes()))
            .map(|(_, reason)| *reason)
            .or(Some("unsupported cipher"))
    }
}

/// The suite with this id, if the table has it.
pub fn suite(id: u16) -> Option<&'static Suite> {
    TABLE
        .binary_search_by_key(&id, |s| s.id)
        .ok()
        .and_then(|i| TABLE.get(i))
}

/// The IANA name of a suite, or `0xHHHH` for one not in the table.
pub fn name(id: u16) -> String {
    match suite(id) {
        Some(s) => s.name.to_string(),
        None => format!("0x{id:04X}"),
    }
}

/// Name fragments of the suites not decrypted, first match wins, and the reason given. Export
/// comes first (export suites also carry RC4, RC2 or DES), 3DES before DES.
const REASONS: &[(&str, &str)] = &[
    ("_SCSV", "signaling value, not a cipher suite"),
    (
        "NULL_WITH_NULL_NULL",
        "no protection negotiated (initial state)",
    ),
    ("EXPORT", "export"),
    ("3DES", "3DES"),
    ("DES", "DES"),
    ("RC4", "RC4"),
    ("RC2", "RC2"),
    ("IDEA", "IDEA"),
    ("CAMELLIA", "Camellia"),
    ("SEED", "SEED"),
    ("ARIA", "ARIA"),
    ("GOSTR", "GOST"),
    ("SM4", "SM4"),
    ("TLS_SHA", "integrity-only TLS 1.3 (RFC 9150)"),
];

const fn contains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.len() > hay.len() {
        return false;
    }
    let mut start = 0;
    while start + needle.len() <= hay.len() {
        let mut i = 0;
        while i < needle.len() && hay[start + i] == needle[i] {
            i += 1;
        }
        if i == needle.len() {
            return true;
        }
        start += 1;
    }
    false
}

const fn ends_with(hay: &[u8], needle: &[u8]) -> bool {
    if needle.len() > hay.len() {
        return false;
    }
    let off = hay.len() - needle.len();
    let mut i = 0;
    while i < needle.len() {
        if hay[off + i] != needle[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A row: the MAC and hash follow from the name.
const fn s(id: u16, name: &'static str, cipher: Cipher) -> Suite {
    let n = name.as_bytes();
    let hash = if ends_with(n, b"_SHA384") {
        Hash::Sha384
    } else {
        Hash::Sha256
    };
    let mac = match cipher {
        Cipher::Aes128Gcm
        | Cipher::Aes256Gcm
        | Cipher::ChaCha20Poly1305
        | Cipher::Aes128Ccm
        | Cipher::Aes256Ccm
        | Cipher::Aes128Ccm8
        | Cipher::Aes256Ccm8 => Mac::Aead,
        _ if ends_with(n, b"_SHA") => Mac::Sha1,
        _ if ends_with(n, b"_SHA256") => Mac::Sha256,
        _ if ends_with(n, b"_SHA384") => Mac::Sha384,
        _ if ends_with(n, b"_MD5") => Mac::Md5,
        _ => Mac::Null,
    };
    Suite {
        id,
        name,
        cipher,
        mac,
        hash,
        tls13: false,
    }
}

/// A TLS 1.3 row (no record MAC; the hash is the HKDF hash).
const fn t(id: u16, name: &'static str, cipher: Cipher) -> Suite {
    let mut suite = s(id, name, cipher);
    suite.tls13 = true;
    suite.mac = Mac::Aead;
    suite
}

use Cipher::{
    Aes128Cbc as A128, Aes128Ccm as C128, Aes128Ccm8 as C128_8, Aes128Gcm as G128,
    Aes256Cbc as A256, Aes256Ccm as C256, Aes256Ccm8 as C256_8, Aes256Gcm as G256,
    ChaCha20Poly1305 as CHACHA, Null as NULL, Unsupported as NO,
};

/// The IANA TLS Cipher Suites registry, less the never-deployed: sorted by id (a test checks).
#[rustfmt::skip]
pub const TABLE: &[Suite] = &[
    s(0x0000, "TLS_NULL_WITH_NULL_NULL", NO),
    s(0x0001, "TLS_RSA_WITH_NULL_MD5", NULL),
    s(0x0002, "TLS_RSA_WITH_NULL_SHA", NULL),
    s(0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", NO),
    s(0x0004, "TLS_RSA_WITH_RC4_128_MD5", NO),
    s(0x0005, "TLS_RSA_WITH_RC4_128_SHA", NO),
    s(0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", NO),
    s(0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", NO),
    s(0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", NO),
    s(0x0009, "TLS_RSA_WITH_DES_CBC_SHA", NO),
    s(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x000B, "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA", NO),
    s(0x000C, "TLS_DH_DSS_WITH_DES_CBC_SHA", NO),
    s(0x000D, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x000E, "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA", NO),
    s(0x000F, "TLS_DH_RSA_WITH_DES_CBC_SHA", NO),
    s(0x0010, "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", NO),
    s(0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", NO),
    s(0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", NO),
    s(0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", NO),
    s(0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", NO),
    s(0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", NO),
    s(0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", NO),
    s(0x001A, "TLS_DH_anon_WITH_DES_CBC_SHA", NO),
    s(0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x001E, "TLS_KRB5_WITH_DES_CBC_SHA", NO),
    s(0x001F, "TLS_KRB5_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x0020, "TLS_KRB5_WITH_RC4_128_SHA", NO),
    s(0x0021, "TLS_KRB5_WITH_IDEA_CBC_SHA", NO),
    s(0x0022, "TLS_KRB5_WITH_DES_CBC_MD5", NO),
    s(0x0023, "TLS_KRB5_WITH_3DES_EDE_CBC_MD5", NO),
    s(0x0024, "TLS_KRB5_WITH_RC4_128_MD5", NO),
    s(0x0025, "TLS_KRB5_WITH_IDEA_CBC_MD5", NO),
    s(0x0026, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA", NO),
    s(0x0027, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA", NO),
    s(0x0028, "TLS_KRB5_EXPORT_WITH_RC4_40_SHA", NO),
    s(0x0029, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5", NO),
    s(0x002A, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5", NO),
    s(0x002B, "TLS_KRB5_EXPORT_WITH_RC4_40_MD5", NO),
    s(0x002C, "TLS_PSK_WITH_NULL_SHA", NULL),
    s(0x002D, "TLS_DHE_PSK_WITH_NULL_SHA", NULL),
    s(0x002E, "TLS_RSA_PSK_WITH_NULL_SHA", NULL),
    s(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", A128),
    s(0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA", A128),
    s(0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA", A128),
    s(0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", A128),
    s(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", A128),
    s(0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", A128),
    s(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", A256),
    s(0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA", A256),
    s(0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA", A256),
    s(0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", A256),
    s(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", A256),
    s(0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA", A256),
    s(0x003B, "TLS_RSA_WITH_NULL_SHA256", NULL),
    s(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", A128),
    s(0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", A256),
    s(0x003E, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256", A128),
    s(0x003F, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256", A128),
    s(0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", A128),
    s(0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", NO),
    s(0x0042, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA", NO),
    s(0x0043, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA", NO),
    s(0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA", NO),
    s(0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", NO),
    s(0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA", NO),
    s(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", A128),
    s(0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256", A256),
    s(0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256", A256),
    s(0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", A256),
    s(0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", A256),
    s(0x006C, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", A128),
    s(0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", A256),
    s(0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", NO),
    s(0x0085, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA", NO),
    s(0x0086, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA", NO),
    s(0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA", NO),
    s(0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", NO),
    s(0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", NO),
    s(0x008A, "TLS_PSK_WITH_RC4_128_SHA", NO),
    s(0x008B, "TLS_PSK_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x008C, "TLS_PSK_WITH_AES_128_CBC_SHA", A128),
    s(0x008D, "TLS_PSK_WITH_AES_256_CBC_SHA", A256),
    s(0x008E, "TLS_DHE_PSK_WITH_RC4_128_SHA", NO),
    s(0x008F, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", A128),
    s(0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA", A256),
    s(0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA", NO),
    s(0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA", NO),
    s(0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", A128),
    s(0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA", A256),
    s(0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", NO),
    s(0x0097, "TLS_DH_DSS_WITH_SEED_CBC_SHA", NO),
    s(0x0098, "TLS_DH_RSA_WITH_SEED_CBC_SHA", NO),
    s(0x0099, "TLS_DHE_DSS_WITH_SEED_CBC_SHA", NO),
    s(0x009A, "TLS_DHE_RSA_WITH_SEED_CBC_SHA", NO),
    s(0x009B, "TLS_DH_anon_WITH_SEED_CBC_SHA", NO),
    s(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", G128),
    s(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", G256),
    s(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", G128),
    s(0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", G256),
    s(0x00A0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256", G128),
    s(0x00A1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384", G256),
    s(0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", G128),
    s(0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", G256),
    s(0x00A4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256", G128),
    s(0x00A5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384", G256),
    s(0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", G128),
    s(0x00A7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", G256),
    s(0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", G128),
    s(0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", G256),
    s(0x00AA, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", G128),
    s(0x00AB, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384", G256),
    s(0x00AC, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256", G128),
    s(0x00AD, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384", G256),
    s(0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256", A128),
    s(0x00AF, "TLS_PSK_WITH_AES_256_CBC_SHA384", A256),
    s(0x00B0, "TLS_PSK_WITH_NULL_SHA256", NULL),
    s(0x00B1, "TLS_PSK_WITH_NULL_SHA384", NULL),
    s(0x00B2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256", A128),
    s(0x00B3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384", A256),
    s(0x00B4, "TLS_DHE_PSK_WITH_NULL_SHA256", NULL),
    s(0x00B5, "TLS_DHE_PSK_WITH_NULL_SHA384", NULL),
    s(0x00B6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256", A128),
    s(0x00B7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384", A256),
    s(0x00B8, "TLS_RSA_PSK_WITH_NULL_SHA256", NULL),
    s(0x00B9, "TLS_RSA_PSK_WITH_NULL_SHA384", NULL),
    s(0x00BA, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0x00BB, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0x00BC, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0x00BD, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0x00BE, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0x00BF, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0x00C0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256", NO),
    s(0x00C1, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256", NO),
    s(0x00C2, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256", NO),
    s(0x00C3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256", NO),
    s(0x00C4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256", NO),
    s(0x00C5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256", NO),
    t(0x00C6, "TLS_SM4_GCM_SM3", NO),
    t(0x00C7, "TLS_SM4_CCM_SM3", NO),
    s(0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", NO),
    t(0x1301, "TLS_AES_128_GCM_SHA256", G128),
    t(0x1302, "TLS_AES_256_GCM_SHA384", G256),
    t(0x1303, "TLS_CHACHA20_POLY1305_SHA256", CHACHA),
    t(0x1304, "TLS_AES_128_CCM_SHA256", C128),
    t(0x1305, "TLS_AES_128_CCM_8_SHA256", C128_8),
    s(0x5600, "TLS_FALLBACK_SCSV", NO),
    s(0xC001, "TLS_ECDH_ECDSA_WITH_NULL_SHA", NULL),
    s(0xC002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA", NO),
    s(0xC003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA", NO),
    s(0xC004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", A128),
    s(0xC005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA", A256),
    s(0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", NULL),
    s(0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", NO),
    s(0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", NO),
    s(0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", A128),
    s(0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", A256),
    s(0xC00B, "TLS_ECDH_RSA_WITH_NULL_SHA", NULL),
    s(0xC00C, "TLS_ECDH_RSA_WITH_RC4_128_SHA", NO),
    s(0xC00D, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA", NO),
    s(0xC00E, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", A128),
    s(0xC00F, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA", A256),
    s(0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA", NULL),
    s(0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", NO),
    s(0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", NO),
    s(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", A128),
    s(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", A256),
    s(0xC015, "TLS_ECDH_anon_WITH_NULL_SHA", NULL),
    s(0xC016, "TLS_ECDH_anon_WITH_RC4_128_SHA", NO),
    s(0xC017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", NO),
    s(0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", A128),
    s(0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", A256),
    s(0xC01A, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA", NO),
    s(0xC01B, "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA", NO),
    s(0xC01C, "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA", NO),
    s(0xC01D, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", A128),
    s(0xC01E, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", A128),
    s(0xC01F, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA", A128),
    s(0xC020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA", A256),
    s(0xC021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA", A256),
    s(0xC022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA", A256),
    s(0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", A128),
    s(0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", A256),
    s(0xC025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256", A128),
    s(0xC026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384", A256),
    s(0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", A128),
    s(0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", A256),
    s(0xC029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256", A128),
    s(0xC02A, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384", A256),
    s(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", G128),
    s(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", G256),
    s(0xC02D, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", G128),
    s(0xC02E, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384", G256),
    s(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", G128),
    s(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", G256),
    s(0xC031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", G128),
    s(0xC032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", G256),
    s(0xC033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA", NO),
    s(0xC034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA", NO),
    s(0xC035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", A128),
    s(0xC036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", A256),
    s(0xC037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", A128),
    s(0xC038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384", A256),
    s(0xC039, "TLS_ECDHE_PSK_WITH_NULL_SHA", NULL),
    s(0xC03A, "TLS_ECDHE_PSK_WITH_NULL_SHA256", NULL),
    s(0xC03B, "TLS_ECDHE_PSK_WITH_NULL_SHA384", NULL),
    s(0xC03C, "TLS_RSA_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC03D, "TLS_RSA_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC03E, "TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC03F, "TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC040, "TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC041, "TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC042, "TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC043, "TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC044, "TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC045, "TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC046, "TLS_DH_anon_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC047, "TLS_DH_anon_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC048, "TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC049, "TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC04A, "TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC04B, "TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC04C, "TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC04D, "TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC04E, "TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC04F, "TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC054, "TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC055, "TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC058, "TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC059, "TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC05A, "TLS_DH_anon_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC05B, "TLS_DH_anon_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC05C, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC05D, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC05E, "TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC05F, "TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC062, "TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC063, "TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC064, "TLS_PSK_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC065, "TLS_PSK_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC066, "TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC067, "TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC068, "TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC069, "TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC06A, "TLS_PSK_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC06B, "TLS_PSK_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC06C, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC06D, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC06E, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256", NO),
    s(0xC06F, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384", NO),
    s(0xC070, "TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256", NO),
    s(0xC071, "TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384", NO),
    s(0xC072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0xC073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", NO),
    s(0xC074, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0xC075, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", NO),
    s(0xC076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0xC077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384", NO),
    s(0xC078, "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0xC079, "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384", NO),
    s(0xC07A, "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC07B, "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC07C, "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC07D, "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC07E, "TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC07F, "TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC080, "TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC081, "TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC082, "TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC083, "TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC084, "TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC085, "TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC086, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC087, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC088, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC089, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC08A, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC08B, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC08C, "TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC08D, "TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC08E, "TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC08F, "TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC090, "TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC091, "TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC092, "TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256", NO),
    s(0xC093, "TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384", NO),
    s(0xC094, "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0xC095, "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384", NO),
    s(0xC096, "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0xC097, "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", NO),
    s(0xC098, "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0xC099, "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384", NO),
    s(0xC09A, "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", NO),
    s(0xC09B, "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", NO),
    s(0xC09C, "TLS_RSA_WITH_AES_128_CCM", C128),
    s(0xC09D, "TLS_RSA_WITH_AES_256_CCM", C256),
    s(0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", C128),
    s(0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM", C256),
    s(0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8", C128_8),
    s(0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8", C256_8),
    s(0xC0A2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", C128_8),
    s(0xC0A3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", C256_8),
    s(0xC0A4, "TLS_PSK_WITH_AES_128_CCM", C128),
    s(0xC0A5, "TLS_PSK_WITH_AES_256_CCM", C256),
    s(0xC0A6, "TLS_DHE_PSK_WITH_AES_128_CCM", C128),
    s(0xC0A7, "TLS_DHE_PSK_WITH_AES_256_CCM", C256),
    s(0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8", C128_8),
    s(0xC0A9, "TLS_PSK_WITH_AES_256_CCM_8", C256_8),
    s(0xC0AA, "TLS_PSK_DHE_WITH_AES_128_CCM_8", C128_8),
    s(0xC0AB, "TLS_PSK_DHE_WITH_AES_256_CCM_8", C256_8),
    s(0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", C128),
    s(0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", C256),
    s(0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", C128_8),
    s(0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", C256_8),
    s(0xC0B0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256", G128),
    s(0xC0B1, "TLS_ECCPWD_WITH_AES_256_GCM_SHA384", G256),
    s(0xC0B2, "TLS_ECCPWD_WITH_AES_128_CCM_SHA256", C128),
    s(0xC0B3, "TLS_ECCPWD_WITH_AES_256_CCM_SHA384", C256),
    t(0xC0B4, "TLS_SHA256_SHA256", NO),
    t(0xC0B5, "TLS_SHA384_SHA384", NO),
    s(0xC100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC", NO),
    s(0xC101, "TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC", NO),
    s(0xC102, "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT", NO),
    t(0xC103, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L", NO),
    t(0xC104, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_L", NO),
    t(0xC105, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S", NO),
    t(0xC106, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S", NO),
    s(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", CHACHA),
    s(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", CHACHA),
    s(0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", CHACHA),
    s(0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", CHACHA),
    s(0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", CHACHA),
    s(0xCCAD, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", CHACHA),
    s(0xCCAE, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", CHACHA),
    s(0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", G128),
    s(0xD002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384", G256),
    s(0xD003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256", C128_8),
    s(0xD005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256", C128),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in TABLE.windows(2) {
            assert!(
                pair[0].id < pair[1].id,
                "{} then {}",
                pair[0].name,
                pair[1].name
            );
        }
        let mut names: Vec<_> = TABLE.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
    }

    #[test]
    fn every_row_is_consistent_with_its_name() {
        for s in TABLE {
            assert!(s.name.starts_with("TLS_"), "{}", s.name);
            let want_cipher = |c: Cipher| s.cipher == c || s.cipher == Cipher::Unsupported;
            if s.name.contains("AES_128_GCM") {
                assert!(want_cipher(Cipher::Aes128Gcm), "{}", s.name);
            }
            if s.name.contains("AES_256_GCM") {
                assert!(want_cipher(Cipher::Aes256Gcm), "{}", s.name);
            }
            if s.name.contains("AES_128_CBC") {
                assert!(want_cipher(Cipher::Aes128Cbc), "{}", s.name);
            }
            if s.name.contains("AES_256_CBC") {
                assert!(want_cipher(Cipher::Aes256Cbc), "{}", s.name);
            }
            if s.name.contains("AES_128_CCM_8") {
                assert_eq!(s.cipher, Cipher::Aes128Ccm8, "{}", s.name);
            } else if s.name.contains("AES_128_CCM") {
                assert_eq!(s.cipher, Cipher::Aes128Ccm, "{}", s.name);
            }
            if s.name.contains("AES_256_CCM_8") {
                assert_eq!(s.cipher, Cipher::Aes256Ccm8, "{}", s.name);
            } else if s.name.contains("AES_256_CCM") {
                assert_eq!(s.cipher, Cipher::Aes256Ccm, "{}", s.name);
            }
            if s.name.contains("CHACHA20") {
                assert_eq!(s.cipher, Cipher::ChaCha20Poly1305, "{}", s.name);
            }
            if s.name.contains("WITH_NULL_SHA") {
                assert_eq!(s.cipher, Cipher::Null, "{}", s.name);
            }
            let want_hash = if s.name.ends_with("_SHA384") {
                Hash::Sha384
            } else {
                Hash::Sha256
            };
            assert_eq!(s.hash, want_hash, "{}", s.name);
            if s.cipher == Cipher::Aes128Cbc || s.cipher == Cipher::Aes256Cbc {
                let mac = match s.name.rsplit('_').next() {
                    Some("SHA") => Mac::Sha1,
                    Some("SHA256") => Mac::Sha256,
                    Some("SHA384") => Mac::Sha384,
                    other => panic!("{}: {other:?}", s.name),
                };
                assert_eq!(s.mac, mac, "{}", s.name);
            }
            assert_eq!(
                s.decryptable(),
                s.cipher != Cipher::Unsupported,
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn lookups() {
        let s = suite(0xC02F).expect("in the table");
        assert_eq!(s.name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(
            (s.cipher, s.mac, s.hash, s.tls13),
            (Cipher::Aes128Gcm, Mac::Aead, Hash::Sha256, false)
        );
        let s = suite(0x1302).expect("in the table");
        assert_eq!(
            (s.cipher, s.hash, s.tls13),
            (Cipher::Aes256Gcm, Hash::Sha384, true)
        );
        let s = suite(0xC028).expect("in the table");
        assert_eq!(
            (s.cipher, s.mac, s.hash),
            (Cipher::Aes256Cbc, Mac::Sha384, Hash::Sha384)
        );
        let s = suite(0x002F).expect("in the table");
        assert_eq!(
            (s.cipher, s.mac, s.hash),
            (Cipher::Aes128Cbc, Mac::Sha1, Hash::Sha256)
        );
        assert_eq!(name(0x1305), "TLS_AES_128_CCM_8_SHA256");
        assert_eq!(name(0x0A0A), "0x0A0A");
        assert_eq!(name(0xFFFF), "0xFFFF");
        assert!(suite(0x0047).is_none());
    }

    #[test]
    fn reasons_name_the_algorithm() {
        let reason = |id| suite(id).and_then(Suite::unsupported_reason);
        assert_eq!(reason(0x0005), Some("RC4"));
        assert_eq!(reason(0x000A), Some("3DES"));
        assert_eq!(reason(0x0009), Some("DES"));
        assert_eq!(reason(0x0003), Some("export"));
        assert_eq!(reason(0x0014), Some("export"));
        assert_eq!(reason(0x0041), Some("Camellia"));
        assert_eq!(reason(0x0096), Some("SEED"));
        assert_eq!(reason(0x0007), Some("IDEA"));
        assert_eq!(reason(0xC050), Some("ARIA"));
        assert_eq!(reason(0xC100), Some("GOST"));
        assert_eq!(reason(0x00C6), Some("SM4"));
        assert!(reason(0x5600).is_some_and(|r| r.contains("signaling")));
        assert_eq!(reason(0xC02F), None);
        assert_eq!(reason(0x003B), None);
        assert_eq!(reason(0x0001), None);
    }
}
