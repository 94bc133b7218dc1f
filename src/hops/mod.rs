//! Proxy hops: pair each client-side HTTP transaction with the upstream transaction a proxy
//! made for it, diff the two legs, and diagnose what the proxy broke.
//!
//! A separate step over finished transactions, between the analyzers and the report: a proxy
//! receives the upstream response before it relays it, so a front transaction completes after
//! its back transaction, and the back is already in a window of recent transactions (bounded by
//! packet time and count) when the front arrives. A candidate back must start after the front
//! started and finish before it finished, on another connection, with the same method and a
//! compatible target; end-to-end headers that survive proxies (`Sec-WebSocket-Key`, request
//! ids, `User-Agent`, cookies) and proxy evidence (`Via`, `X-Forwarded-For`, `X-Real-IP`,
//! `Forwarded`) add weight. The best candidate above a threshold wins; the evidence and a
//! confidence go with every pairing, and diagnoses are only made from medium or high ones.
//!
//! The proxy need not have one address: when the upstream request comes from another address
//! than the one the client reached (two networks, or the legs captured on two hosts), only
//! evidence that survives the hop ties the legs (a unique id, or a forwarding header naming
//! the client), and `proxy.back_address` names the second address. Legs on two captures
//! compare their times through the captures' clock offset, learnt from the pairs that need no
//! clock ([`clock`], [`Correlator::clock_offsets`]).
//!
//! When two captures share no such evidence (a proxy that adds only `Via`, or nothing), their
//! legs pair by weaker evidence that survives the hop (module `weak`): the method and path (the
//! client's absolute-form target reduced to origin-form, +3), an absolute-form target (+2),
//! the `Via` the proxy put on both the upstream request and the client's response (+4; a `Via`
//! added, +2), forwarding headers naming the client (+3) or `X-Forwarded-Host`/`-Proto` added
//! (+1), the proxy's own or known upstream address (+1), `Host` (+1), `User-Agent` (+2),
//! `Cookie`/`Authorization` (+3), `Accept`/`Referer` (+1), the request body length (+1) and
//! digest (+2), and the response relayed unchanged: status (+1), body length (+1) and digest
//! (+3), `Content-Type` (+1), the origin's `Date` (+2), `ETag` (+3), `Last-Modified` (+2). One of the proxy's signs is
//! required (with the same `ETag`, `Last-Modified` or body on both responses, an upstream
//! request downgraded to HTTP/1.0 or a `Server` the proxy replaced will do, +1 each), a
//! differing status, `ETag`, `Last-Modified` or body of the same coding rules the pair out (a
//! forwarding header naming another address than the front capture's client, only without
//! the same `ETag`, `Last-Modified` or body on both responses: a NAT may stand in front of the
//! proxy; with them it is a sign of the proxy worth no points), and it needs 8
//! points. A candidate waits until
//! no competitor can still arrive and is accepted only as the unique best of both its legs,
//! and only when its offset bounds hold the offset most accepted pairs allow (at least two, or
//! a lone one at the end of the run); the offset learnt from them then times the rest. Across
//! captures a pair timed by the offset alone is made only when it is the unique best: ties
//! (the same URL fetched repeatedly, concurrently) are left unpaired, never guessed.
//!
//! Legs need not speak the same version: an HTTP/2 stream pairs with the HTTP/1.1 request a
//! proxy made for it (or the reverse, or HTTP/2 on both sides) by the same rules, its target
//! being `:path`; `diff` compares them through the translation (pseudo-headers are the request
//! and status lines, `:authority` is `Host`, connection-specific fields and body framing are
//! the version's business) and diagnoses what the proxy got wrong in it. Of an h2c upgrade,
//! HTTP/2 stream 1 (the upgrading request and the response the client got) stands for the
//! exchange, not the `101`.

pub mod clock;
mod diff;
mod fix;
mod weak;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::collections::hash_map::Entry;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::base::Timestamp;
use crate::model::codes::{self, Code};
use crate::model::hops::{Leg, MessageDiff, ProxyHopRecord, ProxyInfo, Relay};
use crate::model::http::{
    BodyFraming, BodyRecord, BodyState, Headers, ResetRecord, TransactionRecord,
};
use crate::model::websocket::WebSocketRecord;
use crate::model::{Dir, Endpoint, Finding, Record, RecordSink};
pub use clock::{ClockEstimate, HopTimes};

/// How far apart (packet time) a front and its back may start.
const MAX_LAG_NS: i64 = 60 * 1_000_000_000;
/// Transactions kept as candidate backs.
const MAX_WINDOW: usize = 4096;
/// Unpaired transactions to a known or likely proxy kept until the end.
const MAX_WAITING: usize = 10_000;
/// Slack for timestamps taken on different interfaces.
const SLACK_NS: i64 = 2_000_000;

/// Across captures from different hosts, how far apart their clocks may be before an
/// offset is known (legs pair then only by evidence that needs no clock).
const MAX_SKEW_NS: i64 = 10 * 1_000_000_000;
/// Pairs of two captures an offset is estimated from (the first ones; then it is fixed).
const MAX_CLOCK_PAIRS: usize = 1024;
/// Pairs that must agree on an offset (and be most of those seen) before it times others.
const MIN_CLOCK_SUPPORT: u32 = 2;

const HIGH: u32 = 10;
const MEDIUM: u32 = 6;
const LOW: u32 = 4;

/// What the correlator keeps of a transaction.
#[derive(Clone, Debug)]
pub(crate) struct Snap {
    pub id: u64,
    pub conn: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    /// The method (the common ones borrowed, not copied: [`method_of`]).
    pub method: Cow<'static, str>,
    pub target: String,
    /// Where the path and query start in `target` (absolute-form reduced to origin-form, no
    /// copy); `None`: `/` (an absolute-form target without a path). See [`Snap::path`].
    pub path_at: Option<usize>,
    pub version: Cow<'static, str>,
    pub req: Headers,
    pub req_framing: BodyFraming,
    pub req_len: u64,
    pub status: Option<u16>,
    pub resp_version: Option<Cow<'static, str>>,
    pub resp: Option<Headers>,
    pub resp_framing: Option<BodyFraming>,
    pub resp_len: Option<u64>,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub switched: Option<String>,
    /// The hop this transaction is the client leg of (for chains of proxies).
    pub hop: Option<u64>,
    /// HTTP/2: the stream id.
    pub stream: Option<u32>,
    /// HTTP/2: the `:authority` pseudo-header (what `Host` is in HTTP/1.1).
    pub authority: Option<String>,
    pub req_body: BodyFacts,
    pub resp_body: Option<BodyFacts>,
    /// HTTP/2: the stream's RST_STREAM, when there was one.
    pub reset: Option<ResetRecord>,
    /// Also in the list of unpaired transactions to a proxy (`Correlator::waiting`).
    pub queued: bool,
    /// The capture file it came from, when several are merged (their clocks may differ).
    pub file: Option<u32>,
}

/// What the body-length comparison needs of a body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BodyFacts {
    /// All of it was seen (no gap, not cut short, framing intact).
    pub complete: bool,
    /// `Content-Encoding` as sent, lowercase, comma-joined (empty: none).
    pub coding: String,
    /// The length after content decoding, when the content was decoded.
    pub decoded: Option<u64>,
    /// A digest of the content as sent, when all of it was seen.
    pub digest: Option<u64>,
}

impl BodyFacts {
    /// Writes `b`'s facts over `self`, in the room its `coding` already has.
    fn fill(&mut self, b: &BodyRecord) {
        self.complete = b.state == BodyState::Complete;
        self.coding.clear();
        for (i, c) in b.content_encoding.iter().enumerate() {
            if i > 0 {
                self.coding.push(',');
            }
            self.coding.push_str(c);
        }
        self.coding.make_ascii_lowercase();
        self.decoded = b.decoded_length.filter(|_| b.decoding == Some("complete"));
        self.digest = b.digest.filter(|_| b.state == BodyState::Complete);
    }
}

/// `dst` becomes a copy of `src` in the room `dst` already has (a recycled snap's: no
/// allocation), unless that room, as `room` measures it, is more than an eighth over what `src`
/// needs and [`SPARE_SLACK`] more: a snap does not keep the room of the largest transaction it
/// ever held. The bound is a trade (full benchmark file, NDJSON; correlation instructions a
/// packet on the 10 % prefix, peak RSS with one and two threads): twice and 1 KiB 159, 60.4 and
/// 69.8 MB; a quarter and 128 bytes 218, 58.3 and 67.8 MB; an eighth and 32 bytes 241, 57.3
/// and 66.5 MB (cloned snaps, before: 296).
fn copy_into<T: Clone>(dst: &mut T, src: &T, room: fn(&T) -> usize) {
    if room(dst) > room(src) + room(src) / 8 + SPARE_SLACK {
        *dst = src.clone();
    } else {
        dst.clone_from(src);
    }
}

/// [`copy_into`] for an optional `src` (`None` drops `dst`'s room).
fn copy_opt<T: Clone>(dst: &mut Option<T>, src: Option<&T>, room: fn(&T) -> usize) {
    match (dst.as_mut(), src) {
        (Some(d), Some(s)) => copy_into(d, s, room),
        (_, s) => *dst = s.cloned(),
    }
}

