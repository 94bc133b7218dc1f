//! Flow keys and per-connection TCP state.
//!
//! A flow key is the unordered pair of endpoints, so both directions find the same entry.
//! Which endpoint is the client is decided once per connection (SYN sender, SYN-ACK receiver,
//! or a port heuristic whose reason is recorded).

pub mod community_id;
pub mod seen;

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::base::Timestamp;
use crate::model::{CloseKind, ConnectionRecord, Dir, Endpoint};
use crate::reassembly::HalfStream;

/// The live connections: a small hash index from flow key to a slot in a slab, so a lookup
/// probes a compact table and a connection is never moved once placed.
pub struct FlowTable<S> {
    index: FxHashMap<FlowKey, u32>,
    slots: Vec<Option<(FlowKey, Conn<S>)>>,
    free: Vec<u32>,
}

impl<S> Default for FlowTable<S> {
    fn default() -> Self {
        FlowTable {
            index: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<S> FlowTable<S> {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn contains_key(&self, key: &FlowKey) -> bool {
        self.index.contains_key(key)
    }

    pub fn get(&self, key: &FlowKey) -> Option<&Conn<S>> {
        let i = *self.index.get(key)? as usize;
        self.slots.get(i)?.as_ref().map(|(_, c)| c)
    }

    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Conn<S>> {
        let i = *self.index.get(key)? as usize;
        self.slots.get_mut(i)?.as_mut().map(|(_, c)| c)
    }

    /// Where `key`'s connection is, when it is live: for [`FlowTable::at`] and
    /// [`FlowTable::get_or_insert_at`], so a packet looks its flow up once.
    #[inline]
    pub fn find(&self, key: &FlowKey) -> Option<u32> {
        self.index.get(key).copied()
    }

    /// The connection in slot `i` (from [`FlowTable::find`], the table unchanged since).
    pub fn at(&self, i: u32) -> Option<&Conn<S>> {
        self.slots.get(i as usize)?.as_ref().map(|(_, c)| c)
    }

    /// [`FlowTable::get_or_insert_with`] when `found` is what [`FlowTable::find`] gave for
    /// `key`, the table unchanged since (no second lookup for a live connection).
    #[inline]
    pub fn get_or_insert_at(
        &mut self,
        found: Option<u32>,
        key: FlowKey,
        make: impl FnOnce() -> Conn<S>,
    ) -> &mut Conn<S> {
        match found {
            Some(i) if matches!(self.slots.get(i as usize), Some(Some((k, _))) if *k == key) => {
                let slot = &mut self.slots[i as usize];
                &mut slot.get_or_insert_with(|| (key, make())).1
            }
            _ => self.get_or_insert_with(key, make),
        }
    }

    /// Returns the connection for `key`, creating it with `make` when absent. Inlined: it is
    /// on every packet's path, and `make` is only built for a new connection.
    #[inline]
    pub fn get_or_insert_with(
        &mut self,
        key: FlowKey,
        make: impl FnOnce() -> Conn<S>,
    ) -> &mut Conn<S> {
        let i = match self.index.get(&key) {
            Some(&i) => i as usize,
            None => {
                let i = match self.free.pop() {
                    Some(i) => i as usize,
                    None => {
                        self.slots.push(None);
                        self.slots.len() - 1
                    }
                };
                self.index.insert(key, i as u32);
                i
            }
        };
        let slot = &mut self.slots[i];
        &mut slot.get_or_insert_with(|| (key, make())).1
    }

    pub fn remove(&mut self, key: &FlowKey) -> Option<Conn<S>> {
        let i = self.index.remove(key)?;
        let (_, c) = self.slots.get_mut(i as usize)?.take()?;
        self.free.push(i);
        Some(c)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&FlowKey, &Conn<S>)> {
        self.slots.iter().flatten().map(|(k, c)| (k, c))
    }
}

/// Both endpoints, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowKey {
    pub lo: Endpoint,
    pub hi: Endpoint,
}

/// For the maps (flow table, lingering records): two IPv4 endpoints hash as two words, not
/// as the derived hash's eight writes (each address's variant, length and bytes, and port).
/// [`FlowKey::share`] keeps the derived hash: it splits bounds and threads.
impl std::hash::Hash for FlowKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match (self.lo.ip, self.hi.ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                h.write_u64((u64::from(a.to_bits()) << 32) | u64::from(b.to_bits()));
                h.write_u32((u32::from(self.lo.port) << 16) | u32::from(self.hi.port));
            }
            _ => {
                self.lo.hash(h);
                self.hi.hash(h);
            }
        }
    }
}

