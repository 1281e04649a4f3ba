"""What the experiments of this report share: the report's name and how they read the MLDS hw2 data."""

from __future__ import annotations

from dljournal import Context
from dljournal.data.captions import CaptionData

DATASET = "mlds_hw2"


def load_captions(ctx: Context, n_train: int = 48, n_test: int = 12) -> CaptionData:
    """The caption data, real or (smoke profile) a stand-in of ``n_train``/``n_test`` videos drawn
    with the run's seed; ``ctx.data`` checks it is declared and records where it came from."""
    return ctx.data(DATASET, n_train=n_train, n_test=n_test, seed=ctx.seed)
