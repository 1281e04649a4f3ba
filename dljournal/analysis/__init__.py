"""Analyses of trained models: Hessians, weight trajectories, interpolation, input sensitivity."""
from .activations import capture_activations, conv_layers
from .hessian import loss_hessian, minimal_ratio, minimise_grad_norm
from .interpolate import interpolate, interpolation_curve
from .sensitivity import jacobian_norm
from .trajectory import pca_trajectories

__all__ = ["capture_activations", "conv_layers", "loss_hessian", "minimal_ratio", "minimise_grad_norm", "interpolate", "interpolation_curve",
           "jacobian_norm", "pca_trajectories"]
