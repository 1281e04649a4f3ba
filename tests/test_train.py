"""fit: learns, is reproducible, logs what it says it logs."""

import math

import pytest
import torch
from torch import nn

from dljournal.data import sample_function
from dljournal.data.synthetic import prototype_images
from dljournal.models import create_model
from dljournal.observe import TensorBoard
from dljournal.study.stats import aggregate, median_index
from dljournal.train import GradNorm, TrainConfig, evaluate, fit, seed_everything
from dljournal.train.config import lr_factor

CFG = TrainConfig(epochs=3, batch_size=64, lr=3e-3)


def data():
    """(train, val): the validation images are held out of the training split, never the test split."""
    ds = prototype_images((1, 28, 28), tuple("abcdefghij"), 960, 32, seed=1)
    return ds.val_split(320, seed=0)


def test_fit_learns_a_learnable_task():
    seed_everything(0)
    model = create_model("mnist_mlp", hidden=(64,))
    train, val = data()
    before = evaluate(model, val, CFG)["acc"]
    history = fit(model, (train, val), CFG)
    assert before < 0.3  # chance is 0.1
    assert history.final["val_acc"] > 0.9
    assert history.epochs["train_loss"][-1] < history.epochs["train_loss"][0]
    assert set(history.epochs) >= {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}
    assert history.epochs["epoch"] == [1, 2, 3]


def test_fit_is_reproducible_from_the_seed():
    def once():
        seed_everything(7)
        model = create_model("cnn_deep", width=4)
        h = fit(model, data(), TrainConfig(epochs=1, batch_size=128))
        return h.epochs["train_loss"], h.epochs["val_loss"]

    assert once() == once()


def test_regression_fit_reduces_mse():
    seed_everything(0)
    train = sample_function("sinc", 256)
    model = create_model("fn_mlp", hidden=(32, 32))
    h = fit(model, (train, None), TrainConfig(loss="mse", epochs=60, batch_size=64, lr=1e-2))
    assert "train_acc" not in h.epochs and "val_loss" not in h.epochs
    assert h.final["train_loss"] < 0.2 * h.epochs["train_loss"][0]


def test_gradnorm_matches_a_manual_computation():
    seed_everything(0)
    model = nn.Linear(4, 2)
    x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    from dljournal.data.tensors import Split

    cb = GradNorm(per_param=True)
    h = fit(
        model, (Split(x, y), None), TrainConfig(epochs=1, batch_size=8, lr=0.0, amp=False), [cb]
    )  # float32, as the manual one
    model.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    manual = math.sqrt(sum(p.grad.norm().item() ** 2 for p in model.parameters()))
    assert h.steps["step"] == [0]
    assert h.steps["grad_norm"][0] == pytest.approx(manual, rel=1e-5)
    assert h.steps["grad_norm/weight"][0] == pytest.approx(model.weight.grad.norm().item(), rel=1e-5)


def test_tensorboard_events_hold_the_expected_tags(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    seed_everything(0)
    model = create_model("mnist_mlp", hidden=(16,))
    fit(model, data(), TrainConfig(epochs=2, batch_size=128), [GradNorm(every=2), TensorBoard(tmp_path)])
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"loss/train", "loss/val", "acc/train", "acc/val", "lr", "seconds", "steps/grad_norm"} <= tags
    assert [e.step for e in acc.Scalars("loss/val")] == [1, 2]
    hist = set(acc.Tags()["histograms"])
    assert {"weights/net.1.weight", "gradients/net.1.weight", "weights/net.3.bias"} <= hist
    assert acc.Tags()["images"] == ["inputs"]


def test_schedules():
    cos = lr_factor(TrainConfig(epochs=2, schedule="cosine", warmup_epochs=0.5), steps_per_epoch=10)
    assert cos(0) == pytest.approx(0.2) and cos(4) == pytest.approx(1.0)
    assert cos(5) == pytest.approx(1.0) and cos(19) < 0.02
    lin = lr_factor(TrainConfig(epochs=1, schedule="linear"), steps_per_epoch=4)
    assert [lin(s) for s in range(4)] == pytest.approx([1.0, 0.75, 0.5, 0.25])
    assert lr_factor(TrainConfig(), 5)(3) == 1.0
    step = lr_factor(TrainConfig(epochs=4, schedule="step"), steps_per_epoch=1)
    assert [step(s) for s in range(4)] == pytest.approx([1.0, 1.0, 0.1, 0.01])
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_factor(TrainConfig(schedule="exp"), 5)


