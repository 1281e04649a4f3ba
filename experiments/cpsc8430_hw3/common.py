"""What the experiments of this report share: CIFAR-10 as GAN pixels, the reference features of
EXP01."""

from __future__ import annotations

import numpy as np
import torch

from dljournal.data import Dataset, Split

DATASET = "cifar10"
JPEG_NOTE = (
    "CIFAR-10 images are the shared JPEG quality-75 re-encodings of the originals (all 60,000 real "
    "images, not byte-exact), for training and as the real side of every distance."
)


def pixels(ds: Dataset, split: Split) -> Split:
    """A split of ``ds`` as GAN pixels in [-1, 1]: the dataset's normalisation undone."""
    return Split((ds.norm.undo(split.x.float()) * 2 - 1).contiguous(), split.y)


def as_uint8(split: Split) -> torch.Tensor:
    """GAN pixels in [-1, 1] -> uint8 images, as the real side of a Fréchet distance sees them."""
    return ((split.x.float().cpu() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def balanced_classes(n: int, num_classes: int) -> torch.Tensor:
    """0, 1, ..., K−1, 0, 1, ...: every class equally often, for a conditional generator."""
    return torch.arange(n) % num_classes


def show_epochs(epochs: int, at_most: int = 10) -> list[int]:
    """Up to ``at_most`` epochs, evenly spread, always the first and the last."""
    return sorted({int(round(e)) for e in np.linspace(1, epochs, min(epochs, at_most))})
