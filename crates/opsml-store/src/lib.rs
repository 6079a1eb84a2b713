//! The stores of experiment records: the [`Store`] trait, an embedded SQLite file
//! ([`SqliteStore`]) and PostgreSQL ([`PostgresStore`]), named by a [`TrackingUri`].
//!
//! Metric points are stored in columnar chunks: per (experiment, metric), blocks
//! of up to [`CHUNK_POINTS`] points packed into one blob, the open tail block
//! rewritten at each flush. Writing a million points is a few hundred row writes
//! and reading them back a few hundred blob reads.

mod accounts;
mod append;
mod batch_summary;
mod chunk;
mod database;
mod error;
mod fork_gate;
mod lease;
mod open_blocks;
mod pg;
mod spool_dir;
mod sql;
mod sqlite;
mod statements;
mod store;
mod stored;
mod tables;
mod uri;

pub use accounts::{Access, AccountStore, TokenOwner, UserChange, UserRecord, UserSummary};
pub use append::{RemoteWriter, REOPEN_BELOW};
pub use chunk::CHUNK_POINTS;
pub use error::{Result, StoreError};
pub use fork_gate::{after_fork_in_child, after_fork_in_parent, before_fork};
pub use lease::{Lease, HEARTBEAT_INTERVAL, STALE_AFTER};
pub use pg::PostgresStore;
pub use spool_dir::{spool_dir, SPOOL_DIR_ENV};
pub use sqlite::SqliteStore;
pub use store::{
    CardQuery, ExperimentWriter, NewExperiment, PointRecord, RunningExperiment, SearchQuery, Store,
    TableCells, WriteBatch, WriterLease,
};
pub use uri::{TrackingUri, TRACKING_URI_ENV};
