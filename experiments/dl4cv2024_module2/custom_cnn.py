"""EXP01-EXP03: a custom CNN for CIFAR-10, its architecture and regularisation studies, and the
headline comparison over seeds (with the mistakes of the final model, for the dashboard)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
import torch

from dljournal import Context, Recipe, Result, TrainConfig, experiment, viz
from dljournal.analysis.probe import embed, maps_2d
from dljournal.data.augment import Augment
from dljournal.models import create_model
from dljournal.study.stats import confused_pairs
from dljournal.study.sweep import Variant, summarise, sweep
from dljournal.study.tables import compare_runs

JPEG = "CIFAR-10 here is the shared set of all 60,000 real images as JPEG quality-75 re-encodings (not byte-exact)."


@dataclass(frozen=True)
class CnnCfg(TrainConfig):
    width: int = 32  # channels of the first stage of the baseline
    n_train: int | None = None  # training subset; None: all 45,000 after the validation split
    n_val: int = 5000
    target: float = 0.75  # validation accuracy for "seconds to target"
    seeds: tuple[int, ...] = (0,)


# EXP01-EXP03 share one recipe: the assignment's, and what each profile changes of it
CNN = Recipe(
    CnnCfg(epochs=30, batch_size=128, lr=2e-3, schedule="cosine", warmup_epochs=1),
    quick=dict(epochs=6, width=16, n_train=10000, target=0.55),
    smoke=dict(epochs=2, width=8, n_val=64, target=0.2),
)


def cnn(cfg: CnnCfg, **arch):
    return lambda: create_model("cifar_cnn", **{"width": cfg.width, **arch})


def study(ctx: Context, variants: dict[str, Variant], caption: str) -> tuple[Result, dict]:
    """Train the variants (once per seed), tabulate and plot accuracy against training time."""
    cfg = ctx.cfg
    ds = ctx.data("cifar10")
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)
    train = train.subset(cfg.n_train, ctx.seed)
    runs = sweep(
        ctx,
        variants,
        (train, val),
        ds.test,
        seeds=cfg.seeds,
        train_eval=train.subset(5000, ctx.seed),
        target=cfg.target,
    )
    time_paths = {
        k: (np.cumsum(r[0].history.epochs["seconds"]), r[0].history.epochs["val_acc"]) for k, r in runs.items()
    }
    return Result(
        metrics=summarise(runs),
        history={k: [x.history.to_dict() for x in r] for k, r in runs.items()},
        tables={
            "study": (
                compare_runs(
                    runs,
                    label="variant",
                    columns=("params", "test_acc", "gap", "seconds_per_epoch", "seconds_to_target"),
                ),
                f"{caption} {len(train):,} training images, {cfg.epochs} epochs, "
                f"{len(cfg.seeds)} seed(s); seconds to reach {cfg.target:.0%} validation accuracy.",
            )
        },
        figures={
            "time": (
                viz.panels(
                    {"": viz.draw_paths(time_paths, "training time (s)", "validation accuracy")}, ncols=1, height=2.4
                ),
                "Validation accuracy against cumulative training time, one point per epoch (seed 0).",
            )
        },
        notes=[JPEG],
    ), runs


@experiment("EXP01", recipe=CNN, data=("cifar10",))
def architecture(ctx: Context) -> Result:
    """Custom CNN: architecture study

    How do depth, width and filter size change the accuracy, size and training time of the custom CNN?
    """
    cfg = ctx.cfg
    variants = {
        "baseline (2-2-1 convs, 3×3)": Variant(cnn(cfg), cfg),
        "shallower (1-1-1)": Variant(cnn(cfg, convs=(1, 1, 1)), cfg),
        "deeper (2-2-2-1)": Variant(cnn(cfg, convs=(2, 2, 2, 1)), cfg),
        "wider (2× channels)": Variant(cnn(cfg, width=2 * cfg.width), cfg),
        "5×5 filters": Variant(cnn(cfg, kernel=5), cfg),
    }
    return study(ctx, variants, "Architecture variants of the custom CNN;")[0]


@experiment("EXP02", recipe=CNN, data=("cifar10",))
def regularisation(ctx: Context) -> Result:
    """Custom CNN: regularisation study

    How do dropout, batch normalisation and weight decay change accuracy, the generalisation gap and training
    time?
    """
    cfg = ctx.cfg
    variants = {
        "none": Variant(cnn(cfg), cfg),
        "dropout 0.3": Variant(cnn(cfg, dropout=0.3), cfg),
        "batch norm": Variant(cnn(cfg, batch_norm=True), cfg),
        "weight decay 5e-4": Variant(cnn(cfg), replace(cfg, weight_decay=5e-4)),
    }
    return study(ctx, variants, "Regularisation of the baseline CNN;")[0]


@experiment("EXP03", recipe=CNN.replace(seeds=(0, 1, 2)), data=("cifar10",))
def headline(ctx: Context) -> Result:
    """Headline: baseline vs final CNN over seeds, and its mistakes

    Does the final design (wider, batch norm, dropout, augmentation) beat the baseline beyond seed noise, and
    what mistakes does it still make?
    """
    cfg = ctx.cfg
    final = Variant(cnn(cfg, width=2 * cfg.width, batch_norm=True, dropout=0.2), cfg, Augment(4, True))
    result, runs = study(ctx, {"baseline": Variant(cnn(cfg), cfg), "final": final}, "Baseline vs final CNN;")
    ds = ctx.data("cifar10")
    model = runs["final"][0].model
    logits = embed(model, ds.test.x)
    probs = logits.softmax(1)
    features = embed(model.features, ds.test.x).flatten(1)
    pred, y = probs.argmax(1), ds.test.y.cpu()
    wrong = (pred != y).nonzero().flatten()
    conf = probs.max(1).values
    worst = wrong[conf[wrong].argsort(descending=True)[:16]]
    pairs = confused_pairs(y, pred, ds.classes, k=8)
    tsne = maps_2d(features.numpy(), seed=ctx.seed)["t-SNE"]
    top = Counter(f"{ds.classes[y[i]]} → {ds.classes[pred[i]]}" for i in worst).most_common(3)
    result.metrics.update(
        {
            "classes": list(ds.classes),
            "confused": pairs,
            "mistakes": int(len(wrong)),
            "test_size": len(y),
            "confident_mistakes_mean_conf": float(conf[worst].mean()),
            "confident_pairs": [{"pair": pair, "n": n} for pair, n in top],
        }
    )
    result.figures.update(
        {
            "confused": (
                viz.panels(
                    {
                        "": viz.draw_bars(
                            [f"{p['true']} → {p['predicted']}" for p in pairs],
                            [p["rate"] for p in pairs],
                            "share of the true class",
                        )
                    },
                    ncols=1,
                    height=2.2,
                ),
                "The most frequent confusions of the final CNN (seed 0) on the test set.",
            ),
            "mistakes": (
                viz.image_grid(
                    ds.norm.undo(ds.test.x[worst.to(ds.test.x.device)]).cpu(),
                    [f"{ds.classes[y[i]]} →\n{ds.classes[pred[i]]} {conf[i]:.2f}" for i in worst],
                    ncols=8,
                ),
                "The 16 most confident mistakes: true → predicted class, confidence.",
            ),
        }
    )
    result.artifacts = {
        "predictions": {
            "labels": y,
            "probs": probs,
            "embeddings": features,
            "tsne": torch.from_numpy(tsne),
            "classes": list(ds.classes),
        }
    }
    return result
