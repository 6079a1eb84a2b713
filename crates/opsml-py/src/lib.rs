//! The Python extension module `opsml._opsml`: thin wrappers over the core
//! crates. Every Rust error becomes a Python exception in `error.rs` only.

// PyO3 hands arguments over as owned values, and error mappers fit `map_err`.
#![allow(clippy::needless_pass_by_value)]

mod card;
mod cli;
mod columnar;
mod compare;
mod convert;
mod detach;
mod diff;
mod error;
mod eval_metrics;
mod experiment;
#[cfg(feature = "fault-injection")]
mod fault;
mod flatten;
mod hardware;
mod hardware_table;
mod logging;
mod metric;
mod notebook;
mod parameter;
mod plot;
mod read;
mod registry;
mod runs;
mod script;
mod search;
mod summary;
mod ui;

#[pyo3::pymodule]
mod _opsml {
    #[pymodule_export]
    use crate::card::{
        PyCardList, PyCardRecord, PyCardUids, PyCodeCapture, PyComputeEnvironment,
        PyExperimentCard, PyGitInfo,
    };
    #[pymodule_export]
    use crate::cli::_cli_main;
    #[pymodule_export]
    use crate::compare::{compare_experiments, PyComparison};
    #[pymodule_export]
    use crate::diff::{diff, PyRunDiff};
    #[pymodule_export]
    use crate::error::{
        ArtifactNotFoundError, ArtifactTamperedError, CardNotFoundError, ConfigurationError,
        EncryptionError, ExperimentEndedError, OpsmlError, StoreError, WrongMasterKeyError,
    };
    #[pymodule_export]
    use crate::eval_metrics::PyEvalMetrics;
    #[pymodule_export]
    use crate::experiment::{
        _after_fork_in_child, _after_fork_in_parent, _before_fork, _end_running_experiments,
        _runtime_alive_tasks, download_artifact, get_experiment_hardware_metrics,
        get_experiment_metrics, get_experiment_parameters, start_experiment, PyExperiment,
    };
    #[pymodule_export]
    use crate::hardware::{PyGpuMetrics, PyHardwareMetrics};
    #[pymodule_export]
    use crate::hardware_table::PyHardwareSamples;
    #[pymodule_export]
    use crate::logging::_close_logging;
    #[pymodule_export]
    use crate::metric::{MetricsIter, PyMetric, PyMetrics};
    #[pymodule_export]
    use crate::parameter::{PyParameter, PyParameters};
    #[pymodule_export]
    use crate::plot::{plot_metrics, write_report};
    #[pymodule_export]
    use crate::registry::{PyCardRegistries, PyCardRegistry, PyRegistryType};
    #[pymodule_export]
    use crate::runs::{runs, PyRunsBatch};
    #[pymodule_export]
    use crate::search::search_experiments;
    #[pymodule_export]
    use crate::summary::PyMetricSummary;
    #[pymodule_export]
    use crate::ui::{ui, PyUiServer};

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        crate::logging::init();
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
