"""Monte Carlo experiments for PAC-Bayes bounds: coverage of a bound over independent samples.

Two constructions whose true risks are known in closed form, so "the bound holds" is
decided exactly in every draw (the only randomness is the training sample):

* **Gibbs posteriors over thresholds** (:func:`threshold_gibbs_draws`): x ~ U[0, 1],
  clean label 1[x > t*], flipped with probability ``noise``; the class is the m + 1
  thresholds t_j = j/m (t* = j*/m is one of them), h_j(x) = 1[x > t_j], true risk
  R_j = noise + (1 - 2 noise)|t_j - t*|. A sample enters only through the counts of
  (bin, label) pairs over the m bins [t_j, t_{j+1}), which are Multinomial(n, .), so a
  draw costs O(m) and draws are vectorised. The prior P is uniform on the class; the
  posterior is the Gibbs posterior Q_j ∝ exp(-beta * errors_j) (beta = inf: the ERM
  point mass). E_Q R, E_Q R_hat and KL(Q||P) are exact finite sums.
* **Best of k random classifiers on pure-noise labels** (:func:`best_of_k_noise_errors`):
  labels are fair coins independent of x and each of k classifiers predicts independent
  fair coins, so the error counts are k i.i.d. Binomial(n, 1/2) and every true risk is
  exactly 1/2. Selecting the best of k (k point-mass priors P_j = delta_{h_j}, posterior
  Q = P_j, KL = 0) and reporting its bound without the ln k charge overfits the choice
  (seed 003: "probability of bounds holding 1 - delta -> 1 - k delta"). The minimum of k
  binomials is sampled exactly by inversion of its CDF 1 - P(S > s)^k, O(n) per k and any
  k (10^7 included); ``method="brute"`` draws all k counts (tests check they agree).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special, stats

from theory._validation import check_int, check_real

__all__ = [
    "min_binomial",
    "best_of_k_noise_errors",
    "tuning_coverage_draws",
    "tuning_coverage_exact",
    "ThresholdDraws",
    "threshold_true_risks",
    "threshold_gibbs_draws",
    "bound_coverage_draws",
]

BoundFn = Callable[..., "np.ndarray | float"]


def min_binomial(n: int, p: float, k, reps: int, rng: np.random.Generator, method: str = "inverse") -> np.ndarray:
    """``reps`` independent draws of min(S_1, ..., S_k), S_j i.i.d. Binomial(n, p).

    ``method="inverse"``: U ~ U(0, 1), return the least s with P(min <= s) = 1 - P(S > s)^k
    >= U (exact; P(S > s)^k is computed as exp(k log sf) so k may be huge).
    ``method="brute"``: draw the k counts (cost reps * k; for tests and small k).
    """
    n = check_int("n", n, min_value=1)
    p = check_real("p", p, min_value=0, max_value=1)
    k = check_int("k", k, min_value=1)
    reps = check_int("reps", reps, min_value=1)
    if method == "brute":
        return rng.binomial(n, p, size=(reps, k)).min(axis=1)
    if method != "inverse":
        raise ValueError(f"method={method!r}, must be one of 'inverse', 'brute'")
    s = np.arange(n + 1)
    log_sf = stats.binom.logsf(s, n, p)  # log P(S > s)
    cdf_min = -np.expm1(k * log_sf)  # P(min <= s), accurate when k log_sf is tiny
    cdf_min[-1] = 1.0
    u = rng.random(reps)
    return np.searchsorted(cdf_min, u, side="left")


def best_of_k_noise_errors(n: int, k, reps: int, rng: np.random.Generator, method: str = "inverse") -> np.ndarray:
    """Empirical risk (errors / n) of the best of k random classifiers on pure-noise labels.

    Every classifier's true risk is exactly 1/2; see the module docstring.
    """
    return min_binomial(n, 0.5, k, reps, rng, method) / n


def tuning_coverage_draws(n: int, k, delta: float, bound_fn: BoundFn, reps: int, rng: np.random.Generator,
                          charge_k=None, method: str = "inverse") -> np.ndarray:
    """Boolean array: in each of ``reps`` draws, does the reported bound hold for the selected classifier?

    Each draw: k point-mass priors on random classifiers (pure-noise labels), the one with
    the smallest empirical risk (hence the smallest bound; KL = 0 for all) is reported with
    ``bound_fn(emp_risk, 0.0, n, delta, charge_k)``; ``charge_k`` defaults to k (the valid,
    union-bound charge). The event is {1/2 <= bound}.
    """
    emp = best_of_k_noise_errors(n, k, reps, rng, method)
    b = np.asarray(bound_fn(emp, 0.0, n, delta, k if charge_k is None else charge_k), dtype=float)
    return 0.5 <= b


def tuning_coverage_exact(n: int, k, delta: float, bound_fn: BoundFn, charge_k=None) -> float:
    """Exact coverage of the best-of-k experiment of :func:`tuning_coverage_draws`.

    The bound is increasing in the empirical risk, so it holds iff the minimum count is at
    least s* = min{s : bound(s/n) >= 1/2}; the minimum of k i.i.d. Binomial(n, 1/2) exceeds
    s* - 1 with probability P(S >= s*)^k.
    """
    n = check_int("n", n, min_value=1)
    k = check_int("k", k, min_value=1)
    s = np.arange(n + 1)
    b = np.asarray(bound_fn(s / n, 0.0, n, delta, k if charge_k is None else charge_k), dtype=float)
    ok = np.nonzero(b >= 0.5)[0]
    if ok.size == 0:
        return 0.0
    s_star = int(ok[0])
    log_tail = float(stats.binom.logsf(s_star - 1, n, 0.5)) if s_star > 0 else 0.0
    return float(np.exp(k * log_tail))


@dataclass(frozen=True)
class ThresholdDraws:
    """Per-draw Gibbs-posterior quantities of the threshold experiment (arrays of length reps)."""

    emp_risk: np.ndarray  # E_Q R_hat
    true_risk: np.ndarray  # E_Q R (exact)
    kl: np.ndarray  # KL(Q || P), P uniform on the m + 1 thresholds


def threshold_true_risks(grid: int, noise: float, target: int) -> np.ndarray:
    """R_j = noise + (1 - 2 noise) |j - target| / grid for thresholds t_j = j / grid, j = 0..grid."""
    j = np.arange(grid + 1)
    return noise + (1 - 2 * noise) * np.abs(j - target) / grid


def threshold_gibbs_draws(n: int, grid: int, noise: float, beta: float, reps: int, rng: np.random.Generator,
                          target: int | None = None) -> ThresholdDraws:
    """``reps`` training samples of the threshold problem; the Gibbs posterior of each.

    ``grid`` = m (m + 1 thresholds j/m), ``target`` = j* (default m // 2, t* = j*/m),
    ``noise`` = label-flip probability in [0, 1/2], ``beta`` = inverse temperature per
    error (inf: the ERM, ties split evenly).
    """
    n = check_int("n", n, min_value=1)
    m = check_int("grid", grid, min_value=1)
    noise = check_real("noise", noise, min_value=0, max_value=0.5)
    beta = check_real("beta", beta, min_value=0, allow_inf=True)
    reps = check_int("reps", reps, min_value=1)
    target = m // 2 if target is None else check_int("target", target, min_value=0, max_value=m)
    above = np.arange(m) >= target  # bin [j/m, (j+1)/m) lies right of t*
    p1 = np.where(above, 1 - noise, noise) / m  # P(bin b, y = 1)
    p0 = np.where(above, noise, 1 - noise) / m
    counts = rng.multinomial(n, np.concatenate([p1, p0]), size=reps)  # (reps, 2m)
    c1, c0 = counts[:, :m], counts[:, m:]
    zeros = np.zeros((reps, 1), dtype=np.int64)
    ones_before = np.concatenate([zeros, np.cumsum(c1, axis=1)], axis=1)  # y=1 left of t_j: errors
    zeros_from = np.concatenate([np.cumsum(c0[:, ::-1], axis=1)[:, ::-1], zeros], axis=1)  # y=0 right of t_j
    errors = ones_before + zeros_from  # (reps, m + 1)
    emp = errors / n
    if np.isinf(beta):
        logits = np.where(errors == errors.min(axis=1, keepdims=True), 0.0, -np.inf)
    else:
        logits = -beta * errors.astype(float)
    log_q = logits - special.logsumexp(logits, axis=1, keepdims=True)
    q = np.exp(log_q)
    kl = np.sum(special.xlogy(q, q), axis=1) + np.log(m + 1)
    risks = threshold_true_risks(m, noise, target)
    return ThresholdDraws(emp_risk=np.clip(np.sum(q * emp, axis=1), 0.0, 1.0),
                          true_risk=q @ risks, kl=np.maximum(kl, 0.0))


def bound_coverage_draws(draws: ThresholdDraws, n: int, delta: float, bound_fn: BoundFn) -> np.ndarray:
    """Boolean array: does ``bound_fn(E_Q R_hat, KL, n, delta)`` cover E_Q R in each draw?"""
    b = np.asarray(bound_fn(draws.emp_risk, draws.kl, n, delta, 1), dtype=float)
    return draws.true_risk <= b
