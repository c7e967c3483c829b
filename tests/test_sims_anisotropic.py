"""sims.anisotropic against a per-replicate eigendecomposition fed the same draws (equal to
float rounding) and against plain Monte Carlo ridge fits (a 5-SE two-sample z-test), at the
corners p < n, p = n, p = n + 1, p > n, n = 1, p = 1."""
from __future__ import annotations

import math

import numpy as np
import pytest

from claimcheck.sims import anisotropic as sa

Z_CRIT = 5.0


def _designs(n, spectrum, reps, rng):
    """Per replicate a matrix X with X^T X distributed as for X ~ N(0, Sigma) rows (n of them),
    from the draws anisotropic_risk_samples makes in one batch: for p > n the n x p matrix
    Z R itself; for p <= n the p x p matrix L^T R of the Bartlett factor L of Z^T Z."""
    s = np.asarray(spectrum, dtype=float)
    p, root = s.size, np.sqrt(s)
    if p > n:
        return list(rng.standard_normal((reps, n, p)) * root)
    rows, cols = np.tril_indices(p, -1)
    L = np.zeros((reps, p, p))
    L[:, np.arange(p), np.arange(p)] = np.sqrt(rng.chisquare(n - np.arange(p), size=(reps, p)))
    L[:, rows, cols] = rng.standard_normal((reps, rows.size))
    return [l.T * root for l in L]


def _eigh_reference(n, spectrum, lam, signal, noise, designs):
    """In the eigenbasis (mu_j, u_j) of Sigma_hat = X^T X / n (p x p), one replicate at a time:
    bias = r^2 lam^2 / p sum_j (U^T Sigma U)_jj / (mu_j + lam)^2,
    variance = sigma^2 / n sum_j mu_j (U^T Sigma U)_jj / (mu_j + lam)^2."""
    s = np.asarray(spectrum, dtype=float)
    p = s.size
    out = np.empty(len(designs))
    for r, X in enumerate(designs):
        mu, U = np.linalg.eigh(X.T @ X / n)
        mu = np.maximum(mu, 0.0)
        w = (U * U).T @ s
        d2 = (mu + lam) ** 2
        out[r] = signal * lam**2 / p * np.sum(w / d2) + noise / n * np.sum(mu * w / d2)
    return out


def _plain_monte_carlo(n, spectrum, lam, signal, noise, reps, rng):
    """Excess prediction risk (beta_hat - beta)^T Sigma (beta_hat - beta) of ridge fits,
    beta = r u with u uniform on the sphere, y = X beta + eps."""
    s = np.asarray(spectrum, dtype=float)
    p = s.size
    X = rng.standard_normal((reps, n, p)) * np.sqrt(s)
    u = rng.standard_normal((reps, p))
    beta = math.sqrt(signal) * u / np.linalg.norm(u, axis=1, keepdims=True)
    y = np.einsum("rij,rj->ri", X, beta) + math.sqrt(noise) * rng.standard_normal((reps, n))
    A = np.swapaxes(X, 1, 2) @ X / n + lam * np.eye(p)
    bhat = np.linalg.solve(A, np.einsum("rij,ri->rj", X, y)[..., None] / n)[..., 0]
    return np.sum(s * (bhat - beta) ** 2, axis=1)


CORNERS = [  # (n, spectrum, lam)
    (12, [0.5, 4.0] * 3, 0.1),        # p < n
    (10, [0.2, 1.0] * 5, 0.05),       # p = n
    (10, [0.2, 1.0, 3.0] * 3 + [2.0, 0.7], 0.5),  # p = n + 1
    (8, [0.2, 1.0, 3.0] * 4, 0.1),    # p > n
    (1, [1.0, 2.0, 3.0], 2.0),        # n = 1
    (7, [3.0], 0.05),                 # p = 1
    (1, [0.5], 1e-3),                 # n = p = 1
    (30, np.linspace(0.1, 10.0, 45), 1.0),  # p > n, distinct eigenvalues
]


@pytest.mark.parametrize("n,spectrum,lam", CORNERS)
def test_solve_route_equals_per_replicate_eigendecomposition(n, spectrum, lam):
    # Same draws (one batch of 40); the two routes differ only in rounding. Every case is
    # well conditioned (lam >= 1e-3 against spectra <= 10), so 1e-10 is a float tolerance.
    new = sa.anisotropic_risk_samples(n, spectrum, lam, 1.3, 0.7, 40, np.random.default_rng(5))
    ref = _eigh_reference(n, spectrum, lam, 1.3, 0.7, _designs(n, spectrum, 40, np.random.default_rng(5)))
    np.testing.assert_allclose(new, ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize("n,p", [(4, 6), (1, 3), (5, 6)])
def test_batches_of_replicates_do_not_change_the_samples_for_p_above_n(monkeypatch, n, p):
    # (p <= n draws a Bartlett factor per batch, so there the batch size, a fixed function of
    # (n, p), decides the draws; the law is tested by the plain Monte Carlo comparison below.)
    s = np.linspace(0.5, 2.0, p)
    whole = sa.anisotropic_risk_samples(n, s, 0.2, 1.0, 1.0, 25, np.random.default_rng(3))
    monkeypatch.setattr(sa, "_BLOCK", 3 * (n * p + min(n, p) ** 2))  # batches of 3 replicates, the last one short
    batched = sa.anisotropic_risk_samples(n, s, 0.2, 1.0, 1.0, 25, np.random.default_rng(3))
    np.testing.assert_allclose(batched, whole, rtol=1e-13, atol=0)  # float tolerance: batching is per matrix


def test_same_seed_same_samples_bit_for_bit_and_other_seeds_differ():
    s = [0.2, 1.0, 3.0] * 4
    first = sa.anisotropic_risk_samples(8, s, 0.1, 1.0, 1.0, 30, np.random.default_rng(11))
    again = sa.anisotropic_risk_samples(8, s, 0.1, 1.0, 1.0, 30, np.random.default_rng(11))
    other = sa.anisotropic_risk_samples(8, s, 0.1, 1.0, 1.0, 30, np.random.default_rng(12))
    assert first.tobytes() == again.tobytes()
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("n,spectrum,lam,seed", [
    (8, [0.2, 1.0, 3.0] * 4, 0.1, 101),   # p > n (dual route)
    (12, [0.5, 4.0] * 3, 0.3, 102),       # p < n (Bartlett route)
    (10, [0.2, 1.0] * 5, 0.5, 103),       # p = n (Bartlett route, chi_1 last diagonal entry)
    (40, [0.5, 4.0] * 3, 0.05, 104),      # p << n, small lam
])
def test_rao_blackwellised_mean_equals_plain_ridge_fits(n, spectrum, lam, seed):
    rng = np.random.default_rng(seed)
    rb = sa.anisotropic_risk_samples(n, spectrum, lam, 1.0, 0.5, 4000, rng)
    mc = _plain_monte_carlo(n, spectrum, lam, 1.0, 0.5, 4000, rng)
    se = math.hypot(rb.std(ddof=1), mc.std(ddof=1)) / math.sqrt(4000)
    z = (rb.mean() - mc.mean()) / se
    assert abs(z) <= Z_CRIT, f"Rao-Blackwellised {rb.mean():.5g} vs plain {mc.mean():.5g} +- {se:.2g}, z = {z:.2f}, seed {seed}"
    # teeth: the comparison resolves a 10% error of the risk (e.g. a dropped null-space or variance term)
    assert Z_CRIT * se < 0.1 * mc.mean()
