"""Datasets as tensors in memory, batched by slicing (airbench style: no per-sample pipeline)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Literal

import torch

from ..project import ProjectError

Role = Literal["train", "val", "test"]


class SelectionOnTest(ProjectError):
    """Something that selects (a configuration, an epoch, a threshold) or stops early was handed
    the test split. The test split is evaluated once, after every choice is made."""


@dataclass
class Split:
    """Inputs ``x`` (float, model-ready) and targets ``y`` of one split, on one device.

    ``role`` says what the split is for. A dataset's test split carries ``"test"`` through every
    derived split (``to``, ``subset``, ``map``), and whatever selects or early-stops refuses it
    (``require_not_test``): choices are made on ``"val"``, which ``Dataset.val_split`` carves out of
    the training split.
    """

    x: torch.Tensor
    y: torch.Tensor
    role: Role = "train"

    def __len__(self) -> int:
        return len(self.x)

    def to(self, device: torch.device | str) -> "Split":
        return Split(self.x.to(device, non_blocking=True), self.y.to(device, non_blocking=True), self.role)

    def map(self, fn: Callable[[torch.Tensor], torch.Tensor], batch: int | None = None) -> "Split":
        """The same targets and role, inputs transformed by ``fn`` (in chunks of ``batch``)."""
        if batch is None:
            return Split(fn(self.x), self.y, self.role)
        return Split(torch.cat([fn(self.x[i:i + batch]) for i in range(0, len(self), batch)]), self.y, self.role)

    def subset(self, n: int | None, seed: int = 0) -> "Split":
        """A class-agnostic random subset of ``n`` samples (all of them when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        return self.take(idx)

    def take(self, idx: torch.Tensor) -> "Split":
        """The samples at ``idx``, same role."""
        return Split(self.x[idx.to(self.x.device)], self.y[idx.to(self.y.device)], self.role)

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

    def __post_init__(self) -> None:
        # whatever the loader built, the roles are the dataset's: test stays test downstream
        self.train = replace(self.train, role="train")
        self.test = replace(self.test, role="test")

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
        rest, val = self.train.take(idx[n_val:]), self.train.take(idx[:n_val])
        return rest, replace(val, role="val")


def require_not_test(split: Split | None, what: str) -> None:
    """Refuse the test split where ``what`` selects or stops early (one line for the report)."""
    if split is not None and split.role == "test":
        raise SelectionOnTest(
            f"{what} was given the test split, and it selects on that split; hold out a validation split "
            "(Dataset.val_split) for every choice and evaluate the test split once")
