"""Moving MNIST (Srivastava et al., 2015), generated from real digits rather than downloaded.

Each sequence places ``digits_per_seq`` digits on a black canvas and moves each one in a straight
line at a fixed speed, bouncing off the edges; overlapping digits combine by the pixel-wise
maximum. Nothing is registered here: an experiment reads the real "mnist" dataset (or its
synthetic stand-in in the smoke profile) and calls ``moving_mnist`` on its images.
"""

from __future__ import annotations

import math

import torch


def bounce(p: torch.Tensor, limit: float) -> torch.Tensor:
    """Unfold a straight path ``p`` into [0, limit] by mirror reflections off both walls (a
    triangle wave): the closed form of moving at constant speed and bouncing elastically."""
    if limit <= 0:
        return torch.zeros_like(p)
    q = torch.remainder(p, 2 * limit)
    return limit - (q - limit).abs()


def trajectories(n: int, seq_len: int, k: int, limit: float, speed: float, generator: torch.Generator) -> torch.Tensor:
    """Top-left corners of ``k`` bouncing objects per sequence: (n, seq_len, k, 2) as (row, col)."""
    start = torch.rand(n, 1, k, 2, generator=generator) * limit
    angle = torch.rand(n, 1, k, generator=generator) * 2 * math.pi
    velocity = speed * torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1)  # (n, 1, k, 2)
    t = torch.arange(seq_len, dtype=torch.float32).view(1, seq_len, 1, 1)
    return bounce(start + t * velocity, limit)  # (n, T, k, 2)


def paste_max(canvas_size: int, images: torch.Tensor, corners: torch.Tensor) -> torch.Tensor:
    """Draw ``images`` (n, T, k, h, w) with integer top-left ``corners`` (n, T, k, 2) onto black
    (n, T, size, size) canvases, combining overlaps by the maximum; one scatter, no Python loop."""
    n, t, k, h, w = images.shape
    s = canvas_size
    rows = corners[..., 0, None] + torch.arange(h)  # (n, T, k, h)
    cols = corners[..., 1, None] + torch.arange(w)  # (n, T, k, w)
    frame = torch.arange(n * t).view(n, t, 1, 1, 1)  # which canvas each pixel lands on
    flat = frame * s * s + rows[..., :, None] * s + cols[..., None, :]  # (n, T, k, h, w)
    canvas = torch.zeros(n * t * s * s, dtype=images.dtype)
    canvas.scatter_reduce_(0, flat.flatten(), images.flatten(), reduce="amax")
    return canvas.view(n, t, s, s)


def moving_mnist(
    digits: torch.Tensor,
    n: int,
    seq_len: int,
    size: int = 64,
    digits_per_seq: int = 2,
    seed: int = 0,
    speed: float = 3.0,
    chunk: int = 256,
) -> torch.Tensor:
    """``n`` sequences of ``seq_len`` frames: (n, seq_len, 1, size, size), values in [0, 1].

    ``digits``: (M, 1, h, w) or (M, h, w) images with values in [0, 1] (real MNIST: 28 × 28), drawn
    at random with replacement. ``speed`` is in pixels per frame; directions are uniform.
    """
    if digits.dim() == 4:
        digits = digits[:, 0]  # (M, h, w)
    m, h, w = digits.shape
    if max(h, w) > size:
        raise ValueError(f"digits of {h}×{w} do not fit a {size}×{size} canvas")
    g = torch.Generator().manual_seed(seed)
    which = torch.randint(0, m, (n, digits_per_seq), generator=g)
    pos = trajectories(n, seq_len, digits_per_seq, size - max(h, w), speed, g).round().long()  # (n, T, k, 2)
    digits = digits.detach().float().cpu()
    out = torch.empty(n, seq_len, 1, size, size)
    for i in range(0, n, chunk):  # chunks bound the scatter's index tensor (8 bytes per pixel drawn)
        j = min(i + chunk, n)
        images = digits[which[i:j]][:, None].expand(j - i, seq_len, digits_per_seq, h, w)  # (c, T, k, h, w)
        out[i:j, :, 0] = paste_max(size, images, pos[i:j]).clamp_(0, 1)  # (c, T, size, size)
    return out
