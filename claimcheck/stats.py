"""Statistical tests that decide a claim's verdict; each one can fail.

Every test has two sides (DESIGN.md, "Statistics must give checks teeth"):

* **significance**: the simulation contradicts the claim at a small fixed ``alpha``
  (default 1e-6, two-sided z ~ 4.89) -> ``failed``;
* **power**: the simulation is precise enough that a deviation of ``rel_tol`` (relative
  to the prediction) would be detected with probability ``POWER`` -> otherwise
  ``underpowered``, never ``passed``.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from claimcheck._lazy import lazy_module
from claimcheck.estimate import Estimate
from claimcheck.verdict import Status

optimize = lazy_module("scipy.optimize")
stats = lazy_module("scipy.stats")

__all__ = [
    "ALPHA",
    "POWER",
    "z_critical",
    "required_se",
    "TestResult",
    "exact_test",
    "bound_test",
    "asymptotic_test",
    "coverage_test",
    "clopper_pearson",
    "difference",
]

ALPHA = 1e-6
"""Default family-wise false-failure rate of one claim check."""
POWER = 0.9
"""Probability with which a powered check detects a deviation of ``rel_tol``."""


def z_critical(alpha: float = ALPHA, two_sided: bool = True, df: float | None = None) -> float:
    """Critical value of the test statistic: standard normal (e.g. 4.89 for alpha = 1e-6,
    two-sided) or, when the SE is itself estimated from ``df + 1`` replicates, Student t
    with ``df`` degrees of freedom (heavier tails for small samples; -> normal as df grows)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha}, must be in (0, 1)")
    q = alpha / 2 if two_sided else alpha
    if df is not None and df < 10**6:
        if df < 1:
            raise ValueError(f"df={df}, must be >= 1")
        return _t_isf(q, df)
    return _norm_isf(q)


# scipy.stats' distribution methods cost ~100 us a call in argument handling; a check decides with
# the same few (alpha, df) again and again (operating_rates: thousands of times), so the quantiles are
# memoised: the same scipy call on the same arguments, hence the same float.
@functools.lru_cache(maxsize=4096)
def _t_isf(q: float, df: float) -> float:
    return float(stats.t.isf(q, df))


@functools.lru_cache(maxsize=4096)
def _norm_isf(q: float) -> float:
    return float(stats.norm.isf(q))


@functools.lru_cache(maxsize=256)
def _norm_ppf(p: float) -> float:
    return float(stats.norm.ppf(p))


def required_se(effect: float, alpha: float = ALPHA, power: float = POWER, two_sided: bool = True, df: float | None = None) -> float:
    """Largest SE at which a deviation ``effect`` is detected with probability ~``power``."""
    return abs(effect) / (z_critical(alpha, two_sided, df) + _norm_ppf(power))


@dataclass(frozen=True)
class TestResult:
    status: Status
    z: float
    estimate: Estimate
    detail: str
    extra: dict


def _z(diff: float, se: float) -> float:
    if se > 0:
        return diff / se
    return 0.0 if diff == 0 else math.copysign(math.inf, diff)


def _scale(prediction: float, abs_floor: float) -> float:
    return max(abs(prediction), abs_floor)


def exact_test(prediction: float, est: Estimate, *, alpha: float = ALPHA, rel_tol: float = 0.05, abs_floor: float = 1e-12) -> TestResult:
    """Two-sided z-test of E[estimator] = prediction, with a power requirement.

    failed if ``|z| > z_{alpha/2}``; underpowered if ``SE > rel_tol * |prediction| / (z_{alpha/2} + z_power)``.
    The critical value is Student t with n - 1 degrees of freedom (the SE is estimated).

    >>> exact_test(1.0, Estimate(1.001, 0.001, 1000)).status.value
    'passed'
    >>> exact_test(1.0, Estimate(1.1, 0.001, 1000)).status.value
    'failed'
    >>> exact_test(1.0, Estimate(1.0, 0.05, 10)).status.value
    'underpowered'
    """
    zc = z_critical(alpha, df=est.n - 1)
    z = _z(est.mean - prediction, est.se)
    need = required_se(rel_tol * _scale(prediction, abs_floor), alpha, df=est.n - 1)
    if not math.isfinite(prediction) or abs(z) > zc:
        status = Status.FAILED
        detail = f"|z| = {abs(z):.2f} > {zc:.2f}: simulation contradicts the prediction"
    elif est.se > need:
        status = Status.UNDERPOWERED
        detail = f"SE {est.se:.3g} > {need:.3g} needed to detect a {rel_tol:.0%} deviation with power {POWER:.0%}"
    else:
        status = Status.PASSED
        detail = f"|z| = {abs(z):.2f} <= {zc:.2f}; powered to detect a {rel_tol:.0%} deviation"
    return TestResult(status, z, est, detail, {"z_critical": zc, "required_se": need})


