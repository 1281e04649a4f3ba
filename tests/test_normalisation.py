"""Datasets own their normalisation: ``Normalisation`` round-trips pixels exactly, and every loader
that normalises says how (``Dataset.norm``), synthetic stand-ins included."""

from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest
import torch

from dljournal.data import load_dataset
from dljournal.data.cifar import to_dataset
from dljournal.data.tensors import Normalisation

CIFAR_LIKE = Normalisation((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
NORMALISING = ("cifar10", "cifar100", "mnist", "fashion_mnist", "kth")  # loaders that standardise their pixels


def every_pixel(channels: int) -> torch.Tensor:
    """(256, C, 4, 4) uint8: every value 0-255 in every channel."""
    return torch.arange(256, dtype=torch.uint8).view(256, 1, 1, 1).expand(256, channels, 4, 4).contiguous()


def test_apply_then_undo_gives_the_pixels_back():
    pixels = torch.rand(8, 3, 5, 5)
    x = CIFAR_LIKE.apply(pixels)
    assert x.min() < 0 and x.max() > 1  # standardised, not pixels
    assert torch.allclose(CIFAR_LIKE.undo(x), pixels, atol=1e-6)
    # edited inputs (an attack, an ascent, a GAN sample) may overshoot: undo clamps to valid pixels
    assert CIFAR_LIKE.undo(torch.full((1, 3, 2, 2), 100.0)).eq(1).all()
    assert CIFAR_LIKE.undo(torch.full((1, 3, 2, 2), -100.0)).eq(0).all()


def test_to_uint8_recovers_every_byte_in_the_same_layout():
    u = every_pixel(3)
    x = CIFAR_LIKE.apply(u.float() / 255)
    back = CIFAR_LIKE.to_uint8(x)
    assert back.dtype == torch.uint8 and back.shape == u.shape and torch.equal(back, u)
    clips = x[:16].view(2, 8, 3, 4, 4)  # (N, T, C, H, W): the statistics broadcast over (C, H, W)
    assert torch.equal(CIFAR_LIKE.to_uint8(clips), u[:16].view(2, 8, 3, 4, 4))


def test_each_channel_has_its_own_statistics():
    norm = Normalisation((0.0, 0.5), (1.0, 0.25))
    x = norm.apply(torch.full((1, 2, 1, 1), 0.5))
    assert x.flatten().tolist() == [0.5, 0.0]


def test_apply_is_the_loaders_arithmetic_bit_for_bit():
    """The refactor keeps model inputs identical: ``(pixel / 255 - mean) / std`` with Python floats
    (as MNIST and KTH computed it) gives the same float32 numbers as ``apply``, for every pixel."""
    pixels = every_pixel(1).repeat(64, 1, 1, 1).float() / 255.0
    for mean, std in ((0.1307, 0.3081), (0.2860, 0.3530), (0.5, 0.25)):
        assert torch.equal(Normalisation((mean,), (std,)).apply(pixels), (pixels - mean) / std)
        assert torch.equal(Normalisation((mean,), (std,)).undo(pixels), (pixels * std + mean).clamp(0, 1))


def test_bad_statistics_are_refused():
    with pytest.raises(ValueError, match="one mean and one std per channel"):
        Normalisation((0.5, 0.5), (0.25,))
    with pytest.raises(ValueError, match="positive"):
        Normalisation((0.5,), (0.0,))
    with pytest.raises(FrozenInstanceError):
        CIFAR_LIKE.mean = (0.0,)


@pytest.mark.parametrize("name", NORMALISING)
def test_normalising_stand_ins_say_how(name, tmp_path):
    ds = load_dataset(name, data_root=tmp_path, cache=tmp_path, synthetic=True, n_train=24, n_test=12, seed=0)
    assert isinstance(ds.norm, Normalisation) and ds.meta.keys().isdisjoint({"mean", "std"})
    channels = ds.input_shape[-3]
    assert len(ds.norm.mean) == len(ds.norm.std) == channels
    pixels = ds.norm.undo(ds.test.x)
    assert pixels.shape == ds.test.x.shape and 0 <= pixels.min() and pixels.max() <= 1
    # what the runner serves (a subset, on a device) keeps it
    assert replace(ds, train=ds.train.subset(8, seed=1)).to("cpu").norm == ds.norm


def test_uint8_images_have_no_normalisation(tmp_path):
    ds = load_dataset("dogs", data_root=tmp_path, cache=tmp_path, synthetic=True, n_train=20, n_test=10)
    assert ds.train.x.dtype == torch.uint8 and ds.norm is None


def test_cifar_loader_records_its_training_statistics():
    rng = np.random.default_rng(0)
    a = {k: rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for k, n in (("x_train", 40), ("x_test", 8))}
    a |= {"y_train": np.zeros(40, dtype=np.int64), "y_test": np.zeros(8, dtype=np.int64)}
    ds = to_dataset("tiny", a, ("only",), "test arrays")
    x_train = torch.from_numpy(a["x_train"]).permute(0, 3, 1, 2).float() / 255
    assert ds.norm.mean == pytest.approx(x_train.mean((0, 2, 3)).tolist())
    assert ds.norm.std == pytest.approx(x_train.std((0, 2, 3)).tolist())
    m, s = x_train.mean((0, 2, 3), keepdim=True), x_train.std((0, 2, 3), keepdim=True)
    assert torch.equal(ds.train.x, (x_train - m) / s)  # the loader's inputs as they were before ``norm``
    assert torch.equal(ds.norm.to_uint8(ds.train.x), torch.from_numpy(a["x_train"]).permute(0, 3, 1, 2))


def test_dashboard_pixels_of_normalised_and_uint8_images():
    from dljournal.core.project import ProjectError
    from dljournal.dashboard.predictions import to_uint8

    u = every_pixel(3)[:4]
    assert np.array_equal(to_uint8(CIFAR_LIKE.apply(u.float() / 255), CIFAR_LIKE), u.permute(0, 2, 3, 1).numpy())
    assert np.array_equal(to_uint8(u, None), u.permute(0, 2, 3, 1).numpy())  # uint8 loaders (dogs): as they are
    with pytest.raises(ProjectError, match="without a normalisation"):
        to_uint8(u.float(), None)
