"""Honest by construction: the test split is never selected on, analyses that need care get it."""

from __future__ import annotations

import dataclasses
import gzip
import pickle

import numpy as np
import optuna
import pytest
import torch
from torch import nn

from dljournal.analysis import (
    curvature_counts,
    full_batch_grad_norm,
    interpolate,
    interpolation_curve,
    recompute_batchnorm,
)
from dljournal.analysis.explain import centre_share
from dljournal.core.project import ProjectError
from dljournal.data import Dataset, Split
from dljournal.data.tensors import SelectionOnTest
from dljournal.study.sweep import Variant, grid, sweep
from dljournal.study.tune import Pruning
from dljournal.train import Diverged, KeepBest, TrainConfig, fit


def blobs(n: int = 64, seed: int = 0) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (2 * n,), generator=g)
    x = torch.randn(2 * n, 4, generator=g) + 2.0 * y[:, None]
    return Dataset("blobs", Split(x[:n], y[:n]), Split(x[n:], y[n:]), ("a", "b"))


CFG = TrainConfig(epochs=3, batch_size=16, lr=1e-2)


# ---- roles ------------------------------------------------------------------------------------------
def test_roles_follow_the_test_split_through_every_derived_split():
    ds = blobs()
    assert ds.train.role == "train" and ds.test.role == "test"
    derived = [
        ds.test.subset(8),
        ds.test.to("cpu"),
        ds.test.map(lambda x: x * 2),
        ds.test.map(torch.tanh, batch=5),
        ds.test.take(torch.arange(3)),
        ds.to("cpu").test,
    ]
    assert all(s.role == "test" for s in derived)
    train, val = ds.val_split(10)
    assert (train.role, val.role, len(val), len(train)) == ("train", "val", 10, 54)


def test_fit_refuses_the_test_split_as_its_validation_split():
    ds = blobs()
    with pytest.raises(SelectionOnTest) as exc:
        fit(nn.Linear(4, 2), (ds.train, ds.test.subset(10)), CFG)
    assert "test split" in str(exc.value) and "\n" not in str(exc.value)
    assert isinstance(exc.value, ProjectError)  # the runner reports it as one line


def test_watching_the_test_split_logs_it_under_its_own_name():
    ds = blobs()
    train, val = ds.val_split(16)
    h = fit(nn.Linear(4, 2), (train, val), CFG, watch=ds.test)
    assert len(h.epochs["test_loss"]) == len(h.epochs["val_acc"]) == CFG.epochs
    with pytest.raises(SelectionOnTest):
        KeepBest("test_acc")  # a watched series can never be what a choice is made on


@pytest.mark.parametrize("helper", ["sweep", "grid"])
def test_selection_helpers_refuse_the_test_split(helper):
    ds = blobs()

    class Ctx:
        seed = 0

        def fit(self, model, data, cfg, **kw):
            return fit(model, data, cfg)

    with pytest.raises(SelectionOnTest, match=helper):
        if helper == "sweep":
            sweep(Ctx(), {"lin": Variant(lambda: nn.Linear(4, 2), CFG)}, (ds.train, ds.test), ds.test)
        else:
            grid(Ctx(), lambda: nn.Linear(4, 2), (ds.train, ds.test), CFG, lr=(1e-2, 1e-1))


def test_pruning_reads_only_validation_metrics():
    trial = optuna.create_study().ask()
    with pytest.raises(SelectionOnTest):
        Pruning(trial, monitor="test_acc")
    Pruning(trial, monitor="val_acc")


def test_keep_best_restores_the_epoch_chosen_on_validation():
    ds = blobs()
    train, val = ds.val_split(16)
    torch.manual_seed(0)
    model, keep = nn.Linear(4, 2), KeepBest("val_acc")
    h = fit(model, (train, val), dataclasses.replace(CFG, epochs=6), [keep])
    assert keep.value == max(h.epochs["val_acc"]) and h.epochs["val_acc"][keep.epoch - 1] == keep.value
    fresh = keep.restore(nn.Linear(4, 2))
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), keep.state.values()))


def test_runner_fails_an_experiment_that_selects_on_test_with_one_line(tmp_path, capsys, scoped_experiments):
    from conftest import load_module, make_project

    from dljournal.core.runner import RunOptions, run

    project = make_project(tmp_path)
    load_module(
        tmp_path / "experiments" / "cheat.py",
        "cheat_exp",
        """
from dljournal import Result, TrainConfig, experiment
from dljournal.data import Dataset, Split
from torch import nn
import torch

@experiment("EXP01", report="honesty_cheat", title="t", question="q")
def cheat(ctx):
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    ds = Dataset("d", Split(x, y), Split(x, y), ("a", "b"))
    ctx.fit(nn.Linear(4, 2), (ds.train, ds.test), TrainConfig(epochs=1), name="cheat")
    return Result()
""",
    )
    failed = run(project, RunOptions(report="honesty_cheat", profile="smoke"))
    err = capsys.readouterr().err
    assert failed == 1
    line = next(ln for ln in err.splitlines() if "FAILED" in ln)
    assert "EXP01" in line and "test split" in line and "Traceback" not in err


