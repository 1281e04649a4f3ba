"""HW1 part 3: generalisation, i.e. random labels, model size, and flatness."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from dljournal import Context, Recipe, Result, TrainConfig, evaluate, experiment, viz
from dljournal.analysis import interpolation_curve, jacobian_norm
from dljournal.data import Split
from dljournal.models import create_model
from dljournal.train import History, count_params, seed_everything


# ---- EXP06: can the network fit random labels? ---------------------------------------------------
@dataclass(frozen=True)
class RandomLabelCfg(TrainConfig):
    hidden: tuple[int, ...] = (512, 512)
    n_train: int | None = None
    fit_level: float = 0.9  # "fitted": training accuracy at or above this


def fit_mlp(
    ctx: Context, hidden: tuple[int, ...], train: Split, cfg: TrainConfig | None = None, **fit: Any
) -> tuple[torch.nn.Module, History]:
    """An MNIST MLP 784-hidden-10 trained on ``train`` (``fit``: ``ctx.fit``'s keywords). Each is seeded
    alike, so the models an experiment compares differ only in what it varies, not in luck."""
    seed_everything(ctx.seed)
    model = create_model("mnist_mlp", hidden=hidden)
    return model, ctx.fit(model, (train, None), cfg, **fit)


def epochs_to(series: list[float], level: float) -> int | None:
    """The first epoch (1-based) at which ``series`` reaches ``level``; None if it never does."""
    return next((i + 1 for i, v in enumerate(series) if v >= level), None)


@experiment(
    "EXP06",
    recipe=Recipe(RandomLabelCfg(epochs=300), quick=dict(epochs=80, n_train=5000), smoke=dict(epochs=4)),
    data=("mnist",),
)
def random_labels(ctx: Context) -> Result:
    """Fitting random labels

    Can the network memorise MNIST images whose labels were shuffled, how much slower than the true labels, and
    what happens to the loss on the (correctly labelled) test set meanwhile?
    """
    cfg = ctx.cfg
    ds = ctx.data("mnist", n_train=cfg.n_train)
    g = torch.Generator().manual_seed(ctx.seed)
    shuffled = replace(ds.train, y=ds.train.y[torch.randperm(len(ds.train), generator=g).to(ds.train.y.device)])
    agree = (shuffled.y == ds.train.y).float().mean().item()
    # the test split is watched (logged each epoch), never selected on
    runs = {
        name: fit_mlp(ctx, cfg.hidden, train, name=name.replace(" ", "-"), watch=ds.test)[1].epochs
        for name, train in (("random labels", shuffled), ("true labels", ds.train))
    }
    e, t = runs["random labels"], runs["true labels"]
    best_test = int(np.argmin(e["test_loss"]))

    def panel(key: str, ylabel: str):  # one metric: training on random and on true labels, and the test split
        ys = {
            "train (random labels)": e[f"train_{key}"],
            "test": e[f"test_{key}"],
            "train (true labels)": t[f"train_{key}"],
        }
        return viz.draw_xy(e["epoch"], ys, "epoch", ylabel, marker="")

    return Result(
        metrics={
            "n_train": len(shuffled),
            "labels_unchanged": agree,
            "final_train_loss": e["train_loss"][-1],
            "final_train_acc": e["train_acc"][-1],
            "first_test_loss": e["test_loss"][0],
            "min_test_loss": e["test_loss"][best_test],
            "min_test_epoch": best_test + 1,
            "final_test_loss": e["test_loss"][-1],
            "final_test_acc": e["test_acc"][-1],
            "true_final_train_acc": t["train_acc"][-1],
            "true_final_test_acc": t["test_acc"][-1],
            "level": cfg.fit_level,
            "epochs_to_level": {n: epochs_to(h["train_acc"], cfg.fit_level) for n, h in runs.items()},
        },
        history={n.replace(" ", "-"): h for n, h in runs.items()},
        figures={
            "curves": (
                viz.panels({"loss": panel("loss", "cross-entropy"), "accuracy": panel("acc", "accuracy")}, ncols=2),
                f"An MLP 784-{'-'.join(map(str, cfg.hidden))}-10 trained on {len(shuffled):,} MNIST images with "
                "shuffled labels: loss and accuracy on the training set (random labels) and the test set "
                "(true labels); "
                "for comparison the same network, initialisation and batches on the true labels.",
            )
        },
    )


# ---- EXP07: number of parameters vs generalisation -----------------------------------------------
def scores(model: torch.nn.Module, train: Split, test: Split, cfg: TrainConfig) -> dict[str, float]:
    """Loss and accuracy on a training and a test split, as table columns (EXP07, EXP09)."""
    tr, te = evaluate(model, train, cfg), evaluate(model, test, cfg)
    return {"train loss": tr["loss"], "test loss": te["loss"], "train acc": tr["acc"], "test acc": te["acc"]}


def train_test(col: dict[str, list], metric: str) -> dict[str, list]:
    """The train and test series of ``metric`` ("loss", "acc") from the table's columns, for a plot."""
    return {"train": col[f"train {metric}"], "test": col[f"test {metric}"]}


@dataclass(frozen=True)
class WidthCfg(TrainConfig):
    widths: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)  # one hidden layer
    n_train: int | None = None


