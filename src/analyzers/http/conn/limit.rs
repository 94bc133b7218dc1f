//! The pipeline limit: never a wrong pair.
//!
//! At most [`HttpConfig::max_pending`](crate::analyzers::http::HttpConfig) transactions wait on
//! a connection. When a request comes with the queue full, the oldest request still waiting for
//! its response (one whose response has not begun) is given up: reported at once without a
//! response. Responses still come in request order (RFC 9112 §9.3.2), so the one that answers it
//! is not paired with the next request: what its framing needs to know of the request (HEAD,
//! CONNECT, an upgrade, HTTP/0.9) is remembered as a [`Ghost`], and when its turn comes the
//! response is reported as a transaction of its own without a request (an orphan), its
//! `findings` naming `http.pipeline-limit`. One finding per connection, raised when it ends,
//! gives the counts (requests given up, their responses reported as orphans, responses that
//! never came); `pipeline_limit_hits` in the summary counts the requests given up.
//!
//! Ghosts are kept run-length encoded (10,000 pipelined GETs are one run). More than
//! [`MAX_GHOST_RUNS`] runs (requests of alternating kinds given up by the thousand) cannot be
//! followed within bounds: the connection's HTTP analysis stops there, as a switch to bytes
//! nobody analyses, and the finding says so; nothing is paired wrongly either way.

use std::collections::VecDeque;

use super::{Em, HttpConn, Mark, MethodKind, SwitchAsk, Txn};
use crate::analyzers::layer::Next;
use crate::base::heap;
use crate::model::codes;
use crate::model::{Dir, Finding, Record};

/// Runs of given-up requests' kinds kept per connection (8 bytes each).
const MAX_GHOST_RUNS: usize = 1024;

/// What the framing of a response needs to know of the request it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ghost {
    method: Option<MethodKind>,
    http09: bool,
    /// The request asked to upgrade (a CONNECT is `method`).
    upgrade: bool,
}

impl Ghost {
    fn of(t: &Txn) -> Self {
        Ghost {
            method: t.method,
            http09: t.http09,
            upgrade: matches!(t.ask, Some(SwitchAsk::Upgrade(_))),
        }
    }
}

/// Requests given up at the pipeline limit on one connection, and their responses.
pub(super) struct Overflow {
    /// The responses still to come for requests given up, in order, run-length encoded.
    ghosts: VecDeque<(Ghost, u32)>,
    given_up: u64,
    orphans: u64,
    /// Where the limit was first hit.
    first: Mark,
    /// Too many runs: the connection's HTTP analysis stopped.
    stopped: bool,
}

impl Overflow {
    /// Heap bytes held, for the memory budget (at most [`MAX_GHOST_RUNS`] runs of 8 bytes).
    pub(super) fn heap_bytes(&self) -> usize {
        heap::boxed::<Overflow>(heap::deque(&self.ghosts))
    }
}

/// Whether the transaction's response has begun (a 1xx, or the final head).
fn answered(t: &Txn) -> bool {
    t.rec().response.is_some() || !t.rec().interim.is_empty()
}

impl HttpConn {
    /// The queue is full and a request at `mark` comes: the oldest request still waiting for
    /// its response is reported without one, and its response will be an orphan. Returns
    /// whether HTTP analysis stopped instead (too many runs of ghosts).
    pub(super) fn give_up_oldest(&mut self, mark: Mark, em: &mut Em<'_>) -> bool {
        let c = self.resp_cursor;
        let i = if self.pending.get(c).is_some_and(answered) {
            c + 1
        } else {
            c
        };
        let Some(mut t) = self.pending.remove(i) else {
            return false;
        };
        em.sh.stats.pipeline_limit_hits += 1;
        let ghost = Ghost::of(&t);
        let o = self.overflow.get_or_insert_with(|| {
            Box::new(Overflow {
                ghosts: VecDeque::new(),
                given_up: 0,
                orphans: 0,
                first: mark,
                stopped: false,
            })
        });
        o.given_up += 1;
        match o.ghosts.back_mut() {
            Some((g, n)) if *g == ghost && *n < u32::MAX => *n += 1,
            _ => o.ghosts.push_back((ghost, 1)),
        }
        let full = o.ghosts.len() > MAX_GHOST_RUNS;
        o.stopped = full;
        let code = codes::HTTP_PIPELINE_LIMIT.name;
        if !t.rec().findings.contains(&code) {
            t.rec_mut().findings.push(code);
        }
        self.emit(t, em);
        if full {
            // Not followed further: the queue is reported at the end, nothing more is paired.
            self.switch_protocols(Next::Opaque, em);
        }
        full
    }