def test_fit_refuses_to_tune_on_the_test_set():
    ds = prototype_images((1, 28, 28), tuple("ab"), 16, 8)
    with pytest.raises(TypeError, match="val_split"):
        fit(create_model("mnist_mlp"), ds, CFG)


def test_aggregate_and_median():
    agg = aggregate([{"loss": 1.0}, {"loss": 3.0}, {"loss": 2.0}])
    assert agg == pytest.approx({"loss": 2.0, "loss_std": 1.0, "loss_min": 1.0, "loss_max": 3.0})
    assert median_index([5.0, 1.0, 3.0]) == 2
    assert median_index([4.0, 1.0, 3.0, 2.0]) == 3


def test_param_groups_and_time_budget():
    from dljournal.data.tensors import Split

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    frozen_first = model[0].weight.detach().clone()
    groups = [{"params": model[0].parameters(), "lr_scale": 0.0}, {"params": model[1].parameters()}]
    h = fit(model, (Split(x, y), None), TrainConfig(epochs=3, batch_size=8, lr=1e-2), param_groups=groups)
    assert torch.equal(model[0].weight, frozen_first)  # lr × 0: the "backbone" did not move
    assert h.epochs["lr"][-1] == pytest.approx(1e-2)
    budget = fit(model, (Split(x, y), None), TrainConfig(epochs=1000, batch_size=8, max_seconds=1e-9))
    assert budget.epochs["epoch"] == [1]  # stopped after the first epoch


def test_fit_runs_a_pluggable_step():
    """Any ``Step`` gets fit's loop: its logs averaged per key with their weights (a key may skip
    batches), its epoch logs and ``on_epoch`` in the epoch's logs, the incomplete batch dropped."""
    from dljournal.data.tensors import Split
    from dljournal.train.step import Step

    class Count(Step):
        drop_last = True

        def start(self, state):
            self.calls = 0

        def __call__(self, state, batch):
            x, _ = batch
            self.calls += 1
            logs = {"n": len(x), "total": x.sum()}
            if self.calls % 2 == 0:
                logs["even"] = torch.tensor(10.0 * self.calls * len(x))
            return logs

        def epoch_logs(self, state):
            return {"calls": self.calls}

    x = torch.ones(10, 1)
    h = fit(
        nn.Linear(1, 1),
        (Split(x, torch.zeros(10)), None),
        TrainConfig(epochs=2, batch_size=4),
        step=Count(),
        on_epoch=lambda state: {"hook": state.step},
    )
    assert list(h.epochs) == ["epoch", "total", "even", "calls", "hook", "seconds"]  # no optimiser: no lr
    assert h.epochs["total"] == [1.0, 1.0] and h.epochs["even"] == [20.0, 40.0]
    assert h.epochs["calls"] == h.epochs["hook"] == [2.0, 4.0]  # 10 samples, batches of 4: the last 2 dropped
    with pytest.raises(ValueError, match="default step"):
        fit(nn.Linear(1, 1), (Split(x, torch.zeros(10)), None), CFG, step=Count(), augment=lambda x, g: x)


def test_the_default_step_is_supervised():
    from dljournal.data.tensors import Split
    from dljournal.train.step import Supervised

    x, y = torch.randn(40, 3, generator=torch.Generator().manual_seed(0)), torch.arange(40) % 2
    runs = []
    for step in (None, Supervised()):
        torch.manual_seed(0)
        model = nn.Linear(3, 2)
        h = fit(model, (Split(x, y), None), TrainConfig(epochs=2, batch_size=16, l1=1e-3), seed=1, step=step)
        runs.append((h.epochs["train_loss"], h.epochs["train_acc"], model.weight.detach().clone()))
    assert runs[0][:2] == runs[1][:2] and torch.equal(runs[0][2], runs[1][2])
