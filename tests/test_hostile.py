"""Hostile input (issue 14): every attack and bad input replayed; one line, non-zero exit, nothing lost."""

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import REPO, make_project
from pypdf import PdfReader

from dljournal.cli import main
from dljournal.core.result import StoredResult
from dljournal.core.store import ResultStore
from dljournal.report import ReportError
from dljournal.report.render import Journal, ReportSpec

pytestmark = pytest.mark.usefixtures("scoped_experiments")  # registrations here never leak

EXPERIMENTS = """
import os, sys, time
import numpy as np
from dljournal import Result, experiment, viz
from dljournal.core.project import ProjectError

def figure():
    return viz.draw_xy(np.arange(2), {{"line": [0, 1]}}, "x", "y")  # x: an array, stored beside

@experiment("EXP01", report="{report}", title="one", question="q")
def one(ctx):
    tb = ctx.tensorboard_dir("run")
    tb.mkdir(parents=True, exist_ok=True)
    (tb / "events.txt").write_text(os.environ.get("HOSTILE_EVENT", "old"))
    final = ctx.project.build / "tensorboard" / "{report}" / "EXP01" / "run" / "events.txt"
    seen = final.read_text() if final.exists() else "nothing"
    if os.environ.get("HOSTILE_FAIL1"):
        raise RuntimeError("EXP01 breaks after writing events")
    return Result(metrics={{"value": 1.0}}, notes=[f"saw {{seen}}"], figures={{"line": (figure(), "a line")}})

@experiment("EXP02", report="{report}", title="two", question="q", data=("mnist",))
def two(ctx):
    mode = os.environ.get("HOSTILE_MODE", "ok")
    if mode == "exit":
        sys.exit(3)
    if mode == "project":
        raise ProjectError("dataset mnist: file not found: /nowhere/MNIST/raw")
    if mode == "hang":
        open(os.environ["HOSTILE_MARKER"], "w").close()
        time.sleep(60)
    return Result(metrics={{"value": 2.0}})
"""


@pytest.fixture
def proj(tmp_path, monkeypatch):
    """A throwaway project (its own package and report names: the registry is per process), cwd in it."""
    tag = uuid.uuid4().hex[:8]
    root, report, pkg = tmp_path / "proj", f"t_h{tag}", f"hx_{tag}"
    journal = root / "journal" / report
    for d in (root / pkg, journal):
        d.mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "pyproject.toml").write_text(f'[tool.dljournal]\ndefault_report = "{report}"\nexperiments = "{pkg}"\n')
    (root / pkg / f"{report}.py").write_text(EXPERIMENTS.format(report=report))
    (journal / "report.toml").write_text('title = "Hostile"\nfile_name = "hostile_{author}"\n')
    (journal / "description.md").write_text("Value {{ r.EXP01.metrics.value }}.\n")
    (journal / "summary.md").write_text("Done.\n")
    monkeypatch.chdir(root)
    return SimpleNamespace(
        root=root,
        report=report,
        pkg=pkg,
        journal=journal,
        build=root / "build",
        results=root / "build" / "results" / report,
    )


def cli(capsys, *argv, code):
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert rc == code, err
    assert "Traceback" not in err, err
    return err


def one_line(capsys, *argv, code=2):
    err = cli(capsys, *argv, code=code).strip()
    assert err.count("\n") == 0, err
    assert err.startswith("dljournal: error: ")
    return err


def smoke(capsys, *extra, code=0):
    return cli(capsys, "run", "--profile", "smoke", *extra, code=code)


# ---- 1. security ----------------------------------------------------------------------------------


def journal(tmp_path, text, name="EXP02.md"):
    project = make_project(tmp_path)
    folder = project.journal / "t"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    res = StoredResult(
        "EXP02",
        "t",
        "T",
        "Q",
        "quick",
        {"deep": {"acc": 0.5}},
        {},
        {},
        {},
        [],
        {"epochs": 4},
        {"seconds": 1.0},
        "k",
        {},
    )
    return str(Journal(project, ReportSpec("t", folder, "T"), {"EXP02": res}).narrative(folder / name, "EXP02"))


@pytest.mark.parametrize(
    "payload",
    [
        "{{ report.folder.joinpath('/etc/passwd').read_text() }}",
        "{{ report.folder.parent.joinpath('pwned.py').write_text('import os') }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ fig.__globals__ }}",
        "{{ fig._fn.__globals__ }}",
        "{{ r.__class__.__init__.__globals__ }}",
        "{{ this._r.figures }}",
        "{{ r | attr('__class__') }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ '{0.__class__}'.format(r) }}",
        "{{ self.__init__.__globals__ }}",
        "{{ dict.fromkeys('a') }}",
        "{{ range.__self__ }}",
        "{{ this.metrics.items.__self__._data }}",
        "{{ report.items() | list | first | attr('__class__') }}",
    ],
)
def test_sandbox_escapes_are_one_line_errors(tmp_path, payload):
    with pytest.raises(ReportError) as exc:
        journal(tmp_path, payload)
    assert "\n" not in str(exc.value) and "root:" not in str(exc.value)
    assert not (tmp_path / "journal" / "pwned.py").exists()


