"""Monte Carlo simulators for ridge / min-norm least squares risk.

Two simulators that must agree statistically (tests/test_sims_ridgeless.py):

* **direct** (:func:`direct_risk_samples`): sample X (n x p), y = X beta + eps, fit by
  ``lstsq`` (min-norm) or the ridge normal equations, measure ||beta_hat - beta||^2.
* **fast** (:func:`fast_risk_samples`): isotropic Gaussian X is rotation invariant, so the
  risk depends on X only through the spectrum of the Wishart matrix W (X^T X if p <= n,
  X X^T otherwise), and on beta only through r^2. We sample that spectrum's bidiagonal
  model (Dumitriu & Edelman 2002, Thm 3.4) and return the *conditional expectation* of the
  risk given the spectrum (averaged over noise and over beta's direction, which is uniform
  relative to the Haar eigenvectors): a Rao-Blackwellised estimator with the same mean
  and smaller variance. Per replicate it costs O(min(n, p)) instead of O(n p min(n, p)).

Given the nonzero eigenvalues mu_i of Sigma_hat = X^T X / n (m = min(n, p) of them):

    bias     = r^2 / p * ( lam^2 sum_i 1/(mu_i + lam)^2 + (p - m) )
    variance = sigma^2 / n * sum_i mu_i / (mu_i + lam)^2

(lam = 0: bias = r^2 (1 - n/p)_+, variance = sigma^2 tr(W^{-1})). The two traces
t1 = sum 1/(mu+lam), t2 = sum 1/(mu+lam)^2 come from a Cholesky recursion on the
tridiagonal B B^T + n lam I, O(m) per replicate and vectorised over replicates.

Heavy tails: the min-norm variance term has finite variance only when ``|n - p| >= 4``
(inverse-Wishart second moments); at ``|n - p|`` in {2, 3} its mean is finite but the sample
mean converges slowly, and z-tests there are not trustworthy. Claims restrict their domain.
"""
from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from claimcheck.theory._validation import check_int, check_real

__all__ = [
    "laguerre_bidiagonal",
    "wishart_traces",
    "fast_risk_samples",
    "direct_risk_samples",
    "direct_ridge_curves",
]


def _check_common(n, p, signal, noise, lam, reps):
    return (
        check_int("n", n, min_value=1),
        check_int("p", p, min_value=1),
        check_real("signal", signal, min_value=0),
        check_real("noise", noise, min_value=0),
        check_real("lam", lam, min_value=0),
        check_int("reps", reps, min_value=1),
    )


def laguerre_bidiagonal(dof: int, m: int, reps: int, rng: np.random.Generator):
    """Sample the bidiagonal model of a real Wishart matrix W_m(dof, I), dof >= m.

    Returns (a, b) with a of shape (reps, m) and b of shape (reps, m - 1): the lower-
    bidiagonal B with diagonal a_i ~ chi_{dof - i} and subdiagonal b_i ~ chi_{m - 1 - i}
    has B B^T with the same eigenvalue law as W. Source: Dumitriu & Edelman, "Matrix
    models for beta ensembles" (2002), Thm 3.4 with beta = 1.
    """
    dof = check_int("dof", dof, min_value=1)
    m = check_int("m", m, min_value=1, max_value=dof)
    a = np.sqrt(rng.chisquare(dof - np.arange(m), size=(reps, m)))
    b = np.sqrt(rng.chisquare(m - 1 - np.arange(m - 1), size=(reps, m - 1))) if m > 1 else np.zeros((reps, 0))
    return a, b


def wishart_traces(a: np.ndarray, b: np.ndarray, shift: float = 0.0):
    """t1 = tr (B B^T + shift I)^{-1} and t2 = tr (B B^T + shift I)^{-2} per replicate.

    Cholesky of the tridiagonal T = B B^T + shift I is lower bidiagonal with diagonal
    l_i and subdiagonal c_i; writing l_i^2 = a_i^2 + u_i gives the cancellation-free
    recursion u_0 = shift, u_{i+1} = shift + b_i^2 u_i / l_i^2, c_i^2 = a_i^2 b_i^2 / l_i^2.
    Row norms of L^{-1}: S_0 = 1/l_0^2, S_{i+1} = (c_i^2 S_i + 1)/l_{i+1}^2, and
    tr T^{-1} = sum_i S_i. t2 = -d t1/d shift, carried alongside by forward differentiation.
    """
    reps, m = a.shape
    a2 = a * a
    b2 = b * b
    u = np.full(reps, float(shift))
    du = np.ones(reps)
    l2 = a2[:, 0] + u
    S = 1.0 / l2
    dS = -du / l2**2
    t1 = S.copy()
    dt1 = dS.copy()
    for i in range(m - 1):
        c2 = a2[:, i] * b2[:, i] / l2
        dc2 = -a2[:, i] * b2[:, i] * du / l2**2
        u_next = shift + b2[:, i] * u / l2
        du_next = 1.0 + b2[:, i] * a2[:, i] * du / l2**2
        l2_next = a2[:, i + 1] + u_next
        num = c2 * S + 1.0
        S_next = num / l2_next
        dS = (dc2 * S + c2 * dS) / l2_next - num * du_next / l2_next**2
        S, u, du, l2 = S_next, u_next, du_next, l2_next
        t1 += S
        dt1 += dS
    return t1, -dt1


