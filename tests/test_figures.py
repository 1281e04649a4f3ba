"""Figures are data until the build draws them: specs, their storage, the registry, the cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dljournal import viz
from dljournal.figures import kinds
from dljournal.figures.images import overlay, to_rgb
from dljournal.figures.registry import Spec, kind_code, kind_hash
from dljournal.figures.render import figure_hash, render
from dljournal.figures.spec import Arrays, decode, encode, save_arrays

rng = np.random.default_rng(0)
CURVES = {
    "a": {
        "epoch": [1, 2, 3],
        "train_loss": [1.0, 0.5, 0.3],
        "val_loss": [1.1, 0.7, 0.6],
        "train_acc": [0.5, 0.7, 0.8],
        "val_acc": [0.4, 0.6, float("nan")],
    }
}
# one spec per figure kind: the test below fails when a kind is registered without an example
EXAMPLES = {
    "panels": lambda: viz.panels({"x": viz.draw_xy([1, 2], {"y": [3, 4]}, "x", "y")}),
    "side_by_side": lambda: viz.side_by_side({"task": {"loss": ([0, 1, 2], [3.0, 2.0, 1.0], True)}}, "step"),
    "learning_curves": lambda: viz.learning_curves(CURVES),
    "curves": lambda: viz.draw_curves(CURVES, "acc"),
    "loss": lambda: viz.draw_loss({"seeds": [CURVES["a"], CURVES["a"]]}),
    "fit": lambda: viz.draw_fit(np.linspace(0, 1, 9), np.linspace(0, 1, 9) ** 2, {"m": np.linspace(0, 1, 9)}),
    "xy": lambda: viz.draw_xy([1, 2, 3], {"a": [1, 2, 3], "b": [3, 2, 1]}, "epoch", "v", integer_x=True),
    "twin": lambda: viz.draw_twin([1, 2], {"train": [1, 2]}, {"train": [2, 1]}, "b", "loss", "sensitivity"),
    "paths": lambda: viz.draw_paths({"a": ([0, 1], [0.1, 0.2])}, "seconds", "acc"),
    "trajectories": lambda: viz.draw_trajectories([rng.normal(size=(5, 2))], [list("abcde")], ["run"]),
    "scatter": lambda: viz.draw_scatter([1, 2, 3], [3, 1, 2], "x", "y"),
    "confusion_matrix": lambda: viz.confusion_matrix([0, 1, 1], [0, 1, 0], ["cat", "dog"]),
    "confusion": lambda: viz.draw_confusion(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), ["cat", "dog"]),
    "hist": lambda: viz.draw_hist({"w": rng.normal(size=100)}, "|w|"),
    "embedding": lambda: viz.draw_embedding(rng.normal(size=(20, 2)), [0, 1] * 10, ["a", "b"], legend=True),
    "bars": lambda: viz.draw_bars(["cat → dog", "dog → cat"], [0.2, 0.1], "share"),
    "kernel_grid": lambda: viz.kernel_grid(torch.randn(8, 3, 3, 3, requires_grad=True), "stem"),
    "activation_grid": lambda: viz.activation_grid(torch.rand(2, 3, 8, 8), {"c1": torch.rand(2, 4, 4, 4)}, max_maps=2),
    "image_grid": lambda: viz.image_grid(torch.randn(5, 1, 8, 8), titles=list("abcde"), ncols=4, rescale=True),
    "explanation_grid": lambda: viz.explanation_grid(
        torch.rand(2, 3, 8, 8), {"Grad-CAM": torch.rand(2, 8, 8)}, ["a", "b"]
    ),
    "image_rows": lambda: viz.image_rows(torch.randint(0, 255, (2, 3, 3, 8, 8), dtype=torch.uint8), ["e1", "e2"]),
    "frame_grid": lambda: viz.frame_grid({"truth": torch.rand(3, 8, 8)}, ["t=1", "t=2", "t=3"]),
    "study_history": lambda: viz.study_history([0, 1, 2], [0.5, 0.7, 0.6]),
    "study_slices": lambda: viz.study_slices(
        {"lr": [(1e-3, 0.5, 0), (1e-2, 0.7, 1)], "act": [("relu", 0.5, 0)]}, log=["lr"]
    ),
}


def stored(spec: Spec, tmp_path):
    arrays: dict = {}
    data = encode(spec, arrays)
    path = tmp_path / "figures.npz"
    save_arrays(path, arrays)
    return data, Arrays(path)


@pytest.mark.parametrize("kind", sorted(kinds()))
def test_every_kind_draws_from_stored_data(kind, tmp_path):
    assert kind in EXAMPLES, f"add an example spec of {kind!r} to EXAMPLES"
    spec = EXAMPLES[kind]()
    assert spec.kind == kind
    data, arrays = stored(spec, tmp_path)
    path = render(data, arrays, tmp_path / "cache")
    raster = kinds()[kind].raster
    assert path.suffix == (".png" if raster else ".svg")
    head = path.read_bytes()[:400]
    assert head.startswith(b"\x89PNG") if raster else b"<svg" in head
    assert render(data, arrays, tmp_path / "cache") == path  # drawn once, then cached


def test_arguments_are_checked_when_the_spec_is_made():
    with pytest.raises(TypeError, match="draw_xy"):
        viz.draw_xy([1], {"a": [1]}, "x", "y", colour="red")


def test_round_trip_keeps_arrays_and_non_finite_numbers(tmp_path):
    spec = viz.panels({"a": viz.draw_xy(torch.arange(3), {"v": [1.0, float("nan"), float("inf")]}, "x", "y")})
    data, arrays = stored(spec, tmp_path)
    back = decode(data, arrays)
    xy = back.args["draws"]["a"]
    assert np.array_equal(xy.args["x"], [0, 1, 2])
    assert np.isnan(xy.args["ys"]["v"][1]) and np.isinf(xy.args["ys"]["v"][2])


def test_objects_are_refused_and_arrays_never_unpickled(tmp_path):
    with pytest.raises(TypeError, match="cannot hold a object"):
        encode(viz.draw_xy([1], {"a": [object()]}, "x", "y"), {})
    path = tmp_path / "figures.npz"
    np.savez(path, a0=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        Arrays(path)("a0")


def test_the_cache_key_is_the_data_and_the_drawing_code(tmp_path, monkeypatch):
    a, arrays = stored(viz.draw_xy([1, 2], {"y": [1, 2]}, "x", "y"), tmp_path)
    b, _ = stored(viz.draw_xy([1, 2], {"y": [1, 3]}, "x", "y"), tmp_path)
    assert figure_hash(a, arrays) != figure_hash(b, arrays)
    before = figure_hash(a, arrays)
    bars = kind_hash("bars")
    # another version of the "xy" drawing code: xy figures are drawn anew, bar charts are not
    monkeypatch.setattr("dljournal.figures.registry.kind_hash", lambda k: "changed" if k == "xy" else kind_hash(k))
    assert figure_hash(a, arrays) != before and kind_hash("bars") == bars


@pytest.mark.parametrize("kind", sorted(kinds()))
def test_a_kind_is_hashed_with_the_shared_style_and_without_unrelated_kinds(kind):
    code = kind_code(kind)
    assert "dljournal.figures.style" in code  # restyling every figure redraws every figure
    assert not any(name.startswith(("dljournal.figures.registry", "dljournal.core")) for name in code)
    whole = {name for name in code if ":" not in name}  # modules hashed whole (and module constants)
    others = {f"dljournal.figures.{m}" for m in ("charts", "curves", "images", "studies")} - {
        kinds()[kind].draw.__module__
    }
    assert not whole & others  # its own module function by function; no other kind module whole


KINDS_SOURCE = """
from dljournal.figures import panels, register_figure, register_panel

