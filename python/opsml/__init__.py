"""opsml: experiment tracking for machine learning with a Rust core.

Start with ``start_experiment``; read runs back with ``CardRegistry`` and
``get_experiment_metrics``.
"""

import atexit
import os
import sys

from opsml._opsml import (
    ArtifactNotFoundError,
    ArtifactTamperedError,
    CardList,
    CardNotFoundError,
    CardRecord,
    CardRegistries,
    CardRegistry,
    Comparison,
    ConfigurationError,
    EncryptionError,
    EvalMetrics,
    Experiment,
    ExperimentCard,
    ExperimentEndedError,
    HardwareMetrics,
    HardwareSamples,
    Metric,
    Metrics,
    MetricSummary,
    OpsmlError,
    Parameter,
    Parameters,
    RegistryType,
    RunDiff,
    StoreError,
    UiServer,
    WrongMasterKeyError,
    __version__,
    _after_fork_in_child,
    _after_fork_in_parent,
    _before_fork,
    _close_logging,
    _end_running_experiments,
    compare_experiments,
    diff,
    download_artifact,
    get_experiment_hardware_metrics,
    get_experiment_metrics,
    get_experiment_parameters,
    plot_metrics,
    runs,
    search_experiments,
    start_experiment,
    ui,
    write_report,
)


def _end_at_exit() -> None:
    """Stores and ends experiments never ended explicitly.

    They are completed, unless the program is dying of an uncaught exception:
    Python has printed it by now and left it in ``sys.last_value``.
    """
    last = None if hasattr(sys, "ps1") else getattr(sys, "last_value", None)
    if last is None:
        _end_running_experiments("completed")
    elif isinstance(last, KeyboardInterrupt):
        _end_running_experiments("killed")
    else:
        _end_running_experiments("failed")
    # What the ending said reaches Python's logging before the interpreter goes.
    _close_logging()


atexit.register(_end_at_exit)


def _install_signal_handlers() -> None:
    """Makes SIGTERM store and end running experiments as killed before the
    process ends as it would have without opsml. Called by the first
    start_experiment (not at import, which stays cheap); a handler the
    program installed itself is left alone."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def end_on_sigterm(signum: int, frame: object) -> None:
        _end_running_experiments("killed")
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, end_on_sigterm)


class _ForkMarker:
    """Keeps the after-fork registration below alive (multiprocessing holds it weakly)."""


_FORK_MARKER = _ForkMarker()


def _end_at_multiprocessing_exit(marker: _ForkMarker) -> None:
    """In a multiprocessing child: end experiments when multiprocessing shuts it down."""
    from multiprocessing import util

    util.Finalize(None, _end_at_exit, exitpriority=10)


def _after_fork_child() -> None:
    _after_fork_in_child()
    # A multiprocessing child leaves through os._exit, which skips atexit; what it
    # logged must still be stored. Its finalizers are reset after this hook runs,
    # so the finalizer is registered by multiprocessing's own after-fork callbacks.
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util.register_after_fork(_FORK_MARKER, _end_at_multiprocessing_exit)


# A forked child (data-loader workers, multiprocessing) gets its own runtime and
# store connections; its parent's queued points stay the parent's to write, and
# the child logs through a writer of its own. Windows has no fork (nor
# os.register_at_fork): its child processes start afresh and import opsml anew.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_child,
    )

__all__ = [
    "ArtifactNotFoundError",
    "ArtifactTamperedError",
    "CardList",
    "CardNotFoundError",
    "CardRecord",
    "CardRegistries",
    "CardRegistry",
    "Comparison",
    "ConfigurationError",
    "EncryptionError",
    "EvalMetrics",
    "Experiment",
    "ExperimentCard",
    "ExperimentEndedError",
    "HardwareMetrics",
    "HardwareSamples",
    "Metric",
    "MetricSummary",
    "Metrics",
    "OpsmlError",
    "Parameter",
    "Parameters",
    "RegistryType",
    "RunDiff",
    "StoreError",
    "UiServer",
    "WrongMasterKeyError",
    "__version__",
    "compare_experiments",
    "diff",
    "download_artifact",
    "get_experiment_hardware_metrics",
    "get_experiment_metrics",
    "get_experiment_parameters",
    "plot_metrics",
    "runs",
    "search_experiments",
    "start_experiment",
    "ui",
    "write_report",
]