impl Snap {
    /// A snap of nothing yet, for [`Snap::fill`], with room for a common transaction (the
    /// window's snaps are recycled: room made once serves many).
    fn blank() -> Snap {
        let nowhere = Endpoint {
            ip: std::net::Ipv4Addr::UNSPECIFIED.into(),
            port: 0,
        };
        Snap {
            id: 0,
            conn: 0,
            client: nowhere,
            server: nowhere,
            method: Cow::Borrowed(""),
            target: String::with_capacity(ROOM_TARGET),
            path_at: None,
            version: Cow::Borrowed(""),
            req: Headers::with_capacity(ROOM_FIELDS, ROOM_BYTES),
            req_framing: BodyFraming::None,
            req_len: 0,
            status: None,
            resp_version: None,
            resp: Some(Headers::with_capacity(ROOM_FIELDS, ROOM_BYTES)),
            resp_framing: None,
            resp_len: None,
            start: Timestamp(0),
            end: None,
            switched: None,
            hop: None,
            stream: None,
            authority: None,
            req_body: BodyFacts::default(),
            resp_body: None,
            reset: None,
            queued: false,
            file: None,
        }
    }

    /// Writes what the correlator keeps of `t` over `self` (every field), in the room its
    /// strings and header lists already have: a snap recycled from the window
    /// ([`Window::spare`]) takes no allocation. False (and `self` unspecified) when `t` is not
    /// one the correlator keeps.
    fn fill(&mut self, t: &TransactionRecord) -> bool {
        // An h2c upgrade is two transactions: the `101` (HTTP/1.1) and HTTP/2 stream 1, whose
        // request is a copy of the upgrading one (as sent, `HTTP/1.1`) and whose response is the
        // one the client got. Stream 1 stands for the exchange: it ends when the answer does,
        // as a proxy's front leg must (the `101` ends before the proxy's upstream request could),
        // and it holds the response to compare.
        if t.switched_to.as_ref().is_some_and(|s| s.protocol == "h2c") {
            return false;
        }
        let (Some(r), Some(start)) = (t.request.as_ref(), t.timing.request_start) else {
            return false;
        };
        let resp = t.response.as_ref();
        self.id = t.id;
        self.conn = t.connection;
        self.client = t.client;
        self.server = t.server;
        self.method = method_of(&r.method);
        copy_into(&mut self.target, &r.target, String::capacity);
        self.path_at = origin_at(&r.target);
        self.version = r.version.clone();
        copy_into(&mut self.req, &r.headers, Headers::heap_bytes);
        self.req_framing = r.body.framing;
        self.req_len = r.body.length;
        self.status = resp.map(|x| x.status);
        self.resp_version = resp.map(|x| x.version.clone());
        copy_opt(
            &mut self.resp,
            resp.map(|x| &x.headers),
            Headers::heap_bytes,
        );
        self.resp_framing = resp.map(|x| x.body.framing);
        self.resp_len = resp.map(|x| x.body.length);
        self.start = start;
        self.end = t.timing.response_end;
        copy_opt(
            &mut self.switched,
            t.switched_to.as_ref().map(|s| &s.protocol),
            String::capacity,
        );
        self.hop = None;
        self.stream = t.stream_id;
        copy_opt(&mut self.authority, r.authority.as_ref(), String::capacity);
        self.req_body.fill(&r.body);
        match (self.resp_body.as_mut(), resp) {
            (Some(facts), Some(x)) => facts.fill(&x.body),
            (_, Some(x)) => {
                let mut facts = BodyFacts::default();
                facts.fill(&x.body);
                self.resp_body = Some(facts);
            }
            (_, None) => self.resp_body = None,
        }
        self.reset = t.reset;
        self.queued = false;
        self.file = None;
        true
    }

    /// Path and query, absolute-form reduced to origin-form.
    pub fn path(&self) -> &str {
        match self.path_at {
            Some(i) => self.target.get(i..).unwrap_or_default(),
            None => "/",
        }
    }

    /// The request went as HTTP/2 (the copy of an h2c upgrading request went as HTTP/1.1).
    pub fn h2_request(&self) -> bool {
        self.version == "HTTP/2"
    }

    pub fn h2_response(&self) -> bool {
        self.resp_version.as_deref() == Some("HTTP/2")
    }

    /// An upgrade the client needs: one the proxy must forward or answer (WebSocket, ...). An
    /// h2c upgrade is optional (RFC 7540 §3.2: a server that does not speak HTTP/2 answers as
    /// if there were no `Upgrade`, and RFC 9113 deprecates it): a proxy that ends it, answers
    /// it itself or ignores it broke nothing.
    pub fn needs_upgrade(&self) -> Option<String> {
        self.asked_upgrade().filter(|p| p != "h2c")
    }

    /// Whether [`Snap::needs_upgrade`] names one (without making the name).
    pub fn needs_any_upgrade(&self) -> bool {
        self.req.get("upgrade").is_some_and(|v| {
            !String::from_utf8_lossy(v)
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("h2c")
        })
    }

    /// Whether the request asked for an upgrade (what [`Snap::asked_upgrade`] names).
    pub fn asks_upgrade(&self) -> bool {
        self.req.get("upgrade").is_some()
    }

    pub fn asked_upgrade(&self) -> Option<String> {
        self.req.get("upgrade").map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }

    fn req_text(&self, name: &str) -> Option<String> {
        self.req
            .get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// The method as the correlator keeps it: the common ones are static strings (no allocation
/// per transaction).
fn method_of(m: &str) -> Cow<'static, str> {
    const COMMON: &[&str] = &[
        "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    match COMMON.iter().find(|c| **c == m) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(m.to_string()),
    }
}

/// `http://host:port/p?q` → `/p?q`; origin-form stays.
#[cfg(test)]
fn origin_form(t: &str) -> String {
    match origin_at(t) {
        Some(i) => t.get(i..).unwrap_or_default().to_string(),
        None => "/".into(),
    }
}

/// Where the origin-form of target `t` starts in it: `http://host:port/p?q` → the offset of
/// `/p?q`; 0 for a target in origin-form (or any other); `None` when it is `/` without being
/// in `t` (`http://host`).
fn origin_at(t: &str) -> Option<usize> {
    let scheme = |p: &str| {
        t.as_bytes()
            .get(..p.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()))
    };
    let skip = if scheme("http://") {
        7
    } else if scheme("https://") {
        8
    } else {
        return Some(0);
    };
    let rest = t.get(skip..)?;
    rest.bytes().position(|c| c == b'/').map(|i| skip + i)
}

/// Headers whose equal values on both legs tie them together, with weights.
const TIES: &[(&str, u32, &str)] = &[
    ("sec-websocket-key", 8, "same Sec-WebSocket-Key"),
    ("x-request-id", 8, "same X-Request-Id"),
    ("traceparent", 8, "same traceparent"),
    ("x-amzn-trace-id", 6, "same X-Amzn-Trace-Id"),
    ("x-correlation-id", 6, "same X-Correlation-Id"),
    ("cookie", 3, "same Cookie"),
    ("authorization", 3, "same Authorization"),
    ("user-agent", 2, "same User-Agent"),
    ("referer", 1, "same Referer"),
    ("accept", 1, "same Accept"),
];

/// How `b`'s times compare with `f`'s: the offset to add to `b`'s (on another capture's
/// clock), with the slack that goes with it, and whether the offset is known (when not, only
/// evidence that needs no clock pairs the legs, within [`MAX_SKEW_NS`]).
#[derive(Clone, Copy, Debug)]
struct Clock {
    offset: i64,
    slack: i64,
    known: bool,
    /// The back's client address is one the front's proxy was seen sending from.
    back_known: bool,
}

impl Clock {
    /// One capture, one clock.
    const SAME: Clock = Clock {
        offset: 0,
        slack: SLACK_NS,
        known: true,
        back_known: false,
    };

    fn describe(&self) -> String {
        if self.known {
            format!(
                "the legs are on two captures: the upstream leg's times shifted by {:+.6} s \
                 (± {:.6} s) onto the client leg's clock",
                self.offset as f64 / 1e9,
                (self.slack - SLACK_NS) as f64 / 1e9
            )
        } else {
            "the legs are on two captures whose clock offset is not known yet: paired by \
             evidence that needs no clock"
                .into()
        }
    }
}

/// The upstream request's `name` (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`) names the
/// client's address as the client leg saw it.
fn names_client(f: &Snap, b: &Snap, name: &str) -> bool {
    let ip = f.client.ip.to_string();
    b.req.values(name).any(|v| {
        String::from_utf8_lossy(v)
            .split([',', ';', ' '])
            .map(|p| {
                let p = p.trim();
                let p = p.strip_prefix("for=").unwrap_or(p).trim_matches('"');
                // `[2001:db8::1]:4711`, `192.0.2.1:4711`.
                let p = p
                    .strip_prefix('[')
                    .map_or(p, |x| x.split(']').next().unwrap_or(x));
                match p.rsplit_once(':') {
                    Some((h, port))
                        if !h.contains(':') && port.bytes().all(|c| c.is_ascii_digit()) =>
                    {
                        h
                    }
                    _ => p,
                }
            })
            .any(|p| p.eq_ignore_ascii_case(&ip))
    })
}

/// Evidence that pairs legs without comparing their times: a unique id on both (request id,
/// trace context, WebSocket key), or a forwarding header naming the client with the same
/// target and `User-Agent`; and something that says which leg is the client's (for the
/// unique ids, a field the proxy added, an absolute-form target, or the legs' capture order).
fn clock_free(f: &Snap, b: &Snap) -> bool {
    let same = |n: &str| f.req.get(n).is_some_and(|a| b.req.get(n) == Some(a));
    let forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|n| names_client(f, b, n));
    if forwarded && f.path() == b.path() && same("user-agent") {
        return true;
    }
    let unique = TIES.iter().any(|(n, w, _)| *w >= 6 && same(n));
    unique && directed(f, b)
}

