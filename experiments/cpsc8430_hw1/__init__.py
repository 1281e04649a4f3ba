"""CPSC-8430 Deep Learning, Homework 1: 1 deep vs shallow, 2 optimisation, 3 generalisation."""

from dljournal.core.registry import import_submodules

import_submodules(__name__, __path__)
