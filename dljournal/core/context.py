"""What an experiment receives: its config, profile, device, data and a ``fit`` that logs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data import Dataset, Split, load_dataset
from ..train import Callback, History, TrainConfig, count_params, fit, predict
from ..train.loop import score
from ..train.run import Run
from .profiles import Profile
from .project import Project, ProjectError
from .registry import ExperimentSpec

# how ctx.map runs its items when not one after another here: set by core.items in its jobs
MAPPER: ContextVar[Callable[[Context, Callable, list], list] | None] = ContextVar("mapper", default=None)
# decoded datasets shared by the experiments of one process, keyed on every argument of the load
_LOADED: dict[tuple, Any] = {}
SYNTHETIC_MAX = (512, 256)  # train/test samples a synthetic stand-in has at most: smoke stays seconds
DRY_RUN_MAX = (512, 64)  # in a dry run (core.dryrun): enough batches for a WGAN generator step


@dataclass
class Context:
    spec: ExperimentSpec
    profile: Profile
    cfg: Any
    device: torch.device
    data_root: Path
    project: Project
    seed: int
    log: Callable[[str], None] = print
    key: str = ""  # the result's cache key: names state that must not outlive a config (studies)
    force: bool = False  # --force: start such state afresh too
    sources: dict[str, str] = field(default_factory=dict)  # dataset -> where it came from
    # callbacks that only watch a training named so (progress, TensorBoard): given by the runner,
    # never imported here, so that they stay out of every cache key
    observers: Callable[[str], list[Callback]] = lambda name: []

    @property
    def smoke(self) -> bool:
        return self.profile.synthetic

    def data(self, name: str, n_train: int | None = None, n_test: int | None = None, **options: Any) -> Any:
        """Dataset ``name`` on the device: real, or its synthetic stand-in in the smoke profile.

        ``n_train``/``n_test`` take fixed random subsets (seeded), for reduced-budget profiles; the
        stand-in is drawn at that size. ``options`` go to ``load_dataset`` (``seed``: the stand-in's
        own seed). Data that is not an image ``Dataset`` (captions, video clips) comes back as loaded.
        """
        if name not in self.spec.data:
            raise ProjectError(
                f"{self.spec.id} reads dataset {name!r} but does not declare it: "
                f"add data=({name!r},) to its @experiment"
            )
        ds = self._load(name, n_train, n_test, options)
        if not isinstance(ds, Dataset):  # captions, video clips...: served as their loader made them
            self.sources[name] = getattr(ds, "source", name)
            return ds
        ds = replace(ds, train=ds.train.subset(n_train, self.seed), test=ds.test.subset(n_test, self.seed))
        self.sources[name] = ds.source + (
            f"; subset {len(ds.train)} train / {len(ds.test)} test" if (n_train or n_test) else ""
        )
        return ds.to(self.device)

    def _load(self, name: str, n_train: int | None, n_test: int | None, options: dict[str, Any]) -> Any:
        """``load_dataset`` once per process for each set of arguments that shapes its answer: a
        stand-in's sizes and seed count, so no experiment gets the size another one asked for."""
        args: dict[str, Any] = dict(options, data_root=self.data_root, synthetic=self.profile.synthetic)
        if self.profile.synthetic:
            most = DRY_RUN_MAX if self.profile.dry_run else SYNTHETIC_MAX
            args.update(n_train=min(n_train or most[0], most[0]), n_test=min(n_test or most[1], most[1]))
        key = (name, repr(sorted(args.items())))
        if key not in _LOADED:
            _LOADED[key] = load_dataset(name, cache=self.project.build / "data", **args)
        return _LOADED[key]

    def tensorboard_dir(self, run: str) -> Path:
        return self.project.tensorboard(self.spec.report, self.spec.id) / run

    def fit(
        self,
        model: nn.Module,
        data: Sequence[Split | None],
        cfg: TrainConfig | None = None,
        *,
        name: str,
        callbacks: Iterable[Callback] = (),
        augment=None,
        param_groups=None,
        watch: Split | None = None,
    ) -> History:
        """``train.fit`` on this context's device, watched by the runner's observers (a progress
        bar, TensorBoard events under ``build/tensorboard/<report>/<EXP>/<name>/``); ``watch``
        logs a test split's curve."""
        cfg = cfg if cfg is not None else self.cfg
        cbs = [*callbacks, *self.observers(name)]
        return fit(model, data, cfg, cbs, device=self.device, augment=augment, param_groups=param_groups, watch=watch)

    def train(
        self,
        model: nn.Module,
        data: Sequence[Split | None],
        test: Split,
        cfg: TrainConfig | None = None,
        *,
        name: str,
        callbacks: Iterable[Callback] = (),
        augment=None,
        param_groups=None,
    ) -> Run:
        """``fit`` on ``data = (train, val)``, then evaluate once on ``test``."""
        cfg = cfg if cfg is not None else self.cfg
        history = self.fit(model, data, cfg, name=name, callbacks=callbacks, augment=augment, param_groups=param_groups)
        outputs = predict(model, test, cfg, self.device)
        return Run(name, history, score(outputs, test.y, cfg), count_params(model), outputs, model)

    def study(self, name: str, direction: str = "maximize"):
        """An Optuna study in ``build/optuna/<report>.db`` named after this experiment and its
        cache key: interrupted runs resume it, a changed config starts a new one."""
        from ..study.tune import study

        return study(
            self.project.build / "optuna" / f"{self.spec.report}.db",
            f"{self.spec.id}-{name}-{self.key}",
            seed=self.seed,
            direction=direction,
            fresh=self.force,
        )

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """``[fn(x) for x in items]``: here, one after another, or, for an experiment with
        ``item_jobs=True`` run by ``--executor submitit``, each item as a job of its own (core.items)."""
        items, mapper = list(items), MAPPER.get()
        return mapper(self, fn, items) if mapper else [fn(x) for x in items]

    def artifact(self, exp_id: str, name: str):
        """An artifact (tensors) that experiment ``exp_id`` of this report stored in its result."""
        from .store import ResultStore, load_artifact

        if exp_id not in self.spec.needs:
            raise ProjectError(
                f"{self.spec.id} reads an artifact of {exp_id} but does not declare it: "
                f"add needs=({exp_id!r},) to its @experiment"
            )
        return load_artifact(ResultStore(self.project.results).folder(self.spec.report, exp_id), name)