/// Something says `f` is the client leg and `b` the upstream one: a forwarding header naming
/// `f`'s client, a `Via` the proxy added, an absolute-form target on the client leg, or the
/// legs' captures in that order (`report FRONT BACK`).
fn directed(f: &Snap, b: &Snap) -> bool {
    ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|n| names_client(f, b, n))
        || (b.req.get("via").is_some() && f.req.get("via") != b.req.get("via"))
        || f.path() != f.target
        || f.file < b.file
}

/// `b`'s path is `f`'s with a prefix removed or added at a segment boundary (`/api/x` and
/// `/x`): a proxy that rewrites the target.
fn rewritten(f: &str, b: &str) -> bool {
    let strip = |long: &str, short: &str| {
        short.len() > 1
            && short.starts_with('/')
            && long.len() > short.len()
            && long.ends_with(short)
    };
    strip(f, b) || strip(b, f)
}

/// Scores `b` as the upstream transaction of `f`; `None` when it cannot be. With `ev`, each
/// clue is written down (only for the winner: formatting is most of the cost).
fn score(f: &Snap, b: &Snap, clock: Clock, mut ev: Option<&mut Vec<String>>) -> Option<u32> {
    // A proxy forwards to another server; two requests to one server are two clients.
    if b.conn == f.conn || b.server == f.server || b.method != f.method {
        return None;
    }
    // The back's times on the front's clock.
    let (bs, slack) = (b.start.0.saturating_add(clock.offset), clock.slack);
    if bs.saturating_add(slack) < f.start.0 || bs.saturating_sub(f.start.0) > MAX_LAG_NS {
        return None;
    }
    if let (Some(fe), Some(be)) = (f.end, b.end)
        && be.0.saturating_add(clock.offset) > fe.0.saturating_add(slack)
    {
        return None;
    }
    if !clock.known && !clock_free(f, b) {
        return None;
    }
    // Across captures, times within the offset's uncertainty may fit either way round: the
    // client leg must be told from the upstream one by more than a symmetric id.
    if f.file.is_some()
        && b.file.is_some()
        && f.file != b.file
        && !directed(f, b)
        && !clock.back_known
    {
        return None;
    }
    let mut note = |why: &dyn Fn() -> String| {
        if let Some(ev) = ev.as_deref_mut() {
            ev.push(why());
        }
    };
    let mut s = 0;
    // Evidence that links these two legs in particular (not just the same resource).
    let mut link = false;
    if b.path() == f.path() {
        s += 3;
        note(&|| format!("same target {} (+3)", b.path()));
    } else if rewritten(f.path(), b.path()) {
        s += 1;
        note(&|| format!("target {} rewritten to {} (+1)", f.path(), b.path()));
    } else {
        return None;
    }
    if f.target
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
    {
        s += 2;
        note(&|| "absolute-form target: the front leg goes to a forward proxy (+2)".into());
    }
    // Evidence that survives a hop whatever the proxy's addresses: a unique id, or the
    // client named by a forwarding header.
    let mut strong = false;
    for (name, w, why) in TIES {
        if let (Some(a), Some(c)) = (f.req.get(name), b.req.get(name))
            && a == c
        {
            s += w;
            note(&|| format!("{why} (+{w})"));
            // Request ids and WebSocket keys are unique; User-Agent or Accept are not.
            strong |= *w >= 6;
        }
    }
    for (name, w) in [("x-real-ip", 3), ("x-forwarded-for", 3), ("forwarded", 3)] {
        if names_client(f, b, name) {
            s += w;
            strong = true;
            note(&|| format!("upstream {name} names the client {} (+{w})", f.client.ip));
        }
    }
    link |= strong;
    if b.req.get("via").is_some() && f.req.get("via") != b.req.get("via") {
        s += 2;
        link = true;
        note(&|| "upstream request carries a Via the proxy added (+2)".into());
    }
    if b.client.ip == f.server.ip {
        s += 1;
        link = true;
        note(&|| "the upstream request comes from the proxy's address (+1)".into());
    } else if !strong && !clock.back_known {
        // A proxy with another address upstream (or a capture on another host): a Via or the
        // same resource is what unrelated requests share too, unless the upstream address is
        // one this proxy was already seen sending from (by a pair with strong evidence).
        return None;
    } else {
        if clock.back_known {
            s += 1;
            link = true;
        }
        let w = u32::from(clock.back_known);
        note(&|| {
            format!(
                "the upstream request comes from {}, another address of the proxy (+{w})",
                b.client.ip
            )
        });
    }
    if clock.offset != 0 || clock.slack != SLACK_NS {
        note(&|| clock.describe());
    }
    if f.req_len == b.req_len && f.req_len > 0 {
        s += 1;
        note(&|| format!("same request body length {} (+1)", f.req_len));
    }
    // Something must tie the legs beyond what any two requests for one resource share.
    if !link {
        return None;
    }
    if let (Some(a), Some(c)) = (f.status, b.status)
        && a == c
    {
        s += 1;
        note(&|| format!("same status {a} (+1)"));
    }
    if let (Some(a), Some(c)) = (f.resp_len, b.resp_len)
        && a == c
        && a > 0
    {
        s += 1;
        note(&|| format!("same response body length {a} (+1)"));
    }
    Some(s)
}

/// Across captures, a pair that only the clock offset times (no evidence that needs no
/// clock): when another candidate scores as much, picking one would be a guess.
fn guess(f: &Snap, b: &Snap) -> bool {
    f.file.is_some() && b.file.is_some() && f.file != b.file && !clock_free(f, b)
}

/// The best of `(sequence, score, guess)` candidates, ties to the oldest (the lowest
/// sequence), as in one capture; `None` when the best score is tied and one of the tied
/// candidates is a [`guess`] (left unpaired: another leg may take one of them, or the tie
/// stays).
fn choose(cands: impl Iterator<Item = (u64, u32, bool)>) -> Option<(u64, u32)> {
    let mut top: Option<(u64, u32, bool)> = None;
    let mut tied = false;
    for (q, s, g) in cands {
        match top {
            Some((tq, ts, tg)) if s == ts => {
                tied = true;
                top = Some((tq.min(q), s, tg || g));
            }
            Some((_, ts, _)) if s < ts => {}
            _ => {
                top = Some((q, s, g));
                tied = false;
            }
        }
    }
    let (q, s, g) = top?;
    (!(tied && g)).then_some((q, s))
}

fn confidence(s: u32) -> &'static str {
    if s >= HIGH {
        "high"
    } else if s >= MEDIUM {
        "medium"
    } else {
        "low"
    }
}

/// Stats of a WebSocket conversation for the relay check.
#[derive(Clone, Copy, Debug)]
struct WsStats {
    id: u64,
    msgs: [u64; 2],
    bytes: [u64; 2],
    frames: [u64; 2],
}

/// Recent transactions, candidate backs, indexed by origin-form path so that finding the
/// candidates of a front does not scan the window.
#[derive(Default)]
struct Window {
    /// Sequence number of `slots[0]`.
    base: u64,
    slots: VecDeque<Slot>,
    /// By the hash of the path's last segment ([`weak::tail_hash`]; no copy of the path per
    /// snap): a collision only adds candidates, and those whose tail differs are skipped.
    by_tail: FxHashMap<u64, Seqs>,
    live: usize,
    bytes: usize,
    /// Snaps that left the window, kept for the next transactions to be written over
    /// ([`Snap::fill`]) with the room their strings and header lists have: a transaction's
    /// snap then takes no allocation (at most [`MAX_SPARE`]).
    #[allow(clippy::vec_box)]
    // boxed as in the slots: a snap moves between them, not its 568 bytes
    spare: Vec<Box<Snap>>,
}

/// One place of the window.
struct Slot {
    /// `None` once paired (taken) or evicted. Boxed: a snap is 568 bytes, and a slot's room
    /// is touched as the ring wraps whether a snap is in it or not (with snaps in place the
    /// ring was 4.6 MB of the peak heap on the 50 % prefix).
    snap: Option<Box<Snap>>,
    /// The path's tail hash ([`weak::tail_hash`]) and [`Window::cost`], kept beside the snap:
    /// worked out once per snap, not again when it leaves.
    tail: u64,
    cost: usize,
}

/// Snaps kept for reuse: the window evicts about one per transaction once full.
const MAX_SPARE: usize = 8;
/// The room a new snap has for its target, and for each header list's fields and bytes: a
/// common head's, so that filling a recycled snap seldom grows it.
const ROOM_TARGET: usize = 128;
const ROOM_FIELDS: usize = 16;
const ROOM_BYTES: usize = 512;
/// Room a recycled snap's string or header list may keep beyond an eighth over what it holds
/// ([`copy_into`]).
const SPARE_SLACK: usize = 32;

impl Window {
    fn cost(s: &Snap) -> usize {
        std::mem::size_of::<Snap>()
            + s.req.heap_bytes()
            + s.resp.as_ref().map_or(0, Headers::heap_bytes)
            + 2 * s.path().len()
            + s.target.capacity()
            + s.method.len()
            + s.authority.as_ref().map_or(0, String::capacity)
            + s.req_body.coding.capacity()
            + s.resp_body.as_ref().map_or(0, |b| b.coding.capacity())
    }

