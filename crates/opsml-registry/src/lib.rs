//! Card registries: the store and the artifact storage a process uses, and its artifacts.
//!
//! [`open_store`] hands out one store per location per process (SQLite or PostgreSQL from
//! `opsml-store`; an opsml server through `opsml-client` with the feature `remote`) and
//! marks experiments whose process died; [`artifact_storage`] picks where a store's artifact
//! objects go (a server's own storage, else `OPSML_STORAGE_URI`). [`Artifacts`] encrypts,
//! records, verifies and decrypts artifacts with a store and a storage handed to it.
//! [`CardRegistry`] reads and deletes cards. The store's and storage's own types are
//! re-exported for the crates above.

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
