"""The dataset registry: each data module registers what it can load (timm style)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.project import ProjectError
from ..core.registries import Registry


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    files: Callable[[Path], list[Path]]  # the files that make up the data under a root; ProjectError if absent
    loader: Callable[[Path, Path], Any]  # (data_root, writable cache folder) -> the data
    synthetic: Callable[[int, int, int], Any]  # (n_train, n_test, seed) -> a stand-in of the same kind


DATASETS: Registry[DatasetInfo] = Registry("dataset", defined_by=lambda info: info.loader)


def register_dataset(info: DatasetInfo) -> DatasetInfo:
    return DATASETS.register(info.name, info)


def get_info(name: str) -> DatasetInfo:
    return DATASETS.get(name)


def require(name: str, data_root: Path, relative: list[str] | tuple[str, ...]) -> list[Path]:
    """The files ``relative`` under ``data_root``, or one line naming the first one missing."""
    paths = [data_root / f for f in relative]
    for p in paths:
        if not p.is_file():
            raise ProjectError(
                f"dataset {name}: file not found: {p} (data root {data_root}; set --data-root or $DLJOURNAL_DATA_ROOT)"
            )
    return paths
