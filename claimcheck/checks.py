"""Checks as values: the decision rules that turn a measurement into a verdict.

A claim names its decision rule with one object from this module (``Claim(check=Exact())``);
no claim writes its own pass/fail logic. Each check has

* a **pure decision** ``decide(prediction, measurement, params) -> Decision`` on numbers
  (an :class:`~claimcheck.estimate.Estimate`, a :class:`~claimcheck.estimate.Curve`, ...),
  testable on synthetic inputs; it returns ``passed`` / ``failed`` / ``underpowered``;
* a **driver** ``measure(claim, params, reps, seed, round_)`` that gets the measurement from
  the claim's ``simulate`` (the engine doubles replicates while a decision is underpowered);
* a one-line ``summary(verdict)`` of its statistic for tables and reports.

Every decision can fail: ``failed`` means the measurement contradicts the claim at the
check's ``alpha`` (family-wise over the points of a curve, by Holm's step-down procedure);
``passed`` means it is consistent with the claim *and* precise enough to have detected the
stated deviation (or, for shape and threshold claims, significant in the claimed direction);
anything in between is ``underpowered``, never ``passed``.

======================  ===========================================================  ==========================
check                   claim                                                        measurement
======================  ===========================================================  ==========================
:class:`Exact`          E X = prediction (two-sided z / Student t, power rule);      Estimate or Curve
                        on a curve: at every point, Holm over the points
:class:`Asymptotic`     E X_n -> prediction at rate n^-rate (Richardson fit)         Curve over a size ladder
:class:`Bound`          E X <= prediction (one-sided)                                Estimate
:class:`Coverage`       P(event) >= prediction (exact binomial, Clopper-Pearson)     Estimate (a frequency)
:class:`Monotone`       the curve decreases (or increases) at every step, Holm       Curve (independent points)
:class:`Band`           the statistic lies in [low, high] at every (or some) point   Estimate or Curve
:class:`ThresholdCI`    a Student t interval over seeds lies above / below a         Estimate over seeds
                        threshold (the GPU jobs' rule)
:class:`TwoSample`      two curves are equal at every step (or differ), Holm, power  (Curve, Curve)
:class:`Deterministic`  an identity / inequality holds to a stated rounding          Estimate or Curve, SE 0
                        tolerance at every input
:class:`AllOf`          several of the above on named parts of one measurement       mapping of parts
======================  ===========================================================  ==========================

The kind-specific numbers of a decision are ``Decision.statistic`` (documented per class in
``STATISTIC``); they become ``Verdict.statistic`` and, with ``Verdict.kind``, make a verdict's
JSON self-describing.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from claimcheck import stats
from claimcheck._lazy import lazy_module
from claimcheck.estimate import Curve, Estimate
from claimcheck.streams import claim_rng
from claimcheck.verdict import Status

special = lazy_module("scipy.special")
sps = lazy_module("scipy.stats")

__all__ = [
    "ALPHA", "POWER", "Decision", "Check", "Exact", "Asymptotic", "Bound", "Coverage", "Monotone", "Band",
    "ThresholdCI", "TwoSample", "Deterministic", "AllOf", "holm", "holm_adjusted", "upper_tail", "operating_rates",
]

ALPHA = stats.ALPHA
POWER = stats.POWER


@functools.lru_cache(maxsize=None)
def _z_power() -> float:
    """The normal quantile at POWER (computed on first use: scipy.stats is imported lazily)."""
    return float(sps.norm.ppf(POWER))


# --------------------------------------------------------------------------- multiple testing
def holm(pvalues, alpha: float) -> np.ndarray:
    """Holm's step-down procedure: which hypotheses are rejected at family-wise level ``alpha``.

    Sort the p-values p_(1) <= ... <= p_(m); reject H_(1), ..., H_(k-1) where k is the first
    index with p_(k) > alpha / (m - k + 1). Controls the family-wise error rate at ``alpha``
    under any dependence (Holm 1979); rejects every hypothesis Bonferroni rejects, and more.

    >>> holm([0.01, 0.04, 0.03], 0.05).tolist()
    [True, False, False]
    >>> holm([0.01, 0.02, 0.03], 0.05).tolist()
    [True, True, True]
    """
    p = np.asarray(pvalues, dtype=float).ravel()
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha}, must be in (0, 1)")
    if np.isnan(p).any():
        raise ValueError("pvalues contain NaN")
    m = p.size
    order = np.argsort(p, kind="stable")
    ok = p[order] <= alpha / (m - np.arange(m))
    k = m if ok.all() else int(np.argmin(ok))
    rejected = np.zeros(m, dtype=bool)
    rejected[order[:k]] = True
    return rejected


def holm_adjusted(pvalues) -> np.ndarray:
    """Holm-adjusted p-values: H_i is rejected at level alpha iff adjusted p_i <= alpha.

    >>> holm_adjusted([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float).ravel()
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def upper_tail(z, df=None) -> np.ndarray:
    """P(T >= z) for Student t with ``df`` degrees of freedom (normal for df None, >= 1e6 or < 1).

    z = +inf gives 0 and z = -inf gives 1 (a difference measured without error).
    """
    z = np.asarray(z, dtype=float)
    if df is None:
        return special.ndtr(-z)
    d = np.broadcast_to(np.asarray(df, dtype=float), z.shape)
    use_t = (d >= 1) & (d < 1e6)
    return np.where(use_t, special.stdtr(np.where(use_t, d, 1.0), -z), special.ndtr(-z))  # ufuncs: no scipy.stats overhead


def _z(diff, se):
    """diff / se elementwise; a difference measured without error is 0 or +-inf."""
    diff = np.asarray(diff, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.copysign(np.inf, diff)))
    return z


def _crit(alpha, df, two_sided=True):
    """Critical value per point (Student t with df >= 1, normal otherwise)."""
    df = np.asarray(df, dtype=float)
    q = alpha / 2 if two_sided else alpha
    use_t = (df >= 1) & (df < 1e6)
    return np.where(use_t, special.stdtrit(np.where(use_t, df, 1.0), 1 - q), -special.ndtri(q))


def _fmt_x(x) -> str:
    return f"{x:g}" if isinstance(x, (float, np.floating)) else str(x)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Decision:
    """The outcome of a check's decision rule.

    ``prediction``, ``estimate`` and ``z`` are the reported point (the worst one for a curve);
    ``statistic`` holds the kind-specific numbers (see each class's ``STATISTIC``).
    """

    status: Status
    prediction: float
    estimate: Estimate
    z: float
    detail: str
    statistic: dict = field(default_factory=dict)


def _resolve(value, params: Mapping[str, Any] | None, name: str):
    """A check field given as a number, or as the name of a claim parameter holding it."""
    if isinstance(value, str):
        if params is None or value not in params:
            raise ValueError(f"{name}={value!r} names a parameter the claim does not have (params: {sorted(params or {})})")
        value = params[value]
    return value


