"""HW3 EXP06: the four GANs side by side, from the cached results of EXP02-EXP05 (nothing is
trained here): distance, training time, epochs, stability and mode collapse."""

from __future__ import annotations

import torch

from dljournal import Context, Result, experiment, viz

VARIANT_EXPERIMENTS = ("EXP02", "EXP03", "EXP04", "EXP05")


def stability_key(metrics: dict) -> tuple[int, float, float]:
    """Stability, most stable first: fewest epochs in which the distance got worse, then the smallest
    regression of the last epoch from the best, then the least oscillating loss curves (rounded, so
    that noise in the last digits does not pick a winner)."""
    t = metrics["track"]
    return t["rises"], round(t["regression"], 3), round(t["loss_oscillation"], 1)


def most_stable(summaries: dict[str, dict]) -> tuple[list[str], list[str]]:
    """(variants from most to least stable, the variants tied for most stable)."""
    order = sorted(summaries, key=lambda v: stability_key(summaries[v]))
    return order, [v for v in order if stability_key(summaries[v]) == stability_key(summaries[order[0]])]


@experiment("EXP06", needs=("EXP01", *VARIANT_EXPERIMENTS))
def compare(ctx: Context) -> Result:
    """The four GANs compared

    Which of the four variants reaches the smallest distance to real images, which trains most stably, at what
    cost in time, and which shows signs of mode collapse?
    """
    runs = {}
    for exp in VARIANT_EXPERIMENTS:
        s = ctx.artifact(exp, "summary")
        runs[s["metrics"]["variant"]] = s
    m = {v: s["metrics"] for v, s in runs.items()}
    first = next(iter(m.values()))
    label, n, track_n = first["distance"], first["n"], first["track"]["n"]
    recipes = [
        {
            "variant": v,
            "what differs (losses and update rules)": x["recipe"],
            "G params": x["training"]["params_g"],
            "D params": x["training"]["params_d"],
        }
        for v, x in m.items()
    ]
    rows = [
        {
            "variant": v,
            f"{label} (n = {n:,})": x["fd"],
            "epochs": x["training"]["epochs"],
            "G steps": x["training"]["g_steps"],
            "training time (s)": x["training"]["seconds"],
            f"epochs {label} rose": x["track"]["rises"],
            "last vs best epoch": f"{x['track']['regression']:+.0%}",
            "loss oscillation": x["track"]["loss_oscillation"],
        }
        for v, x in m.items()
    ]
    diversity = [
        {
            "variant": v,
            "pixel diversity": x["diversity"]["pixel_diversity"],
            "feature spread": x["diversity"]["spread"],
            "class entropy": x["diversity"]["class_entropy"],
            "most common class": f"{x['diversity']['top_class']} ({x['diversity']['top_share']:.0%})",
            "class as asked": f"{x['diversity']['class_agreement']:.0%}"
            if "class_agreement" in x["diversity"]
            else "n/a",
            "collapse flagged": "yes" if x["diversity"]["collapse"] else "no",
        }
        for v, x in m.items()
    ]
    order, steadiest = most_stable(m)
    epochs = max(len(s["fd_by_epoch"]) for s in runs.values())
    samples = torch.stack([s["samples"] for s in runs.values()])  # (variants, 10, 3, 32, 32)
    return Result(
        metrics={
            "distance": label,
            "true_fid": first["true_fid"],
            "n": n,
            "floor": first["floor"],
            "by_variant": {
                v: {
                    "fd": x["fd"],
                    "seconds": x["training"]["seconds"],
                    "rises": x["track"]["rises"],
                    "regression": x["track"]["regression"],
                    "collapse": x["diversity"]["collapse"],
                    "oscillation": x["track"]["loss_oscillation"],
                    "epochs": x["training"]["epochs"],
                    "g_steps": x["training"]["g_steps"],
                }
                for v, x in m.items()
            },
            "best_fd": min(m, key=lambda v: m[v]["fd"]),
            "most_stable": steadiest,
            "stability_order": order,
        },
        tables={
            "recipes": (
                recipes,
                "What differs between the variants: everything else (networks, data, loop, seeds) is shared.",
            ),
            "comparison": (
                rows,
                f"The four variants on the same data, networks and epochs. {label} between {n:,} "
                f"generated and {n:,} real images (two real sets: {first['floor']:.4g}); 'rose' "
                f"counts epochs whose {label} on {track_n:,} fixed-noise images was above the "
                "previous epoch's; 'last vs best' compares the last epoch with the best; loss "
                "oscillation is the total variation of the loss curves over their range (1: they "
                "only move one way).",
            ),
            "diversity": (
                diversity,
                f"Mode collapse, on the {n:,} generated images. Pixel diversity: their mean "
                "pairwise distance over that of real images; feature spread: their total "
                f"feature variance over the real images'; classes: the majority class of the 10 "
                "nearest real images (entropy 1 when all ten are equally common; 'as asked': "
                "ACGAN's images whose class is the one requested). Collapse is flagged when "
                "both ratios are below their thresholds (EXP02-EXP05).",
            ),
        },
        figures={
            "fd_curves": (
                viz.panels(
                    {
                        f"{label} per epoch": viz.draw_xy(
                            list(range(1, epochs + 1)),
                            {v: s["fd_by_epoch"] for v, s in runs.items()},
                            "epoch",
                            label,
                            integer_x=True,
                        )
                    },
                    ncols=1,
                    height=2.6,
                ),
                f"{label} after every epoch, {track_n:,} generated images (fixed noise) vs the {n:,}-image real "
                f"reference; the real-vs-real floor at this sample count is {first['track']['floor']:.4g}.",
            ),
            "side_by_side": (
                viz.image_rows(samples, list(runs)),
                "The last epoch's fixed-noise images of each variant (ACGAN: one per class, airplane to truck).",
            ),
        },
        notes=[
            f"Every distance here is {label}"
            + (
                "."
                if first["true_fid"]
                else ", not an Inception FID: its values are not comparable with published FIDs."
            )
        ],
    )
