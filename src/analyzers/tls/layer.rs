//! TLS as a layer of a stream: the hellos are read (SNI, ALPN, versions), the rest is only
//! counted; what the sniffer could not follow becomes a finding at once.

use super::{TlsNote, TlsSniffer, version_name};
use crate::analyzers::layer::{Ids, Layer, Note, Raised, Switch};
use crate::engine::Ctx;
use crate::model::tunnel::TlsInfo;
use crate::model::{Finding, RecordSink};

impl Note for TlsNote {
    fn dir(&self) -> usize {
        self.dir
    }
    fn offset(&self) -> u64 {
        self.offset
    }
}

/// A TLS stream: the sniffer, and how many of its notes are findings already.
#[derive(Default)]
pub struct TlsLayer {
    sniffer: TlsSniffer,
    raised: Raised,
}

impl TlsLayer {
    /// The hellos as a tunnel record shows them, once the ClientHello was read.
    pub fn info(&self) -> Option<TlsInfo> {
        let ch = self.sniffer.client_hello()?;
        let sh = self.sniffer.server_hello();
        Some(TlsInfo {
            sni: ch.sni.clone(),
            alpn: ch.alpn.clone(),
            offered_versions: ch
                .offered_versions
                .iter()
                .map(|v| version_name(*v).to_string())
                .collect(),
            version: sh.map(|s| version_name(s.selected_version).to_string()),
            alpn_selected: sh.and_then(|s| s.alpn.clone()),
        })
    }

    /// New sniffer notes become findings.
    fn raise(&mut self, ctx: &Ctx, out: &mut dyn RecordSink) {
        self.raised
            .raise(self.sniffer.notes(), [0, 0], ctx, out, |n: &TlsNote| {
                Finding::new(n.code(), n.to_string())
            });
    }
}

impl Layer for TlsLayer {
    type Shared = ();

    fn footprint(&self) -> usize {
        size_of::<Self>() + self.sniffer.heap_bytes()
    }

    fn data(
        &mut self,
        _: &mut (),
        _: &mut Ids,
        ctx: &Ctx,
        _offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        self.sniffer.feed(ctx.dir.index(), data);
        self.raise(ctx, out);
        None
    }

    fn gap(
        &mut self,
        _: &mut (),
        _: &mut Ids,
        ctx: &Ctx,
        _offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        self.sniffer.gap(ctx.dir.index(), n);
        self.raise(ctx, out);
        None
    }

    fn close(&mut self, _: &mut (), _: &mut Ids, _: &Ctx, _: &mut dyn RecordSink) {}
}
