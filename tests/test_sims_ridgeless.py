"""Monte Carlo simulators of :mod:`sims.ridgeless` against theory and against each other.

Every statistical comparison uses a seeded ``numpy.random.Generator`` and a tolerance of
Z_CRIT = 5 standard errors (two-sided alpha ~ 6e-7); no simulation output is hard-coded.
Checks that could pass vacuously also assert their power (a small enough SE, or the
rejection of a perturbed formula). Sizes are small (n, p <= 60) to keep the file fast.

The min-norm variance term sigma^2 tr W^{-1} has a finite variance only for |n - p| >= 4,
so z-tests of min-norm risks stay in that region (|n - p| >= 10 for the direct simulator,
whose per-replicate risk is more skewed).
"""
from __future__ import annotations

import functools
import math
import re

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from claimcheck.sims import ridgeless as sr
from claimcheck.theory import ridgeless as rl

Z_CRIT = 5.0


def _mean_se(x) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def assert_matches_prediction(samples, prediction: float, *, seed: int, what: str) -> float:
    """|mean - prediction| <= Z_CRIT * SE; the message reports prediction, estimate, SE, z, seed."""
    mean, se = _mean_se(samples)
    z = (mean - prediction) / se
    assert abs(z) <= Z_CRIT, f"{what}: prediction {prediction:.6g}, estimate {mean:.6g} +- {se:.2g}, z = {z:.2f}, seed {seed}"
    return z


def assert_same_mean(a, b, *, seed: int, what: str) -> float:
    """Two-sample z-test of equal means at |z| <= Z_CRIT."""
    (ma, sa), (mb, sb) = _mean_se(a), _mean_se(b)
    z = (ma - mb) / math.hypot(sa, sb)
    assert abs(z) <= Z_CRIT, f"{what}: {ma:.6g} +- {sa:.2g} vs {mb:.6g} +- {sb:.2g}, z = {z:.2f}, seed {seed}"
    return z


# ---------------------------------------------------------------------------------------
# Dumitriu-Edelman bidiagonal model and the tridiagonal trace recursion.


def _tridiagonal_moments(a, b):
    """tr W and tr W^2 for W = B B^T, B lower bidiagonal (diagonal a, subdiagonal b)."""
    a2, b2 = a * a, b * b
    diag = a2.copy()
    diag[:, 1:] += b2  # W_ii = a_i^2 + b_{i-1}^2
    off2 = a2[:, :-1] * b2  # W_{i+1,i}^2 = a_i^2 b_i^2
    return diag.sum(1), (diag**2).sum(1) + 2.0 * off2.sum(1)


@pytest.mark.parametrize("m,dof,seed", [(1, 6, 11), (5, 12, 12), (20, 30, 13)])
def test_laguerre_bidiagonal_reproduces_wishart_moments(m, dof, seed):
    reps = 20000
    a, b = sr.laguerre_bidiagonal(dof, m, reps, np.random.default_rng(seed))
    assert a.shape == (reps, m) and b.shape == (reps, m - 1)
    tr_w, tr_w2 = _tridiagonal_moments(a, b)
    tr_winv, _ = sr.wishart_traces(a, b, 0.0)
    # W ~ W_m(dof, I): E tr W = m dof; E tr W^2 = m dof (dof + m + 1);
    # E tr W^{-1} = m / (dof - m - 1) (finite variance since dof - m >= 4 here).
    assert_matches_prediction(tr_w, m * dof, seed=seed, what="E tr W")
    assert_matches_prediction(tr_w2, m * dof * (dof + m + 1), seed=seed, what="E tr W^2")
    assert_matches_prediction(tr_winv, m / (dof - m - 1), seed=seed, what="E tr W^-1")
    # power: every mean is resolved to better than 5%
    for x in (tr_w, tr_w2, tr_winv):
        mean, se = _mean_se(x)
        assert Z_CRIT * se < 0.05 * mean


def test_laguerre_bidiagonal_spectrum_matches_dense_wishart():
    # Same eigenvalue law as X^T X for X (dof x m) Gaussian: compare the mean smallest and
    # largest eigenvalues (not only traces) with a dense simulation.
    m, dof, reps, seed = 4, 9, 4000, 14
    rng = np.random.default_rng(seed)
    a, b = sr.laguerre_bidiagonal(dof, m, reps, rng)
    B = np.zeros((reps, m, m))
    idx = np.arange(m)
    B[:, idx, idx] = a
    B[:, idx[1:], idx[:-1]] = b
    eig_bidiag = np.linalg.eigvalsh(B @ B.transpose(0, 2, 1))
    X = rng.standard_normal((reps, dof, m))
    eig_dense = np.linalg.eigvalsh(X.transpose(0, 2, 1) @ X)
    for k in (0, m - 1):
        assert_same_mean(eig_bidiag[:, k], eig_dense[:, k], seed=seed, what=f"eigenvalue {k}")


