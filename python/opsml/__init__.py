"""opsml: experiment tracking for machine learning with a Rust core.

    from opsml import start_experiment

    with start_experiment(space="vision", name="resnet") as exp:
        exp.log_parameters({"lr": 1e-3})
        for step in range(100):
            exp.log_metric("loss", 1 / (step + 1), step=step)
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
