"""Nagarajan-Kolter linear construction: uniform convergence is vacuous while GD generalizes.

Model [NK19, Sec. 3, the overparameterized linear classifier; scales are parameters]:

* label y uniform on {-1, +1}; input x = (y u, z) in R^{K + D};
* u in R^K is fixed with ``signal`` = ||u||^2 (only ||u||^2 matters; K does not enter);
* z ~ N(0, (noise / D) I_D), so ``noise`` = s^2 = E||z||^2 (per-coordinate variance s^2 / D);
* learner: one gradient step from w = 0 on the linear loss L(w) = -sum_i y_i <w, x_i> with
  step eta > 0, i.e. w = eta sum_i y_i x_i = eta (n u, Z), Z = sum_i y_i z_i. The classifier
  sign<w, x> does not depend on eta (nor on a logistic loss's first step, which is the same
  w up to the factor eta/2).

Write v_i = y_i z_i (iid N(0, s^2/D I), independent of the labels: signs drop out),
Q ~ chi^2_D, c = n r^2 D / s^2 (r^2 = ``signal``). Exact results (derived below, conditional
Gaussianity given one chi-square; evaluated by 1-D quadrature to ~1e-12):

* test error   P(y <w, x> < 0) = E_Q Phi(-c / sqrt(n Q))
  (given Z, <Z, z> ~ N(0, s^2/D ||Z||^2) and ||Z||^2 = (n s^2 / D) Q);
* training error (any training point; equal to the expected training-error fraction)
  = E_Q Phi(-(c + Q) / sqrt((n - 1) Q))
  (margin n r^2 + ||v_i||^2 + <sum_{j != i} v_j, v_i>; given v_i the cross term is
  N(0, (n - 1) s^2/D ||v_i||^2) and ||v_i||^2 = (s^2 / D) Q);
* error on S' (training set with its noise block negated, labels kept)
  = E_Q Phi((Q - c) / sqrt((n - 1) Q)): the self term ||v_i||^2 flips sign.
  For n = 1 there is no cross term: train error 0, S' error P(chi^2_D > c).

Moments (exact, any D): the test margin has mean n r^2 and variance n s^4 / D; the S'
margin has mean n r^2 - s^2 and variance (n + 1) s^4 / D (the training margin: mean
n r^2 + s^2, same variance). Cantelli's inequality then gives distribution-free bounds

    test error <= 1 / (1 + D n r^4 / s^4),
    S' error   >= 1 - (n + 1) s^4 / ((n + 1) s^4 + D (s^2 - n r^2)^2)   (s^2 > n r^2),

so as D / n -> inf with n r^2 < s^2 fixed, test error -> 0 while S' error -> 1.

Consequence [NK19, Thm 3.1 and its proof]: S' has the same distribution as S, so with
probability >= 1 - 2 delta both are "good" draws, and the tightest two-sided uniform-
convergence bound eps_unif over the hypotheses the algorithm outputs satisfies
``eps_unif >= |L_D(h_S) - L_S'(h_S)|``; in expectation >= S' error - test error -> 1 (vacuous),
while the true generalization gap (test - train error) -> 0.

Sources:
  [NK19] Nagarajan & Kolter, "Uniform convergence may be unable to explain generalization
         in deep learning", NeurIPS 2019 (arXiv:1902.04742), Sec. 3 (linear construction,
         Thm 3.1) and Fig. 2 (hypersphere).

Provenance (checked against stored public copies, 2026-11): the paper's abstract ("even if we
consider only the set of classifiers output by GD, which have test errors less than some small
eps in our settings, we show that applying (two-sided) uniform convergence on this set of
classifiers will yield only a vacuous generalization guarantee larger than 1 - eps"); the authors'
notebook (locuslab/uniform-convergence-NeurIPS19), Lemma 1: if h_S misclassifies S' completely
and S' ~ D^m then the tightest uniform-convergence bound is >= 1 - eps, and its description of
the linear example ("many more features than training datapoints, and most of these features are
useless. The learned classifier inadvertently assigns some weights to these useless features");
"Theorem 3.1" as the linear Gaussian result is as cited by later work. NOT retrieved (the paper
body was not readable here): the paper's exact scales of u and of the noise, the loss and step
size of its one GD step, and the D-versus-n condition of Thm 3.1. Hence ||u||^2 (``signal``) and
s^2 (``noise``) are free parameters, and the regime "D / n -> inf with n r^2 < s^2" is derived
above, not quoted. Our S' (noise negated) satisfies Lemma 1's condition S' ~ D^m because the
noise law is symmetric; the learner's sign classifier is the same for any positive step size.
"""
from __future__ import annotations

import math

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.theory._numerics import log1pmx_scalar, stirling_correction
from claimcheck.theory.validation import MAX_EXACT_INT, check_int, check_real

