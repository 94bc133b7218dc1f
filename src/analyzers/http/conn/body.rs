//! Message bodies on a connection: framing them (length, chunked, close), undoing their
//! content coding, keeping a preview and the parts of a multipart/byteranges response, and,
//! when a body ends, its record and findings and what the connection does next.

use super::switch::refused_switch;
use super::{Em, HttpConn, Phase};
use crate::analyzers::http::HttpConfig;
use crate::analyzers::http::body::{BodyDecoder, BodyEvent, BodyState as DecState, Framing};
use crate::analyzers::http::content::byteranges::MultipartScanner;
use crate::analyzers::http::content::{
    self, Coding, ContentDecoder, ContentOutcome, DeflateVariant, Preview,
};
use crate::analyzers::http::head::Head;
use crate::analyzers::http::message;
use crate::base::Timestamp;
use crate::base::heap;
use crate::model::Dir;
use crate::model::codes::{self, Code};
use crate::model::http::{BodyFraming, BodyRecord, BodyState, HttpStats};

/// A body being framed and decoded.
pub(super) struct BodyRun {
    pub(super) framing: Framing,
    pub(super) dec: BodyDecoder,
    content: Option<ContentDecoder>,
    codings: Vec<String>,
    preview: Option<Preview>,
    /// multipart/byteranges responses: their parts, found as the body streams by.
    pub(super) byteranges: Option<Box<MultipartScanner>>,
    /// The message follows (or contains) a capture gap.
    pub(super) partial: bool,
}

impl BodyRun {
    /// Heap bytes held: the framing decoder, the content decoders (an inflater or a brotli
    /// window each), the preview and the multipart scanner.
    pub(super) fn heap_bytes(&self) -> usize {
        size_of::<Self>()
            + self.content.as_ref().map_or(0, ContentDecoder::heap_bytes)
            + heap::vec(&self.codings)
            + self.codings.iter().map(heap::string).sum::<usize>()
            + self.preview.as_ref().map_or(0, Preview::heap_bytes)
            + self.byteranges.as_ref().map_or(0, |m| m.heap_bytes())
    }

    /// Gives the content decoding up (the memory budget is short): returns the bytes freed
    /// and the codings that were being decoded.
    pub(super) fn shed(&mut self) -> Option<(usize, String)> {
        let freed = self.content.as_mut()?.shed();
        (freed > 0).then(|| (freed, self.codings.join(", ")))
    }
}

