"""Dog breeds: the Kaggle dog-breed-identification layout when a user has it, else ImageWoof-10.

Images are kept as uint8 tensors (N, 3, size, size), not normalised floats: a pretrained backbone
brings its own preprocessing (``Backbone.preprocess``), and uint8 keeps 1,700 photos at 224×224 in
256 MB rather than 1 GB. They are decoded once (Pillow, in threads: it releases the GIL while
decoding), resized, and cached under the build folder keyed on the source files' checksums.

- Kaggle (``<root>/dog-breed-identification/`` or ``<root>/dogs/`` holding ``labels.csv`` with
  ``id,breed`` and ``train/<id>.jpg``): 120 breeds; Kaggle's test labels are private, so the test
  split is a stratified share of ``train/`` (the same for every run).
- ImageWoof-10 (``<root>/dogs/imagewoof2_dogs10_jpeg.npz``): 10 breeds, all of them ImageNet-1k
  classes, 1,700 photos. 1,200 of them are ImageNet-1k *training* images (source file names
  ``n0…_N.JPEG``), which an ImageNet-pretrained backbone has seen; only 500, 50 per breed, are
  ImageNet *validation* images (``ILSVRC2012_val_*``). ImageWoof's own train/val split mixes the two,
  so the loader splits by provenance instead (``split_by_provenance``): the 1,200 seen photos train
  (and validate), the 500 unseen ones are the test split.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from .cifar import cached_arrays, corrupt_names
from .registry import DatasetInfo, register_dataset, require
from .synthetic import prototype_images
from .tensors import Dataset, Split

IMAGEWOOF = "dogs/imagewoof2_dogs10_jpeg.npz"
IMAGEWOOF_CLASSES = (
    "Shih-Tzu",
    "Rhodesian_ridgeback",
    "beagle",
    "English_foxhound",
    "Border_terrier",
    "Australian_terrier",
    "golden_retriever",
    "Old_English_sheepdog",
    "Samoyed",
    "dingo",
)
# their indices among the 1000 ImageNet classes (sorted synsets), for ImageNet heads
IMAGENET_INDEX = (155, 159, 162, 167, 182, 193, 207, 229, 258, 273)
KAGGLE_DIRS = ("dog-breed-identification", "dogs")
SIZE = 224  # ImageWoof's own size and the input size of ImageNet backbones


def decode(sources: Sequence[bytes | Path], size: int, workers: int | None = None) -> np.ndarray:
    """Image files (bytes or paths) -> (N, size, size, 3) uint8: the shorter side resized to
    ``size``, then a centred square crop."""
    from PIL import Image

    def one(src: bytes | Path) -> np.ndarray:
        img = Image.open(io.BytesIO(src) if isinstance(src, bytes) else src)
        img.draft("RGB", (size, size))  # JPEG: decode at a reduced scale when far larger than needed
        img = img.convert("RGB")
        w, h = img.size
        if (w, h) != (size, size):
            scale = size / min(w, h)
            img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BICUBIC)
            left, top = (img.width - size) // 2, (img.height - size) // 2
            img = img.crop((left, top, left + size, top + size))
        return np.asarray(img)

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        return np.stack(list(pool.map(one, sources)))


def _kaggle(root: Path) -> Path | None:
    for name in KAGGLE_DIRS:
        folder = root / name
        if (folder / "labels.csv").is_file() and (folder / "train").is_dir():
            return folder
    return None


def _kaggle_labels(folder: Path) -> list[tuple[str, str]]:
    with open(folder / "labels.csv", newline="") as f:
        return [(row["id"], row["breed"]) for row in csv.DictReader(f)]


def dogs_files(root: Path) -> list[Path]:
    folder = _kaggle(root)
    if folder is not None:
        return require("dogs", folder, ["labels.csv"] + [f"train/{i}.jpg" for i, _ in _kaggle_labels(folder)])
    return require("dogs", root, [IMAGEWOOF])


def stratified_split(labels: Sequence[int], fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held_out): ``fraction`` of every class held out (at least one of a class
    with two or more samples), chosen by a seeded shuffle."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = min(max(round(fraction * len(idx)), 1), len(idx) - 1) if len(idx) > 1 else 0
        held.append(idx[:k])
    held_out = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(len(labels)), held_out), held_out


UNSEEN_BY_IMAGENET = "ILSVRC2012_val_"  # ImageNet validation images: never in an ImageNet training set


def split_by_provenance(paths: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Indices (seen, unseen) of photos by source path: ImageNet *validation* images
    (``…/ILSVRC2012_val_00000907.JPEG``) are unseen by ImageNet-pretrained backbones; ImageNet
    training images (``…/n02086240_1234.JPEG``) are not. A transfer test set must be the unseen ones."""
    unseen = np.array([UNSEEN_BY_IMAGENET in Path(str(p)).name for p in paths], dtype=bool)
    return np.flatnonzero(~unseen), np.flatnonzero(unseen)


