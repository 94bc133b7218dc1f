//! TLS on a stream: the hellos are read (SNI, ALPN, versions, randoms), the records decrypted
//! when a key log has the connection's secrets, and what could not be followed becomes a
//! finding at once. The decrypted application data is handed back to the caller (the stack
//! runs the protocols inside, `super::super::stack`), with the offset of the record that
//! carried it.

use super::decrypt::{Context, DecNote, Decrypt, Plain};
use super::shared::TlsShared;
use super::{TlsNote, TlsSniffer, suites, version_name};
use crate::analyzers::layer::{Note, Raised};
use crate::base::{Timestamp, heap};
use crate::engine::Ctx;
use crate::model::tunnel::TlsInfo;
use crate::model::{Dir, Finding, Record, RecordSink, codes};

impl Note for TlsNote {
    fn dir(&self) -> usize {
        self.dir
    }
    fn offset(&self) -> u64 {
        self.offset
    }
}

/// Decrypted application data of one delivery, waiting to be handed to the protocols inside:
/// (direction, stream offset of its record, offset in the decrypted stream, range in `bytes`).
#[derive(Default)]
pub struct Decrypted {
    pub bytes: Vec<u8>,
    pub spans: Vec<(Dir, u64, u64, std::ops::Range<usize>)>,
}

impl Decrypted {
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    pub fn heap_bytes(&self) -> usize {
        heap::vec(&self.bytes) + heap::vec(&self.spans)
    }
}

/// A TLS stream: the sniffer, decryption, and how many of their notes are findings already.
pub struct TlsLayer {
    sniffer: TlsSniffer,
    raised: Raised,
    dec: Decrypt,
    dec_raised: usize,
    /// The stream was counted in the run's TLS counters (at its end).
    counted: bool,
    /// When the ClientHello was complete, and when the client's first protected record
    /// began (its handshake was done as far as it knew: TLS 1.2's first application data
    /// after the server's Finished, TLS 1.3's encrypted Finished), as packet times.
    hello_at: Option<Timestamp>,
    done_at: Option<Timestamp>,
}

impl TlsLayer {
    /// A TLS stream; `hold` bytes of records may wait for their keys (live).
    pub fn new(hold: usize) -> Self {
        TlsLayer {
            sniffer: TlsSniffer::default(),
            raised: Raised::default(),
            dec: Decrypt::new(hold),
            dec_raised: 0,
            counted: false,
            hello_at: None,
            done_at: None,
        }
    }

    /// Bytes held, on the heap and inline.
    pub fn footprint(&self) -> usize {
        size_of::<Self>() + self.sniffer.heap_bytes() + self.dec.heap_bytes()
    }

    /// Gives up records waiting for keys (the memory budget is short).
    pub fn shed(&mut self) -> Vec<String> {
        if self.dec.waiting_for_keys() {
            let held = self.dec.heap_bytes();
            self.dec = Decrypt::new(0);
            return vec![format!(
                "TLS records waiting for their keys ({held} bytes; the connection is not decrypted)"
            )];
        }
        Vec::new()
    }

    /// The hellos and decryption, as a connection's or tunnel's `tls` object shows them (the
    /// hello fields empty when the hello was not captured or not parsed).
    pub fn info(&self, sh: &TlsShared) -> TlsInfo {
        let ch = self.sniffer.client_hello();
        let sh_hello = self.sniffer.server_hello();
        let (c, s) = (self.dec.counts(0), self.dec.counts(1));
        TlsInfo {
            sni: ch.map(|c| c.sni.clone()).unwrap_or_default(),
            alpn: ch.map(|c| c.alpn.clone()).unwrap_or_default(),
            offered_versions: ch
                .map(|c| &c.offered_versions[..])
                .unwrap_or_default()
                .iter()
                .map(|v| version_name(*v).to_string())
                .collect(),
            version: sh_hello.map(|s| version_name(s.selected_version).to_string()),
            alpn_selected: sh_hello
                .and_then(|s| s.alpn.clone())
                .or_else(|| self.dec.alpn_selected().map(str::to_string)),
            cipher_suite: sh_hello.map(|s| suites::name(s.cipher_suite)),
            decrypted: c.records + s.records > 0,
            not_decrypted: self.dec.reason().map(str::to_string),
            key_source: self.dec.key_source().map(|i| sh.keys.source(i).to_string()),
            client_random: ch.map(|c| super::decrypt::hex(&c.random)),
            handshake_s: match (self.hello_at, self.done_at) {
                (Some(a), Some(b)) if b >= a => Some(b.saturating_sub(a) as f64 / 1e9),
                _ => None,
            },
            client_records: c.records,
            client_bytes: c.bytes,
            server_records: s.records,
            server_bytes: s.bytes,
        }
    }

    /// The protocol the handshake selected (ALPN): the ServerHello's, or for TLS 1.3 the
    /// decrypted EncryptedExtensions'.
    pub fn alpn_selected(&self) -> Option<&str> {
        self.sniffer
            .server_hello()
            .and_then(|s| s.alpn.as_deref())
            .or_else(|| self.dec.alpn_selected())
    }

