//! The Python extension module `opsml._opsml`: thin wrappers over the core
//! crates. Every Rust error becomes a Python exception in `error.rs` only.

mod card;
mod convert;
mod detach;
mod error;
mod experiment;
mod metric;
mod parameter;
mod read;
mod registry;

#[pyo3::pymodule]
mod _opsml {
    #[pymodule_export]
    use crate::card::{
        PyCardList, PyCardRecord, PyCardUids, PyComputeEnvironment, PyExperimentCard,
    };
    #[pymodule_export]
    use crate::error::{
        CardNotFoundError, ConfigurationError, ExperimentEndedError, OpsmlError, StoreError,
    };
    #[pymodule_export]
    use crate::experiment::{
        _end_running_experiments, get_experiment_metrics, get_experiment_parameters,
        start_experiment, PyExperiment,
    };
    #[pymodule_export]
    use crate::metric::{MetricsIter, PyMetric, PyMetrics};
    #[pymodule_export]
    use crate::parameter::{PyParameter, PyParameters};
    #[pymodule_export]
    use crate::registry::{PyCardRegistries, PyCardRegistry, PyRegistryType};

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
