"""LeNet-5, VGG-16 and ResNet-8: output shapes, layer counts, parameter counts in closed form."""

import pytest
import torch
from torch import nn

from dljournal.models import create_model, model_entry
from dljournal.models.classic import VGG16_BLOCKS
from dljournal.train import count_layers, count_params


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def conv_bn(c_in: int, c_out: int, k: int = 3) -> int:
    return c_in * c_out * k * k + 2 * c_out  # no conv bias; BN scale and shift


@pytest.mark.parametrize(
    "name, shape, classes", [("lenet5", (1, 28, 28), 10), ("vgg16", (3, 32, 32), 100), ("resnet8", (3, 32, 32), 10)]
)
def test_registered_shapes(name, shape, classes):
    entry = model_entry(name)
    assert entry.input_shape == shape and entry.output_dim == classes
    model = create_model(name).eval()
    with torch.no_grad():
        assert model(torch.randn(2, *shape)).shape == (2, classes)


def test_vgg16_has_13_convolutions_and_3_dense_layers_and_any_number_of_classes():
    model = create_model("vgg16", num_classes=37)
    assert count_layers(model, nn.Conv2d) == count_layers(model, nn.BatchNorm2d) == 13
    assert count_layers(model, nn.Linear) == 3
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 37)
    features = model.features(torch.randn(2, 3, 32, 32))
    assert features.shape == (2, 512, 1, 1)  # five poolings: 32 -> 1


def test_resnet8_has_8_weight_layers_on_its_main_path():
    model = create_model("resnet8")
    projections = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)]
    assert projections == ["layer2.shortcut.0", "layer3.shortcut.0"]
    assert count_layers(model, nn.Conv2d) - len(projections) + count_layers(model, nn.Linear) == 8


def test_parameter_counts_in_closed_form():
    assert (
        count_params(create_model("lenet5"))
        == (6 * 25 + 6 + 16 * 6 * 25 + 16 + linear(400, 120) + linear(120, 84) + linear(84, 10))
        == 61706
    )

    convs, c_in = 0, 3
    for _, c_out, n in VGG16_BLOCKS:
        for _ in range(n):
            convs, c_in = convs + conv_bn(c_in, c_out), c_out
    assert count_params(create_model("vgg16")) == convs + 2 * linear(512, 512) + linear(512, 100)

    stem = conv_bn(3, 16)
    block1 = 2 * conv_bn(16, 16)
    block2 = conv_bn(16, 32) + conv_bn(32, 32) + conv_bn(16, 32, 1)
    block3 = conv_bn(32, 64) + conv_bn(64, 64) + conv_bn(32, 64, 1)
    assert count_params(create_model("resnet8")) == stem + block1 + block2 + block3 + linear(64, 10) == 78042


def test_layers_are_named_for_hooks():
    names = dict(create_model("vgg16").named_modules())
    assert {"features.conv1_1", "features.conv5_3", "features.pool5", "classifier.fc8"} <= set(names)
    assert {"features.conv1", "features.conv2", "classifier.fc3"} <= set(dict(create_model("lenet5").named_modules()))
