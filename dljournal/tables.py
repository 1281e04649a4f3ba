"""Comparison tables as DataFrames (rendered by the report, formatted by column name)."""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from .train.run import Run


def compare_runs(runs: Mapping[str, Run], **extra: Mapping[str, object]) -> pd.DataFrame:
    """One row per run: parameters, test accuracy/loss, final validation accuracy, seconds/epoch.

    ``extra`` adds columns: ``depth={"shallow": 1, "deep": 5}``.
    """
    rows = []
    for name, run in runs.items():
        s = run.summary()
        row = {"model": name, **{k: v[name] for k, v in extra.items()}, "params": s["params"]}
        for key, label in (("test_acc", "test acc"), ("test_loss", "test loss"),
                           ("val_acc", "val acc"), ("train_loss", "train loss"),
                           ("seconds_per_epoch", "seconds/epoch")):
            if key in s:
                row[label] = s[key]
        rows.append(row)
    return pd.DataFrame(rows)
