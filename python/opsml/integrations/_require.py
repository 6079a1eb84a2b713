"""The clear error of an integration whose framework is not installed."""

from __future__ import annotations


def missing(module: str, extra: str) -> ImportError:
    """The ImportError of integration `extra` without `module`: it names the extra to install."""
    return ImportError(
        f"opsml.integrations.{extra} needs {module}, which is not installed: "
        f'pip install "opsml-tracker[{extra}]"'
    )
