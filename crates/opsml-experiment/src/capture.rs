//! What is recorded about an experiment's code and environment in the
//! background after it starts: git state, the code itself, and the installed
//! Python packages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use opsml_registry::{Artifacts, StorageUri};
use opsml_types::{CodeCapture, ExperimentMetadata, GitInfo};

use crate::artifacts::{remote_join, upload_files};
use crate::Result;

/// Largest file stored by code capture unless `OPSML_CODE_MAX_FILE_BYTES` says otherwise.
pub const DEFAULT_CODE_MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;
pub(crate) use opsml_types::{CODE_PREFIX, REQUIREMENTS_PATH};

/// Directories never captured as code.
const SKIPPED_DIRECTORIES: &[&str] = &[
    ".git",
    "__pycache__",
    ".venv",
    "venv",
    "node_modules",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "opsml_registries",
];

static GIT_CACHE: OnceLock<Mutex<HashMap<PathBuf, Option<GitInfo>>>> = OnceLock::new();
static REQUIREMENTS_CACHE: OnceLock<Mutex<HashMap<Vec<PathBuf>, Arc<String>>>> = OnceLock::new();

/// Empties the caches in a forked child (a parent thread may have held them).
pub(crate) fn reset_after_fork() {
    if let Some(cache) = GIT_CACHE.get() {
        opsml_registry::reset_after_fork(cache);
    }
    if let Some(cache) = REQUIREMENTS_CACHE.get() {
        opsml_registry::reset_after_fork(cache);
    }
}

/// Code that started an experiment without being a file: the cells a notebook ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSource {
    /// The file name it is stored under, in `code/`.
    pub name: String,
    /// Where it came from, as `card.code.root` shows it.
    pub origin: String,
    pub text: String,
}

