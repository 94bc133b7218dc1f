//! Records shared by every sink (JSON document, NDJSON stream, text summary, TUI).
//!
//! Analyzers emit records through a [`RecordSink`]; nothing downstream re-parses bytes.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::base::Timestamp;

pub mod codes;
pub mod hops;
pub mod http;
pub mod http2;
pub mod pack;
pub mod semantics;
pub mod sink;
pub mod syntax;
pub mod tunnel;
pub mod websocket;

pub use http::TransactionRecord;
pub use sink::{Flow, Progress, Sink};

/// Version of the JSON report layout. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Direction of data within a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dir {
    /// From the client (the SYN sender, or the best guess) to the server.
    ClientToServer,
    /// From the server to the client.
    ServerToClient,
}

impl Dir {
    /// The direction of index `i` (0 client to server, anything else server to client), as
    /// the per-direction arrays `[client_to_server, server_to_client]` are indexed.
    pub fn from_index(i: usize) -> Dir {
        if i == 0 {
            Dir::ClientToServer
        } else {
            Dir::ServerToClient
        }
    }
    pub fn index(self) -> usize {
        match self {
            Dir::ClientToServer => 0,
            Dir::ServerToClient => 1,
        }
    }
    pub fn flip(self) -> Dir {
        match self {
            Dir::ClientToServer => Dir::ServerToClient,
            Dir::ServerToClient => Dir::ClientToServer,
        }
    }
}

/// An IP endpoint, printed as `ip:port` or `[v6]:port`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ip {
            IpAddr::V4(ip) => write!(f, "{ip}:{}", self.port),
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}", self.port),
        }
    }
}

/// The decimal digits of every octet value (`0`..`255`), left-aligned, and how many there are.
static OCTET_DIGITS: [([u8; 3], u8); 256] = {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let v = i as u8;
        t[i] = if v >= 100 {
            ([b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10], 3)
        } else if v >= 10 {
            ([b'0' + v / 10, b'0' + v % 10, 0], 2)
        } else {
            ([b'0' + v, 0, 0], 1)
        };
        i += 1;
    }
    t
};

/// `a.b.c.d:port` into `buf` from `at` (0, or 1 after an opening quote), each octet's digits
/// from a table: at most 21 bytes, and 3 of slack for the octets' fixed copies. Returns where
/// the text ends. The common endpoint without the formatting machinery (it was 10 % of a
/// report's instructions); the report's writers call it too.
#[inline(always)]
pub(crate) fn v4_text(buf: &mut [u8; 32], at: usize, ip: std::net::Ipv4Addr, port: u16) -> usize {
    let mut n = at.min(2);
    for (i, o) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        let (d, len) = OCTET_DIGITS[usize::from(o)];
        buf[n..n + 3].copy_from_slice(&d);
        n += usize::from(len);
    }
    buf[n] = b':';
    n += 1;
    let mut ib = itoa::Buffer::new();
    let port = ib.format(port).as_bytes();
    buf[n..n + port.len()].copy_from_slice(port);
    n + port.len()
}

impl Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.ip {
            // The common case without the formatting machinery (`v4_text`).
            IpAddr::V4(ip) => {
                let mut buf = [0u8; 32];
                let n = v4_text(&mut buf, 0, ip, self.port);
                s.serialize_str(
                    std::str::from_utf8(buf.get(..n).unwrap_or_default()).unwrap_or_default(),
                )
            }
            IpAddr::V6(_) => s.collect_str(self),
        }
    }
}

/// Serializes a [`Timestamp`] as seconds since the epoch (a JSON number).
pub fn ts_secs<S: serde::Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(ts.as_secs_f64())
}

pub fn opt_ts_secs<S: serde::Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match ts {
        Some(t) => s.serialize_f64(t.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseKind {
    /// Both sides sent FIN (or one FIN and the capture saw nothing more).
    Fin,
    /// A RST ended it.
    Rst,
    /// No packet for longer than the idle timeout (packet time).
    Timeout,
    /// Still open when the capture ended.
    Open,
    /// Removed to stay under the flow-table bound.
    Evicted,
    /// A new SYN reused its ports.
    Reused,
}

impl CloseKind {
    /// The name the reports use (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            CloseKind::Fin => "fin",
            CloseKind::Rst => "rst",
            CloseKind::Timeout => "timeout",
            CloseKind::Open => "open",
            CloseKind::Evicted => "evicted",
            CloseKind::Reused => "reused",
        }
    }
}

