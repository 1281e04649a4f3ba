"""CIFAR-10 and CIFAR-100: the packed ``.npz`` files of the shared data root, or the standard
``cifar-10-batches-py`` / ``cifar-100-python`` folders when a user has them (original pixels).

Images are decoded once (threads: Pillow releases the GIL while decoding) and the uint8 arrays are
cached under the build folder, keyed on the source files' checksums, so later runs load in about a
second.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from ..core.files import atomic_file, file_sha256, sha
from ..core.project import ProjectError
from .registry import DatasetInfo, register_dataset, require
from .synthetic import prototype_images
from .tensors import Dataset, Normalisation, Split

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
C10_PACKED = "CIFAR10/cifar10_jpeg_q75.npz"
C10_ORIGINAL = ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"])
C100_PACKED = "CIFAR100/cifar100_webp_lossless.npz"
C100_ORIGINAL = ("cifar-100-python", ["train"], ["test"])


def decode_images(blob: np.ndarray, offsets: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Concatenated image files -> (N, H, W, 3) uint8, decoded in parallel threads."""
    from PIL import Image

    def one(i: int) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(blob[offsets[i] : offsets[i + 1]].tobytes())).convert("RGB"))

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        return np.stack(list(pool.map(one, range(len(offsets) - 1))))


class _CifarUnpickler(pickle.Unpickler):
    """Admits only what the original CIFAR pickles hold (dicts, lists, bytes, str, numbers and numpy
    arrays): a planted pickle under the data root cannot import anything, so it cannot run code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"it asks to import {module}.{name}, which a CIFAR batch never does")
        return super().find_class(module, name)


def read_cifar_pickle(path: Path) -> dict:
    """One file of the original CIFAR python release, read with the restricted unpickler."""
    try:
        with open(path, "rb") as f:
            data = _CifarUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ProjectError(f"corrupt or unsafe file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ProjectError(f"corrupt file {path}: not a CIFAR batch (a {type(data).__name__}, not a dict)")
    return data


@contextlib.contextmanager
def corrupt_names(path: Path):
    """Any failure to read a packed archive becomes one line naming the file."""
    try:
        yield
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise ProjectError(
            f"corrupt file {path}: {type(exc).__name__}: {exc} "
            "(replace it with the original from the data set's source)"
        ) from None


def _unpickle_batches(folder: Path, names: list[str], label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """The python-pickle batches of the original CIFAR release (as torchvision reads them)."""
    xs, ys = [], []
    for name in names:
        d = read_cifar_pickle(folder / name)
        if "data" not in d or label_key not in d:
            raise ProjectError(f"corrupt file {folder / name}: no 'data' or {label_key!r} in it")
        xs.append(np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(np.asarray(d[label_key], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def cached_arrays(tag: str, sources: list[Path], cache: Path, build: Callable[[], dict]) -> dict:
    """``build()``'s arrays, stored as ``cache/<tag>-<checksum>.npz`` on first use."""
    key = sha("".join(file_sha256(p) for p in sources))[:16]
    path = cache / f"{tag}-{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    arrays = build()
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    return arrays


def to_dataset(name: str, a: dict, classes: tuple[str, ...], source: str, meta: dict | None = None) -> Dataset:
    """uint8 NHWC arrays -> a Dataset of normalised float NCHW tensors (per-channel train statistics)."""
    x_train = torch.from_numpy(a["x_train"]).permute(0, 3, 1, 2).float().div_(255)  # (N, 3, 32, 32)
    x_test = torch.from_numpy(a["x_test"]).permute(0, 3, 1, 2).float().div_(255)
    norm = Normalisation(tuple(x_train.mean(dim=(0, 2, 3)).tolist()), tuple(x_train.std(dim=(0, 2, 3)).tolist()))
    return Dataset(
        name,
        Split(norm.apply(x_train).contiguous(), torch.from_numpy(a["y_train"])),
        Split(norm.apply(x_test).contiguous(), torch.from_numpy(a["y_test"])),
        classes,
        source=source,
        meta=meta or {},
        norm=norm,
    )


