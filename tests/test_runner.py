"""Running, skipping, and surviving crashes: nothing finished is ever lost or half-written."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import load_module, make_project

from dljournal.core.cache import cache_state, key_parts
from dljournal.core.listing import list_state
from dljournal.core.profiles import get_profile
from dljournal.core.registry import get_experiment
from dljournal.core.runner import RunOptions, run
from dljournal.core.store import ResultStore

pytestmark = pytest.mark.usefixtures("scoped_experiments")  # registrations here never leak

EXPERIMENTS = '''
import os, time
from dljournal import Result, experiment, viz

class SlowArray:
    """Hangs while its figure is stored: the runner is killed while writing the result."""
    def detach(self):
        open(os.environ["EXP02_MARKER"], "w").close()
        time.sleep(60)


def figure(y=None):
    return viz.draw_xy([0, 1], {{"y": [0, 1] if y is None else y}}, "x", "y")

@experiment("EXP01", report="{report}", title="ok", question="q")
def one(ctx):
    return Result(metrics={{"value": 1.0}}, figures={{"line": (figure(), "a line")}})

@experiment("EXP02", report="{report}", title="fragile", question="q")
def two(ctx):
    mode = os.environ.get("EXP02_MODE", "ok")
    if mode == "raise":
        raise RuntimeError("boom in the middle of EXP02")
    if mode == "hang":
        open(os.environ["EXP02_MARKER"], "w").close()
        time.sleep(60)
    if mode == "hang_save":
        return Result(metrics={{"value": -1.0}}, figures={{"line": figure(SlowArray()), "zzz": figure()}})
    return Result(metrics={{"value": {value}}}, figures={{"line": figure()}})
'''


def setup(tmp_path, report, value=2.0):
    project = make_project(tmp_path / "proj")
    load_module(project.experiments / f"{report}.py", f"{report}_mod", EXPERIMENTS.format(report=report, value=value))
    return project


def opts(report, **kw):
    return RunOptions(report=report, profile="smoke", data_root=None, **kw)


def test_second_run_skips_with_reason(tmp_path, capsys):
    project = setup(tmp_path, "t_skip")
    assert run(project, opts("t_skip")) == 0
    store = ResultStore(project.results)
    saved = store.load("t_skip", "EXP01")
    assert saved.metrics == {"value": 1.0} and saved.figures["line"]["spec"]["__spec__"] == "xy"
    assert saved.figures["line"]["caption"] == "a line"
    capsys.readouterr()
    assert run(project, opts("t_skip")) == 0
    err = capsys.readouterr().err
    assert err.count("skipped, up to date") == 2
    assert run(project, opts("t_skip", force=True, only=("EXP02",))) == 0
    assert "EXP02 fragile: running, --force" in capsys.readouterr().err


def test_exception_mid_experiment_keeps_finished_results(tmp_path, monkeypatch, capsys):
    project = setup(tmp_path, "t_raise")
    assert run(project, opts("t_raise")) == 0
    store = ResultStore(project.results)
    before = (store.folder("t_raise", "EXP02") / "result.json").read_text()
    monkeypatch.setenv("EXP02_MODE", "raise")
    assert run(project, opts("t_raise", force=True)) == 1
    assert "EXP02 FAILED: RuntimeError: boom" in capsys.readouterr().err
    assert (store.folder("t_raise", "EXP02") / "result.json").read_text() == before  # old result intact
    assert store.load("t_raise", "EXP01").metrics == {"value": 1.0}
    assert not list((project.results / "t_raise").glob(".tmp-*"))


def test_failed_first_run_leaves_no_partial_result(tmp_path, monkeypatch):
    project = setup(tmp_path, "t_raise2")
    monkeypatch.setenv("EXP02_MODE", "raise")
    assert run(project, opts("t_raise2")) == 1
    assert (project.results / "t_raise2" / "EXP01" / "result.json").is_file()
    assert not (project.results / "t_raise2" / "EXP02").exists()


def _spawn(project, report, env, tmp_path):
    script = textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(project.experiments.parent)!r})
        import importlib.util
        spec = importlib.util.spec_from_file_location("{report}_mod", {str(project.experiments / (report + ".py"))!r})
        mod = importlib.util.module_from_spec(spec); sys.modules["{report}_mod"] = mod; spec.loader.exec_module(mod)
        from dljournal.core.project import Project
        from dljournal.core.runner import RunOptions, run
        from pathlib import Path
        project = Project.from_config(Path({str(project.root)!r}), {{"default_report": ""}})
        sys.exit(run(project, RunOptions(report="{report}", profile="smoke", force=True)))
    ''')
    return subprocess.Popen(
        [sys.executable, "-c", script], env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _wait_for(path, proc, timeout=60):
    t0 = time.time()
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() - t0 < timeout, "child never reached the marker"
        time.sleep(0.05)


def test_sigkill_during_experiment(tmp_path):
    project = setup(tmp_path, "t_kill")
    assert run(project, opts("t_kill")) == 0
    store = ResultStore(project.results)
    old = json.loads((store.folder("t_kill", "EXP02") / "result.json").read_text())
    marker = tmp_path / "started"
    proc = _spawn(project, "t_kill", {"EXP02_MODE": "hang", "EXP02_MARKER": str(marker)}, tmp_path)
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert json.loads((store.folder("t_kill", "EXP02") / "result.json").read_text()) == old
    assert store.load("t_kill", "EXP01").metrics == {"value": 1.0}  # re-run by the child, intact


def test_sigkill_while_saving(tmp_path):
    """Killed while writing the new result: the old one survives whole, the staging folder is
    never read as a result and is cleaned by the next run."""
    project = setup(tmp_path, "t_kill_save")
    assert run(project, opts("t_kill_save")) == 0
    store = ResultStore(project.results)
    old = (store.folder("t_kill_save", "EXP02") / "result.json").read_text()
    marker = tmp_path / "saving"
    proc = _spawn(project, "t_kill_save", {"EXP02_MODE": "hang_save", "EXP02_MARKER": str(marker)}, tmp_path)
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (store.folder("t_kill_save", "EXP02") / "result.json").read_text() == old
    leftovers = list((project.results / "t_kill_save").glob(".tmp-EXP02-*"))
    assert len(leftovers) == 1 and not (leftovers[0] / "result.json").exists()
    assert store.clean_staging("t_kill_save") == leftovers and not leftovers[0].exists()


def test_corrupt_result_is_reported_and_rerun(tmp_path, capsys):
    project = setup(tmp_path, "t_corrupt")
    assert run(project, opts("t_corrupt")) == 0
    path = project.results / "t_corrupt" / "EXP01" / "result.json"
    path.write_text('{"exp_id": "EXP01", "key": ')  # truncated
    spec = get_experiment("t_corrupt", "EXP01")
    state, why = cache_state(
        ResultStore(project.results), spec, key_parts(spec, get_profile("smoke"), project, tmp_path, 0)
    )
    assert state == "corrupt" and "unreadable" in why
    capsys.readouterr()
    assert run(project, opts("t_corrupt")) == 0
    assert "EXP01 ok: running, cached result unreadable" in capsys.readouterr().err
    assert json.loads(path.read_text())["metrics"] == {"value": 1.0}


def test_profile_switch_stashes_and_restores(tmp_path, capsys):
    project = setup(tmp_path, "t_stash")
    assert run(project, opts("t_stash", only=("EXP01",))) == 0
    smoke_key = json.loads((project.results / "t_stash" / "EXP01" / "result.json").read_text())["key"]
    assert run(project, RunOptions(report="t_stash", profile="quick", only=("EXP01",))) == 0
    assert json.loads((project.results / "t_stash" / "EXP01" / "result.json").read_text())["profile"] == "quick"
    capsys.readouterr()
    assert run(project, opts("t_stash", only=("EXP01",))) == 0
    assert "restored the cached smoke result" in capsys.readouterr().err
    data = json.loads((project.results / "t_stash" / "EXP01" / "result.json").read_text())
    assert data["key"] == smoke_key and data["profile"] == "smoke"


def test_result_must_be_a_result(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    load_module(
        project.experiments / "t_type.py",
        "t_type_mod",
        """
