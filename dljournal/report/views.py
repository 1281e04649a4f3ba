"""Live results as seen by the journal's templates: ``r.EXP02.metrics.deep.test_acc``.

Every lookup of a missing experiment or key raises ``ReportError`` naming the file, the
experiment and the key, instead of rendering an empty string into a PDF.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..core.project import ProjectError
from ..core.result import StoredResult


class ReportError(ProjectError):
    pass


class Node:
    """A read-only view of nested result data that fails loudly on a missing key."""

    def __init__(self, data: Mapping[str, Any], path: str, where: str):
        self._data, self._path, self._where = data, path, where

    def _get(self, key: str) -> Any:
        if key not in self._data:
            have = ", ".join(sorted(map(str, self._data))) or "nothing"
            raise ReportError(f"{self._where}: {self._path} has no {key!r} (has: {have})")
        value = self._data[key]
        return Node(value, f"{self._path}.{key}", self._where) if isinstance(value, Mapping) else value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self._get(key)

    def __getitem__(self, key: str) -> Any:
        return self._get(str(key))

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def items(self):
        return [(k, self._get(k)) for k in self._data]

    def keys(self):
        return list(self._data)

    def __str__(self) -> str:
        raise ReportError(
            f"{self._where}: {self._path} is a group of values, not one value "
            f"(pick one of: {', '.join(map(str, self._data))})"
        )


class ExperimentView:
    """One experiment's stored result: metrics, history, config, provenance, title, ..."""

    def __init__(self, result: StoredResult, where: str):
        self._r, self._where = result, where
        p = result.exp_id
        self.id, self.title, self.question, self.profile = p, result.title, result.question, result.profile
        self.metrics = Node(result.metrics, f"{p}.metrics", where)
        self.history = Node(result.history, f"{p}.history", where)
        self.config = Node(result.config, f"{p}.config", where)
        self.provenance = Node(result.provenance, f"{p}.provenance", where)
        self.notes = list(result.notes)


class ResultsView:
    """``r`` in templates: every cached result of the report, by experiment id."""

    def __init__(self, results: Mapping[str, StoredResult], report: str, where: str = ""):
        self._results, self._report, self._where = results, report, where

    def _get(self, exp_id: str) -> ExperimentView:
        if exp_id not in self._results:
            have = ", ".join(sorted(self._results)) or "none"
            raise ReportError(
                f"{self._where}: no cached result for {exp_id} in report {self._report} "
                f"(have: {have}); run: nox -s run_experiments -- --report {self._report} "
                f"--only {exp_id}"
            )
        return ExperimentView(self._results[exp_id], self._where)

    def __getattr__(self, exp_id: str) -> ExperimentView:
        if exp_id.startswith("_"):
            raise AttributeError(exp_id)
        return self._get(exp_id)

    def __getitem__(self, exp_id: str) -> ExperimentView:
        return self._get(exp_id)


# ---- filters: how numbers are printed in a journal ---------------------------------------------


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def pct(x: Any, digits: int = 1) -> str:
    """0.9871 -> '98.7 %'."""
    return "n/a" if _missing(x) else f"{100 * float(x):.{digits}f} %"


def num(x: Any, digits: int = 3) -> str:
    """Significant digits, plain or scientific as fits: 0.000123 -> '1.23e-04'."""
    if _missing(x):
        return "n/a"
    x = float(x)
    return f"{x:.{digits}g}" if x == 0 or 1e-3 <= abs(x) < 1e6 else f"{x:.{max(digits - 1, 0)}e}"


def fixed(x: Any, digits: int = 2) -> str:
    return "n/a" if _missing(x) else f"{float(x):.{digits}f}"


def count(x: Any) -> str:
    """41306 -> '41,306'."""
    return "n/a" if _missing(x) else f"{int(x):,}"


def seconds(x: Any) -> str:
    if _missing(x):
        return "n/a"
    x = float(x)
    if x < 60:
        return f"{x:.1f} s"
    m, s = divmod(round(x), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def signed(x: Any, digits: int = 1) -> str:
    """A difference in percentage points: 0.012 -> '+1.2 pt'."""
    return "n/a" if _missing(x) else f"{100 * float(x):+.{digits}f} pt"


def css_string(text: Any) -> str:
    """Text for a CSS string literal (``content: "..."``): quotes and backslashes escaped, no markup."""
    from markupsafe import Markup

    s = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return Markup(s)


def versus(a: Any, b: Any, key: str) -> str:
    """``{{ final | versus(baseline, "test_acc") }}``: the seed comparison of ``key`` between two
    summaries holding ``key``, ``<key>_std`` and ``seeds`` (as ``sweep.summarise`` writes them)."""
    return _compare(a, b, key).phrase()


def beats(a: Any, b: Any, key: str) -> bool:
    """``{% if final | beats(baseline, "test_acc") %}``: higher, and beyond seed noise (see ``versus``)."""
    c = _compare(a, b, key)
    return c.beyond_noise and c.diff > 0


def _compare(a: Any, b: Any, key: str):
    from ..study.compare import compare_stats

    return compare_stats(a[key], a[f"{key}_std"], int(a["seeds"]), b[key], b[f"{key}_std"], int(b["seeds"]))


FILTERS = {
    "pct": pct,
    "num": num,
    "fixed": fixed,
    "count": count,
    "seconds": seconds,
    "signed": signed,
    "css_string": css_string,
    "versus": versus,
    "beats": beats,
}
