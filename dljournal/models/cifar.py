"""Small networks for 32×32 colour images (CIFAR-10), sized for CPU budgets."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from . import register_model
from .mlp import MLP


class CifarCNN(nn.Module):
    """Stages of convolutions, each closed by 2×2 max pooling and doubling the channels, then dropout
    and a linear classifier. The default (``convs=(2, 2, 1)``): conv-conv-pool, conv-conv-pool,
    conv-pool; ``kernel`` sets every convolution's size."""

    def __init__(
        self,
        width: int = 16,
        dropout: float = 0.0,
        batch_norm: bool = False,
        num_classes: int = 10,
        convs: tuple[int, ...] = (2, 2, 1),
        kernel: int = 3,
    ):
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [
                nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=not batch_norm),
                *([nn.BatchNorm2d(c_out)] if batch_norm else []),
                nn.ReLU(inplace=True),
            ]

        layers: list[nn.Module] = []
        c_in, c_out = 3, width
        for n in convs:  # each stage: (B, c_in, S, S) -> (B, c_out, S/2, S/2)
            for i in range(n):
                layers += block(c_in if i == 0 else c_out, c_out)
            layers.append(nn.MaxPool2d(2))
            c_in, c_out = c_out, 2 * c_out
        self.features = nn.Sequential(*layers)
        side = 32 // 2 ** len(convs)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c_in * side * side, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register_model(input_shape=(3, 32, 32), output_dim=10)
def cifar_cnn(**kwargs) -> CifarCNN:
    return CifarCNN(**kwargs)


@register_model(input_shape=(3, 32, 32), output_dim=10)
def cifar_mlp(hidden: Sequence[int] = (512, 256), activation: str = "relu", dropout: float = 0.0) -> MLP:
    return MLP(3 * 32 * 32, hidden, 10, activation, dropout)
