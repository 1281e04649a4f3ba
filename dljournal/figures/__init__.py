"""Figures: one home for all drawing. Experiments build *specs* with the functions below — the
same arguments as the drawing functions, minus the axes — and return them as data
(``figures={"curves": (viz.learning_curves(histories), "caption")}``); the report draws them at
build time (``render``), so a figure's look is never part of a result's cache key.

Experiments use this package as ``from dljournal import viz``.
"""

import importlib

# module -> the names it gives the package. Loaded on first use (PEP 562): a build whose figures are
# all drawn already finds their files without importing matplotlib (see ``render``).
_MODULES = {
    "charts": ("confusion_matrix", "draw_bars", "draw_confusion", "draw_embedding", "draw_hist"),
    "curves": (
        "draw_curves",
        "draw_fit",
        "draw_loss",
        "draw_paths",
        "draw_scatter",
        "draw_trajectories",
        "draw_twin",
        "draw_xy",
        "learning_curves",
    ),
    "images": ("activation_grid", "explanation_grid", "frame_grid", "image_grid", "image_rows", "kernel_grid"),
    "registry": ("Spec", "get_kind", "kinds", "register_figure", "register_panel"),
    "studies": ("study_history", "study_slices"),
    "style": ("PANEL_HEIGHT", "WIDTH", "panels", "side_by_side"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
