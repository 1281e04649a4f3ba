"""Compute-bound throughput: the engine's ``fit`` against the PyTorch MNIST example's own loop.

Both train the same model from the same initial weights for the same epochs on MNIST with the same
optimiser (Adam), batch size (64) and schedule; only the loop differs. The example's loop is
``pytorch/examples/mnist``: a DataLoader over ``torchvision.datasets.MNIST`` with ``ToTensor()``
and ``Normalize``, float32, contiguous (NCHW) tensors. The engine keeps the decoded tensors in
memory, batches by slicing, trains channels-last with bf16 autocast where the CPU has native bf16,
and steps a fused optimiser.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..data import Dataset
from ..models import create_model
from ..train import TrainConfig, evaluate, fit, seed_everything
from ..train.config import lr_factor

CFG = TrainConfig(epochs=1, batch_size=64, lr=1e-3, schedule="linear")  # decay to 0: a stable end point


class ExampleNet(nn.Module):
    """``Net`` of pytorch/examples/mnist/main.py, layer for layer (1.2 M parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = self.dropout2(F.relu(self.fc1(torch.flatten(self.dropout1(x), 1))))
        return F.log_softmax(self.fc2(x), dim=1)  # cross-entropy of log-probabilities = the example's NLL


MODELS = {"example Net": ExampleNet, "cnn_small": lambda: create_model("cnn_small")}


def example_loop(model: nn.Module, root: Path, cfg: TrainConfig) -> float:
    """The PyTorch MNIST example's training loop; returns seconds of training."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    loader = torch.utils.data.DataLoader(
        datasets.MNIST(str(root), train=True, transform=transform), batch_size=cfg.batch_size, shuffle=True
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(cfg, len(loader)))
    model.train()
    t0 = time.perf_counter()
    for _ in range(cfg.epochs):
        for data, target in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(data), target)  # = the example's NLL on its log-probabilities
            loss.backward()
            optimizer.step()
            scheduler.step()
    return time.perf_counter() - t0


def compare(name: str, ds: Dataset, root: Path, cfg: TrainConfig = CFG) -> dict:
    """Engine vs the example's loop on model ``name``: seconds, samples/s, test accuracy, ratio."""
    n = len(ds.train) * cfg.epochs
    seed_everything(0)
    model = MODELS[name]()
    seconds = sum(fit(model, (ds.train, None), cfg).epochs["seconds"])
    engine = {"seconds": round(seconds, 2), "samples_per_s": round(n / seconds, 1), **_test(model, ds)}
    seed_everything(0)
    model = MODELS[name]()  # the same initial weights
    seconds = example_loop(model, root, cfg)
    plain = {"seconds": round(seconds, 2), "samples_per_s": round(n / seconds, 1), **_test(model, ds)}
    return {
        "model": name,
        "params": sum(p.numel() for p in model.parameters()),
        "engine": engine,
        "example_loop": plain,
        "speedup": round(engine["samples_per_s"] / plain["samples_per_s"], 3),
        "acc_gap_pt": round(100 * (engine["test_acc"] - plain["test_acc"]), 3),
    }


def _test(model: nn.Module, ds: Dataset) -> dict:
    return {"test_acc": evaluate(model, ds.test, TrainConfig(amp=False))["acc"]}  # both scored in float32
