//! ISO-8601 dates to unix milliseconds, so filters can say
//! `created_at >= '2026-11-26'` instead of a raw timestamp. The accepted shape is checked
//! here (fixed digit counts, one separator of each kind); chrono checks the calendar and the
//! clock and does the arithmetic.

use chrono::{FixedOffset, NaiveDate, NaiveTime, TimeZone};

/// Parses `YYYY-MM-DD`, optionally followed by `T` (or a space) and
/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fraction`, optionally followed by `Z` or
/// an offset `+HH:MM` / `-HH:MM` / `+HHMM`. Without an offset the time is UTC.
/// Fractions finer than a millisecond are truncated.
///
/// The error is a message naming the expected form.
pub(crate) fn parse_iso_millis(text: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "'{text}' is not a date: expected YYYY-MM-DD, optionally with \
             THH:MM[:SS[.fff]] and Z or ±HH:MM"
        )
    };
    let (year, month, day) = (
        number(text.get(0..4)).ok_or_else(bad)?,
        number(text.get(5..7)).ok_or_else(bad)?,
        number(text.get(8..10)).ok_or_else(bad)?,
    );
    if text.get(4..5) != Some("-") || text.get(7..8) != Some("-") {
        return Err(bad());
    }
    if !(1..=12).contains(&month) {
        return Err(format!("'{text}' has month {month}, expected 1 to 12"));
    }
    let date = i32::try_from(year)
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month, day))
        .ok_or_else(|| {
            let days = days_in_month(year, month);
            format!("'{text}' has day {day}, but month {month} of {year} has {days} days")
        })?;
    let mut rest = &text[10..];
    let mut time = NaiveTime::MIN;
    if let Some(clock) = rest.strip_prefix(['T', 't', ' ']) {
        let (parsed, after) = clock_time(clock).ok_or_else(bad)?;
        time = parsed.ok_or_else(|| format!("'{text}' has a time of day out of range"))?;
        rest = after;
    }
    let offset_seconds = match rest.as_bytes().first() {
        None => 0,
        Some(b'Z' | b'z') if rest.len() == 1 => 0,
        Some(sign @ (b'+' | b'-')) => {
            let digits = rest[1..].replacen(':', "", 1);
            let (hours, minutes) = (
                number(digits.get(0..2)).ok_or_else(bad)?,
                number(digits.get(2..4)).ok_or_else(bad)?,
            );
            if digits.len() != 4 || rest[1..].find(':').is_some_and(|at| at != 2) {
                return Err(bad());
            }
            if hours > 23 || minutes > 59 {
                return Err(format!("'{text}' has an offset out of range"));
            }
            let seconds = i32::try_from(hours * 3_600 + minutes * 60).unwrap_or(i32::MAX);
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        Some(_) => return Err(bad()),
    };
    FixedOffset::east_opt(offset_seconds)
        .and_then(|offset| offset.from_local_datetime(&date.and_time(time)).single())
        .map(|instant| instant.timestamp_millis())
        .ok_or_else(|| format!("'{text}' has an offset out of range"))
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fraction` at the start of `text`: the time (`None` when
/// out of range) and what follows it; `None` when `text` does not start with one.
fn clock_time(text: &str) -> Option<(Option<NaiveTime>, &str)> {
    let hour = number(text.get(0..2))?;
    let minute = number(text.get(3..5))?;
    if text.get(2..3) != Some(":") {
        return None;
    }
    let mut rest = &text[5..];
    let (mut second, mut millis) = (0, 0);
    if let Some(seconds) = rest.strip_prefix(':') {
        second = number(seconds.get(0..2))?;
        rest = &seconds[2..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            // First three digits, right-padded: ".5" is 500 ms.
            millis = fraction[..digits]
                .bytes()
                .chain(std::iter::repeat(b'0'))
                .take(3)
                .fold(0, |ms, d| ms * 10 + u32::from(d - b'0'));
            rest = &fraction[digits..];
        }
    }
    Some((
        NaiveTime::from_hms_milli_opt(hour, minute, second, millis),
        rest,
    ))
}

/// Days in `month` (1 to 12) of `year` (four digits), by the calendar chrono knows.
fn days_in_month(year: u32, month: u32) -> i64 {
    let first = |year: u32, month: u32| {
        i32::try_from(year)
            .ok()
            .and_then(|year| NaiveDate::from_ymd_opt(year, month, 1))
    };
    let next = if month == 12 {
        first(year + 1, 1)
    } else {
        first(year, month + 1)
    };
    match (first(year, month), next) {
        (Some(start), Some(end)) => (end - start).num_days(),
        _ => 0,
    }
}

/// The number written by `text`, when it is all ASCII digits.
fn number(text: Option<&str>) -> Option<u32> {
    let text = text?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_iso_millis("1970-01-01"), Ok(0));
        assert_eq!(parse_iso_millis("2000-03-01"), Ok(951_868_800_000));
        assert_eq!(parse_iso_millis("2026-11-26"), Ok(1_795_651_200_000));
        assert_eq!(
            parse_iso_millis("2026-11-26T10:00:00Z"),
            Ok(1_795_651_200_000 + 36_000_000)
        );
        assert_eq!(
            parse_iso_millis("2026-11-26 10:00"),
            Ok(1_795_651_200_000 + 36_000_000)
        );
        assert_eq!(
            parse_iso_millis("2026-11-26T12:00:00+02:00"),
            Ok(1_795_651_200_000 + 36_000_000)
        );
        assert_eq!(
            parse_iso_millis("2026-11-26T05:30:00-0430"),
            Ok(1_795_651_200_000 + 36_000_000)
        );
        assert_eq!(parse_iso_millis("1970-01-01T00:00:00.5Z"), Ok(500));
        assert_eq!(parse_iso_millis("1970-01-01T00:00:01.123999"), Ok(1_123));
        assert_eq!(parse_iso_millis("1969-12-31T23:59:59Z"), Ok(-1_000));
        assert_eq!(parse_iso_millis("2024-02-29"), Ok(1_709_164_800_000));
    }

    #[test]
    fn an_impossible_day_names_the_month_length() {
        assert_eq!(
            parse_iso_millis("2025-02-29"),
            Err("'2025-02-29' has day 29, but month 2 of 2025 has 28 days".to_owned())
        );
        assert_eq!(
            parse_iso_millis("2026-11-26T10:00:60"),
            Err("'2026-11-26T10:00:60' has a time of day out of range".to_owned())
        );
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "",
            "2026",
            "2026-1-01",
            "2026-13-01",
            "2026-00-10",
            "2025-02-29",
            "2026-04-31",
            "2026-11-26T",
            "2026-11-26T24:00",
            "2026-11-26T10:60",
            "2026-11-26T10:00:00.",
            "2026-11-26T10:00:00+1",
            "2026-11-26Z junk",
            "２０２６-11-26",
            "2026-11-26T10:00:00+01:0",
            "2026-11-26T10:00:00+0:100",
            "2026-11-26T10:00Zz",
        ] {
            assert!(parse_iso_millis(bad).is_err(), "{bad}");
        }
    }
}
