//! Experiment card rows.

use chrono::{DateTime, Utc};
use opsml_types::{
    micros_to_datetime, CardRecord, ExperimentCard, ExperimentMetadata, Status, Version,
};
use rusqlite::types::Type;
use rusqlite::{
    params, Connection, ErrorCode, OptionalExtension, Row, Transaction, TransactionBehavior,
};

use crate::lease::Lease;
use crate::statements::CARD_COLUMNS;
use crate::store::{NewExperiment, RunningExperiment, WriterLease};

/// Attempts at allocating a version before giving up; each retry follows a
/// unique-constraint collision with another writer.
pub(super) const VERSION_ATTEMPTS: u32 = 16;

fn conversion_error(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, message.into())
}

fn parse_json<T: serde::de::DeserializeOwned>(row: &Row<'_>, column: usize) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    serde_json::from_str(&text).map_err(|e| conversion_error(column, e.to_string()))
}

pub(super) fn record_from_row(row: &Row<'_>) -> rusqlite::Result<CardRecord> {
    let version: String = row.get(3)?;
    let status: String = row.get(5)?;
    Ok(CardRecord {
        uid: row.get(0)?,
        space: row.get(1)?,
        name: row.get(2)?,
        version: Version::parse(&version).map_err(|e| conversion_error(3, e.to_string()))?,
        tags: parse_json(row, 4)?,
        status: status
            .parse()
            .map_err(|e: opsml_types::TypesError| conversion_error(5, e.to_string()))?,
        created_at: micros_to_datetime(row.get(6)?),
        ended_at: row.get::<_, Option<i64>>(7)?.map(micros_to_datetime),
        parent_uid: row.get(8)?,
        username: row.get(9)?,
    })
}

fn card_from_row(conn: &Connection, row: &Row<'_>) -> rusqlite::Result<ExperimentCard> {
    let record = record_from_row(row)?;
    let experimentcard_uids = children(conn, &record.uid)?;
    Ok(record.into_card(
        experimentcard_uids,
        parse_json(row, 10)?,
        row.get(11)?,
        parse_json(row, 12)?,
    ))
}

fn children(conn: &Connection, uid: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT uid FROM experiments WHERE parent_uid = ?1 ORDER BY created_at, uid",
    )?;
    let rows = stmt.query_map([uid], |r| r.get(0))?;
    rows.collect()
}

fn to_json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

/// Outcome of one attempt at inserting a new experiment.
pub(super) enum Created {
    Card(Box<ExperimentCard>),
    /// Another writer took the version between our read and our insert.
    VersionTaken,
}

/// Inserts the experiment with the next minor version of its (space, name).
pub(super) fn create(conn: &mut Connection, new: &NewExperiment) -> rusqlite::Result<Created> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let latest: Option<(i64, i64)> = tx
        .query_row(
            "SELECT major, minor FROM experiments WHERE space = ?1 AND name = ?2
             ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
            params![new.space, new.name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let version = match latest {
        Some((major, minor)) => Version::new(major as u64, minor as u64 + 1, 0),
        None => Version::new(0, 1, 0),
    };
    let inserted = tx.execute(
        "INSERT INTO experiments (uid, space, name, version, major, minor, patch, tags, status,
             created_at, ended_at, parent_uid, compute_environment, opsml_version, username,
             lease, heartbeat_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, ?11, ?12, ?13, ?14, ?15, ?10)",
        params![
            new.uid,
            new.space,
            new.name,
            version.to_string(),
            version.major as i64,
            version.minor as i64,
            version.patch as i64,
            to_json(&new.tags)?,
            Status::Running.as_str(),
            new.created_at.timestamp_micros(),
            new.parent_uid,
            to_json(&new.compute_environment)?,
            new.opsml_version,
            new.username,
            to_json(&new.lease)?,
        ],
    );
    match inserted {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == ErrorCode::ConstraintViolation
                && e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            return Ok(Created::VersionTaken);
        }
        Err(e) => return Err(e),
    }
    tx.commit()?;
    Ok(Created::Card(Box::new(new.card(version))))
}

