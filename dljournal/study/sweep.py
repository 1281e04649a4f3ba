"""Variants × seeds: train each variant of a model or recipe once per seed (tabulated with mean ±
std by ``tables.compare_runs``).

Seeds are a first-class sweep here (the usual experiment trackers leave the aggregation to you): a
comparison in a report is between means, with their spread, not between two lucky runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from torch import nn

from ..data.tensors import Split, require_not_test
from ..train import TrainConfig, evaluate, seed_everything
from ..train.run import Run
from .stats import aggregate

if TYPE_CHECKING:  # the context imports the engine; only its type is needed here
    from ..core.context import Context


@dataclass(frozen=True)
class Variant:
    """One arm of a comparison: how to build the model, the recipe, and an optional augmentation."""

    model: Callable[[], nn.Module]
    cfg: TrainConfig
    augment: Callable | None = None


def sweep(
    ctx: Context,
    variants: Mapping[str, Variant],
    data: tuple[Split, Split | None],
    test: Split,
    seeds: Sequence[int] = (0,),
    train_eval: Split | None = None,
    target: float | None = None,
) -> dict[str, list[Run]]:
    """Train every variant once per seed (model initialisation and batch order both seeded).

    With ``train_eval`` each run also gets ``train_eval_acc`` (accuracy on those training images,
    in eval mode: no dropout, no augmentation) and ``gap`` (that minus the test accuracy); with
    ``target`` it gets ``seconds_to_target`` (training time until validation accuracy ≥ target).
    """
    require_not_test(data[1], "sweep")  # its seconds_to_target and any ranking read the validation split

    def one(item: tuple[str, int]) -> Run:
        name, seed = item
        v = variants[name]
        seed_everything(ctx.seed + seed)
        tag = name if len(seeds) == 1 else f"{name}-s{seed}"
        run = ctx.train(v.model(), data, test, v.cfg, name=tag.replace(" ", "_"), augment=v.augment)
        if train_eval is not None and "acc" in run.test:
            run.extra["train_eval_acc"] = evaluate(run.model, train_eval, v.cfg)["acc"]
            run.extra["gap"] = run.extra["train_eval_acc"] - run.test["acc"]
        if target is not None:
            run.extra["seconds_to_target"] = run.seconds_to("val_acc", target)
        return run

    items = [(name, seed) for name in variants for seed in seeds]  # each run its own job where asked for
    runs: dict[str, list[Run]] = {}
    for (name, _), run in zip(items, ctx.map(one, items)):
        runs.setdefault(name, []).append(run)
    return runs


def summarise(runs: Mapping[str, list[Run]]) -> dict[str, dict[str, float]]:
    """Per variant: ``stats.aggregate`` of its runs' summaries over seeds, and ``seeds``."""
    return {name: {**aggregate([r.summary() for r in group]), "seeds": len(group)} for name, group in runs.items()}


def grid(
    ctx: Context, build: Callable[[], nn.Module], data: tuple[Split, Split], cfg: TrainConfig, **axes: Sequence
) -> tuple[list[dict], TrainConfig]:
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
        rows.append(
            {
                **change,
                "val acc": h.final.get("val_acc", float("nan")),
                "val loss": h.final["val_loss"],
                "seconds/epoch": h.seconds_per_epoch,
            }
        )
        configs.append(c)
    best = max(range(len(rows)), key=lambda i: (rows[i]["val acc"], -rows[i]["val loss"]))
    for i, row in enumerate(rows):
        row["best"] = "yes" if i == best else ""
    return rows, configs[best]