@given(
    m=st.integers(1, 12),
    extra=st.integers(0, 10),
    shift=st.one_of(st.just(0.0), st.floats(1e-3, 100.0)),
    seed=st.integers(0, 2**32 - 1),
)
@example(m=1, extra=0, shift=0.0, seed=0)
@example(m=12, extra=0, shift=0.0, seed=1)  # dof = m: the worst-conditioned Wishart
@example(m=8, extra=3, shift=100.0, seed=2)
def test_wishart_traces_equal_dense_traces(m, extra, shift, seed):
    reps = 3
    a, b = sr.laguerre_bidiagonal(m + extra, m, reps, np.random.default_rng(seed))
    t1, t2 = sr.wishart_traces(a, b, shift)
    for r in range(reps):
        B = np.diag(a[r]) + np.diag(b[r], -1)
        T = B @ B.T + shift * np.eye(m)
        evals = np.linalg.eigvalsh(T)
        assume(evals[0] > 1e-8 * evals[-1])  # dense reference accurate to ~cond * eps
        Tinv = np.linalg.inv(T)
        rtol = 1e3 * np.finfo(float).eps * evals[-1] / evals[0]
        assert t1[r] == pytest.approx(np.trace(Tinv), rel=rtol)
        assert t2[r] == pytest.approx(np.sum(Tinv * Tinv), rel=rtol)  # tr T^-2, T symmetric


def _chain_from_layout(ga, gb, m):
    """(a, b) of the bidiagonal (reps, m), (reps, m - 1) from halved draws in the loop layout."""
    L, C, R = ga.shape
    pad = L * C - m
    chain_a = ga.transpose(1, 0, 2).reshape(L * C, R)[pad:]
    chain_b = gb.transpose(1, 0, 2).reshape(L * C, R)[pad:]
    assert np.all(chain_b[0] == 0.0)  # no subdiagonal entry above the first row
    return np.sqrt(2.0 * chain_a.T), np.sqrt(2.0 * chain_b[1:].T)


