"""What the HW1 narrative states, computed from the stored results: rankings, verdicts and the
numbers behind them. The templates under journal/cpsc8430_hw1/ only format these values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from scipy import stats

from dljournal.core.result import StoredResult
from dljournal.study.compare import ALPHA, Comparison, compare_stats

# ---- thresholds, each with its reason ----------------------------------------------------------
# Midpoint MSE within 25 % of the training MSE: a model that memorised its samples would be far off
# between them (EXP01).
MIDPOINT_CLOSE = 1.25
# Procrustes disparity below 0.1: the two trajectories overlay almost exactly (0 is identical, 1 unrelated).
SAME_PICTURE = 0.1
# Worst seed within 1 pt of the mean validation accuracy: "the same accuracy" at a quick budget.
SAME_ACCURACY = 0.01
# Full-batch gradient below half the mean mini-batch norm: most of the mini-batch norm is sampling noise.
NOISE_DOMINATES = 0.5
# A gradient norm still above a tenth of its initial value has not vanished.
NOT_VANISHED = 0.1
# |r| below 0.3 between minimal ratio and log loss: too weak to call a relation, whatever its p-value.
WEAK_CORRELATION = 0.3
# Training accuracy above 95 % on shuffled labels: memorised.
MEMORISED = 0.95
# MNIST has 10 balanced classes; within 3 pt of 10 % is chance on the 10,000 test images.
CHANCE, CHANCE_MARGIN = 0.1, 0.03
# Half a point of test accuracy: about twice the sampling error of one accuracy on 10,000 images.
LITTLE_ACC = 0.005
# Interpolation: a peak up to 5 % above the worse endpoint's test loss is no barrier (evaluation noise).
BARRIER_TOLERANCE = 1.05
# The loss must rise twice as fast on one side of the slice before one solution counts as flatter.
FLATTER_FACTOR = 2.0


def _evidence(c: Comparison) -> str:
    """A seed comparison without its difference (losses are not in points): "p = 0.0066", or
    "p = 0.43, within seed noise" as the engine's comparisons soften it."""
    p = "too few seeds for a test" if math.isnan(c.p) else _p_text(c.p)
    return p if c.beyond_noise else f"{p}, within seed noise"


def exp01(r: StoredResult) -> dict:
    m, n = r.metrics, len(r.config["seeds"])
    out: dict[str, Any] = {"seeds": n}
    for fn in ("sinc", "sign"):
        ranked = sorted(m[fn], key=lambda k: m[fn][k]["train_loss"])
        best, second = m[fn][ranked[0]], m[fn][ranked[1]]
        lead = compare_stats(
            second["train_loss"], second["train_loss_std"], n, best["train_loss"], best["train_loss_std"], n
        )
        depth = compare_stats(
            m[fn]["shallow"]["train_loss"],
            m[fn]["shallow"]["train_loss_std"],
            n,
            m[fn]["deep"]["train_loss"],
            m[fn]["deep"]["train_loss_std"],
            n,
        )
        out[fn] = {
            "best": ranked[0],
            "runner_up": ranked[1],
            "lead": second["train_loss"] / best["train_loss"],
            "lead_evidence": _evidence(lead),
            "lead_clear": lead.beyond_noise,
            # depth: shallow over deep loss, and whether deep is lower beyond seed noise
            "deep_gain": m[fn]["shallow"]["train_loss"] / m[fn]["deep"]["train_loss"],
            "deep_better": depth.diff > 0 and depth.beyond_noise,
            "deep_evidence": _evidence(depth),
        }
    ratios = [v["test_loss"] / v["train_loss"] for fn in ("sinc", "sign") for v in m[fn].values()]
    out["midpoint_max_ratio"] = max(ratios)
    out["midpoint_close"] = max(ratios) <= MIDPOINT_CLOSE
    return out


def exp02(r: StoredResult) -> dict:
    s, d = r.metrics["shallow"], r.metrics["deep"]
    return {
        "deep_better": d["test_acc"] > s["test_acc"],
        "gain": d["test_acc"] - s["test_acc"],
        "deep_error": 1 - d["test_acc"],
        "shallow_error": 1 - s["test_acc"],
    }


def exp03(r: StoredResult) -> dict:
    m, w, first = r.metrics, r.metrics["whole_model"], r.metrics["first_layer"]
    return {
        "apart": m["endpoint_distance"] > m["travel_distance"],
        "worst_below_mean": m["val_acc_mean"] - m["val_acc_min"],
        "same_accuracy": m["val_acc_mean"] - m["val_acc_min"] <= SAME_ACCURACY,
        "pc12": w["explained_pc1"] + w["explained_pc2"],
        "first_layer_share": first["parameters"] / w["parameters"],
        "first_layer_same": m["first_layer_disparity"] < SAME_PICTURE,
    }


