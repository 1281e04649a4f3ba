"""The findings of the DL4CV module 2 report on hand-made results: every verdict both ways, the
rankings, and (when the cached quick results exist) the real results, complete and plain."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import cached_results, findings_module

from dljournal.report.findings import fake_result, plain

REPORT = "dl4cv2024_module2"
FILE = Path(__file__).resolve().parent.parent / "experiments" / REPORT / "findings.py"


F = findings_module(REPORT)
LITE0 = "efficientnet_lite0"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def run(acc, std=0.0, seeds=1, gap=0.05, to_target=None, params=45_000.0, sec=2.0):
    return {
        "test_acc": acc,
        "test_acc_std": std,
        "seeds": seeds,
        "gap": gap,
        "gap_std": 0.0,
        "seconds_to_target": to_target,
        "params": params,
        "seconds_per_epoch": sec,
    }


def exp01(wider=0.60, deeper=0.50, base=0.54, shallower=0.56, five=0.55, targets=(None, 5.0, None, 25.0, 17.0)):
    accs = dict(
        zip(
            [F.ARCH_BASELINE, "shallower (1-1-1)", F.DEEPER, F.WIDER, "5×5 filters"],
            [base, shallower, deeper, wider, five],
        )
    )
    metrics = {k: run(a, to_target=t) for (k, a), t in zip(accs.items(), targets)}
    return fake_result("EXP01", metrics, config={"target": 0.55, "epochs": 6})


def exp02(bn=0.65, dropout=0.52, wd=0.537, none=0.54, bn_target=6.8, dropout_target=None, train_acc=(0.5, 0.56, 0.59)):
    metrics = {
        F.NO_REG: run(none, gap=0.05),
        "dropout 0.3": run(dropout, gap=0.047, to_target=dropout_target),
        F.BATCH_NORM: run(bn, gap=0.137, to_target=bn_target),
        "weight decay 5e-4": run(wd, gap=0.055),
    }
    history = {F.NO_REG: [{"train_acc": list(train_acc), "val_acc": [0.5, 0.53, 0.54]}]}
    return fake_result("EXP02", metrics, history=history, config={"target": 0.55, "epochs": 6})


def exp03(final=0.682, base=0.544, std=0.005, confused=None):
    confused = confused or [
        {"true": "cat", "predicted": "dog", "rate": 0.25},
        {"true": "dog", "predicted": "cat", "rate": 0.11},
        {"true": "truck", "predicted": "automobile", "rate": 0.1},
        {"true": "bird", "predicted": "deer", "rate": 0.1},
    ]
    metrics = {
        "baseline": run(base, std, 3),
        "final": run(final, std, 3),
        "classes": CLASSES,
        "confused": confused,
        "mistakes": 3192,
        "test_size": 10_000,
        "confident_pairs": [{"pair": "bird → airplane", "n": 6}, {"pair": "automobile → truck", "n": 3}],
    }
    return fake_result("EXP03", metrics, config={"n_train": 10_000, "n_val": 5000})


def row(method, val, test, seconds=10.0):
    return {
        "method": method,
        "lr": 0.001,
        "schedule": "cosine",
        "val acc": val,
        "epoch": 2,
        "seconds": seconds,
        "test acc": test,
    }


def backbone(probe=(0.708, 0.676), ft_all=(0.64, 0.592), ft_low=(0.584, 0.548), key=LITE0, asked=("resnet18",)):
    """One backbone's entry in EXP04's metrics: (validation, test) accuracy of each method's choice."""
    best = {
        F.PROBE: row(F.PROBE, *probe, seconds=8.0),
        F.FT_ALL: row(F.FT_ALL, *ft_all, seconds=16.0),
        F.FT_LOW: row(F.FT_LOW, *ft_low, seconds=12.0),
    }
    substitute = list(asked) != [key]
    return {
        "label": f"{key} (substitute for {', '.join(asked)})" if substitute else key,
        "asked_for": list(asked),
        "substitute": substitute,
        "size": 96 if key != "vit_b_16" else 224,
        "best": best,
        "feature_seconds": 1.5,
        "runs": 18,
    }


