"""Lab "CUDA Vision": exercise 1 (FashionMNIST MLP, Optuna), 2 (CIFAR-10 MLP vs CNN, regularisation,
augmentation) and 4 (ConvLSTM, KTH action recognition)."""

from dljournal.core.registry import import_submodules

import_submodules(__name__, __path__)
