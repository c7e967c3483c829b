"""The check library (claimcheck.checks): each decision rule's false-failure rate under a true
claim, its false-pass rate under a false one, and its power against a stated effect, measured
by simulation on synthetic measurements drawn from the statistic's analytic distribution.

Rates are measured with ``operating_rates`` (a few thousand draws); tolerances are binomial
SEs of the measured rate (4 SE two-sided, 3 SE for one-sided "at most" statements). Nulls are
run at alpha = 0.05 (a false-failure rate of 1e-6 is not measurable by simulation; the rules
are the same formulas at every alpha), power at the engine's alpha = 1e-6 where it matters.

``python tests/test_checks.py OUT.md`` measures every scenario with ten times the suite's draws
and writes the table (benchmarks/results/check_rates.md holds the recorded one).
"""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy import optimize, stats as sps

from claimcheck import stats
from claimcheck.checks import (AllOf, Asymptotic, Band, Bound, Coverage, Deterministic, Exact, Monotone, ThresholdCI,
                               TwoSample, holm, holm_adjusted, operating_rates)
from claimcheck.estimate import Curve, Estimate
from claimcheck.verdict import Status

TRIALS = 600
A = 0.05            # alpha of the null scenarios
Z90 = sps.norm.ppf(0.9)


# --------------------------------------------------------------------------- synthetic measurements
def est(mu, sigma, n, rng):
    """Sample mean and SE of n normal draws, from their exact distributions (mean normal, s^2 chi^2)."""
    mean = rng.normal(mu, sigma / math.sqrt(n))
    s = sigma * math.sqrt(rng.chisquare(n - 1) / (n - 1))
    return Estimate(float(mean), float(s / math.sqrt(n)), int(n))


def known(mu, se, n, rng):
    """A mean with a known SE (large-n limit: the SE is not estimated)."""
    return Estimate(float(rng.normal(mu, se)), float(se), int(n))


def curve(mus, sigma, n, rng, x=None):
    mus = np.asarray(mus, dtype=float)
    return Curve.from_estimates(list(range(mus.size)) if x is None else x, [est(m, sigma, n, rng) for m in mus])


def known_curve(mus, se, n, rng):
    mus = np.asarray(mus, dtype=float)
    return Curve.from_estimates(list(range(mus.size)), [known(m, se, n, rng) for m in np.atleast_1d(mus)])


def zq(alpha):
    """One-sided normal critical value."""
    return float(sps.norm.isf(alpha))


def _exact_need(rel_tol, pred, alpha, K=1):
    return rel_tol * abs(pred) / (stats.z_critical(alpha / K) + Z90)


