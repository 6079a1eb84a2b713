//! `opsml experiments list`: experiments, newest first.

use opsml_registry::{CardQuery, Store};
use opsml_types::CardRecord;

use crate::args::ListArgs;
use crate::commands::columns::{extra_cells, parse_columns, Column, ExtraCells};
use crate::context::Context;
use crate::error::Result;
use crate::format::{human_duration, iso_time, local_time, run_time, seconds};
use crate::table::{Align, Table};

pub(super) fn run(context: &mut Context<'_, '_>, args: &ListArgs) -> Result<()> {
    let columns = parse_columns(&args.columns)?;
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
    let listing = Listing {
        records: &records,
        columns: &columns,
        limit: args.limit,
        which: "newest",
        nothing: &nothing,
    };
    write_records(context, store.as_ref(), &listing)
}

/// What `list` and `search` print: the runs found, with the extra columns asked for.
pub(super) struct Listing<'a> {
    pub(super) records: &'a [CardRecord],
    pub(super) columns: &'a [Column],
    /// The `--limit` given (0 for none).
    pub(super) limit: usize,
    /// Which runs a cut list holds: "newest", "first".
    pub(super) which: &'a str,
    /// Said when no run is found.
    pub(super) nothing: &'a str,
}

/// Writes the listing. On a terminal, says `nothing` (on standard error) when there are
/// no runs, and that more may exist when the limit cut the list short. Names a column no
/// listed run has a value in (on standard error).
pub(super) fn write_records(
    context: &mut Context<'_, '_>,
    store: &dyn Store,
    listing: &Listing<'_>,
) -> Result<()> {
    let Listing {
        records,
        columns,
        limit,
        which,
        nothing,
    } = *listing;
    let terminal = context.terminal();
    if terminal && records.is_empty() {
        writeln!(context.err, "{nothing}")?;
        return Ok(());
    }
    let extra = if columns.is_empty() {
        None
    } else {
        Some(extra_cells(store, records, columns)?)
    };
    for title in extra
        .iter()
        .filter(|_| !records.is_empty())
        .flat_map(|e| &e.absent)
    {
        writeln!(context.err, "no listed experiment has a value for {title}")?;
    }
    table(records, terminal, extra).write(context.out, terminal)?;
    if terminal && limit != 0 && records.len() == limit {
        writeln!(
            context.err,
            "showing the {which} {limit}; pass --limit to see more (0 for all)"
        )?;
    }
    Ok(())
}

/// The listing: local times and readable durations for a person, ISO-8601 UTC
/// and seconds for a program; the extra columns last.
fn table(records: &[CardRecord], terminal: bool, extra: Option<ExtraCells>) -> Table {
    let mut columns: Vec<(String, Align)> = [
        ("uid", Align::Left),
        ("space", Align::Left),
        ("name", Align::Left),
        ("version", Align::Left),
        ("status", Align::Left),
        ("created", Align::Left),
        ("duration", Align::Right),
    ]
    .into_iter()
    .map(|(title, align)| (title.to_owned(), align))
    .collect();
    let (titles, mut extra_rows) = extra.map_or_else(Default::default, |e| (e.titles, e.rows));
    columns.extend(titles);
    let mut table = Table::with_columns(columns);
    for (i, record) in records.iter().enumerate() {
        let duration = run_time(record.created_at, record.ended_at);
        let mut row = vec![
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
        ];
        if let Some(cells) = extra_rows.get_mut(i) {
            row.append(cells);
        }
        table.push(row);
    }
    table
}
