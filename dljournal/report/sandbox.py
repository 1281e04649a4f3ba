"""The Jinja sandbox of the journal: plain data in, bounded work, nothing else reachable.

Jinja's own sandbox blocks ``_private`` attributes but allows every public method of whatever a
template receives; a ``pathlib.Path`` handed to a template could read and write files. Here a
template may touch attributes and methods of plain data (strings, numbers, lists, dicts), of the
engine's read-only result views and of Jinja's own loop helpers only, and call only those
methods, its macros and the helpers the journal hands it. Its work is bounded too: ranges,
repeated strings, powers and the text it writes, so a journal cannot hang or exhaust a build.
"""

from __future__ import annotations

import os
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import Cycler, Joiner, Namespace

from .views import ExperimentView, Node, ResultsView

# plain data and the engine's own read-only views: what a template may look into
DATA_TYPES = (
    str,
    int,
    float,
    bool,
    type(None),
    list,
    tuple,
    dict,
    set,
    frozenset,
    Node,
    ExperimentView,
    ResultsView,
    Namespace,
    LoopContext,
    Cycler,
    Joiner,
    Macro,
)

MAX_RANGE_ITEMS = 200_000  # all range() calls of one render together
MAX_SEQUENCE = 1_000_000  # 'x' * n, [0] * n
MAX_POWER_BITS = 100_000  # 10 ** 10 ** 10 would run for ever
MAX_FILTER_COUNT = 10_000  # slice(n), batch(n), center(n), indent(n)
MAX_OUTPUT = 5_000_000  # characters of text one template may produce
MAX_SECONDS = 60.0


class Helper:
    """A function the journal hands to templates (``fig``, ``table``, ...): callable, opaque."""

    def __init__(self, fn: Callable[..., Any]):
        self._fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)


class ProjectLoader(jinja2.FileSystemLoader):
    """Templates and includes from one folder, refusing any that resolves outside it (a symlink
    to /etc/passwd is a file of the folder by name only)."""

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.root = Path(folder).resolve()

    def get_source(self, environment: jinja2.Environment, template: str):
        source, filename, uptodate = super().get_source(environment, template)
        if not Path(filename).resolve().is_relative_to(self.root):
            raise jinja2.TemplateNotFound(template)
        return source, filename, uptodate


class JournalSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, folder: Path, **kwargs: Any):
        super().__init__(loader=ProjectLoader(folder), undefined=jinja2.StrictUndefined, **kwargs)
        self.globals.pop("lipsum", None)  # lipsum(10**9) loops for ever and no journal needs it
        self.globals["range"] = self._range
        self._callables = {id(v) for v in self.globals.values()}
        for name in ("slice", "batch", "center", "indent"):
            self.filters[name] = _bounded(name, self.filters[name])
        self.start()

    def start(self) -> None:
        """Reset the work budget (once per rendered file)."""
        self._range_left, self._deadline = MAX_RANGE_ITEMS, time.monotonic() + MAX_SECONDS

    def _tick(self) -> None:
        if time.monotonic() > self._deadline:
            raise SecurityError(f"the template ran longer than {MAX_SECONDS:.0f} s")

    def _range(self, *args: int) -> range:
        rng = range(*args)
        self._range_left -= len(rng)
        if self._range_left < 0:
            raise SecurityError(f"range() asked for more than {MAX_RANGE_ITEMS} items in one file")
        return rng

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        self._tick()
        return super().is_safe_attribute(obj, attr, value) and isinstance(obj, DATA_TYPES)

    def is_safe_callable(self, obj: Any) -> bool:
        self._tick()
        if not super().is_safe_callable(obj):
            return False
        if id(obj) in self._callables or isinstance(obj, (Helper, Macro, LoopContext, Joiner)):
            return True
        wrapped = getattr(obj, "__wrapped__", None)  # the sandbox's own str.format wrapper
        if isinstance(obj, types.FunctionType) and wrapped is not None and obj.__globals__ is vars(jinja2.sandbox):
            obj = wrapped
        bound = isinstance(obj, (types.MethodType, types.BuiltinMethodType, types.MethodWrapperType))
        # a builtin function's __self__ is its module: only methods of data objects pass
        return bound and isinstance(getattr(obj, "__self__", None), DATA_TYPES)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            seq, n = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
                raise SecurityError(f"a repeated sequence of more than {MAX_SEQUENCE} items")
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and max(left.bit_length(), 1) * right > MAX_POWER_BITS
        ):
            raise SecurityError(f"a power of more than {MAX_POWER_BITS} bits")
        return super().call_binop(context, operator, left, right)

    def render(self, template: jinja2.Template, context: dict) -> str:
        """The template's text, stopped once it passes ``MAX_OUTPUT`` characters."""
        self.start()
        out, size = [], 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise SecurityError(f"the template wrote more than {MAX_OUTPUT} characters")
            out.append(chunk)
        return "".join(out)


def _bounded(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        for n in (*args, *kwargs.values()):
            if isinstance(n, int) and not isinstance(n, bool) and n > MAX_FILTER_COUNT:
                raise SecurityError(f"{name}({n}) is more than the sandbox allows ({MAX_FILTER_COUNT})")
        return fn(value, *args, **kwargs)

    if hasattr(fn, "jinja_pass_arg"):  # a filter Jinja passes its environment or context to
        bounded.jinja_pass_arg = fn.jinja_pass_arg  # type: ignore[attr-defined]
    return bounded


def error_line(exc: BaseException, folder: Path, project_root: Path, fallback: str) -> str:
    """``file:line`` of the innermost template frame of ``exc`` (files under ``folder``), for a
    one-line error instead of a traceback through Jinja's generated code."""
    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    prefix = os.path.normpath(folder) + os.sep
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith(prefix) or name == "<template>":
            filename, line = name, tb.tb_lineno
        tb = tb.tb_next
    where = fallback
    if filename and filename != "<template>":
        path = Path(filename)
        where = str(path.relative_to(project_root)) if path.is_relative_to(project_root) else filename
    return f"{where}:{line}" if line else where
