"""All plotting, one style (``style``): curves, charts, images. ``from dljournal import viz`` and use
``viz.panels({...: viz.draw_xy(...)})``, ``viz.learning_curves(...)``, ``viz.confusion_matrix(...)``."""
from .charts import confusion_matrix, draw_bars, draw_embedding, draw_hist
from .curves import (draw_curves, draw_fit, draw_loss, draw_paths, draw_scatter, draw_trajectories, draw_twin,
                     draw_xy, learning_curves)
from .images import _normalise, activation_grid, kernel_grid
from .style import PANEL_HEIGHT, WIDTH, Draw, panels, plt, side_by_side

__all__ = ["Draw", "PANEL_HEIGHT", "WIDTH", "activation_grid", "confusion_matrix", "draw_bars", "draw_curves", "draw_embedding", "draw_fit", "draw_hist", "draw_loss", "draw_paths", "draw_scatter", "draw_trajectories", "draw_twin", "draw_xy", "kernel_grid", "learning_curves", "panels", "plt", "side_by_side"]
