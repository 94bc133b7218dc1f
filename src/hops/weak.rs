//! Pairs across two captures whose clock offset is not known, by weaker evidence than a
//! unique id: what a proxy relays unchanged, scored, accepted only when unique on both sides
//! and consistent in time with the other pairs.
//!
//! A client leg on one capture and the upstream leg on another (another host, another clock)
//! with no request id, no WebSocket key and no forwarding header naming the client (tinyproxy
//! adds only `Via`; nginx, unless told, nothing) still share much: the method and the resource
//! (the path; the client may have sent the absolute form to a forward proxy), `Host`,
//! `User-Agent`, cookies, the `Via` the proxy added (the same `Via` it put on the response it
//! relayed to the client names it), and the response it relayed unchanged: status, length,
//! `Content-Type`, `ETag`, `Last-Modified` and the origin's `Date`. None of it is unique the
//! way a request id is (the same URL fetched twice, `GET /health` every second), so:
//!
//! 1. a candidate must have a sign of the proxy ([`weak_score`]: a `Via` naming it or added by
//!    it, an absolute-form client target, forwarding headers added, the proxy's own address),
//!    or, with the same origin `ETag`, `Last-Modified` or body on both responses, an
//!    upstream request downgraded to HTTP/1.0 or a `Server` the proxy replaced; nothing that
//!    contradicts it (another status, `ETag` or `Last-Modified`, another body of the same
//!    content coding; not `Date`, which nginx writes itself; a forwarding header naming another
//!    address than the front capture's client only without the same content on both responses
//!    (`ETag`, `Last-Modified` or body): a NAT in front of the proxy explains it, and then it
//!    is a sign of the proxy worth no points), the same method and path, times some offset
//!    within [`MAX_SKEW_NS`] fits, and a score of at least [`WEAK_MIN`];
//! 2. it is decided only once no competitor can still arrive ([`Weak::ripe`]), and accepted
//!    only when it is the unique best for both its legs (ties leave both unpaired);
//! 3. the accepted ones and the pairs that needed no clock must agree on the offset
//!    ([`select`]: the offset most of them allow; a candidate whose bounds do not hold it is
//!    rejected), with at least [`MIN_CLOCK_SUPPORT`] pairs behind it, more than half of those
//!    seen, or at the end of the run one lone unique candidate with nothing to contradict it.
//!
//! Once the offset is known, legs are timed by it (the ordinary pairing), and across captures a
//! pair that needs the clock is made only when it is the unique best match (ties wait: another
//! leg may take one of them, or they stay unpaired), never by guessing.

use super::clock::{self, ClockEstimate, HopTimes};
use super::{BodyFacts, MAX_SKEW_NS, MIN_CLOCK_SUPPORT, Snap, TIES, directed, names_client};

/// The least score of a pair by weaker evidence.
pub(crate) const WEAK_MIN: u32 = 8;
/// How long after both legs ended a candidate is decided (raw capture time: no competitor can
/// arrive later than the clocks can differ, twice over).
pub(crate) const RIPE_AFTER_NS: i64 = 2 * MAX_SKEW_NS;

/// A candidate pair across two captures by weaker evidence, waiting to be decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Weak {
    /// (front capture's clock, back capture's clock).
    pub clocks: (u32, u32),
    /// Window sequence numbers and transaction ids of the client (front) and upstream legs.
    pub fq: u64,
    pub fid: u64,
    pub bq: u64,
    pub bid: u64,
    pub score: u32,
    /// A hash of the legs' path's last segment (what the window indexes them by).
    pub tail: u64,
    pub times: HopTimes,
    /// Raw capture time after which no competitor can arrive.
    pub ripe: i64,
}

impl Weak {
    /// `f` the client leg at window `fq`, `b` the upstream leg at `bq`.
    pub fn of(f: &Snap, fq: u64, b: &Snap, bq: u64, score: u32) -> Option<Weak> {
        Some(Weak {
            clocks: (f.file?, b.file?),
            fq,
            fid: f.id,
            bq,
            bid: b.id,
            score,
            tail: tail_hash(f.path()),
            times: times(f, b)?,
            ripe: f.end?.0.max(b.end?.0).saturating_add(RIPE_AFTER_NS),
        })
    }
}

