"""GPU validation suite: the claims' phenomena in real deep networks, one command per job.

``claimcheck gpu list`` shows the jobs, ``claimcheck gpu JOB --profile smoke|cpu|small|full``
runs one and prints its verdict (see ``gpu_validation/README.md``). Every job is one readable
file with the same parts, run by one driver (:mod:`gpu_validation.driver`): a ``Config``
dataclass (units in the comments) and its ``PROFILES`` (``smoke``: CPU, seconds, part of the
test suite; ``small``: one GPU, minutes; ``full``: paper scale, for a cluster), ``units``,
``train_unit``, ``measurements`` (the per-seed arrays; the driver decides on them by the job's
rule in :mod:`~gpu_validation.rules`) and ``run(profile, seed, device, out_dir, resume) -> dict`` returning
the result that is also written to ``OUT/JOB-PROFILE-seedS/result.json``.

The machinery, one concern per module: :mod:`~gpu_validation.device` (devices, threads,
precision, compilation, timing), :mod:`~gpu_validation.run` (seeds, run directory, units,
checkpoints, accounting, errors), :mod:`~gpu_validation.loop` (training loop, batches,
evaluation), :mod:`~gpu_validation.rules` (the verdict rules, torch-free), :mod:`~gpu_validation.results` (figures),
:mod:`~gpu_validation.batched` / :mod:`~gpu_validation.packing` (members trained together).

Jobs are imported lazily (torch is only needed when one runs):

>>> sorted(JOBS)
['deep_double_descent', 'feature_calibration', 'hypersphere', 'norm_growth', 'pac_bayes_mnist', 'real_vs_ideal']
"""
from __future__ import annotations

import importlib

__all__ = ["JOBS", "PROFILE_NAMES", "get_job", "describe"]

JOBS: dict[str, str] = {
    "deep_double_descent": "claimcheck.gpu_validation.double_descent",
    "real_vs_ideal": "claimcheck.gpu_validation.real_vs_ideal",
    "hypersphere": "claimcheck.gpu_validation.hypersphere",
    "pac_bayes_mnist": "claimcheck.gpu_validation.pac_bayes_mnist",
    "feature_calibration": "claimcheck.gpu_validation.feature_calibration",
    "norm_growth": "claimcheck.gpu_validation.norm_growth",
}
"""job name -> module (each with the parts listed in :mod:`gpu_validation.driver`)."""

PROFILE_NAMES = ("smoke", "cpu", "small", "full")


def get_job(name: str):
    """The module of job ``name``; ValueError listing the jobs for an unknown name."""
    if name not in JOBS:
        raise ValueError(f"unknown GPU job {name!r}; choose one of: {', '.join(JOBS)}")
    return importlib.import_module(JOBS[name])


def describe(name: str) -> str:
    """First line of the job module's docstring."""
    doc = (get_job(name).__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""
