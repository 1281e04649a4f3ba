"""Synthetic stand-ins of the real datasets: same shapes and classes, learnable, tiny."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .tensors import Dataset, Normalisation, Split


def prototype_images(
    shape: tuple[int, ...], classes: tuple[str, ...], n_train: int, n_test: int, seed: int = 0, name: str = "synthetic"
) -> Dataset:
    """Each class is a smooth random prototype; samples are shifted, noisy copies of it.

    Learnable well above chance in a few epochs, but not from one pixel, so a broken model or
    training loop shows up as chance accuracy.
    """
    g = torch.Generator().manual_seed(seed)
    c, h, w = shape
    k = len(classes)
    coarse = torch.randn(k, c, max(h // 4, 2), max(w // 4, 2), generator=g)
    protos = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)  # (K, C, H, W)

    def sample(n: int) -> Split:
        y = torch.arange(n) % k
        y = y[torch.randperm(n, generator=g)]
        x = protos[y]
        shifts = torch.randint(-2, 3, (n, 2), generator=g)
        x = torch.stack([torch.roll(xi, (int(s[0]), int(s[1])), dims=(1, 2)) for xi, s in zip(x, shifts)])
        x = x + 0.8 * torch.randn(x.shape, generator=g)
        return Split(x.float(), y.long())

    # the statistics a real loader records, chosen so that un-normalised pixels land mostly in [0, 1]
    norm = Normalisation((0.5,) * c, (0.25,) * c)
    return Dataset(
        name,
        sample(n_train),
        sample(n_test),
        classes,
        source=f"synthetic stand-in ({n_train} train / {n_test} test, shape {tuple(shape)}), not real data",
        synthetic=True,
        norm=norm,
    )
