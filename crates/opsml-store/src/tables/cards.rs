//! Experiment card rows, for either database.

use chrono::{DateTime, Utc};
use opsml_types::{
    micros_to_datetime, CardRecord, ExperimentCard, ExperimentMetadata, Status, Version,
};

use crate::error::{Result, StoreError};
use crate::lease::Lease;
use crate::sql::{params, Begin, Sql, SqlRow};
use crate::statements::{Statement, CARD_COLUMNS};
use crate::store::{NewExperiment, RunningExperiment, WriterLease};

/// Attempts at allocating a version before giving up; each retry follows a
/// unique-constraint collision with another writer.
const VERSION_ATTEMPTS: u32 = 16;

/// Key space of the locks that make creators of one (space, name) take turns.
const VERSION_LOCK_SPACE: i32 = 0x6f70_736d;

fn parse_json<T: serde::de::DeserializeOwned>(
    row: &dyn SqlRow,
    uid: &str,
    column: usize,
) -> Result<T> {
    serde_json::from_str(row.text_at(column)?)
        .map_err(|e| StoreError::Corrupt(format!("experiment {uid}, column {column}: {e}")))
}

#[allow(clippy::expect_used, reason = "card fields serialise to JSON")]
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("card fields serialise to JSON")
}

/// The record in a row of [`CARD_COLUMNS`].
pub(crate) fn record_from_row(row: &dyn SqlRow) -> Result<CardRecord> {
    let uid = row.string_at(0)?;
    let version = row.text_at(3)?;
    let status = row.text_at(5)?;
    Ok(CardRecord {
        space: row.string_at(1)?,
        name: row.string_at(2)?,
        version: Version::parse(version).map_err(|e| {
            StoreError::Corrupt(format!("experiment {uid}, version {version:?}: {e}"))
        })?,
        tags: parse_json(row, &uid, 4)?,
        status: status
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("experiment {uid}, status: {e}")))?,
        created_at: micros_to_datetime(row.int_at(6)?),
        ended_at: row.int(7)?.map(micros_to_datetime),
        parent_uid: row.text(8)?.map(str::to_owned),
        username: row.string_at(9)?,
        uid,
    })
}

/// The records that `statement` (selecting [`CARD_COLUMNS`]) finds, in its order.
pub(crate) fn records(db: &mut dyn Sql, statement: &Statement) -> Result<Vec<CardRecord>> {
    let params: Vec<_> = statement.params.iter().map(Into::into).collect();
    db.query_map(&statement.sql, &params, record_from_row)
}

/// The card of the first row of `sql` (selecting [`CARD_COLUMNS`]), with its children.
fn card(
    db: &mut dyn Sql,
    sql: &str,
    params: &[crate::sql::Param<'_>],
) -> Result<Option<ExperimentCard>> {
    let found = db.query_opt(sql, params, |row| {
        let record = record_from_row(row)?;
        let environment = parse_json(row, &record.uid, 10)?;
        let metadata = parse_json(row, &record.uid, 12)?;
        let opsml_version = row.string_at(11)?;
        Ok((record, environment, opsml_version, metadata))
    })?;
    let Some((record, environment, opsml_version, metadata)) = found else {
        return Ok(None);
    };
    let children = db.query_map(
        "SELECT uid FROM experiments WHERE parent_uid = $1 ORDER BY created_at, uid",
        &params![&record.uid],
        |row| row.string_at(0),
    )?;
    Ok(Some(record.into_card(
        children,
        environment,
        opsml_version,
        metadata,
    )))
}

/// Inserts the experiment with the next minor version of its (space, name). Creators of one
/// (space, name) take turns where the database can make them (PostgreSQL); elsewhere a
/// collision on the unique version is retried.
pub(crate) fn create(db: &mut dyn Sql, new: &NewExperiment) -> Result<ExperimentCard> {
    for _ in 0..VERSION_ATTEMPTS {
        match db.transaction(Begin::Write, |db| insert_next_version(db, new)) {
            Err(e) if e.is_unique_violation() => {
                tracing::debug!(space = %new.space, name = %new.name, "version taken, retrying");
            }
            created => return created,
        }
    }
    Err(StoreError::VersionContention {
        space: new.space.clone(),
        name: new.name.clone(),
        attempts: VERSION_ATTEMPTS,
    })
}

fn insert_next_version(db: &mut dyn Sql, new: &NewExperiment) -> Result<ExperimentCard> {
    db.take_turns(VERSION_LOCK_SPACE, &format!("{}/{}", new.space, new.name))?;
    let latest = db.query_opt(
        "SELECT major, minor FROM experiments WHERE space = $1 AND name = $2
         ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
        &params![&new.space, &new.name],
        |row| Ok((row.int_at(0)?, row.int_at(1)?)),
    )?;
    let version = match latest {
        Some((major, minor)) => Version::new(major as u64, minor as u64 + 1, 0),
        None => Version::new(0, 1, 0),
    };
    db.execute(
        "INSERT INTO experiments (uid, space, name, version, major, minor, patch, tags, status,
             created_at, ended_at, parent_uid, compute_environment, opsml_version, username,
             lease, heartbeat_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12, $13, $14, $15, $10)",
        &params![
            &new.uid,
            &new.space,
            &new.name,
            version.to_string().as_str(),
            version.major as i64,
            version.minor as i64,
            version.patch as i64,
            to_json(&new.tags).as_str(),
            Status::Running.as_str(),
            new.created_at.timestamp_micros(),
            new.parent_uid.as_deref(),
            to_json(&new.compute_environment).as_str(),
            &new.opsml_version,
            &new.username,
            to_json(&new.lease).as_str(),
        ],
    )?;
    Ok(new.card(version))
}

