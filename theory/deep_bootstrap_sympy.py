"""Symbolic (sympy) derivations behind :mod:`theory.deep_bootstrap`.

Every quantity is a Gaussian integral, done by sympy over the real line (no sampling):

* u ~ N(0, 1): c = E[u sgn u] = sqrt(2/pi), so beta_bar = sqrt(2/pi) beta*/||beta*||_V;
  L(beta_bar) = E(sgn u - c u)^2 = 1 - 2/pi; the residual moments e2 = E eps^2,
  e22 = E eps^2 u^2, e13 = E eps u^3 and E eps u = 0 (eps = sgn u - c u).
* the two-direction moment E[eps (x^T m) x x^T] for x = (u, w), u, w iid N(0, 1)
  (whitened coordinates with u along V^{1/2} beta*): it equals e13 m_1 e_1 e_1^T, i.e.
  kappa (a^T m) a a^T in the original coordinates; and E[eps^2 x x^T] = diag(e22, e2).
* the Gaussian fourth-moment identity E[x x^T M x x^T] = 2 V M V + tr(V M) V, from
  Isserlis' theorem E x_i x_j x_k x_l = V_ij V_kl + V_ik V_jl + V_il V_jk, for symbolic
  symmetric 3 x 3 V and M.
* the OLS excess risk of the sign link (Real World t -> inf, n > d), assembled from the
  conditional formula of :func:`theory.deep_bootstrap.sign_ols_excess_risk` with
  u = sqrt(R) theta: E|u_1| and E|u_1 u_2| by Gaussian integration, the chi-square
  moments E R^a = 2^a Gamma(n/2 + a) / Gamma(n/2) (a = 1/2, -1/2, -1) by gammasimp.

Each ``check_*`` takes the candidate value (the correct one by default) and returns whether
the derivation confirms it, so the same check rejects a wrong formula.
"""
from __future__ import annotations

import functools
import itertools

import sympy as sp

from claimcheck.theory.validation import check_int

__all__ = [
    "u",
    "w",
    "gaussian_expectation",
    "link_coefficient_expr",
    "sign_residual_moments",
    "check_sign_best_linear_risk",
    "check_sign_residual_moments",
    "cross_moment_matrix",
    "check_cross_moment",
    "check_fourth_moment_identity",
    "sign_ols_excess_risk_expr",
    "check_sign_ols_excess_risk",
]

u, w = sp.symbols("u w", real=True)
_PHI = sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi)


def gaussian_expectation(expr, var=u):
    """E[expr(var)] for var ~ N(0, 1), by integration over the real line (sgn and |.| allowed)."""
    dens = _PHI.subs(u, var)
    expr = sp.sympify(expr)
    # Split at 0 so that sign(var) and |var| become polynomials on each half-line.
    pos = sp.integrate((expr.subs({sp.sign(var): 1, sp.Abs(var): var}) * dens), (var, 0, sp.oo))
    neg = sp.integrate((expr.subs({sp.sign(var): -1, sp.Abs(var): -var}) * dens), (var, -sp.oo, 0))
    return sp.simplify(pos + neg)


@functools.lru_cache(maxsize=None)
def link_coefficient_expr():
    """c = E[u sgn(u)] = sqrt(2/pi)."""
    return gaussian_expectation(u * sp.sign(u))


@functools.lru_cache(maxsize=None)
def sign_residual_moments():
    """dict of E eps u, E eps^2, E eps^2 u^2, E eps u^3 for eps = sgn u - c u."""
    c = link_coefficient_expr()
    eps = sp.sign(u) - c * u
    return {
        "e1": gaussian_expectation(sp.expand(eps * u)),
        "e2": gaussian_expectation(sp.expand(eps**2)),
        "e22": gaussian_expectation(sp.expand(eps**2 * u**2)),
        "e13": gaussian_expectation(sp.expand(eps * u**3)),
    }


def check_sign_best_linear_risk(risk=1 - 2 / sp.pi, coefficient=sp.sqrt(2 / sp.pi)) -> bool:
    """c = argmin_b E(sgn u - b u)^2 = E[u sgn u] and min = risk (E sgn(u)^2 = 1)."""
    b = sp.symbols("b", real=True)
    obj = gaussian_expectation(sp.expand((sp.sign(u) - b * u) ** 2))
    crit = sp.solve(sp.diff(obj, b), b)
    if len(crit) != 1:
        return False
    ok_c = sp.simplify(crit[0] - coefficient) == 0
    ok_r = sp.simplify(obj.subs(b, crit[0]) - risk) == 0
    return bool(ok_c and ok_r)


def check_sign_residual_moments(e2=1 - 2 / sp.pi, e22=1 - 2 / sp.pi, e13=-sp.sqrt(2 / sp.pi)) -> bool:
    """The residual moments used by the Ideal World recursion (and E eps u = 0)."""
    mom = sign_residual_moments()
    return bool(sp.simplify(mom["e1"]) == 0
                and sp.simplify(mom["e2"] - e2) == 0
                and sp.simplify(mom["e22"] - e22) == 0
                and sp.simplify(mom["e13"] - e13) == 0)


