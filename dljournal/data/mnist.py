"""MNIST and FashionMNIST from the md5-verified ``.gz`` files under a data root."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import torch

from .registry import DatasetInfo, register_dataset, require
from .synthetic import prototype_images
from .tensors import Dataset, Split

GZ_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGITS = tuple(str(i) for i in range(10))


def load_idx(folder: str, data_root: Path, cache: Path, classes: tuple[str, ...],
             mean: float, std: float, tv_class: str) -> Dataset:
    """Load a torchvision MNIST-style dataset without touching ``data_root``.

    torchvision's ``download=True`` md5-checks the ``.gz`` files and extracts them offline; it must
    write, so it runs on a cache folder holding links to the read-only originals.
    """
    import torchvision

    raw = cache / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in GZ_FILES:
        link = raw / name
        if not link.exists():
            link.unlink(missing_ok=True)  # a dangling link from a moved data root
            link.symlink_to((data_root / folder / "raw" / name).resolve())
    cls = getattr(torchvision.datasets, tv_class)
    quiet = contextlib.redirect_stdout(io.StringIO())  # "Using downloaded and verified file" x4
    splits = []
    for train in (True, False):
        with quiet:
            ds = cls(str(cache), train=train, download=True)
        x = ((ds.data.float() / 255.0 - mean) / std).unsqueeze(1)  # (N, 28, 28) -> (N, 1, 28, 28)
        splits.append(Split(x.contiguous(), ds.targets.long()))
    return Dataset(folder.lower(), splits[0], splits[1], classes,
                   source=f"{folder} ({data_root / folder / 'raw'}), md5-verified by torchvision",
                   meta={"mean": mean, "std": std})


def mnist(data_root: Path, cache: Path) -> Dataset:
    return load_idx("MNIST", data_root, cache, DIGITS, 0.1307, 0.3081, "MNIST")


def fashion_mnist(data_root: Path, cache: Path) -> Dataset:
    return load_idx("FashionMNIST", data_root, cache, FASHION_CLASSES, 0.2860, 0.3530, "FashionMNIST")


def _files(folder: str):
    return lambda root: require(folder.lower(), root, [f"{folder}/raw/{f}" for f in GZ_FILES])


register_dataset(DatasetInfo(
    "mnist", _files("MNIST"), mnist,
    lambda n_train, n_test, seed: prototype_images((1, 28, 28), DIGITS, n_train, n_test, seed, "mnist(synthetic)")))
register_dataset(DatasetInfo(
    "fashion_mnist", _files("FashionMNIST"), fashion_mnist,
    lambda n_train, n_test, seed: prototype_images((1, 28, 28), FASHION_CLASSES, n_train, n_test, seed,
                                                   "fashion_mnist(synthetic)")))
