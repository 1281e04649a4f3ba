"""Exercise 4: a ConvLSTM written from scratch, next-frame prediction on Moving MNIST, and action
recognition on KTH with three recurrent modules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from dljournal import Context, Recipe, Result, TrainConfig, experiment, viz
from dljournal.data import Split
from dljournal.data.kth import train_val
from dljournal.data.moving_mnist import moving_mnist
from dljournal.models import create_model
from dljournal.models.convlstm import ConvLSTMPredictor, FrameCNN
from dljournal.study.tables import compare_runs
from dljournal.train import seed_everything

# KTH's long action names, shortened to fit a confusion matrix's ticks
SHORT = {"handclapping": "clapping", "handwaving": "waving"}


def metric_key(name: str) -> str:
    """A model's label as a metric key: "frame CNN" -> "frame_cnn"."""
    return name.lower().replace(" ", "_")


# ---- EXP10: next-frame prediction on Moving MNIST ---------------------------------------------------
@dataclass(frozen=True)
class NextFrameCfg(TrainConfig):
    amp: bool = False  # float32: a recurrent state accumulates bf16 rounding over its time steps
    n_train: int = 10000  # sequences drawn from MNIST training digits (validation: n_val more)
    n_val: int = 1000
    n_test: int = 2000  # sequences drawn from MNIST test digits
    seq_len: int = 20  # frames per sequence: the models see frames 0..T-2 and predict 1..T-1
    size: int = 64  # canvas side
    digit_size: int = 28  # digits are resized to this (28: the original Moving MNIST scale)
    digits_per_seq: int = 2
    speed: float = 3.0  # pixels per frame
    width: int = 16  # encoder channels (2w at the recurrent stage)
    hidden: tuple[int, ...] = (64, 64)  # ConvLSTM layers; the CNN baseline has conv layers of these widths
    kernel_size: int = 3
    show: int = 2  # test sequences drawn in the frames figure
    max_columns: int = 10  # time steps drawn in the frames figure


def step_mse(pred: torch.Tensor, target: torch.Tensor) -> list[float]:
    """Mean squared error per predicted frame: (N, T, 1, H, W) twice -> T values."""
    return (pred.float() - target.float()).square().mean(dim=(0, 2, 3, 4)).tolist()


