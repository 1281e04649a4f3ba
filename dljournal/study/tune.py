"""Hyper-parameter studies with Optuna: stored in SQLite under build/, resumed after an interrupt,
pruned epoch by epoch through a ``fit`` callback."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna

from ..data.tensors import SelectionOnTest
from ..train.loop import Callback, FitState

optuna.logging.set_verbosity(optuna.logging.WARNING)
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


class Pruning(Callback):
    """Reports ``monitor`` to the trial after every epoch; raises TrialPruned when Optuna says so."""

    def __init__(self, trial: optuna.Trial, monitor: str = "val_acc"):
        if not monitor.startswith("val_"):  # pruning is a choice: it may only read validation data
            raise SelectionOnTest(f"Pruning stops trials on {monitor!r}; it can only read a validation metric")
        self.trial, self.monitor = trial, monitor

    def on_epoch_end(self, state: FitState) -> None:
        self.trial.report(state.logs[self.monitor], state.epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"epoch {state.epoch}: {self.monitor}={state.logs[self.monitor]:.4f}")


def study(
    storage_file: Path, name: str, seed: int, direction: str = "maximize", startup_trials: int = 5, fresh: bool = False
) -> optuna.Study:
    """Create, or load and resume, the study ``name`` in the SQLite file ``storage_file``.

    Name a study after what it depends on (e.g. the experiment's cache key): a changed config then
    starts a new study instead of mixing trials of two different searches. ``fresh`` deletes an
    existing study of that name first (``--force``).
    """
    storage_file.parent.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{storage_file}"
    if fresh and name in optuna.get_all_study_names(storage):
        optuna.delete_study(study_name=name, storage=storage)
    return optuna.create_study(
        study_name=name,
        storage=storage,
        load_if_exists=True,
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=1),
    )


def finished(s: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in s.get_trials(deepcopy=False) if t.state in FINISHED]


def optimize(
    s: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> int:
    """Run trials until ``n_trials`` have finished (complete or pruned); returns how many ran now.

    Trials left RUNNING by a killed process are never counted, so a resumed study runs exactly the
    trials that are missing.
    """
    todo = n_trials - len(finished(s))
    if todo < n_trials:
        log(f"  study {s.study_name}: resuming, {n_trials - todo} of {n_trials} trials already finished")

    label = s.study_name.split("-")[1] if s.study_name.count("-") >= 2 else s.study_name

    def report(st: optuna.Study, t: optuna.trial.FrozenTrial) -> None:
        value = f"{t.value:.4f}" if t.value is not None else "pruned"
        params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items())
        log(f"  {label} trial {len(finished(st))}/{n_trials}: {value} ({params})")

    if todo > 0:
        s.optimize(objective, n_trials=todo, callbacks=[report], catch=())
    return max(todo, 0)


def plots(s: optuna.Study, objective: str = "validation accuracy") -> dict:
    """Figure specs of a study: optimisation history, parameter importances (fANOVA) and one slice
    per parameter, from its completed trials (drawn by the report at build time)."""
    from .. import viz

    done = [t for t in s.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    numbers, values = [t.number for t in done], [t.value for t in done]
    names = sorted({k for t in done for k in t.params})
    log = [k for k in names if getattr(done[-1].distributions.get(k), "log", False)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        importance = optuna.importance.get_param_importances(s)
    maximize = s.direction == optuna.study.StudyDirection.MAXIMIZE
    return {
        "history": viz.study_history(numbers, values, maximize, objective),
        "importance": viz.panels(
            {"": viz.draw_bars(list(importance), list(importance.values()), "importance (fANOVA)")},
            ncols=1,
            height=0.35 * len(names) + 1,
        ),
        "slice": viz.study_slices(
            {k: [(t.params[k], t.value, t.number) for t in done if k in t.params] for k in names}, log, objective
        ),
    }
