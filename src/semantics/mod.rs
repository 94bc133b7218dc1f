//! HTTP semantics over paired transactions: caching, ranges, cookies, CORS, authentication and
//! redirects — why a response was not cached, why the browser blocked it, why a cookie did not
//! come back, why a download restarted.
//!
//! This is a step after the HTTP analyzer, not part of it: the pipeline (`crate::pipeline`) hands
//! every record to [`Semantics::step`], which reads each [`Record::Transaction`] as it completes,
//! fills its `semantics` and passes it on, with findings of its own before it. The
//! parser is untouched except for one fact it gathers while a body streams by
//! (`multipart/byteranges` parts, [`crate::analyzers::http::content::byteranges`]), since
//! bodies are not kept.
//!
//! Transactions arrive in completion order per connection and interleave across connections;
//! the state that links them (validators of earlier responses, cookie jars, pending preflights,
//! challenges and redirects, pieces of resumed downloads) is per client IP and per URL, in
//! tables bounded by [`SemanticsConfig`]: a full table drops its oldest entry, counts it in
//! `capture.semantics.evicted` and raises `<concern>.state-limit` once.
//!
//! Each concern is a module of pure functions over field values (table-driven tests beside
//! them) plus an `analyse` that applies them to one transaction. `analyse` reads as the list of
//! questions the concern answers, each a function that names the RFC section it applies; the
//! larger concerns keep those functions in files of their own (`request.rs`, `response.rs`,
//! ...) beside the rules and the state in `mod.rs`. Nothing is allocated for a concern that
//! does not apply: one pass over the headers classifies the fields first.

pub mod auth;
pub mod cache;
pub mod cookies;
pub mod cors;
pub mod date;
pub mod range;
pub mod redirect;
pub mod util;

#[cfg(test)]
mod tests;

use std::net::IpAddr;

use crate::model::codes::{self, Code};
use crate::model::http::{RequestRecord, ResponseRecord, TransactionRecord};
use crate::model::semantics::{HttpSemantics, SemanticsStats};
use crate::model::{Dir, Finding, Record, RecordSink};
use util::{Bounded, Multi, ReqFacts, RespFacts, UrlBuf, UrlParts, key_of};

/// The most the semantics step's tables hold at their default sizes (measured on the
/// benchmark capture, docs/performance.md), for the memory budget.
pub const MEMORY_BOUND: usize = 8 << 20;

/// Table sizes (entries); each table is bounded, the oldest entry goes first.
#[derive(Clone, Debug)]
pub struct SemanticsConfig {
    /// URLs whose response validators are remembered for conditional requests.
    pub validators: usize,
    /// (client, URL) objects assembled from range pieces.
    pub range_objects: usize,
    /// Client cookie jars, and cookies per jar.
    pub cookie_jars: usize,
    pub cookies_per_jar: usize,
    /// Preflights waiting for their request; WebSocket servers remembered.
    pub preflights: usize,
    pub websocket_servers: usize,
    /// Challenges waiting for a retry.
    pub challenges: usize,
    /// Redirects waiting to be followed.
    pub redirects: usize,
    /// Once-only reports (cleartext cookies per client and host) and connections followed for
    /// bodies after a 304 or HEAD response.
    pub once: usize,
}

impl SemanticsConfig {
    /// Tables sized to hold at most about `bytes` (the default sizes hold
    /// [`MEMORY_BOUND`]): each is scaled down alike, to 16 entries at least.
    pub fn within(bytes: usize) -> Self {
        let d = SemanticsConfig::default();
        if bytes >= MEMORY_BOUND {
            return d;
        }
        let scale = |n: usize| (n * (bytes >> 10) / (MEMORY_BOUND >> 10)).max(16);
        SemanticsConfig {
            validators: scale(d.validators),
            range_objects: scale(d.range_objects),
            cookie_jars: scale(d.cookie_jars),
            cookies_per_jar: d.cookies_per_jar,
            preflights: scale(d.preflights),
            websocket_servers: scale(d.websocket_servers),
            challenges: scale(d.challenges),
            redirects: scale(d.redirects),
            once: scale(d.once),
        }
    }
}

