"""What the CNN-basics narrative states, computed from the stored results: what each grid study
shows, whether the frameworks agree, where Grad-CAM looks, how much transfer helps. The templates
under journal/cnn_basics/ only format these values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from scipy import stats

from dljournal.core.result import StoredResult
from dljournal.study.compare import ALPHA, compare_stats

# ---- thresholds, each with its reason ----------------------------------------------------------
# Grid cells within 2 pt of validation accuracy: one short run each on a few thousand validation
# images cannot rank them (the sampling error of one accuracy alone is up to ~0.7 pt at 5,000 images).
GRID_TIE = 0.02
# Best grid cell below three times chance: the models have barely started to learn.
NEAR_CHANCE = 3.0
CLASSES = {"mnist": 10, "fashion_mnist": 10, "cifar10": 10, "cifar100": 100}
# Frameworks within half a point of test accuracy "agree" (one run each: seed noise alone is of that order).
AGREE = 0.005
# A network that fits less than half its training set after its epochs is far from converged.
UNCONVERGED = 0.5
# The course's target accuracy on dog breeds.
COURSE_BAR = 0.83
# Transfer "wins by a wide margin" when it beats training from scratch by 10 pt or more.
WIDE_MARGIN = 0.10
EXPERIMENTS = ("EXP01", "EXP02", "EXP03")


def _p_text(p: float) -> str:
    if math.isnan(p):
        return "too few samples for a test"
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def grid(r: StoredResult) -> dict:
    """What the learning-rate × batch-size grid of EXP01–EXP03 shows."""
    g = r.metrics["grid"]
    accs = [c["val acc"] for c in g]
    lrs = sorted({c["lr"] for c in g})
    bss = sorted({c["batch_size"] for c in g})
    dataset = next(iter(r.provenance.get("data") or {}), "")
    chance = 1 / CLASSES[dataset] if dataset in CLASSES else None

    def acc(lr: float, bs: int) -> float:
        return next(c["val acc"] for c in g if c["lr"] == lr and c["batch_size"] == bs)

    # at each learning rate, the smallest against the largest batch
    small_wins = sum(1 for lr in lrs if acc(lr, bss[0]) > acc(lr, bss[-1])) if len(bss) > 1 else 0
    compared = len(lrs) if len(bss) > 1 else 0
    return {
        "acc_min": min(accs),
        "acc_max": max(accs),
        "tied": max(accs) - min(accs) < GRID_TIE,
        "chance": chance,
        "near_chance": chance is not None and max(accs) < NEAR_CHANCE * chance,
        "small_wins_all": compared > 0 and small_wins == compared,
        "large_wins_all": compared > 0 and small_wins == 0,
        "update_ratio": bss[-1] // bss[0],
    }


def frameworks(r: StoredResult) -> dict:
    t, k = r.metrics["pytorch"], r.metrics["keras"]
    gap = t["test_acc"] - k["test_acc"]
    return {"gap": gap, "agree": abs(gap) < AGREE, "params_equal": bool(r.metrics["params_equal"])}


def resnet(r: StoredResult, vgg: StoredResult) -> dict:
    val = r.history["PyTorch"]["val_acc"]
    return {
        "fewer_params_than_vgg": vgg.metrics["pytorch"]["params"] / r.metrics["pytorch"]["params"],
        "val_first": val[0],
        "val_last": val[-1],
        "val_rises_every_epoch": len(val) > 1 and all(b > a for a, b in pairwise(val)),
    }


def vgg(r: StoredResult) -> dict:
    width = dict(r.config.get("arch_kwargs") or []).get("width", 1.0)
    return {
        "width": width,
        "scaled": width != 1.0,
        "train_acc": r.metrics["pytorch"]["train_acc"],
        "unconverged": r.metrics["pytorch"]["train_acc"] < UNCONVERGED,
    }


def cam(r: StoredResult) -> dict:
    """Grad-CAM centre shares. The result stores means and counts only; a share lies in [0, 1], so its
    standard deviation is at most sqrt(m (1 - m)) (Bhatia–Davis). Tests with that bound are
    conservative: what they call beyond noise is so at any spread."""
    s, uniform = r.metrics["cam_centre_share"], r.metrics["cam_centre_uniform"]
    c, w = s["correct"], s["wrong"]
    if c["mean"] is None or w["mean"] is None:  # no correct or no wrong prediction among those measured
        return {
            "wrong_minus_correct": None,
            "wrong_less_central": False,
            "wrong_more_central": False,
            "bound_se_pt": None,
            "correct_above_uniform": False,
            "above_uniform_p": "not measured",
        }

    def sd(m: float) -> float:
        return math.sqrt(max(m * (1 - m), 0.0))

    vs = compare_stats(w["mean"], sd(w["mean"]), w["n"], c["mean"], sd(c["mean"]), c["n"])
    # correct predictions against a uniform map (a constant: no spread of its own)
    centre = compare_stats(c["mean"], sd(c["mean"]), c["n"], uniform, 0.0, c["n"])
    return {
        "wrong_minus_correct": vs.diff,
        "wrong_less_central": vs.diff < 0 and vs.beyond_noise,
        "wrong_more_central": vs.diff > 0 and vs.beyond_noise,
        "bound_se_pt": 100 * vs.se,
        "correct_above_uniform": centre.diff > 0 and centre.beyond_noise,
        "above_uniform_p": _p_text(centre.p),
    }


def _accuracy_diff(a: float, b: float, n: int) -> dict:
    """Two accuracies on the same n test images: the difference and its sampling error, treating the two
    as independent binomials (conservative: predictions of two models on the same images correlate)."""
    se = math.sqrt((a * (1 - a) + b * (1 - b)) / n) if n else float("nan")
    p = float(2 * stats.norm.sf(abs(a - b) / se)) if se > 0 else float("nan")
    return {"diff": a - b, "se_pt": 100 * se, "p_text": _p_text(p), "beyond_sampling": not math.isnan(p) and p < ALPHA}


def transfer(r: StoredResult) -> dict:
    m = r.metrics
    probe, fine, scratch = m["probe"]["test_acc"], m["finetune"]["test_acc"], m["scratch"]["test_acc"]
    best = "fine-tuning" if fine > probe else "the linear probe"
    top = max(probe, fine)
    vs_scratch = _accuracy_diff(top, scratch, m["n_test"])
    return {
        "best": best,
        "best_acc": top,
        "clears_bar": top > COURSE_BAR,
        "bar": COURSE_BAR,
        "vs_scratch": vs_scratch,
        "finetune_vs_probe": _accuracy_diff(fine, probe, m["n_test"]),
        "finetune_better": fine > probe,
        "wide_margin": vs_scratch["diff"] >= WIDE_MARGIN and vs_scratch["beyond_sampling"],
    }


def findings(results: Mapping[str, StoredResult]) -> dict:
    f: dict[str, Any] = {
        "grid": {e: grid(results[e]) for e in EXPERIMENTS},
        "frameworks": {e: frameworks(results[e]) for e in EXPERIMENTS},
        "vgg": vgg(results["EXP02"]),
        "resnet": resnet(results["EXP03"], results["EXP02"]),
        "cam": cam(results["EXP04"]),
        "transfer": transfer(results["EXP05"]),
    }
    names = dict(zip(EXPERIMENTS, ("LeNet-5", "VGG-16", "ResNet-8")))
    fw = f["frameworks"]
    f["params_equal_all"] = all(v["params_equal"] for v in fw.values())
    f["params_differ"] = ", ".join(names[e] for e, v in fw.items() if not v["params_equal"])
    f["agree"] = ", ".join(names[e] for e, v in fw.items() if v["agree"]) or "none"
    f["disagree"] = ", ".join(names[e] for e, v in fw.items() if not v["agree"]) or "none"
    f["hypotheses"] = {
        "frameworks_agree": all(v["agree"] for v in fw.values()),
        "vgg_needs_more": f["vgg"]["unconverged"],
        "cam_central_when_right": f["cam"]["correct_above_uniform"],
        "transfer_wide_margin": f["transfer"]["wide_margin"],
    }
    return f
