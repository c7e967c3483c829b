"""Properties of the PAC-Bayes closed forms (theory.pac_bayes), their sympy derivations
(theory.pac_bayes_sympy) and the coverage simulators (sims.pac_bayes).

Exact identities are compared at floating-point tolerances (stated per test); Monte Carlo
comparisons use seeded generators and z-tests at alpha = 1e-6 (|z| <= 4.9).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st
from scipy import stats

from claimcheck.sims import pac_bayes as S
from claimcheck.theory import pac_bayes as T
from claimcheck.theory import pac_bayes_sympy as P

Z = 4.9  # two-sided alpha ~ 1e-6

# Domains (one place): the strategies below are built from these constants.
N_MAX = 10**7
KL_MAX = 1e5
K_MAX = 1e12
risks = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))
kls = st.one_of(st.just(0.0), st.floats(0.0, KL_MAX))
ns = st.integers(1, N_MAX)
deltas = st.one_of(st.just(1e-12), st.floats(1e-9, 0.999))
ks = st.one_of(st.just(1.0), st.floats(1.0, K_MAX))
cs = st.one_of(st.just(0.0), st.floats(0.0, 1e3), st.just(math.inf))


# --------------------------------------------------------------------------- bad input
GOOD = {"emp_risk": 0.1, "kl": 5.0, "n": 1000, "delta": 0.05, "k": 1}
BAD = [
    ("delta", 0.0, r"delta=0.0, must be > 0 and < 1"),
    ("delta", 1.0, r"delta=1.0, must be > 0 and < 1"),
    ("delta", -0.5, r"delta=-0.5, must be > 0 and < 1"),
    ("n", 0, r"n=0, must be >= 1"),
    ("emp_risk", -0.1, r"emp_risk=-0.1, must be >= 0 and <= 1"),
    ("emp_risk", 1.5, r"emp_risk=1.5, must be >= 0 and <= 1"),
    ("kl", -1.0, r"kl=-1.0, must be >= 0"),
    ("k", 0.5, r"k=0.5, must be >= 1"),
    ("k", 0, r"k=0.0, must be >= 1"),
]


@pytest.mark.parametrize("fn", [T.mcallester_bound, T.maurer_bound, T.catoni_bound], ids=lambda f: f.__name__)
@pytest.mark.parametrize("name,value,message", BAD, ids=[f"{b[0]}={b[1]}" for b in BAD])
def test_bad_input_names_parameter_value_and_range(fn, name, value, message):
    with pytest.raises(ValueError, match=message):
        fn(**{**GOOD, name: value})


def test_other_functions_validate_their_arguments():
    with pytest.raises(ValueError, match=r"q=1.5, must be >= 0 and <= 1"):
        T.kl_inverse_upper(1.5, 0.1)
    with pytest.raises(ValueError, match=r"c=-0.1, must be >= 0"):
        T.kl_inverse_upper(0.5, -0.1)
    with pytest.raises(ValueError, match=r"c=nan"):
        T.kl_inverse_upper(0.5, float("nan"))
    with pytest.raises(ValueError, match=r"code_length_bits=-1.0, must be >= 0"):
        T.occam_bound(0.1, -1.0, 100, 0.05)
    with pytest.raises(ValueError, match=r"bound='pinsker', must be one of 'mcallester', 'maurer', 'catoni'"):
        T.tuned_bound(0.1, 1.0, 100, 0.05, 20, bound="pinsker")
    with pytest.raises(ValueError, match=r"emp_risk=None, must be in \[0, 1\]"):
        T.tuning_cost(1.0, 100, 0.05, 20, bound="maurer")
    with pytest.raises(ValueError, match=r"C=0.0, must be > 0"):
        T.catoni_bound(0.1, 1.0, 100, 0.05, C=0.0)
    with pytest.raises(ValueError, match=r"risk_gain=-0.1, must be >= 0"):
        T.break_even_k(-0.1, 1.0, 100, 0.05)
    with pytest.raises(ValueError, match=r"num_levels=0, must be >= 1"):
        T.quantize_uniform([1.0, 2.0], 0)
    with pytest.raises(ValueError, match=r"symbols has an entry 3, must have every entry >= 0 and <= 1"):
        T.code_length_bits([0, 3], num_levels=2)


# --------------------------------------------------------------------------- kl and its inverse
@given(risks, cs)
@example(0.0, 0.0).via("c = 0")
@example(0.0, 1e-300).via("tiny c at q = 0")
@example(1.0, 5.0).via("q = 1")
@example(0.3, math.inf).via("c = inf")
@example(0.5, 1e3).via("huge c")
@example(1e-300, 1e-3).via("subnormal-ish q")
def test_kl_inverse_is_the_supremum_within_its_tolerance(q, c):
    p = T.kl_inverse_upper(q, c)
    assert q <= p <= 1.0
    # never below the supremum: p is infeasible (kl > c) unless p is q (c = 0) or 1
    assert p == 1.0 or p == q or T.kl_bernoulli(q, p) > c
    # and within KL_INVERSE_TOL of it: p - tol is feasible
    assert T.kl_bernoulli(q, max(q, p - T.KL_INVERSE_TOL)) <= c


@given(st.floats(0.0, 50.0))
def test_kl_inverse_at_zero_empirical_risk_is_one_minus_exp_minus_c(c):
    # kl(0 || p) = -ln(1 - p), so kl^{-1}(0, c) = 1 - e^{-c}
    assert T.kl_inverse_upper(0.0, c) == pytest.approx(-math.expm1(-c), abs=2 * T.KL_INVERSE_TOL)


def test_kl_inverse_edge_values_and_vectorisation():
    q = np.array([0.0, 1.0, 0.2, 0.2, 0.7, 0.0])
    c = np.array([0.0, 0.0, 0.0, math.inf, 1e6, 1e-300])
    out = T.kl_inverse_upper(q, c)
    np.testing.assert_array_equal(out[:5], [0.0, 1.0, 0.2, 1.0, 1.0])
    assert 0 <= out[5] <= T.KL_INVERSE_TOL
    rng = np.random.default_rng(0)
    qq, cc = rng.uniform(0, 1, 50), rng.exponential(0.1, 50)
    np.testing.assert_array_equal(T.kl_inverse_upper(qq, cc), [T.kl_inverse_upper(a, b) for a, b in zip(qq, cc)])
    # the bisection runs on the interior elements only (0 < q < 1, 0 < c < inf): mixing in every edge
    # case changes no element's value, whatever the mixture (scalar calls, one array, 2-d broadcasting)
    qe = np.concatenate([qq[:10], [0.0, 1.0, 5e-324, 1e-300, 1 - 2**-53, 0.5, 0.5, 0.0, 1.0]])
    ce = np.concatenate([cc[:10], [0.3, 0.3, 0.3, 1e-300, 2.0, 0.0, math.inf, 0.0, math.inf]])
    mixed = T.kl_inverse_upper(qe, ce)
    assert mixed.tobytes() == np.array([T.kl_inverse_upper(a, b) for a, b in zip(qe, ce)]).tobytes()
    qb, cb = np.broadcast_arrays(qe[:, None], ce[None, :])
    assert T.kl_inverse_upper(qe[:, None], ce[None, :]).tobytes() == T.kl_inverse_upper(qb.ravel(), cb.ravel()).tobytes()


def test_kl_bernoulli_conventions():
    assert T.kl_bernoulli(0.0, 0.0) == 0.0 and T.kl_bernoulli(1.0, 1.0) == 0.0
    assert T.kl_bernoulli(0.5, 0.0) == math.inf and T.kl_bernoulli(0.5, 1.0) == math.inf
    assert T.kl_bernoulli(0.0, 0.5) == pytest.approx(math.log(2), rel=1e-15)
    assert T.kl_bernoulli(1e-3, 1e-3) == 0.0


# --------------------------------------------------------------------------- bounds
@given(risks, kls, ns, deltas, ks)
@example(0.0, 0.0, 1, 0.999, 1.0)
@example(1.0, 0.0, 1, 0.5, 1.0)
@example(0.5, 0.0, 10**7, 0.999, 1.0).via("smallest complexity")
@example(0.0, KL_MAX, 10**7, 1e-12, K_MAX)
def test_kl_bound_is_never_looser_than_mcallester(q, kl, n, delta, k):
    maurer = T.maurer_bound(q, kl, n, delta, k)
    assert q <= maurer <= 1.0
    assert maurer <= T.mcallester_bound(q, kl, n, delta, k) + T.KL_INVERSE_TOL


@given(risks, kls, ns, deltas, ks)
def test_every_bound_grows_with_k_and_with_kl(q, kl, n, delta, k):
    for fn in (T.mcallester_bound, T.maurer_bound, T.catoni_bound):
        b1 = fn(q, kl, n, delta, 1)
        assert fn(q, kl, n, delta, k) >= b1 - 1e-15
        assert fn(q, kl + 1.0, n, delta, k) >= fn(q, kl, n, delta, k) - 1e-15
        assert b1 >= q - 1e-15


def test_union_bound_identity_charging_log_k_is_delta_over_k():
    for fn in (T.mcallester_bound, T.maurer_bound, T.catoni_bound):
        a = fn(0.07, 12.0, 5000, 0.05, 37)
        b = fn(0.07, 12.0, 5000, 0.05 / 37, 1)
        assert a == pytest.approx(b, rel=1e-13, abs=1e-13)


def test_maurer_xi_lies_between_sqrt_n_and_2_sqrt_n_for_every_n():
    # [Mau04] proves xi(n) <= 2 sqrt(n) for n >= 8; the bound is used for every n >= 1, so check n < 8 too.
    xi = np.array([T.maurer_xi(n) for n in range(1, 2001)])
    root = np.sqrt(np.arange(1, 2001))
    assert np.all(xi <= 2 * root) and np.all(xi >= root)


def test_maurer_xi_is_the_expected_exponential_kl_at_p_half():
    n = 25
    s = np.arange(n + 1)
    expected = np.sum(stats.binom.pmf(s, n, 0.5) * np.exp(n * T.kl_bernoulli(s / n, 0.5)))
    # the worst case over p is attained at every p (xi does not depend on p): compare with p = 1/2
    assert T.maurer_xi(n) == pytest.approx(expected, rel=1e-10)


def test_catoni_bound_matches_its_formula_and_saturates_at_1_over_1_minus_exp_minus_C():
    q, kl, n, d = 0.1, 30.0, 2000, 0.01
    C = 2.0
    expected = (1 - math.exp(-C * q - (kl + math.log(1 / d)) / n)) / (1 - math.exp(-C))
    assert T.catoni_bound(q, kl, n, d, C=C) == pytest.approx(expected, rel=1e-14)
    assert T.catoni_bound(1.0, 1e4, 10, 0.01, C=C) <= 1.0 / (1.0 - math.exp(-C))


def test_occam_bound_is_the_pac_bayes_bound_with_kl_equal_bits_times_ln2():
    for name, fn in T.BOUNDS.items():
        assert T.occam_bound(0.02, 5000.0, 60000, 0.05, 3, bound=name) == fn(0.02, 5000 * math.log(2), 60000, 0.05, 3)


# --------------------------------------------------------------------------- tuning cost
@given(kls, st.integers(1, N_MAX), deltas, ks)
def test_mcallester_tuning_cost_is_the_bound_difference_and_below_its_envelope(kl, n, delta, k):
    cost = T.tuning_cost(kl, n, delta, k)
    diff = T.mcallester_bound(0.0, kl, n, delta, k) - T.mcallester_bound(0.0, kl, n, delta, 1)
    assert cost == pytest.approx(diff, abs=1e-12 * (1 + T.mcallester_bound(0.0, kl, n, delta, k)))
    assert 0.0 <= cost <= T.tuning_cost_upper(n, k) * (1 + 1e-12)


def test_tuning_cost_is_increasing_and_concave_in_log_k():
    log_k = np.linspace(0, 40, 201)
    for bound in ("mcallester", "maurer", "catoni"):
        c = np.asarray(T.tuning_cost(10.0, 1000, 0.05, np.exp(log_k), bound=bound, emp_risk=0.1))
        assert c[0] == 0.0 and np.all(np.diff(c) > 0)
        assert np.all(np.diff(c, 2) <= 1e-12), bound


def test_kl_bound_tuning_cost_is_below_sqrt_log_k_over_2n():
    # concavity of kl^{-1} in c, then Pinsker: cost <= kl^{-1}(q, ln k / n) - q <= sqrt(ln k / (2n))
    for q in (0.0, 0.05, 0.3, 0.5, 0.9):
        for k in (2, 20, 1e6):
            cost = T.tuning_cost(10.0, 500, 0.05, k, bound="maurer", emp_risk=q)
            assert cost <= T.kl_inverse_upper(q, math.log(k) / 500) - q + 1e-12
            assert cost <= math.sqrt(math.log(k) / 1000) + 1e-12


def test_break_even_k_is_where_the_cost_equals_the_gain():
    for g in (1e-3, 0.01, 0.05):
        k_star = T.break_even_k(g, 10.0, 10000, 0.05)
        assert T.tuning_cost(10.0, 10000, 0.05, k_star) == pytest.approx(g, rel=1e-9)
    k_star = T.break_even_k(0.01, 10.0, 1000, 0.05, bound="maurer", emp_risk=0.05)
    assert T.maurer_bound(0.05, 10.0, 1000, 0.05, k_star) == pytest.approx(T.maurer_bound(0.06, 10.0, 1000, 0.05), abs=1e-9)
    assert T.break_even_k(0.5, 0.0, 10**6, 0.5) == math.inf  # ln k* beyond the float range: documented inf


def test_tuned_bound_reports_charged_uncharged_and_cost():
    r = T.tuned_bound(emp_risk=0.05, kl=10.0, n=10000, delta=0.05, k=20, bound="mcallester")
    assert r.bound == T.mcallester_bound(0.05, 10.0, 10000, 0.05, 20)
    assert r.uncharged == T.mcallester_bound(0.05, 10.0, 10000, 0.05)
    assert r.cost == pytest.approx(T.tuning_cost(10.0, 10000, 0.05, 20), rel=1e-9)
    assert "k=20" in repr(r) and "mcallester" in repr(r)
    assert T.tuned_bound(0.05, 10.0, 10000, 0.05, 20, bound="catoni", C=0.5).bound > T.tuned_bound(0.05, 10.0, 10000, 0.05, 1, bound="catoni", C=0.5).bound


# --------------------------------------------------------------------------- code length
def test_code_length_is_a_prefix_code_length_close_to_the_empirical_entropy():
    rng = np.random.default_rng(1)
    w = rng.standard_normal(5000)
    sym, cb = T.quantize_uniform(w, 16)
    assert np.max(np.abs(cb[sym] - w)) <= (cb[1] - cb[0]) / 2 + 1e-12
    counts = np.bincount(sym, minlength=16)
    p = counts[counts > 0] / sym.size
    entropy_bits = -sym.size * np.sum(p * np.log2(p))
    bits = T.code_length_bits(sym, 16)
    side = 16 * math.ceil(math.log2(5001)) + 16 * 32 + T.elias_gamma_bits(16)
    assert entropy_bits + side + 2 <= bits <= entropy_bits + side + 3
    assert bits < sym.size * 4 + side  # beats the fixed-length code of log2(16) = 4 bits/symbol


def test_quantize_constant_vector_and_single_level():
    sym, cb = T.quantize_uniform([2.0, 2.0, 2.0], 4)
    assert np.all(cb[sym] == 2.0)
    sym, cb = T.quantize_uniform([1.0, 3.0], 1)
    assert sym.tolist() == [0, 0] and cb.tolist() == [1.0]


# --------------------------------------------------------------------------- sympy derivations
def test_sympy_union_bound_costs_log_k_and_rejects_forgetting_it():
    assert P.check_union_bound_log_k()
    assert not P.check_union_bound_log_k(sp.log(P.n / P.delta))


def test_sympy_cost_is_increasing_concave_and_zero_at_k_1():
    assert P.check_cost_monotone_concave()
    assert not P.check_cost_monotone_concave(P.L / (2 * P.n - 1))  # linear in ln k: not strictly concave


def test_sympy_cost_envelope_sqrt_log_k_over_2n_minus_1_and_rejects_denominator_n():
    assert P.check_cost_envelope()
    assert not P.check_cost_envelope(P.mcallester_cost_expr(P.n))
    assert not P.check_cost_envelope(P.mcallester_cost_expr(2 * P.n - 2))


def test_sympy_break_even_and_its_mutant():
    assert P.check_break_even()
    assert not P.check_break_even(P.n * (P.g + sp.sqrt(P.B / P.n)) ** 2 - P.B)
    # the numeric break-even agrees with the symbolic one
    b0 = 10.0 + math.log(10000 / 0.05) + 2
    f = sp.lambdify((P.g, P.B, P.n), P.break_even_log_k_expr())
    assert math.log(T.break_even_k(0.01, 10.0, 10000, 0.05)) == pytest.approx(f(0.01, b0, 10000), rel=1e-12)


def test_sympy_kl_bound_complexity_is_below_mcallester_and_rejects_a_wrong_constant():
    assert P.check_maurer_numerator_below_mcallester()
    A, s, e = P.KL_LOGK, P.LOG_N, P.LOG_INV_DELTA
    assert not P.check_maurer_numerator_below_mcallester((A + 2 * s + e) / P.n)  # ln(n^2/delta): too large


def test_sympy_kl_is_convex_with_the_stated_derivatives():
    assert P.check_kl_convex_increasing()


# --------------------------------------------------------------------------- simulators
def test_min_of_k_binomials_by_inversion_matches_brute_force():
    rng = np.random.default_rng(3)
    a = S.min_binomial(40, 0.5, 9, 40000, rng)
    b = S.min_binomial(40, 0.5, 9, 40000, rng, method="brute")
    se = math.sqrt(a.var() / a.size + b.var() / b.size)
    assert abs(a.mean() - b.mean()) <= Z * se
    for s in (12, 15, 17):  # P(min <= s) agrees with the exact 1 - P(S > s)^9
        exact = 1 - stats.binom.sf(s, 40, 0.5) ** 9
        for x in (a, b):
            p = np.mean(x <= s)
            assert abs(p - exact) <= Z * math.sqrt(exact * (1 - exact) / x.size)


def test_simulated_tuning_coverage_matches_the_exact_coverage():
    rng = np.random.default_rng(4)
    for k, fn, charge in ((1000, T.maurer_bound, 1), (10**5, T.mcallester_bound, 1), (10**4, T.maurer_bound, None)):
        holds = S.tuning_coverage_draws(100, k, 0.05, fn, 20000, rng, charge_k=charge)
        exact = S.tuning_coverage_exact(100, k, 0.05, fn, charge)
        assert abs(holds.mean() - exact) <= Z * math.sqrt(max(exact * (1 - exact), 1e-4) / holds.size)


def test_threshold_simulator_unbiased_risk_and_kl_identities():
    rng = np.random.default_rng(5)
    # beta = 0: Q = P (uniform), so E_S[E_Q R_hat] = E_Q R = mean of the true risks, KL = 0
    d = S.threshold_gibbs_draws(50, 10, 0.2, 0.0, 20000, rng)
    risks = S.threshold_true_risks(10, 0.2, 5)
    assert np.allclose(d.true_risk, risks.mean()) and np.allclose(d.kl, 0.0, atol=1e-12)
    assert abs(d.emp_risk.mean() - risks.mean()) <= Z * d.emp_risk.std() / math.sqrt(d.emp_risk.size)
    # beta = inf: the ERM point mass, KL = ln(m + 1) whenever the minimiser is unique
    d = S.threshold_gibbs_draws(500, 10, 0.0, math.inf, 200, rng)
    assert np.allclose(d.kl, math.log(11)) and np.allclose(d.true_risk, 0.0) and np.allclose(d.emp_risk, 0.0)


def test_simulators_are_reproducible():
    a = S.threshold_gibbs_draws(100, 20, 0.2, 1.0, 50, np.random.default_rng(9))
    b = S.threshold_gibbs_draws(100, 20, 0.2, 1.0, 50, np.random.default_rng(9))
    np.testing.assert_array_equal(a.emp_risk, b.emp_risk)
    np.testing.assert_array_equal(S.min_binomial(30, 0.5, 100, 20, np.random.default_rng(2)),
                                  S.min_binomial(30, 0.5, 100, 20, np.random.default_rng(2)))


# --------------------------------------------------------------------------- Occam codes and Gaussian posteriors
def test_elias_gamma_code_satisfies_kraft_and_groups_have_length_2g_plus_1():
    for g in range(12):
        assert {T.elias_gamma_bits(j) for j in range(2**g, 2 ** (g + 1))} == {2 * g + 1}
    assert sum(2**g * 2.0 ** -(2 * g + 1) for g in range(60)) <= 1.0  # = 1 - 2^-60


@pytest.mark.parametrize("d", [1, 2, 3, 5])
@pytest.mark.parametrize("levels", [1, 2, 3, 4])
def test_quantized_weight_code_is_prefix_free_given_its_level_count(d, levels):
    # Kraft over every symbol sequence with the codebook bits removed (they are a fixed-length
    # 32-bit field per level): sum 2^-(L - gamma(K)) <= 1 for each K, and gamma itself is Kraft.
    import itertools

    total = sum(2.0 ** -(T.code_length_bits(np.array(seq), levels, codebook_bits_per_level=0) - T.elias_gamma_bits(levels))
                for seq in itertools.product(range(levels), repeat=d))
    assert total <= 1.0


def test_vectorised_code_lengths_equal_code_length_bits_row_by_row():
    rng = np.random.default_rng(6)
    for levels in (1, 2, 5, 8):
        sym = rng.integers(0, levels, size=(50, 7))
        sym[0] = 0
        np.testing.assert_array_equal(S.quantized_code_lengths(sym, levels), [T.code_length_bits(r, levels) for r in sym])
        np.testing.assert_array_equal(S.quantized_code_lengths(sym, levels, 0), [T.code_length_bits(r, levels, 0) for r in sym])


def test_gaussian_kl_closed_form_sympy_and_monte_carlo():
    assert P.check_gaussian_kl()
    assert not P.check_gaussian_kl(lambda w2, d, s, s0: sp.Rational(1, 2) * (w2 / s0**2 + d * (s**2 / s0**2 - 1) - sp.log(s**2 / s0**2)))
    assert T.gaussian_kl(0.0, 4, 0.7, 0.7) == 0.0
    rng = np.random.default_rng(7)
    w, s, s0 = np.array([0.5, -1.0, 2.0]), 0.6, 1.5
    v = w + s * rng.standard_normal((200000, 3))
    log_ratio = (-0.5 * np.sum((v - w) ** 2, 1) / s**2 - 3 * math.log(s)) - (-0.5 * np.sum(v**2, 1) / s0**2 - 3 * math.log(s0))
    kl = T.gaussian_kl(float(w @ w), 3, s, s0)
    assert abs(log_ratio.mean() - kl) <= Z * log_ratio.std() / math.sqrt(v.shape[0])
    with pytest.raises(ValueError, match=r"sigma=0.0, must be > 0"):
        T.gaussian_kl(1.0, 2, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"d=0, must be >= 1"):
        T.gaussian_kl(1.0, 0, 1.0, 1.0)


@pytest.mark.parametrize("w, mu, sigma", [([1.0, 0.5], [1.5, -0.3], 0.7), ([0.01, 0.02], [1.0, 1.0], 1.0), ([5.0, 1.0], [0.5, 2.0], 2.0)])
def test_gibbs_risk_of_linear_classifiers_matches_monte_carlo(w, mu, sigma):
    rng = np.random.default_rng(8)
    v = np.asarray(w) + sigma * rng.standard_normal((400000, 2))
    r = stats.norm.cdf(-(v @ np.asarray(mu)) / np.linalg.norm(v, axis=1))
    exact = T.gibbs_risk_linear(w, mu, sigma)
    assert abs(r.mean() - exact) <= Z * r.std() / math.sqrt(r.size)


def test_gibbs_risk_limits_and_validation():
    # sigma -> 0: the deterministic risk Phi(-<w, mu>/||w||) (even with a sharply peaked angle density)
    w, mu = np.array([3.0, -1.0]), np.array([0.4, 1.1])
    assert T.gibbs_risk_linear(w, mu, 1e-4) == pytest.approx(stats.norm.cdf(-(w @ mu) / np.linalg.norm(w)), abs=1e-6)
    assert np.all(T.gibbs_risk_linear(np.ones((4, 6)), np.zeros(6), 0.3) == 0.5)  # pure noise, any d
    with pytest.raises(ValueError, match=r"exact only for d = 2 or mu = 0"):
        T.gibbs_risk_linear(np.ones(3), np.ones(3), 1.0)
    with pytest.raises(ValueError, match=r"w has dimension 3, must equal the dimension of mu = 2"):
        T.gibbs_risk_linear(np.ones(3), np.ones(2), 1.0)
    with pytest.raises(ValueError, match=r"d=3, must be 2 when snr=1.0 > 0"):
        S.gaussian_posterior_draws(50, 3, 1.0, 1.0, 1.0, 1.0, 10, np.random.default_rng(0))


def test_simulated_occam_coverage_matches_the_exact_coverage():
    rng = np.random.default_rng(10)
    for groups, fn, charge in ((12, T.maurer_bound, 1.0), (20, T.mcallester_bound, 0.0), (30, T.catoni_bound, 0.25), (14, T.maurer_bound, 0.0)):
        holds = S.occam_index_draws(100, groups, 0.05, fn, 20000, rng, charge=charge)
        exact = S.occam_index_exact(100, groups, 0.05, fn, charge=charge)
        assert abs(holds.mean() - exact) <= Z * math.sqrt(max(exact * (1 - exact), 1e-4) / holds.size)


def test_gaussian_posterior_simulator_risks_kl_and_emp_risk():
    rng = np.random.default_rng(11)
    d = S.gaussian_posterior_draws(40, 10, 0.0, 2.0, 0.5, 1.0, 300, rng)
    assert np.all(d.true_risk == 0.5) and np.allclose(d.kl, T.gaussian_kl(4.0, 10, 0.5, 1.0))
    # the per-point Gibbs empirical risk equals a Monte Carlo average over v ~ Q for a fixed sample
    z = np.array([[1.0, 0.2], [-0.3, 0.8], [0.5, -1.5]])
    w, s = np.array([1.2, 0.4]), 0.8
    v = w + s * rng.standard_normal((400000, 2))
    mc = (z @ v.T < 0).mean(axis=1)
    exact = stats.norm.cdf(-(z @ w) / (s * np.linalg.norm(z, axis=1)))
    assert np.all(np.abs(mc - exact) <= Z * np.sqrt(exact * (1 - exact) / v.shape[0]))
    a = S.gaussian_posterior_draws(50, 2, 1.0, 1.0, 1.0, 2.0, 20, np.random.default_rng(3))
    b = S.gaussian_posterior_draws(50, 2, 1.0, 1.0, 1.0, 2.0, 20, np.random.default_rng(3))
    np.testing.assert_array_equal(a.emp_risk, b.emp_risk)
    np.testing.assert_array_equal(S.occam_quantized_draws(50, 3, 1.0, 4, 0.05, T.maurer_bound, 30, np.random.default_rng(4)),
                                  S.occam_quantized_draws(50, 3, 1.0, 4, 0.05, T.maurer_bound, 30, np.random.default_rng(4)))


@pytest.mark.parametrize("n, groups, charge", [(1, 1, 1.0), (100, 40, 1.0), (100, 30, 0.25), (37, 12, 0.0)])
def test_occam_bound_table_broadcast_equals_row_by_row_bit_for_bit(n, groups, charge):
    # the library's own bounds are evaluated on the (groups, n + 1) grid in one call; a wrapped
    # function takes the row-by-row route: both must give the same floats
    for fn in T.BOUNDS.values():
        fast = S._occam_group_bounds(n, groups, 0.05, fn, charge)
        rows = S._occam_group_bounds(n, groups, 0.05, lambda *a, fn=fn: fn(*a), charge)
        assert fast.shape == rows.shape == (groups, n + 1)
        assert fast.tobytes() == rows.tobytes(), fn.__name__


def _log1pmx_all_terms(x):
    """Reference: the series of theory._numerics.log1pmx with all 19 terms, no early stop."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 0.5
    xs = np.where(small, x, 0.0)
    u = xs / (2.0 + xs)
    u2 = u * u
    series = np.zeros_like(u)
    term = u * u2
    for j in range(3, 40, 2):
        series = series + term / j
        term = term * u2
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.log1p(np.where(small, 0.0, x)) - np.where(small, 0.0, x)
    return np.where(small, -xs * xs / (2.0 + xs) + 2.0 * series, direct)