/// Per-direction TCP counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DirStats {
    /// Packets sent in this direction (including pure ACKs).
    pub packets: u64,
    /// TCP payload bytes on the wire, retransmissions included.
    pub wire_bytes: u64,
    /// Stream bytes delivered to analyzers, each byte once.
    pub bytes: u64,
    /// Holes delivered as explicit gaps.
    pub gaps: u64,
    /// Bytes known to be missing (sum of gap lengths).
    pub missing_bytes: u64,
    /// Segments whose bytes had all been seen before.
    pub retransmitted: u64,
    /// Segments that arrived ahead of a hole and were buffered.
    pub out_of_order: u64,
    /// Segments overlapping bytes already seen, partly or wholly (retransmissions included).
    pub overlapping: u64,
    /// Overlaps whose bytes differed from the first copy (the first copy won).
    pub overlap_conflicts: u64,
    /// Overlapping bytes that could not be compared (older than the retained window).
    pub overlap_unverified_bytes: u64,
    /// Bytes that arrived after their hole had been given up as a gap (a bound was hit, or the
    /// peer's ACK had passed them): not analysed, and part of `missing_bytes`.
    pub late_bytes: u64,
    /// Segments and acknowledgments ignored because they lay further than any TCP window
    /// (2^30 bytes) from where the stream was.
    pub sequence_jumps: u64,
}

/// A TCP connection, emitted when it ends (or at the end of the capture).
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionRecord {
    /// Connection id: 0, 1, 2... in order of first packet; equals tshark's `tcp.stream`
    /// where both split connections the same way.
    pub id: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    /// Community ID v1 (seed 0) of the connection: the flow hash Zeek, Suricata, Arkime and
    /// Wireshark print (`1:` and 28 base64 characters).
    pub community_id: String,
    /// How the client was chosen: `syn`, `syn-ack`, or a heuristic with its reason.
    pub client_reason: String,
    #[serde(serialize_with = "ts_secs")]
    pub start: Timestamp,
    #[serde(serialize_with = "ts_secs")]
    pub end: Timestamp,
    pub first_packet: u64,
    pub last_packet: u64,
    /// Several inputs: the files (`capture.files[]` indexes) its packets came from, in the
    /// order first seen; empty (and not written) for a single input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<u32>,
    /// Several capture points: where else the same connection (4-tuple and initial sequence
    /// numbers) was captured. Those packets are counted here, not analysed: the point that
    /// showed the connection first is the one analysed (`files`). Not written when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_seen_in: Vec<SeenIn>,
    /// SYN and SYN-ACK were both captured.
    pub handshake: bool,
    /// Seconds from the SYN to the SYN-ACK, as the capture point saw them (the TCP handshake's
    /// round trip from there); absent when either was not captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_s: Option<f64>,
    pub close: CloseKind,
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    pub client_to_server: DirStats,
    pub server_to_client: DirStats,
    /// TLS on the connection: the hellos, the suite, whether and how much was decrypted
    /// (absent when the connection is not TLS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Box<tunnel::TlsInfo>>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// A connection as another capture point saw it (`connections[].also_seen_in[]`).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SeenIn {
    /// The file (`capture.files[]` index) its first packet there came from.
    pub file: u32,
    /// Its packets there, and their captured bytes (not analysed: copies of `files`').
    pub packets: u64,
    pub bytes: u64,
    /// Seconds to add to that file's times to put them on the analysed file's, from the
    /// segments seen at both (absent when none was), and how far the truth may be from it
    /// (half the interval the two directions' segments allow: the one-way delay between the
    /// two points).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_uncertainty_s: Option<f64>,
}

