//! Logging and downloading artifacts: single files, directory trees (many
//! files at once on the runtime), and verified downloads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use opsml_registry::{Artifacts, RegistryError};
use opsml_types::{normalize_artifact_path, ArtifactRecord};

use crate::runtime::parallel_map;
use crate::Result;

/// Files uploaded or downloaded at the same time.
const PARALLEL_FILES: usize = 8;

/// Regular files under `dir` (following symbolic links to files, not to
/// directories), with their paths relative to `dir` using `/`.
///
/// A link to a file outside `dir` is followed, as copying the directory would (a
/// `best.pt` pointing at a checkpoint elsewhere is logged), and named in a warning: whoever
/// could write into the directory could have planted it to have another file stored.
pub(crate) fn files_under(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let metadata = std::fs::metadata(dir).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            RegistryError::LocalPathNotFound(dir.to_owned())
        } else {
            RegistryError::LocalIo {
                path: dir.to_owned(),
                source,
            }
        }
    })?;
    if !metadata.is_dir() {
        return Err(RegistryError::NotADirectory(dir.to_owned()).into());
    }
    let root = std::fs::canonicalize(dir).map_err(|source| RegistryError::LocalIo {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    let mut outside = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| RegistryError::LocalIo {
            path: e.path().unwrap_or(dir).to_owned(),
            source: e.into(),
        })?;
        let is_file = if entry.path_is_symlink() {
            let is_file = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
            let target = std::fs::canonicalize(entry.path());
            if is_file && target.as_ref().is_ok_and(|t| !t.starts_with(&root)) {
                outside.push(format!(
                    "{} -> {}",
                    entry.path().display(),
                    target
                        .as_ref()
                        .map_or(String::new(), |t| t.display().to_string())
                ));
            }
            is_file
        } else {
            entry.file_type().is_file()
        };
        if !is_file {
            continue;
        }
        #[allow(clippy::expect_used, reason = "walked paths are under the root")]
        let relative = entry
            .path()
            .strip_prefix(dir)
            .expect("walked paths are under the root")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        files.push((entry.path().to_owned(), relative));
    }
    if !outside.is_empty() {
        tracing::warn!(
            directory = %dir.display(),
            links = %outside.join(", "),
            "logged files that symbolic links point at outside the directory"
        );
    }
    Ok(files)
}

/// Joins an optional remote prefix and a relative path, normalised.
pub(crate) fn remote_join(prefix: Option<&str>, relative: &str) -> Result<String> {
    let joined = match prefix {
        Some(prefix) => format!("{prefix}/{relative}"),
        None => relative.to_owned(),
    };
    Ok(normalize_artifact_path(&joined)?)
}