def test_log1pmx_early_stop_and_fast_kl_are_bit_identical_to_the_full_computation():
    # log1pmx stops its series once the remaining terms cannot change a bit, and the bisection
    # of kl_inverse_upper uses a q-fixed kl: both must give exactly the floats of the full forms
    from claimcheck.theory._numerics import log1pmx

    rng = np.random.default_rng(12)
    tiny = 10.0 ** rng.uniform(-320, 0, 3000) * rng.choice([-1, 1], 3000)
    x = np.concatenate([rng.uniform(-0.5, 0.5, 3000), rng.uniform(-0.99, 3, 1000), tiny,
                        [0.0, -0.0, 0.49999999, -0.49999999, 0.5, -0.5, 1e-300, 5e-324, -5e-324]])
    assert log1pmx(x).tobytes() == _log1pmx_all_terms(x).tobytes()
    for v in x[::50]:  # one element at a time: the stopping point depends on the array's max |u|
        assert log1pmx(v).tobytes() == _log1pmx_all_terms(v).tobytes()
    q = np.concatenate([rng.uniform(0, 1, 500), [1.0, 1e-300, 5e-324, 1 - 1e-16], 10.0 ** rng.uniform(-300, 0, 100)])
    c = np.concatenate([rng.exponential(0.1, 500), [1e-300, 5e-324, 3.0, 1e6], 10.0 ** rng.uniform(-300, 3, 100)])
    # (q > 0: at q = 0 the default path returns the exact 1 - e^-c instead of the bisection)
    assert T.kl_inverse_upper(q, c).tobytes() == T.kl_inverse_upper(q, c, _kl_fn=T._kl).tobytes()
    assert T.kl_inverse_upper(q[:40, None], c[None, :40]).tobytes() == T.kl_inverse_upper(q[:40, None], c[None, :40], _kl_fn=T._kl).tobytes()


