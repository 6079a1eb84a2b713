//! The store of an opsml server reached over HTTP ([`HttpStore`]): the same `Store` as the
//! embedded ones, with its write-ahead spool, the outbox of what waits for a server that does
//! not answer, direct uploads into the server's storage, `opsml sync`, and the recovery files
//! of batches any store refused.

mod client;
mod direct;
mod http_store;
mod outbox;
mod recovery;
mod spool;
mod storage;
mod sync;
mod writer;

pub use client::{PASSWORD_ENV, USERNAME_ENV};
pub use http_store::HttpStore;
pub use recovery::{forget_kept_status, replay_recovery, KeptCounts, RecoveryFile};
pub use sync::{sync_spool, SyncReport};
pub use writer::SHIP_TIMEOUT_ENV;
