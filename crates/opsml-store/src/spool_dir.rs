//! Where this machine keeps what it could not deliver yet: the write-ahead files of runs
//! logged to a server, and batches a store refused (for `opsml sync`).

use std::path::PathBuf;

/// Environment variable naming the directory of write-ahead files.
pub const SPOOL_DIR_ENV: &str = "OPSML_SPOOL_DIR";

/// The directory of write-ahead files: `OPSML_SPOOL_DIR`, else `$XDG_CACHE_HOME/opsml/spool`,
/// else `~/.cache/opsml/spool` (on Windows, without `HOME`: `%LOCALAPPDATA%\opsml\spool`).
pub fn spool_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(SPOOL_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    // Windows usually sets no `HOME`; its per-user cache folder is kept, where the
    // temporary folder may be emptied by a disk cleanup with batches not yet delivered.
    #[cfg(windows)]
    let cache = cache.or_else(|| {
        std::env::var_os("LOCALAPPDATA")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    cache
        .unwrap_or_else(std::env::temp_dir)
        .join("opsml")
        .join("spool")
}
