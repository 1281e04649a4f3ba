"""The training recipe as one frozen dataclass; experiment configs extend it."""

from __future__ import annotations

import math

import torch

from ..core.trainconfig import TrainConfig  # its own module: the report reads its defaults without torch

__all__ = ["TrainConfig", "l1_penalty", "loss_fn", "lr_factor", "make_optimizer"]


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    """``params``: parameters, or groups ``{"params": [...], "lr_scale": 0.1}`` (a lower learning
    rate for a pretrained backbone, say); every group follows the same schedule."""
    params = list(params)
    if params and isinstance(params[0], dict):
        params = [
            {**{k: v for k, v in g.items() if k != "lr_scale"}, "lr": cfg.lr * g.get("lr_scale", 1.0)} for g in params
        ]
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0, weight_decay=cfg.weight_decay
        )
    raise ValueError(f"unknown optimizer {cfg.optimizer!r} (adam, adamw, sgd)")


def lr_factor(cfg: TrainConfig, steps_per_epoch: int):
    """Multiplier of the peak learning rate at each optimiser step (for LambdaLR)."""
    total = max(cfg.epochs * steps_per_epoch, 1)
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    if cfg.schedule not in ("constant", "cosine", "linear", "step"):
        raise ValueError(f"unknown schedule {cfg.schedule!r} (constant, cosine, linear, step)")

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        t = (step - warmup) / max(total - warmup, 1)
        if cfg.schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))
        if cfg.schedule == "linear":
            return max(1.0 - t, 0.0)
        if cfg.schedule == "step":
            return 0.1 ** ((t >= 0.5) + (t >= 0.75))
        return 1.0

    return factor


def loss_fn(cfg: TrainConfig):
    if cfg.loss == "cross_entropy":
        return torch.nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    if cfg.loss == "mse":
        return torch.nn.MSELoss()
    raise ValueError(f"unknown loss {cfg.loss!r} (cross_entropy, mse)")


def l1_penalty(model: torch.nn.Module) -> torch.Tensor:
    """Σ|w| over weight tensors (dim > 1): its gradient is sign(w), so λ·penalty adds λ·sign(w)."""
    return sum(p.abs().sum() for p in model.parameters() if p.dim() > 1)
