//! `opsml experiments compare`: experiments side by side.
//!
//! Rows come from `opsml_experiment::compare_experiments`: parameters (those that
//! differ first), then the statistics of each metric. A table has a marker column
//! (`*` where the experiments differ), the key, and one column per experiment headed
//! `name:version`; on a terminal it is split under PARAMETERS and METRICS, piped its
//! keys carry a `param.` or `metric.` prefix instead. CSV and JSON name each
//! experiment's field by its uid.

use opsml_read::{compare_experiments, distinct_labels, Cell, Comparison, Row, Section};
use serde_json::Value;

use crate::args::{CompareArgs, TableFormat};
use crate::context::{distinct_uids, load_cards, Context};
use crate::error::Result;
use crate::format::{float_json, float_text, parameter_json, parameter_text};
use crate::points::{csv_writer, write_ordered_object};
use crate::table::{Align, Table};

pub(super) fn run(context: &mut Context<'_, '_>, args: &CompareArgs) -> Result<()> {
    let uids = distinct_uids(&args.uids)?;
    let store = context.store()?;
    load_cards(store.as_ref(), &uids)?;
    let comparison = compare_experiments(store.as_ref(), &uids)?;
    if args.format == TableFormat::Csv {
        context.data_verbatim();
    }
    let out = &mut *context.out;
    match args.format {
        TableFormat::Table => {
            let terminal = context.console.stdout_is_terminal;
            table(&comparison, terminal).write(out, terminal)?;
        }
        TableFormat::Csv => {
            let header = ["section", "key", "differs"]
                .into_iter()
                .chain(uids.iter().copied());
            let mut csv = csv_writer(out);
            csv.write_record(header)?;
            for row in &comparison.rows {
                let cells: Vec<String> = row.cells.iter().map(|c| cell_text(c, "")).collect();
                let fields = [section_name(row.section), row.key.as_str(), bool_text(row)]
                    .into_iter()
                    .chain(cells.iter().map(String::as_str));
                csv.write_record(fields)?;
            }
            csv.flush()?;
        }
        TableFormat::Json => {
            out.write_all(b"[")?;
            for (i, row) in comparison.rows.iter().enumerate() {
                out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                let mut fields = vec![
                    ("section", Value::from(section_name(row.section))),
                    ("key", Value::from(row.key.as_str())),
                    ("differs", Value::from(row.differs)),
                ];
                fields.extend(
                    uids.iter()
                        .zip(&row.cells)
                        .map(|(uid, c)| (*uid, cell_json(c))),
                );
                write_ordered_object(out, &fields)?;
            }
            out.write_all(if comparison.rows.is_empty() {
                b"]\n"
            } else {
                b"\n]\n"
            })?;
        }
    }
    Ok(())
}

fn section_name(section: Section) -> &'static str {
    match section {
        Section::Parameter => "parameter",
        Section::Metric => "metric",
    }
}

fn bool_text(row: &Row) -> &'static str {
    if row.differs {
        "true"
    } else {
        "false"
    }
}

/// A cell as text; `missing` stands for a value the experiment does not have.
fn cell_text(cell: &Cell, missing: &str) -> String {
    match cell {
        Cell::Missing => missing.to_owned(),
        Cell::Parameter(value) => parameter_text(value),
        Cell::Number(value) => float_text(*value),
        Cell::Count(count) => count.to_string(),
    }
}

pub(crate) fn cell_json(cell: &Cell) -> Value {
    match cell {
        Cell::Missing => Value::Null,
        Cell::Parameter(value) => parameter_json(value),
        Cell::Number(value) => float_json(*value),
        Cell::Count(count) => Value::from(*count),
    }
}

/// The table: for a person, sections with titles and `-` for a missing value; for a
/// program, prefixed keys and empty fields.
fn table(comparison: &Comparison, terminal: bool) -> Table {
    let mut columns = vec![
        (
            if terminal { "" } else { "differs" }.to_owned(),
            Align::Left,
        ),
        ("key".to_owned(), Align::Left),
    ];
    columns.extend(
        distinct_labels(&comparison.experiments)
            .into_iter()
            .map(|label| (label, Align::Right)),
    );
    let mut table = Table::with_columns(columns);
    let mut section = None;
    for row in &comparison.rows {
        if terminal && section != Some(row.section) {
            table.heading(match row.section {
                Section::Parameter => "PARAMETERS",
                Section::Metric => "METRICS",
            });
            section = Some(row.section);
        }
        let key = match (terminal, row.section) {
            (true, _) => row.key.clone(),
            (false, Section::Parameter) => format!("param.{}", row.key),
            (false, Section::Metric) => format!("metric.{}", row.key),
        };
        let mut cells = vec![if row.differs { "*" } else { "" }.to_owned(), key];
        cells.extend(
            row.cells
                .iter()
                .map(|c| cell_text(c, if terminal { "-" } else { "" })),
        );
        table.push(cells);
    }
    table
}
