//! The content of one message body as it streams by, whatever framed it (HTTP/1's length,
//! chunks or close; HTTP/2's DATA frames): `Content-Encoding` undone (at most
//! [`HttpConfig::max_decoded`] bytes), the first bytes kept for `--bodies`, the parts of a
//! `multipart/byteranges` response found; and when the body ends, what its record says and the
//! findings decoding raised. HTTP/1 ([`super::conn`]) and HTTP/2 (`analyzers::h2`) both
//! decode bodies through this one type.

use super::HttpConfig;
use super::content::byteranges::MultipartScanner;
use super::content::{self, Coding, ContentDecoder, ContentOutcome, DeflateVariant, Preview};
use crate::base::heap;
use crate::model::codes::{self, Code};
use crate::model::http::{BodyRecord, BodyState, HttpStats};

/// Findings of a body, raised once its record is filled: (code, message).
pub type Found = Vec<(&'static Code, String)>;

/// One body's content decoding.
pub struct Content {
    decoder: Option<ContentDecoder>,
    /// The codings, lowercase, `identity` left out (as the record lists them).
    codings: Vec<String>,
    preview: Option<Preview>,
    /// `multipart/byteranges` responses: their parts, found as the body streams by.
    pub byteranges: Option<Box<MultipartScanner>>,
    /// The content as sent, digested as it streams by ([`BodyRecord::digest`]).
    digest: Digest,
}

/// A streaming 64-bit digest of bytes (not cryptographic) whose value does not depend on how
/// they were split: 8-byte little-endian words, each rotated in and multiplied, the tail
/// zero-padded, the length last.
#[derive(Clone, Copy, Debug, Default)]
struct Digest {
    h: u64,
    pending: [u8; 8],
    n: usize,
    len: u64,
}

impl Digest {
    fn word(&mut self, w: u64) {
        self.h = (self.h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn push(&mut self, mut b: &[u8]) {
        self.len = self.len.wrapping_add(b.len() as u64);
        if self.n > 0 {
            let k = (8 - self.n).min(b.len());
            let (head, rest) = b.split_at(k);
            if let Some(dst) = self.pending.get_mut(self.n..self.n + k) {
                dst.copy_from_slice(head);
            }
            self.n += k;
            b = rest;
            if self.n < 8 {
                return;
            }
            self.word(u64::from_le_bytes(self.pending));
            self.n = 0;
        }
        let mut words = b.chunks_exact(8);
        for w in &mut words {
            self.word(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        let tail = words.remainder();
        if let Some(dst) = self.pending.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        self.n = tail.len();
    }

    fn value(&self) -> u64 {
        let mut d = *self;
        if d.n > 0 {
            let mut w = [0u8; 8];
            w[..d.n].copy_from_slice(&d.pending[..d.n]);
            d.word(u64::from_le_bytes(w));
        }
        d.word(d.len);
        d.h
    }
}

impl Content {
    /// The content of a body coded with `codings` (as [`super::message::content_codings`]
    /// gives them) from the `Content-Encoding` field values `values` as sent; `body` says
    /// whether the message can have one (nothing is decoded or kept otherwise).
    pub fn new(codings: Vec<String>, values: &[&[u8]], cfg: &HttpConfig, body: bool) -> Self {
        let decoder = (!codings.is_empty() && body)
            .then(|| ContentDecoder::new(&content::parse_codings(values), cfg.max_decoded));
        Content {
            decoder,
            codings,
            preview: (cfg.preview > 0 && body).then(|| Preview::new(cfg.preview)),
            byteranges: None,
            digest: Digest::default(),
        }
    }

    /// Content bytes as sent (transfer framing already removed).
    pub fn feed(&mut self, b: &[u8]) {
        self.digest.push(b);
        let (preview, byteranges) = (&mut self.preview, &mut self.byteranges);
        match self.decoder.as_mut() {
            Some(c) => c.feed(b, &mut |o| decoded(preview, byteranges, o)),
            None => decoded(preview, byteranges, b),
        }
    }

    /// Heap bytes held: the content decoders (an inflater or a brotli window each), the
    /// preview and the multipart scanner.
    pub fn heap_bytes(&self) -> usize {
        self.decoder.as_ref().map_or(0, ContentDecoder::heap_bytes)
            + heap::vec(&self.codings)
            + self.codings.iter().map(heap::string).sum::<usize>()
            + self.preview.as_ref().map_or(0, Preview::heap_bytes)
            + self.byteranges.as_ref().map_or(0, |m| m.heap_bytes())
    }

    /// Gives the content decoding up (the memory budget is short): returns the bytes freed
    /// and the codings that were being decoded.
    pub fn shed(&mut self) -> Option<(usize, String)> {
        let freed = self.decoder.as_mut()?.shed();
        (freed > 0).then(|| (freed, self.codings.join(", ")))
    }

    /// The body ended in `state`: flushes the decoder, fills the record's decoded length,
    /// decoding, preview and multipart parts, and adds what went wrong to `findings`.
    pub fn finish(
        &mut self,
        b: &mut BodyRecord,
        state: BodyState,
        stats: &mut HttpStats,
        findings: &mut Found,
    ) {
        if state == BodyState::Complete && b.missing_bytes == 0 {
            b.digest = Some(self.digest.value());
        }
        if let Some(c) = self.decoder.as_mut() {
            let (preview, byteranges) = (&mut self.preview, &mut self.byteranges);
            c.finish(&mut |o| decoded(preview, byteranges, o));
            let out = (c.output_len(), c.outcome(), c.deflate_variant());
            let (len, label) = decoding_findings(out, &self.codings, state, stats, findings);
            b.decoded_length = Some(len);
            b.decoding = Some(label);
        }
        if let Some(p) = &self.preview
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
                    b.preview_b64 =
                        Some(base64::engine::general_purpose::STANDARD.encode(p.bytes()));
                }
            }
            b.preview_truncated = p.is_truncated();
        }
        if let Some(s) = self.byteranges.take() {
            b.byteranges = Some(Box::new(s.finish()));
        }
    }
}

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

/// What content decoding came to: the decoded length and its label for the record; what went
/// wrong goes into `findings`.
fn decoding_findings(
    (len, outcome, variant): (u64, ContentOutcome, Option<DeflateVariant>),
    codings: &[String],
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
                    codings.join(", ")
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

#[cfg(test)]
mod digest_tests {
    use super::Digest;

    fn of(parts: &[&[u8]]) -> u64 {
        let mut d = Digest::default();
        for p in parts {
            d.push(p);
        }
        d.value()
    }

    #[test]
    fn the_digest_does_not_depend_on_the_split_and_tells_bodies_apart() {
        let body: Vec<u8> = (0..100u8).collect();
        let whole = of(&[&body]);
        for cut in 0..body.len() {
            let (a, b) = body.split_at(cut);
            assert_eq!(of(&[a, b]), whole, "{cut}");
        }
        let ones: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(of(&ones), whole);
        let mut other = body.clone();
        other[57] ^= 1;
        assert_ne!(of(&[&other]), whole);
        // Zero padding is not the same as zeros sent.
        assert_ne!(of(&[b"abc"]), of(&[b"abc\0"]));
        assert_ne!(of(&[]), of(&[b"\0"]));
    }
}
