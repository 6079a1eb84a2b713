//! Metric points as rows of text, CSV lines and JSON objects, shared by
//! `metrics` and `export`.

use std::io::{self, Write};

use opsml_types::MetricColumns;
use serde_json::Value;

use crate::format::{float_json, float_text, iso_micros, opt_int};

/// Columns of a point, in order.
pub(crate) const COLUMNS: [&str; 5] = ["name", "step", "value", "timestamp", "created_at"];

/// Point `index` as text: name, step (empty if none), value ([`float_text`]),
/// timestamp (empty if none), created_at (ISO-8601 UTC).
pub(crate) fn text_row(columns: &MetricColumns, index: usize) -> [String; 5] {
    let point = columns.point(index);
    [
        columns.name(index).to_owned(),
        opt_int(point.step),
        float_text(point.value),
        opt_int(point.timestamp),
        iso_micros(point.created_at),
    ]
}

/// A CSV writer of records on `out`: RFC 4180 quoting where a field needs it, `\n` between
/// records, rows of any length. Flush it when done: dropping it discards a failure.
pub(crate) fn csv_writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .flexible(true)
        .from_writer(out)
}

/// Point `index` as one JSON object, fields in column order (after `uid` when given);
/// a missing step or timestamp is `null`, a non-finite value a string ([`float_json`]).
pub(crate) fn write_json_object(
    out: &mut dyn Write,
    uid: Option<&str>,
    columns: &MetricColumns,
    index: usize,
) -> io::Result<()> {
    let point = columns.point(index);
    let mut fields: Vec<(&str, Value)> = Vec::with_capacity(6);
    if let Some(uid) = uid {
        fields.push(("uid", Value::from(uid)));
    }
    fields.extend([
        ("name", Value::from(columns.name(index))),
        ("step", point.step.map_or(Value::Null, Value::from)),
        ("value", float_json(point.value)),
        (
            "timestamp",
            point.timestamp.map_or(Value::Null, Value::from),
        ),
        ("created_at", Value::from(iso_micros(point.created_at))),
    ]);
    write_ordered_object(out, &fields)
}

/// A JSON object with its fields in the given order. Not arrow-json, which writes NaN and
/// the infinities as `null` and so loses which of them a point held.
pub(crate) fn write_ordered_object(
    out: &mut dyn Write,
    fields: &[(&str, Value)],
) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, value)?;
    }
    out.write_all(b"}")
}

#[cfg(test)]
mod tests {
    use super::csv_writer;

    fn csv_line(fields: &[&str]) -> String {
        let mut out = Vec::new();
        let mut csv = csv_writer(&mut out);
        csv.write_record(fields).unwrap();
        csv.flush().unwrap();
        drop(csv);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fields_are_quoted_only_where_they_need_it() {
        assert_eq!(csv_line(&["loss", "", "1.5"]), "loss,,1.5\n");
        assert_eq!(
            csv_line(&["a,b", "say \"hi\""]),
            "\"a,b\",\"say \"\"hi\"\"\"\n"
        );
        assert_eq!(
            csv_line(&["two\nlines", "cr\rhere"]),
            "\"two\nlines\",\"cr\rhere\"\n"
        );
    }
}
