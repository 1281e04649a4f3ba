"""What the experiments of this report share: CIFAR-10 as GAN pixels, the reference features of
EXP01, and image-grid figures."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from dljournal.data import Dataset, Split
from matplotlib.ticker import MaxNLocator

from dljournal.viz import WIDTH, Draw, plt

REPORT = "cpsc8430_hw3"
DATASET = "cifar10"
JPEG_NOTE = ("CIFAR-10 images are the shared JPEG quality-75 re-encodings of the originals (all 60,000 real "
             "images, not byte-exact), for training and as the real side of every distance.")


def pixels(ds: Dataset, split: Split) -> Split:
    """A split of ``ds`` as GAN pixels in [-1, 1]: the dataset's normalisation undone. The smoke
    profile's synthetic stand-in has no pixel statistics; it is scaled into [-1, 1] as a whole."""
    x = split.x.float()
    if "mean" in ds.meta:
        mean = torch.tensor(ds.meta["mean"], device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(ds.meta["std"], device=x.device).view(1, -1, 1, 1)
        x = (x * std + mean).clamp(0, 1) * 2 - 1
    else:
        x = (x - x.min()) / (x.max() - x.min()) * 2 - 1
    return Split(x.contiguous(), split.y)


def as_uint8(split: Split) -> torch.Tensor:
    """GAN pixels in [-1, 1] -> uint8 images, as the real side of a Fréchet distance sees them."""
    return ((split.x.float().cpu() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def balanced_classes(n: int, num_classes: int) -> torch.Tensor:
    """0, 1, ..., K−1, 0, 1, ...: every class equally often, for a conditional generator."""
    return torch.arange(n) % num_classes


def show_epochs(epochs: int, at_most: int = 10) -> list[int]:
    """Up to ``at_most`` epochs, evenly spread, always the first and the last."""
    return sorted({int(round(e)) for e in np.linspace(1, epochs, min(epochs, at_most))})


def integer_epochs(draw: Draw) -> Draw:
    """A ``viz`` draw whose x axis counts epochs: integer ticks only."""
    def wrapped(ax) -> None:
        draw(ax)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return wrapped


def image_rows(images: torch.Tensor, row_labels: Sequence[str], col_labels: Sequence[str] = (),
               cell: float = 0.5) -> plt.Figure:
    """uint8 images (rows, cols, 3, H, W) as one picture, ``cell`` inches per image (at most the
    page width in all), each row labelled on the left (an epoch, a class, a variant) and, optionally,
    each column on top."""
    from torchvision.utils import make_grid

    rows, cols, _, h, w = images.shape
    pad = 2
    grid = make_grid(images.flatten(0, 1), nrow=cols, padding=pad, pad_value=255)  # (3, H', W')
    width = min(WIDTH, cell * cols)
    top = 0.45 if col_labels else 0.0  # room for slanted column labels
    fig, ax = plt.subplots(figsize=(width + 0.9, width * grid.shape[1] / grid.shape[2] + top))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_yticks([pad + r * (h + pad) + h / 2 for r in range(rows)], list(row_labels), fontsize=7)
    if col_labels:
        ax.xaxis.tick_top()
        ax.set_xticks([pad + c * (w + pad) + w / 2 for c in range(cols)], list(col_labels), fontsize=6.5,
                      rotation=40, ha="left", rotation_mode="anchor")
    else:
        ax.set_xticks([])
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.tight_layout(pad=0.2)
    return fig
