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
* **Occam bound over an Elias-gamma-coded countable class** (:func:`occam_index_draws`):
  pure-noise labels, hypotheses h_j (j = 1 .. 2^G - 1) independent fair-coin classifiers
  (true risk exactly 1/2), h_j coded by the Elias gamma code of j (L_j = 2 floor(log2 j) + 1
  bits; group g holds the 2^g indices with L = 2g + 1). The learner reports the hypothesis
  with the smallest Occam bound (KL = L ln 2). The bound fails iff some member's bound is
  < 1/2, so coverage is exactly prod_g P(S >= s*_g)^(2^g) (:func:`occam_index_exact`).
* **Occam bound for quantised linear classifiers** (:func:`occam_quantized_draws`):
  x | y ~ N(y mu, I_d); the class-mean difference, rescaled to ``max |w_j| = 1``, is quantised to
  the K = 1..K_max uniform levels of [-1, 1] and coded by :func:`theory.pac_bayes.code_length_bits`
  (arithmetic code + counts + Elias gamma of K; the codebook is fixed by K); the learner reports the K with
  the smallest Occam bound; true risk exact, R(v) = Phi(-<v, mu>/||v||).
* **Gaussian posteriors over linear classifiers** (:func:`gaussian_posterior_draws`):
  Q = N(w, sigma^2 I), P = N(0, sigma0^2 I), w = scale x (class-mean difference direction)
  fit on the sample; E_Q R_hat exact per point, E_Q R exact
  (:func:`theory.pac_bayes.gibbs_risk_linear`: mu = 0 in any d, or d = 2), KL closed form.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.theory import pac_bayes as T
from claimcheck.theory.validation import (MAX_EXACT_INT, MAX_REPS, check_callable, check_choice, check_int, check_int_array,
                                          check_real, check_rng, check_size)

special = lazy_module("scipy.special")  # imported on first use (claimcheck list/--help stay cheap)
stats = lazy_module("scipy.stats")

__all__ = [
    "min_binomial",
    "best_of_k_noise_errors",
    "tuning_coverage_draws",
    "tuning_coverage_exact",
    "ThresholdDraws",
    "threshold_true_risks",
    "threshold_gibbs_draws",
    "bound_coverage_draws",
    "occam_index_draws",
    "occam_index_exact",
    "quantized_code_lengths",
    "occam_quantized_draws",
    "gaussian_posterior_draws",
]

BoundFn = Callable[..., "np.ndarray | float"]

_MAX_N = 10**7  # sample sizes: the exact minimum-of-binomials tables have n + 1 entries


@functools.lru_cache(maxsize=16)
def _binomial_log_sf(n: int, p: float) -> np.ndarray:
    """log P(S > s) for s = 0..n, S ~ Binomial(n, p) (read-only; the last 16 (n, p) kept: the Occam
    experiment draws the minimum of 2^g binomials for every group g from the same table)."""
    log_sf = stats.binom.logsf(np.arange(n + 1), n, p)
    log_sf.setflags(write=False)
    return log_sf


def min_binomial(n: int, p: float, k, reps: int, rng: np.random.Generator, method: str = "inverse") -> np.ndarray:
    """``reps`` independent draws of min(S_1, ..., S_k), S_j i.i.d. Binomial(n, p).

    ``method="inverse"``: U ~ U(0, 1), return the least s with P(min <= s) = 1 - P(S > s)^k
    >= U (exact; P(S > s)^k is computed as exp(k log sf) so k may be huge).
    ``method="brute"``: draw the k counts (cost reps * k; for tests and small k).
    """
    n = check_int("n", n, min_value=1, max_value=_MAX_N)
    p = check_real("p", p, min_value=0, max_value=1, scalar=True)
    k = check_int("k", k, min_value=1, max_value=MAX_EXACT_INT)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    check_rng("rng", rng)
    check_choice("method", method, ("inverse", "brute"))
    if method == "brute":
        check_size("reps x k (method='brute')", reps * k)
        return rng.binomial(n, p, size=(reps, k)).min(axis=1)
    # log P(S > s), s = 0..n (tables of up to 10^5 + 1 entries kept, at most 16 of them: <= 13 MB)
    log_sf = _binomial_log_sf(n, p) if n <= 10**5 else stats.binom.logsf(np.arange(n + 1), n, p)
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
    check_callable("bound_fn", bound_fn)
    check_real("delta", delta, min_value=0, max_value=1, include_min=False, include_max=False, scalar=True)
    if charge_k is not None:
        check_real("charge_k", charge_k, min_value=1, scalar=True)
    emp = best_of_k_noise_errors(n, k, reps, rng, method)
    b = np.asarray(bound_fn(emp, 0.0, n, delta, k if charge_k is None else charge_k), dtype=float)
    return 0.5 <= b


