//! `hopscope report --write-pcap OUT.pcapng`: the packets of the connections a report holds,
//! written out for a colleague, Wireshark or another hopscope run.
//!
//! Two passes over the same inputs. The first is the report's own run: a [`Tap`] behind the
//! `--filter` sink sees what the report keeps (connections, proxy hops, tunnels) and collects
//! [`Chosen`]: each kept connection's addresses and the range of packet numbers it spans
//! (`first_packet`..=`last_packet`), both legs of every kept proxy hop, and the ClientHello
//! randoms of the TLS it decrypted. A second tap in front of the filter remembers the most
//! recent connections and proxy hops ([`RECENT`] of each) for a hop whose other leg was not
//! kept (it may have closed before the hop was decided; a leg that closes later is chosen when
//! it does), and follows a chain of proxies from a kept leg to both ends. The second pass ([`write`])
//! reads the inputs again, merged the same way (so packet numbers are the first pass's),
//! decodes each packet and writes it when its TCP 4-tuple is a chosen connection's and its
//! number is within that connection's range: SYNs, pure ACKs, retransmissions, FINs and RSTs
//! included, and the copies another capture point saw of it (`also_seen_in`). The fragments
//! of an IP datagram are held until the datagram is whole (at most [`MAX_PENDING_BYTES`]) and
//! written with it when it is chosen.
//!
//! TLS: the secrets of the chosen connections' client randoms (from `--tls-keylog`,
//! `$SSLKEYLOGFILE` and the inputs' own Decryption Secrets Blocks) go into Decryption Secrets
//! Blocks of type TLSK: the key log files' at the start of the file, an input's block where the
//! input had it. Only those randoms' lines are written, so the file opens decrypted in
//! Wireshark and in hopscope with no key log, and carries no other connection's keys.
//!
//! Timestamps are the analysed ones (another host's file placed on the first file's clock, as
//! the report shows them), in nanoseconds; each input interface is one interface of the output
//! (named after its file when there are several inputs).

use std::collections::{HashMap, HashSet, VecDeque};

use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::analyzers::tls::keylog::KeyLog;
use crate::analyzers::tls::shared::{TlsConfig, TlsShared};
use crate::base::{LinkType, OwnedPacket, PacketView};
use crate::capture::merge::{InputFile, MergedSource};
use crate::capture::pcapng::SECRETS_TLS_KEY_LOG;
use crate::capture::pcapng_writer::{InterfaceInfo, PcapngWriter};
use crate::capture::{Next, PacketSource};
use crate::decode::{Decoded, Decoder, FragKey};
use crate::flow::FlowKey;
use crate::model::tunnel::TlsInfo;
use crate::model::{CaptureSummary, ConnectionRecord, Flow, Progress, Record, Sink};

/// Connections remembered in front of the filter, for the other leg of a kept proxy hop.
pub const RECENT: usize = 65_536;
/// Bytes of IP fragments held while their datagram is incomplete; past it the oldest are
/// given up (counted in [`Written::fragments_dropped`]).
pub const MAX_PENDING_BYTES: usize = 4 << 20;

/// A connection's 4-tuple and the packets it spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    key: FlowKey,
    first: u64,
    last: u64,
}

impl Span {
    fn of(c: &ConnectionRecord) -> Self {
        Span {
            key: FlowKey::new(c.client, c.server),
            first: c.first_packet,
            last: c.last_packet,
        }
    }
}

/// What the report kept, for the second pass.
#[derive(Default, Debug)]
pub struct Chosen {
    conns: HashMap<u64, Span>,
    randoms: HashSet<[u8; 32]>,
    /// Connections seen in front of the filter, the latest [`RECENT`], with their randoms.
    recent: HashMap<u64, (Span, Vec<[u8; 32]>)>,
    order: VecDeque<u64>,
    /// Legs of kept hops whose connection was not seen yet.
    wanted: HashSet<u64>,
    /// Every proxy hop seen in front of the filter, the latest [`RECENT`]: the pairs of
    /// connections, both ways, so a chain of proxies is followed from a kept leg to its ends.
    pairs: HashMap<u64, Vec<u64>>,
    pair_order: VecDeque<(u64, u64)>,
}

impl Chosen {
    /// Connections chosen.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Legs of kept proxy hops whose connection was neither kept nor among the last
    /// [`RECENT`] seen: their packets are not written.
    pub fn legs_missing(&self) -> usize {
        self.wanted
            .iter()
            .filter(|id| !self.conns.contains_key(id))
            .count()
    }

