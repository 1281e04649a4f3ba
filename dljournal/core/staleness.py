"""Is a cached result still what its code, config, data and seed would give today? Asked at build
time, so that a PDF never shows results of code that has since changed without saying so."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .cache import WHAT, changed_parts, resolve_data_root
from .keymemo import report_keys
from .profiles import profile_of
from .project import Project
from .result import StoredResult


def stale_parts(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Key parts that differ, removed ones included, less a data part that cannot be checked here
    (the data root is absent: ``name:missing``): a build without the data does not call it changed."""
    return sorted(k for k in changed_parts(old, new) if not (k == "data" and ":missing" in (new.get(k) or "")))


def stale_results(
    project: Project, report: str, results: Mapping[str, StoredResult], data_root: Path | None = None
) -> dict[str, str]:
    """``{exp_id: "its code, its configuration"}`` for every result whose key no longer holds,
    recomputed for the profile and seed the result was run with (read from the memo while the
    source files are unchanged: no experiment is imported then)."""
    data_root = resolve_data_root(project, data_root)
    stale, keys = {}, {}
    for exp_id, res in results.items():
        run = (res.profile, int(res.provenance.get("seed", 0)))  # the report's keys, once per profile and seed
        if run not in keys:
            keys[run] = report_keys(project, report, profile_of(run[0]), run[1], data_root)[1]
        changed = stale_parts(res.key_parts, keys[run][exp_id])
        if changed:
            stale[exp_id] = ", ".join(WHAT.get(k, k) for k in changed)
    return stale