def _to_dataset(a: dict, classes: tuple[str, ...], source: str, meta: dict) -> Dataset:
    def split(x: np.ndarray, y: np.ndarray) -> Split:
        return Split(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y).long())  # (N, 3, S, S)

    return Dataset(
        "dogs",
        split(a["x_train"], a["y_train"]),
        split(a["x_test"], a["y_test"]),
        classes,
        source=source,
        meta={"uint8": True, **meta},
    )


def load_dogs(root: Path, cache: Path, size: int = SIZE, test_fraction: float = 0.2) -> Dataset:
    """The dog photos under ``root`` as uint8 (N, 3, size, size); Kaggle's layout when present
    (``test_fraction`` of each breed held out as the test split), else ImageWoof-10."""
    folder = _kaggle(root)
    if folder is not None:
        rows = _kaggle_labels(folder)
        classes = tuple(sorted({breed for _, breed in rows}))
        index = {c: k for k, c in enumerate(classes)}

        def build() -> dict:
            y = np.array([index[b] for _, b in rows], dtype=np.int64)
            paths = [folder / "train" / f"{i}.jpg" for i, _ in rows]
            train, test = stratified_split(y, test_fraction)
            return {
                "x_train": decode([paths[i] for i in train], size),
                "y_train": y[train],
                "x_test": decode([paths[i] for i in test], size),
                "y_test": y[test],
            }

        a = cached_arrays(f"dogs-kaggle-{size}px-{test_fraction:g}", dogs_files(root), cache, build)
        return _to_dataset(
            a,
            classes,
            (
                f"Kaggle dog-breed-identification ({folder}): {len(classes)} breeds, {len(a['y_train'])} train / "
                f"{len(a['y_test'])} test photos, the test split a stratified {test_fraction:.0%} of Kaggle's "
                f"train/ (its test labels are private), resized to {size}×{size}"
            ),
            {"layout": "kaggle", "size": size},
        )

    path = root / IMAGEWOOF

    def build() -> dict:
        with corrupt_names(path), np.load(path) as z:
            photos, labels, paths = [], [], []
            for split in ("train", "val"):  # ImageWoof's own split is pooled, then split by provenance
                blob, off = z[f"{split}_jpeg"], z[f"{split}_offsets"]
                photos += [blob[off[i] : off[i + 1]].tobytes() for i in range(len(off) - 1)]
                labels.append(z[f"{split}_labels"].astype(np.int64))
                paths += [str(p) for p in z[f"{split}_source_paths"]]
            y = np.concatenate(labels)
            seen, unseen = split_by_provenance(paths)
            x = decode(photos, size)
            return {
                "x_train": x[seen],
                "y_train": y[seen],
                "x_test": x[unseen],
                "y_test": y[unseen],
                "classes": z["class_names"],
            }

    a = cached_arrays(f"dogs-imagewoof-provenance-{size}px", dogs_files(root), cache, build)
    classes = tuple(map(str, a["classes"]))
    return _to_dataset(
        a,
        classes,
        (
            f"ImageWoof-10 ({path}): {len(classes)} dog breeds, all ImageNet-1k classes; {len(a['y_train'])} "
            f"ImageNet-training photos for training and validation, {len(a['y_test'])} ImageNet-validation photos "
            f"(unseen by ImageNet-pretrained backbones) as the test split, {size}×{size}; a substitute for "
            "Kaggle's dog-breed-identification (120 breeds), which is not present"
        ),
        {"layout": "imagewoof", "size": size, "imagenet_index": list(IMAGENET_INDEX)},
    )


def synthetic_dogs(n_train: int, n_test: int, seed: int = 0) -> Dataset:
    """10 classes of small (32×32) uint8 images: smooth class prototypes plus noise, squashed to 0-255."""
    ds = prototype_images((3, 32, 32), IMAGEWOOF_CLASSES, n_train, n_test, seed, "dogs(synthetic)")

    def to_uint8(s: Split) -> Split:
        return Split(s.x.sigmoid().mul(255).round().to(torch.uint8), s.y)

    return Dataset(
        ds.name,
        to_uint8(ds.train),
        to_uint8(ds.test),
        ds.classes,
        source=ds.source + ", uint8 images, not dog photos",
        synthetic=True,
        meta={"uint8": True, "layout": "synthetic", "size": 32},
    )


register_dataset(DatasetInfo("dogs", dogs_files, load_dogs, synthetic_dogs))