@experiment(
    "EXP07",
    recipe=Recipe(WidthCfg(epochs=20), quick=dict(epochs=10, n_train=20000), smoke=dict(epochs=2)),
    data=("mnist",),
)
def parameters_vs_generalisation(ctx: Context) -> Result:
    """Number of parameters vs generalisation

    As a network grows, how do its training and test loss and accuracy change?
    """
    cfg = ctx.cfg
    ds = ctx.data("mnist", n_train=cfg.n_train)
    rows = []
    for width in cfg.widths:
        model, _ = fit_mlp(ctx, (width,), ds.train, name=f"width{width}")
        m = scores(model, ds.train, ds.test, cfg)
        rows.append(
            {"hidden units": width, "params": count_params(model), **m, "gap (acc)": m["train acc"] - m["test acc"]}
        )
    p = [r["params"] for r in rows]
    col = {k: [r[k] for r in rows] for k in rows[0]}
    best = max(rows, key=lambda r: r["test acc"])
    # where more parameters stop helping: the model with the lowest test loss, and what the larger ones do
    turn = min(range(len(rows)), key=lambda i: rows[i]["test loss"])
    larger = rows[turn + 1 :]
    return Result(
        metrics={
            "models": len(rows),
            "n_train": len(ds.train),
            "smallest": rows[0],
            "largest": rows[-1],
            "best_test": best,
            "min_test_loss": rows[turn],
            "larger_than_min": len(larger),
            "train_loss_falls_beyond": bool(larger)
            and all(b["train loss"] < a["train loss"] for a, b in zip(rows[turn:], larger)),
            "largest_rank": 1 + sorted(col["test acc"], reverse=True).index(rows[-1]["test acc"]),
        },
        tables={"widths": (rows, f"MLPs 784-h-10 trained for {cfg.epochs} epochs on {len(ds.train):,} images.")},
        figures={
            "params": (
                viz.panels(
                    {
                        "loss": viz.draw_xy(p, train_test(col, "loss"), "parameters", "loss", logx=True, logy=True),
                        "accuracy": viz.draw_xy(p, train_test(col, "acc"), "parameters", "accuracy", logx=True),
                    },
                    ncols=2,
                ),
                f"Training and test loss and accuracy of {len(rows)} MLPs of growing width against their number "
                "of parameters (log scale).",
            )
        },
    )


# ---- EXP08 and EXP09: flatness ----------------------------------------------------------------------
@dataclass(frozen=True)
class FlatnessCfg(TrainConfig):
    hidden: tuple[int, ...] = (128,)
    batch_sizes: tuple[int, ...] = (64, 1024)
    alphas: tuple[float, ...] = tuple(np.round(np.linspace(-1, 2, 61), 3))
    n_eval: int = 10000  # training images used to evaluate train loss/accuracy (a fixed subset)
    n_jacobian: int = 1000  # test images over which the sensitivity is averaged


def train_by_batch_size(ctx: Context, ds, cfg) -> dict[int, torch.nn.Module]:
    return {
        bs: fit_mlp(ctx, cfg.hidden, ds.train, replace(cfg, batch_size=bs), name=f"batch{bs}")[0]
        for bs in cfg.batch_sizes
    }


