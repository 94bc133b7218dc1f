//! Nothing lost to an early gap, never a wrong pair: whole captures through the pipeline. Every
//! response echoes its request's target in `X-Echo`, so a transaction that pairs a request with
//! another's response shows.

use hopscope::model::TransactionRecord;

use crate::common::*;

/// A segment of a scripted connection.
enum Seg {
    /// Client bytes, captured.
    Client(Vec<u8>),
    /// Client bytes the capture missed (the sequence numbers go on).
    ClientLost(Vec<u8>),
    /// Server bytes (acknowledging everything the client sent).
    Server(Vec<u8>),
    /// A bare ACK from the server for everything the client sent.
    ServerAck,
}

/// Handshake, the segments, FIN/FIN.
fn conversation(segments: &[Seg]) -> Script {
    let mut s = Script::new();
    let (mut sc, mut ss) = (1000u32, 5000u32);
    s.push(tcp4(C, S, SYN, sc - 1, 0, b""));
    s.push(tcp4(S, C, SYN | ACK, ss - 1, sc, b""));
    s.push(tcp4(C, S, ACK, sc, ss, b""));
    for seg in segments {
        match seg {
            Seg::Client(b) => {
                s.push(tcp4(C, S, ACK | PSH, sc, ss, b));
                sc += b.len() as u32;
            }
            Seg::ClientLost(b) => sc += b.len() as u32,
            Seg::Server(b) => {
                s.push(tcp4(S, C, ACK | PSH, ss, sc, b));
                ss += b.len() as u32;
            }
            Seg::ServerAck => s.push(tcp4(S, C, ACK, ss, sc, b"")),
        }
    }
    s.push(tcp4(C, S, ACK | FIN, sc, ss, b""));
    s.push(tcp4(S, C, ACK | FIN, ss, sc + 1, b""));
    s.push(tcp4(C, S, ACK, sc + 1, ss + 1, b""));
    s
}

fn request(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: h\r\n\r\n").into_bytes()
}

fn response(target: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nX-Echo: {target}\r\nContent-Length: 2\r\n\r\nok").into_bytes()
}

/// (request target, the response's `X-Echo`) of each transaction, by id.
fn pairs(txns: &[TransactionRecord]) -> Vec<(Option<String>, Option<String>)> {
    let mut v: Vec<&TransactionRecord> = txns.iter().collect();
    v.sort_by_key(|t| t.id);
    v.iter()
        .map(|t| {
            (
                t.request.as_ref().map(|r| r.target.clone()),
                (t.response.as_ref())
                    .and_then(|r| r.headers.get("x-echo"))
                    .map(|e| String::from_utf8_lossy(e).into_owned()),
            )
        })
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn transactions_after_a_lost_first_segment_are_all_there() {
    // The client's first data segment (the start of the request for /1) was not captured; the
    // server acknowledges it before it answers, so the gap comes before anything is decided.
    let run = run_app_packets(
        &conversation(&[
            Seg::ClientLost(b"GET /1 HTTP/1.1\r\nHo".to_vec()),
            Seg::Client(b"st: h\r\n\r\n".to_vec()),
            Seg::ServerAck,
            Seg::Server(response("/1")),
            Seg::Client(request("/2")),
            Seg::Server(response("/2")),
            Seg::Client(request("/3")),
            Seg::Server(response("/3")),
        ])
        .pkts,
    );
    assert_eq!(
        pairs(&run.transactions),
        [
            (None, some("/1")),
            (some("/2"), some("/2")),
            (some("/3"), some("/3")),
        ]
    );
    assert_eq!(
        run.codes(),
        ["tcp.gap", "http.response-without-request-captured"]
    );
    assert_eq!(run.summary.http.as_ref().map(|h| h.connections), Some(1));
}

#[test]
fn a_lost_first_segment_of_another_protocol_stays_unanalysed() {
    // Not HTTP: the bytes after the gap are binary, with lines an HTTP/0.9 request would match.
    let mut payload = b"\x00\x17\x9c\nGET /not-a-request\n".to_vec();
    payload.extend((0..1200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let run = run_app_packets(
        &conversation(&[
            Seg::ClientLost(vec![0xab; 300]),
            Seg::Client(payload.clone()),
            Seg::ServerAck,
            Seg::Client(payload),
            Seg::ServerAck,
        ])
        .pkts,
    );
    assert!(run.transactions.is_empty());
    assert_eq!(run.codes(), ["tcp.gap"]);
    assert_eq!(run.summary.http.as_ref().map(|h| h.connections), Some(0));
}

#[test]
fn requests_over_the_pipeline_limit_never_pair_with_another_response() {
    let n = 300;
    let reqs: Vec<u8> = (0..n).flat_map(|i| request(&format!("/r{i}"))).collect();
    let resps: Vec<u8> = (0..n).flat_map(|i| response(&format!("/r{i}"))).collect();
    let segs: Vec<Seg> = (reqs.chunks(1400).map(|c| Seg::Client(c.to_vec())))
        .chain(resps.chunks(1400).map(|c| Seg::Server(c.to_vec())))
        .collect();
    let run = run_app_packets(&conversation(&segs).pkts);
    let p = pairs(&run.transactions);
    let wrong: Vec<_> = (p.iter())
        .filter(|(t, e)| t.is_some() && e.is_some() && t != e)
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
    // 256 wait; the 44 oldest are given up and their responses reported on their own.
    let complete = p.iter().filter(|(t, e)| t.is_some() && e.is_some()).count();
    assert_eq!(complete, 256);
    assert_eq!(p.len(), 256 + 2 * 44);
    assert_eq!(run.codes(), ["http.pipeline-limit"]);
    assert!(
        run.findings[0].message.contains("44 were given up"),
        "{}",
        run.findings[0].message
    );
    assert_eq!(
        run.summary.http.as_ref().map(|h| h.pipeline_limit_hits),
        Some(44)
    );
}
