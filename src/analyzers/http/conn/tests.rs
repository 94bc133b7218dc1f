#![allow(clippy::unwrap_used)]
use super::*;
use crate::model::Endpoint;
use crate::model::http::{BodyState, TransactionRecord};
use proptest::prelude::*;

/// Scripted input: (direction 0 = client, bytes) or a gap.
#[derive(Clone, Debug)]
pub(super) enum Step {
    Data(usize, Vec<u8>),
    Gap(usize, u64),
}

fn ep(port: u16) -> Endpoint {
    Endpoint {
        ip: "192.0.2.1".parse().unwrap(),
        port,
    }
}

pub(super) struct Out {
    pub(super) txns: Vec<TransactionRecord>,
    pub(super) findings: Vec<Finding>,
    not_http: bool,
}

pub(super) fn run_with(steps: &[Step], cfg: HttpConfig, midstream: [bool; 2]) -> Out {
    let mut sh = Shared::new(cfg);
    let mut ids = Ids::default();
    let mut c = HttpConn::new();
    let mut out: Vec<Record> = Vec::new();
    let mut off = [0u64; 2];
    for (i, s) in steps.iter().enumerate() {
        let d = match s {
            Step::Data(d, _) | Step::Gap(d, _) => *d,
        };
        let ctx = Ctx {
            conn: 7,
            dir: Dir::from_index(d),
            client: ep(40000),
            server: ep(80),
            ts: Timestamp(1_000_000 * (i as i64 + 1)),
            packet: i as u64 + 1,
            midstream: midstream[d],
        };
        // After a switch HTTP takes nothing more (the stack feeds the next protocol).
        let switch = match s {
            Step::Data(_, b) => {
                let sw = c.data(&mut sh, &mut ids, &ctx, off[d], b, &mut out);
                off[d] += b.len() as u64;
                sw
            }
            Step::Gap(_, n) => {
                let sw = c.gap(&mut sh, &mut ids, &ctx, off[d], *n, &mut out);
                off[d] += n;
                sw
            }
        };
        if switch.is_some_and(|sw| sw.keep) {
            c.handed_over(&mut sh, &mut ids, &ctx, &mut out);
        }
    }
    let ctx = Ctx {
        conn: 7,
        dir: Dir::ClientToServer,
        client: ep(40000),
        server: ep(80),
        ts: Timestamp(1_000_000 * (steps.len() as i64 + 2)),
        packet: steps.len() as u64 + 1,
        midstream: midstream[0],
    };
    let not_http = c.not_http;
    c.close(&mut sh, &mut ids, &ctx, &mut out);
    let mut txns = Vec::new();
    let mut findings = Vec::new();
    for r in out {
        match r {
            Record::Transaction(t) => txns.push(*t),
            Record::Finding(f) => findings.push(*f),
            _ => {}
        }
    }
    txns.sort_by_key(|t| t.id);
    Out {
        txns,
        findings,
        not_http,
    }
}

pub(super) fn run(steps: &[Step]) -> Out {
    let cfg = HttpConfig {
        preview: 1 << 16,
        ..HttpConfig::default()
    };
    run_with(steps, cfg, [false, false])
}

pub(super) fn c(b: &[u8]) -> Step {
    Step::Data(0, b.to_vec())
}
pub(super) fn s(b: &[u8]) -> Step {
    Step::Data(1, b.to_vec())
}

/// (method, target, status, interim statuses, response body length).
type Brief = (String, String, Option<u16>, Vec<u16>, Option<u64>);

fn summary(o: &Out) -> Vec<Brief> {
    o.txns
        .iter()
        .map(|t| {
            (
                t.request
                    .as_ref()
                    .map(|r| r.method.clone())
                    .unwrap_or_default(),
                t.request
                    .as_ref()
                    .map(|r| r.target.clone())
                    .unwrap_or_default(),
                t.response.as_ref().map(|r| r.status),
                t.interim.iter().map(|i| i.status).collect(),
                t.response.as_ref().map(|r| r.body.length),
            )
        })
        .collect()
}

pub(super) fn codes(o: &Out) -> Vec<&str> {
    o.findings.iter().map(|f| f.code.name).collect()
}

const PIPELINE_REQ: &[u8] =
    b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n";
const PIPELINE_RESP: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nnope\r\n0\r\nX-T: 1\r\n\r\n";

