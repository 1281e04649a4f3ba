"""How long a rebuild takes: ``run`` + ``build`` of the default report with every result cached,
after a narrative-only edit and after a figure-only edit (the drawing code of one figure kind).
Each phase runs in its own process, as a user types it."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.files import atomic_file
from ..core.project import Project

CACHED_TARGET_S = 3.0  # run + build, nothing changed
EDIT_TARGET_S = 5.0  # run + build after a narrative or figure edit: a new PDF, nothing re-run


def _timed(project: Project, *args: str) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "dljournal", *args, "--build-dir", str(project.build)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=project.root, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return round(seconds, 2), done.stderr


def _all_cached(project: Project) -> bool:
    listing = subprocess.run(
        [sys.executable, "-m", "dljournal", "run", "--list", "--build-dir", str(project.build)],
        capture_output=True,
        text=True,
        cwd=project.root,
        check=False,
    )
    return not listing.returncode and not any(s in listing.stdout for s in (" missing ", " stale ", " corrupt "))


def cached_rebuild_seconds(project: Project) -> dict:
    """Wall seconds of ``run`` then ``build`` of the default report when every result is cached."""
    if not _all_cached(project):
        return {"skipped": "the default report's quick results are not all cached; run the experiments first"}
    _timed(project, "run")  # after an edit of the engine the key memo is taken anew, once
    _timed(project, "build")
    t_run, _ = _timed(project, "run")
    t_build, _ = _timed(project, "build")
    return {
        "run_seconds": t_run,
        "build_seconds": t_build,
        "total_seconds": round(t_run + t_build, 2),
        "target_seconds": CACHED_TARGET_S,
    }


def edit_rebuild_seconds(project: Project) -> dict:
    """Wall seconds of ``run`` then ``build`` after appending a sentence to the default report's
    summary (restored afterwards, whatever happens); fails if any experiment ran."""
    if not _all_cached(project):
        return {"skipped": "the default report's quick results are not all cached; run the experiments first"}
    summary = project.journal / project.default_report / "summary.md"
    edited = summary.read_bytes() + b"\n\nA sentence added by the rebuild benchmark.\n"
    timed = _rebuilt_after(project, summary, edited, "a narrative edit")
    _timed(project, "build")  # the PDF of the restored narrative, so the bench leaves no trace
    return timed


def figure_edit_rebuild_seconds(project: Project) -> dict:
    """Wall seconds of ``run`` then ``build`` after an edit of the drawing code of the figure kind
    the default report draws most (a line added to its function, removed afterwards); counts the
    figures drawn anew, and fails if any experiment ran."""
    if not _all_cached(project):
        return {"skipped": "the default report's quick results are not all cached; run the experiments first"}
    from ..figures.registry import get_kind
    from ..figures.spec import kinds_in

    counts = Counter()
    for stored in (project.results / project.default_report).glob("*/result.json"):
        counts.update(k for k in kinds_in(json.loads(stored.read_text())["figures"]) if k != "panels")
    if not counts:
        return {"skipped": f"{project.default_report} draws no figures"}
    kind = counts.most_common(1)[0][0]
    draw = get_kind(kind).draw
    source = Path(inspect.getsourcefile(draw))
    figures = project.build / "figures"
    before = _drawings(figures)
    timed = _rebuilt_after(project, source, _edited(source.read_text(), draw).encode(), "a figure edit")
    drawn = _drawings(figures) - before
    for path in drawn:  # the edited kind's files: nothing will ask for them again
        path.unlink()
    _timed(project, "build")  # the PDF of the restored code, so the bench leaves no trace
    return {"kind": kind, "figures_redrawn": len(drawn), **timed}


def _rebuilt_after(project: Project, path: Path, edited: bytes, what: str) -> dict:
    """Seconds of ``run`` then ``build`` with ``path`` holding ``edited``; the file is restored
    whatever happens, and an experiment that runs fails the measurement."""
    original = path.read_bytes()
    try:
        _write(path, edited)
        t_run, log = _timed(project, "run")
        ran = [line for line in log.splitlines() if ": running," in line]
        if ran:
            raise RuntimeError(f"{what} re-ran experiments: {ran}")
        t_build, _ = _timed(project, "build")
    finally:
        _write(path, original)
    return {
        "run_seconds": t_run,
        "build_seconds": t_build,
        "total_seconds": round(t_run + t_build, 2),
        "experiments_run": 0,
        "target_seconds": EDIT_TARGET_S,
    }


def _edited(text: str, fn: Callable[..., Any]) -> str:
    """``text`` with a statement added at the top of ``fn``'s body (after its docstring): new
    drawing code as far as the figure cache can tell, the same pictures."""
    node = next(
        n
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.FunctionDef) and n.name == fn.__name__ and _first_line(n) == fn.__code__.co_firstlineno
    )
    first = node.body[0]
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    edit = f"_edit = 'by the rebuild benchmark at {time.time_ns()}'"  # new each time: its figures are drawn
    node.body.insert(int(docstring), ast.parse(edit).body[0])
    lines = text.splitlines(keepends=True)
    function = textwrap.indent(ast.unparse(node), " " * node.col_offset) + "\n"
    return "".join([*lines[: _first_line(node) - 1], function, *lines[node.end_lineno :]])


def _drawings(folder: Path) -> set[Path]:
    return {p for p in folder.glob("*") if p.suffix in (".svg", ".png")}


def _first_line(node: ast.FunctionDef) -> int:
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def _write(path: Path, data: bytes) -> None:
    with atomic_file(path) as tmp:  # an interrupted benchmark never leaves half a file
        tmp.write_bytes(data)
