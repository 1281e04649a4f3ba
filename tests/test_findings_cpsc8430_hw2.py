"""HW2's findings (experiments/cpsc8430_hw2/findings.py) on hand-made results: every hypothesis both
ways, the decoders compared, and the real cached results when they exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cached_results, findings_module

from dljournal.report.findings import fake_result, plain

REPO = Path(__file__).resolve().parent.parent
REPORT = "cpsc8430_hw2"


F = findings_module(REPORT)


def exp01(vocab_size=2892, distinct=6015, unk_rate=0.0212, top_share=0.543, singletons=2285, profile="quick"):
    return fake_result(
        "EXP01",
        {
            "vocab_size": vocab_size,
            "distinct_words": distinct,
            "unk_rate": unk_rate,
            "top_word_share": top_share,
            "singletons": singletons,
            "captions_per_video": {"mean": 16.7, "min": 5, "max": 37},
        },
        profile=profile,
    )


def model(label, exact_greedy=1.0, exact_beam=1.0, first=8.0, final=0.1):
    return {
        "label": label,
        "first_loss": first,
        "final_loss": final,
        "greedy": {"exact": exact_greedy, "bleu1": 1.0, "bleu4": 1.0},
        "beam": {"exact": exact_beam, "bleu1": 1.0, "bleu4": 1.0},
    }


def exp02(models=None, videos=None, synthetic=False, frame_stride=4):
    models = models or {"lstm": model("LSTM"), "gru": model("GRU")}
    metrics = {
        "has_features": videos is not None,
        "synthetic_data": synthetic,
        "vocab_size": 2892,
        "overfit": {
            "videos": 16,
            "epochs": 80,
            "frames": 20,
            "all_exact": all(m["greedy"]["exact"] == 1 == m["beam"]["exact"] for m in models.values()),
            "models": models,
        },
    }
    if videos is not None:
        metrics["videos"] = videos
    return fake_result("EXP02", metrics, config={"frame_stride": frame_stride})


def exp03(share1=0.70, share4=0.125):
    return fake_result(
        "EXP03",
        {
            "fixed_vs_human": {"bleu1": share1, "bleu4": share4},
            "best_constant": {"bleu1": 0.61, "bleu4": 0.046},
            "human": {"bleu1": 0.87},
        },
    )


def results(e1=None, e2=None, e3=None):
    return {"EXP01": e1 or exp01(), "EXP02": e2 or exp02(), "EXP03": e3 or exp03()}


# ---- H1: the vocabulary ----------------------------------------------------------------------------


def test_first_hypothesis_holds_on_msvd_like_counts():
    v = F.findings(results())["vocab"]
    assert v["words_kept"] == 2888 and v["kept_share"] == pytest.approx(2888 / 6015)
    assert v["rare_share"] == pytest.approx(1 - 2888 / 6015) and v["running_kept"] == pytest.approx(0.9788)
    assert v["singleton_share"] == pytest.approx(2285 / 6015)
    assert v["shrinks_cheaply"] and v["steep"] and v["h1_holds"]


@pytest.mark.parametrize(
    "kwargs, cheaply, steep",
    [
        ({"unk_rate": 0.08}, False, True),  # the minimum count costs too much text
        ({"vocab_size": 5004}, False, True),  # keeps 83 % of the distinct words: hardly shrinks
        ({"top_share": 0.3}, True, False),  # a flat distribution
    ],
)
def test_first_hypothesis_fails(kwargs, cheaply, steep):
    v = F.findings(results(e1=exp01(**kwargs)))["vocab"]
    assert (v["shrinks_cheaply"], v["steep"], v["h1_holds"]) == (cheaply, steep, False)


# ---- H2: the implementation ------------------------------------------------------------------------


def test_overfit_check_all_exact():
    f = F.findings(results())
    o = f["overfit"]
    assert o["labels"] == ["LSTM", "GRU"] and o["all_exact"] and o["losses_fall"] and f["h2_overfit_holds"]
    assert o["rows"][0] == {
        "label": "LSTM",
        "first_loss": 8.0,
        "final_loss": 0.1,
        "greedy_exact": 1.0,
        "beam_exact": 1.0,
    }


def test_overfit_check_falls_short():
    f = F.findings(results(e2=exp02({"lstm": model("LSTM"), "gru": model("GRU", exact_beam=0.75, final=9.0)})))
    assert not f["overfit"]["all_exact"] and not f["h2_overfit_holds"] and not f["overfit"]["losses_fall"]


def test_no_features_no_video_verdict():
    v = F.findings(results())["videos"]
    assert v == {
        "has_features": False,
        "synthetic": False,
        "real": False,
        "beam_at_least_greedy": None,
        "best_decoder": None,
        "best_bleu1": None,
    }


@pytest.mark.parametrize(
    "beam, greedy, wins, decoder",
    [(0.70, 0.66, True, "beam search"), (0.66, 0.66, True, "beam search"), (0.60, 0.66, False, "greedy")],
)
def test_beam_against_greedy_on_videos(beam, greedy, wins, decoder):
    videos = {
        "split": "held-out videos",
        "greedy": {"bleu1": greedy, "bleu4": 0.2},
        "beam": {"bleu1": beam, "bleu4": 0.2},
    }
    v = F.findings(results(e2=exp02(videos=videos)))["videos"]
    assert v["real"] and v["beam_at_least_greedy"] is wins and v["best_decoder"] == decoder
    assert v["best_bleu1"] == max(beam, greedy)


def test_synthetic_videos_are_not_real_and_smoke_is_said():
    videos = {"greedy": {"bleu1": 0.3, "bleu4": 0.0}, "beam": {"bleu1": 0.2, "bleu4": 0.0}}
    f = F.findings(results(e1=exp01(profile="smoke"), e2=exp02(videos=videos, synthetic=True, frame_stride=1)))
    assert f["smoke"] and f["videos"]["synthetic"] and not f["videos"]["real"] and not f["strided"]
    assert F.findings(results())["strided"] and not F.findings(results())["smoke"]


# ---- H3: what BLEU@1 means -------------------------------------------------------------------------


def test_third_hypothesis_holds_and_bleu4_separates_more():
    b = F.findings(results())["bleu"]
    assert b["h3_holds"] and b["bleu4_separates_more"] and not b["fixed_beats_human"]
    assert (b["share_bleu1"], b["share_bleu4"]) == (0.70, 0.125)


def test_third_hypothesis_fails_and_bleu4_does_not_separate_more():
    b = F.findings(results(e3=exp03(share1=0.40, share4=0.45)))["bleu"]
    assert not b["h3_holds"] and not b["bleu4_separates_more"] and not b["fixed_beats_human"]


def test_a_fixed_caption_that_beats_humans_is_said():
    b = F.findings(results(e3=exp03(share1=1.05)))["bleu"]
    assert b["h3_holds"] and b["fixed_beats_human"]


# ---- the real cached results -----------------------------------------------------------------------


def test_real_results_give_plain_complete_findings():
    loaded = cached_results(REPORT, ("EXP01", "EXP02", "EXP03"))
    f = plain(F.findings(loaded))
    json.dumps(f)  # plain data only
    assert set(f) == {"smoke", "vocab", "overfit", "videos", "strided", "h2_overfit_holds", "bleu", "refs_per_video"}
    assert f["vocab"]["words_kept"] == loaded["EXP01"].metrics["vocab_size"] - 4
    assert f["overfit"]["all_exact"] == loaded["EXP02"].metrics["overfit"]["all_exact"]
    assert all(isinstance(f["bleu"][k], bool) for k in ("h3_holds", "bleu4_separates_more", "fixed_beats_human"))
    assert isinstance(f["vocab"]["h1_holds"], bool) and 0 < f["vocab"]["kept_share"] <= 1
