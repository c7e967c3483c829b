"""The decision rules of the six GPU jobs, in one torch-free module (checks as values).

Each job's verdict is a check of :mod:`claimcheck.checks` applied to a statistic of its measured
results; nothing here writes a status by hand. Per job:

* :func:`statistic` ``(job, cfg, m)`` -- the measurement the check decides on, a pure function of
  the result's ``measurements`` ``m`` and its ``config`` ``cfg`` (a plain mapping: the
  ``"config"`` dict of ``result.json``);
* :func:`check` ``(job, cfg=None)`` -- the rule: a :class:`Given` (preconditions, then the claim's
  check); its thresholds are named (``"gap_tolerance"``, ...) and travel with the measurement,
  so one check object serves every configuration (and is the registered ``gpu.*`` claim's check);
* :func:`synthetic` ``(job, cfg, rng, *, phenomenon, **effect)`` -- measurements with the keys and
  shapes of a real run, with or without the phenomenon (mutation tests, ``benchmarks/bench_gpu_verdicts.py``);
* :func:`decide` ``(job, cfg, m, *, seed, profile)`` -- the :class:`~claimcheck.verdict.Verdict`.

Intervals over seeds are Student t (:class:`~claimcheck.checks.ThresholdCI`, level 1 - alpha
two-sided, alpha = 0.05 split over the parts of an :class:`~claimcheck.checks.AllOf`): with normal
seed noise their coverage is exact at any seed count (measured at 3 seeds: 0.951 against 0.751 for the
percentile bootstrap the jobs used before; ``benchmarks/results/gpu_verdicts.md``). A passed verdict
needs the whole interval on the claimed side; a statistic exactly at its threshold passes with
probability <= alpha / 2. ``pac_bayes_mnist`` has one run and no seed axis: its certificate is an
exact number (the Monte Carlo error is inside the bound), compared exactly with its target and with
the untrained prior's certificate; the held-out check is the exact one-sided Clopper-Pearson limit.

A measurement key the rule needs that the result lacks (an older result file), a non-finite value,
or a precondition of the claim not met gives ``underpowered`` naming it -- never ``passed``, never
an exception.

=====================  ===========================================================================
job                    rule (thresholds: rule defaults, overridable by the result's config)
=====================  ===========================================================================
real_vs_ideal          per seed max_{t in window} |SoftErr_real - SoftErr_ideal| < gap_tolerance
                       (t upper limit); window = steps with seed-mean Real World train error >=
                       train_error_floor. Given: every seed's Real World ends below the floor (it
                       reaches its stopping time) and the Real World's generalization gap (test -
                       train error, seed mean) reaches min_generalization_gap inside the window.
hypersphere            per seed S' error - test error at n_max >= min_sprime_excess (0.5) and
                       test error(n_min) - test error(n_max) > 0. Given: every network reached
                       the margin rule; >= 2 sizes.
pac_bayes_mnist        certificate < bound_target (0.2, Dziugaite & Roy's MNIST range 0.16-0.22)
                       and < the untrained prior's certificate (Q = P = init, KL = 0), both exact;
                       not violated on held-out data (Clopper-Pearson lower limit at 1e-6 <= it).
feature_calibration    per seed calibration slope > 1/2 (closer to calibration, 1, than to Bayes, 0).
                       Given: every seed's train error <= max(interpolation_tol, 1%) (near-
                       interpolation; not exactly zero).
norm_growth            per seed slope of log ||W - W0||_F on log n > min_distance_slope (0.05) and
                       slope of log test error < 0. Given: every network reached its margin.
deep_double_descent    at the largest label noise: some width near the interpolation threshold
                       (the first sweep point whose seed-mean train error <= 1%, and its two
                       neighbours) stands above both valleys (the lowest seed-mean points before
                       and after that window) by >= min_peak_height (0.01), per-seed contrasts,
                       one-sided t, Holm over the window. Given: the threshold lies inside the sweep, after its
                       first point; some label noise > 0; >= 2 seeds.
=====================  ===========================================================================
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.checks import AllOf, Band, Check, Decision, Deterministic, ThresholdCI
from claimcheck.estimate import Curve, Estimate
from claimcheck.io import jsonable
from claimcheck.verdict import Status, Verdict

sps = lazy_module("scipy.stats")  # imported on first use (claimcheck list/--help stay cheap)

__all__ = ["JOBS", "CLAIM_IDS", "ALPHA", "DEFAULTS", "Given", "statistic", "check", "synthetic", "decide",
           "seed_estimate", "log_slope", "certificate", "verdict_of"]

ALPHA = 0.05
"""Level of the GPU rules: t intervals at 1 - alpha over seeds; false pass <= alpha at the null's edge."""

CLAIM_IDS: dict[str, str] = {
    "real_vs_ideal": "gpu.real_vs_ideal.soft_error_gap",
    "hypersphere": "gpu.hypersphere.sprime_error",
    "pac_bayes_mnist": "gpu.pac_bayes_mnist.nonvacuous",
    "feature_calibration": "gpu.feature_calibration.slope",
    "norm_growth": "gpu.norm_growth.wrong_direction",
    "deep_double_descent": "gpu.deep_double_descent.peak",
}
"""job -> the claim its verdict belongs to (each job module's ``CLAIM_ID``)."""
JOBS = tuple(CLAIM_IDS)

ANCHORS = {"dziugaite_roy_2017_mnist": (0.161, 0.22), "lotfi_2022_mnist_compression": 0.116,
           "perez_ortiz_2021_pbb_mnist": 0.02}
"""PAC-Bayes certificates on MNIST the target is read against: Dziugaite & Roy 2017 (Table 1, 0.161-0.22),
the seed 003 compression bound (Lotfi et al. 2022, 11.6%), PBB (Perez-Ortiz et al. 2021, ~2% with
data-dependent priors)."""