from dljournal import experiment

@experiment("EXP01", report="t_type", title="t", question="q")
def one(ctx):
    return {"acc": 1.0}
""",
    )
    assert run(project, opts("t_type")) == 1
    assert "expected dljournal.Result" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_metrics_are_stored_as_null(tmp_path, bad):
    from dljournal.core.result import jsonable

    assert jsonable({"a": bad, "b": [1, bad]}) == {"a": None, "b": [1, None]}


NEEDS = """
import torch
from dljournal import Result, experiment

@experiment("EXP01", report="{report}", title="producer", question="q")
def producer(ctx):
    return Result(metrics={{"v": 1.0}}, artifacts={{"weights": {{"w": torch.full((3,), {value})}}}})

@experiment("EXP02", report="{report}", title="consumer", question="q", needs=("EXP01",))
def consumer(ctx):
    w = ctx.artifact("EXP01", "weights")["w"]
    return Result(metrics={{"sum": float(w.sum())}})

@experiment("EXP03", report="{report}", title="sneaky", question="q")
def sneaky(ctx):
    ctx.artifact("EXP01", "weights")
    return Result()
"""


def test_needs_runs_producers_first_and_keys_follow_them(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    load_module(project.experiments / "t_needs.py", "t_needs_mod", NEEDS.format(report="t_needs", value=2.0))
    assert run(project, opts("t_needs", only=("EXP02",))) == 0  # EXP01 runs first, unasked
    store = ResultStore(project.results)
    assert store.load("t_needs", "EXP02").metrics == {"sum": 6.0}
    assert (store.folder("t_needs", "EXP01") / "artifacts" / "weights.pt").is_file()
    key = store.read_raw("t_needs", "EXP02")["key"]
    load_module(project.experiments / "t_needs.py", "t_needs_mod", NEEDS.format(report="t_needs", value=3.0))
    capsys.readouterr()
    assert run(project, opts("t_needs", only=("EXP02",))) == 0
    err = capsys.readouterr().err
    assert "EXP01 producer: running" in err and "EXP02 consumer: running, changed since the cached result: needs" in err
    assert store.load("t_needs", "EXP02").metrics == {"sum": 9.0} and store.read_raw("t_needs", "EXP02")["key"] != key
    capsys.readouterr()
    assert run(project, opts("t_needs", only=("EXP02",), force=True)) == 0  # forced: EXP02, not its producer
    err = capsys.readouterr().err
    assert "EXP01 producer: skipped, up to date" in err and "EXP02 consumer: running, --force" in err
    assert run(project, opts("t_needs", only=("EXP03",))) == 1
    assert "does not declare it: add needs=('EXP01',)" in capsys.readouterr().err


UNNEED = """
from dljournal import Result, experiment

