"""Properties of the Nagarajan-Kolter closed forms (theory.uniform_convergence), their sympy
derivation, and the two simulators (sims.uniform_convergence).

Monte Carlo comparisons use seeded generators and tolerances of Z standard errors.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from claimcheck.sims import uniform_convergence as S
from claimcheck.theory import uniform_convergence as T
from claimcheck.theory import uniform_convergence_sympy as TS

Z = 5.0  # two-sided ~6e-7 per comparison
POINTS = [(16, 256, 1 / 64, 1.0), (8, 32, 1 / 16, 2.0), (32, 64, 1 / 64, 1.0)]

ns = st.integers(2, 200)
Ds = st.integers(1, 5000)
rhos = st.floats(0.01, 3.0)
noises = st.floats(0.1, 10.0)


def _z(x, pred):
    se = x.std(ddof=1) / math.sqrt(x.size)
    return abs(x.mean() - pred) / max(se, 1e-12)


# ----------------------------------------------------------------------- exact values
def test_test_error_matches_an_independent_quadrature():
    """<Z, z> = s^2 sqrt(n)/D (A - B)/2 with A, B iid chi^2_D: a different 1-D integral."""
    for n, D, signal, noise in POINTS + [(3, 5, 0.2, 1.0)]:
        shift = 2 * n * signal * D / noise / math.sqrt(n)
        lo, hi = stats.chi2.ppf(1e-16, D), stats.chi2.isf(1e-16, D)
        other, _ = integrate.quad(lambda a: stats.chi2.pdf(a, D) * stats.chi2.sf(a + shift, D), lo, hi, points=[D], epsabs=1e-13, limit=200)
        assert T.linear_test_error(n, D, signal, noise) == pytest.approx(other, abs=1e-9)


def test_n_equals_one_has_no_cross_terms():
    assert T.linear_train_error(1, 10, 0.3, 1.0) == 0.0
    assert T.linear_sprime_error(1, 10, 0.3, 1.0) == pytest.approx(stats.chi2.sf(0.3 * 10, 10))


def test_zero_signal_is_a_coin_flip_on_test_points():
    assert T.linear_test_error(5, 50, 0.0, 1.0) == 0.5


@given(ns, Ds, rhos, noises)
def test_errors_are_probabilities_and_train_below_test_below_sprime(n, D, rho, noise):
    signal = rho * noise / n
    tr, te, sp_ = T.linear_train_error(n, D, signal, noise), T.linear_test_error(n, D, signal, noise), T.linear_sprime_error(n, D, signal, noise)
    assert 0 <= tr <= te + 1e-12 <= 1 + 1e-12 and 0 <= sp_ <= 1
    assert tr <= sp_ + 1e-12  # the self term helps on S and hurts on S'


@given(ns, Ds, rhos, noises)
def test_cantelli_bounds_hold(n, D, rho, noise):
    signal = rho * noise / n
    assert T.linear_test_error(n, D, signal, noise) <= T.cantelli_test_error_bound(n, D, signal, noise) + 1e-9
    assert T.linear_sprime_error(n, D, signal, noise) >= T.cantelli_sprime_error_bound(n, D, signal, noise) - 1e-9


def test_test_error_decreases_in_n_and_D_at_fixed_distribution():
    errs_n = [T.linear_test_error(n, 1024, 1 / 256, 1.0) for n in (1, 2, 4, 8, 16, 32, 64, 128)]
    errs_D = [T.linear_test_error(16, D, 1 / 64, 1.0) for D in (4, 16, 64, 256, 1024, 4096)]
    assert np.all(np.diff(errs_n) < 0) and np.all(np.diff(errs_D) < 0)


def test_as_D_grows_test_error_vanishes_and_sprime_error_tends_to_one():
    n, signal, noise = 16, 1 / 64, 1.0  # rho = 1/4 < 1
    Ds = [64, 256, 1024, 4096, 16384]
    te = np.array([T.linear_test_error(n, D, signal, noise) for D in Ds])
    sp_ = np.array([T.linear_sprime_error(n, D, signal, noise) for D in Ds])
    assert np.all(np.diff(te) < 0) and np.all(np.diff(sp_[:3]) > 0) and np.all(np.diff(sp_) >= 0)  # S' saturates at 1.0
    assert te[-1] < 1e-10 and sp_[-1] > 1 - 1e-10
    assert T.sprime_error_limit(n, signal, noise) == 1.0
    # and the lower bound on uniform convergence tends to 1 while the true gap tends to 0
    assert T.uniform_convergence_lower_bound(n, Ds[-1], signal, noise) > 1 - 1e-9
    assert T.generalization_gap(n, Ds[-1], signal, noise) < 1e-9


def test_sprime_error_collapses_once_the_signal_outgrows_the_noise():
    assert T.sprime_error_limit(16, 1 / 8, 1.0) == 0.0 and T.sprime_error_limit(16, 1 / 16, 1.0) == 0.5
    assert T.linear_sprime_error(16, 16384, 1 / 8, 1.0) < 1e-6


def test_weight_norm_grows_and_typical_rademacher_term_is_order_one():
    norms = [T.expected_weight_norm_sq(n, 1 / 256, 1.0) for n in (1, 4, 16, 64)]
    assert np.all(np.diff(norms) > 0)
    assert all(0.9 < T.rademacher_margin_bound(n, 1 / 256, 1.0) <= 1 for n in (1, 4, 16))


# ----------------------------------------------------------------------- sympy
def test_sympy_derivation_confirms_the_moments_and_rejects_a_wrong_variance():
    assert TS.check_margin_moments()
    wrong = lambda n, D, r2, s2: {"test": (n * r2, n * s2**2 / D), "train": (n * r2 + s2, (n + 1) * s2**2 / D),
                                  "sprime": (n * r2 - s2, (n - 1) * s2**2 / D)}
    assert not TS.check_margin_moments(wrong)


def test_sympy_conditional_scale_and_limits():
    assert TS.check_conditional_test_scale() and TS.check_cantelli_limits()


def test_numeric_moments_equal_the_symbolic_ones():
    exprs = TS.margin_moments_expr()
    vals = {TS.n: 7, TS.D: 33, TS.r2: 0.3, TS.s2: 1.7}
    num = T.margin_moments(7, 33, 0.3, 1.7)
    for k, (m, v) in exprs.items():
        assert float(m.subs(vals)) == pytest.approx(num[k][0]) and float(v.subs(vals)) == pytest.approx(num[k][1])


# ----------------------------------------------------------------------- simulators
@pytest.mark.parametrize("n, D, signal, noise", POINTS)
def test_direct_simulator_matches_the_formulas(n, D, signal, noise):
    out = S.direct_error_samples(n, D, signal, noise, 3000, np.random.default_rng(1))
    assert _z(out["test"], T.linear_test_error(n, D, signal, noise)) < Z
    assert _z(out["sprime"], T.linear_sprime_error(n, D, signal, noise)) < Z
    assert _z(out["weight_norm_sq"], T.expected_weight_norm_sq(n, signal, noise)) < Z


def test_counted_test_points_agree_with_the_rao_blackwellised_estimate():
    n, D, signal, noise = 8, 32, 1 / 16, 2.0
    out = S.direct_error_samples(n, D, signal, noise, 2000, np.random.default_rng(2), test_points=16)
    assert _z(out["test"], T.linear_test_error(n, D, signal, noise)) < Z


@pytest.mark.parametrize("n, D, signal, noise", POINTS + [(64, 64, 1 / 256, 1.0)])
def test_fast_bartlett_simulator_matches_the_formulas(n, D, signal, noise):
    out = S.fast_error_samples(n, D, signal, noise, 3000, np.random.default_rng(3))
    for key, f in (("test", T.linear_test_error), ("train", T.linear_train_error), ("sprime", T.linear_sprime_error)):
        pred = f(n, D, signal, noise)
        if out[key].std() > 0:
            assert _z(out[key], pred) < Z, key
        else:
            assert abs(out[key].mean() - pred) < 1e-3, key
    assert _z(out["weight_norm_sq"], T.expected_weight_norm_sq(n, signal, noise)) < Z


KS_ALPHA = 1e-4  # per two-sample comparison; ten comparisons


@pytest.mark.parametrize("n, D, signal, noise", [(8, 32, 1 / 16, 1.0),     # Rademacher term mostly finite
                                                 (16, 16, 1 / 128, 1.0)])  # D = n: training errors ~0.13, 92% inf terms
def test_bartlett_and_explicit_vector_simulators_have_the_same_law(n, D, signal, noise):
    """Every output is a function of the Gram matrix, so the two simulators must agree in law,
    key by key (two-sample Kolmogorov-Smirnov; conservative for the discrete error fractions)."""
    a = S.direct_error_samples(n, D, signal, noise, 4000, np.random.default_rng(10))
    b = S.fast_error_samples(n, D, signal, noise, 4000, np.random.default_rng(20))
    assert sorted(a) == sorted(b)
    for key in a:
        assert stats.ks_2samp(a[key], b[key], method="asymp").pvalue > KS_ALPHA, key
    if n == 8:  # the same comparison has power: a 15% larger signal in the Bartlett run is rejected on the Rademacher term
        c = S.fast_error_samples(n, D, 1.15 * signal, noise, 4000, np.random.default_rng(20))
        assert stats.ks_2samp(a["rademacher"], c["rademacher"], method="asymp").pvalue < KS_ALPHA


@pytest.mark.parametrize("sim", [S.direct_error_samples, S.fast_error_samples])
def test_simulators_at_n_equals_one_and_d_equals_n(sim):
    # n = 1 (no cross terms, an empty Bartlett factor below the diagonal): train error 0, S' error P(chi^2_D > c)
    out = sim(1, 5, 0.3, 1.0, 4000, np.random.default_rng(8))
    assert np.all(out["train"] == 0.0) and _z(out["sprime"], T.linear_sprime_error(1, 5, 0.3, 1.0)) < Z
    assert _z(out["weight_norm_sq"], T.expected_weight_norm_sq(1, 0.3, 1.0)) < Z
    # D = n: the last Bartlett diagonal is chi_1
    n, D, signal, noise = 12, 12, 1 / 48, 1.0
    out = sim(n, D, signal, noise, 4000, np.random.default_rng(9))
    for key, f in (("test", T.linear_test_error), ("train", T.linear_train_error), ("sprime", T.linear_sprime_error)):
        assert _z(out[key], f(n, D, signal, noise)) < Z, key


def test_simulators_are_deterministic_given_the_seed():
    a = S.direct_error_samples(8, 32, 0.05, 1.0, 50, np.random.default_rng(7))
    b = S.direct_error_samples(8, 32, 0.05, 1.0, 50, np.random.default_rng(7))
    c = S.fast_error_samples(8, 32, 0.05, 1.0, 50, np.random.default_rng(7))
    d = S.fast_error_samples(8, 32, 0.05, 1.0, 50, np.random.default_rng(7))
    assert all(np.array_equal(a[k], b[k]) for k in a) and all(np.array_equal(c[k], d[k]) for k in c)


def test_min_margin_rademacher_term_is_vacuous():
    out = S.direct_error_samples(8, 512, 1 / 64, 1.0, 200, np.random.default_rng(4))
    assert np.median(out["rademacher"]) > 1


# ----------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, message", [
    (lambda: T.linear_test_error(0, 10, 0.1, 1.0), "n=0, must be >= 1"),
    (lambda: T.linear_sprime_error(4, 0, 0.1, 1.0), "D=0, must be >= 1"),
    (lambda: T.linear_train_error(4, 10, -0.1, 1.0), "signal=-0.1, must be >= 0"),
    (lambda: T.linear_test_error(4, 10, 0.1, 0.0), "noise=0.0, must be > 0"),
    (lambda: T.expected_weight_norm_sq(4, 0.1, 1.0, eta=0.0), "eta=0.0, must be > 0"),
    (lambda: S.direct_error_samples(4, 10, 0.1, 1.0, 0, np.random.default_rng(0)), "reps=0, must be >= 1"),
    (lambda: S.direct_error_samples(4, 10, 0.1, 1.0, 5, np.random.default_rng(0), K=0), "K=0, must be >= 1"),
    (lambda: S.direct_error_samples(4, 10, 0.1, 1.0, 5, np.random.default_rng(0), test_points=0), "test_points=0, must be >= 1"),
    (lambda: S.fast_error_samples(8, 4, 0.1, 1.0, 5, np.random.default_rng(0)), "D=4, must be >= n=8"),
])
def test_bad_input_raises_value_error_naming_the_parameter(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", ["everywhere", "in the upper tail only"])
def test_chi2_expectation_refuses_a_non_finite_g_at_its_first_value_without_a_quadrature_warning(bad, where):
    g = (lambda q: bad) if where == "everywhere" else (lambda q: bad if q > 6.0 else 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no IntegrationWarning from integrating the NaN first
        with pytest.raises(ValueError, match=r"g gave g\(.*\) = (nan|inf|-inf), must return finite values"):
            T.chi2_expectation(g, 3)