DEFAULTS: dict[str, dict[str, Any]] = {
    # the config fields the rules read, at the jobs' defaults (a result's config overrides them)
    "real_vs_ideal": {"n_seeds": 3, "steps": 2000, "n_evals": 12, "gap_tolerance": 0.05, "train_error_floor": 0.01,
                      "min_generalization_gap": 0.02},
    "hypersphere": {"n_seeds": 3, "ns": (1024, 2048, 4096, 8192), "min_sprime_excess": 0.5},
    "pac_bayes_mnist": {"n_seeds": 1, "n_bound": 4000, "n_eval": 1000, "delta": 0.025, "delta_mc": 0.01,
                        "mc_samples": 10_000, "prior_sigmas": (0.01, 0.03, 0.1), "bound_target": 0.2},
    "feature_calibration": {"n_seeds": 3, "p_max": 0.4, "interpolation_tol": 0.0, "n_test": 1197},
    "norm_growth": {"n_seeds": 3, "ns": (500, 1000, 2000, 4000, 8000), "n_test": 2000, "min_distance_slope": 0.05},
    "deep_double_descent": {"n_seeds": 3, "widths": (1, 2, 4, 6, 8, 12, 16, 32, 64), "sweep": "model",
                            "sample_sizes": (500, 1000, 2000, 4000), "label_noise": (0.0, 0.2),
                            "min_peak_height": 0.01, "interpolation_tol": 0.01},
}

INTERPOLATION_TOL = 0.01
"""Train error counted as (near-)interpolation by feature_calibration and deep_double_descent (1%, the
Deep Bootstrap's "still training" floor): the rules never hinge on a train error of exactly zero."""

_FAIL = 2.0          # a yes/no precondition that does not hold, in the Deterministic check's tolerance units
_CAP = 1e9           # violations are capped (the Deterministic check takes finite numbers)


# --------------------------------------------------------------------------- the Given combinator
@dataclass(frozen=True)
class Given(Check):
    """A claim's check, decided only where its preconditions hold.

    The measurement is a mapping ``{"claim": ..., "requires": {name: Curve}, "missing": [...],
    "thresholds": {...}, "info": {...}}``. Underpowered if ``missing`` names measurement keys the
    result lacks, or if a precondition check (``requires``: (name, check) pairs, e.g. a
    :class:`~claimcheck.checks.Deterministic` violation in tolerance units) does not pass;
    otherwise the decision of ``check`` on ``measurement["claim"]`` at this check's ``alpha``.
    ``notes`` (strings) are appended to a decided verdict's detail (reported, not decided).
    ``thresholds`` are merged into the parameters, so named thresholds (``ThresholdCI(threshold=
    "gap_tolerance")``) come with the measurement. A precondition never fails a claim: an
    experiment that did not reach its regime is not evidence against it.

    >>> g = Given(alpha=0.05, check=ThresholdCI(threshold="t"), requires=(("trained", Deterministic()),))
    >>> m = {"claim": Estimate.from_samples([1.0, 1.1, 0.9]), "requires": {"trained": Curve.exact(["x"], [0.0])},
    ...      "thresholds": {"t": 0.0}}
    >>> g.decide(None, m).status.value
    'passed'
    >>> g.decide(None, {**m, "requires": {"trained": Curve.exact(["x"], [2.0])}}).status.value
    'underpowered'
    """

    check: Check | None = None
    requires: tuple = ()

    kind: ClassVar[str] = "given"
    accepts: ClassVar[tuple] = (Mapping,)
    STATISTIC: ClassVar[str] = ("claim: the check's statistic (absent when not decided); preconditions: {name: {status, "
                                "detail}}; missing: measurement keys the result lacks")

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.check, Check):
            raise TypeError(f"check={self.check!r}, must be a check from claimcheck.checks")
        for r in self.requires:
            if not (len(r) == 2 and isinstance(r[0], str) and isinstance(r[1], Check)):
                raise TypeError(f"requires entry {r!r} must be (name, check)")

    @property
    def label(self) -> str:
        return f"{self.check.label}+given"

    def needs_prediction(self) -> bool:
        return self.check.needs_prediction()

    def with_options(self, *, rel_tol=None, alpha=None):
        return dataclasses.replace(self, check=self.check.with_options(rel_tol=rel_tol),
                                   **({"alpha": alpha} if alpha is not None else {}))

    def decide(self, prediction, measurement, params=None) -> Decision:
        self.check_measurement(measurement)
        p = {**(params or {}), **(measurement.get("thresholds") or {})}
        missing = list(measurement.get("missing") or ())
        if missing:
            return Decision(Status.UNDERPOWERED, 0.0, Estimate(0.0, 0.0, 0), 0.0,
                            f"the result lacks {', '.join(missing)}: not a verdict (re-run the job, or re-measure)",
                            {"missing": missing, "preconditions": {}})
        pre, unmet = {}, []
        for name, chk in self.requires:
            d = chk.decide(None, measurement["requires"][name], p)
            pre[name] = {"status": d.status.value, "detail": d.detail}
            if d.status is not Status.PASSED:
                unmet.append(f"{name} ({d.detail})")
        claim = measurement.get("claim")
        chk = dataclasses.replace(self.check, alpha=self.alpha)
        if unmet:
            detail = f"precondition not met: {'; '.join(unmet)}"
            if claim is None:
                return Decision(Status.UNDERPOWERED, 0.0, Estimate(0.0, 0.0, 0), 0.0, detail + "; the claim's statistic is undefined",
                                {"missing": [], "preconditions": pre})
            d = chk.decide(prediction, claim, p)
            return Decision(Status.UNDERPOWERED, d.prediction, d.estimate, d.z,
                            f"{detail}; not decided (the claim's check alone reads {d.status.value}: {d.detail})",
                            {"claim": d.statistic, "claim_kind": chk.label, "preconditions": pre, "missing": [],
                             "unconditioned": d.status.value})
        d = chk.decide(prediction, measurement["claim"], p)
        notes = [str(n) for n in measurement.get("notes") or ()]
        return dataclasses.replace(d, detail="; ".join([d.detail, *notes]),
                                   statistic={"claim": d.statistic, "claim_kind": chk.label, "preconditions": pre, "missing": []})

    def describe(self, s) -> str:
        if s.get("missing"):
            return f"not decided: the result lacks {', '.join(s['missing'])}"
        bad = [n for n, v in s.get("preconditions", {}).items() if v["status"] != "passed"]
        if bad:
            return f"not decided: precondition(s) {', '.join(bad)} not met"
        return dataclasses.replace(self.check, alpha=self.alpha).describe(s["claim"])


