import dataclasses

import pytest

from dljournal import Recipe, Result, experiment
from dljournal.core.profiles import get_profile
from dljournal.core.project import ProjectError
from dljournal.core.registries import Registry
from dljournal.core.registry import EXPERIMENTS, ExperimentSpec, experiments_for, get_experiment
from dljournal.data.registry import DATASETS, DatasetInfo
from dljournal.figures.registry import KINDS, Kind
from dljournal.models import MODELS, ModelEntry

pytestmark = pytest.mark.usefixtures("scoped_experiments")  # registrations here never leak

# Each process-wide registry, with how to wrap a function into one of its items.
REGISTRIES = {
    "experiment": (EXPERIMENTS, lambda fn: ExperimentSpec("EXP01", "t", "t", "q", fn)),
    "model": (MODELS, lambda fn: ModelEntry(fn.__name__, fn, (1,), 1)),
    "dataset": (DATASETS, lambda fn: DatasetInfo(fn.__name__, fn, fn, fn)),
    "figure kind": (KINDS, lambda fn: Kind(fn, panel=False, raster=False)),
}
each_registry = pytest.mark.parametrize("what", REGISTRIES)


def defined(name: str = "f"):
    """A fresh function object named ``name`` with the same module and qualname on every call:
    what re-importing a module gives."""

    def f():
        pass

    f.__name__ = name
    return f


def other():
    pass


@dataclasses.dataclass(frozen=True)
class Cfg:
    epochs: int = 10
    lr: float = 0.1


def test_decorator_registers_and_resolves_profiles():
    @experiment(
        "EXP01",
        report="t_registry",
        title="t",
        question="q",
        recipe=Recipe(Cfg(), quick=dict(epochs=3), smoke=dict(epochs=1, lr=0.5)),
    )
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


def test_recipe_resolves_each_profile():
    recipe = Recipe(Cfg(), quick=dict(epochs=3), smoke=dict(epochs=1, lr=0.5))
    assert recipe.for_profile("full") == Cfg(10, 0.1)  # no full overrides: the config itself
    assert recipe.for_profile("quick") == Cfg(3, 0.1)
    assert recipe.for_profile("smoke") == Cfg(1, 0.5)
    with pytest.raises(ProjectError, match="unknown profile 'fast'"):
        recipe.for_profile("fast")
    with pytest.raises(TypeError, match="fast"):
        Recipe(Cfg(), fast=dict(epochs=1))


def test_recipe_is_frozen_and_hashable():
    recipe = Recipe(Cfg(), quick={"epochs": 3})
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipe.quick = {}
    assert recipe.quick == (("epochs", 3),)  # the caller's dict is not kept: changing it changes nothing
    assert hash(recipe) == hash(Recipe(Cfg(), quick=dict(epochs=3)))
    assert dataclasses.replace(recipe, full=dict(lr=0.2)).for_profile("full") == Cfg(10, 0.2)


def test_replace_holds_in_every_profile():
    shared = Recipe(Cfg(), quick=dict(epochs=3), smoke=dict(epochs=1, lr=0.5))
    variant = shared.replace(lr=0.3)
    assert {p: variant.for_profile(p) for p in ("full", "quick", "smoke")} == {
        "full": Cfg(10, 0.3),
        "quick": Cfg(3, 0.3),
        "smoke": Cfg(1, 0.3),  # the smoke override of lr is dropped: the variant's value holds
    }
    assert shared.for_profile("smoke") == Cfg(1, 0.5)  # the shared recipe is unchanged
    with pytest.raises(TypeError, match=r"replace sets unknown field\(s\) \['lrr'\]"):
        shared.replace(lrr=0.3)


def test_misspelt_override_fails_at_import_time():
    with pytest.raises(
        TypeError, match=r"quick override sets unknown field\(s\) \['epoch'\]; Cfg has \['epochs', 'lr'\]"
    ):
        Recipe(Cfg(), quick=dict(epoch=3))


def test_config_must_be_a_frozen_dataclass_instance():
    @dataclasses.dataclass
    class Mutable:
        x: int = 1

    with pytest.raises(TypeError, match="must be frozen"):
        Recipe(Mutable())
    with pytest.raises(TypeError, match="must be a dataclass instance"):
        Recipe(Cfg)  # the class, not an instance
    with pytest.raises(TypeError, match="recipe must be a Recipe"):
        experiment("EXP04", report="t_bad", title="t", question="q", recipe=Cfg())


def test_same_id_from_another_function_is_an_error():
    @experiment("EXP05", report="t_dup", title="t", question="q")
    def first(ctx):
        return Result()

    with pytest.raises(ValueError, match="registered twice"):

        @experiment("EXP05", report="t_dup", title="t", question="q")
        def second(ctx):
            return Result()


def test_experiment_without_recipe_has_no_config():
    @experiment("EXP06", report="t_norecipe", title="t", question="q")
    def exp06(ctx):
        return Result()

    assert all(exp06.spec.config_for(p) is None for p in ("smoke", "quick", "full"))


