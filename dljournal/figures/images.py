"""Pictures: kernels, activation maps, image grids, heat-map overlays, video frames (raster kinds).

Inputs arrive as numpy arrays in the model's layout, (N, C, H, W). Pictures of data arrive as
pixels in [0, 1] (the experiment undoes its dataset's normalisation: ``ds.norm.undo(x)``); pictures
that are not pixels, such as gradient-ascent inputs, are scaled to their own range (``rescale``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .registry import register_figure
from .style import WIDTH, plt


def _normalise(img: np.ndarray) -> np.ndarray:
    lo, hi = img.min(), img.max()
    return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)


def to_rgb(images: np.ndarray, rescale: bool = False) -> np.ndarray:
    """(B, C, H, W) -> displayable (B, H, W, 3) floats in [0, 1]: pixels as they are (clipped to
    [0, 1]), or with ``rescale`` each image scaled to its own range; grey made RGB."""
    x = np.asarray(images, dtype=np.float32)
    x = np.stack([_normalise(i) for i in x]) if rescale else np.clip(x, 0, 1)
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    return x.transpose(0, 2, 3, 1)


def overlay(rgb: np.ndarray, maps: np.ndarray, image_weight: float = 0.5, saturate: float = 0.99) -> np.ndarray:
    """Heat-maps (B, H, W) in jet colours over their images (B, H, W, 3): each map scaled to [0, 1],
    saturating at its ``saturate`` quantile so that a few extreme pixels (saliency is spiky) do not
    leave the rest invisible (the blend of pytorch-grad-cam's ``show_cam_on_image``)."""
    jet = plt.get_cmap("jet")
    out = []
    for img, m in zip(rgb, np.asarray(maps, dtype=np.float32)):
        m = m - m.min()
        top = np.quantile(m, saturate)
        m = np.clip(m / top, 0, 1) if top > 0 else np.zeros_like(m)
        cam = (1 - image_weight) * jet(m)[..., :3] + image_weight * img
        out.append(cam / cam.max())
    return np.stack(out)


def _grid(nrows: int, ncols: int, height: float, width: float = WIDTH) -> tuple[plt.Figure, np.ndarray]:
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes


@register_figure("kernel_grid", raster=True)
def kernel_grid(weight: np.ndarray, title: str = "", max_kernels: int = 64, ncols: int = 16) -> plt.Figure:
    """Conv kernels (out, in, k, k) as small images: RGB for a 3-channel first layer, else the
    first input channel's kernel in grey; each kernel scaled to its own range."""
    w = np.asarray(weight, dtype=np.float32)[:max_kernels]
    rgb = w.shape[1] == 3
    ncols = min(ncols, len(w))
    nrows = -(-len(w) // ncols)
    fig, axes = _grid(nrows, ncols, WIDTH / ncols * nrows + (0.3 if title else 0))
    for ax, k in zip(axes.flat, w):
        ax.imshow(
            _normalise(k.transpose(1, 2, 0)) if rgb else k[0], cmap=None if rgb else "gray", interpolation="nearest"
        )
    if title:
        fig.suptitle(title, fontsize="small")
    fig.tight_layout(pad=0.2)
    return fig


@register_figure("activation_grid", raster=True)
def activation_grid(images: np.ndarray, activations: Mapping[str, np.ndarray], max_maps: int = 8) -> plt.Figure:
    """One row per image: the input (pixels in [0, 1]), then the first ``max_maps`` feature maps of
    each layer (``activations``: layer name -> (N, channels, h, w))."""
    rgb = to_rgb(images)
    n, ncols = len(rgb), 1 + max_maps * len(activations)
    fig, axes = _grid(n, ncols, WIDTH / ncols * n * 1.05 + 0.3)
    for i in range(n):
        axes[i, 0].imshow(rgb[i])
        col = 1
        for acts in activations.values():
            for m in np.asarray(acts[i])[:max_maps]:
                axes[i, col].imshow(m, cmap="viridis")
                col += 1
    for j, name in enumerate(activations):
        axes[0, 1 + j * max_maps].set_title(name, fontsize="x-small", loc="left")
    axes[0, 0].set_title("input", fontsize="x-small")
    fig.tight_layout(pad=0.2)
    return fig


@register_figure("image_grid", raster=True)
def image_grid(
    images: np.ndarray, titles: Sequence[str] = (), ncols: int = 8, title: str = "", rescale: bool = False
) -> plt.Figure:
    """Images (N, C, H, W) in a grid: pixels in [0, 1], or with ``rescale`` each image scaled to
    its own range (inputs that are not pixels, e.g. the results of ``explain.ascend``)."""
    rgb = to_rgb(images, rescale)
    ncols = min(ncols, len(rgb))
    nrows = -(-len(rgb) // ncols)
    lines = max((t.count("\n") + 1 for t in titles), default=0)  # room for titles of several lines
    fig, axes = _grid(
        nrows, ncols, (WIDTH / ncols + 0.17 * lines + (0.05 if lines else 0)) * nrows + (0.3 if title else 0)
    )
    for i, (ax, img) in enumerate(zip(axes.flat, rgb)):
        ax.imshow(img, interpolation="nearest")
        if i < len(titles):
            ax.set_title(titles[i], fontsize="xx-small")
    if title:
        fig.suptitle(title, fontsize="small")
    fig.tight_layout(pad=0.2)
    return fig


@register_figure("explanation_grid", raster=True)
def explanation_grid(images: np.ndarray, maps: Mapping[str, np.ndarray], row_titles: Sequence[str] = ()) -> plt.Figure:
    """One row per image: the input (pixels in [0, 1]), then each method's heat-map over it (e.g.
    Grad-CAM, saliency)."""
    rgb = to_rgb(images)
    n, ncols = len(rgb), 1 + len(maps)
    fig, axes = _grid(n, ncols, 1.5 * n + 0.2, width=min(WIDTH, 1.5 * ncols))
    overlays = {name: overlay(rgb, m) for name, m in maps.items()}
    for i in range(n):
        axes[i, 0].imshow(rgb[i])
        if row_titles:
            axes[i, 0].set_title(row_titles[i], fontsize="x-small", loc="left")
        for j, name in enumerate(maps, start=1):
            axes[i, j].imshow(overlays[name][i])
    for j, name in enumerate(maps, start=1):
        axes[0, j].set_title(name, fontsize="small")
    fig.tight_layout(pad=0.3)
    return fig


@register_figure("image_rows", raster=True)
def image_rows(
    images: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str] = (), cell: float = 0.5
) -> plt.Figure:
    """uint8 images (rows, cols, 3, H, W) as one picture, ``cell`` inches per image (at most the
    page width), each row labelled on the left (an epoch, a class, a variant), optionally each column on top."""
    images = np.asarray(images)
    rows, cols, c, h, w = images.shape
    pad = 2
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, dtype=np.uint8)
    for r in range(rows):
        for k in range(cols):
            y, x = pad + r * (h + pad), pad + k * (w + pad)
            grid[y : y + h, x : x + w] = images[r, k].transpose(1, 2, 0)
    width = min(WIDTH, cell * cols)
    top = 0.45 if col_labels else 0.0  # room for slanted column labels
    fig, ax = plt.subplots(figsize=(width + 0.9, width * grid.shape[0] / grid.shape[1] + top))
    ax.imshow(grid, interpolation="nearest")
    ax.set_yticks([pad + r * (h + pad) + h / 2 for r in range(rows)], list(row_labels), fontsize=7)
    if col_labels:
        ax.xaxis.tick_top()
        ax.set_xticks(
            [pad + k * (w + pad) + w / 2 for k in range(cols)],
            list(col_labels),
            fontsize=6.5,
            rotation=40,
            ha="left",
            rotation_mode="anchor",
        )
    else:
        ax.set_xticks([])
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.tight_layout(pad=0.2)
    return fig


@register_figure("frame_grid", raster=True)
def frame_grid(rows: Mapping[str, np.ndarray], columns: Sequence[str]) -> plt.Figure:
    """One row of frames per entry (``(T, H, W)`` each, shown on [0, 1]), titled columns."""
    n, t = len(rows), len(columns)
    cell = min(WIDTH / t, 0.75)  # inches per frame
    fig, axes = plt.subplots(n, t, figsize=(cell * t + 0.6, cell * n * 1.08 + 0.2), squeeze=False)
    for i, (label, frames) in enumerate(rows.items()):
        for j in range(t):
            ax = axes[i, j]
            ax.imshow(np.clip(frames[j], 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if j == 0:
                ax.set_ylabel(label, fontsize="x-small")
            if i == 0:
                ax.set_title(columns[j], fontsize="x-small")
    fig.tight_layout(pad=0.2, h_pad=0.1, w_pad=0.1)
    return fig
