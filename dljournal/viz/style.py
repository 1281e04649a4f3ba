"""The one style of every figure, and the panel layout that combines ``draw_*`` functions.

Figure builders return a matplotlib Figure for ``Result.figures``; ``draw_*`` functions return a
callable that draws onto one axes, to be combined by ``panels``.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only; never a window
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
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