    /// A snap to fill ([`Snap::fill`]): a spare one if there is one.
    fn blank(&mut self) -> Box<Snap> {
        self.spare.pop().unwrap_or_else(|| Box::new(Snap::blank()))
    }

    /// Keeps `s` (out of the window) for reuse, if there is room for it.
    fn recycle(&mut self, s: Box<Snap>) {
        if self.spare.len() < MAX_SPARE {
            self.spare.push(s);
        }
    }

    /// The sequence number the next snap pushed gets.
    fn next_seq(&self) -> u64 {
        self.base + self.slots.len() as u64
    }

    /// Appends `s`, whose path's tail hash is `tail` ([`weak::tail_hash`]).
    fn push(&mut self, s: Box<Snap>, tail: u64) {
        let seq = self.next_seq();
        match self.by_tail.entry(tail) {
            Entry::Occupied(mut e) => e.get_mut().push_back(seq),
            Entry::Vacant(e) => {
                e.insert(Seqs::One(seq));
            }
        }
        let cost = Self::cost(&s);
        self.live += 1;
        self.bytes += cost;
        self.slots.push_back(Slot {
            snap: Some(s),
            tail,
            cost,
        });
    }

    fn slot(&self, seq: u64) -> Option<&Slot> {
        self.slots
            .get(usize::try_from(seq.checked_sub(self.base)?).ok()?)
    }

    fn get(&self, seq: u64) -> Option<&Snap> {
        self.slot(seq)?.snap.as_deref()
    }

    /// The snaps held, oldest first.
    fn snaps_mut(&mut self) -> impl Iterator<Item = &mut Snap> {
        self.slots.iter_mut().filter_map(|x| x.snap.as_deref_mut())
    }

    /// Sets the hop of `s`'s copy in the window, if it is still there.
    fn mark(&mut self, s: &Snap, hop: u64) {
        let seqs: Vec<u64> = self
            .same_tail(weak::tail_hash(s.path()))
            .map(|q| q.iter().collect())
            .unwrap_or_default();
        for q in seqs {
            if let Some(x) = self.get_mut(q)
                && x.id == s.id
                && x.conn == s.conn
            {
                x.hop = Some(hop);
            }
        }
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut Snap> {
        let i = seq.checked_sub(self.base)?;
        self.slots
            .get_mut(usize::try_from(i).ok()?)?
            .snap
            .as_deref_mut()
    }

    /// Removes the snap at `seq` (paired, or evicted by the caller).
    fn take(&mut self, seq: u64) -> Option<Box<Snap>> {
        let i = self.unlink(seq)?;
        let s = self.slots.get_mut(i).and_then(|x| x.snap.take());
        self.compact();
        s
    }

    /// Drops the snap at `seq` (too old, or over the window's bounds), keeping it for reuse.
    fn evict(&mut self, seq: u64) {
        if let Some(s) = self.take(seq) {
            self.recycle(s);
        }
    }

    /// Takes the snap at `seq` out of the path index and the counts (it stays in its slot);
    /// returns the slot.
    fn unlink(&mut self, seq: u64) -> Option<usize> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        let x = self.slots.get(i)?;
        x.snap.as_ref()?;
        let (h, cost) = (x.tail, x.cost);
        if let Entry::Occupied(mut e) = self.by_tail.entry(h)
            && e.get_mut().remove(seq)
        {
            e.remove();
        }
        self.live -= 1;
        self.bytes -= cost;
        Some(i)
    }

    /// Drops the emptied slots at the front.
    fn compact(&mut self) {
        while self.slots.front().is_some_and(|x| x.snap.is_none()) {
            self.slots.pop_front();
            self.base += 1;
        }
    }

    /// The oldest snap still held.
    fn front(&self) -> Option<(u64, &Snap)> {
        self.slots
            .iter()
            .enumerate()
            .find_map(|(i, x)| x.snap.as_deref().map(|s| (self.base + i as u64, s)))
    }

    /// Candidate backs of `f`, newest first: the snaps whose path ends in the same segment
    /// (the same path, or one a proxy rewrote by adding or removing a prefix; `key` is `f`'s).
    /// Snaps arrive as transactions finish, so going back in the window goes back in end
    /// time: the walk stops at the first one that ended before `f` started (no back can), and
    /// after [`MAX_CANDIDATES`].
    fn candidates<'a>(
        &'a self,
        f: &'a Snap,
        key: TailKey<'a>,
    ) -> impl Iterator<Item = (u64, &'a Snap)> + 'a {
        self.tail_mates(key)
            .take_while(move |(_, s)| alive(f, s))
            .take(MAX_CANDIDATES)
    }

    /// The queue of the snaps whose path may end in the same segment as a path whose tail
    /// hash is `tail` ([`weak::tail_hash`]).
    fn same_tail(&self, tail: u64) -> Option<&Seqs> {
        self.by_tail.get(&tail)
    }

    /// The snaps whose path ends in the segment `key` names, newest first.
    fn tail_mates<'a>(&'a self, key: TailKey<'a>) -> impl Iterator<Item = (u64, &'a Snap)> + 'a {
        self.same_tail(key.hash)
            .into_iter()
            .flat_map(Seqs::iter_rev)
            .filter_map(|q| self.get(q).map(|s| (q, s)))
            .filter(move |(_, s)| tail(s.path()) == key.text)
    }
}

/// The window's sequence numbers of one path tail, oldest first; a path in the window once
/// (most are) needs no queue of its own.
enum Seqs {
    One(u64),
    Many(VecDeque<u64>),
}

impl Seqs {
    fn push_back(&mut self, seq: u64) {
        match self {
            Seqs::One(a) => *self = Seqs::Many(VecDeque::from([*a, seq])),
            Seqs::Many(q) => q.push_back(seq),
        }
    }

    fn len(&self) -> usize {
        match self {
            Seqs::One(_) => 1,
            Seqs::Many(q) => q.len(),
        }
    }

