"""The six deep-net verdict rules (gpu_validation/rules.py) and their registered gpu.* claims.

Each rule passes synthetic results with the phenomenon at the size the papers report, does not
pass results without it (its named nulls), is underpowered where a precondition fails or a key is
missing, and stays NaN-free at the domain's edges (one seed, empty windows). One fixed draw per
case: the rates over many draws are measured in benchmarks/bench_gpu_verdicts.py. Torch-free.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import claimcheck
from claimcheck import Status
from claimcheck.checks import Deterministic, ThresholdCI
from claimcheck.estimate import Curve, Estimate
from claimcheck.gpu_validation import claims as gpu_claims
from claimcheck.gpu_validation import rules

SEEDED_JOBS = [j for j in rules.JOBS if j != "pac_bayes_mnist"]


def _syn(job, seed=0, phenomenon=True, **effect):
    return rules.synthetic(job, {}, np.random.default_rng(seed), phenomenon=phenomenon, **effect)


def _decide(job, m, cfg=None):
    v = rules.decide(job, cfg or {}, m, seed=0, profile="test")
    json.dumps(v.to_dict(), allow_nan=False)  # strict JSON at every outcome
    return v


# ----------------------------------------------------------------------------- with the phenomenon
@pytest.mark.parametrize("job", rules.JOBS)
def test_the_phenomenon_at_the_papers_size_passes(job):
    n = {"deep_double_descent": 5}.get(job, 3)   # a 0.1 peak at 3 seeds is found 60% of the time (benchmark)
    v = _decide(job, _syn(job, n_seeds=n))
    assert v.status is Status.PASSED, v.detail
    assert v.claim_id == rules.CLAIM_IDS[job] and v.kind == rules.check(job).label and v.summary


@pytest.mark.parametrize("job", rules.JOBS)
def test_the_synthetic_result_has_the_keys_and_shapes_of_a_real_run(job):
    with_, without = _syn(job), _syn(job, phenomenon=False)
    assert set(with_) == set(without)
    for k in with_:
        assert np.shape(with_[k]) == np.shape(without[k]) or isinstance(with_[k], list) and k == "candidates"


# ----------------------------------------------------------------------------- nulls do not pass
NULLS = [
    ("real_vs_ideal", dict(gap=0.1), Status.FAILED),                           # the worlds part inside the window
    ("real_vs_ideal", dict(gap=0.01, overfits=False), Status.UNDERPOWERED),    # never overfits: no generalization gap
    ("real_vs_ideal", dict(gap=0.01, stops=False), Status.UNDERPOWERED),       # never reaches its stopping time
    ("hypersphere", dict(sprime_excess=0.0), Status.FAILED),                   # S' error = test error
    ("hypersphere", dict(sprime_excess=0.3), Status.FAILED),                   # S' error > 1/2 but not 0.5 above test
    ("hypersphere", dict(sprime_excess=0.9, converged=False), Status.UNDERPOWERED),
    ("pac_bayes_mnist", dict(risk=0.08), Status.FAILED),                       # untrained prior (KL = 0) as good
    ("pac_bayes_mnist", dict(risk=0.5), Status.FAILED),                        # certificate above the target
    ("feature_calibration", dict(slope=0.0), Status.FAILED),                   # Bayes-like predictions
    ("feature_calibration", dict(slope=1.0, train_error=0.05), Status.UNDERPOWERED),  # no interpolation
    ("norm_growth", dict(distance_slope=0.0), Status.FAILED),                  # flat ||W - W0||
    ("norm_growth", dict(distance_slope=0.3, missed=True), Status.UNDERPOWERED),
    ("deep_double_descent", dict(height=0.0, shape="decreasing", slope=0.03), Status.FAILED),
]


@pytest.mark.parametrize("job, effect, status", NULLS, ids=[f"{j}-{'-'.join(map(str, e.values()))}" for j, e, _ in NULLS])
def test_results_without_the_phenomenon_do_not_pass(job, effect, status):
    v = _decide(job, _syn(job, phenomenon=False, **effect))
    assert v.status is status, v.detail


@pytest.mark.parametrize("shape", ["flat", "decreasing"])
@pytest.mark.parametrize("seed", range(5))
def test_peak_free_width_curves_with_seed_noise_never_pass(shape, seed):
    v = _decide("deep_double_descent", _syn("deep_double_descent", seed, phenomenon=False, shape=shape, n_seeds=5))
    assert v.status is not Status.PASSED, v.detail


def test_a_peak_away_from_the_interpolation_threshold_does_not_pass():
    m = _syn("deep_double_descent", n_seeds=5, threshold=2)          # bump at index 2
    tr = np.asarray(m["train_error"])
    tr[:, 1, :] = np.where(np.arange(tr.shape[2]) >= 6, 0.0, 0.2)     # but the noisy nets interpolate at index 6
    m["train_error"] = tr.tolist()
    v = _decide("deep_double_descent", m)
    assert v.status is not Status.PASSED and v.extra["interpolation_threshold"] == m["x"][6]


def test_the_old_hypersphere_rule_would_pass_what_the_new_one_rejects():
    m = _syn("hypersphere", phenomenon=False, sprime_excess=0.3, test_offset=0.3)
    sp = np.asarray(m["s_prime_error"])[:, -1]
    assert sp.mean() > 0.5                                            # S' error > 1/2 (the old rule's condition)
    assert _decide("hypersphere", m).status is Status.FAILED


def test_calibration_does_not_hinge_on_exactly_zero_train_error():
    m = _syn("feature_calibration", train_error=0.004)
    assert max(m["train_error"]) > 0
    assert _decide("feature_calibration", m).status is Status.PASSED
    cfg = {"interpolation_tol": 0.0}                                  # the job's field: never below the 1% floor
    assert _decide("feature_calibration", m, cfg).status is Status.PASSED


def test_pac_bayes_untrained_prior_exactly_as_good_is_not_a_pass():
    m = _syn("pac_bayes_mnist")
    m["untrained_prior_bound"] = m["candidates"][0]["bound"]          # KL = 0 certificate equal to the posterior's
    v = _decide("pac_bayes_mnist", m)
    assert v.status is Status.UNDERPOWERED and "beats_untrained_prior" in v.detail


def test_pac_bayes_says_when_the_posterior_does_not_beat_the_trained_prior():
    m = _syn("pac_bayes_mnist")
    m["prior_only_bound"] = m["candidates"][0]["bound"] - 0.01
    v = _decide("pac_bayes_mnist", m)
    assert "does NOT beat the trained prior" in v.detail and v.extra["posterior_beats_prior_only"] is False


def test_pac_bayes_certificate_violated_on_held_out_data_fails():
    m = _syn("pac_bayes_mnist")
    m["candidates"][0]["eval_error_Q"] = 0.5                          # far above the certificate (~0.15)
    v = _decide("pac_bayes_mnist", m)
    assert v.status is Status.FAILED and "holds_on_held_out" in v.detail


# ----------------------------------------------------------------------------- missing keys, edges
OLD_KEYS = {"pac_bayes_mnist": "untrained_prior_bound", "real_vs_ideal": "test_error_real",
            "hypersphere": "converged", "feature_calibration": "train_error", "norm_growth": "missed_margin",
            "deep_double_descent": "train_error"}


@pytest.mark.parametrize("job", rules.JOBS)
def test_a_result_missing_a_needed_key_is_underpowered_naming_it(job):
    m = _syn(job)
    del m[OLD_KEYS[job]]
    v = _decide(job, m)
    assert v.status is Status.UNDERPOWERED and OLD_KEYS[job] in v.detail


@pytest.mark.parametrize("job", rules.JOBS)
def test_an_empty_or_non_finite_result_is_underpowered_not_an_error(job):
    assert _decide(job, {}).status is Status.UNDERPOWERED
    m = _syn(job)
    key = {"pac_bayes_mnist": "untrained_prior_bound"}.get(job, OLD_KEYS[job] if job != "norm_growth" else "test_error")
    if key in ("converged", "missed_margin"):
        key = "test_error"
    m[key] = float("nan") if job == "pac_bayes_mnist" else (np.asarray(m[key], float) * np.nan).tolist()
    v = _decide(job, m)
    assert v.status is Status.UNDERPOWERED, v.detail


@pytest.mark.parametrize("job", SEEDED_JOBS)
def test_one_seed_is_never_a_verdict(job):
    v = _decide(job, _syn(job, n_seeds=1))
    assert v.status is Status.UNDERPOWERED, v.detail


def test_real_vs_ideal_with_an_empty_window_is_underpowered():
    m = _syn("real_vs_ideal")
    m["train_error_real"] = np.zeros_like(np.asarray(m["train_error_real"])).tolist()   # fits from the first step
    v = _decide("real_vs_ideal", m)
    assert v.status is Status.UNDERPOWERED and "window" in v.detail


def test_real_vs_ideal_reads_its_tolerance_from_the_config():
    m = _syn("real_vs_ideal", gap=0.03)
    assert _decide("real_vs_ideal", m).status is Status.PASSED
    assert _decide("real_vs_ideal", m, {"gap_tolerance": 0.02}).status is Status.FAILED


@pytest.mark.parametrize("threshold_at, status", [(0, Status.UNDERPOWERED), (None, Status.UNDERPOWERED)])
def test_double_descent_needs_the_interpolation_threshold_inside_the_sweep(threshold_at, status):
    m = _syn("deep_double_descent", n_seeds=5)
    tr = np.asarray(m["train_error"])
    tr[:, 1, :] = 0.0 if threshold_at == 0 else 0.3                   # interpolates from the first point / never
    m["train_error"] = tr.tolist()
    v = _decide("deep_double_descent", m)
    assert v.status is status and "interpolation_threshold" in v.detail


def test_double_descent_without_label_noise_is_not_the_claim():
    m = _syn("deep_double_descent", n_seeds=5)
    v = _decide("deep_double_descent", {**m, "label_noise": [0.0, 0.0]})
    assert v.status is Status.UNDERPOWERED and "label_noise" in v.detail


def test_double_descent_window_at_the_edges_of_the_sweep():
    assert rules.peak_window(1, 3) == [1] and rules.peak_window(2, 3) == [1] and rules.peak_window(8, 9) == [7]
    h = rules.peak_contrasts(np.array([[0.3, 0.5, 0.2]]), [1], (0, 2))
    assert h.tolist() == [[pytest.approx(0.2)]]                       # min(0.5 - 0.3, 0.5 - 0.2)


# ----------------------------------------------------------------------------- the Given combinator
def test_given_rejects_malformed_construction():
    with pytest.raises(TypeError, match="check="):
        rules.Given(check=None)
    with pytest.raises(TypeError, match="requires entry"):
        rules.Given(check=ThresholdCI(), requires=(("x",),))


def test_given_never_fails_on_a_precondition_and_decides_otherwise():
    g = rules.Given(alpha=0.05, check=ThresholdCI(threshold=0.0), requires=(("trained", Deterministic()),))
    bad = Estimate.from_samples([-1.0, -1.1, -0.9])
    unmet = {"claim": bad, "requires": {"trained": Curve.exact(["x"], [5.0])}}
    met = {"claim": bad, "requires": {"trained": Curve.exact(["x"], [0.0])}}
    assert g.decide(None, unmet).status is Status.UNDERPOWERED
    assert g.decide(None, met).status is Status.FAILED
    assert g.decide(None, {**met, "missing": ["k"]}).status is Status.UNDERPOWERED


# ----------------------------------------------------------------------------- registered claims
MEASURED = claimcheck.all_claims(evidence="measurement")


def test_the_six_gpu_claims_are_registered_on_measured_results():
    assert [c.id for c in MEASURED] == [rules.CLAIM_IDS[j] for j in rules.JOBS]
    for job, c in zip(rules.JOBS, MEASURED):
        assert c.evidence == "measurement" and c.rule == rules.check(job) and c.mutants
        assert c.title and c.statement and c.source


def test_the_job_modules_name_the_same_claims():
    import importlib.util
    import re

    from claimcheck.gpu_validation import JOBS

    assert set(JOBS) == set(rules.JOBS)
    for job in rules.JOBS:   # read from the source: importing the job modules needs torch (seconds)
        text = open(importlib.util.find_spec(JOBS[job]).origin, encoding="utf-8").read()
        assert re.search(r'^CLAIM_ID = "([^"]+)"', text, re.M).group(1) == rules.CLAIM_IDS[job]
        # no job decides by itself: the driver applies the registered rule to every one
        assert not re.search(r"^def verdict\(", text, re.M), job
    driver = open(importlib.util.find_spec("claimcheck.gpu_validation.driver").origin, encoding="utf-8").read()
    assert "rules.decide(job.JOB, dataclasses.asdict(cfg), m, seed=seed, profile=profile)" in driver


MUTANTS = [(c.id, m.name) for c in MEASURED for m in c.mutants]


@pytest.mark.parametrize("claim_id, mutant", MUTANTS, ids=[f"{c}:{m}" for c, m in MUTANTS])
def test_the_claims_own_check_rejects_every_mutant_and_its_reproduce_line_runs(claim_id, mutant):
    mc = claimcheck.get_claim(f"{claim_id}[{mutant}]")
    v = mc.check(budget="quick", seed=0)
    assert v.status is Status.FAILED, v.detail
    prefix, _, expr = v.reproduce().rpartition("; ")
    ns: dict = {}
    exec(prefix.replace("; ", "\n"), ns)  # noqa: S102 - our own generated line
    assert eval(expr, ns).to_dict() == v.to_dict()  # noqa: S307


@pytest.mark.parametrize("job", ["feature_calibration", "deep_double_descent"])
def test_a_claim_on_a_written_result_gives_the_jobs_own_verdict(job, tmp_path):
    m = _syn(job, n_seeds=5)
    cfg = dict(rules.DEFAULTS[job])
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"job": job, "profile": "test", "config": cfg, "measurements": m}))
    v = claimcheck.get_claim(rules.CLAIM_IDS[job]).check({"result": str(path)}, seed=0)
    assert v.to_dict() == rules.decide(job, cfg, m, seed=0, profile="test", result=str(path)).to_dict()
    assert v.status is Status.PASSED


def test_a_result_of_another_job_or_a_partial_one_is_refused(tmp_path):
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"job": "hypersphere", "measurements": {}}))
    with pytest.raises(ValueError, match="is a 'hypersphere' result"):
        gpu_claims.load_result("norm_growth", str(path))
    path.write_text(json.dumps({"job": "norm_growth", "partial": True, "measurements": {}}))
    with pytest.raises(ValueError, match="partial"):
        gpu_claims.load_result("norm_growth", str(path))


def test_verify_includes_measured_claims_only_when_asked(tmp_path, capsys, monkeypatch):
    from claimcheck.cli import EXIT_UNDERPOWERED, _select, main

    assert not any(c.evidence == "measurement" for c in _select([]))
    assert {c.id for c in MEASURED} <= {c.id for c in _select([], "all")}
    empty = tmp_path / "evidence"
    monkeypatch.setattr(gpu_claims, "EVIDENCE_DIR", empty)              # no committed evidence: every claim SKIPPED
    report = tmp_path / "report.json"
    code = main(["verify", "--evidence", "measurement", "--budget", "quick", "--json", str(report)])
    out = capsys.readouterr().out
    data = json.loads(report.read_text())
    assert code == EXIT_UNDERPOWERED and "SKIPPED" in out and "no measured result" in out
    assert [v["claim_id"] for v in data["verdicts"]] == [c.id for c in MEASURED]
    assert all(v["status"] == "skipped" for v in data["verdicts"])
