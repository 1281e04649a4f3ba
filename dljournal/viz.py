"""All plotting, one style. Figure builders return a matplotlib Figure for ``Result.figures``;
``draw_*`` functions return a callable that draws onto one axes, to be combined by ``panels``."""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only; never a window
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.0)
plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 150, "axes.titleweight": "bold",
                     "axes.titlesize": "medium", "legend.frameon": False})

WIDTH = 6.4  # inches: the text width of an A4 page
PANEL_HEIGHT = 2.5

Draw = Callable[[plt.Axes], None]


def _tidy(fig: plt.Figure) -> plt.Figure:
    """Log axes: ticks at 1, 2, 5 × 10^k and no minor labels (the default crowds short ranges)."""
    for ax in fig.axes:
        for axis, scale in ((ax.yaxis, ax.get_yscale()), (ax.xaxis, ax.get_xscale())):
            if scale == "log":
                axis.set_major_locator(mticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=8))
                axis.set_minor_formatter(mticker.NullFormatter())
    fig.tight_layout()
    return fig


def _series(history) -> Mapping[str, Sequence[float]]:
    return history.epochs if hasattr(history, "epochs") else history


def panels(draws: Mapping[str, Draw], ncols: int | None = None, height: float = PANEL_HEIGHT,
           sharey: bool = False) -> plt.Figure:
    """One titled axes per entry of ``draws``, in a grid ``ncols`` wide."""
    items = list(draws.items())
    ncols = ncols or min(len(items), 3)
    nrows = -(-len(items) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(WIDTH, height * nrows), squeeze=False, sharey=sharey)
    for ax, (title, draw) in zip(axes.flat, items):
        draw(ax)
        ax.set_title(title)
    for ax in list(axes.flat)[len(items):]:
        ax.set_visible(False)
    return _tidy(fig)


def draw_curves(histories: Mapping[str, object], metric: str = "loss", logy: bool = False) -> Draw:
    """Train (dashed) and validation (solid) ``metric`` per run, one colour per run."""
    def draw(ax: plt.Axes) -> None:
        for color, (name, h) in zip(sns.color_palette(n_colors=max(len(histories), 1)), histories.items()):
            s = _series(h)
            epochs = s.get("epoch") or range(1, len(s.get(f"train_{metric}", s.get(f"val_{metric}", []))) + 1)
            if f"train_{metric}" in s:
                ax.plot(epochs, s[f"train_{metric}"], "--", color=color, alpha=0.75)
            if f"val_{metric}" in s:
                ax.plot(epochs, s[f"val_{metric}"], "-", color=color, label=name)
            elif f"train_{metric}" in s:
                ax.lines[-1].set(linestyle="-", label=name, alpha=1)
        ax.set(xlabel="epoch", ylabel={"loss": "loss", "acc": "accuracy"}.get(metric, metric))
        if logy:
            ax.set_yscale("log")
        ax.legend(fontsize="x-small")
    return draw


def draw_loss(histories: Mapping[str, object], key: str = "train_loss") -> Draw:
    """One ``key`` series per run against epochs, log scale (e.g. regression losses).

    A value may be a list of histories (seeds): then the median is drawn with a min-max band.
    """
    def draw(ax: plt.Axes) -> None:
        for name, h in histories.items():
            group = h if isinstance(h, (list, tuple)) else [h]
            ys = np.array([_series(g)[key] for g in group])  # (seeds, epochs)
            epochs = np.arange(1, ys.shape[1] + 1)
            line, = ax.plot(epochs, np.median(ys, 0), label=name, lw=1.2)
            if len(group) > 1:
                ax.fill_between(epochs, ys.min(0), ys.max(0), color=line.get_color(), alpha=0.2, lw=0)
        ax.set(xlabel="epoch", ylabel=key.replace("_", " "), yscale="log")
        ax.legend(fontsize="x-small")
    return draw


