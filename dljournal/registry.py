"""The experiment registry: ``@experiment`` registers, lookups fail with close names."""
from __future__ import annotations

import difflib
import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .profiles import check_overrides, resolve
from .project import Project, ProjectError


@dataclass(frozen=True)
class ExperimentSpec:
    id: str
    report: str
    title: str
    question: str
    fn: Callable[..., Any]
    config: Any = None  # a frozen dataclass: the full recipe
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    data: tuple[str, ...] = ()  # datasets the experiment reads (part of the cache key)
    needs: tuple[str, ...] = ()  # experiments of the same report whose artifacts it reads

    def config_for(self, profile: str) -> Any:
        return resolve(self.config, self.overrides, profile)

    @property
    def where(self) -> str:
        code = self.fn.__code__
        return f"{code.co_filename}:{code.co_firstlineno}"


_REGISTRY: dict[tuple[str, str], ExperimentSpec] = {}


def experiment(id: str, *, report: str, title: str, question: str, config: Any = None,
               data: tuple[str, ...] | list[str] = (), needs: tuple[str, ...] | list[str] = (),
               smoke: Mapping[str, Any] | None = None,
               quick: Mapping[str, Any] | None = None, full: Mapping[str, Any] | None = None):
    """Register ``fn(ctx) -> Result`` as experiment ``id`` of ``report``.

    ``config`` is the full recipe; ``smoke``/``quick``/``full`` override fields of it per profile.
    """
    overrides = {k: dict(v) for k, v in (("smoke", smoke), ("quick", quick), ("full", full)) if v}

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        where = f"{report}/{id} ({fn.__module__}.{fn.__qualname__})"
        check_overrides(config, overrides, where)
        spec = ExperimentSpec(id, report, title, question, fn, config, overrides, tuple(data), tuple(needs))
        old = _REGISTRY.get((report, id))
        if old is not None and (old.fn.__module__, old.fn.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"{id} is registered twice in report {report}: {old.where} and {spec.where}")
        _REGISTRY[(report, id)] = spec
        fn.spec = spec  # type: ignore[attr-defined]
        return fn

    return register


def reports() -> list[str]:
    return sorted({r for r, _ in _REGISTRY})


def experiments_for(report: str) -> list[ExperimentSpec]:
    if report not in reports():
        raise ProjectError(f"unknown report {report!r}{_suggest(report, reports())}")
    return sorted((s for (r, _), s in _REGISTRY.items() if r == report), key=lambda s: s.id)


def get_experiment(report: str, exp_id: str) -> ExperimentSpec:
    specs = {s.id: s for s in experiments_for(report)}
    if exp_id not in specs:
        raise ProjectError(f"unknown experiment {exp_id!r} in report {report}{_suggest(exp_id, specs)}")
    return specs[exp_id]


def _suggest(name: str, known) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"{hint} (known: {', '.join(known) or 'none'})"


def import_submodules(package: str, path) -> None:
    """Import every module of an experiments package, so that a report can span several files
    (call from the package's ``__init__``: ``import_submodules(__name__, __path__)``)."""
    import pkgutil

    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        importlib.import_module(f"{package}.{info.name}")


def load_experiments(project: Project, report: str | None = None) -> list[str]:
    """Import the modules and packages under the experiments folder; return the reports found.

    With ``report``, only ``experiments/<report>`` (package or module) when that defines it: a
    cached run of one report then does not pay for importing every other report's libraries.
    A module that fails to import (a syntax error, a broken import) is named with its file and
    line: it stops the work only when it is the requested report's; otherwise it is skipped with
    a one-line warning, so one broken report does not block the others.
    """
    folder = project.experiments
    if not folder.is_dir():
        raise ProjectError(f"no experiments folder at {folder}")
    parent = str(folder.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    modules = [p for p in sorted(folder.iterdir())
               if p.suffix == ".py" and p.stem != "__init__" or (p / "__init__.py").is_file()]
    own = [p for p in modules if report is not None and p.stem == report]
    for path in own:
        _import(folder, path, project.root)  # the report's own module: its error is the answer
    if not own or report not in reports():  # a report defined elsewhere, or a typo to suggest names for
        broken = []
        for path in modules:
            try:
                _import(folder, path, project.root)
            except ProjectError as exc:
                broken.append(str(exc))
        if broken and report is not None and report not in reports():
            raise ProjectError(f"{broken[0]} (report {report} may be defined there)")
        for line in broken:
            print(f"dljournal: warning: {line}; its experiments are skipped", file=sys.stderr)
    return reports()


def _import(folder: Path, path: Path, root: Path) -> None:
    name = f"{folder.name}.{path.stem}"
    try:
        importlib.import_module(name)
    except ProjectError:
        raise
    except (Exception, SystemExit) as exc:  # SyntaxError included; SystemExit: sys.exit() at import
        raise ProjectError(f"{_where(exc, folder, root)}: cannot import {name}: "
                           f"{type(exc).__name__}: {_message(exc)}") from None


def _where(exc: BaseException, folder: Path, root: Path) -> str:
    """file:line of the error inside the experiments folder (the import machinery's frames skipped)."""
    filename, line = None, None
    if isinstance(exc, SyntaxError) and exc.filename:
        filename, line = exc.filename, exc.lineno
    else:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.startswith(str(folder) + os.sep):
                filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            tb = tb.tb_next
    if filename is None:
        return str(folder)
    path = Path(filename)
    shown = path.relative_to(root) if path.is_relative_to(root) else path
    return f"{shown}:{line}" if line else str(shown)


def _message(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return exc.msg
    return str(exc).splitlines()[0] if str(exc) else repr(exc)
