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
    /// The content as sent, digested as it streams by ([`BodyRecord::digest`]; xxHash64, whose
    /// value does not depend on how the bytes were split), when the run asks for it
    /// ([`HttpConfig::digest_bodies`]).
    digest: Option<Box<twox_hash::XxHash64>>,
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
            digest: (cfg.digest_bodies && body)
                .then(|| Box::new(twox_hash::XxHash64::with_seed(0))),
        }
    }

    /// Content bytes as sent (transfer framing already removed).
    pub fn feed(&mut self, b: &[u8]) {
        if let Some(d) = self.digest.as_deref_mut() {
            std::hash::Hasher::write(d, b);
        }
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
            + self
                .digest
                .as_ref()
                .map_or(0, |_| size_of::<twox_hash::XxHash64>())
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
        if state == BodyState::Complete
            && b.missing_bytes == 0
            && let Some(d) = &self.digest
        {
            b.digest = Some(std::hash::Hasher::finish(d.as_ref()));
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
    use super::{Content, HttpConfig};

    /// The digest a body split into `parts` gets (`digest_bodies` on, or off).
    fn of(parts: &[&[u8]], on: bool) -> Option<u64> {
        let cfg = HttpConfig {
            digest_bodies: on,
            ..HttpConfig::default()
        };
        let mut c = Content::new(Vec::new(), &[], &cfg, true);
        for p in parts {
            c.feed(p);
        }
        c.digest.as_deref().map(std::hash::Hasher::finish)
    }

    #[test]
    fn the_digest_does_not_depend_on_the_split_and_tells_bodies_apart() {
        let body: Vec<u8> = (0..100u8).collect();
        let whole = of(&[&body], true);
        assert!(whole.is_some());
        for cut in 0..body.len() {
            let (a, b) = body.split_at(cut);
            assert_eq!(of(&[a, b], true), whole, "{cut}");
        }
        let ones: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(of(&ones, true), whole);
        let mut other = body.clone();
        other[57] ^= 1;
        assert_ne!(of(&[&other], true), whole);
        assert_ne!(of(&[b"abc"], true), of(&[b"abc\0"], true));
        assert_ne!(of(&[], true), of(&[b"\0"], true));
        // One capture: no digest, no cost.
        assert_eq!(of(&[&body], false), None);
    }
}
