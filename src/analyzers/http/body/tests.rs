#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

/// What a run of the decoder produced, everything observable.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    data: Vec<u8>,
    errors: Vec<BodyError>,
    consumed: usize,
    state: BodyState,
    wire_len: u64,
    decoded_len: u64,
    chunks: u64,
    trailers: Vec<(Vec<u8>, Vec<u8>)>,
    extensions: Vec<ChunkExtension>,
    notes: Vec<BodyNote>,
}

/// Feeds `input` cut at `cuts` (sorted offsets), stopping at the first piece the body does not
/// take whole, as a caller would (the rest belongs to the next message).
fn feed_pieces(dec: &mut BodyDecoder, input: &[u8], cuts: &[usize]) -> Run {
    let mut data = Vec::new();
    let mut errors = Vec::new();
    let mut consumed = 0;
    let mut start = 0;
    for end in cuts.iter().copied().chain([input.len()]) {
        let piece = &input[start..end];
        let n = dec.feed(piece, &mut |e| match e {
            BodyEvent::Data(d) => data.extend_from_slice(d),
            BodyEvent::Error(e) => errors.push(e),
        });
        assert!(n <= piece.len());
        consumed += n;
        if n < piece.len() {
            assert!(dec.is_done(), "left bytes unconsumed while not done");
            break;
        }
        start = end;
    }
    finish(dec, data, errors, consumed)
}

fn finish(dec: &BodyDecoder, data: Vec<u8>, errors: Vec<BodyError>, consumed: usize) -> Run {
    Run {
        data,
        errors,
        consumed,
        state: dec.state(),
        wire_len: dec.wire_len(),
        decoded_len: dec.decoded_len(),
        chunks: dec.chunks(),
        trailers: dec.trailers().to_vec(),
        extensions: dec.extensions().to_vec(),
        notes: dec.notes().to_vec(),
    }
}

fn run(framing: Framing, input: &[u8]) -> Run {
    run_with(framing, BodyLimits::default(), input)
}

fn run_with(framing: Framing, limits: BodyLimits, input: &[u8]) -> Run {
    let mut dec = BodyDecoder::new(framing, limits);
    feed_pieces(&mut dec, input, &[])
}

fn tr(name: &str, value: &str) -> (Vec<u8>, Vec<u8>) {
    (name.as_bytes().to_vec(), value.as_bytes().to_vec())
}

struct Case {
    name: &'static str,
    input: &'static [u8],
    data: &'static [u8],
    consumed: usize,
    state: BodyState,
}

fn err(e: BodyError) -> BodyState {
    BodyState::Error(e)
}