# --------------------------------------------------------------------------- helpers
def seed_estimate(values) -> Estimate:
    """Mean and SE (ddof 1) over seeds; one seed (or none): SE 0 and n < 2, which every rule
    reads as "no interval" (underpowered).

    >>> seed_estimate([1.0, 2.0, 3.0]).n, seed_estimate([1.0]).n
    (3, 1)
    """
    x = np.asarray(values, dtype=float).ravel()
    if x.size >= 2:
        return Estimate.from_samples(x)
    return Estimate(float(x[0]) if x.size else 0.0, 0.0, int(x.size))


def log_slope(xs, values) -> np.ndarray:
    """Least-squares slope of log(values) on log(xs), per row of ``values`` (seeds, len(xs)).

    >>> float(log_slope([1, 2, 4], np.array([[3.0, 6.0, 12.0]]))[0])
    1.0
    """
    lx = np.log(np.asarray(xs, dtype=float))
    ly = np.log(np.asarray(values, dtype=float))
    lx = lx - lx.mean()
    return (ly - ly.mean(axis=1, keepdims=True)) @ lx / (lx @ lx)


def _cfg(job: str, cfg: Mapping | None) -> dict:
    if job not in CLAIM_IDS:
        raise ValueError(f"job={job!r}, must be one of {list(CLAIM_IDS)}")
    if cfg is not None and not isinstance(cfg, Mapping):
        raise TypeError(f"cfg={cfg!r}, must be a mapping (the 'config' dict of result.json)")
    return {**DEFAULTS[job], **{k: v for k, v in (cfg or {}).items() if v is not None}}


class _Reader:
    """Reads measurement arrays, noting the keys that are absent, non-finite or misshapen."""

    def __init__(self, m: Mapping):
        self.m = m if isinstance(m, Mapping) else {}
        self.missing: list[str] = []

    def array(self, key: str, ndim: int | None = None, finite: bool = True):
        if key not in self.m or self.m[key] is None:
            self.missing.append(key)
            return None
        try:
            a = np.asarray(self.m[key], dtype=float)
        except (TypeError, ValueError):
            self.missing.append(f"{key} (not numeric)")
            return None
        if ndim is not None and a.ndim != ndim:
            self.missing.append(f"{key} (shape {a.shape}, needs {ndim} axes)")
            return None
        if finite and not np.isfinite(a).all():
            self.missing.append(f"{key} (non-finite values)")
            return None
        return a

    def value(self, key: str, default=None, required: bool = True):
        if key not in self.m or self.m[key] is None:
            if required:
                self.missing.append(key)
            return default
        return self.m[key]


def _violation(value: float) -> float:
    v = float(value)
    return _CAP if not math.isfinite(v) or v > _CAP else max(v, 0.0)


def _req(label: str, violation: float) -> Curve:
    """A precondition as the Deterministic check's measurement: worst violation in tolerance units."""
    return Curve.exact([label], [_violation(violation)])


def _yes(ok: bool) -> float:
    return 0.0 if ok else _FAIL


def _measurement(claim, requires: dict, missing: list, thresholds: dict, info: dict, notes=()) -> dict:
    return {"claim": claim, "requires": requires, "missing": list(dict.fromkeys(missing)), "thresholds": thresholds,
            "info": jsonable(info), "notes": list(notes)}


def _empty_requires(job: str) -> dict:
    return {name: _req(name, 0.0) for name, _ in _REQUIRES[job]}


_DET = Deterministic()
_REQUIRES = {
    "real_vs_ideal": (("window", _DET), ("stopping_time", _DET), ("generalization_gap", _DET)),
    "hypersphere": (("sizes", _DET), ("margin_rule", _DET)),
    "pac_bayes_mnist": (),
    "feature_calibration": (("interpolation", _DET),),
    "norm_growth": (("sizes", _DET), ("margin_rule", _DET)),
    "deep_double_descent": (("seeds", _DET), ("label_noise", _DET), ("interpolation_threshold", _DET)),
}


# --------------------------------------------------------------------------- checks
def check(job: str, cfg: Mapping | None = None) -> Given:
    """The decision rule of ``job`` (the same object for every configuration: thresholds are named
    and come with :func:`statistic`'s measurement).

    >>> check("feature_calibration").label
    'ci_threshold+given'
    """
    _cfg(job, cfg)
    req = _REQUIRES[job]
    if job == "real_vs_ideal":
        main = ThresholdCI(threshold="gap_tolerance", side="below")
    elif job == "hypersphere":
        main = AllOf(parts=(("sprime_excess", ThresholdCI(threshold="min_sprime_excess", side="above")),
                            ("test_error_falls", ThresholdCI(threshold=0.0, side="above"))))
    elif job == "pac_bayes_mnist":
        main = AllOf(parts=(("below_target", Band(high="bound_target")),
                            ("beats_untrained_prior", Band(low=0.0)),
                            ("holds_on_held_out", Deterministic())))
    elif job == "feature_calibration":
        main = ThresholdCI(threshold=0.5, side="above")
    elif job == "norm_growth":
        main = AllOf(parts=(("distance_grows", ThresholdCI(threshold="min_distance_slope", side="above")),
                            ("test_error_falls", ThresholdCI(threshold=0.0, side="below"))))
    else:
        main = Band(low="min_peak_height", every=False)
    return Given(alpha=ALPHA, check=main, requires=req)


# --------------------------------------------------------------------------- statistics
def statistic(job: str, cfg: Mapping | None, m: Mapping) -> dict:
    """The measurement :func:`check` decides on: ``{"claim", "requires", "missing", "thresholds", "info"}``
    (a pure function of the measured results; never raises on a result that lacks keys).

    >>> s = statistic("feature_calibration", {}, {"slope": [0.9, 1.0, 1.1], "train_error": [0.0, 0.004, 0.0]})
    >>> round(s["claim"].mean, 6), s["missing"]
    (1.0, [])
    """
    c = _cfg(job, cfg)
    return _STATISTICS[job](c, _Reader(m))