    fn choose(&mut self, id: u64, span: Span, randoms: &[[u8; 32]]) {
        self.conns.insert(id, span);
        self.randoms.extend(randoms.iter().copied());
        self.follow(id);
    }

    /// The other legs of the hops `id` is a leg of.
    fn follow(&mut self, id: u64) {
        if let Some(others) = self.pairs.get(&id).cloned() {
            self.legs(others.into_iter());
        }
    }

    fn is_wanted(&self, id: u64) -> bool {
        self.conns.contains_key(&id) || self.wanted.contains(&id)
    }

    /// Every proxy hop, in front of the filter: the chain through several proxies.
    fn saw_hop(&mut self, a: u64, b: u64) {
        self.pairs.entry(a).or_default().push(b);
        self.pairs.entry(b).or_default().push(a);
        self.pair_order.push_back((a, b));
        while self.pair_order.len() > RECENT {
            if let Some((x, y)) = self.pair_order.pop_front() {
                for (k, v) in [(x, y), (y, x)] {
                    if let Some(list) = self.pairs.get_mut(&k) {
                        if let Some(i) = list.iter().position(|o| *o == v) {
                            list.swap_remove(i);
                        }
                        if list.is_empty() {
                            self.pairs.remove(&k);
                        }
                    }
                }
            }
        }
        if self.is_wanted(a) {
            self.legs(std::iter::once(b));
        }
        if self.is_wanted(b) {
            self.legs(std::iter::once(a));
        }
    }

    /// Every connection record, in front of the filter.
    fn saw(&mut self, c: &ConnectionRecord) {
        let randoms = decrypted_random(c.tls.as_deref())
            .into_iter()
            .collect::<Vec<_>>();
        if self.wanted.remove(&c.id) {
            self.choose(c.id, Span::of(c), &randoms);
            return;
        }
        if self.recent.insert(c.id, (Span::of(c), randoms)).is_none() {
            self.order.push_back(c.id);
        }
        while self.order.len() > RECENT {
            if let Some(old) = self.order.pop_front() {
                self.recent.remove(&old);
            }
        }
    }

    /// The legs of a kept proxy hop: chosen now when known, else when they close.
    fn legs(&mut self, ids: impl Iterator<Item = u64>) {
        for id in ids {
            if self.conns.contains_key(&id) {
                continue;
            }
            match self.recent.remove(&id) {
                Some((span, randoms)) => self.choose(id, span, &randoms),
                None => {
                    if self.wanted.insert(id) {
                        self.follow(id);
                    }
                }
            }
        }
    }

    /// A record the report keeps.
    fn kept(&mut self, r: &Record) {
        match r {
            Record::Connection(c) => {
                let randoms: Vec<_> = decrypted_random(c.tls.as_deref()).into_iter().collect();
                self.choose(c.id, Span::of(c), &randoms);
            }
            Record::ProxyHop(h) => {
                self.legs(
                    Some(h.front.connection)
                        .into_iter()
                        .chain(h.back.map(|b| b.connection)),
                );
            }
            Record::Tunnel(t) => {
                if let Some(r) = decrypted_random(t.tls.as_ref()) {
                    self.randoms.insert(r);
                }
            }
            _ => {}
        }
    }
}

