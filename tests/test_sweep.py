"""Seeds as a sweep: aggregation of known values."""

import math

import pytest
import torch

from dljournal.study.sweep import summarise
from dljournal.study.tables import CURVES, compare_runs, comparison
from dljournal.train import History
from dljournal.train.run import Run


def run(test_acc, seconds):
    h = History()
    for epoch, (acc, s) in enumerate(zip((0.5, test_acc), seconds), 1):
        h.log_epoch({"epoch": epoch, "train_loss": 1.0 / epoch, "val_acc": acc, "seconds": s})
    return Run("r", h, {"acc": test_acc, "loss": 1 - test_acc}, 100, torch.zeros(1))


def test_mean_and_std_of_known_values():
    runs = {"a": [run(0.7, (1, 1)), run(0.8, (1, 3)), run(0.9, (1, 5))], "b": [run(0.6, (2, 2))]}
    s = summarise(runs)
    assert s["a"]["test_acc"] == pytest.approx(0.8) and s["a"]["test_acc_std"] == pytest.approx(0.1)
    assert s["a"]["seconds_per_epoch"] == pytest.approx(2.0) and s["a"]["seeds"] == 3
    assert s["b"]["test_acc_std"] == 0.0
    table = compare_runs(runs, label="variant")
    assert list(table["variant"]) == ["a", "b"]
    assert table.loc[0, "test acc"] == pytest.approx(0.8) and table.loc[0, "test acc std"] == pytest.approx(0.1)


def test_seconds_to_target():
    r = run(0.9, (2.0, 3.0))
    assert r.seconds_to("val_acc", 0.5) == 2.0 and r.seconds_to("val_acc", 0.85) == 5.0
    assert math.isnan(r.seconds_to("val_acc", 0.95))


def test_comparison_keeps_the_first_seed_and_puts_extras_after_its_own():
    first = run(0.7, (1, 1))
    runs = {"a": [first, run(0.9, (1, 5))], "b": run(0.6, (2, 2))}
    c = comparison(
        runs,
        ("models", "two models"),
        tables={"grid": ([], "g")},
        figures={"x": "spec"},
        label="arm",
        depth={"a": 1, "b": 2},
    )
    assert list(c["tables"]) == ["models", "grid"] and list(c["figures"]) == ["curves", "x"]
    table, caption = c["tables"]["models"]
    assert caption == "two models" and list(table["arm"]) == ["a", "b"] and list(table["depth"]) == [1, 2]
    assert table.loc[0, "test acc"] == pytest.approx(0.8)  # the table is over both seeds
    assert c["history"] == {"a": first.history.to_dict(), "b": runs["b"].history.to_dict()}
    spec, caption = c["figures"]["curves"]
    assert caption == CURVES and spec.kind == "learning_curves"
    assert spec.args["histories"]["a"] is first.history
