"""Exercise 1: an MLP on FashionMNIST, its gradient norms, and an Optuna study of its design."""

from __future__ import annotations

from dataclasses import dataclass, replace

import optuna

from dljournal import Context, Recipe, Result, TrainConfig, experiment, fit, viz
from dljournal.models import create_model
from dljournal.study.stats import confused_pairs, per_class_recall
from dljournal.study.tables import compare_runs
from dljournal.study.tune import Pruning, finished, optimize, plots
from dljournal.train import GradNorm, seed_everything


# ---- EXP01: the MLP, its learning curves, confusion matrix and gradient norms -----------------------
@dataclass(frozen=True)
class MlpCfg(TrainConfig):
    hidden: tuple[int, ...] = (256, 128, 64)
    dropout: float = 0.2
    n_val: int = 5000
    grad_every: int = 10  # iterations between gradient-norm records


@experiment(
    "EXP01",
    recipe=Recipe(
        MlpCfg(epochs=30, batch_size=128, lr=1e-3, schedule="cosine"),
        quick=dict(epochs=8),
        smoke=dict(epochs=2, n_val=128, grad_every=1),
    ),
    data=("fashion_mnist",),
)
def fashion_mlp(ctx: Context) -> Result:
    """FashionMNIST: an MLP and its gradients

    How well does a three-layer MLP classify FashionMNIST, which classes does it confuse, and how do the
    gradients of its layers evolve during training?
    """
    cfg = ctx.cfg
    ds = ctx.data("fashion_mnist")
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)
    grads = GradNorm(every=cfg.grad_every, per_param=True)
    run = ctx.train(
        create_model("mnist_mlp", hidden=cfg.hidden, dropout=cfg.dropout),
        (train, val),
        ds.test,
        name="mlp",
        callbacks=[grads],
    )
    steps = run.history.steps
    layers = {k.split("/", 1)[1]: v for k, v in steps.items() if k.startswith("grad_norm/")}
    weights = {k.replace("net.", "layer ").replace(".weight", ""): v for k, v in layers.items() if k.endswith("weight")}
    biases = {k.replace("net.", "layer ").replace(".bias", ""): v for k, v in layers.items() if k.endswith("bias")}
    y, pred = ds.test.y.cpu(), run.outputs.argmax(1)
    recall = per_class_recall(y, pred, ds.classes)
    return Result(
        metrics={
            "mlp": run.summary(),
            "grad_norm_first": {k: v[0] for k, v in layers.items()},
            "grad_norm_last": {k: v[-1] for k, v in layers.items()},
            "confused": confused_pairs(y, pred, ds.classes, k=3),
            "worst_class": min(recall, key=recall.get),
            "worst_recall": min(recall.values()),
            "best_class": max(recall, key=recall.get),
            "best_recall": max(recall.values()),
        },
        history={"mlp": run.history.to_dict()},
        figures={
            "curves": (
                viz.learning_curves({"MLP": run.history}),
                "Training (dashed) and validation (solid) loss and accuracy of the MLP.",
            ),
            "confusion": (
                viz.confusion_matrix(y, pred, ds.classes, title="MLP, test set"),
                "Confusion matrix on the test set (rows: true class, normalised to recall).",
            ),
            "gradients": (
                viz.panels(
                    {
                        "weights": viz.draw_xy(
                            steps["step"], weights, "iteration", "gradient L2 norm", logy=True, marker=""
                        ),
                        "biases": viz.draw_xy(
                            steps["step"], biases, "iteration", "gradient L2 norm", logy=True, marker=""
                        ),
                    },
                    ncols=2,
                ),
                f"Gradient norm of each layer's weight and bias every {cfg.grad_every} iterations "
                "(layer numbers index the MLP's nn.Sequential: 1 is the input layer).",
            ),
        },
    )


# ---- EXP02: an Optuna study of the MLP's design ---------------------------------------------------
@dataclass(frozen=True)
class StudyCfg(TrainConfig):
    n_trials: int = 100
    trial_epochs: int = 10
    n_train: int | None = None  # training subset for the trials (None: all)
    n_val: int = 5000
    # search ranges
    depth_range: tuple[int, int] = (1, 4)
    width_range: tuple[int, int] = (32, 1024)  # log scale
    lr_range: tuple[float, float] = (1e-4, 1e-2)  # log scale
    dropout_range: tuple[float, float] = (0.0, 0.5)
    final_epochs: int = 30