def test_title_and_question_come_from_the_docstring():
    @experiment("EXP07", report="t_doc")
    def exp07(ctx):
        """Deep vs shallow

        Does a deeper network fit
        better than a shallow one?

        Notes for the reader of the code, not part of the question.
        """

    assert (exp07.spec.title, exp07.spec.question) == (
        "Deep vs shallow",
        "Does a deeper network fit better than a shallow one?",
    )


def test_keywords_win_over_the_docstring():
    @experiment("EXP08", report="t_doc", question="Which keyword?")
    def exp08(ctx):
        """From the docstring

        Not this question.
        """

    assert (exp08.spec.title, exp08.spec.question) == ("From the docstring", "Which keyword?")
    assert experiment("EXP09", report="t_doc", title="T", question="Q")(defined()).spec.title == "T"


@pytest.mark.parametrize(
    ("doc", "missing"), [(None, "title"), ("Only a title", "question"), ("Title\nno blank line", "question")]
)
def test_missing_title_or_question_is_an_error_naming_the_function(doc, missing):
    def nameless(ctx):
        pass

    nameless.__doc__ = doc
    with pytest.raises(ProjectError, match=rf"^test_registry\..*nameless: experiment EXP10 has no {missing}: [^\n]*$"):
        experiment("EXP10", report="t_nodoc")(nameless)


def test_loading_one_report_imports_only_its_package(tmp_path):
    """A run of one report must not pay for importing every other report's libraries."""
    import sys

    from conftest import make_project

    from dljournal.core.registry import load_experiments

    project = make_project(tmp_path / "proj_load_one")
    exp = project.experiments
    body = (
        "from dljournal import Result, experiment\n\n"
        '@experiment("EXP01", report="{r}", title="t", question="q")\n'
        "def e(ctx):\n    return Result()\n"
    )
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


@each_registry
def test_unknown_names_fail_with_close_names_or_the_list(what):
    registry, make = REGISTRIES[what]
    with registry.scoped():
        registry.register("zz_alpha_beta", make(defined()))
        with pytest.raises(ProjectError, match=rf"^unknown {what} 'zz_alpha_bet'; did you mean zz_alpha_beta\?$"):
            registry.get("zz_alpha_bet")
        with pytest.raises(ProjectError, match=r"^unknown .* 'qqqqqqqqqqqq' \(known: .*zz_alpha_beta"):
            registry.get("qqqqqqqqqqqq")


@each_registry
def test_a_name_claimed_by_another_function_is_refused_a_reimport_replaces(what):
    registry, make = REGISTRIES[what]
    with registry.scoped():
        first = registry.register("zz_dup", make(defined()))
        with pytest.raises(
            ValueError,
            match=rf"{what} 'zz_dup' registered twice: by .*defined.<locals>.f .*"
            r"test_registry.py:\d+\) and by .*\.other",
        ):
            registry.register("zz_dup", make(other))
        assert registry.get("zz_dup") is first
        again = registry.register("zz_dup", make(defined()))  # same module and qualname: a re-import
        assert registry.get("zz_dup") is again is not first


@each_registry
def test_scoped_leaves_the_global_registry_unchanged(what):
    registry, make = REGISTRIES[what]
    before = registry.items()
    with registry.scoped():
        registry.register("zz_scoped", make(defined()))
        if before:  # a replaced entry comes back too
            name, item = before[0]
            registry.register(name, dataclasses.replace(item))
        assert "zz_scoped" in registry and len(registry) == len(before) + 1
    assert "zz_scoped" not in registry
    assert registry.items() == before and all(a is b for (_, a), (_, b) in zip(registry.items(), before))


def test_registry_lists_sorted_and_the_decorator_registers_by_function_name():
    registry: Registry[ModelEntry] = Registry("widget", defined_by=lambda entry: entry.factory)

    @registry.decorator(make=lambda fn: ModelEntry(fn.__name__, fn, (1,), 1))
    def beta():
        pass

    registry.decorator("alpha", make=lambda fn: ModelEntry("alpha", fn, (1,), 1))(other)
    assert registry.names() == ["alpha", "beta"] and len(registry) == 2 and "beta" in registry
    assert [(n, e.factory) for n, e in registry.items()] == [("alpha", other), ("beta", beta)]
    with pytest.raises(ProjectError, match=r"^unknown widget 'gamma' \(known: alpha, beta\)$"):
        registry.get("gamma")
    with pytest.raises(ProjectError, match=r"^unknown thing 'x' \(known: none\)$"):
        Registry("thing").get("x")


def test_experiments_registered_in_a_test_do_not_leak():
    """This module's tests register experiments; the fixture removes them afterwards."""
    assert not [name for name in EXPERIMENTS.names() if name.startswith(("t_registry/", "t_lookup/", "t_dup/"))]
