"""How long a rebuild takes: ``run`` + ``build`` of the default report with every result cached, and
after a narrative-only edit. Each phase runs in its own process, as a user types it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ..core.files import atomic_file
from ..core.project import Project

CACHED_TARGET_S = 3.0  # run + build, nothing changed
EDIT_TARGET_S = 5.0  # run + build after a narrative edit: a new PDF, nothing re-run


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
    original = summary.read_bytes()
    try:
        _write(summary, original + b"\n\nA sentence added by the rebuild benchmark.\n")
        t_run, log = _timed(project, "run")
        ran = [line for line in log.splitlines() if ": running," in line]
        if ran:
            raise RuntimeError(f"a narrative edit re-ran experiments: {ran}")
        t_build, _ = _timed(project, "build")
    finally:
        _write(summary, original)
    _timed(project, "build")  # the PDF of the restored narrative, so the bench leaves no trace
    return {
        "run_seconds": t_run,
        "build_seconds": t_build,
        "total_seconds": round(t_run + t_build, 2),
        "experiments_run": 0,
        "target_seconds": EDIT_TARGET_S,
    }


def _write(path: Path, data: bytes) -> None:
    with atomic_file(path) as tmp:  # an interrupted benchmark never leaves half a file
        tmp.write_bytes(data)
