//! Application-layer analyzers fed with reassembled streams.
//!
//! [`Dispatcher`] is the engine's analyzer. Every TCP connection, and the payload of every tunnel, is
//! a [`Stream`]: its protocol is recognised by content (not by port) from the first bytes of
//! either direction, then the matching analyzer runs on it — HTTP/1.x, WebSocket (also
//! mid-stream, by its frames), HTTP/2 (a client that starts with the connection preface), or
//! nothing for protocols hopscope does not analyse. HTTP hands over to an inner stream after
//! `101 Switching Protocols` (WebSocket, h2c) or a CONNECT tunnel.

pub mod h2;
pub mod http;
pub mod socks;
pub mod tls;
pub mod websocket;

use crate::engine::{Analyzer, Ctx};
use crate::model::http2::{
    Http2Goaway, Http2Record, Http2Setting, Http2Settings, Http2Stream, PerDir,
};
use crate::model::tunnel::{TlsInfo, TunnelRecord};
use crate::model::websocket::WsHandshake;
use crate::model::{CaptureSummary, Dir, Finding, Record, RecordSink, codes};
use crate::reassembly::Chunk;
use http::HttpConfig;
use http::conn::{HttpConn, Shared};
use http::head::{self, Head, Prefix};
use websocket::handshake as wsh;
use websocket::{WsConfig, WsConn, WsShared, frame};

/// Settings for every application analyzer.
#[derive(Clone, Debug)]
pub struct AnalyzerConfig {
    /// Off: TCP reassembly only (`--tcp-only`), no application analysis.
    pub enabled: bool,
    pub http: HttpConfig,
    pub ws: WsConfig,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            enabled: true,
            http: HttpConfig::default(),
            ws: WsConfig::default(),
        }
    }
}

/// State shared by the inner protocols (ids, configuration).
pub struct InnerShared {
    pub ws: WsShared,
    next_tunnel: u64,
    next_h2: u64,
}

impl InnerShared {
    pub fn new(ws: WsConfig) -> Self {
        InnerShared {
            ws: WsShared::new(ws),
            next_tunnel: 0,
            next_h2: 0,
        }
    }
}

/// Everything analyzer-wide.
pub struct DispatchShared {
    pub http: Shared,
    pub inner: InnerShared,
}

/// Bytes looked at per direction to recognise a protocol (a request line can be long).
const PROBE_BYTES: usize = 8192;
/// Undecided after this many bytes (both directions): nothing hopscope knows.
const PROBE_GIVE_UP: usize = 16 * 1024;
/// Tunnels inside tunnels analysed at most this deep.
const MAX_DEPTH: u8 = 4;

/// What a byte stream carries.
pub enum Stream {
    /// Not decided yet: the first bytes of each direction, in arrival order.
    Probe(Probe),
    Http(Box<HttpConn>),
    WebSocket(Box<WsConn>),
    Tls(Box<TlsStream>),
    Socks(Box<SocksStream>),
    Tunnel(Box<Tunnel>),
    H2(Box<H2Stream>),
    /// Something hopscope does not analyse (`name` says what, when known).
    Other {
        name: &'static str,
    },
}

#[derive(Default)]
pub struct Probe {
    seen: [Vec<u8>; 2],
    /// (direction, stream offset, bytes) in arrival order, for replay.
    log: Vec<(usize, u64, Vec<u8>)>,
    depth: u8,
    /// Transactions already on this connection (before a CONNECT tunnel): HTTP inside goes
    /// on counting from here, so `index` stays the position on the connection.
    index_base: u32,
}

/// TLS: the hellos are read (SNI, ALPN, versions); the rest is only counted.
#[derive(Default)]
pub struct TlsStream {
    sniffer: tls::TlsSniffer,
    notes_reported: usize,
}

