"""CPSC-8430 Deep Learning, Homework 1: 1 deep vs shallow, 2 optimisation, 3 generalisation."""
from . import depth, generalisation, optimisation  # noqa: F401  (registers the experiments)
