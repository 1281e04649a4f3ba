"""A dry run: a profile's real configuration, cut to a couple of steps on tiny synthetic data.

It proves that a configuration starts and finishes (shapes, config fields, memory layouts, figures,
findings) before anyone spends GPU hours on it. What is cut is what only sets *how much* work there
is, read from the config's field names: epochs, optimisation steps, trials, runs, seeds and sample
counts; intervals (``log_every``) become 1 so that what is logged still is. Everything that sets
*what* is trained (widths, image sizes, batch sizes, learning rates, architectures) stays as the
profile has it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

DRY_RUN_DIR = "dry-run"  # under the build folder: a dry run's results, figures and PDF, apart from real ones
EPOCHS = 2  # epochs of every training: schedules, per-epoch evaluation and callbacks all run
STEPS = 1  # optimisation steps per epoch (TrainConfig.max_steps)
COUNT = 2  # trials of a study, repeated runs, seeds, candidates, steps of an inner loop
SAMPLES = 64  # samples of any subset the config asks for (train, evaluation, features)
HELD_OUT = 16  # samples of a validation or test subset: a training subset keeps some after the split

_EPOCHS = ("epochs",)
_COUNTS = ("_steps", "_trials", "runs", "candidates", "seeds")
_SAMPLES = ("_n_train", "_samples", "_track", "_measured", "_points", "_sizes")


def dry_config(cfg: Any) -> Any:
    """``cfg`` with every amount of work cut (nested config dataclasses too); None stays None."""
    if cfg is None:
        return None
    changes = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes[f.name] = dry_config(value)
        elif f.name == "max_steps":
            changes[f.name] = STEPS
        else:
            cut = _cut(f.name, value)
            if cut is not value:
                changes[f.name] = cut
    return dataclasses.replace(cfg, **changes)


def _cut(name: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, tuple)):
        return value
    if name.endswith(_EPOCHS):
        limit = EPOCHS
    elif name.endswith(_COUNTS):
        limit = COUNT
    elif name in ("n_val", "n_test"):
        limit = HELD_OUT
    elif (name.startswith("n_") or name.endswith(_SAMPLES)) and "batch" not in name:  # batch sizes: the recipe
        limit = SAMPLES
    elif name.endswith("every"):  # log_every, snapshot_every: so that a dry run still logs and snapshots
        return 1 if isinstance(value, int) else value
    else:
        return value
    if isinstance(value, int):
        return min(value, limit)
    if name.endswith("seeds"):
        return value[:limit]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):  # sizes: each cut, kept distinct
        return tuple(sorted({min(v, limit) for v in value}))
    return value
