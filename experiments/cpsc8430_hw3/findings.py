"""HW3's findings: the verdicts its narrative states about the four GANs, computed from the cached
results (EXP01 the yardstick, EXP02-EXP05 one variant each, EXP06 the comparison).

Every variant ran once (one seed), so nothing here is a seed comparison: rankings are of single runs
and the narrative says so. Graded verdicts come back as short phrases (one place to word them);
yes/no verdicts as booleans the templates branch on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from dljournal.core.result import StoredResult

# Which experiment trains which variant: the narrative of each experiment is written about it.
DCGAN, WGAN, WGAN_GP, ACGAN = "EXP02", "EXP03", "EXP04", "EXP05"
VARIANTS = (DCGAN, WGAN, WGAN_GP, ACGAN)

N_CLASSES = 10  # CIFAR-10: a uniform guess of the class is right 1 time in 10
CIFAR10_TRAIN = 50_000  # CIFAR-10's training split; GANs trained on fewer images used a subset

# The discriminator's last-epoch margin, mean D(real) - mean D(fake): above 0.5 the two means sit on
# opposite sides of 0.25/0.75, a clear win; below 0.1 they are within a tenth of each other.
D_WINS, D_EDGE = 0.5, 0.1
# "Fell in most epochs": the per-epoch distance rose in at most a third of the epoch-to-epoch steps.
MOSTLY_FALLING = 1 / 3
# A last epoch more than 2 % above the best one is worth saying; less is within the per-epoch wiggle.
REGRESSION_NOTED = 0.02
# |r| above 0.5 between the critic's estimate and the distance over the epochs: they move together
# (or against each other) in most epochs; below it, over five or so epochs, r says little.
CORR_STRONG = 0.5
# WGAN-GP against WGAN, relative gain in distance: 10 % is a clear step, 2 % a small one; within ±2 %
# the two single runs are called level (the distance on 500 images is itself a noisy estimate).
GAIN_MUCH, GAIN_SOME = 0.10, 0.02
# ACGAN's class input "works" when the outside vote finds the requested class at least twice as often
# as chance; its own head "sees more" when it names the class at least twice as often as the vote.
CLASS_WORKS, HEAD_GAP = 2.0, 2.0
# ACGAN "covers the classes" when the vote's class entropy of its images is at least 90 % of what the
# same vote gives real test images (EXP01), which hold the ten classes in equal numbers.
COVERAGE = 0.9

_FRACTIONS = {2: "half", 3: "third", 4: "quarter", 5: "fifth", 6: "sixth", 8: "eighth", 10: "tenth"}
_TIMES = {2: "twice", 3: "three times", 4: "four times", 5: "five times", 10: "ten times"}


def share_words(part: float, whole: float) -> str:
    """ "a fifth" when ``part`` is a simple fraction of ``whole``, else a percentage."""
    k = whole / part if part else 0
    if k and abs(k - round(k)) < 1e-9 and round(k) in _FRACTIONS:
        return f"a {_FRACTIONS[round(k)]}"
    return f"{part / whole:.0%}" if whole else "n/a"


def times_words(ratio: float) -> str:
    """ "five times" for a whole ratio we have a word for, else "5.3 times"."""
    r = round(ratio)
    return _TIMES[r] if abs(ratio - r) < 1e-9 and r in _TIMES else f"{ratio:.1f} times"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def progress_phrase(rises: int, transitions: int) -> str:
    """How steadily the per-epoch distance fell, as the narrative says it."""
    if rises == 0:
        return "fell in every epoch"
    if rises <= MOSTLY_FALLING * transitions:
        return f"fell in most epochs ({plural(rises, 'rise')} in {transitions})"
    return f"rose in {rises} of {transitions} epochs"


def corr_label(r: float | None) -> str | None:
    if r is None:
        return None
    if r > CORR_STRONG:
        return "strong positive"
    return "strong negative" if r < -CORR_STRONG else "weak"


def yardstick(res: StoredResult) -> dict[str, Any]:
    """EXP01: the real-vs-real floor and how it shrinks with the number of images per side."""
    m = res.metrics
    by_n = sorted((int(n), v) for n, v in m["floor_by_n"].items())
    small_n, small = by_n[0]
    chance = 1 / N_CLASSES
    return {
        "floor_curve": len(by_n) > 1,
        "floor_smallest_n": small_n,
        "floor_at_smallest_n": small,
        # the noise claim needs the floor to fall at every larger sample size, not just at the ends
        "floor_falls_with_n": len(by_n) > 1 and all(b[1] < a[1] for a, b in pairwise(by_n)),
        "chance": chance,
        "knn_over_chance": m["knn_acc"] / chance,
    }


def variant(res: StoredResult) -> dict[str, Any]:
    """What EXP02-EXP05 each say about their own run."""
    m, cfg = res.metrics, res.config
    t, k, d, last = m["track"], m["training"], m["diversity"], m["last_epoch"]
    transitions = k["epochs"] - 1
    hist = res.history.get(m["variant"], {})
    w = hist.get("wasserstein") or []
    corr = t.get("wasserstein_fd_corr")  # only for Wasserstein variants trained over 3+ epochs
    out: dict[str, Any] = {
        "name": m["variant"],
        "fd_over_floor": m["fd"] / m["floor"],
        "transitions": transitions,
        "rises": t["rises"],
        "progress": progress_phrase(t["rises"], transitions),
        "regression_noted": t["regression"] > REGRESSION_NOTED,
        "collapse": d["collapse"],
        "pixels_diverse": d["pixel_diversity"] >= cfg["collapse_diversity"],
        "w_first": w[0] if w else None,
        "w_last": w[-1] if w else None,
        "fd_first": hist["fd"][0] if hist.get("fd") else None,
        "fd_last": hist["fd"][-1] if hist.get("fd") else None,
        "corr": corr,
        "corr_label": corr_label(corr),
        "corr_tracks": corr is not None and corr > CORR_STRONG,
        "corr_opposes": corr is not None and corr < -CORR_STRONG,
        # the penalty is the mean of (‖∇D‖ - 1)²: its square root is the RMS distance of the norm from 1
        "gp_rms": math.sqrt(last["gradient_penalty"]) if "gradient_penalty" in last else None,
    }
    # a cross-entropy discriminator's outputs are probabilities; a Wasserstein critic's are not
    margin = last["p_real"] - last["p_fake"] if "p_real" in last else None
    out.update(d_margin=margin, d_verdict=discriminator_verdict(margin) if margin is not None else None)
    return out


def discriminator_verdict(margin: float) -> str:
    if margin > D_WINS:
        return "it wins clearly, and the generator learns from a discriminator it rarely fools"
    return "it keeps an edge without winning outright" if margin > D_EDGE else "it can barely tell them apart"


def acgan_classes(res: StoredResult, yard: StoredResult) -> dict[str, Any]:
    """EXP05: is the requested class visible to the outside vote of EXP01, and to ACGAN's own head?"""
    agree = res.metrics["diversity"]["class_agreement"]
    head = res.metrics["last_epoch"]["class_acc_fake"]
    knn = yard.metrics["knn_acc"]
    entropy, real_entropy = res.metrics["diversity"]["class_entropy"], yard.metrics["knn_entropy"]
    return {
        "agreement": agree,
        "times_chance": agree * N_CLASSES,
        "works": agree >= CLASS_WORKS / N_CLASSES,
        "below_real": agree < knn,
        "head_sees_more": head >= HEAD_GAP * agree,
        "covers_classes": entropy >= COVERAGE * real_entropy,
    }


