"""The cache key of a result, in one place: what it covers, how it is hashed, and whether a stored
result still holds.

The key covers what computes a result and nothing else: the code the experiment reaches
(``fingerprint.code_hash``: presentation never counts), its config for the profile, the profile,
the checksums of its declared data, the seed, the engine version, and the keys of the experiments
whose artifacts it reads (``needs``). ``run`` skips a fresh result, ``run --list`` and ``build``
say which parts changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import fingerprint
from .profiles import Profile
from .project import Project
from .registry import ExperimentSpec, get_experiment
from .store import CorruptResult, ResultStore

# what each key part means to a reader (the PDF's stale banner)
WHAT = {
    "code": "its code",
    "config": "its configuration",
    "data": "its data",
    "seed": "the seed",
    "profile": "the profile",
    "engine": "the engine version",
    "needs": "an experiment it needs",
}


def resolve_data_root(project: Project, given: Path | None = None) -> Path:
    """``--data-root``, else ``$DLJOURNAL_DATA_ROOT``, else ``../shared/data``; absolute, since
    the key's data part and a result's provenance name it."""
    return Path(given or project.default_data_root()).resolve()


def registered_by_name(spec: ExperimentSpec, profile: Profile) -> Callable[[set[str]], list[Any]]:
    """The objects an experiment reaches by name, for ``code_hash``: models named by a string in
    its code or config (``create_model("cnn_deep")``), and the loaders of its datasets."""
    from ..data import DATASETS
    from ..models import MODELS

    config_names = fingerprint.strings_of(spec.config_for(profile.name))

    def by_name(code_names: set[str]) -> list[Any]:
        models = sorted(n for n in code_names | config_names if n in MODELS)
        return [MODELS.get(n).factory for n in models] + [DATASETS.get(d).loader for d in spec.data if d in DATASETS]

    return by_name


def key_parts(spec: ExperimentSpec, profile: Profile, project: Project, data_root: Path, seed: int) -> dict[str, str]:
    """The key's parts, each a short string a reader can compare: ``{"code": ..., "seed": "0"}``."""
    from ..data import data_identity  # here, not at the top: checking a key from the memo needs no torch
    from .context import Context

    memo = project.build / "cache" / "data_fingerprints.json"
    needed = {d: key_parts(get_experiment(spec.report, d), profile, project, data_root, seed) for d in spec.needs}
    needs = {"needs": ",".join(f"{d}={cache_key(p)}" for d, p in needed.items())} if needed else {}
    return {
        **needs,
        "code": fingerprint.code_hash(
            spec.fn,
            extra_roots=[Context],
            project_dirs=[project.experiments],
            by_name=registered_by_name(spec, profile),
        )[:16],
        "config": fingerprint.config_hash(spec.config_for(profile.name))[:16],
        "profile": profile.name,
        "data": ",".join(
            data_identity(d, data_root=data_root, memo=memo, synthetic=profile.synthetic) for d in spec.data
        ),
        "seed": str(seed),
        "engine": fingerprint.ENGINE_VERSION,
    }


def cache_key(parts: Mapping[str, str]) -> str:
    return fingerprint.sha("|".join(f"{k}={parts[k]}" for k in sorted(parts)))[:16]


def changed_parts(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Key parts that differ, those added or removed since (``needs`` dropped, say) included; in
    the order of ``new``, removed ones last."""
    names = [*new, *(k for k in old if k not in new)]
    return [k for k in names if old.get(k) != new.get(k)]


def describe(old: Mapping[str, str], new: Mapping[str, str], changed: list[str]) -> str:
    """``code, seed 0 -> 1, needs removed``: what ``run`` and ``run --list`` print."""

    def one(k: str) -> str:
        if k not in new:
            return f"{k} removed"
        if k not in old:
            return f"{k} added"
        return f"{k} {old[k]} -> {new[k]}" if k in ("profile", "seed") else k

    return ", ".join(map(one, changed))


def cache_state(store: ResultStore, spec: ExperimentSpec, parts: dict[str, str]) -> tuple[str, str]:
    """("fresh" | "stale" | "missing" | "corrupt", why)."""
    try:
        old = store.read_raw(spec.report, spec.id)
    except CorruptResult as exc:
        return "corrupt", f"cached result unreadable ({exc})"
    if old is None:
        return "missing", "no cached result"
    if old["key"] == cache_key(parts):
        return "fresh", f"up to date ({old['profile']} profile, key {old['key']})"
    changed = changed_parts(old["key_parts"], parts)
    why = describe(old["key_parts"], parts, changed) if changed else f"key {old['key']} -> {cache_key(parts)}"
    return "stale", f"changed since the cached result: {why}"
