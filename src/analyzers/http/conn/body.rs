//! Message bodies on a connection: framing them (length, chunked, close), undoing their
//! content coding, keeping a preview and the parts of a multipart/byteranges response, and,
//! when a body ends, its record and findings and what the connection does next.

use super::switch::refused_switch;
use super::{Em, HttpConn, Phase};
use crate::analyzers::http::HttpConfig;
use crate::analyzers::http::body::{BodyDecoder, BodyEvent, BodyState as DecState, Framing};
use crate::analyzers::http::decoded::{Content, Found};
use crate::analyzers::http::head::{Head, Known};
use crate::analyzers::http::message;
use crate::base::Timestamp;
use crate::model::Dir;
use crate::model::codes;
use crate::model::http::{BodyRecord, BodyState};

/// A body being framed and decoded.
pub(super) struct BodyRun {
    pub(super) framing: Framing,
    pub(super) dec: BodyDecoder,
    /// Content-Encoding, preview, multipart parts.
    pub(super) content: Content,
    /// The message follows (or contains) a capture gap.
    pub(super) partial: bool,
}

impl BodyRun {
    /// Heap bytes held: the framing decoder and the content's decoders, preview and scanner.
    pub(super) fn heap_bytes(&self) -> usize {
        size_of::<Self>() + self.content.heap_bytes()
    }

    /// Gives the content decoding up (the memory budget is short): returns the bytes freed
    /// and the codings that were being decoded.
    pub(super) fn shed(&mut self) -> Option<(usize, String)> {
        self.content.shed()
    }

    /// A response body read until the connection closes (HTTP/0.9: no head).
    pub(super) fn until_close(cfg: &HttpConfig) -> Self {
        let framing = Framing::Close;
        BodyRun {
            framing,
            dec: BodyDecoder::new(framing, cfg.body.clone()),
            content: Content::new(Vec::new(), &[], cfg, true),
            partial: false,
        }
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
        let values: Vec<&[u8]> = h.values(Known::ContentEncoding).collect();
        let content = Content::new(
            message::content_codings(h),
            &values,
            &em.sh.cfg,
            framing != Framing::None,
        );
        let mut run = BodyRun {
            framing,
            dec: BodyDecoder::new(framing, em.sh.cfg.body.clone()),
            content,
            partial: after_gap,
        };
        if run.dec.is_done() {
            // No body (most requests): it ends here, and is not boxed for the phase it skips.
            self.end_body(d, &mut run, body_off, em);
        } else {
            self.sides[d].phase = Phase::Body(Box::new(run));
        }
    }

    pub(super) fn body_data(&mut self, d: usize, at: u64, rest: &[u8], em: &mut Em<'_>) -> usize {
        let Phase::Body(run) = &mut self.sides[d].phase else {
            return 0;
        };
        let BodyRun { dec, content, .. } = &mut **run;
        let used = dec.feed(rest, &mut |ev| {
            if let BodyEvent::Data(b) = ev {
                content.feed(b);
            }
        });
        if dec.is_done() {
            let Phase::Body(mut run) = std::mem::replace(&mut self.sides[d].phase, Phase::Head)
            else {
                return used;
            };
            self.end_body(d, &mut run, at + used as u64, em);
            // An error at the first byte leaves `used` 0 and the phase Lost: the same bytes are
            // then scanned for the next message.
        }
        used
    }

    /// A body ended (complete, partial, or cut by the connection end): its record and
    /// findings, then what the direction does next.
    pub(super) fn end_body(&mut self, d: usize, run: &mut BodyRun, end_off: u64, em: &mut Em<'_>) {
        let ts = em.ctx.ts;
        let end = Ending::of(run);
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
        let mut findings = framing_findings(run, &end);
        let msg = if d == 0 {
            t.rec_mut().request.as_mut().map(|r| &mut r.body)
        } else {
            t.rec_mut().response.as_mut().map(|r| &mut r.body)
        };
        if let Some(b) = msg {
            fill_body(b, run, end.state);
            run.content
                .finish(b, end.state, &mut em.sh.stats, &mut findings);
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
            t.rec_mut().timing.request_end = Some(ts);
            if t.ask.is_some() && !lost && body_error.is_none() {
                // Later client bytes wait for the answer.
                self.sides[0].phase = Phase::Hold;
                self.sides[0].hold_gap = false;
            }
        } else {
            t.response_done = true;
            t.rec_mut().timing.response_end = Some(ts);
            let resume = t.ask.is_some() && t.rec().switched_to.is_none();
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

/// The body record's framing part from what the body run saw: state, lengths, chunks and
/// trailers (the content's part is [`Content::finish`]'s).
fn fill_body(b: &mut BodyRecord, run: &BodyRun, state: BodyState) {
    b.state = state;
    b.wire_length = run.dec.wire_len();
    // Content length as sent: what was seen plus what a gap hid inside the framing.
    b.length = run.dec.decoded_len() + run.dec.missing();
    b.missing_bytes = run.dec.missing();
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
}

/// The body record before any body byte: framing and the fields that describe it.
pub(super) fn empty_body(framing: &Framing, h: &Head) -> BodyRecord {
    BodyRecord {
        framing: message::framing_kind(framing),
        content_type: message::content_type(h),
        content_encoding: message::content_codings(h),
        transfer_encoding: message::transfer_codings(h),
        ..BodyRecord::empty()
    }
}
