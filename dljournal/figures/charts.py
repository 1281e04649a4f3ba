"""Charts of counts and classes: confusion matrices, histograms, embeddings, bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import seaborn as sns

from .registry import register_figure, register_panel
from .style import WIDTH, plt


def _confusion(y_true: Sequence[int], y_pred: Sequence[int], k: int, normalize: bool) -> np.ndarray:
    cm = np.zeros((k, k), dtype=float)
    np.add.at(cm, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm


@register_figure("confusion_matrix")
def confusion_matrix(
    y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[str], title: str = "", normalize: bool = True
) -> plt.Figure:
    """Rows: true class, columns: predicted; row-normalised (recall) when ``normalize``."""
    k = len(classes)
    cm = _confusion(y_true, y_pred, k, normalize)
    size = min(WIDTH * 0.75, 1.4 + 0.38 * k)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    sns.heatmap(
        cm,
        annot=k <= 12,
        fmt=".2f" if normalize else ".0f",
        cmap="Blues",
        cbar=False,
        xticklabels=classes,
        yticklabels=classes,
        ax=ax,
        annot_kws={"size": 6},
        vmin=0,
        vmax=1 if normalize else None,
        square=True,
    )
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


@register_panel("confusion")
def draw_confusion(ax: plt.Axes, y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[str]) -> None:
    """A confusion matrix in percent of each true class (recall) on one axes of ``panels``
    (``confusion_matrix`` makes a figure of its own: three models would take three)."""
    cm = 100 * _confusion(y_true, y_pred, len(classes), normalize=True)
    sns.heatmap(
        cm,
        annot=True,
        fmt=".0f",
        cmap="Blues",
        cbar=False,
        vmin=0,
        vmax=100,
        square=True,
        xticklabels=classes,
        yticklabels=classes,
        annot_kws={"size": 6},
        ax=ax,
    )
    ax.set(xlabel="predicted", ylabel="true")
    ax.tick_params(labelsize=6)


@register_panel("hist")
def draw_hist(ax: plt.Axes, values: Mapping[str, np.ndarray], xlabel: str, bins: int = 60, logy: bool = True) -> None:
    """Overlaid histograms (step lines) of several value sets, e.g. |w| per run."""
    all_v = np.concatenate([np.asarray(v).ravel() for v in values.values()])
    edges = np.linspace(0, np.quantile(all_v, 0.999), bins + 1)
    for name, v in values.items():
        ax.hist(np.asarray(v).ravel(), bins=edges, histtype="step", lw=1.2, label=name)
    ax.set(xlabel=xlabel, ylabel="count", yscale="log" if logy else "linear")
    ax.legend(fontsize="x-small")


@register_panel("embedding")
def draw_embedding(
    ax: plt.Axes, xy: np.ndarray, labels: Sequence[int], classes: Sequence[str], legend: bool = False
) -> None:
    """A 2-D map of samples coloured by class (points rasterised inside the vector figure)."""
    colors = sns.color_palette("tab10" if len(classes) <= 10 else "husl", n_colors=len(classes))
    xy, labels_ = np.asarray(xy), np.asarray(labels)
    for c, name in enumerate(classes):
        sel = labels_ == c
        ax.scatter(xy[sel, 0], xy[sel, 1], s=2, alpha=0.6, color=colors[c], label=name, rasterized=True)
    ax.set_xticks([]), ax.set_yticks([])
    if legend:
        ax.legend(fontsize=5, markerscale=3, loc="best", ncol=2)


@register_panel("bars")
def draw_bars(
    ax: plt.Axes,
    labels: Sequence[str | int],
    values: Sequence[float],
    xlabel: str,
    ylabel: str = "",
    horizontal: bool = True,
) -> None:
    """Bars of ``values`` per label: horizontal ones read top-down (words, confused pairs)."""
    if horizontal:
        ax.barh(range(len(values)), values, height=0.7)
        ax.set_yticks(range(len(values)), [str(label) for label in labels], fontsize=6.5)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
    else:
        ax.bar(list(labels), values, width=0.85)
        ax.grid(axis="x", visible=False)
    ax.set(xlabel=xlabel, ylabel=ylabel)
