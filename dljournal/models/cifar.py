"""Small networks for 32×32 colour images (CIFAR-10), sized for CPU budgets."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from . import register_model
from .mlp import MLP


class CifarCNN(nn.Module):
    """Two conv-conv-pool stages and a conv-pool stage, then dropout and a linear classifier."""

    def __init__(self, width: int = 16, dropout: float = 0.0, batch_norm: bool = False, num_classes: int = 10):
        super().__init__()
        w = width

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm),
                    *([nn.BatchNorm2d(c_out)] if batch_norm else []), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(3, w), *block(w, w), nn.MaxPool2d(2),              # (B, 3, 32, 32) -> (B, w, 16, 16)
            *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),  # -> (B, 2w, 8, 8)
            *block(2 * w, 4 * w), nn.MaxPool2d(2),                    # -> (B, 4w, 4, 4)
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(4 * w * 16, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register_model(input_shape=(3, 32, 32), output_dim=10)
def cifar_cnn(width: int = 16, dropout: float = 0.0, batch_norm: bool = False, num_classes: int = 10) -> CifarCNN:
    return CifarCNN(width, dropout, batch_norm, num_classes)


@register_model(input_shape=(3, 32, 32), output_dim=10)
def cifar_mlp(hidden: Sequence[int] = (512, 256), activation: str = "relu", dropout: float = 0.0) -> MLP:
    return MLP(3 * 32 * 32, hidden, 10, activation, dropout)
