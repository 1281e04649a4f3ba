"""EXP05: transfer learning on dog breeds: a linear probe and a fine-tuned ImageNet EfficientNet-Lite0
against ResNet-8 trained from scratch for the same time."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch.nn.functional as F
from torch import nn

from dljournal import Context, Recipe, Result, TrainConfig, experiment
from dljournal.analysis.probe import embed
from dljournal.data import Split
from dljournal.data.augment import Augment
from dljournal.models import create_model
from dljournal.models.backbones import Classifier, load_backbone
from dljournal.study.tables import comparison
from dljournal.train import seed_everything


@dataclass(frozen=True)
class TransferCfg(TrainConfig):
    backbone: str = "efficientnet_lite0"
    probe_epochs: int = 30
    probe_lr: float = 3e-3
    backbone_lr_scale: float = 0.1  # fine-tuning: the pretrained layers learn 10× slower than the head
    scratch_size: int = 64  # ResNet-8 sees the photos at this resolution
    scratch_lr: float = 3e-3
    n_val: int = 200  # held out of the 1,200 ImageNet-training photos: the curves and any choice read it
    n_train: int | None = None  # photo subsets (the smoke profile's 224-pixel passes must stay short)
    n_test: int | None = None


@experiment(
    "EXP05",
    recipe=Recipe(
        TransferCfg(epochs=10, batch_size=32, lr=1e-3, schedule="cosine"),
        quick=dict(epochs=3),
        smoke=dict(epochs=1, probe_epochs=2, n_train=24, n_val=6, n_test=12),
    ),
    data=("dogs",),
)
def transfer(ctx: Context) -> Result:
    """Transfer learning on dog breeds

    The 10 breeds are ImageNet-1k classes: how well do ImageNet features separate them on photos the backbone
    never saw (ImageNet validation images), with a linear probe and with fine-tuning, against a small network
    trained from scratch for the same time?
    """
    cfg = ctx.cfg
    ds = ctx.data("dogs", n_train=cfg.n_train, n_test=cfg.n_test)
    bb = load_backbone(cfg.backbone)
    ctx.log(f"  backbone: {bb.name}" + (f" ({bb.message})" if bb.message else ""))
    # train (and validate) on photos from ImageNet's training set; test on its validation photos only
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)
    train, val, test = (s.map(bb.preprocess, batch=64) for s in (train, val, ds.test))
    feats = bb.model.to(ctx.device)

    # 1. linear probe on frozen features
    ftrain, fval, ftest = (s.map(lambda x: embed(feats, x, batch_size=64)) for s in (train, val, test))
    seed_everything(ctx.seed)
    head = nn.Linear(bb.feature_dim, ds.num_classes)
    probe = ctx.train(
        head, (ftrain, fval), ftest, replace(cfg, epochs=cfg.probe_epochs, lr=cfg.probe_lr, batch_size=64), name="probe"
    )
    probe_seconds = sum(probe.history.epochs["seconds"])

    # 2. fine-tuning from the probe, backbone at a lower learning rate, with augmentation
    model = Classifier(feats, head)
    groups = [{"params": feats.parameters(), "lr_scale": cfg.backbone_lr_scale}, {"params": head.parameters()}]
    tuned = ctx.train(model, (train, val), test, cfg, name="finetune", augment=Augment(16, True), param_groups=groups)
    budget = sum(tuned.history.epochs["seconds"])

    # 3. ResNet-8 from scratch, smaller images, for the fine-tuning's training time
    def small(s: Split) -> Split:
        return s.map(lambda x: F.interpolate(x, size=cfg.scratch_size, mode="bilinear", antialias=True))

    seed_everything(ctx.seed)
    scratch = ctx.train(
        create_model("resnet8", num_classes=ds.num_classes),
        (small(train), small(val)),
        small(test),
        replace(cfg, epochs=1000, lr=cfg.scratch_lr, schedule="constant", max_seconds=budget),
        name="scratch",
        augment=Augment(cfg.scratch_size // 8, True),
    )
    runs = {f"linear probe ({bb.name})": probe, f"fine-tuned ({bb.name})": tuned, "ResNet-8 from scratch": scratch}
    substitute = [f"{bb.name} stands in for {bb.substitute_for}: {bb.message}"] if bb.substitute_for else []
    return Result(
        metrics={
            "probe": probe.summary(),
            "finetune": tuned.summary(),
            "scratch": scratch.summary(),
            "probe_seconds": probe_seconds,
            "finetune_seconds": budget,
            "scratch_seconds": sum(scratch.history.epochs["seconds"]),
            "backbone": bb.name,
            "n_train": len(train),
            "n_val": len(val),
            "n_test": len(test),
            "classes": ds.num_classes,
        },
        **comparison(
            runs,
            (
                "transfer",
                f"{ds.num_classes} dog breeds (ImageNet-1k classes): {len(train):,} training and {len(val):,} "
                f"validation photos, all ImageNet training images; test accuracy on {len(test):,} ImageNet "
                "validation photos, which the pretrained backbone never saw.",
            ),
            f"Training (dashed) and validation (solid) curves on the {len(val):,} validation photos; "
            "the probe's epochs are passes over precomputed features.",
        ),
        notes=[ds.source, *substitute],
    )
