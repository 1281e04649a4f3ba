"""Weight trajectories projected to 2-D by PCA fitted jointly on every run."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pca_trajectories(runs: Sequence[np.ndarray], n_components: int = 2) -> tuple[list[np.ndarray], np.ndarray]:
    """``runs``: one (snapshots, parameters) array per run. Returns each run's (snapshots, 2)
    coordinates in the common PCA basis and the explained variance ratio of the components."""
    from sklearn.decomposition import PCA

    stacked = np.concatenate(runs, axis=0)
    pca = PCA(n_components=n_components, svd_solver="full").fit(stacked)
    return [pca.transform(r) for r in runs], pca.explained_variance_ratio_
