//! `compare_experiments`: parameters and metric summaries side by side.

use opsml_experiment::default_store;
use opsml_experiment::ParameterValue;
use opsml_experiment::{distinct_labels, Align, Cell, Comparison, Section, TextTable};
use pyo3::exceptions::{PyImportError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::convert::parameter_to_py;
use crate::detach::{experiment_work, store_work};
use crate::notebook;
use crate::summary::short_number;

/// Experiments side by side: parameters (those that differ first), then the
/// last, min, max, mean and count of every metric. Prints as a table.
#[pyclass(name = "Comparison", module = "opsml._opsml", frozen)]
pub struct PyComparison {
    comparison: Comparison,
}

pub(crate) fn cell_to_python<'py>(py: Python<'py>, cell: &Cell) -> PyResult<Bound<'py, PyAny>> {
    Ok(match cell {
        Cell::Missing => py.None().into_bound(py),
        Cell::Parameter(value) => parameter_to_py(py, value)?,
        Cell::Number(x) => x.into_pyobject(py)?.into_any(),
        Cell::Count(n) => n.into_pyobject(py)?.into_any(),
    })
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Missing => "-".to_owned(),
        Cell::Parameter(ParameterValue::Float(x)) | Cell::Number(x) => short_number(Some(*x)),
        Cell::Parameter(ParameterValue::Int(n)) => n.to_string(),
        Cell::Parameter(ParameterValue::Str(s)) => s.clone(),
        Cell::Parameter(ParameterValue::Bool(b)) => if *b { "True" } else { "False" }.to_owned(),
        Cell::Parameter(ParameterValue::Null) => "None".to_owned(),
        Cell::Count(n) => n.to_string(),
    }
}

fn section_name(section: Section) -> &'static str {
    match section {
        Section::Parameter => "parameter",
        Section::Metric => "metric",
    }
}

impl PyComparison {
    /// Column headers: `name:version` of each experiment.
    fn labels(&self) -> Vec<String> {
        distinct_labels(&self.comparison.experiments)
    }
}

#[pymethods]
impl PyComparison {
    /// Uids of the compared experiments, in column order.
    #[getter]
    fn uids(&self) -> Vec<String> {
        self.comparison
            .experiments
            .iter()
            .map(|card| card.uid.clone())
            .collect()
    }

    /// Column headers: `name:version` of each experiment.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.labels()
    }

    /// Rows as tuples `(section, name, values, differs)`: section is
    /// "parameter" or "metric", name the parameter or `metric.statistic`,
    /// values one per experiment (None where it has none).
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = self
            .comparison
            .rows
            .iter()
            .map(|row| {
                let values = row
                    .cells
                    .iter()
                    .map(|cell| cell_to_python(py, cell))
                    .collect::<PyResult<Vec<_>>>()?;
                PyTuple::new(
                    py,
                    [
                        section_name(row.section).into_pyobject(py)?.into_any(),
                        row.key.as_str().into_pyobject(py)?.into_any(),
                        PyTuple::new(py, values)?.into_any(),
                        row.differs.into_pyobject(py)?.to_owned().into_any(),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, rows)
    }

    /// The table as a `pandas.DataFrame`: index (section, name), a column per
    /// experiment and a `differs` column. Needs pandas.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pandas = py.import("pandas").map_err(|_| {
            PyImportError::new_err("Comparison.to_pandas needs pandas: pip install pandas")
        })?;
        let index = PyList::empty(py);
        let data = PyList::empty(py);
        for row in &self.comparison.rows {
            index.append((section_name(row.section), row.key.as_str()))?;
            let mut values = row
                .cells
                .iter()
                .map(|cell| cell_to_python(py, cell))
                .collect::<PyResult<Vec<_>>>()?;
            values.push(row.differs.into_pyobject(py)?.to_owned().into_any());
            data.append(PyList::new(py, values)?)?;
        }
        let mut columns = self.labels();
        columns.push("differs".to_owned());
        let names = pyo3::types::PyDict::new(py);
        names.set_item("names", ["section", "name"])?;
        let index =
            pandas
                .getattr("MultiIndex")?
                .call_method("from_tuples", (index,), Some(&names))?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("index", index)?;
        kwargs.set_item("columns", columns)?;
        kwargs.set_item("dtype", "object")?;
        pandas.getattr("DataFrame")?.call((data,), Some(&kwargs))
    }

    fn __len__(&self) -> usize {
        self.comparison.rows.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Comparison({} experiments, {} rows)",
            self.comparison.experiments.len(),
            self.comparison.rows.len()
        )
    }

    fn __str__(&self) -> String {
        opsml_experiment::printable(&self.text_table().aligned()).into_owned()
    }

    /// The comparison as an HTML table, for a notebook.
    fn _repr_html_(&self) -> String {
        let note = format!(
            "{} experiments; * marks a row whose values differ",
            self.comparison.experiments.len()
        );
        notebook::table(&self.text_table(), &note)
    }
}

impl PyComparison {
    fn text_table(&self) -> TextTable {
        let mut columns = vec![(String::new(), Align::Left), (String::new(), Align::Left)];
        columns.extend(self.labels().into_iter().map(|label| (label, Align::Left)));
        let mut table = TextTable::with_columns(columns);
        let mut section = None;
        for row in &self.comparison.rows {
            if section != Some(row.section) {
                table.heading(section_name(row.section).to_uppercase() + "S");
                section = Some(row.section);
            }
            let mut line = vec![
                if row.differs { "*" } else { "" }.to_owned(),
                row.key.clone(),
            ];
            line.extend(row.cells.iter().map(cell_text));
            table.push(line);
        }
        table
    }
}

/// Compares experiments of any space and name: parameters side by side
/// (those that differ first, marked `*`) and the last, min, max, mean and
/// count of every metric.
#[pyfunction]
pub(crate) fn compare_experiments(py: Python<'_>, uids: Vec<String>) -> PyResult<PyComparison> {
    if uids.is_empty() {
        return Err(PyValueError::new_err(
            "compare_experiments needs at least one experiment uid",
        ));
    }
    let store = store_work(py, default_store)?;
    let uids: Vec<&str> = uids.iter().map(String::as_str).collect();
    let comparison = experiment_work(py, || {
        opsml_experiment::compare_experiments(store.as_ref(), &uids)
    })?;
    Ok(PyComparison { comparison })
}
