"""One generator/discriminator family for 32 × 32 images (DCGAN, Radford et al. 2016), with an
optional class-conditional path (ACGAN, Odena et al. 2017): the generator reads a one-hot class next
to its noise and the discriminator gets a second head that names the class.

Every variant trains these two modules; what differs is the discriminator's normalisation (a
gradient penalty is per sample, so WGAN-GP's critic must not use batch statistics) and the loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NORMS = ("batch", "layer", "none")


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # over (C, H, W) of each sample, as Gulrajani et al. advise for a critic
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r} ({', '.join(NORMS)})")


class Generator(nn.Module):
    """Noise (B, z_dim) [and classes (B,)] -> images (B, channels, 32, 32) in [-1, 1]."""

    def __init__(self, z_dim: int = 100, width: int = 64, channels: int = 3, num_classes: int = 0):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        w = width

        def up(cin: int, cout: int) -> list[nn.Module]:  # doubles the resolution
            return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]

        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim + num_classes, 4 * w, 4, 1, 0, bias=False),
            nn.BatchNorm2d(4 * w),
            nn.ReLU(True),  # (B, 4w, 4, 4)
            *up(4 * w, 2 * w),  # (B, 2w, 8, 8)
            *up(2 * w, w),  # (B, w, 16, 16)
            nn.ConvTranspose2d(w, channels, 4, 2, 1),
            nn.Tanh(),
        )  # (B, channels, 32, 32)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            if y is None:
                raise ValueError("a class-conditional generator needs the classes y")
            z = torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], dim=1)  # (B, z_dim + K)
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    """Images (B, channels, 32, 32) -> (source score (B,), class logits (B, K) or None).

    The source score is a logit (real vs fake) for DCGAN and ACGAN, an unbounded critic value for
    the WGANs; the class head exists only when ``num_classes`` > 0 (ACGAN's auxiliary classifier).
    """

    def __init__(self, width: int = 64, channels: int = 3, num_classes: int = 0, norm: str = "batch"):
        super().__init__()
        w, bias = width, norm == "none"
        self.features = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1),
            nn.LeakyReLU(0.2, True),  # (B, w, 16, 16); no norm on the input layer
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=bias),
            _norm(norm, 2 * w),
            nn.LeakyReLU(0.2, True),  # (B, 2w, 8, 8)
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=bias),
            _norm(norm, 4 * w),
            nn.LeakyReLU(0.2, True),
        )  # (B, 4w, 4, 4)
        self.source = nn.Conv2d(4 * w, 1, 4)  # (B, 1, 1, 1)
        self.classes = nn.Conv2d(4 * w, num_classes, 4) if num_classes else None  # (B, K, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.features(x)
        return self.source(h).flatten(), self.classes(h).flatten(1) if self.classes is not None else None


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN initialisation (``model.apply(dcgan_init)``): convolutions N(0, 0.02), normalisation
    gains N(1, 0.02), biases zero."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
