"""The cache key: changes with code, config, profile, data and seed; not with narrative."""

import dataclasses

import pytest
from conftest import load_module, make_project

from dljournal.core.cache import cache_key, key_parts
from dljournal.core.profiles import get_profile
from dljournal.core.registry import get_experiment

pytestmark = pytest.mark.usefixtures("scoped_experiments")  # registrations here never leak

MODULE = """
from dataclasses import dataclass
from dljournal import Recipe, Result, experiment

SCALE = {scale}

@dataclass(frozen=True)
class Cfg:
    epochs: int = {epochs}

def helper(x):
    return x * SCALE  # a comment

@experiment("EXP01", report="{report}", title="one", question="q", recipe=Recipe(Cfg(), quick=dict(epochs=2)))
def one(ctx):
    return Result(metrics={{"v": helper(1)}})

@experiment("EXP02", report="{report}", title="two", question="q")
def two(ctx):
    return Result(metrics={{"v": {two}}})
"""


def keys(
    tmp_path, report="t_fp", scale=2, epochs=5, two=1, comment="# a comment", profile="quick", seed=0, data_root=None
):
    project = make_project(tmp_path)
    source = MODULE.format(report=report, scale=scale, epochs=epochs, two=two).replace("# a comment", comment)
    load_module(project.experiments / "fp_mod.py", "fp_mod", source)
    out = {}
    for exp in ("EXP01", "EXP02"):
        spec = get_experiment(report, exp)
        out[exp] = key_parts(spec, get_profile(profile), project, data_root or tmp_path, seed)
    return out


def test_same_code_same_key(tmp_path):
    assert keys(tmp_path) == keys(tmp_path)


def test_helper_change_invalidates_only_the_experiment_using_it(tmp_path):
    base, changed = keys(tmp_path), keys(tmp_path, scale=3)
    assert base["EXP01"]["code"] != changed["EXP01"]["code"]
    assert base["EXP02"]["code"] == changed["EXP02"]["code"]


def test_editing_one_experiment_leaves_the_other_fresh(tmp_path):
    base, changed = keys(tmp_path), keys(tmp_path, two=7)
    assert base["EXP02"]["code"] != changed["EXP02"]["code"]
    assert base["EXP01"] == changed["EXP01"]


def test_comments_do_not_count(tmp_path):
    assert keys(tmp_path) == keys(tmp_path, comment="# a different comment entirely")


def test_config_profile_seed_change_the_key(tmp_path):
    base = keys(tmp_path)["EXP01"]
    full = keys(tmp_path, profile="full")["EXP01"]
    assert keys(tmp_path, epochs=6, profile="full")["EXP01"]["config"] != full["config"]
    assert keys(tmp_path, epochs=6)["EXP01"]["config"] == base["config"]  # quick overrides epochs
    smoke = keys(tmp_path, profile="smoke")["EXP01"]
    assert smoke["profile"] == "smoke" and smoke["config"] != base["config"]  # quick overrides epochs
    assert cache_key(keys(tmp_path, seed=1)["EXP01"]) != cache_key(base)
    assert cache_key(keys(tmp_path, profile="full")["EXP01"]) != cache_key(base)


def test_engine_code_counts(tmp_path, monkeypatch):
    """An experiment's key covers the engine modules it reaches (here through Context -> data)."""
    import dljournal.core.fingerprint as fp

    base = keys(tmp_path)["EXP01"]["code"]
    real = fp._tree_hash
    monkeypatch.setattr(
        fp, "_tree_hash", lambda src: real(src + "\nCHANGED = 1") if "def load_dataset" in src else real(src)
    )
    assert keys(tmp_path)["EXP01"]["code"] != base


def test_data_identity_follows_file_content(tmp_path):
    project = make_project(tmp_path / "p")
    load_module(
        project.experiments / "fp_data.py",
        "fp_data",
        """
from dljournal import Result, experiment

@experiment("EXP01", report="t_fp_data", title="t", question="q", data=("mnist",))
def one(ctx):
    return Result()
""",
    )
    root = tmp_path / "data"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ):
        (raw / name).write_bytes(b"fake " + name.encode())
    spec = get_experiment("t_fp_data", "EXP01")
    first = key_parts(spec, get_profile("quick"), project, root, 0)["data"]
    assert first.startswith("mnist:") and first == key_parts(spec, get_profile("quick"), project, root, 0)["data"]
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(b"other content")
    assert key_parts(spec, get_profile("quick"), project, root, 0)["data"] != first
    assert key_parts(spec, get_profile("smoke"), project, root, 0)["data"] == "mnist:synthetic"


def test_narrative_never_changes_a_key(project, tmp_path):
    """Editing journal/*.md must not re-run anything: keys read no narrative."""
    import shutil

    journal = tmp_path / "journal"
    shutil.copytree(project.journal, journal)
    spec = get_experiment("cpsc8430_hw1", "EXP02")
    before = key_parts(spec, get_profile("smoke"), dataclasses.replace(project, journal=journal), tmp_path, 0)
    (journal / "cpsc8430_hw1" / "EXP02.md").write_text("Rewritten narrative {{ this.metrics.deep.test_acc }}")
    after = key_parts(spec, get_profile("smoke"), dataclasses.replace(project, journal=journal), tmp_path, 0)
    assert before == after


def test_keys_are_the_same_in_every_process(repo_project, tmp_path):
    """A key that embeds a memory address (a repr of a function, say) would re-run everything."""
    import json
    import subprocess
    import sys

    script = f"""
import json, dataclasses
from pathlib import Path
from dljournal.core.project import Project
from dljournal.core.registry import load_experiments, experiments_for
from dljournal.core.profiles import get_profile
from dljournal.core.cache import key_parts
p = dataclasses.replace(Project.find(Path({str(repo_project.root)!r})), build=Path({str(tmp_path)!r}))
load_experiments(p)
print(json.dumps({{s.id: key_parts(s, get_profile("quick"), p, Path("/nonexistent"), 0)
                   for s in experiments_for("cpsc8430_hw1")}}))
"""
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout)
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert len({parts["code"] for parts in runs[0].values()}) == len(runs[0])  # each experiment its own


def test_models_count_only_when_used(repo_project, tmp_path, monkeypatch):
    """EXP02 names cnn_shallow and cnn_deep in its config: their module counts, other models' don't."""
    import dljournal.core.fingerprint as fp

    spec = get_experiment("cpsc8430_hw1", "EXP02")
    real = fp._tree_hash

    def code(marker=None):
        edited = lambda src: real(src + "\nX = 1") if marker and marker in src else real(src)
        monkeypatch.setattr(fp, "_tree_hash", edited)
        return key_parts(spec, get_profile("quick"), repo_project, tmp_path, 0)["code"]

    base = code()
    assert code("class CifarCNN") == base  # another model's file changed: EXP02 stays fresh
    assert code("class DeepCNN") != base  # the model it trains changed: EXP02 is stale
