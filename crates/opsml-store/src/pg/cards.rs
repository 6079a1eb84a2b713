//! Experiment card rows in PostgreSQL.
//!
//! Decoding: column types are the schema's own, so typed reads cannot fail; text that must
//! parse (JSON, versions, statuses) becomes a "corrupt record" error naming the experiment.

use chrono::{DateTime, Utc};
use opsml_types::{
    micros_to_datetime, CardRecord, ExperimentCard, ExperimentMetadata, Status, Version,
};

use postgres::{Client, GenericClient, Row};

use crate::lease::Lease;
use crate::statements::CARD_COLUMNS;
use crate::store::{NewExperiment, RunningExperiment, WriterLease};

/// Key space of the advisory locks that serialise version allocation per (space, name).
const VERSION_LOCK_SPACE: i32 = 0x6f70_736d;

type Decoded<T> = std::result::Result<T, String>;

fn parse_json<T: serde::de::DeserializeOwned>(row: &Row, column: usize) -> Decoded<T> {
    let text: &str = row.get(column);
    serde_json::from_str(text).map_err(|e| {
        let uid: &str = row.get(0);
        format!("experiment {uid}, column {column}: {e}")
    })
}

pub(super) fn record_from_row(row: &Row) -> Decoded<CardRecord> {
    let uid: String = row.get(0);
    let version: &str = row.get(3);
    let status: &str = row.get(5);
    Ok(CardRecord {
        space: row.get(1),
        name: row.get(2),
        version: Version::parse(version)
            .map_err(|e| format!("experiment {uid}, version {version:?}: {e}"))?,
        tags: parse_json(row, 4)?,
        status: status
            .parse()
            .map_err(|e| format!("experiment {uid}, status: {e}"))?,
        created_at: micros_to_datetime(row.get(6)),
        ended_at: row.get::<_, Option<i64>>(7).map(micros_to_datetime),
        parent_uid: row.get(8),
        username: row.get(9),
        uid,
    })
}

fn card_from_row(
    client: &mut impl GenericClient,
    row: &Row,
) -> Result<Decoded<ExperimentCard>, postgres::Error> {
    let record = match record_from_row(row) {
        Ok(record) => record,
        Err(e) => return Ok(Err(e)),
    };
    let experimentcard_uids = client
        .query(
            "SELECT uid FROM experiments WHERE parent_uid = $1 ORDER BY created_at, uid",
            &[&record.uid],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let details =
        parse_json(row, 10).and_then(|environment| Ok((environment, parse_json(row, 12)?)));
    Ok(details.map(|(compute_environment, metadata)| {
        record.into_card(
            experimentcard_uids,
            compute_environment,
            row.get(11),
            metadata,
        )
    }))
}

#[allow(clippy::expect_used, reason = "card fields serialise to JSON")]
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("card fields serialise to JSON")
}

/// Inserts the experiment with the next minor version of its (space, name). Creators of
/// one (space, name) take turns on an advisory lock; the unique constraint still guards
/// the version should anything else write the table.
pub(super) fn create(
    client: &mut Client,
    new: &NewExperiment,
) -> Result<ExperimentCard, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2 || '/' || $3))",
        &[&VERSION_LOCK_SPACE, &new.space, &new.name],
    )?;
    let latest = tx.query_opt(
        "SELECT major, minor FROM experiments WHERE space = $1 AND name = $2
         ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
        &[&new.space, &new.name],
    )?;
    let version = match latest {
        Some(row) => Version::new(
            row.get::<_, i64>(0) as u64,
            row.get::<_, i64>(1) as u64 + 1,
            0,
        ),
        None => Version::new(0, 1, 0),
    };
    let created_at = new.created_at.timestamp_micros();
    tx.execute(
        "INSERT INTO experiments (uid, space, name, version, major, minor, patch, tags, status,
             created_at, ended_at, parent_uid, compute_environment, opsml_version, username,
             lease, heartbeat_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12, $13, $14, $15, $10)",
        &[
            &new.uid,
            &new.space,
            &new.name,
            &version.to_string(),
            &(version.major as i64),
            &(version.minor as i64),
            &(version.patch as i64),
            &to_json(&new.tags),
            &Status::Running.as_str(),
            &created_at,
            &new.parent_uid,
            &to_json(&new.compute_environment),
            &new.opsml_version,
            &new.username,
            &to_json(&new.lease),
        ],
    )?;
    tx.commit()?;
    Ok(new.card(version))
}

