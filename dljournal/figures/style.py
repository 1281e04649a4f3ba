"""The one style of every figure, and the figure kinds that lay panels out.

Imported at build time only (and for argument checking while experiments run): drawing is
presentation, outside every cache key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only; never a window
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import seaborn as sns

from .registry import Spec, get_kind, register_figure

sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.0)
plt.rcParams.update(
    {
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "axes.titleweight": "bold",
        "axes.titlesize": "medium",
        "legend.frameon": False,
        "svg.fonttype": "none",  # text as text: the PDF draws it with the font, not 1000s of paths
        "svg.hashsalt": "dljournal",
    }
)  # same figure, same bytes

WIDTH = 6.4  # inches: the text width of an A4 page
PANEL_HEIGHT = 2.5


def tidy(fig: plt.Figure, layout: bool = True) -> plt.Figure:
    """Log axes: ticks at 1, 2, 5 × 10^k and no minor labels (the default crowds short ranges);
    then a tight layout unless the figure has its own (``layout=False``)."""
    for ax in fig.axes:
        for axis, scale in ((ax.yaxis, ax.get_yscale()), (ax.xaxis, ax.get_xscale())):
            if scale == "log":
                axis.set_major_locator(mticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=8))
                axis.set_minor_formatter(mticker.NullFormatter())
    if layout:
        fig.tight_layout()
    return fig


@register_figure("panels")
def panels(
    draws: Mapping[str, Spec], ncols: int | None = None, height: float = PANEL_HEIGHT, sharey: bool = False
) -> plt.Figure:
    """One titled axes per entry of ``draws`` (panel specs such as ``draw_xy(...)``), ``ncols`` wide."""
    items = list(draws.items())
    ncols = ncols or min(len(items), 3)
    nrows = -(-len(items) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(WIDTH, height * nrows), squeeze=False, sharey=sharey)
    for ax, (title, panel) in zip(axes.flat, items):
        kind = get_kind(panel.kind)
        if not kind.panel:
            raise TypeError(f"panels: {title!r} is a {panel.kind!r} figure, not a panel")
        kind.draw(ax, **panel.args)
        ax.set_title(title)
    for ax in list(axes.flat)[len(items) :]:
        ax.set_visible(False)
    return tidy(fig)


@register_figure("side_by_side")
def side_by_side(
    columns: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float], bool]]], xlabel: str, height: float = 1.5
) -> plt.Figure:
    """Columns of stacked panels sharing x per column: ``{column title: {label: (x, y, log)}}``."""
    cols = list(columns.items())
    nrows = max(len(s) for _, s in cols)
    fig, axes = plt.subplots(nrows, len(cols), figsize=(WIDTH, height * nrows), sharex="col", squeeze=False)
    for j, (title, series) in enumerate(cols):
        for i, (label, (x, y, log)) in enumerate(series.items()):
            axes[i, j].plot(x, y, lw=0.7)
            axes[i, j].set(ylabel=label, yscale="log" if log else "linear")
        axes[0, j].set_title(title)
        axes[nrows - 1, j].set_xlabel(xlabel)
    return tidy(fig)
