"""EXP04-EXP05: pretrained backbones on CIFAR-10: linear probe vs fine-tuning of ResNet-18 and
ViT-B/16 (learning rates × schedules), and DINOv2 / CLIP probes with 2-D maps of their embeddings.
Where the named weights are missing, the real ImageNet EfficientNet-Lite0 stands in, once for all
the backbones it replaces, and every caption says so."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from itertools import product

import numpy as np
from torch import nn

from dljournal import Context, Recipe, Result, TrainConfig, evaluate, experiment, viz
from dljournal.analysis.probe import embed, linear_probe, maps_2d, separability
from dljournal.data import Split
from dljournal.data.augment import Augment
from dljournal.models.backbones import Classifier, label, load_backbones
from dljournal.train import KeepBest, seed_everything

JPEG = "CIFAR-10 here is the shared set of all 60,000 real images as JPEG quality-75 re-encodings (not byte-exact)."


def backbone_inputs(ds, bb, size: int, split: Split) -> Split:
    """CIFAR tensors (normalised with CIFAR statistics) -> the backbone's own input at ``size``."""
    prep = bb.preprocess_at(size)
    return split.map(lambda x: prep(ds.norm.undo(x)), batch=256)


# ---- EXP04: linear probe vs fine-tuning ----------------------------------------------------------
METHODS = ("linear probe", "fine-tune, all layers", "fine-tune, backbone lr × 0.1")


@dataclass(frozen=True)
class FineTuneCfg(TrainConfig):
    backbones: tuple[str, ...] = ("resnet18", "vit_b_16")  # each compared on its own; missing ones share a substitute
    size: int = 96  # input resolution (CIFAR's 32 px upsampled) of backbones that take any; a ViT takes its own 224
    n_train: int | None = 10000  # training images, of which n_val are held out for every choice
    n_val: int = 2000
    n_test: int | None = 2000
    lrs: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
    schedules: tuple[str, ...] = ("cosine", "step")
    backbone_lr_scale: float = 0.1  # "lower backbone learning rate"
    probe_epochs: int = 30


