"""Hyper-parameter studies: optimisation history and one slice per parameter, from trial data
(``tune.plots`` makes the specs), drawn in the report's style instead of Optuna's own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from .registry import register_figure
from .style import WIDTH, plt, tidy


@register_figure("study_history")
def study_history(
    numbers: Sequence[int], values: Sequence[float], maximize: bool = True, ylabel: str = "objective"
) -> plt.Figure:
    """Each finished trial's objective and the best so far."""
    fig, ax = plt.subplots(figsize=(4.8, 3.0))
    ax.scatter(numbers, values, s=14, label="trial", zorder=3)
    best = np.maximum.accumulate(values) if maximize else np.minimum.accumulate(values)
    ax.step(numbers, best, where="post", color="C3", lw=1.3, label="best so far")
    ax.set(xlabel="trial", ylabel=ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="x-small")
    return tidy(fig)


@register_figure("study_slices")
def study_slices(
    points: Mapping[str, Sequence[tuple[float | str, float, int]]], log: Sequence[str] = (), ylabel: str = "objective"
) -> plt.Figure:
    """The objective of every finished trial against each parameter, from ``{parameter: [(value,
    objective, trial number), ...]}`` (a trial without the parameter is left out); colour: trial."""
    fig, axes = plt.subplots(1, len(points), figsize=(WIDTH, 2.8), sharey=True, squeeze=False, layout="constrained")
    last = max((n for pts in points.values() for _, _, n in pts), default=1)
    for ax, (name, pts) in zip(axes[0], points.items()):
        xs, ys, numbers = zip(*pts) if pts else ((), (), ())
        dots = ax.scatter(xs, ys, c=numbers, cmap="Blues", vmin=0, vmax=last, s=14, edgecolors="grey", linewidths=0.3)
        ax.set(xlabel=name, xscale="log" if name in log else "linear")
        ax.tick_params(axis="x", labelsize=6)
    axes[0, 0].set_ylabel(ylabel)
    fig.colorbar(dots, ax=list(axes[0]), label="trial", fraction=0.03, pad=0.02)
    return tidy(fig, layout=False)  # constrained layout leaves room for the shared colour bar
