"""Ridge and ridgeless (minimum-norm) least squares: exact and asymptotic excess risk.

Conventions (DESIGN.md): x ~ N(0, Sigma), Sigma = I_p unless stated; y = x^T beta + eps,
eps ~ N(0, sigma^2); ``signal`` = ||beta||^2 = r^2, ``noise`` = sigma^2, ``gamma`` = p / n.
Excess risk = E ||beta_hat - beta||_Sigma^2 (test noise excluded).
Ridge: argmin_b (1/n)||y - X b||^2 + lam ||b||^2; min-norm is lam -> 0+.

Singular points return ``inf`` (never NaN): the min-norm variance term
sigma^2 tr((X^T X)^{-1}) has infinite mean at p in {n-1, n, n+1} (inverse-Wishart moments
need ``|n - p| >= 2``) and diverges at gamma = 1 in the limit. With noise = 0 the variance
term vanishes and the risk is finite everywhere.

Sources::

  [BHX19] Belkin, Hsu, Xu, "Two models of double descent for weak features" (2019), Thm 1.
  [HMRT22] Hastie, Montanari, Rosset, Tibshirani, "Surprises in high-dimensional ridgeless
           least squares interpolation", Ann. Statist. 2022: Thm 1 (isotropic min-norm),
           Thm 2 / Cor. 5 (isotropic ridge, lambda* = sigma^2 gamma / r^2).
  [Bach23] Bach, "High-dimensional analysis of double descent for linear regression with
           random projections" (2023), Prop. 1-2: deterministic equivalents for any Sigma.
  [Nak19] Nakkiran, "More data can hurt for linear regression: sample-wise double descent" (2019).
  [NVKM20] Nakkiran, Venkat, Kakade, Ma, "Optimal regularization can mitigate double
           descent" (ICLR 2021), Thm 1: optimally tuned ridge risk is monotone in n.
"""
from __future__ import annotations

import math

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.theory.validation import (MAX_EXACT_INT, as_output, check_array, check_broadcast, check_int, check_int_array,
                                          check_real)

optimize = lazy_module("scipy.optimize")  # imported on first use (claimcheck list/--help stay cheap)

__all__ = [
    "min_norm_risk_finite",
    "min_norm_risk_asymptotic",
    "samplewise_risk",
    "samplewise_rise_start",
    "mp_stieltjes",
    "mp_stieltjes_derivative",
    "ridge_risk_asymptotic",
    "optimal_ridge_lambda",
    "optimal_ridge_risk_asymptotic",
    "effective_regularization",
    "ridge_risk_anisotropic",
    "powerlaw_spectrum",
]


def _check_signal_noise(signal, noise):
    return (
        check_real("signal", signal, min_value=0, scalar=True),
        check_real("noise", noise, min_value=0, scalar=True),
    )


