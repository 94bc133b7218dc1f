//! HTTP/2 streams as transactions: the layer driven through [`Layer`] on scripted frames,
//! each step one packet, then the end.

#![allow(clippy::unwrap_used)]
use std::io::Write as _;

use proptest::prelude::*;

use super::frame::*;
use super::tests::{arb_frames, client_start, conversation, frame, hpack_block, pieces, settings};
use super::txn::MAX_OPEN;
use super::{H2Layer, PREFACE};
use crate::analyzers::http::HttpConfig;
use crate::analyzers::http::conn::Shared;
use crate::analyzers::layer::{Ids, Layer, Upgrade};
use crate::analyzers::stack::Shared as StackShared;
use crate::analyzers::websocket::WsShared;
use crate::base::Timestamp;
use crate::engine::Ctx;
use crate::model::codes::{H2_HPACK_STOPPED, H2_OPEN_STREAM_LIMIT, HTTP_DECODING_ERROR};
use crate::model::http::{
    BodyFraming, BodyState, Headers, HopReason, MessageStart, RequestRecord, Timing,
    TransactionRecord, TxnState,
};
use crate::model::http2::Http2Record;
use crate::model::{Dir, Endpoint, Record};

fn ctx(d: usize, packet: u64) -> Ctx {
    let ep = |port| Endpoint {
        ip: "192.0.2.1".parse().unwrap(),
        port,
    };
    Ctx {
        conn: 7,
        dir: Dir::from_index(d),
        client: ep(40000),
        server: ep(80),
        ts: Timestamp(packet as i64 * 1_000_000),
        packet,
        midstream: false,
    }
}

/// A layer being played: its shared state, offsets per direction, the records so far.
struct Play {
    layer: H2Layer,
    sh: StackShared,
    ids: Ids,
    off: [u64; 2],
    out: Vec<Record>,
    packet: u64,
}

impl Play {
    fn new(cfg: HttpConfig) -> Self {
        Play {
            layer: H2Layer::prior_knowledge(0, &ctx(0, 0), 0, false),
            sh: StackShared {
                http: Shared::new(cfg),
                ws: WsShared::new(Default::default()),
                tls: Default::default(),
                tap: None,
            },
            ids: Ids::default(),
            off: [0, 0],
            out: Vec::new(),
            packet: 0,
        }
    }

    /// One packet of direction `d`, delivered in these pieces.
    fn packet(&mut self, d: usize, parts: &[Vec<u8>]) {
        self.packet += 1;
        let c = ctx(d, self.packet);
        for p in parts {
            let (sh, ids, out) = (&mut self.sh, &mut self.ids, &mut self.out);
            self.layer.data(sh, ids, &c, self.off[d], p, out);
            self.off[d] += p.len() as u64;
        }
    }

    fn send(&mut self, d: usize, b: &[u8]) {
        self.packet(d, &[b.to_vec()]);
    }

    fn gap(&mut self, d: usize, n: u64) {
        self.packet += 1;
        let c = ctx(d, self.packet);
        let (sh, ids, out) = (&mut self.sh, &mut self.ids, &mut self.out);
        self.layer.gap(sh, ids, &c, self.off[d], n, out);
        self.off[d] += n;
    }

    fn close(mut self) -> Vec<Record> {
        let c = ctx(0, self.packet + 1);
        let (sh, ids, out) = (&mut self.sh, &mut self.ids, &mut self.out);
        self.layer.close(sh, ids, &c, out);
        self.out
    }
}

/// Plays (direction, bytes) in order, each its own packet, then the end.
pub(super) fn play(steps: &[(usize, Vec<u8>)]) -> Vec<Record> {
    play_with(HttpConfig::default(), steps)
}

fn play_with(cfg: HttpConfig, steps: &[(usize, Vec<u8>)]) -> Vec<Record> {
    let mut p = Play::new(cfg);
    for (d, b) in steps {
        p.send(*d, b);
    }
    p.close()
}

