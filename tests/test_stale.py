"""A result whose code changed after it ran is flagged in the PDF, and --strict refuses it."""

import linecache
import sys

import pytest
from pypdf import PdfReader
from test_hostile import cli, one_line, proj, smoke  # noqa: F401  (proj is a fixture)

from dljournal.core.cache import changed_parts
from dljournal.core.staleness import stale_parts

pytestmark = pytest.mark.usefixtures("scoped_experiments")


def pdf_text(path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def test_stale_parts_count_removed_parts_and_skip_unreadable_data():
    old = {"code": "a", "config": "c", "data": "mnist:1234", "needs": "EXP01=k"}
    assert stale_parts(old, {"code": "b", "config": "c", "data": "mnist:1234"}) == ["code", "needs"]
    assert stale_parts(old, {**old, "data": "mnist:missing"}) == []  # no data root here: not checked
    assert stale_parts(old, {**old, "data": "mnist:9999"}) == ["data"]


def test_changed_parts_name_added_and_removed_parts():
    old = {"needs": "EXP01=k", "code": "a", "data": "mnist:1234"}
    assert changed_parts(old, {"code": "a", "data": "mnist:missing", "seed": "1"}) == ["data", "seed", "needs"]
    assert changed_parts(old, dict(old)) == []


def test_build_flags_a_result_whose_code_changed(proj, capsys):  # noqa: F811 (a fixture)
    smoke(capsys)
    cli(capsys, "build", code=0)
    pdf = proj.build / "hostile_anonymous.pdf"
    assert "Stale result" not in pdf_text(pdf)

    module = proj.root / proj.pkg / f"{proj.report}.py"
    module.write_text(module.read_text().replace('"value": 1.0', '"value": 1.5'))  # EXP01's code, not EXP02's
    linecache.clearcache()
    cli(capsys, "build", code=0)
    text = pdf_text(pdf)
    assert "Stale result" in text and "Its code changed" in text and text.count("Stale result") == 1
    assert "STALE" in text  # the title page's list of results says which one

    err = one_line(capsys, "build", "--strict")
    assert "EXP01 is stale (its code changed)" in err and "smoke" in err


FIGURES = """
from dljournal.figures import register_panel

@register_panel("{kind}")
def draw_line(ax, y):
    ax.plot(y, color="{colour}")
"""


def test_restyling_a_figure_kind_redraws_it_and_retrains_nothing(proj, capsys):  # noqa: F811 (a fixture)
    from conftest import load_module

    from dljournal.core.project import Project
    from dljournal.core.staleness import stale_results
    from dljournal.core.store import ResultStore

    kind = f"line_{proj.pkg}"
    figs = proj.root / proj.pkg / "figs.py"
    load_module(figs, f"{proj.pkg}_figs", FIGURES.format(kind=kind, colour="red"))
    module = proj.root / proj.pkg / f"{proj.report}.py"
    module.write_text(
        f"from {proj.pkg}_figs import draw_line\n"
        + module.read_text().replace(
            '"line": (figure(), "a line")', '"line": (figure(), "a line"), "own": (draw_line([1, 3, 2]), "own kind")'
        )
    )
    sys.path.insert(0, str(proj.root / proj.pkg))
    try:
        smoke(capsys)
        cli(capsys, "build", code=0)
        before = {p.name for p in (proj.build / "figures").iterdir()}
        load_module(figs, f"{proj.pkg}_figs", FIGURES.format(kind=kind, colour="blue"))  # restyle the kind
        project = Project.find(proj.root)
        results = {e: ResultStore(project.results).load(proj.report, e) for e in ("EXP01", "EXP02")}
        assert stale_results(project, proj.report, results) == {}  # every result stays fresh
        cli(capsys, "build", code=0)
        after = {p.name for p in (proj.build / "figures").iterdir()}
        new = after - before
        assert len(new) == 1  # exactly one figure drawn anew: the restyled one; EXP01's line is cached
        svg = (proj.build / "figures" / new.pop()).read_text()
        assert "#0000ff" in svg and "#ff0000" not in svg
    finally:
        sys.path.remove(str(proj.root / proj.pkg))