impl Default for SemanticsConfig {
    fn default() -> Self {
        // Sized so that every table full stays under ~8 MB together (measured on the
        // benchmark capture, docs/performance.md).
        SemanticsConfig {
            validators: 16_384,
            range_objects: 1024,
            cookie_jars: 1024,
            cookies_per_jar: 64,
            preflights: 1024,
            websocket_servers: 1024,
            challenges: 1024,
            redirects: 1024,
            once: 16_384,
        }
    }
}

/// Which message a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

/// A finding before it is placed on its transaction.
#[derive(Clone, Debug)]
pub struct Found {
    pub code: &'static Code,
    pub side: Side,
    pub msg: String,
}

impl Found {
    pub fn new(code: &'static Code, side: Side, msg: String) -> Self {
        Found { code, side, msg }
    }

    /// A bound was hit (reported once per code by [`Semantics`]).
    pub fn limit(code: &'static Code, what: &str) -> Self {
        Found {
            code,
            side: Side::Response,
            msg: format!(
                "the table of {what} is full: its oldest entry was dropped, and links to it are \
                 lost (counted in capture.semantics.evicted; reported once)"
            ),
        }
    }
}

/// One transaction as the concerns see it: its records, the fields they read (classified once)
/// and its canonical URL.
pub struct Exchange<'a> {
    pub t: &'a TransactionRecord,
    pub req: Option<&'a RequestRecord>,
    pub resp: Option<&'a ResponseRecord>,
    pub q: ReqFacts<'a>,
    pub r: RespFacts<'a>,
    pub url: Option<(&'a str, UrlParts)>,
    /// Key of the canonical URL.
    pub url_key: Option<u64>,
    pub client: IpAddr,
    /// The request method ("" without a request).
    pub method: &'a str,
}

impl Exchange<'_> {
    pub fn status(&self) -> Option<u16> {
        self.resp.map(|r| r.status)
    }
    pub fn url_str(&self) -> Option<&str> {
        self.url.map(|u| u.0)
    }
    pub fn url_parts(&self) -> Option<UrlParts> {
        self.url.map(|u| u.1)
    }
    /// Packet time of the request's first byte (ns).
    pub fn request_ns(&self) -> Option<i64> {
        self.t.timing.request_start.map(|t| t.0)
    }
    /// Packet time of the final response's first byte (ns).
    pub fn response_ns(&self) -> Option<i64> {
        self.t.timing.response_start.map(|t| t.0)
    }
}

impl<'a> Exchange<'a> {
    /// Every line of a request field ([`util::lines`]).
    pub fn request_lines(
        &self,
        m: Multi<'a>,
        name: &'a str,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        util::lines(self.req.map(|r| &r.headers), m, name)
    }
    /// Every line of a response field ([`util::lines`]).
    pub fn response_lines(
        &self,
        m: Multi<'a>,
        name: &'a str,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        util::lines(self.resp.map(|r| &r.headers), m, name)
    }
}

/// A response after which no body may follow (304, or the answer to HEAD): where it ended.
#[derive(Clone, Copy)]
struct NoBody {
    end: u64,
    txn: u64,
    head: bool,
}

/// The semantics step's state.
pub struct Semantics {
    url: UrlBuf,
    cache: cache::State,
    range: range::State,
    cookies: cookies::State,
    cors: cors::State,
    auth: auth::State,
    redirect: redirect::State,
    no_body: Bounded<u64, NoBody>,
    /// An empty box for the next transaction's semantics.
    spare: Option<Box<HttpSemantics>>,
    /// The findings of the transaction at hand: the room of the last one's, kept (one
    /// allocation a transaction with findings less).
    found: Vec<Found>,
    limits_reported: Vec<&'static Code>,
    stats: SemanticsStats,
}

impl Default for Semantics {
    fn default() -> Self {
        Self::new(SemanticsConfig::default())
    }
}