pub(super) fn get(conn: &Connection, uid: &str) -> rusqlite::Result<Option<ExperimentCard>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CARD_COLUMNS} FROM experiments WHERE uid = ?1"
    ))?;
    stmt.query_row([uid], |row| card_from_row(conn, row))
        .optional()
}

pub(super) fn exists(conn: &Connection, uid: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM experiments WHERE uid = ?1")?;
    stmt.exists([uid])
}

pub(super) fn find(
    conn: &Connection,
    space: &str,
    name: &str,
    version: Option<&Version>,
) -> rusqlite::Result<Option<ExperimentCard>> {
    if let Some(version) = version {
        let sql = format!(
            "SELECT {CARD_COLUMNS} FROM experiments
             WHERE space = ?1 AND name = ?2 AND version = ?3"
        );
        conn.query_row(&sql, params![space, name, version.to_string()], |row| {
            card_from_row(conn, row)
        })
        .optional()
    } else {
        let sql = format!(
            "SELECT {CARD_COLUMNS} FROM experiments WHERE space = ?1 AND name = ?2
             ORDER BY major DESC, minor DESC, patch DESC LIMIT 1"
        );
        conn.query_row(&sql, params![space, name], |row| card_from_row(conn, row))
            .optional()
    }
}

pub(super) fn update(conn: &Connection, card: &ExperimentCard) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE experiments SET tags = ?2, status = ?3, ended_at = ?4 WHERE uid = ?1",
        params![
            card.uid,
            to_json(&card.tags)?,
            card.status.as_str(),
            card.ended_at.map(|t| t.timestamp_micros()),
        ],
    )
}

pub(super) fn set_status(
    conn: &Connection,
    uid: &str,
    status: Status,
    ended_at: Option<DateTime<Utc>>,
) -> rusqlite::Result<usize> {
    let tx = conn.unchecked_transaction()?;
    let changed = tx
        .prepare_cached("UPDATE experiments SET status = ?2, ended_at = ?3 WHERE uid = ?1")?
        .execute(params![
            uid,
            status.as_str(),
            ended_at.map(|t| t.timestamp_micros())
        ])?;
    if status != Status::Running {
        // An ended experiment needs no record of its local writers (a rank that resumes it
        // records itself again); remote writers keep theirs, whose sequence numbers turn
        // resends of batches already applied away.
        tx.prepare_cached(
            "DELETE FROM experiment_writers WHERE experiment_uid = ?1 AND last_seq = 0",
        )?
        .execute([uid])?;
    }
    tx.commit()?;
    Ok(changed)
}

pub(super) fn claim(conn: &Connection, uid: &str, lease: &Lease) -> rusqlite::Result<usize> {
    // Immediate: it reads before it writes, and a read lock cannot always become a write lock.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let previous: Option<(Option<String>, Option<i64>, String)> = tx
        .query_row(
            "SELECT lease, heartbeat_at, status FROM experiments WHERE uid = ?1",
            [uid],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let lease_json = to_json(lease)?;
    if let Some((Some(holder), heartbeat_at, status)) = previous {
        // A rank resuming a running experiment takes the lease from the process holding it,
        // which may still be writing (and may not have written its own record yet): it stays
        // on record as a writer, so the experiment counts as alive while it is.
        if status == Status::Running.as_str() && holder != lease_json {
            tx.execute(
                "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    opsml_types::new_uid(),
                    uid,
                    holder,
                    heartbeat_at.unwrap_or_else(|| Utc::now().timestamp_micros())
                ],
            )?;
        }
    }
    let changed = tx.execute(
        "UPDATE experiments SET status = 'running', ended_at = NULL, lease = ?2, heartbeat_at = ?3
         WHERE uid = ?1",
        params![uid, lease_json, Utc::now().timestamp_micros()],
    )?;
    tx.commit()?;
    Ok(changed)
}