def wasserstein_gain_phrase(gain: float) -> str:
    if gain > GAIN_MUCH:
        return "gets much further than"
    if gain > GAIN_SOME:
        return "gets somewhat further than"
    return "gets about as far as" if gain >= -GAIN_SOME else "does not get as far as"


def comparison(results: Mapping[str, StoredResult]) -> dict[str, Any]:
    """EXP06 and the summary: rankings by distance and stability, cost, and the hypotheses."""
    m = results["EXP06"].metrics
    b = m["by_variant"]
    wass = {results[e].metrics["variant"]: results[e].metrics["rules"]["wasserstein"] for e in VARIANTS}
    w_names = [v for v in b if wass.get(v)]
    ce_names = [v for v in b if not wass.get(v)]
    ranking = sorted(b, key=lambda v: b[v]["fd"])
    best, steady = m["best_fd"], m["most_stable"]
    st = b[steady[0]]
    epochs = sorted({x["epochs"] for x in b.values()})

    def steps(names: list[str]) -> str:
        vals = sorted({b[v]["g_steps"] for v in names})
        return "–".join(f"{s:,}" for s in vals)

    w_steps = [b[v]["g_steps"] for v in w_names]
    ce_steps = [b[v]["g_steps"] for v in ce_names]
    # the smallest cross-entropy count over the largest Wasserstein one: "at least N times"
    ratio = (min(ce_steps) / max(w_steps)) if w_steps and ce_steps and max(w_steps) else None
    # H2: the cross-entropy GANs (more generator steps per epoch) lead; "holds" needs every one of
    # them ahead of every Wasserstein variant, "partly" only the best one.
    h2_holds = bool(ce_names and w_names) and max(b[v]["fd"] for v in ce_names) < min(b[v]["fd"] for v in w_names)
    h2_partly = not h2_holds and best in ce_names
    # H3: the steadiest run(s) are Wasserstein critics; "partly" when tied with a cross-entropy one.
    steady_w = [v for v in steady if v in w_names]
    flagged = [v for v, x in b.items() if x["collapse"]]
    return {
        "ranking": [{"variant": v, "fd": b[v]["fd"]} for v in ranking],
        "best": best,
        "best_fd": b[best]["fd"],
        "best_over_floor": b[best]["fd"] / m["floor"],
        "most_stable": steady,
        "tied": len(steady) > 1,
        "steadiest": {
            "rises": st["rises"],
            "rises_words": plural(st["rises"], "rise"),
            "transitions": st["epochs"] - 1,
            "regression": st["regression"],
            "oscillation": st["oscillation"],
        },
        "stability": [
            {
                "variant": v,
                "rises_words": plural(b[v]["rises"], "rise"),
                "regression": b[v]["regression"],
                "oscillation": b[v]["oscillation"],
            }
            for v in m["stability_order"]
        ],
        "quality_and_stability_differ": best not in steady,
        "cost": [{"variant": v, "seconds": x["seconds"]} for v, x in b.items()],
        "epochs": epochs[-1],
        "same_epochs": len(epochs) == 1,
        "wasserstein": w_names,
        "cross_entropy": ce_names,
        "g_steps_wasserstein": steps(w_names),
        "g_steps_cross_entropy": steps(ce_names),
        "g_steps_times": times_words(ratio) if ratio else None,
        "seeds": sorted({results[e].provenance.get("seed") for e in VARIANTS} - {None}),
        "h2_holds": h2_holds,
        "h2_partly": h2_partly,
        "h3_holds": bool(steady_w) and len(steady_w) == len(steady),
        "h3_partly": 0 < len(steady_w) < len(steady),
        "collapse_flagged": flagged,
    }


