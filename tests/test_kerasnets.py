"""Keras twins of the classic CNNs: same parameter counts, the engine's History, TensorBoard events."""

import sys
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dljournal.core.project import ProjectError
from dljournal.data import load_dataset
from dljournal.models import create_model, model_entry
from dljournal.train import TrainConfig, count_params
from dljournal.train import keras as kn  # selects Keras's torch backend before Keras loads
from dljournal.train.config import lr_factor

# Keras's torch backend converts tensors with np.array(x, copy=False) first; numpy 2 warns, Keras falls back
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


@pytest.mark.parametrize("name", ["lenet5", "vgg16", "resnet8"])
def test_same_parameter_count_and_output_shape_as_pytorch(name):
    keras_model = kn.create_keras_model(name)
    assert kn.keras_count_params(keras_model) == count_params(create_model(name))
    shape = keras_model.input_shape[1:]  # (H, W, C)
    out = keras_model(np.zeros((2, *shape), dtype="float32"), training=False)
    assert tuple(out.shape) == (2, model_entry(name).output_dim)


def test_nchw_to_nhwc():
    x = torch.arange(2 * 3 * 4 * 5).float().view(2, 3, 4, 5)
    y = kn.to_nhwc(x)
    assert y.shape == (2, 4, 5, 3) and y[1, 2, 3, 0] == x[1, 0, 2, 3] and y[0, 1, 4, 2] == x[0, 2, 1, 4]


def test_another_backend_already_imported_is_one_clear_line(monkeypatch):
    fake = types.SimpleNamespace(config=types.SimpleNamespace(backend=lambda: "jax"))
    monkeypatch.setitem(sys.modules, "keras", fake)
    with pytest.raises(ProjectError, match="'jax' backend") as exc:
        kn._select_torch_backend()
    assert "\n" not in str(exc.value)


def test_keras_fit_history_and_tensorboard_events(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    torch.manual_seed(0)
    ds = load_dataset("mnist", data_root=None, cache=None, synthetic=True, n_train=128, n_test=64)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=2e-3, schedule="cosine", warmup_epochs=1)
    history = kn.keras_fit(kn.keras_lenet5(), ds.train, ds.test, cfg, log_dir=tmp_path)
    h = history.epochs
    assert list(h) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]
    assert h["epoch"] == [1.0, 2.0, 3.0] and all(s > 0 for s in h["seconds"])
    factor = lr_factor(cfg, 4)  # the lr after each epoch's 4 steps, as fit logs it
    assert h["lr"] == pytest.approx([cfg.lr * factor(4 * e) for e in (1, 2, 3)])
    assert h["train_loss"][-1] < h["train_loss"][0]

    ea = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    ea.Reload()
    tags = ea.Tags()
    assert set(tags["scalars"]) == {"loss/train", "loss/val", "acc/train", "acc/val", "lr"}
    assert [e.step for e in ea.Scalars("loss/val")] == [1, 2, 3]
    assert ea.Scalars("acc/val")[-1].value == pytest.approx(h["val_acc"][-1])
    assert [e.value for e in ea.Scalars("lr")] == pytest.approx(h["lr"])
    for layer in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        wanted = {f"weights/{layer}/kernel", f"gradients/{layer}/kernel", f"weights/{layer}/bias"}
        assert wanted <= set(tags["histograms"])
    assert tags["images"] == ["inputs"]


def test_keras_losses_are_the_engines(tmp_path):
    """val_loss / val_acc of keras_fit equal torch's label-smoothed cross-entropy and accuracy on
    the model's own predictions: the two frameworks report the same quantities."""
    torch.manual_seed(1)
    ds = load_dataset("mnist", data_root=None, cache=None, synthetic=True, n_train=64, n_test=50)
    cfg = TrainConfig(epochs=1, batch_size=32, label_smoothing=0.1)
    model = kn.keras_lenet5()
    h = kn.keras_fit(model, ds.train, ds.test, cfg).epochs
    logits = torch.as_tensor(np.asarray(model.predict(kn.to_nhwc(ds.test.x), verbose=0)))
    assert h["val_loss"][-1] == pytest.approx(F.cross_entropy(logits, ds.test.y, label_smoothing=0.1).item(), rel=1e-4)
    assert h["val_acc"][-1] == pytest.approx((logits.argmax(1) == ds.test.y).float().mean().item())


def test_thin_vgg16_matches_too():
    from dljournal.models import create_model
    from dljournal.train import count_params
    from dljournal.train.keras import keras_count_params, keras_vgg16

    for width in (0.25, 0.5):
        assert keras_count_params(keras_vgg16(width=width)) == count_params(create_model("vgg16", width=width))