integrate = lazy_module("scipy.integrate")  # imported on first use (claimcheck list/--help stay cheap)
special = lazy_module("scipy.special")
stats = lazy_module("scipy.stats")

__all__ = [
    "chi2_expectation",
    "linear_test_error",
    "linear_train_error",
    "linear_sprime_error",
    "uniform_convergence_lower_bound",
    "generalization_gap",
    "margin_moments",
    "cantelli_test_error_bound",
    "cantelli_sprime_error_bound",
    "signal_to_noise_ratio",
    "sprime_error_limit",
    "expected_weight_norm_sq",
    "rademacher_margin_bound",
]

_QUAD_TAIL = 1e-15  # mass of chi^2_D left outside the integration range (each side)


def _check(n, D, signal, noise):
    return (
        check_int("n", n, min_value=1, max_value=MAX_EXACT_INT),
        check_int("D", D, min_value=1, max_value=MAX_EXACT_INT),
        check_real("signal", signal, min_value=0, scalar=True),
        check_real("noise", noise, min_value=0, include_min=False, scalar=True),
    )


def chi2_expectation(g, D: int, centre: float | None = None) -> float:
    """E g(Q), Q ~ chi^2_D, by adaptive quadrature of g * pdf over [ppf(1e-15), isf(1e-15)].

    ``centre`` (a Q where g changes fastest) is passed to ``quad`` as a break point.
    ``g`` must map [0, inf) into [0, 1] (a probability; the result is clipped to [0, 1]); the
    truncated mass (2e-15) then bounds the truncation error. A ``g`` that returns NaN or inf is
    refused (ValueError), never passed on as a NaN expectation.

    >>> round(chi2_expectation(lambda q: float(q > 3.0), 3), 6)  # P(chi^2_3 > 3)
    0.391625
    """
    if not callable(g):
        raise TypeError(f"g={g!r:.60}, must be callable (a function of q >= 0 with values in [0, 1])")
    D = check_int("D", D, min_value=1, max_value=MAX_EXACT_INT)
    if centre is not None:
        centre = check_real("centre", centre, scalar=True)
    def checked_g(q: float) -> float:
        # refused at the first non-finite value, before quad integrates it (and warns of roundoff)
        v = g(q)
        if not math.isfinite(v):
            raise ValueError(f"g gave g({q!r}) = {v}, must return finite values in [0, 1] on q >= 0")
        return v

    val = _chi2_expect(checked_g, D, centre)
    if not math.isfinite(val):
        raise ValueError(f"g gave E g(Q) = {val}, must return finite values in [0, 1] on q >= 0")
    return float(min(max(val, 0.0), 1.0))


def _clip01(v: float) -> float:
    return float(min(max(v, 0.0), 1.0))


def _chi2_expect(g, D: int, centre: float | None = None) -> float:
    """:func:`chi2_expectation` without argument checks (the closed forms' own calls; a centre
    outside the quadrature range, inf included, is simply not used as a break point); not clipped."""
    lo, hi = stats.chi2.ppf(_QUAD_TAIL, D), stats.chi2.isf(_QUAD_TAIL, D)
    pts = [p for p in (D - 2 * math.sqrt(2 * D), D, D + 2 * math.sqrt(2 * D), centre) if p is not None and lo < p < hi]
    # chi^2_D density written out (stats.chi2.pdf validates its arguments on every scalar call,
    # ~100x the cost of the arithmetic), as a density of x = Q/D - 1: with k = D/2,
    #   log f_Q(D(1+x)) = -log 2 - (log k + log 2 pi)/2 - stirling(k) + k log1pmx(x) - log1p(x),
    # free of the cancellation between k log q, q/2 and lgamma(k) (each ~D log D) that the
    # direct form suffers at large D (D = 1e8 would lose ~8 digits); lo > 0, so x > -1.
    k = 0.5 * D
    log_norm = -math.log(2.0) - 0.5 * (math.log(k) + math.log(2.0 * math.pi)) - stirling_correction(k) + math.log(D)

    def integrand(x: float) -> float:
        return g(D * (1.0 + x)) * math.exp(log_norm + k * log1pmx_scalar(x) - math.log1p(x))

    val, _ = integrate.quad(integrand, lo / D - 1.0, hi / D - 1.0, points=sorted({p / D - 1.0 for p in pts}) or None,
                            epsabs=1e-13, epsrel=1e-10, limit=200)
    return val


