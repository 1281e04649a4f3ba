"""One GAN training step for every variant, run by the engine's ``fit``: a critic step per real
batch, a generator step after every ``variant.n_critic`` of them, logs averaged over windows (here)
and epochs (``fit``), and the images of a fixed noise batch after every epoch. What differs between
variants lives in ``Variant``, not here.

An epoch is one pass of the training images through the critic, so a WGAN (5 critic steps per
generator step) makes a fifth of DCGAN's generator updates per epoch; ``GanRun`` counts both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ..data.tensors import Split
from ..train.config import TrainConfig
from ..train.loop import Callback, FitState, History, fit
from ..train.step import Batch, Logs, Means, Step
from .models import Discriminator, Generator
from .variants import Variant

EpochHook = Callable[[int, Generator], dict[str, float]]  # (epoch, generator) -> extra epoch metrics


@dataclass(frozen=True)
class GanConfig:
    epochs: int = 50
    batch_size: int = 64
    z_dim: int = 100
    width: int = 64  # channels of the generator's last and the critic's first stage (then 2×, 4×)
    log_every: int = 50  # critic steps per point of the step-level curves (at least n_critic)
    max_steps: int = 0  # generator steps per epoch at most, n_critic critic steps each; 0 = all (dry runs)


@dataclass
class GanRun:
    generator: Generator
    critic: Discriminator
    history: History  # epochs: losses, estimates, seconds (+ the hook's metrics); steps: per window
    samples: torch.Tensor  # (epochs, n, C, H, W) uint8: the fixed noise's images after each epoch
    d_steps: int
    g_steps: int

    @property
    def seconds(self) -> float:
        """Training time alone (the epoch hook's evaluation is not counted)."""
        return sum(self.history.epochs.get("seconds", []))


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """No parameter gradients for ``module`` (the critic during a generator step: its inputs still
    get gradients, its weights need none)."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def latent(
    n: int,
    z_dim: int,
    num_classes: int = 0,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Noise (n, z_dim) ~ N(0, I) and, for a conditional generator, uniform classes (n,)."""
    z = torch.randn(n, z_dim, generator=generator).to(device)
    y = torch.randint(num_classes, (n,), generator=generator).to(device) if num_classes else None
    return z, y


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator outputs in [-1, 1] -> uint8 pixels 0-255 (on the CPU)."""
    return ((images.detach().float().cpu() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


@torch.no_grad()
def generate(
    generator: Generator, z: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 500
) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] on the CPU for noise ``z`` (and classes ``y``), in eval mode
    (batch norm with its running statistics: an image does not depend on its batch)."""
    was_training = generator.training
    generator.eval()
    try:
        out = [
            generator(z[i : i + batch_size], None if y is None else y[i : i + batch_size]).float().cpu()
            for i in range(0, len(z), batch_size)
        ]
    finally:
        generator.train(was_training)
    return torch.cat(out)


class GanStep(Step):
    """One critic step on the real batch against as many fakes; after every ``n_critic`` of them
    one generator step on a fresh batch of noise. Logs each critic step's values with weight 1 (the
    generator's on the steps that have one) and their means over windows of ``every`` critic steps
    as ``history.steps``. Noise comes from the global torch generator. Callbacks' ``on_after_backward``
    is not called (two backward passes per step); ``state.loss`` is the critic's loss."""

    drop_last = True  # batch norm needs full batches

    def __init__(self, generator: Generator, critic: Discriminator, variant: Variant, cfg: GanConfig):
        self.generator, self.critic, self.variant, self.cfg = generator, critic, variant, cfg
        self.every = max(cfg.log_every, variant.n_critic)  # so that every window holds a generator step
        self.window, self.d_steps, self.g_steps = Means(), 0, 0

    def start(self, state: FitState) -> None:
        self.opt_g, self.opt_d = self.variant.optimizers(self.generator, self.critic)

    def __call__(self, state: FitState, batch: Batch) -> Logs:
        x, y = batch
        g, d, variant, cfg = self.generator, self.critic, self.variant, self.cfg
        # critic step: real batch vs a batch of fakes (no generator gradients needed)
        z, y_fake = latent(len(x), cfg.z_dim, g.num_classes, state.device)
        with torch.no_grad():
            fake = g(z, y_fake)
        d_loss, logs = variant.critic_loss(d, x, fake, y, y_fake)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        variant.after_critic_step(d)
        self.d_steps += 1
        state.loss = logs["d_loss"]
        if self.d_steps % variant.n_critic == 0:  # generator step
            z, y_fake = latent(cfg.batch_size, cfg.z_dim, g.num_classes, state.device)
            with frozen(d):
                g_loss, g_logs = variant.generator_loss(d, g(z, y_fake), y_fake)
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
            self.g_steps += 1
            logs = {**logs, **g_logs}
        self.window.add(logs)
        if self.d_steps % self.every == 0:
            state.history.log_step({"step": self.d_steps, "g_step": self.g_steps, **self.window.pop()})
        return logs

    def epoch_logs(self, state: FitState) -> dict[str, float]:
        return {"g_steps": self.g_steps}


def train_gan(
    generator: Generator,
    critic: Discriminator,
    variant: Variant,
    data: Split,
    cfg: GanConfig,
    *,
    fixed_z: torch.Tensor,
    fixed_y: torch.Tensor | None = None,
    device: torch.device | str = "cpu",
    on_epoch: EpochHook | None = None,
    callbacks: Iterable[Callback] = (),
) -> GanRun:
    """Train ``generator`` against ``critic`` on images ``data.x`` in [-1, 1] (classes ``data.y``)
    with the losses and update rules of ``variant``: ``GanStep`` in the engine's ``fit``.

    Batches are drawn without replacement and the last, incomplete one is dropped (batch norm needs
    full batches). After each epoch, outside the timed part, the fixed noise's images are kept (and
    shown to callbacks as ``state.images["fixed_noise"]``) and ``on_epoch(epoch, generator)`` (e.g.
    a Fréchet distance) adds its metrics to that epoch's logs. ``callbacks`` watch the training
    (the runner's observers: ``ctx.observers(name)``).
    """
    num_classes = generator.num_classes
    if variant.conditional != bool(num_classes) or bool(critic.classes is not None) != bool(num_classes):
        head = "a" if critic.classes is not None else "no"
        raise ValueError(
            f"{variant.name}: conditional={variant.conditional}, but the generator has "
            f"{num_classes} classes and the critic {head} class head"
        )
    steps_per_epoch = len(data) // cfg.batch_size
    if steps_per_epoch < variant.n_critic:  # every epoch must hold a generator step, or its logs misalign
        raise ValueError(
            f"{len(data)} training images make {steps_per_epoch} batches of {cfg.batch_size}, fewer "
            f"than the {variant.n_critic} critic steps of one {variant.name} generator step"
        )
    step, snapshots = GanStep(generator, critic, variant, cfg), []

    def end_of_epoch(state: FitState) -> dict[str, float]:
        snapshots.append(to_uint8(generate(generator, fixed_z, fixed_y)))
        state.images["fixed_noise"] = snapshots[-1]
        return on_epoch(state.epoch, generator) if on_epoch is not None else {}

    # the loop's recipe only (the variant brings its optimisers); float32 and NCHW, as this trainer always ran
    loop = TrainConfig(
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        channels_last=False,
        amp=False,
        max_steps=cfg.max_steps * variant.n_critic,
    )
    models = nn.ModuleDict({"generator": generator, "critic": critic})
    history = fit(models, (data, None), loop, callbacks, device=device, step=step, on_epoch=end_of_epoch)
    return GanRun(generator, critic, history, torch.stack(snapshots), step.d_steps, step.g_steps)
