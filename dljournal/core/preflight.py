"""Checks that run before any work: a bad option or folder costs one line, not a lost training."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .project import Project, ProjectError

SEED_MAX = 2**32 - 1  # numpy's seed range; torch and random accept it too


def check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ProjectError(f"--seed {seed!r} is out of range: give a whole number from 0 to {SEED_MAX}")
    return seed


def check_device(name: str):
    """The torch device for ``--device``; one line when CUDA is asked for and absent."""
    import torch

    if name not in ("auto", "cpu", "cuda"):
        raise ProjectError(f"--device {name!r}: choose auto, cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise ProjectError("--device cuda: torch sees no CUDA device here; use --device cpu (or auto)")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def _probe(folder: Path) -> None:
    """Create and remove a file in ``folder`` (tests patch this to play a read-only disk as root)."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".write-probe-")
    os.close(fd)
    os.unlink(tmp)


def ensure_writable(folder: Path, what: str) -> None:
    """``folder`` exists (created if need be) and takes files; else one line naming it."""
    folder = Path(folder)
    for p in (folder, *folder.parents):  # a file where a folder should be, at any level
        if p.exists() and not p.is_dir():
            raise ProjectError(f"{what}: {p} is a file, not a folder; give another path")
        if p.exists():
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _probe(folder)
    except OSError as exc:
        raise ProjectError(
            f"{what}: cannot write to {folder} ({exc.strerror or exc}); give a writable folder"
        ) from None


def check_build_dir(project: Project, report: str | None = None) -> None:
    """The build folder (and the report's results in it) can take files; checked before training."""
    ensure_writable(project.build, "build folder (--build-dir)")
    if report:
        ensure_writable(project.results / report, "results folder")


def check_data_root(data_root: Path, specs: Iterable, synthetic: bool) -> None:
    """One line, once, before anything trains, when real data is needed and its folder is absent."""
    if synthetic:
        return
    readers = [s for s in specs if s.data]
    if readers and not Path(data_root).is_dir():
        names = sorted({d for s in readers for d in s.data})
        raise ProjectError(
            f"data root {data_root} is not a folder (needed by {', '.join(s.id for s in readers)} "
            f"for {', '.join(names)}); give --data-root PATH or set $DLJOURNAL_DATA_ROOT "
            f"(or use --profile smoke, which needs no data)"
        )
