"""HW3 EXP02-EXP05: DCGAN, WGAN, WGAN-GP and ACGAN, each trained by the engine's one GAN loop on
real CIFAR-10 and measured the same way: a Fréchet distance after every epoch (fixed noise) and at
the end (as many generated images as EXP01's real reference), and the diversity of the samples."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from dljournal import Context, Recipe, Result, experiment, viz
from dljournal.analysis.frechet import (
    class_entropy,
    feature_space,
    fit_gaussian,
    frechet_distance,
    knn_labels,
    mean_pairwise_distance,
    spread,
)
from dljournal.core.project import ProjectError
from dljournal.gan import Discriminator, GanConfig, Generator, dcgan_init, generate, get_variant, to_uint8, train_gan
from dljournal.train import count_params

from .common import DATASET, JPEG_NOTE, as_uint8, balanced_classes, pixels, show_epochs

COLS = 8  # fixed-noise images per row of the sample grids


@dataclass(frozen=True)
class GanCfg(GanConfig):
    variant: str = "dcgan"  # dcgan | wgan | wgan_gp | acgan (dljournal.gan.VARIANTS)
    n_train: int | None = None  # training subset (None: all 50,000 training images)
    fd_track: int = 1000  # generated images (fixed noise) for the distance after every epoch
    knn: int = 10  # neighbours that vote for a generated image's class
    # Mode collapse is flagged when generated images are both closer to each other in pixels and
    # narrower in features than real images, by these factors: blur alone lowers only the second.
    collapse_diversity: float = 0.5  # mean pairwise pixel distance, generated over real
    collapse_spread: float = 0.5  # total feature variance, generated over real


# EXP02-EXP05 share one recipe and differ in the variant only
GAN = Recipe(
    GanCfg(),
    quick=dict(epochs=5, width=32, n_train=10000, fd_track=100),
    smoke=dict(epochs=2, width=8, batch_size=32, n_train=256, fd_track=12, log_every=2),
)


Inputs = tuple[torch.Tensor, torch.Tensor | None]  # noise (N, z_dim) and, if conditional, classes (N,)


@dataclass(frozen=True)
class Noise:
    """A run's fixed inputs, drawn from the experiment's seed: the same for every unconditional variant."""

    grid: Inputs  # rows × COLS images shown after each epoch (ACGAN: one class per row)
    track: Inputs  # the per-epoch distance's images
    final: Inputs  # the final distance's images, as many as the real reference


def fixed_noise(cfg: GanCfg, k: int, rows: int, n: int, seed: int, device) -> Noise:
    """Noise for the grid, the per-epoch and the final images; classes balanced when ``k`` > 0."""
    rng = torch.Generator().manual_seed(seed)

    def draw(count: int, classes: torch.Tensor | None) -> Inputs:
        z = torch.randn(count, cfg.z_dim, generator=rng).to(device)
        return z, classes.to(device) if classes is not None else None

    return Noise(
        draw(rows * COLS, torch.arange(rows).repeat_interleave(COLS) if k else None),
        draw(cfg.fd_track, balanced_classes(cfg.fd_track, k) if k else None),
        draw(n, balanced_classes(n, k) if k else None),
    )


def gan_experiment(ctx: Context) -> Result:
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
    rows = ds.num_classes if k else COLS
    noise = fixed_noise(cfg, k, rows, n, ctx.seed, ctx.device)

    def sample(g: Generator, inputs: Inputs) -> tuple[torch.Tensor, torch.Tensor]:
        images = to_uint8(generate(g, *inputs))  # (N, 3, 32, 32)
        return images, space.features(images, device=ctx.device)  # (N, D)

    def track(epoch: int, g: Generator) -> dict[str, float]:
        return {"fd": frechet_distance(fit_gaussian(sample(g, noise.track)[1]), reference)}

    run = train_gan(
        generator,
        critic,
        variant,
        train,
        cfg,
        fixed_z=noise.grid[0],
        fixed_y=noise.grid[1],
        device=ctx.device,
        on_epoch=track,
        callbacks=ctx.observers(cfg.variant),
    )

    images, feats = sample(run.generator, noise.final)
    generated, epochs = fit_gaussian(feats), run.history.epochs
    metrics = {
        "variant": variant.name,
        "recipe": variant.recipe(),
        "rules": dataclasses.asdict(variant),
        "distance": space.label,
        "true_fid": space.true_fid,
        "n": n,
        "fd": frechet_distance(generated, reference),
        "floor": frechet_distance(fit_gaussian(ref["test"]), reference),
        "track": {
            **stability(epochs["fd"], run.history.steps, epochs.get("wasserstein")),
            "n": cfg.fd_track,
            "floor": frechet_distance(fit_gaussian(ref["test"][: cfg.fd_track]), reference),
        },
        "diversity": diversity(images, feats, as_uint8(train), ref, ds.classes, noise.final[1], cfg),
        "training": {
            "epochs": len(epochs["epoch"]),
            "images": len(train),
            "seconds": run.seconds,
            "seconds_per_epoch": run.seconds / len(epochs["epoch"]),
            "d_steps": run.d_steps,
            "g_steps": run.g_steps,
            "params_g": count_params(run.generator),
            "params_d": count_params(run.critic),
        },
        "last_epoch": {key: v[-1] for key, v in epochs.items() if key not in ("epoch", "seconds", "g_steps", "fd")},
    }
    per_class = torch.arange(rows) * COLS if k else torch.arange(COLS)  # one image per class, or the first row
    return Result(
        metrics=metrics,
        history={variant.name: run.history.to_dict()},
        figures=figures(run, variant, metrics, ds, len(train), cfg, per_class),
        artifacts={
            "summary": {
                "metrics": metrics,
                "fd_by_epoch": epochs["fd"],  # ten images; ACGAN: one per class
                "samples": run.samples[-1][torch.arange(10) * COLS if k else torch.arange(10)],
            }
        },
        notes=[JPEG_NOTE if not ds.synthetic else ds.source, space.message],
    )


def figures(run, variant, metrics: dict, ds, n_train: int, cfg: GanCfg, per_class: torch.Tensor) -> dict:
    label, n, k = metrics["distance"], metrics["n"], variant.conditional
    kind = "synthetic stand-in (smoke)" if ds.synthetic else "real CIFAR-10"
    epochs = len(run.samples)
    shown = show_epochs(epochs)
    rows = len(per_class) if k else COLS
    class_names = [ds.classes[c] for c in range(rows)] if k else ()
    return {
        "curves": (
            curves(run.history, variant, metrics, label),
            f"{variant.name} on {n_train:,} {kind} images. Losses and the critic's outputs, averaged over "
            f"windows of {max(cfg.log_every, variant.n_critic)} critic steps; {label} after every epoch "
            f"between {cfg.fd_track:,} generated images (the same noise each epoch) and the {n:,}-image "
            f"real reference, with the real-vs-real floor at that sample count.",
        ),
        "epochs": (
            viz.image_rows(
                run.samples[[e - 1 for e in shown]][:, per_class], [f"epoch {e}" for e in shown], class_names
            ),
            f"{variant.name}: the same noise{' (one image per class)' if k else ''} after each epoch shown.",
        ),
        "samples": (
            viz.image_rows(run.samples[-1].view(rows, COLS, *run.samples.shape[2:]), class_names or [""] * rows),
            f"{variant.name} after {epochs} epochs: {rows * COLS} images of fixed noise"
            + (", one class per row (the class the generator was given)." if k else "."),
        ),
    }


def oscillation(series: list[float]) -> float:
    """Total variation over range: 1 for a curve that only moves one way, about 2 more for every
    reversal as large as the whole range."""
    steps = torch.tensor(series, dtype=torch.float64)
    span = (steps.max() - steps.min()).item()
    return steps.diff().abs().sum().item() / span if span > 0 else 1.0


def stability(fd_by_epoch: list[float], steps: dict, wasserstein: list[float] | None = None) -> dict:
    """How steadily training went: the per-epoch distance's best epoch, how many epochs it rose and
    how far the last epoch is above the best; how much the loss curves oscillate; and (WGANs)
    whether the critic's estimate moved with the distance."""
    best = min(fd_by_epoch)
    out = {
        "final": fd_by_epoch[-1],
        "best": best,
        "best_epoch": fd_by_epoch.index(best) + 1,
        "rises": sum(b > a for a, b in zip(fd_by_epoch, fd_by_epoch[1:])),
        "regression": fd_by_epoch[-1] / best - 1 if best > 0 else 0.0,
        "loss_oscillation": (oscillation(steps["d_loss"]) + oscillation(steps["g_loss"])) / 2,
    }
    if wasserstein is not None and len(fd_by_epoch) > 2:
        out["wasserstein_fd_corr"] = torch.corrcoef(torch.tensor([wasserstein, fd_by_epoch]))[0, 1].item()
    return out