def _occam_plain_draws(n, d, snr, max_levels, reps, rng):
    """The bound-free part of the plain quantised Occam experiment: one (reps, n, d) draw, numpy's
    mean and strided count; per K the true risk and the distinct (errors, bits) rows."""
    mu = snr * np.arange(1, d + 1) / np.linalg.norm(np.arange(1, d + 1.0))
    z = mu + rng.standard_normal((reps, n, d))
    w = z.mean(axis=1)
    u = w / np.abs(w).max(axis=1, keepdims=True)
    syms, vs = [], []
    for K in range(1, max_levels + 1):
        cb = np.linspace(-1.0, 1.0, K) if K > 1 else np.array([-1.0])
        sym = np.zeros(u.shape, dtype=int) if K == 1 else np.clip(np.rint((u + 1) / 2 * (K - 1)), 0, K - 1).astype(int)
        syms.append(sym)
        vs.append(cb[sym])
    errors = (np.matmul(z, np.stack(vs, axis=2)) < 0).sum(axis=1)
    levels = []
    for i, K in enumerate(range(1, max_levels + 1)):
        v = vs[i]
        norm = np.linalg.norm(v, axis=1)
        risk = np.where(norm > 0, stats.norm.cdf(-(v @ mu) / np.where(norm > 0, norm, 1.0)), 0.5)
        err = np.where(norm > 0, errors[:, i], n)
        bits = S.quantized_code_lengths(syms[i], K, codebook_bits_per_level=0)
        pairs, inverse = np.unique(np.stack([err, bits], axis=1), axis=0, return_inverse=True)
        levels.append((risk, pairs, inverse))
    return errors, levels


