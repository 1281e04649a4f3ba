"""Analyses of trained models: Hessians, weight trajectories, interpolation, input sensitivity."""

from .activations import capture_activations, conv_layers
from .hessian import curvature_counts, full_batch_grad_norm, loss_hessian, minimal_ratio, minimise_grad_norm
from .interpolate import interpolate, interpolation_curve, recompute_batchnorm
from .sensitivity import jacobian_norm
from .trajectory import pca_trajectories

__all__ = [
    "capture_activations",
    "conv_layers",
    "curvature_counts",
    "full_batch_grad_norm",
    "loss_hessian",
    "minimal_ratio",
    "minimise_grad_norm",
    "interpolate",
    "interpolation_curve",
    "recompute_batchnorm",
    "jacobian_norm",
    "pca_trajectories",
]
