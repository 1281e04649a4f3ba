"""CNN basics: LeNet-5, VGG-16 and ResNet-8 in PyTorch and Keras 3, what they learned, transfer learning."""

from dljournal.core.registry import import_submodules

import_submodules(__name__, __path__)
