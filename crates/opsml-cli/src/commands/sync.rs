//! `opsml sync`: sends what runs left in the write-ahead directory to the server.

use opsml_registry::{spool_dir, sync_spool, HttpStore, TrackingUri};

use crate::context::Context;
use crate::error::{CliError, Result};

pub fn run(context: &mut Context<'_, '_>) -> Result<()> {
    let base = match context.tracking_uri()? {
        TrackingUri::Http(base) => base,
        TrackingUri::Sqlite(path) => return Err(CliError::NotAServer(path.display().to_string())),
        TrackingUri::Postgres(_) => {
            return Err(CliError::NotAServer("a PostgreSQL database".to_owned()))
        }
    };
    let store = HttpStore::open(&base)?;
    let dir = spool_dir();
    let report = sync_spool(&store, &dir)?;
    let out = &mut *context.out;
    let _ = writeln!(
        out,
        "sent {} batch(es) and {} status(es) from {} to {base}",
        report.batches_sent,
        report.statuses_sent,
        dir.display()
    );
    for path in &report.busy {
        let _ = writeln!(out, "left {} to the run still writing it", path.display());
    }
    if report.failed.is_empty() {
        return Ok(());
    }
    for (path, why) in &report.failed {
        let _ = writeln!(context.err, "opsml: {}: {why}", path.display());
    }
    Err(CliError::SyncIncomplete(report.failed.len()))
}