def _as_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}={value!r}, must be a real number")
    v = float(value)
    if math.isnan(v):
        raise ValueError(f"{name}=nan, must be a real number")
    return v


# --------------------------------------------------------------------------- base class
def _real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _finite_positive(x) -> bool:
    return _real(x) and math.isfinite(float(x)) and float(x) > 0


def _finite_or_name(x) -> bool:  # a number, or the name of a parameter holding it
    return isinstance(x, str) or (_real(x) and math.isfinite(float(x)))


_FIELD_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "alpha": (lambda x: _real(x) and 0 < float(x) < 1, "a real number > 0 and < 1"),
    "rel_tol": (_finite_positive, "a finite real number > 0"),
    "abs_scale": (lambda x: isinstance(x, str) or _finite_positive(x), "a finite real number > 0 or a parameter name"),
    "target": (lambda x: x is None or (_real(x) and math.isfinite(float(x))), "None or a finite real number"),
    "rate": (_finite_positive, "a finite real number > 0"),
    "sizes": (lambda x: x is None or callable(x), "a function params -> [(size, params), ...]"),
    "rep_factors": (lambda x: x is None or (isinstance(x, (tuple, list)) and len(x) > 0 and all(_finite_positive(v) for v in x)),
                    "None or a non-empty tuple of finite real numbers > 0"),
    "direction": (lambda x: x is None or (type(x) is int and x in (-1, 1)), "-1, +1 or None"),
    "low": (lambda x: x is None or _finite_or_name(x), "None, a finite real number or a parameter name"),
    "high": (lambda x: x is None or _finite_or_name(x), "None, a finite real number or a parameter name"),
    "half_width": (lambda x: x is None or isinstance(x, str) or _finite_positive(x), "None, a finite real number > 0 or a parameter name"),
    "threshold": (_finite_or_name, "a finite real number or a parameter name"),
    "min_n": (lambda x: isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)), "an integer >= 2"),
    "every": (lambda x: isinstance(x, bool), "True or False"),
    "equal": (lambda x: isinstance(x, bool), "True or False"),
    "labels": (lambda x: isinstance(x, tuple) and len(x) == 2 and all(isinstance(v, str) for v in x), "a tuple of two strings"),
}
"""What each check field may hold: ``Check.__post_init__`` refuses anything else with a
TypeError/ValueError naming the field (a check built with ``rel_tol=nan`` or ``alpha=True``
could otherwise pass or fail everything)."""


@dataclass(frozen=True)
class Check:
    """A decision rule (subclasses are frozen dataclasses; every field has a default).

    ``alpha`` is the check's false-failure rate under a true claim (family-wise over points).
    Every field is validated at construction (:data:`_FIELD_RULES`).
    """

    alpha: float = ALPHA

    kind: ClassVar[str] = "check"
    accepts: ClassVar[tuple] = (Estimate,)
    STATISTIC: ClassVar[str] = ""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            rule = _FIELD_RULES.get(f.name)
            if rule is not None and not rule[0](getattr(self, f.name)):
                value = getattr(self, f.name)
                cls = ValueError if _real(value) or value is None or isinstance(value, (tuple, list)) else TypeError
                raise cls(f"{type(self).__name__}({f.name}={value!r:.60}): {f.name} must be {rule[1]}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha={self.alpha}, must be in (0, 1)")

    # ----------------------------------------------------------- pure decision
    def decide(self, prediction, measurement, params: Mapping[str, Any] | None = None) -> Decision:
        raise NotImplementedError

    # ----------------------------------------------------------- driver
    def measure(self, claim, params: dict, reps: int, seed: int, round_: int):
        """The claim's measurement with ``reps`` replicates from the round's own stream."""
        m = claim.run_simulation(params, reps, claim_rng(claim.id, seed, round_))
        self.check_measurement(m, claim.id)
        return m

    def check_measurement(self, m, claim_id: str = "?") -> None:
        """TypeError unless ``m`` is a measurement this check can decide on."""
        if not isinstance(m, self.accepts):
            want = " or ".join(t.__name__ for t in self.accepts)
            raise TypeError(f"claim {claim_id!r}: simulate returned {type(m).__name__} ({m!r:.60}); "
                            f"the {self.kind} check needs {want}")

    def measure_rounds(self, claim, params: dict, reps: int, seed: int, round_: int, history: list):
        """Round ``round_`` of the engine's doubling loop. An :class:`Estimate` is pooled with the
        earlier rounds' (fresh streams; round r adds reps 2^(r-1), doubling the total); any other
        measurement (curves with their own structure) is re-simulated with reps 2^round."""
        if round_ > 0 and history and isinstance(history[0], Estimate):
            history.append(self.measure(claim, params, reps * 2 ** (round_ - 1), seed, round_))
            return self.pool(history)
        m = self.measure(claim, params, reps * 2**round_, seed, round_)
        history[:] = [m]
        return m

    def pool(self, parts: list):
        return Estimate.pooled(parts)

    # ----------------------------------------------------------- reports
    def summary(self, verdict) -> str:
        """One line describing the decision's statistic (for tables and reports)."""
        return self.describe(verdict.statistic)

    def describe(self, statistic: Mapping[str, Any]) -> str:
        return ""

    def with_options(self, *, rel_tol: float | None = None, alpha: float | None = None) -> "Check":
        """A copy with ``rel_tol`` (where the check has one) and ``alpha`` replaced."""
        changes = {}
        if alpha is not None:
            changes["alpha"] = alpha
        if rel_tol is not None and "rel_tol" in {f.name for f in dataclasses.fields(self)}:
            changes["rel_tol"] = rel_tol
        return dataclasses.replace(self, **changes) if changes else self

    def needs_prediction(self) -> bool:
        """Whether :meth:`decide` compares with the claim's prediction (else its target is fixed)."""
        return True

    @property
    def label(self) -> str:
        """The kind shown in tables and reports (``exact``, ``monotone``, ...; ``a+b`` for :class:`AllOf`)."""
        return self.kind


