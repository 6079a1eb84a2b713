//! Schema migrations of the PostgreSQL store, applied in order and recorded in
//! `opsml_schema`. The tables mirror the SQLite store's; text that is sorted or compared
//! (names, spaces, paths) uses the "C" collation, so orders are bytewise as in SQLite.

use postgres::Client;

use crate::error::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE experiments (
    uid                 TEXT PRIMARY KEY,
    space               TEXT COLLATE "C" NOT NULL,
    name                TEXT COLLATE "C" NOT NULL,
    version             TEXT NOT NULL,
    major               BIGINT NOT NULL,
    minor               BIGINT NOT NULL,
    patch               BIGINT NOT NULL,
    tags                TEXT NOT NULL,
    status              TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    ended_at            BIGINT,
    parent_uid          TEXT,
    compute_environment TEXT NOT NULL,
    opsml_version       TEXT NOT NULL,
    username            TEXT COLLATE "C" NOT NULL,
    metadata            TEXT NOT NULL DEFAULT '{}',
    lease               TEXT,
    heartbeat_at        BIGINT,
    UNIQUE (space, name, major, minor, patch)
);
CREATE INDEX experiments_by_parent ON experiments (parent_uid);
CREATE INDEX experiments_by_created ON experiments (created_at);
CREATE INDEX experiments_by_status ON experiments (status);

CREATE TABLE metric_chunks (
    id             BIGSERIAL PRIMARY KEY,
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    point_count    BIGINT NOT NULL,
    data           BYTEA NOT NULL
);
CREATE INDEX metric_chunks_by_experiment ON metric_chunks (experiment_uid, name, id);

CREATE TABLE parameters (
    id             BIGSERIAL NOT NULL,
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    kind           TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (experiment_uid, name)
);

CREATE TABLE experiment_keys (
    experiment_uid TEXT PRIMARY KEY REFERENCES experiments (uid) ON DELETE CASCADE,
    wrapped        BYTEA NOT NULL
);

CREATE TABLE artifacts (
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    path           TEXT COLLATE "C" NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    storage_key    TEXT NOT NULL,
    PRIMARY KEY (experiment_uid, path)
);

CREATE TABLE hardware_samples (
    id             BIGSERIAL PRIMARY KEY,
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    timestamp      BIGINT NOT NULL,
    data           TEXT NOT NULL
);
CREATE INDEX hardware_samples_by_experiment ON hardware_samples (experiment_uid, timestamp, id);

CREATE TABLE experiment_writers (
    writer_id      TEXT PRIMARY KEY,
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    lease          TEXT NOT NULL,
    heartbeat_at   BIGINT NOT NULL
);
CREATE INDEX experiment_writers_by_experiment ON experiment_writers (experiment_uid);

CREATE TABLE metric_summaries (
    experiment_uid TEXT NOT NULL REFERENCES experiments (uid) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    count          BIGINT NOT NULL,
    value_count    BIGINT NOT NULL,
    sum            DOUBLE PRECISION,
    min            DOUBLE PRECISION,
    max            DOUBLE PRECISION,
    mean           DOUBLE PRECISION,
    first          DOUBLE PRECISION,
    first_step     BIGINT,
    last           DOUBLE PRECISION,
    last_step      BIGINT,
    PRIMARY KEY (experiment_uid, name)
);
"#,
    // Users of an opsml server, what each may do per space, and their access tokens (stored
    // as SHA-256 hashes only).
    r#"
CREATE TABLE users (
    username      TEXT COLLATE "C" PRIMARY KEY,
    password_hash TEXT NOT NULL,
    admin         BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE TABLE space_grants (
    username  TEXT COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    space     TEXT COLLATE "C" NOT NULL,
    can_write BOOLEAN NOT NULL,
    PRIMARY KEY (username, space)
);
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    username   TEXT COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
"#,
    // Batches of remote writers (clients of a server) go into blocks of their own and are
    // applied at most once: the writer's last applied sequence number is kept.
    r"
ALTER TABLE metric_chunks ADD COLUMN writer_id TEXT;
CREATE INDEX metric_chunks_by_writer ON metric_chunks (writer_id, name, id);
ALTER TABLE experiment_writers ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
",
    // Metric blocks are stored out of line without compression: their floats do not
    // compress, and trying to (pglz, on every insert and tail rewrite) cost more CPU than the
    // rest of a write.
    r"
ALTER TABLE metric_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
",
    // Artifact records hold a digest keyed by the experiment's data key (see `hashing`), no
    // longer a plain SHA-256; older records keep theirs and are verified as such.
    r"
ALTER TABLE artifacts RENAME COLUMN sha256 TO digest;
",
    // Users can be disabled: they cannot log in and their tokens are not honoured, but they
    // keep their name and grants until enabled again.
    r"
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
",
];

/// Key of the advisory lock that serialises migrations across processes and servers.
const MIGRATION_LOCK: i64 = 0x6f70_736d_6c00_0001;

/// Brings the schema up to date. Several processes may start on a new database at once:
/// the check and the migrations run under a transaction-scoped advisory lock. Not refinery:
/// its history table would first need seeding in every existing database from
/// `opsml_schema`, for what is here one version row and one lock.
pub(super) fn migrate(client: &mut Client, location: &str) -> Result<()> {
    let run = |client: &mut Client| -> std::result::Result<(), postgres::Error> {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS opsml_schema (version BIGINT NOT NULL)")?;
        let current: i64 = tx
            .query_opt("SELECT version FROM opsml_schema", &[])?
            .map_or(0, |row| row.get(0));
        if current == 0 {
            tx.execute("INSERT INTO opsml_schema (version) VALUES (0)", &[])?;
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            tx.batch_execute(sql)?;
            let version = index as i64 + 1;
            tx.execute("UPDATE opsml_schema SET version = $1", &[&version])?;
            tracing::info!(version, "applied store migration");
        }
        tx.commit()
    };
    run(client).map_err(|source| StoreError::Postgres {
        location: location.to_owned(),
        source,
    })
}
