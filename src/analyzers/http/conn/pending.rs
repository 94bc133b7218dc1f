//! A transaction in flight, and what its record holds on the heap, counted once and again only
//! after the record changed: the memory budget asks after every delivery, and most deliveries
//! (body bytes) leave every record in the queue as it was.
//!
//! The record is reached through [`Txn::rec`] and [`Txn::rec_mut`] only (its field is private
//! to this module): every change goes through `rec_mut`, which forgets the count.

use std::cell::Cell;

use super::{MethodKind, SwitchAsk};
use crate::model::http::TransactionRecord;

/// A transaction in flight.
pub(super) struct Txn {
    /// The record being built; emitted as is (boxed, so the queue moves a pointer).
    rec: Box<TransactionRecord>,
    /// `size_of::<TransactionRecord>()` plus the record's heap bytes, when counted since its
    /// last change ([`UNKNOWN`] otherwise). In the struct's padding: a `Txn` is no larger.
    heap: Cell<u32>,
    pub(super) request_done: bool,
    /// What the response framing needs to know about the request method.
    pub(super) method: Option<MethodKind>,
    /// An HTTP/0.9 request: its response is a bare body, no status line.
    pub(super) http09: bool,
    pub(super) ask: Option<SwitchAsk>,
    pub(super) response_done: bool,
}

/// Not counted since the record last changed.
const UNKNOWN: u32 = u32::MAX;

// The count lives in padding: the queue's capacity (counted per `Txn`) weighs what it did.
const _: () = assert!(size_of::<Txn>() == 40);

impl Txn {
    pub(super) fn new(rec: Box<TransactionRecord>) -> Self {
        Txn {
            rec,
            heap: Cell::new(UNKNOWN),
            request_done: false,
            method: None,
            http09: false,
            ask: None,
            response_done: false,
        }
    }

    pub(super) fn rec(&self) -> &TransactionRecord {
        &self.rec
    }

    /// The record, to change: its count is taken again when next asked for.
    pub(super) fn rec_mut(&mut self) -> &mut TransactionRecord {
        self.heap.set(UNKNOWN);
        &mut self.rec
    }

    pub(super) fn into_rec(self) -> Box<TransactionRecord> {
        self.rec
    }

    /// Bytes the transaction's record holds: its own size and its heap (as
    /// [`TransactionRecord::heap_bytes`] counts it, every time the same).
    pub(super) fn heap_bytes(&self) -> usize {
        let known = self.heap.get();
        if known != UNKNOWN {
            return known as usize;
        }
        let n = size_of::<TransactionRecord>() + self.rec.heap_bytes();
        if let Ok(v) = u32::try_from(n) {
            self.heap.set(v);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Endpoint;
    use crate::model::http::{Headers, RequestRecord};

    fn fresh() -> Txn {
        let ep = Endpoint {
            ip: std::net::IpAddr::from([192, 0, 2, 1]),
            port: 80,
        };
        Txn::new(Box::new(TransactionRecord::new(1, 2, 0, false, ep, ep)))
    }

    /// The count kept equals the count taken afresh after every kind of change.
    #[test]
    fn the_kept_count_follows_every_change_of_the_record() {
        let mut t = fresh();
        let afresh = |t: &Txn| size_of::<TransactionRecord>() + t.rec().heap_bytes();
        assert_eq!(t.heap_bytes(), afresh(&t));
        let mut headers = Headers::with_capacity(3, 100);
        headers.push(b"host", b"example", None, false);
        t.rec_mut().request = Some(RequestRecord {
            method: "GET".into(),
            method_b64: None,
            target: "/".repeat(40),
            target_b64: None,
            target_form: "origin",
            proxy_request: false,
            version: "HTTP/1.1".into(),
            scheme: None,
            authority: None,
            headers,
            body: crate::model::http::BodyRecord::empty(),
            at: crate::model::http::MessageStart {
                packet: 1,
                stream_offset: 0,
                head_bytes: 10,
            },
        });
        assert_eq!(t.heap_bytes(), afresh(&t));
        assert!(t.heap_bytes() > size_of::<TransactionRecord>() + 140);
        t.rec_mut().findings.push("x");
        assert_eq!(t.heap_bytes(), afresh(&t));
        if let Some(r) = t.rec_mut().request.as_mut() {
            r.body.content_type = Some("text/plain; charset=utf-8".into());
        }
        assert_eq!(t.heap_bytes(), afresh(&t));
        // Asked again without a change: the same.
        assert_eq!(t.heap_bytes(), t.heap_bytes());
    }
}
