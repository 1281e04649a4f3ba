"""Charts of counts and classes: confusion matrices, histograms, embeddings, bars."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import seaborn as sns

from .style import Draw, WIDTH, _series, _tidy, panels, plt  # noqa: F401


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
