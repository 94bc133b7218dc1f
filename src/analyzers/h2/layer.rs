//! HTTP/2 as a layer of a stream (cleartext, or what TLS decrypted): the frame follower, its
//! notes as findings at once, every stream a transaction when it closes ([`super::txn`]), and
//! at the end the connection's record.

use super::flow::{FlowStats, FrameEntry, PingStats, flag_names};
use super::frame_type_name;
use super::txn::{Streams, Tracker};
use super::ws::{Watch, Ws};
use super::{H2Conn, H2Note, parse_settings, settings_name};
use crate::analyzers::http::conn::Shared as HttpShared;
use crate::analyzers::layer::{Ids, Layer, Note, Raised, Switch, Upgrade};
use crate::analyzers::stack::Shared;
use crate::engine::Ctx;
use crate::model::http2::{
    Http2Flow, Http2FrameEntry, Http2Goaway, Http2Pings, Http2Record, Http2Setting, Http2Settings,
    Http2SettingsFrame, Http2Stall, Http2Stream, PerDir,
};
use crate::model::{Endpoint, Finding, Record, RecordSink};

impl Note for H2Note {
    fn dir(&self) -> usize {
        self.dir
    }
    fn offset(&self) -> u64 {
        self.offset
    }
}

/// An HTTP/2 connection (or h2c after an upgrade) and what its record needs.
pub struct H2Layer {
    conn: H2Conn,
    id: u64,
    connection: u64,
    client: Endpoint,
    server: Endpoint,
    /// `h2c-upgrade`, `prior-knowledge`, `tls-alpn` or `tls`.
    mode: &'static str,
    /// The upgrading HTTP/1.1 transaction.
    transaction: Option<u64>,
    /// The upgrading request was not captured: stream 1's method and path are unknown.
    request_unknown: bool,
    raised: Raised,
    /// Stream offset of each direction's first byte fed (the follower counts from there).
    base: [Option<u64>; 2],
    /// The streams as transactions.
    streams: Streams,
    /// After h2c: the client's `HTTP2-Settings` header, decoded (`None` when absent or not
    /// base64url).
    upgrade_settings: Option<Vec<(u16, u32)>>,
    /// WebSockets on streams (RFC 8441).
    ws: Ws,
}

impl H2Layer {
    fn new(id: u64, ctx: &Ctx, conn: H2Conn, mode: &'static str, streams: Streams) -> Self {
        H2Layer {
            conn,
            id,
            connection: ctx.conn,
            client: ctx.client,
            server: ctx.server,
            mode,
            transaction: None,
            request_unknown: false,
            raised: Raised::default(),
            base: [None, None],
            streams,
            upgrade_settings: None,
            ws: Ws::default(),
        }
    }

    /// HTTP/2 `id`, whose client began with the connection preface (RFC 9113 §3.3); its first
    /// transaction has `index` on the connection, `secure` when TLS was decrypted.
    pub fn prior_knowledge(id: u64, ctx: &Ctx, index: u32, secure: bool) -> Self {
        let streams = Streams::new(index, secure);
        H2Layer::new(id, ctx, H2Conn::new(), "prior-knowledge", streams)
    }

    /// How the connection came to HTTP/2, for a connection that began with the preface:
    /// `prior-knowledge` (cleartext), `tls-alpn` (TLS that selected `h2`), `tls` (TLS whose
    /// selected protocol is unknown or not `h2`).
    pub fn mode(mut self, mode: &'static str) -> Self {
        self.mode = mode;
        self
    }

    /// HTTP/2 `id` after `Upgrade: h2c` and `101` (RFC 9113 §3.2): stream 1 is the upgraded
    /// request (its method and target, when the request was captured), and its transaction a
    /// new one whose request is a copy of the upgrading one's.
    pub fn after_upgrade(
        id: u64,
        ctx: &Ctx,
        up: &Upgrade,
        sh: &mut HttpShared,
        secure: bool,
    ) -> Self {
        let mut conn = H2Conn::after_h2c_upgrade(
            up.method.as_deref().unwrap_or(""),
            up.target.as_deref().unwrap_or(""),
        );
        let settings = up.request.get("http2-settings").and_then(decode_settings);
        if let Some(s) = &settings {
            conn.upgrade_settings(s);
        }
        let mut streams = Streams::new(up.index, secure);
        let request = up.request_record.as_deref().cloned();
        streams.upgraded(
            ctx,
            sh.next_txn_id(),
            up.txn,
            request,
            up.request_timing.clone(),
        );
        H2Layer {
            transaction: Some(up.txn),
            request_unknown: up.method.is_none() || up.target.is_none(),
            upgrade_settings: settings,
            ..H2Layer::new(id, ctx, conn, "h2c-upgrade", streams)
        }
    }

