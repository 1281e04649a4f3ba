"""Dog breeds: ImageWoof-10 from its .npz, the Kaggle layout, the cache and the synthetic stand-in."""

import io

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA

from dljournal.core.project import ProjectError
from dljournal.data import dogs, load_dataset

RED, BLUE = (200, 30, 20), (20, 40, 210)


def jpeg(size: tuple[int, int], colour, mode: str = "RGB") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, colour if mode == "RGB" else colour[0]).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def pack(files: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    blob = np.frombuffer(b"".join(files), dtype=np.uint8)
    return blob, np.cumsum([0] + [len(f) for f in files]).astype(np.int64)


@pytest.fixture
def woof_root(tmp_path):
    """A tiny ImageWoof .npz: class 0 red, class 1 blue, one greyscale JPEG, non-square sizes.
    As in the real file, ImageWoof's train and val each mix ImageNet training images (``n0…_N``)
    and ImageNet validation images (``ILSVRC2012_val_*``)."""
    train = [
        jpeg((40, 30), RED),
        jpeg((30, 40), RED),
        jpeg((24, 24), (90, 90, 90), mode="L"),
        jpeg((40, 30), BLUE),
        jpeg((32, 32), BLUE),
    ]
    val = [jpeg((20, 20), RED), jpeg((50, 20), BLUE)]
    (tmp_path / "dogs").mkdir()
    tb, to = pack(train)
    vb, vo = pack(val)
    np.savez(
        tmp_path / dogs.IMAGEWOOF,
        class_names=np.array(["red_dog", "blue_dog"]),
        class_wnids=np.array(["n0", "n1"]),
        train_jpeg=tb,
        train_offsets=to,
        train_labels=np.array([0, 0, 0, 1, 1]),
        train_source_paths=np.array(
            [
                "train/n0/ILSVRC2012_val_00000907.JPEG",
                "train/n0/n0_12.JPEG",
                "train/n0/n0_40.JPEG",
                "train/n1/n1_7.JPEG",
                "train/n1/n1_9.JPEG",
            ]
        ),
        val_jpeg=vb,
        val_offsets=vo,
        val_labels=np.array([0, 1]),
        val_source_paths=np.array(["val/n0/n0_3.JPEG", "val/n1/ILSVRC2012_val_00012345.JPEG"]),
    )
    return tmp_path


def test_imagewoof_npz_is_decoded_resized_and_cached(woof_root, tmp_path, monkeypatch):
    ds = dogs.load_dogs(woof_root, tmp_path / "cache", size=16)
    # split by provenance: the two ILSVRC2012_val photos (one from each ImageWoof split) are the test set
    assert ds.train.x.shape == (5, 3, 16, 16) and ds.test.x.shape == (2, 3, 16, 16)
    assert ds.train.x.dtype == torch.uint8 and ds.train.y.tolist() == [0, 0, 1, 1, 0] and ds.test.y.tolist() == [0, 1]
    assert ds.classes == ("red_dog", "blue_dog") and ds.meta["layout"] == "imagewoof" and ds.meta["uint8"]
    assert "ImageWoof-10" in ds.source and "substitute" in ds.source and not ds.synthetic
    colours = ds.train.x.float().mean((2, 3))  # (N, 3): the channel order and layout survive
    assert torch.allclose(colours[0], torch.tensor(RED, dtype=torch.float), atol=6)
    assert torch.allclose(colours[3], torch.tensor(BLUE, dtype=torch.float), atol=6)
    assert torch.allclose(colours[1], torch.full((3,), 90.0), atol=3)  # grey JPEG -> RGB
    assert "ImageNet-validation photos" in ds.source and "unseen" in ds.source

    assert len(list((tmp_path / "cache").glob("dogs-imagewoof-provenance-16px-*.npz"))) == 1
    monkeypatch.setattr(dogs, "decode", lambda *a, **k: pytest.fail("decoded again despite the cache"))
    again = dogs.load_dogs(woof_root, tmp_path / "cache", size=16)
    assert torch.equal(again.train.x, ds.train.x)


def test_split_by_provenance_puts_only_imagenet_val_photos_in_test():
    paths = [
        "train/n02086240/ILSVRC2012_val_00000907.JPEG",
        "train/n02086240/n02086240_1234.JPEG",
        "val/n02087394/n02087394_77.JPEG",
        "val/n02087394/ILSVRC2012_val_00049999.JPEG",
    ]
    seen, unseen = dogs.split_by_provenance(paths)
    assert seen.tolist() == [1, 2] and unseen.tolist() == [0, 3]


def test_kaggle_layout_wins_and_is_split_by_breed(woof_root, tmp_path):
    folder = woof_root / "dog-breed-identification"
    (folder / "train").mkdir(parents=True)
    rows = [(f"b{i}", "beagle") for i in range(5)] + [(f"a{i}", "akita") for i in range(10)] + [("c0", "chow")]
    for i, breed in rows:
        (folder / "train" / f"{i}.jpg").write_bytes(jpeg((60, 45), RED if breed == "beagle" else BLUE))
    (folder / "labels.csv").write_text("id,breed\n" + "".join(f"{i},{b}\n" for i, b in rows))

    assert dogs.dogs_files(woof_root)[0] == folder / "labels.csv" and len(dogs.dogs_files(woof_root)) == 17
    ds = dogs.load_dogs(woof_root, tmp_path / "cache", size=12, test_fraction=0.2)
    assert ds.classes == ("akita", "beagle", "chow") and ds.meta["layout"] == "kaggle"
    assert "Kaggle" in ds.source and "stratified 20%" in ds.source
    assert ds.train.x.shape == (13, 3, 12, 12) and ds.test.x.shape == (3, 3, 12, 12)
    assert sorted(ds.test.y.tolist()) == [0, 0, 1]  # 2 of 10 akitas, 1 of 5 beagles, the only chow trains
    beagles = ds.train.x[ds.train.y == 1].float().mean((0, 2, 3))
    assert torch.allclose(beagles, torch.tensor(RED, dtype=torch.float), atol=6)

    (folder / "train" / "b3.jpg").unlink()
    with pytest.raises(ProjectError, match="b3.jpg"):
        dogs.dogs_files(woof_root)


def test_stratified_split_is_exact_and_disjoint():
    labels = [0] * 10 + [1] * 5 + [2] * 1 + [3] * 2
    train, test = dogs.stratified_split(labels, 0.2, seed=3)
    assert np.bincount(np.asarray(labels)[test], minlength=4).tolist() == [2, 1, 0, 1]
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(len(labels)))
    assert np.array_equal(test, dogs.stratified_split(labels, 0.2, seed=3)[1])