#[test]
fn chunked_table() {
    use BodyError::*;
    let cases = [
        Case {
            name: "simple",
            input: b"5\r\nhello\r\n0\r\n\r\n",
            data: b"hello",
            consumed: 15,
            state: BodyState::Complete,
        },
        Case {
            name: "two chunks, upper and lower hex, leading zeros",
            input: b"000A\r\n0123456789\r\nC\r\n hello world\r\n0\r\n\r\n",
            data: b"0123456789 hello world",
            consumed: 40,
            state: BodyState::Complete,
        },
        Case {
            name: "extensions",
            input: b"5;name=value\r\nhello\r\n0;last\r\n\r\n",
            data: b"hello",
            consumed: 31,
            state: BodyState::Complete,
        },
        Case {
            name: "pipelined next message is not consumed",
            input: b"5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            data: b"hello",
            consumed: 15,
            state: BodyState::Complete,
        },
        Case {
            // ../shared/corpus/zeek/261-variant-01-chunk_2pow64_overflow.pcap, client stream.
            name: "2^64 overflow",
            input: b"10000000000000000\r\n\r\nGET /smuggled-chunk-2pow64 HTTP/1.1\r\nHost: target\r\n\r\n",
            data: b"",
            consumed: 16,
            state: err(ChunkSizeOverflow { offset: 16 }),
        },
        Case {
            name: "2^64-1 fits",
            input: b"ffffffffffffffff\r\nabc",
            data: b"abc",
            consumed: 21,
            state: BodyState::InProgress,
        },
        Case {
            name: "negative size",
            input: b"-1\r\n",
            data: b"",
            consumed: 0,
            state: err(EmptyChunkSize {
                offset: 0,
                found: b'-',
            }),
        },
        Case {
            name: "empty size line",
            input: b"\r\n",
            data: b"",
            consumed: 0,
            state: err(EmptyChunkSize {
                offset: 0,
                found: b'\r',
            }),
        },
        Case {
            name: "leading whitespace",
            input: b" 5\r\nhello\r\n0\r\n\r\n",
            data: b"",
            consumed: 0,
            state: err(EmptyChunkSize {
                offset: 0,
                found: b' ',
            }),
        },
        Case {
            name: "0x prefix",
            input: b"0x5\r\nhello\r\n",
            data: b"",
            consumed: 1,
            state: err(InvalidChunkSize {
                offset: 1,
                found: b'x',
            }),
        },
        Case {
            name: "garbage after digits",
            input: b"5g\r\nhello\r\n",
            data: b"",
            consumed: 1,
            state: err(InvalidChunkSize {
                offset: 1,
                found: b'g',
            }),
        },
        Case {
            name: "two numbers",
            input: b"5 6\r\nhello\r\n",
            data: b"",
            consumed: 2,
            state: err(InvalidChunkSize {
                offset: 2,
                found: b'6',
            }),
        },
        Case {
            name: "missing CRLF after data (size too small)",
            input: b"5\r\nhello world\r\n0\r\n\r\n",
            data: b"hello",
            consumed: 8,
            state: err(MissingChunkCrlf {
                offset: 8,
                found: b' ',
            }),
        },
        Case {
            name: "CR then not LF after data",
            input: b"5\r\nhello\rX",
            data: b"hello",
            consumed: 9,
            state: err(MissingChunkCrlf {
                offset: 9,
                found: b'X',
            }),
        },
        Case {
            name: "bare CR in size line",
            input: b"5\rhello",
            data: b"",
            consumed: 2,
            state: err(BareCr {
                offset: 2,
                found: b'h',
            }),
        },
        Case {
            name: "bare LF everywhere is accepted",
            input: b"5\nhello\n0\nA: b\n\nNEXT",
            data: b"hello",
            consumed: 16,
            state: BodyState::Complete,
        },
        Case {
            name: "whitespace after size, before extension and before CRLF",
            input: b"5 ;a=b\r\nhello\r\n3\t \r\nabc\r\n0\r\n\r\n",
            data: b"helloabc",
            consumed: 30,
            state: BodyState::Complete,
        },
        Case {
            name: "trailer line without colon (final CRLF missing, next request read as trailer)",
            input: b"0\r\nGET / HTTP/1.1\r\n",
            data: b"",
            consumed: 6,
            state: err(InvalidTrailer {
                offset: 6,
                found: b' ',
            }),
        },
        Case {
            name: "obs-fold in trailers is rejected",
            input: b"0\r\nA: 1\r\n  more\r\n\r\n",
            data: b"",
            consumed: 9,
            state: err(InvalidTrailer {
                offset: 9,
                found: b' ',
            }),
        },
        Case {
            name: "whitespace before trailer colon is rejected",
            input: b"0\r\nA : 1\r\n\r\n",
            data: b"",
            consumed: 4,
            state: err(InvalidTrailer {
                offset: 4,
                found: b' ',
            }),
        },
        Case {
            name: "bare CR in trailer",
            input: b"0\r\nA: 1\rB: 2\r\n\r\n",
            data: b"",
            consumed: 8,
            state: err(BareCr {
                offset: 8,
                found: b'B',
            }),
        },
        Case {
            name: "EOF-free incomplete stays in progress",
            input: b"5\r\nhel",
            data: b"hel",
            consumed: 6,
            state: BodyState::InProgress,
        },
    ];
    for c in &cases {
        let r = run(Framing::Chunked, c.input);
        assert_eq!(r.data, c.data, "{}: data", c.name);
        assert_eq!(r.consumed, c.consumed, "{}: consumed", c.name);
        assert_eq!(r.wire_len, c.consumed as u64, "{}: wire_len", c.name);
        assert_eq!(
            r.decoded_len,
            c.data.len() as u64,
            "{}: decoded_len",
            c.name
        );
        assert_eq!(r.state, c.state, "{}: state", c.name);
        // The error is reported once through the callback, and it is the one in the state.
        match &c.state {
            BodyState::Error(e) => assert_eq!(r.errors, vec![e.clone()], "{}", c.name),
            _ => assert!(r.errors.is_empty(), "{}: {:?}", c.name, r.errors),
        }
        // Splitting at every offset gives the same run.
        for cut in 0..=c.input.len() {
            let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
            let split = feed_pieces(&mut dec, c.input, &[cut]);
            assert_eq!(split, r, "{}: cut at {cut}", c.name);
        }
    }
}

