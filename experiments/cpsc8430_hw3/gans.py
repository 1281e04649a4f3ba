"""HW3 EXP02-EXP05: DCGAN, WGAN, WGAN-GP and ACGAN, each trained by the engine's one GAN loop on
real CIFAR-10 and measured the same way: a Fréchet distance after every epoch (fixed noise) and at
the end (as many generated images as EXP01's real reference), and the diversity of the samples."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from dljournal import Result, experiment, viz
from dljournal.analysis.frechet import (class_entropy, feature_space, fit_gaussian, frechet_distance, knn_labels,
                                        spread)
from dljournal.gan import (Discriminator, GanConfig, Generator, dcgan_init, generate, get_variant, to_uint8,
                           train_gan)
from dljournal.project import ProjectError
from dljournal.train import count_params

from .common import DATASET, JPEG_NOTE, REPORT, balanced_classes, image_rows, pixels, show_epochs

COLS = 8  # fixed-noise images per row of the sample grids


@dataclass(frozen=True)
class GanCfg(GanConfig):
    variant: str = "dcgan"  # dcgan | wgan | wgan_gp | acgan (dljournal.gan.VARIANTS)
    n_train: int | None = None  # training subset (None: all 50,000 training images)
    fd_track: int = 1000  # generated images (fixed noise) for the distance after every epoch
    knn: int = 10  # neighbours that vote for a generated image's class
    collapse_spread: float = 0.5  # mode collapse is flagged below this share of the real feature variance
    collapse_entropy: float = 0.8  # ... or below this entropy of the samples' (10-NN) classes


QUICK = dict(epochs=6, width=32, n_train=10000, fd_track=100)
SMOKE = dict(epochs=2, width=8, batch_size=32, n_train=256, fd_track=16, log_every=2)


def gan_experiment(ctx) -> Result:
    """Train the variant ``ctx.cfg.variant`` and measure it against EXP01's reference."""
    cfg, variant = ctx.cfg, get_variant(ctx.cfg.variant)
    ds = ctx.data(DATASET)
    train = pixels(ds, ds.train).subset(cfg.n_train, ctx.seed)
    ref = ctx.artifact("EXP01", "reference")
    reference, n = fit_gaussian(ref["train"]), len(ref["train"])
    if cfg.fd_track > n:
        raise ProjectError(f"fd_track={cfg.fd_track} exceeds the {n} reference images of EXP01")
    space = feature_space()
    ctx.log(f"  {space.message}")
    k = ds.num_classes if variant.conditional else 0
    generator, critic = Generator(cfg.z_dim, cfg.width, 3, k), Discriminator(cfg.width, 3, k, variant.critic_norm)
    generator.apply(dcgan_init)
    critic.apply(dcgan_init)

    rng = torch.Generator().manual_seed(ctx.seed)  # the same noise for every variant
    rows = ds.num_classes if k else COLS
    fixed_z = torch.randn(rows * COLS, cfg.z_dim, generator=rng).to(ctx.device)
    fixed_y = torch.arange(rows).repeat_interleave(COLS).to(ctx.device) if k else None  # a class per row
    track_z = torch.randn(cfg.fd_track, cfg.z_dim, generator=rng).to(ctx.device)
    final_z = torch.randn(n, cfg.z_dim, generator=rng).to(ctx.device)
    track_y, final_y = ((balanced_classes(cfg.fd_track, k).to(ctx.device), balanced_classes(n, k).to(ctx.device))
                        if k else (None, None))

    def features(g: Generator, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return space.features(to_uint8(generate(g, z, y)), device=ctx.device)  # (len(z), D)

    run = train_gan(generator, critic, variant, train, cfg, fixed_z=fixed_z, fixed_y=fixed_y, device=ctx.device,
                    on_epoch=lambda epoch, g: {"fd": frechet_distance(fit_gaussian(features(g, track_z, track_y)),
                                                                      reference)},
                    log=ctx.log, name=variant.name, log_dir=ctx.tensorboard_dir(cfg.variant))

    feats = features(run.generator, final_z, final_y)
    generated = fit_gaussian(feats)
    guessed = knn_labels(feats, ref["train"], ref["train_labels"], cfg.knn, ds.num_classes)
    counts = torch.bincount(guessed, minlength=ds.num_classes)
    fd_by_epoch = run.history.epochs["fd"]
    best = min(fd_by_epoch)
    diversity = {"spread": spread(generated, reference), "class_entropy": class_entropy(guessed, ds.num_classes),
                 "top_class": ds.classes[int(counts.argmax())], "top_share": (counts.max() / n).item()}
    diversity["collapse"] = (diversity["spread"] < cfg.collapse_spread
                             or diversity["class_entropy"] < cfg.collapse_entropy)
    if k:  # does the image show the class it was asked for (by its nearest real images)?
        diversity["class_agreement"] = (guessed == final_y.cpu()).float().mean().item()
    epochs = run.history.epochs
    metrics = {
        "variant": variant.name, "recipe": variant.recipe(), "distance": space.label, "true_fid": space.true_fid,
        "n": n, "fd": frechet_distance(generated, reference),
        "floor": frechet_distance(fit_gaussian(ref["test"]), reference),
        "track": {"n": cfg.fd_track, "final": fd_by_epoch[-1], "best": best,
                  "best_epoch": fd_by_epoch.index(best) + 1,
                  "rises": sum(b > a for a, b in zip(fd_by_epoch, fd_by_epoch[1:])),
                  "regression": fd_by_epoch[-1] / best - 1 if best > 0 else 0.0,
                  "floor": frechet_distance(fit_gaussian(ref["test"][:cfg.fd_track]), reference)},
        "diversity": diversity,
        "training": {"epochs": len(epochs["epoch"]), "images": len(train), "seconds": run.seconds,
                     "seconds_per_epoch": run.seconds / len(epochs["epoch"]), "d_steps": run.d_steps,
                     "g_steps": run.g_steps, "params_g": count_params(run.generator),
                     "params_d": count_params(run.critic)},
        "last_epoch": {key: v[-1] for key, v in epochs.items() if key not in ("epoch", "seconds", "g_steps", "fd")},
    }
    shown = show_epochs(len(fd_by_epoch))
    firsts = torch.arange(rows) * COLS if k else torch.arange(COLS)  # one image per class, or the first row
    label, kind = space.label, "synthetic stand-in (smoke)" if ds.synthetic else "real CIFAR-10"
    final_rows = run.samples[-1].view(rows, COLS, *run.samples.shape[2:])  # (rows, COLS, 3, 32, 32)
    return Result(
        metrics=metrics,
        history={variant.name: run.history.to_dict()},
        figures={
            "curves": (curves(run.history, variant, metrics, label),
                       f"{variant.name} on {len(train):,} {kind} images. Losses and the critic's outputs, averaged "
                       f"over windows of {max(cfg.log_every, variant.n_critic)} critic steps; {label} after every epoch "
                       f"between {cfg.fd_track:,} generated images (the same noise each epoch) and the {n:,}-image "
                       f"real reference, with the real-vs-real floor at that sample count."),
            "epochs": (image_rows(run.samples[[e - 1 for e in shown]][:, firsts], [f"epoch {e}" for e in shown],
                                  [ds.classes[c] for c in range(rows)] if k else (), scale=0.62),
                       f"{variant.name}: the same noise{' (one per class)' if k else ''} after each epoch shown."),
            "samples": (image_rows(final_rows, [ds.classes[c] for c in range(rows)] if k else [""] * rows, scale=0.62),
                        f"{variant.name} after {len(fd_by_epoch)} epochs: {rows * COLS} images of fixed noise"
                        + (", one class per row (the class the generator was given)." if k else ".")),
        },
        artifacts={"summary": {"metrics": metrics, "fd_by_epoch": fd_by_epoch,  # ten images, one per class for ACGAN
                               "samples": run.samples[-1][torch.arange(10) * COLS if k else torch.arange(10)]}},
        notes=[JPEG_NOTE if not ds.synthetic else ds.source, space.message])


def curves(history, variant, metrics: dict, label: str):
    s, e = history.steps, history.epochs
    x = s["step"]
    draws = {"losses": viz.draw_xy(x, {"critic (D)": s["d_loss"], "generator (G)": s["g_loss"]},
                                   "critic step", "loss", marker="")}
    if variant.wasserstein:
        draws["Wasserstein estimate"] = viz.draw_xy(x, {"E D(x) − E D(G(z))": s["wasserstein"]},
                                                    "critic step", "critic gap", marker="")
    else:
        draws["discriminator outputs"] = viz.draw_xy(x, {"D(x), real": s["p_real"], "D(G(z)), fake": s["p_fake"]},
                                                     "critic step", "mean probability 'real'", marker="")
    if variant.conditional:
        draws["auxiliary classifier"] = viz.draw_xy(x, {"real": s["class_acc_real"], "fake": s["class_acc_fake"]},
                                                    "critic step", "class accuracy", marker="")
    draws[f"{label} per epoch"] = viz.draw_xy(
        e["epoch"], {f"{metrics['track']['n']:,} generated": e["fd"],
                     "real vs real": [metrics["track"]["floor"]] * len(e["epoch"])}, "epoch", label)
    return viz.panels(draws, ncols=2)


_COMMON = dict(report=REPORT, data=(DATASET,), needs=("EXP01",), quick=QUICK, smoke=SMOKE)


@experiment("EXP02", title="DCGAN", config=GanCfg(variant="dcgan"), **_COMMON,
            question="How close does a DCGAN, trained with the non-saturating cross-entropy loss, come to real "
                     "CIFAR-10 images, and how steadily does it get there?")
def dcgan(ctx) -> Result:
    return gan_experiment(ctx)


@experiment("EXP03", title="WGAN (weight clipping)", config=GanCfg(variant="wgan"), **_COMMON,
            question="Does the Wasserstein loss, with the critic kept Lipschitz by weight clipping, train the same "
                     "networks more steadily than DCGAN, and at what cost in sample quality per epoch?")
def wgan(ctx) -> Result:
    return gan_experiment(ctx)


@experiment("EXP04", title="WGAN-GP (gradient penalty)", config=GanCfg(variant="wgan_gp"), **_COMMON,
            question="Does replacing weight clipping by a gradient penalty let the Wasserstein critic learn "
                     "faster and give better samples?")
def wgan_gp(ctx) -> Result:
    return gan_experiment(ctx)


@experiment("EXP05", title="ACGAN (class-conditional)", config=GanCfg(variant="acgan"), **_COMMON,
            question="Given the class to draw, and a discriminator that must also name the class, does the "
                     "generator produce recognisable classes, and do its samples cover all ten?")
def acgan(ctx) -> Result:
    return gan_experiment(ctx)
