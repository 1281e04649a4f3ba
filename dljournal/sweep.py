"""Variants × seeds: train each variant of a model or recipe once per seed, then tabulate mean ± std.

Seeds are a first-class sweep here (the usual experiment trackers leave the aggregation to you): a
comparison in a report is between means, with their spread, not between two lucky runs.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from torch import nn

from .data.tensors import Split, require_not_test
from .train import TrainConfig, evaluate, seed_everything
from .train.run import Run


@dataclass(frozen=True)
class Variant:
    """One arm of a comparison: how to build the model, the recipe, and an optional augmentation."""

    model: Callable[[], nn.Module]
    cfg: TrainConfig
    augment: Callable | None = None


def sweep(ctx, variants: Mapping[str, Variant], data: tuple[Split, Split | None], test: Split,
          seeds: Sequence[int] = (0,), train_eval: Split | None = None,
          target: float | None = None) -> dict[str, list[Run]]:
    """Train every variant once per seed (model initialisation and batch order both seeded).

    With ``train_eval`` each run also gets ``train_eval_acc`` (accuracy on those training images,
    in eval mode: no dropout, no augmentation) and ``gap`` (that minus the test accuracy); with
    ``target`` it gets ``seconds_to_target`` (training time until validation accuracy ≥ target).
    """
    require_not_test(data[1], "sweep")  # its seconds_to_target and any ranking read the validation split
    runs: dict[str, list[Run]] = {}
    for name, v in variants.items():
        for seed in seeds:
            seed_everything(ctx.seed + seed)
            tag = name if len(seeds) == 1 else f"{name}-s{seed}"
            run = ctx.train(v.model(), data, test, v.cfg, name=tag.replace(" ", "_"), augment=v.augment)
            if train_eval is not None and "acc" in run.test:
                run.extra["train_eval_acc"] = evaluate(run.model, train_eval, v.cfg)["acc"]
                run.extra["gap"] = run.extra["train_eval_acc"] - run.test["acc"]
            if target is not None:
                run.extra["seconds_to_target"] = run.seconds_to("val_acc", target)
            runs.setdefault(name, []).append(run)
    return runs


COLUMNS = (("params", "params"), ("test_acc", "test acc"), ("test_loss", "test loss"), ("val_acc", "val acc"),
           ("train_loss", "train loss"), ("train_eval_acc", "train acc (eval)"), ("gap", "gap (acc)"),
           ("seconds_per_epoch", "seconds/epoch"), ("seconds_to_target", "seconds to target"))


def summarise(runs: Mapping[str, list[Run]]) -> dict[str, dict[str, float]]:
    """Per variant: each summary number's mean, and ``<key>_std`` over seeds (0 for one seed)."""
    out = {}
    for name, group in runs.items():
        rows = [r.summary() for r in group]
        keys = [k for k in rows[0] if all(isinstance(r.get(k), (int, float)) for r in rows)]
        stats = {}
        for k in keys:
            v = np.array([float(r[k]) for r in rows])
            stats[k] = float(np.nanmean(v)) if not np.isnan(v).all() else float("nan")
            stats[f"{k}_std"] = float(np.nanstd(v, ddof=1)) if len(v) > 1 and not np.isnan(v).all() else 0.0
        stats["seeds"] = len(group)
        out[name] = stats
    return out


def sweep_table(runs: Mapping[str, list[Run]], columns: Sequence[str] | None = None,
                **extra: Mapping[str, object]) -> pd.DataFrame:
    """One row per variant: the mean of each number, and with several seeds a "<column> std"
    column beside it. ``columns`` picks summary keys (default: all of ``COLUMNS`` present)."""
    stats = summarise(runs)
    several = any(s["seeds"] > 1 for s in stats.values())
    rows = []
    for name, s in stats.items():
        row: dict[str, object] = {"variant": name, **{k: v[name] for k, v in extra.items()}}
        for key, label in COLUMNS:
            if key in s and (columns is None or key in columns):
                row[label] = s[key]
                if several and key != "params":
                    row[f"{label} std"] = s[f"{key}_std"]
        rows.append(row)
    return pd.DataFrame(rows)


def histories(runs: Mapping[str, list[Run]]) -> dict[str, object]:
    """The first seed's history of each variant, for learning-curve plots."""
    return {name: group[0].history for name, group in runs.items()}



def grid(ctx, build: Callable[[], nn.Module], data: tuple[Split, Split], cfg: TrainConfig,
         **axes: Sequence) -> tuple[list[dict], TrainConfig]:
    """A small grid study: one short training per combination of config values
    (``lr=(1e-3, 3e-3), batch_size=(64, 256)``). Returns one row per combination (its values, final
    validation accuracy and loss, seconds per epoch) and the config of the best row."""
    require_not_test(data[1], "grid")  # it picks the best combination on this split
    rows, configs = [], []
    for values in itertools.product(*axes.values()):
        change = dict(zip(axes, values))
        c = replace(cfg, **change)
        seed_everything(ctx.seed)
        h = ctx.fit(build(), data, c, name="grid-" + "-".join(f"{k}{v:g}" for k, v in change.items()))
        rows.append({**change, "val acc": h.final.get("val_acc", float("nan")), "val loss": h.final["val_loss"],
                     "seconds/epoch": h.seconds_per_epoch})
        configs.append(c)
    best = max(range(len(rows)), key=lambda i: (rows[i]["val acc"], -rows[i]["val loss"]))
    for i, row in enumerate(rows):
        row["best"] = "yes" if i == best else ""
    return rows, configs[best]
