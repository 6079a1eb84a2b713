//! Artifact records and wrapped data keys in PostgreSQL.

use opsml_types::{micros_to_datetime, ArtifactRecord};
use postgres::Client;

pub(super) fn wrapped_key(
    client: &mut Client,
    uid: &str,
) -> Result<Option<Vec<u8>>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT wrapped FROM experiment_keys WHERE experiment_uid = $1",
            &[&uid],
        )?
        .map(|row| row.get(0)))
}

/// Key space of the advisory locks that serialise artifact record changes per experiment.
const ARTIFACT_LOCK_SPACE: i32 = 0x6f70_7361;

/// Stores `wrapped` unless the experiment has a key already; returns the stored key.
pub(super) fn insert_wrapped_key(
    client: &mut Client,
    uid: &str,
    wrapped: &[u8],
) -> Result<Vec<u8>, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute(
        "INSERT INTO experiment_keys (experiment_uid, wrapped) VALUES ($1, $2)
         ON CONFLICT (experiment_uid) DO NOTHING",
        &[&uid, &wrapped],
    )?;
    let stored = tx
        .query_one(
            "SELECT wrapped FROM experiment_keys WHERE experiment_uid = $1",
            &[&uid],
        )?
        .get(0);
    tx.commit()?;
    Ok(stored)
}

/// Records artifacts; returns the storage keys of the objects they replaced.
pub(super) fn put(
    client: &mut Client,
    uid: &str,
    records: &[ArtifactRecord],
) -> Result<Vec<String>, postgres::Error> {
    let mut tx = client.transaction()?;
    // Records of one experiment change one transaction at a time, as under SQLite's write
    // lock: two uploads of a new path must not both miss the other's record (the object of
    // the one overwritten would be left behind unrecorded).
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&ARTIFACT_LOCK_SPACE, &uid],
    )?;
    let previous = tx.prepare(
        "SELECT storage_key FROM artifacts WHERE experiment_uid = $1 AND path = $2 FOR UPDATE",
    )?;
    let upsert = tx.prepare(
        "INSERT INTO artifacts
             (experiment_uid, path, size, digest, media_type, created_at, storage_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (experiment_uid, path) DO UPDATE SET size = excluded.size,
             digest = excluded.digest, media_type = excluded.media_type,
             created_at = excluded.created_at, storage_key = excluded.storage_key",
    )?;
    let mut replaced = Vec::new();
    for r in records {
        if let Some(row) = tx.query_opt(&previous, &[&uid, &r.path])? {
            let old: String = row.get(0);
            if old != r.storage_key {
                replaced.push(old);
            }
        }
        tx.execute(
            &upsert,
            &[
                &uid,
                &r.path,
                &i64::try_from(r.size).unwrap_or(i64::MAX),
                &r.digest,
                &r.media_type,
                &r.created_at.timestamp_micros(),
                &r.storage_key,
            ],
        )?;
    }
    tx.commit()?;
    Ok(replaced)
}

/// Records of the experiment, all or those at `prefix` exactly or under `prefix/`.
pub(super) fn list(
    client: &mut Client,
    uid: &str,
    prefix: Option<&str>,
) -> Result<Vec<ArtifactRecord>, postgres::Error> {
    let rows = client.query(
        "SELECT path, size, digest, media_type, created_at, storage_key FROM artifacts
         WHERE experiment_uid = $1
           AND ($2::text IS NULL OR path = $2 OR left(path, length($2) + 1) = $2 || '/')
         ORDER BY path",
        &[&uid, &prefix],
    )?;
    Ok(rows
        .iter()
        .map(|r| ArtifactRecord {
            path: r.get(0),
            size: r.get::<_, i64>(1).max(0) as u64,
            digest: r.get(2),
            media_type: r.get(3),
            created_at: micros_to_datetime(r.get(4)),
            storage_key: r.get(5),
        })
        .collect())
}