@register_panel("{p}_inner")
def draw_inner(ax, y):
    ax.plot(y, color="{inner}")

@register_panel("{p}_other")
def draw_other(ax, y):
    ax.plot(y, color="{other}")

@register_figure("{p}_outer")
def outer(y):
    return panels.__wrapped__({{"a": draw_inner(y)}})
"""


def test_a_kind_drawing_another_kinds_spec_is_redrawn_when_that_kind_changes(tmp_path):
    from conftest import load_module

    p = f"k{tmp_path.name[-6:]}".replace("-", "_")
    names = (f"{p}_inner", f"{p}_other", f"{p}_outer")

    def hashes(**colours):
        load_module(tmp_path / "kinds.py", f"{p}_kinds", KINDS_SOURCE.format(p=p, **colours))
        return dict(zip(names, map(kind_hash, names)))

    first = hashes(inner="red", other="red")
    inner_edit = hashes(inner="blue", other="red")
    assert inner_edit[f"{p}_inner"] != first[f"{p}_inner"]
    assert inner_edit[f"{p}_outer"] != first[f"{p}_outer"]  # its spec is drawn by outer: outer is stale too
    assert inner_edit[f"{p}_other"] == first[f"{p}_other"]  # a neighbour in the same module is not
    other_edit = hashes(inner="blue", other="green")
    assert other_edit[f"{p}_inner"] == inner_edit[f"{p}_inner"] and other_edit[f"{p}_outer"] == inner_edit[f"{p}_outer"]


def test_the_kind_memo_finds_drawn_files_and_never_outlives_an_edit(tmp_path, monkeypatch):
    from dljournal.figures import render as r

    data, arrays = stored(viz.draw_xy([1, 2], {"y": [1, 2]}, "x", "y"), tmp_path)
    cache = tmp_path / "figures"
    path = render(data, arrays, cache)
    memo = json.loads((cache / r.MEMO).read_text())["kinds"]
    assert {"xy", "panels"} <= memo.keys() and any(f.endswith("curves.py") for f in memo["xy"]["files"])

    def no_import(kind):
        raise AssertionError("the memo should have answered")

    monkeypatch.setattr(r, "_info", no_import)
    assert render(data, arrays, cache) == path  # found by name: nothing that draws is imported
    monkeypatch.undo()

    for damage in ("not json", json.dumps({"version": "0", "kinds": memo})):
        (cache / r.MEMO).write_text(damage)
        assert render(data, arrays, cache) == path  # a broken or foreign memo: hashes taken again
    stale = {**memo, "xy": {**memo["xy"], "hash": "old", "files": {k: [0, 0] for k in memo["xy"]["files"]}}}
    (cache / r.MEMO).write_text(json.dumps({"version": r._VERSION, "kinds": stale}))
    planted = r._path(data, arrays, cache, stale)
    planted.write_text("drawn by the old code")
    assert planted != path and render(data, arrays, cache) == path  # the stamps differ: the old hash is not used


def test_overlay_and_rgb():
    rgb = to_rgb(np.random.default_rng(0).normal(size=(2, 1, 8, 8)), rescale=True)  # grey becomes RGB, scaled per image
    assert rgb.shape == (2, 8, 8, 3) and rgb.min() >= 0 and rgb.max() <= 1
    over = overlay(rgb, np.random.default_rng(1).random((2, 8, 8)))
    assert over.shape == (2, 8, 8, 3) and 0 <= over.min() and over.max() <= 1
    pixels = np.array([0.5, 0.25, 1.5]).reshape(1, 3, 1, 1)  # pixels (``ds.norm.undo(x)``) are shown as they are
    assert np.allclose(to_rgb(pixels)[0, 0, 0], [0.5, 0.25, 1.0])  # clipped to [0, 1], never rescaled
