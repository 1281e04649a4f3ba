"""Datasets as tensors in memory, batched by slicing (airbench style: no per-sample pipeline)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import torch


@dataclass
class Split:
    """Inputs ``x`` (float, model-ready) and targets ``y`` of one split, on one device."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.x)

    def to(self, device: torch.device | str) -> "Split":
        return Split(self.x.to(device, non_blocking=True), self.y.to(device, non_blocking=True))

    def subset(self, n: int | None, seed: int = 0) -> "Split":
        """A class-agnostic random subset of ``n`` samples (all of them when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        return Split(self.x[idx.to(self.x.device)], self.y[idx.to(self.y.device)])

    def batches(self, batch_size: int, shuffle: bool = False,
                generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self)
        if shuffle:
            order = torch.randperm(n, generator=generator).to(self.x.device)
            for i in range(0, n, batch_size):
                idx = order[i:i + batch_size]
                yield self.x[idx], self.y[idx]
        else:
            for i in range(0, n, batch_size):
                yield self.x[i:i + batch_size], self.y[i:i + batch_size]

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)


@dataclass
class Dataset:
    """A named dataset: train/test splits plus what a report needs to say about it."""

    name: str
    train: Split
    test: Split
    classes: tuple[str, ...] = ()
    source: str = ""  # where it came from, said in the report ("real: ...", "synthetic stand-in")
    synthetic: bool = False
    meta: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train.x.shape[1:])

    def to(self, device: torch.device | str) -> "Dataset":
        """Move both splits to ``device`` once; training then only slices."""
        return Dataset(self.name, self.train.to(device), self.test.to(device), self.classes,
                       self.source, self.synthetic, self.meta)

    def val_split(self, n_val: int, seed: int = 0) -> tuple[Split, Split]:
        """A held-out validation split of ``n_val`` samples from train: (train', val)."""
        idx = torch.randperm(len(self.train), generator=torch.Generator().manual_seed(seed))
        idx = idx.to(self.train.x.device)
        val, rest = idx[:n_val], idx[n_val:]
        t = self.train
        return Split(t.x[rest], t.y[rest]), Split(t.x[val], t.y[val])
