"""Where stale experiments train: here, one after another (``local``), or as jobs through submitit
(``submitit``): Slurm on a cluster, subprocesses on one machine, one GPU each.

The executor is a thin layer over the runner's "run one experiment" step. The launcher checks the
cache and holds the report's lock; each job trains one experiment and saves its result atomically
into the shared build folder, exactly as a local run does. An experiment is submitted once what it
needs has finished; a failed job names its log and disturbs no finished result; a second launch
after an interruption submits only what is still missing.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, replace

from .cache import cache_state, key_parts
from .cores import threads_per_process, usable_cores
from .project import Project, ProjectError
from .registry import ExperimentSpec, load_experiments
from .runner import RunOptions, RunState, clean_tensorboard_staging, log, preflight, run_one

EXECUTORS = ("local", "submitit")


@dataclass(frozen=True)
class JobOptions:
    """How jobs are asked for (``run --executor submitit``)."""

    cluster: str | None = None  # None: Slurm where sbatch exists, else local subprocesses; or "slurm", "local"
    jobs: int = 0  # jobs at once; 0: one per GPU (``gpus_per_job`` each), else 2
    gpus_per_job: int = 0
    slurm_partition: str | None = None
    timeout_min: int = 24 * 60
    poll_seconds: float = 1.0


def train_job(
    project: Project, opts: RunOptions, exp_id: str, parts: dict[str, str], threads: int, job: JobOptions
) -> float:
    """What one job runs: experiment ``exp_id`` under the key the launcher computed; its seconds."""
    import torch

    torch.set_num_threads(threads)  # jobs sharing a machine: threads ≤ cores, or each runs 4-5× slower
    state, spec = job_state(project, opts, exp_id)
    if spec.item_jobs:  # each item of its ctx.map a job of its own
        from .context import MAPPER
        from .items import item_jobs  # it submits jobs through this module

        MAPPER.set(item_jobs(project, opts, job, exp_id, parts))
    return run_one(spec, state, parts)


def job_state(project: Project, opts: RunOptions, exp_id: str) -> tuple[RunState, ExperimentSpec]:
    """In a job's fresh process: the experiments imported, the run's checks passed, ``exp_id``'s spec."""
    load_experiments(project, opts.report)
    state, specs = preflight(project, replace(opts, only=(exp_id,)))
    return state, next(s for s in specs if s.id == exp_id)


def run_jobs(project: Project, opts: RunOptions, job: JobOptions) -> int:
    """Submit every stale experiment of the selection as a job, in the order ``needs`` allows; show
    one line per change of a job's state; returns the number that failed (or could not run)."""
    state, specs = preflight(project, opts)
    folder = project.build / "jobs" / opts.report
    with state.store.lock(opts.report):  # no other run of this report while jobs write into it
        state.store.recover(opts.report)
        state.store.clean_staging(opts.report)
        clean_tensorboard_staging(project)
        keys = {s.id: key_parts(s, state.profile, project, state.data_root, opts.seed) for s in specs}
        todo = _stale(state, opts, specs, keys)
        if not todo:
            return 0
        executor = make_executor(job, folder)
        gpus = _gpus(job)
        slots = job.jobs or (len(gpus) // max(job.gpus_per_job, 1) if gpus and job.gpus_per_job else 2)
        threads = threads_per_process(slots) if executor.cluster == "local" else usable_cores()
        log(
            f"report {opts.report}: {len(todo)} job(s) through submitit ({executor.cluster}), {slots} at once, "
            f"logs in {folder}"
        )
        return _supervise(executor, project, opts, job, todo, keys, slots, gpus, threads)


def _stale(state: RunState, opts: RunOptions, specs: list[ExperimentSpec], keys: dict) -> list[ExperimentSpec]:
    forced = set(opts.only or [s.id for s in specs]) if opts.force else set()
    todo = []
    for spec in specs:
        cached, why = cache_state(state.store, spec, keys[spec.id])
        if cached == "fresh" and spec.id not in forced:
            log(f"  {spec.id} skipped, {why}")
        else:
            todo.append(spec)
    return todo


def make_executor(job: JobOptions, folder):
    """submitit's Slurm executor where ``sbatch`` exists (or ``cluster="slurm"``), else its local one
    (named directly: AutoExecutor finds them through pkg_resources, gone from recent setuptools)."""
    import submitit

    cluster = job.cluster or ("slurm" if shutil.which("sbatch") else "local")
    if cluster == "slurm":
        executor = submitit.SlurmExecutor(folder=folder)
        executor.update_parameters(time=job.timeout_min, gpus_per_node=job.gpus_per_job or None)
        if job.slurm_partition:
            executor.update_parameters(partition=job.slurm_partition)
    elif cluster == "local":
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=job.timeout_min, gpus_per_node=job.gpus_per_job)
    else:
        raise ProjectError(f"unknown cluster {cluster!r}; choose slurm or local")
    executor.cluster = cluster
    return executor


def _gpus(job: JobOptions) -> list[int]:
    if not job.gpus_per_job:
        return []
    import torch

    return list(range(torch.cuda.device_count()))


def _supervise(executor, project, opts, job, todo, keys, slots, gpus, threads) -> int:
    waiting = {s.id: s for s in todo}
    running: dict[str, tuple] = {}  # id -> (job, started, its GPUs)
    failed: list[str] = []
    free = list(gpus)
    while waiting or running:
        for exp_id, spec in list(waiting.items()):
            blocked = [d for d in spec.needs if d in failed]
            if blocked:
                log(f"  {exp_id}: not run, it needs {', '.join(blocked)}, which failed")
                failed.append(waiting.pop(exp_id).id)
            elif len(running) < slots and not any(d in waiting or d in running for d in spec.needs):
                mine = [free.pop(0) for _ in range(job.gpus_per_job)] if free else []
                if mine and executor.cluster == "local":  # one GPU of this machine per job
                    executor.update_parameters(visible_gpus=tuple(mine))
                if executor.cluster == "slurm":
                    executor.update_parameters(job_name=f"{opts.report}-{exp_id}")
                submitted = executor.submit(train_job, project, opts, exp_id, keys[exp_id], threads, job)
                running[exp_id] = (submitted, time.perf_counter(), mine)
                log(f"  {exp_id}: queued as job {submitted.job_id}")
                del waiting[exp_id]
        time.sleep(job.poll_seconds)
        for exp_id, (submitted, started, mine) in list(running.items()):
            if not submitted.done():
                continue
            del running[exp_id]
            free += mine
            elapsed = time.perf_counter() - started
            try:
                submitted.result()
                log(f"  {exp_id}: done in {elapsed:.1f}s (job {submitted.job_id})")
            except Exception as exc:  # a failed, killed or cancelled job: its log says why
                log(f"  {exp_id}: FAILED after {elapsed:.1f}s: {job_error(exc)}; log: {submitted.paths.stderr}")
                failed.append(exp_id)
    log(f"{len(todo) - len(failed)}/{len(todo)} job(s) ok" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return len(failed)


def job_error(exc: Exception) -> str:
    """The job's own error out of submitit's report (a traceback and the log paths)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Interrupt|Exit)\b", line)]
    return (errors or lines or [type(exc).__name__])[-1][:500]
