"""The `full` profile of every experiment, proven on CPU by a dry run: its real configuration, 2 steps
per training on tiny synthetic data, end to end through figures and the PDF (one test id per
experiment, the timm way)."""

import dataclasses
import json
import math
from pathlib import Path

import pytest
from conftest import REPO
from pypdf import PdfReader

from dljournal.core.dryrun import COUNT, EPOCHS, HELD_OUT, SAMPLES, STEPS, dry_config
from dljournal.core.project import Project
from dljournal.core.registry import experiments_for, load_experiments, reports
from dljournal.core.result import jsonable
from dljournal.core.runner import RunOptions, run
from dljournal.report import build_report
from dljournal.train import TrainConfig

load_experiments(Project.find(REPO))
REPORTS = [r for r in reports() if not r.startswith("t_")]
SPECS = [s for r in REPORTS for s in experiments_for(r)]


@pytest.fixture(scope="session")
def dry_project(repo_project, tmp_path_factory):
    """One build folder per report for the whole session: an experiment's needs run once."""
    folders = {}

    def get(report: str) -> Project:
        if report not in folders:
            folders[report] = dataclasses.replace(repo_project, build=tmp_path_factory.mktemp(report) / "dry-run")
        return folders[report]

    return get


def finite(metrics) -> bool:
    if isinstance(metrics, dict):
        return all(finite(v) for v in metrics.values())
    if isinstance(metrics, list):
        return all(finite(v) for v in metrics)
    return not isinstance(metrics, float) or math.isfinite(metrics)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.report}/{s.id}")
def test_full_profile_dry_run(dry_project, spec):
    project = dry_project(spec.report)
    opts = RunOptions(spec.report, "full", only=(spec.id,), data_root=Path("/nonexistent"), dry_run=True)
    assert run(project, opts) == 0
    data = json.loads((project.results / spec.report / spec.id / "result.json").read_text())
    assert data["profile"] == "full (dry run)" and data["metrics"]
    assert finite({k: v for k, v in data["metrics"].items() if v is not None})
    full = spec.config_for("full")
    if full is not None:  # what was trained is the full recipe, cut only in how much work there is
        assert data["config"] == json.loads(json.dumps(jsonable(dataclasses.asdict(dry_config(full)))))
        for f in dataclasses.fields(full):
            if f.name in ("width", "size", "batch_size", "lr", "hidden", "z_dim", "optimizer", "schedule"):
                assert getattr(dry_config(full), f.name) == getattr(full, f.name), f.name


@pytest.mark.parametrize("report", REPORTS)
def test_dry_run_pdf_says_so_on_every_page(dry_project, report):
    project = dry_project(report)
    assert run(project, RunOptions(report, "full", data_root=Path("/nonexistent"), dry_run=True)) == 0
    pages = [p.extract_text() for p in PdfReader(build_report(project, report, author="Test Author")).pages]
    assert len(pages) >= 5 and all("DRY RUN" in page for page in pages)


def test_dry_config_cuts_the_work_and_keeps_the_recipe():
    @dataclasses.dataclass(frozen=True)
    class Cfg(TrainConfig):
        n_train: int = 50_000
        n_val: int = 5000
        n_trials: int = 100
        fd_samples: int = 10_000
        floor_sizes: tuple[int, ...] = (100, 1000, 10_000)
        seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
        width: int = 64
        size: int = 224

    full = Cfg(epochs=30, batch_size=256, lr=3e-3, warmup_epochs=1)
    dry = dry_config(full)
    assert (dry.epochs, dry.max_steps, dry.n_trials, dry.seeds) == (EPOCHS, STEPS, COUNT, (0, 1))
    assert dry.n_train == dry.fd_samples == SAMPLES and dry.floor_sizes == (SAMPLES,) and dry.n_val == HELD_OUT
    assert (dry.batch_size, dry.lr, dry.width, dry.size, dry.warmup_epochs) == (256, 3e-3, 64, 224, 1)
    assert full.max_steps == 0  # a real run takes every batch
