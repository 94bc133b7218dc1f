//! HTTP cases: state that piles up per connection (issue 13 item 1), an early gap and a
//! pipeline past its limit (items 2 and 3), header, chunk and decompression bombs.

use super::codings;
use super::wire::{ACK, Conn, MSS, Pcap, Side};

/// Transactions on each connection of `early-gap`.
pub const GAP_TXNS: u64 = 10;
/// Fields of the request that has too many of them (the limit is 256).
pub const MANY_FIELDS: usize = 300;

pub fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: stress.test\r\n\r\n").into_bytes()
}

/// A response head with `fields` (each ending in CRLF) and a `Content-Length` of `len`.
fn head(status: &str, fields: &str, len: usize) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\n{fields}\r\n").into_bytes()
}

/// A response whose `X-Echo` field and body are the request's target: a response paired
/// with the wrong request shows it.
pub fn echo(target: &str) -> Vec<u8> {
    let mut r = head("200 OK", &format!("X-Echo: {target}\r\n"), target.len());
    r.extend_from_slice(target.as_bytes());
    r
}

/// Connection `i`: the handshake and a request for `target`.
fn open(p: &mut Pcap, i: u64, target: &str) -> Conn {
    let mut c = Conn::new(i);
    c.handshake(p);
    c.send(p, Side::Client, &get(target));
    c
}

/// `n` connections, each answered with a brotli body (16 MiB window) that declares one byte
/// more than it sends, kept open. Even connections decode 17 MiB of zeros (past the 16 MiB
/// decoding cap: the decoder stopped), odd ones 15 MiB (under it: the decoder is live).
pub fn br_open(p: &mut Pcap, n: u64) {
    let bodies = [codings::brotli_zeros(17, 24), codings::brotli_zeros(15, 24)];
    for i in 0..n {
        let body = &bodies[(i % 2) as usize];
        let mut c = open(p, i, &format!("/br/{i}"));
        let mut r = head("200 OK", "Content-Encoding: br\r\n", body.len() + 1);
        r.extend_from_slice(body);
        c.send(p, Side::Server, &r);
    }
}

/// `n` connections, each answered with four stacked gzip layers of which all but the
/// outer trailer is sent, kept open.
pub fn gzip4_open(p: &mut Pcap, n: u64) {
    let body = codings::gzip_layers(&codings::text(64 << 10), 4);
    let sent = &body[..body.len() - 8];
    for i in 0..n {
        let mut c = open(p, i, &format!("/gzip4/{i}"));
        let fields = "Content-Encoding: gzip, gzip, gzip, gzip\r\n";
        let mut r = head("200 OK", fields, body.len());
        r.extend_from_slice(sent);
        c.send(p, Side::Server, &r);
    }
}

/// `n` connections, each with a request head of about 60 KB (under the 64 KiB limit) that
/// never ends, kept open.
pub fn heads_open(p: &mut Pcap, n: u64) {
    let mut h = b"GET /head HTTP/1.1\r\nHost: stress.test\r\n".to_vec();
    let pad = "a".repeat(1000);
    for k in 0..60 {
        h.extend_from_slice(format!("X-Pad-{k}: {pad}\r\n").as_bytes());
    }
    for i in 0..n {
        let mut c = Conn::new(i);
        c.handshake(p);
        c.send(p, Side::Client, &h);
    }
}

/// `n` connections whose client sends 16,000 bytes that look like no protocol yet (under
/// the 16 KiB after which the probe gives up) to a silent server, kept open.
pub fn undecided(p: &mut Pcap, n: u64) {
    let junk = vec![b'z'; 16_000];
    for i in 0..n {
        let mut c = Conn::new(i);
        c.handshake(p);
        c.send(p, Side::Client, &junk);
    }
}

