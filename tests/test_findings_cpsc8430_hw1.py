"""The findings of the HW1 report (experiments/cpsc8430_hw1/findings.py) on hand-made results, each
verdict where it holds and where it fails, and once on the cached quick results when they exist."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from conftest import cached_results, findings_module
from scipy import stats

from dljournal.report.findings import fake_result, plain

REPO = Path(__file__).resolve().parent.parent
REPORT = "cpsc8430_hw1"
EXPERIMENTS = [f"EXP0{i}" for i in range(1, 10)]


F = findings_module(REPORT)


def _loss(mean: float, std: float, test: float | None = None) -> dict:
    return {"params": 571, "train_loss": mean, "train_loss_std": std, "test_loss": mean if test is None else test}


def _row(bs: int, sens: float, test_loss: float, train_loss: float = 0.1, acc: float = 0.97) -> dict:
    return {
        "batch size": bs,
        "train loss": train_loss,
        "test loss": test_loss,
        "train acc": acc,
        "test acc": acc,
        "sensitivity": sens,
    }


def _width(units: int, test_acc: float, train_loss: float, test_loss: float, gap: float) -> dict:
    return {
        "hidden units": units,
        "params": 800 * units,
        "train loss": train_loss,
        "test loss": test_loss,
        "train acc": test_acc + gap,
        "test acc": test_acc,
        "gap (acc)": gap,
    }


def base() -> dict:
    """Hand-made results in which every hypothesis holds: {exp_id: fake_result keyword arguments}."""
    alphas = [round(-1 + 0.5 * i, 2) for i in range(7)]  # -1, -0.5, 0, 0.5, 1, 1.5, 2
    return {
        "EXP01": {
            "metrics": {
                "sinc": {"shallow": _loss(1e-3, 1.5e-3), "medium": _loss(3e-5, 1e-5), "deep": _loss(3.3e-5, 4e-5)},
                "sign": {"shallow": _loss(0.25, 0.03), "medium": _loss(0.04, 0.02), "deep": _loss(0.02, 0.005, 0.022)},
            },
            "config": {"seeds": [0, 1, 2]},
        },
        "EXP02": {"metrics": {"shallow": {"test_acc": 0.988}, "deep": {"test_acc": 0.992}}},
        "EXP03": {
            "metrics": {
                "whole_model": {"explained_pc1": 0.3, "explained_pc2": 0.3, "parameters": 1000},
                "first_layer": {"parameters": 900},
                "first_layer_disparity": 0.001,
                "endpoint_distance": 20.0,
                "travel_distance": 14.0,
                "val_acc_mean": 0.963,
                "val_acc_min": 0.960,
            }
        },
        "EXP04": {
            "metrics": {
                t: {
                    "first_loss": 2.0,
                    "final_loss": 0.06,
                    "first_grad_norm": 1.6,
                    "last10pct_grad_norm": 0.64,
                    "full_batch_grad_norm": 0.23,
                }
                for t in ("function", "mnist")
            }
        },
        "EXP05": {
            "metrics": {"ratio_max": 0.6, "corr_ratio_loss": -0.8},
            "history": {"runs": [{"minimal_ratio": 0.5, "ratio_nonflat": 0.6} for _ in range(20)]},
        },
        "EXP06": {
            "metrics": {
                "final_train_acc": 1.0,
                "final_test_loss": 10.0,
                "min_test_loss": 2.3,
                "final_test_acc": 0.11,
                "epochs_to_level": {"random labels": 25, "true labels": 2},
            },
            "config": {"epochs": 80},
        },
        "EXP07": {
            "metrics": {
                "smallest": _width(2, 0.55, 1.2, 1.2, 0.01),
                "largest": _width(2048, 0.9748, 0.005, 0.10, 0.024),
                "best_test": _width(1024, 0.9752, 0.002, 0.09, 0.025),
                "larger_than_min": 1,
                "n_train": 20000,
            }
        },
        "EXP08": {
            "metrics": {
                "batch64": {"test_loss": 0.07, "test_acc": 0.979},
                "batch1024": {"test_loss": 0.13, "test_acc": 0.962},
                "max_test_loss_between": 0.13,
            },
            "history": {"interpolation": {"alpha": alphas, "test_loss": [0.3, 0.1, 0.07, 0.09, 0.13, 0.8, 3.0]}},
            "config": {"batch_sizes": [64, 1024]},
        },
        "EXP09": {
            "metrics": {
                f"batch{r['batch size']}": r
                for r in (
                    _row(4096, 3.1, 0.28, 0.29),
                    _row(16, 10.6, 0.084, 0.04),
                    _row(64, 7.2, 0.080),
                    _row(256, 5.2, 0.093),
                    _row(1024, 3.9, 0.16),
                )
            }
        },
    }


def run(spec: dict | None = None) -> dict:
    spec = spec or base()
    return plain(F.findings({e: fake_result(e, **kw) for e, kw in spec.items()}))


def changed(**edits) -> dict:
    """``base()`` with ``edits`` applied: ``EXP02=lambda s: ...`` mutates that experiment's kwargs."""
    spec = copy.deepcopy(base())
    for exp, edit in edits.items():
        edit(spec[exp])
    return run(spec)


