"""Cache keys without importing the experiments: a cached ``run`` and the ``build`` of fresh results
read each experiment's key parts from a memo instead of importing the experiments (and torch).

The code and config parts of a key are a function of the source files the experiments are imported
from, so the memo holds while those files are byte for byte the same: every ``.py`` under the
experiments folder and every engine module that is not presentation (the same list the key itself
leaves out), with the Python version, whose syntax trees the key hashes. The data part holds while
its files and their folders have the same size and modification time, the test ``data_identity``
already trusts. Anything else (a file edited, added or removed; a new profile, seed or data root)
computes the keys the usual way, from imported code, and remembers them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_write_text, file_sha256, sha
from .fingerprint import _ENGINE_DIR, _PRESENTATION, ENGINE_VERSION
from .profiles import Profile
from .project import Project

MEMO_FORMAT = "1"  # bump when what the memo holds changes
_IMPORTED_FROM: dict[Path, str] = {}  # experiments folder -> source stamp when this process imported it


@dataclass(frozen=True)
class Known:
    """One experiment as the memo knows it: enough to list it, order it and check its result."""

    report: str
    id: str
    title: str
    needs: tuple[str, ...]


def memo_path(project: Project, report: str) -> Path:
    return project.build / "cache" / "keys" / f"{report}.json"


def source_stamp(project: Project) -> str:
    """What the code and config parts of every key of the project follow from."""
    engine = [p for p in _ENGINE_DIR.rglob("*.py") if not _module_name(p).startswith(_PRESENTATION)]
    files = sorted(engine) + sorted(project.experiments.rglob("*.py"))
    listing = "\n".join(f"{p}={file_sha256(p)}" for p in files)
    return sha(f"{MEMO_FORMAT}|{sys.version}|{ENGINE_VERSION}|{listing}")


def _module_name(path: Path) -> str:
    parts = path.relative_to(_ENGINE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _entry_name(profile: Profile, seed: int, data_root: Path) -> str:
    return f"{profile.label}|{seed}|{'' if profile.synthetic else data_root}"  # synthetic data has no root


def _stats(paths: Iterable[Path]) -> dict[str, list[int]]:
    out = {}
    for p in sorted(paths):
        st = p.stat()
        out[str(p)] = [st.st_size if p.is_file() else 0, st.st_mtime_ns]
    return out


def _read(project: Project, report: str) -> dict:
    try:
        memo = json.loads(memo_path(project, report).read_text())
        return memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):  # none yet, or unreadable: it only costs computing the keys
        return {}


def load(project: Project, report: str) -> list[str]:
    """``registry.load_experiments``, noting the files the experiments are imported from: keys
    computed from them are remembered only while those files are unchanged."""
    from .registry import load_experiments

    package = f"{project.experiments.name}."
    if project.experiments not in _IMPORTED_FROM and not any(name.startswith(package) for name in sys.modules):
        _IMPORTED_FROM[project.experiments] = source_stamp(project)
    return load_experiments(project, report)


def known_experiments(project: Project, report: str) -> list[Known]:
    """The report's experiments, from the memo while it holds, else from the imported experiments."""
    memo = _read(project, report)
    if "experiments" in memo and memo.get("stamp") == source_stamp(project):
        return [Known(report, e["id"], e["title"], tuple(e["needs"])) for e in memo["experiments"]]
    from .registry import experiments_for

    load(project, report)
    return [Known(report, s.id, s.title, s.needs) for s in experiments_for(report)]


def recall(
    project: Project, report: str, profile: Profile, seed: int, data_root: Path
) -> tuple[list[Known], dict[str, dict[str, str]]] | None:
    """The report's experiments (in run order) and their key parts, or None when the memo does not
    hold for today's files."""
    memo = _read(project, report)
    entry = memo.get("keys", {}).get(_entry_name(profile, seed, data_root))
    if entry is None or memo.get("stamp") != source_stamp(project):
        return None
    try:
        if _stats(Path(p) for p in entry["data"]) != entry["data"]:
            return None
    except OSError:  # a data file gone
        return None
    return [Known(report, e["id"], e["title"], tuple(e["needs"])) for e in memo["experiments"]], entry["parts"]


def report_keys(
    project: Project, report: str, profile: Profile, seed: int, data_root: Path
) -> tuple[list[Known], dict[str, dict[str, str]]]:
    """As ``recall``, computed from the imported experiments (and remembered) when the memo does not hold."""
    known = recall(project, report, profile, seed, data_root)
    return known if known is not None else _compute(project, report, profile, seed, data_root)


def _compute(
    project: Project, report: str, profile: Profile, seed: int, data_root: Path
) -> tuple[list[Known], dict[str, dict[str, str]]]:
    from ..data import get_info
    from .cache import key_parts
    from .options import RunOptions
    from .project import ProjectError
    from .runner import select

    load(project, report)
    specs = select(RunOptions(report))
    parts = {s.id: key_parts(s, profile, project, data_root, seed) for s in specs}
    known = [Known(report, s.id, s.title, s.needs) for s in specs]
    # Remembered only from code this process imported from today's files (a long-lived process
    # may hold modules older than their files), and only for experiments defined in those files.
    stamp = source_stamp(project)
    if _IMPORTED_FROM.get(project.experiments) != stamp or not all(_in_project(project, s.fn) for s in specs):
        return known, parts
    datasets = [] if profile.synthetic else sorted({d for s in specs for d in s.data})  # synthetic: no files
    try:
        files = [f for d in datasets for f in get_info(d).files(data_root)]
    except ProjectError:  # data missing: its part says so, and is checked afresh next time
        return known, parts
    memo = _read(project, report)
    memo = memo if memo.get("stamp") == stamp else {"stamp": stamp, "keys": {}}
    memo["experiments"] = [{"id": k.id, "title": k.title, "needs": list(k.needs)} for k in known]
    data = _stats({p for f in files for p in (f, f.parent)})  # a folder's time moves when a file comes or goes
    memo["keys"][_entry_name(profile, seed, data_root)] = {"parts": parts, "data": data}
    memo_path(project, report).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(memo_path(project, report), json.dumps(memo, indent=1, sort_keys=True))
    return known, parts


def _in_project(project: Project, fn: object) -> bool:
    module = sys.modules.get(getattr(fn, "__module__", ""))
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve().is_relative_to(project.experiments.resolve())