# --------------------------------------------------------------------------- scenarios
# (name, check, draw, prediction, params, outcome, relation, target[, trials]) -- relation: "<=" (rate at most
# target, + 3 SE), "~" (rate equals target within 4 SE), ">=" (at least target, - 4 SE)
def _scenarios():
    out = []
    add = out.append

    # exact, scalar: small n (Student t), null; power at SE = the power rule's limit
    add(("exact: true mean, n = 10 (t critical value)", Exact(alpha=A), lambda r: est(1.0, 0.2, 10, r), 1.0, None, "failed", "~", A))
    need = _exact_need(0.05, 1.0, 1e-6)
    add(("exact: 5% deviation at SE = required (alpha 1e-6)", Exact(), lambda r: known(1.05, 0.999 * need, 10**6, r), 1.0, None, "failed", "~", 0.90))
    add(("exact: SE above required never passes", Exact(), lambda r: known(1.0, 1.01 * need, 10**6, r), 1.0, None, "passed", "<=", 0.0))
    # exact on a curve: Holm family-wise rate; power at one deviating point
    K8 = 8
    add(("exact curve K=8: true curve, family-wise", Exact(alpha=A), lambda r: curve(np.linspace(1, 2, K8), 0.3, 50, r),
         np.linspace(1, 2, K8).tolist(), None, "failed", "<=", A))
    need8 = _exact_need(0.05, 1.0, 1e-6, K8)
    mus8 = np.ones(K8)
    mus8[3] = 1.05
    add(("exact curve K=8: one point 5% off at SE = required", Exact(), lambda r: known_curve(mus8, 0.999 * need8, 10**6, r),
         np.ones(K8).tolist(), None, "failed", ">=", 0.90))

    # bound: at the bound (the null's boundary), and a 5% violation at SE = required
    add(("bound: mean exactly at the bound", Bound(alpha=A), lambda r: est(1.0, 0.2, 30, r), 1.0, None, "failed", "~", A))
    needb = 0.05 / (zq(1e-6) + Z90)
    add(("bound: 5% violation at SE = required", Bound(), lambda r: known(1.05, 0.999 * needb, 10**6, r), 1.0, None, "failed", "~", 0.90))

    # coverage: true rate at the level; true rate 1 - 1.5 delta with the trials the power rule asks for
    add(("coverage: true rate = level 0.95, 400 trials", Coverage(alpha=A), lambda r: _freq(0.95, 400, r), 0.95, None, "failed", "<=", A,
         200))  # the exact binomial test costs ~5 ms a call: fewer draws
    n_cov = _coverage_trials(0.95, 0.5, 1e-6)
    add((f"coverage: true rate 0.925, {n_cov} trials (power rule met)", Coverage(), lambda r: _freq(0.925, n_cov, r), 0.95, None,
         "failed", ">=", 0.90, 200))

    # asymptotic: discrepancies exactly C/n with noise; an offset of rel_tol at SE(offset) = required
    sizes = [20.0, 40.0, 80.0, 160.0]
    asy = Asymptotic(alpha=A, sizes=lambda p: [(s, {}) for s in sizes])
    add(("asymptotic: true limit and rate", asy, lambda r: _ladder(sizes, 0.0, 1.0, 0.002, r), 1.0, None, "failed", "<=", A))
    se_k = _asymptotic_se_for(sizes, 1.0, 0.05, 1e-6)
    asy6 = Asymptotic(sizes=lambda p: [(s, {}) for s in sizes])
    add(("asymptotic: limit off by 5% at SE(offset) = required", asy6, lambda r: _ladder(sizes, 0.05, 1.0, se_k, r), 1.0, None,
         "failed", "~", 0.90))
    add(("asymptotic: rate n^-1/2 claimed as n^-1 (SE 2e-4)", asy6, lambda r: _ladder(sizes, 0.0, 1.0, 0.0002, r, power=0.5), 1.0, None,
         "failed", ">=", 0.90))

    # monotone: a flat curve (boundary of the claim), one flat step (claim false), effect sizes
    K5 = 5
    add(("monotone: flat curve (boundary), family-wise", Monotone(alpha=A), lambda r: curve(np.zeros(K5), 1.0, 100, r), None, None,
         "failed", "<=", A))
    add(("monotone: one flat step, others steep: false pass", Monotone(alpha=A),
         lambda r: curve([4.0, 3.0, 2.0, 2.0, 1.0], 1.0, 10**4, r), None, None, "passed", "<=", A))
    step_se = math.sqrt(2) * 0.01
    delta = (zq(1e-6 / (K5 - 1)) + zq(0.1 / (K5 - 1))) * step_se
    add(("monotone: every step down by the stated effect", Monotone(), lambda r: known_curve(-delta * np.arange(K5), 0.01, 10**6, r),
         None, None, "passed", ">=", 0.90))
    up = (zq(1e-6 / (K5 - 1)) + Z90) * step_se
    add(("monotone: one step up by the stated effect", Monotone(), lambda r: known_curve([4.0, 3.0, 3.0 + up, 2.0, 1.0], 0.01, 10**6, r),
         None, None, "failed", ">=", 0.90))

    # band: at the edge; inside with the stated half-width; outside by the stated effect
    # the same check on the same draws, two outcomes: one operating_rates run serves both (see _rates)
    at_edge = (Band(low=0.0, high=1.0, alpha=A), lambda r: est(0.0, 0.05, 50, r))
    add(("band [0, 1]: statistic at the lower edge -> fail", *at_edge, None, None, "failed", "<=", A))
    add(("band [0, 1]: statistic at the lower edge -> pass", *at_edge, None, None, "passed", "<=", A))
    w = 0.5
    se_in = w / (zq(1e-6) + zq(0.05))  # both edges resolved with 95% each: 90% together
    add(("band +-0.5 around the prediction: at its centre, SE = w/(z+z95)", Band(half_width=w), lambda r: known(1.0, se_in, 10**6, r),
         1.0, None, "passed", "~", 0.90))
    se_out = 0.1
    add(("band [0, 1]: statistic above by (z_{a/2}+z90) SE", Band(low=0.0, high=1.0),
         lambda r: known(1.0 + (zq(1e-6 / 2) + Z90) * se_out, se_out, 10**6, r), None, None, "failed", "~", 0.90))
    add(("band, some point: every point at the edge", Band(low=0.0, every=False, alpha=A), lambda r: curve(np.zeros(5), 1.0, 100, r),
         None, None, "passed", "<=", A))

    # threshold on a t-interval over seeds: 3 seeds, the GPU jobs' setting
    thr = ThresholdCI(threshold=0.0, alpha=A)
    add(("ci_threshold, 3 seeds: statistic at the threshold (false pass)", thr, lambda r: _seeds(0.0, 1.0, 3, r), None, None,
         "passed", "~", A / 2))
    d90 = _threshold_effect(3, A, 0.9)
    add((f"ci_threshold, 3 seeds: effect {d90:.2f} sigma (noncentral t: 90%)", thr, lambda r: _seeds(d90, 1.0, 3, r), None, None,
         "passed", "~", 0.90))

    # two-sample curves
    K6 = 6
    add(("two_sample equal: equal curves, family-wise", TwoSample(alpha=A), lambda r: (curve(np.ones(K6), 1, 50, r), curve(np.ones(K6), 1, 50, r)),
         None, None, "failed", "<=", A))
    need_d = 0.05 / (zq(1e-6 / (2 * K6)) + Z90)
    mus6 = np.ones(K6)
    mus6[2] = 1.05
    add(("two_sample equal: one point 5% apart at SE = required", TwoSample(),
         lambda r: (known_curve(mus6, 0.99 * need_d / math.sqrt(2), 10**6, r), known_curve(np.ones(K6), 0.99 * need_d / math.sqrt(2), 10**6, r)),
         None, None, "failed", ">=", 0.90))
    add(("two_sample differ: equal curves (false pass)", TwoSample(equal=False, alpha=A),
         lambda r: (curve(np.ones(K6), 1, 50, r), curve(np.ones(K6), 1, 50, r)), None, None, "passed", "<=", A))
    gap = (zq(1e-6 / (2 * K6)) + Z90) * math.sqrt(2) * 0.01
    add(("two_sample differ: one point apart by the stated effect", TwoSample(equal=False),
         lambda r: (known_curve(np.r_[1.0 + gap, np.ones(K6 - 1)], 0.01, 10**6, r), known_curve(np.ones(K6), 0.01, 10**6, r)),
         None, None, "passed", ">=", 0.90))

    # deterministic: rounding inside the tolerance never fails; a violation of 2 units always does
    add(("deterministic: violations uniform in [0, 1]", Deterministic(), lambda r: Curve.exact(["a", "b"], r.uniform(0, 1, 2)),
         None, None, "failed", "<=", 0.0))
    add(("deterministic: one violation of 2 tolerance units", Deterministic(), lambda r: Curve.exact(["a", "b"], [r.uniform(0, 1), 2.0]),
         None, None, "failed", ">=", 1.0))

    # composition: two true parts, each at alpha/2
    both = AllOf(alpha=A, parts=(("m", Exact()), ("b", Bound())))
    add(("all_of exact + bound: both true (family-wise)", both, lambda r: {"m": est(1.0, 0.2, 30, r), "b": est(1.0, 0.2, 30, r)},
         1.0, None, "failed", "<=", A))
    return out


