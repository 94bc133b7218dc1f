//! Tests of the key schedules and record layouts against published vectors (RFC 8448, the TLS 1.2
//! PRF vector of the IETF TLS WG), the error paths, and a never-panics property. The captures of
//! real OpenSSL connections are in `openssl_tests.rs`.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::analyzers::tls::suites::{self, Hash, TABLE};
use aes_gcm::Aes128Gcm;
use aes_gcm::aead::{self, KeyInit};
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn suite(id: u16) -> &'static Suite {
    suites::suite(id).unwrap()
}

/// A whole record (header ‖ payload) opened with `p`.
fn open_record(p: &mut Protection, record: &[u8]) -> Result<(u8, Vec<u8>), CryptoError> {
    let header: [u8; 5] = record[..5].try_into().unwrap();
    let mut out = Vec::new();
    let kind = p.open(&header, &record[5..], &mut out)?;
    Ok((kind, out))
}

// RFC 8448 section 3, "Simple 1-RTT Handshake" (TLS_AES_128_GCM_SHA256), copied from the RFC.

const CLIENT_HS_SECRET: &str = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
const SERVER_HS_SECRET: &str = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
const CLIENT_AP_SECRET: &str = "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
const SERVER_AP_SECRET: &str = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";

/// EncryptedExtensions (40 octets).
const EE: &str = "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000";

/// Certificate (445 octets).
const CERTIFICATE: &str = concat!(
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a",
    "06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a",
    "0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98",
    "0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312",
    "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0",
    "3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355",
    "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f",
    "8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102",
    "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8",
    "f8961229ac9187b42b4de10000",
);

/// CertificateVerify (136 octets).
const CERTIFICATE_VERIFY: &str = concat!(
    "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d3",
    "3a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c",
    "9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3",
);

/// server Finished (36 octets).
const SERVER_FINISHED: &str =
    "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";

/// client Finished (36 octets).
const CLIENT_FINISHED: &str =
    "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61";

/// NewSessionTicket (205 octets).
const NEW_SESSION_TICKET: &str = concat!(
    "040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf",
    "1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827",
    "db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228",
    "bda40dda721470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a",
    "e4d3570008002a000400000400",
);

/// {server} send handshake record: complete record (679 octets): EE, Certificate, CertificateVerify, Finished.
const SERVER_FLIGHT_RECORD: &str = concat!(
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca",
    "07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13b",
    "d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c",
    "7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd61092",
    "8d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a8",
    "9441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f",
    "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a3",
    "6ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e",
    "1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052c",
    "f93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe",
    "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb",
    "5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038",
    "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd50278",
    "4016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e",
    "750edc53370d2b",
);

/// {client} send handshake record: complete record (58 octets).
const CLIENT_FINISHED_RECORD: &str = concat!(
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1c",
    "aeacab6867d726c40546",
);

/// {server} send handshake record: complete record (227 octets).
const NEW_SESSION_TICKET_RECORD: &str = concat!(
    "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c758db289a",
    "015940252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e0",
    "9c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406f16e3fc181a77ca475840025db2f0a77",
    "f81b5ab05b94c01346755f69232c86519d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74",
    "bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf15985684f",
);

/// {client} send application_data record: complete record (72 octets).
const CLIENT_APP_RECORD: &str = concat!(
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b",
    "62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4",
);

/// {server} send application_data record: complete record (72 octets).
const SERVER_APP_RECORD: &str = concat!(
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8",
    "fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d",
);

/// {client} send alert record: complete record (24 octets).
const CLIENT_ALERT_RECORD: &str = "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3";

/// {server} send alert record: complete record (24 octets).
const SERVER_ALERT_RECORD: &str = "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9";

#[test]
fn rfc8448_traffic_keys_and_ivs() {
    let s = suite(0x1301);
    // {server} derive write traffic keys for handshake data / application data; {client} the same.
    let cases = [
        (
            SERVER_HS_SECRET,
            "3fce516009c21727d0f2e4e86ee403bc",
            "5d313eb2671276ee13000b30",
        ),
        (
            SERVER_AP_SECRET,
            "9f02283b6c9c07efc26bb9f2ac92e356",
            "cf782b88dd83549aadf1e984",
        ),
        (
            CLIENT_HS_SECRET,
            "dbfaa693d1762c5b666af5d950258d01",
            "5bd3c71b836e0b76bb73265f",
        ),
        (
            CLIENT_AP_SECRET,
            "17422dda596ed5d9acd890e3c63f5051",
            "5b78923dee08579033e523d9",
        ),
    ];
    for (secret, key, iv) in cases {
        let (k, i) = traffic_key_iv(s, &h(secret)).unwrap();
        assert_eq!((k, i.to_vec()), (h(key), h(iv)), "secret {secret}");
    }
}

