"""Numerical edges of the PAC-Bayes and distributional closed forms, against an independent
high-precision reference (mpmath, shipped with sympy), where float64 formulas used to cancel,
overflow or stop early: kl near p = q, its inverse down to c = 1e-300, break-even k up to
ln k = 709.78, ln(n/delta) for tiny delta, Catoni beyond 1, e^eps t for large eps, and the
chi-square quadrature of the uniform-convergence errors at large D.

Tolerances: the stated ones (KL_INVERSE_TOL) or float rounding (a few ulps of the result,
said where used); the reference runs at 60-400 significant digits.
"""
from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

from claimcheck.theory import distributional as DI
from claimcheck.theory import pac_bayes as T
from claimcheck.theory import uniform_convergence as U

EPS = np.finfo(float).eps


def mp_kl(q, p):
    q, p = mp.mpf(q), mp.mpf(p)
    a = q * mp.log(q / p) if q > 0 else mp.mpf(0)
    b = (1 - q) * mp.log((1 - q) / (1 - p)) if q < 1 else mp.mpf(0)
    return a + b


def mp_kl_inverse(q: float, c: float) -> mp.mpf:
    """sup{p in [q, 1]: kl(q||p) <= c} at 400 digits, as the upper end of a bracket [lo, hi] of
    width <= 1e-120 in t, p = q + (1 - q) sigmoid(t) (relative width 1e-120 in p - q near q, in
    1 - p near 1), with kl(q||p(lo)) <= c < kl(q||p(hi)) both evaluated. The bracket is narrowed
    by Newton steps on ln kl - ln c (quadratic; ~10 kl evaluations instead of 400 halvings),
    falling back to halving where a step leaves the bracket or rounding hides the root.
    Where even p(900) (1 - p ~ 1e-391, the working precision) satisfies kl <= c, p* rounds to 1."""
    with mp.workdps(400):
        q_, c_ = mp.mpf(q), mp.mpf(c)
        if q == 1.0:
            return mp.mpf(1)
        if q == 0.0:
            return -mp.expm1(-c_)

        def point(t):  # p = q + (1 - q) sigmoid(t): t ~ ln(p - q) near q, ~ -ln(1 - p) near 1
            return q_ + (1 - q_) / (1 + mp.exp(-t))

        lo, hi = mp.log(mp.mpf(10) ** -380), mp.mpf(900)
        tol = mp.mpf(10) ** -120
        log_c = mp.log(c_)

        def g(t):
            p = point(t)
            kl = mp_kl(q_, p)
            if kl <= 0:  # rounding at p - q below the working precision: no Newton step
                return True, None
            return kl <= c_, (mp.log(kl) - log_c) * kl * p * (1 - q_) / (p - q_) ** 2  # Newton step on ln kl - ln c

        if g(hi)[0]:  # kl <= c even at 1 - p ~ 1e-391 (the working precision): p* rounds to 1
            return mp.mpf(1)
        small = mp.log(mp.sqrt(2 * c_ * q_ / (1 - q_)))   # kl ~ (p - q)^2 / (2 q (1 - q))
        large = (c_ - q_ * mp.log(q_)) / (1 - q_)          # kl ~ q ln q + (1 - q) ln((1 - q) / (1 - p))
        x = min(max(small, large), hi)
        if not lo < x < hi:
            x = (lo + hi) / 2
        for _ in range(1000):
            ok, step = g(x)
            if ok:
                lo = x
            else:
                hi = x
            if hi - lo <= tol:
                break
            if step is None:
                x = (lo + hi) / 2
                continue
            if abs(step) < tol / 4:   # Newton has converged: close the bracket on both sides of x
                for y in (x - tol / 3, x + tol / 3):
                    if lo < y < hi:
                        if g(y)[0]:
                            lo = y
                        else:
                            hi = y
                if hi - lo <= tol:
                    break
                x = (lo + hi) / 2
                continue
            x = x - step
            if not lo < x < hi:
                x = (lo + hi) / 2
        else:
            raise AssertionError(f"reference kl inverse did not converge at q={q!r} c={c!r}")
        return point(hi)


QS = [0.0, 1e-300, 1e-20, 1e-3, 0.1, 0.5, 0.9, 1 - 1e-10, 1.0]
CS = [1e-300, 1e-200, 1e-100, 1e-40, 1e-20, 1e-16, 1e-10, 1e-4, 0.1, 1.0, 10.0, 700.0]


@pytest.mark.parametrize("q", QS)
def test_kl_inverse_upper_honours_its_tolerance_down_to_c_1e300(q):
    """p* <= p_hat <= p* + KL_INVERSE_TOL at every (q, c) of the grid (the docstring's claim)."""
    bad = []
    for c in CS:
        p_hat = T.kl_inverse_upper(q, c)
        ref = mp_kl_inverse(q, c)
        with mp.workdps(400):
            if not (ref <= mp.mpf(p_hat) <= ref + mp.mpf(T.KL_INVERSE_TOL)):
                bad.append(f"q={q!r} c={c!r}: p_hat={p_hat!r}, p*={mp.nstr(ref, 25)}")
    assert not bad, "\n".join(bad)