    /// What a tunnel record calls it.
    pub fn name(&self) -> &'static str {
        if self.mode == "h2c-upgrade" {
            "h2c"
        } else {
            "http2"
        }
    }

    /// New follower notes become findings, at their absolute stream offsets.
    fn raise(&mut self, ctx: &Ctx, out: &mut dyn RecordSink) {
        let base = self.base.map(|b| b.unwrap_or(0));
        self.raised
            .raise(self.conn.notes(), base, ctx, out, |n: &H2Note| {
                Finding::new(n.kind.code(), n.kind.to_string())
            });
    }

    fn record(&self) -> Http2Record {
        let s = self.conn.summary();
        let settings = |v: &[(u16, u32)]| -> Vec<Http2Setting> {
            v.iter()
                .map(|&(id, value)| Http2Setting {
                    name: settings_name(id),
                    id,
                    value,
                })
                .collect()
        };
        Http2Record {
            id: self.id,
            connection: self.connection,
            client: self.client,
            server: self.server,
            mode: self.mode,
            transaction: self.transaction,
            preface_seen: s.preface_seen,
            frames: PerDir::from_pair(&s.frames),
            settings: Http2Settings {
                client: settings(&s.settings[0]),
                server: settings(&s.settings[1]),
                upgrade: self.upgrade_settings.as_deref().map(settings),
            },
            streams: s
                .streams
                .iter()
                .map(|(&id, st)| {
                    let known = |v: &Option<String>| {
                        v.clone()
                            .filter(|v| !(id == 1 && self.request_unknown && v.is_empty()))
                    };
                    Http2Stream {
                        id,
                        opened_by: if st.opened_by == 0 {
                            "client"
                        } else {
                            "server"
                        },
                        method: known(&st.method),
                        path: known(&st.path),
                        status: st.status,
                        data_bytes: PerDir::from_pair(&st.data_bytes),
                        ended: PerDir::from_pair(&st.ended),
                        reset: st.reset,
                        flow: per_dir(&st.flow, flow),
                        frames: st.frames.frames.iter().map(|e| self.frame(e)).collect(),
                        frames_dropped: st.frames.dropped,
                    }
                })
                .collect(),
            goaway: s.goaway.map(|(last_stream, error_code)| Http2Goaway {
                last_stream,
                error_code,
            }),
            bytes: PerDir::from_pair(&s.bytes),
            lost_bytes: PerDir::from_pair(&s.lost_bytes),
            untracked_stream_frames: s.untracked_stream_frames,
            notes_dropped: s.notes_dropped,
            transactions: self.streams.ids.clone(),
            flow: per_dir(&s.conn_flow, flow),
            initial_window: PerDir::from_pair(&s.initial_window),
            connection_frames: s.conn_frames.frames.iter().map(|e| self.frame(e)).collect(),
            connection_frames_dropped: s.conn_frames.dropped,
            settings_frames: s
                .settings_log
                .iter()
                .map(|e| Http2SettingsFrame {
                    dir: dir_name(e.dir),
                    ts: e.ts,
                    offset: self.bases()[e.dir.min(1)] + e.offset,
                    settings: settings(&e.settings),
                    ack_ms: e.ack_ns.map(ms),
                })
                .collect(),
            settings_frames_dropped: s.settings_dropped,
            ping: per_dir(&s.pings, pings),
        }
    }

    fn frame(&self, e: &FrameEntry) -> Http2FrameEntry {
        Http2FrameEntry {
            dir: dir_name(e.dir),
            frame_type: frame_type_name(e.frame_type),
            flags: flag_names(e.frame_type, e.flags),
            length: e.length,
            offset: self.bases()[e.dir.min(1)] + e.offset,
            packet: e.packet,
            ts: e.ts,
            window: e.window,
            connection_window: e.connection_window,
        }
    }

    fn bases(&self) -> [u64; 2] {
        self.base.map(|b| b.unwrap_or(0))
    }
}