def tuning_coverage_exact(n: int, k, delta: float, bound_fn: BoundFn, charge_k=None) -> float:
    """Exact coverage of the best-of-k experiment of :func:`tuning_coverage_draws`.

    The bound is increasing in the empirical risk, so it holds iff the minimum count is at
    least s* = min{s : bound(s/n) >= 1/2}; the minimum of k i.i.d. Binomial(n, 1/2) exceeds
    s* - 1 with probability P(S >= s*)^k.
    """
    n = check_int("n", n, min_value=1, max_value=_MAX_N)
    k = check_int("k", k, min_value=1, max_value=MAX_EXACT_INT)
    check_callable("bound_fn", bound_fn)
    check_real("delta", delta, min_value=0, max_value=1, include_min=False, include_max=False, scalar=True)
    if charge_k is not None:
        check_real("charge_k", charge_k, min_value=1, scalar=True)
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
    """R_j = noise + (1 - 2 noise) ``|j - target|`` / grid for thresholds t_j = j / grid, j = 0..grid."""
    grid = check_int("grid", grid, min_value=1, max_value=10**7)
    noise = check_real("noise", noise, min_value=0, max_value=0.5, scalar=True)
    target = check_int("target", target, min_value=0, max_value=grid)
    j = np.arange(grid + 1)
    return noise + (1 - 2 * noise) * np.abs(j - target) / grid


