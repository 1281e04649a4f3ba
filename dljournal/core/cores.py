"""How many cores this process may use, and torch threads per process when several share them."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: ``taskset``, a Slurm allocation)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_per_process(processes: int) -> int:
    """torch intra-op threads for each of ``processes`` processes sharing this machine, so that
    threads ≤ cores: measured here, two 2-thread trainings on 2 cores each ran 4-5× slower than alone."""
    return max(1, usable_cores() // max(processes, 1))
