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

/// The Community ID v1 of a flow between `a` and `b` (either direction) with `proto` and `seed`.
/// Addresses of two families (which no flow has) hash as their IPv6 forms, so the function is
/// total.
pub fn v1(a: Endpoint, b: Endpoint, proto: u8, seed: u16) -> String {
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
    // The whole message in one buffer and one digest call (at most 2 + 16 + 16 + 2 + 2 + 2).
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
    let digest = Sha1::digest(msg.get(..n).unwrap_or_default());
    let mut b64 = [0u8; 28];
    let len = base64::engine::general_purpose::STANDARD
        .encode_slice(digest.as_slice(), &mut b64)
        .unwrap_or(0);
    let mut out = String::with_capacity(2 + len);
    out.push_str("1:");
    out.push_str(std::str::from_utf8(b64.get(..len).unwrap_or_default()).unwrap_or_default());
    out
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
