"""The findings of the CNN-basics report (experiments/cnn_basics/findings.py) on hand-made results, each
verdict where it holds and where it fails, and once on the cached quick results when they exist."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from conftest import cached_results, findings_module

from dljournal.report.findings import fake_result, plain

REPO = Path(__file__).resolve().parent.parent
REPORT = "cnn_basics"
EXPERIMENTS = [f"EXP0{i}" for i in range(1, 6)]


F = findings_module(REPORT)


def _grid(accs: dict[tuple[float, int], float]) -> list[dict]:
    return [{"lr": lr, "batch_size": bs, "val acc": a} for (lr, bs), a in accs.items()]


def _arch(
    dataset: str,
    grid: list[dict],
    torch_acc: float,
    keras_acc: float,
    params: int,
    *,
    train_acc: float = 0.9,
    val: list[float] | None = None,
    config: dict | None = None,
) -> dict:
    return {
        "metrics": {
            "pytorch": {"params": params, "test_acc": torch_acc, "train_acc": train_acc},
            "keras": {"params": params, "test_acc": keras_acc},
            "params_equal": True,
            "grid": grid,
        },
        "history": {"PyTorch": {"val_acc": val or [0.4, 0.5, 0.6]}},
        "config": config or {},
        "dataset": dataset,
    }


def base() -> dict:
    """Hand-made results like the quick ones: LeNet's frameworks agree, VGG is near chance."""
    return {
        "EXP01": _arch(
            "mnist",
            _grid({(1e-3, 64): 0.93, (1e-3, 256): 0.84, (3e-3, 64): 0.96, (3e-3, 256): 0.92}),
            0.9926,
            0.9922,
            61706,
        ),
        "EXP02": _arch(
            "cifar100",
            _grid({(1e-3, 64): 0.021, (1e-3, 128): 0.013, (3e-3, 64): 0.017, (3e-3, 128): 0.020}),
            0.081,
            0.064,
            967764,
            train_acc=0.06,
            config={"arch_kwargs": [["width", 0.25]]},
        ),
        "EXP03": _arch(
            "cifar10",
            _grid({(1e-3, 64): 0.31, (1e-3, 256): 0.21, (3e-3, 64): 0.26, (3e-3, 256): 0.23}),
            0.635,
            0.618,
            78042,
            val=[0.43, 0.49, 0.59, 0.63, 0.64],
        ),
        "EXP04": {
            "metrics": {
                "cam_centre_share": {"correct": {"mean": 0.338, "n": 500}, "wrong": {"mean": 0.340, "n": 500}},
                "cam_centre_uniform": 0.25,
            }
        },
        "EXP05": {
            "metrics": {
                "probe": {"test_acc": 0.90},
                "finetune": {"test_acc": 0.882},
                "scratch": {"test_acc": 0.382},
                "n_test": 500,
            }
        },
    }


def run(spec: dict | None = None) -> dict:
    results = {}
    for e, kw in (spec or base()).items():
        kw = dict(kw)
        dataset = kw.pop("dataset", None)
        r = fake_result(e, **kw)
        if dataset:
            r.provenance["data"] = {dataset: {}}
        results[e] = r
    return plain(F.findings(results))


def changed(**edits) -> dict:
    spec = copy.deepcopy(base())
    for exp, edit in edits.items():
        edit(spec[exp])
    return run(spec)


# ---- the grid studies ------------------------------------------------------------------------------


def test_grid_smaller_batch_wins_at_every_learning_rate():
    g = run()["grid"]["EXP01"]
    assert (g["acc_min"], g["acc_max"]) == (0.84, 0.96)
    assert g["small_wins_all"] and not g["large_wins_all"] and not g["tied"] and not g["near_chance"]
    assert g["update_ratio"] == 4 and g["chance"] == pytest.approx(0.1)


def test_grid_tied_and_near_chance_on_cifar100():
    g = run()["grid"]["EXP02"]
    assert g["tied"] and g["near_chance"] and g["chance"] == pytest.approx(0.01)


def test_grid_tied_but_not_near_chance_on_mnist():
    flat = _grid({(1e-3, 64): 0.95, (1e-3, 256): 0.96, (3e-3, 64): 0.955, (3e-3, 256): 0.95})
    g = changed(EXP01=lambda s: s["metrics"].update(grid=flat))["grid"]["EXP01"]
    assert g["tied"] and not g["near_chance"]


def test_grid_larger_batch_wins_and_interaction():
    large = _grid({(1e-3, 64): 0.5, (1e-3, 256): 0.6, (3e-3, 64): 0.5, (3e-3, 256): 0.7})
    mixed = _grid({(1e-3, 64): 0.6, (1e-3, 256): 0.5, (3e-3, 64): 0.5, (3e-3, 256): 0.7})
    g = changed(EXP03=lambda s: s["metrics"].update(grid=large))["grid"]["EXP03"]
    assert g["large_wins_all"] and not g["small_wins_all"]
    g = changed(EXP03=lambda s: s["metrics"].update(grid=mixed))["grid"]["EXP03"]
    assert not g["large_wins_all"] and not g["small_wins_all"]


def test_grid_with_one_learning_rate_and_an_unknown_dataset():
    one = _grid({(1e-3, 64): 0.2, (1e-3, 256): 0.1})

    def edit(s):
        s["metrics"]["grid"] = one
        s["dataset"] = "synthetic"

    g = changed(EXP03=edit)["grid"]["EXP03"]
    assert g["small_wins_all"] and g["chance"] is None and not g["near_chance"]


# ---- frameworks, VGG, ResNet -----------------------------------------------------------------------


