"""Optuna studies resume after an interrupt and prune through fit."""

import optuna
import pytest
import torch

from dljournal.data.tensors import Split
from dljournal.study.tune import Pruning, finished, optimize, plots, study
from dljournal.train import TrainConfig, fit


def test_interrupted_study_resumes(tmp_path):
    db = tmp_path / "s.db"
    calls = []

    def objective(trial):
        calls.append(trial.number)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C during the third trial
        return trial.suggest_float("x", -1, 1) ** 2

    with pytest.raises(KeyboardInterrupt):
        optimize(study(db, "demo", seed=0), objective, n_trials=6, log=lambda m: None)
    s = study(db, "demo", seed=0)  # a new process would do exactly this
    assert len(finished(s)) == 2
    ran = optimize(s, objective, n_trials=6, log=lambda m: None)
    assert ran == 4 and len(finished(s)) == 6
    assert optimize(s, objective, n_trials=6, log=lambda m: None) == 0  # nothing left to do
    assert len(finished(study(db, "demo", seed=0, fresh=True))) == 0  # --force starts afresh


def test_pruning_callback_stops_bad_trials(tmp_path):
    s = study(tmp_path / "p.db", "prune", seed=0, startup_trials=1)
    x, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    data = (Split(x, y), Split(x, y))

    def objective(trial):
        lr = 0.0 if trial.number > 0 else 1e-2  # later trials never learn: the median rule prunes them
        h = fit(torch.nn.Linear(4, 2), data, TrainConfig(epochs=4, batch_size=16, lr=lr), [Pruning(trial)])
        return h.final["val_acc"]

    optimize(s, objective, n_trials=4, log=lambda m: None)
    states = [t.state for t in finished(s)]
    assert states[0] == optuna.trial.TrialState.COMPLETE
    assert optuna.trial.TrialState.PRUNED in states[1:]
    figs = plots(s)
    assert set(figs) == {"history", "importance", "slice"}
