"""Results of the GPU jobs: the bootstrap over seeds, today's decision rules, and the figure helper.

A job keeps two things apart:

* its *statistic* -- ``statistic(cfg, m)``, a pure function of the per-seed measurements ``m``
  (arrays with the seed axis first), defined in the job module;
* its *decision* -- ``verdict(cfg, m, *, seed, profile)``, one function per job that turns the
  statistic into a :class:`claimcheck.verdict.Verdict`. Today every decision is a percentile
  bootstrap over seeds (:func:`bootstrap_seeds`) read by :func:`sign_verdict` or
  :func:`upper_verdict`; that rule under-covers at 3 seeds and is to be replaced by the check
  objects of ``claimcheck/checks.py`` -- by replacing each job's ``verdict`` function only.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from claimcheck.estimate import Estimate
from claimcheck.io import jsonable
from claimcheck.verdict import Status, Verdict
from claimcheck.gpu_validation.run import derive_seed

__all__ = ["MIN_SEEDS", "bootstrap", "bootstrap_seeds", "resample_seeds", "sign_verdict", "upper_verdict", "save_figure"]

MIN_SEEDS = 3
"""A bootstrap over fewer seeds has too few distinct resamples to pass or fail a claim."""


def bootstrap(samples: np.ndarray, stat: Callable[[np.ndarray], float], *, seed: int = 0, n_boot: int = 2000,
              level: float = 0.95) -> dict:
    """Percentile bootstrap over the first axis (seeds) of ``samples``.

    Returns ``{"value", "ci_low", "ci_high", "se", "n"}``: the statistic on all seeds, the
    ``level`` percentile interval and the bootstrap SE (nan and a degenerate interval when
    there is a single seed: no CI can be had).

    >>> b = bootstrap(np.array([1.0, 2.0, 3.0, 4.0]), np.mean)
    >>> b["ci_low"] < b["value"] < b["ci_high"]
    True
    """
    samples = np.asarray(samples, dtype=float)
    return bootstrap_seeds(samples.shape[0], lambda idx: stat(samples[idx]), seed=seed, n_boot=n_boot, level=level)


def bootstrap_seeds(n: int, stat_of: Callable[[np.ndarray], float], *, seed: int = 0, n_boot: int = 2000,
                    level: float = 0.95) -> dict:
    """Percentile bootstrap of ``stat_of(seed_indices)`` over ``n`` seeds (resampled with
    replacement); ``stat_of(np.arange(n))`` is the value. See :func:`bootstrap`."""
    value = float(stat_of(np.arange(n)))
    if n < 2:
        return {"value": value, "ci_low": value, "ci_high": value, "se": float("nan"), "n": n}
    rng = np.random.default_rng(derive_seed(seed, "bootstrap"))
    idx = rng.integers(0, n, size=(n_boot, n))
    reps = np.array([stat_of(i) for i in idx], dtype=float)
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    return {"value": value, "ci_low": float(lo), "ci_high": float(hi), "se": float(reps.std(ddof=1)), "n": n}


def resample_seeds(m: dict, keys: Sequence[str], idx: np.ndarray) -> dict:
    """A copy of the measurements ``m`` with the per-seed arrays ``keys`` indexed by ``idx``.

    >>> resample_seeds({"e": [[1, 2], [3, 4]], "x": [1, 2]}, ["e"], np.array([1, 1]))["e"].tolist()
    [[3.0, 4.0], [3.0, 4.0]]
    """
    out = dict(m)
    for k in keys:
        out[k] = np.asarray(m[k], dtype=float)[idx]
    return out


def _verdict(claim_id, status, threshold, b, seed, params, profile, detail, extra, level):
    se = b["se"]
    z = (b["value"] - threshold) / se if se and math.isfinite(se) and se > 0 else 0.0
    return Verdict(
        claim_id=claim_id, status=status, prediction=float(threshold),
        estimate=Estimate(b["value"], se, b["n"]), z=float(z), alpha=1 - level, seed=seed,
        params=jsonable(params), budget=profile, detail=detail,
        extra=jsonable({"ci_low": b["ci_low"], "ci_high": b["ci_high"], "ci_level": level, **extra}),
    )


def sign_verdict(claim_id: str, b: dict, *, statistic: str, seed: int, params: dict, profile: str,
                 threshold: float = 0.0, extra: dict | None = None, level: float = 0.95,
                 unmet: str | None = None) -> Verdict:
    """Claim "statistic > threshold": passed if the bootstrap CI lies above the threshold,
    failed if it lies at or below it, underpowered otherwise (fewer than MIN_SEEDS seeds, or a
    precondition of the claim not met: ``unmet`` says which)."""
    ci = f"{b['value']:.4g} [{b['ci_low']:.4g}, {b['ci_high']:.4g}] ({level:.0%} bootstrap CI over {b['n']} seeds)"
    if b["n"] < MIN_SEEDS:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci}: fewer than {MIN_SEEDS} seeds, not a verdict"
    elif unmet:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci}; precondition not met: {unmet}"
    elif b["ci_low"] > threshold:
        status, detail = Status.PASSED, f"{statistic} = {ci} > {threshold:g}"
    elif b["ci_high"] <= threshold:
        status, detail = Status.FAILED, f"{statistic} = {ci} <= {threshold:g}: contradicts the claim"
    else:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci} straddles {threshold:g}: more seeds needed"
    return _verdict(claim_id, status, threshold, b, seed, params, profile, detail, extra or {}, level)


def upper_verdict(claim_id: str, b: dict, *, statistic: str, tolerance: float, seed: int, params: dict,
                  profile: str, extra: dict | None = None, level: float = 0.95, unmet: str | None = None) -> Verdict:
    """Claim "statistic <= tolerance": passed if the CI lies below, failed if above, else
    underpowered (as :func:`sign_verdict`, including an ``unmet`` precondition)."""
    ci = f"{b['value']:.4g} [{b['ci_low']:.4g}, {b['ci_high']:.4g}] ({level:.0%} bootstrap CI over {b['n']} seeds)"
    if b["n"] < MIN_SEEDS:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci}: fewer than {MIN_SEEDS} seeds, not a verdict"
    elif unmet:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci}; precondition not met: {unmet}"
    elif b["ci_high"] <= tolerance:
        status, detail = Status.PASSED, f"{statistic} = {ci} <= {tolerance:g}"
    elif b["ci_low"] > tolerance:
        status, detail = Status.FAILED, f"{statistic} = {ci} > {tolerance:g}: contradicts the claim"
    else:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci} straddles {tolerance:g}: more seeds needed"
    return _verdict(claim_id, status, tolerance, b, seed, params, profile, detail, extra or {}, level)


def save_figure(draw: Callable, out_dir, name: str) -> list[str]:
    """Draw one panel with ``draw(ax)`` in the project's paper style (NeurIPS, half column)
    and write ``out_dir/name.pdf`` + ``.png`` atomically (:func:`paper_figures.style.save`)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from claimcheck.paper_figures import style

    with plt.rc_context(style.rc("neurips", column="half")):
        fig, ax = plt.subplots()
        draw(ax)
        return [str(p) for p in style.save(fig, out_dir, name)]
