"""HW1 part 1: deep vs shallow networks at an equal parameter budget."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from dljournal import Context, Recipe, Result, TrainConfig, experiment, viz
from dljournal.data import FUNCTIONS, sample_function
from dljournal.models import create_model
from dljournal.study.stats import aggregate, median_index
from dljournal.study.tables import comparison
from dljournal.train import count_layers, seed_everything


# ---- EXP01: fitting 1-D functions ----------------------------------------------------------------
@dataclass(frozen=True)
class FunctionFitCfg(TrainConfig):
    amp: bool = False  # float32: MSE fits down to 1e-5 need more than bf16's 8 bits, and a tiny MLP gains no speed
    functions: tuple[str, ...] = ("sinc", "sign")
    # (name, hidden widths): about 571 parameters each, 1 / 4 / 7 hidden layers
    models: tuple[tuple[str, tuple[int, ...]], ...] = (
        ("shallow", (190,)),
        ("medium", (10, 18, 15, 4)),
        ("deep", (5, 10, 10, 10, 10, 10, 5)),
    )
    activation: str = "leaky_relu"  # plain ReLU kills the 5-unit layers of the deep model too often
    n_points: int = 1000  # evenly spaced training points on [-1, 1]; validation on the midpoints
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # each model is trained once per seed


@experiment(
    "EXP01",
    recipe=Recipe(
        FunctionFitCfg(loss="mse", epochs=3000, batch_size=128, lr=1e-2, schedule="cosine"),
        quick=dict(epochs=800, seeds=(0, 1, 2)),
        smoke=dict(epochs=4, n_points=128, seeds=(0, 1)),
    ),
)
def function_fit(ctx: Context) -> Result:
    """Deep vs shallow on functions

    With about the same number of parameters, does a deeper fully connected network fit sin(5πx)/(5πx) and
    sgn(sin(5πx)) on [-1, 1] better than a shallow one?
    """
    cfg = ctx.cfg
    metrics, history, curves, fits, rows = {}, {}, {}, {}, []
    for fn in cfg.functions:
        train = sample_function(fn, cfg.n_points)
        step = 1.0 / (cfg.n_points - 1)
        midpoints = sample_function(fn, cfg.n_points - 1, -1 + step, 1 - step)
        curves[fn], preds = {}, {}
        for name, hidden in cfg.models:
            runs = []
            for seed in cfg.seeds:
                seed_everything(ctx.seed + seed)
                model = create_model("fn_mlp", hidden=hidden, activation=cfg.activation)
                runs.append(ctx.train(model, (train, midpoints), test=midpoints, name=f"{fn}-{name}-s{seed}"))
            finals = [{"train_loss": r.history.final["train_loss"], "test_loss": r.test["loss"]} for r in runs]
            metrics.setdefault(fn, {})[name] = {"params": runs[0].params, "layers": len(hidden), **aggregate(finals)}
            history[f"{fn}/{name}"] = [r.history.to_dict() for r in runs]
            curves[fn][name] = [r.history for r in runs]
            median = runs[median_index([f["train_loss"] for f in finals])]
            preds[f"{name} ({len(hidden)} hidden)"] = median.outputs.squeeze(1).numpy()
            m = metrics[fn][name]
            rows.append(
                {
                    "function": FUNCTIONS[fn][1],
                    "model": name,
                    "hidden layers": len(hidden),
                    "params": runs[0].params,
                    "train MSE (mean)": m["train_loss"],
                    "std": m["train_loss_std"],
                    "best": m["train_loss_min"],
                    "midpoint MSE (mean)": m["test_loss"],
                }
            )
        fits[fn] = (midpoints.x.squeeze(1).numpy(), midpoints.y.squeeze(1).numpy(), preds)
    titles = {fn: FUNCTIONS[fn][1] for fn in cfg.functions}
    n = len(cfg.seeds)
    return Result(
        metrics=metrics,
        history=history,
        tables={
            "models": (
                rows,
                f"Models of equal size fitted to each function, {n} seeds each: final "
                "training MSE (mean, standard deviation, best seed) and the mean MSE on "
                "the midpoints between training points.",
            )
        },
        figures={
            "loss": (
                viz.panels({titles[fn]: viz.draw_loss(curves[fn]) for fn in cfg.functions}),
                f"Training loss (MSE, log scale) per epoch: median over {n} seeds, band from the "
                "best to the worst seed.",
            ),
            "fits": (
                viz.panels({titles[fn]: viz.draw_fit(*fits[fn]) for fn in cfg.functions}),
                "Ground truth and the functions learnt by the three models (for each model the "
                "seed with the median final loss).",
            ),
        },
    )


# ---- EXP02: deep vs shallow CNN on MNIST ---------------------------------------------------------
@dataclass(frozen=True)
class MnistCfg(TrainConfig):
    # registered model -> label; both have about 41k parameters
    models: tuple[tuple[str, str], ...] = (("shallow", "cnn_shallow"), ("deep", "cnn_deep"))
    n_val: int = 5000  # held out from the 60k training images for the learning curves


@experiment(
    "EXP02",
    recipe=Recipe(
        MnistCfg(epochs=15, batch_size=128, lr=2e-3, schedule="cosine", warmup_epochs=0.5),
        quick=dict(epochs=4),
        smoke=dict(epochs=3, n_val=128),
    ),
    data=("mnist",),
)
def mnist_depth(ctx: Context) -> Result:
    """Deep vs shallow on MNIST

    With about the same number of parameters, does a deeper CNN classify MNIST digits better than a shallow one?
    """
    cfg = ctx.cfg
    ds = ctx.data("mnist")
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)
    runs = {name: ctx.train(create_model(model), (train, val), ds.test, name=name) for name, model in cfg.models}
    deep = runs["deep"]
    depth = {name: count_layers(create_model(model), nn.Conv2d) for name, model in cfg.models}
    return Result(
        metrics={name: run.summary() for name, run in runs.items()},
        **comparison(
            runs,
            (
                "models",
                f"Shallow vs deep CNN on MNIST ({len(train):,} training, {len(val):,} validation, "
                f"{len(ds.test):,} test images).",
            ),
            "Learning curves: training (dashed) and validation (solid) loss and accuracy.",
            figures={
                "confusion": (
                    viz.confusion_matrix(
                        ds.test.y.cpu(), deep.outputs.argmax(1), ds.classes, title="deep CNN, test set"
                    ),
                    "Confusion matrix of the deep CNN on the test set (rows: true digit, normalised to recall).",
                )
            },
            **{"conv layers": depth},
        ),
    )
