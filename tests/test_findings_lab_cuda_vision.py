"""The findings of the lab "CUDA Vision" report on hand-made results: every hypothesis and verdict
both ways, the rankings, and (when the cached quick results exist) the real results, plain and complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cached_results, findings_module

from dljournal.report.findings import fake_result, plain

REPORT = "lab_cuda_vision"
FILE = Path(__file__).resolve().parent.parent / "experiments" / REPORT / "findings.py"
EXPS = ("EXP01", "EXP02", "EXP03", "EXP04", "EXP05", "EXP10", "EXP11")


F = findings_module(REPORT)


def exp01(acc=0.8855, last_in=0.39, last_out=0.61):
    first = {
        "net.1.weight": 0.32,
        "net.1.bias": 0.011,
        "net.4.weight": 0.18,
        "net.4.bias": 0.024,
        "net.10.weight": 0.086,
        "net.10.bias": 0.115,
    }
    last = {
        "net.1.weight": last_in,
        "net.1.bias": 0.013,
        "net.4.weight": 0.30,
        "net.4.bias": 0.013,
        "net.10.weight": last_out,
        "net.10.bias": 0.044,
    }
    return fake_result("EXP01", {"mlp": {"test_acc": acc}, "grad_norm_first": first, "grad_norm_last": last})


def exp02(tuned=0.8841, most="dropout", resumed=0):
    importance = {"dropout": 0.75, "width": 0.24, "lr": 0.01}
    importance[most] = 0.9
    return fake_result(
        "EXP02",
        {"final": {"test_acc": tuned}, "importance": importance, "most_important": most, "resumed_trials": resumed},
    )


def exp03(cnn=0.7175, mlp=0.5536, cnn_params=45_402.0, mlp_params=3_676_682.0):
    return fake_result(
        "EXP03",
        {"summary": {"MLP": {"test_acc": mlp, "params": mlp_params}, "CNN": {"test_acc": cnn, "params": cnn_params}}},
    )


def reg(acc, gap, near_zero=0.014, mean_abs=0.049, train_loss=0.82):
    return {"test_acc": acc, "gap": gap, "near_zero_w": near_zero, "mean_abs_w": mean_abs, "train_loss": train_loss}


def exp04(none_gap=0.075, l2_gap=0.061, l1_gap=0.062, l2_zero=0.196, l1_zero=0.307):
    return fake_result(
        "EXP04",
        {
            "none": reg(0.6425, none_gap),
            "L2 (weight decay 0.0005)": reg(0.6474, l2_gap, l2_zero),
            "L1 (λ = 5e-05)": reg(0.6356, l1_gap, l1_zero),
        },
    )


def exp05(aug_acc=0.6433, aug_gap=0.0097):
    return fake_result("EXP05", {F.NO_AUG: reg(0.6425, 0.0753), F.AUG: reg(aug_acc, aug_gap, train_loss=1.07)})


def exp10(conv=(0.0185, 0.0219, 0.0180), cnn=(0.0213, 0.0214, 0.0215), copy=0.0399, size=32):
    def m(loss, first, last):
        return {"test_loss": loss, "mse_first": first, "mse_last": last}

    return fake_result(
        "EXP10", {"convlstm": m(*conv), "frame_cnn": m(*cnn), "copy_last": m(copy, copy, copy)}, config={"size": size}
    )


def exp11(lstm=39, gru=39, conv=32, conv_train=0.75, split="time", f1=(0.835, 0.8, 0.41)):
    n = 42

    def m(hits, f, train=1.0):
        return {"test_acc": hits / n, "macro_f1": f, "train_acc": train}

    return fake_result(
        "EXP11",
        {
            "lstm": m(lstm, f1[0]),
            "gru": m(gru, f1[1]),
            "convlstm": m(conv, f1[2], conv_train),
            "clips": {"train": 79, "validation": 16, "test": n},
            "frame_size": 64,
            "split": split,
        },
        config={"width": 8, "features": 256},
    )


def fnd(**over) -> dict:
    """The findings as the templates see them (dataclasses turned into dicts)."""
    base = {
        "EXP01": exp01(),
        "EXP02": exp02(),
        "EXP03": exp03(),
        "EXP04": exp04(),
        "EXP05": exp05(),
        "EXP10": exp10(),
        "EXP11": exp11(),
    }
    return plain(F.findings({**base, **over}))


# ---- exercise 1 --------------------------------------------------------------------------------
def test_gradients_pick_the_first_and_last_layer_and_do_not_vanish():
    g = fnd()["fashion"]["grad"]
    assert g["input"] == {"name": "net.1.weight", "first": 0.32, "last": 0.39}
    assert g["output"]["name"] == "net.10.weight" and g["no_vanishing"]
    assert g["least_kept"] == pytest.approx(0.39 / 0.32)
    assert g["bias_ratio_first"] == pytest.approx([0.086 / 0.115, 0.32 / 0.011])
    assert g["bias_ratio_last"] == pytest.approx([0.61 / 0.044, 0.39 / 0.013])


def test_a_gradient_that_collapses_is_vanishing():
    g = fnd(EXP01=exp01(last_in=0.02))["fashion"]["grad"]
    assert not g["no_vanishing"] and g["least_kept"] == pytest.approx(0.02 / 0.32)


def test_hypothesis_1_as_measured():
    f = fnd()["fashion"]
    assert not f["reaches_benchmark"] and f["tuning_within_point"] and not f["lr_most_important"]
    assert not f["tuned_vs_hand"]["decided"] and f["tuned_vs_hand"]["detail"].endswith("within test-set noise")
    assert f["top_share"] == 0.9 and f["lr_share"] == 0.01 and not f["resumed"]


def test_a_difference_under_two_standard_errors_is_not_decided():
    # 0.7 pt on 10,000 images at 89 %: 1.6 standard errors of the difference
    f = fnd(EXP02=exp02(tuned=0.8925))["fashion"]
    assert not f["tuned_vs_hand"]["decided"] and f["tuned_vs_hand"]["detail"] == (
        "+0.7 ± 0.4 pt on 10,000 test images, within test-set noise"
    )


def test_hypothesis_1_the_other_way():
    f = fnd(EXP01=exp01(acc=0.90), EXP02=exp02(tuned=0.93, most="lr", resumed=3))["fashion"]
    assert f["reaches_benchmark"] and not f["tuning_within_point"] and f["lr_most_important"] and f["resumed"]
    assert f["tuned_vs_hand"]["higher"] and f["tuned_vs_hand"]["detail"] == "+3.0 ± 0.4 pt on 10,000 test images"


# ---- exercise 2 --------------------------------------------------------------------------------
def test_hypothesis_2_holds_wide_with_far_fewer_parameters():
    c = fnd()["cifar"]
    assert c["cnn_wins"] and c["cnn_wins_wide"] and c["h2_word"] == "Holds"
    assert c["param_ratio"] == pytest.approx(3_676_682 / 45_402)
    assert c["cnn_vs_mlp"]["detail"] == "+16.4 ± 0.7 pt on 10,000 test images"


@pytest.mark.parametrize(
    "cnn, cnn_params, word",
    [
        (0.58, 45_402.0, "Holds only in part"),  # beyond noise, but under five points
        (0.7175, 1_000_000.0, "Holds only in part"),  # wide, but only 3.7x fewer parameters
        (0.555, 45_402.0, "Fails"),  # within test-set noise
        (0.50, 45_402.0, "Fails"),
    ],
)
def test_hypothesis_2_fails_or_holds_in_part(cnn, cnn_params, word):
    assert fnd(EXP03=exp03(cnn=cnn, cnn_params=cnn_params))["cifar"]["h2_word"] == word


def test_hypothesis_3_penalties_and_augmentation_narrow_the_gap_and_l1_sparsifies():
    c = fnd()["cifar"]
    assert c["l1"]["name"] == "L1 (λ = 5e-05)" and c["l2"]["name"] == "L2 (weight decay 0.0005)"
    assert c["penalties_narrow"] and c["aug"]["narrows"] and c["all_narrow"]
    assert c["l1"]["d_gap"] == pytest.approx(-0.013) and c["l1"]["sparser"] and c["l2"]["sparser"]
    assert not c["aug"]["behind"] and not c["aug"]["ahead"] and c["aug"]["with"]["train_loss"] == 1.07


def test_hypothesis_3_fails_when_a_gap_does_not_move_by_half_a_point():
    c = fnd(EXP04=exp04(l2_gap=0.072, l2_zero=0.02))["cifar"]
    assert c["l1"]["narrows"] and not c["l2"]["narrows"] and not c["penalties_narrow"] and not c["all_narrow"]
    assert not c["l2"]["sparser"]
    a = fnd(EXP05=exp05(aug_gap=0.08, aug_acc=0.62))["cifar"]
    assert not a["aug"]["narrows"] and a["aug"]["behind"] and not a["all_narrow"]
    assert fnd(EXP05=exp05(aug_acc=0.66))["cifar"]["aug"]["ahead"]


# ---- exercise 4 --------------------------------------------------------------------------------
def test_hypothesis_4_convlstm_beats_the_frame_cnn_and_improves_with_frames():
    v = fnd()["video"]
    assert v["convlstm_wins"] and v["improves_with_frames"] and not v["copy_beats_convlstm"] and v["shrunk"]
    assert v["below_cnn"] == pytest.approx(1 - 0.0185 / 0.0213)


def test_hypothesis_4_fails():
    v = fnd(EXP10=exp10(conv=(0.03, 0.03, 0.029), copy=0.02, size=64))["video"]
    assert not v["convlstm_wins"] and not v["improves_with_frames"] and v["copy_beats_convlstm"] and not v["shrunk"]


def test_kth_ranking_with_a_tie_and_the_lead_in_clips():
    k = fnd()["kth"]
    assert k["top"] == "LSTM and the GRU" and k["tie"] and k["runner_up"] == "ConvLSTM" and k["lead_clips"] == 7
    assert k["clip_worth"] == pytest.approx(1 / 42) and k["low_f1"] == ["GRU", "ConvLSTM"]
    assert k["convlstm_underfits"] and k["time_split"] and not k["person_split"]
    assert k["linear_params"] == 2 * 8 * 8**2 * 256 + 256 and k["clips_total"] == 137


def test_kth_single_winner_and_no_underfitting():
    k = fnd(EXP11=exp11(lstm=30, gru=35, conv=40, conv_train=0.95, split="person", f1=(0.7, 0.8, 0.9)))["kth"]
    assert k["top"] == "ConvLSTM" and not k["tie"] and k["runner_up"] == "GRU" and k["lead_clips"] == 5
    assert not k["convlstm_underfits"] and k["person_split"] and k["low_f1"] == []
    same = fnd(EXP11=exp11(lstm=40, gru=40, conv=40))["kth"]
    assert same["runner_up"] is None and same["lead_clips"] == 0 and same["top"] == "LSTM and the GRU and the ConvLSTM"


# ---- the real cached results -------------------------------------------------------------------
def test_findings_on_the_real_results_are_plain_and_complete():
    real = cached_results(REPORT, EXPS)
    out = plain(F.findings(real), str(FILE))
    json.dumps(out)  # plain data only
    assert set(out) == {"test_images", "fashion", "cifar", "video", "kth"}
    assert set(out["cifar"]["cnn_vs_mlp"]) == {"diff", "decided", "higher", "detail"}
    assert out["cifar"]["h2_word"] in ("Holds", "Holds only in part", "Fails")
    assert out["kth"]["split"] in ("person", "time", "synthetic")
