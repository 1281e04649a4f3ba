"""The four GANs as small objects over one model family and one training loop.

A ``Variant`` names its pieces: the adversarial loss (the non-saturating cross-entropy of DCGAN, or
the Wasserstein critic loss), how many critic steps precede each generator step, weight clipping
(WGAN), the gradient penalty (WGAN-GP), the auxiliary classifier (ACGAN), the critic's
normalisation and the optimiser of its paper. ``critic_loss`` and ``generator_loss`` compose them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..core.project import ProjectError

Logs = dict[str, torch.Tensor]  # detached scalars, averaged by the loop (no sync per step)
Optimizer = torch.optim.Optimizer


# ---- the pieces ---------------------------------------------------------------------------------
def bce_critic(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """−log σ(D(x)) − log(1 − σ(D(G(z)))), from logits: the discriminator of Goodfellow et al."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def bce_generator(fake: torch.Tensor) -> torch.Tensor:
    """−log σ(D(G(z))): the non-saturating generator loss (strong gradients while D wins)."""
    return F.softplus(-fake).mean()


def wasserstein_critic(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[D(G(z))] − E[D(x)]: minimising it makes E[D(x)] − E[D(G(z))] estimate W₁ (up to the
    critic's Lipschitz constant)."""
    return fake.mean() - real.mean()


def wasserstein_generator(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[(‖∇D(x̂)‖₂ − 1)²] at x̂ uniform on lines between paired real and fake images
    (Gulrajani et al. 2017): a soft 1-Lipschitz constraint where the two distributions meet."""
    eps = torch.rand(len(real), 1, 1, 1, device=real.device, dtype=real.dtype)
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    score, _ = critic(x)
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=True)  # (B, C, H, W), differentiable
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, limit: float) -> None:
    """Every parameter clamped to [−limit, limit]: WGAN's crude way to bound the Lipschitz constant."""
    for p in module.parameters():
        p.clamp_(-limit, limit)


# ---- the variants -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    name: str  # as the report writes it
    wasserstein: bool = False  # Wasserstein critic loss; else the non-saturating cross-entropy
    n_critic: int = 1  # critic steps per generator step
    clip: float = 0.0  # weight clipping of the critic; 0 = off
    gp_weight: float = 0.0  # λ of the gradient penalty; 0 = off
    aux_weight: float = 0.0  # weight of the auxiliary class loss; > 0 makes the GAN class-conditional
    critic_norm: str = "batch"  # batch | layer | none
    optimizer: str = "adam"  # adam | rmsprop
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    @property
    def conditional(self) -> bool:
        return self.aux_weight > 0

    def optimizers(self, generator: nn.Module, critic: nn.Module) -> tuple[Optimizer, Optimizer]:
        """(generator's, critic's) optimiser, as the variant's paper trains them."""

        def make(params) -> Optimizer:
            if self.optimizer == "rmsprop":  # Arjovsky et al.: momentum destabilises a clipped critic
                return torch.optim.RMSprop(params, lr=self.lr)
            if self.optimizer == "adam":
                return torch.optim.Adam(params, lr=self.lr, betas=self.betas)
            raise ValueError(f"unknown optimizer {self.optimizer!r} (adam, rmsprop)")

        return make(generator.parameters()), make(critic.parameters())

    def critic_loss(
        self,
        critic: nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        y_real: torch.Tensor | None = None,
        y_fake: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Logs]:
        """The critic's loss on a real and a generated batch (classes: ACGAN), and what to log."""
        s_real, c_real = critic(real)  # (B,), (B, K) or None
        s_fake, c_fake = critic(fake)
        loss = (wasserstein_critic if self.wasserstein else bce_critic)(s_real, s_fake)
        logs: Logs = {}
        if self.wasserstein:
            logs["wasserstein"] = (s_real.mean() - s_fake.mean()).detach()
        else:  # the discriminator's mean belief that real (fake) images are real
            logs.update(p_real=torch.sigmoid(s_real).mean().detach(), p_fake=torch.sigmoid(s_fake).mean().detach())
        if self.gp_weight:
            gp = gradient_penalty(critic, real, fake)
            loss = loss + self.gp_weight * gp
            logs["gradient_penalty"] = gp.detach()
        if self.conditional:
            aux = F.cross_entropy(c_real, y_real) + F.cross_entropy(c_fake, y_fake)
            loss = loss + self.aux_weight * aux
            logs.update(
                d_class_loss=aux.detach(),
                class_acc_real=(c_real.argmax(1) == y_real).float().mean().detach(),
                class_acc_fake=(c_fake.argmax(1) == y_fake).float().mean().detach(),
            )
        logs["d_loss"] = loss.detach()
        return loss, logs

    def after_critic_step(self, critic: nn.Module) -> None:
        if self.clip:
            clip_weights_(critic, self.clip)

    def generator_loss(
        self, critic: nn.Module, fake: torch.Tensor, y_fake: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Logs]:
        s_fake, c_fake = critic(fake)
        loss = (wasserstein_generator if self.wasserstein else bce_generator)(s_fake)
        if self.conditional:  # ACGAN: the generator also wants its images classified as asked
            loss = loss + self.aux_weight * F.cross_entropy(c_fake, y_fake)
        return loss, {"g_loss": loss.detach()}

    def recipe(self) -> str:
        """One line for tables: what makes this variant what it is."""
        parts = ["Wasserstein loss" if self.wasserstein else "non-saturating BCE"]
        if self.n_critic > 1:
            parts.append(f"{self.n_critic} critic steps per G step")
        if self.clip:
            parts.append(f"weights clipped to ±{self.clip:g}")
        if self.gp_weight:
            parts.append(f"gradient penalty λ = {self.gp_weight:g}")
        if self.conditional:
            parts.append(f"class-conditional G, auxiliary classifier (weight {self.aux_weight:g})")
        parts.append(f"{self.critic_norm} norm in D")
        opt = (
            f"RMSprop lr {self.lr:g}"
            if self.optimizer == "rmsprop"
            else f"Adam lr {self.lr:g}, β = ({self.betas[0]:g}, {self.betas[1]:g})"
        )
        return "; ".join(parts + [opt])


# The recipes of the papers: Radford et al. 2016; Arjovsky et al. 2017; Gulrajani et al. 2017; Odena et al. 2017.
DCGAN = Variant("DCGAN")
WGAN = Variant("WGAN", wasserstein=True, n_critic=5, clip=0.01, optimizer="rmsprop", lr=5e-5)
WGAN_GP = Variant(
    "WGAN-GP", wasserstein=True, n_critic=5, gp_weight=10.0, critic_norm="layer", lr=1e-4, betas=(0.0, 0.9)
)
ACGAN = Variant("ACGAN", aux_weight=1.0)
VARIANTS: dict[str, Variant] = {"dcgan": DCGAN, "wgan": WGAN, "wgan_gp": WGAN_GP, "acgan": ACGAN}


def get_variant(key: str) -> Variant:
    if key not in VARIANTS:
        raise ProjectError(f"unknown GAN variant {key!r} (known: {', '.join(VARIANTS)})")
    return VARIANTS[key]