@given(
    m=st.integers(1, 40),
    extra=st.integers(0, 10),
    reps=st.integers(1, 4),
    chunks=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
@example(m=1, extra=0, reps=1, chunks=1, seed=0)
@example(m=10, extra=4, reps=2, chunks=7, seed=1)  # L = 2, 4 padding positions: more than one chunk
@example(m=40, extra=0, reps=3, chunks=40, seed=2)  # one position per chunk, dof = m
@example(m=37, extra=5, reps=1, chunks=6, seed=3)
def test_chunked_inverse_trace_equals_dense_trace(m, extra, reps, chunks, seed):
    # The lam = 0 engine: every chunking of the chain (with its padding) gives tr W^{-1} of
    # the same bidiagonal model, to rounding (dense inverse, condition-number tolerance).
    chunks = min(chunks, m)
    ga, gb = sr._gamma_draws(m + extra, m, reps, chunks, np.random.default_rng(seed))
    a, b = _chain_from_layout(ga, gb, m)
    t1 = sr._inverse_trace_lanes(ga, gb)
    for r in range(reps):
        B = np.diag(a[r]) + np.diag(b[r], -1)
        W = B @ B.T
        evals = np.linalg.eigvalsh(W)
        assume(evals[0] > 1e-8 * evals[-1])
        rtol = 1e3 * np.finfo(float).eps * evals[-1] / evals[0]
        assert t1[r] == pytest.approx(np.trace(np.linalg.inv(W)), rel=rtol)


def test_gamma_draws_in_any_layout_are_the_laguerre_chi_squares():
    # Layout and padding change where the draws sit, not their law: the chain's positions have
    # the chi-square means dof - k (diagonal) and m - k (subdiagonal, k >= 1), resolved to 5 SE.
    m, dof, reps, chunks, seed = 9, 12, 20000, 4, 15
    ga, gb = sr._gamma_draws(dof, m, reps, chunks, np.random.default_rng(seed))
    a, b = _chain_from_layout(ga, gb, m)
    for k in range(m):
        assert_matches_prediction(a[:, k] ** 2, dof - k, seed=seed, what=f"a_{k}^2")
    for k in range(m - 1):
        assert_matches_prediction(b[:, k] ** 2, m - 1 - k, seed=seed, what=f"b_{k}^2")


@pytest.mark.parametrize("dof,m,reps,chunks", [(12, 9, 7, 4), (30, 30, 5, 1), (40, 1, 3, 1), (25, 17, 4, 17), (9, 8, 6, 3)])
def test_gamma_draws_per_position_equal_the_broadcast_draws_bit_for_bit(monkeypatch, dof, m, reps, chunks):
    # The two ways of drawing (one broadcasting call; one scalar-shape call per position,
    # used from _SCALAR_DRAWS replicates on) must give the same variates in the same order,
    # padding (shape 0: no random numbers consumed) included, and leave the generator in the same state.
    rng_a, rng_b = np.random.default_rng(21), np.random.default_rng(21)
    monkeypatch.setattr(sr, "_SCALAR_DRAWS", 10**9)
    broadcast = sr._gamma_draws(dof, m, reps, chunks, rng_a)
    monkeypatch.setattr(sr, "_SCALAR_DRAWS", 1)
    per_position = sr._gamma_draws(dof, m, reps, chunks, rng_b)
    for x, y in zip(broadcast, per_position):
        assert x.shape == y.shape and x.tobytes() == y.tobytes()
    assert rng_a.random() == rng_b.random()


def _unchunked_shifted_traces(ga, gb, m, shift):
    """The C = 1 recursion of _shifted_traces_lanes on the same draws, laid out as one chain."""
    a, b = _chain_from_layout(ga, gb, m)
    return sr.wishart_traces(a, b, shift)


# Worst-case rounding bound of chunked vs unchunked on the same draws: every step of either
# recursion makes at most 16 roundings of non-negative quantities (the Moebius product and the
# state update, the pieces y, h, Z and their sums), and the positive maps never amplify a
# relative error, so each path is within 16 (m + log2 C + 4) eps of the exact traces (the
# log2 C rounds of the prefix product, the final sums); tr T^-2 = (2 sum Y - sum S^2) / 4 loses
# at most a factor 2 more; the two paths' errors add: rtol = 2 * 2 * 16 (m + log2 C + 4) eps.
def _chunk_rtol(m, chunks):
    return 64 * (m + math.log2(chunks) + 4) * np.finfo(float).eps


@pytest.mark.parametrize(
    ("dof", "m", "reps", "chunks", "shift"),
    [
        (300, 200, 3, 4, 1.0),
        (200, 200, 2, 7, 1e-12),  # tiny shift, dof = m (square: the weakest contraction of u)
        (500, 257, 2, 5, 1e12),  # huge shift: the Moebius product is rescaled every step or two
        (60, 60, 2, 60, 3.0),  # C = m: one position per chunk, dof = m
        (2, 2, 1, 2, 0.5),  # the smallest chunked chain
        (1000, 1000, 3, 15, 37.0),  # 1000 = 15 * 67 - 5: padding in front of chunk 0
        (2000, 1000, 1, 1000, 1e-3),
        (40, 33, 4, 11, 1e-100 * 2),  # the smallest shift that may chunk
        (1200, 1000, 1, 500, 1e90),  # many chunks at a large shift: the prefix products need their rescaling
    ],
)
def test_chunked_shifted_traces_equal_the_unchunked_recursion_on_the_same_draws(dof, m, reps, chunks, shift):
    ga, gb = sr._gamma_draws(dof, m, reps, chunks, np.random.default_rng([dof, m, chunks]))
    ref = _unchunked_shifted_traces(ga, gb, m, shift)
    got = sr._shifted_traces_lanes(ga, gb, shift)
    rtol = _chunk_rtol(m, chunks)
    for g, r in zip(got, ref):
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, r, rtol=rtol, atol=0)


@pytest.mark.parametrize(("m", "reps", "chunked"), [(1, 1, False), (255, 1, False), (256, 1, True), (10_000, 2, True),
                                                    (2000, 1024, True), (2000, 1366, False), (100_000, 3, True)])
