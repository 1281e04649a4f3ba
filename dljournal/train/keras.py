"""Keras 3 on the torch backend: LeNet-5, VGG-16 and ResNet-8 as in ``dljournal.models.classic``,
and ``keras_fit``, which trains through ``model.fit`` and returns the engine's ``History``, so a
report compares the two frameworks with the same tables and plots.

The backend is chosen here, before Keras is imported, never by the user. Keras puts every tensor
on the GPU when torch sees one. Keras's own TensorBoard callback needs TensorFlow, so
``KerasTensorBoard`` writes events through torch's ``SummaryWriter`` instead.

What differs from the PyTorch twins, by design: layouts are channels-last (NHWC), so a flattened
feature map is ordered differently (same parameter count); Keras initialises kernels Glorot-uniform
(torch: Kaiming-uniform); Keras applies weight decay decoupled from the gradient for every
optimiser (torch does so for AdamW only; for Adam and SGD it adds L2 to the gradient).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..core.project import ProjectError


def _select_torch_backend() -> None:
    loaded = sys.modules.get("keras")
    if loaded is None:
        os.environ["KERAS_BACKEND"] = "torch"
    elif loaded.config.backend() != "torch":
        raise ProjectError(
            f"keras was imported with the {loaded.config.backend()!r} backend before "
            "dljournal.train.keras; import dljournal.train.keras first (it selects 'torch')"
        )


_select_torch_backend()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from keras import layers  # noqa: E402

from ..data.tensors import Split  # noqa: E402
from ..models.classic import VGG16_BLOCKS, vgg_width  # noqa: E402
from ..observe.keras import KerasTensorBoard  # noqa: E402
from . import History, TrainConfig  # noqa: E402
from .config import lr_factor  # noqa: E402
from .run import Run  # noqa: E402

# torch's BatchNorm2d defaults (running average 0.9 old + 0.1 new, eps 1e-5), not Keras's (0.99, 1e-3)
BN = dict(momentum=0.9, epsilon=1e-5)


def keras_lenet5(in_channels: int = 1, num_classes: int = 10) -> keras.Model:
    """LeNet-5 for 28×28 inputs, layer for layer as ``classic.LeNet5`` (61,706 parameters)."""
    x = inputs = keras.Input((28, 28, in_channels))
    x = layers.Conv2D(6, 5, padding="same", activation="relu", name="conv1")(x)  # (B, 28, 28, 6)
    x = layers.MaxPooling2D(2, name="pool1")(x)  # (B, 14, 14, 6)
    x = layers.Conv2D(16, 5, activation="relu", name="conv2")(x)  # (B, 10, 10, 16)
    x = layers.MaxPooling2D(2, name="pool2")(x)  # (B, 5, 5, 16)
    x = layers.Flatten()(x)  # (B, 400)
    x = layers.Dense(120, activation="relu", name="fc1")(x)
    x = layers.Dense(84, activation="relu", name="fc2")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="fc3")(x), name="lenet5")


def keras_vgg16(num_classes: int = 100, dropout: float = 0.5, width: float = 1.0) -> keras.Model:
    """VGG-16 with batch norm for 32×32 inputs, as ``classic.VGG16`` (13 conv + 3 dense layers)."""
    x = inputs = keras.Input((32, 32, 3))
    for block, c_out, n_convs in VGG16_BLOCKS:
        c_out = vgg_width(c_out, width)
        for i in range(1, n_convs + 1):
            x = layers.Conv2D(c_out, 3, padding="same", use_bias=False, name=f"conv{block}_{i}")(x)
            x = layers.BatchNormalization(**BN, name=f"bn{block}_{i}")(x)
            x = layers.ReLU(name=f"relu{block}_{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)  # block 5: (B, 1, 1, 512)
    x = layers.Flatten()(x)  # (B, 512)
    for name in ("fc6", "fc7"):
        x = layers.Dense(vgg_width(512, width), activation="relu", name=name)(x)
        x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="fc8")(x), name="vgg16")


def _basic_block(x, c_out: int, stride: int, name: str):
    """Two 3×3 conv-BN layers and a shortcut (1×1 conv-BN projection where the shape changes)."""
    shortcut = x
    x = layers.Conv2D(c_out, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    x = layers.ReLU()(layers.BatchNormalization(**BN, name=f"{name}_bn1")(x))
    x = layers.Conv2D(c_out, 3, padding="same", use_bias=False, name=f"{name}_conv2")(x)
    x = layers.BatchNormalization(**BN, name=f"{name}_bn2")(x)
    if stride != 1 or shortcut.shape[-1] != c_out:
        shortcut = layers.Conv2D(c_out, 1, strides=stride, use_bias=False, name=f"{name}_proj")(shortcut)
        shortcut = layers.BatchNormalization(**BN, name=f"{name}_proj_bn")(shortcut)
    return layers.ReLU()(layers.Add()([x, shortcut]))


def keras_resnet8(num_classes: int = 10, widths: tuple[int, int, int] = (16, 32, 64)) -> keras.Model:
    """ResNet-8 for 32×32 inputs, as ``classic.ResNet8`` (stem + 3 basic blocks + classifier)."""
    w1, w2, w3 = widths
    x = inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(w1, 3, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.ReLU()(layers.BatchNormalization(**BN, name="stem_bn")(x))  # (B, 32, 32, 16)
    x = _basic_block(x, w1, 1, "layer1")  # (B, 32, 32, 16)
    x = _basic_block(x, w2, 2, "layer2")  # (B, 16, 16, 32)
    x = _basic_block(x, w3, 2, "layer3")  # (B, 8, 8, 64)
    x = layers.GlobalAveragePooling2D()(x)  # (B, 64)
    return keras.Model(inputs, layers.Dense(num_classes, name="fc")(x), name="resnet8")


KERAS_MODELS = {"lenet5": keras_lenet5, "vgg16": keras_vgg16, "resnet8": keras_resnet8}


def create_keras_model(name: str, **kwargs) -> keras.Model:
    if name not in KERAS_MODELS:
        raise ProjectError(f"no Keras model {name!r} (known: {', '.join(KERAS_MODELS)})")
    return KERAS_MODELS[name](**kwargs)


def keras_count_params(model: keras.Model) -> int:
    """Trainable parameters, as ``dljournal.train.count_params`` counts them for torch (BN moving
    statistics are buffers there and non-trainable weights here: not counted)."""
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def to_nhwc(x: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) torch tensor -> (N, H, W, C) numpy array, the layout Keras convolutions expect."""
    return x.detach().permute(0, 2, 3, 1).contiguous().cpu().numpy() if x.dim() == 4 else x.detach().cpu().numpy()