def _occam_quantized_reference(n, d, snr, max_levels, delta, bound_fn, reps, rng, charge=1.0, draws=None):
    """The quantised Occam experiment written plainly: :func:`_occam_plain_draws` (or its result,
    ``draws``, shared between bounds and charges of the same draw), then every K's bound on its own
    distinct (errors, bits) rows."""
    errors, levels = _occam_plain_draws(n, d, snr, max_levels, reps, rng) if draws is None else draws
    best_b, best_r = np.full(reps, np.inf), np.zeros(reps)
    for risk, pairs, inverse in levels:
        b = np.asarray(bound_fn(pairs[:, 0] / n, charge * pairs[:, 1] * math.log(2), n, delta, 1), dtype=float)[inverse.ravel()]
        take = b < best_b
        best_b, best_r = np.where(take, b, best_b), np.where(take, risk, best_r)
    return best_r <= best_b, best_b, errors


@pytest.mark.parametrize("n, d, snr, max_levels, reps", [(500, 5, 1.0, 8, 1200), (30, 1, 0.0, 3, 701), (300, 8, 3.0, 5, 501),
                                                         (7, 2, 0.5, 1, 3), (256, 4, 1.0, 8, 40)])
def test_occam_quantized_draws_equal_the_plain_computation_bit_for_bit(n, d, snr, max_levels, reps):
    # chunked draws, einsum mean, lane-packed counts and one bound call for all K: the same result as
    # the plain computation (the Gaussian CDF of the reference is scipy.stats', the same ndtr)
    draws = _occam_plain_draws(n, d, snr, max_levels, reps, np.random.default_rng(9))  # the same draw for every bound/charge
    for fn in (T.maurer_bound, T.catoni_bound):
        for charge in (1.0, 0.25):
            fast = S.occam_quantized_draws(n, d, snr, max_levels, 0.05, fn, reps, np.random.default_rng(9), charge=charge)
            ref, _, _ = _occam_quantized_reference(n, d, snr, max_levels, 0.05, fn, reps, None, charge=charge, draws=draws)
            assert fast.tobytes() == ref.tobytes()


