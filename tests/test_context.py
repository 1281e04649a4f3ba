"""``ctx.data``: what an experiment gets does not depend on which experiment asked first."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from dljournal.core import context
from dljournal.core.context import Context
from dljournal.core.profiles import get_profile
from dljournal.core.project import ProjectError
from dljournal.core.registry import ExperimentSpec


def make_ctx(project, data=("cifar10",), seed: int = 0, exp_id: str = "EXP01") -> Context:
    spec = ExperimentSpec(exp_id, "t_ctx", "t", "q?", lambda ctx: None, data=tuple(data))
    return Context(spec, get_profile("smoke"), None, torch.device("cpu"), Path("/nonexistent"), project, seed)


@pytest.fixture(autouse=True)
def fresh_memo(monkeypatch):
    monkeypatch.setattr(context, "_LOADED", {})


def test_smoke_sizes_do_not_depend_on_who_asked_first(project):
    """``run --only EXP04 EXP05 --profile smoke`` of dl4cv2024_module2: EXP04 asks for 32 training
    images, EXP05 for 60 in the same process; EXP05 must get its 60, not EXP04's 32."""
    first = make_ctx(project, exp_id="EXP04").data("cifar10", n_train=32, n_test=16)
    second = make_ctx(project, exp_id="EXP05").data("cifar10", n_train=60, n_test=40)
    assert (len(first.train), len(first.test)) == (32, 16)
    assert (len(second.train), len(second.test)) == (60, 40)


def test_same_arguments_same_data_whoever_asks(project):
    alone = make_ctx(project).data("cifar10", n_train=60, n_test=40)
    context._LOADED.clear()
    make_ctx(project).data("cifar10", n_train=32, n_test=16)  # another experiment asked first
    after = make_ctx(project).data("cifar10", n_train=60, n_test=40)
    assert torch.equal(alone.train.x, after.train.x) and torch.equal(alone.test.y, after.test.y)


def test_a_subset_keeps_everything_else_the_loader_said(project):
    """Classes, source, normalisation...: every field but the splits comes from the loaded dataset."""
    ds = make_ctx(project).data("cifar10", n_train=20, n_test=10)
    (loaded,) = context._LOADED.values()
    for f in dataclasses.fields(loaded):
        if f.name not in ("train", "test"):
            assert getattr(ds, f.name) == getattr(loaded, f.name), f.name


def test_loader_options_reach_the_loader_and_the_key(project):
    """Caption data (HW2) goes through ctx.data too: sizes and the stand-in's seed shape it."""
    ctx = make_ctx(project, data=("mlds_hw2",))
    a = ctx.data("mlds_hw2", n_train=6, n_test=2, seed=0)
    b = ctx.data("mlds_hw2", n_train=6, n_test=2, seed=1)
    assert (len(a.train), len(a.test_ids)) == (6, 2) and a.synthetic
    assert any(not torch.equal(torch.as_tensor(a.features[v]), torch.as_tensor(b.features[v])) for v in a.train)
    assert ctx.sources["mlds_hw2"] == b.source


def test_undeclared_data_is_one_line(project):
    with pytest.raises(ProjectError, match="does not declare it"):
        make_ctx(project, data=()).data("cifar10")
