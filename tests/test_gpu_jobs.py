"""Every GPU job's smoke profile runs on CPU and returns a well-formed verdict and result file."""
from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation import JOBS, get_job  # noqa: E402
STATUSES = {"passed", "failed", "underpowered"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _check_result(res: dict, job: str, tmp_path) -> None:
    v = res["verdict"]
    assert v["claim_id"].startswith(f"gpu.{job}")
    assert v["status"] in STATUSES
    assert v["extra"]["profile"] == "smoke" and v["params"] == {"result": "result.json"} and v["detail"]
    assert isinstance(v["estimate"]["n"], int)
    assert math.isfinite(float(v["prediction"])) and math.isfinite(float(v["estimate"]["mean"]))
    assert res["config"]["profile"] == "smoke" and res["torch"] == torch.__version__
    assert "git_revision" in res and res["device"]["type"] == "cpu"
    t = res["timings"]
    assert t["wall_s"] > 0 and t["mfu"] is None  # no peak FLOP/s on a CPU
    assert t["throughput_samples_per_s"] > 0 and t["achieved_flops_per_s"] > 0
    on_disk = json.loads((tmp_path / f"{job}-smoke-seed0" / "result.json").read_text())
    assert on_disk["verdict"] == v and on_disk["measurements"] == res["measurements"]
    assert not list(tmp_path.rglob("*.tmp"))


def _mnist_available() -> bool:
    from claimcheck.sims.datasets import mnist_dir

    d = mnist_dir()
    return any((d / f).exists() for f in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"))


needs_mnist = pytest.mark.skipif(not _mnist_available(), reason="the MNIST test set is absent: put the t10k-* IDX files "
                                 "in claimcheck/data/mnist or set CLAIMCHECK_MNIST_DIR")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """``smoke_run(job)``: the job's smoke profile, seed 0, run once per module exactly as a user runs it
    (``claimcheck gpu JOB --profile smoke --no-figures``) and shared by the tests that assert on it."""
    cache = {}

    def get(job):
        if job not in cache:
            out = tmp_path_factory.mktemp(job)
            cache[job] = (get_job(job).run("smoke", seed=0, device="cpu", out_dir=out, progress=False, figures=False),
                          out)
        return cache[job]
    return get


@pytest.mark.parametrize("job", [pytest.param(j, marks=needs_mnist) if j == "pac_bayes_mnist" else j
                                 for j in JOBS if j != "hypersphere"])   # hypersphere: below, at two sizes
def test_smoke_profile_runs_and_gives_a_well_formed_verdict(job, smoke_run):
    res, out = smoke_run(job)
    _check_result(res, job, out)


def test_sample_wise_double_descent_runs_and_writes_its_figure(tmp_path):
    from claimcheck.gpu_validation import double_descent

    res = double_descent.run("smoke", device="cpu", out_dir=tmp_path, progress=False, n_seeds=1, sweep="sample",
                             sample_sizes=(32, 64, 128), width=2, epochs=1, label_noise=(0.0, 0.2))
    assert res["measurements"]["x_name"] == "n" and res["measurements"]["x"] == [32, 64, 128]
    assert [p.rsplit(".", 1)[1] for p in res["figures"]] == ["pdf", "png"]
    assert all((tmp_path / "deep_double_descent-smoke-seed0" / f"deep_double_descent.{e}").stat().st_size > 1000 for e in ("pdf", "png"))
    assert res["verdict"]["status"] == "underpowered"  # one seed is never a verdict


@needs_mnist
def test_pac_bayes_certificate_is_a_valid_kl_inverse_bound(smoke_run):
    from claimcheck.theory.pac_bayes import kl_inverse_upper, maurer_bound

    res, _ = smoke_run("pac_bayes_mnist")
    best = res["verdict"]["extra"]["best"]
    # recompute the certificate from its parts: MC upper limit, then the kl-inverse bound
    upper = kl_inverse_upper(best["emp_risk_mc"], math.log(2 / 0.01) / 20)
    assert best["emp_risk_upper"] == pytest.approx(float(upper))
    assert best["bound"] == pytest.approx(float(maurer_bound(upper, best["kl"], 1000, 0.025)))
    assert best["emp_risk_mc"] <= best["emp_risk_upper"] <= best["bound"] <= best["mcallester"]
    assert res["verdict"]["extra"]["anchor_mnist_compression_bound"] == 0.116


def test_unknown_profile_and_field_are_rejected_with_the_choices():
    job = get_job("real_vs_ideal")
    with pytest.raises(ValueError, match="profile='huge', must be one of"):
        job.run("huge", device="cpu")
    with pytest.raises(ValueError, match=r"unknown config field\(s\) \['stepz'\]"):
        job.run("smoke", device="cpu", stepz=3)
    with pytest.raises(ValueError, match="unknown GPU job 'nope'"):
        get_job("nope")


def test_missing_dataset_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        get_job("pac_bayes_mnist").run("smoke", device="cpu", data_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz"):
        get_job("deep_double_descent").run("smoke", device="cpu", dataset="cifar10")


# ----------------------------------------------------------------------------- hypersphere

def _sphere_measurements(test_err, sprime_err, seeds=3):
    jitter = [0.01 * (s % 3) for s in range(seeds)]
    return {"n": [100, 200, 400], "seeds": list(range(seeds)), "converged": [[True] * 3] * seeds,
            "test_error": [[e + j for e in test_err] for j in jitter],
            "s_prime_error": [[e - j for e in sprime_err] for j in jitter]}


@pytest.mark.parametrize("test_err, sprime_err, status", [
    ((0.30, 0.20, 0.10), (0.95, 0.98, 1.00), "passed"),   # the claim: test error falls, S' error ~ 1
    ((0.30, 0.20, 0.10), (0.10, 0.05, 0.02), "failed"),   # S' classified correctly: uniform convergence fine
    ((0.10, 0.20, 0.30), (0.95, 0.98, 1.00), "failed"),   # test error grows with n
])
def test_hypersphere_verdict_can_pass_and_fail(test_err, sprime_err, status):
    from claimcheck.gpu_validation import hypersphere as hs
    from claimcheck.gpu_validation.driver import decide

    v = decide(hs, hs.PROFILES["smoke"], _sphere_measurements(test_err, sprime_err), seed=0, profile="smoke")
    assert v.status.value == status


def test_hypersphere_verdict_is_underpowered_when_a_network_missed_the_margin():
    from claimcheck.gpu_validation import hypersphere as hs
    from claimcheck.gpu_validation.driver import decide

    m = _sphere_measurements((0.30, 0.20, 0.10), (0.95, 0.98, 1.00))
    m["converged"][1] = [True, False, True]
    v = decide(hs, hs.PROFILES["smoke"], m, seed=0, profile="smoke")
    assert v.status.value == "underpowered" and "n=200 seed=1" in v.detail


def test_hypersphere_smoke_profile_runs(tmp_path):
    # n = 32 is the smallest n the job accepts (one full batch of the smoke profile's batch_size 32: the
    # corner), n = 64 two; each trains to the margin in half the steps of n = 256 (~1.7 CPU s less)
    assert get_job("hypersphere").PROFILES["smoke"].batch_size == 32
    res = get_job("hypersphere").run("smoke", seed=0, device="cpu", out_dir=tmp_path, progress=False, figures=False,
                                     ns=(32, 64), test_points=1000)
    _check_result(res, "hypersphere", tmp_path)
    assert res["measurements"]["n"] == [32, 64] and len(res["measurements"]["s_prime_error"]) == 3


# ----------------------------------------------------------------------------- one job shape

PARTS = ("JOB", "CLAIM_ID", "Config", "PROFILES", "validate", "units", "train_unit", "measurements", "figure", "run")


@pytest.mark.parametrize("job", list(JOBS))
def test_every_job_has_the_same_parts(job):
    import dataclasses

    from claimcheck.gpu_validation.driver import JobConfig, Unit

    mod = get_job(job)
    assert all(hasattr(mod, p) for p in PARTS), [p for p in PARTS if not hasattr(mod, p)]
    assert mod.JOB == job and mod.CLAIM_ID.startswith(f"gpu.{job}.")
    assert issubclass(mod.Config, JobConfig) and dataclasses.is_dataclass(mod.Config)
    assert {"smoke", "small", "full"} <= set(mod.PROFILES) <= {"smoke", "cpu", "small", "full"}
    assert all(isinstance(c, mod.Config) and c.profile == name for name, c in mod.PROFILES.items())
    for cfg in mod.PROFILES.values():
        mod.validate(cfg)


def test_a_failure_inside_a_unit_is_a_job_error_naming_the_unit(monkeypatch):
    from claimcheck.gpu_validation import real_vs_ideal
    from claimcheck.gpu_validation.run import JobError

    def broken(ctx, unit):
        raise ValueError("shapes (3, 4) and (5, 6) do not match")   # what a shape bug raises mid-run

    monkeypatch.setattr(real_vs_ideal, "train_unit", broken)
    with pytest.raises(JobError, match=r"real_vs_ideal \(smoke, seed 0\) unit real-seed0: ValueError: shapes"):
        real_vs_ideal.run("smoke", device="cpu", progress=False, figures=False)
