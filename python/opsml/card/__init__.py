"""Cards and the registries that hold them."""

from opsml._opsml import (
    CardList,
    CardRecord,
    CardRegistries,
    CardRegistry,
    CardUids,
    CodeCapture,
    ComputeEnvironment,
    ExperimentCard,
    GitInfo,
    RegistryType,
)

__all__ = [
    "CardList",
    "CardRecord",
    "CardRegistries",
    "CardRegistry",
    "CardUids",
    "CodeCapture",
    "ComputeEnvironment",
    "ExperimentCard",
    "GitInfo",
    "RegistryType",
]
