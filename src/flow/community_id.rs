//! Community ID v1 (corelight/community-id-spec): the flow hash Zeek, Suricata, Arkime and
//! Wireshark print, so a connection in hopscope's report joins the same flow in their logs.
//!
//! `1:` then the base64 of SHA-1 over: the seed (2 bytes, network order), the two addresses and
//! the protocol number with one byte of padding, then the two ports; the endpoints ordered so the
//! smaller (address, then port) comes first, which makes both directions hash alike.

use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::model::Endpoint;

/// IP protocol number of TCP.
pub const TCP: u8 = 6;

/// Length of a v1 Community ID: `1:` and the base64 of a 20-byte SHA-1 digest.
pub const LEN: usize = 30;

/// The Community ID v1 of a flow between `a` and `b` (either direction) with `proto` and `seed`.
/// Addresses of two families (which no flow has) hash as their IPv6 forms, so the function is
/// total.
pub fn v1(a: Endpoint, b: Endpoint, proto: u8, seed: u16) -> String {
    let mut buf = [0u8; LEN];
    String::from(v1_into(a, b, proto, seed, &mut buf))
}

/// [`v1`] written into `out`, without allocating: the text is returned, borrowed from `out`.
/// The digest is the sha1 crate's, over the message (at most 2 + 16 + 16 + 2 + 2 + 2 = 40
/// bytes) built on the stack.
pub fn v1_into(a: Endpoint, b: Endpoint, proto: u8, seed: u16, out: &mut [u8; LEN]) -> &str {
    let (msg, n) = match (a.ip, b.ip) {
        (std::net::IpAddr::V4(x), std::net::IpAddr::V4(y)) => {
            (message_v4(a, x, b, y, proto, seed), 16)
        }
        _ => message_any(a, b, proto, seed),
    };
    let digest = Sha1::digest(msg.get(..n).unwrap_or_default());
    out[0] = b'1';
    out[1] = b':';
    let len = base64::engine::general_purpose::STANDARD
        .encode_slice(digest, &mut out[2..])
        .unwrap_or(0);
    std::str::from_utf8(out.get(..2 + len).unwrap_or_default()).unwrap_or_default()
}

/// The message of two IPv4 endpoints: every field at a fixed place (16 bytes).
#[inline]
fn message_v4(
    a: Endpoint,
    x: std::net::Ipv4Addr,
    b: Endpoint,
    y: std::net::Ipv4Addr,
    proto: u8,
    seed: u16,
) -> [u8; 40] {
    let ((src, sp), (dst, dp)) = if (x.to_bits(), a.port) <= (y.to_bits(), b.port) {
        ((x, a.port), (y, b.port))
    } else {
        ((y, b.port), (x, a.port))
    };
    let mut msg = [0u8; 40];
    let [s0, s1] = seed.to_be_bytes();
    let [a0, a1, a2, a3] = src.octets();
    let [b0, b1, b2, b3] = dst.octets();
    let [p0, p1] = sp.to_be_bytes();
    let [q0, q1] = dp.to_be_bytes();
    msg[..16].copy_from_slice(&[
        s0, s1, a0, a1, a2, a3, b0, b1, b2, b3, proto, 0, p0, p1, q0, q1,
    ]);
    msg
}

