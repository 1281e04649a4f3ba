"""The result cache on disk: ``<results>/<report>/<EXP>/result.json`` (figure specs included),
``figures.npz`` (the arrays those specs hold) and ``artifacts/*.pt``.

Every write is atomic: a result is assembled in a staging folder and renamed into place, so a
run killed at any moment leaves finished results intact and never a half-written one. A result
replaced by one of another profile is stashed, not deleted: switching back costs nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .files import atomic_write_text, pid_alive
from .project import ProjectError
from .result import FIGURE_ARRAYS, StoredResult, validate_result

RESULT_FILE = "result.json"
STASH = ".stash"
LOCK = ".lock"


class CorruptResult(Exception):
    """A cached result that cannot be read; the runner reports it and runs the experiment again."""


class StoreError(ProjectError):
    """A result that could not be written (disk full, read-only folder): one line, old result kept."""


class ReportBusy(ProjectError):
    """Another process is running experiments of the same report in the same build folder."""


class ResultStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._held: set[str] = set()  # reports whose lock this store holds

    def folder(self, report: str, exp_id: str) -> Path:
        return self.root / report / exp_id

    def _stash_folder(self, report: str, exp_id: str, profile: str) -> Path:
        return self.root / report / STASH / f"{exp_id}.{profile}"

    # ---- reading -------------------------------------------------------------------------
    def current(self, report: str, exp_id: str) -> Path:
        """The folder that holds the result: its place, or the previous result that a run killed
        between the two renames of ``_swap_in`` left aside (``recover`` puts it back)."""
        final, old = self.folder(report, exp_id), self._old_folder(report, exp_id)
        return old if not final.exists() and old.exists() else final

    def read_raw(self, report: str, exp_id: str, folder: Path | None = None) -> dict | None:
        """The parsed result.json, None when absent; CorruptResult when unreadable. Reading never
        moves anything: a build may read while a run of the same report saves."""
        where = folder or self.current(report, exp_id)
        path = where / RESULT_FILE
        if not path.exists():
            return None
        try:
            return validate_result(json.loads(path.read_text()), where, exp_id, report)
        except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested 10^5 deep
            raise CorruptResult(f"{path}: {exc}") from exc

    def load(self, report: str, exp_id: str) -> StoredResult | None:
        where = self.current(report, exp_id)
        data = self.read_raw(report, exp_id, folder=where)
        if data is None:
            return None
        try:
            return StoredResult.from_json(data, where)
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptResult(f"{where / RESULT_FILE}: {exc}") from exc

    # ---- writing -------------------------------------------------------------------------
    def save(
        self,
        report: str,
        exp_id: str,
        payload: dict,
        figures: dict[str, tuple[Any, str]],
        artifacts: dict[str, Any] | None = None,
    ) -> Path:
        """Write figure specs, artifacts and result.json to a staging folder, then swap it into place."""
        import torch

        from ..figures import Spec
        from ..figures.spec import encode, save_arrays

        parent = self.root / report
        parent.mkdir(parents=True, exist_ok=True)
        staging = parent / f".tmp-{exp_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            staging.mkdir(parents=True)
            payload = dict(payload, figures={})
            arrays: dict = {}
            for name, (spec, caption) in figures.items():
                if not isinstance(spec, Spec):
                    raise TypeError(
                        f"{exp_id}: figure {name!r} is a {type(spec).__name__}; return a spec "
                        f"from dljournal.viz (e.g. viz.panels(...)), drawn at build time"
                    )
                payload["figures"][name] = {
                    "spec": encode(spec, arrays, f"{exp_id} figure {name!r}"),
                    "caption": caption,
                }
            if arrays:
                save_arrays(staging / FIGURE_ARRAYS, arrays)
            if artifacts:
                (staging / "artifacts").mkdir()
                for name, value in artifacts.items():
                    torch.save(value, staging / "artifacts" / f"{name}.pt")
            payload["artifacts"] = sorted(artifacts or {})
            atomic_write_text(staging / RESULT_FILE, json.dumps(payload, indent=1, allow_nan=False))
            self._swap_in(report, exp_id, staging, payload["profile"])
        except OSError as exc:  # ENOSPC, EROFS...: one line; the previous result is still in place
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(
                f"cannot save the result under {parent}: {exc.strerror or exc}; the previous result, if any, is kept"
            ) from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return self.folder(report, exp_id)

    def _swap_in(self, report: str, exp_id: str, staging: Path, profile: str) -> None:
        final, old = self.folder(report, exp_id), self._old_folder(report, exp_id)
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.rename(final, old)
        os.rename(staging, final)  # the commit point
        if old.exists():
            self._retire(report, exp_id, old, profile)

    def _retire(self, report: str, exp_id: str, old: Path, new_profile: str) -> None:
        """Keep a replaced result of another profile in the stash; drop one of the same profile."""
        old_profile = self._profile_in(old, report, exp_id)  # only a valid result is worth stashing
        if old_profile and old_profile != new_profile:
            target = self._stash_folder(report, exp_id, old_profile)
            shutil.rmtree(target, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(old, target)
        else:
            shutil.rmtree(old, ignore_errors=True)

    def restore_stashed(self, report: str, exp_id: str, profile: str, key: str) -> bool:
        """Bring back a stashed result of ``profile`` if its key is ``key``."""
        stash = self._stash_folder(report, exp_id, profile)
        try:
            data = self.read_raw(report, exp_id, folder=stash)
        except CorruptResult:
            return False
        if not data or data.get("key") != key:
            return False
        staging = stash.parent / f".tmp-{exp_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.rename(stash, staging)
        self._swap_in(report, exp_id, staging, profile)
        return True

    def recover(self, report: str) -> None:
        """Finish what a run killed between the two renames of ``_swap_in`` left: the previous
        result goes back in place, or (the new one being in place) to the stash or away. The
        runner calls this holding the report's lock, so no other run is between those renames."""
        if report not in self._held:
            raise RuntimeError(f"recover({report!r}) needs the report's lock")
        for old in (self.root / report).glob(".old-*"):
            exp_id = old.name[len(".old-") :]
            final = self.folder(report, exp_id)
            if final.exists():
                self._retire(report, exp_id, old, self._profile_in(final, report, exp_id))
            else:
                os.rename(old, final)

    def _old_folder(self, report: str, exp_id: str) -> Path:
        return self.root / report / f".old-{exp_id}"

    @staticmethod
    def _profile_in(folder: Path, report: str, exp_id: str) -> str | None:
        """The profile of the valid result in ``folder``; None when there is none."""
        try:
            return validate_result(json.loads((folder / RESULT_FILE).read_text()), folder, exp_id, report)["profile"]
        except (OSError, ValueError, RecursionError):
            return None

    # ---- one run per report and build folder -------------------------------------------
    @contextlib.contextmanager
    def lock(self, report: str, wait: float = 2.0) -> Iterator[None]:
        """Hold ``<results>/<report>/.lock`` (flock) for a run; ReportBusy naming the holder if
        another process keeps it for ``wait`` seconds. Readers never take it: they never move files."""
        path = self.root / report / LOCK
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                        raise ReportBusy(
                            f"report {report} is being run by process {pid} in {self.root.parent} "
                            f"(lock {path}); wait for it to finish or stop it"
                        ) from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self._held.add(report)
            try:
                yield
            finally:
                self._held.discard(report)
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing releases the flock

    def clean_staging(self, report: str) -> list[Path]:
        """Remove staging folders of runs that were killed (never a finished result)."""
        leftovers = []
        for folder in (self.root / report, self.root / report / STASH):
            for p in folder.glob(".tmp-*") if folder.is_dir() else ():
                if not pid_alive(int(p.name.split("-")[-2])):
                    shutil.rmtree(p, ignore_errors=True)
                    leftovers.append(p)
        return leftovers


def load_artifact(folder: Path, name: str) -> Any:
    """An artifact of a stored result; ``weights_only`` keeps torch.load from running code."""
    import torch

    path = folder / "artifacts" / f"{name}.pt"
    if not path.is_file():
        raise CorruptResult(f"{path}: artifact not found")
    return torch.load(path, weights_only=True, map_location="cpu")
