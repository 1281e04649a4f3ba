"""What the experiments of this report share: how they read the MLDS hw2 data, and small plots."""
from __future__ import annotations

from dljournal.data import load_dataset
from dljournal.data.captions import CaptionData
from dljournal.project import ProjectError

REPORT = "cpsc8430_hw2"
DATASET = "mlds_hw2"


def load_captions(ctx, n_train: int = 48, n_test: int = 12) -> CaptionData:
    """The caption data, real or (smoke profile) synthetic, with its source in the provenance.

    ``ctx.data()`` serves tensor datasets only; caption data goes through the same door by hand:
    declared in ``data=`` (its checksums are in the cache key), loaded by the dataset registry.
    """
    if DATASET not in ctx.spec.data:
        raise ProjectError(f"{ctx.spec.id} reads dataset {DATASET!r} but does not declare it: "
                           f"add data=({DATASET!r},) to its @experiment")
    data = load_dataset(DATASET, data_root=ctx.data_root, cache=ctx.project.build / "data",
                        synthetic=ctx.smoke, n_train=n_train, n_test=n_test, seed=ctx.seed)
    ctx.sources[DATASET] = data.source
    return data
