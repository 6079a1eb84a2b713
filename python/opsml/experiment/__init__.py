"""Experiments: start them, log metrics and parameters, read them back."""

from opsml._opsml import (
    EvalMetrics,
    Experiment,
    GpuMetrics,
    HardwareMetrics,
    HardwareSamples,
    Metric,
    Metrics,
    Parameter,
    Parameters,
    download_artifact,
    get_experiment_hardware_metrics,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)

# The name opsml 3 gave it.
ExperimentEvalMetrics = EvalMetrics

__all__ = [
    "EvalMetrics",
    "Experiment",
    "ExperimentEvalMetrics",
    "GpuMetrics",
    "HardwareMetrics",
    "HardwareSamples",
    "Metric",
    "Metrics",
    "Parameter",
    "Parameters",
    "download_artifact",
    "get_experiment_hardware_metrics",
    "get_experiment_metrics",
    "get_experiment_parameters",
    "start_experiment",
]
