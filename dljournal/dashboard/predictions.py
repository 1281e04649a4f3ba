"""A classifier's stored test-set predictions, and the test images they were made on.

An experiment stores a ``predictions`` artifact (labels, softmax probabilities, embeddings, a 2-D
t-SNE, class names); nothing here needs FiftyOne.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.project import ProjectError
from ..core.store import CorruptResult, load_artifact
from ..data.tensors import Normalisation

ARTIFACT = "predictions"
KEYS = ("labels", "probs", "embeddings", "tsne", "classes")  # and optionally "index"


@dataclass(frozen=True)
class Predictions:
    """A classifier's outputs on a test set, one row per image."""

    labels: torch.Tensor  # (N,) int64 ground truth
    probs: torch.Tensor  # (N, K) float32 softmax
    embeddings: torch.Tensor  # (N, D) float32
    tsne: torch.Tensor  # (N, 2) float32
    classes: tuple[str, ...]
    index: torch.Tensor | None = None  # (N,) int64 rows of the test set; None: all of it, in order

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def predicted(self) -> torch.Tensor:
        return self.probs.argmax(1)

    @property
    def confidence(self) -> torch.Tensor:
        return self.probs.amax(1)

    @property
    def wrong(self) -> torch.Tensor:
        return self.predicted != self.labels


def load_predictions(folder: Path) -> Predictions:
    """The ``predictions`` artifact of the cached result in ``folder``, checked key by key."""
    where = folder / "artifacts" / f"{ARTIFACT}.pt"
    try:
        art = load_artifact(folder, ARTIFACT)
    except CorruptResult as exc:
        raise ProjectError(str(exc)) from None
    if not isinstance(art, dict) or any(k not in art for k in KEYS):
        raise ProjectError(f"{where}: expected a dict with {', '.join(KEYS)}")
    t = {k: torch.as_tensor(art[k]) for k in ("labels", "probs", "embeddings", "tsne", "index") if k in art}
    emb = t["embeddings"].float()
    p = Predictions(
        t["labels"].long(),
        t["probs"].float(),
        emb.flatten(1) if emb.dim() > 2 else emb,
        t["tsne"].float(),
        tuple(map(str, art["classes"])),
        t["index"].long() if "index" in t else None,
    )
    n, k = len(p), len(p.classes)
    if p.embeddings.dim() != 2:
        raise ProjectError(f"{where}: embeddings has shape {tuple(p.embeddings.shape)}, expected (N, D)")
    for key, value, want in (
        ("labels", p.labels, (n,)),
        ("probs", p.probs, (n, k)),
        ("tsne", p.tsne, (n, 2)),
        ("embeddings", p.embeddings, (n, p.embeddings.shape[1])),
        ("index", p.index, (n,)),
    ):
        if value is not None and tuple(value.shape) != want:
            raise ProjectError(
                f"{where}: {key} has shape {tuple(value.shape)}, expected {want} for {n} labels and {k} classes"
            )
    if n and not 0 <= int(p.labels.min()) <= int(p.labels.max()) < k:
        raise ProjectError(f"{where}: labels outside 0..{k - 1}")
    return p


def with_predictions(results: Path, report: str = "*") -> list[tuple[str, str]]:
    """(report, experiment) of every cached result with a predictions artifact, sorted; not a
    stashed result of another profile nor a staging folder (their names start with a dot)."""
    return sorted(
        (p.parents[2].name, p.parents[1].name)
        for p in results.glob(f"{report}/*/artifacts/{ARTIFACT}.pt")
        if not p.parents[1].name.startswith(".")
    )


def find_experiment(results: Path, report: str) -> str:
    """The first experiment of ``report`` (by id) whose cached result has a predictions artifact."""
    found = [exp for _, exp in with_predictions(results, report)]
    if not found:
        raise ProjectError(
            f"no experiment of {report} has artifacts/{ARTIFACT}.pt under {results / report}: "
            f"run its experiments first (nox -s run_experiments -- --report {report})"
        )
    return found[0]


def result_profile(folder: Path) -> str:
    """The profile a cached result was made with ('smoke': on a synthetic stand-in of the data)."""
    try:
        return str(json.loads((folder / "result.json").read_text())["profile"])
    except (OSError, ValueError, KeyError) as exc:
        raise ProjectError(f"{folder / 'result.json'}: no readable result ({exc}); run the experiment") from None


def confident_mistakes(p: Predictions, k: int = 16) -> torch.Tensor:
    """Rows of the ``k`` mistakes made with the highest confidence, most confident first (ties by row)."""
    wrong = p.wrong.nonzero().flatten()
    return wrong[p.confidence[wrong].argsort(descending=True, stable=True)[:k]]


def to_uint8(x: torch.Tensor, norm: Normalisation | None) -> np.ndarray:
    """(N, C, H, W) model inputs -> the (N, H, W, C) uint8 pixels they were made from: ``norm``
    undone, or as they are where a loader keeps uint8 pixels (``norm`` None)."""
    x = x.detach().cpu()
    if norm is not None:
        x = norm.to_uint8(x)
    elif x.dtype != torch.uint8:
        raise ProjectError(f"images of dtype {x.dtype} without a normalisation: no pixels to show")
    return x.permute(0, 2, 3, 1).contiguous().numpy()  # (N, H, W, C)


def write_pngs(images: np.ndarray, folder: Path) -> list[Path]:
    """``images[i]`` as ``folder/<i>.png``, each written once (later calls keep it), atomically."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(len(images) - 1)))
    paths = [folder / f"{i:0{width}d}.png" for i in range(len(images))]
    for img, path in zip(images, paths):
        if not path.is_file():
            tmp = folder / f".{path.name}.{os.getpid()}.tmp"
            Image.fromarray(img.squeeze(-1) if img.shape[-1] == 1 else img).save(tmp, format="PNG")
            os.replace(tmp, path)
    return paths


def load_test_images(
    p: Predictions, dataset: str, *, data_root: Path, cache: Path, synthetic: bool
) -> tuple[np.ndarray, str]:
    """The test images the predictions were made on, as (N, H, W, C) uint8, and their source.

    The smoke profile's synthetic stand-in is rebuilt as ``Context.data`` builds it. Every label
    must match, so predictions are never shown beside images they were not made on.
    """
    from ..data import load_dataset

    ds = load_dataset(dataset, data_root=data_root, cache=cache, synthetic=synthetic, n_train=512, n_test=256)
    if p.index is None and len(p) != len(ds.test):
        raise ProjectError(
            f"the predictions have {len(p)} rows but the {dataset} test set has {len(ds.test)}: "
            "store an 'index' of their test-set rows with them"
        )
    idx = torch.arange(len(p)) if p.index is None else p.index
    if len(p) and not 0 <= int(idx.min()) <= int(idx.max()) < len(ds.test):
        raise ProjectError(f"the predictions' index leaves the {dataset} test set (0..{len(ds.test) - 1})")
    differ = int((ds.test.y.cpu()[idx] != p.labels).sum())
    if differ:
        raise ProjectError(
            f"{differ} of {len(p)} labels of the predictions differ from the {dataset} test set "
            f"({ds.source}): they were made on other data"
        )
    return to_uint8(ds.test.x[idx], ds.norm), ds.source