def _optimizer(cfg: TrainConfig) -> keras.optimizers.Optimizer:
    common = dict(learning_rate=cfg.lr, global_clipnorm=cfg.grad_clip or None, weight_decay=cfg.weight_decay or None)
    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(epsilon=1e-8, **common)  # torch's epsilon (Keras: 1e-7)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(epsilon=1e-8, **{**common, "weight_decay": cfg.weight_decay})
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(momentum=cfg.momentum, nesterov=cfg.momentum > 0, **common)
    raise ProjectError(f"unknown optimizer {cfg.optimizer!r} (adam, adamw, sgd)")


class _StepSchedule(keras.callbacks.Callback):
    """The engine's per-step schedule (warm-up, cosine/linear decay): lr = cfg.lr · factor(step)."""

    def __init__(self, cfg: TrainConfig, steps_per_epoch: int):
        super().__init__()
        self.peak, self.factor, self.step = cfg.lr, lr_factor(cfg, steps_per_epoch), 0

    @property
    def lr(self) -> float:
        return self.peak * self.factor(self.step)

    def on_train_begin(self, logs=None) -> None:
        self.model.optimizer.learning_rate = self.lr

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        # set the next step's rate now, as LambdaLR does: at an epoch's end the optimiser holds it
        self.step += 1
        self.model.optimizer.learning_rate = self.lr


