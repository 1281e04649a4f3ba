"""Comparison tables as DataFrames (rendered by the report, formatted by column name), and the
record of a comparison of runs that most experiments return: histories, the table, learning curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..figures import learning_curves
from ..train.run import Run
from .stats import aggregate

COLUMNS = (
    ("params", "params"),
    ("test_acc", "test acc"),
    ("test_loss", "test loss"),
    ("val_acc", "val acc"),
    ("train_loss", "train loss"),
    ("train_eval_acc", "train acc (eval)"),
    ("gap", "gap (acc)"),
    ("seconds_per_epoch", "seconds/epoch"),
    ("seconds_to_target", "seconds to target"),
)


def compare_runs(
    runs: Mapping[str, Run | Sequence[Run]],
    columns: Sequence[str] | None = None,
    label: str = "model",
    **extra: Mapping[str, object],
) -> pd.DataFrame:
    """One row per entry of ``runs`` (a run, or its runs over seeds): the (mean) number of each of
    ``COLUMNS`` present (or of ``columns``), and with several seeds a "<column> std" beside it.

    ``extra`` adds columns: ``depth={"shallow": 1, "deep": 5}``.
    """
    groups = {name: [r] if isinstance(r, Run) else list(r) for name, r in runs.items()}
    several = any(len(g) > 1 for g in groups.values())
    rows = []
    for name, group in groups.items():
        s = aggregate([r.summary() for r in group])
        row: dict[str, object] = {label: name, **{k: v[name] for k, v in extra.items()}}
        for key, title in COLUMNS:
            if key in s and (columns is None or key in columns):
                row[title] = s[key]
                if several and key != "params":
                    row[f"{title} std"] = s[f"{key}_std"]
        rows.append(row)
    return pd.DataFrame(rows)


CURVES = "Training (dashed) and validation (solid) curves."


def comparison(
    runs: Mapping[str, Run | Sequence[Run]],
    table: tuple[str, str],
    curves: str = CURVES,
    *,
    tables: Mapping[str, Any] | None = None,
    figures: Mapping[str, Any] | None = None,
    **compare: Any,
) -> dict[str, dict[str, Any]]:
    """The ``history``, ``tables`` and ``figures`` of a ``Result`` that compares ``runs``: each run's
    history, the ``compare_runs`` table (``table`` is its name and caption; ``compare`` goes to
    ``compare_runs``) then ``tables``, and the learning curves (captioned ``curves``) then ``figures``.
    Of runs over seeds, the history and curves are the first seed's: the table gives the spread.

    ``Result(metrics=..., **comparison(runs, ("models", "Three CNNs on MNIST.")), notes=...)``
    """
    first = {name: r if isinstance(r, Run) else r[0] for name, r in runs.items()}
    name, caption = table
    return {
        "history": {k: r.history.to_dict() for k, r in first.items()},
        "tables": {name: (compare_runs(runs, **compare), caption), **(tables or {})},
        "figures": {"curves": (learning_curves({k: r.history for k, r in first.items()}), curves), **(figures or {})},
    }
