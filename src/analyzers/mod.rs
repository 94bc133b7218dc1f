//! Application-layer analyzers fed with reassembled streams.
//!
//! [`Dispatcher`] is the engine's analyzer. Every TCP connection, and the payload of every
//! tunnel, is a stack of layers ([`stack`]), each speaking the one interface of [`layer`]:
//!
//! ```text
//!   HTTP/1 | HTTP/2 | WebSocket | opaque      what the application speaks
//!   TLS                                       the hellos read, the records decrypted
//!                                             with a key log: a stack of its own inside
//!   (CONNECT | SOCKS)*                        tunnels: a stack of their own inside
//!   TCP                                       reassembled by the engine
//! ```
//!
//! A stream's protocol is recognised by content, not by port, from the first bytes of either
//! direction ([`stack::probe`]). A layer whose protocol ends (HTTP/1 after `101 Switching
//! Protocols` or an accepted CONNECT) says what comes next; the stack builds it — the one place
//! that decides which analyzer runs what. The protocol modules ([`http`], [`websocket`],
//! [`h2`], [`tls`], [`socks`]) know [`layer`] and the model, never the stack or each other's
//! state.

pub mod h2;
pub mod http;
pub mod layer;
pub mod pass;
pub mod repeats;
pub mod socks;
pub mod stack;
pub mod tls;
pub mod websocket;

use crate::engine::{Analyzer, Ctx};
use crate::model::{CaptureSummary, ConnectionRecord, Note, Record, RecordSink};
use crate::reassembly::Chunk;
use http::HttpConfig;
use http::conn::Shared as HttpShared;
use layer::Ids;
use stack::{Shared, Stack};
use tls::{TlsConfig, TlsShared};
use websocket::{WsConfig, WsShared};

/// Settings for every application analyzer.
#[derive(Clone, Debug)]
pub struct AnalyzerConfig {
    /// Off: TCP reassembly only (`--tcp-only`), no application analysis.
    pub enabled: bool,
    pub http: HttpConfig,
    pub ws: WsConfig,
    /// Where TLS keys come from.
    pub tls: TlsConfig,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            enabled: true,
            http: HttpConfig::default(),
            ws: WsConfig::default(),
            tls: TlsConfig::default(),
        }
    }
}

/// The engine's analyzer: a stack of layers per connection, and what they share.
pub struct Dispatcher {
    enabled: bool,
    sh: Shared,
    ids: Ids,
    /// Sharded: key-source findings raised so far (each thread raises them all; the merge
    /// reports each once).
    sharded: Option<u64>,
}

impl Dispatcher {
    pub fn new(cfg: AnalyzerConfig) -> Self {
        Dispatcher {
            enabled: cfg.enabled,
            sh: Shared {
                http: HttpShared::new(cfg.http),
                ws: WsShared::new(cfg.ws),
                tls: TlsShared::new(cfg.tls),
                tap: None,
            },
            ids: Ids::default(),
            sharded: None,
        }
    }
}

/// Per-connection analyzer state.
#[derive(Default)]
pub struct ConnLayers {
    stack: Option<Box<Stack>>,
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
        if self.sh.tls.has_findings() {
            self.raise_tls(out);
        }
        let st = state
            .stack
            .get_or_insert_with(|| Box::new(Stack::new(0, 0)));
        match chunk {
            Chunk::Data(b) => st.data(&mut self.sh, &mut self.ids, ctx, offset, b, out),
            Chunk::Gap(n, _) => st.gap(&mut self.sh, &mut self.ids, ctx, offset, n, out),
        }
    }

    fn on_close(&mut self, state: &mut ConnLayers, ctx: &Ctx, out: &mut dyn RecordSink) {
        if let Some(st) = state.stack.as_mut() {
            st.close(&mut self.sh, &mut self.ids, ctx, out);
        }
        // The stack stays for `annotate`; the connection is dropped right after.
    }

    fn footprint(&self, state: &ConnLayers) -> usize {
        state.stack.as_ref().map_or(0, |s| s.footprint())
    }

    fn shed(&mut self, state: &mut ConnLayers) -> Vec<String> {
        state.stack.as_mut().map_or_else(Vec::new, |s| s.shed())
    }

    fn annotate(&self, state: &ConnLayers, record: &mut ConnectionRecord) {
        if let Some(st) = &state.stack {
            record.tls = st.tls(&self.sh).map(Box::new);
        }
    }

    fn several_captures(&mut self) {
        self.sh.http.cfg.digest_bodies = true;
    }

    fn secrets(&mut self, kind: u32, at: u64, data: &[u8]) {
        if self.enabled {
            self.sh.tls.secrets_block(kind, at, data);
        }
    }

    fn finish(&mut self, out: &mut dyn RecordSink) {
        if self.enabled {
            self.sh.tls.finish();
            self.raise_tls(out);
        }
    }

    fn sharded(&mut self) {
        self.sh.http.defer_once = true;
        self.sharded = Some(0);
    }

    fn ids_given(&self) -> [u64; crate::engine::ID_KINDS] {
        let (tunnel, h2) = self.ids.given();
        [self.sh.http.txn_ids(), self.sh.ws.ids(), tunnel, h2]
    }

    fn summarize(&self, summary: &mut CaptureSummary) {
        if self.enabled {
            summary.http = Some(self.sh.http.stats.clone());
            summary.tls = Some(self.sh.tls.stats.clone());
        }
    }
}

impl Dispatcher {
    /// Findings about the key sources (malformed lines, unreadable files) not reported yet.
    fn raise_tls(&mut self, out: &mut dyn RecordSink) {
        let found = self.sh.tls.take_findings();
        if let Some(raised) = &mut self.sharded {
            let count = found.len() as u64;
            out.note(Note::KeySources {
                first: *raised,
                count,
            });
            *raised += count;
        }
        for f in found {
            out.record(Record::Finding(Box::new(f)));
        }
    }
}
