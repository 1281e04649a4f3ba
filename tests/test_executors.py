"""Experiments as jobs through submitit's local executor: in parallel subprocesses, into one build
folder, with the same results as a sequential run; a killed job leaves the others' results intact and
the next launch submits only what is missing."""

import dataclasses
import datetime as dt
import os

import pytest
from conftest import load_module, make_project

from dljournal.core.executors import JobOptions, run_jobs
from dljournal.core.runner import RunOptions, run
from dljournal.core.store import ResultStore

pytest.importorskip("submitit", reason="submitit not installed (pip install submitit)")
pytestmark = pytest.mark.usefixtures("scoped_experiments")

EXPERIMENTS = """
import os, signal, time
import torch
from torch import nn
from dljournal import Result, TrainConfig, experiment
from dljournal.data import Split


def train(ctx, seconds):
    time.sleep(seconds)  # long enough that two jobs visibly overlap
    x = torch.randn(64, 4)
    data = Split(x, (x.sum(1) > 0).long())
    model = nn.Linear(4, 2)
    history = ctx.fit(model, (data, None), TrainConfig(epochs=2, batch_size=16), name="fit")
    return Result(metrics={{"loss": history.final["train_loss"], "w": float(model.weight.sum())}})


@experiment("EXP01", report="{report}", title="one", question="q")
def one(ctx):
    return train(ctx, 2.0)


@experiment("EXP02", report="{report}", title="two", question="q")
def two(ctx):
    if os.path.exists(os.environ.get("EXP02_KILL", "/nonexistent")):
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer or scancel would
    return train(ctx, 2.0)


@experiment("EXP03", report="{report}", title="three", question="q", needs=("EXP01",))
def three(ctx):
    return Result(metrics={{"after": 1.0}})
"""


def setup(tmp_path, report):
    project = make_project(tmp_path / "proj")
    (project.experiments / "__init__.py").touch()  # jobs import experiments.<report>, as in a real project
    load_module(project.experiments / f"{report}.py", report, EXPERIMENTS.format(report=report))
    return project


def opts(report, **kw):
    return RunOptions(report=report, profile="smoke", data_root=None, **kw)


def interval(result):
    start = dt.datetime.fromisoformat(result.provenance["started"])
    return start, start + dt.timedelta(seconds=result.provenance["seconds"])


def test_jobs_run_in_parallel_and_equal_a_sequential_run(tmp_path, capsys):
    project = setup(tmp_path, "t_jobs")
    sequential = dataclasses.replace(project, build=tmp_path / "sequential")
    assert run(sequential, opts("t_jobs")) == 0
    assert run_jobs(project, opts("t_jobs"), JobOptions(cluster="local", jobs=2, poll_seconds=0.2)) == 0
    err = capsys.readouterr().err
    assert "EXP01: queued as job" in err and "EXP03: done" in err
    jobs, seq = ResultStore(project.results), ResultStore(sequential.results)
    for exp in ("EXP01", "EXP02", "EXP03"):
        a, b = jobs.load("t_jobs", exp), seq.load("t_jobs", exp)
        assert a.key == b.key and a.metrics == b.metrics, exp
    (s1, e1), (s2, e2) = (interval(jobs.load("t_jobs", e)) for e in ("EXP01", "EXP02"))
    assert s1 < e2 and s2 < e1  # the two trained at the same time
    s3, _ = interval(jobs.load("t_jobs", "EXP03"))
    assert s3 >= e1  # EXP03 needs EXP01: submitted after it finished


def test_a_killed_job_loses_nothing_and_only_it_runs_again(tmp_path, monkeypatch, capsys):
    project = setup(tmp_path, "t_kill")
    marker = tmp_path / "kill"
    marker.touch()
    monkeypatch.setenv("EXP02_KILL", str(marker))
    job = JobOptions(cluster="local", jobs=2, poll_seconds=0.2)
    assert run_jobs(project, opts("t_kill"), job) == 1
    err = capsys.readouterr().err
    assert "EXP02: FAILED" in err and "log:" in err
    store = ResultStore(project.results)
    assert store.load("t_kill", "EXP01") is not None and store.load("t_kill", "EXP02") is None
    os.remove(marker)
    assert run_jobs(project, opts("t_kill"), job) == 0
    err = capsys.readouterr().err
    assert "1 job(s)" in err and "EXP01 skipped" in err and "EXP02: done" in err


def test_processes_sharing_the_machine_use_no_more_threads_than_cores(monkeypatch):
    from dljournal.core import cores

    monkeypatch.setattr(cores, "usable_cores", lambda: 8)
    assert [cores.threads_per_process(n) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    assert all(cores.threads_per_process(n) * n <= 8 for n in range(1, 9))