impl FlowKey {
    /// The key of a decoded segment's connection.
    #[inline]
    pub fn of_segment(seg: &crate::decode::TcpSegment<'_>) -> FlowKey {
        FlowKey::new(
            Endpoint {
                ip: seg.src,
                port: seg.src_port,
            },
            Endpoint {
                ip: seg.dst,
                port: seg.dst_port,
            },
        )
    }

    #[inline]
    pub fn new(a: Endpoint, b: Endpoint) -> FlowKey {
        // `a <= b` (address, then port); for two IPv4 addresses as numbers.
        let a_first = match (a.ip, b.ip) {
            (IpAddr::V4(x), IpAddr::V4(y)) => (x.to_bits(), a.port) <= (y.to_bits(), b.port),
            _ => a <= b,
        };
        if a_first {
            FlowKey { lo: a, hi: b }
        } else {
            FlowKey { lo: b, hi: a }
        }
    }

    /// The connection's share of the bounds split by connection (the retention bound), and of
    /// a run's threads (`share % threads`): a hash of both endpoints, the same for both
    /// directions, below [`RETAIN_SHARES`](crate::reassembly::RETAIN_SHARES).
    pub fn share(&self) -> u8 {
        use std::hash::{Hash, Hasher};
        // The hash `derive(Hash)` gave (both endpoints in order), whatever the maps use.
        let mut h = rustc_hash::FxHasher::default();
        self.lo.hash(&mut h);
        self.hi.hash(&mut h);
        // The high bits: FxHash's low bits vary least.
        ((h.finish() >> 32) % crate::reassembly::RETAIN_SHARES as u64) as u8
    }
}

/// Ports that are servers when nothing better is known.
const SERVICE_PORTS: &[u16] = &[
    80, 443, 8080, 8000, 8008, 8443, 8888, 3128, 1080, 8081, 8088, 9000, 5000, 3000, 8880,
];

/// Picks the client of a connection whose handshake was not seen. `src` sent the first packet.
pub fn guess_client(src: Endpoint, dst: Endpoint) -> (Endpoint, Endpoint, String) {
    let sp = src.port;
    let dp = dst.port;
    let svc = |p: u16| SERVICE_PORTS.contains(&p);
    if svc(dp) && !svc(sp) {
        return (src, dst, format!("no handshake; {dp} is a service port"));
    }
    if svc(sp) && !svc(dp) {
        return (dst, src, format!("no handshake; {sp} is a service port"));
    }
    if dp < 1024 && sp >= 1024 {
        return (src, dst, format!("no handshake; {dp} is a well-known port"));
    }
    if sp < 1024 && dp >= 1024 {
        return (dst, src, format!("no handshake; {sp} is a well-known port"));
    }
    if dp < sp {
        return (
            src,
            dst,
            format!("no handshake; lower port {dp} taken as the server"),
        );
    }
    if sp < dp {
        return (
            dst,
            src,
            format!("no handshake; lower port {sp} taken as the server"),
        );
    }
    (src, dst, "no handshake; sender of the first packet".into())
}

/// Most input files listed per connection (a connection alive across hundreds of rotated
/// files keeps the first ones).
pub const MAX_CONN_FILES: usize = 1024;

