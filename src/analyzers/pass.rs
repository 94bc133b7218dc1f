//! The Stream view's pass over one connection: its TCP bytes as the engine delivers them
//! ([`StreamCollector`]), and the same bytes through the real analysis ([`Dispatcher`], with
//! the run's key sources) so that TLS decrypts them again; a [`Tap`] in the analysis copies
//! what TLS decrypted, and where the protocols inside found their messages in it.
//!
//! Only the one connection is analysed; every other connection of the capture is only
//! decoded and reassembled. Both copies are bounded ([`Kept`]: 1 MiB per direction).

use super::{AnalyzerConfig, ConnLayers, Dispatcher};
use crate::engine::collect::{InnerStream, StreamCollector, StreamData};
use crate::engine::{Analyzer, Ctx};
use crate::model::RecordSink;
use crate::reassembly::Chunk;

#[cfg(doc)]
use crate::engine::collect::Kept;

/// Copies the application data one connection's TLS decrypts: the first TLS stream on the
/// connection that decrypts anything (the outermost, for TLS inside TLS through a proxy).
#[derive(Debug)]
pub struct Tap {
    conn: u64,
    /// How many tunnels deep the tapped TLS stream is, once one decrypted something.
    depth: Option<u8>,
    pub stream: InnerStream,
}

impl Tap {
    pub fn new(conn: u64) -> Self {
        Tap {
            conn,
            depth: None,
            stream: InnerStream::default(),
        }
    }

    /// Whether the TLS stream `depth` tunnels deep on `conn`, which decrypted something, is
    /// the one tapped (the first to ask is).
    pub fn wants(&mut self, conn: u64, depth: u8) -> bool {
        conn == self.conn && *self.depth.get_or_insert(depth) == depth
    }

    /// Whether that stream is the one tapped already.
    pub fn taps(&self, conn: u64, depth: u8) -> bool {
        conn == self.conn && self.depth == Some(depth)
    }
}

/// The analyzer of the Stream view's pass.
pub struct StreamPass {
    raw: StreamCollector,
    analysis: Dispatcher,
}

impl StreamPass {
    /// A pass over connection `conn`, analysed with `cfg` (its key sources: the run's). The
    /// capture is a file: key logs are read once, encrypted records never wait for keys.
    pub fn new(conn: u64, mut cfg: AnalyzerConfig) -> Self {
        cfg.tls.live = false;
        let mut analysis = Dispatcher::new(cfg);
        analysis.sh.tap = Some(Box::new(Tap::new(conn)));
        StreamPass {
            raw: StreamCollector::new(conn),
            analysis,
        }
    }

    /// What the pass kept: the connection's bytes, and what TLS decrypted of them.
    pub fn data(&self) -> StreamData {
        let mut d = self.raw.data();
        d.decrypted = self
            .analysis
            .sh
            .tap
            .as_ref()
            .filter(|t| t.depth.is_some())
            .map(|t| Box::new(t.stream.clone()));
        d
    }

    fn ours(&self, ctx: &Ctx) -> bool {
        ctx.conn == self.raw.conn()
    }
}

impl Analyzer for StreamPass {
    type State = ConnLayers;

    fn on_chunk(
        &mut self,
        state: &mut ConnLayers,
        ctx: &Ctx,
        offset: u64,
        chunk: Chunk<'_>,
        out: &mut dyn RecordSink,
    ) {
        self.raw.on_chunk(&mut (), ctx, offset, chunk, out);
        if self.ours(ctx) {
            self.analysis.on_chunk(state, ctx, offset, chunk, out);
        }
    }

    fn on_close(&mut self, state: &mut ConnLayers, ctx: &Ctx, out: &mut dyn RecordSink) {
        self.raw.on_close(&mut (), ctx, out);
        if self.ours(ctx) {
            self.analysis.on_close(state, ctx, out);
        }
    }

    fn footprint(&self, state: &ConnLayers) -> usize {
        self.analysis.footprint(state)
    }

    fn shed(&mut self, state: &mut ConnLayers) -> Vec<String> {
        self.analysis.shed(state)
    }

    fn done(&self) -> bool {
        self.raw.done()
    }

    fn secrets(&mut self, kind: u32, at: u64, data: &[u8]) {
        self.analysis.secrets(kind, at, data);
    }

    fn finish(&mut self, out: &mut dyn RecordSink) {
        self.analysis.finish(out);
    }
}
