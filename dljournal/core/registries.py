"""One registry type for everything found by name: experiments, models, datasets, figure kinds.

A name registered again by another function is an error (two files claim it); by the same
function (module and qualified name) it is replaced, since that is its module re-imported (a
test, a notebook, ``importlib.reload``). Unknown names fail with one line suggesting close ones.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from .project import ProjectError

T = TypeVar("T")


def suggest(name: str, known: Iterable[str]) -> str:
    """``"; did you mean a or b?"`` when some known names are close to ``name``, else the list."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if close:
        return f"; did you mean {' or '.join(close)}?"
    return f" (known: {', '.join(known) or 'none'})"


def _origin(fn: Any) -> str:
    qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__  # a partial: its type
    return f"{getattr(fn, '__module__', '?')}.{qualname}"


def _where(fn: Any) -> str:
    code = getattr(fn, "__code__", None)
    return f"{_origin(fn)} ({code.co_filename}:{code.co_firstlineno})" if code else _origin(fn)


class Registry(Generic[T]):
    """Items of one kind by name. ``defined_by(item)`` is the function that defines an item (the
    experiment's, the model's factory, ...): it decides whether a second registration replaces."""

    def __init__(self, what: str, defined_by: Callable[[T], Any] = lambda item: item) -> None:
        self.what = what  # "model", "dataset", ...: for messages
        self._defined_by = defined_by
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        old = self._items.get(name)
        if old is not None:
            before, now = self._defined_by(old), self._defined_by(item)
            if _origin(before) != _origin(now):
                raise ValueError(f"{self.what} {name!r} registered twice: by {_where(before)} and by {_where(now)}")
        self._items[name] = item
        return item

    def decorator(
        self, name: str | None = None, make: Callable[[Callable[..., Any]], T] | None = None
    ) -> Callable[[Callable[..., Any]], Any]:
        """``@REG.decorator()`` registers ``make(fn)`` (default ``fn``) under ``name`` (default
        ``fn.__name__``) and returns ``fn`` unchanged."""

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register(name or fn.__name__, make(fn) if make is not None else fn)
            return fn

        return register

    def get(self, name: str) -> T:
        if name not in self._items:
            raise ProjectError(f"unknown {self.what} {name!r}{suggest(name, self._items)}")
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items(), key=lambda kv: kv[0])

    @contextlib.contextmanager
    def scoped(self) -> Iterator[Registry[T]]:
        """``with REG.scoped():`` what is registered (or replaced) inside is undone at exit, so
        that tests never leak registrations into the process-wide registry."""
        saved = dict(self._items)
        try:
            yield self
        finally:
            self._items.clear()
            self._items.update(saved)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {len(self)} registered)"


def import_submodules(package: str, path: Iterable[str]) -> None:
    """Import every module of a package, in name order, so that each registers what it defines
    and a new file needs no wiring (call from the package's ``__init__``:
    ``import_submodules(__name__, __path__)``)."""
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        importlib.import_module(f"{package}.{info.name}")
