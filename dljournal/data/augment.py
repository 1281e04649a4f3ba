"""Augmentation as batched tensor ops on the device (airbench style), not per-sample PIL."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror images left-right: (B, C, H, W) -> (B, C, H, W)."""
    return x.flip(-1)


def random_flip(x: torch.Tensor, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Flip each image left-right with probability ``p``."""
    mask = (torch.rand(len(x), generator=generator) < p).to(x.device).view(-1, 1, 1, 1)
    return torch.where(mask, hflip(x), x)


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Pad each image by ``padding`` zeros (the mean, for normalised data) and cut a random window
    of the original size: (B, C, H, W) -> (B, C, H, W)."""
    if padding == 0:
        return x
    b, c, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)  # (B, C, H + 2p, W + 2p)
    dy = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(x.device)
    rows = (dy.view(b, 1) + torch.arange(h, device=x.device)).view(b, 1, h, 1)
    cols = (dx.view(b, 1) + torch.arange(w, device=x.device)).view(b, 1, 1, w)
    batch = torch.arange(b, device=x.device).view(b, 1, 1, 1)
    chans = torch.arange(c, device=x.device).view(1, c, 1, 1)
    return padded[batch, chans, rows, cols]


@dataclass(frozen=True)
class Augment:
    """The standard CIFAR recipe: random crop with padding, then a random horizontal flip."""

    crop_padding: int = 4
    flip: bool = True

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = random_crop(x, self.crop_padding, generator)
        return random_flip(x, generator) if self.flip else x