def threshold_gibbs_draws(n: int, grid: int, noise: float, beta: float, reps: int, rng: np.random.Generator,
                          target: int | None = None) -> ThresholdDraws:
    """``reps`` training samples of the threshold problem; the Gibbs posterior of each.

    ``grid`` = m (m + 1 thresholds j/m), ``target`` = j* (default m // 2, t* = j*/m),
    ``noise`` = label-flip probability in [0, 1/2], ``beta`` = inverse temperature per
    error (inf: the ERM, ties split evenly).
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    m = check_int("grid", grid, min_value=1, max_value=10**6)
    noise = check_real("noise", noise, min_value=0, max_value=0.5, scalar=True)
    beta = check_real("beta", beta, min_value=0, allow_inf=True, scalar=True)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    check_rng("rng", rng)
    check_size("reps x 2 grid", reps * 2 * m)
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
    excess = errors - errors.min(axis=1, keepdims=True)  # the same posterior; exp(0) = 1 at the minimum, no -inf - -inf
    if np.isinf(beta):
        logits = np.where(excess == 0, 0.0, -np.inf)
    else:
        logits = -beta * excess.astype(float)
    log_q = logits - special.logsumexp(logits, axis=1, keepdims=True)
    q = np.exp(log_q)
    kl = np.sum(special.xlogy(q, q), axis=1) + np.log(m + 1)
    risks = threshold_true_risks(m, noise, target)
    return ThresholdDraws(emp_risk=np.clip(np.sum(q * emp, axis=1), 0.0, 1.0),
                          true_risk=q @ risks, kl=np.maximum(kl, 0.0))


def bound_coverage_draws(draws: ThresholdDraws, n: int, delta: float, bound_fn: BoundFn) -> np.ndarray:
    """Boolean array: does ``bound_fn(E_Q R_hat, KL, n, delta)`` cover E_Q R in each draw?"""
    if not isinstance(draws, ThresholdDraws):
        raise TypeError(f"draws={draws!r:.60}, must be a ThresholdDraws (from threshold_gibbs_draws or gaussian_posterior_draws)")
    check_callable("bound_fn", bound_fn)
    b = np.asarray(bound_fn(draws.emp_risk, draws.kl, n, delta, 1), dtype=float)
    return draws.true_risk <= b


# --------------------------------------------------------------------------- Occam: Elias-gamma class
def _occam_group_bounds(n, groups, delta, bound_fn, charge):
    """Bound of every error count s = 0..n in every Elias-gamma group: array (groups, n + 1).

    The library's own bounds (:data:`theory.pac_bayes.BOUNDS`) go through :func:`_library_table`;
    any other bound function (a user's, a memoised one) row by row."""
    if bound_fn in T.BOUNDS.values():
        return _library_table(n, groups, delta, bound_fn, charge)
    s = np.arange(n + 1) / n
    return np.stack([np.asarray(bound_fn(s, charge * (2 * g + 1) * math.log(2), n, delta, 1), dtype=float)
                     for g in range(groups)])


@functools.lru_cache(maxsize=32)
def _library_table(n, groups, delta, bound_fn, charge):
    """:func:`_occam_group_bounds` for a bound of :data:`theory.pac_bayes.BOUNDS`. Those are pure and
    computed element by element (every operation broadcasts), so one call on the (groups, n + 1)
    grid gives bit for bit the rows of per-group calls (checked in the tests), and the table is kept
    (read-only, the last 32): a check's doubling rounds, and checks of the same point, reuse the
    64-halving kl inverses instead of recomputing the same numbers."""
    s = np.arange(n + 1) / n
    kls = np.array([charge * (2 * g + 1) * math.log(2) for g in range(groups)])
    table = np.asarray(bound_fn(s[None, :], kls[:, None], n, delta, 1), dtype=float)
    table.setflags(write=False)
    return table


def occam_index_draws(n: int, groups: int, delta: float, bound_fn: BoundFn, reps: int, rng: np.random.Generator,
                      charge: float = 1.0) -> np.ndarray:
    """Boolean array: does the Occam bound of the selected hypothesis cover its risk (1/2)?

    Hypotheses j = 1 .. 2^groups - 1 on pure-noise labels, Elias-gamma code lengths; the
    learner reports min_j bound(R_hat_j, charge x L_j ln 2) (``charge`` = 1: the Occam bound;
    other values are the mutants). Within a group the bound is smallest at the smallest error
    count, drawn exactly by :func:`min_binomial` (2^g classifiers).
    """
    n = check_int("n", n, min_value=1, max_value=10**6)
    groups = check_int("groups", groups, min_value=1, max_value=40)
    charge = check_real("charge", charge, min_value=0, max_value=1e300, scalar=True)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    check_rng("rng", rng)
    check_callable("bound_fn", bound_fn)
    check_real("delta", delta, min_value=0, max_value=1, include_min=False, include_max=False, scalar=True)
    table = _occam_group_bounds(n, groups, delta, bound_fn, charge)
    best = np.full(reps, np.inf)
    for g in range(groups):
        m = min_binomial(n, 0.5, 2**g, reps, rng)
        best = np.minimum(best, table[g, m])
    return 0.5 <= best


def occam_index_exact(n: int, groups: int, delta: float, bound_fn: BoundFn, charge: float = 1.0) -> float:
    """Exact coverage of :func:`occam_index_draws`: prod_g P(S >= s*_g)^(2^g), S ~ Binomial(n, 1/2)."""
    n = check_int("n", n, min_value=1, max_value=10**6)
    groups = check_int("groups", groups, min_value=1, max_value=40)
    check_callable("bound_fn", bound_fn)
    check_real("delta", delta, min_value=0, max_value=1, include_min=False, include_max=False, scalar=True)
    table = _occam_group_bounds(n, groups, delta, bound_fn, check_real("charge", charge, min_value=0, max_value=1e300, scalar=True))
    log_cov = 0.0
    for g in range(groups):
        ok = np.nonzero(table[g] >= 0.5)[0]
        if ok.size == 0:
            return 0.0
        s_star = int(ok[0])
        log_cov += 2**g * (float(stats.binom.logsf(s_star - 1, n, 0.5)) if s_star > 0 else 0.0)
    return float(np.exp(log_cov))


# --------------------------------------------------------------------------- Occam: quantised weights
def quantized_code_lengths(symbols: np.ndarray, num_levels: int, codebook_bits_per_level: int = 32) -> np.ndarray:
    """Row-wise :func:`theory.pac_bayes.code_length_bits` of a (reps, d) symbol array (vectorised)."""
    num_levels = check_int("num_levels", num_levels, min_value=1, max_value=2**16)
    codebook_bits_per_level = check_int("codebook_bits_per_level", codebook_bits_per_level, min_value=0, max_value=MAX_EXACT_INT)
    s = check_int_array("symbols", symbols, min_value=0, max_value=num_levels - 1, ndim=2)
    check_size("symbols x num_levels", s.size * num_levels)
    d = s.shape[1]
    counts = (s[:, :, None] == np.arange(num_levels)).sum(axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        payload = -np.sum(np.where(counts > 0, counts * np.log2(counts / d), 0.0), axis=1)
    side = num_levels * math.ceil(math.log2(d + 1)) + num_levels * codebook_bits_per_level + T.elias_gamma_bits(num_levels)
    return np.ceil(payload - 1e-9) + 2 + side


def _direction(d: int) -> np.ndarray:
    u = np.arange(1, d + 1, dtype=float)
    return u / np.linalg.norm(u)


_CHUNK = 500  # replicates per block of the (reps, n, d) samples


def _quantize_levels(u: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Symbols and values of u in [-1, 1] quantised to the K uniform levels of [-1, 1] (K = 1: -1)."""
    cb = np.linspace(-1.0, 1.0, K) if K > 1 else np.array([-1.0])
    sym = np.zeros(u.shape, dtype=int) if K == 1 else np.clip(np.rint((u + 1) / 2 * (K - 1)), 0, K - 1).astype(int)
    return sym, cb[sym]


def _shifted(z: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``mu + z`` for z of shape (..., d), computed in place: the same floats (addition commutes),
    column by column for small d (numpy's broadcast add runs a loop of length d per sample)."""
    if z.shape[-1] <= 8:
        for j in range(z.shape[-1]):
            z[..., j] += mu[j]
    else:
        z += mu
    return z


def _mean_over_samples(z: np.ndarray) -> np.ndarray:
    """``z.mean(axis=1)`` of a (reps, n, d) array, bit for bit: for d >= 2 numpy adds the n rows of
    each replicate one after the other in both (its reduction runs along the contiguous d axis, and so
    does einsum's), einsum with 4x less loop overhead; d = 1 (where both may sum pairwise) via mean
    itself. Checked bit for bit in the tests."""
    if z.shape[2] < 2:
        return z.mean(axis=1)
    return np.einsum("rnd->rd", z) / z.shape[1]


def _row_norms(z: np.ndarray) -> np.ndarray:
    """``np.linalg.norm(z, axis=2)``, bit for bit: numpy forms sqrt(add.reduce(z * z, axis=2)), which for
    d = 2 is sqrt(z0^2 + z1^2) (a reduction adds the second element to the first), written out so:
    ~5x faster than a reduction along a length-2 axis. Checked bit for bit in the tests."""
    if z.shape[2] == 2:
        z0, z1 = z[..., 0], z[..., 1]
        return np.sqrt(z0 * z0 + z1 * z1)
    return np.linalg.norm(z, axis=2)


def _inner_with(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``np.einsum("rnd,rd->rn", z, w)``, bit for bit: for d = 2 einsum's sum of products is
    z0 w0 + z1 w1, written out so (~2x faster); otherwise einsum itself. Checked in the tests."""
    if z.shape[2] == 2:
        return z[..., 0] * w[:, None, 0] + z[..., 1] * w[:, None, 1]
    return np.einsum("rnd,rd->rn", z, w)


def _count_negative(m: np.ndarray) -> np.ndarray:
    """``(m < 0).sum(axis=1)`` of a (reps, n, K) array (int64), counted 8 columns at a time: the
    booleans of 8 columns are the 8 byte lanes of one uint64, summed over <= 255 rows at a time (no
    lane can carry into the next) and unpacked - exact integer counts, ~4x faster than the strided sum."""
    reps, n, k = m.shape
    k8 = -(-k // 8) * 8
    neg = np.zeros((reps, n, k8), dtype=bool)
    np.less(m, 0, out=neg[:, :, :k])
    lanes = neg.view(np.uint64).reshape(reps, n, k8 // 8)
    out = np.zeros((reps, k8), dtype=np.int64)
    for a in range(0, n, 255):
        block = lanes[:, a:a + 255].sum(axis=1, dtype=np.uint64)  # (reps, k8 / 8): 8 counts <= 255 each
        out += block.view(np.uint8).reshape(reps, k8)
    return out[:, :k]


def occam_quantized_draws(n: int, d: int, snr: float, max_levels: int, delta: float, bound_fn: BoundFn,
                          reps: int, rng: np.random.Generator, charge: float = 1.0) -> np.ndarray:
    """Boolean array: does the Occam bound of the selected quantised linear classifier cover its risk?

    mu = snr x (1, 2, .., d)/||.||; z_i = y_i x_i ~ N(mu, I_d) (h errs on i iff <v, z_i> < 0).
    sign(<v, x>) is scale-invariant, so w_hat = mean z_i is rescaled to ``max |w_j| = 1`` and
    quantised to the K uniform levels of [-1, 1] (K = 1: the single level -1), K = 1..``max_levels``:
    the codebook is a function of K and costs no bits (``codebook_bits_per_level=0``); the
    code length is :func:`quantized_code_lengths` (= :func:`theory.pac_bayes.code_length_bits`:
    arithmetic code + counts + Elias gamma of K). The K with the smallest bound is reported.
    """
    n = check_int("n", n, min_value=1, max_value=10**6)
    d = check_int("d", d, min_value=1, max_value=10**4)
    snr = check_real("snr", snr, min_value=0, max_value=1e100, scalar=True)
    max_levels = check_int("max_levels", max_levels, min_value=1, max_value=256)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    charge = check_real("charge", charge, min_value=0, max_value=1e300, scalar=True)
    check_rng("rng", rng)
    check_callable("bound_fn", bound_fn)
    check_real("delta", delta, min_value=0, max_value=1, include_min=False, include_max=False, scalar=True)
    check_size("reps x n x d", reps * n * d)
    mu = snr * _direction(d)
    levels = range(1, max_levels + 1)
    # Replicates in chunks (the same normals in the same order as one (reps, n, d) draw, a tenth of the
    # memory): w_hat, and the error counts of every K's classifier in one pass over z.
    u = np.empty((reps, d))
    errors = np.empty((reps, max_levels), dtype=np.int64)
    for a in range(0, reps, _CHUNK):
        z = _shifted(rng.standard_normal((min(_CHUNK, reps - a), n, d)), mu)
        w = _mean_over_samples(z)
        u[a:a + len(z)] = w / np.abs(w).max(axis=1, keepdims=True)  # in [-1, 1]
        vs = np.stack([_quantize_levels(u[a:a + len(z)], K)[1] for K in levels], axis=2)
        errors[a:a + len(z)] = _count_negative(np.matmul(z, vs))  # (chunk, n, d) @ (chunk, d, K_max)
    syms, vs = zip(*(_quantize_levels(u, K) for K in levels))
    risks, errs, bits = [], [], []
    for i, K in enumerate(levels):
        v = vs[i]
        norm = np.linalg.norm(v, axis=1)
        # v = 0 (possible for odd K) predicts +1 always: risk 1/2 and errs exactly on y = -1; scored
        # as errs everywhere (n errors), which can only loosen its bound (never selected over others).
        risks.append(np.where(norm > 0, special.ndtr(-(v @ mu) / np.where(norm > 0, norm, 1.0)), 0.5))
        errs.append(np.where(norm > 0, errors[:, i], n))
        bits.append(quantized_code_lengths(syms[i], K, codebook_bits_per_level=0))
    # one bound evaluation for the distinct (errors, bits) pairs of all K (element by element: the same floats)
    bounds = _bound_per_distinct_pair(bound_fn, np.concatenate(errs), np.concatenate(bits), n, delta, charge).reshape(max_levels, reps)
    best_b = np.full(reps, np.inf)
    best_r = np.zeros(reps)
    for b, risk in zip(bounds, risks):
        take = b < best_b
        best_b, best_r = np.where(take, b, best_b), np.where(take, risk, best_r)
    return best_r <= best_b


def _bound_per_distinct_pair(bound_fn: BoundFn, errors: np.ndarray, bits: np.ndarray, n: int, delta: float,
                             charge: float) -> np.ndarray:
    """bound_fn(errors / n, charge x bits x ln 2, n, delta) per replicate, evaluated once per distinct
    (errors, bits) pair (a few dozen among thousands of replicates; the KL inversions dominate)."""
    # the pairs as one int64 key (errors major, bits minor: the lexicographic order of the rows, as
    # np.unique(axis=0) sorts them), ~10x faster than a row-wise unique; both are exact integers
    errors_i = np.asarray(errors, dtype=np.int64)
    bits_i = np.asarray(bits).astype(np.int64)
    base = int(bits_i.max(initial=0)) + 1
    keys, inverse = np.unique(errors_i * base + bits_i, return_inverse=True)
    pairs = np.stack([keys // base, keys % base], axis=1).astype(np.result_type(errors, bits))
    b = np.asarray(bound_fn(pairs[:, 0] / n, charge * pairs[:, 1] * math.log(2), n, delta, 1), dtype=float)
    return np.broadcast_to(b, (pairs.shape[0],))[inverse.ravel()]


# --------------------------------------------------------------------------- Gaussian posteriors
def gaussian_posterior_draws(n: int, d: int, snr: float, scale: float, sigma: float, sigma0: float,
                             reps: int, rng: np.random.Generator, chunk: int = _CHUNK) -> ThresholdDraws:
    """Gaussian posteriors Q = N(w, sigma^2 I) over linear classifiers, one per training sample.

    mu = snr e_1; z_i = y_i x_i ~ N(mu, I_d); w = scale x mean(z)/||mean(z)|| (data-dependent);
    E_Q R_hat = mean_i Phi(-<w, z_i>/(sigma ||z_i||)) (exact); E_Q R exact from
    :func:`theory.pac_bayes.gibbs_risk_linear` (requires snr = 0 or d = 2); KL(Q || N(0, sigma0^2 I))
    from :func:`theory.pac_bayes.gaussian_kl` (= a constant, since ||w|| = scale).
    """
    n = check_int("n", n, min_value=1, max_value=10**6)
    d = check_int("d", d, min_value=1, max_value=10**4)
    # supported ranges: the sampled z, w and margins (and scale^2 in the KL) stay finite and resolvable
    snr = check_real("snr", snr, min_value=0, max_value=1e100, scalar=True)
    scale = check_real("scale", scale, min_value=1e-100, max_value=1e100, scalar=True)
    sigma = check_real("sigma", sigma, min_value=1e-100, max_value=1e100, scalar=True)
    sigma0 = check_real("sigma0", sigma0, min_value=1e-100, max_value=1e100, scalar=True)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    chunk = check_int("chunk", chunk, min_value=1, max_value=10**7)
    check_rng("rng", rng)
    check_size("min(chunk, reps) x n x d", min(chunk, reps) * n * d)
    if snr > 0 and d != 2:
        raise ValueError(f"d={d}, must be 2 when snr={snr} > 0 (the Gibbs risk is exact only for d = 2 or snr = 0)")
    mu = np.zeros(d)
    mu[0] = snr
    emp, ws = np.empty(reps), np.empty((reps, d))
    for a in range(0, reps, chunk):
        r = min(chunk, reps - a)
        z = _shifted(rng.standard_normal((r, n, d)), mu)
        m = _mean_over_samples(z)
        w = scale * m / np.linalg.norm(m, axis=1, keepdims=True)
        margin = _inner_with(z, w) / (sigma * _row_norms(z))
        emp[a:a + r] = special.ndtr(-margin).mean(axis=1)
        ws[a:a + r] = w
    kl = float(T.gaussian_kl(scale**2, d, sigma, sigma0))
    true = np.asarray(T.gibbs_risk_linear(ws, mu, sigma), dtype=float)
    return ThresholdDraws(emp_risk=np.clip(emp, 0.0, 1.0), true_risk=true, kl=np.full(reps, kl))
