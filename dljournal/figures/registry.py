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

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.fingerprint import code_hash
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
    return KINDS.get(kind)


def kinds() -> dict[str, Kind]:
    return dict(KINDS.items())


def kind_hash(kind: str) -> str:
    """The drawing code of ``kind``: its function and what it uses (helpers of its module one by
    one, other modules such as the shared style whole). Editing one kind re-renders that kind only."""
    return _code_hash(get_kind(kind).draw)


@functools.cache
def _code_hash(draw: Callable[..., Any]) -> str:  # per function object: a re-imported kind is hashed anew
    return code_hash(draw, exclude=())
