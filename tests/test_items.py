"""``@experiment(item_jobs=True)`` under submitit's local executor: each item of its ``ctx.map`` (each
seed of a sweep) is a job of its own; the results equal an in-process run's; a failed item names its
log, and the next launch submits only the missing item."""

import pytest
import torch
from conftest import load_module, make_project

from dljournal.core.executors import JobOptions, run_jobs
from dljournal.core.project import ProjectError
from dljournal.core.runner import RunOptions, run
from dljournal.core.store import ResultStore

pytest.importorskip("submitit", reason="submitit not installed (pip install submitit)")
pytestmark = pytest.mark.usefixtures("scoped_experiments")

EXPERIMENTS = """
import os
import torch
from torch import nn
from dljournal import Result, TrainConfig, experiment
from dljournal.data import Split
from dljournal.study.sweep import Variant, sweep


def model():
    if torch.initial_seed() == 1 and os.path.exists(os.environ.get("ITEM_FAIL", "/nonexistent")):
        raise RuntimeError("seed 1 broke")  # sweep seeds each run before it builds the model
    return nn.Linear(4, 2)


@experiment("EXP01", report="{report}", title="seeds as jobs", question="q", item_jobs=True)
def seeds(ctx):
    x = torch.randn(96, 4)  # drawn after the run's seed: the same in every job
    d = Split(x, (x.sum(1) > 0).long())
    runs = sweep(ctx, {{"lin": Variant(model, TrainConfig(epochs=2, batch_size=16))}}, (d, None), d, seeds=(0, 1))
    return Result(metrics={{"runs": [[r.test["loss"], r.model.weight.detach().sum().item()] for r in runs["lin"]]}})
"""


def test_items_as_jobs_equal_an_in_process_run_and_resume(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path / "proj")
    (project.experiments / "__init__.py").touch()  # jobs import experiments.<report>
    load_module(project.experiments / "t_items.py", "t_items", EXPERIMENTS.format(report="t_items"))
    opts = RunOptions("t_items", "smoke")
    here = project.__class__(**{**project.__dict__, "build": tmp_path / "here"})
    assert run(here, opts) == 0  # in process: ctx.map is a plain loop

    marker = tmp_path / "fail"
    marker.touch()
    monkeypatch.setenv("ITEM_FAIL", str(marker))
    job = JobOptions(cluster="local", jobs=2, poll_seconds=0.2)
    assert run_jobs(project, opts, job) == 1
    err = capsys.readouterr().err
    assert "EXP01: FAILED" in err and "item 1 failed" in err and "_log.err" in err, err
    (stored,) = (project.build / "jobs" / "t_items" / "EXP01").glob("*/map0")
    assert sorted(p.name for p in stored.glob("*.pt")) == ["0.pt"]  # what finished is kept
    kept = {p.name: p.stat().st_mtime_ns for p in stored.glob("*.pt")}

    marker.unlink()
    assert run_jobs(project, opts, job) == 0
    assert {p: (stored / p).stat().st_mtime_ns for p in kept} == kept  # only item 1 ran again
    assert (stored / "1.pt").is_file()
    jobs, seq = ResultStore(project.results), ResultStore(here.results)
    a, b = jobs.load("t_items", "EXP01"), seq.load("t_items", "EXP01")
    assert a.key == b.key and a.metrics == b.metrics and len(a.metrics["runs"]) == 2


def test_a_stored_item_reads_back_with_only_the_classes_its_job_listed(tmp_path):
    from dljournal.core import items
    from dljournal.models import create_model
    from dljournal.train.loop import History
    from dljournal.train.run import Run

    model = create_model("cifar_cnn", width=4, batch_norm=True)
    run = Run("a", History({"val_acc": [0.5]}), {"acc": 0.5}, 7, torch.zeros(2), model, {"gap": 0.1})
    items._save([run], tmp_path / "0.pt")
    (back,) = items._load(tmp_path, 1, torch.device("cpu"))[0]
    assert back.history.epochs == {"val_acc": [0.5]} and type(back.model) is type(model)
    x = torch.randn(1, 3, 32, 32)
    assert torch.equal(back.model.eval()(x), model.eval()(x))

    (tmp_path / "0.classes").write_text("os:system\n")  # a tampered list is refused, nothing unpickled
    with pytest.raises(ProjectError, match="refuses to load class os:system"):
        items._load(tmp_path, 1, torch.device("cpu"))