/// The message of any two endpoints (IPv6, or the two families mixed), and its length.
fn message_any(a: Endpoint, b: Endpoint, proto: u8, seed: u16) -> ([u8; 40], usize) {
    let bytes = |e: &Endpoint| -> ([u8; 16], usize) {
        match (e.ip, a.ip.is_ipv4() && b.ip.is_ipv4()) {
            (std::net::IpAddr::V4(v4), true) => {
                let mut out = [0; 16];
                out[..4].copy_from_slice(&v4.octets());
                (out, 4)
            }
            (std::net::IpAddr::V4(v4), false) => (v4.to_ipv6_mapped().octets(), 16),
            (std::net::IpAddr::V6(v6), _) => (v6.octets(), 16),
        }
    };
    let (ab, alen) = bytes(&a);
    let (bb, blen) = bytes(&b);
    let (aa, ba) = (&ab[..alen], &bb[..blen]);
    let a_first = (aa, a.port) <= (ba, b.port);
    let ((src, sp), (dst, dp)) = if a_first {
        ((aa, a.port), (ba, b.port))
    } else {
        ((ba, b.port), (aa, a.port))
    };
    let mut msg = [0u8; 40];
    let mut n = 0;
    for part in [
        &seed.to_be_bytes()[..],
        src,
        dst,
        &[proto, 0],
        &sp.to_be_bytes(),
        &dp.to_be_bytes(),
    ] {
        if let Some(slot) = msg.get_mut(n..n + part.len()) {
            slot.copy_from_slice(part);
            n += part.len();
        }
    }
    (msg, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        let a: std::net::SocketAddr = s.parse().expect("a test address");
        Endpoint {
            ip: a.ip(),
            port: a.port(),
        }
    }

    /// The digest as `Sha1::digest` gives it (the hasher the crate finalizes itself), for the
    /// message [`v1_into`] builds.
    fn v1_digest(a: Endpoint, b: Endpoint, proto: u8, seed: u16) -> String {
        use sha1::{Digest, Sha1};
        let bytes = |e: &Endpoint| -> Vec<u8> {
            match (e.ip, a.ip.is_ipv4() && b.ip.is_ipv4()) {
                (std::net::IpAddr::V4(v4), true) => v4.octets().to_vec(),
                (std::net::IpAddr::V4(v4), false) => v4.to_ipv6_mapped().octets().to_vec(),
                (std::net::IpAddr::V6(v6), _) => v6.octets().to_vec(),
            }
        };
        let (aa, ba) = (bytes(&a), bytes(&b));
        let ((src, sp), (dst, dp)) = if (&aa, a.port) <= (&ba, b.port) {
            ((aa, a.port), (ba, b.port))
        } else {
            ((ba, b.port), (aa, a.port))
        };
        let mut msg = seed.to_be_bytes().to_vec();
        msg.extend_from_slice(&src);
        msg.extend_from_slice(&dst);
        msg.extend_from_slice(&[proto, 0]);
        msg.extend_from_slice(&sp.to_be_bytes());
        msg.extend_from_slice(&dp.to_be_bytes());
        let d = Sha1::digest(&msg);
        format!("1:{}", base64::engine::general_purpose::STANDARD.encode(d))
    }

    /// The message built on the stack hashes as the one built plainly, for IPv4, IPv6
    /// and mixed pairs, equal addresses, both orders and several seeds and protocols.
    #[test]
    fn the_stack_message_hashes_as_the_plain_one() {
        let eps = [
            "1.2.3.4:1122",
            "5.6.7.8:3344",
            "5.6.7.8:1",
            "255.255.255.255:65535",
            "0.0.0.0:0",
            "[::1]:8080",
            "[2001:db8::2]:443",
            "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
            "[::ffff:1.2.3.4]:1122",
        ];
        for x in eps {
            for y in eps {
                for (proto, seed) in [(TCP, 0), (17, 1), (TCP, 0xffff)] {
                    let (a, b) = (ep(x), ep(y));
                    let got = v1(a, b, proto, seed);
                    assert_eq!(got, v1_digest(a, b, proto, seed), "{x} {y}");
                    assert_eq!(got.len(), LEN);
                }
            }
        }
    }

    /// The published vectors (the spec's baseline, Zeek's `community_id_v1` test): TCP
    /// 1.2.3.4:1122 ↔ 5.6.7.8:3344 with seeds 0 and 1, and UDP with seed 0, both directions.
    #[test]
    fn published_vectors() {
        let (a, b) = (ep("1.2.3.4:1122"), ep("5.6.7.8:3344"));
        for (x, y) in [(a, b), (b, a)] {
            assert_eq!(v1(x, y, TCP, 0), "1:wCb3OG7yAFWelaUydu0D+125CLM=");
            assert_eq!(v1(x, y, TCP, 1), "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=");
            assert_eq!(v1(x, y, 17, 0), "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=");
            assert_eq!(v1(x, y, 17, 1), "1:OShq+iKDAMVouh/4bMxB9Sz4amw=");
        }
    }

    /// What tshark 4.0's `communityid` dissector printed for connections of
    /// `samples/http-proxy-chain.pcap` and `samples/http-ipv6.pcap` (`tshark -r FILE
    /// --enable-protocol communityid -T fields -e communityid`): same address, ports in either
    /// order, and IPv6.
    #[test]
    fn as_tshark_prints() {
        assert_eq!(
            v1(ep("127.0.0.1:60456"), ep("127.0.0.1:8085"), TCP, 0),
            "1:2YtLssj8tpSgDBxg+txVbGK8qVY="
        );
        assert_eq!(
            v1(ep("127.0.0.1:8778"), ep("127.0.0.1:36470"), TCP, 0),
            "1:aKgwYz603gmjEBFp/wh6Hv3m8g4="
        );
        for (x, y) in [("[::1]:40002", "[::1]:8080"), ("[::1]:8080", "[::1]:40002")] {
            assert_eq!(v1(ep(x), ep(y), TCP, 0), "1:Ib/edo06u8mvcvAxjmpzYE2LSP0=");
        }
    }
}