    /// Removes `seq`; true when none is left. Sequence numbers are queued in order and the
    /// window evicts its oldest: the one taken is usually the first (no scan of a long queue).
    fn remove(&mut self, seq: u64) -> bool {
        match self {
            Seqs::One(a) => *a == seq,
            Seqs::Many(q) => {
                if q.front() == Some(&seq) {
                    q.pop_front();
                } else {
                    q.retain(|x| *x != seq);
                }
                q.is_empty()
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let (one, many) = match self {
            Seqs::One(a) => (Some(*a), None),
            Seqs::Many(q) => (None, Some(q.iter().copied())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    fn iter_rev(&self) -> impl Iterator<Item = u64> + '_ {
        let (one, many) = match self {
            Seqs::One(a) => (Some(*a), None),
            Seqs::Many(q) => (None, Some(q.iter().rev().copied())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// A path's last segment ([`tail`]) and its hash ([`weak::tail_hash`]): what the window
/// indexes snaps by, worked out once for a new snap.
#[derive(Clone, Copy)]
struct TailKey<'a> {
    text: &'a str,
    hash: u64,
}

impl<'a> TailKey<'a> {
    fn of(path: &'a str) -> TailKey<'a> {
        let text = tail(path);
        TailKey {
            text,
            hash: weak::hash_tail(text),
        }
    }
}

/// The last segment of a path (with the query): what a prefix rewrite keeps.
fn tail(path: &str) -> &str {
    // A byte search: `rfind(char)`'s searcher costs more than these short paths' scan.
    match memchr::memrchr(b'/', path.as_bytes()) {
        Some(i) => path.get(i..).unwrap_or(path),
        None => path,
    }
}

/// Whether `b` could still be the back of `f`: it did not end before `f` started (by more
/// than two clocks can differ, when the captures are several).
fn alive(f: &Snap, b: &Snap) -> bool {
    let slack = if f.file.is_some() {
        2 * MAX_SKEW_NS
    } else {
        SLACK_NS
    };
    b.end.is_none_or(|e| e.0 + slack >= f.start.0)
}

/// Same-path candidates looked at for one front.
const MAX_CANDIDATES: usize = 1024;
/// Memory for the window of candidate backs.
/// The most the correlator holds by default (its window of candidate transactions, four
/// fifths; the transactions waiting for a proxy leg, three fortieths; the candidate pairs
/// across captures by weaker evidence, a fortieth; the hops waiting for their WebSocket
/// conversations, a tenth), for the memory budget.
pub const MEMORY_BOUND: usize = 20 << 20;
/// Hops of upgraded pairs waiting for their WebSocket conversations.
const MAX_AWAITING_WS: usize = 10_000;
/// CONNECT tunnels remembered (their inner requests are relayed bytes).
const MAX_TUNNELS: usize = 100_000;
/// Candidate pairs across captures by weaker evidence held until decided.
const MAX_WEAK: usize = 4096;
/// Candidates by weaker evidence one leg may have before it is left to the clock.
const MAX_WEAK_PER_LEG: usize = 16;
/// Proxy addresses remembered as hinted.
const MAX_HINTED: usize = 10_000;
/// WebSocket conversations remembered for hops that are not yet made.
const MAX_WS: usize = 10_000;

/// What the correlator's bounds cost in a capture (reported as a finding at the end).
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// Candidate backs dropped from the window for its count or memory bound before any front
    /// could pair with them.
    pub window_evicted: u64,
    /// Unpaired transactions to a proxy not remembered for the answered-by-itself check.
    pub waiting_dropped: u64,
    /// Upgraded hops emitted without the relay check.
    pub relay_unchecked: u64,
    /// Candidate pairs across captures by weaker evidence dropped for their bound before they
    /// were decided.
    pub weak_dropped: u64,
}

/// The correlation state.
pub struct Correlator {
    window: Window,
    /// Unpaired transactions that went to a proxy, decided when they are too old to matter
    /// for the proxy list (or at the end).
    waiting: VecDeque<Snap>,
    /// Servers (proxy addresses) with at least one paired transaction.
    proxies: FxHashSet<Endpoint>,
    /// Hops of upgraded pairs held until both WebSocket conversations are known.
    awaiting_ws: Vec<ProxyHopRecord>,
    ws: FxHashMap<u64, WsStats>,
    ws_order: VecDeque<u64>,
    /// Connections that became a CONNECT tunnel: what follows on them is relayed bytes.
    /// With the proxy product its CONNECT answer names, if any.
    tunnels: FxHashMap<u64, Option<(&'static str, String)>>,
    /// Proxy addresses that got their single-leg hint.
    hinted: FxHashSet<Endpoint>,
    /// Transactions in `waiting` that became another's upstream leg (a chain's middle link):
    /// not answered by the proxy itself. At most as many as `waiting` holds.
    backs_queued: FxHashSet<u64>,
    next_id: u64,
    latest: i64,
    pub limits: Limits,
    /// What observing one record completed, passed on after it ([`Correlator::relay`]).
    produced: Vec<Record>,
    /// Bytes the correlator may hold ([`MEMORY_BOUND`] by default), and what `waiting` and
    /// `awaiting_ws` hold now (the window counts its own).
    bound: usize,
    waiting_bytes: usize,
    awaiting_bytes: usize,
    /// Per (front file, back file): the hops paired by evidence that needs no clock, and the
    /// offset they give (see [`clock`]).
    clocks: FxHashMap<(u32, u32), ClockPairs>,
    /// (front address, upstream address) of proxies seen with two addresses, by a pair of
    /// medium or high confidence (which, with two addresses, needed strong evidence).
    back_ips: FxHashSet<(std::net::IpAddr, std::net::IpAddr)>,
    /// Candidate pairs across captures whose offset is not known, by weaker evidence, waiting
    /// to be decided ([`weak`]), oldest first; and the earliest time one of them ripens.
    weak: VecDeque<weak::Weak>,
    weak_next_ripe: i64,
    /// Window sequence numbers of legs with too many candidates to be paired by weaker
    /// evidence, and whether such pairing stopped for the run.
    weak_barred: FxHashSet<u64>,
    /// Paths (hashes of their last segment, [`weak::tail_hash`]) with more same-path legs in
    /// the window than are looked at: not paired by weaker evidence.
    weak_barred_tails: FxHashSet<u64>,
    weak_off: bool,
}

/// The pairs of two captures' clock estimate.
#[derive(Default)]
struct ClockPairs {
    pairs: Vec<HopTimes>,
    estimate: Option<ClockEstimate>,
    /// Whether the window was swept for pairs with this estimate once it became usable.
    swept: bool,
}

impl ClockPairs {
    fn usable(&self) -> Option<ClockEstimate> {
        self.estimate
            .filter(|e| e.support >= MIN_CLOCK_SUPPORT && 2 * e.support > e.pairs)
    }
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator::with_memory(MEMORY_BOUND)
    }
}

impl Correlator {
    /// A correlator that holds at most `bound` bytes.
    pub fn with_memory(bound: usize) -> Self {
        Correlator {
            window: Window::default(),
            waiting: VecDeque::new(),
            proxies: FxHashSet::default(),
            awaiting_ws: Vec::new(),
            ws: FxHashMap::default(),
            ws_order: VecDeque::new(),
            tunnels: FxHashMap::default(),
            hinted: FxHashSet::default(),
            backs_queued: FxHashSet::default(),
            next_id: 0,
            latest: 0,
            limits: Limits::default(),
            produced: Vec::new(),
            bound,
            waiting_bytes: 0,
            awaiting_bytes: 0,
            clocks: FxHashMap::default(),
            back_ips: FxHashSet::default(),
            weak: VecDeque::new(),
            weak_next_ripe: i64::MAX,
            weak_barred: FxHashSet::default(),
            weak_barred_tails: FxHashSet::default(),
            weak_off: false,
        }
    }

    fn window_bytes(&self) -> usize {
        self.bound / 5 * 4
    }

    /// Bytes for the unpaired transactions to a proxy: a tenth less what the candidate pairs by
    /// weaker evidence may hold.
    fn waiting_bound(&self) -> usize {
        self.bound / 10 - self.bound / 40
    }

    /// Whether `more` candidate pairs by weaker evidence and `barred` legs more fit their bound
    /// (a fortieth of the correlator's, [`MAX_WEAK`] candidates).
    fn weak_fits(&self, more: usize, barred: usize) -> bool {
        let n = self.weak.len() + more;
        let set = self.weak_barred.len() + self.weak_barred_tails.len() + barred;
        let bytes = n * size_of::<weak::Weak>() + set * 16;
        n <= MAX_WEAK && bytes <= self.bound / 40
    }

    /// Observes `record` and passes it on to `out`, followed by what it completed (hops and
    /// their findings): the order every pipeline uses.
    pub fn relay(&mut self, record: Record, out: &mut dyn RecordSink) {
        self.relay_in(record, None, out);
    }

    fn emit(&mut self, hop: ProxyHopRecord, findings: Vec<Finding>, out: &mut dyn RecordSink) {
        for x in findings {
            out.record(Record::Finding(Box::new(x)));
        }
        if hop.relay.is_none() {
            out.record(Record::ProxyHop(Box::new(hop)));
            return;
        }
        let cost = size_of::<ProxyHopRecord>() + hop.heap_bytes();
        if self.awaiting_ws.len() >= MAX_AWAITING_WS || self.awaiting_bytes + cost > self.bound / 10
        {
            self.limits.relay_unchecked += 1;
            out.record(Record::ProxyHop(Box::new(hop)));
            return;
        }
        self.awaiting_bytes += cost;
        self.awaiting_ws.push(hop);
        self.try_relays(out);
    }

    /// A finished transaction.
    pub fn on_txn(&mut self, t: &TransactionRecord, out: &mut dyn RecordSink) {
        self.on_txn_in(t, None, out);
    }

    /// A finished transaction of capture `file` (when several captures are merged, their
    /// clocks may differ: legs on two files pair first by evidence that needs no clock, which
    /// gives the offset that times the others, [`Correlator::clock_offsets`]).
    pub fn on_txn_in(
        &mut self,
        t: &TransactionRecord,
        file: Option<u32>,
        out: &mut dyn RecordSink,
    ) {
        let mut snap = self.window.blank();
        if snap.fill(t) {
            snap.file = file;
            self.on_boxed(snap, out);
        } else {
            self.window.recycle(snap);
        }
    }

    /// [`Correlator::relay`] for a record of capture `file`.
    pub fn relay_in(&mut self, record: Record, file: Option<u32>, out: &mut dyn RecordSink) {
        if !matches!(record, Record::Transaction(_) | Record::WebSocket(_)) {
            // Nothing the correlator looks at (most records): passed straight on.
            out.record(record);
            return;
        }
        let mut produced = std::mem::take(&mut self.produced);
        match &record {
            Record::Transaction(t) => self.on_txn_in(t, file, &mut produced),
            Record::WebSocket(w) => self.on_websocket(w, &mut produced),
            _ => {}
        }
        out.record(record);
        if !produced.is_empty() {
            for r in produced.drain(..) {
                out.record(r);
            }
        }
        self.produced = produced;
    }

    /// The clock offsets found between captures: `(front file, back file, estimate)`, the
    /// estimate's offset to add to the back file's times to put them on the front file's
    /// clock (for `capture.files[].clock_offset_s`), sorted by files.
    pub fn clock_offsets(&self) -> Vec<(u32, u32, ClockEstimate)> {
        let mut v: Vec<_> = self
            .clocks
            .iter()
            .filter_map(|(k, c)| c.estimate.map(|e| (k.0, k.1, e)))
            .collect();
        v.sort_by_key(|x| (x.0, x.1));
        v
    }

    /// How `b`'s times compare with `f`'s (and whether `b` comes from an address `f`'s proxy
    /// is known to send from).
    fn clock(&self, f: &Snap, b: &Snap) -> Clock {
        let back_known = self.back_ips.contains(&(f.server.ip, b.client.ip));
        let same = Clock {
            back_known,
            ..Clock::SAME
        };
        let (Some(x), Some(y)) = (f.file, b.file) else {
            return same;
        };
        if x == y {
            return same;
        }
        let known = |e: ClockEstimate| Clock {
            offset: e.offset_ns,
            slack: SLACK_NS + e.uncertainty_ns(),
            known: true,
            back_known,
        };
        if let Some(e) = self.clocks.get(&(x, y)).and_then(ClockPairs::usable) {
            return known(e);
        }
        if let Some(e) = self.clocks.get(&(y, x)).and_then(ClockPairs::usable) {
            return known(ClockEstimate {
                offset_ns: -e.offset_ns,
                interval: (-e.interval.1, -e.interval.0),
                ..e
            });
        }
        Clock {
            offset: 0,
            slack: MAX_SKEW_NS,
            known: false,
            back_known,
        }
    }

    /// A pair across two captures made by evidence that needs no clock: one more for their
    /// offset. Returns whether the offset just became usable.
    fn learn_clock(&mut self, f: &Snap, b: &Snap) -> bool {
        self.learn_clock_from(f, b, false)
    }

    /// [`Correlator::learn_clock`]; `weak`: a pair by weaker evidence that agreed with the
    /// offset of the others ([`weak::select`]) counts too.
    fn learn_clock_from(&mut self, f: &Snap, b: &Snap, weak: bool) -> bool {
        let (Some(x), Some(y), Some(fe), Some(be)) = (f.file, b.file, f.end, b.end) else {
            return false;
        };
        if x == y || !(weak || clock_free(f, b)) {
            return false;
        }
        let c = self.clocks.entry((x, y)).or_default();
        if c.pairs.len() >= MAX_CLOCK_PAIRS {
            return false;
        }
        c.pairs.push(HopTimes {
            front_start: f.start.0,
            front_end: fe.0,
            back_start: b.start.0,
            back_end: be.0,
        });
        c.estimate = clock::estimate(&c.pairs);
        if !c.swept && c.usable().is_some() {
            c.swept = true;
            return true;
        }
        false
    }

    /// Client legs on one capture still unpaired whose upstream leg is on another: paired
    /// again once an offset times them (what needed the clock), newest first.
    fn sweep(&mut self, out: &mut dyn RecordSink) {
        let fronts: Vec<u64> = (self.window.base..self.window.next_seq())
            .filter(|q| {
                self.window
                    .get(*q)
                    .is_some_and(|s| s.file.is_some() && s.hop.is_none() && s.method != "CONNECT")
            })
            .collect();
        for q in fronts.into_iter().rev() {
            let Some(f) = self.window.get(q).cloned() else {
                continue;
            };
            let best = choose(
                self.window
                    .candidates(&f, TailKey::of(f.path()))
                    .filter(|(_, b)| b.file.is_some() && b.file != f.file)
                    .filter_map(|(bq, b)| {
                        score(&f, b, self.clock(&f, b), None).map(|x| (bq, x, guess(&f, b)))
                    }),
            );
            // Timed by the offset alone, the back must have no other front as good either.
            let mutual = |bq: u64| {
                self.window
                    .get(bq)
                    .is_some_and(|b| !guess(&f, b) || self.reverse(b).is_some_and(|(x, _)| x == q))
            };
            if let Some((bq, s)) = best
                && s >= LOW
                && mutual(bq)
            {
                self.pair_taken(q, bq, s, out);
            }
        }
    }

    /// Pairs the window's front at `fq` with the window's back at `bq` (a back that finished
    /// after its front on the merged clocks).
    fn pair_taken(&mut self, fq: u64, bq: u64, s: u32, out: &mut dyn RecordSink) {
        self.pair_taken_by(fq, bq, s, false, out);
    }

    /// [`Correlator::pair_taken`]; `weak`: by weaker evidence across captures whose offset is
    /// not known ([`weak`]).
    fn pair_taken_by(&mut self, fq: u64, bq: u64, s: u32, weak: bool, out: &mut dyn RecordSink) {
        let Some(f) = self.window.get(fq).cloned() else {
            return;
        };
        let Some(back) = self.window.take(bq) else {
            return;
        };
        if back.queued {
            self.backs_queued.insert(back.id);
        }
        let mut ev = Vec::new();
        if weak {
            let known = self.back_ips.contains(&(f.server.ip, back.client.ip));
            weak::weak_score(&f, &back, known, Some(&mut ev));
            ev.push(
                "the legs are on two captures whose clock offset was not known: paired as the \
                 unique best match of both legs, in time with the offset the other pairs allow"
                    .into(),
            );
        } else {
            score(&f, &back, self.clock(&f, &back), Some(&mut ev));
        }
        // Paired before `pair` looks for the proxy's unpaired transactions.
        if let Some(x) = self.window.get_mut(fq) {
            x.hop = Some(self.next_id);
        }
        self.pair(&f, Some(&back), s, ev, out);
        if f.queued {
            // Decided: not answered by the proxy itself.
            self.backs_queued.insert(f.id);
        }
        // Pairs by weaker evidence are learnt together, before any is paired
        // ([`Correlator::resolve_weak`]).
        if !weak && self.learn_clock(&f, &back) {
            self.sweep(out);
        }
    }

    /// Looks for candidate pairs by weaker evidence between the window's transaction at `seq`
    /// (just arrived, unpaired) and the unpaired ones of other captures with the same path
    /// whose clock offset to it is not known yet, either side the client leg.
    fn collect_weak(&mut self, seq: u64) {
        if self.weak_off {
            return;
        }
        let Some(s) = self.window.get(seq) else {
            return;
        };
        if s.file.is_none() || s.hop.is_some() {
            return;
        }
        let key = TailKey::of(s.path());
        let h = key.hash;
        let same_tail = self.window.same_tail(h);
        if same_tail.is_some_and(|q| q.len() > MAX_CANDIDATES) {
            // Competitors beyond those looked at: uniqueness could not be told for this path.
            if !self.weak_barred_tails.contains(&h) {
                if !self.weak_fits(0, 1) {
                    self.stop_weak();
                    return;
                }
                self.weak_barred_tails.insert(h);
            }
            return;
        }
        let mut found = Vec::new();
        let others = self.window.tail_mates(key);
        for (q, o) in others {
            if q == seq || o.file.is_none() || o.file == s.file || o.hop.is_some() {
                continue;
            }
            for ((fq, f), (bq, b)) in [((q, o), (seq, s)), ((seq, s), (q, o))] {
                if self.clock(f, b).known {
                    continue;
                }
                let known = self.back_ips.contains(&(f.server.ip, b.client.ip));
                if let Some(x) = weak::weak_score(f, b, known, None)
                    && let Some(w) = weak::Weak::of(f, fq, b, bq, x)
                {
                    found.push(w);
                }
            }
        }
        if found.len() > MAX_WEAK_PER_LEG {
            // Hopelessly ambiguous (the same request many times over): none of these legs is
            // paired by weaker evidence (they may still be, by the offset, once it is known).
            if !self.weak_fits(0, found.len() + 1) {
                self.stop_weak();
                return;
            }
            self.weak_barred.insert(seq);
            self.weak_barred
                .extend(found.iter().map(|w| if w.fq == seq { w.bq } else { w.fq }));
            return;
        }
        if !self.weak_fits(found.len(), 0) {
            self.stop_weak();
            return;
        }
        for w in found {
            self.weak_next_ripe = self.weak_next_ripe.min(w.ripe);
            self.weak.push_back(w);
        }
    }

    /// The window's transaction at `seq` left it unpaired (too old, or the window's bound):
    /// its candidate pairs by weaker evidence go, and the legs they competed for are barred
    /// (without this competitor, one of their other candidates could look unique).
    fn weak_evicted(&mut self, seq: u64) {
        if self.weak.iter().all(|c| c.fq != seq && c.bq != seq) {
            return;
        }
        let others: Vec<u64> = self
            .weak
            .iter()
            .filter_map(|c| {
                (c.fq == seq)
                    .then_some(c.bq)
                    .or((c.bq == seq).then_some(c.fq))
            })
            .collect();
        if !self.weak_fits(0, others.len()) {
            self.stop_weak();
            return;
        }
        self.weak_barred.extend(others);
        self.weak.retain(|c| c.fq != seq && c.bq != seq);
    }

    /// More candidates than the bound holds: dropping some would make others look unique, so
    /// pairing by weaker evidence stops for the run (counted in [`Limits::weak_dropped`]).
    fn stop_weak(&mut self) {
        self.limits.weak_dropped += self.weak.len().max(1) as u64;
        self.weak_off = true;
        self.weak = VecDeque::new();
        self.weak_barred = FxHashSet::default();
        self.weak_barred_tails = FxHashSet::default();
        self.weak_next_ripe = i64::MAX;
    }

    /// Decides the candidate pairs by weaker evidence that are ripe (all of them at the end):
    /// pairs those [`weak::select`] accepts, and learns the offset from them.
    fn resolve_weak(&mut self, all: bool, out: &mut dyn RecordSink) {
        if self.weak.is_empty() || (!all && self.latest <= self.weak_next_ripe) {
            return;
        }
        // Still valid: both legs in the window and unpaired, the clocks' offset still unknown
        // (once known, the ordinary pairing times them).
        let valid = |c: &weak::Weak| {
            let f = self
                .window
                .get(c.fq)
                .filter(|x| x.id == c.fid && x.hop.is_none());
            let b = self
                .window
                .get(c.bq)
                .filter(|x| x.id == c.bid && x.hop.is_none());
            matches!((f, b), (Some(f), Some(b)) if !self.clock(f, b).known)
        };
        let keep: Vec<bool> = self.weak.iter().map(valid).collect();
        let mut k = keep.iter();
        self.weak.retain(|_| k.next().copied().unwrap_or(false));
        let cands: Vec<weak::Weak> = self.weak.iter().copied().collect();
        let strong = |k: (u32, u32)| {
            self.clocks
                .get(&k)
                .map(|c| c.pairs.clone())
                .unwrap_or_default()
        };
        let base = self.window.base;
        self.weak_barred.retain(|q| *q >= base);
        let barred = |c: &weak::Weak| {
            self.weak_barred.contains(&c.fq)
                || self.weak_barred.contains(&c.bq)
                || self.weak_barred_tails.contains(&c.tail)
        };
        let accepted = weak::select(&cands, self.latest, all, &strong, &barred);
        // The offset from all of them (they agree), then the pairs, then the legs it times.
        let mut usable = false;
        for i in &accepted {
            let c = cands[*i];
            if let (Some(f), Some(b)) = (self.window.get(c.fq), self.window.get(c.bq)) {
                let (f, b) = (f.clone(), b.clone());
                usable |= self.learn_clock_from(&f, &b, true);
            }
        }
        for i in accepted {
            let c = cands[i];
            let ok = self
                .window
                .get(c.fq)
                .is_some_and(|x| x.id == c.fid && x.hop.is_none())
                && self
                    .window
                    .get(c.bq)
                    .is_some_and(|x| x.id == c.bid && x.hop.is_none());
            if ok {
                self.pair_taken_by(c.fq, c.bq, c.score, true, out);
            }
        }
        if usable {
            self.sweep(out);
        }
        let taken: FxHashSet<u64> = cands
            .iter()
            .flat_map(|c| [c.fq, c.bq])
            .filter(|q| self.window.get(*q).is_none_or(|x| x.hop.is_some()))
            .collect();
        self.weak
            .retain(|c| !taken.contains(&c.fq) && !taken.contains(&c.bq));
        self.weak_next_ripe = self
            .weak
            .iter()
            .map(|c| c.ripe)
            .filter(|r| *r >= self.latest)
            .min()
            .unwrap_or(i64::MAX);
    }

    /// Whether `b`, just arrived, is the upstream leg of a client leg on another capture
    /// already in the window (the other capture's clock ahead: the back ends after its front).
    fn reverse(&self, b: &Snap) -> Option<(u64, u32)> {
        b.file?;
        let fronts = self
            .window
            .tail_mates(TailKey::of(b.path()))
            .take(MAX_CANDIDATES)
            .filter(|(_, f)| f.file.is_some() && f.file != b.file && f.hop.is_none())
            .filter_map(|(q, f)| score(f, b, self.clock(f, b), None).map(|s| (q, s, guess(f, b))));
        choose(fronts)
    }

    /// A snap made by hand (the tests' legs).
    #[cfg(test)]
    pub(crate) fn on_snap(&mut self, snap: impl Into<Box<Snap>>, out: &mut dyn RecordSink) {
        self.on_boxed(snap.into(), out);
    }

    fn on_boxed(&mut self, mut snap: Box<Snap>, out: &mut dyn RecordSink) {
        if snap.method == "CONNECT" {
            // A tunnel, not a request to relay: its inner transactions are paired instead.
            if snap.switched.as_deref() == Some("tunnel") && self.tunnels.len() < MAX_TUNNELS {
                let p = fix::product(&snap, None)
                    .map(|(p, from)| (p, format!("{from} (the CONNECT answer)")));
                self.tunnels.insert(snap.conn, p);
            }
            self.window.recycle(snap);
            return;
        }
        self.latest = self.latest.max(snap.start.0);
        // Forget what is too old to be anyone's back.
        while let Some((seq, o)) = self.window.front() {
            if self.latest - o.start.0 <= 2 * MAX_LAG_NS {
                break;
            }
            self.evict(seq);
        }
        if !self.waiting.is_empty() {
            self.decide_waiting(false, out);
        }
        let key = TailKey::of(snap.path());
        let tail = key.hash;
        let best = self.best(&snap, key);
        match best {
            Some((q, s)) if s >= LOW => {
                let mut ev = Vec::new();
                if let Some(back) = self.window.take(q) {
                    if back.queued && self.waiting.iter().any(|w| w.id == back.id) {
                        // A link of a chain, not a transaction the proxy answered itself.
                        self.backs_queued.insert(back.id);
                    }
                    score(&snap, &back, self.clock(&snap, &back), Some(&mut ev));
                    snap.hop = Some(self.pair(&snap, Some(&back), s, ev, out));
                    if self.learn_clock(&snap, &back) {
                        self.sweep(out);
                    }
                    self.window.recycle(back);
                }
            }
            _ => {
                // Cheapest first (the upgrade asked is looked up only when it matters).
                let proxied = self.proxies.contains(&snap.server)
                    || snap.path() != snap.target
                    || snap.resp.as_ref().is_some_and(|h| h.get("via").is_some())
                    || (snap.status != Some(101)
                        && snap.needs_any_upgrade()
                        && fix::product(&snap, None).is_some());
                if proxied {
                    let cost = Window::cost(&snap);
                    if self.waiting.len() >= MAX_WAITING
                        || self.waiting_bytes + cost > self.waiting_bound()
                    {
                        self.limits.waiting_dropped += 1;
                    } else {
                        self.waiting_bytes += cost;
                        snap.queued = true;
                        self.waiting.push_back(Snap::clone(&snap));
                    }
                }
            }
        }
        let seq = self.window.next_seq();
        let cross = snap.file.is_some();
        self.window.push(snap, tail);
        // On merged captures, an upstream leg may end after its client leg (its clock ahead).
        if cross
            && let Some(b) = self.window.get(seq)
            && let Some((fq, s)) = self.reverse(b)
            && s >= LOW
        {
            self.pair_taken(fq, seq, s, out);
        }
        if cross {
            self.collect_weak(seq);
            self.resolve_weak(false, out);
        }
        while self.window.live > MAX_WINDOW || self.window.bytes > self.window_bytes() {
            let Some((seq, _)) = self.window.front() else {
                break;
            };
            self.evict(seq);
            self.limits.window_evicted += 1;
        }
    }

    /// Drops the window's snap at `seq` (too old, or over the window's bounds) and its
    /// candidate pairs by weaker evidence (of which one capture has none).
    fn evict(&mut self, seq: u64) {
        self.window.evict(seq);
        if !self.weak.is_empty() {
            self.weak_evicted(seq);
        }
    }

    /// The best candidate back of `f` (ties: the oldest, first in first out; across captures
    /// timed by their offset alone, none, [`choose`]).
    /// `key`: its path's tail.
    fn best(&self, f: &Snap, key: TailKey) -> Option<(u64, u32)> {
        choose(
            self.window.candidates(f, key).filter_map(|(q, b)| {
                score(f, b, self.clock(f, b), None).map(|s| (q, s, guess(f, b)))
            }),
        )
    }

    /// Makes the hop of `f` (with its upstream leg `b`, if any) and returns its id.
    fn pair(
        &mut self,
        f: &Snap,
        b: Option<&Snap>,
        s: u32,
        ev: Vec<String>,
        out: &mut dyn RecordSink,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        if b.is_some() && s >= MEDIUM && self.proxies.insert(f.server) {
            self.queue_earlier(f.server);
        }
        if let Some(b) = b
            && s >= MEDIUM
            && b.client.ip != f.server.ip
            && self.back_ips.len() < MAX_HINTED
        {
            self.back_ips.insert((f.server.ip, b.client.ip));
        }
        let product = fix::product(f, b).or_else(|| self.tunnels.get(&f.conn).cloned().flatten());
        let mut hop = ProxyHopRecord {
            id,
            front: Leg {
                connection: f.conn,
                transaction: f.id,
            },
            back: b.map(|b| Leg {
                connection: b.conn,
                transaction: b.id,
            }),
            client: f.client,
            proxy: ProxyInfo {
                address: f.server,
                back_address: b.filter(|b| b.client.ip != f.server.ip).map(|b| b.client),
                product: product.as_ref().map(|p| p.0.to_string()),
                product_from: product.as_ref().map(|p| p.1.clone()),
            },
            upstream: b.map(|b| b.server),
            evidence: ev,
            confidence: if b.is_some() { confidence(s) } else { "high" },
            score: s,
            request: MessageDiff::default(),
            response: MessageDiff::default(),
            relay: None,
            next_hop: b.and_then(|b| b.hop),
            diagnosis: Vec::new(),
        };
        let mut findings = Vec::new();
        // Byte-for-byte the same request on both legs: a TCP-level relay (CONNECT, SOCKS, an L4
        // proxy), where hop-by-hop headers are not the proxy's to strip.
        let relayed = b.is_some_and(|b| {
            self.tunnels.contains_key(&f.conn) || (b.target == f.target && b.req.same(&f.req))
        });
        if relayed {
            hop.evidence.push(
                "the request is the same bytes on both legs: relayed through a tunnel (CONNECT, \
                 SOCKS) or a TCP-level proxy"
                    .into(),
            );
        }
        if let Some(b) = b {
            if relayed {
                // Hop-by-hop fields were not this proxy's to touch.
                hop.response = diff::response(f, b);
                hop.response.hop_by_hop_forwarded.clear();
            } else {
                hop.request = diff::request(f, b);
                hop.response = diff::response(f, b);
            }
            if f.switched.is_some() || b.switched.is_some() {
                hop.relay = Some(Relay {
                    front_websocket: None,
                    back_websocket: None,
                    to_server: [0; 2],
                    to_client: [0; 2],
                    bytes_to_server: [0; 2],
                    bytes_to_client: [0; 2],
                    frames_to_server: [0; 2],
                    frames_to_client: [0; 2],
                    one_to_one: false,
                    frames_one_to_one: false,
                });
            }
            if s >= MEDIUM {
                let p = product.as_ref().map(|p| p.0);
                for (code, msg) in diff::diagnose(f, b, &hop, p, relayed) {
                    hop.diagnosis.push(code.name);
                    findings.push(finding(code, msg, f));
                }
            }
        } else {
            for (code, msg) in diff::alone(f, product.as_ref().map(|p| p.0)) {
                hop.diagnosis.push(code.name);
                findings.push(finding(code, msg, f));
            }
        }
        self.emit(hop, findings, out);
        id
    }

    /// A proxy address first known: the unpaired transactions to it still in the window
    /// finished before it was known (an HTTP/2 stream the proxy answers itself ends before
    /// the streams it forwards), and wait with the others for the answered-by-itself check.
    fn queue_earlier(&mut self, proxy: Endpoint) {
        let bound = self.waiting_bound();
        for s in self.window.snaps_mut() {
            if s.server != proxy || s.hop.is_some() || s.queued || s.method == "CONNECT" {
                continue;
            }
            let cost = Window::cost(s);
            if self.waiting.len() >= MAX_WAITING || self.waiting_bytes + cost > bound {
                self.limits.waiting_dropped += 1;
                continue;
            }
            self.waiting_bytes += cost;
            s.queued = true;
            self.waiting.push_back(Snap::clone(s));
        }
    }

    /// Unpaired transactions to a proxy: once a front is older than any back could be (or at
    /// the end), it either went to a known proxy that answered by itself, or it is a refused
    /// upgrade seen on one leg only.
    fn decide_waiting(&mut self, all: bool, out: &mut dyn RecordSink) {
        while let Some(f) = self.waiting.front() {
            if !all && self.latest - f.start.0 <= 2 * MAX_LAG_NS {
                break;
            }
            let Some(f) = self.waiting.pop_front() else {
                break;
            };
            self.waiting_bytes = self.waiting_bytes.saturating_sub(Window::cost(&f));
            if self.backs_queued.remove(&f.id) {
                continue;
            }
            if self.undecided(&f) {
                // Across captures, a tie between upstream legs left it unpaired: not answered by
                // the proxy itself, as far as anyone can tell.
                continue;
            }
            // Answered by itself only when the capture shows this proxy's upstream side for
            // other requests; otherwise the upstream leg may just not be in the capture.
            if self.proxies.contains(&f.server) {
                let id = self.pair(
                    &f,
                    None,
                    0,
                    vec!["no upstream request matched: the proxy answered by itself".into()],
                    out,
                );
                if f.file.is_some() {
                    // Decided: not a client leg for a later sweep across captures.
                    self.window.mark(&f, id);
                }
            } else if f.needs_any_upgrade()
                && f.status != Some(101)
                && self.hinted.len() < MAX_HINTED
                && self.hinted.insert(f.server)
            {
                // Only the client leg: say what probably happened and how to confirm it (once
                // per proxy address: the same proxy refuses every upgrade the same way).
                let product = fix::product(&f, None);
                let (code, msg) = diff::single_leg(&f, product.as_ref().map(|p| p.0));
                out.record(Record::Finding(Box::new(finding(code, msg, &f))));
            }
        }
    }

    /// Whether `f`, on one of several captures, was left unpaired by a tie (with an upstream
    /// leg on another capture that could be its own, timed by the offset or by weaker
    /// evidence).
    fn undecided(&self, f: &Snap) -> bool {
        f.file.is_some()
            && (self
                .weak
                .iter()
                .any(|c| c.fid == f.id && c.clocks.0 == f.file.unwrap_or(0))
                || self
                    .window
                    .candidates(f, TailKey::of(f.path()))
                    .any(|(_, b)| {
                        b.file.is_some()
                            && b.file != f.file
                            && score(f, b, self.clock(f, b), None).is_some_and(|s| s >= LOW)
                    }))
    }

    /// A finished WebSocket conversation: completes the relay check of its hop.
    pub fn on_websocket(&mut self, w: &WebSocketRecord, out: &mut dyn RecordSink) {
        if let Some(t) = w.handshake.transaction {
            self.on_ws_stats(
                t,
                WsStats {
                    id: w.id,
                    msgs: [w.client_to_server.messages, w.server_to_client.messages],
                    bytes: [
                        w.client_to_server.message_bytes,
                        w.server_to_client.message_bytes,
                    ],
                    frames: [w.client_to_server.frames, w.server_to_client.frames],
                },
                out,
            );
        }
    }

    fn on_ws_stats(&mut self, txn: u64, st: WsStats, out: &mut dyn RecordSink) {
        if self.ws.len() >= MAX_WS
            && let Some(old) = self.ws_order.pop_front()
        {
            self.ws.remove(&old);
        }
        if self.ws.insert(txn, st).is_none() {
            self.ws_order.push_back(txn);
        }
        self.try_relays(out);
    }

    fn forget_ws(&mut self, txn: u64) {
        if self.ws.remove(&txn).is_some() {
            self.ws_order.retain(|x| *x != txn);
        }
    }

    fn try_relays(&mut self, out: &mut dyn RecordSink) {
        let mut i = 0;
        while i < self.awaiting_ws.len() {
            let h = &self.awaiting_ws[i];
            let f = self.ws.get(&h.front.transaction).copied();
            let b = h.back.and_then(|b| self.ws.get(&b.transaction).copied());
            let (Some(f), Some(b)) = (f, b) else {
                i += 1;
                continue;
            };
            let mut h = self.awaiting_ws.swap_remove(i);
            let cost = size_of::<ProxyHopRecord>() + h.heap_bytes();
            self.awaiting_bytes = self.awaiting_bytes.saturating_sub(cost);
            self.forget_ws(h.front.transaction);
            if let Some(bl) = h.back {
                self.forget_ws(bl.transaction);
            }
            fill_relay(&mut h, Some(f), Some(b), out);
            out.record(Record::ProxyHop(Box::new(h)));
        }
    }

    /// The end: hops still waiting for their WebSocket conversations, the transactions that
    /// went to a proxy without an upstream leg, and what the bounds cost.
    pub fn finish(&mut self, out: &mut dyn RecordSink) {
        self.resolve_weak(true, out);
        if self.clocks.values().any(|c| c.usable().is_some()) {
            self.sweep(out);
        }
        for mut h in std::mem::take(&mut self.awaiting_ws) {
            let f = self.ws.get(&h.front.transaction).copied();
            let b = h.back.and_then(|b| self.ws.get(&b.transaction).copied());
            fill_relay(&mut h, f, b, out);
            out.record(Record::ProxyHop(Box::new(h)));
        }
        self.decide_waiting(true, out);
        let l = self.limits;
        if l.window_evicted + l.waiting_dropped + l.relay_unchecked + l.weak_dropped > 0 {
            let weak = if l.weak_dropped > 0 {
                format!(
                    "; across captures, {} candidate pairs by weaker evidence (no request id, \
                     no forwarding header naming the client) were more than its bound holds, so \
                     such pairing stopped and those legs pair only by the clock offset",
                    l.weak_dropped
                )
            } else {
                String::new()
            };
            out.record(Record::Finding(Box::new(Finding::new(
                &codes::PROXY_CORRELATION_LIMIT,
                format!(
                    "proxy-leg correlation hit its bounds: {} candidate upstream transactions \
                     left the window ({} at most, {} MiB) before a client leg could pair with \
                     them, {} unpaired transactions to a proxy were not checked, {} upgraded \
                     hops were reported without the WebSocket relay check{weak}; hops in this \
                     capture may be missing",
                    l.window_evicted,
                    MAX_WINDOW,
                    self.window_bytes() >> 20,
                    l.waiting_dropped,
                    l.relay_unchecked
                ),
            ))));
        }
    }
}

fn fill_relay(
    h: &mut ProxyHopRecord,
    f: Option<WsStats>,
    b: Option<WsStats>,
    out: &mut dyn RecordSink,
) {
    let Some(r) = h.relay.as_mut() else { return };
    r.front_websocket = f.map(|x| x.id);
    r.back_websocket = b.map(|x| x.id);
    let z = ([0; 2], [0; 2], [0; 2]);
    let (fm, fb, ff) = f.map_or(z, |x| (x.msgs, x.bytes, x.frames));
    let (bm, bb, bf) = b.map_or(z, |x| (x.msgs, x.bytes, x.frames));
    r.to_server = [fm[0], bm[0]];
    r.to_client = [fm[1], bm[1]];
    r.bytes_to_server = [fb[0], bb[0]];
    r.bytes_to_client = [fb[1], bb[1]];
    r.frames_to_server = [ff[0], bf[0]];
    r.frames_to_client = [ff[1], bf[1]];
    r.one_to_one = f.is_some() && b.is_some() && fm == bm && fb == bb;
    r.frames_one_to_one = r.one_to_one && ff == bf;
    if f.is_some() && b.is_some() && !r.one_to_one && h.confidence != "low" {
        let msg = format!(
            "WebSocket messages were not relayed one to one: client→server {} on the client leg, \
             {} upstream; server→client {} upstream, {} to the client (a proxy that buffers, \
             splits or drops messages, or a capture gap)",
            fm[0], bm[0], bm[1], fm[1]
        );
        h.diagnosis.push(codes::PROXY_WEBSOCKET_NOT_RELAYED.name);
        out.record(Record::Finding(Box::new(
            Finding::new(&codes::PROXY_WEBSOCKET_NOT_RELAYED, msg)
                .conn(h.front.connection)
                .txn(h.front.transaction),
        )));
    }
}

fn finding(code: &'static Code, msg: String, f: &Snap) -> Finding {
    let mut x = Finding::new(code, msg).conn(f.conn).txn(f.id);
    x.ts = f.end.or(Some(f.start));
    x.direction = Some(Dir::ClientToServer);
    x
}

#[cfg(test)]
mod tests;
