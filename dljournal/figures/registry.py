"""Figure kinds, registered by decorator (timm's ``register_model``): the decorated function draws;
what the decorator returns builds a *spec*, the data of one figure, which an experiment returns
and the build renders. ``@register_figure`` functions return a matplotlib Figure;
``@register_panel`` ones draw onto one axes, to be combined by the ``panels`` figure kind.

An experiment calls ``viz.draw_xy(x, ys, "epoch", "loss")`` exactly as it would call the drawing
function, minus the axes: the arguments are checked against its signature at once (a typo fails
while the experiment runs, not at build time) and stored as data. Drawing happens at build time,
outside the cache key, so restyling a figure never retrains anything.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.fingerprint import CodeHasher
from ..core.registries import Registry


@dataclass(frozen=True)
class Spec:
    """One figure (or one panel of a ``panels`` figure) as data: its kind and bound arguments."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    draw: Callable[..., Any]
    panel: bool  # draws onto an axes given first, inside ``panels``
    raster: bool  # images: rendered to PNG; plots go to the PDF as SVG


KINDS: Registry[Kind] = Registry("figure kind", defined_by=lambda kind: kind.draw)


def _register(kind: str, panel: bool, raster: bool) -> Callable[[Callable[..., Any]], Callable[..., Spec]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Spec]:
        KINDS.register(kind, Kind(fn, panel, raster))  # first: a clash fails before anything else
        params = list(inspect.signature(fn).parameters.values())
        signature = inspect.Signature(params[1:] if panel else params)

        @functools.wraps(fn)
        def make(*args: Any, **kwargs: Any) -> Spec:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"viz.{fn.__name__}: {exc}") from None
            return Spec(kind, dict(bound.arguments))

        make.__signature__ = signature  # help() shows the spec's arguments, not the axes
        make.__figure_kind__ = kind  # the cache key of an experiment skips it: drawing is presentation
        return make

    return decorate


def register_figure(kind: str, raster: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Spec]]:
    """``fn(**args) -> matplotlib Figure``; ``raster`` for pictures (kernels, samples, maps)."""
    return _register(kind, panel=False, raster=raster)


def register_panel(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Spec]]:
    """``fn(ax, **args)``: one axes of a ``panels`` figure."""
    return _register(kind, panel=True, raster=False)


def get_kind(kind: str) -> Kind:
    if kind not in KINDS:
        _load_builtin_kinds()
    while kind not in KINDS and _SOURCES:  # a project's own kind: registered where its experiments are
        _SOURCES.pop()()
    return KINDS.get(kind)


_SOURCES: list[Callable[[], Any]] = []


@contextlib.contextmanager
def kind_source(load: Callable[[], Any]) -> Iterator[None]:
    """Within the block, a kind that is not registered is looked for once more after ``load()``
    (a build: importing the report's experiments, which import the modules that register its own
    kinds; a build that finds its keys memoised imports none of them)."""
    _SOURCES.append(load)
    try:
        yield
    finally:
        if load in _SOURCES:
            _SOURCES.remove(load)


def kinds() -> dict[str, Kind]:
    _load_builtin_kinds()
    return dict(KINDS.items())


BUILTIN = ("charts", "curves", "images", "studies", "style")  # the modules that register dljournal's kinds


def _load_builtin_kinds() -> None:
    for module in BUILTIN:
        importlib.import_module(f"{__package__}.{module}")


def kind_hash(kind: str) -> str:
    """The drawing code of ``kind``: its function and what it uses (helpers of its module one by
    one, other modules such as the shared style whole, the kinds whose specs it draws). Editing one
    kind re-renders the figures that draw it, and only those."""
    return _code_hash(get_kind(kind).draw)


# Name lookups: a ``panels`` figure draws each panel's kind through them, and ``figure_hash`` counts
# each of those kinds itself; followed, they would tie every kind to every other.
_LOOKUPS = (__name__, Registry.__module__)


class _DrawingHasher(CodeHasher):
    follow_reexports = False  # ``dljournal.figures`` re-exports every kind: one edit would redraw all

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.files: set[str] = set()  # the source files of what was hashed

    def add(self, obj: Any, home: Any) -> None:
        if getattr(obj, "__figure_kind__", None) is not None:  # a spec made inside a kind is drawn
            obj = obj.__wrapped__  # by it: the constructor's drawing function counts
        module = obj if inspect.ismodule(obj) else inspect.getmodule(obj)
        if self.in_project(module) and getattr(module, "__file__", None):
            self.files.add(str(Path(module.__file__).resolve()))
        super().add(obj, home)

    def _add_module(self, module: Any) -> None:
        if getattr(module, "__file__", None):
            self.files.add(str(Path(module.__file__).resolve()))
        super()._add_module(module)

    def in_project(self, module: Any) -> bool:
        return module is not None and module.__name__ not in _LOOKUPS and super().in_project(module)


def kind_files(kind: str) -> dict[str, list[int]]:
    """The source files ``kind_hash`` reads, with their size and modification time (ns) now."""
    out = {}
    for path in sorted(_hasher(get_kind(kind).draw).files):
        st = Path(path).stat()
        out[path] = [st.st_size, st.st_mtime_ns]
    return out


def kind_code(kind: str) -> list[str]:
    """What ``kind_hash`` covers, by name: the functions and modules whose edit redraws ``kind``."""
    return sorted(_hasher(get_kind(kind).draw).parts)


@functools.cache
def _code_hash(draw: Callable[..., Any]) -> str:  # per function object: a re-imported kind is hashed anew
    return _hasher(draw).digest()


def _hasher(draw: Callable[..., Any]) -> _DrawingHasher:
    home = inspect.getmodule(draw)
    hasher = _DrawingHasher([Path(home.__file__).resolve().parent], exclude=())
    hasher.add(draw, home)
    hasher.add(importlib.import_module(f"{__package__}.style"), home)  # the look every figure shares
    return hasher