def exp04(r: StoredResult) -> dict:
    out = {}
    for task, m in r.metrics.items():
        out[task] = {
            "grad_kept": m["last10pct_grad_norm"] / m["first_grad_norm"],
            "loss_kept": m["final_loss"] / m["first_loss"],
            "full_vs_mini": m["full_batch_grad_norm"] / m["last10pct_grad_norm"],
            "mini_noisy": m["full_batch_grad_norm"] < NOISE_DOMINATES * m["last10pct_grad_norm"],
        }
        out[task]["grad_lags_loss"] = out[task]["grad_kept"] > out[task]["loss_kept"]
        out[task]["not_vanished"] = out[task]["grad_kept"] > NOT_VANISHED
    return out


def exp05(r: StoredResult) -> dict:
    m, runs = r.metrics, r.history["runs"]
    # a run is a saddle when some non-flat eigenvalue is negative, a strict minimum when all are positive
    saddles = sum(1 for x in runs if x["ratio_nonflat"] is not None and x["ratio_nonflat"] < 1)
    strict = sum(1 for x in runs if x["minimal_ratio"] >= 1)
    n, rho = len(runs), m["corr_ratio_loss"]
    p = _corr_p(rho, n)
    related = abs(rho) >= WEAK_CORRELATION and p < ALPHA
    return {
        "runs": n,
        "saddles": saddles,
        "strict_minima": strict,
        "flat_minima": n - saddles - strict,
        "all_saddles": saddles == n,
        "no_strict_minimum": strict == 0,
        "min_nonpositive_share": 1 - m["ratio_max"],
        "corr": rho,
        "corr_p": p,
        "corr_p_text": _p_text(p),
        "lower_loss_more_positive": related and rho < 0,
        "lower_loss_fewer_positive": related and rho > 0,
    }


def _corr_p(rho: float, n: int) -> float:
    """Two-sided p-value of a Pearson correlation over n points (t-test with n - 2 degrees of freedom)."""
    if n < 3 or abs(rho) >= 1:
        return 0.0 if n >= 3 else float("nan")
    t = rho * math.sqrt((n - 2) / (1 - rho**2))
    return float(2 * stats.t.sf(abs(t), n - 2))


def _p_text(p: float) -> str:
    """A p-value as the engine's comparisons write it."""
    if math.isnan(p):
        return "too few runs for a test"
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def exp06(r: StoredResult) -> dict:
    m = r.metrics
    k_rand, k_true = m["epochs_to_level"]["random labels"], m["epochs_to_level"]["true labels"]
    slower = k_rand is not None and k_true is not None and k_rand > k_true
    never = f"more than {r.config['epochs']}"  # the level was not reached within the run
    return {
        "memorised": m["final_train_acc"] > MEMORISED,
        "test_loss_rose": m["final_test_loss"] > m["min_test_loss"],
        "chance": CHANCE,
        "test_at_chance": abs(m["final_test_acc"] - CHANCE) <= CHANCE_MARGIN,
        "epochs_random": never if k_rand is None else str(k_rand),
        "epochs_true": never if k_true is None else str(k_true),
        "slower": slower,
        "slowdown": k_rand / k_true if slower else None,
    }


def exp07(r: StoredResult) -> dict:
    m = r.metrics
    behind = m["best_test"]["test acc"] - m["largest"]["test acc"]
    n = m["larger_than_min"]
    return {
        "test_acc_rises": m["best_test"]["test acc"] > m["smallest"]["test acc"],
        "gap_grows": m["largest"]["gap (acc)"] > m["smallest"]["gap (acc)"],
        "turn_before_largest": n > 0,
        "larger_models": "the larger model" if n == 1 else f"the {n} larger models",
        "params_per_image": m["largest"]["params"] / m["n_train"],
        "largest_vs_best": -behind,
        "largest_cost_little": behind <= LITTLE_ACC,
        "train_loss_lower": m["largest"]["train loss"] < m["smallest"]["train loss"],
        "test_loss_lower": m["largest"]["test loss"] < m["smallest"]["test loss"],
    }