#[test]
fn rfc8448_server_handshake_flight() {
    let mut p = Protection::tls13(suite(0x1301), &h(SERVER_HS_SECRET)).unwrap();
    let (kind, plain) = open_record(&mut p, &h(SERVER_FLIGHT_RECORD)).unwrap();
    let want = [EE, CERTIFICATE, CERTIFICATE_VERIFY, SERVER_FINISHED]
        .map(h)
        .concat();
    assert_eq!(kind, 22);
    assert_eq!(plain, want);
    assert_eq!(p.seq(), 1);
}

#[test]
fn rfc8448_client_finished() {
    let mut p = Protection::tls13(suite(0x1301), &h(CLIENT_HS_SECRET)).unwrap();
    assert_eq!(
        open_record(&mut p, &h(CLIENT_FINISHED_RECORD)).unwrap(),
        (22, h(CLIENT_FINISHED))
    );
}

#[test]
fn rfc8448_application_traffic() {
    let payload: Vec<u8> = (0..50).collect();
    // The server's application keys protect the NewSessionTicket (seq 0), the data (1), the alert (2).
    let mut server = Protection::tls13(suite(0x1301), &h(SERVER_AP_SECRET)).unwrap();
    assert_eq!(
        open_record(&mut server, &h(NEW_SESSION_TICKET_RECORD)).unwrap(),
        (22, h(NEW_SESSION_TICKET))
    );
    assert_eq!(
        open_record(&mut server, &h(SERVER_APP_RECORD)).unwrap(),
        (23, payload.clone())
    );
    assert_eq!(
        open_record(&mut server, &h(SERVER_ALERT_RECORD)).unwrap(),
        (21, vec![1, 0])
    );
    let mut client = Protection::tls13(suite(0x1301), &h(CLIENT_AP_SECRET)).unwrap();
    assert_eq!(
        open_record(&mut client, &h(CLIENT_APP_RECORD)).unwrap(),
        (23, payload)
    );
    assert_eq!(
        open_record(&mut client, &h(CLIENT_ALERT_RECORD)).unwrap(),
        (21, vec![1, 0])
    );
}

#[test]
fn rfc8448_failures() {
    let s = suite(0x1301);
    // A flipped ciphertext bit, a flipped header bit (the AAD): no authentication.
    for at in [5, 40, 1] {
        let mut record = h(SERVER_APP_RECORD);
        record[at] ^= 1;
        let mut p = Protection::tls13(s, &h(SERVER_AP_SECRET)).unwrap();
        open_record(&mut p, &h(NEW_SESSION_TICKET_RECORD)).unwrap();
        assert_eq!(
            open_record(&mut p, &record),
            Err(CryptoError::Authentication),
            "byte {at}"
        );
    }
    // A lost record: the next one is opened with the wrong sequence number. The failure still
    // takes a sequence number, so the record after it (the alert, seq 2) opens.
    let mut p = Protection::tls13(s, &h(SERVER_AP_SECRET)).unwrap();
    assert_eq!(
        open_record(&mut p, &h(SERVER_APP_RECORD)),
        Err(CryptoError::Authentication)
    );
    assert_eq!(p.seq(), 1);
    open_record(&mut p, &h(SERVER_APP_RECORD)).unwrap();
    // The other direction's keys.
    let mut p = Protection::tls13(s, &h(CLIENT_AP_SECRET)).unwrap();
    assert_eq!(
        open_record(&mut p, &h(SERVER_APP_RECORD)),
        Err(CryptoError::Authentication)
    );
    // Shorter than the tag.
    let mut p = Protection::tls13(s, &h(SERVER_AP_SECRET)).unwrap();
    let mut out = vec![1, 2, 3];
    let short = p.open(&[23, 3, 3, 0, 15], &[0; 15], &mut out);
    assert!(matches!(short, Err(CryptoError::Malformed(_))));
    assert!(out.is_empty());
}

#[test]
fn tls13_all_zero_plaintext_is_malformed() {
    use aes_gcm::aead::AeadInOut;
    // Seal zeros with the RFC 8448 server application key at sequence number 0.
    let key = h("9f02283b6c9c07efc26bb9f2ac92e356");
    let nonce = h("cf782b88dd83549aadf1e984");
    let header = [23, 3, 3, 0, 16 + 16];
    let mut body = vec![0u8; 16];
    let a = Aes128Gcm::new_from_slice(&key).unwrap();
    let tag = a
        .encrypt_inout_detached(
            &aead::Nonce::<Aes128Gcm>::try_from(&nonce[..]).unwrap(),
            &header,
            body.as_mut_slice().into(),
        )
        .unwrap();
    body.extend_from_slice(&tag);
    let mut p = Protection::tls13(suite(0x1301), &h(SERVER_AP_SECRET)).unwrap();
    let mut out = Vec::new();
    assert!(matches!(
        p.open(&header, &body, &mut out),
        Err(CryptoError::Malformed(_))
    ));
}