# --------------------------------------------------------------------------- exact
@dataclass(frozen=True)
class Exact(Check):
    """E[estimator] = prediction, two-sided, with a power rule.

    On an :class:`Estimate`: failed if ``|z| > t_{alpha/2, n-1}``; underpowered if
    ``SE > rel_tol max(|prediction|, abs_scale) / (t_{alpha/2} + z_power)`` (a ``rel_tol`` deviation
    would be missed); else passed. On a :class:`Curve` with one prediction per point: the same at
    every point, failed if Holm at ``alpha`` rejects any point, the power rule at each point at
    alpha / K. ``target`` replaces the prediction by a fixed value (the claim's formula then
    enters through the simulation, e.g. a stability ratio that must equal 1).

    An infinite prediction fails with a detail that says so (no finite simulation confirms it).

    >>> Exact().decide(1.0, Estimate(1.001, 0.001, 1000)).status.value
    'passed'
    >>> Exact().decide([1.0, 2.0], Curve.from_estimates([1, 2], [Estimate(1.0, 1e-3, 999), Estimate(2.1, 1e-3, 999)])).status.value
    'failed'
    """

    rel_tol: float = 0.05
    abs_scale: float | str = 1e-12  # or the name of a parameter holding the scale
    target: float | None = None

    kind: ClassVar[str] = "exact"
    accepts: ClassVar[tuple] = (Estimate, Curve)
    STATISTIC: ClassVar[str] = ("Estimate: z, z_critical, se, required_se, rel_tol. Curve: x, prediction, mean, se, z, "
                                "p_value (two-sided), rejected (Holm), required_se, z_critical (at alpha/K), rel_tol")

    def __post_init__(self):
        super().__post_init__()
        if not self.rel_tol > 0:
            raise ValueError(f"rel_tol={self.rel_tol}, must be > 0")

    def needs_prediction(self) -> bool:
        return self.target is None

    def decide(self, prediction, measurement, params=None) -> Decision:
        pred = self.target if self.target is not None else prediction
        scale = _as_float(_resolve(self.abs_scale, params, "abs_scale"), "abs_scale")
        if isinstance(measurement, Curve):
            return self._decide_curve(pred, measurement, scale)
        p = _as_float(pred, "prediction")
        if not math.isfinite(p):
            return Decision(Status.FAILED, p, measurement, math.inf,
                            f"the prediction is {p}: no finite simulation can confirm it (estimate {measurement})",
                            {"z": "inf", "se": measurement.se, "rel_tol": self.rel_tol})
        r = stats.exact_test(p, measurement, alpha=self.alpha, rel_tol=self.rel_tol, abs_floor=scale)
        st = {"z": r.z, "z_critical": r.extra["z_critical"], "se": measurement.se, "required_se": r.extra["required_se"],
              "rel_tol": self.rel_tol}
        if self.target is not None:
            st["target"] = self.target
        return Decision(r.status, p, measurement, float(r.z), r.detail, st)

    def _decide_curve(self, pred, c: Curve, scale: float) -> Decision:
        K = len(c)
        pr = np.asarray(pred, dtype=float).ravel()
        if pr.size == 1 and K > 1:
            pr = np.full(K, float(pr[0]))
        if pr.size != K:
            raise ValueError(f"prediction has {pr.size} values, the measured curve {K} points")
        if np.isnan(pr).any():
            raise ValueError(f"prediction is NaN at x={_fmt_x(c.x[int(np.argmax(np.isnan(pr)))])}")
        m, se, n = np.asarray(c.mean), np.asarray(c.se), np.asarray(c.n)
        df = n - 1
        if not np.isfinite(pr).all():
            k = int(np.argmax(~np.isfinite(pr)))
            return Decision(Status.FAILED, float(pr[k]), c[k], math.inf,
                            f"the prediction is {pr[k]} at x={_fmt_x(c.x[k])}: no finite simulation can confirm it",
                            {"x": list(c.x), "prediction": pr.tolist(), "mean": list(c.mean), "se": list(c.se)})
        z = _z(m - pr, se)
        pv = np.minimum(1.0, 2 * upper_tail(np.abs(z), df))
        rejected = holm(pv, self.alpha)
        zc = _crit(self.alpha / K, df)
        need = np.abs(self.rel_tol * np.maximum(np.abs(pr), scale)) / (zc + _z_power())
        worst = int(np.argmax(np.abs(z)))
        st = {"x": list(c.x), "prediction": pr.tolist(), "mean": list(c.mean), "se": list(c.se), "z": z.tolist(),
              "p_value": pv.tolist(), "rejected": rejected.tolist(), "required_se": need.tolist(),
              "z_critical": zc.tolist(), "rel_tol": self.rel_tol}
        if self.target is not None:
            st["target"] = self.target
        if rejected.any():
            k = int(np.argmax(np.where(rejected, np.abs(z), -1)))
            status = Status.FAILED
            detail = (f"{int(rejected.sum())} of {K} points contradict the prediction (Holm at {self.alpha:g}); "
                      f"x={_fmt_x(c.x[k])}: prediction {pr[k]:.5g} vs {c[k]} (|z| = {abs(z[k]):.1f})")
            worst = k
        elif (se > need).any():
            k = int(np.argmax(se / need))
            status = Status.UNDERPOWERED
            detail = (f"x={_fmt_x(c.x[k])}: SE {se[k]:.3g} > {need[k]:.3g} needed to detect a {self.rel_tol:.0%} deviation "
                      f"with power {POWER:.0%} ({int((se > need).sum())} of {K} points)")
        else:
            status = Status.PASSED
            detail = f"prediction matches at all {K} points (max |z| = {np.abs(z).max():.2f}, Holm at {self.alpha:g}); powered for {self.rel_tol:.0%}"
        return Decision(status, float(pr[worst]), c[worst], float(z[worst]), detail, st)

    def describe(self, s) -> str:
        if "x" in s and "z" in s:
            z = np.abs(np.asarray(s["z"], dtype=float))
            k = int(np.argmax(z))
            return (f"{len(z)} points, max |z| = {z[k]:.2f} at x={_fmt_x(s['x'][k])} "
                    f"(Holm; t crit {s['z_critical'][k]:.2f} at alpha/K), SE <= required at "
                    f"{int(np.sum(np.asarray(s['se']) <= np.asarray(s['required_se'])))}/{len(z)}")
        if "z_critical" in s:
            tgt = f" vs target {s['target']:g}" if "target" in s else ""
            return f"z = {float(s['z']):+.2f}{tgt} (fails beyond ±{s['z_critical']:.2f}), SE {s['se']:.2g} (needs <= {s['required_se']:.2g} for {s['rel_tol']:.0%})"
        return "prediction not finite"


