"""What changed since the last PDF: each build keeps a snapshot of its results' numbers, and the next
build of the report lists the experiments added or removed and every number that moved, old → new,
marking a move within seed noise where the result states its spread over seeds."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.files import atomic_write_text
from ..core.result import StoredResult

SPREAD = ("std", "test_acc_std", "spread")  # sibling keys that hold a value's spread over seeds


def snapshot(results: Mapping[str, StoredResult]) -> dict[str, dict[str, float]]:
    """``{exp_id: {metric path: number}}``: every finite number among the results' metrics."""
    return {exp_id: dict(_numbers(res.metrics)) for exp_id, res in results.items()}


def _numbers(d: Any, prefix: str = "") -> list[tuple[str, float]]:
    if isinstance(d, Mapping):
        return [kv for k, v in d.items() for kv in _numbers(v, f"{prefix}{k}.")]
    if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d):
        return []
    return [(prefix.rstrip("."), float(d))]


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)  # exp, metric, old, new, noise (bool or None)
    unchanged: int = 0  # numbers that did not move

    def plain(self, fmt: Callable[[str, float], str]) -> dict[str, Any]:
        """Plain data for the template, each number formatted by ``fmt(metric, value)``."""
        moved = [
            dict(
                m,
                old=fmt(m["metric"], m["old"]),
                new=fmt(m["metric"], m["new"]),
                note="" if m["noise"] is None else ("within seed noise" if m["noise"] else "beyond seed noise"),
            )
            for m in self.moved
        ]
        shown = [m for m in moved if m["old"] != m["new"]]  # a move below the printed precision is none
        unchanged = self.unchanged + len(moved) - len(shown)
        return {"added": self.added, "removed": self.removed, "moved": shown, "unchanged": unchanged}


def compare(old: Mapping[str, Mapping[str, float]], new: Mapping[str, Mapping[str, float]]) -> Changes:
    out = Changes(sorted(set(new) - set(old)), sorted(set(old) - set(new)))
    for exp_id in sorted(set(old) & set(new)):
        before, after = old[exp_id], new[exp_id]
        for metric in sorted(set(before) & set(after)):
            a, b = before[metric], after[metric]
            if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
                out.unchanged += 1
                continue
            spread = _spread(after, metric)
            noise = None if spread is None else abs(b - a) <= spread
            out.moved.append({"exp": exp_id, "metric": metric, "old": a, "new": b, "noise": noise})
    return out


def _spread(numbers: Mapping[str, float], metric: str) -> float | None:
    """A value's spread over seeds where its result states one: ``x.mean`` with ``x.std``, or
    ``test_acc`` with ``test_acc_std`` beside it."""
    parent, _, leaf = metric.rpartition(".")
    candidates = [f"{parent}.std" if leaf == "mean" else None, f"{metric}_std"]
    for key in candidates:
        if key and key in numbers:
            return numbers[key]
    return None


def snapshot_path(build: Path, report: str) -> Path:
    return build / "snapshots" / f"{report}.json"


def previous(build: Path, report: str, profiles: list[str]) -> dict | None:
    """The numbers of the report's last build, if it was built from results of the same profiles
    (a quick build is never compared with a smoke one)."""
    try:
        last = json.loads(snapshot_path(build, report).read_text())
    except (OSError, ValueError):
        return None  # no earlier build, or an unreadable snapshot: no appendix this time
    return last.get("numbers") if last.get("profiles") == profiles else None


def remember(build: Path, report: str, profiles: list[str], numbers: Mapping[str, Mapping[str, float]]) -> None:
    path = snapshot_path(build, report)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"profiles": profiles, "numbers": numbers}, indent=1, sort_keys=True))