@pytest.mark.parametrize("shape", [(3, 1, 1), (5, 7, 1), (4, 500, 2), (2, 60, 30), (600, 3, 5), (1, 1000, 3)])
def test_sample_mean_and_negative_count_helpers_are_exact(shape):
    rng = np.random.default_rng(sum(shape))
    z = rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, shape)
    assert S._mean_over_samples(z).tobytes() == z.mean(axis=1).tobytes()
    assert S._row_norms(z).tobytes() == np.linalg.norm(z, axis=2).tobytes()
    z2 = rng.standard_normal((shape[0], shape[1], 2)) * 10.0 ** rng.uniform(-200, 150, (shape[0], shape[1], 2))
    assert S._row_norms(z2).tobytes() == np.linalg.norm(z2, axis=2).tobytes()  # incl. under/overflow of the squares
    w2 = rng.standard_normal((shape[0], 2)) * 10.0 ** rng.uniform(-150, 150, (shape[0], 2))
    assert S._inner_with(z2, w2).tobytes() == np.einsum("rnd,rd->rn", z2, w2).tobytes()
    w = rng.standard_normal((shape[0], shape[2]))
    assert S._inner_with(z, w).tobytes() == np.einsum("rnd,rd->rn", z, w).tobytes()
    for k in (1, 5, 8, 9, 16):
        m = rng.standard_normal((shape[0], shape[1], k))
        m[:, ::3] = 0.0  # zero is not negative
        m[:, 1::5] = -0.0
        got = S._count_negative(m)
        assert got.dtype == np.int64 and np.array_equal(got, (m < 0).sum(axis=1))