def signal_to_noise_ratio(n: int, signal: float, noise: float) -> float:
    """rho = n r^2 / s^2: the learned signal margin over the memorised self term E||z_i||^2.

    S' error -> 1 as D -> inf iff rho < 1 (see :func:`sprime_error_limit`). Source: [NK19], Sec. 3.

    >>> signal_to_noise_ratio(n=16, signal=1 / 64, noise=1.0)
    0.25
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    signal = check_real("signal", signal, min_value=0, scalar=True)
    noise = check_real("noise", noise, min_value=0, include_min=False, scalar=True)
    return n * signal / noise


def linear_test_error(n: int, D: int, signal: float, noise: float) -> float:
    """Expected test error of the one-step GD classifier w = eta sum_i y_i x_i.

    .. math::
        \\Pr(y\\langle w,x\\rangle<0) = \\mathbb E_{Q\\sim\\chi^2_D}
        \\Phi\\Big(-\\frac{n r^2 D / s^2}{\\sqrt{n Q}}\\Big)

    (r^2 = ``signal`` = ||u||^2, s^2 = ``noise``; exact, 1-D quadrature). Decreasing in n,
    D and r^2; -> 0 as D -> inf. Source: [NK19], Sec. 3 (Thm 3.1, test-error part).

    >>> round(linear_test_error(n=16, D=256, signal=1 / 64, noise=1.0), 4)
    0.1582
    """
    n, D, signal, noise = _check(n, D, signal, noise)
    c = n * signal * D / noise
    if c == 0.0:
        return 0.5
    return _clip01(_chi2_expect(lambda q: special.ndtr(-c / math.sqrt(n * q)), D))


def linear_train_error(n: int, D: int, signal: float, noise: float) -> float:
    """Expected training error (per point) of w = eta sum_i y_i x_i on its own sample S.

    .. math::
        \\Pr(y_i\\langle w,x_i\\rangle<0) = \\mathbb E_{Q\\sim\\chi^2_D}
        \\Phi\\Big(-\\frac{n r^2 D/s^2 + Q}{\\sqrt{(n-1) Q}}\\Big),\\quad 0 \\text{ for } n=1.

    Source: [NK19], Sec. 3 (training margin = signal + self term ||z_i||^2 + cross terms).

    >>> round(linear_train_error(n=64, D=64, signal=1 / 256, noise=1.0), 4)
    0.1045
    """
    n, D, signal, noise = _check(n, D, signal, noise)
    if n == 1:
        return 0.0
    c = n * signal * D / noise
    return _clip01(_chi2_expect(lambda q: special.ndtr(-(c + q) / math.sqrt((n - 1) * q)), D))


def linear_sprime_error(n: int, D: int, signal: float, noise: float) -> float:
    """Expected error of w_S on S' = {((y_i u, -z_i), y_i)}: the training set with its noise negated.

    .. math::
        \\mathbb E_{Q\\sim\\chi^2_D}\\Phi\\Big(\\frac{Q - n r^2 D/s^2}{\\sqrt{(n-1) Q}}\\Big)
        \\ (n\\ge2),\\qquad \\Pr(\\chi^2_D > r^2 D/s^2)\\ (n=1).

    -> 1 as D/n -> inf when n r^2 < s^2. Source: [NK19], Sec. 3 (proof of Thm 3.1).

    >>> round(linear_sprime_error(n=16, D=256, signal=1 / 64, noise=1.0), 4)
    0.9987
    """
    n, D, signal, noise = _check(n, D, signal, noise)
    c = n * signal * D / noise
    if n == 1:
        return float(stats.chi2.sf(c, D))
    return _clip01(_chi2_expect(lambda q: special.ndtr((q - c) / math.sqrt((n - 1) * q)), D, centre=c))


def uniform_convergence_lower_bound(n: int, D: int, signal: float, noise: float) -> float:
    """Lower bound on the tightest two-sided uniform-convergence bound: E[L_S'(h_S)] - E[L_D(h_S)].

    S' is distributed as S, so any eps_unif valid w.p. 1 - delta over samples (delta < 1/4)
    must cover ``|L_D(h_S) - L_S'(h_S)|`` for h_S in the algorithm's hypothesis set.
    -> 1 (vacuous) as D/n -> inf with n r^2 < s^2. Source: [NK19], Thm 3.1 and its proof.

    >>> round(uniform_convergence_lower_bound(n=16, D=256, signal=1 / 64, noise=1.0), 3)
    0.841
    """
    return linear_sprime_error(n, D, signal, noise) - linear_test_error(n, D, signal, noise)


def generalization_gap(n: int, D: int, signal: float, noise: float) -> float:
    """True expected generalization gap E[L_D(h_S) - L_S(h_S)] = test error - training error.

    >>> generalization_gap(n=16, D=4096, signal=1 / 64, noise=1.0) < 1e-4
    True
    """
    return linear_test_error(n, D, signal, noise) - linear_train_error(n, D, signal, noise)


def margin_moments(n: int, D: int, signal: float, noise: float) -> dict[str, tuple[float, float]]:
    """Exact mean and variance of the test, training and S' margins (eta = 1).

    test: (n r^2, n s^4/D); train: (n r^2 + s^2, (n+1) s^4/D); S': (n r^2 - s^2, (n+1) s^4/D).
    Derived symbolically in :mod:`theory.uniform_convergence_sympy`.

    >>> margin_moments(n=3, D=4, signal=1.0, noise=2.0)["sprime"]
    (1.0, 4.0)
    """
    n, D, signal, noise = _check(n, D, signal, noise)
    s4 = noise * noise  # inf beyond 1.3e154 (the variance itself exceeds the float range); no OverflowError
    v = (n + 1) * s4 / D
    return {
        "test": (n * signal, n * s4 / D),
        "train": (n * signal + noise, v),
        "sprime": (n * signal - noise, v),
    }


def cantelli_test_error_bound(n: int, D: int, signal: float, noise: float) -> float:
    """Cantelli upper bound on the test error: 1 / (1 + D n r^4 / s^4) -> 0 as D -> inf.

    >>> round(cantelli_test_error_bound(n=4, D=100, signal=0.5, noise=1.0), 6)
    0.009901
    """
    n, D, signal, noise = _check(n, D, signal, noise)
    ratio = signal / noise  # mean^2 / var = D n (r^2 / s^2)^2, formed from the ratio: no inf / inf
    return 1.0 / (1.0 + D * n * ratio * ratio)


def cantelli_sprime_error_bound(n: int, D: int, signal: float, noise: float) -> float:
    """Cantelli lower bound on the S' error, 1 - V / (V + (s^2 - n r^2)^2), V = (n+1) s^4 / D.

    Valid for n r^2 < s^2 (returns 0, the trivial bound, otherwise); -> 1 as D / n -> inf.

    >>> round(cantelli_sprime_error_bound(n=4, D=1000, signal=0.05, noise=1.0), 4)
    0.9922
    """
    n, D, signal, noise = _check(n, D, signal, noise)
    if n * signal >= noise:
        return 0.0
    gap = 1.0 - n * (signal / noise)  # (s^2 - n r^2) / s^2 in (0, 1]
    x = D / (n + 1) * gap * gap  # mean^2 / var
    return x / (1.0 + x)  # = 1 - V / (V + mean^2)


def sprime_error_limit(n: int, signal: float, noise: float) -> float:
    """lim_{D -> inf} of the S' error at fixed n: 1 if n r^2 < s^2, 1/2 if equal, 0 if greater.

    (The S' margin concentrates at n r^2 - s^2 with standard deviation s^2 sqrt((n+1)/D).)

    >>> sprime_error_limit(n=16, signal=1 / 64, noise=1.0)
    1.0
    """
    rho = signal_to_noise_ratio(n, signal, noise)
    return 1.0 if rho < 1 else (0.5 if rho == 1 else 0.0)


def expected_weight_norm_sq(n: int, signal: float, noise: float, eta: float = 1.0) -> float:
    """E||w - w_0||^2 = eta^2 (n^2 r^2 + n s^2): the distance from initialisation grows with n.

    Exact for any D (E||Z||^2 = n s^2). Source: [NK19], Sec. 2 (distance from initialisation
    grows with n) applied to the linear construction.

    >>> expected_weight_norm_sq(n=10, signal=0.01, noise=1.0)
    11.0
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    signal = check_real("signal", signal, min_value=0, scalar=True)
    noise = check_real("noise", noise, min_value=0, include_min=False, scalar=True)
    eta = check_real("eta", eta, min_value=0, include_min=False, scalar=True)
    return eta * (eta * (n * n * signal + n * noise))  # this order: no overflow before the true value does


def rademacher_margin_bound(n: int, signal: float, noise: float) -> float:
    """Typical-value margin-normalised Rademacher term ||w|| max||x|| / (gamma sqrt(n)) of the learned w.

    The Rademacher complexity of {x -> <w', x>/gamma : ||w'|| <= ||w||} on n points of norm
    <= X is ||w|| X / (gamma sqrt(n)) (Bartlett & Mendelson 2002; Kakade et al. 2009). With
    the typical values ||w||^2 = n^2 r^2 + n s^2, X^2 = r^2 + s^2 and gamma = E[training
    margin] = n r^2 + s^2 it equals sqrt((r^2 + s^2) / (n r^2 + s^2)): ~1 (vacuous) for
    n r^2 << s^2 and it does not track the falling test error. (With the *minimum* margin
    instead of its mean it is larger; see sims.uniform_convergence.rademacher_bound_samples.)

    >>> round(rademacher_margin_bound(n=16, signal=1 / 64, noise=1.0), 4)
    0.9014
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    signal = check_real("signal", signal, min_value=0, scalar=True)
    noise = check_real("noise", noise, min_value=0, include_min=False, scalar=True)
    top = max(signal, noise)  # the ratio of scaled sums: no inf / inf for huge signal and noise
    a, b = signal / top, noise / top
    return math.sqrt((a + b) / (n * a + b))