def _freq(p, n, rng):
    k = rng.binomial(n, p)
    return Estimate(k / n, math.sqrt(max(k / n * (1 - k / n), 1e-300) / n), n)


def _coverage_trials(level, rel_tol, alpha):
    """Smallest trial count (on a doubling grid) at which the coverage rule claims power >= 90%."""
    n = 250
    while stats.coverage_test(int(level * n), n, level, alpha=alpha, rel_tol=rel_tol).extra["power"] < 0.9:
        n *= 2
    return n


def _ladder(sizes, offset, C, se, rng, power=1.0):
    ses = np.broadcast_to(np.asarray(se, dtype=float), (len(sizes),))
    return Curve.from_estimates(sizes, [known(1.0 + offset + 0.05 * C * (s / sizes[0]) ** (-power), e, 10**6, rng)
                                        for s, e in zip(sizes, ses)])


def _asymptotic_se_for(sizes, limit, rel_tol, alpha):
    """Equal per-size SE at which SE(offset) of the Richardson fit is 0.999 x what the power rule asks."""
    n = np.asarray(sizes)
    Am = np.column_stack([np.ones(n.size)] + [n ** (-j) for j in range(1, n.size - 1)])
    se_delta_per_unit = math.sqrt(np.linalg.inv(Am.T @ Am)[0, 0])
    need = stats.required_se(rel_tol * limit, alpha / 2)
    return 0.999 * need / se_delta_per_unit


