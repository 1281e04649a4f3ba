"""Classic CNN architectures: LeNet-5, VGG-16 (with batch norm) and ResNet-8.

Layers carry their papers' names (``conv1``, ``conv3_2``, ``layer2``...) so that activation
captures, Grad-CAM and filter visualisations can name them. ReLUs are not in-place: forward hooks
then see each layer's own output, not one a later ReLU has overwritten.
``dljournal.train.keras`` builds the same three networks in Keras with identical parameter counts.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from . import register_model

# (block, output channels, convolutions): the 13 convolutions of VGG-16 in 5 blocks
VGG16_BLOCKS = ((1, 64, 2), (2, 128, 2), (3, 256, 3), (4, 512, 3), (5, 512, 3))


def vgg_width(channels: int, width: float) -> int:
    """Channels of a VGG layer at a width multiplier (the same 16 layers, thinner: for CPU budgets)."""
    return max(4, round(channels * width))


class LeNet5(nn.Module):
    """LeCun et al. (1998) for 28×28 digits: conv(6@5×5) - pool - conv(16@5×5) - pool - 120 - 84 - 10.

    The first convolution pads by 2, which is the paper's 32×32 input for MNIST's 28×28 images.
    Modernised as is usual now: ReLU and max pooling instead of scaled tanh and trainable
    subsampling, and a linear output instead of RBF units (61,706 parameters).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(in_channels, 6, 5, padding=2),  # (B, 1, 28, 28) -> (B, 6, 28, 28)
                relu1=nn.ReLU(),
                pool1=nn.MaxPool2d(2),  # -> (B, 6, 14, 14)
                conv2=nn.Conv2d(6, 16, 5),  # -> (B, 16, 10, 10)
                relu2=nn.ReLU(),
                pool2=nn.MaxPool2d(2),  # -> (B, 16, 5, 5)
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                fc1=nn.Linear(16 * 5 * 5, 120),
                relu3=nn.ReLU(),  # flatten -> (B, 400) -> (B, 120)
                fc2=nn.Linear(120, 84),
                relu4=nn.ReLU(),  # -> (B, 84)
                fc3=nn.Linear(84, num_classes),  # -> (B, 10)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class VGG16(nn.Module):
    """Simonyan & Zisserman (2015), configuration D: 13 3×3 convolutions in five blocks, each block
    closed by 2×2 max pooling, then 3 fully connected layers (16 weight layers).

    With batch norm after every convolution (the "VGG-16-BN" variant: without it, 16 layers train
    from scratch only with careful initialisation); the convolutions then carry no bias. For 32×32
    inputs the five poolings leave 1×1×512, so the classifier is 512-512-512-classes instead of
    the ImageNet 25088-4096-4096-1000 (15.3 M parameters for 100 classes).
    """

    def __init__(self, num_classes: int = 100, in_channels: int = 3, dropout: float = 0.5, width: float = 1.0):
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c_in = in_channels
        for block, c_out, n_convs in VGG16_BLOCKS:
            c_out = vgg_width(c_out, width)
            for i in range(1, n_convs + 1):
                layers[f"conv{block}_{i}"] = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
                layers[f"bn{block}_{i}"] = nn.BatchNorm2d(c_out)
                layers[f"relu{block}_{i}"] = nn.ReLU()
                c_in = c_out
            layers[f"pool{block}"] = nn.MaxPool2d(2)
        # (B, 3, 32, 32) -> block1 (B, 64, 16, 16) -> block2 (B, 128, 8, 8) -> block3 (B, 256, 4, 4)
        #   -> block4 (B, 512, 2, 2) -> block5 (B, 512, 1, 1)
        self.features = nn.Sequential(layers)
        f = vgg_width(512, width)
        self.classifier = nn.Sequential(
            OrderedDict(
                fc6=nn.Linear(c_in, f),
                relu6=nn.ReLU(),
                drop6=nn.Dropout(dropout),  # flatten -> (B, 512·width)
                fc7=nn.Linear(f, f),
                relu7=nn.ReLU(),
                drop7=nn.Dropout(dropout),
                fc8=nn.Linear(f, num_classes),  # -> (B, classes)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers and a shortcut; a 1×1 conv-BN projection where the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (B, c_in, H, W) -> (B, c_out, H/s, W/s)
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet8(nn.Module):
    """The CIFAR ResNet of He et al. (2016) with one basic block per stage (n = 1 in 6n + 2):
    8 weight layers = the stem conv + 3 blocks × 2 convs + the classifier; the two 1×1 projection
    shortcuts are not counted, as in the paper. Widths 16-32-64 (78,042 parameters).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, widths: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        w1, w2, w3 = widths
        self.stem = nn.Sequential(
            OrderedDict(
                conv=nn.Conv2d(in_channels, w1, 3, padding=1, bias=False), bn=nn.BatchNorm2d(w1), relu=nn.ReLU()
            )
        )
        self.layer1 = BasicBlock(w1, w1)  # (B, 16, 32, 32)
        self.layer2 = BasicBlock(w1, w2, stride=2)  # -> (B, 32, 16, 16)
        self.layer3 = BasicBlock(w2, w3, stride=2)  # -> (B, 64, 8, 8)
        self.pool = nn.AdaptiveAvgPool2d(1)  # -> (B, 64, 1, 1)
        self.fc = nn.Linear(w3, num_classes)  # flatten -> (B, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(self.pool(x).flatten(1))


@register_model(input_shape=(1, 28, 28), output_dim=10)
def lenet5(in_channels: int = 1, num_classes: int = 10) -> LeNet5:
    return LeNet5(in_channels, num_classes)


@register_model(input_shape=(3, 32, 32), output_dim=100)
def vgg16(num_classes: int = 100, dropout: float = 0.5, width: float = 1.0) -> VGG16:
    return VGG16(num_classes, dropout=dropout, width=width)


@register_model(input_shape=(3, 32, 32), output_dim=10)
def resnet8(num_classes: int = 10, widths: tuple[int, int, int] = (16, 32, 64)) -> ResNet8:
    return ResNet8(num_classes, widths=widths)
