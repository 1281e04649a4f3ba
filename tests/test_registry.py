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
