//! `Metric` and `Metrics`: logged points, one at a time or read back in bulk.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use opsml_experiment::MetricTable;
use opsml_experiment::{float_text, now_micros, Align, MetricPoint, TextTable};
use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PySlice, PyTuple};

use crate::card::plural;
use crate::columnar;
use crate::convert::{datetime_micros, metric_value, micros_to_py, name_str, optional_int, py_str};
use crate::notebook;
use crate::summary::short_number;

/// One value of a metric.
///
/// Args:
///     name: Metric name.
///     value: A number (int, float, or a numpy/torch scalar).
///     step: Training step.
///     timestamp: Your own integer timestamp.
///     created_at: When the value was produced (default: now).
#[pyclass(name = "Metric", module = "opsml._opsml", frozen)]
pub struct PyMetric {
    pub(crate) name: String,
    pub(crate) point: MetricPoint,
}

impl PyMetric {
    pub(crate) fn from_table(table: &MetricTable, index: usize) -> Self {
        Self {
            name: table.name(index).to_owned(),
            point: table.point(index),
        }
    }

    fn describe(&self) -> String {
        let p = &self.point;
        let mut out = format!(
            "Metric(name={}, value={}",
            py_str(&self.name),
            float_text(p.value)
        );
        if let Some(step) = p.step {
            let _ = write!(out, ", step={step}");
        }
        if let Some(timestamp) = p.timestamp {
            let _ = write!(out, ", timestamp={timestamp}");
        }
        out.push(')');
        out
    }
}

#[pymethods]
impl PyMetric {
    #[new]
    #[pyo3(signature = (name, value, step=None, timestamp=None, created_at=None))]
    fn new(
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        step: Option<&Bound<'_, PyAny>>,
        timestamp: Option<&Bound<'_, PyAny>>,
        created_at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let name = name_str("metric", name)?;
        opsml_experiment::validate_name("metric", name)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        let point = MetricPoint {
            value: metric_value(name, value)?,
            step: optional_int("step", name, step)?,
            timestamp: optional_int("timestamp", name, timestamp)?,
            created_at: match created_at.filter(|c| !c.is_none()) {
                Some(c) => datetime_micros("created_at", c)?,
                None => now_micros(),
            },
        };
        Ok(Self {
            name: name.to_owned(),
            point,
        })
    }

    /// Metric name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The value; NaN and infinities are kept.
    #[getter]
    fn value(&self) -> f64 {
        self.point.value
    }

    /// Training step, or None.
    #[getter]
    fn step(&self) -> Option<i64> {
        self.point.step
    }

    /// Your integer timestamp, or None.
    #[getter]
    fn timestamp(&self) -> Option<i64> {
        self.point.timestamp
    }

    /// When the value was logged, as an aware UTC datetime.
    #[getter]
    fn created_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        micros_to_py(py, self.point.created_at)
    }

    fn __repr__(&self) -> String {
        self.describe()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Self>().is_ok_and(|other| {
            let other = other.get();
            other.name == self.name && other.point == self.point
        })
    }
}

/// Metric points read back from an experiment, ordered by (name, step,
/// insertion). A sequence: `len(metrics)`, `metrics[i]`, iteration. Points
/// are kept in Arrow columns and become `Metric` objects only when accessed.
#[pyclass(name = "Metrics", module = "opsml._opsml", frozen, sequence)]
pub struct PyMetrics {
    pub(crate) table: MetricTable,
}

impl PyMetrics {
    fn resolve(&self, index: isize) -> PyResult<usize> {
        let len = self.table.len() as isize;
        let resolved = if index < 0 { index + len } else { index };
        if (0..len).contains(&resolved) {
            Ok(resolved as usize)
        } else {
            Err(PyIndexError::new_err(format!(
                "metric index {index} out of range for {len} points"
            )))
        }
    }
}

#[pymethods]
impl PyMetrics {
    fn __len__(&self) -> usize {
        self.table.len()
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        index: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(slice) = index.cast::<PySlice>() {
            let indices = slice.indices(self.table.len() as isize)?;
            let mut items = Vec::with_capacity(indices.slicelength);
            let mut i = indices.start;
            for _ in 0..indices.slicelength {
                items.push(PyMetric::from_table(&self.table, i as usize));
                i += indices.step;
            }
            return Ok(items.into_pyobject(py)?.into_any());
        }
        let Ok(index) = index.extract::<isize>() else {
            return Err(PyTypeError::new_err(format!(
                "Metrics indices must be integers or slices, not {}",
                index.get_type().name()?
            )));
        };
        let i = self.resolve(index)?;
        Ok(Bound::new(py, PyMetric::from_table(&self.table, i))?.into_any())
    }

