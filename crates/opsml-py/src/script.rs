//! Which file started an experiment, for code capture: the script being run, unless that is
//! an installed tool's (pytest's `__main__.py`, a launcher's entry point), in which case the
//! user's file that called `start_experiment`. None in notebooks and interactive sessions.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;

/// The user's file that started the experiment being created now.
pub(crate) fn started_by(py: Python<'_>) -> PyResult<Option<PathBuf>> {
    let sys = py.import("sys")?;
    let main_file = sys
        .getattr("modules")?
        .get_item("__main__")
        .ok()
        .and_then(|main| main.getattr("__file__").ok())
        .and_then(|file| file.extract::<PathBuf>().ok())
        .map(|file| absolute(&file));
    let installed = installed_dirs(py)?;
    let is_installed = |file: &Path| installed.iter().any(|dir| file.starts_with(dir));
    if let Some(file) = main_file.as_ref().filter(|f| !is_installed(f)) {
        return Ok(Some(file.clone()));
    }
    // The innermost caller outside opsml and installed packages, in a file on disk.
    let mut frame = sys.call_method1("_getframe", (0,))?;
    while !frame.is_none() {
        let name: PathBuf = frame.getattr("f_code")?.getattr("co_filename")?.extract()?;
        let file = absolute(&name);
        if file.is_file() && !is_installed(&file) {
            return Ok(Some(file));
        }
        frame = frame.getattr("f_back")?;
    }
    Ok(main_file)
}

/// Where installed code lives: the standard library, site-packages, the scripts directory and
/// the `opsml` package itself (wherever it is installed from).
fn installed_dirs(py: Python<'_>) -> PyResult<Vec<PathBuf>> {
    let sysconfig = py.import("sysconfig")?;
    let mut dirs = Vec::new();
    for key in ["stdlib", "platstdlib", "purelib", "platlib", "scripts"] {
        if let Ok(path) = sysconfig
            .call_method1("get_path", (key,))
            .and_then(|p| p.extract::<PathBuf>())
        {
            dirs.push(absolute(&path));
        }
    }
    if let Ok(package) = py
        .import("opsml")
        .and_then(|m| m.getattr("__file__"))
        .and_then(|f| f.extract::<PathBuf>())
    {
        if let Some(dir) = package.parent() {
            dirs.push(absolute(dir));
        }
    }
    Ok(dirs)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
