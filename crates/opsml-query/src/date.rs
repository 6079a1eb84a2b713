//! ISO-8601 dates to unix milliseconds, so filters can say
//! `created_at >= '2026-11-26'` instead of a raw timestamp. Written by hand
//! to keep the crate free of a date library for one small conversion.

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
    let b = text.as_bytes();
    let mut p = Cursor { b, i: 0 };

    let year = p.fixed(4).ok_or_else(bad)?;
    p.expect(b'-').ok_or_else(bad)?;
    let month = p.fixed(2).ok_or_else(bad)?;
    p.expect(b'-').ok_or_else(bad)?;
    let day = p.fixed(2).ok_or_else(bad)?;
    if !(1..=12).contains(&month) {
        return Err(format!("'{text}' has month {month}, expected 1 to 12"));
    }
    let days_in_month = days_in_month(year, month);
    if !(1..=days_in_month).contains(&day) {
        return Err(format!(
            "'{text}' has day {day}, but month {month} of {year} has {days_in_month} days"
        ));
    }

    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    if matches!(p.peek(), Some(b'T' | b't' | b' ')) {
        p.i += 1;
        hour = p.fixed(2).ok_or_else(bad)?;
        p.expect(b':').ok_or_else(bad)?;
        minute = p.fixed(2).ok_or_else(bad)?;
        if p.peek() == Some(b':') {
            p.i += 1;
            second = p.fixed(2).ok_or_else(bad)?;
            if p.peek() == Some(b'.') {
                p.i += 1;
                let from = p.i;
                while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                    p.i += 1;
                }
                let frac = &b[from..p.i];
                if frac.is_empty() {
                    return Err(bad());
                }
                // First three digits, right-padded: ".5" is 500 ms.
                millis = frac
                    .iter()
                    .chain(std::iter::repeat(&b'0'))
                    .take(3)
                    .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(format!("'{text}' has a time of day out of range"));
        }
    }

    let offset_minutes = match p.peek() {
        None => 0,
        Some(b'Z' | b'z') => {
            p.i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            p.i += 1;
            let h = p.fixed(2).ok_or_else(bad)?;
            if p.peek() == Some(b':') {
                p.i += 1;
            }
            let m = p.fixed(2).ok_or_else(bad)?;
            if h > 23 || m > 59 {
                return Err(format!("'{text}' has an offset out of range"));
            }
            let total = h * 60 + m;
            if sign == b'-' {
                -total
            } else {
                total
            }
        }
        Some(_) => return Err(bad()),
    };
    if p.i != b.len() {
        return Err(bad());
    }

    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Ok(seconds * 1_000 + millis)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Exactly `n` ASCII digits.
    fn fixed(&mut self, n: usize) -> Option<i64> {
        let digits = self.b.get(self.i..self.i + n)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(
            digits
                .iter()
                .fold(0, |acc, d| acc * 10 + i64::from(d - b'0')),
        )
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.i += 1)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, valid for every year this parser accepts).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
        ] {
            assert!(parse_iso_millis(bad).is_err(), "{bad}");
        }
    }
}
