"""What a GPU run does differently, checked without a GPU: the autocast dtype and loss scaling,
pinned host-to-device copies, channels-last inputs, cuDNN autotuning."""

import pytest
import torch
from torch import nn

from dljournal.data import Split, tensors
from dljournal.train import TrainConfig, fit, step
from dljournal.train.loop import tune_backends
from dljournal.train.step import amp_dtype

CUDA = torch.device("cuda")


@pytest.mark.parametrize("bf16, expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_autocast_dtype_is_bf16_where_supported_else_fp16(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert amp_dtype(CUDA, TrainConfig()) == expected
    assert amp_dtype(CUDA, TrainConfig(amp=False)) is None


@pytest.mark.parametrize("native", [True, False])
def test_cpu_autocasts_to_bf16_only_where_it_is_native(monkeypatch, native):
    monkeypatch.setattr(step, "cpu_has_bf16", lambda: native)
    assert amp_dtype(torch.device("cpu"), TrainConfig()) == (torch.bfloat16 if native else None)
    assert amp_dtype(torch.device("cpu"), TrainConfig(amp=False)) is None


def test_fp16_gets_a_grad_scaler_and_bf16_does_not(monkeypatch):
    from dljournal.train.step import Supervised

    made = []
    monkeypatch.setattr(torch.amp, "GradScaler", lambda device, enabled: made.append(bf16) or object())

    class State:  # what Supervised.start reads
        cfg, device, steps_per_epoch = TrainConfig(), CUDA, 10
        model, optimizer = nn.Linear(2, 2), None

    for bf16 in (True, False):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, b=bf16, **k: b)
        Supervised().start(State())
    assert made == [False]  # only fp16 is scaled


def test_host_to_gpu_copies_go_through_pinned_memory(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda self: calls.append("pin") or self)
    monkeypatch.setattr(torch.Tensor, "to", lambda self, device, non_blocking=False: calls.append(non_blocking) or self)
    Split(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long)).to("cuda")
    assert calls == ["pin", True, "pin", True]
    calls.clear()
    tensors.to_device(torch.zeros(2), "cpu")  # nothing to pin on the way to the CPU
    assert calls == [True]


def test_images_train_channels_last():
    seen = []
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(2))
    model(torch.zeros(1, 3, 8, 8))
    model.register_forward_pre_hook(
        lambda m, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last))
    )
    data = Split(torch.randn(8, 3, 8, 8), torch.randint(0, 2, (8,)))
    fit(model, (data, None), TrainConfig(epochs=1, batch_size=4), device="cpu")
    assert seen and all(seen)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_cudnn_autotunes_fixed_shapes_on_cuda_only(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    tune_backends(torch.device("cpu"))
    assert torch.backends.cudnn.benchmark is False
    tune_backends(CUDA)
    assert torch.backends.cudnn.benchmark is True