/// Severity of a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// As every output spells it: `info`, `warning`, `error`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Something wrong, risky or notable in the traffic, with a stable code.
///
/// Its severity is its code's ([`Finding::severity`]); it serializes as
/// `{"code", "severity", "connection", ...}` in the order of the fields.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The registry entry, e.g. [`codes::TCP_OVERLAP_CONFLICT`]; listed in `docs/findings.md`.
    pub code: &'static codes::Code,
    pub connection: Option<u64>,
    /// 1-based packet number in the capture.
    pub packet: Option<u64>,
    /// Several inputs: the file (`capture.files[]` index) of `packet`, and its 1-based
    /// number inside that file. Absent for a single input.
    pub file: Option<u32>,
    pub file_packet: Option<u64>,
    pub direction: Option<Dir>,
    /// Byte offset in the direction's stream, where it applies.
    pub stream_offset: Option<u64>,
    /// The HTTP transaction it concerns, if any (`transactions[].id`).
    pub transaction: Option<u64>,
    pub ts: Option<Timestamp>,
    /// One line that names the rule and, where there is one, the fix.
    pub message: String,
    /// Reported once per key in the whole run (cleartext credentials: client, header,
    /// scheme): a run split over threads by connection reports it where the first thread to
    /// find it in capture order did, the others' copies are dropped. Not written.
    pub once: Option<Box<OnceKey>>,
    /// How often the rule was broken on its conversation in its direction, when more than
    /// once: set on the one summary finding raised when the conversation ends (the first
    /// occurrence was a finding of its own at once). See `docs/findings.md`.
    pub count: Option<u64>,
    /// With `count`: the packets of the first occurrences, each once (at most
    /// [`MAX_REPEAT_PACKETS`]), the first one's included.
    pub packets: Vec<u64>,
}

/// What a finding reported once per run is about (`Finding::once`).
pub type OnceKey = (IpAddr, &'static str, String);

/// Packets a repeated finding names.
pub const MAX_REPEAT_PACKETS: usize = 16;

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Finding", 11)?;
        st.serialize_field("code", self.code.name)?;
        st.serialize_field("severity", &self.code.severity)?;
        st.serialize_field("connection", &self.connection)?;
        st.serialize_field("packet", &self.packet)?;
        if let Some(file) = self.file {
            st.serialize_field("file", &file)?;
            st.serialize_field("file_packet", &self.file_packet)?;
        }
        st.serialize_field("direction", &self.direction)?;
        st.serialize_field("stream_offset", &self.stream_offset)?;
        st.serialize_field("transaction", &self.transaction)?;
        st.serialize_field("ts", &self.ts.map(|t| t.as_secs_f64()))?;
        st.serialize_field("message", &self.message)?;
        if let Some(n) = self.count {
            st.serialize_field("count", &n)?;
        }
        if !self.packets.is_empty() {
            st.serialize_field("packets", &self.packets)?;
        }
        st.end()
    }
}

impl Finding {
    pub fn new(code: &'static codes::Code, message: impl Into<String>) -> Self {
        Finding {
            code,
            connection: None,
            packet: None,
            file: None,
            file_packet: None,
            direction: None,
            stream_offset: None,
            transaction: None,
            ts: None,
            message: message.into(),
            once: None,
            count: None,
            packets: Vec::new(),
        }
    }
    /// The severity of its code.
    pub fn severity(&self) -> Severity {
        self.code.severity
    }
    pub fn conn(mut self, id: u64) -> Self {
        self.connection = Some(id);
        self
    }
    pub fn at(mut self, packet: u64, ts: Timestamp) -> Self {
        self.packet = Some(packet);
        self.ts = Some(ts);
        self
    }
    pub fn txn(mut self, id: u64) -> Self {
        self.transaction = Some(id);
        self
    }
    pub fn dir(mut self, dir: Dir, offset: u64) -> Self {
        self.direction = Some(dir);
        self.stream_offset = Some(offset);
        self
    }
}

/// What was read, and how much of it could be decoded.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaptureSummary {
    pub source: String,
    /// `pcap`, `pcapng` or `live`.
    pub format: String,
    /// The input files, in the order given (directories and rotated sets expanded); empty
    /// (and not written) for a live capture.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileSummary>,
    pub packets: u64,
    /// Captured bytes (sum of record lengths).
    pub bytes: u64,
    /// Bytes on the wire (sum of original lengths).
    pub wire_bytes: u64,
    /// Packets per link type name.
    pub link_types: BTreeMap<String, u64>,
    #[serde(serialize_with = "opt_ts_secs")]
    pub first_ts: Option<Timestamp>,
    #[serde(serialize_with = "opt_ts_secs")]
    pub last_ts: Option<Timestamp>,
    /// Packets cut by the snaplen (captured length < original length).
    pub truncated: u64,
    /// Packets that could not be decoded as far as their transport header.
    pub undecodable: u64,
    pub decode: DecodeStats,
    pub tcp: TcpSummary,
    pub memory: MemoryStats,
    /// Live runs: packets the kernel and hopscope dropped.
    pub dropped: Option<Dropped>,
    /// Set when reading stopped early: what went wrong and where.
    pub error: Option<String>,
    /// Packets whose timestamp went backwards (processed anyway).
    pub time_went_backwards: u64,
    /// HTTP analyzer counters (absent when the analyzer did not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<http::HttpStats>,
    /// Semantics step counters (absent when the step did not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantics: Option<semantics::SemanticsStats>,
    /// TLS counters: key sources, connections decrypted and why others were not (absent
    /// when the analyzers did not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<tunnel::TlsStats>,
    /// `--filter EXPR`: the expression and how many transactions it kept and dropped (the
    /// rest of the summary is the whole capture's). Absent without a filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterCounts>,
}

