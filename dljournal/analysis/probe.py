"""Frozen embeddings: extraction, a logistic-regression probe, 2-D maps and separability."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn


@torch.no_grad()
def embed(
    model: nn.Module,
    x: torch.Tensor,
    prepare: Callable[[torch.Tensor], torch.Tensor] = lambda b: b,
    batch_size: int = 128,
) -> torch.Tensor:
    """``model(prepare(batch))`` for every batch of ``x``, in eval mode: (N, D) on the CPU."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = [model(prepare(x[i : i + batch_size].to(device))).float().cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(out)


def linear_probe(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, c: float = 1.0
) -> dict[str, float]:
    """A multinomial logistic regression on standardised embeddings: train and test accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    clf.fit(train_x, train_y)
    return {"train_acc": float(clf.score(train_x, train_y)), "test_acc": float(clf.score(test_x, test_y))}


def maps_2d(x: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> dict[str, np.ndarray]:
    """PCA and t-SNE (initialised from PCA) of the embeddings to two dimensions."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    pca = PCA(n_components=2, random_state=seed).fit_transform(x)
    tsne = TSNE(
        n_components=2, perplexity=min(perplexity, (len(x) - 1) / 3), init="pca", random_state=seed
    ).fit_transform(x)
    return {"PCA": pca.astype(np.float32), "t-SNE": tsne.astype(np.float32)}


def separability(x: np.ndarray, y: np.ndarray, k: int = 10, seed: int = 0) -> dict[str, float]:
    """How well classes separate in a space: silhouette score (−1..1) and k-NN accuracy (5-fold)."""
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    counts = np.bincount(np.asarray(y))
    folds = int(max(2, min(5, counts[counts > 0].min())))  # tiny (smoke) sets have few of a class
    fold_train = len(y) - -(-len(y) // folds)  # samples a fold trains on
    knn = cross_val_score(KNeighborsClassifier(n_neighbors=max(1, min(k, fold_train - 1))), x, y, cv=folds).mean()
    return {"silhouette": float(silhouette_score(x, y, random_state=seed)), "knn_acc": float(knn)}