#[test]
fn extensions_are_recorded_raw_with_place() {
    let r = run(
        Framing::Chunked,
        b"5;name=value\r\nhello\r\n1\r\n!\r\n0;last;q=\"a b\"\r\n\r\n",
    );
    assert_eq!(r.state, BodyState::Complete);
    assert_eq!(r.chunks, 2);
    assert_eq!(
        r.extensions,
        vec![
            ChunkExtension {
                chunk: 0,
                offset: 1,
                raw: b";name=value".to_vec()
            },
            ChunkExtension {
                chunk: 2,
                offset: 28,
                raw: b";last;q=\"a b\"".to_vec()
            },
        ]
    );
}

#[test]
fn extensions_kept_are_bounded_but_counted() {
    let mut wire = Vec::new();
    for _ in 0..40 {
        wire.extend_from_slice(b"1;x=y\r\na\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
    let r = feed_pieces(&mut dec, &wire, &[]);
    assert_eq!(r.state, BodyState::Complete);
    assert_eq!(r.data, vec![b'a'; 40]);
    assert_eq!(r.extensions.len(), MAX_EXTENSIONS);
    assert_eq!(r.extensions[15].chunk, 15);
    assert_eq!(dec.extension_lines(), 40);
}

#[test]
fn trailers_in_order_with_values_trimmed() {
    let r = run(
        Framing::Chunked,
        b"5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:  abc \t\r\nX-Empty:\r\nExpires: again\r\n\r\n",
    );
    assert_eq!(r.state, BodyState::Complete);
    assert_eq!(r.data, b"hello");
    assert_eq!(
        r.trailers,
        vec![
            tr("Expires", "never"),
            tr("X-Sum", "abc"),
            tr("X-Empty", ""),
            tr("Expires", "again")
        ]
    );
}

#[test]
fn zero_length_body_with_trailers() {
    let r = run(Framing::Chunked, b"0\r\nA: 1\r\nB: 2\r\n\r\nNEXT");
    assert_eq!(r.state, BodyState::Complete);
    assert_eq!(r.data, b"");
    assert_eq!(r.chunks, 0);
    assert_eq!(r.consumed, 17);
    assert_eq!(r.trailers, vec![tr("A", "1"), tr("B", "2")]);
}

#[test]
fn lenience_is_noted_with_offsets_not_errors() {
    let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
    let r = feed_pieces(&mut dec, b"5\nhello\n0\nA: b\n\n", &[]);
    assert_eq!(r.state, BodyState::Complete);
    let lf_at: Vec<u64> = r.notes.iter().map(|n| n.offset).collect();
    assert_eq!(lf_at, vec![1, 7, 9, 14, 15]);
    assert!(r.notes.iter().all(|n| n.kind == NoteKind::BareLf));
    assert_eq!(
        dec.lenience(),
        Lenience {
            bare_lf: 5,
            whitespace_after_size: 0
        }
    );

    let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
    let r = feed_pieces(&mut dec, b"5  \r\nhello\r\n0\t;x\r\n\r\n", &[]);
    assert_eq!(r.state, BodyState::Complete);
    assert_eq!(
        r.notes,
        vec![
            BodyNote {
                kind: NoteKind::WhitespaceAfterSize,
                offset: 1
            },
            BodyNote {
                kind: NoteKind::WhitespaceAfterSize,
                offset: 13
            },
        ]
    );
    assert_eq!(dec.lenience().whitespace_after_size, 2);
}

#[test]
fn chunked_limits() {
    let limits = BodyLimits {
        max_chunk_line: 8,
        max_trailer_bytes: 12,
        max_trailers: 2,
    };
    let r = run_with(Framing::Chunked, limits.clone(), b"5;abcdefg\r\nhello\r\n");
    assert_eq!(
        r.state,
        err(BodyError::ChunkLineTooLong {
            offset: 8,
            limit: 8
        })
    );
    assert_eq!(r.consumed, 8);
    // Exactly at the limit is fine; the line end does not count.
    let r = run_with(
        Framing::Chunked,
        limits.clone(),
        b"5;abcdef\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!(r.state, BodyState::Complete);
    // Leading zeros count towards the line limit, so they cannot be used to hide a long line.
    let r = run_with(Framing::Chunked, limits.clone(), b"000000005\r\n");
    assert_eq!(
        r.state,
        err(BodyError::ChunkLineTooLong {
            offset: 8,
            limit: 8
        })
    );

    let r = run_with(
        Framing::Chunked,
        limits.clone(),
        b"0\r\nA: 123456789\r\n\r\n",
    );
    assert_eq!(
        r.state,
        err(BodyError::TrailerTooLarge {
            offset: 15,
            limit: 12
        })
    );
    let r = run_with(
        Framing::Chunked,
        BodyLimits {
            max_trailer_bytes: 100,
            ..limits
        },
        b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
    );
    assert_eq!(
        r.state,
        err(BodyError::TooManyTrailers {
            offset: 15,
            limit: 2
        })
    );
    assert_eq!(r.trailers, vec![tr("A", "1"), tr("B", "2")]);
}

#[test]
fn real_chunked_gzip_body() {
    // ../shared/corpus/zeek/http-body-match.pcap, tcp stream 4, the 200 response's body: two
    // chunks carrying one gzip member (decoded by the content tests to "CDEF").
    let wire = b"10\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03svqu\x03\x00\r\n8\r\n6R\xc7\xcd\x04\x00\x00\x00\r\n0\r\n\r\n";
    let r = run(Framing::Chunked, wire);
    assert_eq!(r.state, BodyState::Complete);
    assert_eq!(r.consumed, 40);
    assert_eq!(r.chunks, 2);
    assert_eq!(r.data.len(), 0x10 + 8);
    assert_eq!(&r.data[..2], b"\x1f\x8b");
}

#[test]
fn length_and_close_and_none() {
    let r = run(Framing::Length(5), b"helloGET /");
    assert_eq!((r.data.as_slice(), r.consumed), (&b"hello"[..], 5));
    assert_eq!(r.state, BodyState::Complete);

    let r = run(Framing::Length(0), b"GET /");
    assert_eq!((r.consumed, r.state), (0, BodyState::Complete));
    let r = run(Framing::None, b"GET /");
    assert_eq!((r.consumed, r.state), (0, BodyState::Complete));

    let mut dec = BodyDecoder::new(Framing::Close, BodyLimits::default());
    let r = feed_pieces(&mut dec, b"anything\r\n0\r\n\r\nat all", &[3, 9]);
    assert_eq!(r.consumed, 21);
    assert_eq!(r.state, BodyState::InProgress);
    dec.eof();
    assert_eq!(dec.state(), BodyState::Complete);
    assert_eq!(dec.decoded_len(), 21);
}

#[test]
fn eof_before_the_end_is_incomplete() {
    for (framing, input) in [
        (Framing::Length(10), &b"hello"[..]),
        (Framing::Chunked, b"5\r\nhel"),
        (Framing::Chunked, b"5\r\nhello\r\n0\r\nA: 1\r\n"),
        (Framing::Chunked, b""),
    ] {
        let mut dec = BodyDecoder::new(framing, BodyLimits::default());
        assert_eq!(dec.feed(input, &mut |_| {}), input.len());
        assert!(!dec.is_done());
        dec.eof();
        assert_eq!(dec.state(), BodyState::Incomplete, "{framing:?} {input:?}");
        assert!(dec.is_done());
        assert_eq!(dec.feed(b"more", &mut |_| {}), 0);
    }
    // eof after completion changes nothing.
    let mut dec = BodyDecoder::new(Framing::Length(2), BodyLimits::default());
    dec.feed(b"ok", &mut |_| {});
    dec.eof();
    assert_eq!(dec.state(), BodyState::Complete);
}

#[test]
fn gaps_with_known_length() {
    let mut dec = BodyDecoder::new(Framing::Length(10), BodyLimits::default());
    assert_eq!(dec.feed(b"abc", &mut |_| {}), 3);
    assert_eq!(dec.gap(4), 4);
    assert_eq!(dec.state(), BodyState::InProgress);
    assert_eq!(dec.feed(b"defNEXT", &mut |_| {}), 3);
    assert_eq!(dec.state(), BodyState::Partial);
    assert_eq!(
        (dec.wire_len(), dec.decoded_len(), dec.missing()),
        (10, 6, 4)
    );

    // A gap longer than the rest of the body: the body takes what remains.
    let mut dec = BodyDecoder::new(Framing::Length(10), BodyLimits::default());
    dec.feed(b"abc", &mut |_| {});
    assert_eq!(dec.gap(20), 7);
    assert_eq!(dec.state(), BodyState::Partial);
    assert_eq!(dec.gap(5), 0);

    let mut dec = BodyDecoder::new(Framing::Close, BodyLimits::default());
    assert_eq!(dec.gap(100), 100);
    dec.eof();
    assert_eq!((dec.state(), dec.missing()), (BodyState::Partial, 100));

    let mut dec = BodyDecoder::new(Framing::None, BodyLimits::default());
    assert_eq!(dec.gap(100), 0);
    assert_eq!(dec.state(), BodyState::Complete);

    let mut dec = BodyDecoder::new(Framing::Length(3), BodyLimits::default());
    assert_eq!(dec.gap(0), 0);
    assert_eq!(dec.state(), BodyState::InProgress);
}

#[test]
fn huge_gaps_do_not_overflow_the_counters() {
    let mut dec = BodyDecoder::new(Framing::Close, BodyLimits::default());
    dec.feed(b"ab", &mut |_| {});
    assert_eq!(dec.gap(u64::MAX), u64::MAX);
    assert_eq!(dec.feed(b"cd", &mut |_| {}), 2);
    assert_eq!((dec.wire_len(), dec.missing()), (u64::MAX, u64::MAX));

    let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
    dec.feed(b"ffffffffffffffff\r\nab", &mut |_| {});
    assert_eq!(dec.gap(u64::MAX - 2), u64::MAX - 2);
    assert_eq!(dec.feed(b"\r\n0\r\n\r\n", &mut |_| {}), 7);
    assert_eq!(dec.state(), BodyState::Partial);
    assert_eq!(dec.wire_len(), u64::MAX);
}

#[test]
fn gap_inside_chunk_data_is_absorbed() {
    let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
    let mut data = Vec::new();
    let mut sink = |e: BodyEvent<'_>| {
        if let BodyEvent::Data(d) = e {
            data.extend_from_slice(d)
        }
    };
    assert_eq!(dec.feed(b"a\r\n01234", &mut sink), 8);
    assert_eq!(dec.gap(3), 3);
    assert_eq!(dec.feed(b"89\r\n0\r\n\r\nNEXT", &mut sink), 9);
    assert_eq!(dec.state(), BodyState::Partial);
    assert_eq!(data, b"0123489");
    assert_eq!((dec.wire_len(), dec.missing()), (20, 3));

    // A gap that ends exactly at the end of the chunk data keeps the place too.
    let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
    dec.feed(b"5\r\nhe", &mut |_| {});
    assert_eq!(dec.gap(3), 3);
    assert_eq!(dec.feed(b"\r\n0\r\n\r\n", &mut |_| {}), 7);
    assert_eq!(dec.state(), BodyState::Partial);
}

#[test]
fn gap_over_chunk_framing_is_lost() {
    // The gap runs past the chunk data into the next size line.
    let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
    dec.feed(b"5\r\nhel", &mut |_| {});
    assert_eq!(dec.gap(10), 2);
    assert_eq!(dec.state(), BodyState::Lost);
    assert!(dec.is_done());
    assert_eq!(dec.feed(b"xyz", &mut |_| {}), 0);
    assert_eq!((dec.wire_len(), dec.missing()), (8, 2));

    // The gap is inside a size line, a CRLF or a trailer.
    for prefix in [&b"5"[..], b"", b"5\r\nhello", b"5\r\nhello\r", b"0\r\nA: 1"] {
        let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
        assert_eq!(dec.feed(prefix, &mut |_| {}), prefix.len());
        assert_eq!(dec.gap(1), 0, "{prefix:?}");
        assert_eq!(dec.state(), BodyState::Lost);
        dec.eof();
        assert_eq!(dec.state(), BodyState::Lost);
    }
}

#[test]
fn errors_display_where() {
    let e = BodyError::ChunkSizeOverflow { offset: 16 };
    assert_eq!(e.offset(), 16);
    assert!(e.to_string().contains("offset 16"));
    let e = BodyError::MissingChunkCrlf {
        offset: 8,
        found: b' ',
    };
    assert!(e.to_string().contains("0x20"), "{e}");
}

// ---- properties ----

#[derive(Debug, Clone)]
struct ChunkedBody {
    chunks: Vec<(Vec<u8>, Option<&'static str>)>,
    trailers: Vec<(String, String)>,
    bare_lf: bool,
    upper: bool,
}

impl ChunkedBody {
    fn encode(&self) -> Vec<u8> {
        let eol: &[u8] = if self.bare_lf { b"\n" } else { b"\r\n" };
        let mut w = Vec::new();
        for (data, ext) in &self.chunks {
            let size = if self.upper {
                format!("{:X}", data.len())
            } else {
                format!("{:x}", data.len())
            };
            w.extend_from_slice(size.as_bytes());
            if let Some(ext) = ext {
                w.extend_from_slice(ext.as_bytes());
            }
            w.extend_from_slice(eol);
            w.extend_from_slice(data);
            w.extend_from_slice(eol);
        }
        w.extend_from_slice(b"0");
        w.extend_from_slice(eol);
        for (n, v) in &self.trailers {
            w.extend_from_slice(format!("{n}: {v}").as_bytes());
            w.extend_from_slice(eol);
        }
        w.extend_from_slice(eol);
        w
    }
}

fn chunked_body() -> impl Strategy<Value = ChunkedBody> {
    let ext = prop::option::of(prop::sample::select(vec![
        ";a=b",
        ";x",
        ";n=\"q v\"",
        " ;s",
    ]));
    (
        prop::collection::vec((prop::collection::vec(any::<u8>(), 1..64), ext), 0..8),
        prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,8}", "[ -~]{0,12}"), 0..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(chunks, trailers, bare_lf, upper)| ChunkedBody {
            chunks,
            trailers,
            bare_lf,
            upper,
        })
}

fn cuts(len: usize, idx: &[prop::sample::Index]) -> Vec<usize> {
    let mut c: Vec<usize> = idx.iter().map(|i| i.index(len + 1)).collect();
    c.sort_unstable();
    c
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        Just(Framing::None),
        (0u64..300).prop_map(Framing::Length),
        Just(Framing::Chunked),
        Just(Framing::Close),
    ]
}

