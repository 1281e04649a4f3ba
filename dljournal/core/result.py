"""What an experiment returns (``Result``) and what a report reads back (``StoredResult``)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FIGURE_ARRAYS = "figures.npz"  # the arrays of a result's figure specs, beside result.json


@dataclass
class Result:
    """metrics: numbers (nested dicts allowed), e.g. ``{"deep": {"test_acc": 0.99}}``.
    history: per-epoch series per run, e.g. ``{"deep": {"val_loss": [...]}}``.
    tables: name -> DataFrame, or (DataFrame, caption).
    figures: name -> a figure spec from ``dljournal.viz`` (e.g. ``viz.panels(...)``), or (spec, caption):
        data, drawn by the report at build time.
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
    return {
        "columns": [str(c) for c in df.columns],
        "rows": jsonable(df.to_numpy(dtype=object).tolist()),
        "caption": caption,
    }


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
    figures: dict  # name -> {"spec": stored spec, "caption": str, "arrays": Path of figures.npz}
    notes: list
    config: dict
    provenance: dict
    key: str
    key_parts: dict

    @classmethod
    def from_json(cls, data: dict, folder) -> StoredResult:
        validate_result(data, Path(folder))
        figures = {
            name: {"spec": f["spec"], "caption": f.get("caption", ""), "arrays": folder / FIGURE_ARRAYS}
            for name, f in data["figures"].items()
        }
        return cls(
            data["exp_id"],
            data["report"],
            data["title"],
            data["question"],
            data["profile"],
            data["metrics"],
            data["history"],
            data["tables"],
            figures,
            data["notes"],
            data["config"],
            data["provenance"],
            data["key"],
            data["key_parts"],
        )


# ---- what a valid stored result is: one function, used by run, --list and build alike ----------

_FIELDS: dict[str, type | tuple[type, ...]] = {
    "exp_id": str,
    "report": str,
    "title": str,
    "question": str,
    "profile": str,
    "key": str,
    "key_parts": dict,
    "metrics": dict,
    "history": dict,
    "tables": dict,
    "figures": dict,
    "notes": list,
    "config": dict,
    "provenance": dict,
}
_PROVENANCE: dict[str, type | tuple[type, ...]] = {
    "started": str,
    "seconds": (int, float),
    "versions": dict,
    "data": dict,
}
MAX_DEPTH = 64  # nesting of metrics/config: the report flattens them recursively


def validate_result(data: Any, folder: Path, exp_id: str | None = None, report: str | None = None) -> dict:
    """``data`` (a parsed result.json in ``folder``) if the runner could have written it and the
    report can show it; ValueError naming the first problem otherwise. The runner re-runs what
    fails here and the report refuses it, so the two never disagree."""
    if not isinstance(data, dict):
        raise ValueError(f"not a result: a JSON {type(data).__name__}, expected an object")
    for k, kind in _FIELDS.items():
        if k not in data:
            raise ValueError(f"no {k!r} field")
        if not isinstance(data[k], kind):
            raise ValueError(f"{k!r} is a {type(data[k]).__name__}, expected {_names(kind)}")
    for k, kind in _PROVENANCE.items():
        if not isinstance(data["provenance"].get(k), kind) or isinstance(data["provenance"][k], bool):
            raise ValueError(f"provenance {k!r} missing or not {_names(kind)}")
    for k in ("commit", "device", "seed"):  # shown on the title page and in each section
        if k not in data["provenance"]:
            raise ValueError(f"provenance {k!r} missing")
    if exp_id is not None and data["exp_id"] != exp_id or report is not None and data["report"] != report:
        raise ValueError(f"it is the result of {data['report']}/{data['exp_id']}")
    for name, t in data["tables"].items():
        if not (
            isinstance(t, dict)
            and isinstance(t.get("columns"), list)
            and isinstance(t.get("rows"), list)
            and all(isinstance(row, list) for row in t["rows"])
        ):
            raise ValueError(f"table {name!r} is not {{columns: [...], rows: [[...], ...]}}")
    for k in ("metrics", "config", "history", "figures"):
        if _depth(data[k]) > MAX_DEPTH:
            raise ValueError(f"{k!r} is nested more than {MAX_DEPTH} levels deep")
    for name, f in data["figures"].items():
        if not (
            isinstance(f, dict)
            and isinstance(f.get("spec"), dict)
            and isinstance(f["spec"].get("__spec__"), str)
            and isinstance(f.get("caption", ""), str)
        ):
            raise ValueError(f"figure {name!r} is not {{spec: {{__spec__: kind, args: ...}}, caption: ...}}")
        if _refers_to_arrays(f["spec"]) and not (folder / FIGURE_ARRAYS).is_file():
            raise ValueError(f"figure arrays missing: {folder / FIGURE_ARRAYS}")
    return data


def _refers_to_arrays(value: Any) -> bool:
    if isinstance(value, dict):
        return "__array__" in value or any(_refers_to_arrays(v) for v in value.values())
    return isinstance(value, list) and any(_refers_to_arrays(v) for v in value)


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH or not isinstance(value, (dict, list)):
        return level
    items = value.values() if isinstance(value, dict) else value
    return max((_depth(v, level + 1) for v in items), default=level)


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
