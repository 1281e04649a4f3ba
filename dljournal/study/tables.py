"""Comparison tables as DataFrames (rendered by the report, formatted by column name)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

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
