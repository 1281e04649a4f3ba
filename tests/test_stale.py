"""A result whose code changed after it ran is flagged in the PDF, and --strict refuses it."""
import linecache

from pypdf import PdfReader
from test_hostile import cli, one_line, proj, smoke  # noqa: F401  (proj is a fixture)

from dljournal.staleness import changed_parts


def pdf_text(path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def test_changed_parts_counts_removed_parts_and_skips_unreadable_data():
    old = {"code": "a", "config": "c", "data": "mnist:1234", "needs": "EXP01=k"}
    assert changed_parts(old, {"code": "b", "config": "c", "data": "mnist:1234"}) == ["code", "needs"]
    assert changed_parts(old, {**old, "data": "mnist:missing"}) == []  # no data root here: not checked
    assert changed_parts(old, {**old, "data": "mnist:9999"}) == ["data"]


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
