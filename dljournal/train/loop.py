"""One training loop for every experiment: ``fit`` with per-epoch history and callbacks; what it
does with each batch is a pluggable ``Step`` (``dljournal.train.step``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..core.project import ProjectError
from ..data.tensors import Dataset, Split, require_not_test
from .config import TrainConfig, loss_fn
from .step import Augmentation, Means, Step, Supervised
from .step import autocast as _autocast


@dataclass
class History:
    """Per-epoch series (``epochs``) and per-step series written by callbacks (``steps``)."""

    epochs: dict[str, list[float]] = field(default_factory=dict)
    steps: dict[str, list[float]] = field(default_factory=dict)

    def log_epoch(self, values: dict[str, float]) -> None:
        for k, v in values.items():
            self.epochs.setdefault(k, []).append(float(v))

    def log_step(self, values: dict[str, float]) -> None:
        for k, v in values.items():
            self.steps.setdefault(k, []).append(float(v))

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's values."""
        return {k: v[-1] for k, v in self.epochs.items() if v}

    @property
    def seconds_per_epoch(self) -> float:
        t = self.epochs.get("seconds", [])
        return sum(t) / len(t) if t else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {**self.epochs, **({"steps": self.steps} if self.steps else {})}


@dataclass
class FitState:
    """What steps and callbacks see; ``loss`` is the last batch's loss (a tensor: no sync unless read)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer | None  # made by the step; the learning rate logged is its
    cfg: TrainConfig
    history: History
    steps_per_epoch: int
    epoch: int = 0
    step: int = 0
    loss: torch.Tensor | None = None
    logs: dict[str, float] = field(default_factory=dict)
    sample: torch.Tensor | None = None  # a few training inputs (for TensorBoard images)
    device: torch.device = torch.device("cpu")
    generator: torch.Generator | None = None  # shuffles batches; steps draw their randomness from it
    callbacks: list[Callback] = field(default_factory=list)
    images: dict[str, torch.Tensor] = field(default_factory=dict)  # shown per epoch (a GAN's fixed noise)


class Callback:
    """Hooks into ``fit``; override what you need."""

    def on_fit_start(self, state: FitState) -> None: ...
    def on_epoch_start(self, state: FitState) -> None: ...
    def on_after_backward(self, state: FitState) -> None: ...
    def on_step_end(self, state: FitState) -> None: ...
    def on_epoch_end(self, state: FitState) -> None: ...
    def on_fit_end(self, state: FitState) -> None: ...


class Diverged(ProjectError):
    """The training loss became NaN or infinite: nothing after that epoch means anything."""


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch sees no CUDA device")
    return torch.device(name)


def tune_backends(device: torch.device) -> None:
    """On CUDA, cuDNN autotunes each convolution once per input shape: a win here, where every batch
    but an epoch's last has the same shape."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def _prepare(split: Split, device: torch.device, channels_last: bool) -> Split:
    split = split.to(device)
    if channels_last and split.x.dim() == 4:
        split = split.map(lambda x: x.contiguous(memory_format=torch.channels_last))
    return split


def _as_splits(data: Dataset | Sequence[Split | None]) -> tuple[Split, Split | None]:
    if isinstance(data, Dataset):
        raise TypeError(
            "fit takes (train, val) splits; hold out a validation split with "
            "dataset.val_split(n) rather than tuning on the test set"
        )
    train, val = data
    # fit's validation slot is what callbacks prune and stop on, and what "best epoch" reads
    require_not_test(val, "fit's validation slot")
    return train, val


EpochHook = Callable[[FitState], dict[str, float]]  # extra metrics of the epoch just trained
DEFAULT = TrainConfig()  # frozen: one instance serves as every default