pub(crate) fn get(db: &mut dyn Sql, uid: &str) -> Result<Option<ExperimentCard>> {
    card(
        db,
        &format!("SELECT {CARD_COLUMNS} FROM experiments WHERE uid = $1"),
        &params![uid],
    )
}

pub(crate) fn exists(db: &mut dyn Sql, uid: &str) -> Result<bool> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM experiments WHERE uid = $1",
            &params![uid],
            |_| Ok(()),
        )?
        .is_some())
}

pub(crate) fn find(
    db: &mut dyn Sql,
    space: &str,
    name: &str,
    version: Option<&Version>,
) -> Result<Option<ExperimentCard>> {
    match version {
        Some(version) => card(
            db,
            &format!(
                "SELECT {CARD_COLUMNS} FROM experiments
                 WHERE space = $1 AND name = $2 AND version = $3"
            ),
            &params![space, name, version.to_string().as_str()],
        ),
        None => card(
            db,
            &format!(
                "SELECT {CARD_COLUMNS} FROM experiments WHERE space = $1 AND name = $2
                 ORDER BY major DESC, minor DESC, patch DESC LIMIT 1"
            ),
            &params![space, name],
        ),
    }
}

pub(crate) fn update(db: &mut dyn Sql, card: &ExperimentCard) -> Result<u64> {
    db.execute(
        "UPDATE experiments SET tags = $2, status = $3, ended_at = $4 WHERE uid = $1",
        &params![
            &card.uid,
            to_json(&card.tags).as_str(),
            card.status.as_str(),
            card.ended_at.map(|t| t.timestamp_micros()),
        ],
    )
}

pub(crate) fn set_status(
    db: &mut dyn Sql,
    uid: &str,
    status: Status,
    ended_at: Option<DateTime<Utc>>,
) -> Result<u64> {
    db.transaction(Begin::Write, |db| {
        let changed = db.execute(
            "UPDATE experiments SET status = $2, ended_at = $3 WHERE uid = $1",
            &params![uid, status.as_str(), ended_at.map(|t| t.timestamp_micros())],
        )?;
        if status != Status::Running {
            // An ended experiment needs no record of writers that stored nothing (a rank
            // that resumes it records itself again); the others keep theirs, whose sequence
            // numbers turn resends of batches already applied away (a client's retry, a
            // replay of a recovery file after a commit whose answer was lost).
            db.execute(
                "DELETE FROM experiment_writers WHERE experiment_uid = $1 AND last_seq = 0",
                &params![uid],
            )?;
        }
        Ok(changed)
    })
}

pub(crate) fn claim(db: &mut dyn Sql, uid: &str, lease: &Lease) -> Result<u64> {
    db.transaction(Begin::Write, |db| {
        // PostgreSQL's row lock orders concurrent claims as SQLite's write lock does.
        let previous = db.query_opt(
            &format!(
                "SELECT lease, heartbeat_at, status FROM experiments WHERE uid = $1{}",
                db.for_update()
            ),
            &params![uid],
            |row| {
                Ok((
                    row.text(0)?.map(str::to_owned),
                    row.int(1)?,
                    row.string_at(2)?,
                ))
            },
        )?;
        let lease_json = to_json(lease);
        if let Some((Some(holder), heartbeat_at, status)) = previous {
            // A rank resuming a running experiment takes the lease from the process holding
            // it, which may still be writing (and may not have written its own record yet):
            // it stays on record as a writer, so the experiment counts as alive while it is.
            if status == Status::Running.as_str() && holder != lease_json {
                db.execute(
                    "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at)
                     VALUES ($1, $2, $3, $4)",
                    &params![
                        opsml_types::new_uid().as_str(),
                        uid,
                        holder.as_str(),
                        heartbeat_at.unwrap_or_else(|| Utc::now().timestamp_micros()),
                    ],
                )?;
            }
        }
        db.execute(
            "UPDATE experiments SET status = 'running', ended_at = NULL, lease = $2,
                 heartbeat_at = $3
             WHERE uid = $1",
            &params![uid, lease_json.as_str(), Utc::now().timestamp_micros()],
        )
    })
}