def _stat_real_vs_ideal(c, r: _Reader) -> dict:
    real, ideal = r.array("soft_error_real", 2), r.array("soft_error_ideal", 2)
    train, test = r.array("train_error_real", 2), r.array("test_error_real", 2)
    steps = r.value("eval_steps", required=False)
    floor, tol, min_gap = float(c["train_error_floor"]), float(c["gap_tolerance"]), float(c["min_generalization_gap"])
    thresholds = {"gap_tolerance": tol}
    if r.missing or not (real.shape == ideal.shape == train.shape == test.shape) or real.size == 0:
        if not r.missing:
            r.missing.append(f"soft_error_real/soft_error_ideal/train_error_real/test_error_real (shapes "
                             f"{[a.shape for a in (real, ideal, train, test)]}, must be equal (seeds, evals), non-empty)")
        return _measurement(Estimate(0.0, 0.0, 0), _empty_requires("real_vs_ideal"), r.missing, thresholds, {})
    window = train.mean(axis=0) >= floor
    gap = real - ideal                                         # (seeds, evals)
    per_seed = np.abs(gap[:, window]).max(axis=1) if window.any() else np.zeros(gap.shape[0])
    final = train[:, -1]
    gen_gap = float((test - train).mean(axis=0)[window].max()) if window.any() else 0.0
    after = np.abs(gap.mean(axis=0))[~window]
    requires = {
        "window": _req(f"some step with seed-mean Real World train error >= {floor:g}", _yes(bool(window.any()))),
        "stopping_time": _req(f"every seed's final Real World train error / floor {floor:g}", float(final.max()) / floor),
        "generalization_gap": _req(f"min gap {min_gap:g} / Real World test - train error in the window",
                                   min_gap / gen_gap if gen_gap > 0 else _CAP),
    }
    info = {"window_steps": [s for s, w in zip(steps, window) if w] if steps is not None else window.tolist(),
            "gap_per_seed": per_seed.tolist(), "mean_gap_curve": gap.mean(axis=0).tolist(),
            "gap_after_interpolation": float(after.max()) if after.size else None,
            "final_train_error_real": final.tolist(), "generalization_gap_in_window": gen_gap,
            "gap_tolerance": tol, "train_error_floor": floor, "min_generalization_gap": min_gap,
            "statistic": "per seed max over the window of |SoftErr_real - SoftErr_ideal|; Student t upper limit"}
    return _measurement(seed_estimate(per_seed) if window.any() else None, requires, [], thresholds, info)


def _stat_hypersphere(c, r: _Reader) -> dict:
    te, sp = r.array("test_error", 2), r.array("s_prime_error", 2)
    conv = r.value("converged")
    thresholds = {"min_sprime_excess": float(c["min_sprime_excess"])}
    if r.missing or te.shape != sp.shape or te.size == 0:
        if not r.missing:
            r.missing.append(f"test_error/s_prime_error (shapes {te.shape} vs {sp.shape}, must be equal (seeds, ns))")
        return _measurement({"sprime_excess": Estimate(0.0, 0.0, 0), "test_error_falls": Estimate(0.0, 0.0, 0)},
                            _empty_requires("hypersphere"), r.missing, thresholds, {})
    ns = list(r.value("n", default=c["ns"], required=False))
    seeds = list(r.value("seeds", default=range(te.shape[0]), required=False))
    missed = [f"n={n} seed={s}" for s, row in zip(seeds, conv) for n, ok in zip(ns, row) if not ok]
    excess = sp[:, -1] - te[:, -1]
    drop = te[:, 0] - te[:, -1]
    requires = {"sizes": _req(">= 2 training-set sizes", _yes(te.shape[1] >= 2)),
                "margin_rule": _req("networks that missed the margin rule (max_steps hit): " + (", ".join(missed) or "none"),
                                    _FAIL * len(missed))}
    info = {"s_prime_error_at_n_max": float(sp[:, -1].mean()), "test_error_n_min": float(te[:, 0].mean()),
            "test_error_n_max": float(te[:, -1].mean()), "sprime_excess_per_seed": excess.tolist(),
            "test_error_drop_per_seed": drop.tolist(), "missed_margin": missed}
    return _measurement({"sprime_excess": seed_estimate(excess), "test_error_falls": seed_estimate(drop)},
                        requires, [], thresholds, info)


def clopper_pearson_lower(errors: int, n: int, alpha: float) -> float:
    """One-sided exact lower confidence limit (level 1 - alpha) of a binomial rate; 0 for 0 errors.

    >>> clopper_pearson_lower(0, 100, 0.05)
    0.0
    """
    return float(sps.beta.ppf(alpha, errors, n - errors + 1)) if errors > 0 else 0.0


def certificate(m: Mapping) -> float:
    """The risk certificate of a pac_bayes_mnist result: the smallest bound over the prior scales
    (the grid is paid for by ln k inside each bound).

    >>> certificate({"candidates": [{"bound": 0.4}, {"bound": 0.3}]})
    0.3
    """
    return float(min(c["bound"] for c in m["candidates"]))


