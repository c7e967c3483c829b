"""Launch GPU-job sweeps through submitit: a ``full`` sweep becomes one SLURM job array.

Every array task runs one (seed, shard) of a job: with ``shards = m`` the task ``i``
trains the units ``i, i+m, i+2m, ...`` of the sweep (widths x noise levels x replicates
for double descent) into the shared run directory ``OUT/JOB-PROFILE-seedS/units/``, and
:func:`collect` then builds the verdict from the finished units (it is the same job run
with ``resume=True``: nothing is retrained). Preempted tasks resubmitted with the same
arguments resume from their checkpoints.

On a SLURM cluster (one GPU per task)::

    claimcheck gpu deep_double_descent --profile full --data-dir ~/data/cifar-10-batches-py \\
        --slurm --partition gpu --shards 64 --timeout-min 1440 --out runs

or from Python::

    from claimcheck.gpu_validation import launch
    jobs = launch.submit("deep_double_descent", "full", seeds=[0], shards=64, out_dir="runs",
                         executor="slurm", slurm_partition="gpu", timeout_min=1440)
    launch.wait(jobs); results = launch.collect("deep_double_descent", "full", [0], "runs")

``executor="local"`` runs the tasks as local processes and ``"debug"`` in this process
(both used by the tests).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

__all__ = ["run_task", "make_executor", "submit", "wait", "collect"]


def run_task(job: str, profile: str, seed: int, out_dir: str, shard: tuple[int, int] | None = None,
             device: str | None = None, overrides: dict | None = None) -> dict:
    """One array task: run ``job`` (resuming) for ``seed``, restricted to ``shard`` if given."""
    from claimcheck.gpu_validation import get_job

    mod = get_job(job)
    return mod.run(profile, seed=seed, device=device, out_dir=out_dir, resume=True, shard=shard,
                   progress=False, **(overrides or {}))


def submit(job: str, profile: str, *, seeds: Sequence[int] = (0,), shards: int = 1, out_dir="runs",
           executor: str = "slurm", folder=None, device: str | None = None, overrides: dict | None = None,
           timeout_min: int = 60, gpus_per_node: int = 1, cpus_per_task: int = 8, mem_gb: int = 32,
           slurm_partition: str | None = None, array_parallelism: int = 64, **slurm_kwargs) -> list:
    """Submit one job array of ``len(seeds) * shards`` tasks; returns the submitit jobs.

    ``executor``: ``"slurm"`` (AutoExecutor on a SLURM cluster), ``"local"`` (local
    processes) or ``"debug"`` (in this process, when ``result()`` is called). Extra keyword
    arguments are passed to SLURM as ``slurm_<name>`` (e.g. ``account="abc"``).
    """
    from claimcheck.gpu_validation import get_job

    get_job(job)  # unknown job -> ValueError listing the jobs, before anything is submitted
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise ValueError(f"shards={shards!r}, must be an integer >= 1")
    folder = Path(folder) if folder else Path(out_dir) / "submitit" / f"{job}-{profile}"
    ex = make_executor(f"claimcheck-{job}-{profile}", executor, folder, timeout_min=timeout_min, gpus_per_node=gpus_per_node,
                       cpus_per_task=cpus_per_task, mem_gb=mem_gb, slurm_partition=slurm_partition,
                       array_parallelism=array_parallelism, **slurm_kwargs)
    tasks = [(s, (i, shards) if shards > 1 else None) for s in seeds for i in range(shards)]
    n = len(tasks)
    return ex.map_array(run_task, [job] * n, [profile] * n, [t[0] for t in tasks], [str(out_dir)] * n,
                        [t[1] for t in tasks], [device] * n, [overrides] * n)


def make_executor(name: str, executor: str, folder, *, timeout_min: int = 60, gpus_per_node: int = 1,
                  cpus_per_task: int = 8, mem_gb: int = 32, slurm_partition: str | None = None,
                  array_parallelism: int = 64, **slurm_kwargs):
    """A configured ``submitit.AutoExecutor`` (``executor``: slurm, local or debug)."""
    import submitit

    if executor not in ("slurm", "local", "debug"):
        raise ValueError(f"executor={executor!r}, must be 'slurm', 'local' or 'debug'")
    ex = submitit.AutoExecutor(folder=folder, cluster=executor)
    params = {"timeout_min": timeout_min, "name": name}
    if executor != "debug":
        params.update(gpus_per_node=gpus_per_node if executor == "slurm" else 0, cpus_per_task=cpus_per_task)
    if executor == "slurm":
        params.update(mem_gb=mem_gb, slurm_array_parallelism=array_parallelism)
        if slurm_partition:
            params["slurm_partition"] = slurm_partition
        params.update({f"slurm_{k}": v for k, v in slurm_kwargs.items()})
    ex.update_parameters(**params)
    return ex


def wait(jobs: list) -> list[dict]:
    """Block until every task has finished; their return values (raises a task's error)."""
    return [j.result() for j in jobs]


def collect(job: str, profile: str, seeds: Sequence[int], out_dir, device: str | None = "cpu",
            overrides: dict | None = None) -> list[dict]:
    """Verdicts of a finished sharded sweep: rerun each seed with ``resume=True`` (all units
    are loaded from ``units/``; nothing trains) and return the results."""
    from claimcheck.gpu_validation import get_job

    mod = get_job(job)
    return [mod.run(profile, seed=s, device=device, out_dir=out_dir, resume=True, progress=False, **(overrides or {}))
            for s in seeds]
