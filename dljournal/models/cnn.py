"""Small CNNs for 28x28 grey images (MNIST, FashionMNIST)."""

from __future__ import annotations

import torch
from torch import nn

from . import register_model


def conv_relu(c_in: int, c_out: int, k: int = 3) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.ReLU(inplace=True)]


class ShallowCNN(nn.Module):
    """One wide conv layer, then a linear classifier."""

    def __init__(self, channels: int = 80, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            *conv_relu(1, channels, 5),  # (B, 1, 28, 28) -> (B, C, 28, 28)
            nn.MaxPool2d(4),  # -> (B, C, 7, 7)
        )
        self.head = nn.Linear(channels * 7 * 7, num_classes)  # flatten -> (B, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class DeepCNN(nn.Module):
    """Five narrow conv layers in two stages, then a linear classifier."""

    def __init__(self, width: int = 16, num_classes: int = 10):
        w = width
        super().__init__()
        self.features = nn.Sequential(
            *conv_relu(1, w),
            *conv_relu(w, w),  # (B, 1, 28, 28) -> (B, w, 28, 28)
            nn.MaxPool2d(2),  # -> (B, w, 14, 14)
            *conv_relu(w, 2 * w),
            *conv_relu(2 * w, 2 * w),  # -> (B, 2w, 14, 14)
            nn.MaxPool2d(2),  # -> (B, 2w, 7, 7)
            *conv_relu(2 * w, 2 * w),  # -> (B, 2w, 7, 7)
        )
        self.head = nn.Linear(2 * w * 7 * 7, num_classes)  # flatten -> (B, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


@register_model(input_shape=(1, 28, 28), output_dim=10)
def cnn_shallow(channels: int = 80, num_classes: int = 10) -> ShallowCNN:
    return ShallowCNN(channels, num_classes)


@register_model(input_shape=(1, 28, 28), output_dim=10)
def cnn_deep(width: int = 16, num_classes: int = 10) -> DeepCNN:
    return DeepCNN(width, num_classes)


class SmallCNN(nn.Module):
    """Two conv + pool stages and a small MLP head: the benchmark model."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            *conv_relu(1, 16),
            nn.MaxPool2d(2),  # (B, 1, 28, 28) -> (B, 16, 14, 14)
            *conv_relu(16, 32),
            nn.MaxPool2d(2),  # -> (B, 32, 7, 7)
        )
        self.head = nn.Sequential(nn.Linear(32 * 7 * 7, 64), nn.ReLU(inplace=True), nn.Linear(64, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


@register_model(input_shape=(1, 28, 28), output_dim=10)
def cnn_small(num_classes: int = 10) -> SmallCNN:
    return SmallCNN(num_classes)
