"""EXP04: what the PyTorch ResNet-8 of EXP03 learned: filters, activations, gradient ascent,
Grad-CAM and saliency (the engine's dljournal.analysis.explain)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dljournal import Context, Recipe, Result, experiment, predict, viz
from dljournal.analysis import capture_activations
from dljournal.analysis.explain import ascend, centre_share, grad_cam, saliency, target_name
from dljournal.models import create_model


@dataclass(frozen=True)
class LearnedCfg:
    cam_layer: str = "layer3"  # the last residual stage (8×8 maps)
    layers: tuple[str, ...] = ("stem", "layer1", "layer2")  # activations shown
    ascent_classes: tuple[int, ...] = (0, 1, 3, 7)  # airplane, automobile, cat, horse
    ascent_filters: tuple[tuple[str, int], ...] = (("layer2", 0), ("layer2", 5), ("layer3", 0), ("layer3", 9))
    ascent_steps: int = 256
    examples: int = 4  # correct and misclassified test images each, shown
    cam_measured: int = 500  # correct and misclassified test images each, over which Grad-CAM is measured


@experiment(
    "EXP04",
    recipe=Recipe(LearnedCfg(), smoke=dict(ascent_steps=8, examples=2, cam_measured=16)),
    data=("cifar10",),
    needs=("EXP03",),
)
def learned(ctx: Context) -> Result:
    """What ResNet-8 learned

    What do the filters and activations of the trained ResNet-8 look like, what inputs excite its units and
    classes most, and where does it look when it classifies?
    """
    cfg = ctx.cfg
    ds = ctx.data("cifar10")
    model = create_model("resnet8")
    model.load_state_dict(ctx.artifact("EXP03", "state_dict"))
    model.to(ctx.device).eval()
    pred = predict(model, ds.test).argmax(1)
    right = (pred == ds.test.y.cpu()).nonzero().flatten()
    wrong = (pred != ds.test.y.cpu()).nonzero().flatten()
    pick = torch.cat(
        [
            right[torch.randperm(len(right), generator=torch.Generator().manual_seed(ctx.seed))[: cfg.examples]],
            wrong[torch.randperm(len(wrong), generator=torch.Generator().manual_seed(ctx.seed))[: cfg.examples]],
        ]
    )
    x = ds.test.x[pick.to(ds.test.x.device)]
    titles = [
        f"{'✓' if p == t else '✗'} {ds.classes[t]} → {ds.classes[p]}"
        for t, p in zip(ds.test.y[pick.to(ds.test.y.device)].tolist(), pred[pick].tolist())
    ]
    acts = capture_activations(model, x[:1], list(cfg.layers))
    targets = [*cfg.ascent_classes, *cfg.ascent_filters]
    ascent = ascend(model, targets, (3, 32, 32), steps=cfg.ascent_steps, seed=ctx.seed)
    # where the evidence lies, measured: the share of Grad-CAM heat in the central quarter of the image
    share = {}
    for kind, idx in (("correct", right), ("wrong", wrong)):
        idx = idx[torch.randperm(len(idx), generator=torch.Generator().manual_seed(ctx.seed))[: cfg.cam_measured]]
        xs = ds.test.x[idx.to(ds.test.x.device)]
        heat = torch.cat([grad_cam(model, xs[i : i + 250], cfg.cam_layer) for i in range(0, len(xs), 250)])
        share[kind] = {"mean": centre_share(heat).mean().item(), "n": len(idx)}
    start, end = (
        ascent.trace[: max(len(ascent.trace) // 16, 1)].mean(0),
        ascent.trace[-max(len(ascent.trace) // 16, 1) :].mean(0),
    )
    names = [target_name(t) if not isinstance(t, int) else ds.classes[t] for t in targets]
    return Result(
        metrics={
            "test_acc": (pred == ds.test.y.cpu()).float().mean().item(),
            "ascent": {n: {"start": float(a), "end": float(b)} for n, a, b in zip(names, start, end)},
            "ascent_raised": int((end > start).sum()),
            "ascent_targets": len(targets),
            "cam_centre_share": share,
            "cam_centre_uniform": 0.25,
        },
        figures={
            "filters": (
                viz.kernel_grid(model.stem.conv.weight, "stem: 3×3 RGB kernels"),
                "The 16 first-layer (stem) kernels of ResNet-8, each scaled to its own range.",
            ),
            "activations": (
                viz.activation_grid(ds.norm.undo(x[:1]).cpu(), acts),
                f"A test image and the first eight feature maps of {', '.join(cfg.layers)}.",
            ),
            "ascent": (
                viz.image_grid(ascent.images, names, ncols=len(targets), rescale=True),
                f"Inputs found by {cfg.ascent_steps} steps of gradient ascent from noise (jitter and blur "
                "regularised) that maximise a class logit (left) or the mean activation of one channel "
                "of a residual stage (right).",
            ),
            "cam": (
                viz.explanation_grid(
                    ds.norm.undo(x),
                    {"Grad-CAM": grad_cam(model, x, cfg.cam_layer), "saliency": saliency(model, x)},
                    titles,
                ),
                f"Grad-CAM at {cfg.cam_layer} and saliency (|∂ logit / ∂ input|) for the predicted class, on "
                f"{cfg.examples} correctly (✓) and {cfg.examples} wrongly (✗) classified test images "
                "(true → predicted).",
            ),
        },
    )
