"""Intermediate activations of a model, captured with forward hooks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


@torch.no_grad()
def capture_activations(model: nn.Module, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """Outputs of the named submodules (``dict(model.named_modules())`` names) for input ``x``,
    detached, on the CPU, in eval mode."""
    modules = dict(model.named_modules())
    missing = [name for name in layers if name not in modules]
    if missing:
        raise KeyError(f"no submodule {missing[0]!r}; have: {', '.join(n for n in modules if n)}")
    out: dict[str, torch.Tensor] = {}
    hooks = [
        modules[name].register_forward_hook(
            lambda _m, _i, o, name=name: out.__setitem__(name, o.detach().float().cpu())
        )
        for name in layers
    ]
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return out


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the model's Conv2d layers, in forward-definition order."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
