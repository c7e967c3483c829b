"""Monte Carlo for ridge regression with anisotropic Gaussian features x ~ N(0, Sigma).

Sigma = diag(spectrum) without loss of generality. For each replicate we sample X and
return the risk averaged exactly over the noise and over a uniformly random direction of
beta (E[beta beta^T] = r^2/p I); with Sigma_hat = X^T X / n = U diag(mu) U^T and
A = Sigma_hat + lam I:

    bias     = r^2 lam^2 / p * tr(A^{-1} Sigma A^{-1}) = r^2 lam^2/p sum_j (U^T Sigma U)_jj / (mu_j + lam)^2
    variance = sigma^2 / n * tr(A^{-1} Sigma_hat A^{-1} Sigma) = sigma^2/n sum_j mu_j (U^T Sigma U)_jj / (mu_j + lam)^2

For p > n only the n nonzero eigenpairs are computed (from the n x n Gram matrix); the
null space of Sigma_hat contributes lam^2/lam^2 times Sigma's mass there.
"""
from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from claimcheck.theory.validation import MAX_REPS, check_array, check_int, check_real, check_rng, check_size

__all__ = ["anisotropic_risk_samples"]


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
    chunk = max(1, min(reps, (1 << 21) // (n * p + m * m)))  # batches of replicates, <= ~16 MiB of X
    with threadpool_limits(limits=1, user_api="blas"):  # tiny matrices: BLAS threads only contend
        for start in range(0, reps, chunk):
            k = min(chunk, reps - start)
            X = rng.standard_normal((k, n, p)) * root  # the same draws, in order, as one replicate at a time
            Xt = np.swapaxes(X, 1, 2)
            if p <= n:
                mu, U = np.linalg.eigh(Xt @ X / n)  # all p eigenpairs of Sigma_hat, batched
            else:
                # Thin route: the n nonzero eigenpairs of Sigma_hat from the n x n Gram matrices.
                g, V = np.linalg.eigh(X @ Xt / n)
                mu = np.maximum(g, 1e-300)
                U = (Xt @ V) / np.sqrt(n * mu)[:, None, :]  # (k, p, n), orthonormal columns
            mu = np.maximum(mu, 0.0)
            w = np.einsum("i,kij->kj", s, U * U)  # (U^T Sigma U)_jj, shape (k, m)
            d2 = (mu + lam) ** 2
            null = trace_sigma - w.sum(axis=1) if p > n else 0.0  # Sigma's mass on the null space of Sigma_hat
            bias = signal * lam**2 / p * (np.sum(w / d2, axis=1) + null / lam**2)
            var = noise / n * np.sum(mu * w / d2, axis=1)
            out[start:start + k] = bias + var
    return out
