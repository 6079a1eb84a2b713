//! Schema migrations, applied in order and recorded in `PRAGMA user_version`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, StoreError};
use crate::sql::SqliteSql;
use crate::tables::summaries;

const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE experiments (
    uid                 TEXT PRIMARY KEY,
    space               TEXT NOT NULL,
    name                TEXT NOT NULL,
    version             TEXT NOT NULL,
    major               INTEGER NOT NULL,
    minor               INTEGER NOT NULL,
    patch               INTEGER NOT NULL,
    tags                TEXT NOT NULL,
    status              TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    ended_at            INTEGER,
    parent_uid          TEXT,
    compute_environment TEXT NOT NULL,
    opsml_version       TEXT NOT NULL,
    username            TEXT NOT NULL,
    UNIQUE (space, name, major, minor, patch)
);
CREATE INDEX experiments_by_parent ON experiments (parent_uid);
CREATE INDEX experiments_by_created ON experiments (created_at);

CREATE TABLE metric_chunks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    point_count    INTEGER NOT NULL,
    data           BLOB NOT NULL
);
CREATE INDEX metric_chunks_by_experiment ON metric_chunks (experiment_uid, name, id);

CREATE TABLE parameters (
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (experiment_uid, name)
);
",
    r"
ALTER TABLE experiments ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE experiments ADD COLUMN lease TEXT;
ALTER TABLE experiments ADD COLUMN heartbeat_at INTEGER;
CREATE INDEX experiments_by_status ON experiments (status);

CREATE TABLE experiment_keys (
    experiment_uid TEXT PRIMARY KEY REFERENCES experiments (uid) ON DELETE CASCADE,
    wrapped        BLOB NOT NULL
);

CREATE TABLE artifacts (
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    path           TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    storage_key    TEXT NOT NULL,
    PRIMARY KEY (experiment_uid, path)
);

CREATE TABLE hardware_samples (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    timestamp      INTEGER NOT NULL,
    data           TEXT NOT NULL
);
CREATE INDEX hardware_samples_by_experiment ON hardware_samples (experiment_uid, timestamp, id);
",
    // Every process writing to an experiment (ranks resuming it, forked children), so that
    // one of them dying does not make the experiment look dead while others still write.
    r"
CREATE TABLE experiment_writers (
    writer_id      TEXT PRIMARY KEY,
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    lease          TEXT NOT NULL,
    heartbeat_at   INTEGER NOT NULL
);
CREATE INDEX experiment_writers_by_experiment ON experiment_writers (experiment_uid);
",
    // Per-metric summaries maintained by the writer, for listing, searching and comparing
    // without reading points. Filled from the stored points when this migration runs.
    r"
CREATE TABLE metric_summaries (
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    count          INTEGER NOT NULL,
    value_count    INTEGER NOT NULL,
    sum            REAL,
    min            REAL,
    max            REAL,
    mean           REAL,
    first          REAL,
    first_step     INTEGER,
    last           REAL,
    last_step      INTEGER,
    PRIMARY KEY (experiment_uid, name)
);
",
    // Users of an opsml server, what each may do per space, and their access tokens (stored
    // as SHA-256 hashes only).
    r"
CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    admin         INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE space_grants (
    username  TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    space     TEXT NOT NULL,
    can_write INTEGER NOT NULL,
    PRIMARY KEY (username, space)
);
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
",
    // Batches of remote writers (clients of a server) go into blocks of their own and are
    // applied at most once: the writer's last applied sequence number is kept.
    r"
ALTER TABLE metric_chunks ADD COLUMN writer_id TEXT;
CREATE INDEX metric_chunks_by_writer ON metric_chunks (writer_id, name, id);
ALTER TABLE experiment_writers ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
",
    // Artifact records hold a digest keyed by the experiment's data key (see `hashing`), no
    // longer a plain SHA-256; older records keep theirs and are verified as such.
    r"
ALTER TABLE artifacts RENAME COLUMN sha256 TO digest;
",
    // Users can be disabled: they cannot log in and their tokens are not honoured, but they
    // keep their name and grants until enabled again.
    r"
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
",
];

/// The migration that creates `metric_summaries`, after which existing points are summarised.
const METRIC_SUMMARIES_MIGRATION: usize = 3;

/// Brings the schema up to date. Safe with several processes opening a new
/// file at once: the check and the migration run under the write lock. Not
/// rusqlite_migration, which reads the version before its transaction begins (two processes
/// opening a new file would both migrate it) and requires an older rusqlite.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let error = |source| StoreError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let version = |conn: &Connection| -> rusqlite::Result<i64> {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    };
    if version(conn).map_err(error)? >= MIGRATIONS.len() as i64 {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(error)?;
    let current = version(&tx).map_err(error)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql).map_err(error)?;
        if index == METRIC_SUMMARIES_MIGRATION {
            summaries::backfill(&mut SqliteSql::new(&tx, path))?;
        }
        tx.pragma_update(None, "user_version", index as i64 + 1)
            .map_err(error)?;
        tracing::info!(version = index + 1, "applied store migration");
    }
    tx.commit().map_err(error)
}
