"""Linear interpolation between two trained models: θ(α) = (1 − α)·θ₁ + α·θ₂."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..data.tensors import Split
from ..train.config import TrainConfig
from ..train.loop import evaluate

_NORMS = (nn.modules.batchnorm._BatchNorm,)


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, data: Split, batch_size: int = 500) -> nn.Module:
    """Re-estimate every batch-norm layer's running mean and variance on ``data`` (a training split):
    interpolated running statistics are not the statistics of the interpolated network, and an
    extrapolated running variance (α outside [0, 1]) can even be negative."""
    norms = [m for m in model.modules() if isinstance(m, _NORMS)]
    if not norms:
        return model
    was_training = model.training
    momenta = {m: m.momentum for m in norms}
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over all batches, not an exponential one
    model.train()
    device = next(model.parameters()).device
    for x, _ in data.to(device).batches(batch_size):
        model(x)
    for m in norms:
        m.momentum = momenta[m]
    model.train(was_training)
    return model


@torch.no_grad()
def interpolate(a: nn.Module, b: nn.Module, alpha: float, bn_data: Split | None = None) -> nn.Module:
    """A new model with every floating-point parameter and buffer at (1 − α)·a + α·b; with
    ``bn_data`` (training images) its batch-norm statistics are then measured afresh."""
    out = copy.deepcopy(a)
    sb = b.state_dict()
    for name, t in out.state_dict().items():
        if t.is_floating_point():
            t.copy_((1 - alpha) * t + alpha * sb[name].to(t.device))
    return recompute_batchnorm(out, bn_data) if bn_data is not None else out


def interpolation_curve(
    a: nn.Module,
    b: nn.Module,
    alphas: Sequence[float],
    splits: Mapping[str, Split],
    cfg: TrainConfig = TrainConfig(),  # noqa: B008 (frozen: one shared instance is safe)
    bn_data: Split | None = None,
) -> dict[str, list[float]]:
    """Loss (and accuracy) on each split at every α: ``{"alpha", "<split>_loss", "<split>_acc"}``.
    Models with batch norm need ``bn_data`` (training images) to re-estimate their statistics."""
    if bn_data is None and any(isinstance(m, _NORMS) for m in a.modules()):
        raise ValueError(
            "interpolating models with batch norm: pass bn_data (training images) so that "
            "the running statistics are recomputed at every α"
        )
    curve: dict[str, list[float]] = {"alpha": [float(x) for x in alphas]}
    for alpha in alphas:
        model = interpolate(a, b, float(alpha), bn_data)
        for split, data in splits.items():
            for k, v in evaluate(model, data, cfg).items():
                curve.setdefault(f"{split}_{k}", []).append(v)
    return curve