# --------------------------------------------------------------------------- bound
@dataclass(frozen=True)
class Bound(Check):
    """E[quantity] <= prediction (one-sided): failed if z = (mean - bound)/SE > t_alpha;
    underpowered if SE cannot resolve a ``rel_tol`` violation; else passed.

    >>> Bound().decide(1.0, Estimate(1.2, 0.001, 1000)).status.value
    'failed'
    """

    rel_tol: float = 0.05
    abs_scale: float = 1e-12

    kind: ClassVar[str] = "bound"
    STATISTIC: ClassVar[str] = "margin (bound - mean), z, z_critical, se, required_se, rel_tol"

    def decide(self, prediction, measurement, params=None) -> Decision:
        b = _as_float(prediction, "prediction")
        r = stats.bound_test(b, measurement, alpha=self.alpha, rel_tol=self.rel_tol, abs_floor=self.abs_scale)
        need = stats.required_se(self.rel_tol * max(abs(b), self.abs_scale), self.alpha, two_sided=False, df=measurement.n - 1)
        st = {"margin": r.extra["margin"], "z": r.z, "z_critical": r.extra["z_critical"], "se": measurement.se,
              "required_se": need, "rel_tol": self.rel_tol}
        return Decision(r.status, b, measurement, float(r.z), r.detail, st)

    def describe(self, s) -> str:
        return f"margin {s['margin']:.4g} below the bound (z = {float(s['z']):+.2f}, fails above {s['z_critical']:.2f}), SE {s['se']:.2g}"


# --------------------------------------------------------------------------- coverage
@dataclass(frozen=True)
class Coverage(Check):
    """P(event) >= prediction (a level 1 - delta), exact binomial test.

    The measurement is a frequency: ``Estimate(successes / trials, se, trials)``. Failed if the
    Clopper-Pearson upper confidence bound at 1 - alpha lies below the level; underpowered
    unless a true rate of level - rel_tol (1 - level) would be detected with probability 90%.
    Rounds are pooled by summing successes and trials.

    >>> Coverage().decide(0.95, Estimate(0.8, 0.01, 1000)).status.value
    'failed'
    """

    rel_tol: float = 0.5

    kind: ClassVar[str] = "coverage"
    STATISTIC: ClassVar[str] = "successes, trials, rate, level, ci95_low, ci95_high (Clopper-Pearson), upper_bound (at 1 - alpha), p_value, power"

    def decide(self, prediction, measurement, params=None) -> Decision:
        level = _as_float(prediction, "prediction")
        trials = int(measurement.n)
        successes = int(round(measurement.mean * trials))
        r = stats.coverage_test(successes, trials, level, alpha=self.alpha, rel_tol=self.rel_tol)
        st = {"successes": successes, "trials": trials, "rate": successes / trials, "level": level, **r.extra}
        return Decision(r.status, level, r.estimate, float(r.z), r.detail, st)

    def pool(self, parts: list):
        trials = sum(p.n for p in parts)
        successes = sum(round(p.mean * p.n) for p in parts)
        rate = successes / trials
        return Estimate(rate, math.sqrt(max(rate * (1 - rate), 1e-300) / trials), trials)

    def describe(self, s) -> str:
        return (f"coverage {s['rate']:.4f} ({s['successes']}/{s['trials']}); 95% lower bound {s['ci95_low']:.4f}, "
                f"upper bound {s['upper_bound']:.4f} at 1 - alpha vs level {s['level']:g}; power {s['power']:.0%}")


# --------------------------------------------------------------------------- asymptotic
@dataclass(frozen=True)
class Asymptotic(Check):
    """E X_n -> prediction as n grows, at rate n^-rate: simulated at the ladder ``sizes(params)``
    (a list of (size, params at that size)), Richardson fit of the discrepancies
    (:func:`claimcheck.stats.asymptotic_test`): failed if the extrapolated offset is significant
    or the fit rejects the rate; underpowered if the offset's SE cannot resolve ``rel_tol``.
    ``rep_factors`` multiply the replicates per ladder size. Rounds are pooled per size."""

    sizes: Callable[[dict], list] | None = None
    rate: float = 1.0
    rep_factors: tuple | None = None
    rel_tol: float = 0.05
    abs_scale: float = 1e-12

    kind: ClassVar[str] = "asymptotic"
    accepts: ClassVar[tuple] = (Curve,)
    STATISTIC: ClassVar[str] = ("sizes, discrepancies, discrepancy_se, offset, offset_se, chi2, p_fit, rate (claimed), "
                                "observed_rate, observed_rate_se, z_critical")

    def __post_init__(self):
        super().__post_init__()
        if self.sizes is None:
            raise ValueError("Asymptotic needs sizes: a function params -> [(size, params at that size), ...]")

    def measure(self, claim, params, reps, seed, round_):
        ladder = self.sizes(params)
        factors = self.rep_factors or (1.0,) * len(ladder)
        ests = []
        for k, ((_, q), f) in enumerate(zip(ladder, factors)):
            e = claim.run_simulation(q, max(2, math.ceil(reps * f)), claim_rng(claim.id, seed, round_, k))
            if not isinstance(e, Estimate):
                raise TypeError(f"claim {claim.id!r}: simulate returned {type(e).__name__}; the asymptotic check needs an Estimate per size")
            ests.append(e)
        return Curve.from_estimates([s for s, _ in ladder], ests)

    def measure_rounds(self, claim, params, reps, seed, round_, history):
        history.append(self.measure(claim, params, reps if round_ == 0 else reps * 2 ** (round_ - 1), seed, round_))
        return self.pool(history)

    def pool(self, parts):
        c0 = parts[0]
        return Curve.from_estimates(c0.x, [Estimate.pooled([c[k] for c in parts]) for k in range(len(c0))])

    def decide(self, prediction, measurement, params=None) -> Decision:
        limit = _as_float(prediction, "prediction")
        r = stats.asymptotic_test(limit, list(measurement.x), measurement.estimates(), rate=self.rate, alpha=self.alpha,
                                  rel_tol=self.rel_tol, abs_floor=self.abs_scale)
        st = {**r.extra, "offset": r.estimate.mean - limit if math.isfinite(limit) else None,
              "offset_se": r.estimate.se, "rate": self.rate}
        return Decision(r.status, limit, r.estimate, float(r.z), r.detail, st)

    def describe(self, s) -> str:
        obs = s.get("observed_rate")
        rate = f"fitted rate n^-{obs:.2f} ± {s['observed_rate_se']:.2f}" if obs is not None else "rate not resolved"
        if s.get("offset") is None:
            return "non-finite limit"
        return f"offset at n = inf {s['offset']:.3g} ± {s['offset_se']:.2g}; {rate} (claimed n^-{s['rate']:g}; fit p = {s['p_fit']:.2g})"


