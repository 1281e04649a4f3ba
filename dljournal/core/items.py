"""``@experiment(item_jobs=True)`` run by ``--executor submitit``: each item of the experiment's
``ctx.map`` (each variant × seed of a ``sweep``) is a submitit job of its own, with the GPUs of one job.

The experiment's own job (core.executors) submits the items of each ``ctx.map`` that are not stored
yet, waits, and reads every result back in order. An item's job runs the experiment's code from the
top, reading the earlier maps' results back, computes its one item, stores it (written whole or not
at all) and stops. Stored items are keyed on the experiment's cache key, so the launch after an
interruption submits only the missing ones; a failed item stops the experiment naming its log.
The results equal an in-process run's: an item seeds itself (``sweep`` does) and reads the same data.
Items' trainings write no TensorBoard events. An item is read back with ``weights_only=True``, allowing
only the model and record classes its job listed beside it, from this project's and torch.nn's modules.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from ..train import seed_everything
from .context import MAPPER, Context
from .cores import threads_per_process, usable_cores
from .executors import JobOptions, job_error, job_state, make_executor
from .files import atomic_file, atomic_write_text
from .project import Project, ProjectError
from .runner import RunOptions, context


class ItemDone(Exception):
    """An item's job stored its item: the rest of the experiment is the experiment job's work."""


def _folder(ctx: Context, m: int) -> Path:
    return ctx.project.build / "jobs" / ctx.spec.report / ctx.spec.id / ctx.key / f"map{m}"


SAFE_HOMES = ("dljournal.", "experiments.", "torch.nn.")  # where the classes an item may hold live


def _save(result: object, path: Path) -> None:
    """``result`` as ``path`` (written whole or not at all), beside it the classes it holds: the
    loader allows exactly those, so reading an item back never unpickles anything else."""
    atomic_write_text(path.with_suffix(".classes"), "\n".join(sorted(_classes(result))))
    with atomic_file(path) as tmp:
        torch.save(result, tmp)


def _classes(obj: object, found: set[str] | None = None) -> set[str]:
    found = set() if found is None else found
    if isinstance(obj, torch.nn.Module):
        found.update(f"{type(m).__module__}:{type(m).__qualname__}" for m in obj.modules())
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        found.add(f"{type(obj).__module__}:{type(obj).__qualname__}")
        for f in dataclasses.fields(obj):
            _classes(getattr(obj, f.name), found)
    elif isinstance(obj, dict):
        for v in obj.values():
            _classes(v, found)
    elif isinstance(obj, list | tuple):
        for v in obj:
            _classes(v, found)
    return found


def _allowed(path: Path) -> list[type]:
    allowed = []
    for name in path.with_suffix(".classes").read_text().split():
        home, qualname = name.split(":")
        if not home.startswith(SAFE_HOMES):
            raise ProjectError(f"{path}: refuses to load class {name} (only {', '.join(SAFE_HOMES)})")
        obj = importlib.import_module(home)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        allowed.append(obj)
    return allowed


def _load(where: Path, n: int, device: torch.device) -> list:
    out = []
    for i in range(n):
        path = where / f"{i}.pt"
        with torch.serialization.safe_globals(_allowed(path)):
            out.append(torch.load(path, map_location=device, weights_only=True))
    return out


def item_jobs(project: Project, opts: RunOptions, job: JobOptions, exp_id: str, parts: dict[str, str]) -> Callable:
    """The ``ctx.map`` of an experiment's job: the missing items as jobs, then all of them read back."""
    maps = itertools.count()

    def mapper(ctx: Context, fn: Callable, items: list) -> list:
        m = next(maps)
        where = _folder(ctx, m)
        if m == 0 and ctx.force:  # --force: every item trains again
            shutil.rmtree(where.parent, ignore_errors=True)
        missing = [i for i in range(len(items)) if not (where / f"{i}.pt").exists()]
        ctx.log(f"  {exp_id}: map {m}: {len(missing)} of {len(items)} item(s) to run as jobs, logs in {where}")
        _run(make_executor(job, where), job, missing, (project, opts, exp_id, parts, m), exp_id)
        return _load(where, len(items), ctx.device)

    return mapper


def _run(executor, job: JobOptions, missing: list[int], args: tuple, exp_id: str) -> None:
    local = executor.cluster == "local"
    slots = (job.jobs or 2) if local else len(missing)  # Slurm queues them all; here, a few at once
    threads = threads_per_process(slots) if local else usable_cores()
    running, failed = {}, []
    while missing or running:
        while missing and len(running) < slots:
            i = missing.pop(0)
            running[i] = executor.submit(run_item, *args, i, threads)
        time.sleep(job.poll_seconds)
        for i, submitted in list(running.items()):
            if submitted.done():
                del running[i]
                try:
                    submitted.result()
                except Exception as exc:
                    failed.append(f"item {i} failed ({job_error(exc)}); log: {submitted.paths.stderr}")
    if failed:
        raise ProjectError(f"{exp_id}: {len(failed)} item job(s) failed; {'; '.join(failed)}")


def run_item(
    project: Project, opts: RunOptions, exp_id: str, parts: dict[str, str], m: int, i: int, threads: int
) -> None:
    """An item's job: item ``i`` of the experiment's ``m``-th ``ctx.map``, stored for the experiment job."""
    torch.set_num_threads(threads)
    state, spec = job_state(project, replace(opts, force=False), exp_id)
    ctx = context(spec, state, parts, project)
    maps = itertools.count()

    def mapper(ctx: Context, fn: Callable, items: list) -> list:
        k = next(maps)
        if k < m:  # an earlier map: its results are all stored
            return _load(_folder(ctx, k), len(items), ctx.device)
        result = fn(items[i])
        _save(result, _folder(ctx, k) / f"{i}.pt")
        raise ItemDone

    MAPPER.set(mapper)
    seed_everything(state.seed)
    try:
        spec.fn(ctx)
    except ItemDone:
        return
    raise ProjectError(f"{exp_id} made fewer than {m + 1} ctx.map call(s) in the job of its item {i}")