def probe_vs_finetune(ctx: Context, ds, bb, size: int, splits: tuple[Split, Split, Split]) -> dict:
    """Every method × learning rate × schedule on backbone ``bb`` at ``size`` px, each chosen on
    validation and evaluated once on test: its rows, curves, chosen runs and feature seconds."""
    cfg = ctx.cfg
    train, val, test = (backbone_inputs(ds, bb, size, s) for s in splits)
    feats = bb.model.to(ctx.device)
    started = time.perf_counter()  # the probe's features cost one forward pass: part of its training time
    ftrain, fval, ftest = (s.map(lambda x: embed(feats, x)) for s in (train, val, test))
    feature_seconds = time.perf_counter() - started
    pretrained = {k: v.clone() for k, v in feats.state_dict().items()}
    rows, curves, chosen = [], {}, {}
    for method, lr, schedule in product(METHODS, cfg.lrs, cfg.schedules):
        seed_everything(ctx.seed)
        head, keep = nn.Linear(bb.feature_dim, ds.num_classes), KeepBest("val_acc")
        c, name = replace(cfg, lr=lr, schedule=schedule), f"{bb.name}, {method}, lr {lr:g}, {schedule}"
        if method == "linear probe":
            c = replace(c, epochs=cfg.probe_epochs, batch_size=256)
            h = ctx.fit(head, (ftrain, fval), c, name=name.replace(" ", "_"), callbacks=[keep])
        else:
            feats.load_state_dict(pretrained)  # every fine-tuning starts from the pretrained weights
            scale = 1.0 if "all layers" in method else cfg.backbone_lr_scale
            groups = [{"params": feats.parameters(), "lr_scale": scale}, {"params": head.parameters()}]
            h = ctx.fit(
                Classifier(feats, head),
                (train, val),
                c,
                name=name.replace(" ", "_").replace(",", ""),
                augment=Augment(size // 8, True),
                param_groups=groups,
                callbacks=[keep],
            )
        e = dict(h.epochs)
        if method == "linear probe":
            e["seconds"] = [feature_seconds + e["seconds"][0], *e["seconds"][1:]]
        row = {"method": method, "lr": lr, "schedule": schedule, "val acc": keep.value, "epoch": keep.epoch}
        rows.append({**row, "seconds": float(sum(e["seconds"]))})
        curves[name] = e
        if method not in chosen or keep.value > chosen[method][0]["val acc"]:
            chosen[method] = (rows[-1], keep.state, e)  # the weights of its best epoch, on validation accuracy

    best, best_curves = {}, {}
    for method, (row, weights, e) in chosen.items():  # each chosen configuration meets the test split once
        head = nn.Linear(bb.feature_dim, ds.num_classes)
        model, split = (head, ftest) if method == "linear probe" else (Classifier(feats, head), test)
        model.load_state_dict(weights)
        best[method] = {**row, "test acc": evaluate(model.to(ctx.device), split)["acc"]}
        best_curves[method] = e
    feats.load_state_dict(pretrained)
    return {
        "rows": rows,
        "curves": curves,
        "best": best,
        "best_curves": best_curves,
        "feature_seconds": feature_seconds,
    }


@experiment(
    "EXP04",
    recipe=Recipe(
        FineTuneCfg(epochs=5, batch_size=64, warmup_epochs=0.5),
        quick=dict(backbones=("resnet18",), epochs=2, n_train=1250, n_val=250, n_test=500, probe_epochs=20),
        smoke=dict(
            backbones=("resnet18",), epochs=1, n_train=32, n_val=8, n_test=16, size=32, lrs=(1e-3,), probe_epochs=2
        ),
    ),
    data=("cifar10",),
)
def finetune(ctx: Context) -> Result:
    """Pretrained backbone: linear probe vs fine-tuning

    Is a frozen pretrained backbone with a linear probe enough, or does fine-tuning (all layers, or with a 10×
    lower backbone learning rate) pay off, and at which learning rate and schedule?
    """
    cfg = ctx.cfg
    ds = ctx.data("cifar10", n_train=cfg.n_train, n_test=cfg.n_test)
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)  # every choice below is made on val
    metrics = {"backbones": {}, "n_train": len(train), "n_val": len(val), "n_test": len(ds.test)}
    history, tables, figures, notes = {}, {}, {}, []
    for key, group in load_backbones(cfg.backbones).items():  # a shared substitute is trained once
        bb, name = group[0], label(group)
        for b in group:
            ctx.log(f"  {b.substitute_for or b.name}: {b.message}")
            notes.append(b.message if b.substitute_for else f"Backbone: {b.message}")
        size = bb.input_size(cfg.size)
        out = probe_vs_finetune(ctx, ds, bb, size, (train, val, ds.test))
        metrics["backbones"][key] = {
            "label": name,
            "asked_for": [b.substitute_for or b.name for b in group],
            "substitute": bool(bb.substitute_for),
            "size": size,
            "best": out["best"],
            "feature_seconds": out["feature_seconds"],
            "runs": len(out["rows"]),
        }
        history.update(out["curves"])
        what = f"{name}, {size} px inputs"
        tables[f"all_{key}"] = (
            out["rows"],
            f"Every configuration ({what}, {len(train):,} training and {len(val):,} validation images; "
            f"validation accuracy at the best epoch; probe: {cfg.probe_epochs} epochs on frozen features, its "
            f"seconds including the {out['feature_seconds']:.1f} s to compute them, fine-tuning: {cfg.epochs} "
            "epochs with augmentation).",
        )
        tables[f"best_{key}"] = (
            list(out["best"].values()),
            f"The configuration and epoch of each method chosen on validation accuracy ({len(val):,} images "
            f"held out of the training set), then evaluated once on the {len(ds.test):,} test images ({what}).",
        )
        figures[f"convergence_{key}"] = (
            viz.panels(
                {
                    "per epoch": viz.draw_paths(
                        {m: (c["epoch"], c["val_acc"]) for m, c in out["best_curves"].items()},
                        "epoch",
                        "validation accuracy",
                    ),
                    "per second": viz.draw_paths(
                        {m: (np.cumsum(c["seconds"]), c["val_acc"]) for m, c in out["best_curves"].items()},
                        "training time (s)",
                        "validation accuracy",
                        logx=True,
                    ),
                },
                ncols=2,
            ),
            f"Convergence of the chosen configuration of each method on the validation images, against epochs "
            f"and wall time ({what}).",
        )
    return Result(metrics=metrics, history=history, tables=tables, figures=figures, notes=[*notes, JPEG])


