//! Artifact records and wrapped data keys.

use opsml_types::{micros_to_datetime, ArtifactRecord};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

pub(super) fn wrapped_key(conn: &Connection, uid: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT wrapped FROM experiment_keys WHERE experiment_uid = ?1",
        [uid],
        |r| r.get(0),
    )
    .optional()
}

/// Stores `wrapped` unless the experiment has a key already; returns the stored key.
pub(super) fn insert_wrapped_key(
    conn: &mut Connection,
    uid: &str,
    wrapped: &[u8],
) -> rusqlite::Result<Vec<u8>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO experiment_keys (experiment_uid, wrapped) VALUES (?1, ?2)
         ON CONFLICT (experiment_uid) DO NOTHING",
        params![uid, wrapped],
    )?;
    let stored = tx.query_row(
        "SELECT wrapped FROM experiment_keys WHERE experiment_uid = ?1",
        [uid],
        |r| r.get(0),
    )?;
    tx.commit()?;
    Ok(stored)
}

/// Records artifacts; returns the storage keys of the objects they replaced.
pub(super) fn put(
    conn: &mut Connection,
    uid: &str,
    records: &[ArtifactRecord],
) -> rusqlite::Result<Vec<String>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut replaced = Vec::new();
    {
        let mut previous = tx.prepare_cached(
            "SELECT storage_key FROM artifacts WHERE experiment_uid = ?1 AND path = ?2",
        )?;
        let mut upsert = tx.prepare_cached(
            "INSERT INTO artifacts
                 (experiment_uid, path, size, digest, media_type, created_at, storage_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (experiment_uid, path) DO UPDATE SET size = excluded.size,
                 digest = excluded.digest, media_type = excluded.media_type,
                 created_at = excluded.created_at, storage_key = excluded.storage_key",
        )?;
        for r in records {
            if let Some(old) = previous
                .query_row(params![uid, r.path], |row| row.get::<_, String>(0))
                .optional()?
            {
                if old != r.storage_key {
                    replaced.push(old);
                }
            }
            upsert.execute(params![
                uid,
                r.path,
                i64::try_from(r.size).unwrap_or(i64::MAX),
                r.digest,
                r.media_type,
                r.created_at.timestamp_micros(),
                r.storage_key,
            ])?;
        }
    }
    tx.commit()?;
    Ok(replaced)
}

/// Records of the experiment, all or those at `prefix` exactly or under `prefix/`.
pub(super) fn list(
    conn: &Connection,
    uid: &str,
    prefix: Option<&str>,
) -> rusqlite::Result<Vec<ArtifactRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, size, digest, media_type, created_at, storage_key FROM artifacts
         WHERE experiment_uid = ?1
           AND (?2 IS NULL OR path = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '/')
         ORDER BY path",
    )?;
    let rows = stmt.query_map(params![uid, prefix], |r| {
        Ok(ArtifactRecord {
            path: r.get(0)?,
            size: r.get::<_, i64>(1)?.max(0) as u64,
            digest: r.get(2)?,
            media_type: r.get(3)?,
            created_at: micros_to_datetime(r.get(4)?),
            storage_key: r.get(5)?,
        })
    })?;
    rows.collect()
}
