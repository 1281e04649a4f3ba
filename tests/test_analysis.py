"""Engine analyses checked against cases with known answers."""

import numpy as np
import pytest
import torch
from torch import nn

from dljournal.analysis import (
    interpolate,
    interpolation_curve,
    jacobian_norm,
    loss_hessian,
    minimal_ratio,
    minimise_grad_norm,
    pca_trajectories,
)
from dljournal.data.tensors import Split
from dljournal.train import TrainConfig, WeightSnapshots, evaluate, fit, seed_everything


class Point(nn.Module):
    """A model whose output is its parameter vector, whatever the input."""

    def __init__(self, theta):
        super().__init__()
        self.theta = nn.Parameter(torch.as_tensor(theta, dtype=torch.float64))

    def forward(self, x):
        return self.theta


def test_hessian_of_a_quadratic_has_its_eigenvalues():
    eig = torch.tensor([3.0, 1.0, -2.0, 0.5], dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    a = q @ torch.diag(eig) @ q.T
    h = loss_hessian(Point([0.3, -1.0, 2.0, 0.1]), lambda out, y: 0.5 * out @ a @ out, torch.zeros(1), None)
    assert torch.allclose(h, a, atol=1e-10)
    found = torch.linalg.eigvalsh(h)
    assert torch.allclose(found, eig.sort().values, atol=1e-10)
    assert minimal_ratio(found) == 0.75


def test_hessian_of_least_squares_is_2xtx_over_n():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(20, 3, generator=g, dtype=torch.float64), torch.randn(20, 1, generator=g, dtype=torch.float64)
    model = nn.Linear(3, 1).double()
    h = loss_hessian(model, nn.functional.mse_loss, x, y)  # parameters: weight (3), then bias (1)
    xa = torch.cat([x, torch.ones(20, 1, dtype=torch.float64)], 1)
    assert torch.allclose(h, 2 * xa.T @ xa / 20, atol=1e-10)
    assert minimal_ratio(torch.linalg.eigvalsh(h)) == 1.0


def test_minimise_grad_norm_reaches_the_critical_point():
    """For least squares the only point of zero gradient is the solution of the normal equations."""
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    y = 2 * x + 1 + 0.1 * torch.sin(7 * x)
    model = nn.Linear(1, 1)
    out = minimise_grad_norm(model, nn.functional.mse_loss, x, y, steps=5000, lr=1e-2, tol=1e-10)
    assert out["grad_norm_sq"] < 1e-9 and out["steps"] < 5000  # stopped early, at the tolerance
    solution = torch.linalg.lstsq(torch.cat([x, torch.ones_like(x)], 1), y).solution.squeeze()
    assert torch.allclose(torch.cat([model.weight.flatten(), model.bias]), solution, atol=1e-3)


def test_jacobian_norm_of_a_linear_model_is_the_weight_norm():
    torch.manual_seed(0)
    model = nn.Linear(5, 3)
    x = torch.randn(10, 5)
    assert jacobian_norm(model, x, batch_size=4) == pytest.approx(model.weight.norm().item(), rel=1e-6)
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 4))
    assert jacobian_norm(conv, torch.randn(3, 1, 28, 28)) > 0


def test_interpolation_endpoints_are_the_two_models():
    torch.manual_seed(0)
    a, b = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)), nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    b[1].running_mean.fill_(2.0)
    for alpha, ref in ((0.0, a), (1.0, b)):
        m = interpolate(a, b, alpha)
        assert all(torch.equal(m.state_dict()[k], v) for k, v in ref.state_dict().items())
    mid = interpolate(a, b, 0.5)
    assert torch.allclose(mid[0].weight, (a[0].weight + b[0].weight) / 2)
    assert torch.allclose(mid[1].running_mean, torch.full((3,), 1.0))
    assert torch.allclose(interpolate(a, b, 2.0)[0].weight, 2 * b[0].weight - a[0].weight)
    a, b = a[0], b[0]  # the curve of models without batch norm (with it, see test_honesty)
    split = Split(torch.randn(32, 4), torch.randint(0, 3, (32,)))
    curve = interpolation_curve(a, b, [0.0, 0.5, 1.0], {"train": split})
    assert curve["alpha"] == [0.0, 0.5, 1.0]
    assert curve["train_loss"][0] == pytest.approx(evaluate(a, split)["loss"])
    assert curve["train_acc"][2] == pytest.approx(evaluate(b, split)["acc"])


def test_pca_of_runs_along_one_direction():
    direction = np.random.default_rng(0).normal(size=50)
    runs = [
        np.outer(np.linspace(0, 1, 6) * s, direction) + 1e-4 * np.random.default_rng(i).normal(size=(6, 50))
        for i, s in enumerate((1.0, -2.0, 0.5))
    ]
    coords, ratio = pca_trajectories(runs)
    assert ratio[0] > 0.999 and len(coords) == 3 and coords[0].shape == (6, 2)


def test_weight_snapshots():
    seed_everything(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    initial = torch.cat([p.detach().flatten() for p in model.parameters()]).numpy().copy()
    split = Split(torch.randn(32, 4), torch.randint(0, 2, (32,)))
    every, first = WeightSnapshots(every=2), WeightSnapshots(layer="1.")
    fit(model, (split, split), TrainConfig(epochs=5, batch_size=8), [every, first])
    assert every.epochs == [0, 2, 4, 5] and every.snapshots.shape == (4, 4 * 3 + 3 + 3 * 2 + 2)
    assert np.array_equal(every.snapshots[0], initial)
    assert first.snapshots.shape == (6, 4 * 3 + 3)
    assert every.logs[1]["epoch"] == 2 and "val_acc" in every.logs[1]
    with pytest.raises(ValueError, match="no parameter"):
        fit(model, (split, None), TrainConfig(epochs=1), [WeightSnapshots(layer="nope")])
