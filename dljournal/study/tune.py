"""Hyper-parameter studies with Optuna: stored in SQLite under build/ (or in a database or journal
file that many workers share), resumed after an interrupt, pruned epoch by epoch through a ``fit``
callback.

``DLJOURNAL_OPTUNA_STORAGE`` (``run --optuna-storage``) moves every study to an RDB URL (PostgreSQL,
MySQL: heartbeats fail the trials of a worker that died, and they are retried) or to a journal file
(``journal:<path>``, Optuna's choice for a cluster on NFS without a database server). Then several
processes can optimise one study: each starts a trial only while the study holds fewer than its
cap, and a trial whose process died on this host is failed and retried by the next worker.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
import sys
import time
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path

import optuna

from ..core.files import pid_alive
from ..data.tensors import SelectionOnTest
from ..train.loop import Callback, FitState

optuna.logging.set_verbosity(optuna.logging.WARNING)
State = optuna.trial.TrialState
FINISHED = (State.COMPLETE, State.PRUNED)
STORAGE_ENV = "DLJOURNAL_OPTUNA_STORAGE"
HEARTBEAT_S = 10  # an RDB worker's heartbeat; a trial silent for GRACE_S is failed and retried
GRACE_S = 30
# what each ``optimize`` runs inside (``run --workers N``, core.workers): in the launching process it
# starts the helper processes and shares the cores with them; in a helper it ends the experiment's
# run once the study it helped is complete. Called with the study and its cap.
AROUND: ContextVar[Callable[[optuna.Study, int], contextlib.AbstractContextManager[None]] | None] = ContextVar(
    "around", default=None
)


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
    shared = bool(os.environ.get(STORAGE_ENV))  # workers of one study must not all draw the same trials
    storage = open_storage(os.environ.get(STORAGE_ENV) or storage_file)
    if fresh and name in optuna.get_all_study_names(storage):
        optuna.delete_study(study_name=name, storage=storage)
    return optuna.create_study(
        study_name=name,
        storage=storage,
        load_if_exists=True,
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed + shared * os.getpid(), n_startup_trials=startup_trials),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=1),
    )


def open_storage(where: str | Path) -> optuna.storages.BaseStorage:
    """A SQLite file (a ``Path``), an RDB URL, or ``journal:<file>``."""
    if isinstance(where, Path):
        where.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.RDBStorage(f"sqlite:///{where}")
    if where.startswith("journal:"):
        path = Path(where.removeprefix("journal:")).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats: stable in use
    return optuna.storages.RDBStorage(
        where,
        heartbeat_interval=HEARTBEAT_S,
        grace_period=GRACE_S,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3),
    )


def finished(s: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in s.get_trials(deepcopy=False) if t.state in FINISHED]


def optimize(
    s: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> int:
    """Run trials until ``n_trials`` have finished (complete or pruned); returns how many finished
    during this call, here or in a process sharing the study (the rest were there before).

    Resumable and shareable: a resumed study runs exactly the trials that are missing, and several
    processes on one storage together run exactly ``n_trials``. A trial's place is decided by its
    number, which the storage hands out atomically: one that finds ``n_trials`` trials before it
    (finished, running or queued) gives its place up (stored as FAIL, never counted).
    """
    around = AROUND.get()
    with around(s, n_trials) if around else contextlib.nullcontext():
        return _optimize(s, objective, n_trials, log)


def _optimize(s: optuna.Study, objective: Callable[[optuna.Trial], float], n_trials: int, log) -> int:
    done_before = len(finished(s))
    if done_before:
        log(f"  study {s.study_name}: resuming, {done_before} of {n_trials} trials already finished")
    label = s.study_name.split("-")[1] if s.study_name.count("-") >= 2 else s.study_name
    while len(finished(s)) < n_trials:
        _retry_orphans(s)
        live = s.get_trials(deepcopy=False, states=(*FINISHED, State.RUNNING, State.WAITING))
        if len(live) < n_trials or any(t.state == State.WAITING for t in live):
            trial = _run_trial(s, objective, n_trials)
            if trial is not None:
                value = f"{trial.value:.4f}" if trial.value is not None else "pruned"
                params = ", ".join(
                    f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items()
                )
                log(f"  {label} trial {len(finished(s))}/{n_trials}: {value} ({params})")
        else:  # the last places are being run by other workers: the study is read when all are in
            time.sleep(0.5)
    return len(finished(s)) - done_before


def _run_trial(s: optuna.Study, objective: Callable[[optuna.Trial], float], cap: int):
    """One trial, if its number leaves it within ``cap``; its frozen record, or None."""
    with warnings.catch_warnings():  # ask/tell keeps the heartbeat itself (_heartbeat, below)
        warnings.filterwarnings("ignore", "Heartbeat of storage is supposed to be used with Study.optimize")
        trial = s.ask()  # a queued retry first, else a new trial from the sampler
    ahead = s.get_trials(deepcopy=False, states=(*FINISHED, State.RUNNING, State.WAITING))
    if sum(t.number < trial.number for t in ahead) >= cap:
        s.tell(trial, state=State.FAIL)  # another worker took the last place
        return None
    trial.set_user_attr("host", socket.gethostname())  # who runs it: a dead owner's trial is retried
    trial.set_user_attr("pid", os.getpid())
    with _heartbeat(s, trial):
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            return s.tell(trial, state=State.PRUNED)
        except BaseException:
            s.tell(trial, state=State.FAIL)
            raise
    return s.tell(trial, value)


def _heartbeat(s: optuna.Study, trial: optuna.Trial):
    """The RDB storages' heartbeat, as ``Study.optimize`` runs it, so that a worker that dies on
    another machine has its trial failed and retried."""
    try:
        from optuna.storages._heartbeat import get_heartbeat_thread
    except ImportError:  # a private helper of Optuna: without it, only this host's dead workers are seen
        return contextlib.nullcontext()
    return get_heartbeat_thread(trial._trial_id, s._storage)


def _retry_orphans(s: optuna.Study) -> None:
    """Fail the RUNNING trials whose process on this host is gone and queue each again, with its
    parameters (what Optuna's heartbeat does for RDB storages, for SQLite and journal files too)."""
    if isinstance(s._storage, optuna.storages.RDBStorage):  # heartbeats: any host's dead workers
        optuna.storages.fail_stale_trials(s)
    host = socket.gethostname()
    now = datetime.datetime.now()
    for t in s.get_trials(deepcopy=False, states=(State.RUNNING,)):
        pid = t.user_attrs.get("pid")
        mine = t.user_attrs.get("host") == host and pid is not None and pid != os.getpid()
        # a trial that never named its owner (an older run's) is orphaned once older than the grace
        unowned = pid is None and t.datetime_start and (now - t.datetime_start).total_seconds() > GRACE_S
        if (mine and not pid_alive(pid)) or unowned:
            try:
                s._storage.set_trial_state_values(t._trial_id, State.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:
                continue  # another worker got there first, and queued the retry
            s.enqueue_trial(t.params, user_attrs={"retry_of": t.number})


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
