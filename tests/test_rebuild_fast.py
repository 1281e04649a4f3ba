"""A rebuild with nothing to do imports neither torch nor the experiments, and still sees a change:
the command line loads lazily, and cache keys come from the key memo while the sources are unchanged."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, make_project

HEAVY = ("torch", "matplotlib", "weasyprint", "experiments")


def _python(code: str, cwd) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _cli(args: list[str], cwd) -> str:
    """``dljournal ARGS`` in a fresh process; prints which heavy modules it imported."""
    imported = "sorted({m.split('.')[0] for m in sys.modules} & set(" + repr(HEAVY) + "))"
    code = f"import sys\nfrom dljournal.cli import main\nprint({imported} if main({args!r}) == 0 else 'failed')"
    return _python(code, cwd)


def test_the_command_line_imports_no_torch():
    assert _python(f"import sys, dljournal.cli; print(sorted(set(sys.modules) & set({HEAVY!r})))", REPO) == "[]"


@pytest.fixture
def project(tmp_path):
    project = make_project(tmp_path / "proj")
    shutil.copytree(REPO / "templates", project.templates, dirs_exist_ok=True)
    (project.root / "pyproject.toml").write_text('[tool.dljournal]\ndefault_report = "tiny"\n')
    assert _cli(["new", "tiny"], project.root) != "failed"
    assert _cli(["run", "--profile", "smoke", "--data-root", "/nonexistent"], project.root) != "failed"
    return project


def test_a_cached_rebuild_imports_no_torch_and_an_edit_is_still_stale(project):
    smoke = ["--profile", "smoke", "--data-root", "/nonexistent"]
    assert "torch" in _cli(["build"], project.root)  # first build: computes the keys, remembers them
    assert _cli(["run", *smoke], project.root) == "[]"
    # nor matplotlib: the figures' drawing code is unchanged, so their files are found by name
    assert _cli(["build"], project.root) == "[]"
    memo = json.loads((project.build / "cache" / "keys" / "tiny.json").read_text())
    assert memo["experiments"][0]["id"] == "EXP01"

    module = next(p for p in (project.experiments / "tiny").glob("*.py") if "lr=1e-3" in p.read_text())
    module.write_text(module.read_text().replace("lr=1e-3", "lr=2e-3", 1))  # the experiment's config changed
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    listing = subprocess.run(
        [sys.executable, "-m", "dljournal", "run", "--list", *smoke],
        capture_output=True,
        text=True,
        cwd=project.root,
        env=env,
        check=True,
    ).stdout
    assert " stale " in listing and "config" in listing
    assert "torch" in _cli(["build"], project.root)  # the memo no longer holds: keys from the edited code


def test_figures_are_drawn_in_the_background_and_a_failed_one_is_named(project):
    assert "torch" in _cli(["build"], project.root)  # remembers the keys: later builds load no torch
    figures = project.build / "figures"
    for f in figures.glob("*.svg"):
        f.unlink()
    assert "torch" not in _cli(["build"], project.root)  # so the drawer may fork
    assert list(figures.glob("learning_curves-*.svg"))

    stored = project.results / "tiny" / "EXP01" / "result.json"
    result = json.loads(stored.read_text())
    result["figures"]["curves"]["spec"]["args"]["histories"]["MLP"]["train_loss"] = [1.0]  # one point for two epochs
    stored.write_text(json.dumps(result))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "dljournal", "build"], capture_output=True, text=True, cwd=project.root, env=env
    )
    assert done.returncode != 0
    assert (
        "EXP01: figure 'curves' (learning_curves) cannot be drawn: ValueError" in done.stderr.strip().splitlines()[-1]
    )


KIND = """from dljournal.figures import register_panel


@register_panel("tiny_line")
def draw_tiny_line(ax, y):
    ax.plot(y, color="red")
"""


def test_a_projects_own_figure_kind_is_drawn_by_a_build_that_imports_no_experiments(project):
    (project.experiments / "tiny" / "figs.py").write_text(KIND)
    module = project.experiments / "tiny" / "mlp.py"
    source = module.read_text().replace(
        '"curves": (', '"mine": (draw_tiny_line([1, 3, 2]), "our own kind"),\n"curves": ('
    )
    module.write_text("from experiments.tiny.figs import draw_tiny_line\n" + source)
    page = project.journal / "tiny" / "EXP01.md"
    page.write_text(page.read_text() + '\n{{ fig("mine") }}\n')
    smoke = ["--profile", "smoke", "--data-root", "/nonexistent"]
    assert _cli(["run", *smoke], project.root) != "failed"
    assert "torch" in _cli(["build"], project.root)  # remembers the keys
    for f in (project.build / "figures").glob("*.svg"):
        f.unlink()
    assert _cli(["build"], project.root) != "failed"  # the kind's module is imported to draw it
    assert any("#ff0000" in f.read_text() for f in (project.build / "figures").glob("panels-*.svg"))