def bound_test(bound: float, est: Estimate, *, alpha: float = ALPHA, rel_tol: float = 0.05, abs_floor: float = 1e-12) -> TestResult:
    """One-sided test of the claim E[quantity] <= bound (failed if z = (mean - bound)/SE > z_alpha).

    >>> bound_test(1.0, Estimate(0.5, 0.001, 1000)).status.value
    'passed'
    >>> bound_test(1.0, Estimate(1.2, 0.001, 1000)).status.value
    'failed'
    """
    zc = z_critical(alpha, two_sided=False, df=est.n - 1)
    z = _z(est.mean - bound, est.se)
    need = required_se(rel_tol * _scale(bound, abs_floor), alpha, two_sided=False, df=est.n - 1)
    if z > zc:
        status, detail = Status.FAILED, f"z = {z:.2f} > {zc:.2f}: the bound is violated"
    elif est.se > need:
        status, detail = Status.UNDERPOWERED, f"SE {est.se:.3g} > {need:.3g} needed to detect a {rel_tol:.0%} violation"
    else:
        status, detail = Status.PASSED, f"margin {bound - est.mean:.4g} (z = {z:.2f} <= {zc:.2f})"
    return TestResult(status, z, est, detail, {"z_critical": zc, "margin": bound - est.mean})


def asymptotic_test(
    limit: float,
    sizes,
    estimates: list[Estimate],
    *,
    rate: float = 1.0,
    alpha: float = ALPHA,
    rel_tol: float = 0.05,
    abs_floor: float = 1e-12,
) -> TestResult:
    """Test that E[finite-size quantity] -> ``limit`` as the size grows, at rate size^-rate.

    The discrepancies D_k = mean_k - limit at sizes n_k are fitted by weighted least squares
    to ``delta + sum_{j=1}^{J} C_j n_k^{-j rate}`` with J = K - 2 (K sizes): a Richardson
    extrapolation to n = inf that keeps one degree of freedom for a goodness-of-fit test.
    The claim fails if the extrapolated offset delta is significantly non-zero (wrong limit)
    or the chi^2 misfit is significant (wrong rate), each at alpha / 2 (the two statistics are
    independent under the Gaussian linear model, so together they fail a true claim with
    probability alpha); it is underpowered if SE(delta) cannot resolve a ``rel_tol`` deviation.
    The free power-law fit D = C n^-a is reported as the observed rate.
    """
    n = np.asarray(sizes, dtype=float)
    K = n.size
    if K < 3 or len(estimates) != K:
        raise ValueError(f"sizes has {K} entries, must have >= 3 matching the estimates")
    D = np.array([e.mean for e in estimates]) - limit
    se = np.array([e.se for e in estimates])
    if not (np.isfinite(D).all() and limit == limit and math.isfinite(limit)):
        est = Estimate(float("nan"), float("inf"), sum(e.n for e in estimates))
        return TestResult(Status.FAILED, math.inf, est, "non-finite limit or discrepancy", {})
    J = K - 2
    A = np.column_stack([np.ones(K)] + [n ** (-j * rate) for j in range(1, J + 1)])
    w = 1.0 / se**2
    AtW = A.T * w
    cov = np.linalg.inv(AtW @ A)
    coef = cov @ (AtW @ D)
    resid = D - A @ coef
    chi2 = float(np.sum(w * resid**2))
    p_fit = float(stats.chi2.sf(chi2, df=K - J - 1))
    delta, se_delta = float(coef[0]), float(math.sqrt(cov[0, 0]))
    est = Estimate(limit + delta, se_delta, sum(e.n for e in estimates))
    df = min(e.n for e in estimates) - 1
    zc = z_critical(alpha / 2, df=df)
    z = _z(delta, se_delta)
    need = required_se(rel_tol * _scale(limit, abs_floor), alpha / 2, df=df)
    observed = _observed_rate(n, D, se)
    rate_txt = f"observed rate n^-{observed[0]:.2f}±{observed[1]:.2f}" if observed else "observed rate n/a"
    extra = {
        "sizes": n.tolist(),
        "discrepancies": D.tolist(),
        "discrepancy_se": se.tolist(),
        "chi2": chi2,
        "p_fit": p_fit,
        "observed_rate": observed[0] if observed else None,
        "observed_rate_se": observed[1] if observed else None,
        "z_critical": zc,
    }
    if abs(z) > zc:
        status = Status.FAILED
        detail = f"extrapolated offset {delta:.3g} ± {se_delta:.2g} (|z| = {abs(z):.2f} > {zc:.2f}): wrong limit; {rate_txt}"
    elif p_fit < alpha / 2:
        status = Status.FAILED
        detail = f"discrepancy does not follow n^-{rate:g} (chi2 = {chi2:.1f}, p = {p_fit:.2g}); {rate_txt}"
    elif se_delta > need:
        status = Status.UNDERPOWERED
        detail = f"SE of extrapolation {se_delta:.3g} > {need:.3g} needed for a {rel_tol:.0%} deviation; {rate_txt}"
    else:
        status = Status.PASSED
        detail = f"offset {delta:.2g} ± {se_delta:.2g} at n = inf (|z| = {abs(z):.2f}); fit p = {p_fit:.2g}; {rate_txt}"
    return TestResult(status, z, est, detail, extra)


