"""Monte Carlo for ridge regression with anisotropic Gaussian features x ~ N(0, Sigma).

Sigma = diag(spectrum) without loss of generality. For each replicate we sample X and
return the risk averaged exactly over the noise and over a uniformly random direction of
beta (E[beta beta^T] = r^2/p I); with Sigma_hat = X^T X / n, A = Sigma_hat + lam I and
R = Sigma^{1/2}:

    bias     = r^2 lam^2 / p * tr(A^{-1} Sigma A^{-1})         = r^2 / p * ||lam A^{-1} R||_F^2
    variance = sigma^2 / n * tr(A^{-1} Sigma_hat A^{-1} Sigma) = sigma^2 / n^2 * ||X A^{-1} R||_F^2

Both are computed from one LU solve per replicate (batched), not an eigendecomposition
(which costs ~4x the flops; the old route, kept as the reference of
tests/test_sims_anisotropic.py, took U^T Sigma U from the eigenvectors of Sigma_hat):

* p <= n: X enters only through X^T X = R Z^T Z R, and Z^T Z ~ Wishart_p(n, I) is sampled
  through its Bartlett factor L (Z^T Z = L L^T, L lower triangular with L_ii ~ chi_{n - i}
  and N(0, 1) below the diagonal; Bartlett 1933, Anderson, *An Introduction to Multivariate
  Statistical Analysis*, Thm 7.2.1): p (p + 1) / 2 draws instead of n p. With M = A^{-1} R
  from the p x p inverse, bias = r^2 / p ||lam M||^2 and variance = sigma^2 / n^2 ||L^T R M||^2
  (= ||X M||^2: every term positive). These draws depend on the batch size, itself a fixed
  function of (n, p).
* p > n, through the n x n dual H = X X^T / n + lam I (X A^{-1} = H^{-1} X): with
  Y = X R and Q = H^{-1} Y, the variance trace is ||Q||^2 / n and, expanding
  ||R - X^T Q / n||^2 (X X^T = n (H - lam I)), lam^2 tr(A^{-2} Sigma) =
  tr Sigma - (<Y, Q> + lam ||Q||^2) / n: Sigma's mass on the null space of Sigma_hat plus
  the shrunk part, a difference of positive terms like the eigenvector route's
  ``tr Sigma - sum_j (U^T Sigma U)_jj``.

For p > n the draws are the eigendecomposition route's (the same normals in the same order),
so the samples are equal to it up to rounding; for p <= n the same random variable, exactly
(the Bartlett decomposition), from other draws.
"""
from __future__ import annotations

import numpy as np

from claimcheck.sims._blas import one_blas_thread
from claimcheck.theory.validation import MAX_REPS, check_array, check_int, check_real, check_rng, check_size

__all__ = ["anisotropic_risk_samples"]

_BLOCK = 1 << 21
"""Replicates are batched so that one batch's X has at most ~this many entries (16 MiB)."""


def anisotropic_risk_samples(n: int, spectrum, lam: float, signal: float, noise: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Rao-Blackwellised ridge excess-risk samples for x ~ N(0, diag(spectrum)), lam > 0."""
    n = check_int("n", n, min_value=1, max_value=10**5)
    s = check_array("spectrum", spectrum, min_value=0, include_min=False, max_value=1e100)
    # supported range: lam^2, lam^2 / mu and the null-space term null / lam^2 stay finite
    lam = check_real("lam", lam, min_value=1e-100, max_value=1e100, scalar=True)
    signal = check_real("signal", signal, min_value=0, scalar=True)
    noise = check_real("noise", noise, min_value=0, scalar=True)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    check_rng("rng", rng)
    check_size("n x p", n * s.size)
    p = s.size
    root = np.sqrt(s)
    trace_sigma = s.sum()
    out = np.empty(reps)
    m = min(n, p)
    diag = np.arange(m)
    below = np.tril_indices(m, -1)
    chunk = max(1, min(reps, _BLOCK // (n * p + m * m)))  # batches of replicates, <= ~16 MiB of X
    with one_blas_thread():  # tiny matrices: BLAS threads only contend
        for start in range(0, reps, chunk):
            k = min(chunk, reps - start)
            if p <= n:
                L = np.zeros((k, p, p))
                L[:, diag, diag] = np.sqrt(rng.chisquare(n - diag, size=(k, p)))
                L[:, below[0], below[1]] = rng.standard_normal((k, below[0].size))
                RL = L * root[:, None]  # R L: X^T X = (R L)(R L)^T in law
                LtR = np.swapaxes(RL, 1, 2)
                A = RL @ LtR / n
                A[:, diag, diag] += lam
                M = np.linalg.inv(A) * root  # A^{-1} R, (k, p, p)
                LRM = LtR @ M
                bias = signal * lam**2 / p * np.einsum("kij,kij->k", M, M)
                var = noise / n**2 * np.einsum("kij,kij->k", LRM, LRM)
            else:
                X = rng.standard_normal((k, n, p)) * root  # the same draws, in order, as one replicate at a time
                Xt = np.swapaxes(X, 1, 2)
                H = X @ Xt / n
                H[:, diag, diag] += lam
                X *= root  # Y = X R
                Q = np.linalg.solve(H, X)  # H^{-1} Y, (k, n, p)
                qq = np.einsum("kij,kij->k", Q, Q)
                yq = np.einsum("kij,kij->k", X, Q)
                # lam^2 tr(A^{-2} Sigma) >= 0: clip the rounding of the difference
                bias = signal / p * np.maximum(trace_sigma - (yq + lam * qq) / n, 0.0)
                var = noise / n**2 * qq
            out[start:start + k] = bias + var
    return out