def test_gaussian_posterior_draws_equal_the_plain_computation_bit_for_bit():
    # chunked with the einsum mean and the written-out 2-d norm: the floats of the plain formulas
    for n, d, snr, scale, sigma, sigma0, reps, chunk in [(500, 2, 2.0, 3.0, 1.0, 3.0, 1200, 500), (60, 30, 0.0, 1.0, 0.1, 1.0, 700, 300),
                                                         (5, 1, 0.0, 1.0, 0.5, 1.0, 30, 7), (40, 2, 1.0, 1.0, 0.05, 1.0, 3, 500)]:
        fast = S.gaussian_posterior_draws(n, d, snr, scale, sigma, sigma0, reps, np.random.default_rng(5), chunk=chunk)
        rng = np.random.default_rng(5)
        mu = np.zeros(d)
        mu[0] = snr
        emp, ws = [], []
        for a in range(0, reps, chunk):
            z = mu + rng.standard_normal((min(chunk, reps - a), n, d))
            m = z.mean(axis=1)
            w = scale * m / np.linalg.norm(m, axis=1, keepdims=True)
            emp.append(stats.norm.cdf(-np.einsum("rnd,rd->rn", z, w) / (sigma * np.linalg.norm(z, axis=2))).mean(axis=1))
            ws.append(w)
        assert fast.emp_risk.tobytes() == np.clip(np.concatenate(emp), 0.0, 1.0).tobytes()
        assert fast.true_risk.tobytes() == np.asarray(T.gibbs_risk_linear(np.concatenate(ws), mu, sigma)).tobytes()


