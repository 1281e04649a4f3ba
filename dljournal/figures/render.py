"""Specs -> files, at build time, cached under ``build/figures/`` on the spec's data and the code
of every kind it uses: restyling one kind re-draws the figures of that kind only. Plots are SVG
(vector: sharp at any zoom), pictures PNG."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..core.files import atomic_file
from .registry import Spec, get_kind, kind_hash
from .spec import SPEC, Arrays, decode, kinds_in, spec_hash
from .style import panels, plt

FORMAT = "1"  # bump when the way files are written changes (dpi, file type)
DPI = 200  # pictures: a 6.4-inch-wide grid keeps ~1,300 pixels across, plenty for 32-pixel images


def figure_hash(stored: dict[str, Any], arrays: Arrays) -> str:
    parts = [FORMAT, spec_hash(stored, arrays), *(f"{k}:{kind_hash(k)}" for k in sorted(set(kinds_in(stored))))]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def render(stored: dict[str, Any], arrays: Arrays, cache: Path) -> Path:
    """The file of one stored spec, drawn unless the cache already holds it."""
    top = get_kind(stored[SPEC])
    if top.panel:  # a lone panel: a figure of one axes
        stored = {SPEC: "panels", "args": {"draws": {"": stored}, "ncols": 1}}
        top = get_kind("panels")
    ext = "png" if top.raster else "svg"
    path = cache / f"{stored[SPEC]}-{figure_hash(stored, arrays)[:24]}.{ext}"
    if path.is_file():
        return path
    spec: Spec = decode(stored, arrays)
    fig = top.draw(**spec.args)
    try:
        with atomic_file(path) as tmp:  # a concurrent build never reads half a file
            fig.savefig(tmp, format=ext, dpi=DPI, bbox_inches="tight", metadata=_METADATA[ext])
    finally:
        plt.close(fig)
    return path


# no dates or versions in the files: the same spec gives the same bytes
_METADATA = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None}}

__all__ = ["render", "figure_hash", "panels"]
