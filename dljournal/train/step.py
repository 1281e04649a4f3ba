"""What ``fit`` does with one batch: a ``Step``. ``Supervised`` is the default (loss of ``model(x)``
against ``y``, one optimiser step on the schedule); captioning and GANs bring their own step and
reuse the same epoch loop, history, time budget and callbacks."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn

from .config import TrainConfig, l1_penalty, loss_fn, lr_factor, make_optimizer

if TYPE_CHECKING:
    from .loop import FitState

Batch = tuple[torch.Tensor, torch.Tensor]
# One batch's contribution to the epoch's logs: each value summed over the batch (a detached tensor:
# no device sync per step) and "n", the batch's weight (its samples; 1 if absent).
Logs = dict[str, torch.Tensor | float | int]
Augmentation = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), so oneDNN runs bf16
    matmuls and convolutions faster than float32; emulated bf16 elsewhere would be slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def amp_dtype(device: torch.device, cfg: TrainConfig) -> torch.dtype | None:
    """The autocast dtype of ``cfg.amp``: on CUDA bf16 where the GPU has it (float32's range: no
    loss scaling), else fp16 (which needs a GradScaler); on a CPU with native bf16, bf16; else None.

    Measured on this project's 2-core AVX512-BF16 CPU, one thread, ms per training step, float32 ->
    bf16 (channels-last): CIFAR CNN 58 -> 37, VGG-16 (width 0.25) 58 -> 36, ResNet-8 52 -> 32,
    CIFAR MLP 41 -> 13, the PyTorch MNIST example's Net 55 -> 34."""
    if not cfg.amp:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return None


def autocast(device: torch.device, cfg: TrainConfig):
    dtype = amp_dtype(device, cfg)
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


class Means:
    """Per-key means of ``Logs``: Σ value / Σ n over the batches that logged the key. Values are
    only collected per step (a list append: no device op, no sync) and summed once, in ``pop``."""

    def __init__(self) -> None:
        self.values: dict[str, list[torch.Tensor | float]] = {}
        self.counts: dict[str, int] = {}

    def add(self, logs: Logs) -> None:
        n = logs.get("n", 1)
        for k, v in logs.items():
            if k != "n":
                self.values.setdefault(k, []).append(v)
                self.counts[k] = self.counts.get(k, 0) + n

    def pop(self) -> dict[str, float]:
        out = {k: _total(v) / self.counts[k] for k, v in self.values.items()}
        self.values, self.counts = {}, {}
        return out


def _total(values: list[torch.Tensor | float]) -> float:
    tensors = [v for v in values if isinstance(v, torch.Tensor)]
    numbers = sum(float(v) for v in values if not isinstance(v, torch.Tensor))
    return numbers + (torch.stack(tensors).double().sum().item() if tensors else 0.0)


class Schedule:
    """The learning rate of every parameter group at ``factor(step)`` × its peak, as ``LambdaLR``
    sets it, written only when the factor changes: LambdaLR's bookkeeping cost a tiny MLP's step
    about a tenth of its time here (measured: see ``dljournal.bench``)."""

    def __init__(self, optimizer: torch.optim.Optimizer, factor: Callable[[int], float]):
        self.optimizer, self.factor, self.t = optimizer, factor, 0
        self.peaks = [g["lr"] for g in optimizer.param_groups]
        self.current = None
        self._set(factor(0))

    def _set(self, f: float) -> None:
        if f != self.current:
            for group, peak in zip(self.optimizer.param_groups, self.peaks):
                group["lr"] = peak * f
            self.current = f

    def step(self) -> None:
        self.t += 1
        self._set(self.factor(self.t))


class Step:
    """One training step of ``fit``; subclass it for a training that is not ``model(x)`` vs ``y``.

    ``start`` runs once before the first epoch (make optimisers there: ``state.cfg`` and
    ``state.steps_per_epoch`` are set; put the one the learning rate is read from in
    ``state.optimizer``). ``__call__`` trains on one batch and returns its ``Logs``, which ``fit``
    averages over the epoch. ``epoch_logs`` adds values per epoch (a schedule's state, counts).
    """

    drop_last = False  # skip the last, incomplete batch of each epoch (batch norm needing full batches)

    def start(self, state: FitState) -> None: ...

    def __call__(self, state: FitState, batch: Batch) -> Logs:
        raise NotImplementedError

    def epoch_logs(self, state: FitState) -> dict[str, float]:
        return {}


class Supervised(Step):
    """Loss of ``model(x)`` against ``y`` (plus the L1 penalty), backward, gradient clipping, one
    optimiser and schedule step; autocast and loss scaling on CUDA with ``cfg.amp``. Logs
    ``train_loss`` (the data loss alone, so runs with and without L1 compare) and, for
    classification, ``train_acc``. Subclasses change the loss by overriding ``loss``."""

    amp = True  # False: no autocast even where cfg.amp asks for it (a loss that needs float32)

    def __init__(self, augment: Augmentation | None = None, param_groups: list[dict] | None = None):
        self.augment, self.param_groups = augment, param_groups

    def start(self, state: FitState) -> None:
        cfg = state.cfg
        self.criterion = loss_fn(cfg)
        params = self.param_groups if self.param_groups is not None else state.model.parameters()
        state.optimizer = make_optimizer(params, cfg)
        self.schedule = Schedule(state.optimizer, lr_factor(cfg, state.steps_per_epoch))
        scale = self.amp and amp_dtype(state.device, cfg) == torch.float16  # fp16 gradients underflow unscaled
        self.scaler = torch.amp.GradScaler("cuda", enabled=True) if scale else None

    def loss(self, state: FitState, batch: Batch) -> tuple[torch.Tensor, Logs]:
        """The objective to minimise and the batch's logs; sets ``state.loss`` (the data loss)."""
        x, y = batch
        if self.augment is not None:
            x = self.augment(x, state.generator)
        cfg = state.cfg
        with autocast(state.device, cfg) if self.amp else contextlib.nullcontext():
            out = state.model(x)
            loss = self.criterion(out, y)
            total = loss + cfg.l1 * l1_penalty(state.model) if cfg.l1 else loss
        state.loss = loss.detach()
        logs: Logs = {"n": len(y), "train_loss": state.loss * len(y)}
        if cfg.classification:
            logs["train_acc"] = (out.detach().argmax(1) == y).sum()
        return total, logs

    def update(self, state: FitState, objective: torch.Tensor) -> None:
        """Backward (callbacks see the gradients), clipping, the optimiser and schedule step."""
        optimizer, scaler = state.optimizer, self.scaler
        optimizer.zero_grad(set_to_none=True)
        (scaler.scale(objective) if scaler else objective).backward()
        for cb in state.callbacks:
            cb.on_after_backward(state)
        if state.cfg.grad_clip:
            if scaler:
                scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(state.model.parameters(), state.cfg.grad_clip)
        if scaler:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        self.schedule.step()

    def __call__(self, state: FitState, batch: Batch) -> Logs:
        objective, logs = self.loss(state, batch)
        self.update(state, objective)
        return logs