# --------------------------------------------------------------------------- monotone
@dataclass(frozen=True)
class Monotone(Check):
    """The curve moves in one direction at every step (``direction`` -1: decreasing, +1:
    increasing; None: the sign of the prediction).

    Steps d_i = m_{i+1} - m_i with SE sqrt(se_i^2 + se_{i+1}^2) (independent points), one-sided
    Student t p-values with min(n_i, n_{i+1}) - 1 degrees of freedom. Failed if Holm at
    ``alpha`` finds a step significantly against the direction; passed if Holm rejects
    "not in the direction" at every step; otherwise underpowered (a step in the right
    direction that is not yet significant is never a failure).

    >>> c = Curve.from_estimates([1, 2, 3], [Estimate(3.0, 0.01, 999), Estimate(2.0, 0.01, 999), Estimate(1.0, 0.01, 999)])
    >>> Monotone(direction=-1).decide(None, c).status.value
    'passed'
    """

    direction: int | None = -1

    kind: ClassVar[str] = "monotone"
    accepts: ClassVar[tuple] = (Curve,)
    STATISTIC: ClassVar[str] = ("x, mean, se, direction, step, step_se, step_z (positive = claimed direction), "
                                "p_wrong, p_right, against (Holm), significant (Holm)")

    def __post_init__(self):
        super().__post_init__()
        if self.direction not in (-1, 1, None):
            raise ValueError(f"direction={self.direction!r}, must be -1, +1 or None (the sign of the prediction)")

    def needs_prediction(self) -> bool:
        return self.direction is None

    def _direction(self, prediction) -> int:
        if self.direction is not None:
            return self.direction
        p = _as_float(prediction, "prediction")
        if p == 0:
            raise ValueError("prediction=0: a monotone check needs a direction (+1 increasing, -1 decreasing)")
        return 1 if p > 0 else -1

    def decide(self, prediction, measurement, params=None) -> Decision:
        c = measurement
        if len(c) < 2:
            raise ValueError(f"a monotone check needs >= 2 points, the curve has {len(c)}")
        s = self._direction(prediction)
        m, se, n = np.asarray(c.mean), np.asarray(c.se), np.asarray(c.n)
        d = np.diff(m)
        dse = np.hypot(se[1:], se[:-1])
        df = np.minimum(n[1:], n[:-1]) - 1
        zr = s * _z(d, dse)
        p_wrong = upper_tail(-zr, df)
        p_right = upper_tail(zr, df)
        against = holm(p_wrong, self.alpha)
        significant = holm(p_right, self.alpha)
        word = "decreases" if s < 0 else "increases"
        st = {"x": list(c.x), "mean": list(c.mean), "se": list(c.se), "direction": s, "step": d.tolist(),
              "step_se": dse.tolist(), "step_z": zr.tolist(), "p_wrong": p_wrong.tolist(), "p_right": p_right.tolist(),
              "against": against.tolist(), "significant": significant.tolist()}

        def at(i):
            return f"x={_fmt_x(c.x[i])} -> {_fmt_x(c.x[i + 1])}"

        if against.any():
            i = int(np.argmin(np.where(against, zr, np.inf)))
            status = Status.FAILED
            detail = f"the curve moves against the claim ({word}) at {at(i)}: step {d[i]:+.4g} ± {dse[i]:.2g} (z = {zr[i]:+.1f}, Holm at {self.alpha:g})"
        elif significant.all():
            i = int(np.argmin(zr))
            status = Status.PASSED
            detail = f"the curve {word} significantly at every one of {d.size} steps (min z = {zr[i]:+.1f}, Holm at {self.alpha:g})"
        else:
            i = int(np.argmin(np.where(significant, np.inf, zr)))
            status = Status.UNDERPOWERED
            detail = (f"{int((~significant).sum())} of {d.size} steps not resolved in the claimed direction "
                      f"(weakest {at(i)}: z = {zr[i]:+.1f}); not contradicted")
        return Decision(status, float(s), Estimate(float(d[i]), float(dse[i]), int(min(n[i], n[i + 1]))), float(zr[i]), detail, st)

    def describe(self, s) -> str:
        z = np.asarray(s["step_z"], dtype=float)
        word = "down" if s["direction"] < 0 else "up"
        return (f"{z.size} steps {word}: {int(np.sum(s['significant']))} significant, {int(np.sum(s['against']))} against "
                f"(Holm); step z = [{', '.join(f'{v:+.1f}' for v in z)}]")


