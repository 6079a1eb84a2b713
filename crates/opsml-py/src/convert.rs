//! Conversions between Python values and opsml's plain types.

use opsml_experiment::{micros_to_datetime, ParameterValue};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBool, PyFloat, PyInt, PyList, PyString};

/// A remote artifact path given as a str or a path object (`pathlib.Path("folder/a.pkl")`).
pub(crate) struct RemotePath(pub(crate) String);

impl FromPyObject<'_, '_> for RemotePath {
    type Error = PyErr;

    fn extract(ob: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        let path: std::path::PathBuf = ob.extract()?;
        path.into_os_string()
            .into_string()
            .map(Self)
            .map_err(|raw| {
                let shown = std::path::Path::new(&raw).display().to_string();
                PyValueError::new_err(format!("artifact path {shown:?} is not UTF-8"))
            })
    }
}

impl RemotePath {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// `repr(value)` shortened for messages.
pub(crate) fn short_repr(value: &Bound<'_, PyAny>) -> String {
    let text = value
        .repr()
        .map_or_else(|_| "<unprintable>".to_owned(), |r| r.to_string());
    if text.chars().count() > 80 {
        text.chars().take(77).collect::<String>() + "..."
    } else {
        text
    }
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// A metric value: a float, an int, or anything with `__float__` (numpy and
/// torch scalars). Exact floats take the fast path.
#[inline]
pub(crate) fn metric_value(name: &str, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    if let Ok(float) = value.cast_exact::<PyFloat>() {
        return Ok(float.value());
    }
    if value.is_instance_of::<PyString>() {
        return Err(not_a_number(name, value));
    }
    value.extract::<f64>().map_err(|err| {
        let py = value.py();
        let wrapped = if err.is_instance_of::<PyOverflowError>(py) {
            PyValueError::new_err(format!(
                "metric {name:?}: value {} is too large for a float",
                short_repr(value)
            ))
        } else if err.is_instance_of::<PyTypeError>(py) {
            not_a_number(name, value)
        } else {
            // The value's own __float__ failed: its error is the news, chained below.
            PyValueError::new_err(format!(
                "metric {name:?}: converting {} of type {} to a float raised {}",
                short_repr(value),
                type_name(value),
                err.get_type(py)
                    .name()
                    .map_or_else(|_| "an error".to_owned(), |n| n.to_string())
            ))
        };
        wrapped.set_cause(py, Some(err));
        wrapped
    })
}

fn not_a_number(name: &str, value: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!(
        "metric {name:?}: value must be a number (int, float or an object with __float__), \
         got {} of type {}",
        short_repr(value),
        type_name(value)
    ))
}

/// A metric or parameter name.
#[inline]
pub(crate) fn name_str<'a>(kind: &str, name: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    match name.cast::<PyString>() {
        Ok(s) => s.to_str(),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{kind} name must be a str, got {} of type {}",
            short_repr(name),
            type_name(name)
        ))),
    }
}

/// An optional integer argument (step, timestamp), naming the value when wrong.
#[inline]
pub(crate) fn optional_int(
    what: &str,
    name: &str,
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<i64>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(format!(
            "metric {name:?}: {what} must be an int, got {} of type {}",
            short_repr(value),
            type_name(value)
        )));
    }
    value.extract::<i64>().map(Some).map_err(|err| {
        if err.is_instance_of::<PyOverflowError>(value.py()) {
            PyValueError::new_err(format!(
                "metric {name:?}: {what} {} does not fit in 64 bits",
                short_repr(value)
            ))
        } else {
            PyTypeError::new_err(format!(
                "metric {name:?}: {what} must be an int, got {} of type {}",
                short_repr(value),
                type_name(value)
            ))
        }
    })
}

