"""claimcheck.theory.deep_bootstrap and its sympy derivations; sims.deep_bootstrap against theory.

Simulation-vs-theory comparisons use SE-derived tolerances (z-tests at alpha = 1e-6,
Bonferroni over the compared entries), never a fixed rtol.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings, strategies as st

from claimcheck import stats
from claimcheck.sims import deep_bootstrap as S
from claimcheck.theory import deep_bootstrap as T
from claimcheck.theory import deep_bootstrap_sympy as DS
from claimcheck.theory.ridgeless import min_norm_risk_finite


def _zmax(samples, target):
    m = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / math.sqrt(samples.shape[0])
    return np.max(np.abs(m - target) / np.where(se > 0, se, np.inf))


def _zc(k=1):
    return stats.z_critical(1e-6 / k)


# ---------------------------------------------------------------- sympy derivations (run as tests)
def test_sympy_sign_link_best_linear_predictor_and_floor():
    assert sp.simplify(DS.link_coefficient_expr() - sp.sqrt(2 / sp.pi)) == 0
    assert DS.check_sign_best_linear_risk()
    assert not DS.check_sign_best_linear_risk(risk=1 - 1 / sp.pi)
    assert not DS.check_sign_best_linear_risk(coefficient=1 / sp.sqrt(sp.pi))


def test_sympy_residual_moments_match_theory_and_reject_wrong_values():
    assert DS.check_sign_residual_moments()
    assert not DS.check_sign_residual_moments(e13=sp.sqrt(2 / sp.pi))
    assert not DS.check_sign_residual_moments(e22=1 - 1 / sp.pi)
    num = {k: float(v) for k, v in DS.sign_residual_moments().items()}
    th = T.residual_moments("sign")
    for k in ("e2", "e22", "e13"):
        assert num[k] == pytest.approx(th[k], rel=1e-14)
    assert num["e1"] == 0.0


def test_sympy_cross_moment_has_rank_one_structure():
    assert DS.check_cross_moment()
    assert not DS.check_cross_moment(kappa=0)
    assert not DS.check_cross_moment(e2=0)


def test_sympy_gaussian_fourth_moment_identity():
    assert DS.check_fourth_moment_identity()
    assert not DS.check_fourth_moment_identity(trace_coefficient=0)
    assert not DS.check_fourth_moment_identity(vmv_coefficient=1)


# ---------------------------------------------------------------- closed forms
def test_best_linear_predictor_identity_is_beta_star_and_sign_is_scaled():
    V = T.powerlaw_covariance(5, 1.0)
    b = np.arange(1.0, 6.0)
    assert np.allclose(T.best_linear_predictor(b, V, "identity"), b)
    s = math.sqrt(b @ V @ b)
    assert np.allclose(T.best_linear_predictor(b, V, "sign"), math.sqrt(2 / math.pi) * b / s)
    assert T.best_linear_risk("identity") == 0.0
    assert T.best_linear_risk("sign") == pytest.approx(1 - 2 / math.pi, rel=1e-15)


def test_sign_best_linear_predictor_is_the_least_squares_solution_of_a_large_sample():
    rng = np.random.default_rng(0)
    V = T.powerlaw_covariance(3, 1.0)
    b = T.default_beta_star(V)
    X = rng.standard_normal((400_000, 3)) @ np.sqrt(V)
    y = np.sign(X @ b)
    fit = np.linalg.lstsq(X, y, rcond=None)[0]
    bar = T.best_linear_predictor(b, V, "sign")
    # OLS error covariance ~ V^-1 E[eps^2 x x^T] V^-1 / N = (1 - 2/pi) V^-1 / N.
    se = np.sqrt((1 - 2 / math.pi) / np.diag(V) / X.shape[0])
    assert np.max(np.abs(fit - bar) / se) < _zc(3)


def test_test_loss_decomposition_matches_monte_carlo_loss():
    rng = np.random.default_rng(1)
    V = T.powerlaw_covariance(4, 2.0)
    b = T.default_beta_star(V)
    beta = np.array([0.3, -0.2, 0.1, 0.5])
    X = rng.standard_normal((200_000, 4)) @ np.sqrt(V)
    sq = (np.sign(X @ b) - X @ beta) ** 2
    assert abs(sq.mean() - T.population_loss(beta, b, V, "sign")) < _zc() * sq.std() / math.sqrt(sq.size)


@pytest.mark.parametrize("V", [T.powerlaw_covariance(1), T.powerlaw_covariance(7, 2.0), np.diag([2.0, 0.0, 1e-300]),
                               np.array([[2.0, 0.5], [0.5, 1.0]])])
def test_logged_loss_of_a_diagonal_covariance_is_the_dense_quadratic_form(V):
    """The logger reads a diagonal V through its diagonal (one pass); the loss is the dense
    D^T V D + floor to float rounding (rtol 1e-13), a non-diagonal V keeps the GEMM, a NaN row is inf."""
    d = V.shape[0]
    D = np.random.default_rng(3).standard_normal((9, d)) * np.logspace(-3, 3, 9)[:, None]
    bar = np.arange(d) / 7.0
    log = S._Logger(np.array([0, 4]), 9, V, bar, 0.25)
    assert log.V.ndim == (1 if not np.any(V - np.diag(np.diagonal(V))) else 2)
    beta = D + bar
    beta[2, 0] = np.nan
    log(0, beta)
    want = 0.25 + np.einsum("ri,ij,rj->r", D, V, D)
    want[2] = np.inf
    np.testing.assert_allclose(log.out[:, 0], want, rtol=1e-13)
    log(3, beta)  # not a logged step: nothing written
    assert log.k == 1


@given(st.integers(1, 40), st.integers(1, 16), st.floats(0.1, 10.0))
@example(1, 1, 1.0)
def test_isotropic_threshold_closed_form_equals_secular_root(d, B, v):
    V = v * np.eye(d)
    closed = T.sgd_stability_threshold(V, B)
    assert closed == pytest.approx(2 * B / (v * (d + B + 1)), rel=1e-12)
    # generic branch (perturb one eigenvalue infinitesimally): same threshold
    W = V.copy()
    W[0, 0] *= 1 + 1e-9
    assert T.sgd_stability_threshold(W, B) == pytest.approx(closed, rel=1e-6)


@settings(max_examples=15)
@given(st.integers(1, 20), st.sampled_from([0.0, 1.0, 2.0]), st.integers(1, 8))
def test_spectral_radius_crosses_one_exactly_at_eta_max(d, expo, B):
    V = T.powerlaw_covariance(d, expo)
    em = T.sgd_stability_threshold(V, B)
    assert T.second_moment_spectral_radius(V, B, em) == pytest.approx(1.0, abs=1e-9)
    assert T.second_moment_spectral_radius(V, B, 0.99 * em) < 1
    assert T.second_moment_spectral_radius(V, B, 1.01 * em) > 1


def test_ideal_recursion_diverges_beyond_and_refuses_eta_max():
    V = T.powerlaw_covariance(6, 1.0)
    b = T.default_beta_star(V)
    em = T.sgd_stability_threshold(V, 2)
    lam, U = np.linalg.eigh(V)
    curve = T._ideal_recursion(lam, U.T @ (V @ b), -U.T @ b, "identity", 2, 1.05 * em, 2000)
    assert curve[-1] > 10 * curve[0]
    with pytest.raises(ValueError, match=r"eta=.*must be < eta_max"):
        T.ideal_world_loss(V, b, "identity", 2, 1.05 * em, 10)
    public = T.ideal_world_loss(V, b, "identity", 2, 1.05 * em, 2000, allow_unstable=True)
    np.testing.assert_array_equal(public, curve)
    below = T.ideal_world_loss(V, b, "identity", 2, 0.5 * em, 50)
    np.testing.assert_array_equal(T.ideal_world_loss(V, b, "identity", 2, 0.5 * em, 50, allow_unstable=True), below)


def test_ideal_identity_isotropic_batch_one_matches_scalar_recursion():
    # V = v I, identity link: E L_{t+1} = (1 - 2 eta v + eta^2 v^2 (d + 2)) E L_t (B = 1).
    d, v, eta = 7, 0.2, 0.4
    V = v * np.eye(d)
    b = T.default_beta_star(V)
    curve = T.ideal_world_loss(V, b, "identity", 1, eta, 30)
    rho = 1 - 2 * eta * v + eta**2 * v**2 * (d + 2)
    assert np.allclose(curve, rho ** np.arange(31), rtol=1e-12)


def test_real_world_gd_limit_is_the_noiseless_min_norm_risk():
    assert T.real_world_gd_limit(20, 50) == pytest.approx(1 - 20 / 50)
    assert T.real_world_gd_limit(50, 20) == 0.0
    assert T.real_world_gd_limit(20, 50, 2.0) == min_norm_risk_finite(20, 50, 2.0, 0.0)


def test_sympy_sign_ols_excess_risk_is_ridgeless_plus_misspecification_term():
    assert DS.check_sign_ols_excess_risk()
    assert not DS.check_sign_ols_excess_risk(correction=0)  # eps independent of x
    assert not DS.check_sign_ols_excess_risk(noise=1)  # noise level E y^2
    e = DS.sign_ols_excess_risk_expr()
    for n, d in ((8, 1), (20, 4), (100, 50)):
        assert float(e.subs({DS.N_SYM: n, DS.D_SYM: d})) == pytest.approx(T.sign_ols_excess_risk(n, d), rel=1e-13)


@given(st.integers(1, 60).flatmap(lambda d: st.tuples(st.just(d), st.integers(d + 2, d + 400))))
def test_sign_ols_excess_risk_exceeds_the_ridgeless_formula_by_a_d_free_term(dn):
    d, n = dn
    homo = min_norm_risk_finite(n, d, 1.0, 1 - 2 / math.pi)
    assert T.sign_ols_excess_risk(n, d) - homo == pytest.approx(4 / (math.pi * (n - 1) * (n - 2)), rel=1e-9, abs=1e-15)


def test_sign_ols_excess_risk_leading_order_and_singular_point():
    for d in (1, 5, 50):
        n = 10**6
        assert n * T.sign_ols_excess_risk(n, d) == pytest.approx((1 - 2 / math.pi) * d, rel=1e-4)
    assert T.sign_ols_excess_risk(11, 10) == math.inf
    assert T.sign_ols_excess_risk(2, 1) == math.inf


# ---------------------------------------------------------------- simulators vs theory
@pytest.mark.parametrize("link", T.LINKS)
def test_ideal_world_simulation_matches_recursion_at_every_step(link):
    V = T.powerlaw_covariance(6, 1.0)
    b = T.default_beta_star(V)
    eta = 0.6 * T.sgd_stability_threshold(V, 3)
    steps = np.array([0, 1, 2, 4, 8, 16, 32])
    L = S.ideal_world_sgd_losses(V, b, link, 3, eta, 32, steps, 4000, np.random.default_rng(2))
    th = T.ideal_world_loss(V, b, link, 3, eta, 32)[steps]
    assert _zmax(L[:, 1:], th[1:]) < _zc(len(steps))
    assert np.allclose(L[:, 0], th[0])


@pytest.mark.parametrize("link", T.LINKS)
def test_real_world_first_epoch_is_the_ideal_world(link):
    V = T.powerlaw_covariance(8, 1.0)
    b = T.default_beta_star(V)
    eta = 0.5 * T.sgd_stability_threshold(V, 2)
    steps = np.array([1, 3, 6, 10])  # n = 20, B = 2: first epoch = 10 steps
    L = S.real_world_sgd_losses(V, b, link, 20, 2, eta, 10, steps, 4000, np.random.default_rng(3))
    th = T.ideal_world_loss(V, b, link, 2, eta, 10)[steps]
    assert _zmax(L, th) < _zc(len(steps))


def _real_world_reference(V, b, link, n, B, eta, steps, reps, rng):
    """Real World SGD as the docstring states it, every epoch (the first included) a fresh
    argsort permutation per replicate, gathered with take_along_axis: (test, train) losses at every step."""
    d = V.shape[0]
    X = rng.standard_normal((reps, n, d)) * np.sqrt(np.diag(V))
    Y = S.link_function(link)(X @ b)
    bar = T.best_linear_predictor(b, V, link)
    beta, per_epoch, test, train = np.zeros((reps, d)), n // B, [], []
    for step in range(1, steps + 1):
        j = (step - 1) % per_epoch
        if j == 0:
            perm = np.argsort(rng.random((reps, n)), axis=1)
        idx = perm[:, j * B:(j + 1) * B]
        x = np.take_along_axis(X, idx[:, :, None], axis=1)
        y = np.take_along_axis(Y, idx, axis=1)
        beta = beta + (eta / B) * np.einsum("rbd,rb->rd", x, y - np.einsum("rbd,rd->rb", x, beta))
        D = beta - bar
        test.append(T.best_linear_risk(link) + np.einsum("ri,ij,rj->r", D, V, D))
        train.append(np.mean((Y - np.einsum("rnd,rd->rn", X, beta)) ** 2, axis=1))
    return np.stack(test, axis=1), np.stack(train, axis=1)


@pytest.mark.parametrize("link, B", [("sign", 2), ("identity", 1)])
def test_real_world_first_epoch_in_drawn_order_has_the_law_of_a_shuffled_one(link, B):
    # real_world_sgd_losses takes epoch 1 in the drawn order of the i.i.d. points (later epochs
    # shuffled): the same law as shuffling every epoch. Two-sample z-tests against the reference
    # over three epochs (n = 7, a remainder point dropped when B = 2), test and train losses.
    V = T.powerlaw_covariance(3, 1.0)
    b = T.default_beta_star(V)
    n, reps = 7, 6000
    steps = 3 * (n // B)
    eta = 0.3 * T.sgd_stability_threshold(V, B)
    L, Tr = S.real_world_sgd_losses(V, b, link, n, B, eta, steps, np.arange(1, steps + 1), reps, np.random.default_rng(31),
                                    return_train=True)
    RL, RTr = _real_world_reference(V, b, link, n, B, eta, steps, reps, np.random.default_rng(32))
    for a, c in ((L, RL), (Tr, RTr)):
        se = np.sqrt(a.var(axis=0, ddof=1) / reps + c.var(axis=0, ddof=1) / reps)
        assert np.all(np.abs(a.mean(axis=0) - c.mean(axis=0)) < _zc(2 * 2 * steps) * se)
    # and the reference is no strawman: the same test tells an Ideal World (fresh points) apart late on
    I = S.ideal_world_sgd_losses(V, b, link, B, eta, steps, np.arange(1, steps + 1), reps, np.random.default_rng(33))
    se = np.sqrt(L.var(axis=0, ddof=1) / reps + I.var(axis=0, ddof=1) / reps)
    assert np.abs(L.mean(axis=0) - I.mean(axis=0))[-1] > _zc() * se[-1]


def test_real_world_overfits_after_many_epochs_in_setting_a():
    V = T.powerlaw_covariance(30, 0.0)
    b = T.default_beta_star(V)
    eta = 0.5 * T.sgd_stability_threshold(V, 1)
    L, train = S.real_world_sgd_losses(V, b, "identity", 10, 1, eta, 2000, [2000], 200, np.random.default_rng(4), return_train=True)
    assert train.mean() < 1e-3  # interpolates its 10 points
    z = (L.mean() - T.real_world_gd_limit(10, 30)) / (L.std(ddof=1) / math.sqrt(L.size))
    assert abs(z) < _zc()  # SGD from 0 also converges to the min-norm interpolator


def test_gd_direct_and_spectral_agree_and_reach_min_norm_limit():
    steps = [0.0, 1.0, 5.0, 50.0, math.inf]
    for n, d in ((20, 50), (40, 10)):
        eta = 0.5 * d / (1 + math.sqrt(d / n)) ** 2
        a = S.gd_direct_losses(n, d, 1 / d, eta, steps, 3000, np.random.default_rng(5))
        c = S.gd_spectral_losses(n, d, 1 / d, eta, steps, 3000, np.random.default_rng(6))
        se = np.sqrt(a.var(0, ddof=1) / 3000 + c.var(0, ddof=1) / 3000)
        diff = np.abs(a.mean(0) - c.mean(0))
        assert np.all(diff[se > 0] < _zc(len(steps)) * se[se > 0])
        assert np.allclose(c[:, -1], T.real_world_gd_limit(n, d))
        assert np.allclose(a[:, 0], 1.0) and np.allclose(c[:, 0], 1.0)


@pytest.mark.parametrize("n, d, eta_frac", [(20, 50, 0.5), (40, 10, 0.8), (10, 5, 0.2), (10, 60, 0.8), (1, 3, 0.5), (3, 1, 0.5),
                                          (12, 4, 3.0), (12, 4, 30.0), (8, 20, 30.0)])  # beyond the stability limit; at 30 the
                                          # powers overflow and those runs take the eigh fallback
def test_gd_direct_repeated_squaring_equals_the_eigendecomposition(n, d, eta_frac):
    # integer steps go through matrix powers (d x d, or the n x n Gram space for d > n), other steps
    # and overflowing runs through the eigendecomposition: the same function of X up to rounding
    # (float-rounding tolerance: relative 1e-9, absolute 1e-13 of the start loss 1)
    eta = eta_frac * d / (1 + math.sqrt(d / n)) ** 2
    steps = np.array([0.0, 1.0, 2.0, 7.0, 50.0, 300.0, math.inf])
    a = S.gd_direct_losses(n, d, 1 / d, eta, steps, 200, np.random.default_rng(3))
    X = np.random.default_rng(3).standard_normal((200, n, d))
    X *= math.sqrt(1 / d)
    e = S._gd_by_eigh(X, T.default_beta_star(np.eye(d) / d), 1 / d, eta, steps)
    assert not np.any(np.isnan(a))
    fin = np.isfinite(e)
    assert np.array_equal(fin, np.isfinite(a))
    assert np.allclose(a[fin], e[fin], rtol=1e-9, atol=1e-13)
    # a non-integer step takes the eigendecomposition path throughout
    half = S.gd_direct_losses(n, d, 1 / d, eta, [0.5, 2.0], 200, np.random.default_rng(3))
    assert np.array_equal(half, S._gd_by_eigh(X, T.default_beta_star(np.eye(d) / d), 1 / d, eta, np.array([0.5, 2.0])))


def test_direct_ols_matches_exact_risk_and_rejects_homoscedastic_formula_at_d1():
    V = T.powerlaw_covariance(1)
    x = S.ols_excess_risks(V, T.default_beta_star(V), "sign", 8, 40000, np.random.default_rng(8), chunk=40000)
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert abs(x.mean() - T.sign_ols_excess_risk(8, 1)) < _zc(2) * se
    assert abs(x.mean() - min_norm_risk_finite(8, 1, 1.0, 1 - 2 / math.pi)) > _zc(2) * se


_ROT = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))[0]


@pytest.mark.parametrize("n, V, link", [
    (8, np.eye(1), "sign"),                                       # d = 1: no W block
    (4, T.powerlaw_covariance(3, 2.0), "sign"),                  # n = d + 1: Bartlett df down to 1
    (9, T.powerlaw_covariance(2, 2.0), "sign"),                  # the domain corner n = d + 7
    (12, T.powerlaw_covariance(5, 1.0), "sign"),
    (10, _ROT @ np.diag([0.6, 0.3, 0.1]) @ _ROT.T, "sign"),     # a non-diagonal covariance
])
def test_reduced_ols_sampler_has_the_distribution_of_direct_ols(n, V, link):
    # ols_excess_risks draws the excess risk from a rotated, Bartlett-reduced representation; the
    # direct simulation (sample X, solve the normal equations) is the reference: same distribution
    # (two-sample Kolmogorov-Smirnov at 1e-6 over the five cases, and the means by a z-test)
    from scipy.stats import ks_2samp

    b = T.default_beta_star(V)
    a = S.ols_excess_risks(V, b, link, n, 20000, np.random.default_rng(21))
    c = S._ols_excess_risks_direct(V, b, link, n, 20000, np.random.default_rng(22))
    assert ks_2samp(a, c).pvalue > 1e-6 / 5
    if n - V.shape[0] >= 7:  # finite variance: compare the means
        se = math.sqrt(a.var(ddof=1) / a.size + c.var(ddof=1) / c.size)
        assert abs(a.mean() - c.mean()) < _zc(5) * se


def test_reduced_ols_sampler_identity_link_is_exactly_zero_and_same_seed_same_samples():
    V = T.powerlaw_covariance(4, 1.0)
    b = T.default_beta_star(V)
    assert np.all(S.ols_excess_risks(V, b, "identity", 9, 50, np.random.default_rng(0)) == 0.0)  # eps = 0
    one = S.ols_excess_risks(V, b, "sign", 9, 50, np.random.default_rng(1), chunk=50)
    assert np.all(np.isfinite(one)) and np.all(one >= 0)
    assert np.array_equal(one, S.ols_excess_risks(V, b, "sign", 9, 50, np.random.default_rng(1), chunk=50))


def test_full_batch_gd_on_sign_data_converges_to_ols():
    rng = np.random.default_rng(9)
    V = T.powerlaw_covariance(5, 1.0)
    b = T.default_beta_star(V)
    X = rng.standard_normal((40, 5)) @ np.sqrt(V)
    y = np.sign(X @ b)
    Sn = X.T @ X / 40
    mu = np.linalg.eigvalsh(Sn)
    eta = 1.0 / mu[-1]
    beta = np.zeros(5)
    steps = int(np.ceil(np.log(1e-13) / np.log(1 - eta * mu[0])))  # contraction (1 - eta mu_min)^t
    for _ in range(steps):
        beta = beta + eta * X.T @ (y - X @ beta) / 40
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.linalg.norm(beta - ols) <= 1e-12 * np.linalg.norm(ols) * np.linalg.cond(Sn)


def test_one_step_ratio_is_one_along_the_perron_direction_at_eta_max():
    V = T.powerlaw_covariance(5, 1.0)
    em = T.sgd_stability_threshold(V, 2)
    C = T.stable_second_moment(V, 2, em)
    q = S.one_step_quadratic(V, 2, em, C, 40000, np.random.default_rng(7))
    assert abs(q.mean() - 1) < _zc() * q.std(ddof=1) / math.sqrt(q.size)


def test_same_seed_same_bits():
    V = T.powerlaw_covariance(5, 1.0)
    b = T.default_beta_star(V)
    run = lambda s: S.real_world_sgd_losses(V, b, "sign", 10, 2, 0.5, 30, [5, 30], 20, np.random.default_rng(s))
    assert np.array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, match", [
    (lambda: T.best_linear_risk("relu"), r"link='relu', must be one of 'identity', 'sign'"),
    (lambda: T.check_covariance([[1.0, 0.0], [0.0, -1.0]]), r"V has eigenvalue -1, must be positive semi-definite"),
    (lambda: T.check_covariance([[1.0, 0.5], [0.0, 1.0]]), r"V is not symmetric"),
    (lambda: T.check_covariance(np.ones(3)), r"V must be a non-empty square matrix"),
    (lambda: T.sgd_stability_threshold(np.eye(2), 0), r"batch=0, must be >= 1"),
    (lambda: T.ideal_world_loss(np.eye(2), [1.0, 0.0], "sign", 1, 0.0, 5), r"eta=0.0, must be > 0"),
    (lambda: T.ideal_world_loss(np.eye(2), [1.0, 0.0], "sign", 1, -1.0, 5), r"eta=-1.0, must be > 0"),
    (lambda: T.ideal_world_loss(np.eye(2), [1.0, 0.0], "sign", 1, 2.0, 5), r"eta=2.0, must be < eta_max\(V, B=1\) = 0.5 "),
    (lambda: T.ideal_world_loss(np.eye(2), [0.0, 0.0], "sign", 1, 0.1, 5), r"\|\|beta_star\|\|_V\^2=0.0, must be > 0"),
    (lambda: T.real_world_gd_limit(0, 5), r"n=0, must be >= 1"),
    (lambda: T.sign_ols_excess_risk(5, 5), r"n=5, must be >= 6"),
    (lambda: T.sign_ols_excess_risk(5, 0), r"d=0, must be >= 1"),
    (lambda: S.ols_excess_risks(np.diag([1.0, 0.0]), [1.0, 0.0], "sign", 5, 2, np.random.default_rng()), r"must be positive definite"),
    (lambda: S.ols_excess_risks(np.eye(2), [1.0, 0.0], "sign", 2, 2, np.random.default_rng()), r"n=2, must be >= 3"),
    (lambda: S.real_world_sgd_losses(np.eye(2), [1.0, 0.0], "sign", 0, 1, 0.1, 5, [5], 2, np.random.default_rng()), r"n=0, must be >= 1"),
    (lambda: S.real_world_sgd_losses(np.eye(2), [1.0, 0.0], "sign", 4, 8, 0.1, 5, [5], 2, np.random.default_rng()), r"batch=8, must be <= n=4"),
    (lambda: S.ideal_world_sgd_losses(np.eye(2), [1.0, 0.0], "tanh", 1, 0.1, 5, [5], 2, np.random.default_rng()), r"link='tanh'"),
    (lambda: S.ideal_world_sgd_losses(np.eye(2), [1.0, 0.0], "sign", 1, 0.1, 5, [6], 2, np.random.default_rng()), r"log_steps has an entry 6, must have every entry >= 0 and <= 5"),
])
def test_bad_parameters_raise_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()
