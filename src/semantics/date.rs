//! Dates in HTTP fields: the cookie-date algorithm of RFC 6265bis §5.1.1, which reads the three
//! HTTP-date forms of RFC 9110 §5.6.7 (IMF-fixdate, RFC 850, asctime) and the variants cookies
//! use in practice (`Wed, 01-Jan-2031 00:00:00 GMT`). Pure functions; no clock.

use crate::base::utc::{days_from_civil, days_in_month};

/// Seconds since the Unix epoch, or None when the value is not a date.
pub fn parse(v: &[u8]) -> Option<i64> {
    fixdate(v).or_else(|| lenient(v))
}

/// The common case, IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), read by position.
fn fixdate(v: &[u8]) -> Option<i64> {
    let v: &[u8; 29] = v.try_into().ok()?;
    if v[3] != b','
        || v[4] != b' '
        || v[7] != b' '
        || v[11] != b' '
        || v[16] != b' '
        || &v[25..] != b" GMT"
        || v[19] != b':'
        || v[22] != b':'
    {
        return None;
    }
    let n = |a: usize, len: usize| -> Option<u32> {
        v[a..a + len].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (d, y, h, mi, s) = (n(5, 2)?, n(12, 4)?, n(17, 2)?, n(20, 2)?, n(23, 2)?);
    let m = month_of(&v[8..11])?;
    let y = i64::from(y);
    if !(1..=31).contains(&d) || y < 1601 || h > 23 || mi > 59 || s > 59 || d > days_in_month(y, m)
    {
        return None;
    }
    Some(
        days_from_civil(y, m, d) * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s),
    )
}

/// RFC 6265bis §5.1.1, for every other form.
fn lenient(v: &[u8]) -> Option<i64> {
    let mut time: Option<(u32, u32, u32)> = None;
    let mut day: Option<u32> = None;
    let mut month: Option<u32> = None;
    let mut year: Option<i64> = None;
    for tok in v.split(|&c| is_delimiter(c)).filter(|t| !t.is_empty()) {
        if time.is_none()
            && let Some(t) = time_of(tok)
        {
            time = Some(t);
            continue;
        }
        if day.is_none()
            && let Some(d) = digits_prefix(tok, 1, 2)
        {
            day = Some(d as u32);
            continue;
        }
        if month.is_none()
            && let Some(m) = month_of(tok)
        {
            month = Some(m);
            continue;
        }
        if year.is_none()
            && let Some(y) = digits_prefix(tok, 2, 4)
        {
            year = Some(y as i64);
        }
    }
    let (h, mi, s) = time?;
    let (d, m, mut y) = (day?, month?, year?);
    if (70..=99).contains(&y) {
        y += 1900;
    } else if (0..=69).contains(&y) {
        y += 2000;
    }
    if !(1..=31).contains(&d) || y < 1601 || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    if d > days_in_month(y, m) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    Some(days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s))
}

fn is_delimiter(c: u8) -> bool {
    c == 0x09
        || (0x20..=0x2f).contains(&c)
        || (0x3b..=0x40).contains(&c)
        || (0x5b..=0x60).contains(&c)
        || (0x7b..=0x7e).contains(&c)
}

/// 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT, then anything that is not a digit.
fn time_of(tok: &[u8]) -> Option<(u32, u32, u32)> {
    let mut parts = [0u32; 3];
    let mut i = 0;
    for (n, slot) in parts.iter_mut().enumerate() {
        let start = i;
        while i < tok.len() && tok[i].is_ascii_digit() && i - start < 2 {
            *slot = *slot * 10 + u32::from(tok[i] - b'0');
            i += 1;
        }
        if i == start {
            return None;
        }
        if n < 2 {
            if tok.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
        }
    }
    if tok.get(i).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((parts[0], parts[1], parts[2]))
}

/// `min..=max` digits at the start, not followed by another digit.
fn digits_prefix(tok: &[u8], min: usize, max: usize) -> Option<u64> {
    let n = tok.iter().take_while(|c| c.is_ascii_digit()).count();
    if n < min || n > max {
        return None;
    }
    let mut v = 0u64;
    for &c in &tok[..n] {
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

fn month_of(tok: &[u8]) -> Option<u32> {
    let &[a, b, c, ..] = tok else {
        return None;
    };
    // `| 0x20` lowercases ASCII letters, and only bytes that are letters either way become
    // one: a match is an ASCII case-insensitive one (one comparison, not twelve).
    let m = match [a | 0x20, b | 0x20, c | 0x20] {
        [b'j', b'a', b'n'] => 1,
        [b'f', b'e', b'b'] => 2,
        [b'm', b'a', b'r'] => 3,
        [b'a', b'p', b'r'] => 4,
        [b'm', b'a', b'y'] => 5,
        [b'j', b'u', b'n'] => 6,
        [b'j', b'u', b'l'] => 7,
        [b'a', b'u', b'g'] => 8,
        [b's', b'e', b'p'] => 9,
        [b'o', b'c', b't'] => 10,
        [b'n', b'o', b'v'] => 11,
        [b'd', b'e', b'c'] => 12,
        _ => return None,
    };
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9110_5_6_7_the_three_http_date_forms_and_cookie_variants() {
        let cases: &[(&str, Option<i64>)] = &[
            // RFC 9110 §5.6.7's example instant in its three forms.
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(784_111_777)),
            ("Sunday, 06-Nov-94 08:49:37 GMT", Some(784_111_777)),
            ("Sun Nov  6 08:49:37 1994", Some(784_111_777)),
            // Cookie dates as servers send them (RFC 6265bis §5.1.1).
            ("Wed, 01 Jan 2031 00:00:00 GMT", Some(1_924_992_000)),
            ("Wed, 01-Jan-2031 00:00:00 GMT", Some(1_924_992_000)),
            ("Tue, 14 Nov 2023 22:13:20 GMT", Some(1_700_000_000)),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(0)),
            ("Tue, 29 Feb 2028 10:00:00 GMT", Some(1_835_431_200)),
            // Not dates.
            ("0", None),
            ("-1", None),
            ("", None),
            ("Wed, 31 Feb 2031 00:00:00 GMT", None),
            ("Wed, 01 Jan 2031 25:00:00 GMT", None),
            ("Wed, 01 Foo 2031 00:00:00 GMT", None),
            ("Wed, 01 Jan 1500 00:00:00 GMT", None),
        ];
        for (v, want) in cases {
            assert_eq!(parse(v.as_bytes()), *want, "{v}");
            assert_eq!(
                lenient(v.as_bytes()),
                *want,
                "{v}: the general algorithm agrees"
            );
        }
    }
}
