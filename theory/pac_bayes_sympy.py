"""Symbolic (sympy) derivations behind :mod:`theory.pac_bayes`: the log k cost of tuning.

Each ``check_*`` takes the candidate formula as an argument (the correct one by default) and
returns whether the derivation confirms it, so the same check can be shown to reject a
perturbed formula (DESIGN.md: "a check that cannot fail is a defect").

Symbols (all positive): ``L`` = ln k >= 0, ``B`` = B0 = KL + ln(n/delta) + 2 > 0 (McAllester's
numerator at k = 1), ``n`` the sample size, ``delta`` the failure probability, ``g`` an
empirical-risk gain, ``q``, ``p`` Bernoulli means, ``kl`` = KL(Q||P) >= 0.

Proof technique. Signs are decided by sympy's assumptions on positive symbols after
rewriting: a derivative is shown positive (negative) by ``sp.simplify`` to an expression
whose sign sympy can determine (``is_positive``), never by sampling. Inequalities between
square roots are reduced to polynomial ones by squaring both (non-negative) sides.

Sources: seed 003 (Goldblum: log(n/delta) -> log(kn/delta), "cost: log(k)"); McAllester,
COLT 1999 Thm 1; Maurer 2004 Thm 5; Pinsker's inequality (Cover & Thomas, Lemma 11.6.1).
"""
from __future__ import annotations

import sympy as sp

__all__ = [
    "L", "B", "n", "delta", "g", "q", "p", "kl", "k", "KL_LOGK", "LOG_N", "LOG_INV_DELTA",
    "mcallester_cost_expr",
    "check_union_bound_log_k",
    "check_cost_monotone_concave",
    "check_cost_envelope",
    "break_even_log_k_expr",
    "check_break_even",
    "check_maurer_numerator_below_mcallester",
    "check_kl_convex_increasing",
    "gaussian_kl_expr",
    "check_gaussian_kl",
]

L = sp.Symbol("L", nonnegative=True)  # ln k
B = sp.Symbol("B", positive=True)  # KL + ln(n/delta) + 2
n = sp.Symbol("n", positive=True)
delta = sp.Symbol("delta", positive=True)
g = sp.Symbol("g", positive=True)
q = sp.Symbol("q", positive=True)
p = sp.Symbol("p", positive=True)
kl = sp.Symbol("kl", nonnegative=True)
k = sp.Symbol("k", positive=True)
_m = 2 * n - 1
KL_LOGK = sp.Symbol("A", nonnegative=True)  # KL + ln k
LOG_N = sp.Symbol("s", nonnegative=True)  # ln n (n >= 1)
LOG_INV_DELTA = sp.Symbol("e", positive=True)  # ln(1/delta)


def mcallester_cost_expr(denominator=None):
    """Delta(L) = sqrt((B + L)/m) - sqrt(B/m), m = 2n - 1 (or ``denominator``)."""
    m = _m if denominator is None else denominator
    return sp.sqrt((B + L) / m) - sp.sqrt(B / m)


def check_union_bound_log_k(numerator=None) -> bool:
    """Bonferroni at delta/k equals charging ln k: ln(n/(delta/k)) == ln k + ln(n/delta).

    ``numerator`` is the candidate for the tuned confidence term as a function of (k, n, delta).
    """
    cand = (sp.log(k) + sp.log(n / delta)) if numerator is None else numerator
    return sp.simplify(sp.expand_log(sp.log(n / (delta / k)) - cand, force=True)) == 0


def _is_pos(expr) -> bool:
    e = sp.simplify(expr)
    return bool(e.is_positive)


def check_cost_monotone_concave(cost=None) -> bool:
    """d Delta/dL > 0 and d^2 Delta/dL^2 < 0 for L >= 0 (Delta increasing, concave in ln k), Delta(0) = 0."""
    c = mcallester_cost_expr() if cost is None else cost
    # n > 1/2 keeps 2n - 1 positive: substitute n = (1 + t)/2 with t > 0.
    t = sp.Symbol("t", positive=True)
    c = c.subs(n, (1 + t) / 2)
    d1, d2 = sp.diff(c, L), sp.diff(c, L, 2)
    return sp.simplify(c.subs(L, 0)) == 0 and _is_pos(d1) and _is_pos(-d2)


def check_cost_envelope(cost=None) -> bool:
    """Delta(L) <= sqrt(L/(2n - 1)): sqrt(B + L) <= sqrt(B) + sqrt(L), i.e. after squaring,
    (sqrt(B) + sqrt(L))^2 - (B + L) = 2 sqrt(B L) >= 0. The candidate ``cost`` is checked by
    showing sqrt(L/m) - cost == (sqrt(B) + sqrt(L) - sqrt(B + L)) / sqrt(m) and that bracket >= 0."""
    t = sp.Symbol("t", positive=True)  # n = (1 + t)/2 keeps m = 2n - 1 = t positive
    c = (mcallester_cost_expr() if cost is None else cost).subs(n, (1 + t) / 2)
    m = t
    claimed_gap = (sp.sqrt(B) + sp.sqrt(L) - sp.sqrt(B + L)) / sp.sqrt(m)
    identity = sp.simplify(sp.sqrt(L / m) - c - claimed_gap) == 0
    squared = sp.expand((sp.sqrt(B) + sp.sqrt(L)) ** 2 - (B + L))
    return identity and sp.simplify(squared - 2 * sp.sqrt(B) * sp.sqrt(L)) == 0