def test_maurer_bound_groups_equal_the_calls_one_by_one_bit_for_bit():
    # the kl_bound_ordering check inverts all its batches at once: the same floats as maurer_bound per batch
    rng = np.random.default_rng(21)
    groups = []
    for n in (1, 2, 7, 100, 54321, 10**6):
        q = rng.uniform(0, 1, 50)
        q[:5], q[5:10] = 0.0, 1.0
        kl = np.exp(rng.uniform(-7, 9, 50))
        kl[::7] = 0.0
        groups.append((q, kl, n, float(np.exp(rng.uniform(-14, -0.01))), np.floor(np.exp(rng.uniform(0, 20, 50)))))
    groups += [(0.3, 2.0, 50, 0.05, 1), (np.array([[0.0, 0.5], [1.0, 1e-300]]), 0.0, 3, 0.5, 1), (np.zeros(0), 1.0, 10, 0.1, 1)]
    got = T._maurer_bound_groups(groups)
    for g, out in zip(groups, got, strict=True):
        ref = T.maurer_bound(*g)
        assert type(out) is type(ref) and np.shape(out) == np.shape(ref)
        assert np.asarray(out).tobytes() == np.asarray(ref).tobytes()
    assert T._maurer_bound_groups([]) == []
    with pytest.raises(ValueError, match="delta"):
        T._maurer_bound_groups([(0.1, 1.0, 10, 0.0, 1)])
