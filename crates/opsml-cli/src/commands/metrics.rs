//! `opsml experiments metrics`: the points of an experiment's metrics: all of them, those
//! of a step range, and/or at most N per metric.

use opsml_read::{select_points, PointSelection};
use opsml_registry::Store;
use opsml_types::MetricColumns;

use crate::args::{MetricsArgs, TableFormat};
use crate::context::{load_card, Context};
use crate::error::{CliError, Result};
use crate::points::{csv_writer, text_row, write_json_object, COLUMNS};
use crate::table::{Align, Table};

pub(super) fn run(context: &mut Context<'_, '_>, args: &MetricsArgs) -> Result<()> {
    let store = context.store()?;
    load_card(store.as_ref(), &args.uid)?;
    let names = (!args.names.is_empty()).then_some(args.names.as_slice());
    let columns = store.read_metrics(&args.uid, names)?;
    check_names(store.as_ref(), &args.uid, &args.names, &columns)?;
    let selection = PointSelection {
        steps: args.steps,
        max_points: args
            .max_points
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let columns = select_points(columns, &selection);
    if args.format == TableFormat::Csv {
        context.data_verbatim();
    }
    let out = &mut *context.out;
    match args.format {
        TableFormat::Table => {
            let mut table = Table::new(&[
                ("name", Align::Left),
                ("step", Align::Right),
                ("value", Align::Right),
                ("timestamp", Align::Right),
                ("created_at", Align::Left),
            ]);
            for i in 0..columns.len() {
                table.push(text_row(&columns, i).into());
            }
            table.write(out, context.console.stdout_is_terminal)?;
        }
        TableFormat::Csv => {
            let mut csv = csv_writer(out);
            csv.write_record(COLUMNS)?;
            for i in 0..columns.len() {
                csv.write_record(text_row(&columns, i))?;
            }
            csv.flush()?;
        }
        TableFormat::Json => {
            out.write_all(b"[")?;
            for i in 0..columns.len() {
                out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                write_json_object(out, None, &columns, i)?;
            }
            out.write_all(if columns.is_empty() { b"]\n" } else { b"\n]\n" })?;
        }
    }
    Ok(())
}

/// Every requested metric name must have points: a typo is an error, not an empty result.
fn check_names(
    store: &dyn Store,
    uid: &str,
    requested: &[String],
    found: &MetricColumns,
) -> Result<()> {
    let Some(missing) = requested.iter().find(|n| !found.names.contains(n)) else {
        return Ok(());
    };
    let available = store.read_metrics(uid, None)?.names;
    Err(CliError::NoSuchMetric {
        uid: uid.to_owned(),
        name: missing.clone(),
        available: if available.is_empty() {
            "no metrics".to_owned()
        } else {
            available.join(", ")
        },
    })
}
