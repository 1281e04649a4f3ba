"""A trained model's record: history, test metrics, size and test-set outputs."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .loop import History


@dataclass
class Run:
    name: str
    history: History
    test: dict[str, float]  # loss (and acc) on the test split
    params: int
    outputs: torch.Tensor  # model outputs on the test split (CPU), e.g. for a confusion matrix

    def summary(self) -> dict[str, float]:
        """The numbers a comparison table needs."""
        out = {"params": self.params, "epochs": len(self.history.epochs.get("epoch", [])),
               "seconds_per_epoch": self.history.seconds_per_epoch}
        out.update({f"test_{k}": v for k, v in self.test.items()})
        out.update({k: v for k, v in self.history.final.items() if k.startswith(("val_", "train_"))})
        return out