def _expect_uw(expr):
    """E over independent u, w ~ N(0, 1) of a polynomial in w times a function of u."""
    poly = sp.Poly(sp.expand(expr), w)
    total = 0
    for (k,), coeff in poly.terms():
        wk = 0 if k % 2 else sp.factorial2(k - 1)  # E w^k
        if wk:
            total += wk * gaussian_expectation(coeff)
    return sp.simplify(total)


@functools.lru_cache(maxsize=None)
def cross_moment_matrix():
    """E[eps (x^T m) x x^T] and E[eps^2 x x^T] for x = (u, w) (whitened, u along V^{1/2} beta*)."""
    c = link_coefficient_expr()
    eps = sp.sign(u) - c * u
    m1, m2 = sp.symbols("m1 m2", real=True)
    x = sp.Matrix([u, w])
    xm = m1 * u + m2 * w
    K = (x * x.T).applyfunc(lambda e: _expect_uw(eps * xm * e))
    N = (x * x.T).applyfunc(lambda e: _expect_uw(eps**2 * e))
    return K, N, (m1, m2)


def check_cross_moment(kappa=-sp.sqrt(2 / sp.pi), e2=1 - 2 / sp.pi, e22=1 - 2 / sp.pi) -> bool:
    """E[eps (x^T m) x x^T] = kappa m_1 e_1 e_1^T and E[eps^2 x x^T] = diag(e22, e2)."""
    K, N, (m1, m2) = cross_moment_matrix()
    K_claim = sp.Matrix([[kappa * m1, 0], [0, 0]])
    N_claim = sp.Matrix([[e22, 0], [0, e2]])
    return bool(sp.simplify(K - K_claim) == sp.zeros(2, 2) and sp.simplify(N - N_claim) == sp.zeros(2, 2))


def check_fourth_moment_identity(trace_coefficient=1, vmv_coefficient=2, d: int = 3) -> bool:
    """E[x x^T M x x^T] = vmv_coefficient V M V + trace_coefficient tr(V M) V via Isserlis (symbolic V, M).

    ``d`` (1..6): the dimension of the symbolic matrices (the expansion grows like d^4)."""
    d = check_int("d", d, min_value=1, max_value=6)
    V = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"v{min(i, j)}{max(i, j)}"))
    M = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"m{min(i, j)}{max(i, j)}"))

    def e4(i, j, k, l):
        return V[i, j] * V[k, l] + V[i, k] * V[j, l] + V[i, l] * V[j, k]

    lhs = sp.zeros(d, d)
    for i, l in itertools.product(range(d), repeat=2):
        lhs[i, l] = sum(M[j, k] * e4(i, j, k, l) for j in range(d) for k in range(d))
    rhs = vmv_coefficient * V * M * V + trace_coefficient * (V * M).trace() * V
    return bool(sp.expand(lhs - rhs) == sp.zeros(d, d))


N_SYM, D_SYM = sp.symbols("n d", positive=True)


def _chi2_moment(a):
    """E R^a for R ~ chi^2_n (symbolic n)."""
    return sp.Integer(2)**a * sp.gamma(N_SYM / 2 + a) / sp.gamma(N_SYM / 2)


@functools.lru_cache(maxsize=None)
def sign_ols_excess_risk_expr():
    """E (beta_hat - beta_bar)^T V (beta_hat - beta_bar) as a rational function of (n, d).

    From E[excess | u] = (S_1/R - c)^2 + (n - S_1^2/R) k (1 + 1/R), k = (d-1)/((n-1)(n-d-1)),
    u = sqrt(R) theta, A = sum|theta_i| independent of R: E A = n E|u_1| / E R^{1/2} and
    E A^2 = 1 + n(n-1) E|u_1 u_2| / E R (E|u_1 u_2| = (E|u|)^2, E R = n).
    """
    n, d = N_SYM, D_SYM
    c = link_coefficient_expr()
    abs_u = gaussian_expectation(sp.Abs(u))  # sqrt(2/pi)
    half = sp.Rational(1, 2)
    ratio = sp.expand_func(_chi2_moment(-half) / _chi2_moment(half))  # E R^{-1/2} / E R^{1/2} = 1/(n-1)
    EA_Einvsqrt = n * abs_u * ratio
    EA2 = 1 + n * (n - 1) * abs_u**2 / n
    Einv = sp.expand_func(_chi2_moment(-1))  # 1/(n-2)
    first = EA2 * Einv - 2 * c * EA_Einvsqrt + c**2
    k = (d - 1) / ((n - 1) * (n - d - 1))
    second = (n - EA2) * k * (1 + Einv)
    return sp.factor(sp.together(first + second))


def check_sign_ols_excess_risk(noise=1 - 2 / sp.pi, correction=4 / sp.pi) -> bool:
    """E excess = noise d/(n-d-1) + correction/((n-1)(n-2)): the homoscedastic OLS risk with
    noise E eps^2 = 1 - 2/pi plus a d-independent misspecification term 4/(pi (n-1)(n-2))."""
    n, d = N_SYM, D_SYM
    candidate = noise * d / (n - d - 1) + correction / ((n - 1) * (n - 2))
    return bool(sp.simplify(sp.together(sign_ols_excess_risk_expr() - candidate)) == 0)