def _stat_pac_bayes(c, r: _Reader) -> dict:
    cands = r.value("candidates")
    untrained = r.value("untrained_prior_bound")
    prior_only = r.value("prior_only_bound", required=False)
    target = float(c["bound_target"])
    thresholds = {"bound_target": target}
    ok = isinstance(cands, (list, tuple)) and cands and all(isinstance(x, Mapping) and "bound" in x and "eval_error_Q" in x
                                                            for x in cands)
    if cands is not None and not ok:
        r.missing.append("candidates (each needs 'bound' and 'eval_error_Q')")
    vals = [untrained] + ([x["bound"] for x in cands] + [x["eval_error_Q"] for x in cands] if ok else [])
    if not r.missing and not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals):
        r.missing.append("finite certificate values (a bound or held-out error is non-finite)")
    empty = {"below_target": Estimate(0.0, 0.0, 0), "beats_untrained_prior": Estimate(0.0, 0.0, 0),
             "holds_on_held_out": Curve.exact(["-"], [0.0])}
    if r.missing:
        info = {"anchors": ANCHORS, "anchor_mnist_compression_bound": ANCHORS["lotfi_2022_mnist_compression"],
                "bound_target": target}
        if ok and all(isinstance(x["bound"], (int, float)) for x in cands):
            best = min(cands, key=lambda x: x["bound"])
            info.update(best=best, candidates=list(cands), certificate=best["bound"])
        return _measurement(empty, {}, r.missing, thresholds, info)
    best = min(cands, key=lambda x: x["bound"])
    b, ev, n_eval = float(best["bound"]), float(best["eval_error_Q"]), int(c["n_eval"])
    wrong = int(round(ev * n_eval))
    cp_low = clopper_pearson_lower(wrong, n_eval, 1e-6)
    beats_prior_only = None if prior_only is None else bool(b < float(prior_only))
    info = {"certificate": b, "untrained_prior_bound": float(untrained), "prior_only_bound": prior_only,
            "posterior_beats_prior_only": beats_prior_only, "eval_error_Q": ev, "eval_cp_lower_1e-6": cp_low,
            "best": best, "candidates": list(cands), "k": len(cands), "bound_target": target, "anchors": ANCHORS,
            "anchor_mnist_compression_bound": ANCHORS["lotfi_2022_mnist_compression"],
            "rule": "one run, no seed axis: exact comparisons of the certificate (its Monte Carlo and PAC-Bayes "
                    "confidence delta + delta' are inside it) and an exact one-sided Clopper-Pearson held-out check"}
    claim = {"below_target": Estimate(b, 0.0, 1), "beats_untrained_prior": Estimate(float(untrained) - b, 0.0, 1),
             "holds_on_held_out": Curve.exact(["held-out error CP lower limit / certificate"], [_violation(cp_low / b) if b > 0 else _CAP],
                                              n=n_eval)}
    if prior_only is None:
        notes = ["the trained prior's own certificate (Q = P, prior_only_bound) was not measured"]
    elif beats_prior_only:
        notes = [f"the posterior's certificate {b:.4f} beats the trained prior's own (Q = P, KL = 0) {float(prior_only):.4f}"]
    else:
        notes = [f"the posterior does NOT beat the trained prior's own certificate (Q = P, KL = 0): {b:.4f} >= "
                 f"{float(prior_only):.4f} -- the PAC-Bayes optimisation added nothing over the prior"]
    notes.append(f"anchors: Dziugaite & Roy 2017 0.161-0.22, compression (Lotfi et al. 2022) 11.6%, PBB ~2%")
    return _measurement(claim, {}, [], thresholds, info, notes)


def _stat_feature_calibration(c, r: _Reader) -> dict:
    slope, train = r.array("slope", 1), r.array("train_error", 1)
    tol = max(float(c.get("interpolation_tol") or 0.0), INTERPOLATION_TOL)
    if r.missing or slope.shape != train.shape or slope.size == 0:
        if not r.missing:
            r.missing.append(f"slope/train_error (shapes {slope.shape} vs {train.shape}, must be equal (seeds,))")
        return _measurement(Estimate(0.0, 0.0, 0), _empty_requires("feature_calibration"), r.missing, {}, {})
    requires = {"interpolation": _req(f"every seed's train error / {tol:g} (near-interpolation)", float(train.max()) / tol)}
    info = {"slope_per_seed": slope.tolist(), "train_error": train.tolist(), "interpolation_tol": tol,
            "interpolated_exactly": bool(train.max() == 0.0), "exact_calibration_slope": 1.0, "bayes_slope": 0.0}
    return _measurement(seed_estimate(slope), requires, [], {}, info)


def _stat_norm_growth(c, r: _Reader) -> dict:
    dist, err = r.array("distance_from_init", 2), r.array("test_error", 2)
    missed = r.value("missed_margin")
    ns = r.value("ns", default=c["ns"], required=False)
    thresholds = {"min_distance_slope": float(c["min_distance_slope"])}
    empty = {"distance_grows": Estimate(0.0, 0.0, 0), "test_error_falls": Estimate(0.0, 0.0, 0)}
    if not r.missing and (dist.shape != err.shape or dist.size == 0 or dist.shape[1] != len(ns)):
        r.missing.append(f"distance_from_init/test_error (shapes {dist.shape} vs {err.shape}, must be (seeds, {len(ns)}))")
    if not r.missing and (dist <= 0).any():
        r.missing.append("distance_from_init (values <= 0: no log slope)")
    if r.missing:
        return _measurement(empty, _empty_requires("norm_growth"), r.missing, thresholds, {})
    floor = 0.5 / float(c.get("n_test") or DEFAULTS["norm_growth"]["n_test"])
    err = np.maximum(err, floor)
    sd, se = (log_slope(ns, dist), log_slope(ns, err)) if len(ns) >= 2 else (np.zeros(len(dist)), np.zeros(len(dist)))
    requires = {"sizes": _req(">= 2 training-set sizes", _yes(len(ns) >= 2)),
                "margin_rule": _req("networks that missed the margin within max_steps (raise max_steps): "
                                    + (", ".join(missed) or "none"), _FAIL * len(missed))}
    info = {"slope_distance": sd.tolist(), "slope_test_error": se.tolist(), "test_error_floor": floor,
            "missed_margin": list(missed)}
    spec = r.array("spectral_product", 2) if "spectral_product" in r.m else None
    if spec is not None and spec.shape == dist.shape and (spec > 0).all() and len(ns) >= 2:
        info["slope_spectral_product"] = log_slope(ns, spec).tolist()
    r.missing = [k for k in r.missing if not k.startswith("spectral_product")]
    claim = {"distance_grows": seed_estimate(sd), "test_error_falls": seed_estimate(se)} if len(ns) >= 2 else None
    return _measurement(claim, requires, [], thresholds, info)


