"""A trained model's record: history, test metrics, size and test-set outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .loop import History


@dataclass
class Run:
    name: str
    history: History
    test: dict[str, float]  # loss (and acc) on the test split
    params: int
    outputs: torch.Tensor  # model outputs on the test split (CPU), e.g. for a confusion matrix
    model: nn.Module | None = None  # the trained model (kept in memory, never stored)
    extra: dict[str, float] = field(default_factory=dict)  # further per-run numbers for tables

    def summary(self) -> dict[str, float]:
        """The numbers a comparison table needs."""
        out = {
            "params": self.params,
            "epochs": len(self.history.epochs.get("epoch", [])),
            "seconds_per_epoch": self.history.seconds_per_epoch,
        }
        out.update({f"test_{k}": v for k, v in self.test.items()})
        out.update({k: v for k, v in self.history.final.items() if k.startswith(("val_", "train_"))})
        out.update(self.extra)
        return out

    def seconds_to(self, metric: str, target: float) -> float:
        """Training seconds until ``metric`` (e.g. val_acc) first reached ``target``; NaN if never."""
        elapsed = 0.0
        for value, seconds in zip(self.history.epochs.get(metric, []), self.history.epochs.get("seconds", [])):
            elapsed += seconds
            if value >= target:
                return elapsed
        return float("nan")
