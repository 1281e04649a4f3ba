"""One Optuna study optimised by several worker processes, on a real PostgreSQL server and on
Optuna's journal file: exactly the cap of trials finish, and a worker killed mid-trial has its trial
retried with the same parameters."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest

from dljournal.study import tune

WORKER = Path(__file__).with_name("shared_study_worker.py")
CAP = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))
    return str(candidates[-1]) if candidates else None


@pytest.fixture
def postgres():
    """A PostgreSQL server of its own: initdb + pg_ctl in a temporary folder, on 127.0.0.1 and a free
    port, stopped by its PID at the end. Skips with one line where the binaries or psycopg2 are missing."""
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not installed: apt-get install postgresql")
    pytest.importorskip("psycopg", reason='psycopg not installed (pip install "psycopg[binary]")')
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        if shutil.which("runuser") is None:
            pytest.skip("running as root and no runuser to start PostgreSQL as another user")
        as_user = ["runuser", "-u", "postgres", "--"]
    # a folder the server's user can reach (pytest's own are private to root)
    tmp_path = Path(tempfile.mkdtemp(prefix="dljournal-pg-"))
    tmp_path.chmod(0o777)
    data, port = tmp_path / "pg", free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "dlj", "--auth=trust"], check=True, capture_output=True)
    subprocess.run(
        [
            *as_user,
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(tmp_path / "pg.log"),
            "-w",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {tmp_path}",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        subprocess.run(
            [
                *as_user,
                "createdb" if not pg_bin("createdb") else pg_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "dlj",
                "studies",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://dlj@127.0.0.1:{port}/studies"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        if running(pid):  # stopped by its PID when pg_ctl could not
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        assert not running(pid), f"PostgreSQL (pid {pid}) left running"
        shutil.rmtree(tmp_path, ignore_errors=True)


def running(pid: int) -> bool:
    """Alive and not a zombie (a server this process did not start is reaped by someone else)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def run_workers(storage: str, name: str) -> list[subprocess.CompletedProcess]:
    """Two workers that finish, and one that dies (SIGKILL) in the middle of its first trial."""

    def start(*extra):
        return subprocess.Popen(
            [sys.executable, str(WORKER), storage, name, str(CAP), "0.3", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    dying = start("die")
    deadline = time.time() + 60
    line = dying.stdout.readline()  # wait until its trial is running, so a survivor must retry it
    assert line.startswith("started"), dying.stderr.read()
    dying.wait(timeout=30)  # reaped, as a shell or submitit would: a zombie still answers kill(pid, 0)
    assert dying.returncode == -9
    workers = [start(), start()]
    outs = [w.communicate(timeout=max(1, deadline + 120 - time.time())) for w in workers]
    for w, (_, err) in zip(workers, outs):
        assert w.returncode == 0, err
    return outs


def check_study(storage, name: str) -> None:
    study = optuna.load_study(study_name=name, storage=tune.open_storage(storage))
    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in tune.FINISHED]
    assert len(finished) == CAP  # exactly the cap, over three workers
    assert len({t.user_attrs["pid"] for t in finished}) == 2  # both survivors worked on it
    killed = [
        t
        for t in trials
        if t.state == optuna.trial.TrialState.FAIL
        and "pid" in t.user_attrs
        and t.user_attrs["pid"] not in {f.user_attrs["pid"] for f in finished}
    ]
    assert len(killed) == 1
    retried = [t for t in finished if t.user_attrs.get("retry_of") == killed[0].number]
    assert len(retried) == 1 and retried[0].params == killed[0].params


def test_postgres_study_shared_by_workers(postgres):
    run_workers(postgres, "shared")
    check_study(postgres, "shared")


def test_journal_file_study_shared_by_workers(tmp_path):
    storage = f"journal:{tmp_path / 'studies.log'}"
    run_workers(storage, "shared")
    check_study(storage, "shared")
