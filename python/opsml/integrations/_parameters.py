"""Framework settings as parameters: what is a plain value kept, the rest left out, and a
setting opsml refuses (a bad name) skipped with a warning rather than failing the training."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from opsml import Experiment

log = logging.getLogger("opsml.integrations")

# What `plain` returns for a value that is not a parameter.
_DROP = object()

# Nesting kept; deeper values are left out.
_MAX_DEPTH = 16


def plain(value: Any, depth: int = 0) -> Any:
    """`value` with mappings and lists kept for flattening and what is not a plain value left
    out."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if depth > _MAX_DEPTH:
        return _DROP
    if isinstance(value, Mapping):
        kept = {str(k): plain(v, depth + 1) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not _DROP}
    if isinstance(value, (list, tuple)):
        return [v for v in (plain(v, depth + 1) for v in value) if v is not _DROP]
    return _DROP


def log_parameters(experiment: Experiment, fields: dict[str, Any]) -> None:
    """Logs `fields` (groups of settings by prefix); where the whole refuses (a bad name, too
    many values), each setting alone, leaving out the ones refused."""
    try:
        experiment.log_parameters(fields)
        return
    except (TypeError, ValueError):
        pass
    for prefix, part in fields.items():
        for name, value in part.items() if isinstance(part, dict) else [(None, part)]:
            try:
                experiment.log_parameters({prefix: {name: value} if name is not None else value})
            except (TypeError, ValueError) as error:
                log.warning("parameter %s.%s not logged: %s", prefix, name, error)
