//! Link layers: strip the capture's link header and hand the rest to etherparse's lax slicer.
//!
//! Lengths are checked here before any field is read (`get`, never indexing).

use etherparse::{EtherType, LaxSlicedPacket};

use crate::base::LinkType;

/// Why the link layer did not yield a sliced packet.
pub enum LinkStop {
    Unsupported,
    /// The link header needs `need` bytes.
    Short {
        need: usize,
        what: &'static str,
    },
    /// A link header that carries no IP (e.g. a BSD NULL family other than IPv4/IPv6).
    NotIp,
    /// Raw IP whose header could not be sliced: (layer, what).
    Ip(&'static str, String),
}

/// The sliced packet and the number of link bytes stripped before etherparse saw the data
/// (offsets in etherparse errors are relative to that point).
pub struct Linked<'a> {
    pub sliced: LaxSlicedPacket<'a>,
    pub base: usize,
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// BSD NULL / LOOP address family → EtherType. NULL writes it in the capturing host's byte
/// order, LOOP in network order; both orders are accepted. IPv6 is 24 (NetBSD, OpenBSD), 28
/// (FreeBSD) or 30 (macOS).
fn family(data: &[u8]) -> Option<EtherType> {
    let b: [u8; 4] = data.get(..4)?.try_into().ok()?;
    let (le, be) = (u32::from_le_bytes(b), u32::from_be_bytes(b));
    let is = |v: u32| le == v || be == v;
    if is(2) {
        Some(EtherType::IPV4)
    } else if is(24) || is(28) || is(30) {
        Some(EtherType::IPV6)
    } else {
        None
    }
}

pub fn slice(link: LinkType, data: &[u8]) -> Result<Linked<'_>, LinkStop> {
    match link.0 {
        1 => match LaxSlicedPacket::from_ethernet(data) {
            Ok(sliced) => Ok(Linked { sliced, base: 0 }),
            Err(_) => Err(LinkStop::Short {
                need: 14,
                what: "Ethernet header",
            }),
        },
        113 => {
            let proto = be16(data, 14).ok_or(LinkStop::Short {
                need: 16,
                what: "Linux cooked (SLL) header",
            })?;
            ether(proto, data, 16)
        }
        276 => {
            if data.len() < 20 {
                return Err(LinkStop::Short {
                    need: 20,
                    what: "Linux cooked v2 (SLL2) header",
                });
            }
            let proto = be16(data, 0).ok_or(LinkStop::NotIp)?;
            ether(proto, data, 20)
        }
        0 | 108 => {
            if data.len() < 4 {
                return Err(LinkStop::Short {
                    need: 4,
                    what: "BSD loopback header",
                });
            }
            let et = family(data).ok_or(LinkStop::NotIp)?;
            let rest = data.get(4..).unwrap_or(&[]);
            Ok(Linked {
                sliced: LaxSlicedPacket::from_ether_type(et, rest),
                base: 4,
            })
        }
        12 | 14 | 101 | 228 | 229 => match LaxSlicedPacket::from_ip(data) {
            Ok(sliced) => Ok(Linked { sliced, base: 0 }),
            Err(e) => {
                let layer = match data.first().map(|b| b >> 4) {
                    Some(6) => "ipv6",
                    _ => "ipv4",
                };
                Err(LinkStop::Ip(layer, super::describe_ip_err(&e)))
            }
        },
        239 => nflog(data),
        _ => Err(LinkStop::Unsupported),
    }
}

/// LINKTYPE_NFLOG: a 4-byte header (address family, version, resource id), then TLVs whose
/// length and type are in the capturing host's byte order (both orders are accepted: the one
/// whose first length is plausible wins). The packet is the value of `NFULA_PAYLOAD` (type 9).
fn nflog(data: &[u8]) -> Result<Linked<'_>, LinkStop> {
    const NFULA_PAYLOAD: u16 = 9;
    let short = LinkStop::Short {
        need: 4,
        what: "NFLOG header",
    };
    let family = *data.first().ok_or(short)?;
    if data.len() < 4 {
        return Err(LinkStop::Short {
            need: 4,
            what: "NFLOG header",
        });
    }
    let rd = |at: usize, be: bool| -> Option<u16> {
        let b = [*data.get(at)?, *data.get(at.checked_add(1)?)?];
        Some(if be {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let plausible =
        |be: bool| rd(4, be).is_some_and(|l| l >= 4 && 4 + usize::from(l) <= data.len());
    let be = !plausible(false) && plausible(true);
    let mut at = 4usize;
    while let (Some(len), Some(kind)) = (rd(at, be), rd(at + 2, be)) {
        let len = usize::from(len);
        if len < 4 {
            break;
        }
        if kind & 0x7fff == NFULA_PAYLOAD {
            let start = at + 4;
            let end = (at + len).min(data.len());
            let payload = data.get(start..end).unwrap_or(&[]);
            let et = match family {
                2 => EtherType::IPV4,
                10 => EtherType::IPV6,
                _ => match payload.first().map(|b| b >> 4) {
                    Some(6) => EtherType::IPV6,
                    _ => EtherType::IPV4,
                },
            };
            return Ok(Linked {
                sliced: LaxSlicedPacket::from_ether_type(et, payload),
                base: start,
            });
        }
        at = at.saturating_add(len.div_ceil(4) * 4);
    }
    Err(LinkStop::NotIp)
}

fn ether(proto: u16, data: &[u8], base: usize) -> Result<Linked<'_>, LinkStop> {
    // Values below 0x0600 are not EtherTypes (802.3 frames, 802.2 LLC, CAN, ...).
    if proto < 0x0600 {
        return Err(LinkStop::NotIp);
    }
    let rest = data.get(base..).unwrap_or(&[]);
    Ok(Linked {
        sliced: LaxSlicedPacket::from_ether_type(EtherType(proto), rest),
        base,
    })
}
