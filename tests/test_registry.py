import dataclasses

import pytest

from dljournal import Result, experiment
from dljournal.profiles import get_profile, resolve
from dljournal.project import ProjectError
from dljournal.registry import experiments_for, get_experiment


@dataclasses.dataclass(frozen=True)
class Cfg:
    epochs: int = 10
    lr: float = 0.1


def test_decorator_registers_and_resolves_profiles():
    @experiment("EXP01", report="t_registry", title="t", question="q", config=Cfg(),
                quick=dict(epochs=3), smoke=dict(epochs=1, lr=0.5))
    def exp01(ctx):
        return Result()

    spec = get_experiment("t_registry", "EXP01")
    assert spec.fn is exp01 and exp01.spec is spec
    assert spec.config_for("full") == Cfg(10, 0.1)
    assert spec.config_for("quick") == Cfg(3, 0.1)
    assert spec.config_for("smoke") == Cfg(1, 0.5)
    assert [s.id for s in experiments_for("t_registry")] == ["EXP01"]


def test_unknown_names_suggest_close_ones():
    @experiment("EXP02", report="t_lookup", title="t", question="q")
    def exp02(ctx):
        return Result()

    with pytest.raises(ProjectError, match=r"unknown experiment 'EXP2'.*did you mean EXP02"):
        get_experiment("t_lookup", "EXP2")
    with pytest.raises(ProjectError, match=r"unknown report 't_lookp'.*did you mean t_lookup"):
        experiments_for("t_lookp")
    with pytest.raises(ProjectError, match="unknown profile 'fast'"):
        get_profile("fast")


def test_misspelt_override_fails_at_import_time():
    with pytest.raises(TypeError, match=r"unknown field\(s\) \['epoch'\]"):
        @experiment("EXP03", report="t_bad", title="t", question="q", config=Cfg(), quick=dict(epoch=3))
        def exp03(ctx):
            return Result()


def test_config_must_be_frozen():
    @dataclasses.dataclass
    class Mutable:
        x: int = 1

    with pytest.raises(TypeError, match="must be frozen"):
        experiment("EXP04", report="t_bad", title="t", question="q", config=Mutable())(lambda ctx: None)


def test_same_id_from_another_function_is_an_error():
    @experiment("EXP05", report="t_dup", title="t", question="q")
    def first(ctx):
        return Result()

    with pytest.raises(ValueError, match="registered twice"):
        @experiment("EXP05", report="t_dup", title="t", question="q")
        def second(ctx):
            return Result()


def test_resolve_without_config_is_none():
    assert resolve(None, {}, "quick") is None


def test_loading_one_report_imports_only_its_package(tmp_path):
    """A run of one report must not pay for importing every other report's libraries."""
    import sys

    from conftest import make_project
    from dljournal.registry import load_experiments

    project = make_project(tmp_path / "proj_load_one")
    exp = project.experiments
    body = ('from dljournal import Result, experiment\n\n'
            '@experiment("EXP01", report="{r}", title="t", question="q")\n'
            'def e(ctx):\n    return Result()\n')
    for r in ("load_one_a", "load_one_b"):
        (exp / r).mkdir()
        (exp / r / "__init__.py").write_text(body.format(r=r))
    (exp / "__init__.py").write_text("")
    name = exp.name
    saved = {m: sys.modules.pop(m) for m in list(sys.modules) if m == name or m.startswith(name + ".")}
    sys.path.insert(0, str(exp.parent))  # this project's experiments package, not the repository's
    try:
        assert "load_one_a" in load_experiments(project, "load_one_a")
        assert f"{name}.load_one_b" not in sys.modules
        assert "load_one_b" in load_experiments(project, "no_such_report")  # unknown: everything, for hints
    finally:
        sys.path.remove(str(exp.parent))
        for m in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[m]
        sys.modules.update(saved)