def exp04(n_test=500, **backbones):
    """EXP04 with the substitute standing in for resnet18, or the given backbones (name -> backbone())."""
    entries = backbones or {LITE0: backbone()}
    return fake_result("EXP04", {"backbones": entries, "n_train": 1000, "n_val": 250, "n_test": n_test})


def one(**methods) -> dict:
    """The transfer findings of the one backbone of an EXP04 with these methods' (val, test) accuracies."""
    return fnd(EXP04=exp04(**{LITE0: backbone(**methods)}))["transfer"]["each"][0]


def exp05(full=0.575, tsne=0.566, pca=0.359, asked=("dinov2_vits14", "clip_vit_b32")):
    sep = {"full space": {"knn_acc": full}, "PCA": {"knn_acc": pca}, "t-SNE": {"knn_acc": tsne}}
    return fake_result(
        "EXP05",
        {LITE0: {"asked_for": list(asked), "probe": {"test_acc": 0.708}, "separability": sep, "dim": 1280, "size": 96}},
    )


def results(**over):
    out = {"EXP01": exp01(), "EXP02": exp02(), "EXP03": exp03(), "EXP04": exp04(), "EXP05": exp05()}
    return {**out, **over}


def fnd(**over) -> dict:
    """The findings as the templates see them (dataclasses turned into dicts)."""
    return plain(F.findings(results(**over)))


# ---- EXP01 -------------------------------------------------------------------------------------
def test_architecture_ranks_by_test_accuracy_and_names_the_change():
    a = fnd()["arch"]
    assert a["ranking"] == [F.WIDER, "shallower (1-1-1)", "5×5 filters", F.ARCH_BASELINE, F.DEEPER]
    assert a["best"]["name"] == F.WIDER and a["best_change"] == "width" and not a["best_is_baseline"]
    assert a["best_vs_baseline"] == "+6.0 pt on one seed"
    assert (a["fastest"], a["fastest_seconds"], a["reached"], a["variants"]) == ("shallower (1-1-1)", 5.0, 3, 5)


def test_architecture_when_the_baseline_wins_and_nothing_reaches_the_target():
    a = fnd(EXP01=exp01(base=0.7, targets=(None,) * 5))["arch"]
    assert a["best_is_baseline"] and a["best"]["name"] == F.ARCH_BASELINE
    assert a["fastest"] is None and a["fastest_seconds"] is None and a["reached"] == 0


@pytest.mark.parametrize(
    "wider, deeper, holds, word",
    [(0.60, 0.50, True, "holds"), (0.50, 0.60, False, "fails"), (0.555, 0.55, False, "not shown")],
)
def test_width_over_depth_needs_more_than_seed_noise(wider, deeper, holds, word):
    v = fnd(EXP01=exp01(wider=wider, deeper=deeper))["arch"]["width_over_depth"]
    assert (v["holds"], v["word"]) == (holds, word)
    assert v["diff"] == pytest.approx(wider - deeper)


def test_the_one_seed_threshold_comes_from_the_seed_spread_of_exp03():
    # two standard deviations of the difference of two runs: 2 · √2 · std
    assert fnd()["headline"]["one_seed_threshold"] == pytest.approx(2 * math.sqrt(2) * 0.005)
    narrow = exp01(wider=0.562, deeper=0.55)  # 1.2 pt: beyond noise when the seeds agree to 0.2 pt
    assert fnd(EXP01=narrow, EXP03=exp03(std=0.002))["arch"]["width_over_depth"]["holds"]
    loose = fnd(EXP01=narrow, EXP03=exp03(std=0.005))["arch"]["width_over_depth"]
    assert loose["word"] == "not shown" and loose["detail"] == "+1.2 pt on one seed, within seed noise"
    # no spread to measure (one seed, or identical seeds): the one-point floor
    assert F.one_seed_threshold(exp03(std=0.0)) == F.ONE_SEED_EFFECT


# ---- EXP02 -------------------------------------------------------------------------------------
def test_batch_norm_helps_and_is_the_only_one_to_reach_the_target():
    g = fnd()["reg"]
    assert g["best"]["name"] == F.BATCH_NORM and g["bn_helps"] and g["bn_fastest"] and g["bn_alone"]
    assert g["bn_vs_none"]["detail"] == "+11.0 pt on one seed"
    assert [o["name"] for o in g["others"]] == ["dropout 0.3", "weight decay 5e-4"]
    assert g["others"][0]["d_acc"] == pytest.approx(-0.02) and g["others"][0]["d_gap"] == pytest.approx(-0.003)
    assert not g["others_mild"]  # dropout costs 2 points


