#![allow(clippy::unwrap_used)]
use super::*;
use proptest::prelude::*;

fn req(b: &[u8]) -> Head {
    match parse_request(b, &HeadLimits::default()) {
        Parsed::Complete(h) => h,
        other => panic!("{other:?} for {:?}", String::from_utf8_lossy(b)),
    }
}

fn resp(b: &[u8]) -> Head {
    match parse_response(b, &HeadLimits::default()) {
        Parsed::Complete(h) => h,
        other => panic!("{other:?}"),
    }
}

fn fields(h: &Head) -> Vec<(String, String)> {
    h.fields()
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into(),
                String::from_utf8_lossy(v).into(),
            )
        })
        .collect()
}

#[test]
fn rfc9112_s3_request_line_and_fields_in_order_duplicates_kept() {
    let raw = b"GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: a\r\naccept:  b \r\n\r\nBODY";
    let h = req(raw);
    assert_eq!(
        h.start,
        StartLine::Request {
            method: b"GET".to_vec(),
            target: b"/a?b=c".to_vec(),
            version: Version::HTTP11
        }
    );
    assert_eq!(&raw[h.len..], b"BODY");
    assert_eq!(
        fields(&h),
        vec![
            ("Host".into(), "x".into()),
            ("Accept".into(), "a".into()),
            ("accept".into(), "b".into())
        ]
    );
    assert_eq!(h.values_named("ACCEPT").count(), 2);
    assert!(h.issues.is_empty());
    assert!(h.rejected.is_none());
}

