"""Datasets as tensors in memory, batched by slicing (airbench style: no per-sample pipeline)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

import torch

from ..core.project import ProjectError

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

    def to(self, device: torch.device | str) -> Split:
        return Split(to_device(self.x, device), to_device(self.y, device), self.role)

    def map(self, fn: Callable[[torch.Tensor], torch.Tensor], batch: int | None = None) -> Split:
        """The same targets and role, inputs transformed by ``fn`` (in chunks of ``batch``)."""
        if batch is None:
            return Split(fn(self.x), self.y, self.role)
        return Split(torch.cat([fn(self.x[i : i + batch]) for i in range(0, len(self), batch)]), self.y, self.role)

    def subset(self, n: int | None, seed: int = 0) -> Split:
        """A class-agnostic random subset of ``n`` samples (all of them when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        return self.take(idx)

    def take(self, idx: torch.Tensor) -> Split:
        """The samples at ``idx``, same role."""
        return Split(self.x[idx.to(self.x.device)], self.y[idx.to(self.y.device)], self.role)

    def batches(
        self, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self)
        if shuffle:
            order = torch.randperm(n, generator=generator).to(self.x.device)
            for i in range(0, n, batch_size):
                idx = order[i : i + batch_size]
                yield self.x[idx], self.y[idx]
        else:
            for i in range(0, n, batch_size):
                yield self.x[i : i + batch_size], self.y[i : i + batch_size]

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)


@dataclass(frozen=True)
class Normalisation:
    """What a loader did to the pixels: ``(pixel - mean) / std`` per channel, pixels on the [0, 1]
    scale. Kept on the dataset so that pictures, pretrained backbones and GANs get the pixels back
    with ``undo`` instead of each writing the inverse again.

    The statistics broadcast over the last three dimensions, (C, H, W): images (N, C, H, W) and
    clips (N, T, C, H, W) alike.
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.mean or len(self.mean) != len(self.std):
            raise ValueError(f"a normalisation needs one mean and one std per channel, got {self.mean} and {self.std}")
        if min(self.std) <= 0:
            raise ValueError(f"a normalisation's std must be positive, got {self.std}")

    def _stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # float32, as the loaders computed them: the same numbers as their own arithmetic, bit for bit
        def as_tensor(v: tuple[float, ...]) -> torch.Tensor:
            return torch.tensor(v, dtype=torch.float32, device=x.device).view(-1, 1, 1)

        return as_tensor(self.mean), as_tensor(self.std)

    def apply(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixels in [0, 1] -> model inputs."""
        mean, std = self._stats(pixels)
        return (pixels - mean) / std

    def undo(self, x: torch.Tensor) -> torch.Tensor:
        """Model inputs -> the pixels in [0, 1] they came from (clamped: edited inputs may overshoot)."""
        mean, std = self._stats(x)
        return (x * std + mean).clamp(0, 1)

    def to_uint8(self, x: torch.Tensor) -> torch.Tensor:
        """Model inputs -> uint8 pixels (0-255), same layout: for inputs a loader made, the bytes it read."""
        return self.undo(x.detach()).mul_(255).round_().to(torch.uint8)


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
    norm: Normalisation | None = None  # how ``x`` was made from pixels; None: not normalised (e.g. uint8)

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

    def to(self, device: torch.device | str) -> Dataset:
        """Move both splits to ``device`` once; training then only slices."""
        return replace(self, train=self.train.to(device), test=self.test.to(device))

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
            "(Dataset.val_split) for every choice and evaluate the test split once"
        )


def to_device(t: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """``t`` on ``device``; from the CPU to a GPU through pinned memory, the only source from which a
    ``non_blocking`` copy really overlaps with the work queued before it."""
    device = torch.device(device)
    if device.type == "cuda" and t.device.type == "cpu":
        t = t.pin_memory()
    return t.to(device, non_blocking=True)