/// A hash of `path`'s last segment ([`Weak::tail`]).
pub(crate) fn tail_hash(path: &str) -> u64 {
    hash_tail(super::tail(path))
}

/// [`tail_hash`] of a path whose last segment is `tail`.
pub(crate) fn hash_tail(tail: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    tail.hash(&mut h);
    h.finish()
}

/// The hop's times, each on its own capture's clock.
pub(crate) fn times(f: &Snap, b: &Snap) -> Option<HopTimes> {
    Some(HopTimes {
        front_start: f.start.0,
        front_end: f.end?.0,
        back_start: b.start.0,
        back_end: b.end?.0,
    })
}

fn resp<'a>(s: &'a Snap, name: &str) -> Option<&'a [u8]> {
    s.resp.as_ref()?.get(name)
}

/// `W/"x"` and `"x"` are one entity tag (a proxy that compresses weakens it).
fn etag(v: &[u8]) -> &[u8] {
    let v = v.trim_ascii();
    v.strip_prefix(b"W/").unwrap_or(v)
}

/// The host the request names: `:authority`, `Host`, or the absolute-form target's.
fn host(s: &Snap) -> Option<String> {
    if let Some(a) = &s.authority {
        return Some(a.to_ascii_lowercase());
    }
    if let Some(h) = s.req.get("host") {
        return Some(String::from_utf8_lossy(h).trim().to_ascii_lowercase());
    }
    let t = s.target.split_once("://")?.1;
    Some(t.split('/').next().unwrap_or(t).to_ascii_lowercase())
}

/// The elements of comma-separated `Via` values.
fn via_elements(vals: impl Iterator<Item = Vec<u8>>) -> Vec<String> {
    vals.flat_map(|v| {
        String::from_utf8_lossy(&v)
            .split(',')
            .map(|x| x.trim().to_ascii_lowercase())
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
    })
    .collect()
}

/// The upstream request's `Via` names the proxy that answered the client: an element of it is
/// on the client's response too (a proxy adds the same `Via` both ways).
fn via_names_proxy(f: &Snap, b: &Snap) -> bool {
    let Some(r) = f.resp.as_ref() else {
        return false;
    };
    let front = via_elements(r.values("via").map(<[u8]>::to_vec));
    let sent = via_elements(f.req.values("via").map(<[u8]>::to_vec));
    via_elements(b.req.values("via").map(<[u8]>::to_vec))
        .iter()
        .any(|x| front.contains(x) && !sent.contains(x))
}

const FORWARDING: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

