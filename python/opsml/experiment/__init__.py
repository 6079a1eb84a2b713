"""Experiments: start them, log metrics and parameters, read them back."""

from opsml._opsml import (
    Experiment,
    Metric,
    Metrics,
    Parameter,
    Parameters,
    download_artifact,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)

__all__ = [
    "Experiment",
    "Metric",
    "Metrics",
    "Parameter",
    "Parameters",
    "download_artifact",
    "get_experiment_metrics",
    "get_experiment_parameters",
    "start_experiment",
]
