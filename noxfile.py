"""Sessions of the journal. They all share one virtualenv, ``.venv`` (torch alone is 5.5 GB);
it is created on first use and reinstalled only when ``pyproject.toml`` changes.

    nox -s journal            run the default report's experiments (quick) and build its PDF
    nox -s tests              the test suite
    nox -s run_experiments -- --report cpsc8430_hw1 --profile quick [--only EXP02] [--force]
    nox -s build_report    -- --report cpsc8430_hw1 --author "Ivan Franko"
    nox -s bench              every speed figure: training throughput and its profile, overhead, rebuilds
    nox -s tensorboard        TensorBoard on 127.0.0.1 for build/tensorboard
    nox -s dashboard          FiftyOne App of the test-set mistakes, on 127.0.0.1:5151
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "none"  # we manage the one shared environment ourselves
nox.options.sessions = ["journal"]

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
ENV = {"PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}


def shared_env(session: nox.Session) -> Path:
    """The shared virtualenv's python, installed with this project (editable) and its test extras."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed-from"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not python.exists():
        session.run(sys.executable, "-m", "venv", str(VENV))
    if not stamp.is_file() or stamp.read_text() != wanted:
        session.log("installing the project into .venv (first time: about two minutes; torch is large)")
        session.run(
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            f"{ROOT}[test,dashboard]",
        )
        stamp.write_text(wanted)
    return python


def dljournal(session: nox.Session, *args: str) -> None:
    session.run(str(shared_env(session)), "-m", "dljournal", *args, env=ENV)


# sessions that are one `dljournal` subcommand each: (session, subcommand, what `nox -l` says)
COMMANDS = (
    ("journal", "report", "The main job: run the experiments of a report, then build its PDF (args as for both)."),
    ("run_experiments", "run", "Run the experiments of a report; skips those whose cached result is valid."),
    ("build_report", "build", "Render the report PDF from cached results and journal/<report>/*.md."),
    ("new", "new", "Create a new report: nox -s new -- NAME (experiments/NAME/ and journal/NAME/)."),
    ("preview", "preview", "The report as HTML on 127.0.0.1, re-rendered on every edit; never trains."),
    ("bench", "bench", "Every speed figure (throughput, profile, overhead, rebuilds); writes build/bench/*.json."),
)


def _forward(command: str, doc: str):
    def session(session: nox.Session) -> None:
        dljournal(session, command, *session.posargs)

    session.__doc__ = doc
    return session


for _name, _command, _doc in COMMANDS:
    nox.session(name=_name)(_forward(_command, _doc))


@nox.session
def tests(session: nox.Session) -> None:
    """Ruff (lint + format check) and the test suite (no network, no GPU, no ../shared needed)."""
    python = shared_env(session)
    if not session.posargs:  # the whole suite: lint and format first (seconds), as CI runs it
        session.run(str(python), "-m", "ruff", "check", ".", env=ENV)
        session.run(str(python), "-m", "ruff", "format", "--check", ".", env=ENV)
    session.run(str(python), "-m", "pytest", *(session.posargs or ["-q"]), env=ENV)


@nox.session
def tensorboard(session: nox.Session) -> None:
    """TensorBoard for build/tensorboard, on 127.0.0.1 only."""
    python = shared_env(session)
    logdir = ROOT / "build" / "tensorboard"
    logdir.mkdir(parents=True, exist_ok=True)
    session.run(
        str(python),
        "-m",
        "tensorboard.main",
        "--logdir",
        str(logdir),
        "--host",
        "127.0.0.1",
        *session.posargs,
        env={**ENV, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


@nox.session
def dashboard(session: nox.Session) -> None:
    """FiftyOne App of a report's test-set mistakes on 127.0.0.1 (args: --port, --exp, --report; see --help)."""
    python = shared_env(session)
    # On Ctrl-C the dashboard stops the App's server and its MongoDB by PID before it exits (about 5 s);
    # nox's defaults (0.3 s, then SIGTERM, 0.2 s, then SIGKILL) would cut that short and orphan them.
    session.run(
        str(python), "-m", "dljournal.dashboard", *session.posargs, env=ENV, interrupt_timeout=60, terminate_timeout=30
    )
