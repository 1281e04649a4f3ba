"""HW2 EXP03: what a BLEU score means, measured on the real captions alone: the best caption that
ignores the video, and human captions scored against the other humans' captions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from dljournal import Context, Recipe, Result, experiment, viz
from dljournal.analysis.bleu import average_bleu1, bleu1, corpus_bleu4
from dljournal.data.captions import tokenize

from .common import DATASET, load_captions

Videos = dict[str, list[str]]  # video id -> its captions


@dataclass(frozen=True)
class BaselineCfg:
    held_out: float = 0.2  # share of training videos scored; the rest choose the blind caption
    candidates: int = 200  # most frequent captions tried as the one caption for every video


@experiment("EXP03", recipe=Recipe(BaselineCfg(), smoke=dict(candidates=20)), data=(DATASET,))
def bleu_baselines(ctx: Context) -> Result:
    """What BLEU@1 means: blind and human baselines

    Which BLEU@1 and BLEU-4 does one fixed caption reach on every video, without looking at it, and which does a
    human caption reach against the other people's captions of the same video?
    """
    cfg = ctx.cfg
    data = load_captions(ctx)
    kind = "synthetic stand-in captions" if data.synthetic else "real MLDS hw2 captions"
    ids = sorted(data.train)
    order = np.random.default_rng(ctx.seed).permutation(len(ids))
    n_held = max(round(cfg.held_out * len(ids)), 1)
    held = {ids[i]: data.train[ids[i]] for i in sorted(order[:n_held])}
    chooser = {ids[i]: data.train[ids[i]] for i in sorted(order[n_held:])}

    frequent = Counter(as_output(c) for caps in chooser.values() for c in caps)
    candidates = [c for c, _ in frequent.most_common(cfg.candidates) if c]
    fit = {c: average_bleu1(dict.fromkeys(chooser, c), chooser) for c in candidates}
    metrics = {
        "most_frequent": fixed_caption(candidates[0], held),
        "best_constant": fixed_caption(max(candidates, key=fit.get), held),
        "human": human_agreement(held),
    }
    # the best fixed caption's score as a share of the human one (0 where humans score 0)
    fixed, human = metrics["best_constant"], metrics["human"]
    metrics["fixed_vs_human"] = {k: fixed[k] / human[k] if human[k] else 0.0 for k in ("bleu1", "bleu4")}
    metrics.update(held_out_videos=len(held), chooser_videos=len(chooser), candidates=len(candidates))
    rows = [
        {
            "answer for every video": name,
            "caption": metrics[key].get("caption", "(differs per video)"),
            "BLEU@1": metrics[key]["bleu1"],
            "BLEU-4": metrics[key]["bleu4"],
        }
        for key, name in (
            ("most_frequent", "most frequent caption"),
            ("best_constant", "best fixed caption"),
            ("human", "a human caption (leave one out)"),
        )
    ]
    return Result(
        metrics=metrics,
        tables={
            "baselines": (
                rows,
                f"BLEU@1 (course definition, mean over videos) and corpus BLEU-4 on "
                f"{len(held)} held-out training videos ({kind}). The fixed captions were "
                f"chosen on the other {len(chooser)} videos; the human row scores each caption "
                "against the remaining captions of its video (BLEU-4: the first caption of "
                "each video).",
            )
        },
        figures={
            "candidates": (
                viz.panels(
                    {
                        "fixed-caption baselines": viz.draw_xy(
                            list(range(1, len(fit) + 1)),
                            {"BLEU@1": list(fit.values())},
                            "frequency rank of the caption",
                            f"mean BLEU@1 ({len(chooser)} videos)",
                            marker=".",
                        )
                    },
                    height=2.4,
                ),
                f"BLEU@1 of each of the {len(candidates)} most frequent {kind} used as the one answer for all "
                f"{len(chooser)} choosing videos, by frequency rank.",
            )
        },
    )


def as_output(caption: str) -> str:
    """A caption written as a model writes it: lower-case words, no punctuation."""
    return " ".join(tokenize(caption))


def fixed_caption(caption: str, videos: Videos) -> dict:
    """BLEU of answering ``caption`` for every video."""
    return {
        "caption": caption,
        "bleu1": average_bleu1(dict.fromkeys(videos, caption), videos),
        "bleu4": corpus_bleu4([caption] * len(videos), list(videos.values())),
    }


def human_agreement(videos: Videos) -> dict:
    """Each caption of a video, written as a model would write it, scored against the video's other
    captions as they are (as a model's caption is scored); videos with two or more captions."""
    multi = [caps for caps in ([c for c in v if as_output(c)] for v in videos.values()) if len(caps) > 1]
    per_video = [np.mean([bleu1(as_output(c), caps[:i] + caps[i + 1 :]) for i, c in enumerate(caps)]) for caps in multi]
    return {
        "bleu1": float(np.mean(per_video)),
        "videos": len(multi),
        "bleu4": corpus_bleu4([as_output(caps[0]) for caps in multi], [caps[1:] for caps in multi]),
    }
