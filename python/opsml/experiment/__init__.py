"""Experiments: start them, log metrics and parameters, read them back."""

from opsml._opsml import (
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

__all__ = [
    "Experiment",
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