def test_batch_norm_fails_when_slower_and_no_better():
    g = fnd(EXP02=exp02(bn=0.535, bn_target=9.0, dropout_target=4.0))["reg"]
    assert not g["bn_helps"] and g["bn_vs_none"]["word"] == "not shown"
    assert not g["bn_fastest"] and not g["bn_alone"] and g["fastest"] == "dropout 0.3"
    assert g["best"]["name"] == F.NO_REG


def test_mild_regularisers_and_the_train_val_gap():
    g = fnd(EXP02=exp02(dropout=0.535, wd=0.545))["reg"]
    assert g["others_mild"]
    assert g["train_val_gap"]["growing"] and g["train_val_gap"]["last"] == pytest.approx(0.05)
    flat = fnd(EXP02=exp02(train_acc=(0.5, 0.6, 0.6)))["reg"]["train_val_gap"]
    assert not flat["growing"] and flat["previous"] == pytest.approx(0.07)


# ---- EXP03 -------------------------------------------------------------------------------------
def test_final_beats_baseline_beyond_seed_noise():
    h = fnd()["headline"]
    v = h["final_vs_baseline"]
    assert v["holds"] and v["word"] == "holds" and "n = 3 seeds each, Welch p < 0.001" in v["detail"]


def test_final_within_seed_noise_is_not_shown():
    v = fnd(EXP03=exp03(final=0.548, std=0.01))["headline"]["final_vs_baseline"]
    assert not v["holds"] and v["word"] == "not shown" and "within seed noise" in v["detail"]


def test_lookalike_confusions_against_chance():
    h = fnd()["headline"]
    assert h["chance_share"] == pytest.approx(42 / 90)  # 6·5 animal + 4·3 vehicle pairs of 90
    assert (h["within_group"], h["top_confusions"]) == (4, 4)
    assert h["lookalike"] and h["lookalike_p"] == pytest.approx((42 / 90) ** 4)
    assert h["confident_pairs"] == "bird → airplane (6), automobile → truck (3)"


def test_crossing_confusions_are_not_lookalikes():
    cross = [
        {"true": "cat", "predicted": "truck", "rate": 0.2},
        {"true": "ship", "predicted": "bird", "rate": 0.1},
        {"true": "dog", "predicted": "cat", "rate": 0.1},
        {"true": "frog", "predicted": "automobile", "rate": 0.1},
    ]
    h = fnd(EXP03=exp03(confused=cross))["headline"]
    assert h["within_group"] == 1 and not h["lookalike"]


# ---- EXP04 -------------------------------------------------------------------------------------
def test_probe_beats_fine_tuning_beyond_test_noise():
    t = one()
    assert t["probe_first"] and t["best_on_val_is_probe"] and t["ft_chosen"]["name"] == F.FT_ALL
    assert t["label"] == "efficientnet_lite0 (substitute for resnet18)" and t["substitute"] and t["size"] == 96
    v = t["finetune_over_probe"]
    assert v["decided"] and not v["holds"] and v["word"] == "fails"
    assert v["detail"] == "-8.4 ± 3.0 pt on 500 test images"
    assert t["time_ratio"] == pytest.approx(2.0)
    assert t["low_lr_protects"]["word"] == "not shown" and "within test-set noise" in t["low_lr_protects"]["detail"]


def test_fine_tuning_wins_and_the_lower_rate_protects():
    t = one(probe=(0.6, 0.6), ft_all=(0.7, 0.68), ft_low=(0.8, 0.80))
    assert not t["probe_first"] and t["ft_chosen"]["name"] == F.FT_LOW and t["best_on_val"]["name"] == F.FT_LOW
    assert t["finetune_over_probe"]["holds"] and t["low_lr_protects"]["holds"]


def test_the_fine_tuning_compared_is_chosen_on_validation_not_test():
    # the lower-rate run is better on test but worse on validation: the full fine-tuning is compared
    t = one(ft_all=(0.70, 0.55), ft_low=(0.60, 0.75))
    assert t["ft_chosen"]["name"] == F.FT_ALL and t["probe_first"]


