//! Parameters as people have them — nested dicts and lists, dataclasses, pydantic models,
//! `argparse.Namespace`, enums, paths, NumPy and torch scalars — as plain values under dotted
//! names: `{"optimizer": {"lr": 1e-3}}` is `optimizer.lr`, `{"layers": [64, 32]}` is
//! `layers.0` and `layers.1`.

use opsml_experiment::{validate_name, Parameter, ParameterValue};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::convert::{parameter_value, short_repr};

/// Deepest nesting followed: deeper (or a structure that holds itself) is refused.
const MAX_DEPTH: usize = 32;
/// Most parameters one call may flatten to.
const MAX_FLATTENED: usize = 10_000;

/// Values by name.
pub(crate) type Fields<'py> = Vec<(String, Bound<'py, PyAny>)>;

/// The named fields of a dict (or other mapping), dataclass instance, pydantic model or
/// `argparse.Namespace`; `None` for any other value.
pub(crate) fn fields_of<'py>(value: &Bound<'py, PyAny>) -> PyResult<Option<Fields<'py>>> {
    let py = value.py();
    let is_mapping = value.is_instance_of::<PyDict>()
        || value.is_instance(&py.import("collections.abc")?.getattr("Mapping")?)?;
    let items = if is_mapping {
        // Bounded before anything is read: a mapping of millions of keys is no config.
        let size = value.len()?;
        if size > MAX_FLATTENED {
            return Err(PyValueError::new_err(format!(
                "a mapping of {size} entries holds more than the {MAX_FLATTENED} values \
                 parameters may flatten to; log it as an artifact"
            )));
        }
        value.call_method0("items")?
    } else if is_dataclass_instance(value)? {
        let fields = py.import("dataclasses")?.call_method1("fields", (value,))?;
        let mut named = Vec::new();
        for field in fields.try_iter()? {
            let name: String = field?.getattr("name")?.extract()?;
            let field_value = value.getattr(name.as_str())?;
            named.push((name, field_value));
        }
        return Ok(Some(named));
    } else if value.is_instance(&py.import("argparse")?.getattr("Namespace")?)? {
        py.import("builtins")?
            .call_method1("vars", (value,))?
            .call_method0("items")?
    } else if is_pydantic_model(value)? {
        value.call_method0("model_dump")?.call_method0("items")?
    } else {
        return Ok(None);
    };
    let mut named = Vec::new();
    for item in items.try_iter()? {
        let (key, field_value): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item?.extract()?;
        named.push((key_text(&key)?, field_value));
    }
    Ok(Some(named))
}

/// Flattens `value`, logged as `name`, into `out`; the error names the dotted name at fault.
pub(crate) fn flatten(
    name: &str,
    value: &Bound<'_, PyAny>,
    out: &mut Vec<Parameter>,
) -> PyResult<()> {
    flatten_at(name.to_owned(), value, 0, out)
}

/// Checks the name and adds the parameter.
fn push(name: String, value: ParameterValue, out: &mut Vec<Parameter>) -> PyResult<()> {
    validate_name("parameter", &name).map_err(|e| PyValueError::new_err(e.to_string()))?;
    if out.len() >= MAX_FLATTENED {
        return Err(PyValueError::new_err(format!(
            "parameter {name:?}: the parameters flatten to more than {MAX_FLATTENED} values; \
             log large structures as an artifact"
        )));
    }
    out.push(Parameter { name, value });
    Ok(())
}