/// What to capture.
#[derive(Debug, Clone, Default)]
pub(crate) struct CapturePlan {
    /// A directory to store under `code/`.
    pub code_dir: Option<PathBuf>,
    /// Otherwise, the script that started the experiment.
    pub script: Option<PathBuf>,
    /// Otherwise, the source that started it, without a file of its own.
    pub script_source: Option<ScriptSource>,
    /// Directories searched for installed Python packages (`sys.path`).
    pub python_paths: Vec<PathBuf>,
    /// Files never to capture (the store's own files).
    pub excluded: Vec<PathBuf>,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Drops user name and password from a remote URL (`https://user:token@host/x`).
pub(crate) fn strip_credentials(remote: &str) -> String {
    match url::Url::parse(remote) {
        Ok(mut url)
            if url.has_host() && (!url.username().is_empty() || url.password().is_some()) =>
        {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => remote.to_owned(),
    }
}

/// Git state of the repository containing `dir`, read once per directory per
/// process: experiments of one process (a sweep) run the same code.
pub(crate) fn git_info_cached(dir: &Path) -> Option<GitInfo> {
    let cache = GIT_CACHE.get_or_init(Mutex::default);
    if let Some(info) = cache.lock().get(dir) {
        return info.clone();
    }
    let info = git_info(dir);
    cache.lock().insert(dir.to_owned(), info.clone());
    info
}

/// Git state of the repository containing `dir`, if any.
pub(crate) fn git_info(dir: &Path) -> Option<GitInfo> {
    let commit = git(dir, &["rev-parse", "HEAD"])?;
    let branch = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD");
    let dirty =
        git(dir, &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let remote_url =
        git(dir, &["config", "--get", "remote.origin.url"]).map(|r| strip_credentials(&r));
    Some(GitInfo {
        commit,
        branch,
        dirty,
        remote_url,
    })
}

fn max_file_bytes() -> u64 {
    std::env::var("OPSML_CODE_MAX_FILE_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CODE_MAX_FILE_BYTES)
}

/// Files of `dir` to store as code, honouring `.gitignore`, and those left out for size.
pub(crate) fn code_files(
    dir: &Path,
    excluded: &[PathBuf],
    max_bytes: u64,
) -> (Vec<(PathBuf, String)>, Vec<String>) {
    let excluded: Vec<PathBuf> = excluded
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(std::ffi::OsStr::cmp)
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !(is_dir
                && (SKIPPED_DIRECTORIES.contains(&name.as_ref())
                    || entry.path().join("pyvenv.cfg").exists()))
        })
        .build();
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        if std::fs::canonicalize(path).is_ok_and(|c| excluded.iter().any(|e| c.starts_with(e))) {
            continue;
        }
        let relative = path
            .strip_prefix(dir)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        match entry.metadata() {
            Ok(m) if m.len() > max_bytes => skipped.push(relative),
            Ok(_) => files.push((path.to_owned(), relative)),
            Err(_) => {}
        }
    }
    (files, skipped)
}

/// The `requirements.txt` text for `paths`, listed once per process.
fn requirements_cached(paths: &[PathBuf]) -> Arc<String> {
    let cache = REQUIREMENTS_CACHE.get_or_init(Mutex::default);
    if let Some(text) = cache.lock().get(paths) {
        return Arc::clone(text);
    }
    let mut text = installed_packages(paths).join("\n");
    text.push('\n');
    let text = Arc::new(text);
    cache.lock().insert(paths.to_vec(), Arc::clone(&text));
    text
}

/// `name==version` of every package installed in `paths`, first one wins, sorted.
// Read from the `.dist-info` folder names rather than through Python's `importlib.metadata`:
// it runs on the capture thread without the GIL, and listing every distribution through
// Python would cost tens of milliseconds on the thread that starts the experiment.
pub(crate) fn installed_packages(paths: &[PathBuf]) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::new();
    for dir in paths {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let name = file_name.to_string_lossy();
            let Some(stem) = name
                .strip_suffix(".dist-info")
                .or_else(|| name.strip_suffix(".egg-info"))
            else {
                continue;
            };
            // `name-version[-pyX.Y]`: the project name has its dashes escaped.
            let mut parts = stem.splitn(3, '-');
            let (Some(project), Some(version)) = (parts.next(), parts.next()) else {
                continue;
            };
            let key = project.to_ascii_lowercase().replace(['_', '.'], "-");
            seen.entry(key)
                .or_insert_with(|| format!("{project}=={version}"));
        }
    }
    seen.into_values().collect()
}

/// Records git state, stores code and the package list; returns what to save
/// on the card. Failures are logged and leave the field out: capture never
/// fails an experiment.
pub(crate) fn capture(artifacts: &Artifacts, uid: &str, plan: &CapturePlan) -> ExperimentMetadata {
    let root = plan
        .code_dir
        .clone()
        .or_else(|| {
            plan.script
                .as_ref()
                .and_then(|s| s.parent().map(Path::to_owned))
        })
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let git = git_info_cached(&root);
    let code = match store_code(artifacts, uid, plan) {
        Ok(code) => code,
        Err(e) => {
            tracing::warn!(uid, error = %e, "code capture failed");
            None
        }
    };
    if !plan.python_paths.is_empty() {
        let listing = requirements_cached(&plan.python_paths);
        if let Err(e) = artifacts.log_bytes(uid, REQUIREMENTS_PATH, listing.as_bytes()) {
            tracing::warn!(uid, error = %e, "storing the package list failed");
        }
    }
    ExperimentMetadata {
        git,
        code,
        ..ExperimentMetadata::default()
    }
}

