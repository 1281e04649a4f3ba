import numpy as np
import torch

from dljournal.analysis.probe import embed, linear_probe, maps_2d, separability


def blobs(n_per: int, dim: int, classes: int, spread: float, seed: int):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dim)) * 5
    y = np.repeat(np.arange(classes), n_per)
    return centres[y] + spread * rng.normal(size=(len(y), dim)), y


def test_probe_on_separable_embeddings_is_perfect():
    xtr, ytr = blobs(40, 16, 4, 0.3, 0)
    xte, yte = blobs(20, 16, 4, 0.3, 0)  # same centres (same seed), fresh noise below
    xte = xte + 0.3 * np.random.default_rng(1).normal(size=xte.shape)
    acc = linear_probe(xtr, ytr, xte, yte)
    assert acc["train_acc"] == 1.0 and acc["test_acc"] >= 0.99


def test_probe_on_noise_is_near_chance():
    rng = np.random.default_rng(0)
    acc = linear_probe(
        rng.normal(size=(200, 8)), rng.integers(0, 4, 200), rng.normal(size=(400, 8)), rng.integers(0, 4, 400)
    )
    assert acc["test_acc"] < 0.4


def test_separability_and_maps():
    x, y = blobs(30, 20, 3, 0.5, 2)
    tight = separability(x, y)
    assert tight["silhouette"] > 0.7 and tight["knn_acc"] == 1.0
    loose = separability(np.random.default_rng(3).normal(size=x.shape), y)
    assert loose["silhouette"] < 0.1 and loose["knn_acc"] < 0.6
    m = maps_2d(x)
    assert m["PCA"].shape == (90, 2) and m["t-SNE"].shape == (90, 2)
    assert separability(m["t-SNE"], y)["knn_acc"] > 0.95


def test_embed_batches_and_restores_mode():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Dropout(0.5))
    x = torch.randn(10, 3)
    out = embed(model, x, prepare=lambda b: b * 2, batch_size=4)
    assert torch.allclose(out, model[0](x * 2), atol=1e-6) and model.training