def test_templates_may_not_touch_a_path_even_if_handed_one(tmp_path):
    from dljournal.report.sandbox import JournalSandbox

    env = JournalSandbox(tmp_path)
    for text in ("{{ p.read_text() }}", "{{ p.parent }}", "{{ p.joinpath('x') }}"):
        with pytest.raises(Exception, match="unsafe|not safely callable"):
            env.render(env.from_string(text), {"p": Path("/etc/passwd")})


def test_templates_keep_working_with_plain_data(tmp_path):
    html = journal(
        tmp_path,
        "{% set l = [] %}{% set _ = l.append(1) %}{% set n = namespace(k=0) %}"
        "{% for k, v in this.metrics.items() %}{{ k }}{% set n.k = n.k + 1 %}"
        "{{ ',' if not loop.last }}{% endfor %} {{ report.title }} {{ n.k }}{{ l }} "
        "{{ 'a'.upper() }} {{ '{}!'.format(3) }} {{ range(3) | list }}",
    )
    assert "deep T 1[1] A 3! [0, 1, 2]" in html


def test_symlinks_out_of_the_report_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    folder = tmp_path / "journal" / "t"
    folder.mkdir(parents=True)
    (folder / "link.md").symlink_to(secret)
    with pytest.raises(ReportError, match=r"EXP02.md: cannot include 'link.md': not a file of journal/t$"):
        journal(tmp_path, "{% include 'link.md' %}")
    (folder / "summary.md").symlink_to(secret)
    with pytest.raises(ReportError, match=r"journal/t/summary.md: resolves to .*secret.txt, outside journal/t"):
        Journal(make_project(tmp_path), ReportSpec("t", folder, "T"), {}).narrative(folder / "summary.md")


def test_author_cannot_leave_build_and_is_shown_verbatim(proj, capsys):
    smoke(capsys)
    err = cli(capsys, "build", "--author", "x/../../ESCAPED <b>", code=0)
    pdf = proj.build / "hostile_x_.._.._ESCAPED_b.pdf"
    assert f"wrote {pdf.relative_to(proj.root)}" in err
    assert [p.parent for p in proj.root.parent.rglob("*.pdf")] == [proj.build]
    assert "x/../../ESCAPED <b>" in PdfReader(pdf).pages[0].extract_text()
    cli(capsys, "build", "--author", "A" * 300, code=0)  # was ENAMETOOLONG
    assert (proj.build / f"hostile_{'A' * 64}.pdf").is_file()


def test_bad_file_name_pattern(proj, capsys):
    (proj.journal / "report.toml").write_text('title = "T"\nfile_name = "{nope}"\n')
    assert "file_name '{nope}' is not a valid pattern" in one_line(capsys, "build")


# ---- 2. run and build agree on what a valid result is ----------------------------------------------


@pytest.mark.parametrize("damage", ["42", "[]", '"a string"', "figures: 1", "missing arrays", "not a spec"])
def test_invalid_results_are_rerun_not_crashed_on(proj, capsys, damage):
    smoke(capsys)
    path = proj.results / "EXP01" / "result.json"
    data = json.loads(path.read_text())
    if damage == "missing arrays":
        (proj.results / "EXP01" / "figures.npz").unlink()
    elif damage in ("figures: 1", "not a spec"):
        data["figures"] = 1 if damage == "figures: 1" else {"line": {"file": "../../../../etc/passwd"}}
        path.write_text(json.dumps(data))
    else:
        path.write_text(damage)
    assert main(["run", "--list", "--profile", "smoke"]) == 0 and "corrupt" in capsys.readouterr().out
    err = one_line(capsys, "build")
    assert "EXP01: cached result unreadable" in err and "--only EXP01" in err
    assert "EXP01 one: running, cached result unreadable" in smoke(capsys)
    cli(capsys, "build", code=0)


# ---- 3. one line for every bad input, checked before work starts -----------------------------------


@pytest.mark.parametrize("seed", ["-1", str(2**32), "abc"])
def test_seed_out_of_range(proj, capsys, seed):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--profile", "smoke", "--seed", seed])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "argument --seed" in err and "0 to 4294967295" in err


