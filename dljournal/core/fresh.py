"""``run`` with nothing to do, answered without importing the experiments (or torch): every key read
from the key memo (``keymemo``), every cached result found fresh under it. Anything else, and the
runner takes over as if this had not been asked."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .cache import cache_state, resolve_data_root
from .keymemo import recall
from .options import RunOptions
from .preflight import check_build_dir, check_seed
from .profiles import Profile
from .project import Project
from .store import ResultStore


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def hms(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else (f"{m}m{s:02d}s" if m else f"{seconds:.1f}s")


def run_header(report: str, n: int, profile: Profile, device: str, data_root: Path) -> str:
    return (
        f"report {report}: {n} experiment(s), profile {profile.name} ({profile.budget}), "
        f"device {device}, data root {data_root}"
    )


def skip_all(project: Project, opts: RunOptions) -> bool:
    """True when every experiment of the report is fresh, having said so as ``run`` does; False,
    having said nothing, when something may run or the memo does not hold."""
    if opts.force or opts.only or opts.device == "cuda":  # --device cuda: its check needs torch
        return False
    t0 = time.perf_counter()
    profile, seed = opts.run_profile, check_seed(opts.seed)
    data_root = resolve_data_root(project, opts.data_root)
    known = recall(project, opts.report, profile, seed, data_root)
    if known is None:
        return False
    specs, keys = known
    check_build_dir(project, opts.report)
    store = ResultStore(project.results)
    with store.lock(opts.report):  # as the runner: what a kill mid-save left is put right first
        store.recover(opts.report)
        store.clean_staging(opts.report)
        states = [cache_state(store, spec, keys[spec.id]) for spec in specs]
    if any(state != "fresh" for state, _ in states):
        return False
    log(run_header(opts.report, len(specs), profile, f"{opts.device} (nothing to run)", data_root))
    for i, (spec, (_, why)) in enumerate(zip(specs, states, strict=True), 1):
        log(f"[{i}/{len(specs)}] {spec.id} {spec.title}: skipped, {why}")
    log(f"{len(specs)}/{len(specs)} experiment(s) ok in {hms(time.perf_counter() - t0)}")
    return True
