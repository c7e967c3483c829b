"""PAC-Bayes generalisation bounds, the log k cost of tuning the prior, and Occam/compression bounds.

Setting: a loss in [0, 1] (the 0-1 error of a classifier), n i.i.d. samples, a prior P
chosen before seeing the data and any posterior Q. ``emp_risk`` = E_Q R_hat (empirical
risk), ``kl`` = KL(Q || P) in nats, ``delta`` in (0, 1) the failure probability, ``k`` >= 1
the number of priors (or hyper-parameter settings) the final bound was selected from.

Tuning over k priors: each of the k bounds holds with probability 1 - delta/k, so by the
union bound all hold simultaneously with probability 1 - delta and the selected one may be
reported: the confidence term log(1/delta) becomes log(k/delta), i.e. the bound pays
"cost: log k" (seed 003, Goldblum; [McA99] with the union bound). :func:`tuning_cost` gives
the increase in closed form, :func:`break_even_k` where tuning stops paying off and
:func:`tuned_bound` answers "I tuned 20 priors; what does my bound become?".

Sources:
  [McA99]  McAllester, "PAC-Bayesian model averaging", COLT 1999, Thm 1 / [McA03]
           "Simplified PAC-Bayesian margin bounds", COLT 2003, Thm 1:
           E_Q R <= E_Q R_hat + sqrt((KL(Q||P) + ln(n/delta) + 2) / (2n - 1)).
  [Mau04]  Maurer, "A note on the PAC Bayesian theorem" (2004), Thm 5:
           kl(E_Q R_hat || E_Q R) <= (KL(Q||P) + ln(2 sqrt(n)/delta)) / n, n >= 8
           (the constant is xi(n) = sum_j C(n,j)(j/n)^j(1-j/n)^(n-j) <= 2 sqrt(n); see
           :func:`maurer_xi`); Seeger, JMLR 2002, Thm 1 for the kl form.
  [Cat07]  Catoni, "PAC-Bayesian supervised classification" (2007), Thm 1.2.6: for fixed C > 0,
           E_Q R <= (1 - exp(-C E_Q R_hat - (KL + ln(1/delta))/n)) / (1 - exp(-C)).
  [LFKGW22] Lotfi, Finzi, Kapoor, Potapczynski, Goldblum, Wilson, "PAC-Bayes compression
           bounds so tight that they can explain generalization", NeurIPS 2022, eq. (2)-(4):
           a point-mass posterior on a hypothesis with a prefix code of L bits has
           KL = L ln 2 (Occam bound); the code = quantised weights, arithmetic-coded.
  [LC01]   Langford & Caruana, "(Not) bounding the true error", NIPS 2001; Dziugaite & Roy,
           UAI 2017: Gaussian posteriors N(w, sigma^2 I) over linear classifiers / network
           weights, KL in closed form (:func:`gaussian_kl`, :func:`gibbs_risk_linear`).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.theory._numerics import log1pmx as _log1pmx
from claimcheck.theory.validation import (MAX_EXACT_INT, as_output, check_broadcast, check_choice, check_int,
                                          check_int_array, check_real)

special = lazy_module("scipy.special")  # imported on first use (claimcheck list/--help stay cheap)

__all__ = [
    "KL_INVERSE_TOL",
    "kl_bernoulli",
    "kl_inverse_upper",
    "mcallester_bound",
    "maurer_bound",
    "maurer_xi",
    "catoni_bound",
    "occam_bound",
    "BOUNDS",
    "tuning_cost",
    "tuning_cost_upper",
    "break_even_k",
    "TunedBound",
    "tuned_bound",
    "quantize_uniform",
    "code_length_bits",
    "elias_gamma_bits",
    "gaussian_kl",
    "GIBBS_QUADRATURE_TOL",
    "gibbs_risk_linear",
]

KL_INVERSE_TOL = 1e-12
"""Absolute accuracy of :func:`kl_inverse_upper`: the returned p_hat satisfies
p* <= p_hat <= p* + KL_INVERSE_TOL (it is never below the exact supremum p*)."""

_BISECTION_STEPS = 64  # halves an interval of length <= 1 to < 1e-19, below float spacing near 1
_LOG_MAX_FLOAT = math.log(sys.float_info.max)  # 709.78...: exp() of anything larger overflows


# --------------------------------------------------------------------------- validation
def _check_common(emp_risk, kl, n, delta, k):
    emp_risk = check_real("emp_risk", emp_risk, min_value=0, max_value=1)
    kl = check_real("kl", kl, min_value=0)
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    delta = check_real("delta", delta, min_value=0, max_value=1, include_min=False, include_max=False)
    k = check_real("k", k, min_value=1)
    check_broadcast(emp_risk=emp_risk, kl=kl, delta=delta, k=k)
    return emp_risk, kl, n, delta, k


def _log_n_over_delta(n: int, delta):
    """ln(n / delta) as ln n - ln delta: finite for every n and every delta > 0 (n / delta
    itself overflows to inf once delta < n / 1.8e308)."""
    return math.log(n) - np.log(delta)


# --------------------------------------------------------------------------- binary kl
def kl_bernoulli(q, p):
    """Binary relative entropy kl(q || p) = KL(Bernoulli(q) || Bernoulli(p)) in nats.

    .. math:: \\mathrm{kl}(q\\|p) = q\\ln\\frac qp + (1-q)\\ln\\frac{1-q}{1-p}

    with 0 ln 0 = 0; ``inf`` when p in {0, 1} and q != p (absolute continuity fails).
    Accepts arrays (broadcast). Source: [Mau04] Sec. 2; Cover & Thomas, eq. (2.26).

    >>> round(kl_bernoulli(0.1, 0.5), 6)
    0.368064
    >>> kl_bernoulli(0.0, 1.0)
    inf
    """
    q = check_real("q", q, min_value=0, max_value=1)
    p = check_real("p", p, min_value=0, max_value=1)
    q, p = check_broadcast(q=q, p=p)
    return as_output(_kl(q, p))


def _kl(q, p):
    """Vectorised kl(q||p) without validation (inf where undefined), accurate to a few ulps
    relative everywhere, also for p close to q: with d = p - q,

        kl = -q log1pmx(d / q) - (1 - q) log1pmx(-d / (1 - q)),   log1pmx(x) = log(1 + x) - x,

    (the first-order terms -d and +d of the two logarithms cancel exactly in this form),
    and kl(0 || p) = -log1p(-p), kl(1 || p) = -log p."""
    q, p = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(p, dtype=float))
    inner = (q > 0) & (q < 1)
    qi = np.where(inner, q, 0.5)
    d = np.where(inner, p, 0.5) - qi
    pi = qi + d
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x1, x2 = d / qi, -d / (1.0 - qi)
        # |x| huge (q or 1 - q subnormal-small): nothing cancels, and log(1 + x) is a log ratio
        t1 = np.where(np.abs(x1) <= 1e8, -qi * _log1pmx(np.where(np.abs(x1) <= 1e8, x1, 0.0)), d - qi * (np.log(pi) - np.log(qi)))
        t2 = np.where(np.abs(x2) <= 1e8, -(1.0 - qi) * _log1pmx(np.where(np.abs(x2) <= 1e8, x2, 0.0)),
                      -d - (1.0 - qi) * (np.log1p(-pi) - np.log1p(-qi)))
        mid = t1 + t2
        at0 = -np.log1p(-np.where(q == 0, p, 0.0))
        at1 = -np.log(np.where(q == 1, p, 1.0))
    out = np.where(inner, mid, np.where(q == 0, at0, at1))
    out = np.where(((p == 0) & (q > 0)) | ((p == 1) & (q < 1)), np.inf, out)
    return np.maximum(out, 0.0)


def _kl_on_bisection(q):
    """``_kl`` for the bisection of :func:`kl_inverse_upper` at 0 < q < 1 and q <= p <= 1, bit for
    bit: the same operations on every element, with what depends on q alone computed once and the
    branches that no element takes there skipped (p >= q: d >= 0, so |d / (1 - q)| <= 1 and the
    second large-|x| branch, p = 0 < q and the q = 0 / q = 1 forms cannot occur), and the two
    log1pmx series of an evaluation summed in one call (an element's value does not depend on
    the others: :func:`theory._numerics.log1pmx` sums until no later term can change a bit). About
    half the time of ``_kl`` per halving (measured at 200 and 8000 elements)."""
    qi = np.asarray(q, dtype=float).ravel()
    one_minus_qi = 1.0 - qi
    size = qi.size
    both = np.empty(2 * size)  # [x1, x2]: one log1pmx call per evaluation

    def kl_at(p):
        d = p - qi
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x1 = both[:size]
            np.divide(d, qi, out=x1)
            np.divide(-d, one_minus_qi, out=both[size:])
            small1 = np.abs(x1) <= 1e8
            all_small1 = bool(small1.all())
            if not all_small1:
                x1[~small1] = 0.0
            l1, l2 = np.split(_log1pmx(both), 2)
            t1 = -qi * l1
            if not all_small1:
                # |x1| huge (q subnormal-small): nothing cancels, and log(1 + x) is a log ratio
                t1 = np.where(small1, t1, d - qi * (np.log(qi + d) - np.log(qi)))
            mid = t1 + -one_minus_qi * l2  # t2 = -(1 - q) log1pmx(x2): |x2| = d / (1 - q) <= 1
        mid[p == 1] = np.inf  # p = 0 < q cannot occur for p >= q
        return np.maximum(mid, 0.0, out=mid)

    return kl_at


def kl_inverse_upper(q, c, *, _kl_fn=None):
    """Upper kl inverse: the largest p in [q, 1] with kl(q || p) <= c.

    .. math:: \\mathrm{kl}^{-1}(q, c) = \\sup\\{p \\in [q, 1] : \\mathrm{kl}(q\\|p) \\le c\\}

    Bisection on [q, 1], where kl(q||.) increases, 64 halvings keeping the upper end: the
    result is never below the exact supremum and exceeds it by at most :data:`KL_INVERSE_TOL`
    (2^-64 < 1e-19 in exact arithmetic; kl is evaluated without cancellation near p = q, so
    the tolerance holds for every c down to the smallest float, checked against a 50-digit
    mpmath reference in the tests; the end is then raised by 1e-14 (p - q) + 4 ulp to cover
    kl's own rounding). Edge cases: c = 0 -> q; q = 0 -> 1 - exp(-c) = -expm1(-c) exactly;
    q = 1 -> 1; c = inf -> 1 (for q < 1, kl(q||p) -> inf as p -> 1, so every finite c has p* < 1).
    Accepts arrays (broadcast); the bisection runs only on the elements that need it
    (0 < q < 1, 0 < c < inf), all of them at once.
    Source: [Mau04] Thm 5; Seeger, JMLR 3 (2002), Thm 1.

    >>> round(kl_inverse_upper(0.1, 0.05), 6)
    0.220079
    >>> kl_inverse_upper(0.0, 0.0), kl_inverse_upper(1.0, 3.0), kl_inverse_upper(0.3, math.inf)
    (0.0, 1.0, 1.0)
    """
    q = check_real("q", q, min_value=0, max_value=1)
    c = check_real("c", c, min_value=0, allow_inf=True)
    qa, ca = check_broadcast(q=q, c=c)
    if _kl_fn is not None:
        return _kl_inverse_upper_plain(qa, ca, _kl_fn)
    done = (qa == 1) | (ca == np.inf)  # p = 1 itself is feasible: kl(q||1) is 0 at q = 1, inf below
    # Elements at q = 0, c = 0 or done take the closed forms below whatever the bisection gives.
    active = (qa > 0) & (ca > 0) & ~done
    hi = np.ones(qa.shape)
    if active.any():
        qs, cs = qa[active], ca[active]
        kl_at = _kl_on_bisection(qs)
        lo, h = qs.copy(), np.ones(qs.shape)
        for step in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + h)
            if step >= 48 and np.all((mid == lo) | (mid == h)):
                # every [lo, hi] is down to adjacent floats: the remaining halvings change nothing (mid is
                # lo, feasible as before - q itself or a point found feasible - or hi, kept either way)
                break
            ok = kl_at(mid) <= cs
            lo = np.where(ok, mid, lo)
            h = np.where(ok, h, mid)
        hi[active] = np.minimum(h + 1e-14 * (h - qs) + 4 * np.spacing(h), 1.0)  # kl's rounding: stay above p*
    out = np.where(done, 1.0, hi)
    with np.errstate(over="ignore"):
        # exact: kl(0||p) = -ln(1-p), so p* = 1 - e^-c; one ulp up keeps the result >= p* after rounding
        out = np.where(qa == 0, np.minimum(np.nextafter(-np.expm1(-np.minimum(ca, 800.0)), 2.0), 1.0), out)
    out = np.where(ca == 0, qa, out)
    return as_output(np.clip(out, qa, 1.0))


def _kl_inverse_upper_plain(qa, ca, kl_fn):
    """The plain 64-halving bisection of :func:`kl_inverse_upper` with any ``kl_fn(q, p)`` on every
    element (no closed forms, no early stop): the reference the tests compare the fast path with,
    and the path of the mutants that replace kl."""
    lo = qa.copy()
    hi = np.ones_like(qa)
    done = kl_fn(qa, hi) <= ca  # p = 1 itself is feasible (q = 1, or c = inf)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        ok = kl_fn(qa, mid) <= ca
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    hi = np.minimum(hi + 1e-14 * (hi - qa) + 4 * np.spacing(hi), 1.0)  # kl's rounding: stay above p*
    out = np.where(done, 1.0, hi)
    out = np.where(ca == 0, qa, out)
    return as_output(np.clip(out, qa, 1.0))


# --------------------------------------------------------------------------- bounds
def mcallester_bound(emp_risk, kl, n: int, delta: float, k=1):
    """McAllester's PAC-Bayes bound on E_Q R, with the union-bound charge for k priors.

    .. math:: \\mathbb E_Q R \\le \\mathbb E_Q \\hat R + \\sqrt{\\frac{\\mathrm{KL}(Q\\|P) + \\ln k + \\ln(n/\\delta) + 2}{2n-1}}

    holds with probability >= 1 - delta over the sample, for every Q at once and whichever of
    the k priors is reported. Not clipped at 1 (the formula as published). Accepts arrays for
    ``emp_risk``, ``kl``, ``k``.
    Source: [McA99] Thm 1, [McA03] Thm 1; seed 003 ("cost: log k").

    >>> round(mcallester_bound(emp_risk=0.05, kl=10.0, n=10000, delta=0.05), 6)
    0.08479
    >>> round(mcallester_bound(emp_risk=0.05, kl=10.0, n=10000, delta=0.05, k=20), 6)
    0.08688
    """
    emp_risk, kl, n, delta, k = _check_common(emp_risk, kl, n, delta, k)
    return as_output(np.asarray(emp_risk) + np.sqrt((np.asarray(kl) + np.log(k) + _log_n_over_delta(n, delta) + 2.0) / (2 * n - 1)))


def maurer_xi(n: int) -> float:
    """Maurer's constant xi(n) = E exp(n kl(R_hat || R)) at its worst case (Bernoulli mean).

    .. math:: \\xi(n) = \\sum_{j=0}^n \\binom nj (j/n)^j (1-j/n)^{n-j}, \\qquad \\sqrt n \\le \\xi(n) \\le 2\\sqrt n\\ (n \\ge 8)

    The kl bound may use ln(xi(n)/delta) instead of ln(2 sqrt(n)/delta).
    Source: [Mau04] Thm 1 and its proof.

    >>> maurer_xi(1), round(maurer_xi(2), 6)
    (2.0, 2.5)
    """
    n = check_int("n", n, min_value=1, max_value=10**7)
    j = np.arange(n + 1, dtype=float)
    logs = special.gammaln(n + 1) - special.gammaln(j + 1) - special.gammaln(n - j + 1) + special.xlogy(j, j / n) + special.xlogy(n - j, 1 - j / n)
    return float(np.exp(special.logsumexp(logs)))


def maurer_bound(emp_risk, kl, n: int, delta: float, k=1):
    """The kl-inverse (Seeger / Maurer) PAC-Bayes bound on E_Q R, charged log k for tuning.

    .. math:: \\mathbb E_Q R \\le \\mathrm{kl}^{-1}\\Big(\\mathbb E_Q\\hat R,\\ \\frac{\\mathrm{KL}(Q\\|P) + \\ln k + \\ln(2\\sqrt n/\\delta)}{n}\\Big)

    with probability >= 1 - delta. Never looser than :func:`mcallester_bound` (Pinsker,
    and ln(2 sqrt n) < ln n + 2); always in [emp_risk, 1]. Valid for every n >= 1 because
    xi(n) <= 2 sqrt(n) for all n >= 1 (checked exactly in the tests up to n = 2000).
    Source: [Mau04] Thm 5; Seeger 2002, Thm 1.

    >>> round(maurer_bound(emp_risk=0.05, kl=10.0, n=10000, delta=0.05), 6)
    0.06429
    >>> round(maurer_bound(emp_risk=0.05, kl=10.0, n=10000, delta=0.05, k=20), 6)
    0.06551
    """
    emp_risk, kl, n, delta, k = _check_common(emp_risk, kl, n, delta, k)
    c = (np.asarray(kl) + np.log(k) + math.log(2.0) + 0.5 * math.log(n) - np.log(delta)) / n
    return kl_inverse_upper(emp_risk, c)


def _maurer_bound_groups(groups):
    """:func:`maurer_bound` of several argument tuples ``(emp_risk, kl, n, delta, k)`` (each with its
    own scalar n and delta) with one kl inversion for all: a list of the results, bit for bit those
    of the calls one by one (c is formed per group by the same operations, and the kl inverse works
    element by element), without the 64 overhead-bound halvings per group."""
    qs, cs, shapes = [], [], []
    for emp_risk, kl, n, delta, k in groups:
        emp_risk, kl, n, delta, k = _check_common(emp_risk, kl, n, delta, k)
        c = (np.asarray(kl) + np.log(k) + math.log(2.0) + 0.5 * math.log(n) - np.log(delta)) / n
        q, c = check_broadcast(q=emp_risk, c=c)
        qs.append(q.ravel())
        cs.append(c.ravel())
        shapes.append(q.shape)
    if not shapes:
        return []
    flat = np.asarray(kl_inverse_upper(np.concatenate(qs), np.concatenate(cs)), dtype=float)
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(as_output(flat[start:start + size].reshape(shape)))
        start += size
    return out


def catoni_bound(emp_risk, kl, n: int, delta: float, k=1, C: float = 1.0):
    """Catoni's PAC-Bayes bound for a fixed trade-off C > 0, charged log k for tuning.

    .. math:: \\mathbb E_Q R \\le \\frac{1 - \\exp\\big(-C\\,\\mathbb E_Q\\hat R - (\\mathrm{KL}(Q\\|P) + \\ln(k/\\delta))/n\\big)}{1 - e^{-C}}

    with probability >= 1 - delta (C must be fixed before seeing the data; tuning C over a
    grid of k values is paid by the same log k). Not clipped at 1: the value exceeds 1 (a
    vacuous bound) exactly when C emp_risk + (KL + ln(k/delta))/n > C, since 1 - e^{-a} >
    1 - e^{-C} iff a > C (e.g. a small C with a large KL). ln(k/delta) is formed as
    ln k - ln delta. Source: [Cat07] Thm 1.2.6.

    >>> round(catoni_bound(emp_risk=0.05, kl=10.0, n=10000, delta=0.05, C=0.1), 6)
    0.06599
    """
    emp_risk, kl, n, delta, k = _check_common(emp_risk, kl, n, delta, k)
    C = check_real("C", C, min_value=0, include_min=False, scalar=True)
    num = -np.expm1(-C * np.asarray(emp_risk) - (np.asarray(kl) + np.log(k) - np.log(delta)) / n)
    return as_output(num / -math.expm1(-C))


BOUNDS = {"mcallester": mcallester_bound, "maurer": maurer_bound, "catoni": catoni_bound}
"""The PAC-Bayes bounds by name, each ``f(emp_risk, kl, n, delta, k=1)``."""


def _bound_fn(bound: str):
    return BOUNDS[check_choice("bound", bound, tuple(BOUNDS))]


def occam_bound(emp_risk, code_length_bits, n: int, delta: float, k=1, bound: str = "maurer"):
    """Occam / compression bound: a PAC-Bayes bound with KL replaced by code length x ln 2.

    .. math:: R(h) \\le \\mathrm{kl}^{-1}\\Big(\\hat R(h), \\frac{L(h)\\ln 2 + \\ln k + \\ln(2\\sqrt n/\\delta)}{n}\\Big)

    for a hypothesis h with a prefix-free code of L(h) bits fixed before the data (prior
    P(h) = 2^{-L(h)}, point-mass posterior: KL = L ln 2). ``bound`` picks the PAC-Bayes form
    ("maurer" default, "mcallester", "catoni"). Source: [LFKGW22] eq. (2)-(4); [McA99].

    >>> round(occam_bound(emp_risk=0.0, code_length_bits=1000, n=60000, delta=0.05), 6)
    0.011637
    """
    bits = check_real("code_length_bits", code_length_bits, min_value=0)
    fn = _bound_fn(bound)
    _check_common(emp_risk, 0.0, n, delta, k)
    check_broadcast(emp_risk=emp_risk, code_length_bits=bits, k=k)
    return fn(emp_risk, np.asarray(bits) * math.log(2), n, delta, k)


# --------------------------------------------------------------------------- tuning cost
def tuning_cost(kl, n: int, delta: float, k, bound: str = "mcallester", emp_risk=None):
    """Increase of a PAC-Bayes bound when the prior was selected among k: B(k) - B(1).

    McAllester (closed form, independent of the empirical risk), with B0 = KL + ln(n/delta) + 2:

    .. math:: \\Delta(k) = \\sqrt{\\frac{B_0 + \\ln k}{2n-1}} - \\sqrt{\\frac{B_0}{2n-1}} \\le \\sqrt{\\frac{\\ln k}{2n-1}},

    increasing and concave in ln k (``theory.pac_bayes_sympy``). For "maurer" / "catoni" the
    cost depends on ``emp_risk`` (required) and is evaluated from the bound itself; for the
    kl bound it is <= kl^{-1}(emp_risk, ln k / n) - emp_risk <= sqrt(ln k / (2n)) (concavity of
    kl^{-1} in c, then Pinsker). Source: seed 003 ("cost: log k"); [McA99]; [Mau04].

    >>> round(tuning_cost(kl=10.0, n=10000, delta=0.05, k=20), 6)
    0.00209
    """
    fn = _bound_fn(bound)
    if emp_risk is not None:
        check_real("emp_risk", emp_risk, min_value=0, max_value=1)
    if bound == "mcallester":
        _, kl, n, delta, k = _check_common(0.0, kl, n, delta, k)
        b0 = np.asarray(kl) + _log_n_over_delta(n, delta) + 2.0
        m = 2 * n - 1
        # sqrt(a + x) - sqrt(a) = x / (sqrt(a + x) + sqrt(a)): no cancellation for small x.
        lk = np.log(k)
        return as_output(lk / m / (np.sqrt((b0 + lk) / m) + np.sqrt(b0 / m)))
    if emp_risk is None:
        raise ValueError(f"emp_risk=None, must be in [0, 1] for bound={bound!r} (its cost depends on it)")
    return as_output(np.asarray(fn(emp_risk, kl, n, delta, k)) - np.asarray(fn(emp_risk, kl, n, delta, 1)))


def tuning_cost_upper(n: int, k):
    """Envelope of the McAllester tuning cost: sqrt(ln k / (2n - 1)) (sqrt subadditivity).

    >>> round(tuning_cost_upper(n=10000, k=20), 6)
    0.012239
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    k = check_real("k", k, min_value=1)
    return as_output(np.sqrt(np.log(k) / (2 * n - 1)))


def break_even_k(risk_gain: float, kl: float, n: int, delta: float, bound: str = "mcallester", emp_risk: float | None = None,
                 log: bool = False) -> float:
    """The largest k for which tuning over k priors pays off, given the empirical-risk gain.

    Tuning pays off while the reduction of the empirical risk it buys exceeds the tuning
    cost, ``risk_gain >= tuning_cost(k)``. McAllester, B0 = KL + ln(n/delta) + 2, m = 2n - 1:

    .. math:: \\ln k^* = m\\Big(g + \\sqrt{B_0/m}\\Big)^2 - B_0

    For "maurer"/"catoni" (``emp_risk`` = the risk *after* tuning) k* solves
    B(emp_risk, k) = B(emp_risk + g, 1) by bisection in ln k over [0, ln(max float)];
    ``inf`` if even k = e^709.78 would pay off (the bound saturates). k* itself is finite up to
    ln k* = 709.78 (the largest float) and ``inf`` beyond (documented, not NaN); ``log=True``
    returns ln k* instead, finite for the McAllester form at any size.
    Source: seed 003; this module's :func:`tuning_cost`.

    >>> round(break_even_k(risk_gain=0.01, kl=10.0, n=10000, delta=0.05))
    8164610
    """
    g = check_real("risk_gain", risk_gain, min_value=0, scalar=True)
    fn = _bound_fn(bound)
    if emp_risk is not None:
        emp_risk = check_real("emp_risk", emp_risk, min_value=0, max_value=1, scalar=True)
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f"log={log!r}, must be True or False")
    kl = check_real("kl", kl, min_value=0, scalar=True)
    delta = check_real("delta", delta, min_value=0, max_value=1, include_min=False, include_max=False, scalar=True)
    _, kl, n, delta, _ = _check_common(0.0, kl, n, delta, 1)

    def out(log_k: float) -> float:
        log_k = max(log_k, 0.0)
        if log:
            return log_k
        return math.exp(log_k) if log_k <= _LOG_MAX_FLOAT else math.inf

    if bound == "mcallester":
        b0 = kl + _log_n_over_delta(n, delta) + 2.0
        m = 2 * n - 1
        # m (g + sqrt(b0/m))^2 - b0 = m g^2 + 2 g sqrt(m b0): no cancellation, no overflow of m g^2 first
        return out(g * (m * g + 2.0 * math.sqrt(m * b0)) if g > 0 else 0.0)
    if emp_risk is None:
        raise ValueError(f"emp_risk=None, must be in [0, 1] for bound={bound!r}")
    if emp_risk + g > 1:
        raise ValueError(f"risk_gain={g}, must be <= 1 - emp_risk = {1 - emp_risk}")
    target = float(fn(emp_risk + g, kl, n, delta, 1))
    if float(fn(emp_risk, kl, n, delta, math.exp(_LOG_MAX_FLOAT))) <= target:
        return math.inf
    lo, hi = 0.0, _LOG_MAX_FLOAT
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if float(fn(emp_risk, kl, n, delta, math.exp(mid))) <= target:
            lo = mid
        else:
            hi = mid
    return out(lo)


