"""The one command line behind the nox sessions: ``dljournal run | build | report | bench``."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .core.preflight import SEED_MAX
from .core.profiles import PROFILES
from .core.project import Project, ProjectError, one_line_errors

if TYPE_CHECKING:
    from .core.options import RunOptions

DESCRIPTION = """\
An experiment journal as code. `run` trains the experiments of a report (skipping those whose
cached result is still valid), `build` renders the PDF from cached results and the markdown
under journal/<report>/, `report` does both, `bench` times the engine against a plain loop."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not a usage dump
        self.exit(2, f"dljournal: error: {message} (see --help)\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--report",
        help="report to work on, i.e. a folder of journal/ "
        "(default: [tool.dljournal] default_report in pyproject.toml)",
    )
    p.add_argument("--build-dir", type=Path, help="where results, TensorBoard logs and PDFs go (default: build/)")


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        default="quick",
        choices=list(PROFILES),
        help="smoke: synthetic data, seconds (tests); quick: real data, minutes on 2 CPU "
        "cores; full: the real recipe, for a GPU (default: quick)",
    )
    p.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="EXP",
        help="run only these experiments, e.g. --only EXP02 or --only EXP01,EXP02",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="re-run the selected experiments even when their cached results are valid "
        "(experiments they need run only if stale)",
    )
    p.add_argument(
        "--data-root", type=Path, help="folder with the datasets (default: $DLJOURNAL_DATA_ROOT, then ../shared/data)"
    )
    p.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="where to train (default: auto = cuda when available)",
    )
    p.add_argument(
        "--seed", type=_seed, default=0, help=f"global seed, 0 to {SEED_MAX} (part of the cache key; default 0)"
    )
    p.add_argument("--list", action="store_true", help="list the report's experiments with their cache state and exit")
    p.add_argument(
        "--executor",
        default="local",
        choices=["local", "submitit"],
        help="local: train here, one experiment after another (default); submitit: every stale experiment "
        "as a job, on Slurm where sbatch exists, else as subprocesses of this machine (one GPU each)",
    )
    p.add_argument("--jobs", type=int, default=0, help="submitit: jobs at once (default: one per GPU, else 2)")
    p.add_argument("--gpus-per-job", type=int, default=0, help="submitit: GPUs each job gets (default 0)")
    p.add_argument("--slurm-partition", help="submitit on Slurm: the partition to submit to")
    p.add_argument("--timeout-min", type=int, default=24 * 60, help="submitit: a job's time limit in minutes")
    p.add_argument(
        "--cluster", choices=["slurm", "local"], help="submitit: force Slurm or local subprocesses (default: detect)"
    )
    p.add_argument(
        "--optuna-storage",
        help="where Optuna studies live: an RDB URL (postgresql://user@host/db, mysql://...) or a journal "
        "file (journal:path/to/studies.log, the choice for NFS without a database); default: SQLite under build/",
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="processes of this machine that optimise each Optuna study together, cores // N torch threads "
        "each (--executor local; the studies go to --optuna-storage, else a journal file under build/optuna/)",
    )
    p.add_argument("--offline", action="store_true", help=SWITCHES["--offline"])


SWITCHES = {  # on/off options: what each means
    "--offline": "download nothing: pretrained weights come from the local caches only, else the named "
    "substitute (also DLJOURNAL_OFFLINE=1 or HF_HUB_OFFLINE=1)",
    "--dry-run": "prove a profile's configuration before spending hours on it: every experiment trains 2 steps "
    "per training on tiny synthetic data; results and PDF go to build/dry-run/, never among real results",
}


def _dry_run_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help=SWITCHES["--dry-run"])


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--author",
        help="author on the title page and in the file name pattern (default: author in journal/<report>/report.toml)",
    )
    p.add_argument("--output", type=Path, help="PDF path (default: build/<file name from report.toml>.pdf)")
    p.add_argument(
        "--format",
        choices=["pdf", "html", "both"],
        default="pdf",
        help="pdf (default), html (one self-contained file, figures embedded, beside where the PDF goes) or both",
    )
    p.add_argument(
        "--changes",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="append what changed since the last build's numbers (default: on, except for smoke or dry-run results)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse to build when a cached result is stale (its code, config, data or seed "
        "changed since it ran) or comes from the smoke profile; without it such sections "
        "carry a banner saying what changed",
    )


