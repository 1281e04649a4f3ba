"""Exercise 2: CIFAR-10, i.e. MLP vs CNN, what the CNN learned, weight regularisation, augmentation."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import optuna
import torch

from dljournal import Context, Recipe, Result, TrainConfig, experiment, fit, viz
from dljournal.analysis import capture_activations, conv_layers
from dljournal.data.augment import Augment
from dljournal.models import create_model
from dljournal.study.sweep import Variant, summarise, sweep
from dljournal.study.tables import comparison
from dljournal.study.tune import Pruning, finished, optimize
from dljournal.train import seed_everything

JPEG_NOTE = "CIFAR-10 images are the shared JPEG quality-75 re-encodings of the originals (not byte-exact)."


@dataclass(frozen=True)
class CifarCfg(TrainConfig):
    width: int = 32  # CNN channels of the first stage (then 2×, 4×)
    batch_norm: bool = False  # after every convolution of the CNN
    mlp_hidden: tuple[int, ...] = (1024, 512)
    n_train: int | None = None  # training subset (None: all 45,000 after the validation split)
    n_val: int = 5000
    tune_trials: int = 16
    tune_epochs: int = 4
    tune_n_train: int = 20000
    l2: float = 5e-4  # weight decay of the L2 arm
    l1_weight: float = 5e-5  # λ of the L1 arm


def cifar(ctx: Context, cfg):
    ds = ctx.data("cifar10")
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)
    return ds, train.subset(cfg.n_train, ctx.seed), val


NEAR_ZERO = 1e-3  # |w| below this counts as switched off


def weight_magnitudes(model: torch.nn.Module) -> np.ndarray:
    return torch.cat([p.detach().abs().flatten().cpu() for p in model.parameters() if p.dim() > 1]).numpy()


# ---- EXP03: MLP vs CNN, each with tuned hyper-parameters -------------------------------------------
def tuned(ctx: Context, name: str, build, train, val, cfg: CifarCfg, space) -> dict:
    """A short Optuna search (pruned) on a training subset; returns the best parameters."""
    sub = train.subset(cfg.tune_n_train, ctx.seed)

    def objective(trial: optuna.Trial) -> float:
        p = space(trial)
        seed_everything(ctx.seed + trial.number)
        h = fit(
            build(p), (sub, val), replace(cfg, lr=p["lr"], epochs=cfg.tune_epochs), [Pruning(trial)], device=ctx.device
        )
        return h.final["val_acc"]

    study = ctx.study(name)
    optimize(study, objective, cfg.tune_trials, log=ctx.log)
    return {**study.best_params, "trials": len(finished(study)), "best_val_acc": study.best_value}


@experiment(
    "EXP03",
    recipe=Recipe(
        # batch norm and label smoothing: on validation images (45k training, 8 epochs, width 16)
        # 71.9 % without either, 77.0 % with both, at 1.3× the time per epoch
        CifarCfg(epochs=30, batch_size=128, schedule="cosine", batch_norm=True, label_smoothing=0.1),
        quick=dict(epochs=8, width=16, tune_trials=6, tune_epochs=2, tune_n_train=8000),
        smoke=dict(epochs=2, width=8, tune_trials=3, tune_epochs=1, tune_n_train=128, n_val=64),
    ),
    data=("cifar10",),
)
def mlp_vs_cnn(ctx: Context) -> Result:
    """CIFAR-10: MLP vs CNN

    With a few tuned hyper-parameters each, how much better does a small CNN classify CIFAR-10 than an MLP, at
    what cost in parameters and time, and what did its first layers learn?
    """
    cfg = ctx.cfg
    ds, train, val = cifar(ctx, cfg)
    mlp = lambda p: create_model("cifar_mlp", hidden=cfg.mlp_hidden, dropout=p["dropout"])
    cnn = lambda p: create_model("cifar_cnn", width=cfg.width, dropout=p["dropout"], batch_norm=cfg.batch_norm)
    best = {
        "MLP": tuned(
            ctx,
            "mlp",
            mlp,
            train,
            val,
            cfg,
            lambda t: {
                "lr": t.suggest_float("lr", 1e-4, 3e-3, log=True),
                "dropout": t.suggest_float("dropout", 0.0, 0.5),
            },
        ),
        "CNN": tuned(
            ctx,
            "cnn",
            cnn,
            train,
            val,
            cfg,
            lambda t: {
                "lr": t.suggest_float("lr", 3e-4, 1e-2, log=True),
                "dropout": t.suggest_float("dropout", 0.0, 0.5),
            },
        ),
    }
    builds = {"MLP": mlp, "CNN": cnn}
    runs = sweep(
        ctx,
        {k: Variant(lambda k=k: builds[k](best[k]), replace(cfg, lr=best[k]["lr"])) for k in builds},
        (train, val),
        ds.test,
    )
    model = runs["CNN"][0].model
    first, second = conv_layers(model)[:2]
    images = ds.test.x[[int((ds.test.y == c).nonzero()[0]) for c in range(5)]]  # one image of each of 5 classes
    acts = capture_activations(model, images, [first, second])
    return Result(
        metrics={"summary": summarise(runs), "tuned": best},
        **comparison(
            runs,
            (
                "comparison",
                f"MLP vs CNN on CIFAR-10 ({len(train):,} training, {len(val):,} validation, "
                f"{len(ds.test):,} test images; {cfg.epochs} epochs each).",
            ),
            figures={
                "kernels1": (
                    viz.kernel_grid(model.get_submodule(first).weight, f"{first}: {cfg.width} kernels, RGB"),
                    "The CNN's first-layer kernels (3×3, shown in colour, each scaled to its own range).",
                ),
                "kernels2": (
                    viz.kernel_grid(model.get_submodule(second).weight, f"{second}: first input channel"),
                    "Second-layer kernels (for each output channel, its kernel on the first input channel).",
                ),
                "activations": (
                    viz.activation_grid(ds.norm.undo(images).cpu(), {first: acts[first], second: acts[second]}),
                    "Five test images and the first eight feature maps of the first two conv layers.",
                ),
            },
            label="variant",
            **{
                "lr (tuned)": {k: best[k]["lr"] for k in best},
                "dropout (tuned)": {k: best[k]["dropout"] for k in best},
            },
        ),
        notes=[JPEG_NOTE],
    )


# ---- EXP04 and EXP05: regularisation and augmentation --------------------------------------------
def regimes(ctx: Context, variants: dict[str, Variant], question: str) -> Result:
    cfg = ctx.cfg
    ds, train, val = cifar(ctx, cfg)
    runs = sweep(ctx, variants, (train, val), ds.test, train_eval=train.subset(5000, ctx.seed))
    stats = summarise(runs)
    for name, (run, *_) in runs.items():  # what the histograms show, as numbers the narrative can quote
        w = weight_magnitudes(run.model)
        stats[name].update(mean_abs_w=float(w.mean()), near_zero_w=float((w < NEAR_ZERO).mean()))
    return Result(
        metrics=stats,
        **comparison(
            runs,
            (
                "comparison",
                f"{question} ({len(train):,} training images, {cfg.epochs} epochs; train acc (eval) on 5,000 "
                "of them without dropout or augmentation; gap = that − test acc).",
            ),
            figures={
                "weights": (
                    viz.panels(
                        {
                            "": viz.draw_hist(
                                {k: weight_magnitudes(r[0].model) for k, r in runs.items()},
                                "|w| (conv and linear weights)",
                            )
                        },
                        ncols=1,
                        height=2.6,
                    ),
                    "Distribution of weight magnitudes after training.",
                )
            },
            label="variant",
        ),
        notes=[JPEG_NOTE],
    )


# EXP04 and EXP05 share one recipe, so their regimes differ from it in one thing only
REGIMES = Recipe(
    CifarCfg(epochs=30, batch_size=128, lr=2e-3, schedule="cosine"),
    quick=dict(epochs=8, width=16, n_train=20000),
    smoke=dict(epochs=2, width=8, n_val=64),
)


def _cnn(cfg: CifarCfg):
    return lambda: create_model("cifar_cnn", width=cfg.width)


@experiment("EXP04", recipe=REGIMES, data=("cifar10",))
def regularisation(ctx: Context) -> Result:
    """CIFAR-10: CNN with and without L1/L2

    How do an L2 penalty (weight decay) and an L1 penalty change the CNN's fit, its generalisation gap and its
    weights?
    """
    cfg, cnn = ctx.cfg, _cnn(ctx.cfg)
    variants = {
        "none": Variant(cnn, cfg),
        f"L2 (weight decay {cfg.l2:g})": Variant(cnn, replace(cfg, weight_decay=cfg.l2)),
        f"L1 (λ = {cfg.l1_weight:g})": Variant(cnn, replace(cfg, l1=cfg.l1_weight)),
    }
    return regimes(ctx, variants, "CNN without regularisation, with L2 and with L1")


@experiment("EXP05", recipe=REGIMES, data=("cifar10",))
def augmentation(ctx: Context) -> Result:
    """CIFAR-10: CNN with and without augmentation

    How does data augmentation (random crops with 4-pixel padding, horizontal flips) change the CNN's fit and
    its generalisation gap?
    """
    cfg, cnn = ctx.cfg, _cnn(ctx.cfg)
    variants = {"no augmentation": Variant(cnn, cfg), "crop + flip": Variant(cnn, cfg, Augment(4, True))}
    return regimes(ctx, variants, "CNN without and with augmentation")
