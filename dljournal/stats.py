"""Aggregation over repeated runs (seeds): mean, spread, the median run."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


def aggregate(runs: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """For every key of the runs' dicts: mean, and ``<key>_std`` / ``_min`` / ``_max`` over runs.

    The standard deviation is the sample one (ddof=1); 0 for a single run.
    """
    out: dict[str, float] = {}
    for key in runs[0]:
        v = np.array([float(r[key]) for r in runs])
        out[key] = float(v.mean())
        if len(runs) > 1:
            out.update({f"{key}_std": float(v.std(ddof=1)), f"{key}_min": float(v.min()),
                        f"{key}_max": float(v.max())})
        else:
            out.update({f"{key}_std": 0.0, f"{key}_min": float(v[0]), f"{key}_max": float(v[0])})
    return out


def median_index(values: Sequence[float]) -> int:
    """Index of the run whose value is the median (the lower middle for an even count)."""
    order = np.argsort(np.asarray(values, dtype=float), kind="stable")
    return int(order[(len(order) - 1) // 2])