def suggest(trial: optuna.Trial, cfg: StudyCfg) -> dict:
    return {
        "depth": trial.suggest_int("depth", *cfg.depth_range),
        "width": trial.suggest_int("width", *cfg.width_range, log=True),
        "lr": trial.suggest_float("lr", *cfg.lr_range, log=True),
        "dropout": trial.suggest_float("dropout", *cfg.dropout_range),
    }


def mlp(p: dict):
    return create_model("mnist_mlp", hidden=(p["width"],) * p["depth"], dropout=p["dropout"])


@experiment(
    "EXP02",
    recipe=Recipe(
        StudyCfg(batch_size=128, schedule="cosine"),
        quick=dict(n_trials=20, trial_epochs=3, n_train=15000, final_epochs=8),
        smoke=dict(n_trials=4, trial_epochs=1, final_epochs=1, n_val=128),
    ),
    data=("fashion_mnist",),
)
def fashion_study(ctx: Context) -> Result:
    """FashionMNIST: an Optuna study of the MLP

    Which depth, width, learning rate and dropout suit the MLP best, and which of them matter?
    """
    cfg = ctx.cfg
    ds = ctx.data("fashion_mnist")
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)
    trial_train = train.subset(cfg.n_train, ctx.seed)
    study = ctx.study("mlp")

    def objective(trial: optuna.Trial) -> float:
        p = suggest(trial, cfg)
        seed_everything(ctx.seed + trial.number)
        h = fit(
            mlp(p),
            (trial_train, val),
            replace(cfg, lr=p["lr"], epochs=cfg.trial_epochs),
            [Pruning(trial, "val_acc")],
            device=ctx.device,
        )
        return h.final["val_acc"]

    ran = optimize(study, objective, cfg.n_trials, log=ctx.log)
    best = study.best_trial
    seed_everything(ctx.seed)
    final = ctx.train(
        mlp(best.params),
        (train, val),
        ds.test,
        replace(cfg, lr=best.params["lr"], epochs=cfg.final_epochs),
        name="best",
    )
    trials = sorted((t for t in finished(study) if t.value is not None), key=lambda t: -t.value)
    rows = [
        {
            "trial": t.number,
            **{k: round(v, 5) if isinstance(v, float) else v for k, v in t.params.items()},
            "val acc": t.value,
        }
        for t in trials[:8]
    ]
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in finished(study))
    figs = plots(study)
    importance = optuna.importance.get_param_importances(study)
    return Result(
        metrics={
            "trials": len(finished(study)),
            "pruned": pruned,
            "resumed_trials": cfg.n_trials - ran,
            "importance": dict(importance),
            "most_important": next(iter(importance)),
            "best_trial": best.number,
            "best_val_acc": best.value,
            "best": dict(best.params),
            "final": final.summary(),
        },
        history={
            "final": final.history.to_dict(),
            "trials": [
                {"number": t.number, "value": t.value, "state": t.state.name, **t.params} for t in finished(study)
            ],
        },
        tables={
            "top": (
                rows,
                f"The best trials ({cfg.trial_epochs} epochs each on "
                f"{len(trial_train):,} training images; validation accuracy).",
            ),
            "final": (
                compare_runs({"best MLP": final}),
                f"The best configuration retrained on {len(train):,} images for {cfg.final_epochs} epochs.",
            ),
        },
        figures={
            "history": (
                figs["history"],
                f"Optimisation history of {len(finished(study))} trials ({pruned} pruned by the median rule).",
            ),
            "importance": (figs["importance"], "Hyper-parameter importances (fANOVA)."),
            "slice": (figs["slice"], "Validation accuracy of every trial against each hyper-parameter."),
        },
        notes=[
            f"Trials train on a random subset of {len(trial_train):,} training images for "
            f"{cfg.trial_epochs} epochs; the best configuration is then retrained on all "
            f"{len(train):,} training images."
        ]
        if cfg.n_train
        else [],
    )
