//! Metric summaries for Python: `card.metric_summary()` and the compare table.

use std::fmt::Write as _;
use std::sync::Arc;

use opsml_experiment::MetricSummary;
use opsml_experiment::Store;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::detach::experiment_work;

/// Count, min, max, mean, first and last value and last step of one metric.
///
/// NaN values count in `count` but not in `min`, `max` and `mean` (None while
/// every value is NaN). First and last follow step order, points without a
/// step first, ties in logging order.
#[pyclass(name = "MetricSummary", module = "opsml._opsml", frozen)]
pub struct PyMetricSummary {
    pub(crate) summary: MetricSummary,
}

#[pymethods]
impl PyMetricSummary {
    /// The metric's name.
    #[getter]
    fn name(&self) -> &str {
        &self.summary.name
    }

    /// Number of points logged.
    #[getter]
    fn count(&self) -> u64 {
        self.summary.count
    }

    /// Smallest value (NaN left out).
    #[getter]
    fn min(&self) -> Option<f64> {
        self.summary.min
    }

    /// Largest value (NaN left out).
    #[getter]
    fn max(&self) -> Option<f64> {
        self.summary.max
    }

    /// Mean value (NaN left out).
    #[getter]
    fn mean(&self) -> Option<f64> {
        self.summary.mean()
    }

    /// Value at the smallest step.
    #[getter]
    fn first(&self) -> f64 {
        self.summary.first
    }

    /// Value at the largest step.
    #[getter]
    fn last(&self) -> f64 {
        self.summary.last
    }

    /// The largest step, or None when no point has a step.
    #[getter]
    fn last_step(&self) -> Option<i64> {
        self.summary.last_step
    }

    /// The summary as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.summary;
        let dict = PyDict::new(py);
        dict.set_item("name", &s.name)?;
        dict.set_item("count", s.count)?;
        dict.set_item("min", s.min)?;
        dict.set_item("max", s.max)?;
        dict.set_item("mean", s.mean())?;
        dict.set_item("first", s.first)?;
        dict.set_item("last", s.last)?;
        dict.set_item("last_step", s.last_step)?;
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        let s = &self.summary;
        format!(
            "MetricSummary(name={:?}, count={}, min={}, max={}, mean={}, last={}, last_step={})",
            s.name,
            s.count,
            number(s.min),
            number(s.max),
            number(s.mean()),
            number(Some(s.last)),
            s.last_step
                .map_or_else(|| "None".to_owned(), |step| step.to_string())
        )
    }
}

/// A number as Python prints it, or None.
pub(crate) fn number(value: Option<f64>) -> String {
    match value {
        None => "None".to_owned(),
        Some(v) if v.is_nan() => "nan".to_owned(),
        Some(v) if v.is_infinite() => (if v > 0.0 { "inf" } else { "-inf" }).to_owned(),
        Some(v) => format!("{v:?}"),
    }
}

/// A short number for tables: up to 6 significant digits.
pub(crate) fn short_number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() && v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-4) => {
            format!("{v:.4e}")
        }
        Some(v) if v.is_finite() => {
            let text = format!("{v:.6}");
            let text = text.trim_end_matches('0').trim_end_matches('.');
            text.to_owned()
        }
        other => number(other),
    }
}

/// The summaries of experiment `uid`, flushing it first when it runs in this process.
pub(crate) fn read(
    py: Python<'_>,
    store: &Arc<dyn Store>,
    uid: &str,
) -> PyResult<Vec<MetricSummary>> {
    experiment_work(py, || {
        opsml_experiment::get_metric_summaries(store.as_ref(), uid)
    })
}

/// Lines for `str(card)`: one per metric.
pub(crate) fn describe(summaries: &[MetricSummary]) -> String {
    let mut out = String::new();
    for s in summaries {
        let _ = write!(
            out,
            "\n  metric       {}: {} points, min {}, max {}, mean {}, last {}{}",
            s.name,
            s.count,
            short_number(s.min),
            short_number(s.max),
            short_number(s.mean()),
            short_number(Some(s.last)),
            s.last_step
                .map_or_else(String::new, |step| format!(" at step {step}"))
        );
    }
    out
}