    /// Before a response head (or an HTTP/0.9 response) is taken: when it answers a request
    /// given up at the limit, its orphan transaction goes in at the cursor. Returns whether it
    /// did. (Inline: on every response, and almost always no limit was hit.)
    #[inline]
    pub(super) fn orphan_for_given_up(&mut self, em: &mut Em<'_>) -> bool {
        self.overflow.is_some() && self.orphan_for_ghost(em)
    }

    fn orphan_for_ghost(&mut self, em: &mut Em<'_>) -> bool {
        let c = self.resp_cursor;
        if self.pending.get(c).is_some_and(answered) {
            return false;
        }
        let Some(o) = self.overflow.as_mut() else {
            return false;
        };
        let Some((ghost, n)) = o.ghosts.front_mut() else {
            return false;
        };
        let g = *ghost;
        *n -= 1;
        if *n == 0 {
            o.ghosts.pop_front();
        }
        o.orphans += 1;
        let mut t = self.new_txn(em);
        t.request_done = true;
        t.method = g.method;
        t.http09 = g.http09;
        t.ask = if g.method == Some(MethodKind::Connect) {
            Some(SwitchAsk::Connect)
        } else if g.upgrade {
            Some(SwitchAsk::Upgrade(Vec::new()))
        } else {
            None
        };
        t.rec_mut().findings.push(codes::HTTP_PIPELINE_LIMIT.name);
        self.pending.insert(c.min(self.pending.len()), t);
        true
    }

    /// Whether the next response answers an HTTP/0.9 request (a bare body, no status line).
    #[inline]
    pub(super) fn next_response_is_09(&self) -> bool {
        let c = self.pending.get(self.resp_cursor);
        if let Some((g, _)) = self.overflow.as_ref().and_then(|o| o.ghosts.front())
            && !c.is_some_and(answered)
        {
            return g.http09;
        }
        c.is_some_and(|t| t.http09 && t.rec().response.is_none())
    }

    /// The connection ended: the one pipeline-limit finding, with the counts.
    pub(super) fn report_overflow(&mut self, em: &mut Em<'_>) {
        let Some(o) = self.overflow.take() else {
            return;
        };
        let never = o.given_up - o.orphans;
        let never = if never > 0 {
            format!("; {never} of those responses never came")
        } else {
            String::new()
        };
        let stopped = if o.stopped {
            format!(
                "; the requests given up were of more than {MAX_GHOST_RUNS} alternating kinds \
                 (HEAD, CONNECT, upgrades), so HTTP analysis stopped there"
            )
        } else {
            String::new()
        };
        let ctx = em.ctx;
        em.out.record(Record::Finding(Box::new(
            Finding::new(
                &codes::HTTP_PIPELINE_LIMIT,
                format!(
                    "more than {} requests were waiting for responses on this connection: {} \
                     were given up, each reported without its response, and the {} responses \
                     that answered them were reported without their requests, never paired \
                     with a later one{never}{stopped}",
                    em.sh.cfg.max_pending, o.given_up, o.orphans
                ),
            )
            .conn(ctx.conn)
            .at(o.first.packet, o.first.ts)
            .dir(Dir::ClientToServer, o.first.offset),
        )));
    }
}
