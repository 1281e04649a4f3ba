"""Runs the experiments of a report: cache key -> skip or run -> atomic save, with progress."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

import torch

from ..observe import observers
from ..train import seed_everything
from ..train.loop import tune_backends
from . import provenance
from .cache import cache_key, cache_state, key_parts, resolve_data_root
from .context import Context
from .dryrun import dry_config
from .estimate import StepCounter
from .files import pid_alive
from .fresh import hms, log, run_header
from .options import RunOptions
from .preflight import check_build_dir, check_data_root, check_device, check_seed
from .profiles import Profile
from .project import Project, ProjectError
from .registry import ExperimentSpec, experiments_for, get_experiment
from .result import Result, jsonable, split_caption, table_payload
from .store import ResultStore


@dataclass(frozen=True)
class RunState:
    """What every experiment of one run shares, settled by the preflight before any trains."""

    project: Project
    profile: Profile
    device: torch.device
    data_root: Path  # resolved
    seed: int
    store: ResultStore
    force: bool = False  # --force: studies and other state keyed on the result start afresh too


def select(opts: RunOptions) -> list[ExperimentSpec]:
    """The experiments to consider, with the ones they need, each after what it needs."""
    chosen = [get_experiment(opts.report, e) for e in opts.only] if opts.only else experiments_for(opts.report)
    ordered: list[ExperimentSpec] = []

    def visit(spec: ExperimentSpec, path: tuple[str, ...] = ()) -> None:
        if spec.id in path:
            raise ValueError(f"{opts.report}: experiments need each other in a cycle: {' -> '.join(path + (spec.id,))}")
        for dep in spec.needs:
            visit(get_experiment(opts.report, dep), path + (spec.id,))
        if spec not in ordered:
            ordered.append(spec)

    for spec in chosen:
        visit(spec)
    return ordered


def preflight(project: Project, opts: RunOptions) -> tuple[RunState, list[ExperimentSpec]]:
    """Every check that needs no training, before any: one line for a bad seed, device, build
    folder or data root instead of a traceback (or a lost hour) later."""
    profile = opts.run_profile
    check_seed(opts.seed)
    device = check_device(opts.device)
    tune_backends(device)
    specs = select(opts)
    data_root = resolve_data_root(project, opts.data_root)
    check_data_root(data_root, specs, profile.synthetic)
    check_build_dir(project, opts.report)
    state = RunState(project, profile, device, data_root, opts.seed, ResultStore(project.results), opts.force)
    return state, specs


def run(project: Project, opts: RunOptions) -> int:
    """Run (or skip) the selected experiments; returns the number that failed."""
    state, specs = preflight(project, opts)
    with state.store.lock(opts.report):  # ReportBusy: another run of this report is under way
        state.store.recover(opts.report)  # what a kill mid-save left, put right while no one else writes
        state.store.clean_staging(opts.report)
        clean_tensorboard_staging(project)
        return _run_all(state, opts, specs)


def _run_all(state: RunState, opts: RunOptions, specs: list[ExperimentSpec]) -> int:
    from .workers import study_workers  # it starts processes that run this module's steps

    profile, store = state.profile, state.store
    # --force re-runs what was asked for; experiments pulled in only as needs still run only when stale
    forced = (
        ({get_experiment(opts.report, e).id for e in opts.only} if opts.only else {s.id for s in specs})
        if opts.force
        else set()
    )
    log(run_header(opts.report, len(specs), profile, str(state.device), state.data_root))
    failed, t_all = [], time.perf_counter()
    # Keys are taken now, from the code this process imported, not re-read from files edited later.
    keys = {spec.id: key_parts(spec, profile, state.project, state.data_root, state.seed) for spec in specs}
    for i, spec in enumerate(specs, 1):
        head = f"[{i}/{len(specs)}] {spec.id} {spec.title}"
        parts = keys[spec.id]
        cached, why = cache_state(store, spec, parts)
        if cached == "fresh" and spec.id not in forced:
            log(f"{head}: skipped, {why}")
            continue
        blocked = [d for d in spec.needs if d in failed]
        if blocked:
            log(f"{head}: not run, it needs {', '.join(blocked)}, which failed")
            failed.append(spec.id)
            continue
        if cached != "fresh" and store.restore_stashed(spec.report, spec.id, profile.name, cache_key(parts)):
            log(f"{head}: restored the cached {profile.name} result from the stash (nothing to re-run)")
            continue
        log(f"{head}: running, {'--force' if cached == 'fresh' else why}{last_time(store, spec)}")
        try:
            with study_workers(state.project, opts, spec.id, parts):
                seconds = run_one(spec, state, parts)
            log(f"  {spec.id} done in {hms(seconds)} -> {store.folder(spec.report, spec.id)}")
        except KeyboardInterrupt:
            log(f"  {spec.id} interrupted; finished results are kept, this one is not saved")
            raise
        except ProjectError as exc:  # a user-facing problem (missing file, undeclared data): one line
            log(f"  {spec.id} FAILED: {exc}")
            failed.append(spec.id)
        except SystemExit as exc:  # sys.exit() in an experiment must not end the run as a success
            log(
                f"  {spec.id} FAILED: it called sys.exit({exc.code!r}); an experiment returns a Result "
                f"or raises an exception"
            )
            failed.append(spec.id)
        except Exception as exc:  # one broken experiment must not lose the others
            traceback.print_exc()
            log(f"  {spec.id} FAILED: {type(exc).__name__}: {exc}")
            failed.append(spec.id)
    log(
        f"{len(specs) - len(failed)}/{len(specs)} experiment(s) ok in {hms(time.perf_counter() - t_all)}"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return len(failed)


def context(spec: ExperimentSpec, state: RunState, parts: dict[str, str], project: Project) -> Context:
    """What experiment ``spec`` receives when it runs under the key ``parts``."""
    cfg = spec.config_for(state.profile.name)
    cfg = dry_config(cfg) if state.profile.dry_run else cfg
    return Context(
        spec,
        state.profile,
        cfg,
        state.device,
        state.data_root,
        project,
        state.seed,
        log=log,
        key=cache_key(parts),
        force=state.force,
    )


def run_one(spec: ExperimentSpec, state: RunState, parts: dict[str, str]) -> float:
    """Run one experiment and save its result under the key ``parts``; returns its seconds."""
    project, profile, seed = state.project, state.profile, state.seed
    # events go to a staging folder, swapped into place once the result is saved: the previous
    # events survive a crash, and a concurrent reader (TensorBoard, another run) never loses them
    staging = project.build / "tensorboard" / TB_STAGING / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staged = dataclasses.replace(project, tensorboard_root=staging)
    try:
        ctx = context(spec, state, parts, staged)
        watch, counter = observers(ctx.tensorboard_dir), StepCounter()
        ctx.observers = (lambda name: [*watch(name), counter]) if profile.dry_run else watch
        result, started, seconds = _call(spec, ctx, seed)
        extra = {"dry_run": counter.as_dict()} if profile.dry_run else {}  # what --list scales to the profile
        _save(spec, ctx, result, started, seconds, parts, state.store, extra)
        _swap_tensorboard(project, spec, staged.tensorboard(spec.report, spec.id))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return seconds


def _call(spec: ExperimentSpec, ctx: Context, seed: int) -> tuple[Result, str, float]:
    seed_everything(seed)
    started, t0 = provenance.now(), time.perf_counter()
    result = spec.fn(ctx)
    seconds = time.perf_counter() - t0
    if not isinstance(result, Result):
        raise TypeError(f"{spec.id} returned {type(result).__name__}, expected dljournal.Result")
    return result, started, seconds


def _save(
    spec: ExperimentSpec,
    ctx: Context,
    result: Result,
    started: str,
    seconds: float,
    parts: dict[str, str],
    store: ResultStore,
    extra: dict | None = None,
) -> None:
    payload = {
        **(extra or {}),
        "exp_id": spec.id,
        "report": spec.report,
        "title": spec.title,
        "question": spec.question,
        "profile": ctx.profile.label,
        "key": cache_key(parts),
        "key_parts": parts,
        "config": jsonable(dataclasses.asdict(ctx.cfg)) if ctx.cfg is not None else {},
        "metrics": jsonable(result.metrics),
        "history": jsonable(result.history),
        "tables": {n: table_payload(t) for n, t in result.tables.items()},
        "notes": list(result.notes),
        "provenance": {
            "commit": provenance.git_commit(ctx.project.root),
            "profile": ctx.profile.label,
            "device": provenance.device_name(ctx.device),
            "started": started,
            "seconds": round(seconds, 2),
            "seed": ctx.seed,
            "data": dict(ctx.sources),
            "versions": provenance.versions(),
            "command": provenance.command_line(),
        },
    }
    store.save(
        spec.report,
        spec.id,
        payload,
        {n: split_caption(f) for n, f in result.figures.items()},
        artifacts=result.artifacts,
    )


TB_STAGING = ".staging"


def _swap_tensorboard(project: Project, spec: ExperimentSpec, staged: Path) -> None:
    """Put the new events at build/tensorboard/<report>/<EXP> (the old ones go with their result)."""
    final = project.tensorboard(spec.report, spec.id)
    old = final.parent / f".old-{spec.id}-{os.getpid()}"
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(old, ignore_errors=True)  # left by an earlier failed swap of this process
        if final.exists():
            os.rename(final, old)
        if staged.exists():
            os.rename(staged, final)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:  # the result is saved; only its curves are missing from TensorBoard
        log(f"  {spec.id}: TensorBoard events not moved into place ({exc.strerror or exc})")


def clean_tensorboard_staging(project: Project) -> None:
    """Remove the staging events of runs that were killed; restore events a kill left aside."""
    root = project.build / "tensorboard"
    for p in (root / TB_STAGING).glob("*-*") if (root / TB_STAGING).is_dir() else ():
        pid = p.name.split("-")[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)
    for old in root.glob("*/.old-*-*"):
        exp_id, pid = old.name[len(".old-") :].rsplit("-", 1)
        if pid.isdigit() and not pid_alive(int(pid)):
            final = old.parent / exp_id
            if final.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(old, final)


def last_time(store: ResultStore, spec: ExperimentSpec, bare: bool = False) -> str:
    try:
        old = store.read_raw(spec.report, spec.id)
        seconds = old["provenance"]["seconds"]
        return hms(seconds) if bare else f" (last run took {hms(seconds)} in {old['profile']})"
    except Exception:
        return "" if not bare else "-"
