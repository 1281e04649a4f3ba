"""Callbacks for ``fit`` that compute: gradient norms, weight snapshots, the best epoch.

Callbacks that only watch (progress, TensorBoard) live in ``dljournal.observe``, outside the cache key."""

from __future__ import annotations

import torch

from ..data.tensors import SelectionOnTest
from .loop import Callback, FitState


class GradNorm(Callback):
    """Logs the total L2 gradient norm (and per parameter, with ``per_param``) every ``every`` steps.

    Series land in ``history.steps``: ``step``, ``grad_norm``, ``loss`` and ``grad_norm/<name>``.
    """

    def __init__(self, every: int = 1, per_param: bool = False):
        self.every, self.per_param = every, per_param

    def on_after_backward(self, state: FitState) -> None:
        if state.step % self.every:
            return
        norms = {n: p.grad.detach().norm() for n, p in state.model.named_parameters() if p.grad is not None}
        total = torch.stack(list(norms.values())).square().sum().sqrt()
        values = {"step": state.step, "grad_norm": total.item(), "loss": state.loss.item()}
        if self.per_param:
            values.update({f"grad_norm/{n}": v.item() for n, v in norms.items()})
        state.history.log_step(values)


class WeightSnapshots(Callback):
    """Keeps flattened weights (all parameters, or those whose name starts with ``layer``) before
    training and after every ``every``-th epoch, with that epoch's logs: an optimisation trajectory.

    ``snapshots`` is a (snapshots, parameters) float32 array; ``epochs`` and ``logs`` align with it.
    """

    def __init__(self, every: int = 1, layer: str | None = None):
        self.every, self.layer = every, layer
        self._weights: list = []
        self.epochs: list[int] = []
        self.logs: list[dict] = []

    def _take(self, state: FitState) -> None:
        params = [
            p.detach().flatten()
            for n, p in state.model.named_parameters()
            if self.layer is None or n.startswith(self.layer)
        ]
        if not params:
            raise ValueError(f"no parameter name starts with {self.layer!r}")
        self._weights.append(torch.cat(params).float().cpu().numpy())
        self.epochs.append(state.epoch)
        self.logs.append(dict(state.logs))

    def on_fit_start(self, state: FitState) -> None:
        self._take(state)

    def on_epoch_end(self, state: FitState) -> None:
        if state.epoch % self.every == 0 or state.epoch == state.cfg.epochs:
            self._take(state)

    @property
    def snapshots(self):
        import numpy as np

        return np.stack(self._weights)


class KeepBest(Callback):
    """Keeps the weights of the epoch with the best ``monitor`` (a validation metric), so a run can
    be evaluated once, on the test split, at the epoch chosen on validation data.

    Only validation metrics can be monitored: ``fit`` refuses the test split as its validation
    split, and a watched test split's ``test_*`` series is refused here.
    """

    def __init__(self, monitor: str = "val_acc", mode: str = "max"):
        if not monitor.startswith("val_"):
            raise SelectionOnTest(
                f"KeepBest selects on {monitor!r}; it can only select on a validation metric (val_acc, val_loss, ...)"
            )
        self.monitor, self.sign = monitor, (1.0 if mode == "max" else -1.0)
        self.best, self.epoch, self.state = float("-inf"), 0, None

    @property
    def value(self) -> float:
        return self.sign * self.best

    def on_epoch_end(self, state: FitState) -> None:
        score = self.sign * state.logs[self.monitor]
        if score > self.best:
            self.best, self.epoch = score, state.epoch
            self.state = {k: v.detach().to("cpu", copy=True) for k, v in state.model.state_dict().items()}

    def restore(self, model: torch.nn.Module) -> torch.nn.Module:
        """Load the best epoch's weights into ``model`` (the one that was trained)."""
        model.load_state_dict(self.state)
        return model
