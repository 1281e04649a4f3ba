"""EXP01-EXP03: three classic architectures, each in PyTorch and in Keras 3 (torch backend), after a
small learning-rate × batch-size study."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dljournal import Context, Recipe, Result, TrainConfig, experiment
from dljournal.models import create_model
from dljournal.study.sweep import grid
from dljournal.study.tables import comparison
from dljournal.train.keras import create_keras_model, keras_train

FRAMEWORKS_NOTE = (
    "Both frameworks train the same architecture (equal parameter counts) with the same "
    "data tensors, optimiser, schedule and batch order source; they differ in weight "
    "initialisation and in how weight decay is applied, so equal accuracy is not expected "
    "to the decimal."
)


@dataclass(frozen=True)
class ArchCfg(TrainConfig):
    arch_kwargs: tuple[tuple[str, object], ...] = ()  # e.g. (("width", 0.25),)
    n_train: int | None = None  # training subset (None: all but the validation split)
    n_val: int = 5000
    grid_lr: tuple[float, ...] = (1e-3, 3e-3)
    grid_batch: tuple[int, ...] = (64, 256)
    grid_epochs: int = 3
    grid_n_train: int | None = 10000


def compare_frameworks(ctx: Context, arch: str, dataset: str, notes: tuple[str, ...] = ()) -> Result:
    cfg = ctx.cfg
    kw = dict(cfg.arch_kwargs)
    ds = ctx.data(dataset)
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)
    train = train.subset(cfg.n_train, ctx.seed)
    rows, best = grid(
        ctx,
        lambda: create_model(arch, **kw),
        (train.subset(cfg.grid_n_train, ctx.seed), val),
        replace(cfg, epochs=cfg.grid_epochs),
        lr=cfg.grid_lr,
        batch_size=cfg.grid_batch,
    )
    best = replace(best, epochs=cfg.epochs)
    torch_run = ctx.train(create_model(arch, **kw), (train, val), ds.test, best, name="pytorch")
    keras_run = keras_train(ctx, lambda: create_keras_model(arch, **kw), (train, val), ds.test, best, name="keras")
    runs = {"PyTorch": torch_run, "Keras 3 (torch backend)": keras_run}
    return Result(
        metrics={
            "pytorch": torch_run.summary(),
            "keras": keras_run.summary(),
            "params_equal": torch_run.params == keras_run.params,
            "best": {"lr": best.lr, "batch_size": best.batch_size},
            "grid": rows,
        },
        **comparison(
            runs,
            (
                "frameworks",
                f"{arch} on {len(train):,} {dataset} training images, {_epochs(cfg.epochs)}, learning rate "
                f"{best.lr:g}, batch {best.batch_size}; test set {len(ds.test):,} images.",
            ),
            "Training (dashed) and validation (solid) curves of both frameworks.",
            tables={
                "grid": (
                    rows,
                    f"Learning rate × batch size, PyTorch, {_epochs(cfg.grid_epochs)} on "
                    f"{min(len(train), cfg.grid_n_train or len(train)):,} training images; validation accuracy.",
                )
            },
        ),
        artifacts={"state_dict": torch_run.model.state_dict()},
        notes=[FRAMEWORKS_NOTE, *notes],
    )


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


@experiment(
    "EXP01",
    recipe=Recipe(
        ArchCfg(epochs=15, schedule="cosine"),
        quick=dict(epochs=4, grid_epochs=2),
        smoke=dict(epochs=1, grid_epochs=1, grid_lr=(1e-3,), n_val=128),
    ),
    data=("mnist",),
)
def lenet(ctx: Context) -> Result:
    """LeNet-5 on MNIST, PyTorch vs Keras

    Does LeNet-5 train the same in PyTorch and in Keras 3, and which learning rate and batch size suit it?
    """
    return compare_frameworks(ctx, "lenet5", "mnist")


@experiment(
    "EXP02",
    recipe=Recipe(
        ArchCfg(epochs=60, schedule="cosine", warmup_epochs=1, grid_lr=(1e-3, 3e-3), grid_batch=(64, 128)),
        # quick: a CPU budget of 6 epochs on 20k images, where the full recipe's dropout and Adam
        # leave VGG near chance (validation accuracy after 4 epochs: 9.0 %, no dropout 16.5 %, and
        # Nesterov SGD with weight decay and label smoothing 18.1 %; 22.4 % after 6 epochs)
        quick=dict(
            epochs=6,
            arch_kwargs=(("width", 0.25), ("dropout", 0.0)),
            n_train=20000,
            optimizer="sgd",
            weight_decay=5e-4,
            label_smoothing=0.1,
            grid_lr=(0.02, 0.05),
            grid_batch=(64,),
            grid_epochs=1,
            grid_n_train=5000,
        ),
        smoke=dict(epochs=1, arch_kwargs=(("width", 0.125),), grid_epochs=1, grid_lr=(1e-3,), n_val=64),
    ),
    data=("cifar100",),
)
def vgg(ctx: Context) -> Result:
    """VGG-16 on CIFAR-100, PyTorch vs Keras

    How far do VGG-16's 16 weight layers get on the 100 fine classes of CIFAR-100 in each framework, and which
    learning rate and batch size suit it?
    """
    cfg, full = ctx.cfg, ctx.spec.recipe.for_profile("full")
    width = dict(cfg.arch_kwargs).get("width", 1.0)
    recipe = [
        f"{k} {getattr(cfg, k)!r} (full profile: {getattr(full, k)!r})"
        for k in ("optimizer", "weight_decay", "label_smoothing")
        if getattr(cfg, k) != getattr(full, k)
    ]
    dropout = dict(cfg.arch_kwargs).get("dropout", 0.5)  # VGG16's default, the full profile's
    return compare_frameworks(
        ctx,
        "vgg16",
        "cifar100",
        notes=(
            "VGG-16 here has batch normalisation after each of its 13 convolutions (VGG-16-BN).",
            *(
                [
                    f"For the CPU budget of this profile all channel counts are scaled by {width:g} (the same 16 "
                    "weight layers, thinner)."
                ]
                if width != 1.0
                else []
            ),
            *(
                [
                    f"This profile's recipe differs from the full one: {', '.join(recipe)}; "
                    f"dropout {dropout:g} (full profile: 0.5)."
                ]
                if recipe or dropout != 0.5
                else []
            ),
        ),
    )


@experiment(
    "EXP03",
    recipe=Recipe(
        ArchCfg(epochs=40, schedule="cosine", warmup_epochs=1),
        quick=dict(epochs=5, n_train=20000, grid_epochs=1, grid_n_train=5000),
        smoke=dict(epochs=1, grid_epochs=1, grid_lr=(1e-3,), n_val=64),
    ),
    data=("cifar10",),
)
def resnet(ctx: Context) -> Result:
    """ResNet-8 on CIFAR-10, PyTorch vs Keras

    How does an 8-layer residual network do on CIFAR-10 in each framework, and which learning rate and batch
    size suit it?
    """
    return compare_frameworks(
        ctx,
        "resnet8",
        "cifar10",
        notes=(
            "ResNet-8: a 3×3 stem convolution, three stages of one basic block (two 3×3 convolutions) each, "
            "and a linear classifier: 8 weight layers (the 1×1 shortcut projections are not counted).",
            "CIFAR-10 images are the shared JPEG quality-75 re-encodings of the originals.",
        ),
    )
