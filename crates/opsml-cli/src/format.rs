//! How single values are written: floats, times, durations, sizes.

use chrono::{DateTime, Local, SecondsFormat, TimeDelta, Utc};
pub(crate) use opsml_types::{float_text, human_bytes};
use opsml_types::{micros_to_datetime, ParameterValue};
use serde_json::Value;

/// A float as JSON: a number when finite, else the string `"NaN"`, `"Infinity"` or
/// `"-Infinity"` (JSON has no numbers for them), as the server's API writes them and as
/// Python's `float()` and JavaScript's `Number()` read them back.
pub(crate) fn float_json(value: f64) -> Value {
    match serde_json::Number::from_f64(value) {
        Some(number) => Value::Number(number),
        None if value.is_nan() => Value::from("NaN"),
        None if value > 0.0 => Value::from("Infinity"),
        None => Value::from("-Infinity"),
    }
}

/// A parameter value as text (strings unquoted, floats as [`float_text`]).
pub(crate) fn parameter_text(value: &ParameterValue) -> String {
    match value {
        ParameterValue::Float(v) => float_text(*v),
        other => other.to_stored(),
    }
}

/// A parameter value as JSON of its own type (floats as [`float_json`]).
pub(crate) fn parameter_json(value: &ParameterValue) -> Value {
    match value {
        ParameterValue::Int(v) => Value::from(*v),
        ParameterValue::Float(v) => float_json(*v),
        ParameterValue::Str(v) => Value::from(v.as_str()),
        ParameterValue::Bool(v) => Value::from(*v),
        ParameterValue::Null => Value::Null,
    }
}

/// Microseconds since the Unix epoch as ISO-8601 UTC: `2024-05-01T12:00:00.000123Z`.
pub(crate) fn iso_micros(micros: i64) -> String {
    iso_time(micros_to_datetime(micros))
}

/// An instant as ISO-8601 UTC with microseconds.
pub(crate) fn iso_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An instant in the local time zone, to the second: `2024-05-01 14:00:00`.
pub(crate) fn local_time(time: DateTime<Utc>) -> String {
    time.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// How long an experiment ran: until it ended, or until now while it runs.
pub(crate) fn run_time(created: DateTime<Utc>, ended: Option<DateTime<Utc>>) -> TimeDelta {
    (ended.unwrap_or_else(Utc::now) - created).max(TimeDelta::zero())
}

/// A duration for people: `0.4s`, `42.0s`, `3m 07s`, `2h 05m 09s`, `3d 4h 05m`.
pub(crate) fn human_duration(duration: TimeDelta) -> String {
    let millis = duration.num_milliseconds().max(0);
    if millis < 60_000 {
        return format!("{:.1}s", millis as f64 / 1000.0);
    }
    let seconds = millis / 1000;
    let (days, hours, minutes, secs) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    if days > 0 {
        format!("{days}d {hours}h {minutes:02}m")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m {secs:02}s")
    } else {
        format!("{minutes}m {secs:02}s")
    }
}

/// A duration in seconds, for machines: `12.345`.
pub(crate) fn seconds(duration: TimeDelta) -> String {
    format!("{:.3}", duration.num_milliseconds() as f64 / 1000.0)
}

/// An optional integer as text, empty when absent.
pub(crate) fn opt_int(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_parse_back_exactly() {
        for value in [0.1, 1e300, -0.0, 5e-324, f64::MAX, 1.0, -2.5e-7] {
            let text = float_text(value);
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                value.to_bits(),
                "{text}"
            );
        }
        assert_eq!(float_text(f64::NAN), "nan");
        assert_eq!(float_text(f64::INFINITY), "inf");
        assert_eq!(float_text(f64::NEG_INFINITY), "-inf");
        assert!(float_text(f64::NAN).parse::<f64>().unwrap().is_nan());
    }

    #[test]
    fn non_finite_floats_are_json_strings() {
        assert_eq!(float_json(f64::NAN), Value::from("NaN"));
        assert_eq!(float_json(f64::INFINITY), Value::from("Infinity"));
        assert_eq!(float_json(f64::NEG_INFINITY), Value::from("-Infinity"));
        assert_eq!(float_json(0.5), serde_json::json!(0.5));
    }

    #[test]
    fn durations_read_naturally() {
        let d = |ms| human_duration(TimeDelta::milliseconds(ms));
        assert_eq!(d(400), "0.4s");
        assert_eq!(d(59_949), "59.9s");
        assert_eq!(d(187_000), "3m 07s");
        assert_eq!(d(7_509_000), "2h 05m 09s");
        assert_eq!(d(273_900_000), "3d 4h 05m");
        assert_eq!(d(-5), "0.0s");
    }

    #[test]
    fn times_are_iso_utc_with_microseconds() {
        assert_eq!(
            iso_micros(1_700_000_000_000_123),
            "2023-11-14T22:13:20.000123Z"
        );
        assert_eq!(
            local_time(micros_to_datetime(0)).len(),
            "1970-01-01 00:00:00".len()
        );
    }
}
