"""What the command line asked ``run`` for, apart from the runner so that reading it imports no torch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .profiles import Profile, get_profile


@dataclass(frozen=True)
class RunOptions:
    """What the command line asked for."""

    report: str
    profile: str = "quick"
    only: tuple[str, ...] = ()
    force: bool = False
    data_root: Path | None = None
    device: str = "auto"
    seed: int = 0
    dry_run: bool = False  # the profile's configuration for 2 steps on tiny synthetic data (core.dryrun)
    workers: int = 1  # processes that run the trials of each Optuna study together (core.workers)

    @property
    def run_profile(self) -> Profile:
        profile = get_profile(self.profile)
        return profile.as_dry_run() if self.dry_run else profile
