"""The FiftyOne dashboard: reading the predictions artifact, ranking mistakes, confusion pairs, PNGs
written once, and (only where FiftyOne is installed) a round trip through the database and the App."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from dljournal import dashboard as dash
from dljournal.core.project import ProjectError
from dljournal.core.store import ResultStore
from dljournal.data import load_dataset
from dljournal.data.cifar import to_dataset
from dljournal.study.stats import confused_pairs

REPO = Path(__file__).resolve().parent.parent
CLASSES = ("a", "b", "c")


REPORT = "dl4cv2024_module2"  # the shipped report whose experiments store predictions


def predictions(labels, probs, **extra) -> dict:
    labels, probs = torch.tensor(labels), torch.tensor(probs, dtype=torch.float32)
    return {
        "labels": labels,
        "probs": probs,
        "embeddings": torch.arange(len(labels) * 4.0).view(-1, 4),
        "tsne": torch.zeros(len(labels), 2),
        "classes": list(CLASSES),
        **extra,
    }


def save_result(results: Path, exp: str, artifact: dict | None, profile: str = "quick", report: str = REPORT) -> Path:
    """A cached result as the runner writes it (the store's own save), with the artifact."""
    payload = {"exp_id": exp, "key": "k", "key_parts": {}, "profile": profile, "metrics": {}}
    artifacts = {"predictions": artifact} if artifact else None
    return ResultStore(results).save(report, exp, payload, {}, artifacts=artifacts)


# rows 1, 2, 4 are wrong; row 4 and row 2 tie at 0.8 (ties go by row), row 1 is the least sure
LABELS = [0, 0, 1, 2, 2]
PROBS = [[0.9, 0.05, 0.05], [0.3, 0.6, 0.1], [0.1, 0.1, 0.8], [0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]


def test_predictions_round_trip_through_the_result_store(tmp_path):
    folder = save_result(tmp_path, "EXP03", predictions(LABELS, PROBS))
    p = dash.load_predictions(folder)
    assert p.classes == CLASSES and len(p) == 5 and p.index is None
    assert p.predicted.tolist() == [0, 1, 2, 2, 0]
    assert p.confidence.tolist() == pytest.approx([0.9, 0.6, 0.8, 0.7, 0.8])
    assert p.wrong.tolist() == [False, True, True, False, True]
    assert p.embeddings.shape == (5, 4) and p.labels.dtype == torch.int64


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(probs=torch.ones(5, 4) / 4), "probs has shape (5, 4), expected (5, 3)"),
        (dict(tsne=torch.zeros(5, 3)), "tsne has shape (5, 3), expected (5, 2)"),
        (dict(labels=torch.tensor([0, 0, 1, 2, 3])), "labels outside 0..2"),
        (dict(index=torch.arange(4)), "index has shape (4,), expected (5,)"),
        (dict(embeddings=torch.zeros(5)), "embeddings has shape (5,), expected (N, D)"),
    ],
)
def test_bad_predictions_fail_with_one_line_naming_the_key(tmp_path, change, message):
    folder = save_result(tmp_path, "EXP03", {**predictions(LABELS, PROBS), **change})
    with pytest.raises(ProjectError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        dash.load_predictions(folder)
    assert "\n" not in str(err.value) and "predictions.pt" in str(err.value)


def test_missing_keys_and_artifacts_are_one_line_errors(tmp_path):
    art = predictions(LABELS, PROBS)
    del art["tsne"]
    with pytest.raises(ProjectError, match="expected a dict with labels, probs, embeddings, tsne, classes"):
        dash.load_predictions(save_result(tmp_path, "EXP01", art))
    with pytest.raises(ProjectError, match="artifact not found"):
        dash.load_predictions(save_result(tmp_path, "EXP02", None))


def test_the_first_experiment_with_predictions_is_chosen(tmp_path):
    with pytest.raises(ProjectError, match="no experiment of dl4cv2024_module2 has artifacts/predictions.pt"):
        dash.find_experiment(tmp_path, REPORT)
    save_result(tmp_path, "EXP01", None)
    save_result(tmp_path, "EXP05", predictions(LABELS, PROBS))
    save_result(tmp_path, "EXP03", predictions(LABELS, PROBS))
    stash = tmp_path / REPORT / ".stash" / "EXP00.smoke" / "artifacts"
    stash.mkdir(parents=True)
    (stash / "predictions.pt").write_bytes(b"")  # a stashed result of another profile is not a candidate
    assert dash.find_experiment(tmp_path, REPORT) == "EXP03"
    assert dash.result_profile(tmp_path / REPORT / "EXP03") == "quick"


def test_the_default_report_is_one_with_predictions(tmp_path):
    from dljournal.core.project import Project

    project = Project.from_config(tmp_path, {"default_report": "hw1"}, build=tmp_path / "build")
    with pytest.raises(ProjectError, match="no cached result .* has artifacts/predictions.pt"):
        dash.default_report(project)
    save_result(project.results, "EXP01", None, report="hw1")
    save_result(project.results, "EXP03", predictions(LABELS, PROBS), report="zeta")
    save_result(project.results, "EXP02", predictions(LABELS, PROBS), report="alpha")
    assert dash.default_report(project) == "alpha"  # hw1 has none: the first report that has one
    save_result(project.results, "EXP04", predictions(LABELS, PROBS), report="hw1")
    assert dash.default_report(project) == "hw1"


def test_confident_mistakes_most_confident_first_ties_by_row(tmp_path):
    p = dash.load_predictions(save_result(tmp_path, "EXP03", predictions(LABELS, PROBS)))
    assert dash.confident_mistakes(p, 16).tolist() == [2, 4, 1]  # all three mistakes, never a correct row
    assert dash.confident_mistakes(p, 2).tolist() == [2, 4]
    assert dash.confident_mistakes(p, 0).tolist() == []


def test_confusion_pairs_are_shares_of_the_true_class():
    # true 0 (4 images): 2 called 1, 1 called 2; true 1 (2 images): 1 called 0; true 2: all right
    y_true = [0, 0, 0, 0, 1, 1, 2]
    y_pred = [1, 1, 2, 0, 0, 1, 2]
    pairs = confused_pairs(y_true, y_pred, CLASSES, k=3)
    assert pairs[0] == {"true": "a", "predicted": "b", "rate": 0.5}
    assert pairs[1] == {"true": "b", "predicted": "a", "rate": 0.5}
    assert pairs[2] == {"true": "a", "predicted": "c", "rate": 0.25}


def test_to_uint8_inverts_the_loaders_normalisation_exactly():
    rng = np.random.default_rng(0)
    a = {k: rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for k, n in (("x_train", 40), ("x_test", 8))}
    a |= {"y_train": np.zeros(40, dtype=np.int64), "y_test": np.zeros(8, dtype=np.int64)}
    ds = to_dataset("tiny", a, ("only",), "test arrays")
    assert np.array_equal(dash.to_uint8(ds.test.x, ds.norm), a["x_test"])


def test_pngs_are_lossless_and_written_once(tmp_path):
    from PIL import Image

    imgs = np.random.default_rng(1).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    paths = dash.write_pngs(imgs, tmp_path / "png")
    assert [p.name for p in paths] == ["00000.png", "00001.png", "00002.png"]
    assert all(np.array_equal(np.asarray(Image.open(p)), img) for p, img in zip(paths, imgs))
    paths[1].write_bytes(b"kept")  # an existing file is never rewritten
    assert dash.write_pngs(imgs, tmp_path / "png") == paths and paths[1].read_bytes() == b"kept"
    assert sorted(os.listdir(tmp_path / "png")) == [p.name for p in paths]  # no temporary files left


def test_test_images_match_labels_or_fail(tmp_path):
    ds = load_dataset("cifar10", data_root=tmp_path, cache=tmp_path, synthetic=True, n_train=512, n_test=256)
    y = ds.test.y
    probs = torch.nn.functional.one_hot(y, 10).float()
    art = {
        "labels": y,
        "probs": probs,
        "embeddings": torch.zeros(len(y), 2),
        "tsne": torch.zeros(len(y), 2),
        "classes": list(ds.classes),
    }
    kw = dict(data_root=tmp_path, cache=tmp_path, synthetic=True)
    p = dash.load_predictions(save_result(tmp_path / "r", "EXP03", art, profile="smoke"))
    pixels, source = dash.load_test_images(p, "cifar10", **kw)
    assert pixels.shape == (256, 32, 32, 3) and pixels.dtype == np.uint8 and "synthetic" in source
    assert np.array_equal(pixels, dash.to_uint8(ds.test.x, ds.norm))

    rows = torch.tensor([5, 0, 200])  # a subset of the test set, with its rows stored beside it
    sub = dash.load_predictions(
        save_result(
            tmp_path / "s",
            "EXP03",
            {
                **art,
                "labels": y[rows],
                "probs": probs[rows],
                "embeddings": torch.zeros(3, 2),
                "tsne": torch.zeros(3, 2),
                "index": rows,
            },
        )
    )
    assert np.array_equal(dash.load_test_images(sub, "cifar10", **kw)[0], pixels[rows.numpy()])

    with pytest.raises(ProjectError, match="3 rows but the cifar10 test set has 256: store an 'index'"):
        dash.load_test_images(dash.Predictions(**{**sub.__dict__, "index": None}), "cifar10", **kw)
    shifted = dash.Predictions(**{**p.__dict__, "labels": (y + 1) % 10})
    with pytest.raises(ProjectError, match="256 of 256 labels of the predictions differ from the cifar10 test set"):
        dash.load_test_images(shifted, "cifar10", **kw)


def test_the_module_imports_without_fiftyone_and_main_says_how_to_install(monkeypatch, capsys):
    assert not any(m.split(".")[0] == "fiftyone" for m in sys.modules)  # nothing imported it at the top
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fiftyone" else find_spec(name, *a)
    )
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert dash.main(["--no-launch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "install the dashboard extra: pip install -e '.[dashboard]'" in err
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers  # restored


# ---- FiftyOne round trip: only where it is installed; every server it starts is stopped ----------
needs_fiftyone = pytest.mark.skipif(
    importlib.util.find_spec("fiftyone") is None, reason="FiftyOne is not installed (the dashboard extra)"
)

CHECK = """
import json, sys
from pathlib import Path
from dljournal import dashboard
fo = dashboard.connect(Path(sys.argv[1]))
ds = fo.load_dataset(sys.argv[2])
s = ds.first()
print(json.dumps({"n": len(ds), "mistakes": len(ds.match_tags("mistake")), "persistent": ds.persistent,
                  "worst": sorted(ds.match_tags("confident_mistake").values("test_row")),
                  "eval_wrong": len(ds.match(fo.ViewField("eval") == False)),
                  "first": [s.test_row, s.ground_truth.label, s.prediction.label, s.prediction.confidence],
                  "views": ds.list_saved_views(), "brain": ds.list_brain_runs(), "tsne": s.tsne,
                  "dim": len(s.embedding)}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int):
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc if proc.status() != psutil.STATUS_ZOMBIE else None  # a zombie has exited
    except psutil.NoSuchProcess:
        return None


@needs_fiftyone
def test_fiftyone_round_trip_serves_the_app_and_stops_every_process(tmp_path):
    import psutil  # a FiftyOne dependency

    build = tmp_path / "build"
    ds = load_dataset("cifar10", data_root=tmp_path, cache=tmp_path, synthetic=True, n_train=512, n_test=256)
    n = 40  # a subset keeps the round trip short; its rows are stored with it
    rows = torch.arange(n) * 3
    logits = torch.randn(n, 10, generator=torch.Generator().manual_seed(0))
    logits[torch.arange(n), ds.test.y[rows]] += 2.0 * (torch.arange(n) % 3 != 0)  # every third one mostly wrong
    probs = logits.softmax(1)
    art = {
        "labels": ds.test.y[rows],
        "probs": probs,
        "embeddings": torch.randn(n, 6),
        "tsne": torch.randn(n, 2),
        "classes": list(ds.classes),
        "index": rows,
    }
    save_result(build / "results", "EXP03", art, profile="smoke")
    p = dash.load_predictions(build / "results" / REPORT / "EXP03")

    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dljournal.dashboard",
            "--build-dir",
            str(build),
            "--port",
            str(port),
            "--mistakes",
            "4",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pids: set[int] = set()
    watchdog = threading.Timer(240, app.kill)  # a hung start fails the test instead of hanging it
    watchdog.start()
    try:
        lines = []
        for line in app.stdout:  # until the App's address is printed
            lines.append(line)
            if f"http://127.0.0.1:{port}/" in line:
                break
        assert app.poll() is None, "".join(lines)
        pids = {c.pid for c in psutil.Process(app.pid).children(recursive=True)}
        assert len(pids) >= 3  # mongod, the server's wrapper and the server
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read().decode()
        assert "<title>FiftyOne</title>" in page
        app.send_signal(signal.SIGINT)
        assert app.wait(60) == 0
        assert "dashboard: stopped" in app.stdout.read()
    finally:
        watchdog.cancel()
        if app.poll() is None:
            app.kill()
        survivors = [proc for proc in map(_alive, pids) if proc]
        for proc in survivors:  # whatever the outcome, nothing this test started outlives it
            proc.kill()
    assert not survivors, f"outlived the dashboard: {[proc.pid for proc in survivors]}"

    out = subprocess.run(
        [sys.executable, "-c", CHECK, str(build / "dashboard" / "db"), f"{REPORT}.EXP03.smoke-synthetic"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    wrong = int(p.wrong.sum())
    assert got["n"] == n and got["mistakes"] == wrong == got["eval_wrong"] and got["persistent"]
    assert got["worst"] == sorted(rows[dash.confident_mistakes(p, 4)].tolist())
    assert got["first"][:3] == [0, ds.classes[p.labels[0]], ds.classes[p.predicted[0]]]
    assert got["first"][3] == pytest.approx(float(p.confidence[0]))
    assert got["tsne"] == pytest.approx(p.tsne[0].tolist()) and got["dim"] == 6 and got["brain"] == ["tsne"]
    assert "mistakes-by-confidence" in got["views"]
