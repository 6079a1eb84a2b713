//! Which file started an experiment, for code capture: the script being run, unless that is
//! an installed tool's (pytest's `__main__.py`, a launcher's entry point), in which case the
//! user's file that called `start_experiment`. In a Jupyter kernel, the notebook's file when
//! the front end names it, otherwise the source of the cells run so far.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use opsml_experiment::{ScriptSource, DEFAULT_CODE_MAX_FILE_BYTES};
use pyo3::prelude::*;
use pyo3::types::PyList;

/// Most bytes of cell source stored for a notebook without a file.
fn max_cells_bytes() -> usize {
    usize::try_from(DEFAULT_CODE_MAX_FILE_BYTES).unwrap_or(usize::MAX)
}

/// A notebook file on disk (a name in the user's namespace could name any file).
fn is_notebook_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "ipynb") && path.is_file()
}

/// What code capture stores for a notebook.
pub(crate) enum Notebook {
    /// The `.ipynb` file, named by the front end.
    File(PathBuf),
    /// The cells run so far, in order.
    Cells(ScriptSource),
}

/// The notebook running in this process, when it is a Jupyter kernel: the file VS Code
/// (`__vsc_ipynb_file__`) or a Jupyter server (`JPY_SESSION_NAME`, relative to the kernel's
/// directory or absolute) names, else the cells of the kernel's input history.
///
/// Never an error: code capture must not fail a run, so anything unexpected (an `IPython` module
/// that is not IPython's) is "no notebook".
pub(crate) fn notebook(py: Python<'_>) -> Option<Notebook> {
    found_notebook(py).ok().flatten()
}

fn found_notebook(py: Python<'_>) -> PyResult<Option<Notebook>> {
    let sys = py.import("sys")?;
    let Ok(ipython) = sys.getattr("modules")?.get_item("IPython") else {
        return Ok(None);
    };
    let shell = ipython.call_method0("get_ipython")?;
    if shell.is_none() {
        return Ok(None);
    }
    let user_ns = shell.getattr("user_ns")?;
    if let Some(file) = user_ns
        .get_item("__vsc_ipynb_file__")
        .ok()
        .and_then(|f| f.extract::<PathBuf>().ok())
        .filter(|f| is_notebook_file(f))
    {
        return Ok(Some(Notebook::File(absolute(&file))));
    }
    if let Some(session) = std::env::var_os("JPY_SESSION_NAME").map(PathBuf::from) {
        let candidates = [
            Some(session.clone()),
            session.file_name().map(PathBuf::from),
        ];
        if let Some(file) = candidates
            .into_iter()
            .flatten()
            .map(|f| absolute(&f))
            .find(|f| is_notebook_file(f))
        {
            return Ok(Some(Notebook::File(file)));
        }
    }
    let Ok(history) = user_ns
        .get_item("In")
        .and_then(|h| h.cast_into::<PyList>().map_err(PyErr::from))
    else {
        return Ok(None);
    };
    let mut text = String::new();
    let mut left_out = 0;
    for (number, cell) in history.iter().enumerate() {
        let Ok(source) = cell.extract::<String>() else {
            continue;
        };
        if source.trim().is_empty() {
            continue;
        }
        // The default limit of a captured file: the first cells are kept.
        if text.len() + source.len() > max_cells_bytes() {
            left_out += 1;
            continue;
        }
        let _ = write!(text, "# In[{number}]:\n{}\n\n", source.trim_end());
    }
    if left_out > 0 {
        let _ = writeln!(
            text,
            "# {left_out} later cell(s) left out: over {} bytes in all",
            max_cells_bytes()
        );
    }
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(Notebook::Cells(ScriptSource {
        name: "notebook_cells.py".to_owned(),
        origin: "notebook cells".to_owned(),
        text,
    })))
}

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
