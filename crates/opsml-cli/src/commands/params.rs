//! `opsml experiments params`: an experiment's parameters.

use serde_json::Value;

use crate::args::{ParamsArgs, TableFormat};
use crate::context::{load_card, Context};
use crate::error::Result;
use crate::format::{parameter_json, parameter_text};
use crate::points::{csv_writer, write_ordered_object};
use crate::table::{Align, Table};

pub(super) fn run(context: &mut Context<'_, '_>, args: &ParamsArgs) -> Result<()> {
    let store = context.store()?;
    load_card(store.as_ref(), &args.uid)?;
    let parameters = store.read_parameters(&args.uid, None)?;
    if args.format == TableFormat::Csv {
        context.data_verbatim();
    }
    let out = &mut *context.out;
    match args.format {
        TableFormat::Table => {
            let mut table = Table::new(&[
                ("name", Align::Left),
                ("type", Align::Left),
                ("value", Align::Left),
            ]);
            for p in &parameters {
                table.push(vec![
                    p.name.clone(),
                    p.value.kind().to_owned(),
                    parameter_text(&p.value),
                ]);
            }
            table.write(out, context.console.stdout_is_terminal)?;
        }
        TableFormat::Csv => {
            let mut csv = csv_writer(out);
            csv.write_record(["name", "type", "value"])?;
            for p in &parameters {
                let value = parameter_text(&p.value);
                csv.write_record([p.name.as_str(), p.value.kind(), value.as_str()])?;
            }
            csv.flush()?;
        }
        TableFormat::Json => {
            out.write_all(b"[")?;
            for (i, p) in parameters.iter().enumerate() {
                out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                write_ordered_object(
                    out,
                    &[
                        ("name", Value::from(p.name.as_str())),
                        ("type", Value::from(p.value.kind())),
                        ("value", parameter_json(&p.value)),
                    ],
                )?;
            }
            out.write_all(if parameters.is_empty() {
                b"]\n"
            } else {
                b"\n]\n"
            })?;
        }
    }
    Ok(())
}
