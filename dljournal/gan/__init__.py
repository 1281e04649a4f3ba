"""Generative adversarial networks on the engine: one DCGAN-style generator/discriminator family
(``models``), the variants as small objects of losses and update rules (``variants``) and one
training step for all of them, run by the engine's ``fit`` (``train``)."""

from .models import Discriminator, Generator, dcgan_init
from .train import GanConfig, GanRun, generate, latent, to_uint8, train_gan
from .variants import ACGAN, DCGAN, VARIANTS, WGAN, WGAN_GP, Variant, get_variant

__all__ = [
    "Generator",
    "Discriminator",
    "dcgan_init",
    "GanConfig",
    "GanRun",
    "train_gan",
    "generate",
    "latent",
    "to_uint8",
    "Variant",
    "VARIANTS",
    "DCGAN",
    "WGAN",
    "WGAN_GP",
    "ACGAN",
    "get_variant",
]