/// The ClientHello random of TLS that was decrypted.
fn decrypted_random(t: Option<&TlsInfo>) -> Option<[u8; 32]> {
    let t = t.filter(|t| t.decrypted)?;
    let hex = t.client_random.as_deref()?;
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Shared between the taps and the run that writes the file.
pub type Shared = Arc<Mutex<Chosen>>;

/// A sink that notes what passes through it and hands it on: behind the filter (`kept`) what
/// the report keeps, in front of it every connection.
pub struct Tap<S> {
    inner: S,
    chosen: Shared,
    kept: bool,
}

impl<S: Sink> Tap<S> {
    /// Behind the filter (or with no filter): what the report keeps.
    pub fn kept(inner: S, chosen: Shared) -> Self {
        Tap {
            inner,
            chosen,
            kept: true,
        }
    }

    /// In front of the filter: every connection, for the other legs of kept hops.
    pub fn all(inner: S, chosen: Shared) -> Self {
        Tap {
            inner,
            chosen,
            kept: false,
        }
    }

    fn note(&self, r: &Record) {
        let Ok(mut c) = self.chosen.lock() else {
            return;
        };
        match (self.kept, r) {
            (true, r) => c.kept(r),
            (false, Record::Connection(conn)) => c.saw(conn),
            (false, Record::ProxyHop(h)) => {
                if let Some(b) = h.back {
                    c.saw_hop(h.front.connection, b.connection);
                }
            }
            _ => {}
        }
    }
}

impl<S: Sink> Sink for Tap<S> {
    fn begin(&mut self) -> std::io::Result<Flow> {
        self.inner.begin()
    }
    fn record(&mut self, record: Record) -> std::io::Result<Flow> {
        self.note(&record);
        self.inner.record(record)
    }
    fn record_ref(&mut self, record: &Record) -> Option<std::io::Result<Flow>> {
        // Noted only when the inner sink takes it by reference: otherwise `record` follows.
        let r = self.inner.record_ref(record)?;
        self.note(record);
        Some(r)
    }
    fn prewrite(&self) -> Option<fn(&Record, &mut Vec<u8>) -> bool> {
        self.inner.prewrite()
    }
    fn record_ahead(&mut self, record: &Record, ahead: &[u8]) -> Option<std::io::Result<Flow>> {
        let r = self.inner.record_ahead(record, ahead)?;
        self.note(record);
        Some(r)
    }
    fn progress(&mut self, p: &Progress) -> std::io::Result<Flow> {
        self.inner.progress(p)
    }
    fn finish(&mut self, summary: &CaptureSummary) -> std::io::Result<()> {
        self.inner.finish(summary)
    }
}

/// What the second pass wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Written {
    pub packets: u64,
    pub bytes: u64,
    /// Chosen connections with at least one packet written.
    pub connections: usize,
    /// Client randoms whose secrets went into a Decryption Secrets Block.
    pub keys: usize,
    /// Client randoms decrypted in the report whose secrets were not found again.
    pub keys_missing: usize,
    /// Fragments given up while their datagram waited (over [`MAX_PENDING_BYTES`]).
    pub fragments_dropped: u64,
    /// Reading stopped early (the report says the same): what was read is written.
    pub read_error: Option<String>,
}

/// Held fragments of incomplete datagrams.
#[derive(Default)]
struct Pending {
    packets: VecDeque<(FragKey, u32, OwnedPacket)>,
    bytes: usize,
    dropped: u64,
}

impl Pending {
    fn hold(&mut self, key: FragKey, p: &PacketView<'_>) {
        self.bytes += p.data.len();
        let owned = OwnedPacket {
            ts: p.ts,
            link: p.link,
            data: p.data.to_vec(),
            orig_len: p.orig_len,
            interface: p.interface,
        };
        self.packets.push_back((key, p.file, owned));
        while self.bytes > MAX_PENDING_BYTES
            && let Some((_, _, old)) = self.packets.pop_front()
        {
            self.bytes -= old.data.len();
            self.dropped += 1;
        }
    }

    /// The held fragments of `key`'s datagram, in order, taken out.
    fn take(&mut self, key: &FragKey) -> Vec<(u32, OwnedPacket)> {
        let mut out = Vec::new();
        let mut keep = VecDeque::with_capacity(self.packets.len());
        for (k, file, p) in self.packets.drain(..) {
            if k == *key {
                self.bytes -= p.data.len();
                out.push((file, p));
            } else {
                keep.push_back((k, file, p));
            }
        }
        self.packets = keep;
        out
    }
}

/// The output file and its interfaces, one per input interface and link type.
struct Out<W: Write> {
    w: PcapngWriter<W>,
    ifaces: HashMap<(u32, u32, LinkType), u32>,
    names: Vec<String>,
    written: Written,
    conns_written: HashSet<(FlowKey, u64)>,
}

impl<W: Write> Out<W> {
    fn packet(&mut self, p: &PacketView<'_>) -> std::io::Result<()> {
        let k = (p.file, p.interface, p.link);
        let id = match self.ifaces.get(&k) {
            Some(id) => *id,
            None => {
                let name = self.names.get(p.file as usize).map(|n| {
                    if p.interface == 0 {
                        n.clone()
                    } else {
                        format!("{n} interface {}", p.interface)
                    }
                });
                let info = InterfaceInfo {
                    name: name.as_deref(),
                    nanoseconds: true,
                    ..InterfaceInfo::default()
                };
                let id = self.w.add_interface(p.link, &info)?;
                self.ifaces.insert(k, id);
                id
            }
        };
        self.w.write_packet_on(id, p)?;
        self.written.packets += 1;
        self.written.bytes += p.data.len() as u64;
        Ok(())
    }

    fn secrets(&mut self, lines: &str) -> std::io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        self.w.write_secrets(SECRETS_TLS_KEY_LOG, lines.as_bytes())
    }
}

