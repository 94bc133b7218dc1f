//! UTC from packet time and back: civil-date arithmetic (Howard Hinnant's algorithms) and the
//! one timestamp format the text report, the UI and the semantics messages show.

use super::Timestamp;

/// The civil date (year, month 1–12, day 1–31) of `days` since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // `d` is 1..=31 and `m` 1..=12 by construction.
    (y, m as u32, d as u32)
}

/// Days since 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days in month `m` (1–12) of year `y` (Gregorian).
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `2026-11-24 08:55:58.405399` (UTC), from packet time.
pub fn utc(ts: Timestamp) -> String {
    let ns = ts.0.rem_euclid(1_000_000_000);
    let secs = ts.0.div_euclid(1_000_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:06}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        ns / 1000
    )
}

/// `2031-01-01 00:00:00 UTC`: whole seconds since the epoch, as dates in headers are.
pub fn utc_secs(secs: i64) -> String {
    let s = utc(Timestamp(secs.saturating_mul(1_000_000_000)));
    let whole = s.split('.').next().unwrap_or_default();
    format!("{whole} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for days in [
            -719_468, -1, 0, 1, 59, 365, 11_016, 19_723, 20_513, 2_932_896,
        ] {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_512), (2026, 2, 28));
        assert_eq!(days_from_civil(2028, 2, 29), 21_243);
    }

    #[test]
    fn formats() {
        assert_eq!(
            utc(Timestamp(1_700_000_000_123_456_789)),
            "2023-11-14 22:13:20.123456"
        );
        assert_eq!(utc(Timestamp(-1)), "1969-12-31 23:59:59.999999");
        assert_eq!(utc_secs(1_924_992_000), "2031-01-01 00:00:00 UTC");
    }
}