impl TlsStream {
    fn info(&self) -> Option<TlsInfo> {
        let ch = self.sniffer.client_hello()?;
        let sh = self.sniffer.server_hello();
        Some(TlsInfo {
            sni: ch.sni.clone(),
            alpn: ch.alpn.clone(),
            offered_versions: ch
                .offered_versions
                .iter()
                .map(|v| tls::version_name(*v).to_string())
                .collect(),
            version: sh.map(|s| tls::version_name(s.selected_version).to_string()),
            alpn_selected: sh.and_then(|s| s.alpn.clone()),
        })
    }

    /// New sniffer notes become findings.
    fn report(&mut self, ctx: &Ctx, out: &mut dyn RecordSink) {
        let notes = self.sniffer.notes();
        for n in notes.iter().skip(self.notes_reported) {
            let d = Dir::from_index(n.dir);
            out.record(Record::Finding(
                Finding::new(n.code(), n.to_string())
                    .conn(ctx.conn)
                    .at(ctx.packet, ctx.ts)
                    .dir(d, n.offset),
            ));
        }
        self.notes_reported = notes.len();
    }
}

/// A SOCKS handshake, then its tunnel's payload as a stream of its own.
pub struct SocksStream {
    conn: socks::SocksConn,
    rec: TunnelRecord,
    inner: Stream,
    /// Stream offset of each direction's first tunnel byte, once known.
    start: [Option<u64>; 2],
    notes_reported: usize,
    /// Where each direction's bytes began.
    base: [Option<u64>; 2],
}

impl SocksStream {
    fn new(inner: &mut InnerShared, ctx: &Ctx) -> Self {
        let id = inner.next_tunnel;
        inner.next_tunnel += 1;
        SocksStream {
            conn: socks::SocksConn::new(),
            rec: TunnelRecord {
                id,
                connection: ctx.conn,
                client: ctx.client,
                proxy: ctx.server,
                kind: "socks".into(),
                target: None,
                established: false,
                refused: None,
                transaction: None,
                inner: "none".into(),
                tls: None,
                bytes_to_target: 0,
                bytes_from_target: 0,
                auth: None,
                user: None,
                findings: Vec::new(),
            },
            inner: Stream::probe(1),
            start: [None, None],
            notes_reported: 0,
            base: [None, None],
        }
    }

    fn fill(&mut self) {
        let i = self.conn.info();
        if !i.variant.is_empty() {
            self.rec.kind = i.variant.into();
        }
        self.rec.target = i.target.clone();
        self.rec.established = self.conn.state() == socks::SocksState::Established;
        if self.conn.state() == socks::SocksState::Refused {
            self.rec.refused = Some(format!(
                "reply {} ({})",
                i.reply.map_or("?".into(), |r| format!("0x{r:02x}")),
                i.reply_text.unwrap_or("refused")
            ));
        }
        self.rec.auth = i.method_chosen.map(|m| {
            match m {
                0x00 => "none",
                0x01 => "gssapi",
                0x02 => "username/password",
                0xff => "no acceptable method",
                _ => "other",
            }
            .to_string()
        });
        self.rec.user = i.username.clone().filter(|u| !u.is_empty());
    }

    fn report(&mut self, ctx: &Ctx, out: &mut dyn RecordSink) {
        let notes = self.conn.notes();
        for n in notes.iter().skip(self.notes_reported) {
            let code = n.kind.code();
            if !self.rec.findings.contains(&code.name) {
                self.rec.findings.push(code.name);
            }
            let d = Dir::from_index(n.dir);
            let info = self.conn.info();
            let msg = match n.kind {
                socks::NoteKind::CleartextCredentials => format!(
                    "SOCKS5 username/password authentication (RFC 1929) sends the password in \
                     cleartext (user {:?}, password {}); anyone on the path can read it",
                    info.username.as_deref().unwrap_or(""),
                    info.password_masked.as_deref().unwrap_or("masked")
                ),
                socks::NoteKind::Refused { .. } => format!(
                    "the SOCKS proxy refused {}: {}",
                    info.target.as_deref().unwrap_or("the request"),
                    info.reply_text.unwrap_or("refused")
                ),
                _ => format!("SOCKS: {:?}", n.kind),
            };
            out.record(Record::Finding(
                Finding::new(code, msg)
                    .conn(ctx.conn)
                    .at(ctx.packet, ctx.ts)
                    .dir(d, n.offset),
            ));
        }
        self.notes_reported = notes.len();
    }
}

