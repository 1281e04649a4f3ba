"""HW3 EXP01: the yardstick. The feature space of every distance in this report, the reference
features of real CIFAR-10 images, and the distance between two real image sets (the floor)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from dljournal import Context, Recipe, Result, experiment, viz
from dljournal.analysis.frechet import class_entropy, feature_space, fit_gaussian, frechet_distance, knn_labels

from .common import DATASET, JPEG_NOTE, as_uint8, pixels


@dataclass(frozen=True)
class YardstickCfg:
    fd_samples: int = 10000  # real images per side; each GAN's final distance uses as many generated ones
    floor_sizes: tuple[int, ...] = (100, 250, 500, 1000, 2500, 5000, 10000)  # for the floor curve (≤ fd_samples)
    knn: int = 10  # neighbours that vote for a generated image's class
    batch_size: int = 100


@experiment(
    "EXP01",
    recipe=Recipe(
        YardstickCfg(),
        quick=dict(fd_samples=500, floor_sizes=(50, 100, 250, 500)),
        smoke=dict(fd_samples=24, floor_sizes=(8, 16, 24), batch_size=24),
    ),
    data=(DATASET,),
)
def yardstick(ctx: Context) -> Result:
    """The yardstick: Fréchet distance between real image sets

    Which network's features measure sample quality in this report, and what distance separates two sets of real
    CIFAR-10 images at the sample counts used here: the floor no generator can beat?
    """
    cfg = ctx.cfg
    ds = ctx.data(DATASET)
    space = feature_space()
    ctx.log(f"  {space.message}")
    train = pixels(ds, ds.train).subset(cfg.fd_samples, ctx.seed)
    test = pixels(ds, ds.test).subset(cfg.fd_samples, ctx.seed)
    real = as_uint8(train)  # (N, 3, 32, 32)
    t0 = time.perf_counter()
    f_train = space.features(real, cfg.batch_size, ctx.device)  # (N, D)
    f_test = space.features(as_uint8(test), cfg.batch_size, ctx.device)
    ms_per_image = 1000 * (time.perf_counter() - t0) / (len(train) + len(test))
    reference = fit_gaussian(f_train)
    sizes = sorted({n for n in cfg.floor_sizes if n <= len(test)} | {len(test)})
    floor = {n: frechet_distance(fit_gaussian(f_test[:n]), reference) for n in sizes}
    y_train, y_test = train.y.cpu(), test.y.cpu()
    guessed = knn_labels(f_test, f_train, y_train, cfg.knn, ds.num_classes)

    counts = torch.bincount(y_train, minlength=ds.num_classes)
    shown = [c for c in range(ds.num_classes) if counts[c] > 0]
    per_row = min(8, int(counts[shown].min()))  # the smoke profile's few images: fewer per row
    rows = torch.stack([real[y_train == c][:per_row] for c in shown])  # (classes, per_row, 3, 32, 32)
    kind = "synthetic stand-in (smoke)" if ds.synthetic else "real CIFAR-10 (JPEG q75)"
    n = len(test)
    return Result(
        metrics={
            "distance": space.label,
            "true_fid": space.true_fid,
            "network": space.network,
            "feature_dim": space.dim,
            "n": n,
            "floor": floor[n],
            "floor_by_n": {str(k): v for k, v in floor.items()},
            "knn_acc": (guessed == y_test).float().mean().item(),
            "knn_entropy": class_entropy(guessed, ds.num_classes),
            "ms_per_image": ms_per_image,
        },
        figures={
            "real": (
                viz.image_rows(rows, [ds.classes[c] for c in shown]),
                f"{per_row} {kind} training images per class: what the generators are asked to imitate.",
            ),
            "floor": (
                viz.panels(
                    {
                        f"{space.label}, real vs real": viz.draw_xy(
                            list(floor),
                            {"test subset vs training reference": list(floor.values())},
                            "test images in the set",
                            space.label,
                            logx=True,
                        )
                    },
                    ncols=1,
                    height=2.4,
                ),
                f"{space.label} between n {kind} test images and the reference of {len(train):,} training "
                f"images. Both sets are real, so all of it is sampling bias, largest for small n: a "
                f"generator's distance at the same n can only be read against this floor.",
            ),
        },
        artifacts={"reference": {"train": f_train, "train_labels": y_train, "test": f_test, "test_labels": y_test}},
        notes=[JPEG_NOTE if not ds.synthetic else ds.source, space.message],
    )