# --------------------------------------------------------------------------- band
@dataclass(frozen=True)
class Band(Check):
    """The statistic lies in [low, high] at every point (``every=True``) or at some point
    (``every=False``).

    Bounds are numbers, names of claim parameters, or ``half_width`` around the prediction
    (then the band is prediction +- half_width). Per point, one-sided Student t p-values for
    "inside" (both sides; the larger p) and "outside" (the smaller p, doubled when both bounds
    are finite). every=True: failed if Holm finds a point significantly outside, passed if Holm
    shows every point significantly inside; every=False: passed if Holm shows some point
    significantly inside, failed if it shows every point significantly outside. Otherwise
    underpowered. Passing needs significance inside, so a passed band is a powered one.

    >>> Band(low=0.5, high=1.5).decide(None, Estimate(1.0, 0.05, 100)).status.value
    'passed'
    >>> Band(half_width=0.5).decide(0.0, Estimate(1.0, 0.05, 100)).status.value
    'failed'
    """

    low: float | str | None = None
    high: float | str | None = None
    half_width: float | str | None = None
    every: bool = True

    kind: ClassVar[str] = "band"
    accepts: ClassVar[tuple] = (Estimate, Curve)
    STATISTIC: ClassVar[str] = ("x, mean, se, low, high, every, z_low ((mean - low)/SE), z_high ((high - mean)/SE), "
                                "p_inside, p_outside, inside (Holm), outside (Holm)")

    def __post_init__(self):
        super().__post_init__()
        if self.half_width is not None and (self.low is not None or self.high is not None):
            raise ValueError("give either half_width (a band around the prediction) or low/high, not both")
        if self.half_width is None and self.low is None and self.high is None:
            raise ValueError("a band needs low, high or half_width")

    def needs_prediction(self) -> bool:
        return self.half_width is not None

    def bounds(self, prediction, params, k: int):
        """(low, high) arrays of length k."""
        if self.half_width is not None:
            hw = _as_float(_resolve(self.half_width, params, "half_width"), "half_width")
            if not hw > 0:
                raise ValueError(f"half_width={hw}, must be > 0")
            c = np.asarray(prediction, dtype=float).ravel()
            c = np.full(k, c[0]) if c.size == 1 else c
            if c.size != k:
                raise ValueError(f"prediction has {c.size} values, the measurement {k} points")
            return c - hw, c + hw
        lo = -math.inf if self.low is None else _as_float(_resolve(self.low, params, "low"), "low")
        hi = math.inf if self.high is None else _as_float(_resolve(self.high, params, "high"), "high")
        if not lo < hi:
            raise ValueError(f"band [{lo}, {hi}] is empty: low must be < high")
        return np.full(k, lo), np.full(k, hi)

    def decide(self, prediction, measurement, params=None) -> Decision:
        c = measurement if isinstance(measurement, Curve) else Curve.from_estimates(["-"], [measurement])
        K = len(c)
        lo, hi = self.bounds(prediction, params, K)
        m, se, n = np.asarray(c.mean), np.asarray(c.se), np.asarray(c.n)
        df = n - 1
        z_lo = np.where(np.isfinite(lo), _z(m - np.where(np.isfinite(lo), lo, 0.0), se), np.inf)
        z_hi = np.where(np.isfinite(hi), _z(np.where(np.isfinite(hi), hi, 0.0) - m, se), np.inf)
        p_in = np.maximum(upper_tail(z_lo, df), upper_tail(z_hi, df))
        two = np.isfinite(lo) & np.isfinite(hi)
        p_out = np.minimum(1.0, np.where(two, 2.0, 1.0) * np.minimum(upper_tail(-z_lo, df), upper_tail(-z_hi, df)))
        inside, outside = holm(p_in, self.alpha), holm(p_out, self.alpha)
        zmin = np.minimum(z_lo, z_hi)  # > 0 inside, < 0 outside
        st = {"x": list(c.x), "mean": list(c.mean), "se": list(c.se), "low": lo.tolist(), "high": hi.tolist(),
              "every": self.every, "z_low": z_lo.tolist(), "z_high": z_hi.tolist(), "p_inside": p_in.tolist(),
              "p_outside": p_out.tolist(), "inside": inside.tolist(), "outside": outside.tolist()}

        def band(k):
            return f"[{lo[k]:.4g}, {hi[k]:.4g}]"

        def pt(k):
            return "" if K == 1 else f" at x={_fmt_x(c.x[k])}"

        if self.every:
            if outside.any():
                k = int(np.argmin(np.where(outside, zmin, np.inf)))
                status, detail = Status.FAILED, f"{c[k]}{pt(k)} lies outside {band(k)} (z = {zmin[k]:.1f}, Holm at {self.alpha:g})"
            elif inside.all():
                k = int(np.argmin(zmin))
                status, detail = Status.PASSED, (f"{'every point' if K > 1 else 'the statistic'} lies significantly inside the band "
                                                 f"(closest: {c[k]}{pt(k)} in {band(k)}, z = {zmin[k]:.1f})")
            else:
                k = int(np.argmin(np.where(inside, np.inf, zmin)))
                status, detail = Status.UNDERPOWERED, f"{c[k]}{pt(k)} not resolved inside {band(k)} (z = {zmin[k]:.1f}); not contradicted"
        else:
            k = int(np.argmax(zmin))
            if inside.any():
                status, detail = Status.PASSED, f"{c[k]}{pt(k)} lies significantly inside {band(k)} (z = {zmin[k]:.1f}, Holm over {K} points)"
            elif outside.all():
                status, detail = Status.FAILED, f"every point lies outside the band (closest: {c[k]}{pt(k)} vs {band(k)}, z = {zmin[k]:.1f})"
            else:
                status, detail = Status.UNDERPOWERED, f"no point resolved inside the band (best: {c[k]}{pt(k)} vs {band(k)}, z = {zmin[k]:.1f})"
        centre = prediction if self.half_width is not None else None
        rep = float(np.asarray(centre, dtype=float).ravel()[k if np.size(centre) > 1 else 0]) if centre is not None else float(
            lo[k] if np.isfinite(lo[k]) and (not np.isfinite(hi[k]) or abs(m[k] - lo[k]) < abs(hi[k] - m[k])) else hi[k])
        return Decision(status, rep, c[k], float(zmin[k]), detail, st)

    def describe(self, s) -> str:
        K = len(s["x"])
        lo, hi = s["low"][0], s["high"][0]
        rng = f"[{lo:.4g}, {hi:.4g}]" if K == 1 or len(set(s["low"])) == 1 else "the band"
        mode = "every" if s["every"] else "some"
        zmin = np.minimum(s["z_low"], s["z_high"])
        edge = f"min z to the edge {np.min(zmin):.1f}" if s["every"] else f"max z inside {np.max(zmin):.1f}"
        return (f"{mode} point in {rng}: {int(np.sum(s['inside']))}/{K} significantly inside, "
                f"{int(np.sum(s['outside']))} outside (Holm); {edge}")


# --------------------------------------------------------------------------- threshold on a CI over seeds
@dataclass(frozen=True)
class ThresholdCI(Check):
    """A sign / threshold decision on a Student t confidence interval over seeds.

    The measurement is the mean of one statistic over m seeds (``Estimate.from_samples``); the
    interval is mean +- t_{1 - alpha/2, m-1} SE (two-sided, level 1 - alpha). ``side="above"``:
    passed if the whole interval lies above ``threshold``, failed if it lies below it,
    underpowered if it straddles it or fewer than ``min_n`` seeds were run (``side="below"``
    mirrors this). With normal seed noise a passed verdict on a statistic exactly at the
    threshold happens with probability alpha / 2 (the t interval's coverage is exact; a
    percentile bootstrap over 3 seeds covers ~76% at a nominal 95%).

    >>> ThresholdCI(threshold=0.0, alpha=0.05).decide(None, Estimate.from_samples([1.0, 1.2, 0.9])).status.value
    'passed'
    """

    threshold: float | str = 0.0
    side: str = "above"
    min_n: int = 2

    kind: ClassVar[str] = "ci_threshold"
    STATISTIC: ClassVar[str] = "mean, se, n, level, ci_low, ci_high, t_critical, threshold, side"

    def __post_init__(self):
        super().__post_init__()
        if self.side not in ("above", "below"):
            raise ValueError(f"side={self.side!r}, must be 'above' or 'below'")
        if self.min_n < 2:
            raise ValueError(f"min_n={self.min_n}, must be >= 2 (an interval needs a spread)")

    def needs_prediction(self) -> bool:
        return False

    def decide(self, prediction, measurement, params=None) -> Decision:
        thr = _as_float(_resolve(self.threshold, params, "threshold"), "threshold")
        e = measurement
        if e.n < self.min_n:
            st = {"mean": e.mean, "se": e.se, "n": e.n, "level": 1 - self.alpha, "ci_low": None, "ci_high": None,
                  "t_critical": None, "threshold": thr, "side": self.side}
            return Decision(Status.UNDERPOWERED, thr, e, 0.0, f"{e.n} seeds < {self.min_n}: no interval, not a verdict", st)
        tc = float(_crit(self.alpha, e.n - 1))
        lo, hi = e.mean - tc * e.se, e.mean + tc * e.se
        ci = f"{e.mean:.4g} [{lo:.4g}, {hi:.4g}] (t-interval at level 1 - {self.alpha:.2g}, {e.n} samples)"
        above, below = lo > thr, hi < thr
        ok, bad = (above, below) if self.side == "above" else (below, above)
        rel = ">" if self.side == "above" else "<"
        if ok:
            status, detail = Status.PASSED, f"{ci} {rel} {thr:g}"
        elif bad:
            status, detail = Status.FAILED, f"{ci} lies on the wrong side of {thr:g}: contradicts the claim"
        else:
            status, detail = Status.UNDERPOWERED, f"{ci} straddles {thr:g}: more seeds needed"
        z = float(_z(e.mean - thr, e.se))
        st = {"mean": e.mean, "se": e.se, "n": e.n, "level": 1 - self.alpha, "ci_low": lo, "ci_high": hi,
              "t_critical": tc, "threshold": thr, "side": self.side}
        return Decision(status, thr, e, z if self.side == "above" else -z, detail, st)

    def describe(self, s) -> str:
        if s.get("ci_low") is None:
            return f"{s['n']} seeds: no interval"
        rel = ">" if s["side"] == "above" else "<"
        return (f"{s['mean']:.4g} [{s['ci_low']:.4g}, {s['ci_high']:.4g}] (t-interval at level 1 - {1 - s['level']:.2g}, "
                f"{s['n']} samples) vs claim {rel} {s['threshold']:g}")


