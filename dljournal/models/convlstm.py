"""ConvLSTM (Shi et al., NeurIPS 2015), written from scratch, and two next-frame predictors.

An LSTM whose input-to-state and state-to-state maps are convolutions, so the hidden and cell
states are feature maps: memory keeps *where* things are, which a flattened LSTM cannot.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (B, C_hidden, H, W)


class ConvLSTMCell(nn.Module):
    """One step: ``(x_t, (h, c)) -> (h', c')`` with ``same`` padding, so H and W are kept.

    The gates use one convolution over ``[x, h]`` (equal to separate input and hidden
    convolutions with the same kernel, but one kernel launch). Gate order i, f, g, o as in
    ``nn.LSTMCell``. Without Shi et al.'s peephole terms (c feeding the gates), and therefore equal
    to ``nn.LSTMCell``, which has none (with 1×1 kernels on 1×1 maps: tested).
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3, bias: bool = True):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd to keep the spatial size, got {kernel_size}")
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.conv = nn.Conv2d(
            in_channels + hidden_channels, 4 * hidden_channels, kernel_size, padding=kernel_size // 2, bias=bias
        )

    def init_state(self, x: torch.Tensor) -> State:
        b, _, h, w = x.shape
        zeros = x.new_zeros(b, self.hidden_channels, h, w)
        return zeros, zeros

    def forward(self, x: torch.Tensor, state: State | None = None) -> State:
        h, c = state if state is not None else self.init_state(x)
        gates = self.conv(torch.cat([x, h], dim=1))  # (B, C_in + C_h, H, W) -> (B, 4 C_h, H, W)
        i, f, g, o = gates.chunk(4, dim=1)  # each (B, C_h, H, W)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class ConvLSTM(nn.Module):
    """Stacked ConvLSTM cells over a batch-first sequence ``(B, T, C, H, W)``.

    ``hidden_channels`` and ``kernel_size`` give one value per layer (an int: one layer, or the
    same kernel for every layer). ``forward`` returns every layer's output sequence
    (``(B, T, C_l, H, W)`` each) and every layer's last ``(h, c)``.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int | Sequence[int],
        kernel_size: int | Sequence[int] = 3,
        bias: bool = True,
    ):
        super().__init__()
        hidden = [hidden_channels] if isinstance(hidden_channels, int) else list(hidden_channels)
        kernels = [kernel_size] * len(hidden) if isinstance(kernel_size, int) else list(kernel_size)
        if len(kernels) != len(hidden):
            raise ValueError(f"{len(hidden)} layers but {len(kernels)} kernel sizes")
        ins = [in_channels, *hidden[:-1]]
        self.cells = nn.ModuleList(ConvLSTMCell(i, h, k, bias) for i, h, k in zip(ins, hidden, kernels))
        self.hidden_channels = tuple(hidden)

    def forward(self, x: torch.Tensor, state: Sequence[State] | None = None) -> tuple[list[torch.Tensor], list[State]]:
        outputs, last = [], []
        for layer, cell in enumerate(self.cells):
            s = state[layer] if state is not None else None
            steps = []
            for t in range(x.shape[1]):
                s = cell(x[:, t], s)  # (B, C, H, W) -> h, c: (B, C_l, H, W)
                steps.append(s[0])
            x = torch.stack(steps, dim=1)  # (B, T, C_l, H, W): the next layer's input
            outputs.append(x)
            last.append(s)
        return outputs, last


# ---- next-frame prediction (EXP10) ----------------------------------------------------------------
def frame_encoder(width: int) -> nn.Sequential:
    """(N, 1, H, W) -> (N, 2w, H/4, W/4): two strided convolutions."""
    return nn.Sequential(
        nn.Conv2d(1, width, 3, stride=2, padding=1),
        nn.ReLU(inplace=True),  # -> (N, w, H/2, W/2)
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
        nn.ReLU(inplace=True),  # -> (N, 2w, H/4, W/4)
    )


def frame_decoder(width: int, in_channels: int) -> nn.Sequential:
    """(N, C, H/4, W/4) -> (N, 1, H, W): two transposed convolutions.

    The output is linear: under a squared error a sigmoid saturates on the black background
    (most pixels) and training stalls at predicting empty frames.
    """
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, width, 4, stride=2, padding=1),
        nn.ReLU(inplace=True),  # -> (N, w, H/2, W/2)
        nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # -> (N, 1, H, W)
    )


class ConvLSTMPredictor(nn.Module):
    """Frames 0..T-1 -> predictions of frames 1..T: encoder, ConvLSTM on the feature maps, decoder.

    Input and output ``(B, T, 1, H, W)`` (H, W divisible by 4); output ``t`` predicts frame ``t+1``.
    """

    def __init__(self, width: int = 16, hidden: Sequence[int] = (32,), kernel_size: int = 3):
        super().__init__()
        self.encoder = frame_encoder(width)
        self.rnn = ConvLSTM(2 * width, hidden, kernel_size)
        self.decoder = frame_decoder(width, hidden[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        z = self.encoder(x.flatten(0, 1))  # (B T, 1, H, W) -> (B T, 2w, H/4, W/4)
        outputs, _ = self.rnn(z.unflatten(0, (b, t)))  # last layer: (B, T, C, H/4, W/4)
        y = self.decoder(outputs[-1].flatten(0, 1))  # -> (B T, 1, H, W)
        return y.unflatten(0, (b, t))  # -> (B, T, 1, H, W)


class FrameCNN(nn.Module):
    """The same encoder and decoder with convolutions in place of the ConvLSTM: each prediction
    sees one frame only, so it cannot know which way a digit moves."""

    def __init__(self, width: int = 16, hidden: Sequence[int] = (32,), kernel_size: int = 3):
        super().__init__()
        layers, c = [], 2 * width
        for h in hidden:
            layers += [nn.Conv2d(c, h, kernel_size, padding=kernel_size // 2), nn.ReLU(inplace=True)]
            c = h
        self.encoder = frame_encoder(width)
        self.middle = nn.Sequential(*layers)  # (N, 2w, H/4, W/4) -> (N, C, H/4, W/4)
        self.decoder = frame_decoder(width, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.decoder(self.middle(self.encoder(x.flatten(0, 1))))  # (B T, 1, H, W)
        return y.unflatten(0, x.shape[:2])  # -> (B, T, 1, H, W)
