"""The Fréchet distance between two sets of image features, each summarised by a Gaussian, and the
features it is computed on.

    FD = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½      (Dowson and Landau 1982)

FID (Heusel et al. 2017) is this distance on the 2048-d pool features of the TensorFlow
Inception-v3 whose PyTorch port torch-fidelity provides and torchmetrics reuses; both keep its
weights in the torch hub cache. ``feature_space()`` uses them when they are on this machine (it never
downloads). Otherwise it says so in one line and measures on the ImageNet features of
EfficientNet-Lite0: a Fréchet distance labelled "FD (EfficientNet-Lite0)", on another scale than FID
and never to be called one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

FIDELITY_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"  # torch-fidelity's file name
LITE0_LABEL = "FD (EfficientNet-Lite0)"


# ---- the distance -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gaussian:
    """Mean (D,) and covariance (D, D) of ``n`` feature vectors, in float64."""

    mean: torch.Tensor
    cov: torch.Tensor
    n: int


def fit_gaussian(features: torch.Tensor) -> Gaussian:
    """The sample mean and unbiased covariance of features (N, D), as FID implementations take them."""
    x = features.detach().to(torch.float64).cpu()
    if len(x) < 2:
        raise ValueError(f"a covariance needs at least 2 feature vectors, got {len(x)}")
    if not torch.isfinite(x).all():
        raise ValueError("features contain NaN or infinite values")
    centred = x - x.mean(0)
    return Gaussian(x.mean(0), centred.T @ centred / (len(x) - 1), len(x))


def _eigh(m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and eigenvectors of a symmetric PSD matrix. LAPACK's divide-and-conquer ``eigh``
    can fail to converge on a covariance of nearly identical samples (hundreds of zero eigenvalues);
    for a PSD matrix the SVD is the same decomposition and converges there."""
    try:
        return torch.linalg.eigh(m)
    except torch.linalg.LinAlgError:
        u, s, _ = torch.linalg.svd(m)
        return s, u


def _psd_sqrt(m: torch.Tensor) -> torch.Tensor:
    vals, vecs = _eigh(m)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def trace_sqrt_product(s1: torch.Tensor, s2: torch.Tensor) -> float:
    """tr (Σ₁Σ₂)^½ for covariances Σ₁, Σ₂. Σ₁Σ₂ is similar to the symmetric PSD Σ₁^½ Σ₂ Σ₁^½, so
    the trace is the sum of the square roots of that matrix's eigenvalues: no complex-valued
    ``sqrtm`` and no imaginary residue to discard, even for singular covariances (N < D)."""
    r = _psd_sqrt(s1.to(torch.float64))
    m = r @ s2.to(torch.float64) @ r
    return _eigh((m + m.T) / 2)[0].clamp_min(0).sqrt().sum().item()


def frechet_distance(a: Gaussian, b: Gaussian) -> float:
    """The Fréchet (2-Wasserstein) distance², squared units of the features, between two Gaussians."""
    d = a.mean - b.mean
    value = (d @ d).item() + a.cov.trace().item() + b.cov.trace().item() - 2 * trace_sqrt_product(a.cov, b.cov)
    return max(value, 0.0)  # a squared distance: only rounding can take it below zero


# ---- the features -------------------------------------------------------------------------------
class WeightsMissing(Exception):
    """The FID network or its weights are not on this machine (the message says what and where)."""


@dataclass(frozen=True)
class FeatureSpace:
    """A feature extractor for Fréchet distances and the name its distances go by."""

    label: str  # "FID" or "FD (EfficientNet-Lite0)": the distance's name in every table and caption
    network: str
    true_fid: bool
    message: str  # one line for the log and the report: what was used, and why
    model: nn.Module  # model input -> (B, dim)
    preprocess: Callable[[torch.Tensor], torch.Tensor]  # uint8 images (B, 3, H, W) -> model input
    dim: int

    @torch.inference_mode()
    def features(self, images: torch.Tensor, batch_size: int = 100, device: torch.device | str = "cpu") -> torch.Tensor:
        """uint8 images (N, 3, H, W), 0-255 -> features (N, dim), float32 on the CPU.

        Images are uint8 on both sides, as FID protocols store generated images (8-bit PNG).
        """
        if images.dtype != torch.uint8:
            raise TypeError(f"features() takes uint8 images (0-255), got {images.dtype}")
        model = self.model.to(device).eval()
        channels_last = torch.device(device).type == "cpu"  # about 1.5x faster for these CNNs on CPU
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        out = []
        for i in range(0, len(images), batch_size):
            x = self.preprocess(images[i : i + batch_size].to(device))
            if x.is_floating_point() and channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            out.append(model(x).float().cpu())  # (B, dim)
        return torch.cat(out) if out else torch.empty(0, self.dim)


