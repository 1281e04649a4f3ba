"""One-dimensional target functions for the function-fitting experiments (CPSC-8430 HW1)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .tensors import Split


def sinc5(x: torch.Tensor) -> torch.Tensor:
    """sin(5πx) / (5πx), with its limit 1 at x = 0."""
    return torch.sinc(5 * x)  # torch.sinc(t) = sin(πt)/(πt), defined at 0


def sign_sin5(x: torch.Tensor) -> torch.Tensor:
    """sgn(sin(5πx)); sgn(0) = 0 as usual."""
    return torch.sign(torch.sin(5 * math.pi * x))


FUNCTIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], str]] = {
    "sinc": (sinc5, "sin(5πx) / (5πx)"),
    "sign": (sign_sin5, "sgn(sin(5πx))"),
}


def sample_function(name: str, n: int, lo: float = -1.0, hi: float = 1.0) -> Split:
    """``n`` evenly spaced points on [lo, hi] as a regression split of shape (n, 1)."""
    fn = FUNCTIONS[name][0]
    x = torch.linspace(lo, hi, n).unsqueeze(1)  # (n, 1)
    return Split(x, fn(x))