def min_norm_risk_finite(n: int, p: int, signal: float, noise: float) -> float:
    """Exact expected excess risk of min-norm least squares, isotropic Gaussian design.

    .. math::
        \\mathbb E R = \\begin{cases}
          \\sigma^2 \\frac{p}{n-p-1} & p \\le n-2 \\\\
          r^2 (1 - \\frac{n}{p}) + \\sigma^2 \\frac{n}{p-n-1} & p \\ge n+2
        \\end{cases}

    and ``inf`` for p in {n-1, n, n+1} when noise > 0 (E tr W^{-1} diverges for a Wishart
    W whose degrees of freedom exceed its dimension by less than 2).
    Source: [BHX19] Thm 1; [HMRT22] Sec. 2 (finite-sample inverse-Wishart moments).

    >>> min_norm_risk_finite(n=100, p=50, signal=1.0, noise=1.0)
    1.0204081632653061
    >>> min_norm_risk_finite(n=100, p=100, signal=1.0, noise=1.0)
    inf
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    p = check_int("p", p, min_value=1, max_value=MAX_EXACT_INT)
    signal, noise = _check_signal_noise(signal, noise)
    bias = signal * (1.0 - n / p) if p > n else 0.0
    if noise == 0.0:
        return bias
    if p <= n - 2:
        return noise * p / (n - p - 1)
    if p >= n + 2:
        return bias + noise * n / (p - n - 1)
    return math.inf


def samplewise_rise_start(p: int, signal: float, noise: float) -> float:
    """Where the min-norm risk starts to rise in n at fixed p: n* = p - 1 - (sigma / r) sqrt(p (p - 1)),
    sigma^2 = ``noise``, r^2 = ``signal``.

    For n < p the finite risk R(n) = r^2 (1 - n/p) + sigma^2 n / (p - n - 1) has
    dR/dn = -r^2/p + sigma^2 (p - 1)/(p - n - 1)^2, positive iff (p - n - 1)^2 < (sigma/r)^2 p (p - 1):
    R decreases for n < n* and increases on (n*, p - 1) up to the interpolation peak (more data
    hurts there). When r <= sigma, n* < 0: the risk rises at every n < p - 1. ``-inf`` for r = 0.
    Source: derivative of [BHX19] Thm 1 (cf. Nakkiran 2019, Sec. 2, sample-wise double descent).

    >>> round(samplewise_rise_start(p=30, signal=2.0, noise=0.5), 3)
    14.252
    >>> samplewise_rise_start(p=40, signal=1.0, noise=1.0) < 0
    True
    """
    p = check_int("p", p, min_value=2, max_value=MAX_EXACT_INT)
    signal, noise = _check_signal_noise(signal, noise)
    if signal == 0.0:
        return -math.inf
    return p - 1 - math.sqrt(noise / signal) * math.sqrt(p * (p - 1))


def min_norm_risk_asymptotic(gamma, signal: float, noise: float):
    """Limiting excess risk of min-norm least squares as n, p -> inf with p/n -> gamma.

    .. math::
        R(\\gamma) = \\sigma^2\\frac{\\gamma}{1-\\gamma}\\ (\\gamma<1),\\qquad
        R(\\gamma) = r^2\\Big(1-\\frac1\\gamma\\Big) + \\frac{\\sigma^2}{\\gamma-1}\\ (\\gamma>1),

    ``inf`` at gamma = 1 when noise > 0 (the interpolation peak). Accepts arrays.
    Source: [HMRT22] Thm 1.

    >>> min_norm_risk_asymptotic(gamma=2.0, signal=1.0, noise=1.0)
    1.5
    """
    gamma = check_real("gamma", gamma, min_value=0, include_min=False)
    signal, noise = _check_signal_noise(signal, noise)
    g = np.asarray(gamma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # 1/g overflows for subnormal g
        under = noise * g / (1.0 - g) if noise > 0 else np.zeros_like(g)
        over = signal * (1.0 - 1.0 / g) + (noise / (g - 1.0) if noise > 0 else 0.0)
    out = np.where(g < 1, under, np.where(g > 1, over, math.inf if noise > 0 else 0.0))
    return as_output(out)


def samplewise_risk(n_values, p: int, signal: float, noise: float) -> np.ndarray:
    """Finite-sample min-norm risk as a function of the sample size n at fixed p.

    Evaluates :func:`min_norm_risk_finite` along ``n_values``: the risk rises as n grows
    towards p (more data hurts) and peaks at n = p (``inf`` for n in {p-1, p, p+1}).
    Source: [Nak19] Sec. 2.

    >>> samplewise_risk([10, 30], p=20, signal=1.0, noise=0.25).round(3)
    array([0.778, 0.556])
    """
    p = check_int("p", p, min_value=1, max_value=MAX_EXACT_INT)
    ns = check_int_array("n_values", n_values, min_value=1, max_value=MAX_EXACT_INT)
    return np.array([min_norm_risk_finite(n, p, signal, noise) for n in ns.tolist()], dtype=float)


def _mp_scaled(g, lam):
    """(lm, r, s) for the MP quadratic at z = -lam, free of overflow for any finite g, lam:
    s = max(1, g, lam), r = root / s with root = sqrt(b^2 + 4 g lam), b = 1 - g + lam, and
    lm = lam m(-lam) in [0, 1] (the rationalised root for b > 0, where no cancellation occurs,
    the direct one for b <= 0, where g = s). Every intermediate is O(1)."""
    s = np.maximum(1.0, np.maximum(g, lam))
    gs, ls = g / s, lam / s
    bs = (1.0 / s - gs) + ls
    r = np.hypot(bs, 2.0 * np.sqrt(gs) * np.sqrt(ls))
    with np.errstate(divide="ignore", invalid="ignore"):  # the branch np.where discards
        lm = np.where(bs > 0, 2.0 * ls / (bs + r), (r - bs) / (2.0 * gs))
    return lm, r, s, bs


def mp_stieltjes(z, gamma):
    """Stieltjes transform m(z) = int dmu(s)/(s - z) of the Marchenko-Pastur law, at z = -lam.

    For the spectrum of X^T X / n, X with iid N(0,1) entries and p/n -> gamma, m solves
    the quadratic ``gamma z m^2 - (1 - gamma - z) m + 1 = 0``. This function takes
    ``z = -lam`` with lam > 0 (or lam = 0 for gamma < 1) and returns the root with m > 0,
    evaluated without cancellation. Source: [HMRT22] Sec. 5, eq. (5.2).

    >>> round(mp_stieltjes(z=-1.0, gamma=0.5), 6)
    0.561553
    """
    gamma = check_real("gamma", gamma, min_value=0, include_min=False)
    z = check_real("z", z, max_value=0)
    z, g = check_broadcast(z=z, gamma=gamma)
    return as_output(_mp_m(g, 0.0 - z))  # 0 - z: z = 0 gives +0.0, not -0.0


def _mp_m(g, lam):
    """m(-lam) from :func:`_mp_scaled`: (-b + root) / (2 gamma lam) is exact for b < 0; the
    rationalised 2 / (b + root) avoids cancellation for b > 0 and gives 1/(1-gamma) at lam = 0.
    At lam = 0 with gamma >= 1, m = +inf (atom at 0 for gamma > 1; density ~ s^{-1/2} at
    gamma = 1). Inputs are rescaled by s = max(1, gamma, lam), so no intermediate overflows."""
    lm, r, s, bs = _mp_scaled(g, lam)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(bs > 0, 2.0 / (bs + r) / s, np.where(lam > 0, lm / lam, math.inf))


def mp_stieltjes_derivative(z, gamma):
    """m'(z) of the Marchenko-Pastur Stieltjes transform at z = -lam: int dmu(s)/(s + lam)^2.

    Implicit differentiation of the quadratic gives m' = m (gamma m + 1) / sqrt(D), with
    D = (1 - gamma + lam)^2 + 4 gamma lam. Source: [HMRT22] Sec. 5.

    >>> round(mp_stieltjes_derivative(z=0.0, gamma=0.5), 6)  # E[1/s^2] = 1/(1-gamma)^3
    8.0
    """
    gamma = check_real("gamma", gamma, min_value=0, include_min=False)
    z = check_real("z", z, max_value=0)
    z, g = check_broadcast(z=z, gamma=gamma)
    lam = 0.0 - z
    m = _mp_m(g, lam)
    _, r, s, _ = _mp_scaled(g, lam)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # m (gamma m + 1) / root with root = s r: m (gamma/s m + 1/s) / r
        return as_output(m * ((g / s) * m + 1.0 / s) / r)


def ridge_risk_asymptotic(gamma, lam, signal: float, noise: float):
    """Limiting excess risk of ridge regression, isotropic features, via m = m(-lam).

    .. math::
        R(\\gamma, \\lambda) = r^2 \\lambda^2 m'(-\\lambda)
            + \\sigma^2 \\gamma \\big(m(-\\lambda) - \\lambda m'(-\\lambda)\\big)

    (bias + variance). lam = 0 gives :func:`min_norm_risk_asymptotic`.
    Source: [HMRT22] Thm 2 and Cor. 5; [Bach23] Prop. 2.

    >>> round(ridge_risk_asymptotic(gamma=2.0, lam=0.5, signal=1.0, noise=1.0), 6)
    0.902044
    """
    gamma = check_real("gamma", gamma, min_value=0, include_min=False)
    lam = check_real("lam", lam, min_value=0)
    signal, noise = _check_signal_noise(signal, noise)
    g, la = check_broadcast(gamma=gamma, lam=lam)
    out = np.empty(g.shape)
    zero = la == 0
    if zero.any():
        out[zero] = min_norm_risk_asymptotic(g[zero], signal, noise)
    pos = ~zero
    if pos.any():
        gp, lp = g[pos], la[pos]
        # Same formula, rewritten with the MP quadratic so that nothing cancels or overflows
        # as lam -> 0 (for gamma > 1, m and lam m' both carry the atom's (1 - 1/gamma)/lam):
        # with lm = lam m(-lam) in [0, 1] and root = sqrt(b^2 + 4 gamma lam), b = 1 - gamma + lam,
        #   lam^2 m' = lm (gamma lm + lam) / root,   m - lam m' = (1 - lm) / root.
        # Everything divided by s = max(1, gamma, lam) (see _mp_scaled): no overflow anywhere.
        lm, r, sc, _ = _mp_scaled(gp, lp)
        gs, ls = gp / sc, lp / sc
        with np.errstate(over="ignore"):
            out[pos] = (signal * lm * (gs * lm + ls) + noise * gs * (1.0 - lm)) / r
    return as_output(out)


def optimal_ridge_lambda(gamma, signal: float, noise: float):
    """Risk-minimising ridge penalty lambda* = sigma^2 gamma / r^2 (objective scaled by 1/n).

    It is the posterior mean under the prior beta ~ N(0, r^2/p I), hence optimal among
    ridge estimators at every finite (n, p) for isotropic Gaussian x (the risk of a
    linear-in-y estimator depends on beta's distribution only through E[beta beta^T],
    and rotation invariance makes fixed-beta and random-beta risks equal).
    ``inf`` when signal = 0 (shrinking to 0 is optimal). Source: [HMRT22] Cor. 5; [NVKM20] Thm 1.

    >>> optimal_ridge_lambda(gamma=2.0, signal=1.0, noise=0.5)
    1.0
    """
    gamma = check_real("gamma", gamma, min_value=0, include_min=False)
    signal, noise = _check_signal_noise(signal, noise)
    if signal == 0.0:
        return as_output(np.full(np.shape(gamma), math.inf))
    return as_output(noise * np.asarray(gamma, float) / signal)


def optimal_ridge_risk_asymptotic(gamma, signal: float, noise: float):
    """Limiting risk of optimally tuned ridge: R* = sigma^2 gamma m(-lambda*), increasing in gamma.

    At lambda* the bias and variance derivatives cancel and R collapses to
    sigma^2 gamma m(-lambda*) (checked symbolically in :mod:`theory.ridgeless_sympy`).
    No double descent: R* is smooth and monotone in gamma. Source: [HMRT22] Cor. 5; [NVKM20].

    >>> round(optimal_ridge_risk_asymptotic(gamma=1.0, signal=1.0, noise=1.0), 6)
    0.618034
    """
    gamma = check_real("gamma", gamma, min_value=0, include_min=False)
    signal, noise = _check_signal_noise(signal, noise)
    g = np.asarray(gamma, float)
    if signal == 0.0:
        return as_output(np.zeros_like(g))
    if noise == 0.0:
        return min_norm_risk_asymptotic(gamma, signal, 0.0)
    with np.errstate(over="ignore"):
        lam = noise * g / signal
    # sigma^2 gamma m(-lam*) = r^2 lam* m(-lam*) = r^2 lm: bounded by r^2, and lm -> 1 as lam* -> inf
    lm = np.where(np.isinf(lam), 1.0, _mp_scaled(g, np.where(np.isinf(lam), 1.0, lam))[0])
    return as_output(signal * lm)


def powerlaw_spectrum(p: int, alpha: float) -> np.ndarray:
    """Eigenvalues s_i proportional to i^(-alpha), i = 1..p, normalised so that tr(Sigma) = p.

    >>> powerlaw_spectrum(3, 0.0)
    array([1., 1., 1.])
    """
    p = check_int("p", p, min_value=1, max_value=10**8)
    alpha = check_real("alpha", alpha, min_value=0, scalar=True)
    s = np.arange(1, p + 1, dtype=float) ** (-alpha)
    return s * (p / s.sum())


def effective_regularization(n: int, spectrum, lam: float) -> float:
    """Effective regularisation kappa solving lam = kappa (1 - df1(kappa)/n).

    df1(kappa) = tr(Sigma (Sigma + kappa I)^{-1}). For lam > 0 the root is unique and
    positive; for lam = 0 it is 0 when p < n and the root of df1(kappa) = n when p > n
    (``inf`` is never returned; p = n with lam = 0 has kappa = 0 and a singular risk).
    Source: [Bach23] eq. (4); [HMRT22] Thm 5 (c_0 = 1/(gamma kappa)).
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    s = check_array("spectrum", spectrum, min_value=0, include_min=False)
    lam = check_real("lam", lam, min_value=0, scalar=True)
    if lam > 0 and lam + float(np.sum(s / n)) == lam:  # kappa in [lam, lam + tr(Sigma)/n]: kappa = lam to rounding
        return lam
    # kappa is scale-equivariant: kappa(c Sigma, c lam) = c kappa(Sigma, lam); solve at c = 1/max(s)
    c = float(s.max())
    return c * _effective_regularization(n, s / c, lam / c)


def _effective_regularization(n: int, s: np.ndarray, lam: float) -> float:
    """:func:`effective_regularization` for a spectrum with max(s) = 1."""

    def df1(k):
        return np.sum(s / (s + k))

    lo = 0.0
    if s.size > n:  # df1(0) = p > n: kappa >= kappa_0 with df1(kappa_0) = n
        hi = s.max()
        while df1(hi) > n:
            hi *= 2.0
        lo = optimize.brentq(lambda k: df1(k) - n, 0.0, hi, xtol=1e-15, rtol=1e-14)
    if lam == 0.0:
        return lo
    hi = lo + lam + s.sum() / n

    def excess(k):  # k (1 - df1(k)/n) - lam, with 1 - df1/n = ((n - p) + sum k/(s + k)) / n in [0, 1]
        return k * (((n - s.size) + np.sum(k / (s + k))) / n) - lam

    if lo == 0.0:  # p <= n: kappa in [lam, hi]; solve for log kappa (relative accuracy at any scale)
        if excess(lam) >= 0.0:  # lam >> tr(Sigma)/n: kappa = lam to rounding
            return lam
        if excess(hi) <= 0.0:
            return hi
        return math.exp(optimize.brentq(lambda t: excess(math.exp(t)), math.log(lam), math.log(hi), xtol=1e-14, rtol=1e-14))
    if excess(lo) >= 0.0:  # lam below the rounding error of kappa_0: no sign change, kappa = kappa_0
        return lo
    if excess(hi) <= 0.0:
        return hi
    return optimize.brentq(excess, lo, hi, xtol=1e-15, rtol=1e-14)


def ridge_risk_anisotropic(n: int, spectrum, lam: float, signal: float, noise: float, beta_sq=None) -> float:
    """Deterministic equivalent of the ridge excess risk for x ~ N(0, Sigma), any spectrum.

    With kappa = :func:`effective_regularization`, df2 = tr(Sigma^2 (Sigma + kappa I)^{-2}):

    .. math::
        R \\approx \\frac{\\kappa^2 \\sum_i w_i s_i/(s_i+\\kappa)^2 + \\sigma^2\\, df_2/n}{1 - df_2/n},

    where w_i = (v_i^T beta)^2 is beta's energy along the i-th eigenvector of Sigma
    (default: beta in a uniformly random direction, w_i = r^2/p). Relative error O(1/n)
    as n, p -> inf at fixed p/n; exact in the limit. ``inf`` at lam = 0, p = n with noise > 0.
    Source: [Bach23] Prop. 1 (eqs. 5-6); [HMRT22] Thm 5 for lam -> 0.

    >>> round(ridge_risk_anisotropic(200, np.ones(400), 0.0, 1.0, 1.0), 6)  # = isotropic gamma=2
    1.5
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    s = check_array("spectrum", spectrum, min_value=0, include_min=False)
    lam = check_real("lam", lam, min_value=0, scalar=True)
    signal, noise = _check_signal_noise(signal, noise)
    if beta_sq is None:
        w = np.full(s.shape, signal / s.size)
    else:
        w = check_array("beta_sq", beta_sq, min_value=0)
        if w.shape != s.shape:
            raise ValueError(f"beta_sq has shape {w.shape}, must match spectrum shape {s.shape}")
    if lam == 0.0 and s.size == n:
        return math.inf if noise > 0 else float(np.sum(w * 0.0))
    kappa = effective_regularization(n, s, lam)
    # In units of c = max(s) (s' = s/c, k' = kappa/c), every ratio below is in [0, 1]:
    c = float(s.max())
    sp, kp = s / c, kappa / c
    a = sp / (sp + kp)  # s / (s + kappa)
    b = kp / (sp + kp)  # kappa / (s + kappa)
    df2 = float(np.sum(a * a))
    # 1 - df2/n = ((n - p) + kappa sum (2 s + kappa)/(s + kappa)^2) / n: no cancellation for p <= n
    denom = ((n - s.size) + float(np.sum(b * (a + 1.0)))) / n
    with np.errstate(over="ignore"):
        bias = c * float(np.sum(w * sp * b * b))  # kappa^2 sum w s / (s + kappa)^2
        return float((bias + noise * df2 / n) / denom)