def break_even_log_k_expr():
    """ln k* = m (g + sqrt(B/m))^2 - B: the largest ln k with Delta(ln k) <= g."""
    return _m * (g + sp.sqrt(B / _m)) ** 2 - B


def check_break_even(log_k_star=None) -> bool:
    """Delta(ln k*) == g (the break-even point) for the candidate ln k*."""
    lk = break_even_log_k_expr() if log_k_star is None else log_k_star
    t = sp.Symbol("t", positive=True)
    expr = (mcallester_cost_expr().subs(L, lk) - g).subs(n, (1 + t) / 2)
    return sp.simplify(sp.radsimp(sp.simplify(expr))) == 0


def check_maurer_numerator_below_mcallester(maurer_c=None) -> bool:
    """Pinsker turns the kl bound into emp + sqrt(c/2); it is below McAllester because
    (A + ln(2 sqrt n/delta))/(2n) <= (A + ln(n/delta) + 2)/(2n - 1) for A = KL + ln k >= 0, n >= 1.

    The numerators differ by ln(n)/2 + 2 - ln 2 > 0 (n >= 1) and 2n - 1 < 2n; checked by showing
    the difference of the two sides equals a sum of manifestly non-negative terms.
    ``maurer_c`` is the candidate kl-bound complexity c in the symbols KL_LOGK (A), LOG_N (s),
    LOG_INV_DELTA (e) and n; default (A + ln 2 + s/2 + e)/n = (KL + ln k + ln(2 sqrt n/delta))/n.
    """
    A, s, e = KL_LOGK, LOG_N, LOG_INV_DELTA
    c = (A + sp.log(2) + s / 2 + e) / n if maurer_c is None else maurer_c
    lhs = c / 2
    rhs = (A + s + e + 2) / (2 * n - 1)
    # rhs - lhs = [(A + s + e + 2) 2n - (2n - 1) n c] / (2n (2n - 1)); with n >= 1 write n = 1 + u.
    u = sp.Symbol("u", nonnegative=True)
    num = sp.expand(sp.together((rhs - lhs) * 2 * n * (2 * n - 1)).subs(n, 1 + u))
    num = sp.expand(sp.simplify(num))
    # every coefficient of the polynomial in (A, s, e, u) must be non-negative after replacing
    # log(2) by its rational upper bound 7/10 (2 - ln 2 > 1.3 > 0).
    poly = sp.Poly(sp.expand(num.subs(sp.log(2), sp.Rational(7, 10))), A, s, e, u)
    return all(coef >= 0 for coef in poly.coeffs()) and num.subs(sp.log(2), sp.Rational(7, 10)) != 0


def check_kl_convex_increasing() -> bool:
    """kl(q||p) is convex in p with minimum 0 at p = q, so its upper inverse in c is well defined and
    concave (the kl bound's tuning cost is at most kl^{-1}(q, ln k/n) - q <= sqrt(ln k/(2n)))."""
    f = q * sp.log(q / p) + (1 - q) * sp.log((1 - q) / (1 - p))
    d1 = sp.diff(f, p)
    d2 = sp.diff(f, p, 2)
    at_q = sp.simplify(d1.subs(p, q)) == 0 and sp.simplify(f.subs(p, q)) == 0
    d2_expected = q / p**2 + (1 - q) / (1 - p) ** 2
    return at_q and sp.simplify(d2 - d2_expected) == 0 and sp.simplify(d1 - (p - q) / (p * (1 - p))) == 0


def gaussian_kl_expr(w2, d, s, s0):
    """Closed form of KL(N(w, s^2 I_d) || N(0, s0^2 I_d)) as in :func:`theory.pac_bayes.gaussian_kl`."""
    return sp.Rational(1, 2) * (w2 / s0**2 + d * (s**2 / s0**2 - 1 - sp.log(s**2 / s0**2)))


def check_gaussian_kl(candidate=gaussian_kl_expr) -> bool:
    """Derive the isotropic Gaussian KL coordinate-wise and compare with ``candidate(w2, d, s, s0)``.

    One coordinate: E_{x ~ N(m, s^2)}[ln N(x; m, s^2) - ln N(x; 0, s0^2)] with E x = m,
    E x^2 = m^2 + s^2, i.e. ln(s0/s) - 1/2 + (m^2 + s^2)/(2 s0^2); the KL of a product is the
    sum over coordinates, checked for d = 1, 2, 3 with symbolic means (w2 = sum of m_i^2).
    """
    s, s0 = sp.symbols("s s0", positive=True)
    for d in (1, 2, 3):
        ms = sp.symbols(f"m0:{d}", real=True)
        x = sp.Symbol("x", real=True)
        total = 0
        for m in ms:
            log_ratio = sp.expand(-sp.log(s) + sp.log(s0) - (x - m) ** 2 / (2 * s**2) + x**2 / (2 * s0**2))
            poly = sp.Poly(log_ratio, x)
            moments = {0: 1, 1: m, 2: m**2 + s**2}
            total += sum(c * moments[e[0]] for e, c in zip(poly.monoms(), poly.coeffs()))
        w2 = sum(m**2 for m in ms)
        diff = sp.simplify(sp.expand_log(total - candidate(w2, d, s, s0), force=True))
        if diff != 0:
            return False
    return True