/// Findings of a body, raised once its record is filled: (code, message).
type Found = Vec<(&'static Code, String)>;

/// Decoded bytes go to the preview and the multipart scanner.
fn decoded(
    preview: &mut Option<Preview>,
    byteranges: &mut Option<Box<MultipartScanner>>,
    b: &[u8],
) {
    if let Some(p) = preview.as_mut() {
        p.push(b);
    }
    if let Some(s) = byteranges.as_mut() {
        s.feed(b);
    }
}

impl BodyRun {
    /// A response body read until the connection closes (HTTP/0.9: no head).
    pub(super) fn until_close(cfg: &HttpConfig) -> Self {
        let framing = Framing::Close;
        BodyRun {
            framing,
            dec: BodyDecoder::new(framing, cfg.body.clone()),
            content: None,
            codings: Vec::new(),
            preview: (cfg.preview > 0).then(|| Preview::new(cfg.preview)),
            byteranges: None,
            partial: false,
        }
    }

    /// Flushes the content decoder: what it decoded, how that ended, and which deflate it was.
    fn finish_content(&mut self) -> Option<(u64, ContentOutcome, Option<DeflateVariant>)> {
        let c = self.content.as_mut()?;
        let (preview, byteranges) = (&mut self.preview, &mut self.byteranges);
        c.finish(&mut |o| decoded(preview, byteranges, o));
        Some((c.output_len(), c.outcome(), c.deflate_variant()))
    }
}

/// How a body ended, as its record and the connection need it.
struct Ending {
    state: BodyState,
    /// The chunked framing was broken here.
    error: Option<String>,
    /// The connection ended before the framing did.
    incomplete: bool,
    /// A gap the framing could not absorb: the body's end is unknown.
    lost: bool,
}

impl Ending {
    fn of(run: &BodyRun) -> Self {
        let state = match run.dec.state() {
            DecState::Complete if run.partial => BodyState::Partial,
            DecState::Complete | DecState::InProgress => BodyState::Complete,
            DecState::Partial | DecState::Lost => BodyState::Partial,
            DecState::Incomplete => BodyState::Incomplete,
            DecState::Error(_) => BodyState::Error,
        };
        let body_error = match run.dec.state() {
            DecState::Error(e) => Some(e.to_string()),
            _ => None,
        };
        Ending {
            state,
            error: body_error,
            incomplete: matches!(run.dec.state(), DecState::Incomplete),
            lost: matches!(run.dec.state(), DecState::Lost),
        }
    }
}

impl HttpConn {
    pub(super) fn begin_body(
        &mut self,
        d: usize,
        framing: Framing,
        h: &Head,
        body_off: u64,
        after_gap: bool,
        em: &mut Em<'_>,
    ) {
        let codings = message::content_codings(h);
        let content = if codings.is_empty() || framing == Framing::None {
            None
        } else {
            let values: Vec<&[u8]> = h.values("content-encoding").collect();
            let parsed = content::parse_codings(&values);
            Some(ContentDecoder::new(&parsed, em.sh.cfg.max_decoded))
        };
        let preview = (em.sh.cfg.preview > 0 && framing != Framing::None)
            .then(|| Preview::new(em.sh.cfg.preview));
        let run = Box::new(BodyRun {
            framing,
            dec: BodyDecoder::new(framing, em.sh.cfg.body.clone()),
            content,
            codings,
            preview,
            byteranges: None,
            partial: after_gap,
        });
        if run.dec.is_done() {
            self.end_body(d, run, body_off, em);
        } else {
            self.sides[d].phase = Phase::Body(run);
        }
    }

    pub(super) fn body_data(&mut self, d: usize, at: u64, rest: &[u8], em: &mut Em<'_>) -> usize {
        let Phase::Body(run) = &mut self.sides[d].phase else {
            return 0;
        };
        let BodyRun {
            dec,
            content,
            preview,
            byteranges,
            ..
        } = &mut **run;
        let used = dec.feed(rest, &mut |ev| {
            if let BodyEvent::Data(b) = ev {
                match content.as_mut() {
                    Some(c) => c.feed(b, &mut |o| decoded(preview, byteranges, o)),
                    None => decoded(preview, byteranges, b),
                }
            }
        });
        if dec.is_done() {
            let Phase::Body(run) = std::mem::replace(&mut self.sides[d].phase, Phase::Head) else {
                return used;
            };
            self.end_body(d, run, at + used as u64, em);
            // An error at the first byte leaves `used` 0 and the phase Lost: the same bytes are
            // then scanned for the next message.
        }
        used
    }

    /// A body ended (complete, partial, or cut by the connection end): its record and
    /// findings, then what the direction does next.
    pub(super) fn end_body(
        &mut self,
        d: usize,
        mut run: Box<BodyRun>,
        end_off: u64,
        em: &mut Em<'_>,
    ) {
        let ts = em.ctx.ts;
        let content_out = run.finish_content();
        let end = Ending::of(&run);
        // The transaction the message belongs to: the last request, or the response's.
        let idx = if d == 0 {
            self.pending.len().checked_sub(1)
        } else {
            Some(self.resp_cursor)
        };
        let Some(i) = idx else {
            return;
        };
        let Some(t) = self.pending.get_mut(i) else {
            return;
        };
        let dir = Dir::from_index(d);
        let mut findings = framing_findings(&run, &end);
        let decoding = content_out
            .map(|c| decoding_findings(c, &run, end.state, &mut em.sh.stats, &mut findings));
        let msg = if d == 0 {
            t.rec.request.as_mut().map(|r| &mut r.body)
        } else {
            t.rec.response.as_mut().map(|r| &mut r.body)
        };
        if let Some(b) = msg {
            fill_body(b, &mut run, end.state, decoding);
        }
        for (code, m) in findings {
            em.finding(dir, end_off, code, m, Some(t));
        }
        self.message_ended(d, i, &end, end_off, ts, em);
    }

    /// The message of direction `d` is complete: the transaction's side is done, held client
    /// bytes wait for an answer or resume, a broken body sends the direction looking for the
    /// next message, and finished transactions are reported.
    fn message_ended(
        &mut self,
        d: usize,
        txn: usize,
        end: &Ending,
        end_off: u64,
        ts: Timestamp,
        em: &mut Em<'_>,
    ) {
        let Some(t) = self.pending.get_mut(txn) else {
            return;
        };
        let (lost, body_error) = (end.lost, &end.error);
        if d == 0 {
            t.request_done = true;
            t.rec.timing.request_end = Some(ts);
            if t.ask.is_some() && !lost && body_error.is_none() {
                // Later client bytes wait for the answer.
                self.sides[0].phase = Phase::Hold;
                self.sides[0].hold_gap = false;
            }
        } else {
            t.response_done = true;
            t.rec.timing.response_end = Some(ts);
            let resume = t.ask.is_some() && t.rec.switched_to.is_none();
            if resume {
                refused_switch(t, end_off, em);
            }
            self.resp_cursor += 1;
            if resume {
                self.resume_held(em);
            }
        }
        if body_error.is_some() || lost {
            self.sides[d].phase = Phase::Lost;
            self.sides[d].after_gap = lost;
            self.sides[d].at_line_start = false;
        }
        self.flush_done(em);
    }
}

/// Findings of the transfer framing: a broken chunked body, a body the connection cut short.
fn framing_findings(run: &BodyRun, end: &Ending) -> Found {
    let mut findings: Found = Vec::new();
    if let Some(e) = &end.error {
        findings.push((
            &codes::HTTP_CHUNKED_ERROR,
            format!("invalid chunked framing: {e}; the rest of the stream is scanned for the next message"),
        ));
    }
    if end.incomplete {
        if let Framing::Length(n) = run.framing {
            findings.push((
                &codes::HTTP_BODY_TRUNCATED,
                format!(
                    "the connection ended after {} of the {n} body bytes Content-Length \
                     announced",
                    run.dec.wire_len()
                ),
            ));
        } else if run.framing == Framing::Chunked {
            findings.push((
                &codes::HTTP_BODY_TRUNCATED,
                "the connection ended before the last chunk (a chunked body must end with a \
                 zero-size chunk)"
                    .into(),
            ));
        }
    }
    findings
}

/// What content decoding came to: the decoded length and its label for the record; what went
/// wrong goes into `findings`.
fn decoding_findings(
    (len, outcome, variant): (u64, ContentOutcome, Option<DeflateVariant>),
    run: &BodyRun,
    state: BodyState,
    stats: &mut HttpStats,
    findings: &mut Found,
) -> (u64, &'static str) {
    let decoding = match &outcome {
        ContentOutcome::Ok => "complete",
        ContentOutcome::Capped { .. } => "capped",
        ContentOutcome::Shed { .. } => "shed",
        ContentOutcome::Error(_) => "error",
        ContentOutcome::Unsupported(_) | ContentOutcome::TooManyCodings { .. } => "unsupported",
        ContentOutcome::Truncated { .. } => "truncated",
    };
    match outcome {
        ContentOutcome::Capped { at } => {
            stats.decode_capped += 1;
            findings.push((
                &codes::HTTP_DECODED_SIZE_LIMIT,
                format!(
                    "the body decodes ({}) to more than {at} bytes; decoding stopped \
                     there (a possible decompression bomb; the wire length is exact)",
                    run.codings.join(", ")
                ),
            ));
        }
        ContentOutcome::Error(e) => findings.push((
            &codes::HTTP_DECODING_ERROR,
            format!(
                "Content-Encoding {} does not decode: {} at byte {} of layer {}",
                e.coding.name(),
                e.message,
                e.offset,
                e.layer
            ),
        )),
        ContentOutcome::Unsupported(c) => findings.push((
            &codes::HTTP_UNSUPPORTED_ENCODING,
            format!(
                "Content-Encoding {} is not one hopscope decodes; lengths are of the \
                 encoded content",
                c.name()
            ),
        )),
        ContentOutcome::TooManyCodings { count } => findings.push((
            &codes::HTTP_UNSUPPORTED_ENCODING,
            format!("{count} stacked content codings; not decoded"),
        )),
        ContentOutcome::Truncated { coding, .. }
            if state == BodyState::Complete && coding != Coding::Identity =>
        {
            findings.push((
                &codes::HTTP_DECODING_TRUNCATED,
                format!(
                    "the {} stream ends before its end marker although the body is \
                     complete",
                    coding.name()
                ),
            ))
        }
        _ => {}
    }
    if variant == Some(DeflateVariant::Raw) {
        findings.push((
            &codes::HTTP_RAW_DEFLATE,
            "Content-Encoding: deflate carries raw DEFLATE without the zlib wrapper \
             RFC 9110 §8.4.1.2 requires; browsers accept it, strict clients fail"
                .into(),
        ));
    }
    (len, decoding)
}

/// The body record from what the body run saw: state, lengths, chunks and trailers, preview,
/// multipart parts.
fn fill_body(
    b: &mut BodyRecord,
    run: &mut BodyRun,
    state: BodyState,
    decoding: Option<(u64, &'static str)>,
) {
    b.state = state;
    b.wire_length = run.dec.wire_len();
    // Content length as sent: what was seen plus what a gap hid inside the framing.
    b.length = run.dec.decoded_len() + run.dec.missing();
    b.missing_bytes = run.dec.missing();
    b.decoded_length = decoding.map(|d| d.0);
    b.decoding = decoding.map(|d| d.1);
    if run.framing == Framing::Chunked {
        b.chunks = Some(run.dec.chunks());
        b.chunk_extensions = run
            .dec
            .extensions()
            .iter()
            .map(|e| String::from_utf8_lossy(&e.raw).into_owned())
            .collect();
        for (n, v) in run.dec.trailers() {
            b.trailers.push(n, v, None, false);
        }
    }
    if let Some(p) = &run.preview
        && p.total() > 0
    {
        match std::str::from_utf8(p.bytes()) {
            Ok(s) => b.preview = Some(s.to_string()),
            Err(e) if e.error_len().is_none() => {
                // Cut inside a character: keep the valid prefix as text.
                let ok = p.bytes().get(..e.valid_up_to()).unwrap_or_default();
                b.preview = Some(String::from_utf8_lossy(ok).into_owned());
            }
            Err(_) => {
                use base64::Engine as _;
                b.preview_b64 = Some(base64::engine::general_purpose::STANDARD.encode(p.bytes()));
            }
        }
        b.preview_truncated = p.is_truncated();
    }
    if let Some(s) = run.byteranges.take() {
        b.byteranges = Some(Box::new(s.finish()));
    }
}

/// The body record before any body byte: framing and the fields that describe it.
pub(super) fn empty_body(framing: &Framing, h: &Head) -> BodyRecord {
    BodyRecord {
        framing: message::framing_kind(framing),
        content_type: message::content_type(h),
        content_encoding: message::content_codings(h),
        transfer_encoding: message::transfer_codings(h),
        ..empty_body_bare()
    }
}

pub(super) fn empty_body_bare() -> BodyRecord {
    BodyRecord {
        framing: BodyFraming::None,
        state: BodyState::Complete,
        wire_length: 0,
        length: 0,
        decoded_length: None,
        decoding: None,
        content_type: None,
        content_encoding: Vec::new(),
        transfer_encoding: Vec::new(),
        missing_bytes: 0,
        chunks: None,
        chunk_extensions: Vec::new(),
        trailers: Default::default(),
        preview: None,
        preview_b64: None,
        preview_truncated: false,
        byteranges: None,
    }
}