DEPS = {deps}  # read by the decorator only: the code part of EXP02's key does not see it change

@experiment("EXP01", report="{report}", title="producer", question="q")
def producer(ctx):
    return Result(metrics={{"v": 1.0}})

@experiment("EXP02", report="{report}", title="consumer", question="q", needs=DEPS)
def consumer(ctx):
    return Result(metrics={{"v": 2.0}})
"""


def test_removing_needs_gives_a_reason(tmp_path):
    """Only ``needs`` changed, and it is gone from the new key: the reason still names it."""
    project = make_project(tmp_path / "p")
    load_module(
        project.experiments / "t_unneed.py", "t_unneed_mod", UNNEED.format(report="t_unneed", deps='("EXP01",)')
    )
    assert run(project, opts("t_unneed")) == 0
    load_module(project.experiments / "t_unneed.py", "t_unneed_mod", UNNEED.format(report="t_unneed", deps="()"))
    rows = {r["id"]: r for r in list_state(project, opts("t_unneed"))}
    assert rows["EXP01"]["state"] == "fresh"
    assert (rows["EXP02"]["state"], rows["EXP02"]["why"]) == ("stale", "changed since the cached result: needs removed")


def test_a_kill_between_the_renames_is_read_in_place_and_put_right_by_the_next_run(tmp_path, capsys):
    """A run killed between the two renames of a save leaves the previous result at .old-EXP:
    readers read it there without moving it; the next run, holding the lock, puts it back."""
    project = setup(tmp_path, "t_swap")
    assert run(project, opts("t_swap")) == 0
    store = ResultStore(project.results)
    final = store.folder("t_swap", "EXP01")
    old = final.parent / ".old-EXP01"
    os.rename(final, old)
    assert store.load("t_swap", "EXP01").metrics == {"value": 1.0}
    assert {r["id"]: r["state"] for r in list_state(project, opts("t_swap"))}["EXP01"] == "fresh"
    assert old.is_dir() and not final.exists()  # reading moved nothing
    capsys.readouterr()
    assert run(project, opts("t_swap")) == 0
    assert "EXP01 ok: skipped" in capsys.readouterr().err
    assert final.is_dir() and not old.exists()


def test_a_kill_after_the_commit_stashes_the_replaced_result(tmp_path):
    """Killed after the new result is in place but before the old one (another profile) was
    stashed: the next run stashes it, so switching back still costs nothing."""
    project = setup(tmp_path, "t_swap2")
    assert run(project, opts("t_swap2")) == 0
    store = ResultStore(project.results)
    final = store.folder("t_swap2", "EXP01")
    old = final.parent / ".old-EXP01"
    shutil.copytree(final, old)
    payload = json.loads((old / "result.json").read_text())
    (old / "result.json").write_text(json.dumps({**payload, "profile": "quick"}))
    assert run(project, opts("t_swap2")) == 0
    assert not old.exists() and (project.results / "t_swap2" / ".stash" / "EXP01.quick" / "result.json").is_file()