@dataclass(frozen=True)
class TunedBound:
    """A PAC-Bayes bound after selecting the best of k priors, with and without the log k charge."""

    bound: float
    """The valid bound: log k charged (holds with probability >= 1 - delta)."""
    uncharged: float
    """The same formula with k = 1: NOT a valid bound after tuning (too optimistic)."""
    cost: float
    """bound - uncharged: the price of tuning."""
    k: float
    name: str

    def __repr__(self) -> str:
        return (f"TunedBound({self.name}, k={self.k:g}: bound={self.bound:.4f} "
                f"(uncharged {self.uncharged:.4f}, cost of tuning {self.cost:.2g}))")


def tuned_bound(emp_risk: float, kl: float, n: int, delta: float, k, bound: str = "maurer", **kwargs) -> TunedBound:
    """"I tuned k priors; what does my bound become?": the bound with and without ln k.

    Returns a :class:`TunedBound` with ``bound`` (valid: ln k charged), ``uncharged`` (k = 1)
    and their difference ``cost``. ``bound`` names the form: "maurer" (default),
    "mcallester" or "catoni" (``C=`` via kwargs). Source: seed 003; [McA99]; [Mau04].

    >>> tuned_bound(emp_risk=0.05, kl=10.0, n=10000, delta=0.05, k=20)
    TunedBound(maurer, k=20: bound=0.0655 (uncharged 0.0643, cost of tuning 0.0012))
    """
    fn = _bound_fn(bound)
    allowed = {"catoni": ("C",)}.get(bound, ())
    extra = sorted(set(kwargs) - set(allowed))
    if extra:
        raise TypeError(f"unknown option(s) {extra} for bound={bound!r}; it takes {list(allowed) or 'none'} (C must be given for catoni only)")
    for name, value in (("emp_risk", emp_risk), ("kl", kl), ("delta", delta), ("k", k)):
        check_real(name, value, scalar=True)
    b = float(fn(emp_risk, kl, n, delta, k, **kwargs))
    u = float(fn(emp_risk, kl, n, delta, 1, **kwargs))
    return TunedBound(bound=b, uncharged=u, cost=b - u, k=float(k), name=bound)


