"""The smoke profile of every report, end to end, PDF included (the pytorch/examples dry run)."""

import json
import math

import pytest
from conftest import REPO
from pypdf import PdfReader

from dljournal.core.project import Project
from dljournal.core.registry import experiments_for, load_experiments, reports
from dljournal.core.result import FIGURE_ARRAYS
from dljournal.core.runner import RunOptions, run
from dljournal.figures.render import render
from dljournal.figures.spec import Arrays
from dljournal.report.views import num, pct

load_experiments(Project.find(REPO))
REPORTS = [r for r in reports() if not r.startswith("t_")]
SPECS = [s for r in REPORTS for s in experiments_for(r)]


def leaves(d, path=""):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from leaves(v, f"{path}.{k}")
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, d


def pdf_pages(pdf):
    return [p.extract_text() for p in PdfReader(pdf).pages]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.report}/{s.id}")
def test_every_experiment_runs_in_smoke(smoke_build, spec):
    project, _ = smoke_build(spec.report)
    folder = project.results / spec.report / spec.id
    data = json.loads((folder / "result.json").read_text())
    assert data["profile"] == "smoke" and data["metrics"] and data["figures"]
    # every metric is a finite number, or null only where it means "never reached"
    missing = [path for path, v in leaves(data["metrics"]) if v is None]
    assert all("_to_" in path for path in missing), missing  # seconds_to_target, epochs_to_level
    assert all(math.isfinite(v) for _, v in leaves(data["metrics"]) if isinstance(v, (int, float)))
    drawn = project.build / "figures"
    for name, fig in data["figures"].items():  # drawn by the build: a picture with content in it
        path = render(fig["spec"], Arrays(folder / FIGURE_ARRAYS), drawn)
        body = path.read_bytes()
        assert len(body) > 1000, name
        if path.suffix == ".svg":
            assert body.count(b"<path") >= 5, f"{name}: an SVG with almost nothing drawn"
    assert all("synthetic" in v for v in data["provenance"]["data"].values())
    assert set(data["provenance"]) >= {"commit", "device", "started", "seconds", "versions", "seed"}


@pytest.mark.parametrize("report", REPORTS)
def test_every_page_says_smoke(smoke_build, report):
    _, pdf = smoke_build(report)
    pages = pdf_pages(pdf)
    assert len(pages) >= 5
    assert all("SMOKE PROFILE" in page for page in pages)
    text = "\n".join(pages)
    for title in ("Description", "Experiment Journal", "Summary", "Test Author"):
        assert title in text


def test_hw1_pdf_holds_the_live_numbers(smoke_build):
    project, pdf = smoke_build("cpsc8430_hw1")
    assert pdf.name == "cpsc8430_hw1.pdf" and pdf.parent == project.build
    text = "\n".join(pdf_pages(pdf))
    assert "EXP01: Deep vs shallow on functions" in text and "EXP02: Deep vs shallow on MNIST" in text
    r1 = json.loads((project.results / "cpsc8430_hw1" / "EXP01" / "result.json").read_text())
    r2 = json.loads((project.results / "cpsc8430_hw1" / "EXP02" / "result.json").read_text())
    assert pct(r2["metrics"]["deep"]["test_acc"], 2) in text
    assert pct(r2["metrics"]["shallow"]["test_acc"], 2) in text
    assert num(r1["metrics"]["sinc"]["deep"]["train_loss"]) in text
    assert "Figure 1." in text and "Table 1." in text


def test_cached_rerun_skips_everything(smoke_build, capsys):
    project, _ = smoke_build("cpsc8430_hw1")
    capsys.readouterr()
    assert run(project, RunOptions(report="cpsc8430_hw1", profile="smoke")) == 0
    err = capsys.readouterr().err
    assert err.count("skipped, up to date") == len(experiments_for("cpsc8430_hw1"))
    assert "running" not in err


def test_dl4cv_report_fits_the_course_page_budget(smoke_build):
    """The course asks for 5-10 pages in all; the file name carries the author."""
    project, pdf = smoke_build("dl4cv2024_module2")
    assert pdf.name == "dl4cv2024_Test_Author_module2.pdf"
    assert 5 <= len(PdfReader(pdf).pages) <= 10
