//! `--columns params.lr,metrics.loss.min` of `list` and `search`: parameters and metric
//! statistics as extra columns of the listing, read for all listed runs at once.

use opsml_read::{run_table, FloatCell, RunTable, SUMMARY_STATISTICS};
use opsml_registry::Store;
use opsml_types::CardRecord;

use crate::error::{CliError, Result};
use crate::format::{float_text, parameter_text};
use crate::table::Align;

/// One extra column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Column {
    /// `params.NAME`.
    Parameter(String),
    /// `metrics.NAME.STAT`, STAT `last` when left out.
    Metric { name: String, statistic: String },
}

impl Column {
    /// The column's title, as the user would write it.
    pub(crate) fn title(&self) -> String {
        match self {
            Self::Parameter(name) => format!("params.{name}"),
            Self::Metric { name, statistic } => format!("metrics.{name}.{statistic}"),
        }
    }

    fn align(&self) -> Align {
        match self {
            Self::Parameter(_) => Align::Left,
            Self::Metric { .. } => Align::Right,
        }
    }
}

/// A name as the filter language writes one with dots: in backticks.
fn unquoted(name: &str) -> &str {
    name.strip_prefix('`')
        .and_then(|n| n.strip_suffix('`'))
        .unwrap_or(name)
}

/// `NAME.STAT` when the last part names a statistic, else `NAME` with `last`.
fn by_last_part(rest: &str) -> Column {
    match rest.rsplit_once('.') {
        Some((name, statistic)) if SUMMARY_STATISTICS.contains(&statistic) => Column::Metric {
            name: name.to_owned(),
            statistic: statistic.to_owned(),
        },
        _ => Column::Metric {
            name: rest.to_owned(),
            statistic: "last".to_owned(),
        },
    }
}

/// The columns of `--columns` values, each a comma-separated list; a metric named like
/// `val.loss` takes its statistic from a last part that names one, as the filter does.
pub(crate) fn parse_columns(values: &[String]) -> Result<Vec<Column>> {
    let mut columns = Vec::new();
    for spec in values.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if spec.is_empty() {
            continue;
        }
        let column = if let Some(name) = spec.strip_prefix("params.") {
            Column::Parameter(unquoted(name).to_owned())
        } else if let Some(rest) = spec.strip_prefix("metrics.") {
            let quoted = rest
                .strip_prefix('`')
                .and_then(|r| r.split_once('`'))
                .map(|(name, after)| (name, after.strip_prefix('.')));
            match quoted {
                Some((name, statistic)) => Column::Metric {
                    name: name.to_owned(),
                    statistic: statistic.unwrap_or("last").to_owned(),
                },
                None => by_last_part(rest),
            }
        } else {
            return Err(CliError::Usage(format!(
                "--columns {spec:?}: a column is params.NAME or metrics.NAME[.STAT] \
                 (STAT one of {})",
                SUMMARY_STATISTICS.join(", ")
            )));
        };
        if let Column::Metric { statistic, .. } = &column {
            if !SUMMARY_STATISTICS.contains(&statistic.as_str()) {
                return Err(CliError::Usage(format!(
                    "--columns {spec:?}: {statistic:?} is not a statistic (one of {})",
                    SUMMARY_STATISTICS.join(", ")
                )));
            }
        }
        let (Column::Parameter(name) | Column::Metric { name, .. }) = &column;
        if name.is_empty() {
            return Err(CliError::Usage(format!(
                "--columns {spec:?}: the name is missing"
            )));
        }
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    Ok(columns)
}

/// The cells of the extra columns for `records`, a row per record, and the columns no
/// listed run has (to say so rather than leave a mistyped name silently empty).
pub(crate) struct ExtraCells {
    pub(crate) titles: Vec<(String, Align)>,
    pub(crate) rows: Vec<Vec<String>>,
    pub(crate) absent: Vec<String>,
}

pub(crate) fn extra_cells(
    store: &dyn Store,
    records: &[CardRecord],
    columns: &[Column],
) -> Result<ExtraCells> {
    let table = run_table(store, records.to_vec())?;
    let mut rows = vec![Vec::with_capacity(columns.len()); records.len()];
    let mut absent = Vec::new();
    for column in columns {
        let cells = column_cells(&table, column);
        if cells.iter().all(String::is_empty) {
            absent.push(column.title());
        }
        for (row, cell) in rows.iter_mut().zip(cells) {
            row.push(cell);
        }
    }
    Ok(ExtraCells {
        titles: columns.iter().map(|c| (c.title(), c.align())).collect(),
        rows,
        absent,
    })
}

fn column_cells(table: &RunTable, column: &Column) -> Vec<String> {
    let runs = table.runs.len();
    match column {
        Column::Parameter(name) => table.parameters.get(name).map_or_else(
            || vec![String::new(); runs],
            |cells| {
                cells
                    .iter()
                    .map(|cell| {
                        cell.as_ref()
                            .map(|v| parameter_text(&v.0))
                            .unwrap_or_default()
                    })
                    .collect()
            },
        ),
        Column::Metric { name, statistic } => {
            let Some(summary) = table.metrics.get(name) else {
                return vec![String::new(); runs];
            };
            let floats = |cells: &[FloatCell]| -> Vec<String> {
                cells
                    .iter()
                    .map(|c| c.0.map(float_text).unwrap_or_default())
                    .collect()
            };
            let ints = |cells: Vec<Option<String>>| -> Vec<String> {
                cells.into_iter().map(Option::unwrap_or_default).collect()
            };
            match statistic.as_str() {
                "min" => floats(&summary.min),
                "max" => floats(&summary.max),
                "mean" => floats(&summary.mean),
                "last_step" => ints(
                    summary
                        .last_step
                        .iter()
                        .map(|s| s.map(|s| s.to_string()))
                        .collect(),
                ),
                "count" => ints(
                    summary
                        .count
                        .iter()
                        .map(|c| c.map(|c| c.to_string()))
                        .collect(),
                ),
                _ => floats(&summary.last),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_parse_with_dotted_metric_names_and_default_statistics() {
        let given = [
            "params.optimizer.lr,metrics.val.loss.min".to_owned(),
            "metrics.acc".to_owned(),
        ];
        assert_eq!(
            parse_columns(&given).unwrap(),
            vec![
                Column::Parameter("optimizer.lr".into()),
                Column::Metric {
                    name: "val.loss".into(),
                    statistic: "min".into()
                },
                Column::Metric {
                    name: "acc".into(),
                    statistic: "last".into()
                },
            ]
        );
        let err = parse_columns(&["lr".to_owned()]).unwrap_err().to_string();
        assert!(
            err.contains("\"lr\"") && err.contains("params.NAME"),
            "{err}"
        );
        let quoted = ["params.`a.b`,metrics.`val.loss`.max,metrics.`x.y`".to_owned()];
        assert_eq!(
            parse_columns(&quoted).unwrap(),
            vec![
                Column::Parameter("a.b".into()),
                Column::Metric {
                    name: "val.loss".into(),
                    statistic: "max".into()
                },
                Column::Metric {
                    name: "x.y".into(),
                    statistic: "last".into()
                },
            ]
        );
        let err = parse_columns(&["metrics.`loss`.median".to_owned()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"median\" is not a statistic"), "{err}");
        let err = parse_columns(&["params.".to_owned()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("name is missing"), "{err}");
    }
}
