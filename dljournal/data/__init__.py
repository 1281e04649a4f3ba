"""One door to every dataset: ``load_dataset(name, ...)``, real or synthetic, and its identity.

Each data module registers its datasets (``register_dataset``); importing it here makes them known.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.files import atomic_write_text, file_sha256, sha
from ..core.project import ProjectError
from ..core.registries import import_submodules
from .functions import FUNCTIONS, sample_function
from .registry import DATASETS, DatasetInfo, get_info, register_dataset, require
from .tensors import Dataset, Normalisation, Split

# every module of this package may register datasets on import: a new file needs no wiring (modules
# import heavy decoders such as OpenCV inside their loaders, not at the top)
import_submodules(__name__, __path__)

__all__ = [
    "Dataset",
    "Normalisation",
    "Split",
    "DatasetInfo",
    "DATASETS",
    "load_dataset",
    "data_identity",
    "register_dataset",
    "require",
    "FUNCTIONS",
    "sample_function",
]


def load_dataset(
    name: str,
    *,
    data_root: Path,
    cache: Path,
    synthetic: bool = False,
    n_train: int = 512,
    n_test: int = 256,
    seed: int = 0,
) -> Any:
    """The dataset ``name``: real from ``data_root``, or its synthetic stand-in (smoke profile)."""
    info = get_info(name)
    if synthetic:
        return info.synthetic(n_train, n_test, seed)
    info.files(data_root)  # one clear line if something is missing
    return info.loader(data_root, cache)


def data_identity(name: str, *, data_root: Path, memo: Path, synthetic: bool = False) -> str:
    """A string that changes when the dataset's files change.

    Checksums are computed once per (path, size, mtime) and remembered in ``memo``.
    """
    if synthetic:
        return f"{name}:synthetic"
    info = get_info(name)
    try:
        paths = info.files(data_root)
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
            entry = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": file_sha256(path)}
            known[str(path)] = entry
            changed = True
        digests.append(entry["sha256"])
    if changed:
        atomic_write_text(memo, json.dumps(known, indent=1))
    return f"{name}:{sha(''.join(digests))[:16]}"