# ---- EXP01 / EXP02 / hypothesis 1 ----------------------------------------------------------------


def test_exp01_ranks_by_mean_loss_and_tests_the_lead_over_seeds():
    f = run()["exp01"]
    assert (f["sinc"]["best"], f["sinc"]["runner_up"]) == ("medium", "deep")
    assert (f["sign"]["best"], f["sign"]["runner_up"]) == ("deep", "medium")
    assert f["sinc"]["lead"] == pytest.approx(1.1)
    assert not f["sinc"]["lead_clear"] and f["sinc"]["lead_evidence"].endswith("within seed noise")
    p = stats.ttest_ind_from_stats(0.25, 0.03, 3, 0.02, 0.005, 3, equal_var=False).pvalue
    assert f["sign"]["deep_better"] and f["sign"]["deep_evidence"] == f"p = {p:.2g}"
    assert f["sign"]["deep_gain"] == pytest.approx(12.5)
    assert not f["sinc"]["deep_better"]  # a 30x mean gain, but one shallow seed scatters widely


def test_exp01_midpoint_verdict():
    assert run()["exp01"]["midpoint_close"] is True
    f = changed(EXP01=lambda s: s["metrics"]["sign"]["medium"].update(test_loss=0.08))["exp01"]
    assert f["midpoint_max_ratio"] == pytest.approx(2.0) and f["midpoint_close"] is False


def test_h1_holds_and_is_clearest_on_the_step_function():
    f = run()
    assert f["h1"] == {"holds": True, "clearest_on_step": True}
    assert f["exp02"]["deep_better"] and f["exp02"]["gain"] == pytest.approx(0.004)


def test_h1_fails_when_depth_loses_on_mnist():
    f = changed(EXP02=lambda s: s["metrics"]["deep"].update(test_acc=0.98))
    assert f["exp02"]["deep_better"] is False and f["h1"]["holds"] is False
    assert f["exp02"]["shallow_error"] == pytest.approx(0.012)


def test_h1_fails_when_the_step_function_gain_is_seed_noise():
    f = changed(EXP01=lambda s: s["metrics"]["sign"]["deep"].update(train_loss=0.2, train_loss_std=0.1))
    assert f["exp01"]["sign"]["deep_better"] is False
    assert f["h1"] == {"holds": False, "clearest_on_step": False}


def test_h1_not_clearest_on_step_when_the_smooth_gain_is_larger_and_clear():
    def smooth_clear(s):
        s["metrics"]["sinc"]["shallow"].update(train_loss=0.1, train_loss_std=0.001)

    f = changed(EXP01=smooth_clear)["h1"]
    assert f == {"holds": True, "clearest_on_step": False}


# ---- EXP03–EXP05 / hypothesis 2 --------------------------------------------------------------------


def test_exp03_and_h2_hold():
    f = run()
    assert f["exp03"]["apart"] and f["exp03"]["same_accuracy"] and f["exp03"]["first_layer_same"]
    assert f["exp03"]["pc12"] == pytest.approx(0.6) and f["exp03"]["first_layer_share"] == pytest.approx(0.9)
    assert f["h2"] == {
        "seeds_apart_same_acc": True,
        "grad_noisy_not_vanishing": True,
        "zero_grad_not_minima": True,
        "holds": True,
    }


