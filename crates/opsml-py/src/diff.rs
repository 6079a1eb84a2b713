//! `opsml.diff(a, b)`: what changed between two runs.

use opsml_experiment::{default_store, FileChange, Row, RunDiff};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::compare::cell_to_python;
use crate::detach::{experiment_work, store_work};
use crate::notebook;

/// What changed from one run to another: the parameters that differ, metric summaries and
/// evaluation metrics side by side, installed packages, git state, and a unified diff of
/// the captured code. Prints as text.
#[pyclass(name = "RunDiff", module = "opsml._opsml", frozen)]
pub struct PyRunDiff {
    diff: RunDiff,
}

/// A run's git commit and whether it had uncommitted changes.
type GitState = (String, bool);

/// `{name: (first, second)}` of rows.
fn side_by_side<'py>(py: Python<'py>, rows: &[Row]) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for row in rows {
        let first = cell_to_python(py, &row.cells[0])?;
        let second = cell_to_python(py, &row.cells[1])?;
        dict.set_item(&row.key, (first, second))?;
    }
    Ok(dict)
}

#[pymethods]
impl PyRunDiff {
    /// Uids of the two runs, first then second.
    #[getter]
    fn uids(&self) -> (String, String) {
        let [a, b] = &self.diff.runs;
        (a.uid.clone(), b.uid.clone())
    }

    /// The parameters that differ: `{name: (first, second)}`, None where a run lacks it.
    #[getter]
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        side_by_side(py, &self.diff.parameters)
    }

    /// Last, min and max of every metric: `{"loss.last": (first, second)}`.
    #[getter]
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        side_by_side(py, &self.diff.metrics)
    }

    /// The evaluation metrics of either run: `{name: (first, second)}`.
    #[getter]
    fn eval_metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        side_by_side(py, &self.diff.eval_metrics)
    }

    /// Installed packages, or None when a run has no package list:
    /// `{"added": {name: version}, "removed": {name: version}, "changed": {name: (first,
    /// second)}}`, names normalised as pip compares them.
    #[getter]
    fn packages<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(package_changes) = &self.diff.packages else {
            return Ok(None);
        };
        let added = PyDict::new(py);
        for (name, version) in &package_changes.added {
            added.set_item(name, version)?;
        }
        let removed = PyDict::new(py);
        for (name, version) in &package_changes.removed {
            removed.set_item(name, version)?;
        }
        let changed = PyDict::new(py);
        for (name, from, to) in &package_changes.changed {
            changed.set_item(name, (from, to))?;
        }
        let dict = PyDict::new(py);
        dict.set_item("added", added)?;
        dict.set_item("removed", removed)?;
        dict.set_item("changed", changed)?;
        Ok(Some(dict))
    }

    /// Git commit and uncommitted changes of each run: `((commit, dirty), (commit, dirty))`,
    /// None for a run started outside a git checkout.
    #[getter]
    fn git(&self) -> (Option<GitState>, Option<GitState>) {
        let state = |i: usize| {
            self.diff.runs[i]
                .metadata
                .git
                .as_ref()
                .map(|g| (g.commit.clone(), g.dirty))
        };
        (state(0), state(1))
    }

    /// Captured files that differ: `{path: change}`, where change is the unified diff of a
    /// text file, or "added", "removed", "binary" or "not compared" (over the size limits).
    #[getter]
    fn code<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for change in &self.diff.code {
            let text = match change {
                FileChange::Added { .. } => "added",
                FileChange::Removed { .. } => "removed",
                FileChange::Binary { .. } => "binary",
                FileChange::NotCompared { .. } => "not compared",
                FileChange::Changed { unified, .. } => unified.as_str(),
            };
            dict.set_item(change.path(), text)?;
        }
        Ok(dict)
    }

    fn __str__(&self) -> String {
        self.diff.text()
    }

    fn __repr__(&self) -> String {
        let (a, b) = self.uids();
        format!("RunDiff({a} -> {b})")
    }

    fn _repr_html_(&self) -> String {
        notebook::preformatted(&self.diff.text())
    }
}

/// What changed from run `first` to run `second` (uids).
#[pyfunction]
pub(crate) fn diff(py: Python<'_>, first: String, second: String) -> PyResult<PyRunDiff> {
    let store = store_work(py, default_store)?;
    let diff = experiment_work(py, || opsml_experiment::diff_runs(&store, &first, &second))?;
    Ok(PyRunDiff { diff })
}