def exp08(r: StoredResult) -> dict:
    m, h, bs = r.metrics, r.history["interpolation"], r.config["batch_sizes"]
    a, b = m[f"batch{bs[0]}"], m[f"batch{bs[1]}"]

    def at(alpha: float) -> tuple[float, float]:
        # the stored α nearest the one asked for (the grids of all profiles hold −0.5 and 1.5)
        i = min(range(len(h["alpha"])), key=lambda j: abs(h["alpha"][j] - alpha))
        return h["alpha"][i], h["test_loss"][i]

    (lo_alpha, lo_loss), (hi_alpha, hi_loss) = at(-0.5), at(1.5)
    up_small, up_large = lo_loss / a["test_loss"], hi_loss / b["test_loss"]
    return {
        "small": bs[0],
        "large": bs[1],
        "small_model": a,
        "large_model": b,
        "update_ratio": bs[1] // bs[0],
        "barrier_tolerance": BARRIER_TOLERANCE - 1,
        "no_barrier": m["max_test_loss_between"] <= max(a["test_loss"], b["test_loss"]) * BARRIER_TOLERANCE,
        "lo_alpha": lo_alpha,
        "lo_loss": lo_loss,
        "hi_alpha": hi_alpha,
        "hi_loss": hi_loss,
        "up_small": up_small,
        "up_large": up_large,
        "small_flatter": up_large > FLATTER_FACTOR * up_small,
        "large_flatter": up_small > FLATTER_FACTOR * up_large,
        "acc_gain": a["test_acc"] - b["test_acc"],
        "small_better": a["test_acc"] > b["test_acc"],
    }


def exp09(r: StoredResult) -> dict:
    rows = sorted(r.metrics.values(), key=lambda x: x["batch size"])
    small, large = rows[0], rows[-1]
    sens = [x["sensitivity"] for x in rows]
    rho, p = stats.spearmanr(sens, [x["test loss"] for x in rows]) if len(rows) > 2 else (float("nan"),) * 2
    return {
        "small": small,
        "large": large,
        "update_ratio": large["batch size"] // small["batch size"],
        "sens_falls": all(y < x for x, y in pairwise(sens)),
        "sens_rises": all(y > x for x, y in pairwise(sens)),
        "opposite": large["sensitivity"] < small["sensitivity"] and large["test loss"] > small["test loss"],
        "large_more_sensitive": large["sensitivity"] > small["sensitivity"],
        # over the whole sweep, not only its ends: higher sensitivity with lower test loss, beyond chance
        "sweep_opposite": bool(rho < 0 and p < ALPHA),
        "rank_corr": float(rho),
        "rank_corr_p": float(p),
        "rank_corr_p_text": _p_text(float(p)),
        "batch_sizes": len(rows),
    }


def findings(results: Mapping[str, StoredResult]) -> dict:
    f = {
        e.lower(): fn(results[e])
        for e, fn in (
            ("EXP01", exp01),
            ("EXP02", exp02),
            ("EXP03", exp03),
            ("EXP04", exp04),
            ("EXP05", exp05),
            ("EXP06", exp06),
            ("EXP07", exp07),
            ("EXP08", exp08),
            ("EXP09", exp09),
        )
    }
    e1, e4, e5 = f["exp01"], f["exp04"]["mnist"], f["exp05"]
    f["h1"] = {
        # depth wins on the step function beyond seed noise, and on MNIST (one run each)
        "holds": e1["sign"]["deep_better"] and f["exp02"]["deep_better"],
        # "most clearly on the discontinuous function": there beyond noise, on the smooth one not
        # (or with a smaller gain)
        "clearest_on_step": e1["sign"]["deep_better"]
        and (not e1["sinc"]["deep_better"] or e1["sign"]["deep_gain"] > e1["sinc"]["deep_gain"]),
    }
    f["h2"] = {
        "seeds_apart_same_acc": f["exp03"]["apart"] and f["exp03"]["same_accuracy"],
        "grad_noisy_not_vanishing": e4["mini_noisy"] and e4["not_vanished"],
        "zero_grad_not_minima": e5["no_strict_minimum"],
    }
    f["h2"]["holds"] = all(f["h2"].values())
    e6, e7, e8 = f["exp06"], f["exp07"], f["exp08"]
    f["h3"] = {
        "random_labels_fit": e6["memorised"] and e6["test_loss_rose"],
        "larger_fit_better_no_harm": e7["train_loss_lower"] and e7["largest_cost_little"],
        "small_batch_flatter_better": e8["small_flatter"] and e8["small_better"],
    }
    f["h3"]["holds"] = all(f["h3"].values())
    return f
