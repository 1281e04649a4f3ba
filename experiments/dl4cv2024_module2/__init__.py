"""DL4CV module 2 mini-project: a custom CNN on CIFAR-10, studied; pretrained backbones, probed and fine-tuned."""

from dljournal.core.registry import import_submodules

import_submodules(__name__, __path__)
