"""scikit-learn: `autolog()` makes every `fit` of an estimator an experiment of its own, with
the estimator's parameters (nested ones under dotted names), the fit time and the score on
the training data. Opt-in, and undone with `autolog(disable=True)`.

    from opsml.integrations.sklearn import autolog
    from sklearn.linear_model import LogisticRegression

    autolog(space="baselines")
    LogisticRegression(C=0.5).fit(X, y)   # one experiment, named "LogisticRegression"

Only the outermost `fit` is logged: a pipeline or a grid search is one experiment, not one per
estimator it fits inside.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from opsml import start_experiment
from opsml.integrations._require import missing

try:
    from sklearn.utils import all_estimators  # type: ignore[import-untyped]
except ImportError as error:
    raise missing("scikit-learn", "sklearn") from error

_log = logging.getLogger(__name__)
# Each estimator class autolog wrapped: its own `fit`, or None where it inherited one.
_wrapped: dict[type, Callable[..., Any] | None] = {}
_settings: dict[str, str | None] = {"space": None}
# How deep this thread is in fits: only the outermost is logged.
_depth = threading.local()
# The attribute of a logging `fit` that holds the `fit` it wraps.
_ORIGINAL = "_opsml_original_fit"
# Longest text kept of a parameter that is not a plain value (an inner estimator, a function).
_MAX_TEXT = 250


def autolog(disable: bool = False, *, space: str | None = None) -> None:
    """Logs every `fit` of every scikit-learn estimator from now on as an experiment in
    `space` (the default space when None); `disable=True` stops it."""
    if disable:
        for cls, own in _wrapped.items():
            if own is None:
                delattr(cls, "fit")
            else:
                setattr(cls, "fit", own)  # noqa: B010  (a class's method, put back)
        _wrapped.clear()
        return
    _settings["space"] = space
    for _, cls in all_estimators():
        fit = getattr(cls, "fit", None)
        if fit is None or cls in _wrapped:
            continue
        # A search's `fit` is inherited from a base class that is no estimator of its own:
        # every estimator gets a logging `fit` of its own, around the original.
        _wrapped[cls] = cls.__dict__.get("fit")
        setattr(cls, "fit", _logging_fit(getattr(fit, _ORIGINAL, fit)))  # noqa: B010


def _plain(value: Any) -> Any:
    """A parameter value opsml stores as it is, or its text (an estimator, a function)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    text = repr(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _logging_fit(fit: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fit)
    def fit_and_log(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_depth, "value", 0) > 0:
            return fit(self, *args, **kwargs)
        _depth.value = 1
        try:
            name = type(self).__name__
            with start_experiment(space=_settings["space"], name=name, tags=["sklearn"]) as exp:
                params = {k: _plain(v) for k, v in self.get_params(deep=True).items()}
                exp.log_parameters({"estimator": name, **params})
                started = time.perf_counter()
                fitted = fit(self, *args, **kwargs)
                exp.log_metric("fit_time_seconds", time.perf_counter() - started)
                # Estimators take (X, y); transformers of labels take y alone, and score nothing.
                X = args[0] if args else kwargs.get("X")
                y = args[1] if len(args) > 1 else kwargs.get("y")
                if X is not None and y is not None and hasattr(self, "score"):
                    try:
                        exp.log_metric("training_score", float(self.score(X, y)))
                    except Exception as error:
                        # A score that does not apply to this estimator is no failure of its fit.
                        _log.warning("%s: no training score: %s", name, error)
            return fitted
        finally:
            _depth.value = 0

    setattr(fit_and_log, _ORIGINAL, fit)
    return fit_and_log
