"""Where a project's folders are: found from ``[tool.dljournal]`` in ``pyproject.toml``."""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA_ROOT_ENV = "DLJOURNAL_DATA_ROOT"


class ProjectError(Exception):
    """A user-facing problem with the project layout or the command line (one line)."""


@dataclass(frozen=True)
class Project:
    root: Path
    experiments: Path
    journal: Path
    templates: Path
    build: Path
    default_report: str
    # The runner points an experiment's TensorBoard events at a staging folder, swapped into place
    # after its result is saved: a crash or a concurrent reader never loses the previous events.
    tensorboard_root: Path | None = None

    @property
    def results(self) -> Path:
        return self.build / "results"

    def tensorboard(self, report: str, exp_id: str) -> Path:
        return (self.tensorboard_root or self.build / "tensorboard") / report / exp_id

    def default_data_root(self) -> Path:
        """``$DLJOURNAL_DATA_ROOT``, else ``../shared/data`` beside the project."""
        env = os.environ.get(DATA_ROOT_ENV)
        return Path(env).expanduser() if env else (self.root.parent / "shared" / "data")

    @classmethod
    def find(cls, start: Path | None = None, build: Path | None = None) -> Project:
        """The nearest folder at or above ``start`` whose pyproject.toml has ``[tool.dljournal]``."""
        start = (start or Path.cwd()).resolve()
        for folder in (start, *start.parents):
            toml = folder / "pyproject.toml"
            if toml.is_file():
                conf = tomllib.loads(toml.read_text()).get("tool", {}).get("dljournal")
                if conf is not None:
                    return cls.from_config(folder, conf, build)
        raise ProjectError(f"no pyproject.toml with [tool.dljournal] at or above {start}")

    @classmethod
    def from_config(cls, root: Path, conf: dict, build: Path | None = None) -> Project:
        return cls(
            root=root,
            experiments=root / conf.get("experiments", "experiments"),
            journal=root / conf.get("journal", "journal"),
            templates=root / conf.get("templates", "templates"),
            build=(build or root / conf.get("build", "build")).resolve(),
            default_report=conf.get("default_report", ""),
        )


def one_line_errors(prog: str, body: Callable[[], int], interrupted: tuple[str, int]) -> int:
    """Run a command's body so that bad input is one line on stderr (exit 2), an unforeseen disk or
    folder problem too (exit 1), and Ctrl-C prints ``interrupted``'s message and exits with its code."""
    try:
        return body()
    except ProjectError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted[0]}", file=sys.stderr)
        return interrupted[1]
    except OSError as exc:  # no check foresaw it: still one line
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"{prog}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
