"""Pretrained backbones: the exact EfficientNet-Lite0 load, its preprocessing, the standard loaders
reading only cached files, and the substitute's one-line message when weights are missing."""

import io

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA
from torch import nn

from dljournal.core.project import ProjectError
from dljournal.data.tensors import Normalisation
from dljournal.models.backbones import (
    Backbone,
    efficientnet_lite0,
    image_preprocess,
    label,
    lite0_weights_path,
    load_backbone,
    load_backbones,
)


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """A torch hub cache with nothing in it (and no Hugging Face cache either)."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path / "hub"


def test_lite0_weights_load_exactly():
    state = torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)
    model, _ = efficientnet_lite0()
    assert set(model.state_dict()) == set(state) and len(state) == 296  # every key, none missing or unexpected
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    assert sum(v.numel() for v in state.values()) == 4_694_073  # as the manifest records

    headless, _ = efficientnet_lite0(num_classes=10)
    assert headless._fc.out_features == 10
    assert torch.equal(headless.state_dict()["_conv_head.weight"], state["_conv_head.weight"])


def test_lite0_preprocess_scales_to_minus_one_one():
    _, pre = efficientnet_lite0(pretrained=False)
    white = pre(torch.full((2, 3, 32, 32), 255, dtype=torch.uint8))
    assert white.shape == (2, 3, 224, 224)
    assert torch.allclose(white, torch.tensor((255 - 127) / 128), atol=1e-5)
    assert torch.allclose(pre(torch.zeros(1, 3, 224, 224, dtype=torch.uint8)), torch.tensor(-127 / 128), atol=1e-6)
    assert torch.allclose(pre(torch.ones(1, 3, 50, 50)), pre(torch.full((1, 3, 50, 50), 255, dtype=torch.uint8)))


def test_resize_then_centre_crop():
    x = torch.zeros(1, 3, 40, 80)
    x[..., 16:64] = 1.0  # white but for 16 columns at each side
    out = image_preprocess(20, Normalisation((0.0,) * 3, (1.0,) * 3), resize=20)(x)  # -> 20 × 40, crop the centre 20
    assert out.shape == (1, 3, 20, 20) and torch.allclose(out, torch.ones_like(out))


def test_missing_weights_give_the_substitute_with_one_line(empty_hub):
    bb = load_backbone("resnet18")
    assert isinstance(bb, Backbone) and bb.name == "efficientnet_lite0" and bb.substitute_for == "resnet18"
    assert "\n" not in bb.message and "resnet18" in bb.message and "EfficientNet-Lite0" in bb.message
    assert str(empty_hub / "checkpoints" / "resnet18-f37072fd.pth") in bb.message
    with torch.no_grad():
        features = bb.model(bb.preprocess(torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)))
    assert features.shape == (2, bb.feature_dim) == (2, 1280)

    dino = load_backbone("dinov2_vits14")
    assert dino.substitute_for == "dinov2_vits14" and str(empty_hub) in dino.message and "\n" not in dino.message
    clip = load_backbone("clip_vit_b32")
    assert clip.substitute_for == "clip_vit_b32" and "open_clip" in clip.message


def test_torchvision_weights_are_read_from_the_hub_cache(empty_hub):
    import torchvision

    # a stand-in checkpoint where torchvision keeps ResNet18_Weights.IMAGENET1K_V1
    (empty_hub / "checkpoints").mkdir(parents=True)
    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), empty_hub / "checkpoints" / "resnet18-f37072fd.pth")
    bb = load_backbone("resnet18")
    assert bb.substitute_for is None and bb.name == "resnet18" and bb.feature_dim == 512
    assert torch.equal(bb.model.conv1.weight, reference.conv1.weight)
    x = bb.preprocess(torch.randint(0, 256, (2, 3, 64, 80), dtype=torch.uint8))
    assert x.shape == (2, 3, 224, 224)
    with torch.no_grad():
        assert bb.model(x).shape == (2, 512)


def test_vit_weights_from_the_hub_cache_give_the_real_vit_at_224(empty_hub, monkeypatch):
    """The ViT arm of EXP04 with the weights cached: ViT-B/16 itself, 768 features, fed at 224 px
    whatever size is asked. Patched at the narrowest point, torchvision's read of the cached file
    (a real-size state dict would take seconds to write and read): the file there is a placeholder."""
    import torchvision
    import torchvision.models._api as api

    cached = empty_hub / "checkpoints" / "vit_b_16-c867db91.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"placeholder")
    with torch.device("meta"):  # the real shapes, without initialising 86 M parameters
        shapes = {k: v.shape for k, v in torchvision.models.vit_b_16().state_dict().items()}
    state = {k: torch.full(shape, 0.01) for k, shape in shapes.items()}
    read = []
    monkeypatch.setattr(api, "load_state_dict_from_url", lambda url, **kw: read.append(url) or state)

    groups = load_backbones(("resnet18", "vit_b_16"))  # resnet18 missing: the substitute, on its own
    assert list(groups) == ["efficientnet_lite0", "vit_b_16"] and read[0].endswith("/" + cached.name)
    assert label(groups["efficientnet_lite0"]) == "efficientnet_lite0 (substitute for resnet18)"
    (vit,) = groups["vit_b_16"]
    assert label([vit]) == "vit_b_16" and vit.substitute_for is None and str(cached) in vit.message
    assert isinstance(vit.model, torchvision.models.VisionTransformer) and vit.feature_dim == 768
    assert torch.equal(vit.model.conv_proj.weight, state["conv_proj.weight"])
    assert vit.input_size(96) == vit.input_size(32) == 224
    with pytest.raises(ProjectError, match="vit_b_16 takes 224 px inputs, not 96"):
        vit.preprocess_at(96)
    x = vit.preprocess_at(vit.input_size(96))(torch.randint(0, 256, (1, 3, 32, 32), dtype=torch.uint8))
    assert x.shape == (1, 3, 224, 224)
    with torch.no_grad():
        assert vit.model(x).shape == (1, 768)


def test_backbones_missing_together_share_one_substitute(empty_hub):
    groups = load_backbones(("resnet18", "vit_b_16"))
    (both,) = groups.values()
    assert [bb.substitute_for for bb in both] == ["resnet18", "vit_b_16"]
    assert label(both) == "efficientnet_lite0 (substitute for resnet18, vit_b_16)"
    assert "vit_b_16-c867db91.pth" in both[1].message and "resnet18-f37072fd.pth" in both[0].message
    assert both[0].input_size(96) == 96  # the substitute takes any size


def test_input_size_of_fixed_and_patched_backbones():
    any_size = Backbone("cnn", nn.Identity(), 3, nn.Identity())
    dino = Backbone("dino", nn.Identity(), 3, nn.Identity(), patch=14)
    vit = Backbone("vit", nn.Identity(), 3, nn.Identity(), size=224, fixed_size=True)
    assert (any_size.input_size(96), dino.input_size(96), dino.input_size(5), vit.input_size(96)) == (96, 98, 14, 224)
    assert dino.preprocess_at(98)(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 98, 98)
    with pytest.raises(ProjectError, match="dino takes 98 px inputs, not 96"):
        dino.preprocess_at(96)


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("DLJOURNAL_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


def test_missing_weights_are_downloaded_the_torchvision_way(empty_hub, online, monkeypatch):
    import torchvision

    reference = torchvision.models.resnet18()
    fetched = []

    def download(url, progress=True, check_hash=False):  # torch.hub's download, without a network
        fetched.append(url)
        path = empty_hub / "checkpoints" / url.rsplit("/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(reference.state_dict(), path)
        return reference.state_dict()

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", download)
    bb = load_backbone("resnet18")
    assert fetched == ["https://download.pytorch.org/models/resnet18-f37072fd.pth"]
    assert bb.substitute_for is None and torch.equal(bb.model.conv1.weight, reference.conv1.weight)


def test_a_failed_download_is_one_line_and_the_substitute(empty_hub, online, monkeypatch):
    import urllib.error

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    monkeypatch.setattr(torch.hub, "load", no_network)
    for name in ("resnet18", "dinov2_vits14"):
        bb = load_backbone(name)
        assert bb.substitute_for == name and "\n" not in bb.message
        assert "download failed (URLError" in bb.message and "EfficientNet-Lite0" in bb.message


@pytest.mark.parametrize("switch", ["DLJOURNAL_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_never_downloads(empty_hub, online, monkeypatch, switch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a download was attempted offline")

    monkeypatch.setenv(switch, "1")
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", forbidden)
    monkeypatch.setattr(torch.hub, "load", forbidden)
    for name in ("resnet18", "dinov2_vits14"):
        bb = load_backbone(name)
        assert bb.substitute_for == name and "offline" in bb.message and "not downloaded" in bb.message


def test_unknown_backbone_is_one_clear_line():
    with pytest.raises(ProjectError, match="unknown backbone 'resnet181'"):
        load_backbone("resnet181")


DOGS = SHARED_DATA / "dogs" / "imagewoof2_dogs10_jpeg.npz"


@pytest.mark.skipif(not DOGS.is_file(), reason="../shared/data/dogs is not present")
def test_lite0_recognises_imagenet_dogs():
    """ImageWoof photos are ImageNet validation images: real weights with the right preprocessing
    name most breeds among all 1000 classes (chance: 0.001)."""
    from PIL import Image

    from dljournal.data.dogs import IMAGENET_INDEX

    with np.load(DOGS) as z:
        blob, off, labels = z["val_jpeg"], z["val_offsets"], z["val_labels"]
        idx = [i for i in range(len(labels)) if i % 50 == 0]  # the first of each breed
        images = torch.stack(
            [
                torch.from_numpy(
                    np.array(Image.open(io.BytesIO(blob[off[i] : off[i + 1]].tobytes())).convert("RGB"))
                ).permute(2, 0, 1)
                for i in idx
            ]
        )
        truth = torch.tensor([IMAGENET_INDEX[labels[i]] for i in idx])
    model, pre = efficientnet_lite0()
    with torch.no_grad():
        top1 = (model.eval()(pre(images)).argmax(1) == truth).float().mean().item()
    assert top1 >= 0.6  # 0.9 measured (deterministic: same images, same weights)


def test_open_clip_reads_only_the_hugging_face_cache(empty_hub, tmp_path, monkeypatch):
    """With open_clip installed (a stub here), the weights are looked for in the HF cache only."""
    import sys
    import types

    from torch import nn

    class Clip(nn.Module):
        visual = types.SimpleNamespace(output_dim=7)

        def encode_image(self, x):
            return x.flatten(1)[:, :7]

    created = []
    repo = {"hf_hub": "timm/vit_base_patch32_clip_224.openai/"}
    stub = types.SimpleNamespace(
        get_pretrained_cfg=lambda arch, tag: repo,
        create_model=lambda arch, pretrained: created.append((arch, pretrained)) or Clip(),
    )
    monkeypatch.setitem(sys.modules, "open_clip", stub)
    folder = tmp_path / "hf" / "models--timm--vit_base_patch32_clip_224.openai"
    missing = load_backbone("clip_vit_b32")
    assert missing.substitute_for == "clip_vit_b32" and str(folder) in missing.message and not created

    weights = folder / "snapshots" / "abc123" / "open_clip_pytorch_model.bin"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"stand-in")
    bb = load_backbone("clip_vit_b32")
    assert created == [("ViT-B-32", str(weights))] and bb.substitute_for is None and bb.feature_dim == 7
    assert bb.model(bb.preprocess(torch.zeros(2, 3, 40, 40, dtype=torch.uint8))).shape == (2, 7)
