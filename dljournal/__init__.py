"""dljournal: an experiment journal as code.

Experiments are decorated functions ``(ctx) -> Result``; the runner caches their results, the
report builder merges them with the markdown journal into a PDF.
"""

from . import (
    figures as viz,  # figure specs: what to draw; the report draws them at build time
)
from .core.context import Context
from .core.profiles import Recipe
from .core.registry import experiment
from .core.result import Result
from .train import TrainConfig, count_params, evaluate, fit, predict

__all__ = [
    "viz",
    "experiment",
    "Recipe",
    "Result",
    "Context",
    "TrainConfig",
    "fit",
    "evaluate",
    "predict",
    "count_params",
]
__version__ = "0.1.0"