/// Cleartext HTTP/2: the frame follower, and what its record needs.
pub struct H2Stream {
    conn: h2::H2Conn,
    id: u64,
    connection: u64,
    client: crate::model::Endpoint,
    server: crate::model::Endpoint,
    /// `h2c-upgrade` or `prior-knowledge`.
    mode: &'static str,
    /// The upgrading HTTP/1.1 transaction.
    transaction: Option<u64>,
    /// The upgrading request was not captured: stream 1's method and path are unknown.
    request_unknown: bool,
    notes_reported: usize,
    /// Stream offset of each direction's first byte fed (the follower counts from there).
    base: [Option<u64>; 2],
}

impl H2Stream {
    fn new(
        inner: &mut InnerShared,
        ctx: &Ctx,
        conn: h2::H2Conn,
        mode: &'static str,
        transaction: Option<u64>,
    ) -> Self {
        let id = inner.next_h2;
        inner.next_h2 += 1;
        H2Stream {
            conn,
            id,
            connection: ctx.conn,
            client: ctx.client,
            server: ctx.server,
            mode,
            transaction,
            request_unknown: false,
            notes_reported: 0,
            base: [None, None],
        }
    }

    /// New follower notes become findings, at their absolute stream offsets.
    fn report(&mut self, ctx: &Ctx, out: &mut dyn RecordSink) {
        let notes = self.conn.notes();
        for n in notes.iter().skip(self.notes_reported) {
            let d = Dir::from_index(n.dir);
            let at = self.base[n.dir.min(1)].unwrap_or(0) + n.offset;
            out.record(Record::Finding(
                Finding::new(n.kind.code(), n.kind.to_string())
                    .conn(ctx.conn)
                    .at(ctx.packet, ctx.ts)
                    .dir(d, at),
            ));
        }
        self.notes_reported = notes.len();
    }

