//! Metric blocks, parameters and hardware samples: what a batch adds besides its blocks, and
//! the readers.

use opsml_query::Dialect;
use opsml_types::{HardwareSample, MetricColumns, Parameter};

use crate::chunk::{decode_into, sort_by_step};
use crate::error::{Result, StoreError};
use crate::sql::{params, Sql};
use crate::statements::json_elements;
use crate::store::{TableCells, WriteBatch};
use crate::stored::parameter_value;

/// What a batch adds besides metric blocks: summaries, hardware samples, parameters.
pub(crate) fn write_extras(db: &mut dyn Sql, uid: &str, batch: &WriteBatch<'_>) -> Result<()> {
    for (name_id, mut summary) in crate::batch_summary::summarise_batch(batch.points) {
        summary.name.clone_from(&batch.names[name_id as usize]);
        super::summaries::merge(db, uid, &summary)?;
    }
    for sample in batch.hardware {
        #[allow(clippy::expect_used, reason = "hardware samples serialise to JSON")]
        let data = serde_json::to_string(sample).expect("hardware samples serialise to JSON");
        db.execute(
            "INSERT INTO hardware_samples (experiment_uid, timestamp, data) VALUES ($1, $2, $3)",
            &params![uid, sample.timestamp, data.as_str()],
        )?;
    }
    for parameter in batch.parameters {
        db.execute(
            "INSERT INTO parameters (experiment_uid, name, kind, value) VALUES ($1, $2, $3, $4)
             ON CONFLICT (experiment_uid, name) DO UPDATE
             SET kind = excluded.kind, value = excluded.value",
            &params![
                uid,
                &parameter.name,
                parameter.value.kind(),
                parameter.value.to_stored().as_str(),
            ],
        )?;
    }
    Ok(())
}

/// Names as a JSON array, for `$2` in [`NAMED`]; `None` selects every name.
fn names_json(names: Option<&[String]>) -> Option<String> {
    names.map(|n| serde_json::Value::from(n.to_vec()).to_string())
}

/// The condition "named in the JSON array `$2`, or `$2` is NULL".
fn named(dialect: Dialect) -> String {
    format!(
        "(CAST($2 AS TEXT) IS NULL OR name IN (SELECT value FROM {}))",
        json_elements(dialect, "CAST($2 AS TEXT)")
    )
}

pub(crate) fn read_metrics(
    db: &mut dyn Sql,
    uid: &str,
    names: Option<&[String]>,
) -> Result<MetricColumns> {
    let names = names_json(names);
    let in_names = named(db.dialect());
    // Reserving every column once avoids regrowing (and copying) them chunk after chunk.
    let total = db.query_one(
        &format!(
            "SELECT CAST(COALESCE(SUM(point_count), 0) AS BIGINT) FROM metric_chunks
             WHERE experiment_uid = $1 AND {in_names}"
        ),
        &params![uid, names.as_deref()],
        |row| row.int_at(0),
    )?;
    let mut columns = MetricColumns::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut segment_starts = Vec::new();
    db.query_each(
        &format!(
            "SELECT name, data FROM metric_chunks WHERE experiment_uid = $1 AND {in_names}
             ORDER BY name, id"
        ),
        &params![uid, names.as_deref()],
        &mut |row| {
            let name = row.text_at(0)?;
            if columns.names.last().map(String::as_str) != Some(name) {
                columns.names.push(name.to_owned());
                segment_starts.push(columns.len());
            }
            let name_id = (columns.names.len() - 1) as u32;
            decode_into(row.blob_at(1)?, name_id, &mut columns)
                .map_err(|e| StoreError::Corrupt(format!("experiment {uid}, metric {name:?}: {e}")))
        },
    )?;
    segment_starts.push(columns.len());
    for window in segment_starts.windows(2) {
        sort_by_step(&mut columns, window[0]..window[1]);
    }
    Ok(columns)
}

pub(crate) fn read_hardware(db: &mut dyn Sql, uid: &str) -> Result<Vec<HardwareSample>> {
    db.query_map(
        "SELECT data FROM hardware_samples WHERE experiment_uid = $1 ORDER BY timestamp, id",
        &params![uid],
        |row| {
            serde_json::from_str(row.text_at(0)?)
                .map_err(|e| StoreError::Corrupt(format!("experiment {uid}, hardware sample: {e}")))
        },
    )
}

pub(crate) fn read_parameters(
    db: &mut dyn Sql,
    uid: &str,
    names: Option<&[String]>,
) -> Result<Vec<Parameter>> {
    // In the order they were first written.
    let order = match db.dialect() {
        Dialect::Sqlite => "rowid",
        Dialect::Postgres => "id",
    };
    let sql = format!(
        "SELECT name, kind, value FROM parameters WHERE experiment_uid = $1 AND {}
         ORDER BY {order}",
        named(db.dialect())
    );
    db.query_map(&sql, &params![uid, names_json(names).as_deref()], |row| {
        let name = row.text_at(0)?;
        let value = parameter_value(uid, name, row.text_at(1)?, row.text_at(2)?)
            .map_err(StoreError::Corrupt)?;
        Ok(Parameter {
            name: name.to_owned(),
            value,
        })
    })
}

/// Adds the parameters of the experiments `uids` (a JSON array; `None` reads every
/// experiment's, for the table to keep its own) to their rows of `table`.
pub(crate) fn read_parameters_many(
    db: &mut dyn Sql,
    uids: Option<&str>,
    table: &mut TableCells,
) -> Result<()> {
    // In no order: the table's columns are sorted by name, its rows by `uids`.
    let sql = format!(
        "SELECT name, kind, value, experiment_uid FROM parameters
         WHERE CAST($1 AS TEXT) IS NULL OR experiment_uid IN (SELECT value FROM {})",
        json_elements(db.dialect(), "CAST($1 AS TEXT)")
    );
    db.query_each(&sql, &params![uids], &mut |row| {
        let uid = row.text_at(3)?;
        let Some(run) = table.row_of(uid) else {
            return Ok(());
        };
        let name = row.text_at(0)?;
        let value = parameter_value(uid, name, row.text_at(1)?, row.text_at(2)?)
            .map_err(StoreError::Corrupt)?;
        table.set_parameter(run, name, value);
        Ok(())
    })
}
