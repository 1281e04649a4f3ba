"""What the DL4CV module 2 narrative states, computed: rankings, hypothesis verdicts and the numbers
behind them. The templates under journal/dl4cv2024_module2/ only format and branch on these values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scipy.stats import binomtest

from dljournal.study.compare import ALPHA, Comparison, compare_stats

if TYPE_CHECKING:  # hints only
    from dljournal.core.result import StoredResult

# ---- the variant names the experiments give (custom_cnn.py, pretrained.py) ----------------------
ARCH_BASELINE = "baseline (2-2-1 convs, 3×3)"
WIDER, DEEPER = "wider (2× channels)", "deeper (2-2-2-1)"
CHANGE = {"shallower (1-1-1)": "fewer layers", DEEPER: "depth", WIDER: "width", "5×5 filters": "filter size"}
NO_REG, BATCH_NORM = "none", "batch norm"
PROBE, FT_ALL, FT_LOW = "linear probe", "fine-tune, all layers", "fine-tune, backbone lr × 0.1"
# CIFAR-10's six animal classes; the other four are vehicles. A confusion that stays inside one group
# is between look-alikes, one that crosses is not.
ANIMALS = frozenset({"bird", "cat", "deer", "dog", "frog", "horse"})
CIFAR10_TRAIN = 50_000  # the CNN trains on what its validation split leaves when n_train is None

# ---- thresholds ----------------------------------------------------------------------------------
# EXP01 and EXP02 run one seed, so no test is possible. The same baseline over several seeds (EXP03)
# measures the seed noise of this recipe: a one-seed difference counts as an effect beyond TEST_Z
# standard deviations of the difference of two such runs, sqrt(2) * std (about 1 pt on the quick
# profile). ONE_SEED_EFFECT is the floor used when EXP03 has no spread to measure.
ONE_SEED_EFFECT = 0.01
# Accuracies of single runs measured on n test images differ by chance with a binomial standard error
# sqrt(p(1-p)/n) each (independent errors: conservative for two models scored on the same images);
# beyond TEST_Z of them (about 95 %, two-sided) a difference is called real.
TEST_Z = 2.0
# t-SNE "keeps the neighbourhoods" when its 10-NN accuracy keeps nine tenths of the full space's.
NEIGHBOURHOODS_KEPT = 0.9


@dataclass(frozen=True)
class Verdict:
    holds: bool  # the difference points the hypothesised way and is beyond the noise we can measure
    decided: bool  # beyond that noise, whichever way it points
    word: str  # "holds", "fails" or "not shown" (within the noise)
    diff: float  # hypothesised-better minus other, as a fraction (0.012 = 1.2 pt)
    detail: str  # the difference with its uncertainty and n


def _f(x: Any) -> float:
    """A stored number as a float (the store writes NaN as None)."""
    return float("nan") if x is None else float(x)


def verdict(diff: float, decided: bool, detail: str) -> Verdict:
    word = ("holds" if diff > 0 else "fails") if decided else "not shown"
    return Verdict(decided and diff > 0, decided, word, diff, detail)


def one_seed_threshold(headline_res: StoredResult) -> float:
    """The smallest one-seed difference that is more than seed noise, from EXP03's baseline spread."""
    base = headline_res.metrics["baseline"]
    std = _f(base.get("test_acc_std"))
    if int(base.get("seeds", 1)) < 2 or not std > 0:
        return ONE_SEED_EFFECT
    return TEST_Z * math.sqrt(2) * std


def seed_verdict(a: Mapping[str, Any], b: Mapping[str, Any], threshold: float, key: str = "test_acc") -> Verdict:
    """a vs b on ``key`` over their seeds (``summarise``'s mean, ``<key>_std``, ``seeds``); with one
    seed, a difference beyond ``threshold`` counts."""
    c: Comparison = compare_stats(
        _f(a[key]),
        _f(a.get(f"{key}_std", 0.0)),
        int(a.get("seeds", 1)),
        _f(b[key]),
        _f(b.get(f"{key}_std", 0.0)),
        int(b.get("seeds", 1)),
    )
    if min(c.n_a, c.n_b) >= 2:
        return verdict(c.diff, c.beyond_noise, c.phrase())
    decided = abs(c.diff) > threshold
    return verdict(c.diff, decided, f"{100 * c.diff:+.1f} pt on one seed" + ("" if decided else ", within seed noise"))


def accuracy_verdict(p_a: float, n_a: int, p_b: float, n_b: int, extra_var: float = 0.0) -> Verdict:
    """Accuracy p_a on n_a test images vs p_b on n_b; ``extra_var`` adds a known variance (seed spread)."""
    se = math.sqrt(p_a * (1 - p_a) / max(n_a, 1) + p_b * (1 - p_b) / max(n_b, 1) + extra_var)
    decided = se > 0 and abs(p_a - p_b) > TEST_Z * se
    images = f"{n_a:,} test images" if n_a == n_b else f"{n_a:,} vs {n_b:,} test images"
    detail = f"{100 * (p_a - p_b):+.1f} ± {100 * se:.1f} pt on {images}" + (
        "" if decided else ", within test-set noise"
    )
    return verdict(p_a - p_b, decided, detail)