#[test]
fn tls12_prf_sha256_vector() {
    // The TLS 1.2 PRF (P_SHA256) test vector published to the IETF TLS WG.
    let mut out = vec![0u8; 100];
    prf(
        0x0303,
        Hash::Sha256,
        &h("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35"),
        b"test label",
        &[&h("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c")],
        &mut out,
    )
    .unwrap();
    let want = h("e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a
                  6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab
                  4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01
                  87 34 7b 66");
    assert_eq!(out, want);
}

#[test]
fn constructors_refuse_what_they_cannot_do() {
    let cr = [1u8; 32];
    let sr = [2u8; 32];
    let master = [3u8; 48];
    let err = |r: Result<[Protection; 2], CryptoError>| r.err().unwrap();
    assert_eq!(
        err(Protection::tls12(
            suite(0xC02F),
            0x0303,
            &master[..47],
            &cr,
            &sr,
            false
        )),
        CryptoError::BadKeyLength { want: 48, got: 47 }
    );
    assert_eq!(
        err(Protection::tls12(
            suite(0x000A),
            0x0303,
            &master,
            &cr,
            &sr,
            false
        )),
        CryptoError::Unsupported("3DES")
    );
    assert_eq!(
        err(Protection::tls12(
            suite(0x0041),
            0x0303,
            &master,
            &cr,
            &sr,
            false
        )),
        CryptoError::Unsupported("Camellia")
    );
    assert!(matches!(
        err(Protection::tls12(
            suite(0x1301),
            0x0303,
            &master,
            &cr,
            &sr,
            false
        )),
        CryptoError::Unsupported(_)
    ));
    assert_eq!(
        err(Protection::tls12(
            suite(0x002F),
            0x0300,
            &master,
            &cr,
            &sr,
            false
        )),
        CryptoError::Unsupported("SSL 3.0")
    );
    assert!(matches!(
        err(Protection::tls12(
            suite(0xC02F),
            0x0302,
            &master,
            &cr,
            &sr,
            false
        )),
        CryptoError::Unsupported(_)
    ));
    let secret = h(SERVER_AP_SECRET);
    assert_eq!(
        Protection::tls13(suite(0x1301), &secret[..31]).err(),
        Some(CryptoError::BadKeyLength { want: 32, got: 31 })
    );
    assert_eq!(
        Protection::tls13(suite(0x1302), &secret).err(),
        Some(CryptoError::BadKeyLength { want: 48, got: 32 })
    );
    assert!(matches!(
        Protection::tls13(suite(0xC02F), &secret),
        Err(CryptoError::Unsupported(_))
    ));
    assert!(Protection::tls13_next_secret(suite(0x1301), &secret[..20]).is_err());
    assert_eq!(
        Protection::tls13_next_secret(suite(0x1301), &secret)
            .unwrap()
            .len(),
        32
    );
}

#[test]
fn debug_shows_no_key() {
    let p = Protection::tls13(suite(0x1301), &h(SERVER_AP_SECRET)).unwrap();
    let text = format!("{p:?}");
    assert_eq!(text, r#"Protection { kind: "TLS 1.3 AEAD", seq: 0 }"#);
    assert!(p.heap_bytes() > 0);
}

/// One protection of every kind `open` has, both directions.
fn every_kind() -> Vec<Protection> {
    let (cr, sr, master) = ([1u8; 32], [2u8; 32], [3u8; 48]);
    let mut all = Vec::new();
    for s in TABLE.iter().filter(|s| s.decryptable()) {
        if s.tls13 {
            all.push(Protection::tls13(s, &vec![7u8; s.hash.size()]).unwrap());
            continue;
        }
        for version in [0x0301, 0x0302, 0x0303] {
            for etm in [false, true] {
                if let Ok(pair) = Protection::tls12(s, version, &master, &cr, &sr, etm) {
                    all.extend(pair);
                }
            }
        }
    }
    all
}

#[test]
fn every_decryptable_suite_gets_keys() {
    for s in TABLE.iter().filter(|s| s.decryptable()) {
        let ok = if s.tls13 {
            Protection::tls13(s, &vec![7u8; s.hash.size()]).is_ok()
        } else {
            Protection::tls12(s, 0x0303, &[3u8; 48], &[1; 32], &[2; 32], true).is_ok()
        };
        assert!(ok, "{}", s.name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// `open` never panics, whatever the header and payload, for every kind of protection; and
    /// every call takes one sequence number.
    #[test]
    fn open_never_panics(records in prop::collection::vec((any::<[u8; 5]>(), prop::collection::vec(any::<u8>(), 0..300)), 1..6)) {
        let mut out = Vec::new();
        for mut p in every_kind() {
            for (i, (header, payload)) in records.iter().enumerate() {
                let _ = p.open(header, payload, &mut out);
                prop_assert_eq!(p.seq(), i as u64 + 1);
            }
        }
    }
}
