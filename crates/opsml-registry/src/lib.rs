//! Card registries and the stores that hold them.
//!
//! A [`Store`] keeps experiment cards, metric points and parameters. The
//! embedded default is a SQLite file ([`SqliteStore`]); other backends implement
//! the same trait, so the experiment crate never needs to know which one it
//! talks to. [`open_store`] hands out one store per location per process.
//!
//! Metric points are stored in columnar chunks: per (experiment, metric), blocks
//! of up to [`CHUNK_POINTS`] points packed into one blob, the open tail block
//! rewritten at each flush. Writing a million points is a few hundred row writes
//! and reading them back a few hundred blob reads.

mod artifacts;
mod error;
mod process;
mod registry;
mod stores;

pub use artifacts::{experiment_prefix, master_key, Artifacts, KeyUse, MASTER_SECRET_ENV};
pub use error::{RegistryError, Result};
#[cfg(feature = "remote")]
pub use opsml_client::{
    forget_kept_status, replay_recovery, sync_spool, HttpStore, KeptCounts, RecoveryFile,
    SyncReport, PASSWORD_ENV, SHIP_TIMEOUT_ENV, USERNAME_ENV,
};
pub use opsml_process::{fork_generation, reset_after_fork, runtime};
pub use opsml_storage::{
    ArtifactStorage, LocalStorage, S3Storage, SignedUploads, StorageError, StorageUri,
    StreamReader, DEFAULT_PART_BYTES, MAX_UPLOAD_PARTS, MIN_PART_BYTES, STORAGE_URI_ENV,
};
pub use opsml_store::{
    after_fork_in_parent, before_fork, Access, AccountStore, CardQuery, ExperimentWriter, Lease,
    NewExperiment, PointRecord, PostgresStore, RemoteWriter, RunningExperiment, SearchQuery,
    SqliteStore, Store, StoreError, TableCells, TokenOwner, TrackingUri, UserChange, UserRecord,
    UserSummary, WriteBatch, WriterLease, CHUNK_POINTS, HEARTBEAT_INTERVAL, REOPEN_BELOW,
    STALE_AFTER, TRACKING_URI_ENV,
};
pub use opsml_store::{spool_dir, SPOOL_DIR_ENV};
pub use process::after_fork_in_child;
pub use registry::{CardRegistries, CardRegistry};
pub use stores::{
    artifact_storage, default_store, mark_dead_experiments_killed, open_account_store, open_store,
    reopen,
};