def test_frameworks_agree_only_on_lenet():
    f = run()
    assert f["frameworks"]["EXP01"]["agree"] and not f["frameworks"]["EXP02"]["agree"]
    assert f["frameworks"]["EXP02"]["gap"] == pytest.approx(0.017)
    assert (f["agree"], f["disagree"]) == ("LeNet-5", "VGG-16, ResNet-8")
    assert f["hypotheses"]["frameworks_agree"] is False
    assert f["params_equal_all"] and f["params_differ"] == ""


def test_frameworks_all_agree_and_params_differ():
    def close(s):
        s["metrics"]["keras"]["test_acc"] = s["metrics"]["pytorch"]["test_acc"] - 0.001

    f = changed(EXP02=close, EXP03=lambda s: (close(s), s["metrics"].update(params_equal=False)))
    assert f["hypotheses"]["frameworks_agree"] is True and f["disagree"] == "none"
    assert not f["params_equal_all"] and f["params_differ"] == "ResNet-8"


def test_vgg_scaled_and_unconverged_or_not():
    f = run()
    assert f["vgg"] == {"width": 0.25, "scaled": True, "train_acc": 0.06, "unconverged": True}
    assert f["hypotheses"]["vgg_needs_more"] is True
    g = changed(EXP02=lambda s: (s["metrics"]["pytorch"].update(train_acc=0.8), s.update(config={})))
    assert g["vgg"]["scaled"] is False and g["vgg"]["unconverged"] is False and not g["hypotheses"]["vgg_needs_more"]


def test_resnet_params_ratio_and_validation_curve():
    f = run()["resnet"]
    assert f["fewer_params_than_vgg"] == pytest.approx(967764 / 78042)
    assert f["val_rises_every_epoch"] and (f["val_first"], f["val_last"]) == (0.43, 0.64)
    g = changed(EXP03=lambda s: s["history"]["PyTorch"].update(val_acc=[0.4, 0.5, 0.45, 0.6]))["resnet"]
    assert g["val_rises_every_epoch"] is False
    one = changed(EXP03=lambda s: s["history"]["PyTorch"].update(val_acc=[0.4]))["resnet"]
    assert one["val_rises_every_epoch"] is False  # one epoch shows no trend


# ---- Grad-CAM --------------------------------------------------------------------------------------


def test_cam_correct_above_uniform_and_mistakes_not_shown_to_differ():
    f = run()["cam"]
    assert f["correct_above_uniform"] and f["above_uniform_p"] == "p < 0.001"
    assert not f["wrong_less_central"] and not f["wrong_more_central"]
    assert f["wrong_minus_correct"] == pytest.approx(0.002)
    assert f["bound_se_pt"] == pytest.approx(100 * math.sqrt((0.338 * 0.662 + 0.34 * 0.66) / 500))


def test_cam_mistakes_clearly_less_central_and_correct_not_above_uniform():
    def edit(s):
        s["metrics"]["cam_centre_share"] = {"correct": {"mean": 0.26, "n": 50}, "wrong": {"mean": 0.10, "n": 500}}

    f = changed(EXP04=edit)
    assert f["cam"]["wrong_less_central"] and not f["cam"]["correct_above_uniform"]
    assert f["hypotheses"]["cam_central_when_right"] is False


def test_cam_without_mistakes_measures_nothing():
    def edit(s):
        s["metrics"]["cam_centre_share"]["wrong"] = {"mean": None, "n": 0}

    f = changed(EXP04=edit)["cam"]
    assert f["above_uniform_p"] == "not measured" and not f["correct_above_uniform"] and not f["wrong_less_central"]


def test_cam_mistakes_clearly_more_central():
    def edit(s):
        s["metrics"]["cam_centre_share"]["wrong"] = {"mean": 0.5, "n": 500}

    assert changed(EXP04=edit)["cam"]["wrong_more_central"]


# ---- transfer --------------------------------------------------------------------------------------


def test_transfer_clears_the_bar_by_a_wide_margin():
    f = run()
    t = f["transfer"]
    assert t["best"] == "the linear probe" and t["best_acc"] == 0.9 and t["clears_bar"]
    assert t["vs_scratch"]["diff"] == pytest.approx(0.518) and t["vs_scratch"]["beyond_sampling"]
    assert t["finetune_better"] is False and not t["finetune_vs_probe"]["beyond_sampling"]
    assert t["finetune_vs_probe"]["se_pt"] == pytest.approx(100 * math.sqrt((0.882 * 0.118 + 0.9 * 0.1) / 500))
    assert f["hypotheses"]["transfer_wide_margin"] is True


def test_transfer_below_the_bar_and_no_wide_margin():
    def edit(s):
        s["metrics"].update(probe={"test_acc": 0.45}, finetune={"test_acc": 0.60}, scratch={"test_acc": 0.55})

    f = changed(EXP05=edit)
    t = f["transfer"]
    assert t["best"] == "fine-tuning" and not t["clears_bar"] and t["finetune_better"]
    assert t["finetune_vs_probe"]["beyond_sampling"]
    assert not t["wide_margin"] and f["hypotheses"]["transfer_wide_margin"] is False


# ---- the cached results ----------------------------------------------------------------------------


def test_findings_on_the_cached_results():
    f = plain(F.findings(cached_results(REPORT, EXPERIMENTS)))
    json.dumps(f)  # plain data only
    assert {"grid", "frameworks", "vgg", "resnet", "cam", "transfer", "hypotheses"} <= set(f)
    assert set(f["grid"]) == {"EXP01", "EXP02", "EXP03"}
    assert all(isinstance(v, bool) for v in f["hypotheses"].values())
    assert f["grid"]["EXP02"]["chance"] == pytest.approx(0.01)  # CIFAR-100 recognised from the provenance