/// Lines for the chosen randoms `log` has and that were not written yet.
fn key_lines(log: &KeyLog, chosen: &HashSet<[u8; 32]>, done: &mut HashSet<[u8; 32]>) -> String {
    let mut randoms: Vec<&[u8; 32]> = chosen.iter().filter(|r| !done.contains(*r)).collect();
    randoms.sort();
    let mut text = String::new();
    for r in randoms {
        if let Some(s) = log.get(r) {
            text.push_str(&s.lines(r));
            done.insert(*r);
        }
    }
    text
}

/// The second pass: reads `inputs` (merged as the report's run merged them) and writes the
/// chosen connections' packets and keys to `file` (created at `path`). `progress` is called
/// a few times a second. An error is one of the output (the file could not be written).
pub fn write(
    inputs: Vec<InputFile>,
    chosen: &Chosen,
    tls: &TlsConfig,
    file: File,
    path: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Written, String> {
    let shown = path.display().to_string();
    let fail = |e: std::io::Error| format!("cannot write {shown}: {e}");
    let names = if inputs.len() > 1 {
        inputs
            .iter()
            .map(|i| i.path.display().to_string())
            .collect()
    } else {
        Vec::new()
    };
    // Looked up once per packet: a fast hash (the keys are addresses from the capture; a
    // crafted collision only slows this pass down).
    let mut by_key: FxHashMap<FlowKey, Vec<(u64, u64)>> = FxHashMap::default();
    for s in chosen.conns.values() {
        by_key.entry(s.key).or_default().push((s.first, s.last));
    }
    let mut out = Out {
        w: PcapngWriter::section(BufWriter::with_capacity(1 << 20, file)).map_err(fail)?,
        ifaces: HashMap::new(),
        names,
        written: Written::default(),
        conns_written: HashSet::new(),
    };
    // The key log files' secrets first (a live run's are not followed here: files only).
    let mut done = HashSet::new();
    if !chosen.randoms.is_empty() {
        let sh = TlsShared::new(TlsConfig {
            live: false,
            ..tls.clone()
        });
        out.secrets(&key_lines(&sh.keys, &chosen.randoms, &mut done))
            .map_err(fail)?;
    }
    let mut src = MergedSource::open(inputs);
    let mut decoder = Decoder::new();
    let mut pending = Pending::default();
    let started = Instant::now();
    let mut last = started;
    let mut n: u64 = 0;
    loop {
        match src.next() {
            Next::Packet(p) => {
                n += 1;
                let frags = decoder.fragments();
                let seg_key = match decoder.decode(&p) {
                    Decoded::Tcp(seg) => Some(FlowKey::of_segment(&seg)),
                    Decoded::FragmentHeld => {
                        if let Some(k) = decoder.last_fragment {
                            pending.hold(k, &p);
                        }
                        None
                    }
                    _ => None,
                };
                let fragment = (decoder.fragments() != frags)
                    .then_some(decoder.last_fragment)
                    .flatten();
                if let Some(key) = seg_key {
                    let held = fragment.map(|f| pending.take(&f)).unwrap_or_default();
                    let hit = by_key
                        .get(&key)
                        .and_then(|rs| rs.iter().find(|(a, b)| (*a..=*b).contains(&n)).copied());
                    if let Some((first, _)) = hit {
                        for (file, h) in &held {
                            let v = PacketView {
                                file: *file,
                                ..h.view()
                            };
                            out.packet(&v).map_err(fail)?;
                        }
                        out.packet(&p).map_err(fail)?;
                        out.conns_written.insert((key, first));
                    }
                }
                if n.is_multiple_of(4096) && last.elapsed().as_millis() >= 250 {
                    last = Instant::now();
                    let (bytes_done, bytes_total) = src.position();
                    progress(&Progress {
                        bytes_done,
                        bytes_total,
                        packets: n,
                        flows: 0,
                        elapsed: started.elapsed().as_secs_f64(),
                        dropped: None,
                    });
                }
            }
            Next::Secrets(s) => {
                if s.kind == SECRETS_TLS_KEY_LOG && !chosen.randoms.is_empty() {
                    let mut log = KeyLog::new();
                    let _ = log.add_text(&s.data, 1, 0);
                    out.secrets(&key_lines(&log, &chosen.randoms, &mut done))
                        .map_err(fail)?;
                }
            }
            Next::Idle => {}
            Next::End => break,
            Next::Error(e) => {
                out.written.read_error = Some(e.to_string());
                break;
            }
        }
    }
    let _ = src.finish();
    let mut w = out.written;
    w.connections = out.conns_written.len();
    w.keys = done.len();
    w.keys_missing = chosen.randoms.len() - done.len();
    w.fragments_dropped = pending.dropped;
    out.w.into_inner().map_err(fail)?;
    Ok(w)
}

#[cfg(test)]
mod tests;