#[test]
fn rfc9112_s9_3_1_pipelined_requests_in_one_segment_pair_in_order_head_included() {
    let o = run(&[c(PIPELINE_REQ), s(PIPELINE_RESP)]);
    assert_eq!(
        summary(&o),
        vec![
            ("GET".into(), "/a".into(), Some(200), vec![], Some(3)),
            ("HEAD".into(), "/b".into(), Some(200), vec![], Some(0)),
            ("GET".into(), "/c".into(), Some(404), vec![], Some(4)),
        ]
    );
    let last = &o.txns[2].response.as_ref().unwrap().body;
    assert_eq!(last.chunks, Some(1));
    assert_eq!(last.chunk_extensions, vec![";x=y".to_string()]);
    assert_eq!(last.trailers.get("x-t"), Some(b"1".as_slice()));
    assert_eq!(last.preview.as_deref(), Some("nope"));
    assert!(o.findings.is_empty(), "{:?}", codes(&o));
    assert!(o.txns.iter().all(|t| t.state == TxnState::Complete));
}

#[test]
fn rfc9110_s15_2_interim_responses_attach_to_their_request() {
    let o = run(&[
        c(b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"),
        s(b"HTTP/1.1 100 Continue\r\n\r\n"),
        c(b"body"),
        s(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(
        summary(&o),
        vec![(
            "POST".into(),
            "/up".into(),
            Some(201),
            vec![100, 103, 103],
            Some(0)
        )]
    );
    let t = &o.txns[0];
    assert_eq!(t.request.as_ref().unwrap().body.length, 4);
    // TTFB counts to the final response, after the request body.
    assert!(t.timing.ttfb.unwrap() > 0.0);
}

#[test]
fn response_without_request_and_request_without_response() {
    let o = run(&[s(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]);
    assert_eq!(o.txns.len(), 1);
    assert_eq!(o.txns[0].state, TxnState::NoRequest);
    // The client side never spoke: the request was not captured.
    assert_eq!(codes(&o), vec!["http.response-without-request-captured"]);

    let o = run(&[
        c(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"),
        s(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(o.txns[1].state, TxnState::NoRequest);
    assert_eq!(codes(&o), vec!["http.response-without-request"]);

    let o = run(&[c(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n")]);
    assert_eq!(o.txns[0].state, TxnState::NoResponse);
}

#[test]
fn close_delimited_response_ends_at_connection_close() {
    let o = run(&[
        c(b"GET / HTTP/1.0\r\n\r\n"),
        s(b"HTTP/1.0 200 OK\r\n\r\nhello "),
        s(b"world"),
    ]);
    let b = &o.txns[0].response.as_ref().unwrap().body;
    assert_eq!(b.length, 11);
    assert_eq!(b.state, BodyState::Complete);
    assert_eq!(serde_json::to_value(b.framing).unwrap(), "close");
}

#[test]
fn body_shorter_than_content_length_is_reported() {
    let o = run(&[
        c(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
        s(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
    ]);
    assert_eq!(codes(&o), vec!["http.body-truncated"]);
    let b = &o.txns[0].response.as_ref().unwrap().body;
    assert_eq!(b.state, BodyState::Incomplete);
    assert_eq!(b.length, 3);
}

#[test]
fn a_gap_inside_a_content_length_body_keeps_the_stream_in_sync() {
    let o = run(&[
        c(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
        s(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"),
        Step::Gap(1, 5),
        s(b"xyz"),
        s(b"HTTP/1.1 204 No Content\r\n\r\n"),
    ]);
    assert_eq!(
        summary(&o).iter().map(|t| t.2).collect::<Vec<_>>(),
        vec![Some(200), Some(204)]
    );
    let b = &o.txns[0].response.as_ref().unwrap().body;
    assert_eq!(b.state, BodyState::Partial);
    assert_eq!(b.missing_bytes, 5);
    assert_eq!(b.length, 10);
}

#[test]
fn after_a_gap_between_messages_the_next_start_line_is_found() {
    let o = run(&[
        c(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"),
        Step::Gap(0, 40), // a lost request
        c(b"ost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n"),
    ]);
    let targets: Vec<String> = summary(&o).into_iter().map(|t| t.1).collect();
    assert_eq!(targets, vec!["/1".to_string(), "/3".to_string()]);
}

#[test]
fn rfc6455_s4_upgrade_switches_and_keeps_bytes_after_the_101() {
    let o = run(&[
        c(b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85abcd"),
        s(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi"),
        c(b"more frames"),
    ]);
    assert_eq!(o.txns.len(), 1);
    assert_eq!(
        o.txns[0].switched_to.as_ref().unwrap().protocol,
        "websocket"
    );
    // The junk after the 101 is the WebSocket analyzer's business, not HTTP's.
    assert!(
        !codes(&o).iter().any(|c| c.starts_with("http.")),
        "{:?}",
        codes(&o)
    );
}

#[test]
fn a_refused_upgrade_goes_on_as_http() {
    let o = run(&[
        c(b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
        s(b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(
        summary(&o)
            .iter()
            .map(|t| (t.1.clone(), t.2))
            .collect::<Vec<_>>(),
        vec![("/chat".into(), Some(426)), ("/next".into(), Some(200))]
    );
    assert!(o.txns[0].switched_to.is_none());
}

#[test]
fn connect_opens_a_tunnel_and_a_refused_one_does_not() {
    let o = run(&[
        c(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
        s(b"HTTP/1.0 200 Connection established\r\n\r\n"),
        c(b"\x16\x03\x01\x00\x05hello"),
        s(b"\x16\x03\x03"),
    ]);
    assert_eq!(o.txns.len(), 1);
    assert_eq!(
        o.txns[0].request.as_ref().unwrap().target,
        "example.com:443"
    );
    assert_eq!(o.txns[0].switched_to.as_ref().unwrap().protocol, "tunnel");
    let o = run(&[
        c(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
        s(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
        c(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"),
        s(b"HTTP/1.1 200 OK\r\n\r\n"),
    ]);
    assert_eq!(
        summary(&o).iter().map(|t| t.2).collect::<Vec<_>>(),
        vec![Some(407), Some(200)]
    );
    assert!(o.txns[0].switched_to.is_none());
    assert!(o.txns[1].switched_to.is_some());
}

#[test]
fn not_http_is_left_alone() {
    let o = run(&[
        c(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        s(b"\x16\x03\x03"),
    ]);
    assert!(o.not_http);
    assert!(o.txns.is_empty());
    assert!(o.findings.is_empty());
    let o = run(&[s(b"220 mail.example.com ESMTP\r\n"), c(b"EHLO x\r\n")]);
    assert!(o.not_http);
}

#[test]
fn midstream_start_finds_the_first_message() {
    let o = run_with(
        &[
            c(b"ody-bytes\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
            s(b"tail of a body HTTP/1.1 200 \r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        ],
        HttpConfig::default(),
        [true, true],
    );
    assert_eq!(
        summary(&o),
        vec![("GET".into(), "/next".into(), Some(200), vec![], Some(2))]
    );
}

#[test]
fn invalid_chunked_framing_is_an_error_and_the_stream_resyncs() {
    let o = run(&[
        c(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
        s(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
    ]);
    assert!(codes(&o).contains(&"http.chunked-error"));
    assert_eq!(
        o.txns[0].response.as_ref().unwrap().body.state,
        BodyState::Error
    );
    assert_eq!(o.txns[1].response.as_ref().unwrap().status, 200);
}

#[test]
fn decompression_bomb_stops_at_the_bound() {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![0u8; 4 << 20]).unwrap();
    let gz = enc.finish().unwrap();
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    resp.extend_from_slice(&gz);
    let cfg = HttpConfig {
        max_decoded: 1 << 20,
        ..HttpConfig::default()
    };
    let o = run_with(
        &[c(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"), s(&resp)],
        cfg,
        [false, false],
    );
    let b = &o.txns[0].response.as_ref().unwrap().body;
    assert_eq!(b.decoding, Some("capped"));
    assert!(b.decoded_length.unwrap() <= 1 << 20);
    assert_eq!(b.length, gz.len() as u64);
    assert!(codes(&o).contains(&"http.decoded-size-limit"));
}

/// The conversation used by the split property: every framing, pipelining, 1xx, an upgrade.
fn conversation() -> (Vec<u8>, Vec<u8>) {
    let mut req = PIPELINE_REQ.to_vec();
    req.extend_from_slice(
        b"POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    req.extend_from_slice(b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x80abcd");
    let mut resp = PIPELINE_RESP.to_vec();
    resp.extend_from_slice(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    resp.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x00");
    (req, resp)
}

/// Everything but timing and packet numbers, which depend on how the bytes were cut.
fn stable(o: &Out) -> Vec<String> {
    o.txns
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(t).unwrap();
            v.as_object_mut().unwrap().remove("timing");
            for m in ["request", "response"] {
                if let Some(x) = v.get_mut(m).and_then(|x| x.as_object_mut()) {
                    x.remove("packet");
                }
            }
            if let Some(a) = v.get_mut("interim").and_then(|x| x.as_array_mut()) {
                for i in a {
                    let i = i.as_object_mut().unwrap();
                    i.remove("packet");
                    i.remove("ts");
                }
            }
            v.to_string()
        })
        .collect()
}

proptest! {
    /// A conversation fed whole or cut anywhere (each direction, interleaved in order of the
    /// responses' causes) gives identical transactions.
    #[test]
    fn split_anywhere_gives_the_same_transactions(
        cuts_c in proptest::collection::vec(1usize..40, 0..30),
        cuts_s in proptest::collection::vec(1usize..40, 0..30),
    ) {
        let (req, resp) = conversation();
        let whole = run(&[c(&req), s(&resp)]);
        let pieces = |b: &[u8], cuts: &[usize], d: usize| {
            let mut v = Vec::new();
            let mut at = 0;
            for &n in cuts {
                if at >= b.len() { break; }
                let e = (at + n).min(b.len());
                v.push(Step::Data(d, b[at..e].to_vec()));
                at = e;
            }
            if at < b.len() { v.push(Step::Data(d, b[at..].to_vec())); }
            v
        };
        // All requests first, then all responses: responses never precede their request.
        let mut steps = pieces(&req, &cuts_c, 0);
        steps.extend(pieces(&resp, &cuts_s, 1));
        let split = run(&steps);
        prop_assert_eq!(stable(&whole), stable(&split));
        prop_assert_eq!(whole.txns.len(), 5);
    }

    /// Arbitrary bytes in both directions, with gaps, never panic.
    #[test]
    fn arbitrary_streams_never_panic(
        steps in proptest::collection::vec(
            (0usize..2, proptest::collection::vec(any::<u8>(), 0..80), 0u64..4),
            0..20,
        ),
        prefix in any::<bool>(),
    ) {
        let mut v = Vec::new();
        if prefix {
            v.push(c(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
            v.push(s(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
        }
        for (d, b, g) in steps {
            if g == 3 { v.push(Step::Gap(d, b.len() as u64 + 1)); } else { v.push(Step::Data(d, b)); }
        }
        let _ = run(&v);
    }
}

/// Every HTTP finding code that docs/findings.md lists is raised by at least one conversation
/// here, through the whole analyzer (not just the parser).
#[test]
fn every_http_finding_code_is_triggered() {
    use std::io::Write;
    let gz_truncated = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&[b'a'; 2000]).unwrap();
        let mut v = e.finish().unwrap();
        v.truncate(v.len() - 8); // no trailer: the stream never ends
        v
    };
    let with_body = |head: &str, body: &[u8]| {
        let mut v = head.as_bytes().to_vec();
        v.extend_from_slice(body);
        v
    };
    let get = || c(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    let ok0 = || s(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let mut many_fields = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for i in 0..300 {
        many_fields.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many_fields.extend_from_slice(b"\r\n");
    let mut huge_head = b"GET / HTTP/1.1\r\nHost: h\r\nX: ".to_vec();
    huge_head.extend(std::iter::repeat_n(b'a', 70_000));
    let cases: Vec<(&str, Vec<Step>)> = vec![
        ("http.bare-lf", vec![c(b"GET / HTTP/1.1\nHost: h\n\n"), ok0()]),
        ("http.body-truncated", vec![get(), s(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab")]),
        ("http.chunked-error", vec![get(), s(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n")]),
        ("http.cl-and-te", vec![c(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), ok0()]),
        ("http.cleartext-credentials", vec![c(b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YTpi\r\n\r\n"), ok0()]),
        ("http.connection-upgrade-without-upgrade", vec![c(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n"), ok0()]),
        ("http.content-length-conflict", vec![c(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"), ok0()]),
        ("http.content-length-repeated", vec![c(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"), ok0()]),
        ("http.control-in-start-line", vec![c(b"GET /\x1b[2J HTTP/1.1\r\nHost: h\r\n\r\n"), ok0()]),
        ("http.content-length-forbidden", vec![get(), s(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n")]),
        ("http.content-length-invalid", vec![c(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), ok0()]),
        ("http.content-length-zero-forbidden", vec![get(), s(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")]),
        ("http.decoding-error", vec![get(), s(&with_body("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n", b"not gzip!!"))]),
        ("http.decoding-truncated", vec![get(), s(&with_body(&format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", gz_truncated.len()), &gz_truncated))]),
        ("http.duplicate-host", vec![c(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), ok0()]),
        ("http.expect-without-body", vec![c(b"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n"), ok0()]),
        ("http.gap-in-head", vec![c(b"GET / HTTP/1.1\r\nHo"), Step::Gap(0, 5), c(b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n")]),
        ("http.head-too-large", vec![c(&huge_head)]),
        ("http.hold-limit", vec![c(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"), c(&vec![0u8; 300 * 1024])]),
        ("http.incomplete-head", vec![c(b"GET / HTTP/1.1\r\nHost: h\r\n")]),
        ("http.invalid-field-name", vec![c(b"GET / HTTP/1.1\r\nHost: h\r\nBad(Name): v\r\n\r\n"), ok0()]),
        ("http.invalid-field-value", vec![c(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n"), ok0()]),
        ("http.invalid-status", vec![get(), s(b"HTTP/1.1 2XX OK\r\nContent-Length: 0\r\n\r\n")]),
        ("http.lenient-parse", vec![c(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n"), ok0()]),
        ("http.malformed-field", vec![c(b"GET / HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n"), ok0()]),
        ("http.malformed-start-line", vec![c(b"GET  /  HTTP/1.1\r\nHost: h\r\n\r\n"), ok0()]),
        ("http.missing-host", vec![c(b"GET / HTTP/1.1\r\n\r\n"), ok0()]),
        ("http.not-http", vec![get(), ok0(), c(b"\x00\x01garbage\r\n\r\n")]),
        ("http.obs-fold", vec![c(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), ok0()]),
        ("http.pipeline-limit", vec![c(&b"GET / HTTP/1.1\r\nHost: h\r\n\r\n".repeat(300))]),
        ("http.raw-deflate", vec![get(), s(&{
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(b"hello hello hello").unwrap();
            let d = e.finish().unwrap();
            with_body(&format!("HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: {}\r\n\r\n", d.len()), &d)
        })]),
        ("http.response-without-request", vec![get(), ok0(), ok0()]),
        ("http.response-without-request-captured", vec![ok0()]),
        ("http.space-before-colon", vec![c(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n"), ok0()]),
        ("http.space-before-first-field", vec![c(b"GET / HTTP/1.1\r\n Host: h\r\n\r\n"), ok0()]),
        ("http.te-chunked-twice", vec![c(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"), ok0()]),
        ("http.te-forbidden", vec![get(), s(b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n")]),
        ("http.te-in-http10", vec![c(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), ok0()]),
        ("http.te-not-chunked", vec![c(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), ok0()]),
        ("http.too-many-fields", vec![c(&many_fields), ok0()]),
        ("http.unsolicited-switch", vec![get(), s(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")]),
        ("http.unsupported-encoding", vec![get(), s(b"HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\nContent-Length: 3\r\n\r\nabc")]),
        ("http.upgrade-without-connection", vec![c(b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"), ok0()]),
        ("http.decoded-size-limit", vec![get(), s(&{
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(&vec![0u8; 20 << 20]).unwrap();
            let gz = e.finish().unwrap();
            with_body(&format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", gz.len()), &gz)
        })]),
    ];
    let documented: Vec<String> =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/findings.md"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("| `http."))
            .flat_map(|l| {
                l.split('|')
                    .nth(1)
                    .unwrap_or_default()
                    .split(',')
                    .map(|c| c.trim().trim_matches('`').to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
    let mut missing = Vec::new();
    for code in &documented {
        let Some((_, steps)) = cases.iter().find(|(c, _)| c == code) else {
            missing.push(format!("{code}: no case"));
            continue;
        };
        let o = run(steps);
        if !codes(&o).contains(&code.as_str()) {
            missing.push(format!("{code}: not raised (got {:?})", codes(&o)));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
