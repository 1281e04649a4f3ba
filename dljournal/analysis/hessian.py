"""The Hessian of a loss w.r.t. all parameters, its minimal ratio, and descent on ||∇L||²."""

from __future__ import annotations

import warnings
from collections.abc import Callable

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
    """The exact (P, P) Hessian of ``loss_fn(model(x), y)`` w.r.t. the P trainable parameters, in
    the dtype of the model and data (use float64 near a critical point: at ‖∇L‖² ≈ 1e-8 float32
    round-off moves the minimal ratio by about ±0.02).

    Exact and dense: meant for the small models of the HW1 experiments (P of a few thousand).
    """
    f, flat = _flat_fn(model, loss_fn, x, y)
    with warnings.catch_warnings():  # torch's forward-AD decompositions still call torch.jit.script
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
        return hessian(f)(flat)


def minimal_ratio(eigenvalues: torch.Tensor, tol: float = 0.0) -> float:
    """The fraction of eigenvalues greater than ``tol``: 1 at a strict minimum, lower at a saddle."""
    return (eigenvalues > tol).float().mean().item()


def curvature_counts(eigenvalues: torch.Tensor, rel_tol: float) -> dict[str, float]:
    """Eigenvalues sorted by sign once the flat ones are set apart: |λ| ≤ rel_tol · max|λ| is *flat*
    (its sign is round-off). ``ratio_nonflat`` is the share of positive among the non-flat ones, the
    minimal ratio that round-off cannot move."""
    tol = rel_tol * eigenvalues.abs().max().item()
    flat = eigenvalues.abs() <= tol
    positive, negative = (eigenvalues > tol).sum().item(), (eigenvalues < -tol).sum().item()
    return {
        "tolerance": tol,
        "flat_fraction": flat.float().mean().item(),
        "positive": int(positive),
        "negative": int(negative),
        "ratio_nonflat": positive / (positive + negative) if positive + negative else float("nan"),
    }


def minimise_grad_norm(
    model: nn.Module,
    loss_fn: Loss,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int = 1000,
    lr: float = 1e-3,
    tol: float = 1e-6,
) -> dict[str, float]:
    """Descend on ||∇L||² (full batch, Adam) until it falls below ``tol``: a point where the
    gradient is almost zero, i.e. near a minimum, a saddle or a flat region of L."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    for step in range(1, steps + 1):  # noqa: B007 (the count reached is returned)
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


def full_batch_grad_norm(
    model: nn.Module, loss_fn: Loss, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2000
) -> float:
    """‖∇L‖ of the mean loss over all of ``(x, y)`` (accumulated over chunks), i.e. the gradient that
    mini-batch gradients estimate. ``loss_fn`` must average over its batch."""
    params = [p for p in model.parameters() if p.requires_grad]
    total = [torch.zeros_like(p) for p in params]
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        grads = torch.autograd.grad(loss_fn(model(xb), yb) * (len(xb) / len(x)), params)
        total = [t + g for t, g in zip(total, grads)]
    return torch.sqrt(sum(t.square().sum() for t in total)).item()
