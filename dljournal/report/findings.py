"""A report's findings: what its narrative states, computed in tested Python at build time.

``experiments/<report>/findings.py`` may define ``findings(results) -> dict``: it reads the stored
results (``{exp_id: StoredResult}``) and returns plain data — numbers, strings, booleans, lists and
dicts (dataclasses are turned into dicts) — that the journal's templates read as ``findings.<name>``.
Rankings, verdicts and thresholds live there, with unit tests on hand-made results; templates only
format and branch on the values. Findings never train: they are cheap and outside the cache key.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from ..core.project import Project
from ..core.result import StoredResult
from .views import ReportError


def findings_file(project: Project, report: str) -> Path:
    return project.experiments / report / "findings.py"


def load_findings(path: Path) -> ModuleType:
    """The findings module at ``path``, loaded from its file: the experiments package (and torch)
    is not imported for it."""
    name = f"_dljournal_findings_{path.parent.name}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def compute_findings(project: Project, report: str, results: Mapping[str, StoredResult]) -> dict:
    """The report's findings as plain data; ``{}`` when it has no findings module."""
    path = findings_file(project, report)
    if not path.is_file():
        return {}
    try:
        out = load_findings(path).findings(dict(results))
    except ReportError:
        raise
    except Exception as exc:  # one line naming the file, not a traceback in a PDF build
        raise ReportError(f"{path}: findings failed: {type(exc).__name__}: {exc}") from exc
    return plain(out, str(path))


def plain(value: Any, where: str = "findings") -> Any:
    """``value`` as JSON-like data (templates see plain data only)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, where) for v in value]
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # a numpy or torch scalar
        return plain(value.item(), where)
    raise ReportError(
        f"{where}: findings hold a {type(value).__name__}; return numbers, strings, "
        f"booleans, lists, dicts or dataclasses"
    )


def fake_result(
    exp_id: str,
    metrics: dict | None = None,
    *,
    history: dict | None = None,
    tables: dict | None = None,
    config: dict | None = None,
    report: str = "t",
    profile: str = "quick",
) -> StoredResult:
    """A hand-made stored result, for findings tests: ``tables`` maps a name to
    ``{"columns": [...], "rows": [[...], ...]}`` as the store writes them."""
    return StoredResult(
        exp_id,
        report,
        exp_id,
        "",
        profile,
        metrics or {},
        history or {},
        tables or {},
        {},
        [],
        config or {},
        {"seconds": 1.0, "seed": 0},
        "key",
        {},
    )
