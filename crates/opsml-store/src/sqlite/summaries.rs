//! Metric summaries in SQLite: one row per (experiment, metric), merged with each written
//! batch inside the batch's transaction, so a summary always matches the stored points.

use opsml_types::{MetricColumns, MetricSummary};

use crate::store::TableCells;
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLUMNS: &str = "name, count, value_count, sum, min, max, first, first_step, last, last_step";

fn count_from(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(0)
}

fn count_to(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<MetricSummary> {
    named_from_row(row, row.get(0)?)
}

/// The summary of a row of `COLUMNS` (whose name is not read), called `name`.
fn named_from_row(row: &Row<'_>, name: String) -> rusqlite::Result<MetricSummary> {
    Ok(MetricSummary {
        name,
        count: count_from(row.get(1)?),
        value_count: count_from(row.get(2)?),
        // +inf and -inf in one metric sum to NaN, which SQLite stores as NULL.
        sum: row.get::<_, Option<f64>>(3)?.unwrap_or(f64::NAN),
        min: row.get(4)?,
        max: row.get(5)?,
        // SQLite stores NaN as NULL.
        first: row.get::<_, Option<f64>>(6)?.unwrap_or(f64::NAN),
        first_step: row.get(7)?,
        last: row.get::<_, Option<f64>>(8)?.unwrap_or(f64::NAN),
        last_step: row.get(9)?,
    })
}

/// Merges `later` (points written after the stored ones) into the stored summary of
/// `later.name`.
pub(super) fn merge(conn: &Connection, uid: &str, later: &MetricSummary) -> rusqlite::Result<()> {
    let stored = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM metric_summaries WHERE experiment_uid = ?1 AND name = ?2"
        ))?
        .query_row(params![uid, later.name], from_row)
        .optional()?;
    let summary = match stored {
        Some(mut stored) => {
            stored.merge(later);
            stored
        }
        None => later.clone(),
    };
    save(conn, uid, &summary)
}

fn save(conn: &Connection, uid: &str, s: &MetricSummary) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO metric_summaries (experiment_uid, name, count, value_count, sum, min, max,
                                       mean, first, first_step, last, last_step)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (experiment_uid, name) DO UPDATE SET
             count = excluded.count, value_count = excluded.value_count, sum = excluded.sum,
             min = excluded.min, max = excluded.max, mean = excluded.mean,
             first = excluded.first, first_step = excluded.first_step,
             last = excluded.last, last_step = excluded.last_step",
    )?
    .execute(params![
        uid,
        s.name,
        count_to(s.count),
        count_to(s.value_count),
        s.sum,
        s.min,
        s.max,
        s.mean(),
        s.first,
        s.first_step,
        s.last,
        s.last_step
    ])?;
    Ok(())
}

/// Summaries of the experiment's metrics, by name.
pub(super) fn read(conn: &Connection, uid: &str) -> rusqlite::Result<Vec<MetricSummary>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM metric_summaries WHERE experiment_uid = ?1 ORDER BY name"
    ))?;
    let rows = stmt.query_map([uid], from_row)?;
    rows.collect()
}

/// Adds the summaries of the experiments `uids` (a JSON array; `None` reads
/// every experiment's, for the table to keep its own) to their rows of `table`.
pub(super) fn read_many(
    conn: &Connection,
    uids: Option<&str>,
    table: &mut TableCells,
) -> rusqlite::Result<()> {
    // In no order: the table's columns are sorted by name, its rows by `uids`.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, experiment_uid FROM metric_summaries
         WHERE ?1 IS NULL OR experiment_uid IN (SELECT value FROM json_each(?1))"
    ))?;
    let mut rows = stmt.query([uids])?;
    while let Some(row) = rows.next()? {
        if let Some(run) = table.row_of(super::text_at(row, 10)?) {
            table.set_summary(
                run,
                super::text_at(row, 0)?,
                named_from_row(row, String::new())?,
            );
        }
    }
    Ok(())
}

/// Summaries computed from stored points, for stores written before summaries existed.
pub(super) fn summarise_columns(columns: &MetricColumns) -> Vec<MetricSummary> {
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
pub(super) fn backfill(conn: &Connection) -> rusqlite::Result<()> {
    let uids: Vec<String> = conn
        .prepare("SELECT DISTINCT experiment_uid FROM metric_chunks")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for uid in uids {
        let columns = match super::points::read_metrics(conn, &uid, None)? {
            Ok(columns) => columns,
            Err(why) => {
                tracing::warn!(uid, why, "metric summaries not computed: unreadable points");
                continue;
            }
        };
        for summary in summarise_columns(&columns) {
            save(conn, &uid, &summary)?;
        }
    }
    Ok(())
}