pub(super) fn running(conn: &Connection) -> rusqlite::Result<Vec<RunningExperiment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT uid, lease, heartbeat_at FROM experiments WHERE status = 'running'",
    )?;
    let rows = stmt.query_map([], |row| {
        let lease: Option<String> = row.get(1)?;
        Ok(RunningExperiment {
            uid: row.get(0)?,
            lease: lease.and_then(|l| serde_json::from_str(&l).ok()),
            heartbeat_at: row.get::<_, Option<i64>>(2)?.map(micros_to_datetime),
            writers: Vec::new(),
        })
    })?;
    let mut running = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let mut writers = conn.prepare_cached(
        "SELECT lease, heartbeat_at FROM experiment_writers WHERE experiment_uid = ?1",
    )?;
    for experiment in &mut running {
        let rows = writers.query_map([&experiment.uid], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (lease, heartbeat_at) = row?;
            if let Ok(lease) = serde_json::from_str(&lease) {
                experiment.writers.push(WriterLease {
                    lease,
                    heartbeat_at: micros_to_datetime(heartbeat_at),
                });
            }
        }
    }
    Ok(running)
}

/// Records an open writer of experiment `uid`, or renews the record its heartbeat wrote.
pub(super) fn add_writer(
    conn: &Connection,
    writer_id: &str,
    uid: &str,
    lease: &Lease,
) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (writer_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        params![
            writer_id,
            uid,
            to_json(lease)?,
            Utc::now().timestamp_micros()
        ],
    )
}

/// Records that the experiment and the writer are alive.
///
/// The writer's record is written back if it is gone (an experiment ended by another rank
/// drops the records of all its writers while this one still writes).
pub(super) fn writer_heartbeat(
    conn: &Connection,
    writer_id: &str,
    uid: &str,
) -> rusqlite::Result<()> {
    let now = Utc::now().timestamp_micros();
    let tx = conn.unchecked_transaction()?;
    tx.prepare_cached("UPDATE experiments SET heartbeat_at = ?2 WHERE uid = ?1")?
        .execute(params![uid, now])?;
    tx.prepare_cached(
        "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (writer_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
    )?
    .execute(params![writer_id, uid, to_json(&Lease::current())?, now])?;
    tx.commit()
}

pub(super) fn mark_killed(
    conn: &Connection,
    running: &RunningExperiment,
) -> rusqlite::Result<bool> {
    let heartbeat = running.heartbeat_at.map(|t| t.timestamp_micros());
    let changed = conn.execute(
        "UPDATE experiments SET status = 'killed', ended_at = ?2
         WHERE uid = ?1 AND status = 'running' AND heartbeat_at IS ?2",
        params![running.uid, heartbeat],
    )?;
    if changed > 0 {
        // Local writers of a killed experiment are dead; remote writers keep their sequence
        // numbers, so that a late resend is not applied twice.
        conn.execute(
            "DELETE FROM experiment_writers WHERE experiment_uid = ?1 AND last_seq = 0",
            [&running.uid],
        )?;
    }
    Ok(changed > 0)
}

pub(super) fn set_metadata(
    conn: &Connection,
    uid: &str,
    metadata: &ExperimentMetadata,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE experiments SET metadata = ?2 WHERE uid = ?1",
        params![uid, to_json(metadata)?],
    )
}

pub(super) fn delete(conn: &mut Connection, uid: &str) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM artifacts WHERE experiment_uid = ?1", [uid])?;
    tx.execute(
        "DELETE FROM experiment_keys WHERE experiment_uid = ?1",
        [uid],
    )?;
    tx.execute("DELETE FROM metric_chunks WHERE experiment_uid = ?1", [uid])?;
    tx.execute("DELETE FROM parameters WHERE experiment_uid = ?1", [uid])?;
    tx.execute(
        "DELETE FROM hardware_samples WHERE experiment_uid = ?1",
        [uid],
    )?;
    tx.execute(
        "UPDATE experiments SET parent_uid = NULL WHERE parent_uid = ?1",
        [uid],
    )?;
    let deleted = tx.execute("DELETE FROM experiments WHERE uid = ?1", [uid])?;
    tx.commit()?;
    Ok(deleted > 0)
}
