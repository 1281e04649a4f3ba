"""What the lab "CUDA Vision" narrative states, computed: comparisons, rankings and the verdicts on the
four hypotheses of the description. The templates under journal/lab_cuda_vision/ only format them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # hints only: importing the dljournal package at run time loads torch
    from dljournal.core.result import StoredResult


# ---- names the experiments give (cifar.py, recurrent.py) ----------------------------------------
NO_PENALTY, L2_PREFIX, L1_PREFIX = "none", "L2", "L1"
NO_AUG, AUG = "no augmentation", "crop + flip"
RECURRENT = {"lstm": "LSTM", "gru": "GRU", "convlstm": "ConvLSTM"}  # metric key -> name in the text

# ---- thresholds ----------------------------------------------------------------------------------
TEST_IMAGES = 10_000  # FashionMNIST's and CIFAR-10's test sets; the results do not store the count
# Single runs scored on TEST_IMAGES differ by chance with a binomial standard error of about 0.5 pt
# each; beyond TEST_Z standard errors of the difference (about 95 %, two-sided) we call it real.
TEST_Z = 2.0
# One-seed changes of accuracy or gap smaller than half a point (one standard error of one test
# accuracy) are "the same": no effect is read into them.
SAME_WITHIN = 0.005
BENCHMARK_LOW = 0.89  # hypothesis 1: "about 89-90 %" (Zalando's table lists 0.900 for this MLP)
TUNING_MOVES_AT_MOST = 0.01  # hypothesis 1: tuning moves the MLP "by at most a point"
WIDE_MARGIN = 0.05  # hypothesis 2: "a wide margin", ten standard errors of the difference
FAR_FEWER = 10.0  # hypothesis 2: "far fewer parameters", an order of magnitude
SPARSER = 2.0  # a penalty "makes the weights sparse" when it at least doubles the share below 1e-3
STOPPED_LEARNING = 0.1  # a layer whose gradient norm fell below a tenth of its first value stopped
IMPROVES_WITH_FRAMES = 0.9  # ConvLSTM error at the last step at most nine tenths of the first step's
ORIGINAL_FRAME = 64  # Moving MNIST's original frame size (28x28 digits on 64x64)
UNDERFITS = 0.9  # a classifier below 90 % training accuracy has not fitted its training clips
LOW_F1 = 0.1  # macro-F1 this far below accuracy: some rarer action is recognised badly


@dataclass(frozen=True)
class Difference:
    diff: float  # a minus b
    decided: bool  # beyond the noise of the measurement
    higher: bool  # decided and a > b
    detail: str  # "+16.4 ± 0.7 pt on 10,000 test images" (", within test-set noise")


def accuracy_difference(p_a: float, p_b: float, n: int = TEST_IMAGES) -> Difference:
    """Two single-run accuracies on the same n test images (independent binomial errors: conservative)."""
    se = math.sqrt(p_a * (1 - p_a) / n + p_b * (1 - p_b) / n)
    decided = se > 0 and abs(p_a - p_b) > TEST_Z * se
    detail = f"{100 * (p_a - p_b):+.1f} ± {100 * se:.1f} pt on {n:,} test images"
    return Difference(
        p_a - p_b, decided, decided and p_a > p_b, detail + ("" if decided else ", within test-set noise")
    )


def _only(metrics: Mapping[str, Any], prefix: str) -> str:
    """The one variant whose name starts with prefix (its full name carries the configured strength)."""
    (name,) = [k for k in metrics if k.startswith(prefix)]
    return name


# ---- exercise 1 ----------------------------------------------------------------------------------
def gradients(m: Mapping[str, Any]) -> dict:
    first, last = m["grad_norm_first"], m["grad_norm_last"]
    weights = [k for k in first if k.endswith(".weight")]
    kept = [last[k] / first[k] for k in weights if first[k]]
    # per layer, how many times larger the weight gradient is than its bias's
    ratios = {
        when: [g[k] / g[k[:-6] + "bias"] for k in weights if g.get(k[:-6] + "bias")]
        for when, g in (("first", first), ("last", last))
    }
    return {
        "input": {"name": weights[0], "first": first[weights[0]], "last": last[weights[0]]},
        "output": {"name": weights[-1], "first": first[weights[-1]], "last": last[weights[-1]]},
        "least_kept": min(kept, default=float("nan")),
        "no_vanishing": bool(kept) and min(kept) >= STOPPED_LEARNING,
        "bias_ratio_first": [min(ratios["first"], default=None), max(ratios["first"], default=None)],
        "bias_ratio_last": [min(ratios["last"], default=None), max(ratios["last"], default=None)],
    }


def fashion(mlp: StoredResult, study: StoredResult) -> dict:
    hand, s = mlp.metrics["mlp"]["test_acc"], study.metrics
    tuned = accuracy_difference(s["final"]["test_acc"], hand)
    return {
        "grad": gradients(mlp.metrics),
        "resumed": bool(s.get("resumed_trials")),
        "top_share": s["importance"][s["most_important"]],
        "lr_share": s["importance"].get("lr"),
        "tuned_vs_hand": tuned,
        "reaches_benchmark": hand >= BENCHMARK_LOW,
        "tuning_within_point": abs(tuned.diff) <= TUNING_MOVES_AT_MOST,
        "lr_most_important": s["most_important"] == "lr",
    }


# ---- exercise 2 ----------------------------------------------------------------------------------
def cifar(compare: StoredResult, penalties: StoredResult, augmentation: StoredResult) -> dict:
    mlp, cnn = compare.metrics["summary"]["MLP"], compare.metrics["summary"]["CNN"]
    cnn_vs_mlp = accuracy_difference(cnn["test_acc"], mlp["test_acc"])
    ratio = mlp["params"] / cnn["params"] if cnn["params"] else float("nan")
    wide = cnn_vs_mlp.higher and cnn_vs_mlp.diff >= WIDE_MARGIN and ratio >= FAR_FEWER

    p = penalties.metrics
    base = p[NO_PENALTY]

    def penalty(name: str) -> dict:
        v = p[name]
        return {
            "name": name,
            "test_acc": v["test_acc"],
            "gap": v["gap"],
            "d_gap": v["gap"] - base["gap"],
            "narrows": v["gap"] < base["gap"] - SAME_WITHIN,
            "near_zero_w": v["near_zero_w"],
            "mean_abs_w": v["mean_abs_w"],
            "sparser": v["near_zero_w"] > SPARSER * base["near_zero_w"],
        }

    l1, l2 = penalty(_only(p, L1_PREFIX)), penalty(_only(p, L2_PREFIX))
    plain, aug = augmentation.metrics[NO_AUG], augmentation.metrics[AUG]
    d_acc = aug["test_acc"] - plain["test_acc"]
    a = {
        "with": {k: aug[k] for k in ("test_acc", "gap", "train_loss")},
        "without": {k: plain[k] for k in ("test_acc", "gap", "train_loss")},
        "d_acc": d_acc,
        "d_gap": aug["gap"] - plain["gap"],
        "narrows": aug["gap"] < plain["gap"] - SAME_WITHIN,
        "behind": d_acc < -SAME_WITHIN,
        "ahead": d_acc > SAME_WITHIN,
    }
    return {
        "cnn_vs_mlp": cnn_vs_mlp,
        "param_ratio": ratio,
        "cnn_wins": cnn_vs_mlp.higher and cnn["params"] < mlp["params"],
        "cnn_wins_wide": wide,
        "h2_word": "Holds" if wide else "Holds only in part" if cnn_vs_mlp.higher else "Fails",
        "none": {
            "test_acc": base["test_acc"],
            "gap": base["gap"],
            "near_zero_w": base["near_zero_w"],
            "mean_abs_w": base["mean_abs_w"],
        },
        "l1": l1,
        "l2": l2,
        "aug": a,
        "penalties_narrow": l1["narrows"] and l2["narrows"],
        "all_narrow": l1["narrows"] and l2["narrows"] and a["narrows"],
    }


# ---- exercise 4 ----------------------------------------------------------------------------------
def next_frame(res: StoredResult) -> dict:
    c, f, k = res.metrics["convlstm"], res.metrics["frame_cnn"], res.metrics["copy_last"]
    return {
        "convlstm_wins": c["test_loss"] < f["test_loss"],
        "below_cnn": 1 - c["test_loss"] / f["test_loss"],
        "improves_with_frames": c["mse_last"] < IMPROVES_WITH_FRAMES * c["mse_first"],
        "copy_beats_convlstm": k["test_loss"] < c["test_loss"],
        "shrunk": res.config["size"] < ORIGINAL_FRAME,
    }


def actions(res: StoredResult) -> dict:
    m, cfg = res.metrics, res.config
    accs = {RECURRENT[k]: m[k]["test_acc"] for k in RECURRENT}
    best = max(accs.values())
    n_test = int(m["clips"]["test"])
    top = [name for name, acc in accs.items() if acc == best]
    runner_up = max((name for name in accs if accs[name] < best), key=accs.get, default=None)
    cells = cfg["features"] * 2 * cfg["width"] * (m["frame_size"] // 8) ** 2  # flatten -> features
    return {
        "best_acc": best,
        "top": " and the ".join(top),
        "tie": len(top) > 1,
        # accuracies are whole clips: the lead over the next model, counted in clips
        "runner_up": runner_up,
        "lead_clips": round((best - accs[runner_up]) * n_test) if runner_up else 0,
        "clip_worth": 1 / n_test if n_test else None,
        "low_f1": [RECURRENT[k] for k in RECURRENT if m[k]["test_acc"] - m[k]["macro_f1"] > LOW_F1],
        "convlstm_underfits": m["convlstm"]["train_acc"] < UNDERFITS,
        "split": m["split"],
        "person_split": m["split"] == "person",
        "time_split": m["split"] == "time",
        "synthetic": m["split"] == "synthetic",
        "linear_params": cells + cfg["features"],
        "encoded": m["frame_size"] // 8,
        "clips_total": sum(int(v) for v in m["clips"].values()),
    }


def findings(results: Mapping[str, StoredResult]) -> dict:
    return {
        "test_images": TEST_IMAGES,
        "fashion": fashion(results["EXP01"], results["EXP02"]),
        "cifar": cifar(results["EXP03"], results["EXP04"], results["EXP05"]),
        "video": next_frame(results["EXP10"]),
        "kth": actions(results["EXP11"]),
    }