/// `capture.filter`: what `--filter` kept.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FilterCounts {
    /// The expression as given.
    pub expression: String,
    pub transactions_kept: u64,
    pub transactions_dropped: u64,
}

/// One input file of the capture (`capture.files[]`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileSummary {
    pub path: String,
    /// `pcap`, `pcapng`, or `unknown` when it could not be opened.
    pub format: String,
    /// `gzip` or `zstd` when it was decompressed on the way (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Packets read from it (all analysed but `duplicate_packets`).
    pub packets: u64,
    /// Captured bytes of those packets.
    pub bytes: u64,
    /// Link type names its headers declare, in order of first appearance.
    pub link_types: Vec<String>,
    /// Its first and last packet time, after the clock offset.
    #[serde(serialize_with = "opt_ts_secs")]
    pub first_ts: Option<Timestamp>,
    #[serde(serialize_with = "opt_ts_secs")]
    pub last_ts: Option<Timestamp>,
    /// Seconds to add to its timestamps to put them on the first file's clock: what
    /// `--clock-offset` added before the merge, plus what the captures showed
    /// (`offset_source`: `same-connection`, `proxy-pairs`; `report` then reads the files
    /// again with it applied, so the records are on the first file's clock, unless
    /// `--single-pass`).
    pub clock_offset_s: f64,
    /// `given` (`--clock-offset`), `same-connection` (from connections captured in both this
    /// file and another: their segments' times at both), `proxy-pairs` (estimated from the
    /// requests a proxy relayed between this file and another), or `none`. A live capture's
    /// interfaces are all on the host's one clock: nothing is applied or needed, so theirs is
    /// 0 and `none`.
    pub offset_source: String,
    /// For `same-connection` and `proxy-pairs`: how far the true offset may be from
    /// `clock_offset_s` (half the interval every supporting connection or pair allows), and
    /// (`proxy-pairs`) how many pairs support it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_uncertainty_s: Option<f64>,
    /// For `same-connection` and `proxy-pairs`: the interval the true offset lies in (seconds,
    /// as `clock_offset_s`; it holds `clock_offset_s`, which is its middle unless the interval
    /// holds 0 and the offset was taken as 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_interval_s: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_pairs: Option<u32>,
    /// For `same-connection`: how many connections seen in both files gave the offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_connections: Option<u32>,
    /// Of `packets`, those of connections analysed from another file's packets (the same
    /// connection captured twice; `connections[].also_seen_in`).
    #[serde(skip_serializing_if = "is_zero")]
    pub duplicate_packets: u64,
    /// Live, several interfaces: this interface's drops (libpcap's and hopscope's share of
    /// the queue); the run's `dropped` is their sum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<Dropped>,
    /// Why reading it stopped early (everything before was analysed); live: why the interface
    /// could not be opened, or why its capture stopped.
    pub error: Option<String>,
}

/// Counters kept by the decoder; reported under `capture` in the JSON report.
///
/// Every decoded packet adds one to exactly one of `tcp`, `udp`, `icmp`, `other_ip`, `non_ip`,
/// `undecodable`, `unsupported_link_type`, or (an IP fragment) `ipv4_fragments` /
/// `ipv6_fragments`. A fragment that completes its datagram also counts the datagram's outcome
/// (`tcp`, `udp`, ...) and `fragments_reassembled`; one that is rejected also counts
/// `fragment_errors` and `undecodable`. `fragments_expired` counts fragments dropped because
/// their datagram timed out (30 s of packet time) or was evicted by the reassembly bounds
/// (1024 datagrams, 8 MiB).
#[derive(Clone, Debug, Default, Serialize)]
pub struct DecodeStats {
    pub tcp: u64,
    pub udp: u64,
    pub icmp: u64,
    pub other_ip: u64,
    pub non_ip: u64,
    pub undecodable: u64,
    pub unsupported_link_type: u64,
    pub ipv4_fragments: u64,
    pub ipv6_fragments: u64,
    pub fragments_reassembled: u64,
    pub fragment_errors: u64,
    pub fragments_expired: u64,
    /// Segments whose TCP payload was cut by the snaplen.
    pub tcp_payload_truncated: u64,
}

