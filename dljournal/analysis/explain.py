"""What a network learned: inputs that excite a filter or a class (gradient ascent), where the
evidence for a class lies (Grad-CAM) and which pixels move a logit most (saliency).

For any PyTorch classifier; layers are named as in ``dict(model.named_modules())``. What these
functions return is drawn by ``viz.image_grid`` and ``viz.explanation_grid`` at build time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

# A class logit (int), or a filter: (layer name, channel), whose mean activation is the objective.
Target = int | tuple[str, int]


def module(model: nn.Module, name: str) -> nn.Module:
    modules = dict(model.named_modules())
    if name not in modules:
        raise KeyError(f"no submodule {name!r}; have: {', '.join(n for n in modules if n)}")
    return modules[name]


def target_name(target: Target) -> str:
    return f"class {target}" if isinstance(target, int) else f"{target[0]}[{target[1]}]"


class _Stop(Exception):
    """Raised by a hook once every needed layer has fired: the rest of the forward is skipped."""


def objectives(model: nn.Module, x: torch.Tensor, targets: Sequence[Target]) -> torch.Tensor:
    """(N,) the objective of target i on image i: its class logit, or the mean over positions of
    its filter's activation (differentiable; one forward pass, cut short when no logit is needed)."""
    layers = sorted({t[0] for t in targets if not isinstance(t, int)})
    outputs: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(_m, _i, out):
            outputs[name] = out
            if len(outputs) == len(layers) and all(not isinstance(t, int) for t in targets):
                raise _Stop

        return hook

    hooks = [module(model, name).register_forward_hook(keep(name)) for name in layers]
    try:
        logits = model(x)
    except _Stop:
        logits = None
    finally:
        for h in hooks:
            h.remove()
    values = []
    for i, t in enumerate(targets):
        if isinstance(t, int):
            values.append(logits[i, t])
        else:
            a = outputs[t[0]][i, t[1]]  # (h, w) for a conv layer, () for a linear one
            values.append(a.mean())
    return torch.stack(values)


@dataclass
class Ascent:
    images: torch.Tensor  # (N, C, H, W) in the model's input space, one per target
    trace: torch.Tensor  # (steps, N) the objective at every step (on the jittered image)
    targets: list[Target]


def ascend(
    model: nn.Module,
    targets: Sequence[Target],
    shape: Sequence[int],
    *,
    steps: int = 128,
    lr: float = 0.05,
    jitter: int = 2,
    blur_every: int = 4,
    blur_sigma: float = 0.5,
    decay: float = 1e-4,
    value_range: tuple[float, float] | None = None,
    seed: int = 0,
) -> Ascent:
    """Gradient ascent on the input, from faint noise, to maximise each target (one image each).

    Regularisers keep the images natural rather than adversarial high-frequency patterns (Yosinski
    et al., 2015): each step sees the image rolled by up to ``jitter`` pixels; every
    ``blur_every`` steps it is Gaussian-blurred (``blur_sigma``); Adam's ``decay`` pulls it toward
    zero (the data mean in normalised inputs); ``value_range`` clamps it to valid pixels.
    The model is run in eval mode and its parameters get no gradients.
    """
    from torchvision.transforms.functional import gaussian_blur

    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    images = (0.1 * torch.randn((len(targets), *shape), generator=g)).to(device).requires_grad_(True)
    opt = torch.optim.Adam([images], lr=lr, weight_decay=decay)
    was_training = model.training
    model.eval()
    trace = []
    try:
        for step in range(steps):
            dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=g).tolist() if jitter else (0, 0)
            values = objectives(model, torch.roll(images, (dy, dx), dims=(-2, -1)), targets)
            (grad,) = torch.autograd.grad(values.sum(), images)
            images.grad = -grad  # ascent: Adam minimises
            opt.step()
            with torch.no_grad():
                if blur_every and (step + 1) % blur_every == 0:
                    images.copy_(gaussian_blur(images, kernel_size=2 * round(2 * blur_sigma) + 1, sigma=blur_sigma))
                if value_range is not None:
                    images.clamp_(*value_range)
            trace.append(values.detach().float().cpu())
    finally:
        model.train(was_training)
    return Ascent(images.detach().cpu(), torch.stack(trace), list(targets))


def grad_cam(model: nn.Module, x: torch.Tensor, layer: str, targets: Sequence[int] | None = None) -> torch.Tensor:
    """Grad-CAM heat-maps (B, H, W) in [0, 1] at the input's resolution, from ``layer`` (usually the
    last convolutional block), for class ``targets`` (default: each image's predicted class)."""
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    was_training = model.training
    try:
        with GradCAM(model=model, target_layers=[module(model, layer)]) as cam:  # exit releases its hooks
            maps = cam(
                input_tensor=x, targets=None if targets is None else [ClassifierOutputTarget(int(t)) for t in targets]
            )
    finally:
        model.zero_grad(set_to_none=True)  # Grad-CAM backpropagates into the parameters too
        model.train(was_training)
    return torch.from_numpy(maps).float()


def centre_share(maps: torch.Tensor, side: float = 0.5) -> torch.Tensor:
    """Per map (B, H, W): the share of its total heat inside the central box whose sides are
    ``side`` of the image's (a uniform map gives ``side²``). Objects in CIFAR-style photos are
    mostly centred, so a low share says the evidence came from the surroundings."""
    h, w = maps.shape[-2:]
    top, left = round(h * (1 - side) / 2), round(w * (1 - side) / 2)
    inner = maps[..., top : h - top, left : w - left].sum((-2, -1))
    return inner / maps.sum((-2, -1)).clamp_min(1e-12)


def saliency(model: nn.Module, x: torch.Tensor, targets: Sequence[int] | None = None) -> torch.Tensor:
    """|∂ logit / ∂ input|, the largest over colour channels (Simonyan et al., 2014): (B, H, W)."""
    was_training = model.training
    model.eval()
    try:
        x = x.detach().clone().requires_grad_(True)
        logits = model(x)  # (B, classes)
        t = logits.argmax(1) if targets is None else torch.as_tensor(targets, device=logits.device)
        (grad,) = torch.autograd.grad(logits.gather(1, t.view(-1, 1)).sum(), x)  # (B, C, H, W)
    finally:
        model.train(was_training)
    return grad.abs().amax(1).detach().cpu()