    fn record(&self) -> Http2Record {
        let s = self.conn.summary();
        let settings = |v: &[(u16, u32)]| -> Vec<Http2Setting> {
            v.iter()
                .map(|&(id, value)| Http2Setting {
                    name: h2::settings_name(id),
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
        }
    }
}

/// A CONNECT tunnel and its payload.
pub struct Tunnel {
    rec: TunnelRecord,
    inner: Stream,
}

impl Stream {
    pub fn probe(depth: u8) -> Stream {
        Stream::Probe(Probe {
            depth,
            ..Probe::default()
        })
    }

    /// A protocol hopscope does not analyse after a switch to it.
    pub fn opaque(name: &str) -> Stream {
        Stream::Other {
            name: match name {
                "tls" => "tls",
                _ => "unknown",
            },
        }
    }

    /// HTTP/2 after `Upgrade: h2c` and `101` (RFC 9113 §3.2): stream 1 is the upgraded
    /// request, transaction `txn` (its method and target, when the request was captured).
    pub fn h2c_after_upgrade(
        inner: &mut InnerShared,
        ctx: &Ctx,
        txn: u64,
        method: Option<&str>,
        target: Option<&str>,
    ) -> Stream {
        let conn = h2::H2Conn::after_h2c_upgrade(method.unwrap_or(""), target.unwrap_or(""));
        let mut h = H2Stream::new(inner, ctx, conn, "h2c-upgrade", Some(txn));
        h.request_unknown = method.is_none() || target.is_none();
        Stream::H2(Box::new(h))
    }

    /// A WebSocket after a 101: the handshake from both heads, checked.
    #[allow(clippy::too_many_arguments)]
    pub fn websocket_after_upgrade(
        inner: &mut InnerShared,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        txn: u64,
        target: Option<String>,
        req: &crate::model::http::Headers,
        resp: &Head,
        offsets: [u64; 2],
    ) -> Stream {
        let text = |v: Option<&[u8]>| v.map(|b| String::from_utf8_lossy(b).trim().to_string());
        let key = text(req.get("sec-websocket-key"));
        let accept = text(resp.value("sec-websocket-accept"));
        let offered_ext = wsh::parse_extensions(req.values("sec-websocket-extensions"));
        let agreed_ext = wsh::parse_extensions(resp.values("sec-websocket-extensions"));
        let offered_proto = wsh::tokens(req.values("sec-websocket-protocol"));
        let proto = wsh::tokens(resp.values("sec-websocket-protocol"));
        let accept_valid = match (&key, &accept) {
            (Some(k), Some(a)) => Some(wsh::accept_for(k) == *a),
            _ => None,
        };
        let deflate = agreed_ext
            .iter()
            .find(|e| e.name == "permessage-deflate")
            .map(wsh::Extension::deflate);
        let ext_names = |v: &[wsh::Extension]| -> Vec<String> {
            v.iter()
                .map(|e| {
                    let mut s = e.name.clone();
                    for (k, val) in &e.params {
                        s.push_str("; ");
                        s.push_str(k);
                        if let Some(val) = val {
                            s.push('=');
                            s.push_str(val);
                        }
                    }
                    s
                })
                .collect()
        };
        let hs = WsHandshake {
            transaction: Some(txn),
            target,
            host: text(req.get("host")),
            origin: text(req.get("origin")),
            version: text(req.get("sec-websocket-version")),
            key: key.clone(),
            accept: accept.clone(),
            accept_valid,
            subprotocols_offered: offered_proto.clone(),
            subprotocol: proto.first().cloned(),
            extensions_offered: ext_names(&offered_ext),
            extensions: ext_names(&agreed_ext),
            midstream: false,
        };
        let version = hs.version.clone();
        let mut ws = WsConn::new(&mut inner.ws, ctx, hs, deflate, offsets);
        let at = offsets[1];
        match accept_valid {
            Some(false) => ws.finding(
                ctx,
                out,
                1,
                at,
                &codes::WS_ACCEPT_MISMATCH,
                format!(
                    "Sec-WebSocket-Accept {} is not SHA-1(key + RFC 6455 GUID) = {} (RFC 6455 \
                     §4.2.2): a client must fail the connection. A proxy that rewrote the key, \
                     or a broken server",
                    accept.as_deref().unwrap_or(""),
                    key.as_deref().map(wsh::accept_for).unwrap_or_default()
                ),
            ),
            None if key.is_none() => ws.finding(
                ctx,
                out,
                0,
                offsets[0],
                &codes::WS_MISSING_KEY,
                "the upgrade request has no Sec-WebSocket-Key (RFC 6455 §4.1)".into(),
            ),
            None => ws.finding(
                ctx,
                out,
                1,
                at,
                &codes::WS_MISSING_ACCEPT,
                "the 101 has no Sec-WebSocket-Accept (RFC 6455 §4.2.2): a client must fail \
                 the connection"
                    .into(),
            ),
            Some(true) => {}
        }
        if version.as_deref().is_some_and(|v| v != "13") {
            ws.finding(
                ctx,
                out,
                0,
                offsets[0],
                &codes::WS_BAD_VERSION,
                format!(
                    "Sec-WebSocket-Version {} (RFC 6455 §4.1: must be 13)",
                    version.as_deref().unwrap_or("")
                ),
            );
        }
        for p in &proto {
            if !offered_proto.contains(p) {
                ws.finding(
                    ctx,
                    out,
                    1,
                    at,
                    &codes::WS_SUBPROTOCOL_NOT_OFFERED,
                    format!(
                        "the server chose subprotocol {p:?}, which the client did not offer \
                         (RFC 6455 §4.2.2: the client must fail the connection)"
                    ),
                );
            }
        }
        for e in &agreed_ext {
            if !offered_ext.iter().any(|o| o.name == e.name) {
                ws.finding(
                    ctx,
                    out,
                    1,
                    at,
                    &codes::WS_EXTENSION_NOT_OFFERED,
                    format!(
                        "the server accepted extension {:?}, which the client did not offer \
                         (RFC 6455 §9.1)",
                        e.name
                    ),
                );
            }
        }
        Stream::WebSocket(Box::new(ws))
    }

    /// A CONNECT tunnel that the proxy accepted.
    pub fn tunnel(
        inner: &mut InnerShared,
        ctx: &Ctx,
        txn: u64,
        target: Option<String>,
        next_index: u32,
    ) -> Stream {
        let id = inner.next_tunnel;
        inner.next_tunnel += 1;
        Stream::Tunnel(Box::new(Tunnel {
            rec: TunnelRecord {
                id,
                connection: ctx.conn,
                client: ctx.client,
                proxy: ctx.server,
                kind: "connect".into(),
                target,
                established: true,
                refused: None,
                transaction: Some(txn),
                inner: "none".into(),
                tls: None,
                bytes_to_target: 0,
                bytes_from_target: 0,
                auth: None,
                user: None,
                findings: Vec::new(),
            },
            inner: Stream::Probe(Probe {
                depth: 1,
                index_base: next_index,
                ..Probe::default()
            }),
        }))
    }

    /// A refused CONNECT, reported at once.
    pub fn refused_tunnel(
        inner: &mut InnerShared,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        txn: u64,
        target: Option<String>,
        why: String,
    ) {
        let id = inner.next_tunnel;
        inner.next_tunnel += 1;
        out.record(Record::Tunnel(Box::new(TunnelRecord {
            id,
            connection: ctx.conn,
            client: ctx.client,
            proxy: ctx.server,
            kind: "connect".into(),
            target,
            established: false,
            refused: Some(why),
            transaction: Some(txn),
            inner: "none".into(),
            tls: None,
            bytes_to_target: 0,
            bytes_from_target: 0,
            auth: None,
            user: None,
            findings: Vec::new(),
        })));
    }

    /// What it is, for tunnel records.
    fn kind(&self) -> &'static str {
        match self {
            Stream::Probe(_) => "none",
            Stream::Http(_) => "http",
            Stream::WebSocket(_) => "websocket",
            Stream::Tls(_) => "tls",
            Stream::Socks(_) => "socks",
            Stream::Tunnel(_) => "tunnel",
            Stream::H2(h) if h.mode == "h2c-upgrade" => "h2c",
            Stream::H2(_) => "http2",
            Stream::Other { name } => name,
        }
    }

    /// Bytes of direction `d` at stream offset `offset`.
    #[allow(clippy::too_many_arguments)]
    pub fn data(
        &mut self,
        inner: &mut InnerShared,
        http: &mut Shared,
        ctx: &Ctx,
        d: usize,
        offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) {
        match self {
            Stream::Probe(p) => {
                let seen = &mut p.seen[d];
                seen.extend_from_slice(
                    &data[..data.len().min(PROBE_BYTES.saturating_sub(seen.len()))],
                );
                p.log.push((d, offset, data.to_vec()));
                let depth = p.depth;
                let index_base = p.index_base;
                if let Some(next) = decide(p, ctx) {
                    let log = std::mem::take(&mut p.log);
                    *self = match next {
                        Kind::Http if depth <= MAX_DEPTH => {
                            Stream::Http(Box::new(HttpConn::starting_at(index_base)))
                        }
                        Kind::Tls => Stream::Tls(Box::default()),
                        Kind::Socks => Stream::Socks(Box::new(SocksStream::new(inner, ctx))),
                        Kind::H2 => Stream::H2(Box::new(H2Stream::new(
                            inner,
                            ctx,
                            h2::H2Conn::new(),
                            "prior-knowledge",
                            None,
                        ))),
                        Kind::WebSocket => {
                            let start = |d: usize| {
                                log.iter()
                                    .filter(|l| l.0 == d)
                                    .map(|l| l.1)
                                    .min()
                                    .unwrap_or(0)
                            };
                            let first = start(0);
                            let mut ws = WsConn::midstream(&mut inner.ws, ctx, [first, start(1)]);
                            ws.finding(
                                ctx,
                                out,
                                0,
                                first,
                                &codes::WS_MIDSTREAM,
                                "a WebSocket recognised by its frames: the handshake was not \
                                 captured, so subprotocol and compression are unknown \
                                 (compressed messages are counted, not inflated)"
                                    .into(),
                            );
                            Stream::WebSocket(Box::new(ws))
                        }
                        _ => Stream::Other { name: "unknown" },
                    };
                    for (d, off, bytes) in log {
                        self.data(inner, http, ctx, d, off, &bytes, out);
                    }
                } else if p.log.iter().map(|l| l.2.len()).sum::<usize>() > PROBE_GIVE_UP {
                    // Still undecided after this much: nothing we know.
                    *self = Stream::Other { name: "unknown" };
                }
            }
            Stream::Http(h) => {
                let c = Ctx {
                    dir: crate::model::Dir::from_index(d),
                    ..*ctx
                };
                h.on_chunk_split(http, inner, &c, offset, Chunk::Data(data), out);
                if h.not_http {
                    *self = Stream::Other { name: "unknown" };
                }
            }
            Stream::WebSocket(w) => {
                let ws = &inner.ws;
                w.data(ws, ctx, d, data, out);
            }
            Stream::Tls(t) => {
                t.sniffer.feed(d, data);
                t.report(ctx, out);
            }
            Stream::Socks(x) => {
                x.base[d].get_or_insert(offset);
                let was = x.conn.state();
                let mut rest = data;
                if was == socks::SocksState::Handshake {
                    let n = x.conn.feed(d, data).min(data.len());
                    rest = &data[n..];
                    x.report(ctx, out);
                    x.fill();
                    if x.conn.state() == socks::SocksState::Established {
                        // The tunnel begins: bytes the follower held first, then the rest.
                        let c = Ctx {
                            midstream: false,
                            ..*ctx
                        };
                        let hs = [
                            x.conn.info().client_handshake_bytes,
                            x.conn.info().server_handshake_bytes,
                        ];
                        for (dd, hs_len) in hs.into_iter().enumerate() {
                            let start = x.base[dd].unwrap_or(0) + hs_len;
                            x.start[dd] = Some(start);
                            let early = x.conn.take_early_payload(dd);
                            let dropped = x.conn.early_dropped(dd);
                            let mut at = start;
                            if !early.is_empty() {
                                x.inner.data(inner, http, &c, dd, at, &early, out);
                                at += early.len() as u64;
                            }
                            if dropped > 0 {
                                x.inner.gap(inner, http, &c, dd, at, dropped, out);
                            }
                        }
                    }
                }
                if x.conn.state() == socks::SocksState::Established && !rest.is_empty() {
                    if d == 0 {
                        x.rec.bytes_to_target += rest.len() as u64;
                    } else {
                        x.rec.bytes_from_target += rest.len() as u64;
                    }
                    let at = offset + (data.len() - rest.len()) as u64;
                    let c = Ctx {
                        midstream: false,
                        ..*ctx
                    };
                    x.inner.data(inner, http, &c, d, at, rest, out);
                }
            }
            Stream::Tunnel(t) => {
                if d == 0 {
                    t.rec.bytes_to_target += data.len() as u64;
                } else {
                    t.rec.bytes_from_target += data.len() as u64;
                }
                let c = Ctx {
                    midstream: false,
                    ..*ctx
                };
                t.inner.data(inner, http, &c, d, offset, data, out);
                t.rec.inner = t.inner.kind().into();
            }
            Stream::H2(h) => {
                h.base[d.min(1)].get_or_insert(offset);
                h.conn.feed(d, data);
                h.report(ctx, out);
            }
            Stream::Other { .. } => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn gap(
        &mut self,
        inner: &mut InnerShared,
        http: &mut Shared,
        ctx: &Ctx,
        d: usize,
        offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) {
        match self {
            Stream::Probe(_) => *self = Stream::Other { name: "unknown" },
            Stream::Http(h) => {
                let c = Ctx {
                    dir: crate::model::Dir::from_index(d),
                    ..*ctx
                };
                h.on_chunk_split(http, inner, &c, offset, Chunk::Gap(n), out);
            }
            Stream::WebSocket(w) => w.gap(ctx, d, n, out),
            Stream::Tls(t) => {
                t.sniffer.gap(d, n);
                t.report(ctx, out);
            }
            Stream::Socks(x) => {
                if x.conn.state() == socks::SocksState::Established {
                    x.inner.gap(inner, http, ctx, d, offset, n, out);
                } else {
                    x.conn.gap(d, n);
                    x.report(ctx, out);
                }
            }
            Stream::Tunnel(t) => t.inner.gap(inner, http, ctx, d, offset, n, out),
            Stream::H2(h) => {
                h.base[d.min(1)].get_or_insert(offset);
                h.conn.gap(d, n);
                h.report(ctx, out);
            }
            Stream::Other { .. } => {}
        }
    }

    pub fn close(
        &mut self,
        inner: &mut InnerShared,
        http: &mut Shared,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
    ) {
        match self {
            Stream::Probe(_) | Stream::Other { .. } | Stream::Tls(_) => {}
            Stream::Http(h) => h.on_close_split(http, inner, ctx, out),
            Stream::WebSocket(w) => w.close(&inner.ws, ctx, out),
            Stream::Socks(x) => {
                x.fill();
                if let Stream::Tls(t) = &x.inner {
                    x.rec.tls = t.info();
                }
                x.rec.inner = x.inner.kind().into();
                x.inner.close(inner, http, ctx, out);
                if !x.conn.info().variant.is_empty() {
                    out.record(Record::Tunnel(Box::new(x.rec.clone())));
                }
            }
            Stream::Tunnel(t) => {
                if let Stream::Tls(x) = &t.inner {
                    t.rec.tls = x.info();
                }
                t.rec.inner = t.inner.kind().into();
                t.inner.close(inner, http, ctx, out);
                out.record(Record::Tunnel(Box::new(t.rec.clone())));
            }
            Stream::H2(h) => {
                h.conn.end();
                h.report(ctx, out);
                out.record(Record::Http2(Box::new(h.record())));
            }
        }
        *self = Stream::Other { name: "unknown" };
    }
}

/// What the first bytes say a stream is.
enum Kind {
    Http,
    H2,
    Tls,
    Socks,
    WebSocket,
    Unknown,
}

/// Decides what a stream is from its first bytes, or `None` to wait for more.
fn decide(p: &Probe, ctx: &Ctx) -> Option<Kind> {
    // Empty lines before a message are tolerated by HTTP (RFC 9112 §2.2); look past them.
    let skip = |b: &[u8]| b.iter().take_while(|&&x| x == b'\r' || x == b'\n').count();
    let (c, s) = (&p.seen[0], &p.seen[1]);
    let mut maybe = false;
    // The HTTP/2 preface (RFC 9113 §3.4) is at the very first byte, and also parses as an
    // HTTP/1 request line (`PRI * HTTP/2.0`): it is looked for first, before empty lines
    // are skipped, and while it may still be one the request check waits.
    let preface = h2::looks_like_h2_preface(c);
    match preface {
        Prefix::Yes => return Some(Kind::H2),
        Prefix::Maybe if !c.is_empty() => maybe = true,
        _ => {}
    }
    let c = &c[skip(c)..];
    let s = &s[skip(s)..];
    if !c.is_empty() {
        match head::looks_like_request(c) {
            _ if preface == Prefix::Maybe => {}
            Prefix::Yes => return Some(Kind::Http),
            Prefix::Maybe => maybe = true,
            Prefix::No => {}
        }
        match tls::looks_like_tls(c) {
            Prefix::Yes => return Some(Kind::Tls),
            Prefix::Maybe => maybe = true,
            Prefix::No => {}
        }
        if p.depth == 0 {
            match socks::looks_like_socks(c) {
                Prefix::Yes => return Some(Kind::Socks),
                Prefix::Maybe => maybe = true,
                Prefix::No => {}
            }
        }
        if c.len() >= 2 || !maybe {
            match frame::looks_like_frames(c, true) {
                Prefix::Yes => return Some(Kind::WebSocket),
                Prefix::Maybe => maybe = true,
                Prefix::No => {}
            }
        }
    }
    if !s.is_empty() {
        match head::looks_like_response(s) {
            Prefix::Yes => return Some(Kind::Http),
            Prefix::Maybe => maybe = true,
            Prefix::No => {}
        }
        if tls::looks_like_tls(s) == Prefix::Yes {
            return Some(Kind::Tls);
        }
        if c.is_empty() && looks_like_h2_server_start(s) {
            // An HTTP/2 server may send its SETTINGS before the client's preface arrives
            // (RFC 9113 §3.4): wait for the client rather than take it for WebSocket frames.
            return None;
        }
        if ctx.midstream || c.is_empty() {
            match frame::looks_like_frames(s, false) {
                Prefix::Yes if c.is_empty() || frame::looks_like_frames(c, true) != Prefix::No => {
                    return Some(Kind::WebSocket);
                }
                Prefix::Maybe => maybe = true,
                _ => {}
            }
        }
    }
    // A client that does not start like anything known: wait for the server (a server that
    // answers with an HTTP status line makes it HTTP, e.g. a 400 to garbage).
    if maybe || s.is_empty() {
        None
    } else {
        Some(Kind::Unknown)
    }
}

/// Could `s` begin with an HTTP/2 server's first frame, a SETTINGS frame (RFC 9113 §3.4:
/// type 4, not an ACK, stream 0, whole 6-byte entries, here fewer than 64 KiB of them)?
fn looks_like_h2_server_start(s: &[u8]) -> bool {
    let at = |i: usize| s.get(i).copied();
    let length = match (at(0), at(1), at(2)) {
        (Some(a), Some(b), Some(c)) => Some(u32::from_be_bytes([0, a, b, c])),
        _ => None,
    };
    !s.is_empty()
        && at(0) == Some(0)
        && length.is_none_or(|n| n.is_multiple_of(6))
        && at(3).is_none_or(|t| t == 4)
        && at(4).is_none_or(|f| f & 1 == 0)
        && (5..9).all(|i| at(i).is_none_or(|b| b == 0))
}

/// The engine's analyzer: protocol recognition and dispatch.
pub struct Dispatcher {
    enabled: bool,
    sh: DispatchShared,
}

impl Dispatcher {
    pub fn new(cfg: AnalyzerConfig) -> Self {
        Dispatcher {
            enabled: cfg.enabled,
            sh: DispatchShared {
                http: Shared::new(cfg.http),
                inner: InnerShared::new(cfg.ws),
            },
        }
    }
}

/// Per-connection analyzer state.
#[derive(Default)]
pub struct ConnLayers {
    stream: Option<Box<Stream>>,
}

impl Analyzer for Dispatcher {
    type State = ConnLayers;

    fn on_chunk(
        &mut self,
        state: &mut ConnLayers,
        ctx: &Ctx,
        offset: u64,
        chunk: Chunk<'_>,
        out: &mut dyn RecordSink,
    ) {
        if !self.enabled {
            return;
        }
        let st = state
            .stream
            .get_or_insert_with(|| Box::new(Stream::probe(0)));
        let d = ctx.dir.index();
        let DispatchShared { http, inner } = &mut self.sh;
        match chunk {
            Chunk::Data(b) => st.data(inner, http, ctx, d, offset, b, out),
            Chunk::Gap(n) => st.gap(inner, http, ctx, d, offset, n, out),
        }
    }

    fn on_close(&mut self, state: &mut ConnLayers, ctx: &Ctx, out: &mut dyn RecordSink) {
        if let Some(st) = state.stream.as_mut() {
            let DispatchShared { http, inner } = &mut self.sh;
            st.close(inner, http, ctx, out);
        }
        state.stream = None;
    }

    fn summarize(&self, summary: &mut CaptureSummary) {
        if self.enabled {
            summary.http = Some(self.sh.http.stats.clone());
        }
    }
}
