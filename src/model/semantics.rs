//! What a transaction means beyond its bytes: caching, ranges, cookies, CORS, authentication
//! and redirects (the `semantics` object of `transactions[]`, documented in
//! `docs/json-format.md`). Filled by [`crate::semantics`], a step after the HTTP analyzer that
//! sees every paired transaction of the capture in completion order.
//!
//! Secrets never appear in full: cookie values are the masked forms of the header records,
//! credentials are named by scheme only, a challenge's token68 is masked.

use std::borrow::Cow;

use serde::Serialize;

/// A message that is mostly a fixed sentence and sometimes built.
pub type Text = Cow<'static, str>;

fn is_false(b: &bool) -> bool {
    !*b
}

/// Everything the semantics step found on one transaction; each part only when it applies.
///
/// The parts most transactions lack are boxed: inline they made this (boxed itself, once per
/// transaction) too large for the allocator's fast path, each allocation costing ten times a
/// small one's. Serialized the same (serde sees through a `Box`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct HttpSemantics {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<Box<RangeInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookies: Option<CookieInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors: Option<Box<CorsInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Box<AuthInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<Box<RedirectInfo>>,
}

impl HttpSemantics {
    pub fn is_empty(&self) -> bool {
        self.cache.is_none()
            && self.range.is_none()
            && self.cookies.is_none()
            && self.cors.is_none()
            && self.auth.is_none()
            && self.redirect.is_none()
    }
}

// ---- caching (RFC 9111) ------------------------------------------------------------------

/// One `Cache-Control` directive: the name lowercased, the value unquoted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Directive {
    pub name: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Not a directive RFC 9111 §5.2 (or a registered extension hopscope knows) defines; kept.
    #[serde(skip_serializing_if = "is_false")]
    pub unknown: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CacheInfo {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_directives: Vec<Directive>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_directives: Vec<Directive>,
    /// The request's `Pragma` (RFC 9111 §5.4: `no-cache` when there is no Cache-Control).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pragma: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vary: Vec<String>,
    /// Whether a shared cache may store the response (RFC 9111 §3, §3.5); null without one.
    pub storable: Option<bool>,
    /// Why (or why not), naming the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storable_reason: Option<Text>,
    /// Seconds, for a shared cache (RFC 9111 §4.2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness_lifetime: Option<u64>,
    /// `s-maxage`, `max-age`, `expires`, `heuristic` or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness_source: Option<&'static str>,
    /// Seconds, when the response arrived at the capture point (RFC 9111 §4.2.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_age: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fresh: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditional: Option<Conditional>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
}

/// A conditional request (RFC 9110 §13.1.2, §13.1.3) and the earlier response it refers to.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Conditional {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_none_match: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_modified_since: Option<String>,
    /// The earlier response in the capture whose validator the request carries.
    pub validator_of: Option<u64>,
    /// `etag` or `last-modified`: which validator linked them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_by: Option<&'static str>,
    /// `not-modified` (304), `modified` (2xx: a new representation), `unchanged-but-sent`
    /// (2xx with the very validator the client had), `precondition-failed` (412),
    /// `no-response`, or `other`.
    pub outcome: &'static str,
    /// 304 only: whether it agrees with the validators the client sent and the linked response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

// ---- ranges (RFC 9110 §14) ---------------------------------------------------------------

/// A range as requested: `first-last`, `first-` or `-suffix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ByteRange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<u64>,
}

/// `Content-Range` parsed (RFC 9110 §14.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ContentRange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<u64>,
    /// The representation's length; null for `/*`.
    pub complete_length: Option<u64>,
    /// `bytes */N` (416).
    #[serde(skip_serializing_if = "is_false")]
    pub unsatisfied: bool,
}

/// One part of a `multipart/byteranges` body.
#[derive(Clone, Debug, Serialize)]
pub struct RangePart {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Where the part's bytes start in the body, and how many there are.
    pub offset: u64,
    pub length: u64,
    /// The part's length is its Content-Range's, and the range was requested.
    pub matches: bool,
}

/// A piece of an object assembled from several transactions (a resumed download).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Piece {
    pub transaction: u64,
    pub first: u64,
    pub last: u64,
}

