"""``run --workers N``: N processes of this machine optimise each Optuna study of an experiment together.

The launcher runs the experiment as usual: it alone holds the report's lock and saves the result.
When the experiment starts its first study, N - 1 helpers are started through submitit (local
subprocesses, logs under ``build/jobs/<report>/``). A helper runs the experiment's code for the
trials of its studies only: after each study it helped to complete it runs the code again from the
top (a complete study returns at once, so it gets to the next one), and it stops at the first
watched training outside a study (``ctx.fit``, ``ctx.train``, ``ctx.observers``): that is the
experiment's own work, which the launcher does. It saves nothing and never takes the lock.

All of them write one study at once: in the ``--optuna-storage`` given, else in an Optuna journal
file beside the SQLite studies (SQLite is not safe for concurrent writers); ``tune.optimize`` makes
them finish exactly the study's cap of trials. While a study runs each process uses cores // N
torch threads: more threads than cores make every process several times slower.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import replace

import optuna
import torch

from ..study.tune import AROUND, STORAGE_ENV, finished
from ..train import seed_everything
from .cores import threads_per_process
from .executors import JobOptions, job_error, job_state, make_executor
from .project import Project
from .runner import RunOptions, context, log


class StudyDone(Exception):
    """A helper's study is complete: run the experiment again, up to its next study."""


class HelperDone(Exception):
    """A helper got past the studies to the experiment's own training: nothing is left for it."""


@contextlib.contextmanager
def study_workers(project: Project, opts: RunOptions, exp_id: str, parts: dict[str, str]) -> Iterator[None]:
    """Around one experiment's run in the launcher: with ``opts.workers`` > 1 its studies get helpers."""
    if opts.workers <= 1:
        yield
        return
    threads, helpers = threads_per_process(opts.workers), []

    @contextlib.contextmanager
    def around(s: optuna.Study, cap: int) -> Iterator[None]:
        if not helpers:  # the experiment's first study: its helpers start, and stay for the others
            executor = make_executor(JobOptions(cluster="local"), project.build / "jobs" / opts.report)
            for _ in range(opts.workers - 1):
                helpers.append(executor.submit(help_studies, project, opts, exp_id, parts, threads))
            ids = ", ".join(str(h.job_id) for h in helpers)
            log(f"  {exp_id}: {len(helpers)} helper(s) run trials of its studies (job {ids}), {threads} thread(s) each")
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    given = os.environ.get(STORAGE_ENV)
    journal = project.build / "optuna" / f"{opts.report}.journal"
    os.environ[STORAGE_ENV] = given or f"journal:{journal}"  # read by tune.study here and in the helpers
    token = AROUND.set(around)
    try:
        yield
    finally:
        AROUND.reset(token)
        if given is None:
            del os.environ[STORAGE_ENV]
        else:
            os.environ[STORAGE_ENV] = given
        _stop(helpers)


def _stop(helpers: list, grace_s: float = 10.0) -> None:
    """Helpers end by themselves once past the studies; one still at work ``grace_s`` later (on code
    between the studies and the training) has nothing left to do and is cancelled. A failed one is
    reported: the launcher ran its trials again."""
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and not all(h.done() for h in helpers):
        time.sleep(0.1)
    busy = [h for h in helpers if not h.done()]
    for h in busy:
        h.cancel(check=False)
    for h in helpers:
        try:
            h.result()
        except Exception as exc:
            if h not in busy:
                log(f"  study helper job {h.job_id} FAILED: {job_error(exc)}; log: {h.paths.stderr}")


def help_studies(project: Project, opts: RunOptions, exp_id: str, parts: dict[str, str], threads: int) -> int:
    """A helper's job: the trials of experiment ``exp_id``'s studies; returns how many studies it helped."""
    torch.set_num_threads(threads)
    state, spec = job_state(project, replace(opts, force=False), exp_id)  # only the launcher starts a study afresh
    ctx = context(spec, state, parts, project)
    in_study = []

    def observers(name: str) -> list:
        if not in_study:
            raise HelperDone
        return []  # a trial's training: no progress bar or TensorBoard events from a helper

    @contextlib.contextmanager
    def around(s: optuna.Study, cap: int) -> Iterator[None]:
        complete = len(finished(s)) >= cap
        in_study.append(s)
        try:
            yield
        finally:
            in_study.pop()
        if not complete:
            raise StudyDone

    ctx.observers, helped = observers, 0
    AROUND.set(around)
    while True:
        seed_everything(state.seed)
        try:
            spec.fn(ctx)
        except StudyDone:
            helped += 1
            continue
        except HelperDone:
            pass
        return helped