# ---- EXP05: DINOv2 / CLIP probes and maps of their embeddings ---------------------------------------
@dataclass(frozen=True)
class ProbeCfg:
    backbones: tuple[str, ...] = ("dinov2_vits14", "clip_vit_b32")
    size: int = 224
    n_train: int | None = 10000
    n_test: int | None = 2000


@experiment(
    "EXP05",
    recipe=Recipe(
        ProbeCfg(), quick=dict(size=96, n_train=2000, n_test=1000), smoke=dict(size=32, n_train=60, n_test=40)
    ),
    data=("cifar10",),
)
def probes(ctx: Context) -> Result:
    """DINOv2 / CLIP linear probes and embedding maps

    How linearly separable are CIFAR-10 classes in the embeddings of self-supervised and language-supervised
    backbones, and how much of that survives a 2-D map?
    """
    cfg = ctx.cfg
    ds = ctx.data("cifar10", n_train=cfg.n_train, n_test=cfg.n_test)
    rows, figures, metrics, notes = [], {}, {}, [JPEG]
    y_tr, y_te = ds.train.y.cpu().numpy(), ds.test.y.cpu().numpy()
    for key, group in load_backbones(cfg.backbones).items():  # a shared substitute is embedded once
        bb, name, size = group[0], label(group), group[0].input_size(cfg.size)
        for b in group:
            ctx.log(f"  {b.substitute_for or b.name}: {b.message}")
            notes += [b.message] if b.substitute_for else []
        feats = bb.model.to(ctx.device)
        tr, te = (embed(feats, backbone_inputs(ds, bb, size, s).x).numpy() for s in (ds.train, ds.test))
        asked = [b.substitute_for or b.name for b in group]
        probe = linear_probe(tr, y_tr, te, y_te)
        maps = maps_2d(te, seed=ctx.seed)
        sep = {"full space": separability(te, y_te), **{k: separability(v, y_te) for k, v in maps.items()}}
        metrics[key] = {"asked_for": asked, "probe": probe, "separability": sep, "dim": int(tr.shape[1]), "size": size}
        rows += [
            {
                "embedding": name,
                "px": size,
                "space": space,
                "dims": int(tr.shape[1]) if space == "full space" else 2,
                "silhouette": s["silhouette"],
                "kNN acc": s["knn_acc"],
                "probe test acc": probe["test_acc"] if space == "full space" else float("nan"),
            }
            for space, s in sep.items()
        ]
        figures[f"map_{key}"] = (
            viz.panels(
                {k: viz.draw_embedding(v, y_te, ds.classes, legend=(k == "t-SNE")) for k, v in maps.items()},
                ncols=2,
                height=2.8,
            ),
            f"PCA and t-SNE of {len(te):,} test embeddings of {name} ({size} px inputs), coloured by class.",
        )
    return Result(
        metrics=metrics,
        tables={
            "separability": (
                rows,
                "Linear probe (logistic regression on "
                f"{len(y_tr):,} training embeddings) and separability "
                "(silhouette, 10-NN accuracy in 5-fold cross-validation) "
                "in the full embedding space and in the 2-D maps.",
            )
        },
        figures=figures,
        notes=notes,
    )
