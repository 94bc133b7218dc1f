//! What RFC 9113 and RFC 7541 forbid, one rule at a time on byte arrays: the frame follower's
//! notes (stream ids, frames after END_STREAM, error codes, HPACK) and the transactions'
//! findings (field names, pseudo-headers, connection-specific fields, Content-Length).

#![allow(clippy::unwrap_used)]
use super::fields::{BlockKind, block_rules};
use super::tests::{client_start, frame, hpack_block, settings};
use super::txn_tests::{play, txns};
use super::*;
use crate::model::codes::{self, Code};
use crate::model::http::Headers;
use crate::model::{Finding, Record};

fn get(stream: u32, flags: u8) -> Vec<u8> {
    let b = hpack_block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "a"),
    ]);
    frame(HEADERS, flags | END_HEADERS, stream, &b)
}

fn codes_of(c: &H2Conn) -> Vec<&'static str> {
    c.notes().iter().map(|n| n.kind.code().name).collect()
}

/// A client that sent its preface and SETTINGS, then `client`; a server that sent SETTINGS,
/// then `server`.
fn conn(client: &[Vec<u8>], server: &[Vec<u8>]) -> H2Conn {
    let mut c = H2Conn::new();
    c.feed(0, &client_start());
    c.feed(1, &settings(&[]));
    for b in client {
        c.feed(0, b);
    }
    for b in server {
        c.feed(1, b);
    }
    c
}

#[test]
fn stream_ids_only_go_up() {
    let c = conn(&[get(3, END_STREAM), get(1, END_STREAM)], &[]);
    assert_eq!(
        c.notes()[0].kind,
        H2NoteKind::StreamIdReuse {
            stream_id: 1,
            highest: 3
        }
    );
    assert_eq!(codes_of(&c), [codes::H2_STREAM_ID_REUSE.name]);
    // Rising ids, and trailers on an open stream, are fine.
    let c = conn(&[get(1, 0), get(3, END_STREAM), get(5, END_STREAM)], &[]);
    assert!(c.notes().is_empty(), "{:?}", c.notes());
    // A promised id must rise too.
    let promise = |id: u32| {
        let mut p = id.to_be_bytes().to_vec();
        p.extend(hpack_block(&[(":method", "GET"), (":path", "/p")]));
        frame(PUSH_PROMISE, END_HEADERS, 1, &p)
    };
    let c = conn(&[get(1, END_STREAM)], &[promise(4), promise(2)]);
    assert_eq!(codes_of(&c), [codes::H2_STREAM_ID_REUSE.name]);
}

#[test]
fn nothing_after_end_stream() {
    let c = conn(&[get(1, END_STREAM), frame(DATA, 0, 1, b"late")], &[]);
    assert_eq!(
        c.notes()[0].kind,
        H2NoteKind::FrameAfterEndStream {
            stream_id: 1,
            frame_type: DATA
        }
    );
    let c = conn(&[get(1, END_STREAM), get(1, END_STREAM)], &[]);
    assert_eq!(codes_of(&c), [codes::H2_FRAME_AFTER_END_STREAM.name]);
    // After a reset, frames in flight are not counted.
    let rst = frame(RST_STREAM, 0, 1, &8u32.to_be_bytes());
    let c = conn(&[get(1, 0), frame(DATA, END_STREAM, 1, b"x")], &[rst]);
    assert!(c.notes().is_empty(), "{:?}", c.notes());
}

#[test]
fn error_codes_that_ended_a_stream_or_the_connection() {
    let goaway = |code: u32| {
        let mut p = 5u32.to_be_bytes().to_vec();
        p.extend(code.to_be_bytes());
        frame(GOAWAY, 0, 0, &p)
    };
    let rst = |id: u32, code: u32| frame(RST_STREAM, 0, id, &code.to_be_bytes());
    let c = conn(&[goaway(0)], &[goaway(3)]);
    assert_eq!(
        c.notes()
            .iter()
            .map(|n| (n.dir, n.kind.clone()))
            .collect::<Vec<_>>(),
        [(
            1,
            H2NoteKind::GoawayError {
                code: 3,
                last_stream: 5
            }
        )]
    );
    assert!(c.notes()[0].kind.to_string().contains("FLOW_CONTROL_ERROR"));
    let c = conn(
        &[get(1, 0), get(3, 0), get(5, 0), get(7, 0)],
        &[rst(1, 0), rst(3, 8), rst(5, 7), rst(7, 1)],
    );
    assert_eq!(
        c.notes().iter().map(|n| n.kind.clone()).collect::<Vec<_>>(),
        [H2NoteKind::ResetError {
            stream_id: 7,
            code: 1
        }]
    );
    assert!(c.notes()[0].kind.to_string().contains("PROTOCOL_ERROR"));
    // A stream both sides had ended: the reset changes nothing.
    let ok = frame(
        HEADERS,
        END_STREAM | END_HEADERS,
        1,
        &hpack_block(&[(":status", "200")]),
    );
    let mut c = conn(&[get(1, END_STREAM)], &[ok]);
    c.feed(0, &rst(1, 5));
    assert!(c.notes().is_empty(), "{:?}", c.notes());
}

