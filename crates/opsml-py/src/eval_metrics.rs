//! Final evaluation results of a run (`exp.log_eval_metrics`, `card.eval_metrics`): one
//! number per name, kept on the card apart from the metrics logged over steps.

use std::collections::BTreeMap;

use opsml_experiment::{float_text, validate_eval_metrics, MAX_EVAL_METRICS};
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping};

use crate::convert::{metric_value, name_str, short_repr};

/// Evaluation metrics by name: `EvalMetrics({"auc": 0.93, "rmse": 0.41})`.
///
/// Reads like a read-only dict of floats: `metrics["auc"]`, `len`, `in`, iteration over the
/// names, `items()` and `to_dict()`.
#[pyclass(name = "EvalMetrics", module = "opsml._opsml", frozen, mapping)]
#[derive(Clone)]
pub struct PyEvalMetrics {
    pub(crate) metrics: BTreeMap<String, f64>,
}

#[pymethods]
impl PyEvalMetrics {
    #[new]
    fn new(metrics: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            metrics: eval_metrics_from(metrics)?,
        })
    }

    fn __getitem__(&self, name: &str) -> PyResult<f64> {
        self.metrics.get(name).copied().ok_or_else(|| {
            let known: Vec<&str> = self.metrics.keys().map(String::as_str).collect();
            PyKeyError::new_err(format!(
                "no evaluation metric {name:?}; the run has {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })
    }

    fn __contains__(&self, name: &str) -> bool {
        self.metrics.contains_key(name)
    }

    fn __len__(&self) -> usize {
        self.metrics.len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.keys()
            .into_pyobject(py)?
            .try_iter()
            .map(Bound::into_any)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .extract::<PyRef<'_, Self>>()
            .is_ok_and(|other| same_values(&self.metrics, &other.metrics))
    }

    /// The names, in order.
    fn keys(&self) -> Vec<String> {
        self.metrics.keys().cloned().collect()
    }

    /// `(name, value)` pairs, in name order.
    fn items(&self) -> Vec<(String, f64)> {
        self.metrics
            .iter()
            .map(|(name, value)| (name.clone(), *value))
            .collect()
    }

    /// A plain dict of the values by name.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in &self.metrics {
            dict.set_item(name, value)?;
        }
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        let items: Vec<String> = self
            .metrics
            .iter()
            .map(|(name, value)| {
                format!("{}: {}", crate::convert::py_str(name), float_text(*value))
            })
            .collect();
        format!("EvalMetrics({{{}}})", items.join(", "))
    }
}

/// NaN equals NaN here: two runs whose evaluation both diverged hold the same results.
fn same_values(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((name_a, a), (name_b, b))| {
            name_a == name_b && (a == b || (a.is_nan() && b.is_nan()))
        })
}

/// Evaluation metrics from an `EvalMetrics` or a mapping of names to numbers, naming the
/// value that is not one.
pub(crate) fn eval_metrics_from(value: &Bound<'_, PyAny>) -> PyResult<BTreeMap<String, f64>> {
    if let Ok(metrics) = value.extract::<PyRef<'_, PyEvalMetrics>>() {
        return Ok(metrics.metrics.clone());
    }
    let Ok(mapping) = value.cast::<PyMapping>() else {
        return Err(PyTypeError::new_err(format!(
            "evaluation metrics must be an EvalMetrics or a dict of names to numbers, got {}",
            short_repr(value)
        )));
    };
    // Counted before reading: a mapping of millions is refused without being walked.
    let count = mapping.len()?;
    if count > MAX_EVAL_METRICS {
        return Err(PyValueError::new_err(format!(
            "{count} evaluation metrics given; a run keeps at most {MAX_EVAL_METRICS}"
        )));
    }
    let mut metrics = BTreeMap::new();
    for item in mapping.items()?.iter() {
        let (name, number): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let name = name_str("evaluation metric", &name)?;
        metrics.insert(name.to_owned(), metric_value(name, &number)?);
    }
    validate_eval_metrics(metrics.keys().map(String::as_str))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(metrics)
}
