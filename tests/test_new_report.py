"""Writing your own journal: `new` scaffolds a report that runs and builds at once; `build --format
html`; the "what changed since the last PDF" appendix; the live preview in a real browser."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, make_project
from pypdf import PdfReader

from dljournal.core.project import ProjectError
from dljournal.core.registry import load_experiments
from dljournal.core.runner import RunOptions, run
from dljournal.report import build_report
from dljournal.report.views import pct
from dljournal.scaffold import new_report

pytestmark = pytest.mark.usefixtures("scoped_experiments")


@pytest.fixture(autouse=True)
def _experiments_package_restored():
    """These tests import their own project's ``experiments`` package; the repository's comes back
    after each, so tests that run later (the dry run of every report) find theirs."""

    def ours() -> list[str]:
        return [m for m in sys.modules if m == "experiments" or m.startswith("experiments.")]

    saved = {m: sys.modules[m] for m in ours()}
    yield
    for m in ours():
        del sys.modules[m]
    sys.modules.update(saved)


@pytest.fixture
def project(tmp_path):
    project = make_project(tmp_path / "proj")
    shutil.copytree(REPO / "templates", project.templates, dirs_exist_ok=True)
    (project.root / "pyproject.toml").write_text('[tool.dljournal]\ndefault_report = ""\n')
    return project


def scaffold_and_run(project, name="my_report"):
    new_report(project, name, "My own report")
    for module in [m for m in sys.modules if m == "experiments" or m.startswith("experiments.")]:
        del sys.modules[module]  # another test's project had a package of the same name
    load_experiments(project, name)
    assert run(project, RunOptions(name, "smoke", data_root=Path("/nonexistent"))) == 0
    return json.loads((project.results / name / "EXP01" / "result.json").read_text())


def test_new_report_runs_and_builds_with_its_live_numbers(project):
    result = scaffold_and_run(project)
    pdf = build_report(project, "my_report", formats=("pdf", "html"))
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "My own report" in text and "EXP01: A small MLP on MNIST" in text
    assert pct(result["metrics"]["test_acc"], 2) in text  # the narrative quotes the live number
    html = pdf.with_suffix(".html").read_text()
    assert "file://" not in html and "data:image/svg+xml;base64," in html and "<style>" in html
    assert pct(result["metrics"]["test_acc"], 2) in html


@pytest.mark.parametrize("name, why", [("my_report", "exists already"), ("My-Report", "invalid"), ("class", "invalid")])
def test_new_refuses_an_existing_or_invalid_name(project, name, why):
    new_report(project, "my_report")
    before = sorted(p for p in project.root.rglob("*"))
    with pytest.raises(ProjectError, match=why):
        new_report(project, name)
    assert sorted(p for p in project.root.rglob("*")) == before  # nothing written


def test_changes_appendix_lists_what_moved(project):
    scaffold_and_run(project)
    first = build_report(project, "my_report", changes=True)
    assert "what changed since the last PDF" not in "\n".join(p.extract_text() for p in PdfReader(first).pages)
    path = project.results / "my_report" / "EXP01" / "result.json"
    data = json.loads(path.read_text())
    old, kept = data["metrics"]["test_acc"], data["metrics"]["params"]
    data["metrics"]["test_acc"] = old / 2  # a hand-edited result: one number moves
    path.write_text(json.dumps(data))
    pages = [p.extract_text() for p in PdfReader(build_report(project, "my_report", changes=True)).pages]
    appendix = pages[-1]
    assert "what changed since the last PDF" in appendix
    assert "test_acc" in appendix and pct(old, 2) in appendix and pct(old / 2, 2) in appendix
    assert "params" not in appendix and f"{kept:,}" not in appendix  # an unchanged number is not listed
    assert "1 number(s) moved" in appendix


def chromium() -> str | None:
    return next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


def dom(browser: str, url: str, tmp_path: Path) -> str:
    shot = tmp_path / "preview.png"
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([*args, f"--screenshot={shot}", "--window-size=1000,1400", url], capture_output=True, timeout=60)
    assert shot.is_file() and shot.stat().st_size > 10_000  # a page was drawn
    return subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=60).stdout


def listening_address(port: int) -> str:
    """The local address a LISTEN socket on ``port`` is bound to, from /proc/net/tcp."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            return ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return ""


def test_preview_in_a_real_browser(project, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium here (apt-get install chromium); .ci/run installs it")
    result = scaffold_and_run(project)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    server = subprocess.Popen(
        [sys.executable, "-m", "dljournal", "preview", "--report", "my_report"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = server.stdout.readline()
        url = line.split(" on ", 1)[1].split()[0]
        port = int(url.rsplit(":", 1)[1].strip("/"))
        assert listening_address(port) == "127.0.0.1"
        assert pct(result["metrics"]["test_acc"], 2) in dom(browser, url, tmp_path)
        narrative = project.journal / "my_report" / "EXP01.md"
        narrative.write_text(narrative.read_text() + "\nA sentence added while the preview runs.\n")
        deadline = time.time() + 10
        while "A sentence added while the preview runs." not in dom(browser, url, tmp_path):
            assert time.time() < deadline, "the edit did not reach the page within 10 s"
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
        assert listening_address(port) == ""  # nothing left listening
    finally:
        if server.poll() is None:
            server.kill()