#[test]
fn hpack_errors_are_named() {
    let block = |b: &[u8]| frame(HEADERS, END_STREAM | END_HEADERS, 1, b);
    for (bytes, kind, stops) in [
        (vec![0xbe], "index-out-of-range", true),
        (vec![0x00, 0x81, 0x00], "huffman-padding", true),
        (
            vec![0x00, 0x84, 0xff, 0xff, 0xff, 0xff],
            "huffman-eos",
            true,
        ),
        (vec![0x00], "truncated", true),
        // A size update after a field: decoding goes on.
        (vec![0x82, 0x20, 0x84], "size-update-not-at-start", false),
        // 4097: above the 4096 the server never raised.
        (
            vec![0x3f, 0xe2, 0x1f, 0x82],
            "size-update-above-setting",
            false,
        ),
    ] {
        let c = conn(&[block(&bytes)], &[]);
        let found: Vec<_> = c
            .notes()
            .iter()
            .filter_map(|n| match &n.kind {
                H2NoteKind::HpackError { kind, stops, .. } => Some((*kind, *stops)),
                _ => None,
            })
            .collect();
        assert_eq!(found, [(kind, stops)], "{bytes:02x?}: {:?}", c.notes());
        assert_eq!(codes_of(&c), [codes::H2_HPACK_ERROR.name]);
        let s = &c.summary().streams[&1];
        assert_eq!(s.method.is_some(), !stops, "{kind}");
    }
    // The server allows a larger table: no fault.
    let mut c = H2Conn::new();
    c.feed(0, &client_start());
    c.feed(1, &settings(&[(1, 8192)]));
    c.feed(0, &block(&[0x3f, 0xe2, 0x1f, 0x82]));
    assert!(c.notes().is_empty(), "{:?}", c.notes());
    // Past hopscope's own bound (64 KiB) it stops, as hopscope's limit, not a fault.
    let mut c = H2Conn::new();
    c.feed(0, &client_start());
    c.feed(1, &settings(&[(1, 1 << 20)]));
    c.feed(0, &block(&[0x3f, 0xe2, 0xff, 0x07]));
    assert_eq!(codes_of(&c), [codes::H2_HPACK_STOPPED.name]);
}

/// Fields, what block they are, the one rule they break.
type Case<'a> = (&'a [(&'a str, &'a str)], BlockKind, &'a Code);

fn rules(fields: &[(&str, &str)], kind: BlockKind) -> Vec<&'static str> {
    let mut h = Headers::default();
    for (n, v) in fields {
        if n.starts_with(':') {
            h.push_pseudo(n.as_bytes(), v.as_bytes());
        } else {
            h.push(n.as_bytes(), v.as_bytes(), None, false);
        }
    }
    block_rules(&h, kind, true)
        .into_iter()
        .map(|(c, m)| {
            assert!(m.contains("RFC 9113 §8"), "{m}");
            c.name
        })
        .collect()
}

