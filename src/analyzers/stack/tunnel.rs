//! Tunnels: a CONNECT the proxy accepted, or a SOCKS handshake, and then a stack of their own
//! for the payload. A tunnel never switches: the stream is its own until the end, when it
//! reports its record with what ran inside.

use super::{Shared, Stack};
use crate::analyzers::layer::{Ids, Layer, Note, Raised, Switch};
use crate::analyzers::socks::{NoteKind, SocksConn, SocksNote, SocksState};
use crate::engine::Ctx;
use crate::model::tunnel::TunnelRecord;
use crate::model::{Dir, Finding, Record, RecordSink};

/// The context of a tunnel's payload: it starts with the tunnel, never mid-stream.
fn payload(ctx: &Ctx) -> Ctx {
    Ctx {
        midstream: false,
        ..*ctx
    }
}

/// Payload bytes through the tunnel, per direction.
fn count(rec: &mut TunnelRecord, dir: Dir, n: usize) {
    match dir {
        Dir::ClientToServer => rec.bytes_to_target += n as u64,
        Dir::ServerToClient => rec.bytes_from_target += n as u64,
    }
}

/// The tunnel's record, with what ran inside it.
fn finish(rec: &mut TunnelRecord, inner: &Stack, sh: &Shared) {
    rec.tls = inner.tls(sh);
    rec.inner = inner.name().into();
}

/// A CONNECT tunnel the proxy accepted (RFC 9110 §9.3.6).
pub struct ConnectTunnel {
    rec: TunnelRecord,
    inner: Stack,
}

impl ConnectTunnel {
    /// Tunnel `id` after transaction `txn` (a CONNECT to `target`) was answered 2xx.
    pub fn new(id: u64, ctx: &Ctx, txn: u64, target: Option<String>, inner: Stack) -> Self {
        ConnectTunnel {
            rec: TunnelRecord {
                target,
                established: true,
                transaction: Some(txn),
                ..TunnelRecord::new(id, ctx.conn, ctx.client, ctx.server, "connect")
            },
            inner,
        }
    }
}

impl Layer for ConnectTunnel {
    type Shared = Shared;

    fn shed(&mut self) -> Vec<String> {
        self.inner.shed()
    }

    fn footprint(&self) -> usize {
        size_of::<Self>() + self.rec.heap_bytes() + self.inner.footprint()
    }

    fn data(
        &mut self,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        count(&mut self.rec, ctx.dir, data.len());
        self.inner.data(sh, ids, &payload(ctx), offset, data, out);
        None
    }

    fn gap(
        &mut self,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        self.inner.gap(sh, ids, &payload(ctx), offset, n, out);
        None
    }

    fn close(&mut self, sh: &mut Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        self.inner.close(sh, ids, ctx, out);
        finish(&mut self.rec, &self.inner, sh);
        out.record(Record::Tunnel(Box::new(self.rec.clone())));
    }
}

impl Note for SocksNote {
    fn dir(&self) -> usize {
        self.dir
    }
    fn offset(&self) -> u64 {
        self.offset
    }
}

/// A SOCKS handshake (RFC 1928, SOCKS4/4a), then its tunnel's payload as a stream of its own.
pub struct SocksTunnel {
    conn: SocksConn,
    rec: TunnelRecord,
    inner: Stack,
    /// Where each direction's bytes began.
    base: [Option<u64>; 2],
    raised: Raised,
}

impl SocksTunnel {
    pub fn new(id: u64, ctx: &Ctx, inner: Stack) -> Self {
        SocksTunnel {
            conn: SocksConn::new(),
            rec: TunnelRecord::new(id, ctx.conn, ctx.client, ctx.server, "socks"),
            inner,
            base: [None, None],
            raised: Raised::default(),
        }
    }

