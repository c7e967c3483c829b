"""Properties of the closed forms in :mod:`theory.distributional` (feature calibration, DG, DP => DG).

Exact identities are compared at floating-point tolerances; independent derivations
(brute-force enumeration, adaptive quadrature, limiting cases) check the formulas.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import integrate

from claimcheck.theory import distributional as T

probs = st.floats(0.0, 1.0)
rate_vectors = st.lists(probs, min_size=2, max_size=12)


def _random_stochastic(k, seed):
    m = np.random.default_rng(seed).random((k, k))
    return m / m.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- feature calibration
def test_seed_table_is_zero_to_nine_percent():
    assert T.SEED_RATES == (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09)
    np.testing.assert_allclose(T.linear_rates(0.09), T.SEED_RATES, atol=1e-15)


@given(rate_vectors)
def test_separated_clusters_reproduce_the_training_rates(p):
    np.testing.assert_allclose(T.nn_feature_calibration(p, np.eye(len(p))), p, atol=0)


@given(rate_vectors, st.integers(0, 10**6))
def test_rates_are_convex_combinations_of_training_rates(p, seed):
    q = T.nn_feature_calibration(p, _random_stochastic(len(p), seed))
    assert np.all(q >= min(p) - 1e-12) and np.all(q <= max(p) + 1e-12)


@settings(max_examples=15)
@given(st.integers(1, 60), st.integers(2, 5), st.integers(0, 1000))
def test_interval_mixture_rows_are_distributions(n, k, seed):
    rng = np.random.default_rng(seed)
    lefts = rng.uniform(0, 3, k)
    widths = rng.uniform(0.2, 2, k)
    w = rng.dirichlet(np.ones(k))
    m = T.interval_mixture_nn_class_probs(n, lefts, widths, w)
    assert np.all(m >= -1e-12)
    np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-10)


@settings(max_examples=15)
@given(st.integers(1, 200), st.integers(2, 10))
@example(n=1, k=2)
@example(n=10_000, k=10)  # the largest supported n
def test_well_separated_diagonal_is_one_minus_absence_probability(n, k):
    m = T.interval_mixture_nn_class_probs(n, *T.line_clusters(k, spacing=2.0))
    np.testing.assert_allclose(np.diag(m), T.separated_nn_class_probs(n, np.full(k, 1 / k)), rtol=1e-10, atol=1e-13)


@given(st.integers(2, 6), st.integers(0, 1000))
def test_single_training_point_is_of_class_c_with_its_prior(k, seed):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(k))
    m = T.interval_mixture_nn_class_probs(1, rng.uniform(0, 3, k), rng.uniform(0.2, 2, k), w)
    np.testing.assert_allclose(m, np.tile(w, (k, 1)), atol=1e-12)


@settings(max_examples=10)
@given(st.integers(1, 100), st.integers(0, 1000))
def test_identical_clusters_make_the_neighbour_class_independent_of_the_test_class(n, seed):
    w = np.random.default_rng(seed).dirichlet(np.ones(3))
    m = T.interval_mixture_nn_class_probs(n, [1.0, 1.0, 1.0], [2.0, 2.0, 2.0], w)
    np.testing.assert_allclose(m, np.tile(w, (3, 1)), atol=1e-12)


def _gauss_legendre_nn_class_probs(n, lefts, widths, weights):
    """The pointwise law P(NN class j | x) integrated over x by Gauss-Legendre with ceil((n + 1) / 2)
    nodes per piece (exact for the degree-n piecewise polynomial): the independent route to the closed form."""
    lefts, widths, w = (np.asarray(a, dtype=float) for a in (lefts, widths, weights))
    lo, span = lefts.min(), (lefts + widths).max() - lefts.min()
    lefts, widths = (lefts - lo) / span, widths / span
    rights, dens = lefts + widths, w / widths
    ends = np.concatenate([lefts, rights])
    cuts = np.unique(np.concatenate([ends, 0.5 * (ends[:, None] + ends[None, :]).ravel()]))
    nodes, gw = np.polynomial.legendre.leggauss(max(2, (n + 2) // 2))
    out = np.empty((lefts.size, lefts.size))
    for c in range(lefts.size):
        edges = np.concatenate([[lefts[c]], cuts[(cuts > lefts[c]) & (cuts < rights[c])], [rights[c]]])
        half = 0.5 * np.diff(edges)
        xs = (0.5 * (edges[:-1] + edges[1:]))[:, None] + half[:, None] * nodes[None, :]
        probs = T._nn_probs_at(xs.ravel(), n, lefts, rights, dens)
        out[c] = ((half[:, None] * gw[None, :]).ravel()[:, None] * probs).sum(axis=0) / widths[c]
    return out


@settings(max_examples=12, deadline=None)
@given(st.integers(1, 60), st.integers(2, 5), st.integers(0, 1000), st.sampled_from(["random", "line", "touching"]))
@example(n=1, k=2, seed=0, layout="line")
@example(n=200, k=10, seed=0, layout="line")
def test_closed_form_x_integral_equals_gauss_legendre_quadrature(n, k, seed, layout):
    rng = np.random.default_rng(seed)
    if layout == "random":
        lefts, widths, w = rng.uniform(0, 3, k), rng.uniform(0.2, 2, k), rng.dirichlet(np.ones(k))
    else:  # equal clusters overlapping (spacing < 1) or touching end to end (spacing 1: shared interval ends)
        lefts, widths, w = T.line_clusters(k, rng.uniform(0.2, 2.0) if layout == "line" else 1.0)
    # both routes are exact up to rounding (float-rounding tolerance)
    np.testing.assert_allclose(T.interval_mixture_nn_class_probs(n, lefts, widths, w),
                               _gauss_legendre_nn_class_probs(n, lefts, widths, w), rtol=0, atol=1e-12)


def test_mean_power_is_the_segment_average_at_its_corners():
    a = np.array([1.0, 0.0, 0.5, 0.3, 0.3, 1 - 1e-12, 1e-300])
    b = np.array([0.0, 1.0, 0.5, 0.3 + 1e-13, 0.0, 1.0, 0.0])
    for n in (1, 2, 7, 200):
        # int_0^1 ((1 - t) x + t y)^n dt = sum_i x^i y^(n-i) / (n + 1) (Beta integrals of the binomial expansion)
        want = [math.fsum(x**i * y ** (n - i) for i in range(n + 1)) / (n + 1) for x, y in zip(a, b)]
        np.testing.assert_allclose(T._mean_power(a, b, n), want, rtol=1e-12, atol=1e-300)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("n, c", [(1, 0), (4, 1), (17, 2)])
def test_gauss_legendre_matches_adaptive_quadrature(n, c):
    lefts, widths, w = np.array([0.0, 0.4, 1.7]), np.array([1.0, 0.5, 1.2]), np.array([0.5, 0.2, 0.3])
    m = T.interval_mixture_nn_class_probs(n, lefts, widths, w)
    rights, dens = lefts + widths, w / widths
    # Between consecutive kinks |x - e| of F (e a cluster end) the r-integrand below is
    # slope x (1 - F(r))^(n-1) with F linear: a polynomial of degree n - 1, integrated exactly
    # (to rounding) by Gauss-Legendre with n // 2 + 1 nodes per segment. The outer integral
    # over x is adaptive quadrature.
    t, tw = np.polynomial.legendre.leggauss(n // 2 + 1)
    for c in (c,):
        for j in range(3):
            # Independent route: P(NN in j | x) = n int F_j'(r) (1 - F(r))^{n-1} dr, by quadrature.
            def per_x(x, j=j):
                def integrand(r):  # r: array of nodes
                    xr, xl = (x + r)[:, None], (x - r)[:, None]
                    F = (np.clip(np.minimum(xr, rights) - np.maximum(xl, lefts), 0, None) * dens).sum(axis=1)
                    slope = dens[j] * (((lefts[j] < xr[:, 0]) & (xr[:, 0] < rights[j])).astype(int)
                                       + ((lefts[j] < xl[:, 0]) & (xl[:, 0] < rights[j])).astype(int))
                    return n * slope * (1 - F) ** (n - 1)

                ends = sorted({abs(x - e) for e in np.r_[lefts, rights]})
                return sum(0.5 * (b - a) * tw @ integrand(a + 0.5 * (b - a) * (t + 1)) for a, b in zip([0.0] + ends, ends) if b > a)

            val = integrate.quad(per_x, lefts[c], rights[c], limit=100, epsabs=1e-9, points=list(np.r_[lefts, rights]))[0] / widths[c]
            assert abs(val - m[c, j]) < 1e-6, (c, j, val, m[c, j])


def test_bad_inputs_name_parameter_and_range():
    with pytest.raises(ValueError, match=r"p=1.5, must be >= 0 and <= 1"):
        T.nn_feature_calibration([0.1, 1.5], np.eye(2))
    with pytest.raises(ValueError, match="row 0 sums to"):
        T.nn_feature_calibration([0.1, 0.2], [[0.5, 0.4], [0, 1]])
    with pytest.raises(ValueError, match="must be \\(2, 2\\)"):
        T.nn_feature_calibration([0.1, 0.2], np.eye(3))
    with pytest.raises(ValueError, match="n=0, must be >= 1"):
        T.interval_mixture_nn_class_probs(0, [0, 1], [1, 1], [0.5, 0.5])
    with pytest.raises(ValueError, match="weights sum to"):
        T.interval_mixture_nn_class_probs(3, [0, 1], [1, 1], [0.5, 0.6])
    with pytest.raises(ValueError, match="widths=0.0, must be > 0"):
        T.interval_mixture_nn_class_probs(3, [0, 1], [1, 0], [0.5, 0.5])
    with pytest.raises(ValueError, match="p_max=1.2, must be >= 0 and <= 1"):
        T.linear_rates(1.2)
    with pytest.raises(ValueError, match="spacing=0.0, must be > 0"):
        T.line_clusters(3, 0.0)
    with pytest.raises(ValueError, match="constant"):
        T.calibration_slope([0.1, 0.1], [0.0, 0.2])
    with pytest.raises(ValueError, match="group="):
        T.dg_gap_group([0.1, 0.2], [0.1, 0.2], [0.5, 0.5], (2,))


# --------------------------------------------------------------------------- DG gaps and slope
@given(rate_vectors)
def test_perfect_sampler_has_zero_class_gaps_and_loss_gap_two_p_one_minus_p(p):
    p = np.asarray(p)
    w = np.full(p.size, 1 / p.size)
    assert np.all(T.dg_gap_class(p, p) == 0)
    assert T.dg_gap_group(p, p, w, range(p.size)) == 0
    assert math.isclose(T.dg_gap_loss(p, p, w), float(np.mean(2 * p * (1 - p))), abs_tol=1e-15)


@given(st.lists(st.floats(0, 0.49), min_size=2, max_size=12).filter(lambda p: max(p) - min(p) > 1e-3))
def test_bayes_classifier_has_slope_zero_and_sampler_slope_one(p):
    assert T.calibration_slope(p, np.zeros(len(p))) == 0.0
    assert math.isclose(T.calibration_slope(p, p), 1.0, rel_tol=1e-9)
    # the Bayes classifier's loss gap is the Bayes error sum pi_c p_c < the sampler's
    w = np.full(len(p), 1 / len(p))
    assert T.dg_gap_loss(p, np.zeros(len(p)), w) <= T.dg_gap_loss(p, p, w) + 1e-15


def test_group_gap_is_the_weighted_mean_of_class_gaps():
    p, q, w = np.array([0.1, 0.2, 0.3]), np.array([0.15, 0.1, 0.3]), np.array([0.2, 0.3, 0.5])
    expect = (0.2 * 0.05 + 0.3 * -0.1) / 0.5
    assert math.isclose(T.dg_gap_group(p, q, w, (0, 1)), expect, rel_tol=1e-12)


# --------------------------------------------------------------------------- DP => DG
def _brute_force_dp(n, cells, p, eps):
    """Exact (train, test) agreement by enumerating every cell assignment and label vector."""
    r = 1 / (1 + math.exp(-eps / 2))
    train = test = 0.0
    for cell in itertools.product(range(cells), repeat=n):
        for y in itertools.product((0, 1), repeat=n):
            pr = np.prod([p if b else 1 - p for b in y]) / cells**n
            ones = np.zeros(cells)
            tot = np.zeros(cells)
            for c, b in zip(cell, y):
                ones[c] += b
                tot[c] += 1
            maj = (2 * ones > tot).astype(int)
            f1 = np.where(maj == 1, r, 1 - r)  # P(released label = 1) per cell
            train += pr * np.mean([f1[c] if b else 1 - f1[c] for c, b in zip(cell, y)])
            test += pr * np.mean([p * f1[c] + (1 - p) * (1 - f1[c]) for c in range(cells)])
    return train, test


@pytest.mark.parametrize("n, cells, p, eps", [(1, 1, 0.3, 1.0), (3, 2, 0.5, 0.7), (4, 3, 0.2, 2.0), (2, 4, 0.8, 0.1)])
def test_dp_majority_agreement_matches_enumeration(n, cells, p, eps):
    np.testing.assert_allclose(T.dp_majority_agreement(n, cells, p, eps), _brute_force_dp(n, cells, p, eps), atol=1e-12)


@given(st.integers(1, 300), st.integers(1, 3000), st.floats(0, 1), st.floats(0, 5))
def test_dp_bound_holds_in_both_directions_for_the_dp_learner(n, cells, p, eps):
    train, test = T.dp_majority_agreement(n, cells, p, eps)
    assert train <= T.dp_dg_bound(eps, 0.0, test) + 1e-12
    assert test <= T.dp_dg_bound(eps, 0.0, train) + 1e-12


def test_dp_bound_validation():
    assert T.dp_dg_bound(0.0, 0.1, 0.5) == 0.6
    with pytest.raises(ValueError, match="epsilon=-1.0, must be >= 0"):
        T.dp_dg_bound(-1.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="delta=2.0, must be >= 0 and <= 1"):
        T.dp_dg_bound(1.0, 2.0, 0.5)
    with pytest.raises(ValueError, match="cells=0, must be >= 1"):
        T.dp_majority_agreement(5, 0, 0.5, 1.0)


# --------------------------------------------------------------------------- sympy derivation
def test_sympy_segment_integral_of_the_nearest_neighbour_law():
    """n int_{r_k}^{r_k+1} s (1 - F_k - S (r - r_k))^{n-1} dr = (s/S) [(1 - F_k)^n - (1 - F_{k+1})^n]
    (F linear on the segment, F_{k+1} = F_k + S (r_{k+1} - r_k)): the closed form used by
    interval_mixture_nn_class_probs, for symbolic n and for n = 1..6 expanded."""
    import sympy as sp

    r, rk, d, Fk, S, s = sp.symbols("r r_k d F_k S s", positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    lhs = sp.integrate(n * s * (1 - Fk - S * (r - rk)) ** (n - 1), (r, rk, rk + d))
    rhs = s / S * ((1 - Fk) ** n - (1 - Fk - S * d) ** n)
    u = sp.Symbol("u", positive=True)  # u = 1 - F_k - S d
    diff = sp.simplify((lhs - rhs).subs(Fk, 1 - u - S * d))
    assert sp.simplify(sp.powsimp(sp.expand_power_base(diff, force=True), force=True)) == 0
    for k in range(1, 7):
        assert sp.expand(lhs.subs(n, k) - rhs.subs(n, k)) == 0