def draw_fit(x: np.ndarray, truth: np.ndarray, preds: Mapping[str, np.ndarray]) -> Draw:
    """Ground truth (thick black) and each model's prediction over ``x``."""
    def draw(ax: plt.Axes) -> None:
        ax.plot(x, truth, color="black", lw=2.4, alpha=0.8, label="ground truth")
        for name, p in preds.items():
            ax.plot(x, p, lw=1.1, label=name)
        ax.set(xlabel="x", ylabel="y")
        ax.legend(fontsize="x-small")
    return draw


def learning_curves(histories: Mapping[str, object], metrics: Sequence[str] = ("loss", "acc"),
                    logy: bool = False) -> plt.Figure:
    """Loss and accuracy panels, train dashed and validation solid, one colour per run."""
    present = [m for m in metrics if any(f"train_{m}" in _series(h) or f"val_{m}" in _series(h)
                                         for h in histories.values())]
    return panels({m if m != "acc" else "accuracy": draw_curves(histories, m, logy and m == "loss")
                   for m in present}, ncols=len(present))


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[str],
                     title: str = "", normalize: bool = True) -> plt.Figure:
    """Rows: true class, columns: predicted; row-normalised (recall) when ``normalize``."""
    k = len(classes)
    cm = np.zeros((k, k), dtype=float)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    if normalize:
        cm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    size = min(WIDTH * 0.75, 1.4 + 0.38 * k)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    sns.heatmap(cm, annot=k <= 12, fmt=".2f" if normalize else ".0f", cmap="Blues", cbar=False,
                xticklabels=classes, yticklabels=classes, ax=ax, annot_kws={"size": 6},
                vmin=0, vmax=1 if normalize else None, square=True)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def draw_xy(x: Sequence[float], ys: Mapping[str, Sequence[float]], xlabel: str, ylabel: str,
            logx: bool = False, logy: bool = False, marker: str = "o") -> Draw:
    """One line per entry of ``ys`` against ``x``."""
    def draw(ax: plt.Axes) -> None:
        for name, y in ys.items():
            ax.plot(x, y, marker=marker, ms=3, lw=1.2, label=name)
        ax.set(xlabel=xlabel, ylabel=ylabel, xscale="log" if logx else "linear", yscale="log" if logy else "linear")
        if len(ys) > 1:
            ax.legend(fontsize="x-small")
    return draw


def draw_twin(x: Sequence[float], left: Mapping[str, Sequence[float]], right: Mapping[str, Sequence[float]],
              xlabel: str, left_label: str, right_label: str, logx: bool = False, logy: bool = False) -> Draw:
    """``left`` series on the left y-axis (solid), ``right`` on a second y-axis (dashed)."""
    def draw(ax: plt.Axes) -> None:
        other = ax.twinx()
        colors = sns.color_palette(n_colors=len(left) + len(right))
        same = list(left) == list(right)  # the same runs on both axes share their colours
        for c, (name, y) in zip(colors, left.items()):
            ax.plot(x, y, "-", color=c, lw=1.3, label=name if name == left_label else f"{name} {left_label}")
        for c, (name, y) in zip(colors[:len(right)] if same else colors[len(left):], right.items()):
            other.plot(x, y, "--", color=c, lw=1.3, label=name if name == right_label else f"{name} {right_label}")
        ax.set(xlabel=xlabel, ylabel=left_label + " (solid)", xscale="log" if logx else "linear",
               yscale="log" if logy else "linear")
        other.set_ylabel(right_label + " (dashed)")
        other.grid(False)
        lines = ax.get_lines() + other.get_lines()
        ax.legend(lines, [line.get_label() for line in lines], fontsize="x-small", loc="upper center",
                  bbox_to_anchor=(0.5, -0.3), ncol=min(len(lines), 3))
    return draw


def draw_trajectories(coords: Sequence[np.ndarray], labels: Sequence[Sequence[str]] = (),
                      names: Sequence[str] = (), axis_labels: Sequence[str] = ("PC 1", "PC 2")) -> Draw:
    """2-D trajectories, one colour per run; a ring marks the start, each point may carry a label."""
    def draw(ax: plt.Axes) -> None:
        for i, (c, xy) in enumerate(zip(sns.color_palette(n_colors=len(coords)), coords)):
            ax.plot(xy[:, 0], xy[:, 1], "-o", color=c, ms=2.5, lw=1, label=names[i] if names else None)
            ax.plot(xy[0, 0], xy[0, 1], "o", mfc="none", mec=c, ms=7)
            for (px, py), text in zip(xy, labels[i] if labels else ()):
                ax.annotate(text, (px, py), fontsize=4.5, color=c, xytext=(2, 2), textcoords="offset points")
        ax.set(xlabel=axis_labels[0], ylabel=axis_labels[1])
        if names:
            ax.legend(fontsize="x-small")
    return draw


