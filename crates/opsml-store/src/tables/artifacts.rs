//! Artifact records and wrapped data keys.

use opsml_types::{micros_to_datetime, ArtifactRecord};

use crate::error::Result;
use crate::sql::{params, Begin, Sql};

/// Key space of the locks that make changes to one experiment's artifact records take turns.
const ARTIFACT_LOCK_SPACE: i32 = 0x6f70_7361;

const SELECT_KEY: &str = "SELECT wrapped FROM experiment_keys WHERE experiment_uid = $1";

pub(crate) fn wrapped_key(db: &mut dyn Sql, uid: &str) -> Result<Option<Vec<u8>>> {
    db.query_opt(SELECT_KEY, &params![uid], |row| {
        Ok(row.blob_at(0)?.to_vec())
    })
}

pub(crate) fn holds_wrapped_keys(db: &mut dyn Sql) -> Result<bool> {
    db.query_one(
        "SELECT EXISTS (SELECT 1 FROM experiment_keys)",
        &[],
        |row| row.bool_at(0),
    )
}

/// Stores `wrapped` unless the experiment has a key already; returns the stored key.
pub(crate) fn insert_wrapped_key(db: &mut dyn Sql, uid: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
    db.transaction(Begin::Write, |db| {
        db.execute(
            "INSERT INTO experiment_keys (experiment_uid, wrapped) VALUES ($1, $2)
             ON CONFLICT (experiment_uid) DO NOTHING",
            &params![uid, wrapped],
        )?;
        db.query_one(SELECT_KEY, &params![uid], |row| {
            Ok(row.blob_at(0)?.to_vec())
        })
    })
}

/// Records artifacts; returns the storage keys of the objects they replaced.
pub(crate) fn put(db: &mut dyn Sql, uid: &str, records: &[ArtifactRecord]) -> Result<Vec<String>> {
    db.transaction(Begin::Write, |db| {
        // Records of one experiment change one transaction at a time: two uploads of a new
        // path must not both miss the other's record (the object of the one overwritten
        // would be left behind unrecorded).
        db.take_turns(ARTIFACT_LOCK_SPACE, uid)?;
        let previous = format!(
            "SELECT storage_key FROM artifacts WHERE experiment_uid = $1 AND path = $2{}",
            db.for_update()
        );
        let mut replaced = Vec::new();
        for r in records {
            let old = db.query_opt(&previous, &params![uid, &r.path], |row| row.string_at(0))?;
            replaced.extend(old.filter(|old| *old != r.storage_key));
            db.execute(
                "INSERT INTO artifacts
                     (experiment_uid, path, size, digest, media_type, created_at, storage_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (experiment_uid, path) DO UPDATE SET size = excluded.size,
                     digest = excluded.digest, media_type = excluded.media_type,
                     created_at = excluded.created_at, storage_key = excluded.storage_key",
                &params![
                    uid,
                    &r.path,
                    i64::try_from(r.size).unwrap_or(i64::MAX),
                    &r.digest,
                    &r.media_type,
                    r.created_at.timestamp_micros(),
                    &r.storage_key,
                ],
            )?;
        }
        Ok(replaced)
    })
}

/// Records of the experiment, all or those at `prefix` exactly or under `prefix/`.
pub(crate) fn list(
    db: &mut dyn Sql,
    uid: &str,
    prefix: Option<&str>,
) -> Result<Vec<ArtifactRecord>> {
    db.query_map(
        "SELECT path, size, digest, media_type, created_at, storage_key FROM artifacts
         WHERE experiment_uid = $1
           AND (CAST($2 AS TEXT) IS NULL OR path = $2
                OR substr(path, 1, length($2) + 1) = $2 || '/')
         ORDER BY path",
        &params![uid, prefix],
        |r| {
            Ok(ArtifactRecord {
                path: r.string_at(0)?,
                size: r.count_at(1)?,
                digest: r.string_at(2)?,
                media_type: r.string_at(3)?,
                created_at: micros_to_datetime(r.int_at(4)?),
                storage_key: r.string_at(5)?,
            })
        },
    )
}
