"""Linear interpolation between two trained models: θ(α) = (1 − α)·θ₁ + α·θ₂."""
from __future__ import annotations

import copy
from typing import Mapping, Sequence

import torch
from torch import nn

from ..data.tensors import Split
from ..train.config import TrainConfig
from ..train.loop import evaluate


@torch.no_grad()
def interpolate(a: nn.Module, b: nn.Module, alpha: float) -> nn.Module:
    """A new model with every floating-point parameter and buffer at (1 − α)·a + α·b."""
    out = copy.deepcopy(a)
    sb = b.state_dict()
    for name, t in out.state_dict().items():
        if t.is_floating_point():
            t.copy_((1 - alpha) * t + alpha * sb[name].to(t.device))
    return out


def interpolation_curve(a: nn.Module, b: nn.Module, alphas: Sequence[float], splits: Mapping[str, Split],
                        cfg: TrainConfig = TrainConfig()) -> dict[str, list[float]]:
    """Loss (and accuracy) on each split at every α: ``{"alpha", "<split>_loss", "<split>_acc"}``."""
    curve: dict[str, list[float]] = {"alpha": [float(x) for x in alphas]}
    for alpha in alphas:
        model = interpolate(a, b, float(alpha))
        for split, data in splits.items():
            for k, v in evaluate(model, data, cfg).items():
                curve.setdefault(f"{split}_{k}", []).append(v)
    return curve
