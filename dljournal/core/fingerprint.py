"""What makes a cached result stale: code, config, profile, data, seed, engine version.

The code part follows what an experiment really calls. Objects defined in the experiment's own
module are hashed one by one (editing EXP02 leaves EXP01 fresh); engine modules are hashed whole,
with every project module they import. A package's submodules count only when something uses them,
not because the package imports them all to fill its registries: models and datasets reached by name
(``create_model("cnn_deep")``, ``data=("mnist",)``) are added through the string constants of the
experiment's code and config. Hashes are of the syntax tree, so comments and formatting never
invalidate a result. Presentation code (report rendering, CLI) never counts.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import re
import sys
import textwrap
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .files import sha

ENGINE_VERSION = "2"  # bump to invalidate every cached result (2: figures stored as specs)

_ENGINE_DIR = Path(__file__).resolve().parents[1]  # dljournal/
# Bookkeeping modules: they present, schedule, store or locate results but compute none, so
# editing them keeps results fresh. A change there that does alter results bumps ENGINE_VERSION.
_PRESENTATION = tuple(
    f"dljournal.{m}"
    for m in (
        "report",
        "cli",
        "bench",
        "figures",
        "viz",
        "observe",
        "study.compare",
        *(
            f"core.{m}"
            for m in (
                "runner",
                "cache",
                "store",
                "files",
                "provenance",
                "project",
                "fingerprint",
                "registry",
                "registries",
                "result",
                "preflight",
                "staleness",
                "keymemo",
                "fresh",
                "options",
            )
        ),
    )
)
# result: the container and its validation, not what goes in it; figures: drawn at build time from
# the data an experiment returns; observe: progress lines and TensorBoard events, which only watch;
# registries: name lookups (what a name resolves to is hashed where it is defined)


def _tree_hash(source: str) -> str:
    return sha(ast.dump(ast.parse(textwrap.dedent(source)), include_attributes=False))


def _module_file(module: types.ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


class CodeHasher:
    """Hashes the project code reachable from some root objects."""

    # A package whole brings in the objects its __init__ re-exports from its own submodules; off,
    # those count only where they are used (an experiment's keys keep the default: they predate it).
    follow_reexports = True

    def __init__(self, project_dirs: Iterable[Path], exclude: tuple[str, ...] = _PRESENTATION):
        self.exclude = exclude
        self.dirs = [Path(d).resolve() for d in (*project_dirs, _ENGINE_DIR)]
        self.parts: dict[str, str] = {}
        self.strings: set[str] = set()  # string constants of the experiment's code: registry names

    def in_project(self, module: types.ModuleType | None) -> bool:
        if module is None or (self.exclude and module.__name__.startswith(self.exclude)):
            return False
        file = _module_file(module)
        return file is not None and any(file.is_relative_to(d) for d in self.dirs)

    def add(self, obj: Any, home: types.ModuleType) -> None:
        """Hash ``obj``; objects of ``home`` (the experiment's module) one by one."""
        if getattr(obj, "__figure_kind__", None) is not None:
            return  # a figure spec's constructor: what it draws is presentation, wherever it lives
        module = obj if isinstance(obj, types.ModuleType) else inspect.getmodule(obj)
        if not self.in_project(module):
            return
        if module is not home or isinstance(obj, types.ModuleType):
            self._add_module(module)
            return
        name = f"{module.__name__}:{_name(obj)}"
        if name in self.parts:
            return
        try:
            self.parts[name] = _tree_hash(inspect.getsource(obj))
        except (OSError, TypeError, SyntaxError):
            self.parts[name] = sha(_stable_repr(obj))
        for code in _code_objects(obj):
            self.strings |= _string_consts(code)
            for global_name in _global_names(code):
                if global_name in home.__dict__:
                    self._add_value(home.__dict__[global_name], home, f"{module.__name__}.{global_name}")

    def _add_value(self, value: Any, home: types.ModuleType, label: str) -> None:
        if isinstance(value, (types.ModuleType, types.FunctionType, type)) or callable(value):
            self.add(value, home)
        elif label not in self.parts:  # a constant of the experiment's module
            self.parts[label] = sha(_stable_repr(value))
            for item in _contents(value):  # e.g. a dict of functions: their code counts too
                if callable(item) or isinstance(item, types.ModuleType):
                    self.add(item, home)

    def _add_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        if name in self.parts:
            return
        file = _module_file(module)
        self.parts[name] = _tree_hash(file.read_text()) if file and file.suffix == ".py" else sha(name)
        for value in list(vars(module).values()):
            if isinstance(value, types.ModuleType) and value.__name__.startswith(name + "."):
                continue  # a submodule the package imported to fill a registry: counted only if used
            target = value if isinstance(value, types.ModuleType) else inspect.getmodule(value)
            if not self.follow_reexports and target is not None and target.__name__.startswith(name + "."):
                continue
            if target is not None and target is not module and self.in_project(target):
                self._add_module(target)
        package = sys.modules.get(name.rpartition(".")[0]) if "." in name else None
        if package is not None and self.in_project(package):
            self._add_module(package)

    def digest(self) -> str:
        return sha(json.dumps(self.parts, sort_keys=True))


def _code_objects(obj: Any) -> list[types.CodeType]:
    if isinstance(obj, type):
        kinds = (types.FunctionType, staticmethod, classmethod, property)
        funcs = [v for v in vars(obj).values() if isinstance(v, kinds)]
        out = []
        for f in funcs:
            f = getattr(f, "__func__", None) or getattr(f, "fget", None) or f
            if isinstance(f, types.FunctionType):
                out.append(f.__code__)
        return out
    code = getattr(inspect.unwrap(obj), "__code__", None) if callable(obj) else None
    return [code] if code is not None else []


def _string_consts(code: types.CodeType) -> set[str]:
    out = {c for c in code.co_consts if isinstance(c, str)}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out |= _string_consts(const)
    return out


def strings_of(value: Any) -> set[str]:
    """Every string inside a (nested) config value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings_of(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple, set, frozenset)):
        return set().union(*(strings_of(v) for v in value)) if value else set()
    return set()


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # nested functions, lambdas, comprehensions
            names |= _global_names(const)
    return names


def _contents(value: Any) -> list:
    if isinstance(value, dict):
        return [x for v in value.values() for x in (v, *_contents(v))]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [x for v in value for x in (v, *_contents(v))]
    return []


def _name(obj: Any) -> str:
    """A description of ``obj`` that is the same in every process (no memory addresses)."""
    if isinstance(obj, types.ModuleType):
        return f"<module {obj.__name__}>"
    qual = getattr(obj, "__qualname__", None)
    if qual is not None:
        return f"<{getattr(obj, '__module__', '?')}.{qual}>"
    return _ADDRESS.sub("", repr(obj))


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _stable_repr(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return f"{type(value).__qualname__}{json.dumps(dataclasses.asdict(value), sort_keys=True, default=_name)}"
    try:
        return json.dumps(value, sort_keys=True, default=_name)
    except (TypeError, ValueError):
        return _ADDRESS.sub("", repr(value))


def code_hash(
    fn: Any,
    extra_roots: Iterable[Any] = (),
    project_dirs: Iterable[Path] = (),
    by_name: Callable[[set[str]], Iterable[Any]] = lambda names: (),
    exclude: tuple[str, ...] = _PRESENTATION,
) -> str:
    """Hash of ``fn`` and the project code it (and ``extra_roots``) can reach; ``by_name`` maps the
    string constants found in that code to objects they name (registered models, say); modules
    under ``exclude`` (presentation, by default) never count."""
    home = inspect.getmodule(fn)
    if home is None:
        raise ValueError(f"cannot find the module of {fn!r}")
    hasher = CodeHasher([*project_dirs, Path(home.__file__).resolve().parent], exclude)
    hasher.add(fn, home)
    for root in extra_roots:
        hasher.add(root, home)
    for obj in by_name(hasher.strings):
        hasher.add(obj, home)
    return hasher.digest()


def config_hash(config: Any) -> str:
    return sha(_stable_repr(config))
