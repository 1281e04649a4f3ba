"""Images from inside a network: kernels and activation maps."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import seaborn as sns

from .style import Draw, WIDTH, _series, _tidy, panels, plt  # noqa: F401


def _normalise(img: np.ndarray) -> np.ndarray:
    lo, hi = img.min(), img.max()
    return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)

def kernel_grid(weight, title: str = "", max_kernels: int = 64, ncols: int = 16) -> plt.Figure:
    """Conv kernels (out, in, k, k) as small images: RGB for a 3-channel first layer, else the
    first input channel's kernel in grey; each kernel scaled to its own range."""
    w = weight.detach().float().cpu().numpy()[:max_kernels]
    rgb = w.shape[1] == 3
    n = len(w)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(WIDTH, WIDTH / ncols * nrows + (0.3 if title else 0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, k in zip(axes.flat, w):
        ax.imshow(_normalise(k.transpose(1, 2, 0)) if rgb else k[0], cmap=None if rgb else "gray",
                  interpolation="nearest")
    if title:
        fig.suptitle(title, fontsize="small")
    fig.tight_layout(pad=0.2)
    return fig

def activation_grid(images, activations: Mapping[str, object], max_maps: int = 8,
                    image_mean=None, image_std=None) -> plt.Figure:
    """One row per image: the input, then the first ``max_maps`` feature maps of each layer.

    ``images``: (N, C, H, W) normalised inputs (undone with ``image_mean``/``image_std`` if given);
    ``activations``: layer name -> (N, channels, h, w).
    """
    import torch

    imgs = images.detach().float().cpu()
    if image_mean is not None:
        std, mean = torch.as_tensor(image_std).view(1, -1, 1, 1), torch.as_tensor(image_mean).view(1, -1, 1, 1)
        imgs = imgs * std + mean
    n = len(imgs)
    ncols = 1 + max_maps * len(activations)
    fig, axes = plt.subplots(n, ncols, figsize=(WIDTH, WIDTH / ncols * n * 1.05 + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        img = imgs[i].numpy().transpose(1, 2, 0)
        axes[i, 0].imshow(np.clip(img, 0, 1) if img.shape[2] == 3 else img[..., 0], cmap=None if img.shape[2] == 3 else "gray")
        col = 1
        for name, acts in activations.items():
            for m in acts[i][:max_maps]:
                axes[i, col].imshow(m.numpy(), cmap="viridis")
                col += 1
    col = 1
    for name in activations:
        axes[0, col].set_title(name, fontsize="x-small", loc="left")
        col += max_maps
    axes[0, 0].set_title("input", fontsize="x-small")
    fig.tight_layout(pad=0.2)
    return fig
