"""Benchmark: the engine's ``fit`` against a plain PyTorch-example loop, and a cached rebuild.

Both train the same CNN from the same initial weights for one epoch on MNIST with the same
optimiser, batch size and schedule; only the data path and memory layout differ. The plain loop is
the PyTorch MNIST example's: a DataLoader over ``torchvision.datasets.MNIST`` with ``ToTensor()``
and ``Normalize``.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from .core.cache import resolve_data_root
from .core.files import atomic_write_text
from .core.project import Project
from .data import load_dataset
from .models import create_model
from .train import TrainConfig, evaluate, fit, seed_everything
from .train.config import lr_factor

CFG = TrainConfig(epochs=1, batch_size=64, lr=1e-3, schedule="linear")  # decay to 0: a stable end point


def plain_loop(model: torch.nn.Module, cache: Path, cfg: TrainConfig) -> float:
    """The PyTorch MNIST example's training loop; returns seconds of training."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    loader = torch.utils.data.DataLoader(
        datasets.MNIST(str(cache), train=True, transform=transform), batch_size=cfg.batch_size, shuffle=True
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(cfg, len(loader)))
    model.train()
    t0 = time.perf_counter()
    for _ in range(cfg.epochs):
        for data, target in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(data), target)
            loss.backward()
            optimizer.step()
            scheduler.step()
    return time.perf_counter() - t0


def cached_rebuild_seconds(project: Project) -> dict:
    """Wall time of ``run`` + ``build`` of the default report when every result is cached."""
    cmd = [sys.executable, "-m", "dljournal"]
    build = ["--build-dir", str(project.build)]
    listing = subprocess.run([*cmd, "run", "--list", *build], capture_output=True, text=True)
    if listing.returncode or any(state in listing.stdout for state in (" missing ", " stale ", " corrupt ")):
        return {"skipped": "the default report's quick results are not all cached; run the experiments first"}
    t0 = time.perf_counter()
    subprocess.run([*cmd, "run", *build], check=True, capture_output=True)
    t_run = time.perf_counter() - t0
    subprocess.run([*cmd, "build", *build], check=True, capture_output=True)
    return {
        "run_seconds": round(t_run, 2),
        "build_seconds": round(time.perf_counter() - t0 - t_run, 2),
        "total_seconds": round(time.perf_counter() - t0, 2),
    }


def run_bench(project: Project, data_root: Path | None, epochs: int = 1) -> int:
    cfg = TrainConfig(**{**CFG.__dict__, "epochs": epochs})
    data_root = resolve_data_root(project, data_root)
    cache = project.build / "data"
    ds = load_dataset("mnist", data_root=data_root, cache=cache)
    n = len(ds.train) * epochs
    print(
        f"MNIST, {epochs} epoch(s) of {len(ds.train):,} images, batch {cfg.batch_size}, "
        f"{torch.get_num_threads()} threads, model cnn_small",
        file=sys.stderr,
    )

    seed_everything(0)
    model = create_model("cnn_small")
    t_engine = fit(model, (ds.train, None), cfg).epochs["seconds"]
    engine = {
        "seconds": round(sum(t_engine), 2),
        "samples_per_s": round(n / sum(t_engine), 1),
        "test_acc": evaluate(model, ds.test, cfg)["acc"],
    }
    print(f"engine fit : {engine['samples_per_s']:8.0f} samples/s, test acc {engine['test_acc']:.2%}", file=sys.stderr)

    seed_everything(0)
    model = create_model("cnn_small")  # the same initial weights
    t_plain = plain_loop(model, cache, cfg)
    plain = {
        "seconds": round(t_plain, 2),
        "samples_per_s": round(n / t_plain, 1),
        "test_acc": evaluate(model, ds.test, cfg)["acc"],
    }
    print(f"plain loop : {plain['samples_per_s']:8.0f} samples/s, test acc {plain['test_acc']:.2%}", file=sys.stderr)

    ratio = engine["samples_per_s"] / plain["samples_per_s"]
    gap = 100 * (engine["test_acc"] - plain["test_acc"])
    print(f"speed-up {ratio:.2f}x (target >= 2x), accuracy gap {gap:+.2f} pt (target within 0.3 pt)", file=sys.stderr)
    rebuild = cached_rebuild_seconds(project)
    print(
        "cached run + build: "
        + (
            f"{rebuild['total_seconds']:.1f} s (run {rebuild['run_seconds']:.1f} s, "
            f"build {rebuild['build_seconds']:.1f} s; target <= 10 s)"
            if "total_seconds" in rebuild
            else rebuild["skipped"]
        ),
        file=sys.stderr,
    )
    out = project.build / "bench" / "mnist_fit.json"
    atomic_write_text(
        out,
        json.dumps(
            {
                "config": cfg.__dict__,
                "model": "cnn_small",
                "engine": engine,
                "plain": plain,
                "speedup": round(ratio, 3),
                "acc_gap_pt": round(gap, 3),
                "cached_rebuild": rebuild,
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "machine": platform.machine(),
            },
            indent=1,
        ),
    )
    print(f"wrote {out}", file=sys.stderr)
    return 0