# --------------------------------------------------------------------------- code length
def quantize_uniform(weights, num_levels: int):
    """Quantise ``weights`` to ``num_levels`` evenly spaced values spanning [min, max].

    Returns (symbols, codebook): integer symbols in [0, num_levels) and the level values,
    so that ``codebook[symbols]`` is the quantised vector (error <= half a level spacing).
    Source: [LFKGW22] Sec. 3 (they learn the codebook; a uniform grid is the simplest choice).

    >>> s, cb = quantize_uniform([0.0, 0.4, 1.0], 3)
    >>> s.tolist(), cb.tolist()
    ([0, 1, 2], [0.0, 0.5, 1.0])
    """
    w = np.asarray(check_real("weights", weights), dtype=float).ravel()
    num_levels = check_int("num_levels", num_levels, min_value=1, max_value=2**24)
    if w.size == 0:
        raise ValueError("weights is empty, must have at least one entry")
    lo, hi = float(w.min()), float(w.max())
    codebook = np.linspace(lo, hi, num_levels)
    if num_levels == 1 or hi == lo:
        return np.zeros(w.size, dtype=int), codebook
    symbols = np.clip(np.rint((w - lo) / (hi - lo) * (num_levels - 1)), 0, num_levels - 1).astype(int)
    return symbols, codebook


