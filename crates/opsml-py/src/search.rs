//! `search_experiments`: the filter language evaluated in the store.

use opsml_experiment::{default_store, SearchQuery};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::card::PyCardList;
use crate::convert::short_repr;
use crate::detach::{experiment_work, store_work};

/// Experiments matching `filter`, evaluated in the store.
///
/// The filter compares card fields (`name`, `space`, `status`, `version`,
/// `created_at`, …), tags (`tags = 'x'`), parameters (`params.lr > 0.01`) and
/// metric summaries (`metrics.loss.min < 0.1`; statistics count, min, max,
/// mean, first, last, last_step) with `=`, `!=`, `<`, `<=`, `>`, `>=`, `like`,
/// `in (...)`, `is null`, joined by `and`, `or`, `not` and parentheses.
/// `order_by` takes items like `"metrics.loss.last asc"`; newest first after
/// them. A syntax error raises `ValueError` naming the position.
#[pyfunction]
#[pyo3(signature = (filter=None, space=None, order_by=None, limit=100))]
pub(crate) fn search_experiments(
    py: Python<'_>,
    filter: Option<&str>,
    space: Option<String>,
    order_by: Option<&Bound<'_, PyAny>>,
    limit: usize,
) -> PyResult<PyCardList> {
    let query = search_query(filter, space, order_by, limit)?;
    let store = store_work(py, default_store)?;
    let records = experiment_work(py, || {
        opsml_experiment::search_experiments(store.as_ref(), &query)
    })?;
    Ok(PyCardList { records })
}

/// The query of a filter, space, sort keys and limit given from Python; a syntax error is a
/// `ValueError` naming the position.
pub(crate) fn search_query(
    filter: Option<&str>,
    space: Option<String>,
    order_by: Option<&Bound<'_, PyAny>>,
    limit: usize,
) -> PyResult<SearchQuery> {
    let filter = filter
        .map(opsml_experiment::parse_filter)
        .transpose()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let order_items = order_items(order_by)?;
    let items: Vec<&str> = order_items.iter().map(String::as_str).collect();
    let order_by = opsml_experiment::parse_order_by(&items)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(SearchQuery {
        filter,
        space,
        spaces: None,
        order_by,
        limit,
    })
}

/// `order_by` as a list of strings: None, one string, or a sequence of strings.
fn order_items(order_by: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(order_by) = order_by.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(item) = order_by.cast::<PyString>() {
        return Ok(vec![item.to_str()?.to_owned()]);
    }
    let not_strings = || {
        PyTypeError::new_err(format!(
            "order_by takes a str or a list of str, got {}",
            short_repr(order_by)
        ))
    };
    order_by
        .try_iter()
        .map_err(|_| not_strings())?
        .map(|item| item?.extract::<String>().map_err(|_| not_strings()))
        .collect()
}
