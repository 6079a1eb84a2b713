//! `opsml experiments list`: experiments, newest first.

use opsml_registry::CardQuery;
use opsml_types::CardRecord;

use crate::args::ListArgs;
use crate::context::Context;
use crate::error::Result;
use crate::format::{human_duration, iso_time, local_time, run_time, seconds};
use crate::table::{Align, Table};

pub(super) fn run(context: &mut Context<'_, '_>, args: &ListArgs) -> Result<()> {
    let store = context.store()?;
    let query = CardQuery {
        space: args.space.clone(),
        name: args.name.clone(),
        tags: args.tags.clone(),
        sort_by_timestamp: true,
        limit: if args.limit == 0 {
            usize::MAX
        } else {
            args.limit
        },
        ..CardQuery::default()
    };
    let records = store.list_experiments(&query)?;
    let nothing = format!("no experiments found in {}", store.location());
    write_records(context, &records, args.limit, "newest", &nothing)
}

/// Writes the listing of `records`. On a terminal, says `nothing` (on standard error)
/// when there are none, and that more may exist when `limit` cut the list short.
pub(super) fn write_records(
    context: &mut Context<'_, '_>,
    records: &[CardRecord],
    limit: usize,
    which: &str,
    nothing: &str,
) -> Result<()> {
    let terminal = context.terminal();
    if terminal && records.is_empty() {
        writeln!(context.err, "{nothing}")?;
        return Ok(());
    }
    table(records, terminal).write(context.out, terminal)?;
    if terminal && limit != 0 && records.len() == limit {
        writeln!(
            context.err,
            "showing the {which} {limit}; pass --limit to see more (0 for all)"
        )?;
    }
    Ok(())
}

/// The listing: local times and readable durations for a person, ISO-8601 UTC
/// and seconds for a program.
fn table(records: &[CardRecord], terminal: bool) -> Table {
    let mut table = Table::new(&[
        ("uid", Align::Left),
        ("space", Align::Left),
        ("name", Align::Left),
        ("version", Align::Left),
        ("status", Align::Left),
        ("created", Align::Left),
        ("duration", Align::Right),
    ]);
    for record in records {
        let duration = run_time(record.created_at, record.ended_at);
        table.push(vec![
            record.uid.clone(),
            record.space.clone(),
            record.name.clone(),
            record.version.to_string(),
            record.status.to_string(),
            if terminal {
                local_time(record.created_at)
            } else {
                iso_time(record.created_at)
            },
            if terminal {
                human_duration(duration)
            } else {
                seconds(duration)
            },
        ]);
    }
    table
}
