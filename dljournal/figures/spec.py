"""Figure specs as stored data: JSON for the structure, one ``.npz`` per result for the arrays
(kernels, activations, images, embeddings), read back with ``allow_pickle=False``."""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .registry import Spec

SPEC, ARRAY, FLOAT = "__spec__", "__array__", "__float__"


def encode(value: Any, arrays: dict[str, np.ndarray], where: str = "figure") -> Any:
    """``value`` as JSON data; arrays (numpy, torch) go to ``arrays`` under fresh keys."""
    if isinstance(value, Spec):
        return {SPEC: value.kind, "args": {k: encode(v, arrays, f"{where}.{k}") for k, v in value.args.items()}}
    if hasattr(value, "detach"):  # a torch tensor: stored as numpy, never pickled
        value = value.detach().cpu().numpy()
    if hasattr(value, "epochs") and isinstance(value.epochs, Mapping):  # a train.History
        value = value.epochs
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = np.ascontiguousarray(value)
        return {ARRAY: key}
    if isinstance(value, Mapping):
        return {str(k): encode(v, arrays, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if (
            value
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
            and not all(math.isfinite(v) for v in value)
        ):
            return encode(np.asarray(value, dtype=float), arrays, where)  # NaN and inf survive as floats
        return [encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else {FLOAT: repr(value)}
    raise TypeError(
        f"{where}: a figure cannot hold a {type(value).__name__} ({value!r:.60}); "
        f"pass numbers, strings, lists, dicts, arrays or tensors"
    )


def decode(value: Any, array: Callable[[str], np.ndarray]) -> Any:
    """The inverse of ``encode``: nested specs become ``Spec`` again, arrays are read by key."""
    if isinstance(value, dict):
        if SPEC in value:
            return Spec(value[SPEC], {k: decode(v, array) for k, v in value["args"].items()})
        if ARRAY in value:
            return array(value[ARRAY])
        if FLOAT in value:
            return float(value[FLOAT])
        return {k: decode(v, array) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, array) for v in value]
    return value


def array_keys(value: Any) -> list[str]:
    """The array keys a stored spec refers to, in order."""
    if isinstance(value, dict):
        if ARRAY in value:
            return [value[ARRAY]]
        return [k for v in value.values() for k in array_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in array_keys(v)]
    return []


def kinds_in(value: Any) -> list[str]:
    """Every figure kind a stored spec uses (a ``panels`` figure and each of its panels)."""
    if isinstance(value, dict):
        own = [value[SPEC]] if SPEC in value else []
        return own + [k for v in value.values() for k in kinds_in(v)]
    if isinstance(value, list):
        return [k for v in value for k in kinds_in(v)]
    return []


def spec_hash(stored: Any, array: Callable[[str], np.ndarray]) -> str:
    """Hash of a stored spec's data, arrays included (by content, not by key)."""
    h = hashlib.sha256(json.dumps(stored, sort_keys=True).encode())
    for key in array_keys(stored):
        a = array(key)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    for key, a in arrays.items():
        if a.dtype == object:
            raise TypeError(f"figure array {key} holds Python objects; only numeric arrays are stored")
    with open(path, "wb") as f:
        np.savez(f, **arrays)


class Arrays:
    """A result's figure arrays, read lazily from its ``figures.npz`` (no pickles)."""

    def __init__(self, path: Path | None):
        self.path, self._npz = path, None

    def __call__(self, key: str) -> np.ndarray:
        if self._npz is None:
            if self.path is None or not self.path.is_file():
                raise FileNotFoundError(f"figure arrays missing: {self.path}")
            self._npz = np.load(self.path, allow_pickle=False)
        return self._npz[key]
