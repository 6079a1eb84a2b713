//! `opsml sync`: stores what runs left behind. For a server, the batches and statuses in the
//! write-ahead directory; for a local store, the batches it refused, kept in its recovery
//! directory.

use std::path::PathBuf;

use opsml_registry::{replay_recovery, spool_dir, sync_spool, HttpStore, SyncReport, TrackingUri};

use crate::context::Context;
use crate::error::{CliError, Result};

pub(super) fn run(context: &mut Context<'_, '_>) -> Result<()> {
    let (report, from, to) = match context.tracking_uri()? {
        TrackingUri::Http(base) => {
            let store = HttpStore::open(&base)?;
            let dir = spool_dir();
            (sync_spool(&store, &dir), dir, base)
        }
        TrackingUri::Sqlite(_) | TrackingUri::Postgres(_) => {
            let store = context.store()?;
            let dir = store.recovery_dir().unwrap_or_else(PathBuf::new);
            (replay_recovery(store.as_ref()), dir, store.location())
        }
    };
    print_report(context, &report, &from, &to)
}

fn print_report(
    context: &mut Context<'_, '_>,
    report: &SyncReport,
    from: &std::path::Path,
    to: &str,
) -> Result<()> {
    let out = &mut *context.out;
    let _ = writeln!(
        out,
        "sent {} batch(es) and {} status(es) from {} to {to}",
        report.batches_sent,
        report.statuses_sent,
        from.display()
    );
    if report.experiments_delivered > 0 {
        let _ = writeln!(
            out,
            "created or completed {} experiment(s) started or logged while the server was down",
            report.experiments_delivered
        );
    }
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