fn flatten_at(
    name: String,
    value: &Bound<'_, PyAny>,
    depth: usize,
    out: &mut Vec<Parameter>,
) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "parameter {name:?}: nested more than {MAX_DEPTH} levels deep (does it hold itself?)"
        )));
    }
    if let Some(plain) = plain_value(&name, value)? {
        return push(name, plain, out);
    }
    let py = value.py();
    if value.is_instance(&py.import("enum")?.getattr("Enum")?)? {
        // The member's value where it is plain (`Optimizer.ADAM = "adam"` is "adam"), else
        // its name.
        let member_value = value.getattr("value")?;
        let plain = match plain_value(&name, &member_value)? {
            Some(plain) => plain,
            None => ParameterValue::Str(value.getattr("name")?.extract()?),
        };
        return push(name, plain, out);
    }
    if value.is_instance(&py.import("os")?.getattr("PathLike")?)? {
        let path = py.import("os")?.call_method1("fspath", (value,))?;
        return push(name, ParameterValue::Str(path.str()?.to_string()), out);
    }
    if is_array_like(value)? {
        // NumPy and torch: a scalar (0-d) as its Python value, an array as a list.
        let ndim: usize = value.getattr("ndim")?.extract().unwrap_or(0);
        let size: usize = match value.getattr("numel") {
            Ok(numel) => numel.call0()?.extract()?,
            Err(_) => value.getattr("size")?.extract()?,
        };
        if size > MAX_FLATTENED {
            return Err(PyValueError::new_err(format!(
                "parameter {name:?}: an array of {size} values is not a parameter; log it as \
                 an artifact"
            )));
        }
        let plain = if ndim == 0 {
            value.call_method0("item")?
        } else {
            value.call_method0("tolist")?
        };
        return flatten_at(name, &plain, depth + 1, out);
    }
    if let Some(fields) = fields_of(value)? {
        if fields.is_empty() {
            return push(name, ParameterValue::Str("{}".to_owned()), out);
        }
        for (key, field_value) in fields {
            flatten_at(format!("{name}.{key}"), &field_value, depth + 1, out)?;
        }
        return Ok(());
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let size = value.len()?;
        if out.len() + size > MAX_FLATTENED {
            return Err(PyValueError::new_err(format!(
                "parameter {name:?}: a list of {size} values is more than the \
                 {MAX_FLATTENED} parameters may flatten to; log it as an artifact"
            )));
        }
        let items: Vec<Bound<'_, PyAny>> = value.try_iter()?.collect::<PyResult<_>>()?;
        if items.is_empty() {
            return push(name, ParameterValue::Str("[]".to_owned()), out);
        }
        for (index, item) in items.iter().enumerate() {
            flatten_at(format!("{name}.{index}"), item, depth + 1, out)?;
        }
        return Ok(());
    }
    // Whatever else has `__index__` or `__float__` (Decimal, Fraction), or the error that
    // names the kinds a parameter may be.
    push(name.clone(), parameter_value(&name, value)?, out)
}

/// `None`, bool, str, int and float (their subclasses too: `IntEnum`, `StrEnum`,
/// `numpy.float64`) as values; `None` for anything else.
fn plain_value(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Option<ParameterValue>> {
    if value.is_none() {
        return Ok(Some(ParameterValue::Null));
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Some(ParameterValue::Bool(b.is_true())));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Some(ParameterValue::Str(s.to_str()?.to_owned())));
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(Some(ParameterValue::Float(f.value())));
    }
    if value.is_instance_of::<PyInt>() {
        return parameter_value(name, value).map(Some);
    }
    Ok(None)
}

/// A mapping's key as a name segment: text or a whole number.
fn key_text(key: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = key.cast::<PyString>() {
        return Ok(text.to_str()?.to_owned());
    }
    if key.is_instance_of::<PyInt>() && !key.is_instance_of::<PyBool>() {
        return Ok(key.str()?.to_string());
    }
    Err(PyTypeError::new_err(format!(
        "parameter names must be str (or int keys of a dict), got {}",
        short_repr(key)
    )))
}

fn is_dataclass_instance(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    // The `__dataclass_fields__` check first: most values are not dataclasses, and importing
    // nothing for them keeps flattening cheap.
    if !value.hasattr("__dataclass_fields__")? || value.is_instance_of::<pyo3::types::PyType>() {
        return Ok(false);
    }
    value
        .py()
        .import("dataclasses")?
        .call_method1("is_dataclass", (value,))?
        .is_truthy()
}

/// A pydantic (v2) model instance: it dumps its fields with `model_dump()`.
fn is_pydantic_model(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    // `model_fields` is looked up on the class: pydantic deprecates reading it from an
    // instance.
    Ok(!value.is_instance_of::<pyo3::types::PyType>()
        && value.hasattr("model_dump")?
        && value.get_type().hasattr("model_fields")?)
}

/// A NumPy array or scalar, or a torch tensor: `item()`, `tolist()` and a `dtype`.
fn is_array_like(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(value.hasattr("dtype")? && value.hasattr("item")? && value.hasattr("tolist")?)
}
