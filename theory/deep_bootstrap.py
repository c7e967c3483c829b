"""The Deep Bootstrap toy: Real World vs Ideal World SGD for (misspecified) linear regression.

Model [NNS21, Sec. 7 / Fig. 7]: x ~ N(0, V) in R^d, y = sigma(<beta*, x>) with the link
sigma in {identity, sign}; predictor f_beta(x) = <beta, x>.

Conventions (used everywhere in this family):

* test loss ``L(beta) = E (y - <beta, x>)^2`` (no 1/2 factor);
* one SGD step on a batch of B points is the gradient step of the *half* squared loss,
  ``beta <- beta + (eta / B) sum_i x_i (y_i - <beta, x_i>)``, started at beta_0 = 0;
* s = ||beta*||_V = sqrt(beta*^T V beta*) > 0; u = <beta*, x> / s ~ N(0, 1);
* best linear predictor beta_bar = argmin L = c beta*/s with c = E[u sigma(s u)]:
  identity: beta_bar = beta*, L(beta_bar) = 0; sign: beta_bar = sqrt(2/pi) beta*/s,
  L(beta_bar) = 1 - 2/pi (E y^2 = 1);
* L(beta) = L(beta_bar) + (beta - beta_bar)^T V (beta - beta_bar) (E[x eps] = 0 for the
  residual eps = y - <beta_bar, x>).

Ideal World (online SGD, a fresh batch every step): with delta_t = beta_t - beta_bar,
m_t = E delta_t and C_t = E delta_t delta_t^T, *exactly* (no approximation; derivation in
:func:`ideal_world_loss` and :mod:`theory.deep_bootstrap_sympy`)::

    m_{t+1} = (I - eta V) m_t
    C_{t+1} = C_t - eta (V C_t + C_t V) + eta^2 (1 + 1/B) V C_t V + (eta^2/B) tr(V C_t) V
              + (eta^2/B) N - (2 eta^2/B) kappa (a^T m_t) a a^T,

a = V beta*/s, N = E[eps^2 x x^T] = e_2 (V - a a^T) + e_22 a a^T and kappa = E[eps u^3]
(all zero for the identity link; for the sign link e_2 = e_22 = 1 - 2/pi, so N = (1-2/pi) V,
and kappa = -sqrt(2/pi)). E L(beta_t) = L(beta_bar) + tr(V C_t).

Real World: the same SGD on n fixed samples, each epoch a fresh random permutation split
into floor(n/B) batches (the remainder is dropped, as ``drop_last``). During the first
epoch every point is fresh, so for t <= floor(n/B) the Real World *is* the Ideal World in
distribution. Full-batch GD (B = n) on isotropic V with the identity link has the closed
form beta_t - beta* = -(I - eta S_n)^t beta*, S_n = X^T X / n, so given the spectrum mu of
S_n (and beta* uniform relative to its eigenvectors) E L_t = s^2 (1/d) sum_k (1 - eta mu_k)^{2t},
-> s^2 (1 - n/d)_+ (the min-norm interpolator, [BHX19] / theory.ridgeless).

For the sign link with n > d, full-batch GD converges to the OLS fit (the only minimiser of
the train loss); its expected excess risk has the exact finite-n form of
:func:`sign_ols_excess_risk` (derivation there): the Real World's t -> inf plateau.

Sources::

  [NNS21] Nakkiran, Neyshabur, Sedghi, "The Deep Bootstrap Framework: Good Online Learners
          are Good Offline Generalizers", ICLR 2021 (arXiv:2010.08127), Fig. 7 (toy example).
  [BHX19] Belkin, Hsu, Xu, "Two models of double descent for weak features" (2019), Thm 1.
  Gaussian moments: E[x x^T M x x^T] = 2 V M V + tr(V M) V (Isserlis/Wick theorem).
"""
from __future__ import annotations

import math

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.theory.validation import (MAX_EXACT_INT, MAX_STEPS, check_array, check_bool, check_choice, check_int,
                                          check_real)
from claimcheck.theory.ridgeless import min_norm_risk_finite

optimize = lazy_module("scipy.optimize")  # imported on first use (claimcheck list/--help stay cheap)

