"""``run --workers 2``: two real processes optimise one Optuna study of an experiment on a journal
file; exactly the cap of trials finish, both processes ran some, the launcher alone saves the
result (its lock untouched by the helper), and an experiment without a study starts no helper."""

import os

import optuna
import pytest
from conftest import load_module, make_project

from dljournal.core.executors import threads_per_process
from dljournal.core.runner import RunOptions, run
from dljournal.core.store import ResultStore
from dljournal.study import tune

pytest.importorskip("submitit", reason="submitit not installed (pip install submitit)")
pytestmark = pytest.mark.usefixtures("scoped_experiments")
CAP = 4

EXPERIMENTS = """
import time
import torch
from torch import nn
from dljournal import Result, TrainConfig, experiment
from dljournal.data import Split
from dljournal.study.tune import finished, optimize


def train(ctx, name):
    x = torch.randn(32, 4)
    return ctx.fit(nn.Linear(4, 2), (Split(x, (x.sum(1) > 0).long()), None), TrainConfig(epochs=1), name=name)


@experiment("EXP01", report="{report}", title="a study", question="q")
def tuned(ctx):
    s = ctx.study("x")

    def objective(trial):
        trial.set_user_attr("threads", torch.get_num_threads())
        deadline = time.time() + 120  # each trial waits for the other worker: both must take part
        while len({{t.user_attrs.get("pid") for t in s.get_trials(deepcopy=False)}} - {{None}}) < 2:
            assert time.time() < deadline, "no helper took a trial"
            time.sleep(0.2)
        train(ctx, f"trial{{trial.number}}")  # a watched training inside a trial: helpers run it too
        x = trial.suggest_float("x", -1.0, 1.0)
        return -x * x

    ran = optimize(s, objective, {cap}, log=ctx.log)
    train(ctx, "final")  # the experiment's own work: the launcher's, a helper stops here
    return Result(metrics={{"trials": len(finished(s)), "ran": ran, "best": s.best_value}})


@experiment("EXP02", report="{report}", title="no study", question="q")
def plain(ctx):
    return Result(metrics={{"loss": train(ctx, "fit").final["train_loss"]}})
"""


def test_two_workers_share_one_study_and_finish_exactly_the_cap(tmp_path, capsys):
    project = make_project(tmp_path / "proj")
    (project.experiments / "__init__.py").touch()  # the helper imports experiments.<report>
    load_module(project.experiments / "t_workers.py", "t_workers", EXPERIMENTS.format(report="t_workers", cap=CAP))
    assert run(project, RunOptions("t_workers", "smoke", workers=2)) == 0
    err = capsys.readouterr().err
    assert err.count("helper(s) run trials") == 1 and "FAILED" not in err, err  # EXP02 has no study
    result = ResultStore(project.results).load("t_workers", "EXP01")
    assert result.metrics["trials"] == CAP and result.metrics["ran"] == CAP  # the shared study, read by the result

    journal = project.build / "optuna" / "t_workers.journal"  # not the SQLite file: many writers
    assert journal.is_file() and not (project.build / "optuna" / "t_workers.db").exists()
    storage = tune.open_storage(f"journal:{journal}")
    (name,) = optuna.get_all_study_names(storage)
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    done = [t for t in trials if t.state in tune.FINISHED]
    assert len(done) == CAP  # exactly the cap over both processes, no trial beyond it
    assert len({t.user_attrs["pid"] for t in done}) == 2
    assert {t.user_attrs["threads"] for t in done} == {threads_per_process(2)}
    assert result.metrics["best"] == max(t.value for t in done)
    assert tune.STORAGE_ENV not in os.environ  # the launcher's setting does not outlive the run
