"""HW1 part 2: optimisation, i.e. weight trajectories, gradient norms, and points of zero gradient."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from scipy.spatial import procrustes
from scipy.spatial.distance import pdist

from dljournal import Context, Recipe, Result, TrainConfig, experiment, fit, viz
from dljournal.analysis import (
    curvature_counts,
    full_batch_grad_norm,
    loss_hessian,
    minimal_ratio,
    minimise_grad_norm,
    pca_trajectories,
)
from dljournal.data import FUNCTIONS, sample_function
from dljournal.models import create_model
from dljournal.observe import track
from dljournal.train import GradNorm, WeightSnapshots, seed_everything
from dljournal.train.config import loss_fn


# ---- EXP03: the optimisation process, visualised -------------------------------------------------
@dataclass(frozen=True)
class TrajectoryCfg(TrainConfig):
    hidden: tuple[int, ...] = (32,)  # MLP 784-32-10
    seeds: tuple[int, ...] = tuple(range(8))
    snapshot_every: int = 3  # epochs between recorded weights
    layer: str = "net.1."  # the first Linear layer of the MLP
    n_train: int | None = None
    n_val: int = 5000


@experiment(
    "EXP03",
    recipe=Recipe(
        TrajectoryCfg(epochs=24, batch_size=128, lr=1e-3),
        quick=dict(epochs=12, snapshot_every=2, seeds=(0, 1, 2, 3)),
        smoke=dict(epochs=4, seeds=(0, 1, 2, 3), n_val=128),
    ),
    data=("mnist",),
)
def trajectories(ctx: Context) -> Result:
    """Optimisation visualised

    Where do training runs from different seeds go in weight space, and how do they progress from the random
    start to a good model?
    """
    cfg = ctx.cfg
    ds = ctx.data("mnist", n_train=cfg.n_train)
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)
    whole, layer, finals = [], [], []
    for seed in cfg.seeds:
        seed_everything(ctx.seed + seed)
        snaps = [WeightSnapshots(cfg.snapshot_every), WeightSnapshots(cfg.snapshot_every, layer=cfg.layer)]
        ctx.fit(create_model("mnist_mlp", hidden=cfg.hidden), (train, val), name=f"seed{seed}", callbacks=snaps)
        whole.append(snaps[0])
        layer.append(snaps[1])
        finals.append(snaps[0].logs[-1]["val_acc"])
    labels = [[f"{log['val_acc']:.0%}" if log else "start" for log in s.logs] for s in whole]
    draws, metrics, pictures = {}, {}, {}
    for name, snaps in (("whole model", whole), ("first layer", layer)):
        coords, ratio = pca_trajectories([s.snapshots for s in snaps])
        pictures[name] = np.concatenate(coords)
        metrics[name.replace(" ", "_")] = {
            "explained_pc1": ratio[0],
            "explained_pc2": ratio[1],
            "parameters": snaps[0].snapshots.shape[1],
        }
        draws[f"{name} ({snaps[0].snapshots.shape[1]:,} weights)"] = viz.draw_trajectories(
            coords,
            labels,
            [f"seed {s}" for s in cfg.seeds],
            (f"PC 1 ({ratio[0]:.0%} of variance)", f"PC 2 ({ratio[1]:.0%})"),
        )
    # "the same picture": the two sets of 2-D trajectories after the best rotation, scaling and shift
    metrics["first_layer_disparity"] = float(procrustes(pictures["whole model"], pictures["first layer"])[2])
    # where the runs end: distance between endpoints, relative to the distance each run travelled
    start, end = np.stack([s.snapshots[0] for s in whole]), np.stack([s.snapshots[-1] for s in whole])
    metrics["endpoint_distance"] = float(pdist(end).mean())
    metrics["travel_distance"] = float(np.linalg.norm(end - start, axis=1).mean())
    metrics["val_acc_mean"] = float(np.mean(finals))
    metrics["val_acc_min"] = float(np.min(finals))
    return Result(
        metrics=metrics,
        history={f"seed{s}": w.logs[1:] for s, w in zip(cfg.seeds, whole)},
        figures={
            "trajectories": (
                viz.panels(draws, ncols=2, height=3.2),
                f"Weights of {len(cfg.seeds)} training runs (MLP 784-{cfg.hidden[0]}-10, one "
                f"seed each) every {cfg.snapshot_every} epochs, projected on the first two "
                "principal components of all runs together; labels: validation accuracy, "
                "rings: the random start.",
            )
        },
    )


# ---- EXP04: gradient norm during training --------------------------------------------------------
@dataclass(frozen=True)
class GradNormCfg:
    # float32 throughout (no bf16 autocast): gradient norms near zero are what this measures
    function: TrainConfig = TrainConfig(loss="mse", epochs=1000, batch_size=128, lr=1e-2, schedule="cosine", amp=False)
    fn_name: str = "sinc"
    fn_hidden: tuple[int, ...] = (10, 18, 15, 4)
    fn_points: int = 1000
    mnist: TrainConfig = TrainConfig(epochs=10, batch_size=128, lr=1e-3, amp=False)
    mnist_hidden: tuple[int, ...] = (128,)
    n_train: int | None = None


@experiment(
    "EXP04",
    recipe=Recipe(
        GradNormCfg(),
        quick=dict(function=replace(GradNormCfg.function, epochs=300), mnist=replace(GradNormCfg.mnist, epochs=4)),
        smoke=dict(function=replace(GradNormCfg.function, epochs=5), mnist=replace(GradNormCfg.mnist, epochs=2)),
    ),
    data=("mnist",),
)
def gradient_norm(ctx: Context) -> Result:
    """Gradient norm during training

    How does the norm of the gradient evolve while the loss falls?
    """
    cfg = ctx.cfg
    fn = sample_function(cfg.fn_name, cfg.fn_points)
    mnist = ctx.data("mnist", n_train=cfg.n_train)
    tasks = {
        f"{FUNCTIONS[cfg.fn_name][1]}, MLP ({len(cfg.fn_hidden)} hidden)": (
            create_model("fn_mlp", hidden=cfg.fn_hidden, activation="leaky_relu"),
            fn,
            cfg.function,
        ),
        f"MNIST, MLP 784-{'-'.join(map(str, cfg.mnist_hidden))}-10": (
            create_model("mnist_mlp", hidden=cfg.mnist_hidden),
            mnist.train,
            cfg.mnist,
        ),
    }
    columns, metrics, history = {}, {}, {}
    for key, (title, (model, train, tcfg)) in zip(("function", "mnist"), tasks.items()):
        gn = GradNorm()
        h = ctx.fit(model, (train, None), tcfg, name=key, callbacks=[gn])
        steps, norms, losses = h.steps["step"], h.steps["grad_norm"], h.steps["loss"]
        columns[title] = {"loss": (steps, losses, True), "gradient norm": (steps, norms, True)}
        tail, loss_tail = (np.array(v[-max(len(v) // 10, 1) :]) for v in (norms, losses))
        model.eval()
        metrics[key] = {
            "iterations": len(steps),
            "first_loss": losses[0],
            "final_loss": h.final["train_loss"],
            "first_grad_norm": norms[0],
            "max_grad_norm": max(norms),
            "last10pct_grad_norm": float(np.mean(tail)),
            # noise over the last tenth: standard deviation relative to the mean, per series
            "last10pct_cv_grad_norm": float(tail.std() / tail.mean()),
            "last10pct_cv_loss": float(loss_tail.std() / loss_tail.mean()),
            # the gradient over the whole training set, which each mini-batch gradient estimates
            "full_batch_grad_norm": full_batch_grad_norm(
                model, loss_fn(tcfg), train.x.to(ctx.device), train.y.to(ctx.device)
            ),
        }
        history[key] = {"step": steps[::10], "grad_norm": norms[::10], "loss": losses[::10]}
    return Result(
        metrics=metrics,
        history=history,
        figures={
            "grad_norm": (
                viz.side_by_side(columns, xlabel="iteration"),
                "Training loss (top) and total gradient norm (bottom, L2 over all parameters) at every "
                "iteration, on the function task and on MNIST.",
            )
        },
    )


# ---- EXP05: what happens when the gradient is almost zero ----------------------------------------
@dataclass(frozen=True)
class MinimalRatioCfg(TrainConfig):
    amp: bool = False  # float32: training runs to a gradient norm near zero, where bf16 rounding dominates
    fn_name: str = "sinc"
    hidden: tuple[int, ...] = (8, 8)  # 97 parameters: the exact Hessian is cheap
    activation: str = "tanh"  # smooth: the Hessian exists everywhere
    n_points: int = 200
    runs: int = 100
    grad_steps: int = 3000  # phase 2: Adam on ||∇L||²
    grad_lr: float = 1e-3
    grad_tol: float = 1e-8  # stop when ||∇L||² falls below this
    zero_tol: float = 1e-6  # |λ| at most zero_tol · max|λ| counts as a flat direction (reported apart)


@experiment(
    "EXP05",
    recipe=Recipe(
        MinimalRatioCfg(loss="mse", epochs=400, batch_size=200, lr=1e-2),
        quick=dict(runs=20, epochs=300, grad_steps=1500),
        smoke=dict(runs=3, epochs=5, grad_steps=10, n_points=32),
    ),
)
def minimal_ratio_exp(ctx: Context) -> Result:
    """When the gradient is almost zero

    Where training stops (the gradient norm is almost zero), are we at a minimum? How does the minimal ratio of
    the Hessian relate to the loss there?
    """
    cfg = ctx.cfg
    data = sample_function(cfg.fn_name, cfg.n_points)
    x64, y64 = data.x.to(ctx.device, torch.float64), data.y.to(ctx.device, torch.float64)
    rows = []
    for run in track(range(cfg.runs), "trainings"):
        seed_everything(ctx.seed + run)
        model = create_model("fn_mlp", hidden=cfg.hidden, activation=cfg.activation).to(ctx.device)
        epochs = max(1, cfg.epochs * (1 + run % 4) // 4)  # stop phase 1 at different depths of training
        fit(model, (data, None), replace(cfg, epochs=epochs), device=ctx.device)
        # phase 2 and the Hessian in float64: near ‖∇L‖² ≈ 1e-8, float32 round-off moves the ratio
        model.double()
        crit = minimise_grad_norm(model, loss_fn(cfg), x64, y64, cfg.grad_steps, cfg.grad_lr, cfg.grad_tol)
        eig = torch.linalg.eigvalsh(loss_hessian(model, loss_fn(cfg), x64, y64))
        counts = curvature_counts(eig, cfg.zero_tol)
        rows.append(
            {
                "run": run,
                "phase1_epochs": epochs,
                **crit,
                "minimal_ratio": minimal_ratio(eig),
                "ratio_nonflat": counts["ratio_nonflat"],
                "flat_fraction": counts["flat_fraction"],
                "min_eig": eig.min().item(),
                "max_eig": eig.max().item(),
            }
        )
    ratio = np.array([r["minimal_ratio"] for r in rows])
    nonflat = np.array([r["ratio_nonflat"] for r in rows])
    loss = np.array([r["loss"] for r in rows])
    gn = np.array([r["grad_norm_sq"] for r in rows])
    return Result(
        metrics={
            "runs": len(rows),
            "params": sum(p.numel() for p in model.parameters()),
            "ratio_mean": ratio.mean(),
            "ratio_min": ratio.min(),
            "ratio_max": ratio.max(),
            "nonflat_ratio_mean": float(np.nanmean(nonflat)),
            "nonflat_ratio_min": float(np.nanmin(nonflat)),
            "nonflat_ratio_max": float(np.nanmax(nonflat)),
            "precision": "float64",
            "loss_min": loss.min(),
            "loss_max": loss.max(),
            "grad_norm_sq_median": float(np.median(gn)),
            "grad_norm_sq_max": float(gn.max()),
            "flat_fraction_mean": float(np.mean([r["flat_fraction"] for r in rows])),
            "corr_ratio_loss": float(np.corrcoef(ratio, np.log(loss))[0, 1]) if ratio.std() > 0 else 0.0,
            "corr_nonflat_loss": float(np.corrcoef(nonflat, np.log(loss))[0, 1]) if np.nanstd(nonflat) > 0 else 0.0,
        },
        history={"runs": rows},
        figures={
            "scatter": (
                viz.panels(
                    {
                        "": viz.draw_scatter(
                            ratio,
                            loss,
                            "minimal ratio (fraction of positive Hessian eigenvalues)",
                            "loss (MSE)",
                            logy=True,
                        )
                    },
                    ncols=1,
                    height=2.8,
                ),
                f"Loss against minimal ratio at {len(rows)} points of almost zero gradient "
                f"({FUNCTIONS[cfg.fn_name][1]}, MLP 1-{'-'.join(map(str, cfg.hidden))}-1).",
            )
        },
    )