    fn __iter__(slf: Bound<'_, Self>) -> MetricsIter {
        MetricsIter {
            metrics: slf.unbind(),
            next: AtomicUsize::new(0),
        }
    }

    /// The points as a `pyarrow.Table` with columns name, step, value,
    /// timestamp, created_at (name dictionary-encoded). Needs pyarrow.
    fn to_arrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        columnar::import_optional(py, "pyarrow", "Metrics.to_arrow")?.call_method1("table", (slf,))
    }

    /// The points as a `pandas.DataFrame` (name as a categorical). Needs pandas and pyarrow.
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        // step and timestamp stay integers (nullable Int64) where a point lacks one.
        columnar::pandas_frame(slf.as_any(), "Metrics.to_pandas")
    }

    /// The points as a `polars.DataFrame`. Needs polars.
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        columnar::import_optional(py, "polars", "Metrics.to_polars")?
            .call_method1("DataFrame", (slf,))
    }

    /// Steps and values of metric `name` as numpy arrays `(steps, values)`: steps int64,
    /// a masked int64 array (`numpy.ma`) where a point has no step. Needs numpy.
    fn to_numpy<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyTuple>> {
        columnar::numpy_arrays(py, &self.table, name)
    }

    /// The Arrow PyCapsule stream interface: lets pyarrow, polars and other
    /// Arrow readers take the points without a copy per point.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is fixed; a consumer asking for another one casts what it gets.
        let _ = requested_schema;
        columnar::arrow_stream(py, &self.table)
    }

    /// Distinct metric names, sorted.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.table.names().to_vec()
    }

    fn __repr__(&self) -> String {
        let n = self.table.len();
        let mut out = format!("Metrics({}", plural(n, "point"));
        if !self.table.names().is_empty() {
            let _ = write!(out, " of {}", self.table.names().join(", "));
        }
        out.push(')');
        out
    }

    /// A row per metric for a notebook: its points, last value, range and a sparkline.
    fn _repr_html_(&self) -> String {
        let mut table = TextTable::new(&[
            ("metric", Align::Left),
            ("points", Align::Right),
            ("last", Align::Right),
            ("min", Align::Right),
            ("max", Align::Right),
        ]);
        let mut lines = Vec::new();
        for (id, name) in self.table.names().iter().enumerate() {
            let values: Vec<f64> = (0..self.table.len())
                .filter(|&i| self.table.name_ids()[i] as usize == id)
                .map(|i| self.table.values()[i])
                .collect();
            let finite = values.iter().copied().filter(|v| !v.is_nan());
            let (min, max) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            // Six significant digits, as the comparison shows them: a summary, not the data.
            let shown = |v: f64| {
                if v.is_finite() {
                    short_number(Some(v))
                } else {
                    "-".to_owned()
                }
            };
            table.push(vec![
                name.clone(),
                values.len().to_string(),
                values
                    .last()
                    .map_or_else(|| "-".to_owned(), |v| short_number(Some(*v))),
                shown(min),
                shown(max),
            ]);
            lines.push(notebook::sparkline(&values));
        }
        let out = table.html_with_markup_column(&lines);
        format!("{out}\n<p>{}</p>", plural(self.table.len(), "point"))
    }

    fn __str__(&self) -> String {
        let n = self.table.len();
        let mut table = TextTable::new(&[
            ("name", Align::Left),
            ("step", Align::Right),
            ("value", Align::Right),
        ]);
        let row = |i: usize| {
            let step = self
                .table
                .step(i)
                .map_or_else(|| "-".to_owned(), |s| s.to_string());
            vec![
                self.table.name(i).to_owned(),
                step,
                float_text(self.table.values()[i]),
            ]
        };
        if n <= 20 {
            (0..n).for_each(|i| table.push(row(i)));
        } else {
            (0..10).for_each(|i| table.push(row(i)));
            table.heading(format!("... ({} more points)", n - 20));
            (n - 10..n).for_each(|i| table.push(row(i)));
        }
        let out = format!("{}\n{}", table.aligned(), plural(n, "point"));
        opsml_experiment::printable(&out).into_owned()
    }
}

/// Iterator over `Metrics`.
#[pyclass(module = "opsml._opsml", frozen)]
pub struct MetricsIter {
    metrics: Py<PyMetrics>,
    next: AtomicUsize,
}

#[pymethods]
impl MetricsIter {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__(&self) -> Option<PyMetric> {
        let table = &self.metrics.get().table;
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        (i < table.len()).then(|| PyMetric::from_table(table, i))
    }
}
