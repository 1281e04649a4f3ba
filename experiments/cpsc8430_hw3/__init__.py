"""CPSC-8430 Deep Learning, Homework 3: DCGAN, WGAN, WGAN-GP and ACGAN on CIFAR-10, compared by a
Fréchet distance."""

from dljournal.core.registry import import_submodules

import_submodules(__name__, __path__)
