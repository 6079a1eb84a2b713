//! `opsml experiments export`: the points of several experiments in one file.

use std::io::{BufWriter, Write};
use std::path::Path;

use opsml_registry::Store;

use crate::args::{ExportArgs, ExportFormat};
use crate::context::{load_card, Context};
use crate::error::{CliError, Result};
use crate::output::{io_error, temp_beside};
use crate::points::{text_row, write_csv_row, write_json_object, COLUMNS};

pub fn run(context: &mut Context<'_, '_>, args: &ExportArgs) -> Result<()> {
    if args.format == ExportFormat::Parquet {
        return Err(CliError::Usage(
            "parquet export is not available yet; use --format csv or --format jsonl".to_owned(),
        ));
    }
    let store = context.store()?;
    // Every uid is checked before anything is written.
    for uid in &args.uids {
        load_card(store.as_ref(), uid)?;
    }
    if args.output.as_os_str() == "-" {
        write_points(store.as_ref(), args, context.out)?;
        return Ok(());
    }
    let points = write_file(store.as_ref(), args, &args.output)?;
    writeln!(
        context.out,
        "wrote {points} point{} of {} experiment{} to {}",
        if points == 1 { "" } else { "s" },
        args.uids.len(),
        if args.uids.len() == 1 { "" } else { "s" },
        args.output.display()
    )?;
    Ok(())
}

/// Writes into a temporary file beside `path`, renamed to `path` once complete:
/// a failed export leaves no partial file.
fn write_file(store: &dyn Store, args: &ExportArgs, path: &Path) -> Result<usize> {
    let io_error = io_error(path);
    let mut temp = temp_beside(path, "export")?;
    let points = {
        let mut writer = BufWriter::with_capacity(1 << 20, temp.as_file_mut());
        let points = write_points(store, args, &mut writer).map_err(|e| match e {
            CliError::Output(source) => io_error(source),
            other => other,
        })?;
        writer.flush().map_err(&io_error)?;
        points
    };
    temp.persist(path).map_err(|e| io_error(e.error))?;
    Ok(points)
}

/// Writes a header (CSV) and every point of every experiment, one experiment at a
/// time; returns the number of points.
fn write_points(store: &dyn Store, args: &ExportArgs, out: &mut dyn Write) -> Result<usize> {
    if args.format == ExportFormat::Csv {
        write_csv_row(out, std::iter::once("uid").chain(COLUMNS))?;
    }
    let mut points = 0;
    for uid in &args.uids {
        let columns = store.read_metrics(uid, None)?;
        for i in 0..columns.len() {
            if args.format == ExportFormat::Csv {
                let row = text_row(&columns, i);
                write_csv_row(
                    out,
                    std::iter::once(uid.as_str()).chain(row.iter().map(String::as_str)),
                )?;
            } else {
                write_json_object(out, Some(uid), &columns, i)?;
                out.write_all(b"\n")?;
            }
        }
        points += columns.len();
    }
    Ok(points)
}