pub(super) fn get(
    client: &mut Client,
    uid: &str,
) -> Result<Option<Decoded<ExperimentCard>>, postgres::Error> {
    let row = client.query_opt(
        &format!("SELECT {CARD_COLUMNS} FROM experiments WHERE uid = $1"),
        &[&uid],
    )?;
    row.map(|row| card_from_row(client, &row)).transpose()
}

pub(super) fn exists(client: &mut Client, uid: &str) -> Result<bool, postgres::Error> {
    Ok(client
        .query_opt("SELECT 1 FROM experiments WHERE uid = $1", &[&uid])?
        .is_some())
}

pub(super) fn find(
    client: &mut Client,
    space: &str,
    name: &str,
    version: Option<&Version>,
) -> Result<Option<Decoded<ExperimentCard>>, postgres::Error> {
    let row = if let Some(version) = version {
        client.query_opt(
            &format!(
                "SELECT {CARD_COLUMNS} FROM experiments
                 WHERE space = $1 AND name = $2 AND version = $3"
            ),
            &[&space, &name, &version.to_string()],
        )?
    } else {
        client.query_opt(
            &format!(
                "SELECT {CARD_COLUMNS} FROM experiments WHERE space = $1 AND name = $2
                 ORDER BY major DESC, minor DESC, patch DESC LIMIT 1"
            ),
            &[&space, &name],
        )?
    };
    row.map(|row| card_from_row(client, &row)).transpose()
}

pub(super) fn update(client: &mut Client, card: &ExperimentCard) -> Result<u64, postgres::Error> {
    client.execute(
        "UPDATE experiments SET tags = $2, status = $3, ended_at = $4 WHERE uid = $1",
        &[
            &card.uid,
            &to_json(&card.tags),
            &card.status.as_str(),
            &card.ended_at.map(|t| t.timestamp_micros()),
        ],
    )
}

pub(super) fn set_status(
    client: &mut Client,
    uid: &str,
    status: Status,
    ended_at: Option<DateTime<Utc>>,
) -> Result<u64, postgres::Error> {
    let mut tx = client.transaction()?;
    let changed = tx.execute(
        "UPDATE experiments SET status = $2, ended_at = $3 WHERE uid = $1",
        &[
            &uid,
            &status.as_str(),
            &ended_at.map(|t| t.timestamp_micros()),
        ],
    )?;
    if status != Status::Running {
        // An ended experiment needs no record of writers that stored nothing (a rank that
        // resumes it records itself again); the others keep theirs, whose sequence numbers
        // turn resends of batches already applied away (a client's retry, a replay of a
        // recovery file after a commit whose answer was lost).
        tx.execute(
            "DELETE FROM experiment_writers WHERE experiment_uid = $1 AND last_seq = 0",
            &[&uid],
        )?;
    }
    tx.commit()?;
    Ok(changed)
}

pub(super) fn claim(client: &mut Client, uid: &str, lease: &Lease) -> Result<u64, postgres::Error> {
    let mut tx = client.transaction()?;
    // The row lock orders concurrent claims as SQLite's write lock does.
    let previous = tx.query_opt(
        "SELECT lease, heartbeat_at, status FROM experiments WHERE uid = $1 FOR UPDATE",
        &[&uid],
    )?;
    let lease_json = to_json(lease);
    if let Some(row) = previous {
        let holder: Option<String> = row.get(0);
        let heartbeat_at: Option<i64> = row.get(1);
        let status: &str = row.get(2);
        // A rank resuming a running experiment takes the lease from the process holding it,
        // which may still be writing: it stays on record as a writer, so the experiment
        // counts as alive while it is.
        if let Some(holder) = holder.filter(|h| *h != lease_json) {
            if status == Status::Running.as_str() {
                tx.execute(
                    "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at)
                     VALUES ($1, $2, $3, $4)",
                    &[
                        &opsml_types::new_uid(),
                        &uid,
                        &holder,
                        &heartbeat_at.unwrap_or_else(|| Utc::now().timestamp_micros()),
                    ],
                )?;
            }
        }
    }
    let changed = tx.execute(
        "UPDATE experiments SET status = 'running', ended_at = NULL, lease = $2, heartbeat_at = $3
         WHERE uid = $1",
        &[&uid, &lease_json, &Utc::now().timestamp_micros()],
    )?;
    tx.commit()?;
    Ok(changed)
}