impl<S> Conn<S> {
    /// Notes that a packet of the connection came from input `file`.
    #[inline]
    pub fn note_file(&mut self, file: u32) {
        if self.files.last() != Some(&file)
            && self.files.len() < MAX_CONN_FILES
            && !self.files.contains(&file)
        {
            self.files.push(file);
        }
    }
}

/// One TCP connection: endpoints, lifecycle and both half-streams. `S` is the analyzers'
/// per-connection state.
pub struct Conn<S> {
    pub id: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub client_reason: String,
    pub start: Timestamp,
    pub last_ts: Timestamp,
    pub first_packet: u64,
    pub last_packet: u64,
    /// Several inputs: the files its packets came from, in the order first seen (bounded by
    /// [`MAX_CONN_FILES`]).
    pub files: Vec<u32>,
    pub syn_seen: bool,
    pub synack_seen: bool,
    /// When the first SYN-ACK was captured (the handshake's time with `start`).
    pub synack_at: Option<Timestamp>,
    pub fin_seen: [bool; 2],
    pub rst_seen: bool,
    /// When the connection closed (both FINs or a RST); finalized after a linger period so
    /// trailing ACKs still count.
    pub closed_at: Option<Timestamp>,
    pub streams: [HalfStream; 2],
    pub gap_findings: [u32; 2],
    pub app: S,
    /// What the analyzers' state of this connection held when last counted (the memory
    /// budget's share of it).
    pub mem: usize,
    /// Several capture points: which one's packets are analysed, and what the others saw
    /// (`seen::Seen`); `None` for a single point.
    pub seen: Option<Box<seen::Seen>>,
}

impl<S: Default> Conn<S> {
    pub fn new(
        id: u64,
        client: Endpoint,
        server: Endpoint,
        reason: String,
        ts: Timestamp,
        packet: u64,
    ) -> Self {
        Conn {
            id,
            client,
            server,
            client_reason: reason,
            start: ts,
            last_ts: ts,
            first_packet: packet,
            last_packet: packet,
            files: Vec::new(),
            syn_seen: false,
            synack_seen: false,
            synack_at: None,
            fin_seen: [false; 2],
            rst_seen: false,
            closed_at: None,
            streams: [HalfStream::default(), HalfStream::default()],
            gap_findings: [0; 2],
            app: S::default(),
            mem: 0,
            seen: None,
        }
    }
}

impl<S> Conn<S> {
    pub fn dir_of(&self, src: Endpoint) -> Dir {
        if src == self.client {
            Dir::ClientToServer
        } else {
            Dir::ServerToClient
        }
    }

    /// Whether a SYN (without ACK) from `src` with `seq` starts a new connection on these ports.
    pub fn syn_starts_new(&self, src: Endpoint, seq: u32) -> bool {
        if self.closed_at.is_some() {
            // Same SYN retransmitted after a quick RST is still the old attempt.
            let d = self.dir_of(src);
            return self.streams[d.index()].isn != Some(seq);
        }
        let d = self.dir_of(src);
        let half = &self.streams[d.index()];
        match half.isn {
            Some(isn) => isn != seq,
            None => {
                // SYN-ACK seen first: the SYN that belongs to it is not a new connection.
                if d == Dir::ClientToServer && self.synack_seen && half.offset() == 0 {
                    return false;
                }
                half.stats.bytes > 0
                    || half.stats.wire_bytes > 0
                    || d == Dir::ServerToClient && self.syn_seen
            }
        }
    }

    pub fn close_kind(&self) -> Option<CloseKind> {
        if self.rst_seen {
            Some(CloseKind::Rst)
        } else if self.fin_seen[0] && self.fin_seen[1] {
            Some(CloseKind::Fin)
        } else {
            None
        }
    }

    pub fn record(&self, close: CloseKind) -> ConnectionRecord {
        self.record_of(
            close,
            community_id::v1(self.client, self.server, community_id::TCP, 0),
            self.client_reason.clone(),
            self.files.clone(),
        )
    }

