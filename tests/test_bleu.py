"""BLEU@1 as the course's bleu_eval.py defines it, and sacrebleu's corpus BLEU-4, on hand-computed cases."""

import math

import pytest

from dljournal.analysis.bleu import average_bleu1, bleu1, corpus_bleu4
from dljournal.core.project import ProjectError


def test_bleu1_clips_counts_papineni_example():
    # Papineni et al. (2002): "the" x7 earns 2/7; "The" matches case-insensitively; both references
    # lose their final period, so their lengths are 6 and 7 and the closest to c = 7 is 7 (BP = 1).
    refs = ["The cat is on the mat.", "There is a cat on the mat."]
    assert bleu1("the the the the the the the", refs) == pytest.approx(2 / 7, abs=1e-12)


def test_bleu1_clips_by_the_best_single_reference_and_penalises_brevity():
    # "a" x2 is allowed by the second reference alone; c = 3, closest reference length r = 4
    refs = ["a man is running", "a dog and a man"]
    assert bleu1("a a man", refs) == pytest.approx(math.exp(1 - 4 / 3), abs=1e-12)


def test_bleu1_breaks_length_ties_towards_the_first_reference():
    assert bleu1("a b c", ["a b", "a b c d"]) == pytest.approx(1.0)  # r = 2 < c: no penalty
    assert bleu1("a b c", ["a b c d", "a b"]) == pytest.approx(math.exp(1 - 4 / 3), abs=1e-12)  # r = 4


def test_bleu1_strips_the_period_of_references_only():
    assert bleu1("a man", ["a man."]) == 1.0
    assert bleu1("a man.", ["a man."]) == 0.5  # the course script keeps the candidate's "man."
    assert bleu1("", ["a man"]) == 0.0


def test_average_bleu1_is_the_mean_over_videos():
    refs = {"v1": ["a man is running"], "v2": ["a cat"]}
    preds = {"v1": "a man is running", "v2": "a dog", "extra": "ignored"}
    assert average_bleu1(preds, refs) == pytest.approx((1.0 + 0.5) / 2)
    with pytest.raises(ProjectError, match="no predicted caption for 1 of 2 videos"):
        average_bleu1({"v1": "a man"}, refs)


def test_corpus_bleu4_matches_hand_computed_values():
    # p1..p4 = 4/5, 3/4, 2/3, 1/2 and BP = 1: BLEU = (1/5)^(1/4); case is ignored
    assert corpus_bleu4(["A B C D E"], [["a b c d f"]]) == pytest.approx(0.2**0.25, abs=1e-9)
    assert corpus_bleu4(["a man is running"], [["a man is running"]]) == pytest.approx(1.0)


def test_corpus_bleu4_pools_counts_over_videos_with_varying_reference_counts():
    # every n-gram matches; c = 4 + 4, r = 6 (closest of 6 and 8) + 4: BP = exp(1 - 10/8)
    hyps = ["a b c d", "w x y z"]
    refs = [["a b c d e f", "a b c d e f g h"], ["w x y z"]]
    assert corpus_bleu4(hyps, refs) == pytest.approx(math.exp(-0.25), abs=1e-9)
    with pytest.raises(ValueError):
        corpus_bleu4(hyps, refs[:1])