def _observed_rate(n, D, se):
    """Fit D = C n^-a by weighted nonlinear least squares; None if D is not resolved."""
    if np.all(np.abs(D) < 2 * se):
        return None
    try:
        with np.errstate(all="ignore"):
            (c, a), pcov = optimize.curve_fit(
                lambda x, c, a: c * (x / x[0]) ** (-a), n, D, p0=(D[0] if D[0] != 0 else 1e-3, 1.0),
                sigma=se, absolute_sigma=True, maxfev=2000,
            )
        a_se = float(math.sqrt(pcov[1, 1]))
        return (float(a), a_se) if math.isfinite(a_se) else None
    except (RuntimeError, ValueError, optimize.OptimizeWarning):
        return None


def clopper_pearson(successes, trials, confidence: float = 0.95, alternative: str = "two-sided"):
    """Exact (Clopper-Pearson) confidence interval ``(low, high)`` of a binomial proportion, via
    ``scipy.stats.binomtest(...).proportion_ci``; arrays of counts give arrays of limits.

    ``alternative="greater"`` gives a one-sided lower bound (high = 1), ``"less"`` an upper one.

    >>> lo, hi = clopper_pearson(95, 100)
    >>> round(lo, 4), round(hi, 4)
    (0.8872, 0.9836)
    """
    k = np.asarray(successes)
    n = np.broadcast_to(np.asarray(trials), k.shape)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence}, must be in (0, 1)")
    if k.size and (np.any(k < 0) or np.any(k > n) or np.any(n < 1)):
        raise ValueError(f"successes={successes}, trials={trials}, must satisfy 0 <= successes <= trials, trials >= 1")
    lows, highs = np.empty(k.shape), np.empty(k.shape)
    for idx in np.ndindex(k.shape):
        ci = stats.binomtest(int(k[idx]), int(n[idx]), alternative=alternative).proportion_ci(
            confidence_level=confidence, method="exact")
        lows[idx], highs[idx] = ci.low, ci.high
    if k.ndim == 0:
        return float(lows), float(highs)
    return lows, highs


def coverage_test(successes: int, trials: int, level: float, *, alpha: float = ALPHA, rel_tol: float = 0.5) -> TestResult:
    """Exact one-sided binomial test of the claim P(event) >= level (e.g. a bound holds w.p. >= 1 - delta).

    failed if the Clopper-Pearson upper confidence bound at 1 - alpha lies below ``level``;
    underpowered unless the test would detect a true rate of level - rel_tol (1 - level)
    with probability ``POWER``.

    >>> coverage_test(9500, 10000, 0.95).status.value
    'passed'
    >>> coverage_test(800, 1000, 0.95).status.value
    'failed'
    """
    if not (0 <= successes <= trials and trials >= 1):
        raise ValueError(f"successes={successes}, trials={trials}, must satisfy 0 <= successes <= trials, trials >= 1")
    p_value, upper, ci_low, ci_high, power, alt = _coverage_numbers(successes, trials, level, alpha, rel_tol)
    rate = successes / trials
    se = math.sqrt(max(rate * (1 - rate), 1e-300) / trials)
    est = Estimate(rate, se, trials)
    z = _z(rate - level, math.sqrt(level * (1 - level) / trials))
    extra = {"p_value": p_value, "upper_bound": upper, "ci95_low": ci_low, "ci95_high": ci_high, "power": power}
    if p_value < alpha:
        status, detail = Status.FAILED, f"coverage {rate:.4f}; exact upper bound {upper:.4f} at 1 - alpha is below {level:g} (p = {p_value:.2g})"
    elif power < POWER:
        status, detail = Status.UNDERPOWERED, f"{trials} trials detect coverage {alt:.4g} with power {power:.0%} < {POWER:.0%}"
    else:
        status, detail = Status.PASSED, f"coverage {rate:.4f} (95% CI [{ci_low:.4f}, {ci_high:.4f}]), compatible with >= {level:g}"
    return TestResult(status, z, est, detail, extra)


@functools.lru_cache(maxsize=4096)
def _coverage_numbers(successes: int, trials: int, level: float, alpha: float, rel_tol: float) -> tuple:
    """The scipy part of :func:`coverage_test` (exact binomial p-value, Clopper-Pearson limits,
    power), memoised: ~5 ms a call, and operating_rates / repeated checks ask for the same
    (successes, trials) again and again."""
    res = stats.binomtest(successes, trials, level, alternative="less")
    upper = clopper_pearson(successes, trials, 1 - alpha, alternative="less")[1]
    ci_low, ci_high = clopper_pearson(successes, trials, 0.95)
    # Reject when successes <= k_c, the largest k with P(K <= k | level) < alpha.
    k_c = int(stats.binom.ppf(alpha, trials, level)) - 1
    alt = level - rel_tol * (1 - level)
    power = float(stats.binom.cdf(k_c, trials, alt)) if k_c >= 0 else 0.0
    return float(res.pvalue), upper, ci_low, ci_high, power, alt


def difference(a: Estimate, b: Estimate) -> Estimate:
    """a - b for independent estimates."""
    return Estimate(a.mean - b.mean, math.sqrt(a.se**2 + b.se**2), min(a.n, b.n))