def test_kl_inverse_upper_vectorised_agrees_with_the_scalar_calls():
    qq, cc = np.meshgrid([0.0, 0.1, 0.5, 0.9], [1e-300, 1e-16, 0.5, 10.0])
    vec = T.kl_inverse_upper(qq, cc)
    assert all(vec[i, j] == T.kl_inverse_upper(float(qq[i, j]), float(cc[i, j])) for i in range(4) for j in range(4))


@pytest.mark.parametrize("q", [1e-300, 1e-10, 0.1, 0.5, 0.999])
@pytest.mark.parametrize("rel", [1e-12, 1e-8, 1e-4, 0.3])
def test_kl_bernoulli_near_p_equals_q_is_accurate_to_rounding(q, rel):
    """kl(q || q(1 + rel)) ~ q rel^2 / (2 (1 - q)): the old form (difference of ~q ln q terms)
    had an absolute error ~1e-17, i.e. no correct digit below kl ~ 1e-16. Tolerance: 64 ulps."""
    for p in (q * (1 + rel), q * (1 - rel)):
        if not 0 <= p <= 1:
            continue
        with mp.workdps(400):  # 1 - q at q = 1e-300 needs ~300 digits
            ref = mp_kl(q, p)
            got = T.kl_bernoulli(q, p)
            assert abs(mp.mpf(got) - ref) <= 64 * EPS * ref + mp.mpf(1e-320), (q, p, got, mp.nstr(ref, 20))


def test_kl_bernoulli_at_the_ends_of_the_interval():
    assert T.kl_bernoulli(0.0, 0.5) == pytest.approx(math.log(2), rel=4 * EPS)
    assert T.kl_bernoulli(1.0, 0.5) == pytest.approx(math.log(2), rel=4 * EPS)
    assert T.kl_bernoulli(0.3, 0.0) == math.inf and T.kl_bernoulli(0.3, 1.0) == math.inf
    assert T.kl_bernoulli(5e-324, 0.5) == pytest.approx(float(mp_kl(5e-324, 0.5)), rel=8 * EPS)


# --------------------------------------------------------------------------- ln(n / delta) for tiny delta
def mp_mcallester(emp, kl, n, delta, k=1):
    with mp.workdps(60):
        return mp.mpf(emp) + mp.sqrt((kl + mp.log(k) + mp.log(mp.mpf(n) / mp.mpf(delta)) + 2) / (2 * n - 1))


@pytest.mark.parametrize("delta", [1e-300, 1e-310, 5e-324])
@pytest.mark.parametrize("n", [10, 10**6, 2**53])
def test_bounds_stay_finite_and_exact_for_tiny_delta(delta, n):
    """ln(n/delta) = ln n - ln delta: n / delta itself overflows to inf (a wrong, vacuous inf)."""
    got = T.mcallester_bound(0.1, 5.0, n, delta)
    assert math.isfinite(got)
    assert abs(got - float(mp_mcallester(0.1, 5.0, n, delta))) <= 8 * EPS * got  # float rounding of ~10 operations
    with mp.workdps(60):
        c = (5.0 + mp.log(2) + mp.log(n) / 2 - mp.log(mp.mpf(delta))) / n
        catoni = -mp.expm1(-mp.mpf(0.1) - (5.0 - mp.log(mp.mpf(delta))) / n) / -mp.expm1(-1)
    assert 0 < T.maurer_bound(0.1, 5.0, n, delta) and math.isfinite(T.kl_inverse_upper(0.1, float(c)))
    assert T.maurer_bound(0.1, 5.0, n, delta) == T.kl_inverse_upper(0.1, float(c)) or \
        abs(T.maurer_bound(0.1, 5.0, n, delta) - T.kl_inverse_upper(0.1, float(c))) <= 4 * EPS
    assert abs(T.catoni_bound(0.1, 5.0, n, delta) - float(catoni)) <= 8 * EPS * float(catoni)


def test_catoni_bound_exceeds_one_exactly_when_the_docstring_says():
    """Documented: the value exceeds 1 iff C emp_risk + (KL + ln(k/delta))/n > C."""
    rng = np.random.default_rng(5)
    for _ in range(400):
        emp, kl, n, delta, C = rng.uniform(0, 1), rng.exponential(50), int(rng.integers(1, 200)), rng.uniform(1e-6, 0.5), rng.uniform(0.01, 5)
        a = C * emp + (kl - math.log(delta)) / n
        b = T.catoni_bound(emp, kl, n, delta, C=C)
        if abs(a - C) > 1e-9 * C:
            assert (b > 1) == (a > C), (emp, kl, n, delta, C, a, b)
    assert "exceeds 1" in T.catoni_bound.__doc__