def elias_gamma_bits(x: int) -> int:
    """Length of the Elias gamma code of a positive integer: 2 floor(log2 x) + 1 bits.

    >>> [elias_gamma_bits(x) for x in (1, 2, 3, 4, 1000)]
    [1, 3, 3, 5, 19]
    """
    x = check_int("x", x, min_value=1)
    return 2 * (x.bit_length() - 1) + 1


def code_length_bits(symbols, num_levels: int, codebook_bits_per_level: int = 32) -> float:
    """Prefix-code length (bits) of a quantised weight vector: arithmetic code + side information.

    .. math:: L = \\Big\\lceil \\sum_i -\\log_2 \\hat p(s_i) \\Big\\rceil + 2 + K\\lceil\\log_2(d+1)\\rceil + K b + \\gamma(K)

    d symbols over K levels with empirical frequencies p_hat (the counts are sent first:
    K ceil(log2(d+1)) bits), arithmetic coding within 2 bits of the empirical entropy d H(p_hat),
    the codebook at b bits per level, and K itself by an Elias gamma code. The dimension d
    is part of the architecture (known to the decoder). The result is a valid prefix-code
    length, so 2^{-L} is a prior (Kraft) and KL = L ln 2 in :func:`occam_bound`.
    Source: [LFKGW22] Sec. 3.2 (quantisation + arithmetic coding); Cover & Thomas Sec. 13.3.

    >>> code_length_bits([0, 0, 0, 1], num_levels=2)
    79.0
    """
    num_levels = check_int("num_levels", num_levels, min_value=1, max_value=2**24)
    b = check_int("codebook_bits_per_level", codebook_bits_per_level, min_value=0, max_value=MAX_EXACT_INT)
    s = check_int_array("symbols", symbols, min_value=0, max_value=num_levels - 1, ndim=None).ravel()
    d = s.size
    counts = np.bincount(s, minlength=num_levels).astype(float)
    nz = counts[counts > 0]
    payload = float(-(nz * np.log2(nz / d)).sum())
    side = num_levels * math.ceil(math.log2(d + 1)) + num_levels * b + elias_gamma_bits(num_levels)
    return float(math.ceil(payload - 1e-9) + 2 + side)


