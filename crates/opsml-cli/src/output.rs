//! Files the command line writes (exports, charts, reports) appear only when complete:
//! they are written to a temporary file beside their path and renamed into place.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{CliError, Result};

/// An error writing `path`.
pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A new empty file in the directory of `path`, named `.opsml-<what>-XXXXXX` with the
/// extension of `path` (charts are drawn in the format their extension names).
pub(crate) fn temp_beside(path: &Path, what: &str) -> Result<NamedTempFile> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let suffix = path.extension().map_or_else(OsString::new, |ext| {
        let mut suffix = OsString::from(".");
        suffix.push(ext);
        suffix
    });
    let prefix = format!(".opsml-{what}-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(&suffix);
    #[cfg(unix)]
    {
        // As a plain file creation would: the umask decides, not tempfile's private 0600.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(&dir).map_err(io_error(path))
}

/// Has `write` fill a temporary file beside `path` (given its path), then renames it to
/// `path`. On failure the temporary file is removed and `path` is left as it was.
pub(crate) fn write_via_temp(
    path: &Path,
    what: &str,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let temp = temp_beside(path, what)?;
    write(temp.path())?;
    temp.persist(path).map_err(|e| io_error(path)(e.error))?;
    Ok(())
}
