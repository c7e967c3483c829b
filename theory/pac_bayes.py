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
from dataclasses import dataclass

import numpy as np
from scipy import special

from claimcheck.theory.validation import as_output, check_int, check_real

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


# --------------------------------------------------------------------------- validation
def _check_common(emp_risk, kl, n, delta, k):
    emp_risk = check_real("emp_risk", emp_risk, min_value=0, max_value=1)
    kl = check_real("kl", kl, min_value=0)
    n = check_int("n", n, min_value=1)
    delta = check_real("delta", delta, min_value=0, max_value=1, include_min=False, include_max=False)
    k = check_real("k", k, min_value=1)
    return emp_risk, kl, n, delta, k


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
    return as_output(_kl(np.asarray(q, float), np.asarray(p, float)))


def _kl(q, p):
    """Vectorised kl(q||p) without validation (inf where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(q > 0, special.xlogy(q, q) - special.xlogy(q, p), 0.0)
        b = np.where(q < 1, (1 - q) * (np.log1p(-q) - np.log1p(-p)), 0.0)  # log1p: exact for tiny p
        out = a + b
    out = np.where(((p == 0) & (q > 0)) | ((p == 1) & (q < 1)), np.inf, out)
    return np.maximum(out, 0.0)  # rounding can give -1e-17 at q == p


def kl_inverse_upper(q, c, *, _kl_fn=None):
    """Upper kl inverse: the largest p in [q, 1] with kl(q || p) <= c.

    .. math:: \\mathrm{kl}^{-1}(q, c) = \\sup\\{p \\in [q, 1] : \\mathrm{kl}(q\\|p) \\le c\\}

    Bisection on [q, 1], where kl(q||.) increases, 64 halvings keeping the upper end: the
    result is never below the exact supremum and exceeds it by at most :data:`KL_INVERSE_TOL`
    (2^-64 < 1e-19 in exact arithmetic; kl uses log1p, accurate for tiny p). Edge cases:
    c = 0 -> q; q = 1 -> 1; c = inf, or c >= ln(1/(1-q)) = kl(q||1^-), -> 1 (to the tolerance).
    Accepts arrays (broadcast).
    Source: [Mau04] Thm 5; Seeger, JMLR 3 (2002), Thm 1.

    >>> round(kl_inverse_upper(0.1, 0.05), 6)
    0.220079
    >>> kl_inverse_upper(0.0, 0.0), kl_inverse_upper(1.0, 3.0), kl_inverse_upper(0.3, math.inf)
    (0.0, 1.0, 1.0)
    """
    q = check_real("q", q, min_value=0, max_value=1)
    c = check_real("c", c, min_value=0, allow_inf=True)
    kl_fn = _kl if _kl_fn is None else _kl_fn
    qa, ca = np.broadcast_arrays(np.asarray(q, float), np.asarray(c, float))
    lo = qa.copy()
    hi = np.ones_like(qa)
    done = kl_fn(qa, hi) <= ca  # p = 1 itself is feasible (q = 1, or c = inf)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        ok = kl_fn(qa, mid) <= ca
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
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
    return as_output(np.asarray(emp_risk) + np.sqrt((np.asarray(kl) + np.log(k) + np.log(n / np.asarray(delta)) + 2.0) / (2 * n - 1)))


def maurer_xi(n: int) -> float:
    """Maurer's constant xi(n) = E exp(n kl(R_hat || R)) at its worst case (Bernoulli mean).

    .. math:: \\xi(n) = \\sum_{j=0}^n \\binom nj (j/n)^j (1-j/n)^{n-j}, \\qquad \\sqrt n \\le \\xi(n) \\le 2\\sqrt n\\ (n \\ge 8)

    The kl bound may use ln(xi(n)/delta) instead of ln(2 sqrt(n)/delta).
    Source: [Mau04] Thm 1 and its proof.

    >>> maurer_xi(1), round(maurer_xi(2), 6)
    (2.0, 2.5)
    """
    n = check_int("n", n, min_value=1)
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
    c = (np.asarray(kl) + np.log(k) + np.log(2 * math.sqrt(n) / np.asarray(delta))) / n
    return kl_inverse_upper(emp_risk, c)


def catoni_bound(emp_risk, kl, n: int, delta: float, k=1, C: float = 1.0):
    """Catoni's PAC-Bayes bound for a fixed trade-off C > 0, charged log k for tuning.

    .. math:: \\mathbb E_Q R \\le \\frac{1 - \\exp\\big(-C\\,\\mathbb E_Q\\hat R - (\\mathrm{KL}(Q\\|P) + \\ln(k/\\delta))/n\\big)}{1 - e^{-C}}

    with probability >= 1 - delta (C must be fixed before seeing the data; tuning C over a
    grid of k values is paid by the same log k). Source: [Cat07] Thm 1.2.6.

    >>> round(catoni_bound(emp_risk=0.05, kl=10.0, n=10000, delta=0.05, C=0.1), 6)
    0.06599
    """
    emp_risk, kl, n, delta, k = _check_common(emp_risk, kl, n, delta, k)
    C = check_real("C", C, min_value=0, include_min=False)
    num = -np.expm1(-C * np.asarray(emp_risk) - (np.asarray(kl) + np.log(k) + np.log(1 / np.asarray(delta))) / n)
    return as_output(num / -math.expm1(-C))


BOUNDS = {"mcallester": mcallester_bound, "maurer": maurer_bound, "catoni": catoni_bound}
"""The PAC-Bayes bounds by name, each ``f(emp_risk, kl, n, delta, k=1)``."""


def _bound_fn(bound: str):
    if bound not in BOUNDS:
        raise ValueError(f"bound={bound!r}, must be one of {', '.join(repr(b) for b in BOUNDS)}")
    return BOUNDS[bound]


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
    return _bound_fn(bound)(emp_risk, np.asarray(bits) * math.log(2), n, delta, k)


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
    if bound == "mcallester":
        _, kl, n, delta, k = _check_common(0.0, kl, n, delta, k)
        b0 = np.asarray(kl) + np.log(n / np.asarray(delta)) + 2.0
        m = 2 * n - 1
        # sqrt(a + x) - sqrt(a) = x / (sqrt(a + x) + sqrt(a)): no cancellation for small x.
        lk = np.log(k)
        return as_output(lk / m / (np.sqrt((b0 + lk) / m) + np.sqrt(b0 / m)))
    fn = _bound_fn(bound)
    if emp_risk is None:
        raise ValueError(f"emp_risk=None, must be in [0, 1] for bound={bound!r} (its cost depends on it)")
    return as_output(np.asarray(fn(emp_risk, kl, n, delta, k)) - np.asarray(fn(emp_risk, kl, n, delta, 1)))


def tuning_cost_upper(n: int, k):
    """Envelope of the McAllester tuning cost: sqrt(ln k / (2n - 1)) (sqrt subadditivity).

    >>> round(tuning_cost_upper(n=10000, k=20), 6)
    0.012239
    """
    n = check_int("n", n, min_value=1)
    k = check_real("k", k, min_value=1)
    return as_output(np.sqrt(np.log(k) / (2 * n - 1)))


def break_even_k(risk_gain: float, kl: float, n: int, delta: float, bound: str = "mcallester", emp_risk: float | None = None) -> float:
    """The largest k for which tuning over k priors pays off, given the empirical-risk gain.

    Tuning pays off while the reduction of the empirical risk it buys exceeds the tuning
    cost, ``risk_gain >= tuning_cost(k)``. McAllester, B0 = KL + ln(n/delta) + 2, m = 2n - 1:

    .. math:: \\ln k^* = m\\Big(g + \\sqrt{B_0/m}\\Big)^2 - B_0

    For "maurer"/"catoni" (``emp_risk`` = the risk *after* tuning) k* solves
    B(emp_risk, k) = B(emp_risk + g, 1) by bisection in ln k; ``inf`` if even k -> inf would
    pay off (the bound saturates) or ln k* overflows a float (documented, not NaN).
    Source: seed 003; this module's :func:`tuning_cost`.

    >>> round(break_even_k(risk_gain=0.01, kl=10.0, n=10000, delta=0.05))
    8164610
    """
    g = check_real("risk_gain", risk_gain, min_value=0)
    if bound == "mcallester":
        _, kl, n, delta, _ = _check_common(0.0, kl, n, delta, 1)
        b0 = kl + math.log(n / delta) + 2.0
        m = 2 * n - 1
        log_k = m * (g + math.sqrt(b0 / m)) ** 2 - b0
        return math.exp(log_k) if log_k < 709.0 else math.inf
    fn = _bound_fn(bound)
    if emp_risk is None:
        raise ValueError(f"emp_risk=None, must be in [0, 1] for bound={bound!r}")
    emp_risk = check_real("emp_risk", emp_risk, min_value=0, max_value=1)
    if emp_risk + g > 1:
        raise ValueError(f"risk_gain={g}, must be <= 1 - emp_risk = {1 - emp_risk}")
    target = float(fn(emp_risk + g, kl, n, delta, 1))
    if float(fn(emp_risk, kl, n, delta, math.exp(700.0))) <= target:
        return math.inf
    lo, hi = 0.0, 700.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if float(fn(emp_risk, kl, n, delta, math.exp(mid))) <= target:
            lo = mid
        else:
            hi = mid
    return math.exp(lo)


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
    num_levels = check_int("num_levels", num_levels, min_value=1)
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
    num_levels = check_int("num_levels", num_levels, min_value=1)
    b = check_int("codebook_bits_per_level", codebook_bits_per_level, min_value=0)
    s = np.asarray(symbols).ravel()
    if s.size == 0 or not np.issubdtype(s.dtype, np.integer) or s.min() < 0 or s.max() >= num_levels:
        raise ValueError(f"symbols must be a non-empty integer array with values in [0, {num_levels}), got {s[:5]!r}...")
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
    d = check_int("d", d, min_value=1)
    sigma = check_real("sigma", sigma, min_value=0, include_min=False)
    sigma0 = check_real("sigma0", sigma0, min_value=0, include_min=False)
    r = (sigma / sigma0) ** 2
    return as_output(0.5 * (np.asarray(w2) / sigma0**2 + d * (r - 1.0 - math.log(r))))


GIBBS_QUADRATURE_TOL = 1e-10
"""Accuracy of :func:`gibbs_risk_linear` in d = 2 (periodic trapezoid rule, spacing <= 1/(8 rho))."""


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
    mu = np.asarray(check_real("mu", mu), dtype=float).ravel()
    sigma = check_real("sigma", sigma, min_value=0, include_min=False)
    if w.shape[-1] != mu.size:
        raise ValueError(f"w has dimension {w.shape[-1]}, must equal the dimension of mu = {mu.size}")
    if not np.any(mu):
        return as_output(np.full(w.shape[:-1], 0.5))
    if mu.size != 2:
        raise ValueError(f"mu has dimension {mu.size} != 2 and is nonzero; the Gibbs risk is exact only for d = 2 or mu = 0")
    w2 = np.atleast_2d(w)
    rho = np.hypot(w2[:, 0], w2[:, 1]) / sigma
    phi_w = np.arctan2(w2[:, 1], w2[:, 0])
    m = int(64 + 8 * math.ceil(float(rho.max())))
    phi = 2 * math.pi * np.arange(m) / m
    t = rho[:, None] * np.cos(phi[None, :] - phi_w[:, None])
    dens = np.exp(-0.5 * rho[:, None] ** 2) / (2 * math.pi) + t * special.ndtr(t) * np.exp(0.5 * (t**2 - rho[:, None] ** 2)) / math.sqrt(2 * math.pi)
    risk = special.ndtr(-np.linalg.norm(mu) * np.cos(phi - math.atan2(mu[1], mu[0])))
    out = (dens * risk[None, :]).sum(axis=1) * (2 * math.pi / m)
    return as_output(out.reshape(w.shape[:-1]))
