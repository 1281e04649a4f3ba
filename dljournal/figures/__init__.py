"""Figures: one home for all drawing. Experiments build *specs* with the functions below — the
same arguments as the drawing functions, minus the axes — and return them as data
(``figures={"curves": (viz.learning_curves(histories), "caption")}``); the report draws them at
build time (``render``), so a figure's look is never part of a result's cache key.

Experiments use this package as ``from dljournal import viz``.
"""

from . import charts, curves, images, studies, style  # noqa: F401  (register every kind)
from .charts import confusion_matrix, draw_bars, draw_confusion, draw_embedding, draw_hist
from .curves import (
    draw_curves,
    draw_fit,
    draw_loss,
    draw_paths,
    draw_scatter,
    draw_trajectories,
    draw_twin,
    draw_xy,
    learning_curves,
)
from .images import activation_grid, explanation_grid, frame_grid, image_grid, image_rows, kernel_grid
from .registry import Spec, get_kind, kinds, register_figure, register_panel
from .studies import study_history, study_slices
from .style import PANEL_HEIGHT, WIDTH, panels, side_by_side

__all__ = [
    "PANEL_HEIGHT",
    "WIDTH",
    "Spec",
    "activation_grid",
    "confusion_matrix",
    "draw_bars",
    "draw_confusion",
    "draw_curves",
    "draw_embedding",
    "draw_fit",
    "draw_hist",
    "draw_loss",
    "draw_paths",
    "draw_scatter",
    "draw_trajectories",
    "draw_twin",
    "draw_xy",
    "explanation_grid",
    "frame_grid",
    "get_kind",
    "image_grid",
    "image_rows",
    "kernel_grid",
    "kinds",
    "learning_curves",
    "panels",
    "register_figure",
    "register_panel",
    "side_by_side",
    "study_history",
    "study_slices",
]
