"""A FiftyOne dashboard of a classifier's test-set mistakes (``nox -s dashboard``).

The test images of an experiment's ``predictions`` artifact are written once as PNGs (FiftyOne
serves media from files) and loaded with ground truth, predictions, confidences, embeddings,
mistake tags and the experiment's t-SNE into a persistent FiftyOne dataset; then the App is served
on loopback until Ctrl-C. ``predictions`` reads the artifact and the images; ``app`` holds
everything that touches FiftyOne.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import signal
from pathlib import Path

from ..core.cache import resolve_data_root
from ..core.project import Project, ProjectError, one_line_errors
from .app import ADDRESS, INSTALL, _listening, build_dataset, connect, import_fiftyone, mongod, serve
from .predictions import (
    ARTIFACT,
    KEYS,
    Predictions,
    confident_mistakes,
    find_experiment,
    load_predictions,
    load_test_images,
    result_profile,
    to_uint8,
    with_predictions,
    write_pngs,
)

SCHEMA = 1  # bump when the dataset's fields change: stored datasets are then rebuilt

__all__ = [
    "ADDRESS",
    "ARTIFACT",
    "INSTALL",
    "KEYS",
    "Predictions",
    "build_dataset",
    "confident_mistakes",
    "connect",
    "find_experiment",
    "import_fiftyone",
    "load_predictions",
    "load_test_images",
    "main",
    "mongod",
    "result_profile",
    "serve",
    "to_uint8",
    "write_pngs",
]


def _stop_once(signum: int, frame) -> None:
    """SIGINT/SIGTERM: unwind, stopping the servers; later signals must not cut that short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dljournal.dashboard", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--report",
        help="report whose predictions to show (default: the project's default report if "
        "it has a predictions artifact, else the first report that has one)",
    )
    p.add_argument("--exp", help="experiment with a predictions artifact (default: the first that has one)")
    p.add_argument("--port", type=int, default=5151, help=f"the App's port on {ADDRESS} (default: 5151)")
    p.add_argument("--dataset", default="cifar10", help="engine dataset whose test set was predicted (cifar10)")
    p.add_argument("--build-dir", type=Path, help="results, data caches and build/dashboard (default: build/)")
    p.add_argument("--data-root", type=Path, help="datasets (default: $DLJOURNAL_DATA_ROOT, then ../shared/data)")
    p.add_argument("--mistakes", type=int, default=16, help="tag this many top mistakes confident_mistake (16)")
    p.add_argument("--no-launch", action="store_true", help="build the FiftyOne dataset, print a summary, exit")
    return p


def main(argv: list[str] | None = None) -> int:
    """The ``nox -s dashboard`` entry point; exits 0 on Ctrl-C or SIGTERM, 2 on bad input."""
    args = parser().parse_args(argv)
    previous = {sig: signal.signal(sig, _stop_once) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return one_line_errors("dashboard", lambda: _run(args), ("stopped", 0))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def default_report(project: Project) -> str:
    """The report to show when none is named: the project's default report if one of its results
    holds a predictions artifact, else the first report (by name) whose results hold one."""
    found = [report for report, _ in with_predictions(project.results)]
    if not found:
        raise ProjectError(
            f"no cached result under {project.results} has artifacts/{ARTIFACT}.pt: run a report "
            f"whose experiments store predictions first, or pass --report"
        )
    return project.default_report if project.default_report in found else found[0]


def _run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("fiftyone") is None:
        raise ProjectError(INSTALL)
    if not args.no_launch and _listening(args.port):  # said now, not after building the dataset
        raise ProjectError(f"port {args.port} on {ADDRESS} is in use: pass --port N")
    project = Project.find(build=args.build_dir)
    args.report = args.report or default_report(project)
    exp = args.exp or find_experiment(project.results, args.report)
    folder = project.results / args.report / exp
    profile, p = result_profile(folder), load_predictions(folder)
    synthetic = profile == "smoke"
    pixels, source = load_test_images(
        p,
        args.dataset,
        data_root=resolve_data_root(project, args.data_root),
        cache=project.build / "data",
        synthetic=synthetic,
    )
    digest = hashlib.sha256(pixels.tobytes()).hexdigest()[:12]
    home = project.build / "dashboard"
    images = write_pngs(pixels, home / "images" / f"{args.dataset}-test-{digest}")
    artifact = hashlib.sha256((folder / "artifacts" / f"{ARTIFACT}.pt").read_bytes()).hexdigest()[:12]
    name = f"{args.report}.{exp}" + (".smoke-synthetic" if synthetic else "")
    description = f"{args.report} {exp} ({profile} profile), {len(p)} test images: {source}"
    fo = connect(home / "db")
    ds = build_dataset(
        fo,
        name,
        p,
        images,
        fingerprint=f"{SCHEMA}-{artifact}-{digest}-{args.mistakes}",
        description=description,
        top=args.mistakes,
    )
    print(f"{ds.name}: {len(ds)} samples, {len(ds.match_tags('mistake'))} mistakes; {description}", flush=True)
    if not args.no_launch:
        serve(fo, ds, args.port)
    return 0
