//! Runs as one Arrow record batch, one row a run, for data frames (`opsml.runs()` in
//! Python): the card's fields, a `params.<name>` column per parameter and a
//! `metrics.<name>.<stat>` column per metric statistic, the names the search language uses.
//! It is built from a [`RunTable`], which reads every run's parameters and summaries at once.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{ArrowError, Field, Schema};
use opsml_types::{CardRecord, ParameterValue};

use crate::run_table::{FloatCell, RunTable, SummaryColumns, TableValue};

/// The batch of `table`: card columns, then parameters, then metrics, each by name.
pub fn runs_batch(table: &RunTable) -> Result<RecordBatch, ArrowError> {
    let runs = &table.runs;
    let mut columns: Vec<(String, ArrayRef)> = card_columns(runs);
    for (name, cells) in &table.parameters {
        columns.push((format!("params.{name}"), parameter_column(cells)));
    }
    for (name, summaries) in &table.metrics {
        metric_columns(name, summaries, &mut columns);
    }
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

fn texts<'a>(
    runs: &'a [CardRecord],
    field: impl Fn(&'a CardRecord) -> Option<&'a str>,
) -> ArrayRef {
    Arc::new(runs.iter().map(field).collect::<StringArray>())
}

fn times(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(
        values
            .collect::<TimestampMicrosecondArray>()
            .with_timezone("UTC"),
    )
}

fn card_columns(runs: &[CardRecord]) -> Vec<(String, ArrayRef)> {
    let mut tags = ListBuilder::new(StringBuilder::new());
    for run in runs {
        for tag in &run.tags {
            tags.values().append_value(tag);
        }
        tags.append(true);
    }
    let versions: Vec<String> = runs.iter().map(|r| r.version.to_string()).collect();
    vec![
        ("uid".to_owned(), texts(runs, |r| Some(&r.uid))),
        ("space".to_owned(), texts(runs, |r| Some(&r.space))),
        ("name".to_owned(), texts(runs, |r| Some(&r.name))),
        (
            "version".to_owned(),
            Arc::new(
                versions
                    .iter()
                    .map(|v| Some(v.as_str()))
                    .collect::<StringArray>(),
            ),
        ),
        (
            "status".to_owned(),
            texts(runs, |r| Some(r.status.as_str())),
        ),
        (
            "created_at".to_owned(),
            times(runs.iter().map(|r| Some(r.created_at.timestamp_micros()))),
        ),
        (
            "ended_at".to_owned(),
            times(
                runs.iter()
                    .map(|r| r.ended_at.map(|t| t.timestamp_micros())),
            ),
        ),
        ("username".to_owned(), texts(runs, |r| Some(&r.username))),
        ("tags".to_owned(), Arc::new(tags.finish())),
        (
            "parent_uid".to_owned(),
            texts(runs, |r| r.parent_uid.as_deref()),
        ),
    ]
}

/// A parameter's column in the type its values share: integers, floats (integers and floats
/// together too), booleans or text; text of each value where the kinds are mixed otherwise.
fn parameter_column(cells: &[Option<TableValue>]) -> ArrayRef {
    let values = || {
        cells.iter().map(|c| {
            c.as_ref()
                .map(|v| &v.0)
                .filter(|v| **v != ParameterValue::Null)
        })
    };
    let all = |kind: fn(&ParameterValue) -> bool| values().flatten().all(kind);
    if all(|v| matches!(v, ParameterValue::Int(_))) {
        Arc::new(
            values()
                .map(|v| match v {
                    Some(ParameterValue::Int(n)) => Some(*n),
                    _ => None,
                })
                .collect::<Int64Array>(),
        )
    } else if all(|v| matches!(v, ParameterValue::Int(_) | ParameterValue::Float(_))) {
        Arc::new(
            values()
                .map(|v| match v {
                    // Integers of a column of floats: exact up to 2^53, as in any data frame.
                    Some(ParameterValue::Int(n)) => Some(*n as f64),
                    Some(ParameterValue::Float(x)) => Some(*x),
                    _ => None,
                })
                .collect::<Float64Array>(),
        )
    } else if all(|v| matches!(v, ParameterValue::Bool(_))) {
        Arc::new(
            values()
                .map(|v| match v {
                    Some(ParameterValue::Bool(b)) => Some(*b),
                    _ => None,
                })
                .collect::<BooleanArray>(),
        )
    } else {
        let text: Vec<Option<String>> = values()
            .map(|v| {
                v.map(|v| match v {
                    ParameterValue::Str(s) => s.clone(),
                    other => other.to_stored(),
                })
            })
            .collect();
        Arc::new(text.iter().map(Option::as_deref).collect::<StringArray>())
    }
}

fn floats(cells: &[FloatCell]) -> ArrayRef {
    Arc::new(cells.iter().map(|c| c.0).collect::<Float64Array>())
}

fn metric_columns(name: &str, summaries: &SummaryColumns, columns: &mut Vec<(String, ArrayRef)>) {
    let mut push = |stat: &str, array: ArrayRef| {
        columns.push((format!("metrics.{name}.{stat}"), array));
    };
    push("last", floats(&summaries.last));
    push("min", floats(&summaries.min));
    push("max", floats(&summaries.max));
    push("mean", floats(&summaries.mean));
    push(
        "last_step",
        Arc::new(summaries.last_step.iter().copied().collect::<Int64Array>()),
    );
    push(
        "count",
        Arc::new(
            summaries
                .count
                .iter()
                .map(|c| c.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
                .collect::<Int64Array>(),
        ),
    );
}