__all__ = [
    "LINKS",
    "check_covariance",
    "check_beta_star",
    "check_link",
    "powerlaw_covariance",
    "default_beta_star",
    "link_coefficient",
    "best_linear_predictor",
    "best_linear_risk",
    "residual_moments",
    "population_loss",
    "sgd_stability_threshold",
    "second_moment_spectral_radius",
    "stable_second_moment",
    "ideal_world_loss",
    "gd_loss_given_spectrum",
    "real_world_gd_limit",
    "sign_ols_excess_risk",
]

LINKS = ("identity", "sign")
"""Supported links sigma: y = sigma(<beta*, x>)."""

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# --------------------------------------------------------------------------- validation
def check_link(link) -> str:
    """Return ``link`` if it is one of :data:`LINKS`, else ValueError naming both."""
    return check_choice("link", link, LINKS)


def check_covariance(V, name: str = "V") -> np.ndarray:
    """Return V as a symmetric PSD float matrix; ValueError if not square, symmetric, finite, PSD.

    >>> check_covariance([[1.0, 0.0], [0.0, -0.5]])
    Traceback (most recent call last):
    ...
    ValueError: V has eigenvalue -0.5, must be positive semi-definite (all eigenvalues >= 0)
    """
    A = np.asarray(check_real(name, V), dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {A.shape}")
    scale = max(1.0, float(np.abs(A).max()))
    if not np.allclose(A / scale, A.T / scale, rtol=0, atol=1e-12):
        raise ValueError(f"{name} is not symmetric (max |V - V^T| = {np.abs(A / 2 - A.T / 2).max() * 2:.3g}), must be symmetric")
    A = A / 2 + A.T / 2  # (A + A^T) / 2 without overflow of the sum
    lmin = float(np.linalg.eigvalsh(A / scale)[0]) * scale
    if lmin < -1e-12 * scale:
        raise ValueError(f"{name} has eigenvalue {lmin:.3g}, must be positive semi-definite (all eigenvalues >= 0)")
    return A


def _v_norm(b, V) -> float:
    """||b||_V = sqrt(b^T V b), formed with V and b rescaled (no overflow of the quadratic form)."""
    sv = max(float(np.abs(V).max()), 1e-300)
    sb = max(float(np.abs(b).max()), 1e-300)
    q = float((b / sb) @ (V / sv) @ (b / sb))
    return math.sqrt(max(q, 0.0)) * math.sqrt(sv) * sb if q > 0 else 0.0


def check_beta_star(beta_star, V):
    """(beta*, ||beta*||_V) after checking beta* is a finite vector of length d with ||beta*||_V > 0.

    ``V`` is a covariance as returned by :func:`check_covariance` (here only its shape and
    finiteness are checked; a V that is not PSD can give ||beta*||_V^2 <= 0, refused).
    """
    V = np.asarray(check_real("V", V), dtype=float)
    if V.ndim != 2 or V.shape[0] != V.shape[1] or V.shape[0] == 0:
        raise ValueError(f"V has shape {V.shape}, must be a non-empty square matrix (a covariance, see check_covariance)")
    b = np.asarray(check_real("beta_star", beta_star), dtype=float)
    if b.ndim != 1 or b.size != V.shape[0]:
        raise ValueError(f"beta_star has shape {b.shape}, must be a vector of length d={V.shape[0]}")
    s = _v_norm(b, V)
    if not s > 0:
        raise ValueError(f"||beta_star||_V^2={s * s}, must be > 0 (y would not depend on x)")
    if not math.isfinite(s):
        raise ValueError(f"||beta_star||_V = {s}, must be finite (rescale beta_star or V)")
    return b, s


def powerlaw_covariance(d: int, exponent: float = 0.0, trace: float = 1.0) -> np.ndarray:
    """Diagonal V with eigenvalues proportional to k^-exponent (k = 1..d), scaled to tr V = trace.

    exponent = 0 is isotropic V = (trace/d) I_d.

    >>> powerlaw_covariance(2, 1.0, 3.0).diagonal().tolist()
    [2.0, 1.0]
    """
    d = check_int("d", d, min_value=1, max_value=10**4)
    exponent = check_real("exponent", exponent, min_value=0, scalar=True)
    trace = check_real("trace", trace, min_value=0, include_min=False, scalar=True)
    lam = np.arange(1, d + 1, dtype=float) ** (-exponent)
    return np.diag(trace * lam / lam.sum())


def default_beta_star(V) -> np.ndarray:
    """beta* with equal coordinates in V's eigenbasis, scaled to ||beta*||_V = 1.

    Then direction k carries a share lambda_k / tr V of the signal (a "source condition"
    that makes the Ideal World's loss decay like a power law for a power-law spectrum).
    """
    V = check_covariance(V)
    lam, U = np.linalg.eigh(V)
    b = U @ np.ones(V.shape[0])
    s = _v_norm(b, V)
    if not s > 0:
        raise ValueError("V=0, must have a positive eigenvalue (no direction carries signal)")
    return b / s


# --------------------------------------------------------------------------- best linear predictor
def link_coefficient(link: str, s: float = 1.0) -> float:
    """c = E[u sigma(s u)], u ~ N(0, 1): identity s, sign sqrt(2/pi) (so beta_bar = c beta*/s).

    >>> round(link_coefficient("sign"), 6)
    0.797885
    """
    check_link(link)
    s = check_real("s", s, min_value=0, include_min=False, scalar=True)
    return s if link == "identity" else _SQRT_2_OVER_PI


def best_linear_predictor(beta_star, V, link: str) -> np.ndarray:
    """beta_bar = V^+ E[x y] = c beta*/||beta*||_V: beta* (identity), sqrt(2/pi) beta*/||beta*||_V (sign).

    .. math:: \\bar\\beta = \\sqrt{2/\\pi}\\,\\beta^*/\\|\\beta^*\\|_V \\quad(\\sigma = \\operatorname{sgn})

    Source: [NNS21] Fig. 7 model; Gaussian integral E[x sgn(u)] = (V beta*/s) E|u|.

    >>> best_linear_predictor([2.0, 0.0], np.eye(2), "sign").round(6).tolist()
    [0.797885, 0.0]
    """
    check_link(link)
    V = check_covariance(V)
    b, s = check_beta_star(beta_star, V)
    return link_coefficient(link, s) * b / s


def best_linear_risk(link: str, s: float = 1.0) -> float:
    """Irreducible risk L(beta_bar) = E y^2 - c^2: 0 (identity), 1 - 2/pi (sign).

    .. math:: L(\\bar\\beta) = \\mathbb E\\,(\\operatorname{sgn}(u) - \\sqrt{2/\\pi}\\,u)^2 = 1 - 2/\\pi

    Source: [NNS21] Fig. 7 (Setting B); derivation in :mod:`theory.deep_bootstrap_sympy`.

    >>> round(best_linear_risk("sign"), 6)
    0.36338
    """
    check_link(link)
    check_real("s", s, min_value=0, include_min=False, scalar=True)
    return 0.0 if link == "identity" else 1.0 - 2.0 / math.pi


def residual_moments(link: str) -> dict[str, float]:
    """Moments of eps = sigma(s u) - c u needed by the Ideal World recursion (independent of s for sign).

    ``e2`` = E eps^2, ``e22`` = E eps^2 u^2, ``e13`` = E eps u^3 (E eps u = 0 by the choice of c);
    identity: all 0; sign: 1 - 2/pi, 1 - 2/pi, -sqrt(2/pi).

    >>> {k: round(v, 6) for k, v in residual_moments("sign").items()}
    {'e2': 0.36338, 'e22': 0.36338, 'e13': -0.797885}
    """
    check_link(link)
    if link == "identity":
        return {"e2": 0.0, "e22": 0.0, "e13": 0.0}
    r = 1.0 - 2.0 / math.pi
    return {"e2": r, "e22": r, "e13": -_SQRT_2_OVER_PI}


def population_loss(beta, beta_star, V, link: str):
    """L(beta) = L(beta_bar) + (beta - beta_bar)^T V (beta - beta_bar); ``beta`` may be (..., d).

    >>> round(population_loss([0.0, 0.0], [1.0, 0.0], np.eye(2), "sign"), 6)
    1.0
    """
    V = check_covariance(V)
    b, s = check_beta_star(beta_star, V)
    bar = link_coefficient(link, s) * b / s
    beta = np.asarray(check_real("beta", beta), dtype=float)
    if beta.ndim < 1 or beta.shape[-1] != V.shape[0]:
        raise ValueError(f"beta has shape {beta.shape}, must be (..., d) with d={V.shape[0]} (one coefficient vector per row)")
    D = beta - bar
    q = np.einsum("...i,ij,...j->...", D, V, D)
    out = best_linear_risk(link) + q
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------- stability
def _eig(V):
    lam, U = np.linalg.eigh(V)
    return np.clip(lam, 0.0, None), U


def _check_batch(batch):
    return check_int("batch", batch, min_value=1, max_value=MAX_EXACT_INT)


def second_moment_spectral_radius(V, batch: int, eta: float) -> float:
    """Spectral radius of the Ideal World map C -> E[(I - eta S_B) C (I - eta S_B)].

    In V's eigenbasis the map acts on the diagonal as D + (eta^2/B) l l^T with
    D_i = (1 - eta l_i)^2 + eta^2 l_i^2 / B; off-diagonal entries are scaled by factors
    bounded by sqrt(D_i D_j), so the radius is the largest eigenvalue of that d x d matrix.
    """
    V = check_covariance(V)
    B = _check_batch(batch)
    eta = check_real("eta", eta, min_value=0, include_min=False, scalar=True)
    lam, _ = _eig(V)
    with np.errstate(over="ignore", invalid="ignore"):
        el = eta * lam  # (eta lambda)^2 as el * el: no OverflowError from a Python float power
        M = np.diag((1 - el) ** 2 + el * el / B) + np.outer(el, el) / B
    if not np.isfinite(M).all():  # eta lambda beyond ~1e154: the radius itself exceeds the float range
        return math.inf
    return float(np.linalg.eigvalsh(M)[-1])


def sgd_stability_threshold(V, batch: int) -> float:
    """Largest eta for which online SGD is mean-square stable (second-moment map radius < 1).

    rho(eta) < 1 iff eta l_i (1 + 1/B) < 2 for all i and
    (eta/B) sum_i l_i / (2 - eta l_i (1 + 1/B)) < 1 (secular equation of D + (eta^2/B) l l^T).
    Isotropic V = v I_d: eta_max = 2B / (v (d + B + 1)).

    Source: the Gaussian fourth-moment identity E[x x^T M x x^T] = 2 V M V + tr(V M) V.

    >>> sgd_stability_threshold(np.eye(10) / 10, 1)
    1.6666666666666665
    """
    V = check_covariance(V)
    B = _check_batch(batch)
    lam, _ = _eig(V)
    lam = lam[lam > 0]
    if lam.size == 0:
        raise ValueError("V=0, must have a positive eigenvalue")
    if np.allclose(lam, lam[0], rtol=1e-12, atol=0) and lam.size == V.shape[0]:
        return float(2.0 * B / (lam[0] * (V.shape[0] + B + 1)))
    k = 1.0 + 1.0 / B
    hi = 2.0 / (k * lam.max())

    def f(eta):
        return eta / B * float(np.sum(lam / (2.0 - eta * lam * k))) - 1.0

    top = hi * (1 - 1e-15)
    if f(top) <= 0.0:  # huge batch: the root lies within 1e-15 (relative) of 2/(k lambda_max)
        return float(top)
    return float(optimize.brentq(f, 0.0, top, xtol=1e-300, rtol=1e-13))


def stable_second_moment(V, batch: int, eta: float) -> np.ndarray:
    """The PSD Perron direction C* of the second-moment map at ``eta`` (tr(V C*) = 1).

    In V's eigenbasis C* is diagonal with c_i proportional to l_i / (1 - D_i); at
    eta = eta_max the map preserves it exactly: E[(I - eta S_B) C* (I - eta S_B)] = C*.
    Raises ValueError where some D_i >= 1 (then no such diagonal fixed direction exists).
    """
    V = check_covariance(V)
    B = _check_batch(batch)
    eta = check_real("eta", eta, min_value=0, include_min=False, scalar=True)
    lam, U = _eig(V)
    el = eta * lam
    with np.errstate(over="ignore", invalid="ignore"):
        one_minus_D = 1.0 - ((1 - el) ** 2 + el * el / B)
    if np.any(one_minus_D[lam > 0] <= 0):
        raise ValueError(f"eta={eta}, must be < 2B/((B+1) lambda_max) = {2 * B / ((B + 1) * lam.max()):.6g} for a diagonal Perron direction")
    c = np.where(lam > 0, lam / np.where(lam > 0, one_minus_D, 1.0), 0.0)
    c = c / float(np.sum(lam * c))
    return (U * c) @ U.T


# --------------------------------------------------------------------------- Ideal World
def _ideal_recursion(lam, a, m0, link, B, eta, steps, *, trace_term=1.0, residual=True, cross_term=True, floor=None):
    """E L(beta_t), t = 0..steps, in V's eigenbasis (lam: eigenvalues; a, m0: coordinates).

    ``trace_term``, ``residual``, ``cross_term`` and ``floor`` exist for mutation tests
    (0 / False drop those terms; ``floor`` replaces L(beta_bar)).
    """
    mom = dict(residual_moments(link)) if residual else {"e2": 0.0, "e22": 0.0, "e13": 0.0}
    if not cross_term:
        mom["e13"] = 0.0
    # Every term of the C recursion is elementwise in V's eigenbasis (C * F, diagonal, N, a a^T)
    # and the loss reads only diag(C), so the diagonal closes on itself: O(d) per step, the
    # same floating-point operations on the diagonal entries as the full d x d update.
    a2 = a * a  # diag(a a^T)
    N = mom["e2"] * (lam - a2) + mom["e22"] * a2  # diag(N)
    c = m0 * m0  # diag(m0 m0^T)
    m = m0.copy()
    LL = lam * lam
    Lp = lam + lam
    # tr(V C) = lam . diag(C) is read through a strided diagonal view, as np.diag(C) of the d x d
    # form was (BLAS sums a strided vector in another order than a contiguous one: bit-identical values)
    cd = np.einsum("ii->i", np.zeros((lam.size, lam.size)))
    base = best_linear_risk(link) if floor is None else floor
    out = np.empty(steps + 1)
    cd[:] = c
    out[0] = base + float(lam @ cd)
    k = 1.0 + 1.0 / B
    F = 1.0 - eta * Lp + eta**2 * k * LL
    NB = (eta**2 / B) * N
    tr_coef = (eta**2 / B) * trace_term
    cross = (2.0 * eta**2 / B) * mom["e13"]
    for t in range(steps):
        trVC = float(lam @ cd)
        c = c * F + (tr_coef * trVC * lam) + NB - (cross * float(a @ m)) * a2
        m = m - eta * lam * m
        cd[:] = c
        out[t + 1] = base + float(lam @ cd)
    return out


def ideal_world_loss(V, beta_star, link: str, batch: int, eta: float, steps: int, *, allow_unstable: bool = False,
                     **_mutation) -> np.ndarray:
    """Exact expected test loss E L(beta_t), t = 0..steps, of online SGD (fresh batches).

    .. math::
        C_{t+1} = C_t - \\eta(VC_t + C_tV) + \\eta^2(1+\\tfrac1B)VC_tV + \\tfrac{\\eta^2}{B}\\operatorname{tr}(VC_t)V
                 + \\tfrac{\\eta^2}{B}\\mathbb E[\\varepsilon^2xx^\\top] - \\tfrac{2\\eta^2}{B}\\mathbb E[\\varepsilon u^3](a^\\top m_t)aa^\\top

    Derivation: delta_{t+1} = (I - eta S_B) delta_t + eta g_B with S_B = (1/B) sum x_i x_i^T,
    g_B = (1/B) sum x_i eps_i; E S_B M S_B = V M V + (V M V + tr(V M) V)/B (Gaussian fourth
    moments), E g_B g_B^T = E[eps^2 x x^T]/B, and the cross term E[S_B m g_B^T] =
    E[eps (x^T m) x x^T]/B = kappa (a^T m) a a^T / B (decompose x = a u + r, r independent
    of u; odd moments of r and E[eps u] vanish). Every term is exact: nothing approximated.
    Raises ValueError if eta >= eta_max (the recursion diverges), unless ``allow_unstable``
    (then the second moments grow geometrically: for drawing the divergence). (``_mutation`` keywords of
    the private recursion drop single terms; they exist only for the mutation tests.)

    Source: [NNS21] Fig. 7 (Ideal World); moments in :mod:`theory.deep_bootstrap_sympy`.

    >>> V = np.eye(4) / 4
    >>> ideal_world_loss(V, default_beta_star(V), "identity", 1, 0.5, 2).round(4).tolist()
    [1.0, 0.8438, 0.7119]
    """
    check_link(link)
    V = check_covariance(V)
    b, s = check_beta_star(beta_star, V)
    B = _check_batch(batch)
    eta = check_real("eta", eta, min_value=0, include_min=False, scalar=True)
    steps = check_int("steps", steps, min_value=0, max_value=MAX_STEPS)
    check_bool("allow_unstable", allow_unstable)
    eta_max = sgd_stability_threshold(V, B)
    if eta >= eta_max and not allow_unstable:
        raise ValueError(f"eta={eta}, must be < eta_max(V, B={B}) = {eta_max:.6g} (mean-square stability of SGD)")
    lam, U = _eig(V)
    a = U.T @ (V @ b / s)
    m0 = -U.T @ (link_coefficient(link, s) * b / s)
    return _ideal_recursion(lam, a, m0, link, B, eta, steps, **_mutation)


# --------------------------------------------------------------------------- Real World (GD)
def gd_loss_given_spectrum(mu, d: int, eta: float, steps, s2: float = 1.0) -> np.ndarray:
    """E[L(beta_t) | spectrum of S_n] for full-batch GD, identity link, isotropic V.

    .. math:: \\mathbb E[L_t\\mid\\mu] = \\frac{s^2}{d}\\Big(\\sum_{k\\le m}(1-\\eta\\mu_k)^{2t} + (d-m)\\Big)

    ``mu``: (reps, m) nonzero eigenvalues of S_n = X^T X / n (m = min(n, d)); ``steps``:
    step counts (``inf`` allowed: the null space term only, the min-norm limit).
    Returns (reps, len(steps)). Averaging over beta*'s direction relative to the (Haar)
    eigenvectors of S_n is exact; the remaining expectation over mu is Monte Carlo.
    """
    mu = np.asarray(check_real("mu", mu, min_value=0), dtype=float)
    if mu.ndim not in (1, 2) or mu.size == 0:
        raise ValueError(f"mu has shape {mu.shape}, must be a non-empty (reps, m) array of eigenvalues (or one row (m,))")
    mu = np.atleast_2d(mu)
    d = check_int("d", d, min_value=mu.shape[1], max_value=MAX_EXACT_INT)
    eta = check_real("eta", eta, min_value=0, include_min=False, scalar=True)
    t = check_array("steps", steps, min_value=0, allow_inf=True)
    s2 = check_real("s2", s2, min_value=0, scalar=True)
    if s2 == 0.0:
        return np.zeros((mu.shape[0], t.size))
    finite_t = np.where(np.isinf(t), 0.0, t)
    base = np.abs(1.0 - eta * mu)[:, :, None]
    with np.errstate(under="ignore", over="ignore"):
        pw = base ** (2.0 * finite_t)[None, None, :]
    # t = inf: the limit of |1 - eta mu|^(2t): 0 (stable), 1 (|1 - eta mu| = 1), inf (divergent)
    limit = np.where(base < 1, 0.0, np.where(base == 1, 1.0, math.inf))
    pw = np.where(np.isinf(t)[None, None, :], limit, pw)
    with np.errstate(over="ignore"):
        return s2 / d * (pw.sum(axis=1) + (d - mu.shape[1]))


def real_world_gd_limit(n: int, d: int, s2: float = 1.0) -> float:
    """t -> inf test loss of full-batch GD from 0, identity link, isotropic V: s^2 (1 - n/d)_+.

    GD from 0 stays in the row space of X and converges to the min-norm interpolator; the
    loss is the noiseless min-norm risk of :func:`theory.ridgeless.min_norm_risk_finite`.
    Source: [BHX19] Thm 1 (noise 0); [NNS21] Setting A (Real World plateau).

    >>> real_world_gd_limit(20, 50)
    0.6
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    d = check_int("d", d, min_value=1, max_value=MAX_EXACT_INT)
    s2 = check_real("s2", s2, min_value=0, scalar=True)
    return float(min_norm_risk_finite(n, d, s2, 0.0))


def sign_ols_excess_risk(n: int, d: int) -> float:
    """Exact E (beta_hat - beta_bar)^T V (beta_hat - beta_bar) of OLS, sign link, x ~ N(0, V), V > 0, n >= d + 2.

    .. math::
        \\mathbb E\\,(\\hat\\beta-\\bar\\beta)^\\top V(\\hat\\beta-\\bar\\beta)
          = \\Big(1-\\frac2\\pi\\Big)\\frac{d}{n-d-1} + \\frac{4}{\\pi(n-1)(n-2)}

    The first term is the homoscedastic OLS risk with noise E eps^2 = 1 - 2/pi, i.e.
    :func:`theory.ridgeless.min_norm_risk_finite` (n, d, ., 1 - 2/pi) for p = d <= n - 2, which
    equals the sandwich tr(V^{-1} E[eps^2 x x^T])/(n-d-1) here because E[eps^2 x x^T] =
    (1 - 2/pi) V. The second is the misspecification correction: eps = sgn u - sqrt(2/pi) u is
    uncorrelated with x but not independent of it. It does not depend on d, V or beta*, and is
    O(1/n^2) (0.04% of the total at n = 100, d = 50; 33% at n = 8, d = 1). The Real World's
    t -> inf test loss (full-batch GD from 0, eta < 2/lambda_max(S_n), converges to beta_hat)
    is (1 - 2/pi) + this.

    Derivation (whitened z = V^{-1/2} x, rotated so that u = z_1 = <beta*, x>/||beta*||_V; the
    residual eps_i = sgn u_i - c u_i, c = sqrt(2/pi), depends on the first column u of Z only;
    excess = ||gamma||^2, gamma = (Z^T Z)^{-1} Z^T eps): Frisch-Waugh with Z = [u, W] gives
    gamma_W = (G^T G)^{-1} G^T r with G = M_u W ((n-1) x (d-1) standard Gaussian given u) and
    r = M_u eps = M_u sgn(u); ``gamma_u = u^T eps/|u|^2 - h^T gamma_W/|u|`` with ``h = W^T u/|u|`` ~
    N(0, I_{d-1}) independent of G. E tr (G^T G)^{-1} = (d-1)/(n-d-1) (inverse Wishart) and
    rotation invariance give
    E[excess | u] = (S_1/R - c)^2 + (n - S_1^2/R) (d-1)/((n-1)(n-d-1)) (1 + 1/R),
    ``S_1 = sum |u_i|``, ``R = |u|^2``. With u = sqrt(R) theta (theta uniform on the sphere,
    independent of R ~ chi^2_n): E(S_1^2/R) = 1 + 2(n-1)/pi, E(1/R) = 1/(n-2),
    E(S_1/R) = sqrt(2/pi) n/(n-1); collecting terms gives the formula
    (:func:`theory.deep_bootstrap_sympy.check_sign_ols_excess_risk`).

    ``inf`` at n = d + 1 (E tr of an inverse Wishart with n - d - 1 = 0; for d = 1 also
    E(1/R) = inf at n = 2). n <= d is not OLS (the interpolating regime) and raises.

    Source: [NNS21] Setting B (Real World t -> inf); inverse-Wishart moments as in [BHX19] Thm 1.

    >>> round(sign_ols_excess_risk(100, 50), 6)
    0.370927
    >>> sign_ols_excess_risk(11, 10)
    inf
    """
    d = check_int("d", d, min_value=1, max_value=MAX_EXACT_INT)
    n = check_int("n", n, min_value=d + 1, max_value=MAX_EXACT_INT)
    if n == d + 1:
        return math.inf
    return (1.0 - 2.0 / math.pi) * d / (n - d - 1) + 4.0 / (math.pi * (n - 1) * (n - 2))
