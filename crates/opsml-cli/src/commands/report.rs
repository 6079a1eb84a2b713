//! `opsml experiments report`: one self-contained HTML file about experiments.

use opsml_read::write_report;

use crate::args::ReportArgs;
use crate::context::{distinct_uids, load_cards, Context};
use crate::error::Result;
use crate::output::write_via_temp;

pub(super) fn run(context: &mut Context<'_, '_>, args: &ReportArgs) -> Result<()> {
    let uids = distinct_uids(&args.uids)?;
    let store = context.store()?;
    load_cards(store.as_ref(), &uids)?;
    write_via_temp(&args.output, "report", |temp| {
        Ok(write_report(store.as_ref(), &uids, temp)?)
    })?;
    writeln!(context.out, "{}", args.output.display())?;
    Ok(())
}
