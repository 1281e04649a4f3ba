"""HW3's findings (experiments/cpsc8430_hw3/findings.py) on hand-made results: every verdict both
ways, the rankings, and the real cached results when they exist."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import cached_results, findings_module

from dljournal.report.findings import fake_result, plain

REPO = Path(__file__).resolve().parent.parent
REPORT = "cpsc8430_hw3"
EXPERIMENTS = ("EXP01", "EXP02", "EXP03", "EXP04", "EXP05", "EXP06")


F = findings_module(REPORT)


def yardstick(floor_by_n=None, knn_acc=0.66, knn_entropy=0.98):
    floor_by_n = floor_by_n or {"50": 150.0, "100": 120.0, "500": 60.0}
    return fake_result(
        "EXP01",
        {
            "distance": "FD",
            "true_fid": False,
            "n": 500,
            "floor": 60.0,
            "floor_by_n": floor_by_n,
            "knn_acc": knn_acc,
            "knn_entropy": knn_entropy,
        },
    )


def gan(
    exp,
    name,
    fd,
    *,
    rises=0,
    g_steps=780,
    wasserstein=False,
    oscillation=1.5,
    regression=0.0,
    collapse=False,
    pixel=0.9,
    last=None,
    corr=None,
    w=None,
    agreement=None,
    entropy=0.5,
    epochs=5,
):
    track = {"rises": rises, "regression": regression, "loss_oscillation": oscillation}
    if corr is not None:
        track["wasserstein_fd_corr"] = corr
    diversity = {"pixel_diversity": pixel, "spread": 0.3, "class_entropy": entropy, "collapse": collapse}
    if agreement is not None:
        diversity["class_agreement"] = agreement
    history = {"fd": [fd + 100.0, fd + 20.0], **({"wasserstein": w} if w else {})}
    return fake_result(
        exp,
        {
            "variant": name,
            "fd": fd,
            "floor": 60.0,
            "track": track,
            "diversity": diversity,
            "training": {"epochs": epochs, "images": 10000, "g_steps": g_steps},
            "rules": {"wasserstein": wasserstein},
            "last_epoch": last or {"p_real": 0.8, "p_fake": 0.2},
        },
        history={name: history},
        config={"collapse_diversity": 0.5, "collapse_spread": 0.5},
    )


def results(
    fds=(246.0, 265.0, 262.0, 220.0),
    rises=(1, 0, 0, 1),
    collapse=(),
    most_stable=None,
    order=None,
    acgan_last=None,
    agreement=0.1,
    acgan_entropy=0.54,
    epochs=5,
):
    names = ("DCGAN", "WGAN", "WGAN-GP", "ACGAN")
    steps = (780, 156, 156, 780)
    wass = (False, True, True, False)
    osc = (3.7, 1.0, 1.2, 1.5)
    r = {"EXP01": yardstick()}
    for i, (exp, name) in enumerate(zip(("EXP02", "EXP03", "EXP04", "EXP05"), names)):
        last = {"p_real": 0.8, "p_fake": 0.2}
        if name == "WGAN-GP":
            last = {"wasserstein": 14.0, "gradient_penalty": 0.25}
        if name == "ACGAN":
            last = acgan_last or {"p_real": 0.7, "p_fake": 0.3, "class_acc_fake": 0.97}
        r[exp] = gan(
            exp,
            name,
            fds[i],
            rises=rises[i],
            g_steps=steps[i],
            wasserstein=wass[i],
            oscillation=osc[i],
            collapse=name in collapse,
            last=last,
            w=[0.01, 0.2] if wass[i] else None,
            corr=-0.9 if wass[i] else None,
            epochs=epochs,
            agreement=agreement if name == "ACGAN" else None,
            entropy=acgan_entropy if name == "ACGAN" else 0.5,
        )
    by = {
        n: {
            "fd": fds[i],
            "seconds": 30.0,
            "rises": rises[i],
            "regression": 0.0,
            "collapse": n in collapse,
            "oscillation": osc[i],
            "epochs": epochs,
            "g_steps": steps[i],
        }
        for i, n in enumerate(names)
    }
    order = order or sorted(names, key=lambda n: (by[n]["rises"], by[n]["oscillation"]))
    r["EXP06"] = fake_result(
        "EXP06",
        {
            "floor": 60.0,
            "by_variant": by,
            "best_fd": min(by, key=lambda n: by[n]["fd"]),
            "most_stable": most_stable or order[:1],
            "stability_order": order,
        },
    )
    return r


# ---- small helpers ---------------------------------------------------------------------------------


def test_progress_phrase_grades_the_rises():
    assert F.progress_phrase(0, 4) == "fell in every epoch"
    assert F.progress_phrase(1, 4) == "fell in most epochs (1 rise in 4)"
    assert F.progress_phrase(2, 4) == "rose in 2 of 4 epochs"
    assert F.progress_phrase(3, 9) == "fell in most epochs (3 rises in 9)"


def test_share_and_times_words():
    assert F.share_words(156, 780) == "a fifth"
    assert F.share_words(390, 780) == "a half"
    assert F.share_words(300, 1000) == "30%"
    assert F.times_words(5.0) == "five times" and F.times_words(5.3) == "5.3 times"


# ---- EXP01 -----------------------------------------------------------------------------------------


def test_floor_falls_with_sample_size_and_is_sorted_by_number():
    f = F.yardstick(yardstick({"100": 120.0, "50": 150.0, "500": 60.0}))
    assert f["floor_smallest_n"] == 50 and f["floor_at_smallest_n"] == 150.0 and f["floor_falls_with_n"]
    assert f["chance"] == pytest.approx(0.1) and f["knn_over_chance"] == pytest.approx(6.6)


def test_floor_that_does_not_fall_steadily_is_not_called_noise():
    f = F.yardstick(yardstick({"50": 150.0, "100": 155.0, "500": 60.0}))
    assert f["floor_curve"] and not f["floor_falls_with_n"]
    one = F.yardstick(yardstick({"500": 60.0}))
    assert not one["floor_curve"] and not one["floor_falls_with_n"]


# ---- EXP02-EXP05 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p_fake, starts", [(0.2, "it wins clearly"), (0.55, "it keeps an edge"), (0.75, "it can barely")]
)
def test_discriminator_verdict(p_fake, starts):
    v = F.variant(gan("EXP02", "DCGAN", 246.0, last={"p_real": 0.8, "p_fake": p_fake}))
    assert v["d_verdict"].startswith(starts) and v["d_margin"] == pytest.approx(0.8 - p_fake)


@pytest.mark.parametrize(
    "corr, label, tracks, opposes",
    [
        (0.8, "strong positive", True, False),
        (-0.95, "strong negative", False, True),
        (-0.16, "weak", False, False),
        (None, None, False, False),
    ],
)
def test_wasserstein_correlation_verdict(corr, label, tracks, opposes):
    v = F.variant(gan("EXP03", "WGAN", 265.0, wasserstein=True, corr=corr, w=[0.01, 0.17], last={"wasserstein": 0.17}))
    assert (v["corr_label"], v["corr_tracks"], v["corr_opposes"]) == (label, tracks, opposes)
    assert (v["w_first"], v["w_last"]) == (0.01, 0.17) and v["fd_first"] == 365.0 and v["fd_last"] == 285.0


def test_variant_numbers_and_collapse():
    v = F.variant(
        gan(
            "EXP04",
            "WGAN-GP",
            240.0,
            rises=2,
            regression=0.05,
            collapse=True,
            pixel=0.3,
            last={"gradient_penalty": 0.25},
        )
    )
    assert v["fd_over_floor"] == pytest.approx(4.0) and v["transitions"] == 4
    assert v["progress"] == "rose in 2 of 4 epochs" and v["regression_noted"]
    assert v["collapse"] and not v["pixels_diverse"] and v["gp_rms"] == pytest.approx(0.5)
    assert v["d_margin"] is None and v["d_verdict"] is None  # a critic's outputs are not probabilities
    calm = F.variant(gan("EXP02", "DCGAN", 240.0, regression=0.01))
    assert not calm["regression_noted"] and calm["pixels_diverse"] and calm["gp_rms"] is None


def test_wgan_behind_or_ahead_of_dcgan():
    f = F.findings(results(fds=(246.0, 265.0, 262.0, 220.0)))
    assert f["wgan_vs_dcgan"] == {"behind": True, "g_step_share": "a fifth", "calmer": True}
    assert not F.findings(results(fds=(246.0, 230.0, 262.0, 220.0)))["wgan_vs_dcgan"]["behind"]


@pytest.mark.parametrize(
    "gp_fd, phrase",
    [
        (230.0, "gets much further than"),
        (255.0, "gets somewhat further than"),
        (262.0, "gets about as far as"),
        (280.0, "does not get as far as"),
    ],
)
def test_gradient_penalty_against_clipping(gp_fd, phrase):
    g = F.findings(results(fds=(246.0, 265.0, gp_fd, 220.0)))["gp_vs_wgan"]
    assert g["phrase"] == phrase and g["gain"] == pytest.approx((265.0 - gp_fd) / 265.0) and g["same_g_steps"]


def test_acgan_class_input_invisible_to_the_vote_but_seen_by_its_head():
    a = F.findings(results(agreement=0.1))["acgan"]
    assert not a["works"] and a["head_sees_more"] and a["below_real"] and a["times_chance"] == pytest.approx(1.0)
    assert not a["covers_classes"] and a["same_g_steps_as_dcgan"]


def test_acgan_class_input_works_and_covers_classes():
    a = F.findings(
        results(agreement=0.45, acgan_entropy=0.95, acgan_last={"p_real": 0.7, "p_fake": 0.3, "class_acc_fake": 0.6})
    )["acgan"]
    assert a["works"] and not a["head_sees_more"] and a["below_real"] and a["covers_classes"]
    assert a["times_chance"] == pytest.approx(4.5)
    assert not F.findings(results(agreement=0.7))["acgan"]["below_real"]  # the vote names 66 % of real images


# ---- EXP06 and the summary's hypotheses ------------------------------------------------------------


def test_ranking_and_hypotheses_hold():
    c = F.findings(results())["comparison"]
    assert [x["variant"] for x in c["ranking"]] == ["ACGAN", "DCGAN", "WGAN-GP", "WGAN"]
    assert c["best"] == "ACGAN" and c["best_over_floor"] == pytest.approx(220.0 / 60.0)
    assert c["most_stable"] == ["WGAN"] and not c["tied"] and c["quality_and_stability_differ"]
    assert [x["variant"] for x in c["stability"]] == ["WGAN", "WGAN-GP", "ACGAN", "DCGAN"]
    assert c["stability"][2]["rises_words"] == "1 rise" and c["steadiest"]["rises_words"] == "0 rises"
    assert c["h2_holds"] and not c["h2_partly"] and c["h3_holds"] and not c["h3_partly"]
    assert c["wasserstein"] == ["WGAN", "WGAN-GP"] and c["cross_entropy"] == ["DCGAN", "ACGAN"]
    assert (c["g_steps_wasserstein"], c["g_steps_cross_entropy"], c["g_steps_times"]) == ("156", "780", "five times")
    assert c["epochs"] == 5 and c["same_epochs"] and c["seeds"] == [0] and c["collapse_flagged"] == []


def test_second_hypothesis_partly_and_failing():
    partly = F.findings(results(fds=(270.0, 265.0, 262.0, 220.0)))["comparison"]  # DCGAN behind both WGANs
    assert partly["best"] == "ACGAN" and not partly["h2_holds"] and partly["h2_partly"]
    fails = F.findings(results(fds=(246.0, 265.0, 200.0, 220.0)))["comparison"]
    assert fails["best"] == "WGAN-GP" and not fails["h2_holds"] and not fails["h2_partly"]


def test_third_hypothesis_partly_and_failing():
    tied = F.findings(results(most_stable=["WGAN", "DCGAN"], order=["WGAN", "DCGAN", "WGAN-GP", "ACGAN"]))
    c = tied["comparison"]
    assert c["tied"] and not c["h3_holds"] and c["h3_partly"]
    order = ["DCGAN", "WGAN", "WGAN-GP", "ACGAN"]
    c = F.findings(results(rises=(0, 1, 1, 2), order=order))["comparison"]
    assert c["most_stable"] == ["DCGAN"] and not c["h3_holds"] and not c["h3_partly"]
    assert c["steadiest"]["rises"] == 0


def test_collapse_is_listed_and_quality_agrees_with_stability():
    c = F.findings(
        results(collapse=("DCGAN", "WGAN"), most_stable=["ACGAN"], order=["ACGAN", "WGAN", "WGAN-GP", "DCGAN"])
    )["comparison"]
    assert c["collapse_flagged"] == ["DCGAN", "WGAN"] and not c["quality_and_stability_differ"]


def test_smoke_shaped_results_have_every_key():
    """The smoke profile trains two epochs: no correlation, one epoch-to-epoch step."""
    r = results(epochs=2)
    for exp in ("EXP03", "EXP04"):
        del r[exp].metrics["track"]["wasserstein_fd_corr"]
    r["EXP01"].profile = "smoke"
    f = plain(F.findings(r))
    assert f["smoke"] and f["EXP03"]["corr_label"] is None and f["EXP02"]["transitions"] == 1
    assert set(f) >= {"yardstick", "EXP02", "EXP05", "wgan_vs_dcgan", "gp_vs_wgan", "acgan", "comparison"}


# ---- the real cached results -----------------------------------------------------------------------


def test_real_results_give_plain_complete_findings():
    loaded = cached_results(REPORT, EXPERIMENTS)
    f = plain(F.findings(loaded))
    json.dumps(f)  # plain data only
    assert set(f) == {
        "smoke",
        "full_profile",
        "subset",
        "yardstick",
        "EXP02",
        "EXP03",
        "EXP04",
        "EXP05",
        "wgan_vs_dcgan",
        "gp_vs_wgan",
        "acgan",
        "comparison",
    }
    c = f["comparison"]
    assert c["best"] == c["ranking"][0]["variant"] and len(c["ranking"]) == 4
    assert [x["fd"] for x in c["ranking"]] == sorted(x["fd"] for x in c["ranking"])
    assert all(math.isfinite(f[e]["fd_over_floor"]) for e in ("EXP02", "EXP03", "EXP04", "EXP05"))
    assert isinstance(c["h2_holds"], bool) and isinstance(c["h3_holds"], bool) and isinstance(f["acgan"]["works"], bool)
