//! `opsml experiments download`: an experiment's artifacts into a local directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use opsml_crypt::DataKey;
use opsml_registry::{master_key, Artifacts, KeyUse, RegistryError};
use opsml_types::{normalize_artifact_path, ArtifactRecord};

use crate::args::DownloadArgs;
use crate::context::{check_master_key, load_card, Context};
use crate::error::Result;

/// Files downloaded at the same time.
const PARALLEL_FILES: usize = 4;

pub(super) fn run(context: &mut Context<'_, '_>, args: &DownloadArgs) -> Result<()> {
    let store = context.store()?;
    let uid = args.uid.as_str();
    load_card(store.as_ref(), uid)?;
    let prefix = args
        .path
        .as_deref()
        .map(normalize_artifact_path)
        .transpose()
        .map_err(RegistryError::from)?;
    let records = store.list_artifacts(uid, prefix.as_deref())?;
    if records.is_empty() {
        if let Some(path) = &args.path {
            return Err(RegistryError::ArtifactNotFound {
                uid: uid.to_owned(),
                path: path.clone(),
            }
            .into());
        }
        let _ = writeln!(context.err, "experiment {uid} has no artifacts");
        return Ok(());
    }
    check_master_key(store.as_ref())?;
    let master = master_key(store.as_ref(), KeyUse::Read)?;
    let storage = context.storage(store.as_ref())?;
    let artifacts = Artifacts::new(store, storage, master);
    let key = artifacts.stored_data_key(uid)?;
    let total = records.iter().map(|r| r.size).sum();
    let bar = progress_bar(context.console.stderr_is_terminal, total);
    let written = download_all(&artifacts, &key, &records, &args.output, &bar);
    bar.finish_and_clear();
    for path in written? {
        writeln!(context.out, "{}", path.display())?;
    }
    Ok(())
}

/// A bar over the bytes to download, drawn on standard error only when it is a terminal.
fn progress_bar(terminal: bool, total_bytes: u64) -> ProgressBar {
    if !terminal {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {bytes:>10}/{total_bytes:<10} {eta:>4} {wide_msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Downloads every record into `root` (keeping its path), a few at a time, and
/// returns the files written in the order of `records`. Stops at the first failure;
/// files already verified and written stay.
#[allow(
    clippy::expect_used,
    reason = "a worker's panic goes on in this thread, as it would have without workers"
)]
fn download_all(
    artifacts: &Artifacts,
    key: &DataKey,
    records: &[ArtifactRecord],
    root: &Path,
    bar: &ProgressBar,
) -> Result<Vec<PathBuf>> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(record) = records.get(index) else {
                break;
            };
            bar.set_message(opsml_types::printable(&record.path).into_owned());
            let dest = root.join(&record.path);
            let result = artifacts.download(key, record, &dest).map(|()| dest);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            bar.inc(record.size);
            done.push((index, result));
        }
        done
    };
    let mut results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..PARALLEL_FILES.min(records.len()))
            .map(|_| scope.spawn(worker))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a download worker panicked"))
            .collect()
    });
    results.sort_by_key(|(index, _)| *index);
    Ok(results
        .into_iter()
        .map(|(_, result)| result)
        .collect::<Result<Vec<_>, _>>()?)
}