/// Scores `b` (on another capture, the clocks' offset unknown) as the upstream leg of `f` by
/// evidence weaker than a unique id; `None` when it cannot be (see the module doc). With `ev`,
/// each clue is written down. `back_known`: `b` comes from an address `f`'s proxy was seen
/// sending from.
pub(crate) fn weak_score(
    f: &Snap,
    b: &Snap,
    back_known: bool,
    mut ev: Option<&mut Vec<String>>,
) -> Option<u32> {
    let (Some(x), Some(y)) = (f.file, b.file) else {
        return None;
    };
    if x == y
        || b.conn == f.conn
        || b.server == f.server
        || b.method != f.method
        || b.path() != f.path()
        || f.method == "CONNECT"
    {
        return None;
    }
    // Some offset within what two clocks may differ by fits the two legs' times.
    let (lo, hi) = times(f, b)?.bounds()?;
    if lo > MAX_SKEW_NS || hi < -MAX_SKEW_NS {
        return None;
    }
    if !directed(f, b) {
        return None;
    }
    // What contradicts it: another response. (Not a forwarding header naming another client
    // than the front capture's: across captures a NAT may stand between the client and the
    // proxy, as in front of most load balancers, so the proxy saw another address.)
    if let (Some(a), Some(c)) = (f.status, b.status)
        && a != c
    {
        return None;
    }
    // (Not `Date`: nginx writes its own unless told to pass the upstream's.)
    if let (Some(a), Some(c)) = (resp(f, "last-modified"), resp(b, "last-modified"))
        && a.trim_ascii() != c.trim_ascii()
    {
        return None;
    }
    if let (Some(a), Some(c)) = (resp(f, "etag"), resp(b, "etag"))
        && etag(a) != etag(c)
    {
        return None;
    }
    // Bodies seen whole with the same content coding on both legs are the same bytes when the
    // proxy relayed them (a proxy that compresses changes the coding, and is not judged here).
    let body = |a: Option<&BodyFacts>, c: Option<&BodyFacts>, len: u64| match (a, c) {
        (Some(a), Some(c)) if len > 0 && a.coding == c.coding => {
            a.digest.zip(c.digest).map(|(x, y)| x == y)
        }
        _ => None,
    };
    let req_body = body(
        Some(&f.req_body),
        Some(&b.req_body),
        f.req_len.min(b.req_len),
    );
    let resp_body = body(
        f.resp_body.as_ref(),
        b.resp_body.as_ref(),
        f.resp_len.unwrap_or(0).min(b.resp_len.unwrap_or(0)),
    );
    if req_body == Some(false) || resp_body == Some(false) {
        return None;
    }
    let mut note = |why: &dyn Fn() -> String| {
        if let Some(ev) = ev.as_deref_mut() {
            ev.push(why());
        }
    };
    let mut s = 3;
    note(&|| format!("same target {} (+3)", b.path()));
    // A sign that a proxy stands between these legs (required).
    let mut proxy = false;
    if f.target
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
    {
        s += 2;
        proxy = true;
        note(&|| "absolute-form target: the front leg goes to a forward proxy (+2)".into());
    }
    if via_names_proxy(f, b) {
        s += 4;
        proxy = true;
        note(&|| {
            "upstream request carries the Via the proxy put on the client's response (+4)".into()
        });
    } else if b.req.get("via").is_some() && f.req.get("via") != b.req.get("via") {
        s += 2;
        proxy = true;
        note(&|| "upstream request carries a Via the proxy added (+2)".into());
    }
    let same_resp = |n: &str| match (resp(f, n), resp(b, n)) {
        (Some(a), Some(c)) if n == "etag" => etag(a) == etag(c),
        (Some(a), Some(c)) => a.trim_ascii() == c.trim_ascii(),
        _ => false,
    };
    // A forwarding header naming another address than the front capture's client: a NAT in
    // front of the proxy, or another client. Only the same content on both responses (the
    // origin's `ETag`, `Last-Modified` or body) lets such a pair stand.
    let same_content = same_resp("etag") || same_resp("last-modified") || resp_body == Some(true);
    let elsewhere = FORWARDING
        .iter()
        .any(|n| b.req.get(n).is_some() && !names_client(f, b, n));
    if elsewhere && !same_content {
        return None;
    }
    for n in FORWARDING {
        if names_client(f, b, n) {
            s += 3;
            proxy = true;
            note(&|| format!("upstream {n} names the client {} (+3)", f.client.ip));
        } else if b.req.get(n).is_some() && f.req.get(n).is_none() {
            // A proxy stands between them, but whether it is this client's is not said: no
            // points (the rest must carry the pair).
            proxy = true;
            note(&|| {
                format!(
                    "upstream {n} added by the proxy, naming another address than the client's \
                     in the front capture (a NAT in between?) (+0)"
                )
            });
        }
    }
    for n in ["x-forwarded-host", "x-forwarded-proto"] {
        if b.req.get(n).is_some() && f.req.get(n).is_none() {
            s += 1;
            proxy = true;
            note(&|| format!("upstream {n} added by the proxy (+1)"));
        }
    }
    if b.client.ip == f.server.ip {
        s += 1;
        proxy = true;
        note(&|| "the upstream request comes from the proxy's address (+1)".into());
    } else if back_known {
        s += 1;
        proxy = true;
        note(&|| {
            format!(
                "the upstream request comes from {}, another address of the proxy (+1)",
                b.client.ip
            )
        });
    }
    // Softer signs, enough only with the same content on both legs (the origin's `ETag` or
    // `Last-Modified` relayed, or the same response body; not `Date`, which a proxy may write itself and which two
    // unrelated responses share within a second): an upstream request downgraded to HTTP/1.0
    // (nginx's default) or a `Server` on the client's response other than the upstream's (the
    // proxy put its own).
    if !proxy && (same_resp("etag") || same_resp("last-modified") || resp_body == Some(true)) {
        if b.version == "HTTP/1.0" && f.version != "HTTP/1.0" {
            s += 1;
            proxy = true;
            note(&|| {
                format!(
                    "upstream request downgraded from {} to HTTP/1.0, as a proxy does (+1)",
                    f.version
                )
            });
        }
        if let (Some(a), Some(c)) = (resp(f, "server"), resp(b, "server"))
            && a != c
        {
            s += 1;
            proxy = true;
            note(&|| {
                format!(
                    "the client's response names another Server ({}) than the upstream's: the \
                     proxy put its own (+1)",
                    String::from_utf8_lossy(a)
                )
            });
        }
    }
    if !proxy {
        return None;
    }
    if let (Some(a), Some(c)) = (host(f), host(b))
        && a == c
    {
        s += 1;
        note(&|| format!("same Host {a} (+1)"));
    }
    for (name, w, why) in TIES {
        if *w < 6
            && let (Some(a), Some(c)) = (f.req.get(name), b.req.get(name))
            && a == c
        {
            s += w;
            note(&|| format!("{why} (+{w})"));
        }
    }
    if f.req_len == b.req_len && f.req_len > 0 {
        s += 1;
        note(&|| format!("same request body length {} (+1)", f.req_len));
    }
    if req_body == Some(true) {
        s += 2;
        note(&|| "same request body (its digest) (+2)".into());
    }
    // The response the proxy relayed unchanged.
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
    if resp_body == Some(true) {
        s += 3;
        note(&|| "same response body (its digest) (+3)".into());
    }
    for (n, shown, w) in [
        ("date", "Date", 2),
        ("etag", "ETag", 3),
        ("last-modified", "Last-Modified", 2),
        ("content-type", "Content-Type", 1),
    ] {
        if same_resp(n) {
            s += w;
            note(&|| format!("same response {shown} (+{w})"));
        }
    }
    (s >= WEAK_MIN).then_some(s)
}

