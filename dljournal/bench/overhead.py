"""The engine's per-step overhead on a tiny model: HW1 EXP01's MLP (571 parameters, 1,000 points,
batch 128), where a step is microseconds of compute and any Python around it shows."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from ..data import sample_function
from ..models import create_model
from ..train import TrainConfig, fit, seed_everything

# EXP01's recipe (float32: its fits reach an MSE of 1e-5, and bf16 would not pay on 571 parameters)
CFG = TrainConfig(loss="mse", epochs=400, batch_size=128, lr=1e-2, schedule="cosine", amp=False)
HIDDEN = {"shallow": (190,), "deep": (5, 10, 10, 10, 10, 10, 5)}


def bare_loop(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig) -> float:
    """The least a loop can do: shuffle, slice, forward, backward, Adam; no schedule, no logs."""
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    generator = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            loss = F.mse_loss(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - t0


def overhead(cfg: TrainConfig = CFG) -> dict:
    """Steps per second of ``fit`` and of the bare loop, per model; overhead = bare / engine speed."""
    train = sample_function("sinc", 1000)
    steps = cfg.epochs * train.num_batches(cfg.batch_size)
    fit(create_model("fn_mlp", hidden=(8,)), (train, None), TrainConfig(loss="mse", epochs=2))  # one-off imports
    out = {}
    for name, hidden in HIDDEN.items():
        seed_everything(0)
        model = create_model("fn_mlp", hidden=hidden, activation="leaky_relu")
        engine = sum(fit(model, (train, None), cfg).epochs["seconds"])
        seed_everything(0)
        model = create_model("fn_mlp", hidden=hidden, activation="leaky_relu")
        bare = bare_loop(model, train.x, train.y, cfg)
        out[name] = {
            "hidden": list(hidden),
            "steps": steps,
            "engine_steps_per_s": round(steps / engine, 1),
            "bare_steps_per_s": round(steps / bare, 1),
            "overhead": round(engine / bare, 3),
        }
    return out
