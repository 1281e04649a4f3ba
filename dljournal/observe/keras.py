"""TensorBoard events for Keras's ``model.fit`` without TensorFlow (Keras's own callback needs it):
an observer, outside the cache key like ``dljournal.observe``. Import ``dljournal.train.keras``
first: it selects the torch backend."""

from __future__ import annotations

from pathlib import Path

import keras
import torch


class KerasTensorBoard(keras.callbacks.Callback):
    """TensorBoard events for ``model.fit`` without TensorFlow: per epoch the scalars under the
    engine's tags (``loss/train``, ``loss/val``, ``acc/train``, ``acc/val``, ``lr``), histograms of
    every trainable weight (``weights/<path>``) and of its gradient on the epoch's last training
    batch (``gradients/<path>``: the torch backend leaves ``.grad`` on each weight until the next
    step zeroes it), and once, sample input images (``inputs``, each scaled to [0, 1])."""

    def __init__(self, log_dir: Path | str, images: torch.Tensor | None = None):
        super().__init__()
        self.log_dir, self.images, self.writer = Path(log_dir), images, None

    def on_train_begin(self, logs=None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.writer = SummaryWriter(str(self.log_dir))
        if self.images is not None:
            x = self.images.detach().float().cpu()  # (N, C, H, W)
            lo, hi = x.amin((1, 2, 3), keepdim=True), x.amax((1, 2, 3), keepdim=True)
            self.writer.add_images("inputs", (x - lo) / (hi - lo).clamp_min(1e-12), 0)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        step, w = epoch + 1, self.writer
        logs = logs or {}
        for key, tag in (
            ("loss", "loss/train"),
            ("val_loss", "loss/val"),
            ("acc", "acc/train"),
            ("val_acc", "acc/val"),
        ):
            if key in logs:
                w.add_scalar(tag, logs[key], step)
        lr = self.model.optimizer.learning_rate  # a Keras variable; .value is its torch tensor
        w.add_scalar("lr", float(getattr(lr, "value", lr)), step)
        for v in self.model.trainable_weights:
            w.add_histogram(f"weights/{v.path}", v.value.detach().float().cpu(), step)
            if v.value.grad is not None:
                w.add_histogram(f"gradients/{v.path}", v.value.grad.detach().float().cpu(), step)
        w.flush()

    def on_train_end(self, logs=None) -> None:
        if self.writer is not None:
            self.writer.close()