def _seeds(mu, sigma, m, rng):
    return Estimate.from_samples(rng.normal(mu, sigma, m))


def _threshold_effect(m, alpha, power):
    """Effect (in units of the seed SD) that a level 1 - alpha t-interval over m seeds puts above 0
    with probability ``power``: P(noncentral t_{m-1}(d sqrt m) > t_{1 - alpha/2}) = power."""
    tc = sps.t.isf(alpha / 2, m - 1)
    return float(optimize.brentq(lambda d: sps.nct.sf(tc, m - 1, d * math.sqrt(m)) - power, 0.01, 50))


SCENARIOS = [s if len(s) == 9 else s + (TRIALS,) for s in _scenarios()]


def _judge(rate, se, relation, target, trials=TRIALS):
    if relation == "<=":
        return rate <= target + 3 * se + 1e-12
    if relation == ">=":
        return rate >= target - 4 * se - 1e-12
    return abs(rate - target) <= 4 * max(se, math.sqrt(target * (1 - target) / trials))


_RATES: dict = {}


def _rates(check, draw, trials, pred, params):
    """operating_rates at seed 0, once per (check object, draw function, trials, prediction, params):
    scenarios that share their check and draws (one per outcome) share the simulated rates."""
    key = (id(check), id(draw), trials, repr(pred), repr(params))
    if key not in _RATES:
        _RATES[key] = operating_rates(check, draw, trials=trials, seed=0, prediction=pred, params=params)
    return _RATES[key]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_operating_rate_of_each_check(scenario):
    name, check, draw, pred, params, outcome, relation, target, trials = scenario
    r = _rates(check, draw, trials, pred, params)
    rate, se = r[outcome], r["se"][outcome]
    assert _judge(rate, se, relation, target, trials), f"{name}: P({outcome}) = {rate:.4f} ± {se:.4f}, expected {relation} {target:g}"


# --------------------------------------------------------------------------- Holm, and the rules' edges
def test_holm_matches_the_adjusted_p_values_and_is_at_least_bonferroni():
    rng = np.random.default_rng(1)
    for _ in range(200):
        p = rng.uniform(0, 0.1, rng.integers(1, 12)) ** 2
        alpha = 0.05
        rej = holm(p, alpha)
        assert np.array_equal(rej, holm_adjusted(p) <= alpha)
        assert np.all(rej[p <= alpha / p.size])  # Bonferroni's rejections are Holm's too