class _PoolFeatures(nn.Module):
    """torch-fidelity's extractor returns a tuple of the requested features; keep the one."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[0]  # (B, 2048)


def inception_fid() -> FeatureSpace:
    """The FID Inception-v3 of torch-fidelity, from the torch hub cache; ``WeightsMissing`` if absent."""
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise WeightsMissing(
            "torch-fidelity (the FID Inception-v3 that torchmetrics also uses) is not installed"
        ) from None
    path = Path(torch.hub.get_dir()) / "checkpoints" / FIDELITY_WEIGHTS
    if not path.is_file():
        raise WeightsMissing(f"the FID Inception-v3 weights are not in the torch hub cache (looked for {path})")
    net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path))
    return FeatureSpace(
        "FID",
        "Inception-v3 (TF FID weights, torch-fidelity)",
        True,
        f"FID: torch-fidelity Inception-v3, 2048-d pool features ({path})",
        _PoolFeatures(net),
        lambda x: x,
        2048,
    )  # it resizes uint8 images to 299 itself


def feature_space() -> FeatureSpace:
    """True FID features when their weights are here, else EfficientNet-Lite0's (named as such)."""
    try:
        return inception_fid()
    except WeightsMissing as missing:
        from ..models.backbones import load_backbone

        bb = load_backbone("efficientnet_lite0")
        return FeatureSpace(
            LITE0_LABEL,
            "EfficientNet-Lite0 (ImageNet)",
            False,
            f"no FID: {missing}; reporting {LITE0_LABEL}, the Fréchet distance on the 1280-d "
            f"ImageNet features of EfficientNet-Lite0 at 224 px ({bb.message})",
            bb.model,
            bb.preprocess,
            bb.feature_dim,
        )


# ---- diversity in the same feature space (mode collapse) ----------------------------------------
def spread(a: Gaussian, reference: Gaussian) -> float:
    """tr Σ_a / tr Σ_ref: the total feature variance of a sample set relative to the reference's.
    Well below 1, the generator covers a narrower region than the data (mode collapse)."""
    return (a.cov.trace() / reference.cov.trace()).item()


def mean_pairwise_distance(x: torch.Tensor, max_items: int = 1000) -> float:
    """Mean Euclidean distance between distinct pairs of the first ``max_items`` rows of ``x``
    (images are flattened). Generated images much closer to each other than real images are to
    each other repeat themselves: the direct symptom of mode collapse, whatever their quality."""
    x = x[:max_items].flatten(1).double()
    if len(x) < 2:
        raise ValueError(f"pairwise distances need at least 2 items, got {len(x)}")
    return (torch.cdist(x, x).sum() / (len(x) * (len(x) - 1))).item()  # the zero diagonal excluded


def knn_labels(
    query: torch.Tensor, reference: torch.Tensor, labels: torch.Tensor, k: int = 10, num_classes: int | None = None
) -> torch.Tensor:
    """The majority class among the ``k`` most cosine-similar reference features of each query
    (ties go to the lower class index): a classifier with no training for generated images."""
    q = torch.nn.functional.normalize(query.float(), dim=1)
    r = torch.nn.functional.normalize(reference.float(), dim=1)
    nearest = (q @ r.T).topk(min(k, len(r)), dim=1).indices  # (Nq, k)
    votes = labels[nearest]  # (Nq, k)
    num_classes = num_classes or int(labels.max()) + 1
    counts = torch.zeros(len(q), num_classes).scatter_add_(1, votes, torch.ones_like(votes, dtype=torch.float))
    return counts.argmax(1)


def class_entropy(labels: torch.Tensor, num_classes: int) -> float:
    """Entropy of the class histogram over log(num_classes): 1 when every class is equally common,
    0 when one class takes everything."""
    p = torch.bincount(labels, minlength=num_classes).double() / len(labels)
    p = p[p > 0]
    return ((p * (1 / p).log()).sum() / torch.log(torch.tensor(float(num_classes), dtype=torch.float64))).item()