def fast_risk_samples(n: int, p: int, signal: float, noise: float, lam: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Rao-Blackwellised excess-risk samples of ridge (lam > 0) or min-norm (lam = 0).

    Each entry is E[ ||beta_hat - beta||^2 | spectrum of X^T X ] for one draw of the
    spectrum; the mean over entries is an unbiased estimate of the expected excess risk.
    """
    n, p, signal, noise, lam, reps = _check_common(n, p, signal, noise, lam, reps)
    m = min(n, p)
    a, b = laguerre_bidiagonal(max(n, p), m, reps, rng)
    # Eigenvalues of Sigma_hat = W / n: t1 = n tr (W + n lam)^{-1}, t2 = n^2 tr (W + n lam)^{-2}.
    t1, t2 = wishart_traces(a, b, shift=n * lam)
    t1, t2 = n * t1, n * n * t2
    bias = signal / p * (lam * lam * t2 + (p - m))
    variance = noise / n * (t1 - lam * t2)
    return bias + variance


def _beta(p: int, signal: float) -> np.ndarray:
    beta = np.zeros(p)
    beta[0] = np.sqrt(signal)  # risk is rotation invariant: any direction is as good
    return beta


def direct_risk_samples(n: int, p: int, signal: float, noise: float, lam: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Plain Monte Carlo: sample X and eps, fit, return ||beta_hat - beta||^2 per replicate.

    lam = 0 uses ``numpy.linalg.lstsq`` (the min-norm solution for p > n); lam > 0 solves
    (X^T X / n + lam I) b = X^T y / n (or its n x n dual when p > n).
    """
    n, p, signal, noise, lam, reps = _check_common(n, p, signal, noise, lam, reps)
    beta = _beta(p, signal)
    out = np.empty(reps)
    sd = np.sqrt(noise)
    for r in range(reps):
        X = rng.standard_normal((n, p))
        y = X @ beta + sd * rng.standard_normal(n)
        if lam == 0.0:
            bhat = np.linalg.lstsq(X, y, rcond=None)[0]
        elif p <= n:
            bhat = np.linalg.solve(X.T @ X / n + lam * np.eye(p), X.T @ y / n)
        else:
            bhat = X.T @ np.linalg.solve(X @ X.T / n + lam * np.eye(n), y / n)
        out[r] = np.sum((bhat - beta) ** 2)
    return out


def direct_ridge_curves(n: int, p: int, signal: float, noise: float, reps: int, rng: np.random.Generator):
    """Per-replicate ingredients of the fixed-beta ridge risk curve R_r(lam), noise averaged.

    For each replicate, with Sigma_hat = V diag(mu) V^T and c = V^T beta (beta fixed,
    *not* averaged over directions), the noise-averaged risk is

        R_r(lam) = lam^2 sum_i c_i^2/(mu_i + lam)^2 + ||P_null beta||^2
                   + sigma^2/n sum_i mu_i/(mu_i + lam)^2.

    Returns (mu, c2, null) with shapes (reps, m), (reps, m), (reps,); evaluate with
    :func:`ridge_curve`. Used to locate the finite-sample optimal lam by simulation.
    """
    n, p, signal, noise, _, reps = _check_common(n, p, signal, noise, 0.0, reps)
    beta = _beta(p, signal)
    m = min(n, p)
    mu = np.empty((reps, m))
    c2 = np.empty((reps, m))
    with threadpool_limits(limits=1, user_api="blas"):  # small SVDs: BLAS threads only contend
        for r in range(reps):
            X = rng.standard_normal((n, p))
            _, sv, vt = np.linalg.svd(X, full_matrices=False)
            mu[r] = sv**2 / n
            c2[r] = (vt @ beta) ** 2
    null = signal - c2.sum(axis=1)
    return mu, c2, np.maximum(null, 0.0)


def ridge_curve(lam: float, mu, c2, null, n: int, noise: float, derivative: int = 0) -> np.ndarray:
    """R_r(lam) (derivative=0), dR_r/dlam (1) or d^2R_r/dlam^2 (2) per replicate."""
    d = mu + lam
    if derivative == 0:
        return lam**2 * np.sum(c2 / d**2, 1) + null + noise / n * np.sum(mu / d**2, 1)
    if derivative == 1:
        return 2 * lam * np.sum(c2 * mu / d**3, 1) - 2 * noise / n * np.sum(mu / d**3, 1)
    if derivative == 2:
        return 2 * np.sum(c2 * mu * (mu - 2 * lam) / d**4, 1) + 6 * noise / n * np.sum(mu / d**4, 1)
    raise ValueError(f"derivative={derivative}, must be 0, 1 or 2")