def test_holm_refuses_nan_and_bad_alpha():
    with pytest.raises(ValueError, match="NaN"):
        holm([0.1, float("nan")], 0.05)
    with pytest.raises(ValueError, match="alpha=0"):
        holm([0.1], 0)


def test_a_step_in_the_claimed_direction_that_is_not_significant_is_underpowered_never_failed():
    c = Curve.from_estimates([1, 2, 3], [Estimate(3.0, 0.01, 99), Estimate(2.0, 0.01, 99), Estimate(1.99, 0.01, 99)])
    assert Monotone(direction=-1).decide(None, c).status is Status.UNDERPOWERED
    c_up = Curve.from_estimates([1, 2], [Estimate(1.0, 0.5, 99), Estimate(1.2, 0.5, 99)])  # a small step the wrong way
    assert Monotone(direction=-1).decide(None, c_up).status is Status.UNDERPOWERED


def test_monotone_direction_from_the_prediction():
    c = Curve.from_estimates([1, 2], [Estimate(1.0, 0.01, 99), Estimate(2.0, 0.01, 99)])
    assert Monotone(direction=None).decide(1.0, c).status is Status.PASSED
    assert Monotone(direction=None).decide(-1.0, c).status is Status.FAILED
    with pytest.raises(ValueError, match="needs a direction"):
        Monotone(direction=None).decide(0.0, c)


def test_exact_infinite_prediction_says_so_and_nan_is_an_error():
    d = Exact().decide(math.inf, Estimate(1.0, 0.1, 100))
    assert d.status is Status.FAILED and "prediction is inf" in d.detail and "contradicts" not in d.detail
    with pytest.raises(ValueError, match="prediction=nan"):
        Exact().decide(float("nan"), Estimate(1.0, 0.1, 100))
    c = Curve.from_estimates([1, 2], [Estimate(1.0, 0.1, 9), Estimate(1.0, 0.1, 9)])
    with pytest.raises(ValueError, match="NaN at x=2"):
        Exact().decide([1.0, float("nan")], c)
    assert "prediction is inf at x=1" in Exact().decide([math.inf, 1.0], c).detail


def test_band_reads_its_bounds_from_the_claim_parameters():
    b = Band(low="lo", high="hi")
    assert b.decide(None, Estimate(0.5, 0.01, 99), {"lo": 0.0, "hi": 1.0}).status is Status.PASSED
    assert b.decide(None, Estimate(0.5, 0.01, 99), {"lo": 0.6, "hi": 1.0}).status is Status.FAILED
    with pytest.raises(ValueError, match="names a parameter"):
        b.decide(None, Estimate(0.5, 0.01, 99), {"lo": 0.0})
    with pytest.raises(ValueError, match="empty"):
        b.decide(None, Estimate(0.5, 0.01, 99), {"lo": 1.0, "hi": 0.0})


def test_threshold_ci_needs_seeds_and_mirrors_for_below():
    assert ThresholdCI(min_n=3).decide(None, Estimate.from_samples([1.0, 1.1])).status is Status.UNDERPOWERED
    below = ThresholdCI(threshold=0.5, side="below", alpha=0.05)
    assert below.decide(None, Estimate.from_samples([0.1, 0.12, 0.11])).status is Status.PASSED
    assert below.decide(None, Estimate.from_samples([0.9, 0.92, 0.91])).status is Status.FAILED


def test_t_interval_over_three_seeds_has_its_nominal_coverage():
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, (20000, 3))
    m, s = x.mean(axis=1), x.std(axis=1, ddof=1) / math.sqrt(3)
    tc = sps.t.isf(0.025, 2)
    cover = np.mean(np.abs(m) <= tc * s)
    assert abs(cover - 0.95) < 4 * math.sqrt(0.95 * 0.05 / x.shape[0])


