"""Narrative rendering: live numbers, loud failures, a sandbox, a fetcher that stays home."""

from pathlib import Path

import pytest

from dljournal.core.result import StoredResult
from dljournal.report import ReportError
from dljournal.report.pdf import project_fetcher
from dljournal.report.render import Journal, ReportSpec, format_cell, load_report_spec
from dljournal.report.views import count, num, pct, seconds, signed


def stored(tmp_path: Path, **metrics) -> StoredResult:
    return StoredResult(
        "EXP02",
        "t",
        "Title",
        "Question?",
        "quick",
        metrics or {"deep": {"test_acc": 0.98765}},
        {},
        {"models": {"columns": ["model", "test acc", "params"], "rows": [["deep", 0.5, 41306]], "caption": "cap <b>"}},
        {},
        [],
        {"epochs": 4},
        {"seconds": 3.0},
        "k",
        {},
    )


def journal(tmp_path, text: str, results=None) -> str:
    from conftest import make_project

    project = make_project(tmp_path)
    spec = ReportSpec("t", project.journal / "t", "Title")
    md = project.journal / "t" / "EXP02.md"
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(text)
    j = Journal(project, spec, results if results is not None else {"EXP02": stored(tmp_path)})
    return str(j.narrative(md, this="EXP02"))


def test_live_numbers(tmp_path):
    html = journal(
        tmp_path,
        "Deep: {{ r.EXP02.metrics.deep.test_acc | pct(2) }}, "
        "this: {{ this.metrics['deep'].test_acc | num }}, {{ this.config.epochs }} epochs",
    )
    assert "Deep: 98.77 %, this: 0.988, 4 epochs" in html


def test_missing_metric_names_experiment_and_key(tmp_path):
    with pytest.raises(ReportError) as exc:
        journal(tmp_path, "{{ r.EXP02.metrics.deep.test_accuracy | pct }}")
    msg = str(exc.value)
    assert "EXP02.metrics.deep has no 'test_accuracy'" in msg and "test_acc" in msg
    assert "journal/t/EXP02.md" in msg and "\n" not in msg


def test_missing_experiment_says_how_to_run_it(tmp_path):
    with pytest.raises(ReportError, match=r"no cached result for EXP07 .*--only EXP07"):
        journal(tmp_path, "{{ r.EXP07.metrics.x }}")


def test_a_group_is_not_a_number(tmp_path):
    with pytest.raises(ReportError, match="is a group of values"):
        journal(tmp_path, "{{ r.EXP02.metrics.deep }}")


def test_includes_come_from_the_report_folder_only(tmp_path):
    (tmp_path / "secret.md").write_text("SECRET")
    folder = tmp_path / "journal" / "t"
    folder.mkdir(parents=True)
    (folder / "_part.md").write_text("shared {{ this.config.epochs }} epochs")
    assert "shared 4 epochs" in journal(tmp_path, '{% include "_part.md" %}')
    for name in ("../../secret.md", str(tmp_path / "secret.md")):
        with pytest.raises(ReportError, match=r"EXP02.md: cannot include .*secret.md.*not a file of"):
            journal(tmp_path, '{% include "' + name + '" %}')


def test_undefined_names_and_syntax_errors_are_one_line(tmp_path):
    with pytest.raises(ReportError, match="'nothing' is undefined"):
        journal(tmp_path, "{{ nothing }}")
    with pytest.raises(ReportError, match=r"EXP02.md:2: "):
        journal(tmp_path, "ok\n{{ r.EXP02.metrics. }}")


def test_sandbox_blocks_python_internals(tmp_path):
    with pytest.raises(ReportError):
        journal(tmp_path, "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(ReportError):
        journal(tmp_path, "{{ r._results }}")


def test_tables_and_figures_escape_and_number(tmp_path):
    html = journal(tmp_path, "{{ table('models') }}\n\nsee {{ tabref('models') }}")
    assert "cap &lt;b&gt;" in html and "<td>50.00 %</td>" in html and "<td>41,306</td>" in html
    assert 'href="#tab-EXP02-models"' in html
    with pytest.raises(ReportError, match="has no figure 'nope'"):
        journal(tmp_path, "{{ fig('nope') }}")


def test_filters():
    assert pct(0.98765) == "98.8 %" and pct(None) == "n/a"
    assert num(0.000123) == "1.23e-04" and num(12.3456) == "12.3"
    assert count(41306) == "41,306" and seconds(75) == "1 min 15 s" and seconds(3.21) == "3.2 s"
    assert signed(0.0123, 2) == "+1.23 pt"
    assert format_cell("test acc", 0.5) == "50.00 %" and format_cell("params", 10) == "10"
    assert format_cell("test acc std", 0.0036) == "0.36 %" and format_cell("gap (acc) std", 0.01) == "1.00 %"
    assert format_cell("seconds to target std", 3.51) == "3.5"


def test_fetcher_reads_only_the_project(tmp_path):
    from weasyprint.urls import FatalURLFetchingError

    inside = tmp_path / "proj" / "a.css"
    inside.parent.mkdir()
    inside.write_text("p {}")
    fetch = project_fetcher([tmp_path / "proj"])
    assert fetch.fetch(inside.as_uri()).read() == b"p {}"
    for url in ("file:///etc/passwd", "http://example.com/x.png", (tmp_path / "proj" / ".." / "x").as_uri()):
        with pytest.raises(FatalURLFetchingError, match="only read files inside the project"):
            fetch.fetch(url)


def test_report_toml_is_checked(tmp_path):
    from conftest import make_project

    project = make_project(tmp_path)
    with pytest.raises(ReportError, match="report.toml not found"):
        load_report_spec(project, "nope")
    (project.journal / "x").mkdir()
    (project.journal / "x" / "report.toml").write_text('title = "T"\nauthr = "me"\n')
    with pytest.raises(ReportError, match=r"unknown key\(s\) \['authr'\]"):
        load_report_spec(project, "x")
    (project.journal / "x" / "report.toml").write_text('title = "T"\nfile_name = "dl4cv2024_{author}_module2"\n')
    assert load_report_spec(project, "x").output_name("Ivan Franko") == "dl4cv2024_Ivan_Franko_module2.pdf"