proptest! {
    #[test]
    fn chunked_split_anywhere(
        body in chunked_body(),
        next in prop::collection::vec(any::<u8>(), 0..20),
        idx in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let encoded = body.encode();
        let mut wire = encoded.clone();
        wire.extend_from_slice(&next);
        let whole = run(Framing::Chunked, &wire);
        // Against the encoder: the payload, the exact consumed count, the trailers.
        let payload: Vec<u8> = body.chunks.iter().flat_map(|(d, _)| d.clone()).collect();
        prop_assert_eq!(&whole.data, &payload);
        prop_assert_eq!(whole.consumed, encoded.len());
        prop_assert_eq!(whole.wire_len, encoded.len() as u64);
        prop_assert_eq!(&whole.state, &BodyState::Complete);
        prop_assert_eq!(whole.chunks, body.chunks.len() as u64);
        let trailers: Vec<_> = body.trailers.iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.trim_matches(' ').as_bytes().to_vec()))
            .collect();
        prop_assert_eq!(&whole.trailers, &trailers);
        let exts = body.chunks.iter().filter(|(_, e)| e.is_some()).count();
        prop_assert_eq!(whole.extensions.len(), exts);
        // Against itself, fed in pieces.
        let mut dec = BodyDecoder::new(Framing::Chunked, BodyLimits::default());
        let split = feed_pieces(&mut dec, &wire, &cuts(wire.len(), &idx));
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn any_bytes_any_framing_never_panic_and_split_anywhere(
        framing in framing(),
        input in prop::collection::vec(any::<u8>(), 0..300),
        idx in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        small in any::<bool>(),
    ) {
        let limits = if small {
            BodyLimits { max_chunk_line: 6, max_trailer_bytes: 10, max_trailers: 2 }
        } else {
            BodyLimits::default()
        };
        let mut dec = BodyDecoder::new(framing, limits.clone());
        let whole = feed_pieces(&mut dec, &input, &[]);
        prop_assert!(whole.consumed <= input.len());
        prop_assert_eq!(whole.wire_len, whole.consumed as u64);
        prop_assert!(whole.decoded_len <= whole.wire_len);
        prop_assert_eq!(whole.decoded_len, whole.data.len() as u64);
        prop_assert!(whole.errors.len() <= 1);
        if whole.consumed < input.len() {
            prop_assert!(dec.is_done());
        }
        let mut split_dec = BodyDecoder::new(framing, limits);
        let split = feed_pieces(&mut split_dec, &input, &cuts(input.len(), &idx));
        prop_assert_eq!(&split, &whole);
        // Whatever happens next, nothing panics and a done decoder takes nothing.
        let absorbed = dec.gap(7);
        prop_assert!(absorbed <= 7);
        dec.eof();
        prop_assert!(dec.is_done());
        prop_assert_eq!(dec.feed(&input, &mut |_| {}), 0);
        prop_assert_eq!(dec.gap(1), 0);
        prop_assert_eq!(dec.wire_len(), whole.wire_len + absorbed);
    }

    #[test]
    fn arbitrary_feeds_and_gaps_interleaved(
        framing in framing(),
        ops in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..40).prop_map(Ok),
                (0u64..50).prop_map(Err),
            ],
            0..20,
        ),
    ) {
        let mut dec = BodyDecoder::new(framing, BodyLimits::default());
        let mut consumed = 0u64;
        let mut absorbed = 0u64;
        for op in ops {
            match op {
                Ok(bytes) => consumed += dec.feed(&bytes, &mut |_| {}) as u64,
                Err(n) => absorbed += dec.gap(n),
            }
        }
        dec.eof();
        prop_assert!(dec.is_done());
        prop_assert_eq!(dec.wire_len(), consumed + absorbed);
        prop_assert_eq!(dec.missing(), absorbed);
        prop_assert!(dec.decoded_len() <= consumed);
    }
}
