"""CPSC-8430 Deep Learning, Homework 2: video captioning with S2VT on MLDS hw2 (MSVD), scored by BLEU."""

from dljournal.core.registry import import_submodules

import_submodules(__name__, __path__)
