//! `RegistryType`, `CardRegistry` and `CardRegistries`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use opsml_experiment::{CardQuery, CardRegistries, CardRegistry};
use opsml_experiment::{RegistryType, Version};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::card::{PyCardList, PyExperimentCard};
use crate::convert::{datetime_micros, short_repr, tags as extract_tags};
use crate::detach::store_work;
use crate::error::registry_error;

/// Kinds of cards a registry holds.
#[pyclass(name = "RegistryType", module = "opsml._opsml", eq, eq_int, frozen)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PyRegistryType {
    Experiment,
}

impl From<PyRegistryType> for RegistryType {
    fn from(value: PyRegistryType) -> Self {
        match value {
            PyRegistryType::Experiment => Self::Experiment,
        }
    }
}

fn parse_registry_type(value: &Bound<'_, PyAny>) -> PyResult<RegistryType> {
    if let Ok(t) = value.cast::<PyRegistryType>() {
        return Ok((*t.get()).into());
    }
    if let Ok(s) = value.cast::<PyString>() {
        return s
            .to_str()?
            .parse()
            .map_err(|e: opsml_experiment::TypesError| PyValueError::new_err(e.to_string()));
    }
    Err(PyTypeError::new_err(format!(
        "registry type must be a RegistryType or a str, got {}",
        short_repr(value)
    )))
}

fn parse_version(version: &str) -> PyResult<Version> {
    opsml_experiment::parse_version(version).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A `max_date` argument: a datetime, or "YYYY-MM-DD" meaning the end of that day (UTC).
fn max_date(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DateTime<Utc>>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = value.cast::<PyString>() {
        let text = s.to_str()?;
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| {
            PyValueError::new_err(format!("max_date {text:?} is not a YYYY-MM-DD date: {e}"))
        })?;
        #[allow(clippy::expect_used, reason = "23:59:59.999999 is a valid time of day")]
        let end_of_day =
            date.and_time(NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).expect("valid time"));
        return Ok(Some(end_of_day.and_utc()));
    }
    let micros = datetime_micros("max_date", value)?;
    Ok(Some(opsml_experiment::micros_to_datetime(micros)))
}

/// The cards of one type in the store of `OPSML_TRACKING_URI`.
///
/// Args:
///     registry_type: `RegistryType.Experiment` or `"experiment"`.
#[pyclass(name = "CardRegistry", module = "opsml._opsml", frozen)]
pub struct PyCardRegistry {
    pub(crate) registry: CardRegistry,
}

#[pymethods]
impl PyCardRegistry {
    #[new]
    fn new(py: Python<'_>, registry_type: &Bound<'_, PyAny>) -> PyResult<Self> {
        let registry_type = parse_registry_type(registry_type)?;
        let registry = store_work(py, || CardRegistry::new(registry_type))?;
        Ok(Self { registry })
    }

    /// The type of cards this registry holds.
    #[getter]
    fn registry_type(&self) -> PyRegistryType {
        match self.registry.registry_type() {
            RegistryType::Experiment => PyRegistryType::Experiment,
        }
    }

    /// Lists card records. Every argument filters; `tags` keeps cards having
    /// all of them; `max_date` (datetime or "YYYY-MM-DD") keeps cards created
    /// by then; `sort_by_timestamp` lists newest first, otherwise by space,
    /// name and newest version.
    #[pyo3(signature = (uid=None, space=None, name=None, version=None, tags=None, max_date=None, sort_by_timestamp=false, limit=25))]
    #[allow(clippy::too_many_arguments)]
    fn list_cards(
        &self,
        py: Python<'_>,
        uid: Option<String>,
        space: Option<String>,
        name: Option<String>,
        version: Option<&str>,
        tags: Option<&Bound<'_, PyAny>>,
        max_date: Option<&Bound<'_, PyAny>>,
        sort_by_timestamp: bool,
        limit: usize,
    ) -> PyResult<PyCardList> {
        let query = CardQuery {
            uid,
            space,
            name,
            version: version.map(parse_version).transpose()?,
            tags: extract_tags(tags)?,
            max_date: self::max_date(max_date)?,
            sort_by_timestamp,
            limit,
            ..CardQuery::default()
        };
        let records = store_work(py, || self.registry.list_cards(&query))?;
        Ok(PyCardList { records })
    }

    /// Loads a card by `uid`, or by `space` and `name` (the newest version
    /// unless `version` is given).
    #[pyo3(signature = (uid=None, space=None, name=None, version=None))]
    fn load_card(
        &self,
        py: Python<'_>,
        uid: Option<&str>,
        space: Option<&str>,
        name: Option<&str>,
        version: Option<&str>,
    ) -> PyResult<PyExperimentCard> {
        let card = match (uid, name) {
            (Some(uid), _) => store_work(py, || self.registry.load_by_uid(uid))?,
            (None, Some(name)) => {
                let space = space.unwrap_or(opsml_experiment::DEFAULT_SPACE);
                let version = version.map(parse_version).transpose()?;
                store_work(py, || {
                    self.registry.load_by_name(space, name, version.as_ref())
                })?
            }
            (None, None) => {
                return Err(PyValueError::new_err(
                    "load_card needs a uid, or a name (with optional space and version)",
                ))
            }
        };
        Ok(PyExperimentCard {
            card,
            store: self.registry.store().clone(),
            of_running_experiment: false,
        })
    }

    /// Saves a card's tags, status, description and evaluation metrics.
    fn update_card(&self, py: Python<'_>, card: &Bound<'_, PyExperimentCard>) -> PyResult<()> {
        let card = card.borrow().card.clone();
        store_work(py, || self.registry.update_card(&card))
    }

    /// Deletes a card (given as a card or a uid) with its metrics and parameters.
    fn delete_card(&self, py: Python<'_>, card: &Bound<'_, PyAny>) -> PyResult<()> {
        let uid = if let Ok(card) = card.cast::<PyExperimentCard>() {
            card.borrow().card.uid.clone()
        } else if let Ok(uid) = card.cast::<PyString>() {
            uid.to_str()?.to_owned()
        } else {
            return Err(PyTypeError::new_err(format!(
                "delete_card takes an ExperimentCard or a uid, got {}",
                short_repr(card)
            )));
        };
        store_work(py, || self.registry.delete_card(&uid))
    }

    fn __repr__(&self) -> String {
        format!(
            "CardRegistry({}, {})",
            self.registry.registry_type().as_str(),
            self.registry.store().location()
        )
    }
}

/// Every registry of the store of `OPSML_TRACKING_URI`.
#[pyclass(name = "CardRegistries", module = "opsml._opsml", frozen)]
pub struct PyCardRegistries {
    experiment: Py<PyCardRegistry>,
}

#[pymethods]
impl PyCardRegistries {
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        let registries = py.detach(CardRegistries::new).map_err(registry_error)?;
        Ok(Self {
            experiment: Py::new(
                py,
                PyCardRegistry {
                    registry: registries.experiment,
                },
            )?,
        })
    }

    /// The experiment registry.
    #[getter]
    fn experiment(&self, py: Python<'_>) -> Py<PyCardRegistry> {
        self.experiment.clone_ref(py)
    }
}