@experiment(
    "EXP10",
    recipe=Recipe(
        NextFrameCfg(
            loss="mse", epochs=30, batch_size=32, lr=1e-3, schedule="cosine", grad_clip=1.0, eval_batch_size=200
        ),
        # in two parts: fewer, shorter sequences of smaller digits on a smaller canvas | a smaller model
        quick=dict(n_train=1000, n_val=200, n_test=300, seq_len=10, size=32, digit_size=14, speed=2.0)
        | dict(width=8, hidden=(16,), epochs=5, batch_size=16, lr=3e-3),
        smoke=dict(n_train=32, n_val=8, n_test=8, seq_len=5, size=32, digit_size=14)
        | dict(width=4, hidden=(4,), epochs=2, batch_size=8),
    ),
    data=("mnist",),
)
def next_frame(ctx: Context) -> Result:
    """ConvLSTM: next-frame prediction on Moving MNIST

    Does a ConvLSTM, whose memory is a stack of feature maps, predict the next frame of bouncing MNIST digits
    better than a CNN with the same encoder and decoder that sees one frame?
    """
    cfg = ctx.cfg
    ds = ctx.data("mnist")

    def sequences(x: torch.Tensor, n: int, seed: int) -> torch.Tensor:  # (n, T, 1, size, size)
        digits = ds.norm.undo(x.cpu())  # MNIST's pixels in [0, 1]
        if cfg.digit_size != digits.shape[-1]:
            digits = F.interpolate(digits, size=cfg.digit_size, mode="area")
        return moving_mnist(digits, n, cfg.seq_len, cfg.size, cfg.digits_per_seq, seed, cfg.speed)

    def pairs(s: torch.Tensor) -> Split:  # inputs: frames 0..T-2, targets: frames 1..T-1
        return Split(s[:, :-1].contiguous(), s[:, 1:].contiguous())

    seqs = sequences(ds.train.x, cfg.n_train + cfg.n_val, ctx.seed)
    train, val = pairs(seqs[: cfg.n_train]), pairs(seqs[cfg.n_train :])
    test = pairs(sequences(ds.test.x, cfg.n_test, ctx.seed + 1))  # digits never seen in training
    runs = {}
    for name, cls in (("ConvLSTM", ConvLSTMPredictor), ("frame CNN", FrameCNN)):
        seed_everything(ctx.seed)
        runs[name] = ctx.train(cls(cfg.width, cfg.hidden, cfg.kernel_size), (train, val), test, name=name)
    per_step = {n: step_mse(r.outputs, test.y) for n, r in runs.items()}
    per_step["copy last frame"] = step_mse(test.x, test.y)  # predicts no motion at all
    copy = per_step["copy last frame"]
    steps = list(range(1, cfg.seq_len))

    metrics = {
        metric_key(n): {**r.summary(), "mse_first": per_step[n][0], "mse_last": per_step[n][-1]}
        for n, r in runs.items()
    }
    metrics["copy_last"] = {"test_loss": float(np.mean(copy)), "mse_first": copy[0], "mse_last": copy[-1]}
    rows = [
        {
            "model": n,
            "params": r.params,
            "test MSE": r.test["loss"],
            "MSE at t = 1": per_step[n][0],
            f"MSE at t = {steps[-1]}": per_step[n][-1],
            "seconds/epoch": r.history.seconds_per_epoch,
        }
        for n, r in runs.items()
    ]
    rows.append(
        {
            "model": "copy last frame",
            "params": 0,
            "test MSE": float(np.mean(copy)),
            "MSE at t = 1": copy[0],
            f"MSE at t = {steps[-1]}": copy[-1],
            "seconds/epoch": None,
        }
    )

    shown = range(min(cfg.show, cfg.n_test))
    cols = sorted(set(np.linspace(0, len(steps) - 1, min(cfg.max_columns, len(steps))).round().astype(int).tolist()))
    grid = {}
    for i in shown:
        grid[f"#{i + 1} true"] = test.y[i, cols, 0]
        grid.update({f"#{i + 1} {n}": r.outputs[i, cols, 0] for n, r in runs.items()})
    digits = "synthetic stand-in images" if ds.synthetic else "real MNIST digits"
    data_note = (
        f"{cfg.n_train:,} training, {cfg.n_val:,} validation and {cfg.n_test:,} test sequences of "
        f"{cfg.seq_len} frames {cfg.size}×{cfg.size}, each with {cfg.digits_per_seq} {digits} of "
        f"{cfg.digit_size}×{cfg.digit_size} pixels moving {cfg.speed:g} pixels per frame; test "
        "sequences from the MNIST test images"
    )
    return Result(
        metrics=metrics,
        history={
            **{metric_key(n): r.history.to_dict() for n, r in runs.items()},
            "test_mse_per_step": {metric_key(n): v for n, v in per_step.items()},
        },
        tables={
            "models": (
                rows,
                f"Next-frame prediction on the test set ({data_note}): mean squared error per "
                "pixel over all predicted frames, at the first and the last step, and the "
                "training time of an epoch.",
            )
        },
        figures={
            "curves": (
                viz.panels(
                    {
                        "training (dashed), validation MSE": viz.draw_curves(
                            {n: r.history for n, r in runs.items()}, "loss", logy=True
                        ),
                        "test MSE per predicted frame": viz.draw_xy(
                            steps, per_step, "predicted frame t", "MSE", logy=True, marker="."
                        ),
                    },
                    ncols=2,
                ),
                "Left: learning curves. Right: test error of each predicted frame; frame t is predicted from "
                f"frames 0..t-1 (the CNN sees frame t-1 only). Data: {data_note}.",
            ),
            "frames": (
                viz.frame_grid(grid, [f"t={steps[c]}" for c in cols]),
                f"True frames and one-step predictions of both models for {len(shown)} test sequences "
                f"({digits}); the prediction of frame t is made from frames 0..t-1.",
            ),
        },
        notes=["Smoke profile: the digits are synthetic stand-ins, not MNIST."] if ds.synthetic else [],
    )


# ---- EXP11: action recognition on KTH ----------------------------------------------------------------
@dataclass(frozen=True)
class ActionCfg(TrainConfig):
    amp: bool = False  # float32: a recurrent state accumulates bf16 rounding over its time steps
    models: tuple[tuple[str, str], ...] = (
        ("LSTM", "action_lstm"),
        ("GRU", "action_gru"),
        ("ConvLSTM", "action_convlstm"),
    )
    width: int = 16  # encoder channels (2w after the last stage)
    hidden: int = 128  # LSTM and GRU units
    features: int = 256  # the frame vector the LSTM and GRU read (encoder's flatten + linear)
    conv_hidden: int = 32  # ConvLSTM channels
    dropout: float = 0.2
    n_train: int | None = None  # only for the synthetic stand-in (smoke): clips to draw
    n_test: int | None = None