/// A `datetime` as microseconds since the Unix epoch. Naive date-times are
/// local time, as in `datetime.timestamp()`.
pub(crate) fn datetime_micros(what: &str, value: &Bound<'_, PyAny>) -> PyResult<i64> {
    let is_datetime = value
        .py()
        .import("datetime")?
        .getattr("datetime")
        .and_then(|cls| value.is_instance(&cls))?;
    if !is_datetime {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a datetime.datetime, got {} of type {}",
            short_repr(value),
            type_name(value)
        )));
    }
    // Integer arithmetic on timedeltas: exact at any date, unlike a float timestamp.
    let datetime = value.py().import("datetime")?;
    let aware = if value.call_method0("utcoffset")?.is_none() {
        value.call_method0("astimezone")?
    } else {
        value.clone()
    };
    let utc = datetime.getattr("timezone")?.getattr("utc")?;
    let epoch = datetime
        .getattr("datetime")?
        .call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
    let one_micro = datetime
        .getattr("timedelta")?
        .call((), Some(&[("microseconds", 1)].into_py_dict(value.py())?))?;
    aware.sub(epoch)?.floor_div(one_micro)?.extract()
}

/// Microseconds since the epoch as an aware UTC `datetime`.
pub(crate) fn micros_to_py(py: Python<'_>, micros: i64) -> PyResult<Bound<'_, PyAny>> {
    micros_to_datetime(micros)
        .into_pyobject(py)
        .map(Bound::into_any)
}

/// A parameter value: `None`, bool, int, float or str (numpy scalars through
/// `__index__` / `__float__`).
pub(crate) fn parameter_value(name: &str, value: &Bound<'_, PyAny>) -> PyResult<ParameterValue> {
    if value.is_none() {
        return Ok(ParameterValue::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(ParameterValue::Bool(b.is_true()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(ParameterValue::Str(s.to_str()?.to_owned()));
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(ParameterValue::Float(f.value()));
    }
    let is_int = value.is_instance_of::<PyInt>() || value.hasattr("__index__")?;
    if is_int {
        return value
            .extract::<i64>()
            .map(ParameterValue::Int)
            .map_err(|_| {
                PyValueError::new_err(format!(
                    "parameter {name:?}: integer {} does not fit in 64 bits",
                    short_repr(value)
                ))
            });
    }
    if value.hasattr("__float__")? {
        return value.extract::<f64>().map(ParameterValue::Float);
    }
    Err(PyTypeError::new_err(format!(
        "parameter {name:?}: value must be None, an int, float, str or bool (or a dict, list, \
         dataclass, enum or path of them), got {} of type {}",
        short_repr(value),
        type_name(value)
    )))
}

/// A parameter value back as the Python type it was logged with.
pub(crate) fn parameter_to_py<'py>(
    py: Python<'py>,
    value: &ParameterValue,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        ParameterValue::Int(v) => v.into_pyobject(py)?.into_any(),
        ParameterValue::Float(v) => v.into_pyobject(py)?.into_any(),
        ParameterValue::Str(v) => v.into_pyobject(py)?.into_any(),
        ParameterValue::Bool(v) => v.into_pyobject(py)?.to_owned().into_any(),
        ParameterValue::Null => py.None().into_bound(py),
    })
}

/// `None`, one name, or a list of names.
pub(crate) fn optional_names(names: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<String>>> {
    let Some(names) = names.filter(|n| !n.is_none()) else {
        return Ok(None);
    };
    if let Ok(one) = names.cast::<PyString>() {
        return Ok(Some(vec![one.to_str()?.to_owned()]));
    }
    if let Ok(list) = names.cast::<PyList>() {
        return list
            .iter()
            .map(|n| Ok(name_str("metric", &n)?.to_owned()))
            .collect::<PyResult<_>>()
            .map(Some);
    }
    names
        .try_iter()
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "names must be a str or a list of str, got {}",
                short_repr(names)
            ))
        })?
        .map(|n| Ok(name_str("metric", &n?)?.to_owned()))
        .collect::<PyResult<_>>()
        .map(Some)
}

/// A list of tags.
pub(crate) fn tags(value: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    if value.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "tags must be a list of str, got the str {}",
            short_repr(value)
        )));
    }
    value
        .try_iter()
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "tags must be a list of str, got {}",
                short_repr(value)
            ))
        })?
        .map(|t| Ok(name_str("tag", &t?)?.to_owned()))
        .collect()
}

/// A string as Python's `repr` shows it, for `__repr__` output.
pub(crate) fn py_str(value: &str) -> String {
    let debug = format!("{value:?}");
    let inner = &debug[1..debug.len() - 1];
    format!("'{}'", inner.replace("\\\"", "\"").replace('\'', "\\'"))
}
