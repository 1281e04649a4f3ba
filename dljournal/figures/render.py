"""Specs -> files, at build time, cached under ``build/figures/`` on the spec's data and the code
of every kind it uses: restyling one kind re-draws the figures of that kind only. Plots are SVG
(vector: sharp at any zoom), pictures PNG.

A figure's file name hashes its kinds' drawing code, which takes importing them (and matplotlib,
about 0.6 s). So ``kinds.json`` beside the files remembers each kind's hash with the size and time
of every source file that hash covers: while those are unchanged, a figure drawn before is found
without importing anything that draws.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..core.files import atomic_write_text
from .spec import SPEC, Arrays, kinds_in, spec_hash

FORMAT = "1"  # bump when the way files are written changes (dpi, file type)
DPI = 200  # pictures: a 6.4-inch-wide grid keeps ~1,300 pixels across, plenty for 32-pixel images
MEMO = "kinds.json"

Info = dict[str, Any]  # a kind as the memo holds it: hash, panel, raster, files


def figure_hash(stored: dict[str, Any], arrays: Arrays, kinds: dict[str, Info] | None = None) -> str:
    kinds = kinds if kinds is not None else {k: _info(k) for k in kinds_in(stored)}
    parts = [FORMAT, spec_hash(stored, arrays), *(f"{k}:{kinds[k]['hash']}" for k in sorted(set(kinds_in(stored))))]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def render(stored: dict[str, Any], arrays: Arrays, cache: Path, drawer: Drawer | None = None) -> Path:
    """The file of one stored spec, drawn unless the cache already holds it; with a ``drawer``,
    drawn in the background (``drawer.wait(path)`` before reading it)."""
    remembered = _remembered(cache, stored)
    if remembered is None and drawer is not None and drawer.prepared():  # the memo, taken anew meanwhile
        remembered = _remembered(cache, stored)
    if remembered is not None:
        path = _path(stored, arrays, cache, remembered)
        if path.is_file() or (drawer is not None and drawer.submit(_framed(stored, remembered), arrays, path)):
            return path
    kinds = {k: _info(k) for k in {*kinds_in(stored), "panels"}}
    _remember(cache, kinds)
    path = _path(stored, arrays, cache, kinds)
    if not path.is_file():
        if drawer is not None and drawer.submit(_framed(stored, kinds), arrays, path):
            return path
        _draw(_framed(stored, kinds), arrays, path)
    return path


class Drawer:
    """Draws figures in forked worker processes while the build goes on (a restyle that redraws
    eleven figures of the default report takes 2.7 s drawn one after another). Forks only on Linux
    from a process that has not loaded torch (whose thread pools do not survive a fork), else
    ``submit`` declines and the figure is drawn at once."""

    def __init__(self, workers: int = 2):
        self.workers, self.pool, self.jobs, self.preparing = workers, None, {}, None

    def prepare(self, specs: list[dict[str, Any]], cache: Path) -> None:
        """When the memo does not hold for some of ``specs`` (drawing code was edited), a worker
        takes their kinds' hashes anew (importing matplotlib there, not here) while the build goes on."""
        stale = [s for s in specs if _remembered(cache, s) is None]
        if stale and self._forkable():
            kinds = sorted({k for s in stale for k in kinds_in(s)} | {"panels"})
            self.preparing = self._pool().submit(_remember_job, kinds, cache)
            for _ in range(self.workers - 1):  # the others load what draws, before any drawing is asked of them
                self._pool().submit(_load_kinds)

    def prepared(self) -> bool:
        """Waits for ``prepare``'s worker; whether it ran (its memo is then on disk)."""
        if self.preparing is None:
            return False
        done, self.preparing = self.preparing.result() is None, None  # a failure: taken here, and said
        return done

    def submit(self, stored: dict[str, Any], arrays: Arrays, path: Path) -> bool:
        if not self._forkable():
            return False
        path = path.resolve()
        if path not in self.jobs:
            self.jobs[path] = self._pool().submit(_draw_job, stored, arrays.path, path)
        return True

    @staticmethod
    def _forkable() -> bool:
        return sys.platform == "linux" and "torch" not in sys.modules

    def _pool(self):
        if self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
        return self.pool

    def wait(self, path: Path | None = None) -> None:
        """Until ``path`` (every file, if None) is drawn; a failed drawing raises ``DrawingFailed``."""
        for job_path in [path.resolve()] if path is not None else list(self.jobs):
            job = self.jobs.get(job_path)
            error = job.result() if job is not None else None
            if error is not None:
                raise DrawingFailed(job_path, error)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


