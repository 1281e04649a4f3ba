"""What an experiment returns (``Result``) and what a report reads back (``StoredResult``)."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Result:
    """metrics: numbers (nested dicts allowed), e.g. ``{"deep": {"test_acc": 0.99}}``.
    history: per-epoch series per run, e.g. ``{"deep": {"val_loss": [...]}}``.
    tables: name -> DataFrame, or (DataFrame, caption).
    figures: name -> matplotlib Figure, or (Figure, caption).
    notes: sentences the report must show (substitutes, caveats).
    artifacts: name -> tensors (a state dict, embeddings, predictions) that later experiments
        declaring ``needs=(this id,)`` read with ``ctx.artifact(id, name)``.
    """

    metrics: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)


def jsonable(value: Any) -> Any:
    """Tensors, numpy values and nested containers as plain JSON values (NaN/inf as None)."""
    if hasattr(value, "detach"):  # torch.Tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a result: {value!r:.80}")


def split_caption(value: Any) -> tuple[Any, str]:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        return value
    return value, ""


def table_payload(value: Any) -> dict:
    """A DataFrame (or a list of row dicts) as ``{"columns", "rows", "caption"}``."""
    import pandas as pd

    df, caption = split_caption(value)
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    return {"columns": [str(c) for c in df.columns], "rows": jsonable(df.to_numpy(dtype=object).tolist()),
            "caption": caption}


@dataclass
class StoredResult:
    """A result as read back from ``result.json``; figure paths are absolute."""

    exp_id: str
    report: str
    title: str
    question: str
    profile: str
    metrics: dict
    history: dict
    tables: dict
    figures: dict  # name -> {"path": Path, "caption": str}
    notes: list
    config: dict
    provenance: dict
    key: str
    key_parts: dict

    @classmethod
    def from_json(cls, data: dict, folder) -> "StoredResult":
        figures = {name: {"path": folder / f["file"], "caption": f.get("caption", "")}
                   for name, f in data["figures"].items()}
        for f in figures.values():
            if not f["path"].is_file():
                raise ValueError(f"figure file missing: {f['path']}")
        return cls(data["exp_id"], data["report"], data["title"], data["question"], data["profile"],
                   data["metrics"], data["history"], data["tables"], figures, data["notes"],
                   data["config"], data["provenance"], data["key"], data["key_parts"])