#[test]
fn rfc9112_s3_2_target_forms_kept_exactly() {
    for t in ["/p", "http://example.com:8080/p?q", "example.com:443", "*"] {
        let h = req(format!("OPTIONS {t} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
        match h.start {
            StartLine::Request { target, .. } => assert_eq!(target, t.as_bytes()),
            _ => unreachable!(),
        }
    }
}

#[test]
fn rfc9112_s4_status_line() {
    let h = resp(b"HTTP/1.0 404 Not Found\r\nServer: s\r\n\r\n");
    assert_eq!(
        h.start,
        StartLine::Response {
            version: Version::HTTP10,
            status: 404,
            reason: b"Not Found".to_vec()
        }
    );
    let h = resp(b"HTTP/1.1 200 \r\n\r\n");
    assert!(
        matches!(h.start, StartLine::Response { status: 200, ref reason, .. } if reason.is_empty())
    );
}

#[test]
fn partial_until_the_empty_line() {
    let l = HeadLimits::default();
    for cut in [
        b"GET / HTTP/1.1\r\n".as_slice(),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r",
    ] {
        assert!(matches!(parse_request(cut, &l), Parsed::Partial), "{cut:?}");
    }
}

#[test]
fn head_over_the_limit_is_too_large() {
    let l = HeadLimits {
        max_bytes: 64,
        max_fields: 10,
    };
    let mut b = b"GET / HTTP/1.1\r\n".to_vec();
    b.extend(std::iter::repeat_n(b'a', 100));
    assert!(matches!(parse_request(&b, &l), Parsed::TooLarge));
}

#[test]
fn rfc9112_s2_2_bare_lf_is_accepted_and_reported() {
    let h = req(b"GET / HTTP/1.1\nHost: x\n\n");
    assert_eq!(fields(&h), vec![("Host".into(), "x".into())]);
    assert!(h.issues.contains(&HeadIssue::BareLf));
    assert_eq!(h.len, 24);
}

#[test]
fn rfc9112_s5_2_obs_fold_in_a_request_is_joined_and_reported() {
    let h = req(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n  b\r\n\r\n");
    assert_eq!(fields(&h)[1], ("X-Long".into(), "a b".into()));
    assert!(
        h.rejected.is_some(),
        "httparse rejects obs-fold in requests"
    );
    assert!(h.issues.contains(&HeadIssue::ObsFold {
        name: b"X-Long".to_vec()
    }));
}

#[test]
fn rfc9112_s5_1_space_before_colon_is_reported() {
    let h = req(b"GET / HTTP/1.1\r\nHost : x\r\nTransfer-Encoding : chunked\r\n\r\n");
    assert_eq!(
        fields(&h),
        vec![
            ("Host".into(), "x".into()),
            ("Transfer-Encoding".into(), "chunked".into())
        ]
    );
    assert!(h.issues.contains(&HeadIssue::SpaceBeforeColon {
        name: b"Transfer-Encoding".to_vec()
    }));
}

#[test]
fn rfc9110_s5_5_control_bytes_in_values_and_names() {
    let h = req(b"GET / HTTP/1.1\r\nX-A: a\x01b\r\nX(B): c\r\n\r\n");
    assert!(h.issues.contains(&HeadIssue::InvalidValue {
        name: b"X-A".to_vec()
    }));
    assert!(h.issues.contains(&HeadIssue::InvalidName {
        name: b"X(B)".to_vec()
    }));
    assert_eq!(h.field_count(), 2, "kept, not dropped");
}

#[test]
fn obs_text_in_values_is_kept_as_bytes() {
    let h = req(b"GET / HTTP/1.1\r\nX-Name: caf\xe9\r\n\r\n");
    assert_eq!(h.values_named("x-name").next(), Some(b"caf\xe9".as_slice()));
    assert!(h.issues.is_empty());
}

#[test]
fn too_many_fields_are_counted() {
    let l = HeadLimits {
        max_bytes: 1 << 16,
        max_fields: 3,
    };
    let mut b = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..5 {
        b.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    b.extend_from_slice(b"\r\n");
    match parse_request(&b, &l) {
        Parsed::Complete(h) => {
            assert_eq!(h.field_count(), 3);
            assert!(h.issues.contains(&HeadIssue::TooManyFields { dropped: 2 }));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn not_http_is_invalid() {
    let l = HeadLimits::default();
    assert!(matches!(
        parse_response(b"SSH-2.0-OpenSSH\r\n\r\n", &l),
        Parsed::Invalid(_)
    ));
    assert!(matches!(
        parse_request(b"\x16\x03\x01\r\n\r\n", &l),
        Parsed::Invalid(_)
    ));
}

#[test]
fn broken_request_lines_are_read_like_zeek_does() {
    for (raw, method, target, version) in [
        (
            "OPTIONS HTTP/1.1\nHost: h\n\n",
            "OPTIONS",
            "",
            Version::HTTP11,
        ),
        ("OPTIONS\nHost: h\n\n", "OPTIONS", "", Version::HTTP09),
        (
            "GET /HTTP/1.1\nHost: h\n\n",
            "GET",
            "/HTTP/1.1",
            Version::HTTP09,
        ),
        (
            "CONNECT host:25 / HTTP/1.0\r\n\r\n",
            "CONNECT",
            "host:25 /",
            Version::HTTP10,
        ),
    ] {
        let h = req(raw.as_bytes());
        assert_eq!(
            h.start,
            StartLine::Request {
                method: method.into(),
                target: target.into(),
                version
            },
            "{raw:?}"
        );
        assert!(h.issues.contains(&HeadIssue::BadStartLine), "{raw:?}");
    }
}

#[test]
fn http09_request_line() {
    let h = req(b"GET /index.html\r\n");
    assert!(matches!(
        h.start,
        StartLine::Request {
            version: Version::HTTP09,
            ..
        }
    ));
    assert_eq!(h.len, 17);
}

#[test]
fn list_fields_split_on_commas() {
    let h =
        req(b"GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nconnection: x-a ,, \r\n\r\n");
    let l: Vec<&[u8]> = h.list(Known::Connection).collect();
    assert_eq!(l, vec![b"keep-alive".as_slice(), b"Upgrade", b"x-a"]);
    assert!(h.list_has(Known::Connection, "upgrade"));
}

#[test]
fn content_detection() {
    assert_eq!(looks_like_request(b"GE"), Prefix::Maybe);
    assert_eq!(looks_like_request(b"GET / HT"), Prefix::Maybe);
    assert_eq!(looks_like_request(b"GET / HTTP/1.1\r\n"), Prefix::Yes);
    assert_eq!(looks_like_request(b"M-SEARCH * HTTP/1.1\r\n"), Prefix::Yes);
    assert_eq!(looks_like_request(b"\x16\x03\x01"), Prefix::No);
    assert_eq!(looks_like_request(b"get / HTTP/1.1\r\n"), Prefix::No);
    assert_eq!(looks_like_request(b"HELLO world\r\n"), Prefix::Maybe);
    assert_eq!(looks_like_request(b"HELLO world\r\nthere\r\n"), Prefix::No);
    // Broken request lines followed by a field line are still HTTP (servers answer 400).
    assert_eq!(looks_like_request(b"OPTIONS\nHost: x\n\n"), Prefix::Yes);
    assert_eq!(
        looks_like_request(b"OPTIONS HTTP/1.1\nHost: x\n\n"),
        Prefix::Yes
    );
    assert_eq!(
        looks_like_request(b"OPTIONSHTTP/1.1\nHost: x\n\n"),
        Prefix::No
    );
    assert_eq!(looks_like_response(b"HTTP/1"), Prefix::Maybe);
    assert_eq!(looks_like_response(b"HTTP/1.1 200 OK"), Prefix::Yes);
    assert_eq!(looks_like_response(b"HTTP/2 200"), Prefix::No);
    assert_eq!(looks_like_response(b"SSH-2.0"), Prefix::No);
}

proptest! {
    #[test]
    fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..300), req in any::<bool>()) {
        let l = HeadLimits { max_bytes: 200, max_fields: 8 };
        let _ = if req { parse_request(&b, &l) } else { parse_response(&b, &l) };
        let _ = looks_like_request(&b);
        let _ = looks_like_response(&b);
    }

    /// A head is found at the same place however much of what follows is present.
    #[test]
    fn head_length_does_not_depend_on_what_follows(extra in proptest::collection::vec(any::<u8>(), 0..50)) {
        let mut b = b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n".to_vec();
        let n = b.len();
        b.extend_from_slice(&extra);
        let h = req(&b);
        prop_assert_eq!(h.len, n);
    }
}

#[test]
fn control_bytes_found_as_one_at_a_time() {
    let naive = |b: &[u8]| b.iter().any(|c| c.is_ascii_control() && *c != b'\t');
    let mut lines: Vec<Vec<u8>> = vec![
        b"GET /a/b?c=d HTTP/1.1".to_vec(),
        b"GET\t/x HTTP/1.1 with a tab in it".to_vec(),
        Vec::new(),
        vec![0x7f; 9],
        "GET /\u{e9}t\u{e9} HTTP/1.1".as_bytes().to_vec(),
    ];
    for c in (0u8..=0x20).chain([0x7f, 0x80, 0xff]) {
        for at in [0, 3, 7, 8, 15, 16, 20] {
            let mut l = b"GET /some/long/path HTTP/1.1".to_vec();
            l.insert(at, c);
            lines.push(l);
        }
    }
    for l in &lines {
        assert_eq!(has_control(l), naive(l), "{l:?}");
    }
}

proptest! {
    #[test]
    fn control_bytes_found_as_one_at_a_time_any(b in proptest::collection::vec(any::<u8>(), 0..80)) {
        prop_assert_eq!(has_control(&b), b.iter().any(|c| c.is_ascii_control() && *c != b'\t'));
    }
}

#[test]
fn known_fields_are_told_by_name_in_any_case_hop_by_hop_as_rfc9110_lists_them() {
    let all = Known::NAMES;
    assert_eq!(all.len(), 17, "every Known but Other");
    for &(k, name) in all {
        assert!(name.bytes().all(|c| c.is_ascii_lowercase() || c == b'-'));
        assert_eq!(Known::of(name.as_bytes()), k, "{name}");
        assert_eq!(Known::of(name.to_ascii_uppercase().as_bytes()), k, "{name}");
        assert_eq!(
            k.is_standard_hop_by_hop(),
            crate::model::syntax::HOP_BY_HOP.contains(&name),
            "{name}"
        );
    }
    for name in crate::model::syntax::HOP_BY_HOP {
        assert!(
            Known::of(name.as_bytes()).is_standard_hop_by_hop(),
            "{name}"
        );
    }
    for other in [
        "",
        "x-te",
        "hosts",
        "cookie2",
        "content-lengths",
        "X-Trace",
        ":path",
    ] {
        assert_eq!(Known::of(other.as_bytes()), Known::Other, "{other}");
    }
    // Every one-byte change of every name (words are compared, not bytes: a byte that only
    // `| 0x20` makes equal, `\r` for `-` or `@` for `` ` ``, must not match), and mixed case.
    for &(k, name) in all {
        for i in 0..name.len() {
            for b in 0..=255u8 {
                let mut n = name.as_bytes().to_vec();
                n[i] = b;
                let want = if b.to_ascii_lowercase() == name.as_bytes()[i] {
                    k
                } else {
                    Known::Other
                };
                assert_eq!(Known::of(&n), want, "{:?}", String::from_utf8_lossy(&n));
            }
        }
        let mixed: Vec<u8> = (name.bytes().enumerate())
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(Known::of(&mixed), k, "{name}");
    }
    // A question about a field the head does not have, and about one it has twice.
    let h = req(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nhost: b\r\n\r\n");
    assert!(h.has(Known::Host) && !h.has(Known::ContentLength));
    assert_eq!(h.values(Known::Host).collect::<Vec<_>>(), [b"a", b"b"]);
    assert_eq!(h.values(Known::ContentLength).count(), 0);
}
