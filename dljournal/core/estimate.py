"""How much work a profile is, from its dry run: the optimisation steps and seconds per step measured
there, scaled by what the dry run cut (``core.dryrun``).

The scale is read from the experiment's config: epochs, batches per epoch (its training subset, or
the dataset's real training set, over its batch size) and repeats (seeds, trials, runs). It is a
rough estimate: trainings whose epochs come from other fields (a probe's, a study's), evaluation
and feature extraction are not scaled, and Keras trainings are not counted.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..train.loop import Callback, FitState
from .dryrun import STEPS, dry_config

# training images of each dataset's real training set (../shared/data/MANIFEST.md); the KTH clips
# differ between machines, so they have none
TRAIN_SIZES = {
    "mnist": 60_000,
    "fashion_mnist": 60_000,
    "cifar10": 50_000,
    "cifar100": 50_000,
    "dogs": 1_200,
    "mlds_hw2": 1_450,
}


class StepCounter(Callback):
    """Counts what a dry run trained: trainings, optimisation steps, samples and training seconds."""

    def __init__(self) -> None:
        self.trainings = self.steps = self.samples = 0
        self.seconds = 0.0

    def on_fit_end(self, state: FitState) -> None:
        self.trainings += 1
        self.steps += state.step
        self.samples += state.step * getattr(state.cfg, "batch_size", 1)
        self.seconds += float(sum(state.history.epochs.get("seconds", [])))

    def as_dict(self) -> dict[str, float]:
        return dict(trainings=self.trainings, steps=self.steps, samples=self.samples, seconds=round(self.seconds, 3))


def scale(full: Any, data: tuple[str, ...]) -> tuple[float, bool]:
    """How many times the dry run's steps the configuration ``full`` takes, and whether every factor
    was known (a dataset without a known size counts one batch per epoch)."""
    if full is None:
        return 1.0, True
    nested = [getattr(full, f.name) for f in dataclasses.fields(full)]
    nested = [c for c in nested if dataclasses.is_dataclass(c) and not isinstance(c, type)]
    if not hasattr(full, "epochs") and nested:  # a config of configs: its largest part
        return max((scale(c, data) for c in nested), key=lambda s: s[0])
    dry = dry_config(full)
    factor = _ratio(getattr(full, "epochs", 1), getattr(dry, "epochs", 1))
    for f in dataclasses.fields(full):
        if f.name == "seeds" or f.name.endswith(("_trials", "runs")):
            factor *= _ratio(getattr(full, f.name), getattr(dry, f.name))
    n = getattr(full, "n_train", None) or (TRAIN_SIZES.get(data[0]) if data else None)
    batches = math.ceil(n / getattr(full, "batch_size", 1)) if n else STEPS
    return factor * batches / STEPS, n is not None


def _ratio(full: Any, dry: Any) -> float:
    size = len if isinstance(full, tuple) else int
    return max(size(full), 1) / max(size(dry), 1)


@dataclass(frozen=True)
class Estimate:
    steps: int
    samples: int
    seconds: float  # on the dry run's device, at its measured seconds per step
    device: str
    known: bool  # False: a dataset's size was unknown, so this is a lower bound

    def row(self) -> dict[str, str]:
        bound = "" if self.known else "≥ "
        return {
            "est. steps": f"{bound}{self.steps:,}",
            "est. samples": f"{bound}{self.samples:,}",
            f"est. time ({self.device})": f"{bound}{_duration(self.seconds)}",
        }


def estimate(full: Any, data: tuple[str, ...], dry_run: dict[str, Any]) -> Estimate | None:
    """The work of ``full`` from a dry run's result (its ``dry_run`` counts and provenance)."""
    counts = dry_run.get("dry_run") or {}
    if not counts.get("steps"):
        return None
    factor, known = scale(full, data)
    per_step = counts["seconds"] / counts["steps"]
    steps = round(counts["steps"] * factor)
    return Estimate(steps, round(counts["samples"] * factor), steps * per_step, dry_run["provenance"]["device"], known)


def _duration(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours >= 1 else f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
