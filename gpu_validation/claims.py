"""The six GPU jobs as registered claims (``gpu.<job>.<name>``, ``evidence="measurement"``; torch-free).

Each claim's check is the job's rule (:func:`claimcheck.gpu_validation.rules.check`), and its
``simulate`` reads a *measured* result: the ``result.json`` a job run wrote (claim parameter
``result``: a path, or ``"evidence"`` for the committed ``gpu_validation/evidence/<job>/result.json``).
Nothing trains: ``claimcheck verify gpu`` (or ``--evidence measurement|all``) re-decides the
measured results; a claim whose result file is absent is SKIPPED with the reason.

Mutants replace the measured result by a synthetic one without the phenomenon
(:func:`claimcheck.gpu_validation.rules.synthetic`, fixed seed), which the claim's own check must
reject (``failed``); ``get_claim("gpu.x[mutant]")`` rebuilds them, so their reproduce lines run.

>>> import claimcheck
>>> [c.id for c in claimcheck.all_claims(evidence="measurement")][:2]
['gpu.real_vs_ideal.soft_error_gap', 'gpu.hypersphere.sprime_error']
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
from hypothesis import strategies as st

from claimcheck.claim import Claim, Mutant
from claimcheck.errors import DataUnavailable
from claimcheck.registry import register
from claimcheck.gpu_validation import rules

__all__ = ["EVIDENCE_DIR", "evidence_path", "load_result", "CLAIMS"]

EVIDENCE_DIR = Path(__file__).resolve().parent / "evidence"
"""Where the committed evidence lives: ``EVIDENCE_DIR/<job>/result.json`` (the driver's result of a run)."""

DEFAULT_RESULT = "evidence"


def evidence_path(job: str) -> Path:
    """The committed result file of ``job``."""
    return EVIDENCE_DIR / job / "result.json"


def load_result(job: str, result: str = DEFAULT_RESULT) -> dict:
    """The result dict of ``job`` from ``result`` (a path, or "evidence": the committed file).

    DataUnavailable (claimcheck verify: SKIPPED) if the file is absent; ValueError if it is another
    job's result, a partial (sharded) one, or not a result at all."""
    if not isinstance(result, (str, Path)) or not str(result):
        raise TypeError(f"result={result!r}, must be a path to a result.json or {DEFAULT_RESULT!r}")
    path = evidence_path(job) if str(result) == DEFAULT_RESULT else Path(result)
    if not path.is_file():
        where = (f"gpu_validation/evidence/{job}/result.json is not committed" if str(result) == DEFAULT_RESULT
                 else f"{path} is absent")
        raise DataUnavailable(f"no measured result for {rules.CLAIM_IDS[job]}: {where} "
                              f"(a run: claimcheck gpu {job} --out DIR; then result=DIR/.../result.json)")
    try:
        res = json.loads(path.read_text(encoding="utf-8"))   # JSON only: nothing is unpickled
    except (UnicodeDecodeError, ValueError) as exc:  # a corrupt or truncated file: name it
        raise ValueError(f"result={str(path)!r} is not valid JSON ({exc}), must be a GPU job's result.json") from None
    if not isinstance(res, dict) or "measurements" not in res:
        raise ValueError(f"result={str(path)!r} is not a GPU job result (no 'measurements')")
    if res.get("job") not in (None, job):
        raise ValueError(f"result={str(path)!r} is a {res.get('job')!r} result, the claim is about {job!r}")
    if res.get("partial"):
        raise ValueError(f"result={str(path)!r} is a partial (sharded) result: collect the shards first")
    return res


def _measured(job: str) -> Callable[..., tuple]:
    def measured(result: str = DEFAULT_RESULT) -> tuple:
        """(config, measurements, profile) of the measured result."""
        res = load_result(job, result)
        return res.get("config") or {}, res["measurements"], res.get("profile")
    measured.__qualname__ = f"measured_{job}"
    return measured


def _synthetic(job: str, seed: int, **effect) -> Callable[..., tuple]:
    def synthetic(result: str = DEFAULT_RESULT) -> tuple:
        """(config, measurements, profile) of a synthetic result without the phenomenon (fixed seed)."""
        cfg = dict(rules.DEFAULTS[job])
        return cfg, rules.synthetic(job, cfg, np.random.default_rng(seed), phenomenon=False, **effect), "synthetic"
    synthetic.__qualname__ = f"synthetic_{job}"
    return synthetic


def _simulate(job: str):
    def simulate(params, reps, rng, predict):
        cfg, m, profile = predict(**params)
        meas = rules.statistic(job, cfg, m)
        meas["info"] = {**meas["info"], "profile": profile}
        return meas
    return simulate


# job -> (title, statement, source, mutants: (name, description, effect))
_SPEC = {
    "real_vs_ideal": (
        "Real World tracks the Ideal World while it still trains (deep nets)",
        r"\max_{t:\ \mathrm{TrainErr}_{real}(t) \ge 1\%} |\mathrm{SoftErr}_{real}(t) - \mathrm{SoftErr}_{ideal}(t)| < \epsilon",
        "Nakkiran, Neyshabur & Sedghi 2021, The Deep Bootstrap Framework, ICLR, Sec. 3 / Fig. 1",
        [("real_world_diverges", "the Real World's soft error is 0.1 above the Ideal World's inside the window",
          {"gap": 0.1})]),
    "hypersphere": (
        "Test error falls with n while S' is misclassified (deep nets)",
        r"\mathrm{Err}_{S'}(n_{max}) - \mathrm{Err}_{test}(n_{max}) \ge 1/2,\quad \mathrm{Err}_{test}(n_{min}) > \mathrm{Err}_{test}(n_{max})",
        "Nagarajan & Kolter 2019, Uniform convergence may be unable to explain generalization, NeurIPS, Fig. 2",
        [("sprime_near_test_error", "S' error equals the test error (uniform convergence would be fine)",
          {"sprime_excess": 0.0})]),
    "pac_bayes_mnist": (
        "A non-vacuous PAC-Bayes certificate for a trained MNIST net beats the untrained prior",
        r"B(Q) < 0.2,\quad B(Q) < B(Q = P_{init}, \mathrm{KL} = 0),\quad \mathrm{Err}_{held-out}(Q) \le B(Q)",
        "Dziugaite & Roy 2017; Perez-Ortiz, Rivasplata, Shawe-Taylor & Szepesvari 2021 (PBB), JMLR 22",
        [("untrained_prior_as_good", "the untrained prior (KL = 0) certifies the same risk: the posterior adds nothing",
          {"risk": 0.08}),
         ("vacuous_certificate", "the posterior's true risk is 0.5: the certificate cannot reach the target",
          {"risk": 0.5})]),
    "feature_calibration": (
        "An interpolating net reproduces the training label noise per class (feature calibration, deep nets)",
        r"\text{slope of } P(\hat y = 1 \mid c) \text{ on } p_c > 1/2",
        "Nakkiran & Bansal 2020, Distributional Generalization, Sec. 3 / Fig. 1",
        [("bayes_predictions", "the network predicts like the Bayes classifier (slope 0)", {"slope": 0.0})]),
    "norm_growth": (
        "||W - W0|| grows with n while the test error falls (deep nets)",
        r"\frac{d \log \|W - W_0\|_F}{d \log n} > 0.05,\quad \frac{d \log \mathrm{Err}_{test}}{d \log n} < 0",
        "Nagarajan & Kolter 2019, NeurIPS, Sec. 2 / Fig. 1",
        [("flat_distance", "||W - W0|| does not change with n", {"distance_slope": 0.0, "noise": 0.01})]),
    "deep_double_descent": (
        "Test error peaks at the interpolation threshold under label noise (deep double descent)",
        r"\exists k \approx k^*: \mathrm{Err}(k) - \max(\mathrm{Err}(k_-), \mathrm{Err}(k_+)) \ge 0.01",
        "Nakkiran, Kaplun, Bansal, Yang, Barak & Sutskever 2020, Deep Double Descent, Fig. 1 / Sec. 4",
        [("monotone_curve", "the test error falls with width by 0.03 a sweep point, no peak (seed noise 0.01)",
          {"height": 0.0, "shape": "decreasing", "slope": 0.03})]),
}


def _claim(job: str) -> Claim:
    title, statement, source, mutants = _SPEC[job]
    return Claim(
        id=rules.CLAIM_IDS[job], title=title, statement=statement, source=source,
        check=rules.check(job), predict=_measured(job), domain=st.fixed_dictionaries({"result": st.just(DEFAULT_RESULT)}),
        default={"result": DEFAULT_RESULT}, simulate=_simulate(job), simulate_takes_predict=True, reps=1,
        mutants=tuple(Mutant(name, desc, _synthetic(job, 1000 + k, **effect)) for k, (name, desc, effect) in enumerate(mutants)),
        evidence="measurement",
        notes=f"decided on measured results (claimcheck gpu {job}); rule: claimcheck.gpu_validation.rules ({job})",
    )


CLAIMS = [register(_claim(job)) for job in rules.JOBS]
