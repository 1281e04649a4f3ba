"""The bench's own machinery, on tiny inputs (its figures are measured by ``nox -s bench``, not here)."""

from __future__ import annotations

import ast

import pytest
import torch

from dljournal.bench.profile import GROUPS, where_time_goes
from dljournal.bench.rebuild import _edited
from dljournal.core.fingerprint import _tree_hash
from dljournal.data.tensors import Dataset, Split

SOURCE = '''
import functools


def helper():
    return 1


@functools.cache
def draw(ax, y):
    """Draws y."""
    return helper() + y


def draw_plain(y): return y
'''


@pytest.mark.parametrize("name", ["draw", "draw_plain"])
def test_the_figure_edit_changes_that_function_only(name):
    namespace: dict = {}
    exec(compile(SOURCE, "<kinds>", "exec"), namespace)
    fn = getattr(namespace[name], "__wrapped__", namespace[name])
    edited = _edited(SOURCE, fn)
    before, after = _functions(SOURCE), _functions(edited)
    assert after[name] != before[name]  # a new version of the drawing code as far as hashes go
    assert {k: v for k, v in after.items() if k != name} == {k: v for k, v in before.items() if k != name}
    again: dict = {}
    exec(compile(edited, "<kinds>", "exec"), again)  # and still the same function
    args = {"ax": None, "y": 2} if name == "draw" else {"y": 2}
    assert again[name](**args) == namespace[name](**args)


def _functions(text: str) -> dict[str, str]:
    return {n.name: _tree_hash(ast.unparse(n)) for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)}


def test_where_time_goes_splits_a_step_into_named_groups():
    g = torch.Generator().manual_seed(0)
    train = Split(torch.randn(256, 1, 28, 28, generator=g), torch.randint(0, 10, (256,), generator=g))
    ds = Dataset("tiny", train, Split(train.x[:8], train.y[:8]))
    r = where_time_goes("example Net", ds, steps=4)
    assert set(r["share"]) == {g for g, _ in GROUPS} | {"other"}
    assert sum(r["share"].values()) == pytest.approx(1, abs=0.01)
    assert r["share"]["convolutions"] > 0 and r["wall_ms_per_step"] > 0