def test_missing_file_is_one_clear_line(tmp_path):
    with pytest.raises(ProjectError) as exc:
        load_dataset("dogs", data_root=tmp_path, cache=tmp_path / "c")
    assert "\n" not in str(exc.value) and str(tmp_path / dogs.IMAGEWOOF) in str(exc.value)


def test_synthetic_stand_in():
    ds = load_dataset("dogs", data_root=None, cache=None, synthetic=True, n_train=40, n_test=20)
    assert ds.synthetic and ds.train.x.dtype == torch.uint8 and ds.input_shape == (3, 32, 32)
    assert ds.classes == dogs.IMAGEWOOF_CLASSES and set(ds.train.y.tolist()) == set(range(10))
    assert "synthetic" in ds.source and len(ds.test) == 20


@pytest.mark.skipif(not (SHARED_DATA / dogs.IMAGEWOOF).is_file(), reason="../shared/data/dogs is not present")
def test_real_imagewoof(tmp_path):
    ds = dogs.load_dogs(SHARED_DATA, tmp_path, size=64)
    assert ds.train.x.shape == (1200, 3, 64, 64) and ds.test.x.shape == (500, 3, 64, 64)
    assert ds.classes == dogs.IMAGEWOOF_CLASSES
    # by provenance: 120 ImageNet-training photos per breed train, the 50 ImageNet-val photos test
    assert torch.bincount(ds.train.y).tolist() == [120] * 10 and torch.bincount(ds.test.y).tolist() == [50] * 10
    assert 60 < ds.train.x.float().mean() < 160  # photos, not blank frames