    /// The record from what the handshake said so far.
    fn fill(&mut self) {
        let i = self.conn.info();
        if !i.variant.is_empty() {
            self.rec.kind = i.variant.into();
        }
        self.rec.target = i.target.clone();
        self.rec.established = self.conn.state() == SocksState::Established;
        if self.conn.state() == SocksState::Refused {
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

    /// The follower's new notes become findings (and codes on the record).
    fn raise(&mut self, ctx: &Ctx, out: &mut dyn RecordSink) {
        let info = self.conn.info();
        let rec = &mut self.rec;
        self.raised
            .raise(self.conn.notes(), [0, 0], ctx, out, |n: &SocksNote| {
                let code = n.kind.code();
                if !rec.findings.contains(&code.name) {
                    rec.findings.push(code.name);
                }
                let msg = match n.kind {
                    NoteKind::CleartextCredentials => format!(
                        "SOCKS5 username/password authentication (RFC 1929) sends the password in \
                         cleartext (user {:?}, password {}); anyone on the path can read it",
                        info.username.as_deref().unwrap_or(""),
                        info.password_masked.as_deref().unwrap_or("masked")
                    ),
                    NoteKind::Refused { .. } => format!(
                        "the SOCKS proxy refused {}: {}",
                        info.target.as_deref().unwrap_or("the request"),
                        info.reply_text.unwrap_or("refused")
                    ),
                    _ => format!("SOCKS: {:?}", n.kind),
                };
                Finding::new(code, msg)
            });
    }

    /// The handshake succeeded: the tunnel begins, in each direction with the bytes the
    /// follower held after the handshake (and those it had to drop, as a gap).
    fn open(&mut self, sh: &mut Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        let hs = [
            self.conn.info().client_handshake_bytes,
            self.conn.info().server_handshake_bytes,
        ];
        for (d, hs_len) in hs.into_iter().enumerate() {
            let c = Ctx {
                dir: Dir::from_index(d),
                ..payload(ctx)
            };
            let mut at = self.base[d].unwrap_or(0) + hs_len;
            let early = self.conn.take_early_payload(d);
            let dropped = self.conn.early_dropped(d);
            if !early.is_empty() {
                self.inner.data(sh, ids, &c, at, &early, out);
                at += early.len() as u64;
            }
            if dropped > 0 {
                self.inner.gap(sh, ids, &c, at, dropped, out);
            }
        }
    }
}

impl Layer for SocksTunnel {
    type Shared = Shared;

    fn shed(&mut self) -> Vec<String> {
        self.inner.shed()
    }

    fn footprint(&self) -> usize {
        size_of::<Self>() + self.rec.heap_bytes() + self.conn.heap_bytes() + self.inner.footprint()
    }

    fn data(
        &mut self,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        data: &[u8],
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        let d = ctx.dir.index();
        self.base[d].get_or_insert(offset);
        let mut rest = data;
        if self.conn.state() == SocksState::Handshake {
            let n = self.conn.feed(d, data);
            rest = data.get(n..).unwrap_or_default();
            self.raise(ctx, out);
            self.fill();
            if self.conn.state() == SocksState::Established {
                self.open(sh, ids, ctx, out);
            }
        }
        if self.conn.state() == SocksState::Established && !rest.is_empty() {
            count(&mut self.rec, ctx.dir, rest.len());
            let at = offset + (data.len() - rest.len()) as u64;
            self.inner.data(sh, ids, &payload(ctx), at, rest, out);
        }
        None
    }

    fn gap(
        &mut self,
        sh: &mut Shared,
        ids: &mut Ids,
        ctx: &Ctx,
        offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) -> Option<Switch> {
        if self.conn.state() == SocksState::Established {
            self.inner.gap(sh, ids, &payload(ctx), offset, n, out);
        } else {
            self.conn.gap(ctx.dir.index(), n);
            self.raise(ctx, out);
        }
        None
    }

    fn close(&mut self, sh: &mut Shared, ids: &mut Ids, ctx: &Ctx, out: &mut dyn RecordSink) {
        self.fill();
        self.inner.close(sh, ids, ctx, out);
        finish(&mut self.rec, &self.inner, sh);
        if !self.conn.info().variant.is_empty() {
            out.record(Record::Tunnel(Box::new(self.rec.clone())));
        }
    }
}