def test_exp03_verdicts_fail():
    f = changed(EXP03=lambda s: s["metrics"].update(endpoint_distance=5.0, val_acc_min=0.94, first_layer_disparity=0.4))
    assert (f["exp03"]["apart"], f["exp03"]["same_accuracy"], f["exp03"]["first_layer_same"]) == (False,) * 3
    assert f["h2"]["seeds_apart_same_acc"] is False and f["h2"]["holds"] is False


def test_exp04_gradient_verdicts():
    f = run()["exp04"]["mnist"]
    assert f["grad_kept"] == pytest.approx(0.4) and f["loss_kept"] == pytest.approx(0.03)
    assert f["grad_lags_loss"] and f["mini_noisy"] and f["not_vanished"]
    g = changed(
        EXP04=lambda s: s["metrics"]["mnist"].update(full_batch_grad_norm=0.6, last10pct_grad_norm=0.1, final_loss=1.0)
    )
    m = g["exp04"]["mnist"]
    assert not m["mini_noisy"] and not m["not_vanished"] and not m["grad_lags_loss"]
    assert g["h2"]["grad_noisy_not_vanishing"] is False and g["h2"]["holds"] is False


def test_exp05_all_saddles_and_a_clear_negative_correlation():
    f = run()["exp05"]
    assert (f["saddles"], f["flat_minima"], f["strict_minima"]) == (20, 0, 0)
    assert f["all_saddles"] and f["no_strict_minimum"]
    assert f["min_nonpositive_share"] == pytest.approx(0.4)
    t = -0.8 * (18 / (1 - 0.64)) ** 0.5
    assert f["corr_p"] == pytest.approx(2 * stats.t.sf(abs(t), 18))
    assert f["corr_p_text"] == "p < 0.001" and f["lower_loss_more_positive"] and not f["lower_loss_fewer_positive"]


def test_exp05_flat_minima_strict_minima_and_weak_correlation():
    def mixed(s):
        s["history"]["runs"] = (
            [{"minimal_ratio": 0.5, "ratio_nonflat": 0.6}] * 3
            + [{"minimal_ratio": 0.7, "ratio_nonflat": 1.0}] * 2
            + [{"minimal_ratio": 1.0, "ratio_nonflat": 1.0}]
            + [{"minimal_ratio": 0.4, "ratio_nonflat": None}]
        )
        s["metrics"]["corr_ratio_loss"] = 0.2

    f = changed(EXP05=mixed)
    e = f["exp05"]
    assert (e["runs"], e["saddles"], e["flat_minima"], e["strict_minima"]) == (7, 3, 3, 1)
    assert not e["all_saddles"] and not e["no_strict_minimum"]
    assert not e["lower_loss_more_positive"] and not e["lower_loss_fewer_positive"]
    assert f["h2"]["zero_grad_not_minima"] is False


def test_exp05_positive_correlation_is_against_expectation():
    f = changed(EXP05=lambda s: s["metrics"].update(corr_ratio_loss=0.7))["exp05"]
    assert f["lower_loss_fewer_positive"] and not f["lower_loss_more_positive"]


# ---- EXP06–EXP09 / hypothesis 3 --------------------------------------------------------------------


def test_exp06_memorised_slower_at_chance():
    f = run()["exp06"]
    assert f["memorised"] and f["test_loss_rose"] and f["test_at_chance"]
    assert (f["epochs_random"], f["epochs_true"], f["slowdown"]) == ("25", "2", 12.5)


def test_exp06_not_memorised_and_never_reached():
    def short(s):
        s["metrics"].update(final_train_acc=0.6, final_test_loss=2.3, final_test_acc=0.5)
        s["metrics"]["epochs_to_level"]["random labels"] = None

    f = changed(EXP06=short)
    e = f["exp06"]
    assert not e["memorised"] and not e["test_loss_rose"] and not e["test_at_chance"]
    assert e["epochs_random"] == "more than 80" and e["slower"] is False and e["slowdown"] is None
    assert f["h3"]["random_labels_fit"] is False and f["h3"]["holds"] is False