fn dir_name(d: usize) -> &'static str {
    if d == 0 {
        "client_to_server"
    } else {
        "server_to_client"
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn per_dir<T, U>(v: &[T; 2], f: impl Fn(&T) -> U) -> PerDir<U> {
    PerDir {
        client_to_server: f(&v[0]),
        server_to_client: f(&v[1]),
    }
}

fn flow(f: &FlowStats) -> Http2Flow {
    Http2Flow {
        data_frames: f.data_frames,
        largest_data_frame: f.largest_data_frame,
        data_length: f.data_length,
        window_updates: f.window_updates,
        window_increments: f.increments,
        stalls: f.stalls,
        stalled_ms: ms(f.stalled_ns),
        min_window: f.min_window,
        window: f.window,
        violations: f.violations,
        overflows: f.overflows,
        stall_list: f
            .stall_log
            .iter()
            .map(|&(ts, stream, waited)| Http2Stall {
                ts,
                stream,
                waited_ms: waited.map(ms),
            })
            .collect(),
    }
}

fn pings(p: &PingStats) -> Http2Pings {
    Http2Pings {
        sent: p.sent,
        acked: p.acked,
        rtt_ms: p.rtt_ns.iter().copied().map(ms).collect(),
        min_ms: p.min_ns.map(ms),
        median_ms: p.median_ns().map(ms),
        max_ms: p.max_ns.map(ms),
    }
}

/// An `HTTP2-Settings` header value: a SETTINGS payload in base64url, padding optional
/// (RFC 9113 §3.2.1); `None` when it is not base64url.
fn decode_settings(v: &[u8]) -> Option<Vec<(u16, u32)>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let engine = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    // At most what a SETTINGS frame keeps.
    let v = v.get(..1024).unwrap_or(v);
    let payload = engine.decode(crate::model::syntax::trim_ows(v)).ok()?;
    Some(parse_settings(&payload).take(super::MAX_SETTINGS).collect())
}

/// What a direction delivered: bytes, or a count of bytes lost.
enum Input<'a> {
    Data(&'a [u8]),
    Gap(u64),
}

impl H2Layer {
    /// Bytes or a gap of the current direction through the frame follower, its events to the
    /// streams (and their WebSockets), then the WebSockets settled and the new notes raised.
    fn drive(
        &mut self,
        sh: &mut Shared,
        ctx: &Ctx,
        offset: u64,
        input: Input<'_>,
        out: &mut dyn RecordSink,
    ) {
        let d = ctx.dir.index();
        self.base[d].get_or_insert(offset);
        let base = self.bases();
        self.conn.at(ctx.ts, ctx.packet);
        let t = Tracker {
            s: &mut self.streams,
            sh: &mut sh.http,
            ctx,
            base,
            out,
        };
        let (ws, sh) = (&mut self.ws, &mut sh.ws);
        let mut watch = Watch { t, ws, sh };
        match input {
            Input::Data(b) => self.conn.feed_with(d, b, &mut watch),
            Input::Gap(n) => self.conn.gap_with(d, n, &mut watch),
        }
        let sum = self.conn.summary();
        self.ws.settle(sum, &mut self.streams, ctx, out, false);
        self.raise(ctx, out);
    }
}

/// HTTP/2 shares HTTP's state (the configuration: bounds, `--bodies`, `--max-decoded`; the one
/// counter of transaction ids; the counters) and, for the WebSockets on its streams (RFC 8441),
/// WebSocket's.
impl Layer for H2Layer {
    type Shared = Shared;

    fn footprint(&self) -> usize {
        size_of::<Self>()
            + self.conn.heap_bytes()
            + self.streams.heap_bytes()
            + self.ws.heap_bytes()
            + self
                .upgrade_settings
                .as_ref()
                .map_or(0, crate::base::heap::vec)
    }

    fn shed(&mut self) -> Vec<String> {
        let mut what = self.streams.shed();
        what.extend(self.ws.shed());
        let freed = self.conn.shed_frames();
        if freed > 0 {
            what.push(format!(
                "the HTTP/2 frame lists of a connection's streams ({freed} bytes; further frames \
                 are only counted in frames_dropped)"
            ));
        }
        what
    }

    fn data(
        &mut self,
        sh: &mut Shared,
        _: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        self.drive(sh, ctx, offset, Input::Data(data), out);
        None
    }

    fn gap(
        &mut self,
        sh: &mut Shared,
        _: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        self.drive(sh, ctx, offset, Input::Gap(n), out);
        None
    }

    fn close(&mut self, sh: &mut Shared, _: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        self.conn.end();
        self.raise(ctx, out);
        let sum = self.conn.summary();
        self.ws.settle(sum, &mut self.streams, ctx, out, true);
        let base = self.bases();
        self.streams.close(&mut sh.http, ctx, base, out);
        self.ws.close(&sh.ws, ctx, out);
        out.record(Record::Http2(Box::new(self.record())));
    }
}