# ---- EXP01, EXP02: the one-seed studies ----------------------------------------------------------
def _row(metrics: Mapping[str, Mapping], name: str) -> dict:
    """The numbers the narrative quotes of one variant."""
    keep = ("test_acc", "params", "seconds_per_epoch", "gap", "seconds_to_target")
    return {"name": name, **{k: metrics[name].get(k) for k in keep}}


def _ranked(metrics: Mapping[str, Mapping]) -> list[str]:
    return sorted(metrics, key=lambda k: _f(metrics[k]["test_acc"]), reverse=True)


def _fastest(metrics: Mapping[str, Mapping]) -> tuple[str | None, list[str]]:
    """The variant that reached the validation target first, and all that reached it."""
    reached = [k for k, m in metrics.items() if not math.isnan(_f(m.get("seconds_to_target")))]
    return min(reached, key=lambda k: metrics[k]["seconds_to_target"], default=None), reached


def architecture(res: StoredResult, threshold: float) -> dict:
    m = res.metrics
    ranked = _ranked(m)
    best = ranked[0]
    fastest, reached = _fastest(m)
    return {
        "ranking": ranked,
        "best": _row(m, best),
        "best_change": CHANGE.get(best, best),
        "baseline": _row(m, ARCH_BASELINE),
        "best_is_baseline": best == ARCH_BASELINE,
        "best_vs_baseline": seed_verdict(m[best], m[ARCH_BASELINE], threshold).detail,
        "target": res.config.get("target"),
        "fastest": fastest,
        "reached": len(reached),
        "variants": len(m),
        "fastest_seconds": m[fastest]["seconds_to_target"] if fastest else None,
        "wider_acc": m[WIDER]["test_acc"],
        "deeper_acc": m[DEEPER]["test_acc"],
        "width_over_depth": seed_verdict(m[WIDER], m[DEEPER], threshold),
    }


def regularisation(res: StoredResult, threshold: float) -> dict:
    m = res.metrics
    base = m[NO_REG]
    best = _ranked(m)[0]
    fastest, reached = _fastest(m)
    others = [
        {"name": k, "d_acc": _f(v["test_acc"]) - _f(base["test_acc"]), "d_gap": _f(v["gap"]) - _f(base["gap"])}
        for k, v in m.items()
        if k not in (NO_REG, BATCH_NORM)
    ]
    bn = seed_verdict(m[BATCH_NORM], base, threshold)
    # is the unregularised network still drifting apart from validation when training stops?
    h = res.history.get(NO_REG) or [{}]
    gaps = [a - v for a, v in zip(h[0].get("train_acc", []), h[0].get("val_acc", []))]
    return {
        "best": _row(m, best),
        "none": _row(m, NO_REG),
        "bn_vs_none": bn,
        "bn_helps": bn.holds,
        "fastest": fastest,
        "bn_fastest": fastest == BATCH_NORM,
        "bn_alone": reached == [BATCH_NORM],
        "bn_seconds": m[BATCH_NORM].get("seconds_to_target"),
        "target": res.config.get("target"),
        "others": others,
        "others_mild": all(abs(o["d_acc"]) <= threshold and abs(o["d_gap"]) <= threshold for o in others),
        "train_val_gap": {
            "previous": gaps[-2] if len(gaps) > 1 else None,
            "last": gaps[-1] if gaps else None,
            "growing": len(gaps) > 1 and gaps[-1] > gaps[-2],
        },
    }


# ---- EXP03: the headline over seeds, and the mistakes --------------------------------------------
def headline(res: StoredResult) -> dict:
    m = res.metrics
    classes = list(m["classes"])
    confused = m["confused"]
    within = sum((c["true"] in ANIMALS) == (c["predicted"] in ANIMALS) for c in confused)
    # if errors fell on a random other class, this share of (true, predicted) pairs would stay in-group
    pairs = [(a, b) for a in classes for b in classes if a != b]
    chance = sum((a in ANIMALS) == (b in ANIMALS) for a, b in pairs) / max(len(pairs), 1)
    p = binomtest(within, len(confused), chance, alternative="greater").pvalue if confused else 1.0
    return {
        "final_vs_baseline": seed_verdict(m["final"], m["baseline"], one_seed_threshold(res)),
        "seed_std": m["baseline"].get("test_acc_std"),
        "one_seed_threshold": one_seed_threshold(res),
        "within_group": within,
        "top_confusions": len(confused),
        "chance_share": chance,
        "lookalike_p": float(p),
        "lookalike": bool(p < ALPHA),
        "confident_pairs": ", ".join(f"{c['pair']} ({c['n']})" for c in m.get("confident_pairs", [])),
    }


# ---- EXP04: probe vs fine-tuning ----------------------------------------------------------------
def _method(row: Mapping[str, Any]) -> dict:
    return {
        "name": row["method"],
        "lr": row["lr"],
        "schedule": row["schedule"],
        "epoch": row["epoch"],
        "val_acc": row["val acc"],
        "test_acc": row["test acc"],
        "seconds": row["seconds"],
    }


