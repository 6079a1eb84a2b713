//! Logging from a forked child (a data-loader worker, a `multiprocessing` process started by
//! fork) through the experiment object it inherited.
//!
//! The parent's queue, writer task and store connections stay the parent's: the child may not
//! touch them (a lock may have been held by a thread that does not exist in the child, and
//! SQLite connections must not cross a fork), and the points waiting in the copied queue are
//! written by the parent, never twice. On its first logging call the child opens a writer of
//! its own on fresh connections, as a resumed experiment does; it stores what the child logs
//! and is drained when the child ends the experiment object or exits. The status and the
//! lease stay with the parent.

use std::sync::Arc;
use std::time::Duration;

use opsml_registry::{Artifacts, Store};

use crate::pipeline::Pipeline;
use crate::Result;

/// The writer of a forked child.
pub(crate) struct ForkedWriter {
    pub(crate) pipeline: Pipeline,
    pub(crate) artifacts: Artifacts,
}

impl ForkedWriter {
    pub(crate) fn open(
        store: &Arc<dyn Store>,
        artifacts: &Artifacts,
        uid: &str,
        flush_interval: Duration,
        queue_capacity: usize,
    ) -> Result<Self> {
        let store = opsml_registry::reopen(store.as_ref())?;
        let pipeline = Pipeline::open(store.as_ref(), uid, flush_interval, queue_capacity)?;
        tracing::debug!(uid, "a forked child logs through its own writer");
        Ok(Self {
            pipeline,
            artifacts: artifacts.with_store(store)?,
        })
    }
}