# --------------------------------------------------------------------------- Gaussian posteriors
def gaussian_kl(w_norm_sq, d: int, sigma: float, sigma0: float):
    """KL(N(w, sigma^2 I_d) || N(0, sigma0^2 I_d)) in nats, in closed form.

    .. math:: \\mathrm{KL} = \\tfrac12\\Big(\\frac{\\|w\\|^2}{\\sigma_0^2} + d\\Big(\\frac{\\sigma^2}{\\sigma_0^2} - 1 - \\ln\\frac{\\sigma^2}{\\sigma_0^2}\\Big)\\Big)

    Source: Langford & Caruana, NIPS 2001; Dziugaite & Roy, UAI 2017, eq. (4).

    >>> gaussian_kl(2.0, d=3, sigma=1.0, sigma0=1.0)
    1.0
    """
    w2 = check_real("w_norm_sq", w_norm_sq, min_value=0)
    d = check_int("d", d, min_value=1, max_value=MAX_EXACT_INT)
    sigma = check_real("sigma", sigma, min_value=0, include_min=False, scalar=True)
    sigma0 = check_real("sigma0", sigma0, min_value=0, include_min=False, scalar=True)
    # r - 1 - ln r with ln r = 2 (ln sigma - ln sigma0): no 0 * inf or inf - inf for extreme ratios
    log_r = 2.0 * (math.log(sigma) - math.log(sigma0))
    shape = math.inf if log_r > _LOG_MAX_FLOAT else math.expm1(log_r) - log_r  # r - 1 - ln r >= 0
    with np.errstate(over="ignore"):
        data = (np.asarray(w2) / sigma0) / sigma0
        return as_output(0.5 * (data + d * shape))