/// The memory budget of connection state (`--memory`) and what was shed to stay within it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MemoryStats {
    /// The run's budget (`--memory`), bytes.
    pub budget: u64,
    /// Its share for connection state (the rest bounds the proxy-hop correlation and the
    /// semantics tables), bytes.
    pub connection_budget: u64,
    /// The most connection state counted at once, bytes (an estimate from capacities).
    pub peak: u64,
    /// The packet at which the budget was first full, if it was.
    pub budget_full_at: Option<u64>,
    /// Connections closed early to stay within the budget (reported as evicted).
    pub connections_shed: u64,
    /// Times a connection gave up buffers or decoders to stay within the budget.
    pub buffers_shed: u64,
    /// Bytes freed by shedding.
    pub bytes_shed: u64,
}

/// Reassembly-wide counters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TcpSummary {
    pub connections: u64,
    pub max_live_flows: u64,
    pub flows_evicted: u64,
    pub ooo_limit_hits: u64,
    pub buffer_limit_hits: u64,
    pub peak_buffered_bytes: u64,
    pub peak_retained_bytes: u64,
    /// Several capture points: packets of connections already analysed from another point
    /// (the same connection captured twice), counted in `connections[].also_seen_in` and not
    /// analysed.
    #[serde(skip_serializing_if = "is_zero")]
    pub duplicate_packets: u64,
}

/// Drops in a live capture.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Dropped {
    /// Dropped by the kernel (ring full), from pcap stats.
    pub kernel: u64,
    /// Dropped by the interface/driver, from pcap stats.
    pub interface: u64,
    /// Dropped by hopscope because the analysis fell behind (bounded channel full).
    pub hopscope: u64,
}

/// Every record an analyzer can emit.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // one connection record per connection: not worth a box
pub enum Record {
    Connection(Box<ConnectionRecord>),
    Finding(Box<Finding>),
    Transaction(Box<TransactionRecord>),
    #[serde(rename = "websocket")]
    WebSocket(Box<websocket::WebSocketRecord>),
    #[serde(rename = "websocket_message")]
    WsMessage(Box<websocket::WsMessageRecord>),
    Tunnel(Box<tunnel::TunnelRecord>),
    #[serde(rename = "proxy_hop")]
    ProxyHop(Box<hops::ProxyHopRecord>),
    #[serde(rename = "http2")]
    Http2(Box<http2::Http2Record>),
}

/// Where records go. Implemented by the JSON/NDJSON writers, the TUI store and tests.
pub trait RecordSink {
    fn record(&mut self, record: Record);
    /// What a sharded run's merge needs besides the records (`pipeline::threads`): every other
    /// sink ignores it.
    #[inline]
    fn note(&mut self, _note: Note) {}
}

/// Facts the engine and the analyzers tell a sink besides the records, for a run split over
/// several threads by connection: the merge puts the threads' records back in the order one
/// thread would have made them, and keeps what spans connections exact.
#[derive(Clone, Debug)]
pub enum Note {
    /// A sweep (or the end of the capture) reports the connection with this id next:
    /// `lingering` for a closed connection's waiting record, else one it closes now.
    /// `ids`: the ids given so far, connections first, then the analyzer's kinds.
    Conn {
        id: u64,
        lingering: bool,
        ids: [u64; 5],
    },
    /// A connection seen at two capture points gave an interval for their clock offset
    /// (`flow::seen::SameConnection::add`'s arguments).
    SameConnection {
        owner: u32,
        copy: u32,
        owner_file: u32,
        copy_file: u32,
        lo: i64,
        hi: i64,
    },
    /// The next `count` findings are the run's key-source findings numbered `first..`: every
    /// thread raises them, the merge reports each once.
    KeySources { first: u64, count: u64 },
}

impl RecordSink for Vec<Record> {
    fn record(&mut self, record: Record) {
        self.push(record);
    }
}

impl<T: RecordSink + ?Sized> RecordSink for Box<T> {
    fn record(&mut self, record: Record) {
        (**self).record(record);
    }
    fn note(&mut self, note: Note) {
        (**self).note(note);
    }
}

impl<T: RecordSink + ?Sized> RecordSink for &mut T {
    fn record(&mut self, record: Record) {
        (**self).record(record);
    }
    fn note(&mut self, note: Note) {
        (**self).note(note);
    }
}