def draw_scatter(x: Sequence[float], y: Sequence[float], xlabel: str, ylabel: str, logy: bool = False) -> Draw:
    def draw(ax: plt.Axes) -> None:
        ax.scatter(x, y, s=14, alpha=0.8)
        ax.set(xlabel=xlabel, ylabel=ylabel, yscale="log" if logy else "linear")
    return draw


def side_by_side(figures_as_draws: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float], bool]]],
                 xlabel: str, height: float = 1.5) -> plt.Figure:
    """Columns of stacked panels sharing x per column: ``{column title: {label: (x, y, log)}}``."""
    cols = list(figures_as_draws.items())
    nrows = max(len(s) for _, s in cols)
    fig, axes = plt.subplots(nrows, len(cols), figsize=(WIDTH, height * nrows), sharex="col", squeeze=False)
    for j, (title, series) in enumerate(cols):
        for i, (label, (x, y, log)) in enumerate(series.items()):
            axes[i, j].plot(x, y, lw=0.7)
            axes[i, j].set(ylabel=label, yscale="log" if log else "linear")
        axes[0, j].set_title(title)
        axes[nrows - 1, j].set_xlabel(xlabel)
    return _tidy(fig)


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


def draw_hist(values: Mapping[str, np.ndarray], xlabel: str, bins: int = 60, logy: bool = True) -> Draw:
    """Overlaid histograms (step lines) of several value sets, e.g. |w| per run."""
    def draw(ax: plt.Axes) -> None:
        all_v = np.concatenate([np.asarray(v).ravel() for v in values.values()])
        edges = np.linspace(0, np.quantile(all_v, 0.999), bins + 1)
        for name, v in values.items():
            ax.hist(np.asarray(v).ravel(), bins=edges, histtype="step", lw=1.2, label=name)
        ax.set(xlabel=xlabel, ylabel="count", yscale="log" if logy else "linear")
        ax.legend(fontsize="x-small")
    return draw


def draw_paths(paths: Mapping[str, tuple[Sequence[float], Sequence[float]]], xlabel: str, ylabel: str,
               logx: bool = False) -> Draw:
    """One line per entry, each with its own x values (e.g. accuracy against elapsed seconds)."""
    def draw(ax: plt.Axes) -> None:
        for name, (x, y) in paths.items():
            ax.plot(x, y, marker="o", ms=2.5, lw=1.2, label=name)
        ax.set(xlabel=xlabel, ylabel=ylabel, xscale="log" if logx else "linear")
        ax.legend(fontsize="x-small")
    return draw


def draw_embedding(xy: np.ndarray, labels: Sequence[int], classes: Sequence[str], legend: bool = False) -> Draw:
    """A 2-D map of samples coloured by class."""
    def draw(ax: plt.Axes) -> None:
        colors = sns.color_palette("tab10" if len(classes) <= 10 else "husl", n_colors=len(classes))
        labels_ = np.asarray(labels)
        for c, name in enumerate(classes):
            sel = labels_ == c
            ax.scatter(xy[sel, 0], xy[sel, 1], s=2, alpha=0.6, color=colors[c], label=name, rasterized=True)
        ax.set_xticks([]), ax.set_yticks([])
        if legend:
            ax.legend(fontsize=5, markerscale=3, loc="best", ncol=2)
    return draw


def draw_bars(labels: Sequence[str], values: Sequence[float], xlabel: str) -> Draw:
    """Horizontal bars, top-down, e.g. the most frequent confusions."""
    def draw(ax: plt.Axes) -> None:
        ax.barh(range(len(values)), values, height=0.7)
        ax.set_yticks(range(len(values)), list(labels), fontsize=6.5)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
    return draw