def findings(results: Mapping[str, StoredResult]) -> dict:
    """Everything HW3's narrative states beyond a plain lookup."""
    yard, dc, wg, gp, ac = (results[e] for e in ("EXP01", DCGAN, WGAN, WGAN_GP, ACGAN))
    dcm, wgm, gpm, acm = dc.metrics, wg.metrics, gp.metrics, ac.metrics
    images = dcm["training"]["images"]
    gain = (wgm["fd"] - gpm["fd"]) / wgm["fd"]
    return {
        "smoke": yard.profile == "smoke",
        "full_profile": dc.profile == "full",
        "subset": images < CIFAR10_TRAIN,
        "yardstick": yardstick(yard),
        **{e: variant(results[e]) for e in VARIANTS},
        "wgan_vs_dcgan": {
            "behind": wgm["fd"] > dcm["fd"],
            "g_step_share": share_words(wgm["training"]["g_steps"], dcm["training"]["g_steps"]),
            "calmer": wgm["track"]["loss_oscillation"] < dcm["track"]["loss_oscillation"],
        },
        "gp_vs_wgan": {
            "gain": gain,
            "phrase": wasserstein_gain_phrase(gain),
            "same_g_steps": gpm["training"]["g_steps"] == wgm["training"]["g_steps"],
        },
        "acgan": {
            **acgan_classes(ac, yard),
            "same_g_steps_as_dcgan": acm["training"]["g_steps"] == dcm["training"]["g_steps"],
        },
        "comparison": comparison(results),
    }