pub(super) fn running(client: &mut Client) -> Result<Vec<RunningExperiment>, postgres::Error> {
    let mut running: Vec<RunningExperiment> = client
        .query(
            "SELECT uid, lease, heartbeat_at FROM experiments WHERE status = 'running'",
            &[],
        )?
        .iter()
        .map(|row| RunningExperiment {
            uid: row.get(0),
            lease: row
                .get::<_, Option<&str>>(1)
                .and_then(|l| serde_json::from_str(l).ok()),
            heartbeat_at: row.get::<_, Option<i64>>(2).map(micros_to_datetime),
            writers: Vec::new(),
        })
        .collect();
    let writers = client
        .prepare("SELECT lease, heartbeat_at FROM experiment_writers WHERE experiment_uid = $1")?;
    for experiment in &mut running {
        for row in client.query(&writers, &[&experiment.uid])? {
            if let Ok(lease) = serde_json::from_str(row.get::<_, &str>(0)) {
                experiment.writers.push(WriterLease {
                    lease,
                    heartbeat_at: micros_to_datetime(row.get(1)),
                });
            }
        }
    }
    Ok(running)
}

/// Records an open writer of experiment `uid`, or renews the record its heartbeat wrote.
pub(super) fn add_writer(
    client: &mut impl GenericClient,
    writer_id: &str,
    uid: &str,
    lease: &Lease,
) -> Result<u64, postgres::Error> {
    client.execute(
        "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (writer_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        &[
            &writer_id,
            &uid,
            &to_json(lease),
            &Utc::now().timestamp_micros(),
        ],
    )
}

/// Records that the experiment and the writer are alive; the writer's record is written
/// back if it is gone (an experiment ended by another rank drops the records of all its
/// writers while this one still writes).
pub(super) fn writer_heartbeat(
    client: &mut Client,
    writer_id: &str,
    uid: &str,
) -> Result<(), postgres::Error> {
    let now = Utc::now().timestamp_micros();
    let mut tx = client.transaction()?;
    tx.execute(
        "UPDATE experiments SET heartbeat_at = $2 WHERE uid = $1",
        &[&uid, &now],
    )?;
    tx.execute(
        "INSERT INTO experiment_writers (writer_id, experiment_uid, lease, heartbeat_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (writer_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        &[&writer_id, &uid, &to_json(&Lease::current()), &now],
    )?;
    tx.commit()
}

pub(super) fn mark_killed(
    client: &mut Client,
    running: &RunningExperiment,
) -> Result<bool, postgres::Error> {
    let heartbeat = running.heartbeat_at.map(|t| t.timestamp_micros());
    let mut tx = client.transaction()?;
    let changed = tx.execute(
        "UPDATE experiments SET status = 'killed', ended_at = $2
         WHERE uid = $1 AND status = 'running' AND heartbeat_at IS NOT DISTINCT FROM $2",
        &[&running.uid, &heartbeat],
    )?;
    if changed > 0 {
        // Writers of a killed experiment are dead; those that stored batches keep their
        // sequence numbers, so that a late resend is not applied twice.
        tx.execute(
            "DELETE FROM experiment_writers WHERE experiment_uid = $1 AND last_seq = 0",
            &[&running.uid],
        )?;
    }
    tx.commit()?;
    Ok(changed > 0)
}

pub(super) fn set_metadata(
    client: &mut Client,
    uid: &str,
    metadata: &ExperimentMetadata,
) -> Result<u64, postgres::Error> {
    client.execute(
        "UPDATE experiments SET metadata = $2 WHERE uid = $1",
        &[&uid, &to_json(metadata)],
    )
}

pub(super) fn delete(client: &mut Client, uid: &str) -> Result<bool, postgres::Error> {
    let mut tx = client.transaction()?;
    // Child tables go with the row (ON DELETE CASCADE); children are unlinked, not deleted.
    tx.execute(
        "UPDATE experiments SET parent_uid = NULL WHERE parent_uid = $1",
        &[&uid],
    )?;
    let deleted = tx.execute("DELETE FROM experiments WHERE uid = $1", &[&uid])?;
    tx.commit()?;
    Ok(deleted > 0)
}
