"""Caption metrics: BLEU@1 exactly as the course's ``bleu_eval.py`` computes it, and corpus BLEU-4
from sacrebleu (the maintained reference implementation), both on a 0-1 scale.

The course's BLEU@1, per video: unigram precision of the candidate, each word's count clipped by
its largest count in any one reference; times a brevity penalty against the reference whose length
is closest to the candidate's (the first one on a tie): ``exp(1 - r / c)`` unless ``c > r``.
References lose a trailing period, words are split on whitespace and compared lower-cased. The
score of a model is the mean over the test videos.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache

from ..core.project import ProjectError


@lru_cache(maxsize=8192)
def _reference_stats(references: tuple[str, ...]) -> tuple[dict[str, int], tuple[int, ...]]:
    """Per word, its largest count in any single reference; and each reference's length."""
    best: dict[str, int] = {}
    lengths = []
    for ref in references:
        words = ref.strip().rstrip(".").split()
        lengths.append(len(words))
        for w, n in Counter(w.lower() for w in words).items():
            best[w] = max(best.get(w, 0), n)
    return best, tuple(lengths)


def bleu1(candidate: str, references: Sequence[str]) -> float:
    """The course's BLEU@1 of one candidate caption against the references of its video."""
    if not references:
        raise ValueError("BLEU@1 needs at least one reference caption")
    best, lengths = _reference_stats(tuple(references))
    words = candidate.strip().split()
    c = len(words)
    if c == 0:
        return 0.0  # the course script divides by zero here; an empty caption earns nothing
    clipped = sum(min(n, best.get(w, 0)) for w, n in Counter(w.lower() for w in words).items())
    r = min(lengths, key=lambda length: abs(c - length))  # min() keeps the first on a tie, as the course
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return clipped / c * brevity


def average_bleu1(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> float:
    """Mean BLEU@1 over every video of ``references`` (video id -> its captions)."""
    missing = [v for v in references if v not in predictions]
    if missing:
        raise ProjectError(f"no predicted caption for {len(missing)} of {len(references)} videos (first: {missing[0]})")
    if not references:
        raise ProjectError("BLEU@1 of an empty test set")
    return sum(bleu1(predictions[v], refs) for v, refs in references.items()) / len(references)


def corpus_bleu4(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """sacrebleu's corpus BLEU-4 (13a tokens, lower-cased, exponential smoothing), on a 0-1 scale.

    ``references[i]`` holds all captions of video ``i``; videos may have different numbers of them
    (sacrebleu takes reference *streams*, so shorter lists are padded with None, which it skips).
    """
    import sacrebleu

    if not hypotheses:
        raise ValueError("corpus BLEU-4 of no hypotheses")
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} reference lists")
    depth = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(depth)]
    return sacrebleu.corpus_bleu(list(hypotheses), streams, lowercase=True).score / 100