pub(super) fn txns(recs: &[Record]) -> Vec<&TransactionRecord> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Transaction(t) => Some(&**t),
            _ => None,
        })
        .collect()
}

fn http2(recs: &[Record]) -> &Http2Record {
    recs.iter()
        .find_map(|r| match r {
            Record::Http2(h) => Some(&**h),
            _ => None,
        })
        .unwrap()
}

fn codes(recs: &[Record]) -> Vec<&'static str> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Finding(f) => Some(f.code.name),
            _ => None,
        })
        .collect()
}

fn headers(h: &[(&str, &str)], stream: u32, flags: u8) -> Vec<u8> {
    frame(HEADERS, END_HEADERS | flags, stream, &hpack_block(h))
}

fn get(stream: u32, path: &str) -> Vec<u8> {
    headers(
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", path),
        ],
        stream,
        END_STREAM,
    )
}

fn status(stream: u32, code: &str, flags: u8) -> Vec<u8> {
    headers(&[(":status", code)], stream, flags)
}

fn line(t: &TransactionRecord) -> (Option<u32>, String, u16, TxnState) {
    let req = t
        .request
        .as_ref()
        .map(|r| format!("{} {}", r.method, r.target))
        .unwrap_or_default();
    let st = t.response.as_ref().map_or(0, |r| r.status);
    (t.stream_id, req, st, t.state)
}

