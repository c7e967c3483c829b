"""The committed deep-net evidence (real_vs_ideal, hypersphere, pac_bayes_mnist) and its README table.

* The README's Evidence table is exactly what ``gpu_validation/evidence_table.py`` generates from
  the committed ``gpu_validation/evidence/*/result.json`` files (so it cannot drift from them).
* Every committed result has a verdict, the machine and the timings (wall and CPU seconds).
* The table and the uniform-convergence paper figure work without torch (a core install):
  checked in a subprocess whose imports of torch fail.
* The PAC-Bayes baselines are certificates with KL = 0 and the same accounting as the posterior's.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from claimcheck.gpu_validation import JOBS, evidence_table as ET

ROOT = Path(__file__).resolve().parents[1]
MINE = ("real_vs_ideal", "hypersphere", "pac_bayes_mnist")
STATUSES = {"passed", "failed", "underpowered", "skipped"}
from no_gpu_extra import NO_GPU_EXTRA as NO_TORCH  # noqa: E402


def _committed() -> dict[str, dict]:
    return ET.load()


# --------------------------------------------------------------------------- the committed files

def test_my_three_jobs_have_committed_evidence():
    assert set(MINE) <= set(_committed()), sorted(_committed())


@pytest.mark.parametrize("job", sorted(JOBS))
def test_every_committed_result_has_a_verdict_machine_and_timings(job):
    res = _committed().get(job)
    if res is None:
        pytest.skip(f"no committed evidence for {job} (the table says 'not run')")
    assert res["job"] == job and not res["partial"]
    v = res["verdict"]
    assert v["status"] in STATUSES and v["claim_id"].startswith("gpu.") and v["detail"]
    assert res["device"]["type"] in {"cpu", "cuda"} and res["device"].get("name") and res["device"].get("threads")
    t = res["timings"]
    assert t["wall_s"] > 0 and t["steps"] > 0
    assert t["cpu_s"] > 0, "process CPU seconds missing (run.Run.finish records them)"
    assert res["config"]["profile"] == res["profile"]
    stem = Path(ET.EVIDENCE / job)
    assert (stem / f"{job}.pdf").is_file() and (stem / f"{job}.png").is_file(), "the job's figure is committed next to it"


def test_the_stored_verdicts_are_what_the_table_shows():
    for job, res in _committed().items():
        v, source = ET.decide(job, res)
        if source == "stored":
            assert v == res["verdict"]
        assert f"**{v['status']}**" in " ".join(ET.row(job, res))


# --------------------------------------------------------------------------- README table

def test_readme_evidence_table_is_the_generated_one():
    text = (ROOT / "README.md").read_text()
    assert text.count(ET.START) == 1 and text.count(ET.END) == 1
    assert ET.readme_block() in text, "README is stale: run python -m claimcheck.gpu_validation.evidence_table --write"


def test_the_table_has_a_row_per_job_and_a_missing_job_says_not_run():
    lines = ET.table({}).splitlines()
    assert len(lines) == 2 + len(JOBS)
    for job, line in zip(JOBS, lines[2:]):
        assert line.startswith(f"| `{job}` |") and "not run" in line


def test_write_readme_replaces_only_the_block_and_needs_the_markers(tmp_path):
    p = tmp_path / "R.md"
    p.write_text(f"head\n{ET.START}\nSTALE-ROW\n{ET.END}\ntail\n")
    assert ET.write_readme(p, results={}) is True
    text = p.read_text()
    assert text.startswith("head\n") and text.endswith("\ntail\n") and "STALE-ROW" not in text
    assert ET.write_readme(p, results={}) is False            # idempotent
    (tmp_path / "bad.md").write_text("no markers\n")
    with pytest.raises(ValueError, match="readme="):
        ET.write_readme(tmp_path / "bad.md", results={})


def test_real_vs_ideal_key_numbers_follow_the_measurements():
    """The key-number cell is computed from the measurements: a larger gap shows up as such."""
    m = {"eval_steps": [1, 10, 100], "window": [True, True, False],
         "soft_error_real": [[0.8, 0.5, 0.4], [0.8, 0.5, 0.4]], "soft_error_ideal": [[0.8, 0.4, 0.2], [0.8, 0.44, 0.2]],
         "train_error_real": [[0.7, 0.1, 0.0], [0.7, 0.1, 0.0]], "test_error_real": [[0.8, 0.5, 0.45]] * 2,
         "test_error_ideal": [[0.8, 0.4, 0.3]] * 2}
    cell = ET._real_vs_ideal(m, {"train_error_floor": 0.01})
    assert "0.080" in cell and "window up to step 10" in cell and "from step 100" in cell and "soft gap 0.200" in cell
    empty = dict(m, window=[False, False, False])
    assert "empty window" in ET._real_vs_ideal(empty, {})


def test_pac_bayes_key_numbers_say_whether_the_posterior_beat_its_prior():
    c = {"bound": 0.2, "kl": 27.0, "emp_risk_mc": 0.06, "emp_risk_upper": 0.09, "eval_error_Q": 0.06}
    m = {"candidates": [c], "bound": 0.2, "prior_only_bound": 0.15, "untrained_prior_bound": 0.95}
    assert "**not below** it: +0.0500" in ET._pac_bayes_mnist(m, {"mc_samples": 300, "n_bound": 4000})
    assert "is below it: -0.1000" in ET._pac_bayes_mnist(dict(m, prior_only_bound=0.3), {})


# --------------------------------------------------------------------------- the evidence shows what it claims

def test_hypersphere_evidence_shows_sprime_error_near_one_while_test_error_falls():
    res = _committed().get("hypersphere")
    if res is None:
        pytest.skip("no hypersphere evidence")
    m = res["measurements"]
    te, sp = np.asarray(m["test_error"]), np.asarray(m["s_prime_error"])
    assert all(all(r) for r in m["converged"])
    # Clopper-Pearson-free, seed-level: every seed's test error falls from n_min to n_max, S' error > 1/2
    assert (te[:, 0] > te[:, -1]).all() and (sp[:, -1] > 0.5).all()


def test_pac_bayes_evidence_has_the_baselines_of_the_contract():
    res = _committed().get("pac_bayes_mnist")
    if res is None:
        pytest.skip("no pac_bayes evidence")
    m = res["measurements"]
    assert 0 < m["bound"] < 1 and 0 < m["prior_only_bound"] < 1
    assert m["untrained_prior_bound"] > m["bound"]          # the untrained init is near chance
    for c in m["candidates"]:
        assert c["prior_only"]["kl"] == 0.0 and c["untrained_prior"]["kl"] == 0.0


def test_pac_bayes_baselines_use_the_certificates_accounting():
    """A smoke run: Q = P certificates are Maurer's bound at KL = 0 with the posterior's n, delta, k."""
    pytest.importorskip("torch")
    from claimcheck.gpu_validation import pac_bayes_mnist as pb
    from claimcheck.theory.pac_bayes import kl_inverse_upper, maurer_bound

    res = pb.run("smoke", seed=0, device="cpu", out_dir=None, progress=False, figures=False, threads=1)
    cfg, m = res["config"], res["measurements"]
    (c,) = m["candidates"]
    k = len(cfg["prior_sigmas"])
    for base in (c["prior_only"], c["untrained_prior"]):
        upper = kl_inverse_upper(base["emp_risk_mc"], math.log(2 / cfg["delta_mc"]) / cfg["mc_samples"])
        assert base["emp_risk_upper"] == pytest.approx(upper, rel=1e-12)     # float rounding only
        assert base["bound"] == pytest.approx(maurer_bound(upper, 0.0, cfg["n_bound"], cfg["delta"], k=k), rel=1e-12)
    # the posterior's own certificate uses its KL > 0, the baselines KL = 0
    assert c["kl"] > 0 and c["bound"] == pytest.approx(
        maurer_bound(c["emp_risk_upper"], c["kl"], cfg["n_bound"], cfg["delta"], k=k), rel=1e-12)
    # the untrained network is near chance (10 classes): its certificate is far above the trained prior's
    assert c["untrained_prior"]["emp_risk_mc"] > 0.7 > c["prior_only"]["emp_risk_mc"]
    assert m["untrained_prior_bound"] == c["untrained_prior_bound"] and m["prior_only_bound"] == c["prior_only_bound"]


# --------------------------------------------------------------------------- without torch

# One interpreter whose torch imports fail runs the three checks in turn (the CLI first, as a user starts
# it from a fresh shell); each step's outcome, or its traceback, goes to a JSON file and its own test below.
# torch can never be imported in that process, so one step cannot hide another's torch import; after every
# step the runner checks again that torch is not in sys.modules. (Three interpreters cost ~2 CPU s each.)
_NO_TORCH_STEPS = {
    "cli": """
        from claimcheck.cli import main
        out = main(["figures", "uniform_convergence.sprime_error", "--out", FIGS])
    """,
    "table": """
        from claimcheck.gpu_validation import evidence_table as ET
        out = len(ET.table().splitlines())
    """,
    "figure": """
        from claimcheck.paper_figures import FIGURES
        mod = FIGURES["uniform_convergence"]
        paths = mod.make(TMP, reps=20)
        assert 'torch' not in sys.modules, 'the figure imported torch'
        d = mod.data(0, reps=20)
        out = {"n": d["b/n"].tolist(), "mean": d["b/evidence_mean"].tolist(), "se": d["b/evidence_se"].tolist(),
               "files": [str(p) for p in paths]}
    """,
}
_NO_TORCH_RUNNER = """
import json, sys, textwrap, traceback
TMP, FIGS, OUT, STEPS = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
results = {}
for name, code in STEPS.items():
    ns = {"sys": sys, "TMP": TMP, "FIGS": FIGS}
    try:
        exec(textwrap.dedent(code), ns)
        assert 'torch' not in sys.modules, f'step {name} imported torch'
        results[name] = {"ok": True, "out": ns.get("out")}
    except BaseException:
        results[name] = {"ok": False, "error": traceback.format_exc()}