def diversity(
    images: torch.Tensor,
    feats: torch.Tensor,
    real: torch.Tensor,
    ref: dict,
    classes,
    asked: torch.Tensor | None,
    cfg: GanCfg,
) -> dict:
    """Mode-collapse evidence for uint8 ``images`` (their features ``feats``) against ``real`` uint8
    images and EXP01's reference: pixel diversity and feature spread relative to real images, and
    the classes of the nearest real images (conditional: how often they are the classes asked for)."""
    guessed = knn_labels(feats, ref["train"], ref["train_labels"], cfg.knn, len(classes))
    counts = torch.bincount(guessed, minlength=len(classes))
    out = {
        "pixel_diversity": mean_pairwise_distance(images.float() / 255) / mean_pairwise_distance(real.float() / 255),
        "spread": spread(fit_gaussian(feats), fit_gaussian(ref["train"])),
        "class_entropy": class_entropy(guessed, len(classes)),
        "top_class": classes[int(counts.argmax())],
        "top_share": (counts.max() / len(guessed)).item(),
    }
    out["collapse"] = out["pixel_diversity"] < cfg.collapse_diversity and out["spread"] < cfg.collapse_spread
    if asked is not None:
        out["class_agreement"] = (guessed == asked.cpu()).float().mean().item()
    return out