@experiment(
    "EXP08",
    recipe=Recipe(
        FlatnessCfg(epochs=20, lr=1e-3),
        quick=dict(epochs=6),
        smoke=dict(epochs=2, alphas=tuple(np.round(np.linspace(-1, 2, 31), 3))),
    ),
    data=("mnist",),
)
def interpolation(ctx: Context) -> Result:
    """Flatness: interpolating two models

    Along the straight line between a model trained with small batches and one trained with large batches, how
    do loss and accuracy change? Is one of them in a flatter region?
    """
    cfg = ctx.cfg
    ds = ctx.data("mnist")
    a, b = train_by_batch_size(ctx, ds, cfg).values()
    splits = {"train": ds.train.subset(cfg.n_eval, ctx.seed), "test": ds.test}
    c = interpolation_curve(a, b, cfg.alphas, splits, cfg)
    i0, i1 = c["alpha"].index(0.0), c["alpha"].index(1.0)
    bs1, bs2 = cfg.batch_sizes
    return Result(
        metrics={
            "points": len(c["alpha"]),
            **{f"batch{bs}": {k: c[k][i] for k in c if k != "alpha"} for bs, i in ((bs1, i0), (bs2, i1))},
            "max_test_loss_between": max(c["test_loss"][i0 : i1 + 1]),
            "min_test_acc_between": min(c["test_acc"][i0 : i1 + 1]),
        },
        history={"interpolation": c},
        figures={
            "interpolation": (
                viz.panels(
                    {
                        "": viz.draw_twin(
                            c["alpha"],
                            {"train": c["train_loss"], "test": c["test_loss"]},
                            {"train": c["train_acc"], "test": c["test_acc"]},
                            "α",
                            "loss",
                            "accuracy",
                            logy=True,
                        )
                    },
                    ncols=1,
                    height=3.0,
                ),
                f"Loss and accuracy of θ(α) = (1 − α)·θ₁ + α·θ₂ for {len(c['alpha'])} values of α in [−1, 2]; "
                f"θ₁ trained with batch size {bs1} (α = 0), θ₂ with batch size {bs2} (α = 1).",
            )
        },
    )


@experiment(
    "EXP09",
    recipe=Recipe(
        FlatnessCfg(epochs=20, lr=1e-3, batch_sizes=(16, 64, 256, 1024, 4096)),
        quick=dict(epochs=4),
        smoke=dict(epochs=2, n_jacobian=64),
    ),
    data=("mnist",),
)
def sensitivity(ctx: Context) -> Result:
    """Flatness: sensitivity vs batch size

    How do loss, accuracy and the network's sensitivity to its input change with the batch size?
    """
    cfg = ctx.cfg
    ds = ctx.data("mnist")
    train_eval = ds.train.subset(cfg.n_eval, ctx.seed)
    rows = []
    for bs, model in train_by_batch_size(ctx, ds, cfg).items():
        row = {"batch size": bs, **scores(model, train_eval, ds.test, cfg)}
        rows.append({**row, "sensitivity": jacobian_norm(model, ds.test.x[: cfg.n_jacobian])})
    col = {k: [r[k] for r in rows] for k in rows[0]}

    def twin(name: str, key: str):  # train and test ``key`` (left axis) and the sensitivity (right)
        x, sens = col["batch size"], {"sensitivity": col["sensitivity"]}
        return viz.draw_twin(x, train_test(col, key), sens, "batch size", name, "sensitivity", logx=True)

    return Result(
        metrics={f"batch{r['batch size']}": r for r in rows},
        tables={
            "batch_sizes": (
                rows,
                "Loss, accuracy and sensitivity (mean Frobenius norm of the Jacobian of "
                f"the logits w.r.t. the input over {cfg.n_jacobian:,} test images).",
            )
        },
        figures={
            "sensitivity": (
                viz.panels(
                    {"loss and sensitivity": twin("loss", "loss"), "accuracy and sensitivity": twin("accuracy", "acc")},
                    ncols=2,
                    height=2.8,
                ),
                f"MLPs 784-{cfg.hidden[0]}-10 trained for {cfg.epochs} epochs with different batch sizes: loss and "
                "accuracy (solid) and sensitivity (dashed, right axis).",
            )
        },
    )
