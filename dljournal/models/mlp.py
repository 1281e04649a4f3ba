"""Fully connected networks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from . import register_model

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "elu": nn.ELU}


class MLP(nn.Module):
    """in_features -> hidden[0] -> ... -> hidden[-1] -> out_features, activation between layers."""

    def __init__(
        self, in_features: int, hidden: Sequence[int], out_features: int, activation: str = "relu", dropout: float = 0.0
    ):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]  # (B, *shape) -> (B, in_features)
        widths = [in_features, *hidden]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(widths[-1], out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def mlp_params(in_features: int, hidden: Sequence[int], out_features: int) -> int:
    widths = [in_features, *hidden, out_features]
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


@register_model(input_shape=(1,), output_dim=1)
def fn_mlp(hidden: Sequence[int] = (190,), activation: str = "relu") -> MLP:
    """A scalar-to-scalar MLP for function fitting."""
    return MLP(1, hidden, 1, activation)


@register_model(input_shape=(1, 28, 28), output_dim=10)
def mnist_mlp(hidden: Sequence[int] = (256, 128), activation: str = "relu", dropout: float = 0.0) -> MLP:
    return MLP(28 * 28, hidden, 10, activation, dropout)
