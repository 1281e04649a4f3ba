"""``run --list``: each experiment's cache state and, from a dry run, the estimated work of its profile."""

from __future__ import annotations

from .cache import cache_state, key_parts, resolve_data_root
from .dryrun import DRY_RUN_DIR
from .estimate import estimate
from .preflight import check_seed
from .profiles import profile_label
from .project import Project
from .registry import ExperimentSpec
from .runner import RunOptions, last_time, select
from .store import ResultStore


def list_state(project: Project, opts: RunOptions) -> list[dict]:
    """One row per experiment: id, title, state, why, last run time and, where this profile has a
    dry run (``run --dry-run``), the estimated work of the profile scaled from it."""
    profile = opts.run_profile
    check_seed(opts.seed)
    data_root = resolve_data_root(project, opts.data_root)
    store = ResultStore(project.results)
    rehearsals = ResultStore(project.build / DRY_RUN_DIR / "results")
    rows = []
    for spec in select(opts):
        parts = key_parts(spec, profile, project, data_root, opts.seed)
        cached, why = cache_state(store, spec, parts)
        row = {"id": spec.id, "title": spec.title, "state": cached, "why": why}
        row["last run"] = last_time(store, spec, bare=True)
        dry = _read(rehearsals, spec) if not profile.dry_run else None
        est = estimate(spec.config_for(profile.name), spec.data, dry) if dry else None
        if est is not None and dry["profile"] == profile_label(profile.name, dry_run=True):
            row.update(est.row())
        rows.append(row)
    return rows


def _read(store: ResultStore, spec: ExperimentSpec) -> dict | None:
    try:
        return store.read_raw(spec.report, spec.id)
    except Exception:  # no dry run yet, or an unreadable one: no estimate
        return None
