"""One GAN training loop for every variant: a critic step per real batch, a generator step after
every ``variant.n_critic`` of them, logs averaged over windows and epochs, and the images of a fixed
noise batch after every epoch. What differs between variants lives in ``Variant``, not here.

An epoch is one pass of the training images through the critic, so a WGAN (5 critic steps per
generator step) makes a fifth of DCGAN's generator updates per epoch; ``GanRun`` counts both.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch import nn

from ..data.tensors import Split
from ..train.loop import History
from .models import Discriminator, Generator
from .variants import Logs, Variant

EpochHook = Callable[[int, Generator], dict[str, float]]  # (epoch, generator) -> extra epoch metrics


@dataclass(frozen=True)
class GanConfig:
    epochs: int = 50
    batch_size: int = 64
    z_dim: int = 100
    width: int = 64  # channels of the generator's last and the critic's first stage (then 2×, 4×)
    log_every: int = 50  # critic steps per point of the step-level curves (at least n_critic)


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


class _Means:
    """Running means of detached scalars; they are read (one device sync) once per window."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, logs: Logs) -> None:
        for k, v in logs.items():
            self.sums[k] = self.sums.get(k, 0) + v
            self.counts[k] = self.counts.get(k, 0) + 1

    def pop(self) -> dict[str, float]:
        out = {k: (s / self.counts[k]).item() for k, s in self.sums.items()}
        self.sums, self.counts = {}, {}
        return out


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


def latent(n: int, z_dim: int, num_classes: int = 0, device: torch.device | str = "cpu",
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Noise (n, z_dim) ~ N(0, I) and, for a conditional generator, uniform classes (n,)."""
    z = torch.randn(n, z_dim, generator=generator).to(device)
    y = torch.randint(num_classes, (n,), generator=generator).to(device) if num_classes else None
    return z, y


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator outputs in [-1, 1] -> uint8 pixels 0-255 (on the CPU)."""
    return ((images.detach().float().cpu() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


@torch.no_grad()
def generate(generator: Generator, z: torch.Tensor, y: torch.Tensor | None = None,
             batch_size: int = 500) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] on the CPU for noise ``z`` (and classes ``y``), in eval mode
    (batch norm with its running statistics: an image does not depend on its batch)."""
    was_training = generator.training
    generator.eval()
    try:
        out = [generator(z[i:i + batch_size], None if y is None else y[i:i + batch_size]).float().cpu()
               for i in range(0, len(z), batch_size)]
    finally:
        generator.train(was_training)
    return torch.cat(out)


def train_gan(generator: Generator, critic: Discriminator, variant: Variant, data: Split, cfg: GanConfig, *,
              fixed_z: torch.Tensor, fixed_y: torch.Tensor | None = None, device: torch.device | str = "cpu",
              on_epoch: EpochHook | None = None, log: Callable[[str], None] = print, name: str = "GAN",
              log_dir: Path | None = None) -> GanRun:
    """Train ``generator`` against ``critic`` on images ``data.x`` in [-1, 1] (classes ``data.y``)
    with the losses and update rules of ``variant``.

    Batches are drawn without replacement and the last, incomplete one is dropped (batch norm needs
    full batches). ``on_epoch(epoch, generator)`` runs after each epoch, outside the timed part
    (e.g. a Fréchet distance), and its metrics join that epoch's logs.
    """
    device = torch.device(device)
    num_classes = generator.num_classes
    if variant.conditional != bool(num_classes) or bool(critic.classes is not None) != bool(num_classes):
        head = "a" if critic.classes is not None else "no"
        raise ValueError(f"{variant.name}: conditional={variant.conditional}, but the generator has "
                         f"{num_classes} classes and the critic {head} class head")
    steps_per_epoch = len(data) // cfg.batch_size
    if steps_per_epoch < variant.n_critic:  # every epoch must hold a generator step, or its logs misalign
        raise ValueError(f"{len(data)} training images make {steps_per_epoch} batches of {cfg.batch_size}, fewer "
                         f"than the {variant.n_critic} critic steps of one {variant.name} generator step")
    every = max(cfg.log_every, variant.n_critic)  # so that every window holds a generator step
    generator.to(device).train()
    critic.to(device).train()
    data = data.to(device)
    opt_g, opt_d = variant.optimizers(generator, critic)
    shuffle = torch.Generator().manual_seed(int(torch.randint(0, 2**31 - 1, (1,)).item()))
    history, window, epoch_means = History(), _Means(), _Means()
    snapshots, d_steps, g_steps = [], 0, 0
    writer = _writer(log_dir)

    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        for x, y in data.batches(cfg.batch_size, shuffle=True, generator=shuffle):
            if len(x) < cfg.batch_size:
                continue
            # critic step: real batch vs a batch of fakes (no generator gradients needed)
            z, y_fake = latent(len(x), cfg.z_dim, num_classes, device)
            with torch.no_grad():
                fake = generator(z, y_fake)
            d_loss, logs = variant.critic_loss(critic, x, fake, y, y_fake)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            variant.after_critic_step(critic)
            d_steps += 1
            # generator step after every n_critic critic steps
            if d_steps % variant.n_critic == 0:
                z, y_fake = latent(cfg.batch_size, cfg.z_dim, num_classes, device)
                with frozen(critic):
                    g_loss, g_logs = variant.generator_loss(critic, generator(z, y_fake), y_fake)
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
                g_steps += 1
                logs = {**logs, **g_logs}
            window.add(logs)
            epoch_means.add(logs)
            if d_steps % every == 0:
                values = window.pop()
                history.log_step({"step": d_steps, "g_step": g_steps, **values})
                if writer is not None:
                    for k, v in values.items():
                        writer.add_scalar(f"{name}/{k}", v, d_steps)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        logs = {"epoch": epoch, **epoch_means.pop(), "seconds": seconds, "g_steps": g_steps}
        snapshots.append(to_uint8(generate(generator, fixed_z, fixed_y)))
        if on_epoch is not None:
            logs.update(on_epoch(epoch, generator))
        history.log_epoch(logs)
        if writer is not None:
            writer.add_images(f"{name}/fixed_noise", snapshots[-1], epoch)
            writer.flush()
        log(f"  {name} epoch {epoch}/{cfg.epochs} " + " ".join(
            f"{k}={v:.4g}" for k, v in logs.items() if k in ("d_loss", "g_loss", "wasserstein", "fd"))
            + f" {seconds:.1f}s")
    if writer is not None:
        writer.close()
    return GanRun(generator, critic, history, torch.stack(snapshots), d_steps, g_steps)


def _writer(log_dir: Path | None):
    if log_dir is None:
        return None
    from torch.utils.tensorboard import SummaryWriter

    Path(log_dir).mkdir(parents=True, exist_ok=True)
    return SummaryWriter(str(log_dir))