def test_cuda_without_a_gpu(proj, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert "--device cuda: torch sees no CUDA device" in one_line(
        capsys, "run", "--profile", "smoke", "--device", "cuda"
    )


def test_build_dir_that_is_a_file(proj, capsys):
    (proj.root / "afile").write_text("x")
    for cmd in ("run", "build", "report"):
        assert "is a file, not a folder" in one_line(capsys, cmd, "--build-dir", proj.root / "afile")


def test_read_only_build_dir_is_found_before_training(proj, capsys, monkeypatch):
    import dljournal.core.preflight

    if os.geteuid() != 0:  # a real read-only folder; root writes anyway, so it plays one below
        (proj.root / "ro").mkdir(mode=0o500)
        assert "cannot write to" in one_line(capsys, "run", "--profile", "smoke", "--build-dir", proj.root / "ro")

    def refuse(folder):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(dljournal.core.preflight, "_probe", refuse)
    err = one_line(capsys, "report", "--profile", "smoke")  # one line: nothing ran before it
    assert "cannot write to" in err and "Permission denied" in err
    assert not proj.results.exists() or not any(proj.results.iterdir())


def test_output_folder_or_unwritable(proj, capsys, monkeypatch):
    import dljournal.core.preflight

    smoke(capsys)
    (proj.root / "outdir").mkdir()
    assert "is a folder; give a file name" in one_line(capsys, "build", "--output", proj.root / "outdir")
    assert "is a file, not a folder" in one_line(capsys, "build", "--output", proj.root / "pyproject.toml" / "x.pdf")
    monkeypatch.setattr(
        dljournal.core.preflight, "_probe", lambda f: (_ for _ in ()).throw(PermissionError(13, "Denied"))
    )
    assert "(--output): cannot write to" in one_line(
        capsys, "report", "--profile", "smoke", "--force", "--output", proj.root / "o" / "r.pdf"
    )


def test_disk_full_while_saving_loses_nothing(proj, capsys, monkeypatch):
    import weasyprint

    smoke(capsys)
    before = (proj.results / "EXP01" / "result.json").read_text()
    pdf = Path(cli(capsys, "build", code=0).split()[1])
    fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    err = smoke(capsys, "--force", code=1)
    assert "EXP01 FAILED: cannot save the result under" in err and "No space left on device" in err
    assert (proj.results / "EXP01" / "result.json").read_text() == before
    assert not list(proj.results.glob(".tmp-*"))
    monkeypatch.setattr(os, "fsync", fsync)  # room again; the PDF must be drawn anew (its memo would skip it)...
    summary = proj.root / "journal" / proj.report / "summary.md"
    summary.write_text(summary.read_text() + "\nOne more sentence.\n")
    monkeypatch.setattr(  # ... and the renderer finds the disk full
        weasyprint.HTML,
        "write_pdf",
        lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")),
    )
    old = pdf.read_bytes()
    assert "No space left on device; the previous PDF, if any, is kept" in one_line(capsys, "build")
    assert pdf.read_bytes() == old and not list(pdf.parent.glob(".*.tmp"))


def test_a_pdf_whose_memo_cannot_be_written_is_still_the_new_pdf(proj, capsys, monkeypatch):
    smoke(capsys)
    pdf = Path(cli(capsys, "build", code=0).split()[1])
    summary = proj.root / "journal" / proj.report / "summary.md"
    summary.write_text(summary.read_text() + "\nA sentence written while the disk filled.\n")
    monkeypatch.setattr(  # the PDF is in place; then the disk is full for its memo
        "dljournal.report.pdf.atomic_write_text",
        lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")),
    )
    old = pdf.read_bytes()
    assert Path(cli(capsys, "build", code=0).split()[1]) == pdf
    assert pdf.read_bytes() != old  # the new PDF, said to be written, and written


def test_missing_data_root_is_one_line_before_anything_trains(proj, capsys):
    err = one_line(capsys, "run", "--profile", "quick", "--data-root", proj.root / "nowhere")
    assert "data root" in err and "needed by EXP02 for mnist" in err and not proj.results.exists()


@pytest.mark.parametrize(
    "text, what",
    [
        ("ok\n{{ 1/0 }}", "ZeroDivisionError"),
        ("ok\n{{ this.metrics | pct }}", "TypeError"),
        ("ok\n{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "RecursionError"),
        ("ok\n{% for i in range(10**9) %}{% endfor %}", "range() asked for more than"),
        ("ok\n{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}", "range() asked"),
        ("ok\n{{ 'x' * 10**9 }}", "repeated sequence"),
        ("ok\n{{ 10 ** (10 ** 10) }}", "a power of more than"),
        ("ok\n{{ [1] | slice(10**9) | list }}", "slice(1000000000) is more than"),
    ],
)
def test_template_runtime_errors_name_file_and_line(tmp_path, text, what):
    with pytest.raises(ReportError) as exc:
        journal(tmp_path, text)
    msg = str(exc.value)
    assert msg.startswith("journal/t/EXP02.md:2: ") and what in msg and "\n" not in msg


def test_template_error_through_the_cli(proj, capsys):
    smoke(capsys)
    (proj.journal / "summary.md").write_text("a\nb\n{{ 1/0 }}\n")
    assert f"journal/{proj.report}/summary.md:3: ZeroDivisionError" in one_line(capsys, "build")


def test_experiments_as_a_string_in_report_toml(proj, capsys):
    (proj.journal / "report.toml").write_text('title = "T"\nexperiments = "EXP01"\n')
    assert "'experiments' must be a list of experiment ids" in one_line(capsys, "build")
    (proj.journal / "report.toml").write_text('title = "T"\nexperiments = ["EXP09"]\n')
    assert "unknown experiment 'EXP09'" in one_line(capsys, "build")


def test_sys_exit_and_project_errors_fail_one_experiment(proj, capsys, monkeypatch):
    monkeypatch.setenv("HOSTILE_MODE", "exit")
    err = smoke(capsys, code=1)
    assert "EXP02 FAILED: it called sys.exit(3)" in err and (proj.results / "EXP01" / "result.json").is_file()
    monkeypatch.setenv("HOSTILE_MODE", "project")
    err = smoke(capsys, code=1)
    assert "  EXP02 FAILED: dataset mnist: file not found: /nowhere/MNIST/raw\n" in err


def test_syntax_error_names_file_and_line_and_blocks_nothing_else(proj, capsys):
    (proj.root / proj.pkg / "zz_broken.py").write_text("from dljournal import experiment\n\ndef oops(:\n")
    (proj.root / proj.pkg / f"{proj.report}.py").rename(proj.root / proj.pkg / "aa_good.py")
    err = smoke(capsys)  # the report lives in aa_good.py: every module is imported, one is broken
    assert f"warning: {proj.pkg}/zz_broken.py:3: cannot import {proj.pkg}.zz_broken: SyntaxError" in err
    assert "2/2 experiment(s) ok" in err
    err = one_line(capsys, "build", "--report", "zz_broken")
    assert f"{proj.pkg}/zz_broken.py:3: cannot import" in err


# ---- 4. two runs at once ----------------------------------------------------------------------------


def test_second_run_of_a_report_says_who_holds_it(proj, capsys):
    smoke(capsys)
    with ResultStore(proj.build / "results").lock(proj.report):  # this process plays the first run
        err = one_line(capsys, "run", "--profile", "smoke", "--force")
    assert f"report {proj.report} is being run by process {os.getpid()}" in err
    marker = proj.root / "started"
    child = subprocess.Popen(
        [sys.executable, "-m", "dljournal", "run", "--profile", "smoke", "--force"],
        cwd=proj.root,
        env={**os.environ, "HOSTILE_MODE": "hang", "HOSTILE_MARKER": str(marker), "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        t0 = time.time()
        while not marker.exists():
            assert child.poll() is None and time.time() - t0 < 120, child.stderr.read().decode()
            time.sleep(0.1)
        err = one_line(capsys, "run", "--profile", "smoke", "--force")
        assert f"is being run by process {child.pid}" in err
        assert main(["run", "--list", "--profile", "smoke"]) == 0  # reading is never blocked
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert "2/2 experiment(s) ok" in smoke(capsys, "--force")  # a killed holder frees the report


def test_tensorboard_events_are_swapped_in_after_the_save(proj, capsys, monkeypatch):
    events = proj.build / "tensorboard" / proj.report / "EXP01" / "run" / "events.txt"
    smoke(capsys)
    assert events.read_text() == "old"
    monkeypatch.setenv("HOSTILE_EVENT", "new")
    smoke(capsys, "--force")  # during the run the old events stay readable where they were
    assert ResultStore(proj.build / "results").load(proj.report, "EXP01").notes == ["saw old"]
    assert events.read_text() == "new"
    monkeypatch.setenv("HOSTILE_EVENT", "newer")
    monkeypatch.setenv("HOSTILE_FAIL1", "1")
    assert main(["run", "--profile", "smoke", "--force"]) == 1  # a failed run keeps the events of the result kept
    assert events.read_text() == "new"
    assert not any((proj.build / "tensorboard" / ".staging").iterdir())


# ---- minor ------------------------------------------------------------------------------------------


def test_files_respect_the_umask(proj, capsys):
    old = os.umask(0o022)
    try:
        smoke(capsys)
        pdf = Path(cli(capsys, "build", code=0).split()[1])
    finally:
        os.umask(old)
    assert stat.S_IMODE((proj.results / "EXP01" / "result.json").stat().st_mode) == 0o644
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o644
    figures = list((proj.build / "figures").iterdir())
    assert figures and all(stat.S_IMODE(f.stat().st_mode) == 0o644 for f in figures)