class _Recorder(keras.callbacks.Callback):
    """Keras logs -> the engine's per-epoch series; ``seconds`` is the training time alone."""

    def __init__(self, schedule: _StepSchedule, cuda: bool):
        super().__init__()
        self.history, self.schedule, self.cuda = History(), schedule, cuda

    def _now(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.t0, self.t_train = self._now(), None

    def on_test_begin(self, logs=None) -> None:  # validation starts: training of the epoch is done
        if self.t_train is None:
            self.t_train = self._now()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        seconds = (self.t_train or self._now()) - self.t0
        values = {"epoch": epoch + 1, "train_loss": logs["loss"]}
        for key, name in (("acc", "train_acc"), ("val_loss", "val_loss"), ("val_acc", "val_acc")):
            if key in logs:
                values[name] = logs[key]
        self.history.log_epoch({**values, "lr": self.schedule.lr, "seconds": seconds})


def keras_fit(
    model: keras.Model, train: Split, val: Split | None, cfg: TrainConfig, log_dir: Path | None = None
) -> History:
    """Train a Keras ``model`` with ``model.fit`` on the engine's data and recipe ``cfg``.

    ``train``/``val`` hold NCHW float tensors (as for ``fit``); they go to Keras as NHWC arrays.
    The schedule (warm-up, cosine/linear decay) is applied per step, as in ``fit``; shuffling
    follows torch's global generator (seeded by the runner). Returns per-epoch ``train_loss``,
    ``train_acc``, ``val_loss``, ``val_acc``, ``lr`` and ``seconds`` (training time alone);
    with ``log_dir``, TensorBoard events (``KerasTensorBoard``) go there.
    """
    if cfg.l1:
        raise ProjectError("keras_fit does not implement the L1 penalty (cfg.l1); use fit for it")
    x, y = to_nhwc(train.x), train.y.detach().cpu().numpy()
    val_data = (to_nhwc(val.x), val.y.detach().cpu().numpy()) if val is not None else None
    metrics = []
    if cfg.loss == "cross_entropy":
        if cfg.label_smoothing:  # only the one-hot loss smooths labels
            k = model.output_shape[-1]
            y = np.eye(k, dtype="float32")[y]
            val_data = (val_data[0], np.eye(k, dtype="float32")[val_data[1]]) if val_data else None
            loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=cfg.label_smoothing)
            metrics = [keras.metrics.CategoricalAccuracy(name="acc")]
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="acc")]
    elif cfg.loss == "mse":
        loss = keras.losses.MeanSquaredError()
    else:
        raise ProjectError(f"unknown loss {cfg.loss!r} (cross_entropy, mse)")
    model.compile(optimizer=_optimizer(cfg), loss=loss, metrics=metrics, jit_compile=False)

    steps = train.num_batches(cfg.batch_size)
    schedule = _StepSchedule(cfg, min(steps, cfg.max_steps) if cfg.max_steps else steps)
    recorder = _Recorder(schedule, torch.cuda.is_available())
    callbacks = [schedule, recorder]
    if log_dir is not None:
        callbacks.append(KerasTensorBoard(log_dir, images=train.x[:16]))
    model.fit(
        x,
        y,
        batch_size=cfg.batch_size,
        epochs=cfg.epochs,
        validation_data=val_data,
        validation_batch_size=cfg.eval_batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
        steps_per_epoch=cfg.max_steps or None,
    )
    return recorder.history


def keras_train(
    ctx, build: Callable[[], keras.Model], data: tuple[Split, Split | None], test: Split, cfg: TrainConfig, name: str
) -> Run:
    """The Keras twin of ``ctx.train``: seeded build, ``keras_fit`` with TensorBoard events under
    the experiment's folder, then one evaluation on ``test``; returns the engine's ``Run``."""
    from .loop import score

    keras.utils.set_random_seed(ctx.seed)
    model = build()
    history = keras_fit(model, data[0], data[1], cfg, log_dir=ctx.tensorboard_dir(name))
    outputs = torch.from_numpy(
        np.asarray(model.predict(to_nhwc(test.x), batch_size=cfg.eval_batch_size, verbose=0))
    ).float()
    return Run(name, history, score(outputs, test.y.cpu(), cfg), keras_count_params(model), outputs)
