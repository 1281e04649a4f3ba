"""What the networks learned: gradient ascent, Grad-CAM, saliency (their figures: test_figures)."""

import pytest
import torch
from torch import nn

from dljournal.analysis import capture_activations
from dljournal.analysis.explain import ascend, grad_cam, objectives, saliency, target_name
from dljournal.models import create_model


@pytest.fixture
def lenet():
    torch.manual_seed(0)
    return create_model("lenet5")


def test_filter_objective_is_the_mean_activation(lenet):
    x = torch.randn(3, 1, 28, 28)
    acts = capture_activations(lenet, x, ["features.conv2", "classifier.fc2"])
    values = objectives(lenet.eval(), x, [("features.conv2", 5), ("classifier.fc2", 17), 4])
    assert values[0].item() == pytest.approx(acts["features.conv2"][0, 5].mean().item(), abs=1e-6)
    assert values[1].item() == pytest.approx(acts["classifier.fc2"][1, 17].item(), abs=1e-6)
    assert values[2].item() == pytest.approx(lenet(x)[2, 4].item(), abs=1e-6)
    with pytest.raises(KeyError, match="no submodule 'features.conv9'"):
        objectives(lenet, x, [("features.conv9", 0)])


def test_gradient_ascent_raises_the_target_activation(lenet):
    targets = [("features.conv2", 3), ("features.conv1", 0), 7]
    noise = 0.1 * torch.randn((3, 1, 28, 28), generator=torch.Generator().manual_seed(1))  # where ascent starts
    with torch.no_grad():
        before = objectives(lenet.eval(), noise, targets)
    lenet.train()
    plain = ascend(lenet, targets, (1, 28, 28), steps=40, lr=0.1, jitter=0, blur_every=0, seed=1)
    regularised = ascend(lenet, targets, (1, 28, 28), steps=40, lr=0.1, seed=1)
    assert regularised.images.shape == (3, 1, 28, 28) and regularised.trace.shape == (40, 3)
    assert lenet.training and all(p.grad is None for p in lenet.parameters())  # mode restored, no gradients
    with torch.no_grad():
        assert (objectives(lenet.eval(), plain.images, targets) > before + 0.4).all()
        assert (objectives(lenet, regularised.images, targets) > before + 0.04).all()  # a random net's
    # logits favour pixel noise, which blur and jitter suppress: the class gains least
    assert torch.equal(plain.trace[0], before)  # step 0 sees the starting noise itself
    assert (regularised.trace[-5:].mean(0) > regularised.trace[:5].mean(0)).all()
    assert [target_name(t) for t in targets] == ["features.conv2[3]", "features.conv1[0]", "class 7"]


def test_value_range_is_respected(lenet):
    result = ascend(lenet, [2], (1, 28, 28), steps=10, lr=0.5, value_range=(-0.2, 0.3))
    assert result.images.min() >= -0.2 and result.images.max() <= 0.3


def test_grad_cam_shapes_and_cleanup():
    torch.manual_seed(0)
    model = create_model("resnet8").train()
    x = torch.randn(3, 3, 32, 32)
    cams = grad_cam(model, x, "layer3")
    assert cams.shape == (3, 32, 32) and cams.dtype == torch.float32
    assert cams.min() >= 0 and cams.max() <= 1
    assert grad_cam(model, x, "layer2", targets=[0, 1, 2]).shape == (3, 32, 32)
    assert model.training and all(p.grad is None for p in model.parameters())


def test_saliency_of_a_linear_model_is_its_weights():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 2 * 2, 4))
    x = torch.randn(2, 3, 2, 2)
    w = model[1].weight.detach().view(4, 3, 2, 2)
    sal = saliency(model, x, targets=[1, 3])
    assert torch.allclose(sal[0], w[1].abs().amax(0)) and torch.allclose(sal[1], w[3].abs().amax(0))
    predicted = model(x).argmax(1)
    assert torch.allclose(saliency(model, x), torch.stack([w[int(t)].abs().amax(0) for t in predicted]))