def backbone_transfer(key: str, b: Mapping[str, Any], n: int, cnn: StoredResult) -> dict:
    """Probe vs fine-tuning on one backbone (or the substitute standing in for several), ``n`` test images."""
    best = {k: _method(v) for k, v in b["best"].items()}
    probe, ft_all, ft_low = best[PROBE], best[FT_ALL], best[FT_LOW]
    # which fine-tuning to set against the probe is chosen on validation, like everything else here
    ft = ft_all if ft_all["val_acc"] >= ft_low["val_acc"] else ft_low
    on_val = max(best.values(), key=lambda r: r["val_acc"])
    final = cnn.metrics["final"]
    return {
        "key": key,
        "label": b["label"],
        "substitute": bool(b["substitute"]),
        "asked_for": list(b["asked_for"]),
        "size": b["size"],
        "runs": b["runs"],
        "feature_seconds": b["feature_seconds"],
        "probe": probe,
        "ft_all": ft_all,
        "ft_low": ft_low,
        "ft_chosen": ft,
        "best_on_val": on_val,
        "best_on_val_is_probe": on_val["name"] == PROBE,
        "probe_first": probe["test_acc"] >= ft["test_acc"],
        "time_ratio": ft["seconds"] / probe["seconds"] if probe["seconds"] else None,
        "finetune_over_probe": accuracy_verdict(ft["test_acc"], n, probe["test_acc"], n),
        "low_lr_protects": accuracy_verdict(ft_low["test_acc"], n, ft_all["test_acc"], n),
        # the probe (one run, n test images) against the custom CNN (mean of its seeds, whole test set)
        "probe_over_cnn": accuracy_verdict(
            probe["test_acc"],
            n,
            _f(final["test_acc"]),
            int(cnn.metrics["test_size"]),
            _f(final.get("test_acc_std", 0.0)) ** 2 / max(int(final.get("seeds", 1)), 1),
        ),
    }


def transfer(res: StoredResult, cnn: StoredResult) -> dict:
    m = res.metrics
    n = int(m["n_test"])
    each = [backbone_transfer(k, b, n, cnn) for k, b in m["backbones"].items()]
    # the backbone whose chosen configuration is best on validation, set against each of the others on test
    top = max(each, key=lambda t: t["best_on_val"]["val_acc"])
    return {
        "each": each,
        "several": len(each) > 1,
        "best": top,
        "best_vs_others": [
            {
                "label": t["label"],
                "method": t["best_on_val"]["name"],
                "test_acc": t["best_on_val"]["test_acc"],
                "verdict": accuracy_verdict(top["best_on_val"]["test_acc"], n, t["best_on_val"]["test_acc"], n),
            }
            for t in each
            if t is not top
        ],
        "n_train": m["n_train"],
        "cnn_train": cnn.config.get("n_train") or CIFAR10_TRAIN - int(cnn.config.get("n_val", 0)),
    }


# ---- EXP05: embeddings ---------------------------------------------------------------------------
def embeddings(res: StoredResult) -> dict:
    backbone = next(iter(res.metrics))  # the map figure and the discussion are of the first backbone
    e = res.metrics[backbone]
    knn = {space: _f(v["knn_acc"]) for space, v in e["separability"].items()}
    share = knn["t-SNE"] / knn["full space"] if knn["full space"] else float("nan")
    return {
        "backbone": backbone,
        "sizes": sorted({int(v["size"]) for v in res.metrics.values()}),
        "substituted": list(e["asked_for"]) != [backbone],
        "probe_acc": e["probe"]["test_acc"],
        "dim": e["dim"],
        "knn_full": knn["full space"],
        "knn_tsne": knn["t-SNE"],
        "knn_pca": knn["PCA"],
        "tsne_share": share,
        "tsne_keeps": share >= NEIGHBOURHOODS_KEPT,
        "tsne_beats_pca": knn["t-SNE"] > knn["PCA"],
    }


def substitutes(transfer_res: StoredResult, embed_res: StoredResult) -> dict:
    """The backbones asked for whose weights were missing (EXP04, EXP05), and what stood in for them."""
    pairs = [(a, k) for k, b in transfer_res.metrics["backbones"].items() if b["substitute"] for a in b["asked_for"]]
    pairs += [(a, k) for k, e in embed_res.metrics.items() for a in e["asked_for"] if a != k]
    return {"missing": [a for a, _ in pairs], "by": sorted({k for _, k in pairs})}


def findings(results: Mapping[str, StoredResult]) -> dict:
    threshold = one_seed_threshold(results["EXP03"])
    return {
        "substitutes": substitutes(results["EXP04"], results["EXP05"]),
        "arch": architecture(results["EXP01"], threshold),
        "reg": regularisation(results["EXP02"], threshold),
        "headline": headline(results["EXP03"]),
        "transfer": transfer(results["EXP04"], results["EXP03"]),
        "emb": embeddings(results["EXP05"]),
    }
