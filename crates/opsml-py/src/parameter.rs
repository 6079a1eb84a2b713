//! `Parameter` and `Parameters`.

use opsml_experiment::{validate_name, Align, Parameter, ParameterValue, TextTable};
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::card::plural;
use crate::convert::{name_str, parameter_to_py, parameter_value, py_str};
use crate::notebook;

/// A named parameter: int, float, str or bool (bool stays bool).
///
/// Args:
///     name: Parameter name.
///     value: Its value.
#[pyclass(name = "Parameter", module = "opsml._opsml", frozen)]
pub struct PyParameter {
    pub(crate) parameter: Parameter,
}

impl PyParameter {
    /// Validates a name and value from Python.
    pub(crate) fn build(name: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<Parameter> {
        let name = name_str("parameter", name)?;
        validate_name("parameter", name).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Parameter {
            name: name.to_owned(),
            value: parameter_value(name, value)?,
        })
    }
}

#[pymethods]
impl PyParameter {
    #[new]
    fn new(name: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            parameter: Self::build(name, value)?,
        })
    }

    /// Parameter name.
    #[getter]
    fn name(&self) -> &str {
        &self.parameter.name
    }

    /// The value, with the type it was logged with.
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        parameter_to_py(py, &self.parameter.value)
    }

    fn __repr__(&self) -> String {
        format!(
            "Parameter(name={}, value={})",
            py_str(&self.parameter.name),
            py_repr(&self.parameter.value)
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Self>()
            .is_ok_and(|other| other.get().parameter == self.parameter)
    }
}

fn py_repr(value: &ParameterValue) -> String {
    match value {
        ParameterValue::Bool(true) => "True".to_owned(),
        ParameterValue::Bool(false) => "False".to_owned(),
        ParameterValue::Str(s) => py_str(s),
        ParameterValue::Float(f) => opsml_experiment::float_text(*f),
        ParameterValue::Int(i) => i.to_string(),
        ParameterValue::Null => "None".to_owned(),
    }
}

/// Parameters of an experiment, in the order first logged. A sequence of
/// `Parameter`; `to_dict()` gives a name → value dict.
#[pyclass(name = "Parameters", module = "opsml._opsml", frozen, sequence)]
pub struct PyParameters {
    pub(crate) parameters: Vec<Parameter>,
}

#[pymethods]
impl PyParameters {
    fn __len__(&self) -> usize {
        self.parameters.len()
    }

    fn __getitem__(&self, index: isize) -> PyResult<PyParameter> {
        let len = self.parameters.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if !(0..len).contains(&i) {
            return Err(PyIndexError::new_err(format!(
                "parameter index {index} out of range for {len} parameters"
            )));
        }
        Ok(PyParameter {
            parameter: self.parameters[i as usize].clone(),
        })
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let items: Vec<PyParameter> = self
            .parameters
            .iter()
            .map(|p| PyParameter {
                parameter: p.clone(),
            })
            .collect();
        Ok(items.into_pyobject(py)?.try_iter()?.into_any().unbind())
    }

    /// The parameters as a dict of name to value.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for p in &self.parameters {
            dict.set_item(&p.name, parameter_to_py(py, &p.value)?)?;
        }
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        let names: Vec<&str> = self.parameters.iter().map(|p| p.name.as_str()).collect();
        format!("Parameters({})", names.join(", "))
    }

    fn __str__(&self) -> String {
        format!(
            "{}\n{}",
            self.text_table().aligned(),
            plural(self.parameters.len(), "parameter")
        )
    }

    /// The parameters as an HTML table, for a notebook.
    fn _repr_html_(&self) -> String {
        notebook::table(
            &self.text_table(),
            &plural(self.parameters.len(), "parameter"),
        )
    }
}

impl PyParameters {
    fn text_table(&self) -> TextTable {
        let mut table = TextTable::new(&[("name", Align::Left), ("value", Align::Left)]);
        for p in &self.parameters {
            table.push(vec![p.name.clone(), py_repr(&p.value)]);
        }
        table
    }
}
