//! The body of a metrics read, sent in pieces as it is produced rather than built whole:
//! the points read from the store are the only full copy the server holds. JSON is written
//! a few thousand points at a time as the connection takes it; an Arrow IPC stream is sent
//! as the column buffers themselves, which its encoder hands out without copying.

use std::convert::Infallible;
use std::io::Write as _;

use arrow_ipc::writer::StreamEncoder;
use arrow_schema::ArrowError;
use axum::body::{Body, Bytes};
use futures_util::stream;
use opsml_api::metric_batch;
use opsml_api::wire::WireFloat;
use opsml_types::MetricColumns;
use serde::Serialize;

/// Points per piece of a JSON body (a few hundred KB of text at most).
const POINTS_PER_PIECE: usize = 4096;

/// The columns of `MetricsBody::points`, in the order it serialises them.
const COLUMNS: [&str; 5] = ["name_ids", "steps", "values", "timestamps", "created_at"];

/// `columns` as the JSON of `opsml_api::wire::MetricsBody`, byte for byte, in pieces.
pub(super) fn json(columns: MetricColumns) -> Body {
    Body::from_stream(stream::iter(JsonPieces::new(columns)))
}

/// `columns` as an Arrow IPC stream of one batch, the same bytes as
/// `opsml_api::encode_ipc` writes, without copying the columns into them.
pub(super) fn arrow(columns: MetricColumns) -> Result<Body, ArrowError> {
    let batch = metric_batch(columns)?;
    let mut encoder = StreamEncoder::try_new(&batch.schema())?;
    let mut buffers = encoder.encode(&batch)?;
    buffers.extend(encoder.finish()?);
    let pieces = buffers
        .into_iter()
        .map(|buffer| Ok::<_, Infallible>(Bytes::from_owner(buffer)));
    Ok(Body::from_stream(stream::iter(pieces)))
}

/// The JSON text of metric columns, produced a piece at a time: the opening and the names,
/// then each column's values [`POINTS_PER_PIECE`] at a time.
struct JsonPieces {
    columns: MetricColumns,
    /// Index into [`COLUMNS`] of the column being written.
    column: usize,
    /// The next point of that column to write.
    next: usize,
}

impl JsonPieces {
    fn new(columns: MetricColumns) -> Self {
        Self {
            columns,
            column: 0,
            next: 0,
        }
    }

    /// The next piece of text; `Ok(None)` at the end.
    fn piece(&mut self) -> serde_json::Result<Option<Bytes>> {
        let Some(name) = COLUMNS.get(self.column) else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(POINTS_PER_PIECE * 24);
        if self.column == 0 && self.next == 0 {
            out.extend_from_slice(b"{\"names\":");
            serde_json::to_writer(&mut out, &self.columns.names)?;
            out.extend_from_slice(b",\"points\":{");
        }
        if self.next == 0 {
            if self.column > 0 {
                out.push(b',');
            }
            write!(out, "\"{name}\":[").map_err(serde_json::Error::io)?;
        }
        let end = (self.next + POINTS_PER_PIECE).min(self.columns.len());
        for point in self.next..end {
            if point > 0 {
                out.push(b',');
            }
            self.write_value(&mut out, point)?;
        }
        self.next = end;
        if end == self.columns.len() {
            out.push(b']');
            self.column += 1;
            self.next = 0;
            if self.column == COLUMNS.len() {
                out.extend_from_slice(b"}}");
            }
        }
        Ok(Some(Bytes::from(out)))
    }

    /// Point `point`'s value in the current column, as `MetricsBody` serialises it (NaN
    /// and the infinities as strings, see [`WireFloat`]).
    fn write_value(&self, out: &mut Vec<u8>, point: usize) -> serde_json::Result<()> {
        let c = &self.columns;
        match self.column {
            0 => value(out, &c.name_ids[point]),
            1 => value(out, &c.steps.get(point)),
            2 => value(out, &WireFloat(c.values[point])),
            3 => value(out, &c.timestamps.get(point)),
            _ => value(out, &c.created_at[point]),
        }
    }
}

fn value(out: &mut Vec<u8>, value: &impl Serialize) -> serde_json::Result<()> {
    serde_json::to_writer(out, value)
}

impl Iterator for JsonPieces {
    type Item = serde_json::Result<Bytes>;

    fn next(&mut self) -> Option<Self::Item> {
        self.piece().transpose()
    }
}

#[cfg(test)]
mod tests {
    use opsml_api::wire::MetricsBody;
    use opsml_types::MetricPoint;

    use super::*;

    /// `count` points over two metrics, with every kind of special value.
    fn columns(count: usize) -> MetricColumns {
        let mut columns = MetricColumns {
            names: vec!["acc".into(), "loss \"top\"".into()],
            ..MetricColumns::default()
        };
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1.5e300];
        for i in 0..count {
            let name_id = u32::from(i >= count / 2);
            let value = if i % 7 == 0 {
                specials[i % specials.len()]
            } else {
                i as f64 * 0.001
            };
            columns.push(
                name_id,
                MetricPoint {
                    step: (i % 3 != 0).then_some(i as i64),
                    value,
                    timestamp: (i % 2 == 0).then_some(-(i as i64)),
                    created_at: 1_700_000_000_000_000 + i as i64,
                },
            );
        }
        columns
    }

    fn streamed(columns: MetricColumns) -> (Vec<u8>, usize) {
        let pieces: Vec<Bytes> = JsonPieces::new(columns).map(Result::unwrap).collect();
        (pieces.concat(), pieces.len())
    }

    #[test]
    fn the_streamed_json_is_that_of_the_whole_body() {
        for count in [
            0,
            1,
            POINTS_PER_PIECE - 1,
            POINTS_PER_PIECE,
            POINTS_PER_PIECE * 2 + 3,
        ] {
            let columns = columns(count);
            let whole = serde_json::to_vec(&MetricsBody::from_columns(&columns)).unwrap();
            let (text, pieces) = streamed(columns);
            assert_eq!(
                String::from_utf8(text).unwrap(),
                String::from_utf8(whole).unwrap(),
                "{count} points"
            );
            assert!(pieces >= COLUMNS.len(), "{count} points in {pieces} pieces");
            assert!(
                pieces <= COLUMNS.len() * (1 + count / POINTS_PER_PIECE) + 1,
                "{count} points in {pieces} pieces"
            );
        }
        let (text, _) = streamed(columns(8));
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains(r#""values":["NaN","#), "{text}");
        assert!(text.contains(r#""-Infinity""#), "{text}");
    }

    #[test]
    fn the_streamed_arrow_is_that_of_the_whole_stream() {
        for count in [0, 1, 10_000] {
            let expected = opsml_api::encode_ipc(columns(count)).unwrap();
            let body = arrow(columns(count)).unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let bytes = runtime
                .block_on(axum::body::to_bytes(body, usize::MAX))
                .unwrap();
            assert_eq!(bytes.as_ref(), expected.as_slice(), "{count} points");
        }
    }
}
