"""Lines: learning curves, losses, fitted functions, x–y series, trajectories (panel kinds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.ticker as mticker
import numpy as np
import seaborn as sns

from .registry import register_figure, register_panel
from .style import panels, plt


def _legend(ax: plt.Axes, **kwargs) -> None:
    ax.legend(fontsize="x-small", **kwargs)


@register_panel("curves")
def draw_curves(
    ax: plt.Axes, histories: Mapping[str, Mapping[str, Sequence[float]]], metric: str = "loss", logy: bool = False
) -> None:
    """Train (dashed) and validation (solid) ``metric`` per run, one colour per run."""
    for color, (name, s) in zip(sns.color_palette(n_colors=max(len(histories), 1)), histories.items()):
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
    _legend(ax)


@register_figure("learning_curves")
def learning_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]], metrics: Sequence[str] = ("loss", "acc"), logy: bool = False
) -> plt.Figure:
    """Loss and accuracy panels, train dashed and validation solid, one colour per run."""
    present = [m for m in metrics if any(f"train_{m}" in h or f"val_{m}" in h for h in histories.values())]
    return panels.__wrapped__(
        {m if m != "acc" else "accuracy": draw_curves(histories, m, logy and m == "loss") for m in present},
        ncols=len(present),
    )


@register_panel("loss")
def draw_loss(ax: plt.Axes, histories: Mapping[str, object], key: str = "train_loss") -> None:
    """One ``key`` series per run against epochs, log scale. A value may be a list of histories
    (seeds): then the median is drawn with a min–max band."""
    for name, h in histories.items():
        group = h if isinstance(h, (list, tuple)) else [h]
        ys = np.array([g[key] for g in group], dtype=float)  # (seeds, epochs)
        epochs = np.arange(1, ys.shape[1] + 1)
        (line,) = ax.plot(epochs, np.median(ys, 0), label=name, lw=1.2)
        if len(group) > 1:
            ax.fill_between(epochs, ys.min(0), ys.max(0), color=line.get_color(), alpha=0.2, lw=0)
    ax.set(xlabel="epoch", ylabel=key.replace("_", " "), yscale="log")
    _legend(ax)


@register_panel("fit")
def draw_fit(ax: plt.Axes, x: np.ndarray, truth: np.ndarray, preds: Mapping[str, np.ndarray]) -> None:
    """Ground truth (thick black) and each model's prediction over ``x``."""
    ax.plot(x, truth, color="black", lw=2.4, alpha=0.8, label="ground truth")
    for name, p in preds.items():
        ax.plot(x, p, lw=1.1, label=name)
    ax.set(xlabel="x", ylabel="y")
    _legend(ax)


@register_panel("xy")
def draw_xy(
    ax: plt.Axes,
    x: Sequence[float],
    ys: Mapping[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    marker: str = "o",
    integer_x: bool = False,
) -> None:
    """One line per entry of ``ys`` against ``x``; ``integer_x`` for counts such as epochs."""
    for name, y in ys.items():
        ax.plot(x, y, marker=marker, ms=3, lw=1.2, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, xscale="log" if logx else "linear", yscale="log" if logy else "linear")
    if integer_x:
        ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    if len(ys) > 1:
        _legend(ax)


@register_panel("twin")
def draw_twin(
    ax: plt.Axes,
    x: Sequence[float],
    left: Mapping[str, Sequence[float]],
    right: Mapping[str, Sequence[float]],
    xlabel: str,
    left_label: str,
    right_label: str,
    logx: bool = False,
    logy: bool = False,
) -> None:
    """``left`` series on the left y-axis (solid), ``right`` on a second y-axis (dashed)."""
    other = ax.twinx()
    colors = sns.color_palette(n_colors=len(left) + len(right))
    same = list(left) == list(right)  # the same runs on both axes share their colours
    for c, (name, y) in zip(colors, left.items()):
        ax.plot(x, y, "-", color=c, lw=1.3, label=name if name == left_label else f"{name} {left_label}")
    for c, (name, y) in zip(colors[: len(right)] if same else colors[len(left) :], right.items()):
        other.plot(x, y, "--", color=c, lw=1.3, label=name if name == right_label else f"{name} {right_label}")
    ax.set(
        xlabel=xlabel,
        ylabel=left_label + " (solid)",
        xscale="log" if logx else "linear",
        yscale="log" if logy else "linear",
    )
    other.set_ylabel(right_label + " (dashed)")
    other.grid(False)
    lines = ax.get_lines() + other.get_lines()
    ax.legend(
        lines,
        [line.get_label() for line in lines],
        fontsize="x-small",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.3),
        ncol=min(len(lines), 3),
    )


@register_panel("paths")
def draw_paths(
    ax: plt.Axes,
    paths: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    logx: bool = False,
) -> None:
    """One line per entry, each with its own x values (e.g. accuracy against elapsed seconds)."""
    for name, (x, y) in paths.items():
        ax.plot(x, y, marker="o", ms=2.5, lw=1.2, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, xscale="log" if logx else "linear")
    _legend(ax)


@register_panel("trajectories")
def draw_trajectories(
    ax: plt.Axes,
    coords: Sequence[np.ndarray],
    labels: Sequence[Sequence[str]] = (),
    names: Sequence[str] = (),
    axis_labels: Sequence[str] = ("PC 1", "PC 2"),
) -> None:
    """2-D trajectories, one colour per run; a ring marks the start, each point may carry a label."""
    for i, (c, xy) in enumerate(zip(sns.color_palette(n_colors=len(coords)), coords)):
        xy = np.asarray(xy)
        ax.plot(xy[:, 0], xy[:, 1], "-o", color=c, ms=2.5, lw=1, label=names[i] if names else None)
        ax.plot(xy[0, 0], xy[0, 1], "o", mfc="none", mec=c, ms=7)
        for (px, py), text in zip(xy, labels[i] if labels else ()):
            ax.annotate(text, (px, py), fontsize=4.5, color=c, xytext=(2, 2), textcoords="offset points")
    ax.set(xlabel=axis_labels[0], ylabel=axis_labels[1])
    if names:
        _legend(ax)


@register_panel("scatter")
def draw_scatter(
    ax: plt.Axes, x: Sequence[float], y: Sequence[float], xlabel: str, ylabel: str, logy: bool = False
) -> None:
    ax.scatter(x, y, s=14, alpha=0.8)
    ax.set(xlabel=xlabel, ylabel=ylabel, yscale="log" if logy else "linear")
