//! Metric summaries in PostgreSQL, merged with each written batch inside its transaction.

use opsml_types::MetricSummary;
use postgres::{Client, GenericClient, Row};

use crate::store::TableCells;

const COLUMNS: &str = "name, count, value_count, sum, min, max, first, first_step, last, last_step";

fn count_from(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(0)
}

fn count_to(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn from_row(row: &Row) -> MetricSummary {
    named_from_row(row, row.get(0))
}

/// The summary of a row of `COLUMNS` (whose name is not read), called `name`.
fn named_from_row(row: &Row, name: String) -> MetricSummary {
    MetricSummary {
        name,
        count: count_from(row.get(1)),
        value_count: count_from(row.get(2)),
        // PostgreSQL keeps NaN; NULL only where a statistic has no value.
        sum: row.get::<_, Option<f64>>(3).unwrap_or(f64::NAN),
        min: row.get(4),
        max: row.get(5),
        first: row.get::<_, Option<f64>>(6).unwrap_or(f64::NAN),
        first_step: row.get(7),
        last: row.get::<_, Option<f64>>(8).unwrap_or(f64::NAN),
        last_step: row.get(9),
    }
}

/// Merges `later` (points written after the stored ones) into the stored summary of
/// `later.name`. A first summary is inserted unless another writer's got there first; an
/// existing one is locked, so that concurrent writers of one experiment merge in turn.
pub(super) fn merge(
    client: &mut impl GenericClient,
    uid: &str,
    later: &MetricSummary,
) -> Result<(), postgres::Error> {
    if save(client, uid, later, "DO NOTHING")? == 1 {
        return Ok(());
    }
    let row = client.query_one(
        &format!(
            "SELECT {COLUMNS} FROM metric_summaries
             WHERE experiment_uid = $1 AND name = $2 FOR UPDATE"
        ),
        &[&uid, &later.name],
    )?;
    let mut summary = from_row(&row);
    summary.merge(later);
    save(
        client,
        uid,
        &summary,
        "DO UPDATE SET
             count = excluded.count, value_count = excluded.value_count, sum = excluded.sum,
             min = excluded.min, max = excluded.max, mean = excluded.mean,
             first = excluded.first, first_step = excluded.first_step,
             last = excluded.last, last_step = excluded.last_step",
    )
    .map(drop)
}

/// Inserts the summary, doing `on_conflict` where it exists; the number of rows written.
fn save(
    client: &mut impl GenericClient,
    uid: &str,
    s: &MetricSummary,
    on_conflict: &str,
) -> Result<u64, postgres::Error> {
    client.execute(
        &format!(
            "INSERT INTO metric_summaries (experiment_uid, name, count, value_count, sum, min,
                                           max, mean, first, first_step, last, last_step)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (experiment_uid, name) {on_conflict}"
        ),
        &[
            &uid,
            &s.name,
            &count_to(s.count),
            &count_to(s.value_count),
            &s.sum,
            &s.min,
            &s.max,
            &s.mean(),
            &s.first,
            &s.first_step,
            &s.last,
            &s.last_step,
        ],
    )
}

/// Summaries of the experiment's metrics, by name.
/// Adds the summaries of the experiments `uids` to their rows of `table`.
pub(super) fn read_many(
    client: &mut Client,
    uids: &[String],
    table: &mut TableCells,
) -> Result<(), postgres::Error> {
    // In no order: the table's columns are sorted by name, its rows by `uids`.
    let rows = client.query(
        &format!(
            "SELECT {COLUMNS}, experiment_uid FROM metric_summaries
             WHERE experiment_uid = ANY($1)"
        ),
        &[&uids],
    )?;
    for row in &rows {
        if let Some(run) = table.row_of(row.get(10)) {
            table.set_summary(run, row.get(0), named_from_row(row, String::new()));
        }
    }
    Ok(())
}

pub(super) fn read(client: &mut Client, uid: &str) -> Result<Vec<MetricSummary>, postgres::Error> {
    Ok(client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM metric_summaries WHERE experiment_uid = $1 ORDER BY name"
            ),
            &[&uid],
        )?
        .iter()
        .map(from_row)
        .collect())
}
