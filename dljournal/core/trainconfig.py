"""The training recipe as one frozen dataclass; experiment configs extend it. Free of torch, so that
the report can list its defaults without importing it (the rest lives in ``dljournal.train.config``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3  # peak learning rate (after warm-up)
    optimizer: str = "adam"  # adam | adamw | sgd (SGD uses Nesterov momentum)
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"  # constant | cosine | linear (to zero) | step (×0.1 at 50 % and 75 %)
    warmup_epochs: float = 0.0
    loss: str = "cross_entropy"  # cross_entropy (classification) | mse (regression)
    label_smoothing: float = 0.0
    grad_clip: float = 0.0  # max total gradient norm; 0 = off
    l1: float = 0.0  # weight of the L1 penalty λ·Σ|w| on weight tensors (not biases or norms)
    max_seconds: float = 0.0  # stop after the epoch in which training time passes this; 0 = off
    max_steps: int = 0  # optimisation steps per epoch at most; 0 = every batch (a dry run sets 1)
    eval_batch_size: int = 1000
    channels_last: bool = True  # for 4-D inputs; measurably faster for convs on CPU and GPU
    amp: bool = True  # mixed precision where the device has it natively: CUDA (bf16, else fp16), bf16 CPUs

    @property
    def classification(self) -> bool:
        return self.loss == "cross_entropy"