def interpolation_index(train_error_mean, tol: float):
    """Index of the first sweep point whose seed-mean train error is <= ``tol`` (None if none).

    >>> interpolation_index([0.3, 0.005, 0.0], 0.01)
    1
    """
    hits = np.flatnonzero(np.asarray(train_error_mean, dtype=float) <= tol)
    return None if hits.size == 0 else int(hits[0])


def peak_window(p_star: int, m: int) -> list[int]:
    """The interior sweep points within one step of the interpolation threshold's index.

    >>> peak_window(4, 9), peak_window(8, 9), peak_window(1, 3)
    ([3, 4, 5], [7], [1])
    """
    return [i for i in (p_star - 1, p_star, p_star + 1) if 1 <= i <= m - 2]


def peak_contrasts(err: np.ndarray, window: list[int], valleys: tuple[int, int] | None = None) -> np.ndarray:
    """Per seed and window point p: min(e[p] - e[L], e[p] - e[R]). ``valleys`` = (L, R): by default the
    lowest seed-mean points before and after the window (the valleys of the classical and the modern
    regime; a broad peak is measured against them, not against its own shoulders). The window itself
    is fixed by the train-error threshold, not by the test errors. ``err``: (seeds, points) ->
    (seeds, |window|)."""
    e = np.asarray(err, dtype=float)
    lo, hi = valleys if valleys is not None else valley_indices(e.mean(axis=0), window)
    return np.stack([np.minimum(e[:, p] - e[:, lo], e[:, p] - e[:, hi]) for p in window], axis=1)


def valley_indices(mean_curve, window: list[int]) -> tuple[int, int]:
    """The lowest points of ``mean_curve`` before and after ``window``.

    >>> valley_indices([0.4, 0.2, 0.3, 0.5, 0.3, 0.25], [3])
    (1, 5)
    """
    m = np.asarray(mean_curve, dtype=float)
    return int(np.argmin(m[:window[0]])), window[-1] + 1 + int(np.argmin(m[window[-1] + 1:]))


def _stat_double_descent(c, r: _Reader) -> dict:
    err, train = r.array("test_error", 3), r.array("train_error", 3)
    thresholds = {"min_peak_height": float(c["min_peak_height"])}
    empty = Curve.exact(["-"], [0.0])
    if not r.missing and (err.shape != train.shape or err.size == 0 or err.shape[2] < 3):
        r.missing.append(f"test_error/train_error (shapes {err.shape} vs {train.shape}, must be equal (seeds, noise levels, >= 3 points))")
    if r.missing:
        return _measurement(empty, _empty_requires("deep_double_descent"), r.missing, thresholds, {})
    xs = list(r.value("x", default=c["widths"] if c.get("sweep", "model") == "model" else c["sample_sizes"], required=False))
    noise = list(r.value("label_noise", default=c["label_noise"], required=False))
    if len(xs) != err.shape[2] or len(noise) != err.shape[1]:
        r.missing.append(f"x / label_noise (lengths {len(xs)}, {len(noise)} vs test_error shape {err.shape})")
        return _measurement(empty, _empty_requires("deep_double_descent"), r.missing, thresholds, {})
    tol = float(c.get("interpolation_tol") or INTERPOLATION_TOL)
    noisy = int(np.argmax(noise))
    n_seeds, m = err.shape[0], err.shape[2]
    p_star = interpolation_index(train[:, noisy].mean(axis=0), tol)
    ok = p_star is not None and p_star >= 1
    where = ("none reaches it" if p_star is None else f"reached at {xs[p_star]}"
             + (" (the first point: the sweep has no under-parameterised side)" if p_star == 0 else ""))
    requires = {"seeds": _req(">= 2 seeds (an interval needs a spread)", _yes(n_seeds >= 2)),
                "label_noise": _req(f"a label-noise level > 0 (largest: {noise[noisy]:g})", _yes(noise[noisy] > 0)),
                "interpolation_threshold": _req(f"interpolation threshold (seed-mean train error <= {tol:g} at noise "
                                                f"{noise[noisy]:g}) inside the sweep after its first point: {where}", _yes(ok))}
    if not ok:
        return _measurement(None, requires, [], thresholds, {"interpolation_threshold": None if p_star is None else xs[p_star]})
    win = peak_window(p_star, m)
    valleys = valley_indices(err[:, noisy].mean(axis=0), win)
    h = peak_contrasts(err[:, noisy], win, valleys)
    curve = Curve.from_estimates([xs[i] for i in win], [seed_estimate(h[:, j]) for j in range(len(win))])
    info = {"interpolation_threshold": xs[p_star], "peak_window": [xs[i] for i in win],
            "references": [xs[valleys[0]], xs[valleys[1]]], "label_noise": noise[noisy],
            "contrast_mean": h.mean(axis=0).tolist(), "mean_test_error": err[:, noisy].mean(axis=0).tolist(),
            "statistic": "per seed min(e[p] - e[valley before], e[p] - e[valley after]) at the points p of the window"}
    clean = [i for i, p in enumerate(noise) if p == 0.0 and i != noisy]
    if clean:
        info["contrast_mean_without_noise"] = peak_contrasts(err[:, clean[0]], win, valleys).mean(axis=0).tolist()
    return _measurement(curve, requires, [], thresholds, info)


_STATISTICS = {"real_vs_ideal": _stat_real_vs_ideal, "hypersphere": _stat_hypersphere, "pac_bayes_mnist": _stat_pac_bayes,
               "feature_calibration": _stat_feature_calibration, "norm_growth": _stat_norm_growth,
               "deep_double_descent": _stat_double_descent}