def parser() -> Parser:
    top = Parser(prog="dljournal", description=DESCRIPTION)
    sub = top.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = sub.add_parser("run", help="run the experiments of a report (cached)", description=DESCRIPTION)
    _common(run), _run_args(run), _dry_run_arg(run)
    build = sub.add_parser("build", help="render the report PDF from cached results", description=DESCRIPTION)
    _common(build), _build_args(build), _dry_run_arg(build)
    build.add_argument(
        "--data-root",
        type=Path,
        help="folder with the datasets, to check that cached results still match their data "
        "(default as for run; when it is absent, data is not checked)",
    )
    both = sub.add_parser("report", help="run, then build", description=DESCRIPTION)
    _common(both), _run_args(both), _build_args(both), _dry_run_arg(both)
    preview = sub.add_parser(
        "preview", help="the report as HTML on 127.0.0.1, re-rendered on every edit", description=DESCRIPTION
    )
    _common(preview)
    preview.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one, printed)")
    new = sub.add_parser("new", help="create a new report that runs and builds at once", description=DESCRIPTION)
    new.add_argument("name", help="the report's name: experiments/NAME/ and journal/NAME/")
    new.add_argument("--title", help="the report's title (default: from the name)")
    bench = sub.add_parser("bench", help="engine fit vs a plain DataLoader loop on MNIST")
    _common(bench)
    bench.add_argument("--data-root", type=Path, help="folder with MNIST (default as for run)")
    bench.add_argument("--epochs", type=int, default=1)
    return top


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 0 to {SEED_MAX}")
    return value


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes from 1 to 256")
    return int(text)


def _only(values: list[str]) -> tuple[str, ...]:
    return tuple(v for item in values for v in item.split(",") if v)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return one_line_errors("dljournal", lambda: _dispatch(args), ("interrupted; finished results are kept", 130))


def _dispatch(args: argparse.Namespace) -> int:
    project = Project.find(build=getattr(args, "build_dir", None))
    if args.command == "new":
        from .scaffold import new_report

        for path in new_report(project, args.name, args.title):
            print(f"wrote {path}", file=sys.stderr)
        print(f"next: dljournal run --report {args.name} --profile smoke && dljournal build --report {args.name}")
        return 0
    report = args.report or project.default_report

    if args.command == "preview":
        from .report.preview import serve

        _load(project, report)
        serve(project, report, args.port)
        return 0

    if args.command == "bench":
        from .bench import run_bench

        _load(project, report)
        return run_bench(project, args.data_root, epochs=args.epochs)

    if getattr(args, "dry_run", False):  # results, figures, studies and the PDF of a dry run live apart
        from .core.dryrun import DRY_RUN_DIR

        project = dataclasses.replace(project, build=project.build / DRY_RUN_DIR)
    if project.build.exists() and not project.build.is_dir():
        raise ProjectError(f"--build-dir {project.build} is a file, not a folder")
    if args.command == "report":  # the PDF's place is checked before training, not after it
        from .report import load_report_spec, output_path

        output_path(project, load_report_spec(project, report), args.author, args.output)

    if args.command in ("run", "report"):
        from .core.options import RunOptions

        if args.workers > 1 and args.executor != "local":
            raise ProjectError("--workers runs the studies of one process's experiments: use it with --executor local")
        opts = RunOptions(
            report,
            args.profile,
            _only(args.only),
            args.force,
            args.data_root,
            args.device,
            args.seed,
            args.dry_run,
            args.workers,
        )
        if args.list:
            from .core.listing import list_state

            _load(project, report)
            _print_state(list_state(project, opts))
            return 0
        if _run(project, opts, args):
            return 1

    if args.command in ("build", "report"):  # the experiments are imported only if a key must be computed
        from .report import build_report

        t0 = time.perf_counter()
        formats = ("pdf", "html") if args.format == "both" else (args.format,)
        pdf = build_report(
            project,
            report,
            args.author,
            args.output,
            strict=args.strict,
            data_root=args.data_root,
            formats=formats,
            changes=args.changes,
        )
        print(f"wrote {_rel(pdf, project.root)} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


def _load(project: Project, report: str) -> None:
    """Import the report's experiments (torch and all they use); an unknown report is one line."""
    from .core.keymemo import load
    from .core.registry import experiments_for

    if report not in load(project, report):
        experiments_for(report)  # raises the one-line error with close names


def _run(project: Project, opts: RunOptions, args: argparse.Namespace) -> int:
    """``run``: the number of experiments that failed."""
    from .core.fresh import skip_all

    if args.offline:  # read by dljournal.models.backbones, and by Hugging Face's own downloads
        os.environ["DLJOURNAL_OFFLINE"] = os.environ["HF_HUB_OFFLINE"] = "1"
    if skip_all(project, opts):  # nothing to run, known without importing torch
        return 0
    _load(project, opts.report)
    if args.optuna_storage:  # read by dljournal.study.tune, for this process and every job it starts
        os.environ["DLJOURNAL_OPTUNA_STORAGE"] = args.optuna_storage
    if args.executor == "submitit":
        from .core.executors import JobOptions, run_jobs

        job = JobOptions(args.cluster, args.jobs, args.gpus_per_job, args.slurm_partition, args.timeout_min)
        return run_jobs(project, opts, job)
    from .core.runner import run

    return run(project, opts)


def _print_state(rows: list[dict]) -> None:
    from tabulate import tabulate

    print(tabulate(rows, headers="keys", tablefmt="simple"))


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


if __name__ == "__main__":
    sys.exit(main())
