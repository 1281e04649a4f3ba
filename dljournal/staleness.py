"""Is a cached result still what its code, config, data and seed would give today? Asked at build
time, so that a PDF never shows results of code that has since changed without saying so."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from .profiles import get_profile
from .project import Project
from .registry import get_experiment
from .result import StoredResult

# what each key part means to a reader of the PDF
WHAT = {"code": "its code", "config": "its configuration", "data": "its data", "seed": "the seed",
        "profile": "the profile", "engine": "the engine version", "needs": "an experiment it needs"}


def changed_parts(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Key parts that differ, removed ones included. A data part that cannot be checked here (the
    data root is absent: ``name:missing``) is not counted as a change."""
    out = []
    for k in sorted(set(old) | set(new)):
        if old.get(k) == new.get(k):
            continue
        if k == "data" and ":missing" in (new.get(k) or ""):
            continue
        out.append(k)
    return out


def stale_results(project: Project, report: str, results: Mapping[str, StoredResult],
                  data_root: Path | None = None) -> dict[str, str]:
    """``{exp_id: "its code, its configuration"}`` for every result whose key no longer holds,
    recomputed for the profile and seed the result was run with."""
    from .runner import key_parts  # the one definition of the key

    data_root = (data_root or project.default_data_root()).resolve()
    stale = {}
    for exp_id, res in results.items():
        spec = get_experiment(report, exp_id)
        parts = key_parts(spec, get_profile(res.profile), project, data_root, int(res.provenance.get("seed", 0)))
        changed = changed_parts(res.key_parts, parts)
        if changed:
            stale[exp_id] = ", ".join(WHAT.get(k, k) for k in changed)
    return stale
