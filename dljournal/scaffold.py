"""``dljournal new NAME``: a new report that runs and builds at once, to be rewritten into your own.

It writes ``experiments/NAME/`` (one small experiment: an MLP on MNIST, synthetic in the smoke
profile) and ``journal/NAME/`` (``report.toml``, ``description.md``, ``EXP01.md``, ``summary.md``)
whose narrative quotes the experiment's live numbers and its figure. The report's name is declared
once, by the two folders.
"""

from __future__ import annotations

import keyword
import re

from .core.files import atomic_write_text
from .core.project import Project, ProjectError

NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")

INIT = '''"""{title}."""

from dljournal.core.registry import import_submodules

import_submodules(__name__, __path__)
'''

EXPERIMENT = '''"""EXP01: a small MLP on MNIST. Make it your own: config, data, model, fit, results."""

from dataclasses import dataclass

from dljournal import Context, Recipe, Result, TrainConfig, experiment, viz
from dljournal.models import create_model


@dataclass(frozen=True)
class MlpCfg(TrainConfig):
    hidden: tuple[int, ...] = (256,)
    n_train: int | None = None  # training images (None: all 60,000), of which n_val are held out
    n_val: int = 5000


@experiment(
    "EXP01",
    recipe=Recipe(MlpCfg(epochs=10, lr=1e-3), quick=dict(epochs=2, n_train=10_000), smoke=dict(epochs=2, n_val=64)),
    data=("mnist",),
)
def mlp(ctx: Context) -> Result:
    """A small MLP on MNIST

    How accurately does an MLP with one hidden layer classify handwritten digits?
    """
    cfg = ctx.cfg
    ds = ctx.data("mnist", n_train=cfg.n_train)
    train, val = ds.val_split(cfg.n_val, seed=ctx.seed)  # choices read val; the test split is evaluated once
    run = ctx.train(create_model("mnist_mlp", hidden=cfg.hidden), (train, val), ds.test, name="mlp")
    return Result(
        metrics={{**run.summary(), "n_train": len(train), "n_val": len(val), "n_test": len(ds.test)}},
        history={{"mlp": run.history.to_dict()}},
        figures={{
            "curves": (
                viz.learning_curves({{"MLP": run.history}}),
                "Training (dashed) and validation (solid) loss and accuracy of the MLP.",
            )
        }},
    )
'''

REPORT_TOML = """title = "{title}"
subtitle = "An experiment journal written with dljournal"
author = "Your Name"
file_name = "{name}_{{author}}"

[[groups]]
title = "Experiments"
experiments = ["EXP01"]
"""

DESCRIPTION = """What this report asks, on which data, and how the answer is measured. Every number in
it is computed by an experiment under `experiments/{name}/` and quoted live: edit the prose freely,
rebuilding never retrains.
"""

EXP01 = """{{% set m = this.metrics %}}
### Setup

A multilayer perceptron with one hidden layer of {{{{ this.config.hidden | join(", ") }}}} units, trained for
{{{{ m.epochs }}}} epochs on {{{{ m.n_train | count }}}} MNIST training images; {{{{ m.n_val | count }}}} more are
held out for validation, and the {{{{ m.n_test | count }}}} test images are evaluated once, at the end.

### Results

{{{{ fig("curves") }}}}

The MLP classifies {{{{ m.test_acc | pct(2) }}}} of the test digits correctly (validation accuracy after the
last epoch: {{{{ m.val_acc | pct(2) }}}}), with {{{{ m.params | count }}}} parameters and
{{{{ m.seconds_per_epoch | fixed(1) }}}} s per epoch.
"""

SUMMARY = """{{% set m = r.EXP01.metrics %}}
| experiment | question | measured answer |
| --- | --- | --- |
| EXP01 | {{{{ r.EXP01.question }}}} | test accuracy {{{{ m.test_acc | pct(2) }}}} |
"""


def new_report(project: Project, name: str, title: str | None = None) -> list[str]:
    """Create report ``name``; returns the files written (relative to the project). Refuses an
    invalid or existing name with one line, before writing anything."""
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ProjectError(
            f"invalid report name {name!r}: use lower-case letters, digits and _, starting with a letter "
            "(it is a Python package and a folder)"
        )
    code, text = project.experiments / name, project.journal / name
    for folder in (code, text, project.experiments / f"{name}.py"):
        if folder.exists():
            raise ProjectError(f"report {name!r} exists already ({folder}); choose another name")
    title = title or name.replace("_", " ").capitalize()
    files = {
        code / "__init__.py": INIT.format(title=title),
        code / "mlp.py": EXPERIMENT.format(),
        text / "report.toml": REPORT_TOML.format(title=title.replace('"', "'"), name=name),
        text / "description.md": DESCRIPTION.format(name=name),
        text / "EXP01.md": EXP01.format(),
        text / "summary.md": SUMMARY.format(),
    }
    if not (project.experiments / "__init__.py").exists():  # experiments/ is a package: experiments.<report>
        files[project.experiments / "__init__.py"] = ""
    for path, body in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, body)
    return [str(p.relative_to(project.root)) for p in files]
