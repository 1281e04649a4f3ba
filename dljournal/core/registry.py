"""The experiment registry: ``@experiment`` registers, lookups fail with close names."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .profiles import Recipe
from .project import Project, ProjectError
from .registries import Registry, import_submodules, suggest

__all__ = [
    "EXPERIMENTS",
    "ExperimentSpec",
    "experiment",
    "experiments_for",
    "get_experiment",
    "import_submodules",
    "load_experiments",
    "reports",
]


@dataclass(frozen=True)
class ExperimentSpec:
    id: str
    report: str
    title: str
    question: str
    fn: Callable[..., Any]
    recipe: Recipe | None = None  # the config and its per-profile overrides; None: no config
    data: tuple[str, ...] = ()  # datasets the experiment reads (part of the cache key)
    needs: tuple[str, ...] = ()  # experiments of the same report whose artifacts it reads
    item_jobs: bool = False  # under --executor submitit, each item of its ctx.map is a job (core.items)

    def config_for(self, profile: str) -> Any:
        return self.recipe.for_profile(profile) if self.recipe is not None else None


EXPERIMENTS: Registry[ExperimentSpec] = Registry("experiment", defined_by=lambda spec: spec.fn)  # "report/EXP01"


def experiment(
    id: str,
    *,
    recipe: Recipe | None = None,
    data: tuple[str, ...] | list[str] = (),
    needs: tuple[str, ...] | list[str] = (),
    item_jobs: bool = False,
    report: str | None = None,
    title: str | None = None,  # default: the docstring's first line
    question: str | None = None,  # default: the docstring's paragraph after it
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn(ctx) -> Result`` as experiment ``id`` of ``report``.

    Its title and question come from the function's docstring: its first line is the title, the
    paragraph after the blank line the question (joined into one line; later paragraphs are notes
    for the reader of the code). ``title=`` / ``question=`` win over the docstring; an experiment
    with neither is an error at import.

    The report is the package the function lives in, ``experiments/<report>/`` (its name is declared
    once: by the folder, as the journal's ``journal/<report>/``); ``report=`` names it for a module
    outside such a package. ``recipe`` is its configuration: the full recipe and what each profile
    changes of it (``ctx.cfg`` is ``recipe.for_profile(profile)``). ``item_jobs``: run by
    ``--executor submitit``, each item of its ``ctx.map`` (each run of a ``sweep``) is a job of its own.
    """
    if recipe is not None and not isinstance(recipe, Recipe):
        raise TypeError(f"experiment {id}: recipe must be a Recipe, got {type(recipe).__name__}")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        report_ = report or _report_of(fn, id)
        title_, question_ = _title_and_question(fn, id, title, question)
        spec = ExperimentSpec(id, report_, title_, question_, fn, recipe, tuple(data), tuple(needs), item_jobs)
        EXPERIMENTS.register(f"{report_}/{id}", spec)
        fn.spec = spec  # type: ignore[attr-defined]
        return fn

    return register


def _title_and_question(
    fn: Callable[..., Any], exp_id: str, title: str | None, question: str | None
) -> tuple[str, str]:
    """The keywords, else the docstring's first two paragraphs, each joined into one line."""
    doc = [" ".join(par.split()) for par in (inspect.getdoc(fn) or "").split("\n\n")] + ["", ""]
    title, question = title or doc[0], question or doc[1]
    for what, value in (("title", title), ("question", question)):
        if not value:
            raise ProjectError(
                f"{fn.__module__}.{fn.__qualname__}: experiment {exp_id} has no {what}: give the "
                f"function a docstring (title line, blank line, question), or pass {what}="
            )
    return title, question


def _report_of(fn: Callable[..., Any], exp_id: str) -> str:
    """``experiments.<report>.module`` (or ``experiments.<report>``) -> ``<report>``."""
    parts = fn.__module__.split(".")
    if len(parts) < 2:
        raise ProjectError(
            f"{fn.__module__}.{fn.__qualname__}: experiment {exp_id} has no report: put its "
            f"module under experiments/<report>/, or pass report="
        )
    return parts[1]


def reports() -> list[str]:
    return sorted({spec.report for _, spec in EXPERIMENTS.items()})


def experiments_for(report: str) -> list[ExperimentSpec]:
    if report not in reports():
        raise ProjectError(f"unknown report {report!r}{suggest(report, reports())}")
    return [spec for _, spec in EXPERIMENTS.items() if spec.report == report]  # by id: names are "report/id"


def get_experiment(report: str, exp_id: str) -> ExperimentSpec:
    ids = [spec.id for spec in experiments_for(report)]
    if exp_id not in ids:
        raise ProjectError(f"unknown experiment {exp_id!r} in report {report}{suggest(exp_id, ids)}")
    return EXPERIMENTS.get(f"{report}/{exp_id}")


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
    modules = [
        p
        for p in sorted(folder.iterdir())
        if p.suffix == ".py" and p.stem != "__init__" or (p / "__init__.py").is_file()
    ]
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
        raise ProjectError(
            f"{_where(exc, folder, root)}: cannot import {name}: {type(exc).__name__}: {_message(exc)}"
        ) from None


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
