//! Application-layer analyzers fed with reassembled streams.
//!
//! [`App`] is the engine's analyzer: it recognises each connection's protocol by content
//! (not by port) and runs the matching analyzer on it. Today that is HTTP/1.x; a connection
//! that is not HTTP is left alone (later analyzers — TLS, SOCKS — take it from there).

pub mod h2;
pub mod http;

use crate::engine::{Analyzer, Ctx};
use crate::model::{CaptureSummary, RecordSink};
use crate::reassembly::Chunk;
use http::HttpConfig;
use http::conn::{HttpConn, Shared};

/// Per-connection analyzer state.
#[derive(Default)]
pub enum ConnApp {
    /// Nothing seen yet.
    #[default]
    Start,
    Http(Box<HttpConn>),
    /// Not a protocol hopscope analyses; its bytes are only counted by the TCP layer.
    Other,
}

/// Settings for every application analyzer.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Off: TCP reassembly only (`--tcp-only`), no application analysis.
    pub enabled: bool,
    pub http: HttpConfig,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            enabled: true,
            http: HttpConfig::default(),
        }
    }
}

/// The engine's analyzer: protocol recognition and dispatch.
pub struct App {
    enabled: bool,
    http: Shared,
}

impl App {
    pub fn new(cfg: AppConfig) -> Self {
        App {
            enabled: cfg.enabled,
            http: Shared::new(cfg.http),
        }
    }
}

impl Analyzer for App {
    type State = ConnApp;

    fn on_chunk(
        &mut self,
        state: &mut ConnApp,
        ctx: &Ctx,
        offset: u64,
        chunk: Chunk<'_>,
        out: &mut dyn RecordSink,
    ) {
        if !self.enabled {
            return;
        }
        if matches!(state, ConnApp::Start) {
            *state = ConnApp::Http(Box::default());
        }
        if let ConnApp::Http(h) = state {
            h.on_chunk(&mut self.http, ctx, offset, chunk, out);
            if h.not_http {
                *state = ConnApp::Other;
            }
        }
    }

    fn on_close(&mut self, state: &mut ConnApp, ctx: &Ctx, out: &mut dyn RecordSink) {
        if let ConnApp::Http(h) = state {
            h.on_close(&mut self.http, ctx, out);
        }
        *state = ConnApp::Other;
    }

    fn summarize(&self, summary: &mut CaptureSummary) {
        if self.enabled {
            summary.http = Some(self.http.stats.clone());
        }
    }
}