# --------------------------------------------------------------------------- synthetic results
def synthetic(job: str, cfg: Mapping | None, rng: np.random.Generator, *, phenomenon: bool = True, **effect) -> dict:
    """Measurements with the keys and shapes of a real ``job`` run, with (``phenomenon=True``, at the
    size the papers report unless ``effect`` says otherwise) or without the phenomenon. ``effect``
    keys per job (defaults in brackets; the null value is used when ``phenomenon=False``):

    * real_vs_ideal: ``gap`` (0.01; null 0.1) Real - Ideal soft error in the window, ``noise`` (0.005),
      ``stops`` (True: the Real World reaches train error 0), ``overfits`` (True: train error falls
      below the test error inside the window);
    * hypersphere: ``sprime_excess`` (0.9; null 0.0) S' error - test error, ``noise`` (0.02), ``converged``,
      ``test_offset`` (0: test error 0.3 -> 0.05 over the sizes);
    * pac_bayes_mnist: ``risk`` (0.08; null: the target) true risk of Q, ``kl`` (100: a certificate ~0.15, Dziugaite & Roy's range), ``untrained_risk``
      (0.8; null: ``risk``, and KL 0: the untrained prior as good as the posterior);
    * feature_calibration: ``slope`` (1.0; null 0.0), ``noise`` (0.1), ``train_error`` (0.004: not exactly 0);
    * norm_growth: ``distance_slope`` (0.3; null 0.0), ``error_slope`` (-0.3), ``noise`` (0.02), ``missed``;
    * deep_double_descent: ``height`` (0.1, Nakkiran et al. 2020 Fig. 1 at 20% noise; null 0.0) of the bump at the interpolation threshold,
      ``noise`` (0.01 seed SD per point), ``threshold`` (index 5: where the noisy nets first interpolate), ``peak_at`` (the bump's index; default
      the threshold), ``shape`` ("decreasing" | "flat" base), ``slope`` (0.005: the base's fall per sweep point).

    >>> m = synthetic("feature_calibration", {}, np.random.default_rng(0))
    >>> sorted(m)
    ['p_c', 'rate', 'seeds', 'slope', 'train_error']
    """
    c = _cfg(job, cfg)
    n = int(effect.pop("n_seeds", c["n_seeds"]))
    return _SYNTHETIC[job](c, rng, n, phenomenon, dict(effect))


def _syn_real_vs_ideal(c, rng, n, phen, e):
    steps = int(c["steps"])
    k = max(int(c["n_evals"]), 2)
    t = sorted({max(1, int(round(steps ** (i / (k - 1))))) for i in range(k)} | {steps})
    u = np.log(np.asarray(t, float)) / math.log(steps)               # 0 .. 1
    gap = e.get("gap", 0.01 if phen else 0.1)
    noise = e.get("noise", 0.005)
    floor = float(c["train_error_floor"])
    ideal_test = 0.9 - 0.6 * u                                       # test error falls 0.9 -> 0.3
    if e.get("overfits", True):
        train = np.clip(0.9 * (1 - u) ** 1.5, 0, None)               # falls to 0 at the last step
        if not e.get("stops", True):
            train = np.maximum(train, 3 * floor)
    else:
        train = ideal_test.copy()                                    # never below its test error
    window = train >= floor
    shift = np.where(window, gap, 0.05)                              # after interpolation the worlds may part
    draw = lambda a: np.clip(a + rng.normal(0, noise, (n, len(t))), 0, 1)  # noqa: E731
    ideal = draw(ideal_test)
    real = np.clip(ideal + shift + rng.normal(0, noise, (n, len(t))), 0, 1)
    train_m = np.clip(train + rng.normal(0, noise / 5, (n, len(t))) * (train > 0), 0, 1)
    return {"eval_steps": t, "seeds": list(range(n)), "soft_error_real": real.tolist(), "soft_error_ideal": ideal.tolist(),
            "train_error_real": train_m.tolist(), "test_error_real": np.clip(real - 0.05, 0, 1).tolist(),
            "test_error_ideal": np.clip(ideal - 0.05, 0, 1).tolist(),
            "window": (train_m.mean(axis=0) >= floor).tolist()}


def _syn_hypersphere(c, rng, n, phen, e):
    ns = list(c["ns"])
    excess = e.get("sprime_excess", 0.9 if phen else 0.0)
    noise = e.get("noise", 0.02)
    te = np.clip(np.linspace(0.3, 0.05, len(ns)) + e.get("test_offset", 0.0) + rng.normal(0, noise, (n, len(ns))), 0, 1)
    sp = np.clip(te + excess + rng.normal(0, noise, (n, len(ns))), 0, 1)
    conv = e.get("converged", True)
    return {"n": ns, "seeds": list(range(n)), "test_error": te.tolist(), "s_prime_error": sp.tolist(),
            "train_error": np.zeros((n, len(ns))).tolist(), "steps": np.full((n, len(ns)), 1000).tolist(),
            "converged": [[bool(conv)] * len(ns) for _ in range(n)]}


def _certificate(rng, risk, kl, c, k=1):
    """A simulated certificate: bound-set errors ~ Binomial(n, risk), Monte Carlo upper limit, kl-inverse bound."""
    from claimcheck.theory.pac_bayes import kl_inverse_upper, maurer_bound

    n = int(c["n_bound"])
    emp = rng.binomial(n, risk) / n
    upper = float(kl_inverse_upper(emp, math.log(2 / float(c["delta_mc"])) / int(c["mc_samples"])))
    return float(maurer_bound(upper, kl, n, float(c["delta"]), k=k)), emp


def _syn_pac_bayes(c, rng, n, phen, e):
    risk = e.get("risk", 0.08 if phen else float(c["bound_target"]))
    kl = e.get("kl", 100.0)
    k = len(c["prior_sigmas"])
    bound, emp = _certificate(rng, risk, kl, c, k)
    if phen:
        untrained, _ = _certificate(rng, e.get("untrained_risk", 0.8), 0.0, c)
    else:
        untrained, _ = _certificate(rng, e.get("untrained_risk", risk), 0.0, c)   # KL = 0, same risk: as good
    prior_only, _ = _certificate(rng, risk * 1.2, 0.0, c)
    n_eval = int(c["n_eval"])
    ev = rng.binomial(n_eval, risk) / n_eval
    cand = {"sigma_prior": 0.03, "kl": kl, "emp_risk_mc": emp, "emp_risk_upper": emp, "bound": bound,
            "mcallester": bound, "eval_error_Q": ev, "eval_error_mean_net": ev, "prior_mean_eval_error": ev}
    return {"candidates": [cand], "bound": bound, "prior_mean_eval_error": ev, "anchor_mnist_compression_bound": 0.116,
            "untrained_prior_bound": untrained, "prior_only_bound": prior_only, "data": {}}


