"""Symbolic (sympy) derivations behind :mod:`theory.uniform_convergence`.

Each ``check_*`` takes the candidate formula (the correct one by default) and returns
whether the derivation confirms it, so the same check rejects a perturbed formula.

Symbols (positive): ``n`` training points, ``D`` noise dimensions, ``r2`` = ||u||^2
(``signal``), ``s2`` = s^2 = E||z||^2 (``noise``), ``Q`` a chi^2_D value.

Derivation. The D noise coordinates are independent, so each margin's noise part is a sum
of D iid per-coordinate terms: its mean and variance are D times those of one coordinate.
For one coordinate (sigma^2 = s2 / D): a test point contributes Zk zk with
Zk ~ N(0, n sigma^2) (the sum of n label-signed training noises) and zk ~ N(0, sigma^2);
training point i contributes v_ik^2 + W v_ik with W ~ N(0, (n-1) sigma^2) the other n-1
points' sum (S' negates both). :func:`gaussian_expectation` computes these moments exactly
(Isserlis / Gaussian moments of independent normals).
"""
from __future__ import annotations

import functools

import sympy as sp

__all__ = [
    "n", "D", "r2", "s2", "Q",
    "gaussian_expectation",
    "margin_moments_expr",
    "check_margin_moments",
    "check_conditional_test_scale",
    "check_cantelli_limits",
]

n, D, r2, s2, Q = sp.symbols("n D r2 s2 Q", positive=True)


def gaussian_expectation(expr: sp.Expr, variances: dict) -> sp.Expr:
    """E[expr] for a polynomial in independent centred normals X with Var X = variances[X].

    Uses E X^k = 0 (k odd), var^(k/2) (k-1)!! (k even), monomial by monomial.

    >>> X = sp.Symbol("X"); gaussian_expectation(X**4 + X, {X: s2})
    3*s2**2
    """
    gens = list(variances)
    poly = sp.Poly(sp.expand(expr), *gens)
    total = sp.Integer(0)
    for powers, coeff in poly.terms():
        term = coeff
        for g, k in zip(gens, powers):
            term *= 0 if k % 2 else variances[g] ** sp.Rational(k, 2) * sp.factorial2(k - 1)
        total += term
    return sp.simplify(total)


@functools.lru_cache(maxsize=None)
def margin_moments_expr() -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """Exact (mean, variance) of the test, train and S' margins of w = sum_i y_i x_i, from per-coordinate moments."""
    sigma2 = s2 / D
    Zk, zk, vk, Wk = sp.symbols("Zk zk vk Wk")
    var = {Zk: n * sigma2, zk: sigma2, vk: sigma2, Wk: (n - 1) * sigma2}
    out = {}
    for name, term, sgn in (("test", Zk * zk, 1), ("train", vk**2 + Wk * vk, 1), ("sprime", vk**2 + Wk * vk, -1)):
        m1 = gaussian_expectation(term, var)
        m2 = gaussian_expectation(term**2, var)
        out[name] = (sp.simplify(n * r2 + sgn * D * m1), sp.simplify(D * (m2 - m1**2)))
    return out


def check_margin_moments(candidate=None) -> bool:
    """Confirm the closed-form moments of :func:`theory.uniform_convergence.margin_moments`.

    ``candidate(n, D, r2, s2) -> {"test": (mean, var), "train": ..., "sprime": ...}`` (sympy
    expressions); default: test (n r2, n s2^2/D), train (n r2 + s2, (n+1) s2^2/D), S' (n r2 - s2, same).

    >>> check_margin_moments()
    True
    >>> check_margin_moments(lambda n, D, r2, s2: {"test": (n * r2, n * s2**2 / D), "train": (n * r2 + s2, n * s2**2 / D),
    ...                                             "sprime": (n * r2 - s2, n * s2**2 / D)})
    False
    """
    if candidate is None:
        def candidate(n, D, r2, s2):
            v = (n + 1) * s2**2 / D
            return {"test": (n * r2, n * s2**2 / D), "train": (n * r2 + s2, v), "sprime": (n * r2 - s2, v)}
    got = candidate(n, D, r2, s2)
    want = margin_moments_expr()
    return all(sp.simplify(got[k][0] - want[k][0]) == 0 and sp.simplify(got[k][1] - want[k][1]) == 0 for k in want)


def check_conditional_test_scale(candidate=None) -> bool:
    """Given ||Z||^2 = n sigma^2 Q, the test error is Phi(-n r2 / (sigma ||Z||)) = Phi(-c / sqrt(n Q)), c = n r2 D / s2.

    ``candidate(n, D, r2, s2, Q)`` is the argument of Phi (default -c / sqrt(n Q)).

    >>> check_conditional_test_scale()
    True
    >>> check_conditional_test_scale(lambda n, D, r2, s2, Q: -n * r2 * D / s2 / sp.sqrt(Q))
    False
    """
    if candidate is None:
        def candidate(n, D, r2, s2, Q):
            return -(n * r2 * D / s2) / sp.sqrt(n * Q)
    sigma2 = s2 / D
    exact = -n * r2 / sp.sqrt(sigma2 * n * sigma2 * Q)
    return sp.simplify(candidate(n, D, r2, s2, Q) - exact) == 0


def check_cantelli_limits(test_bound=None, sprime_bound=None) -> bool:
    """As D -> inf (n fixed, n r2 < s2): Cantelli test-error bound -> 0, S' lower bound -> 1.

    Bounds are built from the moments: test 1/(1 + mean^2/var), S' 1 - var/(var + mean^2).

    >>> check_cantelli_limits()
    True
    >>> check_cantelli_limits(test_bound=lambda m, v: 1 / (1 + m**2 / (v * D)))  # variance not shrinking in D
    False
    """
    mom = margin_moments_expr()
    test_bound = test_bound or (lambda m, v: 1 / (1 + m**2 / v))
    sprime_bound = sprime_bound or (lambda m, v: 1 - v / (v + m**2))
    (mt, vt), (ms, vs) = mom["test"], mom["sprime"]
    # n r2 < s2: write s2 = n r2 (1 + t), t > 0
    t = sp.symbols("t", positive=True)
    lt = sp.limit(test_bound(mt, vt), D, sp.oo)
    ls = sp.limit(sp.simplify(sprime_bound(ms, vs).subs(s2, n * r2 * (1 + t))), D, sp.oo)
    return sp.simplify(lt) == 0 and sp.simplify(ls - 1) == 0