@experiment(
    "EXP11",
    recipe=Recipe(
        ActionCfg(epochs=40, batch_size=16, lr=1e-3, schedule="cosine", weight_decay=1e-4, grad_clip=1.0),
        quick=dict(epochs=12, width=8),
        smoke=dict(epochs=2, width=4, hidden=16, features=32, conv_hidden=8, n_train=48, n_test=24),
    ),
    data=("kth",),
)
def kth_actions(ctx: Context) -> Result:
    """KTH action recognition: LSTM, GRU and ConvLSTM

    Which recurrent module on top of the same convolutional encoder recognises human actions in KTH clips best:
    an LSTM or GRU on flattened frame features, or a ConvLSTM on feature maps?
    """
    from sklearn.metrics import f1_score

    cfg = ctx.cfg
    ds = ctx.data("kth", n_train=cfg.n_train, n_test=cfg.n_test)
    train, val = train_val(ds)
    sizes = {
        "action_convlstm": dict(hidden=cfg.conv_hidden),
        "action_lstm": dict(hidden=cfg.hidden, features=cfg.features),
        "action_gru": dict(hidden=cfg.hidden, features=cfg.features),
    }
    runs = {}
    for name, model in cfg.models:
        seed_everything(ctx.seed)
        net = create_model(
            model,
            num_classes=ds.num_classes,
            frame_size=ds.input_shape[-1],
            width=cfg.width,
            dropout=cfg.dropout,
            **sizes[model],
        )
        runs[name] = ctx.train(net, (train, val), ds.test, name=name)
    y = ds.test.y.cpu().numpy()
    preds = {n: r.outputs.argmax(1).numpy() for n, r in runs.items()}
    f1 = {
        n: float(f1_score(y, p, average="macro", labels=range(ds.num_classes), zero_division=0))
        for n, p in preds.items()
    }
    counts = {"train": len(train), "validation": len(val), "test": len(ds.test)}
    per_class = dict(zip(ds.classes, np.bincount(y, minlength=ds.num_classes).tolist()))
    clips = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    kind = "synthetic stand-in clips" if ds.synthetic else "clips"
    notes = [f"Data: {ds.source}."]
    if ds.meta["split"] == "time":
        notes.append(
            f"The shared data holds 5 KTH videos of one person (person 01), {ds.num_classes} of the 6 "
            "actions; train, validation and test clips come from different times of the same videos. "
            "This checks the pipeline on 5 clips of one person; it is not a KTH benchmark (published "
            "CNN/LSTM models reach about 70–80 % accuracy on the full person split)."
        )
    return Result(
        metrics={
            **{metric_key(n): {**r.summary(), "macro_f1": f1[n]} for n, r in runs.items()},
            "clips": counts,
            "test_clips_per_action": per_class,
            "classes": ds.num_classes,
            "frames_per_clip": ds.input_shape[0],
            "clip_stride": ds.meta["stride"],
            "frame_size": ds.input_shape[-1],
            "split": ds.meta["split"],
        },
        history={metric_key(n): r.history.to_dict() for n, r in runs.items()},
        tables={
            "models": (
                compare_runs(runs, **{"macro-F1": f1}),
                f"Three recurrent modules on the same encoder ({clips} {kind}; "
                f"{ds.meta['split_note']}). Test clips per action: "
                + ", ".join(f"{c} {n}" for c, n in per_class.items())
                + ".",
            )
        },
        figures={
            "curves": (
                viz.learning_curves({n: r.history for n, r in runs.items()}),
                "Learning curves: training (dashed) and validation (solid) loss and accuracy.",
            ),
            "confusion": (
                viz.panels(
                    {
                        f"{n}, test": viz.draw_confusion(y, p, [SHORT.get(c, c) for c in ds.classes])
                        for n, p in preds.items()
                    },
                    ncols=3,
                    height=2.4,
                ),
                f"Confusion matrices on the {len(ds.test):,} test {kind}: percent of each true "
                "action (row) predicted as each action (column).",
            ),
        },
        notes=notes,
    )