/// `n` connections of [`GAP_TXNS`] transactions each. The first request spans two segments
/// and the first was not captured: the second arrives, and the server acknowledges both
/// (the hole is given up), while the protocol is still undecided. Every response echoes its
/// request's target.
pub fn early_gap(p: &mut Pcap, n: u64) {
    let pad = format!("X-Pad: {}\r\n", "p".repeat(MSS));
    for i in 0..n {
        let mut c = Conn::new(i);
        c.handshake(p);
        for t in 0..GAP_TXNS {
            let target = format!("/gap/{i}/{t}");
            if t == 0 {
                let mut first = get(&target);
                first.splice(first.len() - 2..first.len() - 2, pad.bytes());
                c.skip(Side::Client, MSS);
                c.send(p, Side::Client, &first[MSS..]);
                c.segment_at(p, Side::Server, ACK, 0, b"");
            } else {
                c.send(p, Side::Client, &get(&target));
            }
            c.send(p, Side::Server, &echo(&target));
        }
        c.close(p);
    }
}

/// One connection: `n` pipelined requests, then their responses, each echoing its target.
pub fn pipeline(p: &mut Pcap, n: u64) {
    let mut c = Conn::new(0);
    c.handshake(p);
    let targets: Vec<String> = (0..n).map(|i| format!("/pipe/{i}")).collect();
    let reqs: Vec<u8> = targets.iter().flat_map(|t| get(t)).collect();
    c.send(p, Side::Client, &reqs);
    let resps: Vec<u8> = targets.iter().flat_map(|t| echo(t)).collect();
    c.send(p, Side::Server, &resps);
    c.close(p);
}

/// A request head with `fields` (each ending in CRLF) and its response.
fn request_with(p: &mut Pcap, i: u64, fields: &[u8], status: &str) {
    let mut c = Conn::new(i);
    c.handshake(p);
    let mut h = format!("GET /bomb/{i} HTTP/1.1\r\nHost: stress.test\r\n").into_bytes();
    h.extend_from_slice(fields);
    h.extend_from_slice(b"\r\n");
    c.send(p, Side::Client, &h);
    c.send(p, Side::Server, &head(status, "", 0));
    c.close(p);
}

/// Three requests: `n` tiny fields; [`MANY_FIELDS`] fields in a small head; one field of
/// `8 n` bytes.
pub fn header_bomb(p: &mut Pcap, n: u64) {
    let too_big = "431 Request Header Fields Too Large";
    request_with(p, 0, "a: b\r\n".repeat(n as usize).as_bytes(), too_big);
    let many: String = (0..MANY_FIELDS).map(|k| format!("X-F{k}: v\r\n")).collect();
    request_with(p, 1, many.as_bytes(), "200 OK");
    let huge = format!("X-Big: {}\r\n", "b".repeat(8 * n as usize));
    request_with(p, 2, huge.as_bytes(), too_big);
}

/// A chunked response with this body.
fn chunked(p: &mut Pcap, i: u64, body: &[u8]) {
    let mut c = open(p, i, &format!("/chunks/{i}"));
    let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    r.extend_from_slice(body);
    c.send(p, Side::Server, &r);
    c.close(p);
}

/// Three chunked responses: a chunk-size line of `n` + 1 digits; a chunk size past 2^64;
/// `n` chunks of one byte.
pub fn chunk_bomb(p: &mut Pcap, n: u64) {
    let mut long_line = vec![b'0'; n as usize];
    long_line.extend_from_slice(b"1\r\na\r\n0\r\n\r\n");
    chunked(p, 0, &long_line);
    chunked(p, 1, b"fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n");
    let mut tiny = b"1\r\na\r\n".repeat(n as usize);
    tiny.extend_from_slice(b"0\r\n\r\n");
    chunked(p, 2, &tiny);
}

/// Three complete responses of `mib` MiB of zeros: gzip, deflate (zlib), br.
pub fn decompression_bomb(p: &mut Pcap, mib: u64) {
    let bodies = [
        ("gzip", codings::gzip_zeros(mib)),
        ("deflate", codings::zlib_zeros(mib)),
        ("br", codings::brotli_zeros(mib, 24)),
    ];
    for (i, (coding, body)) in (0..).zip(bodies) {
        let mut c = open(p, i, &format!("/bomb.{coding}"));
        let fields = format!("Content-Encoding: {coding}\r\n");
        let mut r = head("200 OK", &fields, body.len());
        r.extend_from_slice(&body);
        c.send(p, Side::Server, &r);
        c.close(p);
    }
}
