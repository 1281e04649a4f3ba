"""MNIST and FashionMNIST from the md5-verified ``.gz`` files under a data root."""

from __future__ import annotations

import contextlib
import hashlib
import io
from pathlib import Path

from ..core.files import sha
from ..core.project import ProjectError
from .registry import DatasetInfo, register_dataset, require
from .synthetic import prototype_images
from .tensors import Dataset, Normalisation, Split

GZ_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGITS = tuple(str(i) for i in range(10))


def load_idx(
    folder: str, data_root: Path, cache: Path, classes: tuple[str, ...], mean: float, std: float, tv_class: str
) -> Dataset:
    """Load a torchvision MNIST-style dataset without touching ``data_root``.

    The ``.gz`` files are md5-checked here against torchvision's list (a corrupt file is one line,
    and the network is never tried); torchvision then extracts them into a cache folder named after
    their checksums, so a changed file is extracted afresh, never served from an old extraction.
    """
    import torchvision

    cls = getattr(torchvision.datasets, tv_class)
    sources = [data_root / folder / "raw" / name for name in GZ_FILES]
    expected = dict(cls.resources)
    md5s = []
    for path in sources:
        md5 = hashlib.md5(path.read_bytes()).hexdigest()
        if md5 != expected[path.name]:
            raise ProjectError(
                f"corrupt file {path}: md5 {md5}, expected {expected[path.name]} "
                f"(replace it with the original {folder} file)"
            )
        md5s.append(md5)
    root = cache / f"{folder}-{sha(''.join(md5s))[:12]}"
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for path in sources:
        link = raw / path.name
        if not link.exists():
            link.unlink(missing_ok=True)  # a dangling link from a moved data root
            link.symlink_to(path.resolve())
    norm = Normalisation((mean,), (std,))
    quiet = contextlib.redirect_stdout(io.StringIO())  # "Using downloaded and verified file" x4
    splits = []
    for train in (True, False):
        with quiet:
            ds = cls(str(root), train=train, download=True)
        x = norm.apply((ds.data.float() / 255.0).unsqueeze(1))  # (N, 28, 28) -> (N, 1, 28, 28)
        splits.append(Split(x.contiguous(), ds.targets.long()))
    return Dataset(
        folder.lower(),
        splits[0],
        splits[1],
        classes,
        source=f"{folder} ({data_root / folder / 'raw'}), md5-verified by torchvision",
        norm=norm,
    )


def mnist(data_root: Path, cache: Path) -> Dataset:
    return load_idx("MNIST", data_root, cache, DIGITS, 0.1307, 0.3081, "MNIST")


def fashion_mnist(data_root: Path, cache: Path) -> Dataset:
    return load_idx("FashionMNIST", data_root, cache, FASHION_CLASSES, 0.2860, 0.3530, "FashionMNIST")


def _files(folder: str):
    return lambda root: require(folder.lower(), root, [f"{folder}/raw/{f}" for f in GZ_FILES])


register_dataset(
    DatasetInfo(
        "mnist",
        _files("MNIST"),
        mnist,
        lambda n_train, n_test, seed: prototype_images((1, 28, 28), DIGITS, n_train, n_test, seed, "mnist(synthetic)"),
    )
)
register_dataset(
    DatasetInfo(
        "fashion_mnist",
        _files("FashionMNIST"),
        fashion_mnist,
        lambda n_train, n_test, seed: prototype_images(
            (1, 28, 28), FASHION_CLASSES, n_train, n_test, seed, "fashion_mnist(synthetic)"
        ),
    )
)