# --------------------------------------------------------------------------- two-sample curves
@dataclass(frozen=True)
class TwoSample(Check):
    """Two curves (a, b) at the same points: equal at every point (``equal=True``) or different
    somewhere (``equal=False``). Differences d = a - b with SE sqrt(se_a^2 + se_b^2)
    (independent curves; b may be exact, SE 0), Student t with min(n) - 1 degrees of freedom.

    equal=True: failed if Holm at ``alpha`` rejects equality at some point; underpowered if some
    difference SE exceeds what detects ``rel_tol max(|b|, abs_scale)`` with power 90% at alpha / K;
    else passed. equal=False: passed if Holm rejects equality at some point; failed if every
    difference is significantly inside ``+- rel_tol max(|b|, abs_scale)`` (equivalence, TOST);
    else underpowered.

    >>> a = Curve.from_estimates([1, 2], [Estimate(1.0, 0.001, 999), Estimate(2.0, 0.001, 999)])
    >>> TwoSample().decide(None, (a, Curve.exact([1, 2], [1.0, 2.0]))).status.value
    'passed'
    """

    equal: bool = True
    rel_tol: float = 0.05
    abs_scale: float = 1e-12
    labels: tuple = ("a", "b")

    kind: ClassVar[str] = "two_sample"
    accepts: ClassVar[tuple] = (tuple,)
    STATISTIC: ClassVar[str] = "x, a, b, diff, diff_se, z, p_value, rejected (Holm), margin, required_se, equal, labels"

    def needs_prediction(self) -> bool:
        return False

    def check_measurement(self, m, claim_id="?"):
        super().check_measurement(m, claim_id)
        if len(m) != 2 or not all(isinstance(c, Curve) for c in m):
            raise TypeError(f"claim {claim_id!r}: the two_sample check needs a pair (Curve, Curve)")

    def decide(self, prediction, measurement, params=None) -> Decision:
        self.check_measurement(measurement)
        a, b = measurement
        if len(a) != len(b):
            raise ValueError(f"curves have {len(a)} and {len(b)} points, must match")
        K = len(a)
        ma, mb = np.asarray(a.mean), np.asarray(b.mean)
        d = ma - mb
        dse = np.hypot(np.asarray(a.se), np.asarray(b.se))
        nb = np.where(np.asarray(b.se) > 0, np.asarray(b.n), np.iinfo(np.int64).max)
        df = np.minimum(np.asarray(a.n), nb) - 1
        z = _z(d, dse)
        pv = np.minimum(1.0, 2 * upper_tail(np.abs(z), df))
        rejected = holm(pv, self.alpha)
        margin = self.rel_tol * np.maximum(np.abs(mb), self.abs_scale)
        zc = _crit(self.alpha / K, df)
        need = margin / (zc + _z_power())
        A, B = self.labels
        st = {"x": list(a.x), "a": list(a.mean), "b": list(b.mean), "diff": d.tolist(), "diff_se": dse.tolist(),
              "z": z.tolist(), "p_value": pv.tolist(), "rejected": rejected.tolist(), "margin": margin.tolist(),
              "required_se": need.tolist(), "equal": self.equal, "labels": list(self.labels)}

        def pt(k):
            return f"x={_fmt_x(a.x[k])}: {A} {a[k]} vs {B} {b[k]}"

        worst = int(np.argmax(np.abs(z)))
        if self.equal:
            if rejected.any():
                status = Status.FAILED
                detail = f"{A} and {B} differ at {int(rejected.sum())} of {K} points (Holm at {self.alpha:g}); {pt(worst)} (|z| = {abs(z[worst]):.1f})"
            elif (dse > need).any():
                worst = int(np.argmax(dse / need))
                status = Status.UNDERPOWERED
                detail = f"{pt(worst)}: difference SE {dse[worst]:.3g} > {need[worst]:.3g} needed for a {self.rel_tol:.0%} difference"
            else:
                status = Status.PASSED
                detail = f"{A} = {B} at all {K} points (max |z| = {abs(z[worst]):.2f}, Holm); powered for {self.rel_tol:.0%}"
        else:
            zeq = np.minimum(_z(margin - d, dse), _z(d + margin, dse))
            p_eq = upper_tail(zeq, df)
            st["p_equivalent"] = p_eq.tolist()
            if rejected.any():
                status, detail = Status.PASSED, f"{A} and {B} differ at {int(rejected.sum())} of {K} points; {pt(worst)} (|z| = {abs(z[worst]):.1f})"
            elif holm(p_eq, self.alpha).all():
                status, detail = Status.FAILED, f"{A} = {B} within ±{self.rel_tol:.0%} at every point (equivalence test): no difference"
            else:
                status, detail = Status.UNDERPOWERED, f"no significant difference (max |z| = {abs(z[worst]):.1f}), equality not shown either"
        return Decision(status, float(mb[worst]), a[worst], float(z[worst]), detail, st)

    def describe(self, s) -> str:
        z = np.abs(np.asarray(s["z"], dtype=float))
        k = int(np.argmax(z))
        A, B = s["labels"]
        return (f"{A} - {B} at {z.size} points: max |z| = {z[k]:.2f} at x={_fmt_x(s['x'][k])}, "
                f"{int(np.sum(s['rejected']))} differ (Holm); claim: {'equal' if s['equal'] else 'different'}")