def _syn_feature_calibration(c, rng, n, phen, e):
    slope = e.get("slope", 1.0 if phen else 0.0)
    p_c = float(c["p_max"]) * np.arange(10) / 9
    slopes = slope + rng.normal(0, e.get("noise", 0.1), n)
    rate = np.clip(p_c[None, :] * slopes[:, None] + rng.normal(0, 0.02, (n, 10)), 0, 1)
    te = float(e.get("train_error", 0.004))
    return {"p_c": p_c.tolist(), "rate": rate.tolist(), "slope": slopes.tolist(),
            "train_error": [te if s % 2 else 0.0 for s in range(n)], "seeds": list(range(n))}


def _syn_norm_growth(c, rng, n, phen, e):
    ns = np.asarray(c["ns"], float)
    a = e.get("distance_slope", 0.3 if phen else 0.0)
    b = e.get("error_slope", -0.3)
    noise = e.get("noise", 0.02)
    ln = np.log(ns / ns[0])
    dist = 20.0 * np.exp(a * ln[None, :] + rng.normal(0, noise, (n, len(ns))))
    err = np.clip(0.2 * np.exp(b * ln[None, :] + rng.normal(0, noise, (n, len(ns)))), 0, 1)
    missed = [f"n={int(ns[0])} seed=0"] if e.get("missed") else []
    return {"ns": [int(v) for v in ns], "seeds": list(range(n)), "distance_from_init": dist.tolist(),
            "test_error": err.tolist(), "spectral_product": (dist * 3).tolist(), "steps": np.full((n, len(ns)), 100).tolist(),
            "epochs": np.full((n, len(ns)), 10).tolist(), "train_miss": np.zeros((n, len(ns))).tolist(), "missed_margin": missed}


def _syn_double_descent(c, rng, n, phen, e):
    xs = list(c["widths"] if c.get("sweep", "model") == "model" else c["sample_sizes"])
    noise_levels = list(c["label_noise"])
    m = len(xs)
    height = e.get("height", 0.1 if phen else 0.0)
    sd = e.get("noise", 0.01)
    p_star = int(e.get("threshold", min(5, m - 2)))
    i = np.arange(m)
    shape = e.get("shape", "decreasing")
    base = 0.25 - e.get("slope", 0.005) * i if shape == "decreasing" else np.full(m, 0.25)
    base = base + 0.15 * np.exp(-i)                                  # the first descent (small models)
    bump = height * np.exp(-0.5 * ((i - int(e.get("peak_at", p_star))) / 0.7) ** 2)
    test, train = [], []
    for lvl in noise_levels:
        frac = lvl / max(max(noise_levels), 1e-12)
        test.append(base + frac * bump)
        thr = p_star if lvl > 0 else max(p_star - 2, 1)
        train.append(np.where(i >= thr, 0.0, 0.3 * (thr - i) / thr + 0.02))
    test, train = np.array(test), np.array(train)                    # (noise, points)
    te = np.clip(test[None] + rng.normal(0, sd, (n,) + test.shape), 0, 1)
    tr = np.clip(train[None] + np.abs(rng.normal(0, 0.001, (n,) + train.shape)) * (train[None] > 0), 0, 1)
    return {"x": xs, "x_name": "k" if c.get("sweep", "model") == "model" else "n", "label_noise": noise_levels,
            "seeds": list(range(n)), "test_error": te.tolist(), "train_error": tr.tolist(),
            "mean_test_error": te.mean(axis=0).tolist()}


_SYNTHETIC = {"real_vs_ideal": _syn_real_vs_ideal, "hypersphere": _syn_hypersphere, "pac_bayes_mnist": _syn_pac_bayes,
              "feature_calibration": _syn_feature_calibration, "norm_growth": _syn_norm_growth,
              "deep_double_descent": _syn_double_descent}


# --------------------------------------------------------------------------- verdicts
def decide(job: str, cfg: Mapping | None, m: Mapping, *, seed: int = 0, profile: str = "custom",
           result: str = "result.json") -> Verdict:
    """The verdict of ``job`` on measured results ``m`` (config ``cfg``): :func:`check` on
    :func:`statistic`. The verdict is the one the registered claim gives on the written result file
    (``params = {"result": result}``, budget "standard"), so its reproduce line re-decides from the
    file (run it in the run directory); ``extra`` holds the statistic's info and the profile.

    >>> v = decide("feature_calibration", {}, {"slope": [0.9, 1.0, 1.1], "train_error": [0.0, 0.0, 0.0]}, profile="test")
    >>> v.status.value, v.claim_id
    ('passed', 'gpu.feature_calibration.slope')
    """
    meas = statistic(job, cfg, m)
    meas["info"] = {**meas["info"], "profile": profile}
    return verdict_of(job, meas, seed=seed, params={"result": result})


def verdict_of(job: str, meas: Mapping, *, seed: int, params: Mapping, budget: str = "standard") -> Verdict:
    """The verdict of :func:`check` on a measurement of :func:`statistic` (shared by :func:`decide`
    and the registered claims)."""
    rule = check(job)
    d = rule.decide(None, meas, params)
    try:
        from claimcheck.registry import reproduce_call, get_claim

        call = reproduce_call(get_claim(CLAIM_IDS[job]))
    except ValueError:  # pragma: no cover - the claims module is part of the package
        call = ""
    v = Verdict(claim_id=CLAIM_IDS[job], status=d.status, prediction=float(d.prediction), estimate=d.estimate,
                z=float(d.z), alpha=rule.alpha, seed=int(seed), params=dict(params), budget=budget, detail=d.detail,
                extra=dict(meas.get("info") or {}), kind=rule.label, statistic=d.statistic, call=call)
    return dataclasses.replace(v, summary=rule.summary(v))