def test_all_of_reports_every_part_and_the_first_failure():
    chk = AllOf(parts=(("a", Exact()), ("b", Monotone(direction=-1), "curve")))
    up = Curve.from_estimates([1, 2], [Estimate(1.0, 0.01, 99), Estimate(2.0, 0.01, 99)])
    d = chk.decide({"a": 1.0}, {"a": Estimate(1.0, 0.001, 999), "curve": up})
    assert d.status is Status.FAILED and d.detail.startswith("b:")
    assert set(d.statistic["parts"]) == {"a", "b"} and chk.label == "exact+monotone"
    with pytest.raises(TypeError, match="no part 'curve'"):
        chk.decide({"a": 1.0}, {"a": Estimate(1.0, 0.001, 999)})


def test_checks_refuse_the_wrong_measurement_type():
    with pytest.raises(TypeError, match="needs Curve"):
        Monotone().check_measurement(Estimate(1.0, 0.1, 9), "toy")
    with pytest.raises(TypeError, match="simulate returned float"):
        Exact().check_measurement(1.0, "toy")


@pytest.mark.parametrize("check, meas, pred", [
    (Exact(), Estimate(1.0, 0.001, 999), 1.0),
    (Exact(), Curve.from_estimates([1, 2], [Estimate(1.0, 0.001, 999)] * 2), [1.0, 1.0]),
    (Bound(), Estimate(0.5, 0.001, 999), 1.0),
    (Coverage(), Estimate(0.99, 0.001, 10**4), 0.95),
    (Monotone(), Curve.from_estimates([1, 2], [Estimate(2.0, 0.01, 99), Estimate(1.0, 0.01, 99)]), None),
    (Band(low=0.0, high=1.0), Estimate(0.5, 0.01, 99), None),
    (ThresholdCI(), Estimate.from_samples([1.0, 1.1, 0.9]), None),
    (TwoSample(), (Curve.exact([1], [1.0]), Curve.exact([1], [1.0])), None),
    (Deterministic(), Curve.exact(["x"], [0.5]), None),
])
def test_every_check_describes_its_statistic_in_one_line(check, meas, pred):
    from claimcheck.verdict import Verdict

    d = check.decide(pred, meas, {})
    v = Verdict("toy", d.status, d.prediction, d.estimate, d.z, check.alpha, 0, {}, "quick", d.detail, statistic=d.statistic,
                kind=check.label)
    line = check.summary(v)
    assert line and "\n" not in line and check.STATISTIC


# --------------------------------------------------------------------------- the recorded table
def _write_table(path, factor=10):
    rows = ["| check scenario | outcome | measured rate ± SE | expected | draws |", "|---|---|---|---|---|"]
    for name, check, draw, pred, params, outcome, relation, target, n in SCENARIOS:
        trials = factor * n
        r = operating_rates(check, draw, trials=trials, seed=1, prediction=pred, params=params)
        rows.append(f"| {name} | P({outcome}) | {r[outcome]:.4f} ± {r['se'][outcome]:.4f} | {relation} {target:g} | {trials} |")
    head = ("# Operating characteristics of the checks (claimcheck.checks)\n\n"
            "Measured by `python tests/test_checks.py benchmarks/results/check_rates.md` (synthetic measurements from the\n"
            "statistics' exact distributions; nulls at alpha = 0.05, power at alpha = 1e-6). `~` equal within 4 SE, `<=` at most,\n"
            "`>=` at least; the suite (tests/test_checks.py) asserts the same relations with a tenth of the draws.\n\n")
    from claimcheck.io import atomic_write_text

    atomic_write_text(path, head + "\n".join(rows) + "\n")


if __name__ == "__main__":  # pragma: no cover
    _write_table(sys.argv[1] if len(sys.argv) > 1 else "check_rates.md")