pub(crate) fn running(db: &mut dyn Sql) -> Result<Vec<RunningExperiment>> {
    let mut running = db.query_map(
        "SELECT uid, lease, heartbeat_at FROM experiments WHERE status = 'running'",
        &[],
        |row| {
            Ok(RunningExperiment {
                uid: row.string_at(0)?,
                lease: row.text(1)?.and_then(|l| serde_json::from_str(l).ok()),
                heartbeat_at: row.int(2)?.map(micros_to_datetime),
                writers: Vec::new(),
            })
        },
    )?;
    for experiment in &mut running {
        let writers = db.query_map(
            "SELECT lease, heartbeat_at FROM experiment_writers WHERE experiment_uid = $1",
            &params![&experiment.uid],
            |row| {
                let lease = serde_json::from_str(row.text_at(0)?).ok();
                Ok(lease.map(|lease| (lease, row.int_at(1))))
            },
        )?;
        for (lease, heartbeat_at) in writers.into_iter().flatten() {
            experiment.writers.push(WriterLease {
                lease,
                heartbeat_at: micros_to_datetime(heartbeat_at?),
            });
        }
    }
    Ok(running)
}

const RECORD_WRITER: &str =
    "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (writer_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at";

/// Records an open writer of experiment `uid`, or renews the record its heartbeat wrote.
pub(crate) fn add_writer(
    db: &mut dyn Sql,
    writer_id: &str,
    uid: &str,
    lease: &Lease,
) -> Result<u64> {
    db.execute(
        RECORD_WRITER,
        &params![
            writer_id,
            uid,
            to_json(lease).as_str(),
            Utc::now().timestamp_micros()
        ],
    )
}

/// Records that the experiment and the writer are alive; the writer's record is written
/// back if it is gone (an experiment ended by another rank drops the records of all its
/// writers while this one still writes).
pub(crate) fn writer_heartbeat(db: &mut dyn Sql, writer_id: &str, uid: &str) -> Result<()> {
    let now = Utc::now().timestamp_micros();
    db.transaction(Begin::Write, |db| {
        db.execute(
            "UPDATE experiments SET heartbeat_at = $2 WHERE uid = $1",
            &params![uid, now],
        )?;
        db.execute(
            RECORD_WRITER,
            &params![writer_id, uid, to_json(&Lease::current()).as_str(), now],
        )
        .map(drop)
    })
}

pub(crate) fn mark_killed(db: &mut dyn Sql, running: &RunningExperiment) -> Result<bool> {
    let heartbeat = running.heartbeat_at.map(|t| t.timestamp_micros());
    db.transaction(Begin::Write, |db| {
        let changed = db.execute(
            "UPDATE experiments SET status = 'killed', ended_at = $2
             WHERE uid = $1 AND status = 'running' AND heartbeat_at IS NOT DISTINCT FROM $2",
            &params![&running.uid, heartbeat],
        )?;
        if changed > 0 {
            // Writers of a killed experiment are dead; those that stored batches keep their
            // sequence numbers, so that a late resend is not applied twice.
            db.execute(
                "DELETE FROM experiment_writers WHERE experiment_uid = $1 AND last_seq = 0",
                &params![&running.uid],
            )?;
        }
        Ok(changed > 0)
    })
}

pub(crate) fn set_metadata(
    db: &mut dyn Sql,
    uid: &str,
    metadata: &ExperimentMetadata,
) -> Result<u64> {
    db.execute(
        "UPDATE experiments SET metadata = $2 WHERE uid = $1",
        &params![uid, to_json(metadata).as_str()],
    )
}

pub(crate) fn delete(db: &mut dyn Sql, uid: &str) -> Result<bool> {
    db.transaction(Begin::Write, |db| {
        // The rows that name the experiment go with it (the schemas cascade too; this does
        // not depend on SQLite's foreign key pragma); children are unlinked, not deleted.
        for table in [
            "artifacts",
            "experiment_keys",
            "metric_chunks",
            "metric_summaries",
            "parameters",
            "hardware_samples",
            "experiment_writers",
        ] {
            db.execute(
                &format!("DELETE FROM {table} WHERE experiment_uid = $1"),
                &params![uid],
            )?;
        }
        db.execute(
            "UPDATE experiments SET parent_uid = NULL WHERE parent_uid = $1",
            &params![uid],
        )?;
        Ok(db.execute("DELETE FROM experiments WHERE uid = $1", &params![uid])? > 0)
    })
}
