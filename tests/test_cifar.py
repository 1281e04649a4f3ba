"""CIFAR loaders on tiny files of the real structure, and (when present) on the real data."""

import io
import pickle

import numpy as np
import pytest
import torch

from dljournal.core.project import ProjectError
from dljournal.data import load_dataset
from dljournal.data.cifar import CIFAR10_CLASSES, decode_images


def jpeg_blob(images: np.ndarray, fmt: str = "PNG") -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) as concatenated files plus offsets, like the shared .npz files."""
    from PIL import Image

    files = []
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format=fmt)
        files.append(np.frombuffer(buf.getvalue(), dtype=np.uint8))
    offsets = np.concatenate([[0], np.cumsum([len(f) for f in files])]).astype(np.int64)
    return np.concatenate(files), offsets


def images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_decode_is_exact_for_lossless_files():
    imgs = images(7, 0)
    blob, offsets = jpeg_blob(imgs, "PNG")
    assert np.array_equal(decode_images(blob, offsets, workers=3), imgs)


def test_packed_cifar10_loads_and_caches(tmp_path):
    tr, te = images(20, 1), images(10, 2)
    (tmp_path / "CIFAR10").mkdir()
    btr, otr = jpeg_blob(tr)
    bte, ote = jpeg_blob(te)
    np.savez(
        tmp_path / "CIFAR10" / "cifar10_jpeg_q75.npz",
        class_names=np.array(CIFAR10_CLASSES),
        train_jpeg=btr,
        train_offsets=otr,
        train_labels=np.arange(20) % 10,
        test_jpeg=bte,
        test_offsets=ote,
        test_labels=np.arange(10),
    )
    cache = tmp_path / "cache"
    ds = load_dataset("cifar10", data_root=tmp_path, cache=cache)
    assert ds.train.x.shape == (20, 3, 32, 32) and ds.test.y.tolist() == list(range(10))
    assert "JPEG" in ds.source and ds.classes == CIFAR10_CLASSES
    # normalised with the training set's own per-channel statistics, reversible to the pixels
    pixels = ds.norm.to_uint8(ds.train.x).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(pixels, tr)
    assert len(list(cache.glob("cifar10-jpeg-q75-*.npz"))) == 1
    again = load_dataset("cifar10", data_root=tmp_path, cache=cache)  # from the decoded cache
    assert torch.equal(again.train.x, ds.train.x)


def test_original_layout_is_preferred(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name, n in [(f"data_batch_{i}", 4) for i in range(1, 6)] + [("test_batch", 3)]:
        imgs = images(n, hash(name) % 100)
        data = imgs.transpose(0, 3, 1, 2).reshape(n, -1)  # the original row layout: R plane, G, B
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": list(range(n))}, f)
    ds = load_dataset("cifar10", data_root=tmp_path, cache=tmp_path / "c")
    assert len(ds.train) == 20 and len(ds.test) == 3 and "original pixels" in ds.source


def test_missing_cifar_is_one_line(tmp_path):
    with pytest.raises(ProjectError, match=r"cifar10: file not found: .*cifar10_jpeg_q75\.npz"):
        load_dataset("cifar10", data_root=tmp_path, cache=tmp_path)


def test_real_cifar10(shared_data, tmp_path):
    ds = load_dataset("cifar10", data_root=shared_data, cache=tmp_path)
    assert len(ds.train) == 50000 and len(ds.test) == 10000
    assert ds.train.y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]  # the original order (MANIFEST)
    assert ds.norm.mean == pytest.approx([0.4913, 0.4821, 0.4465], abs=2e-4)