def curves(history, variant, metrics: dict, label: str):
    """Losses, the critic's outputs (and ACGAN's class accuracy) per window; the distance per epoch."""
    s, e = history.steps, history.epochs
    x = s["step"]
    draws = {
        "losses": viz.draw_xy(
            x, {"critic (D)": s["d_loss"], "generator (G)": s["g_loss"]}, "critic step", "loss", marker=""
        )
    }
    if variant.wasserstein:
        draws["Wasserstein estimate"] = viz.draw_xy(
            x, {"E D(x) − E D(G(z))": s["wasserstein"]}, "critic step", "critic gap", marker=""
        )
    else:
        draws["discriminator outputs"] = viz.draw_xy(
            x,
            {"D(x), real": s["p_real"], "D(G(z)), fake": s["p_fake"]},
            "critic step",
            "mean probability 'real'",
            marker="",
        )
    if variant.conditional:
        draws["auxiliary classifier"] = viz.draw_xy(
            x, {"real": s["class_acc_real"], "fake": s["class_acc_fake"]}, "critic step", "class accuracy", marker=""
        )
    draws[f"{label} per epoch"] = viz.draw_xy(
        e["epoch"],
        {
            f"{metrics['track']['n']:,} generated": e["fd"],
            "real vs real": [metrics["track"]["floor"]] * len(e["epoch"]),
        },
        "epoch",
        label,
        integer_x=True,
    )
    return viz.panels(draws, ncols=2)


# ---- EXP02-EXP05: one experiment per variant, the same code and recipe but for the variant -------
QUESTIONS = {  # (experiment, variant, title): the question it answers
    ("EXP02", "dcgan", "DCGAN"): "How close does a DCGAN, trained with the non-saturating cross-entropy loss, "
    "come to real CIFAR-10 images, and how steadily does it get there?",
    ("EXP03", "wgan", "WGAN (weight clipping)"): "Does the Wasserstein loss, with the critic kept Lipschitz by "
    "weight clipping, train the same networks more steadily than DCGAN, and at what cost in sample quality "
    "per epoch?",
    ("EXP04", "wgan_gp", "WGAN-GP (gradient penalty)"): "Does replacing weight clipping by a gradient penalty "
    "let the Wasserstein critic learn faster and give better samples?",
    ("EXP05", "acgan", "ACGAN (class-conditional)"): "Given the class to draw, and a discriminator that must "
    "also name the class, does the generator produce recognisable classes, and do its samples cover all ten?",
}
for (exp_id, variant, title), question in QUESTIONS.items():
    recipe = GAN.replace(variant=variant)
    experiment(exp_id, title=title, question=question, recipe=recipe, data=(DATASET,), needs=("EXP01",))(gan_experiment)