/// Three streams interleaved both ways: requests, request body, responses and DATA of
/// different streams alternate; each stream's pieces land on its own transaction.
fn multiplexed() -> Vec<(usize, Vec<u8>)> {
    let post = headers(
        &[
            (":method", "POST"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/b"),
            ("content-type", "text/plain"),
        ],
        3,
        0,
    );
    let c1 = [
        client_start(),
        get(1, "/a"),
        post,
        frame(DATA, 0, 3, b"hel"),
    ]
    .concat();
    let s1 = [
        settings(&[]),
        status(3, "200", 0),
        status(1, "200", 0),
        frame(DATA, 0, 1, b"one"),
    ]
    .concat();
    let c2 = [get(5, "/c"), frame(DATA, END_STREAM, 3, b"lo")].concat();
    let s2 = [
        frame(DATA, END_STREAM, 3, b"three"),
        frame(DATA, END_STREAM, 1, b"1"),
        status(5, "404", END_STREAM),
    ]
    .concat();
    vec![(0, c1), (1, s1), (0, c2), (1, s2)]
}

#[test]
fn multiplexed_streams_are_transactions_in_the_order_they_complete() {
    let recs = play(&multiplexed());
    assert!(codes(&recs).is_empty(), "{:?}", codes(&recs));
    let t = txns(&recs);
    let got: Vec<_> = t.iter().map(|t| line(t)).collect();
    assert_eq!(
        got,
        [
            (Some(3), "POST /b".into(), 200, TxnState::Complete),
            (Some(1), "GET /a".into(), 200, TxnState::Complete),
            (Some(5), "GET /c".into(), 404, TxnState::Complete),
        ]
    );
    // Ids and indexes in order of the first header block; emission in order of completion.
    let ids: Vec<_> = t.iter().map(|t| (t.id, t.index)).collect();
    assert_eq!(ids, [(1, 1), (0, 0), (2, 2)]);
    assert_eq!(http2(&recs).transactions, [0, 1, 2]);
    let post = t[0];
    let q = post.request.as_ref().unwrap();
    assert_eq!(q.version, "HTTP/2");
    assert_eq!(q.scheme.as_deref(), Some("https"));
    assert_eq!(q.authority.as_deref(), Some("example.com"));
    assert_eq!(q.target_form, "origin");
    assert_eq!(q.body.framing, BodyFraming::Http2Data);
    assert_eq!((q.body.length, q.body.wire_length), (5, 9 + 3 + 9 + 2));
    assert_eq!(q.body.content_type.as_deref(), Some("text/plain"));
    let names: Vec<_> = q
        .headers
        .iter()
        .map(|h| (h.name_str().into_owned(), h.pseudo))
        .collect();
    assert_eq!(
        names,
        [
            (":method".to_string(), true),
            (":scheme".into(), true),
            (":authority".into(), true),
            (":path".into(), true),
            ("content-type".into(), false),
        ]
    );
    let r = post.response.as_ref().unwrap();
    assert_eq!((r.version.as_ref(), r.reason.as_str()), ("HTTP/2", ""));
    assert_eq!((r.body.length, r.body.state), (5, BodyState::Complete));
    assert_eq!(t[1].response.as_ref().unwrap().body.length, 4);
    let five = t[2].response.as_ref().unwrap();
    assert_eq!(five.body.framing, BodyFraming::None);
    // Timing: the request's HEADERS and END_STREAM, the response's HEADERS and END_STREAM,
    // each at its packet (1 ms apart).
    let ms = |p: i64| Some(Timestamp(p * 1_000_000));
    let tm = &post.timing;
    assert_eq!(
        (
            tm.request_start,
            tm.request_end,
            tm.response_start,
            tm.response_end
        ),
        (ms(1), ms(3), ms(2), ms(4))
    );
    assert_eq!(tm.ttfb, Some(-0.001));
    // Where each message starts: the HEADERS frame, in its direction's stream.
    let pre = (PREFACE.len() + 9) as u64;
    assert_eq!(t[1].request.as_ref().unwrap().at.stream_offset, pre);
    assert_eq!(r.at.stream_offset, 9);
    let second = 9 + 9 + hpack_block(&[(":status", "200")]).len() as u64;
    assert_eq!(t[1].response.as_ref().unwrap().at.stream_offset, second);
}

#[test]
fn split_anywhere_gives_the_same_transactions() {
    let steps = multiplexed();
    let whole = serde_json::to_string(&txns(&play(&steps))).unwrap();
    let bytes: usize = steps.iter().map(|s| s.1.len()).sum();
    for cut in 1..bytes {
        // Each packet cut at `cut` modulo its length, and at a second place.
        let mut p = Play::new(HttpConfig::default());
        for (d, b) in &steps {
            p.packet(*d, &pieces(b, &[cut, cut * 7 + 3]));
        }
        let got = serde_json::to_string(&txns(&p.close())).unwrap();
        assert_eq!(got, whole, "cut at {cut}");
    }
}

#[test]
fn continuation_padding_interim_push_reset_and_goaway() {
    let (client, server) = conversation();
    let recs = play(&[(0, client), (1, server)]);
    let t = txns(&recs);
    let got: Vec<_> = t.iter().map(|t| line(t)).collect();
    // Stream 3 is reset by the client before any response; 1 completes, then the pushed 2.
    assert_eq!(
        got,
        [
            (Some(3), "GET /split/path".into(), 0, TxnState::Reset),
            (Some(1), "POST /up".into(), 200, TxnState::Complete),
            (Some(2), "GET /style.css".into(), 200, TxnState::Complete),
        ]
    );
    // CONTINUATION: one request from three frames, all counted in its head.
    let split = t[0];
    let q = split.request.as_ref().unwrap();
    assert_eq!(q.headers.get("x"), Some(&b"y"[..]));
    let block = hpack_block(&[(":method", "GET"), (":path", "/split/path"), ("x", "y")]);
    assert_eq!(q.at.head_bytes, 27 + block.len() as u64);
    let reset = split.reset.unwrap();
    assert_eq!((reset.code, reset.name, reset.by), (8, "CANCEL", "client"));
    // Padding: HEADERS padded (3) with a priority, DATA padded (2): the content only.
    let up = t[1];
    let q = up.request.as_ref().unwrap();
    assert_eq!((q.body.length, q.body.wire_length), (5, 9 + 1 + 5 + 2));
    assert_eq!(q.scheme.as_deref(), Some("http"));
    assert_eq!(up.interim.len(), 1);
    assert_eq!(up.interim[0].status, 103);
    assert_eq!(up.response.as_ref().unwrap().body.length, 20_000);
    assert!(up.reset.is_none());
    // The push: its request from the PUSH_PROMISE, linked to stream 1's transaction.
    let push = t[2];
    let promise = push.promised_by.unwrap();
    assert_eq!((promise.stream_id, promise.transaction), (1, Some(up.id)));
    let q = push.request.as_ref().unwrap();
    assert_eq!(q.body.framing, BodyFraming::None);
    assert_eq!(push.response.as_ref().unwrap().body.length, 6);
    assert_eq!(push.timing.request_start, push.timing.request_end);
    // The GOAWAY (last stream 3) leaves no stream unanswered here.
    assert!(t.iter().all(|t| t.state != TxnState::NotProcessed));
}

#[test]
fn goaway_marks_the_streams_above_its_last_stream_not_processed() {
    let c = [client_start(), get(1, "/a"), get(3, "/b"), get(5, "/c")].concat();
    let mut goaway = 1u32.to_be_bytes().to_vec();
    goaway.extend(0u32.to_be_bytes());
    let s = [
        settings(&[]),
        frame(GOAWAY, 0, 0, &goaway),
        status(1, "200", END_STREAM),
    ]
    .concat();
    let recs = play(&[(0, c), (1, s)]);
    let got: Vec<_> = txns(&recs).iter().map(|t| line(t)).collect();
    assert_eq!(
        got,
        [
            (Some(1), "GET /a".into(), 200, TxnState::Complete),
            (Some(3), "GET /b".into(), 0, TxnState::NotProcessed),
            (Some(5), "GET /c".into(), 0, TxnState::NotProcessed),
        ]
    );
}

#[test]
fn resets_before_during_and_after_the_response() {
    let rst = |stream, code: u32| frame(RST_STREAM, 0, stream, &code.to_be_bytes());
    let post = headers(&[(":method", "POST"), (":path", "/up")], 5, 0);
    let c = [
        client_start(),
        get(1, "/done"),
        get(3, "/cut"),
        post,
        frame(DATA, 0, 5, b"part"),
    ]
    .concat();
    let s = [
        settings(&[]),
        // 1: complete, then reset by the client (curl does): no error.
        status(1, "200", END_STREAM),
        // 3: the server gives up in the middle of the body.
        status(3, "200", 0),
        frame(DATA, 0, 3, b"half"),
        rst(3, 2),
        // 5: answered before the request body ended, then the server stops the upload.
        status(5, "413", END_STREAM),
        rst(5, 0),
    ]
    .concat();
    let recs = play(&[(0, c), (1, s), (0, rst(1, 8))]);
    let t = txns(&recs);
    let got: Vec<_> = t.iter().map(|t| line(t)).collect();
    assert_eq!(
        got,
        [
            (Some(1), "GET /done".into(), 200, TxnState::Complete),
            (Some(3), "GET /cut".into(), 200, TxnState::Reset),
            (Some(5), "POST /up".into(), 413, TxnState::Complete),
        ]
    );
    assert!(t[0].reset.is_none(), "reported before the reset came");
    let r = t[1].reset.unwrap();
    assert_eq!((r.code, r.name, r.by), (2, "INTERNAL_ERROR", "server"));
    let body = &t[1].response.as_ref().unwrap().body;
    assert_eq!((body.length, body.state), (4, BodyState::Incomplete));
    let r = t[2].reset.unwrap();
    assert_eq!((r.name, r.by), ("NO_ERROR", "server"));
    let upload = &t[2].request.as_ref().unwrap().body;
    assert_eq!((upload.length, upload.state), (4, BodyState::Incomplete));
}

/// RFC 9113 §8.1: the server answers in full, then stops the upload with RST_STREAM NO_ERROR;
/// the DATA the client had already sent (nginx's answer to curl's PUT in h2-semantics-curl:
/// the client's 12 bytes come after the reset) is still the request's body, and the
/// transaction is reported once the client ends its side.
#[test]
fn the_request_data_in_flight_after_a_stop_sending_reset_is_its_body() {
    let rst = |stream, code: u32| frame(RST_STREAM, 0, stream, &code.to_be_bytes());
    let put = headers(&[(":method", "PUT"), (":path", "/item")], 1, 0);
    let c1 = [client_start(), put, frame(DATA, 0, 1, b"{\"a\":")].concat();
    let s = [settings(&[]), status(1, "200", END_STREAM), rst(1, 0)].concat();
    let c2 = frame(DATA, END_STREAM, 1, b"1}");
    // Without the rest, the connection's end reports it: the upload incomplete.
    let recs = play(&[(0, c1.clone()), (1, s.clone())]);
    let upload = &txns(&recs)[0].request.as_ref().unwrap().body;
    assert_eq!((upload.length, upload.state), (5, BodyState::Incomplete));
    let recs = play(&[(0, c1), (1, s), (0, c2)]);
    let t = txns(&recs);
    assert_eq!(
        line(t[0]),
        (Some(1), "PUT /item".into(), 200, TxnState::Complete)
    );
    let r = t[0].reset.unwrap();
    assert_eq!((r.name, r.by), ("NO_ERROR", "server"));
    let upload = &t[0].request.as_ref().unwrap().body;
    assert_eq!((upload.length, upload.state), (7, BodyState::Complete));
    assert!(t[0].timing.request_end > t[0].timing.response_start);
    // A client that abandons the body as asked (curl: an empty DATA with END_STREAM) ends
    // short of its Content-Length without a finding (h2-semantics-curl's POSTs to redirects).
    let post = headers(
        &[
            (":method", "POST"),
            (":scheme", "https"),
            (":path", "/r"),
            ("content-length", "11"),
        ],
        1,
        0,
    );
    let s = [settings(&[]), status(1, "301", END_STREAM), rst(1, 0)].concat();
    let recs = play(&[
        (0, [client_start(), post].concat()),
        (1, s),
        (0, frame(DATA, END_STREAM, 1, b"")),
    ]);
    let t = txns(&recs);
    assert_eq!(
        line(t[0]),
        (Some(1), "POST /r".into(), 301, TxnState::Complete)
    );
    assert!(codes(&recs).is_empty(), "{:?}", codes(&recs));
    assert!(t[0].findings.is_empty());
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_body_is_decoded_like_http1_with_its_preview() {
    let text = b"hello hello hello hello, HTTP/2 body decoded by the HTTP/1 decoder".repeat(4);
    let z = gzip(&text);
    let (a, b) = z.split_at(z.len() / 2);
    let mut padded = vec![4];
    padded.extend(b);
    padded.extend([0; 4]);
    let s = [
        settings(&[]),
        headers(
            &[
                (":status", "200"),
                ("content-encoding", "gzip"),
                ("content-type", "text/plain"),
            ],
            1,
            0,
        ),
        frame(DATA, 0, 1, a),
        frame(DATA, END_STREAM | PADDED, 1, &padded),
    ]
    .concat();
    let cfg = HttpConfig {
        preview: 16,
        ..HttpConfig::default()
    };
    let recs = play_with(cfg, &[(0, [client_start(), get(1, "/z")].concat()), (1, s)]);
    let t = txns(&recs);
    let body = &t[0].response.as_ref().unwrap().body;
    assert_eq!(body.content_encoding, ["gzip"]);
    assert_eq!(body.length, z.len() as u64);
    assert_eq!(body.wire_length, z.len() as u64 + 18 + 5);
    assert_eq!(body.decoded_length, Some(text.len() as u64));
    assert_eq!(body.decoding, Some("complete"));
    assert_eq!(body.preview.as_deref(), Some("hello hello hell"));
    assert!(body.preview_truncated);

    // A body that is not gzip: the HTTP/1 finding, on this transaction.
    let s = [
        settings(&[]),
        headers(&[(":status", "200"), ("content-encoding", "gzip")], 1, 0),
        frame(DATA, END_STREAM, 1, b"not gzip at all"),
    ]
    .concat();
    let recs = play(&[(0, [client_start(), get(1, "/z")].concat()), (1, s)]);
    assert_eq!(codes(&recs), [HTTP_DECODING_ERROR.name]);
    assert_eq!(txns(&recs)[0].findings, [HTTP_DECODING_ERROR.name]);
}

#[test]
fn trailers_of_requests_and_responses() {
    let c = [
        client_start(),
        headers(
            &[(":method", "POST"), (":path", "/rpc"), ("te", "trailers")],
            1,
            0,
        ),
        frame(DATA, 0, 1, b"req"),
        headers(&[("x-checksum", "abc")], 1, END_STREAM),
    ]
    .concat();
    let s = [
        settings(&[]),
        status(1, "200", 0),
        frame(DATA, 0, 1, b"resp"),
        headers(
            &[("grpc-status", "0"), ("grpc-message", "ok")],
            1,
            END_STREAM,
        ),
    ]
    .concat();
    let recs = play(&[(0, c), (1, s)]);
    let t = txns(&recs);
    assert_eq!(line(t[0]).3, TxnState::Complete);
    let q = t[0].request.as_ref().unwrap();
    assert_eq!(q.body.trailers.get("x-checksum"), Some(&b"abc"[..]));
    assert_eq!(q.body.length, 3);
    let r = t[0].response.as_ref().unwrap();
    assert_eq!(r.body.trailers.len(), 2);
    assert_eq!(r.body.trailers.get("grpc-status"), Some(&b"0"[..]));
    assert_eq!(r.headers.len(), 1, "trailers are not response headers");
}

#[test]
fn early_hints_103_is_interim() {
    let s = [
        settings(&[]),
        headers(
            &[(":status", "103"), ("link", "</s.css>; rel=preload")],
            1,
            0,
        ),
        headers(&[(":status", "200"), ("link", "</s.css>")], 1, END_STREAM),
    ]
    .concat();
    let mut p = Play::new(HttpConfig::default());
    p.send(0, &[client_start(), get(1, "/")].concat());
    p.send(1, &s);
    let stats = p.sh.http.stats.clone();
    let recs = p.close();
    let t = txns(&recs)[0];
    assert_eq!(t.interim.len(), 1);
    let i = &t.interim[0];
    assert_eq!(i.status, 103);
    assert_eq!(i.headers.get("link"), Some(&b"</s.css>; rel=preload"[..]));
    assert_eq!(t.response.as_ref().unwrap().status, 200);
    assert_eq!(
        (stats.requests, stats.responses, stats.interim_responses),
        (1, 1, 1)
    );
    assert_eq!((stats.transactions, stats.connections), (1, 1));
}

#[test]
fn connection_specific_fields_are_hop_by_hop_forbidden_in_http2() {
    let c = [
        client_start(),
        headers(
            &[
                (":method", "GET"),
                (":path", "/"),
                ("connection", "keep-alive, x-hop"),
                ("keep-alive", "timeout=5"),
                ("proxy-connection", "keep-alive"),
                ("transfer-encoding", "chunked"),
                ("upgrade", "websocket"),
                ("te", "trailers"),
                ("te", "gzip"),
                ("x-hop", "1"),
                ("proxy-authorization", "Basic dXNlcjpwYXNz"),
                ("accept", "*/*"),
            ],
            1,
            END_STREAM,
        ),
    ]
    .concat();
    let recs = play(&[(0, c)]);
    let t = txns(&recs)[0];
    assert_eq!(t.state, TxnState::NoResponse);
    let q = t.request.as_ref().unwrap();
    let got: Vec<_> = q
        .headers
        .iter()
        .map(|h| (h.name_str().into_owned(), h.hop_by_hop, h.masked))
        .collect();
    let f = Some(HopReason::ForbiddenInHttp2);
    let std = Some(HopReason::Standard);
    assert_eq!(
        got,
        [
            (":method".into(), None, false),
            (":path".into(), None, false),
            ("connection".into(), f, false),
            ("keep-alive".into(), f, false),
            ("proxy-connection".into(), f, false),
            ("transfer-encoding".into(), f, false),
            ("upgrade".into(), f, false),
            ("te".into(), std, false),
            ("te".into(), f, false),
            ("x-hop".into(), Some(HopReason::NamedInConnection), false),
            ("proxy-authorization".into(), std, true),
            ("accept".into(), None, false),
        ]
    );
    assert_eq!(q.body.transfer_encoding, ["chunked"]);
    let json = serde_json::to_string(&q.headers).unwrap();
    assert!(json.contains(r#""hop_by_hop_reason":"forbidden-in-http2""#));
    assert!(json.contains(r#""pseudo":true"#));
}

#[test]
fn connect_targets_the_authority_and_undecodable_blocks_lose_the_request() {
    let c = [
        client_start(),
        headers(
            &[(":method", "CONNECT"), (":authority", "db.example:5432")],
            1,
            0,
        ),
    ]
    .concat();
    let s = [settings(&[]), status(1, "200", 0), frame(DATA, 0, 1, b"x")].concat();
    let recs = play(&[(0, c), (1, s)]);
    let q = txns(&recs)[0].request.as_ref().unwrap();
    assert_eq!(
        (q.target.as_str(), q.target_form, q.proxy_request),
        ("db.example:5432", "authority", true)
    );

    // A gap inside the client's header block: HPACK stops, the stream is still a
    // transaction, without its request; the server's side is decoded.
    let c = [client_start(), get(1, "/lost")].concat();
    let s = [settings(&[]), status(1, "204", END_STREAM)].concat();
    let mut p = Play::new(HttpConfig::default());
    let (a, b) = c.split_at(c.len() - 5);
    p.send(0, a);
    p.gap(0, 3);
    p.send(0, &b[3..]);
    p.send(1, &s);
    let recs = p.close();
    let t = txns(&recs);
    assert_eq!(
        line(t[0]),
        (Some(1), String::new(), 204, TxnState::NoRequest)
    );
    assert!(codes(&recs).contains(&H2_HPACK_STOPPED.name));
}

#[test]
fn open_streams_are_bounded_and_counted_in_the_footprint() {
    let mut p = Play::new(HttpConfig::default());
    let start = p.layer.footprint();
    let mut c = client_start();
    for i in 0..(MAX_OPEN as u32 + 10) {
        c.extend(get(2 * i + 1, "/many"));
    }
    p.send(0, &c);
    let full = p.layer.footprint();
    assert!(full > start + MAX_OPEN * 512, "{start} → {full}");
    let recs = p.close();
    let t = txns(&recs);
    assert_eq!(t.len(), MAX_OPEN);
    assert!(t.iter().all(|t| t.state == TxnState::NoResponse));
    assert_eq!(codes(&recs), [H2_OPEN_STREAM_LIMIT.name]);
}

#[test]
fn content_decoders_are_shed() {
    let z = gzip(&[b'a'; 100_000]);
    let s = [
        settings(&[]),
        headers(&[(":status", "200"), ("content-encoding", "gzip")], 1, 0),
        frame(DATA, 0, 1, &z[..z.len() / 2]),
    ]
    .concat();
    let mut p = Play::new(HttpConfig::default());
    p.send(0, &[client_start(), get(1, "/big")].concat());
    p.send(1, &s);
    let before = p.layer.footprint();
    let shed = p.layer.shed();
    assert_eq!(shed.len(), 2, "{shed:?}");
    assert!(shed[0].contains("gzip") && shed[0].contains("stream 1"));
    assert!(shed[1].contains("frame lists"), "{shed:?}");
    assert!(p.layer.footprint() < before);
    p.send(1, &frame(DATA, END_STREAM, 1, &z[z.len() / 2..]));
    let recs = p.close();
    let body = &txns(&recs)[0].response.as_ref().unwrap().body;
    assert_eq!(body.decoding, Some("shed"));
    assert_eq!(body.length, z.len() as u64);
}

#[test]
fn h2c_stream_1_answers_the_upgrading_request() {
    let mut request = Headers::default();
    request.push(b"Host", b"h", None, false);
    // SETTINGS_MAX_CONCURRENT_STREAMS 100, ENABLE_PUSH 0, unpadded base64url.
    request.push(b"HTTP2-Settings", b"AAMAAABkAAIAAAAA", None, false);
    let rec = RequestRecord {
        method: "GET".into(),
        method_b64: None,
        target: "/up".into(),
        target_b64: None,
        target_form: "origin",
        proxy_request: false,
        version: "HTTP/1.1".into(),
        scheme: None,
        authority: None,
        headers: request.clone(),
        body: super::fields::body_record(&Headers::default(), true),
        at: MessageStart {
            packet: 1,
            stream_offset: 0,
            head_bytes: 40,
        },
    };
    let up = Upgrade {
        protocol: "h2c".into(),
        txn: 41,
        method: Some("GET".into()),
        target: Some("/up".into()),
        request,
        response: Headers::default(),
        starts: [40, 70],
        request_record: Some(Box::new(rec)),
        request_timing: Timing {
            request_start: Some(Timestamp(5)),
            request_end: Some(Timestamp(6)),
            ..Timing::default()
        },
        index: 3,
    };
    let mut p = Play::new(HttpConfig::default());
    p.sh.http.next_txn_id();
    p.layer = H2Layer::after_upgrade(0, &ctx(0, 0), &up, &mut p.sh.http, false);
    p.off = [40, 70];
    p.send(0, &[client_start(), get(3, "/next")].concat());
    p.send(
        1,
        &[
            settings(&[]),
            status(1, "200", END_STREAM),
            status(3, "200", END_STREAM),
        ]
        .concat(),
    );
    let recs = p.close();
    let t = txns(&recs);
    let got: Vec<_> = t.iter().map(|t| (line(t), t.id, t.index)).collect();
    assert_eq!(
        got,
        [
            ((Some(1), "GET /up".into(), 200, TxnState::Complete), 1, 3),
            ((Some(3), "GET /next".into(), 200, TxnState::Complete), 2, 4),
        ]
    );
    assert_eq!(t[0].h2c_upgrade, Some(41));
    assert_eq!(t[0].request.as_ref().unwrap().version, "HTTP/1.1");
    assert_eq!(t[0].timing.request_start, Some(Timestamp(5)));
    assert_eq!(t[1].h2c_upgrade, None);
    let h = http2(&recs);
    let up: Vec<_> = h
        .settings
        .upgrade
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| (s.name, s.value))
        .collect();
    assert_eq!(up, [("MAX_CONCURRENT_STREAMS", 100), ("ENABLE_PUSH", 0)]);
    assert_eq!(h.transactions, [1, 2]);
}

proptest! {
    /// Random frames both ways, with gaps: no panic; every transaction is a stream's, at most
    /// MAX_OPEN open at once, and the same bytes cut anywhere give the same transactions.
    #[test]
    fn streams_never_panic_and_split_anywhere(
        client in arb_frames(),
        server in arb_frames(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        gap in proptest::option::of((0usize..2, 1u64..50)),
    ) {
        let client = [PREFACE, &client].concat();
        let mut whole = Play::new(HttpConfig::default());
        whole.send(0, &client);
        whole.send(1, &server);
        let mut cut = Play::new(HttpConfig::default());
        cut.packet(0, &pieces(&client, &cuts));
        cut.packet(1, &pieces(&server, &cuts));
        if let Some((d, n)) = gap {
            whole.gap(d, n);
            whole.send(d, &server);
        }
        let (whole, cut) = (whole.close(), cut.close());
        for t in txns(&whole) {
            prop_assert!(t.stream_id.is_some());
        }
        if gap.is_none() {
            prop_assert_eq!(
                serde_json::to_string(&txns(&cut)).unwrap(),
                serde_json::to_string(&txns(&whole)).unwrap()
            );
        }
    }
}