# --------------------------------------------------------------------------- deterministic
@dataclass(frozen=True)
class Deterministic(Check):
    """An identity or inequality that must hold exactly, up to float rounding, at every input
    the simulation draws. The measurement is the worst violation per property in units of the
    property's stated rounding tolerance (SE 0): passed if every value is <= 1, failed
    otherwise (never underpowered: nothing is estimated).

    >>> Deterministic().decide(None, Curve.exact(["identity", "bound"], [0.2, 3.0])).status.value
    'failed'
    """

    kind: ClassVar[str] = "deterministic"
    accepts: ClassVar[tuple] = (Estimate, Curve)
    STATISTIC: ClassVar[str] = "x (properties), violation (worst, in tolerance units; <= 1 holds), inputs (count per property)"

    def needs_prediction(self) -> bool:
        return False

    def decide(self, prediction, measurement, params=None) -> Decision:
        c = measurement if isinstance(measurement, Curve) else Curve.from_estimates(["identity"], [measurement])
        if any(s != 0 for s in c.se):
            raise ValueError("a deterministic check takes exact violations (SE 0); use Exact or Bound for estimates")
        v = np.asarray(c.mean)
        k = int(np.argmax(v))
        st = {"x": list(c.x), "violation": v.tolist(), "inputs": list(c.n)}
        if (v > 1).any():
            bad = [f"{_fmt_x(x)} ({val:.3g})" for x, val in zip(c.x, v) if val > 1]
            status, detail = Status.FAILED, f"violated beyond the rounding tolerance: {', '.join(bad)} (tolerance units)"
        else:
            status, detail = Status.PASSED, f"every property holds within its tolerance at all inputs (worst {v[k]:.2g} of 1, {_fmt_x(c.x[k])})"
        return Decision(status, 0.0, c[k], math.inf if v[k] > 1 else 0.0, detail, st)

    def describe(self, s) -> str:
        v = np.asarray(s["violation"])
        k = int(np.argmax(v))
        return f"worst violation {v[k]:.3g} tolerance units ({_fmt_x(s['x'][k])}, {s['inputs'][k]} inputs); holds iff <= 1"


# --------------------------------------------------------------------------- composition
@dataclass(frozen=True)
class AllOf(Check):
    """Several checks on named parts of one measurement; the claim holds iff every part does.

    ``parts`` is a tuple of (name, check) or (name, check, key): the part reads
    ``measurement[key]`` and ``prediction[key]`` (key defaults to the name; a prediction that is
    not a mapping is given to every part). Each part is decided at alpha / len(parts)
    (Bonferroni over parts; Holm over points inside each). Failed if any part failed,
    underpowered if none failed and some part was, passed otherwise. A measurement key
    ``"info"`` is reported in the verdict, not decided.
    """

    parts: tuple = ()

    kind: ClassVar[str] = "all_of"
    accepts: ClassVar[tuple] = (Mapping,)
    STATISTIC: ClassVar[str] = "parts: {name: {kind, status, detail, statistic}} in order"

    def __post_init__(self):
        super().__post_init__()
        if not self.parts:
            raise ValueError("AllOf needs at least one part")
        names = [p[0] for p in self.parts]
        if len(set(names)) != len(names):
            raise ValueError(f"part names {names} must be unique")
        for p in self.parts:
            if not (2 <= len(p) <= 3 and isinstance(p[0], str) and isinstance(p[1], Check)):
                raise TypeError(f"part {p!r} must be (name, check) or (name, check, key)")

    @property
    def label(self) -> str:
        return "+".join(dict.fromkeys(p[1].label for p in self.parts))

    def needs_prediction(self) -> bool:
        return any(p[1].needs_prediction() for p in self.parts)

    def _split(self):
        a = self.alpha / len(self.parts)
        return [(p[0], dataclasses.replace(p[1], alpha=a), p[2] if len(p) == 3 else p[0]) for p in self.parts]

    def check_measurement(self, m, claim_id="?"):
        super().check_measurement(m, claim_id)
        for name, chk, key in self._split():
            if key not in m:
                raise TypeError(f"claim {claim_id!r}: the measurement has no part {key!r} (part {name!r}); keys: {sorted(m)}")
            chk.check_measurement(m[key], claim_id)

    def with_options(self, *, rel_tol=None, alpha=None):
        parts = tuple((p[0], p[1].with_options(rel_tol=rel_tol)) + tuple(p[2:]) for p in self.parts)
        return dataclasses.replace(self, parts=parts, **({"alpha": alpha} if alpha is not None else {}))

    def decide(self, prediction, measurement, params=None) -> Decision:
        self.check_measurement(measurement)
        results = []
        for name, chk, key in self._split():
            pred = prediction.get(key) if isinstance(prediction, Mapping) else prediction
            results.append((name, chk, chk.decide(pred, measurement[key], params)))
        failed = [r for r in results if r[2].status is Status.FAILED]
        under = [r for r in results if r[2].status is Status.UNDERPOWERED]
        if failed:
            status, rep = Status.FAILED, failed[0]
        elif under:
            status, rep = Status.UNDERPOWERED, under[0]
        else:
            status, rep = Status.PASSED, results[0]
        if status is Status.PASSED:
            detail = "; ".join(f"{n}: {r.detail}" for n, _, r in results)
        else:
            detail = f"{rep[0]}: {rep[2].detail}" + "".join(f"; {n}: {r.status.value}" for n, _, r in results if n != rep[0])
        st = {"parts": {n: {"kind": c.kind, "status": r.status.value, "detail": r.detail, "statistic": r.statistic}
                        for n, c, r in results}}
        d = rep[2]
        return Decision(status, d.prediction, d.estimate, d.z, detail, st)

    def describe(self, s) -> str:
        parts = s.get("parts", {})
        by_name = {p[0]: p[1] for p in self.parts}
        return "; ".join(f"{n} [{v['status']}]: {by_name[n].describe(v['statistic'])}" for n, v in parts.items() if n in by_name)


# --------------------------------------------------------------------------- operating characteristics
def operating_rates(check: Check, draw: Callable[[np.random.Generator], Any], *, trials: int = 2000, seed: int = 0,
                    prediction=None, params: Mapping[str, Any] | None = None) -> dict:
    """Measured rates of ``check``'s outcomes on synthetic measurements ``draw(rng)``.

    Returns ``{"passed": r, "failed": r, "underpowered": r, "trials": trials, "se": {...}}``
    (binomial SEs sqrt(r (1 - r) / trials)). Use it to measure a rule's false-failure rate
    under a true claim, its false-pass rate under a false one, and its power against a
    stated effect, through the rule's own statistic.

    >>> r = operating_rates(Exact(alpha=0.05), lambda rng: Estimate(rng.normal(1.0, 0.01), 0.01, 10**6),
    ...                     prediction=1.0, trials=400)
    >>> 0.01 < r["failed"] < 0.1
    True
    """
    if trials < 1:
        raise ValueError(f"trials={trials}, must be >= 1")
    rng = np.random.default_rng(seed)
    counts = {s.value: 0 for s in Status}
    for _ in range(trials):
        counts[check.decide(prediction, draw(rng), params).status.value] += 1
    rates = {k: v / trials for k, v in counts.items()}
    return {**rates, "trials": trials, "se": {k: math.sqrt(r * (1 - r) / trials) for k, r in rates.items()}}