GIBBS_QUADRATURE_TOL = 1e-10
"""Accuracy of :func:`gibbs_risk_linear` in d = 2 (periodic trapezoid rule, spacing <= 1/(8 rho))."""

_GIBBS_MAX_RHO = 1e6  # ||w|| / sigma beyond this: 8e6 quadrature nodes; refused with the supported range


def gibbs_risk_linear(w, mu, sigma: float):
    """Exact Gibbs risk E_{v ~ N(w, sigma^2 I)} R(v) of linear classifiers sign(<v, x>) when x | y ~ N(y mu, I).

    A single classifier has R(v) = Phi(-<v, mu> / ||v||) (y uniform on {-1, +1}). Exact
    cases: mu = 0 (every R(v) = 1/2, any d), and d = 2, where the angle phi of v has the
    projected-normal density (rho = ||w||/sigma, t = rho cos(phi - phi_w))

    .. math:: f(\\phi) = \\frac{e^{-\\rho^2/2}}{2\\pi} + \\frac{t\\,\\Phi(t)\\,e^{(t^2-\\rho^2)/2}}{\\sqrt{2\\pi}},\\qquad \\mathbb E_Q R = \\int_0^{2\\pi}\\Phi(-\\|\\mu\\|\\cos(\\phi-\\phi_\\mu)) f(\\phi)\\,d\\phi,

    a smooth periodic integrand: the trapezoid rule with >= 8 rho + 64 nodes is accurate to
    :data:`GIBBS_QUADRATURE_TOL`. ``w`` may be (reps, 2) (vectorised). d > 2 with mu != 0 has
    no closed form here: ValueError. Source: Mardia & Jupp 2000, eq. (3.5.45) (projected
    normal); Langford & Caruana 2001 (Gibbs linear classifiers).

    >>> round(gibbs_risk_linear([1.0, 0.0], [2.0, 0.0], sigma=1e-3), 6)  # ~ Phi(-2)
    0.02275
    """
    w = np.asarray(check_real("w", w), dtype=float)
    mu = np.asarray(check_real("mu", mu), dtype=float)
    sigma = check_real("sigma", sigma, min_value=0, include_min=False, scalar=True)
    if w.ndim < 1 or w.shape[-1] == 0:
        raise ValueError(f"w has shape {w.shape}, must be a vector (d,) or a stack of vectors (..., d)")
    if mu.ndim != 1 or mu.size == 0:
        raise ValueError(f"mu has shape {mu.shape}, must be a vector (d,)")
    if w.shape[-1] != mu.size:
        raise ValueError(f"w has dimension {w.shape[-1]}, must equal the dimension of mu = {mu.size}")
    if not np.any(mu):
        return as_output(np.full(w.shape[:-1], 0.5))
    if mu.size != 2:
        raise ValueError(f"mu has dimension {mu.size} and is nonzero, must have dimension 2 (the Gibbs risk is exact only for d = 2 or mu = 0)")
    w2 = w.reshape(-1, 2)
    scale = np.max(np.abs(w2), axis=1)  # ||w|| / sigma without overflow of the squares
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        rho = np.where(scale > 0, scale * np.hypot(w2[:, 0] / np.where(scale > 0, scale, 1.0),
                                                   w2[:, 1] / np.where(scale > 0, scale, 1.0)) / sigma, 0.0)
    if not np.all(rho <= _GIBBS_MAX_RHO):
        bad = float(rho[~(rho <= _GIBBS_MAX_RHO)][0])
        raise ValueError(f"sigma={sigma!r} gives ||w||/sigma = {bad:.3g}, must be >= ||w|| / {_GIBBS_MAX_RHO:g} "
                         f"(the quadrature uses 8 ||w||/sigma nodes; the Gibbs risk is then the point mass's to ~1/rho^2)")
    phi_w = np.arctan2(w2[:, 1], w2[:, 0])
    m = int(64 + 8 * math.ceil(float(rho.max())))
    phi = 2 * math.pi * np.arange(m) / m
    risk = special.ndtr(-np.linalg.norm(mu) * np.cos(phi - math.atan2(mu[1], mu[0])))
    out = np.empty(len(w2))
    step = max(1, (1 << 22) // m)  # rows per block: blocks of <= 4M nodes
    for a in range(0, len(w2), step):
        r = rho[a:a + step, None]
        t = r * np.cos(phi[None, :] - phi_w[a:a + step, None])
        dens = np.exp(-0.5 * r**2) / (2 * math.pi) + t * special.ndtr(t) * np.exp(0.5 * (t**2 - r**2)) / math.sqrt(2 * math.pi)
        out[a:a + step] = (dens * risk[None, :]).sum(axis=1) * (2 * math.pi / m)
    return as_output(out.reshape(w.shape[:-1]))
