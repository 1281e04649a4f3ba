"""One door to every dataset: ``load_dataset(name, ...)``, real or synthetic, and its identity."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..fingerprint import sha
from ..project import ProjectError
from ..store import atomic_write_text
from .functions import FUNCTIONS, sample_function
from .mnist import DIGITS, FASHION_CLASSES, fashion_mnist, mnist
from .synthetic import prototype_images
from .tensors import Dataset, Split

__all__ = ["Dataset", "Split", "DatasetInfo", "DATASETS", "load_dataset", "data_identity",
           "FUNCTIONS", "sample_function"]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    files: tuple[str, ...]  # relative to the data root; their checksums are the data's identity
    loader: Callable[[Path, Path], Dataset]  # (data_root, writable cache) -> Dataset
    shape: tuple[int, ...]
    classes: tuple[str, ...]


def _idx_files(folder: str) -> tuple[str, ...]:
    from .mnist import GZ_FILES
    return tuple(f"{folder}/raw/{f}" for f in GZ_FILES)


DATASETS: dict[str, DatasetInfo] = {
    d.name: d for d in (
        DatasetInfo("mnist", _idx_files("MNIST"), mnist, (1, 28, 28), DIGITS),
        DatasetInfo("fashion_mnist", _idx_files("FashionMNIST"), fashion_mnist, (1, 28, 28), FASHION_CLASSES),
    )
}


def get_info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise ProjectError(f"unknown dataset {name!r} (known: {', '.join(sorted(DATASETS))})")
    return DATASETS[name]


def check_files(info: DatasetInfo, data_root: Path) -> list[Path]:
    paths = [data_root / f for f in info.files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise ProjectError(f"dataset {info.name}: file not found: {missing[0]} "
                           f"(data root {data_root}; set --data-root or $DLJOURNAL_DATA_ROOT)")
    return paths


def load_dataset(name: str, *, data_root: Path, cache: Path, synthetic: bool = False,
                 n_train: int = 512, n_test: int = 256, seed: int = 0) -> Dataset:
    """The dataset ``name``: real from ``data_root``, or its synthetic stand-in (smoke profile)."""
    info = get_info(name)
    if synthetic:
        return prototype_images(info.shape, info.classes, n_train, n_test, seed, name=f"{name}(synthetic)")
    check_files(info, data_root)
    return info.loader(data_root, cache)


def data_identity(name: str, *, data_root: Path, memo: Path, synthetic: bool = False) -> str:
    """A string that changes when the dataset's files change.

    Checksums are computed once per (path, size, mtime) and remembered in ``memo``.
    """
    if synthetic:
        return f"{name}:synthetic"
    info = get_info(name)
    try:
        paths = check_files(info, data_root)
    except ProjectError:
        return f"{name}:missing"  # the run fails later with the one-line error; listing still works
    try:
        known = json.loads(memo.read_text()) if memo.is_file() else {}
    except (OSError, ValueError):
        known = {}  # an unreadable memo only costs re-hashing
    digests, changed = [], False
    for path in paths:
        st = path.stat()
        entry = known.get(str(path))
        if not entry or entry["size"] != st.st_size or entry["mtime_ns"] != st.st_mtime_ns:
            entry = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha(path.read_bytes())}
            known[str(path)] = entry
            changed = True
        digests.append(entry["sha256"])
    if changed:
        atomic_write_text(memo, json.dumps(known, indent=1))
    return f"{name}:{sha(''.join(digests))[:16]}"
