"""The Hessian of a loss w.r.t. all parameters, its minimal ratio, and descent on ||∇L||²."""
from __future__ import annotations

import warnings
from typing import Callable

import torch
from torch import nn
from torch.func import functional_call, hessian

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _flat_fn(model: nn.Module, loss_fn: Loss, x: torch.Tensor, y: torch.Tensor):
    """loss as a function of one flat parameter vector, and that vector."""
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = [p.detach() for n, p in model.named_parameters() if p.requires_grad]
    shapes, sizes = [p.shape for p in params], [p.numel() for p in params]

    def f(flat: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(flat, sizes)
        named = {n: c.view(s) for n, c, s in zip(names, chunks, shapes)}
        return loss_fn(functional_call(model, named, (x,)), y)

    return f, torch.cat([p.flatten() for p in params])


def loss_hessian(model: nn.Module, loss_fn: Loss, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The exact (P, P) Hessian of ``loss_fn(model(x), y)`` w.r.t. the P trainable parameters.

    Exact and dense: meant for the small models of the HW1 experiments (P of a few thousand).
    """
    f, flat = _flat_fn(model, loss_fn, x, y)
    with warnings.catch_warnings():  # torch's forward-AD decompositions still call torch.jit.script
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
        return hessian(f)(flat)


def minimal_ratio(eigenvalues: torch.Tensor, tol: float = 0.0) -> float:
    """The fraction of eigenvalues greater than ``tol``: 1 at a strict minimum, lower at a saddle."""
    return (eigenvalues > tol).float().mean().item()


def minimise_grad_norm(model: nn.Module, loss_fn: Loss, x: torch.Tensor, y: torch.Tensor,
                       steps: int = 1000, lr: float = 1e-3, tol: float = 1e-6) -> dict[str, float]:
    """Descend on ||∇L||² (full batch, Adam) until it falls below ``tol``: a point where the
    gradient is almost zero, i.e. near a minimum, a saddle or a flat region of L."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    for step in range(1, steps + 1):
        loss = loss_fn(model(x), y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        gn2 = sum(g.square().sum() for g in grads)
        if gn2.item() < tol:
            break
        opt.zero_grad(set_to_none=True)
        gn2.backward()
        opt.step()
    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    grads = torch.autograd.grad(loss_fn(model(x), y), params)
    return {"steps": step, "loss": final, "grad_norm_sq": sum(g.square().sum() for g in grads).item()}