impl Semantics {
    pub fn new(cfg: SemanticsConfig) -> Self {
        Semantics {
            url: UrlBuf::default(),
            cache: cache::State::new(cfg.validators, cfg.once),
            range: range::State::new(cfg.range_objects),
            cookies: cookies::State::new(cfg.cookie_jars, cfg.cookies_per_jar, cfg.once),
            cors: cors::State::new(cfg.preflights, cfg.websocket_servers),
            auth: auth::State::new(cfg.challenges),
            redirect: redirect::State::new(cfg.redirects),
            no_body: Bounded::new(cfg.once),
            spare: None,
            found: Vec::new(),
            limits_reported: Vec::new(),
            stats: SemanticsStats::default(),
        }
    }

    /// Fills `t.semantics`, adds the codes to `t.findings`, and sends the findings to `out`.
    pub fn transaction(&mut self, t: &mut TransactionRecord, out: &mut dyn RecordSink) {
        self.stats.transactions += 1;
        let mut found = std::mem::take(&mut self.found);
        let sem = {
            let req = t.request.as_ref();
            let resp = t.response.as_ref();
            // The fields classified in place: these structs are large, and each move of them
            // was a copy.
            let mut c = Exchange {
                t,
                req,
                resp,
                q: ReqFacts::default(),
                r: RespFacts::default(),
                url: None,
                url_key: None,
                client: t.client.ip,
                method: req.map_or("", |r| r.method.as_str()),
            };
            if let Some(rq) = req {
                c.q.read(&rq.headers);
            }
            if let Some(rs) = resp {
                c.r.read(&rs.headers);
            }
            let https = t.scheme == crate::model::http::Scheme::Https;
            let parts = req.and_then(|rq| self.url.request(&rq.target, c.q.host, t.server, https));
            let url = self.url.url.as_str();
            c.url_key = parts.map(|_| key_of(&[url.as_bytes()]));
            c.url = parts.map(|p| (url, p));
            // Filled in its box (a transaction without semantics leaves it for the next one):
            // built on the stack, it was copied twice more.
            let mut s = self.spare.take().unwrap_or_default();
            s.cache = cache::analyse(&c, &mut self.cache, &mut found);
            s.range = range::analyse(&c, &mut self.range, &mut found).map(Box::new);
            s.cookies = cookies::analyse(&c, &mut self.cookies, &mut found);
            s.cors = cors::analyse(&c, &mut self.cors, &mut found).map(Box::new);
            s.auth = auth::analyse(&c, &mut self.auth, &mut found).map(Box::new);
            s.redirect = redirect::analyse(&c, &mut self.redirect, &mut found).map(Box::new);
            // A body may not follow a 304 or the answer to HEAD: remember where it ended.
            if let Some(resp) = resp {
                let head = c.method == "HEAD";
                if head || resp.status == 304 {
                    let evicted = self.no_body.insert(
                        t.connection,
                        NoBody {
                            end: resp.at.stream_offset + resp.at.head_bytes,
                            txn: t.id,
                            head,
                        },
                    );
                    if evicted {
                        found.push(Found::limit(
                            &codes::CACHE_STATE_LIMIT,
                            "connections followed after a 304 or HEAD response",
                        ));
                    }
                } else if !self.no_body.is_empty() {
                    self.no_body.remove(&t.connection);
                }
            }
            s
        };
        let st = &mut self.stats;
        st.cache += u64::from(sem.cache.is_some());
        st.range += u64::from(sem.range.is_some());
        st.cookies += u64::from(sem.cookies.is_some());
        st.cors += u64::from(sem.cors.is_some());
        st.auth += u64::from(sem.auth.is_some());
        st.redirect += u64::from(sem.redirect.is_some());
        if sem.is_empty() {
            self.spare = Some(sem);
        } else {
            t.semantics = Some(sem);
        }
        for f in found.drain(..) {
            if f.code.name.ends_with(".state-limit") {
                if self.limits_reported.contains(&f.code) {
                    continue;
                }
                self.limits_reported.push(f.code);
            }
            let finding = place(t, f);
            out.record(Record::Finding(Box::new(finding)));
        }
        self.found = found;
    }