# --------------------------------------------------------------------------- break-even k up to ln k = 709.78
def _mcallester_gain_for(log_k: float, kl=5.0, n=10**4, delta=0.05) -> float:
    """The risk gain whose McAllester break-even point is exactly ln k* = log_k (mpmath)."""
    with mp.workdps(60):
        m = 2 * n - 1
        b0 = kl + mp.log(n) - mp.log(delta) + 2
        return float((-2 * mp.sqrt(m * b0) + mp.sqrt(4 * m * b0 + 4 * m * log_k)) / (2 * m))


@pytest.mark.parametrize("log_k", [1.0, 100.0, 700.0, 705.0, 709.0, 709.78])
def test_break_even_k_is_finite_and_exact_up_to_the_largest_float(log_k):
    g = _mcallester_gain_for(log_k)
    with mp.workdps(60):
        m, b0 = 2 * 10**4 - 1, 5.0 + mp.log(10**4) - mp.log(0.05) + 2
        ref_log = mp.mpf(g) * (m * mp.mpf(g) + 2 * mp.sqrt(m * b0))  # ln k* at the float gain actually passed
    k = T.break_even_k(g, 5.0, 10**4, 0.05)
    assert math.isfinite(k) and abs(mp.log(k) - ref_log) <= 1e-12 * ref_log  # rounding of ln k* ~ 10 ulps of 709
    assert abs(T.break_even_k(g, 5.0, 10**4, 0.05, log=True) - float(ref_log)) <= 1e-12 * float(ref_log)


def test_break_even_k_beyond_the_largest_float_is_inf_and_its_log_stays_finite():
    g = _mcallester_gain_for(709.8)
    assert T.break_even_k(g, 5.0, 10**4, 0.05) == math.inf
    assert T.break_even_k(g, 5.0, 10**4, 0.05, log=True) == pytest.approx(709.8, rel=1e-12)
    huge = T.break_even_k(0.5, 5.0, 10**6, 0.05, log=True)  # ln k* ~ 5e5: only the log is representable
    assert math.isfinite(huge) and huge > 1e5


@pytest.mark.parametrize("log_k", [10.0, 650.0, 705.0, 709.5])
def test_break_even_k_for_catoni_reaches_ln_k_709(log_k):
    """Catoni: B(r, k) = B(r + g, 1) iff ln k = n C g exactly (C = 1 here); the old bisection
    stopped at ln k = 700. Tolerance: bisection to the bound's rounding (~1e-13 in ln k)."""
    n = 1000
    g = log_k / n
    k = T.break_even_k(g, 5.0, n, 0.05, bound="catoni", emp_risk=0.1)
    assert math.isfinite(k) and abs(math.log(k) - log_k) <= 1e-9 * log_k


# --------------------------------------------------------------------------- dp_dg_bound never overflows
@pytest.mark.parametrize("eps,t", [(0.0, 0.3), (709.0, 1.0), (709.78, 1.0), (710.0, 1.0), (800.0, 1e-300),
                                   (1e6, 0.5), (1e308, 1e-300), (1e308, 0.0), (50.0, 5e-324)])
def test_dp_dg_bound_never_raises_and_matches_the_exact_value(eps, t):
    got = DI.dp_dg_bound(eps, 0.01, t)
    with mp.workdps(60):
        ref = mp.exp(mp.mpf(eps)) * mp.mpf(t) + mp.mpf(0.01)
    if ref > mp.mpf(np.finfo(float).max):
        assert got == math.inf
    else:
        assert abs(mp.mpf(got) - ref) <= 1e-13 * ref  # exp of eps + ln t: ~700 x eps relative at eps ~ 700


# --------------------------------------------------------------------------- chi-square quadrature at large D
@pytest.mark.parametrize("D", [10**4, 10**7])
def test_uniform_convergence_errors_at_large_D_match_a_high_precision_quadrature(D):
    """The chi^2_D density in the x = Q/D - 1 form (no cancellation between ~D log D terms);
    reference: mpmath quadrature of the same expectation at 40 digits. Tolerance 1e-9 absolute."""
    n, signal, noise = 8, 1 / 32 / math.sqrt(D / 64), 1.0  # keeps the errors away from 0 and 1
    c = n * signal * D / noise
    with mp.workdps(40):
        k = mp.mpf(D) / 2
        sd = mp.sqrt(2 * mp.mpf(D))

        def pdf(q):
            return mp.exp((k - 1) * mp.log(q) - q / 2 - k * mp.log(2) - mp.loggamma(k))

        ref_test = mp.quad(lambda q: mp.ncdf(-c / mp.sqrt(n * q)) * pdf(q), [D - 10 * sd, D - 2 * sd, D, D + 2 * sd, D + 10 * sd])
        ref_sprime = mp.quad(lambda q: mp.ncdf((q - c) / mp.sqrt((n - 1) * q)) * pdf(q), [D - 10 * sd, D, D + 10 * sd])
    assert abs(U.linear_test_error(n, D, signal, noise) - float(ref_test)) < 1e-9
    assert abs(U.linear_sprime_error(n, D, signal, noise) - float(ref_sprime)) < 1e-9