/// Stores many local files (local path, normalised remote path) and records
/// them in one transaction. Nothing is recorded if any file fails.
pub(crate) fn upload_files(
    artifacts: &Artifacts,
    uid: &str,
    files: Vec<(PathBuf, String)>,
) -> Result<Vec<ArtifactRecord>> {
    let key = Arc::new(artifacts.data_key(uid)?);
    let (worker, owner) = (artifacts.clone(), uid.to_owned());
    let results = parallel_map(files, PARALLEL_FILES, move |(local, remote)| {
        worker.upload(&owner, &key, &local, &remote)
    });
    let (mut records, mut failure) = (Vec::with_capacity(results.len()), None);
    for result in results {
        match result {
            Ok(record) => records.push(record),
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    let recorded = match failure {
        Some(e) => Err(e),
        None => artifacts.record(uid, &records),
    };
    if let Err(e) = recorded {
        // All or nothing: what was uploaded is not recorded, so remove it.
        let uploaded: Vec<String> = records.into_iter().map(|r| r.storage_key).collect();
        artifacts.discard(&uploaded);
        return Err(e.into());
    }
    Ok(records)
}

/// Stores a directory tree under `rpath` (default: the artifact root); `before_upload` sees
/// the files (local path, remote path) first.
pub fn log_directory(
    artifacts: &Artifacts,
    uid: &str,
    dir: &Path,
    rpath: Option<&str>,
    before_upload: impl FnOnce(&[(PathBuf, String)]),
) -> Result<Vec<ArtifactRecord>> {
    let prefix = rpath.map(normalize_artifact_path).transpose()?;
    let files = files_under(dir)?
        .into_iter()
        .map(|(local, relative)| Ok((local, remote_join(prefix.as_deref(), &relative)?)))
        .collect::<Result<Vec<_>>>()?;
    before_upload(&files);
    upload_files(artifacts, uid, files)
}

/// Restores the experiment's artifacts at or under `path` (all when `None`)
/// into `destination`, keeping their remote paths; returns the files written.
pub fn download_artifacts(
    artifacts: &Artifacts,
    uid: &str,
    path: Option<&str>,
    destination: &Path,
) -> Result<Vec<PathBuf>> {
    let records = artifacts.list(uid, path)?;
    if records.is_empty() {
        return match path {
            Some(path) => Err(RegistryError::ArtifactNotFound {
                uid: uid.to_owned(),
                path: path.to_owned(),
            }
            .into()),
            None => Ok(Vec::new()),
        };
    }
    let key = Arc::new(artifacts.stored_data_key(uid)?);
    let (worker, root) = (artifacts.clone(), destination.to_owned());
    let results = parallel_map(records, PARALLEL_FILES, move |record| {
        let dest = root.join(&record.path);
        worker.download(&key, &record, &dest).map(|()| dest)
    });
    Ok(results.into_iter().collect::<Result<Vec<_>, _>>()?)
}

/// The artifact at `path`, or, for a bare file name, the one artifact of that name in any
/// folder (`data_0.pkl` finds `folder_0/data_0.pkl`); several of that name are an error that
/// lists them.
fn find_artifact(artifacts: &Artifacts, uid: &str, path: &str) -> Result<ArtifactRecord> {
    let not_found = || RegistryError::ArtifactNotFound {
        uid: uid.to_owned(),
        path: path.to_owned(),
    };
    if let Some(record) = artifacts
        .list(uid, Some(path))?
        .into_iter()
        .find(|r| r.path == path)
    {
        return Ok(record);
    }
    if path.contains('/') {
        return Err(not_found().into());
    }
    let mut named: Vec<ArtifactRecord> = artifacts
        .list(uid, None)?
        .into_iter()
        .filter(|r| r.path.rsplit('/').next() == Some(path))
        .collect();
    match named.len() {
        0 => Err(not_found().into()),
        1 => Ok(named.remove(0)),
        _ => Err(RegistryError::ArtifactAmbiguous {
            uid: uid.to_owned(),
            name: path.to_owned(),
            paths: named.into_iter().map(|r| r.path).collect(),
        }
        .into()),
    }
}

/// Restores one artifact (`path`, or a bare file name found in any folder) to
/// `destination`: a directory (existing, or given with a trailing separator) receives the
/// file under its name, anything else is the file to write. Default: `./artifacts/<path>`.
pub fn download_artifact(
    artifacts: &Artifacts,
    uid: &str,
    path: &str,
    destination: Option<&Path>,
) -> Result<PathBuf> {
    let path = normalize_artifact_path(path)?;
    let record = find_artifact(artifacts, uid, &path)?;
    let path = record.path.clone();
    let file_name = path.rsplit('/').next().unwrap_or(&path);
    let dest = match destination {
        None => Path::new("artifacts").join(&path),
        Some(d) if d.is_dir() || d.as_os_str().to_string_lossy().ends_with(['/', '\\']) => {
            d.join(file_name)
        }
        Some(d) => d.to_owned(),
    };
    let key = artifacts.stored_data_key(uid)?;
    artifacts.download(&key, &record, &dest)?;
    Ok(dest)
}
