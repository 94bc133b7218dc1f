//! Never a wrong pair: the pipeline limit and gaps. Every response here echoes its request's
//! target in `X-Echo`, so a transaction that pairs a request with another's response shows.
#![allow(clippy::unwrap_used)]
use super::tests::{Out, Step, c, codes, run, run_with, s};
use super::*;
use crate::model::http::TransactionRecord;

fn request(method: &str, target: &str) -> Vec<u8> {
    format!("{method} {target} HTTP/1.1\r\nHost: h\r\n\r\n").into_bytes()
}

/// A response to `target` with a body of `body` bytes (announced, and sent unless `head`).
fn response(target: &str, body: usize, head: bool) -> Vec<u8> {
    let mut v = format!("HTTP/1.1 200 OK\r\nX-Echo: {target}\r\nContent-Length: {body}\r\n\r\n")
        .into_bytes();
    if !head {
        v.extend(std::iter::repeat_n(b'x', body));
    }
    v
}

fn echo(t: &TransactionRecord) -> Option<String> {
    let r = t.response.as_ref()?;
    let v = r.headers.get("x-echo")?;
    Some(String::from_utf8_lossy(v).into_owned())
}

/// (target, echo) of every transaction, by id (an orphan's id is taken when its response
/// comes): `None` where a side is missing.
fn pairs(o: &Out) -> Vec<(Option<String>, Option<String>)> {
    o.txns
        .iter()
        .map(|t| (t.request.as_ref().map(|r| r.target.clone()), echo(t)))
        .collect()
}

/// No transaction holds a request and a response that is not its own.
fn assert_never_a_wrong_pair(o: &Out) {
    for (target, echo) in pairs(o) {
        if let (Some(t), Some(e)) = (&target, &echo) {
            assert_eq!(t, e, "a request paired with another's response");
        }
    }
}

fn limit_findings(o: &Out) -> Vec<&Finding> {
    (o.findings.iter())
        .filter(|f| f.code == &codes::HTTP_PIPELINE_LIMIT)
        .collect()
}

fn cfg(max_pending: usize) -> HttpConfig {
    HttpConfig {
        max_pending,
        ..HttpConfig::default()
    }
}

fn some(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn responses_to_requests_given_up_are_orphans_not_pairs() {
    let mut reqs = Vec::new();
    let mut resps = Vec::new();
    for i in 0..5 {
        reqs.extend(request("GET", &format!("/{i}")));
        resps.extend(response(&format!("/{i}"), i, false));
    }
    let o = run_with(&[c(&reqs), s(&resps)], cfg(3), [false, false]);
    assert_eq!(
        pairs(&o),
        [
            (some("/0"), None),
            (some("/1"), None),
            (some("/2"), some("/2")),
            (some("/3"), some("/3")),
            (some("/4"), some("/4")),
            (None, some("/0")),
            (None, some("/1")),
        ]
    );
    // Each transaction involved says why; one finding for the connection, with the counts.
    for i in [0, 1, 5, 6] {
        assert_eq!(o.txns[i].findings, [codes::HTTP_PIPELINE_LIMIT.name]);
    }
    assert!(o.txns[2].findings.is_empty());
    let f = limit_findings(&o);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].message.contains("2 were given up") && f[0].message.contains("the 2 responses"),
        "{}",
        f[0].message
    );
    // It points at the request that first went over the limit (the fourth).
    assert_eq!(
        f[0].stream_offset,
        Some(3 * request("GET", "/0").len() as u64)
    );
    assert_eq!(f[0].packet, Some(1));
}

#[test]
fn ten_thousand_pipelined_requests_never_pair_wrongly() {
    let n = 10_000;
    let mut reqs = Vec::new();
    let mut resps = Vec::new();
    for i in 0..n {
        reqs.extend(request("GET", &format!("/r{i}")));
        resps.extend(response(&format!("/r{i}"), i % 7, false));
    }
    let o = run(&[c(&reqs), s(&resps)]);
    assert_never_a_wrong_pair(&o);
    let max = HttpConfig::default().max_pending;
    let given_up = n - max;
    let complete = o
        .txns
        .iter()
        .filter(|t| t.request.is_some() && t.response.is_some())
        .count();
    let requests_only = o.txns.iter().filter(|t| t.response.is_none()).count();
    let responses_only = o.txns.iter().filter(|t| t.request.is_none()).count();
    assert_eq!(
        (complete, requests_only, responses_only),
        (max, given_up, given_up)
    );
    let f = limit_findings(&o);
    assert_eq!(f.len(), 1, "one finding per connection");
    assert!(
        f[0].message.contains(&format!("{given_up} were given up")),
        "{}",
        f[0].message
    );
    assert_eq!(codes(&o), [codes::HTTP_PIPELINE_LIMIT.name]);
}

#[test]
fn a_head_given_up_still_frames_its_response_without_a_body() {
    // HEAD's response announces a length but has no body: were it read as GET's, it would
    // swallow the next response.
    let reqs = [
        request("HEAD", "/0"),
        request("GET", "/1"),
        request("GET", "/2"),
        request("GET", "/3"),
    ]
    .concat();
    let resps = [
        response("/0", 40, true),
        response("/1", 2, false),
        response("/2", 3, false),
        response("/3", 4, false),
    ]
    .concat();
    let o = run_with(&[c(&reqs), s(&resps)], cfg(2), [false, false]);
    assert_eq!(
        pairs(&o),
        [
            (some("/0"), None),
            (some("/1"), None),
            (some("/2"), some("/2")),
            (some("/3"), some("/3")),
            (None, some("/0")),
            (None, some("/1")),
        ]
    );
    assert_eq!(o.txns[4].response.as_ref().unwrap().body.length, 0);
    assert_eq!(o.txns[3].response.as_ref().unwrap().body.length, 4);
}

