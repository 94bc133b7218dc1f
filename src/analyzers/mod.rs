//! Application-layer analyzers fed with reassembled streams.
//!
//! [`Dispatcher`] is the engine's analyzer. Every TCP connection, and the payload of every
//! tunnel, is a stack of layers ([`stack`]), each speaking the one interface of [`layer`]:
//!
//! ```text
//!   HTTP/1 | HTTP/2 | WebSocket | opaque      what the application speaks
//!   TLS                                       the hellos read, the rest counted
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
pub mod socks;
pub mod stack;
pub mod tls;
pub mod websocket;

use crate::engine::{Analyzer, Ctx};
use crate::model::{CaptureSummary, RecordSink};
use crate::reassembly::Chunk;
use http::HttpConfig;
use http::conn::Shared as HttpShared;
use layer::Ids;
use stack::{Shared, Stack};
use websocket::{WsConfig, WsShared};

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

/// The engine's analyzer: a stack of layers per connection, and what they share.
pub struct Dispatcher {
    enabled: bool,
    sh: Shared,
    ids: Ids,
}

impl Dispatcher {
    pub fn new(cfg: AnalyzerConfig) -> Self {
        Dispatcher {
            enabled: cfg.enabled,
            sh: Shared {
                http: HttpShared::new(cfg.http),
                ws: WsShared::new(cfg.ws),
            },
            ids: Ids::default(),
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
        state.stack = None;
    }

    fn footprint(&self, state: &ConnLayers) -> usize {
        state.stack.as_ref().map_or(0, |s| s.footprint())
    }

    fn shed(&mut self, state: &mut ConnLayers) -> Vec<String> {
        state.stack.as_mut().map_or_else(Vec::new, |s| s.shed())
    }

    fn summarize(&self, summary: &mut CaptureSummary) {
        if self.enabled {
            summary.http = Some(self.sh.http.stats.clone());
        }
    }
}
