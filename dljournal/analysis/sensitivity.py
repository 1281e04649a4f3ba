"""Input sensitivity: the Frobenius norm of the Jacobian of the output w.r.t. the input."""

from __future__ import annotations

import torch
from torch import nn
from torch.func import jacrev, vmap


def jacobian_norm(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> float:
    """Mean over samples of ||∂f(x)/∂x||_F, f the model's output (logits), in eval mode."""
    was_training = model.training
    model.eval()

    def f(sample: torch.Tensor) -> torch.Tensor:
        return model(sample.unsqueeze(0)).squeeze(0)  # (*input) -> (outputs,)

    norms = []
    for i in range(0, len(x), batch_size):
        jac = vmap(jacrev(f))(x[i : i + batch_size])  # (B, outputs, *input)
        norms.append(jac.flatten(1).norm(dim=1))
    model.train(was_training)
    return torch.cat(norms).mean().item()
