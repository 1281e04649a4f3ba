"""One worker of a shared Optuna study (run as a process by test_shared_study.py):
``python shared_study_worker.py STORAGE STUDY CAP SECONDS [die]`` optimises ``STUDY`` until it holds
``CAP`` finished trials; with ``die`` the process kills itself (SIGKILL) in the middle of its first trial."""

import os
import signal
import sys
import time
from pathlib import Path

from dljournal.study import tune

storage, name, cap, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
die = sys.argv[5:] == ["die"]
os.environ[tune.STORAGE_ENV] = storage


def objective(trial):
    x = trial.suggest_float("x", -1.0, 1.0)
    if die:
        print(f"started {trial.number}", flush=True)
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(seconds)
    return x * x


study = tune.study(Path("unused.db"), name, seed=0, startup_trials=2)
print(f"ran {tune.optimize(study, objective, cap, log=lambda m: None)}", flush=True)
