//! Metric summaries: one row per (experiment, metric), merged with each written batch inside
//! the batch's transaction, so that a summary always matches the stored points.

use opsml_types::{MetricColumns, MetricSummary};

use crate::error::Result;
use crate::sql::{params, Sql, SqlRow};
use crate::statements::json_elements;
use crate::store::TableCells;

const COLUMNS: &str = "name, count, value_count, sum, min, max, first, first_step, last, last_step";

fn count_to(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn from_row(row: &dyn SqlRow) -> Result<MetricSummary> {
    named_from_row(row, row.string_at(0)?)
}

/// The summary of a row of `COLUMNS` (whose name is not read), called `name`.
fn named_from_row(row: &dyn SqlRow, name: String) -> Result<MetricSummary> {
    Ok(MetricSummary {
        name,
        count: row.count_at(1)?,
        value_count: row.count_at(2)?,
        // SQLite stores NaN (+inf and -inf in one metric sum to it) as NULL; PostgreSQL
        // keeps NaN and has NULL only where a statistic has no value.
        sum: row.real(3)?.unwrap_or(f64::NAN),
        min: row.real(4)?,
        max: row.real(5)?,
        first: row.real(6)?.unwrap_or(f64::NAN),
        first_step: row.int(7)?,
        last: row.real(8)?.unwrap_or(f64::NAN),
        last_step: row.int(9)?,
    })
}

/// Merges `later` (points written after the stored ones) into the stored summary of
/// `later.name`. A first summary is inserted unless another writer's got there first; an
/// existing one is locked, so that concurrent writers of one experiment merge in turn.
pub(crate) fn merge(db: &mut dyn Sql, uid: &str, later: &MetricSummary) -> Result<()> {
    if save(db, uid, later, "DO NOTHING")? == 1 {
        return Ok(());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM metric_summaries WHERE experiment_uid = $1 AND name = $2{}",
        db.for_update()
    );
    let mut summary = db.query_one(&sql, &params![uid, &later.name], from_row)?;
    summary.merge(later);
    save(db, uid, &summary, REPLACE).map(drop)
}

/// What an insert of a summary does to the one stored.
const REPLACE: &str = "DO UPDATE SET
     count = excluded.count, value_count = excluded.value_count, sum = excluded.sum,
     min = excluded.min, max = excluded.max, mean = excluded.mean,
     first = excluded.first, first_step = excluded.first_step,
     last = excluded.last, last_step = excluded.last_step";

/// Inserts the summary, doing `on_conflict` where it exists; the number of rows written.
fn save(db: &mut dyn Sql, uid: &str, s: &MetricSummary, on_conflict: &str) -> Result<u64> {
    db.execute(
        &format!(
            "INSERT INTO metric_summaries (experiment_uid, name, count, value_count, sum, min,
                                           max, mean, first, first_step, last, last_step)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (experiment_uid, name) {on_conflict}"
        ),
        &params![
            uid,
            &s.name,
            count_to(s.count),
            count_to(s.value_count),
            s.sum,
            s.min,
            s.max,
            s.mean(),
            s.first,
            s.first_step,
            s.last,
            s.last_step,
        ],
    )
}

/// Summaries of the experiment's metrics, by name.
pub(crate) fn read(db: &mut dyn Sql, uid: &str) -> Result<Vec<MetricSummary>> {
    db.query_map(
        &format!("SELECT {COLUMNS} FROM metric_summaries WHERE experiment_uid = $1 ORDER BY name"),
        &params![uid],
        from_row,
    )
}

/// Adds the summaries of the experiments `uids` (a JSON array; `None` reads every
/// experiment's, for the table to keep its own) to their rows of `table`.
pub(crate) fn read_many(
    db: &mut dyn Sql,
    uids: Option<&str>,
    table: &mut TableCells,
) -> Result<()> {
    // In no order: the table's columns are sorted by name, its rows by `uids`.
    let sql = format!(
        "SELECT {COLUMNS}, experiment_uid FROM metric_summaries
         WHERE CAST($1 AS TEXT) IS NULL OR experiment_uid IN (SELECT value FROM {})",
        json_elements(db.dialect(), "CAST($1 AS TEXT)")
    );
    db.query_each(&sql, &params![uids], &mut |row| {
        if let Some(run) = table.row_of(row.text_at(10)?) {
            table.set_summary(run, row.text_at(0)?, named_from_row(row, String::new())?);
        }
        Ok(())
    })
}

/// Summaries computed from stored points, for stores written before summaries existed.
pub(crate) fn summarise_columns(columns: &MetricColumns) -> Vec<MetricSummary> {
    // Columns are in read-back order, so adding in that order gives first and last directly.
    columns
        .metric_ranges()
        .map(|(_, points)| {
            let mut summary =
                MetricSummary::of_point(columns.name(points.start), &columns.point(points.start));
            for index in points.start + 1..points.end {
                summary.add(&columns.point(index));
            }
            summary
        })
        .collect()
}

/// Fills the summaries of every experiment from its stored points.
pub(crate) fn backfill(db: &mut dyn Sql) -> Result<()> {
    let uids = db.query_map(
        "SELECT DISTINCT experiment_uid FROM metric_chunks",
        &[],
        |row| row.string_at(0),
    )?;
    for uid in uids {
        let columns = match super::points::read_metrics(db, &uid, None) {
            Ok(columns) => columns,
            Err(crate::error::StoreError::Corrupt(why)) => {
                tracing::warn!(uid, why, "metric summaries not computed: unreadable points");
                continue;
            }
            Err(e) => return Err(e),
        };
        for summary in summarise_columns(&columns) {
            save(db, &uid, &summary, REPLACE)?;
        }
    }
    Ok(())
}