    /// Bytes of direction `ctx.dir` at stream offset `offset`; decrypted application data is
    /// appended to `plain`.
    pub fn data(
        &mut self,
        sh: &mut TlsShared,
        ctx: &Ctx,
        offset: u64,
        data: &[u8],
        plain: &mut Decrypted,
        out: &mut dyn RecordSink,
    ) {
        let d = ctx.dir.index();
        self.sniffer.feed(d, data);
        if self.hello_at.is_none() && self.sniffer.client_hello().is_some() {
            self.hello_at = Some(ctx.ts);
        }
        if d == 0
            && self.done_at.is_none()
            && self.hello_at.is_some()
            && self.sniffer.app_records(0) > 0
        {
            self.done_at = Some(ctx.ts);
        }
        if self.dec.waiting_for_keys() {
            sh.refresh();
        }
        let mut cx = Context {
            client: self.sniffer.client_hello(),
            server: self.sniffer.server_hello(),
            keys: &mut sh.keys,
        };
        self.dec
            .feed(d, offset, data, &mut cx, &mut |p: Plain<'_>| {
                let start = plain.bytes.len();
                plain.bytes.extend_from_slice(p.bytes);
                plain.spans.push((
                    Dir::from_index(p.dir),
                    p.record,
                    p.plain,
                    start..plain.bytes.len(),
                ));
            });
        self.raise(sh, ctx, offset, out);
    }

    /// `n` bytes of direction `ctx.dir` at `offset` are missing.
    pub fn gap(
        &mut self,
        sh: &mut TlsShared,
        ctx: &Ctx,
        offset: u64,
        n: u64,
        out: &mut dyn RecordSink,
    ) {
        self.sniffer.gap(ctx.dir.index(), n);
        self.dec.gap(ctx.dir.index(), offset, n);
        self.raise(sh, ctx, offset, out);
    }

    /// The stream ended: records still waiting for keys are given up, the run's counters
    /// count the stream.
    pub fn close(&mut self, sh: &mut TlsShared, ctx: &Ctx, out: &mut dyn RecordSink) {
        let mut cx = Context {
            client: self.sniffer.client_hello(),
            server: self.sniffer.server_hello(),
            keys: &mut sh.keys,
        };
        self.dec.close(&mut cx);
        self.raise(sh, ctx, 0, out);
        if self.counted || self.sniffer.client_hello().is_none() {
            return;
        }
        self.counted = true;
        let st = &mut sh.stats;
        st.connections += 1;
        let (c, s) = (self.dec.counts(0), self.dec.counts(1));
        st.records_decrypted += c.records + s.records;
        st.bytes_decrypted += c.bytes + s.bytes;
        if c.records + s.records > 0 {
            st.decrypted += 1;
        } else if let Some(why) = self.dec.reason() {
            *st.not_decrypted.entry(why.to_string()).or_default() += 1;
        }
    }

    /// New notes of the sniffer and of decryption become findings.
    fn raise(&mut self, sh: &TlsShared, ctx: &Ctx, offset: u64, out: &mut dyn RecordSink) {
        self.raised
            .raise(self.sniffer.notes(), [0, 0], ctx, out, |n: &TlsNote| {
                Finding::new(n.code(), n.to_string())
            });
        let notes = self.dec.notes();
        for n in notes.get(self.dec_raised..).unwrap_or_default() {
            let (code, at) = match n {
                DecNote::NoKeys { .. } => (&codes::TLS_NO_KEYS, None),
                DecNote::Failed { dir, offset, .. } => {
                    (&codes::TLS_DECRYPT_FAILED, Some((*dir, *offset)))
                }
                DecNote::Unsupported { .. } => (&codes::TLS_CIPHER_UNSUPPORTED, None),
                DecNote::HandshakeMissing { .. } => (&codes::TLS_HANDSHAKE_MISSING, None),
                DecNote::Gap { dir, offset, .. } => {
                    (&codes::TLS_GAP_ENDS_DECRYPTION, Some((*dir, *offset)))
                }
                DecNote::Alert { dir, offset, .. } => (&codes::TLS_ALERT, Some((*dir, *offset))),
                DecNote::Version { .. } => (&codes::TLS_VERSION_UNSUPPORTED, None),
                DecNote::EarlySkipped { offset } => (&codes::TLS_NO_KEYS, Some((0, *offset))),
            };
            let message = match n {
                DecNote::NoKeys { random, .. } if !sh.any_source() => format!(
                    "TLS application data is not decrypted: no key log was given (client random \
                     {}; give the client's key log with --tls-keylog FILE or SSLKEYLOGFILE, see \
                     docs/tls.md)",
                    super::decrypt::hex(random)
                ),
                n => n.message(),
            };
            let (dir, at) = at.unwrap_or((ctx.dir.index(), offset));
            out.record(Record::Finding(Box::new(
                Finding::new(code, message)
                    .conn(ctx.conn)
                    .at(ctx.packet, ctx.ts)
                    .dir(Dir::from_index(dir), at),
            )));
        }
        self.dec_raised = notes.len();
    }
}
