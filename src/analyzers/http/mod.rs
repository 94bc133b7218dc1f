//! HTTP/1.x on reassembled TCP streams, recognised by content on any port.
//!
//! Layout: [`head`] parses message heads (httparse, with a lenient fallback), [`body`] frames
//! bodies (length, chunked, close), [`content`] undoes `Content-Encoding`, [`message`] decides
//! framing and classifies headers, [`conn`] runs one connection: a parser per direction and the
//! queue that pairs requests with responses, pipelining and 1xx included.

pub mod body;
pub mod conn;
pub mod content;
pub mod decoded;
pub mod head;
pub mod message;

use body::BodyLimits;
use head::HeadLimits;

/// Bounds and switches for the HTTP analyzer.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub head: HeadLimits,
    pub body: BodyLimits,
    /// Requests waiting for their response on one connection (pipelining) before the oldest
    /// is given up as unanswered (its response, when it comes, is reported as an orphan).
    pub max_pending: usize,
    /// Decoded (decompressed) bytes per body before decoding stops (a bomb is an input like any
    /// other).
    pub max_decoded: u64,
    /// Bytes of decoded body kept as a preview in the report; 0 keeps none (`--bodies` sets it).
    pub preview: usize,
    /// Client bytes held while an Upgrade or CONNECT waits for its answer.
    pub max_hold: usize,
    /// Digest each body (the proxy-hop correlation compares them across captures): set by
    /// the pipeline when it reads several captures; off for one.
    pub digest_bodies: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            head: HeadLimits::default(),
            body: BodyLimits::default(),
            max_pending: 256,
            max_decoded: 16 << 20,
            preview: 0,
            max_hold: 256 * 1024,
            digest_bodies: false,
        }
    }
}
