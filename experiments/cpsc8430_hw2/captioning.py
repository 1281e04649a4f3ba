"""HW2 EXP02: S2VT trained and scored by BLEU on the video features when they exist, and always an
overfit check of the model and its decoders on synthetic features paired with real captions."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from dljournal import Context, Recipe, Result, experiment, viz
from dljournal.analysis.bleu import average_bleu1, corpus_bleu4
from dljournal.data.captions import CaptionData, Vocab, encode_captions, tokenize
from dljournal.models.s2vt import S2VT, CaptionTrainConfig, fit_captioner
from dljournal.train import count_params, seed_everything

from .common import DATASET, load_captions


@dataclass(frozen=True)
class S2VTCfg(CaptionTrainConfig):
    cell: str = "lstm"  # lstm | gru
    attention: bool = True
    hidden: int = 512
    embed: int = 512
    dropout: float = 0.3
    min_count: int = 3  # vocabulary: words seen at least this often (EXP01)
    max_words: int = 20
    frame_stride: int = 1  # every k-th of the frames
    beam: int = 5
    alpha: float = 1.0  # beam search ranks finished captions by log p / (words + 1)^alpha
    n_val: int = 100  # training videos held out for scoring when the test captions are absent
    # the overfit check: random features of the real shape, each paired with one real caption
    frames: int = 80
    feat_dim: int = 4096
    overfit_videos: int = 16
    overfit_epochs: int = 150
    overfit_lr: float = 3e-3
    overfit_variants: tuple[tuple[str, str, bool], ...] = (
        ("lstm", "lstm", False),
        ("lstm_attention", "lstm", True),
        ("gru", "gru", False),
    )  # key, cell, attention


@experiment(
    "EXP02",
    recipe=Recipe(
        S2VTCfg(epochs=100, batch_size=64, lr=1e-3, grad_clip=5.0, sampling_max=0.25),
        quick=dict(epochs=10, hidden=128, embed=128, frame_stride=4, overfit_epochs=80),
        # smoke, in two parts: a tiny model trained on a few videos | a tiny overfit check
        smoke=dict(epochs=3, batch_size=32, hidden=32, embed=32, max_words=8, beam=2, n_val=8)
        | dict(frames=8, feat_dim=32, overfit_videos=4, overfit_epochs=4),
    ),
    data=(DATASET,),
)
def s2vt_captioning(ctx: Context) -> Result:
    """S2VT captioning and BLEU

    Does S2VT learn to caption the MLDS hw2 videos, and how do greedy and beam-search decoding compare in BLEU@1
    and BLEU-4? Apart from the videos: can the model and both decoders reproduce the captions they were trained
    on, word for word?
    """
    data = load_captions(ctx)
    vocab = Vocab.build(data.captions, ctx.cfg.min_count)
    result = Result(
        metrics={"has_features": data.has_features, "synthetic_data": data.synthetic, "vocab_size": len(vocab)}
    )
    if data.has_features:
        train_on_videos(ctx, data, vocab, result)
    else:
        result.notes.append(f"MLDS hw2 features not found under {data.feature_dir}: S2VT was not trained on videos.")
    overfit_check(ctx, data, vocab, result)
    return result


def train_on_videos(ctx: Context, data: CaptionData, vocab: Vocab, result: Result) -> None:
    cfg = ctx.cfg
    kind = "synthetic stand-in features" if data.synthetic else "MLDS hw2 video features"
    fit_ids, refs, split = scoring_split(data, cfg.n_val, ctx.seed)
    train, val = pairs(data, fit_ids, data.train, vocab, cfg), pairs(data, list(refs), refs, vocab, cfg)
    seed_everything(ctx.seed)
    model = S2VT(len(vocab), train[0].shape[-1], cfg.hidden, cfg.embed, cfg.cell, cfg.attention, cfg.dropout).to(
        ctx.device
    )
    history = fit_captioner(model, *train, cfg, val=val, callbacks=ctx.observers("videos"), seed=ctx.seed)
    decoded = decode(model, val[0], vocab, cfg)
    scores = {how: bleu(dict(zip(refs, texts)), refs) for how, texts in decoded.items()}
    e = history.epochs
    result.metrics["videos"] = {
        "split": split,
        "train_videos": len(fit_ids),
        "eval_videos": len(refs),
        "train_pairs": len(train[1]),
        "params": count_params(model),
        "final_train_loss": e["train_loss"][-1],
        "final_val_loss": e["val_loss"][-1],
        "seconds_per_epoch": history.seconds_per_epoch,
        **scores,
    }
    result.history["videos"] = history.to_dict()
    result.figures["video_curves"] = (
        viz.panels(
            {
                "loss": viz.draw_curves({"S2VT": history}),
                "scheduled sampling": viz.draw_xy(
                    e["epoch"], {"P(own word fed back)": e["sampling"]}, "epoch", "probability", marker=""
                ),
            },
            ncols=2,
        ),
        f"S2VT on {kind}: cross-entropy per word on the training pairs (dashed, with scheduled sampling) and "
        f"on the {split} (solid, teacher forcing); right, the scheduled-sampling probability.",
    )
    result.tables["video_bleu"] = (
        [
            {"decoding": how, "BLEU@1 (course)": s["bleu1"], "BLEU-4 (sacrebleu)": s["bleu4"]}
            for how, s in scores.items()
        ],
        f"S2VT on {kind}, scored on {len(refs)} {split}.",
    )
    result.tables["video_samples"] = (
        [
            {"video": v, "greedy": g, f"beam {cfg.beam}": b, "a reference": refs[v][0]}
            for v, g, b in list(zip(refs, *decoded.values()))[:8]
        ],
        f"Captions of the first {split} by S2VT on {kind}.",
    )


def overfit_check(ctx: Context, data: CaptionData, vocab: Vocab, result: Result) -> None:
    """Memorise ``overfit_videos`` captions, each paired with a random feature sequence."""
    cfg = ctx.cfg
    kind = "synthetic stand-in" if data.synthetic else "real MLDS hw2"
    usable = sorted(
        {
            " ".join(w)
            for w in map(tokenize, data.captions)
            if 0 < len(w) <= cfg.max_words and all(x in vocab for x in w)
        }
    )
    rng = np.random.default_rng(ctx.seed)
    targets = [usable[i] for i in sorted(rng.choice(len(usable), cfg.overfit_videos, replace=False))]
    g = torch.Generator().manual_seed(ctx.seed)
    feats = torch.randn(len(targets), cfg.frames, cfg.feat_dim, generator=g)[:, :: cfg.frame_stride]  # (N, T, F)
    caps, owner = encode_captions(vocab, targets, cfg.max_words), torch.arange(len(targets))
    ocfg = replace(cfg, epochs=cfg.overfit_epochs, batch_size=len(targets), lr=cfg.overfit_lr, dropout=0.0)
    refs = {str(i): [t] for i, t in enumerate(targets)}
    metrics, rows, curves, outputs = {}, [], {}, {}
    for key, cell, attention in cfg.overfit_variants:
        label = cell.upper() + (" + attention" if attention else "")
        seed_everything(ctx.seed)
        model = S2VT(len(vocab), cfg.feat_dim, cfg.hidden, cfg.embed, cell, attention).to(ctx.device)
        history = fit_captioner(
            model, feats, caps, owner, ocfg, callbacks=ctx.observers(f"overfit-{key}"), seed=ctx.seed
        )
        decoded = decode(model, feats, vocab, ocfg)
        m = {
            "label": label,
            "params": count_params(model),
            "first_loss": history.epochs["train_loss"][0],
            "final_loss": history.final["train_loss"],
            "seconds_per_epoch": history.seconds_per_epoch,
        }
        for how, texts in decoded.items():
            m[how] = {
                "exact": float(np.mean([t == r for t, r in zip(texts, targets)])),
                **bleu(dict(zip(refs, texts)), refs),
            }
        metrics[key], curves[label], outputs[label] = m, history, decoded["greedy"]
        rows.append(
            {"model": label, "params": m["params"], "final loss": m["final_loss"]}
            | {f"exact ({how})": m[how]["exact"] for how in decoded}
            | {f"BLEU@1 {how}": m[how]["bleu1"] for how in decoded}
            | {f"BLEU-4 {how}": m[how]["bleu4"] for how in decoded}
        )
    n, shape = len(targets), f"{feats.shape[1]}x{cfg.feat_dim}"
    exact = all(m[how]["exact"] == 1 for m in metrics.values() for how in ("greedy", "beam"))
    result.metrics["overfit"] = {
        "videos": n,
        "epochs": cfg.overfit_epochs,
        "frames": feats.shape[1],
        "all_exact": exact,
        "models": metrics,
    }
    result.history["overfit"] = {label: h.to_dict() for label, h in curves.items()}
    result.figures["overfit_loss"] = (
        viz.panels({"training loss": viz.draw_loss(curves)}, height=2.6),
        f"Overfit check on SYNTHETIC features (random {shape} noise, not video features), each of {n} paired "
        f"with one {kind} caption: training cross-entropy per word (log scale), full batch.",
    )
    result.tables["overfit"] = (
        rows,
        f"Overfit check on SYNTHETIC features paired with {n} {kind} captions: "
        f"after {cfg.overfit_epochs} epochs, the share of captions reproduced word "
        f"for word and BLEU against the memorised caption (1 = perfect). Not a "
        f"video-captioning result.",
    )
    result.tables["overfit_samples"] = (
        [
            {"memorised caption": t, **{f"{label} (greedy)": out[i] for label, out in outputs.items()}}
            for i, t in enumerate(targets[:6])
        ],
        f"Memorised {kind} captions and what each model decodes from the SYNTHETIC features paired with them.",
    )


def scoring_split(data: CaptionData, n_val: int, seed: int) -> tuple[list[str], dict[str, list[str]], str]:
    """(training video ids, video id -> reference captions to score on, what those videos are)."""
    ids = sorted(data.train)
    if data.test is not None and all(v in data.features for v in data.test):
        return ids, data.test, "test videos"
    # the course's test captions are not here: score on training videos kept out of training
    held = {ids[i] for i in np.random.default_rng(seed).permutation(len(ids))[:n_val]}
    return [v for v in ids if v not in held], {v: data.train[v] for v in sorted(held)}, "held-out training videos"


def pairs(data: CaptionData, ids: list[str], refs: dict[str, list[str]], vocab: Vocab, cfg: S2VTCfg):
    """Features (N, T, F) of ``ids``, and each of their captions as a (caption ids, video index) pair."""
    feats = data.load_features(ids)[:, :: cfg.frame_stride]
    texts, owner = zip(*[(c, i) for i, v in enumerate(ids) for c in refs[v] if tokenize(c)])
    return feats, encode_captions(vocab, texts, cfg.max_words), torch.tensor(owner)


def decode(model: S2VT, feats: torch.Tensor, vocab: Vocab, cfg: S2VTCfg, chunk: int = 256) -> dict[str, list[str]]:
    """Greedy and beam-search captions of every video, as text."""
    model.eval()
    out: dict[str, list[str]] = {"greedy": [], "beam": []}
    for part in feats.split(chunk):
        part = part.to(next(model.parameters()).device)
        out["greedy"] += [vocab.decode(s) for s in model.greedy(part, cfg.max_words)]
        out["beam"] += [vocab.decode(s) for s in model.beam_search(part, cfg.beam, cfg.max_words, cfg.alpha)]
    return out


def bleu(predictions: dict[str, str], refs: dict[str, list[str]]) -> dict[str, float]:
    return {
        "bleu1": average_bleu1(predictions, refs),
        "bleu4": corpus_bleu4([predictions[v] for v in refs], [refs[v] for v in refs]),
    }