def test_exp07_over_parameterisation_cost_little_or_did_cost():
    f = run()["exp07"]
    assert f["largest_vs_best"] == pytest.approx(-0.0004) and f["largest_cost_little"]
    assert f["larger_models"] == "the larger model" and f["turn_before_largest"]
    assert f["params_per_image"] == pytest.approx(800 * 2048 / 20000)
    g = changed(
        EXP07=lambda s: (s["metrics"]["largest"].update({"test acc": 0.95}), s["metrics"].update(larger_than_min=3))
    )
    assert not g["exp07"]["largest_cost_little"] and g["exp07"]["larger_models"] == "the 3 larger models"
    assert g["h3"]["larger_fit_better_no_harm"] is False


def test_exp08_no_barrier_small_batch_flatter():
    f = run()["exp08"]
    assert f["no_barrier"] and f["update_ratio"] == 16
    assert (f["lo_alpha"], f["hi_alpha"]) == (-0.5, 1.5)
    assert f["up_small"] == pytest.approx(0.1 / 0.07) and f["up_large"] == pytest.approx(0.8 / 0.13)
    assert f["small_flatter"] and not f["large_flatter"] and f["small_better"]


def test_exp08_barrier_and_large_batch_flatter():
    def other(s):
        s["metrics"]["max_test_loss_between"] = 0.5
        s["history"]["interpolation"]["test_loss"] = [3.0, 0.8, 0.07, 0.5, 0.13, 0.14, 0.3]
        s["metrics"]["batch64"]["test_acc"] = 0.95

    f = changed(EXP08=other)
    e = f["exp08"]
    assert not e["no_barrier"] and e["large_flatter"] and not e["small_flatter"] and not e["small_better"]
    assert f["h3"]["small_batch_flatter_better"] is False


def test_exp08_no_clear_flatness_and_nearest_alpha():
    def even(s):
        s["history"]["interpolation"] = {
            "alpha": [-1.0, -0.45, 0.0, 1.0, 1.55, 2.0],
            "test_loss": [1.0, 0.1, 0.07, 0.13, 0.2, 1.0],
        }

    e = changed(EXP08=even)["exp08"]
    assert (e["lo_alpha"], e["hi_alpha"]) == (-0.45, 1.55)
    assert not e["small_flatter"] and not e["large_flatter"]


def test_exp09_ranks_by_batch_size_and_finds_the_opposite_trend():
    f = run()["exp09"]
    assert (f["small"]["batch size"], f["large"]["batch size"], f["update_ratio"]) == (16, 4096, 256)
    assert f["opposite"] and f["sens_falls"] and not f["sens_rises"] and not f["large_more_sensitive"]
    assert f["rank_corr"] == pytest.approx(-0.9) and f["sweep_opposite"]


def test_exp09_large_batches_more_sensitive():
    def rising(s):
        s["metrics"] = {
            f"batch{b}": _row(b, sens, 0.1 + i / 100)
            for i, (b, sens) in enumerate(((16, 1.0), (64, 2.0), (256, 3.0), (1024, 4.0), (4096, 5.0)))
        }

    f = changed(EXP09=rising)["exp09"]
    assert f["large_more_sensitive"] and f["sens_rises"] and not f["opposite"] and not f["sweep_opposite"]
    assert f["rank_corr"] == pytest.approx(1.0)


def test_h3_holds():
    assert run()["h3"] == {
        "random_labels_fit": True,
        "larger_fit_better_no_harm": True,
        "small_batch_flatter_better": True,
        "holds": True,
    }


# ---- the cached results ----------------------------------------------------------------------------


def test_findings_on_the_cached_results():
    f = plain(F.findings(cached_results(REPORT, EXPERIMENTS)))
    json.dumps(f)  # plain data only
    assert {f"exp0{i}" for i in range(1, 10)} | {"h1", "h2", "h3"} == set(f)
    for h in ("h1", "h2", "h3"):
        assert isinstance(f[h]["holds"], bool)
    assert f["exp01"]["sinc"]["best"] in {"shallow", "medium", "deep"}
    assert f["exp09"]["small"]["batch size"] < f["exp09"]["large"]["batch size"]
