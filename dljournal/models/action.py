"""Action recognition on video clips: convolutional encoder -> recurrent module -> classifier.

Three recurrent modules share the encoder's convolutions. ``nn.LSTMCell`` and ``nn.GRUCell`` need
vectors, so their encoder ends with flatten + linear and their classifier is a linear layer on the
last hidden state. The ConvLSTM takes the encoder's feature maps as they are, and its classifier is
a convolution, global average pooling and a linear layer on the last hidden map.
"""

from __future__ import annotations

import torch
from torch import nn

from . import register_model
from .convlstm import ConvLSTM

RECURRENT = ("lstm", "gru", "convlstm")


def conv_encoder(width: int) -> nn.Sequential:
    """(N, 1, S, S) -> (N, 2w, S/8, S/8): three conv-BN-ReLU-pool stages."""

    def stage(c_in: int, c_out: int) -> list[nn.Module]:
        return [
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        ]

    return nn.Sequential(
        *stage(1, width),  # -> (N, w, S/2, S/2)
        *stage(width, 2 * width),  # -> (N, 2w, S/4, S/4)
        *stage(2 * width, 2 * width),
    )  # -> (N, 2w, S/8, S/8)


class ActionRecognizer(nn.Module):
    """Clips ``(B, T, 1, S, S)`` (S divisible by 8) -> class logits ``(B, num_classes)``.

    ``recurrent``: "lstm" or "gru" (cells unrolled over time on ``features``-dimensional frame
    vectors, ``hidden`` units) or "convlstm" (``hidden`` channels on the S/8 × S/8 feature maps).
    The clip is classified from the last time step's hidden state.
    """

    def __init__(
        self,
        recurrent: str = "convlstm",
        num_classes: int = 6,
        frame_size: int = 64,
        width: int = 16,
        hidden: int = 128,
        features: int = 256,
        dropout: float = 0.2,
    ):
        super().__init__()
        if recurrent not in RECURRENT:
            raise ValueError(f"unknown recurrent module {recurrent!r} (choose from {', '.join(RECURRENT)})")
        if frame_size % 8:
            raise ValueError(f"frame_size must be divisible by 8, got {frame_size}")
        self.recurrent = recurrent
        cells = {"lstm": nn.LSTMCell, "gru": nn.GRUCell}
        grid = frame_size // 8
        if recurrent == "convlstm":
            self.encoder = conv_encoder(width)
            self.rnn = ConvLSTM(2 * width, hidden, kernel_size=3)
            self.head = nn.Sequential(
                nn.Conv2d(hidden, hidden, 3, padding=1),
                nn.ReLU(inplace=True),  # (B, C, g, g)
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),  # -> (B, C)
                nn.Dropout(dropout),
                nn.Linear(hidden, num_classes),
            )  # -> (B, K)
        else:
            self.encoder = nn.Sequential(
                conv_encoder(width),
                nn.Flatten(),  # -> (N, 2w g g)
                nn.Linear(2 * width * grid * grid, features),
                nn.ReLU(inplace=True),
            )  # -> (N, F)
            self.rnn = cells[recurrent](features, hidden)
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, num_classes))  # (B, H) -> (B, K)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        z = self.encoder(x.flatten(0, 1)).unflatten(0, (b, t))  # (B, T, 2w, g, g) or (B, T, F)
        if self.recurrent == "convlstm":
            _, states = self.rnn(z)
            return self.head(states[-1][0])  # last h: (B, C, g, g) -> (B, K)
        state = None
        for step in range(t):
            state = self.rnn(z[:, step], state)  # LSTM: (h, c), GRU: h; each (B, H)
        h = state[0] if isinstance(state, tuple) else state
        return self.head(h)  # (B, H) -> (B, K)


CLIP = (20, 1, 64, 64)  # one sample: 20 greyscale 64×64 frames; keyword arguments: ActionRecognizer's


@register_model(input_shape=CLIP, output_dim=6)
def action_lstm(**kwargs) -> ActionRecognizer:
    return ActionRecognizer("lstm", **kwargs)


@register_model(input_shape=CLIP, output_dim=6)
def action_gru(**kwargs) -> ActionRecognizer:
    return ActionRecognizer("gru", **kwargs)


@register_model(input_shape=CLIP, output_dim=6)
def action_convlstm(hidden: int = 32, **kwargs) -> ActionRecognizer:
    return ActionRecognizer("convlstm", hidden=hidden, **kwargs)
