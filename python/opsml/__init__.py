"""opsml: experiment tracking for machine learning with a Rust core.

Start with ``start_experiment``; read runs back with ``CardRegistry`` and
``get_experiment_metrics``.
"""

import atexit

from opsml._opsml import (
    CardList,
    CardNotFoundError,
    CardRecord,
    CardRegistries,
    CardRegistry,
    ConfigurationError,
    Experiment,
    ExperimentCard,
    ExperimentEndedError,
    Metric,
    Metrics,
    OpsmlError,
    Parameter,
    Parameters,
    RegistryType,
    StoreError,
    __version__,
    _end_running_experiments,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)

# Experiments never ended explicitly are drained and completed when Python exits.
atexit.register(_end_running_experiments)

__all__ = [
    "CardList",
    "CardNotFoundError",
    "CardRecord",
    "CardRegistries",
    "CardRegistry",
    "ConfigurationError",
    "Experiment",
    "ExperimentCard",
    "ExperimentEndedError",
    "Metric",
    "Metrics",
    "OpsmlError",
    "Parameter",
    "Parameters",
    "RegistryType",
    "StoreError",
    "__version__",
    "get_experiment_metrics",
    "get_experiment_parameters",
    "start_experiment",
]