    /// Reads the HTTP analyzer's findings: bytes that are not a response right after a 304 or
    /// the answer to HEAD are a body that must not be there.
    pub fn finding(&mut self, f: &Finding) -> Option<Finding> {
        if f.code != &codes::HTTP_NOT_HTTP || f.direction != Some(Dir::ServerToClient) {
            return None;
        }
        let (Some(conn), Some(off)) = (f.connection, f.stream_offset) else {
            return None;
        };
        let nb = self.no_body.get(&conn).copied()?;
        if off < nb.end {
            return None;
        }
        self.no_body.remove(&conn);
        let (code, msg) = if nb.head {
            (
                &codes::CACHE_BODY_ON_HEAD,
                "the response to HEAD is followed by bytes that are not a response: the server \
                 sent a body, which HEAD responses never have (RFC 9110 §9.3.2); clients and \
                 caches read it as the next response",
            )
        } else {
            (
                &codes::CACHE_BODY_ON_304,
                "the 304 Not Modified is followed by bytes that are not a response: the server \
                 sent a body, which a 304 never has (RFC 9110 §15.4.5); clients and caches read \
                 it as the next response",
            )
        };
        let mut g = Finding::new(code, msg)
            .conn(conn)
            .txn(nb.txn)
            .dir(Dir::ServerToClient, off);
        if let (Some(p), Some(ts)) = (f.packet, f.ts) {
            g = g.at(p, ts);
        }
        Some(g)
    }

    /// A connection ended: nothing more can follow its last response.
    pub fn connection_closed(&mut self, id: u64) {
        if !self.no_body.is_empty() {
            self.no_body.remove(&id);
        }
        self.cookies.connection_closed(id);
    }

    pub fn stats(&self) -> SemanticsStats {
        let mut s = self.stats.clone();
        let e = &mut s.evicted;
        e.validators = self.cache.evicted();
        e.range_objects = self.range.evicted();
        let (jars, cookies, once) = self.cookies.evicted();
        e.cookie_jars = jars;
        e.cookies = cookies;
        let (pre, ws) = self.cors.evicted();
        e.preflights = pre;
        e.websocket_servers = ws;
        e.challenges = self.auth.evicted();
        e.redirects = self.redirect.evicted();
        e.once = once + self.no_body.evicted;
        s
    }
}

/// A finding placed on its transaction: connection, message, packet, time.
fn place(t: &mut TransactionRecord, f: Found) -> Finding {
    if !t.findings.contains(&f.code.name) {
        t.findings.push(f.code.name);
    }
    let mut g = Finding::new(f.code, f.msg).conn(t.connection).txn(t.id);
    let req = t
        .request
        .as_ref()
        .map(|r| (Dir::ClientToServer, r.at, t.timing.request_start));
    let resp = t
        .response
        .as_ref()
        .map(|r| (Dir::ServerToClient, r.at, t.timing.response_start));
    let at = match f.side {
        Side::Request => req.or(resp),
        Side::Response => resp.or(req),
    };
    if let Some((d, at, ts)) = at {
        g = g.dir(d, at.stream_offset);
        if let Some(ts) = ts {
            g = g.at(at.packet, ts);
        }
    }
    g
}

impl Semantics {
    /// The step: a transaction gets its `semantics` (findings of its own before it), a finding
    /// may add one about the transaction it concerns, a closed connection ends what was
    /// followed on it; everything is passed on to `out`.
    pub fn step(&mut self, record: Record, out: &mut dyn RecordSink) {
        match record {
            Record::Transaction(mut t) => {
                self.transaction(&mut t, out);
                out.record(Record::Transaction(t));
            }
            Record::Finding(f) => {
                let extra = self.finding(&f);
                out.record(Record::Finding(f));
                if let Some(g) = extra {
                    out.record(Record::Finding(Box::new(g)));
                }
            }
            Record::Connection(c) => {
                self.connection_closed(c.id);
                out.record(Record::Connection(c));
            }
            other => out.record(other),
        }
    }
}