/// Which of `cands` to accept: each the unique best of its legs (a leg's best score reached
/// by no other candidate of it, whichever side it is on), not `barred` (a leg or its path had
/// more candidates than were kept), `ripe` ones only unless `all`, and in agreement, per pair of
/// clocks, with the offset most of them and `strong(clocks)` (the pairs that needed no clock)
/// allow. Returns the indexes accepted.
pub(crate) fn select(
    cands: &[Weak],
    latest: i64,
    all: bool,
    strong: &dyn Fn((u32, u32)) -> Vec<HopTimes>,
    barred: &dyn Fn(&Weak) -> bool,
) -> Vec<usize> {
    let mut best: rustc_hash::FxHashMap<u64, (u32, u32)> = Default::default();
    for c in cands {
        for q in [c.fq, c.bq] {
            let e = best.entry(q).or_insert((0, 0));
            if c.score > e.0 {
                *e = (c.score, 1);
            } else if c.score == e.0 {
                e.1 += 1;
            }
        }
    }
    let unique = |c: &Weak| {
        [c.fq, c.bq]
            .iter()
            .all(|q| best.get(q) == Some(&(c.score, 1)))
    };
    let mut groups: std::collections::BTreeMap<(u32, u32), Vec<usize>> = Default::default();
    for (i, c) in cands.iter().enumerate() {
        if (all || c.ripe < latest) && unique(c) && !barred(c) {
            groups.entry(c.clocks).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (k, idx) in groups {
        let mut pairs = strong(k);
        let known = pairs.len();
        pairs.extend(idx.iter().map(|i| cands[*i].times));
        let Some(e) = clock::estimate(&pairs) else {
            continue;
        };
        let agreed = e.support >= MIN_CLOCK_SUPPORT && 2 * e.support > e.pairs;
        let lone = all && known == 0 && idx.len() == 1;
        if !agreed && !lone {
            continue;
        }
        out.extend(idx.into_iter().filter(|i| holds(&cands[*i].times, &e)));
    }
    out
}

/// `t`'s bounds hold the estimate's interval.
fn holds(t: &HopTimes, e: &ClockEstimate) -> bool {
    t.bounds()
        .is_some_and(|(lo, hi)| lo <= e.interval.0 && e.interval.1 <= hi)
}