    /// The record of a connection being closed for good: its strings are taken, not copied,
    /// and the Community ID is left empty for the caller ([`community_id::v1_into`] on the
    /// record's endpoints), which a lingering record packs without making it a `String`.
    pub fn take_record(&mut self, close: CloseKind) -> ConnectionRecord {
        let reason = std::mem::take(&mut self.client_reason);
        let files = std::mem::take(&mut self.files);
        self.record_of(close, String::new(), reason, files)
    }

    fn record_of(
        &self,
        close: CloseKind,
        community_id: String,
        client_reason: String,
        files: Vec<u32>,
    ) -> ConnectionRecord {
        ConnectionRecord {
            id: self.id,
            client: self.client,
            server: self.server,
            community_id,
            client_reason,
            start: self.start,
            end: self.last_ts,
            first_packet: self.first_packet,
            last_packet: self.last_packet,
            files,
            also_seen_in: Vec::new(),
            handshake: self.syn_seen && self.synack_seen,
            handshake_s: match self.synack_at {
                Some(at) if self.syn_seen && at >= self.start => {
                    Some((at.0 - self.start.0) as f64 / 1e9)
                }
                _ => None,
            },
            close,
            client_isn: self.streams[0].isn,
            server_isn: self.streams[1].isn,
            client_to_server: self.streams[0].stats.clone(),
            server_to_client: self.streams[1].stats.clone(),
            tls: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn ep(last: u8, port: u16) -> Endpoint {
        Endpoint {
            ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
            port,
        }
    }

    #[test]
    fn key_is_direction_independent() {
        assert_eq!(
            FlowKey::new(ep(1, 5000), ep(2, 80)),
            FlowKey::new(ep(2, 80), ep(1, 5000))
        );
        assert_ne!(
            FlowKey::new(ep(1, 5000), ep(2, 80)),
            FlowKey::new(ep(1, 5001), ep(2, 80))
        );
    }

    /// The IPv4 fast paths against the derived forms they replace: the order (`a <= b`) on
    /// near misses (same address, ports either side; addresses one apart; mixed families),
    /// and the share, which must stay the derived hash's (it splits bounds and threads).
    #[test]
    fn key_order_and_share_as_derived() {
        use std::hash::{Hash, Hasher};
        let ips: Vec<IpAddr> = vec![
            "10.0.0.1"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            IpAddr::V4(Ipv4Addr::new(9, 255, 255, 255)),
            IpAddr::V4(Ipv4Addr::new(255, 0, 0, 0)),
            IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)),
            "::1".parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "::ffff:10.0.0.1"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        ];
        let ports = [0u16, 1, 80, 255, 256, 40000, 65535];
        let eps: Vec<Endpoint> = ips
            .iter()
            .flat_map(|&ip| ports.iter().map(move |&port| Endpoint { ip, port }))
            .collect();
        for &a in &eps {
            for &b in &eps {
                let k = FlowKey::new(a, b);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                assert_eq!((k.lo, k.hi), (lo, hi), "{a:?} {b:?}");
                let mut h = rustc_hash::FxHasher::default();
                lo.hash(&mut h);
                hi.hash(&mut h);
                let want = ((h.finish() >> 32) % crate::reassembly::RETAIN_SHARES as u64) as u8;
                assert_eq!(k.share(), want);
            }
        }
    }

    #[test]
    fn guesses_server_by_port() {
        // Capture starts with the server's data: the server is still the port-80 side.
        let (c, s, why) = guess_client(ep(2, 80), ep(1, 51000));
        assert_eq!((c, s), (ep(1, 51000), ep(2, 80)));
        assert!(why.contains("80"), "{why}");
        let (c, s, _) = guess_client(ep(1, 40000), ep(2, 22));
        assert_eq!((c, s), (ep(1, 40000), ep(2, 22)));
        let (c, s, _) = guess_client(ep(1, 40000), ep(2, 50000));
        assert_eq!((c, s), (ep(2, 50000), ep(1, 40000)));
    }
}
