"""``nox -s bench``: every speed figure of the engine, measured in one run and stored in
``build/bench/*.json``. Run it on a quiet machine: two trainings on 2 cores slow each other 4-5×.

- throughput: the engine's ``fit`` vs the PyTorch MNIST example's loop, on the example's own Net
  (compute-bound) and on ``cnn_small`` (data-path-bound); target >= 2.5× on Net, accuracy within 0.3 pt
- overhead: ``fit`` vs a bare loop on HW1 EXP01's 571-parameter MLP; target <= 1.1×
- where the time goes: ``torch.profiler`` over the engine's steps on Net, by group of operators;
  with the throughput figure, the ratio left if all but the convolutions, matmuls and optimiser cost nothing
- rebuild: cached ``run`` + ``build`` of the default report (target <= 3 s) and a PDF after a
  narrative-only or a figure-only edit (target <= 5 s each, nothing re-run)
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import replace
from pathlib import Path

import torch

from ..core.cache import resolve_data_root
from ..core.cores import usable_cores
from ..core.files import atomic_write_text
from ..core.project import Project
from ..data import Dataset, load_dataset
from .overhead import overhead
from .profile import where_time_goes
from .rebuild import cached_rebuild_seconds, edit_rebuild_seconds, figure_edit_rebuild_seconds
from .throughput import CFG, compare


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_bench(project: Project, data_root: Path | None, epochs: int = 1) -> int:
    cfg = replace(CFG, epochs=epochs)
    cache = project.build / "data"
    ds = load_dataset("mnist", data_root=resolve_data_root(project, data_root), cache=cache)
    root = max(cache.glob("MNIST-*/"), key=lambda p: p.stat().st_mtime)  # torchvision's layout of the same files
    machine = {
        "threads": torch.get_num_threads(),
        "cores": usable_cores(),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
    }
    _say(f"MNIST, {epochs} epoch(s) of {len(ds.train):,} images, batch {cfg.batch_size}, {machine['threads']} threads")
    figures = {}
    for name in ("example Net", "cnn_small"):
        r = figures[f"throughput {name}"] = compare(name, ds, root, cfg)
        _say(
            f"{name:12s}: engine {r['engine']['samples_per_s']:6.0f} samples/s ({r['engine']['test_acc']:.2%}), "
            f"example loop {r['example_loop']['samples_per_s']:6.0f} ({r['example_loop']['test_acc']:.2%}): "
            f"{r['speedup']:.2f}× (target >= 2.5× on Net), accuracy {r['acc_gap_pt']:+.2f} pt (target within 0.3)"
        )
    figures["where time goes"] = _where_time_goes(ds, figures["throughput example Net"])
    figures["overhead"] = overhead()
    for name, r in figures["overhead"].items():
        _say(
            f"tiny MLP, {name:7s}: engine {r['engine_steps_per_s']:6.0f} steps/s, bare loop "
            f"{r['bare_steps_per_s']:6.0f}: overhead {r['overhead']:.2f}× (target <= 1.1×)"
        )
    figures["cached rebuild"] = cached_rebuild_seconds(project)
    figures["edit rebuild"] = edit_rebuild_seconds(project)
    figures["figure edit rebuild"] = figure_edit_rebuild_seconds(project)
    for name, target in (("cached rebuild", 3), ("edit rebuild", 5), ("figure edit rebuild", 5)):
        r = figures[name]
        redrawn = f", {r['figures_redrawn']} {r['kind']} figures drawn anew" if "kind" in r else ""
        _say(
            f"{name}: {r['total_seconds']:.1f} s{redrawn} (target <= {target} s)"
            if "total_seconds" in r
            else f"{name}: {r}"
        )
    out = project.build / "bench"
    for name, r in figures.items():
        atomic_write_text(out / f"{name.replace(' ', '_')}.json", json.dumps({**r, "machine": machine}, indent=1))
    _say(f"wrote {len(figures)} files under {out}")
    return 0


WORK = ("convolutions", "matmuls", "optimiser")  # the training's arithmetic; the rest is torch's other kernels


def _where_time_goes(ds: Dataset, throughput: dict) -> dict:
    """The profile of Net's step, and the ratio to the example's loop were the step only its work."""
    r = where_time_goes("example Net", ds)
    work = sum(r["share"][g] for g in WORK)
    work_seconds = work * throughput["engine"]["seconds"]  # the epoch's time, at the profile's shares
    r["work_share"] = round(work, 3)
    r["ratio_if_only_work"] = round(throughput["example_loop"]["seconds"] / work_seconds, 2)
    shares = ", ".join(f"{g} {v:.0%}" for g, v in r["share"].items())
    _say(
        f"example Net, where a step's {r['wall_ms_per_step']:.1f} ms go: {shares}; "
        f"were it only convolutions, matmuls and the optimiser: {r['ratio_if_only_work']:.2f}× the example's loop"
    )
    return r