def _original_folder(root: Path, layout: tuple[str, list[str], list[str]]) -> Path | None:
    """The original release's folder when it is there (it wins over the packed file)."""
    folder = root / layout[0]
    return folder if (folder / layout[1][0]).is_file() else None


def _files(name: str, root: Path, layout: tuple[str, list[str], list[str]], packed: str, extra=()) -> list[Path]:
    folder = _original_folder(root, layout)
    if folder is not None:
        return require(name, folder, [*layout[1], *layout[2], *extra])
    return require(name, root, [packed])


def _original(folder: Path, files: tuple[list[str], list[str]], label_key: str) -> dict:
    """The Toronto pickles: train and test batches, decoded once into uint8 arrays."""
    (xtr, ytr), (xte, yte) = (_unpickle_batches(folder, names, label_key) for names in files)
    return {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}


def _packed(path: Path, codec: str, labels: str, **extra: str) -> dict:
    """The shared set's one npz: encoded images with their offsets, decoded once; ``extra`` arrays as named."""
    with corrupt_names(path), np.load(path) as z:
        a = {f"x_{s}": decode_images(z[f"{s}_{codec}"], z[f"{s}_offsets"]) for s in ("train", "test")}
        return a | {f"y_{s}": z[f"{s}_{labels}"] for s in ("train", "test")} | {k: z[v] for k, v in extra.items()}


# ---- CIFAR-10 ---------------------------------------------------------------------------------------
def cifar10_files(root: Path) -> list[Path]:
    return _files("cifar10", root, C10_ORIGINAL, C10_PACKED)


def cifar10(root: Path, cache: Path) -> Dataset:
    folder = _original_folder(root, C10_ORIGINAL)
    if folder is not None:
        a = cached_arrays(
            "cifar10-original", cifar10_files(root), cache, lambda: _original(folder, C10_ORIGINAL[1:], "labels")
        )
        return to_dataset("cifar10", a, CIFAR10_CLASSES, f"CIFAR-10, original pixels ({folder})")
    a = cached_arrays(
        "cifar10-jpeg-q75", cifar10_files(root), cache, lambda: _packed(root / C10_PACKED, "jpeg", "labels")
    )
    source = f"CIFAR-10, all 60,000 real images as JPEG quality-75 re-encodings ({root / C10_PACKED})"
    return to_dataset("cifar10", a, CIFAR10_CLASSES, source, {"jpeg_q75": True})


# ---- CIFAR-100 --------------------------------------------------------------------------------------
def cifar100_files(root: Path) -> list[Path]:
    return _files("cifar100", root, C100_ORIGINAL, C100_PACKED, ["meta"])


def cifar100(root: Path, cache: Path) -> Dataset:
    folder = _original_folder(root, C100_ORIGINAL)
    if folder is not None:

        def build() -> dict:
            names = read_cifar_pickle(folder / "meta")["fine_label_names"]
            return _original(folder, C100_ORIGINAL[1:], "fine_labels") | {"classes": np.array(names)}

        a = cached_arrays("cifar100-original", cifar100_files(root), cache, build)
        return to_dataset("cifar100", a, tuple(map(str, a["classes"])), f"CIFAR-100, original files ({folder})")
    a = cached_arrays(
        "cifar100-webp",
        cifar100_files(root),
        cache,
        lambda: _packed(root / C100_PACKED, "webp", "fine_labels", classes="fine_class_names"),
    )
    source = f"CIFAR-100, all 60,000 images with their exact original pixels ({root / C100_PACKED}); class-major order"
    return to_dataset("cifar100", a, tuple(map(str, a["classes"])), source)


register_dataset(
    DatasetInfo(
        "cifar10",
        cifar10_files,
        cifar10,
        lambda n_train, n_test, seed: prototype_images(
            (3, 32, 32), CIFAR10_CLASSES, n_train, n_test, seed, "cifar10(synthetic)"
        ),
    )
)
register_dataset(
    DatasetInfo(
        "cifar100",
        cifar100_files,
        cifar100,
        lambda n_train, n_test, seed: prototype_images(
            (3, 32, 32), tuple(f"class{i}" for i in range(100)), n_train, n_test, seed, "cifar100(synthetic)"
        ),
    )
)
