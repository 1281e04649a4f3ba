"""HW2 EXP01: the training captions, their lengths and the vocabulary a min-count threshold leaves."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from dljournal import Context, Recipe, Result, experiment, viz
from dljournal.data.captions import Vocab, tokenize, vocab_sizes, word_counts

from .common import DATASET, load_captions


@dataclass(frozen=True)
class VocabCfg:
    thresholds: tuple[int, ...] = (1, 2, 3, 5, 10, 20)  # min-count thresholds to compare
    min_count: int = 3  # the vocabulary the captioning model uses (EXP02)
    max_words: int = 20  # captions are cut to this many words for training
    top_words: int = 30
    top_captions: int = 10


@experiment("EXP01", recipe=Recipe(VocabCfg()), data=(DATASET,))
def caption_statistics(ctx: Context) -> Result:
    """Captions and vocabulary

    What do the MLDS hw2 training captions look like: how long are they, which words dominate, and how large a
    vocabulary does a minimum word count leave?
    """
    cfg = ctx.cfg
    data = load_captions(ctx)
    caps = data.captions
    lengths = np.array([len(tokenize(c)) for c in caps])
    counts = word_counts(caps)
    vocab = Vocab.build(caps, cfg.min_count)
    per_video = np.array([len(c) for c in data.train.values()])
    kind = "synthetic stand-in captions" if data.synthetic else "real MLDS hw2 training captions"
    at_min = vocab_sizes(counts, (cfg.min_count,))[0]
    top = counts.most_common(cfg.top_words)
    sentences = Counter(" ".join(tokenize(c)) for c in caps).most_common(cfg.top_captions)
    hist = np.bincount(lengths)
    return Result(
        metrics={
            "videos": len(data.train),
            "captions": len(caps),
            "test_ids": len(data.test_ids),
            "captions_per_video": {"mean": per_video.mean(), "min": int(per_video.min()), "max": int(per_video.max())},
            "tokens": int(lengths.sum()),
            "distinct_words": len(counts),
            "singletons": sum(n == 1 for n in counts.values()),
            "length": {
                "mean": lengths.mean(),
                "median": float(np.median(lengths)),
                "p95": float(np.percentile(lengths, 95)),
                "max": int(lengths.max()),
                "empty": int((lengths == 0).sum()),
                "over_max_words": float((lengths > cfg.max_words).mean()),
            },
            "vocab_size": len(vocab),
            "unk_rate": at_min["<UNK> rate"],
            "top_word_share": sum(n for _, n in top) / lengths.sum(),
            "frequent_words": ", ".join(w for w, _ in top[:5]),
        },
        tables={
            "vocabulary": (
                vocab_sizes(counts, cfg.thresholds),
                f"Vocabulary by minimum word count, from the {len(caps):,} {kind}: words kept "
                "(without the four special tokens) and the share of all running words they cover; "
                "the rest become <UNK>.",
            ),
            "frequent_captions": (
                [{"caption (tokenised)": s, "times": n} for s, n in sentences],
                f"The {cfg.top_captions} most frequent captions ({kind}, lower-cased, punctuation removed).",
            ),
        },
        figures={
            "lengths": (
                viz.panels(
                    {
                        "caption length": viz.draw_bars(
                            list(range(len(hist))), hist, "words per caption", "captions", horizontal=False
                        )
                    },
                    height=2.4,
                ),
                f"Words per caption over the {len(caps):,} {kind}; training cuts captions to {cfg.max_words} words.",
            ),
            "top_words": (
                viz.panels(
                    {
                        f"{cfg.top_words} most frequent words": viz.draw_bars(
                            [w for w, _ in top], [n for _, n in top], "occurrences", "", horizontal=True
                        )
                    },
                    height=4.6,
                ),
                f"The {cfg.top_words} most frequent words of the {kind} and how often they occur.",
            ),
        },
    )
