"""Callbacks that only watch a training: progress lines and TensorBoard events. The runner gives
them to every ``ctx.fit`` (``Context.observers``), and experiments pass ``ctx.observers(name)`` to
trainers built on ``fit`` (captioning, GANs); experiments never import them, and editing them
never makes a result stale (presentation, outside the cache key)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..train.loop import Callback, FitState


def observers(tensorboard_dir):
    """What the runner attaches to each training named ``name``: TensorBoard events under
    ``tensorboard_dir(name)`` and a progress bar."""
    return lambda name: [TensorBoard(tensorboard_dir(name)), Progress(name)]


class TensorBoard(Callback):
    """Writes every epoch's logs (and step series of other callbacks) as TensorBoard scalars,
    histograms of every weight and of its gradient (the epoch's last batch), sample inputs, and
    the images a training shows per epoch (``state.images``: a GAN's fixed noise, uint8 or [0, 1])."""

    def __init__(self, log_dir: Path | str, histograms: bool = True):
        self.log_dir, self.histograms = Path(log_dir), histograms
        self.writer = None
        self._cursor = 0

    def on_fit_start(self, state: FitState) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.writer = SummaryWriter(str(self.log_dir), flush_secs=10)  # live enough for `nox -s tensorboard`
        if state.sample is not None and state.sample.dim() == 4 and state.sample.shape[1] in (1, 3):
            x = state.sample.detach().float().cpu()
            lo, hi = x.amin(dim=(1, 2, 3), keepdim=True), x.amax(dim=(1, 2, 3), keepdim=True)
            self.writer.add_images("inputs", (x - lo) / (hi - lo).clamp_min(1e-8), 0)

    def on_epoch_end(self, state: FitState) -> None:
        for k, v in state.logs.items():
            if k != "epoch":
                self.writer.add_scalar(_tag(k), v, state.epoch)
        for tag, images in state.images.items():
            self.writer.add_images(tag, images, state.epoch)
        # histograms cost far more than scalars: about 20 per run, and the last epoch always
        every = max(1, state.cfg.epochs // 20)
        if self.histograms and (state.epoch % every == 0 or state.epoch == state.cfg.epochs):
            for name, p in state.model.named_parameters():
                self.writer.add_histogram(f"weights/{name}", p.detach().float().cpu(), state.epoch)
                if p.grad is not None:
                    self.writer.add_histogram(f"gradients/{name}", p.grad.detach().float().cpu(), state.epoch)
        steps = state.history.steps  # per-step series that other callbacks logged
        n = len(steps.get("step", []))
        for i in range(self._cursor, n):
            for k, series in steps.items():
                if k != "step" and len(series) == n:
                    self.writer.add_scalar(f"steps/{k}", series[i], int(steps["step"][i]))
        self._cursor = n

    def on_fit_end(self, state: FitState) -> None:
        if self.writer is not None:
            self.writer.close()


def _tag(key: str) -> str:
    """train_loss -> loss/train, val_acc -> acc/val: TensorBoard then overlays train and val."""
    for split in ("train", "val"):
        if key.startswith(split + "_"):
            return f"{key[len(split) + 1 :]}/{split}"
    return key


class Progress(Callback):
    """tqdm bars: epochs of the run (ETA for the run) and batches of the epoch (ETA for the epoch).

    Without a terminal it prints a line per epoch at most every ``every`` seconds, and the last.
    """

    def __init__(self, name: str, stream=None, every: float = 10.0):
        self.name, self.stream, self.every = name, stream or sys.stderr, every
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.epoch_bar = self.batch_bar = None

    def on_fit_start(self, state: FitState) -> None:
        self.t0 = self.last = time.perf_counter()
        if self.tty:
            from tqdm.auto import tqdm

            self.epoch_bar = tqdm(
                total=state.cfg.epochs,
                desc=f"  {self.name}",
                unit="ep",
                file=self.stream,
                leave=True,
                dynamic_ncols=True,
            )

    def on_epoch_start(self, state: FitState) -> None:
        if self.tty:
            from tqdm.auto import tqdm

            self.batch_bar = tqdm(
                total=state.steps_per_epoch,
                desc=f"    epoch {state.epoch}",
                unit="batch",
                file=self.stream,
                leave=False,
                dynamic_ncols=True,
                mininterval=0.5,
            )

    def on_step_end(self, state: FitState) -> None:
        if self.batch_bar is not None:
            self.batch_bar.update()

    def on_epoch_end(self, state: FitState) -> None:
        summary = _summary(state.logs)
        if self.tty:
            self.batch_bar.close()
            self.epoch_bar.set_postfix_str(summary, refresh=False)
            self.epoch_bar.update()
        elif state.epoch == state.cfg.epochs or time.perf_counter() - self.last >= self.every:
            self.last = time.perf_counter()
            eta = (self.last - self.t0) / state.epoch * (state.cfg.epochs - state.epoch)
            print(
                f"  {self.name} epoch {state.epoch}/{state.cfg.epochs} {summary} (eta {eta:.0f}s)",
                file=self.stream,
                flush=True,
            )

    def on_fit_end(self, state: FitState) -> None:
        if self.epoch_bar is not None:
            self.epoch_bar.close()


def _summary(logs: dict) -> str:
    keys = ("train_loss", "val_loss", "val_acc", "d_loss", "g_loss", "wasserstein", "fd")
    return " ".join(f"{k}={logs[k]:.4g}" for k in keys if k in logs) + f" {logs.get('seconds', 0):.1f}s"


def track(items, desc: str, stream=None, every: float = 10.0):
    """Iterate ``items`` with a progress bar (ETA) on a terminal, or a line every ``every`` s in logs."""
    stream = stream or sys.stderr
    items = list(items)
    if hasattr(stream, "isatty") and stream.isatty():
        from tqdm.auto import tqdm

        yield from tqdm(items, desc=f"  {desc}", file=stream, dynamic_ncols=True)
        return
    t0 = last = time.perf_counter()
    for i, item in enumerate(items):
        yield item
        now = time.perf_counter()
        if i + 1 == len(items) or now - last >= every:
            last = now
            eta = (now - t0) / (i + 1) * (len(items) - i - 1)
            print(f"  {desc} {i + 1}/{len(items)} (eta {eta:.0f}s)", file=stream, flush=True)