def fit(
    model: nn.Module,
    data: Sequence[Split | None],
    cfg: TrainConfig,
    callbacks: Iterable[Callback] = (),
    device: torch.device | str | None = None,
    seed: int | None = None,
    augment: Augmentation | None = None,
    param_groups: list[dict] | None = None,
    watch: Split | None = None,
    step: Step | None = None,
    on_epoch: EpochHook | None = None,
) -> History:
    """Train ``model`` on ``data = (train, val)`` with the recipe ``cfg``; returns its history.

    Per epoch it logs train_loss, val_loss (and *_acc for classification), lr and seconds (the
    training time alone). The train split is shuffled by a generator seeded from ``seed`` (or from
    the global torch RNG, which the runner seeds), so runs are reproducible. ``augment(x, generator)``
    transforms each training batch on the device (see ``dljournal.data.augment``). ``train_loss`` is
    the data loss alone, without the L1 penalty, so runs with and without it compare.
    ``param_groups`` (``[{"params": ..., "lr_scale": 0.1}, ...]``) give parts of the model their own
    learning rate; ``cfg.max_seconds`` ends training after the epoch that exhausts that budget.

    The validation split must not be the test split (it is what pruning, early stopping and any
    "best epoch" read). To *watch* the test split over epochs, as an observation that nothing
    selects on, pass it as ``watch``: it is logged as ``test_loss`` (and ``test_acc``).
    A NaN or infinite training loss stops training with ``Diverged`` naming the epoch.

    ``step`` replaces what is done with each batch (``Supervised(augment, param_groups)`` by
    default): the epoch then logs the means of what the step returns, its ``epoch_logs``, the
    validation metrics, ``on_epoch(state)`` (untimed: evaluations, samples), lr and seconds.
    """
    if step is not None and (augment is not None or param_groups is not None):
        raise ValueError("augment and param_groups configure fit's default step; give them to your step")
    step = step if step is not None else Supervised(augment, param_groups)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    use_cl = cfg.channels_last and device.type in ("cpu", "cuda")
    train, val = _as_splits(data)
    train = _prepare(train, device, use_cl and train.x.dim() == 4)
    val = _prepare(val, device, use_cl and val.x.dim() == 4) if val is not None else None
    watch = _prepare(watch, device, use_cl and watch.x.dim() == 4) if watch is not None else None
    model.to(device)
    if use_cl and train.x.dim() == 4:
        model.to(memory_format=torch.channels_last)

    callbacks = list(callbacks)
    steps_per_epoch = len(train) // cfg.batch_size if step.drop_last else train.num_batches(cfg.batch_size)
    steps_per_epoch = min(steps_per_epoch, cfg.max_steps) if cfg.max_steps else steps_per_epoch
    state = FitState(
        model, None, cfg, History(), steps_per_epoch, sample=train.x[:16], device=device, callbacks=callbacks
    )
    step.start(state)
    if seed is None:
        seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
    gen = state.generator = torch.Generator().manual_seed(seed)
    for cb in callbacks:
        cb.on_fit_start(state)

    for epoch in range(1, cfg.epochs + 1):
        state.epoch = epoch
        state.images = {}
        for cb in callbacks:
            cb.on_epoch_start(state)
        model.train()
        means, t0 = Means(), time.perf_counter()
        for batch in train.batches(cfg.batch_size, shuffle=True, generator=gen):
            if step.drop_last and len(batch[0]) < cfg.batch_size:
                continue
            means.add(step(state, batch))
            state.step += 1
            for cb in callbacks:
                cb.on_step_end(state)
            if cfg.max_steps and state.step % steps_per_epoch == 0:
                break
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        logs = state.logs = {"epoch": epoch, **means.pop(), **step.epoch_logs(state)}  # on_epoch reads it
        if not math.isfinite(logs.get("train_loss", 0.0)):
            raise Diverged(
                f"training diverged at epoch {epoch} (mean training loss {logs['train_loss']}); "
                "lower the learning rate or clip gradients (grad_clip)"
            )
        if val is not None:
            logs.update({f"val_{k}": v for k, v in evaluate(model, val, cfg, device).items()})
        if watch is not None:
            logs.update({f"test_{k}": v for k, v in evaluate(model, watch, cfg, device).items()})
        if on_epoch is not None:
            logs.update(on_epoch(state))
        if state.optimizer is not None:
            logs["lr"] = max(g["lr"] for g in state.optimizer.param_groups)
        logs["seconds"] = seconds
        state.history.log_epoch(logs)
        for cb in callbacks:
            cb.on_epoch_end(state)
        if cfg.max_seconds and sum(state.history.epochs["seconds"]) >= cfg.max_seconds:
            break
    for cb in callbacks:
        cb.on_fit_end(state)
    return state.history


@torch.inference_mode()
def predict(
    model: nn.Module, split: Split, cfg: TrainConfig = DEFAULT, device: torch.device | str | None = None
) -> torch.Tensor:
    """Model outputs for every sample of ``split`` (float32, on the CPU)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    outs = []
    for x, _ in split.to(device).batches(cfg.eval_batch_size):
        with _autocast(device, cfg):
            outs.append(model(x).float().cpu())
    model.train(was_training)
    return torch.cat(outs)


def evaluate(
    model: nn.Module, split: Split, cfg: TrainConfig = DEFAULT, device: torch.device | str | None = None
) -> dict[str, float]:
    """Mean loss (and accuracy for classification) of ``model`` on ``split``."""
    return score(predict(model, split, cfg, device), split.y, cfg)


def score(outputs: torch.Tensor, y: torch.Tensor, cfg: TrainConfig) -> dict[str, float]:
    """Mean loss, and accuracy for classification, of ``outputs`` against targets ``y``."""
    y = y.to(outputs.device)
    metrics = {"loss": loss_fn(cfg)(outputs, y).item()}
    if cfg.classification:
        metrics["acc"] = (outputs.argmax(1) == y).float().mean().item()
    return metrics