def test_fast_ridge_path_chunks_only_where_it_pays_and_matches_the_unchunked_recursion(monkeypatch, m, reps, chunked):
    # The layout thresholds (>= 4 chunks of >= 64 steps, fewer than _LANES lanes): just below /
    # above them, and the whole fast path against the same draws run unchunked.
    shift = 0.5 * m
    chunks = sr._shifted_layout(m, reps, shift)
    assert (chunks > 1) == chunked
    L = -(-m // chunks)
    assert L * chunks - m < L  # padding inside chunk 0
    if m * reps > 400_000:
        return  # layout only: the recursion of large chains is compared above at smaller m
    dof = m + 3
    got = sr._traces(dof, m, reps, shift, np.random.default_rng(5))
    ga, gb = sr._gamma_draws(dof, m, reps, chunks, np.random.default_rng(5))
    ref = _unchunked_shifted_traces(ga, gb, m, shift)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=_chunk_rtol(m, chunks), atol=0)


@given(m=st.integers(1, 5000), reps=st.integers(1, 5000))
@example(m=5000, reps=1)  # _layout's 78 chunks of 65 would leave 70 padding positions
def test_shifted_layout_keeps_padding_inside_chunk_zero(m, reps):
    chunks = sr._shifted_layout(m, reps, 1.0)
    L = -(-m // chunks)
    assert chunks == 1 or (chunks >= sr._MIN_SHIFTED_CHUNKS and L >= sr._MIN_CHUNK and L * chunks - m < L)


def test_chunked_shifted_recursion_refuses_shifts_outside_its_range_and_padding_past_chunk_zero():
    ga, gb = sr._gamma_draws(12, 8, 2, 2, np.random.default_rng(0))
    for shift in (1e-201, 3e200):
        with pytest.raises(ValueError, match=re.escape("chunks=2 with shift=")):
            sr._shifted_traces_lanes(ga.copy(), gb, shift)
        assert sr._shifted_layout(10_000, 1, shift) == 1  # the fast path keeps one chunk there
    ga, gb = sr._gamma_draws(12, 10, 2, 7, np.random.default_rng(0))  # L = 2, 4 padding positions
    with pytest.raises(ValueError, match="must lie inside chunk 0"):
        sr._shifted_traces_lanes(ga, gb, 1.0)


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_fast_risk_with_few_replicates_and_small_blocks_matches_theory(monkeypatch, lam):
    # Few replicates at a larger m take the chunked path (lam = 0); a tiny block size forces
    # many blocks. Both must still estimate the exact risk (lam = 0) or agree with the
    # one-block run (lam > 0).
    n, p, seed = 400, 800, 107
    assert sr._layout(min(n, p), 300, True)[1] > 1  # the chunked path is exercised
    chunked = np.concatenate([sr.fast_risk_samples(n, p, 1.0, 1.0, lam, 300, np.random.default_rng([seed, k])) for k in range(4)])
    monkeypatch.setattr(sr, "_BLOCK_DRAWS", 3 * min(n, p))  # blocks of 3 replicates
    blocked = sr.fast_risk_samples(n, p, 1.0, 1.0, lam, 600 if lam == 0.0 else 90, np.random.default_rng(seed))
    if lam == 0.0:
        exact = rl.min_norm_risk_finite(n, p, 1.0, 1.0)
        assert_matches_prediction(chunked, exact, seed=seed, what="chunked vs exact")
        assert_matches_prediction(blocked, exact, seed=seed, what="blocked vs exact")
        for x in (chunked, blocked):
            assert Z_CRIT * _mean_se(x)[1] < 1e-3 * exact  # the check resolves 0.1%
    else:
        assert_same_mean(chunked, blocked, seed=seed, what="one block vs many blocks")


# ---------------------------------------------------------------------------------------
# Fast (Rao-Blackwellised) vs direct (lstsq / normal equations) simulators vs theory.

SIM_CASES = [
    pytest.param(60, 30, 0.0, 101, id="minnorm-p<n"),
    pytest.param(30, 60, 0.0, 102, id="minnorm-p>n"),
    pytest.param(40, 60, 0.5, 103, id="ridge-p>n"),
    pytest.param(60, 30, 0.2, 104, id="ridge-p<n"),
]


@pytest.mark.parametrize("n,p,lam,seed", SIM_CASES)
def test_fast_and_direct_simulators_agree(n, p, lam, seed):
    signal, noise = 1.0, 1.0
    rng = np.random.default_rng(seed)
    direct = sr.direct_risk_samples(n, p, signal, noise, lam, 1500, rng)
    fast = sr.fast_risk_samples(n, p, signal, noise, lam, 10000, rng)
    assert_same_mean(direct, fast, seed=seed, what=f"direct vs fast, n={n} p={p} lam={lam}")
    # power: the comparison resolves a 5% difference
    (md, sd), (mf, sf) = _mean_se(direct), _mean_se(fast)
    assert Z_CRIT * math.hypot(sd, sf) < 0.05 * mf
    # Rao-Blackwellisation: same mean, smaller per-replicate variance
    assert fast.std() < direct.std()
    if lam == 0.0:  # both also match the exact finite-n formula
        exact = rl.min_norm_risk_finite(n, p, signal, noise)
        assert_matches_prediction(direct, exact, seed=seed, what="direct vs exact")
        assert_matches_prediction(fast, exact, seed=seed, what="fast vs exact")


@given(n=st.integers(1, 40), p=st.integers(1, 40), signal=st.floats(0.0, 4.0), noise=st.floats(0.1, 4.0))
@example(n=30, p=26, signal=1.0, noise=1.0)  # |n - p| = 4: smallest gap with finite variance
@example(n=26, p=30, signal=1.0, noise=1.0)
@example(n=5, p=1, signal=0.0, noise=1.0)
@example(n=1, p=5, signal=4.0, noise=0.1)
def test_fast_min_norm_risk_matches_exact_finite_formula(n, p, signal, noise):
    assume(abs(n - p) >= 4)
    seed = 1000 * n + p
    samples = sr.fast_risk_samples(n, p, signal, noise, 0.0, 10000, np.random.default_rng(seed))
    assert_matches_prediction(samples, rl.min_norm_risk_finite(n, p, signal, noise), seed=seed, what=f"n={n} p={p}")


def test_fast_simulator_rejects_a_perturbed_min_norm_formula():
    # Mutation test: sigma^2 p / (n - p) instead of sigma^2 p / (n - p - 1) is 3.4% off at
    # n = 60, p = 30; the same 5-SE check must reject it.
    n, p, seed = 60, 30, 105
    samples = sr.fast_risk_samples(n, p, 0.0, 1.0, 0.0, 10000, np.random.default_rng(seed))
    mean, se = _mean_se(samples)
    assert abs(mean - p / (n - p - 1)) <= Z_CRIT * se
    assert abs(mean - p / (n - p)) > Z_CRIT * se


def _var_se(x) -> tuple[float, float]:
    """Sample variance and its large-sample SE sqrt((m4 - s^4) / N)."""
    x = np.asarray(x, dtype=float)
    c = x - x.mean()
    var = float(np.mean(c * c))
    return var, float(math.sqrt(max(np.mean(c**4) - var * var, 0.0) / x.size))


@pytest.mark.parametrize("n,p,lam,seed", [
    pytest.param(40, 80, 0.0, 111, id="minnorm-p>n"),
    pytest.param(80, 40, 0.0, 112, id="minnorm-p<n"),
    pytest.param(30, 60, 0.5, 113, id="ridge-p>n"),
    pytest.param(60, 30, 0.2, 114, id="ridge-p<n"),
    pytest.param(25, 25, 1.0, 115, id="ridge-square"),
])
def test_bartlett_baseline_is_the_same_random_variable_as_the_fast_path(n, p, lam, seed):
    # The benchmark's strongest baseline must estimate the same thing with the same per-replicate
    # law: equal means and equal variances (5-SE z-tests), and the exact formula where known.
    rng = np.random.default_rng(seed)
    bart = sr.bartlett_risk_samples(n, p, 1.0, 1.0, lam, 3000, rng)
    fast = sr.fast_risk_samples(n, p, 1.0, 1.0, lam, 20000, rng)
    assert_same_mean(bart, fast, seed=seed, what=f"Bartlett vs fast, n={n} p={p} lam={lam}")
    (vb, sb), (vf, sf) = _var_se(bart), _var_se(fast)
    z = (vb - vf) / math.hypot(sb, sf)
    assert abs(z) <= Z_CRIT, f"variances {vb:.4g} +- {sb:.2g} vs {vf:.4g} +- {sf:.2g}, z = {z:.2f}, seed {seed}"
    assert Z_CRIT * math.hypot(sb, sf) < 0.25 * vf  # power: a 25% variance difference is detected
    if lam == 0.0:
        assert_matches_prediction(bart, rl.min_norm_risk_finite(n, p, 1.0, 1.0), seed=seed, what="Bartlett vs exact")


def test_fast_ridge_risk_approaches_asymptotic_ridge_risk_at_rate_one_over_n():
    # At fixed gamma = 2, lam = 0.5 the finite-n mean risk tends to the HMRT limit with an
    # O(1/n) discrepancy D_n: n D_n is the same at n = 15, 30, 60 within 5 SE plus 10% for
    # the next-order O(1/n^2) term. (An O(n^-1/2) rate would double n D_n from 15 to 60.)
    gamma, lam, seed = 2.0, 0.5, 106
    limit = rl.ridge_risk_asymptotic(gamma, lam, 1.0, 1.0)
    rng = np.random.default_rng(seed)
    scaled, scaled_se = [], []
    for n in (15, 30, 60):
        mean, se = _mean_se(sr.fast_risk_samples(n, int(gamma * n), 1.0, 1.0, lam, 20000, rng))
        assert mean - limit > Z_CRIT * se  # the finite-size effect is resolved (not vacuous)
        scaled.append(n * (mean - limit))
        scaled_se.append(n * se)
    spread = max(scaled) - min(scaled)
    assert spread <= Z_CRIT * math.sqrt(2) * max(scaled_se) + 0.1 * np.mean(scaled), (scaled, scaled_se, seed)


# ---------------------------------------------------------------------------------------
# Determinism.

SIMULATORS = {
    "fast": lambda rng: sr.fast_risk_samples(20, 30, 1.0, 1.0, 0.1, 50, rng),
    "fast_minnorm_chunked": lambda rng: sr.fast_risk_samples(200, 400, 1.0, 1.0, 0.0, 3, rng),
    "fast_ridge_chunked": lambda rng: sr.fast_risk_samples(400, 800, 1.0, 1.0, 0.5, 3, rng),
    "direct": lambda rng: sr.direct_risk_samples(20, 30, 1.0, 1.0, 0.0, 5, rng),
    "bartlett": lambda rng: sr.bartlett_risk_samples(20, 30, 1.0, 1.0, 0.0, 5, rng),
    "bartlett_ridge": lambda rng: sr.bartlett_risk_samples(20, 30, 1.0, 1.0, 0.1, 5, rng),
    "direct_ridge": lambda rng: sr.direct_risk_samples(20, 30, 1.0, 1.0, 0.1, 5, rng),
    "laguerre": lambda rng: np.concatenate(sr.laguerre_bidiagonal(12, 5, 10, rng), axis=1),
    "ridge_curves": lambda rng: np.concatenate(
        [x.reshape(5, -1) for x in sr.direct_ridge_curves(20, 30, 1.0, 1.0, 5, rng)], axis=1
    ),
    "spectral_ridge_curves": lambda rng: np.concatenate(
        [x.reshape(5, -1) for x in sr.spectral_ridge_curves(20, 30, 1.0, 1.0, 5, rng)], axis=1
    ),
}


@pytest.mark.parametrize("name", list(SIMULATORS))
def test_same_seed_gives_bit_identical_output_and_different_seeds_differ(name):
    sim = SIMULATORS[name]
    first = sim(np.random.default_rng(7))
    second = sim(np.random.default_rng(7))
    other = sim(np.random.default_rng(8))
    assert first.tobytes() == second.tobytes()
    assert first.shape == other.shape
    assert not np.array_equal(first, other)


# ---------------------------------------------------------------------------------------
# Bad input.

GOOD = dict(n=10, p=20, signal=1.0, noise=1.0, lam=0.1, reps=3)
BAD = [
    ("n", 0, ValueError, "n=0, must be >= 1"),
    ("n", 2.5, TypeError, "n=2.5, must be an integer"),
    ("p", 0, ValueError, "p=0, must be >= 1"),
    ("signal", -1.0, ValueError, "signal=-1.0, must be >= 0"),
    ("noise", -1.0, ValueError, "noise=-1.0, must be >= 0"),
    ("noise", float("nan"), ValueError, "noise=nan, must be a real number >= 0"),
    ("lam", -1.0, ValueError, "lam=-1.0, must be >= 0"),
    ("reps", 0, ValueError, "reps=0, must be >= 1"),
]


BAD_SIM_CASES = [
    pytest.param(func, name, value, exc, msg, id=f"{func.__name__}-{name}={value}")
    for func in (sr.fast_risk_samples, sr.bartlett_risk_samples, sr.direct_risk_samples, sr.direct_ridge_curves,
                 sr.spectral_ridge_curves)
    for name, value, exc, msg in BAD
    if not (func in (sr.direct_ridge_curves, sr.spectral_ridge_curves) and name == "lam")  # they take no lam
]


@pytest.mark.parametrize("func,name,value,exc,msg", BAD_SIM_CASES)
def test_simulators_reject_bad_input_naming_the_parameter(func, name, value, exc, msg):
    kwargs = dict(GOOD)
    if func in (sr.direct_ridge_curves, sr.spectral_ridge_curves):
        del kwargs["lam"]
    func(rng=np.random.default_rng(0), **kwargs)  # the good point is accepted
    kwargs[name] = value
    with pytest.raises(exc, match="^" + re.escape(msg)):
        func(rng=np.random.default_rng(0), **kwargs)


@pytest.mark.parametrize(
    "dof,m,exc,msg",
    [
        (0, 1, ValueError, "dof=0, must be >= 1"),
        (3, 0, ValueError, "m=0, must be >= 1 and <= 3"),
        (3, 5, ValueError, "m=5, must be >= 1 and <= 3"),
        (3.5, 2, TypeError, "dof=3.5, must be an integer"),
    ],
)
def test_laguerre_bidiagonal_rejects_bad_input_naming_the_parameter(dof, m, exc, msg):
    with pytest.raises(exc, match="^" + re.escape(msg)):
        sr.laguerre_bidiagonal(dof, m, 2, np.random.default_rng(0))


def test_ridge_curve_rejects_unknown_derivative_order():
    mu, c2, null = sr.direct_ridge_curves(5, 8, 1.0, 1.0, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match=re.escape("derivative=3, must be 0, 1 or 2")):
        sr.ridge_curve(0.5, mu, c2, null, 5, 1.0, derivative=3)


# ---------------------------------------------------------------------------------------
# Per-replicate ridge curves and the finite-sample optimal lambda.


@pytest.fixture(scope="module", params=[(20, 30), (30, 20)], ids=["p>n", "p<n"])
def small_curves(request):
    n, p = request.param
    mu, c2, null = sr.direct_ridge_curves(n, p, 1.0, 1.0, 4, np.random.default_rng(n * 100 + p))
    return n, mu, c2, null


@given(lam=st.floats(1e-2, 10.0), noise=st.floats(0.0, 4.0))
@example(lam=1e-2, noise=1.0)
@example(lam=10.0, noise=0.0)
def test_ridge_curve_derivatives_match_finite_differences(small_curves, lam, noise):
    n, mu, c2, null = small_curves

    def R(x, d=0):
        return sr.ridge_curve(x, mu, c2, null, n, noise, derivative=d)

    h = 1e-3 * lam
    # central differences: truncation O(h^2) ~ 1e-6 relative; rounding ~ eps * R / h^k
    scale = np.abs(R(lam)) + np.abs(lam * R(lam, 1)) + np.abs(lam**2 * R(lam, 2))
    fd1 = (R(lam + h) - R(lam - h)) / (2 * h)
    fd2 = (R(lam + h) - 2 * R(lam) + R(lam - h)) / h**2
    d1, d2 = R(lam, 1), R(lam, 2)
    assert np.all(np.abs(d1 - fd1) <= 1e-5 * (np.abs(d1) + scale / lam)), (d1, fd1)
    assert np.all(np.abs(d2 - fd2) <= 1e-4 * (np.abs(d2) + scale / lam**2)), (d2, fd2)


@pytest.mark.parametrize("n,p,seed", [(20, 30, 201), (30, 20, 202)])
def test_mean_ridge_curve_is_stationary_at_optimal_ridge_lambda(n, p, seed):
    signal, noise, reps = 1.0, 1.0, 3000
    mu, c2, null = sr.direct_ridge_curves(n, p, signal, noise, reps, np.random.default_rng(seed))
    lam_star = rl.optimal_ridge_lambda(p / n, signal, noise)

    def dR(lam):
        return sr.ridge_curve(lam, mu, c2, null, n, noise, derivative=1)

    # lambda* = sigma^2 gamma / r^2 is optimal at finite (n, p): E dR/dlam = 0 there ...
    assert_matches_prediction(dR(lam_star), 0.0, seed=seed, what="E R'(lambda*)")
    # ... the mean curve is convex there ...
    assert sr.ridge_curve(lam_star, mu, c2, null, n, noise, derivative=2).mean() > 0.0
    # ... and the check has teeth: at lambda*/2 and 2 lambda* the slope is resolved
    for lam, sign in ((lam_star / 2, -1.0), (2 * lam_star, 1.0)):
        mean, se = _mean_se(dR(lam))
        assert sign * mean > Z_CRIT * se, (lam, mean, se)


@pytest.mark.parametrize("n,p,lam,seed", [(20, 30, 0.5, 203), (30, 20, 0.2, 204)])
def test_mean_ridge_curve_matches_fast_ridge_risk(n, p, lam, seed):
    # Fixed beta (direct_ridge_curves) and beta averaged over directions (fast) have the
    # same expected risk by rotation invariance.
    rng = np.random.default_rng(seed)
    mu, c2, null = sr.direct_ridge_curves(n, p, 1.0, 1.0, 2000, rng)
    curve = sr.ridge_curve(lam, mu, c2, null, n, 1.0)
    fast = sr.fast_risk_samples(n, p, 1.0, 1.0, lam, 10000, rng)
    assert_same_mean(curve, fast, seed=seed, what="mean ridge curve vs fast")
    # and the noise-averaged curve equals the direct simulator's risk in mean
    direct = sr.direct_risk_samples(n, p, 1.0, 1.0, lam, 1000, rng)
    assert_same_mean(curve, direct, seed=seed, what="mean ridge curve vs direct")


@functools.lru_cache(maxsize=None)
def _direct_and_spectral_curves(n, p, seed):
    """1200 SVD ridge curves, then 20000 spectral ones, from one generator (read-only arrays): the
    law test at (20, 30) and the mutation test below share the draw."""
    rng = np.random.default_rng(seed)
    direct = sr.direct_ridge_curves(n, p, 1.0, 0.5, 1200, rng)
    spectral = sr.spectral_ridge_curves(n, p, 1.0, 0.5, 20000, rng)
    for x in (*direct, *spectral):
        x.setflags(write=False)
    return direct, spectral


@pytest.mark.parametrize("n,p,seed", [(20, 30, 205), (30, 20, 206), (15, 15, 207), (1, 6, 208), (6, 1, 209)])
def test_spectral_ridge_curves_have_the_law_of_the_direct_svd_curves(n, p, seed):
    # Fixed-beta ridge curves from the bidiagonal spectrum + a uniform direction (no X, no SVD)
    # against the SVD of sampled X: same mean and variance of R(lam), R'(lam), of the captured
    # signal sum c_i^2 and of the smallest eigenvalue (5-SE z-tests), at corners n = p, m = 1.
    direct, spectral = _direct_and_spectral_curves(n, p, seed)
    for lam in (0.05, 0.5, 5.0):
        for d in (0, 1):
            a, b = (sr.ridge_curve(lam, *x, n, 0.5, derivative=d) for x in (direct, spectral))
            what = f"R^({d})({lam}), n={n} p={p}"
            assert_same_mean(a, b, seed=seed, what=what)
            (va, sa), (vb, sb) = _var_se(a), _var_se(b)
            assert abs(va - vb) <= Z_CRIT * math.hypot(sa, sb), (what, va, sa, vb, sb)
    captured = [x[1].sum(axis=1) for x in (direct, spectral)]
    if p > n:
        assert_same_mean(*captured, seed=seed, what="sum c_i^2")
        assert_matches_prediction(captured[1], n / p, seed=seed, what="E sum c_i^2 = r^2 n / p")
    else:  # p <= n: all of beta is captured, in both
        assert np.allclose(np.concatenate(captured), 1.0, rtol=1e-12, atol=0)
    for x in (direct, spectral):
        assert np.allclose(x[1].sum(axis=1) + x[2], 1.0, rtol=1e-12, atol=0)  # c and the null part make up r^2
    assert_same_mean(direct[0].min(axis=1), spectral[0].min(axis=1), seed=seed, what="smallest eigenvalue")


def test_spectral_ridge_curves_reject_a_wrong_direction_law():
    # Mutation: weighting the eigen-directions by a non-uniform law (all signal on the top
    # eigenvector) changes the mean curve, and the same 5-SE comparison rejects it.
    # (The draw of the law test's (20, 30) case: a correct spectral law passes there, this one must not.)
    n, p, seed = 20, 30, 205
    direct, (mu, c2, null) = _direct_and_spectral_curves(n, p, seed)
    wrong = np.zeros_like(c2)
    wrong[:, -1] = c2.sum(axis=1)  # same captured signal, all on the largest eigenvalue
    a = sr.ridge_curve(0.5, *direct, n, 0.5)
    b = sr.ridge_curve(0.5, mu, wrong, null, n, 0.5)
    (ma, sa), (mb, sb) = _mean_se(a), _mean_se(b)
    assert abs(ma - mb) > Z_CRIT * math.hypot(sa, sb)