#[test]
fn a_response_under_way_keeps_its_request_when_the_limit_hits() {
    let o = run_with(
        &[
            c(&[request("GET", "/0"), request("GET", "/1")].concat()),
            // The response to /0 has begun (head and half its body) ...
            s(&response("/0", 10, true)),
            s(b"01234"),
            // ... when /2 goes over the limit: /1 is given up, not /0.
            c(&request("GET", "/2")),
            s(b"56789"),
            s(&[response("/1", 1, false), response("/2", 2, false)].concat()),
        ],
        cfg(2),
        [false, false],
    );
    assert_eq!(
        pairs(&o),
        [
            (some("/0"), some("/0")),
            (some("/1"), None),
            (some("/2"), some("/2")),
            (None, some("/1")),
        ]
    );
    assert_eq!(o.txns[0].response.as_ref().unwrap().body.length, 10);
}

#[test]
fn an_interim_response_keeps_its_request_too() {
    let o = run_with(
        &[
            c(&[request("GET", "/0"), request("GET", "/1")].concat()),
            s(b"HTTP/1.1 100 Continue\r\n\r\n"),
            c(&request("GET", "/2")),
            s(&[
                response("/0", 0, false),
                b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n".to_vec(),
                response("/1", 0, false),
                response("/2", 0, false),
            ]
            .concat()),
        ],
        cfg(2),
        [false, false],
    );
    assert_eq!(
        pairs(&o),
        [
            (some("/0"), some("/0")),
            (some("/1"), None),
            (some("/2"), some("/2")),
            (None, some("/1")),
        ]
    );
    assert_eq!(o.txns[0].interim.len(), 1);
    // The 103 answered the request given up: it goes with that response.
    assert_eq!(o.txns[3].interim.len(), 1);
    assert!(o.txns[2].interim.is_empty());
}

#[test]
fn responses_that_never_come_are_counted() {
    let reqs: Vec<u8> = (0..4)
        .flat_map(|i| request("GET", &format!("/{i}")))
        .collect();
    let o = run_with(
        &[c(&reqs), s(&response("/0", 0, false))],
        cfg(2),
        [false, false],
    );
    let f = limit_findings(&o);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].message.contains("2 were given up")
            && f[0].message.contains("the 1 responses")
            && f[0].message.contains("1 of those responses never came"),
        "{}",
        f[0].message
    );
}

#[test]
fn a_given_up_connect_still_opens_its_tunnel() {
    // A CONNECT's 2xx makes the rest a tunnel even when the request was given up (its kind is
    // remembered). Requests pile up behind a CONNECT only once its held bytes overflowed.
    let cfg = HttpConfig {
        max_pending: 1,
        max_hold: 8,
        ..HttpConfig::default()
    };
    let o = run_with(
        &[
            c(&request("CONNECT", "h:443")),
            c(b"payload\nheld over the bound\n"),
            c(&request("GET", "/late")),
            s(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            s(b"\x16\x03\x03\x00\x02hi"),
        ],
        cfg,
        [false, false],
    );
    assert_never_a_wrong_pair(&o);
    let summary: Vec<_> = (o.txns.iter())
        .map(|t| {
            (
                t.request.as_ref().map(|r| r.target.clone()),
                t.response.as_ref().map(|r| r.status),
                t.switched_to.as_ref().map(|x| x.protocol.clone()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (some("h:443"), None, None),
            (some("/late"), None, None),
            (None, Some(200), some("tunnel")),
        ]
    );
}

#[test]
fn requests_given_up_of_too_many_kinds_stop_the_analysis_not_the_pairing() {
    // Alternating HEAD and GET given up by the thousand cannot be followed within bounds.
    let mut reqs = Vec::new();
    for i in 0..2100 {
        reqs.extend(request(
            if i % 2 == 0 { "HEAD" } else { "GET" },
            &format!("/{i}"),
        ));
    }
    let resps: Vec<u8> = (0..2100)
        .flat_map(|i| response(&format!("/{i}"), 3, i % 2 == 0))
        .collect();
    let o = run_with(&[c(&reqs), s(&resps)], cfg(4), [false, false]);
    assert_never_a_wrong_pair(&o);
    let f = limit_findings(&o);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].message.contains("HTTP analysis stopped"),
        "{}",
        f[0].message
    );
    assert!(o.txns.iter().all(|t| t.response.is_none()));
}

#[test]
fn after_a_gap_a_line_of_text_is_not_taken_for_a_request() {
    // Lines that an HTTP/0.9 request or a broken request line would match at a stream's start
    // are not message starts after a gap.
    let o = run(&[
        c(&request("GET", "/1")),
        Step::Gap(0, 30),
        c(b"line\nGET /docs\nSEE ALSO x\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
        s(&[response("/1", 0, false), response("/2", 0, false)].concat()),
    ]);
    assert_eq!(
        pairs(&o),
        [(some("/1"), some("/1")), (some("/2"), some("/2"))]
    );
}