/// The pieces of one URL fetched by one client so far, this transaction's included.
#[derive(Clone, Debug, Serialize)]
pub struct RangeObject {
    pub pieces: Vec<Piece>,
    pub complete_length: Option<u64>,
    /// Distinct bytes the pieces cover.
    pub covered: u64,
    /// Every byte of `complete_length` was delivered.
    pub complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RangeInfo {
    /// `Range` as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<ByteRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_range: Option<String>,
    /// Whether `If-Range` names the validator of the earlier piece (null: nothing to compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_range_matches: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_ranges: Option<String>,
    /// `partial` (206, one range), `multipart` (206 multipart/byteranges), `unsatisfiable`
    /// (416), `ignored` (2xx with the whole representation to a Range request), `full` (the
    /// whole representation, no Range asked), `not-modified`, `other`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_range: Option<ContentRange>,
    /// Bytes the Content-Range announces, and bytes the body delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_bytes: Option<u64>,
    /// Delivered bytes agree with the Content-Range(s), and those with the requested ranges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<RangePart>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<RangeObject>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
}

/// The parts of a `multipart/byteranges` body, found while it streamed by (the body itself is
/// not kept). Filled by the HTTP analyzer, read by the semantics step; not serialized.
#[derive(Clone, Debug, Default)]
pub struct MultipartParts {
    pub parts: Vec<RangePart>,
    /// Parts beyond the bound (not listed).
    pub more: u64,
    /// The close delimiter (`--boundary--`) was seen.
    pub closed: bool,
}

// ---- cookies (RFC 6265bis) ---------------------------------------------------------------

#[derive(Clone, Debug, Default, Serialize)]
pub struct SetCookieInfo {
    pub name: String,
    /// Masked: a prefix of the value and how many bytes are hidden.
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    pub secure: bool,
    pub http_only: bool,
    /// As sent (`Strict`, `Lax`, `None`, or another value browsers treat as absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_site: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub partitioned: bool,
    /// `__Host-` or `__Secure-`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<&'static str>,
    /// Attribute names RFC 6265bis does not define (kept, ignored by user agents).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_attributes: Vec<String>,
    /// The cookie went into the client's jar (per RFC 6265bis §5.7 as a browser applies it).
    pub stored: bool,
    /// Why a user agent ignores it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Text>,
    /// An expiry in the past: it deletes the stored cookie of that name.
    #[serde(skip_serializing_if = "is_false")]
    pub deletes: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SentCookie {
    pub name: String,
    /// Masked.
    pub value: String,
    /// The transaction whose Set-Cookie stored it (null: set before the capture, or by script).
    pub set_by: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NotSentCookie {
    pub name: String,
    pub set_by: Option<u64>,
    /// The likely reason, naming the rule (path, domain, expiry, Secure, SameSite, rejected).
    pub reason: Text,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CookieInfo {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<SetCookieInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sent: Vec<SentCookie>,
    /// Cookies of the client's jar for this host that did not come back, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_sent: Vec<NotSentCookie>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
}

// ---- CORS (Fetch standard) ---------------------------------------------------------------

#[derive(Clone, Debug, Default, Serialize)]
pub struct CorsInfo {
    /// `preflight`, `request` (a cross-origin request checked by the CORS protocol) or
    /// `websocket` (an upgrade: no CORS, the server has to check Origin itself).
    pub kind: &'static str,
    pub origin: String,
    /// `Sec-Fetch-Mode`, when the browser sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Preflights: `Access-Control-Request-Method` and `-Headers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_method: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers: Vec<String>,
    /// `include` (the request carried cookies or credentials, or `Sec-Fetch-Storage-Access`,
    /// which browsers send only in that mode) or `none-seen`.
    pub credentials: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_evidence: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
    pub vary_origin: bool,
    /// Requests: the preflight that cleared it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preflight: Option<u64>,
    /// `allowed` or `blocked` (what the browser does with the response); for WebSocket
    /// upgrades `accepted` or `refused`.
    pub decision: &'static str,
    /// Why it is blocked, in the words of the browser's console where there is one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Text>,
    /// Allowed responses: header names the script cannot read (not CORS-safelisted and not in
    /// Access-Control-Expose-Headers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_exposed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
}

// ---- authentication (RFC 9110 §11, RFC 7617, 7616, 6750) ----------------------------------

#[derive(Clone, Debug, Serialize)]
pub struct AuthParam {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Challenge {
    /// `WWW-Authenticate` or `Proxy-Authenticate`.
    pub header: &'static str,
    pub scheme: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<AuthParam>,
    /// Masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token68: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CredentialsSent {
    /// `Authorization` or `Proxy-Authorization`.
    pub header: &'static str,
    /// The scheme only: the credentials themselves are never shown.
    pub scheme: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct AuthInfo {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub challenges: Vec<Challenge>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsSent>,
    /// The challenge (its transaction) these credentials answer; null when sent unasked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answers: Option<u64>,
    /// `challenged` (a challenge, no credentials), `accepted`, `rejected` (challenged again),
    /// `forbidden` (403: authenticated, not allowed), `no-response`, or `status-N`.
    pub outcome: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
}

// ---- redirects (RFC 9110 §15.4) ----------------------------------------------------------

#[derive(Clone, Debug, Serialize)]
pub struct Hop {
    pub transaction: u64,
    pub method: String,
    pub url: String,
    /// Null when there was no response.
    pub status: Option<u16>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RedirectInfo {
    /// This response's redirect: status, `Location` as sent, and resolved against the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
    /// The chain: its first transaction, this transaction's position (0-based), the previous hop.
    pub chain: u64,
    pub hop: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<u64>,
    /// How the method changed from the previous hop, and whether the status allows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_change: Option<Text>,
    /// The chain came back to a URL it had already visited.
    #[serde(rename = "loop", skip_serializing_if = "is_false")]
    pub is_loop: bool,
    /// Every hop so far, this one included (the first 20).
    pub hops: Vec<Hop>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Text>,
}

// ---- counters ----------------------------------------------------------------------------

/// What the semantics step did, and the bounds it hit (`capture.semantics`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct SemanticsStats {
    pub transactions: u64,
    pub cache: u64,
    pub range: u64,
    pub cookies: u64,
    pub cors: u64,
    pub auth: u64,
    pub redirect: u64,
    /// Entries dropped from a full table (oldest first): per table.
    pub evicted: EvictionStats,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct EvictionStats {
    pub validators: u64,
    pub range_objects: u64,
    pub cookie_jars: u64,
    pub cookies: u64,
    pub preflights: u64,
    pub websocket_servers: u64,
    pub challenges: u64,
    pub redirects: u64,
    pub once: u64,
}