# ---- training that diverges ---------------------------------------------------------------------------
def test_a_diverged_fit_names_the_epoch():
    ds = blobs()
    x = ds.train.x.clone()
    x[3] = float("nan")
    with pytest.raises(Diverged, match="diverged at epoch 1"):
        fit(nn.Linear(4, 2), (Split(x, ds.train.y), None), CFG)


# ---- analyses -------------------------------------------------------------------------------------------
def bn_net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def test_interpolating_batch_norm_recomputes_its_statistics():
    ds = blobs(128)
    a, b = bn_net(0), bn_net(1)
    for m, shift in ((a, 0.0), (b, 5.0)):  # very different running statistics
        m[1].running_mean.fill_(shift)
        m[1].running_var.fill_(0.1 if shift else 9.0)
    naive = interpolate(a, b, 2.0)  # extrapolated: 2·0.1 − 9 < 0
    assert (naive[1].running_var < 0).all()
    fixed = interpolate(a, b, 2.0, bn_data=ds.train)
    h = fixed[0](ds.train.x)
    assert torch.allclose(fixed[1].running_mean, h.mean(0), atol=1e-5)
    assert torch.allclose(fixed[1].running_var, h.var(0, unbiased=True), rtol=1e-4)
    with pytest.raises(ValueError, match="bn_data"):
        interpolation_curve(a, b, [0.0, 1.0], {"train": ds.train})
    curve = interpolation_curve(a, b, [0.0, 2.0], {"train": ds.train}, bn_data=ds.train)
    assert all(np.isfinite(curve["train_loss"]))
    assert recompute_batchnorm(nn.Linear(2, 2), ds.train) is not None  # no batch norm: unchanged


def test_curvature_counts_set_flat_eigenvalues_apart():
    eig = torch.tensor([-2.0, -1e-9, 0.0, 1e-9, 1.0, 3.0, 4.0], dtype=torch.float64)
    c = curvature_counts(eig, rel_tol=1e-6)
    assert (c["positive"], c["negative"]) == (3, 1) and c["flat_fraction"] == pytest.approx(3 / 7)
    assert c["ratio_nonflat"] == pytest.approx(0.75)


def test_full_batch_gradient_equals_one_backward_over_everything():
    ds = blobs(100)
    model = nn.Linear(4, 2)
    loss = nn.CrossEntropyLoss()
    loss(model(ds.train.x), ds.train.y).backward()
    expected = torch.sqrt(sum(p.grad.square().sum() for p in model.parameters())).item()
    assert full_batch_grad_norm(model, loss, ds.train.x, ds.train.y, batch_size=7) == pytest.approx(expected, rel=1e-5)


def test_centre_share():
    assert centre_share(torch.ones(2, 8, 8)).tolist() == [0.25, 0.25]
    centre = torch.zeros(1, 8, 8)
    centre[0, 3, 4] = 1.0
    edge = torch.zeros(1, 8, 8)
    edge[0, 0, 7] = 1.0
    assert centre_share(centre).item() == 1.0 and centre_share(edge).item() == 0.0


# ---- data that cannot be trusted ------------------------------------------------------------------------
class _Planted:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED",))


def test_a_planted_cifar_pickle_is_refused_and_never_run(tmp_path, monkeypatch):
    from dljournal.data import cifar

    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in cifar.C10_ORIGINAL[1] + cifar.C10_ORIGINAL[2]:
        (folder / name).write_bytes(pickle.dumps({"data": _Planted(), "labels": [0]}))
    with pytest.raises(ProjectError, match="unsafe file .*data_batch_1.*os|posix"):
        cifar.cifar10(tmp_path, tmp_path / "cache")
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("damage", ["truncated", "wrong keys"])
def test_a_corrupt_cifar_archive_names_the_file(tmp_path, damage):
    from dljournal.data import cifar

    path = tmp_path / cifar.C10_PACKED
    path.parent.mkdir(parents=True)
    np.savez(path, other=np.zeros(3))
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ProjectError) as exc:
        cifar.cifar10(tmp_path, tmp_path / "cache")
    assert f"corrupt file {path}" in str(exc.value) and "\n" not in str(exc.value)


def test_a_corrupt_mnist_file_is_named_without_trying_the_network(tmp_path, monkeypatch):
    from dljournal.data import mnist

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in mnist.GZ_FILES:
        (raw / name).write_bytes(gzip.compress(b"not mnist"))
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("tried the network"))
    with pytest.raises(ProjectError, match=r"corrupt file .*train-images-idx3-ubyte.gz: md5"):
        mnist.mnist(tmp_path, tmp_path / "cache")