#[test]
fn message_rules_of_rfc9113_section_8() {
    use BlockKind::*;
    let req = [
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/"),
        (":authority", "a"),
    ];
    assert!(rules(&req, Request).is_empty());
    assert!(rules(&[(":status", "200"), ("x", "1")], Response).is_empty());
    assert!(rules(&[("x-trailer", "1")], Trailers).is_empty());
    assert!(rules(&[(":method", "CONNECT"), (":authority", "a:443")], Request).is_empty());
    let table: &[Case] = &[
        (
            &[(":status", "200"), ("Content-Type", "x")],
            Response,
            &codes::H2_UPPERCASE_FIELD_NAME,
        ),
        (
            &[("x", "1"), (":status", "200")],
            Response,
            &codes::H2_PSEUDO_HEADER_AFTER_FIELD,
        ),
        (
            &[(":status", "200"), (":status", "204")],
            Response,
            &codes::H2_PSEUDO_HEADER_REPEATED,
        ),
        (
            &[(":method", "GET"), (":path", "/")],
            Request,
            &codes::H2_PSEUDO_HEADER_MISSING,
        ),
        (&[("x", "1")], Response, &codes::H2_PSEUDO_HEADER_MISSING),
        (
            &[(":method", "CONNECT")],
            Request,
            &codes::H2_PSEUDO_HEADER_MISSING,
        ),
        (
            &[(":status", "200"), (":path", "/")],
            Response,
            &codes::H2_PSEUDO_HEADER_UNKNOWN,
        ),
        (
            &[(":status", "200"), (":foo", "/")],
            Response,
            &codes::H2_PSEUDO_HEADER_UNKNOWN,
        ),
        (
            &[(":status", "200")],
            Trailers,
            &codes::H2_PSEUDO_HEADER_IN_TRAILERS,
        ),
        (
            &[(":status", "200"), ("connection", "close")],
            Response,
            &codes::H2_CONNECTION_SPECIFIC_FIELD,
        ),
        (
            &[(":status", "200"), ("transfer-encoding", "chunked")],
            Response,
            &codes::H2_CONNECTION_SPECIFIC_FIELD,
        ),
    ];
    for (fields, kind, code) in table {
        assert_eq!(rules(fields, *kind), [code.name], "{fields:?}");
    }
    // TE: trailers is allowed, TE: gzip is not.
    let te = |v| {
        let mut f = req.to_vec();
        f.push(("te", v));
        rules(&f, Request)
    };
    assert!(te("trailers").is_empty());
    assert_eq!(te("gzip"), [codes::H2_CONNECTION_SPECIFIC_FIELD.name]);
    // Names from the wire are shown escaped and bounded.
    let long = format!("X{}", "\u{1b}".repeat(200));
    let mut h = Headers::default();
    h.push_pseudo(b":status", b"200");
    h.push(long.as_bytes(), b"v", None, false);
    let (_, m) = block_rules(&h, BlockKind::Response, true).remove(0);
    assert!(!m.contains('\u{1b}') && m.len() < 400, "{m}");
    // An incomplete block (fields dropped at a bound) is not said to miss anything.
    assert!(block_rules(&Headers::default(), BlockKind::Request, false).is_empty());
}

fn findings(recs: &[Record]) -> Vec<&Finding> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Finding(f) => Some(&**f),
            _ => None,
        })
        .collect()
}

#[test]
fn content_length_must_be_the_data_received() {
    let resp = |fields: &[(&str, &str)], end: bool| {
        let mut f = vec![(":status", "200")];
        f.extend_from_slice(fields);
        let flags = END_HEADERS | if end { END_STREAM } else { 0 };
        frame(HEADERS, flags, 1, &hpack_block(&f))
    };
    let run = |server: Vec<Vec<u8>>| {
        let mut steps = vec![(0, [client_start(), get(1, END_STREAM)].concat())];
        steps.push((1, settings(&[])));
        steps.extend(server.into_iter().map(|b| (1, b)));
        play(&steps)
    };
    // 5 said, 5 sent (in two frames, one padded): fine.
    let mut padded = vec![2u8];
    padded.extend(b"lo\0\0");
    let recs = run(vec![
        resp(&[("content-length", "5")], false),
        frame(DATA, 0, 1, b"hel"),
        frame(DATA, END_STREAM | PADDED, 1, &padded),
    ]);
    assert!(findings(&recs).is_empty(), "{:?}", findings(&recs));
    // 10 said, 5 sent.
    let recs = run(vec![
        resp(&[("content-length", "10")], false),
        frame(DATA, END_STREAM, 1, b"hello"),
    ]);
    let f = findings(&recs);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].code, &codes::H2_CONTENT_LENGTH_MISMATCH);
    assert!(f[0].message.contains("10") && f[0].message.contains('5'));
    assert_eq!(
        txns(&recs)[0].findings,
        [codes::H2_CONTENT_LENGTH_MISMATCH.name]
    );
    // No DATA at all, END_STREAM on HEADERS.
    let recs = run(vec![resp(&[("content-length", "3")], true)]);
    assert_eq!(findings(&recs).len(), 1);
    // 304 and 204 are not checked.
    let recs = run(vec![frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &hpack_block(&[(":status", "304"), ("content-length", "3")]),
    )]);
    assert!(findings(&recs).is_empty());
    // The rules of §8.3 become findings on the transaction, at the block.
    let recs = run(vec![frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &hpack_block(&[(":status", "200"), ("Connection", "close")]),
    )]);
    let f: Vec<_> = findings(&recs).iter().map(|f| f.code.name).collect();
    assert_eq!(
        f,
        [
            codes::H2_UPPERCASE_FIELD_NAME.name,
            codes::H2_CONNECTION_SPECIFIC_FIELD.name
        ]
    );
}