class DrawingFailed(Exception):
    """A figure drawn in the background failed; the message is its exception's type and text."""

    def __init__(self, path: Path, message: str):
        super().__init__(message)
        self.path = path


def _load_kinds() -> None:
    from .registry import kinds

    kinds()


def _remember_job(kinds: list[str], cache: Path) -> str | None:
    try:
        _remember(cache, {k: _info(k) for k in kinds})
    except Exception as exc:  # an unknown kind, say: the build takes the hashes itself and says why
        return f"{type(exc).__name__}: {exc}"
    return None


def _draw_job(stored: dict[str, Any], arrays_path: Path | None, path: Path) -> str | None:
    try:
        _draw(stored, Arrays(arrays_path), path)
    except Exception as exc:  # sent back as text: not every exception pickles
        return f"{type(exc).__name__}: {exc}"
    return None


def _framed(stored: dict[str, Any], kinds: dict[str, Info]) -> dict[str, Any]:
    if kinds[stored[SPEC]]["panel"]:  # a lone panel: a figure of one axes
        return {SPEC: "panels", "args": {"draws": {"": stored}, "ncols": 1}}
    return stored


def _path(stored: dict[str, Any], arrays: Arrays, cache: Path, kinds: dict[str, Info]) -> Path:
    stored = _framed(stored, kinds)
    ext = "png" if kinds[stored[SPEC]]["raster"] else "svg"
    return cache / f"{stored[SPEC]}-{figure_hash(stored, arrays, kinds)[:24]}.{ext}"


def _draw(stored: dict[str, Any], arrays: Arrays, path: Path) -> None:
    from ..core.files import atomic_file
    from .registry import get_kind
    from .spec import decode
    from .style import plt

    spec = decode(stored, arrays)
    fig = get_kind(spec.kind).draw(**spec.args)
    ext = path.suffix[1:]
    try:
        with atomic_file(path) as tmp:  # a concurrent build never reads half a file
            fig.savefig(tmp, format=ext, dpi=DPI, bbox_inches="tight", metadata=_METADATA[ext])
    finally:
        plt.close(fig)


def _info(kind: str) -> Info:
    from .registry import get_kind, kind_files, kind_hash

    k = get_kind(kind)
    files = kind_files(kind)  # first: a file edited while its hash is taken then reads as changed
    return {"hash": kind_hash(kind), "panel": k.panel, "raster": k.raster, "files": files}


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _valid(info: Info) -> bool:
    return all(_stamp(path) == stamp for path, stamp in info["files"].items())


def _load(cache: Path) -> dict[str, Info]:
    try:
        memo = json.loads((cache / MEMO).read_text())
    except (OSError, ValueError):
        return {}
    return memo["kinds"] if isinstance(memo, dict) and memo.get("version") == _VERSION else {}


def _remembered(cache: Path, stored: dict[str, Any]) -> dict[str, Info] | None:
    """The memo's kinds for ``stored`` if every one of them is there and its sources unchanged."""
    memo = _load(cache)
    needed = {*kinds_in(stored), "panels"}
    if not needed <= memo.keys() or not all(_valid(memo[k]) for k in needed):
        return None
    return memo


def _remember(cache: Path, kinds: dict[str, Info]) -> None:
    memo = _load(cache)
    fresh = {k: v for k, v in kinds.items() if v["files"] and memo.get(k) != v}
    if fresh:
        atomic_write_text(cache / MEMO, json.dumps({"version": _VERSION, "kinds": {**memo, **fresh}}, indent=1))


_VERSION = f"{FORMAT}|{sys.version}"  # hashes of code objects differ between Python versions
# no dates or versions in the files: the same spec gives the same bytes
_METADATA = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None}}

__all__ = ["Drawer", "DrawingFailed", "figure_hash", "render"]
