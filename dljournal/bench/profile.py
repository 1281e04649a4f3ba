"""Where the engine's training step spends its time on the example's ``Net``: ``torch.profiler``
over a short ``fit``, each operator's own CPU time put in one of a few named groups.

It answers the question a throughput ratio raises: what is left once the data path is gone. On
Net the convolutions and matmuls are the work itself; dropout's random numbers, layout copies and
casts and pooling are torch's own kernels, which the engine cannot skip without changing the model.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch.profiler import ProfilerActivity, profile

from ..data import Dataset
from ..train import fit, seed_everything
from .throughput import CFG, MODELS

# operator name -> group; the first group whose marker is in the name wins
GROUPS = (
    ("convolutions", ("convolution",)),
    ("matmuls", ("aten::mm", "aten::addmm", "aten::bmm")),
    ("dropout's random numbers", ("bernoulli", "aten::rand")),
    ("copies and casts", ("aten::copy_", "aten::_to_copy", "aten::clone")),
    ("pooling", ("max_pool", "avg_pool")),
    ("optimiser", ("adam", "Optimizer.")),
)
STEPS = 60  # profiled training steps, after as many unprofiled ones (oneDNN builds its kernels)


def where_time_goes(name: str, ds: Dataset, steps: int = STEPS) -> dict:
    """Per training step of ``fit`` on model ``name``: wall milliseconds and each group's share of
    the operators' own CPU time (shares sum to 1; "other" holds activations, losses, indexing)."""
    cfg = replace(CFG, epochs=1, schedule="constant")
    part = ds.train.subset(steps * cfg.batch_size, seed=0)
    seed_everything(0)
    model = MODELS[name]()
    fit(model, (part, None), cfg)  # warm-up: the same shapes, so the profiled steps are steady
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        seconds = fit(model, (part, None), cfg).epochs["seconds"][0]
    own: dict[str, float] = {}
    for event in prof.key_averages():
        group = next((g for g, marks in GROUPS if any(m in event.key for m in marks)), "other")
        own[group] = own.get(group, 0.0) + event.self_cpu_time_total
    total = sum(own.values())
    return {
        "model": name,
        "steps": steps,
        "threads": torch.get_num_threads(),
        "wall_ms_per_step": round(1e3 * seconds / steps, 2),
        "share": {g: round(own.get(g, 0.0) / total, 3) for g, _ in (*GROUPS, ("other", ()))},
    }