def test_probe_against_the_custom_cnn():
    assert not one()["probe_over_cnn"]["decided"]
    assert (fnd()["transfer"]["n_train"], fnd()["transfer"]["cnn_train"]) == (1000, 10_000)
    far = one(probe=(0.9, 0.9))["probe_over_cnn"]
    assert far["holds"] and far["decided"]
    low = one(probe=(0.5, 0.5))["probe_over_cnn"]
    assert low["decided"] and not low["holds"]


def test_one_backbone_is_not_several():
    t = fnd()["transfer"]
    assert not t["several"] and t["best"]["key"] == LITE0 and t["best_vs_others"] == []


def test_several_backbones_each_judged_and_the_best_chosen_on_validation():
    vit = backbone(probe=(0.85, 0.84), ft_all=(0.93, 0.92), ft_low=(0.90, 0.91), key="vit_b_16", asked=("vit_b_16",))
    t = fnd(EXP04=exp04(**{LITE0: backbone(), "vit_b_16": vit}))["transfer"]
    assert t["several"] and [b["key"] for b in t["each"]] == [LITE0, "vit_b_16"]
    assert t["each"][1]["finetune_over_probe"]["holds"] and not t["each"][0]["finetune_over_probe"]["holds"]
    assert t["best"]["label"] == "vit_b_16" and t["best"]["best_on_val"]["name"] == F.FT_ALL
    (other,) = t["best_vs_others"]
    assert other["label"] == "efficientnet_lite0 (substitute for resnet18)" and other["method"] == F.PROBE
    assert other["verdict"]["holds"] and other["verdict"]["diff"] == pytest.approx(0.92 - 0.676)
    # better on test but not on validation: the backbone chosen stays the one best on validation
    sly = backbone(probe=(0.70, 0.99), key="resnet18", asked=("resnet18",))
    t = fnd(EXP04=exp04(**{"resnet18": sly, "vit_b_16": vit}))["transfer"]
    assert t["best"]["key"] == "vit_b_16" and t["best_vs_others"][0]["verdict"]["word"] == "fails"


def test_substitutes_name_every_backbone_that_was_missing():
    assert fnd()["substitutes"] == {"missing": ["resnet18", "dinov2_vits14", "clip_vit_b32"], "by": [LITE0]}
    shared = backbone(asked=("resnet18", "vit_b_16"))
    assert fnd(EXP04=exp04(**{LITE0: shared}))["substitutes"]["missing"][:2] == ["resnet18", "vit_b_16"]
    real = {"resnet18": backbone(key="resnet18", asked=("resnet18",))}
    none = fnd(EXP04=exp04(**real), EXP05=exp05(asked=(LITE0,)))["substitutes"]
    assert none == {"missing": [], "by": []}


# ---- EXP05 -------------------------------------------------------------------------------------
def test_tsne_keeps_neighbourhoods_and_beats_pca():
    e = fnd()["emb"]
    assert e["substituted"] and e["backbone"] == LITE0 and e["sizes"] == [96]
    assert e["tsne_keeps"] and e["tsne_beats_pca"] and e["tsne_share"] == pytest.approx(0.566 / 0.575)


def test_tsne_losing_neighbourhoods_and_pca_as_good():
    e = fnd(EXP05=exp05(tsne=0.40, pca=0.45, asked=("efficientnet_lite0",)))["emb"]
    assert not e["substituted"] and not e["tsne_keeps"] and not e["tsne_beats_pca"]


# ---- the real cached results -------------------------------------------------------------------
def test_findings_on_the_real_results_are_plain_and_complete():
    real = cached_results(REPORT, ("EXP01", "EXP02", "EXP03", "EXP04", "EXP05"))
    out = plain(F.findings(real), str(FILE))
    json.dumps(out)  # plain data only
    assert set(out) == {"substitutes", "arch", "reg", "headline", "transfer", "emb"}
    for key in ("width_over_depth",):
        assert set(out["arch"][key]) == {"holds", "decided", "word", "diff", "detail"}
    assert out["headline"]["final_vs_baseline"]["word"] in ("holds", "fails", "not shown")
    assert out["headline"]["one_seed_threshold"] == pytest.approx(2 * math.sqrt(2) * out["headline"]["seed_std"])
