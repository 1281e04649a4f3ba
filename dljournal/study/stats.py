"""Aggregation over repeated runs (seeds): mean, spread, the median run."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np


def aggregate(runs: Sequence[Mapping[str, object]]) -> dict[str, float]:
    """For every key that is a number in all the runs' dicts: the mean, and ``<key>_std`` (sample,
    ddof=1; 0 for a single value), ``<key>_min``, ``<key>_max``. NaN marks a missing value (a target
    never reached): it is left out, and a key that is NaN in every run stays NaN."""
    out: dict[str, float] = {}
    keys = [
        k for k in runs[0] if all(isinstance(r.get(k), numbers.Real) and not isinstance(r.get(k), bool) for r in runs)
    ]
    for key in keys:
        v = np.array([float(r[key]) for r in runs])
        v = v[~np.isnan(v)]
        if len(v) == 0:
            out.update({key: math.nan, f"{key}_std": math.nan, f"{key}_min": math.nan, f"{key}_max": math.nan})
            continue
        out.update(
            {
                key: float(v.mean()),
                f"{key}_std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                f"{key}_min": float(v.min()),
                f"{key}_max": float(v.max()),
            }
        )
    return out


def median_index(values: Sequence[float]) -> int:
    """Index of the run whose value is the median (the lower middle for an even count)."""
    order = np.argsort(np.asarray(values, dtype=float), kind="stable")
    return int(order[(len(order) - 1) // 2])


def confused_pairs(y_true, y_pred, classes, k: int = 3) -> list[dict]:
    """The ``k`` most frequent mistakes: true class, predicted class, and the share of the true
    class's samples that went there."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    n = len(classes)
    cm = np.zeros((n, n))
    np.add.at(cm, (y_true, y_pred), 1)
    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    np.fill_diagonal(rates, 0)
    top = np.argsort(rates, axis=None)[::-1][:k]
    return [
        {"true": classes[i], "predicted": classes[j], "rate": float(rates[i, j])}
        for i, j in (np.unravel_index(t, rates.shape) for t in top)
    ]


def per_class_recall(y_true, y_pred, classes) -> dict[str, float]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {
        c: float((y_pred[y_true == i] == i).mean()) if (y_true == i).any() else float("nan")
        for i, c in enumerate(classes)
    }
