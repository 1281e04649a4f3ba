"""Shared fixtures. Tests never need the network, a GPU or ../shared (real-data tests skip)."""

from __future__ import annotations

import dataclasses
import importlib.util
import linecache
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("DLJOURNAL_OFFLINE", "1")  # tests never download weights (tests of downloads patch them)

from dljournal.core.project import Project
from dljournal.core.registry import EXPERIMENTS, load_experiments

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo_project() -> Project:
    project = Project.find(REPO)
    load_experiments(project)
    return project


@pytest.fixture
def scoped_experiments():
    """Experiments a test registers are gone after it (``pytestmark = pytest.mark.usefixtures(...)``).
    Not autouse: a test that imported the repository's experiments inside the scope would leave
    their modules imported but unregistered; ``repo_project`` (session) loads them before any scope."""
    with EXPERIMENTS.scoped():
        yield EXPERIMENTS


@pytest.fixture
def project(repo_project, tmp_path) -> Project:
    """The repository's project with a private build folder."""
    return dataclasses.replace(repo_project, build=tmp_path / "build")


@pytest.fixture(scope="session")
def smoke_build(repo_project, tmp_path_factory):
    """``smoke_build(report)``: the report run end to end in the smoke profile, PDF included.

    Each report is built once per session, into its own build folder, with no data root at all:
    the smoke profile must not touch real data.
    """
    from dljournal.core.runner import RunOptions, run
    from dljournal.report import build_report

    built = {}

    def build(report: str):
        if report not in built:
            project = dataclasses.replace(repo_project, build=tmp_path_factory.mktemp(report) / "build")
            failed = run(project, RunOptions(report=report, profile="smoke", data_root=Path("/nonexistent")))
            assert failed == 0, f"{failed} smoke experiment(s) of {report} failed"
            built[report] = (project, build_report(project, report, author="Test Author"))
        return built[report]

    return build


def load_module(path: Path, name: str, source: str):
    """Write ``source`` to ``path`` and (re)import it as module ``name``."""
    path.write_text(source)
    linecache.clearcache()
    sys.modules.pop(name, None)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_project(root: Path) -> Project:
    """An empty project layout under ``root`` (experiments/, journal/, templates/, build/)."""
    for d in ("experiments", "journal", "templates"):
        (root / d).mkdir(parents=True, exist_ok=True)
    return Project.from_config(root, {"default_report": ""})


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("../shared/data with MNIST is not present")
    return SHARED_DATA


def findings_module(report: str):
    """``experiments/<report>/findings.py``, loaded as the build loads it."""
    from dljournal.report.findings import load_findings

    return load_findings(REPO / "experiments" / report / "findings.py")


def cached_results(report: str, exp_ids) -> dict:
    """The repository's cached results of ``report`` (build/results), or a skip saying what to run."""
    from dljournal.core.store import CorruptResult, ResultStore

    store = ResultStore(REPO / "build" / "results")
    try:
        loaded = {e: store.load(report, e) for e in exp_ids}
    except CorruptResult as exc:  # e.g. written by an older version of the engine
        pytest.skip(f"a cached {report} result is unreadable, re-run the report: {exc}")
    if any(v is None for v in loaded.values()):
        pytest.skip(f"no cached {report} results under build/results (run the report first)")
    return loaded
