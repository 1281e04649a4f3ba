"""Training: one ``fit`` for every experiment, its recipe, callbacks and seeding."""

from __future__ import annotations

import random

import numpy as np
import torch

from .callbacks import GradNorm, KeepBest, WeightSnapshots
from .config import TrainConfig
from .loop import Callback, Diverged, FitState, History, evaluate, fit, pick_device, predict
from .step import Logs, Means, Step, Supervised

__all__ = [
    "Logs",
    "Means",
    "Step",
    "Supervised",
    "TrainConfig",
    "Diverged",
    "fit",
    "evaluate",
    "predict",
    "History",
    "FitState",
    "Callback",
    "GradNorm",
    "KeepBest",
    "WeightSnapshots",
    "pick_device",
    "seed_everything",
    "count_params",
    "count_layers",
]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_layers(model: torch.nn.Module, kind: type) -> int:
    """How many submodules of ``kind`` (e.g. ``nn.Conv2d``) the model has."""
    return sum(isinstance(m, kind) for m in model.modules())