with open(OUT, "w") as fh:
    json.dump(results, fh)
"""


@pytest.fixture(scope="module")
def no_torch(tmp_path_factory):
    import os

    tmp = tmp_path_factory.mktemp("no_torch")
    steps = dict(_NO_TORCH_STEPS)
    if "hypersphere" not in _committed():
        steps = {"table": steps["table"]}
    out = tmp / "steps.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", NO_TORCH + _NO_TORCH_RUNNER, str(tmp), str(tmp / "figs"), str(out),
                          json.dumps(steps)], cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    return tmp, json.loads(out.read_text())


def _step(no_torch, name):
    tmp, results = no_torch
    r = results[name]
    assert r["ok"], r["error"]
    return tmp, r["out"]


def test_evidence_table_runs_without_torch(no_torch):
    _, lines = _step(no_torch, "table")
    assert lines == 2 + len(JOBS)


def test_uniform_convergence_figure_reads_the_evidence_and_needs_no_torch(no_torch):
    if "hypersphere" not in _committed():
        pytest.skip("no hypersphere evidence")
    _, out = _step(no_torch, "figure")
    m = _committed()["hypersphere"]["measurements"]
    assert out["n"] == [float(n) for n in m["n"]]
    np.testing.assert_allclose(out["mean"][0], np.mean(m["test_error"], axis=0), rtol=0, atol=1e-12)   # float rounding
    np.testing.assert_allclose(out["mean"][1], np.mean(m["s_prime_error"], axis=0), rtol=0, atol=1e-12)
    se = np.asarray(out["se"])   # every plotted point has a finite, positive error bar (S' = 1.000: Agresti-Coull)
    assert se.shape == (2, len(m["n"])) and np.isfinite(se).all() and (se > 0).all()
    assert all(Path(f).is_file() for f in out["files"])


def test_claimcheck_figures_cli_works_without_torch(no_torch):
    if "hypersphere" not in _committed():
        pytest.skip("no hypersphere evidence")
    tmp, rc = _step(no_torch, "cli")
    assert rc == 0
    assert (tmp / "figs" / "uniform_convergence.pdf").is_file()