fn store_code(artifacts: &Artifacts, uid: &str, plan: &CapturePlan) -> Result<Option<CodeCapture>> {
    let mut excluded = plan.excluded.clone();
    if let Ok(StorageUri::Local(root)) = StorageUri::from_env() {
        excluded.push(root);
    }
    let (root, files, skipped) = if let Some(dir) = &plan.code_dir {
        let (files, skipped) = code_files(dir, &excluded, max_file_bytes());
        (dir.clone(), files, skipped)
    } else if let Some(script) = plan.script.as_ref().filter(|s| s.is_file()) {
        let name = script
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let size = std::fs::metadata(script).map_or(0, |m| m.len());
        if size > max_file_bytes() {
            (script.clone(), Vec::new(), vec![name])
        } else {
            (script.clone(), vec![(script.clone(), name)], Vec::new())
        }
    } else if let Some(source) = &plan.script_source {
        let record = artifacts.log_bytes(
            uid,
            &remote_join(Some(CODE_PREFIX), &source.name)?,
            source.text.as_bytes(),
        )?;
        return Ok(Some(CodeCapture {
            root: source.origin.clone(),
            files: 1,
            bytes: record.size,
            skipped: Vec::new(),
        }));
    } else {
        tracing::info!(
            uid,
            "no script file to capture (interactive session or notebook)"
        );
        return Ok(None);
    };
    let files = files
        .into_iter()
        .map(|(local, relative)| Ok((local, remote_join(Some(CODE_PREFIX), &relative)?)))
        .collect::<Result<Vec<_>>>()?;
    let records = upload_files(artifacts, uid, files)?;
    Ok(Some(CodeCapture {
        root: root.display().to_string(),
        files: records.len(),
        bytes: records.iter().map(|r| r.size).sum(),
        skipped,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped_from_remote_urls() {
        assert_eq!(
            strip_credentials("https://user:token@github.com/org/repo.git"),
            "https://github.com/org/repo.git"
        );
        assert_eq!(
            strip_credentials("https://oauth2:abc@gitlab.com/x.git"),
            "https://gitlab.com/x.git"
        );
        assert_eq!(
            strip_credentials("git@github.com:org/repo.git"),
            "git@github.com:org/repo.git"
        );
        assert_eq!(
            strip_credentials("https://github.com/org/repo.git"),
            "https://github.com/org/repo.git"
        );
    }

    #[test]
    fn package_names_come_from_metadata_directories() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "numpy-2.4.6.dist-info",
            "typing_extensions-4.12.0.dist-info",
            "old_pkg-1.0-py3.11.egg-info",
            "not-metadata",
        ] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        let shadowed = tempfile::tempdir().unwrap();
        std::fs::create_dir(shadowed.path().join("numpy-1.0.0.dist-info")).unwrap();
        let packages = installed_packages(&[dir.path().to_owned(), shadowed.path().to_owned()]);
        assert_eq!(
            packages,
            ["numpy==2.4.6", "old_pkg==1.0", "typing_extensions==4.12.0"]
        );
    }

    #[test]
    fn code_files_honour_gitignore_skip_tool_directories_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join(".gitignore"), "*.log\nignored/\n").unwrap();
        std::fs::write(root.join("train.py"), "print('hi')").unwrap();
        std::fs::write(root.join("run.log"), "noise").unwrap();
        std::fs::create_dir_all(root.join("ignored")).unwrap();
        std::fs::write(root.join("ignored/a.py"), "x").unwrap();
        std::fs::create_dir_all(root.join("pkg/__pycache__")).unwrap();
        std::fs::write(root.join("pkg/model.py"), "y").unwrap();
        std::fs::write(root.join("pkg/__pycache__/model.pyc"), "z").unwrap();
        std::fs::create_dir_all(root.join("env")).unwrap();
        std::fs::write(root.join("env/pyvenv.cfg"), "home = /usr").unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/HEAD"), "ref").unwrap();
        std::fs::write(root.join("big.bin"), vec![0u8; 2048]).unwrap();
        std::fs::write(root.join("store.db"), "db").unwrap();

        let (files, skipped) = code_files(root, &[root.join("store.db")], 1024);
        let names: Vec<&str> = files.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(names, [".gitignore", "pkg/model.py", "train.py"]);
        assert_eq!(skipped, ["big.bin"]);
    }
}
